#!/usr/bin/env python3
"""vmmap.py MAPS [STATUS] - where a process's virtual address space goes, from a
copy of /proc/PID/maps (and /proc/PID/status): what counts against
`ulimit -v` (RLIMIT_AS), by kind:

  malloc arenas   glibc's per-thread arenas: anonymous regions inside a
                  64 MiB-aligned 64 MiB reservation (HEAP_MAX_SIZE), the
                  reserved-but-unused part (---p) included
  thread stacks   anonymous rw-p regions of the default thread stack size
                  (8 MiB) right after a guard page
  libraries       file-backed mappings, by file
  [heap], [stack], io_uring rings, other anonymous mappings
"""
import collections
import re
import sys

ARENA = 64 << 20


def main():
    maps = sys.argv[1]
    status = sys.argv[2] if len(sys.argv) > 2 else None
    regions = []
    for ln in open(maps):
        p = ln.split(None, 5)
        a, b = (int(x, 16) for x in p[0].split("-"))
        name = p[5].strip() if len(p) > 5 else ""
        regions.append((a, b, p[1], name))
    total = sum(b - a for a, b, _, _ in regions)
    kinds = collections.Counter()
    count = collections.Counter()
    libs = collections.Counter()
    arenas = set()
    prev = None
    for a, b, perm, name in regions:
        size = b - a
        base = a & ~(ARENA - 1)
        if name == "" and (b - 1) & ~(ARENA - 1) == base and base != 0 and \
                any(x[0] == base and x[3] == "" for x in regions):
            kinds["malloc arenas"] += size
            arenas.add(base)
        elif name == "" and perm == "rw-p" and size == 8 << 20 and prev and prev[2] == "---p" and prev[1] == a:
            kinds["thread stacks (8 MiB)"] += size
            count["thread stacks (8 MiB)"] += 1
        elif name == "[heap]":
            kinds["[heap] (main arena)"] += size
        elif name == "[stack]":
            kinds["[stack]"] += size
        elif "io_uring" in name:
            kinds["io_uring rings"] += size
            count["io_uring rings"] += 1
        elif name.startswith("/"):
            kinds["libraries and files"] += size
            libs[re.sub(r".*/", "", name)] += size
        elif name == "" and perm == "---p" and size == 4096:
            kinds["guard pages"] += size
        else:
            kinds["other anonymous"] += size
        prev = (a, b, perm, name)
    count["malloc arenas"] = len(arenas)
    mib = lambda n: n / (1 << 20)
    print("mapped: %.1f MiB in %d regions" % (mib(total), len(regions)))
    if status:
        st = dict(l.split(":", 1) for l in open(status) if ":" in l)
        print("VmPeak %s, VmSize %s, VmRSS %s, threads %s" % tuple(
            st.get(k, "?").strip() for k in ("VmPeak", "VmSize", "VmRSS", "Threads")))
    for k, v in kinds.most_common():
        c = (" (%d)" % count[k]) if count[k] else ""
        print("  %-24s %8.1f MiB%s" % (k, mib(v), c))
    print("  largest files: " + ", ".join("%s %.1f MiB" % (n, mib(v)) for n, v in libs.most_common(4)))


main()
