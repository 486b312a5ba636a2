/*
 * test_config.c - config.c, config_print.c and log.c: the embedded
 * defaults, a file with every group, a table of bad values (each must fail
 * naming key and value), warnings (unknown keys, other types' keys, a
 * secret file open to others), provider names, durations, the
 * print -> load round trip with secrets masked, the shipped example file,
 * and the log line format, sanitising, truncation, levels, reopen, the
 * folding of repeated lines and the per-input caps.
 * Files are written under a temporary directory removed at the end; the
 * example is read as contrib/bounced.conf.example (the suite runs from the
 * repository root).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alert_rules.h"
#include "classify_override.h"
#include "config.h"
#include "domain_group.h"
#include "log.h"
#include "ttmp.h"

static char *tmpdir;

static int group_setup(void **state)
{
	(void)state;
	tmpdir = ttmp_make("test_config");
	return tmpdir ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	log_close();
	return ttmp_remove(&tmpdir);
}

/* write_file - NAME in the temp dir with TEXT and MODE; g_free the path */
static char *write_file(const char *name, const char *text, mode_t mode)
{
	char *path = g_build_filename(tmpdir, name, NULL);

	assert_true(g_file_set_contents(path, text, -1, NULL));
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static char *read_all(const char *path)
{
	char *text = NULL;

	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	return text;
}

static bool has_warning(GPtrArray *w, const char *needle)
{
	guint i;

	for (i = 0; i < w->len; i++)
		if (strstr(w->pdata[i], needle))
			return true;
	return false;
}

static void assert_list(char **got, const char *const *want)
{
	size_t i;

	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	for (i = 0; want[i]; i++) {
		assert_non_null(got[i]);
		assert_string_equal(got[i], want[i]);
	}
	assert_null(got[i]);
}

static void assert_str_or_null(const char *got, const char *want)
{
	if (!want)
		assert_null(got);
	else {
		assert_non_null(got);
		assert_string_equal(got, want);
	}
}

static void assert_lists_equal(char **a, char **b)
{
	size_t i;

	if (!a || !b) {
		assert_ptr_equal(a, b);
		return;
	}
	for (i = 0; a[i] && b[i]; i++)
		assert_string_equal(a[i], b[i]);
	assert_null(a[i]);
	assert_null(b[i]);
}

/* a secret after print -> load is "****" when it was set */
static void assert_secret(const char *printed, const char *orig, bool masked)
{
	if (masked)
		assert_str_or_null(printed, orig ? "****" : NULL);
	else
		assert_str_or_null(printed, orig);
}

/* assert_config_equal - every value but the path */
static void assert_config_equal(const struct config *a,
				const struct config *b, bool masked)
{
	size_t i;

	assert_string_equal(a->spool, b->spool);
	assert_string_equal(a->state, b->state);
	assert_string_equal(a->log, b->log);
	assert_int_equal(a->debug, b->debug);
	assert_lists_equal(a->acct_fields, b->acct_fields);
	assert_int_equal(a->batch_records, b->batch_records);
	assert_int_equal(a->batch_interval_ms, b->batch_interval_ms);
	assert_lists_equal(a->acct_ignore, b->acct_ignore);
	assert_int_equal(a->done_retention, b->done_retention);
	assert_int_equal(a->shutdown_timeout_ms, b->shutdown_timeout_ms);
	assert_int_equal(a->drop_max_size, b->drop_max_size);
	assert_lists_equal(a->hard_categories, b->hard_categories);
	assert_lists_equal(a->soft_categories, b->soft_categories);
	assert_lists_equal(a->ignore_categories, b->ignore_categories);
	assert_lists_equal(a->complaint_types, b->complaint_types);
	assert_int_equal(a->soft_threshold, b->soft_threshold);
	assert_int_equal(a->soft_min_span, b->soft_min_span);
	assert_int_equal(a->soft_window, b->soft_window);
	assert_string_equal(a->classify_rules ? a->classify_rules :
			    CLASSIFY_RULES_DEFAULT, b->classify_rules ?
			    b->classify_rules : CLASSIFY_RULES_DEFAULT);
	assert_lists_equal(a->sender_categories, b->sender_categories);
	assert_int_equal(a->incidents, b->incidents);
	assert_int_equal(a->incident_window, b->incident_window);
	assert_int_equal(a->incident_min_recipients,
			 b->incident_min_recipients);
	assert_true(a->incident_min_share == b->incident_min_share);
	assert_int_equal(a->incident_quiet, b->incident_quiet);
	assert_int_equal(a->incident_hold_hard, b->incident_hold_hard);
	assert_string_equal(a->domain_groups ? a->domain_groups :
			    DOMAIN_GROUPS_DEFAULT, b->domain_groups ?
			    b->domain_groups : DOMAIN_GROUPS_DEFAULT);
	assert_string_equal(a->alert_rules ? a->alert_rules :
			    ALERT_RULES_DEFAULT, b->alert_rules ?
			    b->alert_rules : ALERT_RULES_DEFAULT);
	assert_int_equal(a->rates, b->rates);
	assert_int_equal(a->rates_top, b->rates_top);
	assert_int_equal(a->n_providers, b->n_providers);
	for (i = 0; i < a->n_providers; i++) {
		const struct config_provider *p = &a->providers[i];
		const struct config_provider *q = &b->providers[i];

		assert_string_equal(p->name, q->name);
		assert_int_equal(p->type, q->type);
		assert_str_or_null(q->endpoint, p->endpoint);
		assert_int_equal(p->api_version, q->api_version);
		assert_str_or_null(q->public_key, p->public_key);
		assert_secret(q->private_key, p->private_key, masked);
		assert_secret(q->api_key, p->api_key, masked);
		assert_str_or_null(q->username, p->username);
		assert_secret(q->usertoken, p->usertoken, masked);
		assert_str_or_null(q->url, p->url);
		assert_secret(q->secret, p->secret, masked);
		assert_int_equal(p->events, q->events);
		assert_lists_equal(p->senders, q->senders);
		assert_str_or_null(q->job_prefix, p->job_prefix);
		assert_str_or_null(q->list_id, p->list_id);
		assert_int_equal(q->complaint_action, p->complaint_action);
		assert_int_equal(p->concurrency, q->concurrency);
		assert_int_equal(p->list_refresh, q->list_refresh);
		assert_int_equal(p->timeout, q->timeout);
		assert_int_equal(p->connect_timeout, q->connect_timeout);
		assert_str_or_null(q->ca_file, p->ca_file);
	}
	assert_string_equal(b->unsub_addresses, a->unsub_addresses);
	/* written back in full: a masked signing key is refused */
	assert_str_or_null(b->unsub_secret, a->unsub_secret);
	assert_str_or_null(b->notify_smtp, a->notify_smtp);
	assert_str_or_null(b->notify_from, a->notify_from);
	assert_lists_equal(a->notify_to, b->notify_to);
	assert_int_equal(a->digest_interval, b->digest_interval);
	assert_int_equal(a->notify_mode, b->notify_mode);
	assert_str_or_null(b->notify_username, a->notify_username);
	assert_secret(b->notify_password, a->notify_password, masked);
	assert_int_equal(a->notify_starttls, b->notify_starttls);
	assert_str_or_null(b->notify_ca_file, a->notify_ca_file);
	assert_int_equal(a->notify_timeout, b->notify_timeout);
	assert_str_or_null(b->notify_web_url, a->notify_web_url);
	assert_int_equal(a->notify_max_items, b->notify_max_items);
	assert_string_equal(a->rrd_file, b->rrd_file);
	assert_str_or_null(b->metrics_textfile, a->metrics_textfile);
	assert_lists_equal(a->fbl_senders, b->fbl_senders);
}

static const char *const def_fields[] = {
	"type", "timeQueued", "bounceCat", "vmta", "orig", "rcpt", "srcMta",
	"dlvSourceIp", "jobId", "dsnStatus", "dsnMta", "dsnDiag", NULL
};
static const char *const def_hard[] = {
	"bad-mailbox", "bad-domain", "routing-errors", "inactive-mailbox", NULL
};
static const char *const def_soft[] = {
	"bad-configuration", "bad-connection", "content-related",
	"invalid-sender", "policy-related", "quota-issues",
	"spam-related", "virus-related", NULL
};
static const char *const def_empty[] = { NULL };
static const char *const def_complaint[] = { "abuse", NULL };
static const char *const def_ignore[] = { "*.tmp", "*.part", NULL };

static void assert_defaults(const struct config *cfg)
{
	assert_string_equal(cfg->spool, "./spool");
	assert_string_equal(cfg->state, "./state");
	assert_string_equal(cfg->log, "-");
	assert_false(cfg->debug);
	assert_list(cfg->acct_fields, def_fields);
	assert_int_equal(cfg->batch_records, 1000000);
	assert_int_equal(cfg->batch_interval_ms, 250);
	assert_list(cfg->acct_ignore, def_ignore);
	assert_int_equal(cfg->done_retention, 7 * 86400);
	assert_int_equal(cfg->shutdown_timeout_ms, 10000);
	assert_int_equal(cfg->drop_max_size, 10485760);
	/* incidents on with the figures of docs/CLASSIFY.md, every default
	   rule set, rates on */
	assert_null(cfg->classify_rules);
	assert_string_equal(cfg->sender_categories[0], "policy-related");
	assert_int_equal(g_strv_length(cfg->sender_categories), 9);
	assert_true(cfg->incidents);
	assert_int_equal(cfg->incident_window, 1800);
	assert_int_equal(cfg->incident_min_recipients, 10);
	assert_true(cfg->incident_min_share == 0.2);
	assert_int_equal(cfg->incident_quiet, 7200);
	assert_true(cfg->incident_hold_hard);
	assert_null(cfg->domain_groups);
	assert_null(cfg->alert_rules);
	assert_true(cfg->rates);
	assert_int_equal(cfg->rates_top, 200);
	assert_list(cfg->hard_categories, def_hard);
	assert_list(cfg->soft_categories, def_soft);
	assert_list(cfg->ignore_categories, def_empty);
	assert_list(cfg->complaint_types, def_complaint);
	assert_int_equal(cfg->soft_threshold, 5);
	assert_int_equal(cfg->soft_min_span, 3 * 86400);
	assert_int_equal(cfg->soft_window, 30 * 86400);
	assert_int_equal(cfg->n_providers, 0);
	assert_null(cfg->providers);
	assert_null(cfg->notify_smtp);
	assert_null(cfg->notify_from);
	assert_null(cfg->notify_to);
	assert_int_equal(cfg->digest_interval, 15 * 60);
	assert_int_equal(cfg->notify_mode, NOTIFY_MODE_OFF);
	assert_int_equal(cfg->notify_starttls, NOTIFY_STARTTLS_TRY);
	assert_int_equal(cfg->notify_timeout, 30);
	assert_int_equal(cfg->notify_max_items, 500);
	assert_null(cfg->notify_web_url);
	assert_null(cfg->notify_password);
	assert_string_equal(cfg->rrd_file, "./state/bounced.rrd");
	assert_null(cfg->metrics_textfile);
	assert_null(cfg->fbl_senders);
}

/* test_defaults - NULL path: the embedded defaults, no warnings */
static void test_defaults(void **state)
{
	GPtrArray *w = g_ptr_array_new_with_free_func(g_free);
	struct config *cfg = NULL;
	char err[256] = "x";

	(void)state;
	assert_int_equal(config_load(NULL, &cfg, w, err, sizeof(err)), 0);
	assert_non_null(cfg);
	assert_string_equal(err, "");
	assert_int_equal(w->len, 0);
	assert_null(cfg->path);
	assert_defaults(cfg);
	config_free(cfg);
	g_ptr_array_free(w, TRUE);
}

/* an empty file is the defaults too */
static void test_empty_file(void **state)
{
	GPtrArray *w = g_ptr_array_new_with_free_func(g_free);
	char *path = write_file("empty.conf", "# nothing\n", 0600);
	struct config *cfg = NULL;
	char err[256];

	(void)state;
	assert_int_equal(config_load(path, &cfg, w, err, sizeof(err)), 0);
	assert_int_equal(w->len, 0);
	assert_string_equal(cfg->path, path);
	assert_defaults(cfg);
	config_free(cfg);
	g_ptr_array_free(w, TRUE);
	g_free(path);
}

static const char full_conf[] =
	"# every group and key\n"
	"[bounced]\n"
	"spool = data/spool\n"
	"state = data/state\n"
	"log = data/bounced.log\n"
	"debug = Yes\n"
	"acct-fields = type;rcpt , bounceCat,, dsnStatus ;\n"
	"batch-records = 5000\n"
	"batch-interval = 2s\n"
	"acct-ignore = *.tmp; .#* ,*.Part\n"
	"done-retention = 0\n"
	"shutdown-timeout = 1500ms\n"
	"drop-max-size = 65536\n"
	"\n"
	"[classify]\n"
	"hard-categories = Bad-Mailbox, bad-domain;;\n"
	"soft-categories = quota-issues;other\n"
	"ignore-categories = protocol-errors\n"
	"complaint-types = ABUSE\n"
	"soft-threshold = 3\n"
	"soft-min-span = 2d\n"
	"soft-window = 2w\n"
	"rules = S3150 => policy-related; 5.1.1 user unknown => bad-mailbox\n"
	"sender-categories = Policy-Related; spam-related\n"
	"\n"
	"[incidents]\n"
	"enabled = no\n"
	"window = 1h\n"
	"min-recipients = 25\n"
	"min-share = 35%\n"
	"quiet = 3h\n"
	"hold-hard = off\n"
	"domain-groups = ms: hotmail.* outlook.com; g: gmail.com\n"
	"\n"
	"[alerts]\n"
	"rules = complaint-rate > 0.2% over 12h per destination min 100\n"
	"\n"
	"[rates]\n"
	"enabled = false\n"
	"top = 50\n"
	"\n"
	"[provider mw]\n"
	"type = mailwizz\n"
	"endpoint = https://mw.example.com/api\n"
	"api-version = 1\n"
	"public-key = pub123\n"
	"private-key = priv456\n"
	"senders = News@mw.example.com;news-*@b.example.com\n"
	"job-prefix = mw-\n"
	"list-id = * <[LIST_UID].lists.example.com>\n"
	"complaint-action = blacklist\n"
	"concurrency = 4\n"
	"timeout = 1m\n"
	"connect-timeout = 5s\n"
	"ca-file = certs/ca.pem\n"
	"\n"
	"[provider mw2]\n"
	"type = mailwizz\n"
	"endpoint = http://mw2.example.com/api\n"
	"api-version = 2\n"
	"api-key = key789\n"
	"senders = *\n"
	"job-prefix =\n"
	"\n"
	"[provider iem]\n"
	"type = interspire\n"
	"endpoint = https://iem.example.com/xml.php\n"
	"username = admin\n"
	"usertoken = tok000\n"
	"list-refresh = 1h\n"
	"senders = campaigns@iem.example.com\n"
	"\n"
	"[provider hook]\n"
	"type = webhook\n"
	"url = https://hooks.example.com/b?x=1\n"
	"secret = s3cr3t\n"
	"senders = *\n"
	"events = incidents, Alerts\n"
	"\n"
	"[unsubscribe]\n"
	"addresses = [SUBSCRIBER_UID].[LIST_UID].[CAMPAIGN_UID].[SIGNATURE]@U.example.com ; "
	"iem-[SUBSCRIBER_ID]-[LIST_ID]-[SIGNATURE]@*\n"
	"secret = unsub-0123456789abcdef\n"
	"\n"
	"[notify]\n"
	"smtp = smtp://localhost:25\n"
	"from = bounced@example.com\n"
	"to = postmaster@example.com; ops@example.com\n"
	"digest-interval = 1h\n"
	"username = mailer\n"
	"password = pa55word\n"
	"starttls = Required\n"
	"ca-file = certs/smtp-ca.pem\n"
	"timeout = 20s\n"
	"web-url = https://mw.example.com/\n"
	"max-items = 50\n"
	"\n"
	"[rrd]\n"
	"file = data/metrics.rrd\n"
	"\n"
	"[metrics]\n"
	"textfile = /var/lib/node_exporter/bounced.prom\n"
	"\n"
	"[fbl]\n"
	"senders = *@News.Example.com; news-*@bounces.example.com\n";

static const char *const full_fbl_senders[] = {
	"*@news.example.com", "news-*@bounces.example.com", NULL
};

static void assert_full(const struct config *cfg)
{
	static const char *const fields[] = { "type", "rcpt", "bounceCat",
					      "dsnStatus", NULL };
	static const char *const hard[] = { "bad-mailbox", "bad-domain", NULL };
	static const char *const soft[] = { "quota-issues", "other", NULL };
	static const char *const ign[] = { "protocol-errors", NULL };
	static const char *const compl[] = { "abuse", NULL };
	static const char *const ignore[] = { "*.tmp", ".#*", "*.Part", NULL };
	static const char *const mw_senders[] = { "news@mw.example.com",
						  "news-*@b.example.com", NULL };
	static const char *const iem_senders[] = { "campaigns@iem.example.com",
						   NULL };
	static const char *const all[] = { "*", NULL };
	const struct config_provider *p;

	assert_string_equal(cfg->spool, "data/spool");
	assert_string_equal(cfg->state, "data/state");
	assert_string_equal(cfg->log, "data/bounced.log");
	assert_true(cfg->debug);
	assert_list(cfg->acct_fields, fields);
	assert_int_equal(cfg->batch_records, 5000);
	assert_int_equal(cfg->batch_interval_ms, 2000);
	assert_list(cfg->acct_ignore, ignore);
	assert_int_equal(cfg->done_retention, 0);
	assert_int_equal(cfg->shutdown_timeout_ms, 1500);
	assert_int_equal(cfg->drop_max_size, 65536);
	assert_list(cfg->hard_categories, hard);
	assert_list(cfg->soft_categories, soft);
	assert_list(cfg->ignore_categories, ign);
	assert_list(cfg->complaint_types, compl);
	assert_int_equal(cfg->soft_threshold, 3);
	assert_int_equal(cfg->soft_min_span, 2 * 86400);
	assert_int_equal(cfg->soft_window, 14 * 86400);
	assert_int_equal(cfg->n_providers, 4);

	p = &cfg->providers[0];
	assert_string_equal(p->name, "mw");
	assert_int_equal(p->type, PROVIDER_MAILWIZZ);
	assert_string_equal(p->endpoint, "https://mw.example.com/api");
	assert_int_equal(p->api_version, 1);
	assert_string_equal(p->public_key, "pub123");
	assert_string_equal(p->private_key, "priv456");
	assert_null(p->api_key);
	assert_list(p->senders, mw_senders);
	assert_string_equal(p->job_prefix, "mw-");
	assert_string_equal(p->list_id, "* <[LIST_UID].lists.example.com>");
	assert_int_equal(p->complaint_action, ACT_BOTH);
	assert_int_equal(p->concurrency, 4);
	assert_int_equal(p->timeout, 60);
	assert_int_equal(p->connect_timeout, 5);
	assert_string_equal(p->ca_file, "certs/ca.pem");

	p = &cfg->providers[1];
	assert_string_equal(p->name, "mw2");
	assert_int_equal(p->api_version, 2);
	assert_string_equal(p->api_key, "key789");
	assert_null(p->public_key);
	assert_null(p->private_key);
	assert_string_equal(p->job_prefix, "");
	assert_string_equal(p->list_id, CONFIG_LIST_ID_DEFAULT);
	assert_string_equal(p->senders[0], "*");
	assert_null(p->senders[1]);
	assert_int_equal(p->concurrency, 16);
	assert_int_equal(p->timeout, 30);
	assert_int_equal(p->connect_timeout, 10);
	assert_null(p->ca_file);

	p = &cfg->providers[2];
	assert_string_equal(p->name, "iem");
	assert_int_equal(p->type, PROVIDER_INTERSPIRE);
	assert_string_equal(p->endpoint, "https://iem.example.com/xml.php");
	assert_string_equal(p->username, "admin");
	assert_string_equal(p->usertoken, "tok000");
	assert_int_equal(p->list_refresh, 3600);
	assert_list(p->senders, iem_senders);
	assert_null(p->job_prefix);

	p = &cfg->providers[3];
	assert_string_equal(p->name, "hook");
	assert_int_equal(p->type, PROVIDER_WEBHOOK);
	assert_string_equal(p->url, "https://hooks.example.com/b?x=1");
	assert_string_equal(p->secret, "s3cr3t");
	assert_list(p->senders, all);
	assert_null(p->endpoint);
	assert_int_equal(p->list_refresh, 600);

	assert_string_equal(cfg->unsub_addresses,
			    "[SUBSCRIBER_UID].[LIST_UID].[CAMPAIGN_UID]."
			    "[SIGNATURE]@U.example.com ; "
			    "iem-[SUBSCRIBER_ID]-[LIST_ID]-[SIGNATURE]@*");
	assert_string_equal(cfg->unsub_secret, "unsub-0123456789abcdef");
	assert_string_equal(cfg->notify_smtp, "smtp://localhost:25");
	assert_string_equal(cfg->notify_from, "bounced@example.com");
	assert_string_equal(cfg->notify_to[0], "postmaster@example.com");
	assert_string_equal(cfg->notify_to[1], "ops@example.com");
	assert_null(cfg->notify_to[2]);
	assert_int_equal(cfg->notify_mode, NOTIFY_MODE_DIGEST);
	assert_string_equal(cfg->notify_username, "mailer");
	assert_string_equal(cfg->notify_password, "pa55word");
	assert_int_equal(cfg->notify_starttls, NOTIFY_STARTTLS_REQUIRED);
	assert_string_equal(cfg->notify_ca_file, "certs/smtp-ca.pem");
	assert_int_equal(cfg->notify_timeout, 20);
	assert_string_equal(cfg->notify_web_url, "https://mw.example.com");
	assert_int_equal(cfg->notify_max_items, 50);
	assert_int_equal(cfg->digest_interval, 3600);
	assert_string_equal(cfg->rrd_file, "data/metrics.rrd");
	assert_string_equal(cfg->metrics_textfile,
			    "/var/lib/node_exporter/bounced.prom");
	assert_list(cfg->fbl_senders, full_fbl_senders);
	assert_string_equal(cfg->classify_rules, "S3150 => policy-related; "
			    "5.1.1 user unknown => bad-mailbox");
	assert_string_equal(cfg->sender_categories[0], "policy-related");
	assert_string_equal(cfg->sender_categories[1], "spam-related");
	assert_null(cfg->sender_categories[2]);
	assert_false(cfg->incidents);
	assert_int_equal(cfg->incident_window, 3600);
	assert_int_equal(cfg->incident_min_recipients, 25);
	assert_true(cfg->incident_min_share > 0.3499 &&
		    cfg->incident_min_share < 0.3501);
	assert_int_equal(cfg->incident_quiet, 3 * 3600);
	assert_false(cfg->incident_hold_hard);
	assert_string_equal(cfg->domain_groups,
			    "ms: hotmail.* outlook.com; g: gmail.com");
	assert_string_equal(cfg->alert_rules, "complaint-rate > 0.2% over "
			    "12h per destination min 100");
	assert_false(cfg->rates);
	assert_int_equal(cfg->rates_top, 50);
	assert_int_equal(cfg->providers[3].events,
			 WEBHOOK_EVENT_INCIDENTS | WEBHOOK_EVENT_ALERTS);
}

/* test_full - every group and key of a file, no warnings at mode 0600 */
static void test_full(void **state)
{
	GPtrArray *w = g_ptr_array_new_with_free_func(g_free);
	char *path = write_file("full.conf", full_conf, 0600);
	struct config *cfg = NULL;
	char err[512];
	guint i;

	(void)state;
	assert_int_equal(config_load(path, &cfg, w, err, sizeof(err)), 0);
	for (i = 0; i < w->len; i++)
		print_message("unexpected warning: %s\n",
			      (char *)w->pdata[i]);
	assert_int_equal(w->len, 0);
	assert_full(cfg);
	config_free(cfg);
	g_ptr_array_free(w, TRUE);
	g_free(path);
}

/* the rrd default follows the state directory */
static void test_rrd_default(void **state)
{
	char *path = write_file("rrd.conf", "[bounced]\nstate = st/\n", 0600);
	struct config *cfg = NULL;
	char err[256];

	(void)state;
	assert_int_equal(config_load(path, &cfg, NULL, err, sizeof(err)), 0);
	assert_string_equal(cfg->rrd_file, "st/bounced.rrd");
	config_free(cfg);
	g_free(path);
}

static const struct bad_case {
	const char *text;
	const char *want1, *want2;	/* substrings of the error */
} bad_cases[] = {
	{ "[bounced]\nbatch-records = 0\n", "batch-records = '0'", "1 to 10000000" },
	{ "[bounced]\nbatch-records = 10000001\n", "batch-records", "'10000001'" },
	{ "[bounced]\nbatch-records = -5\n", "batch-records", "'-5'" },
	{ "[bounced]\nbatch-records = 12x\n", "batch-records", "'12x'" },
	{ "[bounced]\nbatch-records = 99999999999999999999999\n", "batch-records", "'99999999999999999999999'" },
	{ "[bounced]\nbatch-records = 0x10\n", "batch-records", "'0x10'" },
	{ "[bounced]\nbatch-interval = 0ms\n", "batch-interval = '0ms'", "1ms to 1h" },
	{ "[bounced]\nbatch-interval = 2h\n", "batch-interval", "'2h'" },
	{ "[bounced]\nbatch-interval = fast\n", "batch-interval", "'fast'" },
	{ "[bounced]\ndebug = maybe\n", "debug = 'maybe'", "true or false" },
	{ "[provider m]\ntype = mailwizz\nsenders = *\nendpoint = https://m.example.com/api\n"
	  "api-version = 2\napi-key = k\ncomplaint-action = delete\n",
	  "[provider m] complaint-action = 'delete'", "unsubscribe or blacklist" },
	{ "[provider m]\ntype = mailwizz\nsenders = *\nendpoint = https://m.example.com/api\n"
	  "api-version = 2\napi-key = k\nsoft-action = maybe\n",
	  "[provider m] soft-action = 'maybe'", "expected bounce or none" },
	{ "[provider m]\ntype = mailwizz\nsenders = *\nendpoint = https://m.example.com/api\n"
	  "api-version = 2\napi-key = k\nhard-action = maybe\n",
	  "hard-action = 'maybe'", "none, unsubscribe, bounce or both" },
	{ "[provider m]\ntype = mailwizz\nsenders = *\nendpoint = https://m.example.com/api\n"
	  "api-version = 2\napi-key = k\nlist-id = <list>\n",
	  "[provider m] list-id = '<list>'", "one [LIST_UID]" },
	{ "[provider m]\ntype = mailwizz\nsenders = *\nendpoint = https://m.example.com/api\n"
	  "api-version = 2\napi-key = k\nlist-id = [LIST_UID] <*>;<x>\n",
	  "list-id", "one [LIST_UID]" },
	{ "[provider m]\ntype = mailwizz\nsenders = *\nendpoint = https://m.example.com/api\n"
	  "api-version = 2\napi-key = k\nlist-id = [LIST_UID][LIST_UID]\n",
	  "list-id", "one [LIST_UID]" },
	{ "[bounced]\ndone-retention = -1d\n", "done-retention = '-1d'", "0s to 3650d" },
	{ "[bounced]\ndone-retention = soon\n", "done-retention", "'soon'" },
	{ "[bounced]\nshutdown-timeout = 2h\n", "shutdown-timeout = '2h'", "0ms to 1h" },
	{ "[bounced]\nacct-ignore = *.tmp;a b\n", "acct-ignore", "blank" },
	{ "[bounced]\ndrop-max-size = 1023\n", "drop-max-size = '1023'", "1024 to 1073741824" },
	{ "[bounced]\ndrop-max-size = 1073741825\n", "drop-max-size", "'1073741825'" },
	{ "[bounced]\ndrop-max-size = 10M\n", "drop-max-size", "'10M'" },
	{ "[bounced]\ndrop-max-size = -1\n", "drop-max-size", "'-1'" },
	{ "[bounced]\nspool =\n", "[bounced] spool", "''" },
	{ "[bounced]\nstate = \n", "[bounced] state", "''" },
	{ "[bounced]\nlog =\n", "[bounced] log", "''" },
	{ "[bounced]\nspool = a\001b\n", "[bounced] spool", "control characters" },
	{ "[bounced]\nacct-fields = ;;,\n", "acct-fields", "list" },
	{ "[bounced]\nacct-fields = type;time queued\n", "acct-fields = 'type;time queued'", "blank" },
	{ "[classify]\nsoft-threshold = abc\n", "[classify] soft-threshold = 'abc'", "expected a whole number from 1 to 32" },
	{ "[classify]\nsoft-threshold = 0\n", "soft-threshold", "'0'" },
	{ "[classify]\nsoft-threshold = 33\n", "soft-threshold", "'33'" },
	{ "[classify]\nsoft-threshold = 5.5\n", "soft-threshold", "'5.5'" },
	{ "[classify]\nsoft-min-span = 3x\n", "soft-min-span = '3x'", "duration" },
	{ "[classify]\nsoft-min-span = -1d\n", "soft-min-span", "'-1d'" },
	{ "[classify]\nsoft-window = 0\n", "soft-window = '0'", "duration" },
	{ "[classify]\nsoft-window = 99999999999999999999d\n", "soft-window", "'99999999999999999999d'" },
	{ "[classify]\nsoft-window = 1d\n", "soft-window = '1d'", "soft-min-span ('3d')" },
	{ "[classify]\nsoft-min-span = 10d\nsoft-window = 9d\n", "soft-window = '9d'", "soft-min-span ('10d')" },
	{ "[classify]\nhard-categories = quota-issues;bad-mailbox\n", "'quota-issues'", "hard-categories and soft-categories" },
	{ "[classify]\nhard-categories = a b\n", "hard-categories = 'a b'", "blank" },
	{ "[notify]\ndigest-interval = 0s\n", "digest-interval = '0s'", "duration" },
	{ "[notify]\ndigest-interval = 1 h\n", "digest-interval", "'1 h'" },
	{ "[unsubscribe]\naddresses =\n", "[unsubscribe] addresses = ''", "address forms" },
	{ "[unsubscribe]\naddresses = [SUBSCRIBER_UID]-[LIST]@u.example.com\n", "[unsubscribe] addresses: address form '[SUBSCRIBER_UID]-[LIST]@u.example.com'", "unknown placeholder '[LIST]'" },
	{ "[unsubscribe]\naddresses = [SUBSCRIBER_UID].[LIST_UID]@u.example.com;x\n", "[unsubscribe] addresses: address form 'x'", "LOCALPART@DOMAIN" },
	{ "[unsubscribe]\nsecret = 0123456789abcdef\n", "[unsubscribe] addresses: address form '" "[SUBSCRIBER_UID].[LIST_UID].[CAMPAIGN_UID]@fbl-unsub.example.com'", "has no [SIGNATURE], but a secret is set" },
	{ "[unsubscribe]\naddresses = [SUBSCRIBER_UID].[LIST_UID].[SIGNATURE]@u.example.com\nsecret = TOPSECRET\n", "[unsubscribe] secret: expected 16 to 1024 bytes, not 9", "openssl rand" },
	{ "[unsubscribe]\naddresses = [SUBSCRIBER_UID].[LIST_UID].[SIGNATURE]@u.example.com\n", "[unsubscribe] addresses", "no secret is set" },
	{ "[notify]\nmode = sometimes\n", "[notify] mode = 'sometimes'", "digest, event or off" },
	{ "[notify]\nstarttls = maybe\n", "[notify] starttls = 'maybe'", "try, required or no" },
	{ "[notify]\nsmtp = http://mail.example.com\n", "smtp = 'http://mail.example.com'", "smtp://" },
	{ "[notify]\nsmtp = smtp://\n", "smtp = 'smtp://'", "host" },
	{ "[notify]\nsmtp = smtp://h\nfrom = a@b.example.com\nto = c@d.example.com;nobody\n", "[notify] to: 'nobody'", "address" },
	/* what the mail's composer refuses, the configuration refuses */
	{ "[notify]\nsmtp = smtp://h\nfrom = a@b.example.com\nto = postmaster@[127.0.0.1]\n",
	  "[notify] to: 'postmaster@[127.0.0.1]'", "not an address" },
	{ "[notify]\nsmtp = smtp://h\nfrom = ops(team)@example.com\nto = c@d.example.com\n",
	  "[notify] from = 'ops(team)@example.com'", "expected an address" },
	{ "[notify]\nfrom = me\n", "[notify] from = 'me'", "address" },
	{ "[notify]\nfrom = a<b>@example.com\n", "[notify] from", "address" },
	{ "[notify]\nmode = digest\n", "[notify] smtp is required", "mode is not off" },
	{ "[notify]\nmode = event\nsmtp = smtp://h\nfrom = a@b.example.com\n", "[notify] to is required", "mode is not off" },
	{ "[notify]\nsmtp = smtp://h\nto = c@d.example.com\n", "[notify] from is required", "mode is not off" },
	{ "[notify]\nmax-items = 0\n", "[notify] max-items = '0'", "1 to 100000" },
	{ "[notify]\nweb-url = mw.example.com\n", "[notify] web-url = 'mw.example.com'", "http" },
	{ "[notify]\ntimeout = 2h\n", "[notify] timeout = '2h'", "duration" },
	{ "[notify]\nsmtp = smtp://h\nfrom = a@b.example.com\nto = c@d.example.com\npassword = TOPSECRET\n", "[notify] password", "username" },
	{ "[provider x]\nendpoint = https://a.example.com\n", "[provider x] type", "required" },
	{ "[provider x]\ntype = mailchimp\n", "[provider x] type = 'mailchimp'", "mailwizz, interspire or webhook" },
	{ "[provider x]\ntype = mailwizz\nsenders = *\npublic-key = a\nprivate-key = TOPSECRET\n", "[provider x] endpoint", "required" },
	{ "[provider x]\ntype = mailwizz\nsenders = *\nendpoint = ftp://mw.example.com\npublic-key = a\nprivate-key = TOPSECRET\n", "endpoint = 'ftp://mw.example.com'", "http" },
	{ "[provider x]\ntype = mailwizz\nsenders = *\nendpoint = https://\npublic-key = a\nprivate-key = TOPSECRET\n", "endpoint = 'https://'", "URL" },
	{ "[provider x]\ntype = mailwizz\nsenders = *\nendpoint = https://a b\npublic-key = a\nprivate-key = TOPSECRET\n", "endpoint = 'https://a b'", "URL" },
	{ "[provider x]\ntype = mailwizz\nsenders = *\nendpoint = https://mw.example.com\napi-version = 3\n", "api-version = '3'", "1 to 2" },
	{ "[provider x]\ntype = mailwizz\nsenders = *\nendpoint = https://mw.example.com\npublic-key = a\n", "private-key", "required for api-version 1" },
	{ "[provider x]\ntype = mailwizz\nsenders = *\nendpoint = https://mw.example.com\nprivate-key = TOPSECRET\n", "public-key", "required for api-version 1" },
	{ "[provider x]\ntype = mailwizz\nsenders = *\nendpoint = https://mw.example.com\napi-version = 2\n", "api-key", "required for api-version 2" },
	{ "[provider x]\ntype = mailwizz\nsenders = *\nendpoint = https://mw.example.com\napi-version = 2\napi-key =\n", "api-key", "required" },
	{ "[provider x]\ntype = interspire\nsenders = *\nendpoint = https://i.example.com/xml.php\nusername = u\n", "usertoken", "required" },
	{ "[provider x]\ntype = interspire\nsenders = *\nendpoint = https://i.example.com/xml.php\nusertoken = TOPSECRET\n", "username", "required" },
	{ "[provider x]\ntype = interspire\nsenders = *\nendpoint = https://i.example.com/xml.php\nusername = u\nusertoken = TOPSECRET\nlist-refresh = 8d\n", "list-refresh = '8d'", "duration" },
	{ "[provider x]\ntype = webhook\nsenders = *\n", "[provider x] url", "required" },
	{ "[provider x]\ntype = webhook\nsenders = *\nurl = hooks.example.com\nsecret = TOPSECRET\n", "url = 'hooks.example.com'", "http" },
	/* URLs libcurl could not use, refused with curl_url()'s words */
	{ "[provider x]\ntype = webhook\nsenders = *\nurl = http://[::1\n", "url = 'http://[::1'", "IPv6" },
	{ "[provider x]\ntype = webhook\nsenders = *\nurl = http://u:TOPSECRET@[::1\n", "url = 'http://u:****@[::1'", "IPv6" },
	{ "[provider x]\ntype = webhook\nsenders = *\nurl = https://h.example.com:70000/x\n", "url = 'https://h.example.com:70000/x'", "Port number" },
	{ "[provider x]\ntype = webhook\nsenders = *\nurl = https://h.example.com:0/x\n", "url = 'https://h.example.com:0/x'", "port 0 is not from 1 to 65535" },
	{ "[provider x]\ntype = webhook\nsenders = *\nurl = https://:443/x\n", "url = 'https://:443/x'", "host" },
	{ "[provider x]\ntype = webhook\nsenders = *\nurl = http:/h.example.com/x\n", "url = 'http:/h.example.com/x'", "http://" },
	{ "[provider x]\ntype = mailwizz\nsenders = *\nendpoint = https://u:TOPSECRET@mw.example.com:99999/api\npublic-key = a\nprivate-key = b\n", "endpoint = 'https://u:****@mw.example.com:99999/api'", "Port number" },
	{ "[provider x]\ntype = interspire\nsenders = *\nendpoint = https://u:TOPSECRET@/xml.php\nusername = u\nusertoken = t\n", "endpoint = 'https://u:****@/xml.php'", "host" },
	{ "[notify]\nsmtp = smtps://u:TOPSECRET@mail.example.com:65536\n", "smtp = 'smtps://u:****@mail.example.com:65536'", "Port number" },
	{ "[notify]\nsmtp = smtp://[fe80::1\n", "smtp = 'smtp://[fe80::1'", "IPv6" },
	{ "[notify]\nweb-url = http://:80/\n", "web-url = 'http://:80'", "host" },
	{ "[notify]\nsmtp = smtp://mail.example.com # relay\n", "smtp = 'smtp://mail.example.com # relay'", "blank" },
	/* libcurl takes them, the sender does not: refused at load (every
	   mail would fail) */
	{ "[notify]\nsmtp = smtp://b\xc3\xbc" "cher.example:25\n", "smtp = 'smtp://b\xc3\xbc" "cher.example:25'", "xn-- form" },
	{ "[notify]\nsmtp = smtps://u:TOPSECRET@h/h\xc3\xa9llo\n", "smtp = 'smtps://u:****@h/h\xc3\xa9llo'", "printable ASCII" },
	{ "[notify]\nweb-url = https://mw.example.com/a|b\n", "web-url = 'https://mw.example.com/a|b'", "percent-encode" },
	{ "[notify]\nweb-url = https://mw.example.com/{x}\n", "web-url = 'https://mw.example.com/{x}'", "quotes, braces" },
	{ "[notify]\nsmtp = smtp://h\nfrom = a@b.example.com\nto = j\xc3\xb6rg@example.com\n", "[notify] to: 'j\xc3\xb6rg@example.com'", "in ASCII" },
	{ "[notify]\nsmtp = smtp://h\nfrom = a@b\xc3\xa4.example\nto = c@d.example.com\n", "[notify] from = 'a@b\xc3\xa4.example'", "xn-- form" },
	{ "[provider x]\ntype = webhook\nsenders = *\nurl = https://h.example.com\nconcurrency = 0\n", "concurrency = '0'", "1 to 256" },
	{ "[provider x]\ntype = webhook\nsenders = *\nurl = https://h.example.com\nconcurrency = 257\n", "concurrency = '257'", "1 to 256" },
	{ "[provider x]\ntype = webhook\nsenders = *\nurl = https://h.example.com\ntimeout = 0\n", "timeout = '0'", "duration" },
	{ "[provider x]\ntype = webhook\nsenders = *\nurl = https://h.example.com\nconnect-timeout = 2h\n", "connect-timeout = '2h'", "duration" },
	{ "[provider x]\ntype = webhook\nurl = https://h.example.com\nsenders = a@b.example.com c@d.example.com\n", "senders", "blank" },
	/* every provider names the senders whose bounces it takes */
	{ "[provider x]\ntype = webhook\nurl = https://h.example.com\n", "[provider x] senders is required", "* for all" },
	{ "[provider x]\ntype = webhook\nurl = https://h.example.com\nsenders = ;\n", "[provider x] senders is required", "globs" },
	/* a key that looks like a known one is a misspelling, said first */
	{ "[provider x]\ntype = webhook\nurl = https://h.example.com\nsender = *\n", "[provider x] unknown key 'sender'", "did you mean 'senders'?" },
	{ "[provider x]\ntype = webhook\nurl = https://h.example.com\nsenders = *\nretry-minn = 1s\n", "unknown key 'retry-minn'", "'retry-min'" },
	{ "[provider x]\ntype = mailwizz\nSenders = *\n", "unknown key 'Senders'", "'senders'" },
	{ "[bounced]\nspoool = x\n", "[bounced] unknown key 'spoool'", "did you mean 'spool'?" },
	{ "[classify]\nsoft-treshold = 3\n", "[classify] unknown key 'soft-treshold'", "'soft-threshold'" },
	{ "[notify]\nfrom = a<b>@example.com\ndigest-intervall = 1h\n", "unknown key 'digest-intervall'", "'digest-interval'" },
	{ "[provider bad name]\ntype = webhook\nsenders = *\nurl = https://h.example.com\n", "[provider bad name]", "provider name" },
	{ "[provider]\ntype = webhook\nsenders = *\nurl = https://h.example.com\n", "[provider]", "provider name" },
	{ "[provider dry-run]\ntype = webhook\nsenders = *\nurl = https://h.example.com\n", "[provider dry-run]", "reserved" },
	{ "[provider x]\ntype = webhook\nsenders = *\nurl = https://h.example.com\nevents = incidents;bounces\n", "[provider x] events: 'bounces'", "suppressions, incidents or alerts" },
	/* the incident and alert settings */
	{ "[incidents]\nwindow = 10s\n", "[incidents] window = '10s'", "duration from 1m" },
	{ "[incidents]\nmin-recipients = 1\n", "[incidents] min-recipients = '1'", "2 to 65536" },
	{ "[incidents]\nmin-recipients = 70000\n", "[incidents] min-recipients = '70000'", "2 to 65536" },
	{ "[incidents]\nmin-share = 120%\n", "[incidents] min-share = '120%'", "share" },
	{ "[incidents]\nmin-share = lots\n", "[incidents] min-share = 'lots'", "share" },
	{ "[incidents]\nquiet = 8d\n", "[incidents] quiet = '8d'", "duration" },
	{ "[incidents]\nhold-hard = maybe\n", "[incidents] hold-hard = 'maybe'", "true or false" },
	{ "[incidents]\ndomain-groups = gmail gmail.com\n", "[incidents] domain-groups", "gmail" },
	{ "[incidents]\nmin-recipient = 5\n", "[incidents] unknown key 'min-recipient'", "'min-recipients'" },
	{ "[alerts]\nrules = bounce-rate > 5% per campaign\n", "[alerts] rules", "expected METRIC" },
	{ "[alerts]\nrules = spam-rate > 1% over 1h per campaign\n", "[alerts] rules", "not a metric" },
	{ "[rates]\ntop = 5\n", "[rates] top = '5'", "10 to 100000" },
	{ "[classify]\nrules = blocked using\n", "[classify] rules", "=>" },
	{ "[bounced]\nacct-fields = type;rcpt;bogus\n", "[bounced] acct-fields",
	  "unknown accounting field 'bogus'" },
	{ "[bounced]\nacct-fields = type;rcpt;type\n", "[bounced] acct-fields",
	  "appears twice" },
	{ "[bounced]\nacct-fields = timeQueued;orig\n", "[bounced] acct-fields",
	  "'type' and 'rcpt'" },
	{ "[incidents]\nmin-share = 0x0.8\n", "min-share = '0x0.8'", "20%" },
	{ "[incidents]\nmin-share = 1e-1\n", "min-share = '1e-1'", "20%" },
	{ "[incidents]\nmin-share = -0\n", "min-share = '-0'", "20%" },
	{ "[bounced]\nsoft-threshold = 3\n", "[bounced] unknown key "
	  "'soft-threshold'", "it belongs in [classify]" },
	{ "[provider h]\ntype = webhook\nsenders = *\n"
	  "url = https://h.example.com\nbatch-records = 5\n",
	  "[provider h] unknown key 'batch-records'", "belongs in [bounced]" },
	{ "[rates]\nendpoint = https://x.example.com\n",
	  "[rates] unknown key 'endpoint'", "belongs in [provider NAME]" },
	{ "[Bounced]\nspool = /x\n", "unknown group [Bounced]",
	  "did you mean [bounced]?" },
	{ "[notfy]\nto = a@b.example\n", "unknown group [notfy]",
	  "did you mean [notify]?" },
	{ "[providers mw]\ntype = webhook\n", "unknown group [providers mw]",
	  "did you mean [provider mw]?" },
	{ "[bounced]\n; spool = /x\n", "[bounced] a line starting with ';'",
	  "comments start with '#'" },
	{ "[provider m]\n;  secret = x\n", "[provider m] a line starting with",
	  "(';  secret = ...')" },
};

/* test_bad_values - each bad value fails naming group, key and value */
static void test_bad_values(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *b = &bad_cases[i];
		char name[32], err[512], prefix[600];
		struct config *cfg = (struct config *)1;
		char *path;
		int rc;

		snprintf(name, sizeof(name), "bad%zu.conf", i);
		path = write_file(name, b->text, 0600);
		memset(err, 0, sizeof(err));
		rc = config_load(path, &cfg, NULL, err, sizeof(err));
		if (rc != -1 || !strstr(err, b->want1) ||
		    !strstr(err, b->want2))
			print_message("case %zu: rc %d err '%s'\n", i, rc, err);
		assert_int_equal(rc, -1);
		assert_null(cfg);
		snprintf(prefix, sizeof(prefix), "config %s: ", path);
		assert_int_equal(strncmp(err, prefix, strlen(prefix)), 0);
		assert_non_null(strstr(err, b->want1));
		assert_non_null(strstr(err, b->want2));
		assert_null(strstr(err, "TOPSECRET"));
		assert_null(strchr(err, '\n'));
		g_free(path);
	}
}

static const struct {
	const char *text, *want;
} syntax_cases[] = {
	{ "[bounced]\n\n[provider m]\nprivate-key fedcba9876543210\n",
	  "line 4 is not a key = value pair" },
	{ "[bounced]\r\nprivate-key fedcba9876543210\r\n",
	  "line 2 is not a key = value pair" },
	{ "\xef\xbb\xbf[bounced]\nspool = /x\n", "byte order mark" },
	{ "private-key = fedcba9876543210\n[bounced]\n",
	  "before the first [group]" },
};

/* test_bad_file - unreadable, a directory, a syntax error */
static void test_bad_file(void **state)
{
	size_t i;
	char *missing = g_build_filename(tmpdir, "missing.conf", NULL);
	char *syntax = write_file("syntax.conf", "[bounced]\n; comment\n",
				  0600);
	struct config *cfg = NULL;
	char err[512];

	(void)state;
	assert_int_equal(config_load(missing, &cfg, NULL, err, sizeof(err)),
			 -1);
	assert_null(cfg);
	assert_non_null(strstr(err, missing));
	assert_non_null(strstr(err, "No such file"));

	assert_int_equal(config_load(tmpdir, &cfg, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));

	assert_int_equal(config_load(syntax, &cfg, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 2 is not a key = value pair"));
	assert_non_null(strstr(err, "'#'"));
	assert_null(strstr(err, "comment\""));
	/* a secret without its '=' is named by its line, not repeated */
	for (i = 0; i < sizeof(syntax_cases) / sizeof(syntax_cases[0]); i++) {
		char *f = write_file("syntax2.conf", syntax_cases[i].text, 0600);

		assert_int_equal(config_load(f, &cfg, NULL, err, sizeof(err)),
				 -1);
		if (!strstr(err, syntax_cases[i].want))
			fail_msg("case %zu: '%s'", i, err);
		assert_null(strstr(err, "fedcba"));
		g_free(f);
	}

	/* a tiny error buffer is cut, never overrun */
	assert_int_equal(config_load(missing, &cfg, NULL, err, 8), -1);
	assert_int_equal(strlen(err), 7);
	g_free(missing);
	g_free(syntax);
}

/* test_text_warnings - what GLib reads without a word: a group written
   twice (merged), a key with a locale suffix (kept as a translation) */
static void test_text_warnings(void **state)
{
	GPtrArray *w = g_ptr_array_new_with_free_func(g_free);
	char *path = write_file("text.conf",
				"# a comment [bounced]\n"
				"[bounced]\r\n  spool[de] = /x\nspool = s\n"
				"[provider a]\ntype = webhook\nsenders = *\n"
				"url = https://a.example.com/1\n\n"
				"  [bounced]  \nstate = st\n"
				"[provider a]\nurl = https://a.example.com/2\n",
				0600);
	struct config *cfg = NULL;
	char err[512];

	(void)state;
	assert_int_equal(config_load(path, &cfg, w, err, sizeof(err)), 0);
	assert_true(has_warning(w, "[bounced] line 3: key 'spool[de]' is not "
				   "read: a key takes no [suffix]"));
	assert_true(has_warning(w, "write 'spool = ...'"));
	assert_true(has_warning(w, "group [bounced] appears more than once "
				   "(lines 2 and 10)"));
	assert_true(has_warning(w, "group [provider a] appears more than once "
				   "(lines 5 and 12)"));
	assert_true(has_warning(w, "key 'url' appears more than once"));
	assert_int_equal(w->len, 4);
	/* what GLib made of it is unchanged: one group, the later value */
	assert_string_equal(cfg->spool, "s");
	assert_string_equal(cfg->state, "st");
	assert_int_equal(cfg->n_providers, 1);
	assert_string_equal(cfg->providers[0].url, "https://a.example.com/2");
	config_free(cfg);
	g_ptr_array_free(w, TRUE);
	g_free(path);
}

/* test_warnings - unknown groups and keys, other types' keys, repeats */
static void test_warnings(void **state)
{
	GPtrArray *w = g_ptr_array_new_with_free_func(g_free);
	char *path = write_file("warn.conf",
				"[bounced]\ncolour = x\nspool = s\nspool = t\n"
				"[weird]\na = 1\n"
				"[provider hook]\ntype = webhook\nsenders = *\n"
				"url = https://h.example.com\n"
				"usertoken = x\nbogus = 1\n"
				"[provider mw]\ntype = mailwizz\nsenders = *\n"
				"endpoint = https://m.example.com\n"
				"public-key = p\nprivate-key = ****\n"
				"api-key = k\njob-prefix = mw- # ours\n"
				"[notify]\nca-file = ca.pem   # local\n",
				0600);
	struct config *cfg = NULL;
	char err[512], want[600];

	(void)state;
	assert_int_equal(config_load(path, &cfg, w, err, sizeof(err)), 0);
	snprintf(want, sizeof(want),
		 "config %s: unknown key 'colour' in [bounced]", path);
	assert_true(has_warning(w, want));
	snprintf(want, sizeof(want), "config %s: unknown group [weird]", path);
	assert_true(has_warning(w, want));
	assert_true(has_warning(w, "key 'spool' appears more than once"));
	assert_string_equal(cfg->spool, "t");
	assert_true(has_warning(w, "key 'usertoken' in [provider hook] is "
				   "not used by type webhook"));
	assert_true(has_warning(w, "unknown key 'bogus' in [provider hook]"));
	assert_true(has_warning(w, "key 'api-key' in [provider mw] is not "
				   "used with api-version 1"));
	assert_true(has_warning(w, "private-key is '****'"));
	assert_true(has_warning(w, "[notify] ca-file"));
	assert_true(has_warning(w, "comments must be on a line"));
	assert_true(has_warning(w, "[provider mw] job-prefix = 'mw- # ours'"));
	assert_int_equal(w->len, 9);
	assert_null(cfg->providers[1].api_key);
	config_free(cfg);
	g_ptr_array_free(w, TRUE);
	g_free(path);
}

/* test_alert_windows_rounded - an alert's window between whole minutes
   (up to an hour) or whole hours (beyond) is said to be rounded up */
static void test_alert_windows_rounded(void **state)
{
	GPtrArray *w = g_ptr_array_new_with_free_func(g_free);
	char *path = write_file("alerts.conf",
				"[alerts]\nrules = bounce-rate > 5% over 90s "
				"per destination; soft-rate > 5% over 61m per "
				"source; sender-rate > 1% over 2h per source; "
				"complaint-rate > 1% over 5m per campaign\n",
				0600);
	struct config *cfg = NULL;
	char err[512];

	(void)state;
	assert_int_equal(config_load(path, &cfg, w, err, sizeof(err)), 0);
	assert_true(has_warning(w, "'bounce-rate > 5% over 90s per "
				   "destination': a window of 90s is counted "
				   "as 2m"));
	assert_true(has_warning(w, "a window of 3660s is counted as 2h"));
	assert_int_equal(w->len, 2);
	config_free(cfg);
	g_ptr_array_free(w, TRUE);
	g_free(path);
}

/* test_warnings_logged - with no array, warnings go to the log */
static void test_warnings_logged(void **state)
{
	char *log = g_build_filename(tmpdir, "warn.log", NULL);
	char *path = write_file("warnlog.conf", "[bounced]\nfoo = 1\n", 0600);
	struct config *cfg = NULL;
	char err[512], want[600];
	char *text;

	(void)state;
	assert_int_equal(log_open(log), 0);
	assert_int_equal(config_load(path, &cfg, NULL, err, sizeof(err)), 0);
	log_close();
	text = read_all(log);
	snprintf(want, sizeof(want),
		 ": warning config: config %s: unknown key 'foo' in [bounced]\n",
		 path);
	assert_non_null(strstr(text, want));
	config_free(cfg);
	g_free(text);
	g_free(log);
	g_free(path);
}

/* a flood of unknown keys gives a bounded number of warnings */
static void test_warnings_bounded(void **state)
{
	GString *s = g_string_new("[bounced]\n");
	GPtrArray *w = g_ptr_array_new_with_free_func(g_free);
	struct config *cfg = NULL;
	char err[512];
	char *path;
	int i;

	(void)state;
	for (i = 0; i < 500; i++)
		g_string_append_printf(s, "k%d = 1\n", i);
	path = write_file("flood.conf", s->str, 0600);
	assert_int_equal(config_load(path, &cfg, w, err, sizeof(err)), 0);
	assert_int_equal(w->len, 101);
	assert_true(has_warning(w, "more warnings not shown"));
	config_free(cfg);
	g_ptr_array_free(w, TRUE);
	g_string_free(s, TRUE);
	g_free(path);
}

/* test_secret_mode - secrets in a file open to others: chmod 600 */
static void test_secret_mode(void **state)
{
	static const struct {
		const char *text;
		mode_t mode;
		bool warn;
	} cases[] = {
		{ "[provider h]\ntype = webhook\nsenders = *\nurl = https://h.example.com\n"
		  "secret = s\n", 0644, true },
		{ "[provider h]\ntype = webhook\nsenders = *\nurl = https://h.example.com\n"
		  "secret = s\n", 0640, true },
		{ "[provider h]\ntype = webhook\nsenders = *\nurl = https://h.example.com\n"
		  "secret = s\n", 0600, false },
		{ "[provider h]\ntype = webhook\nsenders = *\nurl = https://h.example.com\n",
		  0644, false },
		{ "[provider i]\ntype = interspire\nsenders = *\nendpoint = https://i.example.com\n"
		  "username = u\nusertoken = t\n", 0604, true },
		{ "[provider m]\ntype = mailwizz\nsenders = *\nendpoint = https://m.example.com\n"
		  "api-version = 2\napi-key = k\n", 0660, true },
		{ "[bounced]\nspool = s\n", 0666, false },
		{ "[unsubscribe]\nsecret = 0123456789abcdef\naddresses = "
		  "[SUBSCRIBER_UID].[LIST_UID].[SIGNATURE]@u.example.com\n",
		  0640, true },
		{ "[notify]\nsmtp = smtp://h\nfrom = a@b.example.com\n"
		  "to = c@d.example.com\nusername = u\npassword = p\n", 0640,
		  true },
		{ "[notify]\nsmtp = smtp://h\nfrom = a@b.example.com\n"
		  "to = c@d.example.com\nusername = u\n", 0644, false },
		/* a password in a URL's user part is a secret too */
		{ "[notify]\nsmtp = smtps://u:p@h\nfrom = a@b.example.com\n"
		  "to = c@d.example.com\n", 0644, true },
		{ "[provider h]\ntype = webhook\nsenders = *\n"
		  "url = https://u:p@h.example.com\n", 0640, true },
		{ "[provider m]\ntype = mailwizz\nsenders = *\n"
		  "endpoint = https://u:p@m.example.com\n"
		  "public-key = a\nprivate-key = b\n", 0600, false },
		{ "[provider h]\ntype = webhook\nsenders = *\n"
		  "url = https://u@h.example.com\n", 0644, false },
		{ "[notify]\nweb-url = https://u:pw@mw.example.com/\n", 0644,
		  true },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		GPtrArray *w = g_ptr_array_new_with_free_func(g_free);
		struct config *cfg = NULL;
		char name[32], err[512];
		char *path;

		snprintf(name, sizeof(name), "mode%zu.conf", i);
		path = write_file(name, cases[i].text, cases[i].mode);
		assert_int_equal(config_load(path, &cfg, w, err, sizeof(err)),
				 0);
		assert_int_equal(has_warning(w, "chmod 600"), cases[i].warn);
		assert_int_equal(w->len, cases[i].warn ? 1 : 0);
		config_free(cfg);
		g_ptr_array_free(w, TRUE);
		g_free(path);
	}
}

/* test_notify_mode - digest by default once smtp and to are set */
static void test_notify_mode(void **state)
{
	static const struct {
		const char *text;
		enum notify_mode want;
	} cases[] = {
		{ "[notify]\nsmtp = smtp://h\nfrom = a@b.example\n"
		  "to = c@d.example\n", NOTIFY_MODE_DIGEST },
		{ "[notify]\nsmtp = smtp://h\nfrom = a@b.example\n"
		  "to = c@d.example\nmode = Event\n", NOTIFY_MODE_EVENT },
		{ "[notify]\nsmtp = smtp://h\nfrom = a@b.example\n"
		  "to = c@d.example\nmode = off\n", NOTIFY_MODE_OFF },
		{ "[notify]\nsmtp = smtp://h\n", NOTIFY_MODE_OFF },
		{ "[notify]\nto = c@d.example\n", NOTIFY_MODE_OFF },
		{ "[notify]\nmode = off\n", NOTIFY_MODE_OFF },
		{ "[notify]\nmode =\n", NOTIFY_MODE_OFF },
		{ "[notify]\nsmtp = smtp://h\nfrom = a@b.example\n"
		  "to = c@d.example\nmode =\n", NOTIFY_MODE_DIGEST },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *cfg = NULL;
		char name[32], err[512];
		char *path;

		snprintf(name, sizeof(name), "notify%zu.conf", i);
		path = write_file(name, cases[i].text, 0600);
		assert_int_equal(config_load(path, &cfg, NULL, err,
					     sizeof(err)), 0);
		assert_int_equal(cfg->notify_mode, cases[i].want);
		config_free(cfg);
		g_free(path);
	}
}

/* test_provider_names - [A-Za-z0-9_-]{1,31} */
static void test_provider_names(void **state)
{
	static const struct {
		const char *name;
		bool ok;
	} cases[] = {
		{ "mw", true },
		{ "A_b-9", true },
		{ "abcdefghijklmnopqrstuvwxyz01234", true },	/* 31 */
		{ "abcdefghijklmnopqrstuvwxyz012345", false },	/* 32 */
		{ "x.y", false },
		{ "x/y", false },
		{ "caf\xc3\xa9", false },
		{ "a b", false },
		{ " mw", false },
		{ "", false },
		{ "dry-run", false },
		{ "DRY-Run", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *cfg = NULL;
		char name[32], err[512];
		char *text, *path;
		int rc;

		text = g_strdup_printf("[provider %s]\ntype = webhook\nsenders = *\n"
				       "url = https://h.example.com\n",
				       cases[i].name);
		snprintf(name, sizeof(name), "name%zu.conf", i);
		path = write_file(name, text, 0600);
		rc = config_load(path, &cfg, NULL, err, sizeof(err));
		assert_int_equal(rc, cases[i].ok ? 0 : -1);
		if (cases[i].ok) {
			assert_int_equal(cfg->n_providers, 1);
			assert_string_equal(cfg->providers[0].name,
					    cases[i].name);
		} else {
			assert_non_null(strstr(err, "[provider"));
		}
		config_free(cfg);
		g_free(text);
		g_free(path);
	}
}

/* test_lists - separators, blanks, case and empty lists */
static void test_lists(void **state)
{
	static const char *const hard[] = { "a", "b", "c", NULL };
	static const char *const none[] = { NULL };
	static const char *const fields[] = { "type", "rcpt", NULL };
	char *path = write_file("lists.conf",
				"[bounced]\nacct-fields = ,type;;rcpt,\n"
				"[classify]\nhard-categories =  A ;b,, C \n"
				"soft-categories =\ncomplaint-types = ;\n"
				"[provider h]\ntype = webhook\nsenders = *\n"
				"url = https://h.example.com\n",
				0600);
	struct config *cfg = NULL;
	char err[512];

	(void)state;
	assert_int_equal(config_load(path, &cfg, NULL, err, sizeof(err)), 0);
	assert_list(cfg->acct_fields, fields);
	assert_list(cfg->hard_categories, hard);
	assert_list(cfg->soft_categories, none);
	assert_list(cfg->complaint_types, none);
	assert_string_equal(cfg->providers[0].senders[0], "*");
	config_free(cfg);
	g_free(path);
}

/* test_bools - every spelling */
static void test_bools(void **state)
{
	static const struct {
		const char *v;
		bool want;
	} cases[] = {
		{ "true", true }, { "TRUE", true }, { "yes", true },
		{ "on", true }, { "1", true }, { "false", false },
		{ "no", false }, { "Off", false }, { "0", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *cfg = NULL;
		char name[32], err[512];
		char *text, *path;

		text = g_strdup_printf("[bounced]\ndebug = %s\n", cases[i].v);
		snprintf(name, sizeof(name), "bool%zu.conf", i);
		path = write_file(name, text, 0600);
		assert_int_equal(config_load(path, &cfg, NULL, err, sizeof(err)),
				 0);
		assert_int_equal(cfg->debug, cases[i].want);
		config_free(cfg);
		g_free(text);
		g_free(path);
	}
}

/* print_to - config_print into a file; its text (g_free) */
static char *print_to(const struct config *cfg, const char *name,
		      char **path)
{
	FILE *f;

	*path = g_build_filename(tmpdir, name, NULL);
	f = fopen(*path, "w");
	assert_non_null(f);
	config_print(cfg, f);
	assert_int_equal(ferror(f), 0);
	assert_int_equal(fclose(f), 0);
	return read_all(*path);
}

static const char url_pw_conf[] =
	"[provider mw]\ntype = mailwizz\nsenders = *\n"
	"endpoint = https://api:MWPASS1@mw.example.com/api\n"
	"public-key = pub\nprivate-key = priv\n"
	"[provider hook]\ntype = webhook\nsenders = *\n"
	"url = https://hook:HOOKPASS2@h.example.com:8443/in?x=1\n"
	"[notify]\nsmtp = smtps://relay:SMTPPASS3@mail.example.com\n"
	"from = a@b.example.com\nto = c@d.example.com\n"
	"web-url = https://web:WEBPASS4@mw.example.com\n";

/* test_soft_action_unsubscribe - soft-action values that name an
   unsubscribe (which a soft bounce never does) are taken as they acted,
   their bounce part, with a warning: a configuration that ran stays
   valid */
static void test_soft_action_unsubscribe(void **state)
{
	static const struct {
		const char *v;
		int want;
	} cases[] = { { "both", ACT_BOUNCE }, { "unsubscribe", ACT_NONE } };
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		GPtrArray *w = g_ptr_array_new_with_free_func(g_free);
		char *text = g_strdup_printf(
			"[provider m]\ntype = mailwizz\nsenders = *\n"
			"endpoint = https://m.example.com/api\napi-version = 2\n"
			"api-key = k\nsoft-action = %s\n", cases[i].v);
		char *path = write_file("soft.conf", text, 0600);
		struct config *cfg = NULL;
		char err[512];
		guint k;
		bool said = false;

		assert_int_equal(config_load(path, &cfg, w, err, sizeof(err)),
				 0);
		assert_int_equal(cfg->providers[0].soft_action, cases[i].want);
		for (k = 0; k < w->len; k++)
			said |= strstr(g_ptr_array_index(w, k), "a soft bounce "
				       "never unsubscribes") != NULL;
		assert_true(said);
		config_free(cfg);
		g_ptr_array_free(w, TRUE);
		g_free(path);
		g_free(text);
	}
}

/* test_url_passwords - a password in a URL's user part is printed as
   "****" by check-config, and the printed file warns when read back */
static void test_url_passwords(void **state)
{
	GPtrArray *w = g_ptr_array_new_with_free_func(g_free);
	char *path = write_file("urlpw.conf", url_pw_conf, 0600);
	struct config *cfg = NULL, *back = NULL;
	char err[512];
	char *printed, *ppath;

	(void)state;
	assert_int_equal(config_load(path, &cfg, NULL, err, sizeof(err)), 0);
	/* the real values are in force */
	assert_string_equal(cfg->providers[0].endpoint,
			    "https://api:MWPASS1@mw.example.com/api");
	printed = print_to(cfg, "urlpw-printed.conf", &ppath);
	assert_null(strstr(printed, "MWPASS1"));
	assert_null(strstr(printed, "HOOKPASS2"));
	assert_null(strstr(printed, "SMTPPASS3"));
	assert_null(strstr(printed, "WEBPASS4"));
	assert_non_null(strstr(printed,
			       "endpoint = https://api:****@mw.example.com/api\n"));
	assert_non_null(strstr(printed, "url = https://hook:****@"
			       "h.example.com:8443/in?x=1\n"));
	assert_non_null(strstr(printed,
			       "smtp = smtps://relay:****@mail.example.com\n"));
	assert_non_null(strstr(printed,
			       "web-url = https://web:****@mw.example.com\n"));
	assert_int_equal(chmod(ppath, 0600), 0);
	assert_int_equal(config_load(ppath, &back, w, err, sizeof(err)), 0);
	assert_true(has_warning(w, "[provider mw] endpoint: the password in "
				   "the URL is '****'"));
	assert_true(has_warning(w, "[notify] smtp: the password in the URL"));
	config_free(back);
	config_free(cfg);
	g_free(printed);
	g_free(ppath);
	g_free(path);
	g_ptr_array_free(w, TRUE);
}

/* unmask_unsub_secret - PATH's [unsubscribe] secret = **** made SECRET;
   the new text */
static char *unmask_unsub_secret(const char *path, const char *secret)
{
	char *text = NULL, *at, *out;

	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	at = strstr(strstr(text, "[unsubscribe]\n"), "secret = ****\n");
	assert_non_null(at);
	*at = '\0';
	out = g_strdup_printf("%ssecret = %s\n%s", text, secret,
			      at + strlen("secret = ****\n"));
	assert_true(g_file_set_contents(path, out, -1, NULL));
	g_free(text);
	return out;
}

/* test_print_roundtrip - print -> load gives the same values, masked */
static void test_print_roundtrip(void **state)
{
	GPtrArray *w = g_ptr_array_new_with_free_func(g_free);
	char *path = write_file("rt.conf", full_conf, 0600);
	struct config *cfg = NULL, *back = NULL;
	char err[512], first[600];
	char *printed, *ppath;

	(void)state;
	assert_int_equal(config_load(path, &cfg, NULL, err, sizeof(err)), 0);
	printed = print_to(cfg, "rt-printed.conf", &ppath);
	snprintf(first, sizeof(first), "# effective configuration (from %s)\n",
		 path);
	assert_int_equal(strncmp(printed, first, strlen(first)), 0);
	/* every secret masked, the rest visible */
	assert_null(strstr(printed, "priv456"));
	assert_null(strstr(printed, "key789"));
	assert_null(strstr(printed, "tok000"));
	assert_null(strstr(printed, "s3cr3t"));
	assert_null(strstr(printed, "unsub-0123456789abcdef"));
	assert_non_null(strstr(printed, "[unsubscribe]\naddresses = "
			       "[SUBSCRIBER_UID].[LIST_UID].[CAMPAIGN_UID]."
			       "[SIGNATURE]@U.example.com ; iem-[SUBSCRIBER_ID]-"
			       "[LIST_ID]-[SIGNATURE]@*\nsecret = ****\n"));
	assert_non_null(strstr(printed, "private-key = ****\n"));
	assert_non_null(strstr(printed, "api-key = ****\n"));
	assert_non_null(strstr(printed, "usertoken = ****\n"));
	assert_non_null(strstr(printed, "secret = ****\n"));
	assert_null(strstr(printed, "pa55word"));
	assert_non_null(strstr(printed, "password = ****\n"));
	assert_non_null(strstr(printed, "to = postmaster@example.com;ops@example.com\n"));
	assert_non_null(strstr(printed, "mode = digest\n"));
	assert_non_null(strstr(printed, "starttls = required\n"));
	assert_non_null(strstr(printed, "web-url = https://mw.example.com\n"));
	assert_non_null(strstr(printed, "max-items = 50\n"));
	assert_non_null(strstr(printed, "public-key = pub123\n"));
	assert_non_null(strstr(printed, "[provider mw2]\n"));
	assert_non_null(strstr(printed, "soft-window = 2w\n"));
	assert_non_null(strstr(printed, "soft-min-span = 2d\n"));
	assert_non_null(strstr(printed, "batch-interval = 2s\n"));
	assert_non_null(strstr(printed, "acct-ignore = *.tmp;.#*;*.Part\n"));
	assert_non_null(strstr(printed, "done-retention = 0s\n"));
	assert_non_null(strstr(printed, "shutdown-timeout = 1500ms\n"));
	assert_non_null(strstr(printed, "drop-max-size = 65536\n"));
	assert_non_null(strstr(printed, "hard-categories = bad-mailbox;bad-domain\n"));
	assert_non_null(strstr(printed, "ignore-categories = protocol-errors\n"));
	assert_non_null(strstr(printed, "ca-file = certs/ca.pem\n"));

	/* the unsubscribe addresses' signing key is not taken masked */
	assert_int_equal(config_load(ppath, &back, w, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "[unsubscribe] secret is '****'"));
	g_ptr_array_set_size(w, 0);
	g_free(printed);
	printed = unmask_unsub_secret(ppath, "unsub-0123456789abcdef");
	if (config_load(ppath, &back, w, err, sizeof(err)) != 0)
		fail_msg("printed config does not load: %s", err);
	assert_config_equal(cfg, back, true);
	/* the only warnings are about the masks */
	assert_true(w->len > 0);
	assert_true(has_warning(w, "'****'"));
	config_free(back);
	config_free(cfg);
	g_ptr_array_free(w, TRUE);
	g_free(printed);
	g_free(ppath);
	g_free(path);
}

/* test_print_defaults - the defaults print and read back unchanged */
static void test_print_defaults(void **state)
{
	GPtrArray *w = g_ptr_array_new_with_free_func(g_free);
	struct config *cfg = NULL, *back = NULL;
	char *printed, *ppath;
	char err[512];

	(void)state;
	assert_int_equal(config_load(NULL, &cfg, NULL, err, sizeof(err)), 0);
	cfg->batch_interval_ms = 1500;	/* not whole seconds */
	printed = print_to(cfg, "defaults-printed.conf", &ppath);
	assert_int_equal(strncmp(printed,
				 "# effective configuration (embedded defaults)\n",
				 46), 0);
	assert_non_null(strstr(printed, "batch-interval = 1500ms\n"));
	assert_non_null(strstr(printed, "acct-ignore = *.tmp;*.part\n"));
	assert_non_null(strstr(printed, "done-retention = 1w\n"));
	assert_non_null(strstr(printed, "shutdown-timeout = 10s\n"));
	assert_non_null(strstr(printed, "drop-max-size = 10485760\n"));
	assert_non_null(strstr(printed, "ignore-categories =\n"));
	assert_non_null(strstr(printed, "smtp =\n"));
	assert_non_null(strstr(printed, "mode = off\n"));
	assert_non_null(strstr(printed, "starttls = try\n"));
	assert_non_null(strstr(printed, "file = ./state/bounced.rrd\n"));
	assert_non_null(strstr(printed, "[unsubscribe]\naddresses = "
			       "[SUBSCRIBER_UID].[LIST_UID].[CAMPAIGN_UID]@"
			       "fbl-unsub.example.com\nsecret =\n"));
	assert_int_equal(config_load(ppath, &back, w, err, sizeof(err)), 0);
	assert_int_equal(w->len, 0);
	assert_config_equal(cfg, back, false);
	config_free(back);
	config_free(cfg);
	g_ptr_array_free(w, TRUE);
	g_free(printed);
	g_free(ppath);
}

/* test_example - contrib/bounced.conf.example loads cleanly: defaults */
static void test_example(void **state)
{
	GPtrArray *w = g_ptr_array_new_with_free_func(g_free);
	struct config *cfg = NULL, *def = NULL;
	char err[512], *path;
	guint i;

	(void)state;
	assert_int_equal(config_load("contrib/bounced.conf.example", &cfg, w,
				     err, sizeof(err)), 0);
	for (i = 0; i < w->len; i++)
		print_message("unexpected warning: %s\n",
			      (char *)w->pdata[i]);
	assert_int_equal(w->len, 0);
	/* the defaults, but for the spool and state of the systemd unit */
	assert_string_equal(cfg->spool, "/var/spool/bounced");
	assert_string_equal(cfg->state, "/var/lib/bounced");
	path = write_file("unit-paths.conf", "[bounced]\n"
			  "spool = /var/spool/bounced\n"
			  "state = /var/lib/bounced\n", 0600);
	assert_int_equal(config_load(path, &def, NULL, err, sizeof(err)), 0);
	assert_config_equal(def, cfg, false);
	g_free(path);
	config_free(def);
	config_free(cfg);
	g_ptr_array_free(w, TRUE);
}

/* test_example_providers - the example's provider groups, uncommented */
static void test_example_providers(void **state)
{
	GPtrArray *w = g_ptr_array_new_with_free_func(g_free);
	struct config *cfg = NULL;
	char *text, *path, **lines;
	GString *s = g_string_new(NULL);
	char err[512];
	size_t i;

	(void)state;
	text = read_all("contrib/bounced.conf.example");
	lines = g_strsplit(text, "\n", -1);
	/* "#[provider" and "#key = value" lines under it become live */
	for (i = 0; lines[i]; i++) {
		const char *l = lines[i];

		if (g_str_has_prefix(l, "#[provider ") ||
		    (g_str_has_prefix(l, "#") && !g_str_has_prefix(l, "# ") &&
		     !g_str_has_prefix(l, "##") && strchr(l, '=') &&
		     strstr(s->str, "[provider ")))
			l++;
		g_string_append_printf(s, "%s\n", l);
	}
	path = write_file("example-live.conf", s->str, 0600);
	assert_int_equal(config_load(path, &cfg, w, err, sizeof(err)), 0);
	for (i = 0; i < w->len; i++)
		print_message("unexpected warning: %s\n",
			      (char *)w->pdata[i]);
	assert_int_equal(w->len, 0);
	assert_int_equal(cfg->n_providers, 3);
	assert_int_equal(cfg->providers[0].type, PROVIDER_MAILWIZZ);
	assert_int_equal(cfg->providers[1].type, PROVIDER_INTERSPIRE);
	assert_int_equal(cfg->providers[2].type, PROVIDER_WEBHOOK);
	config_free(cfg);
	g_ptr_array_free(w, TRUE);
	g_strfreev(lines);
	g_string_free(s, TRUE);
	g_free(text);
	g_free(path);
}

/* test_durations - parse (s and ms) and format */
static void test_durations(void **state)
{
	static const struct {
		const char *s;
		int rc;
		int64_t sec;
		int ms_rc;
		int64_t ms;
	} cases[] = {
		{ "0", 0, 0, 0, 0 },
		{ "90", 0, 90, 0, 90000 },
		{ "90s", 0, 90, 0, 90000 },
		{ "5m", 0, 300, 0, 300000 },
		{ "2h", 0, 7200, 0, 7200000 },
		{ "3d", 0, 259200, 0, 259200000 },
		{ "1w", 0, 604800, 0, 604800000 },
		{ "250ms", -1, 0, 0, 250 },
		{ "2s", 0, 2, 0, 2000 },
		{ "007m", 0, 420, 0, 420000 },
		{ "9223372036854775807", 0, INT64_MAX, -1, 0 },
		{ "9223372036854775807s", 0, INT64_MAX, -1, 0 },
		{ "9223372036854775807ms", -1, 0, 0, INT64_MAX },
		{ "9223372036854775808", -1, 0, -1, 0 },
		{ "9223372036854775808ms", -1, 0, -1, 0 },
		{ "99999999999999999999999", -1, 0, -1, 0 },
		{ "153722867280912930m", 0, INT64_C(9223372036854775800), -1, 0 },
		{ "153722867280912931m", -1, 0, -1, 0 },
		{ "15250284452471w", 0, INT64_C(9223372036854460800), -1, 0 },
		{ "15250284452472w", -1, 0, -1, 0 },
		{ "9223372036854775s", 0, INT64_C(9223372036854775), 0,
		  INT64_C(9223372036854775000) },
		{ "9223372036854776s", 0, INT64_C(9223372036854776), -1, 0 },
		{ "", -1, 0, -1, 0 },
		{ "s", -1, 0, -1, 0 },
		{ "ms", -1, 0, -1, 0 },
		{ "5x", -1, 0, -1, 0 },
		{ "5S", -1, 0, -1, 0 },
		{ " 5", -1, 0, -1, 0 },
		{ "5 ", -1, 0, -1, 0 },
		{ "5 s", -1, 0, -1, 0 },
		{ "-5", -1, 0, -1, 0 },
		{ "+5", -1, 0, -1, 0 },
		{ "1.5h", -1, 0, -1, 0 },
		{ "0x10", -1, 0, -1, 0 },
		{ "5sm", -1, 0, -1, 0 },
		{ "5mss", -1, 0, -1, 0 },
		{ "1h30m", -1, 0, -1, 0 },
		{ "5ms\n", -1, 0, -1, 0 },
	};
	static const struct {
		int64_t sec;
		const char *want;
	} fmt[] = {
		{ 0, "0s" }, { 1, "1s" }, { 59, "59s" }, { 60, "1m" },
		{ 90, "90s" }, { 300, "5m" }, { 3600, "1h" }, { 5400, "90m" },
		{ 86400, "1d" }, { 86401, "86401s" }, { 259200, "3d" },
		{ 604800, "1w" }, { 2592000, "30d" }, { 1209600, "2w" },
		{ -5, "-5s" }, { INT64_MAX, "9223372036854775807s" },
	};
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = -42, m = -42;
		int rc = config_parse_duration(cases[i].s, &v);
		int mrc = config_parse_duration_ms(cases[i].s, &m);

		if (rc != cases[i].rc || mrc != cases[i].ms_rc)
			print_message("case '%s': %d %d\n", cases[i].s, rc, mrc);
		assert_int_equal(rc, cases[i].rc);
		assert_int_equal(mrc, cases[i].ms_rc);
		assert_true(v == (rc == 0 ? cases[i].sec : -42));
		assert_true(m == (mrc == 0 ? cases[i].ms : -42));
	}
	assert_int_equal(config_parse_duration(NULL, &(int64_t){ 0 }), -1);
	for (i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++) {
		config_format_duration(fmt[i].sec, buf, sizeof(buf));
		assert_string_equal(buf, fmt[i].want);
	}
	/* a short buffer is cut, never overrun */
	config_format_duration(259200, buf, 2);
	assert_string_equal(buf, "3");
}

/* test_path_from_env - -c, else $BOUNCED_CONFIG if set and not empty,
   else the default file when it exists */
static void test_path_from_env(void **state)
{
	char *dflt = g_build_filename(tmpdir, "etc-bounced.conf", NULL);
	char *missing = g_build_filename(tmpdir, "none", "bounced.conf", NULL);
	char *closed = g_build_filename(tmpdir, "closed", NULL);
	char *inside = g_build_filename(closed, "bounced.conf", NULL);
	const char *sys = config_path_from_env(NULL);

	(void)state;
	unsetenv("BOUNCED_CONFIG");
	/* the compiled-in default: read only when it exists */
	assert_string_equal(BOUNCED_CONFIG_DEFAULT, "/etc/bounced/bounced.conf");
	if (access(BOUNCED_CONFIG_DEFAULT, F_OK) != 0)
		assert_null(sys);
	else
		assert_string_equal(sys, BOUNCED_CONFIG_DEFAULT);
	assert_string_equal(config_path_from_env("a.conf"), "a.conf");
	setenv("BOUNCED_CONFIG", "env.conf", 1);
	assert_string_equal(config_path_from_env(NULL), "env.conf");
	assert_string_equal(config_path_from_env("a.conf"), "a.conf");
	unsetenv("BOUNCED_CONFIG");

	/* the same choice with the default path given */
	assert_null(config_path_pick(NULL, NULL, missing));
	assert_null(config_path_pick(NULL, "", missing));
	g_free(write_file("etc-bounced.conf", "[bounced]\n", 0600));
	assert_string_equal(config_path_pick(NULL, NULL, dflt), dflt);
	assert_string_equal(config_path_pick(NULL, "", dflt), dflt);
	assert_string_equal(config_path_pick(NULL, "env.conf", dflt),
			    "env.conf");
	assert_string_equal(config_path_pick("a.conf", "env.conf", dflt),
			    "a.conf");
	assert_null(config_path_pick(NULL, NULL, NULL));
	/* a directory that may not be searched: the file is "there", and
	   reading it says what is wrong (root may search anything) */
	assert_int_equal(mkdir(closed, 0700), 0);
	g_free(write_file("closed/bounced.conf", "[bounced]\n", 0600));
	assert_int_equal(chmod(closed, 0), 0);
	if (geteuid() != 0)
		assert_string_equal(config_path_pick(NULL, NULL, inside),
				    inside);
	assert_int_equal(chmod(closed, 0700), 0);
	g_free(inside);
	g_free(closed);
	g_free(missing);
	g_free(dflt);
}

/* log_lines - log to a fresh file, run FN, return the text */
static char *log_capture(const char *name, void (*fn)(void))
{
	char *path = g_build_filename(tmpdir, name, NULL);
	char *text;

	assert_int_equal(log_open(path), 0);
	fn();
	log_close();
	text = read_all(path);
	g_free(path);
	return text;
}

static void log_fmt_fn(void)
{
	log_set_ident("testprog");
	log_info("mod", "hello %d", 5);
	log_error("state", "x");
	log_warn(NULL, "y");
	log_set_ident(NULL);
}

/* test_log_format - "YYYY-MM-DD HH:MM:SS ident[pid]: level module: text" */
static void test_log_format(void **state)
{
	char *text = log_capture("fmt.log", log_fmt_fn);
	char *re;

	(void)state;
	re = g_strdup_printf("^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d "
			     "testprog\\[%ld\\]: info mod: hello 5\n"
			     "\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d "
			     "testprog\\[%ld\\]: error state: x\n"
			     "\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d "
			     "testprog\\[%ld\\]: warning -: y\n$",
			     (long)getpid(), (long)getpid(), (long)getpid());
	if (!g_regex_match_simple(re, text, 0, 0))
		print_message("log text: %s\n", text);
	assert_true(g_regex_match_simple(re, text, 0, 0));
	g_free(re);
	g_free(text);
}

static void log_hostile_fn(void)
{
	log_info("dsn", "%s", "a\x1b[31mred\r\nX\tY\x7f|\xc2\x9b|\xff\xfe|"
			      "caf\xc3\xa9|\xe2\x82|\xf0\x9f\x98\x80|");
}

/* test_log_sanitise - controls, C1 and bad UTF-8 become '?' */
static void test_log_sanitise(void **state)
{
	char *text = log_capture("hostile.log", log_hostile_fn);
	const char *msg = strstr(text, "info dsn: ");

	(void)state;
	assert_non_null(msg);
	assert_string_equal(msg + 10, "a?[31mred??X?Y?|?|??|caf\xc3\xa9|??|"
				      "\xf0\x9f\x98\x80|\n");
	g_free(text);
}

static void log_long_fn(void)
{
	char *big = g_strnfill(10000, 'a');
	char *wide = g_malloc(3 * 2000 + 1);
	int i;

	for (i = 0; i < 2000; i++)
		memcpy(wide + 3 * i, "\xe2\x82\xac", 3);	/* euro sign */
	wide[3 * 2000] = '\0';
	log_info("m", "%s", big);
	log_info("m", "%s", wide);
	log_info("m", "%s", "short");
	g_free(big);
	g_free(wide);
}

/* test_log_truncate - lines stop at 4 KiB, end in "...", stay UTF-8 */
static void test_log_truncate(void **state)
{
	char *text = log_capture("long.log", log_long_fn);
	char **lines = g_strsplit(text, "\n", -1);

	(void)state;
	assert_non_null(lines[0]);
	assert_non_null(lines[1]);
	assert_non_null(lines[2]);
	assert_int_equal(strlen(lines[0]) + 1, 4096);
	assert_true(g_str_has_suffix(lines[0], "aaa..."));
	assert_true(strlen(lines[1]) + 1 <= 4096);
	assert_true(strlen(lines[1]) + 1 > 4090);
	assert_true(g_str_has_suffix(lines[1], "\xe2\x82\xac..."));
	assert_true(g_utf8_validate(lines[1], -1, NULL));
	assert_true(g_str_has_suffix(lines[2], " info m: short"));
	assert_string_equal(lines[3], "");
	assert_null(lines[4]);
	g_strfreev(lines);
	g_free(text);
}

static void log_level_fn(void)
{
	assert_int_equal(log_get_level(), BLOG_INFO);
	log_debug("m", "d1");
	log_info("m", "i1");
	log_set_level(BLOG_DEBUG);
	log_debug("m", "d2");
	log_set_level(BLOG_ERROR);
	log_warn("m", "w1");
	log_info("m", "i2");
	log_error("m", "e1");
	log_set_level(BLOG_INFO);
}

/* test_log_levels - default info; lower levels dropped */
static void test_log_levels(void **state)
{
	char *text = log_capture("level.log", log_level_fn);

	(void)state;
	assert_null(strstr(text, "d1"));
	assert_non_null(strstr(text, "info m: i1\n"));
	assert_non_null(strstr(text, "debug m: d2\n"));
	assert_null(strstr(text, "w1"));
	assert_null(strstr(text, "i2"));
	assert_non_null(strstr(text, "error m: e1\n"));
	g_free(text);
}

/* test_log_reopen - after a rename, lines go to the new file */
static void test_log_reopen(void **state)
{
	char *path = g_build_filename(tmpdir, "rot.log", NULL);
	char *old = g_build_filename(tmpdir, "rot.log.1", NULL);
	char *bad = g_build_filename(tmpdir, "no-dir", "x.log", NULL);
	char *a, *b;
	struct stat st;

	(void)state;
	assert_int_equal(log_open(path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777 & ~0640, 0);
	log_info("m", "before");
	assert_int_equal(rename(path, old), 0);
	assert_int_equal(log_reopen(), 0);
	log_info("m", "after");
	assert_int_equal(log_open(bad), -ENOENT);	/* keeps the file */
	log_info("m", "still");
	log_close();
	assert_int_equal(log_reopen(), 0);		/* stderr: nothing */
	a = read_all(old);
	b = read_all(path);
	assert_non_null(strstr(a, "before"));
	assert_null(strstr(a, "after"));
	assert_non_null(strstr(b, "after"));
	assert_non_null(strstr(b, "still"));
	assert_null(strstr(b, "before"));
	g_free(a);
	g_free(b);
	g_free(path);
	g_free(old);
	g_free(bad);
}

static void log_fold_fn(void)
{
	int i;

	for (i = 0; i < 5; i++)
		log_warn("dispatch", "provider hook: connection refused");
	log_warn("dispatch", "provider hook: timeout");
	log_error("dispatch", "provider hook: timeout");	/* other level */
	log_error("dispatch", "provider hook: timeout");
	log_warn("other", "provider hook: timeout");		/* other module */
	log_set_level(BLOG_DEBUG);
	for (i = 0; i < 3; i++)
		log_warn("m", "kept");
	log_set_level(BLOG_INFO);
	log_info("m", "last");
	log_info("m", "last");
	log_info("m", "last");
}

/* test_log_fold - a line equal to the one before is counted, and the count
   is written when another line comes or the log closes; debug keeps all */
static void test_log_fold(void **state)
{
	char *text = log_capture("fold.log", log_fold_fn);
	char **lines = g_strsplit(text, "\n", -1);
	static const char *const want[] = {
		"warning dispatch: provider hook: connection refused",
		"warning dispatch: previous message repeated 4 times",
		"warning dispatch: provider hook: timeout",
		"error dispatch: provider hook: timeout",
		"error dispatch: previous message repeated 1 time",
		"warning other: provider hook: timeout",
		"warning m: kept",
		"warning m: kept",
		"warning m: kept",
		"info m: last",
		"info m: previous message repeated 2 times",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_non_null(lines[i]);
		if (!g_str_has_suffix(lines[i], want[i]))
			print_message("line %zu: %s\n", i, lines[i]);
		assert_true(g_str_has_suffix(lines[i], want[i]));
	}
	assert_string_equal(lines[i], "");
	assert_null(lines[i + 1]);
	g_strfreev(lines);
	g_free(text);
}

/* test_log_cap - the first LOG_CAP_LINES of a kind, then only counted;
   every one at level debug */
static void test_log_cap(void **state)
{
	struct log_cap c = { 0, 0 };
	int i, taken = 0;

	(void)state;
	for (i = 0; i < LOG_CAP_LINES + 50; i++)
		taken += log_cap_take(&c);
	assert_int_equal(taken, LOG_CAP_LINES);
	assert_int_equal(c.shown, LOG_CAP_LINES);
	assert_int_equal(c.hidden, 50);
	log_set_level(BLOG_DEBUG);
	assert_true(log_cap_take(&c));
	assert_int_equal(c.hidden, 50);
	log_set_level(BLOG_INFO);
	assert_false(log_cap_take(&c));
	assert_int_equal(c.hidden, 51);
}

static void log_errno_fn(void)
{
	errno = ENOENT;
	log_error("m", "open failed: %m");
	assert_int_equal(errno, ENOENT);
}

/* test_log_errno - %m works and errno survives */
static void test_log_errno(void **state)
{
	char *text = log_capture("errno.log", log_errno_fn);

	(void)state;
	assert_non_null(strstr(text, "open failed: No such file or directory\n"));
	g_free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_text_warnings),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_rrd_default),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_bad_file),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_alert_windows_rounded),
		cmocka_unit_test(test_warnings_logged),
		cmocka_unit_test(test_warnings_bounded),
		cmocka_unit_test(test_secret_mode),
		cmocka_unit_test(test_notify_mode),
		cmocka_unit_test(test_provider_names),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_bools),
		cmocka_unit_test(test_print_roundtrip),
		cmocka_unit_test(test_print_defaults),
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_example_providers),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_path_from_env),
		cmocka_unit_test(test_log_format),
		cmocka_unit_test(test_log_sanitise),
		cmocka_unit_test(test_log_truncate),
		cmocka_unit_test(test_log_levels),
		cmocka_unit_test(test_log_reopen),
		cmocka_unit_test(test_log_errno),
		cmocka_unit_test(test_url_passwords),
		cmocka_unit_test(test_soft_action_unsubscribe),
		cmocka_unit_test(test_log_fold),
		cmocka_unit_test(test_log_cap),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
