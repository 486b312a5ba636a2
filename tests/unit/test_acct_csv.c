/*
 * test_acct_csv.c - the streaming CSV reader: quoting, line breaks, bad
 * records, chunk independence, offsets and resuming.
 *
 * Each input is read into a transcript, one line per result
 * ("LINE-ENDLINE@OFFSET [f1|f2]" or "... BAD reason", then "END@OFFSET"),
 * and compared with the expected text; every input is read whole, a byte at
 * a time and in random chunk sizes, and all must give the same transcript.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>

#include "acct_csv.h"

enum chunking { CH_WHOLE, CH_ONE, CH_SMALL, CH_LARGE };

struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return r->s;
}

/* chunk_size - the next chunk length under MODE */
static size_t chunk_size(enum chunking mode, struct rng *r, size_t left)
{
	size_t n;

	switch (mode) {
	case CH_ONE: n = 1; break;
	case CH_SMALL: n = 1 + rng_next(r) % 17; break;
	case CH_LARGE: n = 1 + rng_next(r) % 5000; break;
	case CH_WHOLE: default: n = left; break;
	}
	return n < left ? n : left;
}

/* put_escaped - a field, with line breaks and separators made visible */
static void put_escaped(GString *out, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n')
			g_string_append(out, "\\n");
		else if (c == '\r')
			g_string_append(out, "\\r");
		else if (c == '|' || c == '\\')
			g_string_append_printf(out, "\\%c", c);
		else if (c < 0x20)
			g_string_append_printf(out, "\\x%02x", c);
		else
			g_string_append_c(out, (char)c);
	}
}

/* put_result - one transcript line for a ROW or BAD result */
static void put_result(GString *out, struct csv_reader *r,
		       enum csv_result res, const struct csv_row *row)
{
	size_t i;

	assert_true(row->line >= 1);
	/* a last line cut short is left unread: the lines before it */
	assert_true(row->end_line >= row->line ||
		    (res == CSV_BAD && row->end_line + 1 == row->line));
	assert_int_equal(csv_reader_offset(r), row->end_offset);
	g_string_append_printf(out, "%llu-%llu@%llu ",
			       (unsigned long long)row->line,
			       (unsigned long long)row->end_line,
			       (unsigned long long)row->end_offset);
	if (res == CSV_BAD) {
		g_string_append_printf(out, "BAD %s\n", csv_reader_error(r));
		return;
	}
	assert_true(row->nfields >= 1);
	g_string_append_c(out, '[');
	for (i = 0; i < row->nfields; i++) {
		/* fields are NUL-terminated and hold no NUL */
		assert_int_equal(strlen(row->fields[i]), row->lens[i]);
		if (i)
			g_string_append_c(out, '|');
		put_escaped(out, row->fields[i], row->lens[i]);
	}
	g_string_append(out, "]\n");
}

/* drain - take every result available; returns the last result */
static enum csv_result drain(struct csv_reader *r, GString *out, bool eof)
{
	struct csv_row row;
	enum csv_result res;

	for (;;) {
		memset(&row, 0, sizeof(row));
		res = csv_reader_next(r, &row, eof);
		if (res == CSV_ROW || res == CSV_BAD) {
			put_result(out, r, res, &row);
			continue;
		}
		return res;
	}
}

/* push - N bytes of BUF into R: fed (a copy), or, ROOM, written into the
   reader's own room (csv_reader_room / csv_reader_fed, as ingest reads) */
static void push(struct csv_reader *r, const char *buf, size_t n, bool room)
{
	char *p = NULL;

	if (!room) {
		assert_int_equal(csv_reader_feed(r, buf, n), 0);
		return;
	}
	assert_int_equal(csv_reader_room(r, n, &p), 0);
	assert_non_null(p);
	memcpy(p, buf, n);
	csv_reader_fed(r, n);
}

/* via_room - transcript pushes through the reader's room */
static bool via_room;

/* cut_mode - transcript reads as of a file still written
   (csv_reader_set_cut) */
static bool cut_mode;

/* transcript - read IN (LEN bytes) in chunks; returns a new string */
static char *transcript(const char *in, size_t len, enum chunking mode,
			uint64_t seed, size_t max_record, uint64_t start_off,
			uint64_t start_line)
{
	struct csv_reader *r = csv_reader_new(start_off, start_line, max_record);
	GString *out = g_string_new(NULL);
	struct rng rg = { seed | 1 };
	size_t off = 0;

	assert_non_null(r);
	csv_reader_set_cut(r, cut_mode);
	while (off < len) {
		size_t n = chunk_size(mode, &rg, len - off);

		push(r, in + off, n, via_room);
		off += n;
		assert_int_equal(drain(r, out, false), CSV_NEED_MORE);
	}
	assert_int_equal(drain(r, out, true), CSV_END);
	g_string_append_printf(out, "END@%llu\n",
			       (unsigned long long)csv_reader_offset(r));
	csv_reader_free(r);
	return g_string_free(out, FALSE);
}

/* check_all_chunkings - every chunking gives EXPECT */
static void check_all_chunkings(const char *name, const char *in, size_t len,
				size_t max_record, const char *expect)
{
	static const enum chunking modes[] = { CH_WHOLE, CH_ONE, CH_SMALL,
					       CH_LARGE };
	size_t m;
	uint64_t seed;
	int room;

	for (room = 0; room < 2; room++)
	for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		for (seed = 1; seed <= (modes[m] >= CH_SMALL ? 8u : 1u); seed++) {
			char *got;

			via_room = room;
			got = transcript(in, len, modes[m], seed * 7919,
					 max_record, 0, 0);
			via_room = false;
			if (strcmp(got, expect) != 0) {
				GString *shown = g_string_new(NULL);

				put_escaped(shown, in, len);
				print_error("case %s, chunking %zu seed %llu%s, "
					    "input \"%s\":\nexpected:\n%sgot:\n%s",
					    name, m, (unsigned long long)seed,
					    room ? " (read into the room)" : "",
					    shown->str, expect, got);
				g_string_free(shown, TRUE);
				g_free(got);
				fail();
			}
			g_free(got);
		}
	}
}

#define S(x) x, sizeof(x) - 1
#define CUT "the input ends inside this line (no line end): not taken; " \
	"a file still written gives it whole to the next run"

struct csv_case {
	const char *name;
	const char *in;
	size_t len;
	const char *expect;
};

/* check_cases - each of the N CASES under every chunking, with record
   limit LIMIT (0: the reader's own) */
static void check_cases(const struct csv_case *cases, size_t n, size_t limit)
{
	size_t i;

	for (i = 0; i < n; i++)
		check_all_chunkings(cases[i].name, cases[i].in, cases[i].len,
				    limit, cases[i].expect);
}

static const struct csv_case csv_cases[] = {
	{ "plain", S("a,b,c\nd,e,f\n"),
	  "1-1@6 [a|b|c]\n2-2@12 [d|e|f]\nEND@12\n" },
	{ "crlf", S("a,b\r\nc,d\r\n"),
	  "1-1@5 [a|b]\n2-2@10 [c|d]\nEND@10\n" },
	{ "quoted comma and doubled quote", S("\"a,b\",\"c\"\"d\",e\n"),
	  "1-1@15 [a,b|c\"d|e]\nEND@15\n" },
	{ "only a doubled quote", S("\"\"\"\"\n"),
	  "1-1@5 [\"]\nEND@5\n" },
	{ "doubled quote at field end", S("\"ab\"\"\",x\n"),
	  "1-1@9 [ab\"|x]\nEND@9\n" },
	{ "LF inside quotes", S("x,\"l1\nl2\",y\nz\n"),
	  "1-2@12 [x|l1\\nl2|y]\n3-3@14 [z]\nEND@14\n" },
	{ "CRLF inside quotes", S("\"a\r\nb\",c\r\nd\r\n"),
	  "1-2@10 [a\\r\\nb|c]\n3-3@13 [d]\nEND@13\n" },
	{ "several LF inside quotes", S("\"\n\n\n\"\nq\n"),
	  "1-4@6 [\\n\\n\\n]\n5-5@8 [q]\nEND@8\n" },
	{ "blank lines", S("\n\r\na\n\n\nb\n\n"),
	  "3-3@5 [a]\n6-6@9 [b]\nEND@10\n" },
	{ "empty fields", S(",,\n"),
	  "1-1@3 [||]\nEND@3\n" },
	{ "one empty quoted field is not blank", S("\"\"\n"),
	  "1-1@3 []\nEND@3\n" },
	{ "no final line break", S("a,b"),
	  "1-1@3 [a|b]\nEND@3\n" },
	{ "no final line break, quoted", S("a,\"b\""),
	  "1-1@5 [a|b]\nEND@5\n" },
	{ "trailing comma at end", S("a,"),
	  "1-1@2 [a|]\nEND@2\n" },
	{ "CR at end of input", S("a\n\r"),
	  "1-1@2 [a]\nEND@3\n" },
	{ "CR before end of input", S("a,b\r"),
	  "1-1@4 [a|b]\nEND@4\n" },
	{ "stray quote in unquoted field", S("a\"b,c\"\n"),
	  "1-1@7 [a\"b|c\"]\nEND@7\n" },
	{ "junk after closing quote", S("\"ab\"cd,e\n"),
	  "1-1@9 [abcd|e]\nEND@9\n" },
	{ "quote in junk", S("\"ab\"c\"d,e\n"),
	  "1-1@10 [abc\"d|e]\nEND@10\n" },
	{ "CR after closing quote", S("\"a\"\r\n\"b\"\r\n"),
	  "1-1@5 [a]\n2-2@10 [b]\nEND@10\n" },
	{ "CR inside quotes before the end", S("\"a\r\"\n"),
	  "1-1@5 [a\\r]\nEND@5\n" },
	{ "lone CR inside a field", S("a\rb,c\n"),
	  "1-1@6 [a\\rb|c]\nEND@6\n" },
	{ "CR line ends", S("a,b\rc,d\r"),
	  "1-1@4 [a|b]\n2-2@8 [c|d]\nEND@8\n" },
	{ "CR line ends, no final one", S("type,rcpt\rb,x@y.z\rd"),
	  "1-1@10 [type|rcpt]\n2-2@18 [b|x@y.z]\n3-3@19 [d]\nEND@19\n" },
	{ "CR line ends, CR in quotes", S("\"x\ry\",z\rq\r"),
	  "1-2@8 [x\\ny|z]\n3-3@10 [q]\nEND@10\n" },
	{ "CR line ends, blank lines", S("\r\ra\r\rb\r"),
	  "3-3@4 [a]\n5-5@7 [b]\nEND@7\n" },
	{ "CR data before the first LF", S("a\rb\nc\rd\n"),
	  "1-1@4 [a\\rb]\n2-2@8 [c\\rd]\nEND@8\n" },
	{ "blanks are data", S(" a , b \n"),
	  "1-1@8 [ a | b ]\nEND@8\n" },
	{ "unterminated quote at end", S("a,\"bc\nd,e\n"),
	  "1-1@6 BAD quoted field still open at end of input\n"
	  "2-2@10 [d|e]\nEND@10\n" },
	{ "unterminated quote, no line break", S("a,\"open"),
	  "1-1@7 BAD quoted field still open at end of input\nEND@7\n" },
	{ "NUL byte", S("a\0b\nc\n"),
	  "1-1@4 BAD NUL byte in record\n2-2@6 [c]\nEND@6\n" },
	{ "NUL byte in quotes", S("\"a\0\n\"\nc\n"),
	  "1-2@6 BAD NUL byte in record\n3-3@8 [c]\nEND@8\n" },
	/* the fast path cuts fields as it finds them and puts them back
	   when a later quoted field goes on past the line */
	{ "fields cut, then a quote open past the line",
	  S("a,\"b\",c\"d,\"\"\"e\nf\",g\n"),
	  "1-2@20 [a|b|c\"d|\"e\\nf|g]\nEND@20\n" },
	{ "NUL byte before a quote open past the line",
	  S("\"a\0b\",c,\"d\ne\"\n"),
	  "1-2@14 BAD NUL byte in record\nEND@14\n" },
	{ "PowerMTA b record",
	  S("type,timeLogged,rcpt,dsnDiag\r\n"
	    "b,2019-02-08 21:53:41+0000,A@yahoo.com,"
	    "\"smtp;554 5.7.1 Denied, \"\"Spam\"\" Suspected\"\r\n"),
	  "1-1@30 [type|timeLogged|rcpt|dsnDiag]\n"
	  "2-2@114 [b|2019-02-08 21:53:41+0000|A@yahoo.com|"
	  "smtp;554 5.7.1 Denied, \"Spam\" Suspected]\nEND@114\n" },
};

static void test_table(void **state)
{
	(void)state;
	check_cases(csv_cases, G_N_ELEMENTS(csv_cases), 0);
}

/* a file still written: a last line without its line break may be cut
   short, left unread (the offset before it) */
static const struct csv_case csv_cut_cases[] = {
	{ "no final line break", S("a,b"),
	  "1-0@0 BAD " CUT "\nEND@0\n" },
	{ "no final line break, quoted", S("a,\"b\""),
	  "1-0@0 BAD " CUT "\nEND@0\n" },
	{ "cut after a record", S("x\na,"),
	  "1-1@2 [x]\n2-1@2 BAD " CUT "\nEND@2\n" },
	{ "CR line ends, no final one", S("type,rcpt\rb,x@y.z\rd,x"),
	  "1-1@10 [type|rcpt]\n2-2@18 [b|x@y.z]\n3-2@18 BAD " CUT
	  "\nEND@18\n" },
	/* one field alone is no accounting record cut short: a list's
	   last address */
	{ "one field alone is taken", S("x\nalice@example.com"),
	  "1-1@2 [x]\n2-2@19 [alice@example.com]\nEND@19\n" },
	{ "a final CR only is no record", S("a\n\r"),
	  "1-1@2 [a]\nEND@3\n" },
	{ "whole lines", S("a\nb\n"),
	  "1-1@2 [a]\n2-2@4 [b]\nEND@4\n" },
};

static void test_cut(void **state)
{
	(void)state;
	cut_mode = true;
	check_cases(csv_cut_cases, G_N_ELEMENTS(csv_cut_cases), 0);
	cut_mode = false;
}

/* limit cases with a tiny record limit: 8 bytes before the line break */
static const struct csv_case csv_limit_cases[] = {
	{ "exactly the limit", S("12345678\nx\n"),
	  "1-1@9 [12345678]\n2-2@11 [x]\nEND@11\n" },
	{ "one over the limit", S("123456789\nx\n"),
	  "1-1@10 BAD record longer than the limit\n2-2@12 [x]\nEND@12\n" },
	{ "CR counts toward the limit", S("12345678\r\nx\n"),
	  "1-1@10 BAD record longer than the limit\n2-2@12 [x]\nEND@12\n" },
	/* a line break inside a quoted field is the field's, also past the
	   limit: the field's lines are never read as records */
	{ "long quoted record with LF", S("\"1\n3\n5\n7\n9\n\"\nx\n"),
	  "1-6@13 BAD record longer than the limit\n"
	  "7-7@15 [x]\nEND@15\n" },
	{ "a record in a long quoted field", S("a,\"1234567\nb,v@x\n\",z\nc\n"),
	  "1-3@21 BAD record longer than the limit\n4-4@23 [c]\nEND@23\n" },
	{ "escaped quotes past the limit", S("\"123456789\"\"\nq\"\"\"\nc\n"),
	  "1-2@18 BAD record longer than the limit\n3-3@20 [c]\nEND@20\n" },
	{ "an unquoted field's quote past the limit", S("123456789\"a\nc\n"),
	  "1-1@12 BAD record longer than the limit\n2-2@14 [c]\nEND@14\n" },
	{ "a quoted field opened past the limit", S("123456789,\"a\nb\"\nc\n"),
	  "1-2@16 BAD record longer than the limit\n3-3@18 [c]\nEND@18\n" },
	{ "long record at end of input", S("a\n0123456789abcdef"),
	  "1-1@2 [a]\n2-2@18 BAD record longer than the limit\nEND@18\n" },
	{ "CR line ends, first line over the limit", S("123456789\rx\r"),
	  "1-1@10 BAD record longer than the limit\n2-2@12 [x]\nEND@12\n" },
	{ "CR line ends within the limit", S("1234567\rx\r"),
	  "1-1@8 [1234567]\n2-2@10 [x]\nEND@10\n" },
	{ "long open quote", S("\"abcdefghijkl\nx\n"),
	  "1-2@16 BAD record longer than the limit, with a quoted field still "
	  "open at end of input (the lines after it are the field's)\n"
	  "END@16\n" },
	{ "long open quote, no line end", S("\"abcdefghijkl\nx"),
	  "1-2@15 BAD record longer than the limit, with a quoted field still "
	  "open at end of input (the lines after it are the field's)\n"
	  "END@15\n" },
};

static void test_small_limit(void **state)
{
	(void)state;
	check_cases(csv_limit_cases, G_N_ELEMENTS(csv_limit_cases), 8);
}

/* a 100 KiB line is bad; the lines around it still parse */
static void test_long_line(void **state)
{
	size_t big = 100 * 1024, i;
	GString *in = g_string_new("a,b\n");
	char expect[256];

	(void)state;
	for (i = 0; i < big; i++)
		g_string_append_c(in, i % 1000 == 10 ? '"' : 'x');
	g_string_append(in, "\r\nc,\"d\"\n");
	snprintf(expect, sizeof(expect),
		 "1-1@4 [a|b]\n2-2@%zu BAD record longer than the limit\n"
		 "3-3@%zu [c|d]\nEND@%zu\n", 4 + big + 2, in->len, in->len);
	check_all_chunkings("100 KiB line", in->str, in->len, 0, expect);
	g_string_free(in, TRUE);
}

/* resident_kib - this process's resident set, in KiB */
static long resident_kib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size = 0, res = 0;

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &res) != 2)
		res = -1;
	fclose(f);
	return res < 0 ? -1 : res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* huge_line - a 32 MB line without line break does not grow the buffer,
   its chunks pushed in (ROOM: through the reader's room) */
static void huge_line(bool room)
{
	struct csv_reader *r = csv_reader_new(0, 0, 0);
	char chunk[4096];
	struct csv_row row;
	long before, after;
	size_t i, n = 8192;

	assert_non_null(r);
	memset(chunk, 'y', sizeof(chunk));
	chunk[100] = '"';
	push(r, "h\n", 2, room);
	assert_int_equal(csv_reader_next(r, &row, false), CSV_ROW);
	before = resident_kib();
	for (i = 0; i < n; i++) {
		push(r, chunk, sizeof(chunk), room);
		assert_int_equal(csv_reader_next(r, &row, false),
				 CSV_NEED_MORE);
	}
	after = resident_kib();
	if (before > 0 && after > 0)
		assert_true(after - before < 8 * 1024);
	push(r, "\nok\n", 4, room);
	assert_int_equal(csv_reader_next(r, &row, false), CSV_BAD);
	assert_int_equal(row.line, 2);
	assert_int_equal(row.end_line, 2);
	assert_int_equal(row.end_offset, 2 + n * sizeof(chunk) + 1);
	assert_int_equal(csv_reader_next(r, &row, false), CSV_ROW);
	assert_int_equal(row.line, 3);
	assert_string_equal(row.fields[0], "ok");
	assert_int_equal(row.end_offset, 2 + n * sizeof(chunk) + 4);
	assert_int_equal(csv_reader_next(r, &row, true), CSV_END);
	csv_reader_free(r);
}

static void test_huge_line_bounded(void **state)
{
	(void)state;
	huge_line(false);
	huge_line(true);
}

/* 512 fields are fine, 513 are a bad record */
static void test_max_fields(void **state)
{
	GString *in = g_string_new(NULL);
	char *got, *p;
	size_t i;

	(void)state;
	for (i = 0; i < CSV_MAX_FIELDS; i++)
		g_string_append(in, i ? ",f" : "f");
	g_string_append(in, "\n");
	for (i = 0; i < CSV_MAX_FIELDS + 1; i++)
		g_string_append(in, i ? ",\"g\"" : "\"g\"");
	g_string_append(in, "\n");
	for (i = 0; i < CSV_MAX_FIELDS + 1; i++)
		g_string_append(in, i ? ",h" : "h");
	g_string_append(in, "\nlast\n");
	got = transcript(in->str, in->len, CH_WHOLE, 1, 0, 0, 0);
	p = strchr(got, '\n');
	assert_non_null(p);
	assert_non_null(strstr(got, "2-2@"));
	assert_non_null(strstr(got, " BAD more than 512 fields in record\n3-3@"));
	assert_non_null(strstr(got, " BAD more than 512 fields in record\n4-4@"));
	assert_non_null(strstr(got, " [last]\n"));
	/* the first record has 512 fields */
	assert_int_equal(strncmp(got, "1-1@1024 [f|f|", 14), 0);
	check_all_chunkings("max fields", in->str, in->len, 0, got);
	g_free(got);
	g_string_free(in, TRUE);
}

/* offsets and line numbers start where the reader is told */
static void test_start_offset(void **state)
{
	char *got;

	(void)state;
	got = transcript(S("a\n\"b\nc\"\n"), CH_WHOLE, 1, 0, 1000, 41);
	assert_string_equal(got, "42-42@1002 [a]\n43-44@1008 [b\\nc]\nEND@1008\n");
	g_free(got);
}

/* every record's end offset and line resume the rest of the input (a
   last line cut short: itself and the rest) */
static void test_resume(void **state)
{
	static const char in[] =
		"type,rcpt,dsnDiag\r\n\r\n"
		"b,x@y,\"550 a,\r\nb\"\r\n"
		"b,\0bad\r\n"
		"\n"
		"b,\"q\"\"\",tail\r\n"
		"b,open\"quote,here\n"
		"b,z@w,\"unterminated\n"
		"b,last";
	size_t len = sizeof(in) - 1;
	char *full = transcript(in, len, CH_WHOLE, 1, 0, 0, 0);
	char **lines = g_strsplit(full, "\n", -1);
	size_t i, nlines = g_strv_length(lines);

	(void)state;
	assert_true(nlines >= 6);
	for (i = 0; lines[i] && lines[i][0] && strncmp(lines[i], "END", 3); i++) {
		unsigned long long l1, l2, off;
		char *rest, *tail;
		GString *expect = g_string_new(NULL);
		size_t j;

		assert_int_equal(sscanf(lines[i], "%llu-%llu@%llu", &l1, &l2,
					&off), 3);
		assert_true(off <= len);
		/* a last line cut short ends where it starts: read from
		   there, it comes again */
		for (j = l2 + 1 == l1 ? i : i + 1; lines[j] && lines[j][0];
		     j++)
			g_string_append_printf(expect, "%s\n", lines[j]);
		rest = transcript(in + off, len - off, CH_SMALL, i + 3, 0, off,
				  l2);
		tail = g_string_free(expect, FALSE);
		assert_string_equal(rest, tail);
		g_free(rest);
		g_free(tail);
	}
	g_strfreev(lines);
	g_free(full);
}

/* a record waits for its line break; offset covers blank lines taken */
static void test_need_more_and_offset(void **state)
{
	struct csv_reader *r = csv_reader_new(0, 0, 0);
	struct csv_row row;

	(void)state;
	assert_non_null(r);
	assert_int_equal(csv_reader_next(r, &row, false), CSV_NEED_MORE);
	assert_int_equal(csv_reader_feed(r, "a,b\n\n\r\nc,", 9), 0);
	assert_int_equal(csv_reader_next(r, &row, false), CSV_ROW);
	assert_int_equal(row.nfields, 2);
	assert_int_equal(csv_reader_offset(r), 4);
	assert_int_equal(csv_reader_next(r, &row, false), CSV_NEED_MORE);
	assert_int_equal(csv_reader_offset(r), 7);
	assert_int_equal(csv_reader_feed(r, "\"d", 2), 0);
	assert_int_equal(csv_reader_next(r, &row, false), CSV_NEED_MORE);
	assert_int_equal(csv_reader_feed(r, "\"\n", 2), 0);
	assert_int_equal(csv_reader_next(r, &row, false), CSV_ROW);
	assert_int_equal(row.line, 4);
	assert_int_equal(row.nfields, 2);
	assert_string_equal(row.fields[0], "c");
	assert_string_equal(row.fields[1], "d");
	assert_int_equal(row.lens[1], 1);
	assert_int_equal(row.end_offset, 13);
	assert_int_equal(csv_reader_next(r, &row, false), CSV_NEED_MORE);
	assert_int_equal(csv_reader_next(r, &row, true), CSV_END);
	assert_string_equal(csv_reader_error(r), "no error");
	csv_reader_free(r);
}

/* quoted records of up to 4096 bytes and longer (the quoted path finds
   the commas of those by a bit each, of longer ones by memchr) read alike
   in any chunking: fields across the bits' 64-byte words, doubled
   quotes */
static void test_long_quoted(void **state)
{
	static const size_t lens[] = { 63, 64, 65, 127, 4000, 4094, 4095,
				       4096, 4097, 5000 };
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		GString *in = g_string_new("a,\"");
		char *whole;

		/* the line of about LENS[I] bytes: a quoted field of
		   commas and doubled quotes, then an unquoted one */
		for (k = 0; in->len < lens[i] - 3; k++)
			g_string_append(in, k % 7 == 3 ? "," :
					    k % 11 == 5 ? "\"\"" : "x");
		g_string_append(in, "\",z\nb,\"c\"\n");
		whole = transcript(in->str, in->len, CH_WHOLE, 1, 0, 0, 0);
		assert_non_null(strstr(whole, "z"));
		check_all_chunkings("long quoted", in->str, in->len, 0, whole);
		g_free(whole);
		g_string_free(in, TRUE);
	}
}

/* random mixes of the hard parts read alike in any chunking */
static void test_random_inputs(void **state)
{
	static const char *const parts[] = {
		"a", ",", "\"", "\"\"", "\n", "\r\n", "\r", "x,y", "\"q,\n\"",
		"\0", " ", "long-field-value-", "\n\n",
		/* quoted fields closed on their line (the fast path) */
		"\"a,b\"", "\"x\"\"y\"", "\"j\"unk", ",\"\",", "\"c\"\r\n",
		"\"\r\"",
		/* long enough for whole 16-byte steps of the one-pass scan,
		   with line breaks, commas, quotes and NULs falling anywhere
		   in them */
		"0123456789abcdef,", "0123456789,abcdefghij,klmnopqrstu,vw",
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ", ",,,,,,,,,,,,,,,,,,,",
		/* quoted fields across the 64-byte words of the quoted
		   path's comma bits, doubled quotes and commas on either
		   side */
		"0123456789012345678901234567890123456789012345678901234567",
		"\"0123456789,012345678901234567\"\"89012345678901234,567890"
		"123456789\"\"0123456789\"",
	};
	struct rng rg = { 12345 };
	int round;

	(void)state;
	for (round = 0; round < 3000; round++) {
		GString *in = g_string_new(NULL);
		size_t nparts = 1 + rng_next(&rg) % 40, k;
		size_t limit = (round % 3 == 0) ? 12 : 0;
		char *whole;

		for (k = 0; k < nparts; k++) {
			size_t pi = rng_next(&rg) % (sizeof(parts) / sizeof(parts[0]));

			if (parts[pi][0] == '\0')
				g_string_append_c(in, '\0');
			else
				g_string_append(in, parts[pi]);
		}
		cut_mode = round & 1;	/* half of them as files still written */
		whole = transcript(in->str, in->len, CH_WHOLE, 1, limit, 0, 0);
		check_all_chunkings("random", in->str, in->len, limit, whole);
		cut_mode = false;
		g_free(whole);
		g_string_free(in, TRUE);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_small_limit),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_huge_line_bounded),
		cmocka_unit_test(test_max_fields),
		cmocka_unit_test(test_start_offset),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_need_more_and_offset),
		cmocka_unit_test(test_long_quoted),
		cmocka_unit_test(test_random_inputs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
