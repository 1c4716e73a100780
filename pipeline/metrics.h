/* metrics.h - the service's state in the Prometheus text format, written
 * atomically (tmp, fsync, rename) to [metrics] textfile for node_exporter's
 * textfile collector.  run writes it after every pass of its loop and after
 * every batch; `smki-batch metrics` writes it (and prints it) on demand.
 * Names follow Prometheus conventions: smki_batch_ prefix, base units,
 * _total for counters.
 */
#ifndef SMKI_METRICS_H
#define SMKI_METRICS_H

#include <stdio.h>
#include <time.h>

#include "home.h"
#include "store.h"

/* metrics_render - the exposition text into out; 0 or -1 (store error) */
int metrics_render(const struct home *h, struct store *st, time_t now, FILE *out);

/* metrics_write - render into the configured file atomically; 0 or -1 */
int metrics_write(const struct home *h, struct store *st, time_t now);

#endif
