/*
 * substr_set.c - which of a set of byte strings occur in a text, in one
 * pass (substr_set.h): an Aho-Corasick automaton.  The strings' trie is
 * made into a complete table of next states (a row of 256 per state, so
 * a byte costs one load), and each state that ends a string, itself or
 * through its failure links, names the bitmap of those strings; a
 * transition into such a state has SS_HIT set, so the search reads
 * nothing else for the bytes that end no string.
 *
 * Error policy: the maker returns NULL over the limits or out of memory
 * (the caller then searches for each string alone); searching never
 * fails and allocates nothing.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "substr_set.h"

#define SS_HIT 0x8000		/* a transition into a state that ends one */
#define SS_STATE 0x7fff
_Static_assert(SUBSTR_SET_BYTES_MAX < SS_STATE, "states fit SS_STATE");

struct substr_set {
	uint16_t (*next)[256];	/* a row per state; 0 is the root */
	uint16_t *hit;		/* per state: 1 + its index in found, or 0 */
	uint64_t (*found)[SUBSTR_SET_WORDS];
	uint64_t always[SUBSTR_SET_WORDS];	/* the empty strings */
};

void substr_set_free(struct substr_set *s)
{
	if (!s)
		return;
	free(s->next);
	free(s->hit);
	free(s->found);
	free(s);
}

/* ss_trie - the strings' trie into S->next (states counted in *NSTATES),
   the strings each state ends into MASK, the empty ones into always */
static void ss_trie(struct substr_set *s, const char *const *strs, size_t n,
		    uint64_t (*mask)[SUBSTR_SET_WORDS], size_t *nstates)
{
	size_t i;

	*nstates = 1;
	for (i = 0; i < n; i++) {
		const unsigned char *p = (const unsigned char *)strs[i];
		uint64_t bit = (uint64_t)1 << (i % 64);
		uint16_t st = 0;

		if (!p)
			continue;
		if (!*p) {
			s->always[i / 64] |= bit;
			continue;
		}
		for (; *p; p++) {
			if (!s->next[st][*p])
				s->next[st][*p] = (uint16_t)(*nstates)++;
			st = s->next[st][*p];
		}
		mask[st][i / 64] |= bit;
	}
}

/* ss_links - breadth first from the root: each state's failure link,
   its row completed from its link's, its mask merged with its link's
   (the link is nearer the root: done before it) */
static void ss_links(struct substr_set *s, uint64_t (*mask)[SUBSTR_SET_WORDS],
		     uint16_t *fail, uint16_t *queue)
{
	size_t head = 0, tail = 0, k, w;

	for (k = 0; k < 256; k++)
		if (s->next[0][k])
			queue[tail++] = s->next[0][k];	/* linked to the root */
	while (head < tail) {
		uint16_t u = queue[head++];

		for (w = 0; w < SUBSTR_SET_WORDS; w++)
			mask[u][w] |= mask[fail[u]][w];
		for (k = 0; k < 256; k++) {
			uint16_t t = s->next[u][k];

			if (t) {
				fail[t] = s->next[fail[u]][k];
				queue[tail++] = t;
			} else {
				s->next[u][k] = s->next[fail[u]][k];
			}
		}
	}
}

/* ss_hits - the states whose mask is not empty get an index in found */
static int ss_hits(struct substr_set *s, uint64_t (*mask)[SUBSTR_SET_WORDS],
		   size_t nstates)
{
	size_t st, w, nfound = 0;

	for (st = 0; st < nstates; st++)
		for (w = 0; w < SUBSTR_SET_WORDS; w++)
			if (mask[st][w]) {
				s->hit[st] = (uint16_t)++nfound;
				break;
			}
	s->found = malloc((nfound ? nfound : 1) * sizeof(*s->found));
	if (!s->found)
		return -1;
	for (st = 0; st < nstates; st++)
		if (s->hit[st])
			memcpy(s->found[s->hit[st] - 1], mask[st],
			       sizeof(mask[st]));
	/* the transitions into those states marked */
	for (st = 0; st < nstates; st++)
		for (w = 0; w < 256; w++)
			if (s->hit[s->next[st][w]])
				s->next[st][w] |= SS_HIT;
	return 0;
}

struct substr_set *substr_set_new(const char *const *strs, size_t n)
{
	struct substr_set *s = NULL;
	uint64_t (*mask)[SUBSTR_SET_WORDS] = NULL;
	uint16_t *fail = NULL, *queue = NULL;
	size_t i, total = 0, nstates;
	bool ok = false;

	if (n > SUBSTR_SET_MAX)
		return NULL;
	for (i = 0; i < n; i++) {
		total += strs[i] ? strlen(strs[i]) : 0;
		if (total > SUBSTR_SET_BYTES_MAX)
			return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	/* a state per byte at most, and the root */
	s->next = calloc(total + 1, sizeof(*s->next));
	s->hit = calloc(total + 1, sizeof(*s->hit));
	mask = calloc(total + 1, sizeof(*mask));
	fail = calloc(total + 1, sizeof(*fail));
	queue = malloc((total + 1) * sizeof(*queue));
	if (!s->next || !s->hit || !mask || !fail || !queue)
		goto out;
	ss_trie(s, strs, n, mask, &nstates);
	ss_links(s, mask, fail, queue);
	ok = ss_hits(s, mask, nstates) == 0;
out:
	free(mask);
	free(fail);
	free(queue);
	if (!ok) {
		substr_set_free(s);
		s = NULL;
	}
	return s;
}

void substr_set_find(const struct substr_set *s, const char *text, size_t n,
		     uint64_t found[SUBSTR_SET_WORDS])
{
	const unsigned char *p = (const unsigned char *)text;
	uint16_t st = 0;
	size_t i, w;

	memcpy(found, s->always, sizeof(s->always));
	for (i = 0; i < n; i++) {
		st = s->next[st][p[i]];
		if (st & SS_HIT) {
			const uint64_t *m;

			st &= SS_STATE;
			m = s->found[s->hit[st] - 1];
			for (w = 0; w < SUBSTR_SET_WORDS; w++)
				found[w] |= m[w];
		}
	}
}
