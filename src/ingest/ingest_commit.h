/*
 * ingest_commit.h - the commit step of ingest: one batch, with the
 * position of its input, in one write transaction.
 *
 * The core (ingest.c) hands over a batch, where the input is and what
 * reading counted; the step applies the batch to the recipients
 * (rcpt_rules, plan, ingest_notify), adds the counters, records the
 * input's position in the files table, commits (state_write), and
 * returns its counts and the events the log must speak of, which the
 * core logs (ingest_commit_logged) before it clears the batch.  It calls
 * nothing back, and touches nothing but the state, the batch and the
 * struct ingest_commit it is given: the core may run it in a thread of
 * its own (ingest_committer.c) while it reads on.
 *
 * One more batch may join a commit's transaction: when the input ends
 * while a commit is still applying its batch, the last batch is applied
 * in the same transaction (ingest_join_fn), so that the tree is written
 * once for both.  The two are committed together or not at all.
 */
#ifndef BOUNCED_INGEST_COMMIT_H
#define BOUNCED_INGEST_COMMIT_H

#include <stdbool.h>

#include "classify_override.h"
#include "ingest_input.h"
#include "ingest_priv.h"
#include "ingest_src.h"
#include "rcpt.h"

struct ingest_commit;
struct batch;

/* ingest_join_fn - asked once a commit's batch is applied, before its
   transaction is committed: true with *B and *C, a batch and its commit
   step to apply in the same transaction after it (C->rec then follows
   the first's record), or false; ARG is the commit's join_arg */
typedef bool (*ingest_join_fn)(void *arg, struct batch **b,
			       struct ingest_commit **c);

struct ingest_commit {
	const char *name;		/* the input, for messages */
	const char *key;		/* its files-table key; NULL: a stream,
					   nothing recorded */
	struct file_rec rec;		/* in: as committed before; out: as
					   committed now */
	/* the file's record as the input last saw it in the state: the
	   commit is refused (-EALREADY) when the state holds another,
	   written by a reader of the same file meanwhile */
	struct ingest_seen seen;
	struct ingest_pos pos;		/* where the input is, after the
					   batch's last record */
	bool final;			/* the input ends here: done */
	bool fixed_map;			/* the map may not be resized here (a
					   thread of its own: another may be
					   in a transaction): a full map is
					   -ENOSPC, not logged, for the caller
					   to grow it and commit again */
	const char *aside;		/* a meta counter one more is added to
					   (a mail set aside), or NULL */
	struct ingest_counts counts;	/* in: what reading counted (records,
					   skipped, bad ...); out: with what
					   applying the batch concluded */
	struct ingest_caps *caps;	/* the input's capped messages (used
					   by ingest_commit_logged only) */
	struct monitor_seal *seal;	/* what the monitor writes with the
					   batch (NULL: no monitor) */
	bool any_hit;			/* [classify] rules hit: */
	uint64_t hits[CLASSIFY_RULES_MAX];	/* by rule, in the batch */
	/* out: the events the log speaks of (in the batch, kept) */
	const struct batch_event **logq;
	size_t nlog, logcap;
	int64_t took_ns;		/* out: how long the commit took */
	ingest_join_fn join;		/* in: a batch that may join (NULL:
					   none is asked for) */
	void *join_arg;
	struct ingest_commit *joined;	/* out: the commit step that joined
					   this one's transaction (its answer
					   is this one's), or NULL */
};

/*
 * ingest_commit_batch - commit batch B as C says (B is left as it was:
 * the caller logs it, then clears it), and the batch that joined it, if
 * C->join gave one (C->joined then names its commit step, filled as C
 * is).  0, or -errno (logged: nothing of either batch was kept).
 */
int ingest_commit_batch(struct ingest *in, struct batch *b,
			struct ingest_commit *c);

/* ingest_commit_failed_log - the error line of C's batch that could not be
   committed (RC) */
void ingest_commit_failed_log(const struct ingest_commit *c, int rc);

/* ingest_commit_logged - the log lines of a committed batch (C's events;
   dry-run and unrouted lines capped in C's caps) */
void ingest_commit_logged(const struct ingest *in, struct ingest_commit *c);

/* ingest_commit_free - the memory C keeps between commits */
void ingest_commit_free(struct ingest_commit *c);

/* ingest_commit_release_held - apply a hard bounce an incident held
   (monitor_hooks.release; IN is the ingest context); 0 or -errno */
int ingest_commit_release_held(MDB_txn *txn, const struct incident_held *h,
			      void *in);

/* ingest_commit_drop_held - a hard bounce an incident held, not applied,
   kept on its address (monitor_hooks.drop, held_drop; IN is the ingest
   context); 0 or -errno */
int ingest_commit_drop_held(MDB_txn *txn, const struct incident_held *h,
			    uint64_t id, uint32_t src, int64_t from, void *in);

/* ingest_commit_failed - record the file KEY as failed (REC as committed,
   status FILE_FAILED); 0 or -errno */
int ingest_commit_failed(struct ingest *in, const char *key,
			struct file_rec *rec);

#endif
