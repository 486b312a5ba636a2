/*
 * fail_commit.c - a full state disk, for the integration tests: loaded
 * with LD_PRELOAD, LMDB's mdb_txn_commit() aborts the transaction and
 * answers ENOSPC while the file named by $BOUNCED_TEST_FAIL_COMMIT
 * exists (the test creates and removes it to fill and free the disk),
 * and commits as LMDB does otherwise.  Built apart from bounced
 * (SConstruct), never installed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct MDB_txn MDB_txn;

extern void mdb_txn_abort(MDB_txn *txn);

int mdb_txn_commit(MDB_txn *txn)
{
	static int (*real)(MDB_txn *);
	const char *trigger = getenv("BOUNCED_TEST_FAIL_COMMIT");

	if (trigger && *trigger && access(trigger, F_OK) == 0) {
		mdb_txn_abort(txn);
		return ENOSPC;
	}
	if (!real)
		real = (int (*)(MDB_txn *))dlsym(RTLD_NEXT, "mdb_txn_commit");
	return real(txn);
}
