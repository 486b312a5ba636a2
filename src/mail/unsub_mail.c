/*
 * unsub_mail.c - the envelope, From, Subject and Date of one unsubscribe
 * mail from the spool (rules in include/unsub_mail.h).
 *
 * The mail is hostile input: only its header section (bounded) is handed
 * to GMime, every address goes through addr_normalise(), and text is made
 * valid UTF-8 without control or format characters before it is kept.
 * Errors go into the caller's buffer; nothing here logs or exits.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <gmime/gmime.h>

#include "errmsg.h"
#include "addr.h"
#include "mail_envelope.h"
#include "mail_guard.h"
#include "unsub_mail.h"

#define UM_SHOW_MAX 80	/* bytes of a header value quoted in a message */

/* um_show - S for a message: blanks around it dropped, bounded,
   printable ASCII only */
static const char *um_show(const char *s, char buf[UM_SHOW_MAX + 4])
{
	size_t i, n;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
		     s[n - 1] == '\n'))
		n--;
	for (i = 0; i < n && i < UM_SHOW_MAX; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (i < n)
		memcpy(buf + i, "...", 4);
	else
		buf[i] = '\0';
	return buf;
}

/* um_gmime - initialise GMime once for the life of the process: it cannot
   be initialised again after a last g_mime_shutdown() (its tables are
   gone), and g_mime_init() is reference-counted, so the reference taken
   here keeps other callers' init/shutdown pairs from ending it */
static void um_gmime(void)
{
	static gsize done;

	if (g_once_init_enter(&done)) {
		g_mime_init();
		g_once_init_leave(&done, 1);
	}
}

/*
 * um_head_len - the length of the header section of BUF (blank line
 * included): 0 when the mail starts with a blank line, -1 when no blank
 * line ends it within UNSUB_MAIL_HEAD_MAX bytes (a mail of headers only,
 * shorter than that, is all header)
 */
static long um_head_len(const char *buf, size_t len)
{
	size_t max = len < UNSUB_MAIL_HEAD_MAX ? len : UNSUB_MAIL_HEAD_MAX;
	size_t i = 0;

	while (i < max) {
		const char *nl = memchr(buf + i, '\n', max - i);
		size_t end = nl ? (size_t)(nl - buf) + 1 : max;

		/* a blank line: "\n" or "\r\n" */
		if (nl && (end - i == 1 || (end - i == 2 && buf[i] == '\r')))
			return i == 0 ? 0 : (long)end;
		if (!nl)
			break;
		i = end;
	}
	return len <= UNSUB_MAIL_HEAD_MAX ? (long)len : -1;
}

/* um_first_line_ok - BUF starts with "Name:" (a header field) */
static bool um_first_line_ok(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len && i < 998; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == ':')
			return i > 0;
		if (c <= 0x20 || c >= 0x7f)
			return false;
	}
	return false;
}

/* um_norm - the address in the header value V into OUT; 0 or -1 */
static int um_norm(const char *v, char *out)
{
	char tmp[ADDR_MAX + 8];
	size_t n = 0;

	/* unfold: line ends of a folded value become blanks */
	for (; *v && n < sizeof(tmp) - 1; v++)
		tmp[n++] = (*v == '\r' || *v == '\n') ? ' ' : *v;
	if (*v)
		return -1;
	tmp[n] = '\0';
	return addr_normalise(tmp, n, out, ADDR_MAX + 1) < 0 ? -1 : 0;
}

/* um_raw - the raw value of the first NAME header, or NULL */
static const char *um_raw(GMimeObject *obj, const char *name)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	GMimeHeader *h = hl ? g_mime_header_list_get_header(hl, name) : NULL;

	return h ? g_mime_header_get_raw_value(h) : NULL;
}

/* um_first_mailbox - the address of the first mailbox of L (a group's
   first member), or NULL */
static const char *um_first_mailbox(InternetAddressList *l)
{
	InternetAddress *a;
	int depth;

	for (depth = 0; l && depth < 4; depth++) {
		if (internet_address_list_length(l) < 1)
			return NULL;
		a = internet_address_list_get_address(l, 0);
		if (INTERNET_ADDRESS_IS_MAILBOX(a))
			return internet_address_mailbox_get_addr(
				INTERNET_ADDRESS_MAILBOX(a));
		if (!INTERNET_ADDRESS_IS_GROUP(a))
			return NULL;
		l = internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a));
	}
	return NULL;
}

/* um_rcpt - the recipient into M: the envelope's X-Bounced-Envelope-To
   (ENV_TO, NULL when none), else the first Delivered-To, else To; 0 or
   -EINVAL with ERR */
static int um_rcpt(GMimeMessage *msg, const char *env_to,
		   struct unsub_mail *m, char *err, size_t errlen)
{
	const struct {
		const char *name, *v;
		enum unsub_mail_rcpt_src src;
	} hdrs[] = {
		{ "X-Bounced-Envelope-To", env_to, UNSUB_RCPT_ENVELOPE },
		{ "Delivered-To", um_raw(GMIME_OBJECT(msg), "Delivered-To"),
		  UNSUB_RCPT_DELIVERED_TO },
	};
	char show[UM_SHOW_MAX + 4];
	const char *v;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(hdrs); i++) {
		if (!hdrs[i].v)
			continue;
		if (um_norm(hdrs[i].v, m->rcpt) != 0) {
			errmsg(err, errlen, "%s '%s' is not an address",
			       hdrs[i].name, um_show(hdrs[i].v, show));
			return -EINVAL;
		}
		m->rcpt_src = hdrs[i].src;
		return 0;
	}
	v = um_raw(GMIME_OBJECT(msg), "To");
	if (!v) {
		errmsg(err, errlen, "no recipient: no X-Bounced-Envelope-To, "
		       "Delivered-To or To header");
		return -EINVAL;
	}
	{
		const char *a = um_first_mailbox(g_mime_message_get_to(msg));

		if (!a || um_norm(a, m->rcpt) != 0) {
			errmsg(err, errlen, "To '%s' holds no address",
			       um_show(v, show));
			return -EINVAL;
		}
	}
	m->rcpt_src = UNSUB_RCPT_TO;
	return 0;
}

/* um_skip_char - a character the subject does not keep: controls (C0,
   DEL, C1) and format characters (bidi overrides, zero-width) */
static bool um_skip_char(gunichar c)
{
	GUnicodeType t = g_unichar_type(c);

	return t == G_UNICODE_FORMAT || t == G_UNICODE_UNASSIGNED ||
	       t == G_UNICODE_SURROGATE || t == G_UNICODE_PRIVATE_USE;
}

/* um_subject - S cleaned into OUT (UNSUB_MAIL_SUBJECT_MAX + 1 bytes) */
static void um_subject(const char *s, char *out)
{
	gchar *v = g_utf8_make_valid(s, -1);
	const gchar *p;
	size_t n = 0;
	bool blank = false;

	for (p = v; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		char enc[6];
		int len;

		if (g_unichar_iscntrl(c) || g_unichar_isspace(c) ||
		    c == 0x2028 || c == 0x2029) {
			blank = n > 0;
			continue;
		}
		if (um_skip_char(c))
			continue;
		len = g_unichar_to_utf8(c, enc);
		if (n + (blank ? 1 : 0) + (size_t)len > UNSUB_MAIL_SUBJECT_MAX)
			break;
		if (blank)
			out[n++] = ' ';
		blank = false;
		memcpy(out + n, enc, (size_t)len);
		n += (size_t)len;
	}
	out[n] = '\0';
	g_free(v);
}

/* um_header_token - does the header NAME of O start (after blanks) with
   the word TOKEN, case-insensitively ("auto-replied", not
   "auto-replied-by-x")? */
static bool um_header_token(GMimeObject *o, const char *name,
			    const char *token)
{
	const char *v = um_raw(o, name);
	size_t n = strlen(token);

	if (!v)
		return false;
	while (*v == ' ' || *v == '\t')
		v++;
	return g_ascii_strncasecmp(v, token, n) == 0 &&
	       !g_ascii_isalnum(v[n]) && v[n] != '-';
}

/* the subject prefixes of out-of-office replies (Exchange and Outlook
   in their languages, other mail systems), case-folded and without their
   colon: a subject starts with one, then an optional blank and ':'.  Only
   the start, not arf_kind.c's words anywhere in it: at an unsubscribe
   address the subject may be what the subscriber typed */
static const char *const um_oof_subjects[] = {
	"automatic reply", "auto reply", "autoreply", "auto response", "auto",
	"out of office autoreply", "out of office", "out of the office",
	"automatische antwort", "abwesenheitsnotiz",
	"r\xc3\xa9ponse automatique", "respuesta autom\xc3\xa1tica",
	"resposta autom\xc3\xa1tica", "risposta automatica",
	"risposta non al computer", "fuori sede", "automatisch antwoord",
	"automatisk svar", "autosvar", "fr\xc3\xa5nvaro",
};

/* um_oof_subject - the entry of um_oof_subjects SUBJECT (cleaned, at
   most UNSUB_MAIL_SUBJECT_MAX bytes) starts with, or NULL */
static const char *um_oof_subject(const char *subject)
{
	gchar *f = g_utf8_casefold(subject, -1);
	const char *hit = NULL;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(um_oof_subjects) && !hit; i++) {
		size_t n = strlen(um_oof_subjects[i]);
		const char *p = f + n;

		if (strncmp(f, um_oof_subjects[i], n) != 0)
			continue;
		if (*p == ' ')
			p++;
		if (*p == ':')
			hit = um_oof_subjects[i];
	}
	g_free(f);
	return hit;
}

/*
 * um_out_of_office - whether O (its cleaned SUBJECT) is an out-of-office
 * reply by signs that do not tell it alone, into OUT (LEN bytes): signs of
 * two of three kinds.  Automatic mail: Auto-Submitted: auto-generated,
 * Precedence: junk or bulk (a provider may mark a request it sends for its
 * user so).  Exchange's inbox rules, which send its out-of-office replies:
 * X-MS-Exchange-Inbox-Rules-Loop, X-MS-Exchange-Generated-Message-Source:
 * Mailbox Rules Agent (a mail a rule forwarded carries the first too).  An
 * out-of-office subject (a subscriber's mail program may choose any).
 * X-Auto-Response-Suppress is none of them: Exchange and Outlook put it on
 * ordinary mail to ask others not to answer automatically.
 */
static bool um_out_of_office(GMimeObject *o, const char *subject, char *out,
			     size_t len)
{
	const char *sign[3] = { NULL, NULL, NULL }, *a = NULL, *b = NULL, *s;
	char subj[64];
	size_t i;

	if (um_header_token(o, "Auto-Submitted", "auto-generated"))
		sign[0] = "Auto-Submitted: auto-generated";
	else if (um_header_token(o, "Precedence", "junk"))
		sign[0] = "Precedence: junk";
	else if (um_header_token(o, "Precedence", "bulk"))
		sign[0] = "Precedence: bulk";
	if (um_raw(o, "X-MS-Exchange-Inbox-Rules-Loop"))
		sign[1] = "X-MS-Exchange-Inbox-Rules-Loop";
	else if (um_header_token(o, "X-MS-Exchange-Generated-Message-Source",
				 "Mailbox Rules Agent"))
		sign[1] = "X-MS-Exchange-Generated-Message-Source: Mailbox "
			  "Rules Agent";
	s = um_oof_subject(subject);
	if (s) {
		/* the table's words, not the mail's */
		snprintf(subj, sizeof(subj), "Subject '%s:'", s);
		sign[2] = subj;
	}
	for (i = 0; i < G_N_ELEMENTS(sign); i++) {
		if (!sign[i])
			continue;
		if (!a)
			a = sign[i];
		else if (!b)
			b = sign[i];
	}
	if (!b)
		return false;
	snprintf(out, len, "an out-of-office reply: %s and %s", a, b);
	return true;
}

/* um_not_request - what MSG is when its header section marks it as a
   bounce, a read receipt or an auto-reply (include/unsub_mail.h), into
   M->not_request; left empty for anything else */
static void um_not_request(GMimeMessage *msg, struct unsub_mail *m)
{
	static const char *const flags[] = { "X-Autoreply", "X-Autorespond" };
	GMimeObject *o = GMIME_OBJECT(msg);
	char *out = m->not_request;
	size_t len = sizeof(m->not_request), i;

	/* the top-level type: what the header section says of the body
	   (the body itself is not read) */
	if (g_mime_message_get_mime_part(msg)) {
		GMimeContentType *ct = g_mime_object_get_content_type(
			g_mime_message_get_mime_part(msg));
		const char *rt = ct && g_mime_content_type_is_type(ct,
					"multipart", "report") ?
				 g_mime_content_type_get_parameter(ct,
					"report-type") : NULL;
		char show[UM_SHOW_MAX + 4];

		if (rt && (g_ascii_strcasecmp(rt, "delivery-status") == 0 ||
			   g_ascii_strcasecmp(rt, "global-delivery-status") == 0))
			snprintf(out, len, "a delivery-status notification (a "
				 "bounce): multipart/report; report-type=%s",
				 um_show(rt, show));
		else if (rt && (g_ascii_strcasecmp(rt,
					"disposition-notification") == 0 ||
				g_ascii_strcasecmp(rt,
					"global-disposition-notification") == 0))
			snprintf(out, len, "a read receipt: multipart/report; "
				 "report-type=%s", um_show(rt, show));
		if (out[0])
			return;
	}
	if (um_raw(o, "X-Failed-Recipients")) {
		snprintf(out, len, "a delivery-status notification (a bounce): "
			 "X-Failed-Recipients");
		return;
	}
	if (g_ascii_strncasecmp(m->from, "mailer-daemon@", 14) == 0) {
		snprintf(out, len, "a delivery-status notification (a bounce): "
			 "From %.80s", m->from);
		return;
	}
	if (um_header_token(o, "Auto-Submitted", "auto-replied")) {
		snprintf(out, len, "an auto-reply: Auto-Submitted: "
			 "auto-replied");
		return;
	}
	if (um_header_token(o, "Precedence", "auto_reply")) {
		snprintf(out, len, "an auto-reply: Precedence: auto_reply");
		return;
	}
	for (i = 0; i < G_N_ELEMENTS(flags); i++)
		if (um_raw(o, flags[i])) {
			snprintf(out, len, "an auto-reply: %s", flags[i]);
			return;
		}
	/* iCloud's vacation reply carries no Auto-Submitted */
	if (um_header_token(o, "X-Apple-Action", "vacation")) {
		snprintf(out, len, "an auto-reply: X-Apple-Action: VACATION");
		return;
	}
	(void)um_out_of_office(o, m->subject, out, len);
}

/* um_fill - the fields of M from the parsed MSG */
static int um_fill(GMimeMessage *msg, struct unsub_mail *m, char *err,
		   size_t errlen)
{
	const char *v, *env_from, *env_to;
	GDateTime *d;

	/* the envelope as the FBL side reads it: its first lines only */
	mail_envelope(msg, &env_from, &env_to);
	if (um_rcpt(msg, env_to, m, err, errlen) != 0)
		return -EINVAL;
	if (env_from && um_norm(env_from, m->sender) != 0)
		m->sender[0] = '\0';
	v = um_first_mailbox(g_mime_message_get_from(msg));
	if (v && um_norm(v, m->from) != 0)
		m->from[0] = '\0';
	v = g_mime_message_get_subject(msg);
	if (v)
		um_subject(v, m->subject);
	d = g_mime_message_get_date(msg);
	if (d)
		m->date = (int64_t)g_date_time_to_unix(d);
	um_not_request(msg, m);
	return 0;
}

/* unsub_mail_parse - the header section of BUF through GMime */
int unsub_mail_parse(const char *buf, size_t len, struct unsub_mail *out,
		     char *err, size_t errlen)
{
	GMimeStream *stream = NULL;
	GMimeParser *parser = NULL;
	GMimeMessage *msg = NULL;
	GByteArray *head;
	long hlen;
	int rc = -EINVAL;

	memset(out, 0, sizeof(*out));
	if (!buf || len == 0) {
		errmsg(err, errlen, "empty mail");
		return -EINVAL;
	}
	hlen = um_head_len(buf, len);
	if (hlen < 0) {
		errmsg(err, errlen, "no end of the header section within %d "
		       "bytes", UNSUB_MAIL_HEAD_MAX);
		return -EINVAL;
	}
	if (hlen == 0 || !um_first_line_ok(buf, (size_t)hlen)) {
		errmsg(err, errlen, "not a mail: it does not start with a "
		       "header field");
		return -EINVAL;
	}
	um_gmime();
	head = g_byte_array_sized_new((guint)hlen + 2);
	g_byte_array_append(head, (const guint8 *)buf, (guint)hlen);
	if (buf[hlen - 1] != '\n')
		g_byte_array_append(head, (const guint8 *)"\n", 1);
	g_byte_array_append(head, (const guint8 *)"\n", 1);
	(void)mail_guard_fix((char *)head->data, head->len);
	stream = g_mime_stream_mem_new_with_byte_array(head);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	msg = g_mime_parser_construct_message(parser, NULL);
	if (!msg) {
		errmsg(err, errlen, "not a mail: GMime found no message");
		goto out;
	}
	rc = um_fill(msg, out, err, errlen);
out:
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	if (msg)
		g_object_unref(msg);
	if (parser)
		g_object_unref(parser);
	if (stream)
		g_object_unref(stream);
	return rc;
}
