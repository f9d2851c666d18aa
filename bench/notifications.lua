-- wrk script for bench/billing-notifications.sh: each connection POSTs the next Midtrans
-- notification of a file (one JSON body per line), every body once across all threads; a thread
-- stops once the answers to all of its notifications are in (wrk then idles to the end of its
-- -d). wrk's own figures do not count: the script measures on the server.
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

local bodies = {}
local sent = 0
local step = 1
function init(args)
  for line in io.lines(args[1]) do
    bodies[#bodies + 1] = line
  end
  step = tonumber(args[2])
end

-- wrk calls the first thread's request() once before sending anything, to check what it makes:
-- that call gets a /healthz, so no notification is lost to it.
local checked = false

function request()
  if id == 0 and not checked then
    checked = true
    return wrk.format("GET", "/healthz")
  end
  local i = id + sent * step + 1
  sent = sent + 1
  if i > #bodies then
    return wrk.format("GET", "/healthz")
  end
  return wrk.format("POST", "/api/billing/midtrans/notification", { ["Content-Type"] = "application/json" }, bodies[i])
end

local answered = 0
function response(status, headers, body)
  answered = answered + 1
  -- This thread's share: the bodies i = id + k * step + 1 <= #bodies.
  if answered >= math.floor((#bodies - id - 1) / step) + 1 then
    wrk.thread:stop()
  end
end
