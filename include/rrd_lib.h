/*
 * rrd_lib.h - librrd, loaded when first needed.
 *
 * librrd brings some fifty shared libraries with it (cairo, pango,
 * fontconfig, ICU...), which cost every start of bounced and bouncectl
 * about a third of its time.  Most commands never touch the RRD (show,
 * list, queue, drop, check-config...), so the programs are not linked
 * with it: the first caller that needs it loads it (dlopen of the soname
 * the build found through pkg-config) and gets its functions here, each
 * of the type rrd.h declares.
 */
#ifndef BOUNCED_RRD_LIB_H
#define BOUNCED_RRD_LIB_H

#include <stddef.h>

#include <rrd.h>

struct rrd_lib {
	__typeof__(rrd_create_r) *create_r;
	__typeof__(rrd_update_r) *update_r;
	__typeof__(rrd_info_r) *info_r;
	__typeof__(rrd_info_free) *info_free;
	__typeof__(rrd_last_r) *last_r;
	__typeof__(rrd_tune) *tune;
	__typeof__(rrd_fetch_r) *fetch_r;
	__typeof__(rrd_graph_v) *graph_v;
	__typeof__(rrd_freemem) *freemem;
	__typeof__(rrd_test_error) *test_error;
	__typeof__(rrd_get_error) *get_error;
	__typeof__(rrd_clear_error) *clear_error;
};

/* rrd_lib_get - librrd's functions, loaded on the first call (safe from
   any thread); NULL when it cannot be loaded, with why in ERR ("cannot
   load librrd.so.8: ...") */
const struct rrd_lib *rrd_lib_get(char *err, size_t errlen);

/* rrd_lib_preload - start loading librrd in a thread of its own, for a
   caller sure to need it later (bounced process writes its metrics at
   the end): the load, some 40 ms, then overlaps its work, and the first
   rrd_lib_get waits for it to end.  Nothing when no thread can be made
   (the first rrd_lib_get loads it then). */
void rrd_lib_preload(void);

#endif
