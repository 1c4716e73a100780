/* config.h - HOME/smki-batch.conf (INI, SPEC.md section 2), read with libinih.
 *
 * One settings table (config.c) holds, for every key: section, name, kind,
 * default, bounds and the field it fills.  The same table parses the file,
 * reports "FILE:LINE: unknown key" / "out of range", writes the default file
 * at init and prints `config show`.  Every key is optional.
 * DIAGNOSTICS: cfg_load returns -1 with a message naming the file and line
 * and what is allowed; callers stop the program with it.
 */
#ifndef SMKI_CONFIG_H
#define SMKI_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#define CFG_STR_MAX 256

enum after_cutoff { AFTER_CUTOFF_TONIGHT = 0, AFTER_CUTOFF_DEFER = 1 };

struct config {
    char   timezone[CFG_STR_MAX];
    int    window_start_min;     /* minutes after local midnight */
    int    window_end_min;
    long   nightly;
    long   party_allowance;
    int    after_cutoff;
    long   assumed_rate;         /* CSRs/s the plan assumes before any history */
    long   max_file_bytes;
    long   max_csrs;
    long   workers;              /* 0 = online cores */
    char   ca_certificate[CFG_STR_MAX];  /* relative to the home unless absolute */
    char   ca_key[CFG_STR_MAX];
    char   policy_oid[CFG_STR_MAX];
    char   hw_type_oid[CFG_STR_MAX];
    char   metrics_textfile[CFG_STR_MAX];  /* Prometheus text file, relative to the home */
};

/* cfg_defaults - fill every field with its default */
void cfg_defaults(struct config *cfg);

/* cfg_load - defaults, then the file at path; 0, or -1 with err */
int cfg_load(const char *path, struct config *cfg, char *err, size_t errlen);

/* cfg_write_default - the commented default file (init) */
void cfg_write_default(FILE *out);

/* cfg_show - effective values, INI syntax */
void cfg_show(const struct config *cfg, FILE *out);

/* cfg_oid_valid - dotted OID syntax check (first arc 0..2, >= 2 arcs) */
int cfg_oid_valid(const char *oid);

#endif
