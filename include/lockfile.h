/*
 * lockfile.h - who works on a state or a spool: an flock(2) on a small
 * file (STATE/bounced.lock: the one dispatcher of the state's outbox;
 * SPOOL/bounced.lock: the one worker taking the spool's files).
 *
 * The lock goes with the process (also after kill -9); the file stays and
 * names its holder in one line: "PID\n" for `bounced run` (written once the
 * worker is ready, so a service manager can wait for it), "PID process\n"
 * for a `bounced process` holding it for a while (sending the outbox,
 * taking the spool's files).  An empty file held by someone is a
 * `bounced run` still starting.
 *
 * A file root makes in a directory of another user is given to that user
 * (the one bounced run runs as), so that root running `bounced process`
 * first does not lock the worker out; a file another user made that we
 * may only read is locked through a read-only descriptor (the holder's
 * line cannot be written: warned).  Functions return 0 or -errno with a message
 * in ERR; -EWOULDBLOCK means another process holds the lock and ERR names
 * it.  Nothing exits.
 */
#ifndef BOUNCED_LOCKFILE_H
#define BOUNCED_LOCKFILE_H

#include <stdbool.h>
#include <stddef.h>

struct lockfile;

enum lockfile_role {
	LOCKFILE_RUN = 0,	/* bounced run: the pid once ready */
	LOCKFILE_PROCESS,	/* bounced process: "PID process" at once */
};

/*
 * lockfile_take - open (create, mode 0640, never through a symlink) PATH
 * and hold its lock, as ROLE.  When another holds it: -EWOULDBLOCK with
 * "another bounced run holds PATH (pid 812)" (or "... bounced process ...")
 * in ERR, unless WAIT is true and the holder is a `bounced process`: then
 * the lock is waited for (one log line saying so), as long as its holder is
 * one.  0 with *OUT set, or -errno with ERR.
 */
int lockfile_take(const char *path, enum lockfile_role role, bool wait,
		  struct lockfile **out, char *err, size_t errlen);

/* lockfile_ready - our pid into the file (ROLE RUN: the worker is ready);
   0 or -errno (logged: the lock is held all the same) */
int lockfile_ready(struct lockfile *l);

/* lockfile_holder - who the file PATH names as the lock's holder, for a
   message after lockfile_take() said -EWOULDBLOCK: "bounced run (pid
   812)", "bounced process (pid 812)", "a bounced run (starting)"; "" when
   PATH cannot be read */
void lockfile_holder(const char *path, char *buf, size_t len);

/* lockfile_path - the lock's file */
const char *lockfile_path(const struct lockfile *l);

/* lockfile_release - let the lock go (the file stays); NULL is fine */
void lockfile_release(struct lockfile *l);

#endif
