/*
 * libload.c - a shared library loaded when first needed (libload.h): the
 * dlopen of its soname and the lookup of its functions into a table.
 * Error policy: 0 or -1 with a message; nothing is logged.
 */
#include <dlfcn.h>
#include <string.h>

#include "errmsg.h"
#include "libload.h"

int libload_open(const char *soname, const char *what,
		 const struct libload_sym *syms, size_t n, void *table,
		 char *why, size_t whylen)
{
	const char *e;
	void *h, *fn;
	size_t i;

	h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		e = dlerror();
		return errmsg_rc(-1, why, whylen, "cannot load %s: %s (is the "
				 "package of %s installed?)", soname,
				 e ? e : "unknown error", what);
	}
	for (i = 0; i < n; i++) {
		(void)dlerror();
		fn = dlsym(h, syms[i].name);
		if (!fn) {
			e = dlerror();
			errmsg(why, whylen, "%s has no %s: %s", soname,
			       syms[i].name, e ? e : "not found");
			dlclose(h);
			return -1;
		}
		/* POSIX: a function pointer and a void * convert both ways */
		memcpy((char *)table + syms[i].off, &fn, sizeof(fn));
	}
	return 0;
}
