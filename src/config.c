/*
 * config.c - the effective configuration: embedded defaults, then an INI
 * file read with GLib's GKeyFile (key names: docs/CONFIG.md).
 *
 * Error policy: a value that cannot be used (bad number, duration, URL or
 * list, a required key missing, contradictory classify lists, a bad
 * provider name, an unreadable file) makes config_load() return -1 with
 * one line in ERR naming the file, group, key and value and saying what is
 * expected; the partly built config is freed, nothing half-applies.
 * Unknown groups and keys, keys another provider type would use, a secret
 * that is the check-config mask, and a secret-holding file open to group
 * or others are warnings (at most CFG_MAX_WARNINGS of them).
 * Values are taken literally (no escapes), blanks around them are ignored,
 * control characters are refused; secrets never appear in messages (the
 * password of a URL's user part is a secret too: shown as "****").  URLs
 * are checked with libcurl's parser (url_check.c): what is accepted is
 * what libcurl can use.
 * Memory comes from GLib (g_malloc aborts when memory is exhausted); the
 * caller frees the result with config_free().
 */
#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "log.h"
#include "unsub_addr.h"
#include "url_check.h"

#define CFG_MAX_FILE (1024 * 1024)	/* bytes in a config file */
#define CFG_MAX_VALUE 4096		/* bytes in one value */
#define CFG_MAX_LIST 1024		/* entries in one list */
#define CFG_MAX_ITEM 255		/* bytes in one list entry */
#define CFG_MAX_PROVIDERS 64
#define CFG_MAX_WARNINGS 100
#define CFG_NAME_MAX 31			/* bytes in a provider name */
#define CFG_SHOW_MAX 80			/* bytes of a value quoted in a message */

#define CFG_MIN 60
#define CFG_HOUR 3600
#define CFG_DAY 86400

static const char cfg_default_fields[] =
	"type,timeQueued,bounceCat,vmta,orig,rcpt,srcMta,dlvSourceIp,jobId,"
	"dsnStatus,dsnMta,dsnDiag";
static const char cfg_default_hard[] =
	"bad-mailbox;bad-domain;routing-errors;inactive-mailbox";
static const char cfg_default_soft[] =
	"bad-configuration;bad-connection;content-related;invalid-sender;"
	"other;policy-related;quota-issues;spam-related;virus-related";
static const char cfg_default_complaint[] = "abuse;fraud;virus";

/* the keys each group knows, for the unknown-key warnings */
static const char *const cfg_keys_bounced[] = {
	"spool", "state", "log", "debug", "acct-fields", "batch-records",
	"batch-interval", "acct-ignore", "done-retention", "shutdown-timeout",
	"drop-max-size", NULL
};
static const char *const cfg_keys_classify[] = {
	"hard-categories", "soft-categories", "ignore-categories",
	"complaint-types", "soft-threshold", "soft-min-span", "soft-window",
	NULL
};
static const char *const cfg_keys_notify[] = {
	"mode", "smtp", "from", "to", "digest-interval", "username",
	"password", "starttls", "ca-file", "timeout", "web-url", "max-items",
	NULL
};
static const char *const cfg_keys_rrd[] = { "file", NULL };
static const char *const cfg_keys_unsubscribe[] = {
	"addresses", "secret", NULL
};
static const char *const cfg_keys_metrics[] = { "textfile", NULL };
static const char *const cfg_keys_fbl[] = { "senders", NULL };
static const char *const cfg_keys_common[] = {
	"type", "senders", "concurrency", "timeout", "connect-timeout",
	"ca-file", "max-age", "complaints", "lists", "retry-min", "retry-max",
	"complaint-scope", NULL
};
static const char *const cfg_keys_mailwizz[] = {
	"endpoint", "api-version", "public-key", "private-key", "api-key",
	"job-prefix", "hard-action", "soft-action", "list-id",
	"complaint-action", NULL
};
static const char *const cfg_keys_interspire[] = {
	"endpoint", "username", "usertoken", "list-refresh", NULL
};
static const char *const cfg_keys_webhook[] = { "url", "secret", NULL };

struct cfg_ctx {
	const char *file;	/* for messages */
	GKeyFile *kf;
	struct config *cfg;
	GPtrArray *warnings;	/* NULL: log them */
	unsigned n_warnings;
	mode_t mode;		/* of the file, for the secrets check */
	char *err;
	size_t errlen;
};

/* cfg_warn - one warning "config FILE: ..." into the array, or logged */
static void __attribute__((format(printf, 2, 3)))
cfg_warn(struct cfg_ctx *c, const char *fmt, ...)
{
	va_list ap;
	char *msg, *line;

	if (c->n_warnings > CFG_MAX_WARNINGS)
		return;
	if (c->n_warnings++ == CFG_MAX_WARNINGS) {
		line = g_strdup_printf("config %s: more warnings not shown",
				       c->file);
	} else {
		va_start(ap, fmt);
		msg = g_strdup_vprintf(fmt, ap);
		va_end(ap);
		line = g_strdup_printf("config %s: %s", c->file, msg);
		g_free(msg);
	}
	if (c->warnings) {
		g_ptr_array_add(c->warnings, line);
	} else {
		log_warn("config", "%s", line);
		g_free(line);
	}
}

/* cfg_fail - set ERR to "config FILE: ..."; returns -1 */
static int __attribute__((format(printf, 2, 3)))
cfg_fail(struct cfg_ctx *c, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->err && c->errlen > 0)
		snprintf(c->err, c->errlen, "config %s: %s", c->file, msg);
	return -1;
}

/* cfg_show - V shortened for a message (values hold no controls), the
   password of a URL's user part as "****" */
static const char *cfg_show(const char *v, char *buf, size_t len)
{
	size_t n = strlen(v), at, pw;

	if (len < CFG_SHOW_MAX + 4)
		return "(value)";
	if (url_password(v, &at, &pw)) {
		char *m = g_strdup_printf("%.*s****%s", (int)at, v, v + at + pw);

		g_strlcpy(buf, m, CFG_SHOW_MAX + 1);
		if (strlen(m) > CFG_SHOW_MAX)
			memcpy(buf + CFG_SHOW_MAX, "...", 4);
		g_free(m);
		return buf;
	}
	if (n <= CFG_SHOW_MAX)
		return v;
	memcpy(buf, v, CFG_SHOW_MAX);
	memcpy(buf + CFG_SHOW_MAX, "...", 4);
	return buf;
}

static bool cfg_in(const char *const *list, const char *s)
{
	for (; list && *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

/* cfg_raw - the trimmed value of GROUP/KEY in *OUT (NULL when absent) */
static int cfg_raw(struct cfg_ctx *c, const char *group, const char *key,
		   char **out)
{
	char *v;
	const char *p;

	*out = NULL;
	v = g_key_file_get_value(c->kf, group, key, NULL);
	if (!v)
		return 0;
	g_strstrip(v);
	if (strlen(v) > CFG_MAX_VALUE) {
		g_free(v);
		return cfg_fail(c, "[%s] %s: value longer than %d bytes",
				group, key, CFG_MAX_VALUE);
	}
	for (p = v; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			g_free(v);
			return cfg_fail(c,
					"[%s] %s: value contains control characters",
					group, key);
		}
	}
	*out = v;
	return 0;
}

/* cfg_comment_check - warn about "value  # comment" (not supported) */
static void cfg_comment_check(struct cfg_ctx *c, const char *group,
			      const char *key, const char *v)
{
	const char *p;
	char buf[CFG_SHOW_MAX + 4];

	for (p = v; *p; p++) {
		if ((*p == ' ' || *p == '\t') && (p[1] == '#' || p[1] == ';')) {
			cfg_warn(c,
				 "[%s] %s = '%s': comments must be on a line of "
				 "their own; '%c...' is taken as part of the value",
				 group, key, cfg_show(v, buf, sizeof(buf)), p[1]);
			return;
		}
	}
}

/* cfg_string - an optional string: absent keeps *DST, empty clears it */
static int cfg_string(struct cfg_ctx *c, const char *group, const char *key,
		      bool secret, char **dst)
{
	char *v;

	if (cfg_raw(c, group, key, &v) != 0)
		return -1;
	if (!v)
		return 0;
	g_free(*dst);
	*dst = NULL;
	if (*v == '\0') {
		g_free(v);
		return 0;
	}
	if (!secret)
		cfg_comment_check(c, group, key, v);
	else if (strcmp(v, "****") == 0)
		cfg_warn(c, "[%s] %s is '****', the mask check-config prints; "
			 "write the real value here", group, key);
	*dst = v;
	return 0;
}

/* cfg_path - a string that must not be empty when given */
static int cfg_path(struct cfg_ctx *c, const char *group, const char *key,
		    const char *what, char **dst)
{
	char *v;

	if (cfg_raw(c, group, key, &v) != 0)
		return -1;
	if (!v)
		return 0;
	if (*v == '\0') {
		g_free(v);
		return cfg_fail(c, "[%s] %s = '': expected %s", group, key,
				what);
	}
	cfg_comment_check(c, group, key, v);
	g_free(*dst);
	*dst = v;
	return 0;
}

/* cfg_int - a whole number in [MIN, MAX]; absent keeps *DST */
static int cfg_int(struct cfg_ctx *c, const char *group, const char *key,
		   long long min, long long max, long long *dst)
{
	char buf[CFG_SHOW_MAX + 4];
	char *v, *end = NULL;
	long long n;
	int rc = -1;

	if (cfg_raw(c, group, key, &v) != 0)
		return -1;
	if (!v)
		return 0;
	errno = 0;
	n = (*v >= '0' && *v <= '9') ? strtoll(v, &end, 10) : 0;
	if (*v < '0' || *v > '9' || errno != 0 || *end != '\0' || n < min ||
	    n > max) {
		cfg_fail(c, "[%s] %s = '%s': expected a whole number from %lld "
			 "to %lld", group, key, cfg_show(v, buf, sizeof(buf)),
			 min, max);
		goto out;
	}
	*dst = n;
	rc = 0;
out:
	g_free(v);
	return rc;
}

/* cfg_duration - a duration in [MIN, MAX] (in ms if MS, else seconds) */
static int cfg_duration(struct cfg_ctx *c, const char *group, const char *key,
			bool ms, int64_t min, int64_t max, int64_t *dst)
{
	char buf[CFG_SHOW_MAX + 4], lo[32], hi[32];
	char *v;
	int64_t d;
	int rc = -1, prc;

	if (cfg_raw(c, group, key, &v) != 0)
		return -1;
	if (!v)
		return 0;
	prc = ms ? config_parse_duration_ms(v, &d)
		 : config_parse_duration(v, &d);
	if (prc != 0 || d < min || d > max) {
		if (ms) {
			snprintf(lo, sizeof(lo), "%lldms", (long long)min);
			config_format_duration(max / 1000, hi, sizeof(hi));
		} else {
			config_format_duration(min, lo, sizeof(lo));
			config_format_duration(max, hi, sizeof(hi));
		}
		cfg_fail(c, "[%s] %s = '%s': expected a duration from %s to %s "
			 "(a number followed by %ss, m, h, d or w)", group, key,
			 cfg_show(v, buf, sizeof(buf)), lo, hi,
			 ms ? "ms, " : "");
		goto out;
	}
	*dst = d;
	rc = 0;
out:
	g_free(v);
	return rc;
}

/* cfg_bool - true/false, yes/no, on/off, 1/0 */
static int cfg_bool(struct cfg_ctx *c, const char *group, const char *key,
		    bool *dst)
{
	static const char *const yes[] = { "true", "yes", "on", "1", NULL };
	static const char *const no[] = { "false", "no", "off", "0", NULL };
	char buf[CFG_SHOW_MAX + 4];
	char *v;
	int i, rc = -1;

	if (cfg_raw(c, group, key, &v) != 0)
		return -1;
	if (!v)
		return 0;
	for (i = 0; yes[i]; i++) {
		if (g_ascii_strcasecmp(v, yes[i]) == 0) {
			*dst = true;
			rc = 0;
		} else if (g_ascii_strcasecmp(v, no[i]) == 0) {
			*dst = false;
			rc = 0;
		}
	}
	if (rc != 0)
		cfg_fail(c, "[%s] %s = '%s': expected true or false (yes/no, "
			 "on/off, 1/0)", group, key,
			 cfg_show(v, buf, sizeof(buf)));
	g_free(v);
	return rc;
}

/*
 * cfg_split - V split on ';' and ','; entries trimmed, empty ones dropped,
 * ASCII-lowercased if LOWER; a NULL-terminated g_strfreev array.  NULL with
 * *WHY set when there are too many entries, or one is too long or holds a
 * blank.
 */
static char **cfg_split(const char *v, bool lower, const char **why)
{
	GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
	char **parts = g_strsplit_set(v, ";,", -1);
	char **res = NULL;
	size_t i;

	*why = NULL;
	for (i = 0; parts[i]; i++) {
		char *e = g_strstrip(parts[i]);
		const char *p;

		if (*e == '\0')
			continue;
		if (a->len >= CFG_MAX_LIST) {
			*why = "too many entries (at most 1024)";
			goto out;
		}
		if (strlen(e) > CFG_MAX_ITEM) {
			*why = "an entry is longer than 255 bytes";
			goto out;
		}
		for (p = e; *p; p++) {
			if (*p == ' ' || *p == '\t') {
				*why = "an entry has a blank inside (separate "
				       "entries with ';' or ',')";
				goto out;
			}
		}
		g_ptr_array_add(a, lower ? g_ascii_strdown(e, -1) : g_strdup(e));
	}
	g_ptr_array_add(a, NULL);
	g_ptr_array_set_free_func(a, NULL);
	res = (char **)g_ptr_array_free(a, FALSE);
	a = NULL;
out:
	if (a)
		g_ptr_array_free(a, TRUE);
	g_strfreev(parts);
	return res;
}

/* cfg_list - a list; absent keeps *DST; empty gives an empty list, or NULL
   if EMPTY_NULL, or an error if !ALLOW_EMPTY */
static int cfg_list(struct cfg_ctx *c, const char *group, const char *key,
		    bool lower, bool allow_empty, bool empty_null, char ***dst)
{
	char buf[CFG_SHOW_MAX + 4];
	const char *why;
	char *v;
	char **l;
	int rc = -1;

	if (cfg_raw(c, group, key, &v) != 0)
		return -1;
	if (!v)
		return 0;
	l = cfg_split(v, lower, &why);
	if (!l) {
		cfg_fail(c, "[%s] %s = '%s': %s", group, key,
			 cfg_show(v, buf, sizeof(buf)), why);
		goto out;
	}
	if (!l[0] && !allow_empty) {
		g_strfreev(l);
		cfg_fail(c, "[%s] %s = '%s': expected a list of names separated "
			 "by ';' or ','", group, key,
			 cfg_show(v, buf, sizeof(buf)));
		goto out;
	}
	if (!l[0] && empty_null) {
		g_strfreev(l);
		l = NULL;
	}
	g_strfreev(*dst);
	*dst = l;
	rc = 0;
out:
	g_free(v);
	return rc;
}

static const char *const cfg_http_schemes[] = { "http", "https", NULL };
static const char *const cfg_smtp_schemes[] = { "smtp", "smtps", NULL };

/* cfg_url_pw_mask - warn when the password of URL is the check-config
   mask */
static void cfg_url_pw_mask(struct cfg_ctx *c, const char *group,
			    const char *key, const char *url)
{
	size_t at, n;

	if (url_password(url, &at, &n) && n == 4 &&
	    strncmp(url + at, "****", 4) == 0)
		cfg_warn(c, "[%s] %s: the password in the URL is '****', the "
			 "mask check-config prints; write the real one here",
			 group, key);
}

/* cfg_url_bad - check V (a URL of SCHEMES, WHAT for the message); -1
   with the error when libcurl could not use it */
static int cfg_url_bad(struct cfg_ctx *c, const char *group, const char *key,
		       const char *v, const char *const *schemes,
		       const char *what)
{
	char buf[CFG_SHOW_MAX + 4], why[256];

	if (url_check(v, schemes, why, sizeof(why)) == 0) {
		cfg_url_pw_mask(c, group, key, v);
		return 0;
	}
	return cfg_fail(c, "[%s] %s = '%s': %s; expected %s", group, key,
			cfg_show(v, buf, sizeof(buf)), why, what);
}

/* cfg_url - a required http(s) URL */
static int cfg_url(struct cfg_ctx *c, const char *group, const char *key,
		   char **dst)
{
	char *v;

	if (cfg_raw(c, group, key, &v) != 0)
		return -1;
	if (!v || *v == '\0') {
		g_free(v);
		return cfg_fail(c, "[%s] %s is required (an http:// or https:// "
				"URL)", group, key);
	}
	if (cfg_url_bad(c, group, key, v, cfg_http_schemes,
			"an http:// or https:// URL") != 0) {
		g_free(v);
		return -1;
	}
	g_free(*dst);
	*dst = v;
	return 0;
}

/* cfg_require - a string that the provider's type needs */
static int cfg_require(struct cfg_ctx *c, const char *group, const char *key,
		       const char *why, const char *v)
{
	if (v && *v)
		return 0;
	return cfg_fail(c, "[%s] %s is required%s", group, key, why);
}

/* cfg_unused - warn about a key the provider's settings do not use */
static void cfg_unused(struct cfg_ctx *c, const char *group, const char *key,
		       const char *why)
{
	char *v = g_key_file_get_value(c->kf, group, key, NULL);

	if (v) {
		g_strstrip(v);
		if (*v)
			cfg_warn(c, "key '%s' in [%s] is not used %s", key,
				 group, why);
	}
	g_free(v);
}

/* cfg_defaults - a config holding the embedded defaults */
static struct config *cfg_defaults(void)
{
	struct config *cfg = g_new0(struct config, 1);
	const char *why;

	cfg->spool = g_strdup("./spool");
	cfg->state = g_strdup("./state");
	cfg->log = g_strdup("-");
	cfg->debug = false;
	cfg->acct_fields = cfg_split(cfg_default_fields, false, &why);
	cfg->batch_records = 1000000;
	cfg->batch_interval_ms = 1000;
	cfg->acct_ignore = cfg_split("*.tmp;*.part", false, &why);
	cfg->done_retention = 7 * CFG_DAY;
	cfg->shutdown_timeout_ms = 10 * 1000;
	cfg->drop_max_size = 10 * 1024 * 1024;
	cfg->hard_categories = cfg_split(cfg_default_hard, true, &why);
	cfg->soft_categories = cfg_split(cfg_default_soft, true, &why);
	cfg->ignore_categories = cfg_split("", true, &why);
	cfg->complaint_types = cfg_split(cfg_default_complaint, true, &why);
	cfg->soft_threshold = 5;
	cfg->soft_min_span = 3 * CFG_DAY;
	cfg->soft_window = 30 * CFG_DAY;
	cfg->digest_interval = 15 * CFG_MIN;
	cfg->unsub_addresses = g_strdup(UNSUB_ADDR_DEFAULT);
	cfg->notify_mode = NOTIFY_MODE_OFF;
	cfg->notify_starttls = NOTIFY_STARTTLS_TRY;
	cfg->notify_timeout = 30;
	cfg->notify_max_items = 500;
	return cfg;
}

/* cfg_bounced - the [bounced] group */
static int cfg_bounced(struct cfg_ctx *c)
{
	struct config *cfg = c->cfg;
	const char *g = "bounced";
	long long n = cfg->batch_records;
	long long dmax = (long long)cfg->drop_max_size;

	if (cfg_path(c, g, "spool", "a directory path", &cfg->spool) != 0 ||
	    cfg_path(c, g, "state", "a directory path", &cfg->state) != 0 ||
	    cfg_path(c, g, "log", "'-' (stderr), 'syslog' or a file path",
		     &cfg->log) != 0 ||
	    cfg_bool(c, g, "debug", &cfg->debug) != 0 ||
	    cfg_list(c, g, "acct-fields", false, false, false,
		     &cfg->acct_fields) != 0 ||
	    cfg_int(c, g, "batch-records", 1, 10000000, &n) != 0 ||
	    cfg_duration(c, g, "batch-interval", true, 1, 3600 * 1000LL,
			 &cfg->batch_interval_ms) != 0 ||
	    cfg_list(c, g, "acct-ignore", false, true, false,
		     &cfg->acct_ignore) != 0 ||
	    cfg_duration(c, g, "done-retention", false, 0, 3650 * CFG_DAY,
			 &cfg->done_retention) != 0 ||
	    cfg_duration(c, g, "shutdown-timeout", true, 0, 3600 * 1000LL,
			 &cfg->shutdown_timeout_ms) != 0 ||
	    cfg_int(c, g, "drop-max-size", 1024, 1024LL * 1024 * 1024,
		    &dmax) != 0)
		return -1;
	cfg->batch_records = (uint32_t)n;
	cfg->drop_max_size = (uint64_t)dmax;
	return 0;
}

/* cfg_overlap - warn about categories in both lists; returns the count */
static int cfg_overlap(struct cfg_ctx *c, char **a, const char *an, char **b,
		       const char *bn, bool fatal)
{
	char **p;

	for (p = a; p && *p; p++) {
		if (!cfg_in((const char *const *)b, *p))
			continue;
		if (fatal)
			return cfg_fail(c, "[classify] category '%s' is in both "
					"%s and %s; keep it in one", *p, an,
					bn);
		cfg_warn(c, "[classify] category '%s' is in both %s and %s; "
			 "%s wins", *p, an, bn, bn);
	}
	return 0;
}

/* cfg_classify - the [classify] group */
static int cfg_classify(struct cfg_ctx *c)
{
	struct config *cfg = c->cfg;
	const char *g = "classify";
	long long n = cfg->soft_threshold;
	const int64_t ten_years = 3650LL * CFG_DAY;

	if (cfg_list(c, g, "hard-categories", true, true, false,
		     &cfg->hard_categories) != 0 ||
	    cfg_list(c, g, "soft-categories", true, true, false,
		     &cfg->soft_categories) != 0 ||
	    cfg_list(c, g, "ignore-categories", true, true, false,
		     &cfg->ignore_categories) != 0 ||
	    cfg_list(c, g, "complaint-types", true, true, false,
		     &cfg->complaint_types) != 0 ||
	    cfg_int(c, g, "soft-threshold", 1, 32, &n) != 0 ||
	    cfg_duration(c, g, "soft-min-span", false, 0, ten_years,
			 &cfg->soft_min_span) != 0 ||
	    cfg_duration(c, g, "soft-window", false, 1, ten_years,
			 &cfg->soft_window) != 0)
		return -1;
	cfg->soft_threshold = (uint32_t)n;
	if (cfg->soft_window < cfg->soft_min_span) {
		char w[32], s[32];

		config_format_duration(cfg->soft_window, w, sizeof(w));
		config_format_duration(cfg->soft_min_span, s, sizeof(s));
		return cfg_fail(c, "[classify] soft-window = '%s': must be at "
				"least soft-min-span ('%s')", w, s);
	}
	if (cfg_overlap(c, cfg->hard_categories, "hard-categories",
			cfg->soft_categories, "soft-categories", true) != 0)
		return -1;
	cfg_overlap(c, cfg->ignore_categories, "ignore-categories",
		    cfg->hard_categories, "hard-categories", false);
	cfg_overlap(c, cfg->ignore_categories, "ignore-categories",
		    cfg->soft_categories, "soft-categories", false);
	return 0;
}

/* cfg_choice - one of NAMES (any case) into *OUT as its index; absent
   or empty keeps *OUT */
static int cfg_choice(struct cfg_ctx *c, const char *g, const char *key,
		      const char *const *names, const char *expected, int *out)
{
	char buf[CFG_SHOW_MAX + 4];
	char *v = NULL;
	int i;

	if (cfg_raw(c, g, key, &v) != 0)
		return -1;
	if (!v || !*v) {
		g_free(v);
		return 0;
	}
	for (i = 0; names[i]; i++) {
		if (g_ascii_strcasecmp(v, names[i]) == 0) {
			*out = i;
			g_free(v);
			return 0;
		}
	}
	cfg_fail(c, "[%s] %s = '%s': expected %s", g, key,
		 cfg_show(v, buf, sizeof(buf)), expected);
	g_free(v);
	return -1;
}

/* cfg_addr_ok - an address for SMTP: one '@', no blanks or controls */
static bool cfg_addr_ok(const char *v)
{
	const char *at = strchr(v, '@');
	const char *p;

	if (!at || at == v || at[1] == '\0' || strchr(at + 1, '@') ||
	    strlen(v) > 254)
		return false;
	for (p = v; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '<' ||
		    *p == '>' || *p == '"' || *p == '\\' || *p == ',' ||
		    *p == ';')
			return false;
	return true;
}

/* cfg_notify_check - the [notify] values that must fit together */
static int cfg_notify_check(struct cfg_ctx *c, bool mode_given)
{
	struct config *cfg = c->cfg;
	char buf[CFG_SHOW_MAX + 4];
	char **t;

	if (cfg->notify_smtp &&
	    cfg_url_bad(c, "notify", "smtp", cfg->notify_smtp,
			cfg_smtp_schemes, "an smtp:// or smtps:// URL with a "
			"host") != 0)
		return -1;
	if (cfg->notify_from && !cfg_addr_ok(cfg->notify_from))
		return cfg_fail(c, "[notify] from = '%s': expected an address "
				"like bounced@example.com",
				cfg_show(cfg->notify_from, buf, sizeof(buf)));
	for (t = cfg->notify_to; t && *t; t++)
		if (!cfg_addr_ok(*t))
			return cfg_fail(c, "[notify] to: '%s' is not an address "
					"like postmaster@example.com",
					cfg_show(*t, buf, sizeof(buf)));
	if (cfg->notify_to && g_strv_length(cfg->notify_to) > 100)
		return cfg_fail(c, "[notify] to: at most 100 recipients");
	if (cfg->notify_web_url &&
	    cfg_url_bad(c, "notify", "web-url", cfg->notify_web_url,
			cfg_http_schemes, "an http:// or https:// URL") != 0)
		return -1;
	if (!mode_given)
		cfg->notify_mode = (cfg->notify_smtp && cfg->notify_to) ?
			NOTIFY_MODE_DIGEST : NOTIFY_MODE_OFF;
	if (cfg->notify_mode == NOTIFY_MODE_OFF)
		return 0;
	if (cfg_require(c, "notify", "smtp", " (mode is not off)",
			cfg->notify_smtp) != 0 ||
	    cfg_require(c, "notify", "from", " (mode is not off)",
			cfg->notify_from) != 0)
		return -1;
	if (!cfg->notify_to)
		return cfg_fail(c, "[notify] to is required (mode is not off)");
	if (cfg->notify_password && !cfg->notify_username)
		return cfg_fail(c, "[notify] password is set but username is "
				"not");
	return 0;
}

/* cfg_notify - the [notify] group */
static int cfg_notify(struct cfg_ctx *c)
{
	static const char *const modes[] = { "off", "digest", "event", NULL };
	static const char *const tls[] = { "try", "required", "no", NULL };
	struct config *cfg = c->cfg;
	const char *g = "notify";
	long long max = cfg->notify_max_items;
	int mode = -1, starttls = (int)cfg->notify_starttls;

	/* an empty mode is the automatic default, like an absent one */
	if (cfg_choice(c, g, "mode", modes, "digest, event or off",
		       &mode) != 0 ||
	    cfg_string(c, g, "smtp", false, &cfg->notify_smtp) != 0 ||
	    cfg_string(c, g, "from", false, &cfg->notify_from) != 0 ||
	    cfg_list(c, g, "to", false, true, true, &cfg->notify_to) != 0 ||
	    cfg_duration(c, g, "digest-interval", false, 1, 7 * CFG_DAY,
			 &cfg->digest_interval) != 0 ||
	    cfg_string(c, g, "username", false, &cfg->notify_username) != 0 ||
	    cfg_string(c, g, "password", true, &cfg->notify_password) != 0 ||
	    cfg_choice(c, g, "starttls", tls, "try, required or no",
		       &starttls) != 0 ||
	    cfg_string(c, g, "ca-file", false, &cfg->notify_ca_file) != 0 ||
	    cfg_duration(c, g, "timeout", false, 1, CFG_HOUR,
			 &cfg->notify_timeout) != 0 ||
	    cfg_string(c, g, "web-url", false, &cfg->notify_web_url) != 0 ||
	    cfg_int(c, g, "max-items", 1, 100000, &max) != 0)
		return -1;
	if (mode >= 0)
		cfg->notify_mode = (enum notify_mode)mode;
	cfg->notify_starttls = (enum notify_starttls)starttls;
	cfg->notify_max_items = (uint32_t)max;
	if (cfg->notify_web_url) {
		size_t l = strlen(cfg->notify_web_url);

		while (l > 0 && cfg->notify_web_url[l - 1] == '/')
			cfg->notify_web_url[--l] = '\0';
	}
	return cfg_notify_check(c, mode >= 0);
}

/* cfg_unsubscribe - the [unsubscribe] group: the address forms are
   compiled here so that a bad one stops the start, not the first mail */
static int cfg_unsubscribe(struct cfg_ctx *c)
{
	struct config *cfg = c->cfg;
	const char *g = "unsubscribe";
	struct unsub_addr_set *set = NULL;
	char err[512];
	char *v = NULL;
	size_t n;

	if (cfg_raw(c, g, "addresses", &v) != 0 ||
	    cfg_string(c, g, "secret", true, &cfg->unsub_secret) != 0)
		goto fail;
	if (v && *v == '\0') {
		cfg_fail(c, "[%s] addresses = '': expected address forms such "
			 "as %s, separated by ';'", g, UNSUB_ADDR_DEFAULT);
		goto fail;
	}
	if (v) {
		g_free(cfg->unsub_addresses);
		cfg->unsub_addresses = v;
		v = NULL;
	}
	n = cfg->unsub_secret ? strlen(cfg->unsub_secret) : 0;
	/* the check-config mask is warned about; it still checks the forms */
	if (n && strcmp(cfg->unsub_secret, "****") != 0 &&
	    (n < UNSUB_SECRET_MIN || n > UNSUB_SECRET_MAX)) {
		cfg_fail(c, "[%s] secret: expected %d to %d bytes, not %zu "
			 "(make one with: openssl rand -hex 32)", g,
			 UNSUB_SECRET_MIN, UNSUB_SECRET_MAX, n);
		goto fail;
	}
	if (unsub_addr_compile(cfg->unsub_addresses, cfg->unsub_secret, &set,
			       err, sizeof(err)) != 0) {
		cfg_fail(c, "[%s] addresses: %s", g, err);
		goto fail;
	}
	unsub_addr_free(set);
	return 0;
fail:
	g_free(v);
	return -1;
}

/* cfg_rrd - the [rrd] group; the default follows the state directory */
static int cfg_rrd(struct cfg_ctx *c)
{
	struct config *cfg = c->cfg;

	if (c->kf && cfg_string(c, "rrd", "file", false, &cfg->rrd_file) != 0)
		return -1;
	if (!cfg->rrd_file)
		cfg->rrd_file = g_build_filename(cfg->state, "bounced.rrd",
						 NULL);
	return 0;
}

/* cfg_fbl - the [fbl] group: the senders of our mail, for telling the
   feedback reports about it from the others (docs/FBL.md) */
static int cfg_fbl(struct cfg_ctx *c)
{
	return cfg_list(c, "fbl", "senders", true, true, true,
			&c->cfg->fbl_senders);
}

/* cfg_metrics - the [metrics] group */
static int cfg_metrics(struct cfg_ctx *c)
{
	return cfg_string(c, "metrics", "textfile", false,
			  &c->cfg->metrics_textfile);
}

/* cfg_class_action - none | unsubscribe | bounce | both */
static int cfg_class_action(struct cfg_ctx *c, const char *g, const char *key,
			    int *out)
{
	static const char *const names[] = { "none", "unsubscribe", "bounce",
					     "both" };
	char buf[CFG_SHOW_MAX + 4];
	char *v = NULL;
	int i;

	if (cfg_raw(c, g, key, &v) != 0)
		return -1;
	if (!v)
		return 0;
	for (i = 0; i < 4; i++)
		if (g_ascii_strcasecmp(v, names[i]) == 0) {
			*out = i;
			g_free(v);
			return 0;
		}
	cfg_fail(c, "[%s] %s = '%s': expected none, unsubscribe, bounce or "
		 "both", g, key, cfg_show(v, buf, sizeof(buf)));
	g_free(v);
	return -1;
}

/* cfg_complaint_action - unsubscribe (default) or blacklist */
static int cfg_complaint_action(struct cfg_ctx *c, const char *g,
				struct config_provider *p)
{
	char buf[CFG_SHOW_MAX + 4];
	char *v = NULL;

	p->complaint_action = ACT_UNSUBSCRIBE;
	if (cfg_raw(c, g, "complaint-action", &v) != 0)
		return -1;
	if (!v || g_ascii_strcasecmp(v, "unsubscribe") == 0) {
		g_free(v);
		return 0;
	}
	if (g_ascii_strcasecmp(v, "blacklist") == 0) {
		p->complaint_action = ACT_BOTH;
		g_free(v);
		return 0;
	}
	cfg_fail(c, "[%s] complaint-action = '%s': expected unsubscribe or "
		 "blacklist", g, cfg_show(v, buf, sizeof(buf)));
	g_free(v);
	return -1;
}

/* cfg_complaint_scope - everywhere (default) or list */
static int cfg_complaint_scope(struct cfg_ctx *c, const char *g,
			       struct config_provider *p)
{
	char buf[CFG_SHOW_MAX + 4];
	char *v = NULL;

	p->complaint_scope = SCOPE_EVERYWHERE;
	if (cfg_raw(c, g, "complaint-scope", &v) != 0)
		return -1;
	if (!v || g_ascii_strcasecmp(v, "everywhere") == 0) {
		g_free(v);
		return 0;
	}
	if (g_ascii_strcasecmp(v, "list") == 0) {
		p->complaint_scope = SCOPE_LIST;
		g_free(v);
		return 0;
	}
	cfg_fail(c, "[%s] complaint-scope = '%s': expected everywhere or list",
		 g, cfg_show(v, buf, sizeof(buf)));
	g_free(v);
	return -1;
}

/* cfg_list_id - the List-Id forms of a mailwizz provider: ';'-separated,
   each one [LIST_UID] among literal text and '*' wildcards */
static int cfg_list_id(struct cfg_ctx *c, const char *g,
		       struct config_provider *p)
{
	char buf[96];
	char **forms;
	size_t i;
	int bad = 0;

	if (cfg_string(c, g, "list-id", false, &p->list_id) != 0)
		return -1;
	if (!p->list_id)
		p->list_id = g_strdup(CONFIG_LIST_ID_DEFAULT);
	forms = g_strsplit(p->list_id, ";", 0);
	for (i = 0; forms[i]; i++) {
		const char *ph = strstr(forms[i], "[LIST_UID]");

		if (!ph || strstr(ph + 1, "[LIST_UID]"))
			bad = 1;
	}
	g_strfreev(forms);
	if (bad || strlen(p->list_id) > 400) {
		cfg_fail(c, "[%s] list-id = '%s': expected forms separated by "
			 "';', each with one [LIST_UID] among text and '*' "
			 "wildcards, such as '%s' or "
			 "'* <[LIST_UID].lists.example.com>'", g,
			 cfg_show(p->list_id, buf, sizeof(buf)),
			 CONFIG_LIST_ID_DEFAULT);
		return -1;
	}
	return 0;
}

/* cfg_mailwizz - the keys of a mailwizz provider */
static int cfg_mailwizz(struct cfg_ctx *c, const char *g,
			struct config_provider *p)
{
	long long v = 1;

	p->job_prefix = g_strdup("mailwizz-");
	if (cfg_list_id(c, g, p) != 0 ||
	    cfg_url(c, g, "endpoint", &p->endpoint) != 0 ||
	    cfg_int(c, g, "api-version", 1, 2, &v) != 0 ||
	    cfg_string(c, g, "public-key", false, &p->public_key) != 0 ||
	    cfg_string(c, g, "private-key", true, &p->private_key) != 0 ||
	    cfg_string(c, g, "api-key", true, &p->api_key) != 0)
		return -1;
	p->api_version = (int)v;
	if (cfg_complaint_action(c, g, p) != 0 ||
	    cfg_class_action(c, g, "hard-action", &p->hard_action) != 0 ||
	    cfg_class_action(c, g, "soft-action", &p->soft_action) != 0)
		return -1;
	/* an empty job-prefix is a value: jobId is the campaign uid itself */
	if (g_key_file_has_key(c->kf, g, "job-prefix", NULL)) {
		char *jp;

		if (cfg_raw(c, g, "job-prefix", &jp) != 0)
			return -1;
		g_free(p->job_prefix);
		p->job_prefix = jp;
	}
	if (p->api_version == 1) {
		if (cfg_require(c, g, "public-key", " for api-version 1",
				p->public_key) != 0 ||
		    cfg_require(c, g, "private-key", " for api-version 1",
				p->private_key) != 0)
			return -1;
		cfg_unused(c, g, "api-key", "with api-version 1");
		g_free(p->api_key);
		p->api_key = NULL;
	} else {
		if (cfg_require(c, g, "api-key", " for api-version 2",
				p->api_key) != 0)
			return -1;
		cfg_unused(c, g, "public-key", "with api-version 2");
		cfg_unused(c, g, "private-key", "with api-version 2");
		g_free(p->public_key);
		g_free(p->private_key);
		p->public_key = p->private_key = NULL;
	}
	return 0;
}

/* cfg_interspire - the keys of an interspire provider */
static int cfg_interspire(struct cfg_ctx *c, const char *g,
			  struct config_provider *p)
{
	if (cfg_url(c, g, "endpoint", &p->endpoint) != 0 ||
	    cfg_string(c, g, "username", false, &p->username) != 0 ||
	    cfg_string(c, g, "usertoken", true, &p->usertoken) != 0 ||
	    cfg_duration(c, g, "list-refresh", false, 1, 7 * CFG_DAY,
			 &p->list_refresh) != 0 ||
	    cfg_require(c, g, "username", "", p->username) != 0 ||
	    cfg_require(c, g, "usertoken", "", p->usertoken) != 0)
		return -1;
	return 0;
}

/* cfg_webhook - the keys of a webhook provider */
static int cfg_webhook(struct cfg_ctx *c, const char *g,
		       struct config_provider *p)
{
	if (cfg_url(c, g, "url", &p->url) != 0 ||
	    cfg_string(c, g, "secret", true, &p->secret) != 0)
		return -1;
	return 0;
}

/* cfg_type_keys - the keys that belong to provider type T */
static const char *const *cfg_type_keys(enum provider_type t)
{
	switch (t) {
	case PROVIDER_MAILWIZZ:
		return cfg_keys_mailwizz;
	case PROVIDER_INTERSPIRE:
		return cfg_keys_interspire;
	case PROVIDER_WEBHOOK:
		return cfg_keys_webhook;
	}
	return NULL;
}

static const char *cfg_type_name(enum provider_type t)
{
	switch (t) {
	case PROVIDER_MAILWIZZ:
		return "mailwizz";
	case PROVIDER_INTERSPIRE:
		return "interspire";
	case PROVIDER_WEBHOOK:
		return "webhook";
	}
	return "?";
}

/* cfg_provider_keys - warn about unknown keys and other types' keys */
static void cfg_provider_keys(struct cfg_ctx *c, const char *g,
			      enum provider_type t, char **keys)
{
	const char *const *mine = cfg_type_keys(t);
	size_t i;

	for (i = 0; keys[i]; i++) {
		const char *k = keys[i];

		if (cfg_in(cfg_keys_common, k) || cfg_in(mine, k))
			continue;
		if (cfg_in(cfg_keys_mailwizz, k) ||
		    cfg_in(cfg_keys_interspire, k) ||
		    cfg_in(cfg_keys_webhook, k))
			cfg_warn(c, "key '%s' in [%s] is not used by type %s",
				 k, g, cfg_type_name(t));
		else
			cfg_warn(c, "unknown key '%s' in [%s]", k, g);
	}
}

/* cfg_name_ok - a provider name: [A-Za-z0-9_-]{1,31}, not "dry-run" */
static bool cfg_name_ok(const char *n)
{
	size_t i;

	for (i = 0; n[i]; i++) {
		if (i >= CFG_NAME_MAX)
			return false;
		if (!g_ascii_isalnum(n[i]) && n[i] != '_' && n[i] != '-')
			return false;
	}
	return i > 0;
}

/* cfg_provider - one [provider NAME] group into *P */
static int cfg_provider(struct cfg_ctx *c, const char *g, const char *name,
			char **keys, struct config_provider *p)
{
	char buf[CFG_SHOW_MAX + 4];
	long long conc = 16;
	char *type = NULL;
	int rc = -1;

	if (!cfg_name_ok(name)) {
		cfg_fail(c, "[%s]: a provider name is 1 to 31 letters, digits, "
			 "'_' or '-'", g);
		goto out;
	}
	if (strcmp(name, "dry-run") == 0) {
		cfg_fail(c, "[%s]: the name 'dry-run' is reserved (it marks "
			 "actions taken with no provider)", g);
		goto out;
	}
	p->name = g_strdup(name);
	p->api_version = 1;
	p->concurrency = 16;
	p->list_refresh = 10 * CFG_MIN;
	p->timeout = 30;
	p->connect_timeout = 10;
	p->max_age = 7 * CFG_DAY;
	p->retry_min_ms = 10 * 1000;
	p->retry_max_ms = 3600 * 1000;
	p->complaints = true;
	p->lists = true;
	p->hard_action = ACT_BOTH;
	p->soft_action = ACT_BOUNCE;
	p->complaint_action = ACT_UNSUBSCRIBE;
	if (cfg_raw(c, g, "type", &type) != 0)
		goto out;
	if (!type || *type == '\0') {
		cfg_fail(c, "[%s] type is required: mailwizz, interspire or "
			 "webhook", g);
		goto out;
	}
	if (g_ascii_strcasecmp(type, "mailwizz") == 0)
		p->type = PROVIDER_MAILWIZZ;
	else if (g_ascii_strcasecmp(type, "interspire") == 0)
		p->type = PROVIDER_INTERSPIRE;
	else if (g_ascii_strcasecmp(type, "webhook") == 0)
		p->type = PROVIDER_WEBHOOK;
	else {
		cfg_fail(c, "[%s] type = '%s': expected mailwizz, interspire or "
			 "webhook", g, cfg_show(type, buf, sizeof(buf)));
		goto out;
	}
	cfg_provider_keys(c, g, p->type, keys);
	if (cfg_list(c, g, "senders", true, true, true, &p->senders) != 0 ||
	    cfg_int(c, g, "concurrency", 1, 256, &conc) != 0 ||
	    cfg_duration(c, g, "timeout", false, 1, CFG_DAY, &p->timeout) != 0 ||
	    cfg_duration(c, g, "connect-timeout", false, 1, CFG_HOUR,
			 &p->connect_timeout) != 0 ||
	    cfg_string(c, g, "ca-file", false, &p->ca_file) != 0 ||
	    cfg_duration(c, g, "max-age", false, 60, 3650 * CFG_DAY,
			 &p->max_age) != 0 ||
	    cfg_bool(c, g, "complaints", &p->complaints) != 0 ||
	    cfg_bool(c, g, "lists", &p->lists) != 0 ||
	    cfg_complaint_scope(c, g, p) != 0 ||
	    cfg_duration(c, g, "retry-min", true, 1, 3600 * 1000LL,
			 &p->retry_min_ms) != 0 ||
	    cfg_duration(c, g, "retry-max", true, 1, 7 * 24 * 3600 * 1000LL,
			 &p->retry_max_ms) != 0)
		goto out;
	if (!p->senders) {
		cfg_fail(c, "[%s] senders is required: the envelope senders "
			 "(shell globs, ';'-separated) of the mail this "
			 "provider sent, such as news@example.com;"
			 "*@bounces.example.com, or * for all of them; "
			 "bounces of other senders are not sent to it", g);
		goto out;
	}
	if (p->retry_max_ms < p->retry_min_ms) {
		cfg_fail(c, "[%s] retry-max must not be shorter than retry-min", g);
		goto out;
	}
	p->concurrency = (int)conc;
	switch (p->type) {
	case PROVIDER_MAILWIZZ:
		rc = cfg_mailwizz(c, g, p);
		break;
	case PROVIDER_INTERSPIRE:
		rc = cfg_interspire(c, g, p);
		break;
	case PROVIDER_WEBHOOK:
		rc = cfg_webhook(c, g, p);
		break;
	}
out:
	g_free(type);
	return rc;
}

/* cfg_group_keys - the keys of G, warning about unknown and repeated ones */
static char **cfg_group_keys(struct cfg_ctx *c, const char *g,
			     const char *const *known)
{
	char **keys = g_key_file_get_keys(c->kf, g, NULL, NULL);
	GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
	size_t i;

	for (i = 0; keys && keys[i]; i++) {
		if (!g_hash_table_add(seen, keys[i]))
			cfg_warn(c, "key '%s' appears more than once in [%s]; "
				 "the last one is used", keys[i], g);
		else if (known && !cfg_in(known, keys[i]))
			cfg_warn(c, "unknown key '%s' in [%s]", keys[i], g);
	}
	g_hash_table_destroy(seen);
	if (!keys)
		keys = g_new0(char *, 1);
	return keys;
}

static bool cfg_is_provider(const char *g)
{
	return strcmp(g, "provider") == 0 || strncmp(g, "provider ", 9) == 0;
}

/* cfg_groups - check every group's keys; read the provider groups */
static const struct {
	const char *name;
	const char *const *keys;
} cfg_fixed[] = {
	{ "bounced", cfg_keys_bounced },
	{ "classify", cfg_keys_classify },
	{ "notify", cfg_keys_notify },
	{ "rrd", cfg_keys_rrd },
	{ "unsubscribe", cfg_keys_unsubscribe },
	{ "metrics", cfg_keys_metrics },
	{ "fbl", cfg_keys_fbl },
};

/* cfg_distance - edit distance of A and B (insertions, deletions,
   substitutions), at most CFG_LOOKALIKE_MAX + 1 */
#define CFG_LOOKALIKE_MAX 2
static size_t cfg_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[65], prev, tmp;

	if (la > 64 || lb > 64)
		return CFG_LOOKALIKE_MAX + 1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t best = prev + (g_ascii_tolower(a[i - 1]) !=
					      g_ascii_tolower(b[j - 1]));

			tmp = row[j];
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

/* cfg_lookalike - the known key of one of the NULL-ended LISTS that K
   resembles (a misspelling), or NULL */
static const char *cfg_lookalike(const char *k,
				 const char *const *const *lists)
{
	const char *best = NULL;
	size_t d, bestd = CFG_LOOKALIKE_MAX + 1, i;

	for (i = 0; lists[i]; i++) {
		const char *const *l;

		for (l = lists[i]; *l; l++) {
			if (strcmp(*l, k) == 0)
				return NULL;	/* known after all */
			d = cfg_distance(k, *l);
			/* one edit for short names, two from 6 letters */
			if (d < bestd && d <= (strlen(*l) >= 6 ? 2u : 1u)) {
				bestd = d;
				best = *l;
			}
		}
	}
	return best;
}

/* cfg_lookalikes - a key that is not known but looks like one is a
   misspelling whose setting would silently stay at its default: refused,
   before anything else is checked, so it is the first error said */
static int cfg_lookalikes(struct cfg_ctx *c)
{
	static const char *const *const provider_keys[] = {
		cfg_keys_common, cfg_keys_mailwizz, cfg_keys_interspire,
		cfg_keys_webhook, NULL
	};
	char **groups = g_key_file_get_groups(c->kf, NULL);
	size_t i, j;
	int rc = 0;

	for (i = 0; rc == 0 && groups[i]; i++) {
		const char *const *fixed[2] = { NULL, NULL };
		const char *const *const *lists = fixed;
		char **keys;

		for (j = 0; j < G_N_ELEMENTS(cfg_fixed); j++)
			if (strcmp(groups[i], cfg_fixed[j].name) == 0)
				fixed[0] = cfg_fixed[j].keys;
		if (cfg_is_provider(groups[i]))
			lists = provider_keys;
		else if (!fixed[0])
			continue;
		keys = g_key_file_get_keys(c->kf, groups[i], NULL, NULL);
		for (j = 0; rc == 0 && keys && keys[j]; j++) {
			const char *like = cfg_lookalike(keys[j], lists);

			if (like)
				rc = cfg_fail(c, "[%s] unknown key '%s': did you "
					      "mean '%s'? (a misspelt key "
					      "would leave '%s' at its "
					      "default)", groups[i], keys[j],
					      like, like);
		}
		g_strfreev(keys);
	}
	g_strfreev(groups);
	return rc;
}

static int cfg_groups(struct cfg_ctx *c)
{
	struct config *cfg = c->cfg;
	char **groups = g_key_file_get_groups(c->kf, NULL);
	size_t i, j, np = 0;
	int rc = -1;

	for (i = 0; groups[i]; i++)
		np += cfg_is_provider(groups[i]);
	if (np > CFG_MAX_PROVIDERS) {
		cfg_fail(c, "%zu provider groups: at most %d are supported", np,
			 CFG_MAX_PROVIDERS);
		goto out;
	}
	cfg->providers = np ? g_new0(struct config_provider, np) : NULL;
	for (i = 0; groups[i]; i++) {
		const char *g = groups[i];
		char **keys;
		bool known = false;
		int prc;

		for (j = 0; j < G_N_ELEMENTS(cfg_fixed); j++) {
			if (strcmp(g, cfg_fixed[j].name) == 0) {
				g_strfreev(cfg_group_keys(c, g,
							  cfg_fixed[j].keys));
				known = true;
			}
		}
		if (known)
			continue;
		if (!cfg_is_provider(g)) {
			cfg_warn(c, "unknown group [%s]", g);
			continue;
		}
		keys = cfg_group_keys(c, g, NULL);
		prc = cfg_provider(c, g, g[8] ? g + 9 : "", keys,
				   &cfg->providers[cfg->n_providers]);
		cfg->n_providers++;	/* freed with the rest on failure */
		g_strfreev(keys);
		if (prc != 0)
			goto out;
	}
	rc = 0;
out:
	g_strfreev(groups);
	return rc;
}

/* cfg_secret_where - the first secret set, or NULL; *GROUP and *NAME say
   where ("unsubscribe", "" or "provider ", its name) */
static const char *cfg_secret_where(const struct config *cfg,
				    const char **group, const char **name)
{
	size_t i, at, n;

	*name = "";
	if (cfg->unsub_secret) {
		*group = "unsubscribe";
		return "secret";
	}
	if (cfg->notify_password) {
		*group = "notify";
		return "password";
	}
	if (url_password(cfg->notify_smtp, &at, &n)) {
		*group = "notify";
		return "the password in smtp";
	}
	*group = "provider ";
	for (i = 0; i < cfg->n_providers; i++) {
		const struct config_provider *p = &cfg->providers[i];

		*name = p->name;
		if (url_password(p->endpoint, &at, &n))
			return "the password in endpoint";
		if (url_password(p->url, &at, &n))
			return "the password in url";
		if (p->private_key)
			return "private-key";
		if (p->api_key)
			return "api-key";
		if (p->usertoken)
			return "usertoken";
		if (p->secret)
			return "secret";
	}
	return NULL;
}

/* cfg_check_mode - a file holding secrets should be closed to others */
static void cfg_check_mode(struct cfg_ctx *c)
{
	const char *group = NULL, *name = NULL;
	const char *key = cfg_secret_where(c->cfg, &group, &name);

	if (key && (c->mode & 077))
		cfg_warn(c, "holds secrets (%s in [%s%s]) and is open to group "
			 "or others (mode %04o); run: chmod 600 %s", key,
			 group, name,
			 (unsigned)(c->mode & 07777), c->file);
}

/* cfg_read - load the file into c->kf (size and type checked first) */
static int cfg_read(struct cfg_ctx *c)
{
	GError *gerr = NULL;
	struct stat st;
	int rc = -1;

	if (stat(c->file, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			return cfg_fail(c, "cannot read: not a regular file");
		if (st.st_size > CFG_MAX_FILE)
			return cfg_fail(c, "cannot read: %lld bytes, at most "
					"%d", (long long)st.st_size,
					CFG_MAX_FILE);
		c->mode = st.st_mode;
	}
	if (!g_key_file_load_from_file(c->kf, c->file, G_KEY_FILE_NONE,
				       &gerr)) {
		bool parse = gerr->domain == G_KEY_FILE_ERROR;

		cfg_fail(c, "cannot read: %s%s", gerr->message,
			 parse ? " (comments start with '#' on a line of "
				 "their own)" : "");
		goto out;
	}
	rc = 0;
out:
	if (gerr)
		g_error_free(gerr);
	return rc;
}

/* config_load - embedded defaults, then PATH if given */
int config_load(const char *path, struct config **out, GPtrArray *warnings,
		char *err, size_t errlen)
{
	struct cfg_ctx c = { 0 };
	int rc = -1;

	*out = NULL;
	if (err && errlen > 0)
		err[0] = '\0';
	c.file = path ? path : "(embedded defaults)";
	c.cfg = cfg_defaults();
	c.warnings = warnings;
	c.err = err;
	c.errlen = errlen;
	if (path) {
		c.cfg->path = g_strdup(path);
		c.kf = g_key_file_new();
		if (cfg_read(&c) != 0 || cfg_lookalikes(&c) != 0 ||
		    cfg_groups(&c) != 0 ||
		    cfg_bounced(&c) != 0 || cfg_classify(&c) != 0 ||
		    cfg_notify(&c) != 0 || cfg_unsubscribe(&c) != 0 ||
		    cfg_metrics(&c) != 0 || cfg_fbl(&c) != 0)
			goto out;
	}
	if (cfg_rrd(&c) != 0)
		goto out;
	if (path)
		cfg_check_mode(&c);
	rc = 0;
out:
	if (c.kf)
		g_key_file_free(c.kf);
	if (rc == 0)
		*out = c.cfg;
	else
		config_free(c.cfg);
	return rc;
}

/* config_provider_release - the strings of one provider */
static void config_provider_release(struct config_provider *p)
{
	g_free(p->name);
	g_free(p->endpoint);
	g_free(p->public_key);
	if (p->private_key)
		explicit_bzero(p->private_key, strlen(p->private_key));
	g_free(p->private_key);
	if (p->api_key)
		explicit_bzero(p->api_key, strlen(p->api_key));
	g_free(p->api_key);
	g_free(p->username);
	if (p->usertoken)
		explicit_bzero(p->usertoken, strlen(p->usertoken));
	g_free(p->usertoken);
	g_free(p->url);
	if (p->secret)
		explicit_bzero(p->secret, strlen(p->secret));
	g_free(p->secret);
	g_strfreev(p->senders);
	g_free(p->job_prefix);
	g_free(p->list_id);
	g_free(p->ca_file);
}

/* config_free - everything config_load allocated; NULL is fine */
void config_free(struct config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	g_free(cfg->path);
	g_free(cfg->spool);
	g_free(cfg->state);
	g_free(cfg->log);
	g_strfreev(cfg->acct_fields);
	g_strfreev(cfg->acct_ignore);
	g_strfreev(cfg->hard_categories);
	g_strfreev(cfg->soft_categories);
	g_strfreev(cfg->ignore_categories);
	g_strfreev(cfg->complaint_types);
	for (i = 0; i < cfg->n_providers; i++)
		config_provider_release(&cfg->providers[i]);
	g_free(cfg->providers);
	g_free(cfg->notify_smtp);
	g_free(cfg->notify_from);
	g_strfreev(cfg->notify_to);
	g_free(cfg->notify_username);
	if (cfg->notify_password)
		explicit_bzero(cfg->notify_password,
			       strlen(cfg->notify_password));
	g_free(cfg->notify_password);
	g_free(cfg->notify_ca_file);
	g_free(cfg->notify_web_url);
	g_free(cfg->rrd_file);
	g_free(cfg->unsub_addresses);
	if (cfg->unsub_secret)
		explicit_bzero(cfg->unsub_secret, strlen(cfg->unsub_secret));
	g_free(cfg->unsub_secret);
	g_free(cfg->metrics_textfile);
	g_strfreev(cfg->fbl_senders);
	g_free(cfg);
}

/* config_path_pick - -c value, else ENV, else DEFAULT_PATH if it exists */
const char *config_path_pick(const char *cli_path, const char *env,
			     const char *default_path)
{
	struct stat sb;

	if (cli_path)
		return cli_path;
	if (env && *env)
		return env;
	/* a dangling link, an unreadable file or a directory that may not
	   be searched is still "there": reading it then says what is wrong
	   rather than the defaults hiding it */
	if (!default_path)
		return NULL;
	if (lstat(default_path, &sb) == 0 ||
	    (errno != ENOENT && errno != ENOTDIR))
		return default_path;
	return NULL;
}

/* config_path_from_env - -c value, else $BOUNCED_CONFIG, else the
   default file when it exists, else NULL */
const char *config_path_from_env(const char *cli_path)
{
	return config_path_pick(cli_path, getenv("BOUNCED_CONFIG"),
				BOUNCED_CONFIG_DEFAULT);
}

/* cfg_parse_dur - digits and a unit into ms (MS) or seconds */
static int cfg_parse_dur(const char *s, bool ms, int64_t *out)
{
	static const struct {
		const char *unit;
		int64_t sec;
	} units[] = {
		{ "", 1 }, { "s", 1 }, { "m", CFG_MIN }, { "h", CFG_HOUR },
		{ "d", CFG_DAY }, { "w", 7 * CFG_DAY },
	};
	int64_t v = 0, mult;
	size_t i;

	if (!s || *s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		int d = *s - '0';

		if (v > (INT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (ms && strcmp(s, "ms") == 0) {
		*out = v;
		return 0;
	}
	for (i = 0; i < G_N_ELEMENTS(units); i++) {
		if (strcmp(s, units[i].unit) != 0)
			continue;
		mult = units[i].sec * (ms ? 1000 : 1);
		if (v > INT64_MAX / mult)
			return -1;
		*out = v * mult;
		return 0;
	}
	return -1;
}

/* config_parse_duration - "90", "90s", "5m", "2h", "3d", "1w" -> seconds */
int config_parse_duration(const char *s, int64_t *seconds)
{
	return cfg_parse_dur(s, false, seconds);
}

/* config_parse_duration_ms - as above, also "250ms"; milliseconds */
int config_parse_duration_ms(const char *s, int64_t *ms)
{
	return cfg_parse_dur(s, true, ms);
}

/* config_format_duration - seconds in the largest exact unit */
void config_format_duration(int64_t seconds, char *buf, size_t len)
{
	static const struct {
		char unit;
		int64_t sec;
	} units[] = {
		{ 'w', 7 * CFG_DAY }, { 'd', CFG_DAY }, { 'h', CFG_HOUR },
		{ 'm', CFG_MIN },
	};
	size_t i;

	if (!buf || len == 0)
		return;
	for (i = 0; seconds > 0 && i < G_N_ELEMENTS(units); i++) {
		if (seconds % units[i].sec == 0) {
			snprintf(buf, len, "%lld%c",
				 (long long)(seconds / units[i].sec),
				 units[i].unit);
			return;
		}
	}
	snprintf(buf, len, "%llds", (long long)seconds);
}
