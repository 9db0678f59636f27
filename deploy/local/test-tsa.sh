#!/usr/bin/env bash
# A local RFC 3161 timestamp authority for the tests and the local stack (R-L8): OpenSSL's
# `openssl ts -reply` behind a tiny HTTP server (deploy/local/test_tsa.py), with a throwaway
# CA and a TSA certificate (extendedKeyUsage critical timeStamping) made at start. Nothing
# here is a fake: the replies are what OpenSSL's TSA writes.
#
#   deploy/local/test-tsa.sh [--dir DIR] [--key rsa|ec] [--port N] [--ready-file FILE] [--init-only]
#
#   --dir DIR         where the keys, certificates, config and serial live (default
#                     .tools/test-tsa); kept when they are already there
#   --key rsa|ec      RSA 2048 (default) or ECDSA P-256 keys for the CA and the TSA
#   --port N          port on 127.0.0.1 (default 0: a free one)
#   --ready-file FILE once listening, the TSA's URL is written there (http://127.0.0.1:PORT/)
#   --init-only       make the CA, the certificate and the config, then stop
#
# The CA certificate to trust is DIR/ca.pem (LEGAL_TSA_CA_FILE, collectctl's --tsa-cert).
# The server runs in the foreground; stop it with SIGTERM or Ctrl-C.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir=""
key=rsa
port=0
ready=""
init_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --key) key="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --ready-file) ready="$2"; shift 2 ;;
    --init-only) init_only=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "test-tsa: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$dir" ] || dir="$here/../../.tools/test-tsa"
case "$key" in
  rsa) newkey=(-newkey rsa:2048) ;;
  ec) newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
  *) echo "test-tsa: --key is rsa or ec, not $key" >&2; exit 2 ;;
esac
command -v openssl >/dev/null || { echo "test-tsa: openssl not found; install it (apt-get install openssl)" >&2; exit 1; }
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

if [ ! -s "$dir/tsa.pem" ]; then
  openssl req -x509 "${newkey[@]}" -nodes -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 36500 \
    -subj "/O=Collections local test/CN=Collections Test TSA CA ($key)" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req "${newkey[@]}" -nodes -keyout "$dir/tsa.key" -out "$dir/tsa.csr" \
    -subj "/O=Collections local test/CN=Collections Test TSA ($key)" 2>/dev/null
  cat > "$dir/tsa.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,nonRepudiation
extendedKeyUsage=critical,timeStamping
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EXT
  openssl x509 -req -in "$dir/tsa.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -set_serial "0x$(openssl rand -hex 8)" -days 36500 -sha256 \
    -extfile "$dir/tsa.ext" -out "$dir/tsa.pem" 2>/dev/null
  rm -f "$dir/tsa.csr"
  echo 01 > "$dir/serial"
fi
cat > "$dir/tsa.cnf" <<CNF
# openssl ts -reply configuration of the local test TSA (deploy/local/test-tsa.sh).
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = $dir
serial = \$dir/serial
crypto_device = builtin
signer_cert = \$dir/tsa.pem
signer_key = \$dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.2
digests = sha256, sha384, sha512
accuracy = secs:1
clock_precision_digits = 0
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
CNF
if [ "$init_only" = 1 ]; then
  echo "test-tsa: CA $dir/ca.pem, TSA certificate $dir/tsa.pem, config $dir/tsa.cnf"
  exit 0
fi
command -v python3 >/dev/null || { echo "test-tsa: python3 not found; install it (apt-get install python3)" >&2; exit 1; }
args=(--config "$dir/tsa.cnf" --port "$port")
[ -n "$ready" ] && args+=(--ready-file "$ready")
exec python3 "$here/test_tsa.py" "${args[@]}"
