/*
 * test_hep.c - the HEPv3 encoder (byte layout of IPv4 and IPv6 packets,
 * chunk lengths, the total length, size limit, mixed families) and the
 * UDP sender against a local socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"
#include "core/addr.h"
#include "core/buf.h"
#include "events/hep.h"

static struct sg_addr addr(const char *s)
{
	struct sg_addr a;

	assert_int_equal(sg_addr_parse(&a, str_cstr(s), 0), 0);
	return a;
}

/* Walk the chunks: the value of (vendor 0, type), or NULL. */
static const uint8_t *find(const uint8_t *p, size_t n, unsigned type,
			   size_t *lenp)
{
	size_t off = 6;

	while (off + 6 <= n) {
		unsigned vend = (unsigned)(p[off] << 8 | p[off + 1]);
		unsigned t = (unsigned)(p[off + 2] << 8 | p[off + 3]);
		size_t len = (size_t)(p[off + 4] << 8 | p[off + 5]);

		assert_true(len >= 6 && off + len <= n);
		if (vend == 0 && t == type) {
			*lenp = len - 6;
			return p + off + 6;
		}
		off += len;
	}
	return NULL;
}

static uint32_t be(const uint8_t *v, size_t n)
{
	uint32_t x = 0;

	while (n--)
		x = x << 8 | *v++;
	return x;
}

static const struct {
	const char *src, *dst;
	unsigned family, srctype, addrlen;
} cases[] = {
	{"192.0.2.1:5060", "198.51.100.7:5080", 2, 3, 4},
	{"[2001:db8::1]:5060", "[2001:db8::2]:5061", 10, 5, 16},
};

static void test_encode(void **state)
{
	struct buf b;
	size_t i, len;
	const uint8_t *v;

	(void)state;
	buf_init(&b, HEP_MAX_PACKET);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sg_addr s = addr(cases[i].src), d = addr(cases[i].dst);
		struct hep_pkt p = {
			.src = &s,
			.dst = &d,
			.ipproto = 17,
			.proto_type = HEP_PROTO_SIP,
			.wall_us = 1700000000123456ull,
			.capture_id = 4242,
			.payload = STR("OPTIONS sip:x SIP/2.0\r\n\r\n"),
			.correlation = STR("cid-1"),
		};
		const uint8_t *o;

		buf_reset(&b);
		assert_int_equal(hep_encode(&b, &p), 0);
		o = (const uint8_t *)b.p;
		assert_memory_equal(o, "HEP3", 4);
		assert_int_equal(be(o + 4, 2), b.len);
		assert_non_null(v = find(o, b.len, 1, &len));
		assert_int_equal(len, 1);
		assert_int_equal(*v, cases[i].family);
		assert_non_null(v = find(o, b.len, cases[i].srctype, &len));
		assert_int_equal(len, cases[i].addrlen);
		assert_non_null(v = find(o, b.len, cases[i].srctype + 1, &len));
		assert_int_equal(len, cases[i].addrlen);
		assert_non_null(v = find(o, b.len, 7, &len));
		assert_int_equal(be(v, 2), 5060);
		assert_non_null(v = find(o, b.len, 8, &len));
		assert_int_equal(be(v, 2), sg_addr_port(&d));
		assert_non_null(v = find(o, b.len, 9, &len));
		assert_int_equal(be(v, 4), 1700000000u);
		assert_non_null(v = find(o, b.len, 10, &len));
		assert_int_equal(be(v, 4), 123456u);
		assert_non_null(v = find(o, b.len, 11, &len));
		assert_int_equal(*v, HEP_PROTO_SIP);
		assert_non_null(v = find(o, b.len, 12, &len));
		assert_int_equal(be(v, 4), 4242u);
		assert_non_null(v = find(o, b.len, 15, &len));
		assert_int_equal(len, p.payload.len);
		assert_memory_equal(v, p.payload.p, len);
		assert_non_null(v = find(o, b.len, 17, &len));
		assert_memory_equal(v, "cid-1", 5);
	}
	buf_free(&b);
}

static void test_refused(void **state)
{
	struct sg_addr s = addr("192.0.2.1:1"), d6 = addr("[::1]:2");
	static char big[HEP_MAX_PACKET];
	struct hep_pkt p = {.src = &s, .dst = &d6, .payload = STR("x")};
	struct buf b;

	(void)state;
	buf_init(&b, HEP_MAX_PACKET);
	/* Mixed families: nothing written. */
	assert_int_equal(hep_encode(&b, &p), -EINVAL);
	assert_int_equal(b.len, 0);
	/* Too large for one datagram. */
	p.dst = &s;
	p.payload = str_make(big, sizeof(big));
	assert_int_equal(hep_encode(&b, &p), -EMSGSIZE);
	assert_int_equal(b.len, 0);
	assert_int_equal(hep_encode(NULL, &p), -EINVAL);
	buf_free(&b);
}

static void test_send(void **state)
{
	struct sg_addr srv = addr("127.0.0.1:9"), s = addr("192.0.2.1:5060");
	struct hep *h = NULL;
	struct hep_stats st;
	uint8_t in[2048];
	ssize_t n;
	int fd;

	(void)state;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	srv.u.in.sin_port = 0; /* any free port */
	assert_int_equal(bind(fd, &srv.u.sa, srv.len), 0);
	srv.len = sizeof(srv.u.ss);
	assert_int_equal(getsockname(fd, &srv.u.sa, &srv.len), 0);
	assert_int_equal(hep_new(&h, &srv, 7), 0);
	hep_send(h, &s, &srv, false, HEP_PROTO_LOG, STR("{\"a\":1}"), STR_NULL);
	n = recv(fd, in, sizeof(in), 0);
	assert_true(n > 6);
	assert_memory_equal(in, "HEP3", 4);
	hep_stats(h, &st);
	assert_int_equal(st.sent, 1);
	/* Mixed families: counted as an error, nothing sent. */
	{
		struct sg_addr d6 = addr("[::1]:1");

		hep_send(h, &s, &d6, false, HEP_PROTO_SIP, STR("x"), STR_NULL);
		hep_stats(h, &st);
		assert_int_equal(st.errors, 1);
	}
	hep_free(h);
	hep_free(NULL);
	close(fd);
}

/*
 * SDES keys in a captured SIP message: masked with '*' in the copy sent
 * (same length, suite and lifetime kept), with or without a correlation
 * chunk after the payload; sent as they are with hep_keep_keys(); the
 * caller's message is never changed.
 */
static void test_keys(void **state)
{
	static const char key[] = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";
	struct sg_addr srv = addr("127.0.0.1:9"), s = addr("192.0.2.1:5060");
	char msg[512], want[512];
	struct hep *h = NULL;
	uint8_t in[2048];
	unsigned round;
	int fd;

	(void)state;
	snprintf(msg, sizeof(msg),
		 "INVITE sip:b@x SIP/2.0\r\nContent-Length: 99\r\n\r\n"
		 "m=audio 4000 RTP/SAVP 0\r\n"
		 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%s|2^20\r\n",
		 key);
	memcpy(want, msg, sizeof(msg));
	memset(strstr(want, key), '*', strlen(key));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	srv.u.in.sin_port = 0;
	assert_int_equal(bind(fd, &srv.u.sa, srv.len), 0);
	srv.len = sizeof(srv.u.ss);
	assert_int_equal(getsockname(fd, &srv.u.sa, &srv.len), 0);
	assert_int_equal(hep_new(&h, &srv, 7), 0);
	for (round = 0; round < 3; round++) {
		struct str corr = round == 1 ? STR("call-1@x") : STR_NULL;
		const uint8_t *v;
		size_t len;
		ssize_t n;

		if (round == 2)
			hep_keep_keys(h, true);
		hep_send(h, &s, &srv, false, HEP_PROTO_SIP, str_cstr(msg),
			 corr);
		n = recv(fd, in, sizeof(in), 0);
		assert_true(n > 6);
		v = find(in, (size_t)n, 15, &len);
		assert_non_null(v);
		assert_int_equal(len, strlen(msg));
		assert_memory_equal(v, round == 2 ? msg : want, len);
		if (round == 1) {
			v = find(in, (size_t)n, 17, &len);
			assert_non_null(v);
			assert_memory_equal(v, "call-1@x", len);
		}
		assert_non_null(strstr(msg, key)); /* ours: untouched */
	}
	hep_free(h);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_send),
		cmocka_unit_test(test_keys),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
