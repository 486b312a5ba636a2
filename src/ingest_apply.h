/*
 * ingest_apply.h - the commit step of ingest: one batch, with the
 * position of its input, in one write transaction.
 *
 * The core (ingest.c) hands over the context's batch, where the input is
 * and what reading counted; the step applies the batch to the recipients
 * (rcpt_rules, plan, ingest_notify), adds the counters, records the
 * input's position in the files table, commits (state_write), logs what
 * the batch concluded, and returns its counts.  It calls nothing back.
 */
#ifndef BOUNCED_INGEST_APPLY_H
#define BOUNCED_INGEST_APPLY_H

#include <stdbool.h>

#include "ingest_priv.h"
#include "ingest_src.h"
#include "rcpt.h"

struct ingest_commit {
	const char *name;		/* the input, for messages */
	const char *key;		/* its files-table key; NULL: a stream,
					   nothing recorded */
	struct file_rec rec;		/* in: as committed before; out: as
					   committed now */
	struct ingest_pos pos;		/* where the input is, after the
					   batch's last record */
	bool final;			/* the input ends here: done */
	const char *aside;		/* a meta counter one more is added to
					   (a mail set aside), or NULL */
	struct ingest_counts counts;	/* in: what reading counted (records,
					   skipped, bad ...); out: with what
					   applying the batch concluded */
	struct ingest_caps *caps;	/* the input's capped messages */
};

/*
 * ingest_apply_commit - commit IN's batch as C says (the batch is left as
 * it was: the caller clears it).  0, or -errno (logged: nothing of the
 * batch was kept).
 */
int ingest_apply_commit(struct ingest *in, struct ingest_commit *c);

/* ingest_apply_failed - record the file KEY as failed (REC as committed,
   status FILE_FAILED); 0 or -errno */
int ingest_apply_failed(struct ingest *in, const char *key,
			struct file_rec *rec);

#endif
