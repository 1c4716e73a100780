/* cli.h - the sub-commands of SPEC.md section 1 and what they share.
 *
 * Each command is `int cmd_X(int argc, char **argv)` in pipeline/cmd_X.c,
 * with argv[0] the command name; it returns the process exit status:
 * 0 success, 1 operational failure, 2 usage error, others where SPEC says.
 * Every command takes --home DIR (default $SMKI_HOME, else
 * /var/lib/smki-batch) and --help.
 */
#ifndef SMKI_CLI_H
#define SMKI_CLI_H

#include "home.h"
#include "store.h"

#define EXIT_USAGE 2

int cmd_init(int argc, char **argv);
int cmd_party(int argc, char **argv);
int cmd_submit(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_fetch(int argc, char **argv);
int cmd_lookup(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_control(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_metrics(int argc, char **argv);
int cmd_report(int argc, char **argv);   /* report, forecast */   /* suspend, resume, hold, release */

/* cli_usage_error - "smki-batch CMD: msg" + "try --help"; returns 2 */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* cli_home_only - option parsing for a command whose only option is --home
 * (and --help): -1 to go on (with *root set and optind at the first
 * argument), else the exit status to return */
int cli_home_only(int argc, char **argv, const char *cmd, void (*help)(void), const char **root);

/* cli_open_home - home_open + timezone, printing the error; 0 or -1 */
int cli_open_home(struct home *h, const char *root);

/* cli_open_store - the store in the mode asked; NULL after printing why */
struct store *cli_open_store(const struct home *h, enum store_mode mode);

#endif
