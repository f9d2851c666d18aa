-- wrk script for bench/billing-notifications.sh: each connection POSTs the next Midtrans
-- notification of a file (one JSON body per line), every body once across all threads; when
-- they are all sent it asks /healthz, so that wrk's own figures do not count (the script measures
-- on the server).
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

function request()
  local i = id + sent * step + 1
  sent = sent + 1
  if i > #bodies then
    return wrk.format("GET", "/healthz")
  end
  return wrk.format("POST", "/api/billing/midtrans/notification", { ["Content-Type"] = "application/json" }, bodies[i])
end
