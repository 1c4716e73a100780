#!/usr/bin/env bash
# test_hostile.sh - the hostile-input corpus (tests/hostile/make_corpus.sh: XXE,
# entity bombs, DOCTYPEs, oversized and deep files, bad encodings, odd names,
# links/FIFO/socket/directory entries, and an accepted batch with one
# per-request fault per CSR) dropped into one home and taken by one
# `run --drain`.  Asserts for every case: the receipt code (or no receipt and
# the entry left in place), the entry moved as itself, no response or archive
# for a rejected file, the archive and the per-request codes of every accepted
# file; and overall: no crash, no sanitizer report, bounded time, no connection
# to the loopback listener the URL cases point at, no "root:" from /etc/passwd
# anywhere under spool/ or in the log.  Then the denial-of-service shaped cases
# (tests/hostile timing.lst) each alone, each within HOSTILE_FILE_BUDGET s.
#
#   HOSTILE_TIMEOUT      seconds for the drain (default 120)
#   HOSTILE_FILE_BUDGET  seconds for one file alone, start to exit (default 5;
#                        SPEC 1 wants a receipt within 1 s)
# When the drain hangs or crashes, the entry it was taking (the oldest left in
# incoming/) is reported, set aside, and the drain run again, so that one run
# reports every finding.  With the ASan build this test needs E2E_TIMEOUT=600.
. "$(dirname "$0")/lib.sh"

HOSTILE=$REPO/tests/hostile
TIMEOUT=${HOSTILE_TIMEOUT:-120}
BUDGET=${HOSTILE_FILE_BUDGET:-5}
SAN_RE='ERROR: [A-Za-z]+Sanitizer|runtime error:|SUMMARY: [A-Za-z]+Sanitizer|WARNING: [A-Za-z]+Sanitizer'

# --- a loopback listener: any connection is a failure -------------------------
step "loopback listener"
cat >listener.py <<'EOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(64)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, a = s.accept()
    c.settimeout(2)
    try:
        data = c.recv(4096)
    except OSError:
        data = b""
    with open(sys.argv[2], "a") as f:
        f.write("connection from %s:%d: %r\n" % (a[0], a[1], data[:200]))
    try:
        c.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nroot:x:0:0:FETCHED:/root:/bin/sh\n")
    except OSError:
        pass
    c.close()
EOF
: >listener.log
python3 listener.py listener.port listener.log &
LISTENER_PID=$!
_hostile_cleanup() {
    kill "$LISTENER_PID" 2>/dev/null
    _e2e_cleanup
}
trap _hostile_cleanup EXIT
for _ in $(seq 50); do [ -s listener.port ] && break; sleep 0.1; done
PORT=$(cat listener.port 2>/dev/null) || fail "the loopback listener did not start"
# the listener works (so that "nothing connected" means something)
python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT)).close()" \
    || fail "cannot connect to the loopback listener on port $PORT"
sleep 0.3
[ -s listener.log ] || fail "the loopback listener does not log connections"
: >listener.log

# --- the corpus ----------------------------------------------------------------
step "corpus (port $PORT)"
SMKI_BENCH=$SMKI_BENCH "$HOSTILE/make_corpus.sh" "$PWD/corpus" "$PORT" >corpus.log 2>&1 \
    || { cat corpus.log; fail "make_corpus.sh failed"; }
tail -n 1 corpus.log
C=$PWD/corpus

# names in expect.tsv (escapes: \t \n \033 \\)
mapfile -t NAMES < <(grep -v '^#' "$C/expect.tsv" | cut -f1)
decode_name() { printf '%b' "$1"; }

H=$PWD/H
new_home "$H"
add_party "$H" "$PARTY_A" "ACME hostile"
IN=$H/spool/incoming

# drop CASE: the entry as itself (a hard-linked case gets one more link)
drop_case() {   # ESCAPED-NAME DEST-DIR
    local n
    n=$(decode_name "$1")
    if [ -f "$C/$n" ] && [ ! -L "$C/$n" ] && [ "$(stat -c %h "$C/$n")" -gt 1 ]; then
        ln "$C/$n" "$2/$n"
    else
        cp -a "$C/$n" "$2/$n"
    fi
}

# the entry the service takes next: the oldest (mtime, then name) with a
# takeable name, as pipeline/spool.c orders them
next_takeable() {   # DIR
    python3 - "$1" <<'EOF'
import os, re, sys
d = sys.argv[1]
ents = []
for n in os.listdir(d):
    if n.endswith(".tmp") or not re.fullmatch(r"[A-Za-z0-9._-]{1,128}\.xml", n):
        continue
    st = os.lstat(os.path.join(d, n))
    ents.append((st.st_mtime_ns, n.encode(), n))
ents.sort()
print(ents[0][2] if ents else "")
EOF
}

# --- one drain over everything -------------------------------------------------
step "drop ${#NAMES[@]} entries into incoming/ and run --drain (timeout $TIMEOUT s)"
for n in "${NAMES[@]}"; do drop_case "$n" "$IN" || fail "cannot drop $n"; done

SKIPS=()
attempt=0
t_all=$EPOCHREALTIME
while :; do
    attempt=$((attempt + 1))
    t0=$EPOCHREALTIME
    rc=0
    timeout -k 5 "$TIMEOUT" "$SMKI_BIN" run --home "$H" --drain >>drain.log 2>"drain-$attempt.log" || rc=$?
    secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
    cat "drain-$attempt.log" >>drain.log
    echo "drain attempt $attempt: exit $rc after $secs s"
    san=$(grep -E -m1 "$SAN_RE" "drain-$attempt.log" || true)
    [ -z "$san" ] || soft_fail "sanitizer report during the drain: $san (drain-$attempt.log)"
    [ "$rc" -eq 0 ] && break
    culprit=$(next_takeable "$IN")
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        what="did not finish within $TIMEOUT s (hang)"
    else
        what="exited $rc$( [ "$rc" -gt 128 ] && echo " (signal $((rc - 128)))")"
    fi
    if [ -z "$culprit" ]; then
        soft_fail "run --drain $what after intake (processing): $(grep -E -m1 'panic|fatal|terminate|Sanitizer' "drain-$attempt.log" || tail -n 1 "drain-$attempt.log")"
        break
    fi
    soft_fail "$culprit: run --drain $what while taking this file$( [ -n "$san" ] && echo ": $san")"
    SKIPS+=("$culprit")
    mkdir -p quarantine
    mv "$IN/$culprit" quarantine/ || break
    [ "$attempt" -lt 6 ] || { soft_fail "giving up after $attempt drain attempts"; break; }
done
total=$(awk -v a="$t_all" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
echo "drain: $attempt attempt(s), $total s in all"

# --- every case ------------------------------------------------------------------
step "check every case"
skip_args=()
for s in "${SKIPS[@]}"; do skip_args+=(--skip "$s"); done
python3 "$HOSTILE/check_results.py" "$C" "$H" --log drain.log "${skip_args[@]}" >check.log 2>&1
ck=$?
tail -n 1 check.log
while IFS= read -r line; do
    case $line in checked\ *) ;; *) soft_fail "$line" ;; esac
done <check.log
if [ "$ck" -ne 0 ] && ! grep -qv '^checked ' check.log; then soft_fail "check_results.py exited $ck"; fi

# --- nothing fetched, nothing leaked ---------------------------------------------------
step "no fetch, no /etc/passwd content"
if [ -s listener.log ]; then
    soft_fail "the service connected to the loopback URL: $(head -n 3 listener.log)"
fi
if grep -rlaF 'root:' "$H/spool" >leak.txt 2>/dev/null; then
    soft_fail "'root:' (from /etc/passwd) found under spool/: $(tr '\n' ' ' <leak.txt)"
fi
for z in "$H"/spool/archive/*.zst; do
    [ -e "$z" ] || continue
    if zstd -dcq "$z" | grep -qaF 'root:'; then soft_fail "'root:' in the archive $(basename "$z")"; fi
done
if grep -qaF 'root:x:0:0' drain.log; then soft_fail "'root:x:0:0' (from /etc/passwd) in the service's log"; fi
if grep -rqaF 'FETCHED' "$H/spool" drain.log; then
    soft_fail "the listener's answer reached spool/ or the log"
fi

# --- the store agrees -------------------------------------------------------------
step "audit trail and queue"
"$SMKI_BIN" audit verify --home "$H" >audit.log 2>&1 || soft_fail "audit verify failed after the hostile drain: $(tail -n 1 audit.log)"
"$SMKI_BIN" status --home "$H" --json >status.log 2>&1 || soft_fail "status failed after the hostile drain: $(tail -n 1 status.log)"

# --- denial-of-service shaped cases, one at a time ---------------------------------------
step "one file at a time, each within $BUDGET s"
T=$PWD/T
new_home "$T"
add_party "$T" "$PARTY_A" "ACME timing"
# the fixed cost of a drain (store, schema, CA) with a trivial rejected file
cp "$C/empty_file.xml" "$T/spool/incoming/baseline.xml"
t0=$EPOCHREALTIME
timeout -k 5 60 "$SMKI_BIN" run --home "$T" --drain >>timing.log 2>&1 || soft_fail "baseline drain failed"
base=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
echo "baseline drain: $base s"
limit=$(awk -v a="$base" -v b="$BUDGET" 'BEGIN { printf "%d", a + b + 1 }')
while IFS= read -r n; do
    [ -n "$n" ] || continue
    drop_case "$n" "$T/spool/incoming"
    t0=$EPOCHREALTIME
    rc=0
    timeout -k 5 "$limit" "$SMKI_BIN" run --home "$T" --drain >"timing-$n.log" 2>&1 || rc=$?
    secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
    cat "timing-$n.log" >>timing.log
    echo "  $n: exit $rc, $secs s"
    san=$(grep -E -m1 "$SAN_RE" "timing-$n.log" || true)
    [ -z "$san" ] || soft_fail "$n alone: sanitizer report: $san"
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        soft_fail "$n alone: not answered within $limit s (baseline $base s + budget $BUDGET s): a single file stalls intake"
        rm -rf "${T:?}/spool/incoming/$n"
    elif [ "$rc" -ne 0 ]; then
        soft_fail "$n alone: run --drain exited $rc"
        rm -rf "${T:?}/spool/incoming/$n"
    elif awk -v s="$secs" -v b="$base" -v x="$BUDGET" 'BEGIN { exit !(s > b + x) }'; then
        soft_fail "$n alone: took $secs s (baseline $base s + budget $BUDGET s)"
    fi
done <"$C/timing.lst"

finish "hostile corpus: every case answered as expected"
