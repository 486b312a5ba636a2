/*
 * ingest_priv.h - the ingest context, shared by the core (ingest.c), the
 * commit step (ingest_commit.c) and the operator's mail it queues
 * (ingest_notify.c): what one struct ingest holds for every input it
 * takes, and the capped per-line messages of one input.
 */
#ifndef BOUNCED_INGEST_PRIV_H
#define BOUNCED_INGEST_PRIV_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <lmdb.h>

#include "acct_fields.h"
#include "batch.h"
#include "classify.h"
#include "ingest.h"
#include "log.h"
#include "monitor.h"
#include "rcpt_rules.h"

/* bytes of one read of an input: small enough that what read() copies
   out of the page cache is still in the core's cache when the source
   copies it and the parser reads it (1 MiB reads took the reading of 2M
   records to the end of the file in 3.69 s against 3.57 s, medians of
   seven alternating runs) */
#define INGEST_CHUNK (1u << 17)

struct ingest {
	const struct config *cfg;
	struct state *st;
	struct classify_rules rules;
	struct escalation esc;
	struct batch *batch;		/* the job's, until ingest_end */
	struct acct_map fallback;	/* header-less field order */
	char *buf;			/* INGEST_CHUNK read buffer */
	void (*on_commit)(void *arg);	/* after each commit, or NULL */
	void *on_commit_arg;
	bool input_failed;		/* ingest_file: the error was the input's */
	/* ingest_file, ingest_begin: the input was taken before under this
	   other path (ingest_already_as; "": not so) */
	char already_as[PATH_MAX];
	/* incidents and rates (NULL: both off); loaded from the state
	   before the first input, again after a failed commit */
	struct monitor *mon;
	bool mon_loaded;
	struct classify_overrides *over; /* [classify] rules, compiled */
};

/* ingest_monitor_new - IN's monitor from its configuration (none when
   incidents and rates are both off) */
void ingest_monitor_new(struct ingest *in);

/* ingest_monitor_advance - time passes to NOW (record time, or the clock
   of a worker with nothing to read): quiet incidents close, their held
   bounces are applied, drained alerts clear; 0 or -errno (logged) */
int ingest_monitor_advance(struct ingest *in, int64_t now);

/* ingest_monitor_ready - the monitor loaded (a no-op when it is, or when
   there is none); 0 or -errno (logged) */
int ingest_monitor_ready(struct ingest *in);

/* the monitor's hooks (ingest_monitor_hooks.c): an incident opened or
   closed, an alert raised or cleared, logged and queued for the webhooks
   (ARG: the struct ingest) */
void ingest_monitor_on_incident(const struct incident *inc, bool opened,
				void *arg);
void ingest_monitor_on_alert(const struct rates_transition *t,
			     const struct alert_rule *rule, void *arg);

/* the per-line messages of one input, capped (log.h): bad lines,
   unrouted suppressions, dry-run actions; a stream's hourly window */
struct ingest_caps {
	struct log_cap bad, unrouted, dryrun;
	int64_t since;
};

/* ingest_notify - queue the operator's mail about BE (a new complaint or
   unsubscribe of ADDR) in TXN when [notify] is on; 0 or -errno
   (ingest_notify.c) */
struct batch_event;
int ingest_notify(struct ingest *in, MDB_txn *txn, const char *addr,
		  const struct batch_event *be, int64_t now);

#endif
