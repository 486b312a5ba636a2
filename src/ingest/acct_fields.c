/*
 * acct_fields.c - PowerMTA accounting field names and the column map.
 *
 * The name table holds the spellings PowerMTA writes; lookups ignore case
 * and surrounding blanks (PowerMTA writes both envId and envid).  Maps are
 * built from a header row (first column of a name wins, unknown columns are
 * ignored) or from a configured field order for header-less input.  Errors:
 * -1, the map left as it was; acct_map_from_names says why in ERR.
 */
#include "acct_fields.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const acct_names[AF__COUNT] = {
	[AF_TYPE] = "type",
	[AF_TIME_LOGGED] = "timeLogged",
	[AF_TIME_QUEUED] = "timeQueued",
	[AF_TOTAL_SECONDS_QUEUED] = "totalSecondsQueued",
	[AF_ORIG] = "orig",
	[AF_RCPT] = "rcpt",
	[AF_ORCPT] = "orcpt",
	[AF_DSN_ACTION] = "dsnAction",
	[AF_DSN_STATUS] = "dsnStatus",
	[AF_DSN_DIAG] = "dsnDiag",
	[AF_DSN_MTA] = "dsnMta",
	[AF_DSN_REPORTING_MTA] = "dsnReportingMta",
	[AF_BOUNCE_CAT] = "bounceCat",
	[AF_SRC_TYPE] = "srcType",
	[AF_SRC_MTA] = "srcMta",
	[AF_DLV_TYPE] = "dlvType",
	[AF_DLV_SOURCE_IP] = "dlvSourceIp",
	[AF_DLV_DESTINATION_IP] = "dlvDestinationIp",
	[AF_DLV_ESMTP_AVAILABLE] = "dlvEsmtpAvailable",
	[AF_DLV_SIZE] = "dlvSize",
	[AF_VMTA] = "vmta",
	[AF_JOB_ID] = "jobId",
	[AF_ENV_ID] = "envId",
	[AF_QUEUE] = "queue",
	[AF_VMTA_POOL] = "vmtaPool",
	[AF_USER_STRING] = "userString",
	[AF_DLV_TLS_PROTOCOL] = "dlvTlsProtocol",
	[AF_DLV_TLS_CIPHER] = "dlvTlsCipher",
	[AF_RCV_SMTP_USER] = "rcvSmtpUser",
	[AF_FORMAT] = "format",
	[AF_FEEDBACK_TYPE] = "feedbackType",
	[AF_USER_AGENT] = "userAgent",
	[AF_REP_SOURCE_IP] = "repSourceIp",
	[AF_REPORTING_MTA] = "reportingMta",
	[AF_REPORTED_DOMAIN] = "reportedDomain",
	[AF_HDR_FROM] = "header_From",
	[AF_HDR_RETURN_PATH] = "header_Return-Path",
	[AF_HDR_X_JOB] = "header_X-job",
	[AF_HDR_SUBJECT] = "header_Subject",
	[AF_HDR_MESSAGE_ID] = "header_Message-Id",
	[AF_HDR_LIST_ID] = "header_List-Id",
	[AF_HDR_X_MW_SUBSCRIBER_UID] = "header_X-Mw-Subscriber-Uid",
	[AF_HDR_X_MAILER_LID] = "header_X-Mailer-LID",
	[AF_HDR_X_MAILER_RECPTID] = "header_X-Mailer-RecptId",
	[AF_HDR_X_HMXMR_ORIGINAL_RECIPIENT] = "header_X-HmXmrOriginalRecipient",
};

/* acct_field_name - canonical spelling, "" for a value out of range */
const char *acct_field_name(enum acct_field f)
{
	if ((int)f < 0 || f >= AF__COUNT)
		return "";
	return acct_names[f];
}

/* acct_trim - see acct_fields.h (line ends trimmed too) */
void acct_trim(const char **s, size_t *len)
{
	const char *p = *s;
	size_t n = *len;

	if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
		p += 3;
		n -= 3;
	}
	while (n > 0 && (*p == ' ' || *p == '\t'))
		p++, n--;
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' ||
			 p[n - 1] == '\r' || p[n - 1] == '\n'))
		n--;
	*s = p;
	*len = n;
}

/* acct_field_lookup - NAME (LEN bytes, any case, blanks around) -> field */
int acct_field_lookup(const char *name, size_t len)
{
	int f;

	if (!name)
		return -1;
	acct_trim(&name, &len);
	if (len == 0)
		return -1;
	for (f = 0; f < AF__COUNT; f++) {
		const char *cand = acct_names[f];

		if (strlen(cand) == len && strncasecmp(cand, name, len) == 0)
			return f;
	}
	return -1;
}

/* acct_row_is_header - the row's first field says "type" */
bool acct_row_is_header(const struct csv_row *row)
{
	const char *s;
	size_t len;

	if (!row || row->nfields == 0)
		return false;
	s = row->fields[0];
	len = row->lens[0];
	acct_trim(&s, &len);
	/* cheap test first: this runs for every record */
	if (len == 5 && s[0] == '#') {
		s++;	/* "#type,...": a header written as a comment */
		len--;
	}
	return len == 4 && strncasecmp(s, "type", 4) == 0;
}

/* acct_row_is_comment - see acct_fields.h */
bool acct_row_is_comment(const struct acct_map *map, const struct csv_row *row)
{
	const char *s;
	size_t len;
	int c;

	if (!map || !row)
		return false;
	c = map->col[AF_TYPE];
	if (c < 0 || (size_t)c >= row->nfields || row->lens[c] == 0)
		return false;
	s = row->fields[c];
	len = row->lens[c];
	if (s[0] == '#')
		return true;	/* the common case, without trimming */
	if (s[0] != ' ' && s[0] != '\t' && s[0] != '\xEF')
		return false;	/* a record: no further look */
	acct_trim(&s, &len);
	return len > 0 && s[0] == '#';
}

/* acct_map_clear - every field absent */
static void acct_map_clear(struct acct_map *map)
{
	int f;

	for (f = 0; f < AF__COUNT; f++)
		map->col[f] = map->col2[f] = -1;
	map->ncols = 0;
	map->header_line = 0;
	map->from_header = false;
}

/* acct_map_from_row - map from a header row; MAP unchanged on -1 */
int acct_map_from_row(struct acct_map *map, const struct csv_row *row)
{
	struct acct_map m;
	size_t i;
	int f;

	if (!map || !row)
		return -1;
	acct_map_clear(&m);
	for (i = 0; i < row->nfields && i < CSV_MAX_FIELDS; i++) {
		const char *name = row->fields[i];
		size_t len = row->lens[i];

		if (i == 0) {
			acct_trim(&name, &len);
			if (len > 0 && name[0] == '#')
				name++, len--;	/* "#type" */
		}
		f = acct_field_lookup(name, len);
		if (f < 0)
			continue;
		if (m.col[f] < 0)
			m.col[f] = (int)i;
		else if (m.col2[f] < 0)
			m.col2[f] = (int)i;	/* a name PowerMTA wrote twice */
	}
	/* no rcpt column: a file of t and tq records (the User's Guide
	   suggests one of their own), whose rows are skipped; a row of
	   another type there is a record without rcpt */
	if (m.col[AF_TYPE] < 0)
		return -1;
	m.ncols = row->nfields;
	m.header_line = row->line;
	m.from_header = true;
	*map = m;
	return 0;
}

/* acct_map_from_names - map from a configured field order */
int acct_map_from_names(struct acct_map *map, char *const *names, char *err,
			size_t errlen)
{
	struct acct_map m;
	size_t i;
	int f;

	if (err && errlen)
		err[0] = '\0';
	if (!map || !names) {
		if (err && errlen)
			snprintf(err, errlen, "no accounting field order given");
		return -1;
	}
	acct_map_clear(&m);
	for (i = 0; names[i]; i++) {
		if (i >= CSV_MAX_FIELDS) {
			if (err && errlen)
				snprintf(err, errlen, "accounting field order "
					 "has more than %d names",
					 CSV_MAX_FIELDS);
			return -1;
		}
		f = acct_field_lookup(names[i], strlen(names[i]));
		if (f < 0) {
			if (err && errlen)
				snprintf(err, errlen, "unknown accounting field "
					 "'%.64s' (position %zu of the field "
					 "order); use PowerMTA's names, such as "
					 "type, timeLogged, rcpt, dsnDiag",
					 names[i], i + 1);
			return -1;
		}
		if (m.col[f] >= 0) {
			if (err && errlen)
				snprintf(err, errlen, "accounting field '%s' "
					 "appears twice in the field order "
					 "(positions %d and %zu)",
					 acct_names[f], m.col[f] + 1, i + 1);
			return -1;
		}
		m.col[f] = (int)i;
	}
	if (m.col[AF_TYPE] < 0 || m.col[AF_RCPT] < 0) {
		if (err && errlen)
			snprintf(err, errlen, "the accounting field order must "
				 "name both 'type' and 'rcpt'");
		return -1;
	}
	m.ncols = i;
	m.from_header = false;
	*map = m;
	return 0;
}
