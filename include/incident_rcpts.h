/*
 * incident_rcpts.h - the recipients an open incident protects, in LMDB,
 * so that each counts once in its "addresses protected" across restarts.
 *
 * Table "protected": key the incident id (8 bytes big-endian) then the
 * first hash of the chunk (8 bytes big-endian); value the address hashes
 * (mon_hash64 of the recipient) the incident came to protect in one
 * commit, 8 bytes little-endian each, at most INCIDENT_RCPTS_CHUNK.  The
 * first hash names the chunk: an incident protects an address once, so
 * no two of its chunks start alike, and a commit tried again writes the
 * same chunks again.  An incident's chunks are deleted when it ends
 * (closed by the monitor, released or discarded by the operator): the
 * table holds open incidents only.
 */
#ifndef BOUNCED_INCIDENT_RCPTS_H
#define BOUNCED_INCIDENT_RCPTS_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"

/* hashes in one value: 510 fill one LMDB overflow page (4,096 bytes
   less its 16-byte header) */
#define INCIDENT_RCPTS_CHUNK 510

/* incident_rcpts_add - the N hashes H, protected by incident ID, in
   chunks; 0 or -errno */
int incident_rcpts_add(struct state *st, MDB_txn *txn, uint64_t id,
		       const uint64_t *h, size_t n);

/* incident_rcpts_foreach - CB for every hash kept for ID (none for a
   read-only state written before the table existed); 0 or -errno.  A
   value that is not a whole number of hashes is skipped. */
typedef void (*incident_rcpts_cb)(uint64_t hash, void *arg);
int incident_rcpts_foreach(struct state *st, MDB_txn *txn, uint64_t id,
			   incident_rcpts_cb cb, void *arg);

/* incident_rcpts_del - every chunk of ID gone; 0 (also when there was
   none) or -errno */
int incident_rcpts_del(struct state *st, MDB_txn *txn, uint64_t id);

#endif
