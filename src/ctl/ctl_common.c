/*
 * ctl_common.c - plumbing shared by the bouncectl commands: opening the
 * state (never creating it), usage errors, --format values, the ADDR
 * argument, LMDB keys as C strings.
 *
 * Functions that can fail print one message to stderr, prefixed with the
 * program name and naming the subject, and return the exit code the
 * command should end with (exitcodes.h); they never exit themselves.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "ctl.h"
#include "mail_events.h"
#include "exitcodes.h"
#include "state.h"

/* ctl_state_open - read-only or writable, but only an existing state */
int ctl_state_open(const struct ctl_ctx *ctx, bool write, struct state **st)
{
	char err[512] = "";
	int rc;

	*st = NULL;
	/* a read-only open first: it fails with -ENOENT instead of creating */
	rc = state_open(st, ctx->cfg->state, true, err, sizeof(err));
	if (rc == 0 && write) {
		state_close(*st);
		*st = NULL;
		rc = state_open(st, ctx->cfg->state, false, err, sizeof(err));
	}
	if (rc == 0)
		return 0;
	*st = NULL;
	if (rc == -ENOENT) {
		fprintf(stderr,
			"%s: no state in %s yet (run 'bounced process' first)\n",
			ctx->prog, ctx->cfg->state);
		return EXIT_NOINPUT;
	}
	if (err[0])	/* state_open's message names the directory */
		fprintf(stderr, "%s: %s\n", ctx->prog, err);
	else
		fprintf(stderr, "%s: cannot open the state in %s: %s\n",
			ctx->prog, ctx->cfg->state, state_strerror(rc));
	return EXIT_IOERR;
}

/* ctl_read_begin - the state opened read-only and a read transaction */
int ctl_read_begin(const struct ctl_ctx *ctx, struct state **st,
		   MDB_txn **txn)
{
	int rc = ctl_state_open(ctx, false, st);

	*txn = NULL;
	if (rc)
		return rc;
	rc = state_begin(*st, false, txn);
	if (rc) {
		rc = ctl_state_error(ctx, "read", rc);
		state_close(*st);
		*st = NULL;
		*txn = NULL;
	}
	return rc;
}

/* ctl_read_end - what ctl_read_begin opened (either may be NULL) */
void ctl_read_end(struct state *st, MDB_txn *txn)
{
	if (txn)
		state_abort(txn);
	state_close(st);
}

/* ctl_json_out - O printed (indented) and a newline; EXIT_IOERR when
   memory ran out */
int ctl_json_out(const struct ctl_ctx *ctx, const cJSON *o)
{
	char *s = o ? cJSON_Print(o) : NULL;

	if (!s)
		return ctl_state_error(ctx, "read", -ENOMEM);
	fprintf(ctx->out, "%s\n", s);
	cJSON_free(s);
	return 0;
}

/* ctl_state_error - a failed state operation, as an exit code */
int ctl_state_error(const struct ctl_ctx *ctx, const char *what, int rc)
{
	fprintf(stderr, "%s: cannot %s the state in %s: %s\n", ctx->prog, what,
		ctx->cfg->state, state_strerror(rc));
	return EXIT_IOERR;
}

int ctl_usage(const struct ctl_ctx *ctx, const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s: ", ctx->prog, cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see '%s help %s')\n", ctx->prog, cmd);
	return EXIT_USAGE;
}

/* ctl_parse_format - a --format value among those allowed */
int ctl_parse_format(const struct ctl_ctx *ctx, const char *cmd,
		     const char *value, unsigned allowed, enum ctl_format *fmt)
{
	static const struct {
		const char *name;
		enum ctl_format fmt;
	} names[] = {
		{ "text", CTL_FMT_TEXT },
		{ "csv", CTL_FMT_CSV },
		{ "json", CTL_FMT_JSON },
		{ "jsonl", CTL_FMT_JSONL },
	};
	GString *known = g_string_new(NULL);
	char clean[64];
	size_t i;
	int rc;

	for (i = 0; i < G_N_ELEMENTS(names); i++) {
		if (!(allowed & names[i].fmt))
			continue;
		if (strcmp(value, names[i].name) == 0) {
			*fmt = names[i].fmt;
			g_string_free(known, TRUE);
			return 0;
		}
		g_string_append_printf(known, "%s%s", known->len ? ", " : "",
				       names[i].name);
	}
	rc = ctl_usage(ctx, cmd, "unknown format '%s' (%s)",
		       ctl_text_clean(value, clean, sizeof(clean)), known->str);
	g_string_free(known, TRUE);
	return rc;
}

int ctl_status_mask(const struct ctl_ctx *ctx, const char *cmd,
		    const char *value, unsigned allowed, const char *expected,
		    unsigned *mask)
{
	char **names = g_strsplit_set(value, ",;", 0);
	char clean[64];
	int rc = 0, s;
	size_t i;

	if (!names[0] || (!names[1] && !*g_strstrip(names[0]))) {
		rc = ctl_usage(ctx, cmd, "--status: an empty value (expected "
			       "%s; leave --status out for the default)",
			       expected);
		goto out;
	}
	for (i = 0; names[i] && rc == 0; i++) {
		const char *name = g_strstrip(names[i]);

		if (!*name) {
			rc = ctl_usage(ctx, cmd, "--status '%s': an empty "
				       "name (expected %s)",
				       ctl_text_clean(value, clean,
						      sizeof(clean)), expected);
			break;
		}
		if (strcasecmp(name, "suppressed") == 0) {
			*mask |= CTL_SUPPRESSED;
			continue;
		}
		s = rcpt_status_parse(name);
		if (s < 0 || s >= RCPT_STATUS_COUNT || !(allowed & (1u << s)))
			rc = ctl_usage(ctx, cmd, "--status '%s': expected %s",
				       ctl_text_clean(name, clean,
						      sizeof(clean)), expected);
		else
			*mask |= 1u << s;
	}
out:
	g_strfreev(names);
	return rc;
}

/* ctl_args_none - no operand */
int ctl_args_none(const struct ctl_ctx *ctx, const struct cli_args *a)
{
	char clean[128];

	if (a->n_operands == 0)
		return 0;
	return ctl_usage(ctx, a->cmd, "unexpected argument '%s'",
			 ctl_text_clean(a->operands[0], clean, sizeof(clean)));
}

/* ctl_args_format - --format and no operand */
int ctl_args_format(const struct ctl_ctx *ctx, const struct cli_args *a,
		    unsigned allowed, enum ctl_format *fmt)
{
	const char *fmt_s = NULL;
	size_t i;
	int rc;

	*fmt = CTL_FMT_TEXT;
	for (i = 0; i < a->n_opts; i++)
		if (a->opts[i].key == CTL_O_FORMAT)
			fmt_s = a->opts[i].value;
	rc = ctl_args_none(ctx, a);
	if (rc == 0 && fmt_s)
		rc = ctl_parse_format(ctx, a->cmd, fmt_s, allowed, fmt);
	return rc;
}

/* ctl_uid_key - a "uid:mw:UID" or "uid:iem:LIST:ID" key (LIST may be the
   list ids of a campaign sent to several, "2,24,12", or "lists") (an
   anonymised subscriber, mail_events.h), lower case, of a plain alphabet,
   at most ADDR_MAX bytes as every key */
static bool ctl_uid_key(const char *arg, char *out)
{
	size_t i, n = strlen(arg);

	if (n > ADDR_MAX ||
	    (strncmp(arg, MAIL_UID_MW, strlen(MAIL_UID_MW)) != 0 &&
	     strncmp(arg, MAIL_UID_IEM, strlen(MAIL_UID_IEM)) != 0))
		return false;
	for (i = 0; i < n; i++)
		if (!g_ascii_isalnum(arg[i]) && arg[i] != ':' &&
		    arg[i] != ',')
			return false;
	for (i = 0; i <= n; i++)
		out[i] = g_ascii_tolower(arg[i]);
	return true;
}

int ctl_addr_arg(const struct ctl_ctx *ctx, const char *arg, char *out)
{
	if (ctl_uid_key(arg, out))
		return 0;
	if (addr_normalise(arg, strlen(arg), out, ADDR_MAX + 1) < 0) {
		char clean[ADDR_MAX + 1];

		fprintf(stderr, "%s: '%s' is not an email address\n", ctx->prog,
			ctl_text_clean(arg, clean, sizeof(clean)));
		return EXIT_USAGE;
	}
	return 0;
}

int ctl_key_copy(const char *key, size_t keylen, char *out, size_t outlen)
{
	if (outlen == 0 || keylen >= outlen || memchr(key, '\0', keylen))
		return -1;
	memcpy(out, key, keylen);
	out[keylen] = '\0';
	return 0;
}

/* ctl_args_addr - one address and the value of one option */
int ctl_args_addr(const struct ctl_ctx *ctx, const struct cli_args *a,
		  int key, const char **addr, const char **value)
{
	size_t i;

	*addr = NULL;
	*value = NULL;
	for (i = 0; i < a->n_opts; i++)
		if (a->opts[i].key == key)
			*value = a->opts[i].value;
	if (a->n_operands == 0)
		return ctl_usage(ctx, a->cmd, "which address?");
	if (a->n_operands > 1)
		return ctl_usage(ctx, a->cmd, "one address at a time");
	*addr = a->operands[0];
	return 0;
}

/* ctl_rcpt_origin - the reason, else the last soft bounce */
const struct rcpt_reason *ctl_rcpt_origin(const struct rcpt *r)
{
	if (!ctl_reason_empty(&r->reason))
		return &r->reason;
	return &r->last_soft;
}

/* ctl_age_text - SECONDS as "45s", "12m", "3h" or "2d" (rounded down) */
void ctl_age_text(int64_t seconds, char *buf, size_t len)
{
	if (seconds < 0)
		seconds = 0;
	if (seconds < 60)
		snprintf(buf, len, "%llds", (long long)seconds);
	else if (seconds < 3600)
		snprintf(buf, len, "%lldm", (long long)(seconds / 60));
	else if (seconds < 2 * 86400)
		snprintf(buf, len, "%lldh", (long long)(seconds / 3600));
	else
		snprintf(buf, len, "%lldd", (long long)(seconds / 86400));
}
