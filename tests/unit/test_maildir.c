/*
 * test_maildir.c - maildir.c: creating tmp/new/cur (modes, idempotence,
 * what is not a directory), unique names (form, distinctness, a buffer too
 * small), delivery of messages of several sizes (content, mode, nothing
 * left in tmp/), abort, and failures that must leave nothing behind: a
 * file size limit (EFBIG), new/ gone before the rename, tmp/ missing.
 * Everything happens under a temporary directory (ttmp.h), removed at
 * the end.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>

#include "maildir.h"
#include "ttmp.h"

struct fixture {
	char *dir;	/* the temporary directory */
	char *md;	/* DIR/md, the maildir */
};

/* the sync of new/ fails with EIO while set; TAKE_TO (when set) is where
   a worker moves the mail just before (it found it in new/) */
static bool new_sync_fails;
static const char *take_to;

/* fsync - the C library's, but EIO for a directory named new while
   NEW_SYNC_FAILS, after moving its one file to TAKE_TO */
int fsync(int fd)
{
	static int (*real)(int);
	char link[64], path[4096];
	ssize_t k;

	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	k = readlink(link, path, sizeof(path) - 1);
	if (new_sync_fails && k > 4 && (path[k] = '\0', 1) &&
	    strcmp(path + k - 4, "/new") == 0) {
		if (take_to) {
			GDir *d = g_dir_open(path, 0, NULL);
			const char *n = d ? g_dir_read_name(d) : NULL;
			char *from = n ? g_build_filename(path, n, NULL) : NULL;

			if (from)
				(void)rename(from, take_to);
			g_free(from);
			if (d)
				g_dir_close(d);
		}
		errno = EIO;
		return -1;
	}
	return real(fd);
}

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);

	umask(022);
	f->dir = ttmp_make("test-maildir");
	if (!f->dir)
		return -1;
	f->md = g_build_filename(f->dir, "md", NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	rc = ttmp_remove(&f->dir);
	g_free(f->md);
	g_free(f);
	return rc;
}

/* count - entries of MD/SUB */
static int count(const char *md, const char *sub)
{
	char *p = g_build_filename(md, sub, NULL);
	GDir *d = g_dir_open(p, 0, NULL);
	int n = 0;

	assert_non_null(d);
	while (g_dir_read_name(d))
		n++;
	g_dir_close(d);
	g_free(p);
	return n;
}

static mode_t mode_of(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return sb.st_mode;
}

/* maildir_create makes the three directories, 0750, and may run again */
static void test_create(void **state)
{
	struct fixture *f = *state;
	static const char *const subs[] = { "tmp", "new", "cur" };
	char err[512];
	size_t i;

	assert_int_equal(maildir_create(f->md, err, sizeof(err)), 0);
	assert_true(S_ISDIR(mode_of(f->md)));
	assert_int_equal(mode_of(f->md) & 07777, 0750);
	for (i = 0; i < 3; i++) {
		char *p = g_build_filename(f->md, subs[i], NULL);

		assert_true(S_ISDIR(mode_of(p)));
		assert_int_equal(mode_of(p) & 07777, 0750);
		g_free(p);
	}
	/* again: nothing to do, no error; a missing sub is made again */
	assert_int_equal(maildir_create(f->md, err, sizeof(err)), 0);
	{
		char *p = g_build_filename(f->md, "cur", NULL);

		assert_int_equal(rmdir(p), 0);
		assert_int_equal(maildir_create(f->md, err, sizeof(err)), 0);
		assert_true(S_ISDIR(mode_of(p)));
		g_free(p);
	}
}

/* what is not a directory, or has no parent, is an error naming it */
static void test_create_errors(void **state)
{
	struct fixture *f = *state;
	char *file = g_build_filename(f->dir, "plain", NULL);
	char *under = g_build_filename(file, "md", NULL);
	char *orphan = g_build_filename(f->dir, "no", "such", NULL);
	char *newp = g_build_filename(f->md, "new", NULL);
	char err[512];

	assert_true(g_file_set_contents(file, "x", 1, NULL));
	/* DIR is a regular file */
	assert_int_equal(maildir_create(file, err, sizeof(err)), -ENOTDIR);
	assert_non_null(strstr(err, file));
	/* DIR's parent is a regular file */
	assert_int_equal(maildir_create(under, err, sizeof(err)), -ENOTDIR);
	assert_non_null(strstr(err, under));
	/* DIR's parent is missing */
	assert_int_equal(maildir_create(orphan, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, orphan));
	/* DIR/new is a file */
	assert_int_equal(mkdir(f->md, 0750), 0);
	assert_true(g_file_set_contents(newp, "x", 1, NULL));
	assert_int_equal(maildir_create(f->md, err, sizeof(err)), -ENOTDIR);
	assert_non_null(strstr(err, newp));
	/* ERR may be NULL */
	assert_int_equal(maildir_create(file, NULL, 0), -ENOTDIR);
	g_free(file);
	g_free(under);
	g_free(orphan);
	g_free(newp);
}

/* unique names: the maildir form, all different, bounded */
static void test_unique(void **state)
{
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal,
						 g_free, NULL);
	char name[MAILDIR_NAME_MAX], small[16];
	int i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		const char *p;

		assert_int_equal(maildir_unique(name, sizeof(name)), 0);
		assert_true(name[0] >= '1' && name[0] <= '9');
		assert_null(strchr(name, '/'));
		assert_null(strchr(name, ':'));
		assert_true(strlen(name) < MAILDIR_NAME_MAX);
		/* SECS.M...P<pid>_R<16 hex>Q<n>.HOST */
		p = strchr(name, '.');
		assert_non_null(p);
		assert_int_equal(p[1], 'M');
		assert_non_null(strchr(p, 'P'));
		assert_non_null(strstr(p, "_R"));
		assert_non_null(strchr(p, 'Q'));
		assert_non_null(strchr(strchr(p, 'Q'), '.'));
		for (p = name; *p; p++)
			assert_true(g_ascii_isalnum(*p) || *p == '.' ||
				    *p == '-' || *p == '_');
		assert_false(g_hash_table_contains(seen, name));
		g_hash_table_add(seen, g_strdup(name));
	}
	assert_int_equal(maildir_unique(small, sizeof(small)), -ENAMETOOLONG);
	g_hash_table_destroy(seen);
}

/* deliver - one message of LEN bytes in pieces; its name in NAME */
static void deliver(const char *md, const char *data, size_t len,
		    size_t piece, char *name, size_t namelen)
{
	struct maildir_msg *m = NULL;
	char err[512];
	size_t off;

	assert_int_equal(maildir_open(md, &m, err, sizeof(err)), 0);
	assert_non_null(m);
	assert_int_equal(count(md, "tmp"), 1);
	for (off = 0; off < len; off += piece) {
		size_t n = len - off < piece ? len - off : piece;

		assert_int_equal(maildir_write(m, data + off, n, err,
					       sizeof(err)), 0);
	}
	assert_int_equal(maildir_size(m), len);
	assert_int_equal(count(md, "new"), 0);
	assert_int_equal(maildir_commit(m, name, namelen, err, sizeof(err)),
			 0);
}

static const struct size_case {
	size_t len, piece;
} size_cases[] = {
	{ 0, 1 }, { 1, 1 }, { 100, 7 }, { 4096, 4096 }, { 200000, 65536 },
	{ 1 << 20, 100000 },
};

/* a message lands whole in new/, mode 0640, tmp/ empty again */
static void test_deliver(void **state)
{
	struct fixture *f = *state;
	char name[MAILDIR_NAME_MAX], err[512];
	size_t i, j;

	assert_int_equal(maildir_create(f->md, err, sizeof(err)), 0);
	for (i = 0; i < sizeof(size_cases) / sizeof(size_cases[0]); i++) {
		const struct size_case *c = &size_cases[i];
		char *data = g_malloc(c->len + 1), *path, *got = NULL;
		gsize glen = 0;

		for (j = 0; j < c->len; j++)
			data[j] = (char)(j * 7 + i);
		deliver(f->md, data, c->len, c->piece, name, sizeof(name));
		assert_int_equal(count(f->md, "tmp"), 0);
		assert_int_equal(count(f->md, "new"), 1);
		path = g_build_filename(f->md, "new", name, NULL);
		assert_true(g_file_get_contents(path, &got, &glen, NULL));
		assert_int_equal(glen, c->len);
		assert_memory_equal(got, data, c->len);
		assert_int_equal(mode_of(path) & 07777, 0640);
		assert_int_equal(unlink(path), 0);
		g_free(got);
		g_free(path);
		g_free(data);
	}
}

/* the sync of new/ fails: the mail is taken back out of new/ and the
   error returned (the sender delivers it again); but when a worker took
   it from new/ meanwhile, it is the worker's: a success (failing would
   have it delivered again, a second complaint) */
static void test_new_sync_fails(void **state)
{
	struct fixture *f = *state;
	char *taken = g_build_filename(f->dir, "taken", NULL);
	char name[MAILDIR_NAME_MAX], err[512];
	struct maildir_msg *m = NULL;

	assert_int_equal(maildir_create(f->md, err, sizeof(err)), 0);
	new_sync_fails = true;
	assert_int_equal(maildir_open(f->md, &m, err, sizeof(err)), 0);
	assert_int_equal(maildir_write(m, "x", 1, err, sizeof(err)), 0);
	assert_int_equal(maildir_commit(m, name, sizeof(name), err,
					sizeof(err)), -EIO);
	assert_non_null(strstr(err, "cannot sync directory"));
	assert_int_equal(count(f->md, "new"), 0);
	assert_int_equal(count(f->md, "tmp"), 0);
	take_to = taken;
	assert_int_equal(maildir_open(f->md, &m, err, sizeof(err)), 0);
	assert_int_equal(maildir_write(m, "y", 1, err, sizeof(err)), 0);
	assert_int_equal(maildir_commit(m, name, sizeof(name), err,
					sizeof(err)), 0);
	new_sync_fails = false;
	take_to = NULL;
	assert_true(g_file_test(taken, G_FILE_TEST_IS_REGULAR));
	assert_int_equal(count(f->md, "tmp"), 0);
	g_free(taken);
}

/* many messages at once: each its own name */
static void test_many(void **state)
{
	struct fixture *f = *state;
	struct maildir_msg *m[50];
	char name[MAILDIR_NAME_MAX], err[512];
	int i;

	assert_int_equal(maildir_create(f->md, err, sizeof(err)), 0);
	for (i = 0; i < 50; i++) {
		assert_int_equal(maildir_open(f->md, &m[i], err, sizeof(err)), 0);
		assert_int_equal(maildir_write(m[i], "x\n", 2, err, sizeof(err)),
				 0);
	}
	assert_int_equal(count(f->md, "tmp"), 50);
	for (i = 0; i < 50; i++)
		assert_int_equal(maildir_commit(m[i], name, sizeof(name), err,
						sizeof(err)), 0);
	assert_int_equal(count(f->md, "tmp"), 0);
	assert_int_equal(count(f->md, "new"), 50);
	/* NAME may be NULL */
	assert_int_equal(maildir_open(f->md, &m[0], err, sizeof(err)), 0);
	assert_int_equal(maildir_commit(m[0], NULL, 0, err, sizeof(err)), 0);
	assert_int_equal(count(f->md, "new"), 51);
}

/* abort leaves nothing; NULL is fine */
static void test_abort(void **state)
{
	struct fixture *f = *state;
	struct maildir_msg *m = NULL;
	char err[512];

	assert_int_equal(maildir_create(f->md, err, sizeof(err)), 0);
	assert_int_equal(maildir_open(f->md, &m, err, sizeof(err)), 0);
	assert_int_equal(maildir_write(m, "abc", 3, err, sizeof(err)), 0);
	maildir_abort(m);
	maildir_abort(NULL);
	assert_int_equal(count(f->md, "tmp"), 0);
	assert_int_equal(count(f->md, "new"), 0);
}

/* test_sweep_tmp - what a killed writer left in tmp/ goes once 36 hours
   old, not before; new/ is never touched */
static void test_sweep_tmp(void **state)
{
	struct fixture *f = *state;
	struct maildir_msg *m = NULL, *w = NULL;
	char err[512], name[256];
	time_t now = time(NULL);

	assert_int_equal(maildir_create(f->md, err, sizeof(err)), 0);
	assert_int_equal(maildir_open(f->md, &m, err, sizeof(err)), 0);
	assert_int_equal(maildir_write(m, "abc", 3, err, sizeof(err)), 0);
	assert_int_equal(maildir_commit(m, name, sizeof(name), err,
					sizeof(err)), 0);
	/* left in tmp/: a writer killed before its rename */
	assert_int_equal(maildir_open(f->md, &w, err, sizeof(err)), 0);
	assert_int_equal(maildir_write(w, "half", 4, err, sizeof(err)), 0);
	assert_int_equal(count(f->md, "tmp"), 1);
	assert_int_equal(maildir_sweep_tmp(f->md, now), 0);
	assert_int_equal(maildir_sweep_tmp(f->md, now + 35 * 3600), 0);
	assert_int_equal(count(f->md, "tmp"), 1);
	assert_int_equal(maildir_sweep_tmp(f->md, now + 37 * 3600), 1);
	assert_int_equal(count(f->md, "tmp"), 0);
	assert_int_equal(count(f->md, "new"), 1);
	maildir_abort(w);	/* its file is gone: nothing left to remove */
	assert_int_equal(maildir_sweep_tmp("/nonexistent-dir", now), 0);
}

/* a file size limit: EFBIG, and nothing is left behind */
static void test_write_efbig(void **state)
{
	struct fixture *f = *state;
	struct maildir_msg *m = NULL;
	struct rlimit old, lim;
	char buf[4096], err[512];
	void (*prev)(int);
	int rc;

	memset(buf, 'x', sizeof(buf));
	assert_int_equal(maildir_create(f->md, err, sizeof(err)), 0);
	assert_int_equal(maildir_open(f->md, &m, err, sizeof(err)), 0);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	prev = signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = 1000;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc = maildir_write(m, buf, sizeof(buf), err, sizeof(err));
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, prev);
	assert_int_equal(rc, -EFBIG);
	assert_non_null(strstr(err, "cannot write"));
	assert_non_null(strstr(err, "md/tmp/"));
	maildir_abort(m);
	assert_int_equal(count(f->md, "tmp"), 0);
	assert_int_equal(count(f->md, "new"), 0);
}

/* the rename fails (new/ gone): an error, and tmp/ is empty again */
static void test_commit_fails(void **state)
{
	struct fixture *f = *state;
	struct maildir_msg *m = NULL;
	char *newp = g_build_filename(f->md, "new", NULL);
	char name[MAILDIR_NAME_MAX] = "unchanged", err[512];

	assert_int_equal(maildir_create(f->md, err, sizeof(err)), 0);
	assert_int_equal(maildir_open(f->md, &m, err, sizeof(err)), 0);
	assert_int_equal(maildir_write(m, "abc", 3, err, sizeof(err)), 0);
	assert_int_equal(rmdir(newp), 0);
	assert_int_equal(maildir_commit(m, name, sizeof(name), err,
					sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "into new/"));
	assert_string_equal(name, "unchanged");
	assert_int_equal(count(f->md, "tmp"), 0);
	g_free(newp);
}

/* no tmp/: maildir_open fails naming the path, *OUT stays NULL */
static void test_open_fails(void **state)
{
	struct fixture *f = *state;
	struct maildir_msg *m = (struct maildir_msg *)&m;
	char err[512];

	assert_int_equal(maildir_open(f->md, &m, err, sizeof(err)), -ENOENT);
	assert_null(m);
	assert_non_null(strstr(err, "cannot create"));
	assert_non_null(strstr(err, f->md));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unique, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deliver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_sync_fails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_tmp, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_efbig, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_commit_fails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_open_fails, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
