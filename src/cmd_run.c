/*
 * cmd_run.c - bounced run: the spool worker, one thread, one loop.
 *
 * Start: the lock STATE/bounced.lock (lockfile.h: the state's one
 * dispatcher; a second worker on the same state exits 75 naming the
 * holder's pid, a `bounced process` sending the outbox is waited for), the
 * spool's directories and the lock SPOOL/bounced.lock (one worker per
 * spool, whatever its state: the same rules), the loop (signals, inotify
 * on SPOOL/acct, a 1 s tick), the state, the ingest context and the
 * dispatcher; then what arrived while no worker ran (a scan of acct/,
 * oldest first; a file half-taken resumes at its commit).  The pid is
 * written into the lock files last: once it is there, the worker is ready
 * (a file arriving from then on is seen by inotify).
 *
 * The loop (docs/RUN.md):
 *     while (!quit) { wait for events; handle them; ingest slice; dispatch }
 * The one-second tick also feeds the metrics (an RRD update at each step
 * boundary, the textfile); the last step is written at shutdown.
 * The wait is 0 while a file is being taken, else until the next action
 * falls due (dispatch_next_due), a signal, a name, the tick or network
 * activity.  Ingest slices (run_take.c) and dispatch steps alternate, so a
 * large file delays a provider call by at most a slice and a commit.
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
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "dispatch.h"
#include "exitcodes.h"
#include "ingest.h"
#include "log.h"
#include "lockfile.h"
#include "loop.h"
#include "metrics.h"
#include "notify_send.h"
#include "run_priv.h"
#include "spool.h"
#include "spool_mail.h"
#include "state.h"

#define RUN_TICK_MS 1000	/* the periodic tick */
#define RUN_IDLE_MS 1000	/* longest wait with nothing due */
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
static int run_lock(struct run *r, const char *state_dir)
{
	char *path = g_build_filename(state_dir, "bounced.lock", NULL);
	char err[PATH_MAX + 128];
	int ex = EXIT_OK, rc;

	if (g_mkdir_with_parents(state_dir, 0750) != 0) {
		fprintf(stderr, "bounced: cannot create the state directory "
			"'%s': %s\n", state_dir, strerror(errno));
		ex = EXIT_IOERR;
		goto out;
	}
	rc = lockfile_take(path, LOCKFILE_RUN, true, &r->lock, err,
			   sizeof(err));
	if (rc) {
		fprintf(stderr, "bounced: %s\n", err);
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
		fprintf(stderr, "bounced: %s: it takes the files of %s (one "
			"worker per spool)\n", err, spool_acct_dir(r->sp));
	else
		fprintf(stderr, "bounced: %s\n", err);
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

/* run_stop - SIGTERM/SIGINT: stop taking input, let requests finish */
static void run_stop(struct run *r, int signo)
{
	char d[32];

	if (r->stopping) {
		log_warn("run", "%s again: exiting now (requests under way are "
			 "sent again on the next start)", run_signame(signo));
		r->quit = true;
		return;
	}
	r->stopping = true;
	r->deadline = run_now_ms() + r->cfg->shutdown_timeout_ms;
	run_take_pause(r);
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
}

/* run_expire - sweep done/ */
static void run_expire(struct run *r)
{
	int n = spool_expire(r->sp, time(NULL));

	if (n > 0)
		log_info("run", "deleted %d files from done/ (older than "
			 "done-retention)", n);
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

/* run_notify - the operator's mail sender of the current configuration
   (rebuilt after a reload that is not sending) */
static struct notify_sender *run_notify(struct run *r)
{
	char err[512];

	if (r->notify_cfg == r->cfg || notify_sender_busy(r->notify))
		return r->notify;
	notify_sender_free(r->notify);
	r->notify = NULL;
	r->notify_cfg = r->cfg;
	if (notify_sender_new(&r->notify, r->cfg, r->st, err, sizeof(err)) != 0)
		log_error("run", "%s; no mail to the operator until the next "
			  "reload", err);
	return r->notify;
}

/* run_tick - the periodic work */
static void run_tick(struct run *r)
{
	struct metrics *m = run_metrics(r);
	char err[512];

	if (m)
		(void)metrics_tick(m, (int64_t)time(NULL));	/* logged */
	log_tick();		/* repeats of a line held for a while */

	if (r->watch_lost) {
		if (loop_watch(r->loop, spool_acct_dir(r->sp), RUN_WATCH_ACCT,
			       err, sizeof(err)) == 0) {
			r->watch_lost = false;
			log_info("run", "watching %s again",
				 spool_acct_dir(r->sp));
			spool_scan(r->sp);
		}
	}
	if (run_now_ms() >= r->next_expire)
		run_expire(r);
	run_mail_note(r, -1);
}

/* run_events - what one wait brought */
static void run_events(struct run *r, const struct loop_events *ev)
{
	size_t i;

	if (ev->stops)
		run_stop(r, ev->stop_signo);
	if (ev->stops > 1 && !r->quit)
		run_stop(r, ev->stop_signo);
	if (ev->reload && !r->stopping)
		run_reload(r);
	for (i = 0; i < ev->n_names; i++) {
		if (ev->names[i].tag == RUN_WATCH_ACCT &&
		    spool_push(r->sp, ev->names[i].name))
			log_debug("run", "%s: arrived", ev->names[i].name);
		else if (ev->names[i].tag >= RUN_WATCH_MAIL)
			run_mail_note(r, ev->names[i].tag);
	}
	if (ev->overflow)
		run_mail_note(r, -1);
	if (ev->lost_tag >= RUN_WATCH_MAIL) {
		log_error("run", "a maildir of the spool went away: mails are "
			  "looked for every second until it is back");
		r->mail_watch_lost = true;
	}
	if (ev->overflow) {
		log_warn("run", "too many events at once: scanning %s",
			 spool_acct_dir(r->sp));
		spool_scan(r->sp);
	}
	if (ev->lost_tag == RUN_WATCH_ACCT) {
		log_error("run", "%s went away (moved, deleted or unmounted): "
			  "nothing new is taken until it is back",
			  spool_acct_dir(r->sp));
		r->watch_lost = true;
	}
	if (ev->ticks)
		run_tick(r);
}

/* run_timeout - how long the next wait may be */
static int run_timeout(struct run *r)
{
	int64_t now = run_now_ms(), t = RUN_IDLE_MS, in;

	if (r->quit || (!r->stopping && (run_take_busy(r) || run_mail_busy(r))))
		return 0;
	if (dispatch_next_due(r->d, &in) == 0 && in < t)
		t = in;
	if (r->stopping && r->deadline - now < t)
		t = r->deadline - now;
	if (notify_sender_busy(r->notify) && t > NOTIFY_SEND_POLL_MS)
		t = NOTIFY_SEND_POLL_MS;
	if (!r->stopping && spool_queued(r->sp) > 0 && r->defer_until - now < t)
		t = r->defer_until - now;
	return t > 0 ? (int)t : 0;
}

/* run_work - a slice of ingest, a dispatch step, the swaps */
static void run_work(struct run *r)
{
	if (!r->stopping) {
		run_take_work(r);
		run_mail_work(r);
		(void)notify_sender_step(run_notify(r), run_now_ms());
	}
	(void)dispatch_step(r->d, 0);	/* errors are logged by it */
	if (r->d_next || r->in_next)
		run_swap(r);
	if (r->stopping && (dispatch_in_flight(r->d) == 0 ||
			    run_now_ms() >= r->deadline))
		r->quit = true;
}

/* run_start - everything but the lock; an exit code */
static int run_start(struct run *r, const struct config *cfg)
{
	char err[512];
	int rc;

	if (spool_open(&r->sp, cfg->spool, cfg->acct_ignore,
		       cfg->done_retention, err, sizeof(err)) != 0) {
		fprintf(stderr, "bounced: %s\n", err);
		return EXIT_CANTCREAT;
	}
	rc = run_spool_lock(r);
	if (rc != EXIT_OK)
		return rc;
	if (loop_new(&r->loop, RUN_TICK_MS, err, sizeof(err)) != 0 ||
	    loop_watch(r->loop, spool_acct_dir(r->sp), RUN_WATCH_ACCT, err,
		       sizeof(err)) != 0) {
		fprintf(stderr, "bounced: %s\n", err);
		return EXIT_SOFTWARE;
	}
	rc = state_open(&r->st, cfg->state, false, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "bounced: %s\n", err);
		return EXIT_IOERR;
	}
	r->in = ingest_new(cfg, r->st);
	if (!r->in)
		return EXIT_CONFIG;	/* logged */
	r->in_cfg = cfg;
	if (dispatch_new(&r->d, cfg, r->st, err, sizeof(err)) != 0) {
		fprintf(stderr, "bounced: %s\n", err);
		return EXIT_CONFIG;
	}
	r->d_cfg = cfg;
	(void)run_metrics(r);
	(void)run_notify(r);
	return run_mail_start(r);
}

/* run_cleanup - everything, in reverse order */
static void run_cleanup(struct run *r)
{
	run_take_pause(r);
	metrics_free(r->metrics);
	notify_sender_free(r->notify);
	dispatch_free(r->d_next);
	dispatch_free(r->d);
	ingest_free(r->in_next);
	ingest_free(r->in);
	state_close(r->st);
	loop_free(r->loop);
	spool_mail_free(r->sm);
	spool_free(r->sp);
	g_free(r->retry_name);
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
int cmd_run(const struct config *cfg, const struct cli_global *g, int argc,
	    char **argv)
{
	struct run r;
	struct loop_events ev;
	int ex, rc, n;

	memset(&r, 0, sizeof(r));
	r.g = g;
	r.cfg = cfg;
	r.configs = g_ptr_array_new();
	if (argc > 1) {
		fprintf(stderr, "bounced: run takes no arguments, not '%s' (see "
			"'bounced --help')\n", argv[1]);
		ex = EXIT_USAGE;
		goto out;
	}
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
	run_expire(&r);
	run_lock_ready(&r);
	while (!r.quit) {
		rc = loop_wait(r.loop, r.d, run_timeout(&r), &ev);
		if (rc) {
			log_error("run", "the event loop failed: %s; exiting",
				  strerror(-rc));
			ex = EXIT_SOFTWARE;
			break;
		}
		run_events(&r, &ev);
		if (!r.quit)
			run_work(&r);
		if (!state_usable(r.st)) {
			log_error("run", "the state cannot be used any more "
				  "(its map could not be set up again after a "
				  "failed resize, logged above); exiting");
			ex = EXIT_IOERR;
			break;
		}
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
