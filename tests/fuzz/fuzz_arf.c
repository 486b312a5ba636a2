/*
 * fuzz_arf.c - libFuzzer target for the ARF (feedback report) parser.
 *
 * Reports come from anyone who can mail the FBL domain.  Whatever the
 * bytes, arf_parse returns 0 or -EINVAL; on 0 every string of the report
 * is NUL-terminated inside its array, valid UTF-8 without control
 * characters, every recipient a normalised address that normalises to
 * itself and never a placeholder or hash, the recipients distinct and
 * their count within bounds, the kind one of the kinds, only a report
 * names recipients, and no report is of a type that is never a complaint
 * (auth-failure, fraud, virus: set aside as auth-report).  X-Mailer-LID
 * is a token of the size of the other ids, or list ids that a check of
 * its own finds whole and bounded.
 * The seed corpus holds every shape of tests/data/arf: reports, bounces of
 * the common MTAs, auto-replies, DMARC reports, forwards, CR-only mails.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "addr.h"
#include "arf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_text - S (an array of N bytes) is a clean string */
static void fuzz_text(const char *what, const char *s, size_t n)
{
	const char *p;

	if (!memchr(s, '\0', n) || !g_utf8_validate(s, -1, NULL)) {
		fprintf(stderr, "fuzz_arf: %s not a valid string\n", what);
		abort();
	}
	for (p = s; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
			fprintf(stderr, "fuzz_arf: control in %s\n", what);
			abort();
		}
	}
}

/* fuzz_addr - A is "" or a normalised address */
static void fuzz_addr(const char *what, const char *a)
{
	char again[ADDR_MAX + 1];

	fuzz_text(what, a, ADDR_MAX + 1);
	if (a[0] && (addr_normalise(a, strlen(a), again, sizeof(again)) < 0 ||
		     strcmp(a, again) != 0)) {
		fprintf(stderr, "fuzz_arf: %s not normalised\n", what);
		abort();
	}
}

/* fuzz_lids - S is list ids as X-Mailer-LID names them, checked apart
   from arf_iem_lids_ok: ids of 1 to 10 digits, single commas between
   them, shorter than ARF_IEM_LID_SIZE (at most ARF_IEM_LIDS_MAX ids) */
static bool fuzz_lids(const char *s)
{
	size_t n = strlen(s), ids = 0, run = 0, i;

	if (n == 0 || n >= ARF_IEM_LID_SIZE)
		return false;
	for (i = 0; i <= n; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			run++;
			continue;
		}
		if ((s[i] != ',' && s[i] != '\0') || run == 0 || run > 10)
			return false;
		ids++;
		run = 0;
	}
	return ids <= ARF_IEM_LIDS_MAX;
}

#define TEXT(f) fuzz_text(#f, r.f, sizeof(r.f))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arf_report r;
	char err[256];
	size_t i;
	int rc;

	rc = arf_parse((const char *)data, size, &r, err, sizeof(err));
	if (rc != 0 && rc != -EINVAL) {
		fprintf(stderr, "fuzz_arf: unexpected code %d\n", rc);
		abort();
	}
	if (rc != 0) {
		fuzz_text("err", err, sizeof(err));
		return 0;
	}
	TEXT(feedback_type);
	TEXT(user_agent);
	TEXT(version);
	TEXT(original_envelope_id);
	TEXT(source_ip);
	TEXT(reporting_mta);
	TEXT(reported_domain);
	TEXT(auth_failure);
	TEXT(orig_subject);
	TEXT(orig_message_id);
	TEXT(list_id);
	TEXT(list_id_token);
	TEXT(mw_subscriber_uid);
	TEXT(mailer_lid);
	TEXT(mailer_recptid);
	TEXT(x_job);
	TEXT(feedback_id);
	TEXT(kind_why);
	fuzz_addr("report_from", r.report_from);
	fuzz_addr("report_to", r.report_to);
	fuzz_addr("original_mail_from", r.original_mail_from);
	fuzz_addr("orig_from", r.orig_from);
	fuzz_addr("orig_return_path", r.orig_return_path);
	fuzz_addr("envelope_from", r.envelope_from);
	fuzz_addr("envelope_to", r.envelope_to);
	if ((unsigned)r.kind >= ARF_KINDS || !r.kind_why[0]) {
		fprintf(stderr, "fuzz_arf: bad kind\n");
		abort();
	}
	if (r.n_rcpts > ARF_MAX_RCPTS ||
	    (r.kind == ARF_KIND_REPORT &&
	     (!r.feedback_type[0] ||
	      (r.n_rcpts == 0) != !!(r.flags & ARF_F_ANONYMISED))) ||
	    (r.kind != ARF_KIND_REPORT && r.n_rcpts != 0)) {
		fprintf(stderr, "fuzz_arf: bad count or flags\n");
		abort();
	}
	/* X-Mailer-LID: a token of [A-Za-z0-9._-] of the size of the
	   other ids, or list ids joined with commas, bounded
	   (arf_iem_lids_ok) */
	if (strchr(r.mailer_lid, ',') != NULL ?
		    !arf_iem_lids_ok(r.mailer_lid) ||
			    !fuzz_lids(r.mailer_lid) :
		    strlen(r.mailer_lid) >= ARF_IEM_TOKEN_SIZE ||
			    strspn(r.mailer_lid, "abcdefghijklmnopqrstuvwxyz"
						 "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
						 "0123456789._-") !=
				    strlen(r.mailer_lid)) {
		fprintf(stderr, "fuzz_arf: bad X-Mailer-LID\n");
		abort();
	}
	/* a list is whole or dropped: arf_iem_lids_ok agrees with the
	   X-Mailer-LID kept (a list ids value is kept or nothing is) */
	if (r.mailer_lid[0] && fuzz_lids(r.mailer_lid) !=
				       arf_iem_lids_ok(r.mailer_lid)) {
		fprintf(stderr, "fuzz_arf: X-Mailer-LID judged twice\n");
		abort();
	}
	if (r.kind == ARF_KIND_REPORT &&
	    (strcmp(r.feedback_type, "auth-failure") == 0 ||
	     strcmp(r.feedback_type, "fraud") == 0 ||
	     strcmp(r.feedback_type, "virus") == 0)) {
		fprintf(stderr, "fuzz_arf: a %s report taken as a report\n",
			r.feedback_type);
		abort();
	}
	for (i = 0; i < r.n_rcpts; i++) {
		size_t j;

		for (j = 0; j < i; j++)
			if (strcmp(r.rcpts[i], r.rcpts[j]) == 0) {
				fprintf(stderr, "fuzz_arf: a recipient twice\n");
				abort();
			}
		fuzz_addr("rcpt", r.rcpts[i]);
		if (arf_redacted(r.rcpts[i])) {
			fprintf(stderr, "fuzz_arf: a placeholder recipient\n");
			abort();
		}
		/* a spelling is the recipient with other ASCII capitals */
		if (r.rcpts_written[i][0] &&
		    (strcmp(r.rcpts_written[i], r.rcpts[i]) == 0 ||
		     g_ascii_strcasecmp(r.rcpts_written[i], r.rcpts[i]) != 0)) {
			fprintf(stderr, "fuzz_arf: a spelling of another "
				"address\n");
			abort();
		}
	}
	for (i = r.n_rcpts; i < ARF_MAX_RCPTS; i++)
		if (r.rcpts_written[i][0]) {
			fprintf(stderr, "fuzz_arf: a spelling without its "
				"recipient\n");
			abort();
		}
	return 0;
}
