/*
 * test_frame.c - the stream framer (RFC 3261 18.3, RFC 5626 3.5.1):
 * keep-alives, Content-Length in all its spellings, pipelined messages,
 * every error, and every split point of a byte stream for both the
 * stateless and the resumable framer.
 */
#include <errno.h>

#include "test.h"
#include "sip/sip.h"

#define HDRS                                              \
	"Via: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKa1\r\n" \
	"From: <sip:alice@example.com>;tag=f1\r\n"        \
	"To: <sip:bob@example.com>\r\nCall-ID: c1@192.0.2.1\r\n"
#define M1                                            \
	"INVITE sip:bob@example.com SIP/2.0\r\n" HDRS \
	"CSeq: 1 INVITE\r\nContent-Length: 5\r\n\r\nhello"
#define M2 "SIP/2.0 200 OK\r\n" HDRS "CSeq: 1 INVITE\r\nl:0\r\n\r\n"
#define M3                                         \
	"BYE sip:bob@example.com SIP/2.0\r\n" HDRS \
	"CSeq: 2 BYE\r\ncontent-length:\r\n  3\r\n\r\nabc"

struct fcase {
	const char *in;
	ssize_t rc;
	enum sip_frame_kind kind;
	enum sip_perr_code code;
};

static const struct fcase fcases[] = {
	{"", 0, SIP_FRAME_MSG, 0},
	{"\r", 0, SIP_FRAME_MSG, 0},
	{"\r\n", 2, SIP_FRAME_PONG, 0},
	{"\r\n\r", 0, SIP_FRAME_MSG, 0},
	{"\r\n\r\n", 4, SIP_FRAME_PING, 0},
	{"\r\n\r\nINVITE", 4, SIP_FRAME_PING, 0},
	{"\r\nINVITE", 2, SIP_FRAME_PONG, 0},
	{"\rX", -EINVAL, 0, SIP_PE_SYNTAX},
	{"\r\n\rX", -EINVAL, 0, SIP_PE_SYNTAX},
	{"\x16\x03\x01", -EINVAL, 0, SIP_PE_SYNTAX}, /* TLS on TCP */
	{" INVITE", -EINVAL, 0, SIP_PE_SYNTAX},
	{"INVITE sip:a@b SIP/2.0\r\n", 0, SIP_FRAME_MSG, 0},
	{M1, sizeof(M1) - 1, SIP_FRAME_MSG, 0},
	{M1 M2, sizeof(M1) - 1, SIP_FRAME_MSG, 0},
	{M2, sizeof(M2) - 1, SIP_FRAME_MSG, 0},
	{M3, sizeof(M3) - 1, SIP_FRAME_MSG, 0},
	{"INVITE sip:a@b SIP/2.0\r\n" HDRS "\r\n", -EINVAL, 0, SIP_PE_MISSING},
	{"INVITE sip:a@b SIP/2.0\r\nContent-Length: 1\r\nl: 1\r\n\r\nab",
	 -EINVAL, 0, SIP_PE_DUPLICATE},
	{"INVITE sip:a@b SIP/2.0\r\nContent-Length: x\r\n\r\n", -EINVAL, 0,
	 SIP_PE_SYNTAX},
	{"INVITE sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n", -EINVAL, 0,
	 SIP_PE_SYNTAX},
	{"INVITE sip:a@b SIP/2.0\r\nContent-Length: 99999999999999999999\r\n"
	 "\r\n",
	 -EMSGSIZE, 0, SIP_PE_TOO_LARGE},
	{"INVITE sip:a@b SIP/2.0\r\nContent-Length: 65535\r\n\r\n", -EMSGSIZE,
	 0, SIP_PE_TOO_LARGE},
	/* the name must start a line: X-Content-Length is another header */
	{"INVITE sip:a@b SIP/2.0\r\nX-Content-Length: 3\r\nContent-Length: 1"
	 "\r\n\r\nab",
	 49 + 18, SIP_FRAME_MSG, 0},
	{"INVITE sip:a@b SIP/2.0\r\nContent-Length : 2\r\n\r\nab", 48,
	 SIP_FRAME_MSG, 0},
	{"INVITE sip:a@b SIP/2.0\r\nContent-Length: 2\r\n\r\na", 0,
	 SIP_FRAME_MSG, 0},
};

static void test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(fcases) / sizeof(fcases[0]); i++) {
		enum sip_frame_kind k = SIP_FRAME_MSG;
		struct sip_perr e = {0};
		ssize_t rc = sip_frame(fcases[i].in, strlen(fcases[i].in), NULL,
				       &k, &e);

		if (rc != fcases[i].rc)
			fail_msg("case %zu: rc %zd want %zd (%s)", i, rc,
				 fcases[i].rc, e.reason ? e.reason : "");
		if (rc > 0)
			assert_int_equal(k, fcases[i].kind);
		if (rc < 0) {
			assert_int_equal(e.code, fcases[i].code);
			assert_non_null(e.reason);
		}
	}
}

static const char stream[] = "\r\n\r\n" M1 "\r\n" M2 M3 "\r\n\r\n" M1;

/* Feed `stream` cut at every pair of split points, and check that both
 * framers find the same frames as when given the whole stream. */
static void run_split(size_t cut1, size_t cut2, bool resumable)
{
	static const ssize_t want[] = {
		4, sizeof(M1) - 1, 2, sizeof(M2) - 1, sizeof(M3) - 1,
		4, sizeof(M1) - 1};
	size_t total = sizeof(stream) - 1, have = 0, start = 0, nf = 0;
	struct sip_frame_state st = {0, 0};

	while (start < total) {
		size_t avail;
		enum sip_frame_kind k;
		struct sip_perr e;
		ssize_t rc;

		if (have < cut1)
			have = cut1;
		else if (have < cut2)
			have = cut2;
		else
			have = total;
		for (;;) {
			avail = have - start;
			rc = resumable ? sip_frame_r(&st, stream + start, avail,
						     NULL, &k, &e)
				       : sip_frame(stream + start, avail, NULL,
						   &k, &e);
			assert_true(rc >= 0);
			if (rc == 0)
				break;
			assert_true(nf < 7);
			if (rc != want[nf])
				fail_msg("cut %zu/%zu frame %zu: %zd want %zd",
					 cut1, cut2, nf, rc, want[nf]);
			nf++;
			start += (size_t)rc;
			if (start >= have)
				break;
		}
		if (have == total && start < total)
			fail_msg("cut %zu/%zu: stuck at %zu", cut1, cut2,
				 start);
	}
	assert_int_equal(nf, 7);
}

/* A ping cut after its first CRLF reads as two pongs (documented in
 * frame.c): those two cut points are left out here. */
static bool splits_ping(size_t cut)
{
	const size_t ping2 =
		4 + sizeof(M1) - 1 + 2 + sizeof(M2) - 1 + sizeof(M3) - 1;

	return cut == 2 || cut == ping2 + 2;
}

static void test_every_split(void **state)
{
	size_t n = sizeof(stream) - 1, a, b;

	(void)state;
	for (a = 0; a <= n; a++) {
		if (splits_ping(a))
			continue;
		run_split(a, a, false);
		run_split(a, a, true);
	}
	/* two cuts: every pair inside the first message */
	for (a = 4; a < 4 + sizeof(M1); a += 3)
		for (b = a; b < 4 + sizeof(M1) + 4; b++)
			if (!splits_ping(b))
				run_split(a, b, true);
}

/* Byte by byte through the resumable framer: each byte costs O(1). */
static void test_byte_by_byte(void **state)
{
	struct sip_frame_state st = {0, 0};
	enum sip_frame_kind k;
	size_t len;
	ssize_t rc = 0;

	(void)state;
	for (len = 1; len <= sizeof(M1) - 1; len++) {
		rc = sip_frame_r(&st, M1, len, NULL, &k, NULL);
		if (len < sizeof(M1) - 1)
			assert_int_equal(rc, 0);
	}
	assert_int_equal(rc, sizeof(M1) - 1);
	assert_int_equal(k, SIP_FRAME_MSG);
	assert_int_equal(st.scanned, 0);
	assert_int_equal(st.frame_len, 0);
}

static void test_limits(void **state)
{
	struct sip_limits lim = sip_limits_default;
	enum sip_frame_kind k;
	struct sip_perr e;
	char big[300];
	ssize_t rc;

	(void)state;
	lim.max_msg_size = sizeof(M1) - 1;
	assert_int_equal(sip_frame(M1, sizeof(M1) - 1, &lim, &k, &e),
			 sizeof(M1) - 1);
	lim.max_msg_size = sizeof(M1) - 2;
	assert_int_equal(sip_frame(M1, sizeof(M1) - 1, &lim, &k, &e),
			 -EMSGSIZE);
	assert_int_equal(e.code, SIP_PE_TOO_LARGE);
	/* headers never ending: refused once the limit is buffered */
	memset(big, 'a', sizeof(big));
	lim.max_msg_size = 200;
	assert_int_equal(sip_frame(big, 199, &lim, &k, &e), 0);
	rc = sip_frame(big, 200, &lim, &k, &e);
	assert_int_equal(rc, -EMSGSIZE);
	assert_int_equal(e.code, SIP_PE_TOO_LARGE);
	assert_int_equal(sip_frame(big, sizeof(big), &lim, &k, &e), -EMSGSIZE);
	/* NULL kind and error pointers are fine */
	assert_int_equal(sip_frame("\r\n", 2, NULL, NULL, NULL), 2);
	assert_int_equal(sip_frame(NULL, 0, NULL, NULL, NULL), 0);
}

/* A frame passes sip_msg_parse in stream mode. */
static void test_frame_then_parse(void **state)
{
	static struct sip_msg msg;
	const char *p = stream;
	size_t left = sizeof(stream) - 1;
	unsigned nmsg = 0;

	(void)state;
	while (left) {
		enum sip_frame_kind k;
		struct sip_perr e;
		ssize_t rc = sip_frame(p, left, NULL, &k, &e);

		assert_true(rc > 0);
		if (k == SIP_FRAME_MSG) {
			if (sip_msg_parse(&msg, p, (size_t)rc, NULL,
					  SIP_PARSE_STREAM, &e) != 0)
				fail_msg("%s at %u", e.reason, e.off);
			nmsg++;
		}
		p += rc;
		left -= (size_t)rc;
	}
	assert_int_equal(nmsg, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_frame_then_parse),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
