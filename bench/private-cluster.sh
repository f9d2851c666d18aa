# Sourced by the pgbench scripts: starts a throwaway PostgreSQL cluster (default settings, fsync
# on) on a Unix socket in a fresh directory, and stops and removes it when the script exits.
#
#   start_private_cluster <name> [server options...]
#
# Sets: bin (PostgreSQL's bin directory), dir (the cluster's directory and socket), as_pg (the
# command prefix that runs a program as the postgres user when the script runs as root).
start_private_cluster() {
  local name=$1; shift
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  dir=$(mktemp -d "/tmp/paaskit-$name-XXXXXX")
  as_pg=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$dir"
    as_pg=(runuser -u postgres --)
  fi
  trap '"${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
  "${as_pg[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
  "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-c listen_addresses='' -c unix_socket_directories='$dir' $*" start >/dev/null
}
