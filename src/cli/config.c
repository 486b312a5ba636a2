/*
 * config.c - the effective configuration: embedded defaults, then an INI
 * file read with GLib's GKeyFile (key names: docs/CONFIG.md).  This file
 * holds the load (the file, the groups and their keys, misspelt keys,
 * secrets and the file's mode), [bounced], [rrd] and [metrics]; the
 * typed readers are config_ini.c's, the other groups are read in
 * config_classify.c, config_notify.c, config_provider.c and
 * config_monitor.c.
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
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>

#include "acct_fields.h"
#include "config_ini.h"
#include "log.h"
#include "unsub_addr.h"
#include "url_check.h"

static const char cfg_default_fields[] =
	"type,timeQueued,bounceCat,vmta,orig,rcpt,srcMta,dlvSourceIp,jobId,"
	"dsnStatus,dsnMta,dsnDiag";


/* the keys each group knows, for the unknown-key warnings */
const char *const cfg_keys_bounced[] = {
	"spool", "state", "log", "debug", "acct-fields", "batch-records",
	"batch-interval", "acct-ignore", "done-retention", "shutdown-timeout",
	"drop-max-size", NULL
};
const char *const cfg_keys_classify[] = {
	"hard-categories", "soft-categories", "ignore-categories",
	"complaint-types", "soft-threshold", "soft-min-span", "soft-window",
	"rules", "sender-categories", "no-escalate-categories", NULL
};
const char *const cfg_keys_notify[] = {
	"mode", "smtp", "from", "to", "digest-interval", "username",
	"password", "starttls", "ca-file", "timeout", "web-url", "max-items",
	NULL
};
const char *const cfg_keys_rrd[] = { "file", NULL };
const char *const cfg_keys_unsubscribe[] = {
	"addresses", "secret", NULL
};
const char *const cfg_keys_metrics[] = { "textfile", NULL };
const char *const cfg_keys_fbl[] = { "senders", NULL };
const char *const cfg_keys_common[] = {
	"type", "senders", "concurrency", "timeout", "connect-timeout",
	"ca-file", "max-age", "complaints", "lists", "retry-min", "retry-max",
	"complaint-scope", NULL
};
const char *const cfg_keys_mailwizz[] = {
	"endpoint", "api-version", "public-key", "private-key", "api-key",
	"job-prefix", "hard-action", "soft-action", "list-id",
	"complaint-action", NULL
};
const char *const cfg_keys_interspire[] = {
	"endpoint", "username", "usertoken", "list-refresh", NULL
};
const char *const cfg_keys_webhook[] = { "url", "secret", "events", NULL };
const char *const cfg_keys_incidents[] = {
	"enabled", "window", "min-recipients", "min-share", "quiet",
	"hold-hard", "domain-groups", NULL
};
const char *const cfg_keys_alerts[] = { "rules", NULL };
const char *const cfg_keys_rates[] = { "enabled", "top", NULL };


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
	cfg->batch_interval_ms = 250;
	cfg->acct_ignore = cfg_split("*.tmp;*.part", false, &why);
	cfg->done_retention = 7 * CFG_DAY;
	cfg->shutdown_timeout_ms = 10 * 1000;
	cfg->drop_max_size = 10 * 1024 * 1024;
	cfg_classify_defaults(cfg);
	cfg_monitor_defaults(cfg);
	cfg->digest_interval = 15 * CFG_MIN;
	cfg->unsub_addresses = g_strdup(UNSUB_ADDR_DEFAULT);
	cfg->notify_mode = NOTIFY_MODE_OFF;
	cfg->notify_starttls = NOTIFY_STARTTLS_TRY;
	cfg->notify_timeout = 30;
	cfg->notify_max_items = 500;
	return cfg;
}

/* cfg_acct_fields - [G] acct-fields names PowerMTA's fields, each once,
   type and rcpt among them (what the reading of a file without a header
   line asks of it) */
static int cfg_acct_fields(struct cfg_ctx *c, const char *g)
{
	struct acct_map map;
	char why[256];

	if (acct_map_from_names(&map, c->cfg->acct_fields, why,
				sizeof(why)) == 0)
		return 0;
	return cfg_fail(c, "[%s] acct-fields: %s", g, why);
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
		    &dmax) != 0 ||
	    cfg_acct_fields(c, g))
		return -1;
	cfg->batch_records = (uint32_t)n;
	cfg->drop_max_size = (uint64_t)dmax;
	return 0;
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


/* cfg_metrics - the [metrics] group */
static int cfg_metrics(struct cfg_ctx *c)
{
	return cfg_string(c, "metrics", "textfile", false,
			  &c->cfg->metrics_textfile);
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
	{ "incidents", cfg_keys_incidents },
	{ "alerts", cfg_keys_alerts },
	{ "rates", cfg_keys_rates },
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

/* cfg_known - is K one of the keys of LISTS? */
static bool cfg_known(const char *k, const char *const *const *lists)
{
	const char *const *l;
	size_t i;

	for (i = 0; lists[i]; i++)
		for (l = lists[i]; *l; l++)
			if (strcmp(*l, k) == 0)
				return true;
	return false;
}

/* cfg_home_of - the group K is a key of ("provider NAME" for a provider's
   key, PROVIDER_KEYS), or NULL */
static const char *cfg_home_of(const char *k,
			       const char *const *const *provider_keys)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cfg_fixed); i++) {
		const char *const *const lists[] = { cfg_fixed[i].keys, NULL };

		if (cfg_known(k, lists))
			return cfg_fixed[i].name;
	}
	return cfg_known(k, provider_keys) ? "provider NAME" : NULL;
}

/* cfg_group_lookalike - the known group G (not one) looks like, such as
   [Bounced] or [notfy], or "provider mw" for [providers mw]; NULL, or a
   string to be g_free'd */
static char *cfg_group_lookalike(const char *g)
{
	static const char *const provider[] = { "provider", NULL };
	static const char *const *const plist[] = { provider, NULL };
	const char *fixed[G_N_ELEMENTS(cfg_fixed) + 1];
	const char *const *const lists[] = { fixed, NULL };
	const char *blank = strchr(g, ' '), *like = NULL;
	char *low;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cfg_fixed); i++)
		fixed[i] = cfg_fixed[i].name;
	fixed[i] = NULL;
	low = g_ascii_strdown(g, blank ? blank - g : -1);
	if (blank) {
		/* "[providers mw]", "[Provider mw]" */
		if (strcmp(low, "provider") == 0 || cfg_lookalike(low, plist))
			like = "provider";
	} else {
		for (i = 0; fixed[i] && !like; i++)
			if (strcmp(low, fixed[i]) == 0)
				like = fixed[i];
		if (!like)
			like = cfg_lookalike(low, lists);
	}
	g_free(low);
	return like ? g_strconcat(like, blank, NULL) : NULL;
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
	const char *home;
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

			if (keys[j][0] == ';')
				/* "; key = value": meant as a comment */
				rc = cfg_fail(c, "[%s] a line starting with ';' "
					      "('%s = ...') is no comment: "
					      "comments start with '#'",
					      groups[i], keys[j]);
			else if (like)
				rc = cfg_fail(c, "[%s] unknown key '%s': did you "
					      "mean '%s'? (a misspelt key "
					      "would leave '%s' at its "
					      "default)", groups[i], keys[j],
					      like, like);
			else if (!cfg_known(keys[j], lists) &&
				 (home = cfg_home_of(keys[j], provider_keys)))
				rc = cfg_fail(c, "[%s] unknown key '%s': it "
					      "belongs in [%s] (here it would "
					      "be ignored, and '%s' left at "
					      "its default)", groups[i], keys[j],
					      home, keys[j]);
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
			char *like = cfg_group_lookalike(g);

			if (like) {
				cfg_fail(c, "unknown group [%s]: did you mean "
					 "[%s]? (its keys would be ignored)", g,
					 like);
				g_free(like);
				goto out;
			}
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
	if (url_password(cfg->notify_web_url, &at, &n)) {
		*group = "notify";
		return "the password in web-url";
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

/* cfg_line_of - the number of the first line of TEXT that is LINE (as
   GLib quotes it: without its line break), or 0 */
static unsigned cfg_line_of(const char *text, const char *line, size_t len)
{
	unsigned n = 1;
	const char *p = text;

	for (;;) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);

		if (l == len && memcmp(p, line, len) == 0)
			return n;
		if (l == len + 1 && p[len] == '\r' && memcmp(p, line, len) == 0)
			return n;
		if (!nl)
			return 0;
		p = nl + 1;
		n++;
	}
}

/* cfg_syntax - GLib's complaint MSG about the file's syntax.  A line it
   quotes is named by its number, not repeated: it may be a secret
   written without its '=' ("private-key 0123..."), and the message goes
   to the terminal and the log */
static int cfg_syntax(struct cfg_ctx *c, const char *msg)
{
	const char *open = strstr(msg, "\u201c"), *close = NULL;
	const gchar *text = c->text;
	unsigned line = 0;
	int rc;

	if (text && strncmp(text, "\xef\xbb\xbf", 3) == 0)
		return cfg_fail(c, "cannot read: it starts with a UTF-8 byte "
				"order mark (save it without one)");
	if (open)
		close = strstr(open + 3, "\u201d");
	if (!open || !close) {
		/* no line quoted: a group or key name, or no group first */
		return cfg_fail(c, "cannot read: %s", msg);
	}
	if (text)
		line = cfg_line_of(text, open + 3, (size_t)(close - open - 3));
	if (line)
		rc = cfg_fail(c, "cannot read: line %u is not a key = value "
			      "pair, a [group] or a comment (comments start "
			      "with '#' on a line of their own)", line);
	else
		rc = cfg_fail(c, "cannot read: a line is not a key = value "
			      "pair, a [group] or a comment (comments start "
			      "with '#' on a line of their own)");
	return rc;
}

/* cfg_read - load the file into c->kf (size and type checked first) */
static int cfg_read(struct cfg_ctx *c)
{
	GError *gerr = NULL;
	struct stat st;
	gsize len = 0;
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
	/* read once: the text checks (config_text.c) read these bytes too */
	if (!g_file_get_contents(c->file, &c->text, &len, &gerr)) {
		cfg_fail(c, "cannot read: %s", gerr->message);
		goto out;
	}
	if (len > CFG_MAX_FILE) {
		cfg_fail(c, "cannot read: %llu bytes, at most %d",
			 (unsigned long long)len, CFG_MAX_FILE);
		goto out;
	}
	if (!g_key_file_load_from_data(c->kf, c->text, len, G_KEY_FILE_NONE,
				       &gerr)) {
		if (gerr->domain == G_KEY_FILE_ERROR &&
		    gerr->code == G_KEY_FILE_ERROR_GROUP_NOT_FOUND)
			cfg_fail(c, "cannot read: a key = value pair comes "
				 "before the first [group]");
		else if (gerr->domain == G_KEY_FILE_ERROR)
			cfg_syntax(c, gerr->message);
		else
			cfg_fail(c, "cannot read: %s", gerr->message);
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
		if (cfg_read(&c) != 0)
			goto out;
		cfg_text_check(&c);
		if (cfg_lookalikes(&c) != 0 ||
		    cfg_groups(&c) != 0 ||
		    cfg_bounced(&c) != 0 || cfg_classify(&c) != 0 ||
		    cfg_notify(&c) != 0 || cfg_unsubscribe(&c) != 0 ||
		    cfg_metrics(&c) != 0 || cfg_fbl(&c) != 0 ||
		    cfg_incidents(&c) != 0 || cfg_alerts(&c) != 0 ||
		    cfg_rates(&c) != 0)
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
	g_free(c.text);
	if (rc == 0)
		*out = c.cfg;
	else
		config_free(c.cfg);
	return rc;
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
	g_strfreev(cfg->sender_categories);
	g_strfreev(cfg->no_escalate_categories);
	g_free(cfg->classify_rules);
	cfg_monitor_free(cfg);
	for (i = 0; i < cfg->n_providers; i++)
		cfg_provider_release(&cfg->providers[i]);
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

