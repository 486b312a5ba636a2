/*
 * rrd_file.c - create, check, migrate and update the metrics' RRD file
 * with librrd (rrd_create_r, rrd_info_r, rrd_tune, rrd_update_r), loaded
 * when first needed (rrd_lib.h): a librrd that cannot be loaded is an
 * error (-ELIBACC) with why.
 *
 * librrd reports errors through a per-thread buffer (rrd_get_error): it
 * is cleared before each call and quoted in our message after a failure.
 * The file is created mode 0640 (whatever the umask allows of it, never
 * readable by others).  Nothing that is not a regular file is ever
 * written, moved aside or replaced: a device, FIFO, socket or directory
 * under the name (or a symbolic link to one) is an error; a symbolic link
 * to a regular RRD of our layout is used, one to any other file is left
 * as it is (an error), never moved aside.
 *
 * Error policy: every function returns 0 or -errno with ERR; only
 * rrdfile_ensure logs (what it did to an existing file).
 */
#include <errno.h>
#include <stdlib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "atomic_file.h"
#include "log.h"
#include "rrd_file.h"
#include "rrd_lib.h"

#define RRDFILE_COUNT_HEARTBEAT 86400	/* a quiet day still reads as 0 */
#define RRDFILE_GAUGE_HEARTBEAT (2 * METRICS_STEP)
#define RRDFILE_XFF "0.5"
#define RRDFILE_MODE 0640

/* the archives: points of PDP_PER_ROW steps, ROWS of them, per CF */
static const struct {
	unsigned long pdp_per_row, rows;
} rrdfile_rras[] = {
	{ 1, 2880 },	/* 1 minute, 2 days */
	{ 5, 4032 },	/* 5 minutes, 2 weeks */
	{ 60, 2232 },	/* 1 hour, 93 days */
	{ 1440, 732 },	/* 1 day, 732 days */
};
static const char *const rrdfile_cfs[] = { "AVERAGE", "MAX" };
#define RRDFILE_N_RRA (G_N_ELEMENTS(rrdfile_rras) * G_N_ELEMENTS(rrdfile_cfs))

/* rrdfile_err - "WHAT 'PATH': librrd's message" into ERR; librrd says
   nothing of some failed writes (a full disk while it creates a file):
   then ENO, the errno the call left when it was 0 before (0: none) */
static void rrdfile_err(const struct rrd_lib *R, char *err, size_t errlen,
			const char *what, const char *path, int eno)
{
	const char *why = R->test_error() ? R->get_error() :
			  eno ? strerror(eno) : "unknown error";

	if (err && errlen)
		snprintf(err, errlen, "cannot %s '%s': %s", what, path, why);
	R->clear_error();
}

/* rrdfile_ds_spec - "DS:NAME:TYPE:HEARTBEAT:0:U" of data source DS */
static char *rrdfile_ds_spec(unsigned ds)
{
	bool gauge = metrics_ds_kind(ds) == METRICS_GAUGE;

	return g_strdup_printf("DS:%s:%s:%d:0:U", metrics_ds_name(ds),
			       gauge ? "GAUGE" : "ABSOLUTE",
			       gauge ? RRDFILE_GAUGE_HEARTBEAT :
				       RRDFILE_COUNT_HEARTBEAT);
}

int rrdfile_create(const char *path, int64_t start, char *err, size_t errlen)
{
	const struct rrd_lib *R = rrd_lib_get(err, errlen);
	const char *argv[METRICS_N_DS + RRDFILE_N_RRA];
	char *own[METRICS_N_DS + RRDFILE_N_RRA];
	char *tmp;
	unsigned i, j, n = 0;
	mode_t mask;
	int rc = 0;

	if (!R)
		return -ELIBACC;
	tmp = g_strdup_printf("%s.new.%ld", path, (long)getpid());
	for (i = 0; i < METRICS_N_DS; i++)
		own[n++] = rrdfile_ds_spec(i);
	for (j = 0; j < G_N_ELEMENTS(rrdfile_cfs); j++)
		for (i = 0; i < G_N_ELEMENTS(rrdfile_rras); i++)
			own[n++] = g_strdup_printf("RRA:%s:%s:%lu:%lu",
						   rrdfile_cfs[j], RRDFILE_XFF,
						   rrdfile_rras[i].pdp_per_row,
						   rrdfile_rras[i].rows);
	for (i = 0; i < n; i++)
		argv[i] = own[i];
	(void)unlink(tmp);	/* a leftover of a crash of this pid */
	R->clear_error();
	errno = 0;
	if (R->create_r(tmp, METRICS_STEP, (time_t)start, (int)n, argv) != 0) {
		rrdfile_err(R, err, errlen, "create", tmp, errno);
		rc = -EIO;
		(void)unlink(tmp);	/* what a full disk left of it */
		goto out;
	}
	/* librrd creates it 0666 less the umask: not readable by others */
	mask = umask(0);
	umask(mask);
	if (chmod(tmp, RRDFILE_MODE & ~mask) != 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot set the mode of '%s': %s", tmp,
			 strerror(errno));
		(void)unlink(tmp);
		goto out;
	}
	/* link, not rename: a file someone else created meanwhile stays */
	if (link(tmp, path) != 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot create '%s': %s", path,
			 strerror(errno));
	}
	(void)unlink(tmp);
out:
	for (i = 0; i < n; i++)
		g_free(own[i]);
	g_free(tmp);
	return rc;
}

/* rrdfile_info_find - the entry KEY of INFO, or NULL */
static const rrd_info_t *rrdfile_info_find(const rrd_info_t *info,
					   const char *key)
{
	for (; info; info = info->next)
		if (info->key && strcmp(info->key, key) == 0)
			return info;
	return NULL;
}

/* rrdfile_info_cnt - the unsigned value of KEY, or -1 */
static long long rrdfile_info_cnt(const rrd_info_t *info, const char *key)
{
	const rrd_info_t *e = rrdfile_info_find(info, key);

	if (!e)
		return -1;
	if (e->type == RD_I_CNT)
		return (long long)e->value.u_cnt;
	if (e->type == RD_I_INT)
		return e->value.u_int;
	return -1;
}

/* rrdfile_info_str - the string value of KEY, or "" */
static const char *rrdfile_info_str(const rrd_info_t *info, const char *key)
{
	const rrd_info_t *e = rrdfile_info_find(info, key);

	return e && e->type == RD_I_STR && e->value.u_str ? e->value.u_str : "";
}

/* rrdfile_check_ds - our data sources in INFO; MISSING gets those absent,
   false (with WHY) when one has another type */
static bool rrdfile_check_ds(const rrd_info_t *info, GString *missing,
			     char *why, size_t whylen)
{
	char key[64];
	unsigned i;

	for (i = 0; i < METRICS_N_DS; i++) {
		const char *want = metrics_ds_kind(i) == METRICS_GAUGE ?
					   "GAUGE" : "ABSOLUTE";
		const char *type;

		snprintf(key, sizeof(key), "ds[%s].type", metrics_ds_name(i));
		if (!rrdfile_info_find(info, key)) {
			g_string_append_printf(missing, "%s%s",
					       missing->len ? ", " : "",
					       metrics_ds_name(i));
			continue;
		}
		type = rrdfile_info_str(info, key);
		if (strcmp(type, want) != 0) {
			snprintf(why, whylen, "data source %s is %s, not %s",
				 metrics_ds_name(i), type, want);
			return false;
		}
	}
	return true;
}

/* rrdfile_check_other - step, foreign data sources and archives of INFO
   against ours; false with WHY at the first difference */
static bool rrdfile_check_other(const rrd_info_t *info, char *why,
				size_t whylen)
{
	const rrd_info_t *e;
	char key[64];
	long long step = rrdfile_info_cnt(info, "step");
	unsigned i, j, k;

	if (step != METRICS_STEP) {
		snprintf(why, whylen, "step %lld s, not %d s", step,
			 METRICS_STEP);
		return false;
	}
	for (e = info; e; e = e->next) {
		char name[32];

		if (!e->key || sscanf(e->key, "ds[%31[^]]].type", name) != 1)
			continue;
		for (i = 0; i < METRICS_N_DS; i++)
			if (strcmp(name, metrics_ds_name(i)) == 0)
				break;
		if (i == METRICS_N_DS) {
			snprintf(why, whylen, "data source %s is not ours", name);
			return false;
		}
	}
	for (k = 0;; k++) {
		snprintf(key, sizeof(key), "rra[%u].cf", k);
		if (!rrdfile_info_find(info, key))
			break;
	}
	if (k != RRDFILE_N_RRA) {
		snprintf(why, whylen, "%u archives, not %zu", k,
			 (size_t)RRDFILE_N_RRA);
		return false;
	}
	for (k = 0; k < RRDFILE_N_RRA; k++) {
		long long rows, ppr;
		const char *cf;

		snprintf(key, sizeof(key), "rra[%u].cf", k);
		cf = rrdfile_info_str(info, key);
		snprintf(key, sizeof(key), "rra[%u].rows", k);
		rows = rrdfile_info_cnt(info, key);
		snprintf(key, sizeof(key), "rra[%u].pdp_per_row", k);
		ppr = rrdfile_info_cnt(info, key);
		j = k / G_N_ELEMENTS(rrdfile_rras);
		i = k % G_N_ELEMENTS(rrdfile_rras);
		if (strcmp(cf, rrdfile_cfs[j]) != 0 ||
		    rows != (long long)rrdfile_rras[i].rows ||
		    ppr != (long long)rrdfile_rras[i].pdp_per_row) {
			snprintf(why, whylen, "archive %u is %s of %lld x %lld "
				 "steps, not %s of %lu x %lu", k, cf, rows, ppr,
				 rrdfile_cfs[j], rrdfile_rras[i].rows,
				 rrdfile_rras[i].pdp_per_row);
			return false;
		}
	}
	return true;
}

int rrdfile_check(const char *path, enum rrdfile_layout *layout, char *why,
		  size_t whylen, char *err, size_t errlen)
{
	const struct rrd_lib *R = rrd_lib_get(err, errlen);
	GString *missing;
	rrd_info_t *info;
	struct stat sb;
	int rc = 0;

	why[0] = '\0';
	if (!R)
		return -ELIBACC;
	missing = g_string_new(NULL);
	if (stat(path, &sb) != 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open '%s': %s", path,
			 strerror(errno));
		goto out;
	}
	R->clear_error();
	info = R->info_r(path);
	if (!info || R->test_error()) {
		rrdfile_err(R, err, errlen, "read the RRD", path, 0);
		R->info_free(info);
		rc = -EINVAL;
		goto out;
	}
	*layout = RRDFILE_OURS;
	if (!rrdfile_check_other(info, why, whylen) ||
	    !rrdfile_check_ds(info, missing, why, whylen)) {
		*layout = RRDFILE_OTHER;
	} else if (missing->len) {
		*layout = RRDFILE_OLDER;
		snprintf(why, whylen, "no data source %s", missing->str);
	}
	R->info_free(info);
out:
	g_string_free(missing, TRUE);
	return rc;
}

/* rrdfile_migrate - add the data sources PATH lacks (rrd_tune) */
static int rrdfile_migrate(const char *path, char *err, size_t errlen)
{
	const struct rrd_lib *R = rrd_lib_get(err, errlen);
	GPtrArray *argv;
	char key[64];
	rrd_info_t *info;
	unsigned i;
	int rc = 0;

	if (!R)
		return -ELIBACC;
	argv = g_ptr_array_new_with_free_func(g_free);
	R->clear_error();
	info = R->info_r(path);
	if (!info) {
		rrdfile_err(R, err, errlen, "read the RRD", path, 0);
		rc = -EINVAL;
		goto out;
	}
	g_ptr_array_add(argv, g_strdup("tune"));
	g_ptr_array_add(argv, g_strdup(path));
	for (i = 0; i < METRICS_N_DS; i++) {
		snprintf(key, sizeof(key), "ds[%s].type", metrics_ds_name(i));
		if (!rrdfile_info_find(info, key))
			g_ptr_array_add(argv, rrdfile_ds_spec(i));
	}
	R->info_free(info);
	R->clear_error();
	if (argv->len > 2 &&
	    R->tune((int)argv->len, (char **)argv->pdata) != 0) {
		rrdfile_err(R, err, errlen, "add data sources to", path, 0);
		rc = -EIO;
	}
out:
	g_ptr_array_free(argv, TRUE);
	return rc;
}

/* rrdfile_move_aside - PATH to PATH.old-YYYYMMDDTHHMMSS; the new name
   into ASIDE */
static int rrdfile_move_aside(const char *path, char *aside, size_t len,
			      char *err, size_t errlen)
{
	time_t now = time(NULL);
	struct tm tm;
	char stamp[32];

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	if ((size_t)snprintf(aside, len, "%s.old-%s", path, stamp) >= len) {
		snprintf(err, errlen, "cannot move '%s' aside: name too long",
			 path);
		return -ENAMETOOLONG;
	}
	/* link + unlink: an older file of the same second is never replaced */
	if (link(path, aside) != 0 || unlink(path) != 0) {
		int rc = -errno;

		snprintf(err, errlen, "cannot move '%s' aside to '%s': %s",
			 path, aside, strerror(-rc));
		return rc;
	}
	return 0;
}

/* rrdfile_kind - 0 when PATH is absent or a regular file, or a symbolic
   link to one (*LINK true); -EEXIST with ERR for anything else */
static int rrdfile_kind(const char *path, bool *link, char *err,
			size_t errlen)
{
	struct stat sb, tb;

	*link = false;
	if (lstat(path, &sb) != 0 || S_ISREG(sb.st_mode))
		return 0;
	if (S_ISLNK(sb.st_mode)) {
		*link = true;
		if (stat(path, &tb) != 0 || S_ISREG(tb.st_mode))
			return 0;	/* dangling: creating it fails */
		sb = tb;
	}
	snprintf(err, errlen, "'%s' is %s%s, not a regular file: it is left "
		 "as it is and no RRD is written (set [rrd] file to a regular "
		 "file)", path, *link ? "a symbolic link to " : "",
		 atomic_file_kind(sb.st_mode));
	return -EEXIST;
}

int rrdfile_ensure(const char *path, int64_t start, char *err, size_t errlen)
{
	enum rrdfile_layout layout = RRDFILE_OURS;
	char why[256], aside[4096];
	bool link = false;
	int rc;

	rc = rrdfile_kind(path, &link, err, errlen);
	if (rc)
		return rc;
	rc = rrdfile_check(path, &layout, why, sizeof(why), err, errlen);
	if (rc == -ENOENT) {
		rc = rrdfile_create(path, start, err, errlen);
		if (rc == 0)
			log_info("metrics", "created %s", path);
		return rc == -EEXIST ? 0 : rc;
	}
	if (rc == -EINVAL) {
		/* not an RRD at all (or damaged): keep it, start anew */
		g_strlcpy(why, err, sizeof(why));
		layout = RRDFILE_OTHER;
	} else if (rc) {
		return rc;
	}
	if (layout == RRDFILE_OURS)
		return 0;
	if (layout == RRDFILE_OLDER) {
		/* a link stays a link: the file it names is migrated */
		char *real = link ? realpath(path, NULL) : NULL;

		if (link && !real) {
			rc = -errno;
			snprintf(err, errlen, "cannot follow the symbolic link "
				 "'%s': %s", path, strerror(-rc));
			return rc;
		}
		rc = rrdfile_migrate(real ? real : path, err, errlen);
		if (rc == 0)
			log_info("metrics", "%s%s%s: migrated to the current "
				 "layout (%s before)", path,
				 real ? ", the file it links to, " : "",
				 real ? real : "", why);
		free(real);
		return rc;
	}
	if (link) {
		snprintf(err, errlen, "'%s' is a symbolic link to a file of "
			 "another layout (%s): it is left as it is and no RRD "
			 "is written (set [rrd] file to a regular file)", path,
			 why);
		return -EEXIST;
	}
	rc = rrdfile_move_aside(path, aside, sizeof(aside), err, errlen);
	if (rc)
		return rc;
	log_warn("metrics", "%s has another layout (%s): kept as %s, a new "
		 "one is created", path, why, aside);
	rc = rrdfile_create(path, start, err, errlen);
	return rc == -EEXIST ? 0 : rc;
}

int rrdfile_last(const char *path, int64_t *t, char *err, size_t errlen)
{
	const struct rrd_lib *R = rrd_lib_get(err, errlen);
	time_t last;

	if (!R)
		return -ELIBACC;
	R->clear_error();
	last = R->last_r(path);
	if (last == (time_t)-1 || R->test_error()) {
		rrdfile_err(R, err, errlen, "read the last update of", path, 0);
		return access(path, F_OK) != 0 ? -ENOENT : -EIO;
	}
	*t = (int64_t)last;
	return 0;
}

int rrdfile_update(const char *path, const struct rrdfile_row *rows,
		   unsigned n, char *err, size_t errlen)
{
	const struct rrd_lib *R = rrd_lib_get(err, errlen);
	GString *tmpl;
	const char **argv;
	char **own;
	int64_t last = 0;
	unsigned i, k;
	int rc;

	if (!R)
		return -ELIBACC;
	tmpl = g_string_new(NULL);
	argv = g_new0(const char *, n + 1);
	own = g_new0(char *, n + 1);
	rc = rrdfile_last(path, &last, err, errlen);
	if (rc)
		goto out;
	if (n == 0 || rows[0].t <= last) {
		snprintf(err, errlen, "'%s' was updated at %" PRId64
			 ", not before %" PRId64, path, last,
			 n ? rows[0].t : last);
		rc = -ERANGE;
		goto out;
	}
	for (k = 0; k < METRICS_N_DS; k++)
		g_string_append_printf(tmpl, "%s%s", k ? ":" : "",
				       metrics_ds_name(k));
	for (i = 0; i < n; i++) {
		GString *line = g_string_new(NULL);

		g_string_append_printf(line, "%" PRId64, rows[i].t);
		for (k = 0; k < METRICS_N_DS; k++)
			g_string_append_printf(line, ":%" PRIu64, rows[i].v[k]);
		own[i] = g_string_free(line, FALSE);
		argv[i] = own[i];
	}
	R->clear_error();
	if (R->update_r(path, tmpl->str, (int)n, argv) != 0) {
		rrdfile_err(R, err, errlen, "update", path, 0);
		rc = -EIO;
	}
out:
	for (i = 0; i < n; i++)
		g_free(own[i]);
	g_free(own);
	g_free(argv);
	g_string_free(tmpl, TRUE);
	return rc;
}
