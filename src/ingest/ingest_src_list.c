/*
 * ingest_src_list.c - the source of an address list: the first column of
 * each row (ingest_rows.c) is an address, and every address becomes an
 * unsubscribe event (EV_LIST) dated by the file.
 *
 * A first line "email" or "address" is a header and skipped; any other
 * first column that is no address is a bad line.  ingest_src_list_detect
 * tells an accounting source whether its first row shows a list instead.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "acct_event.h"
#include "addr.h"
#include "ingest_src.h"

/* ingest_src_list_detect - an address where an accounting file has its
   record type (not a header, not a type bounced knows) */
bool ingest_src_list_detect(const struct csv_row *row)
{
	char tmp[ADDR_MAX + 1];
	enum event_kind k;

	if (acct_row_is_header(row))
		return false;
	k = acct_type_kind(row->fields[0], row->lens[0]);
	if (k != EV_SKIPPED && k != EV_NONE)
		return false;
	return addr_normalise(row->fields[0], row->lens[0], tmp,
			      sizeof(tmp)) > 0;
}

/* ingest_src_list_row - a line of an address list */
int ingest_src_list_row(struct ingest_rows *r, const struct csv_row *row,
			bool old, struct event *ev, struct ingest_note *note)
{
	if (old)
		return 0;
	if (addr_normalise(row->fields[0], row->lens[0], r->rcpt,
			   sizeof(r->rcpt)) < 0) {
		char show[80];

		snprintf(show, sizeof(show), "%.*s",
			 (int)(row->lens[0] > 64 ? 64 : row->lens[0]),
			 row->fields[0]);
		if (row->line == 1 && (strcasecmp(show, "email") == 0 ||
				       strcasecmp(show, "address") == 0))
			return 0; /* a header line */
		note->line = row->line;
		note->why = "not an address";
		return INGEST_NEXT_BAD;
	}
	memset(ev, 0, sizeof(*ev));
	ev->kind = EV_LIST;
	ev->rcpt = r->rcpt;
	ev->time = r->default_time;
	ev->source = r->source;
	ev->line = row->line;
	return INGEST_NEXT_EVENT;
}

/* ingest_src_list_new - a list of addresses */
int ingest_src_list_new(const struct ingest_src_args *a,
			struct ingest_src **out)
{
	struct ingest_rows *r = NULL;
	int rc = ingest_rows_new(a, ingest_src_list_row, &r);

	*out = rc ? NULL : &r->src;
	return rc;
}
