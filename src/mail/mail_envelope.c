/*
 * mail_envelope.c - the envelope in front of a spool mail, from its first
 * two header lines only (include/mail_envelope.h, docs/SPOOL.md).
 */
#include <glib.h>

#include "mail_envelope.h"

void mail_envelope(GMimeMessage *msg, const char **from, const char **to)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	int i, n = hl ? g_mime_header_list_get_count(hl) : 0;

	*from = NULL;
	*to = NULL;
	for (i = 0; i < n && i < 2; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *name = g_mime_header_get_name(h);

		if (i == 0 && g_ascii_strcasecmp(name, "Return-Path") == 0) {
			*from = g_mime_header_get_raw_value(h);
			continue;
		}
		if (g_ascii_strcasecmp(name, "X-Bounced-Envelope-To") == 0)
			*to = g_mime_header_get_raw_value(h);
		break;
	}
}
