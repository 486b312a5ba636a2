/*
 * test_classify_override.c - [classify] rules: the default set names the
 * sender-side causes (blocklists, Microsoft's S3150, Gmail's low
 * reputation, DMARC, "not authorized") and the no-such-user texts of a
 * 5.1.1; the first rule wins; a status prefix is required when given;
 * globs; and the refusals of a bad set.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <fnmatch.h>
#include <glib.h>

#include <cmocka.h>

#include "classify_override.h"

/* cat_of - the category the rules give, or NULL */
static const char *cat_of(const struct classify_overrides *o,
			  const char *status, const char *diag)
{
	const char *c = NULL;

	return classify_overrides_match(o, status, diag, &c) >= 0 ? c : NULL;
}

static void test_defaults(void **state)
{
	struct classify_overrides *o = NULL;
	char err[256];

	(void)state;
	assert_int_equal(classify_overrides_parse(NULL, &o, err, sizeof(err)),
			 0);
	assert_int_equal(classify_overrides_count(o), 20);
	assert_string_equal(cat_of(o, "5.7.1", "smtp;554 5.7.1 Service "
				   "unavailable; Client host [192.0.2.7] "
				   "blocked using zen.spamhaus.org"),
			    "spam-related");
	assert_string_equal(cat_of(o, "5.7.1", "550 5.7.1 Unfortunately, "
				   "messages from [192.0.2.7] weren't sent. "
				   "(S3150)"), "policy-related");
	assert_string_equal(cat_of(o, "5.7.1", "550-5.7.1 Our system has "
				   "detected that this message is likely "
				   "suspicious due to the very low reputation"),
			    "spam-related");
	assert_string_equal(cat_of(o, "", "550 5.7.26 Unauthenticated email "
				   "is not accepted due to DMARC policy"),
			    "policy-related");
	assert_string_equal(cat_of(o, "5.7.1", "571 Delivery not authorized"),
			    "policy-related");
	/* no such user: only with a 5.1.1 */
	assert_string_equal(cat_of(o, "5.1.1", "550 5.1.1 <a@b>: User unknown"),
			    "bad-mailbox");
	assert_string_equal(cat_of(NULL == o ? NULL : o, NULL,
				   "smtp;550 5.1.1 no such user here"),
			    "bad-mailbox");
	assert_null(cat_of(o, "4.2.2", "452 user unknown? mailbox full"));
	assert_null(cat_of(o, "5.2.2", "552 mailbox full"));
	assert_null(cat_of(o, NULL, NULL));
	assert_string_equal(classify_overrides_text(o, 0),
			    "sender verify failed => invalid-sender");
	assert_string_equal(classify_overrides_text(o, 10),
			    "blocked using => spam-related");
	/* a status alone: any text of that status */
	assert_string_equal(cat_of(o, "5.1.8", "553 5.1.8 rejected"),
			    "invalid-sender");
	assert_null(cat_of(o, "5.1.80", "553 rejected"));
	assert_null(classify_overrides_text(o, 20));
	classify_overrides_free(o);
}

static void test_custom(void **state)
{
	struct classify_overrides *o = NULL;
	char err[256];

	(void)state;
	assert_int_equal(classify_overrides_parse(
				 "*mail*full* => Quota-Issues; full => other;"
				 " 4.7 => policy-related", &o, err,
				 sizeof(err)), 0);
	/* the glob covers the whole text; categories are lower-cased */
	assert_string_equal(cat_of(o, "5.2.2", "552 Mailbox FULL"),
			    "quota-issues");
	assert_string_equal(cat_of(o, "5.2.2", "552 box full"), "other");
	/* a status prefix alone: any text of that status class */
	assert_string_equal(cat_of(o, "4.7.0", "421 try later"),
			    "policy-related");
	assert_null(cat_of(o, "4.71.0", "421 try later"));
	assert_null(cat_of(o, "4.2.0", "421 try later"));
	classify_overrides_free(o);
	/* no rule at all */
	assert_int_equal(classify_overrides_parse("", &o, err, sizeof(err)), 0);
	assert_null(cat_of(o, "5.7.1", "blocked using spamhaus"));
	classify_overrides_free(o);
}

static void test_refusals(void **state)
{
	static const char *bad[] = {
		"spamhaus spam-related", "=> spam-related", "spamhaus =>",
		"spamhaus => two words", "spam\001haus => spam-related",
	};
	struct classify_overrides *o;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = (struct classify_overrides *)1;
		err[0] = '\0';
		assert_int_equal(classify_overrides_parse(bad[i], &o, err,
							  sizeof(err)),
				 -EINVAL);
		assert_null(o);
		assert_non_null(strstr(err, "rule"));
	}
}

/* the text is lowered 16 bytes at a time, then byte by byte: a pattern
   across a 16-byte boundary, in the tail, in any case; bytes past ASCII
   kept; nothing past the 1023 bytes matched */
static void test_case_and_length(void **state)
{
	struct classify_overrides *o = NULL;
	char err[256], text[1200];
	size_t i;

	(void)state;
	assert_int_equal(classify_overrides_parse(
				 "mailbox full => quota-issues; "
				 "caf\xc3\xa9 ferm\xc3\xa9 => other; "
				 "zz tail => late",
				 &o, err, sizeof(err)), 0);
	/* "MAILBOX FULL" from byte 10 to 21: across the first boundary */
	assert_string_equal(cat_of(o, "5.2.2", "552 5.2.2 MAILBOX FULL, "
				   "try later"), "quota-issues");
	assert_string_equal(cat_of(o, "5.2.2", "552 5.2.2 MaIlBoX fUlL"),
			    "quota-issues");
	/* in a tail shorter than 16 bytes, after two whole blocks */
	assert_string_equal(cat_of(o, "5.2.2", "0123456789abcdef0123456789"
				   "abcdef Mailbox Full"), "quota-issues");
	/* UTF-8 bytes unchanged, the ASCII around them lowered */
	assert_string_equal(cat_of(o, "5.0.0", "550 CAF\xc3\xa9 FERM\xc3\xa9 "
				   "for the holidays"), "other");
	assert_null(cat_of(o, "5.0.0", "550 CAF\xc3\x89 FERM\xc3\x89"));
	/* the 1023 bytes matched: a pattern ending at byte 1022 matches,
	   one beyond does not */
	memset(text, 'x', sizeof(text));
	memcpy(text + 1023 - 7, "ZZ TAIL", 7);
	text[1023] = '\0';
	assert_string_equal(cat_of(o, "5.0.0", text), "late");
	for (i = 0; i < sizeof(text); i++)
		text[i] = 'x';
	memcpy(text + 1024 - 7, "ZZ TAIL", 7);
	text[sizeof(text) - 1] = '\0';
	assert_null(cat_of(o, "5.0.0", text));
	classify_overrides_free(o);
}

/* xs - xorshift32 */
static uint32_t xs(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* first_rule - the first of PATS (N, lower case; a glob with '*')
   that the text T, lowered, holds: what the rules answer, rule by rule */
static int first_rule(char pats[][16], size_t n, const char *t)
{
	char *low = g_ascii_strdown(t, -1);
	size_t i;
	int hit = -1;

	for (i = 0; i < n && hit < 0; i++)
		if (strchr(pats[i], '*') ? fnmatch(pats[i], low, 0) == 0 :
					   strstr(low, pats[i]) != NULL)
			hit = (int)i;
	g_free(low);
	return hit;
}

/* rules from three letters and a space (substrings that overlap, a
   glob now and then) against texts of the same: the first rule that
   holds wins, as rule by rule; then as many rules of 40 bytes as are
   more than one pass can hold (200: 8,000 bytes), searched rule by
   rule, with the same answers */
static void test_one_pass_as_rule_by_rule(void **state)
{
	static const char alpha[] = "abC ";
	char pats[200][16], spec[200 * 60], text[64];
	struct classify_overrides *o;
	uint32_t x = 88172645u;
	char err[256];
	int round, t;

	(void)state;
	for (round = 0; round < 300; round++) {
		size_t n = 1 + xs(&x) % 30, i, k, len, at = 0;

		for (i = 0; i < n; i++) {
			len = 1 + xs(&x) % 5;
			for (k = 0; k < len; k++)
				pats[i][k] = alpha[xs(&x) % 3] | 0x20;
			if (xs(&x) % 8 == 0)
				pats[i][k++] = '*';
			pats[i][k] = '\0';
			if (pats[i][0] == '*')
				pats[i][0] = 'a';
			at += (size_t)snprintf(spec + at, sizeof(spec) - at,
					       "%s%s => cat%zu", i ? "; " : "",
					       pats[i], i);
		}
		assert_int_equal(classify_overrides_parse(spec, &o, err,
							  sizeof(err)), 0);
		for (t = 0; t < 30; t++) {
			len = xs(&x) % 40;
			for (k = 0; k < len; k++)
				text[k] = alpha[xs(&x) % 4];
			text[len] = '\0';
			assert_int_equal(classify_overrides_match(o, NULL, text,
								  NULL),
					 first_rule(pats, n, text));
		}
		classify_overrides_free(o);
	}
	/* 200 rules of 40 bytes: rule by rule */
	{
		size_t at = 0, i;
		const char *cat = NULL;

		for (i = 0; i < 200; i++)
			at += (size_t)snprintf(spec + at, sizeof(spec) - at,
					       "%spattern number %03zu of forty "
					       "bytes, padded => c%zu",
					       i ? "; " : "", i, i);
		assert_int_equal(classify_overrides_parse(spec, &o, err,
							  sizeof(err)), 0);
		assert_int_equal(classify_overrides_match(o, NULL,
			"smtp;550 Pattern Number 123 of forty bytes, padded!",
			&cat), 123);
		assert_string_equal(cat, "c123");
		assert_int_equal(classify_overrides_match(o, NULL,
			"smtp;550 pattern number 1234", NULL), -1);
		classify_overrides_free(o);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_custom),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_case_and_length),
		cmocka_unit_test(test_one_pass_as_rule_by_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
