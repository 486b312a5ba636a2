/*
 * rates_store.h - the reputation monitor's counts and alerts in LMDB.
 *
 * Table "rates": key GRAN DIM START NAME, with GRAN 'm' (a minute), 'h'
 * (an hour) or 'd' (a day), DIM '0'+alert_dimension, START the bucket's
 * first second (8 bytes big-endian, so buckets sort by time) and NAME the
 * name as counted (no NUL); value the RATES_COUNTERS counters as u64
 * little-endian.  Every record is added to its minute, hour and day; the
 * roll-up is the pruning: minutes are kept a day, hours RATES_KEEP_HOURS,
 * days RATES_KEEP_DAYS.  Table "alerts": key RULE TEXT, NUL, DIM, NAME for
 * each alert up; value the time it was raised, its rate and its volume.
 * Meta "rates.now": the latest record time counted.
 */
#ifndef BOUNCED_RATES_STORE_H
#define BOUNCED_RATES_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "rates.h"
#include "state.h"

#define RATES_KEEP_MINUTES 86400		/* seconds of minute buckets */
#define RATES_KEEP_HOURS (31 * 86400)		/* of hour buckets */
#define RATES_KEEP_DAYS ((int64_t)400 * 86400)	/* of day buckets */

/*
 * rates_store_flush - add R's pending deltas into TXN, record the alerts
 * of R's transitions (up or down), and prune what is past keeping (at
 * most once per ten minutes of record time).  The deltas and transitions
 * stay: once TXN is committed the caller clears them
 * (rates_pending_clear, rates_transitions_clear); when it is aborted it
 * may flush them again.  0 or -errno.
 */
int rates_store_flush(struct state *st, MDB_txn *txn, struct rates *r);

/* what rates_store_flush writes, taken apart from a struct rates (a
   commit made in another thread from a copy) */
struct rates_flush {
	const struct alert_rule *rules;
	size_t nrules;
	const struct rates_delta *d;
	size_t nd;
	const struct rates_transition *t;
	size_t nt;
	int64_t now;			/* the latest record time */
};

/* rates_store_flush_parts - rates_store_flush of F's parts */
int rates_store_flush_parts(struct state *st, MDB_txn *txn,
			    const struct rates_flush *f);

/*
 * rates_store_load - give R the windows and the alerts up of the store
 * (after a restart).  Alerts of rules no longer configured are dropped
 * from the table when TXN is a write transaction.  0 or -errno.
 */
int rates_store_load(struct state *st, MDB_txn *txn, struct rates *r);

/* rates_store_now - the latest record time counted (0: none) */
int64_t rates_store_now(struct state *st, MDB_txn *txn);

/* rates_store_gran - the finest granularity ('m', 'h', 'd') still kept
   for a bucket starting at SINCE, the latest time being NOW */
char rates_store_gran(int64_t since, int64_t now);

/*
 * rates_store_walk - call CB for every bucket of GRAN and DIM starting in
 * [SINCE, UNTIL), in time order; CB returns 0 to go on.  A read-only state
 * written before the table existed walks nothing.  0, CB's value, or
 * -errno.
 */
typedef int (*rates_store_cb)(const char *name, int64_t start,
			      const uint64_t c[RATES_COUNTERS], void *arg);
int rates_store_walk(struct state *st, MDB_txn *txn, char gran,
		     enum alert_dimension dim, int64_t since, int64_t until,
		     rates_store_cb cb, void *arg);

/* an alert up, as stored */
struct rates_store_alert {
	char rule[160];
	enum alert_dimension dim;
	char name[RATES_NAME_MAX + 1];
	int64_t since;
	double rate;
	uint64_t volume;
};
typedef int (*rates_store_alert_cb)(const struct rates_store_alert *a,
				    void *arg);
/* rates_store_alerts - call CB for every alert up; 0, CB's value or
   -errno */
int rates_store_alerts(struct state *st, MDB_txn *txn,
		       rates_store_alert_cb cb, void *arg);

#endif
