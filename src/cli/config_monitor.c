/*
 * config_monitor.c - the [incidents], [alerts] and [rates] groups: when a
 * run of sender-side bounces at one destination is an incident, what it
 * protects, the destination groups, the alert rules, and how many names
 * the rate monitor keeps.  Domain groups and alert rules are compiled at
 * load, so that a bad one stops the start.
 */
#include <string.h>

#include <glib.h>

#include "alert_rules.h"
#include "config_ini.h"
#include "domain_group.h"
#include "incident_detect.h"

void cfg_monitor_defaults(struct config *cfg)
{
	cfg->incidents = true;
	cfg->incident_window = 30 * CFG_MIN;
	cfg->incident_min_recipients = 10;
	cfg->incident_min_share = 0.2;
	cfg->incident_quiet = 2 * CFG_HOUR;
	cfg->incident_hold_hard = true;
	cfg->domain_groups = NULL;
	cfg->alert_rules = NULL;
	cfg->rates = true;
	cfg->rates_top = 200;
}

void cfg_monitor_free(struct config *cfg)
{
	g_free(cfg->domain_groups);
	g_free(cfg->alert_rules);
}

/* cfg_share - "20%" or "0.2" into *DST (0..1); absent keeps it */
static int cfg_share(struct cfg_ctx *c, const char *g, const char *key,
		     double *dst)
{
	char buf[CFG_SHOW_MAX + 4];
	char *v = NULL, *end;
	double d;

	if (cfg_raw(c, g, key, &v) != 0)
		return -1;
	if (!v)
		return 0;
	/* digits and a point only: no sign, exponent or hex, which strtod
	   would take */
	d = v[strspn(v, "0123456789.%")] ? -1.0 : g_ascii_strtod(v, &end);
	if (d < 0.0)
		end = v;
	if (end != v && *end == '%') {
		d /= 100.0;
		end++;
	}
	if (end == v || *end || !(d >= 0.0) || d > 1.0) {
		cfg_fail(c, "[%s] %s = '%s': expected a share such as 20%% "
			 "or 0.2 (0 to 1)", g, key,
			 cfg_show(v, buf, sizeof(buf)));
		g_free(v);
		return -1;
	}
	*dst = d;
	g_free(v);
	return 0;
}

int cfg_incidents(struct cfg_ctx *c)
{
	struct config *cfg = c->cfg;
	const char *g = "incidents";
	long long n = cfg->incident_min_recipients;
	struct domain_groups *dg = NULL;
	char err[512];

	if (cfg_bool(c, g, "enabled", &cfg->incidents) != 0 ||
	    cfg_duration(c, g, "window", false, CFG_MIN, CFG_DAY,
			 &cfg->incident_window) != 0 ||
	    /* no more than the detector keeps of one pair */
	    cfg_int(c, g, "min-recipients", 2, INCIDENT_RCPTS_MAX, &n) != 0 ||
	    cfg_share(c, g, "min-share", &cfg->incident_min_share) != 0 ||
	    cfg_duration(c, g, "quiet", false, CFG_MIN, 7 * CFG_DAY,
			 &cfg->incident_quiet) != 0 ||
	    cfg_bool(c, g, "hold-hard", &cfg->incident_hold_hard) != 0 ||
	    cfg_string(c, g, "domain-groups", false,
		       &cfg->domain_groups) != 0)
		return -1;
	cfg->incident_min_recipients = (uint32_t)n;
	if (cfg->domain_groups &&
	    domain_groups_parse(cfg->domain_groups, &dg, err,
				sizeof(err)) != 0)
		return cfg_fail(c, "[%s] domain-groups: %s", g, err);
	domain_groups_free(dg);
	return 0;
}

int cfg_alerts(struct cfg_ctx *c)
{
	struct alert_rule rules[ALERT_RULES_MAX];
	char *v = NULL, err[512];
	size_t n, i;

	if (cfg_raw(c, "alerts", "rules", &v) != 0)
		return -1;
	if (!v)
		return 0;
	if (alert_rules_parse(v, rules, &n, err, sizeof(err)) != 0) {
		g_free(v);
		return cfg_fail(c, "[alerts] rules: %s", err);
	}
	for (i = 0; i < n; i++) {
		/* the windows are whole minutes up to an hour, whole hours
		   beyond (rates.c): what falls between is rounded up */
		int64_t o = rules[i].over, unit = o > 3600 ? 3600 : 60;

		if (o % unit)
			cfg_warn(c, "[alerts] rules: '%s': a window of %llds is "
				 "counted as %lld%s (up to an hour whole "
				 "minutes, beyond whole hours)", rules[i].text,
				 (long long)o, (long long)((o + unit - 1) / unit),
				 unit == 60 ? "m" : "h");
	}
	g_free(c->cfg->alert_rules);
	c->cfg->alert_rules = v;
	return 0;
}

int cfg_rates(struct cfg_ctx *c)
{
	long long n = c->cfg->rates_top;

	if (cfg_bool(c, "rates", "enabled", &c->cfg->rates) != 0 ||
	    cfg_int(c, "rates", "top", 10, 100000, &n) != 0)
		return -1;
	c->cfg->rates_top = (uint32_t)n;
	return 0;
}
