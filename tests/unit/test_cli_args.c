/*
 * test_cli_args.c - the option parser of the commands (cli_args.c) and of
 * the options before the command (cli.c): options anywhere, joined and
 * separate values, "--", the global options among a command's, the
 * errors (unknown option, missing value, a value given to a flag), and
 * the help written from the same table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "cli.h"
#include "cli_args.h"

enum { O_FORMAT = CLI_KEY_LONG, O_SINCE };

static const struct cli_opt opts[] = {
	{ "format", O_FORMAT, "F", "text or json" },
	{ "since", O_SINCE, "T", "a time\nor a duration" },
	{ "dry-run", 'n', NULL, "print only" },
	{ NULL, 0, NULL, NULL },
};

/* parse - ARGS (a NULL-terminated list; a copy: getopt reorders) */
static int parse(struct cli_global *g, struct cli_args *a, char ***keep,
		 ...)
{
	GPtrArray *v = g_ptr_array_new();
	va_list ap;
	const char *s;
	int rc;

	va_start(ap, keep);
	while ((s = va_arg(ap, const char *)) != NULL)
		g_ptr_array_add(v, g_strdup(s));
	va_end(ap);
	g_ptr_array_add(v, NULL);
	*keep = (char **)g_ptr_array_free(v, FALSE);
	memset(g, 0, sizeof(*g));
	rc = cli_args_parse("prog", (int)g_strv_length(*keep), *keep, opts, g,
			    a);
	return rc;
}

static void test_options_anywhere(void **state)
{
	struct cli_global g;
	struct cli_args a;
	char **argv;

	(void)state;
	assert_int_equal(parse(&g, &a, &argv, "show", "a@example.com",
			       "--format", "json", "-cFILE", "-n", NULL), 0);
	assert_string_equal(g.config_path, "FILE");
	assert_int_equal(a.n_operands, 1);
	assert_string_equal(a.operands[0], "a@example.com");
	assert_int_equal(a.n_opts, 2);
	assert_int_equal(a.opts[0].key, O_FORMAT);
	assert_string_equal(a.opts[0].value, "json");
	assert_string_equal(a.opts[0].name, "format");
	assert_int_equal(a.opts[1].key, 'n');
	assert_null(a.opts[1].value);
	assert_int_equal(cli_args_count(&a, 'n'), 1);
	assert_int_equal(cli_args_count(&a, O_SINCE), 0);
	cli_args_free(&a);
	g_strfreev(argv);

	/* --name=value, a shortened long name, -c VALUE, --debug, -q */
	assert_int_equal(parse(&g, &a, &argv, "stats", "--since=7d", "--form",
			       "text", "-c", "x.conf", "--debug", "-q", NULL),
			 0);
	assert_string_equal(g.config_path, "x.conf");
	assert_true(g.debug && g.quiet && !g.help);
	assert_int_equal(a.n_opts, 2);
	assert_string_equal(a.opts[0].value, "7d");
	assert_string_equal(a.opts[1].value, "text");
	assert_int_equal(a.n_operands, 0);
	cli_args_free(&a);
	g_strfreev(argv);

	/* "--" ends the options: an address may start with a dash */
	assert_int_equal(parse(&g, &a, &argv, "show", "--", "-x@example.com",
			       "--format", NULL), 0);
	assert_int_equal(a.n_operands, 2);
	assert_string_equal(a.operands[0], "-x@example.com");
	assert_string_equal(a.operands[1], "--format");
	cli_args_free(&a);
	g_strfreev(argv);

	/* --help and -h anywhere, -V */
	assert_int_equal(parse(&g, &a, &argv, "list", "--since", "1d", "-h",
			       NULL), 0);
	assert_true(g.help);
	cli_args_free(&a);
	g_strfreev(argv);
	assert_int_equal(parse(&g, &a, &argv, "list", "x", "--help", "-V",
			       NULL), 0);
	assert_true(g.help && g.version);
	cli_args_free(&a);
	g_strfreev(argv);
}

static void test_errors(void **state)
{
	struct cli_global g;
	struct cli_args a;
	char **argv;

	(void)state;
	/* unknown, short and long; a missing value; a value to a flag */
	assert_int_equal(parse(&g, &a, &argv, "list", "--nope", NULL), -1);
	g_strfreev(argv);
	assert_int_equal(parse(&g, &a, &argv, "list", "-z", NULL), -1);
	g_strfreev(argv);
	assert_int_equal(parse(&g, &a, &argv, "list", "--format", NULL), -1);
	g_strfreev(argv);
	assert_int_equal(parse(&g, &a, &argv, "list", "-c", NULL), -1);
	g_strfreev(argv);
	assert_int_equal(parse(&g, &a, &argv, "list", "--dry-run=yes", NULL),
			 -1);
	g_strfreev(argv);
}

static void test_global_before_the_command(void **state)
{
	char *v1[] = { "bouncectl", "-cA.conf", "--debug", "stats", "-q",
		       NULL };
	char *v2[] = { "bouncectl", "--config=B.conf", "list", NULL };
	char *v3[] = { "bouncectl", "--bogus", "list", NULL };
	char *v4[] = { "bouncectl", "-c", NULL };
	struct cli_global g;

	(void)state;
	assert_int_equal(cli_parse_global("bouncectl", 5, v1, &g), 0);
	assert_string_equal(g.config_path, "A.conf");
	assert_true(g.debug);
	assert_false(g.quiet);	/* after the command: the command's */
	assert_int_equal(g.cmd_index, 3);
	assert_int_equal(cli_parse_global("bouncectl", 3, v2, &g), 0);
	assert_string_equal(g.config_path, "B.conf");
	assert_int_equal(g.cmd_index, 2);
	assert_int_equal(cli_parse_global("bouncectl", 3, v3, &g), -1);
	assert_int_equal(cli_parse_global("bouncectl", 2, v4, &g), -1);
}

static void test_help_from_the_table(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	cli_args_help(f, opts);
	cli_args_help(f, cli_global_opts);
	fclose(f);
	/* every option of the tables, with its value and help */
	assert_non_null(strstr(buf, "      --format F        text or json\n"));
	assert_non_null(strstr(buf, "      --since T         a time\n"
				    "                        or a duration\n"));
	assert_non_null(strstr(buf, "  -n, --dry-run         print only\n"));
	assert_non_null(strstr(buf, "  -c, --config FILE     read FILE"));
	assert_non_null(strstr(buf, BOUNCED_CONFIG_DEFAULT));
	assert_non_null(strstr(buf, "  -d, --debug"));
	assert_non_null(strstr(buf, "  -V, --version"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_anywhere),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_global_before_the_command),
		cmocka_unit_test(test_help_from_the_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
