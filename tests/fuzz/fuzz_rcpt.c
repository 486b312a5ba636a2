/*
 * fuzz_rcpt.c - libFuzzer target for the recipient record's codec: the
 * bytes a damaged or foreign state file may hold in the "rcpt" table.
 *
 * Invariants: a record that decodes encodes again (in the compact layout
 * and in version 3), and both encodings decode to the same record, byte
 * for byte; no input reads out of bounds or aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rcpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rcpt r;

	/* zeroed first: the comparison covers the padding and the bytes
	   after each string's NUL, which the decoder leaves as it finds */
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
