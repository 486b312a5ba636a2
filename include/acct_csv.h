/*
 * acct_csv.h - streaming RFC 4180 reader for PowerMTA accounting files.
 *
 * Bytes are pushed in with csv_reader_feed() in chunks of any size; complete
 * records are pulled out with csv_reader_next().  Quoted fields may hold
 * commas, doubled quotes and line breaks; records end in LF or CRLF.  A
 * record longer than the reader's limit (64 KiB by default), or a quote left
 * open at end of input, is a bad record: it is reported with its line
 * number, skipped, and reading goes on at the next line.  Field pointers
 * stay valid until the next call on the reader.  Byte offsets are absolute
 * in the source (start offset + bytes consumed), so the offset after a
 * record can be committed and reading resumed there later.
 */
#ifndef BOUNCED_ACCT_CSV_H
#define BOUNCED_ACCT_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CSV_MAX_RECORD_DEFAULT (64 * 1024)
#define CSV_MAX_FIELDS 512

struct csv_row {
	size_t nfields;
	const char *const *fields; /* NUL-terminated, unquoted values */
	const size_t *lens;	   /* length of each field */
	uint64_t line;		   /* 1-based line the record starts on */
	uint64_t end_offset;	   /* source offset just after the record */
	uint64_t end_line;	   /* lines consumed through the record */
};

enum csv_result {
	CSV_ROW = 1,	     /* *row holds a record */
	CSV_NEED_MORE = 0,   /* feed more bytes (or call with eof=true) */
	CSV_BAD = -1,	     /* a bad record was skipped: row->line, row->end_offset
				and csv_reader_error() say which and why */
	CSV_END = -2,	     /* eof was given and everything was consumed */
};

struct csv_reader;

/*
 * csv_reader_new - a reader whose first byte is at START_OFFSET, on line
 * START_LINE + 1 of the source; MAX_RECORD bounds one record (0 = default).
 * Returns NULL on allocation failure.
 */
struct csv_reader *csv_reader_new(uint64_t start_offset, uint64_t start_line,
				  size_t max_record);
void csv_reader_free(struct csv_reader *r);

/* csv_reader_feed - append LEN bytes; 0 or -ENOMEM */
int csv_reader_feed(struct csv_reader *r, const char *buf, size_t len);

/* csv_reader_room - where LEN more bytes may be written at the end of the
   reader's buffer (compacted or grown as csv_reader_feed does): *BUF, up
   to the next call on R; 0 or -ENOMEM.  csv_reader_fed then appends how
   many were written there: a read straight into the reader, without the
   copy of csv_reader_feed. */
int csv_reader_room(struct csv_reader *r, size_t len, char **buf);
void csv_reader_fed(struct csv_reader *r, size_t len);

/*
 * csv_reader_next - the next record.  With EOF false, a record is returned
 * only once its terminating line break was fed; with EOF true, a last
 * record without one is returned too, or, after csv_reader_set_cut, is
 * CSV_BAD (a line still being written: its address cut short) and the
 * offset stays before it, so that the input read again from there once
 * appended to gives it whole.  Blank lines are skipped.
 */
enum csv_result csv_reader_next(struct csv_reader *r, struct csv_row *row,
				bool eof);

/* csv_reader_error - why the last CSV_BAD happened (static string) */
const char *csv_reader_error(const struct csv_reader *r);

/* csv_reader_set_cut - CUT: the input may still be written (a file being
   appended to): a last line without its line break is left unread */
void csv_reader_set_cut(struct csv_reader *r, bool cut);

/* csv_reader_cut - the last CSV_BAD is a last line without its line
   break, left unread */
bool csv_reader_cut(const struct csv_reader *r);

/* csv_reader_offset - offset after everything returned so far */
uint64_t csv_reader_offset(const struct csv_reader *r);

#endif
