#!/usr/bin/env bash
# run_all.sh [NAME...] - the end-to-end tests: every tests/e2e/test_*.sh (or the
# named ones), each in a fresh temp dir under a timeout, summarised like cmocka.
#   SMKI_BIN    the binary under test (default build/smki-batch)
#   SMKI_BENCH  the directory holding gencsr (default build/bench)
#   E2E_TIMEOUT seconds per test (default 300)
#   E2E_KEEP=1  keep the temp dirs (they are kept anyway for failed tests)
set -u

E2E_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$E2E_DIR/../.." && pwd)
SMKI_BIN=${SMKI_BIN:-$REPO/build/smki-batch}
SMKI_BENCH=${SMKI_BENCH:-$REPO/build/bench}
case $SMKI_BIN in /*) ;; *) SMKI_BIN=$PWD/$SMKI_BIN ;; esac
case $SMKI_BENCH in /*) ;; *) SMKI_BENCH=$PWD/$SMKI_BENCH ;; esac
export SMKI_BIN SMKI_BENCH E2E_IN_RUNNER=1
unset SMKI_NOW SMKI_HOME E2E_WORK
TIMEOUT=${E2E_TIMEOUT:-300}

for f in "$SMKI_BIN" "$SMKI_BENCH/gencsr"; do
    if [ ! -x "$f" ]; then
        echo "[  ERROR   ] e2e: $f is not built (run make, or set SMKI_BIN / SMKI_BENCH)"
        exit 1
    fi
done
for tool in xmllint python3 openssl timeout; do
    command -v "$tool" >/dev/null || { echo "[  ERROR   ] e2e: $tool is not installed (make deps)"; exit 1; }
done

if [ $# -gt 0 ]; then
    tests=()
    for n in "$@"; do
        n=${n%.sh}
        n=${n#test_}
        tests+=("$E2E_DIR/test_$n.sh")
    done
else
    tests=("$E2E_DIR"/test_*.sh)
fi

elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

root=$(mktemp -d "${TMPDIR:-/tmp}/smki-e2e.XXXXXX")
passed=0
failed=()
start_all=$EPOCHREALTIME
echo "[==========] e2e: running ${#tests[@]} test(s) ($SMKI_BIN)"
for t in "${tests[@]}"; do
    name=$(basename "$t" .sh)
    dir=$root/$name
    mkdir -p "$dir"
    t0=$EPOCHREALTIME
    rc=0
    if [ ! -f "$t" ]; then
        echo "FAIL: no such test $t" >"$dir/log"
        rc=1
    else
        (cd "$dir" && E2E_WORK=$dir timeout -k 10 "$TIMEOUT" bash "$t") >"$dir/log" 2>&1 </dev/null || rc=$?
    fi
    secs=$(elapsed "$t0")
    # a sanitizer report in any log of the test (a daemon's, say) fails it too
    san=$(grep -rhE --include='*.log' --include=log -m1 \
        'ERROR: [A-Za-z]+Sanitizer|runtime error:|WARNING: ThreadSanitizer|SUMMARY: [A-Za-z]+Sanitizer' "$dir" 2>/dev/null | sort -u | head -n 3)
    if [ -n "$san" ] && [ "$rc" -eq 0 ]; then
        echo "FAIL: sanitizer report in the logs: $(echo "$san" | head -n 1)" >>"$dir/log"
        rc=1
    fi
    if [ "$rc" -eq 0 ]; then
        echo "[       OK ] $name ($secs s)"
        passed=$((passed + 1))
        [ -n "${E2E_KEEP:-}" ] || rm -rf "$dir"
    else
        reason=$(grep -m1 '^FAIL: ' "$dir/log" | cut -c7-)
        [ "$rc" -eq 124 ] && reason="timed out after $TIMEOUT s${reason:+ ($reason)}"
        [ -n "$reason" ] || reason="exited $rc"
        echo "[  FAILED  ] $name ($secs s): $reason"
        # the last lines of the log, without the sanitizers' shadow-memory legend
        grep -vE '^ *(=>)? *0x[0-9a-f]+:|^  [A-Z][A-Za-z ]+: +([0-9a-f]{2} ?)+$|^Shadow byte' "$dir/log" \
            | tail -n 12 | sed 's/^/    | /'
        [ -z "$san" ] || echo "$san" | sed 's/^/    | sanitizer: /'
        echo "    (work dir and full log: $dir)"
        failed+=("$name")
    fi
done
total=$(elapsed "$start_all")
echo "[==========] e2e: ${#tests[@]} test(s) run. ($total s)"
echo "[  PASSED  ] $passed test(s)."
if [ ${#failed[@]} -gt 0 ]; then
    echo "[  FAILED  ] ${#failed[@]} test(s), listed below:"
    for n in "${failed[@]}"; do echo "[  FAILED  ] $n"; done
    exit 1
fi
[ -n "${E2E_KEEP:-}" ] || rmdir "$root" 2>/dev/null
exit 0
