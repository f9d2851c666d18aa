#!/usr/bin/env bash
# The pods views under load with a full cluster: GET /api/admin/pods?per_page=50 (an
# administrator's first page of every customer's pods), the same filtered by phase and ordered by
# age (a third page), and GET /api/pods (one customer's).
#
#   bench/pods.sh [SUBSCRIPTIONS] [CUSTOMERS] [wrk options...]   # default 5000 1000 -t2 -c64 -d10s
#
# Builds the Release server and starts it on a fresh embedded database with a simulated cluster
# of 32-core, 128 GiB nodes (110 pods each) big enough for the apps; registers CUSTOMERS, gives
# each credit, and subscribes them to SUBSCRIPTIONS WordPress apps (two pods each: 10,000 pods by
# default) through the API. Once every pod runs and is ready, wrk loads each view in turn; the
# server's CPU time per request is read from /proc. The reconciler is slowed to once an hour so
# that its sweep (a list per namespace) does not land inside the 10 s runs; extra server flags
# can be given in PAASKIT_SERVER_ARGS.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
subscriptions=${1:-5000}
customers=${2:-1000}
shift $(( $# < 2 ? $# : 2 ))
wrk_args=("$@")
[ ${#wrk_args[@]} -gt 0 ] || wrk_args=(-t2 -c64 -d10s)

# shellcheck source=bench/server-lib.sh
source bench/server-lib.sh
build_release_server

work=$(mktemp -d)
chmod o+x "$work" # the embedded PostgreSQL runs as postgres when we are root
log="$work/server.log"
nodes=$(( subscriptions * 2 / 100 + 4 ))
PAASKIT_ADMIN_PASSWORD="bench administrator password" start_server "$log" --data-dir "$work/var" --admin-email admin@bench.test \
  --scrypt-log2-n 10 --login-attempts 10000 --sim-nodes "$nodes" --sim-node-cpu 32 --sim-node-memory 128Gi \
  --reconcile-interval-s 3600 ${PAASKIT_SERVER_ARGS:-} || exit 1
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
echo "paaskit-server on port $port, $(nproc) cores, $nodes simulated nodes; $subscriptions WordPress apps for $customers customers"

# Tokens for wrk: the administrator's and one customer's, written by the setup.
if /usr/bin/python3 - "http://127.0.0.1:$port" "$subscriptions" "$customers" "$work" <<'PY'
import json, sys, time, urllib.request
from concurrent.futures import ThreadPoolExecutor

api, total, customers, work = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

def call(method, path, token=None, body=None):
    request = urllib.request.Request(api + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(request) as r:
        return json.load(r)

admin = call("POST", "/api/auth/login", body={"email": "admin@bench.test", "password": "bench administrator password"})["access_token"]
per_customer = (total + customers - 1) // customers

def customer(i):
    made = call("POST", "/api/auth/register", body={"email": f"pods-{i}@example.com", "password": "bench password " + str(i)})
    call("POST", "/api/admin/billing/adjustments", admin,
         {"user_id": made["user"]["id"], "amount": per_customer * 4_900_000, "reason": "bench", "idempotency_key": f"pods-{i}"})
    return made["access_token"]

start = time.time()
with ThreadPoolExecutor(16) as pool:
    tokens = list(pool.map(customer, range(customers)))
    list(pool.map(lambda n: call("POST", "/api/subscriptions", tokens[n % customers], {"service": "wordpress", "plan": "personal"}),
                  range(total)))
deadline = time.time() + 1800
while True:
    stats = call("GET", "/api/admin/pods/stats", admin)
    if (stats["total"] == 2 * total and stats["not_ready"] == 0) or time.time() > deadline:
        break
    time.sleep(1)  # poll the server for the last ones
if stats["total"] != 2 * total or stats["not_ready"] != 0:
    sys.exit(f"not every pod is ready: {stats['total']} pods, {stats['not_ready']} not ready")
mine = call("GET", "/api/pods", tokens[0])
print(f"setup: {stats['total']} pods ready in {time.time() - start:.0f} s; the measured customer has {mine['total']} pods")
with open(work + "/admin.token", "w") as f:
    f.write(admin)
with open(work + "/customer.token", "w") as f:
    f.write(tokens[0])
PY
then :; else
  echo "setup failed; the server's last warnings:"
  grep -E '"level":"(warn|error)"' "$log" | tail -5
  exit 1
fi

load() { # path token-file
  local ticks_before ticks_after out rps p99 requests non2xx cpu_us
  ticks_before=$(server_ticks)
  out=$(wrk --latency "${wrk_args[@]}" -H "Authorization: Bearer $(cat "$2")" "http://127.0.0.1:$port$1")
  ticks_after=$(server_ticks)
  echo "$out" | grep -E "Latency|Req/Sec|requests in|Requests/sec|Non-2xx|Socket errors|^ +(50|99)%"
  rps=$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  requests=$(echo "$out" | awk '/requests in/ {print $1}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  cpu_us=$(awk -v t=$((ticks_after - ticks_before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
  echo "result: path=$1 requests_per_second=$rps p99=$p99 server_cpu_us_per_request=$cpu_us non_2xx=${non2xx:-0}"
}
load "/api/admin/pods?per_page=50" "$work/admin.token"
load "/api/admin/pods?per_page=50&phase=Running&sort=-age&page=3" "$work/admin.token" # filtered and ordered per request
load "/api/pods" "$work/customer.token"
