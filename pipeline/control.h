/* control.h - the operator's switches (SPEC.md section 1), kept as small
 * files under HOME/control/ so that they can be thrown while `run` holds the
 * store, and survive restarts:
 *   HOME/control/suspended            emergency suspension (SEC L2.14): its
 *                                     content is the time and the reason
 *   HOME/control/hold/PARTY16_BATCHID one queued batch kept out of processing
 * Written atomically (tmp, fsync, rename, dir fsync).  `run` looks at them
 * before each batch and between chunks, so a suspension or a hold takes
 * effect at the next chunk boundary: everything answered so far stays
 * committed, nothing more is issued.
 */
#ifndef SMKI_CONTROL_H
#define SMKI_CONTROL_H

#include <stddef.h>
#include <stdint.h>

/* control_suspended - 1 when suspended (reason, if not NULL, filled), 0 not */
int control_suspended(const char *home, char *reason, size_t cap);
/* control_suspend / control_resume - 0 or -errno */
int control_suspend(const char *home, const char *reason);
int control_resume(const char *home);

/* control_held - 1 when party+batch is held */
int control_held(const char *home, const uint8_t party[8], const char *batch_id);
int control_hold(const char *home, const uint8_t party[8], const char *batch_id);
int control_release(const char *home, const uint8_t party[8], const char *batch_id);

#endif
