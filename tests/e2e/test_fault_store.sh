#!/usr/bin/env bash
# test_fault_store.sh - a RocksDB store (HOME/db) that will not open: `run
# --drain` must exit 1 with a message naming HOME/db, and touch nothing in the
# spool (the file in incoming/ stays, no receipt, no archive, nothing
# rejected); and it must never quietly make a new, empty store in place of a
# damaged one (the turn counter, the queue and the issued-key index would be
# lost).  Once the fault is undone, the same `run --drain` takes the file as
# the next turn.
# Faults: garbage in db/CURRENT; db/CURRENT removed; db/ moved away; the
# MANIFEST overwritten with garbage; db/LOCK held by another process (a plain
# fcntl lock, and a running `run`); db/CURRENT unreadable (chmod 000, run as
# an unprivileged user: root reads anything).
. "$(dirname "$0")/lib.sh"

make_batch b0.xml 5 "$PARTY_A" S0
make_batch b1.xml 5 "$PARTY_A" S1 --expect b1.tsv

# a home that has processed one batch (turn 1), with S1 waiting in incoming/
setup() {   # DIR
    rm -rf "$1"
    new_home "$1"
    add_party "$1" "$PARTY_A" ACME
    drop "$1" b0.xml
    drain "$1" "$1.setup.log"
    assert_receipt_field "$1" b0 Turn 1
    drop "$1" b1.xml
}
snapshot() {    # HOME: every spool entry with its size and content hash
    (cd "$1/spool" && find . -mindepth 1 -printf '%y %p %s\n' | sort && find . -type f -exec md5sum {} + | sort)
}

# faulty_run HOME WHAT [RUNNER...]: run --drain on the broken store
faulty_run() {
    local home=$1 what=$2 rc=0
    shift 2
    snapshot "$home" >before.snap
    "$@" timeout 30 "$SMKI_BIN" run --home "$home" --drain >"fault-$what.log" 2>&1 || rc=$?
    sed 's/^/    | /' "fault-$what.log" | head -n 4
    [ $rc != 124 ] || soft_fail "$what: run --drain hung (30 s) on a store that will not open"
    [ $rc = 1 ] || soft_fail "$what: run --drain exited $rc, expected 1"
    grep -q "$home/db" "fault-$what.log" || soft_fail "$what: the message does not name $home/db: $(head -n 2 "fault-$what.log" | tr '\n' ' ')"
    snapshot "$home" >after.snap
    if ! cmp -s before.snap after.snap; then
        soft_fail "$what: the spool was touched: $(diff before.snap after.snap | grep '^[<>]' | head -n 4 | tr '\n' ' ')"
    fi
    [ -f "$home/spool/incoming/b1.xml" ] || soft_fail "$what: b1.xml left incoming/"
    [ ! -e "$(receipt_path "$home" b1)" ] || soft_fail "$what: b1 got a receipt: $(xfield "$(receipt_path "$home" b1)" Status) $(xfield "$(receipt_path "$home" b1)" Turn) $(xfield "$(receipt_path "$home" b1)" ErrorCode)"
}
# healed_run HOME WHAT [RUNNER...]: after undoing the fault, S1 is taken as turn 2
healed_run() {
    local home=$1 what=$2 rc=0
    shift 2
    "$@" timeout 60 "$SMKI_BIN" run --home "$home" --drain >"healed-$what.log" 2>&1 || rc=$?
    [ $rc = 0 ] || { soft_fail "$what: after undoing the fault run --drain exited $rc: $(grep -v ' info: ' "healed-$what.log" | head -n 2 | tr '\n' ' ')"; return; }
    [ "$(receipt_field "$home" b1 Turn)" = 2 ] || soft_fail "$what: after undoing the fault S1 is turn '$(receipt_field "$home" b1 Turn)', expected 2"
    python3 "$CHECK_RESPONSE" "$(response_path "$home" "$PARTY_A" S1)" b1.tsv >/dev/null 2>&1 || soft_fail "$what: S1 not answered after undoing the fault"
}

step "garbage in db/CURRENT"
H=$PWD/H1; setup "$H"
cp "$H/db/CURRENT" current.saved
echo "garbage-not-a-manifest" >"$H/db/CURRENT"
faulty_run "$H" garbage-current
cp current.saved "$H/db/CURRENT"
healed_run "$H" garbage-current

step "db/CURRENT removed (must not become a new, empty store)"
H=$PWD/H2; setup "$H"
mv "$H/db/CURRENT" current.saved
faulty_run "$H" missing-current
[ ! -e "$H/db/CURRENT" ] || soft_fail "missing-current: run created a new db/CURRENT (a new store over the old one)"
mv -f current.saved "$H/db/CURRENT"
healed_run "$H" missing-current

step "db/ moved away (must not become a new, empty store)"
H=$PWD/H3; setup "$H"
mv "$H/db" "$H/db.away"
faulty_run "$H" missing-db
[ ! -e "$H/db/CURRENT" ] || soft_fail "missing-db: run created a new, empty store in $H/db"
# nor any trace: an operator's 'mv db.away db' would then move it INTO db/
[ ! -e "$H/db" ] || soft_fail "missing-db: the failed run created $H/db ($(ls -A "$H/db" | tr '\n' ' '))"
rm -rf "$H/db"
mv "$H/db.away" "$H/db"
healed_run "$H" missing-db

step "the MANIFEST overwritten with garbage"
H=$PWD/H4; setup "$H"
m=$(cd "$H/db" && cat CURRENT | tr -d '\n')
[ -f "$H/db/$m" ] || fail "no manifest $m in $H/db"
cp "$H/db/$m" manifest.saved
head -c "$(stat -c %s "$H/db/$m")" /dev/urandom >"$H/db/$m"
faulty_run "$H" corrupt-manifest
cp manifest.saved "$H/db/$m"
healed_run "$H" corrupt-manifest

step "db/LOCK held by another process (fcntl)"
H=$PWD/H5; setup "$H"
python3 -c '
import fcntl, sys, time
f = open(sys.argv[1], "r+")
fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
print("locked", flush=True)
time.sleep(60)' "$H/db/LOCK" >locker.out 2>&1 &
LOCKER=$!
for ((i = 0; i < 50; i++)); do grep -q locked locker.out && break; sleep 0.1; done
grep -q locked locker.out || fail "cannot lock $H/db/LOCK: $(cat locker.out)"
faulty_run "$H" locked
grep -qi 'lock' fault-locked.log || soft_fail "locked: the message does not say the store is locked by another process"
kill "$LOCKER"; wait "$LOCKER" 2>/dev/null
healed_run "$H" locked

step "a running 'run' holds the store; a second 'run --drain' must refuse"
H=$PWD/H6; setup "$H"
mv "$H/spool/incoming/b1.xml" b1.held     # the daemon would take it
start_daemon "$H" daemon6.log SMKI_NOW=2026-11-23T12:00:00Z
for ((i = 0; i < 50; i++)); do grep -q 'watching' daemon6.log && break; sleep 0.1; done
grep -q 'watching' daemon6.log || fail "the daemon did not start: $(tail -n 3 daemon6.log)"
rc=0
timeout 30 "$SMKI_BIN" run --home "$H" --drain >second.log 2>&1 || rc=$?
sed 's/^/    | /' second.log | head -n 3
[ $rc = 1 ] || soft_fail "second run: exited $rc while another run holds the store, expected 1"
grep -q "$H/db" second.log || soft_fail "second run: the message does not name $H/db: $(head -n 1 second.log)"
grep -qi 'lock\|another' second.log || soft_fail "second run: the message does not say another process holds the store"
kill -0 "$DAEMON_PID" 2>/dev/null || soft_fail "second run: the first run died"
stop_daemon 10
[ "$DAEMON_RC" = 0 ] || soft_fail "second run: the first run exited $DAEMON_RC on SIGTERM"

step "db/CURRENT unreadable (chmod 000; run as an unprivileged user)"
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
    echo "(skipped: needs root and setpriv)"
else
    D=$(mktemp -d /tmp/fault-store.XXXXXX)
    chmod 755 "$D"
    H=$D/H7; setup "$H"
    chown -R nobody: "$H"
    AS_NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
    "${AS_NOBODY[@]}" true 2>/dev/null || AS_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    # the binary must be reachable by that user: else a copy (with its schemas)
    BIN_SAVED=$SMKI_BIN
    if ! "${AS_NOBODY[@]}" test -x "$SMKI_BIN"; then
        mkdir -p "$D/bin" && cp "$SMKI_BIN" "$D/bin/" && cp -r "$SCHEMAS" "$D/schemas" && chmod -R a+rX "$D/bin" "$D/schemas"
        SMKI_BIN=$D/bin/$(basename "$SMKI_BIN")
    fi
    chmod 000 "$H/db/CURRENT"
    faulty_run "$H" unreadable-current env "${AS_NOBODY[@]}"
    chmod 644 "$H/db/CURRENT"
    healed_run "$H" unreadable-current env "${AS_NOBODY[@]}"
    SMKI_BIN=$BIN_SAVED
    rm -rf "$D"
fi

finish "store-fault checks passed"
