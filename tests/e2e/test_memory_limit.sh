#!/usr/bin/env bash
# test_memory_limit.sh - the service within 512 MiB of virtual memory
# (`ulimit -v 524288` in a subshell, i.e. RLIMIT_AS: every mapping counts,
# reserved or not): a 50,000-CSR batch (gencsr) is accepted and answered in
# full with the right codes, and the whole hostile corpus (tests/hostile) is
# answered as tests/e2e/test_hostile.sh expects.  While the limited service
# runs its /proc/PID/maps is sampled; when it fails, the last sample is broken
# down (tests/hostile/vmmap.py: malloc arenas, thread stacks, libraries, ...)
# so that the failure says where the address space went.
#
#   MEMLIMIT_KB   the limit (default 524288 = 512 MiB); the test never loosens it
# A sanitizer build cannot run under an address-space limit (ASan/TSan reserve
# terabytes of shadow memory): with one, this test says so and passes.
. "$(dirname "$0")/lib.sh"
. "$REPO/tests/hostile/hostile_lib.sh"

LIMIT_KB=${MEMLIMIT_KB:-524288}
if [[ $(ldd "$SMKI_BIN" 2>/dev/null) =~ lib(a|t)san ]]; then
    echo "SKIP: $SMKI_BIN is a sanitizer build; ASan/TSan cannot run under ulimit -v"
    exit 0
fi

# limited RUN-TAG HOME SECONDS: run --drain under the limit, sampling its maps;
# sets LIM_RC, and LIM_HWM_KB to the peak resident set (the largest VmHWM
# sampled); on failure prints the breakdown of the last sample
limited() {
    local tag=$1 home=$2 secs=$3 pid i peak=0 vm
    LIM_HWM_KB=0
    ( ulimit -v "$LIMIT_KB" && exec "$SMKI_BIN" run --home "$home" --drain ) >"$tag.log" 2>&1 &
    pid=$!
    for ((i = 0; i < secs * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        if cp "/proc/$pid/maps" "$tag.maps.new" 2>/dev/null && cp "/proc/$pid/status" "$tag.status.new" 2>/dev/null \
            && [ -s "$tag.maps.new" ]; then
            mv "$tag.maps.new" "$tag.maps"
            mv "$tag.status.new" "$tag.status"
            # a process caught exiting (a zombie) has no Vm* lines: keep
            # the largest values seen, never an empty one
            vm=$(awk '/^VmPeak/ { print $2 }' "$tag.status")
            [ "${vm:-0}" -gt "$peak" ] && peak=$vm
            vm=$(awk '/^VmHWM/ { print $2 }' "$tag.status")
            [ "${vm:-0}" -gt "${LIM_HWM_KB:-0}" ] && LIM_HWM_KB=$vm
        fi
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        LIM_RC=124
    else
        LIM_RC=0
        wait "$pid" || LIM_RC=$?
    fi
    echo "$tag: exit $LIM_RC, VmPeak $((peak / 1024)) MiB of the $((LIMIT_KB / 1024)) MiB limit, peak RSS $((${LIM_HWM_KB:-0} / 1024)) MiB"
    if [ "$LIM_RC" -ne 0 ]; then
        grep -aE 'bad_alloc|out of memory|Cannot allocate|cannot|fatal|panic|terminate|what\(\)' "$tag.log" | head -n 5
        if [ -s "$tag.maps" ]; then
            echo "$tag: address space at the last sample before the failure:"
            python3 "$REPO/tests/hostile/vmmap.py" "$tag.maps" "$tag.status" | sed 's/^/    /'
        fi
    fi
}

# --- 1. a 50,000-CSR batch -------------------------------------------------------
step "50,000 CSRs under ulimit -v $LIMIT_KB"
M=$PWD/M
new_home "$M"
add_party "$M" "$PARTY_A" "ACME"
make_batch big.xml 50000 "$PARTY_A" BIG-50000 --expect big.tsv --faults signature:3,key_offcurve:2,dup_key@10
drop "$M" big.xml
limited big "$M" 300
if [ "$LIM_RC" -ne 0 ]; then
    soft_fail "50,000 CSRs under ulimit -v $LIMIT_KB: run --drain exited $LIM_RC: $(grep -aE -m1 'bad_alloc|memory|fatal|panic|terminate|what\(\)' big.log | cut -c1-200)"
else
    assert_accepted "$M" big
    R=$(response_path "$M" "$PARTY_A" BIG-50000)
    if [ ! -f "$R" ]; then
        soft_fail "50,000 CSRs under the limit: no response $R"
    else
        python3 "$CHECK_RESPONSE" "$R" big.tsv >big.check 2>&1 || soft_fail "50,000 CSRs under the limit: $(tail -n 3 big.check | tr '\n' ' ')"
        tail -n 1 big.check
    fi
    # the run flushed the batch's records to table files before it exited:
    # no write-ahead log is left for every later command to replay
    wal=$(find "$M/db" -name '*.log' -size +0 | head -n 3)
    [ -z "$wal" ] || fail "run --drain left a write-ahead log to replay: $(cd "$M/db" && ls -l $wal)"
    # issue 7's memory target: peak RSS at most 128 MiB for 50,000 CSRs (44-46
    # MiB measured; sampled every 0.1 s, so the last tenth of a second before
    # the exit may go unseen)
    [ "${LIM_HWM_KB:-0}" -gt 0 ] || fail "50,000 CSRs: no resident-set sample was taken"
    [ "${LIM_HWM_KB:-0}" -le $((128 * 1024)) ] || fail "50,000 CSRs: peak RSS $((LIM_HWM_KB / 1024)) MiB, over 128 MiB"
fi

# --- 2. the hostile corpus ----------------------------------------------------------
step "the hostile corpus under ulimit -v $LIMIT_KB"
hostile_listener_start
C=$PWD/corpus
hostile_corpus "$C"
HC=$PWD/HC
new_home "$HC"
add_party "$HC" "$PARTY_A" "ACME hostile"
hostile_drop "$C" "$HC/spool/incoming"
limit_prefix() { ( ulimit -v "$LIMIT_KB" && exec "$@" ); }
hostile_drain "$HC" limited limit_prefix
if grep -qaE 'bad_alloc|out of memory|Cannot allocate memory' limited-drain.log; then
    soft_fail "the hostile corpus under ulimit -v $LIMIT_KB: allocation failures: $(grep -aE -m1 'bad_alloc|out of memory|Cannot allocate memory' limited-drain.log | cut -c1-200)"
fi
hostile_check "$C" "$HC" limited-drain.log
hostile_no_leak "$HC" limited-drain.log

finish "within $((LIMIT_KB / 1024)) MiB of virtual memory: 50,000 CSRs and the hostile corpus answered"
