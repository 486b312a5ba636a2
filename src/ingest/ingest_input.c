/*
 * ingest_input.c - opening an input and finding where it was left.
 *
 * A file is known by its absolute path; the FNV-1a hash of its first
 * bytes (at most INGEST_FP_MAX) tells whether the file under that name is
 * still the one that was taken: a new file under an old name is taken
 * from its start.  A path the state does not know whose first 4 KiB (or,
 * smaller, whole content) are those of a file taken under another path
 * (moved back from done/, copied, renamed) is that file: it resumes where
 * that one was left, so that nothing of it is applied twice (a soft
 * bounce counted twice brings escalation closer); --reprocess takes it
 * again.  A file taken to its end (and not grown since) is
 * reported as such; one left in the middle resumes at its committed
 * offset.  Taken again (--reprocess), a file still knows how far it was
 * taken (under its path, or its content's other one): the rows up to
 * there are read again as such (taken_until: the monitor does not count
 * them again), and its record never goes back behind that offset.  A
 * copy whose first bytes differ is another file.  stdin and pipes are
 * streams: never resumed, their records
 * dated by the start of the run.  Errors of the input are logged here
 * and marked (inp->failed); errors of the state are returned as they come.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ingest_input.h"
#include "log.h"
#include "state.h"

#define INGEST_FP_MAX 4096
/* a file modified more than this after now: its time is not believed
   (acct_event.c's rule for a record's time) */
#define INGEST_MTIME_AHEAD 86400

/* ingest_fingerprint - FNV-1a of the first LEN bytes of FD */
static int ingest_fingerprint(int fd, uint32_t len, uint64_t *hash)
{
	unsigned char b[INGEST_FP_MAX];
	uint64_t h = 1469598103934665603ULL;
	ssize_t n;
	uint32_t i;

	if (len > sizeof(b))
		len = sizeof(b);
	n = pread(fd, b, len, 0);
	if (n < 0)
		return -errno;
	if ((uint32_t)n != len)
		return -EIO;
	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= 1099511628211ULL;
	}
	*hash = h;
	return 0;
}

/* ingest_input_fail - the input's error RC, logged */
static int ingest_input_fail(struct ingest_input *inp, const char *what,
			     int rc)
{
	inp->failed = true;
	log_error("ingest", "cannot %s '%s': %s", what, inp->path,
		  strerror(-rc));
	return rc;
}

/* ingest_input_other - a path the state does not know: the record OLD
   of a file of the same content under another path (PATH, LEN bytes);
   0, -ENOENT (none, or none this file can be: the index is keyed by the
   fingerprint's length too, so a file smaller than INGEST_FP_MAX matches
   a file of its whole content only, not every file its first bytes (a
   header line) begin) or the state's -errno (logged) */
static int ingest_input_other(struct ingest_input *inp, struct state *st,
			      char *path, size_t len, struct file_rec *old)
{
	MDB_txn *txn = NULL;
	int rc;

	rc = state_begin(st, false, &txn);
	if (rc == 0) {
		rc = state_files_fp_find(st, txn, inp->rec.fp_hash,
					 inp->rec.fp_len, path, len, old);
		state_abort(txn);
	}
	if (rc == -ENOENT)
		return rc;
	if (rc) {
		log_error("ingest", "%s: cannot look for the same file under "
			  "another path: %s", inp->path, state_strerror(rc));
		return rc;
	}
	if (old->offset > inp->size || strcmp(path, inp->key) == 0)
		return -ENOENT;
	return 0;
}

/* ingest_input_same - a path the state does not know: the record of a
   file of the same content under another path, if any, is where this one
   starts (0 or 1 as ingest_input_left) */
static int ingest_input_same(struct ingest_input *inp, struct state *st)
{
	char path[PATH_MAX];
	struct file_rec old;
	int rc;

	rc = ingest_input_other(inp, st, path, sizeof(path), &old);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	inp->same_as = strdup(path);
	if (!inp->same_as)
		return -ENOMEM;
	/* its progress, this file's identity; one that failed there is
	   taken on from where it was left */
	inp->rec.status = old.status == FILE_DONE ? FILE_DONE : FILE_PARTIAL;
	inp->rec.offset = old.offset;
	inp->rec.lines = old.lines;
	inp->rec.records = old.records;
	inp->rec.bad = old.bad;
	if (old.status == FILE_DONE && old.offset >= inp->size) {
		/* said by the caller (ingest_already_as) */
		log_debug("ingest", "%s: the file taken before as '%s' (the "
			  "same content)", inp->path, path);
		return 1;
	}
	inp->skip_until = inp->taken_until = old.offset;
	log_info("ingest", "%s: the file taken before as '%s' (the same "
		 "first bytes): resuming at byte %llu (line %llu); "
		 "--reprocess takes it from the start", inp->path, path,
		 (unsigned long long)old.offset,
		 (unsigned long long)old.lines);
	return 0;
}

/* ingest_input_is - is the file the one of record OLD, maybe appended
   to?  Its first bytes as they were, and no shorter than where it was
   left (its inode may differ: a copy made anew, as rsync makes one, is
   the same file) */
static bool ingest_input_is(struct ingest_input *inp,
			    const struct file_rec *old)
{
	uint64_t hash = 0;

	return old->fp_len <= inp->size && old->offset <= inp->size &&
	       ingest_fingerprint(inp->fd, old->fp_len, &hash) == 0 &&
	       hash == old->fp_hash;
}

/* ingest_input_seen - the file's record as the state holds it now, into
   inp->seen; 0, -ENOENT (none) or the state's -errno */
static int ingest_input_seen(struct ingest_input *inp, struct state *st)
{
	MDB_txn *txn = NULL;
	int rc = state_begin(st, false, &txn);

	if (rc == 0) {
		rc = state_file_get(st, txn, inp->key, &inp->seen.rec);
		state_abort(txn);
	}
	inp->seen.ok = rc == 0;
	inp->seen.known = rc == 0 || rc == -ENOENT;
	return rc;
}

/* ingest_input_left - where the state says the file was left (RC: how
   reading its record went, ingest_input_seen): 0 or 1 (taken to its
   end) */
static int ingest_input_left(struct ingest_input *inp, struct state *st,
			     int rc)
{
	const struct file_rec old = inp->seen.rec;

	if (rc == -ENOENT)
		return ingest_input_same(inp, st);
	if (rc == -ENAMETOOLONG) {
		/* the input's: the state cannot record where it is */
		inp->failed = true;
		log_error("ingest", "'%s' cannot be taken: its absolute path "
			  "(%zu bytes) is longer than the state can record; "
			  "move it, or link it, under a shorter path",
			  inp->path, strlen(inp->key));
		return rc;
	}
	if (rc) {
		log_error("ingest", "%s: cannot read where the state left it: "
			  "%s", inp->path,
			  rc == -EINVAL ? "its record in the state does not "
					  "decode (damaged)" :
					  state_strerror(rc));
		return rc;
	}
	if (!ingest_input_is(inp, &old)) {
		log_info("ingest", "%s: not the file taken before under this "
			 "name: taking it from the start", inp->path);
		return 0;
	}
	{
		/* the fingerprint grows with the file, up to INGEST_FP_MAX:
		   one taken when it held its header line only would
		   otherwise match any file of the same header */
		uint32_t fp_len = inp->rec.fp_len;
		uint64_t fp_hash = inp->rec.fp_hash;
		/* and the file is this one now: bouncectl finds it by its
		   device and inode (a copy made anew has others) */
		uint64_t dev = inp->rec.dev, ino = inp->rec.ino;

		inp->rec = old;
		inp->rec.fp_len = fp_len;
		inp->rec.fp_hash = fp_hash;
		inp->rec.dev = dev;
		inp->rec.ino = ino;
	}
	if (old.status == FILE_DONE && old.offset >= inp->size)
		return 1;
	inp->skip_until = inp->taken_until = old.offset;
	if (old.offset)
		log_info("ingest", "%s: resuming at byte %llu (line %llu)",
			 inp->path, (unsigned long long)old.offset,
			 (unsigned long long)old.lines);
	return 0;
}

/* ingest_input_again - a file taken again from its start (--reprocess;
   RC: how reading its record went, ingest_input_seen): how far the state
   took it before, under this path or, when the state does not know the
   path, under another one with the same first bytes, is where the rows
   read again end (inp->taken_until); the record starts from there, so
   that a run that stops before it leaves the file where it was, not
   nearer its start.  0, or the state's -errno */
static int ingest_input_again(struct ingest_input *inp, struct state *st,
			      int rc)
{
	char path[PATH_MAX];
	struct file_rec old;

	if (rc == 0 && ingest_input_is(inp, &inp->seen.rec)) {
		old = inp->seen.rec;
	} else if (rc == -ENOENT) {
		rc = ingest_input_other(inp, st, path, sizeof(path), &old);
		if (rc)
			return rc == -ENOENT ? 0 : rc;
	} else {
		/* another file under this name, or a record that does not
		   read (the commit says it): none of it was taken */
		return 0;
	}
	inp->taken_until = old.offset;
	inp->rec.offset = old.offset;
	inp->rec.lines = old.lines;
	return 0;
}

int ingest_input_open(struct ingest_input *inp, struct state *st,
		      const char *path, bool reprocess)
{
	char abs[PATH_MAX];
	struct stat sb;
	int rc;

	memset(inp, 0, sizeof(*inp));
	inp->path = path;
	inp->fd = -1;
	if (strcmp(path, "-") == 0) {
		inp->fd = STDIN_FILENO;
		inp->mtime = (int64_t)time(NULL);
		return 0;
	}
	inp->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (inp->fd < 0 || fstat(inp->fd, &sb) != 0)
		return ingest_input_fail(inp, "open", -errno);
	if (S_ISDIR(sb.st_mode)) {
		inp->failed = true;
		log_error("ingest", "'%s' is a directory, not an accounting file",
			  path);
		return -EISDIR;
	}
	inp->mtime = (int64_t)sb.st_mtime;
	if (inp->mtime > (int64_t)time(NULL) + INGEST_MTIME_AHEAD) {
		/* a host whose clock is far ahead dates its files as its
		   records: neither is believed (the monitor's clock would
		   jump there and close every open incident as quiet) */
		log_warn("ingest", "%s: modified %lld days after this host's "
			 "clock (a clock set ahead?): its records dated more "
			 "than a day ahead are taken at this host's time",
			 path, (long long)((inp->mtime - (int64_t)time(NULL)) /
					   86400));
		inp->mtime = (int64_t)time(NULL);
	}
	if (!S_ISREG(sb.st_mode) || !realpath(path, abs))
		return 0; /* a pipe or FIFO: a stream, never resumed */
	inp->key = strdup(abs);
	if (!inp->key)
		return ingest_input_fail(inp, "open", -ENOMEM);
	inp->size = (uint64_t)sb.st_size;
	/* read once from start to end: a larger read-ahead (a file the page
	   cache no longer holds is read while the last chunk is parsed) */
	(void)posix_fadvise(inp->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	inp->rec.dev = (uint64_t)sb.st_dev;
	inp->rec.ino = (uint64_t)sb.st_ino;
	inp->rec.started = (int64_t)time(NULL);
	inp->rec.fp_len = inp->size < INGEST_FP_MAX ? (uint32_t)inp->size :
						      INGEST_FP_MAX;
	rc = ingest_fingerprint(inp->fd, inp->rec.fp_len, &inp->rec.fp_hash);
	if (rc)
		return ingest_input_fail(inp, "read", rc);
	rc = ingest_input_seen(inp, st);
	if (reprocess)
		return ingest_input_again(inp, st, rc);
	return ingest_input_left(inp, st, rc);
}

ssize_t ingest_input_read(struct ingest_input *inp, char *buf, size_t len)
{
	ssize_t n;

	do
		n = read(inp->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return ingest_input_fail(inp, "read", -errno);
	return n;
}

int ingest_input_wait(struct ingest_input *inp, int timeout_ms)
{
	struct pollfd pfd = { .fd = inp->fd, .events = POLLIN };
	int prc;

	do
		prc = poll(&pfd, 1, timeout_ms);
	while (prc < 0 && errno == EINTR);
	if (prc < 0)
		return ingest_input_fail(inp, "wait for", -errno);
	return prc > 0;
}

void ingest_input_close(struct ingest_input *inp)
{
	if (inp->fd > STDIN_FILENO)
		close(inp->fd);
	inp->fd = -1;
	free(inp->key);
	inp->key = NULL;
	free(inp->same_as);
	inp->same_as = NULL;
}
