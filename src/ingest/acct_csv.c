/*
 * acct_csv.c - streaming RFC 4180 reader for PowerMTA accounting files.
 *
 * Bytes are appended to one growing buffer; records are cut out of it in
 * place (fields are unquoted over their own bytes and NUL-terminated where
 * their delimiter or closing quote was), so a record costs no allocation.
 * The buffer is compacted when a feed would not fit, so it stays near the
 * record limit plus the chunk size.
 *
 * Two paths find a record: the fast one, for a record at the start of its
 * scan whose line break is in the buffer (within 8 KiB) and whose quoted
 * fields (if any) close before it, finds the line break with memchr and
 * reads the line once, 16 bytes at a time, for its commas, quotes and NUL
 * bytes (one bit each), then cuts the fields by those bits; every other
 * record (a quoted field holding a line break, a record fed in pieces, a
 * longer line) goes through a small state machine that remembers where
 * it stopped, so a record fed one byte at a time is still scanned once.
 * Both give the same result for the same bytes, whatever the chunking
 * (the fuzz target checks it).
 *
 * Line ends are LF or CRLF, or CR alone in a source that has no LF at all
 * (classic Mac OS line ends, some converters).  The first bytes of the
 * source decide, as many as one record and its CRLF may hold: with an
 * LF among them the line ends are LF; else, with a CR, they are CR, and
 * every CR of the source is read as LF (same length, so offsets stay
 * exact; a CRLF would read as an empty line, skipped).  No record is
 * returned before this is known (an LF fed, the limit reached, or the end
 * of input).  A CR inside a line of an LF source stays data.
 *
 * Leniency: a quote inside an unquoted field is taken literally, bytes after
 * a closing quote are appended to the field.  Bad records (longer than the
 * limit, holding a NUL byte, too many fields, a quote still open at end of
 * input) are reported as CSV_BAD and skipped; reading goes on at the next
 * line.  A record too long is skipped up to its end, a line break outside
 * quotes (its quoted fields followed past the limit), without buffering
 * it.  Errors: only allocation failure (-ENOMEM).
 */
#include "acct_csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

enum csv_state {
	CS_FIELD = 0,	/* at the start of a field */
	CS_UNQUOTED,	/* in an unquoted field */
	CS_QUOTED,	/* inside quotes */
	CS_QUOTE,	/* just after a quote inside quotes: "" or the end */
	CS_JUNK,	/* after the closing quote, up to , or line break */
};

enum csv_scan {
	SCAN_DONE,	/* a whole record: r->rec_end, r->rec_term */
	SCAN_MORE,	/* need more bytes */
	SCAN_LONG,	/* no end within the limit */
	SCAN_OPEN,	/* end of input inside quotes */
};

struct csv_reader {
	char *buf;
	size_t cap;		/* allocated; always > len (room for a NUL) */
	size_t len;		/* bytes held */
	size_t pos;		/* first byte not consumed */
	uint64_t base;		/* source offset of buf[0] */
	uint64_t lines;		/* lines consumed before buf[pos] */
	uint64_t done;		/* offset after everything returned */
	size_t max_record;

	/* resumable scan of the record at pos; offsets relative to pos */
	size_t scan;		/* next byte to examine */
	size_t fstart;		/* start of the current field */
	enum csv_state state;
	size_t nf;		/* fields seen (may exceed CSV_MAX_FIELDS) */
	bool quoted;		/* some field was quoted */
	size_t rec_end;		/* SCAN_DONE: index of the LF (or of the end) */
	bool rec_term;		/* SCAN_DONE: ended by LF, not end of input */

	/* line ends: EOL_UNKNOWN until the source shows which */
	enum { EOL_UNKNOWN, EOL_LF, EOL_CR } eol;
	bool cr_seen;		/* EOL_UNKNOWN: a CR was fed */
	size_t eol_seen;	/* EOL_UNKNOWN: bytes fed */

	/* a last record without its line break is left unread (the input
	   may still be written), not returned */
	bool cut;

	/* skipping a record longer than the limit */
	bool skipping;
	bool skip_nl;		/* the last byte it dropped was a line break */
	uint64_t bad_line;

	const char *err;
	size_t fbeg[CSV_MAX_FIELDS];
	size_t fend[CSV_MAX_FIELDS];
	const char *fptr[CSV_MAX_FIELDS];
	size_t flen[CSV_MAX_FIELDS];
};

/* bytes that end an unquoted field */
static const bool csv_special[256] = {
	[(unsigned char)','] = true,
	[(unsigned char)'\n'] = true,
};

static const char CSV_ERR_LONG[] = "record longer than the limit";
static const char CSV_ERR_LONG_OPEN[] = "record longer than the limit, "
	"with a quoted field still open at end of input (the lines after it "
	"are the field's)";
static const char CSV_ERR_NUL[] = "NUL byte in record";
static const char CSV_ERR_FIELDS[] = "more than 512 fields in record";
static const char CSV_ERR_OPEN[] = "quoted field still open at end of input";
static const char CSV_ERR_CUT[] = "the input ends inside this line (no line "
				  "end): not taken; a file still written "
				  "gives it whole to the next run";

/* csv_reader_new - allocate a reader; the buffer comes with the first feed */
struct csv_reader *csv_reader_new(uint64_t start_offset, uint64_t start_line,
				  size_t max_record)
{
	struct csv_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (max_record == 0)
		max_record = CSV_MAX_RECORD_DEFAULT;
	if (max_record > SIZE_MAX / 4)
		max_record = SIZE_MAX / 4;
	r->max_record = max_record;
	r->base = start_offset;
	r->done = start_offset;
	r->lines = start_line;
	r->state = CS_FIELD;
	return r;
}

void csv_reader_free(struct csv_reader *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r);
}

/* csv_count_lf - number of LF bytes in P[0..N) */
static uint64_t csv_count_lf(const char *p, size_t n)
{
	uint64_t c = 0;
	const char *end = p + n;

	while (p < end) {
		const char *q = memchr(p, '\n', (size_t)(end - p));

		if (!q)
			break;
		c++;
		p = q + 1;
	}
	return c;
}

/* csv_drop_all - forget every byte held (they were consumed) */
static void csv_drop_all(struct csv_reader *r)
{
	r->base += r->len;
	r->len = 0;
	r->pos = 0;
}

/* csv_eol_decide - the source's line ends are known now: LF, or CR (every
   CR held is then an LF) */
static void csv_eol_decide(struct csv_reader *r, bool cr)
{
	char *p, *end;

	r->eol = cr ? EOL_CR : EOL_LF;
	if (!cr)
		return;
	for (p = r->buf + r->pos, end = r->buf + r->len;
	     p < end && (p = memchr(p, '\r', (size_t)(end - p))) != NULL;)
		*p++ = '\n';
}

/* csv_eol_fed - LEN bytes at AT were fed: a CR source's CRs become LFs;
   while undecided, the first max_record + 2 bytes of the source (a
   longest record and its CRLF) decide (an LF among them: LF; else a CR:
   CR), whatever the chunking */
static void csv_eol_fed(struct csv_reader *r, size_t at, size_t len)
{
	char *p = r->buf + at, *end = p + len;
	size_t window = r->max_record + 2, n;

	if (r->eol == EOL_CR) {
		while (p < end &&
		       (p = memchr(p, '\r', (size_t)(end - p))) != NULL)
			*p++ = '\n';
		return;
	}
	if (r->eol == EOL_LF)
		return;
	n = window - r->eol_seen < len ? window - r->eol_seen : len;
	if (memchr(p, '\n', n)) {
		r->eol = EOL_LF;
		return;
	}
	if (memchr(p, '\r', n))
		r->cr_seen = true;
	r->eol_seen += n;
	if (r->eol_seen >= window)
		csv_eol_decide(r, r->cr_seen);
}

int csv_reader_room(struct csv_reader *r, size_t len, char **buf)
{
	size_t keep, need, ncap;
	char *nb;

	*buf = NULL;
	if (r->pos == r->len)
		csv_drop_all(r);
	keep = r->len - r->pos;
	if (len > SIZE_MAX / 2 - keep)
		return -ENOMEM;
	need = keep + len + 1;
	if (r->len + len + 1 > r->cap && r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, keep);
		r->base += r->pos;
		r->len = keep;
		r->pos = 0;
	}
	if (need > r->cap) {
		ncap = r->cap ? r->cap : 64 * 1024;
		while (ncap < need)
			ncap *= 2;
		nb = realloc(r->buf, ncap);
		if (!nb)
			return -ENOMEM;
		r->buf = nb;
		r->cap = ncap;
	}
	*buf = r->buf + r->len;
	return 0;
}

void csv_reader_fed(struct csv_reader *r, size_t len)
{
	size_t at = r->len;

	if (len == 0)
		return;
	r->len += len;
	csv_eol_fed(r, at, len);
}

/* csv_reader_feed - append LEN bytes, compacting or growing the buffer */
int csv_reader_feed(struct csv_reader *r, const char *buf, size_t len)
{
	char *p;
	int rc;

	if (len == 0)
		return 0;
	rc = csv_reader_room(r, len, &p);
	if (rc)
		return rc;
	memcpy(p, buf, len);
	csv_reader_fed(r, len);
	return 0;
}

/* csv_scan_reset - ready to scan a new record at pos */
static void csv_scan_reset(struct csv_reader *r)
{
	r->scan = 0;
	r->fstart = 0;
	r->state = CS_FIELD;
	r->nf = 0;
	r->quoted = false;
}

/* csv_field_end - the current field (started at fstart) ends at END */
static void csv_field_end(struct csv_reader *r, const char *p, size_t end,
			  bool last)
{
	/* a CR just before the line break belongs to the line break */
	if (last && (r->state == CS_UNQUOTED || r->state == CS_JUNK) &&
	    end > r->fstart && p[end - 1] == '\r')
		end--;
	if (r->nf < CSV_MAX_FIELDS) {
		r->fbeg[r->nf] = r->fstart;
		r->fend[r->nf] = end;
	}
	r->nf++;
}

/* csv_quoted_step - one step inside a quoted field (CS_QUOTED: on to its
   next quote; CS_QUOTE: the quote before P[I] doubled, or the field's
   end), I < END; where scanning goes on */
static size_t csv_quoted_step(struct csv_reader *r, const char *p, size_t i,
			      size_t end)
{
	const char *q;

	if (r->state == CS_QUOTE) {
		if (p[i] == '"') {
			r->state = CS_QUOTED;
			return i + 1;
		}
		r->state = CS_JUNK;	/* examine p[i] there */
		return i;
	}
	q = memchr(p + i, '"', end - i);
	if (!q)
		return end;
	r->state = CS_QUOTE;
	return (size_t)(q - p) + 1;
}

/*
 * csv_scan - go on scanning the record at pos from where the last call
 * stopped; never looks at more than max_record + 1 bytes of it.
 */
static enum csv_scan csv_scan(struct csv_reader *r, bool eof)
{
	const char *p = r->buf + r->pos;
	size_t n = r->len - r->pos;
	size_t lim = r->max_record + 1;
	size_t end = n < lim ? n : lim;
	size_t i = r->scan;

	while (i < end) {
		switch (r->state) {
		case CS_FIELD:
			r->fstart = i;
			if (p[i] == '"') {
				r->state = CS_QUOTED;
				r->quoted = true;
				i++;
				break;
			}
			r->state = CS_UNQUOTED;
			/* fall through */
		case CS_UNQUOTED:
		case CS_JUNK:
			while (i < end && !csv_special[(unsigned char)p[i]])
				i++;
			if (i == end)
				break;
			if (p[i] == ',') {
				csv_field_end(r, p, i, false);
				r->state = CS_FIELD;
				i++;
				break;
			}
			csv_field_end(r, p, i, true);
			r->rec_end = i;
			r->rec_term = true;
			return SCAN_DONE;
		case CS_QUOTED:
		case CS_QUOTE:
			i = csv_quoted_step(r, p, i, end);
			break;
		}
	}
	r->scan = i;
	if (n >= lim)
		return SCAN_LONG;
	if (!eof)
		return SCAN_MORE;
	if (r->state == CS_QUOTED)
		return SCAN_OPEN;
	if (r->state == CS_FIELD)
		r->fstart = n;
	csv_field_end(r, p, n, true);
	r->rec_end = n;
	r->rec_term = false;
	return SCAN_DONE;
}

/* csv_unquote - turn the quoted field P[S..E) into its value, in place */
static size_t csv_unquote(char *p, size_t s, size_t e)
{
	char *w = p + s;
	const char *rd = p + s + 1;
	const char *lim = p + e;
	const char *q;
	size_t k;

	for (;;) {
		q = memchr(rd, '"', (size_t)(lim - rd));
		if (!q) {		/* cannot happen for a scanned field */
			q = lim;
			k = (size_t)(q - rd);
			memmove(w, rd, k);
			w += k;
			rd = lim;
			break;
		}
		k = (size_t)(q - rd);
		memmove(w, rd, k);
		w += k;
		if (q + 1 < lim && q[1] == '"') {
			*w++ = '"';
			rd = q + 2;
			continue;
		}
		rd = q + 1;
		break;
	}
	k = (size_t)(lim - rd);		/* bytes after the closing quote */
	memmove(w, rd, k);
	w += k;
	*w = '\0';
	return (size_t)(w - (p + s));
}

/* csv_consume - move past LEN bytes that end NLINES lines */
static void csv_consume(struct csv_reader *r, size_t len, uint64_t nlines)
{
	r->pos += len;
	r->lines += nlines;
}

/* csv_bad - fill ROW for a skipped record that started on line LINE */
static enum csv_result csv_bad(struct csv_reader *r, struct csv_row *row,
			       uint64_t line, const char *why)
{
	r->err = why;
	r->done = r->base + r->pos;
	row->nfields = 0;
	row->fields = r->fptr;
	row->lens = r->flen;
	row->line = line;
	row->end_line = r->lines;
	row->end_offset = r->done;
	return CSV_BAD;
}

/* csv_blank_tail - what is left of the input is no record (CRs only) */
static bool csv_blank_tail(const struct csv_reader *r)
{
	size_t i;

	for (i = r->pos; i < r->len; i++)
		if (r->buf[i] != '\r')
			return false;
	return true;
}

/* csv_cut - the input ended inside its last record, which started on
   line LINE: bad, and left unread (the offset stays before it), so that
   an appended file gives it whole to the next reading instead of a cut
   address now and the whole one again then */
static enum csv_result csv_cut(struct csv_reader *r, struct csv_row *row,
			       uint64_t line)
{
	enum csv_result res = csv_bad(r, row, line, CSV_ERR_CUT);

	csv_scan_reset(r);
	csv_drop_all(r);	/* the offset (r->done) stays */
	return res;
}

/* csv_row_out - fill ROW for the record just consumed */
static enum csv_result csv_row_out(struct csv_reader *r, struct csv_row *row,
				   uint64_t line, size_t nf)
{
	r->done = r->base + r->pos;
	row->nfields = nf;
	row->fields = r->fptr;
	row->lens = r->flen;
	row->line = line;
	row->end_line = r->lines;
	row->end_offset = r->done;
	return CSV_ROW;
}

/*
 * The fast path reads a line once to know where its commas and quotes are
 * (one bit each) and whether it holds a NUL byte, then cuts its fields by
 * those bits: no call per field, and a quoted field without a doubled
 * quote or bytes after its closing quote is its bytes between the quotes,
 * cut at the closing one (nothing moved).  Lines longer than CSV_BITS_MAX
 * go to the scanner, which gives the same result.
 */
#define CSV_BITS_MAX 8192
#define CSV_BITS_WORDS (CSV_BITS_MAX / 64)

struct csv_bits {
	uint64_t comma[CSV_BITS_WORDS];
	uint64_t quote[CSV_BITS_WORDS];
	size_t words;		/* words in use: (L + 63) / 64 */
	bool nul;		/* the line holds a NUL byte */
	bool quoted;		/* the line holds a quote */
};

#if defined(__SSE2__)
/* csv_bits16 - the comma and quote bits of the 16 bytes at P; their NUL
   bytes or'ed into *Z */
static inline void csv_bits16(const char *p, unsigned *c, unsigned *q,
			      __m128i *z)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);

	*c = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(',')));
	*q = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
	*z = _mm_or_si128(*z, _mm_cmpeq_epi8(v, _mm_setzero_si128()));
}

/* csv_bits64 - the comma and quote bits of the 64 bytes at P */
static inline void csv_bits64(const char *p, uint64_t *cw, uint64_t *qw,
			      __m128i *z)
{
	unsigned c0, q0, c1, q1, c2, q2, c3, q3;

	csv_bits16(p, &c0, &q0, z);
	csv_bits16(p + 16, &c1, &q1, z);
	csv_bits16(p + 32, &c2, &q2, z);
	csv_bits16(p + 48, &c3, &q3, z);
	*cw = (uint64_t)c0 | (uint64_t)c1 << 16 | (uint64_t)c2 << 32 |
	      (uint64_t)c3 << 48;
	*qw = (uint64_t)q0 | (uint64_t)q1 << 16 | (uint64_t)q2 << 32 |
	      (uint64_t)q3 << 48;
}
#endif

/* csv_bits_bytes - the comma and quote bits of the bytes J to N of the
   word at P, a byte at a time, into *CW and *QW; a NUL among them sets
   *NUL */
static inline void csv_bits_bytes(const char *p, size_t j, size_t n,
				  uint64_t *cw, uint64_t *qw, bool *nul)
{
	for (; j < n; j++) {
		*cw |= (uint64_t)(p[j] == ',') << j;
		*qw |= (uint64_t)(p[j] == '"') << j;
		*nul |= p[j] == '\0';
	}
}

/* csv_bits_make - B for the line P[0..L), L <= CSV_BITS_MAX; bits past L
   are zero */
static void csv_bits_make(const char *p, size_t L, struct csv_bits *b)
{
	size_t i = 0, k = 0;
	uint64_t anyq = 0;
	bool nul = false;

	b->words = (L + 63) / 64;
#if defined(__SSE2__)
	{
		__m128i z = _mm_setzero_si128();
		unsigned c, q;

		for (; i + 64 <= L; i += 64, k++) {
			csv_bits64(p + i, &b->comma[k], &b->quote[k], &z);
			anyq |= b->quote[k];
		}
		if (i < L) {
			uint64_t cw = 0, qw = 0;
			size_t j = 0, n = L - i;

			for (; j + 16 <= n; j += 16) {
				csv_bits16(p + i + j, &c, &q, &z);
				cw |= (uint64_t)c << j;
				qw |= (uint64_t)q << j;
			}
			if (j < n && L >= 16) {
				/* the last bytes: the 16 that end the line,
				   the bits of those already counted shifted
				   out (their NUL bytes were counted: the
				   same answer) */
				unsigned sh = (unsigned)(16 - (n - j));

				csv_bits16(p + L - 16, &c, &q, &z);
				cw |= (uint64_t)(c >> sh) << j;
				qw |= (uint64_t)(q >> sh) << j;
				j = n;
			}
			csv_bits_bytes(p + i, j, n, &cw, &qw, &nul);
			b->comma[k] = cw;
			b->quote[k] = qw;
			anyq |= qw;
		}
		nul |= _mm_movemask_epi8(z) != 0;
	}
#else
	for (k = 0; k < b->words; k++) {
		uint64_t cw = 0, qw = 0;
		size_t n = L - i < 64 ? L - i : 64;

		csv_bits_bytes(p + i, 0, n, &cw, &qw, &nul);
		b->comma[k] = cw;
		b->quote[k] = qw;
		anyq |= qw;
		i += n;
	}
#endif
	b->nul = nul;
	b->quoted = anyq != 0;
}

/* csv_bit_next - the first set bit of M (WORDS words) at FROM or after,
   or SIZE_MAX */
static inline size_t csv_bit_next(const uint64_t *m, size_t words,
				  size_t from)
{
	size_t k = from / 64;
	uint64_t w;

	if (k >= words)
		return SIZE_MAX;
	w = m[k] & (~(uint64_t)0 << (from % 64));
	while (!w) {
		if (++k >= words)
			return SIZE_MAX;
		w = m[k];
	}
	return k * 64 + (size_t)__builtin_ctzll(w);
}

/* the commas of a line taken in order: word K, its bits not taken yet */
struct csv_cursor {
	const uint64_t *m;
	size_t words, k;
	uint64_t w;
};

/* csv_comma_next - the next comma not taken, taken, or SIZE_MAX */
static inline size_t csv_comma_next(struct csv_cursor *c)
{
	size_t k;

	while (!c->w) {
		if (++c->k >= c->words)
			return SIZE_MAX;
		c->w = c->m[c->k];
	}
	k = c->k * 64 + (size_t)__builtin_ctzll(c->w);
	c->w &= c->w - 1;
	return k;
}

/* csv_comma_from - the first comma at FROM or after, taken (C's commas
   before FROM were taken already or are skipped; FROM is never in a word
   before C's), or SIZE_MAX */
static inline size_t csv_comma_from(struct csv_cursor *c, size_t from)
{
	size_t k = from / 64;

	if (k != c->k) {
		if (k >= c->words)
			return SIZE_MAX;
		c->k = k;
		c->w = c->m[k];
	}
	c->w &= ~(uint64_t)0 << (from % 64);
	return csv_comma_next(c);
}

/* csv_split - the fields of the record P[0..E), which holds no quote, cut
   at its commas (B) into fptr/flen; their count, CSV_MAX_FIELDS + 1 when
   there are more (then the row is bad and only the first were kept) */
static size_t csv_split(struct csv_reader *r, char *p, size_t e,
			const struct csv_bits *b)
{
	size_t s = 0, nf = 0, k;

	for (k = 0; k < b->words; k++) {
		uint64_t w = b->comma[k];

		while (w) {
			size_t c = k * 64 + (size_t)__builtin_ctzll(w);

			w &= w - 1;
			if (nf == CSV_MAX_FIELDS)
				return nf + 1;
			r->fptr[nf] = p + s;
			r->flen[nf++] = c - s;
			p[c] = '\0';
			s = c + 1;
		}
	}
	if (nf == CSV_MAX_FIELDS)
		return nf + 1;
	r->fptr[nf] = p + s;
	r->flen[nf++] = e - s;
	p[e] = '\0';
	return nf;
}

/* how csv_fast_quoted cut a field (in fbeg while it cuts) */
enum { CUT_COMMA, CUT_QUOTE, CUT_LATER };

/* csv_quoted_undo - put back what csv_fast_quoted cut of its first N
   fields (a quoted field going on past the line was met after them) */
static void csv_quoted_undo(struct csv_reader *r, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (r->fbeg[k] != CUT_LATER)
			((char *)r->fptr[k])[r->flen[k]] =
				r->fbeg[k] == CUT_QUOTE ? '"' : ',';
}

/*
 * csv_fast_quoted - csv_fast for a record holding quotes, at P, whose line
 * break is at L (B: its bits): every quoted field must close before the
 * line break, else -1 (not for this path: nothing is left changed).
 * Fields end where the scanner would end them: a quoted field at its
 * closing quote and whatever follows up to a comma, an unquoted one at a
 * comma; a CR before the line break belongs to it.  1 row/bad in *RES.
 * Fields are cut as they are found (fbeg says how); one with a doubled
 * quote or bytes after its closing quote is unquoted once the line is
 * known whole (its end in flen until then).
 */
static int csv_fast_quoted(struct csv_reader *r, struct csv_row *row,
			   enum csv_result *res, char *p, size_t L,
			   const struct csv_bits *b)
{
	uint64_t line = r->lines + 1;
	size_t s = 0, nf = 0, fe, k, from, q = 0, c;
	bool cut = !b->nul, later = false;
	/* every comma before a field's start was taken with the field
	   before it: an unquoted field's end is the next one */
	struct csv_cursor cc = { b->comma, b->words, 0, b->comma[0] };

	for (;;) {
		bool quoted = p[s] == '"', plain = true;

		if (quoted) {
			for (from = s + 1;; from = q + 2) {
				q = csv_bit_next(b->quote, b->words, from);
				if (q == SIZE_MAX) {
					if (cut)
						csv_quoted_undo(r, nf < CSV_MAX_FIELDS ?
							nf : CSV_MAX_FIELDS);
					return -1;	/* goes on past the line */
				}
				if (q + 1 >= L || p[q + 1] != '"')
					break;		/* the closing quote */
				plain = false;
			}
			c = csv_comma_from(&cc, q + 1);
		} else {
			c = csv_comma_next(&cc);
		}
		fe = c != SIZE_MAX ? c : L;
		if (c == SIZE_MAX && fe > s && p[fe - 1] == '\r')
			fe--;
		if (cut && nf < CSV_MAX_FIELDS) {
			if (!quoted) {
				r->fptr[nf] = p + s;
				r->flen[nf] = fe - s;
				r->fbeg[nf] = CUT_COMMA;
				p[fe] = '\0';
			} else if (plain && q + 1 == fe) {
				r->fptr[nf] = p + s + 1;
				r->flen[nf] = q - s - 1;
				r->fbeg[nf] = CUT_QUOTE;
				p[q] = '\0';
			} else {
				/* a doubled quote, or bytes after the
				   closing one: unquoted once the line is
				   known whole */
				r->fptr[nf] = p + s;
				r->flen[nf] = fe;
				r->fbeg[nf] = CUT_LATER;
				later = true;
			}
		}
		nf++;
		if (c == SIZE_MAX)
			break;
		s = fe + 1;
	}
	csv_consume(r, L + 1, 1);
	if (b->nul) {
		*res = csv_bad(r, row, line, CSV_ERR_NUL);
		return 1;
	}
	if (nf > CSV_MAX_FIELDS) {
		*res = csv_bad(r, row, line, CSV_ERR_FIELDS);
		return 1;
	}
	for (k = 0; later && k < nf; k++)
		if (r->fbeg[k] == CUT_LATER) {
			s = (size_t)(r->fptr[k] - p);
			r->flen[k] = csv_unquote(p, s, r->flen[k]);
		}
	*res = csv_row_out(r, row, line, nf);
	return 1;
}

/*
 * csv_fast - the record at pos when its line break is buffered within the
 * limit and no quoted field of it goes on past that line break: 1
 * row/bad, 0 blank line skipped, -1 not for this path.
 */
static int csv_fast(struct csv_reader *r, struct csv_row *row,
		    enum csv_result *res)
{
	char *p = r->buf + r->pos;
	size_t n = r->len - r->pos;
	size_t lim = r->max_record + 1;
	const char *nl = memchr(p, '\n', n < lim ? n : lim);
	struct csv_bits b;
	size_t L, e, nf;
	uint64_t line = r->lines + 1;

	if (!nl)
		return -1;
	L = (size_t)(nl - p);
	if (L > CSV_BITS_MAX)
		return -1;
	csv_bits_make(p, L, &b);
	if (b.quoted)
		return csv_fast_quoted(r, row, res, p, L, &b);
	e = L;
	if (e > 0 && p[e - 1] == '\r')
		e--;
	csv_consume(r, L + 1, 1);
	if (e == 0) {
		r->done = r->base + r->pos;
		return 0;
	}
	if (b.nul) {
		*res = csv_bad(r, row, line, CSV_ERR_NUL);
		return 1;
	}
	nf = csv_split(r, p, e, &b);
	if (nf > CSV_MAX_FIELDS) {
		*res = csv_bad(r, row, line, CSV_ERR_FIELDS);
		return 1;
	}
	*res = csv_row_out(r, row, line, nf);
	return 1;
}

/* csv_finish - a scanned record: 1 row/bad in *RES, 0 blank line skipped */
static int csv_finish(struct csv_reader *r, struct csv_row *row,
		      enum csv_result *res)
{
	char *p = r->buf + r->pos;
	size_t end = r->rec_end, nf = r->nf, k;
	uint64_t line = r->lines + 1;
	uint64_t nl = 1;
	bool quoted = r->quoted;

	if (quoted)
		nl += csv_count_lf(p, end);
	csv_consume(r, end + (r->rec_term ? 1 : 0), nl);
	csv_scan_reset(r);
	if (nf == 1 && r->fend[0] == r->fbeg[0]) {
		r->done = r->base + r->pos;
		return 0;
	}
	if (memchr(p, '\0', end)) {
		*res = csv_bad(r, row, line, CSV_ERR_NUL);
		return 1;
	}
	if (nf > CSV_MAX_FIELDS) {
		*res = csv_bad(r, row, line, CSV_ERR_FIELDS);
		return 1;
	}
	for (k = 0; k < nf; k++) {
		size_t s = r->fbeg[k], e = r->fend[k];

		r->fptr[k] = p + s;
		if (quoted && e > s && p[s] == '"') {
			r->flen[k] = csv_unquote(p, s, e);
		} else {
			p[e] = '\0';
			r->flen[k] = e - s;
		}
	}
	*res = csv_row_out(r, row, line, nf);
	return 1;
}

/* csv_skip_end - where the over-long record being skipped ends in
   P[0..N): just past the line break that ends it, or 0 when it goes on
   past N.  The scanner's state at the limit goes on here: a line break
   inside a quoted field is the field's, not the record's end, so that
   the rest of the field is never read as records of its own (a field
   may hold text from the internet, written to look like one) */
static size_t csv_skip_end(struct csv_reader *r, const char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		switch (r->state) {
		case CS_FIELD:
			if (p[i] == '"') {
				r->state = CS_QUOTED;
				i++;
				break;
			}
			r->state = CS_UNQUOTED;
			/* fall through */
		case CS_UNQUOTED:
		case CS_JUNK:
			while (i < n && p[i] != ',' && p[i] != '\n')
				i++;
			if (i == n)
				break;
			if (p[i] == '\n')
				return i + 1;
			r->state = CS_FIELD;
			i++;
			break;
		case CS_QUOTED:
		case CS_QUOTE:
			i = csv_quoted_step(r, p, i, n);
			break;
		}
	}
	return 0;
}

/* csv_skip - go on skipping an over-long record up to its end (a line
   break outside quotes); nothing of it is kept */
static enum csv_result csv_skip(struct csv_reader *r, struct csv_row *row,
				bool eof)
{
	const char *p = r->buf + r->pos;
	size_t n = r->len - r->pos;
	size_t end = csv_skip_end(r, p, n);

	if (end) {
		csv_consume(r, end, csv_count_lf(p, end));
	} else {
		r->lines += csv_count_lf(p, n);
		if (n > 0)
			r->skip_nl = p[n - 1] == '\n';
		csv_drop_all(r);
		if (!eof)
			return CSV_NEED_MORE;
		if (!r->skip_nl)
			r->lines++;	/* the last line, without its end */
		if (r->state == CS_QUOTED) {
			r->skipping = false;
			csv_scan_reset(r);
			return csv_bad(r, row, r->bad_line, CSV_ERR_LONG_OPEN);
		}
	}
	r->skipping = false;
	csv_scan_reset(r);
	return csv_bad(r, row, r->bad_line, CSV_ERR_LONG);
}

/* csv_reader_next - the next record, bad record, or what is missing */
enum csv_result csv_reader_next(struct csv_reader *r, struct csv_row *row,
				bool eof)
{
	enum csv_result res = CSV_NEED_MORE;
	size_t n;
	const char *q;
	uint64_t line;

	if (r->eol == EOL_UNKNOWN) {
		if (!eof)
			return CSV_NEED_MORE;	/* no LF yet, within the limit */
		csv_eol_decide(r, r->cr_seen);
	}
	for (;;) {
		if (r->skipping)
			return csv_skip(r, row, eof);
		if (r->pos == r->len)
			return eof ? CSV_END : CSV_NEED_MORE;
		if (r->scan == 0 && r->state == CS_FIELD) {
			int rc = csv_fast(r, row, &res);

			if (rc > 0)
				return res;
			if (rc == 0)
				continue;
		}
		switch (csv_scan(r, eof)) {
		case SCAN_DONE:
			/* one field alone is no accounting record cut
			   short (a list's last address is; a record's first
			   field alone makes no event) */
			if (r->cut && !r->rec_term && r->nf > 1 &&
			    !csv_blank_tail(r))
				return csv_cut(r, row, r->lines + 1);
			if (csv_finish(r, row, &res) > 0)
				return res;
			continue;
		case SCAN_MORE:
			return CSV_NEED_MORE;
		case SCAN_LONG:
			/* count the lines already passed, then skip from
			   just past the limit to the next line break */
			r->bad_line = r->lines + 1;
			n = r->max_record + 1;
			r->lines += csv_count_lf(r->buf + r->pos, n);
			r->pos += n;
			r->skip_nl = r->buf[r->pos - 1] == '\n';
			{
				/* the quotes' state goes on in the skip */
				enum csv_state st = r->state;

				csv_scan_reset(r);
				r->state = st;
			}
			r->skipping = true;
			continue;
		case SCAN_OPEN:
			/* skip the record's first line, go on at the next */
			line = r->lines + 1;
			n = r->len - r->pos;
			q = memchr(r->buf + r->pos, '\n', n);
			csv_consume(r, q ? (size_t)(q - (r->buf + r->pos)) + 1
					 : n, 1);
			csv_scan_reset(r);
			return csv_bad(r, row, line, CSV_ERR_OPEN);
		}
	}
}

const char *csv_reader_error(const struct csv_reader *r)
{
	return r->err ? r->err : "no error";
}

void csv_reader_set_cut(struct csv_reader *r, bool cut)
{
	r->cut = cut;
}

bool csv_reader_cut(const struct csv_reader *r)
{
	return r->err == CSV_ERR_CUT;
}

uint64_t csv_reader_offset(const struct csv_reader *r)
{
	return r->done;
}
