/*
 * test_state.c - the LMDB state store in a temporary directory: records in
 * and out, key order, counters, the files table, read-only opening, the
 * map growing, writes through state_write, schema refusal, a reader in
 * another process, a map grown by another process, a resize waiting for
 * the transactions of other threads, a map that cannot grow (an address-space limit in a
 * child: a clear error, never a crash), and an opening that ignores a map
 * recorded far larger than the data.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <lmdb.h>

#include "state.h"
#include "tstate.h"

/* the fixture: TMP/state named under a fresh temporary directory, not
   opened (the tests open it themselves) */
static int setup(void **state)
{
	return tstate_fixture_new(state, "test_state", false);
}

static int teardown(void **state)
{
	return tstate_fixture_free(state);
}

/* open_rw - a writable state in the fixture's directory */
static struct state *open_rw(struct tstate *fx)
{
	struct state *st = NULL;
	char err[512];

	assert_int_equal(state_open(&st, fx->dir, false, err, sizeof(err)), 0);
	assert_non_null(st);
	return st;
}

static void make_rcpt(struct rcpt *r, int status, const char *cat,
		      int64_t t)
{
	rcpt_init(r);
	r->status = (uint8_t)status;
	r->updated = t;
	r->cnt_hard = (uint32_t)t;
	rcpt_set_str(r->last_category, sizeof(r->last_category), cat);
}

static void put_one(struct state *st, const char *addr, int status,
		    const char *cat, int64_t t)
{
	MDB_txn *txn;
	struct rcpt r;

	make_rcpt(&r, status, cat, t);
	assert_int_equal(state_begin(st, true, &txn), 0);
	assert_int_equal(state_rcpt_put(st, txn, addr, &r), 0);
	assert_int_equal(state_commit(txn), 0);
}

static void test_put_get_del(void **state)
{
	struct tstate *fx = *state;
	struct state *st = open_rw(fx);
	char longkey[1024];
	MDB_txn *txn;
	struct rcpt r, back;

	make_rcpt(&r, RCPT_HARD, "bad-mailbox", 1700000000);
	assert_int_equal(state_begin(st, true, &txn), 0);
	assert_int_equal(state_rcpt_get(st, txn, "a@example.com", &back),
			 -ENOENT);
	assert_int_equal(state_rcpt_put(st, txn, "a@example.com", &r), 0);
	assert_int_equal(state_rcpt_get(st, txn, "a@example.com", &back), 0);
	assert_memory_equal(&r, &back, sizeof(r));
	/* keys are bounded and not empty */
	memset(longkey, 'a', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	assert_int_equal(state_rcpt_put(st, txn, longkey, &r), -ENAMETOOLONG);
	assert_int_equal(state_rcpt_put(st, txn, "", &r), -EINVAL);
	assert_int_equal(state_commit(txn), 0);

	assert_int_equal(state_begin(st, false, &txn), 0);
	assert_int_equal(state_rcpt_get(st, txn, "a@example.com", &back), 0);
	assert_int_equal(back.status, RCPT_HARD);
	assert_string_equal(back.last_category, "bad-mailbox");
	state_abort(txn);

	assert_int_equal(state_begin(st, true, &txn), 0);
	assert_int_equal(state_rcpt_del(st, txn, "a@example.com"), 0);
	assert_int_equal(state_rcpt_del(st, txn, "a@example.com"), -ENOENT);
	assert_int_equal(state_rcpt_get(st, txn, "a@example.com", &back),
			 -ENOENT);
	assert_int_equal(state_commit(txn), 0);
	state_close(st);
}

struct seen {
	char keys[16][64];
	bool null_rec[16];
	int n;
	int stop_at;	/* return 42 when n reaches it (0: never) */
};

static int collect(const char *addr, size_t addrlen, const struct rcpt *r,
		   void *arg)
{
	struct seen *s = arg;

	if (s->n >= 16 || addrlen >= sizeof(s->keys[0]))
		return -1;
	memcpy(s->keys[s->n], addr, addrlen);
	s->keys[s->n][addrlen] = '\0';
	s->null_rec[s->n] = r == NULL;
	s->n++;
	return s->stop_at && s->n == s->stop_at ? 42 : 0;
}

static void walk(struct state *st, const char *from, struct seen *s,
		 int want_rc)
{
	MDB_txn *txn;
	int stop = s->stop_at;

	memset(s, 0, sizeof(*s));
	s->stop_at = stop;
	assert_int_equal(state_begin(st, false, &txn), 0);
	assert_int_equal(state_rcpt_foreach(st, txn, from, collect, s),
			 want_rc);
	state_abort(txn);
}

static void test_foreach(void **state)
{
	static const char *const addrs[] = { "c@x", "a@x", "d@x", "b@x" };
	struct tstate *fx = *state;
	struct state *st = open_rw(fx);
	struct seen s = { .stop_at = 0 };
	size_t i;

	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++)
		put_one(st, addrs[i], RCPT_SOFT, "other", (int64_t)i);

	walk(st, NULL, &s, 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.keys[0], "a@x");
	assert_string_equal(s.keys[1], "b@x");
	assert_string_equal(s.keys[2], "c@x");
	assert_string_equal(s.keys[3], "d@x");
	assert_false(s.null_rec[0]);

	walk(st, "b@x", &s, 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.keys[0], "b@x");

	walk(st, "bb", &s, 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.keys[0], "c@x");

	walk(st, "z", &s, 0);
	assert_int_equal(s.n, 0);

	s.stop_at = 2;
	walk(st, "", &s, 42);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.keys[1], "b@x");
	state_close(st);
}

/* raw_put - write VALUE under KEY of TABLE with LMDB itself, bypassing
   the codec (no state open in this process meanwhile) */
static void raw_put(const char *dir, const char *table, const char *key,
		    const void *value, size_t len)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { strlen(key), (void *)key }, v = { len, (void *)value };

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0640), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, table, 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void test_undecodable_record(void **state)
{
	static const uint8_t junk[] = { RCPT_CODEC_VERSION, 0 };
	static const uint8_t future[] = { RCPT_CODEC_LATEST + 1, 0, 0 };
	/* version 5 whose category names id 999, which was never given;
	   then one naming an id past every id ever given */
	static const uint8_t unknown[] = { RCPT_CODEC_STRS, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0xcf, 0x0f, 0, 0 };
	static const uint8_t huge[] = { RCPT_CODEC_STRS, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0 };
	struct tstate *fx = *state;
	struct state *st = open_rw(fx);
	struct seen s = { .stop_at = 0 };
	struct rcpt r;
	MDB_txn *txn;

	put_one(st, "a@x", RCPT_HARD, "bad-domain", 1);
	state_close(st);
	raw_put(fx->dir, "rcpt", "b@x", junk, sizeof(junk));
	raw_put(fx->dir, "rcpt", "c@x", future, sizeof(future));
	raw_put(fx->dir, "rcpt", "d@x", unknown, sizeof(unknown));
	raw_put(fx->dir, "rcpt", "e@x", huge, sizeof(huge));

	st = open_rw(fx);
	walk(st, NULL, &s, 0);
	assert_int_equal(s.n, 5);
	assert_false(s.null_rec[0]);
	assert_true(s.null_rec[1]);
	assert_true(s.null_rec[2]);
	assert_true(s.null_rec[3]);
	assert_true(s.null_rec[4]);
	assert_int_equal(state_begin(st, false, &txn), 0);
	assert_int_equal(state_rcpt_get(st, txn, "b@x", &r), -EINVAL);
	assert_int_equal(state_rcpt_get(st, txn, "c@x", &r), -EPROTO);
	assert_int_equal(state_rcpt_get(st, txn, "d@x", &r), -EINVAL);
	assert_int_equal(state_rcpt_get(st, txn, "e@x", &r), -EINVAL);
	state_abort(txn);
	state_close(st);
}

static void test_meta(void **state)
{
	struct tstate *fx = *state;
	struct state *st = open_rw(fx);
	MDB_txn *txn;
	uint64_t v = 0, n = 0;

	assert_int_equal(state_begin(st, true, &txn), 0);
	assert_int_equal(state_meta_get_u64(st, txn, "count.hard", &v), -ENOENT);
	assert_int_equal(state_meta_add_u64(st, txn, "count.hard", 5), 0);
	assert_int_equal(state_meta_add_u64(st, txn, "count.hard", 7), 0);
	assert_int_equal(state_meta_get_u64(st, txn, "count.hard", &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(state_meta_put_u64(st, txn, "big", UINT64_MAX - 1), 0);
	assert_int_equal(state_meta_get_u64(st, txn, "big", &v), 0);
	assert_true(v == UINT64_MAX - 1);
	assert_int_equal(state_meta_get_u64(st, txn, "schema", &v), 0);
	assert_int_equal(v, STATE_SCHEMA_VERSION);
	assert_int_equal(state_commit(txn), 0);

	assert_int_equal(state_begin(st, false, &txn), 0);
	assert_int_equal(state_meta_get_u64(st, txn, "count.hard", &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(state_stat_entries(st, txn, "meta", &n), 0);
	assert_int_equal(n, 3);	/* schema, count.hard, big */
	assert_int_equal(state_stat_entries(st, txn, "rcpt", &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(state_stat_entries(st, txn, "outbox", &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(state_stat_entries(st, txn, "dead", &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(state_stat_entries(st, txn, "nosuch", &n), -EINVAL);
	state_abort(txn);
	state_close(st);

	/* a counter of the wrong size is refused, not misread */
	raw_put(fx->dir, "meta", "odd", "abc", 3);
	st = open_rw(fx);
	assert_int_equal(state_begin(st, false, &txn), 0);
	assert_int_equal(state_meta_get_u64(st, txn, "odd", &v), -EINVAL);
	state_abort(txn);
	state_close(st);
}

static int collect_files(const char *key, size_t keylen,
			 const struct file_rec *f, void *arg)
{
	struct seen *s = arg;

	if (s->n >= 16 || keylen >= sizeof(s->keys[0]) || f == NULL)
		return -1;
	memcpy(s->keys[s->n], key, keylen);
	s->keys[s->n][keylen] = '\0';
	s->n++;
	return 0;
}

static void test_files(void **state)
{
	struct tstate *fx = *state;
	struct state *st = open_rw(fx);
	struct file_rec f, back;
	struct seen s = { .stop_at = 0 };
	MDB_txn *txn;
	uint64_t n = 0;

	memset(&f, 0, sizeof(f));
	f.status = FILE_PARTIAL;
	f.offset = 123456;
	f.records = 99;
	f.started = 1700000000;
	assert_int_equal(state_begin(st, true, &txn), 0);
	assert_int_equal(state_file_get(st, txn, "spool/acct/b.csv", &back),
			 -ENOENT);
	assert_int_equal(state_file_put(st, txn, "spool/acct/b.csv", &f), 0);
	f.status = FILE_DONE;
	assert_int_equal(state_file_put(st, txn, "spool/acct/a.csv", &f), 0);
	assert_int_equal(state_commit(txn), 0);

	assert_int_equal(state_begin(st, false, &txn), 0);
	assert_int_equal(state_file_get(st, txn, "spool/acct/b.csv", &back), 0);
	assert_int_equal(back.status, FILE_PARTIAL);
	assert_int_equal(back.offset, 123456);
	assert_int_equal(back.records, 99);
	assert_int_equal(state_file_foreach(st, txn, collect_files, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.keys[0], "spool/acct/a.csv");
	assert_string_equal(s.keys[1], "spool/acct/b.csv");
	assert_int_equal(state_stat_entries(st, txn, "files", &n), 0);
	assert_int_equal(n, 2);
	state_abort(txn);
	state_close(st);
}

/* drop_table - TABLE removed from the state in DIR with LMDB alone, as a
   state written before the table existed */
static void drop_table(const char *dir, const char *table)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_set_mapsize(env, (size_t)1 << 30), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, table, 0, &dbi), 0);
	assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* fp_find - the path state_files_fp_find gives for HASH/LEN, "" for none */
static const char *fp_find(struct state *st, uint64_t hash, uint32_t len,
			   struct file_rec *f)
{
	static char path[512];
	MDB_txn *txn;
	int rc;

	assert_int_equal(state_begin(st, false, &txn), 0);
	rc = state_files_fp_find(st, txn, hash, len, path, sizeof(path), f);
	state_abort(txn);
	if (rc == -ENOENT)
		return "";
	assert_int_equal(rc, 0);
	return path;
}

/* the files by content: each record written is found by its fingerprint,
   a record whose fingerprint grew no longer by the old one, a stream
   never; a state of before the table is indexed when it is opened */
static void test_files_by_content(void **state)
{
	struct tstate *fx = *state;
	struct state *st = open_rw(fx);
	struct file_rec f, back;
	MDB_txn *txn;

	memset(&f, 0, sizeof(f));
	f.status = FILE_DONE;
	f.offset = 1000;
	f.fp_len = 4096;
	f.fp_hash = 0x1122334455667788ULL;
	assert_int_equal(state_begin(st, true, &txn), 0);
	assert_int_equal(state_file_put(st, txn, "/s/acct/a.csv", &f), 0);
	f.fp_len = 0;		/* a stream */
	assert_int_equal(state_file_put(st, txn, "stdin:1", &f), 0);
	assert_int_equal(state_commit(txn), 0);
	assert_string_equal(fp_find(st, 0x1122334455667788ULL, 4096, &back),
			    "/s/acct/a.csv");
	assert_int_equal(back.offset, 1000);
	assert_string_equal(fp_find(st, 0x1122334455667788ULL, 200, &back),
			    "");
	assert_string_equal(fp_find(st, 0x99, 4096, &back), "");
	assert_string_equal(fp_find(st, 0, 0, &back), "");

	/* a.csv's fingerprint changed: the old one names nothing now */
	f.fp_len = 4096;
	f.fp_hash = 0x42;
	assert_int_equal(state_begin(st, true, &txn), 0);
	assert_int_equal(state_file_put(st, txn, "/s/acct/a.csv", &f), 0);
	assert_int_equal(state_commit(txn), 0);
	assert_string_equal(fp_find(st, 0x1122334455667788ULL, 4096, &back),
			    "");
	assert_string_equal(fp_find(st, 0x42, 4096, &back), "/s/acct/a.csv");
	state_close(st);

	/* a state written before the table: indexed when opened to write */
	drop_table(fx->dir, "files_fp");
	st = open_rw(fx);
	assert_string_equal(fp_find(st, 0x42, 4096, &back), "/s/acct/a.csv");
	assert_int_equal(back.status, FILE_DONE);
	state_close(st);
}

static void test_readonly(void **state)
{
	struct tstate *fx = *state;
	struct state *st = open_rw(fx), *ro = NULL;
	char err[512];
	MDB_txn *txn;
	struct rcpt r;

	put_one(st, "a@x", RCPT_COMPLAINED, "abuse", 3);
	state_close(st);

	assert_int_equal(state_open(&ro, fx->dir, true, err, sizeof(err)), 0);
	assert_int_equal(state_begin(ro, false, &txn), 0);
	assert_int_equal(state_rcpt_get(ro, txn, "a@x", &r), 0);
	assert_int_equal(r.status, RCPT_COMPLAINED);
	state_abort(txn);
	assert_int_equal(state_begin(ro, true, &txn), -EROFS);
	assert_null(txn);
	state_close(ro);
}

static void test_readonly_missing(void **state)
{
	struct tstate *fx = *state;
	struct state *st = NULL;
	char err[512], path[4200];
	struct stat sb;

	/* no directory at all: not created */
	assert_int_equal(state_open(&st, fx->dir, true, err, sizeof(err)),
			 -ENOENT);
	assert_null(st);
	assert_non_null(strstr(err, "no state in"));
	assert_non_null(strstr(err, fx->dir));
	assert_int_equal(stat(fx->dir, &sb), -1);

	/* an empty directory: nothing created in it */
	assert_int_equal(mkdir(fx->dir, 0750), 0);
	assert_int_equal(state_open(&st, fx->dir, true, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "run bounced process first"));
	snprintf(path, sizeof(path), "%s/data.mdb", fx->dir);
	assert_int_equal(stat(path, &sb), -1);
}

static void test_open_errors(void **state)
{
	struct tstate *fx = *state;
	struct state *st = NULL;
	char err[512], path[4200];
	FILE *f;

	/* a file where the directory should be */
	f = fopen(fx->dir, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(state_open(&st, fx->dir, false, err, sizeof(err)),
			 -ENOTDIR);
	assert_non_null(strstr(err, fx->dir));
	/* a parent that does not exist */
	snprintf(path, sizeof(path), "%s/no/such", fx->tmp);
	assert_int_equal(state_open(&st, path, false, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, path));
	assert_null(st);
}

/* put_batch - N max-size records in one transaction; 0 or -errno */
static int put_batch(struct state *st, int n)
{
	MDB_txn *txn;
	struct rcpt r;
	char addr[64];
	int i, rc;

	rcpt_init(&r);
	r.status = RCPT_HARD;
	memset(r.reason.dsn_diag, 'd', sizeof(r.reason.dsn_diag) - 1);
	memset(r.last_soft.dsn_diag, 'e', sizeof(r.last_soft.dsn_diag) - 1);
	rc = state_begin(st, true, &txn);
	if (rc)
		return rc;
	for (i = 0; i < n; i++) {
		snprintf(addr, sizeof(addr), "user%05d@example.com", i);
		r.cnt_hard = (uint32_t)i;
		rc = state_rcpt_put(st, txn, addr, &r);
		if (rc) {
			state_abort(txn);
			return rc;
		}
	}
	return state_commit(txn);
}

static void test_grow(void **state)
{
	struct tstate *fx = *state;
	struct state *st = open_rw(fx);
	MDB_txn *txn;
	struct rcpt r;
	size_t before;
	uint64_t n = 0;
	int rc, grows = 0;

	assert_true(state_map_size(st) >= ((size_t)256 << 20));
	assert_int_equal(state_set_map_size(st, 64 * 1024), 0);
	before = state_map_size(st);
	assert_true(before <= 64 * 1024);
	for (;;) {
		rc = put_batch(st, 500);
		if (rc != -ENOSPC || grows >= 20)
			break;
		assert_non_null(strstr(state_strerror(rc), "map full"));
		assert_int_equal(state_grow(st), 0);
		grows++;
	}
	assert_int_equal(rc, 0);
	assert_true(grows >= 1);
	assert_true(state_map_size(st) >= before << grows);

	assert_int_equal(state_begin(st, false, &txn), 0);
	assert_int_equal(state_stat_entries(st, txn, "rcpt", &n), 0);
	assert_int_equal(n, 500);
	assert_int_equal(state_rcpt_get(st, txn, "user00499@example.com", &r),
			 0);
	assert_int_equal(r.cnt_hard, 499);
	state_abort(txn);
	state_close(st);
}

struct write_arg {
	int base;		/* the first record's number */
	int n;			/* records to write */
	int ret;		/* what the writer returns after writing */
	int calls;		/* attempts */
};

/* write_fn - ARG->n max-size records, then ARG->ret (state_write_fn) */
static int write_fn(struct state *st, MDB_txn *txn, void *arg)
{
	struct write_arg *w = arg;
	struct rcpt r;
	char addr[64];
	int i, rc;

	w->calls++;
	rcpt_init(&r);
	r.status = RCPT_HARD;
	memset(r.reason.dsn_diag, 'd', sizeof(r.reason.dsn_diag) - 1);
	for (i = 0; i < w->n; i++) {
		snprintf(addr, sizeof(addr), "user%05d@example.com",
			 w->base + i);
		r.cnt_hard = (uint32_t)i;
		rc = state_rcpt_put(st, txn, addr, &r);
		if (rc)
			return rc;
	}
	return w->ret;
}

/* rcpt_entries - the number of records in the rcpt table */
static uint64_t rcpt_entries(struct state *st)
{
	MDB_txn *txn;
	uint64_t n = 0;

	assert_int_equal(state_begin(st, false, &txn), 0);
	assert_int_equal(state_stat_entries(st, txn, "rcpt", &n), 0);
	state_abort(txn);
	return n;
}

/* state_write: a full map grown and the writer called again; a positive
   answer or an error aborts; the growth is bounded */
static void test_write(void **state)
{
	struct tstate *fx = *state;
	struct state *st = open_rw(fx);
	struct write_arg w = { .n = 500 };
	size_t before;

	assert_int_equal(state_set_map_size(st, 64 * 1024), 0);
	before = state_map_size(st);
	assert_int_equal(state_write(st, write_fn, &w), 0);
	assert_true(w.calls >= 2);
	assert_true(state_map_size(st) >= before << (w.calls - 1));
	assert_int_equal(rcpt_entries(st), 500);
	state_close(st);

	/* nothing of an aborted write is kept */
	st = open_rw(fx);
	w = (struct write_arg){ .base = 1000, .n = 10, .ret = 7 };
	assert_int_equal(state_write(st, write_fn, &w), 7);
	assert_int_equal(w.calls, 1);
	w = (struct write_arg){ .base = 1000, .n = 10, .ret = -EIO };
	assert_int_equal(state_write(st, write_fn, &w), -EIO);
	assert_int_equal(w.calls, 1);
	assert_int_equal(rcpt_entries(st), 500);

	/* a writer that always finds the map full: STATE_GROW_TRIES growths */
	assert_int_equal(state_set_map_size(st, 64 * 1024), 0);
	w = (struct write_arg){ .ret = -ENOSPC };
	assert_int_equal(state_write(st, write_fn, &w), -ENOSPC);
	assert_int_equal(w.calls, STATE_GROW_TRIES + 1);
	w = (struct write_arg){ .base = 2000, .n = 3 };
	assert_int_equal(state_write_lazy(st, write_fn, &w), 0);
	assert_int_equal(state_sync(st), 0);
	assert_int_equal(rcpt_entries(st), 503);
	state_close(st);
}

/* state_reserve: the map grown before the write, which then needs one
   attempt; a map large enough already is left as it is */
static void test_reserve(void **state)
{
	struct tstate *fx = *state;
	struct state *st = open_rw(fx);
	struct write_arg w = { .n = 500 };
	size_t before, after;

	assert_int_equal(state_set_map_size(st, 64 * 1024), 0);
	before = state_map_size(st);
	/* 500 records of about 1 KiB: 1 MiB asked for */
	assert_int_equal(state_reserve(st, (size_t)1 << 20), 0);
	after = state_map_size(st);
	assert_true(after >= before + ((size_t)1 << 20));
	assert_true(after <= ((size_t)8 << 20));	/* doubled, not more */
	assert_int_equal(state_write(st, write_fn, &w), 0);
	assert_int_equal(w.calls, 1);
	assert_int_equal(rcpt_entries(st), 500);

	/* room enough: no growth */
	assert_int_equal(state_reserve(st, 4096), 0);
	assert_int_equal(state_map_size(st), after);

	/* the same write without the reserve: applied once in vain first */
	assert_int_equal(state_set_map_size(st, 64 * 1024), 0);
	w = (struct write_arg){ .base = 2000, .n = 500 };
	assert_int_equal(state_write(st, write_fn, &w), 0);
	assert_true(w.calls >= 2);
	assert_int_equal(rcpt_entries(st), 1000);
	state_close(st);
}

/* turn_file_size - the size of DIR's data file after a first write of
   N records and REWRITES writes of all of them again, each followed by
   state_turn when TURN */
static off_t turn_file_size(const char *dir, int n, int rewrites, bool turn)
{
	struct state *st = NULL;
	struct write_arg w = { .n = n };
	char err[512], path[PATH_MAX];
	struct stat sb;
	int i;

	assert_int_equal(state_open(&st, dir, false, err, sizeof(err)), 0);
	assert_int_equal(state_set_map_size(st, (size_t)256 << 20), 0);
	for (i = 0; i <= rewrites; i++) {
		assert_int_equal(state_write(st, write_fn, &w), 0);
		if (turn)
			assert_int_equal(state_turn(st), 0);
	}
	assert_int_equal(rcpt_entries(st), (uint64_t)n);
	state_close(st);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_int_equal(stat(path, &sb), 0);
	return sb.st_size;
}

/* state_turn: a commit that rewrites every record takes the pages the
   one before freed, so the file holds two copies of the records, not
   three; the counter it writes is kept */
static void test_turn(void **state)
{
	struct tstate *fx = *state;
	char other[PATH_MAX];
	struct state *st;
	MDB_txn *txn;
	uint64_t turns = 0;
	off_t plain, turned;

	plain = turn_file_size(fx->dir, 2000, 6, false);
	snprintf(other, sizeof(other), "%s/turned", fx->tmp);
	turned = turn_file_size(other, 2000, 6, true);
	assert_true(turned > 0 && plain > 0);
	/* three trees against two, less what the trees share */
	assert_true(turned * 5 < plain * 4);
	assert_int_equal(tstate_open(&st, other, false), 0);
	assert_int_equal(state_begin(st, false, &txn), 0);
	assert_int_equal(state_meta_get_u64(st, txn, "state.turns", &turns), 0);
	state_abort(txn);
	assert_int_equal(turns, 7);
	state_close(st);
}

static void test_schema_newer(void **state)
{
	struct tstate *fx = *state;
	struct state *st = open_rw(fx);
	char err[512];
	MDB_txn *txn;

	assert_int_equal(state_begin(st, true, &txn), 0);
	assert_int_equal(state_meta_put_u64(st, txn, "schema", 99), 0);
	assert_int_equal(state_commit(txn), 0);
	state_close(st);

	st = NULL;
	assert_int_equal(state_open(&st, fx->dir, false, err, sizeof(err)),
			 -EPROTO);
	assert_null(st);
	assert_non_null(strstr(err, "has schema 99"));
	assert_non_null(strstr(err, "upgrade bounced"));
	assert_non_null(strstr(err, fx->dir));
	assert_int_equal(state_open(&st, fx->dir, true, err, sizeof(err)),
			 -EPROTO);
	assert_null(st);
}

/* schema_of - the schema version the state in DIR records */
static uint64_t schema_of(const char *dir)
{
	struct state *st = NULL;
	char err[512];
	MDB_txn *txn;
	uint64_t v = 0;

	assert_int_equal(state_open(&st, dir, true, err, sizeof(err)), 0);
	assert_int_equal(state_begin(st, false, &txn), 0);
	assert_int_equal(state_meta_get_u64(st, txn, "schema", &v), 0);
	state_abort(txn);
	state_close(st);
	return v;
}

/* a state of schema 1 (recipient records up to version 3) is read as it
   is, and marked with ours when opened for writing: a bounced of schema
   1 then refuses it instead of failing on version 4 records */
static void test_schema_older_upgraded(void **state)
{
	struct tstate *fx = *state;
	struct state *st = open_rw(fx);
	char err[512];
	MDB_txn *txn;

	assert_int_equal(state_begin(st, true, &txn), 0);
	assert_int_equal(state_meta_put_u64(st, txn, "schema", 1), 0);
	assert_int_equal(state_commit(txn), 0);
	state_close(st);
	assert_int_equal(schema_of(fx->dir), 1);	/* a reader changes nothing */
	st = NULL;
	assert_int_equal(state_open(&st, fx->dir, false, err, sizeof(err)), 0);
	state_close(st);
	assert_int_equal(schema_of(fx->dir), STATE_SCHEMA_VERSION);
	assert_true(STATE_SCHEMA_VERSION >= 2);
}

static void test_reopen_keeps_data(void **state)
{
	struct tstate *fx = *state;
	struct state *st = open_rw(fx);
	MDB_txn *txn;
	struct rcpt r;
	uint64_t v = 0;

	put_one(st, "keep@x", RCPT_UNSUBSCRIBED, "unsub", 77);
	assert_int_equal(state_begin(st, true, &txn), 0);
	assert_int_equal(state_meta_add_u64(st, txn, "count.unsub", 1), 0);
	assert_int_equal(state_commit(txn), 0);
	state_close(st);

	st = open_rw(fx);
	assert_int_equal(state_begin(st, false, &txn), 0);
	assert_int_equal(state_rcpt_get(st, txn, "keep@x", &r), 0);
	assert_int_equal(r.status, RCPT_UNSUBSCRIBED);
	assert_int_equal(r.updated, 77);
	assert_int_equal(state_meta_get_u64(st, txn, "count.unsub", &v), 0);
	assert_int_equal(v, 1);
	state_abort(txn);
	state_close(st);
}

/* child_read - in a forked child: open read-only, check ADDR's status;
   exit code 0 when it matches */
static void child_read(const char *dir, const char *addr, int status)
{
	struct state *st = NULL;
	char err[512];
	MDB_txn *txn = NULL;
	struct rcpt r;
	int code = 1;

	if (state_open(&st, dir, true, err, sizeof(err)) != 0)
		_exit(2);
	if (state_begin(st, false, &txn) == 0 &&
	    state_rcpt_get(st, txn, addr, &r) == 0 && r.status == status)
		code = 0;
	state_abort(txn);
	state_close(st);
	_exit(code);
}

static int wait_child(pid_t pid)
{
	int ws = 0;

	if (waitpid(pid, &ws, 0) != pid || !WIFEXITED(ws))
		return -1;
	return WEXITSTATUS(ws);
}

static void test_reader_beside_writer(void **state)
{
	struct tstate *fx = *state;
	struct state *st = open_rw(fx);
	MDB_txn *txn;
	struct rcpt r;
	pid_t pid;

	put_one(st, "seen@x", RCPT_HARD, "bad-mailbox", 1);
	/* an uncommitted change stays invisible to the reader */
	make_rcpt(&r, RCPT_ACTIVE, "", 2);
	assert_int_equal(state_begin(st, true, &txn), 0);
	assert_int_equal(state_rcpt_put(st, txn, "seen@x", &r), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		child_read(fx->dir, "seen@x", RCPT_HARD);
	assert_int_equal(wait_child(pid), 0);
	assert_int_equal(state_commit(txn), 0);
	state_close(st);
}

/* write_elsewhere - another process writes 500 large records into the
   fixture's state (far more than a map of 64 KiB holds) */
static void write_elsewhere(struct tstate *fx)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct state *w = NULL;
		char err[512];
		int rc;

		if (state_open(&w, fx->dir, false, err, sizeof(err)) != 0)
			_exit(2);
		rc = put_batch(w, 500);
		state_close(w);
		_exit(rc == 0 ? 0 : 3);
	}
	assert_int_equal(wait_child(pid), 0);
}

static void test_map_resized_elsewhere(void **state)
{
	struct tstate *fx = *state;
	struct state *st = open_rw(fx);
	MDB_txn *txn;
	struct rcpt r;

	put_one(st, "first@x", RCPT_SOFT, "other", 1);
	assert_int_equal(state_set_map_size(st, 64 * 1024), 0);
	/* another process writes far more than our map holds */
	write_elsewhere(fx);
	/* our next transaction adopts the bigger map */
	assert_int_equal(state_begin(st, false, &txn), 0);
	assert_int_equal(state_rcpt_get(st, txn, "user00499@example.com", &r),
			 0);
	assert_int_equal(r.cnt_hard, 499);
	state_abort(txn);
	assert_true(state_map_size(st) > 64 * 1024);
	state_close(st);
}

/* a thread that holds a transaction while the main thread resizes the map:
   the resize waits until that transaction ended (LMDB would unmap the map
   under a reader, and refuse a resize during another thread's write) */
struct holder {
	struct state *st;
	bool write;
	const char *addr;	/* read (and, writing, rewritten) */
	GMutex mu;
	GCond cond;
	bool in_txn;		/* the transaction is open */
	gint ended;		/* and has ended */
	int rc;
	struct rcpt r;
};

static gpointer holder_main(gpointer arg)
{
	struct holder *h = arg;
	MDB_txn *txn = NULL;
	int rc;

	rc = state_begin(h->st, h->write, &txn);
	if (rc == 0)
		rc = state_rcpt_get(h->st, txn, h->addr, &h->r);
	g_mutex_lock(&h->mu);
	h->in_txn = true;
	g_cond_signal(&h->cond);
	g_mutex_unlock(&h->mu);
	if (rc == 0) {
		g_usleep(300 * 1000);	/* the resize is asked meanwhile */
		/* the record read is still where it was */
		if (h->r.cnt_hard != 7)
			rc = -EFAULT;
		h->r.cnt_hard = 8;
		if (rc == 0 && h->write)
			rc = state_rcpt_put(h->st, txn, h->addr, &h->r);
		g_atomic_int_set(&h->ended, 1);
		if (rc == 0 && h->write)
			rc = state_commit(txn);
		else
			state_abort(txn);
	}
	h->rc = rc;
	return NULL;
}

/* holder_start - a thread with a transaction open on ADDR of ST */
static GThread *holder_start(struct holder *h, struct state *st, bool write,
			     const char *addr)
{
	GThread *t;

	memset(h, 0, sizeof(*h));
	h->st = st;
	h->write = write;
	h->addr = addr;
	g_mutex_init(&h->mu);
	g_cond_init(&h->cond);
	t = g_thread_new("holder", holder_main, h);
	g_mutex_lock(&h->mu);
	while (!h->in_txn)
		g_cond_wait(&h->cond, &h->mu);
	g_mutex_unlock(&h->mu);
	return t;
}

static void holder_join(struct holder *h, GThread *t)
{
	g_thread_join(t);
	assert_int_equal(h->rc, 0);
	g_mutex_clear(&h->mu);
	g_cond_clear(&h->cond);
}

static void test_resize_waits_for_threads(void **state)
{
	struct tstate *fx = *state;
	struct state *st = open_rw(fx);
	struct holder h;
	GThread *t;
	MDB_txn *txn;
	struct rcpt r;
	size_t before;
	int w;

	put_one(st, "held@x", RCPT_SOFT, "other", 7);
	for (w = 0; w < 2; w++) {
		/* a reader, then a writer */
		before = state_map_size(st);
		t = holder_start(&h, st, w == 1, "held@x");
		assert_int_equal(state_grow(st), 0);
		assert_int_equal(g_atomic_int_get(&h.ended), 1);
		assert_int_equal(state_map_size(st), before * 2);
		holder_join(&h, t);
	}
	/* the write went through */
	assert_int_equal(state_begin(st, false, &txn), 0);
	assert_int_equal(state_rcpt_get(st, txn, "held@x", &r), 0);
	assert_int_equal(r.cnt_hard, 8);
	/* this thread, with a transaction open, may not resize */
	assert_int_equal(state_grow(st), -EDEADLK);
	assert_non_null(strstr(state_strerror(-EDEADLK), "transaction open"));
	state_abort(txn);
	state_close(st);
}

/* a thread reading one state may resize another (the lock and its count
   are the state's), not the one it reads */
static void test_resize_other_state(void **state)
{
	struct tstate *fx = *state;
	struct state *a = open_rw(fx), *b = NULL;
	char dir[PATH_MAX + 8], err[512];
	MDB_txn *txn;
	size_t before;

	snprintf(dir, sizeof(dir), "%s/other", fx->tmp);
	assert_int_equal(state_open(&b, dir, false, err, sizeof(err)), 0);
	assert_int_equal(state_begin(a, true, &txn), 0);
	before = state_map_size(b);
	assert_int_equal(state_grow(b), 0);
	assert_int_equal(state_map_size(b), before * 2);
	assert_int_equal(state_grow(a), -EDEADLK);
	state_abort(txn);
	/* and the other way round, a transaction of each open */
	assert_int_equal(state_begin(b, true, &txn), 0);
	assert_int_equal(state_grow(b), -EDEADLK);
	before = state_map_size(a);
	assert_int_equal(state_grow(a), 0);
	assert_int_equal(state_map_size(a), before * 2);
	state_abort(txn);
	assert_int_equal(state_grow(b), 0);
	state_close(b);
	state_close(a);
}

/* another process grew the map while a thread reads: the next transaction
   adopts the new size after that reader ended */
static void test_map_adopted_after_readers(void **state)
{
	struct tstate *fx = *state;
	struct state *st = open_rw(fx);
	struct holder h;
	GThread *t;
	MDB_txn *txn;
	struct rcpt r;

	put_one(st, "held@x", RCPT_SOFT, "other", 7);
	assert_int_equal(state_set_map_size(st, 64 * 1024), 0);
	t = holder_start(&h, st, false, "held@x");
	write_elsewhere(fx);
	assert_int_equal(g_atomic_int_get(&h.ended), 0);
	assert_int_equal(state_begin(st, false, &txn), 0);
	assert_int_equal(g_atomic_int_get(&h.ended), 1);
	assert_int_equal(state_rcpt_get(st, txn, "user00499@example.com", &r),
			 0);
	state_abort(txn);
	holder_join(&h, t);
	state_close(st);
}

/* vm_size - the process's address space in bytes (/proc), 0 if unknown */
static size_t vm_size(void)
{
	char *text = NULL, *p;
	size_t kb = 0;

	if (!g_file_get_contents("/proc/self/status", &text, NULL, NULL))
		return 0;
	p = strstr(text, "VmSize:");
	if (p)
		kb = strtoul(p + 7, NULL, 10);
	g_free(text);
	return kb * 1024;
}

/* grow_child - fill a tiny map, then grow it under an address-space limit
   that leaves no room for the bigger map; exit 0 when the state reports
   the failure and stays safe to use (or refuses every use) */
static void grow_child(const char *dir)
{
	struct state *st = NULL;
	struct rlimit rl;
	char err[512];
	MDB_txn *txn = NULL;
	struct rcpt r;
	size_t vm;
	int rc;

	if (state_open(&st, dir, false, err, sizeof(err)) != 0 ||
	    state_set_map_size(st, 64 * 1024) != 0)
		_exit(2);
	rc = put_batch(st, 500);
	if (rc != -ENOSPC)
		_exit(3);
	vm = vm_size();
	if (vm == 0)
		_exit(4);
	rl.rlim_cur = rl.rlim_max = vm + 16 * 1024;
	if (setrlimit(RLIMIT_AS, &rl) != 0)
		_exit(5);
	rc = state_grow(st);
	if (rc == 0)
		_exit(6);
	if (!strstr(state_strerror(rc), "cannot grow from"))
		_exit(7);
	/* what was committed before is still there, or the state is
	   closed and says so: no crash either way */
	rc = state_begin(st, false, &txn);
	if (state_usable(st)) {
		if (rc != 0 || state_rcpt_get(st, txn, "user00000@example.com",
					       &r) != 0)
			_exit(8);
		state_abort(txn);
	} else if (rc != -EIO || !strstr(state_strerror(rc), "closed")) {
		_exit(9);
	}
	state_close(st);
	_exit(0);
}

static void test_grow_fails(void **state)
{
	struct tstate *fx = *state;
	struct state *st = open_rw(fx);
	pid_t pid;

#if defined(__SANITIZE_ADDRESS__)
	/* AddressSanitizer reserves terabytes of address space */
	state_close(st);
	skip();
#endif
	put_one(st, "user00000@example.com", RCPT_HARD, "bad-mailbox", 1);
	state_close(st);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		grow_child(fx->dir);
	assert_int_equal(wait_child(pid), 0);
}

/* test_open_ignores_huge_map - a map recorded far larger than the data
   (a former runaway growth) is not what the next opening maps */
static void test_open_ignores_huge_map(void **state)
{
	struct tstate *fx = *state;
	struct state *st = open_rw(fx);
	MDB_txn *txn;
	struct rcpt r;

	put_one(st, "keep@x", RCPT_HARD, "bad-mailbox", 1);
	assert_int_equal(state_set_map_size(st, (size_t)64 << 30), 0);
	put_one(st, "keep2@x", RCPT_HARD, "bad-mailbox", 2);	/* recorded */
	state_close(st);
	st = open_rw(fx);
	assert_true(state_map_size(st) < ((size_t)1 << 30));
	assert_int_equal(state_begin(st, false, &txn), 0);
	assert_int_equal(state_rcpt_get(st, txn, "keep2@x", &r), 0);
	state_abort(txn);
	state_close(st);
}

static void test_strerror(void **state)
{
	(void)state;
	assert_non_null(strstr(state_strerror(-ENOSPC), "map full"));
	assert_string_equal(state_strerror(-ENOENT), strerror(ENOENT));
	assert_non_null(strstr(state_strerror(-EPROTO), "upgrade"));
	/* a full disk is not a full map: no caller grows the map for it */
	assert_int_equal(state_mdb_errno(ENOSPC), -EIO);
	assert_non_null(strstr(state_strerror(-EIO), "no space left on the "
						     "state's disk"));
	assert_int_equal(state_mdb_errno(MDB_MAP_FULL), -ENOSPC);
	assert_non_null(strstr(state_strerror(-ENOSPC), "map full"));
	assert_int_equal(state_mdb_errno(MDB_TXN_FULL), -E2BIG);
	assert_int_equal(state_mdb_errno(EIO), -EIO);
	assert_null(strstr(state_strerror(-EIO), "space"));
}

/* ---- the strings of the records (state_strs.c) ---- */

/* put_cat - ADDR with category CAT and a source every record shares,
   in TXN */
static void put_cat(struct state *st, MDB_txn *txn, const char *addr,
		    const char *cat)
{
	struct rcpt r;

	make_rcpt(&r, RCPT_HARD, cat, 7);
	rcpt_set_str(r.reason.source, sizeof(r.reason.source),
		     "/var/log/pmta/acct-2026-12-07-0000.csv");
	r.reason.time = 7;
	assert_int_equal(state_rcpt_put(st, txn, addr, &r), 0);
}

/* get_cat - ADDR's category (its record read in a new transaction) */
static void assert_cat(struct state *st, const char *addr, const char *cat)
{
	MDB_txn *txn;
	struct rcpt r;

	assert_int_equal(state_begin(st, false, &txn), 0);
	assert_int_equal(state_rcpt_get(st, txn, addr, &r), 0);
	state_abort(txn);
	assert_string_equal(r.last_category, cat);
	assert_string_equal(r.reason.source,
			    "/var/log/pmta/acct-2026-12-07-0000.csv");
}

/* strs_entries - the entries of the table "strs" */
static size_t strs_entries(struct state *st)
{
	MDB_txn *txn;
	MDB_stat ms;
	MDB_dbi dbi;

	assert_int_equal(state_dbi(st, "strs", &dbi), 0);
	assert_int_equal(state_begin(st, false, &txn), 0);
	assert_int_equal(mdb_stat(txn, dbi, &ms), 0);
	state_abort(txn);
	return ms.ms_entries;
}

/* record_size - the bytes of ADDR's record in the "rcpt" table */
static size_t record_size(struct state *st, const char *addr)
{
	MDB_val k = { strlen(addr), (void *)addr }, v;
	MDB_txn *txn;
	MDB_dbi dbi;

	assert_int_equal(state_dbi(st, "rcpt", &dbi), 0);
	assert_int_equal(state_begin(st, false, &txn), 0);
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	state_abort(txn);
	return v.mv_size;
}

/* strings many records share are kept once, the second time they are
   written, and read back by another opening of the state */
static void test_strings_shared(void **state)
{
	struct tstate *fx = *state;
	struct state *st = open_rw(fx);
	char addr[32];
	MDB_txn *txn;
	int i;

	assert_int_equal(state_begin(st, true, &txn), 0);
	for (i = 0; i < 50; i++) {
		snprintf(addr, sizeof(addr), "u%02d@example.com", i);
		put_cat(st, txn, addr, "bad-mailbox");
	}
	assert_int_equal(state_commit(txn), 0);
	assert_int_equal(strs_entries(st), 2);	/* the category, the path */
	/* the first record holds its strings, the others name them */
	assert_true(record_size(st, "u00@example.com") > 45);
	assert_true(record_size(st, "u01@example.com") < 30);
	assert_cat(st, "u49@example.com", "bad-mailbox");
	state_close(st);
	st = open_rw(fx);
	assert_cat(st, "u00@example.com", "bad-mailbox");
	assert_cat(st, "u01@example.com", "bad-mailbox");
	/* known already: named from the first record written */
	assert_int_equal(state_begin(st, true, &txn), 0);
	put_cat(st, txn, "new@example.com", "bad-mailbox");
	assert_int_equal(state_commit(txn), 0);
	assert_true(record_size(st, "new@example.com") < 30);
	assert_int_equal(strs_entries(st), 2);
	/* a string one record alone holds, written again and again with
	   it, is no string records share: kept in the record */
	for (i = 0; i < 3; i++) {
		assert_int_equal(state_begin(st, true, &txn), 0);
		put_cat(st, txn, "new@example.com", "new@example.com bounced");
		assert_int_equal(state_commit(txn), 0);
	}
	assert_int_equal(strs_entries(st), 2);
	assert_true(record_size(st, "new@example.com") > 25);
	/* the record of another address holding it makes it one */
	assert_int_equal(state_begin(st, true, &txn), 0);
	put_cat(st, txn, "other@example.com", "new@example.com bounced");
	assert_int_equal(state_commit(txn), 0);
	assert_int_equal(strs_entries(st), 3);
	assert_cat(st, "other@example.com", "new@example.com bounced");
	state_close(st);
	assert_int_equal(schema_of(fx->dir), STATE_SCHEMA_VERSION);
}

/* strings of one length whose first, middle and last bytes agree (the
   dictionary's memo takes them for one slot) keep their own ids: each
   read back is the one written, in a commit after they were made */
static void test_strings_alike(void **state)
{
	static const char *const cats[] = { "aXcde", "aYcde", "aZcde" };
	struct tstate *fx = *state;
	struct state *st = open_rw(fx);
	char addr[48];
	MDB_txn *txn;
	int i, round;

	for (round = 0; round < 3; round++) {
		assert_int_equal(state_begin(st, true, &txn), 0);
		for (i = 0; i < 12; i++) {
			snprintf(addr, sizeof(addr), "r%d-%02d@example.com",
				 round, i);
			put_cat(st, txn, addr, cats[i % 3]);
		}
		assert_int_equal(state_commit(txn), 0);
	}
	assert_int_equal(strs_entries(st), 4);	/* three and the path */
	for (round = 0; round < 3; round++)
		for (i = 0; i < 12; i++) {
			snprintf(addr, sizeof(addr), "r%d-%02d@example.com",
				 round, i);
			assert_cat(st, addr, cats[i % 3]);
			if (round > 0)
				assert_true(record_size(st, addr) < 30);
		}
	state_close(st);
}

static int fail_after_puts(struct state *st, MDB_txn *txn, void *arg)
{
	(void)arg;
	put_cat(st, txn, "a@example.com", "aborted-cat");
	put_cat(st, txn, "b@example.com", "aborted-cat");
	return -EINTR;
}

/* the ids an aborted transaction gave are given again, never to the
   strings it named: each string read back is the one written */
static void test_strings_abort(void **state)
{
	struct tstate *fx = *state;
	struct state *st = open_rw(fx);
	MDB_txn *txn;

	assert_int_equal(state_write(st, fail_after_puts, NULL), -EINTR);
	assert_int_equal(strs_entries(st), 0);
	assert_int_equal(state_begin(st, true, &txn), 0);
	put_cat(st, txn, "c@example.com", "second-cat");
	put_cat(st, txn, "d@example.com", "second-cat");
	put_cat(st, txn, "e@example.com", "aborted-cat");
	/* abort by hand as well, then again */
	state_abort(txn);
	assert_int_equal(state_begin(st, true, &txn), 0);
	put_cat(st, txn, "f@example.com", "third-cat");
	put_cat(st, txn, "g@example.com", "third-cat");
	put_cat(st, txn, "h@example.com", "aborted-cat");
	put_cat(st, txn, "i@example.com", "second-cat");
	assert_int_equal(state_commit(txn), 0);
	assert_cat(st, "g@example.com", "third-cat");
	assert_cat(st, "h@example.com", "aborted-cat");
	assert_cat(st, "i@example.com", "second-cat");
	assert_true(record_size(st, "i@example.com") < 30);
	state_close(st);
	st = open_rw(fx);
	assert_cat(st, "f@example.com", "third-cat");
	assert_cat(st, "h@example.com", "aborted-cat");
	assert_cat(st, "i@example.com", "second-cat");
	state_close(st);
}

/* a "strs" table whose last key is no id (damaged): records are still
   written, holding their strings */
static void test_strings_damaged_table(void **state)
{
	static const uint8_t junk[] = { 'x' };
	struct tstate *fx = *state;
	struct state *st = open_rw(fx);
	MDB_txn *txn;

	state_close(st);
	raw_put(fx->dir, "strs", "zzzzz", junk, sizeof(junk));
	st = open_rw(fx);
	assert_int_equal(state_begin(st, true, &txn), 0);
	put_cat(st, txn, "a@example.com", "some-cat");
	put_cat(st, txn, "b@example.com", "some-cat");
	assert_int_equal(state_commit(txn), 0);
	assert_true(record_size(st, "b@example.com") > 45);
	assert_cat(st, "b@example.com", "some-cat");
	assert_int_equal(strs_entries(st), 1);	/* the junk alone */
	state_close(st);
}

/* strings_child - another process reads the parent's record and names
   a string of its own */
static void strings_child(const char *dir)
{
	struct state *w = NULL;
	struct rcpt r;
	MDB_txn *txn;
	char err[512];
	int rc;

	if (state_open(&w, dir, false, err, sizeof(err)) != 0)
		_exit(2);
	if (state_begin(w, true, &txn) != 0)
		_exit(3);
	rc = state_rcpt_get(w, txn, "p2@example.com", &r);
	if (rc || strcmp(r.last_category, "parent-cat") != 0)
		_exit(4);
	make_rcpt(&r, RCPT_SOFT, "child-cat", 9);
	if (state_rcpt_put(w, txn, "c1@example.com", &r) ||
	    state_rcpt_put(w, txn, "c2@example.com", &r) ||
	    state_commit(txn))
		_exit(5);
	state_close(w);
	_exit(0);
}

/* two processes name strings in one state: each reads the other's ids
   from the tables, and new ids follow the last one given */
static void test_strings_two_processes(void **state)
{
	struct tstate *fx = *state;
	struct state *st = open_rw(fx);
	MDB_txn *txn;
	struct rcpt r;
	pid_t pid;

	assert_int_equal(state_begin(st, true, &txn), 0);
	put_cat(st, txn, "p1@example.com", "parent-cat");
	put_cat(st, txn, "p2@example.com", "parent-cat");
	assert_int_equal(state_commit(txn), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		strings_child(fx->dir);
	assert_int_equal(wait_child(pid), 0);
	assert_int_equal(state_begin(st, false, &txn), 0);
	assert_int_equal(state_rcpt_get(st, txn, "c2@example.com", &r), 0);
	state_abort(txn);
	assert_string_equal(r.last_category, "child-cat");
	assert_int_equal(strs_entries(st), 3);
	assert_int_equal(state_begin(st, true, &txn), 0);
	put_cat(st, txn, "p3@example.com", "third-cat");
	put_cat(st, txn, "p4@example.com", "third-cat");
	put_cat(st, txn, "p5@example.com", "child-cat");
	assert_int_equal(state_commit(txn), 0);
	assert_int_equal(strs_entries(st), 4);
	state_close(st);
	st = open_rw(fx);
	assert_cat(st, "p4@example.com", "third-cat");
	assert_cat(st, "p5@example.com", "child-cat");
	assert_cat(st, "p1@example.com", "parent-cat");
	state_close(st);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_put_get_del),
		T(test_foreach),
		T(test_undecodable_record),
		T(test_meta),
		T(test_files),
		T(test_files_by_content),
		T(test_readonly),
		T(test_readonly_missing),
		T(test_open_errors),
		T(test_grow),
		T(test_write),
		T(test_reserve),
		T(test_turn),
		T(test_schema_newer),
		T(test_schema_older_upgraded),
		T(test_reopen_keeps_data),
		T(test_reader_beside_writer),
		T(test_map_resized_elsewhere),
		T(test_resize_waits_for_threads),
		T(test_resize_other_state),
		T(test_map_adopted_after_readers),
		T(test_grow_fails),
		T(test_open_ignores_huge_map),
		T(test_strings_shared),
		T(test_strings_alike),
		T(test_strings_abort),
		T(test_strings_two_processes),
		T(test_strings_damaged_table),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
