/*
 * config.h - the effective configuration of bounced and bouncectl.
 *
 * Read from an INI file with GLib's GKeyFile over embedded defaults: the
 * file named by -c, else by $BOUNCED_CONFIG, else BOUNCED_CONFIG_DEFAULT
 * when it exists; with no file the defaults alone serve (spool ./spool,
 * state ./state, no provider).
 * Relative paths stay relative to the working directory.  Key names are the
 * contract documented in docs/CONFIG.md and contrib/bounced.conf.example.
 * Errors name the group, key and value and what is expected; unknown groups
 * and keys are warnings, not errors.
 */
#ifndef BOUNCED_CONFIG_H
#define BOUNCED_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum provider_type {
	PROVIDER_MAILWIZZ = 1,
	PROVIDER_INTERSPIRE = 2,
	PROVIDER_WEBHOOK = 3,
};

/* one [provider NAME] group; strings are NULL when not set */
struct config_provider {
	char *name;		/* NAME of "[provider NAME]" */
	enum provider_type type;
	char *endpoint;		/* mailwizz: API base URL; interspire: xml.php URL */
	int api_version;	/* mailwizz: 1 (signed) or 2 (api-key); default 1 */
	char *public_key;	/* mailwizz v1 */
	char *private_key;	/* mailwizz v1 (secret) */
	char *api_key;		/* mailwizz v2 (secret) */
	char *username;		/* interspire */
	char *usertoken;	/* interspire (secret) */
	char *url;		/* webhook */
	char *secret;		/* webhook HMAC secret (secret) */
	unsigned events;	/* webhook: WEBHOOK_EVENT_* posted */
	char **senders;		/* NULL-terminated glob patterns; NULL = none */
	char *job_prefix;	/* mailwizz: default "mailwizz-" */
	char *list_id;		/* mailwizz: the List-Id form naming a list,
				   default CONFIG_LIST_ID_DEFAULT */
	int concurrency;	/* default 16, 1..256 */
	int64_t list_refresh;	/* interspire, seconds; default 600 */
	int64_t timeout;	/* whole request, seconds; default 30 */
	int64_t connect_timeout; /* seconds; default 10 */
	char *ca_file;		/* TLS CA bundle; NULL = system default */
	int64_t max_age;	/* seconds an action is retried; default 7d */
	int64_t retry_min_ms;	/* first retry delay; default 10s */
	int64_t retry_max_ms;	/* longest retry delay; default 1h */
	bool complaints;	/* complaints go to this provider; default true */
	bool lists;		/* list unsubscribes go to it; default true */
	int hard_action;	/* mailwizz: enum provider_class_action, default BOTH */
	int soft_action;	/* mailwizz: ACT_BOUNCE (default) or ACT_NONE */
	int complaint_action;	/* mailwizz: ACT_UNSUBSCRIBE (default) or
				   ACT_BOTH ("blacklist": also a hard bounce
				   on the campaign, which blacklists) */
	int complaint_scope;	/* enum complaint_scope, default everywhere */
};

/* complaint-scope: what a complaint whose report hid the address does
   once a provider named the subscriber behind it */
enum complaint_scope {
	SCOPE_EVERYWHERE = 0,	/* a complaint of that address, like any
				   other: every provider acts on it */
	SCOPE_LIST = 1,		/* only the subscriber the report named */
};

/* how MailWizz writes List-Id ("<list uid> <display name>"), and the
   bare "<list uid>" some installations send; forms separated by ';' */
#define CONFIG_LIST_ID_DEFAULT "[LIST_UID] <*>; *<[LIST_UID]>"

/* what a provider does for a class of event (mailwizz hard-action, soft-action) */
enum provider_class_action {
	ACT_NONE = 0,		/* nothing */
	ACT_UNSUBSCRIBE = 1,	/* unsubscribe from every list */
	ACT_BOUNCE = 2,		/* record the bounce on the campaign (hard: blacklists) */
	ACT_BOTH = 3,		/* both */
};

/* webhook events: which kinds a webhook provider is posted */
#define WEBHOOK_EVENT_SUPPRESSIONS 1u	/* per address (every action) */
#define WEBHOOK_EVENT_INCIDENTS 2u	/* incident.opened / .closed */
#define WEBHOOK_EVENT_ALERTS 4u		/* alert.raised / .cleared */
#define WEBHOOK_EVENTS_ALL 7u

/* [notify] mode: what is mailed to the operator */
enum notify_mode {
	NOTIFY_MODE_OFF = 0,	/* nothing */
	NOTIFY_MODE_DIGEST = 1,	/* one digest every digest-interval */
	NOTIFY_MODE_EVENT = 2,	/* one mail per event */
};

/* [notify] starttls: TLS on an smtp:// connection */
enum notify_starttls {
	NOTIFY_STARTTLS_TRY = 0,	/* when the server offers it */
	NOTIFY_STARTTLS_REQUIRED = 1,	/* refuse to send without it */
	NOTIFY_STARTTLS_NO = 2,		/* never */
};

struct config {
	char *path;		/* file read, NULL when embedded defaults */

	/* [bounced] */
	char *spool;		/* default "./spool" */
	char *state;		/* default "./state" */
	char *log;		/* default "-" (stderr) */
	bool debug;		/* default false */
	char **acct_fields;	/* header-less field order, NULL-terminated;
				   default type,timeQueued,bounceCat,vmta,orig,
				   rcpt,srcMta,dlvSourceIp,jobId,dsnStatus,
				   dsnMta,dsnDiag */
	uint32_t batch_records;	/* records per commit, default 1000000 */
	int64_t batch_interval_ms; /* max time between commits, default 1000 */
	char **acct_ignore;	/* bounced run: names in acct/ still being
				   written, shell globs, NULL-terminated;
				   default *.tmp;*.part */
	int64_t done_retention;	/* bounced run: seconds a finished file stays
				   in done/, 0 = deleted at once; default 7d */
	int64_t shutdown_timeout_ms; /* bounced run: how long requests under
				   way may finish at shutdown; default 10s */
	uint64_t drop_max_size;	/* bounced drop: largest mail taken, bytes;
				   default 10485760, 1 KiB..1 GiB */

	/* [classify] */
	char **hard_categories;	/* NULL-terminated */
	char **soft_categories;
	char **ignore_categories; /* default empty */
	char **complaint_types;	/* default abuse */
	uint32_t soft_threshold; /* default 5, 1..32 */
	int64_t soft_min_span;	/* seconds, default 3d */
	int64_t soft_window;	/* seconds, default 30d */
	char *classify_rules;	/* "PATTERN => CATEGORY; ..."; NULL = the
				   default set (classify_override.h), "" =
				   none */
	char **sender_categories; /* categories that are the sender's
				   trouble (incidents, sender-rate) */
	char **no_escalate_categories; /* soft categories that never count
				   toward escalation (default
				   invalid-sender: our sender refused) */

	/* [incidents] (docs/CLASSIFY.md) */
	bool incidents;		/* default yes */
	int64_t incident_window; /* seconds, default 30m */
	uint32_t incident_min_recipients; /* default 10 */
	double incident_min_share; /* 0..1, default 0.2 */
	int64_t incident_quiet;	/* seconds, default 2h */
	bool incident_hold_hard; /* default yes */
	char *domain_groups;	/* NULL = DOMAIN_GROUPS_DEFAULT */

	/* [alerts] */
	char *alert_rules;	/* NULL = ALERT_RULES_DEFAULT, "" = none */

	/* [rates] */
	bool rates;		/* default yes */
	uint32_t rates_top;	/* names per dimension per day, default 200 */

	/* [provider NAME] groups, in file order */
	struct config_provider *providers;
	size_t n_providers;

	/* [unsubscribe] (forms checked by config_load, see unsub_addr.h) */
	char *unsub_addresses;	/* ';'-separated address forms; default
				   UNSUB_ADDR_DEFAULT */
	char *unsub_secret;	/* signature key (secret), at least
				   UNSUB_SECRET_MIN bytes; NULL = unsigned */

	/* [notify] */
	enum notify_mode notify_mode; /* default digest when smtp and to are
				   set, else off */
	char *notify_smtp;	/* smtp://host[:port] or smtps://... */
	char *notify_from;	/* sender address; required unless mode off */
	char **notify_to;	/* NULL-terminated recipient addresses; NULL =
				   none */
	int64_t digest_interval; /* seconds, default 15m */
	char *notify_username;	/* SMTP AUTH user; NULL = no AUTH */
	char *notify_password;	/* SMTP AUTH password (secret) */
	enum notify_starttls notify_starttls; /* default try */
	char *notify_ca_file;	/* TLS CA bundle; NULL = system default */
	int64_t notify_timeout;	/* whole SMTP transfer, seconds; default 30 */
	char *notify_web_url;	/* MailWizz web UI base for links; NULL */
	uint32_t notify_max_items; /* items listed in one mail, default 500 */

	/* [fbl] */
	char **fbl_senders;	/* NULL-terminated globs of our senders,
				   lower case; NULL = none (docs/FBL.md) */

	/* [rrd] */
	char *rrd_file;		/* default "<state>/bounced.rrd" */

	/* [metrics] */
	char *metrics_textfile;	/* Prometheus textfile; NULL = none */
};

/*
 * config_load - read PATH (NULL = embedded defaults only) into *OUT.
 * Warnings (unknown keys, a key file readable by others) are appended to
 * WARNINGS (a GPtrArray of g_free'd strings, may be NULL: then logged).
 * Returns 0, or -1 with a one-line message in ERR naming file, group, key
 * and value.  *OUT is owned by the caller: config_free().
 */
struct _GPtrArray;
int config_load(const char *path, struct config **out,
		struct _GPtrArray *warnings, char *err, size_t errlen);
void config_free(struct config *cfg);

/* the configuration read when neither -c nor $BOUNCED_CONFIG names one */
#ifndef BOUNCED_CONFIG_DEFAULT
#define BOUNCED_CONFIG_DEFAULT "/etc/bounced/bounced.conf"
#endif

/*
 * config_path_from_env - the -c value if given, else $BOUNCED_CONFIG (when
 * set and not empty), else BOUNCED_CONFIG_DEFAULT when that name exists
 * (a file that exists but cannot be read is then config_load's error),
 * else NULL: the embedded defaults.
 */
const char *config_path_from_env(const char *cli_path);

/* config_path_pick - config_path_from_env with the environment value ENV
   and the default path DEFAULT_PATH given (for tests) */
const char *config_path_pick(const char *cli_path, const char *env,
			     const char *default_path);

/*
 * config_parse_duration - "90", "90s", "5m", "2h", "3d", "1w" -> seconds.
 * Returns 0 or -1 (empty, junk, negative, overflow).
 */
int config_parse_duration(const char *s, int64_t *seconds);
/* config_parse_duration_ms - as above, also accepts "250ms"; result in ms */
int config_parse_duration_ms(const char *s, int64_t *ms);
/* config_format_duration - 259200 -> "3d" (largest exact unit) */
void config_format_duration(int64_t seconds, char *buf, size_t len);

/* config_print - the effective config as INI, secrets masked as "****" */
void config_print(const struct config *cfg, FILE *out);

#endif
