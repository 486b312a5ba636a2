/*
 * tstate.h - a state directory for a unit test: made under a fresh
 * temporary directory, opened read-write, and removed with everything
 * in it at the end.  Shared by the unit tests that need LMDB.
 */
#ifndef BOUNCED_TSTATE_H
#define BOUNCED_TSTATE_H

#include <limits.h>

#include "state.h"

struct tstate {
	char *tmp;		/* the temporary directory */
	char dir[PATH_MAX];	/* TMP/state */
	struct state *st;	/* open read-write */
};

/* tstate_setup - a fresh state for a test named PREFIX; 0 or -1 (a
   message on stderr) */
int tstate_setup(struct tstate *t, const char *prefix);
/* tstate_reopen - close and open again (a restart); 0 or -1 */
int tstate_reopen(struct tstate *t);
/* tstate_teardown - close and remove everything; 0 or -1 */
int tstate_teardown(struct tstate *t);
/* tstate_rm_tree - remove PATH and what is under it; 0 or -1 */
int tstate_rm_tree(const char *path);

#endif
