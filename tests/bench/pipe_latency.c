/*
 * pipe_latency.c - benchmark of bounced's pipe mode: how long after a
 * record is written to `bounced process -` (PowerMTA's <acct-file |…>) it
 * is committed in the state.
 *
 *     pipe_latency BOUNCED DIR [N]
 *
 * Starts BOUNCED -q -c DIR/bounced.conf process - (DIR/state, DIR/spool),
 * writes a header line, then N (default 50) bounce records one at a time,
 * each for a new address, 100 ms apart; after each write it polls the state
 * read-only (a fresh LMDB read transaction every 100 µs) until the
 * address's record is there.  Prints every latency and then "pipe latency:
 * N records, median X ms, max Y ms".  Exits non-zero when a record is not
 * committed within 10 s or bounced fails.  Not part of pass/fail.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rcpt.h"
#include "state.h"

#define PL_TIMEOUT_NS (10LL * 1000000000LL)

static int64_t pl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void pl_sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int pl_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* pl_start - BOUNCED process - with its stdin on a pipe; *FD its write end */
static pid_t pl_start(const char *bounced, const char *conf, int *fd)
{
	int p[2];
	pid_t pid;

	if (pipe(p) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(p[0], 0);
		close(p[0]);
		close(p[1]);
		execl(bounced, bounced, "-q", "-c", conf, "process", "-",
		      (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	*fd = p[1];
	return pid;
}

/* pl_write - all of S to FD */
static int pl_write(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* pl_has - is ADDR's record committed?  Opens the state on first use. */
static int pl_has(struct state **st, const char *dir, const char *addr)
{
	char err[256];
	MDB_txn *txn;
	struct rcpt r;
	int rc;

	if (!*st && state_open(st, dir, true, err, sizeof(err)) != 0)
		return 0; /* not created yet */
	if (state_begin(*st, false, &txn) != 0)
		return 0;
	rc = state_rcpt_get(*st, txn, addr, &r);
	state_abort(txn);
	return rc == 0;
}

int main(int argc, char **argv)
{
	static const char header[] =
		"type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,bounceCat\r\n";
	char conf[4096], statedir[4096], line[512], addr[128];
	struct state *st = NULL;
	int64_t *lat, t0, t;
	int i, n = argc > 3 ? atoi(argv[3]) : 50, fd = -1, status, rc = 1;
	pid_t pid;
	FILE *f;

	if (argc < 3 || n <= 0 || n > 100000) {
		fprintf(stderr, "usage: pipe_latency BOUNCED DIR [N]\n");
		return 64;
	}
	snprintf(conf, sizeof(conf), "%s/bounced.conf", argv[2]);
	snprintf(statedir, sizeof(statedir), "%s/state", argv[2]);
	f = fopen(conf, "w");
	if (!f) {
		perror(conf);
		return 1;
	}
	fprintf(f, "[bounced]\nstate = %s\nspool = %s/spool\n", statedir,
		argv[2]);
	fclose(f);
	lat = calloc((size_t)n, sizeof(*lat));
	signal(SIGPIPE, SIG_IGN);
	pid = pl_start(argv[1], conf, &fd);
	if (!lat || pid < 0 || pl_write(fd, header) != 0) {
		fprintf(stderr, "pipe_latency: cannot start %s\n", argv[1]);
		goto out;
	}
	for (i = 0; i < n; i++) {
		pl_sleep_us(100000);
		snprintf(addr, sizeof(addr), "pipe%05d@example.com", i);
		snprintf(line, sizeof(line), "b,2026-11-25 10:00:00+0000,"
			 "news@bounces.example.com,%s,5.1.1,\"smtp;550 5.1.1 "
			 "unknown\",bad-mailbox\r\n", addr);
		t0 = pl_now_ns();
		if (pl_write(fd, line) != 0) {
			fprintf(stderr, "pipe_latency: bounced stopped reading\n");
			goto out;
		}
		while (!pl_has(&st, statedir, addr)) {
			t = pl_now_ns();
			if (t - t0 > PL_TIMEOUT_NS) {
				fprintf(stderr, "pipe_latency: %s not committed "
					"after 10 s\n", addr);
				goto out;
			}
			pl_sleep_us(100);
		}
		lat[i] = pl_now_ns() - t0;
		printf("  record %d: %.2f ms\n", i + 1, (double)lat[i] / 1e6);
	}
	qsort(lat, (size_t)n, sizeof(*lat), pl_cmp);
	printf("pipe latency: %d records, median %.2f ms, max %.2f ms\n", n,
	       (double)lat[n / 2] / 1e6, (double)lat[n - 1] / 1e6);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);	/* EOF: bounced drains and exits */
	if (pid > 0 && waitpid(pid, &status, 0) == pid &&
	    (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
		fprintf(stderr, "pipe_latency: bounced exited with status %d\n",
			status);
		rc = 1;
	}
	state_close(st);
	free(lat);
	return rc;
}
