/*
 * fail_rename.c - a maildir whose mails cannot leave new/, for the
 * integration tests: loaded with LD_PRELOAD, rename() of a path holding
 * the text of $BOUNCED_TEST_FAIL_RENAME fails with EXDEV (as when new/
 * is on another filesystem than done/) while the file named by
 * $BOUNCED_TEST_FAIL_RENAME_WHILE exists (unset: always), and renames as
 * the C library does otherwise.  Built apart from bounced (SConstruct),
 * never installed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int rename(const char *from, const char *to)
{
	static int (*real)(const char *, const char *);
	const char *want = getenv("BOUNCED_TEST_FAIL_RENAME");
	const char *trigger = getenv("BOUNCED_TEST_FAIL_RENAME_WHILE");

	if (want && *want && strstr(from, want) &&
	    (!trigger || !*trigger || access(trigger, F_OK) == 0)) {
		errno = EXDEV;
		return -1;
	}
	if (!real)
		real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT,
								  "rename");
	return real(from, to);
}
