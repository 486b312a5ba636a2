/*
 * acct_fields.h - PowerMTA accounting field names and the column map.
 *
 * Columns are matched by header name, case-insensitively (PowerMTA writes
 * both envId and envid).  A header line (first field "type") sets the map;
 * a new header mid-file replaces it.  Header-less input uses a configured
 * field order.  Columns bounced does not know are ignored.
 */
#ifndef BOUNCED_ACCT_FIELDS_H
#define BOUNCED_ACCT_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

#include "acct_csv.h"

enum acct_field {
	AF_TYPE = 0,
	AF_TIME_LOGGED,
	AF_TIME_QUEUED,
	AF_TOTAL_SECONDS_QUEUED,
	AF_ORIG,
	AF_RCPT,
	AF_ORCPT,
	AF_DSN_ACTION,
	AF_DSN_STATUS,
	AF_DSN_DIAG,
	AF_DSN_MTA,
	AF_DSN_REPORTING_MTA,
	AF_BOUNCE_CAT,
	AF_SRC_TYPE,
	AF_SRC_MTA,
	AF_DLV_TYPE,
	AF_DLV_SOURCE_IP,
	AF_DLV_DESTINATION_IP,
	AF_DLV_ESMTP_AVAILABLE,
	AF_DLV_SIZE,
	AF_VMTA,
	AF_JOB_ID,
	AF_ENV_ID,
	AF_QUEUE,
	AF_VMTA_POOL,
	AF_USER_STRING,
	AF_DLV_TLS_PROTOCOL,
	AF_DLV_TLS_CIPHER,
	AF_RCV_SMTP_USER,
	AF_FORMAT,
	AF_FEEDBACK_TYPE,
	AF_USER_AGENT,
	AF_REP_SOURCE_IP,
	AF_REPORTING_MTA,
	AF_REPORTED_DOMAIN,
	/* header_* columns of f records that bounced uses */
	AF_HDR_FROM,
	AF_HDR_RETURN_PATH,
	AF_HDR_X_JOB,
	AF_HDR_SUBJECT,
	AF_HDR_MESSAGE_ID,
	AF_HDR_LIST_ID,
	AF_HDR_X_MW_SUBSCRIBER_UID,
	AF_HDR_X_MAILER_LID,
	AF_HDR_X_MAILER_RECPTID,
	AF_HDR_X_HMXMR_ORIGINAL_RECIPIENT,
	AF__COUNT
};

/* the column of each field in the current row layout, -1 when absent;
   COL2: a second column of the same name (a header may repeat one:
   rcvSourceIp), read when the first is empty in a row */
struct acct_map {
	int col[AF__COUNT];
	int col2[AF__COUNT];
	size_t ncols;		/* columns in the header (0 = unknown) */
	uint64_t header_line;	/* the line of that header, 0: none */
	bool from_header;	/* true: set by a header line */
};

/* acct_field_name - canonical PowerMTA spelling ("timeLogged", "header_List-Id") */
const char *acct_field_name(enum acct_field f);

/* acct_trim - *S (*LEN bytes) without a UTF-8 byte order mark before it
   (the first field of a file) nor blanks around it: a header name, a
   record type */
void acct_trim(const char **s, size_t *len);

/* acct_field_lookup - NAME (LEN bytes, any case) -> field, or -1 */
int acct_field_lookup(const char *name, size_t len);

/* acct_row_is_header - first field is "type" or "#type" (any case,
   surrounding blanks ok) */
bool acct_row_is_header(const struct csv_row *row);

/* acct_row_is_comment - ROW's type field (by MAP) starts with '#': a
   comment line, no record (no record type starts so) */
bool acct_row_is_comment(const struct acct_map *map, const struct csv_row *row);

/* acct_map_from_row - map from a header row; unknown columns ignored.
   Returns 0, or -1 when the row has no "type" column. */
int acct_map_from_row(struct acct_map *map, const struct csv_row *row);

/* acct_map_from_names - map from a field order (NULL-terminated names);
   returns 0, or -1 naming the bad entry in ERR. */
int acct_map_from_names(struct acct_map *map, char *const *names, char *err,
			size_t errlen);

/* acct_get - the field's value in ROW ("" when absent); *LEN set if LEN
   (inline: a record asks for a dozen fields) */
static inline const char *acct_get(const struct acct_map *map,
				   const struct csv_row *row,
				   enum acct_field f, size_t *len)
{
	int c;

	if (len)
		*len = 0;
	if (!map || !row || (int)f < 0 || f >= AF__COUNT)
		return "";
	c = map->col[f];
	if (c < 0 || (size_t)c >= row->nfields)
		return "";
	if (row->lens[c] == 0 && map->col2[f] >= 0 &&
	    (size_t)map->col2[f] < row->nfields)
		c = map->col2[f];	/* empty: the repeated column's */
	if (len)
		*len = row->lens[c];
	return row->fields[c];
}

#endif
