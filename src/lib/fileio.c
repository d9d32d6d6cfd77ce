#include "lib/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "lib/error.h"

int fileio_write_all(int fd, const void *buf, size_t n)
{
	const unsigned char *p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return SE_EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int fileio_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return SE_EIO;
	if (fsync(fd) != 0)
		rc = SE_EIO;
	close(fd);
	return rc;
}

int fileio_fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;

	if (!slash)
		return fileio_fsync_dir(".");
	if (n == 0)
		return fileio_fsync_dir("/");
	if (n >= sizeof(dir))
		return SE_EIO;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return fileio_fsync_dir(dir);
}
