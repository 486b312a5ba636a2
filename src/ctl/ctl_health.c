/*
 * ctl_health.c - what the report says about each provider and about the
 * files that failed: per provider the operations done (the recipients'
 * action entries), the actions waiting and those being retried (the
 * outbox), the dead letters, the pause and the latest error; and the
 * files of SPOOL/failed/ with the reason of their NAME.why.
 *
 * The state is read in the caller's read-only transaction; the spool is
 * only listed and the .why files read (bounded), nothing is changed.  A
 * failed/ directory that cannot be listed is said, not an error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "outbox.h"
#include "provider.h"
#include "state.h"

#define HEALTH_WHY_READ 4096	/* bytes of a .why file read */

/* health_find - the entry of NAME in H (added when missing) */
static struct ctl_health *health_find(GArray *h, const char *name)
{
	struct ctl_health e;
	guint i;

	for (i = 0; i < h->len; i++)
		if (strcmp(g_array_index(h, struct ctl_health, i).name,
			   name) == 0)
			return &g_array_index(h, struct ctl_health, i);
	memset(&e, 0, sizeof(e));
	ctl_text_clean(name, e.name, sizeof(e.name));
	g_array_append_val(h, e);
	return &g_array_index(h, struct ctl_health, h->len - 1);
}

/* health_error - keep ERR (of an action due at DUE_MS) when it is the
   latest seen */
static void health_error(struct ctl_health *e, const char *err,
			 int64_t due_ms)
{
	if (!err[0] || due_ms < e->last_error_ms)
		return;
	e->last_error_ms = due_ms;
	ctl_text_clean(err, e->last_error, sizeof(e->last_error));
}

/* health_outbox_cb - one action waiting */
static int health_outbox_cb(const struct action *a, void *arg)
{
	struct ctl_health *e = health_find(arg, a->provider);

	e->pending++;
	if (a->attempts > 0) {
		e->retrying++;
		health_error(e, a->last_error, a->due_ms);
	}
	return 0;
}

/* health_dead_cb - one dead letter */
static int health_dead_cb(const struct action *a, void *arg)
{
	struct ctl_health *e = health_find(arg, a->provider);

	e->dead++;
	health_error(e, a->last_error, a->due_ms);
	return 0;
}

/* health_type - the name of provider P's type */
static const char *health_type(const struct config_provider *p)
{
	const struct provider_ops *ops = provider_ops_of(p);

	return ops ? ops->type : "";
}

/* ctl_health_gather - every provider's health into H */
int ctl_health_gather(struct state *st, MDB_txn *txn,
		      const struct config *cfg, const struct ctl_stats *s,
		      GArray *h)
{
	GHashTableIter it;
	gpointer key, val;
	size_t i;
	int rc;

	for (i = 0; i < cfg->n_providers; i++) {
		struct ctl_health *e = health_find(h, cfg->providers[i].name);

		e->configured = true;
		e->type = health_type(&cfg->providers[i]);
	}
	g_hash_table_iter_init(&it, s->prov);
	while (g_hash_table_iter_next(&it, &key, &val)) {
		const struct ctl_prov_entries *p = val;
		struct ctl_health *e = health_find(h, key);

		e->done = p->by_state[ACTION_DONE];
		e->dry_run = p->by_state[ACTION_DRYRUN];
	}
	for (i = 0; i < s->n_paused; i++) {
		struct ctl_health *e = health_find(h, s->paused[i].name);

		e->paused = true;
		e->paused_since_ms = s->paused[i].since_ms;
		ctl_text_clean(s->paused[i].why, e->paused_why,
			       sizeof(e->paused_why));
	}
	rc = outbox_foreach(st, txn, -1, health_outbox_cb, h);
	if (rc == 0)
		rc = outbox_dead_foreach(st, txn, health_dead_cb, h);
	return rc == -ENOENT ? 0 : rc;	/* a state older than the outbox */
}

/* failed_why - the "why:" line of DIR/NAME.why into WHY, "" without */
static void failed_why(int dfd, const char *name, char *why, size_t len)
{
	char buf[HEALTH_WHY_READ + 1], *w = NULL, *p, *path;
	ssize_t n;
	int fd;

	why[0] = '\0';
	path = g_strconcat(name, ".why", NULL);
	fd = openat(dfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	g_free(path);
	if (fd < 0)
		return;
	n = read(fd, buf, HEALTH_WHY_READ);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (strncmp(buf, "why: ", 5) == 0)
		w = buf + 5;
	else if ((p = strstr(buf, "\nwhy: ")) != NULL)
		w = p + 6;
	if (!w)
		return;
	p = strchr(w, '\n');
	if (p)
		*p = '\0';
	ctl_text_clean(w, why, len);
}

/* failed_cmp - newest first, then by name */
static int failed_cmp(const void *a, const void *b)
{
	const struct ctl_failed *x = a, *y = b;

	if (x->mtime != y->mtime)
		return x->mtime > y->mtime ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* ctl_failed_files - the newest files of failed/ and their reasons */
int ctl_failed_files(const struct config *cfg, GArray *out, size_t max,
		     size_t *total)
{
	char *dir = g_build_filename(cfg->spool, "failed", NULL);
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;

	*total = 0;
	g_free(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)) != NULL) {
		struct ctl_failed f;
		struct stat sb;
		size_t n = strlen(de->d_name);

		if (de->d_name[0] == '.' ||
		    (n > 4 && strcmp(de->d_name + n - 4, ".why") == 0))
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(sb.st_mode))
			continue;
		(*total)++;
		memset(&f, 0, sizeof(f));
		ctl_text_clean(de->d_name, f.name, sizeof(f.name));
		f.mtime = (int64_t)sb.st_mtime;
		f.size = (uint64_t)sb.st_size;
		failed_why(dirfd(d), de->d_name, f.why, sizeof(f.why));
		g_array_append_val(out, f);
		if (out->len > 4 * max + 64) {	/* keep memory bounded */
			g_array_sort(out, failed_cmp);
			g_array_set_size(out, max);
		}
	}
	closedir(d);
	g_array_sort(out, failed_cmp);
	if (out->len > max)
		g_array_set_size(out, max);
	return rc;
}
