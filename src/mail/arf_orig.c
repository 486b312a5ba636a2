/*
 * arf_orig.c - what a feedback report says about the original message:
 * its identifying headers (sender, subject, List-Id, the MailWizz and
 * Interspire ids, the PowerMTA job) and who complained.
 *
 * The recipient is taken from the most trustworthy place that names one:
 * the report's Original-Rcpt-To fields (else its Removal-Recipient, which
 * the ARF drafts' opt-out reports carry; each address of a comma-separated
 * list in one, bounded), else the original's
 * X-HmXmrOriginalRecipient (Microsoft JMRP), else the original's To when
 * it names exactly one mailbox that is neither at a domain of the
 * original's sender (From, Return-Path, the report's Original-Mail-From:
 * the sender itself, the list's own address) nor one of the report
 * mail's own addresses (the feedback address).  Placeholders and hashes that providers write
 * in place of the address ("xxxxxxx@", "redacted@", "*****",
 * "<32 hex digits>@") are never returned; ARF_F_REDACTED says one was
 * seen.
 */
#include <string.h>

#include <glib.h>

#include "addr.h"
#include "arf_priv.h"

/* a field naming recipients as a comma-separated list: the members looked
   at, and the longest member that may be an address ("rfc822;", angle
   brackets and blanks around ADDR_MAX bytes) */
#define ARF_RCPT_LIST_MAX (4 * ARF_MAX_RCPTS)
#define ARF_RCPT_MEMBER_MAX (2 * ADDR_MAX)

/* arf_first_mailbox - see arf_priv.h */
const char *arf_first_mailbox(GMimeObject *o, const char *name,
				     InternetAddressList *list)
{
	const char *raw = arf_header_raw(o, name);
	int i, n = list ? internet_address_list_length(list) : 0;

	if (!raw || !g_utf8_validate(raw, -1, NULL))
		return NULL;
	for (i = 0; i < n; i++) {
		InternetAddress *a = internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(a))
			return internet_address_mailbox_get_addr(
				INTERNET_ADDRESS_MAILBOX(a));
	}
	return NULL;
}

/* arf_list_id - List-Id as text, and the id inside its angle brackets
   (or the whole value when it has none) as a token */
static void arf_list_id(const char *v, struct arf_report *r)
{
	const char *lt, *gt;
	char inner[sizeof(r->list_id_token) + 1];
	size_t n;

	arf_text_copy(r->list_id, sizeof(r->list_id), v);
	if (!v)
		return;
	lt = strchr(v, '<');
	gt = lt ? strchr(lt, '>') : NULL;
	if (!lt) {
		arf_token_copy(r->list_id_token, sizeof(r->list_id_token), v,
			       ARF_ID_EXTRA);
		return;
	}
	if (!gt)
		return;
	n = (size_t)(gt - lt - 1);
	if (n >= sizeof(inner))
		return;
	memcpy(inner, lt + 1, n);
	inner[n] = '\0';
	arf_token_copy(r->list_id_token, sizeof(r->list_id_token), inner,
		       ARF_ID_EXTRA);
}

/* arf_iem_lids_ok - see arf.h */
bool arf_iem_lids_ok(const char *s)
{
	size_t i, digits = 0, ids = 1;

	for (i = 0; s[i]; i++) {
		if (i + 1 >= ARF_IEM_LID_SIZE)
			return false;
		if (s[i] >= '0' && s[i] <= '9') {
			if (++digits > 10)
				return false;
		} else if (s[i] == ',' && digits > 0 &&
			   ids < ARF_IEM_LIDS_MAX) {
			digits = 0;
			ids++;
		} else {
			return false;
		}
	}
	return digits > 0;
}

/* arf_mailer_lid - X-Mailer-LID V: a token as the other ids (of the
   size they have), or the comma-joined list ids of a campaign sent to
   several lists, whole (arf_iem_lids_ok) or not at all */
static void arf_mailer_lid(const char *v, struct arf_report *r)
{
	if (arf_token_copy(r->mailer_lid, ARF_IEM_TOKEN_SIZE, v,
			   ARF_ID_EXTRA) == 0 || !v)
		return;
	/* trimmed as a token is; then only digits and commas */
	if (arf_token_copy(r->mailer_lid, sizeof(r->mailer_lid), v, ",") != 0 ||
	    !arf_iem_lids_ok(r->mailer_lid))
		r->mailer_lid[0] = '\0';
}

/* arf_orig_fields - the original's identifying headers */
void arf_orig_fields(GMimeMessage *orig, struct arf_report *r)
{
	GMimeObject *o = GMIME_OBJECT(orig);

	arf_addr_copy(r->orig_from,
		      arf_first_mailbox(o, "From", g_mime_message_get_from(orig)));
	arf_addr_copy(r->orig_return_path, arf_header_raw(o, "Return-Path"));
	arf_text_copy(r->orig_subject, sizeof(r->orig_subject),
		      g_mime_message_get_subject(orig));
	arf_text_copy(r->orig_message_id, sizeof(r->orig_message_id),
		      arf_header(o, "Message-ID"));
	arf_list_id(arf_header(o, "List-Id"), r);
	arf_token_copy(r->mw_subscriber_uid, sizeof(r->mw_subscriber_uid),
		       arf_header(o, "X-Mw-Subscriber-Uid"), ARF_ID_EXTRA);
	arf_mailer_lid(arf_header(o, "X-Mailer-LID"), r);
	arf_token_copy(r->mailer_recptid, sizeof(r->mailer_recptid),
		       arf_header(o, "X-Mailer-RecptId"), ARF_ID_EXTRA);
	arf_token_copy(r->x_job, sizeof(r->x_job), arf_header(o, "X-Job"),
		       ARF_JOB_EXTRA);
	arf_token_copy(r->feedback_id, sizeof(r->feedback_id),
		       arf_header(o, "Feedback-ID"), ARF_JOB_EXTRA);
}

/* arf_rcpt_add - one candidate: refused when redacted (flagged) or not an
   address (-1), skipped when already there or when there are enough; 1
   when it was added, else 0.  Its spelling is kept when it differs in
   ASCII case only (addr_written): the first such one when the address
   comes again */
static int arf_rcpt_add(struct arf_report *r, const char *v)
{
	char a[ADDR_MAX + 1];
	size_t i;

	if (arf_redacted(v)) {
		r->flags |= ARF_F_REDACTED;
		return 0;
	}
	if (arf_addr_copy(a, v) < 0)
		return -1;
	for (i = 0; i < r->n_rcpts; i++)
		if (strcmp(r->rcpts[i], a) == 0)
			break;
	if (i == ARF_MAX_RCPTS) {
		r->flags |= ARF_F_RCPTS_TRUNCATED;
		return 0;
	}
	if (i < r->n_rcpts) {
		if (!r->rcpts_written[i][0])
			(void)addr_written(v, strlen(v), a,
					   r->rcpts_written[i]);
		return 0;
	}
	memcpy(r->rcpts[i], a, strlen(a) + 1);
	(void)addr_written(v, strlen(v), a, r->rcpts_written[i]);
	r->n_rcpts++;
	return 1;
}

/* arf_rcpt_member_end - where the member of a list that starts at S
   ends: the first comma outside a quoted string, angle brackets and a
   comment (RFC 5322's lexical units), or the end of S.  An unclosed
   quote, bracket or comment runs to the end: the rest is one member,
   which is no address. */
static const char *arf_rcpt_member_end(const char *s)
{
	size_t angle = 0, paren = 0;
	bool quoted = false;

	for (; *s; s++) {
		if ((quoted || paren) && *s == '\\' && s[1]) {
			s++;		/* a quoted pair */
			continue;
		}
		if (quoted) {
			quoted = *s != '"';
			continue;
		}
		if (*s == '(')
			paren++;
		else if (*s == ')' && paren)
			paren--;
		else if (paren)
			continue;
		else if (*s == '"')
			quoted = true;
		else if (*s == '<')
			angle++;
		else if (*s == '>' && angle)
			angle--;
		else if (*s == ',' && !angle)
			return s;
	}
	return s;
}

/* arf_rcpt_list - the value V of a field that names recipients
   (Original-Rcpt-To, Removal-Recipient), each member of a comma-separated
   list as a candidate of its own.  RFC 5965 gives each field one address
   and repeats the field for more; a generator that joins the message's
   recipients into one line means the same.  At most ARF_RCPT_LIST_MAX
   members are looked at (more: ARF_F_RCPTS_TRUNCATED); a member longer
   than ARF_RCPT_MEMBER_MAX bytes is no address and is skipped whole, never
   cut into one; an empty member (",,", a trailing comma) is nothing.  A
   member that is neither an address nor a placeholder (a display name, a
   list whose quote or bracket is never closed) sets
   ARF_F_RCPT_UNREADABLE: when nobody is found, the caller says why. */
static void arf_rcpt_list(struct arf_report *r, const char *v)
{
	char m[ARF_RCPT_MEMBER_MAX + 1];
	const char *s = v, *e;
	size_t members = 0, n;

	while (s && *s) {
		e = arf_rcpt_member_end(s);
		n = (size_t)(e - s);
		while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\r' ||
				 *s == '\n')) {
			s++;
			n--;
		}
		if (n > 0 && ++members > ARF_RCPT_LIST_MAX) {
			r->flags |= ARF_F_RCPTS_TRUNCATED;
			return;
		}
		if (n > ARF_RCPT_MEMBER_MAX) {
			r->flags |= ARF_F_RCPT_UNREADABLE;
		} else if (n > 0) {
			memcpy(m, s, n);
			m[n] = '\0';
			if (arf_rcpt_add(r, m) < 0)
				r->flags |= ARF_F_RCPT_UNREADABLE;
		}
		if (members == 2)
			r->flags |= ARF_F_RCPT_LIST;
		s = *e ? e + 1 : e;
	}
}

/* arf_rcpt_headers - every NAME header of O as a candidate (the raw
   value: an address is never RFC 2047 encoded, and raw bytes that are not
   UTF-8 must be refused, not guessed into another charset); with LIST,
   each member of a comma-separated list in one (arf_rcpt_list) */
static void arf_rcpt_headers(GMimeObject *o, const char *name, bool list,
			     struct arf_report *r)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(o);
	int i, n = hl ? g_mime_header_list_get_count(hl) : 0;

	for (i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);

		if (g_ascii_strcasecmp(g_mime_header_get_name(h), name) != 0)
			continue;
		if (list)
			arf_rcpt_list(r, g_mime_header_get_raw_value(h));
		else
			arf_rcpt_add(r, g_mime_header_get_raw_value(h));
	}
}

/* arf_domain_of - the domain of address A, or "" */
static const char *arf_domain_of(const char *a)
{
	const char *at = strrchr(a, '@');

	return at ? at + 1 : "";
}

/* arf_rcpt_sender - is A one of the addresses that cannot be the
   complainer: the report's own From and To, the envelope of the report,
   or an address of the original's sender domains (its From, Return-Path,
   the report's Original-Mail-From: the list's own address, the sender
   itself) */
static int arf_rcpt_sender(const struct arf_report *r, const char *a)
{
	const char *const own[] = {
		r->report_from, r->report_to, r->envelope_from, r->envelope_to,
	};
	const char *const senders[] = {
		r->orig_from, r->orig_return_path, r->original_mail_from,
	};
	const char *dom = arf_domain_of(a);
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(own); i++)
		if (own[i][0] && strcmp(own[i], a) == 0)
			return 1;
	for (i = 0; i < G_N_ELEMENTS(senders); i++)
		if (senders[i][0] && (strcmp(senders[i], a) == 0 ||
				      (dom[0] && g_ascii_strcasecmp(
					       arf_domain_of(senders[i]),
					       dom) == 0)))
			return 1;
	return 0;
}

/* arf_rcpt_to - the original's To when it names one mailbox that may be
   the complainer (a value GMime finds no mailbox in is still looked at
   for a placeholder) */
static void arf_rcpt_to(GMimeMessage *orig, struct arf_report *r)
{
	InternetAddressList *to = g_mime_message_get_to(orig);
	int n = to ? internet_address_list_length(to) : 0;
	const char *raw = arf_header(GMIME_OBJECT(orig), "To");
	const char *v;
	char a[ADDR_MAX + 1];

	if (n == 0) {
		if (raw && arf_redacted(raw))
			r->flags |= ARF_F_REDACTED;
		return;
	}
	if (n != 1)
		return;
	v = arf_first_mailbox(GMIME_OBJECT(orig), "To", to);
	if (!arf_redacted(v) && arf_addr_copy(a, v) == 0 &&
	    arf_rcpt_sender(r, a))
		return;
	if (arf_rcpt_add(r, v) > 0)
		r->flags |= ARF_F_RCPT_FROM_TO;
}

/* arf_rcpts - the complained-about recipients, from the best source */
void arf_rcpts(GMimeMessage *report, GMimeMessage *orig,
	       struct arf_report *r)
{
	if (report)
		arf_rcpt_headers(GMIME_OBJECT(report), "Original-Rcpt-To", true,
				 r);
	/* the opt-out reports of the ARF drafts name the address to take
	   off the list in Removal-Recipient */
	if (report && r->n_rcpts == 0)
		arf_rcpt_headers(GMIME_OBJECT(report), "Removal-Recipient",
				 true, r);
	if (r->n_rcpts == 0 && orig) {
		arf_rcpt_headers(GMIME_OBJECT(orig), "X-HmXmrOriginalRecipient",
				 false, r);
		if (r->n_rcpts == 0)
			arf_rcpt_to(orig, r);
		if (r->n_rcpts > 0)
			r->flags |= ARF_F_RCPT_FROM_ORIG;
	}
	if (r->n_rcpts == 0)
		r->flags |= ARF_F_ANONYMISED;
}
