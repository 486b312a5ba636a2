/*
 * fail_rename.c - a maildir whose mails cannot leave new/, for the
 * integration tests: loaded with LD_PRELOAD, rename() and renameat2() of
 * a path holding the text of $BOUNCED_TEST_FAIL_RENAME fail with EXDEV
 * (as when new/ is on another filesystem than done/) while the file named
 * by $BOUNCED_TEST_FAIL_RENAME_WHILE exists (unset: always), and rename
 * as the C library does otherwise.  Built apart from bounced
 * (SConstruct), never installed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* fail_rename_now - FROM is to fail (errno set) */
static int fail_rename_now(const char *from)
{
	const char *want = getenv("BOUNCED_TEST_FAIL_RENAME");
	const char *trigger = getenv("BOUNCED_TEST_FAIL_RENAME_WHILE");

	if (want && *want && strstr(from, want) &&
	    (!trigger || !*trigger || access(trigger, F_OK) == 0)) {
		errno = EXDEV;
		return 1;
	}
	return 0;
}

int rename(const char *from, const char *to)
{
	static int (*real)(const char *, const char *);

	if (fail_rename_now(from))
		return -1;
	if (!real)
		real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT,
								  "rename");
	return real(from, to);
}

int renameat2(int fromfd, const char *from, int tofd, const char *to,
	      unsigned int flags)
{
	static int (*real)(int, const char *, int, const char *,
			   unsigned int);

	if (fail_rename_now(from))
		return -1;
	if (!real)
		real = (int (*)(int, const char *, int, const char *,
				unsigned int))dlsym(RTLD_NEXT, "renameat2");
	return real(fromfd, from, tofd, to, flags);
}
