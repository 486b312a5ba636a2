/*
 * state.h - the LMDB environment under the state directory.
 *
 * Tables (named databases): "rcpt" (address -> struct rcpt), "files"
 * (source key -> struct file_rec), "meta" (name -> value; "schema" holds
 * the schema version, "count.*" hold u64 counters), "outbox" and "dead"
 * (provider actions, see outbox.h), "strs" and "strs_ix" (the strings
 * recipient records share, kept once: state_strs.h).  One writer at a time
 * (LMDB's own lock); readers use read-only transactions and never block the
 * writer.  When the map fills, state_grow() enlarges it; callers abort the
 * transaction, grow, and replay their batch.  Transactions may be open in
 * several threads: every one holds the state's lock shared from
 * state_begin() to state_commit() / state_abort(), and a resize of the map
 * takes it exclusive, waiting for the other threads' transactions to end.
 *
 * Errors are returned as negative errno values, with LMDB's own codes
 * mapped: MDB_MAP_FULL -> -ENOSPC (grow the map), MDB_TXN_FULL -> -E2BIG,
 * MDB_NOTFOUND -> -ENOENT, MDB_MAP_RESIZED handled inside; a full disk
 * (ENOSPC from the file system) is -EIO, never -ENOSPC: growing the map
 * would not help.  state_strerror() explains a code.
 */
#ifndef BOUNCED_STATE_H
#define BOUNCED_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "rcpt.h"

/* 2: recipient records may be of version 4 (rcpt.c), which a bounced of
   schema 1 cannot read: it must refuse the state, not start records anew.
   3: a version 4 record may mark soft bounces asynchronous (rb), which a
   bounced of schema 2 cannot read either.
   4: a version 4 record may keep the held bounces an incident did not
   apply (rcpt_dropped), which a bounced of schema 3 cannot read.
   5: recipient records are of version 5, their strings named in the
   tables "strs" and "strs_ix" (state_strs.h) */
#define STATE_SCHEMA_VERSION 5

struct state;

/*
 * state_open - open (creating it when READONLY is false) the environment in
 * DIR.  Read-only opening of a directory without a database fails with
 * -ENOENT.  Returns 0 or -errno with a message in ERR.
 */
int state_open(struct state **out, const char *dir, bool readonly, char *err,
	       size_t errlen);
void state_close(struct state *st);

/* state_begin - a transaction (WRITE: read-write); 0 or -errno */
int state_begin(struct state *st, bool write, MDB_txn **txn);
/* state_commit - commit (durably); on failure the txn is gone; 0 or -errno */
int state_commit(MDB_txn *txn);
void state_abort(MDB_txn *txn);

/*
 * state_commit_lazy - commit with the data synced and the meta page not
 * waited for (MDB_NOMETASYNC): a crash of the process loses nothing, a
 * crash of the machine may undo this commit but never breaks the state.
 * Only for changes whose loss is harmless to replay, such as provider
 * results (idempotent calls).  The next state_commit() or state_sync()
 * makes it durable.  Commits of the state are serialized around it, so
 * that no other thread's commit is made while its flag is set.
 */
int state_commit_lazy(struct state *st, MDB_txn *txn);
/* state_sync - make lazily committed data durable; 0 or -errno */
int state_sync(struct state *st);

/*
 * state_turn - one small lazy write (meta "state.turns" counted up), made
 * right after a commit that changed much of the state: LMDB gives the
 * pages a transaction freed to writes from two transactions later on, so
 * without it the next commit could not take the pages this one freed and
 * would take new file space for all it changes (a state rewritten by
 * every commit then grows to three copies of itself, and the commits'
 * writes land on file pages the page cache does not hold yet).  Never
 * grows the map (-ENOSPC is answered: the caller may ignore it, nothing
 * is lost).  0 or -errno.
 */
int state_turn(struct state *st);

/*
 * state_write - one write transaction around FN(ST, TXN, ARG): begin,
 * FN, commit (durably).  FN returns 0 to commit, -errno to abort (the
 * error is returned), or a positive value to abort without error
 * (nothing to write, a dry run: the value is returned).  When FN or the
 * commit meets a full map (-ENOSPC), the map is doubled (state_grow) and
 * FN called again in a new transaction, at most STATE_GROW_TRIES times:
 * FN must compute every output afresh on each call, since nothing of an
 * aborted attempt survives in the state.  Growing is logged ("state map
 * grown to N MiB").  Returns 0, FN's positive value, or -errno (-ENOSPC:
 * the map is still full after the last growth; state_strerror() says
 * when it could not grow at all).  Never call with a transaction open.
 */
#define STATE_GROW_TRIES 12	/* doublings per write: 256 MiB -> 1 TiB */
typedef int (*state_write_fn)(struct state *st, MDB_txn *txn, void *arg);
int state_write(struct state *st, state_write_fn fn, void *arg);
/* state_write_lazy - the same, committed with state_commit_lazy() (for
   writes that are safe to replay after a power loss) */
int state_write_lazy(struct state *st, state_write_fn fn, void *arg);
/* state_write_fixed - the same, but a full map is not grown: -ENOSPC, FN
   called once.  For a thread that must not resize the map because
   another may be in a transaction (ingest's committer): the thread that
   gives it its work grows the map (state_grow_logged) and asks again. */
int state_write_fixed(struct state *st, state_write_fn fn, void *arg);
/*
 * state_reserve - before a write of about BYTES of records that may touch
 * any page in use: the map grown (doubled as often as needed, logged like
 * a growth after a full map) until it holds what is in use twice over
 * plus BYTES, so that a large batch is not applied once in vain against a
 * map too small for it.  Resizing the map waits for every transaction of
 * the process to end, not only the caller's: call it where no other thread
 * is likely in one (between two commits of the thread that commits, from
 * the thread that hands it its work), or it waits for them.  0, or
 * state_grow()'s error (the map is then as large as it could be made, and
 * a write may still fit).
 */
int state_reserve(struct state *st, size_t bytes);

/*
 * state_grow - double the map size, once the other threads' transactions
 * ended (the caller's thread may have none open: -EDEADLK).  0, or
 * -ENOSPC when it cannot grow further, or the error of the failed resize
 * (-ENOMEM under an address-space limit): the environment is then opened
 * again at its old size, or, when even that fails, closed for good
 * (state_usable() false, every transaction -EIO).  state_strerror() says
 * which in words.
 */
int state_grow(struct state *st);
/* state_grow_logged - state_grow, and the new size in the log ("state map
   grown to N MiB") */
int state_grow_logged(struct state *st);
/* state_usable - false once a failed resize left the state closed */
bool state_usable(const struct state *st);
size_t state_map_size(struct state *st);
/* state_set_map_size - set the map size in bytes (LMDB keeps at least what
   the data needs; as state_grow: -EDEADLK with a transaction of this
   thread open); for tests and tools */
int state_set_map_size(struct state *st, size_t size);

/* rcpt table; ADDR is a normalised address */
int state_rcpt_get(struct state *st, MDB_txn *txn, const char *addr,
		   struct rcpt *r);
int state_rcpt_put(struct state *st, MDB_txn *txn, const char *addr,
		   const struct rcpt *r);
int state_rcpt_del(struct state *st, MDB_txn *txn, const char *addr);

/*
 * A cursor over the rcpt table, for a writer that reads and writes many
 * records in key order (ingest's commit): the lookup of the next key
 * starts from the leaf page of the last one instead of the root, and
 * writing back the record just read replaces it in place.  Open it in a
 * write transaction, close it before the transaction ends.
 *
 * state_rcpt_cursor_get - the record of ADDR (as state_rcpt_get, decoded
 * by rcpt_decode_lean: past its lists' counts and its strings' ends R
 * keeps what it had; the cursor stays at ADDR, or where it would go);
 * state_rcpt_cursor_put -
 * write R as the record of ADDR (FOUND: the last get found ADDR); both
 * 0 or -errno.
 */
int state_rcpt_cursor_open(struct state *st, MDB_txn *txn, MDB_cursor **cur);
int state_rcpt_cursor_get(struct state *st, MDB_cursor *cur, const char *addr,
			  struct rcpt *r);
int state_rcpt_cursor_put(struct state *st, MDB_cursor *cur, const char *addr,
			  const struct rcpt *r, bool found);
void state_rcpt_cursor_close(MDB_cursor *cur);

/*
 * state_rcpt_foreach - call CB for every record in key order (from FROM,
 * or the first when NULL); CB returns 0 to go on, anything else stops the
 * walk and is returned.  A record that does not decode is reported through
 * CB with r == NULL.
 */
typedef int (*state_rcpt_cb)(const char *addr, size_t addrlen,
			     const struct rcpt *r, void *arg);
int state_rcpt_foreach(struct state *st, MDB_txn *txn, const char *from,
		       state_rcpt_cb cb, void *arg);

/* files table; KEY is the source's absolute path or a stream id */
int state_file_get(struct state *st, MDB_txn *txn, const char *key,
		   struct file_rec *f);
int state_file_put(struct state *st, MDB_txn *txn, const char *key,
		   const struct file_rec *f);
typedef int (*state_file_cb)(const char *key, size_t keylen,
			     const struct file_rec *f, void *arg);
int state_file_foreach(struct state *st, MDB_txn *txn, state_file_cb cb,
		       void *arg);
/* the files by content (state_files_fp.c): state_file_put writes the
   entry of each record; find gives the path (into PATH, CAP bytes) and
   the record of the file last written with that fingerprint, -ENOENT
   when none matches (state_files_fp_fill indexes an older state once) */
int state_files_fp_put(struct state *st, MDB_txn *txn, const char *path,
		       size_t pathlen, const struct file_rec *f);
int state_files_fp_find(struct state *st, MDB_txn *txn, uint64_t hash,
			uint32_t len, char *path, size_t cap,
			struct file_rec *f);
int state_files_fp_fill(struct state *st, MDB_txn *txn);

/* meta table: u64 values (little-endian on disk) */
int state_meta_get_u64(struct state *st, MDB_txn *txn, const char *name,
		       uint64_t *v);
int state_meta_put_u64(struct state *st, MDB_txn *txn, const char *name,
		       uint64_t v);
/* state_meta_add_u64 - add DELTA to a counter (missing = 0) */
int state_meta_add_u64(struct state *st, MDB_txn *txn, const char *name,
		       uint64_t delta);

/* state_stat_entries - number of entries of a table ("rcpt", "files",
   "meta", "outbox", "dead") */
int state_stat_entries(struct state *st, MDB_txn *txn, const char *table,
		       uint64_t *n);
/* state_table_cursor - a cursor over TABLE (state_dbi) into *CUR, to be
   closed with mdb_cursor_close; 0 with *CUR NULL for a table a read-only
   state written before it existed does not have (read it as empty), or
   -errno */
int state_table_cursor(struct state *st, MDB_txn *txn, const char *table,
		       MDB_cursor **cur);

/* state_waited_for - a thread of the process waits to begin a write
   transaction or to resize the map (a long optional write may give way:
   state_prewarm) */
bool state_waited_for(struct state *st);

/* state_stat_pages - pages of a table's tree (branches, leaves and
   overflow pages) into *N, and its entries into *ENTRIES (unless NULL) */
int state_stat_pages(struct state *st, MDB_txn *txn, const char *table,
		     uint64_t *n, uint64_t *entries);

/*
 * state_dbi - the LMDB handle of TABLE, for modules that keep their own
 * records (outbox.c: "outbox", "dead", "outbox_journal"; "notify";
 * rates.c: "rates", "alerts"; incident.c: "incident", "held").  Returns 0,
 * -EINVAL for an unknown name, or -ENOENT for those in a read-only state
 * written before they existed (read them as empty).
 */
int state_dbi(struct state *st, const char *table, MDB_dbi *dbi);
/* state_mdb_errno - an LMDB return code as this module maps it (0 or
   -errno; MDB_NOTFOUND -> -ENOENT, MDB_MAP_FULL -> -ENOSPC, …) */
int state_mdb_errno(int mrc);

const char *state_strerror(int rc);

#endif
