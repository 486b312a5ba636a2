/*
 * maildir.c - atomic delivery into a maildir: a unique file in tmp/
 * (O_CREAT|O_EXCL, mode 0640), written, fsync'ed, closed, renamed into
 * new/, and new/ fsync'ed, so that what is in new/ is whole and durable.
 *
 * Error policy: every call is checked; failures return -errno with a
 * message in ERR naming the path; the file in tmp/ is removed on every
 * failure (maildir_commit, maildir_abort).  No logging, no exit.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "log.h"
#include "maildir.h"

#define MAILDIR_HOST_MAX 48	/* bytes of the host name kept in a name */
#define MAILDIR_OPEN_TRIES 8	/* names tried when one exists already */

struct maildir_msg {
	int fd;
	unsigned long long size;
	char name[MAILDIR_NAME_MAX];
	char tmp[PATH_MAX];	/* DIR/tmp/NAME */
	char dst[PATH_MAX];	/* DIR/new/NAME */
	char newdir[PATH_MAX];	/* DIR/new */
};

/* maildir_err - "WHAT 'PATH': strerror(-RC)" into ERR; returns RC */
static int maildir_err(char *err, size_t errlen, int rc, const char *what,
		       const char *path)
{
	if (err && errlen)
		snprintf(err, errlen, "%s '%s': %s", what, path,
			 strerror(-rc));
	return rc;
}

/* maildir_join - "A/B" into BUF; 0 or -ENAMETOOLONG */
static int maildir_join(char *buf, size_t len, const char *a, const char *b)
{
	int n = snprintf(buf, len, "%s/%s", a, b);

	return (n < 0 || (size_t)n >= len) ? -ENAMETOOLONG : 0;
}

/* maildir_mkdir - make PATH (0750) unless it is a directory already;
   1 when made, 0 when it was there, -errno */
static int maildir_mkdir(const char *path)
{
	struct stat sb;

	if (mkdir(path, 0750) == 0)
		return 1;
	if (errno != EEXIST)
		return -errno;
	if (stat(path, &sb) != 0)
		return -errno;
	return S_ISDIR(sb.st_mode) ? 0 : -ENOTDIR;
}

/* maildir_create - DIR and its tmp/, new/, cur/ */
int maildir_create(const char *dir, char *err, size_t errlen)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	char path[PATH_MAX];
	bool made = false;
	size_t i;
	int rc;

	rc = maildir_mkdir(dir);
	if (rc < 0)
		return maildir_err(err, errlen, rc, "cannot create directory",
				   dir);
	if (rc == 1) {
		/* the new entry in the parent must survive a crash too */
		rc = maildir_join(path, sizeof(path), dir, "..");
		if (rc == 0)
			rc = atomic_file_sync_dir(path);
		if (rc < 0)
			return maildir_err(err, errlen, rc, "cannot sync the "
					   "directory holding", dir);
	}
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		rc = maildir_join(path, sizeof(path), dir, subs[i]);
		if (rc == 0)
			rc = maildir_mkdir(path);
		if (rc < 0)
			return maildir_err(err, errlen, rc,
					   "cannot create directory", path);
		if (rc == 1)
			made = true;
	}
	if (made) {
		rc = atomic_file_sync_dir(dir);
		if (rc < 0)
			return maildir_err(err, errlen, rc,
					   "cannot sync directory", dir);
	}
	return 0;
}

/* maildir_host - the host name with every byte but [A-Za-z0-9._-] as '_' */
static void maildir_host(char *buf, size_t len)
{
	char host[256];
	size_t i, n;

	if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
		memcpy(host, "localhost", sizeof("localhost"));
	host[sizeof(host) - 1] = '\0';
	n = strlen(host);
	if (n > MAILDIR_HOST_MAX)
		n = MAILDIR_HOST_MAX;
	if (n >= len)
		n = len - 1;
	for (i = 0; i < n; i++) {
		char c = host[i];

		buf[i] = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '-' ||
			  c == '_') ? c : '_';
	}
	buf[n] = '\0';
}

/* maildir_random - 64 random bits (getrandom; else clock and pid mixed) */
static unsigned long long maildir_random(void)
{
	unsigned long long r = 0;
	struct timespec t;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) == (ssize_t)sizeof(r))
		return r;
	clock_gettime(CLOCK_MONOTONIC, &t);
	r = (unsigned long long)t.tv_nsec * 6364136223846793005ULL ^
	    (unsigned long long)t.tv_sec ^ ((unsigned long long)getpid() << 32);
	return r;
}

/* maildir_unique - "SECS.MUSECPPID_RRANDOMQN.HOST" */
int maildir_unique(char *buf, size_t len)
{
	static unsigned counter;
	char host[MAILDIR_HOST_MAX + 1];
	struct timespec now;
	int n;

	clock_gettime(CLOCK_REALTIME, &now);
	maildir_host(host, sizeof(host));
	n = snprintf(buf, len, "%lld.M%06ldP%ld_R%016llxQ%u.%s",
		     (long long)now.tv_sec, (long)(now.tv_nsec / 1000),
		     (long)getpid(), maildir_random(), ++counter, host);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* maildir_open - a new file in DIR/tmp */
int maildir_open(const char *dir, struct maildir_msg **out, char *err,
		 size_t errlen)
{
	struct maildir_msg *m;
	char tmpdir[PATH_MAX];
	int tries, rc;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return maildir_err(err, errlen, -ENOMEM, "no memory for a mail in",
				   dir);
	m->fd = -1;
	rc = maildir_join(tmpdir, sizeof(tmpdir), dir, "tmp");
	if (rc == 0)
		rc = maildir_join(m->newdir, sizeof(m->newdir), dir, "new");
	if (rc < 0) {
		maildir_err(err, errlen, rc, "path too long:", dir);
		goto fail;
	}
	for (tries = 0; tries < MAILDIR_OPEN_TRIES; tries++) {
		rc = maildir_unique(m->name, sizeof(m->name));
		if (rc == 0)
			rc = maildir_join(m->tmp, sizeof(m->tmp), tmpdir,
					  m->name);
		if (rc == 0)
			rc = maildir_join(m->dst, sizeof(m->dst), m->newdir,
					  m->name);
		if (rc < 0) {
			maildir_err(err, errlen, rc, "path too long:", dir);
			goto fail;
		}
		m->fd = open(m->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
				     O_NOFOLLOW, 0640);
		if (m->fd >= 0) {
			*out = m;
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	rc = -errno;
	maildir_err(err, errlen, rc, "cannot create", m->tmp);
fail:
	free(m);
	return rc;
}

/* maildir_write - append LEN bytes */
int maildir_write(struct maildir_msg *m, const void *buf, size_t len,
		  char *err, size_t errlen)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(m->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return maildir_err(err, errlen, -errno, "cannot write",
					   m->tmp);
		if (n == 0)
			return maildir_err(err, errlen, -EIO, "cannot write",
					   m->tmp);
		p += n;
		len -= (size_t)n;
		m->size += (unsigned long long)n;
	}
	return 0;
}

unsigned long long maildir_size(const struct maildir_msg *m)
{
	return m->size;
}

/* maildir_commit - sync, close, rename into new/, sync new/ */
int maildir_commit(struct maildir_msg *m, char *name, size_t namelen,
		   char *err, size_t errlen)
{
	int rc = 0, fd = m->fd;

	m->fd = -1;
	if (fsync(fd) != 0) {
		rc = maildir_err(err, errlen, -errno, "cannot sync", m->tmp);
		close(fd);
		goto fail_tmp;
	}
	if (close(fd) != 0) {
		rc = maildir_err(err, errlen, -errno, "cannot close", m->tmp);
		goto fail_tmp;
	}
	if (rename(m->tmp, m->dst) != 0) {
		rc = maildir_err(err, errlen, -errno, "cannot move the mail "
				 "into new/:", m->tmp);
		goto fail_tmp;
	}
	rc = atomic_file_sync_dir(m->newdir);
	if (rc < 0) {
		maildir_err(err, errlen, rc, "cannot sync directory",
			    m->newdir);
		/* taken back (the caller fails and the mail comes again),
		   unless a worker took it meanwhile: then it is in the
		   state, and failing would have it come again, and be
		   counted twice */
		if (rename(m->dst, m->tmp) == 0)
			(void)unlink(m->tmp);
		else if (errno == ENOENT)
			rc = 0;
		if (rc == 0 && name && namelen)
			snprintf(name, namelen, "%s", m->name);
		goto out;
	}
	if (name && namelen)
		snprintf(name, namelen, "%s", m->name);
	goto out;
fail_tmp:
	(void)unlink(m->tmp);
out:
	free(m);
	return rc;
}

/* maildir_abort - close and remove the file in tmp/ */
void maildir_abort(struct maildir_msg *m)
{
	if (!m)
		return;
	if (m->fd >= 0)
		close(m->fd);
	(void)unlink(m->tmp);
	free(m);
}

int maildir_sweep_tmp(const char *dir, time_t now)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int n = 0;

	if (snprintf(path, sizeof(path), "%s/tmp", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)) != NULL) {
		struct stat sb;

		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(sb.st_mode) ||
		    now - sb.st_mtime < MAILDIR_TMP_STALE ||
		    now - sb.st_ctime < MAILDIR_TMP_STALE)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) != 0) {
			log_error("spool", "cannot delete the stale '%s/%s': %s",
				  path, de->d_name, strerror(errno));
			continue;
		}
		n++;
	}
	closedir(d);
	return n;
}
