/*
 * atomic_file.c - write a temporary file beside the target, sync it,
 * rename it into place, sync the directory (see atomic_file.h).
 *
 * Only a regular file is ever replaced: a target that is a device, a FIFO,
 * a socket, a directory or a symbolic link (the name of something that is
 * not ours: /dev/null, a link into another tree) is refused before the
 * temporary file is made and looked at again just before the rename.
 *
 * atomic_file_rename_new moves a file where nothing is, in one step
 * (renameat2 RENAME_NOREPLACE; where the file system has no such rename,
 * link(2) then unlink(2)), so that two movers cannot both get the name.
 *
 * Error policy: 0 or -errno with a message naming the path; the temporary
 * file never outlives a failure.  Nothing is logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
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

/* atomic_file_kind - what a non-regular file of mode M is, in words */
const char *atomic_file_kind(mode_t m)
{
	if (S_ISLNK(m))
		return "a symbolic link";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

/* atomic_file_check_target - 0 when PATH is absent or a regular file;
   -EEXIST with ERR when it is something else */
int atomic_file_check_target(const char *path, char *err, size_t errlen)
{
	struct stat sb;

	if (lstat(path, &sb) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISREG(sb.st_mode))
		return 0;
	snprintf(err, errlen, "'%s' is %s, not a regular file: it is left as "
		 "it is (give the name of a regular file, or of none yet)",
		 path, atomic_file_kind(sb.st_mode));
	return -EEXIST;
}

/* atomic_file_under - is the directory of PATH DIR or inside it? */
static bool atomic_file_under(const char *pathdir, const char *dir)
{
	char *d;
	size_t n;
	bool in;

	if (!dir || !*dir || !(d = realpath(dir, NULL)))
		return false;
	n = strlen(d);
	in = strncmp(pathdir, d, n) == 0 &&
	     (pathdir[n] == '\0' || pathdir[n] == '/' ||
	      (n == 1 && d[0] == '/'));
	free(d);
	return in;
}

/* atomic_file_mode_in - MODE, closed to others when PATH lies under DIR1
   or DIR2 */
mode_t atomic_file_mode_in(const char *path, mode_t mode, const char *dir1,
			   const char *dir2)
{
	char *dir = g_path_get_dirname(path);
	char *real = realpath(dir, NULL);

	if (real && (atomic_file_under(real, dir1) ||
		     atomic_file_under(real, dir2)))
		mode &= ~(mode_t)007;
	free(real);
	g_free(dir);
	return mode;
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

int atomic_file_rename_new(const char *from, const char *to)
{
	int rc;

	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	/* no RENAME_NOREPLACE here: link(2) fails when TO exists */
	if (link(from, to) != 0)
		return -errno;
	if (unlink(from) == 0 || errno == ENOENT)
		return 0;	/* moved (or FROM went meanwhile: TO keeps it) */
	rc = -errno;
	(void)unlink(to);
	return rc;
}

int atomic_file_write(const char *path, const void *data, size_t len,
		      mode_t mode, char *err, size_t errlen)
{
	char *dir = g_path_get_dirname(path);
	char *base = g_path_get_basename(path);
	char *tmp = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
	const char *step = "create a temporary file for";
	mode_t mask;
	int fd, rc;

	rc = atomic_file_check_target(path, err, errlen);
	if (rc == -EEXIST)
		goto done;
	rc = 0;
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
	/* again: it may have changed while the data was written */
	rc = atomic_file_check_target(path, err, errlen);
	if (rc == -EEXIST) {
		(void)unlink(tmp);
		goto done;
	}
	rc = 0;
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
done:
	g_free(tmp);
	g_free(base);
	g_free(dir);
	return rc;
}
