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

const struct cli_opt ctl_opts_graph[] = {
	{ "period", CTL_O_PERIOD, "P",
	  "day, week, month or year (default: all four)" },
	{ "out", CTL_O_OUT, "DIR",
	  "where the images go (default: the current\n"
	  "directory; created when missing)" },
	{ "format", CTL_O_FORMAT, "F", "png (default) or svg" },
	{ "width", CTL_O_WIDTH, "N",
	  "image width in pixels, 200 to 4000 (default 800)" },
	{ "height", CTL_O_HEIGHT, "N",
	  "image height in pixels, 200 to 4000 (default 260)" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_opt ctl_opts_report[] = {
	{ "out", CTL_O_OUT, "DIR",
	  "where index.html goes (created when missing)" },
	{ "refresh", CTL_O_REFRESH, "D",
	  "the browser reloads the page every D\n(default 5m; 0 = never)" },
	{ "format", CTL_O_FORMAT, "F", "png (default) or svg images" },
	{ "width", CTL_O_WIDTH, "N", "image width, as for graph" },
	{ "height", CTL_O_HEIGHT, "N", "image height, as for graph" },
	{ NULL, 0, NULL, NULL },
};

/* ctl_graph_opt - one option of graph/report; 0, or an exit code after
   the message */
static int ctl_graph_opt(const struct ctl_ctx *ctx, const char *cmd,
			 const struct cli_argval *o, struct ctl_graph_args *a)
{
	const char *v = o->value;

	switch (o->key) {
	case CTL_O_OUT:
		if (!*v)
			return ctl_usage(ctx, cmd, "--out: an empty value (a "
					 "directory: '.' for the current one)");
		a->out = v;
		break;
	case CTL_O_FORMAT:
		if (graph_format_parse(v, &a->opts.format) != 0)
			return ctl_usage(ctx, cmd, "--format takes png or svg");
		break;
	case CTL_O_WIDTH:
		return ctl_graph_size(ctx, cmd, "--width", v, &a->opts.width);
	case CTL_O_HEIGHT:
		return ctl_graph_size(ctx, cmd, "--height", v, &a->opts.height);
	case CTL_O_PERIOD:
		if (graph_period_parse(v, &a->period) != 0)
			return ctl_usage(ctx, cmd, "--period takes day, week, "
					 "month or year");
		a->one_period = true;
		break;
	case CTL_O_REFRESH:
		if (config_parse_duration(v, &a->refresh) != 0)
			return ctl_usage(ctx, cmd, "--refresh takes a duration "
					 "such as 5m, or 0");
		break;
	}
	return 0;
}

int ctl_graph_parse(const struct ctl_ctx *ctx, const struct cli_args *args,
		    bool report, struct ctl_graph_args *a)
{
	const char *cmd = args->cmd;
	size_t i;
	int rc;

	memset(a, 0, sizeof(*a));
	a->opts.width = GRAPH_WIDTH_DEFAULT;
	a->opts.height = GRAPH_HEIGHT_DEFAULT;
	a->opts.format = GRAPH_PNG;
	a->opts.end = ctx->now;
	a->opts.host = g_get_host_name();
	a->refresh = 300;
	for (i = 0; i < args->n_opts; i++) {
		rc = ctl_graph_opt(ctx, cmd, &args->opts[i], a);
		if (rc)
			return rc;
	}
	rc = ctl_args_none(ctx, args);
	if (rc)
		return rc;
	if (!a->out && report)
		return ctl_usage(ctx, cmd, "--out DIR is required");
	if (!a->out)
		a->out = ".";
	if (g_mkdir_with_parents(a->out, (int)atomic_file_mode_in(
			a->out, 0755, ctx->cfg->state, ctx->cfg->spool)) != 0) {
		fprintf(stderr, "%s: %s: cannot create '%s': %s\n", ctx->prog,
			cmd, a->out, strerror(errno));
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

/* ctl_graph_write - IMG as DIR/PANEL-PERIOD.EXT, its path printed; 0 or
   EXIT_CANTCREAT */
static int ctl_graph_write(struct ctl_ctx *ctx, const struct ctl_graph_args *a,
			   unsigned panel, unsigned period, GBytes *img)
{
	char err[1024];
	char *path = g_strdup_printf("%s/%s-%s.%s", a->out,
				     graph_panel_name(panel),
				     graph_period_name(period),
				     graph_format_name(a->opts.format));
	gsize len;
	const void *data = g_bytes_get_data(img, &len);
	int rc;

	rc = atomic_file_write(path, data, len,
			       atomic_file_mode_in(path, 0644, ctx->cfg->state,
						   ctx->cfg->spool),
			       err, sizeof(err));
	if (rc)
		fprintf(stderr, "%s: graph: %s\n", ctx->prog, err);
	else
		fprintf(ctx->out, "%s\n", path);
	g_free(path);
	return rc ? EXIT_CANTCREAT : 0;
}

int cmd_graph(struct ctl_ctx *ctx, const struct cli_args *args)
{
	struct ctl_graph_args a;
	unsigned p, q;
	char err[1024];
	int rc;

	rc = ctl_graph_parse(ctx, args, false, &a);
	if (rc)
		return rc;
	for (q = 0; q < GRAPH_N_PERIODS; q++) {
		struct graph_data *d = NULL;

		if (a.one_period && q != (unsigned)a.period)
			continue;
		rc = graph_data_load(ctx->cfg->rrd_file, q, &a.opts, &d, err,
				     sizeof(err));
		if (rc)
			return ctl_graph_error(ctx, args->cmd, rc, err);
		for (p = 0; rc == 0 && p < GRAPH_N_PANELS; p++) {
			GBytes *img = NULL;

			rc = graph_data_render(d, p, &a.opts, &img, NULL, err,
					       sizeof(err));
			if (rc) {
				rc = ctl_graph_error(ctx, args->cmd, rc, err);
				break;
			}
			rc = ctl_graph_write(ctx, &a, p, q, img);
			g_bytes_unref(img);
		}
		graph_data_free(d);
		if (rc)
			return rc;
	}
	return EXIT_OK;
}
