/*
 * event.h - one input record, parsed and classified, as the rest of
 * bounced sees it: an accounting record (b, rb, f, d), a line of a
 * standalone address list, later an ARF or unsubscribe mail.
 *
 * Strings point into the reader's buffers (valid until the next record);
 * copy what must outlive the record.  All times are the record's own
 * (Unix seconds), never the wall clock, so that a replay gives the same
 * answer.
 */
#ifndef BOUNCED_EVENT_H
#define BOUNCED_EVENT_H

#include <stddef.h>
#include <stdint.h>

#define ADDR_MAX 254 /* RFC 5321 path limit, less the angle brackets */

/* the longest Interspire X-Mailer-LID an event carries, NUL included.
   Interspire writes the id of every list a campaign went to into that
   header, joined with commas, on one line it never folds, and sets no
   limit on the lists of a send; a header line is at most 998 characters
   (RFC 5322 2.1.1), of which "X-Mailer-LID: " takes 14.  A longer value
   is dropped wherever it travels, never cut: a list set cut short names
   other lists */
#define EVENT_IEM_LIDS_SIZE (998 - 14 + 1)

enum event_kind {
	EV_NONE = 0,
	EV_BOUNCE,	/* b: PowerMTA's own bounce */
	EV_REMOTE_BOUNCE, /* rb: asynchronous DSN */
	EV_FEEDBACK,	/* f: feedback-loop report */
	EV_DELIVERY,	/* d: delivered */
	EV_LIST,	/* a line of a standalone list: manual unsubscribe */
	EV_ARF,		/* an ARF feedback report mail (spool/fbl) */
	EV_UNSUB_MAIL,	/* a List-Unsubscribe mail (spool/unsub) */
	EV_SKIPPED,	/* t, tq, r, rs and unknown types: counted only */
};

/* what the classifier concluded */
enum event_class {
	CLASS_IGNORE = 0, /* recorded nowhere but the counters */
	CLASS_HARD,
	CLASS_SOFT,
	CLASS_COMPLAINT,
	CLASS_UNSUB,
	CLASS_DELIVERY,
	CLASS_FEEDBACK_OTHER, /* f record of a non-complaint type (not-spam…) */
};

/* the rarer strings of an event; NULL or "" = unknown.  Identifiers are
   validated by their users before they reach a URL. */
struct event_extra {
	/* provider identifiers carried by the mail (header_* columns of the
	   record, ARF original headers, unsubscribe addresses) */
	const char *mw_subscriber_uid;	/* X-Mw-Subscriber-Uid */
	const char *list_id;		/* List-Id as written (mailwizz_list_uid) */
	const char *iem_list_id;	/* Interspire X-Mailer-LID */
	const char *iem_subscriber_id;	/* Interspire X-Mailer-RecptId */
	const char *mw_list_uid;	/* MailWizz list UID named directly
					   (an unsubscribe address) */
	const char *mw_campaign_uid;	/* MailWizz campaign UID named
					   directly (an unsubscribe address) */
	/* for the operator's mail (notify): who reported it, and the
	   subject of the reported mail or of the unsubscribe mail */
	const char *reporter;
	const char *subject;
	/* the recipient as the record wrote it, when that differs from
	   rcpt in ASCII case only (addr_written): the form the campaign
	   tool holds, which a provider comparing addresses exactly must
	   be asked with */
	const char *rcpt_written;
};

/* EVENT_X - field F of EV's extra strings, or NULL */
#define EVENT_X(ev, f) ((ev)->x ? (ev)->x->f : NULL)

struct event {
	enum event_kind kind;
	enum event_class klass;
	int64_t time;		/* timeLogged, else timeQueued; 0 = unknown */
	const char *rcpt;	/* normalised address (caller's buffer) */
	const char *orig;	/* envelope sender */
	const char *bounce_cat;
	const char *dsn_status;	/* "5.1.1" */
	const char *dsn_diag;
	const char *vmta;
	const char *source_ip;	/* dlvSourceIp: the IP it was sent from */
	const char *job_id;
	const char *feedback_type;
	/* what few records carry (NULL: nothing): provider identifiers
	   and the operator's mail details, apart so that a batch of
	   millions of plain bounces stays small */
	const struct event_extra *x;
	const char *type_text;	/* record type as written ("b", "rb", …) */
	const char *source;	/* file path or "-" */
	uint64_t line;		/* 1-based line in source */
	/* set by the ingest core when a monitor runs */
	uint32_t src_hash;	/* monitor_source_hash of its source, 0 none */
	uint64_t held;		/* a hard bounce held by this incident */
	uint64_t released;	/* a held bounce this incident released */
	uint64_t mon_gen;	/* monitor_gen after it was fed */
	uint16_t rule_hit;	/* the [classify] rule that set bounce_cat,
				   its index + 1 (0: none) */
	/* a bounce's status code (dsnStatus, else the text's) is 4.7.x or
	   5.7.x, a sender-side cause: set by classify_event (EVENT_X7_YES
	   or EVENT_X7_NO); 0: not looked at */
	uint8_t status_x7;
	/* a bounce's bounce_cat, once classified: its place in
	   classify_cat_names + 1, or EVENT_CAT_UNLISTED; 0: not looked at
	   (classify_event) */
	uint8_t cat_ix;
};

#define EVENT_CAT_UNLISTED 255

#define EVENT_X7_NO 1
#define EVENT_X7_YES 2

const char *event_kind_name(enum event_kind k);
const char *event_class_name(enum event_class c);

#endif
