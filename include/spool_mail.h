/*
 * spool_mail.h - the two maildirs of the spool: fbl/ (ARF feedback
 * reports) and unsub/ (List-Unsubscribe mails), written by `bounced drop`.
 *
 * Only new/ is read, oldest first.  Each mail is one input of
 * ingest_mail(): its events and its file record are committed in one
 * transaction, then it moves to done/ as "fbl.NAME" or "unsub.NAME" (or is
 * deleted, done-retention 0); a mail that names no one, does not parse or
 * is too large goes to failed/ under the same name with its .why, as does
 * one that cannot be read (after a few attempts, in the worker).  A mail
 * of fbl/ that is no feedback report about our mail (mail_events.h, enum
 * mail_aside) goes to ignored/ with its .why, counted per kind.  A mail
 * taken before a crash but still in new/ is known by the state and only
 * moved.
 */
#ifndef BOUNCED_SPOOL_MAIL_H
#define BOUNCED_SPOOL_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ingest.h"		/* struct ingest_counts */
#include "mail_events.h"	/* MAIL_ASIDE_KINDS */

struct config;
struct spool;

enum spool_mail_kind {
	SPOOL_MAIL_FBL = 0,
	SPOOL_MAIL_UNSUB = 1,
};
#define SPOOL_MAIL_KINDS 2

struct spool_mail;

/*
 * spool_mail_new - the maildirs of spool SP (created when missing: DIR,
 * DIR/tmp, DIR/new, DIR/cur) and the unsubscribe address forms of CFG
 * (borrowed; compiled here).  0, or -errno with ERR.
 */
int spool_mail_new(struct spool_mail **out, struct spool *sp,
		   const struct config *cfg, char *err, size_t errlen);
void spool_mail_free(struct spool_mail *sm);

/* spool_mail_new_dir - SPOOL/fbl/new or SPOOL/unsub/new */
const char *spool_mail_new_dir(const struct spool_mail *sm,
			       enum spool_mail_kind kind);

/* spool_mail_kind_name - "fbl", "unsub" */
const char *spool_mail_kind_name(enum spool_mail_kind kind);
/* spool_mail_sweep - what killed writers left in the maildirs' tmp/ for
   36 hours, deleted (maildir_sweep_tmp); the number, logged */
int spool_mail_sweep(const struct spool_mail *sm, time_t now);

/* spool_mail_set_retry - a mail that cannot be read (an I/O error of its
   file) is tried again after RETRY_MS, and moved to failed/ after a few
   attempts; 0 (the default, `bounced process`): tried once per run and
   left in new/ */
void spool_mail_set_retry(struct spool_mail *sm, int retry_ms);

/* spool_mail_adopt - SM, made anew for a reloaded configuration, takes
   over what OLD knew of the mails that could not be read (their
   attempts) and of the entries said to be no files */
void spool_mail_adopt(struct spool_mail *sm, struct spool_mail *old);

/*
 * spool_mail_take - take the mails of KIND's new/ through IN, oldest
 * first, for about MAX_MS (0: all of them), adding what they gave to
 * TOTAL, and the mails set aside to ASIDE (MAIL_ASIDE_KINDS counts per
 * kind; may be NULL).  *MORE says whether mails were left for the next
 * call; *LEFT (may be NULL) how many could not be read and stay in new/
 * (logged; the mails after them were taken).  Returns how many mails were
 * taken, set aside or refused, or -errno when the state could not be
 * written, or a mail could not be moved out of new/ (logged: the next
 * pass would find it there again; the mail stays in new/ for the next
 * try, and the ones after it with it).
 */
int spool_mail_take(struct spool_mail *sm, struct ingest *in,
		    enum spool_mail_kind kind, int max_ms,
		    struct ingest_counts *total, uint64_t *aside, bool *more,
		    int *left);

/* spool_mail_stuck - the last spool_mail_take failed because a mail
   could not be moved out of new/ (the maildir's fault: the accounting
   files can go on), not because the state could not be written */
bool spool_mail_stuck(const struct spool_mail *sm);

/* what `bounced process` did with the maildirs, per kind */
struct spool_mail_result {
	struct ingest_counts counts[SPOOL_MAIL_KINDS];	/* what they gave */
	int mails[SPOOL_MAIL_KINDS];	/* taken, set aside or refused */
	int left[SPOOL_MAIL_KINDS];	/* could not be read: in new/ */
	uint64_t aside[MAIL_ASIDE_KINDS]; /* of fbl/, set aside, per kind */
};

/*
 * spool_mail_process - `bounced process` on the spool: every mail of
 * CFG's spool maildirs through IN, once, into RES.  0, or -errno (the
 * spool could not be opened, or the state written; logged).
 */
int spool_mail_process(const struct config *cfg, struct ingest *in,
		       struct spool_mail_result *res);

#endif
