/*
 * ingest.c - the ingest core: one lifecycle for every input (an
 * accounting file, an address list, a stream on stdin or a pipe, a mail
 * of the spool).
 *
 *   ingest_begin   the input opened, where it was left found
 *                  (ingest_input.c), its source made (ingest_src.h)
 *   ingest_step    bytes read and fed to the source; every event it gives
 *                  is classified (classify_event: here, and nowhere
 *                  else), counted and batched; a batch is committed when
 *                  due (batch-records, batch-interval, a stream's writer
 *                  pausing) and at the end (ingest_commit.c, which gets
 *                  the source's position and returns its counts)
 *   ingest_end     what the input gave; everything freed
 *
 * ingest_file and ingest_mail run the three to the end.  To resume inside
 * a file, the rows before the committed offset are parsed again but only
 * their header lines are used, so no record is applied twice.  A file
 * taken again from its start (--reprocess) applies its records again
 * (those the state has are duplicates there), but the monitor hears the
 * rows up to the offset committed before this reading as read again
 * (monitor_feed_again: not counted in the rates a second time, not fed
 * to the incident detector, still held by an open incident); a commit
 * that would only write what is committed already is not made (nothing
 * new parsed, the reader not past the committed offset).  Bad lines are
 * counted and logged with file and line (the first LOG_CAP_LINES of an
 * input, then one line with the count: ingest_log_caps); they never stop
 * the input.  A stream (stdin, a pipe that PowerMTA may keep open for
 * days) is polled between reads and committed as soon as the writer
 * pauses (INGEST_QUIET_MS without data): a record PowerMTA writes is in
 * the state within milliseconds, while a busy writer fills large batches
 * (group commit: what arrives during one commit goes into the next),
 * bounded by batch-interval and batch-records.  A mail is one
 * transaction: its events and its files record, or (set aside) its
 * files record and the counter of its kind; a mail taken before is read
 * again only to say where it goes.  Errors of the input are -errno
 * (logged, ingest_job_input_error); errors of the state are returned as
 * they come (a commit's logged by the commit step); any other error that
 * stops the reading (memory for the batch, a parser's) is logged by
 * ingest_step with the input and its committed point; after an error the
 * job can only be ended.
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "classify_override.h"
#include "config.h"
#include "ingest_commit.h"
#include "ingest_committer.h"
#include "ingest_input.h"
#include "ingest_priv.h"
#include "ingest_src.h"
#include "incident_store.h"
#include "log.h"
#include "state.h"
#include "timeparse.h"

/* the progress line on a terminal, and the log line of a long file when
   stderr is no terminal (BOUNCED_PROGRESS_MS and BOUNCED_PROGRESS_LOG_MS
   set them for the tests) */
#define INGEST_PROGRESS_MS 2000
#define INGEST_PROGRESS_LOG_MS 30000
/* a stream's batch is committed when no data came for this long */
#define INGEST_QUIET_MS 2
/* what a recipient's record may add to the state, for the map's growth
   ahead of a batch (state_reserve): a key, a value and their node */
#define INGEST_RCPT_BYTES 512
/* the most the map is grown by ahead of a file's prewarm (bytes) */
#define INGEST_WARM_ROOM ((size_t)1 << 30)
/* a stream's capped messages are summed up this often (seconds) */
#define INGEST_CAP_WINDOW 3600

struct ingest_job {
	struct ingest *in;
	struct ingest_input input;
	struct ingest_src *src;
	struct ingest_counts pending;	/* read since the last commit */
	uint64_t hits[CLASSIFY_RULES_MAX]; /* [classify] rule hits, pending */
	bool any_hit;
	/* rows of the input ending at or before this were taken before
	   (read again: --reprocess); 0 once a row ends past it, or none */
	uint64_t taken_until;
	struct ingest_counts total;	/* committed by this job */
	struct ingest_caps caps;
	int64_t start_ns, batch_ns, progress_ns;
	int64_t progress_every;		/* ns between two progress reports */
	uint64_t rows;			/* records read, for the batch clock */
	bool mail;			/* one mail: one commit, at its end */
	bool already;			/* a mail taken before: judged only */
	bool progress;			/* a progress line on stderr */
	bool progress_log;		/* ...or a log line (a long file) */
	bool failed;			/* an error happened: only ingest_end */
	bool input_error;		/* ...and it was the input's */
	uint64_t read_bytes;		/* of the input, read so far */
	bool commit_failed;		/* ...or a commit's (logged there) */
	bool ended;			/* the input ended (ingest_step 1) */
	int verdict;			/* INGEST_TAKEN ..., once ended */
	const char *aside;		/* INGEST_ASIDE: the meta counter */
	char why[512];
	/* the commit in flight (posted: not waited for yet) and its batch;
	   with a committer thread, the context's batch is another one */
	struct ingest_commit cur;
	struct batch *cur_batch;
	bool posted;
	/* the input's last batch, offered to join the commit in flight
	   (ingest_batch_join): its commit step, filled; JOIN_OFFERED until
	   that commit's answer is taken */
	struct ingest_commit join;
	bool join_offered;
	bool final_done;		/* the input's last commit is made */
	int inline_rc;			/* the answer of a commit made inline */
	int64_t cur_ns;			/* when it was posted */
	int64_t took_ns;		/* how long the last commit took */
	uint64_t batch_off;		/* the input's offset the batch
					   being read starts at */
	struct ingest_committer *cm;	/* NULL: commits run inline */
	struct batch *spare;		/* the other batch of a committer */
	size_t warm_half;		/* the batch's addresses at the last
					   hint, when half as many rows were
					   read (ingest_warm_hint) */
};

struct ingest *ingest_new(const struct config *cfg, struct state *st)
{
	struct ingest *in = calloc(1, sizeof(*in));
	char err[256];

	if (!in) {
		log_error("ingest", "cannot set up the reading: out of memory");
		return NULL;
	}
	in->cfg = cfg;
	in->st = st;
	classify_rules_from_config(&in->rules, cfg);
	if (classify_overrides_parse(cfg->classify_rules, &in->over, err,
				     sizeof(err)) != 0) {
		log_error("ingest", "[classify] rules: %s", err);
		goto fail;
	}
	in->rules.over = in->over;
	in->rules.memo = classify_memo_new();
	in->esc.threshold = cfg->soft_threshold;
	in->esc.min_span = cfg->soft_min_span;
	in->esc.window = cfg->soft_window;
	in->esc.no_escalate = cfg->no_escalate_categories;
	in->batch = batch_new();
	in->buf = malloc(INGEST_CHUNK);
	ingest_monitor_new(in);
	if (!in->batch || !in->buf) {
		log_error("ingest", "cannot set up the reading: out of memory");
		goto fail;
	}
	if (acct_map_from_names(&in->fallback, cfg->acct_fields, err,
				sizeof(err)) != 0) {
		log_error("ingest", "acct-fields: %s", err);
		goto fail;
	}
	return in;
fail:
	ingest_free(in);
	return NULL;
}

void ingest_free(struct ingest *in)
{
	if (!in)
		return;
	batch_free(in->batch);
	free(in->buf);
	monitor_free(in->mon);
	classify_overrides_free(in->over);
	classify_memo_free(in->rules.memo);
	free(in);
}

/* ingest_input_failed - was the last error of ingest_file, ingest_mail or
   ingest_begin the input's? */
bool ingest_input_failed(const struct ingest *in)
{
	return in->input_failed;
}

const char *ingest_already_as(const struct ingest *in)
{
	return in->already_as[0] ? in->already_as : NULL;
}

/* ingest_note_already - keep where an input taken before was taken */
static void ingest_note_already(struct ingest *in, const struct ingest_job *j)
{
	in->already_as[0] = '\0';
	if (j && j->input.same_as)
		g_strlcpy(in->already_as, j->input.same_as,
			  sizeof(in->already_as));
}

bool ingest_error_process(int rc)
{
	return rc == -ENOMEM || rc == -EMFILE || rc == -ENFILE;
}

bool ingest_error_final(int rc)
{
	return rc == -EACCES || rc == -EPERM || rc == -EISDIR ||
	       rc == -ENOTDIR || rc == -ELOOP || rc == -ENXIO ||
	       rc == -ENODEV || rc == -ENAMETOOLONG;
}

void ingest_on_commit(struct ingest *in, void (*fn)(void *arg), void *arg)
{
	in->on_commit = fn;
	in->on_commit_arg = arg;
}

struct state *ingest_state(const struct ingest *in)
{
	return in->st;
}

void ingest_counts_add(struct ingest_counts *t, const struct ingest_counts *c)
{
	t->records += c->records;
	t->hard += c->hard;
	t->soft += c->soft;
	t->escalated += c->escalated;
	t->complaints += c->complaints;
	t->unsubs += c->unsubs;
	t->duplicates += c->duplicates;
	t->deliveries += c->deliveries;
	t->ignored += c->ignored;
	t->skipped += c->skipped;
	t->bad += c->bad;
	t->requeued += c->requeued;
	t->held += c->held;
	t->seconds += c->seconds;
}

void ingest_counts_format(const struct ingest_counts *c, char *buf, size_t len)
{
	snprintf(buf, len,
		 "%llu records, %llu hard, %llu soft, %llu escalated, "
		 "%llu complaints, %llu unsubscribes, %llu duplicates, "
		 "%llu deliveries, %llu ignored, %llu skipped, %llu bad lines "
		 "in %.2f s",
		 (unsigned long long)c->records, (unsigned long long)c->hard,
		 (unsigned long long)c->soft, (unsigned long long)c->escalated,
		 (unsigned long long)c->complaints,
		 (unsigned long long)c->unsubs,
		 (unsigned long long)c->duplicates,
		 (unsigned long long)c->deliveries,
		 (unsigned long long)c->ignored,
		 (unsigned long long)c->skipped, (unsigned long long)c->bad,
		 c->seconds);
}

/* ingest_now_ns - the monotonic clock in ns */
static int64_t ingest_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* ingest_cap_line - one summary line of CAP (WHAT: "bad lines"...) */
static void ingest_cap_line(const struct ingest_job *j,
			    const struct log_cap *cap, const char *what,
			    const char *hint)
{
	if (cap->hidden == 0)
		return;
	log_warn("ingest", "%s: %llu %s in all: the first %llu were logged, "
		 "%llu more were not (%s; [bounced] debug logs every one)",
		 j->input.path, (unsigned long long)(cap->shown + cap->hidden),
		 what, (unsigned long long)cap->shown,
		 (unsigned long long)cap->hidden, hint);
}

/* ingest_log_caps - the summary lines of the capped messages: at the END
   of the input, or (a stream) once an hour */
static void ingest_log_caps(struct ingest_job *j, bool end)
{
	struct ingest_caps *caps = &j->caps;
	int64_t now = (int64_t)time(NULL);

	if (caps->since == 0)
		caps->since = now;
	if (!end && (j->input.key || now - caps->since < INGEST_CAP_WINDOW))
		return;
	ingest_cap_line(j, &caps->bad, "bad lines",
			"the summary line counts them");
	ingest_cap_line(j, &caps->unrouted, "unrouted suppressions",
			"check the senders of the providers");
	ingest_cap_line(j, &caps->dryrun, "dry-run actions",
			"bouncectl list shows the addresses");
	memset(caps, 0, sizeof(*caps));
	caps->since = now;
}

/* ingest_bad - count a bad line; log it (the first LOG_CAP_LINES) */
static void ingest_bad(struct ingest_job *j, uint64_t line, const char *why)
{
	j->pending.bad++;
	if (log_cap_take(&j->caps.bad))
		log_warn("acct", "%s:%llu: bad record: %s", j->input.path,
			 (unsigned long long)line, why);
}

/* ingest_undecided - the source does not know yet that the input is of
   its kind (an accounting file's first rows): nothing may be committed
   but at the end */
static bool ingest_undecided(const struct ingest_job *j)
{
	return j->src && j->src->ops->undecided &&
	       j->src->ops->undecided(j->src);
}

/* ingest_pending - records read since the last commit that may be
   committed? */
static bool ingest_pending(const struct ingest_job *j)
{
	return (batch_events(j->in->batch) > 0 || j->pending.records > 0 ||
		j->pending.bad > 0) && !ingest_undecided(j);
}

/* ingest_nothing_new - a commit would only write what is committed
   already: nothing read since the last commit, and the reader not past
   the committed offset (the rows before a resume point, read again) */
static bool ingest_nothing_new(const struct ingest_job *j,
			       const struct ingest_pos *pos)
{
	return !ingest_pending(j) && j->input.key &&
	       pos->offset <= j->input.rec.offset;
}

/*
 * ingest_batch_done - the answer RC of commit C of batch B: the input's
 * record and counts follow it, the batch is logged and cleared; RC
 */
static int ingest_batch_done(struct ingest_job *j, struct ingest_commit *c,
			     struct batch *b, int rc)
{
	struct ingest *in = j->in;

	if (in->mon) {
		/* the hooks hear of what was committed; after a failure the
		   monitor is read again from the state before more input */
		monitor_seal_done(in->mon, c->seal, rc == 0);
		if (rc)
			in->mon_loaded = false;
	}
	c->seal = NULL;
	if (rc) {
		j->commit_failed = true;
		batch_clear(b);
		return rc;
	}
	j->took_ns = c->took_ns;
	/* the commit's own time, then how long after the hand-over the
	   reader took the answer (it asks when the next batch is due) */
	log_debug("ingest", "%s: committed %llu records (%zu events) up to "
		  "byte %llu in %.0f ms (answer taken after %.0f ms)%s",
		  j->input.path, (unsigned long long)c->counts.records,
		  batch_events(b), (unsigned long long)c->pos.offset,
		  (double)c->took_ns / 1e6,
		  (double)(ingest_now_ns() - j->cur_ns) / 1e6,
		  c == &j->join ? ", with the batch before" : "");
	if (c->key) {
		j->input.rec = c->rec;
		/* as the state holds it now */
		j->input.seen.rec = c->rec;
		j->input.seen.ok = j->input.seen.known = true;
	}
	if (c->final)
		j->final_done = true;
	ingest_commit_logged(in, c);
	ingest_log_caps(j, c->final);
	log_tick();
	ingest_counts_add(&j->total, &c->counts);
	batch_clear(b);
	if (in->on_commit)
		in->on_commit(in->on_commit_arg);
	return 0;
}

static int ingest_batch_send(struct ingest_job *j);

/*
 * ingest_batch_wait - the commit in flight, if any, done (ingest_batch_done)
 * and, when the input's last batch was offered to join it, that one too:
 * committed with it, or posted after it and waited for; 0, or the first
 * -errno
 */
static int ingest_batch_wait(struct ingest_job *j)
{
	struct ingest *in = j->in;
	struct ingest_commit *c = &j->cur;
	bool offered = j->join_offered, joined;
	int tries, rc;

	if (!j->posted)
		return 0;
	rc = j->cm ? ingest_committer_wait(j->cm) : j->inline_rc;
	joined = offered && c->joined == &j->join;
	j->join_offered = false;
	/* the committer found the map full: grown here, where no thread is
	   in a transaction, and the batch committed again from the start
	   (alone: one that had joined it follows) */
	for (tries = 0; rc == -ENOSPC && c->fixed_map; tries++) {
		if (tries >= STATE_GROW_TRIES ||
		    (rc = state_grow_logged(in->st)) != 0) {
			ingest_commit_failed_log(c, rc);
			if (joined)
				ingest_commit_failed_log(&j->join, rc);
			break;
		}
		log_debug("ingest", "%s: the state's map was full: grown, the "
			  "batch committed again", j->input.path);
		joined = false;
		ingest_committer_post(j->cm, j->cur_batch, c);
		rc = ingest_committer_wait(j->cm);
	}
	j->posted = false;
	rc = ingest_batch_done(j, c, j->cur_batch, rc);
	if (!offered)
		return rc;
	if (joined || rc) {
		/* committed with it, or failed with it (not posted: its
		   seal is given back all the same) */
		return ingest_batch_done(j, &j->join, in->batch, rc);
	}
	/* too late to join: posted now, after it, from the input's record
	   as that commit left it */
	{
		struct ingest_commit tmp = j->cur;

		j->cur = j->join;
		j->join = tmp;
	}
	j->cur.rec = j->input.rec;
	j->cur.seen = j->input.seen;
	rc = ingest_batch_send(j);
	return rc ? rc : ingest_batch_wait(j);
}

/* ingest_batch_fill - C, the commit step of the batch being read and the
   input's position POS (FINAL: the input ends here): what reading
   counted moves into it; 0 or -errno */
static int ingest_batch_fill(struct ingest_job *j, struct ingest_commit *c,
			     bool final, const struct ingest_pos *pos)
{
	struct ingest *in = j->in;
	int rc;

	/* the deliveries the batch holds back go in here, in this thread */
	rc = batch_flush(in->batch);
	if (rc)
		return rc;
	c->pos = *pos;
	c->name = j->input.path;
	c->key = j->input.key;
	c->rec = j->input.rec;
	c->final = final;
	c->fixed_map = j->cm != NULL;
	c->aside = j->verdict == INGEST_ASIDE ? j->aside : NULL;
	c->counts = j->pending;
	c->caps = &j->caps;
	c->seen = j->input.seen;
	c->seal = in->mon ? monitor_seal(in->mon) : NULL;
	c->join = NULL;
	c->joined = NULL;
	memset(&j->pending, 0, sizeof(j->pending));
	c->any_hit = j->any_hit;
	if (j->any_hit) {
		memcpy(c->hits, j->hits, sizeof(c->hits));
		memset(j->hits, 0, sizeof(j->hits));
		j->any_hit = false;
	}
	return 0;
}

/* ingest_batch_send - the batch being read, its commit step filled in
   j->cur, to the commit step: in the committer's thread (the context
   reads on into the other batch), or at once (then waited for); 0 or
   -errno */
static int ingest_batch_send(struct ingest_job *j)
{
	struct ingest *in = j->in;

	/* room in the map for the batch, made here: the committer is idle
	   (waited for before) and this thread is in no transaction, so the
	   map may be resized; a growth that fails is not the batch's
	   failure (it may fit; if it meets a full map, the map is grown
	   then and the batch posted again: ingest_batch_wait) */
	(void)state_reserve(in->st, batch_addresses(in->batch) *
					    INGEST_RCPT_BYTES);
	j->batch_off = j->cur.pos.offset;
	j->cur_batch = in->batch;
	j->cur_ns = ingest_now_ns();
	j->posted = true;
	if (!j->cm) {
		j->inline_rc = ingest_commit_batch(in, j->cur_batch, &j->cur);
		return ingest_batch_wait(j);
	}
	in->batch = j->spare;
	j->spare = j->cur_batch;
	ingest_committer_post(j->cm, j->cur_batch, &j->cur);
	return 0;
}

/*
 * ingest_batch_post - the batch and the input's position (FINAL: the
 * input ends here) to the commit step, after the commit in flight: in the
 * committer's thread (the context reads on into the other batch), or at
 * once; 0 or -errno (of the commit before, or of this one made inline)
 */
static int ingest_batch_post(struct ingest_job *j, bool final)
{
	struct ingest_pos pos;
	int rc;

	rc = ingest_batch_wait(j);
	if (rc)
		return rc;
	if (!final && ingest_undecided(j))
		return 0;
	j->src->ops->position(j->src, &pos);
	if (!final && ingest_nothing_new(j, &pos))
		return 0;
	rc = ingest_batch_fill(j, &j->cur, final, &pos);
	return rc ? rc : ingest_batch_send(j);
}

/*
 * ingest_batch_join - the input ended while a commit is in flight: its
 * last batch is offered to join that commit's transaction, so that the
 * tree both change is written once (ingest_committer_join); taken or
 * not, ingest_batch_wait sees it committed.  0 or -errno.
 */
static int ingest_batch_join(struct ingest_job *j)
{
	struct ingest_pos pos;
	int rc;

	if (!j->cm || !j->posted || j->cur.final)
		return 0;
	j->src->ops->position(j->src, &pos);
	rc = ingest_batch_fill(j, &j->join, true, &pos);
	if (rc)
		return rc;
	/* offered: ingest_batch_wait takes its answer, or posts it */
	j->join_offered = true;
	if (ingest_committer_join(j->cm, j->in->batch, &j->join))
		log_debug("ingest", "%s: the input ended: its last %zu events "
			  "join the commit in flight", j->input.path,
			  batch_events(j->in->batch));
	return 0;
}

/* ingest_batch_now - commit now, and wait for it */
static int ingest_batch_now(struct ingest_job *j, bool final)
{
	int rc = ingest_batch_post(j, final);

	return rc ? rc : ingest_batch_wait(j);
}

/* the input's last part is cut into smaller batches from this size on */
#define INGEST_TAIL_MIN (4u << 20)

/* ingest_tail_due - near the end of a file whose size is known: the rest
   is no larger than what this batch read (at least INGEST_TAIL_MIN), so
   it is committed now while the rest is read, and the batches shrink
   towards the end: the commit nothing overlaps, the last one, is small */
static bool ingest_tail_due(const struct ingest_job *j)
{
	struct ingest_pos pos;
	uint64_t size = j->input.size, from = j->batch_off, read;

	if (!j->cm || size == 0)
		return false;
	j->src->ops->position(j->src, &pos);
	if (pos.offset >= size || pos.offset <= from)
		return false;
	read = pos.offset - from;
	return read >= INGEST_TAIL_MIN && size - pos.offset <= read;
}

/* ingest_warm_hint - the addresses the input is expected to have, to the
   committer (it makes LMDB's page copies ready for them before the first
   commit), from what the batch holds at each doubling of the records
   read and, for a file, the records its size promises */
static void ingest_warm_hint(struct ingest_job *j)
{
	size_t addrs = batch_addresses(j->in->batch);
	uint64_t total = j->rows;
	struct ingest_pos pos;

	j->src->ops->position(j->src, &pos);
	if (j->input.size > pos.offset && pos.offset > 0 &&
	    j->rows < UINT64_MAX / j->input.size)
		total = j->rows * j->input.size / pos.offset;
	ingest_committer_hint(j->cm, ingest_committer_addrs_est(
					     j->warm_half, addrs, j->rows,
					     total));
	j->warm_half = addrs;
}

/* ingest_batch_due - is it time to commit?  When batch-interval passed,
   and at least as long as the last commit took: a commit's cost grows
   with the pages it rewrites, which on a large state with addresses all
   over it is most of them, whatever the batch's size, so the batches
   grow with the commits' time (the interval stays batch-interval while
   commits are quick).  A commit before is still being written: not yet,
   the batch grows until that one is done or batch-records is reached. */
static bool ingest_batch_due(const struct ingest_job *j)
{
	const struct config *cfg = j->in->cfg;
	int64_t every = cfg->batch_interval_ms * 1000000LL;

	if (j->mail)
		return false;		/* one transaction, at its end */
	if (batch_events(j->in->batch) >= cfg->batch_records ||
	    j->pending.records + j->pending.bad >= cfg->batch_records)
		return true;
	if ((j->rows & 255) != 0)
		return false;
	if (every < j->took_ns)
		every = j->took_ns;
	if (ingest_now_ns() - j->batch_ns < every && !ingest_tail_due(j))
		return false;
	return !j->posted || !j->cm || !ingest_committer_busy(j->cm);
}

/* ingest_taken_before - was the row of the event just pulled taken
   before (its end at or before the offset the state had committed for
   the input when this reading began)?  Rows come in order: once one ends
   past that offset, no other row is asked about. */
static bool ingest_taken_before(struct ingest_job *j)
{
	struct ingest_pos pos;

	j->src->ops->position(j->src, &pos);
	if (pos.offset <= j->taken_until)
		return true;
	j->taken_until = 0;
	return false;
}

/* ingest_event - one event of the source: classified, counted, batched */
static int ingest_event(struct ingest_job *j, struct event *ev)
{
	struct ingest *in = j->in;
	const struct monitor_release *rel;
	/* the address's hash made, and its slot asked for, while the record
	   is classified: looked up with the next few records' (batch_add);
	   not for a delivery, whose slot is asked for with the next ones
	   only (a prefetch per delivery only competes with those) */
	bool ask = !j->already && ev->kind != EV_DELIVERY;
	size_t n, i;
	int rc;

	if (ask)
		batch_prefetch(in->batch, ev->rcpt);
	classify_event(&in->rules, ev);
	j->pending.records++;
	if (ev->rule_hit) {
		j->hits[ev->rule_hit - 1]++;
		j->any_hit = true;
	}
	if (j->already)
		return 0;	/* a mail read again to say where it goes */
	if (!in->mon) {
		/* no incident now, but a hard bounce one held and did not
		   apply before is known by its source (rcpt_dropped.h) */
		if (ev->klass == CLASS_HARD)
			ev->src_hash = monitor_source_hash(monitor_source(ev));
		return batch_add(in->batch, ev);
	}
	if (ev->klass == CLASS_SOFT || ev->klass == CLASS_HARD)
		ev->src_hash = monitor_source_hash(monitor_source(ev));
	/* a record taken before, read again: the monitor counted it then
	   (monitor_feed_again) */
	ev->held = j->taken_until && ingest_taken_before(j) ?
			   monitor_feed_again(in->mon, ev) :
			   monitor_feed(in->mon, ev);
	ev->mon_gen = monitor_gen(in->mon);
	rc = batch_add(in->batch, ev);
	if (ev->held)
		/* the monitor keeps a reference to the batch's copy until
		   the batch is sealed, and copies nothing of it before */
		monitor_hold_bind(in->mon, ev,
				  rc == 0 ? batch_last(in->batch) : NULL);
	/* hard bounces held by an incident this record closed: applied
	   right after it */
	n = monitor_released(in->mon, &rel);
	for (i = 0; rc == 0 && i < n; i++) {
		struct incident_held h;
		struct event_extra x;
		struct event r;

		if (rel[i].ref) {
			/* held in this batch: its event as the batch keeps
			   it, linked again */
			rc = batch_add_release(in->batch, rel[i].ref,
					       rel[i].id, rel[i].src_hash,
					       ev->mon_gen);
			continue;
		}
		/* the monitor encoded it: it decodes */
		rc = incident_held_decode(rel[i].rec, rel[i].len, &h);
		if (rc) {
			log_error("ingest", "a hard bounce released by "
				  "incident %" PRIu64 " does not decode: %s",
				  rel[i].id, strerror(-rc));
			break;
		}
		incident_held_event(&h, &r, &x);
		r.released = rel[i].id;
		r.src_hash = rel[i].src_hash;
		r.mon_gen = ev->mon_gen;
		rc = batch_add(in->batch, &r);
	}
	return rc;
}

/* ingest_verdict - a mail's verdict from the source (NOTE) */
static void ingest_verdict(struct ingest_job *j, int verdict,
			   const struct ingest_note *note)
{
	j->verdict = verdict;
	j->aside = note->counter;
	snprintf(j->why, sizeof(j->why), "%s", note->why ? note->why : "");
}

/* ingest_drain - every event the source holds, committing batches as they
   fill: 0 (the source wants more), 1 (the input ended) or -errno */
static int ingest_drain(struct ingest_job *j)
{
	struct ingest_note note;
	struct event ev;
	int rc;

	for (;;) {
		memset(&note, 0, sizeof(note));
		rc = j->src->ops->next(j->src, &ev, &note);
		switch (rc) {
		case INGEST_NEXT_MORE:
			return 0;
		case INGEST_NEXT_END:
			return 1;
		case INGEST_NEXT_EVENT:
			rc = ingest_event(j, &ev);
			if (rc)
				return rc;
			break;
		case INGEST_NEXT_SKIPPED:
			j->pending.records++;
			j->pending.skipped++;
			break;
		case INGEST_NEXT_NORCPT:
			j->pending.records++;
			j->pending.ignored++;
			log_debug("acct", "%s:%llu: f record without recipient",
				  j->input.path, (unsigned long long)note.line);
			break;
		case INGEST_NEXT_BAD:
			ingest_bad(j, note.line, note.why);
			break;
		case INGEST_NEXT_ASIDE:
		case INGEST_NEXT_REFUSED:
			ingest_verdict(j, rc == INGEST_NEXT_ASIDE ? INGEST_ASIDE :
						     INGEST_REFUSED, &note);
			return 1;
		default:
			return rc < 0 ? rc : -EINVAL;
		}
		j->rows++;
		/* at 16,384 records read, 32,768 ... until the first commit */
		if ((j->rows & (j->rows - 1)) == 0 && j->rows >= 16384 &&
		    j->cm && !j->posted && j->total.records == 0)
			ingest_warm_hint(j);
		if (ingest_batch_due(j)) {
			rc = ingest_batch_post(j, false);
			if (rc)
				return rc;
			j->batch_ns = ingest_now_ns();
		}
	}
}

/* ingest_finish - the input ended: the last commit, and the verdict */
static int ingest_finish(struct ingest_job *j)
{
	int rc;

	j->ended = true;
	if (j->progress && j->progress_ns != j->start_ns)
		log_progress(NULL);
	if (!j->already && j->verdict != INGEST_REFUSED) {
		rc = ingest_batch_join(j);
		if (rc) {
			(void)ingest_batch_wait(j);
			return rc;
		}
	}
	rc = ingest_batch_wait(j);
	if (rc)
		return rc;
	if (j->already) {
		/* a mail taken before: only where it goes is wanted */
		if (j->verdict != INGEST_ASIDE)
			j->why[0] = '\0';
		j->verdict = INGEST_ALREADY;
		return 0;
	}
	if (j->verdict == INGEST_REFUSED)
		return 0;	/* nothing of it is recorded */
	rc = j->final_done ? 0 : ingest_batch_now(j, true);
	if (rc == 0 && j->verdict == 0)
		j->verdict = INGEST_TAKEN;
	return rc;
}

/*
 * ingest_wait - a stream: wait until there is something to read (1),
 * committing what is pending when the writer pauses (INGEST_QUIET_MS) or
 * batch-interval has passed since the batch's first record, or until
 * END_NS (0); -errno
 */
static int ingest_wait(struct ingest_job *j, int64_t end_ns)
{
	int64_t now, left;
	int rc, timeout;

	for (;;) {
		now = ingest_now_ns();
		timeout = -1;
		if (!ingest_pending(j)) {
			/* the batch clock starts with the batch's first row */
			j->batch_ns = now;
		} else {
			left = j->in->cfg->batch_interval_ms * 1000000LL -
			       (now - j->batch_ns);
			if (left <= 0) {
				rc = ingest_batch_now(j, false);
				if (rc)
					return rc;
				continue;
			}
			timeout = (int)((left + 999999) / 1000000);
			if (timeout > INGEST_QUIET_MS)
				timeout = INGEST_QUIET_MS;
		}
		if (end_ns != INT64_MAX) {
			int64_t rest = (end_ns - now + 999999) / 1000000;

			if (rest <= 0)
				return 0;
			if (timeout < 0 || rest < timeout)
				timeout = rest > 1000000 ? 1000000 : (int)rest;
		}
		rc = ingest_input_wait(&j->input, timeout);
		if (rc < 0) {
			j->input_error = true;
			return rc;
		}
		if (rc > 0)
			return 1; /* data, end or error: read() says which */
		if (ingest_pending(j)) {
			/* the writer paused: commit what it wrote */
			rc = ingest_batch_now(j, false);
			if (rc)
				return rc;
		}
	}
}

void ingest_progress_format(char *buf, size_t len, const char *name,
			    uint64_t records, double secs, uint64_t offset,
			    uint64_t size)
{
	double rate = secs > 0 ? (double)records / secs : 0.0;
	char eta[32] = "";

	if (size && offset > 0 && offset < size && secs > 0) {
		double left = secs * (double)(size - offset) / (double)offset;
		unsigned long long s = (unsigned long long)(left + 0.5);

		if (s >= 3600)
			snprintf(eta, sizeof(eta), ", ETA %llu:%02llu:%02llu",
				 s / 3600, s / 60 % 60, s % 60);
		else
			snprintf(eta, sizeof(eta), ", ETA %llu:%02llu", s / 60,
				 s % 60);
	} else if (size && offset >= size) {
		snprintf(eta, sizeof(eta), ", ETA 0:00");
	}
	if (size)
		snprintf(buf, len, "%.100s: %llu records, %.0f/s, %3.0f%%%s",
			 name, (unsigned long long)records, rate,
			 offset >= size ? 100.0 :
			 100.0 * (double)offset / (double)size, eta);
	else
		snprintf(buf, len, "%.100s: %llu records, %.0f/s", name,
			 (unsigned long long)records, rate);
}

/* ingest_progress - the progress line on stderr, or a log line */
static void ingest_progress(struct ingest_job *j, int64_t now)
{
	double secs = (double)(now - j->start_ns) / 1e9;
	uint64_t n = j->total.records + j->pending.records +
		     (j->posted ? j->cur.counts.records : 0);
	struct ingest_pos pos;
	char line[256];

	j->progress_ns = now;
	j->src->ops->position(j->src, &pos);
	ingest_progress_format(line, sizeof(line), j->input.path, n, secs,
			       pos.offset, j->input.size);
	if (j->progress)
		log_progress(line);
	else
		log_info("ingest", "%s", line);
}

/* ingest_read - a chunk of the input to its source: read straight into
   the source's buffer when it has room for it (no copy), else through
   the context's; 0 or -errno (the input's: input_error set) */
static int ingest_read(struct ingest_job *j)
{
	const struct ingest_src_ops *ops = j->src->ops;
	char *buf = j->in->buf;
	ssize_t n;
	int rc;

	if (ops->room) {
		rc = ops->room(j->src, INGEST_CHUNK, &buf);
		if (rc)
			return rc;
	}
	n = ingest_input_read(&j->input, buf, INGEST_CHUNK);
	if (n < 0) {
		j->input_error = true;
		return (int)n;
	}
	j->read_bytes += (uint64_t)n;
	return ops->room ? ops->fed(j->src, (size_t)n) :
			   ops->feed(j->src, buf, (size_t)n);
}

/* ingest_stop_log - the reading of J stopped on RC, neither the input's
   error nor a commit's */
static void ingest_stop_log(const struct ingest_job *j, int rc)
{
	log_error("ingest", "%s: stopped reading: %s (what was read after "
		  "byte %llu, line %llu, was not kept; run again to take it)",
		  j->input.path,
		  rc == -ENOMEM ? "out of memory (the memory or address "
				  "space the process may use)" :
				  strerror(rc < 0 ? -rc : rc),
		  (unsigned long long)j->input.rec.offset,
		  (unsigned long long)j->input.rec.lines);
}

int ingest_step(struct ingest_job *j, int max_ms)
{
	int64_t end = max_ms < 0 ? INT64_MAX :
				   ingest_now_ns() + (int64_t)max_ms * 1000000LL;
	bool read = false;
	int rc;

	if (j->failed)
		return -EINVAL;
	if (j->ended)
		return 1;
	for (;;) {
		rc = ingest_drain(j);
		if (rc < 0)
			goto fail;
		if (rc == 1) {
			rc = ingest_finish(j);
			if (rc)
				goto fail;
			return 1;
		}
		if (read && ingest_now_ns() >= end)
			break;
		if (!j->input.key) {
			rc = ingest_wait(j, end);
			if (rc < 0)
				goto fail;
			if (rc == 0)
				break;	/* nothing came in time */
		}
		rc = ingest_read(j);
		if (rc)
			goto fail;
		read = true;
		if (j->progress || j->progress_log) {
			int64_t now = ingest_now_ns();

			if (now - j->progress_ns >= j->progress_every)
				ingest_progress(j, now);
		}
	}
	/* a commit may still be in flight, in the committer's thread: the
	   caller may use the state meanwhile (its writes wait for that
	   commit); the next step, ingest_pause or ingest_end takes its
	   answer */
	return 0;
fail:
	j->failed = true;
	(void)ingest_batch_wait(j);
	/* the input's errors and the commits' are logged where they come
	   from; the rest (memory for the batch, the monitor's, the
	   source's) here */
	if (!j->input_error && !j->commit_failed)
		ingest_stop_log(j, rc);
	return rc;
}

/* ingest_job_source - the source for OPTS over J's input */
static int ingest_job_source(struct ingest_job *j,
			     const struct ingest_opts *opts)
{
	struct ingest_src_args a;

	memset(&a, 0, sizeof(a));
	a.name = j->input.path;
	a.source = j->input.key ? j->input.key : j->input.path;
	a.default_time = j->input.mtime;
	a.skip_until = j->input.skip_until;
	a.fallback = &j->in->fallback;
	a.growing = opts->growing && j->input.key != NULL;	/* a file */
	a.size = j->input.size;
	a.max_size = opts->max_size;
	a.parse = opts->parse;
	a.parse_arg = opts->parse_arg;
	switch (opts->mode) {
	case INGEST_LIST:
		return ingest_src_list_new(&a, &j->src);
	case INGEST_MAIL:
		return ingest_src_mail_new(&a, &j->src);
	case INGEST_ACCT:
		return ingest_src_csv_new(&a, false, &j->src);
	case INGEST_DETECT:
		break;
	}
	return ingest_src_csv_new(&a, true, &j->src);
}

/* ingest_one_cpu - may this process run on one CPU only? */
static bool ingest_one_cpu(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	return sched_getaffinity(0, sizeof(set), &set) == 0 &&
	       CPU_COUNT(&set) < 2;
}

/* ingest_job_committer - a file is committed in a thread of its own while
   it is read on (no thread: inline).  A file read to its end in one go
   (TO_END: bounced process) on one CPU is committed inline: the thread
   would only take turns with the reader, and batches cut short to keep
   both busy would cost more commits.  The worker keeps the thread there
   too, so that its loop is not held up by a commit. */
static void ingest_job_committer(struct ingest_job *j, bool to_end)
{
	if (to_end && ingest_one_cpu()) {
		log_debug("ingest", "%s: commits inline (one CPU)",
			  j->input.path);
		return;
	}
	/* room in the map for the page copies the committer makes ready
	   before its first commit (it may not grow the map itself, and
	   stops at a full one): half the file's size, about what its
	   records add to the state when most of its addresses are new */
	if (to_end && j->input.size)
		(void)state_reserve(j->in->st,
				    j->input.size / 2 < INGEST_WARM_ROOM ?
					    j->input.size / 2 :
					    INGEST_WARM_ROOM);
	j->spare = batch_new();
	if (j->spare && ingest_committer_new(j->in, to_end, &j->cm) == 0) {
		batch_set_blocks(j->in->batch, ingest_committer_block, j->cm);
		batch_set_blocks(j->spare, ingest_committer_block, j->cm);
		return;
	}
	batch_free(j->spare);
	j->spare = NULL;
	log_debug("ingest", "%s: commits inline (no thread)", j->input.path);
}

/* ingest_job_open - a job over PATH (TO_END: read to its end in one
   go), whatever the answer (but -ENOMEM): 0 (read it), INGEST_ALREADY (a
   file taken to its end before) or -errno (ingest_begin) */
static int ingest_job_open(struct ingest *in, const char *path,
			   const struct ingest_opts *opts, bool to_end,
			   struct ingest_job **out)
{
	struct ingest_job *j = calloc(1, sizeof(*j));
	int rc;

	*out = j;
	if (!j) {
		log_error("ingest", "%s: cannot be taken: out of memory",
			  path);
		return -ENOMEM;
	}
	j->in = in;
	j->start_ns = j->batch_ns = j->progress_ns = ingest_now_ns();
	j->mail = opts->mode == INGEST_MAIL;
	j->progress = opts->progress;
	j->progress_every = timeparse_env_ms("BOUNCED_PROGRESS_MS",
					     INGEST_PROGRESS_MS) * 1000000LL;
	monitor_hold_keep(in->mon);	/* before the batch is emptied */
	batch_clear(in->batch);
	rc = ingest_monitor_ready(in);
	if (rc)
		return rc;
	rc = ingest_input_open(&j->input, in->st, path, opts->reprocess);
	if (rc < 0) {
		j->input_error = j->input.failed;
		return rc;
	}
	if (rc == 1 && !j->mail)
		return INGEST_ALREADY;
	j->already = rc == 1;
	if (!j->mail)
		j->taken_until = j->input.taken_until;
	if (j->mail && !opts->parse)
		return -EINVAL;
	if (j->mail && !j->input.key) {
		j->ended = true;
		j->verdict = INGEST_REFUSED;
		snprintf(j->why, sizeof(j->why), "not a regular file");
		return 0;
	}
	if (!j->mail && j->input.key)
		ingest_job_committer(j, to_end);
	/* a long file read with no terminal to show it: a log line now and
	   then (a stream has no end to tell) */
	if (!j->mail && j->input.key && !j->progress) {
		j->progress_log = true;
		j->progress_every = timeparse_env_ms(
			"BOUNCED_PROGRESS_LOG_MS", INGEST_PROGRESS_LOG_MS) *
			1000000LL;
	}
	if (j->mail && j->input.size > opts->max_size) {
		/* refused unread, even when taken before */
		j->ended = true;
		j->verdict = INGEST_REFUSED;
		snprintf(j->why, sizeof(j->why), "%llu bytes, more than "
			 "drop-max-size (%llu)",
			 (unsigned long long)j->input.size,
			 (unsigned long long)opts->max_size);
		return 0;
	}
	rc = ingest_job_source(j, opts);
	if (rc)
		log_error("ingest", "%s: cannot be read: %s", path,
			  rc == -ENOMEM ? "out of memory" : strerror(-rc));
	return rc;
}

int ingest_begin(struct ingest *in, const char *path,
		 const struct ingest_opts *opts, struct ingest_job **out)
{
	struct ingest_job *j = NULL;
	int rc;

	*out = NULL;
	in->input_failed = false;
	in->already_as[0] = '\0';
	rc = ingest_job_open(in, path, opts, false, &j);
	if (rc == INGEST_ALREADY)
		ingest_note_already(in, j);
	if (rc == 0 && !j->mail && j->input.key && !opts->reprocess &&
	    j->input.rec.status == FILE_FAILED)
		rc = INGEST_FAILED;
	if (rc) {
		if (rc < 0 && j)
			in->input_failed = j->input_error;
		ingest_end(j, NULL);
		return rc;
	}
	*out = j;
	return 0;
}

bool ingest_job_input_error(const struct ingest_job *j)
{
	return j->input_error;
}

int ingest_job_is(const struct ingest_job *j, const char *path)
{
	struct stat now, was;

	if (j->input.fd < 0)
		return -EBADF;
	if (fstat(j->input.fd, &was) != 0 || stat(path, &now) != 0)
		return -errno;
	return now.st_dev == was.st_dev && now.st_ino == was.st_ino;
}

int ingest_job_verdict(const struct ingest_job *j, char *why, size_t whylen)
{
	if (why && whylen)
		snprintf(why, whylen, "%s", j->why);
	return j->ended ? j->verdict : INGEST_TAKEN;
}

/* ingest_pause - commit the rows read so far */
int ingest_pause(struct ingest_job *j)
{
	int rc;

	if (j->failed)
		return -EINVAL;
	if (j->ended || j->mail)
		return 0;
	rc = ingest_batch_now(j, false);
	if (rc)
		j->failed = true;
	return rc;
}

/* ingest_job_counts - the job's counts and the file's totals */
void ingest_job_counts(const struct ingest_job *j, struct ingest_counts *c,
		       uint64_t *records, uint64_t *bad)
{
	*c = j->total;
	*records = j->input.key ? j->input.rec.records : j->total.records;
	*bad = j->input.key ? j->input.rec.bad : j->total.bad;
}

/* ingest_job_fail - the file's record with status FILE_FAILED */
int ingest_job_fail(struct ingest_job *j)
{
	if (!j->input.key)
		return 0;
	return ingest_commit_failed(j->in, j->input.key, &j->input.rec);
}

void ingest_end(struct ingest_job *j, struct ingest_counts *counts)
{
	if (!j)
		return;
	(void)ingest_batch_wait(j);
	/* the batches swapped: in->batch may be either; it outlives J */
	batch_set_blocks(j->in->batch, NULL, NULL);
	ingest_committer_free(j->cm);
	batch_free(j->spare);
	ingest_commit_free(&j->cur);
	ingest_commit_free(&j->join);
	if (counts) {
		*counts = j->total;
		counts->seconds = (double)(ingest_now_ns() - j->start_ns) / 1e9;
	}
	ingest_log_caps(j, true);
	/* holds of a batch read but not committed (an error): kept as
	   they were fed */
	monitor_hold_keep(j->in->mon);
	batch_clear(j->in->batch);
	ingest_src_free(j->src);
	ingest_input_close(&j->input);
	free(j);
}

/* the slices ingest_file reads in while it may be asked to stop (ms) */
#define INGEST_STOP_SLICE_MS 100

/* ingest_file_steps - J read in slices until its end (1) or *STOP: then
   a stream is read on to its end for INGEST_STOP_MS at most, and what was
   read is committed (INGEST_STOPPED); or -errno */
static int ingest_file_steps(struct ingest_job *j, const volatile int *stop)
{
	int64_t until = 0;
	int rc;

	for (;;) {
		rc = ingest_step(j, INGEST_STOP_SLICE_MS);
		if (rc != 0)
			return rc;
		if (!*stop)
			continue;
		if (j->input.key)
			break;		/* a file: resumed from its commit */
		if (!until) {
			until = ingest_now_ns() + INGEST_STOP_MS * 1000000LL;
			log_info("ingest", "%s: asked to stop: read on to its "
				 "end for %d ms at most", j->input.path,
				 INGEST_STOP_MS);
		} else if (ingest_now_ns() >= until) {
			break;
		}
	}
	rc = ingest_pause(j);
	if (rc)
		return rc;
	log_info("ingest", "%s: stopped before its end: what was read is "
		 "committed%s", j->input.path, j->input.key ?
		 " (the next run resumes there)" : "");
	if (!j->input.key) {
		/* a stream is not read again: what came after its last whole
		   record is lost, and said */
		struct ingest_pos pos;

		j->src->ops->position(j->src, &pos);
		if (j->read_bytes > pos.offset)
			log_warn("ingest", "%s: %llu bytes read after line %llu, "
				 "a record not ended when it stopped, were not "
				 "taken (a stream is not read again)",
				 j->input.path, (unsigned long long)
				 (j->read_bytes - pos.offset),
				 (unsigned long long)pos.lines);
	}
	return INGEST_STOPPED;
}

int ingest_file(struct ingest *in, const char *path,
		const struct ingest_opts *opts, struct ingest_counts *counts)
{
	struct ingest_job *j = NULL;
	uint64_t taken = 0;
	int rc;

	memset(counts, 0, sizeof(*counts));
	in->input_failed = false;
	in->already_as[0] = '\0';
	rc = ingest_job_open(in, path, opts, true, &j);
	if (rc == INGEST_ALREADY) {
		taken = j->input.rec.records;
		ingest_note_already(in, j);
	}
	if (rc == 0) {
		rc = opts->stop ? ingest_file_steps(j, opts->stop) :
				  ingest_step(j, -1);
		if (rc == 1 && j->verdict == INGEST_REFUSED) {
			log_error("ingest", "%s: %s; nothing of it was taken",
				  path, j->why);
			rc = INGEST_REFUSED;
		} else if (rc == 1) {
			rc = INGEST_TAKEN;
		}
	}
	if (rc < 0 && j)
		in->input_failed = j->input_error;
	ingest_end(j, counts);
	if (rc == INGEST_ALREADY)
		counts->records = taken;
	return rc;
}

int ingest_mail(struct ingest *in, const char *path, uint64_t max_size,
		ingest_mail_parse_fn parse, void *arg,
		struct ingest_counts *counts, char *why, size_t whylen)
{
	struct ingest_opts opts = { .mode = INGEST_MAIL, .parse = parse,
				    .parse_arg = arg, .max_size = max_size };
	struct ingest_job *j = NULL;
	int rc;

	memset(counts, 0, sizeof(*counts));
	why[0] = '\0';
	in->input_failed = false;
	rc = ingest_job_open(in, path, &opts, true, &j);
	if (rc == 0)
		rc = ingest_step(j, -1);
	if (rc == 1)
		rc = ingest_job_verdict(j, why, whylen);
	else if (rc < 0 && j && j->already && j->input_error)
		rc = INGEST_ALREADY;	/* moved on as it is */
	if (rc < 0 && j)
		in->input_failed = j->input_error;
	ingest_end(j, counts);
	return rc;
}
