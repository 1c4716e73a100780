/* config.c - the settings table and the INI reader; see config.h. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum kind { K_LONG, K_HHMM, K_STR, K_OID, K_CUTOFF, K_TZ };

struct setting {
    const char *section, *name;
    enum kind kind;
    const char *def;          /* default, as written in the file */
    long min, max;            /* bounds for numbers */
    size_t off;               /* field in struct config */
    const char *help;
};

#define F(f) offsetof(struct config, f)
static const struct setting SETTINGS[] = {
    {"window", "timezone", K_TZ, "Europe/London", 0, 0, F(timezone), "zoneinfo name of the window's clock"},
    {"window", "start", K_HHMM, "20:00", 0, 0, F(window_start_min), "window opens, local HH:MM"},
    {"window", "end", K_HHMM, "08:00", 0, 0, F(window_end_min), "window closes, local HH:MM"},
    {"capacity", "nightly", K_LONG, "375000", 1, 100000000, F(nightly), "CSRs per night across all parties"},
    {"capacity", "party_allowance", K_LONG, "50000", 0, 100000000, F(party_allowance), "CSRs per party per rolling 24 h, plus uplift"},
    {"capacity", "after_cutoff", K_CUTOFF, "tonight", 0, 0, F(after_cutoff), "tonight | defer"},
    {"capacity", "assumed_rate", K_LONG, "5000", 1, 10000000, F(assumed_rate), "CSRs/s plan assumes until batches of 1,000+ CSRs have run"},
    {"limits", "max_file_bytes", K_LONG, "67108864", 1024, 1073741824, F(max_file_bytes), "largest request file taken"},
    {"limits", "max_csrs", K_LONG, "50000", 2, 50000, F(max_csrs), "most CSRs in one batch"},
    {"pipeline", "workers", K_LONG, "0", 0, 256, F(workers), "0 = one per online core"},
    {"ca", "certificate", K_STR, "ca/issuing-ca.pem", 0, 0, F(ca_certificate), "issuing CA certificate (PEM)"},
    {"ca", "key", K_STR, "ca/issuing-ca.key", 0, 0, F(ca_key), "issuing CA key: a PEM file now"},
    {"profile", "policy_oid", K_OID, "1.2.826.0.1.8641679.1.2.1.1", 0, 0, F(policy_oid), "Device Certificate Policy OID"},
    {"profile", "hw_type_oid", K_OID, "2.999.1", 0, 0, F(hw_type_oid), "hardwareModuleName hwType OID"},
    {"metrics", "textfile", K_STR, "metrics/smki-batch.prom", 0, 0, F(metrics_textfile), "Prometheus text file for node_exporter's textfile collector"},
};
#define NSETTINGS (sizeof SETTINGS / sizeof SETTINGS[0])

/* cfg_oid_valid - dotted decimal with at least two arcs */
int cfg_oid_valid(const char *oid)
{
    int arcs = 0;
    const char *p = oid;
    if (!(p[0] >= '0' && p[0] <= '2') || p[1] != '.')
        return 0;
    while (*p) {
        if (!isdigit((unsigned char)*p)) return 0;
        if (*p == '0' && isdigit((unsigned char)p[1])) return 0;  /* no leading zeros */
        int digits = 0;
        while (isdigit((unsigned char)*p)) { p++; digits++; }
        if (digits > 18) return 0;
        arcs++;
        if (*p == '.') {
            p++;
            if (!*p) return 0;
        }
    }
    if (arcs < 2) return 0;
    /* X.690: under arcs 0 and 1 the second arc is at most 39 */
    if (oid[0] != '2' && strtoul(oid + 2, NULL, 10) > 39) return 0;
    return 1;
}

/* set_value - parse one value into its field; 0 or -1 with err */
static int set_value(const struct setting *s, const char *v, struct config *cfg, char *err, size_t errlen)
{
    char *field = (char *)cfg + s->off;
    switch (s->kind) {
    case K_LONG: {
        char *end;
        errno = 0;
        long n = strtol(v, &end, 10);
        if (errno || end == v || *end || n < s->min || n > s->max) {
            snprintf(err, errlen, "[%s] %s = '%s': must be an integer from %ld to %ld",
                     s->section, s->name, v, s->min, s->max);
            return -1;
        }
        *(long *)field = n;
        return 0;
    }
    case K_HHMM: {
        int ok = strlen(v) == 5 && isdigit((unsigned char)v[0]) && isdigit((unsigned char)v[1]) && v[2] == ':' &&
                 isdigit((unsigned char)v[3]) && isdigit((unsigned char)v[4]);
        int h = ok ? (v[0] - '0') * 10 + (v[1] - '0') : -1, m = ok ? (v[3] - '0') * 10 + (v[4] - '0') : -1;
        if (!ok || h > 23 || m > 59) {
            snprintf(err, errlen, "[%s] %s = '%s': must be a local time HH:MM (00:00 to 23:59)",
                     s->section, s->name, v);
            return -1;
        }
        *(int *)field = h * 60 + m;
        return 0;
    }
    case K_CUTOFF:
        if (strcmp(v, "tonight") == 0) *(int *)field = AFTER_CUTOFF_TONIGHT;
        else if (strcmp(v, "defer") == 0) *(int *)field = AFTER_CUTOFF_DEFER;
        else {
            snprintf(err, errlen, "[%s] %s = '%s': must be 'tonight' or 'defer'", s->section, s->name, v);
            return -1;
        }
        return 0;
    case K_TZ: {
        char path[CFG_STR_MAX + 64];
        snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", v);
        struct stat zst;
        if (!*v || (strcmp(v, "UTC") != 0 && (strstr(v, "..") || v[0] == '/' || stat(path, &zst) != 0 ||
                                             !S_ISREG(zst.st_mode)))) {
            snprintf(err, errlen, "[%s] %s = '%s': no such time zone in /usr/share/zoneinfo "
                     "(a name such as Europe/London; install tzdata if it is missing)", s->section, s->name, v);
            return -1;
        }
        if (strlen(v) >= CFG_STR_MAX) return -1;
        strcpy(field, v);
        return 0;
    }
    case K_OID:
        if (!cfg_oid_valid(v) || strlen(v) >= CFG_STR_MAX) {
            snprintf(err, errlen, "[%s] %s = '%s': must be a dotted OID such as 2.999.1",
                     s->section, s->name, v);
            return -1;
        }
        /* fall through */
    case K_STR:
        if (!*v || strlen(v) >= CFG_STR_MAX) {
            snprintf(err, errlen, "[%s] %s: must be 1 to %d characters", s->section, s->name, CFG_STR_MAX - 1);
            return -1;
        }
        strcpy(field, v);
        return 0;
    }
    return -1;
}

/* cfg_defaults - every field from the table */
void cfg_defaults(struct config *cfg)
{
    char err[256];
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < NSETTINGS; i++)
        if (set_value(&SETTINGS[i], SETTINGS[i].def, cfg, err, sizeof err) != 0)
            abort();   /* a default outside its own bounds is a bug */
}

struct load_state {
    struct config *cfg;
    FILE *f;
    int line;
    int bad_section_line;       /* an unknown [section], even one with no keys */
    char bad_section[64];
    char err[512];
};

/* section_known - a section of the table */
static int section_known(const char *name)
{
    for (size_t i = 0; i < NSETTINGS; i++)
        if (strcmp(SETTINGS[i].section, name) == 0) return 1;
    return 0;
}

/* read_line - libinih's reader: fgets, watching [section] lines, because
 * inih reports a section only when a key follows it */
static char *read_line(char *str, int num, void *stream)
{
    struct load_state *st = stream;
    char *r = fgets(str, num, st->f);
    if (!r) return NULL;
    st->line++;
    const char *p = str;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '[' && !st->bad_section_line) {
        const char *end = strchr(p, ']');
        size_t n = end ? (size_t)(end - p - 1) : 0;
        char name[64];
        if (end && n < sizeof name) {
            memcpy(name, p + 1, n);
            name[n] = '\0';
            if (!section_known(name)) {
                st->bad_section_line = st->line;
                snprintf(st->bad_section, sizeof st->bad_section, "%s", name);
            }
        }
    }
    return r;
}

/* on_entry - libinih callback: find the key in the table */
static int on_entry(void *user, const char *section, const char *name, const char *value)
{
    struct load_state *st = user;
    int known_section = 0;
    for (size_t i = 0; i < NSETTINGS; i++) {
        if (strcmp(SETTINGS[i].section, section) != 0) continue;
        known_section = 1;
        if (strcmp(SETTINGS[i].name, name) == 0) {
            char err[512];
            if (set_value(&SETTINGS[i], value, st->cfg, err, sizeof err) == 0) return 1;
            if (!st->err[0]) snprintf(st->err, sizeof st->err, "%s", err);   /* inih reports the first line */
            return 0;
        }
    }
    if (st->err[0]) return 0;
    if (!known_section)
        snprintf(st->err, sizeof st->err, "unknown section [%s] (known: window, capacity, limits, pipeline, ca, profile, metrics)", section);
    else
    {
        char known[256] = "";
        size_t len = 0;
        for (size_t i = 0; i < NSETTINGS; i++)
            if (strcmp(SETTINGS[i].section, section) == 0 && len < sizeof known - 40)
                len += (size_t)snprintf(known + len, sizeof known - len, "%s%s", len ? ", " : "", SETTINGS[i].name);
        snprintf(st->err, sizeof st->err, "unknown key '%s' in [%s] (known there: %s)", name, section, known);
    }
    return 0;
}

/* cfg_load - defaults overlaid with the file */
int cfg_load(const char *path, struct config *cfg, char *err, size_t errlen)
{
    struct load_state st = {.cfg = cfg};
    cfg_defaults(cfg);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open configuration: %s (is --home right? run 'smki-batch init' first)",
                 path, strerror(errno));
        return -1;
    }
    st.f = f;
    int line = ini_parse_stream(read_line, &st, on_entry, &st);
    fclose(f);
    if (st.bad_section_line && (line == 0 || st.bad_section_line < line)) {
        snprintf(err, errlen, "%s:%d: unknown section [%s] (known: window, capacity, limits, pipeline, ca, profile, metrics)",
                 path, st.bad_section_line, st.bad_section);
        return -1;
    }
    if (line != 0) {
        if (!st.err[0])
            snprintf(st.err, sizeof st.err, "syntax error (expected [section] or key = value)");
        snprintf(err, errlen, "%s:%d: %s", path, line, st.err);
        return -1;
    }
    if (cfg->window_start_min == cfg->window_end_min) {
        snprintf(err, errlen, "%s: [window] start and end are equal: the window would be empty", path);
        return -1;
    }
    return 0;
}

/* cfg_write_default - the file init writes: every key, commented */
void cfg_write_default(FILE *out)
{
    const char *section = "";
    fprintf(out, "; smki-batch configuration (SPEC.md section 2). Every key is optional;\n"
                 "; the values below are the defaults.\n");
    for (size_t i = 0; i < NSETTINGS; i++) {
        const struct setting *s = &SETTINGS[i];
        if (strcmp(section, s->section) != 0) {
            fprintf(out, "%s[%s]\n", i ? "\n" : "", s->section);
            section = s->section;
        }
        fprintf(out, "%s = %s   ; %s\n", s->name, s->def, s->help);
    }
}

/* cfg_show - effective values */
void cfg_show(const struct config *cfg, FILE *out)
{
    const char *section = "";
    for (size_t i = 0; i < NSETTINGS; i++) {
        const struct setting *s = &SETTINGS[i];
        const char *field = (const char *)cfg + s->off;
        if (strcmp(section, s->section) != 0) {
            fprintf(out, "%s[%s]\n", i ? "\n" : "", s->section);
            section = s->section;
        }
        switch (s->kind) {
        case K_LONG: fprintf(out, "%s = %ld\n", s->name, *(const long *)field); break;
        case K_HHMM: fprintf(out, "%s = %02d:%02d\n", s->name, *(const int *)field / 60, *(const int *)field % 60); break;
        case K_CUTOFF: fprintf(out, "%s = %s\n", s->name, *(const int *)field ? "defer" : "tonight"); break;
        case K_STR: case K_OID: case K_TZ: fprintf(out, "%s = %s\n", s->name, field); break;
        }
    }
}
