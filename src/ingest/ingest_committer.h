/*
 * ingest_committer.h - the commit step of ingest (ingest_commit.c) in a
 * thread of its own, so that reading and parsing go on while a batch is
 * written: at most one commit in flight, posted and waited for by the
 * core (ingest.c), which touches neither the state nor the posted batch
 * until it has waited.
 */
#ifndef BOUNCED_INGEST_COMMITTER_H
#define BOUNCED_INGEST_COMMITTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct batch;
struct batch_block;
struct ingest;
struct ingest_commit;
struct ingest_committer;

/* ingest_committer_new - the thread, idle (WARM: it makes LMDB's page
   copies ready for its first commit meanwhile, as the core's hints say);
   0 or -errno (no thread: the caller commits inline) */
int ingest_committer_new(struct ingest *in, bool warm,
			 struct ingest_committer **out);

/* ingest_committer_post - commit B as C says (ingest_commit_batch), in
   the thread; returns at once.  Nothing may be in flight. */
void ingest_committer_post(struct ingest_committer *cm, struct batch *b,
			   struct ingest_commit *c);

/* ingest_committer_join - offer B, the input's last batch, and its commit
   step C to join the transaction of the commit in flight, which applies
   it after its own batch (ingest_join_fn): true when it may still be
   asked for (the answer of ingest_committer_wait is then the answer of
   both, if the commit's C->joined says it was taken); false when that
   commit is past it, or none is in flight (C is left to the caller) */
bool ingest_committer_join(struct ingest_committer *cm, struct batch *b,
			   struct ingest_commit *c);

/* ingest_committer_wait - the posted commit's answer (0 or -errno) once it
   is done */
int ingest_committer_wait(struct ingest_committer *cm);

/* ingest_committer_block - a ready arena block for the batch being
   filled, or NULL (batch_block_fn; ARG the committer) */
struct batch_block *ingest_committer_block(void *arg);

/* ingest_committer_hint - the input is expected to have ADDRS addresses
   (ingest_committer_addrs_est): the page copies to make ready before the
   first commit follow it */
void ingest_committer_hint(struct ingest_committer *cm, size_t addrs);

/* ingest_committer_warm_want - the page copies to make ready for the
   commits of ADDRS addresses on a recipients' tree of TREE_PAGES pages
   holding TREE_ENTRIES addresses */
size_t ingest_committer_warm_want(uint64_t tree_pages, uint64_t tree_entries,
				  size_t addrs);

/*
 * ingest_committer_addrs_est - the addresses an input of TOTAL_ROWS
 * records is expected to have when its first ROWS records had ADDRS and
 * the first ROWS / 2 had HALF_ADDRS: as if its records named addresses
 * drawn evenly from a population, whose size the two counts give (no
 * fewer than ADDRS; as many new ones per record to the end when the
 * second half had only new ones).
 */
size_t ingest_committer_addrs_est(size_t half_addrs, size_t addrs,
				  uint64_t rows, uint64_t total_rows);

/* ingest_committer_busy - a commit is in flight */
bool ingest_committer_busy(const struct ingest_committer *cm);

/* ingest_committer_free - wait for what is in flight, stop the thread;
   NULL is fine */
void ingest_committer_free(struct ingest_committer *cm);

#endif
