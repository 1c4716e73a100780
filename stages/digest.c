/* digest.c - SHA-256 with the algorithm fetched once and a context kept per
 * thread; see digest.h. */
#include "digest.h"

#include <pthread.h>
#include <stdlib.h>

#include <openssl/evp.h>

static EVP_MD *g_sha256;
static pthread_key_t g_ctx_key;   /* this thread's EVP_MD_CTX */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void free_ctx(void *ctx) { EVP_MD_CTX_free(ctx); }

static void setup(void)
{
    g_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (g_sha256 && pthread_key_create(&g_ctx_key, free_ctx) != 0) {
        EVP_MD_free(g_sha256);   /* no per-thread contexts: as if no SHA-256 */
        g_sha256 = NULL;
    }
}

/* thread_ctx - this thread's context, made on its first hash */
static EVP_MD_CTX *thread_ctx(void)
{
    EVP_MD_CTX *ctx = pthread_getspecific(g_ctx_key);
    if (!ctx) {
        if (!(ctx = EVP_MD_CTX_new()) || pthread_setspecific(g_ctx_key, ctx) != 0)
            abort();
    }
    return ctx;
}

void sha256(const void *data, size_t len, uint8_t out[32])
{
    pthread_once(&g_once, setup);
    if (!g_sha256)
        abort();   /* no SHA-256 (or no thread key): nothing can be checked */
    EVP_MD_CTX *ctx = thread_ctx();
    if (EVP_DigestInit_ex2(ctx, g_sha256, NULL) != 1 || EVP_DigestUpdate(ctx, data, len) != 1 ||
        EVP_DigestFinal_ex(ctx, out, NULL) != 1)
        abort();
}
