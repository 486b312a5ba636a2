/*
 * commands.h - the commands of bounced, one file each (cmd_*.c), and the
 * option table of each.  main_bounced.c holds the dispatch table: it
 * parses a command's arguments with its table (cli_args.c: getopt_long,
 * options before or after the operands, the global ones too), answers
 * --help from it before any configuration is read, loads the
 * configuration, and calls the command with what it found.  Each command
 * checks the values, returns a process exit code (exitcodes.h) after
 * printing its messages, and never exits.
 */
#ifndef BOUNCED_COMMANDS_H
#define BOUNCED_COMMANDS_H

#include "cli_args.h"

struct config;
struct cli_global;

typedef int (*cmd_fn)(const struct config *cfg, const struct cli_global *g,
		      const struct cli_args *a);

/* bounced process [FILE...|-] - take inputs, or the spool, once
   (cmd_process.c) */
int cmd_process(const struct config *cfg, const struct cli_global *g,
		const struct cli_args *a);
extern const struct cli_opt cmd_process_opts[];

/* bounced check-config - print the effective configuration
   (main_bounced.c: one line of work) */

/* bounced run - the spool worker daemon (cmd_run.c) */
int cmd_run(const struct config *cfg, const struct cli_global *g,
	    const struct cli_args *a);

/* bounced drop fbl|unsub --from ADDR --to ADDR - PowerMTA's domain pipe:
   stdin into the spool's maildir (cmd_drop.c); every failure is 75 */
int cmd_drop(const struct config *cfg, const struct cli_global *g,
	     const struct cli_args *a);
extern const struct cli_opt cmd_drop_opts[];
/* cmd_drop_argv - before parsing: a bare "--from" followed by another
   option (or nothing) is an empty $from, made "--from=" in ARGV */
void cmd_drop_argv(int argc, char **argv);

/* bounced notify-test - send a sample digest through the [notify] SMTP
   server now (cmd_notify_test.c) */
int cmd_notify_test(const struct config *cfg, const struct cli_global *g,
		    const struct cli_args *a);

/* bounced provider-test [NAME...] - one harmless call to each provider
   now (cmd_provider_test.c) */
int cmd_provider_test(const struct config *cfg, const struct cli_global *g,
		      const struct cli_args *a);

/* bounced unsub-address - print or check an unsubscribe address
   (cmd_unsub_addr.c) */
int cmd_unsub_addr(const struct config *cfg, const struct cli_global *g,
		   const struct cli_args *a);
extern const struct cli_opt cmd_unsub_addr_opts[];

#endif
