/*
 * incident_windows.h - the incident detector's windows in the state: one
 * record per source and destination pair, written as they change.
 *
 * The "meta" table holds, under "incident.windows", the head of the
 * detector's save (version, newest delivery, clock, saves so far); under
 * "incident.window\037SOURCE\037DEST", each pair's head (counts and
 * minutes) as incident_detect_save writes it (incident_detect.h); and
 * under "incident.rcpts\037", the pair key's length (2 bytes, big-endian)
 * and the pair key, the newest time (big-endian, sign bit flipped) and the
 * save's number (big-endian), the recipients one save added to the pair's
 * window (16 bytes each: hash and time, little-endian).  A state written
 * before holds the whole detector under "incident.windows" (version 1):
 * read as it is, and replaced by the head at the next save.
 */
#ifndef BOUNCED_INCIDENT_WINDOWS_H
#define BOUNCED_INCIDENT_WINDOWS_H

#include <stddef.h>

#include <glib.h>
#include <lmdb.h>

#include "state.h"

/*
 * incident_windows_put - the changes BUF (LEN bytes, incident_detect_save)
 * into the state: the head replaced, the pairs forgotten deleted, the
 * changed ones written.  0, -EINVAL (BUF is no such save) or -errno.
 */
int incident_windows_put(struct state *st, MDB_txn *txn, const void *buf,
			 size_t len);

/*
 * incident_windows_get - the saved windows into OUT, in a form
 * incident_detect_load reads: the pairs gathered after the head, or the
 * whole detector of a state written before.  0, -ENOENT (none saved) or
 * -errno.
 */
int incident_windows_get(struct state *st, MDB_txn *txn, GByteArray *out);

#endif
