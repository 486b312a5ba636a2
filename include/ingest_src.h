/*
 * ingest_src.h - a source of events: what turns an input's bytes into
 * events, one implementation per kind of input.
 *
 *   ingest_src_csv.c   a PowerMTA accounting file (or, detected from its
 *                      first row, an address list)
 *   ingest_src_list.c  an address list: every address unsubscribed
 *   ingest_src_mail.c  one mail of the spool, whole, through its parser
 *
 * The core (ingest.c) reads the input and feeds its bytes in order
 * (feed, then feed with LEN 0 at the end of the input), pulls events with
 * next until it answers INGEST_NEXT_MORE (feed more) or INGEST_NEXT_END,
 * classifies and batches them, and asks position() where the input is
 * after the last event pulled: the offset and line a commit records.
 * Sources parse only: no classification, no state, no counting; what a
 * record that is no event was (skipped, bad, ...) is the answer of next.
 * The strings of an event point into the source and stay valid until the
 * next call of feed or next.  Errors: -ENOMEM, or what a mail's parser
 * returns.
 */
#ifndef BOUNCED_INGEST_SRC_H
#define BOUNCED_INGEST_SRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acct_csv.h"
#include "acct_fields.h"
#include "event.h"
#include "ingest.h"

enum ingest_next {
	INGEST_NEXT_EVENT = 1,	/* *EV is an event for a recipient */
	INGEST_NEXT_SKIPPED,	/* a record of a type bounced does not act on */
	INGEST_NEXT_NORCPT,	/* an f record that names no recipient */
	INGEST_NEXT_BAD,	/* a bad line: NOTE's line and why */
	INGEST_NEXT_ASIDE,	/* (a mail) no input of its kind: NOTE's why
				   says what it is, its counter the meta
				   counter of its kind; no event follows */
	INGEST_NEXT_REFUSED,	/* (a mail) nothing usable, or (a row
				   source, from its first rows) no accounting
				   file or no address list: NOTE's why; no
				   event follows */
	INGEST_NEXT_MORE,	/* nothing more in what was fed */
	INGEST_NEXT_END,	/* the end of the input: everything was read */
};

/* what next says beside a record that is no event */
struct ingest_note {
	uint64_t line;		/* its line (1-based) */
	const char *why;	/* valid until the next call */
	const char *counter;	/* INGEST_NEXT_ASIDE: "count.fbl_dsn" ... */
};

/* where the input is: what a commit records for it */
struct ingest_pos {
	uint64_t offset;	/* bytes of the input taken */
	uint64_t lines;		/* lines of the input taken */
};

struct ingest_src;

struct ingest_src_ops {
	/* feed - LEN bytes of the input, in order; LEN 0: its end.
	   0 or -ENOMEM */
	int (*feed)(struct ingest_src *s, const char *buf, size_t len);
	/* room - (may be NULL: feed only) where LEN more bytes of the input
	   may be read to, in the source's own buffer: *BUF, until the next
	   call on S; 0 or -ENOMEM.  fed then takes the LEN bytes read there
	   (0: the end of the input), as feed would have them. */
	int (*room)(struct ingest_src *s, size_t len, char **buf);
	int (*fed)(struct ingest_src *s, size_t len);
	/* next - the next event (or what the next record was instead);
	   enum ingest_next or -errno */
	int (*next)(struct ingest_src *s, struct event *ev,
		    struct ingest_note *note);
	/* position - where the input is after the last record pulled */
	void (*position)(const struct ingest_src *s, struct ingest_pos *pos);
	/* undecided - (may be NULL: never) whether the source does not
	   know yet that its input is of its kind: nothing of it may be
	   committed before it does, but at the end */
	bool (*undecided)(const struct ingest_src *s);
	void (*free)(struct ingest_src *s);
};

struct ingest_src {
	const struct ingest_src_ops *ops;
};

/* what a source knows of its input */
struct ingest_src_args {
	const char *name;	/* as given, for messages */
	const char *source;	/* what events name as their source: the
				   absolute path, or NAME for a stream */
	int64_t default_time;	/* for records without a time */
	uint64_t skip_until;	/* rows ending at or before this offset were
				   taken before: read for their header
				   lines only */
	const struct acct_map *fallback; /* header-less field order */
	/* a file that may still be written (bounced process FILE): its
	   last line, without its line end, waits for the next run */
	bool growing;
	/* a mail */
	uint64_t size;		/* its size when opened */
	uint64_t max_size;	/* larger is refused */
	ingest_mail_parse_fn parse;
	void *parse_arg;
};

/* ingest_src_csv_new - an accounting file; with DETECT true a list of
   addresses is recognised at the first row and read as one (logged);
   0 or -ENOMEM */
int ingest_src_csv_new(const struct ingest_src_args *a, bool detect,
		       struct ingest_src **out);
/* ingest_src_list_new - a list of addresses (first column), refused
   (INGEST_NEXT_REFUSED) when none of its first rows is an address */
int ingest_src_list_new(const struct ingest_src_args *a,
			struct ingest_src **out);
/* ingest_src_mail_new - one mail, parsed whole at its end */
int ingest_src_mail_new(const struct ingest_src_args *a,
			struct ingest_src **out);

/* ingest_src_free - NULL is fine */
void ingest_src_free(struct ingest_src *s);

/*
 * The two row sources (accounting file, address list) share their reading
 * (ingest_rows.c): CSV records with absolute offsets and line counts,
 * the rows before a resume point handed over as old, an address list
 * taking over from an accounting source at its first row.
 */
struct ingest_rows;

/* rows of no PowerMTA record type after which an input is no accounting
   file (and rows without an address after which it is no address list) */
#define INGEST_ACCT_CHECK_ROWS 100

/* ingest_row_fn - one row: 0 (nothing: a header line, a row taken
   before) or an enum ingest_next; OLD: the row is before the resume
   point (only a header line matters) */
typedef int (*ingest_row_fn)(struct ingest_rows *r, const struct csv_row *row,
			     bool old, struct event *ev,
			     struct ingest_note *note);

struct ingest_rows {
	struct ingest_src src;
	struct csv_reader *csv;
	ingest_row_fn row;		/* the kind of rows */
	bool eof;			/* the end was fed */
	bool first;			/* the first row was seen */
	bool detect;			/* the first row may make it a list */
	/* an accounting file is told from anything else by its first
	   rows: a header line or a first row of a PowerMTA record type,
	   and a known record type within INGEST_ACCT_CHECK_ROWS rows */
	bool check;			/* not decided yet */
	bool header;			/* a header line was seen */
	unsigned unknown;		/* rows of no known type so far */
	char refuse[320];		/* why it is no accounting file */
	/* its first bytes, to tell a compressed file in a refusal */
	unsigned char magic[10];
	size_t nmagic;
	char *room;			/* where the last read went */
	/* an address list (--list) is told from anything else by an
	   address within its first INGEST_ACCT_CHECK_ROWS rows: its bad
	   lines before it are held, said once it is told (before the
	   event of that address), dropped when it is refused */
	bool list;			/* checked as an address list */
	bool acct_like;			/* a row looked like an accounting
					   file's (a header line, a type) */
	unsigned held, held_out;	/* bad lines held, said */
	struct ingest_note held_bad[INGEST_ACCT_CHECK_ROWS];
	bool held_event;		/* held_ev waits for the bad lines */
	struct event held_ev;
	uint64_t skip_until;
	uint64_t lines;			/* lines consumed */
	const char *name;
	const char *source;
	int64_t default_time;
	struct acct_map map;		/* the column map in force */
	struct acct_map fallback;
	/* scratch the events point into */
	char rcpt[ADDR_MAX + 1];
	char rcpt_written[ADDR_MAX + 1];	/* as written (addr_written) */
	struct event_extra x;
	char why[192];
};

/* ingest_rows_refuse - R is no accounting file: WHY (printf) into
   R->refuse and NOTE; returns INGEST_NEXT_REFUSED */
int ingest_rows_refuse(struct ingest_rows *r, struct ingest_note *note,
		       const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* ingest_rows_unknown - a row of no known record type (or a bad one) at
   LINE while R is checked: 0, or INGEST_NEXT_REFUSED (NOTE says why) */
int ingest_rows_unknown(struct ingest_rows *r, uint64_t line,
			struct ingest_note *note);

/* ingest_rows_new - a row source reading rows with ROW; 0 or -ENOMEM */
int ingest_rows_new(const struct ingest_src_args *a, ingest_row_fn row,
		    struct ingest_rows **out);
/* ingest_src_list_row - a row of an address list (ingest_src_list.c) */
int ingest_src_list_row(struct ingest_rows *r, const struct csv_row *row,
			bool old, struct event *ev, struct ingest_note *note);
/* ingest_src_list_unknown - a record at LINE that is no address (WHY)
   while R is not told for an address list: held (0), or
   INGEST_NEXT_REFUSED (NOTE says why) (ingest_src_list.c) */
int ingest_src_list_unknown(struct ingest_rows *r, uint64_t line,
			    const char *why, struct ingest_note *note);
/* ingest_src_list_refuse - R, not told for an address list, ended (LINE
   0) or reached LINE with no address: INGEST_NEXT_REFUSED, NOTE says why
   (ingest_src_list.c) */
int ingest_src_list_refuse(struct ingest_rows *r, uint64_t line,
			   struct ingest_note *note);
/* ingest_src_list_detect - does ROW, the first of an input, make it an
   address list rather than an accounting file? (ingest_src_list.c) */
bool ingest_src_list_detect(const struct csv_row *row);

#endif
