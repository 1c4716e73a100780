/* codes.c - names of the per-request result codes; see codes.h. */
#include "codes.h"

/* req_code_name - SPEC spelling of a code */
const char *req_code_name(enum req_code code)
{
    static const char *const names[RC_COUNT_] = {
        [RC_OK] = "OK",
        [RC_DEVICE_ID] = "E_DEVICE_ID",
        [RC_USAGE] = "E_USAGE",
        [RC_CSR_ENCODING] = "E_CSR_ENCODING",
        [RC_SIG_ALGORITHM] = "E_SIG_ALGORITHM",
        [RC_KEY_TYPE] = "E_KEY_TYPE",
        [RC_KEY_INVALID] = "E_KEY_INVALID",
        [RC_CSR_SIGNATURE] = "E_CSR_SIGNATURE",
        [RC_ID_MISMATCH] = "E_ID_MISMATCH",
        [RC_DUPLICATE_REQUEST] = "E_DUPLICATE_REQUEST",
        [RC_DUPLICATE_KEY] = "E_DUPLICATE_KEY",
        [RC_INTERNAL] = "E_INTERNAL",
    };
    if ((unsigned)code >= RC_COUNT_)
        return "E_INTERNAL";
    return names[code];
}
