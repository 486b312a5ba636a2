/*
 * outbox.h - the durable queue of provider actions (LMDB tables "outbox"
 * and "dead").
 *
 * outbox: key = due time (ms, big-endian u64) + id (big-endian u64), so a
 * cursor walk from the start meets the actions in the order they fall due.
 * dead: key = id (big-endian u64); value = the action, last_error saying why
 * it failed for good.  Ids come from the meta counter "seq.action".  Every
 * function works inside the caller's transaction, so enqueuing an action
 * commits together with the recipient change that caused it.
 * Returns 0 or negative errno (-ENOENT: no such action).
 */
#ifndef BOUNCED_OUTBOX_H
#define BOUNCED_OUTBOX_H

#include <stdint.h>

#include <lmdb.h>

#include "action.h"
#include "state.h"

/* outbox_enqueue - assign A an id (and root = id when 0), created_ms =
   NOW_MS when 0, due_ms = NOW_MS when 0, and store it */
int outbox_enqueue(struct state *st, MDB_txn *txn, struct action *a,
		   int64_t now_ms);

/* outbox_update - rewrite A under its current key (due_ms, id) */
int outbox_update(struct state *st, MDB_txn *txn, const struct action *a);

/* outbox_reschedule - move A to NEW_DUE_MS (a->due_ms updated) */
int outbox_reschedule(struct state *st, MDB_txn *txn, struct action *a,
		      int64_t new_due_ms);

/* outbox_remove - delete A (by due_ms, id) */
int outbox_remove(struct state *st, MDB_txn *txn, const struct action *a);

/* outbox_kill - move A to the dead table with WHY as last_error */
int outbox_kill(struct state *st, MDB_txn *txn, struct action *a,
		const char *why);

/* outbox_revive - move dead action ID back to the outbox, due now,
   attempts reset; -ENOENT when there is none */
int outbox_revive(struct state *st, MDB_txn *txn, uint64_t id,
		  int64_t now_ms);

/*
 * outbox_foreach - every pending action in due order (UNTIL_MS < 0: all;
 * else only those due at or before it); outbox_dead_foreach - every dead
 * one in id order.  CB returns 0 to go on, other values stop and are
 * returned.  A record that does not decode is skipped with a warning.
 */
typedef int (*outbox_cb)(const struct action *a, void *arg);
int outbox_foreach(struct state *st, MDB_txn *txn, int64_t until_ms,
		   outbox_cb cb, void *arg);
int outbox_dead_foreach(struct state *st, MDB_txn *txn, outbox_cb cb,
			void *arg);

/* outbox_next_due - the earliest due time; -ENOENT when empty */
int outbox_next_due(struct state *st, MDB_txn *txn, int64_t *due_ms);

/* outbox_counts - pending and dead actions */
int outbox_counts(struct state *st, MDB_txn *txn, uint64_t *pending,
		  uint64_t *dead);

#endif
