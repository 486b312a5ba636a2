/*
 * fuzz_rcpt.c - libFuzzer target for the recipient record's codec: the
 * bytes a damaged or foreign state file may hold in the "rcpt" table.
 *
 * Invariants: a record that decodes encodes again (in the compact layout
 * and in version 3), and both encodings decode to the same record, byte
 * for byte; no input reads out of bounds or aborts.  The input is also
 * decoded with a dictionary of a few strings (version 5 naming strings by
 * id), one of them longer than every field; what decodes encodes again
 * through the same dictionary and decodes to the same record, and
 * decoded lean (rcpt_decode_lean) over the record the last input left, it
 * encodes to the same bytes as decoded in full.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rcpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_strs[] = {
	"bad-mailbox", "5.1.1", "/var/log/pmta/acct.csv",
	"bounces@example.com", "vmta-1", "mailwizz-abc", "dry-run",
	/* longer than any field: a record naming it does not decode */
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
};
#define FUZZ_NSTRS (sizeof(fuzz_strs) / sizeof(fuzz_strs[0]))

static int fuzz_intern(void *ctx, const char *s, size_t n, uint32_t *id)
{
	size_t i;

	(void)ctx;
	*id = 0;
	for (i = 0; i < FUZZ_NSTRS; i++)
		if (strlen(fuzz_strs[i]) == n && memcmp(fuzz_strs[i], s, n) == 0)
			*id = (uint32_t)i + 1;
	return 0;
}

static int fuzz_lookup(void *ctx, uint32_t id, const char **s, size_t *n)
{
	(void)ctx;
	if (id == 0 || id > FUZZ_NSTRS)
		return -ENOENT;
	*s = fuzz_strs[id - 1];
	*n = strlen(*s);
	return 0;
}

static const struct rcpt_strings fuzz_dict = {
	fuzz_intern, fuzz_lookup, NULL, NULL
};

/* fuzz_roundtrip - R encoded by ENC decodes to R */
static void fuzz_roundtrip(const struct rcpt *r,
			   int (*enc)(const struct rcpt *, uint8_t *, size_t,
				      size_t *))
{
	static uint8_t buf[RCPT_ENCODED_MAX];
	static struct rcpt back;
	size_t len = 0;

	if (enc(r, buf, sizeof(buf), &len) != 0)
		abort();		/* a decoded record must encode */
	memset(&back, 0, sizeof(back));
	if (rcpt_decode(buf, len, &back) != 0)
		abort();
	if (memcmp(r, &back, sizeof(back)) != 0)
		abort();
}

/* fuzz_lean - DATA, which decodes with the dictionary and encodes to
   ENC (LEN bytes), decoded lean into a record that held another (the
   max-filled one, then whatever the last input left): it encodes to the
   same bytes */
static void fuzz_lean(const uint8_t *data, size_t size, const uint8_t *enc,
		      size_t len)
{
	static uint8_t buf[RCPT_ENCODED_MAX];
	static struct rcpt lean;
	static int ready;
	size_t n = 0;

	if (!ready) {
		memset(&lean, 0xa5, sizeof(lean));
		memset(lean.soft_async, 1, sizeof(lean.soft_async));
		lean.escalated = true;
		ready = 1;
	}
	if (rcpt_decode_lean(data, size, &fuzz_dict, &lean) != 0)
		abort();	/* the full decode took it */
	if (rcpt_encode_strs(&lean, &fuzz_dict, buf, sizeof(buf), &n) != 0 ||
	    n != len || memcmp(buf, enc, len) != 0)
		abort();
}

/* fuzz_dict_roundtrip - DATA decoded with the dictionary encodes again
   through it, and decodes to the same record */
static void fuzz_dict_roundtrip(const uint8_t *data, size_t size)
{
	static uint8_t buf[RCPT_ENCODED_MAX];
	static struct rcpt r, back;
	size_t len = 0;

	memset(&r, 0, sizeof(r));
	if (rcpt_decode_strs(data, size, &fuzz_dict, &r) != 0)
		return;
	if (rcpt_encode_strs(&r, &fuzz_dict, buf, sizeof(buf), &len) != 0)
		abort();
	memset(&back, 0, sizeof(back));
	if (rcpt_decode_strs(buf, len, &fuzz_dict, &back) != 0)
		abort();
	if (memcmp(&r, &back, sizeof(back)) != 0)
		abort();
	fuzz_lean(data, size, buf, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rcpt r;

	/* zeroed first: the comparison covers the padding and the bytes
	   after each string's NUL, which the decoder leaves as it finds */
	fuzz_dict_roundtrip(data, size);
	memset(&r, 0, sizeof(r));
	if (rcpt_decode(data, size, &r) != 0)
		return 0;
	fuzz_roundtrip(&r, rcpt_encode);
	/* version 3 has no asynchronous bounces, nor held bounces
	   dropped */
	memset(r.soft_async, 0, sizeof(r.soft_async));
	memset(r.dropped, 0, sizeof(r.dropped));
	r.n_dropped = 0;
	fuzz_roundtrip(&r, rcpt_encode_v3);
	return 0;
}
