/*
 * state_strs.h - the strings of the recipient records, each kept once.
 *
 * Tables "strs" (id, a u32 big-endian, -> the string's bytes) and
 * "strs_ix" (the bytes -> the id).  A version 5 recipient record names a
 * string it shares with others (the source file, the sender, the
 * VirtualMTA, the job id, the category, a DSN status or text seen before)
 * by its id instead of holding its bytes (rcpt.c).  Ids are given in a
 * write transaction, in rising order, and never change nor go away, so a
 * process may keep what it learnt of them for as long as it runs.
 *
 * A string becomes an entry the second time this process writes it in
 * the record of another address (a text seen once, or only in the record
 * of one address, as a DSN naming its recipient, is written in the record),
 * when it is 2 to STATE_STRS_LEN_MAX bytes long and while the table holds
 * fewer than STATE_STRS_MAX: past that, records hold their strings.
 *
 * In memory, per state: the entries read or made, in a table by content
 * and an array by id, and those the open write transaction made, kept
 * apart until it commits (an aborted one's never reach the others); and
 * a memo of committed entries by their length and three of their bytes,
 * which answers most interning with one memcmp.
 * Transactions of several threads use it: state_strs_lock() is held
 * around each record's encoding or decoding.
 */
#ifndef BOUNCED_STATE_STRS_H
#define BOUNCED_STATE_STRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "strs_memo.h"

#define STATE_STRS_LEN_MAX 255		/* longer strings stay in records */
#define STATE_STRS_MAX (1u << 20)	/* entries at most */

struct state_strs;

/* state_strs_new - an empty dictionary for one state; NULL when out of
   memory */
struct state_strs *state_strs_new(void);
void state_strs_free(struct state_strs *d);

void state_strs_lock(struct state_strs *d);
void state_strs_unlock(struct state_strs *d);

/* the tables and transaction a record is encoded or decoded in; WRITE:
   TXN is the open write transaction (state_strs_begin) */
struct state_strs_use {
	struct state_strs *d;
	MDB_txn *txn;
	MDB_dbi strs, ix;
	bool have_tables;	/* false: a read-only state written before
				   them (it holds no version 5 record) */
	bool write;
	const char *addr;	/* the record's address (NULL: none) */
};

/* state_strs_intern - the id of the N bytes at S, made in the write
   transaction when it is the second time; *ID 0: write the bytes.
   0 or -errno (LMDB's, mapped: -ENOSPC, the map is full) */
int state_strs_intern(const struct state_strs_use *u, const char *s,
		      size_t n, uint32_t *id);
/* state_strs_memo - the memo state_strs_intern answers committed strings
   from first (strs_memo.h), for a caller that looks there itself before
   calling it: NULL when U's interning names nothing (a read transaction,
   a state without the tables).  Read under the dictionary's lock. */
const struct strs_memo *state_strs_memo(const struct state_strs_use *u);
/* state_strs_lookup - the string of ID (*S, *N: valid while the state
   is open); 0, -ENOENT (no such id) or -errno */
int state_strs_lookup(const struct state_strs_use *u, uint32_t id,
		      const char **s, size_t *n);

/* state_strs_begin - TXN is the write transaction now open */
void state_strs_begin(struct state_strs *d, MDB_txn *txn);
/* state_strs_is_write - TXN is the write transaction now open */
bool state_strs_is_write(struct state_strs *d, MDB_txn *txn);

/* what a write transaction made, taken apart before it commits or
   aborts: once LMDB ends it, another write may begin, and must not take
   ids that a failed commit leaves unmade */
struct state_strs_made;
/* state_strs_detach - what TXN made, if TXN is the write transaction
   (else NULL: a read transaction made nothing) */
struct state_strs_made *state_strs_detach(struct state_strs *d,
					  MDB_txn *txn);
/* state_strs_settle - after the commit (COMMITTED) or the abort: MADE
   (may be NULL) joins the rest or is forgotten, and is freed */
void state_strs_settle(struct state_strs *d, struct state_strs_made *made,
		       bool committed);

#endif
