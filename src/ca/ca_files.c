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
#include <time.h>
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

/* ---- the set, as kept in the store -------------------------------------------------------- */

/* The order ca_bootstrap commits them in: the public certificates last. */
const char *const ca_file_names[CA_N_FILES] = {CA_ROOT_KEY, CA_INTER_KEY, CA_INTER_PEM,
					       CA_ROOT_PEM};

static unsigned mode_of(const char *name)
{
	return strcmp(name, CA_ROOT_KEY) == 0 || strcmp(name, CA_INTER_KEY) == 0 ? 0600 : 0644;
}

void ca_file_set_dispose(struct ca_file_set *set)
{
	for (size_t i = 0; i < CA_N_FILES; i++) {
		free(set->data[i]);
		set->data[i] = NULL;
		set->len[i] = 0;
	}
}

int ca_file_set_read(const char *data_dir, struct ca_file_set *set)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int rc = join(dir, sizeof(dir), data_dir, CA_DIR_NAME);

	memset(set, 0, sizeof(*set));
	for (size_t i = 0; rc == 0 && i < CA_N_FILES; i++) {
		rc = join(path, sizeof(path), dir, ca_file_names[i]);
		if (rc == 0)
			rc = ca_files_read(path, &set->data[i], &set->len[i]);
		/* A set is whole or absent (ca_files_commit). */
		if (rc == SE_ENOTFOUND && (i > 0 || access(dir, F_OK) == 0))
			rc = SE_EIO;
	}
	if (rc)
		ca_file_set_dispose(set);
	return rc;
}

static int same_set(const struct ca_file_set *a, const struct ca_file_set *b)
{
	for (size_t i = 0; i < CA_N_FILES; i++)
		if (a->len[i] != b->len[i] || memcmp(a->data[i], b->data[i], a->len[i]) != 0)
			return 0;
	return 1;
}

/* Renames DATA_DIR/ca out of the way, so that SET can take its place. */
static int move_aside(const char *data_dir)
{
	char from[PATH_MAX], to[PATH_MAX];
	int n;

	if (join(from, sizeof(from), data_dir, CA_DIR_NAME) != 0)
		return SE_EINVAL;
	n = snprintf(to, sizeof(to), "%s.replaced-%lld", from, (long long)time(NULL));
	if (n < 0 || (size_t)n >= sizeof(to))
		return SE_EINVAL;
	if (rename(from, to) != 0) {
		log_error("msg=\"cannot move the internal CA aside\" path=%s errno=%d", from,
			  errno);
		return SE_EIO;
	}
	log_warn("msg=\"another internal CA was in the data directory: moved aside, the store's is "
		 "used\" moved_to=%s",
		 to);
	return 0;
}

int ca_file_set_publish(const char *data_dir, const struct ca_file_set *set)
{
	struct ca_file_set here;
	struct ca_file files[CA_N_FILES];
	int rc = ca_file_set_read(data_dir, &here);

	if (rc == 0) {
		int same = same_set(&here, set);

		ca_file_set_dispose(&here);
		if (same)
			return 0;
		rc = move_aside(data_dir);
	} else if (rc == SE_ENOTFOUND) {
		rc = 0;
	} else {
		rc = move_aside(data_dir); /* a broken set: the store's replaces it */
	}
	if (rc)
		return rc;
	for (size_t i = 0; i < CA_N_FILES; i++)
		files[i] = (struct ca_file){ca_file_names[i], set->data[i], set->len[i],
					    mode_of(ca_file_names[i])};
	return ca_files_commit(data_dir, files, CA_N_FILES);
}
