/*
 * multi.c - the curl multi handle on the event loop (include/multi.h).
 *
 * curl says which sockets it waits on and for what (socket callback): each
 * gets a loop registration, kept as the socket's curl_multi_assign()
 * pointer, changed or freed as curl says.  curl says when it wants to be
 * called without socket activity (timer callback): a loop timer.  When a
 * socket is ready or the timer falls due, curl_multi_socket_action() does
 * the work, and the finished transfers are read with
 * curl_multi_info_read() and handed to their owners, one callback each,
 * after curl returned (never from inside a curl callback, so an owner may
 * add and remove transfers freely).
 *
 * The curl multi handle is made on the first transfer: a run that makes
 * none never loads libcurl (curl_lib.h, whose loading also calls
 * curl_global_init, once for the process).  Only the loop's thread calls
 * libcurl; the ingest committer's thread never does.
 *
 * Error policy: set-up failures are returned with a message; a multi call
 * that fails at run time is logged (the transfers concerned end with
 * their own error, or at their timeout).
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "curl_lib.h"
#include "log.h"
#include "loop.h"
#include "multi.h"

struct multi_job {
	multi_done_fn *done;
	void *arg;
};

struct multi {
	struct loop *l;
	CURLM *cm;
	struct loop_timer *timer;
	GHashTable *jobs;	/* CURL * -> struct multi_job * */
	long conns;		/* connections the users want kept */
};

/* multi_finished - hand every finished transfer to its owner */
static void multi_finished(struct multi *m)
{
	struct multi_job *j;
	CURLcode result;
	CURLMsg *msg;
	CURL *easy;
	int left;

	while ((msg = curl_multi_info_read(m->cm, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		/* MSG does not survive the removal: copy what is needed */
		easy = msg->easy_handle;
		result = msg->data.result;
		j = g_hash_table_lookup(m->jobs, easy);
		if (!j)
			continue;	/* taken out meanwhile */
		g_hash_table_remove(m->jobs, easy);
		curl_multi_remove_handle(m->cm, easy);
		j->done(easy, result, j->arg);
		g_free(j);
	}
}

/* multi_action - curl's work for socket S (or the timeout), then what
   finished */
static void multi_action(struct multi *m, curl_socket_t s, int flags)
{
	int running = 0;
	CURLMcode mc = curl_multi_socket_action(m->cm, s, flags, &running);

	if (mc != CURLM_OK)
		log_error("multi", "curl multi: %s", curl_multi_strerror(mc));
	multi_finished(m);
}

/* multi_fd_ready - a socket of curl's is ready */
static void multi_fd_ready(struct loop *l, int fd, unsigned ready, void *arg)
{
	int flags = 0;

	(void)l;
	if (ready & LOOP_IN)
		flags |= CURL_CSELECT_IN;
	if (ready & LOOP_OUT)
		flags |= CURL_CSELECT_OUT;
	if (ready & LOOP_ERR)
		flags |= CURL_CSELECT_ERR;
	multi_action(arg, fd, flags);
}

/* multi_timer_due - curl's timeout */
static void multi_timer_due(struct loop *l, void *arg)
{
	(void)l;
	multi_action(arg, CURL_SOCKET_TIMEOUT, 0);
}

/* multi_socket_cb - CURLMOPT_SOCKETFUNCTION: what socket S waits for */
static int multi_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp,
			   void *socketp)
{
	struct multi *m = userp;
	struct loop_fd *h = socketp;
	unsigned ev = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		loop_fd_free(h);
		curl_multi_assign(m->cm, s, NULL);
		return 0;
	}
	if (what & CURL_POLL_IN)
		ev |= LOOP_IN;
	if (what & CURL_POLL_OUT)
		ev |= LOOP_OUT;
	if (h) {
		loop_fd_set(h, ev);
	} else {
		h = loop_fd_new(m->l, s, ev, multi_fd_ready, m);
		curl_multi_assign(m->cm, s, h);
	}
	return 0;
}

/* multi_timer_cb - CURLMOPT_TIMERFUNCTION: call curl in TIMEOUT_MS (-1:
   not at all) */
static int multi_timer_cb(CURLM *cm, long timeout_ms, void *userp)
{
	struct multi *m = userp;

	(void)cm;
	loop_timer_at(m->timer, timeout_ms);
	return 0;
}

/* multi_curl - libcurl loaded and the curl multi handle made, on the
   first transfer: a process that makes none (a dry run, bouncectl's
   commands) does not load libcurl; 0, or -1 with why */
static int multi_curl(struct multi *m, char *err, size_t errlen)
{
	if (m->cm)
		return 0;
	if (!curl_lib_ready(err, errlen))
		return -1;
	m->cm = curl_multi_init();
	if (!m->cm) {
		snprintf(err, errlen, "cannot create a curl multi handle");
		return -1;
	}
	if (curl_multi_setopt(m->cm, CURLMOPT_SOCKETFUNCTION,
			      multi_socket_cb) != CURLM_OK ||
	    curl_multi_setopt(m->cm, CURLMOPT_SOCKETDATA, m) != CURLM_OK ||
	    curl_multi_setopt(m->cm, CURLMOPT_TIMERFUNCTION,
			      multi_timer_cb) != CURLM_OK ||
	    curl_multi_setopt(m->cm, CURLMOPT_TIMERDATA, m) != CURLM_OK ||
	    curl_multi_setopt(m->cm, CURLMOPT_MAXCONNECTS,
			      m->conns > 0 ? m->conns : 1L) != CURLM_OK) {
		snprintf(err, errlen, "cannot set the curl multi handle's "
			 "callbacks");
		curl_multi_cleanup(m->cm);
		m->cm = NULL;
		return -1;
	}
	return 0;
}

/* multi_new - the multi handle on L */
struct multi *multi_new(struct loop *l)
{
	struct multi *m = g_new0(struct multi, 1);

	m->l = l;
	m->jobs = g_hash_table_new(g_direct_hash, g_direct_equal);
	m->timer = loop_timer_new(l, multi_timer_due, m);
	return m;
}

/* multi_free - everything, what is left taken out without callbacks */
void multi_free(struct multi *m)
{
	GHashTableIter it;
	gpointer k, v;

	if (!m)
		return;
	g_hash_table_iter_init(&it, m->jobs);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		if (m->cm)
			curl_multi_remove_handle(m->cm, k);
		g_free(v);
	}
	g_hash_table_destroy(m->jobs);
	if (m->cm)
		curl_multi_cleanup(m->cm);	/* REMOVEs its sockets */
	loop_timer_free(m->timer);
	g_free(m);
}

/* multi_add - start EASY */
int multi_add(struct multi *m, CURL *easy, multi_done_fn *done, void *arg,
	      char *err, size_t errlen)
{
	struct multi_job *j;
	int running = 0;
	CURLMcode mc;

	if (multi_curl(m, err, errlen) != 0)
		return -1;
	j = g_new(struct multi_job, 1);
	j->done = done;
	j->arg = arg;
	g_hash_table_insert(m->jobs, easy, j);
	mc = curl_multi_add_handle(m->cm, easy);
	if (mc != CURLM_OK) {
		g_hash_table_remove(m->jobs, easy);
		g_free(j);
		snprintf(err, errlen, "cannot start the transfer: %s",
			 curl_multi_strerror(mc));
		return -1;
	}
	/* under way at once, in the order added: left to the timer, curl
	   would run the transfers added in one turn newest first.  What this
	   finishes is handed over on the next turn. */
	mc = curl_multi_socket_action(m->cm, CURL_SOCKET_TIMEOUT, 0, &running);
	if (mc != CURLM_OK)
		log_error("multi", "curl multi: %s", curl_multi_strerror(mc));
	loop_timer_soon(m->timer, 0);
	return 0;
}

/* multi_remove - EASY out, unfinished, no callback */
void multi_remove(struct multi *m, CURL *easy)
{
	struct multi_job *j;
	CURLMcode mc;

	if (!m || !easy)
		return;
	j = g_hash_table_lookup(m->jobs, easy);
	if (!j)
		return;
	g_hash_table_remove(m->jobs, easy);
	g_free(j);
	mc = curl_multi_remove_handle(m->cm, easy);
	if (mc != CURLM_OK)
		log_warn("multi", "cannot remove a transfer from the multi "
			 "handle: %s", curl_multi_strerror(mc));
}

/* multi_running - transfers under way */
unsigned multi_running(const struct multi *m)
{
	return m ? g_hash_table_size(m->jobs) : 0;
}

/* multi_keep_conns - the connection cache grows (shrinks) by N */
void multi_keep_conns(struct multi *m, long n)
{
	m->conns += n;
	if (m->conns < 0)
		m->conns = 0;
	if (!m->cm)
		return;		/* set when the handle is made */
	if (curl_multi_setopt(m->cm, CURLMOPT_MAXCONNECTS,
			      m->conns > 0 ? m->conns : 1L) != CURLM_OK)
		log_warn("multi", "cannot set the connection cache size");
}
