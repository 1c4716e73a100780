/* sign.h - the signer: issues device certificates per SPEC.md section 4 with
 * the issuing CA key, wherever that key lives.
 *
 * One interface, two halves:
 *   struct signer        the CA: issuer name, CA key identifier, profile
 *                        (policy OID, hwType OID) and a pre-encoded
 *                        TBSCertificate template.  Opened once, read-only
 *                        after, shared by all workers.
 *   struct sign_session  one per worker thread: its own key handle/context
 *                        (a PKCS#11 session later), CSPRNG use, scratch.
 * Only signer_open_* knows where the key lives (a PEM file now; a PKCS#11 URI
 * later).  Nothing else in the program touches the CA key.
 *
 * Hot path (sign_request) allocates nothing of its own (OpenSSL's signature
 * object aside, freed at once): it patches serial, notBefore,
 * the SubjectPublicKeyInfo point, keyUsage bit, hwSerialNum and
 * subjectKeyIdentifier into a copy of the template, hashes and signs it.
 *
 * DIAGNOSTICS: signer_open_* fail with a message in err naming the file and
 * what to do.  sign_request returns 0, or -1 with req->code = RC_INTERNAL and
 * req->errtext set (it never blames the party).
 */
#ifndef SMKI_SIGN_H
#define SMKI_SIGN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "certpack.h"
#include "request.h"

struct sign_profile {
    const char *policy_oid;   /* dotted, e.g. "1.2.826.0.1.8641679.1.2.1.1" */
    const char *hw_type_oid;  /* dotted, e.g. "2.999.1" */
};

struct signer;
struct sign_session;

/* signer_open_file - load the CA certificate (PEM) and its P-256 private key
 * (PEM file).  Checks that the key matches the certificate and the CA has a
 * subjectKeyIdentifier.  NULL with err filled on failure. */
struct signer *signer_open_file(const char *cert_path, const char *key_path,
                                const struct sign_profile *profile,
                                char *err, size_t errlen);
void signer_close(struct signer *s);

/* signer_ca_der - the CA certificate, DER (for profile checks and verify) */
const uint8_t *signer_ca_der(const struct signer *s, size_t *len);

/* signer_cert_template - the shape every certificate of this signer has
 * (certpack.h), pointing into the signer: valid while it is open; 0, or -1
 * if the template is malformed (never, for a signer that opened) */
int signer_cert_template(const struct signer *s, struct cert_tmpl *out);

/* sign_session_new - per-thread session; NULL with err on failure */
struct sign_session *sign_session_new(struct signer *s, char *err, size_t errlen);
void sign_session_free(struct sign_session *ss);

/* sign_request - issue req's certificate (req->code must be RC_OK): draws a
 * fresh serial (16 octets, top bit clear, first octet non-zero) into
 * req->serial, writes the DER into req->cert/cert_len. notBefore = now. */
int sign_request(struct sign_session *ss, struct request *req, time_t now);

/* sign_new_serial - draw a fresh serial and re-issue (used when the writer
 * finds a serial already taken; astronomically rare, but checked) */
int sign_reissue(struct sign_session *ss, struct request *req, time_t now);

/* sign_check_cert - check a certificate against the profile for req: the
 * fields that vary (serial, point, usage bit, hwSerialNum, SKI, issuer, AKI)
 * and the fixed layout.  full != 0 adds an independent re-parse with
 * OpenSSL's d2i_X509 and a signature verify against the CA.  0 if it
 * conforms; -1 with a reason in err otherwise. */
int sign_check_cert(const struct signer *s, const struct request *req, int full,
                    char *err, size_t errlen);

/* sign_make_demo_ca - create a self-signed P-256 CA per SPEC section 1
 * (init --demo-ca): key written with mode 0600. 0 or -1 with err. */
int sign_make_demo_ca(const char *name, const char *cert_path, const char *key_path,
                      char *err, size_t errlen);

#endif
