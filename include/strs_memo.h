/*
 * strs_memo.h - the string dictionary's memo (state_strs.c): committed
 * entries by their length and three of their bytes.  A record's strings
 * repeat from record to record, so the record codec finds most of them
 * here without a call into the dictionary.
 */
#ifndef BOUNCED_STRS_MEMO_H
#define BOUNCED_STRS_MEMO_H

#include <stddef.h>
#include <stdint.h>

#define STRS_MEMO_SLOTS 1024	/* a power of two */

/* a committed entry: S is the entry's own string (the dictionary's,
   never freed before it), N its length, ID its id; S NULL: empty */
struct strs_memo {
	const char *s;
	uint32_t n, id;
};

/* strs_memo_index - the slot of the N bytes at S (N >= 2): by the
   length and three of the bytes, no hash over them all */
static inline size_t strs_memo_index(const char *s, size_t n)
{
	unsigned x = (unsigned)n * 0x9E37u ^
		     (unsigned char)s[0] * 0x85EBu ^
		     (unsigned char)s[n / 2] * 0xC2B3u ^
		     (unsigned char)s[n - 1] * 0x27D5u;

	return (x ^ (x >> 8)) & (STRS_MEMO_SLOTS - 1);
}

#endif
