/*
 * rcpt_dropped.h - the hard bounces of an address that an incident held
 * and did not apply, kept on its record (struct rcpt_dropped), so that
 * reading them again applies nothing.
 *
 * An incident holds the hard bounces of its source and destination; when
 * the operator discards it (bouncectl incident discard), or a delivery
 * to the address drops the bounce held (the address takes our mail), the
 * bounce is not applied.  The records are still in the accounting file,
 * and a file can be read again: bounced process --reprocess, a copy under
 * another name whose first bytes differ, the file kept beside a pipe and
 * taken by hand after the pipe failed, a writer of the pipe that sends
 * records again.  The incident may be long over by then, so nothing holds
 * the bounce again and it would be applied: the address unsubscribed
 * against the operator's word.
 *
 * So the record keeps, per source, the span of record times its dropped
 * holds cover: from the incident's first bounce to the bounce held (the
 * latest the store kept of the address: a later hold replaces an
 * earlier one).  A hard bounce of the address from that source within
 * the span, while the address is not suppressed, is the same bounce (or
 * one the hold replaced) read again: a duplicate.  A span covers one
 * source's bounces only, and times the incident held: a hard bounce of a
 * later day, or from another source, is applied as any other.
 *
 * Pure functions of the record; at most RCPT_DROPPED_MAX spans a record
 * (about 15 bytes each in the state): spans of a source that meet are
 * joined, and when a new span finds no room, the one that ends first
 * goes.
 */
#ifndef BOUNCED_RCPT_DROPPED_H
#define BOUNCED_RCPT_DROPPED_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "rcpt.h"
#include "rcpt_rules.h"

/*
 * rcpt_dropped_add - the hard bounce at T of R's address, from the source
 * of hash SRC, held by incident ID (which covers from FROM) and not
 * applied: into R's spans.  Whether R changed (not for SRC 0, which no
 * incident has, nor for a span R covers already).
 */
bool rcpt_dropped_add(struct rcpt *r, uint64_t id, uint32_t src,
		      int64_t from, int64_t t);

/* rcpt_dropped_covers - is a hard bounce at T from the source of hash SRC
   inside one of R's spans?  (False for SRC 0.) */
/* rcpt_dropped_count - R's spans, bounded by RCPT_DROPPED_MAX (what a
   record decoded or made by rcpt_dropped_add never exceeds) */
uint32_t rcpt_dropped_count(const struct rcpt *r);

bool rcpt_dropped_covers(const struct rcpt *r, uint32_t src, int64_t t);

/*
 * rcpt_dropped_apply - EV, a hard bounce rcpt_dropped_covers says R's
 * address dropped, read again: counted as the duplicate it is (as a soft
 * bounce kept already is: its counters and category), the status left as
 * it is.  OUT_DUPLICATE.
 */
enum rcpt_outcome rcpt_dropped_apply(struct rcpt *r, const struct event *ev);

#endif
