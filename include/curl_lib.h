/*
 * curl_lib.h - libcurl, loaded when first needed.
 *
 * libcurl brings some twenty-five shared libraries with it (OpenSSL,
 * GnuTLS, Kerberos, LDAP, SASL, SSH, RTMP, nghttp2...): loading them was
 * two thirds of every start of bounced and bouncectl (23 ms against 9),
 * also of the runs that never make a request (a dry run without
 * providers) and of bouncectl, which makes none (it checks the
 * configuration's URLs by their form: url_check_by_form).  The programs
 * are not linked
 * with it: curl_lib.c defines libcurl's functions bounced uses, and the
 * first call of any of them loads the library (the soname the build
 * found) and passes the call on.  Callers include <curl/curl.h> and call
 * libcurl as usual; where they set it up they ask curl_lib_ready() first,
 * so that a libcurl that cannot be loaded is said as such.
 */
#ifndef BOUNCED_CURL_LIB_H
#define BOUNCED_CURL_LIB_H

#include <stdbool.h>
#include <stddef.h>

/* curl_lib_ready - load libcurl and call its curl_global_init() if not
   yet (safe from any thread); false when it cannot be, with why in ERR
   ("cannot load libcurl.so.4: ... (is the package of libcurl
   installed?)").  Without it every libcurl function fails (NULL, an
   error code whose strerror is that why). */
bool curl_lib_ready(char *err, size_t errlen);

#endif
