/* Durable file writes: what makes a key file survive a crash right after it was written. */
#ifndef SAASEDGE_LIB_FILEIO_H
#define SAASEDGE_LIB_FILEIO_H

#include <stddef.h>

/* Writes all N bytes of BUF to FD, retrying short writes and EINTR; SE_EIO otherwise. */
int fileio_write_all(int fd, const void *buf, size_t n);

/* fsyncs the directory DIR, making the entries created in it durable; SE_EIO on failure. */
int fileio_fsync_dir(const char *dir);

/* fsyncs the directory that holds PATH ("." when PATH has no slash). */
int fileio_fsync_parent(const char *path);

#endif
