/* main.c - smki-batch: the batch certificate service of the GB smart-metering
 * PKI.  Dispatches to the sub-commands of SPEC.md section 1 (pipeline/cmd_*.c).
 */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct command {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
};

static const struct command COMMANDS[] = {
    {"init", cmd_init, "create a home (db, spool, config) [--demo-ca]"},
    {"party", cmd_party, "party add --id EUI64 --name TEXT [--uplift N] | party list"},
    {"submit", cmd_submit, "drop a request file into the spool atomically [--wait]"},
    {"run", cmd_run, "the service: take files, queue, process [--drain]"},
    {"status", cmd_status, "the queue, or one batch [--json]"},
    {"fetch", cmd_fetch, "a party's response file for one batch"},
    {"lookup", cmd_lookup, "issued certificates by --serial or --device"},
    {"suspend", cmd_control, "emergency suspension: take and receipt, issue nothing --reason TEXT"},
    {"resume", cmd_control, "lift a suspension"},
    {"hold", cmd_control, "keep one queued batch out of processing --party P --batch B"},
    {"release", cmd_control, "let a held batch go on --party P --batch B"},
    {"config", cmd_config, "config check | config show: the configuration, strictly"},
    {"metrics", cmd_metrics, "Prometheus text metrics: print and write the textfile"},
    {"forecast", cmd_report, "forecast import FILE.csv: parties' monthly forecasts"},
    {"report", cmd_report, "report --month YYYY-MM [--format md|csv|json]: received vs forecast"},
    {"audit", cmd_audit, "audit verify: check the hash-chained audit log"},
    {"plan", cmd_plan, "the nightly capacity model applied to the queue [--at TIME] [--svg FILE]"},
};
#define NCOMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static void usage(FILE *out)
{
    fprintf(out, "usage: smki-batch COMMAND [--home DIR] [options]\n\n"
                 "The batch device-certificate service of the GB smart-metering PKI.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-8s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fprintf(out, "\n--home defaults to $SMKI_HOME, else /var/lib/smki-batch.\n"
                 "'smki-batch COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    /* glibc gives every thread that allocates an arena of 64 MiB of address
     * space; with a dozen threads that alone would break a 512 MiB ulimit -v.
     * Two arenas are plenty: the hot path does not allocate. */
    mallopt(M_ARENA_MAX, 2);
    /* blocks of 512 KiB and more (RocksDB's memtable arena blocks: a 4 MiB
     * memtable is eight) are mapped on their own and unmapped when freed.
     * glibc's default threshold starts at 128 KiB but rises to the size of
     * any mapped block freed (the archive's zstd buffers, ~10 MiB), after
     * which the memtables of a night came from the heap and left it
     * fragmented: peak RSS of a night 68-72 -> 59-66 MiB, CPU the same
     * (four nights on one home each, interleaved; README Memory).  128 KiB
     * also mapped the hot path's buffers: 50% more page faults */
    mallopt(M_MMAP_THRESHOLD, 512 << 10);
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(argv[1], COMMANDS[i].name) == 0)
            return COMMANDS[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "smki-batch: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
