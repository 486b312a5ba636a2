/*
 * process_send.c - what `bounced process` sends at the end of its inputs
 * (include/process_send.h): the outbox drained through the providers on
 * an event loop of its own, then the operator's mail.
 *
 * It runs the same pieces as the worker: a loop (loop.h), the curl multi
 * handle on it (multi.h), the dispatcher (dispatch.h), which steps on its
 * own timer, and the notification sender (notify_send.h), which asks the
 * dispatcher's providers for campaign details and sends on the same multi
 * handle.  This file only turns the loop: until the outbox is empty (or
 * only paused providers' actions wait), or until the drain timeout (then
 * nothing new starts, and what is under way may finish); then until the
 * operator's mail is sent or a send failed.  A one-second timer feeds the
 * metrics meanwhile.
 *
 * Error policy: messages are printed or logged here; an exit code is
 * returned, nothing exits.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "dispatch.h"
#include "exitcodes.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "multi.h"
#include "notify_send.h"
#include "outbox.h"
#include "process_send.h"
#include "state.h"
#include "url_check.h"

#define PS_TICK_MS 1000		/* metrics fed this often */

struct ps {
	struct loop *l;
	struct multi *multi;
	struct metrics *m;
	struct loop_timer *tick;
	int step_rc;		/* the first state error of a step */
	bool flushed;		/* the operator's mail: done... */
	int flush_rc;		/* ...with this */
	size_t flush_items;	/* ...having mailed these */
	const volatile int *stop;	/* non-zero: stop (may be NULL) */
};

/* ps_stepped - after a dispatcher step: keep its state error */
static void ps_stepped(void *arg, int rc)
{
	struct ps *ps = arg;

	if (rc < 0 && ps->step_rc == 0)
		ps->step_rc = rc;
}

/* ps_tick - the metrics at a step boundary (failures are logged by them) */
static void ps_tick(struct loop *l, void *arg)
{
	struct ps *ps = arg;

	(void)l;
	if (ps->m)
		(void)metrics_tick(ps->m, (int64_t)time(NULL));
	loop_timer_at(ps->tick, PS_TICK_MS);
}

/* ps_summary - one line per provider, and what is left */
static void ps_summary(struct dispatch *d, struct state *st)
{
	struct dispatch_counts c;
	uint64_t pending = 0, dead = 0;
	MDB_txn *txn = NULL;
	unsigned i;

	for (i = 0; i < dispatch_providers(d); i++) {
		const char *paused = dispatch_paused(d, i);

		dispatch_get_counts(d, i, &c);
		printf("provider %s: %llu actions done, %llu calls, %llu retried, "
		       "%llu dead%s%s%s\n", dispatch_provider_name(d, i),
		       (unsigned long long)c.done, (unsigned long long)c.calls,
		       (unsigned long long)c.retried, (unsigned long long)c.dead,
		       paused ? "; paused: " : "", paused ? paused : "",
		       paused ? " (its actions wait; 'bounced provider-test' "
				"checks it)" : "");
	}
	if (state_begin(st, false, &txn) == 0) {
		if (outbox_counts(st, txn, &pending, &dead) == 0 && pending)
			printf("outbox: %llu actions left for the next run or "
			       "'bounced run'\n", (unsigned long long)pending);
		if (dead)
			printf("dead letters: %llu (see 'bouncectl dead', "
			       "'bouncectl retry')\n", (unsigned long long)dead);
		state_abort(txn);
	}
	fflush(stdout);
}

/* ps_drain - send what the outbox holds with D until it is empty or
   TIMEOUT_MS have passed; retries that fall due in that time are made */
static int ps_drain(struct ps *ps, struct dispatch *d, int64_t timeout_ms)
{
	int64_t deadline = loop_now_ms() + timeout_ms, in;
	bool said = false;
	int rc;

	dispatch_on_step(d, ps_stepped, ps);
	dispatch_kick(d);
	for (;;) {
		int64_t left = deadline - loop_now_ms();

		if (ps->stop && *ps->stop) {
			/* a stop: as the deadline, now */
			if (!said)
				log_info("bounced", "stopping: %u requests "
					 "under way finish, the rest of the "
					 "outbox is left for the next run",
					 dispatch_in_flight(d));
			said = true;
			left = 0;
		}

		rc = dispatch_next_due(d, &in);
		if (rc == -ENOENT || rc == -EAGAIN)
			return EXIT_OK;
		if (rc < 0)
			return EXIT_IOERR;
		if (left <= 0 && dispatch_in_flight(d) == 0)
			/* the answers taken last are written before the
			   summary counts them and the dispatcher goes */
			return dispatch_flush(d) ? EXIT_IOERR : EXIT_OK;
		if (left <= 0)
			dispatch_stop(d);
		rc = loop_once(ps->l, left > 0 && left < PS_TICK_MS ?
					      (int)left : PS_TICK_MS);
		if (rc)
			return EXIT_SOFTWARE;	/* logged */
		if (ps->step_rc < 0) {
			log_error("bounced", "dispatch failed: %s",
				  state_strerror(ps->step_rc));
			return EXIT_IOERR;
		}
	}
}

/* ps_campaign_ask - the operator's mail asks the drain's dispatcher for
   a campaign's details (struct notify_campaigns) */
static int ps_campaign_ask(void *ctx, const char *provider, const char *uid,
			   provider_campaign_fn *fn, void *arg)
{
	return dispatch_campaign(ctx, provider, uid, fn, arg);
}

/* ps_campaign_cancel - a lookup no longer wanted */
static void ps_campaign_cancel(void *ctx, void *arg)
{
	dispatch_campaign_cancel(ctx, arg);
}

/* ps_flushed - the operator's mail is sent, or a send failed */
static void ps_flushed(void *arg, int rc, size_t items)
{
	struct ps *ps = arg;

	ps->flushed = true;
	ps->flush_rc = rc;
	ps->flush_items = items;
}

/* ps_notify - mail what the run queued for the operator, campaign details
   through D's providers (may be NULL); failures are logged, the items
   stay queued for the next run or the daemon */
static void ps_notify(struct ps *ps, const struct config *cfg,
		      struct state *st, struct dispatch *d)
{
	const struct notify_campaigns camp = {
		.ask = ps_campaign_ask,
		.cancel = ps_campaign_cancel,
		.ctx = d,
	};
	struct notify_sender *ns = NULL;
	char err[512], show[1100];

	if (notify_sender_new(&ns, cfg, st, ps->l, ps->multi, d ? &camp : NULL,
			      err, sizeof(err)) != 0) {
		log_error("bounced", "%s", err);
		return;
	}
	if (!ns)
		return;
	notify_sender_flush(ns, ps_flushed, ps);
	while (!ps->flushed)
		if (loop_once(ps->l, PS_TICK_MS) != 0)
			break;		/* logged */
	if (ps->flushed && ps->flush_rc == 0 && ps->flush_items)
		printf("notify: mailed %zu items to %s\n", ps->flush_items,
		       url_show(cfg->notify_smtp, show, sizeof(show)));
	fflush(stdout);
	notify_sender_free(ns);
}

/* process_send - the drain, then the operator's mail */
int process_send(const struct config *cfg, struct state *st,
		 struct metrics *m, int64_t drain_ms, const volatile int *stop)
{
	struct dispatch *d = NULL;
	struct ps ps;
	char err[512];
	int ex = EXIT_OK;

	memset(&ps, 0, sizeof(ps));
	ps.m = m;
	ps.stop = stop;
	ps.l = loop_new();
	ps.multi = multi_new(ps.l);
	ps.tick = loop_timer_new(ps.l, ps_tick, &ps);
	loop_timer_at(ps.tick, PS_TICK_MS);
	if (cfg->n_providers > 0) {
		if (dispatch_new(&d, cfg, st, ps.l, ps.multi, err,
				 sizeof(err)) != 0) {
			fprintf(stderr, "bounced: %s\n", err);
			ex = EXIT_CONFIG;
		} else {
			ex = ps_drain(&ps, d, drain_ms);
			ps_summary(d, st);
			/* kept for the mail's campaign lookups; nothing new
			   starts meanwhile */
			dispatch_stop(d);
		}
	}
	if (ex != EXIT_IOERR && !(stop && *stop))
		ps_notify(&ps, cfg, st, d);
	dispatch_free(d);
	loop_timer_free(ps.tick);
	multi_free(ps.multi);
	loop_free(ps.l);
	return ex;
}
