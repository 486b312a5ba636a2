/*
 * arf_kind.c - what a mail that reached the feedback address is.
 *
 * Much more than feedback reports arrives there: bounces of mail sent
 * with the feedback address as sender, out-of-office replies, read
 * receipts, DMARC and TLS reports, mail a user forwarded.  Most of them
 * carry an original message, which is why each must be recognised before
 * anything is taken for a complaint.  The tests, in order (the first that
 * holds decides; docs/FBL.md has the table):
 *
 *  1. a message/feedback-report part with a Feedback-Type: a report;
 *     auth-failure, fraud and virus are reports about mail that may
 *     only have used our domain, never a recipient's complaint about
 *     our mail (auth-report);
 *  2. the structure of a delivery-status notification (multipart/report;
 *     report-type=delivery-status, a message/delivery-status part), of a
 *     read receipt (disposition-notification) or of a TLS report;
 *  3. a report part without Feedback-Type: a report;
 *  4. DMARC reports without a report part (aggregate reports, non-ARF
 *     failure reports): by subject or by the attachment's name;
 *  5. a provider's own complaint shape with the original attached
 *     (Microsoft JMRP, AOL's older format): a report;
 *  6. the non-standard bounce shapes: X-Failed-Recipients, a
 *     MAILER-DAEMON sender, the subjects and first lines MTAs write;
 *  7. auto-replies: Auto-Submitted, X-Autoreply and kin, vacation
 *     subjects;
 *  8. an attached message with no report: a forward (also "Fwd:"
 *     subjects and forwarded-message markers in the text).
 *
 * Only headers and the first text/plain part (its first ARF_TEXT_MAX
 * bytes) are looked at.  Error policy: none; a mail that is none of these
 * is -1 for the caller to refuse.
 */
#include <stdarg.h>
#include <string.h>

#include <glib.h>

#include "arf_priv.h"

#define ARF_TEXT_MAX 8192	/* bytes of the first text part examined */

/* what bounces say in their subject (case-folded substrings) */
static const char *const arf_dsn_subjects[] = {
	"undeliverable", "undelivered", "delivery status notification",
	"delivery failure", "delivery failed", "delivery has failed",
	"failure notice", "returned mail", "mail delivery failed",
	"mail delivery failure", "mail delivery system", "non-delivery",
	"nondeliverable", "non delivery", "not delivered",
	"could not be delivered", "couldn't be delivered", "unable to deliver",
	"mail system error", "delivery problem", "delivery error",
	"delivery notification", "returned to sender", "could not send message",
	"delivery delayed", "delayed mail", "mail could not be delivered",
	"message not delivered", "message delivery", "nicht zustellbar",
	"failed mail", "mail error", "delivery warning", "bounce notification",
	"unzustellbar", "non remis", "non distribuable", "impossible de remettre",
	"no se puede entregar", "onbestelbaar", "non recapitabile",
	"не доставлено", "недоставленное", "не удалось доставить",
};

/* what bounces say in their first text part */
static const char *const arf_dsn_texts[] = {
	"this is the mail system at host",
	"i'm sorry to have to inform you",
	"this message was created automatically by mail delivery software",
	"delivery to the following recipient",
	"could not be delivered to one or more recipients",
	"hi. this is the qmail-send program",
	"your message did not reach some or all of the intended recipients",
	"delivery has failed to these recipients",
	"the original message was received at",
	"the following addresses had permanent fatal errors",
	"automatically generated delivery status notification",
	"message could not be delivered",
	"sorry, we were unable to deliver your message",
	"unable to deliver your message",
	"your message could not be delivered",
	"was not delivered to",
	"permanent error",
	"this is a permanent error",
	"delivery failed",
	"undeliverable message",
	"user unknown",
	"mailbox unavailable",
	"recipient address rejected",
	"message was not delivered",
	"rejected your message",
	/* older and smaller MTAs: Exchange 5.5, KDDI, Apache James,
	   phone gateways */
	"did not reach the following recipient",
	"could not be delivered to:",
	"invalid user address",
	"no such user",
	"mailbox is full",
	"mailbox full",
};

/* what auto-replies say in their subject */
static const char *const arf_auto_subjects[] = {
	"out of office", "out of the office", "automatic reply",
	"auto reply", "auto-reply", "autoreply", "auto response",
	"auto-response", "autoresponse", "auto:", "vacation", "away from",
	"on leave", "abwesend", "abwesenheit", "automatische antwort",
	"réponse automatique", "reponse automatique", "absence",
	"risposta automatica", "fuori ufficio", "respuesta automática",
	"respuesta automatica", "resposta automática", "automatisch antwoord",
	"afwezig", "autosvar", "automaattinen vastaus", "автоответ",
	"автоматический ответ", "自动回复", "自動応答", "不在",
	"automatyczna odpowied", "automatická odpověď", "automatikus válasz",
};

/* what auto-replies say in their first text part (an out-of-office
   notice whose subject is only "Re: ..."): mail that reached step 7 has
   no report and no bounce's shape, so these decide nothing but where it
   is set aside */
static const char *const arf_auto_texts[] = {
	"i am out of the office", "i am out of office", "i'm out of the office",
	"i'm out of office", "i am currently out of the office",
	"i am away from the office", "this is an automatic reply",
	"this is an automated reply", "this is an automated response",
	"this is an auto-reply", "this is an autoreply",
};

/* how forwards are marked */
static const char *const arf_fwd_subjects[] = {
	"fwd:", "fw:", "wg:", "tr:", "rv:", "vs:", "doorst:", "enc:",
	"pd:", "i:",
};
static const char *const arf_fwd_texts[] = {
	"forwarded message", "original message", "begin forwarded message",
	"message transféré", "weitergeleitete nachricht", "mensaje reenviado",
	"пересылаемое сообщение",
};

/* arf_fold - S cleaned and case-folded (g_free), "" for NULL */
static char *arf_fold(const char *s, size_t max)
{
	char *valid, *fold;

	if (!s)
		return g_strdup("");
	valid = g_utf8_make_valid(s, (gssize)strnlen(s, max));
	fold = g_utf8_casefold(valid, -1);
	g_free(valid);
	return fold;
}

/* arf_any - the first of the N NEEDLES found in HAY, or NULL */
static const char *arf_any(const char *hay, const char *const *needles,
			   size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strstr(hay, needles[i]))
			return needles[i];
	return NULL;
}

/* arf_prefix - the first of the N PREFIXES HAY (blanks skipped) starts
   with, or NULL */
static const char *arf_prefix(const char *hay, const char *const *prefixes,
			      size_t n)
{
	size_t i;

	while (*hay == ' ' || *hay == '\t')
		hay++;
	for (i = 0; i < n; i++)
		if (g_str_has_prefix(hay, prefixes[i]))
			return prefixes[i];
	return NULL;
}

/* arf_body - the first text/plain part of F, case-folded (g_free) */
static char *arf_body(const struct arf_found *f)
{
	char *text, *fold;

	if (!f->text || !GMIME_IS_TEXT_PART(f->text))
		return g_strdup("");
	text = g_mime_text_part_get_text(GMIME_TEXT_PART(f->text));
	fold = arf_fold(text, ARF_TEXT_MAX);
	g_free(text);
	return fold;
}

/* arf_set - R's kind and why */
static int arf_set(struct arf_report *r, enum arf_kind kind, const char *fmt,
		   ...) G_GNUC_PRINTF(3, 4);
static int arf_set(struct arf_report *r, enum arf_kind kind, const char *fmt,
		   ...)
{
	char buf[sizeof(r->kind_why)];
	va_list ap;

	va_start(ap, fmt);
	g_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	arf_text_copy(r->kind_why, sizeof(r->kind_why), buf);
	r->kind = kind;
	return 0;
}

/* arf_structure - tests 1 to 3: the MIME structure; 1 when it decided */
static int arf_structure(const struct arf_found *f, struct arf_report *r)
{
	const char *rt = f->report_type;

	if (f->report && r->feedback_type[0]) {
		if (strcmp(r->feedback_type, "auth-failure") == 0 ||
		    r->auth_failure[0])
			arf_set(r, ARF_KIND_AUTH_REPORT, "Feedback-Type: %s",
				r->feedback_type);
		else if (strcmp(r->feedback_type, "fraud") == 0)
			arf_set(r, ARF_KIND_AUTH_REPORT, "Feedback-Type: fraud "
				"(a phishing report: about a mail that may "
				"only have forged our domain)");
		else if (strcmp(r->feedback_type, "virus") == 0)
			arf_set(r, ARF_KIND_AUTH_REPORT, "Feedback-Type: virus "
				"(a filter found a virus in a mail that may "
				"only have forged our domain)");
		else
			arf_set(r, ARF_KIND_REPORT, "Feedback-Type: %s",
				r->feedback_type);
		return 1;
	}
	if (strcmp(rt, "delivery-status") == 0 ||
	    strcmp(rt, "global-delivery-status") == 0)
		return !arf_set(r, ARF_KIND_DSN, "multipart/report; "
				"report-type=%s", rt);
	if (f->dsn)
		return !arf_set(r, ARF_KIND_DSN, "a %s part", f->part_type);
	if (strcmp(rt, "disposition-notification") == 0 || f->mdn)
		return !arf_set(r, ARF_KIND_AUTO_REPLY, "a read receipt "
				"(disposition-notification)");
	if (strcmp(rt, "tlsrpt") == 0)
		return !arf_set(r, ARF_KIND_AUTH_REPORT, "multipart/report; "
				"report-type=tlsrpt (an SMTP TLS report)");
	if (f->report) {
		if (r->auth_failure[0])
			arf_set(r, ARF_KIND_AUTH_REPORT, "Auth-Failure: %s",
				r->auth_failure);
		else
			arf_set(r, ARF_KIND_REPORT, "message/feedback-report "
				"without Feedback-Type");
		return 1;
	}
	return 0;
}

/* arf_dmarc - test 4: a DMARC report without a report part */
static int arf_dmarc(const struct arf_found *f, const char *subject,
		     struct arf_report *r)
{
	if (strstr(subject, "report domain:"))
		return !arf_set(r, ARF_KIND_AUTH_REPORT, "Subject 'Report "
				"Domain: ...' (a DMARC aggregate report)");
	if (strstr(subject, "dmarc"))
		return !arf_set(r, ARF_KIND_AUTH_REPORT, "Subject names DMARC "
				"(a DMARC report)");
	if (f->archive && !f->orig && !f->orig_headers)
		return !arf_set(r, ARF_KIND_AUTH_REPORT, "a %s attachment and "
				"no original (an aggregate report)",
				f->part_type);
	return 0;
}

/* arf_known_shape - test 5: a provider's complaint with the original
   attached, whole (message/rfc822) or its headers only
   (text/rfc822-headers): ORIG as parsed, NULL when it could not be */
static int arf_known_shape(GMimeMessage *msg, const struct arf_found *f,
			   GMimeMessage *orig, const char *subject,
			   struct arf_report *r)
{
	const char *loop = arf_header(GMIME_OBJECT(msg), "X-Loop");

	if (!f->orig && !f->orig_headers)
		return 0;
	if (orig && arf_header_raw(GMIME_OBJECT(orig),
				   "X-HmXmrOriginalRecipient"))
		arf_set(r, ARF_KIND_REPORT, "Microsoft JMRP "
			"(X-HmXmrOriginalRecipient in the original)");
	else if (g_str_has_prefix(subject, "complaint about message from"))
		arf_set(r, ARF_KIND_REPORT, "Microsoft JMRP (Subject "
			"'complaint about message from ...')");
	else if (strstr(subject, "client tos notification") ||
		 (loop && g_strstr_len(loop, -1, "scomp")))
		arf_set(r, ARF_KIND_REPORT, "AOL complaint (Client TOS "
			"Notification)");
	else
		return 0;
	r->flags |= ARF_F_KNOWN_SHAPE;
	return 1;
}

/* arf_daemon - the local part of FROM is a mail system's */
static int arf_daemon(const char *from)
{
	static const char *const names[] = { "mailer-daemon", "mailer_daemon",
					     "mailerdaemon", "mail-daemon",
					     "mdaemon", "mail.daemon" };
	const char *at = strchr(from, '@');
	size_t n = at ? (size_t)(at - from) : strlen(from), i;

	for (i = 0; i < G_N_ELEMENTS(names); i++)
		if (n == strlen(names[i]) &&
		    g_ascii_strncasecmp(from, names[i], n) == 0)
			return 1;
	return 0;
}

/* arf_bounce - test 6: the non-standard bounce shapes */
static int arf_bounce(GMimeMessage *msg, const char *subject,
		      const char *body, struct arf_report *r)
{
	GMimeObject *o = GMIME_OBJECT(msg);
	const char *hit;

	if (arf_header_raw(o, "X-Failed-Recipients"))
		return !arf_set(r, ARF_KIND_DSN, "X-Failed-Recipients");
	if (arf_daemon(r->report_from))
		return !arf_set(r, ARF_KIND_DSN, "From %s", r->report_from);
	hit = arf_any(subject, arf_dsn_subjects,
		      G_N_ELEMENTS(arf_dsn_subjects));
	if (hit)
		return !arf_set(r, ARF_KIND_DSN, "Subject '%s...'", hit);
	hit = arf_any(body, arf_dsn_texts, G_N_ELEMENTS(arf_dsn_texts));
	if (hit)
		return !arf_set(r, ARF_KIND_DSN, "text '%s...'", hit);
	return 0;
}

/* arf_auto - test 7: auto-replies */
static int arf_auto(GMimeMessage *msg, const char *subject,
		    const char *body, struct arf_report *r)
{
	static const char *const flags[] = {
		"X-Autoreply", "X-Autorespond", "X-Autoresponder",
		"X-Auto-Reply", "X-Vacation", "X-Autoreply-From",
	};
	GMimeObject *o = GMIME_OBJECT(msg);
	const char *v, *hit;
	size_t i;

	v = arf_header(o, "Auto-Submitted");
	if (v) {
		while (*v == ' ' || *v == '\t')
			v++;
		if (g_ascii_strncasecmp(v, "no", 2) != 0 || g_ascii_isalnum(v[2]))
			return !arf_set(r, ARF_KIND_AUTO_REPLY,
					"Auto-Submitted: %.40s", v);
	}
	for (i = 0; i < G_N_ELEMENTS(flags); i++)
		if (arf_header_raw(o, flags[i]))
			return !arf_set(r, ARF_KIND_AUTO_REPLY, "%s", flags[i]);
	v = arf_header(o, "X-Autogenerated");
	if (v && g_strstr_len(v, -1, "eply"))
		return !arf_set(r, ARF_KIND_AUTO_REPLY, "X-Autogenerated: Reply");
	v = arf_header(o, "Precedence");
	if (v) {
		while (*v == ' ' || *v == '\t')
			v++;
		if (g_ascii_strncasecmp(v, "auto_reply", 10) == 0)
			return !arf_set(r, ARF_KIND_AUTO_REPLY,
					"Precedence: auto_reply");
		/* an automated answer (no report, no bounce by now): what a
		   person writes carries no Precedence */
		if (g_ascii_strncasecmp(v, "bulk", 4) == 0 ||
		    g_ascii_strncasecmp(v, "junk", 4) == 0)
			return !arf_set(r, ARF_KIND_AUTO_REPLY,
					"Precedence: %.4s", v);
	}
	v = arf_header(o, "X-POST-MessageClass");
	if (v && g_strstr_len(v, -1, "utoresponder"))
		return !arf_set(r, ARF_KIND_AUTO_REPLY,
				"X-POST-MessageClass: Autoresponder");
	hit = arf_any(subject, arf_auto_subjects,
		      G_N_ELEMENTS(arf_auto_subjects));
	if (hit)
		return !arf_set(r, ARF_KIND_AUTO_REPLY, "Subject '%s...'", hit);
	hit = arf_any(body, arf_auto_texts, G_N_ELEMENTS(arf_auto_texts));
	if (hit)
		return !arf_set(r, ARF_KIND_AUTO_REPLY, "text '%s'", hit);
	return 0;
}

/* arf_forward - test 8: a forward */
static int arf_forward(const struct arf_found *f, const char *subject,
		       const char *body, struct arf_report *r)
{
	const char *hit;

	if (f->orig || f->orig_headers)
		return !arf_set(r, ARF_KIND_FORWARD, "an attached %s and no "
				"feedback report", f->orig ? "message" :
				"message header");
	hit = arf_prefix(subject, arf_fwd_subjects,
			 G_N_ELEMENTS(arf_fwd_subjects));
	if (hit)
		return !arf_set(r, ARF_KIND_FORWARD, "Subject '%s ...'", hit);
	hit = arf_any(body, arf_fwd_texts, G_N_ELEMENTS(arf_fwd_texts));
	if (hit)
		return !arf_set(r, ARF_KIND_FORWARD, "text '%s'", hit);
	return 0;
}

/* arf_kind_classify - see arf_priv.h */
int arf_kind_classify(GMimeMessage *msg, const struct arf_found *f,
		      GMimeMessage *orig, struct arf_report *r)
{
	char *subject = NULL, *body = NULL;
	int rc = 0;

	if (arf_structure(f, r))
		return 0;
	subject = arf_fold(g_mime_message_get_subject(msg), 1024);
	if (arf_dmarc(f, subject, r) ||
	    arf_known_shape(msg, f, orig, subject, r))
		goto out;
	body = arf_body(f);
	if (arf_bounce(msg, subject, body, r) || arf_auto(msg, subject, body, r) ||
	    arf_forward(f, subject, body, r))
		goto out;
	rc = -1;
out:
	g_free(subject);
	g_free(body);
	return rc;
}
