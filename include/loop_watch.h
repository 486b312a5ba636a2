/*
 * loop_watch.h - names arriving in watched directories, as events of the
 * loop: an inotify instance registered with it, reporting a file closed
 * after writing or moved in (names starting with '.' are ignored), a
 * queue overflow (the kernel dropped events: look at the directories),
 * and a watched directory that went away (moved, deleted, unmounted).
 */
#ifndef BOUNCED_LOOP_WATCH_H
#define BOUNCED_LOOP_WATCH_H

#include <stddef.h>

struct loop;
struct loop_watch;

enum loop_watch_what {
	LOOP_WATCH_NAME,	/* NAME arrived in the directory of TAG */
	LOOP_WATCH_LINKED,	/* NAME was made there as one more name of a
				   regular file (a hard link): whole, or
				   being written under its other name; no
				   close of it may come there */
	LOOP_WATCH_OVERFLOW,	/* events were lost: rescan (TAG -1) */
	LOOP_WATCH_LOST,	/* the directory of TAG went away (watch it
				   again with loop_watch_dir once it is back) */
};

/* what arrived; NAME only for LOOP_WATCH_NAME and LOOP_WATCH_LINKED,
   valid during the call */
typedef void loop_watch_fn(enum loop_watch_what what, int tag,
			   const char *name, void *arg);

/* loop_watch_new - an inotify instance calling FN(ARG); 0, or -errno with
   a message in ERR */
int loop_watch_new(struct loop_watch **out, struct loop *l, loop_watch_fn *fn,
		   void *arg, char *err, size_t errlen);
void loop_watch_free(struct loop_watch *w);

/* loop_watch_dir - report names arriving in DIR under TAG (>= 0; watching
   the same TAG again replaces its directory); 0 or -errno with ERR */
int loop_watch_dir(struct loop_watch *w, const char *dir, int tag, char *err,
		   size_t errlen);

#endif
