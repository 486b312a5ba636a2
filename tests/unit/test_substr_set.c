/*
 * test_substr_set.c - the one-pass substring set: the classic example,
 * empty and absent strings, the limits, and random sets of strings that
 * overlap (two letters and a high byte) against memmem, string by string.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "substr_set.h"

static int has(const uint64_t *found, size_t i)
{
	return (int)((found[i / 64] >> (i % 64)) & 1);
}

/* "ushers": he, she and hers end in it, his does not; an empty string
   is in every text, a NULL one in none */
static void test_classic(void **state)
{
	static const char *const strs[] = { "he", "she", "his", "hers", "",
					     NULL, "ushers!" };
	struct substr_set *s = substr_set_new(strs, 7);
	uint64_t f[SUBSTR_SET_WORDS];

	(void)state;
	assert_non_null(s);
	substr_set_find(s, "ushers", 6, f);
	assert_true(has(f, 0) && has(f, 1) && has(f, 3) && has(f, 4));
	assert_false(has(f, 2) || has(f, 5) || has(f, 6));
	substr_set_find(s, "", 0, f);
	assert_true(has(f, 4));
	assert_false(has(f, 0) || has(f, 1) || has(f, 2) || has(f, 3));
	substr_set_find(s, "this is hers", 12, f);
	assert_true(has(f, 0) && has(f, 2) && has(f, 3));
	assert_false(has(f, 1));
	substr_set_free(s);
}

/* more strings, or more bytes, than a set holds: none made */
static void test_limits(void **state)
{
	static char big[SUBSTR_SET_BYTES_MAX + 2];
	const char *strs[SUBSTR_SET_MAX + 1];
	struct substr_set *s;
	size_t i;

	(void)state;
	for (i = 0; i <= SUBSTR_SET_MAX; i++)
		strs[i] = "x";
	assert_null(substr_set_new(strs, SUBSTR_SET_MAX + 1));
	s = substr_set_new(strs, SUBSTR_SET_MAX);
	assert_non_null(s);
	substr_set_free(s);
	memset(big, 'a', SUBSTR_SET_BYTES_MAX);
	strs[0] = big;
	s = substr_set_new(strs, 1);	/* exactly the limit */
	assert_non_null(s);
	substr_set_free(s);
	big[SUBSTR_SET_BYTES_MAX] = 'a';
	assert_null(substr_set_new(strs, 1));
	substr_set_free(NULL);
}

static uint32_t rnd(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* random strings and texts of 'a', 'b' and 0xC3: every string found
   exactly where memmem finds it */
static void test_random_against_memmem(void **state)
{
	static const char alpha[] = { 'a', 'b', '\xc3' };
	char pool[40][8], text[80];
	const char *strs[40];
	uint64_t f[SUBSTR_SET_WORDS];
	uint32_t x = 2463534242u;
	int round, t;

	(void)state;
	for (round = 0; round < 300; round++) {
		size_t n = 1 + rnd(&x) % 40, i, k, len;
		struct substr_set *s;

		for (i = 0; i < n; i++) {
			len = rnd(&x) % 7;
			for (k = 0; k < len; k++)
				pool[i][k] = alpha[rnd(&x) % 3];
			pool[i][len] = '\0';
			strs[i] = rnd(&x) % 10 ? pool[i] : NULL;
		}
		s = substr_set_new(strs, n);
		assert_non_null(s);
		for (t = 0; t < 20; t++) {
			len = rnd(&x) % sizeof(text);
			for (k = 0; k < len; k++)
				text[k] = alpha[rnd(&x) % 3];
			substr_set_find(s, text, len, f);
			for (i = 0; i < n; i++) {
				int want = strs[i] &&
					   (!*strs[i] ||
					    memmem(text, len, strs[i],
						   strlen(strs[i])) != NULL);

				if (has(f, i) != want)
					fail_msg("round %d: string %zu '%s' in "
						 "'%.*s': %d, memmem %d", round,
						 i, strs[i] ? strs[i] : "(null)",
						 (int)len, text, has(f, i),
						 want);
			}
		}
		substr_set_free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classic),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_random_against_memmem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
