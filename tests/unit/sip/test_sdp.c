/*
 * test_sdp.c - SDP parser (sdp.c) and attribute parsers (sdp_attr.c):
 * valid and invalid bodies, every line type, limits, IPv6 (RFC 5118),
 * the sample bodies of tests/data/sdp, rtpmap, crypto, fingerprint and
 * candidate values.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

#include "test.h"

#include "sip/sip.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define HDR  "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\n"
#define HDRT HDR "t=0 0\r\n"

static struct sdp_sess S;

static int parse(const char *body, struct sip_perr *errp)
{
	return sdp_parse(&S, str_cstr(body), errp);
}

static void test_valid(void **state)
{
	static const struct {
		const char *body;
		unsigned nmedia;
		const char *conn; /* session c= address, or NULL */
		int af;
		uint16_t port0;
		enum sdp_proto proto0;
	} cases[] = {
		{HDRT, 0, NULL, 0, 0, 0},
		{"v=0\no=- 1 2 IN IP4 192.0.2.1\ns=\nt=0 0\n", 0, NULL, 0, 0,
		 0},
		{"v=0\r\no=- 1 2 IN IP4 h.example\r\ns= \r\nt=0 0", 0, NULL, 0,
		 0, 0},
		{HDRT "c=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n\r\n", 1,
		 "10.0.0.1", AF_INET, 4000, SDP_PROTO_RTP_AVP},
		{HDRT "c=IN IP6 ::1 \r\nm=audio  1  RTP/SAVP  0 8 \r\n", 1,
		 "::1", AF_INET6, 1, SDP_PROTO_RTP_SAVP},
		{HDRT "c=IN IP4 224.2.1.1/127/3\r\nm=video 0/2 RTP/AVPF 96\r\n",
		 1, "224.2.1.1", AF_INET, 0, SDP_PROTO_RTP_AVPF},
		{HDRT "c=IN IP6 ff15::101/3\r\nm=a 9 RTP/SAVPF 1\r\n", 1,
		 "ff15::101", AF_INET6, 9, SDP_PROTO_RTP_SAVPF},
		{HDRT "c=TN RFC2543 5551234\r\nm=a 65535 udp 1\r\n", 1,
		 "5551234", 0, 65535, SDP_PROTO_UDP},
		{HDRT "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n", 1,
		 NULL, 0, 9, SDP_PROTO_OTHER},
		{HDRT "m=audio 9 UDP/TLS/RTP/SAVP 0\r\n", 1, NULL, 0, 9,
		 SDP_PROTO_UDP_TLS_RTP_SAVP},
		{HDRT "m=audio 9 udp/tls/rtp/savpf 0\r\n", 1, NULL, 0, 9,
		 SDP_PROTO_UDP_TLS_RTP_SAVPF},
		{HDR "t=1 2\r\nr=604800 3600 0 90000\r\nr=7d 1h 0 25h\r\n"
		     "t=3 4\r\nz=2882844526 -1h 2898848070 0\r\nk=clear:x\r\n"
		     "b=AS:64\r\nb=X-YZ:1\r\ni=x\r\nu=http://x/\r\ne=a@b\r\n"
		     "e=c@d\r\np=+1 555\r\np=+2\r\n",
		 0, NULL, 0, 0, 0},
		{HDRT "a=msid-semantic: WMS s\r\na=x\r\nm=audio 1 RTP/AVP 0"
		      "\r\ni=\r\nb=AS:1\r\nk=prompt\r\na=fmtp:\r\n",
		 1, NULL, 0, 1, SDP_PROTO_RTP_AVP},
	};
	struct sip_perr err;
	size_t i;

	(void)state;
	for (i = 0; i < N(cases); i++) {
		if (parse(cases[i].body, &err) != 0)
			fail_msg("case %zu: %s at %u", i, err.reason, err.off);
		assert_int_equal(S.nmedia, cases[i].nmedia);
		assert_int_equal(S.conn.present, cases[i].conn != NULL);
		if (cases[i].conn) {
			assert_str_equal_cstr(S.conn.addr, cases[i].conn);
			assert_int_equal(S.conn.af, cases[i].af);
		}
		if (S.nmedia) {
			assert_int_equal(S.media[0].port, cases[i].port0);
			assert_int_equal(S.media[0].proto_id, cases[i].proto0);
		}
	}
}

static void test_invalid(void **state)
{
	static const struct {
		const char *body;
		enum sip_perr_code code;
		int off; /* -1: not checked */
	} cases[] = {
		{"", SIP_PE_MISSING, 0},
		{"o=- 1 2 IN IP4 192.0.2.1\r\n", SIP_PE_SYNTAX, 0},
		{"v=1\r\n", SIP_PE_SYNTAX, 2},
		{"V=0\r\n", SIP_PE_SYNTAX, 0},
		{"v =0\r\n", SIP_PE_SYNTAX, 0},
		{"v= 0\r\n", SIP_PE_SYNTAX, 2},
		{"v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\nt=0 0\r\n", SIP_PE_SYNTAX,
		 31},
		{"v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\n", SIP_PE_MISSING, 31},
		{HDR, SIP_PE_MISSING, 36},
		{HDR "m=audio 1 RTP/AVP 0\r\n", SIP_PE_MISSING, 36},
		{HDRT "o=- 1 2 IN IP4 192.0.2.1\r\n", SIP_PE_DUPLICATE, 43},
		{HDRT "v=0\r\n", SIP_PE_DUPLICATE, 43},
		{HDRT "s=x\r\n", SIP_PE_DUPLICATE, 43},
		{HDRT "x=1\r\n", SIP_PE_SYNTAX, 43},
		{HDRT "=1\r\n", SIP_PE_SYNTAX, 43},
		{HDRT "a\r\n", SIP_PE_SYNTAX, 43},
		{"v=0\r\no=- 1 2 IN IP4\r\n", SIP_PE_SYNTAX, -1},
		{"v=0\r\no=- 1 2 IN IP4 192.0.2.1 x\r\n", SIP_PE_SYNTAX, 30},
		{"v=0\r\no=- a 2 IN IP4 192.0.2.1\r\n", SIP_PE_SYNTAX, 7},
		{"v=0\r\no=- 1 2 IN IP4 ::1\r\n", SIP_PE_SYNTAX, 20},
		{"v=0\r\no=- 1 2 IN IP6 1.2.3.4\r\n", SIP_PE_SYNTAX, 20},
		{"v=0\r\no=- 1 2 IN IP4 a/b\r\n", SIP_PE_SYNTAX, 20},
		{HDRT "c=IN IP4 192.0.2.256\r\n", SIP_PE_SYNTAX, 52},
		{HDRT "c=IN IP4 host.example.com\r\n", SIP_PE_SYNTAX, 52},
		{HDRT "c=IN IP6 192.0.2.1\r\n", SIP_PE_SYNTAX, 52},
		{HDRT "c=IN IP6 [::1]\r\n", SIP_PE_SYNTAX, 52},
		{HDRT "c=IN IP6 fe80::1%eth0\r\n", SIP_PE_SYNTAX, 52},
		{HDRT "c=IN IP4 1.2.3.4 x\r\n", SIP_PE_SYNTAX, 60},
		{HDRT "c=IN IP4\r\n", SIP_PE_SYNTAX, -1},
		{HDRT "c=IN IP4 224.1.1.1/256\r\n", SIP_PE_SYNTAX, 61},
		{HDRT "c=IN IP4 224.1.1.1/1/0\r\n", SIP_PE_SYNTAX, 61},
		{HDRT "c=IN IP4 224.1.1.1/\r\n", SIP_PE_SYNTAX, 61},
		{HDRT "c=IN IP6 ff15::1/1/2\r\n", SIP_PE_SYNTAX, 59},
		{HDRT "c=IN IPX 1.2.3.4\r\n", SIP_PE_SYNTAX, 48},
		{HDRT "c= IN IP4 1.2.3.4\r\n", SIP_PE_SYNTAX, 45},
		{HDRT "c=IN IP4 1.2.3.4\r\nc=IN IP4 1.2.3.4\r\n",
		 SIP_PE_DUPLICATE, 61},
		{HDRT "m=a 1 RTP/AVP 0\r\nc=IN IP4 1.2.3.4\r\n"
		      "c=IN IP4 1.2.3.4\r\n",
		 SIP_PE_DUPLICATE, 78},
		{HDRT "m=audio 65536 RTP/AVP 0\r\n", SIP_PE_SYNTAX, 51},
		{HDRT "m=audio -1 RTP/AVP 0\r\n", SIP_PE_SYNTAX, 51},
		{HDRT "m=audio 1/0 RTP/AVP 0\r\n", SIP_PE_SYNTAX, 51},
		{HDRT "m=audio 1/ RTP/AVP 0\r\n", SIP_PE_SYNTAX, 51},
		{HDRT "m=audio 1 RTP/AVP\r\n", SIP_PE_SYNTAX, -1},
		{HDRT "m=audio 1 RTP/ 0\r\n", SIP_PE_SYNTAX, 53},
		{HDRT "m=audio 1 /AVP 0\r\n", SIP_PE_SYNTAX, 53},
		{HDRT "m=audio\r\n", SIP_PE_SYNTAX, -1},
		{HDRT "m=au(dio 1 RTP/AVP 0\r\n", SIP_PE_SYNTAX, 45},
		{HDRT "m=audio 1 RTP/AVP 0 a,b\r\n", SIP_PE_SYNTAX, 63},
		{HDR "t=0\r\n", SIP_PE_SYNTAX, 38},
		{HDR "t=0 x\r\n", SIP_PE_SYNTAX, 38},
		{HDR "t=0 0 0\r\n", SIP_PE_SYNTAX, 38},
		{HDRT "c=IN IP4 1.2.3.4\r\nr=1 2 3\r\n", SIP_PE_SYNTAX, 61},
		{HDRT "r=1 2\r\n", SIP_PE_SYNTAX, 45},
		{HDRT "r=1 2 3x\r\n", SIP_PE_SYNTAX, 45},
		{HDRT "z=1 -1h 2\r\n", SIP_PE_SYNTAX, 45},
		{HDRT "z=1 -1h\r\nz=1 0\r\n", SIP_PE_DUPLICATE, 52},
		{HDRT "b=AS\r\n", SIP_PE_SYNTAX, 45},
		{HDRT "b=AS:x\r\n", SIP_PE_SYNTAX, 45},
		{HDRT "b=:1\r\n", SIP_PE_SYNTAX, 45},
		{HDRT "k=\r\n", SIP_PE_SYNTAX, 45},
		{HDRT "k=prompt\r\nk=prompt\r\n", SIP_PE_DUPLICATE, 53},
		{HDRT "u=a\r\nu=b\r\n", SIP_PE_DUPLICATE, 48},
		{HDRT "e=\r\n", SIP_PE_SYNTAX, 45},
		{HDRT "m=a 1 RTP/AVP 0\r\ni=x\r\ni=y\r\n", SIP_PE_DUPLICATE,
		 65},
		{HDRT "m=a 1 RTP/AVP 0\r\nt=0 0\r\n", SIP_PE_SYNTAX, 60},
		{HDRT "m=a 1 RTP/AVP 0\r\nu=x\r\n", SIP_PE_SYNTAX, 60},
		{HDRT "m=a 1 RTP/AVP 0\r\n\r\na=x\r\n", SIP_PE_SYNTAX, 60},
		{HDRT "\na=x\r\n", SIP_PE_SYNTAX, 43},
		{HDRT "a=x\ry\r\n", SIP_PE_SYNTAX, 46},
		{HDRT "a=x\r", SIP_PE_SYNTAX, 46},
		{HDRT "\r\n\r", SIP_PE_SYNTAX, 43},
		{HDRT "a=:x\r\n", SIP_PE_SYNTAX, 45},
		{HDRT "a=\r\n", SIP_PE_SYNTAX, 45},
		{HDRT "a=a b\r\n", SIP_PE_SYNTAX, 45},
		{HDRT "a= x\r\n", SIP_PE_SYNTAX, 45},
		{HDRT "a=sendonly\r\na=recvonly\r\n", SIP_PE_DUPLICATE, 55},
		{HDRT "m=a 1 RTP/AVP 0\r\na=inactive\r\na=inactive\r\n",
		 SIP_PE_DUPLICATE, 72},
		{HDRT "a=sendrecv:1\r\n", SIP_PE_SYNTAX, 43},
		{HDRT "m=a 1 RTP/AVP 0\r\na=rtcp:0\r\n", SIP_PE_SYNTAX, 67},
		{HDRT "m=a 1 RTP/AVP 0\r\na=rtcp:65536\r\n", SIP_PE_SYNTAX, 67},
		{HDRT "m=a 1 RTP/AVP 0\r\na=rtcp:\r\n", SIP_PE_SYNTAX, 67},
		{HDRT "m=a 1 RTP/AVP 0\r\na=rtcp:5 IN IP4\r\n", SIP_PE_SYNTAX,
		 69},
		{HDRT "m=a 1 RTP/AVP 0\r\na=rtcp:5 IN IP4 ::1\r\n",
		 SIP_PE_SYNTAX, 69},
		{HDRT "m=a 1 RTP/AVP 0\r\na=rtcp:5 IN IP4 h.example\r\n",
		 SIP_PE_SYNTAX, 69},
		{HDRT "m=a 1 RTP/AVP 0\r\na=rtcp:5 IN IP4 1.2.3.4 x\r\n",
		 SIP_PE_SYNTAX, 69},
		{HDRT "m=a 1 RTP/AVP 0\r\na=rtcp:5\r\na=rtcp:6\r\n",
		 SIP_PE_DUPLICATE, 70},
		{HDRT "m=a 1 RTP/AVP 0\r\na=mid:1\r\na=mid:2\r\n",
		 SIP_PE_DUPLICATE, 69},
		{HDRT "m=a 1 RTP/AVP 0\r\na=mid:\r\n", SIP_PE_SYNTAX, 66},
		{HDRT "a=setup:bogus\r\n", SIP_PE_SYNTAX, 51},
		{HDRT "a=setup:active\r\na=setup:active\r\n", SIP_PE_DUPLICATE,
		 59},
		{HDRT "m=a 1 RTP/AVP 0\r\na=ptime:x\r\n", SIP_PE_SYNTAX, 68},
		{HDRT "m=a 1 RTP/AVP 0\r\na=ptime:20.\r\n", SIP_PE_SYNTAX, 68},
		{HDRT "m=a 1 RTP/AVP 0\r\na=ptime:20\r\na=ptime:30\r\n",
		 SIP_PE_DUPLICATE, 72},
	};
	struct sip_perr err;
	size_t i;

	(void)state;
	for (i = 0; i < N(cases); i++) {
		memset(&err, 0, sizeof(err));
		if (parse(cases[i].body, &err) != -EINVAL)
			fail_msg("case %zu accepted", i);
		if (err.code != cases[i].code ||
		    (cases[i].off >= 0 && err.off != (uint32_t)cases[i].off))
			fail_msg("case %zu: code %d off %u (%s), want %d %d", i,
				 err.code, err.off, err.reason, cases[i].code,
				 cases[i].off);
		assert_non_null(err.reason);
	}
}

/* A NUL inside the body (str_cstr above stops at it). */
static void test_nul(void **state)
{
	static const char body[] = HDRT "a=x\0y\r\n";
	struct sip_perr err;

	(void)state;
	assert_int_equal(sdp_parse(&S, str_make(body, sizeof(body) - 1), &err),
			 -EINVAL);
	assert_int_equal(err.code, SIP_PE_SYNTAX);
	assert_int_equal(err.off, 46);
	assert_int_equal(sdp_parse(&S, str_make(NULL, 0), &err), -EINVAL);
	assert_int_equal(sdp_parse(NULL, STR(HDRT), &err), -EINVAL);
}

static void test_every_line(void **state)
{
	static const char body[] =
		"v=0\r\n"
		"o=jdoe 3724394400 3724394405 IN IP4 host.example.net\r\n"
		"s=Seminar\r\n"
		"i=about\r\n"
		"u=http://www.example.com/s.pdf\r\n"
		"e=j.doe@example.com (Jane Doe)\r\n"
		"p=+1 617 555-6011\r\n"
		"c=IN IP4 233.252.0.1/127\r\n"
		"b=CT:1024\r\n"
		"t=2873397496 2873404696\r\n"
		"r=7d 1h 0 25h\r\n"
		"z=2882844526 -1h 2898848070 0\r\n"
		"k=prompt\r\n"
		"a=recvonly\r\n"
		"a=setup:passive\r\n"
		"m=audio 49170 RTP/AVP 0 8\r\n"
		"i=voice\r\n"
		"c=IN IP6 2001:db8::2\r\n"
		"b=AS:64\r\n"
		"k=clear:secret\r\n"
		"a=rtcp:53020 IN IP6 2001:db8::3\r\n"
		"a=mid:a1\r\n"
		"a=ptime:20.5\r\n"
		"a=setup:actpass\r\n"
		"a=sendonly\r\n"
		"m=video 51372/2 RTP/AVP 99\r\n"
		"a=rtpmap:99 h263-1998/90000\r\n"
		"a=rtcp-mux\r\n"
		"a=rtcp:51373\r\n";
	const struct sdp_media *m;
	struct sip_perr err;

	(void)state;
	assert_int_equal(parse(body, &err), 0);
	assert_str_equal_cstr(S.o_user, "jdoe");
	assert_str_equal_cstr(S.o_sess_id, "3724394400");
	assert_str_equal_cstr(S.o_sess_ver, "3724394405");
	assert_str_equal_cstr(S.o_nettype, "IN");
	assert_str_equal_cstr(S.o_addrtype, "IP4");
	assert_str_equal_cstr(S.o_addr, "host.example.net");
	assert_str_equal_cstr(S.name, "Seminar");
	assert_str_equal_cstr(S.conn.line, "IN IP4 233.252.0.1/127");
	assert_str_equal_cstr(S.conn.addr, "233.252.0.1");
	assert_int_equal(S.dir, SDP_DIR_RECVONLY);
	assert_int_equal(S.setup, SDP_SETUP_PASSIVE);
	assert_int_equal(S.nsess_attr, 2);
	assert_int_equal(S.nattr, 10);
	assert_ptr_equal(S.end.p, strstr(body, "m=audio"));
	assert_int_equal(S.nmedia, 2);
	m = &S.media[0];
	assert_str_equal_cstr(m->line, "m=audio 49170 RTP/AVP 0 8");
	assert_str_equal_cstr(m->media, "audio");
	assert_str_equal_cstr(m->port_str, "49170");
	assert_int_equal(m->nfmt, 2);
	assert_str_equal_cstr(m->fmt[1], "8");
	assert_int_equal(m->conn.af, AF_INET6);
	assert_int_equal(m->rtcp_port, 53020);
	assert_str_equal_cstr(m->rtcp_addr, "2001:db8::3");
	assert_int_equal(m->rtcp_af, AF_INET6);
	assert_str_equal_cstr(m->mid, "a1");
	assert_int_equal(m->ptime, 20);
	assert_int_equal(m->setup, SDP_SETUP_ACTPASS);
	assert_int_equal(m->dir, SDP_DIR_SENDONLY);
	assert_false(m->rtcp_mux);
	assert_int_equal(m->attr_first, 2);
	assert_int_equal(m->nattr, 5);
	assert_ptr_equal(m->end.p, strstr(body, "m=video"));
	assert_ptr_equal(sdp_media_conn(&S, 0), &m->conn);
	m = &S.media[1];
	assert_int_equal(m->port, 51372);
	assert_int_equal(m->nports, 2);
	assert_str_equal_cstr(m->port_str, "51372");
	assert_int_equal(m->dir, SDP_DIR_NONE);
	assert_true(m->rtcp_mux);
	assert_int_equal(m->rtcp_port, 51373);
	assert_int_equal(m->rtcp_af, 0);
	assert_int_equal(m->end.p - body, sizeof(body) - 1);
	assert_ptr_equal(sdp_media_conn(&S, 1), &S.conn);
	assert_null(sdp_media_conn(&S, 2));
}

static void test_find(void **state)
{
	struct sip_perr err;
	const struct sdp_attr *a;

	(void)state;
	assert_int_equal(parse(HDRT "a=tool:x\r\na=flag\r\nm=audio 1 RTP/AVP "
				    "0\r\na=rtpmap:0 PCMU/8000\r\na=tool:y\r\n"
				    "m=video 0 RTP/AVP 31\r\n",
			       &err),
			 0);
	a = sdp_attr_find(&S, -1, "tool");
	assert_non_null(a);
	assert_str_equal_cstr(a->value, "x");
	assert_str_equal_cstr(a->line, "a=tool:x");
	a = sdp_attr_find(&S, -1, "flag");
	assert_non_null(a);
	assert_int_equal(a->value.len, 0);
	assert_str_equal_cstr(sdp_attr_find(&S, 0, "tool")->value, "y");
	assert_null(sdp_attr_find(&S, 0, "flag"));
	assert_null(sdp_attr_find(&S, 0, "TOOL"));
	assert_null(sdp_attr_find(&S, 1, "tool"));
	assert_null(sdp_attr_find(&S, 2, "tool"));
	assert_null(sdp_attr_find(NULL, 0, "tool"));
	assert_null(sdp_media_conn(&S, 0));
}

static void fill(char *p, size_t n, char c)
{
	memset(p, c, n);
}

static void test_limits(void **state)
{
	static char body[SDP_MAX_SIZE + 64];
	struct sip_perr err;
	size_t len, i;

	(void)state;
	/* Line length: SDP_MAX_LINE is fine, one more is not. */
	len = (size_t)snprintf(body, sizeof(body), "%s", HDRT "a=");
	fill(body + len, SDP_MAX_LINE - 2, 'x');
	memcpy(body + len + SDP_MAX_LINE - 2, "\r\n", 3);
	assert_int_equal(parse(body, &err), 0);
	memcpy(body + len + SDP_MAX_LINE - 2, "x\r\n", 4);
	assert_int_equal(parse(body, &err), -EINVAL);
	assert_int_equal(err.code, SIP_PE_LIMIT);
	assert_int_equal(err.off, len - 2 + SDP_MAX_LINE);
	/* Body size. */
	len = (size_t)snprintf(body, sizeof(body), "%s", HDRT);
	while (len + 1000 < SDP_MAX_SIZE)
		len += (size_t)snprintf(body + len, sizeof(body) - len,
					"a=%0996d\r\n", 0);
	fill(body + len, SDP_MAX_SIZE - len, '\n');
	assert_int_equal(sdp_parse(&S, str_make(body, SDP_MAX_SIZE), &err), 0);
	body[SDP_MAX_SIZE] = '\n';
	assert_int_equal(sdp_parse(&S, str_make(body, SDP_MAX_SIZE + 1), &err),
			 -EINVAL);
	assert_int_equal(err.code, SIP_PE_LIMIT);
	assert_int_equal(err.off, SDP_MAX_SIZE);
	/* Media sections. */
	len = (size_t)snprintf(body, sizeof(body), "%s", HDRT);
	for (i = 0; i < SDP_MAX_MEDIA; i++)
		len += (size_t)snprintf(body + len, sizeof(body) - len,
					"m=audio %zu RTP/AVP 0\r\n", i);
	assert_int_equal(parse(body, &err), 0);
	assert_int_equal(S.nmedia, SDP_MAX_MEDIA);
	snprintf(body + len, sizeof(body) - len, "m=audio 1 RTP/AVP 0\r\n");
	assert_int_equal(parse(body, &err), -EINVAL);
	assert_int_equal(err.code, SIP_PE_LIMIT);
	assert_int_equal(err.off, len);
	/* Attributes, session and media together. */
	len = (size_t)snprintf(body, sizeof(body), "%s",
			       HDRT "a=s\r\n"
				    "m=audio 1 RTP/AVP 0\r\n");
	for (i = 1; i < SDP_MAX_ATTRS; i++)
		len += (size_t)snprintf(body + len, sizeof(body) - len,
					"a=x%zu\r\n", i);
	assert_int_equal(parse(body, &err), 0);
	assert_int_equal(S.nattr, SDP_MAX_ATTRS);
	assert_int_equal(S.media[0].nattr, SDP_MAX_ATTRS - 1);
	snprintf(body + len, sizeof(body) - len, "a=y\r\n");
	assert_int_equal(parse(body, &err), -EINVAL);
	assert_int_equal(err.code, SIP_PE_LIMIT);
	assert_int_equal(err.off, len);
	/* Formats. */
	len = (size_t)snprintf(body, sizeof(body), "%s",
			       HDRT "m=audio 1 "
				    "RTP/AVP");
	for (i = 0; i < SDP_MAX_FMTS; i++)
		len += (size_t)snprintf(body + len, sizeof(body) - len, " %zu",
					i);
	assert_int_equal(parse(body, &err), 0);
	assert_int_equal(S.media[0].nfmt, SDP_MAX_FMTS);
	snprintf(body + len, sizeof(body) - len, " 99");
	assert_int_equal(parse(body, &err), -EINVAL);
	assert_int_equal(err.code, SIP_PE_LIMIT);
	assert_int_equal(err.off, len + 1);
}

/* The SDP bodies of RFC 5118 4.6, 4.7 and 4.9, byte for byte. */
static void test_rfc5118(void **state)
{
	static const char v6[] =
		"v=0\r\n"
		"o=assistant 971731711378798081 0 IN IP6 2001:db8::20\r\n"
		"s=Live video feed for today's meeting\r\n"
		"c=IN IP6 2001:db8::20\r\n"
		"t=3338481189 3370017201\r\n"
		"m=audio 6000 RTP/AVP 2\r\n"
		"a=rtpmap:2 G726-32/8000\r\n"
		"m=video 6024 RTP/AVP 107\r\n"
		"a=rtpmap:107 H263-1998/90000\r\n";
	static const char mult[] =
		"v=0\r\n"
		"o=bob 280744730 28977631 IN IP4 host.example.com\r\n"
		"s=\r\n"
		"t=0 0\r\n"
		"m=audio 22334 RTP/AVP 0\r\n"
		"c=IN IP4 192.0.2.1\r\n"
		"m=video 6024 RTP/AVP 107\r\n"
		"c=IN IP6 2001:db8::1\r\n"
		"a=rtpmap:107 H263-1998/90000\r\n";
	static const char mapped[] =
		"v=0\r\n"
		"o=assistant 971731711378798081 0 IN IP6 ::ffff:192.0.2.2\r\n"
		"s=Call me soon, please!\r\n"
		"c=IN IP6 ::ffff:192.0.2.2\r\n"
		"t=3338481189 3370017201\r\n"
		"m=audio 6000 RTP/AVP 2\r\n"
		"a=rtpmap:2 G726-32/8000\r\n"
		"m=video 6024 RTP/AVP 107\r\n"
		"a=rtpmap:107 H263-1998/90000\r\n";
	struct sip_perr err;

	(void)state;
	assert_int_equal(parse(v6, &err), 0);
	assert_int_equal(S.conn.af, AF_INET6);
	assert_str_equal_cstr(S.conn.addr, "2001:db8::20");
	assert_str_equal_cstr(S.o_addr, "2001:db8::20");
	assert_int_equal(S.nmedia, 2);
	assert_int_equal(sdp_media_conn(&S, 1)->af, AF_INET6);
	assert_int_equal(S.media[1].port, 6024);

	assert_int_equal(parse(mult, &err), 0);
	assert_false(S.conn.present);
	assert_int_equal(S.name.len, 0);
	assert_str_equal_cstr(sdp_media_conn(&S, 0)->addr, "192.0.2.1");
	assert_int_equal(sdp_media_conn(&S, 0)->af, AF_INET);
	assert_str_equal_cstr(sdp_media_conn(&S, 1)->addr, "2001:db8::1");
	assert_int_equal(sdp_media_conn(&S, 1)->af, AF_INET6);

	assert_int_equal(parse(mapped, &err), 0);
	assert_int_equal(S.conn.af, AF_INET6);
	assert_str_equal_cstr(S.conn.addr, "::ffff:192.0.2.2");
}

static size_t load(const char *name, char *p, size_t cap)
{
	char path[256];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "tests/data/sdp/%s", name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (run from the repository root)", path);
	n = fread(p, 1, cap, f);
	fclose(f);
	return n;
}

static void test_samples(void **state)
{
	static const struct {
		const char *file;
		unsigned nmedia;
		unsigned nattr;
	} cases[] = {
		{"linphone_ice_ipv4.sdp", 2, 30},
		{"baresip_ipv6_mux.sdp", 2, 17},
		{"zoiper_sdes.sdp", 1, 12},
		{"asterisk_hold.sdp", 2, 7},
		{"hold_rfc2543.sdp", 1, 3},
		{"webrtc_bundle.sdp", 3, 55},
		{"every_line_lf.sdp", 3, 6},
		{"rfc5118_ipv6_in_sdp.sdp", 2, 2},
		{"rfc5118_mult_ip_in_sdp.sdp", 2, 1},
		{"rfc5118_ipv4_mapped_ipv6.sdp", 2, 2},
	};
	static char body[SDP_MAX_SIZE];
	struct sip_perr err;
	size_t i, n;

	(void)state;
	for (i = 0; i < N(cases); i++) {
		n = load(cases[i].file, body, sizeof(body));
		if (sdp_parse(&S, str_make(body, n), &err))
			fail_msg("%s: %s at %u", cases[i].file, err.reason,
				 err.off);
		assert_int_equal(S.nmedia, cases[i].nmedia);
		assert_int_equal(S.nattr, cases[i].nattr);
	}
	n = load("webrtc_bundle.sdp", body, sizeof(body));
	assert_int_equal(sdp_parse(&S, str_make(body, n), &err), 0);
	assert_str_equal_cstr(S.media[2].mid, "2");
	assert_int_equal(S.media[0].setup, SDP_SETUP_ACTPASS);
	assert_true(S.media[1].rtcp_mux);
	assert_int_equal(S.media[0].rtcp_port, 9);
	assert_str_equal_cstr(S.media[0].rtcp_addr, "0.0.0.0");
	assert_int_equal(S.media[0].dir, SDP_DIR_SENDRECV);
	assert_false(S.conn.present);
	assert_int_equal(S.nsess_attr, 3);
	assert_str_equal_cstr(sdp_attr_find(&S, -1, "msid-semantic")->value,
			      " WMS stream1");
	n = load("every_line_lf.sdp", body, sizeof(body));
	assert_int_equal(sdp_parse(&S, str_make(body, n), &err), 0);
	assert_int_equal(S.media[2].setup, SDP_SETUP_HOLDCONN);
	assert_int_equal(S.media[2].end.p - body, n);
	assert_int_equal(S.media[0].ptime, 20);
}

static void test_rtpmap(void **state)
{
	static const struct {
		const char *in;
		int ok;
		uint8_t pt;
		const char *enc;
		uint32_t clock;
		uint16_t ch;
	} cases[] = {
		{"0 PCMU/8000", 1, 0, "PCMU", 8000, 1},
		{"96 opus/48000/2", 1, 96, "opus", 48000, 2},
		{"101 telephone-event/8000", 1, 101, "telephone-event", 8000,
		 1},
		{"127  G726-32/8000 ", 1, 127, "G726-32", 8000, 1},
		{"128 X/8000", 0, 0, 0, 0, 0},
		{"96", 0, 0, 0, 0, 0},
		{"96 opus", 0, 0, 0, 0, 0},
		{"96 opus/", 0, 0, 0, 0, 0},
		{"96 opus/0", 0, 0, 0, 0, 0},
		{"96 opus/48000/", 0, 0, 0, 0, 0},
		{"96 opus/48000/0", 0, 0, 0, 0, 0},
		{"96 opus/48000/2/1", 0, 0, 0, 0, 0},
		{"96 /8000", 0, 0, 0, 0, 0},
		{"x PCMU/8000", 0, 0, 0, 0, 0},
		{"96 op us/8000", 0, 0, 0, 0, 0},
		{"96 opus/4294967296", 0, 0, 0, 0, 0},
		{"", 0, 0, 0, 0, 0},
	};
	struct sdp_rtpmap r;
	size_t i;

	(void)state;
	for (i = 0; i < N(cases); i++) {
		int rc = sdp_rtpmap_parse(&r, str_cstr(cases[i].in));

		if ((rc == 0) != cases[i].ok)
			fail_msg("rtpmap case %zu: rc %d", i, rc);
		if (!cases[i].ok)
			continue;
		assert_int_equal(r.pt, cases[i].pt);
		assert_str_equal_cstr(r.encoding, cases[i].enc);
		assert_int_equal(r.clock, cases[i].clock);
		assert_int_equal(r.channels, cases[i].ch);
	}
}

#define K30 "WVNBVVlUWmVFakZQZ1FlT29mUlZzZW5sa0hLRmhW"
#define K46 "QUVTMjU2IGtleSBhbmQgc2FsdCBtYWtlIGZvcnR5IHNpeCBieXRlc18hISEhIQ=="

static void test_crypto(void **state)
{
	static const struct {
		const char *in;
		int ok;
		uint32_t tag;
		const char *key, *lifetime, *mki, *params;
	} cases[] = {
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" K30, 1, 1, K30, "", "",
		 ""},
		{"2 AES_CM_128_HMAC_SHA1_32 inline:" K30 "|2^20|1:32", 1, 2,
		 K30, "2^20", "1:32", ""},
		{"3 AES_CM_128_HMAC_SHA1_80 inline:" K30 "|1:4", 1, 3, K30, "",
		 "1:4", ""},
		{"4 AES_CM_128_HMAC_SHA1_80 inline:" K30 "|1048576 KDR=1 "
		 "UNENCRYPTED_SRTCP",
		 1, 4, K30, "1048576", "", "KDR=1 UNENCRYPTED_SRTCP"},
		{"5 AES_CM_128_HMAC_SHA1_80 inline:" K30 "|2^20|1:4;inline:" K30
		 "|2^20|2:4",
		 1, 5, K30, "2^20", "1:4", ""},
		{"6 AES_256_CM_HMAC_SHA1_80 inline:" K46, 1, 6, K46, "", "",
		 ""},
		{"999999999 X_FUTURE_SUITE inline:YWJj", 1, 999999999, "YWJj",
		 "", "", ""},
		{"7 AES_CM_128_HMAC_SHA1_80 INLINE:" K30, 1, 7, K30, "", "",
		 ""},
		{"1000000000 AES_CM_128_HMAC_SHA1_80 inline:" K30, 0, 0, 0, 0,
		 0, 0},
		{"1 AES_CM_128_HMAC_SHA1_80", 0, 0, 0, 0, 0, 0},
		{"1 AES_CM_128_HMAC_SHA1_80 key:" K30, 0, 0, 0, 0, 0, 0},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:", 0, 0, 0, 0, 0, 0},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" K46, 0, 0, 0, 0, 0, 0},
		{"1 AES_256_CM_HMAC_SHA1_80 inline:" K30, 0, 0, 0, 0, 0, 0},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" K30 "!", 0, 0, 0, 0, 0, 0},
		{"1 X inline:ab=", 0, 0, 0, 0, 0, 0},
		{"1 X inline:a===", 0, 0, 0, 0, 0, 0},
		{"1 X inline:ab=c", 0, 0, 0, 0, 0, 0},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" K30 "|1:4|2^20", 0, 0, 0,
		 0, 0, 0},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" K30 "|2^20|1:4|x", 0, 0, 0,
		 0, 0, 0},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" K30 "|1:0", 0, 0, 0, 0, 0,
		 0},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" K30 "|1:129", 0, 0, 0, 0,
		 0, 0},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" K30 "|2^", 0, 0, 0, 0, 0,
		 0},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" K30 "|", 0, 0, 0, 0, 0, 0},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" K30 ";", 0, 0, 0, 0, 0, 0},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" K30 ";;inline:" K30, 0, 0,
		 0, 0, 0, 0},
		{"1 AES-CM inline:" K30, 0, 0, 0, 0, 0, 0},
		{"x AES_CM_128_HMAC_SHA1_80 inline:" K30, 0, 0, 0, 0, 0, 0},
	};
	struct sdp_crypto c;
	size_t i;

	(void)state;
	for (i = 0; i < N(cases); i++) {
		int rc = sdp_crypto_parse(&c, str_cstr(cases[i].in));

		if ((rc == 0) != cases[i].ok)
			fail_msg("crypto case %zu: rc %d", i, rc);
		if (!cases[i].ok)
			continue;
		assert_int_equal(c.tag, cases[i].tag);
		assert_str_equal_cstr(c.key, cases[i].key);
		assert_str_equal_cstr(c.lifetime, cases[i].lifetime);
		assert_str_equal_cstr(c.mki, cases[i].mki);
		assert_str_equal_cstr(c.params, cases[i].params);
	}
	assert_int_equal(sdp_crypto_parse(&c, str_cstr(cases[0].in)), 0);
	assert_str_equal_cstr(c.suite, "AES_CM_128_HMAC_SHA1_80");
}

#define FP32                                                          \
	"D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0" \
	":3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F"
#define FP20 "4a:ad:b9:b1:3f:82:18:3b:54:02:12:df:3e:5d:49:6b:19:e5:7c:ab"

static void test_fingerprint(void **state)
{
	static const struct {
		const char *in;
		int ok;
	} cases[] = {
		{"sha-256 " FP32, 1},
		{"SHA-1 " FP20, 1},
		{"x-hash 01:02", 1},
		{"sha-256 " FP20, 0},
		{"sha-1 " FP32, 0},
		{"sha-256 0G:01", 0},
		{"x 01:02:", 0},
		{"x 01-02", 0},
		{"x 1:02", 0},
		{"sha-256", 0},
		{"sha-256 " FP32 " x", 0},
		{"", 0},
	};
	struct sdp_fingerprint f;
	size_t i;

	(void)state;
	for (i = 0; i < N(cases); i++)
		if ((sdp_fingerprint_parse(&f, str_cstr(cases[i].in)) == 0) !=
		    cases[i].ok)
			fail_msg("fingerprint case %zu", i);
	assert_int_equal(sdp_fingerprint_parse(&f, str_cstr(cases[0].in)), 0);
	assert_str_equal_cstr(f.hash, "sha-256");
	assert_str_equal_cstr(f.value, FP32);
}

static void test_candidate(void **state)
{
	static const struct {
		const char *in;
		int ok;
		const char *addr;
		uint16_t port;
		const char *type, *raddr;
		int rport; /* -1: none */
		const char *ext;
	} cases[] = {
		{"1 1 UDP 2130706431 192.168.1.20 7078 typ host", 1,
		 "192.168.1.20", 7078, "host", "", -1, ""},
		{"2 2 UDP 1694498814 203.0.113.7 41235 typ srflx raddr "
		 "192.168.1.20 rport 7079",
		 1, "203.0.113.7", 41235, "srflx", "192.168.1.20", 7079, ""},
		{"842163049 1 udp 1677729535 2001:db8::7 54400 typ srflx raddr "
		 "2001:db8::10 rport 0 generation 0 network-cost 999",
		 1, "2001:db8::7", 54400, "srflx", "2001:db8::10", 0,
		 "generation 0 network-cost 999"},
		{"4 1 udp 2122194687 a1b2-c3.local 54402 typ host generation 0",
		 1, "a1b2-c3.local", 54402, "host", "", -1, "generation 0"},
		{"2 1 tcp 1518280447 192.168.0.10 9 typ host tcptype active", 1,
		 "192.168.0.10", 9, "host", "", -1, "tcptype active"},
		{"a+/B 256 UDP 4294967295 ::1 0 typ relay", 1, "::1", 0,
		 "relay", "", -1, ""},
		{"1 1 UDP 1 1.2.3.4 5 host", 0, 0, 0, 0, 0, 0, 0},
		{"1 1 UDP 1 1.2.3.4 5 type host", 0, 0, 0, 0, 0, 0, 0},
		{"1 1 UDP 1 1.2.3.4 5 typ", 0, 0, 0, 0, 0, 0, 0},
		{"1 1 UDP 1 1.2.3.4 65536 typ host", 0, 0, 0, 0, 0, 0, 0},
		{"1 0 UDP 1 1.2.3.4 5 typ host", 0, 0, 0, 0, 0, 0, 0},
		{"1 257 UDP 1 1.2.3.4 5 typ host", 0, 0, 0, 0, 0, 0, 0},
		{"1 1 UDP 4294967296 1.2.3.4 5 typ host", 0, 0, 0, 0, 0, 0, 0},
		{"123456789012345678901234567890123 1 UDP 1 1.2.3.4 5 typ "
		 "host",
		 0, 0, 0, 0, 0, 0, 0},
		{"1-2 1 UDP 1 1.2.3.4 5 typ host", 0, 0, 0, 0, 0, 0, 0},
		{"1 1 UDP 1 [::1] 5 typ host", 0, 0, 0, 0, 0, 0, 0},
		{"1 1 UDP 1 1.2.3.4:5 5 typ host", 0, 0, 0, 0, 0, 0, 0},
		{"1 1 UDP 1 1.2.3.4 5 typ host raddr 1.2.3.4 raddr 1.2.3.5", 0,
		 0, 0, 0, 0, 0, 0},
		{"1 1 UDP 1 1.2.3.4 5 typ host rport 1 rport 2", 0, 0, 0, 0, 0,
		 0, 0},
		{"1 1 UDP 1 1.2.3.4 5 typ host rport x", 0, 0, 0, 0, 0, 0, 0},
		{"1 1 UDP 1 1.2.3.4 5 typ host raddr a:b", 0, 0, 0, 0, 0, 0, 0},
		{"1 1 UDP 1 1.2.3.4 5 typ host generation", 0, 0, 0, 0, 0, 0,
		 0},
		{"", 0, 0, 0, 0, 0, 0, 0},
	};
	struct sdp_candidate c;
	size_t i;

	(void)state;
	for (i = 0; i < N(cases); i++) {
		int rc = sdp_candidate_parse(&c, str_cstr(cases[i].in));

		if ((rc == 0) != cases[i].ok)
			fail_msg("candidate case %zu: rc %d", i, rc);
		if (!cases[i].ok)
			continue;
		assert_str_equal_cstr(c.addr, cases[i].addr);
		assert_int_equal(c.port, cases[i].port);
		assert_str_equal_cstr(c.type, cases[i].type);
		assert_str_equal_cstr(c.raddr, cases[i].raddr);
		assert_int_equal(c.has_rport, cases[i].rport >= 0);
		if (cases[i].rport >= 0)
			assert_int_equal(c.rport, cases[i].rport);
		assert_str_equal_cstr(c.ext, cases[i].ext);
	}
	assert_int_equal(sdp_candidate_parse(&c, str_cstr(cases[1].in)), 0);
	assert_str_equal_cstr(c.foundation, "2");
	assert_int_equal(c.component, 2);
	assert_str_equal_cstr(c.transport, "UDP");
	assert_int_equal(c.priority, 1694498814u);
}

static void test_ip_af(void **state)
{
	(void)state;
	assert_int_equal(sdp_ip_af(STR("192.0.2.1")), AF_INET);
	assert_int_equal(sdp_ip_af(STR("::ffff:192.0.2.1")), AF_INET6);
	assert_int_equal(sdp_ip_af(STR("2001:db8::1")), AF_INET6);
	assert_int_equal(sdp_ip_af(STR("01.2.3.4")), 0);
	assert_int_equal(sdp_ip_af(STR("1.2.3")), 0);
	assert_int_equal(sdp_ip_af(STR("[::1]")), 0);
	assert_int_equal(sdp_ip_af(STR("host")), 0);
	assert_int_equal(sdp_ip_af(STR("")), 0);
	assert_int_equal(sdp_ip_af(str_make("1.2.3.4\0x", 9)), 0);
	assert_int_equal(sdp_ip_af(STR("1111:2222:3333:4444:5555:6666:7777:"
				       "8888:9999:0000:1111:2222:3333:4444")),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_every_line),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_rfc5118),
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_rtpmap),
		cmocka_unit_test(test_crypto),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_candidate),
		cmocka_unit_test(test_ip_af),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
