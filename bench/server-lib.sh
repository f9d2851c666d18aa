# Sourced by the load scripts: builds the Release server and starts it on a free port.
#
#   build_release_server                 # scripts/bootstrap --bench, then build/release's paaskit-server
#   start_server LOG [server flags...]   # sets $server (its pid) and $port; the log goes to LOG
#   server_ticks                         # CPU time the server used so far (user + system, clock ticks)

build_release_server() {
  scripts/bootstrap --bench
  local launcher=()
  if command -v ccache >/dev/null 2>&1; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
  fi
  cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DPAASKIT_BUILD_TESTS=OFF \
    -DPAASKIT_BUILD_BENCH=OFF -DPAASKIT_BUILD_EXAMPLES=OFF "${launcher[@]}" >/dev/null
  cmake --build build/release --target paaskit-server >/dev/null
}

start_server() {
  local log=$1
  shift
  ${PAASKIT_SERVER_BINARY:-build/release/reference-server/paaskit-server} --listen 127.0.0.1:0 "$@" >"$log" 2>&1 &
  server=$!
  port=
  for _ in $(seq 1 600); do
    port=$(grep -o '"msg":"listening".*"port":[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    [ -n "$port" ] && return 0
    kill -0 "$server" 2>/dev/null || { cat "$log"; return 1; }
    sleep 0.1 # poll for the listening line
  done
  echo "server did not start"
  cat "$log"
  kill "$server" 2>/dev/null
  return 1
}

server_ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
