/*
 * test_keywipe.c - our SDES keys do not outlive the SIP copies that
 * carried them: keyline_in() (core/keyline.c) finds a=crypto lines, and
 * the transaction layer wipes every copy that held one before its memory
 * goes back to the allocator: a client transaction's request, a server
 * transaction's kept response (also when a larger response replaces it,
 * and when the layer is freed with transactions alive).  Checked through
 * mem_set_free_hook(): every block mem_free() releases is searched for
 * the key; a copy without a key is not wiped (the control that shows the
 * hook sees those blocks).  Fake clock, no sockets.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "test.h"
#include "core/keyline.h"
#include "sip/txn.h"

#define KEY   "WIPEMEKEYWIPEMEKEYWIPEMEKEYWIPEMEKEY1234" /* 40 b64 chars */
#define PLAIN "PLAINMARKER"
#define BR    "z9hG4bKkw1"
#define SRC   "198.51.100.7:5062"

static struct fx {
	struct tmr_wheel w;
	struct sip_txl *txl;
	uint64_t now;
	unsigned freed_key, freed_plain;
} fx;

static struct sip_msg msg;

/* mem_free() hook: count released blocks still holding the markers. */
static void on_free(const void *p, size_t n)
{
	if (memmem(p, n, KEY, sizeof(KEY) - 1))
		fx.freed_key++;
	if (memmem(p, n, PLAIN, sizeof(PLAIN) - 1))
		fx.freed_plain++;
}

static int fake_send(void *arg, const struct sip_peer *to, const char *p,
		     size_t n)
{
	(void)arg;
	(void)to;
	(void)p;
	return (int)n;
}

static int setup(void **state)
{
	struct sip_txl_cb cb = {.send = fake_send};

	(void)state;
	memset(&fx, 0, sizeof(fx));
	fx.now = 1000000;
	tmr_wheel_init(&fx.w, fx.now);
	mem_set_free_hook(on_free);
	return sip_txl_new(&fx.txl, NULL, &cb, &fx.w);
}

static int teardown(void **state)
{
	(void)state;
	sip_txl_free(fx.txl);
	fx.txl = NULL;
	mem_set_free_hook(NULL);
	tmr_wheel_fini(&fx.w);
	assert_no_leaks();
	return 0;
}

static struct sip_peer peer(void)
{
	struct sip_peer p;

	memset(&p, 0, sizeof(p));
	p.tp = SIP_TP_UDP;
	assert_int_equal(sg_addr_parse(&p.addr, STR(SRC), 0), 0);
	return p;
}

/* A message with an SDP body; crypto: our a=crypto line, else a plain
 * marker in its place. */
static int sdp_msg(char *b, size_t size, const char *start, bool crypto,
		   size_t pad)
{
	char body[3072];
	int nb, n;

	nb = snprintf(body, sizeof(body),
		      "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
		      "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
		      "m=audio 4000 RTP/SAVP 0\r\n%s\r\na=x:%*s\r\n",
		      crypto ? "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
			       "inline:" KEY
			     : "a=label:" PLAIN,
		      (int)pad, "");
	assert_true(nb > 0 && (size_t)nb < sizeof(body));
	n = snprintf(b, size,
		     "%s\r\nVia: SIP/2.0/UDP " SRC ";branch=" BR "\r\n"
		     "From: <sip:alice@example.com>;tag=f1\r\n"
		     "To: <sip:bob@example.com>%s\r\n"
		     "Call-ID: kw@x\r\nCSeq: 7 INVITE\r\n"
		     "Content-Type: application/sdp\r\n"
		     "Content-Length: %d\r\n\r\n%s",
		     start, start[0] == 'S' ? ";tag=t1" : "", nb, body);
	assert_true(n > 0 && (size_t)n < size);
	return n;
}

static void test_keyline(void **state)
{
	static const struct {
		const char *s;
		bool want;
	} t[] = {
		{"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x", true},
		{"v=0\r\nA=CRYPTO:1 x", true},
		{"m=audio 1 RTP/SAVP 0\r\na=Crypto:2 y\r\n", true},
		{"a=crypto", true},
		{"a=crypt", false},
		{"a=cryptx:1", false},
		{"b=crypto:1", false},
		{"=crypto:1", false},
		{"a:crypto", false},
		{"a=rtpmap:0 PCMU/8000\r\na=fingerprint:sha-256 AB", false},
		{"", false},
	};
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (keyline_in(t[i].s, strlen(t[i].s)) != t[i].want)
			fail_msg("keyline_in(\"%s\") != %d", t[i].s, t[i].want);
	assert_false(keyline_in(NULL, 0));
	/* Only inside the range: the match may not run past n. */
	assert_false(keyline_in("a=crypto", 7));
}

/* A client transaction's copy of the request it sends. */
static void test_ctx_request(void **state)
{
	struct sip_peer to = peer();
	struct sip_ctx *c1, *c2;
	char b[2048];
	int n;

	(void)state;
	n = sdp_msg(b, sizeof(b), "INVITE sip:bob@192.0.2.20 SIP/2.0", true, 0);
	assert_int_equal(sip_ctx_new(&c1, fx.txl, &to, STR(BR), STR("INVITE"),
				     b, (size_t)n, NULL),
			 0);
	n = sdp_msg(b, sizeof(b), "INVITE sip:carol@192.0.2.20 SIP/2.0", false,
		    0);
	assert_int_equal(sip_ctx_new(&c2, fx.txl, &to, STR("z9hG4bKkw2"),
				     STR("INVITE"), b, (size_t)n, NULL),
			 0);
	memset(b, 0, sizeof(b));
	sip_ctx_terminate(c1);
	sip_ctx_terminate(c2);
	sip_txl_reap(fx.txl);
	assert_int_equal(fx.freed_key, 0);
	assert_int_equal(fx.freed_plain, 1); /* the control copy */
}

/* A server transaction for an INVITE (without a key) from peer(). */
static struct sip_stx *stx_invite(void)
{
	static char req[2048];
	struct sip_peer from = peer();
	struct sip_perr pe;
	struct sip_stx *s = NULL;
	int n;

	n = sdp_msg(req, sizeof(req), "INVITE sip:bob@192.0.2.20 SIP/2.0",
		    false, 0);
	assert_int_equal(sip_msg_parse(&msg, req, (size_t)n, NULL, 0, &pe), 0);
	assert_int_equal(sip_stx_receive(fx.txl, &msg, &from, &s), SIP_STX_NEW);
	return s;
}

/* A server transaction's kept responses: 183 with our key, then a larger
 * 200 (its block grows: the old one must not go back as it is), then
 * the layer freed with the transaction alive. */
static void test_stx_responses(void **state)
{
	struct sip_stx *s = stx_invite();
	char b[8192];
	int n;

	(void)state;
	n = sdp_msg(b, sizeof(b), "SIP/2.0 183 Progress", true, 0);
	assert_int_equal(sip_stx_send_response(s, b, (size_t)n, 183), 0);
	n = sdp_msg(b, sizeof(b), "SIP/2.0 200 OK", true, 1500);
	assert_int_equal(sip_stx_send_response(s, b, (size_t)n, 200), 0);
	memset(b, 0, sizeof(b));
	sip_txl_free(fx.txl);
	fx.txl = NULL;
	assert_int_equal(fx.freed_key, 0);
}

/* The control: a kept response without a key is freed as it is (the
 * hook sees kept copies; no wipe is spent on it). */
static void test_stx_plain(void **state)
{
	struct sip_stx *s = stx_invite();
	char b[8192];
	int n;

	(void)state;
	n = sdp_msg(b, sizeof(b), "SIP/2.0 183 Progress", false, 0);
	assert_int_equal(sip_stx_send_response(s, b, (size_t)n, 183), 0);
	sip_stx_terminate(s);
	sip_txl_reap(fx.txl);
	assert_int_equal(fx.freed_plain, 1);
}

/* A smaller response replacing a keyed one in place leaves no tail. */
static void test_stx_shrink(void **state)
{
	struct sip_stx *s = stx_invite();
	char b[8192];
	int n;

	(void)state;
	n = sdp_msg(b, sizeof(b), "SIP/2.0 183 Progress", true, 400);
	assert_int_equal(sip_stx_send_response(s, b, (size_t)n, 183), 0);
	n = snprintf(b, sizeof(b),
		     "SIP/2.0 486 Busy\r\nVia: SIP/2.0/UDP " SRC ";branch=" BR
		     "\r\nCSeq: 7 INVITE\r\n"
		     "Content-Length: 0\r\n\r\n");
	assert_int_equal(sip_stx_send_response(s, b, (size_t)n, 486), 0);
	sip_stx_terminate(s);
	sip_txl_reap(fx.txl);
	assert_int_equal(fx.freed_key, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyline),
		cmocka_unit_test_setup_teardown(test_ctx_request, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stx_responses, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stx_shrink, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stx_plain, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
