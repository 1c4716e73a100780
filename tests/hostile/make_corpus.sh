#!/usr/bin/env bash
# make_corpus.sh DIR [PORT] - write the hostile-input corpus into DIR (created;
# must not exist or be empty), with DIR/expect.tsv (one line per case: name,
# expected receipt code or Accepted or IGNORED, per-request codes), and
# DIR/labels.tsv, DIR/timing.lst.  See tests/hostile/README.md for the cases and
# the decisions behind their expected codes.
#
#   PORT          the loopback port the URL cases point at (default 9, discard):
#                 the caller listens there and checks that nothing connected
#   SMKI_BENCH    directory holding gencsr (default build/bench of this repo)
#   HOSTILE_PARTY the registered party the files name (default 90-B3-D5-1F-30-01-00-00)
#
# Needs: gencsr, openssl, python3 (standard library only).  About 110 MB on
# disk (mostly the 50,001-CSR and 10 MB cases; the 64 MiB case is sparse), a
# few seconds.  Nothing here is checked in: generate it.
set -euo pipefail

HOSTILE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HOSTILE_DIR/../.." && pwd)
DIR=${1:?usage: make_corpus.sh DIR [PORT]}
PORT=${2:-9}
SMKI_BENCH=${SMKI_BENCH:-$REPO/build/bench}
case $SMKI_BENCH in /*) ;; *) SMKI_BENCH=$REPO/$SMKI_BENCH ;; esac
GENCSR=$SMKI_BENCH/gencsr
PARTY=${HOSTILE_PARTY:-90-B3-D5-1F-30-01-00-00}

[ -x "$GENCSR" ] || { echo "make_corpus.sh: $GENCSR is not built (make)" >&2; exit 1; }
for tool in openssl python3; do
    command -v $tool >/dev/null || { echo "make_corpus.sh: $tool is not installed" >&2; exit 1; }
done
mkdir -p "$DIR"
[ -z "$(ls -A "$DIR")" ] || { echo "make_corpus.sh: $DIR is not empty" >&2; exit 1; }
AUX=$DIR/.aux
mkdir -p "$AUX"

# real CSRs: 240 fresh P-256 keys with hardwareModuleName = DeviceID
"$GENCSR" --count 240 --party "$PARTY" --batch HOSTILE-BASE --device-base 00DB485354000100 \
    --out "$AUX/base.xml" 2>"$AUX/gencsr.log" || { cat "$AUX/gencsr.log" >&2; exit 1; }

# CSRs from openssl req: other keys and algorithms (empty subject, no extensions)
ossl() {    # NAME KEYSPEC [req options...]
    local name=$1 spec=$2
    shift 2
    openssl req -new -newkey "$spec" "$@" -nodes -subj / -keyout "$AUX/ossl-$name.key" \
        -outform DER -out "$AUX/ossl-$name.der" 2>"$AUX/openssl-$name.log" \
        || { cat "$AUX/openssl-$name.log" >&2; exit 1; }
}
ossl p256 ec -pkeyopt ec_paramgen_curve:P-256
ossl p256b ec -pkeyopt ec_paramgen_curve:P-256
ossl p384 ec -pkeyopt ec_paramgen_curve:P-384
ossl k256 ec -pkeyopt ec_paramgen_curve:secp256k1
ossl rsa rsa:2048
ossl ed25519 ed25519
ossl p256-sha1 ec -pkeyopt ec_paramgen_curve:P-256 -sha1
ossl p256-sha384 ec -pkeyopt ec_paramgen_curve:P-256 -sha384
ossl p384-sha1 ec -pkeyopt ec_paramgen_curve:P-384 -sha1
# a P-256 key written with explicit curve parameters (not namedCurve)
openssl ecparam -name prime256v1 -genkey -param_enc explicit -noout -out "$AUX/ossl-explicit.key" 2>/dev/null
openssl req -new -key "$AUX/ossl-explicit.key" -nodes -subj / -outform DER -out "$AUX/ossl-explicit.der" \
    2>"$AUX/openssl-explicit.log" || { cat "$AUX/openssl-explicit.log" >&2; exit 1; }

python3 "$HOSTILE_DIR/corpus.py" "$DIR" "$PORT" "$PARTY"
