/*
 * test_fbl_policy.c - which feedback reports are about our mail: the
 * embedded defaults (no pattern: every report), [fbl] senders and the
 * providers' senders against the original's From, Return-Path and the
 * report's Original-Mail-From, the Message-ID domain, the providers' ids
 * (X-Job, List-Id, X-Mw-Subscriber-Uid, X-Mailer-LID), a recipient or a
 * subscriber's uid: key (MailWizz's, Interspire's) the state knows, and
 * how that key is made; and which addresses belong to our sender
 * domains.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>

#include "arf.h"
#include "config.h"
#include "fbl_policy.h"
#include "mail_events.h"
#include "rcpt.h"
#include "state.h"
#include "tstate.h"

static char *fbl_news[] = { "*@news.example.com", "news-*@bounces.example.com",
			    NULL };
static char *all[] = { "*", NULL };
static char *mw_senders[] = { "campaigns@mw.example.org", NULL };

/* a report about a mail of the foreign sender spam@other.example */
static struct arf_report foreign(void)
{
	struct arf_report r;

	memset(&r, 0, sizeof(r));
	strcpy(r.orig_from, "spam@other.example");
	strcpy(r.orig_return_path, "bounce@other.example");
	strcpy(r.orig_message_id, "<1.2@other.example>");
	strcpy(r.rcpts[0], "ann@example.net");
	r.n_rcpts = 1;
	return r;
}

static struct config_provider provider(enum provider_type t, char **senders)
{
	struct config_provider p;

	memset(&p, 0, sizeof(p));
	p.name = t == PROVIDER_MAILWIZZ ? "mw" : "iem";
	p.type = t;
	p.senders = senders;
	p.job_prefix = "mailwizz-";
	return p;
}

/* ours - fbl_policy_ours with WHY checked to contain WANT */
static bool ours(const struct fbl_policy *p, const struct arf_report *r,
		 struct state *st, const char *want)
{
	char why[256] = "";
	bool ok = fbl_policy_ours(p, r, st, why, sizeof(why));

	if (want && !strstr(why, want))
		fail_msg("why '%s' does not say '%s'", why, want);
	return ok;
}

static void test_defaults_take_everything(void **state)
{
	struct config cfg;
	struct fbl_policy *p;
	struct arf_report r = foreign();

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	p = fbl_policy_new(&cfg);
	assert_true(fbl_policy_open(p));
	assert_true(ours(p, &r, NULL, "no sender patterns"));
	assert_false(fbl_policy_own_address(p, "list@news.example.com"));
	fbl_policy_free(p);

	/* a provider without senders restricts nothing either */
	{
		struct config_provider mw = provider(PROVIDER_MAILWIZZ, NULL);

		cfg.providers = &mw;
		cfg.n_providers = 1;
		p = fbl_policy_new(&cfg);
		assert_true(fbl_policy_open(p));
		fbl_policy_free(p);
	}
	/* a provider's "*" means every sender, unless [fbl] senders says
	   which are ours: then it only routes bounces */
	{
		struct config_provider hook = provider(PROVIDER_WEBHOOK, all);
		static char *star[] = { "*", NULL };

		cfg.providers = &hook;
		cfg.n_providers = 1;
		p = fbl_policy_new(&cfg);
		assert_true(fbl_policy_open(p));
		assert_true(ours(p, &r, NULL, NULL));
		fbl_policy_free(p);
		cfg.fbl_senders = fbl_news;
		p = fbl_policy_new(&cfg);
		assert_false(fbl_policy_open(p));
		assert_false(ours(p, &r, NULL, NULL));
		fbl_policy_free(p);
		cfg.fbl_senders = star;
		p = fbl_policy_new(&cfg);
		assert_true(fbl_policy_open(p));
		fbl_policy_free(p);
	}
}

static void test_senders(void **state)
{
	struct config cfg;
	struct fbl_policy *p;
	struct arf_report r;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.fbl_senders = fbl_news;
	p = fbl_policy_new(&cfg);
	assert_false(fbl_policy_open(p));

	r = foreign();
	assert_false(ours(p, &r, NULL, "sender spam@other.example, Return-Path "
			  "bounce@other.example matches no"));
	strcpy(r.orig_from, "News@News.Example.com");	/* case-insensitive */
	assert_true(ours(p, &r, NULL, "sender News@News.Example.com"));
	r = foreign();
	strcpy(r.orig_return_path, "news-jane=example.net@bounces.example.com");
	assert_true(ours(p, &r, NULL, "sender news-jane"));
	r = foreign();
	strcpy(r.original_mail_from, "x@news.example.com");
	assert_true(ours(p, &r, NULL, "sender x@news.example.com"));
	r = foreign();
	strcpy(r.orig_message_id, "<5f2c1e0a9b7d4.mw@news.example.com>");
	assert_true(ours(p, &r, NULL, "Message-ID domain news.example.com"));
	r = foreign();
	strcpy(r.orig_message_id, "<5f2c@news.example.com.evil>");
	assert_false(ours(p, &r, NULL, NULL));
	/* X-Job and the subscriber uid tie nothing without a provider */
	r = foreign();
	strcpy(r.x_job, "mailwizz-cc123cd456ef7");
	strcpy(r.mw_subscriber_uid, "zz123cd456ef7");
	assert_false(ours(p, &r, NULL, NULL));

	assert_true(fbl_policy_own_address(p, "list@news.example.com"));
	assert_true(fbl_policy_own_address(p, "x@BOUNCES.example.com"));
	assert_false(fbl_policy_own_address(p, "ann@example.net"));
	assert_false(fbl_policy_own_address(p, "news.example.com"));
	fbl_policy_free(p);
}

static void test_provider_ids(void **state)
{
	struct config_provider ps[2] = {
		provider(PROVIDER_MAILWIZZ, mw_senders),
		provider(PROVIDER_INTERSPIRE, NULL),
	};
	struct config cfg;
	struct fbl_policy *p;
	struct arf_report r;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.providers = ps;
	cfg.n_providers = 1;
	p = fbl_policy_new(&cfg);
	assert_false(fbl_policy_open(p));
	r = foreign();
	strcpy(r.orig_from, "campaigns@mw.example.org");
	assert_true(ours(p, &r, NULL, "sender campaigns@mw.example.org"));
	r = foreign();
	strcpy(r.x_job, "mailwizz-cc123cd456ef7");
	assert_true(ours(p, &r, NULL, "X-Job mailwizz-cc123cd456ef7 is a "
			 "campaign of provider mw"));
	r = foreign();
	strcpy(r.x_job, "pmta-job-17");
	assert_false(ours(p, &r, NULL, NULL));
	r = foreign();
	strcpy(r.list_id, "ab123cd456ef7 <Example News>");
	assert_true(ours(p, &r, NULL, "List-Id names list ab123cd456ef7 of "
			 "provider mw"));
	r = foreign();
	strcpy(r.mw_subscriber_uid, "zz123cd456ef7");
	assert_true(ours(p, &r, NULL, "X-Mw-Subscriber-Uid zz123cd456ef7"));
	r = foreign();
	strcpy(r.mw_subscriber_uid, "not-a-uid");
	assert_false(ours(p, &r, NULL, NULL));
	r = foreign();
	strcpy(r.mailer_lid, "12");
	assert_false(ours(p, &r, NULL, NULL));	/* no Interspire provider */
	fbl_policy_free(p);

	cfg.n_providers = 2;
	p = fbl_policy_new(&cfg);
	assert_true(ours(p, &r, NULL, "X-Mailer-LID 12"));
	fbl_policy_free(p);
}

static void test_accounting(void **state)
{
	struct tstate t;
	struct config cfg;
	struct fbl_policy *p;
	struct arf_report r = foreign();
	struct state *st = NULL;
	struct rcpt rec;
	MDB_txn *txn = NULL;
	unsigned i;

	(void)state;
	assert_int_equal(tstate_setup(&t, "test_fbl_policy"), 0);
	st = t.st;
	memset(&cfg, 0, sizeof(cfg));
	cfg.fbl_senders = fbl_news;
	p = fbl_policy_new(&cfg);
	assert_false(ours(p, &r, st, NULL));
	rcpt_init(&rec);
	rec.cnt_soft = 2;
	assert_int_equal(state_begin(st, true, &txn), 0);
	assert_int_equal(state_rcpt_put(st, txn, "ann@example.net", &rec), 0);
	assert_int_equal(state_rcpt_put(st, txn, "uid:mw:zz123cd456ef7", &rec),
			 0);
	assert_int_equal(state_rcpt_put(st, txn, "uid:iem:12:48213", &rec), 0);
	assert_int_equal(state_commit(txn), 0);
	assert_true(ours(p, &r, st, "the state knows ann@example.net"));
	/* a hidden recipient: the subscriber's uid: key */
	r.n_rcpts = 0;
	r.rcpts[0][0] = '\0';
	assert_false(ours(p, &r, st, NULL));
	strcpy(r.mw_subscriber_uid, "zz123cd456ef7");
	assert_true(ours(p, &r, st, "the state knows uid:mw:zz123cd456ef7"));
	/* Interspire's: uid:iem:LIST:ID from X-Mailer-LID, X-Mailer-RecptId */
	r.mw_subscriber_uid[0] = '\0';
	strcpy(r.mailer_lid, "12");
	assert_false(ours(p, &r, st, NULL));
	strcpy(r.mailer_recptid, "48214");
	assert_false(ours(p, &r, st, NULL));
	strcpy(r.mailer_recptid, "48213");
	assert_true(ours(p, &r, st, "the state knows uid:iem:12:48213"));
	/* a campaign sent to several lists: the key holds all their ids */
	strcpy(r.mailer_lid, "2,24,12");
	assert_false(ours(p, &r, st, NULL));
	assert_int_equal(state_begin(st, true, &txn), 0);
	assert_int_equal(state_rcpt_put(st, txn, "uid:iem:2,24,12:48213",
					&rec), 0);
	assert_int_equal(state_commit(txn), 0);
	assert_true(ours(p, &r, st, "the state knows uid:iem:2,24,12:48213"));
	/* more lists than a key holds: the key names the subscriber with
	   the word "lists", as the accounting record's key does */
	memset(r.mailer_lid, 0, sizeof(r.mailer_lid));
	for (i = 0; i < 60; i++)
		snprintf(r.mailer_lid + strlen(r.mailer_lid),
			 sizeof(r.mailer_lid) - strlen(r.mailer_lid), "%s%u",
			 i ? "," : "", 2000 + i);
	assert_false(ours(p, &r, st, NULL));
	assert_int_equal(state_begin(st, true, &txn), 0);
	assert_int_equal(state_rcpt_put(st, txn, "uid:iem:lists:48213", &rec),
			 0);
	assert_int_equal(state_commit(txn), 0);
	assert_true(ours(p, &r, st, "the state knows uid:iem:lists:48213"));
	fbl_policy_free(p);
	assert_int_equal(tstate_teardown(&t), 0);
}

/* test_uid_key - the key of a subscriber known by ids: X-Mailer-LID whole
   while the key holds it in ADDR_MAX bytes, else "lists" in its place;
   never some of the lists, which would name others */
static void test_uid_key(void **state)
{
	char key[ADDR_MAX + 1], lids[ARF_IEM_LID_SIZE + 1];
	char want[ARF_IEM_LID_SIZE + 32];
	size_t n;
	unsigned i;

	(void)state;
	assert_int_equal(mail_uid_key("", "12", "48213", key, sizeof(key)),
			 0);
	assert_string_equal(key, "uid:iem:12:48213");
	/* MailWizz's uid first */
	assert_int_equal(mail_uid_key("zz123cd456ef7", "12", "48213", key,
				      sizeof(key)), 0);
	assert_string_equal(key, "uid:mw:zz123cd456ef7");
	/* ids that are no ids name nobody */
	assert_int_equal(mail_uid_key("", "2,,12", "48213", key,
				      sizeof(key)), -1);
	assert_string_equal(key, "");
	assert_int_equal(mail_uid_key("", "12", "48x", key, sizeof(key)),
			 -1);
	assert_int_equal(mail_uid_key("", NULL, "48213", key, sizeof(key)),
			 -1);
	/* lists of 240 characters: a key of ADDR_MAX bytes, whole */
	lids[0] = '\0';
	for (i = 0; i < 47; i++)
		snprintf(lids + strlen(lids), sizeof(lids) - strlen(lids),
			 "%s%u", i ? "," : "", 1000 + i);
	strcat(lids, ",12345");
	n = strlen(lids);
	assert_int_equal(n, 240);
	assert_int_equal(mail_uid_key("", lids, "48213", key, sizeof(key)),
			 0);
	assert_int_equal(strlen(key), ADDR_MAX);
	snprintf(want, sizeof(want), "uid:iem:%s:48213", lids);
	assert_string_equal(key, want);
	/* one digit more: the key says "lists", the event carries them */
	strcat(lids, "6");
	assert_int_equal(mail_uid_key("", lids, "48213", key, sizeof(key)),
			 0);
	assert_string_equal(key, "uid:iem:lists:48213");
	/* a shorter subscriber id leaves room for them again */
	assert_int_equal(mail_uid_key("", lids, "4821", key, sizeof(key)),
			 0);
	assert_int_equal(strlen(key), ADDR_MAX);
	/* the longest X-Mailer-LID kept: the same */
	lids[0] = '\0';
	for (i = 0; i < 197; i++)
		snprintf(lids + strlen(lids), sizeof(lids) - strlen(lids),
			 "%s%u", i ? "," : "", 1000 + i);
	assert_int_equal(strlen(lids), ARF_IEM_LID_SIZE - 1);
	assert_int_equal(mail_uid_key("", lids, "1234567890", key,
				      sizeof(key)), 0);
	assert_string_equal(key, "uid:iem:lists:1234567890");
	/* one longer names nobody */
	strcat(lids, "1");
	assert_int_equal(mail_uid_key("", lids, "48213", key, sizeof(key)),
			 -1);
	/* a buffer too small: nothing, whatever fits of it */
	assert_int_equal(mail_uid_key("", "2,24,12", "48213", key, 20),
			 -1);
	assert_string_equal(key, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_take_everything),
		cmocka_unit_test(test_senders),
		cmocka_unit_test(test_provider_ids),
		cmocka_unit_test(test_accounting),
		cmocka_unit_test(test_uid_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
