/*
 * commands.h - the bounced commands that live in their own files (the
 * dispatch table is in main_bounced.c).  Each returns a process exit code
 * (exitcodes.h) after printing its messages; ARGV[0] is the command name.
 */
#ifndef BOUNCED_COMMANDS_H
#define BOUNCED_COMMANDS_H

struct config;
struct cli_global;

/* bounced run - the spool worker daemon (cmd_run.c) */
int cmd_run(const struct config *cfg, const struct cli_global *g, int argc,
	    char **argv);

/* bounced drop fbl|unsub --from ADDR --to ADDR - PowerMTA's domain pipe:
   stdin into the spool's maildir (cmd_drop.c); every failure is 75 */
int cmd_drop(const struct config *cfg, const struct cli_global *g, int argc,
	     char **argv);

/* bounced notify-test - send a sample digest through the [notify] SMTP
   server now (cmd_notify_test.c) */
int cmd_notify_test(const struct config *cfg, const struct cli_global *g,
		    int argc, char **argv);
/* bounced provider-test [NAME...] - one harmless call to each provider
   now (cmd_provider_test.c) */
int cmd_provider_test(const struct config *cfg, const struct cli_global *g,
		      int argc, char **argv);
/* bounced unsub-address - print or check an unsubscribe address
   (cmd_unsub_addr.c) */
int cmd_unsub_addr(const struct config *cfg, const struct cli_global *g,
		   int argc, char **argv);

#endif
