/*
 * cli_args.h - the options of one command, parsed with getopt_long from a
 * table that also writes the command's --help.
 *
 * A command (bouncectl show, bounced process, ...) declares its options
 * once, as a table of struct cli_opt; cli_args_parse() reads its
 * arguments with GNU getopt_long, so options and operands may come in any
 * order ("stats --by domain -c FILE"), values may be joined ("-cFILE",
 * "--config=FILE") or follow as the next argument, and "--" ends the
 * options.  The global options of both tools (-c, --debug, -q, -h, -V)
 * are accepted among the command's too and land in struct cli_global, so
 * "bouncectl stats -c FILE" reads FILE.  cli_args_help() prints the
 * option part of --help from the same table, so the help cannot name an
 * option the parser does not take, or miss one it takes.
 */
#ifndef BOUNCED_CLI_ARGS_H
#define BOUNCED_CLI_ARGS_H

#include <stddef.h>
#include <stdio.h>

#include "cli.h"

/* keys of options without a short letter start here */
#define CLI_KEY_LONG 0x100

/* one option of a command; a table ends with an entry whose name is NULL */
struct cli_opt {
	const char *name;	/* long name, without "--" */
	int key;		/* the short letter ('n'), or CLI_KEY_LONG + n */
	const char *value;	/* the value's name in the help ("FILE"); NULL
				   when the option takes no value */
	const char *help;	/* what it does; lines separated by '\n' */
};

/* one option as given, in command-line order */
struct cli_argval {
	int key;
	const char *value;	/* NULL for an option without value */
	const char *name;	/* its long name, for messages */
};

/* what cli_args_parse found */
struct cli_args {
	const char *cmd;	/* the command's name (argv[0]) */
	struct cli_argval *opts;	/* the command's own options */
	size_t n_opts;
	char **operands;	/* the arguments that are no option */
	int n_operands;
};

/*
 * cli_args_parse - parse ARGV (ARGC entries; ARGV[0] is the command's
 * name, ARGV is reordered by getopt) against OPTS and the global options.
 * Global options update G (a -c given here wins over one before the
 * command).  Returns 0, or -1 after printing "PROG: CMD: MESSAGE (see
 * 'PROG help CMD')" for an unknown option, a missing value or a value
 * given to an option that takes none.  Free OUT with cli_args_free.
 */
int cli_args_parse(const char *prog, int argc, char **argv,
		   const struct cli_opt *opts, struct cli_global *g,
		   struct cli_args *out);

/* cli_args_free - what cli_args_parse allocated */
void cli_args_free(struct cli_args *a);

/*
 * cli_args_help - the lines describing OPTS, "  -n, --dry-run    TEXT",
 * help aligned in one column (an option too long for it has its help on
 * the next line).
 */
void cli_args_help(FILE *out, const struct cli_opt *opts);

/* cli_global_opts - the table of the global options (for help texts) */
extern const struct cli_opt cli_global_opts[];

/*
 * cli_args_count - how many times KEY was given in A (for options that
 * may be repeated, or to refuse a repetition).
 */
size_t cli_args_count(const struct cli_args *a, int key);

#endif
