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
 * outbox_journal: key = a number (big-endian u64, rising); value = the
 * outbox key (due, id) and the provider of every action enqueued or
 * revived, so the dispatcher learns of what any process queued without
 * walking the outbox (its schedule in memory, dispatch_sched.c).
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

/* outbox_dead_remove - delete dead action ID; -ENOENT when there is
   none */
int outbox_dead_remove(struct state *st, MDB_txn *txn, uint64_t id);

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

/* outbox_get - the pending action under (DUE_MS, ID) into A; -ENOENT
   when there is none, -EINVAL / -EPROTO when it does not decode */
int outbox_get(struct state *st, MDB_txn *txn, int64_t due_ms, uint64_t id,
	       struct action *a);

/*
 * The journal of new outbox keys (written by outbox_enqueue and
 * outbox_revive).  outbox_journal_read - CB(due_ms, id, provider, ARG) for
 * every entry numbered above AFTER, in order; *LAST is set to the number
 * of the last one read (left alone when none).  CB returns 0 to go on.
 * outbox_journal_last - the newest entry's number (0 when empty).
 * outbox_journal_prune - delete the entries numbered below BELOW (the
 * newest always stays: numbering goes on from it).  A read-only state
 * without the journal reads as empty.
 */
typedef int (*outbox_journal_cb)(int64_t due_ms, uint64_t id,
				 const char *provider, void *arg);
int outbox_journal_read(struct state *st, MDB_txn *txn, uint64_t after,
			outbox_journal_cb cb, void *arg, uint64_t *last);
int outbox_journal_last(struct state *st, MDB_txn *txn, uint64_t *last);
int outbox_journal_prune(struct state *st, MDB_txn *txn, uint64_t below);

/* outbox_counts - pending and dead actions */
int outbox_counts(struct state *st, MDB_txn *txn, uint64_t *pending,
		  uint64_t *dead);

#endif
