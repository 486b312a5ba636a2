/*
 * test_ingest_resume.c - a file taken step by step, stopped, and taken
 * again: the committed offset never goes backwards, and the end state
 * equals one uninterrupted take.
 *
 * A resumed file is read again from byte 0 (the rows before the committed
 * offset only for their header lines).  A stop during that re-read
 * (ingest_pause, what SIGTERM does in `bounced run`), or a periodic
 * commit while nothing new was parsed, must not commit the reader's lower
 * offset: the next start would apply the rows in between a second time.
 * The file is several read chunks long (INGEST_CHUNK each), so one
 * ingest_step of 0 ms (one read) lands inside the re-read
 * deterministically.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>

#include "config.h"
#include "ingest.h"
#include "ingest_priv.h"
#include "log.h"
#include "rcpt.h"
#include "state.h"
#include "tstate.h"
#include "ttmp.h"

#define N_ADDRS 500
#define N_ROWS 40000		/* about 4.5 MiB: five reads */

struct ctx {
	char *dir;
	char *file;		/* the accounting file (absolute) */
	struct config *cfg;
};

/* write_file - N_ROWS soft bounces over N_ADDRS addresses, times rising,
   with a delivery now and then (resets) and some hard bounces */
static void write_file(const char *path)
{
	FILE *f = fopen(path, "w");
	int i;

	assert_non_null(f);
	fprintf(f, "type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,bounceCat,"
		"vmta,jobId\r\n");
	for (i = 0; i < N_ROWS; i++) {
		int a = (i * 7919) % N_ADDRS;
		const char *type = i % 53 == 0 ? "d" : "b";
		const char *cat = i % 97 == 0 ? "bad-mailbox" : "quota-issues";
		const char *st = i % 97 == 0 ? "5.1.1" : "4.2.2";

		fprintf(f, "%s,2026-11-%02d %02d:%02d:%02d+0000,"
			"news@bounces.example.com,u%d@example.com,%s,"
			"\"smtp;452 %s mailbox full, try again later, padding "
			"the line to a realistic length\",%s,vmta1,job-%d\r\n",
			type, 1 + i / 2000, i / 3600 % 24, i / 60 % 60, i % 60,
			a, st, st, cat, i % 10);
	}
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	struct ctx *c = g_new0(struct ctx, 1);
	char err[256];

	log_set_level(BLOG_ERROR);
	c->dir = ttmp_make("bounced-resume");
	assert_non_null(c->dir);
	c->file = g_build_filename(c->dir, "acct.csv", NULL);
	write_file(c->file);
	if (config_load(NULL, &c->cfg, NULL, err, sizeof(err)) != 0)
		fail_msg("config: %s", err);
	/* commit only at the end of a step or on a stop */
	c->cfg->batch_records = 10000000;
	c->cfg->batch_interval_ms = 3600 * 1000;
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	int rc;

	rc = ttmp_remove(&c->dir);
	config_free(c->cfg);
	g_free(c->file);
	g_free(c);
	return rc;
}

/* open_state - the state in DIR/NAME */
static struct state *open_state(struct ctx *c, const char *name)
{
	char *path = g_build_filename(c->dir, name, NULL);
	struct state *st = NULL;

	assert_int_equal(tstate_open(&st, path, false), 0);
	g_free(path);
	return st;
}

/* file_offset - the committed record of the file */
static struct file_rec file_entry(struct ctx *c, struct state *st)
{
	struct file_rec rec;
	MDB_txn *txn = NULL;

	memset(&rec, 0, sizeof(rec));
	assert_int_equal(state_begin(st, false, &txn), 0);
	if (state_file_get(st, txn, c->file, &rec) == -ENOENT)
		memset(&rec, 0, sizeof(rec));
	state_abort(txn);
	return rec;
}

/* take - begin, STEPS reads (0: to the end), then pause (or finish);
   returns true when the file was taken to its end */
static bool take(struct ctx *c, struct state *st, int steps)
{
	struct ingest_opts opts = { .mode = INGEST_ACCT };
	struct ingest *in = ingest_new(c->cfg, st);
	struct ingest_job *job = NULL;
	bool end = false;
	int i, rc;

	assert_non_null(in);
	rc = ingest_begin(in, c->file, &opts, &job);
	if (rc == INGEST_ALREADY) {
		ingest_free(in);
		return true;
	}
	assert_int_equal(rc, 0);
	assert_non_null(job);
	for (i = 0; steps == 0 || i < steps; i++) {
		rc = ingest_step(job, 0);
		assert_true(rc == 0 || rc == 1);
		if (rc == 1) {
			end = true;
			break;
		}
	}
	if (!end)
		assert_int_equal(ingest_pause(job), 0);
	ingest_end(job, NULL);
	ingest_free(in);
	return end;
}

/* a meta counter */
static uint64_t counter(struct state *st, const char *name)
{
	MDB_txn *txn = NULL;
	uint64_t v = 0;

	assert_int_equal(state_begin(st, false, &txn), 0);
	(void)state_meta_get_u64(st, txn, name, &v);
	state_abort(txn);
	return v;
}

/* assert_same - the two states hold the same recipients, counters and
   file record */
static void assert_same(struct ctx *c, struct state *a, struct state *b)
{
	static const char *const names[] = {
		"count.records", "count.hard", "count.soft", "count.escalated",
		"count.delivery", "count.duplicate",
	};
	struct file_rec fa = file_entry(c, a), fb = file_entry(c, b);
	MDB_txn *ta = NULL, *tb = NULL;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_int_equal(counter(a, names[i]), counter(b, names[i]));
	assert_int_equal(fa.offset, fb.offset);
	assert_int_equal(fa.records, fb.records);
	assert_int_equal(fa.lines, fb.lines);
	assert_int_equal(fa.status, fb.status);
	assert_int_equal(state_begin(a, false, &ta), 0);
	assert_int_equal(state_begin(b, false, &tb), 0);
	for (i = 0; i < N_ADDRS; i++) {
		char addr[64];
		struct rcpt ra, rb;
		int rca, rcb;

		snprintf(addr, sizeof(addr), "u%zu@example.com", i);
		rca = state_rcpt_get(a, ta, addr, &ra);
		rcb = state_rcpt_get(b, tb, addr, &rb);
		assert_int_equal(rca, rcb);
		if (rca)
			continue;
		assert_int_equal(ra.status, rb.status);
		assert_int_equal(ra.status_time, rb.status_time);
		assert_int_equal(ra.cnt_soft, rb.cnt_soft);
		assert_int_equal(ra.cnt_hard, rb.cnt_hard);
		assert_int_equal(ra.n_soft, rb.n_soft);
		assert_int_equal(ra.updated, rb.updated);
	}
	state_abort(ta);
	state_abort(tb);
}

/* a stop during the re-read, twice, keeps the offset; the end equals one
   uninterrupted take */
static void test_stop_during_reread_keeps_offset(void **state)
{
	struct ctx *c = *state;
	struct state *a = open_state(c, "state-a");
	struct state *b = open_state(c, "state-b");
	struct file_rec first, now;

	assert_true(take(c, a, 0));
	assert_int_equal(counter(a, "count.records"), N_ROWS);
	assert_true(counter(a, "count.escalated") > 0);

	/* four reads, stopped: committed past three chunks */
	assert_false(take(c, b, 4));
	first = file_entry(c, b);
	assert_int_equal(first.status, FILE_PARTIAL);
	assert_true(first.offset > 3u * INGEST_CHUNK);
	assert_true(first.records > 0 && first.records < N_ROWS);

	/* stopped after one read, inside the re-read: nothing moves back */
	assert_false(take(c, b, 1));
	now = file_entry(c, b);
	assert_int_equal(now.offset, first.offset);
	assert_int_equal(now.lines, first.lines);
	assert_int_equal(now.records, first.records);
	assert_int_equal(counter(b, "count.records"), first.records);

	/* and again, after two reads */
	assert_false(take(c, b, 2));
	now = file_entry(c, b);
	assert_int_equal(now.offset, first.offset);
	assert_int_equal(now.records, first.records);

	/* to the end: the same as one run */
	assert_true(take(c, b, 0));
	assert_same(c, a, b);
	state_close(a);
	state_close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_stop_during_reread_keeps_offset, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
