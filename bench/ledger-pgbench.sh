#!/usr/bin/env bash
# The ledger's SQL entry point under pgbench, on a private durable cluster (fsync on): 20 clients,
# one transfer per call between a random pair of 50 accounts, so the figure can be set beside
# other PostgreSQL ledgers measured the same way on the same server.
#
#   bench/ledger-pgbench.sh [seconds, default 30] [clients, default 20]
#
# Builds build/bench (Release) when paaskit_ledger_install is missing.
set -euo pipefail
seconds=${1:-30}
clients=${2:-20}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
installer="$root/build/bench/bench/paaskit_ledger_install"
if [ ! -x "$installer" ]; then
  cmake -S "$root" -B "$root/build/bench" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DPAASKIT_BUILD_TESTS=OFF -DPAASKIT_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build "$root/build/bench" --target paaskit_ledger_install >/dev/null
fi

. "$(dirname "${BASH_SOURCE[0]}")/private-cluster.sh"
start_private_cluster ledger-pgbench -c max_connections=50
psql=("${as_pg[@]}" "$bin/psql" -h "$dir" -U postgres -X -q -v ON_ERROR_STOP=1 postgres)

"${as_pg[@]}" "$installer" "host=$dir user=postgres dbname=postgres"
"${psql[@]}" -c "SELECT count(*) FILTER (WHERE r = 'ok') AS accounts_created FROM (SELECT paaskit_ledger.create_account(paaskit_ledger.id_of(g), 1, 1) AS r FROM generate_series(1, 50) g) s" -t >/dev/null
grep -q on <<<"$("${psql[@]}" -t -c "SHOW fsync")" # a here-string: grep -q ending a pipe early fails it under pipefail

cat > "$dir/transfer.sql" <<'SQL'
\set a random(1, 50)
\set b 1 + (:a + random(0, 48)) % 50
SELECT paaskit_ledger.create_transfer(gen_random_uuid(), paaskit_ledger.id_of(:a), paaskit_ledger.id_of(:b), 1, 1, 1);
SQL
tps=$("${as_pg[@]}" "$bin/pgbench" -h "$dir" -U postgres -n -c "$clients" -j 2 -T "$seconds" -f "$dir/transfer.sql" postgres 2>/dev/null |
  awk '/^tps = / {print $3}')
stored=$("${psql[@]}" -t -A -c "SELECT count(*) FROM paaskit_ledger.transfers")
balanced=$("${psql[@]}" -t -A -c "SELECT sum(debits_posted) = sum(credits_posted) FROM paaskit_ledger.accounts")
printf 'pgbench paaskit_ledger.create_transfer, %s clients, %ss, fsync on: %.0f transfers/s (%s stored, debits = credits: %s)\n' \
  "$clients" "$seconds" "$tps" "$stored" "$balanced"

# Baseline on the same server: the least a SQL ledger does per transfer (two balance updates in id
# order, one insert, one commit), without validation, limits, idempotency or history.
"${psql[@]}" -c "CREATE TABLE naive_accounts (id int PRIMARY KEY, balance bigint NOT NULL); CREATE TABLE naive_transfers (id uuid PRIMARY KEY, debit int, credit int, amount bigint); INSERT INTO naive_accounts SELECT g, 0 FROM generate_series(1, 50) g"
cat > "$dir/naive.sql" <<'SQL'
\set a random(1, 50)
\set b 1 + (:a + random(0, 48)) % 50
BEGIN;
UPDATE naive_accounts SET balance = balance + CASE WHEN id = :a THEN -1 ELSE 1 END WHERE id IN (:a, :b);
INSERT INTO naive_transfers VALUES (gen_random_uuid(), :a, :b, 1);
END;
SQL
naive=$("${as_pg[@]}" "$bin/pgbench" -h "$dir" -U postgres -n -c "$clients" -j 2 -T "$seconds" -f "$dir/naive.sql" postgres 2>/dev/null |
  awk '/^tps = / {print $3}')
printf 'pgbench naive SQL ledger (2 updates + 1 insert), same settings:  %.0f transfers/s\n' "$naive"
