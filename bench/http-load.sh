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

# shellcheck source=bench/server-lib.sh
source bench/server-lib.sh
build_release_server

log=$(mktemp)
start_server "$log" ${PAASKIT_LOAD_SERVER_ARGS:-} || exit 1
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -f "$log"' EXIT

# The server's CPU time (server_ticks) gives CPU per request: on a shared machine it varies far
# less than requests/s does.

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
