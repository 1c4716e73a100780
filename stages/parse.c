/* parse.c - streaming request reader over xmlReader; see parse.h for the
 * contract and the hostile-input rules.
 *
 * A small state machine over the reader's nodes:
 *   depth 0 BatchedCSRRequest / 1 Header|CSRs / 2 BatchID..|CSR / 3 CSR fields
 * Text is collected into a bounded field buffer and copied out at the field's
 * end tag.  Schema validity errors (when a schema is set) do not stop the
 * reader: it goes on to the end, because E_XML and E_TOO_MANY outrank E_SCHEMA.
 */
#include "parse.h"

#include <errno.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlschemas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "eui64.h"
#include "xmem.h"

enum field { F_NONE, F_BATCH_ID, F_PARTY_ID, F_CSR_COUNT, F_REQUEST_ID, F_DEVICE_ID, F_USAGE, F_CSR_BODY };

/* ---- RequestID set (validating parsers): open addressing on a 64-bit
 * hash of the canonical decimal text, the text itself compared ---- */

struct idset {
    uint64_t *hash;      /* 0 = empty */
    uint32_t *off;       /* text offset in arena */
    uint32_t *line;      /* where it was first seen */
    uint64_t mask;
    uint64_t used;
    char *arena;
    size_t arena_len, arena_cap;
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h | 1;
}

static void idset_init(struct idset *set, uint64_t max)
{
    uint64_t size = 16;
    while (size < max * 2) size <<= 1;
    set->mask = size - 1;
    set->hash = xcalloc(size, sizeof *set->hash);
    set->off = xcalloc(size, sizeof *set->off);
    set->line = xcalloc(size, sizeof *set->line);
    set->arena_cap = 1 << 16;
    set->arena = xmalloc(set->arena_cap);
}

static void idset_free(struct idset *set)
{
    free(set->hash);
    free(set->off);
    free(set->line);
    free(set->arena);
}

/* idset_add - 0 if new; else the line where it was first seen */
/* idset_grow - double the table when it is half full */
static void idset_grow(struct idset *set)
{
    struct idset old = *set;
    uint64_t size = (old.mask + 1) * 2;
    set->mask = size - 1;
    set->hash = xcalloc(size, sizeof *set->hash);
    set->off = xcalloc(size, sizeof *set->off);
    set->line = xcalloc(size, sizeof *set->line);
    for (uint64_t i = 0; i <= old.mask; i++) {
        if (!old.hash[i]) continue;
        uint64_t j = old.hash[i] & set->mask;
        while (set->hash[j]) j = (j + 1) & set->mask;
        set->hash[j] = old.hash[i];
        set->off[j] = old.off[i];
        set->line[j] = old.line[i];
    }
    free(old.hash);
    free(old.off);
    free(old.line);
}

static uint32_t idset_add(struct idset *set, const char *id, uint32_t line)
{
    if (set->used * 2 >= set->mask + 1) idset_grow(set);
    uint64_t h = fnv1a(id);
    uint64_t i = h & set->mask;
    for (; set->hash[i]; i = (i + 1) & set->mask)
        if (set->hash[i] == h && strcmp(set->arena + set->off[i], id) == 0)
            return set->line[i] ? set->line[i] : 1;
    size_t n = strlen(id) + 1;
    if (set->arena_len + n > set->arena_cap) {
        while (set->arena_len + n > set->arena_cap) set->arena_cap *= 2;
        set->arena = xrealloc(set->arena, set->arena_cap);
    }
    memcpy(set->arena + set->arena_len, id, n);
    set->hash[i] = h;
    set->off[i] = (uint32_t)set->arena_len;
    set->line[i] = line;
    set->arena_len += n;
    set->used++;
    return 0;
}

struct parser {
    xmlTextReaderPtr reader;
    parse_read_fn rd;
    void *io;
    int first_read_done;
    unsigned char sniff[2];     /* the first two bytes, for the encoding check */
    int sniffed;
    int keep_csrs;
    size_t keep_text_max;       /* CSRBody texts kept up to this length (0: all) */
    uint64_t max_csrs, count;
    struct parse_header hdr;
    int in_header, in_csrs, in_csr;
    enum field field;
    char *text;                 /* current field's text, bounded */
    size_t text_len, text_cap;
    struct request *cur;        /* request being filled (keep_csrs) */
    struct chunk *chunk;        /* chunk being filled */
    int done;                   /* reader reached the end or stopped */
    enum batch_code verdict;    /* first fault by precedence */
    char xml_err[256], schema_err[256];
    int check_ids;              /* validating: RequestIDs must be unique */
    int field_line;             /* line of the current RequestID */
    uint64_t bytes_in;          /* bytes read so far */
    uint64_t tags_seen;         /* "<CSR" start tags in them (unprefixed) */
    uint64_t over_at;           /* 1 + offset of the tag over max_csrs, or 0 */
    uint64_t tag_start;
    int tagpos;
    int in_markup;
    uint32_t markup_len;
    uint64_t run_len;           /* the current text run ('>' to '<') */
    uint64_t run_start;         /* its first byte */
    int text_nonws;             /* it holds more than whitespace */
    int text_too_long;          /* the byte tap stopped a text run over TEXT_RUN_MAX */
    int huge_text;              /* libxml2 stopped a text node at its 10 MB limit */
    int id_seen;                /* the current CSR's RequestID was checked */
    struct idset ids;
};

const char *batch_code_name(enum batch_code c)
{
    static const char *const names[BC_COUNT_] = {
        "OK", "E_FILE", "E_TOO_LARGE", "E_XML", "E_TOO_MANY", "E_SCHEMA",
        "E_TOO_FEW", "E_COUNT_MISMATCH", "E_UNKNOWN_PARTY", "E_DUPLICATE_BATCH",
    };
    return (unsigned)c < BC_COUNT_ ? names[c] : "E_FILE";
}

/* on_error - libxml2 structured errors: first XML fault, first validity fault */
static void on_error(void *arg, xmlErrorPtr e)
{
    struct parser *p = arg;
    if (!e || e->level < XML_ERR_ERROR) return;
    /* known by its code and libxml2's own words, never by text that may
     * quote the input */
    if (e->domain == XML_FROM_PARSER && e->code == XML_ERR_NO_MEMORY && e->message &&
        strstr(e->message, "huge text node"))
        p->huge_text = 1;
    int schema = e->domain == XML_FROM_SCHEMASV || e->domain == XML_FROM_SCHEMASP;
    char *dst = schema ? p->schema_err : p->xml_err;
    if (dst[0]) return;
    char msg[200];
    snprintf(msg, sizeof msg, "%s", e->message ? e->message : "error");
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' ')) msg[--n] = '\0';
    snprintf(dst, 256, "line %d: %s", e->line, msg);
}

/* A text run over 1 MiB that is not all whitespace fits no element (the
 * longest, CSRBody, is 8,192 characters): E_SCHEMA at once, because
 * libxml2's schema check of a long text node costs the square of its length
 * (six 10 MB bodies took 6 s to refuse, over the 1 s receipt promise). */
#define TEXT_RUN_MAX (1u << 20)

/* text_run - count len bytes of text; -1 (stop reading) when the run is
 * too long */
static int text_run(struct parser *p, const char *s, int len, uint64_t at)
{
    if (p->run_len == 0) p->run_start = at;
    for (int k = 0; k < len && !p->text_nonws; k++)
        p->text_nonws = s[k] != ' ' && s[k] != '\t' && s[k] != '\n' && s[k] != '\r';
    p->run_len += (uint64_t)len;
    if (p->run_len <= TEXT_RUN_MAX || !p->text_nonws) return 0;
    p->text_too_long = 1;       /* the message names the element: see step */
    return -1;
}

/* markup_too_long - the byte tap's refusal of a tag over 64 KiB */
static int markup_too_long(struct parser *p, uint64_t at)
{
    if (!p->xml_err[0])
        snprintf(p->xml_err, sizeof p->xml_err, "byte %llu: a tag longer than 64 KiB (too many attributes?)",
                 (unsigned long long)at);
    return -1;
}

/* io_read - the caller's read, with a UTF-16/UCS-4 sniff on the first bytes */
static int io_read(void *ctx, char *buf, int len)
{
    struct parser *p = ctx;
    int n = p->rd(p->io, buf, len);
    /* count CSR start tags in the bytes as they stream in, and remember
     * where the one over the limit starts: libxml2 parses ahead of the
     * reader, so a fault just after it can surface before the reader
     * reaches it (SPEC 5: the 50,001st is E_TOO_MANY whatever else) */
    for (int i = 0; i < n; i++) {
        if (p->tagpos == 0) {
            /* between tags nothing changes state but '<' (and '>' inside
             * markup): jump there with memchr, most bytes are base64 */
            const char *from = buf + i;
            const char *lt = memchr(from, '<', (size_t)(n - i));
            int stop = lt ? (int)(lt - from) : n - i;
            const char *gt = p->in_markup ? memchr(from, '>', (size_t)stop) : NULL;
            int run = gt ? (int)(gt - from) : stop;
            if (p->in_markup && p->markup_len + (uint32_t)run > 65536)
                return markup_too_long(p, p->bytes_in + (uint64_t)i + (65536 - p->markup_len));
            if (p->in_markup) p->markup_len += (uint32_t)run;
            else if (stop > 0 && text_run(p, from, stop, p->bytes_in + (uint64_t)i) != 0) return -1;
            if (gt) {
                p->in_markup = 0;
                i += run;   /* at the '>'; the loop steps past it */
                continue;
            }
            i += stop;
            if (!lt) break;
        }
        char c = buf[i];
        /* a markup run ('<' to '>') over 64 KiB: libxml2's attribute
         * handling is quadratic (100,000 attributes take minutes); no tag
         * of a request comes near this */
        if (c == '<') p->in_markup = 1, p->markup_len = 0, p->run_len = 0, p->text_nonws = 0;
        else if (c == '>') p->in_markup = 0;
        else if (p->in_markup && ++p->markup_len > 65536)
            return markup_too_long(p, p->bytes_in + (uint64_t)i);
        if (p->over_at) continue;
        uint64_t at = p->bytes_in + (uint64_t)i;
        if (p->tagpos == 0 ? c == '<' : p->tagpos < 4 ? c == "<CSR"[p->tagpos] : (c == '>' || c == ' ' ||
                                                                                    c == '\t' || c == '\n' || c == '\r' || c == '/')) {
            if (p->tagpos == 0) p->tag_start = at;
            if (++p->tagpos == 5) {
                p->tagpos = 0;
                if (++p->tags_seen > p->max_csrs) p->over_at = p->tag_start + 1;
            }
        } else {
            p->tagpos = c == '<' ? 1 : 0;
            if (c == '<') p->tag_start = at;
        }
    }
    if (n > 0) p->bytes_in += (uint64_t)n;
    /* sniff the first two bytes, however the reads are cut */
    for (int i = 0; i < n && p->sniffed < 2; i++) p->sniff[p->sniffed++] = (unsigned char)buf[i];
    if (!p->first_read_done && p->sniffed == 2) {
        p->first_read_done = 1;
        const unsigned char *u = p->sniff;
        if ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF) || u[0] == 0 ||
            (u[0] == '<' && u[1] == 0)) {
            snprintf(p->xml_err, sizeof p->xml_err,
                     "line 1: the file is UTF-16 or UCS-4; requests must be UTF-8");
            return -1;
        }
    }
    return n;
}

/* drop_unique - remove xs:unique identity constraints from the schema
 * document: libxml2 checks them in time that grows with the batch (it
 * doubled intake time at 50,000 CSRs); the parser checks RequestID
 * uniqueness itself, with the same value semantics ("01" == "1") */
static void drop_unique(xmlNodePtr n)
{
    for (xmlNodePtr c = n ? n->children : NULL, next; c; c = next) {
        next = c->next;
        if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST "unique")) {
            xmlUnlinkNode(c);
            xmlFreeNode(c);
        } else {
            drop_unique(c);
        }
    }
}

void *parse_schema_load(const char *xsd_path, char *err, size_t errlen)
{
    xmlDocPtr doc = xmlReadFile(xsd_path, NULL, XML_PARSE_NONET);
    xmlSchemaPtr schema = NULL;
    if (doc) {
        drop_unique(xmlDocGetRootElement(doc));
        xmlSchemaParserCtxtPtr pc = xmlSchemaNewDocParserCtxt(doc);
        schema = pc ? xmlSchemaParse(pc) : NULL;
        if (pc) xmlSchemaFreeParserCtxt(pc);
        xmlFreeDoc(doc);
    }
    if (!schema)
        snprintf(err, errlen, "%s: cannot load the request schema (is the installation complete?)", xsd_path);
    return schema;
}



void parse_schema_free(void *schema)
{
    if (schema) xmlSchemaFree(schema);
}

struct parser *parse_open(parse_read_fn rd, void *io, void *schema, uint64_t max_csrs, int keep_csrs)
{
    struct parser *p = xcalloc(1, sizeof *p);
    p->rd = rd;
    p->io = io;
    p->max_csrs = max_csrs;
    p->keep_csrs = keep_csrs;
    p->text_cap = REQ_CSR_B64_MAX + 64;
    p->text = xmalloc(p->text_cap + 1);
    /* no NOENT (no substitution), no DTDLOAD/DTDATTR/DTDVALID, no HUGE; and
     * no NOCDATA: with it, libxml2's schema plug took CDATA sections from a
     * reader with a schema (intake), which then saw a CDATA-only text as
     * empty; CDATA nodes are read as text below */
    p->reader = xmlReaderForIO(io_read, NULL, p, NULL, NULL, XML_PARSE_NONET);
    if (!p->reader) {
        snprintf(p->xml_err, sizeof p->xml_err, "line 0: cannot start the XML reader");
        p->done = 1;
        return p;
    }
    xmlTextReaderSetStructuredErrorHandler(p->reader, on_error, p);
    /* with a schema attached, libxml2 reports namespace errors (xmlns:p="")
     * through the thread's global handler, not the reader's: catch both, so
     * that intake never accepts what processing would refuse */
    xmlSetStructuredErrorFunc(p, on_error);
    if (schema) {
        p->check_ids = 1;
        idset_init(&p->ids, max_csrs + 1);
    }
    if (schema && xmlTextReaderSetSchema(p->reader, schema) != 0) {
        snprintf(p->xml_err, sizeof p->xml_err, "line 0: cannot attach the request schema");
        p->done = 1;
    }
    return p;
}

void parse_close(struct parser *p)
{
    if (!p) return;
    if (p->reader) xmlFreeTextReader(p->reader);
    xmlSetStructuredErrorFunc(NULL, NULL);
    if (p->check_ids) idset_free(&p->ids);
    free(p->text);
    free(p);
}

const struct parse_header *parse_header(const struct parser *p) { return &p->hdr; }
uint64_t parse_csr_count(const struct parser *p) { return p->count; }

/* trimmed - strip XML whitespace at both ends; returns length */
static size_t trimmed(const char *s, size_t n, const char **start)
{
    while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) { s++; n--; }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r')) n--;
    *start = s;
    return n;
}

/* copy_bounded - trimmed text into a fixed field */
static void copy_bounded(char *dst, size_t cap, const char *s, size_t n)
{
    const char *t;
    n = trimmed(s, n, &t);
    if (n >= cap) n = cap - 1;
    memcpy(dst, t, n);
    dst[n] = '\0';
}

/* canon_request_id_n - decimal without sign or leading zeros, in cap bytes */
static void canon_request_id_n(char *dst, size_t cap, const char *s, size_t n)
{
    const char *t;
    n = trimmed(s, n, &t);
    if (n && *t == '+') { t++; n--; }
    while (n > 1 && *t == '0') { t++; n--; }
    copy_bounded(dst, cap, t, n);
}

static void canon_request_id(char *dst, const char *s, size_t n)
{
    canon_request_id_n(dst, REQ_ID_MAX + 1, s, n);
}

/* end_field - a field's end tag: store its text */
static void end_field(struct parser *p)
{
    const char *s = p->text;
    size_t n = p->text_len;
    switch (p->field) {
    case F_BATCH_ID: copy_bounded(p->hdr.batch_id, sizeof p->hdr.batch_id, s, n); break;
    case F_PARTY_ID:
        copy_bounded(p->hdr.party_text, sizeof p->hdr.party_text, s, n);
        p->hdr.have_party = eui64_parse(p->hdr.party_text, strlen(p->hdr.party_text), p->hdr.party) == 0;
        break;
    case F_CSR_COUNT: {
        char buf[32];
        copy_bounded(buf, sizeof buf, s, n);
        char *end;
        errno = 0;
        unsigned long long v = strtoull(buf, &end, 10);
        /* only a count that is one (the XSD judges the rest) is echoed */
        p->hdr.have_count = *buf >= '0' && *buf <= '9' && !*end && errno == 0;
        p->hdr.declared_count = v;
        break;
    }
    case F_REQUEST_ID:
        if (p->cur) canon_request_id(p->cur->request_id, s, n);
        /* one RequestID per CSR is checked (a second one is a schema error
         * anyway), so the set never holds more than max_csrs + 1 */
        if (p->check_ids && p->count <= p->max_csrs && !p->id_seen) {
            p->id_seen = 1;
            char id[REQ_ID_MAX + 2];
            canon_request_id_n(id, sizeof id, s, n);
            if (strlen(id) > REQ_ID_MAX && !p->schema_err[0])
                snprintf(p->schema_err, sizeof p->schema_err, "line %d: RequestID has more than %d digits",
                         p->field_line, REQ_ID_MAX);
            int line = p->field_line;
            uint32_t first = idset_add(&p->ids, id, (uint32_t)line);
            if (first && !p->schema_err[0])
                snprintf(p->schema_err, sizeof p->schema_err,
                         "line %d: duplicate RequestID %s (first at line %u): RequestIDs must be unique in a batch",
                         line, id, first);
        }
        break;
    case F_DEVICE_ID: if (p->cur) copy_bounded(p->cur->device_text, sizeof p->cur->device_text, s, n); break;
    case F_USAGE: if (p->cur) copy_bounded(p->cur->usage_text, sizeof p->cur->usage_text, s, n); break;
    case F_CSR_BODY:
        if (p->cur) {
            if (p->keep_text_max && n > p->keep_text_max) n = 0;   /* kept empty: see parse.h */
            p->cur->csr_off = chunk_add_text(p->chunk, s, n);
            p->cur->csr_len = (uint32_t)n;
        }
        break;
    case F_NONE: break;
    }
    p->field = F_NONE;
}

/* start_element - classify by depth and local name */
static int start_element(struct parser *p, int depth, const char *name)
{
    p->field = F_NONE;
    p->text_len = 0;
    if (depth == 1) {
        p->in_header = strcmp(name, "Header") == 0;
        p->in_csrs = strcmp(name, "CSRs") == 0;
    } else if (depth == 2 && p->in_header) {
        if (strcmp(name, "BatchID") == 0) p->field = F_BATCH_ID;
        else if (strcmp(name, "PartyID") == 0) p->field = F_PARTY_ID;
        else if (strcmp(name, "CSRCount") == 0) p->field = F_CSR_COUNT;
    } else if (depth == 2 && p->in_csrs && strcmp(name, "CSR") == 0) {
        p->count++;
        if (p->count > p->max_csrs) {
            if (p->verdict == BC_OK || p->verdict > BC_TOO_MANY) p->verdict = BC_TOO_MANY;
            return -1;
        }
        if (p->keep_csrs && p->chunk) {
            p->cur = &p->chunk->req[p->chunk->n];
            memset(p->cur, 0, offsetof(struct request, errtext));
            p->cur->errtext[0] = '\0';
        }
        p->in_csr = 1;
        p->id_seen = 0;
    } else if (depth == 3 && p->in_csr) {
        if (strcmp(name, "RequestID") == 0) {
            p->field = F_REQUEST_ID;
            if (p->check_ids) p->field_line = (int)xmlGetLineNo(xmlTextReaderCurrentNode(p->reader));
        }
        else if (strcmp(name, "DeviceID") == 0) p->field = F_DEVICE_ID;
        else if (strcmp(name, "CertificateUsage") == 0) p->field = F_USAGE;
        else if (strcmp(name, "CSRBody") == 0) p->field = F_CSR_BODY;
    }
    return 0;
}

/* end_csr - a CSR closed: it joins the chunk */
static int end_csr(struct parser *p)
{
    p->in_csr = 0;
    if (p->cur) {
        p->chunk->n++;
        p->cur = NULL;
        return p->chunk->n == p->chunk->cap;   /* 1: chunk full */
    }
    return 0;
}

/* step - advance the reader until the chunk is full or the file ends */
static void step(struct parser *p)
{
    while (!p->done) {
        int r = xmlTextReaderRead(p->reader);
        if (r != 1) {
            if (r < 0 && !p->xml_err[0]) snprintf(p->xml_err, sizeof p->xml_err, "line %d: not well-formed XML",
                                                  xmlTextReaderGetParserLineNumber(p->reader));
            /* libxml2 stops any text node at 10 MB; when it stopped inside a
             * field we already found over its bound, the fault is the
             * field's size (E_SCHEMA, SPEC 5), not the XML */
            int tapped = p->text_too_long;   /* the byte tap stopped a long text run */
            if (tapped || p->huge_text) {
                static const char *const FIELD_NAMES[] = {"", "BatchID", "PartyID", "CSRCount", "RequestID",
                                                          "DeviceID", "CertificateUsage", "CSRBody"};
                char why[96];
                if (tapped)
                    snprintf(why, sizeof why, "a text node over 1 MiB from byte %llu",
                             (unsigned long long)p->run_start);
                else
                    snprintf(why, sizeof why, "libxml2 stopped it at 10 MB");
                if (!p->schema_err[0])
                snprintf(p->schema_err, sizeof p->schema_err,
                         "line %d: %s%s holds more text than the schema allows (%s)",
                         xmlTextReaderGetParserLineNumber(p->reader), p->field != F_NONE ? "element " : "",
                         p->field != F_NONE ? FIELD_NAMES[p->field] : "element-only content (Header, CSRs, CSR)",
                         why);
                p->xml_err[0] = '\0';
            }
            p->done = 1;
            break;
        }
        int type = xmlTextReaderNodeType(p->reader);
        int depth = xmlTextReaderDepth(p->reader);
        switch (type) {
        case XML_READER_TYPE_DOCUMENT_TYPE:
            snprintf(p->xml_err, sizeof p->xml_err, "line %d: a DOCTYPE is not allowed in a request",
                     xmlTextReaderGetParserLineNumber(p->reader));
            p->done = 1;
            continue;
        case XML_READER_TYPE_ENTITY_REFERENCE:
            snprintf(p->xml_err, sizeof p->xml_err, "line %d: entity references are not allowed",
                     xmlTextReaderGetParserLineNumber(p->reader));
            p->done = 1;
            continue;
        case XML_READER_TYPE_ELEMENT: {
            const char *name = (const char *)xmlTextReaderConstLocalName(p->reader);
            if (depth == 0 && !p->xml_err[0]) {
                const char *enc = (const char *)xmlTextReaderConstEncoding(p->reader);
                if (enc && strcasecmp(enc, "UTF-8") != 0) {
                    snprintf(p->xml_err, sizeof p->xml_err, "line 1: encoding %s; requests must be UTF-8", enc);
                    p->done = 1;
                    continue;
                }
            }
            if (start_element(p, depth, name ? name : "") != 0) {
                p->done = 1;
                continue;
            }
            if (xmlTextReaderIsEmptyElement(p->reader)) {
                if (p->field != F_NONE) end_field(p);
                else if (depth == 2 && p->in_csr && end_csr(p)) return;
            }
            break;
        }
        case XML_READER_TYPE_TEXT:
        case XML_READER_TYPE_CDATA:
        case XML_READER_TYPE_SIGNIFICANT_WHITESPACE:
            if (p->field != F_NONE) {
                const char *v = (const char *)xmlTextReaderConstValue(p->reader);
                size_t n = v ? strlen(v) : 0;
                /* cut at text_cap octets, silently: every field's XSD bound
                 * is below it (CSRBody 8,192 characters, and base64 is one
                 * octet a character), so a text this long has failed the
                 * schema at intake unless its characters are multi-byte,
                 * and then it is not base64 either: its request fails
                 * validation whatever the cut kept.  Both parsers (intake,
                 * processing) cut the same way. */
                if (p->text_len + n > p->text_cap) n = p->text_cap - p->text_len;
                memcpy(p->text + p->text_len, v, n);
                p->text_len += n;
                p->text[p->text_len] = '\0';
            }
            break;
        case XML_READER_TYPE_END_ELEMENT:
            if (p->field != F_NONE) end_field(p);
            else if (depth == 2 && p->in_csr && end_csr(p)) return;
            else if (depth == 1) p->in_header = p->in_csrs = 0;
            break;
        default:
            break;
        }
    }
}

void parse_keep_text_max(struct parser *p, size_t max)
{
    p->keep_text_max = max;
}

int parse_next_chunk(struct parser *p, struct chunk *c)
{
    chunk_reset(c);
    c->first_index = (uint32_t)p->count;
    p->chunk = c;
    step(p);
    p->chunk = NULL;
    p->cur = NULL;
    if (p->xml_err[0] || p->verdict == BC_TOO_MANY) return -1;
    return (int)c->n;
}

enum batch_code parse_finish(struct parser *p, char *err, size_t errlen)
{
    struct chunk *scratch = NULL;
    if (!p->done) {
        /* read to the end without keeping requests */
        int keep = p->keep_csrs;
        p->keep_csrs = 0;
        scratch = chunk_new(1);
        while (!p->done) {
            p->chunk = scratch;
            step(p);
        }
        p->chunk = NULL;
        p->keep_csrs = keep;
        chunk_free(scratch);
    }
    err[0] = '\0';
    /* a text run the byte tap stopped: the read error libxml2 reports is
     * ours, the fault is E_SCHEMA (a CSR over the limit before it was met
     * by the reader first: E_TOO_MANY stands) */
    if (p->text_too_long) {
        p->xml_err[0] = '\0';
        if (!p->schema_err[0])
            snprintf(p->schema_err, sizeof p->schema_err,
                     "byte %llu: a text node over 1 MiB (no element of a request holds more than 8,192 characters)",
                     (unsigned long long)p->run_start);
    }
    /* a fault the parser met after the CSR over the limit */
    if (p->xml_err[0] && p->over_at && p->reader &&
        (uint64_t)xmlTextReaderByteConsumed(p->reader) >= p->over_at - 1 && p->verdict != BC_TOO_MANY) {
        p->verdict = BC_TOO_MANY;
        p->count = p->tags_seen;
        p->xml_err[0] = '\0';
    }
    if (p->xml_err[0]) {
        snprintf(err, errlen, "%s", p->xml_err);
        return BC_XML;
    }
    if (p->verdict == BC_TOO_MANY) {
        snprintf(err, errlen, "more than %llu CSR elements (the limit per batch); stopped reading at CSR %llu",
                 (unsigned long long)p->max_csrs, (unsigned long long)p->count);
        return BC_TOO_MANY;
    }
    if (p->schema_err[0]) {
        snprintf(err, errlen, "%s", p->schema_err);
        return BC_SCHEMA;
    }
    return BC_OK;
}
