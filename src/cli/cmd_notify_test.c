/*
 * cmd_notify_test.c - `bounced notify-test`: compose a digest holding one
 * sample complaint and send it, right now and in one blocking call, to
 * the [notify] recipients through the [notify] SMTP server, so that an
 * operator can check the settings (server, STARTTLS, AUTH, addresses)
 * before the daemon depends on them.  Nothing in the state is read or
 * changed.
 *
 * Exit codes: 0 sent; 78 the [notify] keys are missing or unusable; 75
 * the server could not be reached or answered 4xx (try again); 69 the
 * server refused for good (5xx, login refused, TLS required but not
 * offered or not verified); 64 usage.  Messages go to the log (and to
 * stderr when the log is a file).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "curl_lib.h"
#include "exitcodes.h"
#include "log.h"
#include "notify.h"
#include "url_check.h"

/* nt_sample - the one item of the test digest */
static void nt_sample(struct notify_item *it, int64_t now)
{
	memset(it, 0, sizeof(*it));
	it->time = now;
	g_strlcpy(it->kind, "complaint", sizeof(it->kind));
	g_strlcpy(it->addr, "recipient@example.com", sizeof(it->addr));
	g_strlcpy(it->feedback_type, "abuse", sizeof(it->feedback_type));
	g_strlcpy(it->reporting_domain, "example.net",
		  sizeof(it->reporting_domain));
	g_strlcpy(it->orig_subject, "A sample of what the digest lists",
		  sizeof(it->orig_subject));
	g_strlcpy(it->source, "bounced notify-test", sizeof(it->source));
	g_strlcpy(it->results, "none: this is a test, nothing was changed",
		  sizeof(it->results));
}

/* nt_fail - MSG in the log, and on stderr when the log is a file */
static int nt_fail(const struct config *cfg, int ex, const char *msg)
{
	log_error("notify", "notify-test: %s", msg);
	if (cfg->log && strcmp(cfg->log, "-") != 0)
		fprintf(stderr, "bounced: notify-test: %s\n", msg);
	return ex;
}

/* nt_missing - the first [notify] key notify-test needs and lacks */
static const char *nt_missing(const struct config *cfg)
{
	if (!cfg->notify_smtp)
		return "smtp";
	if (!cfg->notify_from)
		return "from";
	if (!cfg->notify_to || !cfg->notify_to[0])
		return "to";
	return NULL;
}

/* cmd_notify_test - bounced notify-test */
int cmd_notify_test(const struct config *cfg, const struct cli_global *g,
		    const struct cli_args *a)
{
	struct notify_smtp_cfg sc;
	struct notify_opts o = { 0 };
	struct notify_item it;
	int64_t now = (int64_t)time(NULL);
	char err[2048], msg[600], show[1100], *mail = NULL, *to = NULL;
	const char *missing = nt_missing(cfg);
	size_t len = 0;
	int rc, ex;

	(void)g;
	if (a->n_operands > 0) {
		fprintf(stderr, "bounced: notify-test: unexpected argument "
			"(see 'bounced help notify-test')\n");
		return EXIT_USAGE;
	}
	if (missing) {
		snprintf(msg, sizeof(msg), "[notify] %s is not set in the "
			 "configuration", missing);
		return nt_fail(cfg, EXIT_CONFIG, msg);
	}
	nt_sample(&it, now);
	o.from = cfg->notify_from;
	o.to = (const char *const *)cfg->notify_to;
	o.web_url = cfg->notify_web_url;
	o.hostname = g_get_host_name();
	o.period_start = now - cfg->digest_interval;
	o.period_end = now;
	o.max_items = cfg->notify_max_items;
	rc = notify_compose(&o, &it, 1, &mail, &len, err, sizeof(err));
	if (rc != 0)
		return nt_fail(cfg, EXIT_CONFIG, err);
	/* (the configuration's check of the URL has loaded it already) */
	if (!curl_lib_ready(err, sizeof(err))) {
		ex = nt_fail(cfg, EXIT_CONFIG, err);
		goto out;
	}
	notify_smtp_cfg_from_config(cfg, &sc);
	rc = notify_smtp_send(&sc, mail, len, err, sizeof(err));
	if (rc == -EAGAIN) {
		ex = nt_fail(cfg, EXIT_TEMPFAIL, err);
		goto out;
	}
	if (rc == -EINVAL) {
		ex = nt_fail(cfg, EXIT_CONFIG, err);
		goto out;
	}
	if (rc != 0) {
		ex = nt_fail(cfg, EXIT_UNAVAILABLE, err);
		goto out;
	}
	to = g_strjoinv(", ", cfg->notify_to);
	url_show(cfg->notify_smtp, show, sizeof(show));
	if (err[0])	/* sent, but not to all of them */
		fprintf(stderr, "bounced: notify-test: %s refused %s: they did "
			"not get the sample\n", show, err);
	printf("notify-test: sent a sample digest (%zu bytes) to %s through "
	       "%s\n", len, to, show);
	log_info("notify", "notify-test: sample digest sent to %s through %s",
		 to, show);
	ex = EXIT_OK;
out:
	g_free(to);
	g_free(mail);
	return ex;
}
