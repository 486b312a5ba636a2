/*
 * timeparse.c - PowerMTA timestamps to Unix time, and back.
 *
 * Forms: "2019-02-08 21:54:05+0000" (zone +hhmm, +hh:mm, Z or none = UTC;
 * 'T' may replace the space; fractional seconds are dropped),
 * "02/08/2019 21:54:05" (UTC) and a bare time_t.  The calendar is computed
 * here (days from civil date), so nothing depends on the locale or TZ.
 * Fields are range-checked (a 2019-02-30 is refused); blanks around the
 * value are allowed, anything else is an error: -1, *out untouched.
 */
#include "timeparse.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TP_MAX_TIME_T 253402300799LL	/* 9999-12-31 23:59:59 */

struct tp_cur {
	const char *p;
	size_t n;
	size_t i;
};

/* tp_days_from_civil - days since 1970-01-01 of Y-M-D (proleptic Gregorian) */
static int64_t tp_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* tp_civil_from_days - the Y-M-D of day Z since 1970-01-01 */
static void tp_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool tp_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* tp_mdays - days in month M of year Y */
static int tp_mdays(int64_t y, int m)
{
	static const int md[12] = { 31, 28, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31 };

	if (m == 2 && tp_leap(y))
		return 29;
	return md[m - 1];
}

static bool tp_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

static bool tp_isblank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* tp_digits - exactly K digits at the cursor into *V */
static bool tp_digits(struct tp_cur *c, int k, int *v)
{
	int x = 0, j;

	if (c->n - c->i < (size_t)k)
		return false;
	for (j = 0; j < k; j++) {
		char ch = c->p[c->i + (size_t)j];

		if (!tp_isdigit(ch))
			return false;
		x = x * 10 + (ch - '0');
	}
	c->i += (size_t)k;
	*v = x;
	return true;
}

/* tp_char - the byte CH at the cursor */
static bool tp_char(struct tp_cur *c, char ch)
{
	if (c->i < c->n && c->p[c->i] == ch) {
		c->i++;
		return true;
	}
	return false;
}

/* tp_trim - a cursor over S without the blanks around it */
static void tp_trim(struct tp_cur *c, const char *s, size_t len)
{
	while (len > 0 && tp_isblank(*s))
		s++, len--;
	while (len > 0 && tp_isblank(s[len - 1]))
		len--;
	c->p = s;
	c->n = len;
	c->i = 0;
}

/* tp_make - Unix time of a checked date and time, minus OFF seconds */
static bool tp_make(int y, int mo, int d, int h, int mi, int s, int64_t off,
		    int64_t *out)
{
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > tp_mdays(y, mo) ||
	    h > 23 || mi > 59 || s > 60)
		return false;
	*out = tp_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s -
	       off;
	return true;
}

/* tp_hms - "HH:MM:SS" with optional fractional seconds */
static bool tp_hms(struct tp_cur *c, int *h, int *mi, int *s)
{
	if (!tp_digits(c, 2, h) || !tp_char(c, ':') || !tp_digits(c, 2, mi) ||
	    !tp_char(c, ':') || !tp_digits(c, 2, s))
		return false;
	if (tp_char(c, '.') || tp_char(c, ',')) {
		if (c->i >= c->n || !tp_isdigit(c->p[c->i]))
			return false;
		while (c->i < c->n && tp_isdigit(c->p[c->i]))
			c->i++;
	}
	return true;
}

/* tp_zone - optional zone at the end: none, Z, +hhmm, +hh:mm; *OFF seconds */
static bool tp_zone(struct tp_cur *c, int64_t *off)
{
	int sign, hh, mm;

	*off = 0;
	if (c->i == c->n)
		return true;
	if (c->p[c->i] == ' ' && c->i + 1 < c->n)
		c->i++;		/* "21:54:05 +0000" */
	if (tp_char(c, 'Z') || tp_char(c, 'z'))
		return c->i == c->n;
	if (tp_char(c, '+'))
		sign = 1;
	else if (tp_char(c, '-'))
		sign = -1;
	else
		return false;
	if (!tp_digits(c, 2, &hh))
		return false;
	tp_char(c, ':');
	if (!tp_digits(c, 2, &mm) || hh > 23 || mm > 59)
		return false;
	*off = sign * (int64_t)(hh * 3600 + mm * 60);
	return c->i == c->n;
}

/* tp_iso - "YYYY-MM-DD[ T]HH:MM:SS[zone]" */
static bool tp_iso(struct tp_cur *c, int64_t *out)
{
	int y, mo, d, h, mi, s;
	int64_t off;

	if (!tp_digits(c, 4, &y) || !tp_char(c, '-') || !tp_digits(c, 2, &mo) ||
	    !tp_char(c, '-') || !tp_digits(c, 2, &d))
		return false;
	if (!tp_char(c, ' ') && !tp_char(c, 'T') && !tp_char(c, 't'))
		return false;
	if (!tp_hms(c, &h, &mi, &s) || !tp_zone(c, &off))
		return false;
	return tp_make(y, mo, d, h, mi, s, off, out);
}

/* tp_us - "MM/DD/YYYY HH:MM:SS[zone]" */
static bool tp_us(struct tp_cur *c, int64_t *out)
{
	int y, mo, d, h, mi, s;
	int64_t off;

	if (!tp_digits(c, 2, &mo) || !tp_char(c, '/') || !tp_digits(c, 2, &d) ||
	    !tp_char(c, '/') || !tp_digits(c, 4, &y) || !tp_char(c, ' '))
		return false;
	if (!tp_hms(c, &h, &mi, &s) || !tp_zone(c, &off))
		return false;
	return tp_make(y, mo, d, h, mi, s, off, out);
}

/* tp_epoch - a bare time_t, at most 12 digits, up to year 9999 */
static bool tp_epoch(const struct tp_cur *c, int64_t *out)
{
	int64_t v = 0;
	size_t j;

	if (c->n == 0 || c->n > 12)
		return false;
	for (j = 0; j < c->n; j++) {
		if (!tp_isdigit(c->p[j]))
			return false;
		v = v * 10 + (c->p[j] - '0');
	}
	if (v > TP_MAX_TIME_T)
		return false;
	*out = v;
	return true;
}

/*
 * The last accounting time of the thread: "YYYY-MM-DD HH:MM:SS+hhmm", the
 * form PowerMTA writes, by its date and hour (13 bytes) and zone (5
 * bytes), and the time of minute 0, second 0 of that hour.  A record of
 * the same hour and zone is its minutes and seconds away: what tp_iso
 * computes (tp_make is linear in them), without parsing the date again.
 */
#define TP_FAST_LEN 24
static __thread struct {
	char hour[13], zone[5];
	int64_t base;
	bool ok;
} tp_last;

/* tp_fast_shape - S (TP_FAST_LEN bytes) is of the cached form's shape:
   its minutes and seconds (0-59 each) into *MS */
static bool tp_fast_shape(const char *s, int *ms)
{
	int mi, sec;

	if (s[13] != ':' || s[16] != ':' || (s[19] != '+' && s[19] != '-') ||
	    !tp_isdigit(s[14]) || !tp_isdigit(s[15]) || !tp_isdigit(s[17]) ||
	    !tp_isdigit(s[18]) || !tp_isdigit(s[0]) || !tp_isdigit(s[23]))
		return false;
	mi = (s[14] - '0') * 10 + (s[15] - '0');
	sec = (s[17] - '0') * 10 + (s[18] - '0');
	if (mi > 59 || sec > 59)
		return false;
	*ms = mi * 60 + sec;
	return true;
}

/* timeparse_pmta - any PowerMTA timestamp form to Unix time */
int timeparse_pmta(const char *s, size_t len, int64_t *out)
{
	struct tp_cur c;
	int64_t t;
	int ms = 0;
	bool shape;

	if (!s || !out)
		return -1;
	shape = len == TP_FAST_LEN && tp_fast_shape(s, &ms);
	if (shape && tp_last.ok && memcmp(s, tp_last.hour, 13) == 0 &&
	    memcmp(s + 19, tp_last.zone, 5) == 0) {
		*out = tp_last.base + ms;
		return 0;
	}
	tp_trim(&c, s, len);
	if (tp_epoch(&c, &t)) {
		*out = t;
		return 0;
	}
	c.i = 0;
	if (tp_iso(&c, &t)) {
		if (shape) {
			memcpy(tp_last.hour, s, 13);
			memcpy(tp_last.zone, s + 19, 5);
			tp_last.base = t - ms;
			tp_last.ok = true;
		}
		*out = t;
		return 0;
	}
	c.i = 0;
	if (tp_us(&c, &t)) {
		*out = t;
		return 0;
	}
	return -1;
}

/* timeparse_format - T as "YYYY-MM-DD HH:MM:SS+0000" */
void timeparse_format(int64_t t, char *buf, size_t len)
{
	int64_t days, secs, y;
	int m, d;

	if (!buf || len == 0)
		return;
	days = t / 86400;
	secs = t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	tp_civil_from_days(days, &y, &m, &d);
	snprintf(buf, len, "%04lld-%02d-%02d %02d:%02d:%02d+0000",
		 (long long)y, m, d, (int)(secs / 3600), (int)(secs / 60 % 60),
		 (int)(secs % 60));
}

/* tp_date - "YYYY-MM-DD" alone: midnight UTC */
static bool tp_date(struct tp_cur *c, int64_t *out)
{
	int y, mo, d;

	c->i = 0;
	if (!tp_digits(c, 4, &y) || !tp_char(c, '-') || !tp_digits(c, 2, &mo) ||
	    !tp_char(c, '-') || !tp_digits(c, 2, &d) || c->i != c->n)
		return false;
	return tp_make(y, mo, d, 0, 0, 0, 0, out);
}

/* tp_duration - "90s", "5m", "2h", "3d", "1w" or a sequence ("1d12h") */
static bool tp_duration(struct tp_cur *c, int64_t *out)
{
	const int64_t max = 100LL * 366 * 86400;	/* a century */
	int64_t total = 0;

	c->i = 0;
	if (c->n == 0)
		return false;
	while (c->i < c->n) {
		int64_t v = 0, unit;
		size_t start = c->i;

		while (c->i < c->n && tp_isdigit(c->p[c->i])) {
			v = v * 10 + (c->p[c->i] - '0');
			if (v > max)
				return false;
			c->i++;
		}
		if (c->i == start || c->i == c->n)
			return false;	/* no number, or no unit */
		switch (c->p[c->i++]) {
		case 's': case 'S': unit = 1; break;
		case 'm': case 'M': unit = 60; break;
		case 'h': case 'H': unit = 3600; break;
		case 'd': case 'D': unit = 86400; break;
		case 'w': case 'W': unit = 7 * 86400; break;
		default: return false;
		}
		if (v > (max - total) / unit)
			return false;
		total += v * unit;
	}
	*out = total;
	return true;
}

/* timeparse_since - absolute time, date, or duration back from NOW */
int timeparse_since(const char *s, int64_t now, int64_t *out)
{
	struct tp_cur c;
	int64_t t;
	size_t len = 0;

	if (!s || !out)
		return -1;
	while (len < 256 && s[len])
		len++;
	if (len == 256)
		return -1;
	if (timeparse_pmta(s, len, &t) == 0) {
		*out = t;
		return 0;
	}
	tp_trim(&c, s, len);
	if (tp_date(&c, &t)) {
		*out = t;
		return 0;
	}
	if (tp_duration(&c, &t)) {
		*out = now - t;
		return 0;
	}
	return -1;
}

const char *timeparse_ms_text(int64_t ms, char *buf, size_t len)
{
	if (ms % 1000)
		snprintf(buf, len, "%lld ms", (long long)ms);
	else
		snprintf(buf, len, "%lld s", (long long)(ms / 1000));
	return buf;
}

/* timeparse_env_ms - milliseconds from the environment, else DEF_MS */
int64_t timeparse_env_ms(const char *name, int64_t def_ms)
{
	const char *v = getenv(name);
	char *end;
	long ms;

	if (!v || !*v)
		return def_ms;
	errno = 0;
	ms = strtol(v, &end, 10);
	if (errno || *end || ms < 1 || ms > 3600000)
		return def_ms;
	return ms;
}
