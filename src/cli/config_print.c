/*
 * config_print.c - the effective configuration as INI (check-config).
 *
 * Every key is written with its value, so an operator sees what is in
 * force; the output is a file config_load() reads back to the same values,
 * except that secrets (private-key, api-key, usertoken, secret, the
 * [unsubscribe] secret and the [notify] password, and the password of a
 * URL's user part) are written as "****".
 * Durations use config_format_duration(), lists are joined with
 * ';', unset strings are written empty.  Control characters (which
 * config_load refuses, but a config built in code might hold) are written
 * as '?' so the output stays one key per line.  Output errors are the
 * caller's to check on OUT (ferror).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_rules.h"
#include "classify_override.h"
#include "config.h"
#include "domain_group.h"
#include "url_check.h"

/* cfgp_text - S with control characters as '?' */
static void cfgp_text(FILE *out, const char *s)
{
	for (; s && *s; s++)
		fputc(((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s, out);
}

/* cfgp_value - "key = value", or "key =" when unset or empty */
static void cfgp_value(FILE *out, const char *key, const char *v)
{
	if (!v || !*v) {
		fprintf(out, "%s =\n", key);
		return;
	}
	fprintf(out, "%s = ", key);
	cfgp_text(out, v);
	fputc('\n', out);
}

/* cfgp_secret - a secret: "****" when set, empty when not */
static void cfgp_secret(FILE *out, const char *key, const char *v)
{
	cfgp_value(out, key, (v && *v) ? "****" : NULL);
}

/* cfgp_url - a URL, the password of its user part as "****" */
static void cfgp_url(FILE *out, const char *key, const char *v)
{
	char *buf;
	size_t len;

	if (!v || !*v) {
		cfgp_value(out, key, NULL);
		return;
	}
	len = strlen(v) + 8;
	buf = malloc(len);
	if (!buf) {
		cfgp_value(out, key, "****");
		return;
	}
	cfgp_value(out, key, url_show(v, buf, len));
	free(buf);
}

/* cfgp_list - a NULL-terminated list joined with ';' */
static void cfgp_list(FILE *out, const char *key, char *const *list)
{
	char *const *p;

	if (!list || !list[0]) {
		fprintf(out, "%s =\n", key);
		return;
	}
	fprintf(out, "%s = ", key);
	for (p = list; *p; p++) {
		if (p != list)
			fputc(';', out);
		cfgp_text(out, *p);
	}
	fputc('\n', out);
}

/* cfgp_duration - seconds in the largest exact unit */
static void cfgp_duration(FILE *out, const char *key, int64_t seconds)
{
	char buf[32];

	config_format_duration(seconds, buf, sizeof(buf));
	fprintf(out, "%s = %s\n", key, buf);
}

/* cfgp_duration_ms - milliseconds, in seconds' units when exact */
static void cfgp_duration_ms(FILE *out, const char *key, int64_t ms)
{
	char buf[32];

	if (ms > 0 && ms % 1000 == 0)
		config_format_duration(ms / 1000, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "%" PRId64 "ms", ms);
	fprintf(out, "%s = %s\n", key, buf);
}

static void cfgp_bool(FILE *out, const char *key, bool v)
{
	fprintf(out, "%s = %s\n", key, v ? "true" : "false");
}

static void cfgp_int(FILE *out, const char *key, long long v)
{
	fprintf(out, "%s = %lld\n", key, v);
}

static const char *cfgp_action(int a)
{
	static const char *const names[] = { "none", "unsubscribe", "bounce",
					     "both" };

	return a >= 0 && a < 4 ? names[a] : "both";
}

static const char *cfgp_notify_mode(enum notify_mode m)
{
	switch (m) {
	case NOTIFY_MODE_DIGEST:
		return "digest";
	case NOTIFY_MODE_EVENT:
		return "event";
	case NOTIFY_MODE_OFF:
		break;
	}
	return "off";
}

static const char *cfgp_starttls(enum notify_starttls t)
{
	switch (t) {
	case NOTIFY_STARTTLS_REQUIRED:
		return "required";
	case NOTIFY_STARTTLS_NO:
		return "no";
	case NOTIFY_STARTTLS_TRY:
		break;
	}
	return "try";
}

/* cfgp_provider - one [provider NAME] group, only its type's keys */
static void cfgp_provider(FILE *out, const struct config_provider *p)
{
	fputs("\n[provider ", out);
	cfgp_text(out, p->name);
	fputs("]\n", out);
	switch (p->type) {
	case PROVIDER_MAILWIZZ:
		cfgp_value(out, "type", "mailwizz");
		cfgp_url(out, "endpoint", p->endpoint);
		cfgp_int(out, "api-version", p->api_version);
		if (p->api_version == 2) {
			cfgp_secret(out, "api-key", p->api_key);
		} else {
			cfgp_value(out, "public-key", p->public_key);
			cfgp_secret(out, "private-key", p->private_key);
		}
		cfgp_value(out, "job-prefix", p->job_prefix);
		cfgp_value(out, "list-id", p->list_id);
		cfgp_value(out, "hard-action", cfgp_action(p->hard_action));
		cfgp_value(out, "soft-action", cfgp_action(p->soft_action));
		cfgp_value(out, "complaint-action",
			   p->complaint_action == ACT_BOTH ? "blacklist" :
							     "unsubscribe");
		break;
	case PROVIDER_INTERSPIRE:
		cfgp_value(out, "type", "interspire");
		cfgp_url(out, "endpoint", p->endpoint);
		cfgp_value(out, "username", p->username);
		cfgp_secret(out, "usertoken", p->usertoken);
		cfgp_duration(out, "list-refresh", p->list_refresh);
		break;
	case PROVIDER_WEBHOOK:
		cfgp_value(out, "type", "webhook");
		cfgp_url(out, "url", p->url);
		cfgp_secret(out, "secret", p->secret);
		fputs("events =", out);
		if (p->events & WEBHOOK_EVENT_SUPPRESSIONS)
			fputs(" suppressions;", out);
		if (p->events & WEBHOOK_EVENT_INCIDENTS)
			fputs(" incidents;", out);
		if (p->events & WEBHOOK_EVENT_ALERTS)
			fputs(" alerts;", out);
		fputs("\n", out);
		break;
	}
	cfgp_list(out, "senders", p->senders);
	cfgp_int(out, "concurrency", p->concurrency);
	cfgp_duration(out, "timeout", p->timeout);
	cfgp_duration(out, "connect-timeout", p->connect_timeout);
	cfgp_value(out, "ca-file", p->ca_file);
	cfgp_duration(out, "max-age", p->max_age);
	cfgp_duration_ms(out, "retry-min", p->retry_min_ms);
	cfgp_duration_ms(out, "retry-max", p->retry_max_ms);
	cfgp_value(out, "complaints", p->complaints ? "true" : "false");
	cfgp_value(out, "lists", p->lists ? "true" : "false");
	cfgp_value(out, "complaint-scope",
		   p->complaint_scope == SCOPE_LIST ? "list" : "everywhere");
}

/* config_print - the effective config as INI, secrets masked */
void config_print(const struct config *cfg, FILE *out)
{
	size_t i;

	if (cfg->path) {
		fputs("# effective configuration (from ", out);
		cfgp_text(out, cfg->path);
		fputs(")\n", out);
	} else {
		fputs("# effective configuration (embedded defaults)\n", out);
	}

	fputs("\n[bounced]\n", out);
	cfgp_value(out, "spool", cfg->spool);
	cfgp_value(out, "state", cfg->state);
	cfgp_value(out, "log", cfg->log);
	cfgp_bool(out, "debug", cfg->debug);
	cfgp_list(out, "acct-fields", cfg->acct_fields);
	cfgp_int(out, "batch-records", cfg->batch_records);
	cfgp_duration_ms(out, "batch-interval", cfg->batch_interval_ms);
	cfgp_list(out, "acct-ignore", cfg->acct_ignore);
	cfgp_duration(out, "done-retention", cfg->done_retention);
	cfgp_duration_ms(out, "shutdown-timeout", cfg->shutdown_timeout_ms);
	cfgp_int(out, "drop-max-size", (long long)cfg->drop_max_size);

	fputs("\n[classify]\n", out);
	cfgp_list(out, "hard-categories", cfg->hard_categories);
	cfgp_list(out, "soft-categories", cfg->soft_categories);
	cfgp_list(out, "ignore-categories", cfg->ignore_categories);
	cfgp_list(out, "complaint-types", cfg->complaint_types);
	cfgp_int(out, "soft-threshold", cfg->soft_threshold);
	cfgp_duration(out, "soft-min-span", cfg->soft_min_span);
	cfgp_duration(out, "soft-window", cfg->soft_window);
	cfgp_value(out, "rules", cfg->classify_rules ? cfg->classify_rules :
		   CLASSIFY_RULES_DEFAULT);
	cfgp_list(out, "sender-categories", cfg->sender_categories);
	cfgp_list(out, "no-escalate-categories", cfg->no_escalate_categories);

	fputs("\n[incidents]\n", out);
	cfgp_bool(out, "enabled", cfg->incidents);
	cfgp_duration(out, "window", cfg->incident_window);
	cfgp_int(out, "min-recipients", cfg->incident_min_recipients);
	fprintf(out, "min-share = %g%%\n", cfg->incident_min_share * 100.0);
	cfgp_duration(out, "quiet", cfg->incident_quiet);
	cfgp_bool(out, "hold-hard", cfg->incident_hold_hard);
	cfgp_value(out, "domain-groups", cfg->domain_groups ?
		   cfg->domain_groups : DOMAIN_GROUPS_DEFAULT);

	fputs("\n[alerts]\n", out);
	cfgp_value(out, "rules", cfg->alert_rules ? cfg->alert_rules :
		   ALERT_RULES_DEFAULT);

	fputs("\n[rates]\n", out);
	cfgp_bool(out, "enabled", cfg->rates);
	cfgp_int(out, "top", cfg->rates_top);

	for (i = 0; i < cfg->n_providers; i++)
		cfgp_provider(out, &cfg->providers[i]);

	fputs("\n[fbl]\n", out);
	cfgp_list(out, "senders", cfg->fbl_senders);

	fputs("\n[unsubscribe]\n", out);
	cfgp_value(out, "addresses", cfg->unsub_addresses);
	cfgp_secret(out, "secret", cfg->unsub_secret);

	fputs("\n[notify]\n", out);
	cfgp_value(out, "mode", cfgp_notify_mode(cfg->notify_mode));
	cfgp_url(out, "smtp", cfg->notify_smtp);
	cfgp_value(out, "from", cfg->notify_from);
	cfgp_list(out, "to", cfg->notify_to);
	cfgp_duration(out, "digest-interval", cfg->digest_interval);
	cfgp_value(out, "username", cfg->notify_username);
	cfgp_secret(out, "password", cfg->notify_password);
	cfgp_value(out, "starttls", cfgp_starttls(cfg->notify_starttls));
	cfgp_value(out, "ca-file", cfg->notify_ca_file);
	cfgp_duration(out, "timeout", cfg->notify_timeout);
	cfgp_url(out, "web-url", cfg->notify_web_url);
	cfgp_int(out, "max-items", cfg->notify_max_items);

	fputs("\n[rrd]\n", out);
	cfgp_value(out, "file", cfg->rrd_file);

	fputs("\n[metrics]\n", out);
	cfgp_value(out, "textfile", cfg->metrics_textfile);
}
