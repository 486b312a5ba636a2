/*
 * fail_read.c - a failing disk under one file, for the integration
 * tests: loaded with LD_PRELOAD, read() and pread() fail with EIO (or
 * the errno number $BOUNCED_TEST_FAIL_ERRNO) on any file whose path
 * holds the text of $BOUNCED_TEST_FAIL_READ, and go to the C library's
 * for everything else.  Unset or empty: nothing fails.  Built apart from
 * bounced (SConstruct), never installed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* fail_errno - the errno a failing read sets */
static int fail_errno(void)
{
	const char *e = getenv("BOUNCED_TEST_FAIL_ERRNO");
	int n = e ? atoi(e) : 0;

	return n > 0 ? n : EIO;
}

/* fails - the file of FD is one whose reads fail */
static int fails(int fd)
{
	const char *want = getenv("BOUNCED_TEST_FAIL_READ");
	char link[64], path[PATH_MAX];
	ssize_t n;

	if (!want || !*want)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return 0;
	path[n] = '\0';
	return strstr(path, want) != NULL;
}

ssize_t read(int fd, void *buf, size_t len)
{
	static ssize_t (*real)(int, void *, size_t);

	if (fails(fd)) {
		errno = fail_errno();
		return -1;
	}
	if (!real)
		real = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT,
							      "read");
	return real(fd, buf, len);
}

ssize_t pread(int fd, void *buf, size_t len, off_t off)
{
	static ssize_t (*real)(int, void *, size_t, off_t);

	if (fails(fd)) {
		errno = fail_errno();
		return -1;
	}
	if (!real)
		real = (ssize_t (*)(int, void *, size_t, off_t))dlsym(
			RTLD_NEXT, "pread");
	return real(fd, buf, len, off);
}

ssize_t pread64(int fd, void *buf, size_t len, off64_t off)
{
	static ssize_t (*real)(int, void *, size_t, off64_t);

	if (fails(fd)) {
		errno = fail_errno();
		return -1;
	}
	if (!real)
		real = (ssize_t (*)(int, void *, size_t, off64_t))dlsym(
			RTLD_NEXT, "pread64");
	return real(fd, buf, len, off);
}
