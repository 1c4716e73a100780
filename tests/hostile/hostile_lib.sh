# hostile_lib.sh - helpers shared by tests/e2e/test_hostile.sh and
# tests/e2e/test_memory_limit.sh (sourced after tests/e2e/lib.sh).
#
#   hostile_listener_start       a loopback TCP listener logging every connection
#                                to listener.log; sets HOSTILE_PORT
#   hostile_corpus DIR           tests/hostile/make_corpus.sh DIR $HOSTILE_PORT
#   hostile_drop CORPUS DEST     every case of CORPUS/expect.tsv into DEST, as itself
#   hostile_drain HOME TAG [PREFIX...]
#                                run --drain (under PREFIX, e.g. a ulimit wrapper),
#                                HOSTILE_TIMEOUT s (default 120), stopped early
#                                when spool/ shows no progress for HOSTILE_STALL s
#                                (default 60); when it hangs or
#                                dies while taking a file, that file (the oldest
#                                left in incoming/) is reported, set aside in
#                                quarantine-TAG/ and the drain run again.  Sets
#                                HOSTILE_SKIPS (the files set aside); logs in
#                                TAG-drain.log (all) and TAG-drain-N.log.
#   hostile_check CORPUS HOME LOG   tests/hostile/check_results.py; each problem
#                                becomes a soft_fail
#   hostile_no_leak HOME LOG     no connection to the listener, no /etc/passwd
#                                content under spool/ (archives decompressed)
#                                or in the log

HOSTILE=${HOSTILE:-$REPO/tests/hostile}
HOSTILE_SAN_RE='ERROR: [A-Za-z]+Sanitizer|runtime error:|SUMMARY: [A-Za-z]+Sanitizer|WARNING: [A-Za-z]+Sanitizer'

hostile_listener_start() {
    cat >listener.py <<'EOF'
import os, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(64)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
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
    rm -f listener.port
    : >listener.log
    python3 listener.py listener.port listener.log &
    HOSTILE_LISTENER_PID=$!
    trap '_hostile_cleanup' EXIT
    local i
    for i in $(seq 50); do [ -s listener.port ] && break; sleep 0.1; done
    HOSTILE_PORT=$(cat listener.port 2>/dev/null) || fail "the loopback listener did not start"
    # it works, so that "nothing connected" means something
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $HOSTILE_PORT)).close()" \
        || fail "cannot connect to the loopback listener on port $HOSTILE_PORT"
    for i in $(seq 20); do [ -s listener.log ] && break; sleep 0.1; done
    [ -s listener.log ] || fail "the loopback listener does not log connections"
    : >listener.log
}

_hostile_cleanup() {
    [ -n "${HOSTILE_LISTENER_PID:-}" ] && kill "$HOSTILE_LISTENER_PID" 2>/dev/null
    _e2e_cleanup
}

hostile_corpus() {  # DIR
    SMKI_BENCH=$SMKI_BENCH "$HOSTILE/make_corpus.sh" "$1" "${HOSTILE_PORT:-9}" >"$1.log" 2>&1 \
        || { cat "$1.log"; fail "make_corpus.sh failed"; }
    tail -n 1 "$1.log"
}

# the names of expect.tsv, unescaped (\t \n \033 \\)
hostile_names() {   # CORPUS
    grep -v '^#' "$1/expect.tsv" | cut -f1
}

hostile_drop_one() {    # CORPUS ESCAPED-NAME DEST
    local n
    n=$(printf '%b' "$2")
    # a hard-linked case gets one more link (a copy would have one); the rest as itself
    if [ -f "$1/$n" ] && [ ! -L "$1/$n" ] && [ "$(stat -c %h "$1/$n")" -gt 1 ]; then
        ln "$1/$n" "$3/$n"
    else
        cp -a "$1/$n" "$3/$n"
    fi
}

hostile_drop() {    # CORPUS DEST
    local n
    while IFS= read -r n; do
        hostile_drop_one "$1" "$n" "$2" || fail "cannot drop $n into $2"
    done < <(hostile_names "$1")
}

# the entry the service takes next: the oldest (mtime, then name) with a
# takeable name, in the order of pipeline/spool.c
hostile_next_takeable() {   # DIR
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

hostile_secs() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# the spool's state: what is in incoming/, how many receipts, the sizes of the
# response files (partial ones grow while a batch is processed)
hostile_spool_sig() {   # HOME
    { ls -A "$1/spool/incoming"; ls "$1/spool/receipts" | wc -l; ls -lA "$1/spool/responses"; } 2>/dev/null | md5sum
}

# hostile_kill_tree PID SIGNAL: the process and its descendants, by id
hostile_kill_tree() {
    local c
    for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do hostile_kill_tree "$c" "$2"; done
    kill "-$2" "$1" 2>/dev/null
}

# hostile_run_watched HOME LOG [PREFIX...]: run --drain under timeout
# HOSTILE_TIMEOUT; also stopped (exit 124) when the spool has not changed for
# HOSTILE_STALL seconds (default 60): a hang, told from a slow file sooner
hostile_run_watched() {
    local home=$1 log=$2 pid sig last now since rc=0
    shift 2
    "$@" timeout -k 5 "${HOSTILE_TIMEOUT:-120}" "$SMKI_BIN" run --home "$home" --drain >"$log" 2>&1 &
    pid=$!
    last=$(hostile_spool_sig "$home")
    since=$SECONDS
    while kill -0 "$pid" 2>/dev/null; do
        sleep 1
        now=$(hostile_spool_sig "$home")
        if [ "$now" != "$last" ]; then
            last=$now
            since=$SECONDS
        elif [ $((SECONDS - since)) -ge "${HOSTILE_STALL:-60}" ]; then
            echo "(no change in spool/ for ${HOSTILE_STALL:-60} s: stopping the drain)" >>"$log"
            hostile_kill_tree "$pid" KILL
            wait "$pid" 2>/dev/null
            return 124
        fi
    done
    wait "$pid" || rc=$?
    return $rc
}

HOSTILE_SKIPS=()
hostile_drain() {   # HOME TAG [PREFIX...]
    local home=$1 tag=$2 attempt=0 rc t0 secs san culprit what t_all=$EPOCHREALTIME
    shift 2
    HOSTILE_SKIPS=()
    : >"$tag-drain.log"
    while :; do
        attempt=$((attempt + 1))
        t0=$EPOCHREALTIME
        rc=0
        hostile_run_watched "$home" "$tag-drain-$attempt.log" "$@" || rc=$?
        secs=$(hostile_secs "$t0")
        cat "$tag-drain-$attempt.log" >>"$tag-drain.log"
        echo "$tag: drain attempt $attempt: exit $rc after $secs s"
        san=$(grep -E -m1 "$HOSTILE_SAN_RE" "$tag-drain-$attempt.log" || true)
        [ -z "$san" ] || soft_fail "$tag: sanitizer report during the drain: $san ($tag-drain-$attempt.log)"
        [ "$rc" -eq 0 ] && break
        if ! grep -qa 'draining the queue' "$tag-drain-$attempt.log"; then
            # it died before taking anything: no file to blame; try again
            soft_fail "$tag: run --drain exited $rc at startup, before intake: $(grep -aE -m2 'terminate|what\(\)|fatal|panic|cannot' "$tag-drain-$attempt.log" | tr '\n' ' ' | cut -c1-300)"
            [ "$attempt" -lt 6 ] || { soft_fail "$tag: giving up after $attempt drain attempts"; break; }
            continue
        fi
        culprit=$(hostile_next_takeable "$home/spool/incoming")
        if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
            what="did not finish (hang: no progress for ${HOSTILE_STALL:-60} s, or over ${HOSTILE_TIMEOUT:-120} s in all)"
        else
            what="exited $rc$( [ "$rc" -gt 128 ] && echo " (signal $((rc - 128)))")"
        fi
        if [ -z "$culprit" ]; then
            soft_fail "$tag: run --drain $what after intake, while processing: $(grep -aE -m1 'interrupted|panic|fatal|terminate|what\(\)|Sanitizer' "$tag-drain-$attempt.log" | cut -c1-400 || tail -n 1 "$tag-drain-$attempt.log")"
            break
        fi
        soft_fail "$tag: $culprit: run --drain $what while taking this file$( [ -n "$san" ] && echo ": $san")$(grep -aE -m1 'panic|fatal|terminate|what\(\)' "$tag-drain-$attempt.log" | sed 's/^/: /' | cut -c1-300)"
        HOSTILE_SKIPS+=("$culprit")
        mkdir -p "quarantine-$tag"
        mv "$home/spool/incoming/$culprit" "quarantine-$tag/" || break
        [ "$attempt" -lt 6 ] || { soft_fail "$tag: giving up after $attempt drain attempts"; break; }
    done
    echo "$tag: $attempt drain attempt(s), $(hostile_secs "$t_all") s in all"
}

hostile_check() {   # CORPUS HOME LOG
    local args=() s line ck=0
    for s in "${HOSTILE_SKIPS[@]}"; do args+=(--skip "$s"); done
    python3 "$HOSTILE/check_results.py" "$1" "$2" --log "$3" "${args[@]}" >"$3.check" 2>&1 || ck=$?
    tail -n 1 "$3.check"
    while IFS= read -r line; do
        case $line in checked\ *) ;; *) soft_fail "$line" ;; esac
    done <"$3.check"
    if [ "$ck" -ne 0 ] && ! grep -qv '^checked ' "$3.check"; then soft_fail "check_results.py exited $ck"; fi
}

hostile_no_leak() {     # HOME LOG
    local z
    if [ -s listener.log ]; then
        soft_fail "the service connected to the loopback URL: $(head -n 3 listener.log)"
    fi
    if grep -rlaF 'root:' "$1/spool" >leak.txt 2>/dev/null; then
        soft_fail "'root:' (from /etc/passwd) found under spool/: $(tr '\n' ' ' <leak.txt)"
    fi
    for z in "$1"/spool/archive/*.zst; do
        [ -e "$z" ] || continue
        if zstd -dcq "$z" | grep -qaF 'root:'; then soft_fail "'root:' in the archive $(basename "$z")"; fi
    done
    if grep -qaE 'root:[^ ]*:0:0' "$2"; then soft_fail "/etc/passwd content (root:...:0:0) in the service's log"; fi
    if grep -rqaF 'FETCHED' "$1/spool" "$2"; then soft_fail "the listener's answer reached spool/ or the log"; fi
}
