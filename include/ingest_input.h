/*
 * ingest_input.h - an input's bytes and identity, for the ingest core: a
 * file known by its absolute path, the fingerprint of its first bytes and
 * its device and inode, and where the state says it was left; or a stream
 * (stdin, a pipe), never resumed.
 */
#ifndef BOUNCED_INGEST_INPUT_H
#define BOUNCED_INGEST_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rcpt.h"

struct state;

/* a file's record as an input last saw it in the state */
struct ingest_seen {
	struct file_rec rec;
	bool ok;		/* there was one (else: none) */
	bool known;		/* it could be read (else: nothing is checked) */
};

struct ingest_input {
	const char *path;	/* as given, for messages ("-": stdin) */
	char *key;		/* absolute path; NULL for a stream */
	int fd;
	uint64_t size;		/* a file: its size when opened */
	int64_t mtime;		/* a file's mtime; a stream's start */
	struct file_rec rec;	/* as last committed, or a new record */
	uint64_t skip_until;	/* rows ending before this were taken */
	/* rows ending at or before this were taken before, by an earlier
	   reading of this file (or of its content under another path):
	   skipped (skip_until), or read again (--reprocess), when the
	   monitor hears them as such (monitor_feed_again); 0: none */
	uint64_t taken_until;
	bool failed;		/* the last error was the input's own */
	/* the path the state knows this content under, when it knew this
	   path not (the same file moved, copied or renamed) */
	char *same_as;
	/* the file's record as the state held it when the input was opened,
	   then as this input's last commit wrote it: a commit that finds
	   another is racing another reader of the same file
	   (ingest_commit.c) */
	struct ingest_seen seen;
};

/*
 * ingest_input_open - open PATH ("-": stdin) and, for a regular file,
 * find where the state ST says it was left (REPROCESS: from the start,
 * inp->taken_until saying how far it was taken before).
 * 0 (read on from inp->skip_until), 1 (taken to its end before: inp->rec
 * says how), or -errno: the input's (inp->failed, logged: -ENOENT,
 * -EACCES, -EISDIR ...) or the state's.
 */
int ingest_input_open(struct ingest_input *inp, struct state *st,
		      const char *path, bool reprocess);

/* ingest_input_read - up to LEN bytes; 0 at the end, or -errno (logged,
   inp->failed) */
ssize_t ingest_input_read(struct ingest_input *inp, char *buf, size_t len);

/* ingest_input_wait - a stream: wait up to TIMEOUT_MS (-1: no limit) for
   something to read; 1 (data, end or error: read says which), 0 (time
   out) or -errno (logged, inp->failed) */
int ingest_input_wait(struct ingest_input *inp, int timeout_ms);

/* ingest_input_close - the descriptor and the key (stdin stays open) */
void ingest_input_close(struct ingest_input *inp);

#endif
