/*
 * alloc_tune.c - glibc's allocator set for large commits.
 *
 * A commit on a large state copies most of the recipients' tree: LMDB
 * allocates every page it dirties with malloc, one page at a time, and the
 * committer thread's arena grows page by page, each a fault on fresh
 * memory.  These faults were a quarter of the committer's time on 2M
 * records on 1.2M addresses.  glibc's tunables glibc.malloc.hugetlb=1
 * (the heap advised for transparent huge pages) and glibc.malloc.arena_max=1
 * (every thread on the main heap, the one that advice reaches) cut them
 * from 130,000 to 16,000 and the run's system time from 2.3-4.2 s to
 * 0.7-0.9 s.  Tunables are read when a program starts only, so bounced
 * run and bounced process of 64 MiB or more start themselves again with
 * them, unless GLIBC_TUNABLES is set (the operator's choice wins; it is
 * also how the second start knows it is one) or LD_PRELOAD is (another
 * allocator, or a tool such as valgrind, whose client must not leave
 * it).  The exec keeps the pid and every open descriptor: it is made
 * before any lock or state is opened.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "alloc_tune.h"
#include "log.h"

#define ALLOC_TUNE_THP "/sys/kernel/mm/transparent_hugepage/enabled"

static char **alloc_tune_argv;

void alloc_tune_init(char **argv)
{
	/* a copy: option parsing may permute ARGV */
	alloc_tune_argv = g_strdupv(argv);
}

/* alloc_tune_sanitized - a sanitizer's build brings its own allocator */
static bool alloc_tune_sanitized(void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
	return true;
#else
	return false;
#endif
#else
	return false;
#endif
}

/* alloc_tune_thp - transparent huge pages are on, always or on advice
   (what hugetlb=1 gives); without them one arena alone is slower */
static bool alloc_tune_thp(void)
{
	char buf[128];
	FILE *f = fopen(ALLOC_TUNE_THP, "re");
	bool on = false;

	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f))
		on = strstr(buf, "[always]") || strstr(buf, "[madvise]");
	fclose(f);
	return on;
}

int64_t alloc_tune_sizes(char *const *paths, int n)
{
	int64_t sum = 0;
	struct stat sb;
	int i;

	for (i = 0; i < n; i++) {
		if (strcmp(paths[i], "-") == 0)
			continue;
		if (stat(paths[i], &sb) == 0 && S_ISREG(sb.st_mode))
			sum += sb.st_size;
	}
	return sum;
}

int alloc_tune_reexec(const char *why)
{
	const char *preload = getenv("LD_PRELOAD");
	char self[PATH_MAX];
	ssize_t len;
	int err;

	/* LD_PRELOAD: another allocator, or a tool such as valgrind (whose
	   client the exec would take from it): left as the operator made it */
	if (!alloc_tune_argv || getenv("GLIBC_TUNABLES") ||
	    (preload && *preload) || alloc_tune_sanitized() ||
	    !alloc_tune_thp())
		return 0;
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0 || (size_t)len >= sizeof(self) - 1) {
		log_warn("bounced", "cannot find this program's file "
			 "(/proc/self/exe) to start it with GLIBC_TUNABLES=%s "
			 "for %s; going on with the allocator as it is",
			 ALLOC_TUNE_TUNABLES, why);
		return -ENOENT;
	}
	self[len] = '\0';
	if (setenv("GLIBC_TUNABLES", ALLOC_TUNE_TUNABLES, 1) != 0)
		return -errno;
	log_debug("bounced", "starting again with GLIBC_TUNABLES=%s for %s",
		  ALLOC_TUNE_TUNABLES, why);
	fflush(stdout);
	fflush(stderr);
	execv(self, alloc_tune_argv);
	err = errno;
	unsetenv("GLIBC_TUNABLES");
	log_warn("bounced", "cannot start %s again with GLIBC_TUNABLES=%s "
		 "for %s: %s; going on with the allocator as it is", self,
		 ALLOC_TUNE_TUNABLES, why, strerror(err));
	return -err;
}
