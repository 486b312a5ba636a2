/*
 * strhash.h - a seeded 64-bit hash of a byte string, eight bytes at a
 * time, for the in-memory tables of the hot paths (the batch's address
 * and string tables, the monitor's name caches, the classification
 * memo).  Not for anything kept.
 */
#ifndef BOUNCED_STRHASH_H
#define BOUNCED_STRHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* strhash - the hash of the N bytes at S, from SEED */
static inline uint64_t strhash(uint64_t seed, const char *s, size_t n)
{
	uint64_t h = seed ^ (n * 0x9E3779B97F4A7C15ULL), w;
	const char *end = s + n;
	bool long8 = n >= 8;
	uint32_t a, b;

	while (n >= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xBF58476D1CE4E5B9ULL;
		h ^= h >> 31;
		s += 8;
		n -= 8;
	}
	if (n) {
		/* the last bytes: the 8 that end the string when it has
		   that many (some of them hashed already), else two reads
		   of 4 that may overlap, else byte by byte in a register (a
		   copy through memory would be read back before its bytes
		   were written: a stall of the store-to-load forwarding) */
		if (long8) {
			memcpy(&w, end - 8, 8);
		} else if (n >= 4) {
			memcpy(&a, s, 4);
			memcpy(&b, end - 4, 4);
			w = (uint64_t)a | (uint64_t)b << 32;
		} else {
			w = 0;
			while (n--)
				w = (w << 8) | (unsigned char)s[n];
		}
		h = (h ^ w) * 0x94D049BB133111EBULL;
		h ^= h >> 29;
	}
	h *= 0xBF58476D1CE4E5B9ULL;
	return h ^ (h >> 32);
}

#endif
