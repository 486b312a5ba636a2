/*
 * dispatch.c - the dispatcher's step, run by its loop timer: start what
 * the outbox says is due, commit what finished, and arm the timer for
 * what comes next.
 *
 * One step (dispatch_run):
 *   1. write the results of the transfers that ended since the last step
 *      (judged by dispatch_xfer.c when the multi handle called back) and
 *      of the last step's own start in one transaction
 *      (dispatch_commit.c), and put what stays in the outbox back into the
 *      schedule: the start below sees the pauses, the free slots and the
 *      follow-up actions they made;
 *   2. in one read transaction, bring the schedule up to date (what was
 *      queued since: dispatch_sched.c) and, per provider with a free slot
 *      (in-flight < concurrency), start its actions that are due, earliest
 *      first, reading each from the outbox by its key, at most
 *      DISPATCH_STARTS_PER_STEP a step; a provider at its limit is skipped,
 *      never waited for, so one slow or failing API does not hold up the
 *      others.  Nothing is walked: a step costs what it starts, however
 *      long the outbox.  A step the provider can take without a call
 *      (build() returns 1) finishes here, as CONTINUE or DONE, written
 *      by the next step;
 *   3. arm the timer: at once when such results wait or the start bound
 *      was hit; else when the next startable action falls due, and at
 *      least every DISPATCH_LOOK_MS for what other processes queue (the
 *      journal).  A transfer that ends, and dispatch_kick(), arm it at
 *      once too.
 * Actions naming a provider the configuration no longer has stay in the
 * outbox; that is warned once per name.  After dispatch_stop() nothing new
 * starts; transfers under way finish and are committed by later steps.
 * The transfers run on the process's curl multi handle (multi.h), which
 * the loop drives: the dispatcher never waits.
 *
 * Error policy: network trouble is a result (retried or dead), never an
 * error of the step; state errors are logged and given to the caller's
 * on_step callback as -errno after the finished transfers were handled as
 * far as possible; the next step then waits DISPATCH_LOOK_MS.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "dispatch_priv.h"
#include "log.h"
#include "outbox.h"
#include "provider_pause.h"
#include "timeparse.h"

#define DISPATCH_STARTS_PER_STEP 256	/* actions started in one step */
#define DISPATCH_IDLE_MS 60000		/* next_due with nothing startable */
#define DISPATCH_LOOK_MS 1000		/* the journal is read this often */

struct dispatch_walk {
	struct dispatch *d;
	int64_t now_ms;
	unsigned started;	/* started (or finished locally) this step */
	int64_t next_due;	/* earliest startable due time, -1: none */
	bool more;		/* stopped by the start bound: step again now */
	bool waiting;		/* due actions wait (provider full, unknown) */
};

/* dispatch_now_ms - the wall clock in ms */
int64_t dispatch_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* dispatch_prov_of - the index of provider NAME, or -1 (warned once) */
int dispatch_prov_of(struct dispatch *d, const char *name)
{
	gpointer v = g_hash_table_lookup(d->by_name, name);

	if (v != NULL)
		return (int)(GPOINTER_TO_UINT(v) - 1);
	if (!g_hash_table_contains(d->warned, name)) {
		g_hash_table_add(d->warned, g_strdup(name));
		log_warn("dispatch", "actions for provider '%s' stay in the "
			 "outbox: the configuration has no [provider %s] (add "
			 "it back, or see them with bouncectl queue)", name,
			 name);
	}
	return -1;
}

/* dispatch_can_start - a slot for DP at NOW_MS (a paused provider: none
   but its probe, when due and nothing else is under way) */
static bool dispatch_can_start(const struct dispatch_prov *dp, int64_t now_ms)
{
	if (dp->paused_ms)
		return dp->in_flight == 0 && now_ms >= dp->probe_ms;
	return dp->in_flight < (unsigned)dp->cfg->concurrency;
}

int64_t dispatch_probe_ms(const struct dispatch_prov *dp)
{
	if (dp->probe_every_ms > 0)
		return dp->probe_every_ms;
	return dp->p && dp->p->ops->pause_probe_ms > 0 ?
		       dp->p->ops->pause_probe_ms : DISPATCH_PROBE_MS;
}

bool dispatch_startable(struct dispatch_prov *dp, int64_t now_ms)
{
	if (!dispatch_can_start(dp, now_ms))
		return false;
	if (dp->paused_ms)
		dp->probe_ms = now_ms + dispatch_probe_ms(dp);
	return true;
}

/* dispatch_start - build A's request and start it, or record the result
   of a step that needs no call or cannot be built */
static void dispatch_start(struct dispatch *d, unsigned prov,
			   const struct action *a, int64_t now_ms)
{
	struct provider *p = d->provs[prov].p;
	char err[DISPATCH_ERR_MAX] = "";
	struct action work = *a;
	struct http_req req;
	enum provider_result res;
	int rc;

	memset(&req, 0, sizeof(req));
	rc = p->ops->build(p, &work, now_ms / 1000, &req, err, sizeof(err));
	if (rc == 0 && dispatch_xfer_start(d, prov, a, &work, &req, err,
					   sizeof(err)) == 0)
		return;
	http_req_clear(&req);
	if (rc == 1) {
		res = work.step == PROVIDER_STEP_DONE ? PROVIDER_DONE :
							PROVIDER_CONTINUE;
		dispatch_result_add(d, prov, a, &work, res, NULL);
	} else if (rc == 0) {	/* could not start the transfer */
		dispatch_result_add(d, prov, a, &work, PROVIDER_RETRY, err);
	} else {
		dispatch_result_add(d, prov, a, &work, PROVIDER_FAILED,
				    err[0] ? err : "cannot build the request");
	}
}

/* dispatch_under_way - ID is being sent */
static bool dispatch_under_way(struct dispatch *d, uint64_t id)
{
	return g_hash_table_contains(d->in_flight, &id);
}

/* dispatch_start_prov - start provider PROV's due actions while it has
   free slots; 0 or -errno (the outbox could not be read) */
static int dispatch_start_prov(struct dispatch *d, MDB_txn *txn,
			       unsigned prov, struct dispatch_walk *w)
{
	struct dispatch_prov *dp = &d->provs[prov];
	struct dispatch_sched_key k;
	struct action a;
	int rc;

	while (dispatch_sched_peek(d, prov, &k)) {
		if (dispatch_under_way(d, k.id)) {
			dispatch_sched_pop(d, prov);	/* a copy */
			continue;
		}
		if (k.due_ms > w->now_ms) {
			if (w->next_due < 0 || k.due_ms < w->next_due)
				w->next_due = k.due_ms;
			return 0;
		}
		if (!dispatch_can_start(dp, dispatch_now_ms())) {
			w->waiting = true;	/* full, or paused */
			return 0;
		}
		if (w->started >= DISPATCH_STARTS_PER_STEP) {
			w->more = true;
			return 0;
		}
		rc = outbox_get(d->st, txn, k.due_ms, k.id, &a);
		if (rc == -ENOENT) {		/* finished, or removed */
			dispatch_sched_pop(d, prov);
			continue;
		}
		if (rc == -EINVAL || rc == -EPROTO) {
			log_warn("dispatch", "action %llu (due %lld) does not "
				 "decode (%s): left in the outbox, not sent",
				 (unsigned long long)k.id, (long long)k.due_ms,
				 state_strerror(rc));
			dispatch_sched_pop(d, prov);
			continue;
		}
		if (rc)
			return rc;
		dispatch_sched_pop(d, prov);
		(void)dispatch_startable(dp, dispatch_now_ms());
		dispatch_start(d, prov, &a, w->now_ms);
		w->started++;
	}
	return 0;
}

/* dispatch_walk - bring the schedule up to date in a read transaction and
   start what is due (see dispatch_start_prov) */
static int dispatch_walk(struct dispatch *d, struct dispatch_walk *w)
{
	MDB_txn *txn = NULL;
	unsigned i;
	int rc;

	rc = state_begin(d->st, false, &txn);
	if (rc) {
		log_error("dispatch", "cannot read the outbox: %s",
			  state_strerror(rc));
		return rc;
	}
	rc = dispatch_sched_refresh(d, txn);
	for (i = 0; rc == 0 && i < d->n_provs; i++)
		rc = dispatch_start_prov(d, txn, i, w);
	state_abort(txn);
	if (dispatch_sched_stranded(d) > 0)
		w->waiting = true;
	if (rc)
		log_error("dispatch", "cannot read the outbox: %s",
			  state_strerror(rc));
	return rc;
}

/* dispatch_arm - when the next step runs (RC: this step's state error,
   if any) */
static void dispatch_arm(struct dispatch *d, const struct dispatch_walk *w,
			 int rc)
{
	int64_t in = DISPATCH_LOOK_MS, now;

	if (rc == 0 && (w->more || d->results->len > 0)) {
		loop_timer_at(d->timer, 0);	/* work waits: no sleeping */
		return;
	}
	if (d->stopped) {
		loop_timer_at(d->timer, -1);	/* transfers that end kick it */
		return;
	}
	now = dispatch_now_ms();
	if (rc == 0 && w->next_due >= 0 && w->next_due - now < in)
		in = w->next_due > now ? w->next_due - now : 0;
	loop_timer_at(d->timer, in);
}

/* dispatch_held - the step's results wait for the state to take them
   (dispatch_hold): a step that falls due before, kicked by a transfer
   that ended, waits for the hold's end; true when it must */
static bool dispatch_held(struct dispatch *d)
{
	int64_t now = dispatch_now_ms();

	if (!d->hold_until_ms || now >= d->hold_until_ms)
		return false;
	loop_timer_at(d->timer, d->hold_until_ms - now);
	return true;
}

/* dispatch_hold - the step's results could not be written (CRC, logged):
   they are kept, not put back into the schedule, so that their actions
   are not sent again, nor anything new started, until a commit passes;
   tried again after a wait that doubles per failure (a full disk, an
   I/O error: a tight loop would call the providers again and again) */
static void dispatch_hold(struct dispatch *d, int crc)
{
	d->hold_ms = d->hold_ms ? MIN(d->hold_ms * 2, DISPATCH_HOLD_MAX_MS) :
				  DISPATCH_HOLD_MIN_MS;
	d->hold_until_ms = dispatch_now_ms() + d->hold_ms;
	loop_timer_at(d->timer, d->hold_ms);
	if (d->on_step)
		d->on_step(d->on_step_arg, crc);
}

/* dispatch_run - one step (the timer fell due): what finished is written
   first, so that the start sees its pauses, free slots and follow-up
   actions; what the start finished without a call is written by the next
   step, at once */
static void dispatch_run(struct loop *l, void *arg)
{
	struct dispatch *d = arg;
	struct dispatch_walk w = { .d = d, .next_due = -1 };
	int rc = 0, crc, prc;

	(void)l;
	if (dispatch_held(d))
		return;
	crc = dispatch_commit(d);
	if (crc) {
		dispatch_hold(d, crc);
		return;
	}
	d->hold_ms = 0;
	d->hold_until_ms = 0;
	dispatch_sched_settle(d, crc);
	dispatch_results_clear(d);
	w.now_ms = dispatch_now_ms();
	if (!d->stopped) {
		rc = dispatch_walk(d, &w);
		prc = dispatch_sched_prune(d, dispatch_now_ms());
		if (prc)
			log_warn("dispatch", "cannot prune the outbox journal: "
				 "%s (tried again later)", state_strerror(prc));
	}
	rc = crc ? crc : rc;
	dispatch_arm(d, &w, rc);
	if (d->on_step)
		d->on_step(d->on_step_arg, rc);
}

/* dispatch_flush - the answers taken and not written yet, written now
   (a step's commit without its walk) */
int dispatch_flush(struct dispatch *d)
{
	int crc;

	if (!d || d->results->len == 0)
		return 0;
	crc = dispatch_commit(d);	/* logged */
	dispatch_sched_settle(d, crc);
	dispatch_results_clear(d);
	return crc;
}

/* dispatch_kick - a step on the next turn */
void dispatch_kick(struct dispatch *d)
{
	if (d)
		loop_timer_soon(d->timer, 0);
}

/* dispatch_on_step - the caller's callback after each step */
void dispatch_on_step(struct dispatch *d, dispatch_step_fn *fn, void *arg)
{
	d->on_step = fn;
	d->on_step_arg = arg;
}

/* dispatch_look - the schedule up to date; W: the earliest due time of a
   provider with a free slot, and whether others wait */
static int dispatch_look(struct dispatch *d, struct dispatch_walk *w)
{
	struct dispatch_sched_key k;
	MDB_txn *txn = NULL;
	unsigned i;
	int rc;

	rc = state_begin(d->st, false, &txn);
	if (rc == 0)
		rc = dispatch_sched_refresh(d, txn);
	state_abort(txn);
	if (rc) {
		log_error("dispatch", "cannot read the outbox: %s",
			  state_strerror(rc));
		return rc;
	}
	for (i = 0; i < d->n_provs; i++) {
		const struct dispatch_prov *dp = &d->provs[i];

		while (dispatch_sched_peek(d, i, &k) &&
		       dispatch_under_way(d, k.id))
			dispatch_sched_pop(d, i);	/* a copy */
		if (!dispatch_sched_peek(d, i, &k))
			continue;
		if (!dispatch_can_start(dp, dispatch_now_ms()))
			w->waiting = true;	/* full, or paused */
		else if (w->next_due < 0 || k.due_ms < w->next_due)
			w->next_due = k.due_ms;
	}
	if (dispatch_sched_stranded(d) > 0)
		w->waiting = true;
	return 0;
}

/* dispatch_next_due - ms until an action can start; see dispatch.h.
   After dispatch_stop() pending actions no longer count. */
int dispatch_next_due(struct dispatch *d, int64_t *in_ms)
{
	struct dispatch_walk w = { .d = d, .next_due = -1 };
	unsigned busy = g_hash_table_size(d->in_flight);
	int rc = 0;

	if (d->results->len > 0) {
		/* finished transfers wait for their commit (after the hold
		   of results the state could not take) */
		int64_t now = dispatch_now_ms();

		*in_ms = d->hold_until_ms > now ? d->hold_until_ms - now : 0;
		if (!*in_ms)
			dispatch_kick(d);
		return 0;
	}
	if (!d->stopped) {
		rc = dispatch_look(d, &w);
		if (rc)
			return rc;
	}
	w.now_ms = dispatch_now_ms();
	if (w.next_due >= 0) {
		*in_ms = w.next_due > w.now_ms ? w.next_due - w.now_ms : 0;
		/* what the look found is started when it falls due */
		if (!d->stopped)
			loop_timer_soon(d->timer, *in_ms);
		return 0;
	}
	if (busy == 0 && w.waiting)
		return -EAGAIN;	/* only paused (or unknown) providers wait */
	if (busy > 0) {
		*in_ms = DISPATCH_IDLE_MS;
		return 0;
	}
	return -ENOENT;
}

/* dispatch_paused - why provider I is paused, or NULL */
const char *dispatch_paused(const struct dispatch *d, unsigned i)
{
	return i < d->n_provs && d->provs[i].paused_ms ?
		       d->provs[i].pause_why : NULL;
}

/* dispatch_holding - answers taken that the state did not take yet (a
   failing commit: dispatch_hold) */
bool dispatch_holding(const struct dispatch *d)
{
	return d->results->len > 0;
}

/* dispatch_in_flight - requests under way (campaign lookups too) */
unsigned dispatch_in_flight(const struct dispatch *d)
{
	return g_hash_table_size(d->in_flight) + d->lookups->len;
}

const char *dispatch_provider_name(const struct dispatch *d, unsigned i)
{
	return i < d->n_provs ? d->provs[i].cfg->name : NULL;
}

unsigned dispatch_providers(const struct dispatch *d)
{
	return d->n_provs;
}

/* dispatch_get_counts - counts of provider I (zeroes for a bad index) */
void dispatch_get_counts(const struct dispatch *d, unsigned i,
			 struct dispatch_counts *c)
{
	if (i < d->n_provs)
		*c = d->provs[i].counts;
	else
		memset(c, 0, sizeof(*c));
}

/* dispatch_stop - start nothing new from now on */
void dispatch_stop(struct dispatch *d)
{
	d->stopped = true;
}

/* dispatch_providers_new - a provider per configured group */
static int dispatch_providers_new(struct dispatch *d, char *err,
				  size_t errlen)
{
	const struct config *cfg = d->cfg;
	long maxconn = 0;
	unsigned i;

	d->provs = g_new0(struct dispatch_prov, cfg->n_providers ?
							cfg->n_providers : 1);
	for (i = 0; i < cfg->n_providers; i++) {
		struct dispatch_prov *dp = &d->provs[i];

		dp->cfg = &cfg->providers[i];
		dp->idle = g_ptr_array_new();
		dp->probe_every_ms = timeparse_env_ms("BOUNCED_PROBE_MS", 0);
		d->n_provs = i + 1;
		if (provider_new(dp->cfg, &dp->p, err, errlen) != 0)
			return -1;
		if (!g_hash_table_contains(d->by_name, dp->cfg->name))
			g_hash_table_insert(d->by_name, dp->cfg->name,
					    GUINT_TO_POINTER(i + 1));
		maxconn += dp->cfg->concurrency > 0 ? dp->cfg->concurrency : 1;
	}
	/* keep one connection per possible transfer alive */
	d->conns = maxconn;
	multi_keep_conns(d->multi, d->conns);
	return 0;
}

/* dispatch_pauses_load - the pauses as the state has them: providers
   paused by an earlier run (or before a reload) stay paused until an
   answer ends it, and are probed at once; one the state no longer has
   paused (ended by the dispatcher before a reload) is not */
void dispatch_pauses_load(struct dispatch *d)
{
	MDB_txn *txn = NULL;
	unsigned i;

	if (state_begin(d->st, false, &txn) != 0)
		return;
	for (i = 0; i < d->n_provs; i++) {
		struct dispatch_prov *dp = &d->provs[i];
		bool was = dp->paused_ms != 0;
		int64_t since = 0;

		(void)provider_resumed_get(d->st, txn, dp->cfg->name,
					   &dp->resumed_ms);
		if (provider_pause_get(d->st, txn, dp->cfg->name, &since,
				       dp->pause_why,
				       sizeof(dp->pause_why)) != 0) {
			dp->paused_ms = 0;
			dp->pause_why[0] = '\0';
			continue;
		}
		dp->paused_ms = since > 0 ? since : 1;
		if (was)
			continue;
		dp->probe_ms = 0;
		log_warn("dispatch", "%s %s is paused (%s): probing it now",
			 dispatch_type_label(dp), dp->cfg->name, dp->pause_why);
	}
	state_abort(txn);
}

/* dispatch_new - the dispatcher of CFG's providers over ST, on L and M */
int dispatch_new(struct dispatch **out, const struct config *cfg,
		 struct state *st, struct loop *l, struct multi *m, char *err,
		 size_t errlen)
{
	struct dispatch *d = g_new0(struct dispatch, 1);
	int rc = -1;

	*out = NULL;
	d->cfg = cfg;
	d->st = st;
	d->loop = l;
	d->multi = m;
	d->timer = loop_timer_new(l, dispatch_run, d);
	d->sync_timer = loop_timer_new(l, dispatch_sync_due, d);
	d->by_name = g_hash_table_new(g_str_hash, g_str_equal);
	d->in_flight = g_hash_table_new(g_int64_hash, g_int64_equal);
	d->lookups = g_ptr_array_new();
	d->warned = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	d->results = g_array_new(FALSE, TRUE, sizeof(struct dispatch_result));
	d->sched = dispatch_sched_new(cfg->n_providers);
	if (dispatch_providers_new(d, err, errlen) != 0)
		goto out;
	dispatch_pauses_load(d);
	*out = d;
	rc = 0;
out:
	if (rc)
		dispatch_free(d);
	return rc;
}

/* dispatch_free - the answers taken written (a reload frees the former
   dispatcher as soon as nothing is under way, maybe before its step wrote
   them: their calls would be made again), transfers under way dropped
   (their actions stay in the outbox), the providers and the timer */
void dispatch_free(struct dispatch *d)
{
	unsigned i;

	if (d == NULL)
		return;
	(void)dispatch_flush(d);	/* logged */
	dispatch_xfer_abort_all(d);
	dispatch_results_clear(d);
	dispatch_sync(d);
	for (i = 0; i < d->n_provs; i++) {
		provider_free(d->provs[i].p);
		dispatch_pool_free(&d->provs[i]);
	}
	if (d->conns)
		multi_keep_conns(d->multi, -d->conns);
	loop_timer_free(d->timer);
	loop_timer_free(d->sync_timer);
	g_free(d->provs);
	dispatch_sched_free(d->sched);
	g_array_free(d->results, TRUE);
	g_hash_table_destroy(d->warned);
	g_hash_table_destroy(d->in_flight);
	g_ptr_array_free(d->lookups, TRUE);
	g_hash_table_destroy(d->by_name);
	g_free(d);
}
