/*
 * sip.h - public interface of the SIP layer: message, URI, header and SDP
 * parsing, the stream framer and the message/SDP builders.
 *
 * RFC 3261 sections 7, 19, 20 and 25; RFC 8866 (SDP); RFC 4568 (crypto).
 *
 * Everything here is zero-copy: a parsed message is a set of slices into
 * the caller's receive buffer.  The caller owns that buffer and must keep
 * it alive, unchanged, for as long as the parsed message is used.  No
 * function in this header allocates memory, except the builders, which
 * write into a caller-supplied struct buf.
 *
 * Parsers are pure functions: no I/O, no globals, safe on hostile input.
 */
#ifndef SIPGUARD_SIP_H
#define SIPGUARD_SIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/edit.h"
#include "core/str.h"

struct buf;

/* ---------------------------------------------------------------- limits */

/*
 * Hard, compile-time ceilings.  They size the fixed arrays inside struct
 * sip_msg, so parsing never allocates.  struct sip_limits may lower each
 * of them at run time (configuration), never raise them.
 */
enum {
	SIP_MAX_MSG_SIZE = 65535,  /* bytes, start line to end of body */
	SIP_MAX_HEADERS = 96,      /* header field lines */
	SIP_MAX_LINE = 8192,       /* one header field, folded lines incl. */
	SIP_MAX_START_LINE = 4096, /* request line or status line */
	SIP_MAX_VIA = 64,          /* Via hops in all (longreq has 34) */
	SIP_MAX_URI = 2048,        /* bytes in one URI */
	SIP_MAX_ROUTE = 16,        /* Route entries, likewise Record-Route */
	SIP_MAX_CONTACT = 16,      /* Contact entries */
	SIP_MAX_PARTS = 8,         /* multipart body parts */
	SIP_MAX_PARAMS = 32,       /* parameters on one URI or header */
};

struct sip_limits {
	size_t max_msg_size;
	unsigned max_headers;
	size_t max_line;
	unsigned max_via;
	size_t max_uri;
	unsigned max_parts;
};

/* The defaults: every field at its compile-time ceiling. */
extern const struct sip_limits sip_limits_default;

/* ---------------------------------------------------------------- errors */

/*
 * Why a message was refused.  Every parse error carries one of these, a
 * static human-readable reason (safe to put in a reason phrase: no input
 * bytes are echoed) and the byte offset where parsing stopped.
 */
enum sip_perr_code {
	SIP_PE_NONE = 0,
	SIP_PE_SYNTAX,      /* malformed: 400 */
	SIP_PE_VERSION,     /* not SIP/2.0: 505 */
	SIP_PE_TOO_LARGE,   /* message size limit: 513 */
	SIP_PE_LIMIT,       /* header count, line length, Via count...: 400 */
	SIP_PE_DUPLICATE,   /* duplicate single-instance header: 400 */
	SIP_PE_MISSING,     /* mandatory header missing: 400 */
	SIP_PE_CSEQ_METHOD, /* CSeq method differs from request method: 400 */
	SIP_PE_BODY,        /* Content-Length inconsistent with the body: 400 */
	SIP_PE_URI_SCHEME,  /* Request-URI scheme we cannot serve: 416 */
	SIP_PE_INCOMPLETE,  /* stream: need more bytes (not an error) */
};

struct sip_perr {
	enum sip_perr_code code;
	uint32_t off;       /* byte offset in the input */
	const char *reason; /* static string, never input bytes */
};

/* The SIP status a server should answer with for this error (400, 505...). */
int sip_perr_status(enum sip_perr_code code);

/* --------------------------------------------------------------- methods */

enum sip_method {
	SIP_METHOD_UNKNOWN = 0, /* extension method: see the method slice */
	SIP_METHOD_INVITE,
	SIP_METHOD_ACK,
	SIP_METHOD_BYE,
	SIP_METHOD_CANCEL,
	SIP_METHOD_REGISTER,
	SIP_METHOD_OPTIONS,
	SIP_METHOD_PRACK,
	SIP_METHOD_SUBSCRIBE,
	SIP_METHOD_NOTIFY,
	SIP_METHOD_PUBLISH,
	SIP_METHOD_INFO,
	SIP_METHOD_REFER,
	SIP_METHOD_MESSAGE,
	SIP_METHOD_UPDATE,
	SIP_METHOD__COUNT
};

/* Case-sensitive (methods are case-sensitive, RFC 3261 7.1). */
enum sip_method sip_method_from_str(struct str s);
const char *sip_method_name(enum sip_method m);
/* A token per RFC 3261 25.1 (non-empty, token characters only). */
bool sip_is_token(struct str s);

/* ------------------------------------------------------------------ URIs */

enum sip_uri_scheme {
	SIP_URI_OTHER = 0, /* opaque: only scheme and raw are set */
	SIP_URI_SIP,
	SIP_URI_SIPS,
	SIP_URI_TEL,
};

enum sip_host_type {
	SIP_HOST_NONE = 0,
	SIP_HOST_NAME,
	SIP_HOST_IPV4,
	SIP_HOST_IPV6, /* host slice includes the brackets */
};

struct sip_param {
	struct str name;
	struct str value; /* empty when the parameter has no '=' */
	bool has_value;
};

struct sip_uri {
	struct str raw; /* the whole URI */
	struct str scheme;
	enum sip_uri_scheme sch;
	struct str user; /* still %-escaped; tel: the number */
	struct str password;
	bool has_userinfo;
	struct str host;
	enum sip_host_type host_type;
	uint16_t port;
	bool has_port;
	struct str params;  /* everything after the first ';' of hostport */
	struct str headers; /* after '?', without it */
	/* Well-known parameters, located once. */
	struct str transport, user_param, maddr, method, ttl;
	bool lr;
	/* Other parameters: sip_params_parse(uri.params) on demand. */
};

/*
 * Parse one URI (no enclosing <>, no surrounding white space).  Rejects
 * URIs longer than max_len, bad escapes, bad ports, unbalanced IPv6
 * brackets, control characters.  Unknown schemes are accepted as opaque
 * (sch = SIP_URI_OTHER) if they match RFC 3986 scheme syntax.
 * Returns 0 or -EINVAL (*errp says why); the result points into s.
 */
int sip_uri_parse(struct sip_uri *urip, struct str s, size_t max_len,
		  struct sip_perr *errp);

/* RFC 3261 19.1.4 URI equality.  Both must be parsed. */
bool sip_uri_equal(const struct sip_uri *a, const struct sip_uri *b);

/* Decode %-escapes into dst (at most dstsz bytes); returns length or <0. */
ssize_t sip_unescape(char *dst, size_t dstsz, struct str s);

/* -------------------------------------------------------- header classes */

enum sip_hdr_id {
	SIP_HDR_OTHER = 0,
	SIP_HDR_VIA,
	SIP_HDR_FROM,
	SIP_HDR_TO,
	SIP_HDR_CALL_ID,
	SIP_HDR_CSEQ,
	SIP_HDR_MAX_FORWARDS,
	SIP_HDR_CONTACT,
	SIP_HDR_ROUTE,
	SIP_HDR_RECORD_ROUTE,
	SIP_HDR_CONTENT_LENGTH,
	SIP_HDR_CONTENT_TYPE,
	SIP_HDR_CONTENT_ENCODING,
	SIP_HDR_CONTENT_DISPOSITION,
	SIP_HDR_EXPIRES,
	SIP_HDR_MIN_EXPIRES,
	SIP_HDR_AUTHORIZATION,
	SIP_HDR_PROXY_AUTHORIZATION,
	SIP_HDR_WWW_AUTHENTICATE,
	SIP_HDR_PROXY_AUTHENTICATE,
	SIP_HDR_USER_AGENT,
	SIP_HDR_SERVER,
	SIP_HDR_SUPPORTED,
	SIP_HDR_REQUIRE,
	SIP_HDR_PROXY_REQUIRE,
	SIP_HDR_UNSUPPORTED,
	SIP_HDR_ALLOW,
	SIP_HDR_EVENT,
	SIP_HDR_ALLOW_EVENTS,
	SIP_HDR_SUBSCRIPTION_STATE,
	SIP_HDR_REFER_TO,
	SIP_HDR_REFERRED_BY,
	SIP_HDR_REPLACES,
	SIP_HDR_P_ASSERTED_IDENTITY,
	SIP_HDR_SESSION_EXPIRES,
	SIP_HDR_MIN_SE,
	SIP_HDR_PATH,
	SIP_HDR_RETRY_AFTER,
	SIP_HDR_WARNING,
	SIP_HDR_ACCEPT,
	SIP_HDR_DATE,
	SIP_HDR_TIMESTAMP,
	SIP_HDR_RSEQ,
	SIP_HDR_RACK,
	SIP_HDR_MIME_VERSION,
	SIP_HDR_ORGANIZATION,
	SIP_HDR_SUBJECT,
	SIP_HDR_PRIORITY,
	SIP_HDR__COUNT
};

/*
 * Classify a header name, long or compact form, case-insensitively,
 * through one table.  Unknown names give SIP_HDR_OTHER.
 */
enum sip_hdr_id sip_hdr_classify(struct str name);
/* Canonical long name ("Via", "Call-ID"); "" for SIP_HDR_OTHER. */
const char *sip_hdr_name(enum sip_hdr_id id);
/* Headers whose value is a comma-separated list (Via, Contact, Route...). */
bool sip_hdr_is_list(enum sip_hdr_id id);

/*
 * Split a list header value at top-level commas: commas inside quoted
 * strings (with \-escapes) and inside <...> do not separate.  Each call
 * stores the next element, trimmed, in *elemp and returns true; returns
 * false at the end.  An unbalanced quote or '<' makes the whole rest one
 * element (the element parser then rejects it).
 */
bool sip_list_next(struct str *rest, struct str *elemp);

/* ------------------------------------------------------ structured parts */

/* Generic ";name=value" parameter list (header params). */
struct sip_params {
	struct sip_param p[SIP_MAX_PARAMS];
	unsigned n;
};
/* Parse ";a=b;c" (leading ';' optional, LWS around tokens allowed). */
int sip_params_parse(struct sip_params *pp, struct str s,
		     struct sip_perr *errp);
/* Value of parameter `name` (case-insensitive), or NULL if absent. */
const struct sip_param *sip_params_find(const struct sip_params *pp,
					const char *name);

/* name-addr / addr-spec with header parameters: From, To, Contact,
 * Route, Record-Route, Refer-To, P-Asserted-Identity, Path... */
struct sip_nameaddr {
	struct str raw;
	struct str display; /* without quotes; may contain \-escapes */
	struct sip_uri uri;
	bool angle;        /* <uri> form */
	struct str params; /* header params after the URI, raw */
	struct str tag;    /* ;tag= value if present */
	bool star;         /* Contact: * */
	/* Contact params */
	uint32_t expires;
	bool has_expires;
	uint16_t q1000; /* q * 1000; 1000 when absent */
};
int sip_nameaddr_parse(struct sip_nameaddr *nap, struct str s, size_t max_uri,
		       struct sip_perr *errp);

struct sip_via {
	struct str raw;
	struct str proto_name; /* "SIP" */
	struct str proto_ver;  /* "2.0" */
	struct str transport;  /* "UDP", "TCP", "TLS", "SCTP", "WS"... */
	struct str host;
	enum sip_host_type host_type;
	uint16_t port;
	bool has_port;
	struct str params;
	struct str branch;
	struct str received;
	struct str maddr;
	struct str ttl;
	struct str rport; /* value; empty if bare ";rport" */
	bool has_rport;
	bool has_branch;
	bool has_received;
};
int sip_via_parse(struct sip_via *viap, struct str s, struct sip_perr *errp);

struct sip_cseq {
	uint32_t num; /* <= 2^31 - 1 */
	struct str method;
	enum sip_method mid;
};
int sip_cseq_parse(struct sip_cseq *cp, struct str s, struct sip_perr *errp);

/* Digest credentials or challenge (RFC 3261 22.4, RFC 8760). */
struct sip_digest {
	struct str scheme; /* "Digest" */
	struct str username, realm, nonce, uri, response, algorithm;
	struct str cnonce, opaque, qop, nc, domain, stale, userhash;
	bool username_quoted;
};
/*
 * Parse an Authorization/Proxy-Authorization or WWW-/Proxy-Authenticate
 * value.  Quoted values are returned without the quotes (escapes kept).
 * Duplicate parameters are an error.
 */
int sip_digest_parse(struct sip_digest *dp, struct str s,
		     struct sip_perr *errp);

/* token (";" params)*: Event, Subscription-State, Session-Expires,
 * Content-Disposition, Retry-After... */
struct sip_tokparams {
	struct str value;
	struct sip_params params;
};
int sip_tokparams_parse(struct sip_tokparams *tp, struct str s,
			struct sip_perr *errp);

/* Content-Type: type "/" subtype *(; param) */
struct sip_ctype {
	struct str type, subtype;
	struct str boundary; /* multipart boundary, unquoted */
	struct sip_params params;
};
int sip_ctype_parse(struct sip_ctype *ctp, struct str s, struct sip_perr *errp);

/* Replaces: call-id *(; params) with to-tag, from-tag, early-only. */
struct sip_replaces {
	struct str call_id, to_tag, from_tag;
	bool early_only;
};
int sip_replaces_parse(struct sip_replaces *rp, struct str s,
		       struct sip_perr *errp);

/* ---------------------------------------------------------------- message */

struct sip_hdr {
	enum sip_hdr_id id;
	struct str name;  /* as on the wire */
	struct str value; /* trimmed; may span folded lines */
	struct str line;  /* the whole field incl. its CRLF (builder) */
	int16_t next;     /* next header with the same id, or -1 */
};

enum sip_parse_flags {
	SIP_PARSE_DGRAM = 0,  /* UDP: RFC 3261 18.3 body rules */
	SIP_PARSE_STREAM = 1, /* TCP/TLS: Content-Length is mandatory */
};

struct sip_msg {
	struct str raw; /* the whole message as parsed */
	bool is_request;

	/* request line */
	struct str method;
	enum sip_method mid;
	struct str ruri_raw;
	struct sip_uri ruri;
	/* status line */
	uint16_t status;
	struct str reason;

	struct sip_hdr hdr[SIP_MAX_HEADERS];
	unsigned nhdr;
	int16_t first[SIP_HDR__COUNT]; /* first header of each id, or -1 */
	uint8_t count[SIP_HDR__COUNT]; /* field lines of each id (sat.) */

	/* Parsed eagerly: what every proxy decision needs. */
	struct sip_via via[SIP_MAX_VIA];
	unsigned nvia;
	struct sip_nameaddr from, to;
	struct str call_id;
	struct sip_cseq cseq;
	int max_forwards; /* -1 when absent */
	struct sip_nameaddr contact[SIP_MAX_CONTACT];
	unsigned ncontact;
	struct sip_nameaddr route[SIP_MAX_ROUTE];
	unsigned nroute;
	struct sip_nameaddr rr[SIP_MAX_ROUTE];
	unsigned nrr;
	struct str content_type; /* raw value */
	int64_t content_length;  /* -1 when absent */
	int64_t expires;         /* -1 when absent */
	struct str body;
	struct str user_agent; /* User-Agent or Server */
};

/*
 * Parse one complete SIP message in buf[0..len).
 *
 * The message is fully validated: start line, every header field's
 * syntax for the headers parsed eagerly above, duplicates of
 * single-instance headers (Content-Length, CSeq, Call-ID, Max-Forwards,
 * From, To), mandatory headers (From, To, Call-ID, CSeq, Via for
 * requests), CSeq method against request method, limits.
 *
 * Datagram mode (RFC 3261 18.3): a missing Content-Length means the body
 * runs to the end of the datagram; a Content-Length larger than the
 * remaining bytes is an error; extra bytes after the declared body are
 * ignored (msg->raw ends at the declared end).  Stream mode: the buffer
 * must hold exactly one framed message (see sip_frame()).
 *
 * Returns 0 on success, or -EINVAL / -EMSGSIZE with *errp filled in.
 * On error *msgp is left in an unspecified but safe state.
 * The result points into buf: the caller keeps buf alive and unchanged.
 */
int sip_msg_parse(struct sip_msg *msgp, const char *buf, size_t len,
		  const struct sip_limits *lim, unsigned flags,
		  struct sip_perr *errp);

/* First header with this id, or NULL; iterate with sip_hdr_next(). */
const struct sip_hdr *sip_msg_hdr(const struct sip_msg *msg,
				  enum sip_hdr_id id);
const struct sip_hdr *sip_hdr_next(const struct sip_msg *msg,
				   const struct sip_hdr *h);
/* First header with this exact name (case-insensitive), for SIP_HDR_OTHER. */
const struct sip_hdr *sip_msg_hdr_by_name(const struct sip_msg *msg,
					  struct str name);

/* Split a multipart body (RFC 2046) by the Content-Type boundary. */
struct sip_part {
	struct str headers; /* raw part headers */
	struct str ctype;   /* the part's Content-Type value, or empty */
	struct str body;
};
int sip_multipart_split(struct sip_part *parts, unsigned max_parts,
			unsigned *npartsp, struct str body, struct str boundary,
			struct sip_perr *errp);
/*
 * Walk a part's raw headers: the next header's name and value (trimmed,
 * folded continuation lines included in the value), *rest advanced past
 * it; false at the end.  Lines without a colon are skipped.
 */
bool sip_part_hdr_next(struct str *rest, struct str *name, struct str *val);
/* A part's header block holds a NUL or a CR not followed by LF. */
bool sip_part_hdrs_bad(struct str hdrs);
/* A Content-Transfer-Encoding that leaves the content as it is
 * (7bit, 8bit, binary: RFC 2045 6.1); anything else hides it. */
bool sip_cte_identity(struct str val);

/* ----------------------------------------------------------------- framer */

enum sip_frame_kind {
	SIP_FRAME_MSG = 0, /* one SIP message */
	SIP_FRAME_PING,    /* CRLFCRLF keep-alive: answer with CRLF */
	SIP_FRAME_PONG,    /* lone CRLF: keep-alive answer, ignore */
};

/*
 * Stream framer for TCP/TLS (RFC 3261 18.3, RFC 5626 3.5.1).
 * Looks at the bytes buffered so far on a connection and returns:
 *   > 0  the length of the next frame; *kindp says what it is;
 *     0  need more bytes (a partial message within limits);
 *   < 0  error (-EMSGSIZE, -EINVAL): the connection must be closed;
 *        *errp says why.
 * A message without Content-Length is an error on a stream.
 */
ssize_t sip_frame(const char *buf, size_t len, const struct sip_limits *lim,
		  enum sip_frame_kind *kindp, struct sip_perr *errp);

/*
 * Resumable form: the same answers, but remembers what it learnt about
 * the frame at the start of buf, so calling it again after each read
 * costs O(new bytes) instead of rescanning (sip_frame() rescans up to
 * the message size limit).  Keep one state per connection, zeroed; it
 * resets itself whenever a frame or an error is returned.  Between
 * calls the buffer may only grow at its end.
 */
struct sip_frame_state {
	size_t scanned;   /* bytes searched for the end of headers */
	size_t frame_len; /* message length once known, else 0 */
};
ssize_t sip_frame_r(struct sip_frame_state *st, const char *buf, size_t len,
		    const struct sip_limits *lim, enum sip_frame_kind *kindp,
		    struct sip_perr *errp);

/* ---------------------------------------------------------------- builder */

/*
 * Writes a modified copy of a parsed message in one pass, without
 * re-parsing.  Edits are recorded against the original bytes and applied
 * in order of position when sip_bld_write() runs.  Replacement slices are
 * borrowed: they must stay valid until sip_bld_write() returns.
 */
enum { SIP_BLD_MAX_EDITS = 64 };

struct sip_bld {
	const struct sip_msg *msg;
	struct edit edit[SIP_BLD_MAX_EDITS];
	unsigned nedit;
	struct str body;
	bool body_set;
	int err; /* sticky: first failure, e.g. -ENOSPC */
};

void sip_bld_init(struct sip_bld *b, const struct sip_msg *msg);
/* Replace the whole start line (without CRLF). */
void sip_bld_start_line(struct sip_bld *b, struct str line);
/* Remove a header field line. */
void sip_bld_remove(struct sip_bld *b, const struct sip_hdr *h);
/* Replace a header's value, keeping its name. */
void sip_bld_replace_value(struct sip_bld *b, const struct sip_hdr *h,
			   struct str value);
/* Replace an arbitrary range of the original (must lie in msg->raw). */
void sip_bld_replace_range(struct sip_bld *b, struct str range,
			   struct str with);
/* Insert "name: value\r\n" before header h, or first when h is NULL. */
void sip_bld_insert(struct sip_bld *b, const struct sip_hdr *h, struct str name,
		    struct str value);
/* Append "name: value\r\n" after the last header. */
void sip_bld_append(struct sip_bld *b, struct str name, struct str value);
/* Replace the body; Content-Length is rewritten (or added) to match. */
void sip_bld_body(struct sip_bld *b, struct str body);
/* Write the result.  Returns 0, -ENOSPC (too many edits), -ENOMEM. */
int sip_bld_write(struct sip_bld *b, struct buf *out);

/* ---------------------------------------------------------------- replies */

/* The standard reason phrase of a status code ("Bad Request"), or "". */
const char *sip_status_reason(int status);

/*
 * Build a stateless response to a parsed request (RFC 3261 8.2.6): the
 * status line, every Via, From, To (with ;tag=to_tag added when the
 * request had none and status > 100), Call-ID and CSeq copied, then the
 * `extra` header lines verbatim (each ending in CRLF, may be empty), then
 * "Content-Length: 0".  reason empty -> the standard phrase.
 * Returns 0, -EINVAL (not a request), or a buf error.
 */
int sip_reply(struct buf *out, const struct sip_msg *req, int status,
	      struct str reason, struct str to_tag, struct str extra);

/*
 * Same for a request that failed to parse.  The headers a response needs
 * are salvaged leniently from the raw bytes: Via, From, To, Call-ID and
 * CSeq lines are copied only if each is present, printable, bounded and
 * (except Via) single.  Returns -EINVAL when raw does not start like a
 * request (responses are never answered) or the salvage fails: the caller
 * then drops the datagram silently.
 */
int sip_reply_raw(struct buf *out, struct str raw, int status,
		  struct str reason, struct str to_tag, struct str extra);

/* --------------------------------------------------------------------- SDP */

enum {
	SDP_MAX_MEDIA = 16,
	SDP_MAX_ATTRS = 128, /* session + media attributes together */
	SDP_MAX_FMTS = 32,
	SDP_MAX_LINE = 4096,
	SDP_MAX_SIZE = 32768,
};

enum sdp_dir {
	SDP_DIR_NONE = 0, /* not stated: sendrecv by default */
	SDP_DIR_SENDRECV,
	SDP_DIR_SENDONLY,
	SDP_DIR_RECVONLY,
	SDP_DIR_INACTIVE,
};

enum sdp_proto {
	SDP_PROTO_OTHER = 0,
	SDP_PROTO_RTP_AVP,
	SDP_PROTO_RTP_AVPF,
	SDP_PROTO_RTP_SAVP,
	SDP_PROTO_RTP_SAVPF,
	SDP_PROTO_UDP_TLS_RTP_SAVP,
	SDP_PROTO_UDP_TLS_RTP_SAVPF,
	SDP_PROTO_UDP,
};

/* a=setup (RFC 4145, RFC 5763): who opens the DTLS/TCP connection. */
enum sdp_setup {
	SDP_SETUP_NONE = 0, /* not stated */
	SDP_SETUP_ACTIVE,
	SDP_SETUP_PASSIVE,
	SDP_SETUP_ACTPASS,
	SDP_SETUP_HOLDCONN,
};

struct sdp_conn {
	struct str line;     /* the c= value (after "c="), for the builder */
	struct str nettype;  /* "IN" */
	struct str addrtype; /* "IP4" / "IP6" */
	struct str addr;     /* without /ttl/count */
	int af;              /* AF_INET, AF_INET6, or 0 if not an IP */
	bool present;
};

struct sdp_attr {
	struct str line; /* "a=..." without CRLF */
	struct str name;
	struct str value; /* after ':' (empty if none) */
};

struct sdp_media {
	struct str line;     /* the "m=" line without CRLF */
	struct str media;    /* audio, video, application, ... */
	struct str port_str; /* slice of the port number, for rewriting */
	uint16_t port;
	uint16_t nports; /* 1 when absent */
	struct str proto;
	enum sdp_proto proto_id;
	struct str fmt[SDP_MAX_FMTS];
	unsigned nfmt;
	struct sdp_conn conn; /* media-level c= */
	enum sdp_dir dir;
	unsigned attr_first; /* index into sdp_sess.attr */
	unsigned nattr;
	uint16_t rtcp_port;   /* a=rtcp, 0 if absent */
	struct str rtcp_addr; /* a=rtcp address if given */
	int rtcp_af;          /* its family: AF_INET, AF_INET6, or 0 */
	bool rtcp_mux;
	struct str mid;
	enum sdp_setup setup; /* media-level a=setup */
	uint16_t ptime;       /* a=ptime in ms (integer part), 0 if absent */
	struct str end;       /* empty slice at the end of this section */
};

struct sdp_sess {
	struct str raw;
	struct str origin; /* o= value */
	struct str o_user, o_sess_id, o_sess_ver, o_nettype, o_addrtype, o_addr;
	struct str name;      /* s= value */
	struct sdp_conn conn; /* session-level c= */
	enum sdp_dir dir;
	enum sdp_setup setup; /* session-level a=setup */
	struct sdp_attr attr[SDP_MAX_ATTRS];
	unsigned nattr;
	unsigned nsess_attr; /* first nsess_attr entries are session */
	struct sdp_media media[SDP_MAX_MEDIA];
	unsigned nmedia;
	struct str end; /* empty slice at the end of the session part
			 * (before the first m=): session a= go here */
};

/*
 * Parse an SDP body (RFC 8866).  Accepts CRLF or bare LF line ends, a
 * last line without a line end, and blank lines at the very end only.
 * Checks line order (v=0, o=, s= first; t= before the first m=; only i=
 * c= b= k= a= inside media sections), the syntax of every known line
 * (c= addresses must be IP literals of their address type), single
 * instances (c=, i=, k=, u=, z= and direction, a=rtcp, a=mid, a=setup,
 * a=ptime per section), and the SDP_MAX_* limits.  See sdp.c for the
 * tolerances.  Returns 0 or -EINVAL with *errp (SIP_PE_SYNTAX,
 * SIP_PE_LIMIT, SIP_PE_DUPLICATE, SIP_PE_MISSING; off from body.p).
 * Results point into body.
 */
int sdp_parse(struct sdp_sess *sp, struct str body, struct sip_perr *errp);

/* The connection address that applies to media i (media c= or session),
 * or NULL when there is none (or i is out of range).  A section without
 * any c= is accepted by sdp_parse(), though RFC 8866 5.7 wants one. */
const struct sdp_conn *sdp_media_conn(const struct sdp_sess *s, unsigned i);

/* Find attribute `name` (exact, case-sensitive) in media i (or the
 * session when i < 0); the first one, or NULL. */
const struct sdp_attr *sdp_attr_find(const struct sdp_sess *s, int i,
				     const char *name);

/* AF_INET or AF_INET6 when addr is an IP literal (no brackets, no zone),
 * 0 otherwise. */
int sdp_ip_af(struct str addr);

/*
 * Attribute value parsers: `value` is sdp_attr.value (after "name:").
 * Each returns 0 or -EINVAL; results point into value.
 */

/* a=rtpmap:<pt> <enc>/<clock>[/<channels>] */
struct sdp_rtpmap {
	uint8_t pt;
	struct str encoding;
	uint32_t clock;
	uint16_t channels; /* 1 when absent */
};
int sdp_rtpmap_parse(struct sdp_rtpmap *rp, struct str value);

/* a=crypto:<tag> <suite> inline:<key>[|lifetime][|MKI:len] [params] */
struct sdp_crypto {
	uint32_t tag;
	struct str suite;
	struct str key; /* base64 key||salt */
	struct str lifetime;
	struct str mki; /* "MKI:len" */
	struct str params;
};
int sdp_crypto_parse(struct sdp_crypto *cp, struct str value);

/* SDES (RFC 4568) for SRTP termination: see sdp_crypto.c. */
enum sdp_srtp_suite {
	SDP_SRTP_NONE = 0,
	SDP_SRTP_AES_CM_128_HMAC_SHA1_80,
	SDP_SRTP_AES_CM_128_HMAC_SHA1_32,
	SDP_SRTP_AES_256_CM_HMAC_SHA1_80,
	SDP_SRTP_AEAD_AES_128_GCM,
	SDP_SRTP_AEAD_AES_256_GCM,
	SDP_SRTP_NSUITES,
	SDP_SRTP_KEY_MAX = 46,   /* AES-256 key || 112-bit salt */
	SDP_SRTP_LINE_MAX = 128, /* "crypto:<tag> <suite> inline:<b64>" */
};
/* A usable a=crypto line: its tag, suite, decoded key||salt, MKI. */
struct sdp_srtp_key {
	uint32_t tag;
	int suite; /* enum sdp_srtp_suite */
	uint8_t key[SDP_SRTP_KEY_MAX];
	uint8_t key_len;
	uint8_t mki_len; /* bytes; 0: no MKI */
	uint64_t mki;
};
/* Suite by its RFC name (exact case), SDP_SRTP_NONE if not ours. */
int sdp_srtp_suite_id(struct str name);
const char *sdp_srtp_suite_name(int suite); /* NULL if unknown */
size_t sdp_srtp_key_len(int suite);         /* 0 if unknown */
/*
 * One a=crypto value (after "crypto:") as a key sipguard can use.
 * Returns 0; -EINVAL (malformed: the offer is broken); -ENOTSUP (a valid
 * line we skip: unknown suite, UNENCRYPTED/UNAUTHENTICATED or KDR
 * session parameters, an MKI longer than 8 bytes).  Only the first key
 * of a multi-key line is taken.  *kp holds a secret: wipe it with
 * sdp_srtp_key_wipe() (done already on failure).
 */
int sdp_srtp_key_get(struct sdp_srtp_key *kp, struct str value);
void sdp_srtp_key_wipe(struct sdp_srtp_key *kp);
/* "crypto:<tag> <suite> inline:<base64 key>" NUL-terminated into out;
 * the length, -EINVAL (unknown suite, wrong key length) or -ENOSPC. */
int sdp_srtp_format(char *out, size_t cap, uint32_t tag, int suite,
		    const uint8_t *key, size_t len);

/* a=fingerprint:<hash> <hex:hex:...> */
struct sdp_fingerprint {
	struct str hash;
	struct str value;
};
int sdp_fingerprint_parse(struct sdp_fingerprint *fp, struct str value);

/* a=candidate:<foundation> <comp> <transport> <prio> <addr> <port> typ <t>
 * [raddr <a>] [rport <p>] *(<name> <value>) */
struct sdp_candidate {
	struct str foundation;
	uint32_t component;
	struct str transport;
	uint32_t priority;
	struct str addr; /* IP literal or a name (FQDN, mDNS .local) */
	uint16_t port;
	struct str type;
	struct str raddr; /* empty when absent */
	uint16_t rport;
	bool has_rport;
	struct str ext; /* the extension pairs after typ/raddr/rport */
};
int sdp_candidate_parse(struct sdp_candidate *cp, struct str value);

/*
 * SDP rewriting in one pass, the way the media relay needs it: change
 * connection addresses, media ports, drop or add attributes.  Same
 * borrowed-slice rule as the SIP builder.  Replacement text must not
 * contain CR, LF or NUL (the builder refuses it: no line injection).
 * New lines use the line end of the original's first line.
 */
enum { SDP_BLD_MAX_EDITS = 256 };

struct sdp_bld {
	const struct sdp_sess *sess;
	struct edit edit[SDP_BLD_MAX_EDITS];
	unsigned nedit;
	int err;        /* sticky: first failure (-EINVAL, -ENOSPC) */
	struct str eol; /* "\r\n" or "\n", as in the original */
};

void sdp_bld_init(struct sdp_bld *b, const struct sdp_sess *s);
/* Session-level c= (i < 0) or media i's c= becomes "IN <addrtype>
 * <addr>" (a multicast /ttl goes); added if absent (once per section). */
void sdp_bld_conn(struct sdp_bld *b, int i, struct str addrtype,
		  struct str addr);
/* o= line's address fields. */
void sdp_bld_origin_addr(struct sdp_bld *b, struct str addrtype,
			 struct str addr);
void sdp_bld_media_port(struct sdp_bld *b, unsigned i, struct str port);
/* Replace m= proto (e.g. RTP/SAVP -> RTP/AVP). */
void sdp_bld_media_proto(struct sdp_bld *b, unsigned i, struct str proto);
void sdp_bld_attr_remove(struct sdp_bld *b, const struct sdp_attr *a);
void sdp_bld_attr_replace(struct sdp_bld *b, const struct sdp_attr *a,
			  struct str line_without_a_eq);
/* Add "a=<value>" at the end of media i's section (session when i < 0). */
void sdp_bld_attr_add(struct sdp_bld *b, int i, struct str value);
/* Write the result.  Returns 0, or the sticky error, -EINVAL (edits
 * overlap: e.g. one attribute removed twice), -ENOSPC, -ENOMEM. */
int sdp_bld_write(struct sdp_bld *b, struct buf *out);

#endif
