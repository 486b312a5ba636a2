/*
 * spool.c - the directories of the spool worker and the queue of names in
 * acct/ waiting to be taken.
 *
 * Moves are renames within the spool (one file system), so a file is
 * always whole in exactly one place; what moves into done/ or failed/
 * loses the permissions of others first (it holds addresses).  A move
 * never replaces anything (spool_move_free): a name of done/, failed/ or
 * ignored/ that holds an earlier file of the same name is left to it and
 * the newcomer gets the first free of NAME.1, NAME.2 ...  A failed file
 * gets its NAME.why first (atomic_file_write: a temporary dot-file in
 * failed/, synced and renamed over nothing but a regular file); then the
 * file itself is moved under the same name and failed/ synced: after a
 * crash a .why may exist for a file still in acct/ (taken again, and it
 * fails again or not), never a failed file without a reason.  done/ is not synced: a move lost in a crash brings
 * the file back to acct/, where the state knows it as taken, and it is
 * moved again.  ignored/ (created on first use) holds the mails of the
 * maildirs that are no input of theirs (a bounce at the feedback
 * address), each with its NAME.why like failed/, and is swept with done/.
 *
 * Error policy: every failure is logged with the path and returned as
 * -errno; nothing exits.  Memory comes from GLib.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "atomic_file.h"
#include "log.h"
#include "spool.h"

#define SPOOL_DIR_MODE 0750
#define SPOOL_FILE_MODE 0640	/* .why files; what moves in loses o+rwx */
#define SPOOL_WHY_MAX 4096	/* bytes of a .why file */

struct spool {
	char *dir;
	char *acct, *done, *failed;	/* DIR/acct, DIR/done, DIR/failed */
	char *ignored;			/* DIR/ignored */
	char **ignore;			/* acct-ignore globs */
	int64_t retention;		/* seconds; 0 = delete at once */
	GQueue queue;			/* char *, g_free */
	GHashTable *queued;		/* the names in QUEUE (borrowed keys) */
	unsigned long pushes;		/* names queued so far */
	GHashTable *odd;		/* acct/'s entries that are no files,
					   said once (spool_dir_list) */
	GHashTable *young;		/* the names scans left out as young
					   (g_free'd keys), until queued */
};

/* spool_mkdir - DIR unless it exists as a directory; 0 or -errno */
static int spool_mkdir(const char *dir, char *err, size_t errlen)
{
	struct stat sb;

	if (mkdir(dir, SPOOL_DIR_MODE) == 0)
		return 0;
	if (errno == EEXIST && stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
		return 0;
	if (errno == EEXIST)
		errno = ENOTDIR;
	snprintf(err, errlen, "cannot create the spool directory '%s': %s",
		 dir, strerror(errno));
	return -errno;
}

/* spool_dir_back - DIR (done/ or failed/) made again when it went away
   while the spool was in use; a failure is the move's to say */
static void spool_dir_back(const char *dir)
{
	char err[PATH_MAX + 64];
	struct stat sb;

	if (stat(dir, &sb) == 0 || errno != ENOENT)
		return;
	if (spool_mkdir(dir, err, sizeof(err)) == 0)
		log_warn("spool", "%s was missing: made again", dir);
}

/* spool_open - the spool in DIR, its directories created */
int spool_open(struct spool **out, const char *dir, char *const *ignore,
	       int64_t retention, char *err, size_t errlen)
{
	struct spool *sp = g_new0(struct spool, 1);
	int rc;

	*out = NULL;
	sp->dir = g_strdup(dir);
	sp->acct = g_build_filename(dir, "acct", NULL);
	sp->done = g_build_filename(dir, "done", NULL);
	sp->failed = g_build_filename(dir, "failed", NULL);
	sp->ignored = g_build_filename(dir, "ignored", NULL);
	g_queue_init(&sp->queue);
	sp->queued = g_hash_table_new(g_str_hash, g_str_equal);
	sp->odd = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	sp->young = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					  NULL);
	spool_set_rules(sp, ignore, retention);
	if ((rc = spool_mkdir(sp->dir, err, errlen)) != 0 ||
	    (rc = spool_mkdir(sp->acct, err, errlen)) != 0 ||
	    (rc = spool_mkdir(sp->done, err, errlen)) != 0 ||
	    (rc = spool_mkdir(sp->failed, err, errlen)) != 0) {
		spool_free(sp);
		return rc;
	}
	*out = sp;
	return 0;
}

void spool_free(struct spool *sp)
{
	if (!sp)
		return;
	g_queue_clear_full(&sp->queue, g_free);
	g_hash_table_destroy(sp->queued);
	if (sp->odd)
		g_hash_table_destroy(sp->odd);
	g_hash_table_destroy(sp->young);
	g_strfreev(sp->ignore);
	g_free(sp->ignored);
	g_free(sp->failed);
	g_free(sp->done);
	g_free(sp->acct);
	g_free(sp->dir);
	g_free(sp);
}

/* spool_set_rules - copy the acct-ignore globs and the retention */
void spool_set_rules(struct spool *sp, char *const *ignore, int64_t retention)
{
	g_strfreev(sp->ignore);
	sp->ignore = ignore ? g_strdupv((char **)ignore) : NULL;
	sp->retention = retention > 0 ? retention : 0;
}

const char *spool_dir(const struct spool *sp)
{
	return sp->dir;
}

const char *spool_acct_dir(const struct spool *sp)
{
	return sp->acct;
}

char *spool_path(const struct spool *sp, const char *name)
{
	return g_build_filename(sp->acct, name, NULL);
}

/* spool_globbed - NAME matches one of GLOBS (NULL-terminated, or NULL) */
static bool spool_globbed(char *const *globs, const char *name)
{
	char *const *p;

	for (p = globs; p && *p; p++)
		if (fnmatch(*p, name, 0) == 0)
			return true;
	return false;
}

/* spool_wanted - a plain name, no dot-file, no acct-ignore match */
bool spool_wanted(const struct spool *sp, const char *name)
{
	if (!name || name[0] == '\0' || name[0] == '.' || strchr(name, '/'))
		return false;
	return !spool_globbed(sp->ignore, name);
}

/* spool_push - NAME at the end of the queue (no longer young: its event
   came, or it is quiet) */
bool spool_push(struct spool *sp, const char *name)
{
	char *dup;

	if (!spool_wanted(sp, name) || g_hash_table_contains(sp->queued, name))
		return false;
	g_hash_table_remove(sp->young, name);
	dup = g_strdup(name);
	g_queue_push_tail(&sp->queue, dup);
	g_hash_table_add(sp->queued, dup);
	sp->pushes++;
	return true;
}

bool spool_note_young(struct spool *sp, const char *name)
{
	if (!spool_wanted(sp, name) || g_hash_table_contains(sp->queued, name))
		return false;
	g_hash_table_add(sp->young, g_strdup(name));
	return true;
}

/* spool_push_front - NAME first */
void spool_push_front(struct spool *sp, const char *name)
{
	char *dup;

	if (g_hash_table_contains(sp->queued, name))
		return;
	dup = g_strdup(name);
	g_queue_push_head(&sp->queue, dup);
	g_hash_table_add(sp->queued, dup);
	sp->pushes++;
}

unsigned long spool_pushes(const struct spool *sp)
{
	return sp->pushes;
}

char *spool_next(struct spool *sp)
{
	char *name = g_queue_pop_head(&sp->queue);

	if (name)
		g_hash_table_remove(sp->queued, name);
	return name;
}

unsigned spool_young(const struct spool *sp)
{
	return g_hash_table_size(sp->young);
}

unsigned spool_queued(const struct spool *sp)
{
	return g_queue_get_length((GQueue *)&sp->queue);
}

struct spool_ent {
	char *name;
	struct timespec mtime;
};

/* spool_ent_cmp - oldest first, then by name */
static gint spool_ent_cmp(gconstpointer pa, gconstpointer pb)
{
	const struct spool_ent *a = pa, *b = pb;

	if (a->mtime.tv_sec != b->mtime.tv_sec)
		return a->mtime.tv_sec < b->mtime.tv_sec ? -1 : 1;
	if (a->mtime.tv_nsec != b->mtime.tv_nsec)
		return a->mtime.tv_nsec < b->mtime.tv_nsec ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* spool_odd_what - what the entry NAME of directory fd DFD is, that is
   no regular file (SB, or the fstatat error RC); NULL when it is gone */
static const char *spool_odd_what(int dfd, const char *name,
				  const struct stat *sb, int rc, char *buf,
				  size_t len)
{
	struct stat lsb;

	if (rc == -ENOENT) {
		/* gone since readdir, or a link to nothing */
		if (fstatat(dfd, name, &lsb, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISLNK(lsb.st_mode))
			return NULL;
		return "a symbolic link to nothing";
	}
	if (rc) {
		snprintf(buf, len, "cannot be looked at: %s", strerror(-rc));
		return buf;
	}
	return S_ISDIR(sb->st_mode) ? "a directory, not a file" :
	       S_ISLNK(sb->st_mode) ? "a symbolic link, not a file" :
	       S_ISFIFO(sb->st_mode) ? "a FIFO, not a file" :
	       S_ISSOCK(sb->st_mode) ? "a socket, not a file" :
				       "a device, not a file";
}

/* spool_odd_forget - a name of O's odd set no longer odd (KEY not in
   NOW) */
static gboolean spool_odd_forget(gpointer key, gpointer value, gpointer now)
{
	(void)value;
	return !g_hash_table_contains(now, key);
}

/* spool_odd_say - DIR/NAME, WHAT (spool_odd_what), is left alone */
static void spool_odd_say(const char *dir, const char *name,
			  const char *what)
{
	log_warn("spool", "%s/%s: left alone: %s (move it out of the "
		 "directory to take it, or name it with a leading '.')", dir,
		 name, what);
}

void spool_leave(struct spool *sp, const char *name)
{
	char *path = g_build_filename(sp->acct, name, NULL);
	const char *what;
	struct stat sb;
	char buf[128];
	int st;

	st = stat(path, &sb) != 0 ? -errno : 0;
	if ((st == 0 && S_ISREG(sb.st_mode)) ||
	    g_hash_table_contains(sp->odd, name))
		goto out;	/* a file after all, or said already */
	what = spool_odd_what(AT_FDCWD, path, &sb, st, buf, sizeof(buf));
	if (what) {
		spool_odd_say(sp->acct, name, what);
		g_hash_table_add(sp->odd, g_strdup(name));
	}
out:
	g_free(path);
}

int spool_writing(const char *path)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	int rc = -1;

	if (fd < 0)
		return -1;
	/* a writer that opens the file while the lease is held breaks it,
	   and the kernel tells the holder with SIGIO, which would end the
	   process: a signal whose default is to be ignored instead */
	if (fcntl(fd, F_SETSIG, SIGURG) != 0) {
		close(fd);
		return -1;
	}
	if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
		(void)fcntl(fd, F_SETLEASE, F_UNLCK);
		rc = 0;
	} else if (errno == EAGAIN) {
		rc = 1;
	}
	close(fd);
	return rc;
}

/* spool_is_young - SB was modified less than YOUNG_MS before NOW */
static bool spool_is_young(const struct stat *sb, const struct timespec *now,
			   int64_t young_ms)
{
	int64_t age_ms = ((int64_t)now->tv_sec - sb->st_mtim.tv_sec) * 1000 +
			 (now->tv_nsec - sb->st_mtim.tv_nsec) / 1000000;

	return young_ms > 0 && age_ms >= 0 && age_ms < young_ms;
}

GPtrArray *spool_dir_list(const char *dir, const struct spool_list_opts *o,
			  bool *more, int *rc)
{
	GArray *ents = g_array_new(FALSE, FALSE, sizeof(struct spool_ent));
	GHashTable *now_odd = o->odd ? g_hash_table_new(g_str_hash,
							  g_str_equal) :
				       NULL;
	GPtrArray *names = NULL;
	DIR *d = opendir(dir);
	struct dirent *de;
	struct timespec now;
	char buf[128];
	guint i;

	*rc = 0;
	if (more)
		*more = false;
	clock_gettime(CLOCK_REALTIME, &now);
	if (!d) {
		*rc = -errno;
		log_error("spool", "cannot read '%s': %s", dir, strerror(-*rc));
		goto out;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		struct spool_ent e;
		struct stat sb;
		const char *what;
		gpointer key;
		int st;

		if (de->d_name[0] == '.' || (o->want && !o->want(de->d_name,
								    o->arg)))
			continue;
		st = fstatat(dirfd(d), de->d_name, &sb, o->at_flags) != 0 ?
			     -errno :
			     0;
		if (st == 0 && S_ISREG(sb.st_mode)) {
			if (spool_is_young(&sb, &now, o->young_ms)) {
				if (o->young)
					g_hash_table_add(o->young,
							 g_strdup(de->d_name));
				continue;	/* maybe still written */
			}
			e.name = g_strdup(de->d_name);
			e.mtime = sb.st_mtim;
			g_array_append_val(ents, e);
			continue;
		}
		what = spool_odd_what(dirfd(d), de->d_name, &sb, st, buf,
				      sizeof(buf));
		if (!what)
			continue;
		if (o->odd && g_hash_table_lookup_extended(o->odd, de->d_name,
							   &key, NULL)) {
			g_hash_table_add(now_odd, key);
			continue;	/* said before */
		}
		spool_odd_say(dir, de->d_name, what);
		if (o->odd) {
			key = g_strdup(de->d_name);
			g_hash_table_add(o->odd, key);
			g_hash_table_add(now_odd, key);
		}
	}
	*rc = -errno;		/* readdir's */
	closedir(d);
	if (*rc) {
		log_error("spool", "cannot read '%s': %s", dir, strerror(-*rc));
	} else if (o->odd) {
		/* names no longer there, or now files: said again if odd
		   again */
		g_hash_table_foreach_remove(o->odd, spool_odd_forget, now_odd);
	}
	g_array_sort(ents, spool_ent_cmp);
	names = g_ptr_array_new_with_free_func(g_free);
	for (i = 0; i < ents->len; i++) {
		char *name = g_array_index(ents, struct spool_ent, i).name;

		if (o->max && names->len >= o->max) {
			if (more)
				*more = true;
			g_free(name);
			continue;
		}
		g_ptr_array_add(names, name);
	}
out:
	if (now_odd)
		g_hash_table_destroy(now_odd);
	g_array_free(ents, TRUE);
	return names;
}

/* what a scan takes: wanted names not queued yet and, with WAS, only
   those its globs matched (ignored before a reload) */
struct spool_scan_arg {
	struct spool *sp;
	char *const *was;
};

/* spool_scan_want - a name the scan takes (struct spool_scan_arg) */
static bool spool_scan_want(const char *name, void *arg)
{
	const struct spool_scan_arg *a = arg;

	return spool_wanted(a->sp, name) &&
	       !g_hash_table_contains(a->sp->queued, name) &&
	       (!a->was || spool_globbed(a->was, name));
}

/* spool_scan_with - queue the files of acct/ A takes, oldest first; the
   young ones are added to SP->young; the number queued, or -errno */
static int spool_scan_with(struct spool *sp, struct spool_scan_arg *a)
{
	struct spool_list_opts o = { .want = spool_scan_want, .arg = a,
				     .odd = sp->odd,
				     .young_ms = SPOOL_YOUNG_MS,
				     .young = sp->young };
	GPtrArray *names;
	int rc, n = 0;
	guint i;

	names = spool_dir_list(sp->acct, &o, NULL, &rc);
	for (i = 0; names && i < names->len; i++)
		n += spool_push(sp, g_ptr_array_index(names, i));
	if (names)
		g_ptr_array_free(names, TRUE);
	return rc ? rc : n;
}

/* spool_scan - queue what acct/ holds, oldest first */
int spool_scan(struct spool *sp)
{
	struct spool_scan_arg a = { sp, NULL };

	g_hash_table_remove_all(sp->young);
	return spool_scan_with(sp, &a);
}

/* spool_scan_ignored - queue what acct/ holds that WAS matched */
int spool_scan_ignored(struct spool *sp, char *const *was)
{
	struct spool_scan_arg a = { sp, was };

	return was && *was ? spool_scan_with(sp, &a) : 0;
}

/* spool_scan_young - queue the young names that are quiet now */
int spool_scan_young(struct spool *sp)
{
	GArray *ents = g_array_new(FALSE, FALSE, sizeof(struct spool_ent));
	GHashTableIter it;
	struct timespec now;
	struct stat sb;
	gpointer key;
	char *path;
	int n = 0;
	guint i;

	clock_gettime(CLOCK_REALTIME, &now);
	g_hash_table_iter_init(&it, sp->young);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		struct spool_ent e;
		int st;

		path = g_build_filename(sp->acct, key, NULL);
		st = stat(path, &sb);
		g_free(path);
		if (st == 0 && S_ISREG(sb.st_mode) &&
		    spool_is_young(&sb, &now, SPOOL_YOUNG_MS))
			continue;	/* still young */
		if (st == 0 && spool_wanted(sp, key)) {
			/* quiet (or no file now: taking it says so) */
			e.name = g_strdup(key);
			e.mtime = sb.st_mtim;
			g_array_append_val(ents, e);
		}
		g_hash_table_iter_remove(&it);	/* or gone, or ignored now */
	}
	g_array_sort(ents, spool_ent_cmp);
	for (i = 0; i < ents->len; i++) {
		char *name = g_array_index(ents, struct spool_ent, i).name;

		n += spool_push(sp, name);
		g_free(name);
	}
	g_array_free(ents, TRUE);
	return n;
}

/* spool_sync_dir - fsync the directory DIR; 0 or -errno (logged) */
static int spool_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0 || fsync(fd) != 0) {
		rc = -errno;
		log_error("spool", "cannot sync the directory '%s': %s", dir,
			  strerror(-rc));
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

/* spool_close_others - PATH (a regular file, not followed through a
   link) loses the permissions of others before it moves into done/ or
   failed/: accounting files and mails hold addresses.  Best effort: a file
   of another owner keeps its mode (logged at debug level). */
static void spool_close_others(const char *path)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
			    O_NOCTTY);
	struct stat sb;

	if (fd < 0)
		return;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    (sb.st_mode & 007) != 0 &&
	    fchmod(fd, sb.st_mode & 07770) != 0)
		log_debug("spool", "cannot close '%s' to others: %s", path,
			  strerror(errno));
	close(fd);
}

/* spool_stale_why - failed/NAME.why whose file left failed/ (moved back
   to acct/ once fixed, and taken now): removed, so that failed/ holds
   the reasons of what is still there */
static void spool_stale_why(struct spool *sp, const char *name)
{
	char *file = g_build_filename(sp->failed, name, NULL);
	char *why = g_strconcat(file, ".why", NULL);
	struct stat sb;

	if (lstat(file, &sb) != 0 && errno == ENOENT &&
	    lstat(why, &sb) == 0 && S_ISREG(sb.st_mode)) {
		if (unlink(why) == 0)
			log_info("spool", "%s: taken now; the reason it failed "
				 "before (%s) is removed", name, why);
		else
			log_debug("spool", "cannot remove '%s': %s", why,
				  strerror(errno));
	}
	g_free(why);
	g_free(file);
}

/* spool_done - acct/NAME to done/, or deleted */
int spool_done(struct spool *sp, const char *name)
{
	int rc = spool_done_from(sp, sp->acct, name, name);

	if (rc == 0)
		spool_stale_why(sp, name);
	return rc;
}

/* spool_move_free - FROM into DIR as AS or, when an earlier file holds
   that name, as the first free of AS.1, AS.2 ... (SPOOL_SAME_NAMES names
   in all), said in the log.  With TEXT, the name's .why := TEXT first (a
   .why with no file beside it, left by a crash or by a file moved back
   to be taken again, is replaced).  The file replaces nothing: its name
   is taken in one step (atomic_file_rename_new); the lstat() before only
   skips the names seen taken.  0 or -errno, logged with AFTER appended,
   but -ENOENT (FROM is gone; no .why is left) */
static int spool_move_free(const char *from, const char *dir, const char *as,
			   const char *text, const char *after)
{
	char *name = NULL, *to = NULL, *why = NULL;
	struct stat sb;
	char err[1024];
	unsigned i;
	int rc = -EEXIST;

	for (i = 0; i < SPOOL_SAME_NAMES && rc == -EEXIST; i++) {
		g_free(name);
		g_free(to);
		g_free(why);
		name = i ? g_strdup_printf("%s.%u", as, i) : g_strdup(as);
		to = g_build_filename(dir, name, NULL);
		why = text ? g_strconcat(to, ".why", NULL) : NULL;
		if (lstat(to, &sb) == 0)
			continue;
		if (why) {
			/* -EEXIST: no regular file (left alone) */
			rc = atomic_file_write(why, text, strlen(text),
					       SPOOL_FILE_MODE, err,
					       sizeof(err));
			if (rc == -EEXIST)
				continue;
			if (rc) {
				log_error("spool", "%s%s", err, after);
				goto out;
			}
		}
		rc = atomic_file_rename_new(from, to);
		if (rc && why)
			(void)unlink(why);
	}
	if (rc == 0 && strcmp(name, as) != 0)
		log_warn("spool", "%s: %s/%s holds an earlier file of the "
			 "same name: moved to %s instead", from, dir, as, to);
	else if (rc == -EEXIST)
		log_error("spool", "cannot move '%s' into '%s': %s and the "
			  "%d names after it (%s.1 ...) are all taken: delete "
			  "or move away what is there%s", from, dir, as,
			  SPOOL_SAME_NAMES - 1, as, after);
	else if (rc && rc != -ENOENT)
		log_error("spool", "cannot move '%s' to '%s': %s%s", from, to,
			  strerror(-rc), after);
out:
	g_free(why);
	g_free(to);
	g_free(name);
	return rc;
}

/* spool_done_from - DIR/NAME to done/AS (or a free name), or deleted */
int spool_done_from(struct spool *sp, const char *dir, const char *name,
		    const char *as)
{
	char *from = g_build_filename(dir, name, NULL);
	int rc = 0;

	if (sp->retention == 0) {
		if (unlink(from) != 0) {
			rc = -errno;
			log_error("spool", "cannot delete the finished file "
				  "'%s': %s", from, strerror(-rc));
		}
		goto out;
	}
	spool_close_others(from);
	spool_dir_back(sp->done);
	rc = spool_move_free(from, sp->done, as, NULL, " (it is taken and "
			     "stays where it is until it can be moved)");
	if (rc == -ENOENT)
		log_error("spool", "cannot move '%s' into '%s': %s", from,
			  sp->done, strerror(-rc));
out:
	g_free(from);
	return rc;
}

/* spool_fail - NAME.why, then acct/NAME to failed/ */
int spool_fail(struct spool *sp, const char *name, const char *why)
{
	return spool_fail_from(sp, sp->acct, name, name, why);
}

/* spool_fail_from - DIR/NAME to failed/AS (or a free name) with its .why */
int spool_fail_from(struct spool *sp, const char *dir, const char *name,
		    const char *as, const char *why)
{
	char *from = g_build_filename(dir, name, NULL);
	char stamp[64] = "";
	struct tm tm;
	time_t now = time(NULL);
	char *text;
	int rc;

	if (gmtime_r(&now, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S +0000", &tm);
	text = g_strdup_printf(
		"file: %s\nfailed: %s\nwhy: %.*s\n"
		"what to do: fix the cause, then move the file back into %s "
		"(bounced takes it again), or delete it and this file.\n",
		from, stamp, SPOOL_WHY_MAX, why, dir);
	spool_dir_back(sp->failed);
	spool_close_others(from);
	rc = spool_move_free(from, sp->failed, as, text, "");
	if (rc == 0)
		rc = spool_sync_dir(sp->failed);
	g_free(text);
	g_free(from);
	return rc;
}

/* spool_ignore_from - DIR/NAME to ignored/AS (or a free name) with its
   .why, or deleted when the retention is 0 */
int spool_ignore_from(struct spool *sp, const char *dir, const char *name,
		      const char *as, const char *why)
{
	char *from = g_build_filename(dir, name, NULL);
	char stamp[64] = "", err[512];
	struct tm tm;
	time_t now = time(NULL);
	char *text = NULL;
	int rc;

	if (sp->retention == 0) {
		rc = unlink(from) == 0 ? 0 : -errno;
		if (rc && rc != -ENOENT)
			log_error("spool", "cannot delete '%s': %s", from,
				  strerror(-rc));
		goto out;
	}
	rc = spool_mkdir(sp->ignored, err, sizeof(err));
	if (rc) {
		log_error("spool", "%s", err);
		goto out;
	}
	if (gmtime_r(&now, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S +0000", &tm);
	text = g_strdup_printf(
		"file: %s\nignored: %s\nwhy: %.*s\n"
		"what to do: nothing; it is kept for done-retention like the "
		"files of done/.  Should it be a feedback report after all, "
		"see docs/FBL.md.\n", from, stamp, SPOOL_WHY_MAX, why);
	rc = spool_move_free(from, sp->ignored, as, text, "");
out:
	g_free(text);
	g_free(from);
	return rc;
}

/* spool_expire_dir - delete the files of DIR older than the retention;
   the number deleted, or -errno (a missing DIR is empty) */
static int spool_expire_dir(struct spool *sp, const char *dir, time_t now)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d) {
		int rc = -errno;

		if (rc == -ENOENT && dir == sp->ignored)
			return 0;
		log_error("spool", "cannot read '%s': %s", dir,
			  strerror(-rc));
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat sb;
		time_t t;

		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(sb.st_mode))
			continue;
		/* rename() updates the status-change time: when it was moved */
		t = sb.st_mtime > sb.st_ctime ? sb.st_mtime : sb.st_ctime;
		if (now - t < sp->retention)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) != 0) {
			log_error("spool", "cannot delete '%s/%s': %s", dir,
				  de->d_name, strerror(errno));
			continue;
		}
		log_debug("spool", "deleted '%s/%s' (older than done-retention)",
			  dir, de->d_name);
		n++;
	}
	closedir(d);
	return n;
}

/* spool_expire - delete done/ and ignored/ files older than the
   retention */
int spool_expire(struct spool *sp, time_t now)
{
	int n = spool_expire_dir(sp, sp->done, now), m;

	if (n < 0)
		return n;
	m = spool_expire_dir(sp, sp->ignored, now);
	return m < 0 ? m : n + m;
}
