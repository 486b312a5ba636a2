/*
 * config_classify.c - the [classify] and [fbl] groups: which bounce
 * categories are hard, soft or ignored, which feedback types are
 * complaints, the escalation of soft bounces, the rules that give a DSN
 * text its category, the categories that are the sender's trouble, and
 * the senders of our mail for telling feedback reports apart.
 */
#include <string.h>

#include <glib.h>

#include "classify_override.h"
#include "config_ini.h"

static const char cfg_default_hard[] =
	"bad-mailbox;bad-domain;routing-errors;inactive-mailbox";
static const char cfg_default_soft[] =
	"bad-configuration;bad-connection;content-related;invalid-sender;"
	"policy-related;quota-issues;spam-related;virus-related";
/* abuse only: fraud (phishing) and virus reports are about a mail that
   may only have forged our domain, a filter's verdict at that; their
   recipient complained of nothing (docs/FBL.md) */
static const char cfg_default_complaint[] = "abuse";
static const char cfg_default_sender[] =
	"policy-related;spam-related;content-related;invalid-sender;"
	"bad-configuration;bad-connection;virus-related;relaying-issues;"
	"protocol-errors";

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

void cfg_classify_defaults(struct config *cfg)
{
	const char *why;

	cfg->hard_categories = cfg_split(cfg_default_hard, true, &why);
	cfg->soft_categories = cfg_split(cfg_default_soft, true, &why);
	cfg->ignore_categories = cfg_split("", true, &why);
	cfg->complaint_types = cfg_split(cfg_default_complaint, true, &why);
	cfg->sender_categories = cfg_split(cfg_default_sender, true, &why);
	cfg->no_escalate_categories = cfg_split("invalid-sender", true, &why);
	cfg->classify_rules = NULL;	/* CLASSIFY_RULES_DEFAULT */
	cfg->soft_threshold = 5;
	cfg->soft_min_span = 3 * CFG_DAY;
	cfg->soft_window = 30 * CFG_DAY;
}

/* cfg_classify_rules - [classify] rules, checked by compiling them */
static int cfg_classify_rules(struct cfg_ctx *c)
{
	struct classify_overrides *o = NULL;
	char *v = NULL, err[512];

	if (cfg_raw(c, "classify", "rules", &v) != 0)
		return -1;
	if (!v)
		return 0;
	if (classify_overrides_parse(v, &o, err, sizeof(err)) != 0) {
		g_free(v);
		return cfg_fail(c, "[classify] rules: %s", err);
	}
	classify_overrides_free(o);
	g_free(c->cfg->classify_rules);
	c->cfg->classify_rules = v;
	return 0;
}

/* cfg_classify - the [classify] group */
int cfg_classify(struct cfg_ctx *c)
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
			 &cfg->soft_window) != 0 ||
	    cfg_list(c, g, "sender-categories", true, true, false,
		     &cfg->sender_categories) != 0 ||
	    cfg_list(c, g, "no-escalate-categories", true, true, false,
		     &cfg->no_escalate_categories) != 0 ||
	    cfg_classify_rules(c) != 0)
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


/* cfg_fbl - the [fbl] group: the senders of our mail, for telling the
   feedback reports about it from the others (docs/FBL.md) */
int cfg_fbl(struct cfg_ctx *c)
{
	return cfg_list(c, "fbl", "senders", true, true, true,
			&c->cfg->fbl_senders);
}

