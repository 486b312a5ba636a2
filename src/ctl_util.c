/*
 * ctl_util.c - plumbing shared by the bouncectl commands: opening the
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

#include "addr.h"
#include "cli.h"
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

int ctl_parse_format(const struct ctl_ctx *ctx, const char *cmd,
		     const char *value, unsigned allowed, enum ctl_format *fmt)
{
	static const struct {
		const char *name;
		enum ctl_format fmt;
	} names[] = {
		{ "text", CTL_FMT_TEXT },
		{ "json", CTL_FMT_JSON },
		{ "csv", CTL_FMT_CSV },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(names); i++)
		if (strcmp(value, names[i].name) == 0 &&
		    (allowed & names[i].fmt)) {
			*fmt = names[i].fmt;
			return 0;
		}
	return ctl_usage(ctx, cmd, "unknown format '%s' (%s)", value,
			 (allowed & CTL_FMT_CSV) ? "text, csv or json" :
						   "text or json");
}

int ctl_args_format(const struct ctl_ctx *ctx, int argc, char **argv,
		    unsigned allowed, enum ctl_format *fmt)
{
	const char *fmt_s = NULL;
	int i, v;

	*fmt = CTL_FMT_TEXT;
	for (i = 1; i < argc; i++) {
		v = cli_opt_value(ctx->prog, argc, argv, &i, "--format", &fmt_s);
		if (v < 0)
			return EXIT_USAGE;
		if (v == 0)
			return ctl_usage(ctx, argv[0], "unexpected argument '%s'",
					 argv[i]);
	}
	if (fmt_s)
		return ctl_parse_format(ctx, argv[0], fmt_s, allowed, fmt);
	return 0;
}

/* ctl_uid_key - a "uid:mw:UID" or "uid:iem:LIST:ID" key (an anonymised
   subscriber, mail_events.h), lower case, of a bounded, plain alphabet */
static bool ctl_uid_key(const char *arg, char *out)
{
	size_t i, n = strlen(arg);

	if (n > 64 || (strncmp(arg, MAIL_UID_MW, strlen(MAIL_UID_MW)) != 0 &&
		       strncmp(arg, MAIL_UID_IEM, strlen(MAIL_UID_IEM)) != 0))
		return false;
	for (i = 0; i < n; i++)
		if (!g_ascii_isalnum(arg[i]) && arg[i] != ':')
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

bool ctl_is_help(const char *arg)
{
	return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

int ctl_key_copy(const char *key, size_t keylen, char *out, size_t outlen)
{
	if (outlen == 0 || keylen >= outlen || memchr(key, '\0', keylen))
		return -1;
	memcpy(out, key, keylen);
	out[keylen] = '\0';
	return 0;
}

/* ctl_args_addr - one address and at most one valued option */
int ctl_args_addr(const struct ctl_ctx *ctx, int argc, char **argv,
		  const char *opt, const char **addr, const char **value)
{
	bool dashdash = false;
	int i, v;

	*addr = NULL;
	*value = NULL;
	for (i = 1; i < argc; i++) {
		if (!dashdash) {
			v = cli_opt_value(ctx->prog, argc, argv, &i, opt, value);
			if (v < 0)
				return EXIT_USAGE;
			if (v > 0)
				continue;
			if (strcmp(argv[i], "--") == 0) {
				dashdash = true;
				continue;
			}
			if (argv[i][0] == '-' && argv[i][1] != '\0')
				return ctl_usage(ctx, argv[0],
						 "unknown option '%s'", argv[i]);
		}
		if (*addr)
			return ctl_usage(ctx, argv[0], "one address at a time");
		*addr = argv[i];
	}
	if (!*addr)
		return ctl_usage(ctx, argv[0], "which address?");
	return 0;
}
