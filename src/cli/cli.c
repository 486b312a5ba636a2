/*
 * cli.c - global options and config loading shared by bounced and bouncectl.
 * The options before the command are read with getopt_long in POSIX
 * order (the first operand is the command and ends them); those of a
 * command, global ones among them, with cli_args.c.
 *
 * Messages go to stderr prefixed with the program name; the callers turn a
 * -1 into their documented exit code (64 usage, 78 config).
 */
#include <errno.h>
#include <getopt.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_args.h"
#include "exitcodes.h"
#include "log.h"

/* cli_unknown - the message of an unknown option before the command */
static void cli_unknown(const char *prog, int argc, char **argv)
{
	const char *arg = optind > 0 && optind - 1 < argc ? argv[optind - 1] :
							    "?";
	char clean[64];
	size_t i;

	for (i = 0; arg[i] && i + 1 < sizeof(clean); i++)
		clean[i] = (unsigned char)arg[i] < 0x20 || arg[i] == 0x7f ?
				   '?' : arg[i];
	clean[i] = '\0';
	if (optopt > 0 && strncmp(arg, "--", 2) != 0)
		fprintf(stderr, "%s: unknown option '-%c' (see '%s --help')\n",
			prog, g_ascii_isprint(optopt) ? optopt : '?', prog);
	else
		fprintf(stderr, "%s: unknown option '%s' (see '%s --help')\n",
			prog, clean, prog);
}

/* cli_opt_value - match "--name VALUE" / "--name=VALUE" at argv[*i] */
int cli_opt_value(const char *prog, int argc, char **argv, int *i,
		  const char *name, const char **value)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*value = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, "%s: option '%s' needs a value\n", prog, name);
		return -1;
	}
	*i += 1;
	*value = argv[*i];
	return 1;
}

/* cli_parse_global - options before the command (getopt_long, stopping
   at the first operand: the command) */
int cli_out_done(const char *prog, int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: cannot write the output: %s\n", prog,
			strerror(errno));
		if (rc == EXIT_OK)
			rc = EXIT_IOERR;
	}
	return rc;
}

int cli_parse_global(const char *prog, int argc, char **argv,
		     struct cli_global *g)
{
	struct option longs[8];
	GString *shorts = g_string_new("+:");	/* no reordering */
	size_t i, n = 0;
	int c, rc = 0;

	memset(g, 0, sizeof(*g));
	for (i = 0; cli_global_opts[i].name && n + 1 < G_N_ELEMENTS(longs);
	     i++, n++) {
		longs[n].name = cli_global_opts[i].name;
		longs[n].has_arg = cli_global_opts[i].value ?
				   required_argument : no_argument;
		longs[n].flag = NULL;
		longs[n].val = cli_global_opts[i].key;
		g_string_append_c(shorts, (char)cli_global_opts[i].key);
		if (cli_global_opts[i].value)
			g_string_append_c(shorts, ':');
	}
	memset(&longs[n], 0, sizeof(longs[n]));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts->str, longs, NULL)) != -1) {
		switch (c) {
		case 'c':
		case 'd':
		case 'q':
		case 'h':
		case 'V':
			cli_global_set(g, c, optarg);
			break;
		case ':':
			fprintf(stderr, "%s: option '%s' needs a value\n", prog,
				optopt == 'c' ? "--config" : "?");
			rc = -1;
			goto out;
		default:
			cli_unknown(prog, argc, argv);
			rc = -1;
			goto out;
		}
	}
	g->cmd_index = optind;
out:
	g_string_free(shorts, TRUE);
	return rc;
}

/* cli_load_config_opt - config, log destination and level */
int cli_load_config_opt(const char *prog, const struct cli_global *g,
			bool log_optional, struct config **cfg)
{
	char err[512];
	const char *path = config_path_from_env(g->config_path);
	GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
	int rc = -1, lrc;
	guint k;

	log_set_ident(prog);
	if (config_load(path, cfg, warnings, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s%s: %s\n", log_stderr_prefix(BLOG_ERROR),
			prog, err);
		goto out;
	}
	lrc = log_open((*cfg)->log);
	if (lrc != 0 && log_optional && (lrc == -EACCES || lrc == -EPERM ||
					 lrc == -EROFS)) {
		/* a user who may read the state but not write the daemon's
		   log: this command's lines go to stderr */
		lrc = log_open("-");
	}
	if (lrc != 0) {
		fprintf(stderr, "%s%s: config %s: [bounced] log = '%s': "
			"cannot open it: %s\n", log_stderr_prefix(BLOG_ERROR),
			prog, path ? path : "(embedded defaults)", (*cfg)->log,
			strerror(-lrc));
		config_free(*cfg);
		*cfg = NULL;
		goto out;
	}
	if (g->debug || (*cfg)->debug)
		log_set_level(BLOG_DEBUG);
	else if (g->quiet)
		log_set_level(BLOG_ERROR);
	for (k = 0; k < warnings->len; k++) {
		log_warn("config", "%s", (const char *)warnings->pdata[k]);
		if (g->warn_stderr && strcmp((*cfg)->log, "-") != 0)
			fprintf(stderr, "%s%s: %s\n",
				log_stderr_prefix(BLOG_WARN), prog,
				(const char *)warnings->pdata[k]);
	}
	rc = 0;
out:
	g_ptr_array_free(warnings, TRUE);
	return rc;
}

/* cli_load_config - the same, a log that cannot be opened an error */
int cli_load_config(const char *prog, const struct cli_global *g,
		    struct config **cfg)
{
	return cli_load_config_opt(prog, g, false, cfg);
}
