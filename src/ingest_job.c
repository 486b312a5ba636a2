/*
 * ingest_job.c - take an input step by step, for the spool worker: the
 * same reading, parsing and committing as ingest_file() (ingest.c,
 * ingest_apply.c), cut into steps of bounded time so that the caller's
 * event loop runs between them.
 *
 * A job owns the input's descriptor, its CSV reader and its committed
 * record; the context's batch is the job's until ingest_end(), so one job
 * runs at a time per context.  Error policy: as ingest_file - input errors
 * are logged and returned as -errno, state errors returned as they come;
 * after an error the job can only be ended (its uncommitted rows dropped).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ingest_priv.h"
#include "log.h"

struct ingest_job {
	struct ingest *in;
	struct ingest_src src;
	struct ingest_counts counts;	/* committed by this job */
	uint64_t rows;			/* rows parsed, for the batch clock */
	int64_t start_ns;
	bool failed;			/* an error happened: only ingest_end */
	bool input_error;		/* ...and it was the input's */
};

/* ingest_job_ns - the monotonic clock in ns */
static int64_t ingest_job_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* ingest_begin - open PATH and find where it was left */
int ingest_begin(struct ingest *in, const char *path,
		 const struct ingest_opts *opts, struct ingest_job **out)
{
	struct ingest_job *j;
	struct stat sb;
	int rc;

	*out = NULL;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->in = in;
	j->start_ns = ingest_job_ns();
	j->src.path = path;
	j->src.fd = -1;
	j->src.mode = opts->mode;
	j->src.total = &j->counts;
	batch_clear(in->batch);

	rc = ingest_open(in, &j->src, opts, &sb);
	if (rc == 1) {
		rc = INGEST_ALREADY;
		goto fail;
	}
	if (rc)
		goto fail;
	if (j->src.key && !opts->reprocess &&
	    j->src.rec.status == FILE_FAILED) {
		rc = INGEST_FAILED;
		goto fail;
	}
	j->src.csv = csv_reader_new(0, 0, 0);
	if (!j->src.csv) {
		rc = -ENOMEM;
		goto fail;
	}
	clock_gettime(CLOCK_MONOTONIC, &j->src.batch_start);
	*out = j;
	return 0;
fail:
	ingest_end(j, NULL);
	return rc;
}

/* ingest_step - read and parse for about MAX_MS */
int ingest_step(struct ingest_job *j, int max_ms)
{
	struct ingest *in = j->in;
	struct ingest_src *src = &j->src;
	int64_t end = ingest_job_ns() + (int64_t)(max_ms > 0 ? max_ms : 0) *
					       1000000LL;
	int rc;

	if (j->failed)
		return -EINVAL;
	do {
		ssize_t n = read(src->fd, in->buf, INGEST_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			log_error("ingest", "cannot read '%s': %s", src->path,
				  strerror(-rc));
			j->input_error = true;
			goto fail;
		}
		if (n == 0) {
			rc = ingest_drain(in, src, true, &j->rows);
			if (rc == 0)
				rc = ingest_commit(in, src, true);
			if (rc)
				goto fail;
			return 1;
		}
		rc = csv_reader_feed(src->csv, in->buf, (size_t)n);
		if (rc == 0)
			rc = ingest_drain(in, src, false, &j->rows);
		if (rc)
			goto fail;
	} while (ingest_job_ns() < end);
	return 0;
fail:
	j->failed = true;
	return rc;
}

/* ingest_job_input_error - was the last error the input's? */
bool ingest_job_input_error(const struct ingest_job *j)
{
	return j->input_error;
}

/* ingest_pause - commit the rows parsed so far */
int ingest_pause(struct ingest_job *j)
{
	int rc;

	if (j->failed)
		return -EINVAL;
	rc = ingest_commit(j->in, &j->src, false);
	if (rc)
		j->failed = true;
	return rc;
}

/* ingest_job_counts - the job's counts and the file's totals */
void ingest_job_counts(const struct ingest_job *j, struct ingest_counts *c,
		       uint64_t *records, uint64_t *bad)
{
	*c = j->counts;
	*records = j->src.key ? j->src.rec.records : j->counts.records;
	*bad = j->src.key ? j->src.rec.bad : j->counts.bad;
}

/* ingest_job_fail_txn - REC written (state_write_fn) */
static int ingest_job_fail_txn(struct state *st, MDB_txn *txn, void *arg)
{
	struct ingest_job *j = arg;
	struct file_rec rec = j->src.rec;

	rec.status = FILE_FAILED;
	rec.updated = (int64_t)time(NULL);
	return state_file_put(st, txn, j->src.key, &rec);
}

/* ingest_job_fail - the file's record with status FILE_FAILED */
int ingest_job_fail(struct ingest_job *j)
{
	int rc;

	if (!j->src.key)
		return 0;
	rc = state_write(j->in->st, ingest_job_fail_txn, j);
	if (rc == 0)
		j->src.rec.status = FILE_FAILED;
	return rc;
}

/* ingest_end - counts, then free the job */
void ingest_end(struct ingest_job *j, struct ingest_counts *counts)
{
	if (!j)
		return;
	if (counts) {
		*counts = j->counts;
		counts->seconds = (double)(ingest_job_ns() - j->start_ns) / 1e9;
	}
	ingest_log_caps(&j->src, true);
	batch_clear(j->in->batch);
	csv_reader_free(j->src.csv);
	if (j->src.fd > STDIN_FILENO)
		close(j->src.fd);
	free(j->src.key);
	free(j);
}
