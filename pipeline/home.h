/* home.h - the home directory of SPEC.md section 2: where each thing lives.
 *
 *   HOME/smki-batch.conf  HOME/db/  HOME/ca/  HOME/spool/{incoming,receipts,
 *   responses,archive,rejected}/
 * home_open resolves --home / $SMKI_HOME / /var/lib/smki-batch, loads the
 * configuration (fatal on error, naming the line) and fills the paths.
 */
#ifndef SMKI_HOME_H
#define SMKI_HOME_H

#include <limits.h>

#include "config.h"

struct home {
    char root[PATH_MAX];
    char conf[PATH_MAX];
    char db[PATH_MAX];
    char ca[PATH_MAX];
    char incoming[PATH_MAX];
    char receipts[PATH_MAX];
    char responses[PATH_MAX];
    char archive[PATH_MAX];
    char rejected[PATH_MAX];
    char ca_cert[PATH_MAX];     /* from the config, made absolute */
    char ca_key[PATH_MAX];
    char schemas[PATH_MAX];     /* directory holding the XSDs */
    struct config cfg;
};

/* home_default - the --home value when none was given */
const char *home_default(void);

/* home_paths - fill the paths for root (no I/O) */
void home_paths(struct home *h, const char *root);

/* home_open - paths + configuration; 0 or -1 with err */
int home_open(struct home *h, const char *root, char *err, size_t errlen);

/* home_schema - path of one XSD ("batched-csr-request.xsd") */
void home_schema(const struct home *h, const char *name, char *out, size_t outlen);

#endif
