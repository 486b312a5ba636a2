/*
 * multi.h - the one curl multi handle of a bounced process, driven by the
 * event loop: curl's sockets are registered with the loop
 * (CURLMOPT_SOCKETFUNCTION), its timeouts are a loop timer
 * (CURLMOPT_TIMERFUNCTION), and a finished transfer calls back whoever
 * added it.  Provider calls, campaign lookups and the operator's SMTP mail
 * all run on it, so nothing is polled and nothing blocks.
 *
 *     multi_add(m, easy, done, arg);   // done(easy, result, arg) later
 *
 * The caller keeps its easy handle: after DONE it may reuse or free it;
 * multi_remove() takes one out unfinished (no callback).
 */
#ifndef BOUNCED_MULTI_H
#define BOUNCED_MULTI_H

#include <stddef.h>

#include <curl/curl.h>

struct loop;
struct multi;

/* a transfer ended with RESULT: EASY is out of the multi handle again */
typedef void multi_done_fn(CURL *easy, CURLcode result, void *arg);

/* multi_new - a multi handle on loop L: libcurl is loaded and the curl
   multi handle made on its first transfer (multi_add), not before */
struct multi *multi_new(struct loop *l);
/* multi_free - take out what is left (no callbacks), the handle */
void multi_free(struct multi *m);

/* multi_add - start EASY; DONE(EASY, result, ARG) when it ends.  0, or -1
   with ERR (libcurl cannot be loaded or set up, the transfer cannot be
   added; then no callback) */
int multi_add(struct multi *m, CURL *easy, multi_done_fn *done, void *arg,
	      char *err, size_t errlen);
/* multi_remove - take EASY out unfinished, no callback */
void multi_remove(struct multi *m, CURL *easy);
/* multi_running - transfers under way */
unsigned multi_running(const struct multi *m);

/* multi_keep_conns - N more (or fewer: negative) connections kept alive
   in the shared connection cache (its size is what the users asked) */
void multi_keep_conns(struct multi *m, long n);

#endif
