/*
 * config_ini.c - the typed readers of the configuration's INI keys
 * (config_ini.h): strings, paths, numbers, durations, booleans, lists,
 * URLs and choices, each refusing control characters and over-long values
 * and failing with one line that names file, group, key and value; and
 * the duration syntax of every file ("90", "5m", "250ms", "3d", "1w").
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "config_ini.h"
#include "log.h"
#include "url_check.h"

/* cfg_warn - one warning "config FILE: ..." into the array, or logged */
void __attribute__((format(printf, 2, 3)))
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
int __attribute__((format(printf, 2, 3)))
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
const char *cfg_show(const char *v, char *buf, size_t len)
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

bool cfg_in(const char *const *list, const char *s)
{
	for (; list && *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

/* cfg_raw - the trimmed value of GROUP/KEY in *OUT (NULL when absent) */
int cfg_raw(struct cfg_ctx *c, const char *group, const char *key,
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
void cfg_comment_check(struct cfg_ctx *c, const char *group,
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
int cfg_string(struct cfg_ctx *c, const char *group, const char *key,
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
int cfg_path(struct cfg_ctx *c, const char *group, const char *key,
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
int cfg_int(struct cfg_ctx *c, const char *group, const char *key,
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
int cfg_duration(struct cfg_ctx *c, const char *group, const char *key,
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
int cfg_bool(struct cfg_ctx *c, const char *group, const char *key,
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
char **cfg_split(const char *v, bool lower, const char **why)
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
int cfg_list(struct cfg_ctx *c, const char *group, const char *key,
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

const char *const cfg_http_schemes[] = { "http", "https", NULL };
const char *const cfg_smtp_schemes[] = { "smtp", "smtps", NULL };

/* cfg_url_pw_mask - warn when the password of URL is the check-config
   mask */
void cfg_url_pw_mask(struct cfg_ctx *c, const char *group,
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
int cfg_url_bad(struct cfg_ctx *c, const char *group, const char *key,
		       const char *v, const char *const *schemes,
		       const char *what)
{
	char buf[CFG_SHOW_MAX + 4], why[600];
	int rc = url_check(v, schemes, why, sizeof(why));

	if (rc == 0) {
		cfg_url_pw_mask(c, group, key, v);
		return 0;
	}
	if (rc == -ENOSYS)	/* no libcurl to check it with */
		return cfg_fail(c, "[%s] %s: %s", group, key, why);
	return cfg_fail(c, "[%s] %s = '%s': %s; expected %s", group, key,
			cfg_show(v, buf, sizeof(buf)), why, what);
}

/* cfg_url - a required http(s) URL */
int cfg_url(struct cfg_ctx *c, const char *group, const char *key,
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
int cfg_require(struct cfg_ctx *c, const char *group, const char *key,
		       const char *why, const char *v)
{
	if (v && *v)
		return 0;
	return cfg_fail(c, "[%s] %s is required%s", group, key, why);
}

/* cfg_unused - warn about a key the provider's settings do not use */
void cfg_unused(struct cfg_ctx *c, const char *group, const char *key,
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


/* cfg_choice - one of NAMES (any case) into *OUT as its index; absent
   or empty keeps *OUT */
int cfg_choice(struct cfg_ctx *c, const char *g, const char *key,
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

