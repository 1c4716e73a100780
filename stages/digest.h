/* digest.h - SHA-256 for the hot path.
 *
 * OpenSSL 3.0's one-shot SHA256() looks the algorithm up by name on every
 * call (a global read lock, string compares, an allocation): about 0.45 us
 * for 65 octets, against 0.25 us with the algorithm fetched once.  The
 * pipeline hashes each request four to five times (key hash, request info,
 * subject key identifier, TBSCertificate, the profile check), on every
 * thread, so the lookup is done once per process here.  EVP_Digest also
 * allocates and frees a context (two allocations) per call; each thread
 * keeps one context instead and re-initialises it: 138 against 206 ns for
 * 65 octets, 229 against 307 ns for 300 (one core of the bench machine).
 *
 * Threads: safe from any thread.  State: the fetched algorithm, which lives
 * until exit, and one EVP_MD_CTX per thread that has hashed, freed when the
 * thread exits (a thread-specific key's destructor; the main thread's is
 * left to the process exit).  sha256 aborts (log-free, via abort()) only
 * if OpenSSL has no SHA-256 at all or cannot allocate a context.
 */
#ifndef SMKI_DIGEST_H
#define SMKI_DIGEST_H

#include <stddef.h>
#include <stdint.h>

/* sha256 - out = SHA-256(data[0..len)) */
void sha256(const void *data, size_t len, uint8_t out[32]);

#endif
