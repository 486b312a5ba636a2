/*
 * rcpt_dropped.c - the held hard bounces an incident did not apply, kept
 * on the recipient record (rcpt_dropped.h).  Pure: no state, no clock.
 */
#include <string.h>

#include "rcpt_dropped.h"

uint32_t rcpt_dropped_count(const struct rcpt *r)
{
	return r->n_dropped < RCPT_DROPPED_MAX ? r->n_dropped :
						  RCPT_DROPPED_MAX;
}

/* rcpt_dropped_meet - do spans A and B, of one source, meet? */
static bool rcpt_dropped_meet(const struct rcpt_dropped *a,
			      const struct rcpt_dropped *b)
{
	return a->src == b->src && a->from <= b->to && b->from <= a->to;
}

/* rcpt_dropped_join - B into A (they meet) */
static void rcpt_dropped_join(struct rcpt_dropped *a,
			      const struct rcpt_dropped *b)
{
	if (b->from < a->from)
		a->from = b->from;
	if (b->to > a->to)
		a->to = b->to;
	if (b->incident > a->incident)
		a->incident = b->incident;
}

/* rcpt_dropped_remove - span I of R gone, the last one in its place */
static void rcpt_dropped_remove(struct rcpt *r, uint32_t i)
{
	uint32_t n = rcpt_dropped_count(r);

	/* copied whole, padding too: records compare byte for byte */
	if (i + 1 < n)
		memcpy(&r->dropped[i], &r->dropped[n - 1],
		       sizeof(r->dropped[i]));
	memset(&r->dropped[n - 1], 0, sizeof(r->dropped[n - 1]));
	r->n_dropped = n - 1;
}

bool rcpt_dropped_add(struct rcpt *r, uint64_t id, uint32_t src,
		      int64_t from, int64_t t)
{
	struct rcpt_dropped d;
	uint32_t i, n = rcpt_dropped_count(r), first;

	if (src == 0)
		return false;
	memset(&d, 0, sizeof(d));
	d.incident = id;
	d.src = src;
	d.from = from < t ? from : t;	/* a hold read late may be older */
	d.to = t;
	for (i = 0; i < n; i++) {
		const struct rcpt_dropped *x = &r->dropped[i];

		if (x->src == src && x->from <= d.from && d.to <= x->to &&
		    x->incident >= id)
			return false;	/* covered already */
	}
	/* every span of the source it meets joins it (it may bridge two),
	   and takes the place of the first */
	for (i = 0; i < n;) {
		if (rcpt_dropped_meet(&r->dropped[i], &d)) {
			rcpt_dropped_join(&d, &r->dropped[i]);
			rcpt_dropped_remove(r, i);
			n--;
		} else {
			i++;
		}
	}
	if (n == RCPT_DROPPED_MAX) {
		/* no room: the span that ends first goes */
		for (first = 0, i = 1; i < n; i++)
			if (r->dropped[i].to < r->dropped[first].to)
				first = i;
		rcpt_dropped_remove(r, first);
		n--;
	}
	memcpy(&r->dropped[n], &d, sizeof(d));
	r->n_dropped = n + 1;
	return true;
}

bool rcpt_dropped_covers(const struct rcpt *r, uint32_t src, int64_t t)
{
	uint32_t i, n = rcpt_dropped_count(r);

	if (src == 0)
		return false;
	for (i = 0; i < n; i++)
		if (r->dropped[i].src == src && r->dropped[i].from <= t &&
		    t <= r->dropped[i].to)
			return true;
	return false;
}

enum rcpt_outcome rcpt_dropped_apply(struct rcpt *r, const struct event *ev)
{
	if (ev->time && (r->first_seen == 0 || ev->time < r->first_seen))
		r->first_seen = ev->time;
	if (ev->time > r->updated)
		r->updated = ev->time;
	r->cnt_hard++;
	rcpt_set_str(r->last_category, sizeof(r->last_category),
		     ev->bounce_cat);
	r->cnt_duplicate++;
	return OUT_DUPLICATE;
}
