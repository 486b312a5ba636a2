/*
 * name_cache.h - a small direct-mapped cache from a short name to a
 * pointer, in front of a hash table that names are looked up in for every
 * record (the rates' names per dimension, the destination of a domain,
 * an incident pair).
 *
 * The names of an accounting file repeat from record to record (a few
 * campaigns, sources, domains and senders), so most lookups are answered
 * here by one hash over the bytes, 8 at a time, and one memcmp, instead
 * of a byte-at-a-time string hash, a table probe and strcmp.  A name
 * longer than NAME_CACHE_KEY - 1 bytes is never cached (the caller takes
 * the slow path).  A cached answer may be NULL ("not in the table").  The
 * owner clears the cache whenever the table behind it changes in a way
 * that could make an answer wrong (an entry freed or, for cached NULLs,
 * added).  No allocation, no failure.
 */
#ifndef BOUNCED_NAME_CACHE_H
#define BOUNCED_NAME_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "strhash.h"

/* a power of two: an incident's pairs (a source and a destination) are
   a few hundred in a busy hour, and 64 slots missed half their lookups */
#define NAME_CACHE_SLOTS 256
#define NAME_CACHE_KEY 104		/* bytes of a name, NUL included */

struct name_cache_slot {
	uint64_t hash;
	void *val;
	uint32_t len;			/* 0: free */
	char name[NAME_CACHE_KEY];
};

struct name_cache {
	struct name_cache_slot slot[NAME_CACHE_SLOTS];
};

/* name_cache_hash - a 64-bit hash of the N bytes at S (N > 0) */
static inline uint64_t name_cache_hash(const char *s, size_t n)
{
	return strhash(0x9E3779B97F4A7C15ULL, s, n);
}

/* name_cache_clear - forget every answer */
static inline void name_cache_clear(struct name_cache *c)
{
	size_t i;

	for (i = 0; i < NAME_CACHE_SLOTS; i++)
		c->slot[i].len = 0;
}

/* name_cache_get - the answer cached for NAME (N bytes, hash H) into
   *VAL: true, or false when not cached */
static inline bool name_cache_get(const struct name_cache *c,
				  const char *name, size_t n, uint64_t h,
				  void **val)
{
	const struct name_cache_slot *s =
		&c->slot[(h >> 40) & (NAME_CACHE_SLOTS - 1)];

	if (s->len != n || s->hash != h || memcmp(s->name, name, n) != 0)
		return false;
	*val = s->val;
	return true;
}

/* name_cache_put - VAL is the answer for NAME (N bytes, hash H); a name
   too long is not kept */
static inline void name_cache_put(struct name_cache *c, const char *name,
				  size_t n, uint64_t h, void *val)
{
	struct name_cache_slot *s =
		&c->slot[(h >> 40) & (NAME_CACHE_SLOTS - 1)];

	if (n == 0 || n >= NAME_CACHE_KEY)
		return;
	memcpy(s->name, name, n);
	s->len = (uint32_t)n;
	s->hash = h;
	s->val = val;
}

#endif
