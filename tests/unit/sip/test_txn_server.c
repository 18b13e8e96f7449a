/*
 * test_txn_server.c - server transactions (RFC 3261 17.2): matching by
 * branch and by the RFC 2543 rule, retransmissions absorbed (and the
 * last response re-sent), Timers G, H, I, J, L on a fake clock, ACK for
 * non-2xx absorbed, ACK for 2xx passed on, CANCEL lookup, response
 * skeleton bytes (compact forms, folds, RFC 3581 received/rport), the
 * pool cap, transport errors and failure injection; leak-free.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "test.h"
#include "sip/txn.h"
#include "sip/txn_int.h"

enum { MAX_SENT = 128, T1 = 500, T2 = 4000, T4 = 5000 };

struct sent {
	struct sip_peer to;
	char *p;
	size_t n;
};

static struct fx {
	struct tmr_wheel w;
	struct sip_txl *txl;
	uint64_t now;
	struct sent sent[MAX_SENT];
	unsigned nsent;
	int send_rc;
	unsigned ngone;
	struct sip_stx *last_gone;
	void *last_user;
} fx;

static struct sip_msg msg;
static char mbuf[8192];

static int fake_send(void *arg, const struct sip_peer *to, const char *p,
		     size_t n)
{
	struct sent *s;

	(void)arg;
	if (fx.send_rc < 0)
		return fx.send_rc;
	assert_true(fx.nsent < MAX_SENT);
	s = &fx.sent[fx.nsent++];
	s->to = *to;
	s->p = malloc(n + 1);
	assert_non_null(s->p);
	memcpy(s->p, p, n);
	s->p[n] = '\0';
	s->n = n;
	return (int)n;
}

static void on_gone(void *user, struct sip_stx *stx)
{
	fx.ngone++;
	fx.last_gone = stx;
	fx.last_user = user;
	assert_int_equal(sip_stx_state(stx), SIP_TXN_TERMINATED);
}

static void clear_sent(void)
{
	unsigned i;

	for (i = 0; i < fx.nsent; i++)
		free(fx.sent[i].p);
	fx.nsent = 0;
}

static int setup_conf(const struct sip_txn_conf *conf)
{
	struct sip_txl_cb cb = {.send = fake_send, .stx_gone = on_gone};

	memset(&fx, 0, sizeof(fx));
	fx.now = 5000000;
	tmr_wheel_init(&fx.w, fx.now);
	return sip_txl_new(&fx.txl, conf, &cb, &fx.w);
}

static int setup(void **state)
{
	(void)state;
	return setup_conf(NULL);
}

static int teardown(void **state)
{
	(void)state;
	sip_txl_free(fx.txl);
	fx.txl = NULL;
	clear_sent();
	tmr_wheel_fini(&fx.w);
	assert_no_leaks();
	return 0;
}

static void advance(uint64_t ms)
{
	fx.now += ms;
	tmr_wheel_run(&fx.w, fx.now);
}

static struct sip_peer peer(enum sip_tp tp, const char *addr)
{
	struct sip_peer p;

	memset(&p, 0, sizeof(p));
	p.tp = tp;
	assert_int_equal(sg_addr_parse(&p.addr, str_cstr(addr), 0), 0);
	p.conn_id = tp == SIP_TP_UDP ? 0 : 7;
	return p;
}

static const struct sip_msg *parse(const char *s)
{
	struct sip_perr e;

	if (sip_msg_parse(&msg, s, strlen(s), NULL, 0, &e) != 0)
		fail_msg("%s at %u:\n%s", e.reason, e.off, s);
	return &msg;
}

/* A request; NULL fields take the defaults below. */
struct rq {
	const char *method, *ruri, *via, *branch, *ftag, *ttag, *callid;
	const char *cmethod;
	unsigned cseq;
};

static const struct sip_msg *mk(struct rq r)
{
	int n;

	n = snprintf(mbuf, sizeof(mbuf),
		     "%s %s SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP %s%s%s\r\n"
		     "Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKinner\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:alice@example.com>;tag=%s\r\n"
		     "To: <sip:bob@example.com>%s%s\r\n"
		     "Call-ID: %s\r\nCSeq: %u %s\r\n"
		     "Content-Length: 0\r\n\r\n",
		     r.method ? r.method : "INVITE",
		     r.ruri ? r.ruri : "sip:bob@example.com",
		     r.via ? r.via : "198.51.100.7:5062",
		     r.branch && *r.branch ? ";branch=" : "",
		     r.branch ? r.branch : "", r.ftag ? r.ftag : "f1",
		     r.ttag ? ";tag=" : "", r.ttag ? r.ttag : "",
		     r.callid ? r.callid : "c1@x", r.cseq ? r.cseq : 7,
		     r.cmethod  ? r.cmethod
		     : r.method ? r.method
				: "INVITE");
	assert_true(n > 0 && (size_t)n < sizeof(mbuf));
	return parse(mbuf);
}

#define BR  "z9hG4bKc1"
#define SRC "198.51.100.7:5062"

static int rx_from(struct rq r, enum sip_tp tp, struct sip_stx **stxp)
{
	struct sip_peer from = peer(tp, SRC);
	struct sip_stx *dummy;

	return sip_stx_receive(fx.txl, mk(r), &from, stxp ? stxp : &dummy);
}

static int rx(struct rq r, struct sip_stx **stxp)
{
	return rx_from(r, SIP_TP_UDP, stxp);
}

static struct sip_stx *new_stx(struct rq r, enum sip_tp tp)
{
	struct sip_stx *s = NULL;

	assert_int_equal(rx_from(r, tp, &s), SIP_STX_NEW);
	assert_non_null(s);
	return s;
}

static void expect_sent(unsigned i, const char *want)
{
	assert_true(i < fx.nsent);
	if (strcmp(fx.sent[i].p, want) != 0)
		fail_msg("sent[%u]:\n%s\nwant:\n%s", i, fx.sent[i].p, want);
}

static int reply(struct sip_stx *s, int status, const char *tag)
{
	return sip_stx_reply_local(s, status, STR(""), str_cstr(tag), STR(""));
}

/* A response the proxy would forward (content is opaque to the txn). */
static int fwd(struct sip_stx *s, int status, const char *tag)
{
	char b[512];
	int n = snprintf(b, sizeof(b),
			 "SIP/2.0 %d X\r\nVia: SIP/2.0/UDP " SRC ";branch=" BR
			 "\r\n"
			 "From: <sip:alice@example.com>;tag=f1\r\n"
			 "To: <sip:bob@example.com>;tag=%s\r\n"
			 "Call-ID: c1@x\r\nCSeq: 7 INVITE\r\n"
			 "Content-Length: 0\r\n\r\n",
			 status, tag);

	return sip_stx_send_response(s, b, (size_t)n, status);
}

#define RESP_HDRS(via0)                                     \
	"Via: SIP/2.0/UDP " via0 "\r\n"                     \
	"Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKinner\r\n" \
	"From: <sip:alice@example.com>;tag=f1\r\n"

/* ------------------------------------------------------------ INVITE */

static void test_invite_non2xx_flow(void **state)
{
	struct sip_stx *s = new_stx((struct rq){.branch = BR}, SIP_TP_UDP);
	struct sip_stx *s2 = NULL;

	(void)state;
	assert_int_equal(sip_stx_state(s), SIP_TXN_PROCEEDING);
	assert_int_equal(sip_stx_method(s), SIP_METHOD_INVITE);
	assert_int_equal(fx.nsent, 0); /* 100 Trying is the proxy's call */
	/* Retransmission before any response: absorbed, nothing sent. */
	assert_int_equal(rx((struct rq){.branch = BR}, &s2), SIP_STX_ABSORBED);
	assert_ptr_equal(s2, s);
	assert_int_equal(fx.nsent, 0);
	assert_int_equal(reply(s, 100, "x"), 0);
	expect_sent(0,
		    "SIP/2.0 100 Trying\r\n" RESP_HDRS(
			    SRC
			    ";branch=" BR) "To: <sip:bob@example.com>\r\n"
					   "Call-ID: c1@x\r\nCSeq: 7 INVITE\r\n"
					   "Content-Length: 0\r\n\r\n");
	assert_true(sg_addr_eq(&fx.sent[0].to.addr, &sip_stx_peer(s)->addr));
	/* Retransmission in Proceeding: the 100 again. */
	assert_int_equal(rx((struct rq){.branch = BR}, NULL), SIP_STX_ABSORBED);
	assert_int_equal(fx.nsent, 2);
	expect_sent(1, fx.sent[0].p);
	/* 486: Completed, Timer G from T1 doubling to T2. */
	assert_int_equal(reply(s, 486, "srv1"), 0);
	assert_int_equal(sip_stx_status(s), 486);
	assert_int_equal(sip_stx_state(s), SIP_TXN_COMPLETED);
	expect_sent(
		2,
		"SIP/2.0 486 Busy Here\r\n" RESP_HDRS(
			SRC
			";branch=" BR) "To: <sip:bob@example.com>;tag=srv1\r\n"
				       "Call-ID: c1@x\r\nCSeq: 7 INVITE\r\n"
				       "Content-Length: 0\r\n\r\n");
	advance(T1 - 1);
	assert_int_equal(fx.nsent, 3);
	advance(1);
	assert_int_equal(fx.nsent, 4);
	advance(2 * T1);
	assert_int_equal(fx.nsent, 5);
	expect_sent(4, fx.sent[2].p);
	/* An INVITE retransmission re-sends the final too. */
	assert_int_equal(rx((struct rq){.branch = BR}, NULL), SIP_STX_ABSORBED);
	assert_int_equal(fx.nsent, 6);
	/* A second final may not follow. */
	assert_int_equal(reply(s, 500, "srv1"), -EALREADY);
	assert_int_equal(fwd(s, 180, "srv1"), -EALREADY);
	/* ACK: Confirmed, G stops, Timer I = T4 absorbs ACK copies. */
	assert_int_equal(
		rx((struct rq){.method = "ACK", .branch = BR, .ttag = "srv1"},
		   &s2),
		SIP_STX_ACK_ABSORBED);
	assert_ptr_equal(s2, s);
	assert_int_equal(sip_stx_state(s), SIP_TXN_CONFIRMED);
	assert_int_equal(
		rx((struct rq){.method = "ACK", .branch = BR, .ttag = "srv1"},
		   NULL),
		SIP_STX_ACK_ABSORBED);
	assert_int_equal(rx((struct rq){.branch = BR}, NULL), SIP_STX_ABSORBED);
	advance(T4 - 1);
	assert_int_equal(fx.nsent, 6);
	assert_int_equal(fx.ngone, 0);
	advance(1);
	advance(0);
	assert_int_equal(fx.ngone, 1);
	assert_ptr_equal(fx.last_gone, s);
	assert_int_equal(sip_txl_count(fx.txl), 0);
	assert_int_equal(sip_txl_bytes(fx.txl), 0);
}

/* Timer H: no ACK within 64*T1; G retransmits at T2 intervals. */
static void test_invite_timer_h(void **state)
{
	static const uint64_t at[] = {500,   1500,  3500,  7500,  11500,
				      15500, 19500, 23500, 27500, 31500};
	struct sip_stx *s = new_stx((struct rq){.branch = BR}, SIP_TP_UDP);
	uint64_t t = 0;
	unsigned i;

	(void)state;
	assert_int_equal(fwd(s, 404, "x"), 0);
	for (i = 0; i < 10; i++) {
		advance(at[i] - t - 1);
		assert_int_equal(fx.nsent, 1 + i);
		advance(1);
		assert_int_equal(fx.nsent, 2 + i);
		t = at[i];
	}
	advance(64 * T1 - t - 1);
	assert_int_equal(sip_stx_state(s), SIP_TXN_COMPLETED);
	advance(1);
	assert_int_equal(sip_stx_state(s), SIP_TXN_TERMINATED);
	advance(0);
	assert_int_equal(fx.ngone, 1);
	assert_int_equal(fx.nsent, 11);
}

/* RFC 6026: 2xx -> Accepted; INVITE copies absorbed without answer; 2xx
 * retransmissions still go out; the ACK for 2xx is not ours. */
static void test_invite_2xx_accepted(void **state)
{
	struct sip_stx *s = new_stx((struct rq){.branch = BR}, SIP_TP_UDP);

	(void)state;
	assert_int_equal(fwd(s, 180, "t"), 0);
	assert_int_equal(fwd(s, 200, "t"), 0);
	assert_int_equal(sip_stx_state(s), SIP_TXN_ACCEPTED);
	assert_int_equal(rx((struct rq){.branch = BR}, NULL), SIP_STX_ABSORBED);
	assert_int_equal(fx.nsent, 2);
	assert_int_equal(fwd(s, 200, "t"), 0);
	assert_int_equal(fwd(s, 200, "fork2"), 0);
	assert_int_equal(fx.nsent, 4);
	assert_int_equal(fwd(s, 180, "t"), -EALREADY);
	assert_int_equal(fwd(s, 486, "t"), -EALREADY);
	assert_int_equal(rx((struct rq){.method = "ACK",
					.branch = "z9hG4bKack2xx",
					.ttag = "t"},
			    NULL),
			 SIP_STX_NOMATCH);
	assert_int_equal(
		rx((struct rq){.method = "ACK", .branch = BR, .ttag = "t"},
		   NULL),
		SIP_STX_NOMATCH);
	advance(64 * T1 - 1);
	assert_int_equal(sip_stx_state(s), SIP_TXN_ACCEPTED);
	advance(1);
	advance(0);
	assert_int_equal(fx.ngone, 1);
	assert_int_equal(fx.nsent, 4); /* the 2xx is never retransmitted */
}

/* A 2xx after our non-2xx final still goes upstream (16.7 step 10). */
static void test_invite_late_2xx(void **state)
{
	struct sip_stx *s = new_stx((struct rq){.branch = BR}, SIP_TP_UDP);

	(void)state;
	assert_int_equal(reply(s, 487, "p1"), 0);
	assert_int_equal(fwd(s, 200, "t"), 0);
	assert_int_equal(sip_stx_state(s), SIP_TXN_COMPLETED);
	assert_int_equal(fx.nsent, 2);
}

/* TCP: no Timer G; Timer I is 0; Timer H still guards a missing ACK. */
static void test_invite_reliable(void **state)
{
	struct sip_stx *s = new_stx((struct rq){.branch = BR}, SIP_TP_TCP);

	(void)state;
	assert_int_equal(reply(s, 480, "p1"), 0);
	assert_int_equal(fx.sent[0].to.conn_id, 7);
	advance(10 * T1);
	assert_int_equal(fx.nsent, 1);
	assert_int_equal(rx_from((struct rq){.method = "ACK",
					     .branch = BR,
					     .ttag = "p1"},
				 SIP_TP_TCP, NULL),
			 SIP_STX_ACK_ABSORBED);
	advance(0);
	advance(0);
	assert_int_equal(fx.ngone, 1);
	s = new_stx((struct rq){.branch = "z9hG4bKc2"}, SIP_TP_TCP);
	assert_int_equal(reply(s, 480, "p1"), 0);
	advance(64 * T1);
	advance(0);
	assert_int_equal(fx.ngone, 2);
	assert_int_equal(fx.nsent, 2);
}

/* ------------------------------------------------------------ non-INVITE */

static void test_noninvite(void **state)
{
	struct rq o = {.method = "OPTIONS", .branch = BR};
	struct sip_stx *s = new_stx(o, SIP_TP_UDP);

	(void)state;
	assert_int_equal(sip_stx_state(s), SIP_TXN_TRYING);
	assert_int_equal(rx(o, NULL), SIP_STX_ABSORBED);
	assert_int_equal(fx.nsent, 0);
	assert_int_equal(reply(s, 100, ""), 0);
	assert_int_equal(sip_stx_state(s), SIP_TXN_PROCEEDING);
	assert_int_equal(rx(o, NULL), SIP_STX_ABSORBED);
	assert_int_equal(fx.nsent, 2);
	assert_int_equal(reply(s, 200, "ok1"), 0);
	assert_int_equal(sip_stx_state(s), SIP_TXN_COMPLETED);
	assert_int_equal(rx(o, NULL), SIP_STX_ABSORBED);
	assert_int_equal(fx.nsent, 4);
	expect_sent(3, fx.sent[2].p);
	assert_true(strstr(fx.sent[3].p, "CSeq: 7 OPTIONS\r\n"));
	assert_int_equal(reply(s, 200, "ok1"), -EALREADY);
	assert_int_equal(reply(s, 100, ""), -EALREADY);
	/* No retransmission timer on the server side; Timer J ends it. */
	advance(64 * T1 - 1);
	assert_int_equal(fx.nsent, 4);
	assert_int_equal(fx.ngone, 0);
	advance(1);
	advance(0);
	assert_int_equal(fx.ngone, 1);
	/* After J the same request is new again. */
	new_stx(o, SIP_TP_UDP);
}

static void test_noninvite_reliable(void **state)
{
	struct sip_stx *s = new_stx(
		(struct rq){.method = "REGISTER", .branch = BR}, SIP_TP_TLS);

	(void)state;
	assert_int_equal(reply(s, 401, "r1"), 0);
	advance(0); /* Timer J = 0 */
	advance(0);
	assert_int_equal(fx.ngone, 1);
}

/* ------------------------------------------------------------ CANCEL */

static void test_cancel(void **state)
{
	struct sip_stx *inv = new_stx((struct rq){.branch = BR}, SIP_TP_UDP);
	struct sip_stx *can, *s2 = NULL;
	struct rq c = {.method = "CANCEL", .branch = BR};

	(void)state;
	can = new_stx(c, SIP_TP_UDP);
	assert_ptr_not_equal(can, inv);
	assert_int_equal(sip_stx_method(can), SIP_METHOD_CANCEL);
	assert_ptr_equal(sip_stx_find_invite(fx.txl, mk(c)), inv);
	assert_int_equal(reply(can, 200, "t1"), 0);
	assert_int_equal(reply(inv, 487, "t1"), 0);
	assert_true(strstr(fx.sent[0].p, "CSeq: 7 CANCEL\r\n"));
	assert_true(strstr(fx.sent[1].p, "SIP/2.0 487 Request Terminated"));
	/* CANCEL retransmission: its 200 again. */
	assert_int_equal(rx(c, &s2), SIP_STX_ABSORBED);
	assert_ptr_equal(s2, can);
	expect_sent(2, fx.sent[0].p);
	/* A CANCEL that targets nothing. */
	c.branch = "z9hG4bKother";
	assert_null(sip_stx_find_invite(fx.txl, mk(c)));
	c.branch = BR;
	c.via = "198.51.100.8:5062";
	assert_null(sip_stx_find_invite(fx.txl, mk(c)));
	assert_ptr_equal(
		sip_stx_find_invite(fx.txl, mk((struct rq){.branch = BR})),
		inv);
	assert_null(sip_stx_find_invite(NULL, mk(c)));
	/* Once the INVITE transaction ended it is not found. */
	sip_stx_terminate(inv);
	c.via = NULL;
	assert_null(sip_stx_find_invite(fx.txl, mk(c)));
}

/* ------------------------------------------------------------ matching */

static void test_rfc3261_matching(void **state)
{
	struct sip_stx *s = new_stx((struct rq){.branch = BR}, SIP_TP_UDP);
	struct sip_stx *o = NULL;

	(void)state;
	/* Branch compared without case, sent-by host too. */
	assert_int_equal(rx((struct rq){.branch = "z9hG4bKC1"}, &o),
			 SIP_STX_ABSORBED);
	assert_ptr_equal(o, s);
	/* Same branch from another sent-by, or another port: new. */
	new_stx((struct rq){.branch = BR, .via = "198.51.100.8:5062"},
		SIP_TP_UDP);
	new_stx((struct rq){.branch = BR, .via = "198.51.100.7"}, SIP_TP_UDP);
	new_stx((struct rq){.branch = BR, .via = "198.51.100.7:5060"},
		SIP_TP_UDP);
	/* Same branch, other method: its own transaction. */
	new_stx((struct rq){.method = "BYE", .branch = BR}, SIP_TP_UDP);
	new_stx((struct rq){.method = "FOO", .branch = BR}, SIP_TP_UDP);
	assert_int_equal(rx((struct rq){.method = "FOO", .branch = BR}, NULL),
			 SIP_STX_ABSORBED);
	new_stx((struct rq){.method = "BAR", .branch = BR}, SIP_TP_UDP);
	/* Fields other than branch, sent-by and method do not matter. */
	assert_int_equal(
		rx((struct rq){.branch = BR, .cseq = 8, .callid = "zz"}, NULL),
		SIP_STX_ABSORBED);
	/* ACK from another sent-by or branch: nothing to do with us. */
	assert_int_equal(rx((struct rq){.method = "ACK",
					.branch = BR,
					.via = "198.51.100.9"},
			    NULL),
			 SIP_STX_NOMATCH);
	assert_int_equal(
		rx((struct rq){.method = "ACK", .branch = "z9hG4bKzz"}, NULL),
		SIP_STX_NOMATCH);
	/* ACK before any final response: dropped. */
	assert_int_equal(rx((struct rq){.method = "ACK", .branch = BR}, NULL),
			 SIP_STX_ABSORBED);
	assert_int_equal(sip_txl_count(fx.txl), 7);
}

/* RFC 3261 17.2.3, last paragraphs: requests without the cookie. */
static void test_rfc2543_matching(void **state)
{
	struct rq r = {.branch = NULL};
	struct rq a = {.method = "ACK", .ttag = "s1"};
	struct sip_stx *s = new_stx(r, SIP_TP_UDP), *o = NULL;

	(void)state;
	assert_int_equal(rx(r, &o), SIP_STX_ABSORBED);
	assert_ptr_equal(o, s);
	/* Request-URI compared per 19.1.4: host case does not matter. */
	assert_int_equal(rx((struct rq){.ruri = "sip:bob@EXAMPLE.com"}, NULL),
			 SIP_STX_ABSORBED);
	new_stx((struct rq){.ruri = "sip:bob@example.net"}, SIP_TP_UDP);
	new_stx((struct rq){.cseq = 8}, SIP_TP_UDP);
	new_stx((struct rq){.ftag = "f2"}, SIP_TP_UDP);
	new_stx((struct rq){.ttag = "x"}, SIP_TP_UDP);
	new_stx((struct rq){.callid = "c2@x"}, SIP_TP_UDP);
	new_stx((struct rq){.via = "198.51.100.7:5063"}, SIP_TP_UDP);
	/* A branch that is only the cookie is no RFC 3261 branch. */
	new_stx((struct rq){.branch = "z9hG4bK"}, SIP_TP_UDP);
	assert_int_equal(rx((struct rq){.branch = "z9hG4bK"}, NULL),
			 SIP_STX_ABSORBED);
	new_stx((struct rq){.branch = "1234"}, SIP_TP_UDP);
	assert_int_equal(rx((struct rq){.branch = "1234"}, NULL),
			 SIP_STX_ABSORBED);
	/* CANCEL lookup by the same rule. */
	assert_ptr_equal(sip_stx_find_invite(
				 fx.txl, mk((struct rq){.method = "CANCEL"})),
			 s);
	/* ACK: matches only with the To tag of our final response. */
	/* Before any final response no To tag can match. */
	assert_int_equal(rx(a, NULL), SIP_STX_NOMATCH);
	assert_int_equal(reply(s, 404, "s1"), 0);
	a.ttag = "s2";
	assert_int_equal(rx(a, NULL), SIP_STX_NOMATCH);
	a.ttag = "s1";
	a.cseq = 8; /* CSeq number must match too */
	assert_int_equal(rx(a, NULL), SIP_STX_NOMATCH);
	a.cseq = 0;
	assert_int_equal(rx(a, &o), SIP_STX_ACK_ABSORBED);
	assert_ptr_equal(o, s);
	assert_int_equal(sip_stx_state(s), SIP_TXN_CONFIRMED);
}

/* 2543 ACK after a forwarded final: the To tag comes from its bytes. */
static void test_rfc2543_forwarded_final(void **state)
{
	struct sip_stx *s = new_stx((struct rq){.branch = NULL}, SIP_TP_UDP);

	(void)state;
	assert_int_equal(fwd(s, 603, "down7"), 0);
	assert_int_equal(rx((struct rq){.method = "ACK", .ttag = "x"}, NULL),
			 SIP_STX_NOMATCH);
	assert_int_equal(
		rx((struct rq){.method = "ACK", .ttag = "down7"}, NULL),
		SIP_STX_ACK_ABSORBED);
	/* A request with a To tag keeps it in local replies. */
	s = new_stx((struct rq){.ttag = "dlg", .cseq = 9}, SIP_TP_UDP);
	assert_int_equal(reply(s, 481, "other"), 0);
	assert_true(
		strstr(fx.sent[1].p, "To: <sip:bob@example.com>;tag=dlg\r\n"));
	assert_null(strstr(fx.sent[1].p, "other"));
	assert_int_equal(
		rx((struct rq){.method = "ACK", .ttag = "dlg", .cseq = 9},
		   NULL),
		SIP_STX_ACK_ABSORBED);
}

/* ------------------------------------------------------------ skeleton */

static void test_skeleton_bytes(void **state)
{
	static const char req[] =
		"INVITE sip:bob@example.com SIP/2.0\r\n"
		"v: SIP/2.0/UDP host.example.com:5062;branch=z9hG4bKs1;rport ,"
		" SIP/2.0/TCP 10.0.0.1;branch=z9hG4bKin\r\n"
		"Max-Forwards: 70\r\n"
		"f: Alice\r\n <sip:alice@example.com>;tag=f1\r\n"
		"Subject: not copied\r\n"
		"t: <sip:bob@example.com>\r\n"
		"Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKin2\r\n"
		"i: c9@x\r\n"
		"CSeq: 7 INVITE\r\n"
		"l: 0\r\n\r\n";
	struct sip_peer from = peer(SIP_TP_UDP, "203.0.113.5:40000");
	struct sip_stx *s = NULL;

	(void)state;
	assert_int_equal(sip_stx_receive(fx.txl, parse(req), &from, &s),
			 SIP_STX_NEW);
	assert_int_equal(sip_stx_reply_local(s, 503, STR("Overloaded"),
					     STR("gw1"),
					     STR("Retry-After: 30\r\n")),
			 0);
	expect_sent(0,
		    "SIP/2.0 503 Overloaded\r\n"
		    "Via: SIP/2.0/UDP host.example.com:5062;branch=z9hG4bKs1;"
		    "rport=40000;received=203.0.113.5 , SIP/2.0/TCP 10.0.0.1;"
		    "branch=z9hG4bKin\r\n"
		    "From: Alice <sip:alice@example.com>;tag=f1\r\n"
		    "To: <sip:bob@example.com>;tag=gw1\r\n"
		    "Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKin2\r\n"
		    "Call-ID: c9@x\r\n"
		    "CSeq: 7 INVITE\r\n"
		    "Retry-After: 30\r\n"
		    "Content-Length: 0\r\n\r\n");
	assert_true(sg_addr_eq(&fx.sent[0].to.addr, &from.addr));
}

/* received= only when the sent-by differs from the source (18.2.1). */
static void test_skeleton_received(void **state)
{
	struct sip_peer same = peer(SIP_TP_UDP, "198.51.100.7:5062");
	struct sip_peer v6 = peer(SIP_TP_UDP, "[2001:db8::1]:5070");
	struct sip_peer none;
	struct sip_stx *s = NULL;

	(void)state;
	assert_int_equal(sip_stx_receive(fx.txl, mk((struct rq){.branch = BR}),
					 &same, &s),
			 SIP_STX_NEW);
	assert_int_equal(reply(s, 100, ""), 0);
	assert_true(strstr(fx.sent[0].p,
			   "Via: SIP/2.0/UDP " SRC ";branch=" BR "\r\n"));
	assert_int_equal(
		sip_stx_receive(fx.txl,
				mk((struct rq){.branch = "z9hG4bK6",
					       .via = "[2001:db8::1]:5070"}),
				&v6, &s),
		SIP_STX_NEW);
	assert_int_equal(reply(s, 100, ""), 0);
	assert_true(strstr(fx.sent[1].p, "Via: SIP/2.0/UDP [2001:db8::1]:5070;"
					 "branch=z9hG4bK6\r\n"));
	assert_int_equal(
		sip_stx_receive(fx.txl,
				mk((struct rq){.branch = "z9hG4bK7",
					       .via = "[2001:db8::2]"}),
				&v6, &s),
		SIP_STX_NEW);
	assert_int_equal(reply(s, 100, ""), 0);
	assert_true(strstr(fx.sent[2].p, "branch=z9hG4bK7;received=2001:db8::1"
					 "\r\n"));
	/* Source of unknown family: nothing added. */
	memset(&none, 0, sizeof(none));
	assert_int_equal(
		sip_stx_receive(fx.txl,
				mk((struct rq){.branch = "z9hG4bK8",
					       .via = "a.example.com"}),
				&none, &s),
		SIP_STX_NEW);
	assert_int_equal(reply(s, 100, ""), 0);
	assert_true(strstr(fx.sent[3].p, "Via: SIP/2.0/UDP a.example.com;"
					 "branch=z9hG4bK8\r\n"));
}

/* ------------------------------------------------------------ pool etc. */

static void test_pool_full(void **state)
{
	struct sip_txn_conf conf = sip_txn_conf_default;
	struct sip_stx *a, *o = NULL;

	(void)state;
	teardown(NULL);
	conf.max_txn = 2;
	assert_int_equal(setup_conf(&conf), 0);
	a = new_stx((struct rq){.branch = "z9hG4bKa"}, SIP_TP_UDP);
	new_stx((struct rq){.method = "OPTIONS", .branch = "z9hG4bKb"},
		SIP_TP_UDP);
	assert_int_equal(rx((struct rq){.branch = "z9hG4bKc"}, &o), -ENOSPC);
	assert_null(o);
	/* Existing calls go on: retransmissions, ACKs, responses. */
	assert_int_equal(rx((struct rq){.branch = "z9hG4bKa"}, NULL),
			 SIP_STX_ABSORBED);
	assert_int_equal(reply(a, 486, "t"), 0);
	assert_int_equal(
		rx((struct rq){.method = "ACK", .branch = "z9hG4bKa"}, NULL),
		SIP_STX_ACK_ABSORBED);
	assert_int_equal(
		rx((struct rq){.method = "ACK", .branch = "z9hG4bK2xx"}, NULL),
		SIP_STX_NOMATCH);
	advance(T4);
	advance(0);
	new_stx((struct rq){.branch = "z9hG4bKc"}, SIP_TP_UDP);
}

/* The byte cap: big messages cannot multiply the memory held. */
static void test_byte_cap(void **state)
{
	static char cid[4001];
	struct sip_txn_conf conf = sip_txn_conf_default;
	struct sip_stx *s = NULL, *first = NULL;
	char br[32];
	unsigned i;
	int rc = 0;

	(void)state;
	teardown(NULL);
	conf.max_bytes = SIP_TXN_MAX_BYTES_MIN;
	assert_int_equal(setup_conf(&conf), 0);
	memset(cid, 'c', sizeof(cid) - 1);
	for (i = 0; i < 1000; i++) {
		snprintf(br, sizeof(br), "z9hG4bKbig%u", i);
		rc = rx((struct rq){.branch = br, .callid = cid}, &s);
		if (rc != SIP_STX_NEW)
			break;
		if (!first)
			first = s;
	}
	assert_int_equal(rc, -ENOSPC);
	assert_true(i > 10 && i < 100);
	assert_true(sip_txl_bytes(fx.txl) <= SIP_TXN_MAX_BYTES_MIN);
	/* Over the cap a response is sent but not kept. */
	assert_int_equal(reply(first, 486, "t"), 0);
	assert_int_equal(fx.nsent, 1);
	advance(T1);
	assert_int_equal(fx.nsent, 1);
	/* Everything returns to zero. */
	sip_stx_terminate(first);
	advance(0);
	assert_true(sip_txl_bytes(fx.txl) > 0);
	assert_int_equal(rx((struct rq){.branch = "z9hG4bKsmall"}, &s),
			 SIP_STX_NEW);
	assert_int_equal(reply(s, 486, "t"), 0);
	advance(T1);
	assert_int_equal(fx.nsent, 3); /* kept: Timer G re-sent it */
}

/* Random byte mutations of requests: whatever parses is matched or
 * becomes a transaction that can answer; nothing crashes or leaks. */
static void test_mutated_requests(void **state)
{
	static const char *const meth[] = {"INVITE", "ACK", "CANCEL",
					   "OPTIONS"};
	struct sip_peer from = peer(SIP_TP_UDP, SRC);
	struct sip_stx *s;
	uint32_t seed = 777;
	unsigned i, j, parsed = 0;
	struct sip_perr e;
	char m[1024];
	size_t n;
	int rc;

	(void)state;
	for (i = 0; i < 20000; i++) {
		mk((struct rq){.method = meth[i % 4],
			       .branch = i & 4 ? BR : NULL});
		n = strlen(mbuf);
		memcpy(m, mbuf, n);
		for (j = 0; j < 1 + i % 4; j++) {
			seed = seed * 1103515245 + 12345;
			m[(seed >> 8) % n] = (char)(seed >> 20);
		}
		if (sip_msg_parse(&msg, m, n, NULL, 0, &e) != 0)
			continue;
		parsed++;
		s = NULL;
		rc = sip_stx_receive(fx.txl, &msg, &from, &s);
		assert_true(rc >= SIP_STX_NEW && rc <= SIP_STX_NOMATCH);
		if (rc == SIP_STX_NEW) {
			sip_stx_find_invite(fx.txl, &msg);
			assert_int_equal(reply(s, 100 + (int)(i % 600), "t"),
					 0);
		}
		advance(50);
		clear_sent();
	}
	assert_true(parsed > 1000);
}

static void test_transport_error(void **state)
{
	struct sip_stx *s = new_stx((struct rq){.branch = BR}, SIP_TP_TCP);
	struct sip_stx *u;

	(void)state;
	sip_stx_set_user(s, &fx);
	assert_ptr_equal(sip_stx_user(s), &fx);
	fx.send_rc = -EPIPE;
	assert_int_equal(reply(s, 100, ""), -EPIPE);
	assert_int_equal(sip_stx_state(s), SIP_TXN_TERMINATED);
	assert_int_equal(reply(s, 486, "x"), -ESRCH);
	assert_int_equal(fwd(s, 486, "x"), -ESRCH);
	advance(0);
	assert_int_equal(fx.ngone, 1);
	assert_ptr_equal(fx.last_user, &fx);
	/* UDP: the failure only costs a retransmission. */
	u = new_stx((struct rq){.branch = BR}, SIP_TP_UDP);
	assert_int_equal(reply(u, 486, "x"), -EPIPE);
	assert_int_equal(sip_stx_state(u), SIP_TXN_COMPLETED);
	fx.send_rc = 0;
	advance(T1);
	assert_int_equal(fx.nsent, 1);
}

static void test_terminate_and_args(void **state)
{
	struct sip_stx *s = new_stx((struct rq){.branch = BR}, SIP_TP_UDP);
	struct sip_peer from = peer(SIP_TP_UDP, SRC);
	static const char resp[] =
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bKx\r\n"
		"From: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\nCall-ID: x\r\n"
		"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

	(void)state;
	assert_int_equal(reply(s, 99, ""), -EINVAL);
	assert_int_equal(reply(s, 700, ""), -EINVAL);
	assert_int_equal(sip_stx_send_response(s, NULL, 3, 200), -EINVAL);
	assert_int_equal(sip_stx_send_response(s, "x", 0, 200), -EINVAL);
	assert_int_equal(sip_stx_send_response(NULL, "x", 1, 200), -EINVAL);
	assert_int_equal(
		sip_stx_reply_local(NULL, 200, STR(""), STR(""), STR("")),
		-EINVAL);
	assert_int_equal(sip_stx_receive(fx.txl, parse(resp), &from, &s),
			 -EINVAL);
	assert_int_equal(sip_stx_receive(NULL, &msg, &from, &s), -EINVAL);
	assert_null(sip_stx_find_invite(fx.txl, &msg));
	s = new_stx((struct rq){.branch = "z9hG4bKt"}, SIP_TP_UDP);
	sip_stx_terminate(s);
	sip_stx_terminate(s);
	sip_stx_terminate(NULL);
	assert_int_equal(reply(s, 200, "x"), -ESRCH);
	/* Ended: the retransmission is a new transaction. */
	new_stx((struct rq){.branch = "z9hG4bKt"}, SIP_TP_UDP);
	advance(0);
	assert_int_equal(fx.ngone, 1);
	assert_int_equal(fx.nsent, 0);
}

static void test_oom(void **state)
{
	struct sip_stx *s = NULL;
	unsigned n;
	int rc;

	(void)state;
	mem_fail_nth(1);
	rc = rx((struct rq){.branch = BR}, &s);
	mem_fail_nth(0);
	assert_int_equal(rc, -ENOMEM);
	assert_int_equal(sip_txl_count(fx.txl), 0);
	s = new_stx((struct rq){.branch = BR}, SIP_TP_UDP);
	/* The local reply's buffer, then the kept copy. */
	for (n = 1;; n++) {
		mem_fail_nth(n);
		rc = reply(s, 100, "");
		mem_fail_nth(0);
		if (rc == 0)
			break;
		assert_int_equal(rc, -ENOMEM);
		assert_int_equal(fx.nsent, 0);
	}
	assert_int_equal(fx.nsent, 1);
	/* Kept copy fails: sent once, nothing stale re-sent after. */
	mem_fail_nth(1);
	assert_int_equal(fwd(s, 486, "t"), 0);
	mem_fail_nth(0);
	assert_int_equal(fx.nsent, 2);
	assert_int_equal(rx((struct rq){.branch = BR}, NULL), SIP_STX_ABSORBED);
	advance(T1);
	assert_int_equal(fx.nsent, 2);
}

static void test_free_with_live(void **state)
{
	struct sip_stx *s = new_stx((struct rq){.branch = BR}, SIP_TP_UDP);

	(void)state;
	assert_int_equal(reply(s, 486, "t"), 0);
	new_stx((struct rq){.method = "OPTIONS", .branch = BR}, SIP_TP_UDP);
	sip_stx_terminate(new_stx((struct rq){.method = "BYE", .branch = BR},
				  SIP_TP_UDP));
	assert_true(sip_txl_bytes(fx.txl) > 0);
	sip_txl_free(fx.txl);
	fx.txl = NULL;
	assert_int_equal(fx.ngone, 0);
	assert_int_equal(tmr_wheel_count(&fx.w), 0);
}

/* What a typical INVITE server transaction costs. */
static void test_bytes_per_txn(void **state)
{
	static const char req[] =
		"INVITE sip:bob@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bK776asdhds"
		";rport\r\n"
		"Max-Forwards: 70\r\n"
		"To: Bob <sip:bob@example.com>\r\n"
		"From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
		"Call-ID: a84b4c76e66710@pc33.example.com\r\n"
		"CSeq: 314159 INVITE\r\n"
		"Contact: <sip:alice@198.51.100.7:5062>\r\n"
		"Content-Type: application/sdp\r\n"
		"Content-Length: 0\r\n\r\n";
	struct sip_peer from = peer(SIP_TP_UDP, "203.0.113.5:40000");
	struct sip_stx *s = NULL;
	size_t keys;

	(void)state;
	assert_int_equal(sip_stx_receive(fx.txl, parse(req), &from, &s),
			 SIP_STX_NEW);
	keys = s->mname.len + s->branch.len + s->host.len;
	print_message("server txn: struct %zu + keys %zu + skeleton %zu "
		      "(bound %zu) bytes; client txn: struct %zu + request\n",
		      sizeof(struct sip_stx), keys, s->skel.len,
		      s->skel.len + 70, sizeof(struct sip_ctx));
	assert_true(sizeof(struct sip_stx) + keys + s->skel.len < 1024);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_invite_non2xx_flow),
		T(test_invite_timer_h),
		T(test_invite_2xx_accepted),
		T(test_invite_late_2xx),
		T(test_invite_reliable),
		T(test_noninvite),
		T(test_noninvite_reliable),
		T(test_cancel),
		T(test_rfc3261_matching),
		T(test_rfc2543_matching),
		T(test_rfc2543_forwarded_final),
		T(test_skeleton_bytes),
		T(test_skeleton_received),
		T(test_pool_full),
		T(test_byte_cap),
		T(test_mutated_requests),
		T(test_transport_error),
		T(test_terminate_and_args),
		T(test_oom),
		T(test_free_with_live),
		T(test_bytes_per_txn),
#undef T
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
