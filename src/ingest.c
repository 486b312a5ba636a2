/*
 * ingest.c - read one input to its end: open it, find where the state says
 * it was left, parse rows into events and batches, commit as batches fill.
 *
 * A file is known by its absolute path; its first bytes' fingerprint tells
 * whether the file under that name is still the one that was taken.  To
 * resume inside a file, the rows before the committed offset are parsed
 * again but only their header lines are used (the column map in force at
 * the offset), so no record is applied twice.  Bad lines are counted and
 * logged with file and line (the first LOG_CAP_LINES of an input, then one
 * line with the count: ingest_log_caps); they never stop the input.  A stream (stdin,
 * a pipe that PowerMTA may keep open for days) is polled between reads and
 * committed as soon as the writer pauses (INGEST_QUIET_MS without data):
 * a record PowerMTA writes is in the state within milliseconds, while a
 * busy writer fills large batches (group commit: what arrives during one
 * commit goes into the next), bounded by batch-interval and batch-records.  Errors of the input are -errno (logged); errors of the state are
 * returned as they come.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "acct_event.h"
#include "config.h"
#include "ingest_priv.h"
#include "log.h"

#define INGEST_FP_MAX 4096
#define INGEST_PROGRESS_NS 2000000000LL

struct ingest *ingest_new(const struct config *cfg, struct state *st)
{
	struct ingest *in = calloc(1, sizeof(*in));
	char err[256];

	if (!in)
		return NULL;
	in->cfg = cfg;
	in->st = st;
	classify_rules_from_config(&in->rules, cfg);
	in->esc.threshold = cfg->soft_threshold;
	in->esc.min_span = cfg->soft_min_span;
	in->esc.window = cfg->soft_window;
	in->batch = batch_new();
	in->buf = malloc(INGEST_CHUNK);
	if (!in->batch || !in->buf)
		goto fail;
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

/* ingest_input_failed - was the last error of ingest_file the input's? */
bool ingest_input_failed(const struct ingest *in)
{
	return in->input_failed;
}

void ingest_on_commit(struct ingest *in, void (*fn)(void *arg), void *arg)
{
	in->on_commit = fn;
	in->on_commit_arg = arg;
}

void ingest_free(struct ingest *in)
{
	if (!in)
		return;
	batch_free(in->batch);
	free(in->buf);
	free(in);
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

static int64_t ingest_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static int64_t ingest_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return ingest_ns(&t);
}

/* ingest_fingerprint - FNV-1a of the first LEN bytes of FD */
static int ingest_fingerprint(int fd, uint32_t len, uint64_t *hash)
{
	unsigned char b[INGEST_FP_MAX];
	uint64_t h = 1469598103934665603ULL;
	ssize_t n;
	uint32_t i;

	if (len > sizeof(b))
		len = sizeof(b);
	n = pread(fd, b, len, 0);
	if (n < 0)
		return -errno;
	if ((uint32_t)n != len)
		return -EIO;
	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= 1099511628211ULL;
	}
	*hash = h;
	return 0;
}

/* ingest_open - open PATH and find where it was left; 1 = already taken */
int ingest_open(struct ingest *in, struct ingest_src *src,
		const struct ingest_opts *opts, struct stat *sb)
{
	struct file_rec old;
	MDB_txn *txn = NULL;
	char abs[PATH_MAX];
	uint64_t hash = 0;
	int rc;

	if (strcmp(src->path, "-") == 0) {
		src->fd = STDIN_FILENO;
		src->default_time = (int64_t)time(NULL);
		return 0;
	}
	src->fd = open(src->path, O_RDONLY | O_CLOEXEC);
	if (src->fd < 0 || fstat(src->fd, sb) != 0) {
		rc = -errno;
		in->input_failed = true;
		log_error("ingest", "cannot open '%s': %s", src->path,
			  strerror(-rc));
		return rc;
	}
	if (S_ISDIR(sb->st_mode)) {
		in->input_failed = true;
		log_error("ingest", "'%s' is a directory, not an accounting file",
			  src->path);
		return -EISDIR;
	}
	src->default_time = (int64_t)sb->st_mtime;
	if (!S_ISREG(sb->st_mode) || !realpath(src->path, abs))
		return 0; /* a pipe or FIFO: a stream, never resumed */
	src->key = strdup(abs);
	if (!src->key)
		return -ENOMEM;
	src->size = (uint64_t)sb->st_size;

	memset(&src->rec, 0, sizeof(src->rec));
	src->rec.dev = (uint64_t)sb->st_dev;
	src->rec.ino = (uint64_t)sb->st_ino;
	src->rec.started = (int64_t)time(NULL);
	src->rec.fp_len = src->size < INGEST_FP_MAX ? (uint32_t)src->size :
						      INGEST_FP_MAX;
	rc = ingest_fingerprint(src->fd, src->rec.fp_len, &src->rec.fp_hash);
	if (rc) {
		in->input_failed = true;
		log_error("ingest", "cannot read '%s': %s", src->path,
			  strerror(-rc));
		return rc;
	}
	if (opts->reprocess)
		return 0;

	rc = state_begin(in->st, false, &txn);
	if (rc)
		return rc;
	rc = state_file_get(in->st, txn, src->key, &old);
	state_abort(txn);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	if (old.fp_len > src->size ||
	    ingest_fingerprint(src->fd, old.fp_len, &hash) != 0 ||
	    hash != old.fp_hash) {
		log_info("ingest", "%s: not the file taken before under this "
			 "name: taking it from the start", src->path);
		return 0;
	}
	if (old.status == FILE_DONE && old.offset >= src->size) {
		src->rec = old;
		return 1;
	}
	src->rec = old;
	src->skip_until = old.offset;
	if (old.offset)
		log_info("ingest", "%s: resuming at byte %llu (line %llu)",
			 src->path, (unsigned long long)old.offset,
			 (unsigned long long)old.lines);
	return 0;
}

/* ingest_detect - accounting file or address list, from the first row */
static void ingest_detect(struct ingest *in, struct ingest_src *src,
			  const struct csv_row *row)
{
	char tmp[ADDR_MAX + 1];
	enum event_kind k;

	src->mode_known = true;
	src->map = in->fallback;
	if (src->mode != INGEST_DETECT)
		return;
	src->mode = INGEST_ACCT;
	if (acct_row_is_header(row))
		return;
	k = acct_type_kind(row->fields[0], row->lens[0]);
	if (k != EV_SKIPPED && k != EV_NONE)
		return;
	if (addr_normalise(row->fields[0], row->lens[0], tmp, sizeof(tmp)) > 0) {
		src->mode = INGEST_LIST;
		log_info("ingest", "%s: a list of addresses: every address is "
			 "unsubscribed", src->path);
	}
}

/* ingest_bad - count a bad row; log it (the first LOG_CAP_LINES) */
static void ingest_bad(struct ingest_src *src, uint64_t line, const char *why)
{
	src->pending.bad++;
	if (log_cap_take(&src->cap_bad))
		log_warn("acct", "%s:%llu: bad record: %s", src->path,
			 (unsigned long long)line, why);
}

/* ingest_list_row - a line of an address list */
static int ingest_list_row(struct ingest *in, struct ingest_src *src,
			   const struct csv_row *row)
{
	char rcpt[ADDR_MAX + 1];
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	if (addr_normalise(row->fields[0], row->lens[0], rcpt,
			   sizeof(rcpt)) < 0) {
		char show[80];

		snprintf(show, sizeof(show), "%.*s",
			 (int)(row->lens[0] > 64 ? 64 : row->lens[0]),
			 row->fields[0]);
		if (row->line == 1 && (strcasecmp(show, "email") == 0 ||
				       strcasecmp(show, "address") == 0))
			return 0; /* a header line */
		ingest_bad(src, row->line, "not an address");
		return 0;
	}
	ev.kind = EV_LIST;
	ev.rcpt = rcpt;
	ev.time = src->default_time;
	ev.source = src->key ? src->key : src->path;
	ev.line = row->line;
	classify_event(&in->rules, &ev);
	src->pending.records++;
	return batch_add(in->batch, &ev);
}

/* ingest_acct_row - a row of an accounting file */
static int ingest_acct_row(struct ingest *in, struct ingest_src *src,
			   const struct csv_row *row)
{
	char rcpt[ADDR_MAX + 1];
	struct event_extra x;
	struct event ev;
	char why[192];

	if (acct_row_is_header(row)) {
		if (acct_map_from_row(&src->map, row) != 0)
			ingest_bad(src, row->line,
				   "header line without type and rcpt columns");
		return 0;
	}
	switch (acct_event_from_row(&src->map, row, &in->rules,
				    src->default_time, &ev, rcpt, &x, why,
				    sizeof(why))) {
	case ACCT_EVENT_BAD:
		ingest_bad(src, row->line, why);
		return 0;
	case ACCT_EVENT_SKIP:
		src->pending.records++;
		src->pending.skipped++;
		return 0;
	case ACCT_EVENT_NORCPT:
		src->pending.records++;
		src->pending.ignored++;
		log_debug("acct", "%s:%llu: f record without recipient",
			  src->path, (unsigned long long)row->line);
		return 0;
	case ACCT_EVENT_OK:
		break;
	}
	ev.source = src->key ? src->key : src->path;
	src->pending.records++;
	return batch_add(in->batch, &ev);
}

/* ingest_row - one parsed row (possibly before the resume point) */
static int ingest_row(struct ingest *in, struct ingest_src *src,
		      const struct csv_row *row)
{
	if (!src->mode_known)
		ingest_detect(in, src, row);
	src->lines = row->end_line;
	if (row->end_offset <= src->skip_until) {
		/* taken before: only the column map matters */
		if (src->mode == INGEST_ACCT && acct_row_is_header(row))
			(void)acct_map_from_row(&src->map, row);
		return 0;
	}
	if (src->mode == INGEST_LIST)
		return ingest_list_row(in, src, row);
	return ingest_acct_row(in, src, row);
}

/* ingest_progress - a progress line on stderr */
static void ingest_progress(const struct ingest_src *src, int64_t start_ns,
			    bool done)
{
	double secs = (double)(ingest_now_ns() - start_ns) / 1e9;
	uint64_t n = src->total->records + src->pending.records;
	uint64_t off = csv_reader_offset(src->csv);
	char line[200];

	if (done) {
		log_progress(NULL);
		return;
	}
	if (src->size)
		snprintf(line, sizeof(line), "%.100s: %llu records, %.0f/s, %3.0f%%",
			 src->path, (unsigned long long)n,
			 secs > 0 ? (double)n / secs : 0.0,
			 100.0 * (double)off / (double)src->size);
	else
		snprintf(line, sizeof(line), "%.100s: %llu records, %.0f/s",
			 src->path, (unsigned long long)n,
			 secs > 0 ? (double)n / secs : 0.0);
	log_progress(line);
}

/* ingest_batch_due - is it time to commit? */
static bool ingest_batch_due(struct ingest *in, struct ingest_src *src,
			     uint64_t rows)
{
	int64_t now;

	if (batch_events(in->batch) >= in->cfg->batch_records ||
	    src->pending.records + src->pending.bad >= in->cfg->batch_records)
		return true;
	if ((rows & 255) != 0)
		return false;
	now = ingest_now_ns();
	return now - ingest_ns(&src->batch_start) >=
	       in->cfg->batch_interval_ms * 1000000LL;
}

/* ingest_drain - pull every complete row out of the reader */
int ingest_drain(struct ingest *in, struct ingest_src *src, bool eof,
		 uint64_t *rows)
{
	struct csv_row row;
	enum csv_result r;
	int rc;

	for (;;) {
		r = csv_reader_next(src->csv, &row, eof);
		if (r == CSV_NEED_MORE || r == CSV_END)
			return 0;
		if (r == CSV_BAD) {
			src->lines = row.end_line;
			if (row.end_offset > src->skip_until)
				ingest_bad(src, row.line,
					   csv_reader_error(src->csv));
			continue;
		}
		rc = ingest_row(in, src, &row);
		if (rc)
			return rc;
		(*rows)++;
		if (ingest_batch_due(in, src, *rows)) {
			rc = ingest_commit(in, src, false);
			if (rc)
				return rc;
			clock_gettime(CLOCK_MONOTONIC, &src->batch_start);
		}
	}
}

/* ingest_pending - rows parsed since the last commit? */
static bool ingest_pending(struct ingest *in, const struct ingest_src *src)
{
	return batch_events(in->batch) > 0 || src->pending.records > 0 ||
	       src->pending.bad > 0;
}

/* a stream's batch is committed when no data came for this long */
#define INGEST_QUIET_MS 2

/*
 * ingest_wait - a stream (a pipe that may never end): wait until there is
 * something to read, committing what is pending when the writer pauses
 * (INGEST_QUIET_MS) or batch-interval has passed since the batch's first
 * row; 0 or -errno
 */
static int ingest_wait(struct ingest *in, struct ingest_src *src)
{
	struct pollfd pfd = { .fd = src->fd, .events = POLLIN };
	int64_t left;
	int prc, rc, timeout;

	for (;;) {
		timeout = -1;
		if (!ingest_pending(in, src)) {
			/* the batch clock starts with the batch's first row */
			clock_gettime(CLOCK_MONOTONIC, &src->batch_start);
		} else {
			left = in->cfg->batch_interval_ms * 1000000LL -
			       (ingest_now_ns() - ingest_ns(&src->batch_start));
			if (left <= 0) {
				rc = ingest_commit(in, src, false);
				if (rc)
					return rc;
				continue;
			}
			timeout = (int)((left + 999999) / 1000000);
			if (timeout > INGEST_QUIET_MS)
				timeout = INGEST_QUIET_MS;
		}
		prc = poll(&pfd, 1, timeout);
		if (prc < 0 && errno == EINTR)
			continue;
		if (prc < 0) {
			rc = -errno;
			in->input_failed = true;
			log_error("ingest", "cannot wait for '%s': %s",
				  src->path, strerror(-rc));
			return rc;
		}
		if (prc > 0)
			return 0; /* data, end or error: read() says which */
		if (prc == 0 && ingest_pending(in, src)) {
			/* the writer paused: commit what it wrote */
			rc = ingest_commit(in, src, false);
			if (rc)
				return rc;
		}
	}
}

/* ingest_read - the read loop of one input */
static int ingest_read(struct ingest *in, struct ingest_src *src,
		       const struct ingest_opts *opts)
{
	int64_t start = ingest_now_ns(), last = start;
	uint64_t rows = 0;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &src->batch_start);
	for (;;) {
		ssize_t n;

		if (!src->key) {
			rc = ingest_wait(in, src);
			if (rc)
				return rc;
		}
		n = read(src->fd, in->buf, INGEST_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			in->input_failed = true;
			log_error("ingest", "cannot read '%s': %s", src->path,
				  strerror(-rc));
			return rc;
		}
		if (n == 0)
			break;
		rc = csv_reader_feed(src->csv, in->buf, (size_t)n);
		if (rc == 0)
			rc = ingest_drain(in, src, false, &rows);
		if (rc)
			return rc;
		if (opts->progress && ingest_now_ns() - last >= INGEST_PROGRESS_NS) {
			last = ingest_now_ns();
			ingest_progress(src, start, false);
		}
	}
	rc = ingest_drain(in, src, true, &rows);
	if (rc == 0)
		rc = ingest_commit(in, src, true);
	if (opts->progress && last != start)
		ingest_progress(src, start, true);
	return rc;
}

int ingest_file(struct ingest *in, const char *path,
		const struct ingest_opts *opts, struct ingest_counts *counts)
{
	struct ingest_src src;
	struct stat sb;
	int64_t t0 = ingest_now_ns();
	int rc;

	memset(counts, 0, sizeof(*counts));
	memset(&src, 0, sizeof(src));
	in->input_failed = false;
	src.path = path;
	src.fd = -1;
	src.mode = opts->mode;
	src.total = counts;
	batch_clear(in->batch);

	rc = ingest_open(in, &src, opts, &sb);
	if (rc == 1) {
		counts->records = src.rec.records;
		rc = INGEST_ALREADY;
		goto out;
	}
	if (rc)
		goto out;
	src.csv = csv_reader_new(0, 0, 0);
	if (!src.csv) {
		rc = -ENOMEM;
		goto out;
	}
	rc = ingest_read(in, &src, opts);
	if (rc == 0)
		rc = INGEST_TAKEN;
out:
	ingest_log_caps(&src, true);
	counts->seconds = (double)(ingest_now_ns() - t0) / 1e9;
	csv_reader_free(src.csv);
	if (src.fd > STDIN_FILENO)
		close(src.fd);
	free(src.key);
	return rc;
}
