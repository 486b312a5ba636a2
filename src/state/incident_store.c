/*
 * incident_store.c - incidents and the hard bounces they hold, in the
 * LMDB tables "incident" and "held" (incident_store.h).  Records are
 * versioned little-endian layouts written with state_codec.h, never struct
 * dumps.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "incident_store.h"
#include "state_codec.h"
#include "rcpt_rules.h"
#include "u64map.h"

#define INCIDENT_CODEC_VERSION 1
#define HELD_CODEC_VERSION 1	/* a held bounce without a spelling */
#define HELD_CODEC_WRITTEN 2	/* ... with the record's spelling after it
				   (written only then: a bounced before it
				   reads every other held bounce) */

#define PUT_STR(w, field) codec_put_cstr((w), (field), sizeof(field))
#define GET_STR(rd, field) codec_get_str((rd), (field), sizeof(field))

static const char *const incident_state_names[] = {
	"open", "closed", "released", "discarded",
};

const char *incident_state_name(enum incident_state s)
{
	return (unsigned)s < 4 ? incident_state_names[s] : "?";
}

int incident_encode(const struct incident *inc, uint8_t *buf, size_t cap,
		    size_t *len)
{
	struct codec_w w = { .p = buf, .cap = cap };
	uint32_t i;

	if (inc->state > INCIDENT_ST_DISCARDED ||
	    inc->nsamples > INCIDENT_SAMPLES)
		return -EINVAL;
	codec_put_u8(&w, INCIDENT_CODEC_VERSION);
	codec_put_u64(&w, inc->id);
	codec_put_u8(&w, inc->state);
	PUT_STR(&w, inc->source);
	PUT_STR(&w, inc->dest);
	codec_put_i64(&w, inc->first_time);
	codec_put_i64(&w, inc->open_time);
	codec_put_i64(&w, inc->close_time);
	codec_put_i64(&w, inc->last_bounce);
	codec_put_u8(&w, inc->recovered ? 1 : 0);
	codec_put_u32(&w, inc->recipients);
	codec_put_u64(&w, inc->bounces);
	codec_put_u64(&w, inc->attempts);
	codec_put_u32(&w, inc->protected_soft);
	codec_put_u32(&w, inc->held);
	codec_put_u32(&w, inc->applied);
	codec_put_u32(&w, inc->dropped);
	codec_put_u8(&w, (uint8_t)inc->nsamples);
	for (i = 0; i < inc->nsamples; i++)
		PUT_STR(&w, inc->samples[i]);
	if (w.overflow)
		return -ENOBUFS;
	*len = w.len;
	return 0;
}

int incident_decode(const uint8_t *buf, size_t len, struct incident *inc)
{
	struct codec_r rd = { .p = buf, .len = len };
	uint8_t v = 0, state = 0, rec = 0, ns = 0;
	int rc = 0;
	uint32_t i;

	memset(inc, 0, sizeof(*inc));
	if (codec_get_u8(&rd, &v))
		return -EINVAL;
	if (v != INCIDENT_CODEC_VERSION)
		return -EPROTO;
	rc |= codec_get_u64(&rd, &inc->id);
	rc |= codec_get_u8(&rd, &state);
	rc |= GET_STR(&rd, inc->source);
	rc |= GET_STR(&rd, inc->dest);
	rc |= codec_get_i64(&rd, &inc->first_time);
	rc |= codec_get_i64(&rd, &inc->open_time);
	rc |= codec_get_i64(&rd, &inc->close_time);
	rc |= codec_get_i64(&rd, &inc->last_bounce);
	rc |= codec_get_u8(&rd, &rec);
	rc |= codec_get_u32(&rd, &inc->recipients);
	rc |= codec_get_u64(&rd, &inc->bounces);
	rc |= codec_get_u64(&rd, &inc->attempts);
	rc |= codec_get_u32(&rd, &inc->protected_soft);
	rc |= codec_get_u32(&rd, &inc->held);
	rc |= codec_get_u32(&rd, &inc->applied);
	rc |= codec_get_u32(&rd, &inc->dropped);
	rc |= codec_get_u8(&rd, &ns);
	if (rc || state > INCIDENT_ST_DISCARDED || rec > 1 ||
	    ns > INCIDENT_SAMPLES)
		goto fail;
	inc->state = state;
	inc->recovered = rec != 0;
	inc->nsamples = ns;
	for (i = 0; i < ns; i++)
		if (GET_STR(&rd, inc->samples[i]))
			goto fail;
	if (rd.pos != rd.len)
		goto fail;
	return 0;
fail:
	memset(inc, 0, sizeof(*inc));
	return -EINVAL;
}

int incident_held_encode(const struct incident_held *h, uint8_t *buf,
			 size_t cap, size_t *len)
{
	struct codec_w w = { .p = buf, .cap = cap };

	codec_put_u8(&w, h->rcpt_written[0] ? HELD_CODEC_WRITTEN :
					       HELD_CODEC_VERSION);
	PUT_STR(&w, h->addr);
	codec_put_u8(&w, h->klass);
	rcpt_reason_put(&w, &h->reason);
	PUT_STR(&w, h->mw_subscriber_uid);
	PUT_STR(&w, h->list_id);
	PUT_STR(&w, h->iem_list_id);
	PUT_STR(&w, h->iem_subscriber_id);
	if (h->rcpt_written[0])
		PUT_STR(&w, h->rcpt_written);
	if (w.overflow)
		return -ENOBUFS;
	*len = w.len;
	return 0;
}

int incident_held_decode(const uint8_t *buf, size_t len,
			 struct incident_held *h)
{
	struct codec_r rd = { .p = buf, .len = len };
	uint8_t v = 0;
	int rc = 0;

	memset(h, 0, sizeof(*h));
	if (codec_get_u8(&rd, &v))
		return -EINVAL;
	if (v != HELD_CODEC_VERSION && v != HELD_CODEC_WRITTEN)
		return -EPROTO;
	rc |= GET_STR(&rd, h->addr);
	rc |= codec_get_u8(&rd, &h->klass);
	rc |= rcpt_reason_get(&rd, &h->reason) ? -1 : 0;
	rc |= GET_STR(&rd, h->mw_subscriber_uid);
	rc |= GET_STR(&rd, h->list_id);
	rc |= GET_STR(&rd, h->iem_list_id);
	rc |= GET_STR(&rd, h->iem_subscriber_id);
	if (v == HELD_CODEC_WRITTEN) {
		rc |= GET_STR(&rd, h->rcpt_written);
		/* the address itself, in other capitals */
		if (!h->rcpt_written[0] ||
		    g_ascii_strcasecmp(h->rcpt_written, h->addr) != 0)
			rc = -1;
	}
	if (rc || rd.pos != rd.len || !h->addr[0]) {
		memset(h, 0, sizeof(*h));
		return -EINVAL;
	}
	return 0;
}

int incident_put(struct state *st, MDB_txn *txn, struct incident *inc)
{
	uint8_t key[8], buf[INCIDENT_ENCODED_MAX];
	MDB_val k = { sizeof(key), key }, v;
	size_t len;
	MDB_dbi dbi;
	int rc;

	rc = state_dbi(st, "incident", &dbi);
	if (rc)
		return rc;
	if (inc->id == 0) {
		uint64_t next = 0;

		rc = state_meta_get_u64(st, txn, "incident.next", &next);
		if (rc && rc != -ENOENT)
			return rc;
		inc->id = next ? next : 1;
		rc = state_meta_put_u64(st, txn, "incident.next",
					inc->id + 1);
		if (rc)
			return rc;
	}
	rc = incident_encode(inc, buf, sizeof(buf), &len);
	if (rc)
		return rc;
	codec_be_store(key, inc->id);
	v.mv_size = len;
	v.mv_data = buf;
	return state_mdb_errno(mdb_put(txn, dbi, &k, &v, 0));
}

int incident_get(struct state *st, MDB_txn *txn, uint64_t id,
		 struct incident *inc)
{
	uint8_t key[8];
	MDB_val k = { sizeof(key), key }, v;
	MDB_dbi dbi;
	int rc;

	rc = state_dbi(st, "incident", &dbi);
	if (rc)
		return rc;
	codec_be_store(key, id);
	rc = state_mdb_errno(mdb_get(txn, dbi, &k, &v));
	if (rc)
		return rc;
	return incident_decode(v.mv_data, v.mv_size, inc);
}

int incident_foreach(struct state *st, MDB_txn *txn, incident_cb_t cb,
		     void *arg)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc, mrc;

	rc = state_table_cursor(st, txn, "incident", &cur);
	if (rc || !cur)
		return rc;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct incident inc;

		if (incident_decode(v.mv_data, v.mv_size, &inc) != 0)
			continue;	/* not ours: skipped */
		rc = cb(&inc, arg);
		if (rc)
			break;
	}
	if (rc == 0 && mrc != MDB_NOTFOUND)
		rc = state_mdb_errno(mrc);
	mdb_cursor_close(cur);
	return rc;
}

void incident_add_sample(struct incident *inc, const char *text)
{
	char cut[INCIDENT_SAMPLE_MAX];
	uint32_t i;

	if (!text || !*text || inc->nsamples >= INCIDENT_SAMPLES)
		return;
	rcpt_set_str(cut, sizeof(cut), text);
	for (i = 0; i < inc->nsamples; i++)
		if (strcmp(inc->samples[i], cut) == 0)
			return;
	memcpy(inc->samples[inc->nsamples++], cut, sizeof(cut));
}

/* is_held_key - ID then ADDR into K; its length, 0 when ADDR is empty
   or too long */
static size_t is_held_key(uint8_t *k, uint64_t id, const char *addr)
{
	size_t n = strnlen(addr, ADDR_MAX + 1);

	if (n == 0 || n > ADDR_MAX)
		return 0;
	codec_be_store(k, id);
	memcpy(k + 8, addr, n);
	return 8 + n;
}

/* is_held_at - the "held" table and the key of ADDR held by incident ID
   (KEY holds it); 0, -EINVAL for an address no key can be made of */
static int is_held_at(struct state *st, uint64_t id, const char *addr,
		      uint8_t *key, MDB_dbi *dbi, MDB_val *k)
{
	int rc = state_dbi(st, "held", dbi);

	if (rc)
		return rc;
	k->mv_size = is_held_key(key, id, addr);
	k->mv_data = key;
	return k->mv_size ? 0 : -EINVAL;
}

int incident_hold(struct state *st, MDB_txn *txn, uint64_t id,
		  const struct incident_held *h)
{
	uint8_t key[8 + ADDR_MAX], buf[INCIDENT_HELD_ENCODED_MAX];
	MDB_val k, v;
	size_t len;
	MDB_dbi dbi;
	int rc;

	rc = is_held_at(st, id, h->addr, key, &dbi, &k);
	if (rc)
		return rc;
	rc = incident_held_encode(h, buf, sizeof(buf), &len);
	if (rc)
		return rc;
	v.mv_size = len;
	v.mv_data = buf;
	return state_mdb_errno(mdb_put(txn, dbi, &k, &v, 0));
}

int incident_held_foreach(struct state *st, MDB_txn *txn, uint64_t id,
			  incident_held_cb cb, void *arg)
{
	uint8_t key[8];
	MDB_cursor *cur = NULL;
	MDB_val k = { sizeof(key), key }, v;
	int rc, mrc;

	rc = state_table_cursor(st, txn, "held", &cur);
	if (rc || !cur)
		return rc;
	codec_be_store(key, id);
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct incident_held h;

		if (k.mv_size < 8 || codec_be_load(k.mv_data) != id)
			break;
		if (incident_held_decode(v.mv_data, v.mv_size, &h) != 0)
			continue;
		rc = cb(&h, arg);
		if (rc)
			break;
	}
	if (rc == 0 && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = state_mdb_errno(mrc);
	mdb_cursor_close(cur);
	return rc;
}

int incident_held_ids(struct state *st, MDB_txn *txn, struct u64map *ids)
{
	uint8_t key[8];
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	uint64_t id;
	int rc, mrc;

	rc = state_table_cursor(st, txn, "held", &cur);
	if (rc || !cur)
		return rc;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;) {
		if (k.mv_size < 8) {	/* no key of ours: stepped over */
			mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
			continue;
		}
		id = codec_be_load(k.mv_data);
		u64map_put(ids, id, 1);
		if (id == UINT64_MAX)
			break;
		/* past the ID's addresses: the next ID's first key */
		codec_be_store(key, id + 1);
		k.mv_size = sizeof(key);
		k.mv_data = key;
		mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	}
	if (mrc != 0 && mrc != MDB_NOTFOUND)
		rc = state_mdb_errno(mrc);
	mdb_cursor_close(cur);
	return rc;
}

int incident_held_del(struct state *st, MDB_txn *txn, uint64_t id,
		      const char *addr)
{
	uint8_t key[8 + ADDR_MAX];
	MDB_val k;
	MDB_dbi dbi;
	int rc;

	rc = is_held_at(st, id, addr, key, &dbi, &k);
	if (rc)
		return rc;
	return state_mdb_errno(mdb_del(txn, dbi, &k, NULL));
}

int incident_held_del_same(struct state *st, MDB_txn *txn, uint64_t id,
			   const struct incident_held *h)
{
	uint8_t key[8 + ADDR_MAX];
	struct incident_held was;
	MDB_val k, v;
	MDB_dbi dbi;
	int rc;

	rc = is_held_at(st, id, h->addr, key, &dbi, &k);
	if (rc)
		return rc;
	rc = state_mdb_errno(mdb_get(txn, dbi, &k, &v));
	if (rc)
		return rc;
	/* one that does not decode is no record of ours to keep */
	if (incident_held_decode(v.mv_data, v.mv_size, &was) == 0 &&
	    (was.reason.time != h->reason.time ||
	     was.reason.line != h->reason.line ||
	     strcmp(was.reason.source, h->reason.source) != 0))
		return -ENOENT;
	return state_mdb_errno(mdb_del(txn, dbi, &k, NULL));
}

/* incident_held_id - identifier SRC into DST (DSTLEN bytes) whole, or
   "" when it does not fit: one cut short names something else */
static void incident_held_id(char *dst, size_t dstlen, const char *src)
{
	size_t n = src ? strnlen(src, dstlen) : dstlen;

	dst[0] = '\0';
	if (n < dstlen) {
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
}

void incident_held_from_event(struct incident_held *h,
			      const struct event *ev)
{
	memset(h, 0, sizeof(*h));
	rcpt_set_str(h->addr, sizeof(h->addr), ev->rcpt);
	h->klass = (uint8_t)ev->klass;
	rcpt_reason_from_event(&h->reason, ev);
	incident_held_id(h->mw_subscriber_uid, sizeof(h->mw_subscriber_uid),
			 EVENT_X(ev, mw_subscriber_uid));
	rcpt_set_str(h->list_id, sizeof(h->list_id), EVENT_X(ev, list_id));
	incident_held_id(h->iem_list_id, sizeof(h->iem_list_id),
			 EVENT_X(ev, iem_list_id));
	incident_held_id(h->iem_subscriber_id, sizeof(h->iem_subscriber_id),
			 EVENT_X(ev, iem_subscriber_id));
	if (EVENT_X(ev, rcpt_written) &&
	    g_ascii_strcasecmp(EVENT_X(ev, rcpt_written), h->addr) == 0)
		rcpt_set_str(h->rcpt_written, sizeof(h->rcpt_written),
			     EVENT_X(ev, rcpt_written));
}

int incident_hold_event(struct state *st, MDB_txn *txn, uint64_t id,
			const struct event *ev)
{
	struct incident_held h;

	incident_held_from_event(&h, ev);
	return incident_hold(st, txn, id, &h);
}

void incident_held_event(const struct incident_held *h, struct event *ev,
			 struct event_extra *x)
{
	const struct rcpt_reason *r = &h->reason;

	memset(ev, 0, sizeof(*ev));
	memset(x, 0, sizeof(*x));
	ev->kind = (enum event_kind)r->kind;
	ev->klass = (enum event_class)h->klass;
	ev->time = r->time;
	ev->rcpt = h->addr;
	ev->orig = r->orig;
	ev->bounce_cat = r->category;
	ev->dsn_status = r->dsn_status;
	ev->dsn_diag = r->dsn_diag;
	ev->vmta = r->vmta;
	ev->job_id = r->job_id;
	ev->source = r->source;
	ev->line = r->line;
	x->mw_subscriber_uid = h->mw_subscriber_uid;
	x->list_id = h->list_id;
	x->iem_list_id = h->iem_list_id;
	x->iem_subscriber_id = h->iem_subscriber_id;
	x->rcpt_written = h->rcpt_written[0] ? h->rcpt_written : NULL;
	ev->x = x;
}

