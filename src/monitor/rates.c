/*
 * rates.c - live counts per campaign, destination, source and sender over
 * sliding windows, and the [alerts] rules judged on them (rates.h).
 *
 * A name's memory is one block: the name, a ring of RATES_MINUTES minute
 * slots, a ring of hour slots (the longest rule, at least a day), one
 * running sum per distinct rule window of its dimension, and the causes
 * of its last two hours.  Moving a ring forward subtracts, from each
 * window's sum, the slot that leaves it; a record adds to its slots and to
 * the sums of the windows it falls in.  Nothing here touches the disk.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <glib.h>

#include "name_cache.h"
#include "bigmem.h"
#include "classify.h"
#include "rates.h"

#define RATES_DAY 86400

/* the causes counted for alerts: PowerMTA's bounce categories
   (classify_cat_names, "other" the last of them: anything else), then
   complaints */
#define RATES_NCAUSES (CLASSIFY_CATS + 1)
#define RATES_CAUSE_OTHER (CLASSIFY_CATS - 1)
#define RATES_CAUSE_COMPLAINT CLASSIFY_CATS

/* rn_cause_name - the name of cause I */
static const char *rn_cause_name(size_t i)
{
	return i < CLASSIFY_CATS ? classify_cat_names[i] : "complaint";
}

/* a rule window: the last K minutes, or the last K hours */
struct rates_win {
	bool hour;
	int64_t k;
};

struct rates_name {
	char name[RATES_NAME_MAX + 1];
	enum alert_dimension dim;
	int64_t day;		/* the day it was last admitted */
	int64_t min_head;	/* minute of the newest minute slot, 0: none */
	int64_t hour_head;
	uint64_t raised;	/* a bit per rule */
	/* the verdicts of the last judge hold for every delivery added in
	   the same minute and hour until the deliveries of a rule's window
	   reach its NEXT (the j-th rule of the dimension); FRESH: judged
	   since the sums last changed otherwise */
	bool fresh;
	uint64_t *next;
	size_t pend;		/* 1 + index of its latest pending delta */
	uint32_t causes[2][RATES_NCAUSES];	/* by hour parity */
	int64_t cause_hour[2];
	uint32_t (*mring)[RATES_COUNTERS];
	uint32_t (*hring)[RATES_COUNTERS];
	uint64_t (*sums)[RATES_COUNTERS];	/* per window of the dim */
};

/* what a record of one kind (RATES_DELIVERY..RATES_COMPLAINT, sender-side
   or not) adds: its counters, those of them that are not 0, and each
   metric's numerator and denominator of the record alone */
struct rn_kind {
	uint32_t c[RATES_COUNTERS];
	unsigned nz[2], nnz;
	uint64_t num[ALERT_METRICS], den[ALERT_METRICS];
};

struct rates {
	unsigned top;
	struct rn_kind kinds[RATES_COMPLAINT + 1][2];	/* rn_kinds_make */
	struct alert_rule rules[ALERT_RULES_MAX];
	size_t nrules;
	/* per dimension: its distinct windows and its rules */
	struct rates_win win[ALERT_DIMENSIONS][ALERT_RULES_MAX];
	size_t nwin[ALERT_DIMENSIONS];
	size_t rule_win[ALERT_RULES_MAX];
	size_t dim_rules[ALERT_DIMENSIONS][ALERT_RULES_MAX];
	size_t ndim_rules[ALERT_DIMENSIONS];
	int64_t hours;		/* hour slots per name */
	GHashTable *names[ALERT_DIMENSIONS];	/* name -> rates_name */
	/* a record's name as written -> its entry of names (cleared when
	   an entry is forgotten) */
	struct name_cache cache[ALERT_DIMENSIONS];
	/* the entry of names the last lookup of each dimension found (a
	   campaign, a source, a sender come many records in a row);
	   cleared with the cache */
	struct rates_name *last[ALERT_DIMENSIONS];
	struct rates_name *other[ALERT_DIMENSIONS];
	unsigned admitted[ALERT_DIMENSIONS];	/* names admitted on DAY */
	int64_t day, now;
	GArray *trans;		/* struct rates_transition */
	struct bigarr pending;	/* struct rates_delta: a delta per name and
				   minute, about as many as the records of a
				   batch spread over days: on huge pages */
};

static void rn_free(gpointer p)
{
	g_free(p);
}

static void rn_kinds_make(struct rates *r);

struct rates *rates_new(const struct rates_params *p,
			const struct alert_rule *rules, size_t nrules)
{
	struct rates *r = g_new0(struct rates, 1);
	size_t i, w, d;

	r->top = p && p->top ? p->top : RATES_TOP_DEFAULT;
	r->hours = 24;
	rn_kinds_make(r);
	if (nrules > ALERT_RULES_MAX)
		nrules = ALERT_RULES_MAX;
	memcpy(r->rules, rules, nrules * sizeof(*rules));
	r->nrules = nrules;
	for (i = 0; i < nrules; i++) {
		struct rates_win win;

		d = rules[i].dim;
		win.hour = rules[i].over > 3600;
		win.k = win.hour ? (rules[i].over + 3599) / 3600
				 : (rules[i].over + 59) / 60;
		if (!win.hour && win.k > RATES_MINUTES)
			win.k = RATES_MINUTES;
		if (win.hour && win.k > r->hours)
			r->hours = win.k;
		for (w = 0; w < r->nwin[d]; w++)
			if (r->win[d][w].hour == win.hour &&
			    r->win[d][w].k == win.k)
				break;
		if (w == r->nwin[d])
			r->win[d][r->nwin[d]++] = win;
		r->rule_win[i] = w;
		r->dim_rules[d][r->ndim_rules[d]++] = i;
	}
	for (d = 0; d < ALERT_DIMENSIONS; d++)
		r->names[d] = g_hash_table_new_full(g_str_hash, g_str_equal,
						    NULL, rn_free);
	r->trans = g_array_new(FALSE, FALSE, sizeof(struct rates_transition));
	r->pending.elem = sizeof(struct rates_delta);
	return r;
}

void rates_free(struct rates *r)
{
	size_t d;

	if (!r)
		return;
	for (d = 0; d < ALERT_DIMENSIONS; d++) {
		g_hash_table_destroy(r->names[d]);
		g_free(r->other[d]);
	}
	g_array_free(r->trans, TRUE);
	bigarr_free(&r->pending);
	g_free(r);
}

bool rates_name_clean(const char *name, char *out)
{
	size_t i;

	for (i = 0; name && name[i] && i < RATES_NAME_MAX; i++) {
		unsigned char c = (unsigned char)name[i];

		out[i] = c > 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[i] = '\0';
	return i > 0;
}

/* rn_new - a name's block, rings and sums zero */
static struct rates_name *rn_new(struct rates *r, enum alert_dimension dim,
				 const char *clean)
{
	size_t msz = RATES_MINUTES * sizeof(uint32_t[RATES_COUNTERS]);
	size_t hsz = (size_t)r->hours * sizeof(uint32_t[RATES_COUNTERS]);
	size_t ssz = (r->nwin[dim] ? r->nwin[dim] : 1) *
		     sizeof(uint64_t[RATES_COUNTERS]);
	size_t xsz = (r->ndim_rules[dim] ? r->ndim_rules[dim] : 1) *
		     sizeof(uint64_t);
	char *block = g_malloc0(sizeof(struct rates_name) + msz + hsz + ssz +
				xsz);
	struct rates_name *n = (struct rates_name *)block;

	g_strlcpy(n->name, clean, sizeof(n->name));
	n->dim = dim;
	n->day = -1;
	n->mring = (void *)(block + sizeof(*n));
	n->hring = (void *)(block + sizeof(*n) + msz);
	n->sums = (void *)(block + sizeof(*n) + msz + hsz);
	n->next = (void *)(block + sizeof(*n) + msz + hsz + ssz);
	return n;
}

static int64_t rn_mod(int64_t x, int64_t m)
{
	int64_t v = x % m;

	return v < 0 ? v + m : v;
}

static void rn_sub(uint64_t *sum, const uint32_t *slot)
{
	int i;

	for (i = 0; i < RATES_COUNTERS; i++)
		sum[i] = sum[i] >= slot[i] ? sum[i] - slot[i] : 0;
}

/* rn_ring_advance - move a ring (SLOTS long, newest at *HEAD) to TO */
static void rn_ring_advance(struct rates *r, struct rates_name *n, bool hour,
			    uint32_t (*ring)[RATES_COUNTERS], int64_t slots,
			    int64_t *head, int64_t to)
{
	size_t w;
	int64_t x;

	if (to <= *head)
		return;
	n->fresh = false;
	if (to - *head >= slots) {
		memset(ring, 0, (size_t)slots * sizeof(*ring));
		for (w = 0; w < r->nwin[n->dim]; w++)
			if (r->win[n->dim][w].hour == hour)
				memset(n->sums[w], 0, sizeof(n->sums[w]));
		*head = to;
		return;
	}
	for (x = *head + 1; x <= to; x++) {
		for (w = 0; w < r->nwin[n->dim]; w++)
			if (r->win[n->dim][w].hour == hour)
				rn_sub(n->sums[w],
				       ring[rn_mod(x - r->win[n->dim][w].k,
						   slots)]);
		memset(ring[rn_mod(x, slots)], 0, sizeof(ring[0]));
	}
	*head = to;
}

/* rn_advance - move both rings of N to MINUTE */
static void rn_advance(struct rates *r, struct rates_name *n, int64_t minute)
{
	if (n->min_head == 0) {
		n->fresh = false;
		n->min_head = minute;
		n->hour_head = minute / 60;
		return;
	}
	rn_ring_advance(r, n, false, n->mring, RATES_MINUTES, &n->min_head,
			minute);
	rn_ring_advance(r, n, true, n->hring, r->hours, &n->hour_head,
			minute / 60);
}

/* rn_ring_add - add C to the slot of AT (if the ring holds it) and to
   the sums of the windows of kind HOUR that AT falls in */
static void rn_ring_add(struct rates *r, struct rates_name *n, bool hour,
			uint32_t (*ring)[RATES_COUNTERS], int64_t slots,
			int64_t head, int64_t at, const uint32_t *c)
{
	size_t w;
	int i;

	n->fresh = false;
	if (at > head || at <= head - slots)
		return;
	for (i = 0; i < RATES_COUNTERS; i++)
		ring[rn_mod(at, slots)][i] += c[i];
	for (w = 0; w < r->nwin[n->dim]; w++)
		if (r->win[n->dim][w].hour == hour &&
		    at > head - r->win[n->dim][w].k)
			for (i = 0; i < RATES_COUNTERS; i++)
				n->sums[w][i] += c[i];
}

static void rn_counts(const uint64_t *s, struct alert_counts *c)
{
	c->deliveries = s[RATES_C_DELIVERIES];
	c->hard = s[RATES_C_HARD];
	c->soft = s[RATES_C_SOFT];
	c->sender = s[RATES_C_SENDER];
	c->complaints = s[RATES_C_COMPLAINTS];
}

/* rn_counts32 - one record's counters C as alert counts */
static void rn_counts32(const uint32_t *c, struct alert_counts *ac)
{
	uint64_t s[RATES_COUNTERS];
	int i;

	for (i = 0; i < RATES_COUNTERS; i++)
		s[i] = c[i];
	rn_counts(s, ac);
}

/* rn_cause_index - the cause of a record of CAUSE (IX: its place as
   classify_event found it, 0: not looked at) */
static size_t rn_cause_index(const char *cause, uint8_t ix, bool complaint)
{
	int i;

	if (complaint)
		return RATES_CAUSE_COMPLAINT;
	if (ix)
		return ix <= CLASSIFY_CATS ? (size_t)(ix - 1) :
					     RATES_CAUSE_OTHER;
	i = classify_cat_index(cause);
	return i < 0 ? RATES_CAUSE_OTHER : (size_t)i;
}

/* rn_causes - the commonest causes of N's last two hours into T */
static void rn_causes(const struct rates_name *n,
		      struct rates_transition *t)
{
	uint64_t sum[RATES_NCAUSES] = { 0 };
	size_t i, j, k;

	for (k = 0; k < 2; k++)
		if (n->cause_hour[k] >= n->hour_head - 1)
			for (i = 0; i < RATES_NCAUSES; i++)
				sum[i] += n->causes[k][i];
	t->ncauses = 0;
	for (j = 0; j < RATES_CAUSES_TOP; j++) {
		size_t best = RATES_NCAUSES;

		for (i = 0; i < RATES_NCAUSES; i++)
			if (sum[i] && (best == RATES_NCAUSES ||
				       sum[i] > sum[best]))
				best = i;
		if (best == RATES_NCAUSES)
			break;
		g_strlcpy(t->causes[j].what, rn_cause_name(best),
			  sizeof(t->causes[j].what));
		t->causes[j].n = sum[best];
		sum[best] = 0;
		t->ncauses++;
	}
}

/* rn_judge_rule - judge the J-th rule of N's dimension; a change is a
   transition at TIME, WHERE:LINE */
static void rn_judge_rule(struct rates *r, struct rates_name *n, size_t j,
			  int64_t time, const char *where, uint64_t line)
{
	size_t i = r->dim_rules[n->dim][j];
	const struct alert_rule *rule = &r->rules[i];
	struct alert_counts c;
	bool was = (n->raised >> i) & 1, up;
	struct rates_transition t;

	rn_counts(n->sums[r->rule_win[i]], &c);
	up = alert_judge(rule, &c, was);
	n->next[j] = alert_next_deliveries(rule, &c, up);
	if (up == was)
		return;
	n->raised ^= (uint64_t)1 << i;
	memset(&t, 0, sizeof(t));
	t.raised = up;
	t.rule = i;
	t.dim = n->dim;
	g_strlcpy(t.name, n->name, sizeof(t.name));
	t.rate = alert_rate(rule, &c, &t.volume);
	t.counts = c;
	t.time = time;
	g_strlcpy(t.where, where ? where : "", sizeof(t.where));
	t.line = line;
	rn_causes(n, &t);
	g_array_append_val(r->trans, t);
}

/* rn_judge - judge the rules of N's dimension; a change is a transition
   at TIME, WHERE:LINE */
static void rn_judge(struct rates *r, struct rates_name *n, int64_t time,
		     const char *where, uint64_t line)
{
	size_t j;

	for (j = 0; j < r->ndim_rules[n->dim]; j++)
		rn_judge_rule(r, n, j, time, where, line);
	n->fresh = true;
}

/* what one record adds, worked out once for all its dimensions */
struct rn_one {
	const struct rn_kind *k;
	int64_t minute, hour;
	size_t mslot, hslot;	/* their slots in the minute and hour rings */
	size_t cause;
};

/* rn_fast_delta - N's pending delta of MINUTE when a record of that
   minute and HOUR may take a fast way: N judged since its last change,
   the minute and hour its newest (no window moves), its delta of the
   minute made; else NULL */
static struct rates_delta *rn_fast_delta(struct rates *r,
					 struct rates_name *n, int64_t minute,
					 int64_t hour)
{
	struct rates_delta *d;

	if (!n->fresh || minute != n->min_head || hour != n->hour_head ||
	    !n->pend)
		return NULL;
	d = (struct rates_delta *)r->pending.v + (n->pend - 1);
	return d->minute == minute && d->name == n->name ? d : NULL;
}

/* rn_delivery_fast - a delivery (O) of N's newest minute and hour,
   judged since: added to the slots, the sums and the pending delta, and
   only the rules whose verdict it may change judged (rn_judge_rule says
   from which deliveries on); false when it has to take the full way */
static bool rn_delivery_fast(struct rates *r, struct rates_name *n,
			     const struct rn_one *o,
			     const struct rates_record *rec)
{
	struct rates_delta *d;
	size_t w, j;

	d = rn_fast_delta(r, n, o->minute, o->hour);
	if (!d)
		return false;
	/* every window holds the newest minute and hour */
	n->mring[o->mslot][RATES_C_DELIVERIES]++;
	n->hring[o->hslot][RATES_C_DELIVERIES]++;
	for (w = 0; w < r->nwin[n->dim]; w++)
		n->sums[w][RATES_C_DELIVERIES]++;
	d->c[RATES_C_DELIVERIES]++;
	for (j = 0; j < r->ndim_rules[n->dim]; j++)
		if (n->sums[r->rule_win[r->dim_rules[n->dim][j]]]
			   [RATES_C_DELIVERIES] >= n->next[j])
			rn_judge_rule(r, n, j, rec->time, rec->where,
				      rec->line);
	return true;
}

/* rates_set_now - T is the latest time seen; a new day resets the
   admissions */
static void rates_set_now(struct rates *r, int64_t t)
{
	if (t <= r->now)
		return;
	r->now = t;
	if (t / RATES_DAY != r->day) {
		r->day = t / RATES_DAY;
		memset(r->admitted, 0, sizeof(r->admitted));
	}
}

/* rn_other - the "(other)" name of DIM */
static struct rates_name *rn_other(struct rates *r, enum alert_dimension dim)
{
	if (!r->other[dim])
		r->other[dim] = rn_new(r, dim, RATES_OTHER);
	return r->other[dim];
}

/* rn_lookup - the name NAME of DIM as counted for a record of DAY: itself
   when admitted (or admissible) today, else "(other)".  A name first
   seen in a late record of a past day is admitted for today.  RESTORE:
   the name was admitted on DAY before a restart (the store holds it);
   it counts against today's admissions only when DAY is today. */
static struct rates_name *rn_lookup(struct rates *r,
				    enum alert_dimension dim,
				    const char *name, int64_t day,
				    bool restore)
{
	size_t len = strlen(name);
	uint64_t h;
	struct rates_name *n = NULL;
	char clean[RATES_NAME_MAX + 1];
	void *hit;
	bool cached = false;

	clean[0] = '\0';
	h = len ? name_cache_hash(name, len) : 0;
	if (len && name_cache_get(&r->cache[dim], name, len, h, &hit)) {
		n = hit;
		cached = n != NULL;
	}
	if (!n)
		n = g_hash_table_lookup(r->names[dim], name);
	if (!n) {
		if (!rates_name_clean(name, clean))
			return NULL;
		n = g_hash_table_lookup(r->names[dim], clean);
	}
	if (n && !cached)	/* a hit is in the cache already */
		name_cache_put(&r->cache[dim], name, len, h, n);
	if (n)
		r->last[dim] = n;
	if (n && (n->day >= day || (day < r->day && !restore)))
		return n;	/* admitted, or a late record of a past day */
	if (!n && strcmp(clean, RATES_OTHER) == 0)
		return rn_other(r, dim);
	if (restore && day < r->day) {
		if (!n) {
			n = rn_new(r, dim, clean);
			g_hash_table_insert(r->names[dim], n->name, n);
		}
		if (n->day < day)
			n->day = day;
		return n;
	}
	/* a name whose alert is raised is admitted whatever the others:
	   in "(other)" it would stay raised for good, judged no more */
	if (r->admitted[dim] >= r->top && !(n && n->raised))
		return rn_other(r, dim);
	if (!n) {
		n = rn_new(r, dim, clean);
		g_hash_table_insert(r->names[dim], n->name, n);
	}
	n->day = r->day;
	r->admitted[dim]++;
	return n;
}

/* rn_get - rn_lookup, the entry the last lookup of DIM found first (a
   campaign, a source, a sender come many records in a row), without a
   call when it is the name as written and admitted */
static inline struct rates_name *rn_get(struct rates *r,
					enum alert_dimension dim,
					const char *name, int64_t day,
					bool restore)
{
	struct rates_name *n = r->last[dim];

	if (n && strcmp(n->name, name) == 0 &&
	    (n->day >= day || (day < r->day && !restore)))
		return n;
	return rn_lookup(r, dim, name, day, restore);
}

/* rn_pending - add C of MINUTE to N's pending deltas */
static void rn_pending(struct rates *r, struct rates_name *n, int64_t minute,
		       const uint32_t *c)
{
	struct rates_delta *d = NULL;
	int i;

	if (n->pend) {
		d = (struct rates_delta *)r->pending.v + (n->pend - 1);
		if (d->minute != minute || d->name != n->name)
			d = NULL;
	}
	if (!d) {
		/* out of memory here is GLib's (g_malloc's) answer too */
		if (bigarr_room(&r->pending, 1) != 0)
			g_error("rates: out of memory for %zu deltas",
				r->pending.len + 1);
		d = (struct rates_delta *)r->pending.v + r->pending.len++;
		memset(d, 0, sizeof(*d));
		d->dim = n->dim;
		d->name = n->name;
		d->minute = minute;
		n->pend = r->pending.len;
	}
	for (i = 0; i < RATES_COUNTERS; i++)
		d->c[i] += c[i];
}

/* rn_cause_add - one record of CAUSE in N's causes of HOUR */
static void rn_cause_add(struct rates_name *n, int64_t hour, size_t cause)
{
	size_t k = (size_t)(hour & 1);

	if (n->cause_hour[k] != hour) {
		memset(n->causes[k], 0, sizeof(n->causes[k]));
		n->cause_hour[k] = hour;
	}
	n->causes[k][cause]++;
}

/* rn_bounce_fast - a bounce (O) of N's newest minute and hour, judged
   since: added to the slots, the sums, the causes and the pending delta,
   and only the rules it counts in judged: by the metric's parts (O's
   numerators and denominators), a rate whose numerator and denominator
   the bounce is in neither of (a complaint rate, over deliveries) keeps
   its verdict and its next judge; one it is in the denominator only of
   (a soft bounce for the bounce rate) moves as with a delivery, and is
   judged as the deliveries' fast way judges it.  False when it has to
   take the full way */
static bool rn_bounce_fast(struct rates *r, struct rates_name *n,
			   const struct rn_one *o,
			   const struct rates_record *rec)
{
	struct rates_delta *d;
	uint64_t num, den;
	size_t w, j;
	unsigned k;

	d = rn_fast_delta(r, n, o->minute, o->hour);
	if (!d)
		return false;
	/* every window holds the newest minute and hour */
	for (k = 0; k < o->k->nnz; k++) {
		unsigned i = o->k->nz[k];

		n->mring[o->mslot][i] += o->k->c[i];
		n->hring[o->hslot][i] += o->k->c[i];
		for (w = 0; w < r->nwin[n->dim]; w++)
			n->sums[w][i] += o->k->c[i];
		d->c[i] += o->k->c[i];
	}
	rn_cause_add(n, o->hour, o->cause);
	for (j = 0; j < r->ndim_rules[n->dim]; j++) {
		size_t ri = r->dim_rules[n->dim][j];
		unsigned m = r->rules[ri].metric;

		if (m >= ALERT_METRICS)	/* alert_parts reads it so */
			m = ALERT_SENDER_RATE;
		num = o->k->num[m];
		den = o->k->den[m];
		if (num == 0 && den == 0)
			continue;	/* its rate does not move */
		if (num == 0) {
			/* in the volume only, as a delivery is: the bound
			   of alert_next_deliveries is a volume less what of
			   it is no deliveries, DEN more now */
			if (n->next[j] != UINT64_MAX)
				n->next[j] = n->next[j] > den ?
						     n->next[j] - den : 0;
			if (n->sums[r->rule_win[ri]][RATES_C_DELIVERIES] <
			    n->next[j])
				continue;
		}
		rn_judge_rule(r, n, j, rec->time, rec->where, rec->line);
	}
	return true;
}

/* rn_kinds_make - R's table of what a record of each kind adds */
static void rn_kinds_make(struct rates *r)
{
	static const unsigned counter[RATES_COMPLAINT + 1] = {
		[RATES_DELIVERY] = RATES_C_DELIVERIES,
		[RATES_HARD] = RATES_C_HARD,
		[RATES_SOFT] = RATES_C_SOFT,
		[RATES_COMPLAINT] = RATES_C_COMPLAINTS,
	};
	struct alert_counts ac;
	unsigned w, sender, i;

	for (w = 0; w <= RATES_COMPLAINT; w++)
		for (sender = 0; sender < 2; sender++) {
			struct rn_kind *k = &r->kinds[w][sender];

			k->c[counter[w]] = 1;
			if (sender)
				k->c[RATES_C_SENDER] = 1;
			for (i = 0; i < RATES_COUNTERS; i++)
				if (k->c[i] && k->nnz < G_N_ELEMENTS(k->nz))
					k->nz[k->nnz++] = i;
			rn_counts32(k->c, &ac);
			for (i = 0; i < ALERT_METRICS; i++)
				alert_metric_parts((enum alert_metric)i, &ac,
						   &k->num[i], &k->den[i]);
		}
}

/* rn_one_make - O for record REC */
static void rn_one_make(const struct rates *r, const struct rates_record *rec,
			struct rn_one *o)
{
	/* anything else counts as a complaint; only a bounce is
	   sender-side */
	unsigned w = rec->what <= RATES_COMPLAINT ? (unsigned)rec->what :
						    RATES_COMPLAINT;
	bool sender = rec->sender_side && (rec->what == RATES_HARD ||
					   rec->what == RATES_SOFT);

	o->k = &r->kinds[w][sender];
	o->minute = rec->time / 60;
	o->hour = o->minute / 60;
	o->mslot = (size_t)rn_mod(o->minute, RATES_MINUTES);
	o->hslot = (size_t)rn_mod(o->hour, r->hours);
	/* the cause is the same in every dimension: found once */
	o->cause = rec->what == RATES_DELIVERY ? RATES_CAUSE_OTHER :
		   rn_cause_index(rec->cause, rec->cause_ix,
				  rec->what == RATES_COMPLAINT);
}

void rates_add(struct rates *r, const struct rates_record *rec)
{
	struct rn_one o;
	int64_t day;
	size_t d;

	if (rec->time <= 0)
		return;
	rn_one_make(r, rec, &o);
	day = rec->time / RATES_DAY;
	rates_set_now(r, rec->time);
	for (d = 0; d < ALERT_DIMENSIONS; d++) {
		struct rates_name *n;

		if (!rec->names[d] || !*rec->names[d])
			continue;
		n = rn_get(r, (enum alert_dimension)d, rec->names[d], day,
			   false);
		if (!n)
			continue;
		if (rec->what == RATES_DELIVERY &&
		    rn_delivery_fast(r, n, &o, rec))
			continue;
		if ((rec->what == RATES_HARD || rec->what == RATES_SOFT) &&
		    rn_bounce_fast(r, n, &o, rec))
			continue;
		rn_advance(r, n, o.minute);
		rn_ring_add(r, n, false, n->mring, RATES_MINUTES, n->min_head,
			    o.minute, o.k->c);
		rn_ring_add(r, n, true, n->hring, r->hours, n->hour_head,
			    o.hour, o.k->c);
		if (rec->what != RATES_DELIVERY && o.hour >= n->hour_head - 1)
			rn_cause_add(n, o.hour, o.cause);
		rn_pending(r, n, o.minute, o.k->c);
		rn_judge(r, n, rec->time, rec->where, rec->line);
	}
}

/* rn_idle - whether N can be forgotten at minute NOW_MIN */
static bool rn_idle(const struct rates *r, const struct rates_name *n,
		    int64_t now_min)
{
	return n->raised == 0 && n->pend == 0 &&
	       n->min_head <= now_min - RATES_MINUTES &&
	       n->hour_head <= now_min / 60 - r->hours;
}

void rates_advance(struct rates *r, int64_t now)
{
	int64_t now_min;
	size_t d;

	rates_set_now(r, now);
	now_min = r->now / 60;
	for (d = 0; d < ALERT_DIMENSIONS; d++) {
		GHashTableIter it;
		gpointer k, v;

		g_hash_table_iter_init(&it, r->names[d]);
		while (g_hash_table_iter_next(&it, &k, &v)) {
			struct rates_name *n = v;

			if (n->raised) {
				rn_advance(r, n, now_min);
				rn_judge(r, n, r->now, NULL, 0);
			}
			if (rn_idle(r, n, now_min)) {
				g_hash_table_iter_remove(&it);
				name_cache_clear(&r->cache[d]);
				r->last[d] = NULL;
			}
		}
		if (r->other[d] && r->other[d]->raised) {
			rn_advance(r, r->other[d], now_min);
			rn_judge(r, r->other[d], r->now, NULL, 0);
		}
	}
}

int64_t rates_hours(const struct rates *r)
{
	return r->hours;
}

int64_t rates_now(const struct rates *r)
{
	return r->now;
}

size_t rates_transitions(const struct rates *r,
			 const struct rates_transition **t)
{
	*t = (const struct rates_transition *)(void *)r->trans->data;
	return r->trans->len;
}

void rates_transitions_clear(struct rates *r)
{
	g_array_set_size(r->trans, 0);
}

size_t rates_pending(const struct rates *r, const struct rates_delta **d)
{
	*d = (const struct rates_delta *)r->pending.v;
	return r->pending.len;
}

void rates_pending_swap(struct rates *r, struct bigarr *a)
{
	struct bigarr t = r->pending;

	r->pending = *a;
	*a = t;
	rates_pending_clear(r);
}

void rates_pending_clear(struct rates *r)
{
	size_t d;
	GHashTableIter it;
	gpointer k, v;

	r->pending.len = 0;
	for (d = 0; d < ALERT_DIMENSIONS; d++) {
		g_hash_table_iter_init(&it, r->names[d]);
		while (g_hash_table_iter_next(&it, &k, &v))
			((struct rates_name *)v)->pend = 0;
		if (r->other[d])
			r->other[d]->pend = 0;
	}
}

const struct alert_rule *rates_rules(const struct rates *r, size_t *n)
{
	*n = r->nrules;
	return r->rules;
}

/* rn_find - NAME of DIM, "(other)" included; NULL when unknown */
static struct rates_name *rn_find(const struct rates *r,
				  enum alert_dimension dim, const char *name)
{
	if ((unsigned)dim >= ALERT_DIMENSIONS || !name)
		return NULL;
	if (strcmp(name, RATES_OTHER) == 0)
		return r->other[dim];
	return g_hash_table_lookup(r->names[dim], name);
}

bool rates_window(struct rates *r, enum alert_dimension dim,
		  const char *name, int64_t seconds, struct alert_counts *c)
{
	struct rates_name *n = rn_find(r, dim, name);
	uint64_t s[RATES_COUNTERS] = { 0 };
	bool hour = seconds > 3600;
	int64_t slots = hour ? r->hours : RATES_MINUTES;
	int64_t k = hour ? (seconds + 3599) / 3600 : (seconds + 59) / 60;
	int64_t now = hour ? r->now / 3600 : r->now / 60;
	int64_t head, x;
	int i;

	if (!n)
		return false;
	head = hour ? n->hour_head : n->min_head;
	if (k > slots)
		k = slots;
	for (x = now - k + 1; x <= now; x++)
		if (x <= head && x > head - slots)
			for (i = 0; i < RATES_COUNTERS; i++)
				s[i] += (hour ? n->hring : n->mring)
					[rn_mod(x, slots)][i];
	rn_counts(s, c);
	return true;
}

bool rates_raised(const struct rates *r, size_t rule, const char *name)
{
	const struct rates_name *n;

	if (rule >= r->nrules)
		return false;
	n = rn_find(r, r->rules[rule].dim, name);
	return n && ((n->raised >> rule) & 1);
}

void rates_foreach(const struct rates *r, enum alert_dimension dim,
		   rates_name_cb cb, void *arg)
{
	GHashTableIter it;
	gpointer k, v;

	if ((unsigned)dim >= ALERT_DIMENSIONS)
		return;
	g_hash_table_iter_init(&it, r->names[dim]);
	while (g_hash_table_iter_next(&it, &k, &v))
		cb(((struct rates_name *)v)->name, arg);
	if (r->other[dim])
		cb(RATES_OTHER, arg);
}

/* rn_restore_get - NAME of DIM for a restore at time T: created and
   admitted for T's day when there is room */
static struct rates_name *rn_restore_get(struct rates *r,
					 enum alert_dimension dim,
					 const char *name, int64_t t)
{
	char clean[RATES_NAME_MAX + 1];

	if ((unsigned)dim >= ALERT_DIMENSIONS ||
	    !rates_name_clean(name, clean))
		return NULL;
	return rn_get(r, dim, clean, t / RATES_DAY, true);
}

void rates_restore_counts(struct rates *r, enum alert_dimension dim,
			  const char *name, int64_t start, bool hour,
			  const uint32_t c[RATES_COUNTERS])
{
	struct rates_name *n;
	int64_t minute = start / 60;

	if (start <= 0)
		return;
	n = rn_restore_get(r, dim, name, start);
	if (!n)
		return;
	rn_advance(r, n, minute);
	if (hour)
		rn_ring_add(r, n, true, n->hring, r->hours, n->hour_head,
			    minute / 60, c);
	else
		rn_ring_add(r, n, false, n->mring, RATES_MINUTES, n->min_head,
			    minute, c);
}

void rates_restore_now(struct rates *r, int64_t now)
{
	rates_set_now(r, now);
}

void rates_restore_alert(struct rates *r, size_t rule, const char *name)
{
	struct rates_name *n;

	if (rule >= r->nrules)
		return;
	n = rn_find(r, r->rules[rule].dim, name);
	if (!n)
		n = rn_restore_get(r, r->rules[rule].dim, name,
				   r->now > 0 ? r->now : 1);
	if (n) {
		n->raised |= (uint64_t)1 << rule;
		n->fresh = false;
	}
}
