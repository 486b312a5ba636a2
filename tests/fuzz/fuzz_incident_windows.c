/*
 * fuzz_incident_windows.c - libFuzzer target for the incident detector's
 * saved windows: the bytes a damaged or foreign state may hold under
 * "incident.windows" and the pairs' records gathered after it (version 2),
 * or the whole detector in one piece (version 1).
 *
 * Invariants: no input reads out of bounds or aborts; what loads saves
 * again, and that save loads into a fresh detector with as many pairs
 * (a version 1 input: every pair is written; version 2: none changed).
 */
#include <stdint.h>
#include <stdlib.h>

#include <glib.h>

#include "incident_detect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct incident_params P = { 1800, 10, 0.2, 7200 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct incident_detect *d = incident_detect_new(&P), *e;
	GByteArray *buf;

	if (!d)
		abort();
	if (incident_detect_load(d, data, size) != 0) {
		if (incident_detect_pairs(d) != 0)
			abort();	/* a failed load keeps nothing */
		incident_detect_free(d);
		return 0;
	}
	buf = g_byte_array_new();
	incident_detect_save(d, buf);
	e = incident_detect_new(&P);
	if (!e || incident_detect_load(e, buf->data, buf->len) != 0)
		abort();
	if (size && data[0] == 1 &&
	    incident_detect_pairs(e) != incident_detect_pairs(d))
		abort();
	g_byte_array_free(buf, TRUE);
	incident_detect_free(e);
	incident_detect_free(d);
	return 0;
}
