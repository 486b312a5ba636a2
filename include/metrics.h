/*
 * metrics.h - the counters operators watch, read from the state, and fed
 * into the round-robin database (RRD) and a Prometheus textfile.
 *
 * The running totals live in the state's meta table, written in the same
 * transaction as what they count: "count.hard", "count.soft",
 * "count.escalated", "count.complaint", "count.unsub", "count.duplicate"
 * (ingest), "count.api_ok", "count.api_retry", "count.api_dead" (the
 * dispatcher's results), "count.fbl_dsn", "count.fbl_autoreply",
 * "count.fbl_authreport", "count.fbl_forward", "count.fbl_notours" (mails
 * of the feedback maildir set aside, by kind: mail_events.h),
 * "count.incident.opened", "count.incident.closed", "count.alert.raised",
 * "count.alert.cleared" (the monitor's transitions, with the batch that
 * caused them) and "count.held" (hard bounces held by an incident).  The
 * gauges are read at each update: the outbox entries, the incidents open
 * (incident table) and the alerts up (alerts table).
 *
 * The RRD gets, once per step (METRICS_STEP seconds, aligned on the wall
 * clock), the difference between the totals now and the totals at its last
 * update.  That base ("rrd.time", "rrd.base.*") is kept in meta too, so a
 * restart loses nothing and every writer of the state (bounced run,
 * bounced process, the pipe mode) feeds the same graphs.  An update is
 * written in two phases so that a crash between the RRD file and the state
 * can neither count a step twice nor drop it: the totals to be written are
 * recorded first ("rrd.next.*"), then the RRD is updated, then they become
 * the base; on the next update, a pending record is promoted when the RRD
 * shows its time, dropped otherwise.
 *
 * Counts land in the step in which they were committed (to within a
 * step).  A gap since the last update (nothing ran) is written as zero
 * counts up to the step before; a gauge is unknown over a gap longer
 * than two steps.  A step already written (a clock that went back,
 * a second writer in the same minute) is skipped, never an error: its
 * counts stay in the difference and land in the next step written.
 *
 * Functions return 0 or negative errno with a message in ERR; nothing here
 * exits.  librrd keeps its error in a per-thread buffer: one thread only.
 */
#ifndef BOUNCED_METRICS_H
#define BOUNCED_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <lmdb.h>

struct config;
struct state;

#define METRICS_STEP 60		/* seconds per RRD step */

/* the RRD's data sources, in the order of a file created now (a file
   migrated from an older layout has its added sources at the end, which
   is this order too; updates and reads go by name anyway) */
enum metrics_ds {
	METRICS_HARD = 0,
	METRICS_SOFT,
	METRICS_ESCALATED,
	METRICS_COMPLAINT,
	METRICS_UNSUB,
	METRICS_DUPLICATE,
	METRICS_API_OK,
	METRICS_API_RETRY,
	METRICS_API_DEAD,
	METRICS_FBL_DSN,	/* feedback mails set aside, by kind */
	METRICS_FBL_AUTOREPLY,
	METRICS_FBL_AUTHREPORT,
	METRICS_FBL_FORWARD,
	METRICS_FBL_NOTOURS,
	METRICS_QUEUE,		/* outbox entries (a gauge) */
	METRICS_INCIDENT_OPENED,	/* the monitor's transitions */
	METRICS_INCIDENT_CLOSED,
	METRICS_ALERT_RAISED,
	METRICS_ALERT_CLEARED,
	METRICS_HELD,		/* hard bounces held by an incident */
	METRICS_INCIDENTS_OPEN,	/* incidents open now (a gauge) */
	METRICS_ALERTS_ACTIVE,	/* alerts up now (a gauge) */
	METRICS_N_DS
};

/* what a data source holds: a running total's growth per step (stored
   as an ABSOLUTE rate, drawn as a count per interval) or a level read at
   each update (GAUGE, drawn as the highest level of each interval) */
enum metrics_kind {
	METRICS_COUNT = 0,
	METRICS_GAUGE,
};

/* metrics_ds_name - "hard", "soft", …, "queue" (the RRD's names) */
const char *metrics_ds_name(unsigned ds);
/* metrics_ds_meta - the meta counter of a counting data source
   ("count.hard", …); NULL for a gauge */
const char *metrics_ds_meta(unsigned ds);
/* metrics_ds_kind - METRICS_COUNT or METRICS_GAUGE (the one table in
   metrics.c says which) */
enum metrics_kind metrics_ds_kind(unsigned ds);

/* the values of one moment */
#define METRICS_RATE_TOP 10		/* names per dimension */
#define METRICS_RATE_SPAN 3600		/* seconds of the rate gauges */

struct metrics_snapshot {
	/* every data source: a count's running total, a gauge's level
	   (v[METRICS_QUEUE] the outbox entries, v[METRICS_INCIDENTS_OPEN]
	   the incidents open, v[METRICS_ALERTS_ACTIVE] the alerts up) */
	uint64_t v[METRICS_N_DS];
	uint64_t records;		/* count.records */
	uint64_t dead;			/* entries of the dead table */
	/* the last hour's counts of the busiest destinations and sources
	   (METRICS_RATE_TOP each, by attempts), for the rate gauges */
	struct metrics_rate {
		int dim;			/* enum alert_dimension */
		char name[64];
		uint64_t c[5];			/* enum rates_counter */
	} rates[2 * METRICS_RATE_TOP];
	size_t n_rates;
};

/*
 * metrics_read - the totals of the meta table (missing = 0) and the sizes
 * of the outbox and dead tables, in TXN; 0 or -errno
 */
int metrics_read(struct state *st, MDB_txn *txn, struct metrics_snapshot *s);

/* metrics_meta_get - the u64 meta value NAME, 0 when missing; 0 or -errno */
int metrics_meta_get(struct state *st, MDB_txn *txn, const char *name,
		     uint64_t *v);

/*
 * metrics_textfile_write - S as Prometheus text exposition (format 0.0.4)
 * into PATH, atomically (a temporary file in the same directory, synced,
 * renamed), for node_exporter's textfile collector, with permissions
 * MODE (before the umask).  NOW is the Unix time the values were read.
 * 0 or -errno with ERR naming the file (-EEXIST: PATH is not a regular
 * file, and is left alone).
 */
int metrics_textfile_write(const char *path, const struct metrics_snapshot *s,
			   int64_t now, mode_t mode, char *err, size_t errlen);

/* metrics_textfile_format - the text metrics_textfile_write writes, into a
   new GString (g_string_free it) */
struct _GString;
struct _GString *metrics_textfile_format(const struct metrics_snapshot *s,
					 int64_t now);

/* the feeder: one per process that writes the state */
struct metrics;

/*
 * metrics_new - a feeder for CFG's RRD file ([rrd] file) and textfile
 * ([metrics] textfile, may be unset) over ST, opened for writing, started
 * at NOW (its first tick is the next step boundary).  When the state never
 * fed an RRD, the totals as they stand become the base, so that counts
 * from before metrics existed do not land in the first step.  0 or -errno
 * with ERR (the state could not be written).
 */
int metrics_new(struct metrics **out, const struct config *cfg,
		struct state *st, int64_t now, char *err, size_t errlen);
void metrics_free(struct metrics *m);

/*
 * metrics_tick - when NOW (Unix seconds) has reached a step boundary not
 * yet tried by this feeder, update the RRD at that boundary (creating
 * the file on first use, moving a file of another layout aside) and write
 * the textfile.  Cheap when nothing is due: call it as often as you like.
 * Returns 1 when an update was written, 0 when none was due or the step
 * was skipped (already written), or -errno after logging why (the RRD or
 * the state could not be written; processing should go on).
 */
int metrics_tick(struct metrics *m, int64_t now);

/*
 * metrics_flush - the end of a run: update the RRD at the end of the step
 * NOW is in (NOW itself on a boundary), where the counts committed since
 * the last boundary belong, and write the textfile.  When this feeder
 * already wrote that step (a tick in the same second, on the boundary),
 * the next step takes the counts committed since: a flush leaves nothing
 * counted out of the RRD.  Same returns as metrics_tick.
 */
int metrics_flush(struct metrics *m, int64_t now);

/*
 * metrics_update_at - update the RRD at step T (a multiple of
 * METRICS_STEP) from the totals in ST now; what metrics_tick does, with
 * an explicit time (tests, tools).  Returns 1 written, 0 skipped (T is not
 * after the last update), or -errno with ERR.
 */
int metrics_update_at(struct state *st, const char *rrd_path, int64_t t,
		      char *err, size_t errlen);

#endif
