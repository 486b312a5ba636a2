/*
 * tstate.h - a state directory for a unit test: made under a fresh
 * temporary directory (ttmp.h), opened read-write, and removed with
 * everything in it at the end.  Shared by the unit tests that need LMDB.
 */
#ifndef BOUNCED_TSTATE_H
#define BOUNCED_TSTATE_H

#include <limits.h>
#include <stdbool.h>

#include "state.h"

struct tstate {
	char *tmp;		/* the temporary directory */
	char dir[PATH_MAX];	/* TMP/state */
	struct state *st;	/* open read-write, or NULL */
};

/* tstate_prepare - a fresh temporary directory and the name of a state in
   it, nothing opened (for tests of the opening itself); 0 or -1 (a
   message on stderr) */
int tstate_prepare(struct tstate *t, const char *prefix);
/* tstate_setup - a fresh state for a test named PREFIX; 0 or -1 (a
   message on stderr) */
int tstate_setup(struct tstate *t, const char *prefix);
/* tstate_reopen - close and open again (a restart); 0 or -1 */
int tstate_reopen(struct tstate *t);
/* tstate_teardown - close and remove everything; 0 or -1 */
int tstate_teardown(struct tstate *t);
/* tstate_fixture_new / tstate_fixture_free - a cmocka fixture that is a
   struct tstate alone: *STATE a new one for a test named PREFIX, opened
   (tstate_setup) or, OPEN false, only prepared (tstate_prepare); and
   torn down and freed.  0 or -1 */
int tstate_fixture_new(void **state, const char *prefix, bool open);
int tstate_fixture_free(void **state);
/* tstate_open - open the state in DIR (read-only when READONLY) into *ST;
   0 or state_open's error, with the message on stderr */
int tstate_open(struct state **st, const char *dir, bool readonly);

/* tstate_put_raw - VAL (VLEN bytes) under KEY (KLEN bytes) in TABLE, in
   TXN, as it is: a record a later release or a damage would leave; 0 or
   -errno */
int tstate_put_raw(struct state *st, MDB_txn *txn, const char *table,
		   const void *key, size_t klen, const void *val, size_t vlen);

#endif
