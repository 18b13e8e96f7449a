/*
 * test_txn_client.c - client transactions (RFC 3261 17.1): Timers A, B,
 * D, E, F, K, M on a fake clock, provisional/final handling, the ACK for
 * a non-2xx final (bytes checked), 2xx retransmissions and forks
 * delivered, hop-by-hop CANCEL before and after a provisional with its
 * 64*T1 guard, reliable vs unreliable timers, transport errors, hostile
 * responses, the pool cap, the branch generator, callback safety and
 * failure injection; every test ends leak-free.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "test.h"
#include "sip/txn.h"

enum { MAX_SENT = 128, T1 = 500, T2 = 4000, T4 = 5000, TD = 32000 };

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
	unsigned nresp, ntimeout, ngone;
	int last_status, last_err;
	struct sip_ctx *last_ctx;
	void *last_user;
	/* what callbacks do to the transaction they report */
	bool resp_terminates, resp_cancels, timeout_cancels;
	int cb_rc;
} fx;

static struct sip_msg msg;
static char mbuf[4096];

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

static void on_resp(void *user, struct sip_ctx *ctx, const struct sip_msg *resp,
		    const struct sip_peer *from)
{
	(void)from;
	fx.nresp++;
	fx.last_status = resp->status;
	fx.last_ctx = ctx;
	fx.last_user = user;
	if (fx.resp_cancels)
		fx.cb_rc = sip_ctx_cancel(ctx);
	if (fx.resp_terminates)
		sip_ctx_terminate(ctx);
	/* Still valid memory inside the callback, whatever was done. */
	assert_ptr_equal(sip_ctx_user(ctx), user);
}

static void on_timeout(void *user, struct sip_ctx *ctx, int err)
{
	fx.ntimeout++;
	fx.last_err = err;
	fx.last_ctx = ctx;
	fx.last_user = user;
	assert_int_equal(sip_ctx_state(ctx), SIP_TXN_TERMINATED);
	if (fx.timeout_cancels)
		fx.cb_rc = sip_ctx_cancel(ctx);
}

static void on_gone(void *user, struct sip_ctx *ctx)
{
	(void)user;
	(void)ctx;
	fx.ngone++;
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
	struct sip_txl_cb cb = {
		.send = fake_send,
		.ctx_response = on_resp,
		.ctx_timeout = on_timeout,
		.ctx_gone = on_gone,
	};

	memset(&fx, 0, sizeof(fx));
	fx.now = 1000000;
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

static struct sip_peer peer(enum sip_tp tp)
{
	struct sip_peer p;

	memset(&p, 0, sizeof(p));
	p.tp = tp;
	assert_int_equal(sg_addr_parse(&p.addr, STR("192.0.2.20:5060"), 0), 0);
	p.conn_id = tp == SIP_TP_UDP ? 0 : 42;
	return p;
}

#define BR "z9hG4bKbranch1"
#define INVITE_MSG                                                      \
	"INVITE sip:bob@192.0.2.20 SIP/2.0\r\n"                         \
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=" BR "\r\n"             \
	"Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKup;rport=5062\r\n" \
	"Route: <sip:r1.example.com;lr>\r\n"                            \
	"Route: <sip:r2.example.com;lr>\r\n"                            \
	"Max-Forwards: 69\r\n"                                          \
	"From: Alice <sip:alice@example.com>;tag=f1\r\n"                \
	"To: <sip:bob@example.com>\r\n"                                 \
	"Call-ID: c1@x\r\n"                                             \
	"CSeq: 7 INVITE\r\n"                                            \
	"Contact: <sip:alice@198.51.100.7>\r\n"                         \
	"Content-Type: application/sdp\r\n"                             \
	"Content-Length: 4\r\n\r\nv=0\n"
#define OPTIONS_MSG                                         \
	"OPTIONS sip:bob@192.0.2.20 SIP/2.0\r\n"            \
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=" BR "\r\n" \
	"Max-Forwards: 70\r\n"                              \
	"From: <sip:alice@example.com>;tag=f1\r\n"          \
	"To: <sip:bob@example.com>\r\n"                     \
	"Call-ID: o1@x\r\nCSeq: 3 OPTIONS\r\nContent-Length: 0\r\n\r\n"

static struct sip_ctx *new_ctx(const char *req, const char *method,
			       enum sip_tp tp, void *user)
{
	struct sip_peer to = peer(tp);
	struct sip_ctx *c = NULL;

	assert_int_equal(sip_ctx_new(&c, fx.txl, &to, STR(BR), str_cstr(method),
				     req, strlen(req), user),
			 0);
	assert_non_null(c);
	return c;
}

/* Parse a response to our request (branch/method chosen by caller). */
static const struct sip_msg *resp(int status, const char *branch,
				  const char *cseq, const char *totag)
{
	struct sip_perr e;
	int n;

	n = snprintf(mbuf, sizeof(mbuf),
		     "SIP/2.0 %d Whatever\r\n"
		     "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=%s\r\n"
		     "Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKup\r\n"
		     "From: Alice <sip:alice@example.com>;tag=f1\r\n"
		     "To: <sip:bob@example.com>%s%s\r\n"
		     "Call-ID: c1@x\r\nCSeq: %s\r\nContent-Length: 0\r\n\r\n",
		     status, branch, totag ? ";tag=" : "", totag ? totag : "",
		     cseq);
	assert_true(n > 0 && (size_t)n < sizeof(mbuf));
	if (sip_msg_parse(&msg, mbuf, (size_t)n, NULL, 0, &e) != 0)
		fail_msg("%s at %u", e.reason, e.off);
	return &msg;
}

static int rx(int status, const char *cseq, const char *totag)
{
	struct sip_peer from = peer(SIP_TP_UDP);

	return sip_ctx_receive(fx.txl, resp(status, BR, cseq, totag), &from);
}

static void expect_sent(unsigned i, const char *want)
{
	assert_true(i < fx.nsent);
	if (strcmp(fx.sent[i].p, want) != 0)
		fail_msg("sent[%u]:\n%s\nwant:\n%s", i, fx.sent[i].p, want);
}

/* ------------------------------------------------------------ INVITE */

/* Timer A doubles (no T2 cap for INVITE); Timer B = 64*T1 times out. */
static void test_invite_timer_a_b(void **state)
{
	int marker;
	struct sip_ctx *c = new_ctx(INVITE_MSG, "INVITE", SIP_TP_UDP, &marker);
	static const uint64_t at[] = {500, 1500, 3500, 7500, 15500, 31500};
	uint64_t t = 0;
	unsigned i;

	(void)state;
	assert_int_equal(fx.nsent, 1);
	expect_sent(0, INVITE_MSG);
	assert_int_equal(sip_ctx_state(c), SIP_TXN_CALLING);
	for (i = 0; i < 6; i++) {
		advance(at[i] - t - 1);
		assert_int_equal(fx.nsent, 1 + i);
		advance(1);
		assert_int_equal(fx.nsent, 2 + i);
		expect_sent(1 + i, INVITE_MSG);
		t = at[i];
	}
	advance(32000 - t - 1);
	assert_int_equal(fx.ntimeout, 0);
	advance(1);
	assert_int_equal(fx.ntimeout, 1);
	assert_int_equal(fx.last_err, -ETIMEDOUT);
	assert_ptr_equal(fx.last_user, &marker);
	assert_int_equal(fx.ngone, 0); /* freed at the next safe point */
	assert_int_equal(sip_txl_count(fx.txl), 1);
	advance(0);
	assert_int_equal(fx.ngone, 1);
	assert_int_equal(sip_txl_count(fx.txl), 0);
	assert_int_equal(fx.nsent, 7);
}

/* A provisional stops A and B: the proxy's Timer C rules from then. */
static void test_invite_provisional_then_2xx(void **state)
{
	struct sip_ctx *c = new_ctx(INVITE_MSG, "INVITE", SIP_TP_UDP, NULL);

	(void)state;
	assert_int_equal(rx(100, "7 INVITE", NULL), SIP_CTX_DELIVERED);
	assert_int_equal(rx(180, "7 INVITE", "t1"), SIP_CTX_DELIVERED);
	assert_int_equal(rx(180, "7 INVITE", "t1"), SIP_CTX_DELIVERED);
	assert_int_equal(fx.nresp, 3);
	assert_int_equal(sip_ctx_state(c), SIP_TXN_PROCEEDING);
	advance(10 * 64 * T1);
	assert_int_equal(fx.nsent, 1);
	assert_int_equal(fx.ntimeout, 0);
	/* 2xx: Accepted; retransmissions and forks all delivered. */
	assert_int_equal(rx(200, "7 INVITE", "t1"), SIP_CTX_DELIVERED);
	assert_int_equal(sip_ctx_state(c), SIP_TXN_ACCEPTED);
	assert_int_equal(rx(200, "7 INVITE", "t1"), SIP_CTX_DELIVERED);
	assert_int_equal(rx(200, "7 INVITE", "fork2"), SIP_CTX_DELIVERED);
	assert_int_equal(fx.nresp, 6);
	assert_int_equal(fx.last_status, 200);
	/* Late non-2xx and provisionals are dropped (RFC 6026). */
	assert_int_equal(rx(486, "7 INVITE", "t3"), SIP_CTX_ABSORBED);
	assert_int_equal(rx(180, "7 INVITE", "t3"), SIP_CTX_ABSORBED);
	assert_int_equal(fx.nsent, 1); /* no ACK for 2xx from us */
	/* Timer M. */
	advance(64 * T1 - 1);
	assert_int_equal(fx.ngone, 0);
	advance(1);
	advance(0);
	assert_int_equal(fx.ngone, 1);
	assert_int_equal(rx(200, "7 INVITE", "t1"), SIP_CTX_NOMATCH);
}

#define ACK_MSG                                             \
	"ACK sip:bob@192.0.2.20 SIP/2.0\r\n"                \
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=" BR "\r\n" \
	"Route: <sip:r1.example.com;lr>\r\n"                \
	"Route: <sip:r2.example.com;lr>\r\n"                \
	"From: Alice <sip:alice@example.com>;tag=f1\r\n"    \
	"To: <sip:bob@example.com>;tag=t9\r\n"              \
	"Call-ID: c1@x\r\n"                                 \
	"CSeq: 7 ACK\r\n"                                   \
	"Max-Forwards: 70\r\n"                              \
	"Content-Length: 0\r\n\r\n"

/* 17.1.1.3: non-2xx final acknowledged by the txn; retransmissions of
 * the final re-send the ACK and are absorbed; Timer D. */
static void test_invite_non2xx_ack(void **state)
{
	struct sip_ctx *c = new_ctx(INVITE_MSG, "INVITE", SIP_TP_UDP, NULL);

	(void)state;
	advance(T1); /* one retransmission */
	assert_int_equal(fx.nsent, 2);
	assert_int_equal(rx(486, "7 INVITE", "t9"), SIP_CTX_DELIVERED);
	assert_int_equal(sip_ctx_state(c), SIP_TXN_COMPLETED);
	assert_int_equal(fx.nsent, 3);
	expect_sent(2, ACK_MSG);
	assert_int_equal(rx(486, "7 INVITE", "t9"), SIP_CTX_ABSORBED);
	assert_int_equal(fx.nsent, 4);
	expect_sent(3, ACK_MSG);
	assert_int_equal(fx.nresp, 1);
	/* No more INVITE retransmissions. */
	advance(TD - 1);
	assert_int_equal(fx.nsent, 4);
	assert_int_equal(sip_ctx_state(c), SIP_TXN_COMPLETED);
	advance(1);
	advance(0);
	assert_int_equal(fx.ngone, 1);
	assert_int_equal(fx.ntimeout, 0);
}

/* Over TCP: no Timer A; Timer D is 0. */
static void test_invite_reliable(void **state)
{
	struct sip_ctx *c = new_ctx(INVITE_MSG, "INVITE", SIP_TP_TCP, NULL);

	(void)state;
	advance(16 * T1);
	assert_int_equal(fx.nsent, 1);
	assert_int_equal(fx.sent[0].to.conn_id, 42);
	assert_int_equal(rx(503, "7 INVITE", "t9"), SIP_CTX_DELIVERED);
	assert_int_equal(fx.nsent, 2);
	assert_int_equal(sip_ctx_state(c), SIP_TXN_COMPLETED);
	advance(0);
	advance(0);
	assert_int_equal(fx.ngone, 1);
}

/* Timer B also applies over TCP. */
static void test_invite_reliable_timeout(void **state)
{
	(void)state;
	new_ctx(INVITE_MSG, "INVITE", SIP_TP_TLS, NULL);
	advance(64 * T1);
	assert_int_equal(fx.ntimeout, 1);
	assert_int_equal(fx.nsent, 1);
}

/* ------------------------------------------------------------ non-INVITE */

/* Timer E doubles up to T2; Timer F = 64*T1. */
static void test_noninvite_timer_e_f(void **state)
{
	static const uint64_t at[] = {500,   1500,  3500,  7500,  11500,
				      15500, 19500, 23500, 27500, 31500};
	uint64_t t = 0;
	unsigned i;

	(void)state;
	new_ctx(OPTIONS_MSG, "OPTIONS", SIP_TP_UDP, NULL);
	for (i = 0; i < 10; i++) {
		advance(at[i] - t - 1);
		assert_int_equal(fx.nsent, 1 + i);
		advance(1);
		assert_int_equal(fx.nsent, 2 + i);
		t = at[i];
	}
	advance(32000 - t - 1);
	assert_int_equal(fx.ntimeout, 0);
	advance(1);
	assert_int_equal(fx.ntimeout, 1);
	assert_int_equal(fx.nsent, 11);
}

/* After a provisional, E fires every T2; the final stops it; Timer K. */
static void test_noninvite_proceeding_completed(void **state)
{
	struct sip_ctx *c = new_ctx(OPTIONS_MSG, "OPTIONS", SIP_TP_UDP, NULL);

	(void)state;
	assert_int_equal(rx(100, "3 OPTIONS", NULL), SIP_CTX_DELIVERED);
	assert_int_equal(sip_ctx_state(c), SIP_TXN_PROCEEDING);
	advance(T1); /* E armed at T1 fires, next at T2 */
	assert_int_equal(fx.nsent, 2);
	advance(T2 - 1);
	assert_int_equal(fx.nsent, 2);
	advance(1);
	assert_int_equal(fx.nsent, 3);
	assert_int_equal(rx(200, "3 OPTIONS", "x"), SIP_CTX_DELIVERED);
	assert_int_equal(sip_ctx_state(c), SIP_TXN_COMPLETED);
	assert_int_equal(rx(200, "3 OPTIONS", "x"), SIP_CTX_ABSORBED);
	assert_int_equal(rx(100, "3 OPTIONS", NULL), SIP_CTX_ABSORBED);
	assert_int_equal(fx.nresp, 2);
	advance(T4 - 1);
	assert_int_equal(fx.nsent, 3);
	assert_int_equal(fx.ngone, 0);
	advance(1);
	advance(0);
	assert_int_equal(fx.ngone, 1);
	assert_int_equal(fx.ntimeout, 0);
}

static void test_noninvite_reliable(void **state)
{
	(void)state;
	new_ctx(OPTIONS_MSG, "OPTIONS", SIP_TP_TCP, NULL);
	advance(T2);
	assert_int_equal(fx.nsent, 1);
	assert_int_equal(rx(200, "3 OPTIONS", "x"), SIP_CTX_DELIVERED);
	advance(0); /* Timer K = 0 */
	advance(0);
	assert_int_equal(fx.ngone, 1);
}

/* ------------------------------------------------------------ CANCEL */

#define CANCEL_MSG                                          \
	"CANCEL sip:bob@192.0.2.20 SIP/2.0\r\n"             \
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=" BR "\r\n" \
	"Route: <sip:r1.example.com;lr>\r\n"                \
	"Route: <sip:r2.example.com;lr>\r\n"                \
	"From: Alice <sip:alice@example.com>;tag=f1\r\n"    \
	"To: <sip:bob@example.com>\r\n"                     \
	"Call-ID: c1@x\r\n"                                 \
	"CSeq: 7 CANCEL\r\n"                                \
	"Max-Forwards: 70\r\n"                              \
	"Content-Length: 0\r\n\r\n"

/* 9.1: before a provisional nothing is sent; the first 1xx triggers it. */
static void test_cancel_before_provisional(void **state)
{
	struct sip_ctx *c = new_ctx(INVITE_MSG, "INVITE", SIP_TP_UDP, NULL);

	(void)state;
	assert_int_equal(sip_ctx_cancel(c), 0);
	assert_int_equal(sip_ctx_cancel(c), 0); /* idempotent */
	assert_int_equal(fx.nsent, 1);
	advance(T1);
	assert_int_equal(fx.nsent, 2); /* INVITE retransmitted still */
	assert_int_equal(rx(180, "7 INVITE", "t1"), SIP_CTX_DELIVERED);
	assert_int_equal(fx.nsent, 3);
	expect_sent(2, CANCEL_MSG);
	assert_int_equal(sip_txl_count(fx.txl), 2);
	/* The 200 for the CANCEL is absorbed and never reported. */
	assert_int_equal(rx(200, "7 CANCEL", "t1"), SIP_CTX_ABSORBED);
	assert_int_equal(fx.nresp, 1);
	assert_int_equal(rx(487, "7 INVITE", "t1"), SIP_CTX_DELIVERED);
	assert_int_equal(fx.last_status, 487);
	assert_int_equal(fx.nsent, 4); /* the ACK */
	assert_true(strncmp(fx.sent[3].p, "ACK ", 4) == 0);
	assert_int_equal(sip_ctx_cancel(c), 0); /* nothing left to do */
	advance(TD);
	advance(0);
	assert_int_equal(fx.ngone, 1); /* the CANCEL txn is quiet */
	assert_int_equal(sip_txl_count(fx.txl), 0);
	assert_int_equal(sip_txl_bytes(fx.txl), 0);
	assert_int_equal(fx.ntimeout, 0);
}

/* After a provisional: sent at once, retransmitted by Timer E; no
 * final within 64*T1 -> timeout. */
static void test_cancel_after_provisional_guard(void **state)
{
	struct sip_ctx *c = new_ctx(INVITE_MSG, "INVITE", SIP_TP_UDP, NULL);

	(void)state;
	assert_int_equal(rx(183, "7 INVITE", "t1"), SIP_CTX_DELIVERED);
	advance(1000);
	assert_int_equal(sip_ctx_cancel(c), 0);
	assert_int_equal(fx.nsent, 2);
	expect_sent(1, CANCEL_MSG);
	advance(T1);
	assert_int_equal(fx.nsent, 3);
	expect_sent(2, CANCEL_MSG);
	advance(64 * T1 - T1 - 1);
	assert_int_equal(fx.ntimeout, 0);
	advance(1);
	assert_int_equal(fx.ntimeout, 1);
	assert_int_equal(fx.last_err, -ETIMEDOUT);
	assert_ptr_equal(fx.last_ctx, c);
	advance(0);
	assert_int_equal(fx.ngone, 1);
	assert_int_equal(sip_txl_count(fx.txl), 0);
}

/* A CANCEL asked for before any provisional, then Timer B: just end. */
static void test_cancel_pending_timeout(void **state)
{
	struct sip_ctx *c = new_ctx(INVITE_MSG, "INVITE", SIP_TP_UDP, NULL);
	unsigned n;

	(void)state;
	assert_int_equal(sip_ctx_cancel(c), 0);
	advance(64 * T1);
	assert_int_equal(fx.ntimeout, 1);
	n = fx.nsent;
	while (n--)
		assert_true(strncmp(fx.sent[n].p, "INVITE ", 7) == 0);
	assert_int_equal(sip_ctx_cancel(c), -ESRCH);
	advance(0);
	assert_int_equal(sip_txl_count(fx.txl), 0);
}

/* A final response that crosses the pending CANCEL: no CANCEL at all. */
static void test_cancel_pending_then_final(void **state)
{
	struct sip_ctx *c = new_ctx(INVITE_MSG, "INVITE", SIP_TP_UDP, NULL);

	(void)state;
	assert_int_equal(sip_ctx_cancel(c), 0);
	assert_int_equal(rx(200, "7 INVITE", "t1"), SIP_CTX_DELIVERED);
	assert_int_equal(fx.nsent, 1);
	assert_int_equal(sip_txl_count(fx.txl), 1);
}

static void test_cancel_errors(void **state)
{
	struct sip_ctx *c = new_ctx(OPTIONS_MSG, "OPTIONS", SIP_TP_UDP, NULL);

	(void)state;
	assert_int_equal(sip_ctx_cancel(c), -EINVAL);
	assert_int_equal(sip_ctx_cancel(NULL), -EINVAL);
	sip_ctx_terminate(c);
	assert_int_equal(sip_ctx_cancel(c), -ESRCH);
	advance(0);
	assert_int_equal(fx.ngone, 1);
}

/* A CANCEL over a full pool still goes out (it frees resources). */
static void test_cancel_pool_full(void **state)
{
	struct sip_txn_conf conf = sip_txn_conf_default;
	struct sip_ctx *c;

	(void)state;
	teardown(NULL);
	conf.max_txn = 1;
	assert_int_equal(setup_conf(&conf), 0);
	c = new_ctx(INVITE_MSG, "INVITE", SIP_TP_UDP, NULL);
	assert_int_equal(rx(180, "7 INVITE", "t1"), SIP_CTX_DELIVERED);
	assert_int_equal(sip_ctx_cancel(c), 0);
	assert_int_equal(sip_txl_count(fx.txl), 2);
	expect_sent(1, CANCEL_MSG);
}

/* ------------------------------------------------------------ hostile */

static void test_hostile_responses(void **state)
{
	struct sip_peer from = peer(SIP_TP_UDP);
	struct sip_perr e;
	static const char novia[] =
		"SIP/2.0 200 OK\r\nFrom: <sip:a@b>;tag=f1\r\nTo: <sip:b@c>\r\n"
		"Call-ID: c1@x\r\nCSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n";
	static const char nobranch[] =
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1\r\n"
		"From: <sip:a@b>;tag=f1\r\nTo: <sip:b@c>\r\n"
		"Call-ID: c1@x\r\nCSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n";
	static const char req[] = OPTIONS_MSG;

	(void)state;
	new_ctx(INVITE_MSG, "INVITE", SIP_TP_UDP, NULL);
	assert_int_equal(
		sip_ctx_receive(fx.txl,
				resp(200, "z9hG4bKother", "7 INVITE", "t"),
				&from),
		SIP_CTX_NOMATCH);
	assert_int_equal(
		sip_ctx_receive(fx.txl,
				resp(200, "z9hG4bKbranch", "7 INVITE", "t"),
				&from),
		SIP_CTX_NOMATCH);
	assert_int_equal(sip_ctx_receive(fx.txl,
					 resp(200, BR "x", "7 INVITE", "t"),
					 &from),
			 SIP_CTX_NOMATCH);
	assert_int_equal(rx(200, "7 BYE", "t"), SIP_CTX_NOMATCH);
	assert_int_equal(rx(200, "7 CANCEL", "t"), SIP_CTX_NOMATCH);
	assert_int_equal(rx(200, "7 invite", "t"), SIP_CTX_NOMATCH);
	assert_int_equal(rx(200, "7 FOO", "t"), SIP_CTX_NOMATCH);
	/* The parser refuses a response without Via; a caller's msg with
	 * none must still be safe. */
	assert_int_not_equal(
		sip_msg_parse(&msg, novia, strlen(novia), NULL, 0, &e), 0);
	resp(200, BR, "7 INVITE", "t");
	msg.nvia = 0;
	assert_int_equal(sip_ctx_receive(fx.txl, &msg, &from), SIP_CTX_NOMATCH);
	resp(200, BR, "7 INVITE", "t");
	msg.status = 99;
	assert_int_equal(sip_ctx_receive(fx.txl, &msg, &from), SIP_CTX_NOMATCH);
	assert_int_equal(
		sip_msg_parse(&msg, nobranch, strlen(nobranch), NULL, 0, &e),
		0);
	assert_int_equal(sip_ctx_receive(fx.txl, &msg, &from), SIP_CTX_NOMATCH);
	assert_int_equal(sip_msg_parse(&msg, req, strlen(req), NULL, 0, &e), 0);
	assert_int_equal(sip_ctx_receive(fx.txl, &msg, &from), -EINVAL);
	assert_int_equal(sip_ctx_receive(NULL, &msg, &from), -EINVAL);
	assert_int_equal(sip_ctx_receive(fx.txl, NULL, &from), -EINVAL);
	assert_int_equal(fx.nresp, 0);
	/* The genuine one still matches (branch compared without case). */
	assert_int_equal(rx(200, "7 INVITE", "t"), SIP_CTX_DELIVERED);
}

/* Random byte mutations of genuine responses: whatever still parses is
 * matched only when the branch and CSeq method are intact. */
static void test_mutated_responses(void **state)
{
	struct sip_peer from = peer(SIP_TP_UDP);
	uint32_t seed = 12345;
	unsigned i, j, parsed = 0;
	struct sip_perr e;
	char m[1024];
	size_t n;
	int rc;

	(void)state;
	new_ctx(INVITE_MSG, "INVITE", SIP_TP_UDP, NULL);
	for (i = 0; i < 20000; i++) {
		resp(100 + (int)(i % 600), BR, i & 1 ? "7 INVITE" : "7 CANCEL",
		     "t");
		n = strlen(mbuf);
		memcpy(m, mbuf, n);
		for (j = 0; j < 1 + i % 4; j++) {
			seed = seed * 1103515245 + 12345;
			m[(seed >> 8) % n] = (char)(seed >> 20);
		}
		if (sip_msg_parse(&msg, m, n, NULL, 0, &e) != 0)
			continue;
		parsed++;
		rc = sip_ctx_receive(fx.txl, &msg, &from);
		assert_true(rc == SIP_CTX_NOMATCH || rc == SIP_CTX_DELIVERED ||
			    rc == SIP_CTX_ABSORBED || rc == -EINVAL);
		if (rc == SIP_CTX_DELIVERED || rc == SIP_CTX_ABSORBED) {
			assert_true(str_caseeq(msg.via[0].branch, STR(BR)));
			assert_true(str_eq(msg.cseq.method, STR("INVITE")));
		}
		advance(7);
	}
	assert_true(parsed > 1000);
}

/* ------------------------------------------------------------ API */

static void test_new_errors(void **state)
{
	struct sip_peer to = peer(SIP_TP_UDP);
	struct sip_ctx *c = NULL;
	const char *r = OPTIONS_MSG;
	size_t n = strlen(r);

	(void)state;
	assert_int_equal(sip_ctx_new(&c, fx.txl, &to, STR("branch1"),
				     STR("OPTIONS"), r, n, NULL),
			 -EINVAL);
	assert_int_equal(sip_ctx_new(&c, fx.txl, &to, STR("z9hG4bK"),
				     STR("OPTIONS"), r, n, NULL),
			 -EINVAL);
	assert_int_equal(sip_ctx_new(&c, fx.txl, &to, STR("z9hG4bK a"),
				     STR("OPTIONS"), r, n, NULL),
			 -EINVAL);
	assert_int_equal(
		sip_ctx_new(&c, fx.txl, &to, STR(BR), STR("ACK"), r, n, NULL),
		-EINVAL);
	assert_int_equal(
		sip_ctx_new(&c, fx.txl, &to, STR(BR), STR(""), r, n, NULL),
		-EINVAL);
	assert_int_equal(sip_ctx_new(&c, fx.txl, &to, STR(BR), STR("OPTIONS"),
				     r, 0, NULL),
			 -EINVAL);
	assert_int_equal(
		sip_ctx_new(&c, NULL, &to, STR(BR), STR("OPTIONS"), r, n, NULL),
		-EINVAL);
	assert_int_equal(sip_ctx_new(&c, fx.txl, NULL, STR(BR), STR("OPTIONS"),
				     r, n, NULL),
			 -EINVAL);
	assert_null(c);
	assert_int_equal(fx.nsent, 0);
	/* Extension methods work (non-INVITE machine). */
	c = new_ctx(OPTIONS_MSG, "FOO", SIP_TP_UDP, NULL);
	assert_int_equal(sip_ctx_state(c), SIP_TXN_TRYING);
	assert_int_equal(rx(200, "3 FOO", "x"), SIP_CTX_DELIVERED);
	assert_true(str_eq(sip_ctx_branch(c), STR(BR)));
	assert_int_equal(sip_ctx_peer(c)->tp, SIP_TP_UDP);
}

static void test_pool_full(void **state)
{
	struct sip_txn_conf conf = sip_txn_conf_default;
	struct sip_peer to;
	struct sip_ctx *c;

	(void)state;
	teardown(NULL);
	conf.max_txn = 2;
	assert_int_equal(setup_conf(&conf), 0);
	to = peer(SIP_TP_UDP);
	new_ctx(OPTIONS_MSG, "OPTIONS", SIP_TP_UDP, NULL);
	c = new_ctx(INVITE_MSG, "INVITE", SIP_TP_UDP, NULL);
	assert_int_equal(sip_ctx_new(&c, fx.txl, &to, STR("z9hG4bKnew"),
				     STR("OPTIONS"), "x", 1, NULL),
			 -ENOSPC);
	/* Existing ones go on. */
	assert_int_equal(rx(200, "3 OPTIONS", "x"), SIP_CTX_DELIVERED);
	advance(T4);
	advance(0);
	assert_int_equal(sip_txl_count(fx.txl), 1);
	assert_int_equal(sip_ctx_new(&c, fx.txl, &to, STR("z9hG4bKnew"),
				     STR("OPTIONS"), "x", 1, NULL),
			 0);
}

/* A failed first send: no transaction, no callback. */
static void test_first_send_fails(void **state)
{
	struct sip_peer to = peer(SIP_TP_TCP);
	struct sip_ctx *c = NULL;

	(void)state;
	fx.send_rc = -EPIPE;
	assert_int_equal(sip_ctx_new(&c, fx.txl, &to, STR(BR), STR("INVITE"),
				     INVITE_MSG, strlen(INVITE_MSG), NULL),
			 -EPIPE);
	assert_null(c);
	assert_int_equal(sip_txl_count(fx.txl), 0);
	advance(0);
	assert_int_equal(fx.ngone + fx.ntimeout, 0);
}

/* UDP: a failed retransmission costs nothing; the timers go on. */
static void test_udp_send_errors_ignored(void **state)
{
	(void)state;
	new_ctx(INVITE_MSG, "INVITE", SIP_TP_UDP, NULL);
	fx.send_rc = -EAGAIN;
	advance(T1);
	fx.send_rc = 0;
	advance(2 * T1);
	assert_int_equal(fx.nsent, 2);
	assert_int_equal(fx.ntimeout, 0);
}

/* TCP: a failed CANCEL send is reported to the caller. */
static void test_tcp_cancel_send_fails(void **state)
{
	struct sip_ctx *c = new_ctx(INVITE_MSG, "INVITE", SIP_TP_TCP, NULL);

	(void)state;
	assert_int_equal(rx(180, "7 INVITE", "t"), SIP_CTX_DELIVERED);
	fx.send_rc = -ECONNRESET;
	assert_int_equal(sip_ctx_cancel(c), -ECONNRESET);
	fx.send_rc = 0;
	assert_int_equal(sip_txl_count(fx.txl), 1);
	/* The guard still ends the INVITE. */
	advance(64 * T1);
	assert_int_equal(fx.ntimeout, 1);
}

/* Callbacks may end or cancel the transaction they report: it is only
 * freed at the next safe point. */
static void test_callback_safety(void **state)
{
	struct sip_ctx *c = new_ctx(INVITE_MSG, "INVITE", SIP_TP_UDP, NULL);

	(void)state;
	fx.resp_cancels = true;
	assert_int_equal(rx(180, "7 INVITE", "t"), SIP_CTX_DELIVERED);
	assert_int_equal(fx.cb_rc, 0);
	expect_sent(1, CANCEL_MSG);
	fx.resp_cancels = false;
	fx.resp_terminates = true;
	assert_int_equal(rx(487, "7 INVITE", "t"), SIP_CTX_DELIVERED);
	assert_int_equal(sip_ctx_state(c), SIP_TXN_TERMINATED);
	assert_int_equal(rx(487, "7 INVITE", "t"), SIP_CTX_NOMATCH);
	assert_int_equal(sip_ctx_cancel(c), -ESRCH);
	advance(0);
	assert_int_equal(fx.ngone, 1);
	fx.timeout_cancels = true;
	new_ctx(INVITE_MSG, "INVITE", SIP_TP_UDP, NULL);
	advance(64 * T1);
	assert_int_equal(fx.cb_rc, -ESRCH);
}

/* Freeing the layer with live transactions frees them all, silently. */
static void test_free_with_live(void **state)
{
	struct sip_ctx *c = new_ctx(INVITE_MSG, "INVITE", SIP_TP_UDP, NULL);

	(void)state;
	assert_int_equal(rx(180, "7 INVITE", "t"), SIP_CTX_DELIVERED);
	assert_int_equal(sip_ctx_cancel(c), 0);
	new_ctx(OPTIONS_MSG, "OPTIONS", SIP_TP_UDP, NULL);
	sip_ctx_terminate(c);
	sip_txl_free(fx.txl);
	fx.txl = NULL;
	assert_int_equal(fx.ngone, 0);
	assert_int_equal(tmr_wheel_count(&fx.w), 0);
}

static bool branch_ok(const char *b)
{
	size_t i;

	if (strlen(b) != SIP_TXN_BRANCH_LEN || strncmp(b, "z9hG4bK", 7) != 0)
		return false;
	for (i = 7; b[i]; i++)
		if (!strchr("0123456789abcdef", b[i]))
			return false;
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void test_branch(void **state)
{
	enum { N = 4096 };
	static char br[N][SIP_TXN_BRANCH_LEN + 1];
	struct sip_txl *other;
	struct sip_txl_cb cb = {.send = fake_send};
	char ob[SIP_TXN_BRANCH_LEN + 1];
	unsigned i;

	(void)state;
	for (i = 0; i < N; i++) {
		assert_int_equal(sip_txl_branch(fx.txl, br[i]),
				 SIP_TXN_BRANCH_LEN);
		assert_true(branch_ok(br[i]));
	}
	qsort(br, N, sizeof(br[0]), cmp_str);
	for (i = 1; i < N; i++)
		assert_true(strcmp(br[i - 1], br[i]) != 0);
	/* Another layer has another key: its first branch differs. */
	assert_int_equal(sip_txl_new(&other, NULL, &cb, &fx.w), 0);
	sip_txl_branch(other, ob);
	assert_null(bsearch(ob, br, N, sizeof(br[0]), cmp_str));
	sip_txl_free(other);
}

static void test_txl_new_errors(void **state)
{
	struct sip_txn_conf conf = sip_txn_conf_default;
	struct sip_txl_cb cb = {.send = fake_send}, nocb = {0};
	struct sip_txl *t = NULL;
	size_t n;
	int rc;

	(void)state;
	assert_int_equal(sip_txl_new(&t, NULL, &nocb, &fx.w), -EINVAL);
	assert_int_equal(sip_txl_new(&t, NULL, &cb, NULL), -EINVAL);
	conf.t1_ms = 0;
	assert_int_equal(sip_txl_new(&t, &conf, &cb, &fx.w), -EINVAL);
	conf = sip_txn_conf_default;
	conf.t2_ms = conf.t1_ms - 1;
	assert_int_equal(sip_txl_new(&t, &conf, &cb, &fx.w), -EINVAL);
	conf = sip_txn_conf_default;
	conf.max_bytes = SIP_TXN_MAX_BYTES_MIN - 1;
	assert_int_equal(sip_txl_new(&t, &conf, &cb, &fx.w), -EINVAL);
	conf = sip_txn_conf_default;
	conf.max_txn = 0;
	assert_int_equal(sip_txl_new(&t, &conf, &cb, &fx.w), -EINVAL);
	assert_null(t);
	sip_txl_free(NULL);
	sip_txl_reap(NULL);
	/* Every allocation of the constructor may fail. */
	for (n = 1; n < 10; n++) {
		mem_fail_nth(n);
		rc = sip_txl_new(&t, NULL, &cb, &fx.w);
		mem_fail_nth(0);
		if (rc == 0) {
			sip_txl_free(t);
			break;
		}
		assert_int_equal(rc, -ENOMEM);
	}
	assert_true(n > 1 && n < 10);
}

/* Failure injection on creation, CANCEL and ACK paths. */
static void test_oom(void **state)
{
	struct sip_peer to = peer(SIP_TP_UDP);
	struct sip_ctx *c = NULL;
	unsigned n;
	int rc;

	(void)state;
	mem_fail_nth(1);
	rc = sip_ctx_new(&c, fx.txl, &to, STR(BR), STR("INVITE"), INVITE_MSG,
			 strlen(INVITE_MSG), NULL);
	mem_fail_nth(0);
	assert_int_equal(rc, -ENOMEM);
	assert_int_equal(fx.nsent, 0);
	c = new_ctx(INVITE_MSG, "INVITE", SIP_TP_UDP, NULL);
	assert_int_equal(rx(180, "7 INVITE", "t"), SIP_CTX_DELIVERED);
	/* CANCEL: the builder's buffer, then the CANCEL's transaction;
	 * a failed attempt can be retried. */
	for (n = 1;; n++) {
		mem_fail_nth(n);
		rc = sip_ctx_cancel(c);
		mem_fail_nth(0);
		if (rc == 0)
			break;
		assert_int_equal(rc, -ENOMEM);
		assert_int_equal(sip_txl_count(fx.txl), 1);
		assert_int_equal(fx.nsent, 1);
	}
	assert_true(n >= 2);
	expect_sent(1, CANCEL_MSG);
	sip_ctx_terminate(c);
	advance(0);
	/* ACK: not built for the first 486, built at the retransmission. */
	clear_sent();
	c = new_ctx(INVITE_MSG, "INVITE", SIP_TP_UDP, NULL);
	mem_fail_nth(1);
	assert_int_equal(rx(486, "7 INVITE", "t9"), SIP_CTX_DELIVERED);
	mem_fail_nth(0);
	assert_int_equal(fx.nsent, 1);
	assert_int_equal(rx(486, "7 INVITE", "t9"), SIP_CTX_ABSORBED);
	assert_int_equal(fx.nsent, 2);
	expect_sent(1, ACK_MSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_invite_timer_a_b),
		T(test_invite_provisional_then_2xx),
		T(test_invite_non2xx_ack),
		T(test_invite_reliable),
		T(test_invite_reliable_timeout),
		T(test_noninvite_timer_e_f),
		T(test_noninvite_proceeding_completed),
		T(test_noninvite_reliable),
		T(test_cancel_before_provisional),
		T(test_cancel_after_provisional_guard),
		T(test_cancel_pending_timeout),
		T(test_cancel_pending_then_final),
		T(test_cancel_errors),
		T(test_cancel_pool_full),
		T(test_hostile_responses),
		T(test_mutated_responses),
		T(test_new_errors),
		T(test_pool_full),
		T(test_first_send_fails),
		T(test_udp_send_errors_ignored),
		T(test_tcp_cancel_send_fails),
		T(test_callback_safety),
		T(test_free_with_live),
		T(test_branch),
		T(test_txl_new_errors),
		T(test_oom),
#undef T
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
