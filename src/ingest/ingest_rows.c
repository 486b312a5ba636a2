/*
 * ingest_rows.c - the reading shared by the two row sources (an
 * accounting file, an address list): bytes into CSV records (acct_csv.c)
 * with absolute offsets and line counts, each record handed to the
 * source's row function.
 *
 * A resumed input is read again from its start: the rows that end at or
 * before the committed offset are handed over as old (an accounting
 * source takes only their header lines, so the column map in force at the
 * offset is exact), and bad records among them are not reported again.
 * The position is the offset after the last record pulled, so a commit
 * never records a row it has not applied.  While an accounting source
 * has not yet told its input for one (ingest_src_csv.c), a bad record
 * counts as a row of no known type, and an input that ends before it
 * decides, with such rows only, is no accounting file; likewise a list
 * source (ingest_src_list.c) holds the bad records before its first
 * address, said before the event of that address.  Errors: -ENOMEM
 * only.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest_src.h"

/* ingest_rows_compressed - the compressor whose magic R's first bytes
   carry, or NULL */
static const char *ingest_rows_compressed(const struct ingest_rows *r)
{
	static const struct {
		const char *name;
		const char *magic;
		size_t len;
	} kinds[] = {
		{ "gzip", "\x1f\x8b", 2 },
		{ "bzip2", NULL, 10 },	/* "BZh", a level, a block's pi */
		{ "xz", "\xfd" "7zXZ\0", 6 },
		{ "zstd", "\x28\xb5\x2f\xfd", 4 },
		{ "zip", "PK\x03\x04", 4 },
	};
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (r->nmagic < kinds[i].len)
			continue;
		if (kinds[i].magic ?
			    memcmp(r->magic, kinds[i].magic, kinds[i].len) == 0 :
			    memcmp(r->magic, "BZh", 3) == 0 &&
				    r->magic[3] >= '1' && r->magic[3] <= '9' &&
				    memcmp(r->magic + 4, "\x31\x41\x59\x26\x53"
					   "\x59", 6) == 0)
			return kinds[i].name;
	}
	return NULL;
}

/* ingest_rows_magic - the first bytes of the input, kept */
static void ingest_rows_magic(struct ingest_rows *r, const char *buf,
			      size_t len)
{
	size_t n = sizeof(r->magic) - r->nmagic;

	if (n > len)
		n = len;
	memcpy(r->magic + r->nmagic, buf, n);
	r->nmagic += n;
}

int ingest_rows_refuse(struct ingest_rows *r, struct ingest_note *note,
		       const char *fmt, ...)
{
	const char *packed = ingest_rows_compressed(r);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->refuse, sizeof(r->refuse), fmt, ap);
	va_end(ap);
	if (packed)
		/* what the rows said of it is noise: say what it is */
		snprintf(r->refuse, sizeof(r->refuse), "%s: it is compressed "
			 "(%s): decompress it first, bounced reads plain text",
			 r->list ? "no address list" :
				   "not a PowerMTA accounting file", packed);
	r->check = false;
	note->why = r->refuse;
	return INGEST_NEXT_REFUSED;
}

int ingest_rows_unknown(struct ingest_rows *r, uint64_t line,
			struct ingest_note *note)
{
	note->line = line;
	if (++r->unknown < INGEST_ACCT_CHECK_ROWS)
		return 0;
	return ingest_rows_refuse(r, note, "not a PowerMTA accounting file: "
				  "none of its first %u rows (to line %llu) "
				  "is a record of a type PowerMTA writes (d, "
				  "b, rb, f, t, tq, r, rs)",
				  INGEST_ACCT_CHECK_ROWS,
				  (unsigned long long)line);
}

/* ingest_rows_feed - bytes of the input (LEN 0: its end) */
static int ingest_rows_feed(struct ingest_src *s, const char *buf, size_t len)
{
	struct ingest_rows *r = (struct ingest_rows *)s;

	if (len == 0) {
		r->eof = true;
		return 0;
	}
	if (r->nmagic < sizeof(r->magic))
		ingest_rows_magic(r, buf, len);
	return csv_reader_feed(r->csv, buf, len);
}

/* ingest_rows_room - where the next bytes of the input may be read to */
static int ingest_rows_room(struct ingest_src *s, size_t len, char **buf)
{
	struct ingest_rows *r = (struct ingest_rows *)s;
	int rc = csv_reader_room(r->csv, len, buf);

	r->room = rc == 0 ? *buf : NULL;
	return rc;
}

/* ingest_rows_fed - LEN bytes were read to the room (0: the end) */
static int ingest_rows_fed(struct ingest_src *s, size_t len)
{
	struct ingest_rows *r = (struct ingest_rows *)s;

	if (len == 0) {
		r->eof = true;
		return 0;
	}
	if (r->nmagic < sizeof(r->magic) && r->room)
		ingest_rows_magic(r, r->room, len);
	csv_reader_fed(r->csv, len);
	return 0;
}

/* ingest_rows_next - the next record the row function makes something of */
static int ingest_rows_next(struct ingest_src *s, struct event *ev,
			    struct ingest_note *note)
{
	struct ingest_rows *r = (struct ingest_rows *)s;
	struct csv_row row;
	bool old;
	int rc;

	/* a compressed file is no text of any kind: said at once, not
	   after its bytes were read as rows (whose last one, cut short,
	   would be left for a next reading of a file still written) */
	if (r->check && ingest_rows_compressed(r))
		return ingest_rows_refuse(r, note, "compressed");
	for (;;) {
		if (!r->check && r->held_out < r->held) {
			*note = r->held_bad[r->held_out++];
			return INGEST_NEXT_BAD;
		}
		if (r->held_event) {
			r->held_event = false;
			r->held = r->held_out = 0;
			*ev = r->held_ev;
			return INGEST_NEXT_EVENT;
		}
		switch (csv_reader_next(r->csv, &row, r->eof)) {
		case CSV_NEED_MORE:
			return INGEST_NEXT_MORE;
		case CSV_END:
			if (r->check && r->list && r->unknown > 0)
				return ingest_src_list_refuse(r, 0, note);
			if (r->check && r->unknown > 0)
				return ingest_rows_refuse(r, note,
					"not a PowerMTA accounting file: none "
					"of its %u rows is a record of a type "
					"PowerMTA writes (d, b, rb, f, t, tq, "
					"r, rs)", r->unknown);
			return INGEST_NEXT_END;
		case CSV_BAD:
			r->lines = row.end_line;
			if (row.end_offset <= r->skip_until &&
			    !csv_reader_cut(r->csv))
				continue;	/* reported when it was taken */
			if (r->check && r->list) {
				rc = ingest_src_list_unknown(r, row.line,
					csv_reader_error(r->csv), note);
				if (rc)
					return rc;
				continue;	/* held */
			}
			/* a last line still being written (cut short)
			   decides nothing of the input: said, left for
			   the next reading */
			if (r->check && !csv_reader_cut(r->csv) && !r->header)
				return ingest_rows_refuse(r, note,
					"not a PowerMTA accounting file: no "
					"header line, and its first row (line "
					"%llu) is no CSV record: %s (a file "
					"without a header line is read in the "
					"order of [bounced] acct-fields)",
					(unsigned long long)row.line,
					csv_reader_error(r->csv));
			if (r->check && !csv_reader_cut(r->csv)) {
				rc = ingest_rows_unknown(r, row.line, note);
				if (rc)
					return rc;
			}
			note->line = row.line;
			note->why = csv_reader_error(r->csv);
			return INGEST_NEXT_BAD;
		case CSV_ROW:
			break;
		}
		r->lines = row.end_line;
		old = row.end_offset <= r->skip_until;
		rc = r->row(r, &row, old, ev, note);
		r->first = true;
		if (rc == INGEST_NEXT_EVENT && r->held_out < r->held) {
			/* told a list by this address: the bad lines
			   before it first */
			r->held_ev = *ev;
			r->held_event = true;
			continue;
		}
		if (rc)
			return rc;
	}
}

/* ingest_rows_position - the offset and lines after the last record */
static void ingest_rows_position(const struct ingest_src *s,
				 struct ingest_pos *pos)
{
	const struct ingest_rows *r = (const struct ingest_rows *)s;

	pos->offset = csv_reader_offset(r->csv);
	pos->lines = r->lines;
}

/* ingest_rows_undecided - an accounting source not sure of its input yet */
static bool ingest_rows_undecided(const struct ingest_src *s)
{
	return ((const struct ingest_rows *)s)->check;
}

static void ingest_rows_free(struct ingest_src *s)
{
	struct ingest_rows *r = (struct ingest_rows *)s;

	csv_reader_free(r->csv);
	free(r);
}

static const struct ingest_src_ops ingest_rows_ops = {
	.feed = ingest_rows_feed,
	.room = ingest_rows_room,
	.fed = ingest_rows_fed,
	.next = ingest_rows_next,
	.position = ingest_rows_position,
	.undecided = ingest_rows_undecided,
	.free = ingest_rows_free,
};

/* ingest_rows_new - a row source over ROW */
int ingest_rows_new(const struct ingest_src_args *a, ingest_row_fn row,
		    struct ingest_rows **out)
{
	struct ingest_rows *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->csv = csv_reader_new(0, 0, 0);
	if (r->csv && a->growing && row != ingest_src_list_row)
		csv_reader_set_cut(r->csv, true);
	if (!r->csv) {
		free(r);
		return -ENOMEM;
	}
	r->src.ops = &ingest_rows_ops;
	r->row = row;
	r->skip_until = a->skip_until;
	r->name = a->name;
	r->source = a->source;
	r->default_time = a->default_time;
	r->fallback = *a->fallback;
	r->map = r->fallback;
	*out = r;
	return 0;
}

/* ingest_src_free - the source's own free */
void ingest_src_free(struct ingest_src *s)
{
	if (s)
		s->ops->free(s);
}
