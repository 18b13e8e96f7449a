/*
 * scanner.c - recognising SIP attack tools by what they send: the
 * User-Agent fingerprint list (etc/scanners.txt) and structural
 * signatures that do not depend on the User-Agent.
 *
 * The structural indicators come from reading how the tools build their
 * requests (SIPVicious 0.3 svhelper.makeRequest/createTag/
 * challengeResponse, svmap, svwar, svcrack; nmap's SIP library as seen by
 * honeypots).  SIPVicious, whatever its User-Agent:
 *   - top Via: "SIP/2.0/UDP host:port;branch=z9hG4bK-<decimal 32-bit>;rport"
 *     (a dash after the magic cookie, then digits only, then bare rport);
 *   - Call-ID: a bare decimal number (32 or 80 random bits), no '@';
 *   - From tag: lower-case hex of "<data>\x01<decimal 32-bit>", where data
 *     is the target ip+port (svmap), the extension (svwar) or
 *     "user:password" (svcrack); svcrack's first REGISTER uses the fixed
 *     tag 3206210844;
 *   - header order Via, Max-Forwards, To, From, User-Agent, Call-ID,
 *     Contact, CSeq, Accept (application/sdp, even on REGISTER),
 *     Content-Length[, Content-Type][, Authorization]; with -c (compact):
 *     v, t, f, i, m, CSeq, Max-Forwards, Accept, Content-Length...;
 *   - Digest credentials without blanks after commas and with
 *     ",algorithm=MD5,qop=auth,response=" in that order (it adds qop=auth
 *     even when the challenge offered none);
 *   - svmap defaults: From "sipvicious"<sip:100@1.1.1.1>, Contact
 *     sip:None@... (a Python None formatted into the URI).
 * Weak indicators (numeric Call-IDs, digit-only branches) exist in real
 * embedded phones, so no single weak one decides: see the weights.
 */
#include <errno.h>
#include <string.h>

#include "guard/inspect.h"

/* ----------------------------------------------------- fingerprint list */

/* Keep in step with etc/scanners.txt (a unit test compares them). */
static const char *const fp_builtin[] = {
	"friendly-scanner",
	"friendly-request",
	"sipvicious",
	"sipcli",
	"sip-scan",
	"sipscan",
	"sundayddr",
	"sundayaddr",
	"iWar",
	"VaxSIPUserAgent",
	"VaxIPUserAgent",
	"pplsip",
	"SIVuS",
	"siparmyknife",
	"sipptk",
	"Cisco-SIPGateway/IOS-12.x",
	"Asterix PBX",
	"fgfdhgfxjfhyjhkj",
};

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static void fp_put(struct inspect_fps *f, struct str s)
{
	size_t i;

	for (i = 0; i < s.len; i++)
		f->s[f->n][i] = lower(s.p[i]);
	f->s[f->n][s.len] = '\0';
	f->len[f->n] = (uint8_t)s.len;
	f->n++;
}

void inspect_fps_default(struct inspect_fps *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < sizeof(fp_builtin) / sizeof(fp_builtin[0]); i++)
		fp_put(out, str_cstr(fp_builtin[i]));
}

static bool fp_line_ok(struct str s)
{
	size_t i;

	if (s.len == 0 || s.len >= INSPECT_FP_LEN)
		return false;
	for (i = 0; i < s.len; i++)
		if ((unsigned char)s.p[i] < 0x20 ||
		    (unsigned char)s.p[i] > 0x7e)
			return false;
	return true;
}

int inspect_fps_parse(struct inspect_fps *out, struct str text, unsigned *linep)
{
	struct inspect_fps tmp;
	struct str rest = text, line;
	unsigned lineno = 0;

	*linep = 0;
	if (text.len > INSPECT_FP_FILE_MAX || (text.len && !text.p))
		return -EINVAL;
	tmp.n = 0;
	while (str_split(&rest, '\n', &line)) {
		lineno++;
		/* str_trim also drops the CR of a CRLF line end. */
		line = str_trim(line);
		if (line.len == 0 || line.p[0] == '#')
			continue;
		if (!fp_line_ok(line) || tmp.n == INSPECT_FP_MAX) {
			*linep = lineno;
			return -EINVAL;
		}
		fp_put(&tmp, line);
	}
	memcpy(out, &tmp, sizeof(tmp));
	return 0;
}

int inspect_fps_match(const struct inspect_fps *f, struct str ua)
{
	char buf[INSPECT_UA_SCAN];
	size_t n = ua.len < sizeof(buf) ? ua.len : sizeof(buf);
	size_t i;
	unsigned k;

	if (n == 0 || !ua.p)
		return -1;
	for (i = 0; i < n; i++)
		buf[i] = lower(ua.p[i]);
	for (k = 0; k < f->n; k++)
		if (f->len[k] && memmem(buf, n, f->s[k], f->len[k]))
			return (int)k;
	return -1;
}

/* ------------------------------------------------- structural indicators */

static bool all_digits(struct str s, size_t min, size_t max)
{
	size_t i;

	if (s.len < min || s.len > max)
		return false;
	for (i = 0; i < s.len; i++)
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
	return true;
}

static bool contains(struct str hay, const char *needle)
{
	size_t n = strlen(needle);

	return hay.len >= n && hay.p && memmem(hay.p, hay.len, needle, n);
}

/* Case-insensitive search in the first INSPECT_UA_SCAN bytes of hay. */
static bool contains_nocase(struct str hay, struct str needle)
{
	size_t i, n = hay.len < INSPECT_UA_SCAN ? hay.len : INSPECT_UA_SCAN;

	for (i = 0; i + needle.len <= n; i++)
		if (str_casestarts(str_make(hay.p + i, n - i), needle))
			return true;
	return false;
}

/* branch=z9hG4bK-<1..10 digits> and a bare ";rport" on the top Via. */
static bool sv_branch(const struct sip_msg *m)
{
	static const struct str cookie = STR("z9hG4bK-");
	const struct sip_via *v;

	if (m->nvia == 0)
		return false;
	v = &m->via[0];
	if (!v->has_branch || !v->has_rport || v->rport.len != 0 ||
	    v->branch.len <= cookie.len ||
	    memcmp(v->branch.p, cookie.p, cookie.len) != 0)
		return false;
	return all_digits(str_skip(v->branch, cookie.len), 1, 10);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* upper case too: the tool writes lower */
}

/*
 * tag = lower-case hex of data "\x01" digits.  Walk back over the "3N"
 * pairs (ASCII digits), demand 5..10 of them (a 32-bit random number
 * rarely has fewer than 5 digits; requiring them makes a chance match of
 * a random hex tag negligible), then "01", then a data part decoding to
 * bytes without control characters.
 */
static bool sv_hex_tag(struct str t)
{
	size_t end = t.len, digits = 0, i;

	if (t.len < 2 + 2 * 5 || t.len % 2)
		return false;
	while (end >= 2 && t.p[end - 2] == '3' && t.p[end - 1] >= '0' &&
	       t.p[end - 1] <= '9') {
		end -= 2;
		digits++;
	}
	if (digits < 5 || digits > 10 || end < 2 || t.p[end - 2] != '0' ||
	    t.p[end - 1] != '1')
		return false;
	for (i = 0; i + 2 < end; i += 2) {
		int hi = hexval(t.p[i]), lo = hexval(t.p[i + 1]);
		int byte = hi * 16 + lo;

		if (hi < 0 || lo < 0 || byte < 0x20 || byte == 0x7f)
			return false;
	}
	return true;
}

static bool sv_tag(const struct sip_msg *m)
{
	return str_eq_cstr(m->from.tag, "3206210844") ||
	       sv_hex_tag(m->from.tag);
}

struct order_step {
	enum sip_hdr_id id, alt; /* alt: SIP_HDR_OTHER when none */
	bool optional;
};

#define STEP(a)                                   \
	{                                         \
		SIP_HDR_##a, SIP_HDR_OTHER, false \
	}
#define OPT(a)                                   \
	{                                        \
		SIP_HDR_##a, SIP_HDR_OTHER, true \
	}
#define OPT_AUTH                                                         \
	{                                                                \
		SIP_HDR_AUTHORIZATION, SIP_HDR_PROXY_AUTHORIZATION, true \
	}

static const struct order_step sv_full[] = {
	STEP(VIA),       STEP(MAX_FORWARDS),   STEP(TO),          STEP(FROM),
	OPT(USER_AGENT), STEP(CALL_ID),        STEP(CONTACT),     STEP(CSEQ),
	STEP(ACCEPT),    STEP(CONTENT_LENGTH), OPT(CONTENT_TYPE), OPT_AUTH,
};
static const struct order_step sv_compact[] = {
	STEP(VIA),          STEP(TO),      STEP(FROM),
	STEP(CALL_ID),      STEP(CONTACT), STEP(CSEQ),
	STEP(MAX_FORWARDS), STEP(ACCEPT),  STEP(CONTENT_LENGTH),
	OPT(CONTENT_TYPE),  OPT_AUTH,
};

static bool order_is(const struct sip_msg *m, const struct order_step *st,
		     size_t nst)
{
	unsigned i = 0;
	size_t k;

	for (k = 0; k < nst; k++) {
		bool hit = i < m->nhdr && (m->hdr[i].id == st[k].id ||
					   (st[k].alt != SIP_HDR_OTHER &&
					    m->hdr[i].id == st[k].alt));

		if (hit)
			i++;
		else if (!st[k].optional)
			return false;
	}
	return i == m->nhdr;
}

static bool sv_order(const struct sip_msg *m)
{
	const struct sip_hdr *acc = sip_msg_hdr(m, SIP_HDR_ACCEPT);

	if (!acc || !str_eq_cstr(acc->value, "application/sdp"))
		return false;
	return order_is(m, sv_full, sizeof(sv_full) / sizeof(sv_full[0])) ||
	       order_is(m, sv_compact,
			sizeof(sv_compact) / sizeof(sv_compact[0]));
}

static bool sv_digest_value(struct str v)
{
	return str_casestarts(v, STR("Digest username=\"")) &&
	       contains(v, "\",realm=\"") && contains(v, "\",uri=\"") &&
	       contains(v, ",algorithm=MD5") &&
	       contains(v, ",qop=auth,response=\"");
}

static bool sv_digest(const struct sip_msg *m)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_AUTHORIZATION);

	if (h && sv_digest_value(h->value))
		return true;
	h = sip_msg_hdr(m, SIP_HDR_PROXY_AUTHORIZATION);
	return h && sv_digest_value(h->value);
}

static bool from_is(const struct sip_msg *m, const char *user, const char *host)
{
	return str_eq_cstr(m->from.uri.user, user) &&
	       str_caseeq_cstr(m->from.uri.host, host);
}

static bool sv_from(const struct sip_msg *m)
{
	return str_caseeq_cstr(m->from.display, "sipvicious") ||
	       from_is(m, "100", "1.1.1.1");
}

static bool none_user(const struct sip_msg *m)
{
	unsigned i;

	for (i = 0; i < m->ncontact; i++)
		if (str_eq_cstr(m->contact[i].uri.user, "None"))
			return true;
	return false;
}

/*
 * An SDP origin claiming a Cisco IOS gateway from something whose
 * User-Agent is not Cisco: the toll-fraud tools that spoof
 * "Cisco-SIPGateway" copy the SDP but not always the header.  Weak (an
 * SBC between a real gateway and us may rewrite the User-Agent).
 */
static bool sdp_spoof(const struct sip_msg *m)
{
	static const char o_cisco[] = "o=CiscoSystemsSIP-GW-UserAgent ";
	struct str rest = m->body, line;

	if (m->body.len == 0 ||
	    !str_casestarts(m->content_type, STR("application/sdp")))
		return false;
	if (contains_nocase(m->user_agent, STR("cisco")))
		return false;
	while (str_split(&rest, '\n', &line))
		if (str_casestarts(line, STR(o_cisco)))
			return true;
	return false;
}

static bool num_callid(const struct sip_msg *m)
{
	/* 2^80 has 25 decimal digits. */
	return all_digits(m->call_id, 1, 25);
}

static bool nmap_from(const struct sip_msg *m)
{
	return from_is(m, "nm", "nm");
}

static const struct {
	uint32_t bit;
	unsigned weight;
	bool (*fn)(const struct sip_msg *m);
} indicators[] = {
	{INSPECT_I_SV_BRANCH, 1, sv_branch},
	{INSPECT_I_NUM_CALLID, 1, num_callid},
	{INSPECT_I_SV_TAG, 2, sv_tag},
	{INSPECT_I_SV_ORDER, 2, sv_order},
	{INSPECT_I_SV_DIGEST, 2, sv_digest},
	{INSPECT_I_SV_FROM, 3, sv_from},
	{INSPECT_I_NONE_USER, 1, none_user},
	{INSPECT_I_NMAP, 3, nmap_from},
	{INSPECT_I_SDP_SPOOF, 1, sdp_spoof},
};

unsigned inspect_structure_score(const struct sip_msg *m, uint32_t *indp)
{
	uint32_t ind = 0;
	unsigned score = 0;
	size_t i;

	for (i = 0; i < sizeof(indicators) / sizeof(indicators[0]); i++) {
		if (indicators[i].fn(m)) {
			ind |= indicators[i].bit;
			score += indicators[i].weight;
		}
	}
	if (indp)
		*indp = ind;
	return score;
}
