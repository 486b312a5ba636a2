/*
 * cli_args.c - a command's options read with GNU getopt_long from one
 * table, which also writes the option part of the command's --help.
 *
 * getopt_long reorders ARGV so that the operands come last: options may
 * follow operands ("show ADDR --format json"), "--" ends the options,
 * values may be joined ("-cFILE", "--config=FILE") or separate, and long
 * names may be shortened while they stay unique, as GNU tools allow.  The
 * global options (cli_global_opts) are accepted in every command.
 * Error policy: one message on stderr naming the program, the command and
 * the option, then -1 (the caller exits 64); nothing is allocated that
 * the caller must free after a failure.  getopt keeps its state in
 * globals: one parse at a time.
 */
#include <getopt.h>
#include <glib.h>
#include <stdarg.h>
#include <string.h>

#include "cli_args.h"

/* the global options; their keys are the short letters */
const struct cli_opt cli_global_opts[] = {
	{ "config", 'c', "FILE",
	  "read FILE; default $BOUNCED_CONFIG, else\n"
	  BOUNCED_CONFIG_DEFAULT " when it exists,\n"
	  "else the built-in defaults" },
	{ "debug", 'd', NULL, "log everything" },
	{ "quiet", 'q', NULL, "log errors only" },
	{ "help", 'h', NULL, "this help" },
	{ "version", 'V', NULL, "the version" },
	{ NULL, 0, NULL, NULL },
};

#define CLI_HELP_COLUMN 24	/* where the help text of an option starts */

/* cli_opts_count - entries of a table */
static size_t cli_opts_count(const struct cli_opt *opts)
{
	size_t n = 0;

	while (opts && opts[n].name)
		n++;
	return n;
}

/* cli_find - the entry of KEY in OPTS or the global table, or NULL */
static const struct cli_opt *cli_find(const struct cli_opt *opts, int key)
{
	size_t i;

	for (i = 0; opts && opts[i].name; i++)
		if (opts[i].key == key)
			return &opts[i];
	for (i = 0; cli_global_opts[i].name; i++)
		if (cli_global_opts[i].key == key)
			return &cli_global_opts[i];
	return NULL;
}

/* cli_add - the getopt_long entries of one table into LONGS and SHORTS */
static void cli_add(const struct cli_opt *opts, struct option *longs,
		    size_t *n, GString *shorts)
{
	size_t i;

	for (i = 0; opts && opts[i].name; i++) {
		longs[*n].name = opts[i].name;
		longs[*n].has_arg = opts[i].value ? required_argument :
						    no_argument;
		longs[*n].flag = NULL;
		longs[*n].val = opts[i].key;
		(*n)++;
		if (opts[i].key > 0 && opts[i].key < CLI_KEY_LONG) {
			g_string_append_c(shorts, (char)opts[i].key);
			if (opts[i].value)
				g_string_append_c(shorts, ':');
		}
	}
}

/* cli_fail - "PROG: CMD: MESSAGE (see 'PROG help CMD')" and -1 */
static int __attribute__((format(printf, 3, 4)))
cli_fail(const char *prog, const char *cmd, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s: %s (see '%s help %s')\n", prog, cmd, msg,
		prog, cmd);
	g_free(msg);
	return -1;
}

/* cli_candidates - the long names of OPTS and the global table that
   begin with the LEN bytes of NAME, appended to LIST ("--a, --b");
   how many */
static size_t cli_candidates(const struct cli_opt *opts, const char *name,
			     size_t len, GString *list)
{
	const struct cli_opt *tables[] = { opts, cli_global_opts };
	size_t t, i, n = 0;

	for (t = 0; t < G_N_ELEMENTS(tables); t++)
		for (i = 0; tables[t] && tables[t][i].name; i++) {
			if (strncmp(tables[t][i].name, name, len) != 0)
				continue;
			g_string_append_printf(list, "%s--%s", n ? ", " : "",
					       tables[t][i].name);
			n++;
		}
	return n;
}

/* cli_bad - the message of a '?' or ':' from getopt_long */
static int cli_bad(const char *prog, int argc, char **argv, int c,
		   const struct cli_opt *opts)
{
	const struct cli_opt *o = optopt ? cli_find(opts, optopt) : NULL;
	const char *arg = optind - 1 < argc && optind > 0 ? argv[optind - 1] :
							    "?";
	char clean[64];
	size_t i;

	/* the argument as typed, without controls, for the message */
	for (i = 0; arg[i] && i + 1 < sizeof(clean); i++)
		clean[i] = (unsigned char)arg[i] < 0x20 ||
			   arg[i] == 0x7f ? '?' : arg[i];
	clean[i] = '\0';
	if (c == ':' && o)
		return cli_fail(prog, argv[0], "option '--%s' needs a value",
				o->name);
	if (o && strncmp(arg, "--", 2) == 0)
		return cli_fail(prog, argv[0], "option '--%s' takes no value",
				o->name);
	if (optopt > 0 && optopt < CLI_KEY_LONG && !o)
		return cli_fail(prog, argv[0], "unknown option '-%c'",
				g_ascii_isprint(optopt) ? optopt : '?');
	if (!o && strncmp(arg, "--", 2) == 0 && arg[2]) {
		/* getopt_long says '?' for an abbreviation that fits
		   several names as for no name at all */
		GString *names = g_string_new(NULL);
		int rc = 0;

		if (cli_candidates(opts, arg + 2, strcspn(arg + 2, "="),
				   names) > 1) {
			clean[strcspn(clean, "=")] = '\0';
			rc = cli_fail(prog, argv[0], "ambiguous option '%s' "
				      "(%s?)", clean, names->str);
		}
		g_string_free(names, TRUE);
		if (rc)
			return rc;
	}
	return cli_fail(prog, argv[0], "unknown option '%s'", clean);
}

void cli_global_set(struct cli_global *g, int c, const char *v)
{
	switch (c) {
	case 'c':
		g->config_path = v;
		break;
	case 'd':
		g->debug = true;
		break;
	case 'q':
		g->quiet = true;
		break;
	case 'h':
		g->help = true;
		break;
	case 'V':
		g->version = true;
		break;
	}
}

/* cli_is_global - C is the key of a global option */
static bool cli_is_global(int c)
{
	return c == 'c' || c == 'd' || c == 'q' || c == 'h' || c == 'V';
}

/* cli_args_parse - a command's options and operands, the global ones too */
int cli_args_parse(const char *prog, int argc, char **argv,
		   const struct cli_opt *opts, struct cli_global *g,
		   struct cli_args *out)
{
	size_t n_cmd = cli_opts_count(opts), n = 0;
	struct option *longs = g_new0(struct option,
				      n_cmd + cli_opts_count(cli_global_opts) +
				      1);
	GString *shorts = g_string_new(":");	/* ':' for a missing value */
	GArray *vals = g_array_new(FALSE, FALSE, sizeof(struct cli_argval));
	int c, rc = -1;

	memset(out, 0, sizeof(*out));
	out->cmd = argv[0];
	cli_add(opts, longs, &n, shorts);
	cli_add(cli_global_opts, longs, &n, shorts);
	optind = 0;		/* GNU: start over, reordering allowed */
	opterr = 0;		/* the messages are ours */
	while ((c = getopt_long(argc, argv, shorts->str, longs, NULL)) != -1) {
		const struct cli_opt *o;
		struct cli_argval v;

		if (c == '?' || c == ':') {
			cli_bad(prog, argc, argv, c, opts);
			goto out;
		}
		if (cli_is_global(c)) {	/* no command uses these letters */
			cli_global_set(g, c, optarg);
			continue;
		}
		o = cli_find(opts, c);
		v.key = c;
		v.value = o && o->value ? optarg : NULL;
		v.name = o ? o->name : "?";
		g_array_append_val(vals, v);
	}
	out->n_opts = vals->len;
	out->opts = (struct cli_argval *)(void *)g_array_free(vals, FALSE);
	vals = NULL;
	out->operands = argv + optind;
	out->n_operands = argc - optind;
	rc = 0;
out:
	if (vals)
		g_array_free(vals, TRUE);
	g_string_free(shorts, TRUE);
	g_free(longs);
	return rc;
}

/* cli_args_free - the options array */
void cli_args_free(struct cli_args *a)
{
	g_free(a->opts);
	a->opts = NULL;
	a->n_opts = 0;
}

/* cli_args_count - how many times KEY was given */
size_t cli_args_count(const struct cli_args *a, int key)
{
	size_t i, n = 0;

	for (i = 0; i < a->n_opts; i++)
		if (a->opts[i].key == key)
			n++;
	return n;
}

/* cli_args_help - the option lines of a help text, from the table */
void cli_args_help(FILE *out, const struct cli_opt *opts)
{
	size_t i;

	for (i = 0; opts && opts[i].name; i++) {
		const struct cli_opt *o = &opts[i];
		GString *head = g_string_new("  ");
		const char *h = o->help ? o->help : "";
		const char *nl;

		if (o->key > 0 && o->key < CLI_KEY_LONG)
			g_string_append_printf(head, "-%c, ", o->key);
		else
			g_string_append(head, "    ");
		g_string_append_printf(head, "--%s", o->name);
		if (o->value)
			g_string_append_printf(head, " %s", o->value);
		if (head->len + 2 > CLI_HELP_COLUMN) {
			fprintf(out, "%s\n%*s", head->str, CLI_HELP_COLUMN, "");
		} else {
			fprintf(out, "%-*s", CLI_HELP_COLUMN, head->str);
		}
		while ((nl = strchr(h, '\n')) != NULL) {
			fprintf(out, "%.*s\n%*s", (int)(nl - h), h,
				CLI_HELP_COLUMN, "");
			h = nl + 1;
		}
		fprintf(out, "%s\n", h);
		g_string_free(head, TRUE);
	}
}
