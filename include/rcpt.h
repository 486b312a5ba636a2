/*
 * rcpt.h - the per-recipient state record and its on-disk codec.
 *
 * One record per normalised address in the LMDB table "rcpt".  On disk it
 * is a versioned little-endian byte layout (version byte first, then fixed
 * fields, then length-prefixed strings), never a struct dump, so the layout
 * survives compilers and can be migrated.  Strings are bounded: longer
 * values are truncated on assignment (rcpt_set_str), never on decode.
 */
#ifndef BOUNCED_RCPT_H
#define BOUNCED_RCPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strs_memo.h"

#define RCPT_CODEC_VERSION 4	/* rcpt_encode: compact; 1 (no notice), 2
				   (no soft sources, last delivery, held)
				   and 3 (fixed width, no held bounces
				   dropped) are still read */
#define RCPT_CODEC_STRS 5	/* rcpt_encode_strs: version 4 whose strings
				   may be named by an id of the state's
				   dictionary (state_strs.h) */
#define RCPT_CODEC_LATEST RCPT_CODEC_STRS
#define RCPT_SOFT_MAX 32	/* soft bounce times kept (threshold cap) */
#define RCPT_ACTIONS_MAX 16	/* provider operations and campaign records */
#define RCPT_CATEGORY_MAX 64	/* bytes kept of a category, NUL included */
#define RCPT_DROPPED_MAX 4	/* spans of held bounces not applied */

enum rcpt_status {
	RCPT_ACTIVE = 0,
	RCPT_SOFT = 1,		/* has soft bounces, below the threshold */
	RCPT_HARD = 2,
	RCPT_COMPLAINED = 3,
	RCPT_UNSUBSCRIBED = 4,
};
#define RCPT_STATUS_COUNT 5

/* a record that explains a status: where it came from and what it said */
struct rcpt_reason {
	int64_t time;		/* the record's own time */
	uint8_t kind;		/* enum event_kind */
	uint64_t line;		/* line in source */
	char source[256];	/* file path, "-" for stdin */
	char category[RCPT_CATEGORY_MAX]; /* bounceCat, or feedback type */
	char dsn_status[64];	/* as written: "5.1.1 (bad destination …)" */
	char dsn_diag[512];
	char orig[256];
	char vmta[64];
	char job_id[128];
};

enum rcpt_action_state {
	ACTION_PENDING = 0,
	ACTION_DONE = 1,
	ACTION_DEAD = 2,
	ACTION_DRYRUN = 3,	/* no provider configured: logged only */
};

/* provider operations an action asks for */
enum rcpt_op {
	OP_UNSUBSCRIBE = 1,	/* unsubscribe from every list */
	OP_BOUNCE = 2,		/* record a bounce (hard or soft) */
	OP_COMPLAINT = 3,	/* unsubscribe after a complaint */
	OP_EVENT = 4,		/* post a monitor event (incident, alert):
				   the action's payload, no recipient */
};

/* hard bounces of the address an incident held and did not apply (the
   operator discarded the incident, or a delivery to the address dropped
   them): those of source SRC (monitor_source_hash) timed from FROM to TO,
   record times.  Read again (bounced process --reprocess, a copy of the
   file, a pipe's backup file), such a bounce is a duplicate, not a hard
   bounce to apply */
struct rcpt_dropped {
	uint64_t incident;	/* the latest incident whose holds it covers */
	uint32_t src;		/* never 0 */
	int64_t from, to;	/* FROM <= TO */
};

struct rcpt_action {
	char provider[32];	/* provider name, "dry-run" when none */
	uint8_t op;		/* provider operation (unsubscribe, bounce …) */
	uint8_t state;		/* enum rcpt_action_state */
	int64_t time;		/* when it reached this state (wall clock) */
	uint64_t root;		/* outbox id of the root action (0: none) */
	uint32_t outstanding;	/* actions of this root still in the outbox */
	char campaign_id[64];	/* bounce records: the campaign */
	uint8_t flags;		/* ACTION_F_* of the root action (version 2) */
};

struct rcpt {
	uint8_t status;		/* enum rcpt_status */
	bool escalated;		/* hard because of soft-threshold */
	int64_t status_time;	/* record time the status was reached */
	int64_t updated;	/* record time of the latest event */
	int64_t first_seen;	/* record time of the first event */

	uint32_t n_soft;	/* soft bounce times kept, sorted ascending */
	int64_t soft_times[RCPT_SOFT_MAX];
	/* the source (monitor_source_hash) of each soft time, 0 unknown:
	   a bounce inside an incident of its source never counts */
	uint32_t soft_src[RCPT_SOFT_MAX];
	/* an asynchronous bounce (rb: a DSN for a message the receiving
	   server had accepted): a delivery does not clear it, since an
	   acceptance is what came before it */
	bool soft_async[RCPT_SOFT_MAX];
	int64_t last_delivery;	/* record time of the latest delivery */
	uint64_t held;		/* the incident holding a hard bounce of
				   this address (0: none) */
	uint32_t n_dropped;	/* DROPPED kept (at most RCPT_DROPPED_MAX) */
	struct rcpt_dropped dropped[RCPT_DROPPED_MAX];

	/* events seen, for show and stats */
	uint32_t cnt_hard, cnt_soft, cnt_complaint, cnt_unsub;
	uint32_t cnt_delivery, cnt_duplicate, cnt_other;

	char last_category[RCPT_CATEGORY_MAX]; /* of the latest bounce */
	struct rcpt_reason reason;	/* what made the current status */
	struct rcpt_reason last_soft;	/* the latest soft bounce */

	uint32_t n_actions;
	struct rcpt_action actions[RCPT_ACTIONS_MAX];
	/* the latest thing a provider said the operator must know about
	   this address (a subscriber uid naming another address ...) */
	int64_t notice_time;	/* wall clock; 0 = none */
	char notice[256];
};

/* rcpt_init - an empty active record */
void rcpt_init(struct rcpt *r);

/*
 * rcpt_init_lean - an empty active record as rcpt_init makes it in every
 * field the record holds (scalars, counts, each string's first byte),
 * without clearing the rest: the entries past n_soft, n_actions and
 * n_dropped and the bytes past a string's end keep what R had.  Nothing
 * reads those (the code that shortens a list leaves them so too); for a
 * record the caller fills and writes again, where clearing all of its
 * 5.7 KB would be most of the work.
 */
void rcpt_init_lean(struct rcpt *r);

const char *rcpt_status_name(enum rcpt_status s);
/* rcpt_status_parse - "hard" … -> status, or -1 */
int rcpt_status_parse(const char *name);

/* rcpt_set_str - bounded copy of SRC (may be NULL) into DST of DSTLEN */
void rcpt_set_str(char *dst, size_t dstlen, const char *src);

/*
 * rcpt_encode - R into BUF (CAP bytes); *LEN set to the bytes used.
 * Returns 0, or -ENOBUFS when CAP is too small (RCPT_ENCODED_MAX always fits).
 */
#define RCPT_ENCODED_MAX 8192
int rcpt_encode(const struct rcpt *r, uint8_t *buf, size_t cap, size_t *len);

/*
 * rcpt_encode_v3 - R into BUF in the fixed-width layout version 3, which
 * states written before version 4 hold (tests and tools that make such a
 * state; it has no asynchronous soft bounces nor held bounces dropped,
 * which it leaves out).  Same returns as rcpt_encode.
 */
int rcpt_encode_v3(const struct rcpt *r, uint8_t *buf, size_t cap,
		   size_t *len);

/*
 * rcpt_decode - BUF (LEN bytes) into R.  Returns 0, -EPROTO for an unknown
 * version, or -EINVAL for a truncated or inconsistent record (a version 5
 * record naming a string by id among them: it needs rcpt_decode_strs).
 */
int rcpt_decode(const uint8_t *buf, size_t len, struct rcpt *r);

/* a dictionary of strings (state_strs.h), as the codec sees it */
struct rcpt_strings {
	/* the id of the N bytes at S, or *ID 0 to write them; 0 or -errno
	   (which the encoding then returns) */
	int (*intern)(void *ctx, const char *s, size_t n, uint32_t *id);
	/* the string of ID; 0, -ENOENT (unknown: the record is damaged) or
	   -errno (which the decoding then returns) */
	int (*lookup)(void *ctx, uint32_t id, const char **s, size_t *n);
	void *ctx;
	/* committed strings the encoder looks up itself before calling
	   intern (what intern would answer for them); NULL: none */
	const struct strs_memo *memo;
};

/*
 * rcpt_encode_strs / rcpt_decode_strs - version 5 (RCPT_CODEC_STRS):
 * version 4's layout, each string written as a varint, (ID << 1) | 1 for
 * the string SD names ID, else (LENGTH << 1) and its bytes.  The decoder
 * reads every version.  Returns as rcpt_encode and rcpt_decode, and the
 * dictionary's own errors.
 */
int rcpt_encode_strs(const struct rcpt *r, const struct rcpt_strings *sd,
		     uint8_t *buf, size_t cap, size_t *len);
int rcpt_decode_strs(const uint8_t *buf, size_t len,
		     const struct rcpt_strings *sd, struct rcpt *r);

/*
 * rcpt_decode_lean - rcpt_decode_strs starting a record of version 4 or 5
 * with rcpt_init_lean (older versions, and a failure, with rcpt_init):
 * what the record holds reads the same, what lies past it is R's old
 * content.  Encoded again, it gives the same bytes.
 */
int rcpt_decode_lean(const uint8_t *buf, size_t len,
		     const struct rcpt_strings *sd, struct rcpt *r);

/* the "files" table record: how far a source has been taken */
enum file_status {
	FILE_PARTIAL = 0,	/* taking it, offset is the commit point */
	FILE_DONE = 1,		/* read to its end */
	FILE_FAILED = 2,
};

#define FILE_CODEC_VERSION 1

struct file_rec {
	uint8_t status;		/* enum file_status */
	uint64_t offset;	/* committed byte offset */
	uint64_t lines;		/* lines consumed through offset */
	uint64_t records;	/* records taken */
	uint64_t bad;		/* bad lines */
	uint64_t dev, ino;	/* identity of the file when first seen */
	uint64_t fp_hash;	/* FNV-1a of the first fp_len bytes */
	uint32_t fp_len;
	int64_t started, updated; /* wall clock */
};

#define FILE_ENCODED_MAX 128
int file_rec_encode(const struct file_rec *f, uint8_t *buf, size_t cap,
		    size_t *len);
int file_rec_decode(const uint8_t *buf, size_t len, struct file_rec *f);

#endif
