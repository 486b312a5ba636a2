/*
 * test_unsub_addr.c - unsubscribe address forms: the default MailWizz form,
 * several forms and domains, Interspire ids, "*" domains, upper-cased
 * addresses, every reason an address is refused (with the exact message),
 * forms refused when compiled, HMAC signatures (a vector computed with
 * openssl, forged and foreign signatures) and format -> match round trips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>

#include "event.h"
#include "unsub_addr.h"

#define SECRET "test-secret-0123456789"
/* printf '%s' 'zz123cd456ef7.ab123cd456ef7.cc123cd456ef7' |
   openssl dgst -sha256 -hmac 'test-secret-0123456789' | cut -c1-16 */
#define SIG_FULL "3e76210ea82f0bbe"
/* the same without a campaign: 'zz123cd456ef7.ab123cd456ef7.' */
#define SIG_NOCAMP "a58a0d1b8b7f97a7"
/* Interspire ids 42 and 7: '42.7.' */
#define SIG_IEM "8b37914af1ba43d3"

static struct unsub_addr_set *compile_ok(const char *spec, const char *secret)
{
	struct unsub_addr_set *set = NULL;
	char err[512] = "";

	if (unsub_addr_compile(spec, secret, &set, err, sizeof(err)) != 0)
		fail_msg("refused '%s': %s", spec, err);
	return set;
}

/* match_ok - ADDR must match as SUB, LIST, CAMP with form FORM */
static void match_ok(const struct unsub_addr_set *set, const char *addr,
		     const char *sub, const char *list, const char *camp,
		     unsigned form, enum unsub_addr_system sys)
{
	struct unsub_addr_ids ids;
	char err[512] = "";
	int rc = unsub_addr_match(set, addr, strlen(addr), &ids, err,
				  sizeof(err));

	if (rc != 0)
		fail_msg("'%s' refused (%d): %s", addr, rc, err);
	assert_string_equal(ids.subscriber, sub);
	assert_string_equal(ids.list, list);
	assert_string_equal(ids.campaign, camp);
	assert_int_equal(ids.form, form);
	assert_int_equal(ids.system, sys);
}

/* match_bad - ADDR must be refused with RC and exactly the message WHY */
static void match_bad(const struct unsub_addr_set *set, const char *addr,
		      size_t len, int rc, const char *why)
{
	struct unsub_addr_ids ids;
	char err[512] = "";
	int got = unsub_addr_match(set, addr, len, &ids, err, sizeof(err));

	if (got != rc)
		fail_msg("'%s': rc %d, expected %d (%s)", addr, got, rc, err);
	assert_string_equal(err, why);
	assert_string_equal(ids.subscriber, "");
	assert_string_equal(ids.list, "");
}

#define DEF_FORM "'[SUBSCRIBER_UID].[LIST_UID].[CAMPAIGN_UID]@fbl-unsub.example.com'"

static void test_default_form(void **state)
{
	struct unsub_addr_set *set = compile_ok(UNSUB_ADDR_DEFAULT, NULL);
	const char *a;

	(void)state;
	assert_int_equal(unsub_addr_forms(set), 1);
	assert_string_equal(unsub_addr_form(set, 0), UNSUB_ADDR_DEFAULT);
	assert_null(unsub_addr_form(set, 1));
	match_ok(set, "zz123cd456ef7.ab123cd456ef7.cc123cd456ef7@fbl-unsub.example.com",
		 "zz123cd456ef7", "ab123cd456ef7", "cc123cd456ef7", 0,
		 UNSUB_MAILWIZZ);
	/* some mail systems upper-case the local part; angle brackets as in
	   X-Bounced-Envelope-To */
	match_ok(set, "<ZZ123CD456EF7.AB123CD456EF7.CC123CD456EF7@FBL-Unsub.Example.COM>",
		 "zz123cd456ef7", "ab123cd456ef7", "cc123cd456ef7", 0,
		 UNSUB_MAILWIZZ);

	a = "zz123cd456ef7.ab123cd456ef.cc123cd456ef7@fbl-unsub.example.com";
	match_bad(set, a, strlen(a), UNSUB_ADDR_EVALUE,
		  "list UID 'ab123cd456ef' has 12 characters, expected 13 (form "
		  DEF_FORM ")");
	a = "abc@fbl-unsub.example.com";
	match_bad(set, a, strlen(a), UNSUB_ADDR_EVALUE,
		  "subscriber UID 'abc' has 3 characters, expected 13 (form "
		  DEF_FORM ")");
	a = "zz123cd456ef7ab123cd456ef7cc123cd456ef7@fbl-unsub.example.com";
	match_bad(set, a, strlen(a), UNSUB_ADDR_EVALUE,
		  "subscriber UID 'zz123cd456ef7ab123cd456ef7cc123cd456ef7' has "
		  "39 characters, expected 13 (form " DEF_FORM ")");
	a = "zz123cd456ef7-ab123cd456ef7-cc123cd456ef7@fbl-unsub.example.com";
	match_bad(set, a, strlen(a), UNSUB_ADDR_EFORM,
		  "local part 'zz123cd456ef7-ab123cd456ef7-cc123cd456ef7' does not "
		  "fit the form " DEF_FORM ": expected '.' at "
		  "'-ab123cd456ef7-cc123cd456ef7'");
	a = "zz123cd456ef7.ab123cd456ef7.cc123cd456ef7+x@fbl-unsub.example.com";
	match_bad(set, a, strlen(a), UNSUB_ADDR_EFORM,
		  "local part 'zz123cd456ef7.ab123cd456ef7.cc123cd456ef7+x' does "
		  "not fit the form " DEF_FORM ": '+x' is left over");
	a = "zz123cd456ef7..cc123cd456ef7@fbl-unsub.example.com";
	match_bad(set, a, strlen(a), UNSUB_ADDR_EADDR,
		  "'zz123cd456ef7..cc123cd456ef7@fbl-unsub.example.com' is not "
		  "an address");
	a = "zz123cd456ef7.ab123cd456ef7.cc123cd456ef7@other.example.org";
	match_bad(set, a, strlen(a), UNSUB_ADDR_EDOMAIN,
		  "domain 'other.example.org' is not an unsubscribe domain "
		  "(forms: " DEF_FORM ")");
	a = "zz123cd456ef7.ab123cd456ef7@fbl-unsub.example.com";
	match_bad(set, a, strlen(a), UNSUB_ADDR_EFORM,
		  "local part 'zz123cd456ef7.ab123cd456ef7' does not fit the "
		  "form " DEF_FORM ": it ends where '.' is expected");
	a = "unsubscribe";
	match_bad(set, a, strlen(a), UNSUB_ADDR_EADDR,
		  "'unsubscribe' is not an address");
	/* hostile bytes are not echoed */
	a = "a\x01\xff@fbl-unsub.example.com";
	match_bad(set, a, strlen(a), UNSUB_ADDR_EADDR,
		  "'a??@fbl-unsub.example.com' is not an address");
	/* a non-ASCII local part is an address, but no UID */
	a = "\xc3\xa9t\xc3\xa9@fbl-unsub.example.com";
	match_bad(set, a, strlen(a), UNSUB_ADDR_EFORM,
		  "subscriber UID is missing (form " DEF_FORM ")");
	/* the length given is the one used */
	a = "zz123cd456ef7.ab123cd456ef7.cc123cd456ef7@fbl-unsub.example.comXYZ";
	match_ok(set, "zz123cd456ef7.ab123cd456ef7.cc123cd456ef7@fbl-unsub.example.com",
		 "zz123cd456ef7", "ab123cd456ef7", "cc123cd456ef7", 0,
		 UNSUB_MAILWIZZ);
	{
		struct unsub_addr_ids ids;

		assert_int_equal(unsub_addr_match(set, a, strlen(a) - 3, &ids,
						  NULL, 0), 0);
		assert_string_equal(ids.campaign, "cc123cd456ef7");
	}
	unsub_addr_free(set);
}

static void test_many_forms(void **state)
{
	struct unsub_addr_set *set = compile_ok(
		" [SUBSCRIBER_UID].[LIST_UID].[CAMPAIGN_UID]@fbl-unsub.example.com ;"
		"unsub-[LIST_UID]-[SUBSCRIBER_UID]@U.Example.NET;;"
		"[CAMPAIGN_UID]+[SUBSCRIBER_UID]=[LIST_UID]@u.example.net;"
		"c-[CAMPAIGN_UID]-[SUBSCRIBER_UID]@u.example.net;"
		"iem.[SUBSCRIBER_ID]_[LIST_ID]@*", NULL);
	const char *a;

	(void)state;
	assert_int_equal(unsub_addr_forms(set), 5);
	/* the campaign instead of the list */
	match_ok(set, "c-cc123cd456ef7-zz123cd456ef7@u.example.net",
		 "zz123cd456ef7", "", "cc123cd456ef7", 3, UNSUB_MAILWIZZ);
	assert_string_equal(unsub_addr_form(set, 1),
			    "unsub-[LIST_UID]-[SUBSCRIBER_UID]@u.example.net");
	match_ok(set, "unsub-ab123cd456ef7-zz123cd456ef7@u.example.net",
		 "zz123cd456ef7", "ab123cd456ef7", "", 1, UNSUB_MAILWIZZ);
	match_ok(set, "cc123cd456ef7+zz123cd456ef7=ab123cd456ef7@u.example.net",
		 "zz123cd456ef7", "ab123cd456ef7", "cc123cd456ef7", 2,
		 UNSUB_MAILWIZZ);
	match_ok(set, "iem.42_7@lists.example.org", "42", "7", "", 4,
		 UNSUB_INTERSPIRE);
	match_ok(set, "IEM.4294967295_1234567890@u.example.net", "4294967295",
		 "1234567890", "", 4, UNSUB_INTERSPIRE);

	/* the reason is the one of the form that got furthest */
	a = "unsub-ab123cd456ef7-zz123cd456e@u.example.net";
	match_bad(set, a, strlen(a), UNSUB_ADDR_EVALUE,
		  "subscriber UID 'zz123cd456e' has 11 characters, expected 13 "
		  "(form 'unsub-[LIST_UID]-[SUBSCRIBER_UID]@u.example.net')");
	a = "iem.12345678901_7@lists.example.org";
	match_bad(set, a, strlen(a), UNSUB_ADDR_EVALUE,
		  "subscriber ID '12345678901' has 11 digits, expected 1 to 10 "
		  "(form 'iem.[SUBSCRIBER_ID]_[LIST_ID]@*')");
	a = "iem.42_7x@lists.example.org";
	match_bad(set, a, strlen(a), UNSUB_ADDR_EVALUE,
		  "list ID '7x' is not a number (form "
		  "'iem.[SUBSCRIBER_ID]_[LIST_ID]@*')");
	a = "news.42_7@lists.example.org";
	match_bad(set, a, strlen(a), UNSUB_ADDR_EFORM,
		  "local part 'news.42_7' does not fit the form "
		  "'iem.[SUBSCRIBER_ID]_[LIST_ID]@*': expected 'iem.' at "
		  "'news.42_7'");
	unsub_addr_free(set);
}

static const struct {
	const char *spec, *secret, *want;
} bad_forms[] = {
	{ "", NULL, "no address form (expected forms such as "
	  UNSUB_ADDR_DEFAULT ", separated by ';')" },
	{ " ; ;", NULL, "no address form (expected forms such as "
	  UNSUB_ADDR_DEFAULT ", separated by ';')" },
	{ "[SUBSCRIBER_UID].[LIST_UID]", NULL, "address form "
	  "'[SUBSCRIBER_UID].[LIST_UID]' is not LOCALPART@DOMAIN" },
	{ "@u.example.com", NULL, "address form '@u.example.com' is not "
	  "LOCALPART@DOMAIN" },
	{ "[SUBSCRIBER_UID].[LIST_UID]@u..example.com", NULL, "address form "
	  "'[SUBSCRIBER_UID].[LIST_UID]@u..example.com': 'u..example.com' is "
	  "not a domain (or '*' for any)" },
	{ "[SUBSCRIBER_UID].[LIST_UID]@*.example.com", NULL, "address form "
	  "'[SUBSCRIBER_UID].[LIST_UID]@*.example.com': '*.example.com' is "
	  "not a domain (or '*' for any)" },
	{ "[SUBSCRIBER_UID].[LIST_UID]@", NULL, "address form "
	  "'[SUBSCRIBER_UID].[LIST_UID]@': '' is not a domain (or '*' for "
	  "any)" },
	{ "[SUBSCRIBER].[LIST_UID]@u.example.com", NULL, "address form "
	  "'[SUBSCRIBER].[LIST_UID]@u.example.com': unknown placeholder "
	  "'[SUBSCRIBER]' (known: [SUBSCRIBER_UID], [LIST_UID], "
	  "[CAMPAIGN_UID], [SUBSCRIBER_ID], [LIST_ID], [SIGNATURE])" },
	{ "[subscriber_uid].[LIST_UID]@u.example.com", NULL, "address form "
	  "'[subscriber_uid].[LIST_UID]@u.example.com': unknown placeholder "
	  "'[subscriber_uid]' (known: [SUBSCRIBER_UID], [LIST_UID], "
	  "[CAMPAIGN_UID], [SUBSCRIBER_ID], [LIST_ID], [SIGNATURE])" },
	{ "[SUBSCRIBER_UID][LIST_UID]@u.example.com", NULL, "address form "
	  "'[SUBSCRIBER_UID][LIST_UID]@u.example.com': [SUBSCRIBER_UID] and "
	  "[LIST_UID] need a separator between them (such as '.')" },
	{ "[SUBSCRIBER_UID]x[LIST_UID]@u.example.com", NULL, "address form "
	  "'[SUBSCRIBER_UID]x[LIST_UID]@u.example.com': [SUBSCRIBER_UID] must "
	  "be followed by a character that cannot be part of it (such as "
	  "'.', '-', '_' or '+'), not 'x'" },
	{ "[SUBSCRIBER_UID].[LIST_UID].[SUBSCRIBER_UID]@u.example.com", NULL,
	  "address form '[SUBSCRIBER_UID].[LIST_UID].[SUBSCRIBER_UID]@"
	  "u.example.com': [SUBSCRIBER_UID] appears twice" },
	{ "[SUBSCRIBER_UID.[LIST_UID]@u.example.com", NULL, "address form "
	  "'[SUBSCRIBER_UID.[LIST_UID]@u.example.com': unknown placeholder "
	  "'[SUBSCRIBER_UID.[LIST_UID]' (known: [SUBSCRIBER_UID], [LIST_UID], "
	  "[CAMPAIGN_UID], [SUBSCRIBER_ID], [LIST_ID], [SIGNATURE])" },
	{ "[SUBSCRIBER_UID].[LIST_UID@u.example.com", NULL, "address form "
	  "'[SUBSCRIBER_UID].[LIST_UID@u.example.com': '[' without ']'" },
	{ "[SUBSCRIBER_UID].LIST_UID].@u.example.com", NULL, "address form "
	  "'[SUBSCRIBER_UID].LIST_UID].@u.example.com': ']' cannot be part "
	  "of a local part" },
	{ "[SUBSCRIBER_UID] [LIST_UID]@u.example.com", NULL, "address form "
	  "'[SUBSCRIBER_UID] [LIST_UID]@u.example.com': '?' cannot be part "
	  "of a local part" },
	{ "[LIST_UID].[CAMPAIGN_UID]@u.example.com", NULL, "address "
	  "form '[LIST_UID].[CAMPAIGN_UID]@u.example.com' needs "
	  "[SUBSCRIBER_UID] and [LIST_UID] or [CAMPAIGN_UID] (MailWizz "
	  "unsubscribes a subscriber from a list, or from a campaign's list)" },
	{ "[SUBSCRIBER_UID]@u.example.com", NULL, "address "
	  "form '[SUBSCRIBER_UID]@u.example.com' needs "
	  "[SUBSCRIBER_UID] and [LIST_UID] or [CAMPAIGN_UID] (MailWizz "
	  "unsubscribes a subscriber from a list, or from a campaign's list)" },
	{ "[SUBSCRIBER_ID].x@u.example.com", NULL, "address form "
	  "'[SUBSCRIBER_ID].x@u.example.com' needs both [SUBSCRIBER_ID] and "
	  "[LIST_ID]" },
	{ "[SUBSCRIBER_UID].[LIST_ID]@u.example.com", NULL, "address form "
	  "'[SUBSCRIBER_UID].[LIST_ID]@u.example.com' mixes MailWizz UIDs "
	  "and Interspire IDs" },
	{ "unsubscribe@u.example.com", NULL, "address form "
	  "'unsubscribe@u.example.com' names no subscriber: use "
	  "[SUBSCRIBER_UID] and [LIST_UID] (MailWizz) or [SUBSCRIBER_ID] and "
	  "[LIST_ID] (Interspire)" },
	{ ".[SUBSCRIBER_UID].[LIST_UID]@u.example.com", NULL, "address form "
	  "'.[SUBSCRIBER_UID].[LIST_UID]@u.example.com' does not give valid "
	  "addresses (a local part is 1 to 64 characters, without '.' at its "
	  "start or end or two in a row)" },
	{ "unsubscribe-me-now-please-[SUBSCRIBER_UID].[LIST_UID].[CAMPAIGN_UID]"
	  "@u.example.com", NULL, "address form 'unsubscribe-me-now-please-"
	  "[SUBSCRIBER_UID].[LIST_UID].[CAMPAIGN_UID]@u.example.com' does not "
	  "give valid addresses (a local part is 1 to 64 characters, without "
	  "'.' at its start or end or two in a row)" },
	{ "[SUBSCRIBER_UID].[LIST_UID].[SIGNATURE]@u.example.com", NULL,
	  "address form '[SUBSCRIBER_UID].[LIST_UID].[SIGNATURE]@u.example.com'"
	  " has [SIGNATURE], but no secret is set to check it with" },
	{ "[SUBSCRIBER_UID].[LIST_UID].[SIGNATURE]@u.example.com;"
	  "[SUBSCRIBER_UID].[LIST_UID]@v.example.com", SECRET,
	  "address form '[SUBSCRIBER_UID].[LIST_UID]@v.example.com' has no "
	  "[SIGNATURE], but a secret is set: every form must be signed (or "
	  "remove the secret)" },
	{ "[SUBSCRIBER_UID].[LIST_UID]@*;[LIST_UID].[SUBSCRIBER_UID]@u.example.com",
	  NULL, "address form '[LIST_UID].[SUBSCRIBER_UID]@u.example.com' is "
	  "never used: the earlier form '[SUBSCRIBER_UID].[LIST_UID]@*' reads "
	  "its addresses (put the more specific form first)" },
	{ "a.[SUBSCRIBER_UID].[LIST_UID]@u.example.com;"
	  "A.[SUBSCRIBER_UID].[LIST_UID]@U.EXAMPLE.COM", NULL, "address form "
	  "'A.[SUBSCRIBER_UID].[LIST_UID]@u.example.com' is never used: the "
	  "earlier form 'a.[SUBSCRIBER_UID].[LIST_UID]@u.example.com' reads "
	  "its addresses (put the more specific form first)" },
};

static void test_bad_forms(void **state)
{
	struct unsub_addr_set *set;
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_forms) / sizeof(bad_forms[0]); i++) {
		set = (struct unsub_addr_set *)&set;
		err[0] = '\0';
		if (unsub_addr_compile(bad_forms[i].spec, bad_forms[i].secret,
				       &set, err, sizeof(err)) != -EINVAL)
			fail_msg("accepted '%s'", bad_forms[i].spec);
		assert_null(set);
		if (strcmp(err, bad_forms[i].want) != 0)
			fail_msg("'%s':\n got  %s\n want %s", bad_forms[i].spec,
				 err, bad_forms[i].want);
	}
}

/* the limits: 32 forms, and a long secret */
static void test_limits(void **state)
{
	struct unsub_addr_set *set = NULL;
	char spec[4096] = "", secret[1100], err[256];
	size_t i, n = 0;

	(void)state;
	for (i = 0; i < UNSUB_ADDR_FORMS_MAX + 1; i++)
		n += (size_t)snprintf(spec + n, sizeof(spec) - n,
				      "[SUBSCRIBER_UID].[LIST_UID]@d%zu.example;", i);
	assert_int_equal(unsub_addr_compile(spec, NULL, &set, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "more than 32 address forms");
	spec[strlen(spec) - strlen("[SUBSCRIBER_UID].[LIST_UID]@d32.example;")] = '\0';
	set = compile_ok(spec, NULL);
	assert_int_equal(unsub_addr_forms(set), 32);
	match_ok(set, "zz123cd456ef7.ab123cd456ef7@d31.example", "zz123cd456ef7",
		 "ab123cd456ef7", "", 31, UNSUB_MAILWIZZ);
	unsub_addr_free(set);

	memset(secret, 's', sizeof(secret));
	secret[UNSUB_SECRET_MAX + 1] = '\0';
	assert_int_equal(unsub_addr_compile("[SUBSCRIBER_UID].[LIST_UID]."
					    "[SIGNATURE]@u.example.com", secret,
					    &set, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "the secret has more than 1024 bytes");
	secret[UNSUB_SECRET_MAX] = '\0';
	set = compile_ok("[SUBSCRIBER_UID].[LIST_UID].[SIGNATURE]@u.example.com",
			 secret);
	unsub_addr_free(set);

	/* an address longer than ADDR_MAX is not one */
	set = compile_ok(UNSUB_ADDR_DEFAULT, NULL);
	memset(spec, 'a', 400);
	memcpy(spec + 300, "@fbl-unsub.example.com", 23);
	match_bad(set, spec, 400, UNSUB_ADDR_EADDR,
		  "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaa...' is not an address");
	unsub_addr_free(set);
}

static void test_sign(void **state)
{
	struct unsub_addr_ids ids = { .system = UNSUB_MAILWIZZ };
	char sig[UNSUB_VALUE_MAX];

	(void)state;
	strcpy(ids.subscriber, "zz123cd456ef7");
	strcpy(ids.list, "ab123cd456ef7");
	strcpy(ids.campaign, "cc123cd456ef7");
	assert_int_equal(unsub_addr_sign(SECRET, &ids, sig, sizeof(sig)), 0);
	assert_string_equal(sig, SIG_FULL);
	ids.campaign[0] = '\0';
	assert_int_equal(unsub_addr_sign(SECRET, &ids, sig, sizeof(sig)), 0);
	assert_string_equal(sig, SIG_NOCAMP);
	assert_int_equal(unsub_addr_sign("", &ids, sig, sizeof(sig)), -EINVAL);
	assert_int_equal(unsub_addr_sign(NULL, &ids, sig, sizeof(sig)), -EINVAL);
	assert_int_equal(unsub_addr_sign(SECRET, &ids, sig, UNSUB_SIG_LEN),
			 -EINVAL);
}

static void test_signed_forms(void **state)
{
	struct unsub_addr_set *set = compile_ok(
		"[SUBSCRIBER_UID].[LIST_UID].[CAMPAIGN_UID].[SIGNATURE]@fbl-unsub.example.com;"
		"[SIGNATURE]-[LIST_UID]-[SUBSCRIBER_UID]@u.example.net;"
		"[SUBSCRIBER_ID].[LIST_ID].[SIGNATURE]@u.example.net", SECRET);
	struct unsub_addr_ids ids;
	const char *a;

	(void)state;
	a = "zz123cd456ef7.ab123cd456ef7.cc123cd456ef7." SIG_FULL
	    "@fbl-unsub.example.com";
	assert_int_equal(unsub_addr_match(set, a, strlen(a), &ids, NULL, 0), 0);
	assert_true(ids.signature_checked);
	assert_string_equal(ids.campaign, "cc123cd456ef7");
	/* upper case, as some mail systems write it */
	a = "ZZ123CD456EF7.AB123CD456EF7.CC123CD456EF7.3E76210EA82F0BBE"
	    "@fbl-unsub.example.com";
	assert_int_equal(unsub_addr_match(set, a, strlen(a), &ids, NULL, 0), 0);
	assert_true(ids.signature_checked);
	match_ok(set, SIG_NOCAMP "-ab123cd456ef7-zz123cd456ef7@u.example.net",
		 "zz123cd456ef7", "ab123cd456ef7", "", 1, UNSUB_MAILWIZZ);
	match_ok(set, "42.7." SIG_IEM "@u.example.net", "42", "7", "", 2,
		 UNSUB_INTERSPIRE);

	/* a guessed subscriber with a signature copied from another mail */
	a = "zz123cd456ef8.ab123cd456ef7.cc123cd456ef7." SIG_FULL
	    "@fbl-unsub.example.com";
	match_bad(set, a, strlen(a), UNSUB_ADDR_ESIG,
		  "signature '" SIG_FULL "' does not match (forged, or signed "
		  "with another secret; form '[SUBSCRIBER_UID].[LIST_UID]."
		  "[CAMPAIGN_UID].[SIGNATURE]@fbl-unsub.example.com')");
	/* one digit changed */
	a = "zz123cd456ef7.ab123cd456ef7.cc123cd456ef7.3e76210ea82f0bbf"
	    "@fbl-unsub.example.com";
	match_bad(set, a, strlen(a), UNSUB_ADDR_ESIG,
		  "signature '3e76210ea82f0bbf' does not match (forged, or "
		  "signed with another secret; form '[SUBSCRIBER_UID].[LIST_UID]."
		  "[CAMPAIGN_UID].[SIGNATURE]@fbl-unsub.example.com')");
	/* the full 64-digit HMAC is not the signature */
	a = "zz123cd456ef7.ab123cd456ef7.cc123cd456ef7.3e76210ea82f0bbeb67f2883"
	    "@fbl-unsub.example.com";
	match_bad(set, a, strlen(a), UNSUB_ADDR_EADDR,
		  "'zz123cd456ef7.ab123cd456ef7.cc123cd456ef7.3e76210ea82f0bbeb67f"
		  "28...' is not an address");
	a = "zz123cd456ef7.ab123cd456ef7.cc123cd456ef7.3e76210ea82f0bbx"
	    "@fbl-unsub.example.com";
	match_bad(set, a, strlen(a), UNSUB_ADDR_EVALUE,
		  "signature '3e76210ea82f0bbx' holds characters other than 0-9 "
		  "and a-f (form '[SUBSCRIBER_UID].[LIST_UID].[CAMPAIGN_UID]."
		  "[SIGNATURE]@fbl-unsub.example.com')");
	/* signed with another secret */
	a = "42.7.0000000000000000@u.example.net";
	match_bad(set, a, strlen(a), UNSUB_ADDR_ESIG,
		  "signature '0000000000000000' does not match (forged, or "
		  "signed with another secret; form "
		  "'[SUBSCRIBER_ID].[LIST_ID].[SIGNATURE]@u.example.net')");
	unsub_addr_free(set);
}

/* format_match - format IDS with FORM, expect WANT, and read it back */
static void format_match(const struct unsub_addr_set *set, size_t form,
			 const struct unsub_addr_ids *ids, const char *domain,
			 const char *want)
{
	struct unsub_addr_ids back;
	char out[ADDR_MAX + 1], err[512] = "";

	if (unsub_addr_format(set, form, ids, domain, out, sizeof(out), err,
			      sizeof(err)) != 0)
		fail_msg("format %zu: %s", form, err);
	assert_string_equal(out, want);
	assert_int_equal(unsub_addr_match(set, out, strlen(out), &back, err,
					  sizeof(err)), 0);
	assert_int_equal(back.form, form);
	assert_string_equal(back.subscriber, want[0] == 'i' ? "42" : "zz123cd456ef7");
}

static void test_format(void **state)
{
	struct unsub_addr_set *set = compile_ok(
		UNSUB_ADDR_DEFAULT ";unsub-[LIST_UID]-[SUBSCRIBER_UID]@u.example.net;"
		"iem.[SUBSCRIBER_ID]_[LIST_ID]@*", NULL);
	struct unsub_addr_set *sset = compile_ok(
		"[SUBSCRIBER_UID].[LIST_UID].[CAMPAIGN_UID].[SIGNATURE]@fbl-unsub.example.com",
		SECRET);
	struct unsub_addr_ids ids = { 0 };
	char out[ADDR_MAX + 1], err[512];

	(void)state;
	strcpy(ids.subscriber, "ZZ123CD456EF7");
	strcpy(ids.list, "ab123cd456ef7");
	strcpy(ids.campaign, "cc123cd456ef7");
	format_match(set, 0, &ids, NULL,
		     "zz123cd456ef7.ab123cd456ef7.cc123cd456ef7@fbl-unsub.example.com");
	format_match(set, 0, &ids, "FBL-unsub.example.com",
		     "zz123cd456ef7.ab123cd456ef7.cc123cd456ef7@fbl-unsub.example.com");
	format_match(sset, 0, &ids, NULL,
		     "zz123cd456ef7.ab123cd456ef7.cc123cd456ef7." SIG_FULL
		     "@fbl-unsub.example.com");

	assert_int_equal(unsub_addr_format(set, 1, &ids, NULL, out, sizeof(out),
					   err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "the form 'unsub-[LIST_UID]-[SUBSCRIBER_UID]@"
			    "u.example.net' has no [CAMPAIGN_UID]: a campaign "
			    "cannot be part of its addresses");
	assert_int_equal(unsub_addr_format(set, 0, &ids, "other.example", out,
					   sizeof(out), err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "the form '" UNSUB_ADDR_DEFAULT "' is for the "
			    "domain 'fbl-unsub.example.com', not 'other.example'");
	{
		struct unsub_addr_set *cset = compile_ok(
			"[SUBSCRIBER_UID]+[CAMPAIGN_UID]@u.example.net", NULL);
		struct unsub_addr_ids c = ids;

		assert_int_equal(unsub_addr_format(cset, 0, &c, NULL, out,
						   sizeof(out), err,
						   sizeof(err)), -EINVAL);
		assert_string_equal(err, "the form '[SUBSCRIBER_UID]+"
				    "[CAMPAIGN_UID]@u.example.net' has no "
				    "[LIST_UID]: a list cannot be part of its "
				    "addresses (the campaign names it)");
		c.list[0] = '\0';
		format_match(cset, 0, &c, NULL,
			     "zz123cd456ef7+cc123cd456ef7@u.example.net");
		unsub_addr_free(cset);
	}
	ids.campaign[0] = '\0';
	format_match(set, 1, &ids, NULL,
		     "unsub-ab123cd456ef7-zz123cd456ef7@u.example.net");
	assert_int_equal(unsub_addr_format(set, 0, &ids, NULL, out, sizeof(out),
					   err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "campaign UID is missing (form '"
			    UNSUB_ADDR_DEFAULT "')");
	strcpy(ids.list, "ab123cd456ef");
	assert_int_equal(unsub_addr_format(set, 1, &ids, NULL, out, sizeof(out),
					   err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "list UID 'ab123cd456ef' has 12 characters, "
			    "expected 13 (form 'unsub-[LIST_UID]-[SUBSCRIBER_UID]"
			    "@u.example.net')");
	strcpy(ids.list, "ab123cd/56ef7");
	assert_int_equal(unsub_addr_format(set, 1, &ids, NULL, out, sizeof(out),
					   err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "list UID 'ab123cd/56ef7' holds characters "
			    "other than a-z and 0-9 (form 'unsub-[LIST_UID]-"
			    "[SUBSCRIBER_UID]@u.example.net')");

	strcpy(ids.subscriber, "42");
	strcpy(ids.list, "7");
	format_match(set, 2, &ids, "Lists.Example.ORG",
		     "iem.42_7@lists.example.org");
	assert_int_equal(unsub_addr_format(set, 2, &ids, NULL, out, sizeof(out),
					   err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "the form 'iem.[SUBSCRIBER_ID]_[LIST_ID]@*' "
			    "takes any domain: name one (none given)");
	assert_int_equal(unsub_addr_format(set, 2, &ids, "a b", out,
					   sizeof(out), err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "the form 'iem.[SUBSCRIBER_ID]_[LIST_ID]@*' "
			    "takes any domain: name one (not a domain)");
	assert_int_equal(unsub_addr_format(set, 3, &ids, NULL, out, sizeof(out),
					   err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "no address form 4");
	unsub_addr_free(set);
	unsub_addr_free(sset);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_form),
		cmocka_unit_test(test_many_forms),
		cmocka_unit_test(test_bad_forms),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_sign),
		cmocka_unit_test(test_signed_forms),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
