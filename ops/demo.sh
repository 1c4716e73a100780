#!/bin/sh
# demo.sh BUILD_DIR - the main job on a demo home, start to finish: init a
# home with a demo CA, register a party, generate a 1,000-CSR batch with a few
# bad requests, submit it, drain the queue, and show the receipt, the queue and
# where the response and the certificates are.  Run by `make demo`.
set -eu
B=${1:-build}
BIN=$B/smki-batch
GEN=$B/bench/gencsr
HOME_DIR=${DEMO_HOME:-$(pwd)/demo-home}
PARTY=90-B3-D5-1F-30-01-00-00
BATCH=DEMO-$(date +%Y%m%d-%H%M%S)

if [ -e "$HOME_DIR" ]; then
    echo "demo: $HOME_DIR exists; reusing it (rm -rf it for a fresh start)"
else
    "$BIN" init --home "$HOME_DIR" --demo-ca
    "$BIN" party add --home "$HOME_DIR" --id "$PARTY" --name "Demo Energy Ltd"
fi
"$GEN" --count 1000 --party "$PARTY" --batch "$BATCH" --out "$HOME_DIR/$BATCH.xml" \
    --faults signature:3,device_id:2,usage:1,key_compressed:1,sig_alg:1,dup_request:1,dup_key:1 \
    --expect "$HOME_DIR/$BATCH.expect"
echo
echo "== submit (the web tier drops the file into the spool)"
"$BIN" submit --home "$HOME_DIR" "$HOME_DIR/$BATCH.xml"
echo
echo "== run --drain (take, queue, process, exit)"
"$BIN" run --home "$HOME_DIR" --drain
echo
echo "== the receipt"
cat "$HOME_DIR/spool/receipts/$BATCH.receipt.xml"
echo
echo "== status"
"$BIN" status --home "$HOME_DIR"
echo
RESP="$HOME_DIR/spool/responses/${PARTY}_$BATCH.response.xml"
echo "== results"
grep -o '<Status>[A-Za-z]*</Status>' "$RESP" | sort | uniq -c
grep -o '<ErrorCode>[A-Z_]*</ErrorCode>' "$RESP" | sort | uniq -c
SERIAL=$(grep -o '<CertificateSerial>[0-9A-F]*' "$RESP" | head -1 | cut -d'>' -f2)
echo
echo "response file:  $RESP"
echo "fetch it:       $BIN fetch --home $HOME_DIR --party $PARTY --batch $BATCH"
echo "a certificate:  $BIN lookup --home $HOME_DIR --serial $SERIAL"
echo "issuing CA:     $HOME_DIR/ca/issuing-ca.pem"
