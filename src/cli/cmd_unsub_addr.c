/*
 * cmd_unsub_addr.c - `bounced unsub-address`: print the unsubscribe
 * address of a subscriber in one of the configured forms ([unsubscribe]
 * addresses, signed with [unsubscribe] secret when the forms are), or
 * read an address back and say which subscriber it names, or why it is
 * refused.  For operators setting up List-Unsubscribe headers and
 * checking what the spool worker will make of a mail (docs/UNSUBSCRIBE.md).
 *
 * Exit codes: 0 done, 64 bad command line, 65 a value or address that is
 * refused (the reason on stderr), 78 forms that do not compile.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "event.h"
#include "exitcodes.h"
#include "unsub_addr.h"

static const char ua_usage[] =
	"usage: bounced [-c FILE] unsub-address [--form N] [--domain D] "
	"[--header]\n"
	"                 --subscriber S [--list L] [--campaign C]\n"
	"       bounced [-c FILE] unsub-address --check ADDRESS";

struct ua_args {
	const char *subscriber, *list, *campaign, *domain, *check;
	long form;		/* 1-based */
	bool header;
};

/* ua_cli_usage - "bounced: unsub-address: WHAT" and exit 64 */
static int ua_cli_usage(const char *what, const char *arg)
{
	fprintf(stderr, "bounced: unsub-address: %s%s%s%s\n%s\n", what,
		arg ? " '" : "", arg ? arg : "", arg ? "'" : "", ua_usage);
	return EXIT_USAGE;
}

/* the keys of unsub-address's options */
enum {
	UA_O_FORM = CLI_KEY_LONG,
	UA_O_DOMAIN,
	UA_O_HEADER,
	UA_O_SUBSCRIBER,
	UA_O_LIST,
	UA_O_CAMPAIGN,
	UA_O_CHECK,
};

const struct cli_opt cmd_unsub_addr_opts[] = {
	{ "subscriber", UA_O_SUBSCRIBER, "S", "the subscriber's id" },
	{ "list", UA_O_LIST, "L", "the list's id" },
	{ "campaign", UA_O_CAMPAIGN, "C", "the campaign's id" },
	{ "form", UA_O_FORM, "N",
	  "form N of [unsubscribe] addresses (default 1)" },
	{ "domain", UA_O_DOMAIN, "D", "the domain of a '*' form" },
	{ "header", UA_O_HEADER, NULL,
	  "print a List-Unsubscribe header line" },
	{ "check", UA_O_CHECK, "ADDRESS",
	  "read ADDRESS as the spool worker will:\n"
	  "what it names, or why it is refused" },
	{ NULL, 0, NULL, NULL },
};

/* ua_cli_parse - the options found into A; 0 or 64 */
static int ua_cli_parse(const struct cli_args *args, struct ua_args *a)
{
	const char *v;
	char *end;
	size_t i;

	memset(a, 0, sizeof(*a));
	a->form = 1;
	if (args->n_operands > 0)
		return ua_cli_usage("unexpected argument", args->operands[0]);
	for (i = 0; i < args->n_opts; i++) {
		v = args->opts[i].value;
		switch (args->opts[i].key) {
		case UA_O_HEADER:
			a->header = true;
			break;
		case UA_O_FORM:
			a->form = strtol(v, &end, 10);
			if (*v < '1' || *v > '9' || *end || a->form > 1000)
				return ua_cli_usage("--form takes a form number "
						    "from 1", v);
			break;
		case UA_O_SUBSCRIBER:
			a->subscriber = v;
			break;
		case UA_O_LIST:
			a->list = v;
			break;
		case UA_O_CAMPAIGN:
			a->campaign = v;
			break;
		case UA_O_DOMAIN:
			a->domain = v;
			break;
		case UA_O_CHECK:
			a->check = v;
			break;
		}
	}
	if (a->check && (a->subscriber || a->list || a->campaign ||
			 a->domain || a->header))
		return ua_cli_usage("--check takes no other option", NULL);
	if (!a->check && (!a->subscriber || (!a->list && !a->campaign)))
		return ua_cli_usage("--subscriber and --list or --campaign are "
				    "required", NULL);
	return 0;
}

/* ua_cli_check - read ADDR with the forms and print what it names */
static int ua_cli_check(const struct unsub_addr_set *set, const char *addr)
{
	struct unsub_addr_ids ids;
	char err[768];

	if (unsub_addr_match(set, addr, strlen(addr), &ids, err,
			     sizeof(err)) != 0) {
		fprintf(stderr, "bounced: unsub-address: %s\n", err);
		return EXIT_DATAERR;
	}
	printf("form %u: %s\n", ids.form + 1, unsub_addr_form(set, ids.form));
	printf("system: %s\n", ids.system == UNSUB_MAILWIZZ ? "mailwizz"
							    : "interspire");
	printf("subscriber: %s\n", ids.subscriber);
	printf("list: %s\n", ids.list);
	if (ids.campaign[0])
		printf("campaign: %s\n", ids.campaign);
	printf("signature: %s\n", ids.signature_checked ? "ok" : "none");
	return EXIT_OK;
}

/* ua_cli_copy - V into a value field of LEN bytes; false when too long */
static bool ua_cli_copy(char *dst, size_t len, const char *v)
{
	return v == NULL ||
	       (size_t)snprintf(dst, len, "%s", v) < len;
}

/* ua_cli_format - print the address of A's ids in form A->form */
static int ua_cli_format(const struct unsub_addr_set *set,
			 const struct ua_args *a)
{
	struct unsub_addr_ids ids = { 0 };
	char out[ADDR_MAX + 1], err[768];

	if ((size_t)a->form > unsub_addr_forms(set)) {
		fprintf(stderr, "bounced: unsub-address: --form %ld: there %s "
			"%zu form%s ([unsubscribe] addresses)\n", a->form,
			unsub_addr_forms(set) == 1 ? "is" : "are",
			unsub_addr_forms(set),
			unsub_addr_forms(set) == 1 ? "" : "s");
		return EXIT_USAGE;
	}
	if (!ua_cli_copy(ids.subscriber, sizeof(ids.subscriber),
			 a->subscriber) ||
	    !ua_cli_copy(ids.list, sizeof(ids.list), a->list) ||
	    !ua_cli_copy(ids.campaign, sizeof(ids.campaign), a->campaign)) {
		fprintf(stderr, "bounced: unsub-address: a value is longer "
			"than %d characters\n", UNSUB_VALUE_MAX - 1);
		return EXIT_DATAERR;
	}
	if (unsub_addr_format(set, (size_t)a->form - 1, &ids, a->domain, out,
			      sizeof(out), err, sizeof(err)) != 0) {
		fprintf(stderr, "bounced: unsub-address: %s\n", err);
		return EXIT_DATAERR;
	}
	if (a->header)
		printf("List-Unsubscribe: <mailto:%s?subject=unsubscribe>\n",
		       out);
	else
		printf("%s\n", out);
	return EXIT_OK;
}

/* cmd_unsub_addr - bounced unsub-address */
int cmd_unsub_addr(const struct config *cfg, const struct cli_global *g,
		   const struct cli_args *args)
{
	struct unsub_addr_set *set = NULL;
	struct ua_args a;
	char err[768];
	int ex;

	(void)g;
	ex = ua_cli_parse(args, &a);
	if (ex != 0)
		return ex;
	if (unsub_addr_compile(cfg->unsub_addresses, cfg->unsub_secret, &set,
			       err, sizeof(err)) != 0) {
		fprintf(stderr, "bounced: [unsubscribe] addresses: %s\n", err);
		return EXIT_CONFIG;
	}
	ex = a.check ? ua_cli_check(set, a.check) : ua_cli_format(set, &a);
	unsub_addr_free(set);
	return ex;
}
