/*
 * tstate.c - a throw-away state directory for unit tests (tstate.h).
 * Failures are reported on stderr and returned, for fixtures to fail on.
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "tstate.h"
#include "ttmp.h"

/* tstate_open - state_open with its message on stderr */
int tstate_open(struct state **st, const char *dir, bool readonly)
{
	char err[512];
	int rc;

	*st = NULL;
	rc = state_open(st, dir, readonly, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "state_open %s: %s\n", dir, err);
	return rc;
}

/* tstate_prepare - the temporary directory and TMP/state's name */
int tstate_prepare(struct tstate *t, const char *prefix)
{
	memset(t, 0, sizeof(*t));
	t->tmp = ttmp_make(prefix);
	if (t->tmp == NULL)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "%s/state", t->tmp);
	return 0;
}

/* tstate_setup - a fresh state, open read-write */
int tstate_setup(struct tstate *t, const char *prefix)
{
	if (tstate_prepare(t, prefix) != 0)
		return -1;
	if (tstate_open(&t->st, t->dir, false) != 0)
		return -1;
	return 0;
}

/* tstate_reopen - close and open again */
int tstate_reopen(struct tstate *t)
{
	state_close(t->st);
	t->st = NULL;
	return tstate_open(&t->st, t->dir, false) == 0 ? 0 : -1;
}

/* tstate_teardown - close and remove everything */
int tstate_teardown(struct tstate *t)
{
	if (t->st)
		state_close(t->st);
	t->st = NULL;
	return ttmp_remove(&t->tmp);
}

int tstate_fixture_new(void **state, const char *prefix, bool open)
{
	struct tstate *t = g_new0(struct tstate, 1);

	*state = t;
	return open ? tstate_setup(t, prefix) : tstate_prepare(t, prefix);
}

int tstate_fixture_free(void **state)
{
	struct tstate *t = *state;
	int rc = tstate_teardown(t);

	g_free(t);
	*state = NULL;
	return rc;
}

int tstate_put_raw(struct state *st, MDB_txn *txn, const char *table,
		   const void *key, size_t klen, const void *val, size_t vlen)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	MDB_dbi dbi;
	int rc = state_dbi(st, table, &dbi);

	if (rc)
		return rc;
	rc = mdb_put(txn, dbi, &k, &v, 0);
	return rc ? state_mdb_errno(rc) : 0;
}
