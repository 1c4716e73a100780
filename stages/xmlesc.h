/* xmlesc.h - text for the XML documents the program writes (receipts,
 * responses).  Escapes & < > " and replaces anything outside printable ASCII
 * with '?', so that a hostile value echoed back (a DeviceID as written, a
 * parser message) can never break the document or its encoding.
 */
#ifndef SMKI_XMLESC_H
#define SMKI_XMLESC_H

#include <stddef.h>

/* xml_escape - escaped s into out (cap bytes, NUL-terminated, truncated at a
 * character boundary); returns the length written */
size_t xml_escape(const char *s, char *out, size_t cap);

#endif
