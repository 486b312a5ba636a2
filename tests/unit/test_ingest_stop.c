/*
 * test_ingest_stop.c - the reading stopped by an error that is neither
 * the input's nor a commit's (memory for the batch, a parser's failure):
 * the log says which input, what failed and from where it is taken again,
 * and nothing of it is kept.  An input's error and a commit's are logged
 * where they come from, once: not again by the core.  A record of the
 * input in the state that does not decode is said as such.
 *
 * A mail's parser is the test's way in: it answers what the test asks
 * (-ENOMEM, -EIO) where a real parser would run out of memory.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>
#include <lmdb.h>

#include "config.h"
#include "ingest.h"
#include "log.h"
#include "rcpt.h"
#include "state.h"
#include "tlog.h"

#define STOPPED "stopped reading"

static const char acct_rows[] =
	"type,timeLogged,orig,rcpt,dsnStatus,bounceCat\r\n"
	"b,2026-11-01 10:00:00+0000,news@example.com,anna@example.com,"
	"5.1.1,bad-mailbox\r\n";

struct ctx {
	struct tlogged l;	/* the state and the log */
	char *mail;
	struct config *cfg;
};

static int setup(void **state)
{
	struct ctx *c = g_new0(struct ctx, 1);
	char err[256];

	if (tlogged_setup(&c->l, "bounced-stop", BLOG_INFO) != 0)
		return -1;
	c->mail = g_build_filename(c->l.t.tmp, "mail", NULL);
	assert_true(g_file_set_contents(c->mail, "Subject: x\n\nbody\n", -1,
					NULL));
	if (config_load(NULL, &c->cfg, NULL, err, sizeof(err)) != 0)
		fail_msg("config: %s", err);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	int rc;

	rc = tlogged_teardown(&c->l);
	config_free(c->cfg);
	g_free(c->mail);
	g_free(c);
	return rc;
}

/* a mail's parser that fails as *ARG (an int -errno) says */
static int parse_fail(const char *buf, size_t len, const char *key,
		      int64_t mtime, struct event *evs, size_t max, size_t *n,
		      const char **aside, void *arg, char *why, size_t whylen)
{
	(void)buf;
	(void)len;
	(void)key;
	(void)mtime;
	(void)evs;
	(void)max;
	(void)aside;
	(void)why;
	(void)whylen;
	*n = 0;
	return *(const int *)arg;
}

/* take_mail - the test's mail through a parser failing with ERR: the
   log's text afterwards */
static char *take_mail(struct ctx *c, int err)
{
	struct ingest *in = ingest_new(c->cfg, c->l.t.st);
	struct ingest_counts counts;
	struct file_rec fr;
	MDB_txn *txn = NULL;
	char why[256], *text;

	assert_non_null(in);
	assert_int_equal(ingest_mail(in, c->mail, 1 << 20, parse_fail, &err,
				     &counts, why, sizeof(why)),
			 err);
	ingest_free(in);
	/* nothing of it kept: not even that it was seen */
	assert_int_equal(state_begin(c->l.t.st, false, &txn), 0);
	assert_int_equal(state_file_get(c->l.t.st, txn, c->mail, &fr), -ENOENT);
	state_abort(txn);
	text = tlog_text(c->l.log);
	assert_non_null(text);
	return text;
}

static void test_out_of_memory_is_logged(void **state)
{
	struct ctx *c = *state;
	char *text = take_mail(c, -ENOMEM), *want;

	want = g_strdup_printf("error ingest: %s: " STOPPED ": out of memory "
			       "(the memory or address space the process may "
			       "use) (what was read after byte 0, line 0, "
			       "was not kept; run again to take it)",
			       c->mail);
	if (!strstr(text, want))
		fail_msg("not in the log: %s\nlog:\n%s", want, text);
	assert_int_equal(tlog_count(text, STOPPED), 1);
	g_free(want);
	g_free(text);
}

static void test_other_error_is_logged(void **state)
{
	struct ctx *c = *state;
	char *text = take_mail(c, -EIO), *want;

	want = g_strdup_printf("%s: " STOPPED ": %s (", c->mail,
			       strerror(EIO));
	if (!strstr(text, want))
		fail_msg("not in the log: %s\nlog:\n%s", want, text);
	assert_int_equal(tlog_count(text, STOPPED), 1);
	g_free(want);
	g_free(text);
}

/* the input's own error: logged as the input's, not as a stop */
static void test_input_error_not_logged_again(void **state)
{
	struct ctx *c = *state;
	struct ingest *in = ingest_new(c->cfg, c->l.t.st);
	struct ingest_opts opts = { .mode = INGEST_DETECT };
	struct ingest_counts counts;
	char *text;

	assert_non_null(in);
	/* opened, then a read fails: this process's memory from address 0
	   (EIO), the same on every Linux */
	assert_int_equal(ingest_file(in, "/proc/self/mem", &opts, &counts),
			 -EIO);
	assert_true(ingest_input_failed(in));
	ingest_free(in);
	text = tlog_text(c->l.log);
	assert_non_null(text);
	assert_int_equal(tlog_count(text, "cannot read '/proc/self/mem': "), 1);
	assert_int_equal(tlog_count(text, STOPPED), 0);
	g_free(text);
}

/* a commit's error (a state opened read-only, the monitor off): logged
   by the commit, once, and not again as a stop */
static void test_commit_error_not_logged_again(void **state)
{
	struct ctx *c = *state;
	struct ingest_opts opts = { .mode = INGEST_DETECT };
	struct ingest_counts counts;
	struct state *ro = NULL;
	struct ingest *in;
	char *path, *text;

	path = g_build_filename(c->l.t.tmp, "acct.csv", NULL);
	assert_true(g_file_set_contents(path, acct_rows, -1, NULL));
	/* LMDB wants one environment of a state per process at a time */
	state_close(c->l.t.st);
	c->l.t.st = NULL;
	assert_int_equal(tstate_open(&ro, c->l.t.dir, true), 0);
	/* no monitor: it would fail first, reading its part of the state */
	c->cfg->incidents = false;
	c->cfg->rates = false;
	in = ingest_new(c->cfg, ro);
	assert_non_null(in);
	assert_true(ingest_file(in, path, &opts, &counts) < 0);
	assert_false(ingest_input_failed(in));
	ingest_free(in);
	state_close(ro);
	text = tlog_text(c->l.log);
	assert_non_null(text);
	if (tlog_count(text, "cannot commit to the state") != 1)
		fail_msg("log:\n%s", text);
	assert_int_equal(tlog_count(text, STOPPED), 0);
	g_free(text);
	g_free(path);
}

/* a files record that does not decode: said as such, nothing taken */
static void test_damaged_files_record_is_logged(void **state)
{
	struct ctx *c = *state;
	struct ingest_opts opts = { .mode = INGEST_DETECT };
	struct ingest_counts counts;
	char *path, *text, *want, abs[PATH_MAX];
	MDB_txn *txn = NULL;
	struct ingest *in;

	path = g_build_filename(c->l.t.tmp, "acct.csv", NULL);
	assert_true(g_file_set_contents(path, acct_rows, -1, NULL));
	assert_non_null(realpath(path, abs));
	/* the record of the file, as an unknown layout would leave it */
	assert_int_equal(state_begin(c->l.t.st, true, &txn), 0);
	assert_int_equal(tstate_put_raw(c->l.t.st, txn, "files", abs,
					strlen(abs), "\x01\xff\xff", 3),
			 0);
	assert_int_equal(state_commit(txn), 0);
	in = ingest_new(c->cfg, c->l.t.st);
	assert_non_null(in);
	assert_true(ingest_file(in, path, &opts, &counts) < 0);
	assert_int_equal(counts.records, 0);
	ingest_free(in);
	text = tlog_text(c->l.log);
	assert_non_null(text);
	want = g_strdup_printf("error ingest: %s: cannot read where the state "
			       "left it: its record in the state does not "
			       "decode (damaged)", path);
	if (!strstr(text, want))
		fail_msg("not in the log: %s\nlog:\n%s", want, text);
	assert_int_equal(tlog_count(text, STOPPED), 0);
	g_free(want);
	g_free(text);
	g_free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_out_of_memory_is_logged,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_error_is_logged,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_input_error_not_logged_again, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_commit_error_not_logged_again, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_damaged_files_record_is_logged, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
