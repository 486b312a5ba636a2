/*
 * rrd_lib.c - librrd loaded on first use (rrd_lib.h says why): the soname
 * the build found (RRD_SONAME), every function looked up once (libload.h);
 * a library that cannot be loaded, or lacks one of them, is an error of
 * each caller, said the same way each time.  A caller that will need it
 * may have it loaded ahead, in a thread (rrd_lib_preload).
 */
#include <stdio.h>

#include <glib.h>

#include "libload.h"
#include "rrd_lib.h"

#ifndef RRD_SONAME
#error "RRD_SONAME: the soname of librrd, found by the build"
#endif

static struct rrd_lib rrd_lib_fns;
static char rrd_lib_why[512];

/* the functions, by name, and where each goes */
#define RRD_LIB_FN(f, sym) LIBLOAD_SYM(struct rrd_lib, f, sym)
static const struct libload_sym rrd_lib_syms[] = {
	RRD_LIB_FN(create_r, rrd_create_r),
	RRD_LIB_FN(update_r, rrd_update_r),
	RRD_LIB_FN(info_r, rrd_info_r),
	RRD_LIB_FN(info_free, rrd_info_free),
	RRD_LIB_FN(last_r, rrd_last_r),
	RRD_LIB_FN(tune, rrd_tune),
	RRD_LIB_FN(fetch_r, rrd_fetch_r),
	RRD_LIB_FN(graph_v, rrd_graph_v),
	RRD_LIB_FN(freemem, rrd_freemem),
	RRD_LIB_FN(test_error, rrd_test_error),
	RRD_LIB_FN(get_error, rrd_get_error),
	RRD_LIB_FN(clear_error, rrd_clear_error),
};

/* rrd_lib_load - fill rrd_lib_fns; 1, or 2 with why in rrd_lib_why (a
   g_once_init value is never 0) */
static gsize rrd_lib_load(void)
{
	if (libload_open(RRD_SONAME, "librrd", rrd_lib_syms,
			 G_N_ELEMENTS(rrd_lib_syms), &rrd_lib_fns, rrd_lib_why,
			 sizeof(rrd_lib_why)) != 0)
		return 2;
	return 1;
}

const struct rrd_lib *rrd_lib_get(char *err, size_t errlen)
{
	static gsize state;

	if (g_once_init_enter(&state))
		g_once_init_leave(&state, rrd_lib_load());
	if (state == 1)
		return &rrd_lib_fns;
	if (err && errlen)
		snprintf(err, errlen, "%s", rrd_lib_why);
	return NULL;
}

/* rrd_lib_loader - the preload's thread: the load, its error kept for
   the first caller */
static gpointer rrd_lib_loader(gpointer unused)
{
	(void)unused;
	(void)rrd_lib_get(NULL, 0);
	return NULL;
}

void rrd_lib_preload(void)
{
	GThread *t = g_thread_try_new("rrd-load", rrd_lib_loader, NULL, NULL);

	if (t)
		g_thread_unref(t);	/* detached: nothing waits for it */
}
