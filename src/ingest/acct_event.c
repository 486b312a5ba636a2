/*
 * acct_event.c - an accounting row becomes an event.
 *
 * Picks the fields bounced uses out of a mapped row, checks the record type,
 * normalises the recipient and parses the time; a row that cannot be used
 * is reported with a reason (the caller logs it with file and line).  The
 * event is not classified here: ingest does that, once, for every input.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "acct_event.h"
#include "addr.h"
#include "arf.h"
#include "mail_events.h"
#include "timeparse.h"

/* acct_type_kind - record type to event kind */
enum event_kind acct_type_kind(const char *type, size_t len)
{
	acct_trim(&type, &len);
	if (len == 0)
		return EV_NONE;
	if (len == 1 && (type[0] == 'b' || type[0] == 'B'))
		return EV_BOUNCE;
	if (len == 2 && strncasecmp(type, "rb", 2) == 0)
		return EV_REMOTE_BOUNCE;
	if (len == 1 && (type[0] == 'f' || type[0] == 'F'))
		return EV_FEEDBACK;
	if (len == 1 && (type[0] == 'd' || type[0] == 'D'))
		return EV_DELIVERY;
	return EV_SKIPPED;
}

/* acct_type_known - a record type PowerMTA writes? */
bool acct_type_known(const char *type, size_t len)
{
	static const char *const known[] = { "d", "b", "rb", "f", "t", "tq",
					     "r", "rs" };
	size_t i;

	acct_trim(&type, &len);
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strlen(known[i]) == len &&
		    strncasecmp(type, known[i], len) == 0)
			return true;
	return false;
}

/* acct_show - a bounded, printable excerpt of a field for messages */
static void acct_show(char *out, size_t outlen, const char *s, size_t n)
{
	size_t i, j = 0;

	for (i = 0; i < n && j + 4 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		out[j++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (i < n && j + 3 < outlen) {
		memcpy(out + j, "...", 3);
		j += 3;
	}
	out[j] = '\0';
}

/* a record time more than this after the file was written, and after
   now, is not believed (a host's clock years off, a typo): one such soft
   bounce would expire every later one on arrival for as long */
#define ACCT_TIME_AHEAD 86400

/* acct_event_time - timeLogged, else timeQueued, else DEFAULT_TIME (also
   for a time more than ACCT_TIME_AHEAD after DEFAULT_TIME and now) */
static int acct_event_time(const struct acct_map *map, const struct csv_row *row,
			   int64_t default_time, int64_t *t, char *why,
			   size_t whylen)
{
	static const enum acct_field order[] = { AF_TIME_LOGGED, AF_TIME_QUEUED };
	size_t i, n;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *v = acct_get(map, row, order[i], &n);
		char show[64];

		if (n == 0)
			continue;
		if (timeparse_pmta(v, n, t) == 0) {
			if (*t > default_time + ACCT_TIME_AHEAD &&
			    *t > (int64_t)time(NULL) + ACCT_TIME_AHEAD)
				*t = default_time;
			return 0;
		}
		acct_show(show, sizeof(show), v, n);
		snprintf(why, whylen, "bad %s '%s'", acct_field_name(order[i]),
			 show);
		return -1;
	}
	*t = default_time;
	return 0;
}

/* acct_uid_key - the "uid:" key (mail_events.h) of the subscriber an
   anonymised f record's headers name into OUT (ADDR_MAX + 1): MailWizz's
   X-Mw-Subscriber-Uid, else Interspire's X-Mailer-LID + X-Mailer-RecptId;
   0, or -1 when they name none */
static int acct_uid_key(const struct acct_map *map, const struct csv_row *row,
			char *out)
{
	return mail_uid_key(acct_get(map, row, AF_HDR_X_MW_SUBSCRIBER_UID, NULL),
			    acct_get(map, row, AF_HDR_X_MAILER_LID, NULL),
			    acct_get(map, row, AF_HDR_X_MAILER_RECPTID, NULL),
			    out, ADDR_MAX + 1);
}

/* acct_event_extra - the rarer columns, and WRITTEN (the recipient as
   written, NULL when it is the normalised one), into XBUF, and EV->x =
   XBUF when the row has any of them */
static void acct_event_extra(const struct acct_map *map,
			     const struct csv_row *row, struct event *ev,
			     struct event_extra *x, const char *written)
{
	memset(x, 0, sizeof(*x));
	x->rcpt_written = written;
	x->mw_subscriber_uid = acct_get(map, row, AF_HDR_X_MW_SUBSCRIBER_UID,
					NULL);
	x->list_id = acct_get(map, row, AF_HDR_LIST_ID, NULL);
	x->iem_list_id = acct_get(map, row, AF_HDR_X_MAILER_LID, NULL);
	x->iem_subscriber_id = acct_get(map, row, AF_HDR_X_MAILER_RECPTID,
					NULL);
	if (ev->kind == EV_FEEDBACK) {
		/* who reported it: the MTA generating the report, else the
		   program's name; never reportedDomain, the domain the
		   report is about (ours) */
		x->reporter = acct_get(map, row, AF_REPORTING_MTA, NULL);
		if (!*x->reporter)
			x->reporter = acct_get(map, row, AF_USER_AGENT, NULL);
		x->subject = acct_get(map, row, AF_HDR_SUBJECT, NULL);
	}
	if (*x->mw_subscriber_uid || *x->list_id || *x->iem_list_id ||
	    *x->iem_subscriber_id || (x->reporter && *x->reporter) ||
	    (x->subject && *x->subject) || written)
		ev->x = x;
}

/* acct_redacted - the field S (N bytes) stands for a hidden recipient
   (arf_redacted, as a report mail's) */
static bool acct_redacted(const char *s, size_t n)
{
	char buf[ADDR_MAX + 1];

	if (n >= sizeof(buf))
		return false;	/* not an address anyway: said as such */
	memcpy(buf, s, n);
	buf[n] = '\0';
	return arf_redacted(buf) != 0;
}

static const char *acct_str(const struct acct_map *map,
			    const struct csv_row *row, enum acct_field f)
{
	return acct_get(map, row, f, NULL);
}

enum acct_event_result acct_event_from_row(const struct acct_map *map,
					   const struct csv_row *row,
					   int64_t default_time,
					   struct event *ev, char *rcpt_buf,
					   char *written,
					   struct event_extra *xbuf,
					   char *why,
					   size_t whylen)
{
	const char *type, *rcpt;
	size_t tlen, rlen;
	char show[96];

	memset(ev, 0, sizeof(*ev));
	written[0] = '\0';
	type = acct_get(map, row, AF_TYPE, &tlen);
	ev->kind = acct_type_kind(type, tlen);
	ev->type_text = type;
	ev->line = row->line;
	if (ev->kind == EV_NONE) {
		snprintf(why, whylen, "no record type");
		return ACCT_EVENT_BAD;
	}
	if (ev->kind == EV_SKIPPED) {
		if (acct_type_known(type, tlen))
			return ACCT_EVENT_SKIP;	/* t, tq, r, rs */
		/* no type PowerMTA writes: a line of something else, or a
		   type bounced does not know yet; said, not hidden among
		   the records skipped */
		acct_show(show, sizeof(show), type, tlen);
		snprintf(why, whylen, "record type '%s' is none PowerMTA "
			 "writes (d, b, rb, f, t, tq, r, rs)", show);
		return ACCT_EVENT_BAD;
	}

	if (map->from_header && row->nfields != map->ncols) {
		/* PowerMTA writes every column of its header in every
		   record, empty or not: a row of another width was written
		   in another layout (a header line lost or commented out,
		   the lines of two files joined), and read by this header
		   its rcpt could be any address of the row */
		snprintf(why, whylen, "%zu fields where the header line "
			 "(line %llu) has %zu: not written in its layout",
			 row->nfields, (unsigned long long)map->header_line,
			 map->ncols);
		return ACCT_EVENT_BAD;
	}
	rcpt = acct_get(map, row, AF_RCPT, &rlen);
	/* a report's hashed or placeholder recipient (Return Path, Comcast,
	   Cox: 32 hex digits; "redacted@") names nobody: the original
	   recipient header, or the subscriber ids, do */
	if (rlen && ev->kind == EV_FEEDBACK && acct_redacted(rcpt, rlen))
		rlen = 0;
	if (rlen == 0 && ev->kind == EV_FEEDBACK) {
		rcpt = acct_get(map, row, AF_HDR_X_HMXMR_ORIGINAL_RECIPIENT,
				&rlen);
		if (rlen && acct_redacted(rcpt, rlen))
			rlen = 0;
	}
	if (rlen == 0 && ev->kind == EV_FEEDBACK) {
		/* the report hid the recipient: the subscriber the reported
		   mail's headers name, if any */
		if (acct_uid_key(map, row, rcpt_buf) != 0)
			return ACCT_EVENT_NORCPT;
	} else if (rlen == 0) {
		snprintf(why, whylen, "%s record without rcpt", type);
		return ACCT_EVENT_BAD;
	} else if (addr_normalise(rcpt, rlen, rcpt_buf, ADDR_MAX + 1) < 0) {
		acct_show(show, sizeof(show), rcpt, rlen);
		snprintf(why, whylen, "rcpt '%s' is not an address", show);
		return ACCT_EVENT_BAD;
	} else {
		(void)addr_written(rcpt, rlen, rcpt_buf, written);
	}
	ev->rcpt = rcpt_buf;
	if (acct_event_time(map, row, default_time, &ev->time, why, whylen))
		return ACCT_EVENT_BAD;

	ev->orig = acct_str(map, row, AF_ORIG);
	ev->bounce_cat = acct_str(map, row, AF_BOUNCE_CAT);
	ev->dsn_status = acct_str(map, row, AF_DSN_STATUS);
	ev->dsn_diag = acct_str(map, row, AF_DSN_DIAG);
	/* an f record's dlvSourceIp is the MTA that sent the report to
	   PowerMTA (the mailbox provider's), its repSourceIp PowerMTA's own
	   that received it, and it has no vmta of ours (User's Guide
	   11.2.8): a complaint is credited to no source, as one read from
	   a report mail is */
	ev->vmta = ev->kind == EV_FEEDBACK ? "" : acct_str(map, row, AF_VMTA);
	ev->source_ip = ev->kind == EV_FEEDBACK ? "" :
			acct_str(map, row, AF_DLV_SOURCE_IP);
	ev->job_id = acct_str(map, row, AF_JOB_ID);
	if (!*ev->job_id)
		ev->job_id = acct_str(map, row, AF_HDR_X_JOB);
	ev->feedback_type = acct_str(map, row, AF_FEEDBACK_TYPE);
	acct_event_extra(map, row, ev, xbuf, written[0] ? written : NULL);
	return ACCT_EVENT_OK;
}
