/* digest.h - SHA-256 for the hot path.
 *
 * OpenSSL 3.0's one-shot SHA256() looks the algorithm up by name on every
 * call (a global read lock, string compares, an allocation): about 0.45 us
 * for 65 octets, against 0.25 us with the algorithm fetched once.  The
 * pipeline hashes each request four to five times (key hash, request info,
 * subject key identifier, TBSCertificate, the profile check), on every
 * thread, so the lookup is done once per process here.
 *
 * Threads: safe from any thread; no state but the fetched algorithm, which
 * lives until exit.  sha256 aborts (log-free, via abort()) only if OpenSSL
 * has no SHA-256 at all, which no supported build lacks.
 */
#ifndef SMKI_DIGEST_H
#define SMKI_DIGEST_H

#include <stddef.h>
#include <stdint.h>

/* sha256 - out = SHA-256(data[0..len)) */
void sha256(const void *data, size_t len, uint8_t out[32]);

#endif
