/*
 * ingest.h - take accounting files, lists and streams into the state.
 *
 * Records are parsed and classified into a batch; a batch is committed in
 * one LMDB write transaction that updates every recipient it touches (in
 * address order), adds the counters, and advances the source's committed
 * offset.  A crash replays at most the uncommitted batch; a restart resumes
 * a file at its committed offset.  Batches end after batch-records records
 * or batch-interval of wall time, whichever first, and at end of input.
 */
#ifndef BOUNCED_INGEST_H
#define BOUNCED_INGEST_H

#include <stdbool.h>
#include <stdint.h>

struct config;
struct state;

enum ingest_mode {
	INGEST_DETECT = 0,	/* accounting file or address list, by content */
	INGEST_ACCT,
	INGEST_LIST,
};

struct ingest_opts {
	enum ingest_mode mode;
	bool reprocess;		/* ignore the committed offset */
	bool progress;		/* progress line on stderr every 2 s */
};

/* what one input (or a whole run) brought */
struct ingest_counts {
	uint64_t records;	/* records read (not headers, not bad lines) */
	uint64_t hard, soft, escalated, complaints, unsubs;
	uint64_t duplicates, deliveries, ignored, skipped, bad;
	double seconds;
};

enum ingest_status {
	INGEST_TAKEN = 0,	/* read to its end and committed */
	INGEST_ALREADY = 1,	/* taken before: nothing to do */
};

struct ingest;

/* ingest_new - a context over CFG and ST (both borrowed); NULL on ENOMEM */
struct ingest *ingest_new(const struct config *cfg, struct state *st);
void ingest_free(struct ingest *in);

/*
 * ingest_file - take PATH ("-" = stdin) to its end.  Counts are set for
 * what this call took.  Returns INGEST_TAKEN or INGEST_ALREADY, -ENOENT /
 * -EACCES / -EIO (input could not be opened or read: logged), or another
 * -errno when the state could not be written (logged).
 */
int ingest_file(struct ingest *in, const char *path,
		const struct ingest_opts *opts, struct ingest_counts *counts);

/* ingest_counts_add - TOTAL += C */
void ingest_counts_add(struct ingest_counts *total,
		       const struct ingest_counts *c);

/* ingest_counts_format - the summary line's counts ("12 records, 3 hard, …") */
void ingest_counts_format(const struct ingest_counts *c, char *buf,
			  size_t len);

#endif
