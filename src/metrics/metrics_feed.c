/*
 * metrics_feed.c - feed the RRD and the textfile from the state's running
 * totals, once per step (the two-phase update is described in metrics.h).
 *
 * Meta keys: "rrd.time" (the last step written; present once a feeder
 * ran), "rrd.base.NAME" (the totals it wrote up to), "rrd.next.time" and
 * "rrd.next.NAME" (an update under way; time 0 = none).  Writers of the
 * same RRD (a daemon and a one-shot run) take turns under an flock of the
 * RRD's directory.
 *
 * Error policy: metrics_update_at returns errors; metrics_tick and
 * metrics_flush log them (at most one warning per METRICS_LOG_EVERY
 * seconds; debug lines between) and return them: processing goes on.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <glib.h>

#include "atomic_file.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "rrd_file.h"
#include "rrd_lib.h"
#include "state.h"

#define METRICS_LOG_EVERY 600
#define METRICS_KEY_MAX 64

struct metrics {
	struct state *st;
	char *rrd_path;
	char *textfile;		/* NULL: none */
	int64_t text_step;	/* the minute the textfile was last written
				   for by a tick */
	bool said_back;		/* the clock going back was logged */
	char *state_dir, *spool_dir;	/* a textfile under them: 0640 */
	int64_t done_step;	/* the last step this feeder tried */
	int64_t logged;		/* when a failure was last warned about */
};

/* metrics_key - "rrd.WHICH.NAME" of data source DS */
static const char *metrics_key(char *buf, const char *which, unsigned ds)
{
	snprintf(buf, METRICS_KEY_MAX, "rrd.%s.%s", which, metrics_ds_name(ds));
	return buf;
}

/* metrics_put_all - meta rrd.WHICH.* := V of every counting source */
static int metrics_put_all(struct state *st, MDB_txn *txn, const char *which,
			   const uint64_t *v)
{
	char key[METRICS_KEY_MAX];
	unsigned i;
	int rc = 0;

	for (i = 0; rc == 0 && i < METRICS_N_DS; i++)
		if (metrics_ds_kind(i) == METRICS_COUNT)
			rc = state_meta_put_u64(st, txn,
						metrics_key(key, which, i),
						v[i]);
	return rc;
}

/* metrics_get_all - V := meta rrd.WHICH.* of every counting source; a
   key that is missing leaves its V as it was (the caller's default) */
static int metrics_get_all(struct state *st, MDB_txn *txn, const char *which,
			   uint64_t *v)
{
	char key[METRICS_KEY_MAX];
	unsigned i;
	int rc = 0;

	for (i = 0; rc == 0 && i < METRICS_N_DS; i++) {
		if (metrics_ds_kind(i) != METRICS_COUNT)
			continue;
		rc = state_meta_get_u64(st, txn, metrics_key(key, which, i),
					&v[i]);
		if (rc == -ENOENT)
			rc = 0;
	}
	return rc;
}

/* metrics_recover - settle an update left pending by a crash: promoted
   when the RRD shows it (LAST), dropped otherwise; *BASE_TIME updated */
static int metrics_recover(struct state *st, MDB_txn *txn, int64_t last,
			   int64_t *base_time)
{
	uint64_t next_time = 0, v[METRICS_N_DS];
	int rc = metrics_meta_get(st, txn, "rrd.next.time", &next_time);

	if (rc || next_time == 0)
		return rc;
	if (last >= (int64_t)next_time) {
		/* a source the pending record lacks (written by an older
		   bounced) keeps its base */
		memset(v, 0, sizeof(v));
		rc = metrics_get_all(st, txn, "base", v);
		if (rc == 0)
			rc = metrics_get_all(st, txn, "next", v);
		if (rc == 0)
			rc = metrics_put_all(st, txn, "base", v);
		if (rc == 0)
			rc = state_meta_put_u64(st, txn, "rrd.time", next_time);
		*base_time = (int64_t)next_time;
	}
	if (rc == 0)
		rc = state_meta_put_u64(st, txn, "rrd.next.time", 0);
	return rc;
}

struct metrics_prep {
	int64_t t, last;
	struct rrdfile_row *rows;	/* 2 of them */
	unsigned n;
};

/* metrics_prepare_txn - phase one in TXN (state_write_fn); a skipped
   step commits the recovery, if any */
static int metrics_prepare_txn(struct state *st, MDB_txn *txn, void *arg)
{
	struct metrics_prep *p = arg;
	struct rrdfile_row *rows = p->rows;
	struct metrics_snapshot s;
	uint64_t base[METRICS_N_DS], bt = 0;
	int64_t base_time, t = p->t, last = p->last;
	bool fed;
	unsigned i;
	int rc;

	p->n = 0;
	memset(&s, 0, sizeof(s));
	rc = state_meta_get_u64(st, txn, "rrd.time", &bt);
	fed = rc == 0;
	if (rc == -ENOENT)
		rc = 0;
	base_time = (int64_t)bt;
	if (rc == 0)
		rc = metrics_recover(st, txn, last, &base_time);
	if (rc == 0)
		rc = metrics_read(st, txn, &s);
	/* in a state fed before, a counting source with no base yet (one
	   this version added) starts from its total now: its history does
	   not land in this step */
	if (fed)
		memcpy(base, s.v, sizeof(base));
	else
		memset(base, 0, sizeof(base));
	if (rc == 0)
		rc = metrics_get_all(st, txn, "base", base);
	if (rc || t <= base_time || t <= last)
		return rc;	/* skipped: the recovery, if any, is kept */
	memset(rows, 0, 2 * sizeof(*rows));
	if (last < t - METRICS_STEP) {
		/* a gap: nothing was counted up to the step before */
		rows[p->n].t = t - METRICS_STEP;
		for (i = 0; i < METRICS_N_DS; i++)
			if (metrics_ds_kind(i) == METRICS_GAUGE)
				rows[p->n].v[i] = s.v[i];
		p->n++;
	}
	rows[p->n].t = t;
	for (i = 0; i < METRICS_N_DS; i++) {
		if (metrics_ds_kind(i) == METRICS_GAUGE)
			rows[p->n].v[i] = s.v[i];
		else
			rows[p->n].v[i] = s.v[i] >= base[i] ? s.v[i] - base[i]
							     : 0;
	}
	p->n++;
	rc = metrics_put_all(st, txn, "next", s.v);
	if (rc == 0)
		rc = state_meta_put_u64(st, txn, "rrd.next.time", (uint64_t)t);
	return rc;
}

/* metrics_prepare - phase one: the row(s) for step T into ROWS (*N), the
   totals recorded as pending; *N = 0 when T is not after the last update */
static int metrics_prepare(struct state *st, int64_t t, int64_t last,
			   struct rrdfile_row *rows, unsigned *n)
{
	struct metrics_prep p = { .t = t, .last = last, .rows = rows };
	int rc = state_write(st, metrics_prepare_txn, &p);

	*n = rc ? 0 : p.n;
	return rc;
}

/* metrics_settle_txn - phase three in TXN (state_write_fn) */
static int metrics_settle_txn(struct state *st, MDB_txn *txn, void *arg)
{
	int64_t bt = 0;

	return metrics_recover(st, txn, *(const int64_t *)arg, &bt);
}

/* metrics_settle - phase three: the pending totals become the base */
static int metrics_settle(struct state *st, int64_t t)
{
	return state_write(st, metrics_settle_txn, &t);
}

/* metrics_lock - an exclusive flock of PATH's directory; fd or -errno */
static int metrics_lock(const char *path)
{
	char *dir = g_path_get_dirname(path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	g_free(dir);
	if (fd < 0)
		return -errno;
	while ((rc = flock(fd, LOCK_EX)) != 0 && errno == EINTR)
		;
	if (rc != 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

int metrics_update_at(struct state *st, const char *rrd_path, int64_t t,
		      char *err, size_t errlen)
{
	struct rrdfile_row rows[2];
	int64_t last = 0;
	unsigned n = 0;
	int lock, rc;

	if (t <= 0 || t % METRICS_STEP != 0) {
		snprintf(err, errlen, "%" PRId64 " is not a step boundary", t);
		return -EINVAL;
	}
	lock = metrics_lock(rrd_path);
	if (lock < 0) {
		snprintf(err, errlen, "cannot lock the directory of '%s': %s",
			 rrd_path, strerror(-lock));
		return lock;
	}
	rc = rrdfile_ensure(rrd_path, t - METRICS_STEP, err, errlen);
	if (rc == 0)
		rc = rrdfile_last(rrd_path, &last, err, errlen);
	if (rc)
		goto out;
	rc = metrics_prepare(st, t, last, rows, &n);
	if (rc) {
		snprintf(err, errlen, "cannot read the counters for '%s': %s",
			 rrd_path, state_strerror(rc));
		goto out;
	}
	if (n == 0)
		goto out;	/* skipped */
	rc = rrdfile_update(rrd_path, rows, n, err, errlen);
	if (rc)
		goto out;	/* the pending record is dropped next time */
	rc = metrics_settle(st, t);
	if (rc) {
		snprintf(err, errlen, "'%s' updated, but the state could not "
			 "record it: %s (settled on the next update)",
			 rrd_path, state_strerror(rc));
		goto out;
	}
	rc = 1;
out:
	close(lock);
	return rc;
}

/* metrics_base_txn - a state never fed: what was counted before starts
   the base (state_write_fn); 1 when it was fed before */
static int metrics_base_txn(struct state *st, MDB_txn *txn, void *arg)
{
	struct metrics_snapshot s;
	uint64_t bt = 0;
	int rc;

	(void)arg;
	rc = state_meta_get_u64(st, txn, "rrd.time", &bt);
	if (rc != -ENOENT)
		return rc ? rc : 1;
	rc = metrics_read(st, txn, &s);
	if (rc == 0)
		rc = metrics_put_all(st, txn, "base", s.v);
	if (rc == 0)
		rc = state_meta_put_u64(st, txn, "rrd.time", 0);
	return rc;
}

int metrics_new(struct metrics **out, const struct config *cfg,
		struct state *st, int64_t now, char *err, size_t errlen)
{
	struct metrics *m;
	int rc;

	*out = NULL;
	rc = state_write(st, metrics_base_txn, NULL);
	if (rc > 0)
		rc = 0;		/* fed before: nothing to write */
	if (rc) {
		snprintf(err, errlen, "cannot prepare the metrics in the state "
			 "'%s': %s", cfg->state, state_strerror(rc));
		return rc;
	}
	m = g_new0(struct metrics, 1);
	m->st = st;
	m->rrd_path = g_strdup(cfg->rrd_file);
	m->textfile = g_strdup(cfg->metrics_textfile);
	m->state_dir = g_strdup(cfg->state);
	m->spool_dir = g_strdup(cfg->spool);
	m->done_step = now - now % METRICS_STEP;
	/* the RRD is written at the first step boundary or, in bounced
	   process, at the end: librrd is loaded meanwhile */
	if (m->rrd_path && *m->rrd_path)
		rrd_lib_preload();
	*out = m;
	return 0;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	g_free(m->rrd_path);
	g_free(m->textfile);
	g_free(m->state_dir);
	g_free(m->spool_dir);
	g_free(m);
}

/* metrics_complain - log a failure: a warning now and then, else debug */
static void metrics_complain(struct metrics *m, int64_t now, const char *msg)
{
	if (m->logged == 0 || now - m->logged >= METRICS_LOG_EVERY) {
		log_warn("metrics", "%s", msg);
		m->logged = now;
	} else {
		log_debug("metrics", "%s", msg);
	}
}

/* metrics_textfile - write the textfile from the state now */
static int metrics_textfile(struct metrics *m, int64_t now)
{
	struct metrics_snapshot s;
	MDB_txn *txn = NULL;
	char err[512];
	int rc = state_begin(m->st, false, &txn);

	if (rc == 0) {
		rc = metrics_read(m->st, txn, &s);
		state_abort(txn);
	}
	if (rc) {
		snprintf(err, sizeof(err), "cannot read the counters for '%s': "
			 "%s", m->textfile, state_strerror(rc));
		metrics_complain(m, now, err);
		return rc;
	}
	rc = metrics_textfile_write(m->textfile, &s, now,
				    atomic_file_mode_in(m->textfile, 0644,
							m->state_dir,
							m->spool_dir),
				    err, sizeof(err));
	if (rc)
		metrics_complain(m, now, err);
	return rc;
}

/* metrics_do - update at STEP, then the textfile as of NOW */
static int metrics_do(struct metrics *m, int64_t step, int64_t now)
{
	char err[512];
	int rc, trc = 0;

	m->done_step = step;
	rc = metrics_update_at(m->st, m->rrd_path, step, err, sizeof(err));
	if (rc < 0)
		metrics_complain(m, now, err);
	else if (rc == 0)
		log_debug("metrics", "%s: step %" PRId64 " already written",
			  m->rrd_path, step);
	if (m->textfile)
		trc = metrics_textfile(m, now);
	return rc < 0 ? rc : trc < 0 ? trc : rc;
}

int metrics_tick(struct metrics *m, int64_t now)
{
	int64_t step = now - now % METRICS_STEP;

	if (step <= m->done_step) {
		/* the clock went back (an NTP correction of a clock that
		   ran ahead): the RRD takes no step before its last, and
		   waits; the textfile is still written every minute.  The
		   step done already (at start, a flush) is no going back */
		if (step == m->done_step || step == m->text_step)
			return 0;
		if (!m->said_back)
			log_warn("metrics", "the clock went back: %s takes no "
				 "step before its last one, it is updated "
				 "again from %" PRId64 " on", m->rrd_path,
				 m->done_step + METRICS_STEP);
		m->said_back = true;
		m->text_step = step;
		return m->textfile && metrics_textfile(m, now) < 0 ? -1 : 0;
	}
	m->said_back = false;
	m->text_step = step;
	return metrics_do(m, step, now);
}

int metrics_flush(struct metrics *m, int64_t now)
{
	int64_t step = now - now % METRICS_STEP;
	int64_t t = step == now ? now : step + METRICS_STEP;

	/* a tick wrote this step already (NOW on its boundary): what was
	   committed since belongs to the next one */
	if (t <= m->done_step)
		t = m->done_step + METRICS_STEP;
	return metrics_do(m, t, now);
}
