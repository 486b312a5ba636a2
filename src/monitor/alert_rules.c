/*
 * alert_rules.c - [alerts] rules (alert_rules.h): parsing, rates and the
 * raise/clear decision.  Pure functions, no allocation.
 *
 * Error policy: parse errors name the rule and what is wrong.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "alert_rules.h"
#include "errmsg.h"
#include "config.h"

static const char *const ar_metrics[] = {
	"complaint-rate", "bounce-rate", "soft-rate", "sender-rate",
};

static const char *const ar_dims[ALERT_DIMENSIONS] = {
	"campaign", "destination", "source", "sender",
};

const char *alert_metric_name(enum alert_metric m)
{
	return (unsigned)m < G_N_ELEMENTS(ar_metrics) ? ar_metrics[m] : "?";
}

const char *alert_dimension_name(enum alert_dimension d)
{
	return (unsigned)d < ALERT_DIMENSIONS ? ar_dims[d] : "?";
}

int alert_dimension_parse(const char *s)
{
	int i;

	for (i = 0; s && i < ALERT_DIMENSIONS; i++)
		if (g_ascii_strcasecmp(s, ar_dims[i]) == 0)
			return i;
	return -1;
}

/* ar_threshold - "0.3%" or "0.003" into *OUT (a fraction in (0, 1]) */
static int ar_threshold(const char *s, double *out)
{
	char *end;
	double v = g_ascii_strtod(s, &end);

	if (end == s)
		return -1;
	if (*end == '%') {
		v /= 100.0;
		end++;
	}
	if (*end || !(v > 0.0) || v > 1.0)
		return -1;
	*out = v;
	return 0;
}

/* ar_volume - a whole number */
static int ar_volume(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!g_ascii_isdigit(*s))
		return -1;
	v = g_ascii_strtoull(s, &end, 10);
	if (*end || v > 1000000000000ULL)
		return -1;
	*out = v;
	return 0;
}

/* ar_rule - one rule TEXT into R; 0 or -EINVAL */
static int ar_rule(const char *text, struct alert_rule *r, char *err,
		   size_t errlen)
{
	char **w = g_strsplit_set(text, " \t", 0);
	char *tok[16];
	size_t n = 0, i;
	int rc = -EINVAL, m = -1, d;
	int64_t over;

	for (i = 0; w[i] && n < G_N_ELEMENTS(tok); i++)
		if (*w[i])
			tok[n++] = w[i];
	memset(r, 0, sizeof(*r));
	g_strlcpy(r->text, text, sizeof(r->text));
	if (n != 7 && n != 9)
		goto bad;
	for (i = 0; i < G_N_ELEMENTS(ar_metrics); i++)
		if (g_ascii_strcasecmp(tok[0], ar_metrics[i]) == 0)
			m = (int)i;
	if (m < 0) {
		errmsg(err, errlen, "alert '%.80s': '%s' is not a metric "
		       "(complaint-rate, bounce-rate, soft-rate, sender-rate)",
		       text, tok[0]);
		goto out;
	}
	r->metric = (enum alert_metric)m;
	if (strcmp(tok[1], ">") != 0 && strcmp(tok[1], ">=") != 0)
		goto bad;
	r->or_equal = tok[1][1] == '=';
	if (ar_threshold(tok[2], &r->threshold) != 0) {
		errmsg(err, errlen, "alert '%.80s': '%s' is not a rate such "
		       "as 0.3%% or 0.003", text, tok[2]);
		goto out;
	}
	if (g_ascii_strcasecmp(tok[3], "over") != 0 ||
	    g_ascii_strcasecmp(tok[5], "per") != 0)
		goto bad;
	if (config_parse_duration(tok[4], &over) != 0 || over < 60 ||
	    over > 7 * 86400) {
		errmsg(err, errlen, "alert '%.80s': '%s' is not a duration "
		       "from 1m to 7d", text, tok[4]);
		goto out;
	}
	r->over = over;
	d = alert_dimension_parse(tok[6]);
	if (d < 0) {
		errmsg(err, errlen, "alert '%.80s': '%s' is not campaign, "
		       "destination, source or sender", text, tok[6]);
		goto out;
	}
	r->dim = (enum alert_dimension)d;
	if (n == 9 && (g_ascii_strcasecmp(tok[7], "min") != 0 ||
		       ar_volume(tok[8], &r->min_volume) != 0))
		goto bad;
	rc = 0;
	goto out;
bad:
	errmsg(err, errlen, "alert '%.80s': expected METRIC > RATE over "
	       "DURATION per DIMENSION [min VOLUME], such as "
	       "'complaint-rate > 0.3%% over 24h per destination min 1000'",
	       text);
out:
	g_strfreev(w);
	return rc;
}

int alert_rules_parse(const char *spec, struct alert_rule *rules, size_t *n,
		      char *err, size_t errlen)
{
	char **parts = g_strsplit(spec ? spec : ALERT_RULES_DEFAULT, ";", 0);
	size_t i;
	int rc = 0;

	*n = 0;
	for (i = 0; parts[i] && rc == 0; i++) {
		g_strstrip(parts[i]);
		if (!*parts[i])
			continue;
		if (*n >= ALERT_RULES_MAX) {
			rc = errmsg_rc(-EINVAL, err, errlen, "more than %d "
				       "alert rules", ALERT_RULES_MAX);
			break;
		}
		rc = ar_rule(parts[i], &rules[*n], err, errlen);
		if (rc == 0)
			(*n)++;
	}
	g_strfreev(parts);
	if (rc)
		*n = 0;
	return rc;
}

void alert_parts(const struct alert_rule *rule, const struct alert_counts *c,
		 uint64_t *num, uint64_t *den)
{
	alert_metric_parts(rule->metric, c, num, den);
}

void alert_metric_parts(enum alert_metric m, const struct alert_counts *c,
			uint64_t *num, uint64_t *den)
{
	uint64_t attempts = c->deliveries + c->hard + c->soft;

	switch (m) {
	case ALERT_COMPLAINT_RATE:
		*num = c->complaints;
		*den = c->deliveries;
		break;
	case ALERT_BOUNCE_RATE:
		*num = c->hard;
		*den = attempts;
		break;
	case ALERT_SOFT_RATE:
		*num = c->soft;
		*den = attempts;
		break;
	default:
		*num = c->sender;
		*den = attempts;
		break;
	}
}

double alert_rate(const struct alert_rule *rule, const struct alert_counts *c,
		  uint64_t *volume)
{
	uint64_t num, den;

	alert_parts(rule, c, &num, &den);
	if (volume)
		*volume = den;
	return den ? (double)num / (double)den : 0.0;
}

bool alert_judge(const struct alert_rule *rule, const struct alert_counts *c,
		 bool raised)
{
	uint64_t volume;
	double rate = alert_rate(rule, c, &volume);
	bool over = rule->or_equal ? rate >= rule->threshold :
				     rate > rule->threshold;

	if (volume < rule->min_volume || volume == 0)
		return false;
	if (!raised)
		return over;
	return rate >= rule->threshold * ALERT_CLEAR_FRACTION;
}

uint64_t alert_next_deliveries(const struct alert_rule *rule,
			       const struct alert_counts *c, bool raised)
{
	uint64_t volume, num, base, least, den;
	double est;

	alert_parts(rule, c, &num, &volume);
	/* the part of the volume that deliveries do not make */
	base = volume - c->deliveries;
	if (!raised) {
		/* the rate only falls as deliveries come: it can rise only
		   when the volume reaches the minimum */
		least = rule->min_volume ? rule->min_volume : 1;
		return volume >= least ? UINT64_MAX : least - base;
	}
	/* up: cleared once the rate falls below the clearing line, at a
	   volume of about NUM / line; judged from a little before it */
	est = (double)num / (rule->threshold * ALERT_CLEAR_FRACTION);
	if (!(est < 4e18))
		return UINT64_MAX;
	est = est * (1.0 - 1e-9) - 2.0;
	den = est > (double)(volume + 1) ? (uint64_t)est : volume + 1;
	return den - base;
}
