/*
 * test_u64map.c - the flat 64-bit table: random puts, gets and removals
 * against GLib's table (keys that share their home slot, so that removals
 * shift runs back, key 0 among them), growth keeping every entry, a walk
 * giving each entry once, and a cleared table used again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "u64map.h"

/* check - M holds exactly what REF holds */
static void check(struct u64map *m, GHashTable *ref)
{
	GHashTable *seen = g_hash_table_new(g_int64_hash, g_int64_equal);
	GHashTableIter it;
	gpointer k, v;
	size_t pos = 0;
	uint64_t key;
	int64_t val;

	assert_int_equal(u64map_size(m), g_hash_table_size(ref));
	g_hash_table_iter_init(&it, ref);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		int64_t *got = u64map_get(m, (uint64_t)*(int64_t *)k);

		assert_non_null(got);
		assert_int_equal(*got, *(int64_t *)v);
	}
	while (u64map_next(m, &pos, &key, &val)) {
		gpointer rk, rv;

		assert_true(g_hash_table_lookup_extended(ref, &key, &rk, &rv));
		assert_int_equal(val, *(int64_t *)rv);
		/* each key once */
		assert_false(g_hash_table_contains(seen, rk));
		g_hash_table_add(seen, rk);
	}
	assert_int_equal(g_hash_table_size(seen), g_hash_table_size(ref));
	g_hash_table_destroy(seen);
}

static void test_against_glib(void **state)
{
	GHashTable *ref = g_hash_table_new_full(g_int64_hash, g_int64_equal,
						g_free, g_free);
	GRand *r = g_rand_new_with_seed(7);
	struct u64map m;
	int round, i;

	(void)state;
	u64map_init(&m);
	for (round = 0; round < 4; round++) {
		for (i = 0; i < 20000; i++) {
			/* few distinct keys, so that puts meet and removals
			   find them; 0 among them */
			uint64_t key = (uint64_t)g_rand_int_range(r, 0, 3000) *
				       0x100000001ULL;
			int op = g_rand_int_range(r, 0, 10);

			if (op < 6) {
				int64_t *k = g_new(int64_t, 1);
				int64_t *v = g_new(int64_t, 1);

				*k = (int64_t)key;
				*v = i - 5000;
				g_hash_table_replace(ref, k, v);
				u64map_put(&m, key, *v);
			} else if (op < 9) {
				assert_int_equal(u64map_remove(&m, key),
						 g_hash_table_remove(ref, &key));
			} else {
				int64_t *got = u64map_get(&m, key);
				int64_t *want = g_hash_table_lookup(ref, &key);

				assert_int_equal(got != NULL, want != NULL);
				if (got)
					assert_int_equal(*got, *want);
			}
		}
		check(&m, ref);
	}
	/* everything removed, then the table takes keys again */
	while (g_hash_table_size(ref)) {
		GHashTableIter it;
		gpointer k, v;

		g_hash_table_iter_init(&it, ref);
		assert_true(g_hash_table_iter_next(&it, &k, &v));
		assert_true(u64map_remove(&m, (uint64_t)*(int64_t *)k));
		g_hash_table_iter_remove(&it);
	}
	check(&m, ref);
	assert_false(u64map_remove(&m, 12345));
	u64map_put(&m, 0, 9);
	u64map_put(&m, 99, 10);
	assert_int_equal(*u64map_get(&m, 0), 9);
	assert_int_equal(u64map_size(&m), 2);
	u64map_clear(&m);
	assert_int_equal(u64map_size(&m), 0);
	assert_null(u64map_get(&m, 99));
	assert_null(u64map_get(&m, 0));
	u64map_put(&m, 99, 11);
	assert_int_equal(*u64map_get(&m, 99), 11);
	u64map_clear(&m);
	g_rand_free(r);
	g_hash_table_destroy(ref);
}

/* a table of 16 slots holding 12 keys has runs: removing the keys one by
   one in any order keeps the others reachable (the shift back) */
static void test_runs(void **state)
{
	GRand *r = g_rand_new_with_seed(11);
	struct u64map m;
	uint64_t keys[12], t;
	int trial, i, j;

	(void)state;
	for (trial = 0; trial < 500; trial++) {
		u64map_init(&m);
		for (i = 0; i < 12; i++) {
			keys[i] = ((uint64_t)g_rand_int(r) << 32) |
				  g_rand_int(r) | 1;
			u64map_put(&m, keys[i], i);
		}
		assert_int_equal(m.cap, 16);
		for (i = 11; i > 0; i--) {	/* a random order */
			j = g_rand_int_range(r, 0, i + 1);
			t = keys[i];
			keys[i] = keys[j];
			keys[j] = t;
		}
		for (i = 0; i < 12; i++) {
			assert_true(u64map_remove(&m, keys[i]));
			assert_null(u64map_get(&m, keys[i]));
			for (j = i + 1; j < 12; j++)
				assert_non_null(u64map_get(&m, keys[j]));
			assert_int_equal(u64map_size(&m), (size_t)(11 - i));
		}
		u64map_clear(&m);
	}
	g_rand_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_glib),
		cmocka_unit_test(test_runs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
