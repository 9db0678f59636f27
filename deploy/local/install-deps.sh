#!/usr/bin/env bash
# Installs what the local stack and the tests need on Debian or Ubuntu, if missing:
# the PostgreSQL server (initdb/pg_ctl for throwaway clusters), a C toolchain for
# librdkafka's build, OpenSSL's headers (librdkafka's TLS and SASL/SCRAM to the broker link
# the system OpenSSL), Python's venv for the interoperability check, a CJK font that notices
# and statements are set in (services/documents; fonts-wqy-microhei: 1.6 MB download, 5 MB
# installed, against 56 MB / 91 MB for fonts-noto-cjk) and poppler-utils (pdftotext, pdffonts)
# with which the documents tests read the PDFs back, and aiosmtpd, the local SMTP server the
# dunning e-mail channel is tested against.
set -euo pipefail

need=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
command -v cc >/dev/null || need+=(build-essential)
command -v make >/dev/null || need+=(make)
command -v perl >/dev/null || need+=(perl)
command -v pkg-config >/dev/null || need+=(pkg-config)
[ -f /usr/include/openssl/ssl.h ] || need+=(libssl-dev)
command -v python3 >/dev/null || need+=(python3 python3-venv)
# R-L8: the local test timestamp authority (deploy/local/test-tsa.sh) is `openssl ts -reply`.
command -v openssl >/dev/null || need+=(openssl)
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || [ -n "${DOCUMENT_FONT_FILE:-}" ] || need+=(fonts-wqy-microhei)
command -v pdftotext >/dev/null && command -v pdffonts >/dev/null || need+=(poppler-utils)
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || need+=(python3-aiosmtpd)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${need[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
if ! command -v apt-get >/dev/null; then
  echo "install-deps: apt-get not found; install these yourself: ${need[*]}" >&2
  exit 1
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
