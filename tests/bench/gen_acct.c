/*
 * gen_acct.c - write a large, realistic PowerMTA accounting file to stdout
 * for the ingest benchmark and the crash test.
 *
 *   gen_acct [--mix | --bounces] N_RECORDS N_ADDRESSES [SEED]
 *
 * One header line with the union of the columns of b, rb, f, d, t and rs
 * records, then N_RECORDS records whose times rise over 30 days from
 * 2026-11-01.  The default shape is a bounce log's: about 45 % soft
 * bounces (soft categories, message-expired and no-answer-from-host), 25 %
 * hard bounces, 20 % deliveries, 5 % feedback-loop reports (mostly abuse,
 * some not-spam) and 5 % t / rs records that bounced skips.
 *
 * --mix writes what a sending host's whole accounting log looks like:
 * 95 % deliveries, 4 % bounces (b, two thirds soft, a quarter of them
 * sender-side policy and spam refusals) and 1 % feedback reports, sent
 * from 16 source IPs on 8 VirtualMTAs (each with its dlvSourceIp, vmta
 * and jobId; 12 campaigns a day) to the destinations below.  --bounces
 * writes b records only (the soft and hard mix of the default shape, none
 * remote).  Diagnostics
 * carry commas and doubled quotes, so they are quoted as RFC 4180 says.
 * Recipients are drawn from N_ADDRESSES addresses with a skewed
 * distribution (a few addresses get many records, most get a few).
 *
 * The output depends only on the arguments (own xorshift PRNG, no clock),
 * so the same command always writes the same bytes.  Lines are built in a
 * large buffer without printf.  Errors: bad arguments exit 64, a write
 * error (full disk, closed pipe) exits 74 with a message on stderr.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEN_BUF_SIZE (1u << 20)
#define GEN_LINE_MAX 2048
#define GEN_START 1793491200LL		/* 2026-11-01 00:00:00 UTC */
#define GEN_SPAN (30LL * 86400)

static const char header[] =
	"type,timeLogged,timeQueued,orig,rcpt,orcpt,dsnAction,dsnStatus,"
	"dsnDiag,dsnMta,bounceCat,srcType,srcMta,dlvSourceIp,vmta,jobId,"
	"envId,dsnReportingMta,format,feedbackType,userAgent,reportingMta,"
	"header_From,header_X-job\r\n";

/* a bounce: category, DSN status, diagnostic (already a CSV field),
   remote MTA */
struct gen_bounce {
	const char *cat;
	const char *status;
	const char *diag;
	const char *mta;
};

static const struct gen_bounce soft_bounces[] = {
	{ "quota-issues", "5.2.2",
	  "\"smtp;552 5.2.2 Mailbox full, quota exceeded, try again later\"",
	  "mx1.example.net (198.51.100.30)" },
	{ "quota-issues", "4.2.2",
	  "\"smtp;452 4.2.2 The email account that you tried to reach is over "
	  "quota, please direct the recipient to \"\"https://support.example.com/"
	  "quota\"\"\"",
	  "gmail-smtp-in.l.google.com (142.250.27.26)" },
	{ "spam-related", "5.7.1",
	  "\"smtp;550-5.7.1 [192.0.2.21] Our system has detected that this "
	  "message is likely unsolicited mail, \"\"spam\"\" blocked, gsmtp\"",
	  "gmail-smtp-in.l.google.com (142.250.27.26)" },
	{ "policy-related", "5.7.1",
	  "\"smtp;550 5.7.1 Message rejected due to local policy, see "
	  "\"\"https://postmaster.example.org/\"\"\"",
	  "mx.example.org (198.51.100.41)" },
	{ "bad-connection", "4.4.1",
	  "\"smtp;421 4.4.1 Connection timed out, try again later\"",
	  "mx.example.com (198.51.100.25)" },
	{ "content-related", "5.6.0",
	  "\"smtp;554 5.6.0 Message content rejected, \"\"body\"\" looks "
	  "suspicious\"",
	  "mx.example.com (198.51.100.25)" },
	{ "message-expired", "4.4.7",
	  "\"smtp;451 4.4.7 Delivery time expired, no answer from host\"",
	  "mta5.am0.yahoodns.net (67.195.204.72)" },
	{ "no-answer-from-host", "4.4.1",
	  "\"smtp;421 4.4.1 Connection refused, host did not answer\"",
	  "hotmail-com.olc.protection.outlook.com (52.101.8.33)" },
	{ "other", "5.0.0",
	  "\"smtp;550 5.0.0 Rejected, try again later or contact "
	  "\"\"postmaster\"\"\"",
	  "mx.example.net (198.51.100.31)" },
	{ "bad-configuration", "5.3.0",
	  "\"smtp;554 5.3.0 Mail system configuration error, relay "
	  "denied\"",
	  "mail.example.org (198.51.100.52)" },
};

static const struct gen_bounce hard_bounces[] = {
	{ "bad-mailbox", "5.1.1",
	  "\"smtp;550 5.1.1 Recipient address rejected: User unknown in "
	  "virtual mailbox table, \"\"no such user\"\"\"",
	  "mx.example.com (198.51.100.25)" },
	{ "bad-mailbox", "5.1.1",
	  "\"smtp;550-5.1.1 The email account that you tried to reach does "
	  "not exist, please try double-checking the recipient's address\"",
	  "gmail-smtp-in.l.google.com (142.250.27.26)" },
	{ "bad-domain", "5.1.2",
	  "\"dns;Host or domain name not found, Name service error for "
	  "name=example-nosuch.org type=MX\"",
	  "" },
	{ "inactive-mailbox", "5.2.1",
	  "\"smtp;550 5.2.1 The email account that you tried to reach is "
	  "disabled, \"\"inactive\"\"\"",
	  "mta7.am0.yahoodns.net (67.195.204.72)" },
	{ "routing-errors", "5.4.4",
	  "\"smtp;554 5.4.4 Unable to route, no mail hosts for domain\"",
	  "" },
	{ "", "",
	  "\"smtp;550 5.1.1 <recipient>... User unknown, mailbox not found\"",
	  "mail.example.org (198.51.100.52)" },
};

static const char *const first_names[] = {
	"anna", "bob", "carla", "david", "emma", "felix", "greta", "hugo",
	"irene", "jonas", "karin", "lars", "maria", "noah", "olga", "paul",
	"rosa", "sven", "tina", "umar", "vera", "willem", "yuki", "zoe",
};

static const char *const last_names[] = {
	"andersen", "bianchi", "chen", "dupont", "eriksson", "ferrari",
	"garcia", "horvat", "ivanova", "jansen", "kowalski", "lindqvist",
	"moreau", "novak", "okafor", "petrova", "rossi", "schmidt",
	"tanaka", "weber",
};

/* recipient domains, the big providers more often */
static const char *const domains[] = {
	"gmail.com", "gmail.com", "gmail.com", "gmail.com", "yahoo.com",
	"yahoo.com", "outlook.com", "hotmail.com", "hotmail.com", "aol.com",
	"gmx.de", "web.de", "example.com", "example.net", "example.org",
	"mail.example-isp.net",
};

static const char *const vmtas[] = {
	"vmta-shop-1", "vmta-shop-2", "vmta-news-1", "vmta-news-2",
};

/* --mix: 8 VirtualMTAs, each sending from two of 16 source IPs */
static const char *const mix_vmtas[] = {
	"vmta-shop-1", "vmta-shop-2", "vmta-shop-3", "vmta-shop-4",
	"vmta-news-1", "vmta-news-2", "vmta-news-3", "vmta-news-4",
};

enum gen_shape {
	GEN_DEFAULT = 0,
	GEN_MIX,
	GEN_BOUNCES,
};

static const char *const origs[] = {
	"bounces@news.example-shop.com", "bounces@lists.example-news.org",
	"newsletter+bounce@mail.example.com",
};

struct gen_out {
	char *buf;
	size_t len;
	int failed;
};

struct gen_time_cache {
	int64_t day;		/* day number of DATE */
	char date[11];		/* "YYYY-MM-DD" */
};

/* gen_rand - xorshift64* step */
static uint64_t gen_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* gen_hash - a fixed mix of V (splitmix64 finaliser) */
static uint64_t gen_hash(uint64_t v)
{
	v += 0x9E3779B97F4A7C15ULL;
	v = (v ^ (v >> 30)) * 0xBF58476D1CE4E5B9ULL;
	v = (v ^ (v >> 27)) * 0x94D049BB133111EBULL;
	return v ^ (v >> 31);
}

/* gen_flush - write the buffer to stdout */
static void gen_flush(struct gen_out *o)
{
	if (o->len && !o->failed &&
	    fwrite(o->buf, 1, o->len, stdout) != o->len)
		o->failed = errno ? errno : EIO;
	o->len = 0;
}

static inline void gen_mem(struct gen_out *o, const char *s, size_t n)
{
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static inline void gen_str(struct gen_out *o, const char *s)
{
	gen_mem(o, s, strlen(s));
}

static inline void gen_chr(struct gen_out *o, char c)
{
	o->buf[o->len++] = c;
}

/* gen_u64 - V in decimal */
static void gen_u64(struct gen_out *o, uint64_t v)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		o->buf[o->len++] = tmp[--n];
}

/* gen_2d - V (0..99) as two digits into P */
static inline void gen_2d(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

/* gen_civil - day number since 1970-01-01 to Y-M-D (Hinnant's algorithm) */
static void gen_civil(int64_t z, int *y, unsigned *m, unsigned *d)
{
	int64_t era, yy;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yy + (*m <= 2));
}

/* gen_time - T as "YYYY-MM-DD HH:MM:SS+0000" */
static void gen_time(struct gen_out *o, struct gen_time_cache *c, int64_t t)
{
	int64_t day = t / 86400;
	unsigned sec = (unsigned)(t % 86400);
	char *p;

	if (day != c->day) {
		int y;
		unsigned m, d;

		gen_civil(day, &y, &m, &d);
		gen_2d(c->date, (unsigned)(y / 100));
		gen_2d(c->date + 2, (unsigned)(y % 100));
		c->date[4] = '-';
		gen_2d(c->date + 5, m);
		c->date[7] = '-';
		gen_2d(c->date + 8, d);
		c->day = day;
	}
	p = o->buf + o->len;
	memcpy(p, c->date, 10);
	p[10] = ' ';
	gen_2d(p + 11, sec / 3600);
	p[13] = ':';
	gen_2d(p + 14, sec / 60 % 60);
	p[16] = ':';
	gen_2d(p + 17, sec % 60);
	memcpy(p + 19, "+0000", 5);
	o->len += 24;
}

/* gen_addr - address number I: "first.last.I@domain", a few in other case
   or in angle brackets as some MTAs log them */
static void gen_addr(struct gen_out *o, uint64_t i, int decorate)
{
	uint64_t h = gen_hash(i);
	const char *fn = first_names[h % (sizeof(first_names) /
					  sizeof(first_names[0]))];
	const char *ln = last_names[(h >> 8) % (sizeof(last_names) /
						sizeof(last_names[0]))];
	const char *dom = domains[(h >> 16) % (sizeof(domains) /
					       sizeof(domains[0]))];
	unsigned style = (unsigned)((h >> 24) % 100);
	size_t start;

	if (decorate && style < 2)
		gen_chr(o, '<');
	start = o->len;
	gen_str(o, fn);
	gen_chr(o, style < 50 ? '.' : '_');
	gen_str(o, ln);
	gen_u64(o, i);
	gen_chr(o, '@');
	gen_str(o, dom);
	if (decorate && style >= 2 && style < 5) /* "Anna.Rossi12@Gmail.com" */
		o->buf[start] = (char)(o->buf[start] - 'a' + 'A');
	if (decorate && style < 2)
		gen_chr(o, '>');
}

/* gen_pick_addr - a recipient number in [0, n): skewed towards low
   numbers (density ~ 1/sqrt(x)), then scattered by a fixed permutation-like
   step so the hot addresses are spread over the key space */
static uint64_t gen_pick_addr(uint64_t *rng, uint64_t n)
{
	double u = (double)(gen_rand(rng) >> 11) * (1.0 / 9007199254740992.0);
	uint64_t k = (uint64_t)(u * u * (double)n);

	if (k >= n)
		k = n - 1;
	return (k * 2654435761ULL) % n;
}

/* gen_job - a MailWizz-style job id from the campaign number */
static void gen_job(struct gen_out *o, uint64_t campaign)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	uint64_t h = gen_hash(campaign + 77);
	int k;

	gen_str(o, "mailwizz-");
	for (k = 0; k < 13; k++) {
		gen_chr(o, alnum[h % 36]);
		h /= 36;
		if (h == 0)
			h = gen_hash(campaign + (uint64_t)k);
	}
}

struct gen_ctx {
	struct gen_out out;
	struct gen_time_cache tc;
	uint64_t rng;
	uint64_t n_addr;
	enum gen_shape shape;
};

/* gen_source - dlvSourceIp and vmta of a record of CAMPAIGN to ADDR: the
   default shape's four (by campaign), or with --mix one of 16 IPs (two
   per VirtualMTA; the campaign picks the VirtualMTA, the address one of
   its two IPs) */
static void gen_source(struct gen_ctx *g, uint64_t campaign, uint64_t addr)
{
	struct gen_out *o = &g->out;
	unsigned vm;

	if (g->shape != GEN_MIX) {
		vm = (unsigned)(campaign % (sizeof(vmtas) / sizeof(vmtas[0])));
		gen_str(o, "192.0.2.");
		gen_u64(o, 21 + vm);
		gen_chr(o, ',');
		gen_str(o, vmtas[vm]);
		return;
	}
	vm = (unsigned)(gen_hash(campaign) %
			(sizeof(mix_vmtas) / sizeof(mix_vmtas[0])));
	gen_str(o, "192.0.2.");
	gen_u64(o, 21 + 2 * vm + (gen_hash(addr + 5) & 1));
	gen_chr(o, ',');
	gen_str(o, mix_vmtas[vm]);
}

/* gen_common - type, times, orig, rcpt, orcpt (the first five columns) */
static void gen_common(struct gen_ctx *g, const char *type, int64_t t,
		       int64_t queued, uint64_t addr, uint64_t campaign)
{
	struct gen_out *o = &g->out;

	gen_str(o, type);
	gen_chr(o, ',');
	gen_time(o, &g->tc, t);
	gen_chr(o, ',');
	if (queued) {
		gen_time(o, &g->tc, queued);
	}
	gen_chr(o, ',');
	gen_str(o, origs[campaign % (sizeof(origs) / sizeof(origs[0]))]);
	gen_chr(o, ',');
	gen_addr(o, addr, 1);
	gen_chr(o, ',');
	if (queued) {
		gen_str(o, "rfc822;");
		gen_addr(o, addr, 0);
	}
	gen_chr(o, ',');
}

/* gen_bounce_rec - a b or rb record */
static void gen_bounce_rec(struct gen_ctx *g, const struct gen_bounce *b,
			   int64_t t, uint64_t addr, uint64_t campaign,
			   int remote)
{
	struct gen_out *o = &g->out;
	int64_t queued = remote ? 0 : t - (int64_t)(gen_rand(&g->rng) % 900);

	gen_common(g, remote ? "rb" : "b", t, queued, addr, campaign);
	gen_str(o, remote ? "," : "failed,");	/* dsnAction */
	gen_str(o, b->status);
	gen_chr(o, ',');
	gen_str(o, b->diag);
	gen_chr(o, ',');
	gen_str(o, b->mta);
	gen_chr(o, ',');
	gen_str(o, b->cat);
	gen_chr(o, ',');
	if (remote) {
		gen_str(o, "api,mx.example-shop.com,,,,,");	/* srcType..envId */
		gen_str(o, "mx.example.org,dsn,,,,,\r\n");
		return;
	}
	gen_str(o, "smtp,mta1.example-shop.com (192.0.2.10),");
	gen_source(g, campaign, addr);
	gen_chr(o, ',');
	gen_job(o, campaign);
	gen_chr(o, ',');
	gen_u64(o, (uint64_t)t * 7 + addr);		/* envId */
	gen_str(o, ",,,,,,,\r\n");
}

/* gen_delivery - a d record */
static void gen_delivery(struct gen_ctx *g, int64_t t, uint64_t addr,
			 uint64_t campaign)
{
	struct gen_out *o = &g->out;

	gen_common(g, "d", t, t - (int64_t)(gen_rand(&g->rng) % 120), addr,
		   campaign);
	gen_str(o, "relayed,2.0.0,smtp;250 2.0.0 OK queued as ");
	gen_u64(o, gen_rand(&g->rng) % 100000000);
	gen_str(o, ",mx.example.com (198.51.100.25),,smtp,"
		   "mta1.example-shop.com (192.0.2.10),");
	gen_source(g, campaign, addr);
	gen_chr(o, ',');
	gen_job(o, campaign);
	gen_str(o, ",,,,,,,,\r\n");
}

/* gen_feedback - an f record: abuse mostly, some not-spam and fraud */
static void gen_feedback(struct gen_ctx *g, int64_t t, uint64_t addr,
			 uint64_t campaign)
{
	struct gen_out *o = &g->out;
	unsigned r = (unsigned)(gen_rand(&g->rng) % 100);
	const char *ftype = r < 88 ? "abuse" : r < 96 ? "not-spam" : "fraud";

	gen_common(g, "f", t, 0, addr, campaign);
	gen_str(o, ",,,,,,,192.0.2.21,,,,,arf,");	/* dsnAction..format */
	gen_str(o, ftype);
	gen_str(o, ",Yahoo!-Mail-Feedback/2.0,feedback.mail.yahoo.com,"
		   "\"\"\"Example Shop, News\"\" <newsletter@news.example-shop.com>\",");
	gen_job(o, campaign);
	gen_str(o, "\r\n");
}

/* gen_skipped - a t or rs record, which bounced counts and skips */
static void gen_skipped(struct gen_ctx *g, int64_t t, uint64_t addr,
			uint64_t campaign)
{
	struct gen_out *o = &g->out;
	int rs = (gen_rand(&g->rng) & 1) != 0;

	gen_common(g, rs ? "rs" : "t", t, rs ? 0 : t - 300, addr, campaign);
	gen_str(o, "delayed,4.4.1,\"smtp;421 4.4.1 Connection timed out, "
		   "will retry\",mx.example.com (198.51.100.25),bad-connection,"
		   ",,,,,,,,,,,,\r\n");
}

#define GEN_NSOFT (sizeof(soft_bounces) / sizeof(soft_bounces[0]))
#define GEN_NHARD (sizeof(hard_bounces) / sizeof(hard_bounces[0]))

/* gen_mix_record - a record of the --mix shape (R: 0..9999, PICK: random) */
static void gen_mix_record(struct gen_ctx *g, int64_t t, uint64_t addr,
			   unsigned r, uint64_t pick)
{
	/* 12 campaigns a day, two running at a time */
	uint64_t campaign = (uint64_t)(t - GEN_START) / 7200 * 2 + (pick & 1);
	unsigned b = (unsigned)((pick >> 8) % 100);

	if (r < 9500) {
		gen_delivery(g, t, addr, campaign);
	} else if (r < 9900) {
		const struct gen_bounce *x;

		if (b < 17)	/* spam-related, policy-related: sender-side */
			x = &soft_bounces[2 + (pick >> 20) % 2];
		else if (b < 67)
			x = &soft_bounces[(pick >> 20) % GEN_NSOFT];
		else
			x = &hard_bounces[(pick >> 20) % GEN_NHARD];
		gen_bounce_rec(g, x, t, addr, campaign, 0);
	} else {
		gen_feedback(g, t, addr, campaign);
	}
}

/* gen_record - record number I of N */
static void gen_record(struct gen_ctx *g, uint64_t i, uint64_t n)
{
	int64_t t = GEN_START + (int64_t)((__int128)i * GEN_SPAN / (__int128)n);
	uint64_t addr = gen_pick_addr(&g->rng, g->n_addr);
	uint64_t campaign = (uint64_t)(t - GEN_START) / 21600; /* 4 a day */
	unsigned r = (unsigned)(gen_rand(&g->rng) % 100);
	uint64_t pick = gen_rand(&g->rng);

	if (g->shape == GEN_MIX) {
		gen_mix_record(g, t, addr, (unsigned)(pick % 10000),
			       pick / 10000);
		return;
	}
	if (g->shape == GEN_BOUNCES) {
		if (r < 64)
			gen_bounce_rec(g, &soft_bounces[pick % GEN_NSOFT], t,
				       addr, campaign, 0);
		else
			gen_bounce_rec(g, &hard_bounces[pick % GEN_NHARD], t,
				       addr, campaign, 0);
		return;
	}
	if (r < 45)
		gen_bounce_rec(g, &soft_bounces[pick % (sizeof(soft_bounces) /
						       sizeof(soft_bounces[0]))],
			       t, addr, campaign, (pick >> 32) % 4 == 0);
	else if (r < 70)
		gen_bounce_rec(g, &hard_bounces[pick % (sizeof(hard_bounces) /
						       sizeof(hard_bounces[0]))],
			       t, addr, campaign, (pick >> 32) % 4 == 0);
	else if (r < 90)
		gen_delivery(g, t, addr, campaign);
	else if (r < 95)
		gen_feedback(g, t, addr, campaign);
	else
		gen_skipped(g, t, addr, campaign);
}

/* gen_arg - a positive decimal argument, or 0 when bad */
static uint64_t gen_arg(const char *s, uint64_t max)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v == 0 || v > max)
		return 0;
	return v;
}

int main(int argc, char **argv)
{
	struct gen_ctx g;
	uint64_t n, i, seed = 1;
	enum gen_shape shape = GEN_DEFAULT;
	int rc = 0;

	if (argc > 1 && strcmp(argv[1], "--mix") == 0) {
		shape = GEN_MIX;
		argc--;
		argv++;
	} else if (argc > 1 && strcmp(argv[1], "--bounces") == 0) {
		shape = GEN_BOUNCES;
		argc--;
		argv++;
	}
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: gen_acct [--mix | --bounces] "
				"N_RECORDS N_ADDRESSES [SEED]\n");
		return 64;
	}
	n = gen_arg(argv[1], 1000000000000ULL);
	memset(&g, 0, sizeof(g));
	g.shape = shape;
	g.n_addr = gen_arg(argv[2], 1000000000000ULL);
	if (argc == 4) {
		char *end;

		errno = 0;
		seed = strtoull(argv[3], &end, 10);
		if (errno || *end || argv[3][0] == '\0' || argv[3][0] == '-') {
			fprintf(stderr, "gen_acct: SEED '%s' is not a number\n",
				argv[3]);
			return 64;
		}
	}
	if (n == 0 || g.n_addr == 0) {
		fprintf(stderr, "gen_acct: N_RECORDS and N_ADDRESSES must be "
				"positive numbers\n");
		return 64;
	}
	g.out.buf = malloc(GEN_BUF_SIZE + GEN_LINE_MAX);
	if (!g.out.buf) {
		fprintf(stderr, "gen_acct: out of memory\n");
		return 70;
	}
	g.rng = gen_hash(seed) | 1;
	g.tc.day = -1;
	gen_str(&g.out, header);
	for (i = 0; i < n && !g.out.failed; i++) {
		gen_record(&g, i, n);
		if (g.out.len >= GEN_BUF_SIZE)
			gen_flush(&g.out);
	}
	gen_flush(&g.out);
	if (!g.out.failed && fflush(stdout) != 0)
		g.out.failed = errno ? errno : EIO;
	if (g.out.failed) {
		fprintf(stderr, "gen_acct: cannot write to stdout: %s\n",
			strerror(g.out.failed));
		rc = 74;
	}
	free(g.out.buf);
	return rc;
}
