/* cmd_lookup.c - `smki-batch lookup --serial HEX | --device EUI64
 * [--usage DS|KA]`: the issued-certificate repository.  Prints each
 * certificate as PEM after a status line (serial, device, usage, turn,
 * issued at, status).  Exit 0 found, 2 usage, 1 when nothing matches.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "cli.h"
#include "clock.h"
#include "eui64.h"
#include "hex.h"
#include "respwrite.h"

static void help(void)
{
    printf("usage: smki-batch lookup --serial HEX [--home DIR]\n"
           "       smki-batch lookup --device EUI64 [--usage DS|KA] [--home DIR]\n\n"
           "Prints the issued certificate(s), each as a status line and PEM.\n");
}

struct lookup_ctx {
    struct store *s;
    int found;
};

static int print_cert(const uint8_t serial[16], void *arg)
{
    struct lookup_ctx *lc = arg;
    struct cert_meta m;
    uint8_t *der;
    size_t len;
    int rc = store_cert_get(lc->s, serial, &m, &der, &len);
    if (rc != 1) return rc < 0 ? -1 : 0;
    char hex[33], dev[EUI64_TEXT_LEN + 1], when[RFC3339_LEN + 1];
    resp_serial_hex(serial, hex);
    eui64_format(m.device, dev);
    clock_format((time_t)m.issued_at, when);
    printf("# serial %s device %s usage %s turn %" PRIu64 " issued %s status issued\n", hex, dev,
           m.usage ? "KA" : "DS", m.turn, when);
    size_t blen = B64_ENCODED_LEN(len);
    char *b = malloc(blen + 1);
    if (!b) { free(der); return -1; }
    b64_encode(der, len, b, blen + 1);
    printf("-----BEGIN CERTIFICATE-----\n");
    for (size_t i = 0; i < blen; i += 64) printf("%.*s\n", (int)(blen - i < 64 ? blen - i : 64), b + i);
    printf("-----END CERTIFICATE-----\n");
    free(b);
    free(der);
    lc->found++;
    return 0;
}

int cmd_lookup(int argc, char **argv)
{
    const char *root = home_default(), *serial = NULL, *device = NULL, *usage = NULL;
    static const struct option opts[] = {
        {"home", required_argument, 0, 'H'}, {"serial", required_argument, 0, 's'},
        {"device", required_argument, 0, 'd'}, {"usage", required_argument, 0, 'u'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'H': root = optarg; break;
        case 's': serial = optarg; break;
        case 'd': device = optarg; break;
        case 'u': usage = optarg; break;
        case 'h': help(); return 0;
        default: return cli_usage_error("lookup", "unknown option");
        }
    }
    if (!!serial == !!device) return cli_usage_error("lookup", "give --serial HEX or --device EUI64");
    uint8_t ser[16], dev[8];
    int use = -1;
    if (serial) {
        if (strlen(serial) != 32 || hex_decode(serial, 16, ser) != 0)
            return cli_usage_error("lookup", "--serial: 32 hex digits");
    } else if (eui64_parse(device, strlen(device), dev) != 0) {
        return cli_usage_error("lookup", "--device: an EUI-64 such as 00-DB-12-34-56-78-90-A4");
    }
    if (usage) {
        if (strcmp(usage, "DS") == 0) use = 0;
        else if (strcmp(usage, "KA") == 0) use = 1;
        else return cli_usage_error("lookup", "--usage: DS or KA");
    }
    struct home h;
    if (cli_open_home(&h, root) != 0) return 1;
    struct lookup_ctx lc = {0};
    lc.s = cli_open_store(&h, STORE_READ_ONLY);
    if (!lc.s) return 1;
    int rc = serial ? print_cert(ser, &lc) : store_device_each(lc.s, dev, use, print_cert, &lc);
    store_close(lc.s);
    if (rc != 0) {
        fprintf(stderr, "smki-batch lookup: cannot read the store\n");
        return 1;
    }
    if (!lc.found) {
        fprintf(stderr, "smki-batch lookup: no certificate for %s %s\n", serial ? "serial" : "device",
                serial ? serial : device);
        return 1;
    }
    return 0;
}
