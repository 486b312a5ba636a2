/*
 * dispatch_priv.h - what the dispatcher's files share: the dispatcher, a
 * transfer under way, and the result of a finished action.
 *
 * dispatch.c runs the step on its loop timer (start what the schedule
 * says is due, commit what finished, arm the timer for what comes next),
 * dispatch_sched.c keeps that schedule in memory (the outbox's keys per
 * provider), dispatch_xfer.c owns the curl easy handles (options, pool,
 * body cap, judging an answer when the shared multi handle says a transfer
 * ended), dispatch_commit.c writes the results of a step in one
 * transaction and logs and counts them.
 *
 * The schedule learns of new outbox keys from the outbox journal (what
 * outbox_enqueue and outbox_revive add) and of the step's own moves from
 * its results (dispatch_sched_settle: PROVIDER_CONTINUE keeps the key,
 * PROVIDER_RETRY moves it to due_ms, anything else not DONE or FAILED is
 * kept).  A result kind that moves an action elsewhere in the outbox must
 * be taught to dispatch_sched_settle().
 */
#ifndef BOUNCED_DISPATCH_PRIV_H
#define BOUNCED_DISPATCH_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>
#include <glib.h>

#include "action.h"
#include "config.h"
#include "dispatch.h"
#include "http_xfer.h"
#include "loop.h"
#include "multi.h"
#include "provider.h"
#include "state.h"

#define DISPATCH_BODY_MAX HTTP_BODY_MAX	/* bytes of an answer kept */
#define DISPATCH_ERR_MAX 256

/* one configured provider as the dispatcher sees it */
struct dispatch_prov {
	struct provider *p;
	const struct config_provider *cfg;	/* borrowed from the config */
	unsigned in_flight;			/* transfers under way */
	struct dispatch_counts counts;
	GPtrArray *idle;			/* CURL * kept for reuse */
	/* paused: the provider refused our credentials, keys or clock;
	   nothing starts but one probe action a minute */
	int64_t paused_ms;			/* since (wall ms), 0 = not */
	int64_t resumed_ms;			/* its last pause ended (wall
						   ms; 0: none known) */
	int64_t probe_ms;			/* next probe may start */
	int64_t probe_every_ms;			/* BOUNCED_PROBE_MS (tests);
						   0: the provider's */
	char pause_why[256];
	/* the action refused last (it began the pause, or a probe of it
	   was refused): refused again once the provider accepted others
	   and resumed, it is refused for itself (its data, a filter in
	   front of the provider), not for the credentials */
	uint64_t pauser;
	/* what this step's results do to the pause (dispatch_notice.c) */
	uint8_t step_pause;			/* enum dispatch_pause_change */
	uint64_t step_pauser;			/* its first refused action */
	char step_why[256];
};

enum dispatch_pause_change {
	DISPATCH_PAUSE_KEEP = 0,
	DISPATCH_PAUSE_START,
	DISPATCH_PAUSE_END,
};

/* a paused provider is probed this often (and at once after a reload) */
#define DISPATCH_PROBE_MS 60000

/* one transfer under way */
struct dispatch_xfer {
	struct dispatch *d;
	struct http_xfer h;		/* handle, request, answer */
	unsigned prov;			/* index into dispatch.provs */
	struct action orig;		/* as read: its outbox key */
	struct action a;		/* as built (the provider may change it) */
};

/* a campaign's details asked for (dispatch_campaign) */
struct dispatch_lookup {
	struct dispatch *d;
	struct http_xfer h;
	unsigned prov;
	provider_campaign_fn *fn;
	void *arg;
};

/* what became of one action in this step */
struct dispatch_result {
	unsigned prov;
	enum provider_result res;
	struct action orig;		/* the outbox key (due_ms, id) */
	struct action a;		/* as the provider left it */
	GArray *spawn;			/* struct action; NULL = none */
	long status;			/* HTTP status, 0 = no answer */
	int64_t retry_after_ms;		/* Retry-After, 0 = none */
	/* filled by dispatch_commit before the transaction */
	int64_t due_ms;			/* RETRY: when to try again */
	bool expired;			/* RETRY: past max-age, to the dead table */
	bool rotate;			/* PAUSE of a probe: moved behind the
					   others (to due_ms), so that the next
					   probe is another action */
	char err[DISPATCH_ERR_MAX];	/* RETRY/FAILED: why */
	char why[DISPATCH_ERR_MAX + 64]; /* dead: the last_error stored */
};

struct dispatch {
	const struct config *cfg;	/* borrowed */
	struct state *st;		/* borrowed */
	struct loop *loop;		/* borrowed */
	struct multi *multi;		/* borrowed: the transfers run there */
	struct loop_timer *timer;	/* runs the steps */
	struct loop_timer *sync_timer;	/* syncs lazy results when idle */
	dispatch_step_fn *on_step;	/* the caller's, after each step */
	void *on_step_arg;
	long conns;			/* connections asked of the multi */
	struct dispatch_prov *provs;
	unsigned n_provs;
	GHashTable *by_name;		/* provider name -> index + 1 */
	GHashTable *in_flight;		/* &xfer->orig.id -> xfer */
	GPtrArray *lookups;		/* struct dispatch_lookup * under way */
	GHashTable *warned;		/* unknown provider names warned of */
	GArray *results;		/* struct dispatch_result of this step */
	struct dispatch_sched *sched;	/* due work in memory */
	bool stopped;
	bool unsynced;			/* lazy commits not yet on disk */
	int64_t synced_ms;		/* last state_sync() */
	/* the step's results could not be written: kept, written again at
	   HOLD_UNTIL_MS (wall clock), nothing started meanwhile; HOLD_MS
	   the wait, doubled per failure, 0 when the last commit passed */
	int64_t hold_until_ms, hold_ms;
};

/* results that cannot be written are tried again after this, doubled per
   failure up to the maximum */
#define DISPATCH_HOLD_MIN_MS 1000
#define DISPATCH_HOLD_MAX_MS 30000

/* results are committed lazily and synced at most this far apart */
#define DISPATCH_SYNC_MS 1000

/* dispatch_sync - state_sync() after lazy commits (dispatch_commit.c) */
void dispatch_sync(struct dispatch *d);
/* dispatch_sync_due - the sync timer (a loop_timer_fn): dispatch_sync */
void dispatch_sync_due(struct loop *l, void *arg);

/* dispatch_now_ms - the wall clock in ms */
int64_t dispatch_now_ms(void);

/* dispatch_prov_of - the index of provider NAME, or -1 (warned once)
   (dispatch.c) */
int dispatch_prov_of(struct dispatch *d, const char *name);

/* dispatch_sched.c: an outbox key in the schedule */
struct dispatch_sched_key {
	int64_t due_ms;
	uint64_t id;
};
/* dispatch_sched_new - an empty schedule for N providers */
struct dispatch_sched *dispatch_sched_new(unsigned n);
void dispatch_sched_free(struct dispatch_sched *s);
/* dispatch_sched_refresh - built from the outbox on first use, then the
   journal's news; in D's read transaction TXN; 0 or -errno */
int dispatch_sched_refresh(struct dispatch *d, MDB_txn *txn);
/* dispatch_sched_peek - provider PROV's earliest key; false: none */
bool dispatch_sched_peek(const struct dispatch *d, unsigned prov,
			 struct dispatch_sched_key *k);
/* dispatch_sched_pop - drop provider PROV's earliest key */
void dispatch_sched_pop(struct dispatch *d, unsigned prov);
/* dispatch_sched_add - (DUE_MS, ID) of provider PROV into the schedule */
void dispatch_sched_add(struct dispatch *d, unsigned prov, int64_t due_ms,
			uint64_t id);
/* dispatch_sched_settle - the step's results into the schedule after
   dispatch_commit() returned COMMIT_RC */
void dispatch_sched_settle(struct dispatch *d, int commit_rc);
/* dispatch_sched_stranded - actions seen of providers not configured */
uint64_t dispatch_sched_stranded(const struct dispatch *d);
/* dispatch_sched_prune - the journal read so far, deleted (at most once a
   second; a lazy commit); 0 or -errno */
int dispatch_sched_prune(struct dispatch *d, int64_t now_ms);

/* dispatch_xfer.c */
/* dispatch_xfer_start - send REQ for A (as built; ORIG as read) of provider
   PROV; REQ's body passes to the transfer.  0, or -1 with ERR */
int dispatch_xfer_start(struct dispatch *d, unsigned prov,
			const struct action *orig, const struct action *a,
			struct http_req *req, char *err, size_t errlen);
/* (a finished transfer is judged into d->results, and the dispatcher
   kicked, by the multi handle's callback in dispatch_xfer.c) */
/* dispatch_xfer_abort_all - drop every transfer under way, campaign
   lookups too (dispatch_free) */
void dispatch_xfer_abort_all(struct dispatch *d);
/* dispatch_pool_free - the idle easy handles of DP */
void dispatch_pool_free(struct dispatch_prov *dp);

/* dispatch_commit.c */
/* dispatch_result_add - append a result for ORIG/A (SPAWN passes to it) */
struct dispatch_result *dispatch_result_add(struct dispatch *d, unsigned prov,
					    const struct action *orig,
					    const struct action *a,
					    enum provider_result res,
					    const char *err);
/* dispatch_results_clear - free the step's results */
void dispatch_results_clear(struct dispatch *d);
/* dispatch_commit - write the step's results in one transaction (growing
   the map when full), then log and count them; 0 or -errno */
int dispatch_commit(struct dispatch *d);
/* dispatch_probe_ms - how often paused provider DP is probed (dispatch.c) */
int64_t dispatch_probe_ms(const struct dispatch_prov *dp);
/* dispatch_startable - may an action of provider DP start at NOW_MS (a
   free slot; a paused provider only for its probe)?  Starting one when
   paused schedules the next probe (dispatch.c) */
bool dispatch_startable(struct dispatch_prov *dp, int64_t now_ms);
/* dispatch_type_label - "MailWizz", "Interspire", "webhook" */
const char *dispatch_type_label(const struct dispatch_prov *dp);

/* dispatch_notice.c */
/* dispatch_pause_plan - what the step's results do to each provider's
   pause (before the transaction) */
void dispatch_pause_plan(struct dispatch *d);
/* dispatch_pause_write - the pause records and the operator's mail items
   of the step, in TXN; 0 or -errno */
int dispatch_pause_write(struct dispatch *d, MDB_txn *txn, int64_t now_ms);
/* dispatch_pause_report - after the commit: the pauses in memory, logged */
void dispatch_pause_report(struct dispatch *d, int64_t now_ms);
/* dispatch_notice_write - A's notice on its recipient record and in the
   operator's mail, in TXN; 0 or -errno */
int dispatch_notice_write(struct dispatch *d, MDB_txn *txn,
			  const struct action *a, int64_t now_s);
/* dispatch_notice_report - A's notice into the log, after the commit */
void dispatch_notice_report(const struct dispatch *d,
			    const struct dispatch_result *r);
/* dispatch_resolve - the address a provider found behind a "uid:" key's
   complaint (A->resolved) gets the complaint, and its actions; in TXN */
int dispatch_resolve(struct dispatch *d, MDB_txn *txn, const struct action *a,
		     int64_t now_s);

#endif
