/*
 * ctl_resend.c - bouncectl resend: queue, for suppressed addresses, the
 * provider actions a provider has not had yet.
 *
 * After a configuration fix (a senders pattern that missed, a provider
 * added), routing that missed addresses, or a provider restored, the
 * suppressions recorded in the state are planned again as ingest plans
 * them (plan.h), from the record that made each status (its sender, its
 * campaign): an operation a provider has pending, done or dead is not
 * asked again (dead letters are bouncectl retry's), so resend can be run
 * any number of times.  Addresses known by ids only ("uid:" keys) are
 * planned with the ids their key holds.
 *
 * Like reevaluate it reads a batch of candidates in a read-only pass, then
 * plans and writes them in one short write transaction (a full map is
 * grown and the transaction replayed), and goes on from where it stopped.
 * --dry-run plans in a transaction that is then aborted.  Exit 64 for a
 * bad command line, 66 without a state, 67 when an ADDR has no record, 74
 * when the state cannot be read or written.
 */
#include <errno.h>
#include <string.h>

#include "ctl.h"
#include "exitcodes.h"
#include "log.h"
#include "mail_events.h"
#include "plan.h"
#include "rcpt_rules.h"
#include "route.h"
#include "state.h"
#include "timeparse.h"

#define RESEND_BATCH 1000	/* records planned per write transaction */

struct resend {
	struct ctl_ctx *ctx;
	const char *provider;	/* --provider, or NULL */
	unsigned status_mask;	/* 1 << RCPT_HARD ...; 0: all suppressed */
	int64_t since;		/* status time at least; 0: any */
	bool dry_run;
	char (*batch)[ADDR_MAX + 1];
	size_t n;
	char resume[ADDR_MAX + 1];
	bool more;
	uint64_t looked, queued, actions;
	uint64_t per_provider[32];
};

/* resend_wanted - a suppressed record the options select */
static bool resend_wanted(const struct resend *rs, const struct rcpt *r)
{
	if (!rcpt_is_suppressed(r))
		return false;
	if (rs->status_mask && !(rs->status_mask & (1u << r->status)))
		return false;
	return r->status_time >= rs->since;
}

/* resend_scan_cb - collect the next batch of candidates */
static int resend_scan_cb(const char *key, size_t keylen,
			  const struct rcpt *r, void *arg)
{
	struct resend *rs = arg;
	char addr[ADDR_MAX + 1];

	if (ctl_key_copy(key, keylen, addr, sizeof(addr)) != 0 || !r ||
	    !resend_wanted(rs, r))
		return 0;
	if (rs->resume[0] && strcmp(addr, rs->resume) == 0)
		return 0;	/* the last one of the previous batch */
	if (rs->n == RESEND_BATCH) {
		rs->more = true;
		return 1;
	}
	memcpy(rs->batch[rs->n++], addr, sizeof(addr));
	return 0;
}

/* resend_ids - the provider ids a "uid:" KEY holds, into X (strings in
   BUF); nothing for an address, nor for "uid:iem:lists:ID", whose lists
   only its event carried (the record keeps none of them) */
static void resend_ids(const char *key, struct event_extra *x, char *buf,
		       size_t len)
{
	char *colon;

	memset(x, 0, sizeof(*x));
	if (strncmp(key, MAIL_UID_MW, strlen(MAIL_UID_MW)) == 0) {
		g_strlcpy(buf, key + strlen(MAIL_UID_MW), len);
		x->mw_subscriber_uid = buf;
	} else if (strncmp(key, MAIL_UID_IEM, strlen(MAIL_UID_IEM)) == 0) {
		g_strlcpy(buf, key + strlen(MAIL_UID_IEM), len);
		colon = strchr(buf, ':');
		if (!colon)
			return;
		*colon = '\0';
		if (strcmp(buf, MAIL_UID_IEM_LISTS) == 0)
			return;
		x->iem_list_id = buf;
		x->iem_subscriber_id = colon + 1;
	}
}

/* resend_one - plan ADDR again in TXN; 0 or -errno */
static int resend_one(struct state *st, struct resend *rs, MDB_txn *txn,
		      const char *addr, int64_t now)
{
	struct plan pl = { .st = st, .cfg = rs->ctx->cfg, .txn = txn,
			   .now = now, .only = rs->provider, .keep_dead = true,
			   .dry_run = rs->dry_run };
	enum event_class klass;
	struct event_extra x;
	struct plan_result res;
	struct event ev;
	struct rcpt r;
	char ids[ADDR_MAX + 1];
	unsigned i, n;
	int rc;

	rc = state_rcpt_get(st, txn, addr, &r);
	if (rc == -ENOENT || rc == -EINVAL || rc == -EPROTO)
		return 0;	/* gone, or unreadable: nothing to plan */
	if (rc)
		return rc;
	if (!resend_wanted(rs, &r))
		return 0;
	rs->looked++;
	klass = r.status == RCPT_COMPLAINED ? CLASS_COMPLAINT :
		r.status == RCPT_UNSUBSCRIBED ? CLASS_UNSUB :
		r.escalated ? CLASS_SOFT : CLASS_HARD;
	plan_reason_event(&ev, &r.reason, klass);
	resend_ids(addr, &x, ids, sizeof(ids));
	if (mail_key_is_uid(addr))
		ev.x = &x;
	rc = plan_enqueue(&pl, &r, addr, &ev, plan_status_outcome(&r), &res);
	if (rc || !res.queued)
		return rc;
	rs->queued++;
	for (i = 0, n = 0; i < 32; i++)
		if (res.queued & (1u << i)) {
			rs->per_provider[i]++;
			n++;
		}
	rs->actions += n;
	if (rs->dry_run) {
		fprintf(rs->ctx->out, "%s: %u action%s would be queued\n",
			addr, n, n == 1 ? "" : "s");
		return 0;
	}
	fprintf(rs->ctx->out, "%s: %u action%s queued\n", addr, n,
		n == 1 ? "" : "s");
	return state_rcpt_put(st, txn, addr, &r);
}

/* resend_write - plan the batch in TXN (state_write_fn; for a dry run a
   read-only transaction); the counts of a failed attempt are taken
   back */
static int resend_write(struct state *st, MDB_txn *txn, void *arg)
{
	struct resend *rs = arg;
	struct resend saved = *rs;
	int64_t now = (int64_t)time(NULL);
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < rs->n; i++)
		rc = resend_one(st, rs, txn, rs->batch[i], now);
	if (rc) {
		saved.batch = rs->batch;
		*rs = saved;
	}
	return rc;
}

/* resend_batch - plan the N addresses collected, in one write
   transaction (a dry run: in a read-only one, writing nothing); 0 or
   -errno */
static int resend_batch(struct state *st, struct resend *rs)
{
	MDB_txn *txn = NULL;
	int rc;

	if (!rs->dry_run)
		return state_write(st, resend_write, rs);
	rc = state_begin(st, false, &txn);
	if (rc)
		return rc;
	rc = resend_write(st, txn, rs);
	state_abort(txn);
	return rc;
}

/* resend_all - every selected record, batch by batch */
static int resend_all(struct state *st, struct resend *rs)
{
	MDB_txn *txn = NULL;
	int rc;

	rs->resume[0] = '\0';
	do {
		rs->n = 0;
		rs->more = false;
		rc = state_begin(st, false, &txn);
		if (rc)
			return rc;
		rc = state_rcpt_foreach(st, txn, rs->resume[0] ? rs->resume :
				       NULL, resend_scan_cb, rs);
		state_abort(txn);
		if (rc < 0)
			return rc;
		if (rs->n)
			memcpy(rs->resume, rs->batch[rs->n - 1],
			       sizeof(rs->resume));
		rc = resend_batch(st, rs);
		if (rc)
			return rc;
	} while (rs->more);
	return 0;
}

/* resend_provider - --provider NAME must be a configured provider */
static int resend_provider(struct resend *rs, const char *name)
{
	const struct config *cfg = rs->ctx->cfg;
	size_t i;

	for (i = 0; i < cfg->n_providers; i++)
		if (strcmp(cfg->providers[i].name, name) == 0) {
			rs->provider = cfg->providers[i].name;
			return 0;
		}
	return ctl_usage(rs->ctx, "resend", "--provider '%s': the "
			 "configuration has no [provider %s]", name, name);
}

const struct cli_opt ctl_opts_resend[] = {
	{ "status", CTL_O_STATUS, "S",
	  "hard, complained, unsubscribed or suppressed\n"
	  "(the default), several separated by ','" },
	{ "since", CTL_O_SINCE, "T", "suppressed at or after T (2026-11-24, 7d)" },
	{ "provider", CTL_O_PROVIDER, "NAME", "only this provider" },
	{ "dry-run", 'n', NULL, "print what would be queued, queue nothing" },
	{ NULL, 0, NULL, NULL },
};

/* resend_args - options, and the addresses named into ADDRS */
static int resend_args(struct resend *rs, const struct cli_args *a,
		       GPtrArray *addrs)
{
	char addr[ADDR_MAX + 1];
	size_t i;
	int k, rc;

	for (i = 0; i < a->n_opts; i++) {
		const char *v = a->opts[i].value;

		switch (a->opts[i].key) {
		case 'n':
			rs->dry_run = true;
			break;
		case CTL_O_STATUS:
			rc = ctl_status_mask(rs->ctx, "resend", v,
					     CTL_SUPPRESSED, "hard, "
					     "complained, unsubscribed or "
					     "suppressed", &rs->status_mask);
			if (rc)
				return rc;
			break;
		case CTL_O_SINCE:
			if (timeparse_since(v, rs->ctx->now, &rs->since) != 0)
				return ctl_usage(rs->ctx, "resend", "bad "
						 "--since value '%s' (a time "
						 "like 2026-11-24 or a "
						 "duration like 7d)", v);
			break;
		case CTL_O_PROVIDER:
			if ((rc = resend_provider(rs, v)) != 0)
				return rc;
			break;
		}
	}
	for (k = 0; k < a->n_operands; k++) {
		const char *arg = a->operands[k];

		/* as show and forget take it: an address normalised, a
		   uid: key in lower case, anything else a usage error */
		if ((rc = ctl_addr_arg(rs->ctx, arg, addr)) != 0)
			return rc;
		g_ptr_array_add(addrs, g_strdup(addr));
	}
	return 0;
}

/* resend_named - the addresses given on the command line */
static int resend_named(struct state *st, struct resend *rs, GPtrArray *addrs)
{
	MDB_txn *txn = NULL;
	struct rcpt r;
	size_t i, at = 0;
	int rc;

	/* every one must have a record */
	rc = state_begin(st, false, &txn);
	if (rc)
		return rc;
	for (i = 0; i < addrs->len; i++) {
		rc = state_rcpt_get(st, txn, addrs->pdata[i], &r);
		if (rc == -ENOENT) {
			fprintf(stderr, "%s: resend: no record of '%s'\n",
				rs->ctx->prog, (char *)addrs->pdata[i]);
			state_abort(txn);
			return CTL_EXIT_NOADDR;
		}
		if (rc && rc != -EINVAL && rc != -EPROTO) {
			state_abort(txn);
			return rc;
		}
	}
	state_abort(txn);
	while (at < addrs->len) {
		rs->n = 0;
		while (at < addrs->len && rs->n < RESEND_BATCH)
			g_strlcpy(rs->batch[rs->n++], addrs->pdata[at++],
				  sizeof(rs->batch[0]));
		rc = resend_batch(st, rs);
		if (rc)
			return rc;
	}
	return 0;
}

/* resend_summary - what was (or would be) queued, per provider */
static void resend_summary(const struct resend *rs)
{
	const struct config *cfg = rs->ctx->cfg;
	FILE *out = rs->ctx->out;
	const char *sep = ";";
	size_t i;

	fprintf(out, "%llu suppressed records looked at, %llu actions %s for "
		"%llu of them", (unsigned long long)rs->looked,
		(unsigned long long)rs->actions,
		rs->dry_run ? "would be queued" : "queued",
		(unsigned long long)rs->queued);
	for (i = 0; i < cfg->n_providers && i < 32; i++)
		if (rs->per_provider[i]) {
			fprintf(out, "%s %s: %llu", sep,
				cfg->providers[i].name,
				(unsigned long long)rs->per_provider[i]);
			sep = ",";
		}
	fputc('\n', out);
	if (rs->actions && !rs->dry_run)
		fprintf(out, "the running bounced, or the next 'bounced "
			"process', sends them\n");
	if (cfg->n_providers == 0)
		fprintf(out, "no provider is configured: nothing to queue\n");
}

int cmd_resend(struct ctl_ctx *ctx, const struct cli_args *args)
{
	GPtrArray *addrs = g_ptr_array_new_with_free_func(g_free);
	struct resend rs;
	struct state *st = NULL;
	int rc;

	memset(&rs, 0, sizeof(rs));
	rs.ctx = ctx;
	rc = resend_args(&rs, args, addrs);
	if (rc)
		goto out;
	/* a dry run writes nothing: read access is enough */
	rc = ctl_state_open(ctx, !rs.dry_run, &st);
	if (rc)
		goto out;
	rs.batch = g_malloc(sizeof(*rs.batch) * RESEND_BATCH);
	rc = addrs->len ? resend_named(st, &rs, addrs) : resend_all(st, &rs);
	if (rc == CTL_EXIT_NOADDR)
		goto out;
	if (rc) {
		rc = ctl_state_error(ctx, rs.dry_run ? "read" : "update", rc);
		goto out;
	}
	resend_summary(&rs);
	if (!rs.dry_run && rs.actions)
		log_info("ctl", "resend%s%s: %llu actions queued for %llu "
			 "suppressed addresses", rs.provider ? " --provider " :
			 "", rs.provider ? rs.provider : "",
			 (unsigned long long)rs.actions,
			 (unsigned long long)rs.queued);
	rc = EXIT_OK;
out:
	g_free(rs.batch);
	state_close(st);
	g_ptr_array_free(addrs, TRUE);
	return rc;
}
