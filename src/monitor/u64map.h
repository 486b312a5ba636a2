/*
 * u64map.h - a flat hash table from a 64-bit key to a 64-bit value: the
 * incidents' tables of recipients (an address hash and the time it was
 * last seen).
 *
 * A block keeps tens of thousands of recipients in an incident pair's
 * window, and every sender-side bounce looks one up: GLib's table spent
 * two allocations per recipient (key and value), and every lookup and the
 * walk of each save chased them.  Here an entry is 16 bytes in one array,
 * open addressing with linear probing, a removal shifting the entries
 * after it back (no tombstones), the capacity a power of two kept at
 * most 3/4 full.  Keys are mixed with a random seed per table, so that
 * no input chooses where its addresses land.  Key 0 is kept beside the
 * array (0 marks a free slot).  Allocation failure aborts, as GLib does.
 */
#ifndef BOUNCED_U64MAP_H
#define BOUNCED_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct u64map_ent {
	uint64_t key;		/* 0: free */
	int64_t val;
};

struct u64map {
	struct u64map_ent *ents;
	size_t cap, used;	/* slots (0 or a power of two), keys in them */
	uint64_t seed;
	bool has_zero;		/* key 0 is in, with value ZERO_VAL */
	int64_t zero_val;
};

/* u64map_init - an empty table (no allocation until the first put) */
void u64map_init(struct u64map *m);
/* u64map_clear - every entry gone, the memory freed */
void u64map_clear(struct u64map *m);
/* u64map_new / u64map_free - an empty table of its own; free: NULL is
   fine */
struct u64map *u64map_new(void);
void u64map_free(struct u64map *m);

/* u64map_size - the number of keys */
static inline size_t u64map_size(const struct u64map *m)
{
	return m->used + (m->has_zero ? 1 : 0);
}

/* u64map_get - the value of KEY (valid until the next put or remove), or
   NULL */
int64_t *u64map_get(struct u64map *m, uint64_t key);
/* u64map_put - KEY's value set to VAL (added when absent) */
void u64map_put(struct u64map *m, uint64_t key, int64_t val);
/* u64map_remove - KEY gone; whether it was there */
bool u64map_remove(struct u64map *m, uint64_t key);

/* u64map_next - the entries in no order: start with *POS 0, then true
   with *KEY and *VAL set until every entry was given (the table may not
   change meanwhile) */
bool u64map_next(const struct u64map *m, size_t *pos, uint64_t *key,
		 int64_t *val);

#endif
