/*
 * ctl_graph.c - "bouncectl graph": the metrics' panels as PNG or SVG
 * files, drawn by librrd from the RRD bounced keeps ([rrd] file), and the
 * option parsing graph and report share.
 *
 * Each image is written atomically (a temporary file renamed over
 * DIR/PANEL-PERIOD.EXT), so a web server or a browser reloading the
 * directory never shows half an image.  The RRD is only read.  Exit 66
 * when there is no RRD yet, 73 when DIR or a file cannot be written, 74
 * when librrd fails.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "atomic_file.h"
#include "cli.h"
#include "ctl.h"
#include "exitcodes.h"
#include "graph.h"

/* ctl_graph_size - VALUE of OPT as an image size; 0 or EXIT_USAGE */
static int ctl_graph_size(const struct ctl_ctx *ctx, const char *cmd,
			  const char *opt, const char *value, unsigned *out)
{
	char *end = NULL;
	guint64 v;

	errno = 0;
	v = g_ascii_strtoull(value, &end, 10);
	if (errno || end == value || *end || v < GRAPH_SIZE_MIN ||
	    v > GRAPH_SIZE_MAX)
		return ctl_usage(ctx, cmd, "%s takes a number of pixels from "
				 "%d to %d", opt, GRAPH_SIZE_MIN, GRAPH_SIZE_MAX);
	*out = (unsigned)v;
	return 0;
}

/* ctl_graph_opt - one option of graph/report at ARGV[*I]; 0, or an exit
   code after the message */
static int ctl_graph_opt(const struct ctl_ctx *ctx, int argc, char **argv,
			 int *i, bool report, struct ctl_graph_args *a)
{
	const char *cmd = argv[0], *v = NULL;
	int rc;

	if ((rc = cli_opt_value(ctx->prog, argc, argv, i, "--out", &v)) != 0) {
		a->out = v;
	} else if ((rc = cli_opt_value(ctx->prog, argc, argv, i, "--format",
				       &v)) != 0) {
		if (rc > 0 && graph_format_parse(v, &a->opts.format) != 0)
			return ctl_usage(ctx, cmd, "--format takes png or svg");
	} else if ((rc = cli_opt_value(ctx->prog, argc, argv, i, "--width",
				       &v)) != 0) {
		if (rc > 0)
			return ctl_graph_size(ctx, cmd, "--width", v,
					      &a->opts.width);
	} else if ((rc = cli_opt_value(ctx->prog, argc, argv, i, "--height",
				       &v)) != 0) {
		if (rc > 0)
			return ctl_graph_size(ctx, cmd, "--height", v,
					      &a->opts.height);
	} else if (!report && (rc = cli_opt_value(ctx->prog, argc, argv, i,
						  "--period", &v)) != 0) {
		if (rc > 0 && graph_period_parse(v, &a->period) != 0)
			return ctl_usage(ctx, cmd, "--period takes day, week, "
					 "month or year");
		a->one_period = true;
	} else if (report && (rc = cli_opt_value(ctx->prog, argc, argv, i,
						 "--refresh", &v)) != 0) {
		if (rc > 0 && config_parse_duration(v, &a->refresh) != 0)
			return ctl_usage(ctx, cmd, "--refresh takes a duration "
					 "such as 5m, or 0");
	} else {
		return ctl_usage(ctx, cmd, "unexpected argument '%s'", argv[*i]);
	}
	return rc < 0 ? EXIT_USAGE : 0;
}

int ctl_graph_parse(const struct ctl_ctx *ctx, int argc, char **argv,
		    bool report, struct ctl_graph_args *a)
{
	int i, rc;

	memset(a, 0, sizeof(*a));
	a->opts.width = GRAPH_WIDTH_DEFAULT;
	a->opts.height = GRAPH_HEIGHT_DEFAULT;
	a->opts.format = GRAPH_PNG;
	a->opts.end = ctx->now;
	a->opts.host = g_get_host_name();
	a->refresh = 300;
	for (i = 1; i < argc; i++) {
		rc = ctl_graph_opt(ctx, argc, argv, &i, report, a);
		if (rc)
			return rc;
	}
	if (!a->out && report)
		return ctl_usage(ctx, argv[0], "--out DIR is required");
	if (!a->out)
		a->out = ".";
	if (g_mkdir_with_parents(a->out, (int)atomic_file_mode_in(
			a->out, 0755, ctx->cfg->state, ctx->cfg->spool)) != 0) {
		fprintf(stderr, "%s: %s: cannot create '%s': %s\n", ctx->prog,
			argv[0], a->out, strerror(errno));
		return EXIT_CANTCREAT;
	}
	return 0;
}

int ctl_graph_error(const struct ctl_ctx *ctx, const char *cmd, int rc,
		    const char *err)
{
	fprintf(stderr, "%s: %s: %s\n", ctx->prog, cmd, err);
	if (rc == -ENOENT)
		return EXIT_NOINPUT;
	return rc == -EINVAL ? EXIT_USAGE : EXIT_IOERR;
}

int cmd_graph(struct ctl_ctx *ctx, int argc, char **argv)
{
	struct ctl_graph_args a;
	unsigned p, q;
	char err[1024];
	int rc;

	rc = ctl_graph_parse(ctx, argc, argv, false, &a);
	if (rc)
		return rc;
	for (q = 0; q < GRAPH_N_PERIODS; q++) {
		if (a.one_period && q != (unsigned)a.period)
			continue;
		for (p = 0; p < GRAPH_N_PANELS; p++) {
			GBytes *img = NULL;
			char *path;
			gsize len;
			const void *data;

			rc = graph_render(ctx->cfg->rrd_file, p, q, &a.opts,
					  &img, err, sizeof(err));
			if (rc)
				return ctl_graph_error(ctx, argv[0], rc, err);
			path = g_strdup_printf("%s/%s-%s.%s", a.out,
					       graph_panel_name(p),
					       graph_period_name(q),
					       graph_format_name(a.opts.format));
			data = g_bytes_get_data(img, &len);
			rc = atomic_file_write(path, data, len,
					       atomic_file_mode_in(path, 0644,
							ctx->cfg->state,
							ctx->cfg->spool),
					       err, sizeof(err));
			g_bytes_unref(img);
			if (rc) {
				fprintf(stderr, "%s: graph: %s\n", ctx->prog, err);
				g_free(path);
				return EXIT_CANTCREAT;
			}
			fprintf(ctx->out, "%s\n", path);
			g_free(path);
		}
	}
	return EXIT_OK;
}
