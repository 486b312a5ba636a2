/*
 * notify_queue.h - the operator's mail queue: complaints and unsubscribes
 * waiting to be listed in the next digest (or mailed one by one), kept in
 * the state's "notify" table.
 *
 * An item is added in the transaction that changed the recipient, so an
 * event is never acted on without being reported; items leave the queue
 * only when the mail that lists them was accepted by the SMTP server.
 * Keys are a big-endian sequence (meta "notify.seq"), so the queue is
 * read oldest first.  Values are a versioned little-endian layout
 * (NOTIFY_CODEC_VERSION), strings length-prefixed, never a struct dump.
 */
#ifndef BOUNCED_NOTIFY_QUEUE_H
#define BOUNCED_NOTIFY_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "notify.h"

#define NOTIFY_CODEC_VERSION 1
#define NOTIFY_ENCODED_MAX 4096

struct state;

/* notify_item_encode - IT into BUF; 0 or -ENOBUFS */
int notify_item_encode(const struct notify_item *it, uint8_t *buf, size_t cap,
		       size_t *len);
/* notify_item_decode - 0, -EPROTO (unknown version) or -EINVAL */
int notify_item_decode(const uint8_t *buf, size_t len, struct notify_item *it);

/* notify_queue_add - IT at the end of the queue, in TXN; 0 or -errno */
int notify_queue_add(struct state *st, MDB_txn *txn,
		     const struct notify_item *it);

/*
 * notify_queue_peek - the oldest items, at most MAX of them, into OUT (*N
 * set); *LAST gets the sequence of the last one read (for
 * notify_queue_drop) and *TOTAL (may be NULL) the number queued.  Items
 * that do not decode are skipped with a warning (and dropped with the
 * others).  0 or -errno; an empty queue is 0 with *N = 0.
 */
int notify_queue_peek(struct state *st, MDB_txn *txn, struct notify_item *out,
		      size_t max, size_t *n, uint64_t *last, uint64_t *total);

/* notify_queue_drop - remove the items up to sequence LAST; 0 or -errno */
int notify_queue_drop(struct state *st, MDB_txn *txn, uint64_t last);

#endif
