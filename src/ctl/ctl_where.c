/*
 * ctl_where.c - where an input taken is now.  The files table and the
 * records keep the path a file was taken under (SPOOL/acct/NAME,
 * SPOOL/fbl/new/NAME); the worker then moves it to done/, failed/ or
 * ignored/ (docs/SPOOL.md names them), and deletes done/ and ignored/
 * after done-retention.  bouncectl show and files say which.
 *
 * Only lstat(): nothing is opened or changed.  A file is the one taken
 * when its device and inode are those the files table recorded (a rename
 * keeps them), so a later file of the same name is not taken for it.
 * A directory the user may not search makes the answer "unknown", never
 * "gone".
 */
#include <errno.h>
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
