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

struct batch_event {
	struct batch_event *next;
	struct event ev;	/* rcpt unused (see batch_rcpt); strings in arena */
	int outcome;		/* enum rcpt_outcome, set when applied */
	uint32_t routed;	/* bit i: provider i was given an action */
	uint32_t queued;	/* duplicates: bit i, provider i was given an
				   action it had not had (ingest counts it) */
};

struct batch_rcpt {
	const char *addr;	/* normalised address, in the arena */
	size_t len;		/* its length */
	struct batch_event *first, *last;
	bool suppressed;	/* a suppressing event is queued: the rest are
				   dups, kept as events only when they are
				   bounces of a campaign no kept event names
				   (each campaign gets its bounce record) */
	struct rcpt_dups dups;	/* events after it, counted only */
};

struct batch;

struct batch *batch_new(void);
void batch_free(struct batch *b);

/* batch_prefetch - ADDR's slot asked of the memory now, while the caller
   does other work before its batch_add (ADDR must not change until then;
   the next batch_add of that pointer uses the hash computed here) */
void batch_prefetch(struct batch *b, const char *addr);

/* batch_add - copy EV (strings bounded to what a record keeps); 0 or -ENOMEM */
int batch_add(struct batch *b, const struct event *ev);

/* batch_events - events added since the last clear */
size_t batch_events(const struct batch *b);

/*
 * batch_sorted - the recipients in address order into *OUT (*N of them);
 * the array belongs to the batch and is valid until batch_clear.
 * Returns 0 or -ENOMEM.
 */
int batch_sorted(struct batch *b, struct batch_rcpt ***out, size_t *n);

/* batch_clear - forget everything, keep memory for the next batch */
void batch_clear(struct batch *b);

#endif
