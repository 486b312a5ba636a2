/*
 * test_ingest_src.c - the sources of ingest (ingest_src.h) on their own:
 * an accounting file fed whole and byte by byte gives the same events,
 * answers and positions; records that are no events say what they were;
 * events come unclassified; the rows before a resume point give nothing
 * but their header line; an address list is recognised at the first row;
 * an address written with capitals keeps that form beside the key;
 * comment lines give nothing, a "#type" header sets the columns and a
 * row of another width than its header line is a bad line;
 * a mail's parser decides between events, set aside and refused, and a
 * mail larger than its limit is refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ingest_src.h"
#include "log.h"

static const char acct[] =
	"type,timeLogged,orig,rcpt,dsnStatus,bounceCat,jobId\r\n"
	"b,2026-11-20 10:00:00+0000,news@example.com,<Anna@Example.COM>,"
	"5.1.1,bad-mailbox,job-1\r\n"
	"t,2026-11-20 10:00:01+0000,news@example.com,bob@example.com,,,\r\n"
	"b,2026-11-20 10:00:02+0000,news@example.com,not an address,5.1.1,"
	"bad-mailbox,\r\n"
	"f,2026-11-20 10:00:03+0000,news@example.com,,,,\r\n"
	"type,bounceCat,rcpt\r\n"
	"d,,carl@example.com\r\n";

static char *const fallback_names[] = { "type", "timeLogged", "orig", "rcpt",
					NULL };

/* one answer of next, with what came with it */
struct got {
	int rc;
	char rcpt[ADDR_MAX + 1];
	char written[ADDR_MAX + 1];	/* x->rcpt_written, "" when none */
	int kind, klass;
	uint64_t line;
	char why[200];
	char source[64];
	struct ingest_pos pos;
};

/* args - what the sources know of the test input */
static void args(struct ingest_src_args *a, struct acct_map *fb)
{
	char err[128];

	memset(a, 0, sizeof(*a));
	assert_int_equal(acct_map_from_names(fb, fallback_names, err,
					     sizeof(err)), 0);
	a->name = "test.csv";
	a->source = "/in/test.csv";
	a->default_time = 1790000000;
	a->fallback = fb;
}

/* done - the answer ends the input */
static bool done(int rc)
{
	return rc == INGEST_NEXT_END || rc == INGEST_NEXT_ASIDE ||
	       rc == INGEST_NEXT_REFUSED;
}

/* drain - every answer of S until more is wanted or the end */
static int drain(struct ingest_src *s, struct got *g, int max, int n)
{
	struct ingest_note note;
	struct event ev;
	int rc;

	for (;;) {
		memset(&note, 0, sizeof(note));
		rc = s->ops->next(s, &ev, &note);
		assert_true(rc > 0);
		if (rc == INGEST_NEXT_MORE)
			return n;
		assert_true(n < max);
		memset(&g[n], 0, sizeof(g[n]));
		g[n].rc = rc;
		s->ops->position(s, &g[n].pos);
		if (rc == INGEST_NEXT_EVENT) {
			snprintf(g[n].rcpt, sizeof(g[n].rcpt), "%s", ev.rcpt);
			snprintf(g[n].written, sizeof(g[n].written), "%s",
				 EVENT_X(&ev, rcpt_written) ?
					 EVENT_X(&ev, rcpt_written) : "");
			snprintf(g[n].source, sizeof(g[n].source), "%s",
				 ev.source);
			g[n].kind = ev.kind;
			g[n].klass = ev.klass;
			g[n].line = ev.line;
		} else {
			g[n].line = note.line;
			snprintf(g[n].why, sizeof(g[n].why), "%s",
				 note.why ? note.why : "");
		}
		n++;
		if (done(rc))
			return n;
	}
}

/* take - DATA through a new source of MAKE, CHUNK bytes at a time */
static int take(int (*make)(const struct ingest_src_args *, bool,
			    struct ingest_src **),
		const struct ingest_src_args *a, const char *data, size_t len,
		size_t chunk, struct got *g, int max)
{
	struct ingest_src *s = NULL;
	size_t off;
	int n = 0;

	assert_int_equal(make(a, true, &s), 0);
	for (off = 0; off < len; off += chunk) {
		size_t k = len - off < chunk ? len - off : chunk;

		assert_int_equal(s->ops->feed(s, data + off, k), 0);
		n = drain(s, g, max, n);
		if (n && done(g[n - 1].rc))
			break;
	}
	if (!n || !done(g[n - 1].rc)) {
		assert_int_equal(s->ops->feed(s, NULL, 0), 0);
		n = drain(s, g, max, n);
	}
	ingest_src_free(s);
	return n;
}

/* take_whole_and_bytes - DATA through an accounting source whole into
   WHOLE and byte by byte into BYTES: the same answers, lines and
   positions; their number */
static int take_whole_and_bytes(const struct ingest_src_args *a,
				const char *data, size_t len, struct got *whole,
				struct got *bytes, int max)
{
	int n, m, i;

	n = take(ingest_src_csv_new, a, data, len, len + 1, whole, max);
	m = take(ingest_src_csv_new, a, data, len, 1, bytes, max);
	assert_int_equal(m, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(bytes[i].rc, whole[i].rc);
		assert_string_equal(bytes[i].rcpt, whole[i].rcpt);
		assert_string_equal(bytes[i].written, whole[i].written);
		assert_int_equal(bytes[i].line, whole[i].line);
		assert_int_equal(bytes[i].pos.offset, whole[i].pos.offset);
		assert_int_equal(bytes[i].pos.lines, whole[i].pos.lines);
	}
	return n;
}

static void test_csv(void **state)
{
	struct ingest_src_args a;
	struct acct_map fb;
	struct got whole[16], bytes[16];
	int n;

	(void)state;
	args(&a, &fb);
	n = take_whole_and_bytes(&a, acct, sizeof(acct) - 1, whole, bytes, 16);
	assert_int_equal(n, 6);
	assert_int_equal(whole[0].rc, INGEST_NEXT_EVENT);
	assert_string_equal(whole[0].rcpt, "anna@example.com");
	/* as written, for a provider that compares exactly */
	assert_string_equal(whole[0].written, "Anna@Example.COM");
	assert_string_equal(whole[0].source, "/in/test.csv");
	assert_int_equal(whole[0].kind, EV_BOUNCE);
	assert_int_equal(whole[0].klass, CLASS_IGNORE);	/* not classified */
	assert_int_equal(whole[0].line, 2);
	assert_int_equal(whole[0].pos.lines, 2);
	assert_int_equal(whole[1].rc, INGEST_NEXT_SKIPPED);
	assert_int_equal(whole[2].rc, INGEST_NEXT_BAD);
	assert_int_equal(whole[2].line, 4);
	assert_non_null(strstr(whole[2].why, "not an address"));
	assert_int_equal(whole[3].rc, INGEST_NEXT_NORCPT);
	assert_int_equal(whole[3].line, 5);
	/* the header line in the middle changed the columns */
	assert_int_equal(whole[4].rc, INGEST_NEXT_EVENT);
	assert_string_equal(whole[4].rcpt, "carl@example.com");
	assert_string_equal(whole[4].written, "");
	assert_int_equal(whole[4].kind, EV_DELIVERY);
	assert_int_equal(whole[4].pos.offset, sizeof(acct) - 1);
	assert_int_equal(whole[5].rc, INGEST_NEXT_END);
	assert_int_equal(whole[5].pos.lines, 7);
}

/* the rows before the resume point give nothing; a header line among
   them still sets the columns */
static void test_resume(void **state)
{
	struct ingest_src_args a;
	struct acct_map fb;
	struct got g[16];
	const char *hdr = strstr(acct, "type,bounceCat,rcpt");
	int n;

	(void)state;
	args(&a, &fb);
	a.skip_until = (uint64_t)(hdr - acct) + strlen("type,bounceCat,rcpt\r\n");
	n = take(ingest_src_csv_new, &a, acct, sizeof(acct) - 1, 5, g, 16);
	assert_int_equal(n, 2);
	assert_int_equal(g[0].rc, INGEST_NEXT_EVENT);
	assert_string_equal(g[0].rcpt, "carl@example.com");
	assert_int_equal(g[0].kind, EV_DELIVERY);
	assert_int_equal(g[0].line, 7);
	assert_int_equal(g[1].rc, INGEST_NEXT_END);
}

/* a comment line, a header written "#type,...", and rows of another
   width than their header line: the comments give nothing (not even
   before the file is told an accounting file), the "#type" header sets
   the columns, and a row narrower or wider than it is a bad line, never
   an event for the address in its rcpt column */
static const char layouts[] =
	"# PowerMTA accounting, host mta1\r\n"
	"#type,timeLogged,orig,rcpt,bounceCat\r\n"
	"b,2026-06-04 10:00:00+0000,news@example.com,ann@example.org,"
	"bad-mailbox\r\n"
	"# rotated\n"
	"type,rcpt,bounceCat\n"
	"b,2026-06-04 10:01:00+0000,news@example.com,bo@example.org,"
	"bad-mailbox\n"
	"b,cy@example.org\n"
	"b,dee@example.org,bad-domain\n";

static void test_layouts(void **state)
{
	struct ingest_src_args a;
	struct acct_map fb;
	struct got whole[16], bytes[16];
	int n;

	(void)state;
	args(&a, &fb);
	n = take_whole_and_bytes(&a, layouts, sizeof(layouts) - 1, whole,
				 bytes, 16);
	assert_int_equal(n, 5);
	assert_int_equal(whole[0].rc, INGEST_NEXT_EVENT);
	assert_string_equal(whole[0].rcpt, "ann@example.org");
	assert_int_equal(whole[0].kind, EV_BOUNCE);
	assert_int_equal(whole[0].line, 3);
	/* five fields under a header of three: its rcpt column holds the
	   sender */
	assert_int_equal(whole[1].rc, INGEST_NEXT_BAD);
	assert_int_equal(whole[1].line, 6);
	assert_string_equal(whole[1].why, "5 fields where the header line "
			    "(line 5) has 3: not written in its layout");
	assert_int_equal(whole[2].rc, INGEST_NEXT_BAD);
	assert_int_equal(whole[2].line, 7);
	assert_non_null(strstr(whole[2].why, "2 fields where"));
	assert_int_equal(whole[3].rc, INGEST_NEXT_EVENT);
	assert_string_equal(whole[3].rcpt, "dee@example.org");
	assert_int_equal(whole[3].line, 8);
	assert_int_equal(whole[4].rc, INGEST_NEXT_END);
}

/* an address where the type should be: a list, read as one */
static void test_detect_list(void **state)
{
	static const char list[] = "Anna@Example.com\nemail\nbob@example.org\n";
	struct ingest_src_args a;
	struct acct_map fb;
	struct got g[8];
	int n;

	(void)state;
	log_set_level(BLOG_ERROR);
	args(&a, &fb);
	n = take(ingest_src_csv_new, &a, list, sizeof(list) - 1, 3, g, 8);
	assert_int_equal(n, 4);
	assert_int_equal(g[0].rc, INGEST_NEXT_EVENT);
	assert_int_equal(g[0].kind, EV_LIST);
	assert_string_equal(g[0].rcpt, "anna@example.com");
	assert_string_equal(g[0].written, "Anna@Example.com");
	assert_int_equal(g[1].rc, INGEST_NEXT_BAD);	/* not on line 1 */
	assert_int_equal(g[2].rc, INGEST_NEXT_EVENT);
	assert_string_equal(g[2].rcpt, "bob@example.org");
	assert_string_equal(g[2].written, "");
	assert_int_equal(g[3].rc, INGEST_NEXT_END);
}

/* a mail's parser: what the test mail's first byte asks for */
static int parse(const char *buf, size_t len, const char *key, int64_t mtime,
		 struct event *evs, size_t max, size_t *n, const char **aside,
		 void *arg, char *why, size_t whylen)
{
	(void)key;
	(void)arg;
	assert_true(max >= 2);
	assert_int_equal(mtime, 1790000000);
	assert_int_equal(buf[len], '\0');
	*n = 0;
	switch (buf[0]) {
	case 'E':
		evs[0].kind = EV_ARF;
		evs[0].rcpt = "anna@example.com";
		evs[1].kind = EV_ARF;
		evs[1].rcpt = "bob@example.com";
		*n = 2;
		return 0;
	case 'A':
		*aside = "count.fbl_dsn";
		snprintf(why, whylen, "a bounce");
		return INGEST_MAIL_ASIDE;
	default:
		snprintf(why, whylen, "names no one");
		return -EINVAL;
	}
}

/* mail_make - a mail source (the detect flag means nothing to it) */
static int mail_make(const struct ingest_src_args *a, bool detect,
		     struct ingest_src **out)
{
	(void)detect;
	return ingest_src_mail_new(a, out);
}

static void test_mail(void **state)
{
	static const char events[] = "Events\n", aside[] = "Aside\n",
			  refused[] = "Refused\n";
	struct ingest_src_args a;
	struct acct_map fb;
	struct got g[8];
	int n;

	(void)state;
	args(&a, &fb);
	a.parse = parse;
	a.max_size = 100;
	a.size = sizeof(events) - 1;
	n = take(mail_make, &a, events, sizeof(events) - 1, 2, g, 8);
	assert_int_equal(n, 3);
	assert_int_equal(g[0].rc, INGEST_NEXT_EVENT);
	assert_string_equal(g[0].rcpt, "anna@example.com");
	assert_string_equal(g[0].source, "/in/test.csv");
	assert_int_equal(g[0].line, 1);
	assert_int_equal(g[1].rc, INGEST_NEXT_EVENT);
	assert_int_equal(g[2].rc, INGEST_NEXT_END);
	assert_int_equal(g[2].pos.offset, sizeof(events) - 1);

	n = take(mail_make, &a, aside, sizeof(aside) - 1, 100, g, 8);
	assert_int_equal(n, 1);
	assert_int_equal(g[0].rc, INGEST_NEXT_ASIDE);
	assert_string_equal(g[0].why, "a bounce");

	n = take(mail_make, &a, refused, sizeof(refused) - 1, 100, g, 8);
	assert_int_equal(n, 1);
	assert_int_equal(g[0].rc, INGEST_NEXT_REFUSED);
	assert_string_equal(g[0].why, "names no one");

	/* larger than the limit: refused before the end */
	a.max_size = 4;
	n = take(mail_make, &a, events, sizeof(events) - 1, 3, g, 8);
	assert_int_equal(n, 1);
	assert_int_equal(g[0].rc, INGEST_NEXT_REFUSED);
	assert_non_null(strstr(g[0].why, "more than drop-max-size (4)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_detect_list),
		cmocka_unit_test(test_mail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
