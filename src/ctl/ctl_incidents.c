/*
 * ctl_incidents.c - "bouncectl incidents" (every incident, or the open
 * ones) and "bouncectl incident show|release|discard ID": what an incident is
 * (source, destination, when, how many recipients and bounces, the
 * addresses it protected, the texts it was seen by) and the hard bounces
 * it holds; release applies what it holds now (the operator judged the
 * bounces real), discard drops it for good (part of the block): each
 * address keeps the bounce dropped, so that reading its record again
 * (held_drop.h) applies nothing.
 *
 * Reading commands use one read-only transaction; release and discard
 * one write transaction (state_write).  A
 * running bounced sees the new state at its next commit.  Exit 64 for a
 * bad command line, 66 without a state, 67 for an unknown incident, 74
 * when the state cannot be read or written.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "config.h"
#include "exitcodes.h"
#include "held_apply.h"
#include "held_drop.h"
#include "incident_rcpts.h"
#include "incident_store.h"
#include "log.h"
#include "monitor.h"
#include "monitor_event.h"
#include "state.h"

const struct cli_opt ctl_opts_incidents[] = {
	{ "open", CTL_O_OPEN, NULL, "only the incidents open now" },
	{ "format", CTL_O_FORMAT, "F", "text (default) or json" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_opt ctl_opts_incident[] = {
	{ "format", CTL_O_FORMAT, "F", "show: text (default) or json" },
	{ NULL, 0, NULL, NULL },
};

/* ctl_incident_json - INC as a JSON object (NULL on ENOMEM) */
static cJSON *ctl_incident_json(const struct incident *inc)
{
	cJSON *o = cJSON_CreateObject(), *s;
	uint32_t i;
	bool ok = o &&
		cJSON_AddNumberToObject(o, "id", (double)inc->id) &&
		cJSON_AddStringToObject(o, "state",
					incident_state_name(inc->state)) &&
		cJSON_AddItemToObject(o, "source",
				      ctl_json_string(inc->source)) &&
		cJSON_AddItemToObject(o, "destination",
				      ctl_json_string(inc->dest)) &&
		cJSON_AddItemToObject(o, "first", ctl_json_time(inc->first_time)) &&
		cJSON_AddItemToObject(o, "opened", ctl_json_time(inc->open_time)) &&
		cJSON_AddItemToObject(o, "closed", ctl_json_time(inc->close_time)) &&
		cJSON_AddBoolToObject(o, "recovered", inc->recovered) &&
		cJSON_AddNumberToObject(o, "recipients", inc->recipients) &&
		cJSON_AddNumberToObject(o, "bounces", (double)inc->bounces) &&
		cJSON_AddNumberToObject(o, "attempts", (double)inc->attempts) &&
		cJSON_AddNumberToObject(o, "protected", inc->protected_soft) &&
		cJSON_AddNumberToObject(o, "held", inc->held) &&
		cJSON_AddNumberToObject(o, "applied", inc->applied) &&
		cJSON_AddNumberToObject(o, "dropped", inc->dropped) &&
		(s = cJSON_AddArrayToObject(o, "samples")) != NULL;

	for (i = 0; ok && i < inc->nsamples; i++)
		ok = cJSON_AddItemToArray(s, ctl_json_string(inc->samples[i]));
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

struct incidents_walk {
	const struct ctl_ctx *ctx;
	enum ctl_format fmt;
	bool open_only;
	cJSON *arr;
	uint64_t n;
};

/* the incidents wanted, for ctl_incidents_gather */
struct incidents_gather {
	bool open_only;
	GArray *out;
};

/* incidents_gather_cb - keep INC when it is wanted */
static int incidents_gather_cb(const struct incident *inc, void *arg)
{
	struct incidents_gather *g = arg;

	if (!g->open_only || inc->state == INCIDENT_ST_OPEN)
		g_array_append_val(g->out, *inc);
	return 0;
}

/* ctl_incidents_gather - the incidents (or the open ones) into OUT */
int ctl_incidents_gather(struct state *st, MDB_txn *txn, bool open_only,
			 GArray *out)
{
	struct incidents_gather g = { open_only, out };

	return incident_foreach(st, txn, incidents_gather_cb, &g);
}

/* incidents_print - one incident, as a line or into the JSON array */
static int incidents_print(struct incidents_walk *w,
			   const struct incident *inc)
{
	char opened[40], closed[40], src[INCIDENT_KEY_MAX * 4],
		dst[INCIDENT_KEY_MAX * 4];

	w->n++;
	if (w->fmt == CTL_FMT_JSON) {
		cJSON *o = ctl_incident_json(inc);

		return o && cJSON_AddItemToArray(w->arr, o) ? 0 : -ENOMEM;
	}
	ctl_time_text(inc->open_time, opened, sizeof(opened));
	ctl_time_text(inc->close_time, closed, sizeof(closed));
	fprintf(w->ctx->out, "%6llu %-9s %-24s %-24s %-24s %6u %8llu %6u %6u "
		"%s\n", (unsigned long long)inc->id,
		incident_state_name(inc->state), opened,
		inc->close_time ? closed : "-",
		ctl_text_clean(inc->source, src, sizeof(src)), inc->recipients,
		(unsigned long long)inc->bounces, inc->protected_soft,
		inc->held, ctl_text_clean(inc->dest, dst, sizeof(dst)));
	return 0;
}

int cmd_incidents(struct ctl_ctx *ctx, const struct cli_args *a)
{
	struct incidents_walk w;
	const char *fmt_s = NULL;
	struct state *st = NULL;
	MDB_txn *txn = NULL;
	GArray *incs = NULL;
	size_t i;
	guint k;
	int rc = 0;

	memset(&w, 0, sizeof(w));
	w.ctx = ctx;
	w.fmt = CTL_FMT_TEXT;
	for (i = 0; i < a->n_opts; i++) {
		if (a->opts[i].key == CTL_O_OPEN)
			w.open_only = true;
		else if (a->opts[i].key == CTL_O_FORMAT)
			fmt_s = a->opts[i].value;
	}
	rc = ctl_args_none(ctx, a);
	if (rc == 0 && fmt_s)
		rc = ctl_parse_format(ctx, "incidents", fmt_s,
				      CTL_FMT_TEXT | CTL_FMT_JSON, &w.fmt);
	if (rc == 0)
		rc = ctl_read_begin(ctx, &st, &txn);
	if (rc)
		return rc;
	if (w.fmt == CTL_FMT_JSON)
		w.arr = cJSON_CreateArray();
	else
		fprintf(ctx->out, "%6s %-9s %-24s %-24s %-24s %6s %8s %6s %6s "
			"%s\n", "ID", "STATE", "OPENED", "CLOSED", "SOURCE",
			"RCPTS", "BOUNCES", "PROT", "HELD", "DESTINATION");
	incs = g_array_new(FALSE, FALSE, sizeof(struct incident));
	rc = ctl_incidents_gather(st, txn, w.open_only, incs);
	if (rc) {
		rc = ctl_state_error(ctx, "read", rc);
		goto out;
	}
	for (k = 0; k < incs->len; k++) {
		rc = incidents_print(&w, &g_array_index(incs, struct incident,
							 k));
		if (rc) {
			rc = ctl_state_error(ctx, "read", rc);
			goto out;
		}
	}
	if (w.fmt == CTL_FMT_JSON) {
		rc = ctl_json_out(ctx, w.arr);
	} else {
		fprintf(ctx->out, "-- %llu incident%s%s\n",
			(unsigned long long)w.n, w.n == 1 ? "" : "s",
			w.open_only ? " open" : "");
	}
out:
	if (incs)
		g_array_free(incs, TRUE);
	cJSON_Delete(w.arr);
	ctl_read_end(st, txn);
	return rc;
}

/* the held bounces of one incident, for show */
struct held_walk {
	const struct ctl_ctx *ctx;
	bool json;
	cJSON *arr;
	uint64_t n;
};

static int held_cb(const struct incident_held *h, void *arg)
{
	struct held_walk *w = arg;
	char when[40], addr[ADDR_MAX * 4], diag[256];

	w->n++;
	if (w->json) {
		cJSON *o = cJSON_CreateObject();

		if (!o || !cJSON_AddItemToArray(w->arr, o) ||
		    !cJSON_AddItemToObject(o, "address",
					   ctl_json_string(h->addr)) ||
		    !cJSON_AddItemToObject(o, "reason",
					   ctl_json_reason(&h->reason)))
			return -ENOMEM;
		return 0;
	}
	ctl_time_text(h->reason.time, when, sizeof(when));
	fprintf(w->ctx->out, "  %s  %s  %s %s\n",
		ctl_text_clean(h->addr, addr, sizeof(addr)), when,
		h->reason.dsn_status[0] ? h->reason.dsn_status : "-",
		ctl_text_clean(h->reason.dsn_diag, diag, sizeof(diag)));
	return 0;
}

/* incident_id - the ID operand */
static int incident_id(const struct ctl_ctx *ctx, const char *sub,
		       const char *s, uint64_t *id)
{
	char *end;
	unsigned long long v;

	if (!s || !g_ascii_isdigit(*s) ||
	    (v = g_ascii_strtoull(s, &end, 10), *end) || v == 0)
		return ctl_usage(ctx, "incident", "%s: '%s' is not an incident "
				 "id (see bouncectl incidents)", sub,
				 s ? s : "");
	*id = v;
	return 0;
}

static int incident_show(struct ctl_ctx *ctx, uint64_t id,
			 enum ctl_format fmt)
{
	struct held_walk w;
	struct incident inc;
	struct state *st = NULL;
	MDB_txn *txn = NULL;
	cJSON *o = NULL;
	char t[40], buf[INCIDENT_SAMPLE_MAX * 4];
	uint32_t i;
	int rc;

	rc = ctl_read_begin(ctx, &st, &txn);
	if (rc)
		return rc;
	rc = incident_get(st, txn, id, &inc);
	if (rc == -ENOENT || rc == -EINVAL) {
		fprintf(stderr, "%s: incident %llu: no such incident\n",
			ctx->prog, (unsigned long long)id);
		rc = CTL_EXIT_NOADDR;
		goto out;
	}
	if (rc) {
		rc = ctl_state_error(ctx, "read", rc);
		goto out;
	}
	memset(&w, 0, sizeof(w));
	w.ctx = ctx;
	w.json = fmt == CTL_FMT_JSON;
	if (w.json) {
		o = ctl_incident_json(&inc);
		w.arr = o ? cJSON_AddArrayToObject(o, "held_bounces") : NULL;
		if (!w.arr) {
			rc = ctl_state_error(ctx, "read", -ENOMEM);
			goto out;
		}
	} else {
		fprintf(ctx->out, "incident:     %llu (%s)\n",
			(unsigned long long)inc.id,
			incident_state_name(inc.state));
		fprintf(ctx->out, "source:       %s\n",
			ctl_text_clean(inc.source, buf, sizeof(buf)));
		fprintf(ctx->out, "destination:  %s\n",
			ctl_text_clean(inc.dest, buf, sizeof(buf)));
		ctl_time_text(inc.first_time, t, sizeof(t));
		fprintf(ctx->out, "first bounce: %s\n", t);
		ctl_time_text(inc.open_time, t, sizeof(t));
		fprintf(ctx->out, "opened:       %s\n", t);
		ctl_time_text(inc.close_time, t, sizeof(t));
		fprintf(ctx->out, "closed:       %s%s\n", inc.close_time ? t :
			"(open)", inc.recovered ? " (deliveries came back)" :
			"");
		fprintf(ctx->out, "recipients:   %u refused when it opened, "
			"%u protected in all\n", inc.recipients,
			inc.protected_soft);
		fprintf(ctx->out, "bounces:      %llu sender-side of %llu "
			"attempts while open\n",
			(unsigned long long)inc.bounces,
			(unsigned long long)inc.attempts);
		fprintf(ctx->out, "held:         %u hard bounces: %u applied, "
			"%u dropped\n", inc.held, inc.applied, inc.dropped);
		for (i = 0; i < inc.nsamples; i++)
			fprintf(ctx->out, "text:         %s\n",
				ctl_text_clean(inc.samples[i], buf,
					       sizeof(buf)));
		fputs("held now:\n", ctx->out);
	}
	rc = incident_held_foreach(st, txn, id, held_cb, &w);
	if (rc) {
		rc = ctl_state_error(ctx, "read", rc);
		goto out;
	}
	if (w.json)
		rc = ctl_json_out(ctx, o);
	else if (w.n == 0)
		fputs("  (none)\n", ctx->out);
out:
	cJSON_Delete(o);
	ctl_read_end(st, txn);
	return rc;
}

/* the held addresses of an incident, gathered before they are dropped */
/* held_gather_cb - a held bounce, copied, into the GArray ARG */
static int held_gather_cb(const struct incident_held *h, void *arg)
{
	g_array_append_val((GArray *)arg, *h);
	return 0;
}

/* what one release or discard does, in one write transaction */
struct incident_end {
	const struct ctl_ctx *ctx;
	uint64_t id;
	bool release;		/* apply what it holds; else drop it */
	uint32_t n;		/* held bounces applied or dropped */
	uint8_t was;		/* its state before (enum incident_state) */
};

/* incident_end_txn - apply (release) or drop (discard) what the incident
   holds and mark it so (state_write_fn); 0, -ENOENT or -errno */
static int incident_end_txn(struct state *st, MDB_txn *txn, void *arg)
{
	struct incident_end *e = arg;
	const struct config *cfg = e->ctx->cfg;
	struct escalation esc = { cfg->soft_threshold, cfg->soft_min_span,
				  cfg->soft_window, NULL, NULL,
				  cfg->no_escalate_categories };
	GArray *held = g_array_new(FALSE, FALSE, sizeof(struct incident_held));
	struct incident inc;
	uint32_t n = 0;
	guint i;
	int rc;

	e->n = 0;
	rc = incident_get(st, txn, e->id, &inc);
	if (rc == 0)
		rc = incident_held_foreach(st, txn, e->id, held_gather_cb,
					   held);
	for (i = 0; rc == 0 && i < held->len; i++) {
		const struct incident_held *h =
			&g_array_index(held, struct incident_held, i);

		bool applied = false;

		/* a bounce dropped stays on its address, so that reading
		   it again applies nothing */
		if (e->release)
			rc = held_apply(st, cfg, &esc, txn, h, &applied);
		else
			rc = held_drop(st, txn, h, e->id,
				       monitor_source_hash(inc.source),
				       inc.first_time);
		n += !e->release || applied;
		if (rc == 0)
			rc = incident_held_del(st, txn, e->id, h->addr);
		if (rc == -ENOENT)
			rc = 0;
	}
	if (rc == 0) {
		/* a release counts what it applied: a bounce of an address
		   suppressed already (or forgotten since) changes nothing */
		e->n = n;
		e->was = inc.state;
		if (e->release)
			inc.applied += n;
		else
			inc.dropped += n;
		/* an incident that ended already keeps its word (closed by
		   the monitor: what it held was applied then): only what it
		   still holds is settled */
		if (inc.state == INCIDENT_ST_OPEN) {
			/* closed where the monitor closes a quiet one: its
			   last sender-side bounce and [incidents] quiet, in
			   record time (not the wall clock's now: a backlog's
			   records are days old).  The soft bounces the ingest
			   kept from counting while it was open stay so for
			   reevaluate; closed at the last bounce itself, those
			   after it escalated there */
			if (!inc.close_time)
				inc.close_time = (inc.last_bounce > inc.first_time ?
							  inc.last_bounce :
							  inc.first_time) +
						 cfg->incident_quiet;
			inc.state = e->release ? INCIDENT_ST_RELEASED :
						 INCIDENT_ST_DISCARDED;
			/* it protects no one from now on */
			rc = incident_rcpts_del(st, txn, e->id);
			/* ended here, not by the monitor (which says nothing
			   of one it finds ended): its incident.closed for the
			   webhooks, its mail item and its count */
			if (rc == 0)
				rc = monitor_event_incident_queue(
					st, txn, cfg, &inc, false,
					g_get_real_time() / 1000, NULL);
			if (rc == 0)
				rc = state_meta_add_u64(st, txn,
							"count.incident.closed",
							1);
			/* a running worker reads its open incidents again
			   at its next commit (monitor_seal_refresh) */
			if (rc == 0)
				rc = state_meta_add_u64(st, txn,
							"incident.operator", 1);
		}
		if (rc == 0)
			rc = held->len || e->was == INCIDENT_ST_OPEN ?
				     incident_put(st, txn, &inc) :
				     1;	/* nothing to write */
	}
	g_array_free(held, TRUE);
	return rc;
}

/* incident_end - bouncectl incident release|discard ID */
static int incident_end(struct ctl_ctx *ctx, uint64_t id, bool release)
{
	struct incident_end e = { ctx, id, release, 0, 0 };
	const char *what = release ? "released" : "discarded";
	struct state *st = NULL;
	int rc;

	rc = ctl_state_open(ctx, true, &st);
	if (rc)
		return rc;
	rc = state_write(st, incident_end_txn, &e);
	if (rc == 1) {
		fprintf(ctx->out, "incident %llu: already %s, nothing held: "
			"unchanged\n", (unsigned long long)id,
			incident_state_name(e.was));
		rc = EXIT_OK;
	} else if (rc == -ENOENT || rc == -EINVAL) {
		fprintf(stderr, "%s: incident %llu: no such incident\n",
			ctx->prog, (unsigned long long)id);
		rc = CTL_EXIT_NOADDR;
	} else if (rc) {
		rc = ctl_state_error(ctx, "write", rc);
	} else {
		log_info("bouncectl", "incident %llu %s: %u held hard bounces "
			 "%s", (unsigned long long)id, what, e.n,
			 release ? "applied" : "dropped");
		fprintf(ctx->out, "incident %llu: %s, %u held hard bounce%s "
			"%s\n", (unsigned long long)id, what, e.n,
			e.n == 1 ? "" : "s", release ? "applied" : "dropped");
	}
	state_close(st);
	return rc;
}

int cmd_incident(struct ctl_ctx *ctx, const struct cli_args *a)
{
	enum ctl_format fmt = CTL_FMT_TEXT;
	const char *sub;
	uint64_t id = 0;
	bool show;
	size_t i;
	int rc = 0;

	if (a->n_operands != 2)
		return ctl_usage(ctx, "incident", "expected show, release or "
				 "discard and an incident id");
	sub = a->operands[0];
	show = strcmp(sub, "show") == 0;
	if (!show && strcmp(sub, "discard") != 0 &&
	    strcmp(sub, "release") != 0)
		return ctl_usage(ctx, "incident", "'%s': expected show, "
				 "release or discard", sub);
	if (!show && cli_args_count(a, CTL_O_FORMAT) > 0)
		return ctl_usage(ctx, "incident", "--format goes with show "
				 "only (release and discard print one line "
				 "of text)");
	for (i = 0; i < a->n_opts && rc == 0; i++)
		if (a->opts[i].key == CTL_O_FORMAT)
			rc = ctl_parse_format(ctx, "incident",
					      a->opts[i].value,
					      CTL_FMT_TEXT | CTL_FMT_JSON,
					      &fmt);
	if (rc == 0)
		rc = incident_id(ctx, sub, a->operands[1], &id);
	if (rc)
		return rc;
	if (show)
		return incident_show(ctx, id, fmt);
	return incident_end(ctx, id, sub[0] == 'r');
}
