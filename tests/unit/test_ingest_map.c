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

#include "config.h"
#include "ingest.h"
#include "log.h"
#include "rcpt.h"
#include "state.h"
#include "tstate.h"
#include "ttmp.h"

#define N_ADDRS 400
#define N_ROWS 1600		/* four soft bounces per address */

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
	assert_int_equal(log_open(c->log), 0);
	log_set_level(BLOG_DEBUG);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	int rc;

	log_close();
	log_set_level(BLOG_ERROR);
	state_close(c->st);
	rc = ttmp_remove(&c->dir);
	config_free(c->cfg);
	g_free(c->file);
	g_free(c->log);
	g_free(c);
	return rc;
}

/* take - the file to its end through ingest_step (a committer thread) */
static void take(struct ctx *c)
{
	struct ingest_opts opts = { .mode = INGEST_ACCT };
	struct ingest *in = ingest_new(c->cfg, c->st);
	struct ingest_job *job = NULL;
	int rc;

	assert_non_null(in);
	assert_int_equal(ingest_begin(in, c->file, &opts, &job), 0);
	do {
		rc = ingest_step(job, 0);
		assert_true(rc == 0 || rc == 1);
	} while (rc == 0);
	ingest_end(job, NULL);
	ingest_free(in);
}

/* log_text - what the log holds so far */
static char *log_text(struct ctx *c)
{
	char *text = NULL;

	log_close();
	assert_true(g_file_get_contents(c->log, &text, NULL, NULL));
	assert_int_equal(log_open(c->log), 0);
	return text;
}

/* assert_taken - every address once, with its four soft bounces; the
   file done */
static void assert_taken(struct ctx *c)
{
	struct file_rec rec;
	MDB_txn *txn = NULL;
	uint64_t n = 0, soft = 0;
	int i;

	assert_int_equal(state_begin(c->st, false, &txn), 0);
	assert_int_equal(state_stat_entries(c->st, txn, "rcpt", &n), 0);
	assert_int_equal(n, N_ADDRS);
	for (i = 0; i < N_ADDRS; i++) {
		char addr[64];
		struct rcpt r;

		snprintf(addr, sizeof(addr), "u%d@example.com", i);
		assert_int_equal(state_rcpt_get(c->st, txn, addr, &r), 0);
		assert_int_equal(r.cnt_soft, N_ROWS / N_ADDRS);
	}
	assert_int_equal(state_meta_get_u64(c->st, txn, "count.soft", &soft),
			 0);
	assert_int_equal(soft, N_ROWS);
	assert_int_equal(state_file_get(c->st, txn, c->file, &rec), 0);
	assert_int_equal(rec.status, FILE_DONE);
	assert_int_equal(rec.records, N_ROWS);
	state_abort(txn);
}

/* records of the usual size: the map grown before the batch, no retry */
static void test_map_grown_ahead(void **state)
{
	struct ctx *c = *state;
	size_t before = state_map_size(c->st);
	char *text;

	write_file(c->file, false);
	take(c);
	assert_taken(c);
	assert_true(state_map_size(c->st) > before);
	text = log_text(c);
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
	take(c);
	assert_taken(c);
	text = log_text(c);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
