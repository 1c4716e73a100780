/* fsutil.c - atomic publish and other durable file steps; see fsutil.h. */
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* fs_fsync_dir - make a rename or create in dir durable */
int fs_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -errno;
    int rc = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

/* fs_write_all - full write */
int fs_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* fs_write_atomic - tmp, fsync, rename, fsync dir */
int fs_write_atomic(const char *dir, const char *name, const void *data, size_t len, int mode)
{
    char tmp[PATH_MAX], dst[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    snprintf(dst, sizeof dst, "%s/%s", dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) return -errno;
    int rc = fs_write_all(fd, data, len);
    if (rc == 0 && fsync(fd) != 0) rc = -errno;
    if (close(fd) != 0 && rc == 0) rc = -errno;
    if (rc == 0 && rename(tmp, dst) != 0) rc = -errno;
    if (rc != 0) {
        unlink(tmp);
        return rc;
    }
    return fs_fsync_dir(dir);
}

/* fs_mkdirs - create path and its parents */
int fs_mkdirs(const char *path, int mode)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return -ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, mode) != 0 && errno != EEXIST) return -errno;
        *p = '/';
    }
    if (mkdir(buf, mode) != 0 && errno != EEXIST) return -errno;
    return 0;
}

/* fs_remove_stale_tmp - clean up .NAME.tmp files a crash left behind */
int fs_remove_stale_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -errno;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (e->d_name[0] == '.' && n > 5 && strcmp(e->d_name + n - 4, ".tmp") == 0) {
            if (unlinkat(dirfd(d), e->d_name, 0) == 0) count++;
        }
    }
    closedir(d);
    return count;
}
