/*
 * fuzz_notify_compose.c - libFuzzer target for the notification composer:
 * the input's bytes become two items as they are (fields without NUL,
 * any kind, bytes that are not UTF-8, CR/LF, markup), composed with a
 * web_url so that links are tried too.
 *
 * Invariants: composing succeeds; the message has CRLF line ends only and
 * no line over 998 bytes; its header section holds only the headers the
 * composer writes (and their continuations); GMime parses it back into a
 * multipart/alternative whose HTML part has no "<script" and no link but
 * into the MailWizz web UI.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "notify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fz_headers[] = {
	"Date:", "From:", "To:", "Subject:", "Message-Id:", "Auto-Submitted:",
	"MIME-Version:", "Content-Type:", NULL
};

/* fz_wire - CRLF only, lines within 998, only our headers */
static void fz_wire(const char *m, size_t len)
{
	const char *end = strstr(m, "\r\n\r\n"), *p;
	size_t i, line = 0;

	for (i = 0; i < len; i++) {
		if (m[i] == '\n') {
			if (i == 0 || m[i - 1] != '\r')
				abort();
			line = 0;
		} else if (m[i] == '\r') {
			if (i + 1 >= len || m[i + 1] != '\n')
				abort();
		} else if (++line > 998) {
			abort();
		}
	}
	if (!end)
		abort();
	for (p = m; p < end; p = strstr(p, "\r\n") + 2) {
		size_t k;
		int ok = (*p == ' ' || *p == '\t');

		for (k = 0; !ok && fz_headers[k]; k++)
			ok = strncmp(p, fz_headers[k], strlen(fz_headers[k])) == 0;
		if (!ok)
			abort();
	}
}

/* fz_html - the HTML part holds no live markup from the values */
static void fz_html(const char *m, size_t len)
{
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(m, len);
	GMimeParser *parser = g_mime_parser_new_with_stream(st);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
	GMimeObject *body;
	GMimeObject *part;
	char *html, *low, *a;

	if (!msg)
		abort();
	body = g_mime_message_get_mime_part(msg);
	if (!GMIME_IS_MULTIPART(body) ||
	    g_mime_multipart_get_count(GMIME_MULTIPART(body)) != 2)
		abort();
	part = g_mime_multipart_get_part(GMIME_MULTIPART(body), 1);
	html = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
	low = g_ascii_strdown(html, -1);
	if (strstr(low, "<script"))
		abort();
	for (a = strstr(html, "<a href=\""); a; a = strstr(a + 1, "<a href=\""))
		if (strncmp(a + 9, "https://mw.example.com/customer/", 32) != 0)
			abort();
	g_free(low);
	g_free(html);
	g_object_unref(msg);
	g_object_unref(parser);
	g_object_unref(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const to[] = { "postmaster@example.com", NULL };
	struct notify_opts o = {
		.from = "bounced@example.com", .to = to,
		.web_url = "https://mw.example.com", .hostname = "mx.example.com",
		.period_start = 1795600000, .period_end = 1795600900,
	};
	struct notify_item it[2];
	size_t half = size / 2;
	char err[256], *m = NULL;
	size_t len = 0;

	memset(it, 0, sizeof(it));
	memcpy(&it[0], data, half < sizeof(it[0]) ? half : sizeof(it[0]));
	memcpy(&it[1], data + half, size - half < sizeof(it[1]) ?
	       size - half : sizeof(it[1]));
	/* the kinds the composer knows, chosen by the first byte */
	if (size > 0 && (data[0] & 3) != 3)
		strcpy(it[0].kind, (const char *[]){ "complaint", "unsubscribe",
						     "bounce" }[data[0] & 3]);
	if (notify_compose(&o, it, 2, &m, &len, err, sizeof(err)) != 0)
		abort();
	fz_wire(m, len);
	fz_html(m, len);
	g_free(m);
	return 0;
}
