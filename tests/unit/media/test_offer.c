/*
 * test_offer.c - SDP anchoring and the offer/answer state machine
 * (media/offer.c, media/media.c) with the real relay thread: what each
 * leg is told (addresses, ports, a=rtcp, ICE removed, several m-lines,
 * IPv6, hold, removed streams), when a stream is handed to the relay
 * (answer, early answer, late offer), repeats, errors, port exhaustion,
 * the statistics of the call record, and no leak.
 */
#include <arpa/inet.h>
#include <unistd.h>

#include "test.h"

#include "core/buf.h"
#include "core/conf.h"
#include "media/media_int.h"
#include "call_helper.h"

static struct sg_conf_media conf = {
	MH_CONF_MEDIA(42000, 42099, 4),
	.policing = true,
	.scrub_cname = true,
};

static struct sg_addr addr(const char *s)
{
	struct sg_addr a;

	assert_int_equal(sg_addr_parse(&a, str_cstr(s), 5060), 0);
	return a;
}

static struct media_call *new_call(struct media *m, const char *id)
{
	struct media_call *c;
	struct sg_addr r0 = addr("127.0.0.1"), r1 = addr("127.0.0.2");
	struct sg_addr s0 = addr("127.0.0.1"), s1 = addr("127.0.0.1");

	assert_int_equal(media_call_new(m, str_cstr(id), STR("tag1"), 0, 0, &c),
			 0);
	media_call_leg(c, MEDIA_CALLER, &r0, &s0, true, 0, "internet");
	media_call_leg(c, MEDIA_CALLEE, &r1, &s1, false, 1, "pbx");
	return c;
}

#define OFFER                                                                \
	"v=0\r\no=alice 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\n" \
	"t=0 0\r\na=ice-ufrag:abcd\r\na=ice-pwd:secretsecretsecret\r\n"      \
	"m=audio 4000 RTP/AVP 0 101\r\na=rtcp:4001\r\n"                      \
	"a=candidate:1 1 UDP 2130706431 10.0.0.5 4000 typ host\r\n"          \
	"a=rtpmap:101 telephone-event/8000\r\n"                              \
	"m=video 4002 RTP/AVP 96\r\nb=AS:512\r\na=rtcp-mux\r\n"

#define ANSWER                                                               \
	"v=0\r\no=bob 7 7 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\n" \
	"t=0 0\r\nm=audio 6000 RTP/AVP 0\r\nm=video 6002 RTP/AVP 96\r\n"     \
	"a=rtcp-mux\r\n"

static const char *sdp(struct media_call *c, unsigned from,
		       enum media_sdp_kind k, const char *body, struct buf *b,
		       int want)
{
	buf_reset(b);
	assert_int_equal(media_call_sdp(c, from, k, str_cstr(body), b), want);
	assert_int_equal(buf_append(b, "", 1), 0);
	return b->p;
}

static void wait_relay(struct media *m)
{
	int i;

	/* The relay answers DONE asynchronously: poll like the loop. */
	for (i = 0; i < 200 && m->st.streams; i++) {
		usleep(2000);
		media_poll(m, 1, 1);
	}
}

static void test_offer_answer(void **state)
{
	struct media *m;
	struct media_call *c;
	struct buf b;
	const char *o;
	char want[64];
	uint16_t pa, pb, va;

	(void)state;
	buf_init(&b, 8192);
	assert_int_equal(media_new(&m, &conf, NULL, NULL, NULL), 0);
	c = new_call(m, "call-1");
	o = sdp(c, MEDIA_CALLER, MEDIA_SDP_REQUEST, OFFER, &b, 0);
	pa = media_call_port(c, 0, MEDIA_CALLER);
	pb = media_call_port(c, 0, MEDIA_CALLEE);
	va = media_call_port(c, 1, MEDIA_CALLER);
	assert_true(pa >= 42000 && pb >= 42000 && va >= 42000 && pa != pb);
	/* The callee sees the trusted zone's relay, its ports, no ICE. */
	assert_non_null(strstr(o, "o=alice 1 1 IN IP4 127.0.0.2\r\n"));
	assert_non_null(strstr(o, "c=IN IP4 127.0.0.2\r\n"));
	assert_null(strstr(o, "10.0.0.5"));
	assert_null(strstr(o, "ice-"));
	assert_null(strstr(o, "candidate"));
	snprintf(want, sizeof(want), "m=audio %u RTP/AVP 0 101\r\n", pb);
	assert_non_null(strstr(o, want));
	snprintf(want, sizeof(want), "a=rtcp:%u\r\n", pb + 1);
	assert_non_null(strstr(o, want));
	snprintf(want, sizeof(want), "m=video %u RTP/AVP 96\r\nb=AS:512",
		 media_call_port(c, 1, MEDIA_CALLEE));
	assert_non_null(strstr(o, want));
	assert_non_null(strstr(o, "a=rtpmap:101 telephone-event/8000"));
	/* No pinhole before the answer. */
	assert_false(c->st[0]->handed);
	o = sdp(c, MEDIA_CALLEE, MEDIA_SDP_FINAL, ANSWER, &b, 0);
	assert_true(c->st[0]->handed && c->st[1]->handed);
	snprintf(want, sizeof(want), "m=audio %u RTP/AVP 0\r\n", pa);
	assert_non_null(strstr(o, want));
	assert_non_null(strstr(o, "c=IN IP4 127.0.0.1\r\n"));
	assert_null(strstr(o, "192.0.2.9"));
	/* Video muxes on both sides; audio does not. */
	assert_false(c->st[0]->sdp[0].mux && c->st[0]->sdp[1].mux);
	assert_true(c->st[1]->sdp[0].mux && c->st[1]->sdp[1].mux);
	/* b=AS:512 plus 50%; audio's default plus 50%. */
	assert_int_equal(c->st[1]->sdp[0].bw, 512000 / 8 * 3 / 2);
	assert_int_equal(c->st[0]->sdp[0].bw, 256000 / 8 * 3 / 2);
	/* A repeat (same o=) changes nothing, gives the same text. */
	assert_string_equal(
		sdp(c, MEDIA_CALLEE, MEDIA_SDP_FINAL, ANSWER, &b, 0), o);
	assert_int_equal(c->offer_from, -1);
	/* Re-INVITE from the callee removing video: its ports close. */
	sdp(c, MEDIA_CALLEE, MEDIA_SDP_REQUEST,
	    "v=0\r\no=bob 7 8 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9"
	    "\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=sendonly\r\n"
	    "m=video 0 RTP/AVP 96\r\n",
	    &b, 0);
	assert_null(c->st[1]);
	assert_non_null(strstr(b.p, "m=video 0 RTP/AVP 96"));
	assert_int_equal(c->offer_from, MEDIA_CALLEE);
	assert_true(c->st[0]->sdp[1].sends); /* sendonly: holds */
	sdp(c, MEDIA_CALLER, MEDIA_SDP_FINAL,
	    "v=0\r\no=alice 1 2 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\n"
	    "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=recvonly\r\n"
	    "m=video 0 RTP/AVP 96\r\n",
	    &b, 0);
	assert_int_equal(c->offer_from, -1);
	assert_false(c->st[0]->sdp[0].sends); /* recvonly: held */
	media_call_end(c);
	wait_relay(m);
	assert_int_equal(m->st.streams, 0);
	assert_int_equal(m->ports.used, 0);
	media_free(m);
	buf_free(&b);
}

static void test_early_late_v6(void **state)
{
	struct media *m;
	struct media_call *c;
	struct buf b;
	struct sg_addr r6 = addr("[::1]");

	(void)state;
	buf_init(&b, 8192);
	assert_int_equal(media_new(&m, &conf, NULL, NULL, NULL), 0);
	/* Early media: the 183 answers, the 2xx revises that answer. */
	c = new_call(m, "call-2");
	sdp(c, MEDIA_CALLER, MEDIA_SDP_REQUEST, OFFER, &b, 0);
	sdp(c, MEDIA_CALLEE, MEDIA_SDP_PROVISIONAL, ANSWER, &b, 0);
	assert_true(c->st[0]->handed);
	sdp(c, MEDIA_CALLEE, MEDIA_SDP_FINAL,
	    "v=0\r\no=bob 9 9 IN IP4 192.0.2.10\r\ns=-\r\n"
	    "c=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 6100 RTP/AVP 0\r\n"
	    "m=video 0 RTP/AVP 96\r\n",
	    &b, 0);
	assert_int_equal(c->offer_from, -1);
	assert_int_equal(c->st[0]->sdp[1].rtp.port, 6100);
	assert_null(c->st[1]);
	media_call_end(c);
	/* Late offer in the 2xx, answer in the ACK; the caller on IPv6. */
	c = new_call(m, "call-3");
	media_call_leg(c, MEDIA_CALLER, &r6, NULL, true, 0, "v6");
	sdp(c, MEDIA_CALLEE, MEDIA_SDP_FINAL, ANSWER, &b, 0);
	assert_non_null(strstr(b.p, "c=IN IP6 ::1\r\n"));
	assert_non_null(strstr(b.p, "o=bob 7 7 IN IP6 ::1\r\n"));
	assert_false(c->st[0]->handed);
	sdp(c, MEDIA_CALLER, MEDIA_SDP_REQUEST,
	    "v=0\r\no=a 1 1 IN IP6 2001:db8::5\r\ns=-\r\n"
	    "c=IN IP6 2001:db8::5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
	    "m=video 4002 RTP/AVP 96\r\n",
	    &b, 0);
	assert_true(c->st[0]->handed);
	assert_non_null(strstr(b.p, "c=IN IP4 127.0.0.2\r\n"));
	assert_int_equal(c->st[0]->sdp[0].rtp.af, AF_INET6);
	media_call_end(c);
	wait_relay(m);
	assert_int_equal(m->st.streams, 0);
	media_free(m);
	buf_free(&b);
}

static void test_errors(void **state)
{
	struct media *m;
	struct media_call *c, *c2;
	struct sg_conf_media small = conf;
	struct buf b;
	unsigned i;

	(void)state;
	buf_init(&b, 8192);
	small.port_min = 42100;
	small.port_max = 42103; /* two pairs: one stream */
	assert_int_equal(media_new(&m, &small, NULL, NULL, NULL), 0);
	c = new_call(m, "call-4");
	assert_int_equal(
		media_call_new(m, STR("call-4"), STR("tag1"), 0, 0, &c2),
		-EEXIST);
	/* The same call spiralling back through another zone: a new pass. */
	assert_int_equal(
		media_call_new(m, STR("call-4"), STR("tag1"), 1, 0, &c2), 0);
	assert_ptr_equal(media_call_find_zone(m, STR("call-4"), STR("tag1"),
					      MEDIA_CALLER, 1),
			 c2);
	assert_ptr_equal(media_call_find_zone(m, STR("call-4"), STR("tag1"),
					      MEDIA_CALLER, 0),
			 c);
	assert_null(media_call_find_zone(m, STR("call-4"), STR("tag1"),
					 MEDIA_CALLER, 2));
	media_call_end(c2);
	sdp(c, MEDIA_CALLER, MEDIA_SDP_REQUEST, "v=0\r\nnot sdp\r\n", &b,
	    -EINVAL);
	/* No c= at all for a live stream: refused. */
	sdp(c, MEDIA_CALLER, MEDIA_SDP_REQUEST,
	    "v=0\r\no=a 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n"
	    "m=audio 4000 RTP/AVP 0\r\n",
	    &b, -EINVAL);
	/* Two streams need four pairs: the second finds none. */
	sdp(c, MEDIA_CALLER, MEDIA_SDP_REQUEST, OFFER, &b, -EAGAIN);
	assert_int_equal(m->st.no_ports, 1);
	/* A TCP stream is refused with port 0, no ports taken. */
	media_call_end(c);
	c = new_call(m, "call-5");
	sdp(c, MEDIA_CALLER, MEDIA_SDP_REQUEST,
	    "v=0\r\no=a 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\n"
	    "t=0 0\r\nm=application 9 TCP/BFCP *\r\n",
	    &b, 0);
	assert_non_null(strstr(b.p, "m=application 0 TCP/BFCP"));
	media_call_end(c);
	/* max_calls. */
	for (i = 0; i < 4; i++) {
		char id[16];

		snprintf(id, sizeof(id), "c%u", i);
		assert_int_equal(
			media_call_new(m, str_cstr(id), STR("t"), 0, 0, &c), 0);
	}
	assert_int_equal(media_call_new(m, STR("c9"), STR("t"), 0, 0, &c),
			 -ENOSPC);
	media_free(m); /* ends the calls still there */
	buf_free(&b);
}

static void test_stats_json(void **state)
{
	struct media *m;
	struct media_call *c;
	struct buf b;

	(void)state;
	buf_init(&b, 8192);
	assert_int_equal(media_new(&m, &conf, NULL, NULL, NULL), 0);
	c = new_call(m, "call-6");
	assert_int_equal(media_call_stats_json(c, &b), 0);
	assert_int_equal(b.len, 0); /* no stream: nothing */
	sdp(c, MEDIA_CALLER, MEDIA_SDP_REQUEST, OFFER, &b, 0);
	sdp(c, MEDIA_CALLEE, MEDIA_SDP_FINAL, ANSWER, &b, 0);
	c->st[0]->st[0].pkts = 5;
	buf_reset(&b);
	assert_int_equal(media_call_stats_json(c, &b), 0);
	assert_int_equal(buf_append(&b, "", 1), 0);
	assert_non_null(strstr(b.p, ",\"media\":[{\"m\":0,"));
	assert_non_null(strstr(b.p, "\"caller\":{\"packets\":5,"));
	assert_non_null(strstr(b.p, "{\"m\":1,"));
	media_call_end(c);
	media_free(m);
	buf_free(&b);
}

static unsigned timeouts;

static void on_timeout(void *arg, struct media_call *c)
{
	(void)arg;
	timeouts++;
	media_call_end(c);
}

/* Media timeout with a fake clock: only confirmed calls, measured from
 * the last packet (or the answer), held calls exempt, once. */
static void test_timeout(void **state)
{
	struct sg_conf_media tc = conf;
	struct media *m;
	struct media_call *c, *held;
	struct buf b;

	(void)state;
	buf_init(&b, 8192);
	tc.timeout = 5000;
	tc.end_call_on_timeout = true;
	assert_int_equal(media_new(&m, &tc, NULL, on_timeout, NULL), 0);
	c = new_call(m, "call-7");
	sdp(c, MEDIA_CALLER, MEDIA_SDP_REQUEST, OFFER, &b, 0);
	sdp(c, MEDIA_CALLEE, MEDIA_SDP_FINAL, ANSWER, &b, 0);
	held = new_call(m, "call-8");
	sdp(held, MEDIA_CALLER, MEDIA_SDP_REQUEST,
	    "v=0\r\no=a 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\n"
	    "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n",
	    &b, 0);
	sdp(held, MEDIA_CALLEE, MEDIA_SDP_FINAL,
	    "v=0\r\no=b 1 1 IN IP4 1.2.3.5\r\ns=-\r\nc=IN IP4 1.2.3.5\r\n"
	    "t=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=recvonly\r\n",
	    &b, 0);
	media_tick(m, 100000, 0); /* not confirmed: nothing */
	assert_int_equal(timeouts, 0);
	media_call_confirmed(c, 100000);
	media_call_confirmed(held, 100000);
	/* A packet at 103 s (as the relay would stamp it). */
	MEDIA_ST(c->st[0]->st[0].last_rx, 103000);
	media_tick(m, 107000, 0);
	assert_int_equal(timeouts, 0);
	/* The relay's clock is read later than the loop's cached one: a
	 * packet stamped after "now" is fresh, not 2^64 ms old. */
	MEDIA_ST(c->st[0]->st[0].last_rx, 107005);
	media_tick(m, 107000, 0);
	assert_int_equal(timeouts, 0);
	MEDIA_ST(c->st[0]->st[0].last_rx, 103000);
	media_tick(m, 108001, 0);
	assert_int_equal(timeouts, 1); /* c ended by the callback */
	media_tick(m, 200000, 0);
	assert_int_equal(timeouts, 1); /* the held call never */
	assert_int_equal(m->st.timeouts, 1);
	media_call_end(held);
	media_free(m);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offer_answer),
		cmocka_unit_test(test_early_late_v6),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_stats_json),
		cmocka_unit_test(test_timeout),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
