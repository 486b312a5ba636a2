/*
 * ingest_priv.h - what ingest.c and ingest_apply.c share: the context and
 * the state of one input being taken.
 */
#ifndef BOUNCED_INGEST_PRIV_H
#define BOUNCED_INGEST_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "acct_csv.h"
#include "acct_fields.h"
#include "batch.h"
#include "classify.h"
#include "ingest.h"
#include "log.h"
#include "rcpt.h"
#include "rcpt_rules.h"
#include "state.h"

#define INGEST_CHUNK (1u << 20)

struct ingest {
	const struct config *cfg;
	struct state *st;
	struct classify_rules rules;
	struct escalation esc;
	struct batch *batch;
	struct acct_map fallback;	/* header-less field order */
	char *buf;			/* INGEST_CHUNK read buffer */
	void (*on_commit)(void *arg);	/* after each commit, or NULL */
	void *on_commit_arg;
	bool input_failed;		/* the last error was the input's */
};

struct ingest_src {
	const char *path;		/* as given, for messages */
	char *key;			/* absolute path; NULL for streams */
	int fd;
	uint64_t size;			/* regular files: size when opened */
	struct file_rec rec;		/* as last committed */
	uint64_t skip_until;		/* rows ending before this are done */
	uint64_t lines;			/* lines consumed */
	struct csv_reader *csv;
	struct acct_map map;
	enum ingest_mode mode;
	bool mode_known;
	int64_t default_time;		/* for records without a time */
	struct ingest_counts pending;	/* parsed since the last commit */
	struct ingest_counts *total;	/* committed, for this input */
	struct timespec batch_start;
	/* per-line messages of this input, capped (log.h): bad lines,
	   unrouted suppressions, dry-run actions; a stream's window */
	struct log_cap cap_bad, cap_unrouted, cap_dryrun;
	int64_t cap_since;
};

/* ingest_commit - commit the batch and SRC's offset (FINAL: input done) */
int ingest_commit(struct ingest *in, struct ingest_src *src, bool final);

/* ingest_log_caps - the summary lines of the capped messages: at the END
   of the input, or (a stream) once an hour; ingest_apply.c */
void ingest_log_caps(struct ingest_src *src, bool end);

struct stat;
/* ingest_open - open SRC->path and find where the state says it was left:
   0 (read on), 1 (taken to its end before) or -errno (logged) (ingest.c) */
int ingest_open(struct ingest *in, struct ingest_src *src,
		const struct ingest_opts *opts, struct stat *sb);
/* ingest_drain - parse every complete row the reader holds (every row at
   EOF), committing batches as they fill; ROWS counts rows (ingest.c) */
int ingest_drain(struct ingest *in, struct ingest_src *src, bool eof,
		 uint64_t *rows);

/* ingest_notify - queue the operator's mail about BE (a new complaint or
   unsubscribe of ADDR) in TXN when [notify] is on; 0 or -errno
   (ingest_notify.c) */
struct batch_event;
int ingest_notify(struct ingest *in, MDB_txn *txn, const char *addr,
		  const struct batch_event *be, int64_t now);

#endif
