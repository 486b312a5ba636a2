/*
 * fuzz_unsub_addr.c - libFuzzer target for the unsubscribe address parser
 * (unsub_addr.c) and the unsubscribe mail reader (unsub_mail.c).
 *
 * The input is read as an address with two compiled form lists (unsigned,
 * with a "*" domain, and signed), as a form list to compile, and as a mail.
 * Invariants: a matched address has ids of the right length and alphabet,
 * and formatting them with the form that matched gives the address back
 * (normalised); a signed match is a checked one; a parsed mail has a
 * recipient that is an address, a subject of valid UTF-8 within its bound
 * without control characters, From and Return-Path empty or addresses,
 * and what a mail that is no request is (its not_request) valid UTF-8
 * without control characters.
 *
 * Mails with unclosed comments are fuzzed too: GMime up to 3.2.14 leaks
 * a string when an address whose domain is a literal has one
 * (jstedfast/gmime issue #159), which the reader defuses before GMime
 * parses the header (mail_guard.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "addr.h"
#include "event.h"
#include "unsub_addr.h"
#include "unsub_mail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct unsub_addr_set *plain, *signed_set;

static void fz_sets(void)
{
	char err[512];

	if (plain)
		return;
	if (unsub_addr_compile(UNSUB_ADDR_DEFAULT ";unsub-[LIST_UID]-"
			       "[SUBSCRIBER_UID]@u.example.net;[CAMPAIGN_UID]+"
			       "[SUBSCRIBER_UID]=[LIST_UID]@u.example.net;c-"
			       "[CAMPAIGN_UID]-[SUBSCRIBER_UID]@u.example.net;"
			       "iem.[SUBSCRIBER_ID]_[LIST_ID]@*", NULL, &plain,
			       err, sizeof(err)) != 0 ||
	    unsub_addr_compile("[SUBSCRIBER_UID].[LIST_UID].[CAMPAIGN_UID]."
			       "[SIGNATURE]@fbl-unsub.example.com;[SIGNATURE]-"
			       "[SUBSCRIBER_ID]-[LIST_ID]@*",
			       "fuzz-secret-0123456789", &signed_set, err,
			       sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_unsub_addr: %s\n", err);
		abort();
	}
}

/* fz_value_ok - a UID (13 of [a-z0-9]) or an id (1-10 digits) */
static int fz_value_ok(const char *v, enum unsub_addr_system sys)
{
	size_t n = strlen(v), i;

	if (sys == UNSUB_MAILWIZZ && n != UNSUB_UID_LEN)
		return 0;
	if (sys == UNSUB_INTERSPIRE && (n < 1 || n > UNSUB_NUM_MAX))
		return 0;
	for (i = 0; i < n; i++) {
		char c = v[i];

		if (!((c >= '0' && c <= '9') ||
		      (sys == UNSUB_MAILWIZZ && c >= 'a' && c <= 'z')))
			return 0;
	}
	return 1;
}

/* fz_match - read A (N bytes) with SET; check what a match gives */
static void fz_match(const struct unsub_addr_set *set, const char *a, size_t n,
		     int is_signed)
{
	struct unsub_addr_ids ids;
	char err[512], norm[ADDR_MAX + 1], out[ADDR_MAX + 1];

	if (unsub_addr_match(set, a, n, &ids, err, sizeof(err)) != 0) {
		if (!memchr(err, '\0', sizeof(err)) || err[0] == '\0')
			abort();
		return;
	}
	if (!fz_value_ok(ids.subscriber, ids.system) ||
	    (!fz_value_ok(ids.list, ids.system) &&
	     (ids.list[0] || !ids.campaign[0])) ||
	    (ids.campaign[0] && !fz_value_ok(ids.campaign, UNSUB_MAILWIZZ)) ||
	    ids.signature_checked != is_signed)
		abort();
	if (addr_normalise(a, n, norm, sizeof(norm)) < 0)
		abort();
	if (unsub_addr_format(set, ids.form, &ids, addr_domain(norm), out,
			      sizeof(out), err, sizeof(err)) != 0 ||
	    strcmp(out, norm) != 0) {
		fprintf(stderr, "round trip: '%s' -> '%s' (%s)\n", norm, out,
			err);
		abort();
	}
}

/* fz_mail - parse DATA as a mail and check the fields */
static void fz_mail(const uint8_t *data, size_t size)
{
	struct unsub_mail m;
	char err[512];
	const char *p;

	if (unsub_mail_parse((const char *)data, size, &m, err,
			     sizeof(err)) != 0)
		return;
	if (!strchr(m.rcpt, '@') || (m.from[0] && !strchr(m.from, '@')) ||
	    (m.sender[0] && !strchr(m.sender, '@')))
		abort();
	if (strlen(m.subject) > UNSUB_MAIL_SUBJECT_MAX ||
	    !g_utf8_validate(m.subject, -1, NULL))
		abort();
	for (p = m.subject; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
	/* what a mail that is no request is: for a .why file and the log */
	if (!memchr(m.not_request, '\0', sizeof(m.not_request)) ||
	    !g_utf8_validate(m.not_request, -1, NULL))
		abort();
	for (p = m.not_request; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
	fz_match(plain, m.rcpt, strlen(m.rcpt), 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct unsub_addr_set *set = NULL;
	char *text;

	fz_sets();
	fz_match(plain, (const char *)data, size, 0);
	fz_match(signed_set, (const char *)data, size, 1);

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (unsub_addr_compile(text, size % 2 ? "fuzz-secret-0123456789" : NULL,
			       &set, NULL, 0) == 0) {
		if (unsub_addr_forms(set) < 1 ||
		    unsub_addr_forms(set) > UNSUB_ADDR_FORMS_MAX)
			abort();
		unsub_addr_free(set);
	}
	free(text);

	if (size <= 65536)
		fz_mail(data, size);
	return 0;
}
