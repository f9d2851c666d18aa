#!/bin/sh
# with-kube-sim.sh SIM PROGRAM [ARGS...]: runs PROGRAM with KUBECONFIG naming a fresh
# paaskit-kube-sim (HTTPS, 2 nodes) on a free loopback port, as a user's program would find its
# cluster; the simulator is stopped afterwards. PROGRAM's exit status is the script's.
set -eu
sim="$1"
shift
dir=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
mkfifo "$dir/out"
"$sim" --listen 127.0.0.1:0 --nodes 2 --tls --pod-start-delay-ms 5 --pod-ready-delay-ms 5 \
  --kubeconfig-out "$dir/kubeconfig" >"$dir/out" 2>&1 &
pid=$!
exec 3<"$dir/out" # held open, so the simulator never writes into a closed pipe
IFS= read -r line <&3 || true
case "$line" in
  *serving*) ;;
  *) echo "paaskit-kube-sim did not start: $line" >&2; exit 1 ;;
esac
status=0
KUBECONFIG="$dir/kubeconfig" "$@" || status=$?
exit "$status"
