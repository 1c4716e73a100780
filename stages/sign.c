/* sign.c - the signer: issues SPEC.md section 4 device certificates from a
 * pre-encoded TBSCertificate template; see sign.h for the contract.
 *
 * DESIGN
 *   signer_open_file loads the CA certificate and its P-256 key once, checks
 *   them, and builds ONE TBSCertificate in DER with placeholder values.  Every
 *   device certificate has the same TBS length, so the six fields that vary
 *   (serial, notBefore, point, keyUsage bits, hwSerialNum, SKI) live at fixed
 *   offsets recorded in struct tmpl.  sign_request copies the template into the
 *   session's buffer, patches those bytes, hashes, signs the digest with the
 *   session's ecsign (its copy of the key and ECDSA nonces prepared 256 at a
 *   time, see ecsign.h) and writes Certificate ::= SEQUENCE {
 *   tbs, ecdsa-with-SHA256, BIT STRING } into req->cert.  Nothing of
 *   ours on the heap per certificate (OpenSSL's ECDSA_do_sign_ex returns an
 *   ECDSA_SIG, encoded and freed at once); no X509 object is built.
 *
 * THREADS
 *   struct signer is read-only after signer_open_file and shared by all
 *   workers.  A struct sign_session belongs to one thread at a time.
 *   sign_check_cert reads the signer only, so it may run anywhere.
 *
 * SERIAL NUMBERS
 *   16 octets from RAND_priv_bytes (a session draws them in 4 KiB blocks:
 *   one call costs about 1 us whatever its length, for the DRBG's lock and
 *   fork check; each octet is used once and wiped from the block when
 *   taken); the top bit of the first octet is
 *   cleared and, when that leaves it zero, the first octet alone is redrawn
 *   (rejection sampling: first octet uniform over 1..127, the other 15
 *   uniform), which keeps 16 content octets and about 127 bits of entropy.
 *
 * DIAGNOSTICS
 *   signer_open_file and sign_make_demo_ca: -1/NULL with a message naming the
 *   file and what to do.  sign_request: RC_INTERNAL with errtext (never the
 *   party's fault).  sign_check_cert: -1 with the first nonconformity found.
 *
 * SECURITY
 *   The CA key stays inside this file.  Demo CA keys are created 0600 with
 *   O_EXCL and never overwrite anything.
 */
#include "sign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certpack.h"
#include "der.h"
#include "digest.h"
#include "ecsign.h"
#include "xmem.h"

/* ---- fixed encodings ---------------------------------------------------- */

/* AlgorithmIdentifier ecdsa-with-SHA256 (1.2.840.10045.4.3.2), no parameters */
static const uint8_t ALG_ECDSA_SHA256[12] = {
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
/* id-ecPublicKey (1.2.840.10045.2.1) and prime256v1 (1.2.840.10045.3.1.7) */
static const uint8_t OID_EC_PUBKEY[9] = {0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t OID_P256[10] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
/* id-ce-keyUsage, certificatePolicies, subjectAltName, SKI, AKI */
static const uint8_t OID_KU[5] = {0x06, 0x03, 0x55, 0x1d, 0x0f};
static const uint8_t OID_CP[5] = {0x06, 0x03, 0x55, 0x1d, 0x20};
static const uint8_t OID_SAN[5] = {0x06, 0x03, 0x55, 0x1d, 0x11};
static const uint8_t OID_SKI[5] = {0x06, 0x03, 0x55, 0x1d, 0x0e};
static const uint8_t OID_AKI[5] = {0x06, 0x03, 0x55, 0x1d, 0x23};
/* id-on-hardwareModuleName 1.3.6.1.5.5.7.8.4 (RFC 4108) */
static const uint8_t OID_HWMODNAME[10] = {0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x08, 0x04};
static const uint8_t BOOL_TRUE[3] = {0x01, 0x01, 0xff};
static const uint8_t VERSION_V3[3] = {0x02, 0x01, 0x02};
/* keyUsage BIT STRING contents (unused-bits octet, value): digitalSignature
 * is bit 0 -> 0x80 with 7 unused bits; keyAgreement is bit 4 -> 0x08 with 3 */
static const uint8_t KU_BITS_DS[2] = {0x07, 0x80};
static const uint8_t KU_BITS_KA[2] = {0x03, 0x08};
static const char NOT_AFTER[] = "99991231235959Z";

#define UTCTIME_LEN  13
#define SIG_MAX      72          /* DER ECDSA-Sig-Value for P-256, at most */
#define OID_MAX      64          /* content octets of a configured OID */
#define TBS_MAX      (REQ_CERT_MAX - 4 - sizeof ALG_ECDSA_SHA256 - 3 - SIG_MAX)

/* the fields of the template that vary per certificate, in TBS order */
enum mark { MK_NONE = 0, MK_SERIAL, MK_NOTBEFORE, MK_POINT, MK_KU, MK_HWSERIAL, MK_SKI, MK_COUNT };
static const size_t MARK_LEN[MK_COUNT] = {
    [MK_SERIAL] = 16, [MK_NOTBEFORE] = UTCTIME_LEN, [MK_POINT] = 65,
    [MK_KU] = 2, [MK_HWSERIAL] = 8, [MK_SKI] = 8};

struct tmpl {
    uint8_t *tbs;                 /* the template, placeholders in the marks */
    size_t   len;
    size_t   off[MK_COUNT];       /* offset of each varying field in tbs */
};

struct signer {
    X509     *ca;
    EVP_PKEY *key;                /* the issuing key (software, for now) */
    EVP_PKEY *ca_pub;             /* X509_get0_pubkey(ca): not owned */
    uint8_t  *ca_der;
    size_t    ca_der_len;
    const uint8_t *subject;       /* CA subject Name DER, inside ca_der */
    size_t    subject_len;
    uint8_t   ski[64];            /* CA subjectKeyIdentifier */
    size_t    ski_len;
    uint8_t   policy_oid[OID_MAX], hw_type_oid[OID_MAX];   /* OID contents */
    size_t    policy_oid_len, hw_type_oid_len;
    char     *policy_txt, *hw_type_txt;
    struct tmpl t;
};

/* ECDSA nonces prepared per batch by each session (ecsign.h): 256 share
 * two inversions; a batch takes about 2 ms to prepare on one core */
#define NONCE_BATCH 256

/* randomness for serials, drawn from the DRBG a block at a time */
#define RAND_BLOCK 4096
struct rand_pool {
    size_t  pos;                  /* next unused octet; RAND_BLOCK: empty */
    uint8_t buf[RAND_BLOCK];
};

struct sign_session {
    struct signer *s;
    struct rand_pool rnd;         /* serial octets */
    struct ecsign *es;            /* the key's copy and prepared nonces */
    time_t         t_now;         /* last 'now' formatted, and its text */
    int            t_valid;
    char           t_text[UTCTIME_LEN + 1];
    uint8_t        tbs[];         /* t.len octets */
};

/* ---- small helpers ------------------------------------------------------ */

/* fail - format err; returns -1 for "return fail(...)" */
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ossl_reason - the last OpenSSL error as text (clears the queue) */
static const char *ossl_reason(char *buf, size_t len)
{
    unsigned long e = ERR_peek_last_error();
    if (e == 0)
        snprintf(buf, len, "no OpenSSL detail");
    else
        ERR_error_string_n(e, buf, len);
    ERR_clear_error();
    return buf;
}

/* oid_encode - dotted text to OID content octets; 0, or -1 if malformed
 * (fewer than two arcs, first arc > 2, second arc > 39 under 0 or 1, empty
 * arcs, leading zeros, non-digits, arcs beyond 64 bits, too long) */
static int oid_encode(const char *txt, uint8_t *out, size_t cap, size_t *outlen)
{
    uint64_t arcs[OID_MAX];
    size_t narcs = 0, n = 0;
    const char *p = txt;
    if (!txt || !*txt)
        return -1;
    for (;;) {
        uint64_t v = 0;
        const char *start = p;
        while (*p >= '0' && *p <= '9') {
            uint64_t d = (uint64_t)(*p - '0');
            if (v > (UINT64_MAX - d) / 10)
                return -1;
            v = v * 10 + d;
            p++;
        }
        if (p == start || (*start == '0' && p - start > 1) || narcs == OID_MAX)
            return -1;
        arcs[narcs++] = v;
        if (*p == '\0')
            break;
        if (*p != '.')
            return -1;
        p++;
    }
    if (narcs < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] > 39) ||
        arcs[1] > UINT64_MAX - 80)
        return -1;
    arcs[1] += arcs[0] * 40;
    for (size_t i = 1; i < narcs; i++) {
        uint8_t tmp[10];
        size_t k = 0;
        uint64_t v = arcs[i];
        do {
            tmp[k++] = (uint8_t)(v & 0x7f);
            v >>= 7;
        } while (v);
        if (n + k > cap)
            return -1;
        while (k--)
            out[n++] = (uint8_t)(tmp[k] | (k ? 0x80 : 0));
    }
    *outlen = n;
    return 0;
}

/* utctime_format - YYMMDDHHMMSSZ for t; -1 outside 1950..2049 */
static int utctime_format(time_t t, char out[UTCTIME_LEN + 1])
{
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return -1;
    int year = tm.tm_year + 1900;
    if (year < 1950 || year > 2049)
        return -1;
    int v[6] = {year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec};
    for (int i = 0; i < 6; i++) {
        out[2 * i] = (char)('0' + v[i] / 10 % 10);
        out[2 * i + 1] = (char)('0' + v[i] % 10);
    }
    out[12] = 'Z';
    out[13] = '\0';
    return 0;
}

/* rand_take - n fresh octets from pool (refilled when short), or straight
 * from the DRBG when pool is NULL; 0 or -1 */
static int rand_take(struct rand_pool *pool, uint8_t *out, size_t n)
{
    if (!pool)
        return RAND_priv_bytes(out, (int)n) == 1 ? 0 : -1;
    if (RAND_BLOCK - pool->pos < n) {
        if (RAND_priv_bytes(pool->buf, RAND_BLOCK) != 1)
            return -1;
        pool->pos = 0;
    }
    memcpy(out, pool->buf + pool->pos, n);
    OPENSSL_cleanse(pool->buf + pool->pos, n);
    pool->pos += n;
    return 0;
}

/* draw_serial - 16 octets, top bit clear, first octet non-zero (see top) */
static int draw_serial(struct rand_pool *pool, uint8_t serial[16])
{
    if (rand_take(pool, serial, 16))
        return -1;
    serial[0] &= 0x7f;
    while (serial[0] == 0) {
        if (rand_take(pool, serial, 1))
            return -1;
        serial[0] &= 0x7f;
    }
    return 0;
}

/* key_id8 - leftmost 8 octets of SHA-256 of the 65 point octets (RFC 7093 m1) */
static void key_id8(const uint8_t point[65], uint8_t out[8])
{
    uint8_t md[32];
    sha256(point, 65, md);
    memcpy(out, md, 8);
}

/* ---- the template builder: a small DER tree, encoded once ---------------- */

struct dnode {
    uint8_t tag;              /* 0: raw pre-encoded bytes, no header of ours */
    int     cons;             /* constructed: content is the kids */
    const uint8_t *data;      /* primitive content / raw bytes; NULL: zeros */
    size_t  len;
    enum mark mark;           /* primitive whose content varies */
    struct dnode *kid[8];
    int     nkid;
};

struct dpool {
    struct dnode n[64];       /* the profile needs 51 */
    int used;
};

/* dn_new - a zeroed node from the pool (the pool is sized for the profile) */
static struct dnode *dn_new(struct dpool *p)
{
    if (p->used == (int)(sizeof p->n / sizeof p->n[0])) {
        fprintf(stderr, "smki-batch: panic: sign.c template pool too small\n");
        abort();
    }
    struct dnode *d = &p->n[p->used++];
    memset(d, 0, sizeof *d);
    return d;
}

/* dn_prim - primitive TLV with given content (NULL data: len zero octets) */
static struct dnode *dn_prim(struct dpool *p, uint8_t tag, const void *data, size_t len,
                             enum mark mark)
{
    struct dnode *d = dn_new(p);
    d->tag = tag;
    d->data = data;
    d->len = len;
    d->mark = mark;
    return d;
}

/* dn_raw - bytes already DER-encoded, inserted as they are */
static struct dnode *dn_raw(struct dpool *p, const void *data, size_t len)
{
    return dn_prim(p, 0, data, len, MK_NONE);
}

/* dn_cons - constructed TLV of the NULL-terminated list of children */
static struct dnode *dn_cons(struct dpool *p, int tag, ...)   /* int: va_start needs a promoted type */
{
    struct dnode *d = dn_new(p), *k;
    va_list ap;
    d->tag = (uint8_t)tag;
    d->cons = 1;
    va_start(ap, tag);
    while ((k = va_arg(ap, struct dnode *)) != NULL)
        d->kid[d->nkid++] = k;
    va_end(ap);
    return d;
}

static size_t dn_len(const struct dnode *d);

/* dn_content_len - content octets of a node */
static size_t dn_content_len(const struct dnode *d)
{
    size_t n = 0;
    if (!d->cons)
        return d->len;
    for (int i = 0; i < d->nkid; i++)
        n += dn_len(d->kid[i]);
    return n;
}

/* dn_len - total encoded octets of a node */
static size_t dn_len(const struct dnode *d)
{
    size_t c = dn_content_len(d);
    return d->tag ? der_hdr_len(c) + c : c;
}

/* dn_emit - encode d at out + *pos, recording marked offsets */
static void dn_emit(const struct dnode *d, uint8_t *out, size_t *pos, size_t off[MK_COUNT])
{
    if (d->tag)
        *pos += der_put_hdr(out + *pos, d->tag, dn_content_len(d));
    if (d->cons) {
        for (int i = 0; i < d->nkid; i++)
            dn_emit(d->kid[i], out, pos, off);
        return;
    }
    if (d->mark)
        off[d->mark] = *pos;
    if (d->data)
        memcpy(out + *pos, d->data, d->len);
    else
        memset(out + *pos, 0, d->len);
    *pos += d->len;
}

/* tmpl_build - encode the SPEC section 4 TBSCertificate for signer s */
static int tmpl_build(struct signer *s, char *err, size_t errlen)
{
    static const uint8_t serial_ph[16] = {0x01};
    static const uint8_t point_ph[65] = {0x04};
    struct dpool p;
    struct dnode *ext[5], *tbs;
    size_t pos = 0;

    p.used = 0;
    /* Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } */
    ext[0] = dn_cons(&p, 0x30, dn_raw(&p, OID_KU, 5), dn_raw(&p, BOOL_TRUE, 3),
                     dn_cons(&p, 0x04, dn_prim(&p, 0x03, KU_BITS_DS, 2, MK_KU), NULL), NULL);
    ext[1] = dn_cons(&p, 0x30, dn_raw(&p, OID_CP, 5), dn_raw(&p, BOOL_TRUE, 3),
                     dn_cons(&p, 0x04,
                             dn_cons(&p, 0x30,                       /* certificatePolicies */
                                     dn_cons(&p, 0x30,               /* PolicyInformation */
                                             dn_prim(&p, 0x06, s->policy_oid,
                                                     s->policy_oid_len, MK_NONE),
                                             NULL),
                                     NULL),
                             NULL),
                     NULL);
    /* GeneralNames { otherName [0] IMPLICIT OtherName { type-id,
     *   value [0] EXPLICIT HardwareModuleName { hwType, hwSerialNum } } } */
    ext[2] = dn_cons(&p, 0x30, dn_raw(&p, OID_SAN, 5), dn_raw(&p, BOOL_TRUE, 3),
                     dn_cons(&p, 0x04,
                             dn_cons(&p, 0x30,
                                     dn_cons(&p, 0xa0, dn_raw(&p, OID_HWMODNAME, 10),
                                             dn_cons(&p, 0xa0,
                                                     dn_cons(&p, 0x30,
                                                             dn_prim(&p, 0x06, s->hw_type_oid,
                                                                     s->hw_type_oid_len, MK_NONE),
                                                             dn_prim(&p, 0x04, NULL, 8, MK_HWSERIAL),
                                                             NULL),
                                                     NULL),
                                             NULL),
                                     NULL),
                             NULL),
                     NULL);
    ext[3] = dn_cons(&p, 0x30, dn_raw(&p, OID_SKI, 5),
                     dn_cons(&p, 0x04, dn_prim(&p, 0x04, NULL, 8, MK_SKI), NULL), NULL);
    ext[4] = dn_cons(&p, 0x30, dn_raw(&p, OID_AKI, 5),
                     dn_cons(&p, 0x04,
                             dn_cons(&p, 0x30, dn_prim(&p, 0x80, s->ski, s->ski_len, MK_NONE), NULL),
                             NULL),
                     NULL);
    tbs = dn_cons(&p, 0x30,
                  dn_cons(&p, 0xa0, dn_raw(&p, VERSION_V3, 3), NULL),
                  dn_prim(&p, 0x02, serial_ph, 16, MK_SERIAL),
                  dn_raw(&p, ALG_ECDSA_SHA256, sizeof ALG_ECDSA_SHA256),
                  dn_raw(&p, s->subject, s->subject_len),
                  dn_cons(&p, 0x30,
                          dn_prim(&p, 0x17, "500101000000Z", UTCTIME_LEN, MK_NOTBEFORE),
                          dn_prim(&p, 0x18, NOT_AFTER, 15, MK_NONE), NULL),
                  dn_cons(&p, 0x30, NULL),                          /* empty subject */
                  dn_cons(&p, 0x30,
                          dn_cons(&p, 0x30, dn_raw(&p, OID_EC_PUBKEY, 9), dn_raw(&p, OID_P256, 10),
                                  NULL),
                          dn_cons(&p, 0x03, dn_raw(&p, "", 1),   /* 0 unused bits */
                                  dn_prim(&p, 0, point_ph, 65, MK_POINT), NULL),
                          NULL),
                  dn_cons(&p, 0xa3,
                          dn_cons(&p, 0x30, ext[0], ext[1], ext[2], ext[3], ext[4], NULL), NULL),
                  NULL);
    s->t.len = dn_len(tbs);
    if (s->t.len > TBS_MAX)
        return fail(err, errlen,
                    "CA certificate: its subject name (%zu octets) makes device certificates "
                    "longer than %d octets; use a CA with a shorter subject",
                    s->subject_len, REQ_CERT_MAX);
    s->t.tbs = xmalloc(s->t.len);
    memset(s->t.off, 0, sizeof s->t.off);
    dn_emit(tbs, s->t.tbs, &pos, s->t.off);
    if (pos != s->t.len)
        return fail(err, errlen, "internal error: template length %zu != %zu", pos, s->t.len);
    return 0;
}

/* ---- the signer --------------------------------------------------------- */

/* no_passphrase - PEM callback: never prompt on a terminal */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf; (void)size; (void)rwflag; (void)u;
    return -1;
}

/* is_p256 - an EC key on prime256v1 */
static int is_p256(const EVP_PKEY *k)
{
    char group[64];
    size_t glen = 0;
    if (!k || !EVP_PKEY_is_a(k, "EC"))
        return 0;
    if (!EVP_PKEY_get_group_name(k, group, sizeof group, &glen))
        return 0;
    return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0;
}

/* ca_subject_locate - find the subject Name inside the CA certificate's DER */
static int ca_subject_locate(struct signer *s)
{
    struct der_cur top, cert, tbs;
    struct der_tlv subject;
    der_init(&top, s->ca_der, s->ca_der_len);
    if (der_enter(&top, DER_SEQUENCE, &cert, NULL) || der_enter(&cert, DER_SEQUENCE, &tbs, NULL))
        return -1;
    if (der_peek_tag(&tbs) == DER_CONTEXT_CONS(0) && der_expect(&tbs, DER_CONTEXT_CONS(0), NULL))
        return -1;                                          /* version */
    if (der_expect(&tbs, DER_INTEGER, NULL) ||              /* serialNumber */
        der_expect(&tbs, DER_SEQUENCE, NULL) ||             /* signature */
        der_expect(&tbs, DER_SEQUENCE, NULL) ||             /* issuer */
        der_expect(&tbs, DER_SEQUENCE, NULL) ||             /* validity */
        der_expect(&tbs, DER_SEQUENCE, &subject))           /* subject */
        return -1;
    s->subject = subject.start;
    s->subject_len = der_tlv_size(&subject);
    return 0;
}

/* read_pem_file - open path and read a certificate or private key from it */
static int read_pem_file(const char *path, const char *what, int is_key, X509 **cert,
                         EVP_PKEY **key, char *err, size_t errlen)
{
    char why[256];
    BIO *b = BIO_new_file(path, "r");
    if (!b) {
        int e = errno;
        ERR_clear_error();
        return fail(err, errlen, "%s %s: cannot open (%s); check [ca] %s in smki-batch.conf",
                    what, path, e ? strerror(e) : "unknown error", is_key ? "key" : "certificate");
    }
    if (is_key)
        *key = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
    else
        *cert = PEM_read_bio_X509(b, NULL, no_passphrase, NULL);
    BIO_free(b);
    if (is_key ? !*key : !*cert)
        return fail(err, errlen, "%s %s: no PEM %s could be read (%s); the file must hold an "
                    "unencrypted PEM %s", what, path, is_key ? "private key" : "certificate",
                    ossl_reason(why, sizeof why), is_key ? "private key (PKCS#8 or SEC1)" : "certificate");
    return 0;
}

/* signer_open_file - load and check the CA, build the TBS template */
struct signer *signer_open_file(const char *cert_path, const char *key_path,
                                const struct sign_profile *profile, char *err, size_t errlen)
{
    struct signer *s = xcalloc(1, sizeof *s);
    const ASN1_OCTET_STRING *ski;
    unsigned char *der = NULL;
    int n;

    if (!profile || !profile->policy_oid || !profile->hw_type_oid) {
        fail(err, errlen, "signer: profile without policy_oid or hw_type_oid");
        goto bad;
    }
    if (oid_encode(profile->policy_oid, s->policy_oid, OID_MAX, &s->policy_oid_len)) {
        fail(err, errlen, "[profile] policy_oid = \"%s\" is not a valid dotted OID "
             "(e.g. 1.2.826.0.1.8641679.1.2.1.1); fix smki-batch.conf", profile->policy_oid);
        goto bad;
    }
    if (oid_encode(profile->hw_type_oid, s->hw_type_oid, OID_MAX, &s->hw_type_oid_len)) {
        fail(err, errlen, "[profile] hw_type_oid = \"%s\" is not a valid dotted OID "
             "(e.g. 2.999.1); fix smki-batch.conf", profile->hw_type_oid);
        goto bad;
    }
    s->policy_txt = xstrdup(profile->policy_oid);
    s->hw_type_txt = xstrdup(profile->hw_type_oid);

    if (read_pem_file(cert_path, "CA certificate", 0, &s->ca, NULL, err, errlen) ||
        read_pem_file(key_path, "CA key", 1, NULL, &s->key, err, errlen))
        goto bad;
    s->ca_pub = X509_get0_pubkey(s->ca);
    if (!is_p256(s->ca_pub)) {
        fail(err, errlen, "CA certificate %s: its key is not EC P-256; device certificates "
             "are signed ecdsa-with-SHA256 by a P-256 CA", cert_path);
        goto bad;
    }
    if (!is_p256(s->key)) {
        fail(err, errlen, "CA key %s: not an EC P-256 private key", key_path);
        goto bad;
    }
    if (X509_check_private_key(s->ca, s->key) != 1) {
        ERR_clear_error();
        fail(err, errlen, "CA key %s does not match CA certificate %s; configure the key "
             "that belongs to this certificate", key_path, cert_path);
        goto bad;
    }
    if (X509_check_ca(s->ca) != 1 || (X509_get_extension_flags(s->ca) & EXFLAG_INVALID)) {
        ERR_clear_error();
        fail(err, errlen, "CA certificate %s: not a CA certificate (basicConstraints CA:TRUE "
             "and keyUsage keyCertSign needed), or its extensions are invalid", cert_path);
        goto bad;
    }
    ski = X509_get0_subject_key_id(s->ca);
    if (!ski || ski->length <= 0 || (size_t)ski->length > sizeof s->ski) {
        fail(err, errlen, "CA certificate %s: no usable subjectKeyIdentifier (needed for the "
             "device certificates' authorityKeyIdentifier); reissue the CA with one", cert_path);
        goto bad;
    }
    memcpy(s->ski, ski->data, (size_t)ski->length);
    s->ski_len = (size_t)ski->length;

    n = i2d_X509(s->ca, &der);
    if (n <= 0) {
        ERR_clear_error();
        fail(err, errlen, "CA certificate %s: cannot re-encode it", cert_path);
        goto bad;
    }
    s->ca_der = xmalloc((size_t)n);
    memcpy(s->ca_der, der, (size_t)n);
    s->ca_der_len = (size_t)n;
    OPENSSL_free(der);
    if (ca_subject_locate(s)) {
        fail(err, errlen, "CA certificate %s: cannot locate its subject name in the DER", cert_path);
        goto bad;
    }
    if (tmpl_build(s, err, errlen))
        goto bad;
    return s;
bad:
    signer_close(s);
    return NULL;
}

/* signer_close - release the signer (sessions must be gone) */
void signer_close(struct signer *s)
{
    if (!s)
        return;
    X509_free(s->ca);
    EVP_PKEY_free(s->key);
    free(s->ca_der);
    free(s->t.tbs);
    free(s->policy_txt);
    free(s->hw_type_txt);
    free(s);
}

/* signer_ca_der - the CA certificate, DER */
const uint8_t *signer_ca_der(const struct signer *s, size_t *len)
{
    *len = s->ca_der_len;
    return s->ca_der;
}

/* signer_cert_template - the shape of every certificate of this signer */
int signer_cert_template(const struct signer *s, struct cert_tmpl *out)
{
    memset(out, 0, sizeof *out);
    out->tbs = s->t.tbs;
    out->tbs_len = s->t.len;
    out->alg = ALG_ECDSA_SHA256;
    out->alg_len = sizeof ALG_ECDSA_SHA256;
    for (int m = MK_SERIAL; m < MK_COUNT; m++) {   /* by offset */
        size_t i = out->nfield++;
        for (; i > 0 && out->off[i - 1] > s->t.off[m]; i--) {
            out->off[i] = out->off[i - 1];
            out->len[i] = out->len[i - 1];
        }
        out->off[i] = s->t.off[m];
        out->len[i] = MARK_LEN[m];
    }
    return certpack_tmpl_id(out);
}

/* ---- sessions and the hot path ----------------------------------------- */

/* sign_session_new - a per-thread signing context and TBS buffer */
struct sign_session *sign_session_new(struct signer *s, char *err, size_t errlen)
{
    char why[256];
    struct sign_session *ss = xcalloc(1, sizeof *ss + s->t.len);
    ss->s = s;
    ss->rnd.pos = RAND_BLOCK;
    ss->es = ecsign_new(s->key, NONCE_BATCH, why, sizeof why);
    if (!ss->es) {
        fail(err, errlen, "signer: cannot set up a signing context (%s)", why);
        sign_session_free(ss);
        return NULL;
    }
    memcpy(ss->tbs, s->t.tbs, s->t.len);
    return ss;
}

/* sign_session_free - release a session */
void sign_session_free(struct sign_session *ss)
{
    if (!ss)
        return;
    ecsign_free(ss->es);
    OPENSSL_cleanse(&ss->rnd, sizeof ss->rnd);
    free(ss);
}

/* internal - mark req as failed inside the CA */
static int internal(struct request *req, const char *what)
{
    char why[120];
    req->code = RC_INTERNAL;
    snprintf(req->errtext, sizeof req->errtext, "signer: %s (%s)", what,
             ossl_reason(why, sizeof why));
    req->cert_len = 0;
    return -1;
}

/* sign_request - patch the template, hash, sign, assemble the Certificate */
int sign_request(struct sign_session *ss, struct request *req, time_t now)
{
    const struct tmpl *t = &ss->s->t;
    uint8_t md[32], sig[SIG_MAX + 8];
    size_t siglen = sizeof sig, content, pos;

    if (req->code != RC_OK)
        return -1;                      /* nothing to issue; code left as is */
    if (req->point[0] != 0x04 || (req->usage != USAGE_DS && req->usage != USAGE_KA))
        return internal(req, "request reached the signer without a valid point or usage");
    if (!ss->t_valid || ss->t_now != now) {
        if (utctime_format(now, ss->t_text))
            return internal(req, "time of issue outside UTCTime years 1950-2049");
        ss->t_now = now;
        ss->t_valid = 1;
    }
    if (draw_serial(&ss->rnd, req->serial))
        return internal(req, "CSPRNG failure drawing a serial number");

    memcpy(ss->tbs, t->tbs, t->len);
    memcpy(ss->tbs + t->off[MK_SERIAL], req->serial, 16);
    memcpy(ss->tbs + t->off[MK_NOTBEFORE], ss->t_text, UTCTIME_LEN);
    memcpy(ss->tbs + t->off[MK_POINT], req->point, 65);
    memcpy(ss->tbs + t->off[MK_KU], req->usage == USAGE_DS ? KU_BITS_DS : KU_BITS_KA, 2);
    memcpy(ss->tbs + t->off[MK_HWSERIAL], req->device, 8);
    memcpy(ss->tbs + t->off[MK_SKI], req->key_hash, 8);   /* = SHA-256(point), by validate; sign_check_cert recomputes it */

    sha256(ss->tbs, t->len, md);
    if (ecsign_sign(ss->es, md, sizeof md, sig, &siglen) || siglen > SIG_MAX)
        return internal(req, "ECDSA signing failed");

    /* Certificate ::= SEQUENCE { tbs, signatureAlgorithm, BIT STRING { 00 || sig } } */
    content = t->len + sizeof ALG_ECDSA_SHA256 + 3 + siglen;
    pos = der_put_hdr(req->cert, 0x30, content);
    memcpy(req->cert + pos, ss->tbs, t->len);
    pos += t->len;
    memcpy(req->cert + pos, ALG_ECDSA_SHA256, sizeof ALG_ECDSA_SHA256);
    pos += sizeof ALG_ECDSA_SHA256;
    req->cert[pos++] = 0x03;
    req->cert[pos++] = (uint8_t)(siglen + 1);
    req->cert[pos++] = 0x00;
    memcpy(req->cert + pos, sig, siglen);
    pos += siglen;
    req->cert_len = (uint16_t)pos;
    return 0;
}

/* sign_reissue - same request, fresh serial */
int sign_reissue(struct sign_session *ss, struct request *req, time_t now)
{
    return sign_request(ss, req, now);
}

/* ---- conformance checks ------------------------------------------------- */

/* check_der_int - a positive, minimally encoded INTEGER of 1..maxlen octets */
static int check_der_int(const uint8_t *c, size_t len, size_t maxlen)
{
    return der_integer_check(c, len) || len > maxlen || (c[0] & 0x80) ? -1 : 0;
}

/* check_utctime - YYMMDDHHMMSSZ with plausible field values */
static int check_utctime(const uint8_t *u)
{
    int v[6];
    for (int i = 0; i < 12; i++)
        if (u[i] < '0' || u[i] > '9')
            return -1;
    if (u[12] != 'Z')
        return -1;
    for (int i = 0; i < 6; i++)
        v[i] = (u[2 * i] - '0') * 10 + (u[2 * i + 1] - '0');
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 59)
        return -1;
    return 0;
}

/* check_cheap - the layout and every byte of the TBS against template and req */
static int check_cheap(const struct signer *s, const struct request *req, char *err,
                       size_t errlen)
{
    const struct tmpl *t = &s->t;
    const uint8_t *c, *tbs;
    uint8_t ski[8];
    size_t prev = 0;
    struct der_cur top, cert, bits, sig;
    struct der_tlv bs, r, sv;

    if (req->cert_len == 0 || req->cert_len > REQ_CERT_MAX)
        return fail(err, errlen, "certificate length %u out of range", req->cert_len);
    der_init(&top, req->cert, req->cert_len);
    if (der_enter(&top, DER_SEQUENCE, &cert, NULL) || der_finish(&top))
        return fail(err, errlen, "certificate: outer SEQUENCE malformed or trailing octets");
    if (der_left(&cert) < t->len + sizeof ALG_ECDSA_SHA256)
        return fail(err, errlen, "certificate shorter than the template");
    tbs = cert.p;
    /* fixed regions of the TBS: everything between the varying fields */
    for (int m = MK_SERIAL; m <= MK_COUNT; m++) {
        size_t upto = m < MK_COUNT ? t->off[m] : t->len;
        if (memcmp(tbs + prev, t->tbs + prev, upto - prev) != 0)
            return fail(err, errlen, "TBS differs from the template in octets %zu..%zu",
                        prev, upto - 1);
        if (m < MK_COUNT)
            prev = upto + MARK_LEN[m];
    }
    cert.p += t->len;
    if (memcmp(cert.p, ALG_ECDSA_SHA256, sizeof ALG_ECDSA_SHA256) != 0)
        return fail(err, errlen, "signatureAlgorithm is not ecdsa-with-SHA256");
    cert.p += sizeof ALG_ECDSA_SHA256;
    if (der_expect(&cert, DER_BIT_STRING, &bs) || der_finish(&cert) || bs.len < 2 || bs.val[0] != 0)
        return fail(err, errlen, "signatureValue BIT STRING malformed");
    der_init(&bits, bs.val + 1, bs.len - 1);
    if (der_enter(&bits, DER_SEQUENCE, &sig, NULL) || der_finish(&bits))
        return fail(err, errlen, "ECDSA-Sig-Value is not one SEQUENCE");
    if (der_expect(&sig, DER_INTEGER, &r) || check_der_int(r.val, r.len, 33) ||
        der_expect(&sig, DER_INTEGER, &sv) || check_der_int(sv.val, sv.len, 33) || der_finish(&sig))
        return fail(err, errlen, "ECDSA-Sig-Value: r and s must be two positive DER INTEGERs");
    /* the varying fields */
    c = tbs + t->off[MK_SERIAL];
    if (c[0] == 0 || (c[0] & 0x80))
        return fail(err, errlen, "serial: first octet must be 01..7F");
    if (memcmp(c, req->serial, 16) != 0)
        return fail(err, errlen, "serial differs from the request's");
    if (check_utctime(tbs + t->off[MK_NOTBEFORE]))
        return fail(err, errlen, "notBefore is not a valid UTCTime YYMMDDHHMMSSZ");
    if (memcmp(tbs + t->off[MK_POINT], req->point, 65) != 0 || req->point[0] != 0x04)
        return fail(err, errlen, "public key point differs from the request's");
    if ((req->usage != USAGE_DS && req->usage != USAGE_KA) ||
        memcmp(tbs + t->off[MK_KU], req->usage == USAGE_DS ? KU_BITS_DS : KU_BITS_KA, 2) != 0)
        return fail(err, errlen, "keyUsage does not match the requested usage");
    if (memcmp(tbs + t->off[MK_HWSERIAL], req->device, 8) != 0)
        return fail(err, errlen, "hwSerialNum differs from DeviceID");
    key_id8(req->point, ski);
    if (memcmp(tbs + t->off[MK_SKI], ski, 8) != 0)
        return fail(err, errlen, "subjectKeyIdentifier is not SHA-256(point)[0..8]");
    return 0;
}

/* ext_data_is - the extension's extnValue octets equal want */
static int ext_data_is(X509_EXTENSION *e, const uint8_t *want, size_t len)
{
    const ASN1_OCTET_STRING *d = X509_EXTENSION_get_data(e);
    return d && (size_t)d->length == len && memcmp(d->data, want, len) == 0;
}

/* obj_is_der - an ASN1_OBJECT whose content octets are oid[0..len) */
static int obj_is_der(const ASN1_OBJECT *o, const uint8_t *oid, size_t len)
{
    const unsigned char *d = o ? OBJ_get0_data(o) : NULL;
    return d && OBJ_length(o) == len && memcmp(d, oid, len) == 0;
}

/* check_san - SAN: exactly one otherName hardwareModuleName */
static int check_san(const struct signer *s, const struct request *req, X509 *x, char *err,
                     size_t errlen)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    STACK_OF(ASN1_TYPE) *seq = NULL;
    int rc = -1;
    if (!gens || sk_GENERAL_NAME_num(gens) != 1) {
        fail(err, errlen, "subjectAltName must hold exactly one name");
        goto out;
    }
    {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, 0);
        const unsigned char *p;
        ASN1_TYPE *hwt, *hws;
        if (g->type != GEN_OTHERNAME ||
            !obj_is_der(g->d.otherName->type_id, OID_HWMODNAME + 2, 8) ||
            !g->d.otherName->value || g->d.otherName->value->type != V_ASN1_SEQUENCE) {
            fail(err, errlen, "subjectAltName is not an otherName hardwareModuleName");
            goto out;
        }
        p = g->d.otherName->value->value.sequence->data;
        seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, g->d.otherName->value->value.sequence->length);
        if (!seq || sk_ASN1_TYPE_num(seq) != 2) {
            fail(err, errlen, "hardwareModuleName is not SEQUENCE { hwType, hwSerialNum }");
            goto out;
        }
        hwt = sk_ASN1_TYPE_value(seq, 0);
        hws = sk_ASN1_TYPE_value(seq, 1);
        if (hwt->type != V_ASN1_OBJECT ||
            !obj_is_der(hwt->value.object, s->hw_type_oid, s->hw_type_oid_len)) {
            fail(err, errlen, "hwType is not the configured %s", s->hw_type_txt);
            goto out;
        }
        if (hws->type != V_ASN1_OCTET_STRING || hws->value.octet_string->length != 8 ||
            memcmp(hws->value.octet_string->data, req->device, 8) != 0) {
            fail(err, errlen, "hwSerialNum is not the 8 octets of DeviceID");
            goto out;
        }
    }
    rc = 0;
out:
    sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
    GENERAL_NAMES_free(gens);
    return rc;
}

/* spki_is - id-ecPublicKey on prime256v1 with exactly this point */
static int spki_is(X509 *x, const uint8_t point[65])
{
    const unsigned char *pt;
    int ptlen, ptype;
    const void *pval;
    X509_ALGOR *alg;
    ASN1_OBJECT *aobj;
    if (!X509_PUBKEY_get0_param(&aobj, &pt, &ptlen, &alg, X509_get_X509_PUBKEY(x)) ||
        OBJ_obj2nid(aobj) != NID_X9_62_id_ecPublicKey)
        return 0;
    X509_ALGOR_get0(NULL, &ptype, &pval, alg);
    return ptype == V_ASN1_OBJECT && OBJ_obj2nid(pval) == NID_X9_62_prime256v1 &&
           ptlen == 65 && memcmp(pt, point, 65) == 0;
}

/* check_full - independent re-parse with d2i_X509 and a signature verify */
static int check_full(const struct signer *s, const struct request *req, char *err,
                      size_t errlen)
{
    static const int want_nid[5] = {NID_key_usage, NID_certificate_policies,
                                    NID_subject_alt_name, NID_subject_key_identifier,
                                    NID_authority_key_identifier};
    static const int want_crit[5] = {1, 1, 1, 0, 0};
    const unsigned char *p = req->cert;
    X509 *x = d2i_X509(NULL, &p, req->cert_len);
    CERTIFICATEPOLICIES *pol = NULL;
    const X509_ALGOR *outer_alg = NULL;
    unsigned char *enc = NULL;
    int rc = -1, n;

    if (!x || p != req->cert + req->cert_len) {
        fail(err, errlen, "d2i_X509 rejects the certificate or leaves trailing octets");
        goto out;
    }
    if (X509_verify(x, s->ca_pub) != 1) {
        fail(err, errlen, "signature does not verify with the CA key");
        goto out;
    }
    X509_get0_signature(NULL, &outer_alg, x);
    if (X509_get_version(x) != X509_VERSION_3 ||
        X509_get_signature_nid(x) != NID_ecdsa_with_SHA256 ||
        X509_ALGOR_cmp(X509_get0_tbs_sigalg(x), outer_alg) != 0) {
        fail(err, errlen, "version or signature algorithm wrong");
        goto out;
    }
    {
        const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
        if (sn->type != V_ASN1_INTEGER || sn->length != 16 || memcmp(sn->data, req->serial, 16) ||
            sn->data[0] == 0 || (sn->data[0] & 0x80)) {
            fail(err, errlen, "serialNumber is not the request's 16-octet positive serial");
            goto out;
        }
    }
    n = i2d_X509_NAME(X509_get_issuer_name(x), &enc);
    if (n <= 0 || (size_t)n != s->subject_len || memcmp(enc, s->subject, s->subject_len) ||
        X509_check_issued(s->ca, x) != X509_V_OK) {
        fail(err, errlen, "issuer is not the CA subject byte for byte, or AKI mismatch");
        goto out;
    }
    {
        const ASN1_TIME *nb = X509_get0_notBefore(x), *na = X509_get0_notAfter(x);
        if (nb->type != V_ASN1_UTCTIME || nb->length != UTCTIME_LEN ||
            na->type != V_ASN1_GENERALIZEDTIME || na->length != 15 ||
            memcmp(na->data, NOT_AFTER, 15) != 0) {
            fail(err, errlen, "validity: notBefore must be UTCTime, notAfter 99991231235959Z");
            goto out;
        }
    }
    if (X509_NAME_entry_count(X509_get_subject_name(x)) != 0) {
        fail(err, errlen, "subject is not empty");
        goto out;
    }
    if (!spki_is(x, req->point)) {
        fail(err, errlen, "subjectPublicKeyInfo is not P-256 with the request's point");
        goto out;
    }
    if (X509_get_ext_count(x) != 5) {
        fail(err, errlen, "certificate has %d extensions, 5 expected", X509_get_ext_count(x));
        goto out;
    }
    for (int i = 0; i < 5; i++) {
        X509_EXTENSION *e = X509_get_ext(x, i);
        if (OBJ_obj2nid(X509_EXTENSION_get_object(e)) != want_nid[i] ||
            X509_EXTENSION_get_critical(e) != want_crit[i]) {
            fail(err, errlen, "extension %d is not %s (%scritical)", i, OBJ_nid2sn(want_nid[i]),
                 want_crit[i] ? "" : "not ");
            goto out;
        }
    }
    if ((X509_get_extension_flags(x) & (EXFLAG_INVALID | EXFLAG_KUSAGE)) != EXFLAG_KUSAGE ||
        X509_get_key_usage(x) != (req->usage == USAGE_DS ? KU_DIGITAL_SIGNATURE : KU_KEY_AGREEMENT)) {
        fail(err, errlen, "keyUsage is not exactly the requested bit, or extensions invalid");
        goto out;
    }
    pol = X509_get_ext_d2i(x, NID_certificate_policies, NULL, NULL);
    if (!pol || sk_POLICYINFO_num(pol) != 1 ||
        !obj_is_der(sk_POLICYINFO_value(pol, 0)->policyid, s->policy_oid, s->policy_oid_len) ||
        sk_POLICYQUALINFO_num(sk_POLICYINFO_value(pol, 0)->qualifiers) > 0) {
        fail(err, errlen, "certificatePolicies is not the one policy %s without qualifiers",
             s->policy_txt);
        goto out;
    }
    if (check_san(s, req, x, err, errlen))
        goto out;
    {
        const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);
        const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(x);
        uint8_t want[8], akid[2 + 2 + sizeof s->ski];
        key_id8(req->point, want);
        if (!ski || ski->length != 8 || memcmp(ski->data, want, 8) != 0) {
            fail(err, errlen, "subjectKeyIdentifier is not SHA-256(point)[0..8]");
            goto out;
        }
        akid[0] = 0x30;
        akid[1] = (uint8_t)(2 + s->ski_len);
        akid[2] = 0x80;
        akid[3] = (uint8_t)s->ski_len;
        memcpy(akid + 4, s->ski, s->ski_len);
        if (!aki || (size_t)aki->length != s->ski_len || memcmp(aki->data, s->ski, s->ski_len) ||
            X509_get0_authority_issuer(x) || X509_get0_authority_serial(x) ||
            !ext_data_is(X509_get_ext(x, 4), akid, 4 + s->ski_len)) {
            fail(err, errlen, "authorityKeyIdentifier is not keyIdentifier = the CA's SKI only");
            goto out;
        }
    }
    rc = 0;
out:
    ERR_clear_error();
    OPENSSL_free(enc);
    CERTIFICATEPOLICIES_free(pol);
    X509_free(x);
    return rc;
}

/* sign_check_cert - cheap byte-level check; full adds d2i_X509 and verify */
int sign_check_cert(const struct signer *s, const struct request *req, int full, char *err,
                    size_t errlen)
{
    if (check_cheap(s, req, err, errlen))
        return -1;
    return full ? check_full(s, req, err, errlen) : 0;
}

/* ---- demo CA ------------------------------------------------------------ */

/* create_excl - create path exclusively with mode; fd or -1 */
static int create_excl(const char *path, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd >= 0 && fchmod(fd, mode) != 0) {
        close(fd);
        unlink(path);
        return -1;
    }
    return fd;
}

/* write_pem_fd - write key or cert PEM to fd, fsync, close; 0 or -1 */
static int write_pem_fd(int fd, EVP_PKEY *key, X509 *cert)
{
    BIO *b = BIO_new_fd(fd, BIO_NOCLOSE);
    int ok = b && (key ? PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL)
                       : PEM_write_bio_X509(b, cert)) == 1 && BIO_flush(b) == 1;
    BIO_free(b);
    if (fsync(fd) != 0)
        ok = 0;
    if (close(fd) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

/* sign_make_demo_ca - self-signed P-256 CA: key 0600, certificate 0644 */
int sign_make_demo_ca(const char *name, const char *cert_path, const char *key_path,
                      char *err, size_t errlen)
{
    char why[256];
    struct stat st;
    EVP_PKEY *key = NULL;
    X509 *x = NULL;
    X509_NAME *nm = NULL;
    BASIC_CONSTRAINTS *bc = NULL;
    ASN1_BIT_STRING *ku = NULL;
    ASN1_OCTET_STRING *ski = NULL;
    ASN1_INTEGER *sn = NULL;
    BIGNUM *bn = NULL;
    uint8_t point[65], serial[16], id[8];
    size_t plen = 0;
    int kfd = -1, cfd = -1, rc = -1, key_made = 0, cert_made = 0;
    const char *op = NULL;

    if (!name || !*name || strlen(name) > 64)
        return fail(err, errlen, "demo CA: name must be 1 to 64 characters");
    if (lstat(key_path, &st) == 0 || lstat(cert_path, &st) == 0)
        return fail(err, errlen, "demo CA: %s already exists; refusing to overwrite it",
                    lstat(key_path, &st) == 0 ? key_path : cert_path);

    op = "generate a P-256 key";
    key = EVP_EC_gen("P-256");
    if (!key ||
        !EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &plen) ||
        plen != 65 || point[0] != 0x04)
        goto ossl;
    key_id8(point, id);

    op = "build the CA certificate";
    x = X509_new();
    nm = X509_NAME_new();
    bc = BASIC_CONSTRAINTS_new();
    ku = ASN1_BIT_STRING_new();
    ski = ASN1_OCTET_STRING_new();
    if (!x || !nm || !bc || !ku || !ski || draw_serial(NULL, serial) ||
        !(bn = BN_bin2bn(serial, 16, NULL)) || !(sn = BN_to_ASN1_INTEGER(bn, NULL)))
        goto ossl;
    bc->ca = 0xff;
    if (!X509_set_version(x, X509_VERSION_3) || !X509_set_serialNumber(x, sn) ||
        !X509_NAME_add_entry_by_txt(nm, "OU", MBSTRING_UTF8, (const unsigned char *)"07", -1, -1, 0) ||
        !X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8, (const unsigned char *)name, -1, -1, 0) ||
        !X509_set_subject_name(x, nm) || !X509_set_issuer_name(x, nm) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
        !ASN1_TIME_set_string_X509(X509_getm_notAfter(x), NOT_AFTER) ||
        !X509_set_pubkey(x, key) ||
        !ASN1_BIT_STRING_set_bit(ku, 5, 1) || !ASN1_BIT_STRING_set_bit(ku, 6, 1) ||
        !ASN1_OCTET_STRING_set(ski, id, 8) ||
        X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, X509V3_ADD_DEFAULT) != 1 ||
        X509_add1_ext_i2d(x, NID_key_usage, ku, 1, X509V3_ADD_DEFAULT) != 1 ||
        X509_add1_ext_i2d(x, NID_subject_key_identifier, ski, 0, X509V3_ADD_DEFAULT) != 1 ||
        X509_sign(x, key, EVP_sha256()) <= 0)
        goto ossl;

    op = "create the key file";
    if ((kfd = create_excl(key_path, 0600)) < 0)
        goto sys_key;
    key_made = 1;
    op = "write the key file";
    if (write_pem_fd(kfd, key, NULL)) {
        kfd = -1;
        goto sys_key;
    }
    kfd = -1;
    op = "create the certificate file";
    if ((cfd = create_excl(cert_path, 0644)) < 0)
        goto sys_cert;
    cert_made = 1;
    op = "write the certificate file";
    if (write_pem_fd(cfd, NULL, x)) {
        cfd = -1;
        goto sys_cert;
    }
    cfd = -1;
    rc = 0;
    goto out;
ossl:
    fail(err, errlen, "demo CA: cannot %s (%s)", op, ossl_reason(why, sizeof why));
    goto out;
sys_key:
    fail(err, errlen, "demo CA key %s: cannot %s (%s)", key_path, op, strerror(errno));
    goto out;
sys_cert:
    fail(err, errlen, "demo CA certificate %s: cannot %s (%s)", cert_path, op, strerror(errno));
out:
    if (rc != 0) {
        if (cert_made)
            unlink(cert_path);
        if (key_made)
            unlink(key_path);
    }
    ERR_clear_error();
    BN_free(bn);
    ASN1_INTEGER_free(sn);
    ASN1_OCTET_STRING_free(ski);
    ASN1_BIT_STRING_free(ku);
    BASIC_CONSTRAINTS_free(bc);
    X509_NAME_free(nm);
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}
