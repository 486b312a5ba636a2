/*
 * config_notify.c - the [notify] group (the operator's mail: server,
 * addresses, mode, TLS) and the [unsubscribe] group (the address forms
 * compiled at load, so that a bad one stops the start, not the first
 * mail).
 */
#include <string.h>

#include <glib.h>

#include "config_ini.h"
#include "notify.h"
#include "unsub_addr.h"
#include "url_check.h"

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
	/* libcurl's parser takes more than the sender does (an IDN host,
	   non-ASCII bytes, a path past 1024 bytes): what the sender
	   refuses, the configuration refuses, else every mail fails */
	if (cfg->notify_smtp && !notify_smtp_url_ok(cfg->notify_smtp))
		return cfg_fail(c, "[notify] smtp = '%s': expected an smtp:// "
				"or smtps:// URL of printable ASCII (a host "
				"name in its xn-- form), at most 1024 bytes",
				cfg_show(cfg->notify_smtp, buf, sizeof(buf)));
	/* the composer's own rule: what it refuses, the configuration
	   refuses (else every mail fails, at send time, for good) */
	if (cfg->notify_from && !notify_addr_ok(cfg->notify_from))
		return cfg_fail(c, "[notify] from = '%s': expected an address "
				"like bounced@example.com, in ASCII (a domain "
				"in its xn-- form)",
				cfg_show(cfg->notify_from, buf, sizeof(buf)));
	for (t = cfg->notify_to; t && *t; t++)
		if (!notify_addr_ok(*t))
			return cfg_fail(c, "[notify] to: '%s' is not an address "
					"like postmaster@example.com, in ASCII "
					"(a domain in its xn-- form)",
					cfg_show(*t, buf, sizeof(buf)));
	if (cfg->notify_to && g_strv_length(cfg->notify_to) > NOTIFY_MAX_RCPTS)
		return cfg_fail(c, "[notify] to: at most %d recipients",
				NOTIFY_MAX_RCPTS);
	if (cfg->notify_web_url &&
	    cfg_url_bad(c, "notify", "web-url", cfg->notify_web_url,
			cfg_http_schemes, "an http:// or https:// URL") != 0)
		return -1;
	if (cfg->notify_web_url && *cfg->notify_web_url &&
	    !notify_web_url_ok(cfg->notify_web_url))
		return cfg_fail(c, "[notify] web-url = '%s': expected an "
				"http:// or https:// URL of printable ASCII "
				"without quotes, braces, '|', '^' or '`' "
				"(percent-encode them), at most 1024 bytes",
				cfg_show(cfg->notify_web_url, buf,
					 sizeof(buf)));
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
int cfg_notify(struct cfg_ctx *c)
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
int cfg_unsubscribe(struct cfg_ctx *c)
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
	if (n && strcmp(cfg->unsub_secret, "****") == 0) {
		/* the mask check-config prints, pasted: a signing key
		   everyone knows would let anyone unsubscribe anyone */
		cfg_fail(c, "[%s] secret is '****', the mask check-config "
			 "prints: write the real secret here", g);
		goto fail;
	}
	if (n && (n < UNSUB_SECRET_MIN || n > UNSUB_SECRET_MAX)) {
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

