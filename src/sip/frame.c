/*
 * frame.c - message framing on stream transports (TCP, TLS): where does
 * the next SIP message end in the bytes buffered on a connection?
 * RFC 3261 18.3 (Content-Length is mandatory on streams, the header
 * section ends at the first empty line), 7.5 (CRLFs before a start line)
 * and RFC 5626 3.5.1 (CRLFCRLF ping, CRLF pong keep-alives).
 *
 * The framer only finds boundaries: the message itself is validated by
 * sip_msg_parse(SIP_PARSE_STREAM) on the frame it returns.  It reads the
 * Content-Length header (long or compact form, folded or not) and
 * refuses a missing, duplicated or malformed one, and any frame that
 * would exceed the message size limit, before the body is buffered.
 *
 * Cost: sip_frame() searches the header section from the start on each
 * call, bounded by the message size limit (memmem, so a few GB/s).
 * sip_frame_r() keeps how far it searched and, once the header section
 * is complete, the frame length, so a connection fed one byte at a time
 * costs O(total bytes) overall.
 *
 * Keep-alives: "\r\n\r\n" is a ping (answer "\r\n"); "\r\n" not followed
 * by "\r\n" is a pong.  A lone "\r\n" with nothing after it yet is taken
 * as a pong at once, so a client waiting for its pong never stalls; the
 * price is that a ping split by TCP after its first CRLF reads as two
 * pongs (the peer's flow check then times out and it reconnects).
 */
#include "sip/sip_int.h"

#include <errno.h>
#include <string.h>

static ssize_t frame_fail(struct sip_frame_state *st, struct sip_perr *errp,
			  enum sip_perr_code code, const char *base,
			  const char *at, const char *reason)
{
	st->scanned = 0;
	st->frame_len = 0;
	sip__fail(errp, code, base, at, reason);
	return code == SIP_PE_TOO_LARGE ? -EMSGSIZE : -EINVAL;
}

/* The end of the logical line (folds followed) starting at p, before
 * end: the position of its CRLF. */
static const char *line_end(const char *p, const char *end)
{
	for (;;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			return end;
		if (nl + 1 < end && (nl[1] == ' ' || nl[1] == '\t')) {
			p = nl + 1;
			continue;
		}
		return nl > p && nl[-1] == '\r' ? nl - 1 : nl;
	}
}

/*
 * Find Content-Length in the header section buf[0..hlen) (which ends in
 * CRLFCRLF).  Returns its value, or -1 (missing), or -2 (error, *errp
 * set).
 */
static int64_t find_clen(const char *buf, size_t hlen, size_t max_msg,
			 struct sip_perr *errp)
{
	const char *end = buf + hlen - 2, *p, *q, *eol;
	int64_t clen = -1;

	p = memchr(buf, '\n', hlen);
	for (p = p ? p + 1 : end; p < end; p = eol + 2) {
		uint64_t v;
		int err;

		eol = line_end(p, end);
		q = p;
		while (q < eol && sip__is((unsigned char)*q, SIP__C_TOKEN))
			q++;
		if (sip_hdr_classify(str_span(p, q)) != SIP_HDR_CONTENT_LENGTH)
			continue;
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		if (q >= eol || *q != ':')
			continue; /* not a field: the parser judges */
		if (clen >= 0) {
			sip__fail(errp, SIP_PE_DUPLICATE, buf, p,
				  "duplicate Content-Length");
			return -2;
		}
		err = str_to_u64(&v, str_trim(str_span(q + 1, eol)), max_msg);
		if (err) {
			sip__fail(errp,
				  err == -ERANGE ? SIP_PE_TOO_LARGE
						 : SIP_PE_SYNTAX,
				  buf, q + 1, "bad Content-Length");
			return -2;
		}
		clen = (int64_t)v;
	}
	return clen;
}

/* Keep-alives at the start of the buffer (buf[0] == '\r'). */
static ssize_t frame_crlf(struct sip_frame_state *st, const char *buf,
			  size_t len, enum sip_frame_kind *kindp,
			  struct sip_perr *errp)
{
	if (len < 2)
		return 0;
	if (buf[1] != '\n')
		return frame_fail(st, errp, SIP_PE_SYNTAX, buf, buf + 1,
				  "bare CR on stream");
	if (len == 2 || buf[2] != '\r') {
		*kindp = SIP_FRAME_PONG;
		return 2;
	}
	if (len == 3)
		return 0;
	if (buf[3] != '\n')
		return frame_fail(st, errp, SIP_PE_SYNTAX, buf, buf + 3,
				  "bare CR on stream");
	*kindp = SIP_FRAME_PING;
	return 4;
}

/*
 * Resumable framer (see sip.h).  Needs-more answers leave st holding
 * what was learnt; a frame or an error resets it.
 */
ssize_t sip_frame_r(struct sip_frame_state *st, const char *buf, size_t len,
		    const struct sip_limits *lim, enum sip_frame_kind *kindp,
		    struct sip_perr *errp)
{
	enum sip_frame_kind dummy;
	size_t max_msg, from, upto, hlen;
	struct sip_perr e = {0};
	const char *eoh;
	int64_t clen;

	if (!kindp)
		kindp = &dummy;
	*kindp = SIP_FRAME_MSG;
	if (!lim)
		lim = &sip_limits_default;
	max_msg = lim->max_msg_size < SIP_MAX_MSG_SIZE ? lim->max_msg_size
						       : SIP_MAX_MSG_SIZE;
	if (!buf || len == 0)
		return 0;
	if (st->frame_len) {
		if (len < st->frame_len)
			return 0;
		hlen = st->frame_len;
		st->frame_len = 0;
		st->scanned = 0;
		return (ssize_t)hlen;
	}
	if (buf[0] == '\r')
		return frame_crlf(st, buf, len, kindp, errp);
	if (!sip__is((unsigned char)buf[0], SIP__C_TOKEN))
		return frame_fail(st, errp, SIP_PE_SYNTAX, buf, buf,
				  "not a SIP message");
	/* Resume 3 bytes early: CRLFCRLF may straddle the old end. */
	from = st->scanned > 3 ? st->scanned - 3 : 0;
	upto = len < max_msg ? len : max_msg;
	eoh = from < upto ? memmem(buf + from, upto - from, "\r\n\r\n", 4)
			  : NULL;
	if (!eoh) {
		if (len >= max_msg)
			return frame_fail(st, errp, SIP_PE_TOO_LARGE, buf,
					  buf + max_msg,
					  "header section too large");
		st->scanned = upto;
		return 0;
	}
	hlen = (size_t)(eoh + 4 - buf);
	clen = find_clen(buf, hlen, max_msg, &e);
	if (clen == -2)
		return frame_fail(st, errp, e.code, buf, buf + e.off, e.reason);
	if (clen < 0)
		return frame_fail(st, errp, SIP_PE_MISSING, buf, eoh,
				  "no Content-Length on stream");
	if ((uint64_t)clen > max_msg - hlen)
		return frame_fail(st, errp, SIP_PE_TOO_LARGE, buf, eoh,
				  "message too large");
	st->scanned = 0;
	if (len < hlen + (size_t)clen) {
		st->frame_len = hlen + (size_t)clen;
		return 0;
	}
	return (ssize_t)(hlen + (size_t)clen);
}

/* Stateless framer (see sip.h): rescans the buffered header section. */
ssize_t sip_frame(const char *buf, size_t len, const struct sip_limits *lim,
		  enum sip_frame_kind *kindp, struct sip_perr *errp)
{
	struct sip_frame_state st = {0, 0};

	return sip_frame_r(&st, buf, len, lim, kindp, errp);
}
