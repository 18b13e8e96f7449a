/*
 * test_sec.c - a stream's SDES / DTLS-SRTP state (media/sec.c) is on the
 * heap only once a leg negotiated one of them: plain calls have none
 * (and the SDP they get is the same), SDES and DTLS-SRTP streams get it
 * and keep it until the stream is freed, wiped; a failed allocation
 * refuses the SDP (-ENOMEM) and leaves the stream as it was.  Real media
 * layer (relay ports 48000-48099), no peers.
 */
#include <errno.h>
#include <string.h>

#include "test.h"
#include "call_helper.h"
#include "core/mem.h"

static struct sg_conf_media conf = {
	MH_CONF_MEDIA(48000, 48099, 8),
	.dtls_handshake_timeout = 20000,
};

#define KA "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd"
#define SAVP(o)                       \
	MH_SDP_HEAD(o)                \
	"m=audio 4000 RTP/SAVP 0\r\n" \
	"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" KA "\r\n"
#define AVP(o, prof) MH_SDP_HEAD(o) "m=audio 4000 " prof " 0\r\n"
#define DTLS(o)                                                         \
	MH_SDP_HEAD(o)                                                  \
	"m=audio 4000 UDP/TLS/RTP/SAVPF 0\r\n"                          \
	"a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:" \
	"DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n"  \
	"a=setup:actpass\r\na=rtcp-mux\r\n"

/* Freed blocks of the sec's size: all zero (keys wiped first). */
static unsigned freed_sec, freed_dirty;

static void on_free(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	if (n < sizeof(struct media_stream_sec) ||
	    n > sizeof(struct media_stream_sec) + 32)
		return; /* usable size: malloc may round up */
	freed_sec++;
	for (i = 0; i < sizeof(struct media_stream_sec); i++)
		if (b[i]) {
			freed_dirty++;
			return;
		}
}

/* Plain offers and answers, AVP and AVPF, re-offers: no sec, and the
 * profile each leg gets is its own. */
static void test_plain_none(void **state)
{
	static const struct {
		const char *offer, *answer, *want_o, *want_a;
	} cases[] = {
		{AVP("1", "RTP/AVP"), AVP("5", "RTP/AVP"), "RTP/AVP 0",
		 "RTP/AVP 0"},
		{AVP("1", "RTP/AVPF"), AVP("5", "RTP/AVPF"), "RTP/AVPF 0",
		 "RTP/AVPF 0"},
		{AVP("1", "RTP/AVPF"), AVP("5", "RTP/AVP"), "RTP/AVPF 0",
		 "RTP/AVP 0"},
	};
	struct media *m;
	struct buf b;
	unsigned k;

	(void)state;
	mh_open(&m, &b, &conf);
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct media_call *c;
		const char *o;
		char id[8];

		snprintf(id, sizeof(id), "p%u", k);
		c = mh_new_call(m, id, CONF_SRTP_OPTIONAL, -1,
				CONF_SRTP_OPTIONAL, -1);
		o = mh_sdp(c, 0, MEDIA_SDP_REQUEST, cases[k].offer, &b, 0);
		assert_non_null(strstr(o, cases[k].want_o));
		assert_null(c->st[0]->sec);
		o = mh_sdp(c, 1, MEDIA_SDP_FINAL, cases[k].answer, &b, 0);
		assert_non_null(strstr(o, cases[k].want_a));
		assert_null(c->st[0]->sec);
		assert_true(c->st[0]->handed);
		assert_int_equal(c->st[0]->plain_send[0], MEDIA_SS_PLAIN);
		assert_int_equal(c->st[0]->plain_send[1], MEDIA_SS_PLAIN);
		/* A re-INVITE from the callee: still plain. */
		o = mh_sdp(c, 1, MEDIA_SDP_REQUEST, AVP("6", "RTP/AVP"), &b, 0);
		assert_non_null(strstr(o, "RTP/AVP 0"));
		assert_null(c->st[0]->sec);
		media_call_end(c);
	}
	mh_wait_relay(m);
	buf_free(&b);
	media_free(m);
	assert_no_leaks();
}

/* SDES and DTLS-SRTP legs get a sec; it stays when the stream turns
 * plain again (the relay may still write dtls_reason) and is wiped when
 * the stream is freed. */
static void test_secure_alloc(void **state)
{
	struct media *m;
	struct media_call *c;
	struct buf b;
	const char *o;

	(void)state;
	freed_sec = freed_dirty = 0;
	mem_set_free_hook(on_free);
	mh_open(&m, &b, &conf);
	c = mh_new_call(m, "s1", CONF_SRTP_OPTIONAL, -1, CONF_SRTP_OFF, -1);
	o = mh_sdp(c, 0, MEDIA_SDP_REQUEST, SAVP("1"), &b, 0);
	assert_non_null(strstr(o, "RTP/AVP 0"));
	assert_non_null(c->st[0]->sec);
	assert_true(c->st[0]->sec->srtp_sig[0].sdes);
	mh_sdp(c, 1, MEDIA_SDP_FINAL, MH_AVP_ANSWER, &b, 0);
	/* Plain again: the sec stays, with no key in it. */
	mh_sdp(c, 0, MEDIA_SDP_REQUEST, AVP("2", "RTP/AVP"), &b, 0);
	assert_non_null(c->st[0]->sec);
	assert_false(c->st[0]->sec->srtp_sig[0].sdes);
	media_call_end(c);
	c = mh_new_call(m, "s2", CONF_SRTP_OPTIONAL, -1, CONF_SRTP_OFF, -1);
	o = mh_sdp(c, 0, MEDIA_SDP_REQUEST, DTLS("1"), &b, 0);
	assert_non_null(strstr(o, "RTP/AVP 0"));
	assert_non_null(c->st[0]->sec);
	assert_true(c->st[0]->sec->dtls_sig[0].on);
	mh_close(m, c, &b);
	mem_set_free_hook(NULL);
	assert_true(freed_sec >= 2);
	assert_int_equal(freed_dirty, 0);
	assert_no_leaks();
}

/* No memory for the sec: the SDP is refused (-ENOMEM, as when the
 * stream itself cannot be allocated), the stream stays plain, nothing
 * leaks; the next offer works. */
static void test_alloc_fail(void **state)
{
	struct media *m;
	struct media_call *c;
	struct buf b;
	const char *o;

	(void)state;
	mh_open(&m, &b, &conf);
	/* A new stream: its own allocation, then the sec's. */
	c = mh_new_call(m, "f1", CONF_SRTP_OPTIONAL, -1, CONF_SRTP_OPTIONAL,
			-1);
	mem_fail_nth(2);
	mh_sdp(c, 0, MEDIA_SDP_REQUEST, SAVP("1"), &b, -ENOMEM);
	mem_fail_nth(0);
	assert_non_null(c->st[0]);
	assert_null(c->st[0]->sec);
	media_call_end(c);
	/* A plain call whose re-INVITE brings SDES. */
	c = mh_new_call(m, "f2", CONF_SRTP_OPTIONAL, -1, CONF_SRTP_OPTIONAL,
			-1);
	mh_sdp(c, 0, MEDIA_SDP_REQUEST, AVP("1", "RTP/AVP"), &b, 0);
	mh_sdp(c, 1, MEDIA_SDP_FINAL, MH_AVP_ANSWER, &b, 0);
	mem_fail_nth(1);
	mh_sdp(c, 0, MEDIA_SDP_REQUEST, SAVP("2"), &b, -ENOMEM);
	mem_fail_nth(0);
	assert_null(c->st[0]->sec);
	assert_int_equal(c->st[0]->plain_send[0], MEDIA_SS_PLAIN);
	assert_int_equal(c->st[0]->plain_send[1], MEDIA_SS_PLAIN);
	o = mh_sdp(c, 0, MEDIA_SDP_REQUEST, SAVP("3"), &b, 0);
	assert_non_null(strstr(o, "RTP/SAVP 0"));
	assert_non_null(c->st[0]->sec);
	mh_close(m, c, &b);
	assert_no_leaks();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_none),
		cmocka_unit_test(test_secure_alloc),
		cmocka_unit_test(test_alloc_fail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
