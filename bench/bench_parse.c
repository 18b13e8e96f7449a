/*
 * bench_parse.c - `make bench-parse`: throughput and heap allocations of
 * sipguard's SIP parser against libosip2, on the fixed set of realistic
 * messages in bench/msgs/ (byte-exact CRLF files, one message each).
 *
 * Both sides do the work a proxy needs on every message it forwards
 * (RFC 3261 16.3-16.7): the start line, Via, From, To, Call-ID, CSeq,
 * Max-Forwards, Contact, Route, Record-Route, Content-Length and
 * Content-Type, the Digest credentials of an Authorization header
 * (RFC 3261 22.4) and an application/sdp body (RFC 8866).
 *   ours:  sip_msg_parse(), sip_ctype_parse(), sip_digest_parse(),
 *          sdp_parse(), all into caller-owned structs, then read the
 *          fields a proxy uses;
 *   osip:  osip_message_init/parse() (which parses the same headers and
 *          Authorization eagerly into heap objects), read the same fields
 *          (branch, tags, ports...), sdp_message_parse() on the body, and
 *          free everything: freeing is part of osip's cost per message.
 * bench/README.md explains the method and holds the latest figures.
 *
 * malloc, calloc, realloc and free are defined here, so every allocation
 * in the process (ours, libosip2's, libc's) goes through a counter before
 * reaching glibc's allocator.  Our side must make none.
 *
 * Modes: default (timed, median of --reps runs of ~--time s each);
 * --callgrind N (fixed iterations, each workload between callgrind client
 * requests, built only into bench_parse_cg); --cg-report FILES (turns the
 * callgrind dumps into instructions per message).
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Both libosip2 and sip.h name a struct sdp_media: rename osip's tag
 * (tags do not reach the linker; osip's sdp_media_t still works). */
#define sdp_media osip_sdp_media
#include <osipparser2/osip_parser.h>
#include <osipparser2/sdp_message.h>
#undef sdp_media

#ifdef BENCH_CALLGRIND
#include <valgrind/callgrind.h>
#endif

#include "sip/sip.h"

#ifndef BENCH_OSIP_VERSION
#define BENCH_OSIP_VERSION "?"
#endif

enum {
	BENCH_MAX_MSGS = 16,               /* files in bench/msgs */
	BENCH_MAX_MSG = 8192,              /* bytes in one message file */
	BENCH_MAX_WL = BENCH_MAX_MSGS + 1, /* each kind, then the mix */
	BENCH_MAX_REPS = 51,
	BENCH_MAX_CG = 64, /* callgrind dumps read by --cg-report */
};

/* ---------------------------------------------------- allocation counter */

/* glibc's own entry points, which its public malloc() etc. also use. */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);

/* Single-threaded process: plain counters are enough. */
static struct {
	uint64_t allocs; /* malloc + calloc + realloc calls */
	uint64_t bytes;  /* bytes requested by them */
} g_heap;

void *malloc(size_t size)
{
	g_heap.allocs++;
	g_heap.bytes += size;
	return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	g_heap.allocs++;
	g_heap.bytes += n * size;
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
	g_heap.allocs++;
	g_heap.bytes += size;
	return __libc_realloc(p, size);
}

void free(void *p)
{
	__libc_free(p);
}

/* ------------------------------------------------------------ messages */

struct bmsg {
	char file[64];
	char label[48]; /* "INVITE +SDP", "180 Ringing"... */
	char *buf;
	size_t len;
};

/* A workload: one kind of message, or the mix of all of them. */
struct workload {
	char label[48];
	const struct bmsg *m[BENCH_MAX_MSGS];
	unsigned n;
};

static struct bmsg g_msgs[BENCH_MAX_MSGS];
static unsigned g_nmsgs;
/* Parse results are folded in here so no work can be optimised away. */
static volatile uint64_t g_sink;

static void die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench_parse: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every line ends in CRLF and the header ends in an empty line: a
 * checkout that turned the files into LF must not be measured. */
static void msg_check(const struct bmsg *m)
{
	size_t i;

	for (i = 0; i < m->len; i++)
		if (m->buf[i] == '\n' && (i == 0 || m->buf[i - 1] != '\r'))
			die("%s: bare LF at byte %zu: the message files must "
			    "keep CRLF line ends",
			    m->file, i);
	if (!memmem(m->buf, m->len, "\r\n\r\n", 4))
		die("%s: no empty line after the header", m->file);
}

/* Label from the start line, plus " +SDP" when there is a body (every
 * body in bench/msgs is SDP); independent of either parser. */
static void msg_label(struct bmsg *m)
{
	const char *eol = memchr(m->buf, '\r', m->len);
	const char *p = m->buf, *sp, *body;
	size_t n;

	if (!eol)
		die("%s: no start line", m->file);
	if (m->len > 8 && memcmp(p, "SIP/2.0 ", 8) == 0) {
		p += 8;
		sp = eol;
	} else {
		sp = memchr(p, ' ', (size_t)(eol - p));
		if (!sp)
			sp = eol;
	}
	n = (size_t)(sp - p);
	if (n > 30)
		n = 30;
	body = memmem(m->buf, m->len, "\r\n\r\n", 4);
	snprintf(m->label, sizeof(m->label), "%.*s%s", (int)n, p,
		 body && body + 4 < m->buf + m->len ? " +SDP" : "");
}

static void msg_load(struct bmsg *m, const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(m->file, sizeof(m->file), "%s", name);
	f = fopen(path, "rb");
	if (!f)
		die("%s: %s", path, strerror(errno));
	m->buf = malloc(BENCH_MAX_MSG + 1);
	if (!m->buf)
		die("%s: out of memory", path);
	m->len = fread(m->buf, 1, BENCH_MAX_MSG + 1, f);
	fclose(f);
	if (m->len == 0 || m->len > BENCH_MAX_MSG)
		die("%s: empty or larger than %d bytes", path, BENCH_MAX_MSG);
	msg_check(m);
	msg_label(m);
}

/* Load dir/\*.sip in name order. */
static void msgs_load(const char *dir)
{
	char *names[BENCH_MAX_MSGS];
	struct dirent *de;
	unsigned i, n = 0;
	DIR *d = opendir(dir);

	if (!d)
		die("%s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		if (l < 5 || strcmp(de->d_name + l - 4, ".sip") != 0)
			continue;
		if (n == BENCH_MAX_MSGS)
			die("%s: more than %d messages", dir, BENCH_MAX_MSGS);
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	if (n == 0)
		die("%s: no *.sip message files", dir);
	qsort(names, n, sizeof(names[0]), cmp_name);
	for (i = 0; i < n; i++) {
		msg_load(&g_msgs[i], dir, names[i]);
		free(names[i]);
	}
	g_nmsgs = n;
}

/* -------------------------------------------------------------- sipguard */

static struct {
	struct sip_msg msg;
	struct sip_ctype ctype;
	struct sip_digest dig;
	struct sdp_sess sdp;
	unsigned ndig; /* Authorization headers parsed */
	bool has_sdp;
	struct sip_perr err;
	const char *stage;
	struct str in; /* input of the current stage, for errors */
} g_ours;

static uint64_t ours_touch_na(const struct sip_nameaddr *na)
{
	return na->uri.host.len + na->uri.user.len + na->uri.port +
	       na->tag.len + na->uri.lr + na->uri.transport.len + na->expires;
}

/* Read what a proxy reads; the values are already parsed. */
static uint64_t ours_touch_msg(const struct sip_msg *msg)
{
	uint64_t x = msg->nvia + msg->call_id.len + msg->cseq.num +
		     (uint64_t)msg->cseq.mid + (uint64_t)msg->max_forwards +
		     (uint64_t)msg->content_length + msg->status;
	unsigned i;

	if (msg->nvia > 0)
		x += msg->via[0].host.len + msg->via[0].port +
		     msg->via[0].branch.len + msg->via[0].rport.len;
	if (msg->is_request)
		x += msg->ruri.host.len + msg->ruri.user.len;
	x += ours_touch_na(&msg->from) + ours_touch_na(&msg->to);
	for (i = 0; i < msg->ncontact; i++)
		x += ours_touch_na(&msg->contact[i]);
	for (i = 0; i < msg->nroute; i++)
		x += ours_touch_na(&msg->route[i]);
	for (i = 0; i < msg->nrr; i++)
		x += ours_touch_na(&msg->rr[i]);
	return x;
}

static uint64_t ours_touch_sdp(const struct sdp_sess *s)
{
	uint64_t x = s->nattr + s->o_addr.len;
	unsigned i;

	for (i = 0; i < s->nmedia; i++) {
		const struct sdp_conn *c = sdp_media_conn(s, i);

		x += s->media[i].port + s->media[i].nfmt + s->media[i].nattr +
		     (c ? c->addr.len : 0);
	}
	return x;
}

static int ours_body(const struct sip_msg *msg, uint64_t *xp)
{
	int rc;

	g_ours.has_sdp = false;
	if (msg->content_type.len == 0)
		return 0;
	g_ours.stage = "sip_ctype_parse";
	g_ours.in = msg->content_type;
	rc = sip_ctype_parse(&g_ours.ctype, msg->content_type, &g_ours.err);
	if (rc < 0)
		return rc;
	if (!str_caseeq_cstr(g_ours.ctype.type, "application") ||
	    !str_caseeq_cstr(g_ours.ctype.subtype, "sdp") || msg->body.len == 0)
		return 0;
	g_ours.stage = "sdp_parse";
	g_ours.in = msg->body;
	rc = sdp_parse(&g_ours.sdp, msg->body, &g_ours.err);
	if (rc < 0)
		return rc;
	g_ours.has_sdp = true;
	*xp += ours_touch_sdp(&g_ours.sdp);
	return 0;
}

/* One full parse; results stay in g_ours until the next call. */
static int ours_parse(const struct bmsg *m)
{
	const struct sip_msg *msg = &g_ours.msg;
	const struct sip_hdr *h;
	uint64_t x;
	int rc;

	g_ours.stage = "sip_msg_parse";
	g_ours.in = str_make(m->buf, m->len);
	rc = sip_msg_parse(&g_ours.msg, m->buf, m->len, &sip_limits_default,
			   SIP_PARSE_DGRAM, &g_ours.err);
	if (rc < 0)
		return rc;
	x = ours_touch_msg(msg);
	g_ours.ndig = 0;
	for (h = sip_msg_hdr(msg, SIP_HDR_AUTHORIZATION); h;
	     h = sip_hdr_next(msg, h)) {
		g_ours.stage = "sip_digest_parse";
		g_ours.in = h->value;
		rc = sip_digest_parse(&g_ours.dig, h->value, &g_ours.err);
		if (rc < 0)
			return rc;
		g_ours.ndig++;
		x += g_ours.dig.username.len + g_ours.dig.realm.len +
		     g_ours.dig.nonce.len + g_ours.dig.uri.len +
		     g_ours.dig.response.len;
	}
	rc = ours_body(msg, &x);
	if (rc < 0)
		return rc;
	g_sink += x;
	return 0;
}

/* err.off is relative to the slice the failing call was given: show the
 * line of that slice around it. */
static void ours_explain(const struct bmsg *m)
{
	struct str in = g_ours.in;
	size_t off = g_ours.err.off < in.len ? g_ours.err.off : in.len;
	size_t start = off, end = off;

	(void)m;
	while (start > 0 && off - start < 60 && in.p[start - 1] != '\n')
		start--;
	while (end < in.len && end - start < 80 && in.p[end] != '\r')
		end++;
	fprintf(stderr,
		"  sipguard: %s failed: %s (code %d) at byte %zu of its "
		"input, in \"%.*s\"\n",
		g_ours.stage, g_ours.err.reason ? g_ours.err.reason : "?",
		(int)g_ours.err.code, off, (int)(end - start), in.p + start);
}

/* -------------------------------------------------------------- libosip2 */

static struct {
	const char *stage;
	int rc;
} g_osip;

/* Reading a field of osip's: the pointer and its first byte. */
static uint64_t cz(const char *s)
{
	return s ? (unsigned char)s[0] : 0;
}

static uint64_t osip_touch_na(osip_from_t *na)
{
	osip_generic_param_t *p = NULL;
	uint64_t x = cz(na->displayname);

	if (na->url)
		x += cz(na->url->host) + cz(na->url->username) +
		     strtoul(na->url->port ? na->url->port : "0", NULL, 10);
	if (osip_from_get_tag(na, &p) == 0 && p)
		x += cz(p->gvalue);
	return x;
}

static uint64_t osip_touch_list(osip_list_t *li)
{
	osip_list_iterator_t it;
	osip_from_t *na = osip_list_get_first(li, &it);
	uint64_t x = 0;

	for (; na; na = osip_list_get_next(&it))
		x += osip_touch_na(na);
	return x;
}

/* Read what a proxy reads, the osip way (parameters found by name). */
static uint64_t osip_touch_msg(osip_message_t *msg)
{
	osip_via_t *via = osip_list_get(&msg->vias, 0);
	osip_generic_param_t *p = NULL;
	osip_header_t *h = NULL;
	uint64_t x = (uint64_t)osip_list_size(&msg->vias) +
		     (uint64_t)msg->status_code;

	if (via) {
		x += cz(via->host) +
		     strtoul(via->port ? via->port : "0", NULL, 10);
		if (osip_via_param_get_byname(via, "branch", &p) == 0 && p)
			x += cz(p->gvalue);
		if (osip_via_param_get_byname(via, "rport", &p) == 0 && p)
			x += cz(p->gvalue);
	}
	if (msg->req_uri)
		x += cz(msg->req_uri->host) + cz(msg->req_uri->username);
	if (msg->from)
		x += osip_touch_na(msg->from);
	if (msg->to)
		x += osip_touch_na(msg->to);
	if (msg->call_id)
		x += cz(msg->call_id->number) + cz(msg->call_id->host);
	if (msg->cseq)
		x += strtoul(msg->cseq->number, NULL, 10) +
		     cz(msg->cseq->method);
	if (osip_message_get_max_forwards(msg, 0, &h) >= 0 && h)
		x += strtoul(h->hvalue ? h->hvalue : "0", NULL, 10);
	x += osip_touch_list(&msg->contacts) + osip_touch_list(&msg->routes) +
	     osip_touch_list(&msg->record_routes);
	if (msg->content_length)
		x += strtoul(msg->content_length->value, NULL, 10);
	if (msg->content_type)
		x += cz(msg->content_type->type) +
		     cz(msg->content_type->subtype);
	return x;
}

static uint64_t osip_touch_auth(osip_message_t *msg)
{
	osip_list_iterator_t it;
	osip_authorization_t *a =
		osip_list_get_first(&msg->authorizations, &it);
	uint64_t x = 0;

	for (; a; a = osip_list_get_next(&it))
		x += cz(a->username) + cz(a->realm) + cz(a->nonce) +
		     cz(a->uri) + cz(a->response);
	return x;
}

static uint64_t osip_touch_sdp(sdp_message_t *sdp)
{
	osip_list_iterator_t it;
	sdp_media_t *md = osip_list_get_first(&sdp->m_medias, &it);
	uint64_t x =
		(uint64_t)osip_list_size(&sdp->a_attributes) + cz(sdp->o_addr);

	for (; md; md = osip_list_get_next(&it)) {
		sdp_connection_t *c = osip_list_get(&md->c_connections, 0);

		if (!c)
			c = sdp->c_connection;
		x += strtoul(md->m_port ? md->m_port : "0", NULL, 10) +
		     (uint64_t)osip_list_size(&md->m_payloads) +
		     (uint64_t)osip_list_size(&md->a_attributes) +
		     (c ? cz(c->c_addr) : 0);
	}
	return x;
}

static bool osip_is_sdp(const osip_message_t *msg)
{
	const osip_content_type_t *ct = msg->content_type;

	return ct && ct->type && ct->subtype &&
	       osip_strcasecmp(ct->type, "application") == 0 &&
	       osip_strcasecmp(ct->subtype, "sdp") == 0;
}

/* Parse and read; the caller frees *msgp and *sdpp, even on error. */
static int osip_do(const struct bmsg *m, osip_message_t **msgp,
		   sdp_message_t **sdpp)
{
	osip_body_t *body = NULL;
	uint64_t x;

	g_osip.stage = "osip_message_init";
	if ((g_osip.rc = osip_message_init(msgp)) != 0)
		return -1;
	g_osip.stage = "osip_message_parse";
	if ((g_osip.rc = osip_message_parse(*msgp, m->buf, m->len)) != 0)
		return -1;
	x = osip_touch_msg(*msgp) + osip_touch_auth(*msgp);
	if (osip_is_sdp(*msgp)) {
		g_osip.stage = "osip_message_get_body";
		g_osip.rc = osip_message_get_body(*msgp, 0, &body);
		if (g_osip.rc < 0 || !body || !body->body)
			return -1;
		g_osip.stage = "sdp_message_init";
		if ((g_osip.rc = sdp_message_init(sdpp)) != 0)
			return -1;
		g_osip.stage = "sdp_message_parse";
		if ((g_osip.rc = sdp_message_parse(*sdpp, body->body)) != 0)
			return -1;
		x += osip_touch_sdp(*sdpp);
	}
	g_sink += x;
	return 0;
}

static int osip_parse(const struct bmsg *m)
{
	osip_message_t *msg = NULL;
	sdp_message_t *sdp = NULL;
	int rc = osip_do(m, &msg, &sdp);

	if (sdp)
		sdp_message_free(sdp);
	if (msg)
		osip_message_free(msg);
	return rc;
}

static void osip_explain(const struct bmsg *m)
{
	(void)m;
	fprintf(stderr, "  libosip2: %s failed (%d)\n", g_osip.stage,
		g_osip.rc);
}

/* ------------------------------------------------------ startup checks */

struct parser {
	const char *name;
	int (*parse)(const struct bmsg *m);
	void (*explain)(const struct bmsg *m);
};

static const struct parser g_parsers[2] = {
	{"sipguard", ours_parse, ours_explain},
	{"libosip2", osip_parse, osip_explain},
};

static void mismatch(const struct bmsg *m, const char *what, uint64_t ours,
		     uint64_t osip)
{
	if (ours != osip)
		printf("warning: %s: %s differs: sipguard %llu, libosip2 "
		       "%llu\n",
		       m->file, what, (unsigned long long)ours,
		       (unsigned long long)osip);
}

static unsigned osip_nattr(sdp_message_t *sdp)
{
	osip_list_iterator_t it;
	sdp_media_t *md = osip_list_get_first(&sdp->m_medias, &it);
	int n = osip_list_size(&sdp->a_attributes);

	for (; md; md = osip_list_get_next(&it))
		n += osip_list_size(&md->a_attributes);
	return (unsigned)n;
}

/* Both sides must have found the same structure, or the comparison
 * would not compare like with like.  Differences are reported. */
static void cross_check(const struct bmsg *m, osip_message_t *om,
			sdp_message_t *os)
{
	const struct sip_msg *msg = &g_ours.msg;

	mismatch(m, "Via count", msg->nvia,
		 (uint64_t)osip_list_size(&om->vias));
	mismatch(m, "Contact count", msg->ncontact,
		 (uint64_t)osip_list_size(&om->contacts));
	mismatch(m, "Route count", msg->nroute,
		 (uint64_t)osip_list_size(&om->routes));
	mismatch(m, "Record-Route count", msg->nrr,
		 (uint64_t)osip_list_size(&om->record_routes));
	mismatch(m, "Authorization count", g_ours.ndig,
		 (uint64_t)osip_list_size(&om->authorizations));
	mismatch(m, "CSeq number", msg->cseq.num,
		 om->cseq ? strtoul(om->cseq->number, NULL, 10) : 0);
	mismatch(m, "SDP present", g_ours.has_sdp, os != NULL);
	if (g_ours.has_sdp && os) {
		mismatch(m, "SDP media count", g_ours.sdp.nmedia,
			 (uint64_t)osip_list_size(&os->m_medias));
		mismatch(m, "SDP attribute count", g_ours.sdp.nattr,
			 osip_nattr(os));
	}
}

/* Every message must parse with both parsers before anything is timed. */
static void check_all(void)
{
	unsigned i, bad = 0;

	for (i = 0; i < g_nmsgs; i++) {
		const struct bmsg *m = &g_msgs[i];
		osip_message_t *om = NULL;
		sdp_message_t *os = NULL;
		int ro = ours_parse(m);
		int rs = osip_do(m, &om, &os);

		if (ro < 0 || rs < 0) {
			fprintf(stderr, "bench_parse: %s does not parse:\n",
				m->file);
			if (ro < 0)
				ours_explain(m);
			if (rs < 0)
				osip_explain(m);
			bad++;
		} else {
			cross_check(m, om, os);
		}
		if (os)
			sdp_message_free(os);
		if (om)
			osip_message_free(om);
	}
	if (bad) {
		fprintf(stderr,
			"bench_parse: %u of %u messages failed to "
			"parse: nothing timed\n",
			bad, g_nmsgs);
		exit(1);
	}
}

/* ---------------------------------------------------------------- timing */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Kept out of line so callgrind's per-function view shows the loop. */
__attribute__((noinline)) static double
run(const struct parser *p, const struct workload *w, uint64_t iters)
{
	double t0 = now_s();
	uint64_t i;
	unsigned k;

	for (i = 0; i < iters; i++)
		for (k = 0; k < w->n; k++)
			if (p->parse(w->m[k]) < 0) {
				fprintf(stderr,
					"bench_parse: %s: %s failed "
					"while timing\n",
					w->m[k]->file, p->name);
				p->explain(w->m[k]);
				exit(1);
			}
	return now_s() - t0;
}

/* Iterations that take about `target` seconds. */
static uint64_t calibrate(const struct parser *p, const struct workload *w,
			  double target)
{
	uint64_t iters = 1;
	double t;

	while ((t = run(p, w, iters)) < target / 16 && iters < (1ull << 40))
		iters *= 2;
	iters = (uint64_t)((double)iters * target / (t > 0 ? t : 1e-9));
	return iters ? iters : 1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct result {
	double ns;            /* median ns per message */
	double allocs, bytes; /* per message, from one untimed pass */
	uint64_t all_allocs;  /* during every run, timed ones included */
};

/* Both parsers on one workload, r[0] ours, r[1] osip.  Their timed runs
 * alternate, so a change in machine load hits both alike. */
static void measure(struct result *r, const struct workload *w, double target,
		    unsigned reps)
{
	double ns[2][BENCH_MAX_REPS];
	uint64_t iters[2], a0;
	unsigned i, p;

	for (p = 0; p < 2; p++) {
		g_heap.allocs = g_heap.bytes = 0;
		run(&g_parsers[p], w, 1);
		r[p].allocs = (double)g_heap.allocs / w->n;
		r[p].bytes = (double)g_heap.bytes / w->n;
		iters[p] = calibrate(&g_parsers[p], w, target);
		r[p].all_allocs = g_heap.allocs;
	}
	for (i = 0; i < reps; i++)
		for (p = 0; p < 2; p++) {
			a0 = g_heap.allocs;
			ns[p][i] = run(&g_parsers[p], w, iters[p]) * 1e9 /
				   ((double)iters[p] * w->n);
			r[p].all_allocs += g_heap.allocs - a0;
		}
	for (p = 0; p < 2; p++) {
		qsort(ns[p], reps, sizeof(ns[p][0]), cmp_double);
		r[p].ns = ns[p][reps / 2];
	}
}

/* --------------------------------------------------------------- report */

static void print_machine(double target, unsigned reps)
{
	char line[512], model[256] = "unknown", load[64];
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "model name", 10) == 0) {
			char *c = strchr(line, ':');

			if (c)
				snprintf(model, sizeof(model), "%s",
					 c + 1 + (c[1] == ' '));
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	if (f)
		fclose(f);
	f = fopen("/proc/loadavg", "r");
	if (!f || !fgets(load, sizeof(load), f))
		snprintf(load, sizeof(load), "?");
	load[strcspn(load, " \n")] = '\0';
	if (f)
		fclose(f);
	printf("sipguard parse benchmark: sip_msg_parse vs libosip2 %s\n",
	       BENCH_OSIP_VERSION);
	printf("machine: %ld CPUs online, %s, load %s; %s %s, %s\n",
	       sysconf(_SC_NPROCESSORS_ONLN), model, load,
#ifdef __clang__
	       "clang",
#else
	       "gcc",
#endif
	       __VERSION__,
#ifdef __OPTIMIZE__
	       "optimised build");
#else
	       "NOT OPTIMISED: figures meaningless");
#endif
	printf("method: %u runs of ~%.2f s per parser and workload, the two "
	       "parsers alternating, median; same message parsed back to back "
	       "(warm caches)\n",
	       reps, target);
	printf("note: timings are noisy on a shared machine (10-20%% between "
	       "runs is normal); allocation counts are exact\n\n");
}

static void print_row(const char *label, size_t bytes, const struct result *o,
		      const struct result *s)
{
	printf("%-14s %6zu | %9.0f %10.0f %6.1f | %9.0f %10.0f %6.1f %7.0f "
	       "| %6.1fx\n",
	       label, bytes, o->ns, 1e9 / o->ns, o->allocs, s->ns, 1e9 / s->ns,
	       s->allocs, s->bytes, s->ns / o->ns);
}

static size_t wl_bytes(const struct workload *w)
{
	size_t b = 0;
	unsigned k;

	for (k = 0; k < w->n; k++)
		b += w->m[k]->len;
	return b / w->n;
}

/* Kinds first, then the mix of all messages ("overall"). */
static unsigned workloads(struct workload *w)
{
	unsigned i;

	for (i = 0; i < g_nmsgs; i++) {
		snprintf(w[i].label, sizeof(w[i].label), "%s", g_msgs[i].label);
		w[i].m[0] = &g_msgs[i];
		w[i].n = 1;
		w[g_nmsgs].m[i] = &g_msgs[i];
	}
	snprintf(w[g_nmsgs].label, sizeof(w[g_nmsgs].label), "overall (%u)",
		 g_nmsgs);
	w[g_nmsgs].n = g_nmsgs;
	return g_nmsgs + 1;
}

static int bench(double target, unsigned reps)
{
	static struct workload w[BENCH_MAX_WL];
	struct result r[BENCH_MAX_WL][2];
	unsigned nw = workloads(w), i, below = 0;
	uint64_t ours_allocs = 0;
	double worst = 1e300;

	print_machine(target, reps);
	printf("%-14s %6s | %-28s | %-36s | %s\n", "", "", "sipguard",
	       "libosip2", "osip ns");
	printf("%-14s %6s | %9s %10s %6s | %9s %10s %6s %7s | %s\n", "message",
	       "bytes", "ns/msg", "msg/s", "allocs", "ns/msg", "msg/s",
	       "allocs", "bytes", "/ ours");
	for (i = 0; i < nw; i++) {
		if (i == nw - 1)
			printf("\n");
		measure(r[i], &w[i], target, reps);
		print_row(w[i].label, wl_bytes(&w[i]), &r[i][0], &r[i][1]);
		fflush(stdout);
		ours_allocs += r[i][0].all_allocs;
		if (r[i][1].ns / r[i][0].ns < 10)
			below++;
		if (r[i][1].ns / r[i][0].ns < worst)
			worst = r[i][1].ns / r[i][0].ns;
	}
	/* The target is throughput on the realistic mix (the
	 * "overall" row); the per-kind figures are printed so that a kind
	 * below 10x stays visible. */
	printf("\nthroughput ratio (sipguard msg/s / libosip2 msg/s): "
	       "overall mix %.1fx (target >= 10x: %s); lowest kind %.1fx, "
	       "%u of %u rows below 10x\n",
	       r[nw - 1][1].ns / r[nw - 1][0].ns,
	       r[nw - 1][1].ns / r[nw - 1][0].ns >= 10 ? "met" : "NOT MET",
	       worst, below, nw);
	printf("heap allocations on our side: %llu; target 0: %s\n",
	       (unsigned long long)ours_allocs,
	       ours_allocs ? "NOT MET" : "met");
	return ours_allocs ? 1 : 0;
}

/* ------------------------------------------------------------- callgrind */

/* Each workload's fixed iterations between ZERO and DUMP requests: one
 * dump file per (parser, workload), labelled for --cg-report. */
static int cg_run(uint64_t iters)
{
#ifdef BENCH_CALLGRIND
	static struct workload w[BENCH_MAX_WL];
	unsigned nw = workloads(w), i, p;
	char label[128];

	for (i = 0; i < nw; i++)
		for (p = 0; p < 2; p++) {
			run(&g_parsers[p], &w[i], 2);
			CALLGRIND_ZERO_STATS;
			run(&g_parsers[p], &w[i], iters);
			snprintf(label, sizeof(label), "bench %u %u %llu %.47s",
				 i, p, (unsigned long long)(iters * w[i].n),
				 w[i].label);
			CALLGRIND_DUMP_STATS_AT(label);
		}
	return 0;
#else
	(void)iters;
	fprintf(stderr, "bench_parse: --callgrind needs the bench_parse_cg "
			"binary (make bench-parse-callgrind)\n");
	return 2;
#endif
}

struct cg_row {
	char label[48];
	double ir[2]; /* instructions per message */
};

/* One dump: "desc: Trigger: Client Request: bench I P N LABEL" and
 * "summary: IR" (or "totals: IR"). */
static void cg_read(const char *file, struct cg_row *rows, unsigned *nrowsp)
{
	char line[512], label[48] = "";
	unsigned i = ~0u, p = 0;
	unsigned long long n = 0, ir = 0;
	FILE *f = fopen(file, "r");

	if (!f)
		die("%s: %s", file, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *b = strstr(line, "Client Request: bench ");

		if (b && sscanf(b + 22, "%u %u %llu %47[^\n]", &i, &p, &n,
				label) != 4)
			i = ~0u;
		if (sscanf(line, "summary: %llu", &ir) != 1 && ir == 0)
			sscanf(line, "totals: %llu", &ir);
	}
	fclose(f);
	if (i >= BENCH_MAX_WL || p > 1 || n == 0)
		return;
	snprintf(rows[i].label, sizeof(rows[i].label), "%s", label);
	rows[i].ir[p] = (double)ir / (double)n;
	if (i + 1 > *nrowsp)
		*nrowsp = i + 1;
}

static int cg_report(int argc, char **argv)
{
	static struct cg_row rows[BENCH_MAX_WL];
	unsigned n = 0, i;
	int a;

	for (a = 0; a < argc; a++)
		cg_read(argv[a], rows, &n);
	if (n == 0)
		die("no callgrind dumps from bench_parse among the %d files",
		    argc);
	printf("callgrind instructions per message (repeatable; "
	       "libosip2 %s)\n",
	       BENCH_OSIP_VERSION);
	printf("%-16s %12s %12s %8s\n", "message", "sipguard", "libosip2",
	       "ratio");
	for (i = 0; i < n; i++)
		if (rows[i].ir[0] > 0)
			printf("%-16s %12.0f %12.0f %7.1fx\n", rows[i].label,
			       rows[i].ir[0], rows[i].ir[1],
			       rows[i].ir[1] / rows[i].ir[0]);
	return 0;
}

/* ------------------------------------------------------------------ main */

static void usage(void)
{
	fprintf(stderr, "usage: bench_parse [--time SEC] [--reps N] [MSGDIR]\n"
			"       bench_parse_cg --callgrind ITERS [MSGDIR]\n"
			"       bench_parse --cg-report CALLGRIND_DUMP...\n"
			"MSGDIR defaults to bench/msgs\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *dir = "bench/msgs";
	double target = 0.3;
	unsigned reps = 5;
	unsigned long long cg_iters = 0;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--cg-report") == 0)
			return cg_report(argc - i - 1, argv + i + 1);
		if (strcmp(argv[i], "--time") == 0 && i + 1 < argc)
			target = strtod(argv[++i], NULL);
		else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
			reps = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--callgrind") == 0 && i + 1 < argc)
			cg_iters = strtoull(argv[++i], NULL, 10);
		else if (argv[i][0] == '-')
			usage();
		else
			dir = argv[i];
	}
	if (!(target > 0 && target < 60) || reps == 0 || reps > BENCH_MAX_REPS)
		usage();
	msgs_load(dir);
	if (parser_init() != 0)
		die("libosip2 parser_init() failed");
	check_all();
	if (cg_iters)
		return cg_run(cg_iters);
	return bench(target, reps);
}
