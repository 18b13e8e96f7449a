/*
 * reply.c - stateless responses (RFC 3261 8.2.6 and 16.7 for 100 Trying),
 * for parsed requests and for requests that failed to parse.
 *
 * A response copies Via, From, To, Call-ID and CSeq from the request.  For
 * a request that failed to parse, those headers are salvaged leniently: we
 * answer 400/505/513 with the parser's reason so an honest peer learns what
 * was wrong, but only when the salvaged headers are clean enough that the
 * reply cannot carry attacker bytes that are unsafe in a header.
 */
#include <errno.h>
#include <string.h>

#include "core/buf.h"
#include "sip/sip_int.h"

enum {
	REPLY_MAX_HDR_LINES = 2 * SIP_MAX_HEADERS,
};

const char *sip_status_reason(int status)
{
	switch (status) {
	case 100:
		return "Trying";
	case 180:
		return "Ringing";
	case 181:
		return "Call Is Being Forwarded";
	case 182:
		return "Queued";
	case 183:
		return "Session Progress";
	case 200:
		return "OK";
	case 202:
		return "Accepted";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 407:
		return "Proxy Authentication Required";
	case 408:
		return "Request Timeout";
	case 413:
		return "Request Entity Too Large";
	case 415:
		return "Unsupported Media Type";
	case 416:
		return "Unsupported URI Scheme";
	case 420:
		return "Bad Extension";
	case 423:
		return "Interval Too Brief";
	case 480:
		return "Temporarily Unavailable";
	case 481:
		return "Call/Transaction Does Not Exist";
	case 482:
		return "Loop Detected";
	case 483:
		return "Too Many Hops";
	case 484:
		return "Address Incomplete";
	case 486:
		return "Busy Here";
	case 487:
		return "Request Terminated";
	case 488:
		return "Not Acceptable Here";
	case 489:
		return "Bad Event";
	case 500:
		return "Server Internal Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Server Time-out";
	case 505:
		return "Version Not Supported";
	case 513:
		return "Message Too Large";
	case 603:
		return "Decline";
	default:
		return "";
	}
}

static int put_status_line(struct buf *out, int status, struct str reason)
{
	int err;

	if (status < 100 || status > 699)
		return -EINVAL;
	if (reason.len == 0)
		reason = str_cstr(sip_status_reason(status));
	err = buf_append_cstr(out, "SIP/2.0 ");
	err = err ? err : buf_append_u64(out, (unsigned)status);
	err = err ? err : buf_append_cstr(out, " ");
	err = err ? err : buf_append_str(out, reason);
	return err ? err : buf_append_cstr(out, "\r\n");
}

/* Does a To value already carry a tag parameter?  Looks for ";tag" after
 * the URI (outside <> and quotes). */
static bool has_tag(struct str v)
{
	bool quoted = false;
	int angle = 0;
	size_t i;

	for (i = 0; i < v.len; i++) {
		char c = v.p[i];

		if (quoted) {
			if (c == '\\')
				i++;
			else if (c == '"')
				quoted = false;
			continue;
		}
		if (c == '"')
			quoted = true;
		else if (c == '<')
			angle++;
		else if (c == '>')
			angle--;
		else if (c == ';' && angle <= 0) {
			struct str p = str_ltrim(str_skip(v, i + 1));

			if (str_casestarts(p, STR("tag")) &&
			    str_ltrim(str_skip(p, 3)).len &&
			    str_ltrim(str_skip(p, 3)).p[0] == '=')
				return true;
		}
	}
	return false;
}

/* Write "Name: value" with folds collapsed to one SP, then CRLF. */
static int put_hdr(struct buf *out, struct str name, struct str value,
		   bool add_tag, struct str to_tag)
{
	size_t i;
	int err;

	err = buf_append_str(out, name);
	err = err ? err : buf_append_cstr(out, ": ");
	for (i = 0; !err && i < value.len; i++) {
		char c = value.p[i];

		if (c == '\r' || c == '\n') {
			while (i + 1 < value.len && str_is_lws(value.p[i + 1]))
				i++;
			c = ' ';
		}
		err = buf_append(out, &c, 1);
	}
	if (!err && add_tag) {
		err = buf_append_cstr(out, ";tag=");
		err = err ? err : buf_append_str(out, to_tag);
	}
	return err ? err : buf_append_cstr(out, "\r\n");
}

static int put_tail(struct buf *out, struct str extra)
{
	int err = buf_append_str(out, extra);

	return err ? err : buf_append_cstr(out, "Content-Length: 0\r\n\r\n");
}

static bool wants_tag(int status, struct str to_tag)
{
	return status > 100 && to_tag.len > 0;
}

int sip_reply(struct buf *out, const struct sip_msg *req, int status,
	      struct str reason, struct str to_tag, struct str extra)
{
	size_t start = out->len;
	unsigned i;
	int err;

	if (!req || !req->is_request)
		return -EINVAL;
	err = put_status_line(out, status, reason);
	for (i = 0; !err && i < req->nhdr; i++) {
		const struct sip_hdr *h = &req->hdr[i];
		bool tag = false;

		switch (h->id) {
		case SIP_HDR_TO:
			tag = wants_tag(status, to_tag) && req->to.tag.len == 0;
			/* fall through */
		case SIP_HDR_VIA:
		case SIP_HDR_FROM:
		case SIP_HDR_CALL_ID:
		case SIP_HDR_CSEQ:
			err = put_hdr(out, str_cstr(sip_hdr_name(h->id)),
				      h->value, tag, to_tag);
			break;
		default:
			break;
		}
	}
	err = err ? err : put_tail(out, extra);
	if (err)
		out->len = start;
	return err;
}

/* ---------------------------------------------------- lenient salvage */

struct salvage {
	struct str name[REPLY_MAX_HDR_LINES];
	struct str value[REPLY_MAX_HDR_LINES];
	enum sip_hdr_id id[REPLY_MAX_HDR_LINES];
	unsigned n;
	unsigned count[SIP_HDR__COUNT];
};

/* Header bytes we are willing to echo: printable ASCII, UTF-8, tab, and
 * CR/LF only as part of a fold. */
static bool clean_value(struct str v)
{
	size_t i;

	for (i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.p[i];

		if (c == '\r' || c == '\n') {
			if (i + 1 < v.len &&
			    (v.p[i + 1] == '\n' || v.p[i + 1] == ' ' ||
			     v.p[i + 1] == '\t'))
				continue;
			return false;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

/* End of the line starting at p (points at CR or LF, or end). */
static const char *line_end(const char *p, const char *end)
{
	while (p < end && *p != '\r' && *p != '\n')
		p++;
	return p;
}

static const char *next_line(const char *p, const char *end)
{
	if (p < end && *p == '\r')
		p++;
	if (p < end && *p == '\n')
		p++;
	return p;
}

static int salvage_request_line(struct str raw, const char **pp)
{
	const char *p = raw.p, *end = raw.p + raw.len, *e;
	struct str method;

	e = line_end(p, end);
	if (e == end || (size_t)(e - p) > SIP_MAX_START_LINE)
		return -EINVAL;
	method = str_span(p, p + (str_chr(str_span(p, e), ' ') < 0
					  ? 0
					  : str_chr(str_span(p, e), ' ')));
	if (!sip_is_token(method) || str_casestarts(method, STR("SIP/")))
		return -EINVAL;
	*pp = next_line(e, end);
	return 0;
}

static int salvage_headers(struct salvage *s, struct str raw, const char *p)
{
	const char *end = raw.p + raw.len;

	s->n = 0;
	memset(s->count, 0, sizeof(s->count));
	while (p < end && *p != '\r' && *p != '\n') {
		const char *e = line_end(p, end), *colon;
		struct str name;
		enum sip_hdr_id id;

		/* Extend over folded continuation lines. */
		while (next_line(e, end) < end && (*next_line(e, end) == ' ' ||
						   *next_line(e, end) == '\t'))
			e = line_end(next_line(e, end), end);
		if ((size_t)(e - p) > SIP_MAX_LINE ||
		    s->n == REPLY_MAX_HDR_LINES)
			return -EINVAL;
		colon = memchr(p, ':', (size_t)(e - p));
		if (colon) {
			name = str_trim(str_span(p, colon));
			id = sip_hdr_classify(name);
			if (id == SIP_HDR_VIA || id == SIP_HDR_FROM ||
			    id == SIP_HDR_TO || id == SIP_HDR_CALL_ID ||
			    id == SIP_HDR_CSEQ) {
				s->name[s->n] = name;
				s->value[s->n] =
					str_trim(str_span(colon + 1, e));
				s->id[s->n++] = id;
				s->count[id]++;
			}
		}
		if (e == end)
			return -EINVAL; /* no end of headers */
		p = next_line(e, end);
	}
	return 0;
}

static bool salvage_ok(const struct salvage *s)
{
	unsigned i;

	if (s->count[SIP_HDR_VIA] == 0 || s->count[SIP_HDR_FROM] != 1 ||
	    s->count[SIP_HDR_TO] != 1 || s->count[SIP_HDR_CALL_ID] != 1 ||
	    s->count[SIP_HDR_CSEQ] != 1)
		return false;
	for (i = 0; i < s->n; i++)
		if (s->value[i].len == 0 || !clean_value(s->value[i]))
			return false;
	return true;
}

int sip_reply_raw(struct buf *out, struct str raw, int status,
		  struct str reason, struct str to_tag, struct str extra)
{
	struct salvage s;
	size_t start = out->len;
	const char *p;
	unsigned i;
	int err;

	if (!raw.p || salvage_request_line(raw, &p) != 0)
		return -EINVAL;
	if (salvage_headers(&s, raw, p) != 0 || !salvage_ok(&s))
		return -EINVAL;
	err = put_status_line(out, status, reason);
	for (i = 0; !err && i < s.n; i++) {
		bool tag = s.id[i] == SIP_HDR_TO && wants_tag(status, to_tag) &&
			   !has_tag(s.value[i]);

		err = put_hdr(out, str_cstr(sip_hdr_name(s.id[i])), s.value[i],
			      tag, to_tag);
	}
	err = err ? err : put_tail(out, extra);
	if (err)
		out->len = start;
	return err;
}
