/*
 * ctl_where.c - where an input taken is now.  The files table and the
 * records keep the path a file was taken under (SPOOL/acct/NAME,
 * SPOOL/fbl/new/NAME); the worker then moves it to done/, failed/ or
 * ignored/ (docs/SPOOL.md names them), and deletes done/ and ignored/
 * after done-retention.  bouncectl show and files say which.
 *
 * Only lstat() and readdir(): nothing is opened or changed.  A file is
 * the one taken when its device and inode are those the files table
 * recorded (a rename keeps them), so a later file of the same name is not
 * taken for it.  A file that found its name taken by an earlier one in
 * done/, failed/ or ignored/ is kept as NAME.1, NAME.2 ... (spool.h): when
 * NAME is not the one, the files of those directories named so are looked
 * up by device and inode (read once per process, where_index).  A
 * directory the user may not search (or read, for NAME.N) makes the
 * answer "unknown", never "gone".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>

#include "ctl.h"

/* where_same - PATH is a regular file, the one F recorded (when F knows);
   1, 0, or -1 when it cannot be looked at */
static int where_same(const char *path, const struct file_rec *f)
{
	struct stat sb;

	if (lstat(path, &sb) != 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	if (!S_ISREG(sb.st_mode))
		return 0;
	if (f && (f->dev || f->ino) &&
	    ((uint64_t)sb.st_dev != f->dev || (uint64_t)sb.st_ino != f->ino))
		return 0;
	return 1;
}

/* the directories a file moves to (docs/SPOOL.md) */
static const char *const where_dirs[] = { "done", "failed", "ignored" };

/* the files of the spool kept under a free name (NAME.N), by device and
   inode: read once, the first time a file is not under its own name */
static struct {
	char *spool;		/* whose (NULL: not read yet) */
	GHashTable *by_id;	/* "DEV:INO" -> "DIR/NAME.N" (g_free) */
	unsigned unread;	/* bit I: where_dirs[I] could not be read */
} where_index;

/* where_suffixed - ENTRY is NAME.N (N digits, no leading 0); with NAME
   NULL, any name so */
static bool where_suffixed(const char *entry, const char *name)
{
	const char *dot = strrchr(entry, '.'), *p;

	if (!dot || dot == entry || dot[1] < '1' || dot[1] > '9')
		return false;
	for (p = dot + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return !name || (strlen(name) == (size_t)(dot - entry) &&
			 strncmp(entry, name, (size_t)(dot - entry)) == 0);
}

/* where_id - the key of device DEV and inode INO (g_free) */
static char *where_id(uint64_t dev, uint64_t ino)
{
	return g_strdup_printf("%llx:%llx", (unsigned long long)dev,
			       (unsigned long long)ino);
}

/* where_index_read - the index of SPOOL, read when not read yet */
static void where_index_read(const char *spool)
{
	struct dirent *de;
	struct stat sb;
	char *path;
	size_t i;
	DIR *d;

	if (where_index.spool && strcmp(where_index.spool, spool) == 0)
		return;
	g_free(where_index.spool);
	if (where_index.by_id)
		g_hash_table_destroy(where_index.by_id);
	where_index.spool = g_strdup(spool);
	where_index.by_id = g_hash_table_new_full(g_str_hash, g_str_equal,
						  g_free, g_free);
	where_index.unread = 0;
	for (i = 0; i < G_N_ELEMENTS(where_dirs); i++) {
		path = g_build_filename(spool, where_dirs[i], NULL);
		d = opendir(path);
		g_free(path);
		if (!d) {
			if (errno != ENOENT)
				where_index.unread |= 1u << i;
			continue;
		}
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.' ||
			    !where_suffixed(de->d_name, NULL) ||
			    fstatat(dirfd(d), de->d_name, &sb,
				    AT_SYMLINK_NOFOLLOW) != 0 ||
			    !S_ISREG(sb.st_mode))
				continue;
			g_hash_table_replace(where_index.by_id,
					     where_id((uint64_t)sb.st_dev,
						      (uint64_t)sb.st_ino),
					     g_build_filename(where_dirs[i],
							      de->d_name,
							      NULL));
		}
		closedir(d);
	}
}

/* where_unread - DIR (one of where_dirs) could not be read */
static bool where_unread(const char *dir)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(where_dirs); i++)
		if (strcmp(dir, where_dirs[i]) == 0)
			return (where_index.unread & (1u << i)) != 0;
	return false;
}

/* where_free_name - where the file F, taken as NAME, is among the names
   NAME.N of DIRS (N of them) under SPOOL: MOVED (its path into OUT),
   UNKNOWN (one of DIRS could not be read) or GONE */
static enum ctl_where where_free_name(const char *spool,
				      const char *const *dirs, size_t n,
				      const char *name,
				      const struct file_rec *f, char *out,
				      size_t outlen)
{
	char *id = where_id(f->dev, f->ino), *path;
	const char *rel, *slash;
	bool unread = false;
	size_t i;
	int same = 0;

	where_index_read(spool);
	rel = g_hash_table_lookup(where_index.by_id, id);
	g_free(id);
	slash = rel ? strchr(rel, '/') : NULL;
	for (i = 0; i < n; i++) {
		unread = unread || where_unread(dirs[i]);
		if (!slash || strlen(dirs[i]) != (size_t)(slash - rel) ||
		    strncmp(rel, dirs[i], (size_t)(slash - rel)) != 0 ||
		    !where_suffixed(slash + 1, name))
			continue;
		path = g_build_filename(spool, rel, NULL);
		same = where_same(path, f);
		g_free(path);
		if (same > 0) {
			g_strlcpy(out, rel, outlen);
			return CTL_WHERE_MOVED;
		}
	}
	return same < 0 || unread ? CTL_WHERE_UNKNOWN : CTL_WHERE_GONE;
}

/* where_spool - the spool directory as an absolute path (g_free) */
static char *where_spool(const struct config *cfg)
{
	char abs[PATH_MAX];

	if (realpath(cfg->spool, abs))
		return g_strdup(abs);
	return g_canonicalize_filename(cfg->spool, NULL);
}

/* ctl_file_where - where the file taken as KEY is now */
enum ctl_where ctl_file_where(const struct config *cfg, const char *key,
			      const struct file_rec *f, char *out,
			      size_t outlen)
{
	static const char *const mail_dirs[] = { "done", "ignored", "failed" };
	static const char *const acct_dirs[] = { "done", "failed" };
	char *spool, *rel = NULL, *name = NULL, *path;
	const char *const *dirs = NULL;
	enum ctl_where w = CTL_WHERE_GONE;
	size_t i, n = 0, sl;
	int same;

	if (outlen)
		out[0] = '\0';
	if (!key || key[0] != '/')
		return CTL_WHERE_STREAM;
	spool = where_spool(cfg);
	sl = strlen(spool);
	if (strncmp(key, spool, sl) == 0 && key[sl] == '/')
		rel = g_strdup(key + sl + 1);
	same = where_same(key, f);
	if (same != 0) {
		g_strlcpy(out, rel ? rel : key, outlen);
		w = same > 0 ? CTL_WHERE_HERE : CTL_WHERE_UNKNOWN;
		goto out;
	}
	if (!rel)
		goto out;
	if (strncmp(rel, "acct/", 5) == 0 && !strchr(rel + 5, '/')) {
		name = g_strdup(rel + 5);
		dirs = acct_dirs;
		n = G_N_ELEMENTS(acct_dirs);
	} else if ((strncmp(rel, "fbl/new/", 8) == 0 &&
		    !strchr(rel + 8, '/')) ||
		   (strncmp(rel, "unsub/new/", 10) == 0 &&
		    !strchr(rel + 10, '/'))) {
		/* mails are kept as KIND.NAME (docs/SPOOL.md) */
		name = g_strconcat(rel[0] == 'f' ? "fbl." : "unsub.",
				   strrchr(rel, '/') + 1, NULL);
		dirs = mail_dirs;
		n = G_N_ELEMENTS(mail_dirs);
	}
	for (i = 0; name && *name && i < n; i++) {
		path = g_build_filename(spool, dirs[i], name, NULL);
		same = where_same(path, f);
		g_free(path);
		if (same == 0)
			continue;
		w = same > 0 ? CTL_WHERE_MOVED : CTL_WHERE_UNKNOWN;
		if (same > 0) {
			path = g_build_filename(dirs[i], name, NULL);
			g_strlcpy(out, path, outlen);
			g_free(path);
		}
		break;
	}
	/* not under its own name: kept under a free one? */
	if (w == CTL_WHERE_GONE && name && *name && f && (f->dev || f->ino))
		w = where_free_name(spool, dirs, n, name, f, out, outlen);
out:
	g_free(name);
	g_free(rel);
	g_free(spool);
	return w;
}

/* ctl_where_text - what follows the source's name in text output */
const char *ctl_where_text(enum ctl_where w, const char *where, char *buf,
			   size_t len)
{
	switch (w) {
	case CTL_WHERE_STREAM:
		return "";
	case CTL_WHERE_HERE:
		return "";
	case CTL_WHERE_MOVED:
		snprintf(buf, len, " (now %s)", where);
		return buf;
	case CTL_WHERE_UNKNOWN:
		return " (cannot look where it is now: permission denied)";
	case CTL_WHERE_GONE:
	default:
		return " (gone: deleted after done-retention, or moved away)";
	}
}
