/*
 * arf.h - feedback-loop reports (ARF, RFC 5965) parsed into a plain struct.
 *
 * One mail of SPOOL/fbl/new (as `bounced drop fbl` wrote it: an envelope
 * "Return-Path:" and "X-Bounced-Envelope-To:" in front) is parsed with
 * GMime into a struct of bounded arrays that the caller owns; nothing is
 * allocated for the caller, nothing is logged, no state is touched.
 *
 * Shapes understood (docs/FBL.md):
 *  - standard ARF: multipart/report with a message/feedback-report part
 *    and the original as message/rfc822 or text/rfc822-headers (Yahoo,
 *    AOL, Gmail, mail.ru, Comcast...), also when wrapped in another
 *    multipart;
 *  - a report part without an original (ARF_F_NO_ORIGINAL);
 *  - no report part but an attached original in a known provider's shape
 *    (Microsoft JMRP, AOL's older "Client TOS Notification"): the type is
 *    assumed to be "abuse" (ARF_F_NO_REPORT_PART | ARF_F_TYPE_ASSUMED |
 *    ARF_F_KNOWN_SHAPE).
 *
 * What else reaches a feedback address is recognised and named in KIND
 * (arf_kind.c): delivery-status notifications, auto-replies and read
 * receipts, DMARC / authentication-failure / fraud / virus / TLS reports,
 * and forwarded mail.  Only ARF_KIND_REPORT is a feedback report; the
 * others are returned with their fields filled as far as they go, never
 * as reports.
 * CR-only and mixed line endings are read like LF.
 *
 * Every string is NUL-terminated valid UTF-8 without control characters
 * (CR, LF, TAB, NUL and C1 controls are removed), truncated on a character
 * boundary; "" means absent or unusable.  Addresses are normalised with
 * addr_normalise(); identifier fields keep only [A-Za-z0-9._-] (x_job
 * and feedback_id a few more) and are "" when the value holds anything
 * else.
 */
#ifndef BOUNCED_ARF_H
#define BOUNCED_ARF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"		/* ADDR_MAX */

#define ARF_MAX_RCPTS 16

/* flags */
#define ARF_F_NO_REPORT_PART	0x0001u /* no message/feedback-report part */
#define ARF_F_TYPE_ASSUMED	0x0002u /* no Feedback-Type: "abuse" assumed */
#define ARF_F_HEADERS_ONLY	0x0004u /* original given as text/rfc822-headers
					   (or message/global-headers) */
#define ARF_F_NO_ORIGINAL	0x0008u /* no original message or headers part */
#define ARF_F_REDACTED		0x0010u /* a recipient examined was redacted
					   ("xxxxxxx@", "redacted@", "*****") */
#define ARF_F_ANONYMISED	0x0020u /* no usable recipient address */
#define ARF_F_RCPT_FROM_ORIG	0x0040u /* rcpts come from the original's
					   headers, not Original-Rcpt-To */
#define ARF_F_RCPTS_TRUNCATED	0x0080u /* more than ARF_MAX_RCPTS addresses */
#define ARF_F_KNOWN_SHAPE	0x0100u /* no report part: a provider's own
					   complaint shape (JMRP, AOL) */
#define ARF_F_RCPT_FROM_TO	0x0200u /* the recipient is the original's
					   To (the weakest source) */
#define ARF_F_RCPT_LIST		0x0400u /* an Original-Rcpt-To (or
					   Removal-Recipient) listed several
					   addresses, comma-separated */
#define ARF_F_RCPT_UNREADABLE	0x0800u /* an Original-Rcpt-To (or
					   Removal-Recipient), or a member of
					   its list, is neither an address nor
					   a placeholder */

/* what the mail is (arf_kind.c) */
enum arf_kind {
	ARF_KIND_REPORT = 0,	/* a feedback report (ARF, JMRP, AOL) */
	ARF_KIND_DSN,		/* a delivery-status notification (bounce) */
	ARF_KIND_AUTO_REPLY,	/* an auto-reply, vacation notice, read
				   receipt */
	ARF_KIND_AUTH_REPORT,	/* a DMARC / authentication-failure report
				   (RFC 6591, DMARC aggregate), a fraud or
				   virus report (RFC 5965: about mail that
				   may only have forged our domain), a TLS
				   report */
	ARF_KIND_FORWARD,	/* a mail carrying another one without any
				   report: a user's forward */
};
#define ARF_KINDS 5

/* an X-Mailer-LID of a campaign sent to several lists: Interspire joins
   all their ids with commas ("2,24,12"), however many lists the send
   targets, on one header line (EVENT_IEM_LIDS_SIZE); kept when it is ids
   of 1 to 10 digits (its int column) and fits ARF_IEM_LID_SIZE, so at
   most ARF_IEM_LIDS_MAX of them.  Any other value of X-Mailer-LID is
   kept as the other ids are, when it is a token shorter than
   ARF_IEM_TOKEN_SIZE */
#define ARF_IEM_LID_SIZE EVENT_IEM_LIDS_SIZE
#define ARF_IEM_LIDS_MAX (ARF_IEM_LID_SIZE / 2)	/* "1,2,...": 492 */
#define ARF_IEM_TOKEN_SIZE 32

/* arf_iem_lids_ok - S is 1 to ARF_IEM_LIDS_MAX Interspire list ids (1 to
   10 decimal digits each) joined with single commas, shorter than
   ARF_IEM_LID_SIZE bytes */
bool arf_iem_lids_ok(const char *s);

struct arf_report {
	/* from the message/feedback-report part */
	char feedback_type[32];		/* lower-cased first token: "abuse",
					   "not-spam", "auth-failure", ... */
	char user_agent[128];
	char version[16];
	char original_mail_from[ADDR_MAX + 1];
	char original_envelope_id[128];	/* Original-Envelope-Id */
	int64_t arrival_time;		/* Arrival-Date (or Received-Date),
					   Unix time; 0 unknown */
	char source_ip[64];		/* Source-IP, only when an IP address */
	char reporting_mta[256];	/* Reporting-MTA without a "dns;" type */
	char reported_domain[256];	/* first Reported-Domain, lower case */
	char auth_failure[32];		/* RFC 6591 Auth-Failure, lower case */

	/* the complained-about recipients: normalised, distinct, never a
	   placeholder or opaque address (arf_redacted); from
	   Original-Rcpt-To (each address of a comma-separated list in one:
	   ARF_F_RCPT_LIST), else from the original's headers
	   (X-HmXmrOriginalRecipient, else To when it names one mailbox that
	   is not the original's sender nor the report's own addresses:
	   ARF_F_RCPT_FROM_TO) */
	char rcpts[ARF_MAX_RCPTS][ADDR_MAX + 1];
	/* each of them as the report wrote it when that differs in ASCII
	   case only ("John.Smith@Example.com", addr_written), else "": what
	   a list manager comparing addresses exactly holds */
	char rcpts_written[ARF_MAX_RCPTS][ADDR_MAX + 1];
	size_t n_rcpts;

	/* from the original message (message/rfc822 or message/global
	   part, or text/rfc822-headers or message/global-headers part) */
	char orig_from[ADDR_MAX + 1];
	char orig_return_path[ADDR_MAX + 1];
	char orig_subject[256];		/* RFC 2047 decoded */
	char orig_message_id[256];
	char list_id[256];		/* raw List-Id value */
	char list_id_token[128];	/* inside <...> of List-Id */
	char mw_subscriber_uid[64];	/* X-Mw-Subscriber-Uid */
	char mailer_lid[ARF_IEM_LID_SIZE]; /* Interspire X-Mailer-LID: a
					   token, or list ids joined with
					   commas (arf_iem_lids_ok) */
	char mailer_recptid[32];	/* Interspire X-Mailer-RecptId */
	char x_job[128];		/* X-Job ([A-Za-z0-9._:+=@/-]) */
	char feedback_id[128];		/* Feedback-ID (Gmail) */

	/* the envelope `bounced drop` put in front of the mail: only from
	   the mail's first two header lines (docs/SPOOL.md) */
	char envelope_from[ADDR_MAX + 1]; /* Return-Path; "" for <> */
	char envelope_to[ADDR_MAX + 1];	/* X-Bounced-Envelope-To */

	/* the report mail itself */
	int64_t report_time;		/* its Date, Unix time; 0 unknown */
	char report_from[ADDR_MAX + 1];	/* its From */
	char report_to[ADDR_MAX + 1];	/* its To (first mailbox) */

	enum arf_kind kind;		/* what the mail is */
	char kind_why[160];		/* what showed it ("multipart/report;
					   report-type=delivery-status",
					   "Auto-Submitted: auto-replied") */

	unsigned flags;			/* ARF_F_* */
};

/*
 * arf_parse - parse the mail in BUF (LEN bytes; the caller bounds LEN)
 * into R (cleared first).  0 with R->kind saying what the mail is, or
 * -EINVAL with a one-line reason in ERR ("not a feedback report: no
 * message/feedback-report part and no attached original message", or
 * "not a mail: no header could be read").  The first call runs g_mime_init() and sets up the parser
 * options (raw 8-bit header bytes read as UTF-8, else Latin-1); nothing
 * calls g_mime_shutdown().
 */
int arf_parse(const char *buf, size_t len, struct arf_report *r,
	      char *err, size_t errlen);

/* arf_kind_name - "report", "dsn", "auto-reply", "auth-report",
   "forward" */
const char *arf_kind_name(enum arf_kind kind);

/* arf_redacted - does SRC (an address, maybe "rfc822;" typed or in angle
   brackets) stand for a hidden recipient rather than name one: a local
   part that is empty, a placeholder word ("redacted", "hashed",
   "removed", "hidden", "anonymous", ...), masked with '*' or runs of
   'x' or '#', or opaque (32 or more hex digits: a hash)? */
int arf_redacted(const char *src);

/* arf_flags_str - the flags as "no-report-part,type-assumed,..." into
   BUF (for logs and `bouncectl`); returns BUF */
const char *arf_flags_str(unsigned flags, char *buf, size_t len);

#endif
