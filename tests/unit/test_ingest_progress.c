/*
 * test_ingest_progress.c - ingest_progress_format: the progress line of a
 * long input says its records, rate, percent and the time left at the
 * pace so far (m:ss, h:mm:ss past an hour); a stream (no size) its records
 * and rate only; a long name is cut, the line never overflows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "ingest.h"

static void test_eta(void **state)
{
	char buf[256];

	(void)state;
	/* a quarter read in 10 s: 30 s left */
	ingest_progress_format(buf, sizeof(buf), "acct.csv", 2500000, 10.0,
			       250, 1000);
	assert_string_equal(buf, "acct.csv: 2500000 records, 250000/s,  25%, "
				 "ETA 0:30");
	/* 1 % in 60 s: 99 min left, past an hour */
	ingest_progress_format(buf, sizeof(buf), "big.csv", 600, 60.0, 1, 100);
	assert_string_equal(buf, "big.csv: 600 records, 10/s,   1%, "
				 "ETA 1:39:00");
	/* read to its end */
	ingest_progress_format(buf, sizeof(buf), "f", 10, 2.0, 100, 100);
	assert_string_equal(buf, "f: 10 records, 5/s, 100%, ETA 0:00");
}

static void test_no_eta_yet(void **state)
{
	char buf[256];

	(void)state;
	/* nothing read yet: no time to tell */
	ingest_progress_format(buf, sizeof(buf), "f", 0, 0.0, 0, 100);
	assert_string_equal(buf, "f: 0 records, 0/s,   0%");
}

static void test_stream(void **state)
{
	char buf[256];

	(void)state;
	ingest_progress_format(buf, sizeof(buf), "-", 1000, 4.0, 5000, 0);
	assert_string_equal(buf, "-: 1000 records, 250/s");
}

static void test_bounds(void **state)
{
	char name[400], buf[64], big[256];

	(void)state;
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ingest_progress_format(big, sizeof(big), name, 1, 1.0, 1, 2);
	assert_int_equal(strspn(big, "n"), 100);
	assert_string_equal(big + 100, ": 1 records, 1/s,  50%, ETA 0:01");
	ingest_progress_format(buf, sizeof(buf), name, 1, 1.0, 1, 2);
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eta),
		cmocka_unit_test(test_no_eta_yet),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
