/*
 * memwatch.c - run a command and sample its peak memory, for the ingest
 * benchmark: the process's anonymous memory (heap) and its file-backed
 * memory (the LMDB map), read from /proc/PID/status every 50 ms.
 *
 *   memwatch OUT CMD [ARG...]
 *
 * CMD runs as a child (its own pid: `taskset -c N bounced ...` is that
 * pid once taskset has executed bounced).  When it ends, OUT holds
 * "RSSANON_KB RSSFILE_KB\n" and memwatch exits as the child did (128+N
 * for a signal).  Sampling costs a read of one /proc file per 50 ms and
 * no process started, so that it does not slow down what it measures
 * (a shell loop of pgrep and awk did, by several percent).  Exit 70 when
 * the child cannot be started, 64 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MW_PERIOD_NS (50 * 1000 * 1000L)

/* mw_field - the kB value of line NAME in the status text S, or -1 */
static long mw_field(const char *s, const char *name)
{
	const char *p = strstr(s, name);

	if (!p)
		return -1;
	p += strlen(name);
	while (*p == ' ' || *p == '\t')
		p++;
	return strtol(p, NULL, 10);
}

/* mw_sample - PID's RssAnon and RssFile into the peaks */
static void mw_sample(pid_t pid, long *anon, long *file)
{
	char path[64], buf[4096];
	ssize_t n;
	long a, f;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	a = mw_field(buf, "RssAnon:");
	f = mw_field(buf, "RssFile:");
	if (a > *anon)
		*anon = a;
	if (f > *file)
		*file = f;
}

int main(int argc, char **argv)
{
	struct timespec period = { 0, MW_PERIOD_NS };
	long anon = 0, file = 0;
	int status = 0;
	FILE *out;
	pid_t pid, w;

	if (argc < 3) {
		fprintf(stderr, "usage: memwatch OUT CMD [ARG...]\n");
		return 64;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "memwatch: fork: %s\n", strerror(errno));
		return 70;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "memwatch: %s: %s\n", argv[2], strerror(errno));
		_exit(70);
	}
	for (;;) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			fprintf(stderr, "memwatch: waitpid: %s\n",
				strerror(errno));
			return 70;
		}
		mw_sample(pid, &anon, &file);
		nanosleep(&period, NULL);
	}
	out = fopen(argv[1], "w");
	if (!out || fprintf(out, "%ld %ld\n", anon, file) < 0 ||
	    fclose(out) != 0) {
		fprintf(stderr, "memwatch: %s: %s\n", argv[1], strerror(errno));
		return 70;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
