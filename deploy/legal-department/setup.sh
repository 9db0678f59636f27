#!/usr/bin/env bash
# Prepares the legal department's client: a virtual environment with its requirements and
# the Python classes generated from the platform's published protos (proto/), written to
# deploy/legal-department/generated/ (not committed: generated from proto/ every time).
#
#   deploy/legal-department/setup.sh            # venv in .venv-legal-department (repo root)
#   LEGAL_DEPARTMENT_VENV=/opt/legal/venv deploy/legal-department/setup.sh
#
# Prints the venv's python path on the last line. Safe to run again (pip skips what is there).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${LEGAL_DEPARTMENT_VENV:-$root/.venv-legal-department}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q -r "$here/requirements.txt" >&2
gen="$here/generated"
rm -rf "$gen.tmp"
mkdir -p "$gen.tmp"
# Only the packages the client reads: the legal API, the events and the types they use.
(cd "$root/proto" && "$venv/bin/python" -m grpc_tools.protoc -I . \
  --python_out="$gen.tmp" --grpc_python_out="$gen.tmp" \
  receivables/legal/v1/legal.proto \
  receivables/events/v1/envelope.proto receivables/events/v1/legal.proto \
  receivables/types/v1/legal_case.proto receivables/types/v1/money.proto \
  receivables/types/v1/owed.proto) >&2
rm -rf "$gen"
mv "$gen.tmp" "$gen"
echo "$venv/bin/python"
