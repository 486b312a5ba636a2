/*
 * run_acct.c - how `bounced run` takes the files of the spool: one at a
 * time, oldest first, in steps of about RUN_SLICE_MS (ingest_step) so the
 * loop serves signals and the network between them, however large the
 * file.  A file's batches are committed as they fill; the end of the file
 * is committed before the file moves.
 *
 * A file some process still has open for writing is not taken
 * (spool_writing): its close brings its name again.
 * Where a file goes:
 *   done/    taken to its end (or taken before: the state says so), with a
 *            summary line at info level; when it cannot be moved there, it
 *            stays queued and the move is tried again after the pause
 *            (RUN_DEFER_MS): the state knows it taken, it only moves;
 *   failed/  with NAME.why: not a regular file, cannot be opened, nothing
 *            usable (bad lines and no record of a type bounced acts on,
 *            as binary junk gives; the state then records the file as
 *            failed), the state records it as failed before, or its
 *            reading failed SPOOL_TRIES times (spool_tries.h);
 *   stays    when it vanished (nothing to do), or when the state could not
 *            be written: then it is taken again after the pause (RUN_DEFER_MS), from
 *            its last commit; or when its failed/NAME.why could not be
 *            written (a full disk) or it could not be moved: the move is
 *            tried again after the pause (RUN_DEFER_MS), with the same reason;
 *            or when its reading failed (an I/O error): it is tried again
 *            after the pause, from its last commit, while the files after
 *            it and the mails are taken (an error of the state pauses
 *            them all).
 * A file renamed over the one being read (as rsync puts a file that grew)
 * is not moved in its stead: it stays in acct/, queued, and is taken as
 * any file (a grown copy resumes where the state left the name).
 * Error policy: everything is logged here; nothing is returned, nothing
 * exits.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "ingest.h"
#include "log.h"
#include "run_priv.h"
#include "spool.h"
#include "spool_tries.h"
#include "state.h"

/* run_acct_busy - work for the ingest side of the loop */
bool run_acct_busy(const struct run *r)
{
	int64_t now;

	if (r->job)
		return true;
	now = run_now_ms();
	if (spool_queued(r->sp) == 0 || now < r->defer_until)
		return false;
	/* every queued file waits for its next attempt, and none came */
	return !(spool_pushes(r->sp) == r->wait_pushes && now < r->wait_until);
}

int64_t run_acct_due(const struct run *r)
{
	if (spool_pushes(r->sp) == r->wait_pushes &&
	    r->wait_until > r->defer_until)
		return r->wait_until;
	return r->defer_until;
}

/* run_acct_next - the first queued file that does not wait for its next
   attempt (g_free it), or NULL: the ones that wait go to the end of the
   queue, in their order */
static char *run_acct_next(struct run *r)
{
	unsigned n = spool_queued(r->sp), i;
	int64_t now = run_now_ms(), until = INT64_MAX;
	int64_t next;
	char *name;

	for (i = 0; i < n; i++) {
		name = spool_next(r->sp);
		if (!name)
			break;
		next = r->tries ? spool_tries_next(r->tries, name) : INT64_MIN;
		if (next <= now)
			return name;
		if (next < until)
			until = next;
		spool_push(r->sp, name);
		g_free(name);
	}
	r->wait_until = until;
	r->wait_pushes = spool_pushes(r->sp);
	return NULL;
}

/* run_acct_forget - NAME's failed attempts, forgotten */
static void run_acct_forget(struct run *r, const char *name)
{
	if (r->tries && name)
		spool_tries_forget(r->tries, name);
}

/* run_acct_clear - forget the current file */
static void run_acct_clear(struct run *r, struct ingest_counts *c)
{
	ingest_end(r->job, c);
	r->job = NULL;
	g_free(r->name);
	g_free(r->path);
	r->name = r->path = NULL;
}

/* run_acct_fail - NAME to failed/ with WHY; when failed/NAME.why cannot
   be written (a full disk) or the move fails, NAME stays queued with WHY
   and the move is tried again after the pause (RUN_DEFER_MS) */
static void run_acct_fail(struct run *r, const char *name, const char *why)
{
	int rc = spool_fail(r->sp, name, why);
	char dt[RUN_DEFER_TEXT];

	if (rc == 0 || rc == -ENOENT) {	/* moved, or gone */
		if (rc == 0)
			log_warn("run", "%s: moved to failed/: %s", name, why);
		if (r->fail_why)
			g_hash_table_remove(r->fail_why, name);
		run_acct_forget(r, name);
		return;
	}
	if (!r->fail_why)
		r->fail_why = g_hash_table_new_full(g_str_hash, g_str_equal,
						    g_free, g_free);
	if (!g_hash_table_contains(r->fail_why, name))
		g_hash_table_insert(r->fail_why, g_strdup(name),
				    g_strdup(why));
	log_error("run", "%s: cannot be moved to failed/ now (%s); trying "
		  "again in %s", name, strerror(-rc), run_defer_text(r, dt));
	spool_push(r->sp, name);
	r->defer_until = run_now_ms() + r->defer_ms;
}

/* run_acct_done - NAME, taken, to done/; when it cannot be moved there
   (a done/ that is no directory, a full disk) it stays queued and the
   move is tried again after the pause (RUN_DEFER_MS): taken again, the
   state finds it taken, and it only moves */
static void run_acct_done(struct run *r, const char *name)
{
	char dt[RUN_DEFER_TEXT];
	int rc = spool_done(r->sp, name);

	if (rc == 0 || rc == -ENOENT) {
		run_acct_forget(r, name);
		return;
	}
	log_error("run", "%s: taken, but cannot be moved to done/ now (%s); "
		  "trying again in %s", name, strerror(-rc),
		  run_defer_text(r, dt));
	spool_push(r->sp, name);
	r->defer_until = run_now_ms() + r->defer_ms;
}

/* run_acct_retry - the file could not be read (or the state written): take
   it again later; COUNT: the input's fault, give up after SPOOL_TRIES,
   and meanwhile take the files after it */
static void run_acct_retry(struct run *r, const char *name, int rc,
			   bool count)
{
	char why[256], dt[RUN_DEFER_TEXT];
	unsigned attempts;

	if (!count) {
		/* the state's: nothing can be taken before the pause ends */
		log_error("run", "%s: cannot be taken now (%s); trying again "
			  "in %s", name, state_strerror(rc), run_defer_text(r, dt));
		spool_push_front(r->sp, name);
		r->defer_until = run_now_ms() + r->defer_ms;
		return;
	}
	if (!r->tries)
		r->tries = spool_tries_new(spool_acct_dir(r->sp), true);
	attempts = spool_tries_fail(r->tries, name,
				    run_now_ms() + r->defer_ms);
	if (attempts == 0 || attempts >= SPOOL_TRIES) {
		if (attempts)
			snprintf(why, sizeof(why), "cannot be read: %s (%u "
				 "attempts)", strerror(-rc), attempts);
		else
			snprintf(why, sizeof(why), "cannot be read: %s (and %d "
				 "other files cannot either: no more tries "
				 "kept)", strerror(-rc), SPOOL_TRIES_MAX);
		run_acct_forget(r, name);
		run_acct_fail(r, name, why);
		return;
	}
	log_error("run", "%s: cannot be taken now (%s); trying again in %s "
		  "(attempt %u of %d), the files after it meanwhile", name,
		  state_strerror(rc), run_defer_text(r, dt), attempts,
		  SPOOL_TRIES);
	spool_push(r->sp, name);
}

/* run_acct_begin - start the next queued file (or dispose of it at once) */
static void run_acct_begin(struct run *r)
{
	struct ingest_opts opts = { .mode = INGEST_DETECT };
	char why[512];
	struct stat sb;
	char *name, *path;
	int rc;

	run_swap(r);		/* a reloaded ingest takes over between files */
	name = run_acct_next(r);
	if (!name)
		return;
	if (r->fail_why && g_hash_table_contains(r->fail_why, name)) {
		/* judged before: only its move to failed/ is pending */
		char *saved = g_strdup(g_hash_table_lookup(r->fail_why, name));

		run_acct_fail(r, name, saved);
		g_free(saved);
		g_free(name);
		return;
	}
	path = spool_path(r->sp, name);
	if (stat(path, &sb) != 0) {
		rc = -errno;
		if (rc == -ENOENT) {
			log_debug("run", "%s: gone before it was taken", name);
			run_acct_forget(r, name);
			spool_leave(r->sp, name);  /* a link to nothing? */
		} else if (ingest_error_process(rc)) {
			run_acct_retry(r, name, rc, false);
		} else if (ingest_error_final(rc)) {
			snprintf(why, sizeof(why), "cannot open it: %s",
				 strerror(-rc));
			run_acct_fail(r, name, why);
		} else {
			run_acct_retry(r, name, rc, true);
		}
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		/* a FIFO, a socket, a device: left alone, as a scan does */
		run_acct_forget(r, name);
		spool_leave(r->sp, name);
		goto out;
	}
	if (spool_writing(path) == 1) {
		/* renamed in before its writer closed it, or found by a
		   scan while a writer holds it: what it has is not all it
		   will have, and once moved to done/ the rest would land
		   there.  Its close brings the name again */
		log_info("run", "%s: still open for writing by another "
			 "process: taken once it is closed", name);
		run_acct_forget(r, name);
		goto out;
	}
	rc = ingest_begin(r->in, path, &opts, &r->job);
	if (rc == 0) {
		log_debug("run", "%s: taking it (%lld bytes)", name,
			  (long long)sb.st_size);
		r->name = name;
		r->path = path;
		return;
	}
	if (rc == INGEST_ALREADY) {
		if (ingest_already_as(r->in))
			log_info("run", "%s: already taken as %s (the same "
				 "content)", path, ingest_already_as(r->in));
		else
			log_info("run", "%s: already taken", path);
		run_acct_done(r, name);
	} else if (rc == INGEST_FAILED) {
		run_acct_fail(r, name, "the state records this file (the same "
			      "content) as failed before; to take it anyway, "
			      "run: bounced process --reprocess FILE");
	} else if (rc == -ENOENT) {
		log_debug("run", "%s: gone before it was taken", name);
		run_acct_forget(r, name);
	} else if (!ingest_input_failed(r->in) || ingest_error_process(rc)) {
		/* the state's (reading where the file was left), or the
		   process's (memory, descriptors): no fault of the file */
		run_acct_retry(r, name, rc, false);
	} else if (ingest_error_final(rc)) {
		snprintf(why, sizeof(why), "cannot open it: %s", strerror(-rc));
		run_acct_fail(r, name, why);
	} else {
		run_acct_retry(r, name, rc, true);
	}
out:
	g_free(path);
	g_free(name);
}

/* run_acct_unusable - nothing in the file could be used: bad lines, and
   no record of a type bounced acts on (judged on this job's counts, so a
   resumed file whose first part was usable is never failed) */
static bool run_acct_unusable(const struct ingest_counts *c, uint64_t records,
			      uint64_t bad)
{
	return bad > 0 && records == c->records && c->records == c->skipped;
}

/* run_acct_replaced - acct/NAME is no longer the file the job read: one
   was renamed over it meanwhile (as rsync puts a file that grew).  That
   one is not moved with the name: it stays in acct/, queued, and is taken
   as any file (a grown copy from where the state left the name); true
   then.  False for the file read, or when it cannot be told (the move
   says why) */
static bool run_acct_replaced(struct run *r)
{
	if (ingest_job_is(r->job, r->path) != 0)
		return false;
	log_info("run", "%s: another file was renamed over it while it was "
		 "read: that one stays in acct/, queued to be taken",
		 r->path);
	spool_push(r->sp, r->name);
	return true;
}

/* run_acct_finish - summary line, then the file to done/ (or failed/),
   unless another file took its name (run_acct_replaced) */
static void run_acct_finish(struct run *r)
{
	struct ingest_counts c;
	uint64_t records, bad;
	char line[512], why[512];
	bool replaced = run_acct_replaced(r);
	int rc;

	if (ingest_job_verdict(r->job, why, sizeof(why)) == INGEST_REFUSED) {
		/* no accounting file, told from its first rows: nothing of
		   it was committed; recorded as failed, as below */
		rc = ingest_job_fail(r->job);
		if (rc)
			log_error("run", "%s: cannot record the file as failed: "
				  "%s", r->name, state_strerror(rc));
		if (!replaced)
			run_acct_fail(r, r->name, why);
		run_acct_clear(r, NULL);
		return;
	}
	ingest_job_counts(r->job, &c, &records, &bad);
	if (run_acct_unusable(&c, records, bad)) {
		rc = ingest_job_fail(r->job);
		if (rc)
			log_error("run", "%s: cannot record the file as failed: "
				  "%s", r->name, state_strerror(rc));
		snprintf(why, sizeof(why), "no usable record (bad lines: %llu, "
			 "each logged with its line number; other records, "
			 "none a bounce, complaint or delivery: %llu); a file "
			 "without a header line is read in the order of "
			 "[bounced] acct-fields",
			 (unsigned long long)bad, (unsigned long long)records);
		if (!replaced)
			run_acct_fail(r, r->name, why);
		run_acct_clear(r, NULL);
		return;
	}
	ingest_end(r->job, &c);
	r->job = NULL;
	ingest_counts_format(&c, line, sizeof(line));
	log_info("run", "%s: %s", r->path, line);
	if (replaced)
		run_acct_forget(r, r->name);
	else
		run_acct_done(r, r->name);
	run_acct_clear(r, NULL);
}

/* run_acct_work - one slice of ingest */
void run_acct_work(struct run *r)
{
	char *name;
	int rc;

	if (!r->job) {
		if (!run_acct_busy(r))
			return;
		run_acct_begin(r);
		if (!r->job)
			return;
	}
	rc = ingest_step(r->job, RUN_SLICE_MS);
	if (rc == 0)
		return;
	if (rc == 1) {
		run_acct_finish(r);
		return;
	}
	name = g_strdup(r->name);
	if (rc == -EALREADY) {
		/* another process took part of it meanwhile (logged): what
		   is left of it is that one's, or taken after the pause from
		   where that one left it (or found taken: done/) */
		char dt[RUN_DEFER_TEXT];

		run_acct_clear(r, NULL);
		log_info("run", "%s: looked at again in %s", name,
			 run_defer_text(r, dt));
		spool_push_front(r->sp, name);
		r->defer_until = run_now_ms() + r->defer_ms;
	} else if (ingest_job_input_error(r->job) &&
		   !ingest_error_process(rc)) {
		run_acct_clear(r, NULL);
		run_acct_retry(r, name, rc, true);
	} else {
		run_acct_clear(r, NULL);
		run_acct_retry(r, name, rc, false);
	}
	g_free(name);
}

/* run_acct_pause - commit and let the current file go */
void run_acct_pause(struct run *r)
{
	int rc;

	if (!r->job)
		return;
	rc = ingest_pause(r->job);
	if (rc)
		log_error("run", "%s: cannot commit what was read: %s (it is "
			  "read again from its last commit on the next start)",
			  r->name, state_strerror(rc));
	else
		log_info("run", "%s: stopped in the middle; it resumes where "
			 "it was left on the next start", r->name);
	run_acct_clear(r, NULL);
}
