/*
 * test_spool_tries.c - the book of attempts at spool entries that cannot
 * be read (spool_tries.c): counts per name, the next attempt's time, the
 * names forgotten, a reload's book taking over the old one's, and the
 * limit of a worker's book: when SPOOL_TRIES_MAX names are kept it forgets
 * those gone from the directory first, and when all are still there a new
 * one cannot be kept (0: give it up); a one-shot run's book has no limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>

#include "spool_tries.h"
#include "ttmp.h"

struct fixture {
	char *dir;
};

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);

	f->dir = ttmp_make("bounced-tries");
	if (!f->dir) {
		g_free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ttmp_remove(&f->dir);
	g_free(f);
	return 0;
}

/* touch - an empty file NAME-I in DIR */
static void touch(const char *dir, unsigned i)
{
	char *p = g_strdup_printf("%s/mail-%u", dir, i);

	assert_true(g_file_set_contents(p, "", 0, NULL));
	g_free(p);
}

static char *name_of(unsigned i)
{
	return g_strdup_printf("mail-%u", i);
}

static void test_counts_and_times(void **state)
{
	struct fixture *f = *state;
	struct spool_tries *t = spool_tries_new(f->dir, true);
	struct spool_tries *n;

	assert_false(spool_tries_any(t));
	assert_true(spool_tries_next(t, "a") == INT64_MIN);
	assert_int_equal(spool_tries_fail(t, "a", 1000), 1);
	assert_int_equal(spool_tries_fail(t, "a", 2000), 2);
	assert_int_equal(spool_tries_fail(t, "b", 1500), 1);
	assert_true(spool_tries_any(t));
	assert_true(spool_tries_next(t, "a") == 2000);
	/* a wait keeps the count */
	spool_tries_wait(t, "a", 9000);
	assert_true(spool_tries_next(t, "a") == 9000);
	assert_int_equal(spool_tries_fail(t, "a", 9500), 3);
	/* a name never counted does not start waiting */
	spool_tries_wait(t, "c", 9000);
	assert_true(spool_tries_next(t, "c") == INT64_MIN);
	spool_tries_forget(t, "b");
	assert_true(spool_tries_next(t, "b") == INT64_MIN);
	assert_int_equal(spool_tries_fail(t, "b", 100), 1);

	/* a reload's book takes the names and counts over */
	n = spool_tries_new(f->dir, true);
	spool_tries_adopt(n, t);
	assert_false(spool_tries_any(t));
	assert_true(spool_tries_next(n, "a") == 9500);
	assert_int_equal(spool_tries_fail(n, "a", 1), 4);
	spool_tries_free(t);
	spool_tries_free(n);
}

static void test_full_book_forgets_the_gone_first(void **state)
{
	struct fixture *f = *state;
	struct spool_tries *t = spool_tries_new(f->dir, true);
	char *name, *p;
	unsigned i;

	for (i = 0; i < SPOOL_TRIES_MAX; i++) {
		touch(f->dir, i);
		name = name_of(i);
		assert_int_equal(spool_tries_fail(t, name, 10), 1);
		g_free(name);
	}
	/* full, every name still there: a new one cannot be kept, and the
	   ones kept keep their counts */
	touch(f->dir, SPOOL_TRIES_MAX);
	name = name_of(SPOOL_TRIES_MAX);
	assert_int_equal(spool_tries_fail(t, name, 10), 0);
	assert_true(spool_tries_next(t, name) == INT64_MIN);
	assert_int_equal(spool_tries_fail(t, "mail-7", 20), 2);

	/* one left the directory: it is forgotten, the new one kept, and
	   the others still counted */
	p = g_strdup_printf("%s/mail-3", f->dir);
	assert_int_equal(unlink(p), 0);
	g_free(p);
	assert_int_equal(spool_tries_fail(t, name, 30), 1);
	assert_true(spool_tries_next(t, "mail-3") == INT64_MIN);
	assert_int_equal(spool_tries_fail(t, "mail-7", 40), 3);
	assert_int_equal(spool_tries_fail(t, "mail-4", 40), 2);
	g_free(name);

	/* full again: the next new name cannot be kept */
	name = name_of(SPOOL_TRIES_MAX + 1);
	touch(f->dir, SPOOL_TRIES_MAX + 1);
	assert_int_equal(spool_tries_fail(t, name, 10), 0);

	/* a one-shot run's book keeps as many as come */
	spool_tries_bound(t, false);
	assert_int_equal(spool_tries_fail(t, name, 10), 1);
	g_free(name);
	spool_tries_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_counts_and_times, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_full_book_forgets_the_gone_first, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
