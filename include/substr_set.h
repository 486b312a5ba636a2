/*
 * substr_set.h - which of a set of byte strings occur in a text, found in
 * one pass over the text (an Aho-Corasick automaton), for the [classify]
 * rules' substrings: a bounce text no rule names is read once, not once
 * per rule.
 *
 * The set is made once (at most SUBSTR_SET_MAX strings, their bytes
 * SUBSTR_SET_BYTES_MAX in all) and is read-only afterwards: any number of
 * threads may search with it.  An empty string occurs in every text.
 */
#ifndef BOUNCED_SUBSTR_SET_H
#define BOUNCED_SUBSTR_SET_H

#include <stddef.h>
#include <stdint.h>

#define SUBSTR_SET_MAX 256		/* strings of a set */
#define SUBSTR_SET_BYTES_MAX 4096	/* their bytes, all together */
#define SUBSTR_SET_WORDS (SUBSTR_SET_MAX / 64)

struct substr_set;

/* substr_set_new - the set of the N strings STRS (NULL: none at that
   index; it never occurs); NULL when N or their bytes are over the
   limits, or when out of memory */
struct substr_set *substr_set_new(const char *const *strs, size_t n);
void substr_set_free(struct substr_set *s);

/* substr_set_find - which strings occur in the N bytes at TEXT: bit i of
   FOUND (SUBSTR_SET_WORDS words, overwritten) for string i */
void substr_set_find(const struct substr_set *s, const char *text, size_t n,
		     uint64_t found[SUBSTR_SET_WORDS]);

#endif
