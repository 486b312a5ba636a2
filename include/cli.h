/*
 * cli.h - what bounced and bouncectl share on their command lines: the
 * global options before the command, config loading with messages, and
 * the version string.
 */
#ifndef BOUNCED_CLI_H
#define BOUNCED_CLI_H

#include <stdbool.h>

#include "config.h"

#define BOUNCED_VERSION "0.1.0"

struct cli_global {
	const char *config_path; /* -c / --config, NULL when not given */
	bool debug;		 /* -d / --debug */
	bool quiet;		 /* -q / --quiet */
	bool help;		 /* -h / --help */
	bool version;		 /* -V / --version */
	int cmd_index;		 /* argv index of the command, argc if none */
	bool warn_stderr;	 /* the configuration's warnings on stderr too
				    (check-config), wherever the log goes */
};

/*
 * cli_parse_global - parse the options before the command (getopt_long:
 * "-cFILE", "-c FILE", "--config=FILE", "--config FILE"; the first
 * argument that is no option is the command).  Returns 0, or -1 after
 * printing "PROG: MESSAGE" to stderr (caller exits 64).
 */
int cli_parse_global(const char *prog, int argc, char **argv,
		     struct cli_global *g);

/* cli_global_set - apply global option C ('c', 'd', 'q', 'h', 'V'; V its
   value) to G: shared by the options before the command and those a
   command's table reads (cli_args.c) */
void cli_global_set(struct cli_global *g, int c, const char *v);

/*
 * cli_load_config - load the config named by G (or $BOUNCED_CONFIG, or
 * BOUNCED_CONFIG_DEFAULT when it exists, or the embedded defaults), open
 * the log it names, set the log level from --debug/--quiet
 * and the config's debug key.  Warnings are logged.  Returns 0, or -1 after
 * printing the error (caller exits 78).
 */
int cli_load_config(const char *prog, const struct cli_global *g,
		    struct config **cfg);

/*
 * cli_load_config_opt - cli_load_config; with LOG_OPTIONAL a log file the
 * user may not open (permission, read-only file system) is not an error:
 * the lines go to stderr instead (bouncectl's reading commands, run by a
 * user who may read the state but not write the daemon's log).
 */
int cli_load_config_opt(const char *prog, const struct cli_global *g,
			bool log_optional, struct config **cfg);

/* cli_opt_value - for "--name VALUE" and "--name=VALUE" style parsing:
   when argv[*i] is NAME (or NAME=…), store the value, advance *i, return 1;
   return 0 when it is another option; -1 (message printed) when the value
   is missing. */
int cli_opt_value(const char *prog, int argc, char **argv, int *i,
		  const char *name, const char **value);

/* cli_out_done - a command whose standard output is its result ended
   with RC: stdout flushed; when it could not all be written (a full
   disk, a closed pipe), "PROG: cannot write the output: ERROR" on stderr
   and EXIT_IOERR in place of EXIT_OK.  Returns the exit code. */
int cli_out_done(const char *prog, int rc);

#endif
