/* home.c - paths of the home and where the schemas are installed; see home.h. */
#include "home.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *home_default(void)
{
    const char *env = getenv("SMKI_HOME");
    return env && *env ? env : "/var/lib/smki-batch";
}

/* resolve - path relative to the home unless absolute */
static void resolve(char *out, const char *root, const char *p)
{
    if (p[0] == '/') snprintf(out, PATH_MAX, "%s", p);
    else snprintf(out, PATH_MAX, "%s/%s", root, p);
}

/* find_schemas - SMKI_SCHEMAS, else next to the binary (../schemas), else
 * /usr/local/share/smki-batch/schemas */
static void find_schemas(char *out)
{
    const char *env = getenv("SMKI_SCHEMAS");
    if (env && *env) {
        snprintf(out, PATH_MAX, "%s", env);
        return;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            char cand[PATH_MAX + 64];
            snprintf(cand, sizeof cand, "%s/../schemas/batched-csr-request.xsd", exe);
            if (access(cand, R_OK) == 0) {
                snprintf(out, PATH_MAX, "%.*s/../schemas", (int)(PATH_MAX - 12), exe);
                return;
            }
        }
    }
    snprintf(out, PATH_MAX, "/usr/local/share/smki-batch/schemas");
}

void home_paths(struct home *h, const char *root)
{
    memset(h, 0, sizeof *h);
    snprintf(h->root, sizeof h->root, "%s", root);
    size_t n = strlen(h->root);
    while (n > 1 && h->root[n - 1] == '/') h->root[--n] = '\0';
    resolve(h->conf, h->root, "smki-batch.conf");
    resolve(h->db, h->root, "db");
    resolve(h->ca, h->root, "ca");
    resolve(h->incoming, h->root, "spool/incoming");
    resolve(h->receipts, h->root, "spool/receipts");
    resolve(h->responses, h->root, "spool/responses");
    resolve(h->archive, h->root, "spool/archive");
    resolve(h->rejected, h->root, "spool/rejected");
    find_schemas(h->schemas);
    cfg_defaults(&h->cfg);
}

int home_open(struct home *h, const char *root, char *err, size_t errlen)
{
    home_paths(h, root);
    if (cfg_load(h->conf, &h->cfg, err, errlen) != 0) return -1;
    resolve(h->ca_cert, h->root, h->cfg.ca_certificate);
    resolve(h->ca_key, h->root, h->cfg.ca_key);
    return 0;
}

void home_schema(const struct home *h, const char *name, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s", h->schemas, name);
}
