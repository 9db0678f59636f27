#!/usr/bin/env bash
# Proves another toolchain can call the services: generates a Python grpcio client from
# proto/, starts the stack, lists services by reflection and creates a contract, over TLS
# (the stack's throwaway CA) with a bearer token minted by collectctl (R-O3).
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.venv-interop
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q "grpcio>=1.62,<2" "grpcio-tools>=1.62,<2" "grpcio-reflection>=1.62,<2"

work=$(mktemp -d)
stack_pid=""
cleanup() {
  if [ -n "$stack_pid" ]; then kill -INT "$stack_pid" 2>/dev/null || true; wait "$stack_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/gen"
"$venv/bin/python" -m grpc_tools.protoc -I proto --python_out="$work/gen" --grpc_python_out="$work/gen" \
  $(find proto -name '*.proto' | sort)

export COLLECTIONS_AUTH_DIR="$work/auth"
"${CARGO_TARGET_DIR:-target}"/debug/devstack --json up --random-ports >"$work/stack.log" 2>&1 &
stack_pid=$!
for _ in $(seq 1 600); do
  grep -q '"ready"' "$work/stack.log" && break
  kill -0 "$stack_pid" 2>/dev/null || { cat "$work/stack.log"; echo "interop-check: the stack did not start" >&2; exit 1; }
  sleep 0.1
done
ready=$(grep '"ready"' "$work/stack.log")
token=$("${CARGO_TARGET_DIR:-target}"/debug/collectctl auth token --role collector --subject py-client --team east --ttl 10m)
PYTHONPATH="$work/gen" "$venv/bin/python" deploy/local/interop_check.py "$ready" "$work/auth/ca.pem" "$token"
