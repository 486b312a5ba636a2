/*
 * test_ingest_map.c - the state's map and a batch committed in the
 * committer's thread.
 *
 * Resizing LMDB's map needs every transaction of the process ended, so
 * the committer never resizes it: the core grows the map before it hands
 * a batch over (state_reserve, 512 bytes per address), and when the
 * batch still meets a full map (records longer than that) the committer
 * gives the batch back, the core grows the map and posts it again.
 * Either way every record is there, once.
 *
 * When the input ends while a commit is still applying its batch, the
 * last batch joins that commit's transaction.  The tests make sure of the
 * moment: a thread of theirs holds the state's write transaction until
 * the core says (in the log) that it offered the last batch, so that the
 * committer is still waiting to begin when the offer comes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>
#include <pthread.h>
#include <time.h>

#include "config.h"
#include "ingest.h"
#include "log.h"
#include "rcpt.h"
#include "state.h"
#include "tlog.h"
#include "tstate.h"
#include "ttmp.h"

#define N_ADDRS 400
#define N_ROWS 1600		/* four soft bounces per address */

/* the join: a first batch of JOIN_FIRST addresses (batch-records), then
   JOIN_AGAIN of them once more and JOIN_NEW new ones */
#define JOIN_FIRST 1000
#define JOIN_AGAIN 5
#define JOIN_NEW 5
#define JOIN_LONG_NEW 900	/* long records: too many for the map */
#define JOIN_OFFERED "join the commit in flight"

struct ctx {
	char *dir;
	char *file;
	char *log;
	struct config *cfg;
	struct state *st;
};

/* write_file - N_ROWS soft bounces over N_ADDRS addresses; LONG: each with
   a diagnostic, sender and job id near their limits (records of about
   1.5 KB, three times what the core reserves per address) */
static void write_file(const char *path, bool lng)
{
	FILE *f = fopen(path, "w");
	char diag[480], orig[200], job[120];
	int i;

	assert_non_null(f);
	memset(diag, 'x', sizeof(diag) - 1);
	diag[sizeof(diag) - 1] = '\0';
	memset(orig, 'o', sizeof(orig) - 1);
	orig[sizeof(orig) - 1] = '\0';
	memcpy(orig + sizeof(orig) - 13, "@example.com", 13);
	memset(job, 'j', sizeof(job) - 1);
	job[sizeof(job) - 1] = '\0';
	fprintf(f, "type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,bounceCat,"
		"vmta,jobId\r\n");
	for (i = 0; i < N_ROWS; i++)
		fprintf(f, "b,2026-11-%02d %02d:%02d:%02d+0000,%s,"
			"u%d@example.com,4.2.2,\"smtp;452 4.2.2 %s\","
			"quota-issues,vmta1,%s\r\n",
			1 + i / 400, i / 3600 % 24, i / 60 % 60, i % 60,
			lng ? orig : "news@example.com", i % N_ADDRS,
			lng ? diag : "mailbox full", lng ? job : "job-1");
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	struct ctx *c = g_new0(struct ctx, 1);
	char *sdir, err[256];

	c->dir = ttmp_make("bounced-map");
	assert_non_null(c->dir);
	c->file = g_build_filename(c->dir, "acct.csv", NULL);
	c->log = g_build_filename(c->dir, "bounced.log", NULL);
	if (config_load(NULL, &c->cfg, NULL, err, sizeof(err)) != 0)
		fail_msg("config: %s", err);
	/* one commit, at the end */
	c->cfg->batch_records = 10000000;
	c->cfg->batch_interval_ms = 3600 * 1000;
	sdir = g_build_filename(c->dir, "state", NULL);
	assert_int_equal(tstate_open(&c->st, sdir, false), 0);
	g_free(sdir);
	/* as small as LMDB lets it be */
	assert_int_equal(state_set_map_size(c->st, 64 * 1024), 0);
	assert_int_equal(tlog_start(c->log, BLOG_DEBUG), 0);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	int rc;

	tlog_stop();
	state_close(c->st);
	rc = ttmp_remove(&c->dir);
	config_free(c->cfg);
	g_free(c->file);
	g_free(c->log);
	g_free(c);
	return rc;
}

/* assert_taken - N addresses u0 ... once each, with EACH soft bounces (one
   more for the first AGAIN), ROWS records counted; the file done */
static void assert_taken(struct ctx *c, int n, int again, unsigned each,
			 uint64_t rows)
{
	struct file_rec rec;
	MDB_txn *txn = NULL;
	uint64_t entries = 0, soft = 0;
	int i;

	assert_int_equal(state_begin(c->st, false, &txn), 0);
	assert_int_equal(state_stat_entries(c->st, txn, "rcpt", &entries), 0);
	assert_int_equal(entries, n);
	for (i = 0; i < n; i++) {
		char addr[64];
		struct rcpt r;

		snprintf(addr, sizeof(addr), "u%d@example.com", i);
		assert_int_equal(state_rcpt_get(c->st, txn, addr, &r), 0);
		assert_int_equal(r.cnt_soft, each + (i < again ? 1 : 0));
	}
	assert_int_equal(state_meta_get_u64(c->st, txn, "count.soft", &soft),
			 0);
	assert_int_equal(soft, rows);
	assert_int_equal(state_file_get(c->st, txn, c->file, &rec), 0);
	assert_int_equal(rec.status, FILE_DONE);
	assert_int_equal(rec.records, rows);
	assert_int_equal(rec.lines, rows + 1);
	state_abort(txn);
}

/* write_join_file - JOIN_FIRST soft bounces to u0 ... u999, then a second
   one to the first JOIN_AGAIN addresses and one to each of NEW new ones
   (of about 1.5 KB each when LNG) */
static void write_join_file(const char *path, int n_new, bool lng)
{
	FILE *f = fopen(path, "w");
	char diag[480];
	int i;

	assert_non_null(f);
	memset(diag, 'x', sizeof(diag) - 1);
	diag[sizeof(diag) - 1] = '\0';
	fprintf(f, "type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,bounceCat,"
		"vmta,jobId\r\n");
	for (i = 0; i < JOIN_FIRST + JOIN_AGAIN + n_new; i++) {
		int a = i < JOIN_FIRST ? i :
			i < JOIN_FIRST + JOIN_AGAIN ? i - JOIN_FIRST :
						      i - JOIN_AGAIN;
		bool big = lng && i >= JOIN_FIRST + JOIN_AGAIN;

		fprintf(f, "b,2026-11-01 %02d:%02d:%02d+0000,news@example.com,"
			"u%d@example.com,4.2.2,\"smtp;452 4.2.2 %s\","
			"quota-issues,vmta1,%s\r\n",
			i / 3600 % 24, i / 60 % 60, i % 60, a,
			big ? diag : "mailbox full", big ? diag : "job-1");
	}
	assert_int_equal(fclose(f), 0);
}

/* a writer of the test's own, in the way of the committer's first
   transaction until the core has offered its last batch to join it
   (UNTIL, a line of the log), or until the test lets it go (UNTIL NULL:
   holder_release) */
struct holder {
	struct ctx *c;
	const char *until;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool holding;
	bool release;		/* holder_release() was called */
	bool timed_out;		/* let go by the deadline, not by its cause */
};

/* holder_done - what the holder waits for has come */
static bool holder_done(struct holder *h)
{
	char *text = NULL;
	bool done;

	if (!h->until) {
		pthread_mutex_lock(&h->mu);
		done = h->release;
		pthread_mutex_unlock(&h->mu);
		return done;
	}
	done = g_file_get_contents(h->c->log, &text, NULL, NULL) &&
	       strstr(text, h->until) != NULL;
	g_free(text);
	return done;
}

static void *holder_main(void *arg)
{
	struct holder *h = arg;
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	MDB_txn *txn = NULL;
	int rc, i;

	rc = state_begin(h->c->st, true, &txn);
	pthread_mutex_lock(&h->mu);
	h->holding = rc == 0;
	h->timed_out = rc != 0;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	if (rc)
		return NULL;
	/* at most ten seconds: a core that never gets there fails the
	   test, it does not hang it */
	for (i = 0; i < 2000 && !holder_done(h); i++)
		nanosleep(&ts, NULL);
	state_abort(txn);
	pthread_mutex_lock(&h->mu);
	h->timed_out = i == 2000;
	h->holding = false;
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

/* holder_start - the test's writer holds the state's write transaction */
static void holder_start(struct holder *h, struct ctx *c, const char *until)
{
	memset(h, 0, sizeof(*h));
	h->c = c;
	h->until = until;
	assert_int_equal(pthread_mutex_init(&h->mu, NULL), 0);
	assert_int_equal(pthread_cond_init(&h->cv, NULL), 0);
	assert_int_equal(pthread_create(&h->thread, NULL, holder_main, h), 0);
	pthread_mutex_lock(&h->mu);
	while (!h->holding && !h->timed_out)
		pthread_cond_wait(&h->cv, &h->mu);
	pthread_mutex_unlock(&h->mu);
}

/* holder_holds - the holder still holds the state */
static bool holder_holds(struct holder *h)
{
	bool holding;

	pthread_mutex_lock(&h->mu);
	holding = h->holding;
	pthread_mutex_unlock(&h->mu);
	return holding;
}

static void holder_release(struct holder *h)
{
	pthread_mutex_lock(&h->mu);
	h->release = true;
	pthread_mutex_unlock(&h->mu);
}

static void holder_end(struct holder *h)
{
	assert_int_equal(pthread_join(h->thread, NULL), 0);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
	if (h->timed_out) {
		char *text = NULL;

		/* what the core said instead */
		if (g_file_get_contents(h->c->log, &text, NULL, NULL))
			fprintf(stderr, "the log:\n%s\n", text);
		g_free(text);
	}
	assert_false(h->timed_out);
}

/* take_rest - JOB read to its end (a step that ends early waits for the
   commit in flight), then JOB and IN freed */
static void take_rest(struct ingest *in, struct ingest_job *job)
{
	int rc;

	do {
		rc = ingest_step(job, -1);
		assert_true(rc == 0 || rc == 1);
	} while (rc == 0);
	ingest_end(job, NULL);
	ingest_free(in);
}

/* take - the file to its end (a committer thread); HELD: batches of
   JOIN_FIRST records, the first commit held back until the last batch
   was offered */
static void take(struct ctx *c, bool held)
{
	struct ingest_opts opts = { .mode = INGEST_ACCT };
	struct ingest *in = ingest_new(c->cfg, c->st);
	struct ingest_job *job = NULL;
	struct holder h;

	assert_non_null(in);
	if (held)
		c->cfg->batch_records = JOIN_FIRST;
	assert_int_equal(ingest_begin(in, c->file, &opts, &job), 0);
	if (held)
		holder_start(&h, c, JOIN_OFFERED);
	take_rest(in, job);
	if (held)
		holder_end(&h);
}

/* join_case - the join file of N_NEW new addresses (long records when
   LNG) in a map of MAP bytes, taken with the first commit held back:
   every record there, the last batch offered, and JOINED: committed with
   the first (else the first was committed again alone, after a full map,
   and the last after it) */
static void join_case(struct ctx *c, size_t map, int n_new, bool lng,
		      bool joined)
{
	char *text;

	assert_int_equal(state_set_map_size(c->st, map), 0);
	write_join_file(c->file, n_new, lng);
	take(c, true);
	assert_taken(c, JOIN_FIRST + n_new, JOIN_AGAIN, 1,
		     JOIN_FIRST + JOIN_AGAIN + n_new);
	text = tlog_text(c->log);
	assert_non_null(text);
	assert_non_null(strstr(text, JOIN_OFFERED));
	/* the second commit of one transaction is logged as joined */
	assert_int_equal(strstr(text, "with the batch before") != NULL,
			 joined);
	assert_int_equal(strstr(text, "the batch committed again") != NULL,
			 !joined);
	assert_null(strstr(text, "cannot commit"));
	g_free(text);
}

/* the input ends while the first commit waits to begin: its last batch
   is applied in the same transaction, after the first */
static void test_last_batch_joins(void **state)
{
	join_case(*state, 64 << 20, JOIN_NEW, false, true);
}

/* the two batches together do not fit the map: the first is committed
   again alone, then the last after it.  The map has room for the first
   (state_reserve grows nothing while the test's writer holds the
   state), not for both. */
static void test_joined_map_full(void **state)
{
	join_case(*state, 768 << 10, JOIN_LONG_NEW, true, false);
}

/* a step returns while the batch it posted is still being committed:
   the worker serves its loop (and uses the state) between steps without
   waiting for the commit */
static void test_step_leaves_commit_in_flight(void **state)
{
	struct ctx *c = *state;
	struct ingest_opts opts = { .mode = INGEST_ACCT };
	struct ingest *in;
	struct ingest_job *job = NULL;
	struct ingest_counts done;
	uint64_t records = 0, bad = 0;
	struct holder h;
	int n_new = 59 * JOIN_FIRST, i;

	assert_int_equal(state_set_map_size(c->st, 64 << 20), 0);
	write_join_file(c->file, n_new, false);
	/* a batch due after a millisecond, none while one is committed */
	c->cfg->batch_interval_ms = 1;
	in = ingest_new(c->cfg, c->st);
	assert_non_null(in);
	assert_int_equal(ingest_begin(in, c->file, &opts, &job), 0);
	holder_start(&h, c, NULL);
	/* steps of a millisecond: a read of 128 KiB or two each (some
	   1,000 records), far from the end of 60,000 */
	for (i = 0; i < 5; i++)
		assert_int_equal(ingest_step(job, 1), 0);
	/* they returned with the first batch still waiting for the test's
	   writer: nothing committed yet */
	assert_true(holder_holds(&h));
	ingest_job_counts(job, &done, &records, &bad);
	assert_int_equal(done.records, 0);
	holder_release(&h);
	holder_end(&h);
	take_rest(in, job);
	assert_taken(c, JOIN_FIRST + n_new, JOIN_AGAIN, 1,
		     JOIN_FIRST + JOIN_AGAIN + n_new);
}

/* records of the usual size: the map grown before the batch, no retry */
static void test_map_grown_ahead(void **state)
{
	struct ctx *c = *state;
	size_t before = state_map_size(c->st);
	char *text;

	write_file(c->file, false);
	take(c, false);
	assert_taken(c, N_ADDRS, 0, N_ROWS / N_ADDRS, N_ROWS);
	assert_true(state_map_size(c->st) > before);
	text = tlog_text(c->log);
	assert_non_null(text);
	assert_non_null(strstr(text, "(ahead of a large write)"));
	assert_null(strstr(text, "the batch committed again"));
	assert_null(strstr(text, "cannot commit"));
	g_free(text);
}

/* records three times the reserve: the committer gives the batch back,
   the core grows the map and posts it again */
static void test_map_full_in_committer(void **state)
{
	struct ctx *c = *state;
	char *text;

	write_file(c->file, true);
	take(c, false);
	assert_taken(c, N_ADDRS, 0, N_ROWS / N_ADDRS, N_ROWS);
	text = tlog_text(c->log);
	assert_non_null(text);
	assert_non_null(strstr(text, "the batch committed again"));
	assert_non_null(strstr(text, "state map grown to"));
	assert_null(strstr(text, "cannot commit"));
	g_free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_map_grown_ahead, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_map_full_in_committer,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_batch_joins, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_joined_map_full, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_step_leaves_commit_in_flight, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
