/*
 * ingest_priv.h - the ingest context, shared by the core (ingest.c), the
 * commit step (ingest_apply.c) and the operator's mail it queues
 * (ingest_notify.c): what one struct ingest holds for every input it
 * takes, and the capped per-line messages of one input.
 */
#ifndef BOUNCED_INGEST_PRIV_H
#define BOUNCED_INGEST_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <lmdb.h>

#include "acct_fields.h"
#include "batch.h"
#include "classify.h"
#include "ingest.h"
#include "log.h"
#include "rcpt_rules.h"

#define INGEST_CHUNK (1u << 20)	/* bytes of one read of an input */

struct ingest {
	const struct config *cfg;
	struct state *st;
	struct classify_rules rules;
	struct escalation esc;
	struct batch *batch;		/* the job's, until ingest_end */
	struct acct_map fallback;	/* header-less field order */
	char *buf;			/* INGEST_CHUNK read buffer */
	void (*on_commit)(void *arg);	/* after each commit, or NULL */
	void *on_commit_arg;
	bool input_failed;		/* ingest_file: the error was the input's */
};

/* the per-line messages of one input, capped (log.h): bad lines,
   unrouted suppressions, dry-run actions; a stream's hourly window */
struct ingest_caps {
	struct log_cap bad, unrouted, dryrun;
	int64_t since;
};

/* ingest_notify - queue the operator's mail about BE (a new complaint or
   unsubscribe of ADDR) in TXN when [notify] is on; 0 or -errno
   (ingest_notify.c) */
struct batch_event;
int ingest_notify(struct ingest *in, MDB_txn *txn, const char *addr,
		  const struct batch_event *be, int64_t now);

#endif
