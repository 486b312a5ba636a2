/*
 * maildir.h - atomic delivery into a maildir (DIR/tmp, DIR/new, DIR/cur).
 *
 * A message is written to DIR/tmp under a unique name (created with
 * O_EXCL, mode 0640), synced, renamed into DIR/new, and DIR/new is synced:
 * a reader of new/ sees a message whole or not at all, and a message that
 * is in new/ survives a crash or a power loss.  On any failure the file in
 * tmp/ is removed.  Unique names: "SECS.MUSECPPID_RRANDOMQN.HOST" (never
 * starting with '.', no '/' or ':').
 *
 * Functions return 0 or -errno and, when ERR is not NULL, put a one-line
 * message in ERR naming the path and what failed.  Nothing here logs or
 * exits.
 */
#ifndef BOUNCED_MAILDIR_H
#define BOUNCED_MAILDIR_H

#include <stddef.h>
#include <time.h>

#define MAILDIR_NAME_MAX 128	/* bytes of a unique name, NUL included */

/*
 * maildir_create - make DIR and DIR/tmp, DIR/new, DIR/cur (mode 0750)
 * where they are missing; DIR's parent must exist.  0, or -errno (-ENOTDIR
 * when one of them is not a directory).
 */
int maildir_create(const char *dir, char *err, size_t errlen);

/* maildir_unique - a new unique file name into BUF (LEN >=
   MAILDIR_NAME_MAX); 0 or -ENAMETOOLONG */
int maildir_unique(char *buf, size_t len);

struct maildir_msg;

/*
 * maildir_open - a new empty file in DIR/tmp (which must exist: see
 * maildir_create).  0 with *OUT set (end it with maildir_commit or
 * maildir_abort), or -errno.
 */
int maildir_open(const char *dir, struct maildir_msg **out, char *err,
		 size_t errlen);

/* maildir_write - append LEN bytes of BUF (short writes and EINTR are
   retried); 0 or -errno (-ENOSPC, -EFBIG, -EDQUOT, -EIO...) */
int maildir_write(struct maildir_msg *m, const void *buf, size_t len,
		  char *err, size_t errlen);

/* maildir_size - bytes written so far */
unsigned long long maildir_size(const struct maildir_msg *m);

/*
 * maildir_commit - sync and close the file, rename it into DIR/new, sync
 * DIR/new.  Frees M whatever happens; on failure the file is removed from
 * tmp/ (and taken back out of new/ when only the final sync failed; but
 * when a worker took it from new/ meanwhile, the mail is its and this is
 * a success: failing would have the sender deliver it again, a second
 * complaint).  NAME (may be NULL) gets the file's name in new/.  0 or
 * -errno.
 */
int maildir_commit(struct maildir_msg *m, char *name, size_t namelen,
		   char *err, size_t errlen);

/* maildir_abort - close and remove the file in tmp/, free M; NULL is fine */
void maildir_abort(struct maildir_msg *m);

/* the maildir rule: a file left in tmp/ this long was left by a writer
   that died, and may be deleted */
#define MAILDIR_TMP_STALE (36 * 3600)

/*
 * maildir_sweep_tmp - delete the regular files of DIR/tmp neither
 * modified nor changed for MAILDIR_TMP_STALE before NOW (what a killed
 * `bounced drop` left: never a mail, which is in new/ once whole).  The
 * number deleted, or -errno when DIR/tmp cannot be read (a missing one is
 * empty); a file that cannot be deleted is logged and skipped.
 */
int maildir_sweep_tmp(const char *dir, time_t now);

#endif
