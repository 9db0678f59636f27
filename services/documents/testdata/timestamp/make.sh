#!/usr/bin/env bash
# Makes the RFC 3161 fixtures of documents::timestamp's unit tests with OpenSSL's TSA (the
# same set-up as deploy/local/test-tsa.sh): for an RSA and an ECDSA P-256 TSA, its CA, a query
# over message.json (SHA-256, nonce, certReq) and the reply; and a refused reply (a SHA-1
# query, which the TSA does not accept). The certificates are valid for 100 years, so the
# fixtures stay usable; run again only to change them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tsa="$here/../../../../deploy/local/test-tsa.sh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$here"
printf '{\n  "format": "receivables-evidence-bundle/1",\n  "case_id": "fixture"\n}' > message.json
for key in rsa ec; do
  "$tsa" --dir "$work/$key" --key "$key" --init-only >/dev/null
  mkdir -p "$key"
  cp "$work/$key/ca.pem" "$key/ca.pem"
  openssl ts -query -data message.json -sha256 -cert -out "$key/query.tsq" 2>/dev/null
  openssl ts -reply -config "$work/$key/tsa.cnf" -queryfile "$key/query.tsq" -out "$key/reply.tsr" 2>/dev/null
  openssl ts -reply -in "$key/reply.tsr" -token_out -out "$key/token.der" 2>/dev/null
  openssl ts -verify -data message.json -in "$key/reply.tsr" -CAfile "$key/ca.pem" >/dev/null 2>&1
done
openssl ts -query -data message.json -sha1 -cert -out "$work/sha1.tsq" 2>/dev/null
openssl ts -reply -config "$work/rsa/tsa.cnf" -queryfile "$work/sha1.tsq" -out rejected.tsr 2>/dev/null
echo "fixtures written to $here"
