/*
 * spool_tries.h - the attempts at the entries of a spool directory that
 * could not be read (acct/ for the worker, a maildir's new/ for its
 * mails): per name, how many were made and when the next is due, so that
 * such an entry waits apart while the others are taken and is given up
 * after SPOOL_TRIES attempts.
 *
 * A book of a bounded size forgets first the names gone from its
 * directory; when it is still full, a new name cannot be kept
 * (spool_tries_fail answers 0: give it up).  Memory only: a restart
 * counts from one again.
 */
#ifndef BOUNCED_SPOOL_TRIES_H
#define BOUNCED_SPOOL_TRIES_H

#include <stdbool.h>
#include <stdint.h>

#define SPOOL_TRIES 5		/* attempts before an entry is given up */
#define SPOOL_TRIES_MAX 4096	/* names a bounded book keeps */

struct spool_tries;

/* spool_tries_new - a book of the entries of DIR (copied); BOUNDED: at
   most SPOOL_TRIES_MAX names, else as many as come (a one-shot run) */
struct spool_tries *spool_tries_new(const char *dir, bool bounded);
void spool_tries_free(struct spool_tries *t);
/* spool_tries_bound - T bounded from now on, or not */
void spool_tries_bound(struct spool_tries *t, bool bounded);

/* spool_tries_fail - NAME failed once more; its next attempt is due at
   NEXT_MS (monotonic ms).  The attempts made so far, or 0 when the book
   is full of names still there and cannot keep this one */
unsigned spool_tries_fail(struct spool_tries *t, const char *name,
			  int64_t next_ms);
/* spool_tries_wait - NAME (known) waits until NEXT_MS, its count kept */
void spool_tries_wait(struct spool_tries *t, const char *name,
		      int64_t next_ms);
/* spool_tries_forget - NAME left the directory (taken, or given up) */
void spool_tries_forget(struct spool_tries *t, const char *name);

/* spool_tries_next - when NAME's next attempt is due (monotonic ms);
   INT64_MIN when it failed never, or was forgotten */
int64_t spool_tries_next(const struct spool_tries *t, const char *name);
/* spool_tries_any - some name waits or was counted */
bool spool_tries_any(const struct spool_tries *t);

/* spool_tries_adopt - T takes over OLD's names and counts (a book made
   anew for a reloaded configuration); OLD is left empty */
void spool_tries_adopt(struct spool_tries *t, struct spool_tries *old);

#endif
