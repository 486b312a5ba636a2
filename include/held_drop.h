/*
 * held_drop.h - a hard bounce an incident held and does not apply (the
 * operator discarded the incident, or a delivery to the address dropped
 * it), kept on its address (rcpt_dropped.h), so that the bounce read
 * again applies nothing.
 */
#ifndef BOUNCED_HELD_DROP_H
#define BOUNCED_HELD_DROP_H

#include <stdint.h>

#include <lmdb.h>

#include "incident_store.h"

struct state;

/*
 * held_drop - H, held by incident ID of the source of hash SRC
 * (monitor_source_hash) that covers from FROM, not applied: kept on its
 * address's record in TXN (a record that is missing or does not decode is
 * started anew, as ingest does), which is written only when it changed.
 * 0 or -errno.
 */
int held_drop(struct state *st, MDB_txn *txn, const struct incident_held *h,
	      uint64_t id, uint32_t src, int64_t from);

#endif
