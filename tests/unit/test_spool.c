/*
 * test_spool.c - the spool directories and queue of bounced run: which
 * names are wanted, scan order, moving to done/, failed/ and ignored/
 * (with the .why written; a name taken there by an earlier file is never
 * replaced: the newcomer gets NAME.1, NAME.2 ...), the retention sweep of done/ and ignored/, and
 * the entries of acct/ that are no files: left alone, said once while
 * they stay; a file open for writing told by a read lease, whose breaks
 * by a writer do not end the process.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>

#include "log.h"
#include "spool.h"
#include "tlog.h"
#include "ttmp.h"

struct fixture {
	char *dir;
	struct spool *sp;
};

static char *const default_ignore[] = { "*.tmp", "*.part", NULL };

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);
	char err[256];

	f->dir = ttmp_make("test-spool");
	assert_non_null(f->dir);
	assert_int_equal(spool_open(&f->sp, f->dir, default_ignore, 3600, err,
				    sizeof(err)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	spool_free(f->sp);
	rc = ttmp_remove(&f->dir);
	g_free(f);
	return rc;
}

/* put - write TEXT to DIR/SUB/NAME with modification time MTIME (0: now) */
static char *put(const char *dir, const char *sub, const char *name,
		 const char *text, time_t mtime)
{
	char *p = g_build_filename(dir, sub, name, NULL);

	assert_true(g_file_set_contents(p, text, -1, NULL));
	if (mtime) {
		struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };

		assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	}
	return p;
}

static bool exists(const char *dir, const char *sub, const char *name)
{
	char *p = g_build_filename(dir, sub, name, NULL);
	bool ok = access(p, F_OK) == 0;

	g_free(p);
	return ok;
}

/* test_open_creates - acct/, done/, failed/ exist after spool_open */
static void test_open_creates(void **state)
{
	struct fixture *f = *state;
	const char *subs[] = { "acct", "done", "failed" };
	struct spool *sp2 = NULL;
	char err[256], *p;
	struct stat sb;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(subs); i++) {
		p = g_build_filename(f->dir, subs[i], NULL);
		assert_int_equal(stat(p, &sb), 0);
		assert_true(S_ISDIR(sb.st_mode));
		g_free(p);
	}
	/* a file where a directory must be */
	p = g_build_filename(f->dir, "blocked", NULL);
	assert_true(g_file_set_contents(p, "x", 1, NULL));
	assert_int_equal(spool_open(&sp2, p, NULL, 0, err, sizeof(err)),
			 -ENOTDIR);
	assert_null(sp2);
	assert_non_null(strstr(err, p));
	g_free(p);
}

static const struct {
	const char *name;
	bool wanted;
} wanted_cases[] = {
	{ "acct-2026-11-24-0001.csv", true },
	{ "a.tmpx", true },
	{ "x.csv.part", false },
	{ "a.tmp", false },
	{ ".hidden", false },
	{ ".a.csv", false },
	{ "", false },
	{ "a/b", false },
	{ "PART.PART", true },	/* globs are case-sensitive */
};

/* test_wanted - dot-files and acct-ignore matches are not wanted */
static void test_wanted(void **state)
{
	struct fixture *f = *state;
	char *const none[] = { NULL };
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(wanted_cases); i++)
		assert_int_equal(spool_wanted(f->sp, wanted_cases[i].name),
				 wanted_cases[i].wanted);
	/* new rules: nothing but dot-files ignored */
	spool_set_rules(f->sp, none, 0);
	assert_true(spool_wanted(f->sp, "a.tmp"));
	assert_false(spool_wanted(f->sp, ".a"));
}

/* test_queue - push keeps order, refuses duplicates and unwanted names */
static void test_queue(void **state)
{
	struct fixture *f = *state;
	char *n;

	assert_true(spool_push(f->sp, "b"));
	assert_true(spool_push(f->sp, "a"));
	assert_false(spool_push(f->sp, "b"));
	assert_false(spool_push(f->sp, "c.tmp"));
	spool_push_front(f->sp, "z");
	assert_int_equal(spool_queued(f->sp), 3);
	n = spool_next(f->sp);
	assert_string_equal(n, "z");
	g_free(n);
	n = spool_next(f->sp);
	assert_string_equal(n, "b");
	g_free(n);
	assert_true(spool_push(f->sp, "b"));	/* may come again once taken */
	n = spool_next(f->sp);
	assert_string_equal(n, "a");
	g_free(n);
	n = spool_next(f->sp);
	assert_string_equal(n, "b");
	g_free(n);
	assert_null(spool_next(f->sp));
}

/* test_scan_order - oldest first; dot-files, ignored names, directories
   skipped; a second scan adds nothing queued already */
static void test_scan_order(void **state)
{
	struct fixture *f = *state;
	const char *want[] = { "c-oldest", "a-middle", "b-same", "z-newest" };
	char *p, *n;
	size_t i;

	g_free(put(f->dir, "acct", "z-newest", "4", 4000));
	g_free(put(f->dir, "acct", "a-middle", "2", 2000));
	g_free(put(f->dir, "acct", "b-same", "3", 2000));
	g_free(put(f->dir, "acct", "c-oldest", "1", 1000));
	g_free(put(f->dir, "acct", ".dot", "x", 10));
	g_free(put(f->dir, "acct", "w.part", "x", 10));
	p = g_build_filename(f->dir, "acct", "subdir", NULL);
	assert_int_equal(mkdir(p, 0700), 0);
	g_free(p);

	assert_int_equal(spool_scan(f->sp), 4);
	assert_int_equal(spool_scan(f->sp), 0);
	for (i = 0; i < G_N_ELEMENTS(want); i++) {
		n = spool_next(f->sp);
		assert_non_null(n);
		assert_string_equal(n, want[i]);
		g_free(n);
	}
	assert_null(spool_next(f->sp));
	p = spool_path(f->sp, "x");
	n = g_build_filename(f->dir, "acct", "x", NULL);
	assert_string_equal(p, n);
	g_free(n);
	g_free(p);
}

/* test_done - moved to done/, or deleted with retention 0 */
static void test_done(void **state)
{
	struct fixture *f = *state;

	g_free(put(f->dir, "acct", "one.csv", "x", 0));
	assert_int_equal(spool_done(f->sp, "one.csv"), 0);
	assert_false(exists(f->dir, "acct", "one.csv"));
	assert_true(exists(f->dir, "done", "one.csv"));
	/* gone: an error, nothing created */
	assert_int_equal(spool_done(f->sp, "one.csv"), -ENOENT);

	spool_set_rules(f->sp, default_ignore, 0);
	g_free(put(f->dir, "acct", "two.csv", "x", 0));
	assert_int_equal(spool_done(f->sp, "two.csv"), 0);
	assert_false(exists(f->dir, "acct", "two.csv"));
	assert_false(exists(f->dir, "done", "two.csv"));
}

/* test_fail - failed/NAME with NAME.why beside it; no temporary left */
static void test_fail(void **state)
{
	struct fixture *f = *state;
	char *why = g_build_filename(f->dir, "failed", "bad.csv.why", NULL);
	char *text = NULL, *fdir;
	const char *n;
	GDir *d;
	int entries = 0;

	g_free(put(f->dir, "acct", "bad.csv", "junk", 0));
	assert_int_equal(spool_fail(f->sp, "bad.csv", "every line was bad"), 0);
	assert_false(exists(f->dir, "acct", "bad.csv"));
	assert_true(exists(f->dir, "failed", "bad.csv"));
	assert_true(g_file_get_contents(why, &text, NULL, NULL));
	assert_non_null(strstr(text, "why: every line was bad\n"));
	assert_non_null(strstr(text, "bad.csv"));
	assert_non_null(strstr(text, "what to do:"));
	g_free(text);

	/* the file is gone: -ENOENT and no .why for it */
	assert_int_equal(spool_fail(f->sp, "nothing.csv", "x"), -ENOENT);
	assert_false(exists(f->dir, "failed", "nothing.csv.why"));

	fdir = g_build_filename(f->dir, "failed", NULL);
	d = g_dir_open(fdir, 0, NULL);
	assert_non_null(d);
	while ((n = g_dir_read_name(d)) != NULL) {
		assert_true(n[0] != '.');	/* no temporary left */
		entries++;
	}
	g_dir_close(d);
	assert_int_equal(entries, 2);
	g_free(fdir);
	g_free(why);
}

/* holds - DIR/SUB/NAME holds WANT */
static void holds(const char *dir, const char *sub, const char *name,
		  const char *want)
{
	char *p = g_build_filename(dir, sub, name, NULL);
	char *text = NULL;

	assert_true(g_file_get_contents(p, &text, NULL, NULL));
	if (!strstr(text, want))
		print_message("%s: %s\n", p, text);
	assert_non_null(strstr(text, want));
	g_free(text);
	g_free(p);
}

/* test_same_name - a file of a name done/, failed/ or ignored/ holds
   already gets the next free NAME.N (with its own .why); nothing is
   replaced, but a .why with no file beside it */
static void test_same_name(void **state)
{
	struct fixture *f = *state;
	char *src = g_build_filename(f->dir, "fbl", NULL);
	char *from, *to;

	g_free(put(f->dir, "acct", "a.csv", "first", 0));
	assert_int_equal(spool_done(f->sp, "a.csv"), 0);
	g_free(put(f->dir, "acct", "a.csv", "second", 0));
	assert_int_equal(spool_done(f->sp, "a.csv"), 0);
	g_free(put(f->dir, "done", "a.csv.2", "not ours", 0));
	g_free(put(f->dir, "acct", "a.csv", "third", 0));
	assert_int_equal(spool_done(f->sp, "a.csv"), 0);
	assert_false(exists(f->dir, "acct", "a.csv"));
	holds(f->dir, "done", "a.csv", "first");
	holds(f->dir, "done", "a.csv.1", "second");
	holds(f->dir, "done", "a.csv.2", "not ours");
	holds(f->dir, "done", "a.csv.3", "third");

	g_free(put(f->dir, "acct", "j.csv", "junk one", 0));
	assert_int_equal(spool_fail(f->sp, "j.csv", "reason one"), 0);
	g_free(put(f->dir, "acct", "j.csv", "junk two", 0));
	assert_int_equal(spool_fail(f->sp, "j.csv", "reason two"), 0);
	holds(f->dir, "failed", "j.csv", "junk one");
	holds(f->dir, "failed", "j.csv.why", "why: reason one\n");
	holds(f->dir, "failed", "j.csv.1", "junk two");
	holds(f->dir, "failed", "j.csv.1.why", "why: reason two\n");
	/* moved back to be taken again, its .why left behind: the stale
	   .why is replaced, the file takes its own name again */
	from = g_build_filename(f->dir, "failed", "j.csv", NULL);
	to = g_build_filename(f->dir, "acct", "j.csv", NULL);
	assert_int_equal(rename(from, to), 0);
	g_free(to);
	g_free(from);
	assert_int_equal(spool_fail(f->sp, "j.csv", "reason three"), 0);
	holds(f->dir, "failed", "j.csv.why", "why: reason three\n");
	assert_false(exists(f->dir, "failed", "j.csv.2"));
	assert_false(exists(f->dir, "failed", "j.csv.2.why"));

	assert_int_equal(mkdir(src, 0750), 0);
	g_free(put(f->dir, "fbl", "m1", "one", 0));
	assert_int_equal(spool_ignore_from(f->sp, src, "m1", "fbl.m1", "x"), 0);
	g_free(put(f->dir, "fbl", "m1", "two", 0));
	assert_int_equal(spool_ignore_from(f->sp, src, "m1", "fbl.m1", "y"), 0);
	holds(f->dir, "ignored", "fbl.m1.1", "two");
	assert_true(exists(f->dir, "ignored", "fbl.m1.1.why"));
	holds(f->dir, "ignored", "fbl.m1", "one");
	/* swept by age, whatever the name */
	assert_int_equal(spool_expire(f->sp, time(NULL) + 3600 + 5), 8);
	assert_false(exists(f->dir, "done", "a.csv.3"));
	assert_false(exists(f->dir, "ignored", "fbl.m1.1.why"));
	g_free(src);
}

/* test_expire - done/ files older than the retention are deleted */
static void test_expire(void **state)
{
	struct fixture *f = *state;
	time_t now = time(NULL);

	g_free(put(f->dir, "acct", "old.csv", "x", 0));
	assert_int_equal(spool_done(f->sp, "old.csv"), 0);
	g_free(put(f->dir, "done", ".keep", "x", 1));
	assert_int_equal(spool_expire(f->sp, now), 0);	/* 1 h retention */
	assert_true(exists(f->dir, "done", "old.csv"));
	assert_int_equal(spool_expire(f->sp, now + 3600 + 5), 1);
	assert_false(exists(f->dir, "done", "old.csv"));
	assert_true(exists(f->dir, "done", ".keep"));
}

/* test_ignore - a mail set aside goes to ignored/ (created then) with its
   .why; ignored/ is swept like done/; a retention of 0 deletes it */
static void test_ignore(void **state)
{
	struct fixture *f = *state;
	char *src = g_build_filename(f->dir, "fbl", NULL);
	char *why = g_build_filename(f->dir, "ignored", "fbl.m1.why", NULL);
	char *text = NULL;
	time_t now = time(NULL);

	assert_int_equal(mkdir(src, 0750), 0);
	assert_false(exists(f->dir, "ignored", ""));
	assert_int_equal(spool_expire(f->sp, now), 0);	/* none yet: fine */
	g_free(put(f->dir, "fbl", "m1", "a bounce", 0));
	assert_int_equal(spool_ignore_from(f->sp, src, "m1", "fbl.m1",
					   "a delivery-status notification"), 0);
	assert_false(exists(f->dir, "fbl", "m1"));
	assert_true(exists(f->dir, "ignored", "fbl.m1"));
	assert_true(g_file_get_contents(why, &text, NULL, NULL));
	assert_non_null(strstr(text, "why: a delivery-status notification\n"));
	assert_non_null(strstr(text, "what to do: nothing"));
	g_free(text);
	assert_int_equal(spool_ignore_from(f->sp, src, "gone", "fbl.gone", "x"),
			 -ENOENT);
	assert_false(exists(f->dir, "ignored", "fbl.gone.why"));

	assert_int_equal(spool_expire(f->sp, now), 0);
	assert_int_equal(spool_expire(f->sp, now + 3600 + 5), 2);
	assert_false(exists(f->dir, "ignored", "fbl.m1"));
	assert_false(exists(f->dir, "ignored", "fbl.m1.why"));

	spool_set_rules(f->sp, default_ignore, 0);
	g_free(put(f->dir, "fbl", "m2", "a bounce", 0));
	assert_int_equal(spool_ignore_from(f->sp, src, "m2", "fbl.m2", "x"), 0);
	assert_false(exists(f->dir, "fbl", "m2"));
	assert_false(exists(f->dir, "ignored", "fbl.m2"));
	g_free(why);
	g_free(src);
}

/* next_is - the next queued name is WANT (NULL: none) */
static void next_is(struct spool *sp, const char *want)
{
	char *name = spool_next(sp);

	if (want)
		assert_string_equal(name, want);
	else
		assert_null(name);
	g_free(name);
}

/* age - DIR/acct/NAME made older than SPOOL_YOUNG_MS */
static void age(const char *dir, const char *name)
{
	char *p = g_build_filename(dir, "acct", name, NULL);
	struct timespec ts[2];

	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= SPOOL_YOUNG_MS / 1000 + 1;
	ts[1] = ts[0];
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	g_free(p);
}

/* test_young_files - a scan leaves a file modified within the last
   SPOOL_YOUNG_MS (maybe still written) and counts it; quiet, the next
   scan queues it */
static void test_young_files(void **state)
{
	struct fixture *f = *state;
	char *name;

	g_free(put(f->dir, "acct", "fresh.csv", "x", 0));
	g_free(put(f->dir, "acct", "old.csv", "x", time(NULL) - 60));
	assert_int_equal(spool_scan(f->sp), 1);
	assert_int_equal(spool_young(f->sp), 1);
	next_is(f->sp, "old.csv");
	next_is(f->sp, NULL);
	name = g_build_filename(f->dir, "acct", "old.csv", NULL);
	assert_int_equal(unlink(name), 0);	/* taken */
	g_free(name);
	age(f->dir, "fresh.csv");
	assert_int_equal(spool_scan(f->sp), 1);
	assert_int_equal(spool_young(f->sp), 0);
	next_is(f->sp, "fresh.csv");
}

/* test_young_only_rescanned - the periodic look at young files takes the
   names the scan left out once quiet, and no other file of acct/ (one
   that came while acct/ was watched waits for its event however quiet);
   a name queued by its event is no longer young; a reload's scan takes
   only the names no longer ignored */
static void test_young_only_rescanned(void **state)
{
	struct fixture *f = *state;

	g_free(put(f->dir, "acct", "fresh.csv", "x", 0));
	g_free(put(f->dir, "acct", "closed.csv", "x", 0));
	assert_int_equal(spool_scan(f->sp), 0);
	assert_int_equal(spool_young(f->sp), 2);
	/* still written, quiet, no event yet: not taken by the look */
	g_free(put(f->dir, "acct", "open.csv", "x", time(NULL) - 60));
	assert_int_equal(spool_scan_young(f->sp), 0);
	assert_int_equal(spool_young(f->sp), 2);
	/* closed.csv's event came */
	assert_true(spool_push(f->sp, "closed.csv"));
	assert_int_equal(spool_young(f->sp), 1);
	next_is(f->sp, "closed.csv");
	age(f->dir, "fresh.csv");
	age(f->dir, "closed.csv");
	assert_int_equal(spool_scan_young(f->sp), 1);
	assert_int_equal(spool_young(f->sp), 0);
	next_is(f->sp, "fresh.csv");
	next_is(f->sp, NULL);

	/* acct-ignore dropped *.part: only that file is taken */
	g_free(put(f->dir, "acct", "up.csv.part", "x", time(NULL) - 60));
	spool_set_rules(f->sp, NULL, 3600);
	assert_int_equal(spool_scan_ignored(f->sp, default_ignore), 1);
	next_is(f->sp, "up.csv.part");
	next_is(f->sp, NULL);
}

/* test_odd_entries - a directory, a FIFO and a link to nothing in acct/
   are not queued, and each is said once while it stays; said again when
   it comes back */
static void test_odd_entries(void **state)
{
	struct fixture *f = *state;
	char *log = g_build_filename(f->dir, "bounced.log", NULL);
	char *sub = g_build_filename(f->dir, "acct", "archive", NULL);
	char *fifo = g_build_filename(f->dir, "acct", "pipe", NULL);
	char *link = g_build_filename(f->dir, "acct", "dangling", NULL);
	char *text;
	int k;

	assert_int_equal(tlog_start(log, BLOG_INFO), 0);
	g_free(put(f->dir, "acct", "a.csv", "x", time(NULL) - 60));
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(symlink("/nonexistent/acct.csv", link), 0);
	for (k = 0; k < 3; k++)
		(void)spool_scan(f->sp);
	next_is(f->sp, "a.csv");
	next_is(f->sp, NULL);
	text = tlog_text(log);
	assert_non_null(text);
	assert_int_equal(tlog_count(text, "/acct/archive: left alone: a "
				    "directory, not a file (move it out of the "
				    "directory to take it, or name it with a "
				    "leading '.')"), 1);
	assert_int_equal(tlog_count(text, "/acct/pipe: left alone: a FIFO, "
				    "not a file"), 1);
	assert_int_equal(tlog_count(text, "/acct/dangling: left alone: a "
				    "symbolic link to nothing"), 1);
	assert_int_equal(tlog_count(text, "left alone"), 3);
	g_free(text);
	/* gone, then back: said again */
	assert_int_equal(rmdir(sub), 0);
	(void)spool_scan(f->sp);
	assert_int_equal(mkdir(sub, 0755), 0);
	(void)spool_scan(f->sp);
	(void)spool_scan(f->sp);
	text = tlog_text(log);
	assert_int_equal(tlog_count(text, "/acct/archive: left alone"), 2);
	assert_int_equal(tlog_count(text, "left alone"), 4);
	g_free(text);
	tlog_stop();
	g_free(link);
	g_free(fifo);
	g_free(sub);
	g_free(log);
}

/* spool_writing: 1 while a descriptor of the file is open for writing,
   0 once it is closed; and a writer that opens the file again and again
   while the leases come and go breaks some of them without ending this
   process (SIGIO's default would) */
static void test_writing(void **state)
{
	struct fixture *f = *state;
	char *path = g_build_filename(f->dir, "acct", "w.csv", NULL);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640), i, st;
	pid_t child;

	assert_true(fd >= 0);
	assert_int_equal(spool_writing(path), 1);
	assert_int_equal(close(fd), 0);
	assert_int_equal(spool_writing(path), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		for (i = 0; i < 20000; i++) {
			int w = open(path, O_WRONLY | O_APPEND);

			if (w >= 0)
				close(w);
		}
		_exit(0);
	}
	for (i = 0; i < 20000; i++) {
		int rc = spool_writing(path);

		assert_true(rc == 0 || rc == 1);
	}
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	g_free(path);
}

/* a file failed, fixed and moved back to acct/, taken: its old reason
   goes with it; a reason whose file is still in failed/ stays */
static void test_done_removes_stale_why(void **state)
{
	struct fixture *f = *state;
	char *acct = g_build_filename(f->dir, "acct", NULL);
	char *failed = g_build_filename(f->dir, "failed", NULL);
	char *a, *w;

	a = g_build_filename(acct, "x.csv", NULL);
	assert_true(g_file_set_contents(a, "type,rcpt\n", -1, NULL));
	g_free(a);
	assert_int_equal(spool_fail(f->sp, "x.csv", "no usable record"), 0);
	w = g_build_filename(failed, "x.csv.why", NULL);
	assert_true(g_file_test(w, G_FILE_TEST_EXISTS));
	/* the operator fixes it and moves it back */
	a = g_build_filename(failed, "x.csv", NULL);
	{
		char *back = g_build_filename(acct, "x.csv", NULL);

		assert_int_equal(rename(a, back), 0);
		g_free(back);
	}
	assert_int_equal(spool_done(f->sp, "x.csv"), 0);
	assert_false(g_file_test(w, G_FILE_TEST_EXISTS));
	g_free(w);
	g_free(a);
	/* y.csv failed and is still there; a y.csv taken since keeps it */
	a = g_build_filename(acct, "y.csv", NULL);
	assert_true(g_file_set_contents(a, "bad\n", -1, NULL));
	assert_int_equal(spool_fail(f->sp, "y.csv", "no usable record"), 0);
	assert_true(g_file_set_contents(a, "type,rcpt\n", -1, NULL));
	assert_int_equal(spool_done(f->sp, "y.csv"), 0);
	w = g_build_filename(failed, "y.csv.why", NULL);
	assert_true(g_file_test(w, G_FILE_TEST_EXISTS));
	g_free(w);
	g_free(a);
	g_free(failed);
	g_free(acct);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_done_removes_stale_why,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_writing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_creates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wanted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_done, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_name, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ignore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_young_files, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_young_only_rescanned,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_odd_entries, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
