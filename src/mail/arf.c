/*
 * arf.c - a feedback-loop mail (ARF, RFC 5965; Microsoft JMRP) parsed
 * with GMime into struct arf_report.
 *
 * The mail is parsed once from memory; its MIME tree is walked (through
 * nested multiparts only, a bounded depth) for the first
 * message/feedback-report part and the first original (message/rfc822,
 * message/global, or only its headers: text/rfc822-headers,
 * message/global-headers, also spelt text/rfc822-header and
 * message/rfc822-headers).  The report part and a headers-only original
 * are header blocks: their decoded content is parsed again as a message.
 * The envelope `bounced drop` prepended is read from the mail's first
 * two header lines.  A mail with CR-only line ends (old Mac mailers) is
 * read from a copy in which every CR, CR LF and LF is one LF; GMime
 * itself reads LF and CR LF, also mixed.  What the mail is (a report, a
 * bounce, an auto-reply...) is decided by arf_kind.c from what the walk
 * found.
 *
 * Error policy: -EINVAL with a one-line reason when the mail is no
 * feedback report at all; a report that lacks fields is not an error (the
 * fields stay "" and the flags say what was missing).  Nothing logs,
 * nothing exits; every GMime object is released before returning.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "arf_priv.h"
#include "mail_envelope.h"
#include "mail_guard.h"

#define ARF_WALK_DEPTH 8		/* nested multiparts looked into */
#define ARF_PART_MAX (1024 * 1024)	/* bytes of a header-block part kept */

static GMimeParserOptions *arf_options;

/* arf_gmime_init - g_mime_init() and the parser options, once for the
   process: raw 8-bit header bytes are read as UTF-8, else as Latin-1,
   whatever the locale */
static void arf_gmime_init(void)
{
	static const char *charsets[] = { "utf-8", "iso-8859-1", NULL };
	static gsize done;

	if (g_once_init_enter(&done)) {
		g_mime_init();
		arf_options = g_mime_parser_options_new();
		g_mime_parser_options_set_fallback_charsets(arf_options,
							    charsets);
		g_once_init_leave(&done, 1);
	}
}

/* arf_mark - note the first part type that marks a kind */
static void arf_mark(struct arf_found *f, GMimeContentType *ct)
{
	if (!f->part_type[0])
		snprintf(f->part_type, sizeof(f->part_type), "%s/%s",
			 g_mime_content_type_get_media_type(ct),
			 g_mime_content_type_get_media_subtype(ct));
}

/* arf_leaf - what a leaf part of type CT is */
static void arf_leaf(GMimeObject *obj, GMimeContentType *ct,
		     struct arf_found *f)
{
	const char *sub = g_mime_content_type_get_media_subtype(ct);
	const char *name;

	bool no_orig = !f->orig && !f->orig_headers && !f->orig_encoded;

	if (!f->report && g_mime_content_type_is_type(ct, "message",
						      "feedback-report")) {
		f->report = GMIME_PART(obj);
	} else if (no_orig &&
		   (g_mime_content_type_is_type(ct, "message", "rfc822") ||
		    g_mime_content_type_is_type(ct, "message", "global"))) {
		/* an original GMime did not parse: encoded (base64 is
		   allowed for message/global, and seen for both) */
		f->orig_encoded = GMIME_PART(obj);
	} else if (no_orig &&
		   (g_mime_content_type_is_type(ct, "text", "rfc822-headers") ||
		    g_mime_content_type_is_type(ct, "message",
						"global-headers") ||
		    /* the spellings some report generators write (the ARF
		       drafts' opt-out example: text/rfc822-header) */
		    g_mime_content_type_is_type(ct, "text", "rfc822-header") ||
		    g_mime_content_type_is_type(ct, "message",
						"rfc822-headers"))) {
		f->orig_headers = GMIME_PART(obj);
	} else if (g_mime_content_type_is_type(ct, "message",
					       "delivery-status") ||
		   g_mime_content_type_is_type(ct, "message",
					       "global-delivery-status")) {
		f->dsn = true;
		arf_mark(f, ct);
	} else if (g_mime_content_type_is_type(ct, "message",
					       "disposition-notification") ||
		   g_mime_content_type_is_type(ct, "message",
					       "global-disposition-notification")) {
		f->mdn = true;
		arf_mark(f, ct);
	} else if (!f->text && g_mime_content_type_is_type(ct, "text",
							   "plain")) {
		f->text = GMIME_PART(obj);
	}
	if (!sub)
		return;
	name = g_mime_part_get_filename(GMIME_PART(obj));
	if (g_mime_content_type_is_type(ct, "application", "*") &&
	    (strstr(sub, "zip") || strstr(sub, "gzip") || strstr(sub, "xml"))) {
		f->archive = true;
		arf_mark(f, ct);
	} else if (name && (g_str_has_suffix(name, ".xml") ||
			    g_str_has_suffix(name, ".xml.gz") ||
			    g_str_has_suffix(name, ".zip"))) {
		f->archive = true;
		arf_mark(f, ct);
	}
}

/* arf_walk - find the report part, the original and what else tells
   what the mail is, under OBJ */
static void arf_walk(GMimeObject *obj, int depth, struct arf_found *f)
{
	GMimeContentType *ct;
	int i, n;

	if (!obj)
		return;
	ct = g_mime_object_get_content_type(obj);
	if (GMIME_IS_MULTIPART(obj)) {
		const char *rt;

		if (depth >= ARF_WALK_DEPTH)
			return;
		rt = ct && g_mime_content_type_is_type(ct, "multipart", "report") ?
			     g_mime_content_type_get_parameter(ct, "report-type") :
			     NULL;
		if (rt && !f->report_type[0]) {
			g_strlcpy(f->report_type, rt, sizeof(f->report_type));
			g_strstrip(f->report_type);
			for (i = 0; f->report_type[i]; i++)
				f->report_type[i] = g_ascii_tolower(f->report_type[i]);
		}
		n = g_mime_multipart_get_count(GMIME_MULTIPART(obj));
		for (i = 0; i < n; i++)
			arf_walk(g_mime_multipart_get_part(GMIME_MULTIPART(obj), i),
				 depth + 1, f);
		return;
	}
	if (GMIME_IS_MESSAGE_PART(obj)) {
		if (!f->orig && !f->orig_headers && !f->orig_encoded)
			f->orig = g_mime_message_part_get_message(
				GMIME_MESSAGE_PART(obj));
		return;
	}
	if (!GMIME_IS_PART(obj) || !ct)
		return;
	arf_leaf(obj, ct, f);
}

/* arf_part_headers - the decoded content of a header-block PART (at most
   ARF_PART_MAX bytes, leading blank lines skipped) parsed as the headers
   of a message; NULL when there is none (unref the result) */
static GMimeMessage *arf_part_headers(GMimePart *part)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	GMimeStream *mem = NULL, *sub = NULL;
	GMimeParser *parser = NULL;
	GMimeMessage *msg = NULL;
	GByteArray *bytes;
	gint64 start = 0, end;

	if (!w)
		return NULL;
	mem = g_mime_stream_mem_new();
	if (g_mime_data_wrapper_write_to_stream(w, mem) < 0)
		goto out;
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	end = MIN((gint64)bytes->len, ARF_PART_MAX);
	while (start < end && (bytes->data[start] == '\r' ||
			       bytes->data[start] == '\n' ||
			       bytes->data[start] == ' ' ||
			       bytes->data[start] == '\t'))
		start++;
	if (start == end)
		goto out;
	/* the decoded original is the sender's as much as the mail */
	(void)mail_guard_fix((char *)bytes->data + start, (size_t)(end - start));
	sub = g_mime_stream_substream(mem, start, end);
	parser = g_mime_parser_new_with_stream(sub);
	msg = g_mime_parser_construct_message(parser, arf_options);
out:
	if (parser)
		g_object_unref(parser);
	if (sub)
		g_object_unref(sub);
	g_object_unref(mem);
	return msg;
}

/* arf_date - an RFC 5322 date as Unix time, 0 when unreadable */
static int64_t arf_date(const char *v)
{
	GDateTime *dt;
	int64_t t;

	if (!v)
		return 0;
	dt = g_mime_utils_header_decode_date(v);
	if (!dt)
		return 0;
	t = g_date_time_to_unix(dt);
	g_date_time_unref(dt);
	return t > 0 ? t : 0;
}

/* arf_lower_token - the first token of V ([A-Za-z0-9._-]) lower-cased */
static void arf_lower_token(char *dst, size_t dstlen, const char *v)
{
	size_t n = 0;

	dst[0] = '\0';
	if (!v)
		return;
	while (*v == ' ' || *v == '\t')
		v++;
	while (n + 1 < dstlen && (g_ascii_isalnum(*v) || *v == '-' ||
				  *v == '_' || *v == '.'))
		dst[n++] = g_ascii_tolower(*v++);
	dst[n] = '\0';
}

/* arf_source_ip - Source-IP when it is an IPv4 or IPv6 address */
static void arf_source_ip(char *dst, size_t dstlen, const char *v)
{
	char tmp[64];

	dst[0] = '\0';
	if (arf_token_copy(tmp, sizeof(tmp), v, ".:") == 0 &&
	    g_hostname_is_ip_address(tmp))
		g_strlcpy(dst, tmp, dstlen);
}

/* arf_report_fields - the message/feedback-report fields into R */
static void arf_report_fields(GMimeMessage *report, struct arf_report *r)
{
	GMimeObject *o = GMIME_OBJECT(report);
	const char *v;
	char *p;

	arf_lower_token(r->feedback_type, sizeof(r->feedback_type),
			arf_header(o, "Feedback-Type"));
	arf_text_copy(r->user_agent, sizeof(r->user_agent),
		      arf_header(o, "User-Agent"));

	arf_text_copy(r->version, sizeof(r->version), arf_header(o, "Version"));
	arf_addr_copy(r->original_mail_from,
		      arf_header_raw(o, "Original-Mail-From"));
	arf_text_copy(r->original_envelope_id, sizeof(r->original_envelope_id),
		      arf_header(o, "Original-Envelope-Id"));
	v = arf_header(o, "Arrival-Date");
	r->arrival_time = arf_date(v ? v : arf_header(o, "Received-Date"));
	arf_source_ip(r->source_ip, sizeof(r->source_ip),
		      arf_header(o, "Source-IP"));
	v = arf_header(o, "Reporting-MTA");
	if (v) {
		while (*v == ' ' || *v == '\t')
			v++;
		if (g_ascii_strncasecmp(v, "dns;", 4) == 0)
			v += 4;
	}
	arf_text_copy(r->reporting_mta, sizeof(r->reporting_mta), v);
	arf_text_copy(r->reported_domain, sizeof(r->reported_domain),
		      arf_header(o, "Reported-Domain"));
	for (p = r->reported_domain; *p; p++)
		*p = g_ascii_tolower(*p);
	arf_lower_token(r->auth_failure, sizeof(r->auth_failure),
			arf_header(o, "Auth-Failure"));
}

/* arf_envelope - what `bounced drop` put in front of the mail
   (mail_envelope.h: later such headers came with the mail) */
static void arf_envelope(GMimeMessage *msg, struct arf_report *r)
{
	const char *from, *to;

	mail_envelope(msg, &from, &to);
	/* one that is not an address is left "" */
	(void)arf_addr_copy(r->envelope_from, from);
	(void)arf_addr_copy(r->envelope_to, to);
}

/* arf_lone_cr - does BUF hold a CR that no LF follows? */
static bool arf_lone_cr(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;

	while ((p = memchr(p, '\r', (size_t)(end - p))) != NULL) {
		if (p + 1 == end || p[1] != '\n')
			return true;
		p += 2;
	}
	return false;
}

/* arf_lf_copy - BUF with every CR LF, lone CR and LF as one LF (g_free) */
static char *arf_lf_copy(const char *buf, size_t len, size_t *out)
{
	char *copy = g_malloc(len + 1);
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (buf[i] == '\r') {
			copy[n++] = '\n';
			if (i + 1 < len && buf[i + 1] == '\n')
				i++;
		} else {
			copy[n++] = buf[i];
		}
	}
	copy[n] = '\0';
	*out = n;
	return copy;
}

/* arf_report_mail - the report mail's own Date, From and To */
static void arf_report_mail(GMimeMessage *msg, struct arf_report *r)
{
	GMimeObject *o = GMIME_OBJECT(msg);

	r->report_time = arf_date(arf_header(o, "Date"));
	arf_addr_copy(r->report_from, arf_first_mailbox(o, "From",
				g_mime_message_get_from(msg)));
	arf_addr_copy(r->report_to, arf_first_mailbox(o, "To",
				g_mime_message_get_to(msg)));
}

/* arf_parse - see arf.h */
int arf_parse(const char *buf, size_t len, struct arf_report *r,
	      char *err, size_t errlen)
{
	GMimeStream *stream = NULL;
	GMimeParser *parser = NULL;
	GMimeMessage *msg = NULL, *report = NULL, *headers = NULL;
	GMimeMessage *orig = NULL;
	struct arf_found f;
	char *lf = NULL;
	int rc = -EINVAL;

	memset(r, 0, sizeof(*r));
	memset(&f, 0, sizeof(f));
	if (!buf || len == 0) {
		snprintf(err, errlen, "not a feedback report: empty mail");
		return -EINVAL;
	}
	arf_gmime_init();
	if (arf_lone_cr(buf, len)) {
		lf = arf_lf_copy(buf, len, &len);
		buf = lf;
	}
	if (mail_guard_needed(buf, len)) {
		/* what GMime would leak on, defused in a copy */
		if (!lf) {
			lf = g_malloc(len + 1);
			memcpy(lf, buf, len);
			lf[len] = '\0';
			buf = lf;
		}
		(void)mail_guard_fix(lf, len);
	}
	stream = g_mime_stream_mem_new_with_buffer(buf, len);
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, arf_options);
	if (!msg) {
		snprintf(err, errlen, "not a mail: no header could be read");
		goto out;
	}
	arf_walk(g_mime_message_get_mime_part(msg), 0, &f);
	if (f.orig_encoded) {
		/* decoded, then parsed (its first ARF_PART_MAX bytes: the
		   headers are what is read of it) */
		f.decoded = arf_part_headers(f.orig_encoded);
		f.orig = f.decoded;
	}
	if (!f.report && !f.orig && !f.orig_headers &&
	    arf_header_raw(GMIME_OBJECT(msg), "X-HmXmrOriginalRecipient"))
		f.orig = msg;	/* JMRP without its wrapper: the mail is the
				   original */
	arf_envelope(msg, r);
	arf_report_mail(msg, r);
	if (f.report)
		report = arf_part_headers(f.report);
	if (report)
		arf_report_fields(report, r);
	else
		r->flags |= ARF_F_NO_REPORT_PART;
	if (f.orig_headers) {
		headers = arf_part_headers(f.orig_headers);
		r->flags |= ARF_F_HEADERS_ONLY;
	}
	orig = f.orig ? f.orig : headers;
	if (orig)
		arf_orig_fields(orig, r);
	else
		r->flags |= ARF_F_NO_ORIGINAL;
	if (arf_kind_classify(msg, &f, orig, r) != 0) {
		memset(r, 0, sizeof(*r));
		snprintf(err, errlen, "not a feedback report: no "
			 "message/feedback-report part and no attached "
			 "original message");
		goto out;
	}
	if (r->kind == ARF_KIND_REPORT) {
		/* an outgoing spam filter's verdict on a message (SpamExperts
		   reports what it judged spam as Feedback-Type abuse): nobody
		   who received it complained; recorded under a type of its
		   own, which no complaint-types take */
		if (g_ascii_strncasecmp(r->user_agent, "SpamExperts", 11) == 0 &&
		    strcmp(r->feedback_type, "abuse") == 0)
			g_strlcpy(r->feedback_type, "filter-verdict",
				  sizeof(r->feedback_type));
		arf_rcpts(report, orig, r);
		if (!r->feedback_type[0]) {
			g_strlcpy(r->feedback_type, "abuse",
				  sizeof(r->feedback_type));
			r->flags |= ARF_F_TYPE_ASSUMED;
		}
	}
	rc = 0;
out:
	if (f.decoded)
		g_object_unref(f.decoded);
	if (headers)
		g_object_unref(headers);
	if (report)
		g_object_unref(report);
	if (msg)
		g_object_unref(msg);
	g_object_unref(parser);
	g_object_unref(stream);
	g_free(lf);
	return rc;
}

/* arf_kind_name - the kinds' names */
const char *arf_kind_name(enum arf_kind kind)
{
	static const char *const names[ARF_KINDS] = {
		[ARF_KIND_REPORT] = "report",
		[ARF_KIND_DSN] = "dsn",
		[ARF_KIND_AUTO_REPLY] = "auto-reply",
		[ARF_KIND_AUTH_REPORT] = "auth-report",
		[ARF_KIND_FORWARD] = "forward",
	};

	return (unsigned)kind < ARF_KINDS ? names[kind] : "?";
}

/* arf_flags_str - the flag names, comma-separated */
const char *arf_flags_str(unsigned flags, char *buf, size_t len)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ ARF_F_NO_REPORT_PART, "no-report-part" },
		{ ARF_F_TYPE_ASSUMED, "type-assumed" },
		{ ARF_F_HEADERS_ONLY, "headers-only" },
		{ ARF_F_NO_ORIGINAL, "no-original" },
		{ ARF_F_REDACTED, "redacted" },
		{ ARF_F_ANONYMISED, "anonymised" },
		{ ARF_F_RCPT_FROM_ORIG, "rcpt-from-original" },
		{ ARF_F_RCPTS_TRUNCATED, "rcpts-truncated" },
		{ ARF_F_KNOWN_SHAPE, "known-shape" },
		{ ARF_F_RCPT_FROM_TO, "rcpt-from-to" },
		{ ARF_F_RCPT_LIST, "rcpt-list" },
		{ ARF_F_RCPT_UNREADABLE, "rcpt-unreadable" },
	};
	size_t i, n = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < G_N_ELEMENTS(names); i++) {
		if (!(flags & names[i].bit))
			continue;
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s",
				      n ? "," : "", names[i].name);
		if (n >= len) {
			buf[len - 1] = '\0';
			break;
		}
	}
	return buf;
}
