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
