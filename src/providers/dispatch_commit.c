/*
 * dispatch_commit.c - what the actions finished in one dispatcher step
 * leave behind: one LMDB write transaction for all of them, then one log
 * line and the counts per action.
 *
 *   DONE      outbox entry removed; follow-up actions enqueued (root, provider
 *             and address of the parent, fresh id, due now, a whole max age
 *             of their own); the recipient's entry for the root gets
 *             outstanding += spawned - 1, and ACTION_DONE when it reaches 0
 *   CONTINUE  outbox entry rewritten in place (its due time stays, so the
 *             next step runs it again)
 *   RETRY     attempts + 1, last_error, moved to now + backoff: min(retry-max,
 *             retry-min * 2^(attempts-1)) times a random factor in
 *             [0.5, 1.5), or Retry-After when larger (capped at max-age);
 *             when the action is older than max-age (counted from the end
 *             of its provider's last pause when that is later, and not
 *             while it is paused): as FAILED, "gave up after N attempts
 *             over D: last error"
 *   FAILED    to the dead table; the recipient's entry gets ACTION_DEAD and
 *             outstanding - 1 (bouncectl retry adds it back)
 *
 * The same transaction adds the step's results to the meta totals the
 * metrics read: count.api_ok (DONE), count.api_retry (RETRY rescheduled),
 * count.api_dead (FAILED, or RETRY past max-age).
 *
 * Error policy: the results are written through state_write_lazy(): when
 * the map is full the transaction is aborted, the map grown and the whole
 * step's results applied again (random delays are drawn before the first
 * attempt, so a replay writes the same).  An action that is no longer in
 * the outbox (removed by bouncectl meanwhile) is skipped with a warning.  Any other state error aborts the transaction:
 * nothing of the step is written, the actions stay as they were; the
 * dispatcher keeps the answers and writes them again after a wait
 * (dispatch.c, dispatch_hold), sending nothing meanwhile; a crash before
 * sends them again (providers' calls are idempotent).  Logs and counts
 * follow the commit, so they tell what was written.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dispatch_priv.h"
#include "log.h"
#include "mail_events.h"
#include "outbox.h"

/* dispatch_result_add - append a result (the caller may then fill more) */
struct dispatch_result *dispatch_result_add(struct dispatch *d, unsigned prov,
					    const struct action *orig,
					    const struct action *a,
					    enum provider_result res,
					    const char *err)
{
	struct dispatch_result r;

	memset(&r, 0, sizeof(r));
	r.prov = prov;
	r.res = res;
	r.orig = *orig;
	r.a = *a;
	g_strlcpy(r.err, err ? err : "", sizeof(r.err));
	g_array_append_val(d->results, r);
	return &g_array_index(d->results, struct dispatch_result,
			      d->results->len - 1);
}

/* dispatch_results_clear - free the step's results */
void dispatch_results_clear(struct dispatch *d)
{
	guint i;

	for (i = 0; i < d->results->len; i++) {
		struct dispatch_result *r =
			&g_array_index(d->results, struct dispatch_result, i);

		if (r->spawn)
			g_array_free(r->spawn, TRUE);
	}
	g_array_set_size(d->results, 0);
}

/* dispatch_type_label - the provider's type as log lines name it */
const char *dispatch_type_label(const struct dispatch_prov *dp)
{
	return provider_label(dp->cfg);
}

/* dispatch_fmt_ms - a duration for people: "850ms", "12.5s", "3m20s", "2h05m", "3d4h" */
static void dispatch_fmt_ms(int64_t ms, char *buf, size_t len)
{
	int64_t s = ms / 1000;

	if (ms < 0)
		ms = 0;
	if (ms < 1000)
		snprintf(buf, len, "%" PRId64 "ms", ms);
	else if (ms < 60000)
		snprintf(buf, len, "%.1fs", (double)ms / 1000.0);
	else if (s < 3600)
		snprintf(buf, len, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRId64 "h%02" PRId64 "m", s / 3600,
			 s % 3600 / 60);
	else
		snprintf(buf, len, "%" PRId64 "d%" PRId64 "h", s / 86400,
			 s % 86400 / 3600);
}

/* dispatch_backoff - ms to wait before attempt ATTEMPTS + 1 of CFG's action */
static int64_t dispatch_backoff(const struct config_provider *cfg,
				uint32_t attempts, int64_t retry_after_ms)
{
	int64_t lo = cfg->retry_min_ms > 0 ? cfg->retry_min_ms : 1;
	int64_t hi = cfg->retry_max_ms > lo ? cfg->retry_max_ms : lo;
	int64_t delay = lo, cap = cfg->max_age * 1000;
	uint32_t k = attempts > 0 ? attempts - 1 : 0;

	while (k-- > 0 && delay < hi)
		delay *= 2;
	if (delay > hi)
		delay = hi;
	delay = (int64_t)((double)delay * g_random_double_range(0.5, 1.5));
	if (delay < 1)
		delay = 1;
	if (retry_after_ms > delay)
		delay = MIN(retry_after_ms, MAX(cap, delay));
	return delay;
}

/* dispatch_prepare - decide, before any transaction, when RETRY results
   run again or whether they expired, and the dead tables' messages */
static void dispatch_prepare(struct dispatch *d, int64_t now_ms)
{
	char age[32];
	guint i;

	for (i = 0; i < d->results->len; i++) {
		struct dispatch_result *r =
			&g_array_index(d->results, struct dispatch_result, i);
		const struct dispatch_prov *dp = &d->provs[r->prov];
		const struct config_provider *cfg = dp->cfg;
		int64_t lived = now_ms - r->orig.created_ms;
		/* max-age runs from the action's creation or from the end of
		   its provider's last pause, whichever is later, and not while
		   the provider is paused: a pause ages nothing */
		int64_t born = MAX(r->orig.created_ms, dp->resumed_ms);

		if (r->res == PROVIDER_FAILED) {
			g_strlcpy(r->why, r->err, sizeof(r->why));
			/* the call refused for good counts among the tries
			   the dead letter shows */
			r->a.attempts = r->orig.attempts < UINT32_MAX ?
						r->orig.attempts + 1 :
						UINT32_MAX;
		}
		/* a probe refused: behind the others, no attempt counted */
		r->rotate = r->res == PROVIDER_PAUSE && dp->paused_ms;
		if (r->rotate)
			r->due_ms = now_ms;
		if (r->res != PROVIDER_RETRY)
			continue;
		r->a.attempts = r->orig.attempts < UINT32_MAX ?
					r->orig.attempts + 1 : UINT32_MAX;
		if (!dp->paused_ms && now_ms - born > cfg->max_age * 1000) {
			r->expired = true;
			dispatch_fmt_ms(lived, age, sizeof(age));
			snprintf(r->why, sizeof(r->why),
				 "gave up after %" PRIu32 " attempts over %s: %s",
				 r->a.attempts, age, r->err);
			continue;
		}
		r->due_ms = now_ms + dispatch_backoff(cfg, r->a.attempts,
						      r->retry_after_ms);
	}
}

/* dispatch_rcpt_settle - the recipient's entry for A's root: outstanding
   moved by DELTA, dead or done as that says */
static int dispatch_rcpt_settle(struct dispatch *d, MDB_txn *txn,
				const struct action *a, int64_t delta,
				bool dead, int64_t now_s)
{
	struct rcpt r;
	uint32_t i;
	int rc = state_rcpt_get(d->st, txn, a->addr, &r);

	if (rc == -ENOENT)
		return 0;	/* an action without a recipient record */
	if (rc == -EINVAL || rc == -EPROTO) {
		log_warn("dispatch", "record of '%s' unreadable (%s): its "
			 "action state is not updated", a->addr,
			 state_strerror(rc));
		return 0;
	}
	if (rc)
		return rc;
	for (i = 0; i < r.n_actions && i < RCPT_ACTIONS_MAX; i++) {
		struct rcpt_action *e = &r.actions[i];
		int64_t left = (int64_t)e->outstanding + delta;

		if (e->root != a->root || strcmp(e->provider, a->provider) != 0)
			continue;
		e->outstanding = left < 0 ? 0 : left > UINT32_MAX ? UINT32_MAX :
								      (uint32_t)left;
		if (dead && e->state != ACTION_DEAD) {
			e->state = ACTION_DEAD;
			e->time = now_s;
		} else if (!dead && e->outstanding == 0 &&
			   e->state == ACTION_PENDING) {
			e->state = ACTION_DONE;
			e->time = now_s;
		}
		return state_rcpt_put(d->st, txn, a->addr, &r);
	}
	return 0;	/* no entry (webhook soft bounces, a full record) */
}

/* dispatch_apply_done - remove A, enqueue R's follow-ups, settle the entry */
static int dispatch_apply_done(struct dispatch *d, MDB_txn *txn,
			       const struct dispatch_result *r,
			       const struct action *a, int64_t now_ms)
{
	guint i, n = r->spawn ? r->spawn->len : 0;
	int rc = outbox_remove(d->st, txn, a);

	for (i = 0; rc == 0 && i < n; i++) {
		struct action c = g_array_index(r->spawn, struct action, i);

		c.id = 0;
		c.root = a->root;
		memcpy(c.provider, a->provider, sizeof(c.provider));
		memcpy(c.addr, a->addr, sizeof(c.addr));
		c.created_ms = 0;
		c.due_ms = 0;
		c.attempts = 0;
		c.last_error[0] = '\0';
		rc = outbox_enqueue(d->st, txn, &c, now_ms);
	}
	if (rc == 0)
		rc = dispatch_rcpt_settle(d, txn, a, (int64_t)n - 1, false,
					  now_ms / 1000);
	return rc;
}

/* dispatch_apply - R into the transaction */
static int dispatch_apply(struct dispatch *d, MDB_txn *txn,
			  const struct dispatch_result *r, int64_t now_ms)
{
	struct action a = r->a;
	int rc;

	/* the outbox key and identity are the ones read, whatever parse did */
	a.id = r->orig.id;
	a.root = r->orig.root;
	a.due_ms = r->orig.due_ms;
	a.created_ms = r->orig.created_ms;
	memcpy(a.provider, r->orig.provider, sizeof(a.provider));
	memcpy(a.addr, r->orig.addr, sizeof(a.addr));
	if (r->res != PROVIDER_PAUSE) {
		rc = dispatch_notice_write(d, txn, &a, now_ms / 1000);
		if (rc)
			return rc;
	}
	switch (r->res) {
	case PROVIDER_DONE:
		rc = dispatch_apply_done(d, txn, r, &a, now_ms);
		if (rc == 0 && a.resolved[0] && mail_key_is_uid(a.addr))
			rc = dispatch_resolve(d, txn, &a, now_ms / 1000);
		return rc;
	case PROVIDER_CONTINUE:
		/* the next call of the operation gets a max-age of its own,
		   as the calls the provider spawns do (PROVIDERS.md) */
		a.created_ms = now_ms;
		return outbox_update(d->st, txn, &a);
	case PROVIDER_PAUSE: {
		/* the provider is paused: the action stays as it was read
		   (no attempt counted, nothing of what build() changed); a
		   probe's goes behind the others, so that the next probe is
		   another action (one refused for itself would be probed
		   for ever) */
		struct action o = r->orig;

		return r->rotate ? outbox_reschedule(d->st, txn, &o, r->due_ms) :
				   0;
	}
	case PROVIDER_RETRY:
		if (!r->expired) {
			rcpt_set_str(a.last_error, sizeof(a.last_error), r->err);
			return outbox_reschedule(d->st, txn, &a, r->due_ms);
		}
		/* too old: dead */
		/* fall through */
	case PROVIDER_FAILED:
		rc = outbox_kill(d->st, txn, &a, r->why);
		if (rc == 0)
			rc = dispatch_rcpt_settle(d, txn, &a, -1, true,
						  now_ms / 1000);
		return rc;
	}
	return -EINVAL;
}

/* dispatch_tally - R into the running totals of the metrics: api_ok
   (finished), api_retry (rescheduled), api_dead (given up) */
static void dispatch_tally(const struct dispatch_result *r, uint64_t *ok,
			   uint64_t *retry, uint64_t *dead)
{
	if (r->res == PROVIDER_DONE)
		(*ok)++;
	else if (r->res == PROVIDER_RETRY && !r->expired)
		(*retry)++;
	else if (r->res == PROVIDER_RETRY || r->res == PROVIDER_FAILED)
		(*dead)++;
}

/* dispatch_add_meta - the step's totals into the meta counters */
static int dispatch_add_meta(struct dispatch *d, MDB_txn *txn, uint64_t ok,
			     uint64_t retry, uint64_t dead)
{
	int rc = 0;

	if (ok)
		rc = state_meta_add_u64(d->st, txn, "count.api_ok", ok);
	if (rc == 0 && retry)
		rc = state_meta_add_u64(d->st, txn, "count.api_retry", retry);
	if (rc == 0 && dead)
		rc = state_meta_add_u64(d->st, txn, "count.api_dead", dead);
	return rc;
}

struct dispatch_commit_arg {
	struct dispatch *d;
	int64_t now_ms;
	bool *vanished;
};

/* dispatch_commit_try - write every result (state_write_fn) */
static int dispatch_commit_try(struct state *st, MDB_txn *txn, void *arg)
{
	struct dispatch_commit_arg *ca = arg;
	struct dispatch *d = ca->d;
	int64_t now_ms = ca->now_ms;
	bool *vanished = ca->vanished;
	uint64_t ok = 0, retry = 0, dead = 0;
	guint i;
	int rc;

	(void)st;
	for (i = 0; i < d->results->len; i++) {
		const struct dispatch_result *r =
			&g_array_index(d->results, struct dispatch_result, i);

		vanished[i] = false;
		rc = dispatch_apply(d, txn, r, now_ms);
		if (rc == -ENOENT) {
			/* gone from the outbox meanwhile: nothing to do */
			vanished[i] = true;
			rc = 0;
		} else if (rc == 0) {
			dispatch_tally(r, &ok, &retry, &dead);
		}
		if (rc)
			return rc;
	}
	rc = dispatch_add_meta(d, txn, ok, retry, dead);
	if (rc == 0)
		rc = dispatch_pause_write(d, txn, now_ms);
	return rc;
}

/* dispatch_describe - what a DONE result achieved, for the log (the
   provider's wording); true when it is worth an info line */
static bool dispatch_describe(const struct dispatch_prov *dp,
			      const struct dispatch_result *r, char *buf,
			      size_t len)
{
	return provider_describe(dp->cfg, &r->a, r->status,
				 r->spawn ? r->spawn->len : 0, buf, len);
}

/* dispatch_report_one - the log line and counts of committed result R */
static void dispatch_report_one(struct dispatch *d,
				const struct dispatch_result *r, int64_t now_ms)
{
	struct dispatch_prov *dp = &d->provs[r->prov];
	const char *label = dispatch_type_label(dp), *name = dp->cfg->name;
	const char *op = action_op_name(r->a.op);
	char what[ADDR_MAX + 160], wait[32];

	if (r->status > 0)
		dp->counts.calls++;
	switch (r->res) {
	case PROVIDER_DONE:
		dp->counts.done++;
		/* done, with something the provider found on the way (a
		   lookup of who a complaint was that came back empty) */
		if (r->err[0])
			log_info("dispatch", "%s %s: %s %s: %s", label, name, op,
				 r->a.addr, r->err);
		if (dispatch_describe(dp, r, what, sizeof(what)))
			log_info("dispatch", "%s %s: %s", label, name, what);
		else
			log_debug("dispatch", "%s %s: %s", label, name, what);
		return;
	case PROVIDER_CONTINUE:
		log_debug("dispatch", "%s %s: %s %s: on to step %u", label, name,
			  op, r->a.addr, r->a.step);
		return;
	case PROVIDER_PAUSE:
		log_debug("dispatch", "%s %s: %s %s stays queued: %s", label,
			  name, op, r->a.addr, r->err);
		return;
	case PROVIDER_RETRY:
		if (r->expired)
			break;
		dp->counts.retried++;
		dispatch_fmt_ms(r->due_ms - now_ms, wait, sizeof(wait));
		log_warn("dispatch", "%s %s: %s %s failed (attempt %" PRIu32
			 "): %s; retrying in %s", label, name, op, r->a.addr,
			 r->a.attempts, r->err, wait);
		return;
	case PROVIDER_FAILED:
		break;
	}
	dp->counts.dead++;
	log_error("dispatch", "%s %s: %s %s failed for good: %s; action %" PRIu64
		  " moved to the dead table (bouncectl retry %" PRIu64
		  " sends it again)", label, name, op, r->a.addr, r->why,
		  r->orig.id, r->orig.id);
}

/* dispatch_sync - make the lazily committed results durable */
void dispatch_sync(struct dispatch *d)
{
	int rc;

	if (!d->unsynced)
		return;
	rc = state_sync(d->st);
	if (rc)
		log_warn("dispatch", "cannot sync the state to disk: %s",
			 state_strerror(rc));
	else
		d->unsynced = false;
	d->synced_ms = dispatch_now_ms();
}

void dispatch_sync_due(struct loop *l, void *arg)
{
	(void)l;
	dispatch_sync(arg);
}

/* dispatch_commit - write, then log and count, the step's results */
int dispatch_commit(struct dispatch *d)
{
	int64_t now_ms = dispatch_now_ms();
	guint n = d->results->len, i;
	struct dispatch_commit_arg ca = { .d = d, .now_ms = now_ms };
	bool *vanished;
	int rc;

	if (n == 0)
		return 0;
	vanished = g_new0(bool, n);
	ca.vanished = vanished;
	dispatch_prepare(d, now_ms);
	dispatch_pause_plan(d);
	/* provider results are safe to replay (every call is idempotent):
	   no disk wait per step; dispatch_sync makes them durable */
	rc = state_write_lazy(d->st, dispatch_commit_try, &ca);
	if (rc) {
		log_error("dispatch", "cannot write the results of %u provider "
			  "calls: %s; the answers are kept and written again "
			  "shortly, nothing more is sent meanwhile (a crash "
			  "now sends those actions again on the next start)",
			  n, state_strerror(rc));
		goto out;
	}
	d->unsynced = true;
	if (now_ms - d->synced_ms >= DISPATCH_SYNC_MS)
		dispatch_sync(d);
	else	/* synced by a later commit, or by the timer if none comes */
		loop_timer_soon(d->sync_timer,
				d->synced_ms + DISPATCH_SYNC_MS - now_ms);
	dispatch_pause_report(d, now_ms);
	for (i = 0; i < n; i++) {
		const struct dispatch_result *r =
			&g_array_index(d->results, struct dispatch_result, i);

		if (vanished[i])
			log_warn("dispatch", "action %" PRIu64 " (%s %s) left the "
				 "outbox while it was sent: result dropped",
				 r->orig.id, r->orig.provider, r->orig.addr);
		else {
			dispatch_notice_report(d, r);
			dispatch_report_one(d, r, now_ms);
		}
	}
out:
	g_free(vanished);
	return rc;
}
