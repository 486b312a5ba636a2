/*
 * state.c - the LMDB environment under the state directory and its
 * tables: "rcpt" (address -> rcpt record), "files" (source -> file_rec),
 * "meta" (name -> u64, little-endian; "schema" is the schema version), and
 * the later ones kept by their modules through state_dbi(): "outbox" /
 * "dead" / "outbox_journal" / "notify" (outbox.c, notify), "rates" /
 * "alerts" (rates.c), "incident" / "held" (incident.c), "protected"
 * (incident_rcpts.c), "files_fp" (state_files_fp.c: made and filled from
 * "files" at the first writable opening of a state written before it),
 * "strs" / "strs_ix" (state_strs.c: the strings the recipient records
 * name by id, through this file's rcpt functions, which alone encode and
 * decode them).  A read-only opening of a state written before a later
 * table existed works: the table then reads as empty.
 *
 * Writers give their work to state_write(), which owns the write
 * transaction: begin, the writer's function, commit or abort, and the
 * growth of a full map (abort, grow, call the writer again), with one
 * limit for every writer (STATE_GROW_TRIES).  Resizing the map needs every
 * transaction of the process ended (LMDB checks only its write
 * transaction): a thread that writes while another may read gives its
 * work to state_write_fixed(), which answers a full map with -ENOSPC, and
 * leaves the growth to the thread that gave it the work; state_reserve()
 * grows the map ahead of a large write.  Whoever resizes, the process's
 * transactions are kept out of the way by a lock: every transaction holds
 * it shared from state_begin() to its commit or abort, a resize (a growth,
 * adopting the size another process gave the map, opening the
 * environment again after a failed one) holds it exclusive, so it waits
 * for the other threads' transactions to end and none begins meanwhile.
 * A thread that has a transaction of the state open may not resize it (it
 * would wait for itself): -EDEADLK.
 *
 * Commits are durable (default LMDB flags, no NOSYNC).  The map starts at
 * STATE_MAP_INITIAL, or at twice the data file's size when that is larger
 * (never at what a previous writer recorded: a map grown far beyond the
 * data would keep every later opening from working under an address-space
 * limit), and doubles on state_grow().
 *
 * Full is not full: LMDB's MDB_MAP_FULL (the map is full: grow it) is
 * -ENOSPC; the disk being full (ENOSPC from the file system) is -EIO with
 * state_strerror() saying "no space left on the state's disk", so that no
 * caller grows the map for it; MDB_TXN_FULL (one transaction too large;
 * growing cannot help) is -E2BIG.  When the map cannot be grown
 * (mdb_env_set_mapsize failed: LMDB has then unmapped the old map), the
 * environment is opened again at its old size; if even that fails the
 * state is marked unusable and every transaction is refused (-EIO), never
 * touched again: state_usable() says so, and the daemon exits.
 *
 * Error policy: every LMDB call is checked and its code mapped to a
 * negative errno (state_mdb_rc); the last LMDB code is remembered per
 * thread so state_strerror() can explain -EIO and friends in LMDB's words.
 * state_open() also writes a message naming the directory into ERR.  The
 * hot paths (get/put) allocate nothing: keys point at the caller's string
 * and records are encoded into a stack buffer.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include "errmsg.h"
#include "log.h"
#include "state_codec.h"
#include "state.h"
#include "state_strs.h"

#define STATE_MAP_INITIAL ((size_t)256 << 20)
#define STATE_DISK_LOW (64u << 10)	/* free bytes that count as full */
#define STATE_MAXDBS 16
#define STATE_LATER_TABLES 12
#define STATE_FILES_FP 9	/* "files_fp": indexed when made */
#define STATE_STRS 10		/* "strs", "strs_ix": state_strs.c */
#define STATE_STRS_IX 11

/* the tables that came after "rcpt", "files" and "meta": created on the
   first read-write opening, read as empty from an older read-only state */
static const char *const state_later_tables[STATE_LATER_TABLES] = {
	"outbox", "dead", "notify", "outbox_journal",	/* outbox.c, notify */
	"rates", "alerts",				/* rates.c */
	"incident", "held",				/* incident.c */
	"protected",				/* incident_rcpts.c */
	"files_fp",				/* state_files_fp.c */
	"strs", "strs_ix",			/* state_strs.c */
};

struct state {
	MDB_env *env;		/* NULL once unusable */
	size_t open_map;	/* state_env_open: the map size to open with */
	MDB_dbi rcpt, files, meta;
	/* the tables added after the first schema, in state_later_tables
	   order; absent from a read-only state written before them */
	MDB_dbi later[STATE_LATER_TABLES];
	bool has_later[STATE_LATER_TABLES];
	char *dir;
	bool readonly;
	size_t maxkey;		/* LMDB's key size limit */
	/* shared by every open transaction, exclusive for a resize of the
	   map (reader-preferring, as glibc's default: a thread may hold it
	   shared twice) */
	pthread_rwlock_t lock;
	bool lock_made;
	/* held around every commit: a lazy commit sets MDB_NOMETASYNC on
	   the whole environment, and LMDB lets another thread's write begin
	   and commit before the flag is cleared again, which would then
	   skip its meta sync (state_commit_lazy) */
	pthread_mutex_t commit_mu;
	bool commit_mu_made;
	/* threads waiting to begin a write transaction or to resize: a
	   prewarm (state_prewarm.c) gives way to them */
	atomic_uint waiting;
	/* the strings of the recipient records (state_strs.c) */
	struct state_strs *strs;
};

/* transactions this thread has open (state_begin to commit or abort),
   per state: a few states, then one count for the others (a thread with
   one of those open may resize none, to be safe) */
#define STATE_TXN_STATES 4
static __thread struct {
	const struct state *st;
	unsigned n;
} state_txns[STATE_TXN_STATES];
static __thread unsigned state_txns_other;

/* the last LMDB code mapped, and what it was mapped to, per thread */
static __thread int state_last_mdb;
static __thread int state_last_rc;
/* the same pair, the last of any thread (LMDB's code in the high half):
   a commit made in the committer's thread fails there, and the reading
   thread reports it */
static _Atomic uint64_t state_last_any;

/* state_last_set - remember MRC mapped to RC, here and for every thread */
static void state_last_set(int mrc, int rc)
{
	state_last_mdb = mrc;
	state_last_rc = rc;
	atomic_store(&state_last_any, ((uint64_t)(uint32_t)mrc << 32) |
				      (uint32_t)rc);
}
/* the last failure to grow (or reopen) the map, in words, and its code */
static __thread char state_grow_msg[256];
static __thread int state_grow_rc;

/* state_mdb_rc - an LMDB return code as 0 or -errno (remembered) */
static int state_mdb_rc(int mrc)
{
	int rc;

	switch (mrc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_NOTFOUND:
		return -ENOENT;	/* common and self-explaining: not kept */
	case MDB_MAP_FULL:
		rc = -ENOSPC;
		break;
	case MDB_TXN_FULL:
		rc = -E2BIG;	/* a bigger map would not help */
		break;
	case ENOSPC:
		rc = -EIO;	/* the disk is full, not the map */
		break;
	case MDB_MAP_RESIZED:
	case MDB_READERS_FULL:
		rc = -EAGAIN;
		break;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
		rc = -EIO;
		break;
	default:
		rc = mrc > 0 ? -mrc : -EIO;
		break;
	}
	state_last_set(mrc, rc);
	state_grow_rc = 0;
	return rc;
}

/* state_strerror - a code from this module in words */
const char *state_strerror(int rc)
{
	int mdb = state_last_mdb;
	bool last = rc != 0 && rc == state_last_rc && mdb != 0;

	if (!last && rc != 0) {
		/* not this thread's: another's (the committer's) */
		uint64_t any = atomic_load(&state_last_any);

		mdb = (int)(int32_t)(uint32_t)(any >> 32);
		last = rc == (int)(int32_t)(uint32_t)any && mdb != 0;
	}
	if (rc != 0 && rc == state_grow_rc && state_grow_msg[0])
		return state_grow_msg;
	if (last && mdb == ENOSPC)
		return "no space left on the state's disk (free some, or move "
		       "the state to a bigger file system)";
	if (rc == -ENOSPC && !(last && mdb > 0))
		return "state map full";
	if (last && mdb < 0)	/* an LMDB-specific condition */
		return mdb_strerror(mdb);
	switch (rc) {
	case -EPROTO:
		return "written by a newer bounced (unknown record or schema "
		       "version): upgrade bounced";
	case -EROFS:
		return "state opened read-only";
	default:
		return strerror(rc < 0 ? -rc : rc);
	}
}

/* state_prepare_dir - make sure DIR is usable: created when writable,
   holding a database when read-only */
static int state_prepare_dir(const char *dir, bool readonly, char *err,
			     size_t errlen)
{
	char path[PATH_MAX];
	struct stat sb;
	int n;

	if (readonly) {
		n = snprintf(path, sizeof(path), "%s/data.mdb", dir);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			errmsg(err, errlen, "state directory name too long: %s",
			       dir);
			return -ENAMETOOLONG;
		}
		if (stat(path, &sb) == 0)
			return 0;
		n = errno;
		if (n == ENOENT || n == ENOTDIR) {
			errmsg(err, errlen,
			       "no state in %s yet (run bounced process first)",
			       dir);
			return -ENOENT;
		}
		errmsg(err, errlen, "cannot read state %s: %s", path,
		       strerror(n));
		return -n;
	}
	if (mkdir(dir, 0750) == 0)
		return 0;
	n = errno;
	if (n == EEXIST) {
		if (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
			return 0;
		errmsg(err, errlen, "state %s exists but is not a directory",
		       dir);
		return -ENOTDIR;
	}
	errmsg(err, errlen, "cannot create state directory %s: %s%s", dir,
	       strerror(n),
	       n == ENOENT ? " (create its parent directory first)" : "");
	return -n;
}

/* state_raw_get_u64 - an 8-byte little-endian value of DBI */
static int state_raw_get_u64(MDB_txn *txn, MDB_dbi dbi, const char *name,
			     uint64_t *v)
{
	MDB_val k = { strlen(name), (void *)name }, d;
	int mrc;

	mrc = mdb_get(txn, dbi, &k, &d);
	if (mrc)
		return state_mdb_rc(mrc);
	if (d.mv_size != 8)
		return -EINVAL;
	*v = codec_le_load(d.mv_data, 8);
	return 0;
}

/* state_raw_put_u64 - an 8-byte little-endian value into DBI */
static int state_raw_put_u64(MDB_txn *txn, MDB_dbi dbi, const char *name,
			     uint64_t v)
{
	uint8_t buf[8];
	MDB_val k = { strlen(name), (void *)name }, d = { sizeof(buf), buf };

	codec_le_store(buf, v, 8);
	return state_mdb_rc(mdb_put(txn, dbi, &k, &d, 0));
}

/* state_check_schema - refuse a newer schema; write ours when missing or
   older (a writer may write records an older bounced cannot read) */
static int state_check_schema(struct state *st, MDB_txn *txn, char *err,
			      size_t errlen)
{
	uint64_t v = 0;
	int rc;

	rc = state_raw_get_u64(txn, st->meta, "schema", &v);
	if (rc == -ENOENT)
		rc = 0;		/* missing: older than any (v 0) */
	if (rc == -EINVAL) {
		errmsg(err, errlen, "state %s: the schema version record is "
		       "corrupt", st->dir);
		return -EIO;
	}
	if (rc) {
		errmsg(err, errlen, "cannot read the schema version in %s: %s",
		       st->dir, state_strerror(rc));
		return rc;
	}
	if (v > STATE_SCHEMA_VERSION) {
		errmsg(err, errlen, "state %s has schema %llu, this bounced "
		       "understands up to %d: upgrade bounced", st->dir,
		       (unsigned long long)v, STATE_SCHEMA_VERSION);
		return -EPROTO;
	}
	if (v < STATE_SCHEMA_VERSION && !st->readonly) {
		rc = state_raw_put_u64(txn, st->meta, "schema",
				       STATE_SCHEMA_VERSION);
		if (rc)
			errmsg(err, errlen,
			       "cannot write the schema version in %s: %s",
			       st->dir, state_strerror(rc));
		return rc;
	}
	return 0;
}

/* state_open_later - the tables of state_later_tables; missing ones are
   created (their bits set in *MADE), or (read-only) left absent; 0 or
   -errno */
static int state_open_later(struct state *st, MDB_txn *txn, char *err,
			    size_t errlen, unsigned *made)
{
	unsigned flags = st->readonly ? 0 : MDB_CREATE;
	size_t i;
	int mrc;

	for (i = 0; i < STATE_LATER_TABLES; i++) {
		mrc = mdb_dbi_open(txn, state_later_tables[i], 0,
				   &st->later[i]);
		if (mrc == MDB_NOTFOUND && st->readonly)
			continue;	/* written before the table existed */
		if (mrc == MDB_NOTFOUND) {
			mrc = mdb_dbi_open(txn, state_later_tables[i], flags,
					   &st->later[i]);
			if (mrc == 0)
				*made |= 1u << i;
		}
		if (mrc) {
			errmsg(err, errlen, "cannot open table %s in %s: %s",
			       state_later_tables[i], st->dir,
			       mdb_strerror(mrc));
			return state_mdb_rc(mrc);
		}
		st->has_later[i] = true;
	}
	return 0;
}

/* state_open_tables - the table handles and the schema check, in one
   transaction committed so the handles stay valid */
static int state_open_tables(struct state *st, char *err, size_t errlen)
{
	static const char *const names[] = { "rcpt", "files", "meta" };
	MDB_dbi *dbis[] = { &st->rcpt, &st->files, &st->meta };
	unsigned flags = st->readonly ? 0 : MDB_CREATE, made = 0;
	MDB_txn *txn = NULL;
	size_t i;
	int mrc, rc;

	mrc = mdb_txn_begin(st->env, NULL, st->readonly ? MDB_RDONLY : 0, &txn);
	if (mrc) {
		rc = state_mdb_rc(mrc);
		errmsg(err, errlen, "cannot begin a transaction in %s: %s",
		       st->dir, mdb_strerror(mrc));
		return rc;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		mrc = mdb_dbi_open(txn, names[i], flags, dbis[i]);
		if (mrc == MDB_NOTFOUND) {
			errmsg(err, errlen, "no state in %s yet (run bounced "
			       "process first)", st->dir);
			rc = -ENOENT;
			goto abort;
		}
		if (mrc) {
			rc = state_mdb_rc(mrc);
			errmsg(err, errlen, "cannot open table %s in %s: %s",
			       names[i], st->dir, mdb_strerror(mrc));
			goto abort;
		}
	}
	rc = state_open_later(st, txn, err, errlen, &made);
	if (rc)
		goto abort;
	if ((made & (1u << STATE_FILES_FP)) &&
	    (rc = state_files_fp_fill(st, txn)) != 0) {
		errmsg(err, errlen, "cannot index the files of %s by content: "
		       "%s", st->dir, state_strerror(rc));
		goto abort;
	}
	rc = state_check_schema(st, txn, err, errlen);
	if (rc)
		goto abort;
	mrc = mdb_txn_commit(txn);
	if (mrc) {
		rc = state_mdb_rc(mrc);
		errmsg(err, errlen, "cannot commit the tables of %s: %s",
		       st->dir, mdb_strerror(mrc));
	}
	return rc;
abort:
	mdb_txn_abort(txn);
	return rc;
}

/* state_open_map - the map to open DIR with: STATE_MAP_INITIAL, or twice
   the data file when that is larger (whole MiB); LMDB raises it to what
   the data needs */
static size_t state_open_map(const char *dir)
{
	char path[PATH_MAX];
	struct stat sb;
	size_t size = STATE_MAP_INITIAL;
	int n = snprintf(path, sizeof(path), "%s/data.mdb", dir);

	if (n > 0 && (size_t)n < sizeof(path) && stat(path, &sb) == 0 &&
	    sb.st_size > 0 && (uint64_t)sb.st_size < SIZE_MAX / 4) {
		size_t want = ((size_t)sb.st_size * 2 + (1u << 20) - 1) &
			      ~(size_t)((1u << 20) - 1);

		if (want > size)
			size = want;
	}
	return size;
}

/* state_env_open - create and open the LMDB environment of ST, with the
   map st->open_map (0: state_open_map).  A read-only opening that may
   not write the lock file (a user who may read the state but not write
   it) reads without it, as mdb_stat does: MDB_NOLOCK. */
static int state_env_open(struct state *st, char *err, size_t errlen)
{
	unsigned flags = MDB_NOTLS | (st->readonly ? MDB_RDONLY : 0);
	size_t map = st->open_map ? st->open_map : state_open_map(st->dir);
	int mrc, dead = 0;

again:
	mrc = mdb_env_create(&st->env);
	if (mrc) {
		st->env = NULL;
		goto fail;
	}
	/* a transaction's end finds its state (and lock) from its env */
	mrc = mdb_env_set_userctx(st->env, st);
	if (mrc)
		goto fail;
	mrc = mdb_env_set_maxdbs(st->env, STATE_MAXDBS);
	if (mrc)
		goto fail;
	mrc = mdb_env_set_mapsize(st->env, map);
	if (mrc)
		goto fail;
	mrc = mdb_env_open(st->env, st->dir, flags, 0640);
	if (mrc == EACCES && st->readonly && !(flags & MDB_NOLOCK)) {
		mdb_env_close(st->env);
		st->env = NULL;
		flags |= MDB_NOLOCK;
		goto again;
	}
	if (mrc)
		goto fail;
	if (!st->readonly)	/* free slots of readers that crashed */
		mrc = mdb_reader_check(st->env, &dead);
	if (mrc)
		goto fail;
	st->maxkey = (size_t)mdb_env_get_maxkeysize(st->env);
	return 0;
fail:
	if (mrc == EACCES)
		errmsg(err, errlen, "cannot open the state in %s: %s (%s)",
		       st->dir, mdb_strerror(mrc), st->readonly ?
		       "reading it needs search permission on the directory "
		       "and read permission on its data.mdb" :
		       "changing it needs write permission on the directory, "
		       "its data.mdb and its lock.mdb: run this as the user "
		       "bounced runs as");
	else
		errmsg(err, errlen, "cannot open the state in %s: %s", st->dir,
		       mdb_strerror(mrc));
	return state_mdb_rc(mrc);
}

/* state_open - open (maybe create) the environment in DIR */
int state_open(struct state **out, const char *dir, bool readonly, char *err,
	       size_t errlen)
{
	struct state *st = NULL;
	int rc;

	*out = NULL;
	errmsg(err, errlen, "%s", "");
	if (dir == NULL || dir[0] == '\0') {
		errmsg(err, errlen, "no state directory configured");
		return -EINVAL;
	}
	rc = state_prepare_dir(dir, readonly, err, errlen);
	if (rc)
		return rc;
	st = calloc(1, sizeof(*st));
	if (st == NULL || (st->dir = strdup(dir)) == NULL) {
		errmsg(err, errlen, "out of memory opening the state in %s",
		       dir);
		rc = -ENOMEM;
		goto fail;
	}
	st->readonly = readonly;
	if (pthread_rwlock_init(&st->lock, NULL) != 0) {
		errmsg(err, errlen, "cannot make the lock of the state in %s",
		       dir);
		rc = -ENOMEM;
		goto fail;
	}
	st->lock_made = true;
	if (pthread_mutex_init(&st->commit_mu, NULL) != 0) {
		errmsg(err, errlen, "cannot make the lock of the state in %s",
		       dir);
		rc = -ENOMEM;
		goto fail;
	}
	st->commit_mu_made = true;
	atomic_init(&st->waiting, 0);
	st->strs = state_strs_new();
	if (!st->strs) {
		errmsg(err, errlen, "out of memory opening the state in %s",
		       dir);
		rc = -ENOMEM;
		goto fail;
	}
	rc = state_env_open(st, err, errlen);
	if (rc)
		goto fail;
	rc = state_open_tables(st, err, errlen);
	if (rc)
		goto fail;
	*out = st;
	return 0;
fail:
	state_close(st);
	return rc;
}

/* state_close - close the environment (no transaction may be open) */
void state_close(struct state *st)
{
	if (st == NULL)
		return;
	if (st->env)
		mdb_env_close(st->env);
	if (st->lock_made)
		pthread_rwlock_destroy(&st->lock);
	if (st->commit_mu_made)
		pthread_mutex_destroy(&st->commit_mu);
	state_strs_free(st->strs);
	free(st->dir);
	free(st);
}

/* state_txn_hold / _release - a transaction of this thread begins / ends:
   the lock shared */
static void state_txn_hold(struct state *st)
{
	unsigned i, free_at = STATE_TXN_STATES;

	(void)pthread_rwlock_rdlock(&st->lock);
	for (i = 0; i < STATE_TXN_STATES; i++) {
		if (state_txns[i].n && state_txns[i].st == st) {
			state_txns[i].n++;
			return;
		}
		if (!state_txns[i].n && free_at == STATE_TXN_STATES)
			free_at = i;
	}
	if (free_at == STATE_TXN_STATES) {
		state_txns_other++;
		return;
	}
	state_txns[free_at].st = st;
	state_txns[free_at].n = 1;
}

static void state_txn_release(struct state *st)
{
	unsigned i;

	for (i = 0; i < STATE_TXN_STATES; i++)
		if (state_txns[i].n && state_txns[i].st == st)
			break;
	if (i < STATE_TXN_STATES)
		state_txns[i].n--;
	else
		state_txns_other--;
	(void)pthread_rwlock_unlock(&st->lock);
}

/* state_txn_open_here - has this thread a transaction of ST open (or of
   a state it does not tell apart)? */
static bool state_txn_open_here(const struct state *st)
{
	unsigned i;

	if (state_txns_other)
		return true;
	for (i = 0; i < STATE_TXN_STATES; i++)
		if (state_txns[i].n && state_txns[i].st == st)
			return true;
	return false;
}

/* state_txn_state - the state TXN belongs to */
static struct state *state_txn_state(MDB_txn *txn)
{
	return mdb_env_get_userctx(mdb_txn_env(txn));
}

/* state_resize_lock - the lock exclusive, for a resize: the other
   threads' transactions end first; -EDEADLK (in words for
   state_strerror) when this thread has one open */
static int state_resize_lock(struct state *st)
{
	if (state_txn_open_here(st)) {
		state_grow_rc = -EDEADLK;
		snprintf(state_grow_msg, sizeof(state_grow_msg), "the state "
			 "map cannot be resized while this thread has a "
			 "transaction open (a bug: please report it)");
		return -EDEADLK;
	}
	atomic_fetch_add(&st->waiting, 1);
	(void)pthread_rwlock_wrlock(&st->lock);
	atomic_fetch_sub(&st->waiting, 1);
	return 0;
}

/* state_unusable - the error of a state whose environment is closed */
static int state_unusable(void)
{
	state_grow_rc = -EIO;
	snprintf(state_grow_msg, sizeof(state_grow_msg), "the state is "
		 "closed: its map could not be set up again after a failed "
		 "resize (restart the program)");
	return -EIO;
}

/* state_waited_for - another thread waits to write or to resize */
bool state_waited_for(struct state *st)
{
	return atomic_load_explicit(&st->waiting, memory_order_relaxed) > 0;
}

/* state_usable - false once the environment had to be closed */
bool state_usable(const struct state *st)
{
	return st && st->env;
}

/* state_remap_failed - mdb_env_set_mapsize failed with MRC, going from
   OLD to WANT bytes: LMDB unmapped the old map, so the environment is
   opened again at OLD (or the state is marked unusable); the error code,
   with its words for state_strerror() */
static int state_remap_failed(struct state *st, int mrc, size_t old,
			      size_t want)
{
	char err[256];
	int rc = state_mdb_rc(mrc);

	mdb_env_close(st->env);
	st->env = NULL;
	st->open_map = old;
	if (state_env_open(st, err, sizeof(err)) != 0 ||
	    state_open_tables(st, err, sizeof(err)) != 0) {
		if (st->env)
			mdb_env_close(st->env);
		st->env = NULL;
	}
	st->open_map = 0;
	state_grow_rc = rc;
	snprintf(state_grow_msg, sizeof(state_grow_msg), "the state map "
		 "cannot grow from %zu to %zu MiB: %s (the memory or address "
		 "space the process may use%s)", old >> 20, want >> 20,
		 rc < 0 ? strerror(-rc) : "error",
		 st->env ? "" : "; the state is closed: restart the program");
	return rc;
}

/* state_begin - a read-only or read-write transaction */
int state_begin(struct state *st, bool write, MDB_txn **txn)
{
	unsigned flags = write ? 0 : MDB_RDONLY;
	size_t old;
	int mrc;

	*txn = NULL;
	if (write && st->readonly)
		return -EROFS;
	state_txn_hold(st);
	if (!st->env) {
		state_txn_release(st);
		return state_unusable();
	}
	if (write)
		atomic_fetch_add(&st->waiting, 1);
	mrc = mdb_txn_begin(st->env, NULL, flags, txn);
	if (write)
		atomic_fetch_sub(&st->waiting, 1);
	if (mrc == MDB_MAP_RESIZED) {
		/* another process grew the map: adopt its size, once, with
		   the other threads' transactions out of the way */
		state_txn_release(st);
		if (state_resize_lock(st) != 0)
			return state_mdb_rc(mrc);
		mrc = 0;
		if (st->env) {
			old = state_map_size(st);
			mrc = mdb_env_set_mapsize(st->env, 0);
			if (mrc)
				mrc = state_remap_failed(st, mrc, old, old);
		}
		(void)pthread_rwlock_unlock(&st->lock);
		*txn = NULL;
		if (mrc)
			return mrc;
		state_txn_hold(st);
		mrc = st->env ? mdb_txn_begin(st->env, NULL, flags, txn) :
				MDB_PANIC;
	}
	if (mrc) {
		*txn = NULL;
		state_txn_release(st);
		return st->env ? state_mdb_rc(mrc) : state_unusable();
	}
	if (write)
		state_strs_begin(st->strs, *txn);
	return 0;
}

/* state_disk_full - after a failed write (MRC) in ENV: when the state's
   file system has no room left, remember the error as "disk full" (LMDB
   reports a short write as EIO); the mapped code */
static int state_disk_full(MDB_env *env, int mrc)
{
	const char *dir = NULL;
	struct statvfs vfs;
	int rc = state_mdb_rc(mrc);

	if (rc == -EIO && mrc == EIO && env &&
	    mdb_env_get_path(env, &dir) == 0 && dir &&
	    statvfs(dir, &vfs) == 0 &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize < STATE_DISK_LOW)
		state_last_set(ENOSPC, rc);
	return rc;
}

/* state_commit - commit TXN durably; the txn is gone either way */
int state_commit(MDB_txn *txn)
{
	struct state_strs_made *made;
	struct state *st;
	MDB_env *env;
	int rc;

	if (txn == NULL)
		return -EINVAL;
	env = mdb_txn_env(txn);
	st = state_txn_state(txn);
	made = state_strs_detach(st->strs, txn);
	pthread_mutex_lock(&st->commit_mu);
	rc = state_disk_full(env, mdb_txn_commit(txn));
	pthread_mutex_unlock(&st->commit_mu);
	state_strs_settle(st->strs, made, rc == 0);
	state_txn_release(st);
	return rc;
}

/* state_commit_lazy - commit with one sync instead of two: the data
   pages are synced, the meta page that makes them the state is written
   but not waited for (MDB_NOMETASYNC).  A crash of the machine may undo
   this commit (the meta reaches the disk with the next commit or
   state_sync()), never break the state.  For results that are safe to
   replay.  (MDB_NOSYNC, which waits for nothing, was used before: a
   crash could then find a meta page on the disk before the pages it
   names, or the pages of the last synced state reused.) */
int state_commit_lazy(struct state *st, MDB_txn *txn)
{
	struct state_strs_made *made;
	int rc;

	if (txn == NULL)
		return -EINVAL;
	pthread_mutex_lock(&st->commit_mu);
	if (!st->env || mdb_env_set_flags(st->env, MDB_NOMETASYNC, 1) != 0) {
		pthread_mutex_unlock(&st->commit_mu);
		state_abort(txn);
		return -EIO;
	}
	made = state_strs_detach(st->strs, txn);
	rc = state_disk_full(st->env, mdb_txn_commit(txn));
	(void)mdb_env_set_flags(st->env, MDB_NOMETASYNC, 0);
	pthread_mutex_unlock(&st->commit_mu);
	state_strs_settle(st->strs, made, rc == 0);
	state_txn_release(st);
	return rc;
}

/* state_sync - flush lazily committed data to the disk */
int state_sync(struct state *st)
{
	if (!st->env)
		return state_unusable();
	return state_disk_full(st->env, mdb_env_sync(st->env, 1));
}

void state_abort(MDB_txn *txn)
{
	struct state *st;

	if (!txn)
		return;
	st = state_txn_state(txn);
	/* before LMDB lets another write begin */
	state_strs_settle(st->strs, state_strs_detach(st->strs, txn), false);
	mdb_txn_abort(txn);
	state_txn_release(st);
}

/* state_map_size - the current map size in bytes */
size_t state_map_size(struct state *st)
{
	MDB_envinfo info;

	if (!st->env || mdb_env_info(st->env, &info))
		return 0;
	return info.me_mapsize;
}

/* state_set_map_size - set the map size (LMDB keeps at least the data) */
int state_set_map_size(struct state *st, size_t size)
{
	size_t old;
	int mrc, rc;

	rc = state_resize_lock(st);
	if (rc)
		return rc;
	if (!st->env) {
		rc = state_unusable();
		goto out;
	}
	old = state_map_size(st);
	mrc = mdb_env_set_mapsize(st->env, size);
	if (mrc)
		rc = state_remap_failed(st, mrc, old, size);
out:
	(void)pthread_rwlock_unlock(&st->lock);
	return rc;
}

/* state_grow - double the map size */
int state_grow(struct state *st)
{
	size_t size = state_map_size(st);

	if (!st->env)
		return state_unusable();
	if (size == 0 || size > SIZE_MAX / 2) {
		state_grow_rc = -ENOSPC;
		snprintf(state_grow_msg, sizeof(state_grow_msg), "state map "
			 "full at %zu MiB: it cannot grow further", size >> 20);
		return -ENOSPC;
	}
	return state_set_map_size(st, size * 2);
}

/* state_log_grown - the map's new size, in the log */
static void state_log_grown(struct state *st, const char *why)
{
	log_info("state", "state map grown to %zu MiB%s",
		 (state_map_size(st) + (1u << 20) - 1) >> 20, why);
}

int state_grow_logged(struct state *st)
{
	int rc = state_grow(st);

	if (rc == 0)
		state_log_grown(st, "");
	return rc;
}

int state_reserve(struct state *st, size_t bytes)
{
	MDB_envinfo info;
	MDB_stat ms;
	size_t used, want;
	int rc;

	if (!st->env)
		return state_unusable();
	if (mdb_env_info(st->env, &info) != 0 ||
	    mdb_env_stat(st->env, &ms) != 0)
		return 0;	/* nothing known: a full map still grows it */
	/* a copy-on-write transaction may copy every page in use before
	   the old ones are free */
	used = ((size_t)info.me_last_pgno + 1) * ms.ms_psize;
	if (used > SIZE_MAX / 4 || bytes > SIZE_MAX / 4)
		return 0;
	want = used * 2 + bytes;
	if (info.me_mapsize >= want)
		return 0;
	while (state_map_size(st) < want) {
		rc = state_grow(st);
		if (rc)
			return rc;
	}
	state_log_grown(st, " (ahead of a large write)");
	return 0;
}

int state_turn(struct state *st)
{
	MDB_txn *txn = NULL;
	uint64_t n = 0;
	int rc;

	rc = state_begin(st, true, &txn);
	if (rc)
		return rc;
	rc = state_meta_get_u64(st, txn, "state.turns", &n);
	if (rc == 0 || rc == -ENOENT)
		rc = state_meta_put_u64(st, txn, "state.turns", n + 1);
	if (rc) {
		state_abort(txn);
		return rc;
	}
	return state_commit_lazy(st, txn);
}

/* state_write_run - one write through FN, grown when full; LAZY: commit
   without waiting for the disk */
static int state_write_run(struct state *st, state_write_fn fn, void *arg,
			   bool lazy, int grow_tries)
{
	MDB_txn *txn = NULL;
	int tries, rc;

	for (tries = 0;; tries++) {
		rc = state_begin(st, true, &txn);
		if (rc)
			return rc;
		rc = fn(st, txn, arg);
		if (rc != 0)
			state_abort(txn);
		else if (lazy)
			rc = state_commit_lazy(st, txn);
		else
			rc = state_commit(txn);
		txn = NULL;
		if (rc != -ENOSPC || tries >= grow_tries)
			return rc;
		rc = state_grow_logged(st);
		if (rc)
			return rc;
	}
}

/* state_write - a durable write through FN */
int state_write(struct state *st, state_write_fn fn, void *arg)
{
	return state_write_run(st, fn, arg, false, STATE_GROW_TRIES);
}

int state_write_fixed(struct state *st, state_write_fn fn, void *arg)
{
	return state_write_run(st, fn, arg, false, 0);
}

/* state_write_lazy - a write through FN, committed lazily */
int state_write_lazy(struct state *st, state_write_fn fn, void *arg)
{
	return state_write_run(st, fn, arg, true, STATE_GROW_TRIES);
}

/* state_key - KEY as an LMDB key: not empty, within LMDB's limit */
static int state_key(const struct state *st, const char *key, MDB_val *k)
{
	if (key == NULL)
		return -EINVAL;
	k->mv_size = strlen(key);
	k->mv_data = (void *)key;
	if (k->mv_size == 0)
		return -EINVAL;
	if (k->mv_size > st->maxkey)
		return -ENAMETOOLONG;
	return 0;
}

/* state_get_val - the value of KEY in DBI */
static int state_get_val(struct state *st, MDB_txn *txn, MDB_dbi dbi,
			 const char *key, MDB_val *v)
{
	MDB_val k;
	int rc;

	rc = state_key(st, key, &k);
	if (rc)
		return rc;
	return state_mdb_rc(mdb_get(txn, dbi, &k, v));
}

/* state_put_val - store LEN bytes of BUF as the value of KEY in DBI */
static int state_put_val(struct state *st, MDB_txn *txn, MDB_dbi dbi,
			 const char *key, uint8_t *buf, size_t len)
{
	MDB_val k, v = { len, buf };
	int rc;

	rc = state_key(st, key, &k);
	if (rc)
		return rc;
	return state_mdb_rc(mdb_put(txn, dbi, &k, &v, 0));
}

/* the dictionary of strings as the record codec calls it */
static int state_strs_intern_cb(void *ctx, const char *s, size_t n,
				uint32_t *id)
{
	return state_strs_intern(ctx, s, n, id);
}

static int state_strs_lookup_cb(void *ctx, uint32_t id, const char **s,
				size_t *n)
{
	return state_strs_lookup(ctx, id, s, n);
}

/* state_strs_use_lock - the dictionary's lock taken, and U and SD set
   for one record in TXN */
static void state_strs_use_lock(struct state *st, MDB_txn *txn,
				struct state_strs_use *u,
				struct rcpt_strings *sd)
{
	state_strs_lock(st->strs);
	u->d = st->strs;
	u->txn = txn;
	u->have_tables = st->has_later[STATE_STRS] &&
			 st->has_later[STATE_STRS_IX];
	u->strs = st->later[STATE_STRS];
	u->ix = st->later[STATE_STRS_IX];
	u->write = state_strs_is_write(st->strs, txn);
	u->addr = NULL;
	sd->intern = state_strs_intern_cb;
	sd->lookup = state_strs_lookup_cb;
	sd->ctx = u;
	sd->memo = state_strs_memo(u);
}

/* state_rcpt_decode_x - the LEN bytes at BUF, read in TXN, into R
   (LEAN: rcpt_decode_lean) */
static int state_rcpt_decode_x(struct state *st, MDB_txn *txn,
			       const void *buf, size_t len, struct rcpt *r,
			       bool lean)
{
	struct state_strs_use u;
	struct rcpt_strings sd;
	int rc;

	state_strs_use_lock(st, txn, &u, &sd);
	rc = lean ? rcpt_decode_lean(buf, len, &sd, r) :
		    rcpt_decode_strs(buf, len, &sd, r);
	state_strs_unlock(st->strs);
	return rc;
}

/* state_rcpt_decode - the LEN bytes at BUF, read in TXN, into R */
static int state_rcpt_decode(struct state *st, MDB_txn *txn,
			     const void *buf, size_t len, struct rcpt *r)
{
	return state_rcpt_decode_x(st, txn, buf, len, r, false);
}

/* state_rcpt_encode - R, ADDR's record to be written in TXN, into BUF
   (version 5) */
static int state_rcpt_encode(struct state *st, MDB_txn *txn,
			     const char *addr, const struct rcpt *r,
			     uint8_t *buf, size_t cap, size_t *len)
{
	struct state_strs_use u;
	struct rcpt_strings sd;
	int rc;

	state_strs_use_lock(st, txn, &u, &sd);
	u.addr = addr;
	rc = rcpt_encode_strs(r, &sd, buf, cap, len);
	state_strs_unlock(st->strs);
	return rc;
}

int state_rcpt_get(struct state *st, MDB_txn *txn, const char *addr,
		   struct rcpt *r)
{
	MDB_val v;
	int rc;

	rc = state_get_val(st, txn, st->rcpt, addr, &v);
	if (rc)
		return rc;
	return state_rcpt_decode(st, txn, v.mv_data, v.mv_size, r);
}

int state_rcpt_put(struct state *st, MDB_txn *txn, const char *addr,
		   const struct rcpt *r)
{
	uint8_t buf[RCPT_ENCODED_MAX];
	size_t len = 0;
	int rc;

	rc = state_rcpt_encode(st, txn, addr, r, buf, sizeof(buf), &len);
	if (rc)
		return rc;
	return state_put_val(st, txn, st->rcpt, addr, buf, len);
}

/* state_rcpt_cursor_open - a cursor over the rcpt table in TXN */
int state_rcpt_cursor_open(struct state *st, MDB_txn *txn, MDB_cursor **cur)
{
	*cur = NULL;
	return state_mdb_rc(mdb_cursor_open(txn, st->rcpt, cur));
}

/* state_rcpt_cursor_get - ADDR's record through CUR */
int state_rcpt_cursor_get(struct state *st, MDB_cursor *cur, const char *addr,
			  struct rcpt *r)
{
	MDB_val k, v;
	int rc;

	rc = state_key(st, addr, &k);
	if (rc)
		return rc;
	rc = state_mdb_rc(mdb_cursor_get(cur, &k, &v, MDB_SET_KEY));
	if (rc)
		return rc;
	return state_rcpt_decode_x(st, mdb_cursor_txn(cur), v.mv_data,
				   v.mv_size, r, true);
}

/* state_rcpt_cursor_put - ADDR's record through CUR, in place when the
   cursor is at ADDR (FOUND) */
int state_rcpt_cursor_put(struct state *st, MDB_cursor *cur, const char *addr,
			  const struct rcpt *r, bool found)
{
	uint8_t buf[RCPT_ENCODED_MAX];
	MDB_val k, v;
	size_t len = 0;
	int rc;

	rc = state_rcpt_encode(st, mdb_cursor_txn(cur), addr, r, buf,
			       sizeof(buf), &len);
	if (rc == 0)
		rc = state_key(st, addr, &k);
	if (rc)
		return rc;
	v.mv_size = len;
	v.mv_data = buf;
	return state_mdb_rc(mdb_cursor_put(cur, &k, &v,
					   found ? MDB_CURRENT : 0));
}

/* state_rcpt_cursor_close - NULL is fine */
void state_rcpt_cursor_close(MDB_cursor *cur)
{
	if (cur)
		mdb_cursor_close(cur);
}

int state_rcpt_del(struct state *st, MDB_txn *txn, const char *addr)
{
	MDB_val k;
	int rc;

	rc = state_key(st, addr, &k);
	if (rc)
		return rc;
	return state_mdb_rc(mdb_del(txn, st->rcpt, &k, NULL));
}

typedef int (*state_visit_fn)(const MDB_val *k, const MDB_val *v, void *ctx);

/* state_walk - VISIT every entry of DBI in key order, from FROM or the
   first; a non-zero VISIT result stops the walk and is returned */
static int state_walk(struct state *st, MDB_txn *txn, MDB_dbi dbi,
		      const char *from, state_visit_fn visit, void *ctx)
{
	MDB_cursor *cur = NULL;
	MDB_cursor_op op = MDB_FIRST;
	MDB_val k = { 0, NULL }, v = { 0, NULL };
	int mrc, rc;

	if (from != NULL && from[0] != '\0') {
		rc = state_key(st, from, &k);
		if (rc)
			return rc;
		op = MDB_SET_RANGE;
	}
	mrc = mdb_cursor_open(txn, dbi, &cur);
	if (mrc)
		return state_mdb_rc(mrc);
	for (mrc = mdb_cursor_get(cur, &k, &v, op); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		rc = visit(&k, &v, ctx);
		if (rc)
			goto out;
	}
	rc = mrc == MDB_NOTFOUND ? 0 : state_mdb_rc(mrc);
out:
	mdb_cursor_close(cur);
	return rc;
}

struct state_rcpt_walk {
	struct state *st;
	MDB_txn *txn;
	state_rcpt_cb cb;
	void *arg;
	struct rcpt r;
};

/* state_rcpt_visit - decode one rcpt entry for the caller's callback */
static int state_rcpt_visit(const MDB_val *k, const MDB_val *v, void *ctx)
{
	struct state_rcpt_walk *w = ctx;
	bool ok = state_rcpt_decode(w->st, w->txn, v->mv_data, v->mv_size,
				    &w->r) == 0;

	return w->cb(k->mv_data, k->mv_size, ok ? &w->r : NULL, w->arg);
}

int state_rcpt_foreach(struct state *st, MDB_txn *txn, const char *from,
		       state_rcpt_cb cb, void *arg)
{
	struct state_rcpt_walk w = { .st = st, .txn = txn, .cb = cb,
				     .arg = arg };

	return state_walk(st, txn, st->rcpt, from, state_rcpt_visit, &w);
}

int state_file_get(struct state *st, MDB_txn *txn, const char *key,
		   struct file_rec *f)
{
	MDB_val v;
	int rc;

	rc = state_get_val(st, txn, st->files, key, &v);
	if (rc)
		return rc;
	return file_rec_decode(v.mv_data, v.mv_size, f);
}

int state_file_put(struct state *st, MDB_txn *txn, const char *key,
		   const struct file_rec *f)
{
	uint8_t buf[FILE_ENCODED_MAX];
	size_t len = 0;
	int rc;

	rc = file_rec_encode(f, buf, sizeof(buf), &len);
	if (rc == 0)
		rc = state_put_val(st, txn, st->files, key, buf, len);
	if (rc == 0)
		rc = state_files_fp_put(st, txn, key, strlen(key), f);
	return rc;
}

struct state_file_walk {
	state_file_cb cb;
	void *arg;
};

/* state_file_visit - decode one files entry for the caller's callback */
static int state_file_visit(const MDB_val *k, const MDB_val *v, void *ctx)
{
	struct state_file_walk *w = ctx;
	struct file_rec f;
	bool ok = file_rec_decode(v->mv_data, v->mv_size, &f) == 0;

	return w->cb(k->mv_data, k->mv_size, ok ? &f : NULL, w->arg);
}

int state_file_foreach(struct state *st, MDB_txn *txn, state_file_cb cb,
		       void *arg)
{
	struct state_file_walk w = { .cb = cb, .arg = arg };

	return state_walk(st, txn, st->files, NULL, state_file_visit, &w);
}

int state_meta_get_u64(struct state *st, MDB_txn *txn, const char *name,
		       uint64_t *v)
{
	MDB_val k;
	int rc;

	rc = state_key(st, name, &k);
	if (rc)
		return rc;
	return state_raw_get_u64(txn, st->meta, name, v);
}

int state_meta_put_u64(struct state *st, MDB_txn *txn, const char *name,
		       uint64_t v)
{
	MDB_val k;
	int rc;

	rc = state_key(st, name, &k);
	if (rc)
		return rc;
	return state_raw_put_u64(txn, st->meta, name, v);
}

/* state_meta_add_u64 - add DELTA to a counter (missing = 0) */
int state_meta_add_u64(struct state *st, MDB_txn *txn, const char *name,
		       uint64_t delta)
{
	uint64_t v = 0;
	int rc;

	rc = state_meta_get_u64(st, txn, name, &v);
	if (rc != 0 && rc != -ENOENT)
		return rc;
	if (rc == -ENOENT)
		v = 0;
	return state_meta_put_u64(st, txn, name, v + delta);
}

/* state_dbi - the handle of TABLE: 0, -EINVAL (no such table name) or
   -ENOENT (outbox tables absent from a read-only state) */
int state_dbi(struct state *st, const char *table, MDB_dbi *dbi)
{
	if (table == NULL)
		return -EINVAL;
	if (strcmp(table, "rcpt") == 0)
		*dbi = st->rcpt;
	else if (strcmp(table, "files") == 0)
		*dbi = st->files;
	else if (strcmp(table, "meta") == 0)
		*dbi = st->meta;
	else {
		size_t i;

		for (i = 0; i < STATE_LATER_TABLES; i++)
			if (strcmp(table, state_later_tables[i]) == 0)
				break;
		if (i == STATE_LATER_TABLES)
			return -EINVAL;
		if (!st->has_later[i])
			return -ENOENT;
		*dbi = st->later[i];
	}
	return 0;
}

int state_table_cursor(struct state *st, MDB_txn *txn, const char *table,
		       MDB_cursor **cur)
{
	MDB_dbi dbi;
	int rc;

	*cur = NULL;
	rc = state_dbi(st, table, &dbi);
	if (rc == -ENOENT)
		return 0;	/* a read-only state from before the table */
	if (rc)
		return rc;
	return state_mdb_rc(mdb_cursor_open(txn, dbi, cur));
}

/* state_mdb_errno - an LMDB return code as 0 or -errno, remembered for
   state_strerror() like the module's own */
int state_mdb_errno(int mrc)
{
	return state_mdb_rc(mrc);
}

/* state_stat - TABLE's LMDB statistics (all zero for a table a
   read-only state does not have) */
static int state_stat(struct state *st, MDB_txn *txn, const char *table,
		      MDB_stat *ms)
{
	MDB_dbi dbi;
	int mrc, rc;

	memset(ms, 0, sizeof(*ms));
	rc = state_dbi(st, table, &dbi);
	if (rc == -ENOENT)	/* read-only state without an outbox */
		return 0;
	if (rc)
		return rc;
	mrc = mdb_stat(txn, dbi, ms);
	return mrc ? state_mdb_rc(mrc) : 0;
}

/* state_stat_entries - number of entries of TABLE */
int state_stat_entries(struct state *st, MDB_txn *txn, const char *table,
		       uint64_t *n)
{
	MDB_stat ms;
	int rc = state_stat(st, txn, table, &ms);

	*n = rc ? 0 : ms.ms_entries;
	return rc;
}

/* state_stat_pages - pages of TABLE's tree */
int state_stat_pages(struct state *st, MDB_txn *txn, const char *table,
		     uint64_t *n, uint64_t *entries)
{
	MDB_stat ms;
	int rc = state_stat(st, txn, table, &ms);

	*n = rc ? 0 : (uint64_t)ms.ms_branch_pages + ms.ms_leaf_pages +
			      ms.ms_overflow_pages;
	if (entries)
		*entries = rc ? 0 : (uint64_t)ms.ms_entries;
	return rc;
}
