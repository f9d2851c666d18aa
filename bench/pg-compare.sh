#!/usr/bin/env bash
# pgbench on a private throwaway cluster, with the statement paaskit_pg_bench uses
# (SELECT $1::int, prepared), to compare paaskit::pg with PostgreSQL's own client on this machine:
#   one client sequential; one client pipelined (depth 64 and 1024); 8 clients.
#
#   bench/pg-compare.sh [seconds per run, default 5]
set -euo pipefail
seconds=${1:-5}
. "$(dirname "${BASH_SOURCE[0]}")/private-cluster.sh"
start_private_cluster pgbench

printf '\\set x random(1, 1000000)\nSELECT :x::int;\n' > "$dir/select.sql"
pipeline_script() {
  { printf '\\set x random(1, 1000000)\n\\startpipeline\n'
    for _ in $(seq 1 "$1"); do printf 'SELECT :x::int;\n'; done
    printf '\\endpipeline\n'; } > "$dir/pipeline$1.sql"
}
pipeline_script 64
pipeline_script 1024

run() { # label, statements per transaction, pgbench options...
  local label=$1 per=$2; shift 2
  local tps
  tps=$("${as_pg[@]}" "$bin/pgbench" -h "$dir" -U postgres -n -M prepared -T "$seconds" "$@" postgres 2>/dev/null |
    awk '/^tps = / {print $3}')
  awk -v l="$label" -v t="$tps" -v p="$per" 'BEGIN { printf "pgbench %-28s %12.0f statements/s\n", l, t * p }'
}
run "1 client, sequential" 1 -c 1 -f "$dir/select.sql"
run "1 client, pipeline 64" 64 -c 1 -f "$dir/pipeline64.sql"
run "1 client, pipeline 1024" 1024 -c 1 -f "$dir/pipeline1024.sql"
run "8 clients (2 threads)" 1 -c 8 -j 2 -f "$dir/select.sql"
