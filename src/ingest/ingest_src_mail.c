/*
 * ingest_src_mail.c - the source of one mail of the spool (an ARF report
 * in fbl/, an unsubscribe mail in unsub/): its bytes are kept whole (at
 * most max-size), and at the end of the input its parser (mail_events.c)
 * turns them into at most INGEST_MAIL_EVENTS events.
 *
 * What the parser says becomes the answer of next: its events one by one
 * (each on line 1 of the mail), then the end; a mail it sets aside is
 * INGEST_NEXT_ASIDE with what the mail is and the counter of its kind; a
 * mail it cannot use (-EINVAL), or one larger than max-size (refused
 * before it is read), is INGEST_NEXT_REFUSED with the reason.  Other
 * errors of the parser are returned as they come.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest_src.h"

struct ingest_mail {
	struct ingest_src src;
	ingest_mail_parse_fn parse;
	void *parse_arg;
	const char *key;
	int64_t mtime;
	uint64_t max_size;
	uint64_t size;			/* its size when opened, or more */
	char *buf;			/* the mail, NUL-terminated */
	size_t len, cap;
	bool eof, parsed, big;
	int verdict;			/* 0, INGEST_NEXT_ASIDE or _REFUSED */
	int error;			/* -errno of the parser */
	struct event evs[INGEST_MAIL_EVENTS];
	size_t n, next;
	const char *counter;
	char why[512];
};

/* ingest_mail_feed - keep LEN bytes (LEN 0: the end) */
static int ingest_mail_feed(struct ingest_src *s, const char *buf, size_t len)
{
	struct ingest_mail *m = (struct ingest_mail *)s;
	size_t want;
	char *nb;

	if (len == 0) {
		m->eof = true;
		return 0;
	}
	if (m->big)
		return 0;
	if (len > m->max_size - m->len) {
		m->big = true;		/* grew beyond the limit meanwhile */
		m->size = (uint64_t)m->len + len;
		return 0;
	}
	want = m->len + len + 1;
	if (want > m->cap) {
		size_t cap = m->cap ? m->cap : 64 * 1024;

		while (cap < want)
			cap *= 2;
		nb = realloc(m->buf, cap);
		if (!nb)
			return -ENOMEM;
		m->buf = nb;
		m->cap = cap;
	}
	memcpy(m->buf + m->len, buf, len);
	m->len += len;
	m->buf[m->len] = '\0';
	return 0;
}

/* ingest_mail_parse - the whole mail through the parser */
static void ingest_mail_parse(struct ingest_mail *m)
{
	static char empty[1];
	int rc;

	m->parsed = true;
	memset(m->evs, 0, sizeof(m->evs));
	m->why[0] = '\0';
	rc = m->parse(m->buf ? m->buf : empty, m->len, m->key, m->mtime, m->evs,
		      INGEST_MAIL_EVENTS, &m->n, &m->counter, m->parse_arg,
		      m->why, sizeof(m->why));
	if (m->n > INGEST_MAIL_EVENTS)
		m->n = INGEST_MAIL_EVENTS;
	if (rc == INGEST_MAIL_ASIDE) {
		m->n = 0;
		if (m->counter)
			m->verdict = INGEST_NEXT_ASIDE;
		else
			m->error = -EINVAL;
	} else if (rc == -EINVAL) {
		m->n = 0;
		m->verdict = INGEST_NEXT_REFUSED;
	} else if (rc) {
		m->n = 0;
		m->error = rc;
	}
}

/* ingest_mail_next - the parser's events, or its verdict */
static int ingest_mail_next(struct ingest_src *s, struct event *ev,
			    struct ingest_note *note)
{
	struct ingest_mail *m = (struct ingest_mail *)s;

	note->line = 1;
	if (m->big) {
		snprintf(m->why, sizeof(m->why), "%llu bytes, more than "
			 "drop-max-size (%llu)", (unsigned long long)m->size,
			 (unsigned long long)m->max_size);
		note->why = m->why;
		return INGEST_NEXT_REFUSED;
	}
	if (!m->eof)
		return INGEST_NEXT_MORE;
	if (!m->parsed)
		ingest_mail_parse(m);
	if (m->error)
		return m->error;
	if (m->verdict) {
		note->why = m->why;
		note->counter = m->counter;
		return m->verdict;
	}
	if (m->next >= m->n)
		return INGEST_NEXT_END;
	*ev = m->evs[m->next++];
	ev->source = m->key;
	ev->line = 1;
	return INGEST_NEXT_EVENT;
}

/* ingest_mail_position - the whole mail, once it was read */
static void ingest_mail_position(const struct ingest_src *s,
				 struct ingest_pos *pos)
{
	const struct ingest_mail *m = (const struct ingest_mail *)s;

	pos->offset = m->len;
	pos->lines = 0;
}

static void ingest_mail_free(struct ingest_src *s)
{
	struct ingest_mail *m = (struct ingest_mail *)s;

	free(m->buf);
	free(m);
}

static const struct ingest_src_ops ingest_mail_ops = {
	.feed = ingest_mail_feed,
	.next = ingest_mail_next,
	.position = ingest_mail_position,
	.free = ingest_mail_free,
};

/* ingest_src_mail_new - one mail; refused at once when larger than
   max-size */
int ingest_src_mail_new(const struct ingest_src_args *a,
			struct ingest_src **out)
{
	struct ingest_mail *m = calloc(1, sizeof(*m));

	*out = NULL;
	if (!m)
		return -ENOMEM;
	m->src.ops = &ingest_mail_ops;
	m->size = a->size;
	m->parse = a->parse;
	m->parse_arg = a->parse_arg;
	m->key = a->source;
	m->mtime = a->default_time;
	m->max_size = a->max_size;
	m->big = a->size > a->max_size;
	*out = &m->src;
	return 0;
}
