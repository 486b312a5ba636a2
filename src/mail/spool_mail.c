/*
 * spool_mail.c - take the mails of the spool's maildirs (fbl/new,
 * unsub/new) into the state, one mail one transaction, and move each to
 * done/ or failed/.
 *
 * new/ is read afresh on each call (it holds what waits, usually little),
 * at most SPOOL_MAIL_BATCH names at a time, oldest first.  The order of a
 * commit and a move is the one of accounting files: the state records the
 * mail as taken before it leaves new/, so a crash between the two only
 * leaves a known mail behind, which is moved on the next pass.  A mail of
 * fbl/ that is no feedback report about our mail (a bounce, an
 * auto-reply, a DMARC report, a forward, another sender's report) is set
 * aside: counted in the state like a taken one, then moved to ignored/
 * with what it is.
 *
 * A mail that cannot be read (an I/O error of its file: not the state's,
 * not the memory's) stays in new/ and the mails after it are taken; the
 * worker tries it again every retry_ms and moves it to failed/ after
 * SPOOL_TRIES attempts (spool_tries.h), `bounced process` (retry 0)
 * leaves it for the next run.  One that retrying cannot mend (no
 * permission, a path the state cannot record) goes to failed/ at once.  Errors of the state stop the pass: every mail
 * waits.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "config.h"
#include "fbl_policy.h"
#include "ingest.h"
#include "log.h"
#include "mail_events.h"
#include "maildir.h"
#include "spool.h"
#include "spool_mail.h"
#include "spool_tries.h"
#include "timeparse.h"

#define SPOOL_MAIL_BATCH 1000	/* names read from new/ per call */
#define SPOOL_MAIL_LEFT 2	/* spool_mail_one: cannot be read, left */

struct spool_mail {
	struct spool *sp;
	const struct config *cfg;
	char *dir[SPOOL_MAIL_KINDS];	/* SPOOL/fbl, SPOOL/unsub */
	char *new_dir[SPOOL_MAIL_KINDS];
	struct unsub_addr_set *unsub;
	struct fbl_policy *fbl;
	struct mail_events *me;
	struct spool_tries *tries[SPOOL_MAIL_KINDS]; /* unreadable mails */
	GHashTable *odd[SPOOL_MAIL_KINDS];   /* no files in new/, said once */
	int retry_ms;		/* 0: one pass, unreadable mails left */
	bool stuck;		/* the last take failed moving a mail */
};

static const char *const spool_mail_names[SPOOL_MAIL_KINDS] = { "fbl",
								"unsub" };

const char *spool_mail_kind_name(enum spool_mail_kind kind)
{
	return spool_mail_names[kind];
}

int spool_mail_sweep(const struct spool_mail *sm, time_t now)
{
	int k, n = 0, rc;

	for (k = 0; k < SPOOL_MAIL_KINDS; k++) {
		rc = maildir_sweep_tmp(sm->dir[k], now);
		if (rc < 0)
			log_error("spool", "cannot read '%s/tmp': %s", sm->dir[k],
				  strerror(-rc));
		else if (rc > 0)
			log_info("spool", "deleted %d files of %s/tmp left "
				 "there over 36 hours (by a bounced drop that "
				 "was killed)", rc, sm->dir[k]);
		n += rc > 0 ? rc : 0;
	}
	return n;
}

const char *spool_mail_new_dir(const struct spool_mail *sm,
			       enum spool_mail_kind kind)
{
	return sm->new_dir[kind];
}

int spool_mail_new(struct spool_mail **out, struct spool *sp,
		   const struct config *cfg, char *err, size_t errlen)
{
	struct spool_mail *sm = g_new0(struct spool_mail, 1);
	int i, rc;

	*out = NULL;
	sm->sp = sp;
	sm->cfg = cfg;
	sm->me = g_new0(struct mail_events, 1);
	for (i = 0; i < SPOOL_MAIL_KINDS; i++) {
		sm->odd[i] = g_hash_table_new_full(g_str_hash, g_str_equal,
						   g_free, NULL);
		sm->dir[i] = g_build_filename(spool_dir(sp),
					      spool_mail_names[i], NULL);
		sm->new_dir[i] = g_build_filename(sm->dir[i], "new", NULL);
		sm->tries[i] = spool_tries_new(sm->new_dir[i], false);
		rc = maildir_create(sm->dir[i], err, errlen);
		if (rc)
			goto fail;
	}
	rc = unsub_addr_compile(cfg->unsub_addresses ? cfg->unsub_addresses :
						      UNSUB_ADDR_DEFAULT,
				cfg->unsub_secret, &sm->unsub, err, errlen);
	if (rc)
		goto fail;
	sm->me->unsub = sm->unsub;
	sm->fbl = fbl_policy_new(cfg);
	sm->me->fbl = sm->fbl;
	*out = sm;
	return 0;
fail:
	spool_mail_free(sm);
	return rc < 0 ? rc : -EINVAL;
}

void spool_mail_free(struct spool_mail *sm)
{
	int i;

	if (!sm)
		return;
	for (i = 0; i < SPOOL_MAIL_KINDS; i++) {
		g_free(sm->dir[i]);
		g_free(sm->new_dir[i]);
		spool_tries_free(sm->tries[i]);
		if (sm->odd[i])
			g_hash_table_destroy(sm->odd[i]);
	}
	unsub_addr_free(sm->unsub);
	fbl_policy_free(sm->fbl);
	g_free(sm->me);
	g_free(sm);
}

void spool_mail_set_retry(struct spool_mail *sm, int retry_ms)
{
	int k;

	sm->retry_ms = retry_ms > 0 ? retry_ms : 0;
	/* a worker keeps a bounded book; a one-shot run every name it met */
	for (k = 0; k < SPOOL_MAIL_KINDS; k++)
		spool_tries_bound(sm->tries[k], sm->retry_ms > 0);
}

void spool_mail_adopt(struct spool_mail *sm, struct spool_mail *old)
{
	GHashTable *t;
	int k;

	for (k = 0; k < SPOOL_MAIL_KINDS; k++) {
		spool_tries_adopt(sm->tries[k], old->tries[k]);
		t = sm->odd[k];
		sm->odd[k] = old->odd[k];
		old->odd[k] = t;
	}
}

static int64_t spool_mail_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* spool_mail_aside - DIR/NAME (set aside by the parser: WHY says what it
   is) to ignored/AS, counted in ASIDE when COUNT; the move's 0 or -errno
   (logged) */
static int spool_mail_aside(struct spool_mail *sm, enum spool_mail_kind kind,
			     const char *name, const char *as,
			     const char *why, bool count, uint64_t *aside)
{
	int k = sm->me->aside;

	log_info("spool", "%s/new/%s: set aside (%s): %s",
		 spool_mail_names[kind], name, mail_aside_name((unsigned)k),
		 why);
	if (count && aside && k >= 0 && k < MAIL_ASIDE_KINDS)
		aside[k]++;
	return spool_ignore_from(sm->sp, sm->new_dir[kind], name, as, why);
}

/* spool_mail_unreadable - DIR/NAME could not be read (RC, the file's
   error): left in new/ to be tried again, or to failed/ after
   SPOOL_TRIES attempts; SPOOL_MAIL_LEFT or 1 (refused) */
static int spool_mail_unreadable(struct spool_mail *sm,
				 enum spool_mail_kind kind, const char *name,
				 const char *as, int rc,
				 struct ingest_counts *total)
{
	struct spool_tries *t = sm->tries[kind];
	int64_t next = sm->retry_ms ? spool_mail_now_ms() + sm->retry_ms :
				      INT64_MAX; /* not again in this run */
	unsigned attempts = spool_tries_fail(t, name, next);
	char why[512], dt[32];
	int moved;

	if (attempts == 0) {
		snprintf(why, sizeof(why), "cannot be read: %s (and %d other "
			 "mails cannot either: no more tries kept)",
			 strerror(-rc), SPOOL_TRIES_MAX);
	} else if (sm->retry_ms == 0) {
		log_warn("spool", "%s/new/%s: cannot be read (%s): left in "
			 "new/ for the next run; the mails after it are taken",
			 spool_mail_names[kind], name, strerror(-rc));
		return SPOOL_MAIL_LEFT;
	} else if (attempts < SPOOL_TRIES) {
		log_warn("spool", "%s/new/%s: cannot be read (%s): left in "
			 "new/, tried again in %s (attempt %u of %d); the "
			 "mails after it are taken", spool_mail_names[kind],
			 name, strerror(-rc),
			 timeparse_ms_text(sm->retry_ms, dt, sizeof(dt)),
			 attempts, SPOOL_TRIES);
		return SPOOL_MAIL_LEFT;
	} else {
		snprintf(why, sizeof(why), "cannot be read: %s (%u attempts)",
			 strerror(-rc), attempts);
	}
	log_warn("spool", "%s/new/%s: refused: %s", spool_mail_names[kind],
		 name, why);
	moved = spool_fail_from(sm->sp, sm->new_dir[kind], name, as, why);
	if (moved != 0 && moved != -ENOENT && attempts) {
		/* still in new/ (failed/ is full, say): tried, and given
		   up, again after the pause, not counted from one again */
		spool_tries_wait(t, name, next);
		return SPOOL_MAIL_LEFT;
	}
	total->bad++;
	return 1;	/* spool_mail_one forgets it */
}

/* spool_mail_one - take DIR/NAME; 0, 1 (refused: in failed/),
   SPOOL_MAIL_LEFT (it cannot be read: left in new/), -ENOENT (gone) or
   -errno (the state, the memory, or the spool: a mail taken, refused or
   set aside whose move out of new/ failed, logged; every mail waits, as
   the next pass would find it there again, and the next) */
static int spool_mail_one(struct spool_mail *sm, struct ingest *in,
			  enum spool_mail_kind kind, const char *name,
			  struct ingest_counts *total, uint64_t *aside)
{
	const char *dir = sm->new_dir[kind];
	char *path = g_build_filename(dir, name, NULL);
	char *as = g_strconcat(spool_mail_names[kind], ".", name, NULL);
	ingest_mail_parse_fn parse = kind == SPOOL_MAIL_FBL ?
					     mail_events_arf :
					     mail_events_unsub;
	struct ingest_counts c;
	char why[512];
	int rc, moved = 0;

	sm->me->st = ingest_state(in);
	sm->me->aside = -1;
	rc = ingest_mail(in, path, sm->cfg->drop_max_size, parse, sm->me, &c,
			 why, sizeof(why));
	switch (rc) {
	case INGEST_ASIDE:
		moved = spool_mail_aside(sm, kind, name, as, why, true, aside);
		rc = 0;
		break;
	case INGEST_TAKEN:
		ingest_counts_add(total, &c);
		log_info("spool", "%s/new/%s: taken (%s)",
			 spool_mail_names[kind], name,
			 c.complaints ? "complaint" :
			 c.unsubs ? "unsubscribe" :
			 c.duplicates ? "already suppressed" : "recorded");
		moved = spool_done_from(sm->sp, dir, name, as);
		rc = 0;
		break;
	case INGEST_ALREADY:
		if (why[0])	/* set aside before a crash kept it here */
			moved = spool_mail_aside(sm, kind, name, as, why,
						 false, aside);
		else
			moved = spool_done_from(sm->sp, dir, name, as);
		rc = 0;
		break;
	case INGEST_REFUSED:
	refuse:
		log_warn("spool", "%s/new/%s: refused: %s",
			 spool_mail_names[kind], name, why);
		total->bad++;
		moved = spool_fail_from(sm->sp, dir, name, as, why);
		rc = 1;
		break;
	default:
		if (rc >= 0 || rc == -ENOENT || !ingest_input_failed(in) ||
		    ingest_error_process(rc))
			break;	/* the state's, or the process's: all wait */
		if (ingest_error_final(rc)) {
			snprintf(why, sizeof(why), "cannot be read: %s",
				 strerror(-rc));
			goto refuse;
		}
		rc = spool_mail_unreadable(sm, kind, name, as, rc, total);
		break;
	}
	if (moved < 0 && moved != -ENOENT) {
		rc = moved;	/* still in new/ */
		sm->stuck = true;
	}
	if (rc == 0 || rc == 1)	/* out of new/: its attempts forgotten */
		spool_tries_forget(sm->tries[kind], name);
	g_free(as);
	g_free(path);
	return rc;
}

/* what spool_mail_due looks at */
struct spool_mail_due_arg {
	const struct spool_tries *tries;
	int64_t now;
};

/* spool_mail_due - NAME is not a mail that could not be read and waits
   for its next attempt */
static bool spool_mail_due(const char *name, void *arg)
{
	const struct spool_mail_due_arg *a = arg;

	return spool_tries_next(a->tries, name) <= a->now;
}

int spool_mail_take(struct spool_mail *sm, struct ingest *in,
		    enum spool_mail_kind kind, int max_ms,
		    struct ingest_counts *total, uint64_t *aside, bool *more,
		    int *left)
{
	struct spool_mail_due_arg due = { sm->tries[kind],
					  spool_mail_now_ms() };
	struct spool_list_opts o = { .max = SPOOL_MAIL_BATCH,
				     .at_flags = AT_SYMLINK_NOFOLLOW,
				     .odd = sm->odd[kind] };
	int64_t end = due.now + max_ms;
	GPtrArray *names;
	int n = 0, rc = 0;
	guint i, tried = 0;

	if (left)
		*left = 0;
	sm->stuck = false;
	o.want = spool_tries_any(due.tries) ? spool_mail_due : NULL;
	o.arg = &due;
	names = spool_dir_list(sm->new_dir[kind], &o, more, &rc);
	rc = 0;		/* a new/ that cannot be read is logged: mails wait */
	for (i = 0; names && i < names->len; i++) {
		/* every mail tried counts toward the slice: one that cannot
		   be read or went away takes its time too (a failing disk) */
		if (max_ms > 0 && tried > 0 && spool_mail_now_ms() >= end) {
			*more = true;
			break;
		}
		tried++;
		rc = spool_mail_one(sm, in, kind, g_ptr_array_index(names, i),
				    total, aside);
		if (rc == -ENOENT) {
			rc = 0;
			continue;
		}
		if (rc == SPOOL_MAIL_LEFT) {
			if (left)
				(*left)++;
			rc = 0;
			continue;
		}
		if (rc < 0) {
			*more = true;
			break;
		}
		n++;
	}
	if (names)
		g_ptr_array_free(names, TRUE);
	return rc < 0 ? rc : n;
}

bool spool_mail_stuck(const struct spool_mail *sm)
{
	return sm->stuck;
}

int spool_mail_process(const struct config *cfg, struct ingest *in,
		       struct spool_mail_result *res)
{
	struct spool_mail *sm = NULL;
	struct spool *sp = NULL;
	char err[512];
	bool more, any = false;
	int k, n, left, rc;

	memset(res, 0, sizeof(*res));
	for (k = 0; k < SPOOL_MAIL_KINDS; k++) {
		char *d = g_build_filename(cfg->spool, spool_mail_names[k], "new",
					   NULL);

		any |= g_file_test(d, G_FILE_TEST_IS_DIR);
		g_free(d);
	}
	if (!any)	/* no maildir yet: nothing dropped, nothing to create */
		return 0;
	rc = spool_open(&sp, cfg->spool, cfg->acct_ignore, cfg->done_retention,
			err, sizeof(err));
	if (rc == 0)
		rc = spool_mail_new(&sm, sp, cfg, err, sizeof(err));
	if (rc) {
		log_error("spool", "%s", err);
		goto out;
	}
	for (k = 0; k < SPOOL_MAIL_KINDS; k++) {
		int64_t t0 = spool_mail_now_ms();

		do {
			n = spool_mail_take(sm, in, k, 0, &res->counts[k],
					    res->aside, &more, &left);
			if (n < 0 && spool_mail_stuck(sm)) {
				/* taken, but it cannot leave new/ (logged):
				   the next run finds it recorded and moves
				   it; this kind's other mails wait with it */
				res->left[k]++;
				break;
			}
			if (n < 0) {
				rc = n;
				goto out;
			}
			res->mails[k] += n;
			res->left[k] += left;
		} while (more && (n > 0 || left > 0));
		res->counts[k].seconds =
			(double)(spool_mail_now_ms() - t0) / 1e3;
	}
out:
	spool_mail_free(sm);
	spool_free(sp);
	return rc;
}
