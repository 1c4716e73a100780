/* codes.h - per-request result codes of SPEC.md section 3.3.
 *
 * The enum order IS the precedence order of SPEC.md section 5: when a CSR has
 * several faults, the stage that finds them reports the smallest code.  Every
 * stage returns one of these for a request; nothing per-request is logged.
 */
#ifndef SMKI_CODES_H
#define SMKI_CODES_H

enum req_code {
    RC_OK = 0,
    RC_DEVICE_ID,        /* E_DEVICE_ID: not a valid EUI-64 */
    RC_USAGE,            /* E_USAGE: not DS or KA */
    RC_CSR_ENCODING,     /* E_CSR_ENCODING: base64 or DER invalid, trailing bytes */
    RC_SIG_ALGORITHM,    /* E_SIG_ALGORITHM: not ecdsa-with-SHA256 */
    RC_KEY_TYPE,         /* E_KEY_TYPE: not an EC key on prime256v1 */
    RC_KEY_INVALID,      /* E_KEY_INVALID: not on the curve, infinity, compressed, hybrid */
    RC_CSR_SIGNATURE,    /* E_CSR_SIGNATURE: no proof of possession */
    RC_ID_MISMATCH,      /* E_ID_MISMATCH: CSR's hardwareModuleName != DeviceID */
    RC_DUPLICATE_REQUEST,/* E_DUPLICATE_REQUEST: device+usage earlier in this batch */
    RC_DUPLICATE_KEY,    /* E_DUPLICATE_KEY: key certified before or earlier in batch */
    RC_INTERNAL,         /* E_INTERNAL: issuance failed inside the CA (never the party's fault) */
    RC_COUNT_
};

/* req_code_name - the SPEC spelling, e.g. "E_KEY_INVALID"; "OK" for RC_OK */
const char *req_code_name(enum req_code code);

/* Certificate usage of SPEC.md section 3.1 */
enum usage { USAGE_DS = 0, USAGE_KA = 1 };

#endif
