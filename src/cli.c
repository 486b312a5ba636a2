/*
 * cli.c - global options and config loading shared by bounced and bouncectl.
 *
 * Messages go to stderr prefixed with the program name; the callers turn a
 * -1 into their documented exit code (64 usage, 78 config).
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"

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

/* cli_parse_global - options before the command */
int cli_parse_global(const char *prog, int argc, char **argv,
		     struct cli_global *g)
{
	int i;

	memset(g, 0, sizeof(*g));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		int rc;

		if (a[0] != '-' || strcmp(a, "-") == 0)
			break;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		rc = cli_opt_value(prog, argc, argv, &i, "--config",
				   &g->config_path);
		if (rc == 0)
			rc = cli_opt_value(prog, argc, argv, &i, "-c",
					   &g->config_path);
		if (rc < 0)
			return -1;
		if (rc > 0)
			continue;
		if (strcmp(a, "--debug") == 0 || strcmp(a, "-d") == 0)
			g->debug = true;
		else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
			g->quiet = true;
		else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			g->help = true;
		else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0)
			g->version = true;
		else {
			fprintf(stderr,
				"%s: unknown option '%s' (see '%s --help')\n",
				prog, a, prog);
			return -1;
		}
	}
	g->cmd_index = i;
	return 0;
}

/* cli_load_config - config, log destination and level */
int cli_load_config(const char *prog, const struct cli_global *g,
		    struct config **cfg)
{
	char err[512];
	const char *path = config_path_from_env(g->config_path);
	GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
	int rc = -1;
	guint k;

	log_set_ident(prog);
	if (config_load(path, cfg, warnings, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		goto out;
	}
	if (strcmp((*cfg)->log, "-") != 0 && log_open((*cfg)->log) != 0) {
		fprintf(stderr, "%s: cannot open log file '%s': %m\n", prog,
			(*cfg)->log);
		config_free(*cfg);
		*cfg = NULL;
		goto out;
	}
	if (g->debug || (*cfg)->debug)
		log_set_level(BLOG_DEBUG);
	else if (g->quiet)
		log_set_level(BLOG_ERROR);
	for (k = 0; k < warnings->len; k++)
		log_warn("config", "%s", (const char *)warnings->pdata[k]);
	rc = 0;
out:
	g_ptr_array_free(warnings, TRUE);
	return rc;
}
