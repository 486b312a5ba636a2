/*
 * alert_rules.h - [alerts] rules: rate thresholds per campaign,
 * destination, source or sender, as mailbox providers judge senders.
 *
 * A rule is written
 *     METRIC > THRESHOLD over DURATION per DIMENSION [min VOLUME]
 * with METRIC one of
 *     complaint-rate   complaints / deliveries
 *     bounce-rate      hard bounces / attempts (deliveries + bounces)
 *     soft-rate        soft bounces / attempts
 *     sender-rate      sender-side bounces / attempts
 * THRESHOLD a percentage ("0.3%") or a fraction ("0.003"), '>' or '>=',
 * DURATION a duration from 1m to 7d ("1h", "24h"), DIMENSION one of campaign,
 * destination, source, sender, and VOLUME the least denominator (the
 * deliveries, or the attempts) for the rate to mean anything.  Rules are
 * separated by ';'.  ALERT_RULES_DEFAULT holds Gmail's and Amazon SES's
 * published limits.
 *
 * An alert is raised when a rule's rate crosses its threshold with at
 * least VOLUME behind it, and cleared when the rate falls back below
 * ALERT_CLEAR_FRACTION of the threshold (so that a rate that hovers at
 * the line does not raise and clear on every record).
 */
#ifndef BOUNCED_ALERT_RULES_H
#define BOUNCED_ALERT_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ALERT_RULES_DEFAULT						\
	"complaint-rate > 0.1% over 24h per destination min 1000; "	\
	"complaint-rate > 0.3% over 24h per destination min 1000; "	\
	"bounce-rate > 5% over 1h per campaign min 500; "		\
	"bounce-rate > 10% over 1h per campaign min 500; "		\
	"complaint-rate > 0.1% over 24h per campaign min 1000; "	\
	"sender-rate > 20% over 1h per source min 200"

#define ALERT_RULES_MAX 64
#define ALERT_CLEAR_FRACTION 0.8

enum alert_metric {
	ALERT_COMPLAINT_RATE = 0,
	ALERT_BOUNCE_RATE,
	ALERT_SOFT_RATE,
	ALERT_SENDER_RATE,
};
#define ALERT_METRICS 4

enum alert_dimension {
	ALERT_BY_CAMPAIGN = 0,
	ALERT_BY_DESTINATION,
	ALERT_BY_SOURCE,
	ALERT_BY_SENDER,
	ALERT_DIMENSIONS,
};

struct alert_rule {
	enum alert_metric metric;
	enum alert_dimension dim;
	double threshold;	/* a fraction */
	bool or_equal;		/* ">=" */
	int64_t over;		/* seconds */
	uint64_t min_volume;
	char text[160];		/* as written, trimmed */
};

/* the counts a rate is computed from */
struct alert_counts {
	uint64_t deliveries, hard, soft, sender, complaints;
};

/*
 * alert_rules_parse - SPEC (NULL: the default, "": none) into RULES (at
 * most ALERT_RULES_MAX), *N set; 0, or -EINVAL with ERR naming the rule
 * and what is wrong.
 */
int alert_rules_parse(const char *spec, struct alert_rule *rules, size_t *n,
		      char *err, size_t errlen);

/* alert_parts - RULE's numerator and denominator of counts C (the
   metric's definition: complaints over deliveries, hard, soft or
   sender-side bounces over attempts) */
void alert_parts(const struct alert_rule *rule, const struct alert_counts *c,
		 uint64_t *num, uint64_t *den);
/* alert_metric_parts - alert_parts of metric M */
void alert_metric_parts(enum alert_metric m, const struct alert_counts *c,
			uint64_t *num, uint64_t *den);

/* alert_rate - RULE's metric of C: the rate (fraction) and, in *VOLUME,
   its denominator; 0 when the denominator is 0 */
double alert_rate(const struct alert_rule *rule, const struct alert_counts *c,
		  uint64_t *volume);

/*
 * alert_judge - whether an alert of RULE should be up for counts C, given
 * whether it is up now (RAISED): crossing (with the volume) raises,
 * falling below ALERT_CLEAR_FRACTION of the threshold (or the volume
 * dropping below the minimum) clears, anything between keeps.
 */
bool alert_judge(const struct alert_rule *rule, const struct alert_counts *c,
		 bool raised);

/*
 * alert_next_deliveries - for counts C just judged RAISED by alert_judge,
 * the deliveries (C's deliveries grown) below which alert_judge gives
 * RAISED again as long as only deliveries are added: the volume reaching
 * the rule's minimum may raise, the rate falling under the clearing line
 * may clear, nothing else can change.  At or above it, judge again.
 */
uint64_t alert_next_deliveries(const struct alert_rule *rule,
			       const struct alert_counts *c, bool raised);

const char *alert_metric_name(enum alert_metric m);
const char *alert_dimension_name(enum alert_dimension d);
/* alert_dimension_parse - "campaign" ... -> the dimension, or -1 */
int alert_dimension_parse(const char *s);

#endif
