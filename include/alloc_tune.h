/*
 * alloc_tune.h - glibc's allocator set for large commits: bounced run and
 * bounced process of large inputs start themselves again, once, with
 * GLIBC_TUNABLES asking for huge pages and one arena (alloc_tune.c).
 */
#ifndef BOUNCED_ALLOC_TUNE_H
#define BOUNCED_ALLOC_TUNE_H

#include <stdint.h>

/* what the program is started again with */
#define ALLOC_TUNE_TUNABLES "glibc.malloc.hugetlb=1:glibc.malloc.arena_max=1"
/* bounced process starts again for inputs of this many bytes or more */
#define ALLOC_TUNE_MIN_BYTES (64LL << 20)

/* alloc_tune_init - remember the program's ARGV (a copy, before any
   option parsing permutes it; kept to the end) */
void alloc_tune_init(char **argv);

/* alloc_tune_reexec - start this program again with ALLOC_TUNE_TUNABLES,
   WHY saying for what (the debug log's line).  Returns only when it did
   not: GLIBC_TUNABLES set already (the operator's, or this start's),
   LD_PRELOAD set (another allocator, a tool), a sanitizer's build (its allocator is not glibc's), transparent huge pages
   off, no ARGV, or the exec failed (-errno, logged; the run goes on with
   the allocator as it is).  0 when not tried.  Call it before anything
   is opened that must not be open twice (locks, the state). */
int alloc_tune_reexec(const char *why);

/* alloc_tune_sizes - the bytes of the regular files named by PATHS (N of
   them; "-" and what cannot be stat'ed count 0) */
int64_t alloc_tune_sizes(char *const *paths, int n);

#endif
