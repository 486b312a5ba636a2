/*
 * bigmem.h - large zeroed arrays for the ingest tables (the batch's hash
 * tables and sort arrays): mapped on their own, 2 MiB aligned and offered
 * to the kernel as huge pages, so that filling one costs a fault per
 * 2 MiB instead of one per 4 KiB page, and looking up at random in it
 * misses the TLB less.  Small sizes come from calloc.  The caller keeps
 * the size: it is needed to free or grow.
 */
#ifndef BOUNCED_BIGMEM_H
#define BOUNCED_BIGMEM_H

#include <stddef.h>

/* bigmem_alloc - SIZE zeroed bytes, or NULL (ENOMEM) */
void *bigmem_alloc(size_t size);

/* bigmem_grow - P (OLD bytes, from bigmem_alloc; NULL with OLD 0) made
   SIZE bytes (SIZE > OLD), its content kept and the rest zeroed; NULL on
   ENOMEM, P then unchanged */
void *bigmem_grow(void *p, size_t old, size_t size);

/* bigmem_free - P of SIZE bytes from bigmem_alloc or bigmem_grow */
void bigmem_free(void *p, size_t size);

/*
 * A growable array of ELEM-byte elements on bigmem: {NULL, 0, 0, ELEM}
 * is an empty one.  Growing doubles it (at least 4096 elements) and moves
 * no element through a copy once it is a mapping of its own.
 */
struct bigarr {
	void *v;
	size_t len, cap, elem;
};

/* bigarr_room - room for N more elements in A; 0 or -ENOMEM (A then
   unchanged) */
int bigarr_room(struct bigarr *a, size_t n);

/* bigarr_free - A's memory given back; A is empty after */
void bigarr_free(struct bigarr *a);

#endif
