/*
 * run_priv.h - what the files of `bounced run` share: the worker's state.
 *
 * cmd_run.c is the command (options, lock, start, the loop's callbacks:
 * signals, names, the tick, the ingest slices, shutdown; exit);
 * run_acct.c takes the files of the spool one at a time, in bounded
 * steps, and decides where each goes (done/ or failed/); run_reload.c is
 * SIGHUP.
 */
#ifndef BOUNCED_RUN_PRIV_H
#define BOUNCED_RUN_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "timeparse.h"

struct cli_global;
struct config;
struct dispatch;
struct ingest;
struct ingest_job;
struct lockfile;
struct loop;
struct loop_signals;
struct loop_timer;
struct loop_watch;
struct metrics;
struct multi;
struct spool;
struct spool_tries;
struct spool_mail;
struct notify_sender;
struct state;

#define RUN_SLICE_MS 50		/* ingest work between two looks at the loop */
#define RUN_DEFER_MS 10000	/* ingest paused after an error (default;
				   BOUNCED_DEFER_MS for the tests) */

struct run {
	const struct cli_global *g;
	const struct config *cfg;	/* the newest good configuration */
	GPtrArray *configs;		/* struct config * loaded by reloads */
	struct state *st;
	struct spool *sp;
	struct loop *loop;		/* everything below runs on its turns */
	struct loop_signals *signals;	/* TERM, INT, HUP */
	struct loop_watch *watch;	/* SPOOL/acct and the maildirs */
	struct multi *multi;		/* the curl transfers */
	struct loop_timer *tick;	/* the periodic work, every second */
	struct loop_timer *work;	/* ingest slices, swaps */
	struct loop_timer *deadline_timer; /* shutdown-timeout */
	int ex;				/* exit code a callback decided */
	struct lockfile *lock;		/* STATE/bounced.lock */
	struct lockfile *spool_lock;	/* SPOOL/bounced.lock */

	/* ingest and dispatcher, each with the configuration it was built
	   with; *_next: built by a reload, swapped in when safe */
	struct ingest *in, *in_next;
	const struct config *in_cfg, *in_next_cfg;
	struct dispatch *d, *d_next;
	const struct config *d_cfg, *d_next_cfg;
	/* the RRD and textfile feeder (NULL when it could not start) */
	struct metrics *metrics;
	const struct config *metrics_cfg;

	/* the file being taken */
	struct ingest_job *job;
	int64_t next_clock;		/* run_now_ms of the next ingest_clock */
	char *name;			/* in acct/ */
	char *path;			/* acct/NAME */
	/* files whose reading failed (spool_tries.h; made at the first):
	   each waits for its next attempt while the files after it are
	   taken */
	struct spool_tries *tries;
	int64_t wait_until;		/* every queued file waits until then... */
	unsigned long wait_pushes;	/* ...while none was queued since */
	int64_t defer_until;		/* no new file before (monotonic ms) */
	int64_t mail_defer_until;	/* no mail before: the maildirs of a
					   reloaded configuration could not
					   be made */
	int64_t defer_ms;		/* the pause after an error */
	GHashTable *fail_why;		/* name -> why: failed, but its move to
					   failed/ must be tried again */

	bool stopping;			/* SIGTERM/SIGINT: draining */
	int64_t deadline;		/* ...until then (monotonic ms) */
	bool quit;
	bool watch_lost;
	bool watch_said;		/* ...and why it is not watched again
					   was logged (not each tick) */
	int64_t next_expire;		/* next sweep of done/ (monotonic ms) */
	/* the maildirs fbl/ and unsub/ (run_mail.c) */
	struct spool_mail *sm;
	const struct config *sm_cfg;	/* the configuration SM was made with */
	bool mail_pending[2];		/* new/ of each may hold mails */
	bool mail_watch_lost;
	/* the operator's mail (notify_send.h) */
	struct notify_sender *notify;
	const struct config *notify_cfg;
};

/* loop tags: SPOOL/acct, SPOOL/fbl/new, SPOOL/unsub/new */
#define RUN_WATCH_ACCT 0
#define RUN_WATCH_MAIL 1	/* + enum spool_mail_kind */

/* run_mail_start - the maildirs and their watches; an exit code (run_mail.c) */
int run_mail_start(struct run *r);
/* run_mail_work - a slice of the mails that wait, when any may (run_mail.c) */
void run_mail_work(struct run *r);
/* run_mail_busy - mails may wait */
bool run_mail_busy(const struct run *r);
/* run_mail_events - a name arrived in a maildir (TAG), or every maildir
   must be looked at (TAG -1: start, overflow, tick) */
void run_mail_note(struct run *r, int tag);

/* run_now_ms - the monotonic clock in ms */
int64_t run_now_ms(void);

/* run_defer_text - the pause after an error, for logs ("10 s"), in BUF
   (RUN_DEFER_TEXT bytes) */
#define RUN_DEFER_TEXT 32
static inline const char *run_defer_text(const struct run *r, char *buf)
{
	return timeparse_ms_text(r->defer_ms, buf, RUN_DEFER_TEXT);
}

/* run_acct_work - one slice of ingest: start the next queued file, or go
   on with the current one for about RUN_SLICE_MS, and move it to done/ or
   failed/ when it ends */
void run_acct_work(struct run *r);

/* run_acct_busy - a file is being taken, or one waits (and may start now) */
bool run_acct_busy(const struct run *r);
/* run_acct_due - when the queued files may be taken, when not busy: the
   end of the pause, or the next attempt of the first of them to come when
   every one waits for its next attempt (monotonic ms) */
int64_t run_acct_due(const struct run *r);

/* run_acct_pause - commit what the current file gave so far and let it go
   (it resumes there on the next start); shutdown */
void run_acct_pause(struct run *r);

/* run_reload - SIGHUP: reopen the log, reload the configuration
   (run_reload.c) */
void run_reload(struct run *r);

/* run_swap - put a reloaded ingest / dispatcher in place when safe (no
   file being taken / no request under way); run_reload.c */
void run_swap(struct run *r);

/* run_configs_gc - free the reloaded configurations no part uses any
   more; run_reload.c */
void run_configs_gc(struct run *r);

/* run_dispatch_wire - the dispatcher in R->d (new, or swapped in) hooked
   to the worker and started (cmd_run.c) */
void run_dispatch_wire(struct run *r);

#endif
