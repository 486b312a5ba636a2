/*
 * ingest_mail.c - take one mail of the spool (an ARF report, an
 * unsubscribe mail) into the state.
 *
 * The file is opened and fingerprinted like an accounting file (so a mail
 * taken before a crash, but not yet moved out of new/, is known and not
 * applied again), read whole (bounded), turned into events by the caller's
 * parser, and its events are committed in one transaction with the file's
 * record.  A mail the parser refuses is not recorded: the caller moves it
 * to failed/ with the reason.  A mail the parser sets aside (no input of
 * its kind: a bounce at the feedback address) is recorded with the
 * counter of its kind in one transaction, so it is counted once even
 * when a crash keeps it in new/; such a mail met again is parsed again
 * only to say where it goes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "ingest_priv.h"
#include "log.h"

/* ingest_mail_read - the whole of SRC's file into a new buffer (NUL added) */
static int ingest_mail_read(struct ingest_src *src, char **out, size_t *len)
{
	size_t cap = (size_t)src->size, got = 0;
	char *buf = malloc(cap + 1);

	if (!buf)
		return -ENOMEM;
	while (got < cap) {
		ssize_t n = pread(src->fd, buf + got, cap - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int rc = -errno;

			free(buf);
			log_error("ingest", "cannot read '%s': %s", src->path,
				  strerror(-rc));
			return rc;
		}
		if (n == 0)
			break;	/* shorter than when opened */
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

struct state *ingest_state(const struct ingest *in)
{
	return in->st;
}

struct ingest_mail_aside {
	struct ingest_src *src;
	const char *counter;
	struct file_rec rec;		/* the file's record as written */
};

/* ingest_mail_try_aside - SRC recorded as taken with one more in its
   counter (state_write_fn) */
static int ingest_mail_try_aside(struct state *st, MDB_txn *txn, void *arg)
{
	struct ingest_mail_aside *a = arg;
	int rc;

	a->rec = a->src->rec;
	a->rec.offset = a->src->size;
	a->rec.status = FILE_DONE;
	a->rec.updated = (int64_t)time(NULL);
	rc = state_file_put(st, txn, a->src->key, &a->rec);
	if (rc == 0)
		rc = state_meta_add_u64(st, txn, a->counter, 1);
	return rc;
}

/* ingest_mail_aside - SRC recorded as taken and counted under COUNTER, in
   one transaction */
static int ingest_mail_aside(struct ingest *in, struct ingest_src *src,
			     const char *counter)
{
	struct ingest_mail_aside a = { .src = src, .counter = counter };
	int rc = state_write(in->st, ingest_mail_try_aside, &a);

	if (rc)
		log_error("ingest", "%s: cannot commit to the state: %s (the "
			  "mail stays where it is; run again)", src->path,
			  state_strerror(rc));
	if (rc == 0) {
		src->rec = a.rec;
		if (in->on_commit)
			in->on_commit(in->on_commit_arg);
	}
	return rc;
}

int ingest_mail(struct ingest *in, const char *path, uint64_t max_size,
		ingest_mail_parse_fn parse, void *arg,
		struct ingest_counts *counts, char *why, size_t whylen)
{
	const char *aside = NULL;
	bool already = false;
	struct event evs[INGEST_MAIL_EVENTS];
	struct ingest_opts opts = { .mode = INGEST_ACCT };
	struct ingest_src src;
	struct stat sb;
	char *buf = NULL;
	size_t len = 0, n = 0, i;
	int rc;

	memset(counts, 0, sizeof(*counts));
	memset(&src, 0, sizeof(src));
	why[0] = '\0';
	src.path = path;
	src.fd = -1;
	src.mode = INGEST_ACCT;
	src.total = counts;
	batch_clear(in->batch);

	rc = ingest_open(in, &src, &opts, &sb);
	if (rc == 1)
		already = true;	/* read only to tell where it goes */
	else if (rc)
		goto out;
	if (!src.key) {
		snprintf(why, whylen, "not a regular file");
		rc = INGEST_REFUSED;
		goto out;
	}
	if (src.size > max_size) {
		snprintf(why, whylen, "%llu bytes, more than drop-max-size "
			 "(%llu)", (unsigned long long)src.size,
			 (unsigned long long)max_size);
		rc = INGEST_REFUSED;
		goto out;
	}
	rc = ingest_mail_read(&src, &buf, &len);
	if (rc) {
		if (already)
			rc = INGEST_ALREADY;	/* moved on as it is */
		goto out;
	}
	src.size = len;
	memset(evs, 0, sizeof(evs));
	rc = parse(buf, len, src.key, (int64_t)sb.st_mtime, evs,
		   INGEST_MAIL_EVENTS, &n, &aside, arg, why, whylen);
	if (already) {
		if (rc != INGEST_MAIL_ASIDE)
			why[0] = '\0';
		rc = INGEST_ALREADY;
		goto out;
	}
	if (rc == INGEST_MAIL_ASIDE) {
		rc = aside ? ingest_mail_aside(in, &src, aside) : -EINVAL;
		if (rc == 0)
			rc = INGEST_ASIDE;
		goto out;
	}
	if (rc == -EINVAL) {
		rc = INGEST_REFUSED;
		goto out;
	}
	if (rc)
		goto out;
	for (i = 0; i < n && i < INGEST_MAIL_EVENTS; i++) {
		evs[i].source = src.key;
		evs[i].line = 1;
		classify_event(&in->rules, &evs[i]);
		src.pending.records++;
		rc = batch_add(in->batch, &evs[i]);
		if (rc)
			goto out;
	}
	rc = ingest_commit(in, &src, true);
	if (rc == 0)
		rc = INGEST_TAKEN;
out:
	free(buf);
	if (src.fd > STDIN_FILENO)
		close(src.fd);
	free(src.key);
	return rc;
}
