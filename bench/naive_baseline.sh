#!/usr/bin/env bash
# naive_baseline.sh N - the naive way to do this job, for comparison: one
# `openssl req -verify` and one `openssl x509 -req` process per CSR, on N CSRs
# (default 300) from bench/gencsr, with a throwaway P-256 CA.  Prints
# "naive_csrs_per_s <rate>".  bench/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-300}
GEN=${SMKI_GENCSR:-build/bench/gencsr}
W=$(mktemp -d /tmp/smki-naive.XXXXXX)
trap 'rm -rf "$W"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/ca.key" \
    -out "$W/ca.pem" -subj "/OU=07/CN=naive CA" -days 3650 2>/dev/null
"$GEN" --count "$N" --out "$W/req.xml" 2>/dev/null
python3 - "$W" <<'PY'
import base64, re, sys
w = sys.argv[1]
text = open(f"{w}/req.xml").read()
for i, b64 in enumerate(re.findall(r"<CSRBody>([^<]+)</CSRBody>", text)):
    open(f"{w}/{i}.der", "wb").write(base64.b64decode(b64))
PY
start=$(date +%s.%N)
for f in "$W"/[0-9]*.der; do
    openssl req -inform DER -in "$f" -verify -noout 2>/dev/null
    openssl x509 -req -inform DER -in "$f" -CA "$W/ca.pem" -CAkey "$W/ca.key" -set_serial 1 \
        -days 3650 -sha256 -outform DER -out "$f.crt" 2>/dev/null
done
end=$(date +%s.%N)
python3 -c "print('naive_csrs_per_s %.1f' % ($N / ($end - $start)))"
