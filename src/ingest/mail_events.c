/*
 * mail_events.c - spool mails (ARF reports, unsubscribe mails) become
 * events for ingest_mail().
 *
 * Everything here comes from the internet: the parsers (arf.c,
 * unsub_mail.c, unsub_addr.c) bound and clean every value; this file only
 * decides which events a mail gives and under which key.  A mail of fbl/
 * gives a complaint only when it is a feedback report (arf_kind.c) about
 * our mail (fbl_policy.c); anything else is set aside with what it is.  A
 * mail of unsub/ that its header section marks as a bounce, an auto-reply
 * or a read receipt (unsub_mail.c) is refused: nobody is unsubscribed.
 * Identifiers used in keys are checked for form again (13 of [a-z0-9] for
 * MailWizz, digits for Interspire) so a key never holds anything else.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fbl_policy.h"
#include "ingest.h"
#include "mail_events.h"
#include "route.h"

#define MAIL_TIME_AHEAD 86400	/* seconds a report's date may be after
				   the mail arrived */

static const struct {
	const char *name, *counter, *what;
} mail_asides[MAIL_ASIDE_KINDS] = {
	[MAIL_ASIDE_DSN] = { "dsn", "count.fbl_dsn",
		"a delivery-status notification (a bounce), not a feedback "
		"report" },
	[MAIL_ASIDE_AUTO_REPLY] = { "auto-reply", "count.fbl_autoreply",
		"an auto-reply, not a feedback report" },
	[MAIL_ASIDE_AUTH_REPORT] = { "auth-report", "count.fbl_authreport",
		"an authentication or fraud report (DMARC, auth-failure, "
		"fraud, virus, TLS), not a complaint" },
	[MAIL_ASIDE_FORWARD] = { "forward", "count.fbl_forward",
		"a forwarded mail, not a feedback report" },
	[MAIL_ASIDE_NOT_OURS] = { "not-ours", "count.fbl_notours",
		"a feedback report about mail we did not send" },
};

const char *mail_aside_name(unsigned kind)
{
	return kind < MAIL_ASIDE_KINDS ? mail_asides[kind].name : "?";
}

const char *mail_aside_counter(unsigned kind)
{
	return kind < MAIL_ASIDE_KINDS ? mail_asides[kind].counter : NULL;
}

int mail_key_is_uid(const char *key)
{
	return strncmp(key, MAIL_UID_PREFIX, strlen(MAIL_UID_PREFIX)) == 0;
}

int mail_uid_key(const char *mw_uid, const char *lid, const char *rid,
		 char *out, size_t outlen)
{
	int n;

	if (route_uid_ok(mw_uid))
		n = snprintf(out, outlen, MAIL_UID_MW "%s", mw_uid);
	else if (lid && rid && route_iem_lids_ok(lid) && route_iem_id_ok(rid))
		/* the lists when the key holds them all, else the word
		   that says the event carries them: never some of them,
		   which would name other lists */
		n = snprintf(out, outlen, MAIL_UID_IEM "%s:%s",
			     strlen(MAIL_UID_IEM) + strlen(lid) + 1 +
					     strlen(rid) <= ADDR_MAX ?
				     lid : MAIL_UID_IEM_LISTS, rid);
	else
		n = -1;
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen)
			out[0] = '\0';
		return -1;
	}
	return 0;
}

/* mail_arf_diag - what the record keeps as its text: who reported it and
   the subject of the reported mail */
static void mail_arf_diag(struct mail_events *me)
{
	const struct arf_report *r = &me->arf;

	snprintf(me->diag, sizeof(me->diag), "%s report%s%.100s%s%.120s%s%.200s",
		 r->flags & ARF_F_NO_REPORT_PART ? "feedback" : "ARF",
		 r->user_agent[0] ? " by " : "", r->user_agent,
		 r->reported_domain[0] ? " for " : "", r->reported_domain,
		 r->orig_subject[0] ? "; subject: " : "", r->orig_subject);
}

/* mail_arf_time - when the complaint was made: the report's Arrival-Date
   (or Received-Date), else its Date, else when the mail arrived (MTIME);
   a date more than a day after the mail arrived is not believed */
static int64_t mail_arf_time(const struct arf_report *r, int64_t mtime)
{
	int64_t t = r->arrival_time ? r->arrival_time : r->report_time;

	if (t <= 0 || (mtime > 0 && t > mtime + MAIL_TIME_AHEAD))
		return mtime;
	return t;
}

/* mail_arf_event - EV for key KEY from the parsed report, its rarer
   strings in X; WRITTEN the recipient as the report spelt it (NULL:
   none) */
static void mail_arf_event(struct mail_events *me, struct event *ev,
			   struct event_extra *x, const char *key,
			   const char *written, int64_t mtime)
{
	const struct arf_report *r = &me->arf;

	memset(ev, 0, sizeof(*ev));
	ev->kind = EV_ARF;
	ev->type_text = "arf";
	ev->rcpt = key;
	ev->time = mail_arf_time(r, mtime);
	ev->orig = r->original_mail_from[0] ? r->original_mail_from :
					       r->orig_return_path;
	ev->feedback_type = r->feedback_type[0] ? r->feedback_type : "abuse";
	ev->bounce_cat = ev->feedback_type;
	ev->dsn_diag = me->diag;
	ev->vmta = "";
	ev->dsn_status = "";
	ev->job_id = r->x_job;
	memset(x, 0, sizeof(*x));
	x->rcpt_written = written && written[0] ? written : NULL;
	x->mw_subscriber_uid = r->mw_subscriber_uid;
	x->list_id = r->list_id;
	x->iem_list_id = r->mailer_lid;
	x->iem_subscriber_id = r->mailer_recptid;
	/* who reported it: the Reporting-MTA (RFC 5965), else the report
	   generator's User-Agent; not the Reported-Domain, which names the
	   domain the report is about (ours) */
	x->reporter = r->reporting_mta[0] ? r->reporting_mta :
					    r->user_agent;
	x->subject = r->orig_subject;
	ev->x = x;
}

/* mail_arf_aside - set the mail aside as KIND: WHY says what it is */
static int mail_arf_aside(struct mail_events *me, unsigned kind,
			  const char *detail, const char **aside, char *why,
			  size_t whylen)
{
	me->aside = (int)kind;
	*aside = mail_asides[kind].counter;
	snprintf(why, whylen, "%s: %s", mail_asides[kind].what, detail);
	return INGEST_MAIL_ASIDE;
}

/* mail_arf_kind - the aside kind of a mail that is no report */
static unsigned mail_arf_kind(enum arf_kind kind)
{
	switch (kind) {
	case ARF_KIND_DSN:
		return MAIL_ASIDE_DSN;
	case ARF_KIND_AUTO_REPLY:
		return MAIL_ASIDE_AUTO_REPLY;
	case ARF_KIND_AUTH_REPORT:
		return MAIL_ASIDE_AUTH_REPORT;
	default:
		return MAIL_ASIDE_FORWARD;
	}
}

/* mail_arf_own_to - drop a recipient taken from the original's To when it
   is an address of our own sender domains: the report hides who
   complained */
static void mail_arf_own_to(const struct mail_events *me,
			    struct arf_report *r)
{
	if (!(r->flags & ARF_F_RCPT_FROM_TO) || !me->fbl || r->n_rcpts != 1 ||
	    !fbl_policy_own_address(me->fbl, r->rcpts[0]))
		return;
	r->rcpts[0][0] = '\0';
	r->rcpts_written[0][0] = '\0';
	r->n_rcpts = 0;
	r->flags &= ~(ARF_F_RCPT_FROM_TO | ARF_F_RCPT_FROM_ORIG);
	r->flags |= ARF_F_ANONYMISED;
}

/* a report or unsubscribe mail has a handful of parts and headers; one
   built with hundreds of thousands costs GMime seconds and gigabytes
   (2,000,000 empty parts in 10 MB: 21 s, 2.6 GB): refused before it is
   parsed */
#define MAIL_BOUNDARY_LINES_MAX 1000
#define MAIL_HEADER_LINES_MAX 5000

/* mail_shape_ok - BUF (LEN bytes) has at most MAIL_BOUNDARY_LINES_MAX
   lines that may be MIME boundaries ("--" first) and at most
   MAIL_HEADER_LINES_MAX lines before its first empty one; else false,
   WHY says which */
static bool mail_shape_ok(const char *buf, size_t len, char *why,
			  size_t whylen)
{
	const char *p = buf, *end = buf + len, *nl;
	size_t dashes = 0, heads = 0;
	bool in_head = true;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if (in_head && (nl == p || (nl == p + 1 && *p == '\r')))
			in_head = false;
		else if (in_head && ++heads > MAIL_HEADER_LINES_MAX) {
			snprintf(why, whylen, "more than %d header lines: "
				 "not a mail a provider sends",
				 MAIL_HEADER_LINES_MAX);
			return false;
		}
		if (nl - p >= 2 && p[0] == '-' && p[1] == '-' &&
		    ++dashes > MAIL_BOUNDARY_LINES_MAX) {
			snprintf(why, whylen, "more than %d MIME boundary "
				 "lines: not a mail a provider sends",
				 MAIL_BOUNDARY_LINES_MAX);
			return false;
		}
		p = nl + 1;
	}
	return true;
}

int mail_events_arf(const char *buf, size_t len, const char *key,
		    int64_t mtime, struct event *evs, size_t max, size_t *n,
		    const char **aside, void *arg, char *why, size_t whylen)
{
	struct mail_events *me = arg;
	struct arf_report *r = &me->arf;
	char tie[256];
	size_t i;

	(void)key;
	*n = 0;
	me->aside = -1;
	if (!mail_shape_ok(buf, len, why, whylen) ||
	    arf_parse(buf, len, r, why, whylen) != 0)
		return -EINVAL;
	if (r->kind != ARF_KIND_REPORT)
		return mail_arf_aside(me, mail_arf_kind(r->kind), r->kind_why,
				      aside, why, whylen);
	if (me->fbl && !fbl_policy_ours(me->fbl, r, me->st, tie, sizeof(tie)))
		return mail_arf_aside(me, MAIL_ASIDE_NOT_OURS, tie, aside, why,
				      whylen);
	mail_arf_own_to(me, r);
	mail_arf_diag(me);
	for (i = 0; i < r->n_rcpts && i < max && i < ARF_MAX_RCPTS; i++) {
		snprintf(me->keys[i], sizeof(me->keys[i]), "%s", r->rcpts[i]);
		mail_arf_event(me, &evs[i], &me->x[i], me->keys[i],
			       r->rcpts_written[i], mtime);
	}
	*n = i;
	if (*n > 0)
		return 0;
	/* the recipient is hidden: the subscriber the reported mail named */
	if (mail_uid_key(r->mw_subscriber_uid, r->mailer_lid,
			 r->mailer_recptid, me->keys[0],
			 sizeof(me->keys[0])) != 0) {
		bool hidden = r->flags & ARF_F_REDACTED,
		     unread = r->flags & ARF_F_RCPT_UNREADABLE;

		/* what Original-Rcpt-To held: a placeholder, and what could
		   not be read (a list whose members cannot be told apart is
		   taken for nobody, never guessed at) */
		snprintf(why, whylen, "the report names no recipient%s%s%s%s%s "
			 "and no subscriber (X-Mw-Subscriber-Uid, or "
			 "X-Mailer-LID with X-Mailer-RecptId, in the reported "
			 "mail)", hidden || unread ? " (" : "",
			 hidden ? "hidden or hashed" : "",
			 hidden && unread ? "; " : "",
			 unread ? "Original-Rcpt-To holds no address that can "
				  "be read" : "",
			 hidden || unread ? ")" : "");
		return -EINVAL;
	}
	mail_arf_event(me, &evs[0], &me->x[0], me->keys[0], NULL, mtime);
	*n = 1;
	return 0;
}

int mail_events_unsub(const char *buf, size_t len, const char *key,
		      int64_t mtime, struct event *evs, size_t max, size_t *n,
		      const char **aside, void *arg, char *why, size_t whylen)
{
	struct mail_events *me = arg;
	struct unsub_addr_ids *ids = &me->ids;
	struct event *ev = &evs[0];
	struct event_extra *x = &me->x[0];

	(void)key;
	(void)aside;
	*n = 0;
	me->aside = -1;
	if (max < 1 || !me->unsub) {
		snprintf(why, whylen, "no unsubscribe address forms configured");
		return -EINVAL;
	}
	if (!mail_shape_ok(buf, len, why, whylen) ||
	    unsub_mail_parse(buf, len, &me->um, why, whylen) != 0)
		return -EINVAL;
	/* a bounce or an auto-reply at the unsubscribe address answers a
	   mail sent with that address as its sender (forged: bounced never
	   sends from it); the subscriber it names asked for nothing */
	if (me->um.not_request[0]) {
		snprintf(why, whylen, "%s, not an unsubscribe request: nobody "
			 "is unsubscribed", me->um.not_request);
		return -EINVAL;
	}
	if (unsub_addr_match(me->unsub, me->um.rcpt, strlen(me->um.rcpt), ids,
			     why, whylen) != 0)
		return -EINVAL;
	memset(ev, 0, sizeof(*ev));
	memset(x, 0, sizeof(*x));
	if (ids->system == UNSUB_MAILWIZZ) {
		snprintf(me->keys[0], sizeof(me->keys[0]), MAIL_UID_MW "%s",
			 ids->subscriber);
		x->mw_subscriber_uid = ids->subscriber;
		x->mw_list_uid = ids->list;
		x->mw_campaign_uid = ids->campaign;
	} else {
		snprintf(me->keys[0], sizeof(me->keys[0]), MAIL_UID_IEM "%s:%s",
			 ids->list, ids->subscriber);
		x->iem_list_id = ids->list;
		x->iem_subscriber_id = ids->subscriber;
	}
	ev->x = x;
	snprintf(me->diag, sizeof(me->diag), "unsubscribe mail to %s%s%.200s",
		 me->um.rcpt, me->um.subject[0] ? "; subject: " : "",
		 me->um.subject);
	ev->kind = EV_UNSUB_MAIL;
	ev->type_text = "unsub-mail";
	ev->rcpt = me->keys[0];
	/* its Date, unless more than a day after the mail arrived (a
	   sender's clock, or its word, as for reports) */
	ev->time = me->um.date > 0 && (mtime <= 0 ||
				       me->um.date <= mtime + MAIL_TIME_AHEAD) ?
			   me->um.date :
			   mtime;
	ev->orig = me->um.from[0] ? me->um.from : me->um.sender;
	ev->dsn_diag = me->diag;
	x->reporter = me->um.from;
	x->subject = me->um.subject;
	ev->bounce_cat = "";
	ev->dsn_status = "";
	ev->vmta = "";
	ev->job_id = "";
	*n = 1;
	return 0;
}
