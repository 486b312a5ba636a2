/*
 * batch.h - the records of one commit, grouped per recipient.
 *
 * Ingest parses records into a batch; at commit time the batch hands out
 * its recipients sorted by address (LMDB writes fastest in key order), each
 * with its events in arrival order.  Strings are copied into an arena owned
 * by the batch, so memory is bounded by the batch size, not the input.
 */
#ifndef BOUNCED_BATCH_H
#define BOUNCED_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "rcpt_rules.h"

/*
 * An event of a recipient.  Deliveries (the bulk of a sending host's log:
 * each asks for nothing but its time) are kept compact: a node of 64
 * bytes (the fields before DLV_TIMES) holds the times of up to
 * BATCH_DLV_CHUNK deliveries that came in a row, in arrival order, with
 * DLV set; EV is not there.
 */
#define BATCH_DLV_CHUNK 5

struct batch_event {
	struct batch_event *next;
	bool dlv;		/* compact deliveries: N_DLV times in
				   DLV_TIMES */
	uint8_t n_dlv;
	bool hold_unstored;	/* a release whose hold this commit did not
				   store (both in one transaction: the store
				   never had it, ingest_commit.c) */
	bool dropped_again;	/* a hard bounce an incident held and did
				   not apply, read again (rcpt_dropped.h):
				   applied as a duplicate */
	int outcome;		/* enum rcpt_outcome, set when applied (a
				   whole event) */
	uint32_t routed;	/* bit i: provider i was given an action */
	uint32_t queued;	/* duplicates: bit i, provider i was given an
				   action it had not had (ingest counts it) */
	union {
		struct event ev;	/* rcpt unused (see batch_rcpt);
					   strings in arena; absent when
					   DLV */
		int64_t dlv_times[BATCH_DLV_CHUNK];	/* DLV: record times */
	};
};

struct batch_rcpt {
	const char *addr;	/* normalised address, in the arena right
				   after this entry (one cache line holds
				   both for most addresses) */
	struct batch_event *head;	/* its events, newest first while the
					   batch fills (adding touches no older
					   node); batch_rcpt_events() turns
					   them to arrival order */
	struct rcpt_dups *dups;	/* events after it, counted only (NULL
				   until the first) */
	uint32_t len;		/* the address's length */
	uint32_t n_dlv;		/* compact deliveries among its events */
	uint32_t n_full;	/* events kept whole */
	uint8_t head_room;	/* deliveries HEAD (a compact node) can still
				   take; 0 when HEAD is not one */
	bool ordered;		/* HEAD is in arrival order */
	bool suppressed;	/* a suppressing event is queued: the rest are
				   dups, kept as events only when they are
				   bounces of a campaign no kept event names
				   (each campaign gets its bounce record) */
};

struct batch;
struct batch_block;

struct batch *batch_new(void);
void batch_free(struct batch *b);

/*
 * Arena blocks made ready by another thread: a block's pages are touched
 * (faulted in and zeroed by the kernel) where batch_block_ready runs, not
 * in the thread that fills the batch.  BATCH_BLOCK_FN answers a ready
 * block or NULL (the batch then makes its own); what it answers is the
 * batch's from then on (freed with it).
 */
typedef struct batch_block *(*batch_block_fn)(void *arg);

/* batch_set_blocks - B takes its new arena blocks from FN (NULL: makes
   them itself) */
void batch_set_blocks(struct batch *b, batch_block_fn fn, void *arg);

/* batch_block_ready - a new arena block, its pages touched; NULL on
   ENOMEM (any thread) */
struct batch_block *batch_block_ready(void);

/* batch_block_free - a block no batch took */
void batch_block_free(struct batch_block *blk);

/* batch_prefetch - ADDR's hash made and its slot asked of the memory
   now, while the caller does other work before its batch_add (ADDR must
   not change until then; the next batch_add of that pointer uses the
   hash computed here) */
void batch_prefetch(struct batch *b, const char *addr);

/* batch_add - copy EV (strings bounded to what a record keeps); 0 or
   -ENOMEM.  An event neither held nor released (a delivery as its time
   only) is held back and its address looked up with the next few, in
   order: an error of that lookup (-ENOMEM) is the answer of a later call
   (batch_add, batch_flush, batch_sorted) */
int batch_add(struct batch *b, const struct event *ev);

/* batch_add_release - the release by incident ID of HELD, a hard bounce
   held in this batch (as batch_last gave it), added after the events
   so far: its event as the batch keeps it, its strings not copied again
   and its address not looked up again; SRC_HASH and MON_GEN as for any
   event.  0 or -ENOMEM */
int batch_add_release(struct batch *b, const struct batch_event *held,
		      uint64_t id, uint32_t src_hash, uint64_t mon_gen);

/* batch_last - the event the last batch_add kept whole (not a delivery,
   nor one counted only), or NULL: valid until the batch is cleared.  A
   whole event held back is looked up first (with those before it) */
const struct batch_event *batch_last(struct batch *b);

/* batch_flush - the events held back into the batch (before it is
   handed to another thread); 0 or -ENOMEM */
int batch_flush(struct batch *b);

/* batch_events - events added since the last clear */
size_t batch_events(const struct batch *b);

/* batch_addresses - distinct addresses since the last clear (after
   batch_flush: held-back deliveries are not counted yet) */
size_t batch_addresses(const struct batch *b);

/*
 * batch_sorted - the recipients in address order into *OUT (*N of them);
 * the array belongs to the batch and is valid until batch_clear.
 * Returns 0 or -ENOMEM.
 */
int batch_sorted(struct batch *b, struct batch_rcpt ***out, size_t *n);

/* batch_rcpt_events - BR's events in arrival order (the list is turned
   round in place the first time; no batch_add of BR's address after) */
struct batch_event *batch_rcpt_events(struct batch_rcpt *br);

/* batch_clear - forget everything, keep memory for the next batch */
void batch_clear(struct batch *b);

#endif
