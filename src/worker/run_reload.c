/*
 * run_reload.c - SIGHUP for `bounced run`: reopen the log, load the
 * configuration again from the same file, and put what it changes in place
 * when that is safe.
 *
 * A reload is all or nothing: the new configuration must load, keep the
 * spool and state directories, and give a working ingest context and (when
 * the providers changed) a working dispatcher; otherwise it is refused
 * with an error and the old one stays in force.  An accepted one applies
 * the log destination and level, acct-ignore and done-retention at once;
 * the new ingest context takes over between two files, and the new
 * dispatcher once the old one (told to start nothing more) has no request
 * under way.  Each part keeps the configuration it was built with; a
 * configuration no part uses any more is freed (run_configs_gc).
 *
 * Error policy: everything is logged; nothing is returned, nothing exits.
 */
#include <errno.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "dispatch.h"
#include "ingest.h"
#include "log.h"
#include "run_priv.h"
#include "spool.h"

/* run_set_level - the log level from the options and CFG */
static void run_set_level(const struct cli_global *g, const struct config *cfg)
{
	if (g->debug || cfg->debug)
		log_set_level(BLOG_DEBUG);
	else if (g->quiet)
		log_set_level(BLOG_ERROR);
	else
		log_set_level(BLOG_INFO);
}

/* run_configs_gc - free the reloaded configurations nothing uses */
void run_configs_gc(struct run *r)
{
	guint i = r->configs->len;

	while (i-- > 0) {
		struct config *c = r->configs->pdata[i];

		if (c == r->cfg || c == r->in_cfg || c == r->in_next_cfg ||
		    c == r->d_cfg || c == r->d_next_cfg ||
		    c == r->metrics_cfg || c == r->sm_cfg || c == r->notify_cfg)
			continue;
		g_ptr_array_remove_index(r->configs, i);
		config_free(c);
	}
}

/* run_strv_equal - two NULL-terminated lists (NULL = empty) */
static bool run_strv_equal(char *const *a, char *const *b)
{
	for (; a && *a; a++, b++)
		if (!b || !*b || strcmp(*a, *b) != 0)
			return false;
	return !b || !*b;
}

/* run_providers_equal - would A's providers behave as B's? */
static bool run_providers_equal(const struct config *a, const struct config *b)
{
	size_t i;

	/* the dispatcher queues provider notices as [notify] mode says */
	if (a->n_providers != b->n_providers || a->notify_mode != b->notify_mode)
		return false;
	for (i = 0; i < a->n_providers; i++) {
		const struct config_provider *p = &a->providers[i];
		const struct config_provider *q = &b->providers[i];

		if (g_strcmp0(p->name, q->name) || p->type != q->type ||
		    g_strcmp0(p->endpoint, q->endpoint) ||
		    p->api_version != q->api_version ||
		    g_strcmp0(p->public_key, q->public_key) ||
		    g_strcmp0(p->private_key, q->private_key) ||
		    g_strcmp0(p->api_key, q->api_key) ||
		    g_strcmp0(p->username, q->username) ||
		    g_strcmp0(p->usertoken, q->usertoken) ||
		    g_strcmp0(p->url, q->url) || g_strcmp0(p->secret, q->secret) ||
		    p->events != q->events ||
		    p->complaint_scope != q->complaint_scope ||
		    !run_strv_equal(p->senders, q->senders) ||
		    g_strcmp0(p->job_prefix, q->job_prefix) ||
		    g_strcmp0(p->list_id, q->list_id) ||
		    p->concurrency != q->concurrency ||
		    p->list_refresh != q->list_refresh ||
		    p->timeout != q->timeout ||
		    p->connect_timeout != q->connect_timeout ||
		    g_strcmp0(p->ca_file, q->ca_file) ||
		    p->max_age != q->max_age ||
		    p->retry_min_ms != q->retry_min_ms ||
		    p->retry_max_ms != q->retry_max_ms ||
		    p->complaints != q->complaints || p->lists != q->lists ||
		    p->hard_action != q->hard_action ||
		    p->complaint_action != q->complaint_action ||
		    p->soft_action != q->soft_action)
			return false;
	}
	return true;
}

/* run_swap - reloaded parts into place when safe */
void run_swap(struct run *r)
{
	if (r->in_next && !r->job) {
		ingest_free(r->in);
		r->in = r->in_next;
		r->in_cfg = r->in_next_cfg;
		r->in_next = NULL;
		r->in_next_cfg = NULL;
		log_debug("run", "the new configuration applies to the files "
			  "taken from now on");
	}
	if (r->d_next && dispatch_in_flight(r->d) == 0 &&
	    !dispatch_holding(r->d)) {
		dispatch_free(r->d);
		r->d = r->d_next;
		r->d_cfg = r->d_next_cfg;
		r->d_next = NULL;
		r->d_next_cfg = NULL;
		/* pauses the former one began or ended since the reload */
		dispatch_pauses_load(r->d);
		run_dispatch_wire(r);
		log_info("run", "providers set up anew from the new "
			 "configuration: %u configured", dispatch_providers(r->d));
	}
	run_configs_gc(r);
}

/* run_reload_check - load the configuration again and build what it
   needs; 0 with *NCFG, *NIN (and *ND when the providers changed) */
static int run_reload_check(struct run *r, const char *path,
			    struct config **ncfg, struct ingest **nin,
			    struct dispatch **nd)
{
	GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
	const struct config *target = r->d_next ? r->d_next_cfg : r->d_cfg;
	char err[512];
	int rc = -1;
	guint k;

	if (config_load(path, ncfg, warnings, err, sizeof(err)) != 0) {
		log_error("run", "SIGHUP: %s; the configuration in force is "
			  "kept", err);
		goto out;
	}
	for (k = 0; k < warnings->len; k++)
		log_warn("config", "%s", (const char *)warnings->pdata[k]);
	if (strcmp((*ncfg)->spool, r->cfg->spool) != 0 ||
	    strcmp((*ncfg)->state, r->cfg->state) != 0) {
		log_error("run", "SIGHUP: a new spool or state directory takes "
			  "a restart of bounced run; the configuration in force "
			  "is kept");
		goto out;
	}
	*nin = ingest_new(*ncfg, r->st);
	if (!*nin) {
		log_error("run", "SIGHUP: cannot set up reading with the new "
			  "configuration; the configuration in force is kept");
		goto out;
	}
	if (!run_providers_equal(target, *ncfg) &&
	    dispatch_new(nd, *ncfg, r->st, r->loop, r->multi, err,
			 sizeof(err)) != 0) {
		log_error("run", "SIGHUP: %s; the configuration in force is "
			  "kept", err);
		goto out;
	}
	rc = 0;
out:
	g_ptr_array_free(warnings, TRUE);
	return rc;
}

/* run_reload - SIGHUP: reopen the log, load the configuration again */
void run_reload(struct run *r)
{
	const char *path = config_path_from_env(r->g->config_path);
	struct config *ncfg = NULL;
	struct ingest *nin = NULL;
	struct dispatch *nd = NULL;
	bool ignore_changed;
	int rc;

	rc = log_reopen();
	if (rc)
		log_error("run", "SIGHUP: cannot reopen the log file: %s",
			  strerror(-rc));
	if (run_reload_check(r, path, &ncfg, &nin, &nd) != 0)
		goto out;
	if (strcmp(ncfg->log, r->cfg->log) != 0 &&
	    (rc = log_open(ncfg->log)) != 0) {
		log_error("run", "SIGHUP: cannot open the log file '%s': %s; "
			  "logging goes on where it went (the next SIGHUP "
			  "tries again)", ncfg->log, strerror(-rc));
		/* the configuration in force names the log in use, so that
		   the next reload of the same file tries the switch again */
		g_free(ncfg->log);
		ncfg->log = g_strdup(r->cfg->log);
	}
	run_set_level(r->g, ncfg);
	ignore_changed = !run_strv_equal(ncfg->acct_ignore,
					 r->cfg->acct_ignore);
	spool_set_rules(r->sp, ncfg->acct_ignore, ncfg->done_retention);
	if (ignore_changed)	/* files no longer ignored are taken now */
		(void)spool_scan_ignored(r->sp, r->cfg->acct_ignore);
	ingest_free(r->in_next);
	r->in_next = nin;
	r->in_next_cfg = ncfg;
	nin = NULL;
	if (nd) {
		dispatch_free(r->d_next);
		r->d_next = nd;
		r->d_next_cfg = ncfg;
		nd = NULL;
		dispatch_stop(r->d);	/* let what is under way finish */
	}
	g_ptr_array_add(r->configs, ncfg);
	r->cfg = ncfg;
	log_info("run", "SIGHUP: configuration %s loaded%s",
		 path ? path : "(embedded defaults)",
		 r->d_next ? "; the providers are set up anew once the "
			     "requests under way have finished" : "");
	ncfg = NULL;
	run_swap(r);
out:
	dispatch_free(nd);
	ingest_free(nin);
	config_free(ncfg);
}
