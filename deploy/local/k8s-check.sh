#!/usr/bin/env bash
# Renders every kustomization under deploy/k8s and validates what comes out:
# - kustomize (sigs.k8s.io/kustomize/kustomize/v5, built with `go install` into .tools/go/bin);
# - kubeconform (github.com/yannh/kubeconform, likewise) in strict mode, offline, against the
#   Kubernetes JSON schemas shipped by PyPI's kubernetes-validate (installed into
#   .tools/k8s-venv) and, for the CloudNativePG and Strimzi resources, the hand-written schemas
#   of deploy/k8s/schemas (see its README: they cover only the fields used);
# - deploy/local/k8s_check.py: the project's rules (pod security, probes, memory limits, PDBs,
#   NetworkPolicies, migration Jobs, Kafka users and database roles of every service).
# Tools are installed once and reused (.tools is not committed). Needs Go and Python 3.
set -euo pipefail
cd "$(dirname "$0")/../.."

KUSTOMIZE_VERSION=v5.8.2
KUBECONFORM_VERSION=v0.7.0
KUBERNETES_VALIDATE_VERSION=1.37.0
# The Kubernetes version whose schemas the manifests are validated against.
KUBERNETES_VERSION=1.37.0

# Go's usual install location, when it is not on PATH.
if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
  PATH="/usr/local/go/bin:$PATH"
fi

tools="$PWD/.tools"
bin="$tools/go/bin"
mkdir -p "$bin"

# A tool is (re)installed when its version stamp is missing or differs.
install_go_tool() {
  local name=$1 module=$2 version=$3
  if [ ! -x "$bin/$name" ] || [ "$(cat "$bin/$name.version" 2>/dev/null)" != "$version" ]; then
    if ! command -v go >/dev/null; then
      echo "k8s-check: go not found; install Go (the module proxy serves $module)" >&2
      exit 1
    fi
    echo "k8s-check: installing $module@$version into $bin"
    GOBIN="$bin" go install "$module@$version"
    echo "$version" >"$bin/$name.version"
  fi
}
install_go_tool kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION"
install_go_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"

venv="$tools/k8s-venv"
if [ "$(cat "$venv/.version" 2>/dev/null)" != "$KUBERNETES_VALIDATE_VERSION" ]; then
  echo "k8s-check: installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION (schemas) into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" pyyaml
  echo "$KUBERNETES_VALIDATE_VERSION" >"$venv/.version"
fi
schemas="$("$venv/bin/python" -c 'import kubernetes_validate, os; print(os.path.dirname(kubernetes_validate.__file__))')/kubernetes-json-schema/v$KUBERNETES_VERSION-local-strict"
if [ ! -f "$schemas/deployment-apps-v1.json" ]; then
  echo "k8s-check: no Kubernetes $KUBERNETES_VERSION schemas in $schemas" >&2
  exit 1
fi

out="$tools/k8s-rendered"
rm -rf "$out"
mkdir -p "$out/schemas"
while IFS= read -r kustomization; do
  dir=$(dirname "$kustomization")
  name=$(echo "${dir#deploy/k8s/}" | tr '/' '-')
  echo "k8s-check: kustomize build $dir"
  "$bin/kustomize" build "$dir" >"$out/$name.yaml"
done < <(find deploy/k8s -name kustomization.yaml | sort)
# The package's schemas reference a shared definitions file by URL: inline what each uses.
"$venv/bin/python" deploy/local/k8s_check.py --standalone-schemas "$schemas" "$out/schemas" "$out"/*.yaml
status=0
"$bin/kubeconform" -strict -summary \
  -schema-location "$out/schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
  -schema-location "deploy/k8s/schemas/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json" \
  "$out"/*.yaml || status=1

"$venv/bin/python" deploy/local/k8s_check.py "$out/overlays-production.yaml" || status=1
if [ "$status" -ne 0 ]; then
  echo "k8s-check: FAILED (rendered manifests in $out)" >&2
  exit 1
fi
echo "k8s-check: every kustomization renders and validates"
