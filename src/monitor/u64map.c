/*
 * u64map.c - a flat hash table from a 64-bit key to a 64-bit value
 * (u64map.h): open addressing, linear probing, backward-shift removal.
 */
#include <string.h>

#include <glib.h>

#include "u64map.h"

#define U64MAP_MIN 16		/* slots of the first array */

/* u64map_slot - KEY's home slot in M (cap > 0) */
static inline size_t u64map_slot(const struct u64map *m, uint64_t key)
{
	uint64_t x = key ^ m->seed;

	/* splitmix64's finaliser: every key bit moves the low bits */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return (size_t)x & (m->cap - 1);
}

void u64map_init(struct u64map *m)
{
	memset(m, 0, sizeof(*m));
	m->seed = ((uint64_t)g_random_int() << 32) | g_random_int();
}

void u64map_clear(struct u64map *m)
{
	uint64_t seed = m->seed;

	g_free(m->ents);
	memset(m, 0, sizeof(*m));
	m->seed = seed;
}

struct u64map *u64map_new(void)
{
	struct u64map *m = g_new(struct u64map, 1);

	u64map_init(m);
	return m;
}

void u64map_free(struct u64map *m)
{
	if (!m)
		return;
	g_free(m->ents);
	g_free(m);
}

/* u64map_find - the slot of KEY (not 0) in M, or the free slot where it
   would go */
static size_t u64map_find(const struct u64map *m, uint64_t key)
{
	size_t i = u64map_slot(m, key);

	while (m->ents[i].key && m->ents[i].key != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

/* u64map_grow - M's array doubled (or made), its entries placed again */
static void u64map_grow(struct u64map *m)
{
	struct u64map_ent *old = m->ents;
	size_t oldcap = m->cap, i;

	m->cap = oldcap ? oldcap * 2 : U64MAP_MIN;
	m->ents = g_new0(struct u64map_ent, m->cap);
	for (i = 0; i < oldcap; i++)
		if (old[i].key)
			m->ents[u64map_find(m, old[i].key)] = old[i];
	g_free(old);
}

int64_t *u64map_get(struct u64map *m, uint64_t key)
{
	size_t i;

	if (key == 0)
		return m->has_zero ? &m->zero_val : NULL;
	if (m->used == 0)
		return NULL;
	i = u64map_find(m, key);
	return m->ents[i].key ? &m->ents[i].val : NULL;
}

void u64map_put(struct u64map *m, uint64_t key, int64_t val)
{
	size_t i;

	if (key == 0) {
		m->has_zero = true;
		m->zero_val = val;
		return;
	}
	if ((m->used + 1) * 4 > m->cap * 3)
		u64map_grow(m);
	i = u64map_find(m, key);
	if (!m->ents[i].key) {
		m->ents[i].key = key;
		m->used++;
	}
	m->ents[i].val = val;
}

bool u64map_remove(struct u64map *m, uint64_t key)
{
	size_t i, j, home, mask = m->cap - 1;

	if (key == 0) {
		bool had = m->has_zero;

		m->has_zero = false;
		return had;
	}
	if (m->used == 0)
		return false;
	i = u64map_find(m, key);
	if (!m->ents[i].key)
		return false;
	/* the entries after it in its run move back into the hole when
	   their home slot is not between the hole and them */
	for (j = (i + 1) & mask; m->ents[j].key; j = (j + 1) & mask) {
		home = u64map_slot(m, m->ents[j].key);
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->ents[i] = m->ents[j];
			i = j;
		}
	}
	m->ents[i].key = 0;
	m->ents[i].val = 0;
	m->used--;
	return true;
}

bool u64map_next(const struct u64map *m, size_t *pos, uint64_t *key,
		 int64_t *val)
{
	/* position 0 is key 0, then slot i at position i + 1 */
	if (*pos == 0) {
		*pos = 1;
		if (m->has_zero) {
			*key = 0;
			*val = m->zero_val;
			return true;
		}
	}
	while (*pos - 1 < m->cap) {
		const struct u64map_ent *e = &m->ents[*pos - 1];

		(*pos)++;
		if (e->key) {
			*key = e->key;
			*val = e->val;
			return true;
		}
	}
	return false;
}
