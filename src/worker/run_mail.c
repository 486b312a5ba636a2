/*
 * run_mail.c - the maildirs of `bounced run`: SPOOL/fbl/new (feedback
 * reports) and SPOOL/unsub/new (unsubscribe mails), watched with inotify
 * (a mail appears there by rename, from `bounced drop`) and looked at on
 * every tick as well, so a mail missed by a lost watch or an overflow
 * waits at most a second.
 *
 * Mails are taken in slices of about RUN_SLICE_MS between the looks at
 * the loop, like accounting files; each is one transaction (spool_mail.c).
 * A reload that changed the configuration takes effect on the next slice:
 * the unsubscribe address forms are compiled again with it.  A mail that
 * cannot be read is tried again every defer time (spool_mail.c) while the
 * mails after it are taken.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "exitcodes.h"
#include "ingest.h"
#include "log.h"
#include "loop_watch.h"
#include "run_priv.h"
#include "spool_mail.h"
#include "state.h"

int run_mail_start(struct run *r)
{
	char err[512];
	int k;

	if (spool_mail_new(&r->sm, r->sp, r->in_cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "bounced: %s\n", err);
		return EXIT_CANTCREAT;
	}
	r->sm_cfg = r->in_cfg;
	spool_mail_set_retry(r->sm, r->defer_ms);
	for (k = 0; k < SPOOL_MAIL_KINDS; k++)
		if (loop_watch_dir(r->watch, spool_mail_new_dir(r->sm, k),
			       RUN_WATCH_MAIL + k, err, sizeof(err)) != 0) {
			fprintf(stderr, "bounced: %s\n", err);
			return EXIT_SOFTWARE;
		}
	run_mail_note(r, -1);
	return EXIT_OK;
}

void run_mail_note(struct run *r, int tag)
{
	char err[512];
	int k;

	if (tag >= RUN_WATCH_MAIL && tag < RUN_WATCH_MAIL + SPOOL_MAIL_KINDS) {
		r->mail_pending[tag - RUN_WATCH_MAIL] = true;
		return;
	}
	for (k = 0; k < SPOOL_MAIL_KINDS; k++)
		r->mail_pending[k] = true;
	if (r->mail_watch_lost && r->sm) {
		r->mail_watch_lost = false;
		for (k = 0; k < SPOOL_MAIL_KINDS; k++)
			if (loop_watch_dir(r->watch, spool_mail_new_dir(r->sm, k),
				       RUN_WATCH_MAIL + k, err,
				       sizeof(err)) != 0)
				r->mail_watch_lost = true;
		if (!r->mail_watch_lost)
			log_info("run", "watching the maildirs again");
	}
}

bool run_mail_busy(const struct run *r)
{
	int k;

	for (k = 0; k < SPOOL_MAIL_KINDS; k++)
		if (r->mail_pending[k])
			return run_now_ms() >= r->defer_until &&
			       run_now_ms() >= r->mail_defer_until;
	return false;
}

/* run_mail_config - the maildirs under the configuration ingest uses */
static int run_mail_config(struct run *r)
{
	struct spool_mail *sm = NULL;
	char err[512];

	if (r->sm_cfg == r->in_cfg)
		return 0;
	if (spool_mail_new(&sm, r->sp, r->in_cfg, err, sizeof(err)) != 0) {
		char dt[RUN_DEFER_TEXT];

		/* the accounting files go on meanwhile */
		log_error("run", "%s: mails wait; trying again in %s", err,
			  run_defer_text(r, dt));
		r->mail_defer_until = run_now_ms() + r->defer_ms;
		return -1;
	}
	r->mail_defer_until = 0;
	spool_mail_set_retry(sm, r->defer_ms);
	spool_mail_adopt(sm, r->sm);
	spool_mail_free(r->sm);
	r->sm = sm;
	r->sm_cfg = r->in_cfg;
	return 0;
}

void run_mail_work(struct run *r)
{
	struct ingest_counts c;
	char dt[RUN_DEFER_TEXT];
	bool more;
	int k, n;

	if (!run_mail_busy(r) || r->job || run_mail_config(r) != 0)
		return;
	for (k = 0; k < SPOOL_MAIL_KINDS; k++) {
		if (!r->mail_pending[k])
			continue;
		memset(&c, 0, sizeof(c));
		n = spool_mail_take(r->sm, r->in, k, RUN_SLICE_MS, &c, NULL,
				    &more, NULL);
		if (n < 0) {
			/* what failed is logged where it did (the mail, its
			   reading, its commit).  A mail that cannot leave
			   new/ holds the mails back; the state's failure
			   holds everything */
			bool stuck = spool_mail_stuck(r->sm);

			log_error("run", "mails of %s wait (%s)%s; trying "
				  "again in %s", spool_mail_new_dir(r->sm, k),
				  state_strerror(n),
				  stuck ? ", the accounting files go on" : "",
				  run_defer_text(r, dt));
			if (stuck)
				r->mail_defer_until = run_now_ms() + r->defer_ms;
			else
				r->defer_until = run_now_ms() + r->defer_ms;
			return;
		}
		r->mail_pending[k] = more;
		if (more)
			return;	/* the rest on the next slice */
	}
}
