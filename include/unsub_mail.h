/*
 * unsub_mail.h - read one unsubscribe mail as "bounced drop unsub" stored
 * it: the envelope (Return-Path and X-Bounced-Envelope-To lines in front
 * of the mail), the From address, the Subject and the Date.
 *
 * Only the header section is parsed (with GMime 3), never the body: a mail
 * whose header section is longer than UNSUB_MAIL_HEAD_MAX is refused.  The
 * envelope is read from the first two lines only, as the ARF parser reads
 * it (mail_envelope.h).  The recipient is the envelope's
 * X-Bounced-Envelope-To, else the first Delivered-To, else the first
 * mailbox of To; the sender is the envelope's Return-Path.  Addresses are
 * normalised with addr_normalise().  The Subject is decoded (RFC 2047, or
 * raw 8-bit text through GMime's charset fallbacks), made valid UTF-8, its
 * control characters turned into blanks, blanks squeezed, and cut to at
 * most UNSUB_MAIL_SUBJECT_MAX bytes on a character boundary.  Every field is a bounded array in the result; text
 * in it holds no control characters.
 *
 * A mail the header section marks as automatic traffic that no one sends
 * to ask to leave a list has NOT_REQUEST set: a delivery-status
 * notification (multipart/report; report-type=delivery-status or
 * global-delivery-status, X-Failed-Recipients, a MAILER-DAEMON From), a
 * read receipt (report-type=disposition-notification), an auto-reply
 * (Auto-Submitted: auto-replied, Precedence: auto_reply, X-Autoreply,
 * X-Autorespond, X-Apple-Action: VACATION), an out-of-office reply by two
 * signs of different kinds: automatic mail (Auto-Submitted: auto-generated,
 * Precedence: junk or bulk), Exchange's inbox rules
 * (X-MS-Exchange-Inbox-Rules-Loop, X-MS-Exchange-Generated-Message-Source:
 * Mailbox Rules Agent), a subject starting "Automatic reply:", "Out of
 * Office:" and the like.  One such sign alone is no mark: a provider may
 * mark the request it generates for its user auto-generated.
 * X-Auto-Response-Suppress is none: Exchange puts it on ordinary mail.
 *
 * GMime is initialised on the first call and stays so for the life of the
 * process (GMime cannot be initialised again after its last
 * g_mime_shutdown(); the reference taken here keeps other modules'
 * reference-counted g_mime_init()/g_mime_shutdown() pairs from ending it).
 * Not thread-safe beyond that first initialisation (GMime is not).
 */
#ifndef BOUNCED_UNSUB_MAIL_H
#define BOUNCED_UNSUB_MAIL_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define UNSUB_MAIL_SUBJECT_MAX 256		/* bytes, NUL not included */
#define UNSUB_MAIL_HEAD_MAX (256 * 1024)	/* bytes of a header section */

/* where the recipient came from */
enum unsub_mail_rcpt_src {
	UNSUB_RCPT_ENVELOPE = 1,	/* X-Bounced-Envelope-To (bounced drop) */
	UNSUB_RCPT_DELIVERED_TO = 2,	/* the first Delivered-To */
	UNSUB_RCPT_TO = 3,		/* the first mailbox of To */
};

struct unsub_mail {
	char rcpt[ADDR_MAX + 1];	/* the unsubscribe address, normalised */
	enum unsub_mail_rcpt_src rcpt_src;
	char sender[ADDR_MAX + 1];	/* the envelope's Return-Path,
					   normalised; "" for the null sender,
					   none or not an address */
	char from[ADDR_MAX + 1];	/* the first mailbox of From, normalised;
					   "" when none or not an address */
	char subject[UNSUB_MAIL_SUBJECT_MAX + 1]; /* UTF-8; "" when none */
	int64_t date;			/* Date, Unix seconds; 0 when none or
					   unreadable */
	char not_request[160];		/* "" for a request; else what the
					   mail is, by its header section: a
					   bounce, an auto-reply or a read
					   receipt, and the field that says so */
};

/*
 * unsub_mail_parse - the mail in BUF (LEN bytes, bounded by the caller;
 * CRLF or LF line ends) into *OUT.  0, or -EINVAL with ERR saying why
 * (no header section, header section too long, no recipient, a recipient
 * that is not an address), or -ENOMEM.
 */
int unsub_mail_parse(const char *buf, size_t len, struct unsub_mail *out,
		     char *err, size_t errlen);

#endif
