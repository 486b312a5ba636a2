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

struct batch;
struct batch_block;
struct ingest;
struct ingest_commit;
struct ingest_committer;

/* ingest_committer_new - the thread, idle; 0 or -errno (no thread: the
   caller commits inline) */
int ingest_committer_new(struct ingest *in, struct ingest_committer **out);

/* ingest_committer_post - commit B as C says (ingest_commit_batch), in
   the thread; returns at once.  Nothing may be in flight. */
void ingest_committer_post(struct ingest_committer *cm, struct batch *b,
			   struct ingest_commit *c);

/* ingest_committer_wait - the posted commit's answer (0 or -errno) once it
   is done */
int ingest_committer_wait(struct ingest_committer *cm);

/* ingest_committer_block - a ready arena block for the batch being
   filled, or NULL (batch_block_fn; ARG the committer) */
struct batch_block *ingest_committer_block(void *arg);

/* ingest_committer_busy - a commit is in flight */
bool ingest_committer_busy(const struct ingest_committer *cm);

/* ingest_committer_free - wait for what is in flight, stop the thread;
   NULL is fine */
void ingest_committer_free(struct ingest_committer *cm);

#endif
