/*
 * monitor_priv.h - the monitor's insides, shared by monitor.c (feeding,
 * loading, the live incidents) and monitor_seal.c (what a commit writes,
 * taken apart from the live monitor).
 */
#ifndef BOUNCED_MONITOR_PRIV_H
#define BOUNCED_MONITOR_PRIV_H

#include <glib.h>

#include "bigmem.h"
#include "monitor.h"
#include "name_cache.h"
#include "rates_store.h"
#include "u64map.h"

#define MON_DEST_CACHE_MAX 65536

void mon_held_free(gpointer p);
void mon_pending_keep(struct monitor *m);
void mon_pending_forget(struct monitor *m);

/* the slots of the holds of short addresses (MON_HELD_SHORT bytes or
   fewer, most of them): made in chunks and reused, so that holding a
   bounce, which the reading thread does for every hard bounce of an
   incident, asks nothing of the allocator, whose lock it would share
   with the committing thread's LMDB pages.  The monitor's thread alone
   takes and gives slots; the chunks go with the monitor */
#define MON_HELD_SHORT 63
struct mon_held_pool {
	struct mon_held *free;	/* the free slots, linked by next_free */
	GPtrArray *chunks;	/* of MON_HELD_CHUNK slots each */
};

struct mon_incident {
	struct incident inc;	/* as fed (a closed one: as sealed) */
	uint32_t src_hash;
	uint64_t open_gen;	/* the monitor's generation when it opened
				   (0: before this run) */
	uint64_t close_gen;	/* ... when it closed (UINT64_MAX: open) */
	bool dirty;		/* changed since the last seal */
	bool closing;		/* closed since the last seal: release */
	bool opened;		/* opened since the last seal */
	struct u64map *rcpts;	/* open: distinct recipients protected (the
				   address hashes; the values unused) */
	GArray *rcpts_new;	/* open: the hashes RCPTS gained since they
				   were last sealed (uint64_t), for the
				   store (incident_rcpts.h) */
	bool rcpts_stored;	/* the store may hold some of them (loaded,
				   or sealed with some): its end deletes
				   them */
	GHashTable *held;	/* open: address hash (g_int64, the key
				   inside the value) -> its held hard bounce
				   (struct mon_held) */
};

/* a hard bounce an open incident holds, as it stays in memory until the
   incident closes (a block of hours holds tens of thousands): while its
   event is in the batch being read, the caller's reference to it
   (monitor_hold_bind; most holds are released within their batch, and
   nothing of them is copied), else its record encoded as the store keeps
   it (incident_held_encode, a few hundred bytes instead of the 2.6 KB of
   struct incident_held); the address beside it for the release's order.
   One with a reference is also in monitor.pending, which frees it at the
   seal once it left its table (GONE) */
struct mon_held {
	int64_t hash;		/* the address's (mon_hash64): the table's key */
	int64_t time;		/* the bounce's (reason.time) */
	const void *ref;	/* its event's reference, or NULL: */
	uint8_t *rec;		/* the record (NULL: it does not encode) */
	uint32_t len;		/* bytes of REC */
	bool gone;		/* REF set, out of its table: pending's to free */
	/* from the pool of short ones (struct mon_held_pool), and the next
	   free slot there while it is free; NULL: g_malloc's */
	struct mon_held_pool *pool;
	struct mon_held *next_free;
	char data[];		/* the address */
};

/* a held bounce dropped because its address was delivered to while the
   incident was open (decided in reading order, written at the seal: only
   that record goes, not a hold of the address read after the delivery in
   the same batch, which the store has by then) */
struct mon_drop {
	uint64_t id;
	uint32_t src_hash;	/* of the incident's source */
	int64_t first;		/* the incident covers from here */
	struct incident_held h;	/* the held bounce dropped */
};

struct monitor {
	struct monitor_params p;
	struct monitor_hooks h;
	/* the operator's incident edits (meta incident.operator) as the
	   last commit found them: monitor_seal_refresh reads every open
	   incident only when they changed.  The writing thread's alone */
	uint64_t operator_seen;
	char **sender_cats;
	/* those of PowerMTA's categories (classify_cat_names), a bit by
	   place; and whether any other name is among them */
	uint32_t sender_cat_bits;
	bool sender_cats_unlisted;
	struct domain_groups *groups;
	GHashTable *dest_cache;	/* domain -> destination (interned) */
	struct name_cache dest_fast;	/* in front of dest_cache */
	struct incident_detect *detect;
	struct rates *rates;
	GPtrArray *incidents;	/* struct mon_incident *, by id */
	/* the incidents of INCIDENTS that were open (and not closing) when
	   it was last made, and those opened since (appended), in the same
	   order: what a record's feed walks (INCIDENTS also keeps closed
	   ones for a day); made again when an incident is removed
	   (open_dirty) or when many of it closed, its entries checked on
	   use */
	GPtrArray *open;
	/* "SOURCE\037DEST" -> GPtrArray of OPEN's entries of that pair, in
	   OPEN's order: a bounce finds its pair's incident without a walk
	   of OPEN (thousands when a pool of addresses is blocked
	   everywhere); made and appended to with OPEN */
	GHashTable *open_pairs;
	struct name_cache pairs_fast;	/* in front of open_pairs */
	bool open_dirty;
	unsigned open_stale;	/* entries of OPEN closed since it was made */
	uint64_t next_id;	/* the next incident id */
	uint64_t gen;		/* incidents opened or closed this run */
	int64_t now;		/* the newest record time */
	struct monitor_seal *cur; /* monitor_commit's, until committed */
	struct monitor_seal *spare;	/* the last one done, to be reused */
	GArray *drops;		/* struct mon_drop since the last seal */
	GArray *released;	/* struct monitor_release of the last feed */
	GPtrArray *released_held; /* the struct mon_held they point into */
	GPtrArray *pending;	/* struct mon_held bound to a reference since
				   the last seal (monitor_hold_bind) */
	struct mon_held *unbound;	/* the last feed's hold, until bound */
	struct mon_held_pool held_pool;	/* slots of short holds */
	/* a bit for the hash of every address an incident came to hold (a
	   few false bits, never a missing one): a delivery whose bit is
	   clear is held by none and asks no incident; made again from the
	   held tables when a quarter of it is set, and when as many holds
	   left them (released or dropped) as half the bits set: else the
	   bits of addresses held once stay, and every delivery to them
	   walks the open incidents */
	uint64_t *held_bits;
	unsigned held_bits_set;
	unsigned held_gone;	/* holds gone since the bits were made */
	struct state *st;
};

/* an incident as a seal writes it */
struct seal_inc {
	struct incident inc;	/* as sealed */
	struct incident next;	/* as the commit writes it (the releases
				   counted): made again on every try */
	bool opened, closing;
	guint rc_from, rc_n;	/* its new protected recipients: in the
				   seal's RCPTS from RC_FROM, RC_N of them */
	bool rc_stored;		/* the store may hold some (mon_incident's
				   RCPTS_STORED, this seal's counted) */
};

/* the span of an incident, for the soft-bounce check of a commit */
struct seal_span {
	uint64_t id;		/* the incident's */
	uint32_t src_hash;
	char dest[INCIDENT_KEY_MAX];
	int64_t first, close;	/* close: when it closed (if it did) */
	uint64_t open_gen, close_gen;	/* see struct mon_incident */
};

struct monitor_seal {
	struct monitor *m;	/* its groups, params and hooks only */
	struct rates_flush f;	/* pointing into the arrays below */
	struct bigarr deltas;	/* struct rates_delta: the rates' own
				   array, taken (monitor_seal) */
	GArray *trans;		/* struct rates_transition */
	GStringChunk *names;	/* the deltas' names */
	GArray *incs;		/* struct seal_inc */
	GArray *spans;		/* struct seal_span */
	GHashTable *by_pair;	/* "SRCHASH\037DEST" -> GArray of the
				   indices of that pair's spans */
	uint64_t next_id;
	GByteArray *windows;	/* the detector's, when it changed */
	GArray *drops;		/* struct mon_drop */
	GArray *rcpts;		/* uint64_t: the incidents' new protected
				   recipients (struct seal_inc's RC_*) */
};


/* mon_hash64 - FNV-1a of S */
uint64_t mon_hash64(const char *s);

#endif
