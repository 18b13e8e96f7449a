/*
 * hdr.c - header field names (RFC 3261 section 7.3, 20; compact forms of
 * 7.3.3 and the IANA SIP parameter registry) and the comma splitter for
 * list-valued headers (RFC 3261 7.3.1).
 *
 * Every header name is classified once, while the message is parsed, by
 * sip_hdr_classify(): one definition table (hdr_defs, indexed by id)
 * gives each known header its canonical name, compact letter and whether
 * its value is a comma-separated list.  The lookup goes through a small
 * perfect-hash index (hdr_index) over the lower-cased names; the unit
 * test checks that every table name and compact letter maps back to its
 * id, so the index cannot drift from the table unnoticed.
 */
#include "sip/sip_int.h"

#include <string.h>

struct hdr_def {
	const char *name; /* canonical spelling */
	unsigned char len;
	char compact; /* lower-case compact form, or 0 */
	bool list;    /* value is a comma-separated list */
};

#define H(id, n, c, l) [SIP_HDR_##id] = {n, sizeof(n) - 1, c, l}

static const struct hdr_def hdr_defs[SIP_HDR__COUNT] = {
	[SIP_HDR_OTHER] = {"", 0, 0, false},
	H(VIA, "Via", 'v', true),
	H(FROM, "From", 'f', false),
	H(TO, "To", 't', false),
	H(CALL_ID, "Call-ID", 'i', false),
	H(CSEQ, "CSeq", 0, false),
	H(MAX_FORWARDS, "Max-Forwards", 0, false),
	H(CONTACT, "Contact", 'm', true),
	H(ROUTE, "Route", 0, true),
	H(RECORD_ROUTE, "Record-Route", 0, true),
	H(CONTENT_LENGTH, "Content-Length", 'l', false),
	H(CONTENT_TYPE, "Content-Type", 'c', false),
	H(CONTENT_ENCODING, "Content-Encoding", 'e', true),
	H(CONTENT_DISPOSITION, "Content-Disposition", 0, false),
	H(EXPIRES, "Expires", 0, false),
	H(MIN_EXPIRES, "Min-Expires", 0, false),
	H(AUTHORIZATION, "Authorization", 0, false),
	H(PROXY_AUTHORIZATION, "Proxy-Authorization", 0, false),
	H(WWW_AUTHENTICATE, "WWW-Authenticate", 0, false),
	H(PROXY_AUTHENTICATE, "Proxy-Authenticate", 0, false),
	H(USER_AGENT, "User-Agent", 0, false),
	H(SERVER, "Server", 0, false),
	H(SUPPORTED, "Supported", 'k', true),
	H(REQUIRE, "Require", 0, true),
	H(PROXY_REQUIRE, "Proxy-Require", 0, true),
	H(UNSUPPORTED, "Unsupported", 0, true),
	H(ALLOW, "Allow", 0, true),
	H(EVENT, "Event", 'o', false),
	H(ALLOW_EVENTS, "Allow-Events", 'u', true),
	H(SUBSCRIPTION_STATE, "Subscription-State", 0, false),
	H(REFER_TO, "Refer-To", 'r', false),
	H(REFERRED_BY, "Referred-By", 'b', false),
	H(REPLACES, "Replaces", 0, false),
	H(P_ASSERTED_IDENTITY, "P-Asserted-Identity", 0, true),
	H(SESSION_EXPIRES, "Session-Expires", 'x', false),
	H(MIN_SE, "Min-SE", 0, false),
	H(PATH, "Path", 0, true),
	H(RETRY_AFTER, "Retry-After", 0, false),
	H(WARNING, "Warning", 0, true),
	H(ACCEPT, "Accept", 0, true),
	H(DATE, "Date", 0, false),
	H(TIMESTAMP, "Timestamp", 0, false),
	H(RSEQ, "RSeq", 0, false),
	H(RACK, "RAck", 0, false),
	H(MIME_VERSION, "MIME-Version", 0, false),
	H(ORGANIZATION, "Organization", 0, false),
	H(SUBJECT, "Subject", 's', false),
	H(PRIORITY, "Priority", 0, false),
};

#undef H

/*
 * Compact forms (RFC 3261 7.3.3, RFC 3265, 3515, 3892, 4028), by letter.
 * Letters registered for headers we do not track (a, d, j, n, y) stay
 * SIP_HDR_OTHER.  Must agree with the compact column of hdr_defs.
 */
static const uint8_t hdr_compact[26] = {
	['b' - 'a'] = SIP_HDR_REFERRED_BY,
	['c' - 'a'] = SIP_HDR_CONTENT_TYPE,
	['e' - 'a'] = SIP_HDR_CONTENT_ENCODING,
	['f' - 'a'] = SIP_HDR_FROM,
	['i' - 'a'] = SIP_HDR_CALL_ID,
	['k' - 'a'] = SIP_HDR_SUPPORTED,
	['l' - 'a'] = SIP_HDR_CONTENT_LENGTH,
	['m' - 'a'] = SIP_HDR_CONTACT,
	['o' - 'a'] = SIP_HDR_EVENT,
	['r' - 'a'] = SIP_HDR_REFER_TO,
	['s' - 'a'] = SIP_HDR_SUBJECT,
	['t' - 'a'] = SIP_HDR_TO,
	['u' - 'a'] = SIP_HDR_ALLOW_EVENTS,
	['v' - 'a'] = SIP_HDR_VIA,
	['x' - 'a'] = SIP_HDR_SESSION_EXPIRES,
};

/*
 * Perfect hash of the lower-cased long names: (9 * len + 2 * c[0] +
 * 16 * c[len-1] + c[1]) mod 128 is distinct for every name in hdr_defs.
 * Generated once from the table; checked by tests/unit/sip/test_hdr.c.
 */
enum { HDR_HASH_SIZE = 128 };
static const uint8_t hdr_index[HDR_HASH_SIZE] = {
	[0] = SIP_HDR_VIA,
	[1] = SIP_HDR_REFER_TO,
	[2] = SIP_HDR_SESSION_EXPIRES,
	[5] = SIP_HDR_RECORD_ROUTE,
	[11] = SIP_HDR_RSEQ,
	[12] = SIP_HDR_AUTHORIZATION,
	[15] = SIP_HDR_MIME_VERSION,
	[23] = SIP_HDR_PROXY_REQUIRE,
	[25] = SIP_HDR_RACK,
	[27] = SIP_HDR_ACCEPT,
	[28] = SIP_HDR_ORGANIZATION,
	[29] = SIP_HDR_DATE,
	[33] = SIP_HDR_SERVER,
	[34] = SIP_HDR_TIMESTAMP,
	[38] = SIP_HDR_CALL_ID,
	[42] = SIP_HDR_PRIORITY,
	[45] = SIP_HDR_EVENT,
	[49] = SIP_HDR_EXPIRES,
	[50] = SIP_HDR_FROM,
	[51] = SIP_HDR_CONTENT_LENGTH,
	[52] = SIP_HDR_CONTACT,
	[53] = SIP_HDR_CONTENT_ENCODING,
	[60] = SIP_HDR_REFERRED_BY,
	[64] = SIP_HDR_CONTENT_DISPOSITION,
	[65] = SIP_HDR_REPLACES,
	[68] = SIP_HDR_PROXY_AUTHENTICATE,
	[69] = SIP_HDR_WWW_AUTHENTICATE,
	[72] = SIP_HDR_P_ASSERTED_IDENTITY,
	[73] = SIP_HDR_MIN_SE,
	[74] = SIP_HDR_ALLOW_EVENTS,
	[75] = SIP_HDR_ALLOW,
	[76] = SIP_HDR_RETRY_AFTER,
	[77] = SIP_HDR_SUBSCRIPTION_STATE,
	[80] = SIP_HDR_ROUTE,
	[86] = SIP_HDR_MIN_EXPIRES,
	[87] = SIP_HDR_MAX_FORWARDS,
	[88] = SIP_HDR_REQUIRE,
	[89] = SIP_HDR_TO,
	[90] = SIP_HDR_SUBJECT,
	[93] = SIP_HDR_PROXY_AUTHORIZATION,
	[101] = SIP_HDR_PATH,
	[108] = SIP_HDR_SUPPORTED,
	[109] = SIP_HDR_CSEQ,
	[113] = SIP_HDR_CONTENT_TYPE,
	[119] = SIP_HDR_USER_AGENT,
	[123] = SIP_HDR_UNSUPPORTED,
	[126] = SIP_HDR_WARNING,
};

/*
 * The hash of the lower-cased name.  Bytes are lower-cased with | 0x20,
 * which agrees with real lower-casing on letters and '-', the only bytes
 * table names hold: a name equal to a table name (any case) hashes to
 * its slot, and any other name is refused by name_eq() wherever it
 * lands.
 */
static unsigned hdr_hash(const unsigned char *s, size_t len)
{
	return (unsigned)(9 * len + 2u * (s[0] | 0x20u) +
			  16u * (s[len - 1] | 0x20u) + (s[1] | 0x20u)) &
	       (HDR_HASH_SIZE - 1);
}

static uint64_t ld64(const char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint32_t ld32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t ld16(const char *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

/*
 * n (>= 2) bytes at a equal the table name c ignoring ASCII case, a word
 * at a time.  Table names hold letters and '-' only.  (x | 0x20) equals
 * (y | 0x20) for a letter y exactly when x is y in either case; for '-'
 * it also holds for CR (0x0d), so any byte below 0x20 in the input is
 * refused separately (the has-less-than bit trick).  Loads stay inside
 * both strings: the first and last words overlap for odd lengths.
 */
static bool name_eq(const char *a, const char *c, size_t n)
{
	const uint64_t m = 0x2020202020202020ull, h = 0x8080808080808080ull;
	uint64_t x, y, diff = 0, low = 0;
	uint32_t x4, y4;
	size_t i;

	if (n < 4) {
		x4 = (uint32_t)ld16(a) | (uint32_t)ld16(a + n - 2) << 16;
		y4 = (uint32_t)ld16(c) | (uint32_t)ld16(c + n - 2) << 16;
		return ((x4 | (uint32_t)m) == (y4 | (uint32_t)m)) &&
		       !((x4 - (uint32_t)m) & ~x4 & (uint32_t)h);
	}
	if (n < 8) {
		x = ld32(a) | (uint64_t)ld32(a + n - 4) << 32;
		y = ld32(c) | (uint64_t)ld32(c + n - 4) << 32;
		return ((x | m) == (y | m)) && !((x - m) & ~x & h);
	}
	for (i = 0; i + 8 < n; i += 8) {
		x = ld64(a + i);
		y = ld64(c + i);
		diff |= (x | m) ^ (y | m);
		low |= (x - m) & ~x & h;
	}
	x = ld64(a + n - 8);
	y = ld64(c + n - 8);
	diff |= (x | m) ^ (y | m);
	low |= (x - m) & ~x & h;
	return !diff && !low;
}

/*
 * Classify a header name (as on the wire, without the colon).  Compact
 * forms and long names alike, case-insensitively.  A name that is not
 * in the table, or an empty one, gives SIP_HDR_OTHER.  Costs one hash
 * and a compare of at most three words.
 */
enum sip_hdr_id sip_hdr_classify(struct str name)
{
	const unsigned char *s = (const unsigned char *)name.p;
	const struct hdr_def *d;
	unsigned id;

	if (name.len == 1) {
		unsigned char c = sip__lc(s[0]);

		if (c < 'a' || c > 'z')
			return SIP_HDR_OTHER;
		return (enum sip_hdr_id)hdr_compact[c - 'a'];
	}
	if (name.len < 2 || name.len > 19)
		return SIP_HDR_OTHER;
	id = hdr_index[hdr_hash(s, name.len)];
	d = &hdr_defs[id];
	if (id == SIP_HDR_OTHER || d->len != name.len ||
	    !name_eq(name.p, d->name, name.len))
		return SIP_HDR_OTHER;
	return (enum sip_hdr_id)id;
}

/* Canonical long name, static; "" for SIP_HDR_OTHER or a bad id. */
const char *sip_hdr_name(enum sip_hdr_id id)
{
	if ((unsigned)id >= SIP_HDR__COUNT)
		return "";
	return hdr_defs[id].name;
}

/* True for headers whose value is a comma-separated list of elements. */
bool sip_hdr_is_list(enum sip_hdr_id id)
{
	if ((unsigned)id >= SIP_HDR__COUNT)
		return false;
	return hdr_defs[id].list;
}

/*
 * Find the end of the next list element in s: the offset of the first
 * comma outside quoted strings and <...>, or s.len.  An unbalanced quote
 * or '<' runs to the end, so the whole rest becomes one element and its
 * own parser refuses it.
 */
static size_t list_elem_end(struct str s)
{
	bool quoted = false, angle = false;
	size_t i;

	for (i = 0; i < s.len; i++) {
		char c = s.p[i];

		if (quoted) {
			if (c == '\\')
				i++;
			else if (c == '"')
				quoted = false;
		} else if (angle) {
			if (c == '>')
				angle = false;
		} else if (c == '"') {
			quoted = true;
		} else if (c == '<') {
			angle = true;
		} else if (c == ',') {
			return i;
		}
	}
	return s.len;
}

/*
 * Split a list header value at top-level commas (see sip.h).  Elements
 * are trimmed of LWS (folds included).  Empty elements are returned as
 * such ("a,,b" gives "a", "", "b"; "a," gives "a", ""), so callers can
 * refuse them; an empty value gives one empty element.  When the last
 * element has been returned, rest->p becomes NULL and the next call
 * returns false.
 */
bool sip_list_next(struct str *rest, struct str *elemp)
{
	size_t end;

	if (!rest || !rest->p)
		return false;
	/* Most list headers hold one element: no comma, no quote scan. */
	end = sip__find_byte(rest->p, rest->p, rest->p + rest->len, ',')
		      ? list_elem_end(*rest)
		      : rest->len;
	*elemp = str_trim(str_make(rest->p, end));
	if (end >= rest->len)
		*rest = STR_NULL;
	else
		*rest = str_make(rest->p + end + 1, rest->len - end - 1);
	return true;
}
