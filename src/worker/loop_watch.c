/*
 * loop_watch.c - watched directories through inotify, registered with
 * the loop (include/loop_watch.h).
 *
 * A readable inotify descriptor is read until it is empty (bounded), and
 * each event goes to the callback in the order the kernel gave it.  A
 * name arrives when a file written there is closed (IN_CLOSE_WRITE) or
 * something is moved in (IN_MOVED_TO); of what is made there in place
 * (IN_CREATE), what is not a regular file (a symbolic link, a directory,
 * a FIFO), which no close will follow: a regular file is still being
 * written when it is made.  A regular file made there with other names
 * (a hard link: `ln`, or a maildir writer's link()) gets no close there
 * either, whether it is whole or still written under another name: it
 * comes as LOOP_WATCH_LINKED, for the caller to take once it is quiet.
 *
 * Error policy: set-up failures are returned with a message; a failed
 * read is logged and the events are read on a later turn.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "log.h"
#include "loop.h"
#include "loop_watch.h"

#define WATCHES_MAX 8
#define WATCH_READS_MAX 64	/* reads of the descriptor per turn */
#define WATCH_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ONLYDIR | \
		    IN_DELETE_SELF | IN_MOVE_SELF)

struct watch_dir {
	int wd;			/* -1: not watching */
	int tag;
	char *path;		/* the directory watched */
};

struct loop_watch {
	int fd;
	struct loop_fd *h;
	struct watch_dir dirs[WATCHES_MAX];
	unsigned n_dirs;
	loop_watch_fn *fn;
	void *arg;
};

/* watch_of - the directory of TAG, or NULL */
static struct watch_dir *watch_of(struct loop_watch *w, int tag)
{
	unsigned i;

	for (i = 0; i < w->n_dirs; i++)
		if (w->dirs[i].tag == tag)
			return &w->dirs[i];
	return NULL;
}

/* watch_by_wd - the directory of WD, or NULL */
static struct watch_dir *watch_by_wd(struct loop_watch *w, int wd)
{
	unsigned i;

	for (i = 0; i < w->n_dirs; i++)
		if (w->dirs[i].wd >= 0 && w->dirs[i].wd == wd)
			return &w->dirs[i];
	return NULL;
}

/* loop_watch_dir - watch DIR under TAG */
int loop_watch_dir(struct loop_watch *w, const char *dir, int tag, char *err,
		   size_t errlen)
{
	struct watch_dir *d = watch_of(w, tag);
	int wd, rc;

	if (!d) {
		if (w->n_dirs >= WATCHES_MAX || tag < 0) {
			snprintf(err, errlen, "cannot watch '%s': too many "
				 "watched directories", dir);
			return -EINVAL;
		}
		d = &w->dirs[w->n_dirs++];
		d->tag = tag;
		d->wd = -1;
		d->path = NULL;
	}
	if (d->wd >= 0) {
		inotify_rm_watch(w->fd, d->wd);
		d->wd = -1;
	}
	g_free(d->path);
	d->path = g_strdup(dir);
	wd = inotify_add_watch(w->fd, dir, WATCH_MASK);
	if (wd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot watch '%s': %s%s", dir,
			 strerror(errno), errno == ENOSPC ?
			 " (raise fs.inotify.max_user_watches)" : "");
		return rc;
	}
	d->wd = wd;
	return 0;
}

/* watch_made - what NAME, just made in D, is: LOOP_WATCH_NAME when it is
   no regular file (a symbolic link, a directory, a FIFO ...: whole as it
   is made), LOOP_WATCH_LINKED when it is a regular file with other names,
   or -1: a regular file being written (its close comes), or gone */
static int watch_made(const struct watch_dir *d, const char *name)
{
	char *path = g_build_filename(d->path, name, NULL);
	struct stat st;
	int what = -1;

	if (lstat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			what = LOOP_WATCH_NAME;
		else if (st.st_nlink > 1)
			what = LOOP_WATCH_LINKED;
	}
	g_free(path);
	return what;
}

/* watch_event - one inotify event to the callback */
static void watch_event(struct loop_watch *w, const struct inotify_event *ie)
{
	struct watch_dir *d;
	char *name;
	int tag, what;

	if (ie->mask & IN_Q_OVERFLOW) {
		w->fn(LOOP_WATCH_OVERFLOW, -1, NULL, w->arg);
		return;
	}
	d = watch_by_wd(w, ie->wd);
	if (!d)
		return;		/* a watch replaced or removed */
	if (ie->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED |
			IN_UNMOUNT)) {
		if (!(ie->mask & IN_IGNORED))
			inotify_rm_watch(w->fd, d->wd);
		d->wd = -1;
		w->fn(LOOP_WATCH_LOST, d->tag, NULL, w->arg);
		return;
	}
	if (ie->len == 0 || strnlen(ie->name, ie->len) == 0 ||
	    ie->name[0] == '.')
		return;
	tag = d->tag;
	name = g_strndup(ie->name, ie->len);
	what = ie->mask & IN_CREATE ? watch_made(d, name) : LOOP_WATCH_NAME;
	if (what >= 0)
		w->fn((enum loop_watch_what)what, tag, name, w->arg);
	g_free(name);
}

/* watch_ready - the inotify descriptor is readable */
static void watch_ready(struct loop *l, int fd, unsigned ready, void *arg)
{
	char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct loop_watch *w = arg;
	int i;

	(void)l;
	(void)ready;
	for (i = 0; i < WATCH_READS_MAX; i++) {
		ssize_t n = read(fd, buf, sizeof(buf));
		const char *p;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno != EAGAIN)
				log_error("loop", "cannot read inotify events: %s",
					  strerror(errno));
			return;
		}
		for (p = buf; p + sizeof(struct inotify_event) <= buf + n;) {
			const struct inotify_event *ie = (const void *)p;

			if (p + sizeof(*ie) + ie->len > buf + n)
				break;
			watch_event(w, ie);
			p += sizeof(*ie) + ie->len;
		}
	}
}

/* loop_watch_new - an inotify instance on the loop */
int loop_watch_new(struct loop_watch **out, struct loop *l, loop_watch_fn *fn,
		   void *arg, char *err, size_t errlen)
{
	struct loop_watch *w = g_new0(struct loop_watch, 1);
	int rc;

	*out = NULL;
	w->fn = fn;
	w->arg = arg;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot create an inotify instance (see "
			 "fs.inotify.max_user_instances): %s", strerror(errno));
		g_free(w);
		return rc;
	}
	w->h = loop_fd_new(l, w->fd, LOOP_IN, watch_ready, w);
	*out = w;
	return 0;
}

/* loop_watch_free - unregister and close */
void loop_watch_free(struct loop_watch *w)
{
	unsigned i;

	if (!w)
		return;
	loop_fd_free(w->h);
	close(w->fd);
	for (i = 0; i < w->n_dirs; i++)
		g_free(w->dirs[i].path);
	g_free(w);
}
