/*
 * mail_events.h - the events a spool mail gives: an ARF feedback report
 * (spool/fbl) or a List-Unsubscribe mail (spool/unsub).
 *
 * Both are parsers for ingest_mail() (ingest.h): pass a struct
 * mail_events as ARG.  An ARF report about our mail (fbl_policy.h) gives
 * one complaint event per reported recipient; a report that hides the
 * recipient gives one event under a "uid:" key naming the subscriber
 * (MAIL_UID_MW / MAIL_UID_IEM), with the identifiers of the reported mail
 * for the providers.  What else reaches the feedback address (a bounce,
 * an auto-reply, a DMARC report, a forward) and reports about mail we did
 * not send are set aside (INGEST_MAIL_ASIDE) under the counter of their
 * kind (enum mail_aside), never taken for complaints.  An
 * unsubscribe mail gives one unsubscribe event under the "uid:" key of
 * the subscriber its address names, with the From address and the Subject
 * kept in the record (reason's orig and DSN text).  A mail that names no
 * one is refused (-EINVAL) with the reason, for failed/.
 */
#ifndef BOUNCED_MAIL_EVENTS_H
#define BOUNCED_MAIL_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "arf.h"
#include "event.h"
#include "unsub_addr.h"
#include "unsub_mail.h"

/* the state key of an anonymised subscriber: "uid:mw:SUBSCRIBER" and
   "uid:iem:LIST:SUBSCRIBER" (LIST: one list id, or the comma-joined ids
   of the lists a campaign was sent to, as X-Mailer-LID gives them).  A
   key is a recipient, at most ADDR_MAX bytes: when the lists of a
   campaign make it longer (more than about 47 four-digit list ids),
   LIST is MAIL_UID_IEM_LISTS ("uid:iem:lists:48213") and only the
   event carries the ids (event_extra.iem_list_id, EVENT_IEM_LIDS_SIZE);
   the Interspire provider finds the subscriber's list among them as for
   any several (GetRecordByID names it) */
#define MAIL_UID_PREFIX "uid:"
#define MAIL_UID_MW "uid:mw:"
#define MAIL_UID_IEM "uid:iem:"
#define MAIL_UID_IEM_LISTS "lists"
#define MAIL_DIAG_MAX 512

/* why a mail of fbl/ was set aside: what it is */
enum mail_aside {
	MAIL_ASIDE_DSN = 0,	/* a delivery-status notification */
	MAIL_ASIDE_AUTO_REPLY,	/* an auto-reply, read receipt */
	MAIL_ASIDE_AUTH_REPORT,	/* DMARC / auth-failure / fraud / virus /
				   TLS report */
	MAIL_ASIDE_FORWARD,	/* a forwarded mail */
	MAIL_ASIDE_NOT_OURS,	/* a report about mail we did not send */
};
#define MAIL_ASIDE_KINDS 5

/* mail_aside_name - "dsn", "auto-reply", "auth-report", "forward",
   "not-ours" */
const char *mail_aside_name(unsigned kind);
/* mail_aside_counter - the meta counter of a kind: "count.fbl_dsn",
   "count.fbl_autoreply", "count.fbl_authreport", "count.fbl_forward",
   "count.fbl_notours" */
const char *mail_aside_counter(unsigned kind);

struct fbl_policy;
struct state;

struct mail_events {
	const struct unsub_addr_set *unsub;	/* forms of unsubscribe
						   addresses (borrowed) */
	const struct fbl_policy *fbl;	/* what is our mail (borrowed; NULL:
					   every report is ours) */
	struct state *st;		/* looked up by the policy (may be
					   NULL) */
	int aside;			/* the kind of the last mail set
					   aside, -1 when it was not */
	/* scratch the events point into, valid until the next parse */
	struct arf_report arf;
	struct unsub_mail um;
	struct unsub_addr_ids ids;
	char keys[ARF_MAX_RCPTS][ADDR_MAX + 1];
	char diag[MAIL_DIAG_MAX];
	/* each event's rarer strings (a report's recipients differ in
	   their written spelling) */
	struct event_extra x[ARF_MAX_RCPTS];
};

/* mail_events_arf - an ARF report (ingest_mail_parse_fn; ARG a struct
   mail_events) */
int mail_events_arf(const char *buf, size_t len, const char *key,
		    int64_t mtime, struct event *evs, size_t max, size_t *n,
		    const char **aside, void *arg, char *why, size_t whylen);

/* mail_events_unsub - an unsubscribe mail (ingest_mail_parse_fn; ARG a
   struct mail_events with its unsub forms set) */
int mail_events_unsub(const char *buf, size_t len, const char *key,
		      int64_t mtime, struct event *evs, size_t max, size_t *n,
		      const char **aside, void *arg, char *why, size_t whylen);

/* mail_key_is_uid - is KEY a "uid:" key rather than an address? */
int mail_key_is_uid(const char *key);

/* mail_uid_key - the "uid:" key of the subscriber MailWizz's MW_UID
   (X-Mw-Subscriber-Uid) names, else Interspire's LID and RID
   (X-Mailer-LID, X-Mailer-RecptId), each checked for form, into OUT
   (OUTLEN bytes, ADDR_MAX + 1 for every key); LID whole when the key
   holds it in ADDR_MAX bytes, else MAIL_UID_IEM_LISTS in its place; 0,
   or -1 when they name none (or OUT is too small) */
int mail_uid_key(const char *mw_uid, const char *lid, const char *rid,
		 char *out, size_t outlen);

#endif
