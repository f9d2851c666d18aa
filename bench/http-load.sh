#!/usr/bin/env bash
# Load test of paaskit-server with wrk, both on this machine (loopback).
#
#   bench/http-load.sh [PATH] [wrk options...]
#   bench/http-load.sh                       # /healthz, wrk -t2 -c64 -d10s
#   bench/http-load.sh /metrics -t2 -c16 -d5s
#   bench/http-load.sh /api/auth/profile     # /api/*: as a newly registered user (Bearer token)
#
# Builds the Release server, starts it on a free port with its JSON access log going to a file
# (one line per request, as in production) and prints requests/s and p99 latency.
# PAASKIT_LOAD_SERVER_ARGS adds server flags, e.g. "--threads 1".
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
path=${1:-/healthz}
shift || true
wrk_args=("$@")
[ ${#wrk_args[@]} -gt 0 ] || wrk_args=(-t2 -c64 -d10s)

scripts/bootstrap --bench
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
fi
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DPAASKIT_BUILD_TESTS=OFF \
  -DPAASKIT_BUILD_BENCH=OFF -DPAASKIT_BUILD_EXAMPLES=OFF "${launcher[@]}" >/dev/null
cmake --build build/release --target paaskit-server >/dev/null

log=$(mktemp)
build/release/reference-server/paaskit-server --listen 127.0.0.1:0 ${PAASKIT_LOAD_SERVER_ARGS:-} >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  port=$(grep -o '"msg":"listening".*"port":[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  [ -n "$port" ] && break
  kill -0 $server 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1 # poll for the listening line
done
[ -n "$port" ] || { echo "server did not start"; cat "$log"; exit 1; }

# CPU time the server used (user + system, clock ticks), to report CPU per request: on a shared
# machine it varies far less than requests/s does.
server_ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }

# Authenticated paths: register a throwaway user and send its access token with every request.
case "$path" in
  /api/*)
    email="load-$(date +%s%N)@example.com"
    token=$(curl -fsS -X POST "http://127.0.0.1:$port/api/auth/register" -H 'Content-Type: application/json' \
      -d "{\"email\":\"$email\",\"password\":\"load test password\"}" | grep -o '"access_token":"[^"]*"' | cut -d'"' -f4)
    [ -n "$token" ] || { echo "could not register a load-test user"; exit 1; }
    wrk_args+=(-H "Authorization: Bearer $token")
    ;;
esac

echo "paaskit-server on port $port, $(nproc) cores; wrk ${wrk_args[*]%%Bearer*} http://127.0.0.1:$port$path"
ticks_before=$(server_ticks)
out=$(wrk --latency "${wrk_args[@]}" "http://127.0.0.1:$port$path")
ticks_after=$(server_ticks)
echo "$out"
rps=$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')
p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
requests=$(echo "$out" | awk '/requests in/ {print $1}')
non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
cpu_us=$(awk -v t=$((ticks_after - ticks_before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" \
  'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
echo
echo "result: path=$path requests_per_second=$rps p99=$p99 server_cpu_us_per_request=$cpu_us non_2xx=${non2xx:-0}"
