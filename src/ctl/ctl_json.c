/*
 * ctl_json.c - how bouncectl writes a recipient record for machines and
 * people: a cJSON object (shared by show and list), RFC 3339 times, RFC
 * 4180 CSV fields, and terminal-safe text.
 *
 * The strings of a record came from the internet (DSN texts, sender
 * addresses): JSON strings are made valid UTF-8, text output has its control
 * bytes replaced, CSV fields are quoted.  Allocation failure of a JSON
 * object is returned as NULL; nothing here prints or exits.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "event.h"
#include "rcpt_dropped.h"
#include "rcpt_rules.h"
#include "timeparse.h"

const char *ctl_status_name(uint8_t status)
{
	if (status >= RCPT_STATUS_COUNT)
		return "unknown";
	return rcpt_status_name((enum rcpt_status)status);
}

const char *ctl_action_state_name(uint8_t state)
{
	switch (state) {
	case ACTION_PENDING: return "pending";
	case ACTION_DONE: return "done";
	case ACTION_DEAD: return "dead";
	case ACTION_DRYRUN: return "dry-run";
	}
	return "unknown";
}

const char *ctl_op_name(uint8_t op)
{
	switch (op) {
	case OP_UNSUBSCRIBE: return "unsubscribe";
	case OP_BOUNCE: return "bounce";
	case OP_COMPLAINT: return "complaint";
	case OP_EVENT: return "event";
	}
	return "unknown";
}

const char *ctl_kind_name(uint8_t kind)
{
	if (kind > EV_SKIPPED)
		return "unknown";
	return event_kind_name((enum event_kind)kind);
}

const char *ctl_file_status_name(uint8_t status)
{
	switch (status) {
	case FILE_PARTIAL: return "partial";
	case FILE_DONE: return "done";
	case FILE_FAILED: return "failed";
	}
	return "unknown";
}

/* ctl_reason_empty - nothing was ever recorded in REASON */
bool ctl_reason_empty(const struct rcpt_reason *reason)
{
	return reason->time == 0 && reason->kind == 0 && reason->line == 0 &&
	       reason->source[0] == '\0' && reason->category[0] == '\0' &&
	       reason->dsn_status[0] == '\0' && reason->dsn_diag[0] == '\0';
}

/* ctl_time_rfc3339 - "2019-02-08T21:54:05Z", or "" and -1 for 0 */
int ctl_time_rfc3339(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;
	int n;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	if (t == 0 || (int64_t)tt != t || !gmtime_r(&tt, &tm))
		return -1;
	if (tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		return -1;
	n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec);
	if (n < 0 || (size_t)n >= len) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}

/* ctl_time_text - the PowerMTA-style time of text output, "-" when unknown */
void ctl_time_text(int64_t t, char *buf, size_t len)
{
	if (len == 0)
		return;
	if (t == 0) {
		snprintf(buf, len, "-");
		return;
	}
	timeparse_format(t, buf, len);
}

cJSON *ctl_json_time(int64_t t)
{
	char buf[32];

	if (ctl_time_rfc3339(t, buf, sizeof(buf)) != 0)
		return cJSON_CreateNull();
	return cJSON_CreateString(buf);
}

/* ctl_json_string - S as a JSON string, made valid UTF-8 first */
cJSON *ctl_json_string(const char *s)
{
	cJSON *item;
	char *valid;

	if (!s)
		s = "";
	if (g_utf8_validate(s, -1, NULL))
		return cJSON_CreateString(s);
	valid = g_utf8_make_valid(s, -1);
	item = cJSON_CreateString(valid);
	g_free(valid);
	return item;
}

/* ctl_put - add ITEM (may be NULL: out of memory) to OBJ under KEY */
static bool ctl_put(cJSON *obj, const char *key, cJSON *item)
{
	if (!item)
		return false;
	if (!cJSON_AddItemToObject(obj, key, item)) {
		cJSON_Delete(item);
		return false;
	}
	return true;
}

/* ctl_push - append ITEM (may be NULL) to the array ARR */
static bool ctl_push(cJSON *arr, cJSON *item)
{
	if (!item)
		return false;
	if (!cJSON_AddItemToArray(arr, item)) {
		cJSON_Delete(item);
		return false;
	}
	return true;
}

cJSON *ctl_json_reason(const struct rcpt_reason *reason)
{
	cJSON *o = cJSON_CreateObject();
	bool ok;

	if (!o)
		return NULL;
	ok = ctl_put(o, "kind", cJSON_CreateString(ctl_kind_name(reason->kind))) &&
	     ctl_put(o, "source", ctl_json_string(reason->source)) &&
	     ctl_put(o, "line", cJSON_CreateNumber((double)reason->line)) &&
	     ctl_put(o, "category", ctl_json_string(reason->category)) &&
	     ctl_put(o, "dsn_status", ctl_json_string(reason->dsn_status)) &&
	     ctl_put(o, "dsn_diag", ctl_json_string(reason->dsn_diag)) &&
	     ctl_put(o, "orig", ctl_json_string(reason->orig)) &&
	     ctl_put(o, "vmta", ctl_json_string(reason->vmta)) &&
	     ctl_put(o, "job_id", ctl_json_string(reason->job_id)) &&
	     ctl_put(o, "time", ctl_json_time(reason->time));
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* ctl_json_counts - the event counters of R */
static cJSON *ctl_json_counts(const struct rcpt *r)
{
	cJSON *o = cJSON_CreateObject();
	bool ok;

	if (!o)
		return NULL;
	ok = ctl_put(o, "hard", cJSON_CreateNumber(r->cnt_hard)) &&
	     ctl_put(o, "soft", cJSON_CreateNumber(r->cnt_soft)) &&
	     ctl_put(o, "complaint", cJSON_CreateNumber(r->cnt_complaint)) &&
	     ctl_put(o, "unsub", cJSON_CreateNumber(r->cnt_unsub)) &&
	     ctl_put(o, "delivery", cJSON_CreateNumber(r->cnt_delivery)) &&
	     ctl_put(o, "duplicate", cJSON_CreateNumber(r->cnt_duplicate)) &&
	     ctl_put(o, "other", cJSON_CreateNumber(r->cnt_other));
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* ctl_json_soft - the kept soft bounces, oldest first: their times, or
   (ASYNC) beside them whether each is an rb, which a delivery does not
   clear */
static cJSON *ctl_json_soft(const struct rcpt *r, bool async)
{
	cJSON *a = cJSON_CreateArray();
	uint32_t i, n = r->n_soft < RCPT_SOFT_MAX ? r->n_soft : RCPT_SOFT_MAX;

	if (!a)
		return NULL;
	for (i = 0; i < n; i++)
		if (!ctl_push(a, async ? cJSON_CreateBool(r->soft_async[i]) :
					 ctl_json_time(r->soft_times[i]))) {
			cJSON_Delete(a);
			return NULL;
		}
	return a;
}

/* ctl_json_actions - the provider actions of R */
static cJSON *ctl_json_actions(const struct rcpt *r)
{
	cJSON *a = cJSON_CreateArray();
	uint32_t i, n = r->n_actions < RCPT_ACTIONS_MAX ? r->n_actions :
							   RCPT_ACTIONS_MAX;

	if (!a)
		return NULL;
	for (i = 0; i < n; i++) {
		const struct rcpt_action *act = &r->actions[i];
		cJSON *o = cJSON_CreateObject();
		bool ok = o &&
			  ctl_put(o, "provider", ctl_json_string(act->provider)) &&
			  ctl_put(o, "op", cJSON_CreateString(ctl_op_name(act->op))) &&
			  ctl_put(o, "state", cJSON_CreateString(
						 ctl_action_state_name(act->state))) &&
			  ctl_put(o, "time", ctl_json_time(act->time)) &&
			  ctl_put(o, "campaign", act->campaign_id[0] ?
				  ctl_json_string(act->campaign_id) :
				  cJSON_CreateNull());

		if (!ok) {
			cJSON_Delete(o);
			cJSON_Delete(a);
			return NULL;
		}
		if (!ctl_push(a, o)) {
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

/* ctl_json_dropped - the spans of held hard bounces not applied */
static cJSON *ctl_json_dropped(const struct rcpt *r)
{
	cJSON *a = cJSON_CreateArray();
	uint32_t i, n = rcpt_dropped_count(r);

	if (!a)
		return NULL;
	for (i = 0; i < n; i++) {
		const struct rcpt_dropped *d = &r->dropped[i];
		cJSON *o = cJSON_CreateObject();
		bool ok = o &&
			  ctl_put(o, "incident",
				  cJSON_CreateNumber((double)d->incident)) &&
			  ctl_put(o, "from", ctl_json_time(d->from)) &&
			  ctl_put(o, "to", ctl_json_time(d->to));

		if (!ok) {
			cJSON_Delete(o);
			cJSON_Delete(a);
			return NULL;
		}
		if (!ctl_push(a, o)) {
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

/* ctl_json_detail - the keys only show prints */
static bool ctl_json_detail(cJSON *o, const struct rcpt *r)
{
	uint32_t n = r->n_soft < RCPT_SOFT_MAX ? r->n_soft : RCPT_SOFT_MAX;

	return ctl_put(o, "first_seen", ctl_json_time(r->first_seen)) &&
	       ctl_put(o, "counts", ctl_json_counts(r)) &&
	       ctl_put(o, "soft_times", ctl_json_soft(r, false)) &&
	       ctl_put(o, "soft_async", ctl_json_soft(r, true)) &&
	       ctl_put(o, "soft_first",
		       ctl_json_time(n ? r->soft_times[0] : 0)) &&
	       ctl_put(o, "soft_last",
		       ctl_json_time(n ? r->soft_times[n - 1] : 0)) &&
	       ctl_put(o, "last_soft",
		       ctl_reason_empty(&r->last_soft) ?
			       cJSON_CreateNull() :
			       ctl_json_reason(&r->last_soft)) &&
	       ctl_put(o, "actions", ctl_json_actions(r)) &&
	       ctl_put(o, "notice", r->notice_time ?
			       ctl_json_string(r->notice) : cJSON_CreateNull()) &&
	       ctl_put(o, "notice_time", ctl_json_time(r->notice_time)) &&
	       ctl_put(o, "held_dropped", ctl_json_dropped(r));
}

cJSON *ctl_json_rcpt(const char *addr, const struct rcpt *r, bool detail)
{
	cJSON *o = cJSON_CreateObject();
	bool ok;

	if (!o)
		return NULL;
	ok = ctl_put(o, "address", ctl_json_string(addr)) &&
	     ctl_put(o, "status",
		     cJSON_CreateString(ctl_status_name(r->status))) &&
	     ctl_put(o, "soft_count", cJSON_CreateNumber(r->n_soft)) &&
	     ctl_put(o, "category", ctl_json_string(r->last_category)) &&
	     ctl_put(o, "updated", ctl_json_time(r->updated)) &&
	     ctl_put(o, "escalated", cJSON_CreateBool(r->escalated)) &&
	     ctl_put(o, "status_time", ctl_json_time(r->status_time)) &&
	     ctl_put(o, "reason", rcpt_is_suppressed(r) ?
					  ctl_json_reason(&r->reason) :
					  cJSON_CreateNull());
	if (ok && detail)
		ok = ctl_json_detail(o, r);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* ctl_csv_field - one RFC 4180 field, quoted only when it must be */
void ctl_csv_field(GString *line, const char *s)
{
	if (!s)
		return;
	if (!strpbrk(s, ",\"\r\n")) {
		g_string_append(line, s);
		return;
	}
	g_string_append_c(line, '"');
	for (; *s; s++) {
		if (*s == '"')
			g_string_append_c(line, '"');
		g_string_append_c(line, *s);
	}
	g_string_append_c(line, '"');
}

/* ctl_text_clean - line breaks and tabs to ' ', other control bytes to
   '?', cut at a UTF-8 boundary */
const char *ctl_text_clean(const char *s, char *buf, size_t len)
{
	size_t i, n;

	if (len == 0)
		return buf;
	if (!s)
		s = "";
	n = strlen(s);
	if (n >= len) {
		n = len - 1;
		/* do not leave half a UTF-8 sequence at the end */
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\t' || c == '\r' || c == '\n')
			buf[i] = ' ';	/* multi-line SMTP replies */
		else if (c < 0x20 || c == 0x7f)
			buf[i] = '?';
		else
			buf[i] = (char)c;
	}
	buf[n] = '\0';
	return buf;
}

/* ctl_text_width - columns S takes on a terminal: one per character, two
   for a wide (East Asian) one, none for a combining mark; a byte that is
   not UTF-8 counts one */
int ctl_text_width(const char *s)
{
	int w = 0;

	while (s && *s) {
		gunichar u = g_utf8_get_char_validated(s, -1);

		if (u == (gunichar)-1 || u == (gunichar)-2) {
			w++;
			s++;
			continue;
		}
		if (g_unichar_iswide(u))
			w += 2;
		else if (!g_unichar_iszerowidth(u))
			w++;
		s = g_utf8_next_char(s);
	}
	return w;
}

/* ctl_text_pad - S, then blanks up to WIDTH columns */
void ctl_text_pad(FILE *out, const char *s, int width)
{
	int w = ctl_text_width(s);

	fputs(s, out);
	for (; w < width; w++)
		fputc(' ', out);
}
