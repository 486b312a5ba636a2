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

#define SPOOL_MAIL_BATCH 1000	/* names read from new/ per call */

struct spool_mail {
	struct spool *sp;
	const struct config *cfg;
	char *dir[SPOOL_MAIL_KINDS];	/* SPOOL/fbl, SPOOL/unsub */
	char *new_dir[SPOOL_MAIL_KINDS];
	struct unsub_addr_set *unsub;
	struct fbl_policy *fbl;
	struct mail_events *me;
};

static const char *const spool_mail_names[SPOOL_MAIL_KINDS] = { "fbl",
								"unsub" };

const char *spool_mail_kind_name(enum spool_mail_kind kind)
{
	return spool_mail_names[kind];
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
		sm->dir[i] = g_build_filename(spool_dir(sp),
					      spool_mail_names[i], NULL);
		sm->new_dir[i] = g_build_filename(sm->dir[i], "new", NULL);
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
	}
	unsub_addr_free(sm->unsub);
	fbl_policy_free(sm->fbl);
	g_free(sm->me);
	g_free(sm);
}

/* spool_mail_aside - DIR/NAME (set aside by the parser: WHY says what it
   is) to ignored/AS, counted in ASIDE when COUNT */
static void spool_mail_aside(struct spool_mail *sm, enum spool_mail_kind kind,
			     const char *name, const char *as,
			     const char *why, bool count, uint64_t *aside)
{
	int k = sm->me->aside;

	log_info("spool", "%s/new/%s: set aside (%s): %s",
		 spool_mail_names[kind], name, mail_aside_name((unsigned)k),
		 why);
	if (count && aside && k >= 0 && k < MAIL_ASIDE_KINDS)
		aside[k]++;
	(void)spool_ignore_from(sm->sp, sm->new_dir[kind], name, as, why);
}

/* spool_mail_one - take DIR/NAME; 0, 1 (refused: in failed/), -ENOENT
   (gone) or -errno (the state) */
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
	int rc;

	sm->me->st = ingest_state(in);
	sm->me->aside = -1;
	rc = ingest_mail(in, path, sm->cfg->drop_max_size, parse, sm->me, &c,
			 why, sizeof(why));
	switch (rc) {
	case INGEST_ASIDE:
		spool_mail_aside(sm, kind, name, as, why, true, aside);
		rc = 0;
		break;
	case INGEST_TAKEN:
		ingest_counts_add(total, &c);
		log_info("spool", "%s/new/%s: taken (%s)",
			 spool_mail_names[kind], name,
			 c.complaints ? "complaint" :
			 c.unsubs ? "unsubscribe" :
			 c.duplicates ? "already suppressed" : "recorded");
		(void)spool_done_from(sm->sp, dir, name, as);
		rc = 0;
		break;
	case INGEST_ALREADY:
		if (why[0])	/* set aside before a crash kept it here */
			spool_mail_aside(sm, kind, name, as, why, false, aside);
		else
			(void)spool_done_from(sm->sp, dir, name, as);
		rc = 0;
		break;
	case -EACCES:
	case -EISDIR:
	case -ELOOP:
		snprintf(why, sizeof(why), "cannot be read: %s",
			 strerror(-rc));
		/* fall through */
	case INGEST_REFUSED:
		log_warn("spool", "%s/new/%s: refused: %s",
			 spool_mail_names[kind], name, why);
		total->bad++;
		(void)spool_fail_from(sm->sp, dir, name, as, why);
		rc = 1;
		break;
	default:
		break;
	}
	g_free(as);
	g_free(path);
	return rc;
}

static int64_t spool_mail_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int spool_mail_take(struct spool_mail *sm, struct ingest *in,
		    enum spool_mail_kind kind, int max_ms,
		    struct ingest_counts *total, uint64_t *aside, bool *more)
{
	int64_t end = spool_mail_now_ms() + max_ms;
	GPtrArray *names;
	int n = 0, rc = 0;
	guint i;

	names = spool_dir_list(sm->new_dir[kind], NULL, NULL, SPOOL_MAIL_BATCH,
			       AT_SYMLINK_NOFOLLOW, more, &rc);
	rc = 0;		/* a new/ that cannot be read is logged: mails wait */
	for (i = 0; names && i < names->len; i++) {
		if (max_ms > 0 && n > 0 && spool_mail_now_ms() >= end) {
			*more = true;
			break;
		}
		rc = spool_mail_one(sm, in, kind, g_ptr_array_index(names, i),
				    total, aside);
		if (rc == -ENOENT) {
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

int spool_mail_process(const struct config *cfg, struct ingest *in,
		       struct ingest_counts counts[SPOOL_MAIL_KINDS],
		       int mails[SPOOL_MAIL_KINDS],
		       uint64_t aside[MAIL_ASIDE_KINDS])
{
	struct spool_mail *sm = NULL;
	struct spool *sp = NULL;
	char err[512];
	bool more, any = false;
	int k, n, rc;

	for (k = 0; k < SPOOL_MAIL_KINDS; k++) {
		char *d = g_build_filename(cfg->spool, spool_mail_names[k], "new",
					   NULL);

		memset(&counts[k], 0, sizeof(counts[k]));
		mails[k] = 0;
		any |= g_file_test(d, G_FILE_TEST_IS_DIR);
		g_free(d);
	}
	memset(aside, 0, MAIL_ASIDE_KINDS * sizeof(aside[0]));
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
			n = spool_mail_take(sm, in, k, 0, &counts[k], aside,
					    &more);
			if (n < 0) {
				rc = n;
				goto out;
			}
			mails[k] += n;
		} while (more && n > 0);
		counts[k].seconds = (double)(spool_mail_now_ms() - t0) / 1e3;
	}
out:
	spool_mail_free(sm);
	spool_free(sp);
	return rc;
}
