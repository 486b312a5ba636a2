/*
 * state_prewarm.h - memory for the pages a large commit will dirty, made
 * ahead while the committing thread has nothing else to do.
 *
 * LMDB copies every page a write transaction changes into memory it
 * allocates page by page, and keeps those copies for its next
 * transactions once one ends (committed or aborted).  The first commit
 * that dirties more pages than any before pays a fault on fresh memory
 * for each new one (some 11 us on a virtual machine: a second for a
 * tree of 90,000 pages).  state_prewarm() dirties pages in a transaction
 * it aborts, so that LMDB then holds that many copies ready: the faults
 * are taken while a committer waits for its first batch, not while it
 * commits.  Nothing of the transaction reaches the state.
 */
#ifndef BOUNCED_STATE_PREWARM_H
#define BOUNCED_STATE_PREWARM_H

#include <stdbool.h>
#include <stddef.h>

struct state;

/* state_prewarm_stop_fn - true: stop now (asked every few hundred pages) */
typedef bool (*state_prewarm_stop_fn)(void *arg);

/*
 * state_prewarm - dirty PAGES pages of ST in a write transaction, then
 * abort it.  Stops early when STOP says so, when the map or the
 * transaction's room is full (not an error: what was dirtied is kept
 * ready all the same).  *DONE is the number of pages dirtied.  0, or
 * -errno when no transaction could be begun.  It holds the state's write
 * transaction while it runs, and gives way within a few hundred pages
 * to any other thread of the process that waits to write or to resize
 * the map (state_waited_for); another process that waits to write waits
 * until it ends.
 */
int state_prewarm(struct state *st, size_t pages, state_prewarm_stop_fn stop,
		  void *arg, size_t *done);

#endif
