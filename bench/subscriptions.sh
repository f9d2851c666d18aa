#!/usr/bin/env bash
# Provisioning end to end on the reference server: from POST /api/subscriptions to a running app
# (every Deployment rolled out and the hold charged), on the simulated cluster with its default
# delays (pods start after 200 ms and are ready 200 ms later).
#
#   bench/subscriptions.sh [SUBSCRIPTIONS] [CUSTOMERS] [CONCURRENCY] [MODE]   # default 200 50 16 closed
#
# Builds the Release server, starts it on a fresh embedded database with enough simulated nodes,
# gives each customer credit (an administrator's adjustment), and sends the subscriptions
# (n8n, Ghost and WordPress in turn) from CONCURRENCY clients:
#   closed  each client subscribes, waits until its app is running (polling its subscription),
#           then sends the next: CONCURRENCY subscriptions in provisioning at any time;
#   burst   each client sends its next subscription as soon as the last one is accepted (202):
#           all of them queue at once, so the time to running is mostly time spent queued.
# Then it reads each one's created_at and ready_at back: p50 and p99 of the time to running, and
# subscriptions provisioned per second (all of them over the time from the first request to the
# last one running). Extra server flags can be given in PAASKIT_SERVER_ARGS.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
subscriptions=${1:-200}
customers=${2:-50}
concurrency=${3:-16}
mode=${4:-closed}
case "$mode" in closed|burst) ;; *) echo "MODE is closed or burst" >&2; exit 2 ;; esac

# shellcheck source=bench/server-lib.sh
source bench/server-lib.sh
build_release_server

work=$(mktemp -d)
chmod o+x "$work" # the embedded PostgreSQL runs as postgres when we are root
log="$work/server.log"
nodes=$(( subscriptions / 6 + 4 ))
PAASKIT_ADMIN_PASSWORD="bench administrator password" \
  start_server "$log" --data-dir "$work/var" --admin-email admin@bench.test \
  --scrypt-log2-n 10 --login-attempts 10000 --access-log=false --sim-nodes "$nodes" ${PAASKIT_SERVER_ARGS:-} || exit 1
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
echo "paaskit-server on port $port, $(nproc) cores, $nodes simulated nodes; $subscriptions subscriptions from $customers customers, $concurrency clients ($mode)"

/usr/bin/python3 - "http://127.0.0.1:$port" "$subscriptions" "$customers" "$concurrency" "$mode" <<'PY'
import json, sys, time, urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

api, total, customers, concurrency, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]

def call(method, path, token=None, body=None, headers=None):
    request = urllib.request.Request(api + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    for k, v in (headers or {}).items():
        request.add_header(k, v)
    with urllib.request.urlopen(request) as r:
        return r.status, json.load(r)

_, signed = call("POST", "/api/auth/login", body={"email": "admin@bench.test", "password": "bench administrator password"})
admin = signed["access_token"]
plans = [("n8n", "starter", 7_500_000), ("ghost", "starter", 9_900_000), ("wordpress", "personal", 4_900_000)]
per_customer = (total + customers - 1) // customers
tokens = []
for i in range(customers):
    _, made = call("POST", "/api/auth/register", body={"email": f"bench-{i}@example.com", "password": "bench password " + str(i)})
    tokens.append(made["access_token"])
    call("POST", "/api/admin/billing/adjustments", admin,
         {"user_id": made["user"]["id"], "amount": per_customer * 10_000_000, "reason": "bench", "idempotency_key": f"bench-{i}"})

def subscribe(n):
    service, plan, _ = plans[n % len(plans)]
    status, body = call("POST", "/api/subscriptions", tokens[n % customers], {"service": service, "plan": plan},
                        {"Idempotency-Key": f"bench-{n}"})
    assert status == 202, body
    if mode == "closed":
        while True:  # this client's next subscription waits for this one to be running
            _, shown = call("GET", "/api/subscriptions/" + body["id"], tokens[n % customers])
            if shown["status"] != "provisioning":
                break
            time.sleep(0.02)
    return body["id"]

start = time.time()
with ThreadPoolExecutor(concurrency) as pool:
    ids = list(pool.map(subscribe, range(total)))
sent = time.time() - start

def parse(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))

deadline = time.time() + 600
while True:
    items, page = [], 1
    while True:
        _, body = call("GET", f"/api/admin/subscriptions?per_page=200&page={page}", admin)
        items += body["items"]
        if page >= body["pages"]:
            break
        page += 1
    states = {}
    for item in items:
        states[item["status"]] = states.get(item["status"], 0) + 1
    if states.get("provisioning", 0) == 0 or time.time() > deadline:
        break
    time.sleep(0.5)  # poll the server for the last ones
if states.get("active", 0) != total:
    sys.exit(f"not every subscription is active: {states}")
latencies = sorted((parse(i["ready_at"]) - parse(i["created_at"])).total_seconds() for i in items)
first = min(parse(i["created_at"]) for i in items)
last = max(parse(i["ready_at"]) for i in items)
span = (last - first).total_seconds()
p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
_, dashboard = call("GET", "/api/admin/billing/dashboard", admin)
print(f"result: subscriptions={total} sent_in_s={sent:.2f} p50_s={p(0.50):.3f} p99_s={p(0.99):.3f} max_s={latencies[-1]:.3f} "
      f"provisioned_per_second={total / span:.1f} books_balance={str(dashboard['books_balance']).lower()}")
PY
