/*
 * test_dialog.c - dialog tracking on a fake clock: answered calls ended
 * by either side, CANCEL/487, rejection, forked early dialogs and a
 * second 2xx, re-INVITE target refresh and CSeq tracking (old, same,
 * new), idle / session-timer / max-duration / no-answer / unanswered
 * BYE timeouts, the pool cap, SUBSCRIBE/NOTIFY dialogs, the BYE builder
 * (parsed back), string limits, memory per dialog, and every allocation
 * failing in turn.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "test.h"
#include "core/buf.h"
#include "sip/dialog.h"
#include "sip/sip.h"

#define T0    1000
#define WALL0 1700000000000ULL

static struct tmr_wheel wheel;
static struct sip_dlgs *tab;
static struct sip_msg msg;
static char mbuf[16384];

/* What the callbacks saw; the dialog itself is gone after gc. */
struct ended {
	enum sip_dlg_reason reason;
	bool record;
	enum sip_dlg_state reached;
	char callee_tag[32];
	uint16_t final_status;
};
static struct ended ends[16];
static int nends;
static enum sip_dlg_reason expired[8];
static int nexpired;
static char byes[2][2048];
static bool send_byes;

static uint64_t fake_wall(void *arg)
{
	(void)arg;
	return WALL0 + (tmr_wheel_now(&wheel) - T0);
}

static const struct sip_dlg_bye bye_params = {
	.via_host = STR("sg.example:5060"),
	.branch = STR("z9hG4bKsg1"),
	.tp = SIP_TP_UDP,
	.self_rr = 1,
	.reason = STR("SIP;cause=200;text=\"timeout\""),
};

static void on_expire(void *arg, struct sip_dlg *d, enum sip_dlg_reason r)
{
	struct buf b;
	int s;

	(void)arg;
	expired[nexpired++] = r;
	if (!send_byes)
		return;
	for (s = 0; s < 2; s++) {
		buf_init_fixed(&b, byes[s], sizeof(byes[s]) - 1);
		assert_int_equal(sip_dlg_build_bye(d, (enum sip_dlg_side)s,
						   &bye_params, &b, NULL),
				 0);
		byes[s][b.len] = '\0';
	}
}

static void on_end(void *arg, struct sip_dlg *d)
{
	struct ended *e = &ends[nends++];

	(void)arg;
	assert_int_equal(d->state, SIP_DLG_TERMINATED);
	e->reason = d->reason;
	e->record = d->record;
	e->reached = d->reached;
	e->final_status = d->final_status;
	assert_int_equal(str_copy_cstr(e->callee_tag, sizeof(e->callee_tag),
				       sip_dlg_str(d, SIP_DLG_S_CALLEE_TAG)),
			 0);
	/* Freeing is deferred: ending again is refused, not a crash. */
	assert_int_equal(sip_dlg_end(d, SIP_DLG_END_POLICY), -EALREADY);
}

static const struct sip_dlg_cbs cbs = {on_end, on_expire, fake_wall};

static struct sip_dlg_conf conf(void)
{
	struct sip_dlg_conf c = sip_dlg_conf_default;

	c.max_dialogs = 16;
	c.max_forks = 3;
	c.setup_timeout_ms = 180000;
	c.idle_timeout_ms = 3600000;
	c.max_duration_ms = 4 * 3600000;
	c.bye_timeout_ms = 32000;
	return c;
}

static void open_tab(const struct sip_dlg_conf *c)
{
	assert_int_equal(tmr_wheel_init(&wheel, T0), 0);
	assert_int_equal(sip_dlgs_new(&tab, c, &wheel, &cbs, NULL), 0);
	nends = nexpired = 0;
	send_byes = false;
}

static int setup(void **state)
{
	struct sip_dlg_conf c = conf();

	(void)state;
	open_tab(&c);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sip_dlgs_free(tab);
	tab = NULL;
	assert_int_equal(tmr_wheel_count(&wheel), 0);
	assert_no_leaks();
	return 0;
}

static void run_to(uint64_t ms)
{
	tmr_wheel_run(&wheel, T0 + ms);
}

/* Parse text written with "\n" line ends (made CRLF here). */
static const struct sip_msg *parse(const char *fmt, ...)
{
	char tmp[sizeof(mbuf) / 2];
	struct sip_perr e;
	size_t i, n = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	for (i = 0; tmp[i]; i++) {
		if (tmp[i] == '\n')
			mbuf[n++] = '\r';
		mbuf[n++] = tmp[i];
	}
	if (sip_msg_parse(&msg, mbuf, n, NULL, 0, &e) != 0)
		fail_msg("parse: %s at %u:\n%s", e.reason, e.off, mbuf);
	return &msg;
}

static char tagbuf[2][64];

static const char *tagp(int i, const char *tag)
{
	if (!tag)
		return "";
	snprintf(tagbuf[i], sizeof(tagbuf[i]), ";tag=%s", tag);
	return tagbuf[i];
}

/* A request on call cid, From-tag ft, To-tag tt (NULL: none). */
static const struct sip_msg *rq(const char *m, const char *cid, const char *ft,
				const char *tt, unsigned cseq,
				const char *extra)
{
	return parse("%s sip:bob@10.0.0.2 SIP/2.0\n"
		     "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK%u%s\n"
		     "From: <sip:alice@a.example>%s\n"
		     "To: <sip:bob@b.example>%s\n"
		     "Call-ID: %s\nCSeq: %u %s\nMax-Forwards: 70\n%s"
		     "Content-Length: 0\n\n",
		     m, cseq, m, tagp(0, ft), tagp(1, tt), cid, cseq, m,
		     extra ? extra : "");
}

static const struct sip_msg *rs(int st, const char *m, const char *cid,
				const char *ft, const char *tt, unsigned cseq,
				const char *extra)
{
	return parse("SIP/2.0 %d X\n"
		     "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK%u%s\n"
		     "From: <sip:alice@a.example>%s\n"
		     "To: <sip:bob@b.example>%s\n"
		     "Call-ID: %s\nCSeq: %u %s\n%s"
		     "Content-Length: 0\n\n",
		     st, cseq, m, tagp(0, ft), tagp(1, tt), cid, cseq, m,
		     extra ? extra : "");
}

static struct sip_peer peer_a, peer_b;

static void init_peers(void)
{
	memset(&peer_a, 0, sizeof(peer_a));
	memset(&peer_b, 0, sizeof(peer_b));
	assert_int_equal(sg_addr_parse(&peer_a.addr, STR("192.0.2.1:5060"), 0),
			 0);
	peer_a.zone = 1;
	assert_int_equal(
		sg_addr_parse(&peer_b.addr, STR("198.51.100.7:5070"), 0), 0);
	peer_b.tp = SIP_TP_TCP;
	peer_b.conn_id = 42;
	peer_b.zone = 2;
}

static struct sip_dlg_match req_ok(const struct sip_msg *m,
				   const struct sip_peer *from)
{
	struct sip_dlg_match r;
	int rc = sip_dlg_request(tab, m, from, &r);

	if (rc)
		fail_msg("request %.*s: %d", STR_FMT(m->method), rc);
	return r;
}

static struct sip_dlg_match rsp_ok(const struct sip_msg *m,
				   const struct sip_peer *from)
{
	struct sip_dlg_match r;
	int rc = sip_dlg_response(tab, m, from, &r);

	if (rc)
		fail_msg("response %u: %d", m->status, rc);
	return r;
}

#define INV_EXTRA                                                 \
	"Contact: <sip:alice@192.0.2.1:5060;transport=udp?X=1>\n" \
	"Record-Route: <sip:up1.example;lr>\n"
#define ANS_RR                                                        \
	"Record-Route: <sip:down1.example;lr>, <sip:sg.example;lr>\n" \
	"Record-Route: <sip:up1.example;lr>\n"
#define ANS_EXTRA "Contact: <sip:bob@198.51.100.7:5070;transport=tcp>\n" ANS_RR

/* INVITE, 100, 180, 200, ACK on call cid: a confirmed dialog. */
static struct sip_dlg *answered(const char *cid, const char *ans_extra)
{
	struct sip_dlg_match m;
	struct sip_dlg *d;

	init_peers();
	m = req_ok(rq("INVITE", cid, "a1", NULL, 1, INV_EXTRA), &peer_a);
	assert_true(m.created);
	d = m.dlg;
	assert_int_equal(d->state, SIP_DLG_TRYING);
	assert_ptr_equal(
		rsp_ok(rs(100, "INVITE", cid, "a1", NULL, 1, NULL), &peer_b)
			.dlg,
		d);
	m = rsp_ok(rs(180, "INVITE", cid, "a1", "b1", 1, ANS_EXTRA), &peer_b);
	assert_ptr_equal(m.dlg, d);
	assert_false(m.created);
	assert_int_equal(d->state, SIP_DLG_EARLY);
	run_to(1500);
	m = rsp_ok(rs(200, "INVITE", cid, "a1", "b1", 1, ans_extra), &peer_b);
	assert_ptr_equal(m.dlg, d);
	assert_int_equal(m.from, SIP_DLG_CALLEE);
	assert_int_equal(d->state, SIP_DLG_CONFIRMED);
	m = req_ok(rq("ACK", cid, "a1", "b1", 1, NULL), &peer_a);
	assert_ptr_equal(m.dlg, d);
	assert_int_equal(m.cseq, SIP_DLG_CSEQ_SAME);
	return d;
}

/* ------------------------------------------------------------ lifecycles */

static void test_bye_caller(void **state)
{
	struct sip_dlg_match m;
	struct sip_dlg *d;

	(void)state;
	d = answered("c1@x", ANS_EXTRA);
	assert_string_equal(sip_dlg_kind_name(d->kind), "INVITE");
	assert_str_equal_cstr(sip_dlg_str(d, SIP_DLG_S_CALL_ID), "c1@x");
	assert_str_equal_cstr(sip_dlg_side_str(d, SIP_DLG_CALLER, 0),
			      "sip:alice@a.example");
	assert_str_equal_cstr(sip_dlg_side_str(d, SIP_DLG_CALLER, 2),
			      "sip:alice@192.0.2.1:5060;transport=udp");
	assert_str_equal_cstr(sip_dlg_side_str(d, SIP_DLG_CALLEE, 1), "b1");
	assert_str_equal_cstr(sip_dlg_side_str(d, SIP_DLG_CALLEE, 2),
			      "sip:bob@198.51.100.7:5070;transport=tcp");
	assert_int_equal(d->n_route, 3);
	assert_int_equal(d->n_up, 1);
	assert_int_equal(d->side[SIP_DLG_CALLEE].peer.zone, 2);
	assert_int_equal(d->side[SIP_DLG_CALLER].peer.zone, 1);
	assert_int_equal(d->answer_mono - d->start_mono, 1500);
	assert_int_equal(d->final_status, 200);
	assert_int_equal(sip_dlgs_count(tab, SIP_DLG_CONFIRMED), 1);
	assert_ptr_equal(
		sip_dlg_find(tab, STR("c1@x"), STR("b1"), STR("a1"), NULL), d);

	m = req_ok(rq("BYE", "c1@x", "a1", "b1", 2, NULL), &peer_a);
	assert_int_equal(m.cseq, SIP_DLG_CSEQ_NEW);
	assert_int_equal(m.from, SIP_DLG_CALLER);
	assert_int_equal(nends, 0);
	m = rsp_ok(rs(200, "BYE", "c1@x", "a1", "b1", 2, NULL), &peer_b);
	assert_int_equal(nends, 1);
	assert_int_equal(ends[0].reason, SIP_DLG_END_BYE_CALLER);
	assert_true(ends[0].record);
	assert_int_equal(ends[0].reached, SIP_DLG_CONFIRMED);
	/* Gone from lookups at once, freed at the next wheel run. */
	assert_null(sip_dlg_find(tab, STR("c1@x"), STR("a1"), STR("b1"), NULL));
	assert_int_equal(sip_dlgs_count(tab, SIP_DLG_TERMINATED), 1);
	assert_int_equal(m.dlg->last_status, 200);
	run_to(2000);
	assert_int_equal(sip_dlgs_count(tab, SIP_DLG__NSTATES), 0);
	/* A late ACK or retransmitted BYE finds nothing. */
	assert_int_equal(sip_dlg_request(tab,
					 rq("BYE", "c1@x", "a1", "b1", 2, NULL),
					 &peer_a, &m),
			 -ENOENT);
}

static void test_bye_callee(void **state)
{
	struct sip_dlg_match m;

	(void)state;
	answered("c2@x", ANS_EXTRA);
	m = req_ok(rq("BYE", "c2@x", "b1", "a1", 7, NULL), &peer_b);
	assert_int_equal(m.from, SIP_DLG_CALLEE);
	assert_int_equal(m.cseq, SIP_DLG_CSEQ_FIRST);
	assert_int_equal(m.dlg->side[SIP_DLG_CALLEE].cseq, 7);
	/* A challenge to the BYE keeps the dialog: the BYE comes again. */
	rsp_ok(rs(407, "BYE", "c2@x", "b1", "a1", 7, NULL), &peer_a);
	assert_int_equal(nends, 0);
	m = req_ok(rq("BYE", "c2@x", "b1", "a1", 8, NULL), &peer_b);
	assert_int_equal(m.cseq, SIP_DLG_CSEQ_NEW);
	m = rsp_ok(rs(200, "BYE", "c2@x", "b1", "a1", 8, NULL), &peer_a);
	assert_int_equal(m.from, SIP_DLG_CALLER);
	assert_int_equal(nends, 1);
	assert_int_equal(ends[0].reason, SIP_DLG_END_BYE_CALLEE);
}

static void test_cancel(void **state)
{
	struct sip_dlg_match m;
	struct sip_dlg *d;

	(void)state;
	init_peers();
	d = req_ok(rq("INVITE", "c3@x", "a1", NULL, 5, INV_EXTRA), &peer_a).dlg;
	rsp_ok(rs(180, "INVITE", "c3@x", "a1", "b1", 5, ANS_EXTRA), &peer_b);
	m = req_ok(rq("CANCEL", "c3@x", "a1", NULL, 5, NULL), &peer_a);
	assert_ptr_equal(m.dlg, d);
	assert_int_equal(m.cseq, SIP_DLG_CSEQ_SAME);
	assert_true(d->cancel_seen);
	/* The 200 to CANCEL changes nothing. */
	rsp_ok(rs(200, "CANCEL", "c3@x", "a1", NULL, 5, NULL), &peer_b);
	assert_int_equal(nends, 0);
	rsp_ok(rs(487, "INVITE", "c3@x", "a1", "b1", 5, NULL), &peer_b);
	assert_int_equal(nends, 1);
	assert_int_equal(ends[0].reason, SIP_DLG_END_CANCELLED);
	assert_int_equal(ends[0].final_status, 487);
	assert_int_equal(ends[0].reached, SIP_DLG_EARLY);
	assert_int_equal(sip_dlg_request(tab,
					 rq("ACK", "c3@x", "a1", "b1", 5, NULL),
					 &peer_a, &m),
			 -ENOENT);
}

static void test_reject(void **state)
{
	struct sip_dlg_match m;

	(void)state;
	init_peers();
	req_ok(rq("INVITE", "c4@x", "a1", NULL, 1, INV_EXTRA), &peer_a);
	/* The retransmission matches; a new transaction is a merge. */
	m = req_ok(rq("INVITE", "c4@x", "a1", NULL, 1, INV_EXTRA), &peer_a);
	assert_false(m.created);
	assert_int_equal(
		sip_dlg_request(tab,
				rq("INVITE", "c4@x", "a1", NULL, 2, INV_EXTRA),
				&peer_a, &m),
		-EEXIST);
	rsp_ok(rs(486, "INVITE", "c4@x", "a1", "b9", 1, NULL), &peer_b);
	assert_int_equal(nends, 1);
	assert_int_equal(ends[0].reason, SIP_DLG_END_REJECTED);
	assert_int_equal(ends[0].final_status, 486);
	assert_true(ends[0].record);
	/* After a 407 the retried INVITE is a new attempt. */
	req_ok(rq("INVITE", "c5@x", "a1", NULL, 1, INV_EXTRA), &peer_a);
	rsp_ok(rs(407, "INVITE", "c5@x", "a1", "b1", 1, NULL), &peer_b);
	m = req_ok(rq("INVITE", "c5@x", "a1", NULL, 2, INV_EXTRA), &peer_a);
	assert_true(m.created);
	assert_int_equal(nends, 2);
}

static void test_forks(void **state)
{
	struct sip_dlg_match m;
	struct sip_dlg *d;

	(void)state;
	init_peers();
	d = req_ok(rq("INVITE", "f@x", "a1", NULL, 1, INV_EXTRA), &peer_a).dlg;
	m = rsp_ok(rs(180, "INVITE", "f@x", "a1", "b1", 1, ANS_EXTRA), &peer_b);
	assert_ptr_equal(m.dlg, d);
	m = rsp_ok(rs(183, "INVITE", "f@x", "a1", "b2", 1,
		      "Contact: <sip:b2@203.0.113.5>\n"),
		   &peer_a);
	assert_true(m.created);
	assert_ptr_not_equal(m.dlg, d);
	assert_false(m.dlg->record);
	assert_int_equal(m.dlg->n_route, 0);
	assert_str_equal_cstr(sip_dlg_side_str(m.dlg, SIP_DLG_CALLEE, 2),
			      "sip:b2@203.0.113.5");
	assert_int_equal(m.dlg->side[SIP_DLG_CALLER].cseq, 1);
	assert_int_equal(sip_dlgs_count(tab, SIP_DLG_EARLY), 2);
	/* Each fork keeps its own callee address. */
	assert_int_equal(m.dlg->side[SIP_DLG_CALLEE].peer.tp, SIP_TP_UDP);
	assert_int_equal(d->side[SIP_DLG_CALLEE].peer.tp, SIP_TP_TCP);
	/* Third fork: over max_forks (3 records) is not. */
	rsp_ok(rs(180, "INVITE", "f@x", "a1", "b3", 1, NULL), &peer_a);
	assert_int_equal(
		sip_dlg_response(tab,
				 rs(180, "INVITE", "f@x", "a1", "b4", 1, NULL),
				 &peer_a, &m),
		-ENOSPC);
	/* In-dialog PRACK on fork b2 reaches that fork only. */
	m = req_ok(rq("PRACK", "f@x", "a1", "b2", 2, NULL), &peer_a);
	assert_int_equal(m.cseq, SIP_DLG_CSEQ_NEW);
	assert_int_equal(d->side[SIP_DLG_CALLER].cseq, 1);
	m = rsp_ok(rs(200, "INVITE", "f@x", "a1", "b2", 1, ANS_RR), &peer_a);
	assert_int_equal(m.dlg->state, SIP_DLG_CONFIRMED);
	assert_true(m.dlg->record);
	assert_int_equal(m.dlg->n_route, 3);
	assert_int_equal(nends, 2);
	assert_int_equal(ends[0].reason, SIP_DLG_END_FORK_LOST);
	assert_false(ends[0].record);
	assert_false(ends[1].record);
	assert_int_equal(sip_dlgs_count(tab, SIP_DLG_EARLY), 0);
	/* A second 2xx from another fork: a second, real call leg. */
	m = rsp_ok(rs(200, "INVITE", "f@x", "a1", "b5", 1, ANS_EXTRA), &peer_b);
	assert_true(m.created);
	assert_true(m.dlg->record);
	assert_int_equal(sip_dlgs_count(tab, SIP_DLG_CONFIRMED), 2);
	req_ok(rq("BYE", "f@x", "a1", "b5", 3, NULL), &peer_a);
	rsp_ok(rs(200, "BYE", "f@x", "a1", "b5", 3, NULL), &peer_b);
	assert_int_equal(nends, 3);
	assert_string_equal(ends[2].callee_tag, "b5");
	assert_int_equal(sip_dlgs_count(tab, SIP_DLG_CONFIRMED), 1);
}

static void test_reinvite_cseq(void **state)
{
	struct sip_dlg_match m;
	struct sip_dlg *d;

	(void)state;
	d = answered("r@x", ANS_EXTRA);
	m = req_ok(rq("INVITE", "r@x", "a1", "b1", 2,
		      "Contact: <sip:alice@192.0.2.99>\n"),
		   &peer_b);
	assert_int_equal(m.cseq, SIP_DLG_CSEQ_NEW);
	assert_true(m.peer_changed);
	assert_str_equal_cstr(sip_dlg_side_str(d, SIP_DLG_CALLER, 2),
			      "sip:alice@192.0.2.99");
	rsp_ok(rs(200, "INVITE", "r@x", "a1", "b1", 2,
		  "Contact: <sip:bob@198.51.100.8>\nSession-Expires: 1800;"
		  "refresher=uac\n"),
	       &peer_b);
	assert_str_equal_cstr(sip_dlg_side_str(d, SIP_DLG_CALLEE, 2),
			      "sip:bob@198.51.100.8");
	assert_int_equal(d->se_ms, 1800000);
	m = req_ok(rq("INVITE", "r@x", "a1", "b1", 2, NULL), &peer_a);
	assert_int_equal(m.cseq, SIP_DLG_CSEQ_SAME);
	assert_true(m.peer_changed);
	m = req_ok(rq("INFO", "r@x", "a1", "b1", 1, NULL), &peer_a);
	assert_int_equal(m.cseq, SIP_DLG_CSEQ_OLD);
	assert_false(m.peer_changed);
	assert_int_equal(d->side[SIP_DLG_CALLER].cseq, 2);
	/* The callee's own CSeq space is separate. */
	m = req_ok(rq("UPDATE", "r@x", "b1", "a1", 100, NULL), &peer_b);
	assert_int_equal(m.cseq, SIP_DLG_CSEQ_FIRST);
	m = req_ok(rq("INFO", "r@x", "b1", "a1", 99, NULL), &peer_b);
	assert_int_equal(m.cseq, SIP_DLG_CSEQ_OLD);
	/* A forged ACK with a huge CSeq does not move the counter. */
	m = req_ok(rq("ACK", "r@x", "a1", "b1", 1000000, NULL), &peer_a);
	assert_int_equal(m.cseq, SIP_DLG_CSEQ_NEW);
	assert_int_equal(d->side[SIP_DLG_CALLER].cseq, 2);
	/* Unknown tags, missing From-tag. */
	assert_int_equal(sip_dlg_request(tab,
					 rq("INFO", "r@x", "a1", "zz", 5, NULL),
					 &peer_a, &m),
			 -ENOENT);
	assert_int_equal(sip_dlg_request(tab,
					 rq("INFO", "r@x", NULL, "b1", 5, NULL),
					 &peer_a, &m),
			 -EINVAL);
	assert_int_equal(
		sip_dlg_request(tab, rq("OPTIONS", "o@x", "a1", NULL, 5, NULL),
				&peer_a, &m),
		-ENOENT);
	assert_int_equal(
		sip_dlg_response(tab,
				 rs(200, "OPTIONS", "o@x", "a1", "q", 5, NULL),
				 &peer_a, &m),
		-ENOENT);
}

/* ---------------------------------------------------------------- timers */

static void test_idle_timeout(void **state)
{
	struct sip_dlg_match m;

	(void)state;
	send_byes = true;
	answered("i@x", ANS_EXTRA);
	run_to(1500 + 3000000);
	req_ok(rq("INFO", "i@x", "a1", "b1", 2, NULL), &peer_a);
	run_to(1500 + 3600000 + 10);
	assert_int_equal(nends, 0);
	m = req_ok(rq("INFO", "i@x", "b1", "a1", 1, NULL), &peer_b);
	run_to(1500 + 3000000 + 3600000 + 1000);
	assert_int_equal(nends, 0);
	run_to(1500 + 3000000 + 3600000 * 2 + 1000);
	assert_int_equal(nexpired, 1);
	assert_int_equal(expired[0], SIP_DLG_END_IDLE);
	assert_int_equal(nends, 1);
	assert_int_equal(ends[0].reason, SIP_DLG_END_IDLE);
	/* on_expire built both BYEs: check the callee's. */
	assert_non_null(strstr(byes[SIP_DLG_CALLEE], "CSeq: 3 BYE\r\n"));
	assert_non_null(strstr(byes[SIP_DLG_CALLER], "CSeq: 2 BYE\r\n"));
	(void)m;
}

static void test_session_timer(void **state)
{
	struct sip_dlg *d;

	(void)state;
	d = answered("s@x", ANS_EXTRA "Session-Expires: 30\n");
	assert_int_equal(d->se_ms, 90000); /* RFC 4028 Min-SE floor */
	run_to(1500 + 80000);
	/* Refresh by re-INVITE: 2xx with Session-Expires restarts it. */
	req_ok(rq("INVITE", "s@x", "a1", "b1", 2, NULL), &peer_a);
	rsp_ok(rs(200, "INVITE", "s@x", "a1", "b1", 2,
		  "Session-Expires: 120;refresher=uac\n"),
	       &peer_b);
	run_to(1500 + 80000 + 119000);
	assert_int_equal(nends, 0);
	/* Traffic without a refresh does not keep it up. */
	req_ok(rq("INFO", "s@x", "a1", "b1", 3, NULL), &peer_a);
	run_to(1500 + 80000 + 120000);
	assert_int_equal(nends, 1);
	assert_int_equal(ends[0].reason, SIP_DLG_END_SESSION);
	assert_int_equal(expired[0], SIP_DLG_END_SESSION);
}

static void test_max_duration(void **state)
{
	struct sip_dlg_conf c = conf();
	int i;

	(void)state;
	sip_dlgs_free(tab);
	c.idle_timeout_ms = 0;
	c.max_duration_ms = 7200000;
	open_tab(&c);
	answered("m@x", ANS_EXTRA);
	for (i = 1; i < 7; i++) {
		run_to((uint64_t)i * 1000000);
		req_ok(rq("INFO", "m@x", "a1", "b1", (unsigned)i + 1, NULL),
		       &peer_a);
	}
	assert_int_equal(nends, 0);
	run_to(7200000);
	assert_int_equal(nends, 1);
	assert_int_equal(ends[0].reason, SIP_DLG_END_MAX_DURATION);
}

/* A dialog's own limit (a user class's, set by the guard) ends it
 * before the table's; forks made later inherit it; 0 removes it. */
static void test_own_max_duration(void **state)
{
	struct sip_dlg *d;

	(void)state;
	d = answered("o@x", ANS_EXTRA);
	assert_int_equal(sip_dlg_set_max_duration(d, 2000), 0);
	run_to(1900);
	assert_int_equal(nends, 0);
	run_to(2100);
	assert_int_equal(nends, 1);
	assert_int_equal(ends[0].reason, SIP_DLG_END_MAX_DURATION);
	assert_int_equal(expired[0], SIP_DLG_END_MAX_DURATION);
	assert_int_equal(sip_dlg_set_max_duration(NULL, 1000), -EINVAL);
	d = answered("p@x", ANS_EXTRA);
	assert_int_equal(sip_dlg_set_max_duration(d, 500), 0);
	assert_int_equal(sip_dlg_set_max_duration(d, 0), 0);
	run_to(60000);
	assert_int_equal(nends, 1);
	/* An ended dialog (valid until the wheel runs again) is refused. */
	assert_int_equal(sip_dlg_end(d, SIP_DLG_END_POLICY), 0);
	assert_int_equal(sip_dlg_set_max_duration(d, 1000), -EINVAL);
}

static void test_no_answer(void **state)
{
	(void)state;
	init_peers();
	req_ok(rq("INVITE", "n@x", "a1", NULL, 1, INV_EXTRA), &peer_a);
	rsp_ok(rs(180, "INVITE", "n@x", "a1", "b1", 1, NULL), &peer_b);
	rsp_ok(rs(180, "INVITE", "n@x", "a1", "b2", 1, NULL), &peer_b);
	run_to(179999);
	assert_int_equal(nends, 0);
	run_to(180000);
	assert_int_equal(nexpired, 1);
	assert_int_equal(nends, 2);
	assert_int_equal(ends[0].reason, SIP_DLG_END_NO_ANSWER);
	assert_int_equal(ends[1].reason, SIP_DLG_END_NO_ANSWER);
	assert_true(ends[0].record != ends[1].record);
	run_to(180001);
	assert_int_equal(sip_dlgs_count(tab, SIP_DLG__NSTATES), 0);
}

static void test_bye_unanswered(void **state)
{
	(void)state;
	answered("u@x", ANS_EXTRA);
	run_to(10000);
	req_ok(rq("BYE", "u@x", "b1", "a1", 1, NULL), &peer_b);
	run_to(10000 + 31999);
	assert_int_equal(nends, 0);
	run_to(10000 + 32000);
	assert_int_equal(nends, 1);
	assert_int_equal(nexpired, 0);
	assert_int_equal(ends[0].reason, SIP_DLG_END_BYE_CALLEE);
}

/* ------------------------------------------------------------- the rest */

static void test_pool_full(void **state)
{
	struct sip_dlg_conf c = conf();
	struct sip_dlg_match m;

	(void)state;
	sip_dlgs_free(tab);
	c.max_dialogs = 2;
	open_tab(&c);
	init_peers();
	req_ok(rq("INVITE", "p1@x", "a1", NULL, 1, NULL), &peer_a);
	req_ok(rq("INVITE", "p2@x", "a1", NULL, 1, NULL), &peer_a);
	assert_int_equal(
		sip_dlg_request(tab, rq("INVITE", "p3@x", "a1", NULL, 1, NULL),
				&peer_a, &m),
		-ENOSPC);
	rsp_ok(rs(180, "INVITE", "p1@x", "a1", "b1", 1, NULL), &peer_b);
	assert_int_equal(
		sip_dlg_response(tab,
				 rs(180, "INVITE", "p1@x", "a1", "b2", 1, NULL),
				 &peer_b, &m),
		-ENOSPC);
	/* An ended record holds its slot until it is freed. */
	rsp_ok(rs(603, "INVITE", "p2@x", "a1", "b1", 1, NULL), &peer_b);
	assert_int_equal(
		sip_dlg_request(tab, rq("INVITE", "p3@x", "a1", NULL, 1, NULL),
				&peer_a, &m),
		-ENOSPC);
	sip_dlgs_gc(tab);
	req_ok(rq("INVITE", "p3@x", "a1", NULL, 1, NULL), &peer_a);
	assert_int_equal(sip_dlgs_count(tab, SIP_DLG__NSTATES), 2);
}

static void test_subscribe(void **state)
{
	struct sip_dlg_match m;
	struct sip_dlg *d;

	(void)state;
	init_peers();
	d = req_ok(rq("SUBSCRIBE", "sub@x", "s1", NULL, 1,
		      "Event: presence\nContact: <sip:alice@192.0.2.1>\n"),
		   &peer_a)
		    .dlg;
	assert_int_equal(d->kind, SIP_DLG_SUBSCRIBE);
	/* The NOTIFY may overtake the 2xx: it makes the dialog. */
	m = req_ok(rq("NOTIFY", "sub@x", "n1", "s1", 1,
		      "Event: presence\nSubscription-State: active\n"
		      "Contact: <sip:pres@198.51.100.7>\n"),
		   &peer_b);
	assert_ptr_equal(m.dlg, d);
	assert_false(m.created);
	assert_int_equal(m.from, SIP_DLG_CALLEE);
	assert_int_equal(d->state, SIP_DLG_CONFIRMED);
	assert_str_equal_cstr(sip_dlg_side_str(d, SIP_DLG_CALLEE, 2),
			      "sip:pres@198.51.100.7");
	m = rsp_ok(rs(202, "SUBSCRIBE", "sub@x", "s1", "n1", 1, NULL), &peer_b);
	assert_ptr_equal(m.dlg, d);
	rsp_ok(rs(200, "NOTIFY", "sub@x", "n1", "s1", 1, NULL), &peer_a);
	req_ok(rq("NOTIFY", "sub@x", "n1", "s1", 2,
		  "Event: presence\nSubscription-State: terminated;"
		  "reason=timeout\n"),
	       &peer_b);
	assert_int_equal(nends, 0);
	rsp_ok(rs(200, "NOTIFY", "sub@x", "n1", "s1", 2, NULL), &peer_a);
	assert_int_equal(nends, 1);
	assert_int_equal(ends[0].reason, SIP_DLG_END_SUBSCRIPTION);
	/* A NOTIFY for an INVITE dialog's call never makes a dialog. */
	req_ok(rq("INVITE", "sub2@x", "s1", NULL, 1, NULL), &peer_a);
	assert_int_equal(
		sip_dlg_request(tab,
				rq("NOTIFY", "sub2@x", "n1", "s1", 1, NULL),
				&peer_b, &m),
		-ENOENT);
	/* REFER out of dialog makes one too, 202 confirms. */
	d = req_ok(rq("REFER", "ref@x", "s1", NULL, 1, NULL), &peer_a).dlg;
	assert_int_equal(d->kind, SIP_DLG_REFER);
	rsp_ok(rs(202, "REFER", "ref@x", "s1", "n2", 1, NULL), &peer_b);
	assert_int_equal(d->state, SIP_DLG_CONFIRMED);
}

/* Record-Route in the 2xx: down1, sg (us), up1.  Caller side n_up = 1. */
static void test_build_bye(void **state)
{
	struct sip_dlg_bye p = bye_params;
	struct sip_msg b;
	struct sip_perr e;
	struct sip_dlg *d;
	struct buf out;
	uint32_t cseq;

	(void)state;
	d = answered("b@x", ANS_EXTRA);
	req_ok(rq("INFO", "b@x", "b1", "a1", 41, NULL), &peer_b);
	buf_init(&out, 4096);
	assert_int_equal(sip_dlg_build_bye(d, SIP_DLG_CALLEE, &p, &out, &cseq),
			 0);
	assert_int_equal(cseq, 2);
	assert_int_equal(sip_msg_parse(&b, out.p, out.len, NULL, 0, &e), 0);
	assert_int_equal(b.mid, SIP_METHOD_BYE);
	assert_str_equal_cstr(b.ruri_raw,
			      "sip:bob@198.51.100.7:5070;transport=tcp");
	assert_int_equal(b.nroute, 1);
	assert_str_equal_cstr(b.route[0].raw, "<sip:down1.example;lr>");
	assert_str_equal_cstr(b.from.tag, "a1");
	assert_str_equal_cstr(b.from.uri.raw, "sip:alice@a.example");
	assert_str_equal_cstr(b.to.tag, "b1");
	assert_str_equal_cstr(b.call_id, "b@x");
	assert_int_equal(b.cseq.num, 2);
	assert_int_equal(b.cseq.mid, SIP_METHOD_BYE);
	assert_str_equal_cstr(b.via[0].branch, "z9hG4bKsg1");
	assert_non_null(sip_msg_hdr_by_name(&b, STR("Reason")));
	assert_int_equal(d->side[SIP_DLG_CALLER].cseq, 2);

	buf_reset(&out);
	assert_int_equal(sip_dlg_build_bye(d, SIP_DLG_CALLER, &p, &out, &cseq),
			 0);
	assert_int_equal(cseq, 42);
	assert_int_equal(sip_msg_parse(&b, out.p, out.len, NULL, 0, &e), 0);
	assert_str_equal_cstr(b.ruri_raw,
			      "sip:alice@192.0.2.1:5060;transport=udp");
	assert_int_equal(b.nroute, 1);
	assert_str_equal_cstr(b.route[0].raw, "<sip:up1.example;lr>");
	assert_str_equal_cstr(b.from.tag, "b1");
	assert_str_equal_cstr(b.to.tag, "a1");
	assert_str_equal_cstr(b.to.uri.raw, "sip:alice@a.example");

	/* Double record-routing: two entries of ours, nothing below. */
	buf_reset(&out);
	p.self_rr = 2;
	p.reason = STR_NULL;
	assert_int_equal(sip_dlg_build_bye(d, SIP_DLG_CALLEE, &p, &out, NULL),
			 0);
	assert_null(memmem(out.p, out.len, "Route:", 6));
	assert_null(memmem(out.p, out.len, "Reason:", 7));
	/* Header injection through a parameter is refused. */
	buf_reset(&out);
	p.reason = STR("x\r\nEvil: 1");
	assert_int_equal(sip_dlg_build_bye(d, SIP_DLG_CALLEE, &p, &out, NULL),
			 -EINVAL);
	p = bye_params;
	p.branch = STR("z9 x");
	assert_int_equal(sip_dlg_build_bye(d, SIP_DLG_CALLEE, &p, &out, NULL),
			 -EINVAL);
	assert_int_equal(out.len, 0);
	buf_free(&out);
	/* A buffer too small leaves it as it was and the CSeq unused. */
	{
		char small[64];

		buf_init_fixed(&out, small, sizeof(small));
		assert_int_equal(buf_append_cstr(&out, "keep"), 0);
		assert_int_not_equal(sip_dlg_build_bye(d, SIP_DLG_CALLEE,
						       &bye_params, &out, NULL),
				     0);
		assert_int_equal(out.len, 4);
		assert_int_equal(d->side[SIP_DLG_CALLER].cseq, 3);
	}
}

static void test_policy_end_and_iter(void **state)
{
	struct sip_dlgs_iter it;
	struct sip_dlg *d;
	int n = 0;

	(void)state;
	answered("e1@x", ANS_EXTRA);
	answered("e2@x", ANS_EXTRA);
	sip_dlgs_iter_init(&it, tab);
	while ((d = sip_dlgs_iter_next(&it)) != NULL) {
		n++;
		assert_int_equal(sip_dlg_end(d, SIP_DLG_END_POLICY), 0);
	}
	assert_int_equal(n, 2);
	assert_int_equal(nends, 2);
	assert_int_equal(ends[1].reason, SIP_DLG_END_POLICY);
	assert_int_equal(sip_dlg_end(NULL, SIP_DLG_END_POLICY), -EINVAL);
	assert_string_equal(sip_dlg_reason_name(SIP_DLG_END_IDLE),
			    "timeout:idle");
	assert_string_equal(sip_dlg_state_name(SIP_DLG_EARLY), "early");
}

static void test_limits_and_args(void **state)
{
	static char big[3000];
	struct sip_dlg_conf c = conf();
	struct sip_dlg_match m;
	struct sip_dlgs *t2;
	char extra[3200];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	/* 2999 bytes of Call-ID + 1100 bytes of Contact > 4096. */
	snprintf(extra, sizeof(extra), "Contact: <sip:%.*s@h>\n", 1090, big);
	init_peers();
	assert_int_equal(
		sip_dlg_request(tab, rq("INVITE", big, "a1", NULL, 1, extra),
				&peer_a, &m),
		-E2BIG);
	assert_int_equal(sip_dlgs_count(tab, SIP_DLG__NSTATES), 0);
	c.max_forks = SIP_DLG_MAX_FORKS + 1;
	assert_int_equal(sip_dlgs_new(&t2, &c, &wheel, NULL, NULL), -EINVAL);
	c = conf();
	c.max_dialogs = 0;
	assert_int_equal(sip_dlgs_new(&t2, &c, &wheel, NULL, NULL), -EINVAL);
	assert_int_equal(sip_dlg_request(NULL, &msg, NULL, &m), -EINVAL);
	sip_dlgs_free(NULL);
	assert_null(sip_dlg_find(NULL, STR("a"), STR("b"), STR("c"), NULL));
	assert_int_equal(sip_dlg_mem(NULL), 0);
}

/* The benchmark's number: bytes per confirmed dialog, typical strings. */
static void test_memory(void **state)
{
	struct sip_dlg *d;
	size_t bytes;

	(void)state;
	d = answered(
		"a84b4c76e66710@pc33.atlanta.example.com",
		"Contact: <sip:bob@198.51.100.7:5070;transport=tcp>\n" ANS_RR);
	bytes = sip_dlg_mem(d) + sizeof(void *); /* + a hash bucket */
	print_message("memory per confirmed dialog: %zu bytes "
		      "(record %zu, strings %u)\n",
		      bytes, sizeof(*d), (unsigned)d->sb_len);
	assert_true(bytes <= 2048);
}

/* One whole call; every step may fail only with -ENOMEM. */
static int scenario(void)
{
	static const struct {
		bool req;
		int st;
		const char *m, *ft, *tt;
		unsigned cseq;
		const char *extra;
	} steps[] = {
		{true, 0, "INVITE", "a1", NULL, 1, INV_EXTRA},
		{false, 180, "INVITE", "a1", "b1", 1, ANS_EXTRA},
		{false, 183, "INVITE", "a1", "b2", 1, ANS_EXTRA},
		{false, 200, "INVITE", "a1", "b2", 1, ANS_EXTRA},
		{false, 200, "INVITE", "a1", "b3", 1, ANS_EXTRA},
		{true, 0, "INVITE", "a1", "b2", 2, "Contact: <sip:z@h>\n"},
		{false, 200, "INVITE", "a1", "b2", 2, "Contact: <sip:y@h>\n"},
		{true, 0, "BYE", "b2", "a1", 1, NULL},
		{false, 200, "BYE", "b2", "a1", 1, NULL},
	};
	struct sip_dlg_match m;
	size_t i;
	int rc, fails = 0;

	init_peers();
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (steps[i].req)
			rc = sip_dlg_request(tab,
					     rq(steps[i].m, "fi@x", steps[i].ft,
						steps[i].tt, steps[i].cseq,
						steps[i].extra),
					     &peer_a, &m);
		else
			rc = sip_dlg_response(
				tab,
				rs(steps[i].st, steps[i].m, "fi@x", steps[i].ft,
				   steps[i].tt, steps[i].cseq, steps[i].extra),
				&peer_b, &m);
		if (rc == -ENOMEM)
			fails++;
		else if (rc != 0 && rc != -ENOENT)
			fail_msg("step %zu: %d", i, rc);
	}
	return fails;
}

static void test_alloc_failures(void **state)
{
	size_t n;
	int fails;

	(void)state;
	for (n = 1; n < 100; n++) {
		mem_fail_nth(n);
		fails = scenario();
		mem_fail_nth(0);
		sip_dlgs_free(tab);
		assert_no_leaks();
		{
			struct sip_dlg_conf c = conf();

			open_tab(&c);
		}
		if (!fails)
			break;
	}
	assert_true(n > 3 && n < 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bye_caller, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bye_callee, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reject, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reinvite_cseq, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_idle_timeout, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_session_timer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_max_duration, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_own_max_duration, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_answer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bye_unanswered, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pool_full, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_subscribe, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_build_bye, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_policy_end_and_iter, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_limits_and_args, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_failures, setup,
						teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
