/* control.c - suspension and hold switches as files; see control.h. */
#include "control.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "eui64.h"
#include "fsutil.h"

static void control_dir(const char *home, const char *sub, char *out, size_t cap)
{
    snprintf(out, cap, "%s/control%s%s", home, sub ? "/" : "", sub ? sub : "");
}

static void hold_name(const uint8_t party[8], const char *batch_id, char *out, size_t cap)
{
    char hex[17];
    eui64_hex16(party, hex);
    snprintf(out, cap, "%s_%s", hex, batch_id);
}

/* present - the switch exists; fails safe: anything but "no such file"
 * (a file or directory another user made unreadable) counts as present */
static int present(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0) return 1;
    return errno != ENOENT && errno != ENOTDIR;
}

int control_suspended(const char *home, char *reason, size_t cap)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/control/suspended", home);
    if (!present(path)) return 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (reason && cap) snprintf(reason, cap, "(%s exists but cannot be read: %s)", path, strerror(errno));
        return 1;
    }
    if (reason && cap) {
        size_t n = fread(reason, 1, cap - 1, f);
        reason[n] = '\0';
        while (n && (reason[n - 1] == '\n')) reason[--n] = '\0';
    }
    fclose(f);
    return 1;
}

int control_suspend(const char *home, const char *reason)
{
    char dir[PATH_MAX], text[1200], when[RFC3339_LEN + 1];
    control_dir(home, NULL, dir, sizeof dir);
    int rc = fs_mkdirs(dir, 0755);
    if (rc) return rc;
    clock_format(clock_now(), when);
    int n = snprintf(text, sizeof text, "since %s: %s\n", when, reason);
    return fs_write_atomic(dir, "suspended", text, (size_t)n, 0644);
}

int control_resume(const char *home)
{
    char dir[PATH_MAX], path[PATH_MAX + 16];
    control_dir(home, NULL, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/suspended", dir);
    if (unlink(path) != 0) return -errno;
    return fs_fsync_dir(dir);
}

int control_held(const char *home, const uint8_t party[8], const char *batch_id)
{
    char path[PATH_MAX], name[128];
    hold_name(party, batch_id, name, sizeof name);
    snprintf(path, sizeof path, "%s/control/hold/%s", home, name);
    return present(path);
}

int control_hold(const char *home, const uint8_t party[8], const char *batch_id)
{
    char dir[PATH_MAX], name[128], text[64], when[RFC3339_LEN + 1];
    control_dir(home, "hold", dir, sizeof dir);
    int rc = fs_mkdirs(dir, 0755);
    if (rc) return rc;
    hold_name(party, batch_id, name, sizeof name);
    clock_format(clock_now(), when);
    int n = snprintf(text, sizeof text, "held since %s\n", when);
    return fs_write_atomic(dir, name, text, (size_t)n, 0644);
}

int control_release(const char *home, const uint8_t party[8], const char *batch_id)
{
    char dir[PATH_MAX], name[128], path[PATH_MAX + 140];
    control_dir(home, "hold", dir, sizeof dir);
    hold_name(party, batch_id, name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (unlink(path) != 0) return -errno;
    return fs_fsync_dir(dir);
}
