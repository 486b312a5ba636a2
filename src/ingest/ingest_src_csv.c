/*
 * ingest_src_csv.c - the source of a PowerMTA accounting file: its rows
 * (ingest_rows.c) become events through the column map (acct_fields.c)
 * and acct_event.c.
 *
 * A header line (first field "type") sets the column map, also before the
 * resume point; a file without one is read in the configured field order
 * ([bounced] acct-fields).  A header line without type and rcpt columns,
 * and a row acct_event refuses, is a bad line.  Opened to detect (bounced
 * process without --acct), the first row may show a list of addresses
 * instead: the source then reads the rest as a list (ingest_src_list.c).
 */
#include <string.h>

#include "acct_event.h"
#include "ingest_src.h"
#include "log.h"

/* ingest_csv_row - one row of an accounting file */
static int ingest_csv_row(struct ingest_rows *r, const struct csv_row *row,
			  bool old, struct event *ev, struct ingest_note *note)
{
	if (!r->first && r->detect && ingest_src_list_detect(row)) {
		log_info("ingest", "%s: a list of addresses: every address is "
			 "unsubscribed", r->name);
		r->row = ingest_src_list_row;
		return r->row(r, row, old, ev, note);
	}
	if (acct_row_is_header(row)) {
		if (acct_map_from_row(&r->map, row) != 0 && !old) {
			note->line = row->line;
			note->why = "header line without type and rcpt columns";
			return INGEST_NEXT_BAD;
		}
		return 0;
	}
	if (old)
		return 0;	/* taken before: only the column map matters */
	switch (acct_event_from_row(&r->map, row, r->default_time, ev, r->rcpt,
				    &r->x, r->why, sizeof(r->why))) {
	case ACCT_EVENT_BAD:
		note->line = row->line;
		note->why = r->why;
		return INGEST_NEXT_BAD;
	case ACCT_EVENT_SKIP:
		return INGEST_NEXT_SKIPPED;
	case ACCT_EVENT_NORCPT:
		note->line = row->line;
		return INGEST_NEXT_NORCPT;
	case ACCT_EVENT_OK:
		break;
	}
	ev->source = r->source;
	return INGEST_NEXT_EVENT;
}

/* ingest_src_csv_new - an accounting file, maybe found to be a list */
int ingest_src_csv_new(const struct ingest_src_args *a, bool detect,
		       struct ingest_src **out)
{
	struct ingest_rows *r = NULL;
	int rc = ingest_rows_new(a, ingest_csv_row, &r);

	*out = NULL;
	if (rc)
		return rc;
	r->detect = detect;
	*out = &r->src;
	return 0;
}
