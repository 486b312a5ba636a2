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
 * bouncectl queue and stats.
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

#endif
