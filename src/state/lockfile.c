/*
 * lockfile.c - the locks of a state and of a spool (lockfile.h): an
 * exclusive flock(2) on a file that names its holder in one line.
 *
 * flock, not fcntl locks: it belongs to the open file, not to the process's
 * every descriptor of the inode, so no other open of the same file in this
 * process (a reader of the state directory) can drop it by closing.  The
 * content is only a description for messages and scripts; the lock itself
 * is what counts, so a stale pid left by a killed holder is harmless (it is
 * overwritten when the lock is taken).
 *
 * Error policy: 0 or -errno with a message naming the file in ERR; a
 * failure to write the holder's line is logged, the lock is held anyway.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "errmsg.h"
#include "lockfile.h"
#include "log.h"

#define LOCKFILE_MODE 0640
#define LOCKFILE_LINE_MAX 64
#define LOCKFILE_POLL_MS 100	/* how often a waiter looks again */

struct lockfile {
	char *path;
	int fd;
	enum lockfile_role role;
};

/* who holds a lock, as its file says */
struct lockfile_who {
	long pid;		/* 0: not written (yet) */
	bool process;		/* a bounced process, not a bounced run */
};

/* lockfile_parse - the line of a lock file: "PID" or "PID process" */
static void lockfile_parse(const char *buf, struct lockfile_who *w)
{
	char *end = NULL;
	long pid;

	memset(w, 0, sizeof(*w));
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || pid <= 0)
		return;
	w->pid = pid;
	while (*end == ' ')
		end++;
	w->process = strncmp(end, "process", 7) == 0;
}

/* lockfile_read - what FD's file says of its holder */
static void lockfile_read(int fd, struct lockfile_who *w)
{
	char buf[LOCKFILE_LINE_MAX];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	lockfile_parse(buf, w);
}

/* lockfile_describe - W for a message */
static void lockfile_describe(const struct lockfile_who *w, char *buf,
			      size_t len)
{
	if (w->pid > 0)
		snprintf(buf, len, "bounced %s (pid %ld)",
			 w->process ? "process" : "run", w->pid);
	else
		snprintf(buf, len, "a bounced run (starting)");
}

/* lockfile_write - "PID\n" or "PID process\n" as the whole file */
static int lockfile_write(struct lockfile *l)
{
	char buf[LOCKFILE_LINE_MAX];
	int n = snprintf(buf, sizeof(buf), "%ld%s\n", (long)getpid(),
			 l->role == LOCKFILE_PROCESS ? " process" : "");

	if (pwrite(l->fd, buf, (size_t)n, 0) != n ||
	    ftruncate(l->fd, n) != 0)
		return -errno;
	return 0;
}

/* lockfile_owner - a lock file root made in a directory of another user
   (the user bounced run runs as) becomes that user's, so the worker can
   open it; failures are logged, the lock is held all the same */
static void lockfile_owner(struct lockfile *l)
{
	char *dir = g_path_get_dirname(l->path);
	struct stat fsb, dsb;

	if (geteuid() == 0 && fstat(l->fd, &fsb) == 0 && fsb.st_uid == 0 &&
	    stat(dir, &dsb) == 0 && dsb.st_uid != 0 &&
	    fchown(l->fd, dsb.st_uid, dsb.st_gid) != 0)
		log_warn("lock", "cannot give '%s' to the owner of %s: %s",
			 l->path, dir, strerror(errno));
	g_free(dir);
}

/* lockfile_sleep - LOCKFILE_POLL_MS */
static void lockfile_sleep(void)
{
	struct timespec ts = { 0, LOCKFILE_POLL_MS * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* lockfile_wait - wait while the holder is a bounced process; 0 once the
   lock is ours, -EWOULDBLOCK (W: the holder now) or -errno */
static int lockfile_wait(struct lockfile *l, struct lockfile_who *w)
{
	char who[96];

	lockfile_describe(w, who, sizeof(who));
	log_info("lock", "%s holds %s: waiting until it is done", who,
		 l->path);
	while (w->process) {
		lockfile_sleep();
		if (flock(l->fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		lockfile_read(l->fd, w);
	}
	return -EWOULDBLOCK;
}

/* lockfile_take - open PATH and hold its lock as ROLE */
int lockfile_take(const char *path, enum lockfile_role role, bool wait,
		  struct lockfile **out, char *err, size_t errlen)
{
	struct lockfile *l = g_new0(struct lockfile, 1);
	struct lockfile_who w;
	int rc = 0;

	*out = NULL;
	l->path = g_strdup(path);
	l->role = role;
	l->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		     LOCKFILE_MODE);
	/* made by another user (root running bounced process): flock needs
	   no write access, only naming the holder does (warned below) */
	if (l->fd < 0 && errno == EACCES)
		l->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (l->fd < 0) {
		rc = -errno;
		errmsg(err, errlen, "cannot open the lock file '%s': %s", path,
		       strerror(-rc));
		goto out;
	}
	if (flock(l->fd, LOCK_EX | LOCK_NB) != 0) {
		rc = -errno;
		if (rc != -EWOULDBLOCK) {
			errmsg(err, errlen, "cannot lock '%s': %s", path,
			       strerror(-rc));
			goto out;
		}
		lockfile_read(l->fd, &w);
		if (wait && w.process)
			rc = lockfile_wait(l, &w);
		if (rc == -EWOULDBLOCK) {
			if (w.pid > 0)
				errmsg(err, errlen, "another bounced %s holds "
				       "%s (pid %ld)", w.process ? "process" :
				       "run", path, w.pid);
			else
				errmsg(err, errlen, "another bounced run holds "
				       "%s (starting)", path);
			goto out;
		}
		if (rc) {
			errmsg(err, errlen, "cannot lock '%s': %s", path,
			       strerror(-rc));
			goto out;
		}
	}
	lockfile_owner(l);
	/* a former holder's line goes: a run writes its pid once ready */
	if (role == LOCKFILE_PROCESS)
		rc = lockfile_write(l);
	else if (ftruncate(l->fd, 0) != 0)
		rc = -errno;
	if (rc) {
		log_warn("lock", "cannot write '%s': %s (the lock is held all "
			 "the same)", path, strerror(-rc));
		rc = 0;
	}
	*out = l;
	l = NULL;
out:
	lockfile_release(l);
	return rc;
}

/* lockfile_ready - our pid into the file */
int lockfile_ready(struct lockfile *l)
{
	int rc = lockfile_write(l);

	if (rc)
		log_warn("lock", "cannot write the pid into '%s': %s",
			 l->path, strerror(-rc));
	return rc;
}

/* lockfile_holder - who PATH says holds its lock, or "" */
void lockfile_holder(const char *path, char *buf, size_t len)
{
	struct lockfile_who w;
	int fd;

	if (len)
		buf[0] = '\0';
	/* read only: a lock taken to look could refuse someone else's take */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	lockfile_read(fd, &w);
	lockfile_describe(&w, buf, len);
	close(fd);
}

const char *lockfile_path(const struct lockfile *l)
{
	return l->path;
}

/* lockfile_release - close (the lock goes with the descriptor) */
void lockfile_release(struct lockfile *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	g_free(l->path);
	g_free(l);
}
