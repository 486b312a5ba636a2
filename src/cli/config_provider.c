/*
 * config_provider.c - the [provider NAME] groups: the type, the keys of
 * each type (MailWizz, Interspire, webhook) and the common ones, a name
 * check, and the release of a provider's strings (secrets wiped).
 */
#include <string.h>

#include <glib.h>

#include "config_ini.h"

/* cfg_class_action - none | unsubscribe | bounce | both; with SOFT only
   none | bounce (a soft bounce never unsubscribes) */
static int cfg_class_action(struct cfg_ctx *c, const char *g, const char *key,
			    bool soft, int *out)
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
			if (soft && (i & ACT_UNSUBSCRIBE)) {
				/* as it acted: its bounce part, if any (a
				   configuration that ran stays valid) */
				*out = i & ACT_BOUNCE;
				cfg_warn(c, "[%s] %s = '%s': a soft bounce "
					 "never unsubscribes: taken as %s", g,
					 key, names[i],
					 *out ? "bounce" : "none");
			} else {
				*out = i;
			}
			g_free(v);
			return 0;
		}
	cfg_fail(c, "[%s] %s = '%s': expected %s", g, key,
		 cfg_show(v, buf, sizeof(buf)),
		 soft ? "bounce or none" : "none, unsubscribe, bounce or both");
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
	    cfg_class_action(c, g, "hard-action", false, &p->hard_action) != 0 ||
	    cfg_class_action(c, g, "soft-action", true, &p->soft_action) != 0)
		return -1;
	/* an empty job-prefix is a value: jobId is the campaign uid itself */
	if (g_key_file_has_key(c->kf, g, "job-prefix", NULL)) {
		char *jp;

		if (cfg_raw(c, g, "job-prefix", &jp) != 0)
			return -1;
		cfg_comment_check(c, g, "job-prefix", jp);
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
	static const char *const kinds[] = { "suppressions", "incidents",
					     "alerts", NULL };
	char **ev = NULL, **e;
	char buf[CFG_SHOW_MAX + 4];
	unsigned mask = 0;
	int i;

	if (cfg_url(c, g, "url", &p->url) != 0 ||
	    cfg_string(c, g, "secret", true, &p->secret) != 0 ||
	    cfg_list(c, g, "events", true, true, false, &ev) != 0)
		return -1;
	if (!ev) {
		p->events = WEBHOOK_EVENTS_ALL;
		return 0;
	}
	for (e = ev; *e; e++) {
		for (i = 0; kinds[i] && strcmp(*e, kinds[i]) != 0; i++)
			;
		if (!kinds[i]) {
			cfg_fail(c, "[%s] events: '%s' is not suppressions, "
				 "incidents or alerts", g,
				 cfg_show(*e, buf, sizeof(buf)));
			g_strfreev(ev);
			return -1;
		}
		mask |= 1u << i;
	}
	g_strfreev(ev);
	p->events = mask;
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
int cfg_provider(struct cfg_ctx *c, const char *g, const char *name,
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
	if (g_ascii_strcasecmp(name, "dry-run") == 0) {
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


/* cfg_provider_release - the strings of one provider */
void cfg_provider_release(struct config_provider *p)
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

