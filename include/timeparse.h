/*
 * timeparse.h - PowerMTA timestamps to Unix time.
 *
 * Accepted: "2019-02-08 21:54:05+0000" (iso-times, any +hhmm/-hhmm offset,
 * also "+00:00", "Z", or no zone = UTC, 'T' separator allowed),
 * "02/08/2019 21:54:05" (MM/DD/YYYY, UTC), and a bare time_t ("1549662845").
 */
#ifndef BOUNCED_TIMEPARSE_H
#define BOUNCED_TIMEPARSE_H

#include <stddef.h>
#include <stdint.h>

/* timeparse_pmta - parse S (LEN bytes); 0 and *OUT set, or -1 */
int timeparse_pmta(const char *s, size_t len, int64_t *out);

/* timeparse_format - Unix time -> "2019-02-08 21:54:05+0000" (UTC) */
void timeparse_format(int64_t t, char *buf, size_t len);

/*
 * timeparse_since - a bouncectl --since value: an absolute time as above,
 * "2019-02-08", or a duration back from NOW ("2h", "3d"); 0 or -1.
 */
int timeparse_since(const char *s, int64_t now, int64_t *out);

/*
 * timeparse_env_ms - the interval in milliseconds that the environment
 * variable NAME sets (1 to 3600000; knobs of the tests: see bounced(8)),
 * else DEF_MS.
 */
int64_t timeparse_env_ms(const char *name, int64_t def_ms);

/* timeparse_ms_text - an interval of MS milliseconds for a log line,
   "10 s", or "100 ms" when not whole seconds, into BUF (LEN bytes);
   BUF */
const char *timeparse_ms_text(int64_t ms, char *buf, size_t len);

#endif
