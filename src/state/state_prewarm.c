/*
 * state_prewarm.c - pages dirtied in a transaction that is aborted, so
 * that LMDB holds their memory ready for the commits to come
 * (state_prewarm.h).
 *
 * Each page is the overflow page of one value in the meta table, under
 * keys that sort after every name the table holds (a prefix byte no name
 * has, then a counter): appended, one overflow page and a share of a leaf
 * per value.  LMDB fills a fresh page copy with zeros when it allocates
 * it, so each new page is faulted in here.  The transaction is aborted:
 * the table, the free list and the map are as they were.
 */
#include <stdint.h>

#include <lmdb.h>

#include "state.h"
#include "state_prewarm.h"

/* the stop function is asked this often (pages) */
#define PREWARM_ASK_EVERY 256

int state_prewarm(struct state *st, size_t pages, state_prewarm_stop_fn stop,
		  void *arg, size_t *done)
{
	MDB_txn *txn = NULL;
	MDB_stat ms;
	MDB_dbi meta;
	MDB_val k, v;
	uint8_t key[1 + 8];
	size_t i = 0;
	int rc, b;

	*done = 0;
	if (pages == 0)
		return 0;
	rc = state_dbi(st, "meta", &meta);
	if (rc)
		return rc;
	rc = state_begin(st, true, &txn);
	if (rc)
		return rc;
	if (mdb_env_stat(mdb_txn_env(txn), &ms) != 0 || ms.ms_psize < 1024)
		goto out;
	/* larger than a node may hold (half a page), within one overflow
	   page (a page less its header) */
	v.mv_size = ms.ms_psize / 2 + ms.ms_psize / 4;
	k.mv_size = sizeof(key);
	k.mv_data = key;
	key[0] = 0xff;
	for (i = 0; i < pages; i++) {
		if (i % PREWARM_ASK_EVERY == 0 &&
		    (state_waited_for(st) || (stop && stop(arg))))
			break;
		for (b = 0; b < 8; b++)
			key[1 + b] = (uint8_t)(i >> (56 - 8 * b));
		v.mv_data = NULL;
		/* a full map or transaction ends it: what was dirtied is
		   ready all the same */
		if (mdb_put(txn, meta, &k, &v, MDB_APPEND | MDB_RESERVE) != 0)
			break;
	}
out:
	state_abort(txn);
	*done = i;
	return 0;
}
