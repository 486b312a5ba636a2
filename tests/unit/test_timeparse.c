/*
 * test_timeparse.c - PowerMTA timestamps of every form, zones, invalid
 * dates and junk, formatting and --since values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "timeparse.h"

#define T0 1549662845LL		/* 2019-02-08 21:54:05 UTC */

static const struct {
	const char *in;
	int64_t want;
} good[] = {
	{ "2019-02-08 21:54:05+0000", T0 },
	{ "2019-02-08 21:54:05", T0 },
	{ "2019-02-08T21:54:05Z", T0 },
	{ "2019-02-08t21:54:05z", T0 },
	{ "2019-02-08 21:54:05+00:00", T0 },
	{ "2019-02-08 21:54:05 +0000", T0 },
	{ "2019-02-08 23:54:05+0200", T0 },
	{ "2019-02-08 16:24:05-0530", T0 },
	{ "2019-02-09 03:24:05+05:30", T0 },
	{ "2019-02-08 21:54:05.123+0000", T0 },
	{ "2019-02-08 21:54:05.999", T0 },
	{ "  2019-02-08 21:54:05+0000\r\n", T0 },
	{ "\t2019-02-08 21:54:05-0000 ", T0 },
	{ "02/08/2019 21:54:05", T0 },
	{ " 02/08/2019 21:54:05 ", T0 },
	{ "1549662845", T0 },
	{ " 1549662845\n", T0 },
	{ "0", 0 },
	{ "1970-01-01 00:00:00+0000", 0 },
	{ "1970-01-01 01:00:00+0100", 0 },
	{ "1969-12-31 23:59:59", -1 },
	{ "2020-02-29 00:00:00", 1582934400LL },
	{ "2000-03-01 00:00:00", 951868800LL },
	{ "2100-03-01 00:00:00", 4107542400LL },
	{ "1600-02-29 12:00:00", -11670955200LL },
	{ "2016-12-31 23:59:60", 1483228800LL },	/* leap second */
	{ "12/31/2016 23:59:60", 1483228800LL },
	{ "9999-12-31 23:59:59", 253402300799LL },
	{ "253402300799", 253402300799LL },
};

static const char *const bad[] = {
	"", "   ", "abc", "-5", "+5", "1549662845x", "15496 62845",
	"2534023008000", "253402300800",
	"2019-02-30 00:00:00", "2019-02-29 00:00:00", "1900-02-29 00:00:00",
	"2019-04-31 00:00:00", "2019-13-01 00:00:00", "2019-00-10 00:00:00",
	"2019-01-00 00:00:00", "2019-01-32 00:00:00", "0000-01-01 00:00:00",
	"2019-02-08 24:00:00", "2019-02-08 23:60:00", "2019-02-08 23:59:61",
	"2019-02-08 21:54:05+2400", "2019-02-08 21:54:05+0060",
	"2019-02-08 21:54:05+00", "2019-02-08 21:54:05+", "2019-02-08 21:54:05Zx",
	"2019-02-08 21:54:05 junk", "2019-02-08 21:54:05+0000 x",
	"2019-02-08 21:54:05.", "2019-02-08 21:54:05.+0000",
	"2019-02-08 21:54:05  +0000", "2019-02-08  21:54:05",
	"2019-02-08", "2019-02-08 21:54", "2019-2-8 21:54:05",
	"2019/02/08 21:54:05", "2019-02-08_21:54:05",
	"13/08/2019 21:54:05", "02/30/2019 00:00:00", "2/8/2019 21:54:05",
	"02/08/19 21:54:05", "02/08/2019T21:54:05",
};

static void test_parse_good(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int64_t t = 42;

		if (timeparse_pmta(good[i].in, strlen(good[i].in), &t) != 0)
			fail_msg("'%s' refused", good[i].in);
		if (t != good[i].want)
			fail_msg("'%s' -> %lld, want %lld", good[i].in,
				 (long long)t, (long long)good[i].want);
	}
}

static void test_parse_bad(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t t = 42;

		if (timeparse_pmta(bad[i], strlen(bad[i]), &t) != -1)
			fail_msg("'%s' accepted as %lld", bad[i], (long long)t);
		assert_int_equal(t, 42);
	}
	assert_int_equal(timeparse_pmta(NULL, 0, NULL), -1);
}

/* only LEN bytes are read; bytes after them do not matter */
static void test_parse_len(void **state)
{
	static const char s[] = "2019-02-08 21:54:05+0000,next field";
	static const char nul[] = "1549662845\0" "99";
	int64_t t = 0;

	(void)state;
	assert_int_equal(timeparse_pmta(s, 24, &t), 0);
	assert_int_equal(t, T0);
	assert_int_equal(timeparse_pmta(s, 25, &t), -1);
	assert_int_equal(timeparse_pmta(s, 19, &t), 0);
	assert_int_equal(t, T0);
	assert_int_equal(timeparse_pmta(s, 18, &t), -1);
	assert_int_equal(timeparse_pmta(nul, 10, &t), 0);
	assert_int_equal(timeparse_pmta(nul, sizeof(nul) - 1, &t), -1);
}

static void test_format(void **state)
{
	static const struct {
		int64_t t;
		const char *want;
	} t[] = {
		{ 0, "1970-01-01 00:00:00+0000" },
		{ T0, "2019-02-08 21:54:05+0000" },
		{ -1, "1969-12-31 23:59:59+0000" },
		{ 951868800LL, "2000-03-01 00:00:00+0000" },
		{ 1582934400LL - 1, "2020-02-28 23:59:59+0000" },
		{ 253402300799LL, "9999-12-31 23:59:59+0000" },
	};
	char buf[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		timeparse_format(t[i].t, buf, sizeof(buf));
		assert_string_equal(buf, t[i].want);
	}
	timeparse_format(T0, buf, 5);
	assert_string_equal(buf, "2019");
	buf[0] = 'x';
	timeparse_format(T0, buf, 0);
	assert_int_equal(buf[0], 'x');
}

/* format and parse are inverse over the whole range */
static void test_roundtrip(void **state)
{
	int64_t t, back;
	char buf[40];

	(void)state;
	for (t = -2208988800LL; t < 253402300799LL; t += 86400LL * 13 + 3607) {
		timeparse_format(t, buf, sizeof(buf));
		back = t + 1;
		assert_int_equal(timeparse_pmta(buf, strlen(buf), &back), 0);
		assert_int_equal(back, t);
	}
}

static void test_since(void **state)
{
	const int64_t now = 1700000000LL;
	static const struct {
		const char *in;
		int64_t want;	/* INT64_MIN: refused */
	} t[] = {
		{ "90s", 1700000000LL - 90 },
		{ "5m", 1700000000LL - 300 },
		{ "2h", 1700000000LL - 7200 },
		{ "3d", 1700000000LL - 3 * 86400 },
		{ "1w", 1700000000LL - 7 * 86400 },
		{ "1d12h", 1700000000LL - 86400 - 12 * 3600 },
		{ " 2H ", 1700000000LL - 7200 },
		{ "0s", 1700000000LL },
		{ "2019-02-08", 1549584000LL },
		{ " 2019-02-08 ", 1549584000LL },
		{ "2019-02-08 21:54:05+0000", T0 },
		{ "2019-02-08T23:54:05+02:00", T0 },
		{ "02/08/2019 21:54:05", T0 },
		{ "1549662845", T0 },
		{ "", INT64_MIN },
		{ "h", INT64_MIN },
		{ "5x", INT64_MIN },
		{ "5 m", INT64_MIN },
		{ "-5m", INT64_MIN },
		{ "5m3", INT64_MIN },
		{ "2019-02-30", INT64_MIN },
		{ "2019-02", INT64_MIN },
		{ "yesterday", INT64_MIN },
		{ "99999999999999999999s", INT64_MIN },
		{ "1000000w", INT64_MIN },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int64_t out = 42;
		int rc = timeparse_since(t[i].in, now, &out);

		if (t[i].want == INT64_MIN) {
			if (rc != -1 || out != 42)
				fail_msg("since '%s' accepted", t[i].in);
		} else if (rc != 0 || out != t[i].want) {
			fail_msg("since '%s': rc %d, %lld, want %lld", t[i].in,
				 rc, (long long)out, (long long)t[i].want);
		}
	}
	assert_int_equal(timeparse_since(NULL, now, NULL), -1);
}

/* intervals for log lines: whole seconds as seconds, else milliseconds */
static void test_ms_text(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(timeparse_ms_text(10000, buf, sizeof(buf)), "10 s");
	assert_string_equal(timeparse_ms_text(100, buf, sizeof(buf)), "100 ms");
	assert_string_equal(timeparse_ms_text(1500, buf, sizeof(buf)),
			    "1500 ms");
	assert_string_equal(timeparse_ms_text(0, buf, sizeof(buf)), "0 s");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_len),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_since),
		cmocka_unit_test(test_ms_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
