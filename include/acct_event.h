/*
 * acct_event.h - one accounting CSV row to an event (classified later, by
 * ingest, like the events of every input).
 */
#ifndef BOUNCED_ACCT_EVENT_H
#define BOUNCED_ACCT_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acct_fields.h"
#include "event.h"

enum acct_event_result {
	ACCT_EVENT_OK = 0,	/* *ev is a record for a recipient */
	ACCT_EVENT_SKIP = 1,	/* a type bounced does not act on (counted) */
	ACCT_EVENT_NORCPT = 2,	/* an f record with no recipient (counted) */
	ACCT_EVENT_BAD = -1,	/* a bad line: WHY says what */
};

/*
 * acct_event_from_row - fill EV from ROW under MAP.  DEFAULT_TIME is used
 * when the row has no time at all.  Strings of EV point into ROW.  On
 * ACCT_EVENT_BAD, WHY (WHYLEN bytes) says what is wrong with the row.
 * The normalised recipient is written to RCPT (ADDR_MAX + 1 bytes) and
 * ev->rcpt points to it; the recipient as written, when it differs from
 * that in ASCII case only, to WRITTEN (ADDR_MAX + 1 bytes; else "") and
 * x->rcpt_written points to it; the rarer columns (provider ids, the
 * reported mail's subject) to X, and ev->x points to it when the row has
 * any.
 */
enum acct_event_result acct_event_from_row(const struct acct_map *map,
					   const struct csv_row *row,
					   int64_t default_time,
					   struct event *ev, char *rcpt,
					   char *written,
					   struct event_extra *x, char *why,
					   size_t whylen);

/* acct_type_kind - "b" -> EV_BOUNCE …; EV_SKIPPED for known skipped and
   unknown types, EV_NONE for an empty type */
enum event_kind acct_type_kind(const char *type, size_t len);

/* acct_type_known - is TYPE (LEN bytes, blanks around it allowed) a
   record type PowerMTA writes: d, b, rb, f, t, tq, r, rs (any case)? */
bool acct_type_known(const char *type, size_t len);

#endif
