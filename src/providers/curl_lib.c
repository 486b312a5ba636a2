/*
 * curl_lib.c - libcurl's functions that bounced calls, each passing the
 * call on to the library loaded on the first of them (curl_lib.h says
 * why): the soname the build found (CURL_SONAME), every function looked
 * up once (libload.h).  Without the library each fails as libcurl fails
 * (NULL, CURLE_FAILED_INIT, a bad handle), and the strerror functions
 * give why it could not be loaded.
 *
 * The variadic setopt and getinfo functions take one argument after the
 * option, whose type the option's number says (CURLOPTTYPE_*: a long, a
 * pointer, a function pointer or a curl_off_t; getinfo always a pointer),
 * read here as libcurl reads it and passed on as such.
 */
#define CURL_DISABLE_TYPECHECK 1	/* these are the functions themselves */
#include <stdarg.h>
#include <stdio.h>

#include <curl/curl.h>
#include <glib.h>

#include "curl_lib.h"
#include "errmsg.h"
#include "libload.h"

#ifndef CURL_SONAME
#error "CURL_SONAME: the soname of libcurl, found by the build"
#endif

/* CURL_URL_GET_CONST: const when this libcurl's curl_url_get takes a
   const handle (newer ones), from the build */
#ifndef CURL_URL_GET_CONST
#define CURL_URL_GET_CONST
#endif

struct curl_fns {
	__typeof__(curl_global_init) *global_init;
	__typeof__(curl_global_cleanup) *global_cleanup;
	__typeof__(curl_easy_init) *easy_init;
	__typeof__(curl_easy_setopt) *easy_setopt;
	__typeof__(curl_easy_perform) *easy_perform;
	__typeof__(curl_easy_getinfo) *easy_getinfo;
	__typeof__(curl_easy_reset) *easy_reset;
	__typeof__(curl_easy_cleanup) *easy_cleanup;
	__typeof__(curl_easy_strerror) *easy_strerror;
	__typeof__(curl_slist_append) *slist_append;
	__typeof__(curl_slist_free_all) *slist_free_all;
	__typeof__(curl_free) *free;
	__typeof__(curl_multi_init) *multi_init;
	__typeof__(curl_multi_setopt) *multi_setopt;
	__typeof__(curl_multi_add_handle) *multi_add_handle;
	__typeof__(curl_multi_remove_handle) *multi_remove_handle;
	__typeof__(curl_multi_socket_action) *multi_socket_action;
	__typeof__(curl_multi_assign) *multi_assign;
	__typeof__(curl_multi_info_read) *multi_info_read;
	__typeof__(curl_multi_cleanup) *multi_cleanup;
	__typeof__(curl_multi_strerror) *multi_strerror;
	__typeof__(curl_url) *url;
	__typeof__(curl_url_set) *url_set;
	__typeof__(curl_url_get) *url_get;
	__typeof__(curl_url_cleanup) *url_cleanup;
	__typeof__(curl_url_strerror) *url_strerror;
};

#define CURL_FN(f) LIBLOAD_SYM(struct curl_fns, f, curl_##f)
static const struct libload_sym curl_syms[] = {
	CURL_FN(global_init), CURL_FN(global_cleanup), CURL_FN(easy_init),
	CURL_FN(easy_setopt), CURL_FN(easy_perform), CURL_FN(easy_getinfo),
	CURL_FN(easy_reset), CURL_FN(easy_cleanup), CURL_FN(easy_strerror),
	CURL_FN(slist_append), CURL_FN(slist_free_all), CURL_FN(free),
	CURL_FN(multi_init), CURL_FN(multi_setopt),
	CURL_FN(multi_add_handle), CURL_FN(multi_remove_handle),
	CURL_FN(multi_socket_action), CURL_FN(multi_assign),
	CURL_FN(multi_info_read), CURL_FN(multi_cleanup),
	CURL_FN(multi_strerror), LIBLOAD_SYM(struct curl_fns, url, curl_url),
	CURL_FN(url_set), CURL_FN(url_get), CURL_FN(url_cleanup),
	CURL_FN(url_strerror),
};

static struct curl_fns F;
static char curl_lib_why[512];

/* curl_lib_load - fill F and set libcurl up (curl_global_init, once for
   the process's life: nothing calls curl_global_cleanup, the process's
   end does); 1, or 2 with why in curl_lib_why (a g_once value is never
   0) */
static gsize curl_lib_load(void)
{
	CURLcode cc;

	if (libload_open(CURL_SONAME, "libcurl", curl_syms,
			 G_N_ELEMENTS(curl_syms), &F, curl_lib_why,
			 sizeof(curl_lib_why)) != 0)
		return 2;
	cc = F.global_init(CURL_GLOBAL_DEFAULT);
	if (cc != CURLE_OK) {
		errmsg(curl_lib_why, sizeof(curl_lib_why), "cannot initialise "
		       "%s: %s", CURL_SONAME, F.easy_strerror(cc));
		return 2;
	}
	return 1;
}

bool curl_lib_ready(char *err, size_t errlen)
{
	static gsize state;

	if (g_once_init_enter(&state))
		g_once_init_leave(&state, curl_lib_load());
	if (state == 1)
		return true;
	errmsg(err, errlen, "%s", curl_lib_why);
	return false;
}

/* CURL_LIB - libcurl loaded, or return FAIL */
#define CURL_LIB(fail)                                                   \
	do {                                                             \
		if (!curl_lib_ready(NULL, 0))                            \
			return fail;                                     \
	} while (0)

/* CURL_LIB_VOID - libcurl loaded, or return */
#define CURL_LIB_VOID()                                                  \
	do {                                                             \
		if (!curl_lib_ready(NULL, 0))                            \
			return;                                          \
	} while (0)

/* a function pointer of any type, read from and passed as varargs */
typedef void (*curl_lib_anyfn)(void);

/* CURL_PASS_OPT - RC = CALL(H, OPT, x): x the one argument after OPT in
   AP, read as the type OPT's number says (CURLOPTTYPE_*, for easy and
   multi options alike) */
#define CURL_PASS_OPT(rc, call, h, opt, ap)                              \
	do {                                                             \
		if ((opt) < CURLOPTTYPE_OBJECTPOINT)                     \
			rc = call(h, opt, va_arg(ap, long));             \
		else if ((opt) < CURLOPTTYPE_FUNCTIONPOINT ||            \
			 (opt) >= CURLOPTTYPE_BLOB)                      \
			rc = call(h, opt, va_arg(ap, void *));           \
		else if ((opt) < CURLOPTTYPE_OFF_T)                      \
			rc = call(h, opt, va_arg(ap, curl_lib_anyfn));   \
		else                                                     \
			rc = call(h, opt, va_arg(ap, curl_off_t));       \
	} while (0)

CURLcode curl_global_init(long flags)
{
	CURL_LIB(CURLE_FAILED_INIT);
	return F.global_init(flags);
}

void curl_global_cleanup(void)
{
	CURL_LIB_VOID();
	F.global_cleanup();
}

CURL *curl_easy_init(void)
{
	CURL_LIB(NULL);
	return F.easy_init();
}

CURLcode curl_easy_setopt(CURL *curl, CURLoption option, ...)
{
	CURLcode rc;
	va_list ap;

	CURL_LIB(CURLE_FAILED_INIT);
	va_start(ap, option);
	CURL_PASS_OPT(rc, F.easy_setopt, curl, option, ap);
	va_end(ap);
	return rc;
}

CURLcode curl_easy_perform(CURL *curl)
{
	CURL_LIB(CURLE_FAILED_INIT);
	return F.easy_perform(curl);
}

CURLcode curl_easy_getinfo(CURL *curl, CURLINFO info, ...)
{
	CURLcode rc;
	va_list ap;

	CURL_LIB(CURLE_FAILED_INIT);
	va_start(ap, info);
	rc = F.easy_getinfo(curl, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

void curl_easy_reset(CURL *curl)
{
	CURL_LIB_VOID();
	F.easy_reset(curl);
}

void curl_easy_cleanup(CURL *curl)
{
	CURL_LIB_VOID();
	F.easy_cleanup(curl);
}

const char *curl_easy_strerror(CURLcode code)
{
	CURL_LIB(curl_lib_why);
	return F.easy_strerror(code);
}

struct curl_slist *curl_slist_append(struct curl_slist *list,
				     const char *data)
{
	CURL_LIB(NULL);
	return F.slist_append(list, data);
}

void curl_slist_free_all(struct curl_slist *list)
{
	CURL_LIB_VOID();
	F.slist_free_all(list);
}

void curl_free(void *p)
{
	CURL_LIB_VOID();
	F.free(p);
}

CURLM *curl_multi_init(void)
{
	CURL_LIB(NULL);
	return F.multi_init();
}

CURLMcode curl_multi_setopt(CURLM *multi, CURLMoption option, ...)
{
	CURLMcode rc;
	va_list ap;

	CURL_LIB(CURLM_BAD_HANDLE);
	va_start(ap, option);
	CURL_PASS_OPT(rc, F.multi_setopt, multi, option, ap);
	va_end(ap);
	return rc;
}

CURLMcode curl_multi_add_handle(CURLM *multi, CURL *curl)
{
	CURL_LIB(CURLM_BAD_HANDLE);
	return F.multi_add_handle(multi, curl);
}

CURLMcode curl_multi_remove_handle(CURLM *multi, CURL *curl)
{
	CURL_LIB(CURLM_BAD_HANDLE);
	return F.multi_remove_handle(multi, curl);
}

CURLMcode curl_multi_socket_action(CURLM *multi, curl_socket_t s,
				   int ev_bitmask, int *running_handles)
{
	CURL_LIB(CURLM_BAD_HANDLE);
	return F.multi_socket_action(multi, s, ev_bitmask, running_handles);
}

CURLMcode curl_multi_assign(CURLM *multi, curl_socket_t sockfd, void *sockp)
{
	CURL_LIB(CURLM_BAD_HANDLE);
	return F.multi_assign(multi, sockfd, sockp);
}

CURLMsg *curl_multi_info_read(CURLM *multi, int *msgs_in_queue)
{
	CURL_LIB(NULL);
	return F.multi_info_read(multi, msgs_in_queue);
}

CURLMcode curl_multi_cleanup(CURLM *multi)
{
	CURL_LIB(CURLM_BAD_HANDLE);
	return F.multi_cleanup(multi);
}

const char *curl_multi_strerror(CURLMcode code)
{
	CURL_LIB(curl_lib_why);
	return F.multi_strerror(code);
}

CURLU *curl_url(void)
{
	CURL_LIB(NULL);
	return F.url();
}

CURLUcode curl_url_set(CURLU *handle, CURLUPart what, const char *part,
		       unsigned int flags)
{
	CURL_LIB(CURLUE_BAD_HANDLE);
	return F.url_set(handle, what, part, flags);
}

CURLUcode curl_url_get(CURL_URL_GET_CONST CURLU *handle, CURLUPart what,
		       char **part, unsigned int flags)
{
	CURL_LIB(CURLUE_BAD_HANDLE);
	return F.url_get(handle, what, part, flags);
}

void curl_url_cleanup(CURLU *handle)
{
	CURL_LIB_VOID();
	F.url_cleanup(handle);
}

const char *curl_url_strerror(CURLUcode code)
{
	CURL_LIB(curl_lib_why);
	return F.url_strerror(code);
}
