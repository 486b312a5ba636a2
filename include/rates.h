/*
 * rates.h - the reputation monitor's live counts: deliveries, hard, soft
 * and sender-side bounces and complaints per campaign, destination,
 * source and sender, over sliding windows, and the [alerts] rules judged
 * on them record by record.
 *
 * Each name of a dimension keeps a ring of per-minute counts (the last
 * RATES_MINUTES minutes) and a ring of per-hour counts (the last hours up
 * to the longest rule), and a running sum per rule window, so that a
 * record costs a table lookup and a few additions per dimension, and a
 * delivery in a name's newest minute (most records) judges only the rules
 * whose verdict it may change: after each judge the name keeps, per rule,
 * the deliveries from which deliveries alone could raise it (the volume
 * reaching the minimum) or clear it (alert_next_deliveries).  A rule
 * over an hour or less is judged on minutes; a longer one on whole hours,
 * the current one included (a 24h rule sums between 23 and 24 hours).
 *
 * Times are the records' own, never the clock: replaying files gives the
 * same alerts at the same records.  "Now" is the latest record time seen.
 *
 * Names are bounded: at most TOP names of a dimension are admitted per
 * day (first come); the rest of that day's records of the dimension count
 * under RATES_OTHER.  A name idle for longer than every window, with no
 * alert up, is forgotten (rates_advance).
 *
 * The counts of the records are also kept as pending deltas per name and
 * minute for rates_store.c to add into LMDB; rates_store.c gives the
 * windows and the alerts up back after a restart (rates_restore_*).
 */
#ifndef BOUNCED_RATES_H
#define BOUNCED_RATES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert_rules.h"

#define RATES_NAME_MAX 64
#define RATES_OTHER "(other)"
#define RATES_TOP_DEFAULT 200
#define RATES_MINUTES 60
#define RATES_CAUSES_TOP 3

/* the counters of a bucket, in this order on disk too */
enum rates_counter {
	RATES_C_DELIVERIES = 0,
	RATES_C_HARD,
	RATES_C_SOFT,
	RATES_C_SENDER,
	RATES_C_COMPLAINTS,
	RATES_COUNTERS,
};

enum rates_what {
	RATES_DELIVERY = 0,
	RATES_HARD,
	RATES_SOFT,
	RATES_COMPLAINT,
};

struct rates_record {
	int64_t time;		/* the record's own time; <= 0 not counted */
	enum rates_what what;
	bool sender_side;	/* a bounce with a sender-side cause */
	/* the record's name in each dimension; NULL or "": not counted
	   there.  Longer than RATES_NAME_MAX: cut; bytes outside printable
	   ASCII become '?'. */
	const char *names[ALERT_DIMENSIONS];
	const char *cause;	/* bounce category or feedback type */
	uint8_t cause_ix;	/* the bounce's cat_ix (event.h), 0: none */
	const char *where;	/* the record's file, for alerts */
	uint64_t line;
};

struct rates_params {
	unsigned top;		/* names per dimension per day */
};

struct rates_cause {
	char what[32];
	uint64_t n;
};

/* an alert raised or cleared by a record (or by time passing) */
struct rates_transition {
	bool raised;
	size_t rule;		/* index into the rules given to rates_new */
	enum alert_dimension dim;
	char name[RATES_NAME_MAX + 1];
	double rate;
	uint64_t volume;
	struct alert_counts counts;	/* of the rule's window */
	int64_t time;		/* the record's (or the time passed to) */
	char where[256];	/* the record that crossed; "" for time */
	uint64_t line;
	/* the commonest causes (bounce categories, "complaint") of the
	   name's last two hours */
	struct rates_cause causes[RATES_CAUSES_TOP];
	size_t ncauses;
};

/* a name's counts of one minute, to be added into the store */
struct rates_delta {
	enum alert_dimension dim;
	const char *name;
	int64_t minute;		/* Unix time / 60 */
	uint32_t c[RATES_COUNTERS];
};

struct rates;

/*
 * rates_new - a monitor judging RULES (NRULES, copied); NULL only when
 * memory runs out.  P NULL: the defaults.
 */
struct rates *rates_new(const struct rates_params *p,
			const struct alert_rule *rules, size_t nrules);
void rates_free(struct rates *r);

/* rates_add - count REC in each of its dimensions and judge the rules */
void rates_add(struct rates *r, const struct rates_record *rec);

/*
 * rates_advance - let time pass to NOW (when records stop): alerts whose
 * windows drained are cleared, idle names forgotten.  Call it with no
 * pending deltas (after rates_store_flush) so that none points to a
 * forgotten name.
 */
void rates_advance(struct rates *r, int64_t now);

/* rates_hours - the hour slots each name keeps (the longest rule, at
   least 24) */
int64_t rates_hours(const struct rates *r);

/* rates_now - the latest record time seen (0: none) */
int64_t rates_now(const struct rates *r);

/* the transitions since the last rates_transitions_clear() */
size_t rates_transitions(const struct rates *r,
			 const struct rates_transition **t);
void rates_transitions_clear(struct rates *r);

/* the pending deltas since the last rates_pending_clear() */
size_t rates_pending(const struct rates *r, const struct rates_delta **d);
void rates_pending_clear(struct rates *r);

struct bigarr;
/* rates_pending_swap - the pending deltas into A (an array of struct
   rates_delta, emptied of what it held), whose memory R takes for the
   deltas to come (rates_pending_clear done) */
void rates_pending_swap(struct rates *r, struct bigarr *a);

/* rates_rules - the rules, as given to rates_new */
const struct alert_rule *rates_rules(const struct rates *r, size_t *n);

/*
 * rates_window - the counts of NAME of DIM over the last SECONDS (rounded
 * as the rules are: minutes up to an hour, whole hours beyond, within
 * what the rings hold); false when the name is not known.
 */
bool rates_window(struct rates *r, enum alert_dimension dim,
		  const char *name, int64_t seconds, struct alert_counts *c);

/* rates_raised - whether RULE's alert is up for NAME */
bool rates_raised(const struct rates *r, size_t rule, const char *name);

/* rates_foreach - call CB for every known name of DIM (any order) */
typedef void (*rates_name_cb)(const char *name, void *arg);
void rates_foreach(const struct rates *r, enum alert_dimension dim,
		   rates_name_cb cb, void *arg);

/* --- restoring after a restart (rates_store.c) --- */

/* rates_restore_now - the latest time of the store: first, before the
   buckets */
void rates_restore_now(struct rates *r, int64_t now);

/* rates_restore_counts - C of NAME in the minute (HOUR false) or hour
   bucket starting at Unix time START; buckets out of the rings' reach
   are ignored.  NAME counts as admitted on START's day. */
void rates_restore_counts(struct rates *r, enum alert_dimension dim,
			  const char *name, int64_t start, bool hour,
			  const uint32_t c[RATES_COUNTERS]);
/* rates_restore_alert - RULE's alert is up for NAME (it was before) */
void rates_restore_alert(struct rates *r, size_t rule, const char *name);

/* rates_name_clean - NAME as counted: cut, unprintable bytes as '?'
   (OUT has RATES_NAME_MAX + 1 bytes); false for an empty name */
bool rates_name_clean(const char *name, char *out);

#endif
