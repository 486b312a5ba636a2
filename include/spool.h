/*
 * spool.h - the spool directory as `bounced run` uses it: acct/ (the
 * accounting files PowerMTA moves in), done/ (files taken to their end,
 * kept done-retention, then deleted), failed/ (files that could not be
 * taken, each with NAME.why beside it saying why), ignored/ (mails that
 * are no input of their maildir, with their NAME.why, kept like done/),
 * and the queue of names in acct/ waiting to be taken.
 *
 * Names are file names in acct/ (no '/'); a name is wanted unless it
 * starts with '.' or matches one of the acct-ignore globs (a file still
 * being written).  Functions return 0 or -errno and log what failed, with
 * the path; the spool never exits.
 */
#ifndef BOUNCED_SPOOL_H
#define BOUNCED_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct spool;

/*
 * spool_open - the spool in DIR, creating DIR, acct/, done/ and failed/
 * (mode 0750) when missing; IGNORE (NULL-terminated globs, may be NULL)
 * and RETENTION (seconds, 0 = delete finished files at once) are copied.
 * 0, or -errno with a message in ERR.
 */
int spool_open(struct spool **out, const char *dir, char *const *ignore,
	       int64_t retention, char *err, size_t errlen);
void spool_free(struct spool *sp);

/* spool_set_rules - new acct-ignore globs and done-retention (reload) */
void spool_set_rules(struct spool *sp, char *const *ignore,
		     int64_t retention);

/* spool_acct_dir - DIR/acct (owned by the spool) */
const char *spool_acct_dir(const struct spool *sp);

/* spool_path - DIR/acct/NAME, g_free()d by the caller */
char *spool_path(const struct spool *sp, const char *name);

/* spool_wanted - NAME is a plain name, not a dot-file, matching no
   acct-ignore glob */
bool spool_wanted(const struct spool *sp, const char *name);

/* spool_push - queue NAME at the end when wanted and not queued already
   (no longer young); true when it was queued */
bool spool_push(struct spool *sp, const char *name);

/* spool_push_front - queue NAME first (taken again next) */
void spool_push_front(struct spool *sp, const char *name);

/* spool_scan - queue every wanted regular file of acct/ not queued yet,
   oldest (modification time) first, but those modified within the last
   SPOOL_YOUNG_MS: a file found by a scan (at start, after lost events)
   may still be open for writing, and one closed after it comes with its
   event; the names left out are kept (spool_young, spool_scan_young).
   The number queued, or -errno */
#define SPOOL_YOUNG_MS 2000
int spool_scan(struct spool *sp);
/* spool_scan_ignored - as spool_scan, but only the names the globs WAS
   match (the acct-ignore of before a reload: files no longer ignored),
   without forgetting the young names kept */
int spool_scan_ignored(struct spool *sp, char *const *was);
/* spool_young - the names scans left out as too young, not queued since */
unsigned spool_young(const struct spool *sp);
/* spool_note_young - NAME, made in acct/ as a hard link (no close of it
   comes there), kept with the young names: queued by spool_scan_young
   once it is quiet; false when it is not wanted or queued already */
bool spool_note_young(struct spool *sp, const char *name);
/* spool_scan_young - queue those of them that are quiet now (not
   modified for SPOOL_YOUNG_MS: one closed before its directory was
   watched has no event), oldest first, and forget those gone; no other
   name of acct/ is looked at (a file that arrived while the directory was
   watched is taken at its event, however long its writer pauses).  The
   number queued */
int spool_scan_young(struct spool *sp);

/* what spool_dir_list lists */
struct _GPtrArray;
struct _GHashTable;
typedef bool (*spool_want_fn)(const char *name, void *arg);
struct spool_list_opts {
	spool_want_fn want;	/* names wanted (with ARG); NULL: all */
	void *arg;
	size_t max;		/* at most so many names; 0: all */
	int at_flags;		/* to fstatat: 0, or AT_SYMLINK_NOFOLLOW */
	/* the names said to be no regular file, each said once while it
	   stays (a set of strings, g_free'd keys); NULL: said every call */
	struct _GHashTable *odd;
	/* files modified less than this long ago (ms) are left out and
	   their names added to the set YOUNG (g_free'd keys; may be NULL):
	   they may still be written; 0: none is */
	int64_t young_ms;
	struct _GHashTable *young;
};

/*
 * spool_dir_list - the names of the regular files of DIR (not starting
 * with '.', and wanted by O), oldest first (modification time, then
 * name), at most O->max of them (*MORE, when not NULL, says whether some
 * were left out).  An entry that is no regular file (a directory, a FIFO,
 * a link to nothing) is left alone with a warning, once while it stays
 * when O->odd is given.  A GPtrArray of names (freed with it), empty or
 * partial with *RC = -errno when DIR could not be read (logged); NULL
 * only when it could not be opened.
 */
struct _GPtrArray *spool_dir_list(const char *dir,
				  const struct spool_list_opts *o, bool *more,
				  int *rc);

/* spool_next - the first queued name, taken off the queue (g_free it), or
   NULL when the queue is empty */
char *spool_next(struct spool *sp);

/* spool_queued - names waiting */
unsigned spool_queued(const struct spool *sp);
/*
 * spool_writing - is the file at PATH open for writing by a process
 * (a writer that renamed it into acct/ before closing it, or one that
 * writes in place and pauses)?  Asked with a read lease (F_SETLEASE,
 * which the kernel refuses with EAGAIN while any write descriptor of
 * the file is open), given back at once; a writer that opens the file
 * in between breaks it with SIGURG (ignored by default), not SIGIO (which
 * would end the process).  1: being written, take it at its close
 * (IN_CLOSE_WRITE brings the name again); 0: not; -1: cannot tell (not
 * the file's owner, a file system without leases): take it.
 */
int spool_writing(const char *path);

/* spool_leave - acct/NAME, that is no regular file (or a link to
   nothing), is left alone: said once while it stays, as spool_scan says
   it; nothing when it is gone or a file after all */
void spool_leave(struct spool *sp, const char *name);

/* spool_pushes - how many names were queued so far (spool_push,
   spool_push_front): a change says the queue may hold another name */
unsigned long spool_pushes(const struct spool *sp);

/*
 * A file moves into done/, failed/ or ignored/ under its own name, or,
 * when an earlier file holds that name there, under the first free of
 * NAME.1, NAME.2 ... (SPOOL_SAME_NAMES names in all; the name it got is
 * logged), with its .why under the same name: no file is ever replaced
 * (only a .why with no file beside it).  Each name is taken in one step
 * (renameat2 RENAME_NOREPLACE, or link and unlink).
 */
#define SPOOL_SAME_NAMES 1000

/* spool_done - move acct/NAME to done/ (or delete it when the retention
   is 0); 0 or -errno (logged).  A failed/NAME.why left without its file
   (the file moved back to acct/ once fixed, and taken now) is removed */
int spool_done(struct spool *sp, const char *name);

/*
 * spool_fail - write failed/NAME.why (WHY and what to do; written to a
 * temporary file, synced, renamed) and move acct/NAME to failed/ beside
 * it.  0 or -errno (logged); -ENOENT when acct/NAME is gone (no .why is
 * left); -EEXIST when every name is taken.
 */
int spool_fail(struct spool *sp, const char *name, const char *why);

/* spool_done_from, spool_fail_from - as spool_done and spool_fail for
   DIR/NAME (a mail in fbl/new or unsub/new), kept as AS in done/ or
   failed/ */
int spool_done_from(struct spool *sp, const char *dir, const char *name,
		    const char *as);
int spool_fail_from(struct spool *sp, const char *dir, const char *name,
		    const char *as, const char *why);
/* spool_ignore_from - write ignored/AS.why (WHY, and that nothing is to
   be done) and move DIR/NAME to ignored/AS (created when missing); with a
   retention of 0 DIR/NAME is deleted instead.  0 or -errno (logged;
   -ENOENT when DIR/NAME is gone) */
int spool_ignore_from(struct spool *sp, const char *dir, const char *name,
		      const char *as, const char *why);

/* spool_dir - the spool directory itself */
const char *spool_dir(const struct spool *sp);

/* spool_expire - delete the files of done/ and ignored/ finished at least
   the retention before NOW (the later of their modification and status-change
   times); the number deleted, or -errno */
int spool_expire(struct spool *sp, time_t now);

#endif
