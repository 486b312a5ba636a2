/*
 * provider_pause.h - which providers are paused, kept in the state so
 * that every tool sees it.
 *
 * A provider is paused when it refuses our credentials, keys or clock
 * (a verdict of PROVIDER_PAUSE): its actions stay queued, nothing is sent
 * to it but one probe a minute, and the pause ends with the first answer
 * it judges again.  The record (meta key "pause/NAME": i64 since in ms,
 * then the reason) is written by the dispatcher in the transaction of the
 * result that paused it, removed in the one that ends it, and read by
 * bouncectl queue and stats.  The one that ends it also records when
 * ("resumed/NAME"): an action's max-age runs from its creation or from
 * the end of its provider's last pause, whichever is later, and not while
 * the provider is paused (docs/PROVIDERS.md).
 */
#ifndef BOUNCED_PROVIDER_PAUSE_H
#define BOUNCED_PROVIDER_PAUSE_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

struct state;

#define PAUSE_WHY_MAX 256

/* provider_pause_put - NAME paused since SINCE_MS because of WHY; 0 or -errno */
int provider_pause_put(struct state *st, MDB_txn *txn, const char *name,
		       int64_t since_ms, const char *why);
/* provider_pause_get - 0 (*SINCE_MS and WHY set), -ENOENT (not paused)
   or -errno */
int provider_pause_get(struct state *st, MDB_txn *txn, const char *name,
		       int64_t *since_ms, char *why, size_t whylen);
/* provider_pause_clear - NAME no longer paused; 0 or -errno */
int provider_pause_clear(struct state *st, MDB_txn *txn, const char *name);

/* provider_resumed_put - NAME's last pause ended at ENDED_MS (the actions
   it held are given a whole max-age from then: a pause does not age
   them); 0 or -errno */
int provider_resumed_put(struct state *st, MDB_txn *txn, const char *name,
			 int64_t ended_ms);
/* provider_resumed_get - 0 (*ENDED_MS set), -ENOENT (never paused and
   resumed), -EINVAL (unreadable) or -errno; *ENDED_MS 0 but on 0 */
int provider_resumed_get(struct state *st, MDB_txn *txn, const char *name,
			 int64_t *ended_ms);

#endif
