/*
 * ingest.h - take accounting files, address lists, streams and the
 * spool's mails into the state.
 *
 * Every input goes through one lifecycle: ingest_begin() opens it and
 * finds where it was left, ingest_step() reads it (its source turns bytes
 * into events, which are classified and batched), committing batches as
 * they fill, ingest_end() frees it; ingest_file() and ingest_mail() run
 * the three for `bounced process` and the maildirs.  A batch is committed
 * in one LMDB write transaction that updates every recipient it touches
 * (in address order), adds the counters, and advances the input's
 * committed offset.  A crash replays at most the uncommitted batch; a
 * restart resumes a file at its committed offset.  Batches end after
 * batch-records records or batch-interval of wall time, whichever first,
 * when a stream's writer pauses, and at end of input.
 */
#ifndef BOUNCED_INGEST_H
#define BOUNCED_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct state;

/*
 * ingest_mail_parse_fn - turn the mail's LEN bytes in BUF (KEY: its
 * absolute path, MTIME: its modification time) into at most MAX events in
 * EVS (their strings stay valid until the next call; kind set, class left
 * to ingest), *N of them.  0; INGEST_MAIL_ASIDE when the mail is no input
 * of this kind (a bounce that reached the feedback address): no events,
 * WHY says what it is and *ASIDE names the meta counter of its kind
 * ("count.fbl_dsn"); -EINVAL with a reason in WHY (the mail is refused);
 * or another -errno.
 */
struct event;
typedef int (*ingest_mail_parse_fn)(const char *buf, size_t len,
				    const char *key, int64_t mtime,
				    struct event *evs, size_t max, size_t *n,
				    const char **aside, void *arg, char *why,
				    size_t whylen);
#define INGEST_MAIL_EVENTS 16
#define INGEST_MAIL_ASIDE 1

enum ingest_mode {
	INGEST_DETECT = 0,	/* accounting file or address list, by content */
	INGEST_ACCT,
	INGEST_LIST,
	INGEST_MAIL,		/* one mail of the spool, through PARSE */
};

struct ingest_opts {
	enum ingest_mode mode;
	bool reprocess;		/* ignore the committed offset */
	/* the file may still be written (bounced process FILE, not the
	   spool's): a last line without its line end waits for the next
	   run; elsewhere it is taken as a record */
	bool growing;
	bool progress;		/* progress line on stderr every 2 s (with
				   percent and ETA); without it a file logs
				   a progress line every 30 s */
	/* INGEST_MAIL: the mail's parser and its argument, and the size of
	   the largest mail taken (a larger one is refused unread) */
	ingest_mail_parse_fn parse;
	void *parse_arg;
	uint64_t max_size;
	/* ingest_file: when *STOP turns non-zero (a signal handler's
	   volatile sig_atomic_t, an int here), a stream is read on to its
	   end for INGEST_STOP_MS at most, a file not; what was read is
	   committed and INGEST_STOPPED returned.  NULL: read to the end. */
	const volatile int *stop;
};
#define INGEST_STOP_MS 1000

/* what one input (or a whole run) brought */
struct ingest_counts {
	uint64_t records;	/* records read (not headers, not bad lines) */
	uint64_t hard, soft, escalated, complaints, unsubs;
	uint64_t duplicates, deliveries, ignored, skipped, bad;
	uint64_t requeued;	/* actions a provider had not had for an
				   address suppressed before (duplicates) */
	uint64_t held;		/* hard bounces held by an incident */
	double seconds;
};

enum ingest_status {
	INGEST_TAKEN = 0,	/* read to its end and committed */
	INGEST_ALREADY = 1,	/* taken before: nothing to do */
	INGEST_FAILED = 2,	/* ingest_begin: the state records this file
				   as failed (ingest_job_fail) */
	INGEST_REFUSED = 3,	/* a mail says nothing usable, or a file is
				   no accounting file (WHY says why):
				   nothing of it is recorded; it belongs in
				   failed/ */
	INGEST_ASIDE = 4,	/* a mail is no input of its kind (WHY says
				   what it is); counted, it belongs in
				   ignored/ */
	INGEST_STOPPED = 5,	/* ingest_file asked to stop (opts.stop):
				   what was read is committed, the rest is
				   not taken (a file resumes there) */
};

struct ingest;

/*
 * ingest_clock - the worker has nothing to read at wall-clock time NOW:
 * when the records are live (the newest within INGEST_CLOCK_LIVE of NOW),
 * time passes for the incidents and alerts (quiet incidents close, their
 * held bounces are applied; drained alerts clear), in a commit of its
 * own; replayed history is left to its own record times.  0 or -errno
 * (logged).
 */
#define INGEST_CLOCK_LIVE 86400
int ingest_clock(struct ingest *in, int64_t now);

/* ingest_new - a context over CFG and ST (both borrowed); NULL on ENOMEM */
struct ingest *ingest_new(const struct config *cfg, struct state *st);
void ingest_free(struct ingest *in);

/*
 * ingest_on_commit - call FN(ARG) after each batch committed (NULL: none);
 * how a long-running stream keeps the metrics fed.  FN must not use IN.
 */
void ingest_on_commit(struct ingest *in, void (*fn)(void *arg), void *arg);

/*
 * ingest_file - take PATH ("-" = stdin) to its end: ingest_begin, steps
 * to the end, ingest_end (a stream is waited for and committed whenever
 * its writer pauses).  Counts are set for what this call took.  Returns
 * INGEST_TAKEN or INGEST_ALREADY (a file that the state records as
 * failed is taken again from its committed offset), INGEST_REFUSED (no
 * accounting file, told from its first rows: logged, nothing of it
 * recorded), or -errno (logged):
 * ingest_input_failed() says whether the input could not be opened or
 * read (-ENOENT, -EACCES, -EIO...) or the state could not be read or
 * written (-EIO too, on a failing or full disk).
 */
int ingest_file(struct ingest *in, const char *path,
		const struct ingest_opts *opts, struct ingest_counts *counts);
/* ingest_input_failed - the last error of ingest_file, ingest_mail or
   ingest_begin was the input's (it could not be opened or read), not the
   state's */
bool ingest_input_failed(const struct ingest *in);
/* ingest_already_as - after INGEST_ALREADY of ingest_file or ingest_begin:
   the other path the state took the same file under (moved, copied,
   renamed), or NULL when it knew it under this one */
const char *ingest_already_as(const struct ingest *in);
/* ingest_error_final - RC, an input's error, is one that trying again
   cannot mend (no permission, not a file, a path the state cannot
   record): the input is given up at once, where another (an I/O error)
   is tried again a few times first */
bool ingest_error_final(int rc);
/* ingest_error_process - RC is the process's or the machine's (no memory,
   no file descriptor left), though the input's opening or reading met
   it: no fault of the input, not to be counted against it */
bool ingest_error_process(int rc);

/*
 * Step by step (the spool worker, which must keep serving the network and
 * signals while a large file is read): ingest_begin() opens the input and
 * finds where it was left, each ingest_step() reads and parses for a
 * bounded time, committing batches as they fill (batch-records,
 * batch-interval), and the last one commits the end.  One job at a time
 * per context.
 */
struct ingest_job;

/*
 * ingest_begin - start taking PATH.  Returns 0 with *JOB set, or with *JOB
 * NULL: INGEST_ALREADY (taken to its end before), INGEST_FAILED (the state
 * records the file as failed; opts->reprocess takes it anyway), or -errno
 * as ingest_file (-ENOENT, -EACCES, -EISDIR, -EIO: the input; others: the
 * state or memory).  A mail (INGEST_MAIL) gives a job whenever it could
 * be opened, even when taken before: it is read again to tell where it
 * goes (ingest_job_verdict).
 */
int ingest_begin(struct ingest *in, const char *path,
		 const struct ingest_opts *opts, struct ingest_job **job);

/*
 * ingest_step - read and parse for about MAX_MS (at least one read; a
 * negative MAX_MS: to the end), committing the batches that fill; a
 * stream is waited for at most that long, and committed when its writer
 * pauses.  Returns 0 (more to read), 1 (the input ended: committed, or, a
 * mail, judged: ingest_job_verdict) or -errno: a read error of the input
 * (logged; ingest_job_input_error() says true) or of the state.  The
 * uncommitted batch is dropped; the job can only be ended.
 * A step that returns 0 may leave a batch being committed in the
 * committer's thread: the caller may use the state between steps (a
 * write transaction of its own waits for that commit), and the next
 * step, ingest_pause() or ingest_end() takes the commit's answer.  The
 * context (IN) is the job's until it ends.
 */
int ingest_step(struct ingest_job *job, int max_ms);

/* ingest_job_verdict - how an ended input went: INGEST_TAKEN;
   INGEST_REFUSED (WHY says why; nothing recorded): a mail that says
   nothing usable, or an input read as an accounting file that is none
   (told from its first rows); or for a mail INGEST_ASIDE (WHY says what
   it is; counted) or INGEST_ALREADY (taken or set aside before; WHY
   empty, or what it is when it was set aside) */
int ingest_job_verdict(const struct ingest_job *job, char *why,
		       size_t whylen);

/* ingest_job_input_error - the last error was the input's, not the state's */
bool ingest_job_input_error(const struct ingest_job *job);

/* ingest_job_is - PATH names the file the job reads (its device and inode,
   PATH followed through a link as the job's open followed it): 1, 0 when
   it names another file (one renamed over it), or -errno (-ENOENT: none) */
int ingest_job_is(const struct ingest_job *job, const char *path);

/* ingest_pause - commit what was parsed so far (the file resumes there on
   the next ingest_begin); 0 or -errno */
int ingest_pause(struct ingest_job *job);

/* ingest_job_counts - what the job committed so far (C, seconds aside),
   and the file's committed records and bad lines over every run (RECORDS,
   BAD; the job's own for a stream) */
void ingest_job_counts(const struct ingest_job *job, struct ingest_counts *c,
		       uint64_t *records, uint64_t *bad);

/* ingest_job_fail - record the file as failed in the state, so it is not
   taken again unless reprocessed; 0 or -errno (nothing to do for a stream) */
int ingest_job_fail(struct ingest_job *job);

/* ingest_end - what the job took (committed batches only; may be NULL),
   then free it; rows parsed but not committed are dropped.  NULL is fine. */
void ingest_end(struct ingest_job *job, struct ingest_counts *counts);

/*
 * One mail of the spool (an ARF report in fbl/, an unsubscribe mail in
 * unsub/) is one input: its events are applied in one transaction that
 * also records the file as taken, so a crash before the file is moved out
 * of new/ never applies it twice.
 *
 * ingest_mail - take the mail file PATH (at most MAX_SIZE bytes) through
 * PARSE (ingest_begin with INGEST_MAIL, steps, ingest_end).  Returns INGEST_TAKEN; INGEST_ASIDE (WHY says what the mail is:
 * its counter was added, in one transaction with the file's record);
 * INGEST_ALREADY (taken or set aside before: move it on; WHY is empty, or
 * says what it is when it was set aside); INGEST_REFUSED (WHY says why:
 * too large, not parsable, nothing usable); or -errno (the file could not
 * be read, or the state written; logged): ingest_input_failed() says
 * whether it was the file's error, which leaves the state as it was.
 */
int ingest_mail(struct ingest *in, const char *path, uint64_t max_size,
		ingest_mail_parse_fn parse, void *arg,
		struct ingest_counts *counts, char *why, size_t whylen);

/* ingest_state - the state IN writes to (for parsers that look up what
   the state knows) */
struct state *ingest_state(const struct ingest *in);

/* ingest_counts_add - TOTAL += C */
void ingest_counts_add(struct ingest_counts *total,
		       const struct ingest_counts *c);

/* ingest_counts_format - the summary line's counts ("12 records, 3 hard, …") */
/*
 * ingest_progress_format - the progress of NAME into BUF (LEN bytes):
 * "NAME: 1234 records, 5678/s, 45%, ETA 0:12" (RECORDS in SECS, OFFSET
 * of SIZE bytes read; the ETA at the pace so far, h:mm:ss past an hour);
 * SIZE 0 (a stream): records and rate only.  NAME is cut at 100 bytes.
 */
void ingest_progress_format(char *buf, size_t len, const char *name,
			    uint64_t records, double secs, uint64_t offset,
			    uint64_t size);

void ingest_counts_format(const struct ingest_counts *c, char *buf,
			  size_t len);

#endif
