/*
 * config_ini.h - the INI reading shared by the files of the configuration
 * (config.c, config_classify.c, config_notify.c, config_provider.c,
 * config_monitor.c): the context of one load, typed readers of a key
 * (absent keeps the default, a bad value fails with a message naming
 * file, group, key and value), and the readers of each group.  Private to
 * src/.
 */
#ifndef BOUNCED_CONFIG_INI_H
#define BOUNCED_CONFIG_INI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <glib.h>

#include "config.h"

#define CFG_MAX_FILE (1024 * 1024)	/* bytes in a config file */
#define CFG_MAX_VALUE 4096		/* bytes in one value */
#define CFG_MAX_LIST 1024		/* entries in one list */
#define CFG_MAX_ITEM 255		/* bytes in one list entry */
#define CFG_MAX_PROVIDERS 64
#define CFG_MAX_WARNINGS 100
#define CFG_NAME_MAX 31			/* bytes in a provider name */
#define CFG_SHOW_MAX 80			/* bytes of a value quoted in a message */


#define CFG_MIN 60
#define CFG_HOUR 3600
#define CFG_DAY 86400

struct cfg_ctx {
	const char *file;	/* for messages */
	GKeyFile *kf;
	struct config *cfg;
	GPtrArray *warnings;	/* NULL: log them */
	unsigned n_warnings;
	mode_t mode;		/* of the file, for the secrets check */
	gchar *text;		/* the file as read, once: GLib's reading and
				   the text checks see the same bytes */
	char *err;
	size_t errlen;
};


/* the keys each group knows, for the unknown-key warnings (config.c) */
extern const char *const cfg_keys_bounced[], *const cfg_keys_classify[],
	*const cfg_keys_notify[], *const cfg_keys_rrd[],
	*const cfg_keys_unsubscribe[], *const cfg_keys_metrics[],
	*const cfg_keys_fbl[], *const cfg_keys_common[],
	*const cfg_keys_mailwizz[], *const cfg_keys_interspire[],
	*const cfg_keys_webhook[], *const cfg_keys_incidents[],
	*const cfg_keys_alerts[], *const cfg_keys_rates[];
extern const char *const cfg_http_schemes[], *const cfg_smtp_schemes[];

/* messages: a warning (kept or logged), a failure (ERR set, -1) */
void __attribute__((format(printf, 2, 3)))
cfg_warn(struct cfg_ctx *c, const char *fmt, ...);
int __attribute__((format(printf, 2, 3)))
cfg_fail(struct cfg_ctx *c, const char *fmt, ...);
/* cfg_show - V shortened for a message, a URL's password masked */
const char *cfg_show(const char *v, char *buf, size_t len);
bool cfg_in(const char *const *list, const char *s);

/* the typed readers: absent keeps *DST; 0 or -1 (ERR set) */
int cfg_raw(struct cfg_ctx *c, const char *group, const char *key,
	    char **out);
void cfg_comment_check(struct cfg_ctx *c, const char *group,
		       const char *key, const char *v);
int cfg_string(struct cfg_ctx *c, const char *group, const char *key,
	       bool secret, char **dst);
int cfg_path(struct cfg_ctx *c, const char *group, const char *key,
	     const char *what, char **dst);
int cfg_int(struct cfg_ctx *c, const char *group, const char *key,
	    long long min, long long max, long long *dst);
int cfg_duration(struct cfg_ctx *c, const char *group, const char *key,
		 bool ms, int64_t min, int64_t max, int64_t *dst);
int cfg_bool(struct cfg_ctx *c, const char *group, const char *key,
	     bool *dst);
char **cfg_split(const char *v, bool lower, const char **why);
int cfg_list(struct cfg_ctx *c, const char *group, const char *key,
	     bool lower, bool allow_empty, bool empty_null, char ***dst);
void cfg_url_pw_mask(struct cfg_ctx *c, const char *group, const char *key,
		     const char *url);
int cfg_url_bad(struct cfg_ctx *c, const char *group, const char *key,
		const char *v, const char *const *schemes, const char *what);
int cfg_url(struct cfg_ctx *c, const char *group, const char *key,
	    char **dst);
int cfg_require(struct cfg_ctx *c, const char *group, const char *key,
		const char *why, const char *v);
void cfg_unused(struct cfg_ctx *c, const char *group, const char *key,
		const char *why);
int cfg_choice(struct cfg_ctx *c, const char *g, const char *key,
	       const char *const *names, const char *expected, int *out);

/* the groups: 0 or -1 (ERR set) */
int cfg_classify(struct cfg_ctx *c);
int cfg_fbl(struct cfg_ctx *c);
int cfg_notify(struct cfg_ctx *c);
int cfg_unsubscribe(struct cfg_ctx *c);
int cfg_provider(struct cfg_ctx *c, const char *g, const char *name,
		 char **keys, struct config_provider *p);
void cfg_provider_release(struct config_provider *p);
int cfg_incidents(struct cfg_ctx *c);
int cfg_alerts(struct cfg_ctx *c);
int cfg_rates(struct cfg_ctx *c);
/* cfg_text_check - warnings of what the file's text says and GLib's reading
   drops without a word: a group written twice, a key with a [suffix]
   (config_text.c) */
void cfg_text_check(struct cfg_ctx *c);
/* the defaults of the groups of config_classify.c and config_monitor.c */
void cfg_classify_defaults(struct config *cfg);
void cfg_monitor_defaults(struct config *cfg);
void cfg_monitor_free(struct config *cfg);

#endif
