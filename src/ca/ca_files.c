/* The CA's file set on disk. All four files appear at once: they are written into a temporary
 * directory beside DATA_DIR/ca and published by renaming the directory, which is atomic. A
 * crash before the rename leaves only a ".ca.tmp.*" directory (ignored; its keys are sealed),
 * and a process that loses a creation race finds DATA_DIR/ca non-empty and loads the winner's. */
#include "ca/ca_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/fileio.h"
#include "lib/log.h"

static int join(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= cap ? SE_EINVAL : 0;
}



/* Creates DIR/F->name with F->mode exactly (umask ignored) and makes its contents durable. */
static int write_one(const char *dir, const struct ca_file *f)
{
	char path[PATH_MAX];
	int fd = -1;
	int rc = join(path, sizeof(path), dir, f->name);

	if (rc)
		return rc;
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		return SE_EIO;
	rc = fchmod(fd, (mode_t)f->mode) == 0 ? 0 : SE_EIO;
	if (rc == 0)
		rc = fileio_write_all(fd, f->data, f->len);
	if (rc == 0 && fsync(fd) != 0)
		rc = SE_EIO;
	if (close(fd) != 0 && rc == 0)
		rc = SE_EIO;
	return rc;
}

/* Removes the loser's or a failed attempt's temporary directory. */
static void remove_tmp(const char *dir, const struct ca_file *files, size_t n)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < n; i++)
		if (join(path, sizeof(path), dir, files[i].name) == 0)
			unlink(path);
	rmdir(dir);
}

int ca_files_commit(const char *data_dir, const struct ca_file *files, size_t n)
{
	char tmp[PATH_MAX], final[PATH_MAX];
	int rc = join(tmp, sizeof(tmp), data_dir, ".ca.tmp.XXXXXX");

	if (rc == 0)
		rc = join(final, sizeof(final), data_dir, CA_DIR_NAME);
	if (rc)
		return rc;
	if (!mkdtemp(tmp)) {
		log_error("msg=\"cannot create CA directory\" dir=%s errno=%d", data_dir, errno);
		return SE_EIO;
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = write_one(tmp, &files[i]);
	/* 0755: root.pem is meant to be handed to clients; the keys keep their own 0600 */
	if (rc == 0 && (chmod(tmp, 0755) != 0 || fileio_fsync_dir(tmp) != 0))
		rc = SE_EIO;
	if (rc == 0 && rename(tmp, final) != 0)
		rc = (errno == EEXIST || errno == ENOTEMPTY) ? SE_EEXISTS : SE_EIO;
	if (rc) {
		remove_tmp(tmp, files, n);
		return rc;
	}
	return fileio_fsync_dir(data_dir);
}

int ca_files_read(const char *path, unsigned char **buf, size_t *len)
{
	FILE *f = fopen(path, "rbe");
	unsigned char *b = NULL;
	size_t got;
	int rc = SE_EIO;

	*buf = NULL;
	*len = 0;
	if (!f)
		return errno == ENOENT ? SE_ENOTFOUND : SE_EIO;
	b = malloc(CA_FILE_MAX + 1);
	if (!b) {
		rc = SE_ENOMEM;
		goto out;
	}
	got = fread(b, 1, CA_FILE_MAX + 1, f);
	if (ferror(f) || got == 0 || got > CA_FILE_MAX)
		goto out;
	*buf = b;
	*len = got;
	b = NULL;
	rc = 0;
out:
	free(b);
	fclose(f);
	return rc;
}
