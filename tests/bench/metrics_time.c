/*
 * metrics_time.c - how long one RRD update (metrics_update_at: two state
 * commits and rrd_update) and one graph render (graph_render, PNG 800 x
 * 260) take.  Usage: metrics_time [N] (default 200 of each); prints the
 * median and the slowest of each in milliseconds.  Works in a temporary
 * directory, removed at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "graph.h"
#include "log.h"
#include "metrics.h"
#include "state.h"

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* report - median and max of the N times in T */
static void report(const char *what, double *t, int n)
{
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	printf("%s: median %.2f ms, slowest %.2f ms (%d runs)\n", what,
	       t[n / 2], t[n - 1], n);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200, i, rc = 1;
	char *dir = g_dir_make_tmp("bounced-metrics-bench-XXXXXX", NULL);
	char *rrd = g_build_filename(dir, "bounced.rrd", NULL), err[512];
	struct graph_opts go = { GRAPH_WIDTH_DEFAULT, GRAPH_HEIGHT_DEFAULT,
				 GRAPH_PNG, 0, NULL };
	int64_t t0 = (int64_t)time(NULL) - (int64_t)n * METRICS_STEP;
	double *t = g_new(double, n > 0 ? n : 1);
	struct state *st = NULL;

	t0 -= t0 % METRICS_STEP;
	log_set_level(BLOG_ERROR);
	if (n < 1 || state_open(&st, dir, false, err, sizeof(err)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		MDB_txn *txn = NULL;
		double s;

		if (state_begin(st, true, &txn) != 0 ||
		    state_meta_add_u64(st, txn, "count.hard", 3) != 0 ||
		    state_commit(txn) != 0)
			goto out;
		s = now_ms();
		if (metrics_update_at(st, rrd, t0 + (int64_t)i * METRICS_STEP,
				      err, sizeof(err)) != 1) {
			fprintf(stderr, "metrics_time: %s\n", err);
			goto out;
		}
		t[i] = now_ms() - s;
	}
	report("rrd update", t, n);
	go.end = t0 + (int64_t)n * METRICS_STEP;
	for (i = 0; i < n; i++) {
		GBytes *img = NULL;
		double s = now_ms();

		if (graph_render(rrd, GRAPH_BOUNCES, GRAPH_DAY, &go, &img, err,
				 sizeof(err)) != 0) {
			fprintf(stderr, "metrics_time: %s\n", err);
			goto out;
		}
		t[i] = now_ms() - s;
		g_bytes_unref(img);
	}
	report("graph render (bounces, day, PNG 800x260)", t, n);
	rc = 0;
out:
	state_close(st);
	unlink(rrd);
	{
		char *p = g_build_filename(dir, "data.mdb", NULL), *q =
			g_build_filename(dir, "lock.mdb", NULL);

		unlink(p);
		unlink(q);
		g_free(p);
		g_free(q);
	}
	rmdir(dir);
	g_free(t);
	g_free(rrd);
	g_free(dir);
	return rc;
}
