/*
 * ingest_src_list.c - the source of an address list: the first column of
 * each row (ingest_rows.c) is an address, and every address becomes an
 * unsubscribe event (EV_LIST) dated by the file.
 *
 * A first line "email" or "address" is a header and skipped; any other
 * first column that is no address is a bad line.  ingest_src_list_detect
 * tells an accounting source whether its first row shows a list instead.
 *
 * A file named a list (--list) is told for one by an address among its
 * first INGEST_ACCT_CHECK_ROWS rows (or all of them, when it has fewer);
 * until then its bad lines are held (ingest_rows.c says them before the
 * event of that address), and an input without one is refused before
 * any of it is committed (INGEST_NEXT_REFUSED), with a hint to drop
 * --list when its rows look like an accounting file's.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "acct_event.h"
#include "acct_fields.h"
#include "addr.h"
#include "ingest_src.h"

/* list_first - the first column of ROW, without the UTF-8 byte order
   mark an exported list may begin with */
static const char *list_first(const struct csv_row *row, size_t *len)
{
	const char *p = row->fields[0];

	*len = row->lens[0];
	if (row->line == 1 && *len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
		*len -= 3;
		return p + 3;
	}
	return p;
}

/* ingest_src_list_detect - an address where an accounting file has its
   record type (not a header, not a type bounced knows) */
bool ingest_src_list_detect(const struct csv_row *row)
{
	char tmp[ADDR_MAX + 1];
	enum event_kind k;
	const char *first;
	size_t len;

	if (acct_row_is_header(row))
		return false;
	k = acct_type_kind(row->fields[0], row->lens[0]);
	if (k != EV_SKIPPED && k != EV_NONE)
		return false;
	first = list_first(row, &len);
	return addr_normalise(first, len, tmp, sizeof(tmp)) > 0;
}

/* ingest_src_list_refuse - no address in R's first rows, to LINE (0:
   all of them) */
int ingest_src_list_refuse(struct ingest_rows *r, uint64_t line,
			   struct ingest_note *note)
{
	const char *hint = r->acct_like ? " (it looks like a PowerMTA "
		"accounting file: process it without --list)" : "";

	r->held = r->held_out = 0;	/* nothing of it is said */
	note->line = line;
	if (line == 0)
		return ingest_rows_refuse(r, note, "no address list: none of "
					  "its %u rows is an address%s",
					  r->unknown, hint);
	return ingest_rows_refuse(r, note, "no address list: none of its "
				  "first %u rows (to line %llu) is an "
				  "address%s", INGEST_ACCT_CHECK_ROWS,
				  (unsigned long long)line, hint);
}

/* ingest_src_list_unknown - a bad line held while R is not told */
int ingest_src_list_unknown(struct ingest_rows *r, uint64_t line,
			    const char *why, struct ingest_note *note)
{
	r->held_bad[r->held].line = line;
	r->held_bad[r->held].why = why;
	r->held++;
	if (++r->unknown < INGEST_ACCT_CHECK_ROWS)
		return 0;
	return ingest_src_list_refuse(r, line, note);
}

/* ingest_src_list_row - a line of an address list */
int ingest_src_list_row(struct ingest_rows *r, const struct csv_row *row,
			bool old, struct event *ev, struct ingest_note *note)
{
	const char *first;
	size_t len;

	if (old)
		return 0;
	first = list_first(row, &len);
	if (addr_normalise(first, len, r->rcpt, sizeof(r->rcpt)) < 0) {
		char show[80];

		snprintf(show, sizeof(show), "%.*s", (int)(len > 64 ? 64 : len),
			 first);
		if (row->line == 1 && (strcasecmp(show, "email") == 0 ||
				       strcasecmp(show, "address") == 0))
			return 0; /* a header line */
		if (r->check) {
			if (acct_row_is_header(row) ||
			    acct_type_known(row->fields[0], row->lens[0]))
				r->acct_like = true;
			return ingest_src_list_unknown(r, row->line,
						       "not an address", note);
		}
		note->line = row->line;
		note->why = "not an address";
		return INGEST_NEXT_BAD;
	}
	r->check = false;	/* an address list */
	memset(ev, 0, sizeof(*ev));
	ev->kind = EV_LIST;
	ev->rcpt = r->rcpt;
	/* an address as a campaign tool's export spelt it */
	if (addr_written(first, len, r->rcpt, r->rcpt_written) > 0) {
		memset(&r->x, 0, sizeof(r->x));
		r->x.rcpt_written = r->rcpt_written;
		ev->x = &r->x;
	}
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

	*out = NULL;
	if (rc)
		return rc;
	r->list = true;
	r->check = a->skip_until == 0;
	*out = &r->src;
	return 0;
}
