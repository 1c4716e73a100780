#!/bin/sh
# valgrind_small_batch.sh BUILD_DIR - valgrind memcheck over `run --drain` of
# a small batch with faults and a rejected file, end to end (intake, every
# stage, response, receipts): any memcheck error or definite leak fails it.
set -eu
B=$1
H=$(mktemp -d /tmp/smki-vg.XXXXXX)
trap 'rm -rf "$H"' EXIT
"$B/smki-batch" init --home "$H/h" --demo-ca >/dev/null
"$B/smki-batch" party add --home "$H/h" --id 90-B3-D5-1F-30-01-00-00 --name Valgrind >/dev/null
"$B/bench/gencsr" --count 40 --batch VG1 --faults signature:1,usage:1,key_compressed:1,dup_key:1 \
    --out "$H/h/spool/incoming/vg.xml" 2>/dev/null
printf '<BatchedCSRRequest xmlns="urn:smki:batched-csr:1"><Header>' > "$H/h/spool/incoming/bad.xml"
echo "== valgrind memcheck: run --drain of a 40-CSR batch and a broken file"
if valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
       "$B/smki-batch" run --home "$H/h" --drain 2>"$H/log"; then
    grep -q "batch VG1 done" "$H/log" || { cat "$H/log"; echo "valgrind: the batch did not complete"; exit 1; }
    echo "[  PASSED  ] valgrind: no memcheck errors, no definite leaks"
else
    grep -v "smki-batch info" "$H/log"
    echo "[  FAILED  ] valgrind reported errors (above)"
    exit 1
fi
