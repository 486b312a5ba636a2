/*
 * incident_store.h - incidents and the hard bounces they hold, in LMDB.
 *
 * Table "incident": key the incident id (u64 big-endian, from the meta
 * counter "incident.next"), value the versioned record below.  Table
 * "held": key the incident id (8 bytes big-endian) then the address, value
 * the hard bounce held: what is needed to apply it later as if it had just
 * been read (the reason, the class, the provider identifiers of the mail;
 * version 2 also the record's spelling of the address when it differs in
 * case, written only then so that every other held bounce keeps the
 * layout of version 1).
 * Incidents are never deleted by bounced; `bouncectl incident discard`
 * only drops what they hold (each address keeps the bounce dropped:
 * held_drop.h).
 */
#ifndef BOUNCED_INCIDENT_STORE_H
#define BOUNCED_INCIDENT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "incident_detect.h"
#include "rcpt.h"
#include "state.h"

#define INCIDENT_SAMPLES 3
#define INCIDENT_SAMPLE_MAX 200		/* bytes kept of a sample text */

enum incident_state {
	INCIDENT_ST_OPEN = 0,
	INCIDENT_ST_CLOSED,	/* its held bounces applied (or none) */
	INCIDENT_ST_RELEASED,	/* closed by the operator: applied */
	INCIDENT_ST_DISCARDED,	/* closed by the operator: held dropped */
};

struct incident {
	uint64_t id;
	uint8_t state;		/* enum incident_state */
	char source[INCIDENT_KEY_MAX];
	char dest[INCIDENT_KEY_MAX];
	int64_t first_time;	/* the incident covers from here */
	int64_t open_time;
	int64_t close_time;	/* 0 while open */
	int64_t last_bounce;	/* the latest sender-side bounce */
	bool recovered;		/* closed by deliveries coming back */
	uint32_t recipients;	/* distinct, at opening */
	uint64_t bounces;	/* sender-side bounces while open */
	uint64_t attempts;
	uint32_t protected_soft;	/* soft bounces kept from counting */
	uint32_t held;		/* hard bounces held */
	uint32_t applied;	/* held ones applied at closing */
	uint32_t dropped;	/* held ones not applied (delivered since,
				   or discarded) */
	uint32_t nsamples;
	char samples[INCIDENT_SAMPLES][INCIDENT_SAMPLE_MAX];
};

/* a hard bounce held by an incident.  The provider ids are kept whole or
   not at all (never cut: "2,24,1" of "2,24,12" names list 1).
   iem_list_id keeps its 32 bytes, not the EVENT_IEM_LIDS_SIZE of an
   event: what is held is the bounce of an address (hard bounces name
   their recipient; only complaints and unsubscribes have "uid:" keys),
   whose lists Interspire finds by the address; an incident holds tens
   of thousands, and a release reads them all into memory */
struct incident_held {
	char addr[ADDR_MAX + 1];
	uint8_t klass;		/* enum event_class */
	struct rcpt_reason reason;
	char mw_subscriber_uid[64];
	char list_id[256];
	char iem_list_id[32];	/* one id, or a few (X-Mailer-LID) */
	char iem_subscriber_id[32];
	/* the record's spelling of ADDR when it differs in ASCII case only
	   (event_extra.rcpt_written), else empty: what a provider comparing
	   addresses exactly is asked with */
	char rcpt_written[ADDR_MAX + 1];
};

/* incident_put - store INC; INC->id 0: a new id is taken and set */
int incident_put(struct state *st, MDB_txn *txn, struct incident *inc);
/* incident_get - incident ID into INC; 0, -ENOENT or -errno */
int incident_get(struct state *st, MDB_txn *txn, uint64_t id,
		 struct incident *inc);

/* incident_foreach - every incident, by id; CB returns 0 to go on */
typedef int (*incident_cb_t)(const struct incident *inc, void *arg);
int incident_foreach(struct state *st, MDB_txn *txn, incident_cb_t cb,
		     void *arg);

/* incident_add_sample - TEXT among INC's samples when it is new and
   there is room (cut to INCIDENT_SAMPLE_MAX) */
void incident_add_sample(struct incident *inc, const char *text);

/* incident_hold - H under incident ID (a second hold of the same address
   replaces the first); 0 or -errno */
int incident_hold(struct state *st, MDB_txn *txn, uint64_t id,
		  const struct incident_held *h);
/* incident_held_foreach - the held bounces of ID, by address */
typedef int (*incident_held_cb)(const struct incident_held *h, void *arg);
int incident_held_foreach(struct state *st, MDB_txn *txn, uint64_t id,
			  incident_held_cb cb, void *arg);
/* incident_held_ids - every incident ID with a held bounce in the table
   into IDS (u64map.h: the ID, value 1), each found by one search from
   the one before; 0 or -errno */
struct u64map;
int incident_held_ids(struct state *st, MDB_txn *txn, struct u64map *ids);
/* incident_held_del - drop ADDR's held bounce under ID; 0, -ENOENT */
int incident_held_del(struct state *st, MDB_txn *txn, uint64_t id,
		      const char *addr);
/* incident_held_del_same - drop H's address's held bounce under ID when
   it is H's record (same source, line and time), not a later hold of the
   address that replaced it; 0, -ENOENT (none, or another record) or
   -errno */
int incident_held_del_same(struct state *st, MDB_txn *txn, uint64_t id,
			   const struct incident_held *h);

/* incident_held_from_event - a held bounce from EV */
void incident_held_from_event(struct incident_held *h,
			      const struct event *ev);

/* incident_hold_event - EV held under incident ID (incident_hold) */
int incident_hold_event(struct state *st, MDB_txn *txn, uint64_t id,
			const struct event *ev);

/* incident_held_event - the event H keeps, into EV and X (pointing into
   H: valid while H is) */
void incident_held_event(const struct incident_held *h, struct event *ev,
			 struct event_extra *x);

const char *incident_state_name(enum incident_state s);

/* the codecs, for tests and fuzzing: 0, -EINVAL, -EPROTO or -ENOBUFS */
#define INCIDENT_ENCODED_MAX 2048
int incident_encode(const struct incident *inc, uint8_t *buf, size_t cap,
		    size_t *len);
int incident_decode(const uint8_t *buf, size_t len, struct incident *inc);
#define INCIDENT_HELD_ENCODED_MAX 4096
int incident_held_encode(const struct incident_held *h, uint8_t *buf,
			 size_t cap, size_t *len);
int incident_held_decode(const uint8_t *buf, size_t len,
			 struct incident_held *h);

#endif
