/*
 * test_spool_mail.c - a mail of the spool that cannot be read (an I/O
 * error of its file) does not stop the mails after it: they are taken
 * and moved to done/, it stays in new/, is tried again when its time
 * comes, not before, and goes to failed/ with its .why after the last
 * attempt (again later when failed/ cannot take it: its attempts are not
 * counted from one again, nor after a reload).  `bounced process` (no
 * retry) leaves it in new/ and says so in its result.  An error of the
 * state is not the mail's: every mail waits in new/.
 *
 * The test's read() stands in for a failing disk: it fails with EIO on
 * any file whose path holds "poison", and passes everything else to the
 * C library's.  The suite runs from the repository root.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>

#include "config.h"
#include "ingest.h"
#include "log.h"
#include "spool.h"
#include "spool_mail.h"
#include "state.h"
#include "tlog.h"
#include "ttmp.h"

#define DATA "tests/data/unsub/"
#define POISON "poison"

static bool read_poisoned = true;

/* read - the C library's, but EIO on a file whose path holds POISON */
ssize_t read(int fd, void *buf, size_t n)
{
	static ssize_t (*real)(int, void *, size_t);
	char link[64], path[PATH_MAX];
	ssize_t k;

	if (!real)
		real = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT,
							      "read");
	if (read_poisoned) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		k = readlink(link, path, sizeof(path) - 1);
		if (k > 0) {
			path[k] = '\0';
			if (strstr(path, POISON)) {
				if (strstr(path, "slow"))
					usleep(30000);	/* a failing disk */
				errno = EIO;
				return -1;
			}
		}
	}
	return real(fd, buf, n);
}

struct ctx {
	struct tlogged l;	/* the state and the log */
	char *spool, *new_dir;
	struct config *cfg;
	struct spool *sp;
	struct ingest *in;
};

/* put_mail - DATA/FILE as unsub/new/NAME, modified AGE seconds ago, a
   line naming it at its end: another mail, not a copy (the state knows a
   mail by its content too) */
static void put_mail(struct ctx *c, const char *file, const char *name,
		     int age)
{
	char *from = g_build_filename(DATA, file, NULL);
	char *to = g_build_filename(c->new_dir, name, NULL);
	struct timespec ts[2];
	gchar *body = NULL, *text;
	gsize len = 0;

	assert_true(g_file_get_contents(from, &body, &len, NULL));
	text = g_strconcat(body, name, "\n", NULL);
	assert_true(g_file_set_contents(to, text, -1, NULL));
	g_free(text);
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= age;
	ts[1] = ts[0];
	assert_int_equal(utimensat(AT_FDCWD, to, ts, 0), 0);
	g_free(body);
	g_free(from);
	g_free(to);
}

/* in_dir - SPOOL/SUB/NAME exists */
static bool in_dir(struct ctx *c, const char *sub, const char *name)
{
	char *p = g_build_filename(c->spool, sub, name, NULL);
	bool there = g_file_test(p, G_FILE_TEST_EXISTS);

	g_free(p);
	return there;
}

static int setup(void **state)
{
	struct ctx *c = g_new0(struct ctx, 1);
	char err[256];

	read_poisoned = true;
	if (tlogged_setup(&c->l, "bounced-spool-mail", BLOG_INFO) != 0)
		return -1;
	c->spool = g_build_filename(c->l.t.tmp, "spool", NULL);
	c->new_dir = g_build_filename(c->spool, "unsub", "new", NULL);
	if (config_load(NULL, &c->cfg, NULL, err, sizeof(err)) != 0)
		fail_msg("config: %s", err);
	g_free(c->cfg->spool);
	c->cfg->spool = g_strdup(c->spool);
	assert_int_equal(spool_open(&c->sp, c->spool, NULL, 3600, err,
				    sizeof(err)), 0);
	assert_int_equal(g_mkdir_with_parents(c->new_dir, 0755), 0);
	/* the unreadable mail first: the oldest */
	put_mail(c, "gmail.eml", "1." POISON, 30);
	put_mail(c, "gmail.eml", "2.gmail", 20);
	put_mail(c, "yahoo.eml", "3.yahoo", 10);
	c->in = ingest_new(c->cfg, c->l.t.st);
	assert_non_null(c->in);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	int rc;

	ingest_free(c->in);
	spool_free(c->sp);
	rc = tlogged_teardown(&c->l);
	config_free(c->cfg);
	g_free(c->spool);
	g_free(c->new_dir);
	g_free(c);
	return rc;
}

/* the state knows the mail NAME of unsub/new as taken */
static bool recorded(struct ctx *c, const char *name)
{
	char *path = g_build_filename(c->new_dir, name, NULL);
	char abs[PATH_MAX];
	struct file_rec fr;
	MDB_txn *txn = NULL;
	int rc;

	/* the record is kept under the path the mail had in new/ */
	assert_non_null(realpath(c->new_dir, abs));
	g_free(path);
	path = g_build_filename(abs, name, NULL);
	assert_int_equal(state_begin(c->l.t.st, false, &txn), 0);
	rc = state_file_get(c->l.t.st, txn, path, &fr);
	state_abort(txn);
	g_free(path);
	return rc == 0;
}

/* take - one pass of the worker over unsub/new: what it took, in *LEFT
   how many it left */
static int take(struct spool_mail *sm, struct ctx *c, int *left,
		struct ingest_counts *total)
{
	bool more = true;

	return spool_mail_take(sm, c->in, SPOOL_MAIL_UNSUB, 0, total, NULL,
			       &more, left);
}

/* mailer - the maildirs of C's spool, trying an unreadable mail again
   after RETRY_MS */
static struct spool_mail *mailer(struct ctx *c, int retry_ms)
{
	struct spool_mail *sm = NULL;
	char err[256];

	if (spool_mail_new(&sm, c->sp, c->cfg, err, sizeof(err)) != 0)
		fail_msg("spool_mail_new: %s", err);
	spool_mail_set_retry(sm, retry_ms);
	return sm;
}

static void test_unreadable_mail_does_not_stop_the_others(void **state)
{
	struct ctx *c = *state;
	struct spool_mail *sm = NULL;
	struct ingest_counts total;
	char *text, *why;
	int left = -1, n, k;

	memset(&total, 0, sizeof(total));
	sm = mailer(c, 1);
	n = take(sm, c, &left, &total);
	assert_int_equal(n, 2);
	assert_int_equal(left, 1);
	/* the two after it: taken, in the state, in done/ */
	assert_true(in_dir(c, "done", "unsub.2.gmail"));
	assert_true(in_dir(c, "done", "unsub.3.yahoo"));
	assert_true(recorded(c, "2.gmail"));
	assert_true(recorded(c, "3.yahoo"));
	assert_int_equal(total.unsubs + total.duplicates, 2);
	/* it: in new/, not in the state */
	assert_true(in_dir(c, "unsub/new", "1." POISON));
	assert_false(recorded(c, "1." POISON));
	text = tlog_text(c->l.log);
	assert_non_null(text);
	assert_int_equal(tlog_count(text, "unsub/new/1." POISON ": cannot be "
				    "read (Input/output error): left in new/, "
				    "tried again in 1 ms (attempt 1 of 5); the "
				    "mails after it are taken"), 1);
	g_free(text);
	/* attempts 2 to 4 leave it, the fifth gives it up */
	for (k = 2; k <= 5; k++) {
		usleep(5000);
		n = take(sm, c, &left, &total);
		assert_int_equal(n, k < 5 ? 0 : 1);
		assert_int_equal(left, k < 5 ? 1 : 0);
	}
	assert_false(in_dir(c, "unsub/new", "1." POISON));
	assert_true(in_dir(c, "failed", "unsub.1." POISON));
	assert_int_equal(total.bad, 1);
	read_poisoned = false;	/* its .why has the name in its own */
	why = g_build_filename(c->spool, "failed", "unsub.1." POISON ".why",
			       NULL);
	assert_true(g_file_get_contents(why, &text, NULL, NULL));
	assert_non_null(strstr(text, "cannot be read: Input/output error "
				     "(5 attempts)"));
	g_free(text);
	g_free(why);
	text = tlog_text(c->l.log);
	assert_int_equal(tlog_count(text, "(attempt 4 of 5)"), 1);
	assert_int_equal(tlog_count(text, "unsub/new/1." POISON ": refused: "
				    "cannot be read: Input/output error (5 "
				    "attempts)"), 1);
	g_free(text);
	/* nothing left to do */
	n = take(sm, c, &left, &total);
	assert_int_equal(n, 0);
	assert_int_equal(left, 0);
	spool_mail_free(sm);
}

static void test_not_tried_again_before_its_time(void **state)
{
	struct ctx *c = *state;
	struct spool_mail *sm = NULL;
	struct ingest_counts total;
	char *text;
	int left = -1;

	memset(&total, 0, sizeof(total));
	sm = mailer(c, 60000);
	assert_int_equal(take(sm, c, &left, &total), 2);
	assert_int_equal(left, 1);
	/* within the minute: not listed, not read, not logged again */
	assert_int_equal(take(sm, c, &left, &total), 0);
	assert_int_equal(left, 0);
	text = tlog_text(c->l.log);
	assert_int_equal(tlog_count(text, "tried again in 60 s (attempt 1 of "
				    "5)"), 1);
	assert_int_equal(tlog_count(text, "(attempt 2 of 5)"), 0);
	g_free(text);
	/* readable again: taken on its next attempt, its count forgotten */
	read_poisoned = false;
	spool_mail_set_retry(sm, 1);
	assert_int_equal(take(sm, c, &left, &total), 0);  /* still waits */
	spool_mail_free(sm);
	sm = mailer(c, 0);
	assert_int_equal(take(sm, c, &left, &total), 1);
	assert_int_equal(left, 0);
	assert_true(in_dir(c, "done", "unsub.1." POISON));
	assert_true(recorded(c, "1." POISON));
	spool_mail_free(sm);
}

static void test_process_leaves_it_for_the_next_run(void **state)
{
	struct ctx *c = *state;
	struct spool_mail_result res;
	char *text;

	assert_int_equal(spool_mail_process(c->cfg, c->in, &res), 0);
	assert_int_equal(res.mails[SPOOL_MAIL_UNSUB], 2);
	assert_int_equal(res.left[SPOOL_MAIL_UNSUB], 1);
	assert_int_equal(res.mails[SPOOL_MAIL_FBL], 0);
	assert_int_equal(res.left[SPOOL_MAIL_FBL], 0);
	assert_true(in_dir(c, "unsub/new", "1." POISON));
	assert_false(in_dir(c, "failed", "unsub.1." POISON));
	assert_true(in_dir(c, "done", "unsub.3.yahoo"));
	text = tlog_text(c->l.log);
	assert_int_equal(tlog_count(text, "unsub/new/1." POISON ": cannot be "
				    "read (Input/output error): left in new/ "
				    "for the next run; the mails after it are "
				    "taken"), 1);
	g_free(text);
}

static void test_state_error_keeps_every_mail(void **state)
{
	struct ctx *c = *state;
	struct spool_mail *sm = NULL;
	struct ingest_counts total;
	struct state *ro = NULL;
	struct ingest *in;
	bool more = false;
	int left = -1, n;

	/* a state that cannot be written: the commit of the first readable
	   mail fails, which is no mail's fault */
	read_poisoned = false;
	memset(&total, 0, sizeof(total));
	assert_int_equal(tstate_open(&ro, c->l.t.dir, true), 0);
	in = ingest_new(c->cfg, ro);
	assert_non_null(in);
	sm = mailer(c, 1);
	n = spool_mail_take(sm, in, SPOOL_MAIL_UNSUB, 0, &total, NULL, &more,
			    &left);
	assert_true(n < 0);
	assert_true(more);
	assert_int_equal(left, 0);
	assert_true(in_dir(c, "unsub/new", "1." POISON));
	assert_true(in_dir(c, "unsub/new", "2.gmail"));
	assert_true(in_dir(c, "unsub/new", "3.yahoo"));
	assert_false(in_dir(c, "failed", "unsub.1." POISON));
	spool_mail_free(sm);
	ingest_free(in);
	state_close(ro);
}

static void test_attempts_survive_a_reload(void **state)
{
	struct ctx *c = *state;
	struct spool_mail *sm = NULL, *sm2 = NULL;
	struct ingest_counts total;
	char *text;
	int left = -1;

	memset(&total, 0, sizeof(total));
	sm = mailer(c, 1);
	assert_int_equal(take(sm, c, &left, &total), 2);
	/* the configuration reloaded: a new one takes over the attempts */
	sm2 = mailer(c, 1);
	spool_mail_adopt(sm2, sm);
	spool_mail_free(sm);
	usleep(5000);
	assert_int_equal(take(sm2, c, &left, &total), 0);
	assert_int_equal(left, 1);
	text = tlog_text(c->l.log);
	assert_int_equal(tlog_count(text, "(attempt 1 of 5)"), 1);
	assert_int_equal(tlog_count(text, "(attempt 2 of 5)"), 1);
	g_free(text);
	spool_mail_free(sm2);
}

static void test_given_up_but_failed_is_full(void **state)
{
	struct ctx *c = *state;
	struct spool_mail *sm = NULL;
	struct ingest_counts total;
	char *failed = g_build_filename(c->spool, "failed", NULL);
	char *text;
	int left = -1, k;

	memset(&total, 0, sizeof(total));
	sm = mailer(c, 1);
	/* failed/ cannot take anything: a file in its place */
	assert_int_equal(rmdir(failed), 0);
	assert_true(g_file_set_contents(failed, "x", -1, NULL));
	for (k = 1; k <= 5; k++) {
		usleep(5000);
		(void)take(sm, c, &left, &total);
	}
	/* given up, but it could not be moved: still in new/, not counted */
	assert_true(in_dir(c, "unsub/new", "1." POISON));
	assert_int_equal(total.bad, 0);
	/* room again: the next attempt moves it, not a sixth from one */
	assert_int_equal(unlink(failed), 0);
	usleep(5000);
	assert_int_equal(take(sm, c, &left, &total), 1);
	assert_int_equal(left, 0);
	assert_false(in_dir(c, "unsub/new", "1." POISON));
	assert_true(in_dir(c, "failed", "unsub.1." POISON));
	assert_int_equal(total.bad, 1);
	text = tlog_text(c->l.log);
	assert_int_equal(tlog_count(text, "(attempt 1 of 5)"), 1);
	assert_int_equal(tlog_count(text, ": refused: cannot be read: "
				    "Input/output error ("), 2);
	g_free(text);
	spool_mail_free(sm);
	g_free(failed);
}

/* a mail taken whose move out of new/ fails (done/ is no directory)
   ends the pass with the error: the next pass would find it there again
   (as taken already), and a process would loop on it; once done/ is
   back, it and the mails after it are moved, none taken twice */
static void test_mail_that_cannot_leave_new_stops_the_pass(void **state)
{
	struct ctx *c = *state;
	struct spool_mail *sm = mailer(c, 1);
	struct ingest_counts total;
	char *done = g_build_filename(c->spool, "done", NULL);
	char *poison = g_build_filename(c->new_dir, "1." POISON, NULL);
	char *text;
	int left = -1, n, k;

	memset(&total, 0, sizeof(total));
	assert_int_equal(unlink(poison), 0);
	assert_int_equal(ttmp_rm_tree(done), 0);
	assert_true(g_file_set_contents(done, "a file\n", -1, NULL));
	for (k = 0; k < 2; k++) {
		n = take(sm, c, &left, &total);
		assert_int_equal(n, -ENOTDIR);
		assert_true(recorded(c, "2.gmail"));
		assert_true(in_dir(c, "unsub/new", "2.gmail"));
		assert_false(recorded(c, "3.yahoo"));
		assert_true(in_dir(c, "unsub/new", "3.yahoo"));
	}
	assert_int_equal(total.unsubs + total.duplicates, 1);
	text = tlog_text(c->l.log);
	assert_true(tlog_count(text, "cannot move '") >= 1);
	g_free(text);
	assert_int_equal(unlink(done), 0);
	assert_int_equal(mkdir(done, 0755), 0);
	n = take(sm, c, &left, &total);
	assert_int_equal(n, 2);
	assert_true(in_dir(c, "done", "unsub.2.gmail"));
	assert_true(in_dir(c, "done", "unsub.3.yahoo"));
	assert_int_equal(total.unsubs + total.duplicates, 2);
	spool_mail_free(sm);
	g_free(done);
	g_free(poison);
}

/* in the worker, a slice ends on time however many mails of it cannot
   be read (each takes its time on a failing disk): the loop gets back to
   its signals, deadlines and other work */
static void test_unreadable_mails_count_toward_the_slice(void **state)
{
	struct ctx *c = *state;
	struct spool_mail *sm = mailer(c, 60000);
	struct ingest_counts total;
	char name[32], *text;
	bool more = false;
	int k, n, tried;

	memset(&total, 0, sizeof(total));
	for (k = 0; k < 20; k++) {
		snprintf(name, sizeof(name), "%02d.slow" POISON, k);
		put_mail(c, "gmail.eml", name, 100 - k);
	}
	n = spool_mail_take(sm, c->in, SPOOL_MAIL_UNSUB, 50, &total, NULL,
			    &more, NULL);
	assert_int_equal(n, 0);
	assert_true(more);
	text = tlog_text(c->l.log);
	tried = tlog_count(text, "(attempt 1 of 5)");
	g_free(text);
	/* 30 ms each: two or three in 50 ms, never the twenty */
	assert_true(tried >= 1 && tried < 10);
	spool_mail_free(sm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_unreadable_mail_does_not_stop_the_others, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_not_tried_again_before_its_time, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_process_leaves_it_for_the_next_run, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_state_error_keeps_every_mail, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_attempts_survive_a_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_given_up_but_failed_is_full, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_mail_that_cannot_leave_new_stops_the_pass, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_unreadable_mails_count_toward_the_slice, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
