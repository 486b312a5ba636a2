/*
 * atomic_file.c - write a temporary file beside the target, sync it,
 * rename it into place, sync the directory (see atomic_file.h).
 *
 * Error policy: 0 or -errno with a message naming the path; the temporary
 * file never outlives a failure.  Nothing is logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "atomic_file.h"

int atomic_file_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* atomic_file_write_all - LEN bytes of DATA to FD; 0 or -errno */
static int atomic_file_write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, data, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

int atomic_file_write(const char *path, const void *data, size_t len,
		      mode_t mode, char *err, size_t errlen)
{
	char *dir = g_path_get_dirname(path);
	char *base = g_path_get_basename(path);
	char *tmp = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
	const char *step = "create a temporary file for";
	mode_t mask;
	int fd, rc = 0;

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, mode & ~mask) != 0) {
		rc = -errno;
		step = "set the mode of";
		goto unlink;
	}
	rc = atomic_file_write_all(fd, data, len);
	step = "write";
	if (rc == 0 && fsync(fd) != 0) {
		rc = -errno;
		step = "sync";
	}
	if (close(fd) != 0 && rc == 0) {
		rc = -errno;
		step = "close";
	}
	fd = -1;
	if (rc)
		goto unlink;
	if (rename(tmp, path) != 0) {
		rc = -errno;
		step = "rename a temporary file to";
		goto unlink;
	}
	rc = atomic_file_sync_dir(dir);
	step = "sync the directory of";
	goto out;
unlink:
	if (fd >= 0)
		close(fd);
	(void)unlink(tmp);
out:
	if (rc)
		snprintf(err, errlen, "cannot %s '%s': %s", step, path,
			 strerror(-rc));
	g_free(tmp);
	g_free(base);
	g_free(dir);
	return rc;
}
