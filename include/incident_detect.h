/*
 * incident_detect.h - tell a sender-side incident from a recipient's own
 * trouble, in memory, from the records as they are read.
 *
 * When a mailbox provider blocks one of our IPs (a blocklist listing, a
 * reputation block, a DMARC failure), every recipient there bounces for a
 * reason that has nothing to do with them.  An incident is such a block
 * seen per *source* (the record's dlvSourceIp, else its vmta) and
 * *destination* (the recipient's domain, grouped: domain_group.h): it
 * opens when, within WINDOW seconds, at least MIN_RECIPIENTS distinct
 * recipients of one destination bounced from one source with a
 * sender-side cause and, when delivery records are read at all, those
 * bounces are at least MIN_SHARE of the attempts (sender-side bounces,
 * other bounces, deliveries); it closes after QUIET seconds without such
 * a bounce, or when deliveries come back with the sender-side share below
 * MIN_SHARE.  docs/CLASSIFY.md explains the model and its defaults.
 *
 * Only record times are used, never the clock, so replaying files gives
 * the same incidents.  Memory per (source, destination) pair: a ring of
 * per-minute counts over the window and the distinct recipients of the
 * window (at most INCIDENT_RCPTS_MAX are tracked: the threshold is far
 * below), pruned as time goes on; pairs idle for longer than the window
 * and the quiet time are dropped.
 *
 * The detector keeps no state of its own on disk: the caller stores the
 * transitions (incident.h) and gives open incidents back with
 * incident_detect_restore() after a restart.
 */
#ifndef BOUNCED_INCIDENT_DETECT_H
#define BOUNCED_INCIDENT_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INCIDENT_RCPTS_MAX 65536	/* distinct recipients tracked per pair */
#define INCIDENT_KEY_MAX 128		/* bytes of a source or destination */
/* incident_pair_key - "SOURCE\037DEST", each part bounded to
   INCIDENT_KEY_MAX bytes, into BUF (2 * INCIDENT_KEY_MAX + 2 bytes); its
   length.  The key of a pair, here and in the monitor's index of open
   incidents. */
size_t incident_pair_key(char *buf, const char *source, const char *dest);

/* a pair's key made once for a record, with its hash (name_cache.h's):
   the detector's table and the monitor's index of open incidents look it
   up alike; LEN 0: not made yet (incident_pair_ref_of makes it where it
   is first needed, so a record that looks up no pair makes none) */
struct incident_pair_ref {
	char key[2 * INCIDENT_KEY_MAX + 2];
	size_t len;
	uint64_t hash;
};

/* incident_pair_ref_of - R, made for SOURCE and DEST unless it was */
const struct incident_pair_ref *incident_pair_ref_of(
	struct incident_pair_ref *r, const char *source, const char *dest);

struct incident_params {
	int64_t window;		/* seconds, default 1800 */
	uint32_t min_recipients;	/* default 10 */
	double min_share;	/* 0..1, default 0.2 */
	int64_t quiet;		/* seconds, default 7200 */
};

/* what one record says about its source and destination */
enum incident_what {
	INCIDENT_SENDER_BOUNCE = 1,	/* a bounce with a sender-side cause */
	INCIDENT_OTHER_BOUNCE,		/* any other bounce: an attempt */
	INCIDENT_DELIVERY,		/* a d record: an attempt */
};

struct incident_input {
	const char *source;	/* dlvSourceIp, else vmta; not empty */
	const char *dest;	/* destination group; not empty */
	int64_t time;		/* the record's own time */
	enum incident_what what;
	uint64_t rcpt_hash;	/* of the recipient (sender-side bounces) */
	/* the caller's room for the key of SOURCE and DEST (made or not,
	   incident_pair_ref), or NULL */
	struct incident_pair_ref *pair;
};

enum incident_change {
	INCIDENT_OPENED = 1,
	INCIDENT_CLOSED,
};

/* an incident opening or closing; strings valid until the next call */
struct incident_transition {
	enum incident_change change;
	const char *source, *dest;
	int64_t first_time;	/* the first sender-side bounce of the window
				   it opened on: the incident covers from here */
	int64_t open_time;	/* the record that crossed the threshold */
	int64_t close_time;	/* CLOSED: the last sender-side bounce + quiet,
				   or the delivery that showed recovery */
	uint32_t recipients;	/* distinct, in the window at opening */
	uint64_t bounces;	/* sender-side bounces while open (+window) */
	uint64_t attempts;	/* bounces and deliveries while open */
	bool recovered;		/* CLOSED by deliveries, not by quiet */
};

/* called for each transition, in record-time order */
typedef void (*incident_cb)(const struct incident_transition *t, void *arg);

struct incident_detect;

/* incident_detect_new - an empty detector; NULL on bad parameters */
struct incident_detect *incident_detect_new(const struct incident_params *p);
void incident_detect_free(struct incident_detect *d);

/*
 * incident_detect_feed - one record; transitions it causes (a pair that
 * was quiet too long closes first, then this record may open one) go to
 * CB.  Records may come slightly out of order: each pair's clock is the
 * newest time it saw, and a record older than its window is counted for
 * nothing but is not an error.
 */
void incident_detect_feed(struct incident_detect *d,
			  const struct incident_input *in, incident_cb cb,
			  void *arg);

/* incident_detect_advance - close every incident quiet since NOW - quiet
   (NOW: the newest record time read), and forget idle pairs */
void incident_detect_advance(struct incident_detect *d, int64_t now,
			     incident_cb cb, void *arg);

/*
 * incident_detect_restore - an incident open before a restart: SOURCE to
 * DEST, opened at OPEN_TIME with FIRST_TIME as its start, its last
 * sender-side bounce at LAST_BOUNCE; no transition is reported for it.
 */
void incident_detect_restore(struct incident_detect *d, const char *source,
			     const char *dest, int64_t first_time,
			     int64_t open_time, int64_t last_bounce);

/*
 * Saving: incident_detect_save appends to OUT what changed since the last
 * save (every pair at the first), and marks the detector clean;
 * incident_detect_dirty says whether a record or time changed it since.
 * The changes, all integers little-endian, "bytes" a u16 length and that
 * many bytes (the head: INCIDENT_SAVE_HEAD bytes):
 *
 *   u8  version (2)
 *   u64 newest delivery, u64 clock, u64 saves so far
 *   u32 pairs forgotten, then each: bytes key ("SOURCE\037DEST")
 *   u32 pairs changed, then each: bytes key, u32 length and the pair's
 *       head (its counts and minutes: what a decision can still see of
 *       its window but the recipients), u64 the window's first second,
 *       u32 recipients, then each: u64 hash, u64 time last seen
 *
 * where a pair's recipients are only those set since its last save: the
 * store keeps them as a log per pair, each save's a record of its own,
 * and drops the records that fell out of the window whole.  A block keeps
 * tens of thousands of recipients in one pair's window, and a pipe
 * commits whenever its writer pauses: each commit writes the recipients
 * that came, not the window.
 * incident_detect_load replaces what the detector holds with the windows
 * of BUF, a save of that form (the store's records gathered: nothing
 * forgotten, each pair's recipients all its records', a recipient written
 * more than once at its newest time) or of version 1 (the whole detector
 * in one piece, the form written before: then every pair counts as
 * changed, and the next save writes them all, with every recipient): 0,
 * or -EINVAL (a damaged or unknown save: the detector starts empty).
 */
#define INCIDENT_SAVE_VERSION 2
#define INCIDENT_SAVE_HEAD 25
#include <glib.h>
void incident_detect_save(struct incident_detect *d, GByteArray *out);
/* incident_detect_reset - the detector as incident_detect_new made it
   (nothing counted, nothing to save) */
void incident_detect_reset(struct incident_detect *d);
bool incident_detect_dirty(const struct incident_detect *d);
int incident_detect_load(struct incident_detect *d, const void *buf,
			 size_t len);

/* incident_detect_open - is SOURCE to DEST in an incident now? */
bool incident_detect_open(const struct incident_detect *d, const char *source,
			  const char *dest);

/* incident_detect_counts - the sender-side bounces and the attempts of
   SOURCE to DEST's incident so far (since the window it opened on) into
   *BOUNCES and *ATTEMPTS; false (nothing set) when none is open */
bool incident_detect_counts(const struct incident_detect *d,
			    const char *source, const char *dest,
			    uint64_t *bounces, uint64_t *attempts);

/* incident_detect_rcpts - the hashes of the distinct recipients of
   SOURCE to DEST's sender-side bounces in the window now (at most MAX
   into OUT); how many */
size_t incident_detect_rcpts(const struct incident_detect *d,
			     const char *source, const char *dest,
			     uint64_t *out, size_t max);

/* incident_detect_pairs - pairs tracked now (for tests and metrics) */
size_t incident_detect_pairs(const struct incident_detect *d);

#endif
