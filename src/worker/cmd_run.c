/*
 * cmd_run.c - bounced run: the spool worker, one thread, one loop.
 *
 * Start: the lock STATE/bounced.lock (lockfile.h: the state's one
 * dispatcher; a second worker on the same state exits 75 naming the
 * holder's pid, a `bounced process` sending the outbox is waited for), the
 * spool's directories and the lock SPOOL/bounced.lock (one worker per
 * spool, whatever its state: the same rules), the loop and its sources
 * (signals, inotify on SPOOL/acct, the curl multi handle), the state, the
 * ingest context and the dispatcher; then what arrived while no worker ran
 * (a scan of acct/, oldest first; a file half-taken resumes at its
 * commit).  The pid is written into the lock files last: once it is
 * there, the worker is ready (a file arriving from then on is seen by
 * inotify).
 *
 * The loop (loop.h, docs/RUN.md) knows the worker only as callbacks:
 *   signals     SIGTERM/SIGINT stop, SIGHUP reloads (run_reload.c)
 *   names       a file or mail arrived: queued, and the work timer armed
 *   work timer  armed at 0 while a file or mail waits (at the end of an
 *               error's pause otherwise): a slice of ingest (run_acct.c,
 *               run_mail.c), then a dispatcher step is asked for (what the
 *               slice committed goes out at once) and reloaded parts are
 *               swapped in when safe
 *   tick        every second: the metrics (an RRD update at each step
 *               boundary, the textfile; the last step is written at
 *               shutdown), sweeps, watches lost, a look at the maildirs,
 *               the operator's mail sender set up anew after a reload
 *   mail        the operator's mail runs on its own timer and the curl
 *               multi handle (notify_send.h), its campaign lookups
 *               through the dispatcher
 *   dispatcher  its own timer and its transfers' callbacks (dispatch.h);
 *               after each step it calls back: a stop or a swap that
 *               waited for the requests under way goes on
 *   deadline    shutdown-timeout
 * Ingest slices and dispatch steps alternate, so a large file delays a
 * provider call by at most a slice and a commit.
 *
 * Signals: SIGTERM/SIGINT stop taking input (the current file's parsed
 * rows are committed; it resumes there), stop starting requests, let the
 * ones under way finish until shutdown-timeout, then exit 0 (a second
 * signal exits at once; what is unfinished stays in the outbox).  SIGHUP
 * reopens the log and reloads the configuration (run_reload.c).
 *
 * Error policy: start-up failures print a message and return an exit
 * code (75 lock held, 73 spool, 74 state, 78 providers, 70 loop); at run
 * time everything is logged and the worker goes on.
 */
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc_tune.h"
#include "cli.h"
#include "commands.h"
#include "config.h"
#include "dispatch.h"
#include "exitcodes.h"
#include "ingest.h"
#include "log.h"
#include "lockfile.h"
#include "loop.h"
#include "loop_signal.h"
#include "loop_watch.h"
#include "metrics.h"
#include "multi.h"
#include "notify_send.h"
#include "run_priv.h"
#include "spool.h"
#include "spool_mail.h"
#include "spool_tries.h"
#include "state.h"
#include "timeparse.h"

#define RUN_TICK_MS 1000	/* the periodic tick */
#define RUN_CLOCK_MS 60000	/* the clock moves the monitor on, idle */
#define RUN_EXPIRE_MS (10 * 60 * 1000)	/* done/ swept this often */

/* run_now_ms - the monotonic clock in ms */
int64_t run_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* run_lock - STATE/bounced.lock, held until exit (a `bounced process`
   sending the outbox is waited for); an exit code */
/* run_fail - why the worker cannot start, on stderr (the terminal, the
   journal) and in the log file when the log goes to one: an operator
   who reads the log sees why the worker is not running */
static void __attribute__((format(printf, 1, 2)))
run_fail(const char *fmt, ...)
{
	char msg[PATH_MAX + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%sbounced: %s\n", log_stderr_prefix(BLOG_ERROR), msg);
	if (log_elsewhere())
		log_error("run", "%s", msg);
}

static int run_lock(struct run *r, const char *state_dir)
{
	char *path = g_build_filename(state_dir, "bounced.lock", NULL);
	char err[PATH_MAX + 128];
	int ex = EXIT_OK, rc;

	if (g_mkdir_with_parents(state_dir, 0750) != 0) {
		run_fail("cannot create the state directory '%s': %s",
			 state_dir, strerror(errno));
		ex = EXIT_IOERR;
		goto out;
	}
	rc = lockfile_take(path, LOCKFILE_RUN, true, &r->lock, err,
			   sizeof(err));
	if (rc) {
		run_fail("%s", err);
		ex = rc == -EWOULDBLOCK ? EXIT_TEMPFAIL : EXIT_IOERR;
	}
out:
	g_free(path);
	return ex;
}

/* run_spool_lock - SPOOL/bounced.lock: one worker per spool, whatever
   its state; an exit code */
static int run_spool_lock(struct run *r)
{
	char *path = g_build_filename(spool_dir(r->sp), "bounced.lock", NULL);
	char err[PATH_MAX + 128];
	int rc;

	rc = lockfile_take(path, LOCKFILE_RUN, true, &r->spool_lock, err,
			   sizeof(err));
	g_free(path);
	if (rc == 0)
		return EXIT_OK;
	if (rc == -EWOULDBLOCK)
		run_fail("%s: it takes the files of %s (one worker per "
			 "spool)", err, spool_acct_dir(r->sp));
	else
		run_fail("%s", err);
	return rc == -EWOULDBLOCK ? EXIT_TEMPFAIL : EXIT_IOERR;
}

/* run_lock_ready - our pid into the lock files: the worker is ready (the
   spool is watched and was scanned) */
static void run_lock_ready(struct run *r)
{
	(void)lockfile_ready(r->spool_lock);	/* logged */
	(void)lockfile_ready(r->lock);
}

/* run_signame - "SIGTERM", "SIGINT" */
static const char *run_signame(int signo)
{
	return signo == SIGINT ? "SIGINT" : "SIGTERM";
}

/* run_quit - leave the loop after this turn */
static void run_quit(struct run *r)
{
	r->quit = true;
	loop_stop(r->loop);
}

/* run_check_state - a state that cannot be used any more ends the worker */
static void run_check_state(struct run *r)
{
	if (r->quit || state_usable(r->st))
		return;
	log_error("run", "the state cannot be used any more (its map could "
		  "not be set up again after a failed resize, logged above); "
		  "exiting");
	r->ex = EXIT_IOERR;
	run_quit(r);
}

/* run_stop - SIGTERM/SIGINT: stop taking input, let requests finish */
static void run_stop(struct run *r, int signo)
{
	char d[32];

	if (r->stopping) {
		log_warn("run", "%s again: exiting now (requests under way are "
			 "sent again on the next start)", run_signame(signo));
		run_quit(r);
		return;
	}
	r->stopping = true;
	r->deadline = run_now_ms() + r->cfg->shutdown_timeout_ms;
	loop_timer_at(r->deadline_timer, r->cfg->shutdown_timeout_ms);
	loop_timer_at(r->work, -1);
	/* a mail under way is dropped: its items stay queued */
	notify_sender_free(r->notify);
	r->notify = NULL;
	run_acct_pause(r);
	dispatch_stop(r->d);
	dispatch_free(r->d_next);
	r->d_next = NULL;
	r->d_next_cfg = NULL;
	run_configs_gc(r);
	if (r->cfg->shutdown_timeout_ms % 1000 == 0)
		config_format_duration(r->cfg->shutdown_timeout_ms / 1000, d,
				       sizeof(d));
	else
		snprintf(d, sizeof(d), "%lldms",
			 (long long)r->cfg->shutdown_timeout_ms);
	log_info("run", "%s: stopping; %u requests under way get up to %s to "
		 "finish", run_signame(signo), dispatch_in_flight(r->d), d);
	/* a step commits what finished, then says whether anything is
	   still under way (run_dispatched) */
	dispatch_kick(r->d);
}

/* run_deadline_due - shutdown-timeout passed: what is under way stays in
   the outbox */
static void run_deadline_due(struct loop *l, void *arg)
{
	(void)l;
	run_quit(arg);
}

/* run_expire - sweep done/ */
static void run_expire(struct run *r)
{
	int n = spool_expire(r->sp, time(NULL));

	if (n > 0)
		log_info("run", "deleted %d files from done/ (older than "
			 "done-retention)", n);
	if (r->sm)
		(void)spool_mail_sweep(r->sm, time(NULL));
	r->next_expire = run_now_ms() + RUN_EXPIRE_MS;
}

/* run_metrics - the feeder of the current configuration (rebuilt after a
   reload, which may name another file); NULL when it cannot start */
static struct metrics *run_metrics(struct run *r)
{
	char err[512];

	if (r->metrics_cfg == r->cfg)
		return r->metrics;
	metrics_free(r->metrics);
	r->metrics = NULL;
	r->metrics_cfg = r->cfg;
	if (metrics_new(&r->metrics, r->cfg, r->st, (int64_t)time(NULL), err,
			sizeof(err)) != 0)
		log_warn("run", "%s; no metrics until the next reload", err);
	return r->metrics;
}

/* run_campaign_ask - the operator's mail asks the dispatcher in force
   for a campaign's details (struct notify_campaigns) */
static int run_campaign_ask(void *ctx, const char *provider, const char *uid,
			    provider_campaign_fn *fn, void *arg)
{
	struct run *r = ctx;

	return dispatch_campaign(r->d, provider, uid, fn, arg);
}

/* run_campaign_cancel - a lookup no longer wanted (the dispatcher is
   swapped only once its lookups ended, so it is the one asked) */
static void run_campaign_cancel(void *ctx, void *arg)
{
	struct run *r = ctx;

	dispatch_campaign_cancel(r->d, arg);
}

/* run_notify - the operator's mail sender of the current configuration
   (rebuilt after a reload, once it is not sending; none while stopping) */
static struct notify_sender *run_notify(struct run *r)
{
	const struct notify_campaigns camp = {
		.ask = run_campaign_ask,
		.cancel = run_campaign_cancel,
		.ctx = r,
	};
	struct notify_sender *old = r->notify;
	char err[512];

	if (r->stopping || r->notify_cfg == r->cfg || notify_sender_busy(old))
		return old;
	r->notify = NULL;
	r->notify_cfg = r->cfg;
	if (notify_sender_new(&r->notify, r->cfg, r->st, r->loop, r->multi,
			      &camp, err, sizeof(err)) != 0)
		log_error("run", "%s; no mail to the operator until the next "
			  "reload", err);
	/* what the former one knew of the queue goes on */
	notify_sender_adopt(r->notify, old);
	notify_sender_free(old);
	return r->notify;
}

/* run_mail_waits - mails may wait in a maildir */
static bool run_mail_waits(const struct run *r)
{
	int k;

	for (k = 0; k < SPOOL_MAIL_KINDS; k++)
		if (r->mail_pending[k])
			return true;
	return false;
}

/* run_work_arm - the work timer: at once while a file or mail waits, at
   the end of an error's pause when that holds them back */
static void run_work_arm(struct run *r)
{
	int64_t now = run_now_ms(), at;

	if (r->quit || r->stopping)
		return;
	if (run_acct_busy(r) || run_mail_busy(r)) {
		loop_timer_soon(r->work, 0);
		return;
	}
	at = INT64_MAX;
	if (run_mail_waits(r))		/* a pause holds them back */
		at = MAX(r->defer_until, r->mail_defer_until);
	if (spool_queued(r->sp) > 0)	/* the pause, or their next attempts */
		at = MIN(at, run_acct_due(r));
	if (at == INT64_MAX)
		return;
	loop_timer_soon(r->work, at > now ? at - now : 0);
}

/* run_work_due - a slice of ingest, the dispatcher told, the swaps */
static void run_work_due(struct loop *l, void *arg)
{
	struct run *r = arg;

	(void)l;
	if (!r->stopping) {
		run_acct_work(r);
		run_mail_work(r);
		dispatch_kick(r->d);	/* what the slice queued goes out */
	}
	if (r->d_next || r->in_next)
		run_swap(r);
	run_check_state(r);
	run_work_arm(r);
}

/* run_dispatched - after each dispatcher step: a stop that waited for the
   requests under way ends, a new dispatcher waiting for them is swapped
   in (on the work timer: not from inside the old one's step) */
static void run_dispatched(void *arg, int rc)
{
	struct run *r = arg;

	(void)rc;		/* logged by the dispatcher */
	/* a stop waits for held answers too (up to shutdown-timeout): a
	   quit would drop them and the next start call again */
	if (r->stopping && dispatch_in_flight(r->d) == 0 &&
	    !dispatch_holding(r->d))
		run_quit(r);
	else if (r->d_next && dispatch_in_flight(r->d) == 0 &&
		 !dispatch_holding(r->d))
		loop_timer_soon(r->work, 0);
	run_check_state(r);
}

/* run_dispatch_wire - R->d hooked to the worker and started */
void run_dispatch_wire(struct run *r)
{
	dispatch_on_step(r->d, run_dispatched, r);
	dispatch_kick(r->d);
}

/* run_tick_due - the periodic work */
static void run_tick_due(struct loop *l, void *arg)
{
	struct run *r = arg;
	struct metrics *m = run_metrics(r);
	char err[512];

	(void)l;
	loop_timer_at(r->tick, RUN_TICK_MS);
	if (m)
		(void)metrics_tick(m, (int64_t)time(NULL));	/* logged */
	log_tick();		/* repeats of a line held for a while */

	if (r->watch_lost) {
		int wrc = loop_watch_dir(r->watch, spool_acct_dir(r->sp),
					 RUN_WATCH_ACCT, err, sizeof(err));

		if (wrc == 0) {
			r->watch_lost = false;
			r->watch_said = false;
			log_info("run", "watching %s again",
				 spool_acct_dir(r->sp));
			spool_scan(r->sp);
		} else if (wrc != -ENOENT && !r->watch_said) {
			/* back, but not to be watched (its mode, the
			   watches' limit): said once, tried every tick */
			r->watch_said = true;
			log_error("run", "%s; nothing new is taken until it "
				  "can be watched", err);
		}
	}
	/* files a scan found still being written, or closed before acct/
	   was watched (no event will come for them): taken once quiet;
	   only those (a file that came while acct/ was watched comes with
	   its event, however long its writer pauses) */
	if (spool_young(r->sp) > 0 && !r->watch_lost)
		spool_scan_young(r->sp);
	if (run_now_ms() >= r->next_expire)
		run_expire(r);
	run_mail_note(r, -1);
	(void)run_notify(r);	/* a reload's, once the mail under way went */
	/* with nothing to read, the clock moves incidents and alerts on */
	if (run_now_ms() >= r->next_clock && r->in && !r->job) {
		r->next_clock = run_now_ms() + RUN_CLOCK_MS;
		(void)ingest_clock(r->in, (int64_t)time(NULL));
	}
	run_work_arm(r);
	run_check_state(r);
}

/* run_signal - a signal arrived */
static void run_signal(int signo, void *arg)
{
	struct run *r = arg;

	if (signo == SIGHUP) {
		if (!r->stopping)
			run_reload(r);
		(void)run_notify(r);
		run_work_arm(r);
	} else if (!r->quit) {
		run_stop(r, signo);
	}
}

/* run_watched - a name arrived, events were lost, or a directory went */
static void run_watched(enum loop_watch_what what, int tag, const char *name,
			void *arg)
{
	struct run *r = arg;

	switch (what) {
	case LOOP_WATCH_NAME:
		if (tag == RUN_WATCH_ACCT && spool_push(r->sp, name))
			log_debug("run", "%s: arrived", name);
		else if (tag >= RUN_WATCH_MAIL)
			run_mail_note(r, tag);
		break;
	case LOOP_WATCH_LINKED:
		/* no close comes for it here: taken once quiet, as a file
		   a scan found young (its writer, if any, writes it under
		   its other name; one that still has it open is waited for
		   when it is taken) */
		if (tag == RUN_WATCH_ACCT && spool_note_young(r->sp, name))
			log_debug("run", "%s: arrived as a link to a file: "
				  "taken once it is quiet", name);
		else if (tag >= RUN_WATCH_MAIL)
			run_mail_note(r, tag);
		break;
	case LOOP_WATCH_OVERFLOW:
		run_mail_note(r, -1);
		log_warn("run", "too many events at once: scanning %s",
			 spool_acct_dir(r->sp));
		spool_scan(r->sp);
		break;
	case LOOP_WATCH_LOST:
		if (tag >= RUN_WATCH_MAIL) {
			log_error("run", "a maildir of the spool went away: "
				  "mails are looked for every second until it "
				  "is back");
			r->mail_watch_lost = true;
		} else if (tag == RUN_WATCH_ACCT) {
			log_error("run", "%s went away (moved, deleted or "
				  "unmounted): nothing new is taken until it is "
				  "back", spool_acct_dir(r->sp));
			r->watch_lost = true;
		}
		break;
	}
	run_work_arm(r);
}

/* run_loop_new - the loop, its sources and timers; an exit code */
static int run_loop_new(struct run *r)
{
	char err[512];

	r->loop = loop_new();
	if (loop_signals_new(&r->signals, r->loop, run_signal, r, err,
			     sizeof(err)) != 0 ||
	    loop_watch_new(&r->watch, r->loop, run_watched, r, err,
			   sizeof(err)) != 0 ||
	    loop_watch_dir(r->watch, spool_acct_dir(r->sp), RUN_WATCH_ACCT,
			   err, sizeof(err)) != 0) {
		run_fail("%s", err);
		return EXIT_SOFTWARE;
	}
	r->multi = multi_new(r->loop);
	r->tick = loop_timer_new(r->loop, run_tick_due, r);
	r->work = loop_timer_new(r->loop, run_work_due, r);
	r->deadline_timer = loop_timer_new(r->loop, run_deadline_due, r);
	loop_timer_at(r->tick, RUN_TICK_MS);
	return EXIT_OK;
}

/* run_start - everything but the lock; an exit code */
static int run_start(struct run *r, const struct config *cfg)
{
	char err[512];
	int rc;

	if (spool_open(&r->sp, cfg->spool, cfg->acct_ignore,
		       cfg->done_retention, err, sizeof(err)) != 0) {
		run_fail("%s", err);
		return EXIT_CANTCREAT;
	}
	rc = run_spool_lock(r);
	if (rc == EXIT_OK)
		rc = run_loop_new(r);
	if (rc != EXIT_OK)
		return rc;
	rc = state_open(&r->st, cfg->state, false, err, sizeof(err));
	if (rc) {
		run_fail("%s", err);
		return EXIT_IOERR;
	}
	r->in = ingest_new(cfg, r->st);
	if (!r->in)
		return EXIT_CONFIG;	/* logged */
	r->in_cfg = cfg;
	if (dispatch_new(&r->d, cfg, r->st, r->loop, r->multi, err,
			 sizeof(err)) != 0) {
		run_fail("%s", err);
		return EXIT_CONFIG;
	}
	r->d_cfg = cfg;
	run_dispatch_wire(r);
	(void)run_metrics(r);
	(void)run_notify(r);
	return run_mail_start(r);
}

/* run_cleanup - everything, in reverse order */
static void run_cleanup(struct run *r)
{
	run_acct_pause(r);
	metrics_free(r->metrics);
	notify_sender_free(r->notify);
	dispatch_free(r->d_next);
	dispatch_free(r->d);	/* answers a deadline came before the step of
				   are written (logged) */
	ingest_free(r->in_next);
	ingest_free(r->in);
	state_close(r->st);
	loop_timer_free(r->tick);
	loop_timer_free(r->work);
	loop_timer_free(r->deadline_timer);
	loop_watch_free(r->watch);
	loop_signals_free(r->signals);	/* the signal mask restored */
	multi_free(r->multi);
	loop_free(r->loop);
	spool_mail_free(r->sm);
	spool_free(r->sp);
	spool_tries_free(r->tries);
	if (r->fail_why)
		g_hash_table_destroy(r->fail_why);
	r->cfg = r->in_cfg = r->in_next_cfg = r->d_cfg = r->d_next_cfg = NULL;
	r->metrics_cfg = r->sm_cfg = r->notify_cfg = NULL;
	run_configs_gc(r);
	g_ptr_array_free(r->configs, TRUE);
	lockfile_release(r->spool_lock);
	lockfile_release(r->lock);
}

/* cmd_run - bounced run */
int cmd_run(const struct config *cfg, const struct cli_global *g,
	    const struct cli_args *a)
{
	struct run r;
	int ex, rc, n;

	memset(&r, 0, sizeof(r));
	r.g = g;
	r.cfg = cfg;
	r.configs = g_ptr_array_new();
	r.defer_ms = timeparse_env_ms("BOUNCED_DEFER_MS", RUN_DEFER_MS);
	if (a->n_operands > 0) {
		fprintf(stderr, "bounced: run: unexpected argument (see "
			"'bounced help run')\n");
		ex = EXIT_USAGE;
		goto out;
	}
	(void)alloc_tune_reexec("the worker");
	signal(SIGPIPE, SIG_IGN);
	ex = run_lock(&r, cfg->state);
	if (ex == EXIT_OK)
		ex = run_start(&r, cfg);
	if (ex != EXIT_OK)
		goto out;
	log_info("run", "started (pid %ld): spool %s, state %s, %zu "
		 "providers", (long)getpid(), cfg->spool, cfg->state,
		 cfg->n_providers);
	n = spool_scan(r.sp);
	if (n > 0)
		log_info("run", "%d files wait in %s", n, spool_acct_dir(r.sp));
	if (spool_young(r.sp) > 0)
		log_info("run", "%u files of %s were written in the last %d s: "
			 "taken once closed (or quiet)", spool_young(r.sp),
			 spool_acct_dir(r.sp), SPOOL_YOUNG_MS / 1000);
	run_expire(&r);
	run_lock_ready(&r);
	run_work_arm(&r);
	rc = loop_run(r.loop);
	if (rc) {
		log_error("run", "the event loop failed: %s; exiting",
			  strerror(-rc));
		ex = EXIT_SOFTWARE;
	} else if (r.ex != EXIT_OK) {
		ex = r.ex;
	}
	if (r.metrics)
		(void)metrics_flush(r.metrics, (int64_t)time(NULL));
	log_info("run", "stopped%s", dispatch_in_flight(r.d) ?
		 " (requests still under way are sent again on the next "
		 "start)" : "");
out:
	run_cleanup(&r);
	return ex;
}
