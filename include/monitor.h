/*
 * monitor.h - what bounced watches beside each recipient: sender-side
 * incidents per source and destination (incident_detect.h,
 * incident_store.h) and rates per campaign, destination, source and
 * sender with their alerts (rates.h, rates_store.h).
 *
 * Ingest feeds it every classified record in reading order
 * (monitor_feed), which tells whether a hard bounce is to be held by an
 * incident; when it applies a batch it asks whether a soft bounce fell
 * inside an incident (monitor_in_incident: such a bounce never counts
 * toward escalation), and in the same write transaction calls
 * monitor_commit, which stores the counts, the incidents and the held
 * bounces, applies what closed incidents held (through a hook), and hands
 * the incident and alert transitions to the hooks (log, digest, webhook).
 *
 * Record times only, never the clock: a replay of the same files gives
 * the same incidents and alerts at the same records.
 */
#ifndef BOUNCED_MONITOR_H
#define BOUNCED_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert_rules.h"
#include "event.h"
#include "incident_detect.h"
#include "incident_store.h"
#include "rates.h"
#include "state.h"

struct monitor_params {
	bool incidents;			/* [incidents] enabled */
	struct incident_params ip;	/* window, min-recipients ... */
	bool hold_hard;			/* [incidents] hold-hard */
	int64_t keep;			/* seconds closed incidents still
					   discount soft bounces (the soft
					   window) */
	const char *domain_groups;	/* NULL: DOMAIN_GROUPS_DEFAULT */
	char **sender_categories;	/* NULL-terminated, lower case */
	bool rates;			/* the rate monitor */
	const char *alerts;		/* NULL: ALERT_RULES_DEFAULT */
	unsigned rates_top;
};

/* what the monitor tells its users (every hook may be NULL) */
struct monitor_hooks {
	/* an incident opened (OPENED true) or closed, as stored */
	void (*incident)(const struct incident *inc, bool opened, void *arg);
	/* an alert raised or cleared */
	void (*alert)(const struct rates_transition *t,
		      const struct alert_rule *rule, void *arg);
	/* apply a held hard bounce now (its incident closed; a bounce of an
	   address delivered to while the incident was open was dropped
	   then); 0 or -errno
	   (the commit fails: -ENOSPC grows the map and replays) */
	int (*release)(MDB_txn *txn, const struct incident_held *h,
		       void *arg);
	/* a held hard bounce not applied: a delivery to its address
	   dropped it, or the operator discarded incident ID (of the source
	   of hash SRC, covering from FROM) while it was held; its address
	   keeps it (held_drop.h), so that it applies nothing when read
	   again; 0 or -errno (the commit fails) */
	int (*drop)(MDB_txn *txn, const struct incident_held *h, uint64_t id,
		    uint32_t src, int64_t from, void *arg);
	/* the event of REF, a hold bound by monitor_hold_bind: set, a hard
	   bounce held is kept as the caller's reference to its event until
	   the next seal, and encoded then only if still held (most holds
	   are released before: nothing of them is copied); NULL, each hold
	   is encoded as it is fed */
	const struct event *(*hold_event)(const void *ref, void *arg);
	void *arg;
};

struct monitor;

/*
 * monitor_new - a monitor with P (copied, the strings parsed); 0, or
 * -EINVAL with ERR naming what is wrong in the domain groups or the alert
 * rules.
 */
int monitor_new(struct monitor **out, const struct monitor_params *p,
		const struct monitor_hooks *hooks, char *err, size_t errlen);
void monitor_free(struct monitor *m);

/* monitor_load - the windows, alerts and incidents of ST (a restart):
   before the first record is fed */
int monitor_load(struct monitor *m, struct state *st, MDB_txn *txn);

/* monitor_sender_side - whether bounce EV has a sender-side cause: its
   category in sender-categories, or an enhanced status 5.7.x / 4.7.x */
bool monitor_sender_side(const struct monitor *m, const struct event *ev);

/* monitor_dest - the destination (domain group) of address ADDR, as
   incidents name it; NULL when it has none, or one of INCIDENT_KEY_MAX
   bytes or more (the rates count those too) */
const char *monitor_dest(struct monitor *m, const char *addr);

/* monitor_source - the source of EV: its dlvSourceIp, else its vmta;
   NULL when it has neither, or one of INCIDENT_KEY_MAX bytes or more */
const char *monitor_source(const struct event *ev);

/* monitor_source_hash - the 32-bit hash of a source kept with each soft
   bounce (0 for none) */
uint32_t monitor_source_hash(const char *source);

/*
 * monitor_feed - count EV (classified) in the rates and the incident
 * detector.  Returns the id of the open incident that holds EV when EV is
 * a hard bounce of a source and destination in an incident (and
 * hold-hard is on), else 0.
 */
uint64_t monitor_feed(struct monitor *m, const struct event *ev);

/*
 * monitor_feed_again - EV read again: a record the state took before from
 * the same file (bounced process --reprocess, up to the offset committed
 * before), which monitor_feed had then.  Not counted in the rates, not
 * fed to the incident detector (it opens and closes no incident) nor to
 * the clock; but held as monitor_feed holds it when it is a hard bounce
 * of the pair of an open incident (a hold of its address counted once),
 * and, a delivery, it drops the holds of its address as monitor_feed
 * does: an incident holds what it held when the records were first read.
 * Returns as monitor_feed.
 */
uint64_t monitor_feed_again(struct monitor *m, const struct event *ev);

/*
 * monitor_hold_bind - with hooks->hold_event, after a monitor_feed that
 * held EV: REF names the copy of EV the caller keeps (hooks->hold_event
 * gives it back) until the next monitor_seal or monitor_hold_keep; NULL
 * (the caller kept none) encodes EV now.  Nothing when the feed held
 * nothing.
 */
void monitor_hold_bind(struct monitor *m, const struct event *ev,
		       const void *ref);

/* monitor_hold_keep - the holds bound to references encoded now: the
   caller is about to drop what they refer to (monitor_seal does it too) */
void monitor_hold_keep(struct monitor *m);

/*
 * monitor_released - the hard bounces the incidents closed by the last
 * monitor_feed held (none delivered to while it was open), in address
 * order: the caller applies them right after that record, so that a held
 * bounce takes its place in reading order whatever the batches.  Valid
 * until the next feed.
 */
struct monitor_release {
	uint64_t id;			/* the incident */
	uint32_t src_hash;		/* of its source */
	const void *ref;		/* the hold's reference (monitor_hold_bind),
					   or NULL: */
	const void *rec;		/* the held bounce, encoded: */
	size_t len;			/* incident_held_decode */
};
size_t monitor_released(const struct monitor *m,
			const struct monitor_release **out);

/*
 * monitor_in_incident - whether a bounce at T from the source of hash
 * SRC to address ADDR fell inside an incident (open, or closed within
 * the keep time), from its first bounce to its close.
 */
bool monitor_in_incident(struct monitor *m, uint32_t src, const char *addr,
			 int64_t t);

/*
 * monitor_hold - store EV (a hard bounce monitor_feed said incident ID
 * holds) in TXN; 0 or -errno.
 */
int monitor_hold(struct monitor *m, struct state *st, MDB_txn *txn,
		 uint64_t id, const struct event *ev);

/*
 * monitor_commit - in TXN: the rates' counts and alerts, the incidents
 * opened, changed and closed since the last commit, the bounces of closed
 * incidents applied (hooks->release) or dropped (delivered since, or
 * discarded: hooks->drop); then
 * the hooks hear of the transitions.  0 or -errno; on failure nothing is
 * forgotten: the caller aborts, (grows the map,) and calls it again.
 */
int monitor_commit(struct monitor *m, struct state *st, MDB_txn *txn);

/*
 * monitor_committed - the transaction of the last monitor_commit was
 * committed: the transitions are reported to the hooks and forgotten.
 */
void monitor_committed(struct monitor *m);

/*
 * A commit made in another thread than the feed's: monitor_seal (in the
 * feeding thread; with no commit in flight, or, for the input's last
 * batch, one whose seal is the one before) takes what was fed since the
 * last seal into a seal of its own, and the spans of the incidents known
 * then (copied: a seal holds nothing of the live monitor);
 * the writing thread calls monitor_seal_commit (again after an aborted
 * try) and monitor_seal_in_incident, which touch the seal only; once the
 * transaction is over the feeding thread calls monitor_seal_done, which
 * tells the hooks when it was committed, and frees the seal; two seals
 * are done in the order they were taken.
 * monitor_commit / monitor_committed do the same in one thread.
 */
struct monitor_seal;
struct monitor_seal *monitor_seal(struct monitor *m);
int monitor_seal_commit(struct monitor_seal *s, struct state *st,
			MDB_txn *txn);
/* monitor_seal_refresh - the spans of S's incidents the monitor has open,
   as the state has them now: one the operator released or discarded
   (bouncectl incident) while a worker ran ends where they ended it, for
   every record of the batch (the monitor learns it at this commit).
   Called by the writing thread before the batch is applied; 0 or
   -errno */
int monitor_seal_refresh(struct monitor_seal *s, struct state *st,
			 MDB_txn *txn);
/* monitor_seal_in_incident - monitor_in_incident as the monitor knew it
   when the record it returned generation GEN for (monitor_gen) was read:
   so that a soft bounce is judged the same wherever its batch ends */
bool monitor_seal_in_incident(const struct monitor_seal *s, uint32_t src,
			      const char *addr, int64_t t, uint64_t gen);
void monitor_seal_done(struct monitor *m, struct monitor_seal *s,
		       bool committed);
void monitor_seal_free(struct monitor_seal *s);

/* monitor_advance - time passes to NOW (no record for a while): quiet
   incidents close and drained alerts clear at the next commit */
void monitor_advance(struct monitor *m, int64_t now);

/* monitor_gen - how many incidents opened or closed in this run: an
   event takes the value after it was fed */
uint64_t monitor_gen(const struct monitor *m);

/* monitor_now - the newest record time fed (or advanced to) */
int64_t monitor_now(const struct monitor *m);

/* monitor_rates - the rate monitor (NULL when off), for views */
struct rates *monitor_rates(struct monitor *m);

/* monitor_open_incidents - how many incidents are open now */
size_t monitor_open_incidents(const struct monitor *m);

#endif
