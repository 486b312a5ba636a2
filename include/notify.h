/*
 * notify.h - mail to the operator: a digest (or a single event) of the
 * complaints, unsubscribes and bounces bounced acted on, composed as an
 * RFC 5322 message with GMime (notify_compose.c, notify_body.c) and sent
 * through libcurl's SMTP (notify_smtp.c).
 *
 * Composing is pure: items in, bytes out; nothing is logged or sent.
 * Sending is split so that the daemon can drive it from its curl multi
 * handle (notify_smtp_setup + notify_smtp_finish) while bounced
 * notify-test sends in one blocking call (notify_smtp_send).
 *
 * Every function returns 0 or a negative errno and, when ERR is not NULL,
 * puts a one-line message into ERR (ERRLEN bytes) saying what failed.
 * Nothing here exits.  What is sent and when: docs/NOTIFY.md.
 */
#ifndef BOUNCED_NOTIFY_H
#define BOUNCED_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "config.h"
#include "event.h"	/* ADDR_MAX */

#define NOTIFY_MAX_ITEMS_DEFAULT 500	/* items listed when max_items is 0 */
#define NOTIFY_MAX_RCPTS 100		/* recipients of one message */
#define NOTIFY_UID_LEN 13		/* a MailWizz UID: [a-z0-9]{13} */

/*
 * One complaint, unsubscribe or bounce.  Every string is a bounded,
 * NUL-terminated array ("" = unknown); the composer also copes with an
 * array that lacks its NUL (it reads at most sizeof the field), with bytes
 * that are not UTF-8 and with control characters (all shown as '?' or a
 * blank).  Times are unix seconds, 0 = unknown.
 */
/*
 * An incident or an alert (kind "incident", "alert") uses the fields so:
 * time the record time of the transition; feedback_type "opened" /
 * "closed" or "raised" / "cleared"; reporting_domain what it is about
 * ("192.0.2.10 to microsoft", "destination yahoo"); orig_subject the
 * incident's first DSN text or the alert's rule; results its counts;
 * source "incident 3" or the record (FILE:LINE) that crossed the line.
 */
struct notify_item {
	int64_t time;			/* when bounced took it */
	char kind[16];			/* "complaint", "unsubscribe", "bounce",
					   "provider", "incident", "alert" */
	char addr[ADDR_MAX + 1];	/* the recipient */
	char feedback_type[32];		/* ARF Feedback-Type (complaints) */
	char reporting_domain[256];	/* who reported it */
	char orig_subject[256];		/* subject of the original mail */
	char source[256];		/* spool file or mail it came from */
	char results[256];		/* e.g. "mw: unsubscribed from 3 lists;
					   hook: done" */
	char provider[32];		/* provider instance of the campaign */
	char campaign_uid[64];		/* MailWizz campaign UID */
	char campaign_name[256];
	char campaign_subject[256];
	char list_uid[64];		/* MailWizz list UID */
	char list_name[256];
	int64_t send_time;		/* when the campaign was sent */
	char send_at[64];		/* the same as MailWizz wrote it (its
					   customer's locale); shown when
					   send_time is unknown (not queued:
					   filled when the mail is written) */
};

struct notify_opts {
	const char *from;		/* sender address */
	const char *const *to;		/* NULL-terminated recipient addresses */
	const char *web_url;		/* MailWizz web UI base (links), or NULL */
	const char *hostname;		/* named in the subject and Message-Id */
	int64_t period_start;		/* what the digest covers; 0 = unknown */
	int64_t period_end;		/* also the Date header; 0 = now */
	size_t max_items;		/* items listed; 0 = 500 */
};

/*
 * notify_compose - a digest of the N items of ITEMS (N may be 1, per-event
 * mode, or 0) as an RFC 5322 message: Date, From, To, Subject ("bounced: 3
 * complaints, 5 unsubscribes on HOST"), Message-Id, MIME-Version,
 * Auto-Submitted: auto-generated, and a multipart/alternative body with a
 * text/plain and a text/html part (UTF-8, quoted-printable or base64 as
 * GMime picks).  Items are grouped by kind in the order given; only the
 * first max_items are listed, followed by "and K more not listed".
 * Links into the MailWizz customer area (when web_url is set):
 *   WEB-URL/customer/campaigns/CAMPAIGN-UID/overview
 *   WEB-URL/customer/lists/LIST-UID/overview
 * only for UIDs of the MailWizz form ([a-z0-9]{13}).
 *
 * Hostile values (subjects come from the internet) stay in the bodies:
 * HTML-escaped there, with control characters replaced; header values are
 * built only from FROM, TO and HOSTNAME, which are checked (an address:
 * no blanks or control characters, one '@', at most ADDR_MAX bytes; a
 * hostname: letters, digits, '.', '-').  Returns 0 with *OUT (g_malloc'ed,
 * NUL-terminated, CRLF line ends; free with g_free) and *OUTLEN, or
 * -EINVAL with ERR (a bad address, hostname or web_url, no recipient).
 */
int notify_compose(const struct notify_opts *o,
		   const struct notify_item *items, size_t n, char **out,
		   size_t *outlen, char *err, size_t errlen);

/* notify_uid_ok - S is a MailWizz UID: exactly 13 of [a-z0-9] */
bool notify_uid_ok(const char *s);

/* notify_addr_ok - S is usable as an envelope and header address (ASCII:
   no SMTPUTF8) */
bool notify_addr_ok(const char *s);
/* notify_web_url_ok - U is a web_url the composer takes: http(s), printable
   ASCII without blanks, quotes or brackets, at most 1024 bytes */
bool notify_web_url_ok(const char *u);
/* notify_smtp_url_ok - U is an smtp:// or smtps:// URL the sender takes:
   a host, printable ASCII without blanks, at most 1024 bytes */
bool notify_smtp_url_ok(const char *u);

/* --- sending (notify_smtp.c) --------------------------------------- */

struct notify_smtp_cfg {
	const char *url;		/* smtp://host[:port] or smtps://... */
	const char *from;		/* envelope sender */
	const char *const *to;		/* NULL-terminated envelope recipients */
	const char *username;		/* AUTH when set */
	const char *password;
	enum notify_starttls starttls;	/* try (default), required, no */
	const char *ca_file;		/* TLS CA bundle; NULL = system's */
	long timeout;			/* whole transfer, seconds; 0 = 30 */
	long connect_timeout;		/* seconds; 0 = 10 */
};

/* notify_smtp_cfg_from_config - C filled from the [notify] keys of CFG
   (the strings stay CFG's) */
void notify_smtp_cfg_from_config(const struct config *cfg,
				 struct notify_smtp_cfg *c);

struct notify_smtp_xfer;

/*
 * notify_smtp_setup - configure the easy handle H to send the LEN bytes of
 * MSG (a copy is kept in *X) over SMTP as C says: URL, MAIL FROM, RCPT TO
 * each of C->to, the message as the upload, STARTTLS as C->starttls,
 * AUTH when a username is set, CA file, timeouts, TLS verification on.
 * The caller then runs H (curl_multi_add_handle or curl_easy_perform) and
 * calls notify_smtp_finish, then notify_smtp_free after H is cleaned up or
 * reset.  Returns 0 with *X, or -EINVAL (bad URL, address, no recipient)
 * or -ENOMEM with ERR.
 */
int notify_smtp_setup(CURL *h, const struct notify_smtp_cfg *c,
		      const char *msg, size_t len,
		      struct notify_smtp_xfer **x, char *err, size_t errlen);

/*
 * notify_smtp_finish - what a finished transfer means: 0 when the server
 * took the message (for some recipients maybe: notify_smtp_refused);
 * -EAGAIN (retry later) for connection and TLS set-up failures, timeouts
 * and 4xx answers (one recipient refused for now included: the mail was
 * stopped before its data); -EBADMSG (failed for good: the
 * content) for a 5xx answer to the message itself (after the server said
 * 354); -EPERM (failed for good: the configuration or the relay) for the
 * other 5xx answers (the greeting, MAIL, every RCPT, DATA), a refused login,
 * STARTTLS required but not offered, a certificate that does not verify.
 * RES is the
 * transfer's CURLcode, RESPONSE the last SMTP code (CURLINFO_RESPONSE_CODE,
 * 0 = none).  ERR names the server and says what failed, with the
 * server's last answer line when there was one.
 */
int notify_smtp_finish(struct notify_smtp_xfer *x, CURLcode res,
		       long response, char *err, size_t errlen);

/*
 * notify_smtp_refused - how many recipients the relay refused for good
 * (5xx) in a mail it took for the others (they did not get it), and into
 * BUF (LEN bytes)
 * "ADDR ('ANSWER'), ..." naming the first of them; 0 and "" when none.
 */
size_t notify_smtp_refused(const struct notify_smtp_xfer *x, char *buf,
			   size_t len);

/* notify_smtp_free - the transfer's state; NULL is fine */
void notify_smtp_free(struct notify_smtp_xfer *x);

/*
 * notify_smtp_send - send MSG in one blocking call (bounced notify-test):
 * setup, curl_easy_perform, finish.  Same results as notify_smtp_finish,
 * or -ENOMEM / -EINVAL; on success ERR holds the recipients the relay
 * refused (notify_smtp_refused), "" when none.  curl_global_init must
 * have been called.
 */
int notify_smtp_send(const struct notify_smtp_cfg *c, const char *msg,
		     size_t len, char *err, size_t errlen);

#endif
