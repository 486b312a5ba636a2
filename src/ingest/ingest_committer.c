/*
 * ingest_committer.c - one thread that runs ingest's commit step while the
 * core reads on (ingest_committer.h).
 *
 * A mutex and a condition variable hand one job at a time to the thread
 * and its answer back.  The thread blocks every signal (the worker reads
 * them from a signalfd; they must reach the main thread), writes to the
 * state only inside the commit step, and logs only through log.c, which
 * serialises its lines.  Errors: creating the thread can fail (-errno:
 * the caller commits inline); a commit's error is its answer.
 *
 * Between commits the thread also keeps a few arena blocks ready for the
 * batch being filled (batch_set_blocks): the kernel faults in and zeroes
 * a batch's new memory here, not in the reading thread, which is the
 * slower of the two.  It makes them while no commit is posted, as many
 * as the batches have asked for so far but one (one more with each ask
 * after the first, up to COMMITTER_READY_BLOCKS: a small file, whose
 * batch fits in the one block it asks for, or a batch that runs on the
 * blocks of the one before, gets none made), and
 * again when the reader takes one, and none once the input's last batch
 * is posted; a block it cannot make is left to the batch to make.
 *
 * Before its first commit, a committer of a file read to its end also
 * has LMDB make ready the page copies its commits will dirty
 * (state_prewarm.h): LMDB keeps them from one transaction to the next,
 * so those of the largest commit of the input.  That is a page per
 * address the input will have, up to the recipients' tree, plus an
 * eighth of a page per address, as if each were new to it (what the
 * tree may grow by; ingest_committer_warm_want); the core says how many
 * addresses it expects from what its batch holds so far
 * (ingest_committer_addrs_est), and the prewarm follows, in steps.  The
 * faults on fresh memory are then taken while the thread waits, not
 * while it commits.  It stops when the batch is posted, when another
 * thread waits to write, and for good once a prewarm fell short.
 *
 * When the input ends while a commit is still applying its batch, the
 * core offers the last batch to join that commit's transaction
 * (ingest_committer_join): the commit step asks for it once its own
 * batch is applied (committer_joined, an ingest_join_fn), and the tree
 * the two batches change is written and synced once.  An offer that
 * comes after that point is refused, and the core posts the batch when
 * the commit is done, as any other.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "batch.h"
#include "ingest_commit.h"
#include "ingest_committer.h"
#include "ingest_priv.h"
#include "log.h"
#include "state.h"
#include "state_prewarm.h"

/* arena blocks kept ready (2 MiB each) */
#define COMMITTER_READY_BLOCKS 8
/* LMDB page copies made ready before the first commit: at most this many
   (384 MiB of 4 KiB pages; LMDB allows 131,071 dirty pages in one
   transaction), in steps of at least COMMITTER_WARM_STEP */
#define COMMITTER_WARM_MAX 98304
#define COMMITTER_WARM_STEP 8192
/* the addresses a page of the recipients' tree takes, for a tree too
   small to tell (fewer than COMMITTER_TREE_KNOWN entries): records of
   version 5 are some 50-80 bytes and their keys some 30, and a tree
   written in arrival order holds about 29 a page (pages three quarters
   full); 20 leaves room for records that grow */
#define COMMITTER_NEW_PER_PAGE 20
#define COMMITTER_TREE_KNOWN 4096

struct ingest_committer {
	struct ingest *in;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch *b;		/* the job posted */
	struct ingest_commit *c;
	/* a batch offered to join the running job's transaction
	   (ingest_committer_join), until the job asks (committer_joined) */
	bool join_open;
	struct batch *join_b;
	struct ingest_commit *join_c;
	bool posted;			/* a job waits for the thread */
	bool busy;			/* a job is posted or running */
	bool quit;
	int rc;				/* the answer of the last job */
	struct batch_block *ready[COMMITTER_READY_BLOCKS];
	unsigned n_ready;
	unsigned want;			/* blocks to keep ready */
	unsigned asks;			/* blocks the batches asked for */
	bool ready_failed;		/* out of memory: made no more */
	/* LMDB's page copies made ready before the first commit */
	bool warm;			/* still to be made (until a post) */
	bool tree_known;		/* tree_pages read */
	uint64_t tree_pages;		/* the recipients' tree, in pages */
	uint64_t tree_entries;		/* ... and its entries */
	size_t warm_addrs;		/* the addresses the core expects */
	size_t warmed;			/* pages made ready so far */
};

size_t ingest_committer_warm_want(uint64_t tree_pages, uint64_t tree_entries,
				  size_t addrs)
{
	/* a leaf per address, up to the tree; new ones grow it by what a
	   page of it holds: as many as the tree shows, else as many as
	   records of this version make (COMMITTER_NEW_PER_PAGE) */
	uint64_t touched = tree_pages < addrs ? tree_pages : addrs;
	uint64_t per_page = COMMITTER_NEW_PER_PAGE, grown;

	if (tree_entries >= COMMITTER_TREE_KNOWN && tree_pages > 0)
		per_page = tree_entries / tree_pages ?
				   tree_entries / tree_pages : 1;
	grown = addrs / per_page;

	if (touched >= COMMITTER_WARM_MAX ||
	    grown >= COMMITTER_WARM_MAX - touched)
		return COMMITTER_WARM_MAX;
	return (size_t)(touched + grown);
}

size_t ingest_committer_addrs_est(size_t half_addrs, size_t addrs,
				  uint64_t rows, uint64_t total_rows)
{
	double ratio, n, est;

	if (half_addrs == 0 || addrs <= half_addrs || rows == 0 ||
	    total_rows <= rows)
		return addrs;
	ratio = (double)addrs / (double)half_addrs;
	/* as many new in the second half as in the first: no repeats to
	   judge by, as many new addresses per record to the end */
	if (ratio >= 2.0 - 1e-9)
		est = (double)addrs * ((double)total_rows / (double)rows);
	else {
		/* A(R) = N (1 - exp(-R / N)): A(R) / A(R / 2) = 1 + exp(-R / 2N) */
		n = (double)rows / (-2.0 * log(ratio - 1.0));
		est = n * -expm1(-(double)total_rows / n);
	}
	if (est < (double)addrs)
		return addrs;
	return est >= (double)SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)est;
}

/* committer_stop - a prewarm gives way (state_prewarm_stop_fn) */
static bool committer_stop(void *arg)
{
	struct ingest_committer *cm = arg;
	bool stop;

	pthread_mutex_lock(&cm->mu);
	stop = cm->posted || cm->quit;
	pthread_mutex_unlock(&cm->mu);
	return stop;
}

/* committer_warm - one step of the prewarm, made with the lock released;
   false when there is none to make */
static bool committer_warm(struct ingest_committer *cm)
{
	struct state *st = cm->in->st;
	MDB_txn *txn;
	size_t want, done = 0;
	uint64_t pages = 0, entries = 0;
	int rc;

	if (!cm->warm)
		return false;
	if (!cm->tree_known) {
		pthread_mutex_unlock(&cm->mu);
		rc = state_begin(st, false, &txn);
		if (rc == 0) {
			rc = state_stat_pages(st, txn, "rcpt", &pages,
					      &entries);
			state_abort(txn);
		}
		pthread_mutex_lock(&cm->mu);
		cm->tree_known = true;
		cm->tree_pages = pages;
		cm->tree_entries = entries;
		if (rc)
			cm->warm = false;
		return true;
	}
	want = ingest_committer_warm_want(cm->tree_pages, cm->tree_entries,
					  cm->warm_addrs);
	if (want < cm->warmed + COMMITTER_WARM_STEP)
		return false;
	pthread_mutex_unlock(&cm->mu);
	rc = state_prewarm(st, want, committer_stop, cm, &done);
	log_debug("ingest", "%zu of %zu page copies made ready for the "
		  "first commit", done, want);
	pthread_mutex_lock(&cm->mu);
	if (done > cm->warmed)
		cm->warmed = done;
	/* fell short (a full map, a writer waiting, an error): no more */
	if (rc || (done < want && !cm->posted && !cm->quit))
		cm->warm = false;
	return true;
}

/* committer_fill - one more ready block, made with the lock released;
   false when none could be made */
static bool committer_fill(struct ingest_committer *cm)
{
	struct batch_block *blk;

	pthread_mutex_unlock(&cm->mu);
	blk = batch_block_ready();
	pthread_mutex_lock(&cm->mu);
	if (!blk) {
		cm->ready_failed = true;
		return false;
	}
	if (cm->n_ready < cm->want)
		cm->ready[cm->n_ready++] = blk;
	else
		batch_block_free(blk);
	return true;
}

/* committer_joined - the running job's batch is applied: the batch
   offered to join it, if any (ingest_join_fn); none is taken after */
static bool committer_joined(void *arg, struct batch **b,
			     struct ingest_commit **c)
{
	struct ingest_committer *cm = arg;
	bool got;

	pthread_mutex_lock(&cm->mu);
	cm->join_open = false;
	got = cm->join_c != NULL;
	if (got) {
		*b = cm->join_b;
		*c = cm->join_c;
		cm->join_b = NULL;
		cm->join_c = NULL;
	}
	pthread_mutex_unlock(&cm->mu);
	return got;
}

/* ingest_committer_main - take jobs until told to quit */
static void *ingest_committer_main(void *arg)
{
	struct ingest_committer *cm = arg;
	struct batch *b;
	struct ingest_commit *c;
	int rc;

	pthread_mutex_lock(&cm->mu);
	for (;;) {
		while (!cm->posted && !cm->quit) {
			if (cm->n_ready < cm->want && !cm->ready_failed &&
			    committer_fill(cm))
				continue;
			if (committer_warm(cm))
				continue;
			pthread_cond_wait(&cm->cv, &cm->mu);
		}
		if (!cm->posted)
			break;
		b = cm->b;
		c = cm->c;
		cm->posted = false;
		c->join = committer_joined;
		c->join_arg = cm;
		pthread_mutex_unlock(&cm->mu);
		rc = ingest_commit_batch(cm->in, b, c);
		pthread_mutex_lock(&cm->mu);
		/* one offered but not asked for (the job failed first)
		   stays the core's */
		cm->join_open = false;
		cm->join_b = NULL;
		cm->join_c = NULL;
		cm->rc = rc;
		cm->busy = false;
		pthread_cond_broadcast(&cm->cv);
	}
	pthread_mutex_unlock(&cm->mu);
	return NULL;
}

int ingest_committer_new(struct ingest *in, bool warm,
			 struct ingest_committer **out)
{
	struct ingest_committer *cm = calloc(1, sizeof(*cm));
	sigset_t all, old;
	int rc;

	*out = NULL;
	if (!cm)
		return -ENOMEM;
	cm->in = in;
	cm->warm = warm;
	if (pthread_mutex_init(&cm->mu, NULL) != 0) {
		free(cm);
		return -ENOMEM;
	}
	if (pthread_cond_init(&cm->cv, NULL) != 0) {
		pthread_mutex_destroy(&cm->mu);
		free(cm);
		return -ENOMEM;
	}
	/* the thread starts with every signal blocked */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&cm->thread, NULL, ingest_committer_main, cm);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&cm->cv);
		pthread_mutex_destroy(&cm->mu);
		free(cm);
		return -rc;
	}
	/* named for top -H, perf and the ingest benchmark's CPU per thread
	   (at most 15 bytes; a name refused changes nothing) */
	(void)pthread_setname_np(cm->thread, "bounced-commit");
	*out = cm;
	return 0;
}

void ingest_committer_post(struct ingest_committer *cm, struct batch *b,
			   struct ingest_commit *c)
{
	pthread_mutex_lock(&cm->mu);
	cm->b = b;
	cm->c = c;
	cm->posted = true;
	cm->busy = true;
	cm->warm = false;
	/* the input's last batch may join, not follow, a batch that is not
	   its last, from now until the commit asks for it */
	cm->join_open = !c->final;
	if (c->final)
		cm->want = 0;	/* no batch is filled after it */
	pthread_cond_broadcast(&cm->cv);
	pthread_mutex_unlock(&cm->mu);
}

int ingest_committer_wait(struct ingest_committer *cm)
{
	int rc;

	pthread_mutex_lock(&cm->mu);
	while (cm->busy)
		pthread_cond_wait(&cm->cv, &cm->mu);
	rc = cm->rc;
	pthread_mutex_unlock(&cm->mu);
	return rc;
}

struct batch_block *ingest_committer_block(void *arg)
{
	struct ingest_committer *cm = arg;
	struct batch_block *blk = NULL;

	pthread_mutex_lock(&cm->mu);
	/* the first ask makes none: an input whose batch fits in one block
	   (most files the worker takes) would only have it made for
	   nothing */
	if (cm->asks++ && cm->want < COMMITTER_READY_BLOCKS)
		cm->want++;
	if (cm->n_ready)
		blk = cm->ready[--cm->n_ready];
	/* the thread makes more while it has no commit */
	pthread_cond_broadcast(&cm->cv);
	pthread_mutex_unlock(&cm->mu);
	return blk;
}

bool ingest_committer_join(struct ingest_committer *cm, struct batch *b,
			   struct ingest_commit *c)
{
	bool ok;

	pthread_mutex_lock(&cm->mu);
	ok = cm->busy && cm->join_open && !cm->join_c;
	if (ok) {
		cm->join_b = b;
		cm->join_c = c;
		cm->want = 0;	/* the last batch: none is filled after it */
	}
	pthread_mutex_unlock(&cm->mu);
	return ok;
}

void ingest_committer_hint(struct ingest_committer *cm, size_t addrs)
{
	pthread_mutex_lock(&cm->mu);
	cm->warm_addrs = addrs;
	if (cm->warm)
		pthread_cond_broadcast(&cm->cv);
	pthread_mutex_unlock(&cm->mu);
}

bool ingest_committer_busy(const struct ingest_committer *cm)
{
	struct ingest_committer *m = (struct ingest_committer *)cm;
	bool busy;

	pthread_mutex_lock(&m->mu);
	busy = m->busy;
	pthread_mutex_unlock(&m->mu);
	return busy;
}

void ingest_committer_free(struct ingest_committer *cm)
{
	if (!cm)
		return;
	pthread_mutex_lock(&cm->mu);
	while (cm->busy)
		pthread_cond_wait(&cm->cv, &cm->mu);
	cm->quit = true;
	pthread_cond_broadcast(&cm->cv);
	pthread_mutex_unlock(&cm->mu);
	pthread_join(cm->thread, NULL);
	while (cm->n_ready)
		batch_block_free(cm->ready[--cm->n_ready]);
	pthread_cond_destroy(&cm->cv);
	pthread_mutex_destroy(&cm->mu);
	free(cm);
}
