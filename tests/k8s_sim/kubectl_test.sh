#!/usr/bin/env bash
# kubectl, an independent real client, against paaskit-kube-sim: every command the simulated
# cluster must serve, each checked for its effect. Usage: kubectl_test.sh SIM_BINARY
# The simulator is started with no --openapi-dir, as its docs show: it validates with the
# Kubernetes OpenAPI documents shipped with paaskit.
set -uo pipefail
sim="$1"
root=$(cd "$(dirname "$0")/../.." && pwd)
PATH="$PATH:$root/.cache/tools/bin"
command -v kubectl >/dev/null || { echo "kubectl not found: run scripts/bootstrap"; exit 1; }

work=$(mktemp -d)
export KUBECONFIG="$work/kubeconfig"
"$sim" --listen 127.0.0.1:0 --nodes 3 --node-cpu 2 \
  --pod-start-delay-ms 100 --pod-ready-delay-ms 100 --kubeconfig-out "$KUBECONFIG" >"$work/sim.log" 2>&1 &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null; wait $sim_pid 2>/dev/null; rm -rf "$work"' EXIT

# The kubeconfig is written once the simulator listens.
for _ in $(seq 1 200); do [ -s "$KUBECONFIG" ] && break; kill -0 $sim_pid 2>/dev/null || break; sleep 0.05; done
[ -s "$KUBECONFIG" ] || { echo "simulator did not start:"; cat "$work/sim.log"; exit 1; }

passed=0
failed=0
check() { # check NAME COMMAND... : the command must succeed
  local name="$1"; shift
  if out=$("$@" 2>&1); then passed=$((passed + 1)); echo "ok   $name"; else failed=$((failed + 1)); echo "FAIL $name"; echo "$out" | sed 's/^/     /'; fi
}
expect() { # expect NAME PATTERN COMMAND... : the output (stdout+stderr) must match PATTERN
  local name="$1" pattern="$2"; shift 2
  out=$("$@" 2>&1)
  # A here-string, not a pipe: with pipefail, grep -q closing early would fail the echo.
  if grep -Eq -- "$pattern" <<<"$out"; then passed=$((passed + 1)); echo "ok   $name"; else failed=$((failed + 1)); echo "FAIL $name (wanted /$pattern/)"; echo "$out" | sed 's/^/     /'; fi
}

expect "get nodes lists three ready nodes" '^node-3 +Ready' kubectl get nodes
expect "discovery names pods/eviction" 'pods/eviction' kubectl get --raw /api/v1
check "create namespace" kubectl create namespace demo
expect "new namespace carries its name label" 'kubernetes.io/metadata.name=demo' kubectl get namespace demo --show-labels

cat >"$work/app.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: demo}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        resources: {requests: {cpu: 100m, memory: 64Mi}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: demo}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: web}}
YAML
check "apply -f a deployment and a PDB" kubectl apply -f "$work/app.yaml"
expect "rollout status waits for the rollout" 'successfully rolled out' kubectl -n demo rollout status deployment/web --timeout=60s
expect "get pods -o json: two running pods on nodes" '"phase": "Running"' kubectl -n demo get pods -o json
pod=$(kubectl -n demo get pods -o jsonpath='{.items[0].metadata.name}')
node=$(kubectl -n demo get pod "$pod" -o jsonpath='{.spec.nodeName}')
expect "logs of a pod" "starting web in pod $pod" kubectl -n demo logs "$pod"
expect "logs --tail=1 gives one line" '^web: simulated work|^starting' kubectl -n demo logs "$pod" --tail=1
check "label a pod" kubectl -n demo label pod "$pod" tier=frontend
expect "label selector finds the labelled pod" "$pod" kubectl -n demo get pods -l tier=frontend -o name
check "re-apply is unchanged" kubectl apply -f "$work/app.yaml"
expect "cordon" 'cordoned' kubectl cordon node-1
expect "a cordoned node shows SchedulingDisabled" 'node-1 +Ready,SchedulingDisabled' kubectl get nodes
expect "uncordon" 'uncordoned' kubectl uncordon node-1
expect "uncordoned node schedules again" 'node-1 +Ready +<none>' kubectl get nodes

# A drain that the PDB allows: the pod is evicted and its replacement runs elsewhere.
expect "drain evicts within the PDB" 'drained' kubectl drain "$node" --ignore-daemonsets --timeout=60s
expect "evicted pod is gone" 'NotFound|not found' kubectl -n demo get pod "$pod"
expect "the replacement runs" 'successfully rolled out' kubectl -n demo rollout status deployment/web --timeout=60s
expect "no pod left on the drained node" '^$' kubectl -n demo get pods --field-selector "spec.nodeName=$node" -o name
check "uncordon the drained node" kubectl uncordon "$node"

# A PDB that allows no disruption: drain keeps retrying and gives up at its timeout.
check "tighten the PDB" kubectl -n demo patch pdb web --type=merge -p '{"spec":{"minAvailable":2}}'
other=$(kubectl -n demo get pods -o jsonpath='{.items[0].spec.nodeName}')
expect "drain respects the PDB (429)" "disruption budget" kubectl drain "$other" --ignore-daemonsets --timeout=8s
check "uncordon after the refused drain" kubectl uncordon "$other"
expect "both pods still run" '^2$' bash -c "kubectl -n demo get pods --field-selector status.phase=Running -o name | wc -l"

# Watch: the scale-up shows as events on the open watch.
kubectl -n demo get pods --watch --output-watch-events >"$work/watch.out" 2>&1 &
watch_pid=$!
for _ in $(seq 1 100); do [ "$(wc -l <"$work/watch.out")" -ge 3 ] && break; sleep 0.05; done
check "scale to 3" kubectl -n demo scale deployment web --replicas=3
check "rollout after scaling" kubectl -n demo rollout status deployment/web --timeout=60s
for _ in $(seq 1 100); do grep -q 'MODIFIED' "$work/watch.out" && break; sleep 0.05; done
kill $watch_pid 2>/dev/null; wait $watch_pid 2>/dev/null
expect "get --watch shows ADDED then MODIFIED events" 'ADDED' cat "$work/watch.out"
expect "get --watch shows the new pod changing" 'MODIFIED' cat "$work/watch.out"

cat >"$work/bad.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: bad, namespace: demo}
data: {a: b}
bogus: 1
YAML
expect "--validate=strict rejects an unknown field" 'strict decoding error: unknown field "bogus"' kubectl apply --validate=strict -f "$work/bad.yaml"
expect "--validate=warn warns and drops the field" 'Warning: unknown field "bogus"' kubectl apply --validate=warn -f "$work/bad.yaml"
expect "the object is stored without the dropped field" '^b$' kubectl -n demo get configmap bad -o jsonpath='{.data.a}{.bogus}'

# A `kind: List` file: kubectl validates it with the /openapi/v2 document (v3 has no List).
cat >"$work/list.yaml" <<'YAML'
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: listed-a, namespace: demo}
  data: {a: "1"}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: listed-b, namespace: demo}
  data: {b: "2"}
YAML
check "apply -f a kind: List file" kubectl apply -f "$work/list.yaml"
expect "both objects of the List exist" '^12$' kubectl -n demo get configmap listed-a listed-b -o jsonpath='{.items[0].data.a}{.items[1].data.b}'
cat >"$work/bad-list.yaml" <<'YAML'
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: listed-c, namespace: demo}
  bogus: 1
YAML
expect "a List's items are validated too" 'unknown field "bogus"' kubectl apply --validate=strict -f "$work/bad-list.yaml"

# Namespace deletion: Terminating while its content goes, then gone.
expect "delete namespace without waiting reports it" 'deleted' kubectl delete namespace demo --wait=false
expect "the namespace is Terminating or already gone" 'Terminating|NotFound|not found' kubectl get namespace demo
check "delete namespace waits until it is gone" kubectl wait --for=delete namespace/demo --timeout=60s
expect "its pods are gone" 'No resources found|^$' kubectl get pods -A
expect "creating in a deleted namespace fails" 'NotFound|not found' kubectl -n demo create configmap x --from-literal=a=b

# Over HTTPS: kubectl verifies the generated CA and authenticates with the client certificate.
tls_config="$work/tls-kubeconfig"
"$sim" --listen 127.0.0.1:0 --nodes 1 --tls --kubeconfig-out "$tls_config" --certs-out "$work/certs" >"$work/tls.log" 2>&1 &
tls_pid=$!
trap 'kill $sim_pid $tls_pid 2>/dev/null; wait $sim_pid $tls_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 200); do [ -s "$work/certs/client.key" ] && break; kill -0 $tls_pid 2>/dev/null || break; sleep 0.05; done
expect "kubectl over TLS with the client certificate" '^node-1 +Ready' kubectl --kubeconfig "$tls_config" get nodes
expect "the kubeconfig holding a key is private" '^-rw-------' ls -l "$tls_config"
# The user entry ends the file: swap its certificate for a token the cluster does not know.
{ grep -v 'client-' "$tls_config"; echo "    token: not-the-token"; } >"$work/tls-anonymous"
expect "without a client certificate: Unauthorized" 'Unauthorized' kubectl --kubeconfig "$work/tls-anonymous" get nodes
grep -v 'certificate-authority-data' "$tls_config" >"$work/tls-untrusted"
expect "without the CA the server is not trusted" 'certificate signed by unknown authority' kubectl --kubeconfig "$work/tls-untrusted" get nodes
tls_server=$(grep 'server:' "$tls_config" | awk '{print $2}')
if command -v curl >/dev/null; then
  expect "curl with the written CA and client certificate" '"node-1"' \
    curl -sS --cacert "$work/certs/ca.crt" --cert "$work/certs/client.crt" --key "$work/certs/client.key" "$tls_server/api/v1/nodes"
fi

echo "kubectl: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
