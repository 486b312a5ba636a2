/*
 * test_dispatch.c - the dispatcher against the fake servers of tests/fake/
 * (started here as programs on 127.0.0.1, port 0; the test runs from the
 * repository root, as tests/run.py does).
 *
 * What it proves, each test on a fresh state in a temporary directory:
 * every enqueued action is delivered once (the fake's call log holds
 * exactly them, signed); the per-provider concurrency holds (in-flight
 * counted here and at the fake, which answers slowly) and a slow provider
 * does not hold up another; 503 is retried with growing backoff,
 * Retry-After honoured (429 and 503); a refused connection is retried; 400,
 * a redirect and an action past its max age go to the dead table; an
 * answer over 1 MiB is retried; the recipient's action entry follows
 * (done, dead, outstanding through MailWizz follow-up actions); unknown
 * providers' actions stay, warned once; the dispatcher's loop timer
 * follows the schedule (an action starts when it falls due, not at the
 * next look); dispatch_stop() starts nothing new but lets transfers
 * finish; a full map is grown and the results written; results committed
 * lazily are synced within a second even when no commit follows (the
 * test's own mdb_env_sync counts the syncs).  The dispatcher
 * runs on a loop and a curl multi handle of the test's (loop.h, multi.h):
 * step() is one turn of it.  What the fakes
 * cannot answer (a huge body, a redirect) comes from a one-connection
 * server in a thread of this test.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <glib.h>

#include "config.h"
#include "dispatch.h"
#include "log.h"
#include "loop.h"
#include "multi.h"
#include "outbox.h"
#include "provider_pause.h"
#include "state.h"
#include "tstate.h"
#include "ttmp.h"

#define SECRET "s3cret"

struct fake {
	GPid pid;
	int port;
	int out;		/* its stdout */
};

struct ctx {
	char *dir;
	struct state *st;
	struct config *cfg;
	struct loop *l;		/* the dispatcher's steps run on its turns */
	struct multi *m;
	struct dispatch *d;
	int step_rc;		/* the first state error of a step */
	struct fake hook;	/* the webhook fake shared by every test */
	struct fake extra;	/* a second fake of one test (stopped in teardown) */
	char *log;		/* the log file of the test */
};

static struct fake shared_hook;

/* ---- helpers: time, fakes ---- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* fake_child - in the fake's process: die with the test, even a crashed one */
static void fake_child(gpointer arg)
{
	(void)arg;
	prctl(PR_SET_PDEATHSIG, SIGTERM);
}

/* fake_start - run tests/fake/SCRIPT with ARGS, wait for "READY <port>" */
static int fake_start(struct fake *f, const char *script, const char *args[])
{
	gchar *argv[24];
	char line[64];
	GError *e = NULL;
	size_t n = 0;
	int i = 0, j;
	struct pollfd pfd;

	argv[i++] = (gchar *)"python3";
	argv[i++] = g_strdup_printf("tests/fake/%s", script);
	argv[i++] = (gchar *)"--port";
	argv[i++] = (gchar *)"0";
	for (j = 0; args && args[j] && i < 23; j++)
		argv[i++] = (gchar *)args[j];
	argv[i] = NULL;
	memset(f, 0, sizeof(*f));
	if (!g_spawn_async_with_pipes(NULL, argv, NULL,
				      G_SPAWN_SEARCH_PATH |
					      G_SPAWN_DO_NOT_REAP_CHILD,
				      fake_child, NULL, &f->pid, NULL, &f->out, NULL,
				      &e)) {
		fprintf(stderr, "cannot run %s: %s\n", argv[1], e->message);
		g_error_free(e);
		g_free(argv[1]);
		return -1;
	}
	g_free(argv[1]);
	pfd.fd = f->out;
	pfd.events = POLLIN;
	while (n + 1 < sizeof(line)) {
		if (poll(&pfd, 1, 20000) <= 0 || read(f->out, line + n, 1) != 1)
			break;
		if (line[n++] == '\n')
			break;
	}
	line[n] = '\0';
	if (sscanf(line, "READY %d", &f->port) != 1 || f->port <= 0) {
		fprintf(stderr, "fake %s did not start: '%s'\n", script, line);
		return -1;
	}
	return 0;
}

static void fake_stop(struct fake *f)
{
	int status;

	if (f->pid <= 0)
		return;
	kill(f->pid, SIGTERM);
	waitpid(f->pid, &status, 0);
	g_spawn_close_pid(f->pid);
	close(f->out);
	f->pid = 0;
}

static size_t fake_write(char *p, size_t size, size_t n, void *arg)
{
	g_string_append_len(arg, p, (gssize)(size * n));
	return size * n;
}

/* fake_http - METHOD PATH (BODY: JSON) to fake F's control API; the JSON
   answer (caller deletes) */
static cJSON *fake_http(const struct fake *f, const char *method,
			const char *path, const char *body)
{
	GString *out = g_string_new(NULL);
	CURL *e = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL,
						 "Content-Type: application/json");
	char url[256];
	long status = 0;
	cJSON *j;

	assert_non_null(e);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", f->port, path);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	if (body)
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fake_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
	assert_int_equal(curl_easy_perform(e), CURLE_OK);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		fail_msg("%s %s: HTTP %ld %s", method, path, status, out->str);
	j = cJSON_Parse(out->str);
	assert_non_null(j);
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
	g_string_free(out, TRUE);
	return j;
}

static void fake_config(const struct fake *f, const char *json)
{
	cJSON_Delete(fake_http(f, "POST", "/__fake/config", json));
}

/* fake_calls - the call log (caller deletes) */
static cJSON *fake_calls(const struct fake *f)
{
	return fake_http(f, "GET", "/__fake/calls", NULL);
}

static void fake_reset(const struct fake *f)
{
	fake_config(f, "{\"reset\": true}");
	cJSON_Delete(fake_http(f, "DELETE", "/__fake/calls", NULL));
}

/* ---- helpers: state, config, outbox ---- */

/* stepped - after each dispatcher step: keep its first state error */
static void stepped(void *arg, int rc)
{
	struct ctx *c = arg;

	if (rc != 0 && c->step_rc == 0)
		c->step_rc = rc;
}

/* the syncs of the state asked for so far (mdb_env_sync, forced) */
static unsigned env_syncs;

/* mdb_env_sync - LMDB's, counted */
int mdb_env_sync(MDB_env *env, int force)
{
	static int (*real)(MDB_env *, int);

	if (!real)
		real = (int (*)(MDB_env *, int))dlsym(RTLD_NEXT,
						      "mdb_env_sync");
	if (force)
		env_syncs++;
	return real(env, force);
}

/* while set, every write transaction's commit fails with EIO (a full or
   failing disk), and is counted */
static bool commits_fail;
static unsigned commits_failed;

/* mdb_txn_commit - LMDB's, or EIO (the transaction aborted) */
int mdb_txn_commit(MDB_txn *txn)
{
	static int (*real)(MDB_txn *);

	if (!real)
		real = (int (*)(MDB_txn *))dlsym(RTLD_NEXT, "mdb_txn_commit");
	if (commits_fail) {
		mdb_txn_abort(txn);
		commits_failed++;
		return EIO;
	}
	return real(txn);
}

/* step - one turn of the loop, waiting at most MS; the dispatcher's steps
   in it wrote without state errors */
static void step(struct ctx *c, int ms)
{
	assert_int_equal(loop_once(c->l, ms), 0);
	assert_int_equal(c->step_rc, 0);
}

/* use_config - load INI (printf format) and make the dispatcher */
static void use_config(struct ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void use_config(struct ctx *c, const char *fmt, ...)
{
	GPtrArray *warn = g_ptr_array_new_with_free_func(g_free);
	char *path = g_build_filename(c->dir, "bounced.conf", NULL);
	char err[512] = "";
	va_list ap;
	char *text;
	FILE *fp;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fchmod(fileno(fp), 0600);
	fputs(text, fp);
	fclose(fp);
	if (config_load(path, &c->cfg, warn, err, sizeof(err)) != 0)
		fail_msg("config: %s", err);
	if (dispatch_new(&c->d, c->cfg, c->st, c->l, c->m, err,
			 sizeof(err)) != 0)
		fail_msg("dispatch_new: %s", err);
	dispatch_on_step(c->d, stepped, c);
	dispatch_kick(c->d);
	g_ptr_array_free(warn, TRUE);
	g_free(text);
	g_free(path);
}

/* hook_config - one webhook provider on the shared fake */
static void hook_config(struct ctx *c, int concurrency, const char *extra)
{
	use_config(c,
		   "[provider hook]\ntype = webhook\nsenders = *\n"
		   "url = http://127.0.0.1:%d/hook\nsecret = " SECRET "\n"
		   "concurrency = %d\nretry-min = 300ms\nretry-max = 2s\n"
		   "timeout = 10s\nconnect-timeout = 5s\n%s",
		   c->hook.port, concurrency, extra ? extra : "");
}

/* enqueue_quiet - a root action for PROV and ADDR, with its recipient
   entry, as another process queues it (the dispatcher is not told: it
   learns it from the journal); CREATED_MS / DUE_MS 0 = now; returns its
   id */
static uint64_t enqueue_quiet(struct ctx *c, const char *prov,
			      const char *addr, uint8_t op, int64_t created_ms,
			      int64_t due_ms)
{
	struct rcpt_action *e;
	struct action a;
	struct rcpt r;
	MDB_txn *txn;

	memset(&a, 0, sizeof(a));
	snprintf(a.provider, sizeof(a.provider), "%s", prov);
	snprintf(a.addr, sizeof(a.addr), "%s", addr);
	a.op = op;
	a.klass = op == OP_COMPLAINT ? CLASS_COMPLAINT : CLASS_HARD;
	a.created_ms = created_ms;
	a.due_ms = due_ms;
	a.ev.time = 1700000000;
	a.ev.line = 3;
	snprintf(a.ev.source, sizeof(a.ev.source), "acct-test.csv");
	snprintf(a.ev.category, sizeof(a.ev.category), "bad-mailbox");
	snprintf(a.ev.dsn_status, sizeof(a.ev.dsn_status), "5.1.1");
	snprintf(a.ev.dsn_diag, sizeof(a.ev.dsn_diag), "smtp;550 no such user");
	assert_int_equal(state_begin(c->st, true, &txn), 0);
	assert_int_equal(outbox_enqueue(c->st, txn, &a, now_ms()), 0);
	if (state_rcpt_get(c->st, txn, addr, &r) != 0)
		rcpt_init(&r);
	assert_true(r.n_actions < RCPT_ACTIONS_MAX);
	e = &r.actions[r.n_actions++];
	memset(e, 0, sizeof(*e));
	snprintf(e->provider, sizeof(e->provider), "%s", prov);
	e->op = op;
	e->state = ACTION_PENDING;
	e->root = a.id;
	e->outstanding = 1;
	assert_int_equal(state_rcpt_put(c->st, txn, addr, &r), 0);
	assert_int_equal(state_commit(txn), 0);
	return a.id;
}

/* enqueue_at - as enqueue_quiet, and the dispatcher told, as the worker's
   ingest tells it */
static uint64_t enqueue_at(struct ctx *c, const char *prov, const char *addr,
			   uint8_t op, int64_t created_ms, int64_t due_ms)
{
	uint64_t id = enqueue_quiet(c, prov, addr, op, created_ms, due_ms);

	dispatch_kick(c->d);
	return id;
}

static uint64_t enqueue(struct ctx *c, const char *prov, const char *addr)
{
	return enqueue_at(c, prov, addr, OP_UNSUBSCRIBE, 0, 0);
}

static int collect_cb(const struct action *a, void *arg)
{
	g_array_append_val((GArray *)arg, *a);
	return 0;
}

/* actions - the pending (DEAD false) or dead actions (caller frees) */
static GArray *actions(struct ctx *c, bool dead)
{
	GArray *out = g_array_new(FALSE, TRUE, sizeof(struct action));
	MDB_txn *txn;

	assert_int_equal(state_begin(c->st, false, &txn), 0);
	if (dead)
		assert_int_equal(outbox_dead_foreach(c->st, txn, collect_cb, out), 0);
	else
		assert_int_equal(outbox_foreach(c->st, txn, -1, collect_cb, out), 0);
	state_abort(txn);
	return out;
}

static unsigned count_actions(struct ctx *c, bool dead)
{
	GArray *a = actions(c, dead);
	unsigned n = a->len;

	g_array_free(a, TRUE);
	return n;
}

/* entry - ADDR's recipient entry of ROOT */
static struct rcpt_action entry(struct ctx *c, const char *addr, uint64_t root)
{
	struct rcpt_action found;
	struct rcpt r;
	MDB_txn *txn;
	uint32_t i;

	memset(&found, 0, sizeof(found));
	assert_int_equal(state_begin(c->st, false, &txn), 0);
	assert_int_equal(state_rcpt_get(c->st, txn, addr, &r), 0);
	state_abort(txn);
	for (i = 0; i < r.n_actions; i++)
		if (r.actions[i].root == root)
			return r.actions[i];
	fail_msg("no entry of root %llu for %s", (unsigned long long)root, addr);
	return found;
}

static struct dispatch_counts counts(struct ctx *c, unsigned i)
{
	struct dispatch_counts k;

	dispatch_get_counts(c->d, i, &k);
	return k;
}

/* logged - how many lines of the test's log contain NEEDLE */
static int logged(struct ctx *c, const char *needle)
{
	char *text = NULL, **lines;
	int n = 0, i;

	assert_true(g_file_get_contents(c->log, &text, NULL, NULL));
	lines = g_strsplit(text, "\n", -1);
	for (i = 0; lines[i]; i++)
		n += strstr(lines[i], needle) != NULL;
	g_strfreev(lines);
	g_free(text);
	return n;
}

typedef bool (*until_fn)(struct ctx *c, void *arg);

/* run - turns of the loop until DONE says so (fail after MAX_MS); returns the
   most transfers seen in flight */
static unsigned run(struct ctx *c, until_fn done, void *arg, int max_ms)
{
	int64_t end = now_ms() + max_ms;
	unsigned most = 0;

	for (;;) {
		step(c, 50);
		if (dispatch_in_flight(c->d) > most)
			most = dispatch_in_flight(c->d);
		if (done(c, arg))
			return most;
		if (now_ms() > end)
			fail_msg("not done after %d ms", max_ms);
	}
}

static bool until_empty(struct ctx *c, void *arg)
{
	(void)arg;
	return dispatch_in_flight(c->d) == 0 && count_actions(c, false) == 0;
}

/* until_retried - provider 0 has rescheduled *ARG (unsigned) times */
static bool until_retried(struct ctx *c, void *arg)
{
	return counts(c, 0).retried >= *(unsigned *)arg;
}

struct until_done_arg {
	unsigned prov, n;
};

/* until_done - provider ARG->prov finished ARG->n actions */
static bool until_done(struct ctx *c, void *arg)
{
	const struct until_done_arg *u = arg;

	return counts(c, u->prov).done >= u->n;
}

/* ---- fixtures ---- */

static int group_setup(void **state)
{
	const char *args[] = { "--secret", SECRET, NULL };

	(void)state;
	log_set_level(BLOG_INFO);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return fake_start(&shared_hook, "webhook.py", args);
}

static int group_teardown(void **state)
{
	(void)state;
	fake_stop(&shared_hook);
	curl_global_cleanup();
	return 0;
}

static int setup(void **state)
{
	struct ctx *c = g_new0(struct ctx, 1);

	c->dir = ttmp_make("bounced-dispatch");
	assert_non_null(c->dir);
	c->l = loop_new();
	c->m = multi_new(c->l);
	assert_int_equal(tstate_open(&c->st, c->dir, false), 0);
	c->log = g_build_filename(c->dir, "bounced.log", NULL);
	assert_int_equal(log_open(c->log), 0);
	c->hook = shared_hook;
	fake_reset(&c->hook);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	int rc;

	dispatch_free(c->d);
	multi_free(c->m);
	loop_free(c->l);
	fake_stop(&c->extra);
	log_open("-");
	g_free(c->log);
	config_free(c->cfg);
	state_close(c->st);
	rc = ttmp_remove(&c->dir);
	g_free(c);
	return rc;
}

/* ---- tests ---- */

/* every action reaches the webhook exactly once, signed, and settles */
static void test_delivers_enqueued(void **state)
{
	struct ctx *c = *state;
	uint64_t ids[5];
	char addr[5][64];
	bool seen[5] = { false };
	cJSON *calls, *call;
	struct dispatch_counts k;
	int i;

	hook_config(c, 3, NULL);
	for (i = 0; i < 5; i++) {
		snprintf(addr[i], sizeof(addr[i]), "user%d@example.com", i);
		ids[i] = enqueue(c, "hook", addr[i]);
	}
	run(c, until_empty, NULL, 10000);
	calls = fake_calls(&c->hook);
	assert_int_equal(cJSON_GetArraySize(calls), 5);
	cJSON_ArrayForEach(call, calls) {
		cJSON *p = cJSON_GetObjectItem(call, "parsed");
		cJSON *h = cJSON_GetObjectItem(call, "headers");
		const char *who = cJSON_GetStringValue(cJSON_GetObjectItem(p, "address"));

		assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(call, "method")),
				    "POST");
		assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(call, "path")),
				    "/hook");
		assert_true(cJSON_IsTrue(cJSON_GetObjectItem(call, "signature_ok")));
		assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(h, "user-agent")),
				    "bounced/0.1.0");
		assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(h, "content-type")),
				    "application/json");
		assert_non_null(who);
		for (i = 0; i < 5; i++) {
			if (strcmp(who, addr[i]) != 0)
				continue;
			assert_false(seen[i]);
			seen[i] = true;
			assert_int_equal(cJSON_GetObjectItem(p, "id")->valuedouble,
					 (double)ids[i]);
		}
	}
	for (i = 0; i < 5; i++) {
		struct rcpt_action e = entry(c, addr[i], ids[i]);

		assert_true(seen[i]);
		assert_int_equal(e.state, ACTION_DONE);
		assert_int_equal(e.outstanding, 0);
	}
	cJSON_Delete(calls);
	k = counts(c, 0);
	assert_int_equal(k.done, 5);
	assert_int_equal(k.calls, 5);
	assert_int_equal(k.retried, 0);
	assert_int_equal(k.dead, 0);
	assert_int_equal(count_actions(c, true), 0);
	assert_int_equal(logged(c, "info dispatch: webhook hook: posted hard user"), 5);
	assert_int_equal(logged(c, "posted hard user3@example.com"), 1);
	assert_string_equal(dispatch_provider_name(c->d, 0), "hook");
	assert_int_equal(dispatch_providers(c->d), 1);
}

/* most requests open at once at the fake, from its call log */
static int max_overlap(cJSON *calls)
{
	int n = cJSON_GetArraySize(calls), i, j, most = 0;

	for (i = 0; i < n; i++) {
		cJSON *a = cJSON_GetArrayItem(calls, i);
		double t = cJSON_GetObjectItem(a, "time")->valuedouble;
		int open = 0;

		/* requests under way at the moment request i started */
		for (j = 0; j < n; j++) {
			cJSON *b = cJSON_GetArrayItem(calls, j);
			double s = cJSON_GetObjectItem(b, "time")->valuedouble;
			double e = s + cJSON_GetObjectItem(b, "duration_ms")->valuedouble /
					       1000.0;

			if (s <= t && t < e)
				open++;
		}
		if (open > most)
			most = open;
	}
	return most;
}

/* at most `concurrency` requests at once, and really that many */
static void test_concurrency(void **state)
{
	struct ctx *c = *state;
	int64_t t0;
	unsigned most;
	cJSON *calls;
	int i;

	hook_config(c, 2, NULL);
	fake_config(&c->hook, "{\"latency_ms\": 300}");
	for (i = 0; i < 6; i++) {
		char addr[64];

		snprintf(addr, sizeof(addr), "c%d@example.com", i);
		enqueue(c, "hook", addr);
	}
	t0 = now_ms();
	most = run(c, until_empty, NULL, 15000);
	assert_int_equal(most, 2);
	assert_true(now_ms() - t0 >= 850);	/* three rounds of 300 ms */
	calls = fake_calls(&c->hook);
	assert_int_equal(cJSON_GetArraySize(calls), 6);
	assert_int_equal(max_overlap(calls), 2);
	cJSON_Delete(calls);
	assert_int_equal(counts(c, 0).done, 6);
}

/* a slow provider at its limit does not hold up another */
static void test_provider_isolation(void **state)
{
	struct ctx *c = *state;
	const char *args[] = { "--latency-ms", "2000", NULL };
	struct until_done_arg three = { 1, 3 };
	struct fake *slow = &c->extra;
	int64_t t0;
	int i;

	assert_int_equal(fake_start(slow, "webhook.py", args), 0);
	use_config(c,
		   "[provider slow]\ntype = webhook\nsenders = *\nurl = http://127.0.0.1:%d/s\n"
		   "concurrency = 1\n"
		   "[provider fast]\ntype = webhook\nsenders = *\nurl = http://127.0.0.1:%d/f\n"
		   "secret = " SECRET "\nconcurrency = 1\n",
		   slow->port, c->hook.port);
	for (i = 0; i < 3; i++) {
		char addr[64];

		snprintf(addr, sizeof(addr), "s%d@example.com", i);
		enqueue(c, "slow", addr);	/* due first */
	}
	for (i = 0; i < 3; i++) {
		char addr[64];

		snprintf(addr, sizeof(addr), "f%d@example.com", i);
		enqueue(c, "fast", addr);
	}
	t0 = now_ms();
	run(c, until_done, &three, 10000);
	assert_true(now_ms() - t0 < 1800);
	assert_int_equal(counts(c, 0).done, 0);
	assert_int_equal(counts(c, 1).done, 3);
	dispatch_free(c->d);	/* drops the slow transfer under way */
	c->d = NULL;
	assert_int_equal(count_actions(c, false), 3);
}

/* 503 twice: rescheduled with growing backoff, then delivered */
static void test_retry_503(void **state)
{
	struct ctx *c = *state;
	unsigned want = 1;
	int64_t t0, t1;
	GArray *pend;
	struct action *a;
	cJSON *calls;
	uint64_t id;

	hook_config(c, 1, NULL);
	fake_config(&c->hook, "{\"fail_count\": 2}");
	id = enqueue(c, "hook", "retry@example.com");
	t0 = now_ms();
	run(c, until_retried, &want, 5000);
	t1 = now_ms();
	pend = actions(c, false);
	assert_int_equal(pend->len, 1);
	a = &g_array_index(pend, struct action, 0);
	assert_int_equal(a->id, id);
	assert_int_equal(a->attempts, 1);
	assert_non_null(strstr(a->last_error, "HTTP 503"));
	/* retry-min 300 ms times [0.5, 1.5) */
	assert_true(a->due_ms >= t0 + 150);
	assert_true(a->due_ms < t1 + 450);
	g_array_free(pend, TRUE);
	assert_int_equal(entry(c, "retry@example.com", id).state, ACTION_PENDING);

	want = 2;
	t0 = now_ms();
	run(c, until_retried, &want, 5000);
	t1 = now_ms();
	pend = actions(c, false);
	a = &g_array_index(pend, struct action, 0);
	assert_int_equal(a->attempts, 2);
	/* 600 ms times [0.5, 1.5) */
	assert_true(a->due_ms >= t0 + 300);
	assert_true(a->due_ms < t1 + 900);
	g_array_free(pend, TRUE);

	run(c, until_empty, NULL, 5000);
	calls = fake_calls(&c->hook);
	assert_int_equal(cJSON_GetArraySize(calls), 3);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(calls, 0),
					     "status")->valueint, 503);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(calls, 2),
					     "status")->valueint, 200);
	cJSON_Delete(calls);
	assert_int_equal(counts(c, 0).retried, 2);
	assert_int_equal(logged(c, "warning dispatch: webhook hook: unsubscribe "
			       "retry@example.com failed (attempt 1): HTTP 503"), 1);
	assert_int_equal(logged(c, "failed (attempt 2): HTTP 503"), 1);
	assert_int_equal(counts(c, 0).calls, 3);
	assert_int_equal(counts(c, 0).done, 1);
	assert_int_equal(entry(c, "retry@example.com", id).state, ACTION_DONE);
}

/* Retry-After (on 429 and 503) pushes the next attempt past the backoff */
static void test_retry_after(void **state)
{
	struct ctx *c = *state;
	const int statuses[] = { 429, 503 };
	size_t i;

	hook_config(c, 1, NULL);
	for (i = 0; i < 2; i++) {
		unsigned want = (unsigned)i + 1;
		char conf[128], addr[64], code[16];
		int64_t t0, in_ms = -1;
		GArray *pend;
		struct action *a;

		snprintf(conf, sizeof(conf), "{\"fail_count\": 1, \"fail_status\": "
			 "%d, \"retry_after\": 3}", statuses[i]);
		fake_config(&c->hook, conf);
		snprintf(addr, sizeof(addr), "ra%zu@example.com", i);
		enqueue(c, "hook", addr);
		t0 = now_ms();
		run(c, until_retried, &want, 5000);
		pend = actions(c, false);
		assert_int_equal(pend->len, i + 1);
		a = &g_array_index(pend, struct action, i);
		assert_string_equal(a->addr, addr);
		snprintf(code, sizeof(code), "HTTP %d", statuses[i]);
		assert_non_null(strstr(a->last_error, code));
		assert_true(a->due_ms >= t0 + 3000);
		assert_true(a->due_ms < now_ms() + 3100);
		g_array_free(pend, TRUE);
		assert_int_equal(dispatch_next_due(c->d, &in_ms), 0);
		assert_true(in_ms > 2000 && in_ms <= 3100);
	}
}

/* nothing listening: retried, the action stays, no call counted */
static void test_connection_refused(void **state)
{
	struct ctx *c = *state;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	unsigned want = 2;
	GArray *pend;
	struct action *a;
	uint64_t id;
	int s = socket(AF_INET, SOCK_STREAM, 0);

	/* a port that was free a moment ago and has no listener */
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &len), 0);
	close(s);
	use_config(c, "[provider hook]\ntype = webhook\nsenders = *\n"
		      "url = http://127.0.0.1:%d/hook\nretry-min = 100ms\n"
		      "retry-max = 200ms\n", ntohs(sa.sin_port));
	id = enqueue(c, "hook", "nobody@example.com");
	run(c, until_retried, &want, 5000);
	pend = actions(c, false);
	assert_int_equal(pend->len, 1);
	a = &g_array_index(pend, struct action, 0);
	assert_int_equal(a->attempts, 2);
	assert_true(a->last_error[0] != '\0');
	assert_null(strstr(a->last_error, "HTTP"));
	g_array_free(pend, TRUE);
	assert_int_equal(counts(c, 0).calls, 0);
	assert_int_equal(counts(c, 0).done, 0);
	assert_int_equal(count_actions(c, true), 0);
	assert_int_equal(entry(c, "nobody@example.com", id).state, ACTION_PENDING);
	assert_int_equal(entry(c, "nobody@example.com", id).outstanding, 1);
}

/* 400: to the dead table at once; the recipient's entry is dead */
static void test_400_dead(void **state)
{
	struct ctx *c = *state;
	GArray *dead;
	struct rcpt_action e;
	uint64_t id;

	hook_config(c, 1, NULL);
	fake_config(&c->hook, "{\"status\": 400}");
	id = enqueue(c, "hook", "bad@example.com");
	run(c, until_empty, NULL, 5000);
	dead = actions(c, true);
	assert_int_equal(dead->len, 1);
	assert_int_equal(g_array_index(dead, struct action, 0).id, id);
	assert_non_null(strstr(g_array_index(dead, struct action, 0).last_error,
			       "HTTP 400"));
	g_array_free(dead, TRUE);
	e = entry(c, "bad@example.com", id);
	assert_int_equal(e.state, ACTION_DEAD);
	assert_int_equal(e.outstanding, 0);
	assert_int_equal(counts(c, 0).dead, 1);
	assert_int_equal(counts(c, 0).calls, 1);
	assert_int_equal(counts(c, 0).retried, 0);
	assert_int_equal(logged(c, "error dispatch: webhook hook: unsubscribe "
			       "bad@example.com failed for good: HTTP 400"), 1);
}

/* a transient failure of an action older than max-age kills it */
static void test_max_age_dead(void **state)
{
	struct ctx *c = *state;
	GArray *dead;
	const char *why;
	uint64_t id;

	hook_config(c, 1, "max-age = 60s\n");
	fake_config(&c->hook, "{\"fail_count\": 1}");
	id = enqueue_at(c, "hook", "old@example.com", OP_UNSUBSCRIBE,
			now_ms() - 120000, 0);
	run(c, until_empty, NULL, 5000);
	dead = actions(c, true);
	assert_int_equal(dead->len, 1);
	why = g_array_index(dead, struct action, 0).last_error;
	if (strstr(why, "gave up after 1 attempts over 2m00s: HTTP 503") == NULL)
		fail_msg("last_error: %s", why);
	g_array_free(dead, TRUE);
	assert_int_equal(entry(c, "old@example.com", id).state, ACTION_DEAD);
	assert_int_equal(counts(c, 0).dead, 1);
	assert_int_equal(counts(c, 0).retried, 0);
}

/* a later call of an old action gets its own max-age: the unsubscribe
   from all lists answered 404 (an older MailWizz), the search that
   follows 503 once: retried, not dead because the action is older than
   max-age */
static void test_max_age_of_a_later_step(void **state)
{
	struct ctx *c = *state;
	const char *data =
		"{\"lists\": [{\"list_uid\": \"ab123cd456ef7\", \"subscribers\": ["
		"{\"subscriber_uid\": \"zz123cd456ef7\", \"email\": \"john@doe.com\"}]}],"
		"\"campaigns\": []}";
	const char *args[] = { "--api-key", "KEY", NULL };
	struct fake *mw = &c->extra;
	GArray *dead;
	uint64_t id;

	assert_int_equal(fake_start(mw, "mailwizz.py", args), 0);
	cJSON_Delete(fake_http(mw, "POST", "/__fake/data", data));
	cJSON_Delete(fake_http(mw, "POST", "/__fake/config",
			       "{\"fail_rules\": ["
			       "{\"match\": \"unsubscribe-by-email-from-all\", "
			       "\"status\": 404, \"count\": 1}, "
			       "{\"match\": \"search-by-email-in-all-lists\", "
			       "\"status\": 503, \"count\": 1}]}"));
	use_config(c, "[provider mw]\ntype = mailwizz\nsenders = *\n"
		      "endpoint = http://127.0.0.1:%d/api\napi-version = 2\n"
		      "api-key = KEY\nconcurrency = 1\nmax-age = 60s\n"
		      "retry-min = 50ms\nretry-max = 100ms\n", mw->port);
	id = enqueue_at(c, "mw", "john@doe.com", OP_UNSUBSCRIBE,
			now_ms() - 120000, 0);
	run(c, until_empty, NULL, 10000);
	dead = actions(c, true);
	assert_int_equal(dead->len, 0);
	g_array_free(dead, TRUE);
	assert_int_equal(entry(c, "john@doe.com", id).state, ACTION_DONE);
	assert_int_equal(counts(c, 0).retried, 1);
}

/* an action of a provider the config lost stays, warned; others go on */
static void test_unknown_provider(void **state)
{
	struct ctx *c = *state;
	struct until_done_arg one = { 0, 1 };
	int64_t in_ms = -1;
	GArray *pend;
	cJSON *calls;
	int i;

	hook_config(c, 1, NULL);
	enqueue(c, "gone", "kept@example.com");
	enqueue(c, "hook", "sent@example.com");
	run(c, until_done, &one, 5000);
	for (i = 0; i < 5; i++)
		step(c, 10);
	pend = actions(c, false);
	assert_int_equal(pend->len, 1);
	assert_string_equal(g_array_index(pend, struct action, 0).provider, "gone");
	assert_int_equal(g_array_index(pend, struct action, 0).attempts, 0);
	g_array_free(pend, TRUE);
	calls = fake_calls(&c->hook);
	assert_int_equal(cJSON_GetArraySize(calls), 1);
	cJSON_Delete(calls);
	assert_int_equal(logged(c, "provider 'gone' stay in the outbox"), 1);
	/* nothing startable, nothing in flight, the outbox not empty: only
	   actions nobody can send wait */
	assert_int_equal(dispatch_next_due(c->d, &in_ms), -EAGAIN);
}

/* the dispatcher's timer follows the schedule: an action due in 300 ms
   starts then (not at the next once-a-second look, not before); next_due
   says when */
static void test_next_due(void **state)
{
	struct ctx *c = *state;
	int64_t in_ms = -1, t0, took;
	cJSON *calls;

	hook_config(c, 1, NULL);
	assert_int_equal(dispatch_next_due(c->d, &in_ms), -ENOENT);
	step(c, 0);		/* the first step: nothing to do */
	t0 = now_ms();
	enqueue_at(c, "hook", "later@example.com", OP_COMPLAINT, 0, t0 + 300);
	assert_int_equal(dispatch_next_due(c->d, &in_ms), 0);
	assert_true(in_ms > 200 && in_ms <= 300);
	while (dispatch_in_flight(c->d) == 0 && counts(c, 0).done == 0 &&
	       now_ms() - t0 < 5000)
		step(c, 10000);
	took = now_ms() - t0;
	if (took < 250 || took > 800)
		fail_msg("an action due in 300 ms started after %lld ms",
			 (long long)took);
	run(c, until_empty, NULL, 5000);
	calls = fake_calls(&c->hook);
	assert_int_equal(cJSON_GetArraySize(calls), 1);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
				    cJSON_GetObjectItem(cJSON_GetArrayItem(calls, 0),
							"parsed"), "event")),
			    "complaint");
	cJSON_Delete(calls);
	assert_int_equal(dispatch_next_due(c->d, &in_ms), -ENOENT);
}

static bool until_busy(struct ctx *c, void *arg)
{
	(void)arg;
	return dispatch_in_flight(c->d) > 0;
}

/* after dispatch_stop nothing starts; what is under way finishes */
static void test_stop(void **state)
{
	struct ctx *c = *state;
	int64_t end;

	hook_config(c, 1, NULL);
	fake_config(&c->hook, "{\"latency_ms\": 400}");
	enqueue(c, "hook", "first@example.com");
	enqueue(c, "hook", "second@example.com");
	run(c, until_busy, NULL, 5000);
	dispatch_stop(c->d);
	end = now_ms() + 1500;
	while (now_ms() < end)
		step(c, 50);
	assert_int_equal(dispatch_in_flight(c->d), 0);
	assert_int_equal(counts(c, 0).done, 1);
	assert_int_equal(count_actions(c, false), 1);
}

/* MailWizz without the unsubscribe from all lists (404: before 1.4.4):
   the search spawns one child per list (same root); the entry's
   outstanding follows them to 0 and the entry is done */
static void test_spawn_outstanding(void **state)
{
	struct ctx *c = *state;
	const char *args[] = { "--api-key", "KEY", NULL };
	const char *data =
		"{\"lists\": ["
		"{\"list_uid\": \"ab123cd456ef7\", \"subscribers\": ["
		"{\"subscriber_uid\": \"zz123cd456ef7\", \"email\": \"john@doe.com\"}]},"
		"{\"list_uid\": \"ab123cd456ef8\", \"subscribers\": ["
		"{\"subscriber_uid\": \"zz123cd456ef8\", \"email\": \"john@doe.com\"}]},"
		"{\"list_uid\": \"ab123cd456ef9\", \"subscribers\": ["
		"{\"subscriber_uid\": \"zz123cd456ef9\", \"email\": \"john@doe.com\","
		" \"status\": \"unsubscribed\"}]}],"
		"\"campaigns\": []}";
	struct fake *mw = &c->extra;
	uint32_t most = 0;
	int64_t end;
	uint64_t id;
	cJSON *calls, *got, *l, *sub;
	int unsub = 0;

	assert_int_equal(fake_start(mw, "mailwizz.py", args), 0);
	cJSON_Delete(fake_http(mw, "POST", "/__fake/data", data));
	cJSON_Delete(fake_http(mw, "POST", "/__fake/config",
			       "{\"fail_status\": 404, \"fail_count\": 1, "
			       "\"match\": \"unsubscribe-by-email-from-all\"}"));
	use_config(c, "[provider mw]\ntype = mailwizz\nsenders = *\n"
		      "endpoint = http://127.0.0.1:%d/api\napi-version = 2\n"
		      "api-key = KEY\nconcurrency = 1\n", mw->port);
	id = enqueue(c, "mw", "john@doe.com");
	end = now_ms() + 10000;
	while (!until_empty(c, NULL)) {
		struct rcpt_action e;

		assert_true(now_ms() < end);
		step(c, 50);
		e = entry(c, "john@doe.com", id);
		if (e.outstanding > most)
			most = e.outstanding;
		if (e.outstanding > 0)
			assert_int_equal(e.state, ACTION_PENDING);
	}
	assert_int_equal(most, 2);
	assert_int_equal(entry(c, "john@doe.com", id).state, ACTION_DONE);
	assert_int_equal(entry(c, "john@doe.com", id).outstanding, 0);
	assert_int_equal(counts(c, 0).done, 3);
	assert_int_equal(counts(c, 0).calls, 4);
	calls = fake_calls(mw);
	assert_int_equal(cJSON_GetArraySize(calls), 4);
	cJSON_Delete(calls);
	got = fake_http(mw, "GET", "/__fake/data", NULL);
	cJSON_ArrayForEach(l, cJSON_GetObjectItem(got, "lists"))
		cJSON_ArrayForEach(sub, cJSON_GetObjectItem(l, "subscribers"))
			unsub += strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(
						sub, "status")), "unsubscribed") == 0;
	assert_int_equal(unsub, 3);
	assert_int_equal(logged(c, "MailWizz mw: unsubscribed john@doe.com from "
			       "list ab123cd456ef"), 2);
	cJSON_Delete(got);
}

/* a one-connection HTTP server in a thread, answering HEAD then BODY_LEN
   bytes of 'x' (for what the fakes cannot answer) */
struct canned {
	int fd;
	int port;
	const char *head;
	size_t body_len;
	GThread *thread;
};

static gpointer canned_serve(gpointer arg)
{
	struct canned *cs = arg;
	char buf[8192], chunk[65536];
	size_t have = 0, sent = 0;
	ssize_t n;
	int conn = accept(cs->fd, NULL, NULL);

	if (conn < 0)
		return NULL;
	/* the request: headers, then a short body (the webhook's JSON) */
	while (have + 1 < sizeof(buf)) {
		n = read(conn, buf + have, sizeof(buf) - 1 - have);
		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = '\0';
		if (strstr(buf, "\r\n\r\n") && strstr(buf, "}"))
			break;
	}
	(void)!send(conn, cs->head, strlen(cs->head), MSG_NOSIGNAL);
	memset(chunk, 'x', sizeof(chunk));
	while (sent < cs->body_len) {
		size_t k = MIN(sizeof(chunk), cs->body_len - sent);

		n = send(conn, chunk, k, MSG_NOSIGNAL);
		if (n <= 0)
			break;	/* the client hung up: expected for a big body */
		sent += (size_t)n;
	}
	close(conn);
	return NULL;
}

static void canned_start(struct canned *cs, const char *head, size_t body_len)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	memset(cs, 0, sizeof(*cs));
	cs->head = head;
	cs->body_len = body_len;
	cs->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(cs->fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(cs->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(cs->fd, 4), 0);
	assert_int_equal(getsockname(cs->fd, (struct sockaddr *)&sa, &len), 0);
	cs->port = ntohs(sa.sin_port);
	cs->thread = g_thread_new("canned", canned_serve, cs);
}

static void canned_stop(struct canned *cs)
{
	g_thread_join(cs->thread);
	close(cs->fd);
}

/* an answer over 1 MiB is cut off and retried, not parsed */
static void test_big_answer_retried(void **state)
{
	struct ctx *c = *state;
	struct canned cs;
	unsigned one = 1;
	GArray *pend;

	canned_start(&cs, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			  "Content-Length: 2097152\r\n\r\n", (size_t)2 << 20);
	use_config(c, "[provider hook]\ntype = webhook\nsenders = *\n"
		      "url = http://127.0.0.1:%d/hook\nretry-min = 5s\n", cs.port);
	enqueue(c, "hook", "big@example.com");
	run(c, until_retried, &one, 10000);
	canned_stop(&cs);
	pend = actions(c, false);
	assert_int_equal(pend->len, 1);
	if (!strstr(g_array_index(pend, struct action, 0).last_error,
		    "answer over 1048576 bytes"))
		fail_msg("last_error: %s",
			 g_array_index(pend, struct action, 0).last_error);
	g_array_free(pend, TRUE);
	assert_int_equal(counts(c, 0).done, 0);
}

/* a redirect is not followed: the webhook judges it a failure */
static void test_redirect_not_followed(void **state)
{
	struct ctx *c = *state;
	char *head = g_strdup_printf("HTTP/1.1 302 Found\r\nLocation: "
				     "http://127.0.0.1:%d/x\r\nContent-Length: "
				     "0\r\n\r\n", c->hook.port);
	struct canned cs;
	GArray *dead;
	cJSON *calls;

	canned_start(&cs, head, 0);
	use_config(c, "[provider hook]\ntype = webhook\nsenders = *\n"
		      "url = http://127.0.0.1:%d/hook\n", cs.port);
	enqueue(c, "hook", "moved@example.com");
	run(c, until_empty, NULL, 10000);
	canned_stop(&cs);
	g_free(head);
	dead = actions(c, true);
	assert_int_equal(dead->len, 1);
	assert_non_null(strstr(g_array_index(dead, struct action, 0).last_error,
			       "redirects are not followed"));
	g_array_free(dead, TRUE);
	calls = fake_calls(&c->hook);	/* nothing went anywhere else */
	assert_int_equal(cJSON_GetArraySize(calls), 0);
	cJSON_Delete(calls);
}

/* compact_state - C's state rewritten without a free page (LMDB's
   compacting copy), so that no commit can fit in pages freed before */
static void compact_state(struct ctx *c)
{
	char *tmp = g_build_filename(c->dir, "compact", NULL);
	char *from = g_build_filename(tmp, "data.mdb", NULL);
	char *to = g_build_filename(c->dir, "data.mdb", NULL);
	MDB_env *env;

	state_close(c->st);
	c->st = NULL;
	assert_int_equal(mkdir(tmp, 0700), 0);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_open(env, c->dir, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_env_copy2(env, tmp, MDB_CP_COMPACT), 0);
	mdb_env_close(env);
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(rmdir(tmp), 0);
	assert_int_equal(tstate_open(&c->st, c->dir, false), 0);
	g_free(tmp);
	g_free(from);
	g_free(to);
}

/* a full map is grown and the step's results written again: the actions
   queued by another process, the state compacted and its map as small as
   LMDB allows, so the dispatcher's first commit must grow it */
static void test_map_full_grows(void **state)
{
	struct ctx *c = *state;
	size_t before;
	int i;

	for (i = 0; i < 40; i++) {
		char addr[64];

		snprintf(addr, sizeof(addr), "full%d@example.com", i);
		enqueue_quiet(c, "hook", addr, OP_UNSUBSCRIBE, 0, 0);
	}
	compact_state(c);
	hook_config(c, 8, NULL);
	assert_int_equal(state_set_map_size(c->st, 1), 0);
	before = state_map_size(c->st);
	run(c, until_empty, NULL, 10000);
	assert_true(state_map_size(c->st) > before);
	assert_int_equal(counts(c, 0).done, 40);
	assert_int_equal(logged(c, "posted hard full"), 40);
}

/* ---- the schedule in memory (dispatch_sched.c) ---- */

/* journal_entries - entries of the outbox journal */
static uint64_t journal_entries(struct ctx *c)
{
	MDB_txn *txn;
	uint64_t n = 0;

	assert_int_equal(state_begin(c->st, false, &txn), 0);
	assert_int_equal(state_stat_entries(c->st, txn, "outbox_journal", &n), 0);
	state_abort(txn);
	return n;
}

/* a state written before the outbox journal existed opens and drains:
   the schedule is read from the outbox */
static void test_schedule_state_without_journal(void **state)
{
	struct ctx *c = *state;
	char addr[64];
	MDB_txn *txn;
	MDB_dbi dbi;
	int i;

	for (i = 0; i < 30; i++) {
		snprintf(addr, sizeof(addr), "old%d@example.com", i);
		enqueue(c, "hook", addr);
	}
	/* as that state was: no journal table at all */
	assert_int_equal(state_begin(c->st, true, &txn), 0);
	assert_int_equal(state_dbi(c->st, "outbox_journal", &dbi), 0);
	assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	assert_int_equal(state_commit(txn), 0);
	state_close(c->st);
	assert_int_equal(tstate_open(&c->st, c->dir, false), 0);
	assert_int_equal(journal_entries(c), 0);
	hook_config(c, 4, NULL);
	run(c, until_empty, NULL, 10000);
	assert_int_equal(counts(c, 0).done, 30);
	assert_int_equal(counts(c, 0).calls, 30);
	assert_int_equal(logged(c, "posted hard old"), 30);
}

/* what is queued after the schedule was built (by ingest, another
   process, bouncectl retry) is learnt from the journal, and the journal
   is pruned of what was read */
static void test_schedule_learns_new_actions(void **state)
{
	struct ctx *c = *state;
	int64_t in_ms = -1, t0;
	MDB_txn *txn;
	uint64_t id;
	GArray *dead;
	char addr[64];
	int i;

	hook_config(c, 2, NULL);
	/* built (empty) at the first look */
	assert_int_equal(dispatch_next_due(c->d, &in_ms), -ENOENT);
	for (i = 0; i < 10; i++) {
		snprintf(addr, sizeof(addr), "late%d@example.com", i);
		enqueue(c, "hook", addr);
	}
	assert_int_equal(journal_entries(c), 10);
	assert_int_equal(dispatch_next_due(c->d, &in_ms), 0);
	assert_int_equal(in_ms, 0);
	run(c, until_empty, NULL, 10000);
	assert_int_equal(counts(c, 0).done, 10);
	/* refused for good, then sent again by bouncectl retry */
	fake_config(&c->hook, "{\"status\": 400}");
	id = enqueue(c, "hook", "again@example.com");
	run(c, until_empty, NULL, 5000);
	dead = actions(c, true);
	assert_int_equal(dead->len, 1);
	g_array_free(dead, TRUE);
	fake_config(&c->hook, "{\"status\": 200}");
	assert_int_equal(state_begin(c->st, true, &txn), 0);
	assert_int_equal(outbox_revive(c->st, txn, id, now_ms()), 0);
	assert_int_equal(state_commit(txn), 0);
	run(c, until_empty, NULL, 5000);
	assert_int_equal(count_actions(c, true), 0);
	assert_int_equal(counts(c, 0).done, 11);
	assert_int_equal(logged(c, "posted hard again@example.com"), 1);
	/* pruned to the newest entry (numbering goes on from it) */
	for (i = 0; i < 80 && journal_entries(c) > 1; i++)
		step(c, 50);
	assert_int_equal(journal_entries(c), 1);
	/* queued by another process: found by the once-a-second look */
	t0 = now_ms();
	enqueue_quiet(c, "hook", "after@example.com", OP_UNSUBSCRIBE, 0, 0);
	run(c, until_empty, NULL, 5000);
	assert_true(now_ms() - t0 < 2000);
	assert_int_equal(logged(c, "posted hard after@example.com"), 1);
}

/* an action removed from the outbox after the schedule knew it (by
   bouncectl, or sent by a former dispatcher) is skipped, never sent */
static void test_schedule_skips_removed(void **state)
{
	struct ctx *c = *state;
	int64_t in_ms = -1, due = now_ms() + 400;
	struct action gone[2];
	MDB_txn *txn;
	GArray *pend;
	cJSON *calls;
	char addr[64];
	int i;

	hook_config(c, 2, NULL);
	for (i = 0; i < 5; i++) {
		snprintf(addr, sizeof(addr), "rm%d@example.com", i);
		enqueue_at(c, "hook", addr, OP_UNSUBSCRIBE, 0, due);
	}
	assert_int_equal(dispatch_next_due(c->d, &in_ms), 0);	/* known */
	pend = actions(c, false);
	assert_int_equal(pend->len, 5);
	gone[0] = g_array_index(pend, struct action, 1);
	gone[1] = g_array_index(pend, struct action, 3);
	g_array_free(pend, TRUE);
	assert_int_equal(state_begin(c->st, true, &txn), 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(outbox_remove(c->st, txn, &gone[i]), 0);
	assert_int_equal(state_commit(txn), 0);
	run(c, until_empty, NULL, 10000);
	calls = fake_calls(&c->hook);
	assert_int_equal(cJSON_GetArraySize(calls), 3);
	cJSON_Delete(calls);
	assert_int_equal(counts(c, 0).done, 3);
	for (i = 0; i < 2; i++)
		assert_int_equal(logged(c, gone[i].addr), 0);
	assert_int_equal(dispatch_next_due(c->d, &in_ms), -ENOENT);
}

/* results committed lazily right after a synced commit reach the disk
   within a second, though no commit comes after them */
static void test_lazy_results_synced_when_idle(void **state)
{
	struct ctx *c = *state;
	unsigned before = 0, k;
	char addr[64];
	int64_t end;

	hook_config(c, 1, NULL);
	/* until a commit comes within a second of the sync before it, and
	   so is left lazy (the first is synced; a slow host may take more
	   than a second from one to the next) */
	for (k = 0; k < 10; k++) {
		before = env_syncs;
		snprintf(addr, sizeof(addr), "user%u@example.com", k);
		enqueue(c, "hook", addr);
		run(c, until_empty, NULL, 10000);
		if (k > 0 && env_syncs == before)
			break;
	}
	assert_true(k < 10);
	end = now_ms() + 1500;
	while (now_ms() < end)
		step(c, 100);
	assert_int_equal(env_syncs, before + 1);
}

/* results the state cannot take are kept and written once it can: the
   action is not sent again meanwhile (nor after), and the writes are
   tried again after a growing wait, not at every turn */
static void test_results_kept_while_the_state_refuses_them(void **state)
{
	struct ctx *c = *state;
	int64_t end;
	cJSON *calls;

	hook_config(c, 1, NULL);
	enqueue(c, "hook", "eio@example.com");
	commits_failed = 0;
	commits_fail = true;
	end = now_ms() + 2500;
	while (now_ms() < end)
		(void)loop_once(c->l, 50);
	commits_fail = false;
	calls = fake_calls(&c->hook);
	assert_int_equal(cJSON_GetArraySize(calls), 1);
	cJSON_Delete(calls);
	/* at 0, 1 and 3 s: two in 2.5 s (three on a slow host) */
	assert_true(commits_failed >= 2 && commits_failed <= 3);
	assert_true(logged(c, "cannot write the results of 1 provider "
			   "calls: ") >= 1);
	assert_int_equal(count_actions(c, false), 1);
	c->step_rc = 0;
	run(c, until_empty, NULL, 10000);
	calls = fake_calls(&c->hook);
	assert_int_equal(cJSON_GetArraySize(calls), 1);
	cJSON_Delete(calls);
	assert_int_equal(counts(c, 0).done, 1);
	assert_int_equal(count_actions(c, true), 0);
}

/* a reload frees the former dispatcher as soon as no request is under
   way, which may come before its step wrote an answer taken: freeing
   writes it, so the new dispatcher does not call again.  The swap is made
   by a timer due at once on every turn, as the worker's work timer is
   while it reads a file, so that it runs before the dispatcher's step. */
struct swap_arg {
	struct ctx *c;
	struct loop_timer *t;
	bool seen_busy, swapped;
};

static void swap_due(struct loop *l, void *arg)
{
	struct swap_arg *s = arg;
	char err[256];

	(void)l;
	if (!s->swapped)
		loop_timer_soon(s->t, 0);
	if (dispatch_in_flight(s->c->d) > 0)
		s->seen_busy = true;
	if (s->seen_busy && !s->swapped && dispatch_in_flight(s->c->d) == 0) {
		dispatch_free(s->c->d);
		if (dispatch_new(&s->c->d, s->c->cfg, s->c->st, s->c->l,
				 s->c->m, err, sizeof(err)) != 0)
			fail_msg("dispatch_new: %s", err);
		dispatch_on_step(s->c->d, stepped, s->c);
		dispatch_kick(s->c->d);
		s->swapped = true;
	}
}

static void test_free_writes_the_answers_taken(void **state)
{
	struct ctx *c = *state;
	struct swap_arg s = { .c = c };
	cJSON *calls;

	hook_config(c, 1, NULL);
	s.t = loop_timer_new(c->l, swap_due, &s);
	loop_timer_soon(s.t, 0);
	enqueue(c, "hook", "swap@example.com");
	run(c, until_empty, NULL, 10000);
	assert_true(s.swapped);
	calls = fake_calls(&c->hook);
	assert_int_equal(cJSON_GetArraySize(calls), 1);
	cJSON_Delete(calls);
	loop_timer_free(s.t);
}

/* put_pause - provider NAME paused since SINCE_MS (as an earlier run
   left it) */
static void put_pause(struct ctx *c, const char *name, int64_t since_ms)
{
	MDB_txn *txn;

	assert_int_equal(state_begin(c->st, true, &txn), 0);
	assert_int_equal(provider_pause_put(c->st, txn, name, since_ms,
					    "HTTP 403: Forbidden"), 0);
	assert_int_equal(state_commit(txn), 0);
}

/* resumed_at - when provider NAME's last pause ended, as the state says
   (0: none) */
static int64_t resumed_at(struct ctx *c, const char *name)
{
	MDB_txn *txn;
	int64_t ms = 0;

	assert_int_equal(state_begin(c->st, false, &txn), 0);
	(void)provider_resumed_get(c->st, txn, name, &ms);
	state_abort(txn);
	return ms;
}

/* a paused provider's actions do not age: a probe that fails for a
   passing reason (503) is retried later, not a dead letter, however old
   the action is */
static void test_paused_actions_do_not_age(void **state)
{
	struct ctx *c = *state;
	unsigned one = 1;

	put_pause(c, "hook", now_ms() - 120000);
	hook_config(c, 1, "max-age = 60s\n");
	assert_non_null(dispatch_paused(c->d, 0));
	fake_config(&c->hook, "{\"fail_count\": 1}");
	enqueue_at(c, "hook", "old@example.com", OP_UNSUBSCRIBE,
		   now_ms() - 120000, 0);
	run(c, until_retried, &one, 5000);
	assert_int_equal(count_actions(c, true), 0);
	assert_int_equal(count_actions(c, false), 1);
	assert_non_null(dispatch_paused(c->d, 0));
}

/* the answer that ends a pause records when, in the state */
static void test_resume_is_recorded(void **state)
{
	struct ctx *c = *state;
	struct until_done_arg one = { 0, 1 };
	int64_t t0 = now_ms(), at;

	put_pause(c, "hook", t0 - 120000);
	assert_true(resumed_at(c, "hook") == 0);
	hook_config(c, 1, NULL);
	enqueue(c, "hook", "probe@example.com");
	run(c, until_done, &one, 5000);
	assert_null(dispatch_paused(c->d, 0));
	at = resumed_at(c, "hook");
	assert_true(at >= t0 && at <= now_ms());
}

/* after a pause, the actions it held have a whole max-age from its end
   (a restart knows it from the state): the first passing failure of an
   action older than max-age is retried, not a dead letter */
static void test_max_age_counts_from_the_resume(void **state)
{
	struct ctx *c = *state;
	struct until_done_arg one = { 0, 1 };
	MDB_txn *txn;

	assert_int_equal(state_begin(c->st, true, &txn), 0);
	assert_int_equal(provider_resumed_put(c->st, txn, "hook",
					      now_ms() - 1000), 0);
	assert_int_equal(state_commit(txn), 0);
	hook_config(c, 1, "max-age = 60s\n");
	fake_config(&c->hook, "{\"fail_count\": 1}");
	enqueue_at(c, "hook", "held@example.com", OP_UNSUBSCRIBE,
		   now_ms() - 120000, 0);
	run(c, until_done, &one, 5000);
	assert_int_equal(count_actions(c, true), 0);
	assert_int_equal(counts(c, 0).retried, 1);
}

/* a dispatcher made at a reload takes over later: the pauses it read
   when it was made are read again then (the former one may have begun or
   ended one meanwhile) */
static void test_pauses_read_again(void **state)
{
	struct ctx *c = *state;
	MDB_txn *txn;

	hook_config(c, 1, NULL);
	assert_null(dispatch_paused(c->d, 0));
	put_pause(c, "hook", now_ms() - 1000);
	dispatch_pauses_load(c->d);
	assert_string_equal(dispatch_paused(c->d, 0), "HTTP 403: Forbidden");
	assert_int_equal(state_begin(c->st, true, &txn), 0);
	assert_int_equal(provider_pause_clear(c->st, txn, "hook"), 0);
	assert_int_equal(state_commit(txn), 0);
	dispatch_pauses_load(c->d);
	assert_null(dispatch_paused(c->d, 0));
}

/* the address of the fake's call I (0 first; its body as sent: an
   injected failure is not parsed) */
static char *call_addr(struct ctx *c, int i)
{
	cJSON *calls = fake_calls(&c->hook), *call, *text, *body = NULL;
	char *out = NULL;

	call = cJSON_GetArrayItem(calls, i);
	text = call ? cJSON_GetObjectItem(call, "body") : NULL;
	if (cJSON_IsString(text))
		body = cJSON_Parse(text->valuestring);
	if (cJSON_IsString(cJSON_GetObjectItem(body, "address")))
		out = g_strdup(cJSON_GetObjectItem(body, "address")->valuestring);
	cJSON_Delete(body);
	cJSON_Delete(calls);
	assert_non_null(out);
	return out;
}

/* a paused provider's probe that is refused goes behind the others, so
   that the next probe is another action (one refused for itself, by a
   filter in front of the provider, was probed for ever); refused again
   once another was accepted, it is a dead letter and the provider is
   not paused for it */
static void test_refused_probe_goes_behind(void **state)
{
	struct ctx *c = *state;
	struct until_done_arg one = { 0, 1 };
	int64_t t0 = now_ms();
	GArray *a;
	char *who;

	setenv("BOUNCED_PROBE_MS", "300", 1);
	put_pause(c, "hook", t0 - 1000);
	enqueue_quiet(c, "hook", "refused@example.com", OP_UNSUBSCRIBE,
		      t0 - 2000, t0 - 2000);
	enqueue_quiet(c, "hook", "fine@example.com", OP_UNSUBSCRIBE, t0 - 1000,
		      t0 - 1000);
	/* a filter in front of the receiver refuses one payload */
	fake_config(&c->hook, "{\"fail_status\": 403, \"fail_count\": 1000, "
			      "\"match\": \"refused@example.com\"}");
	hook_config(c, 1, NULL);
	unsetenv("BOUNCED_PROBE_MS");
	/* the first probe, refused: behind the other, no attempt counted;
	   the second, accepted: the pause ends; then the first is sent */
	run(c, until_done, &one, 5000);
	assert_null(dispatch_paused(c->d, 0));
	who = call_addr(c, 0);
	assert_string_equal(who, "refused@example.com");
	g_free(who);
	who = call_addr(c, 1);
	assert_string_equal(who, "fine@example.com");
	g_free(who);
	/* sent again after the resume and refused again: a dead letter, no
	   pause */
	run(c, until_empty, NULL, 5000);
	assert_null(dispatch_paused(c->d, 0));
	a = actions(c, true);
	assert_int_equal(a->len, 1);
	assert_string_equal(g_array_index(a, struct action, 0).addr,
			    "refused@example.com");
	assert_non_null(strstr(g_array_index(a, struct action, 0).last_error,
			       "refused again after other actions were "
			       "accepted: HTTP 403"));
	g_array_free(a, TRUE);
	assert_int_equal(count_actions(c, false), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_delivers_enqueued, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_provider_isolation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_503, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_after, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connection_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_400_dead, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_age_dead, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_age_of_a_later_step,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_provider, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_due, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spawn_outstanding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_answer_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redirect_not_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_full_grows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lazy_results_synced_when_idle,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_results_kept_while_the_state_refuses_them, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_free_writes_the_answers_taken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paused_actions_do_not_age,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_resume_is_recorded, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_max_age_counts_from_the_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pauses_read_again, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refused_probe_goes_behind,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_schedule_state_without_journal,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_schedule_learns_new_actions,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_schedule_skips_removed,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
