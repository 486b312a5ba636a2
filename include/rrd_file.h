/*
 * rrd_file.h - the round-robin database file of the metrics, through
 * librrd (never the rrdtool program).
 *
 * Layout: step METRICS_STEP (60 s); one data source per enum metrics_ds,
 * of the kind metrics_ds_kind gives: a count (hard, soft, …, held) is
 * ABSOLUTE (the count since the last update, stored as a rate per second;
 * heartbeat one day, so that a quiet day reads as zero), a gauge (queue,
 * incidents_open, alerts_active) is GAUGE (heartbeat two steps); archives AVERAGE and MAX of 1-minute points for 2 days,
 * 5-minute for 2 weeks, 1-hour for 93 days and 1-day for 732 days.  A
 * count per step is the stored rate times the step.
 *
 * A file of another layout is told apart from ours by rrd_info: one that
 * only lacks some of our data sources (an older bounced) is migrated in
 * place (rrd_tune adds them); any other is moved aside, renamed
 * FILE.old-YYYYMMDDTHHMMSS, and a new one is created (logged as a
 * warning: its data is kept, never overwritten).
 *
 * Functions return 0 or negative errno with a message in ERR naming the
 * file; librrd's own message is quoted.  One thread only.
 */
#ifndef BOUNCED_RRD_FILE_H
#define BOUNCED_RRD_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

/* what rrdfile_check found */
enum rrdfile_layout {
	RRDFILE_OURS = 0,	/* our layout */
	RRDFILE_OLDER = 1,	/* ours but for missing data sources */
	RRDFILE_OTHER = 2,	/* another step, archives or data sources */
};

/*
 * rrdfile_check - the layout of PATH: *LAYOUT and, unless ours, what
 * differs in WHY ("step 300 s, not 60 s").  -ENOENT when there is no file,
 * -EINVAL when librrd cannot read it (ERR has its reason).
 */
int rrdfile_check(const char *path, enum rrdfile_layout *layout, char *why,
		  size_t whylen, char *err, size_t errlen);

/*
 * rrdfile_create - a new file of our layout at PATH whose first step ends
 * after START (Unix seconds): written under a temporary name and linked
 * into place, so no reader sees half a file; -EEXIST when PATH exists.
 */
int rrdfile_create(const char *path, int64_t start, char *err, size_t errlen);

/*
 * rrdfile_ensure - PATH ready for updates from START on: created when
 * missing, migrated when older, moved aside and created when another
 * layout (see above); what was done is logged.  0 or -errno with ERR.
 */
int rrdfile_ensure(const char *path, int64_t start, char *err, size_t errlen);

/* rrdfile_last - the time of the last update of PATH; 0 or -errno */
int rrdfile_last(const char *path, int64_t *t, char *err, size_t errlen);

/* one update: time and the values of every data source (enum metrics_ds) */
struct rrdfile_row {
	int64_t t;
	uint64_t v[METRICS_N_DS];
};

/*
 * rrdfile_update - write ROWS (N, times increasing) into PATH, values by
 * data source name, so that a migrated file's order does not matter.
 * -ERANGE when a time is not after the file's last update (nothing
 * written); other -errno with ERR.
 */
int rrdfile_update(const char *path, const struct rrdfile_row *rows,
		   unsigned n, char *err, size_t errlen);

#endif
