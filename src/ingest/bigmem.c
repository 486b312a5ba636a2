/*
 * bigmem.c - large zeroed arrays on huge pages (bigmem.h).
 *
 * From BIGMEM_MIN bytes on, an array is an anonymous mapping of its own,
 * its start aligned to 2 MiB (a little more is mapped and the ends cut
 * off) and advised MADV_HUGEPAGE: with transparent huge pages in
 * "madvise" mode (Debian's default) the kernel then backs it with 2 MiB
 * pages.  Where it will not, the mapping works as plain pages.  Growing
 * moves the mapping with mremap (no copy of the pages).  Smaller arrays
 * are calloc'd, and realloc'd when they grow.  A bigarr is a growable
 * array on top of them.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bigmem.h"

#define BIGMEM_HUGE ((size_t)2 << 20)
#define BIGMEM_MIN BIGMEM_HUGE	/* below: calloc */

/* bigmem_round - SIZE rounded up to whole huge pages */
static size_t bigmem_round(size_t size)
{
	return (size + BIGMEM_HUGE - 1) & ~(BIGMEM_HUGE - 1);
}

/* bigmem_map - a zeroed mapping of SIZE bytes (whole huge pages), 2 MiB
   aligned and advised; NULL on failure */
static void *bigmem_map(size_t size)
{
	size_t len = size + BIGMEM_HUGE, head;
	uintptr_t at;
	char *p;

	if (len < size)
		return NULL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	at = ((uintptr_t)p + BIGMEM_HUGE - 1) & ~(uintptr_t)(BIGMEM_HUGE - 1);
	head = at - (uintptr_t)p;
	if (head)
		(void)munmap(p, head);
	if (len - head > size)
		(void)munmap((char *)at + size, len - head - size);
#ifdef MADV_HUGEPAGE
	(void)madvise((void *)at, size, MADV_HUGEPAGE);
#endif
	return (void *)at;
}

/* under AddressSanitizer every array is the allocator's, so that a
   write past one is caught */
#if defined(__SANITIZE_ADDRESS__)
#define BIGMEM_PLAIN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BIGMEM_PLAIN 1
#endif
#endif
#ifdef BIGMEM_PLAIN
#undef BIGMEM_MIN
#define BIGMEM_MIN SIZE_MAX
#endif

void *bigmem_alloc(size_t size)
{
	if (size < BIGMEM_MIN)
		return calloc(1, size ? size : 1);
	return bigmem_map(bigmem_round(size));
}

void *bigmem_grow(void *p, size_t old, size_t size)
{
	void *n;

	if (!p)
		return bigmem_alloc(size);
	if (size < BIGMEM_MIN) {
		n = realloc(p, size);
		if (n)
			memset((char *)n + old, 0, size - old);
		return n;
	}
	if (old >= BIGMEM_MIN) {
		size_t from = bigmem_round(old), to = bigmem_round(size);

		if (to == from)
			return p;
		/* the new pages of a grown anonymous mapping are zero */
		n = mremap(p, from, to, MREMAP_MAYMOVE);
		if (n == MAP_FAILED)
			return NULL;
#ifdef MADV_HUGEPAGE
		(void)madvise(n, to, MADV_HUGEPAGE);
#endif
		return n;
	}
	n = bigmem_alloc(size);
	if (!n)
		return NULL;
	memcpy(n, p, old);
	free(p);
	return n;
}

void bigmem_free(void *p, size_t size)
{
	if (!p)
		return;
	if (size < BIGMEM_MIN)
		free(p);
	else
		(void)munmap(p, bigmem_round(size));
}

int bigarr_room(struct bigarr *a, size_t n)
{
	size_t cap = a->cap ? a->cap : 4096;
	void *v;

	if (a->len + n <= a->cap)
		return 0;
	while (cap < a->len + n) {
		if (cap > SIZE_MAX / 2 / a->elem)
			return -ENOMEM;
		cap *= 2;
	}
	v = bigmem_grow(a->v, a->cap * a->elem, cap * a->elem);
	if (!v)
		return -ENOMEM;
	a->v = v;
	a->cap = cap;
	return 0;
}

void bigarr_free(struct bigarr *a)
{
	bigmem_free(a->v, a->cap * a->elem);
	a->v = NULL;
	a->len = a->cap = 0;
}
