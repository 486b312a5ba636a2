/*
 * fuzz_acct_csv.c - libFuzzer target for the accounting-file parsing layer.
 *
 * The input is read by the CSV reader several times, whole and cut into
 * chunks of different sizes; every reading must give the same results
 * (checked through a hash of every row, bad record and offset).  Header
 * rows set the column map, every field is fetched with acct_get and the
 * time fields go through timeparse_pmta, whose result must format and
 * parse back to itself.  A broken invariant aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acct_csv.h"
#include "acct_fields.h"
#include "timeparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_CHECK(cond)                                                      \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "fuzz_acct_csv: %s failed at line %d\n", \
				#cond, __LINE__);                           \
			abort();                                            \
		}                                                           \
	} while (0)

static uint64_t fz_hash(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static uint64_t fz_hash_u64(uint64_t h, uint64_t v)
{
	return fz_hash(h, &v, sizeof(v));
}

/* fz_time - a time field parses to a value that formats back to itself */
static void fz_time(const char *s, size_t len)
{
	int64_t t, back;
	char buf[48];

	if (timeparse_pmta(s, len, &t) != 0)
		return;
	if (t < 0 || t > 253402300799LL)
		return;
	timeparse_format(t, buf, sizeof(buf));
	FZ_CHECK(timeparse_pmta(buf, strlen(buf), &back) == 0);
	FZ_CHECK(back == t);
}

/* fz_row - use a row the way the ingest does */
static uint64_t fz_row(struct acct_map *map, const struct csv_row *row,
		       uint64_t h)
{
	char *names[65];
	char err[128];
	struct acct_map m2;
	size_t i, len;
	int f;

	for (i = 0; i < row->nfields; i++) {
		FZ_CHECK(row->fields[i][row->lens[i]] == '\0');
		FZ_CHECK(strlen(row->fields[i]) == row->lens[i]);
		h = fz_hash(h, row->fields[i], row->lens[i] + 1);
	}
	if (acct_row_is_header(row)) {
		h = fz_hash_u64(h, (uint64_t)(acct_map_from_row(map, row) + 7));
		if (row->nfields <= 64) {
			for (i = 0; i < row->nfields; i++)
				names[i] = (char *)row->fields[i];
			names[i] = NULL;
			err[0] = '\0';
			if (acct_map_from_names(&m2, names, err, sizeof(err)) != 0)
				FZ_CHECK(err[0] != '\0');
		}
		return h;
	}
	h = fz_hash_u64(h, acct_row_is_comment(map, row));
	for (f = 0; f < AF__COUNT; f++) {
		const char *v = acct_get(map, row, (enum acct_field)f, &len);

		FZ_CHECK(v != NULL && strlen(v) == len);
		h = fz_hash_u64(h, len);
	}
	for (f = AF_TIME_LOGGED; f <= AF_TIME_QUEUED; f++) {
		const char *v = acct_get(map, row, (enum acct_field)f, &len);

		fz_time(v, len);
	}
	if (row->nfields > 0) {
		int64_t t;

		fz_time(row->fields[0], row->lens[0]);
		(void)timeparse_since(row->fields[0], 1700000000, &t);
	}
	return h;
}

/* fz_read - read DATA in chunks of CHUNK bytes (0: pseudo-random, fed or
   written into the reader's room at random) */
static uint64_t fz_read(const uint8_t *data, size_t size, size_t chunk,
			size_t max_record)
{
	static char *const classic[] = {
		"type", "timeQueued", "bounceCat", "vmta", "orig", "rcpt",
		"srcMta", "dlvSourceIp", "jobId", "dsnStatus", "dsnMta",
		"dsnDiag", NULL
	};
	struct csv_reader *r = csv_reader_new(100, 10, max_record);
	struct acct_map map;
	struct csv_row row;
	enum csv_result res;
	uint64_t h = 1469598103934665603ULL, last_off = 100, last_line = 10;
	uint64_t rnd = size * 2654435761ULL + 1;
	size_t off = 0;
	bool cut = false;
	bool eof = false;
	char err[128];

	FZ_CHECK(r != NULL);
	/* half of the inputs read as files still written */
	csv_reader_set_cut(r, size > 0 && (data[0] & 4));
	FZ_CHECK(acct_map_from_names(&map, classic, err, sizeof(err)) == 0);
	for (;;) {
		if (!eof && off < size) {
			size_t n = chunk;

			if (n == 0) {
				rnd = rnd * 6364136223846793005ULL + 1;
				n = 1 + (size_t)(rnd >> 33) % 300;
			}
			if (n > size - off)
				n = size - off;
			if (chunk == 0 && (rnd >> 40) & 1) {
				/* read straight into the reader, as ingest
				   does: the same records */
				char *room = NULL;

				FZ_CHECK(csv_reader_room(r, n, &room) == 0);
				FZ_CHECK(room != NULL);
				memcpy(room, data + off, n);
				csv_reader_fed(r, n);
			} else {
				FZ_CHECK(csv_reader_feed(r, (const char *)data +
							 off, n) == 0);
			}
			off += n;
		} else {
			eof = true;
		}
		for (;;) {
			res = csv_reader_next(r, &row, eof);
			if (res != CSV_ROW && res != CSV_BAD)
				break;
			if (res == CSV_BAD && csv_reader_cut(r)) {
				/* a last line without its line end: only at
				   the end, left unread (nothing consumed) */
				FZ_CHECK(eof);
				FZ_CHECK(row.end_offset >= last_off);
				FZ_CHECK(row.end_line + 1 == row.line);
				cut = true;
			} else {
				FZ_CHECK(row.end_offset > last_off);
				FZ_CHECK(row.end_line >= row.line);
			}
			FZ_CHECK(row.end_offset <= 100 + size);
			FZ_CHECK(row.line > last_line);
			FZ_CHECK(csv_reader_offset(r) == row.end_offset);
			last_off = row.end_offset;
			last_line = row.end_line;
			h = fz_hash_u64(h, (uint64_t)res);
			h = fz_hash_u64(h, row.line);
			h = fz_hash_u64(h, row.end_line);
			h = fz_hash_u64(h, row.end_offset);
			if (res == CSV_BAD) {
				const char *why = csv_reader_error(r);

				h = fz_hash(h, why, strlen(why));
				continue;
			}
			FZ_CHECK(row.nfields >= 1 && row.nfields <= CSV_MAX_FIELDS);
			h = fz_row(&map, &row, h);
		}
		if (eof) {
			FZ_CHECK(res == CSV_END);
			break;
		}
		FZ_CHECK(res == CSV_NEED_MORE);
	}
	/* everything was consumed, but a last line cut short */
	FZ_CHECK(cut ? csv_reader_offset(r) < 100 + size :
		       csv_reader_offset(r) == 100 + size);
	csv_reader_free(r);
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t max_record = 0;
	uint64_t h;

	if (size > 256 * 1024)
		return 0;
	/* a small record limit now and then, to reach the skipping code */
	if (size > 0 && (data[0] & 3) == 3)
		max_record = 1 + data[size - 1] % 96;
	h = fz_read(data, size, size ? size : 1, max_record);
	FZ_CHECK(fz_read(data, size, 7, max_record) == h);
	FZ_CHECK(fz_read(data, size, 0, max_record) == h);
	if (size <= 4096)
		FZ_CHECK(fz_read(data, size, 1, max_record) == h);
	return 0;
}
