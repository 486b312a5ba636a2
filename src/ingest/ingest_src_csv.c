/*
 * ingest_src_csv.c - the source of a PowerMTA accounting file: its rows
 * (ingest_rows.c) become events through the column map (acct_fields.c)
 * and acct_event.c.
 *
 * A header line (first field "type", or "#type") sets the column map, also
 * before the resume point; a file without one is read in the configured
 * field order ([bounced] acct-fields).  A line whose type field starts
 * with '#' is a comment: passed over, counted nowhere.  A header line needs a type column only (a
 * file of t and tq records has no rcpt); a row acct_event refuses is a
 * bad line.  Opened to detect (bounced
 * process without --acct), the first row may show a list of addresses
 * instead: the source then reads the rest as a list (ingest_src_list.c).
 *
 * Anything else is refused from its first rows, before any of it is
 * committed (INGEST_NEXT_REFUSED): a file without a header line whose
 * first row has no PowerMTA record type where acct-fields puts the type,
 * or one of whose first INGEST_ACCT_CHECK_ROWS rows (or all of them, when
 * it has fewer) none is of a type PowerMTA writes.  A file resumed past
 * its start was told for one when it was first taken.
 */
#include <stdio.h>
#include <string.h>

#include "acct_event.h"
#include "ingest_src.h"
#include "log.h"

/* ingest_csv_show - a printable excerpt of field S (N bytes) into OUT */
static void ingest_csv_show(char *out, size_t outlen, const char *s, size_t n)
{
	size_t i, j = 0;

	for (i = 0; i < n && j + 4 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		out[j++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	if (i < n)
		out[j++] = '.', out[j++] = '.', out[j++] = '.';
	out[j] = '\0';
}

/* ingest_csv_check - while the input is not told for an accounting file:
   ROW's type decides it, or counts against it; 0 or INGEST_NEXT_REFUSED */
static int ingest_csv_check(struct ingest_rows *r, const struct csv_row *row,
			    struct ingest_note *note)
{
	const char *type;
	char show[48];
	size_t tlen;

	type = acct_get(&r->map, row, AF_TYPE, &tlen);
	if (acct_type_known(type, tlen)) {
		r->check = false;
		return 0;
	}
	note->line = row->line;
	if (!r->header) {
		ingest_csv_show(show, sizeof(show), type, tlen);
		return ingest_rows_refuse(r, note, "not a PowerMTA accounting "
					  "file: no header line, and its first "
					  "row (line %llu) does not fit "
					  "[bounced] acct-fields: its type "
					  "column holds '%s', not a record "
					  "type PowerMTA writes (a file "
					  "without a header line is read in "
					  "the order of acct-fields)",
					  (unsigned long long)row->line, show);
	}
	return ingest_rows_unknown(r, row->line, note);
}

/* ingest_csv_row - one row of an accounting file */
static int ingest_csv_row(struct ingest_rows *r, const struct csv_row *row,
			  bool old, struct event *ev, struct ingest_note *note)
{
	if (!r->first && r->detect && ingest_src_list_detect(row)) {
		log_info("ingest", "%s: a list of addresses: every address is "
			 "unsubscribed", r->name);
		/* its last address counts without its line end: a list is
		   written whole */
		csv_reader_set_cut(r->csv, false);
		r->row = ingest_src_list_row;
		r->check = false;
		return r->row(r, row, old, ev, note);
	}
	if (acct_row_is_header(row)) {
		if (acct_map_from_row(&r->map, row) != 0 && !old) {
			if (r->check && !r->header)
				return ingest_rows_refuse(r, note,
					"not a PowerMTA accounting file: its "
					"header line (line %llu) has no type "
					"column",
					(unsigned long long)row->line);
			note->line = row->line;
			note->why = "header line without a type column";
			return INGEST_NEXT_BAD;
		}
		r->header = true;
		return 0;
	}
	if (old)
		return 0;	/* taken before: only the column map matters */
	if (acct_row_is_comment(&r->map, row))
		return 0;	/* "# ...": no record, nothing to count */
	if (r->check) {
		int rc = ingest_csv_check(r, row, note);

		if (rc)
			return rc;
	}
	switch (acct_event_from_row(&r->map, row, r->default_time, ev, r->rcpt,
				    r->rcpt_written, &r->x, r->why,
				    sizeof(r->why))) {
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
	r->check = a->skip_until == 0;
	*out = &r->src;
	return 0;
}
