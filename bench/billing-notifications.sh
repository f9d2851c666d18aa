#!/usr/bin/env bash
# End-to-end throughput of Midtrans notifications on the reference server: each one's signature
# is checked, the Status API asked (the embedded simulator, over HTTP), the credit posted on the
# ledger, the invoice numbered and rendered for the receipt, all committed.
#
#   bench/billing-notifications.sh [TOPUPS] [CONNECTIONS]     # default 5000 top-ups, 64 senders
#
# PAASKIT_LOAD_SERVER_ARGS adds server flags, e.g. "--receipt-workers 0" (this replica renders no
# receipts: the notifications alone).
# Builds the Release server, starts it on a fresh embedded database, registers customers and
# starts TOPUPS top-ups; the simulator is told to stay silent and every top-up is paid there; then
# wrk (-t2 -cCONNECTIONS) sends each top-up's notification once. The rate is measured on the
# server: paid top-ups divided by the time between the first and the last one paid.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
topups=${1:-5000}
connections=${2:-64}

# shellcheck source=bench/server-lib.sh
source bench/server-lib.sh
build_release_server

work=$(mktemp -d)
chmod o+x "$work" # the embedded PostgreSQL runs as postgres when we are root
log="$work/server.log"
# shellcheck disable=SC2086 # the extra flags are words
start_server "$log" --data-dir "$work/var" --scrypt-log2-n 10 ${PAASKIT_LOAD_SERVER_ARGS:-} \
  --login-attempts 10000 --max-pending-topups 100 --topup-check-after-s 86400 --access-log=false || exit 1
# PAASKIT_BENCH_KEEP=1 keeps the server's log and wrk's output (the directory is printed).
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; if [ -n "${PAASKIT_BENCH_KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi' EXIT
api="http://127.0.0.1:$port"
token_of() { sed 's/.*"access_token":"\([^"]*\)".*/\1/'; }

# Customers (a hundred top-ups each may wait at once) and their top-ups.
users=$(( (topups + 99) / 100 ))
seq 1 "$users" | xargs -P 8 -I{} sh -c "curl -fsS -X POST $api/api/auth/register -H 'Content-Type: application/json' \
  -d '{\"email\":\"bench-{}@example.com\",\"password\":\"bench password {}\"}'" | grep -o '"access_token":"[^"]*"' | cut -d'"' -f4 >"$work/tokens"
for i in $(seq 1 "$topups"); do sed -n "$(( (i - 1) % users + 1 ))p" "$work/tokens"; done |
  xargs -P 16 -I{} curl -fsS -o /dev/null -X POST "$api/api/billing/topup" -H "Authorization: Bearer {}" \
    -H 'Content-Type: application/json' -d '{"amount":1000000}'
first=$(head -1 "$work/tokens")
sim=$(curl -fsS "$api/api/billing/transactions?per_page=1" -H "Authorization: Bearer $first" |
  sed 's/.*"redirect_url":"\(http:\/\/[^/]*\)\/.*/\1/')

# Paid at the simulator, which says nothing: the notifications come from wrk.
curl -fsS -o /dev/null -X PUT "$sim/sim/faults" -d '{"silent":true}'
curl -fsS "$sim/sim/transactions" | /usr/bin/python3 -c '
import json, sys
for t in json.load(sys.stdin)["transactions"]:
    print(t["order_id"])' >"$work/orders"
xargs -P 16 -I{} curl -fsS -o /dev/null -X POST "$sim/sim/transactions/{}/pay" -d '{"payment_type":"qris"}' <"$work/orders"
curl -fsS "$sim/sim/transactions" | /usr/bin/python3 -c '
import json, sys
keep = ("status_code", "status_message", "transaction_id", "order_id", "merchant_id", "gross_amount", "currency",
        "payment_type", "transaction_time", "transaction_status", "fraud_status", "settlement_time", "expiry_time", "signature_key")
for t in json.load(sys.stdin)["transactions"]:
    print(json.dumps({k: t[k] for k in keep if k in t}, separators=(",", ":")))' >"$work/notifications"
echo "paaskit-server on port $port, $(nproc) cores; $(wc -l <"$work/notifications") notifications, wrk -t2 -c$connections"

ticks_before=$(server_ticks)
started=$(date +%s.%N)
wrk -t2 -c"$connections" -d"$(( topups / 400 + 10 ))s" -s bench/notifications.lua "$api" -- "$work/notifications" 2 >"$work/wrk.out"
ticks_after=$(server_ticks)
grep -E "Non-2xx|Socket errors" "$work/wrk.out" || true

password=$(sed -n 's/^password: //p' "$work/var/initial-admin-password")
admin=$(curl -fsS -X POST "$api/api/auth/login" -H 'Content-Type: application/json' \
  -d "{\"email\":\"admin@paaskit.local\",\"password\":\"$password\"}" | token_of)
# The receipts (invoice PDF, mail) rendered meanwhile and afterwards: when the last is done.
pending_receipts() {
  local n=0 state
  for state in available running retryable; do
    n=$((n + $(curl -fsS "$api/api/admin/jobs?queue=paaskit.billing.receipts&state=$state&per_page=1" -H "Authorization: Bearer $admin" |
      grep -o '"total":[0-9]*' | cut -d: -f2)))
  done
  echo "$n"
}
# A replica that renders no receipts leaves them waiting: nothing to wait for then.
case " ${PAASKIT_LOAD_SERVER_ARGS:-} " in
*" --receipt-workers 0 "* | *" --receipt-workers=0 "*) ;;
*)
  receipts_done=never
  for _ in $(seq 1 600); do
    if [ "$(pending_receipts)" = 0 ]; then
      receipts_done=$(awk -v now="$(date +%s.%N)" -v start="$started" 'BEGIN { printf "%.1f", now - start }')
      break
    fi
    sleep 1 # poll the queue
  done
  echo "receipts: all rendered and queued for mail ${receipts_done} s after the first notification was sent"
  ;;
esac
books=$(curl -fsS "$api/api/admin/billing/dashboard" -H "Authorization: Bearer $admin" | grep -o '"books_balance":[a-z]*')
curl -fsS "$api/metrics" | grep -E '^paaskit_billing_report_batch_size_(sum|count) ' | tr '\n' ' '; echo
/usr/bin/python3 - "$api" "$admin" "$((ticks_after - ticks_before))" "$(getconf CLK_TCK)" "$books" <<'PY'
import json, sys, urllib.request
from datetime import datetime
api, token, ticks, hz, books = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
times, page = [], 1
while True:
    request = urllib.request.Request(f"{api}/api/admin/billing/transactions?kind=topup&status=paid&per_page=200&page={page}",
                                     headers={"Authorization": f"Bearer {token}"})
    body = json.load(urllib.request.urlopen(request))
    times += [datetime.fromisoformat(i["updated_at"].replace("Z", "+00:00")) for i in body["items"]]
    if page >= body["pages"]:
        break
    page += 1
seconds = (max(times) - min(times)).total_seconds() if times else 0
print(f"result: paid={len(times)} seconds={seconds:.2f} notifications_per_second={len(times) / seconds if seconds > 0 else 0:.0f} "
      f"server_cpu_ms={ticks / hz * 1000:.0f} {books}")
PY
