/*
 * memwatch.c - run a command and sample its peak memory, for the ingest
 * benchmark: the process's anonymous memory (heap) and its file-backed
 * memory (the LMDB map), read from /proc/PID/status every 50 ms; and the
 * CPU time of each of its threads, read from /proc/PID/task/TID/stat.
 *
 *   memwatch OUT CMD [ARG...]
 *
 * CMD runs as a child (its own pid: `taskset -c N bounced ...` is that
 * pid once taskset has executed bounced).  When it ends, OUT holds
 * "RSSANON_KB RSSFILE_KB\n", then a line "thread NAME SECONDS" per thread
 * seen, in the order they were started (a thread's time as last sampled:
 * up to 50 ms short), and memwatch exits as the child did (128+N for a
 * signal).  Sampling costs a read of one /proc file per 50 ms and
 * no process started, so that it does not slow down what it measures
 * (a shell loop of pgrep and awk did, by several percent).  Exit 70 when
 * the child cannot be started, 64 on a usage error.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
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
#define MW_THREADS 32		/* threads followed (more are left out) */

/* a thread's CPU time as last sampled */
struct mw_thread {
	long tid;
	char name[17];
	unsigned long long ticks;	/* utime + stime */
};

static struct mw_thread mw_threads[MW_THREADS];
static int mw_nthreads;

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

/* mw_read - the file PATH (a /proc file: one read) into BUF of SIZE bytes,
   NUL-terminated; false when it cannot be read or is empty */
static bool mw_read(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return true;
}

/* mw_sample - PID's RssAnon and RssFile into the peaks */
static void mw_sample(pid_t pid, long *anon, long *file)
{
	char path[64], buf[4096];
	long a, f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!mw_read(path, buf, sizeof(buf)))
		return;
	a = mw_field(buf, "RssAnon:");
	f = mw_field(buf, "RssFile:");
	if (a > *anon)
		*anon = a;
	if (f > *file)
		*file = f;
}

/* mw_task - thread TID of PID: its name and CPU ticks into the table */
static void mw_task(pid_t pid, long tid)
{
	char path[96], buf[1024], *open_p, *close_p;
	unsigned long long ut, st;
	struct mw_thread *t = NULL;
	size_t len;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/task/%ld/stat", (int)pid, tid);
	if (!mw_read(path, buf, sizeof(buf)))
		return;
	/* "TID (NAME) S ..." and, after the name, utime and stime are the
	   12th and 13th fields (the 14th and 15th of the line) */
	open_p = strchr(buf, '(');
	close_p = strrchr(buf, ')');
	if (!open_p || !close_p || close_p < open_p ||
	    sscanf(close_p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
		   "%llu %llu", &ut, &st) != 2)
		return;
	for (i = 0; i < mw_nthreads; i++)
		if (mw_threads[i].tid == tid)
			t = &mw_threads[i];
	if (!t) {
		if (mw_nthreads == MW_THREADS)
			return;
		t = &mw_threads[mw_nthreads++];
		t->tid = tid;
	}
	len = (size_t)(close_p - open_p - 1);
	if (len >= sizeof(t->name))
		len = sizeof(t->name) - 1;
	memcpy(t->name, open_p + 1, len);
	t->name[len] = '\0';
	t->ticks = ut + st;
}

/* mw_tid_cmp - thread ids in increasing order (qsort) */
static int mw_tid_cmp(const void *a, const void *b)
{
	long x = ((const struct mw_thread *)a)->tid;
	long y = ((const struct mw_thread *)b)->tid;

	return (x > y) - (x < y);
}

/* mw_tasks - every thread of PID sampled */
static void mw_tasks(pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] >= '0' && de->d_name[0] <= '9')
			mw_task(pid, strtol(de->d_name, NULL, 10));
	closedir(d);
}

int main(int argc, char **argv)
{
	struct timespec period = { 0, MW_PERIOD_NS };
	long anon = 0, file = 0, hz;
	int status = 0, i;
	bool ok;
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
		mw_tasks(pid);
		nanosleep(&period, NULL);
	}
	hz = sysconf(_SC_CLK_TCK);
	out = fopen(argv[1], "w");
	ok = out && fprintf(out, "%ld %ld\n", anon, file) >= 0;
	/* in the order they were started: the lowest thread id first */
	qsort(mw_threads, (size_t)mw_nthreads, sizeof(mw_threads[0]),
	      mw_tid_cmp);
	for (i = 0; ok && i < mw_nthreads; i++)
		ok = fprintf(out, "thread %s %.2f\n", mw_threads[i].name,
			     (double)mw_threads[i].ticks /
				     (double)(hz > 0 ? hz : 100)) >= 0;
	if (!out || !ok || fclose(out) != 0) {
		fprintf(stderr, "memwatch: %s: %s\n", argv[1], strerror(errno));
		return 70;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
