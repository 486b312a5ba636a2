/*
 * fuzz_addr.c - libFuzzer target for address normalisation, the
 * classifier's DSN status search and the one-pass substring set of its
 * rules, all fed hostile text.
 *
 * Invariants: a normalised address normalises to itself, holds one '@',
 * no byte below 0x21 and no upper-case ASCII; the form as written, when
 * kept, normalises to it; its Unicode form, when it has one, normalises
 * back to it too; a status found in a text is well-formed and classifies;
 * the substring set finds in the text exactly the strings memmem finds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "classify.h"
#include "event.h"
#include "substr_set.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* strings that overlap and end in one another, high bytes and an empty
   one among them */
static const char *const fz_strs[] = {
	"a", "ab", "bab", "abab", "b@", "@", "\xc3\xa9", "\xa9\x61", "",
	"user unknown", "unknown", "5.1.1", ".1", "\xff\xff",
};
#define FZ_NSTRS (sizeof(fz_strs) / sizeof(fz_strs[0]))

/* fz_substr_set - the set's answer on DATA against memmem, string by
   string */
static void fz_substr_set(const uint8_t *data, size_t size)
{
	static struct substr_set *set;
	uint64_t found[SUBSTR_SET_WORDS];
	size_t i;

	if (!set && !(set = substr_set_new(fz_strs, FZ_NSTRS)))
		abort();
	substr_set_find(set, (const char *)data, size, found);
	for (i = 0; i < FZ_NSTRS; i++) {
		size_t len = strlen(fz_strs[i]);
		int want = len == 0 || (size >= len &&
					memmem(data, size, fz_strs[i], len));

		if (((found[i / 64] >> (i % 64)) & 1) != (uint64_t)want)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[ADDR_MAX + 1], again[ADDR_MAX + 1], st[16];
	char written[ADDR_MAX + 1], uni[ADDR_UNICODE_MAX + 1];
	char *text;
	int n, m;
	size_t i;

	fz_substr_set(data, size);
	n = addr_normalise((const char *)data, size, out, sizeof(out));
	if (n >= 0) {
		if ((size_t)n != strlen(out) || !strchr(out, '@') ||
		    strchr(out, '@') != strrchr(out, '@'))
			abort();
		for (i = 0; out[i]; i++)
			if ((unsigned char)out[i] < 0x21 ||
			    (out[i] >= 'A' && out[i] <= 'Z'))
				abort();
		m = addr_normalise(out, (size_t)n, again, sizeof(again));
		if (m != n || strcmp(out, again) != 0)
			abort();
		m = addr_written((const char *)data, size, out, written);
		if (m < 0 || (size_t)m != strlen(written))
			abort();
		if (m > 0 &&
		    (addr_normalise(written, (size_t)m, again,
				    sizeof(again)) != n ||
		     strcmp(out, again) != 0 || strcmp(written, out) == 0))
			abort();
		m = addr_unicode(out, uni, sizeof(uni));
		if (m > 0 &&
		    ((size_t)m != strlen(uni) ||
		     addr_normalise(uni, (size_t)m, again,
				    sizeof(again)) != n ||
		     strcmp(out, again) != 0))
			abort();
	}
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (classify_find_status(text, st, sizeof(st)) == 0 &&
	    classify_dsn(st, NULL) < 0)
		abort();
	(void)classify_dsn(text, text);
	free(text);
	return 0;
}
