/* fsutil.h - the durable file operations; I/O helpers return 0 or -errno.
 *
 * "Saved" means one of: fsync + rename + fsync of the directory (these
 * helpers), or a RocksDB WriteBatch with sync (store.h).  Nothing else.
 */
#ifndef SMKI_FSUTIL_H
#define SMKI_FSUTIL_H

#include <stddef.h>

/* fs_fsync_dir - fsync the directory at path */
int fs_fsync_dir(const char *dir);

/* fs_write_atomic - write data to dir/name via dir/.name.tmp: write, fsync,
 * rename, fsync dir.  Never leaves a partial dir/name. mode for the file. */
int fs_write_atomic(const char *dir, const char *name, const void *data, size_t len, int mode);

/* fs_mkdirs - mkdir -p with mode */
int fs_mkdirs(const char *path, int mode);

/* fs_write_all - write len bytes to fd (retrying short writes) */
int fs_write_all(int fd, const void *data, size_t len);

/* fs_remove_stale_tmp - unlink dir/.*.tmp left by a crash; returns count */
int fs_remove_stale_tmp(const char *dir);

#endif
