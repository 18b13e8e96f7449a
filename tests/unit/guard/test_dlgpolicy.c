/*
 * test_dlgpolicy.c - call-state policy decisions: in-dialog requests
 * (unknown dialog, source, CSeq, ACK, every rebind policy, trusted and
 * untrusted, drop or 481), CANCEL, peer comparison (UDP port, TCP
 * connection, zone, transport), media addresses of re-offers (hold,
 * own IP, allowed prefixes, other IPs, host names, disabled streams,
 * bad SDP), registration Contacts and moves (move_hold, fake clock),
 * rule names and their events.  Pure functions: no clock, no I/O.
 */
#include <errno.h>
#include <stdio.h>

#include "test.h"
#include "guard/dlgpolicy.h"

static struct sip_peer P(const char *ip, uint16_t port, enum sip_tp tp,
			 uint64_t conn, uint16_t zone) {
	struct sip_peer p;

	memset(&p, 0, sizeof(p));
	assert_int_equal(sg_addr_from_host(&p.addr, str_cstr(ip), port), 0);
	p.tp = tp;
	p.conn_id = conn;
	p.zone = zone;
	return p;
}

static void
test_peer_cmp(void **state)
{
	static const struct {
		const char *ip;
		uint16_t port;
		enum sip_tp tp;
		uint64_t conn;
		uint16_t zone;
		enum dg_peer want;
	} t[] = {
		{"192.0.2.1", 5060, SIP_TP_UDP, 0, 0, DG_PEER_SAME},
		{"192.0.2.1", 5062, SIP_TP_UDP, 0, 0, DG_PEER_SAME_IP},
		{"192.0.2.2", 5060, SIP_TP_UDP, 0, 0, DG_PEER_OTHER},
		{"192.0.2.1", 5060, SIP_TP_TCP, 0, 0, DG_PEER_OTHER},
		{"192.0.2.1", 5060, SIP_TP_UDP, 0, 1, DG_PEER_OTHER},
		{"2001:db8::1", 5060, SIP_TP_UDP, 0, 0, DG_PEER_OTHER},
	};
	struct sip_peer k = P("192.0.2.1", 5060, SIP_TP_UDP, 0, 0), a, b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		a = P(t[i].ip, t[i].port, t[i].tp, t[i].conn, t[i].zone);
		assert_int_equal(dg_peer_cmp(&k, &a), t[i].want);
	}
	/* TCP: the connection, not the port, is the flow. */
	a = P("192.0.2.1", 40000, SIP_TP_TCP, 7, 0);
	b = P("192.0.2.1", 40000, SIP_TP_TCP, 7, 0);
	assert_int_equal(dg_peer_cmp(&a, &b), DG_PEER_SAME);
	b.conn_id = 8;
	assert_int_equal(dg_peer_cmp(&a, &b), DG_PEER_SAME_IP);
}

/* One in-dialog request and what must come of it. */
struct dcase {
	const char *name;
	enum dg_rebind rebind;
	bool drop; /* conf: drop for untrusted */
	enum sip_method mid;
	bool found, trusted, has_peer;
	enum dg_peer peer;
	bool has_cseq;
	uint32_t last, cseq;
	bool authed, tried;
	enum dg_result res;
	const char *rule;
	bool out_drop;
};

static const struct dcase dcases[] = {
	{"bye ok", DG_REBIND_SAME_IP, true, SIP_METHOD_BYE, true, false, true,
	 DG_PEER_SAME, true, 1, 2, false, false, DG_OK, NULL, false},
	{"bye from third address", DG_REBIND_SAME_IP, true, SIP_METHOD_BYE,
	 true, false, true, DG_PEER_OTHER, true, 1, 2, false, false, DG_REFUSE,
	 DG_RULE_BYE_SOURCE, true},
	{"bye third address, reply mode", DG_REBIND_SAME_IP, false,
	 SIP_METHOD_BYE, true, false, true, DG_PEER_OTHER, true, 1, 2, false,
	 false, DG_REFUSE, DG_RULE_BYE_SOURCE, false},
	{"bye replayed cseq", DG_REBIND_SAME_IP, true, SIP_METHOD_BYE, true,
	 false, true, DG_PEER_SAME, true, 5, 5, false, false, DG_REFUSE,
	 DG_RULE_BYE_CSEQ, true},
	{"bye old cseq", DG_REBIND_SAME_IP, true, SIP_METHOD_BYE, true, false,
	 true, DG_PEER_SAME, true, 5, 3, false, false, DG_REFUSE,
	 DG_RULE_BYE_CSEQ, true},
	{"bye unknown dialog", DG_REBIND_SAME_IP, true, SIP_METHOD_BYE, false,
	 false, false, DG_PEER_OTHER, false, 0, 2, false, false, DG_REFUSE,
	 DG_RULE_BYE_UNKNOWN, true},
	{"unknown from trusted: routed", DG_REBIND_SAME_IP, true,
	 SIP_METHOD_BYE, false, true, false, DG_PEER_OTHER, false, 0, 2, false,
	 false, DG_OK, NULL, false},
	{"notify may create", DG_REBIND_SAME_IP, true, SIP_METHOD_NOTIFY, false,
	 false, false, DG_PEER_OTHER, false, 0, 1, false, false, DG_OK, NULL,
	 false},
	{"info unknown", DG_REBIND_SAME_IP, true, SIP_METHOD_INFO, false, false,
	 false, DG_PEER_OTHER, false, 0, 1, false, false, DG_REFUSE,
	 DG_RULE_HIJACK_UNKNOWN, true},
	{"callee first request", DG_REBIND_SAME_IP, true, SIP_METHOD_BYE, true,
	 false, true, DG_PEER_SAME, false, 0, 1, false, false, DG_OK, NULL,
	 false},
	{"reinvite forward", DG_REBIND_NEVER, true, SIP_METHOD_INVITE, true,
	 false, true, DG_PEER_SAME, true, 1, 2, false, false, DG_OK, NULL,
	 false},
	{"reinvite other source", DG_REBIND_SAME_IP, true, SIP_METHOD_INVITE,
	 true, false, true, DG_PEER_OTHER, true, 1, 2, false, false, DG_REFUSE,
	 DG_RULE_HIJACK_SOURCE, true},
	{"update old cseq", DG_REBIND_SAME_IP, true, SIP_METHOD_UPDATE, true,
	 false, true, DG_PEER_SAME, true, 9, 2, false, false, DG_REFUSE,
	 DG_RULE_HIJACK_CSEQ, true},
	{"ack same cseq", DG_REBIND_SAME_IP, true, SIP_METHOD_ACK, true, false,
	 true, DG_PEER_SAME, true, 4, 4, false, false, DG_OK, NULL, false},
	{"ack other cseq", DG_REBIND_SAME_IP, false, SIP_METHOD_ACK, true,
	 false, true, DG_PEER_SAME, true, 4, 5, false, false, DG_REFUSE,
	 DG_RULE_HIJACK_CSEQ, true},
	{"ack never answered, even trusted", DG_REBIND_ANY, false,
	 SIP_METHOD_ACK, true, true, true, DG_PEER_SAME, true, 4, 3, false,
	 false, DG_REFUSE, DG_RULE_HIJACK_CSEQ, true},
	{"same-ip: port changed", DG_REBIND_SAME_IP, true, SIP_METHOD_BYE, true,
	 false, true, DG_PEER_SAME_IP, true, 1, 2, false, false, DG_REBIND,
	 DG_RULE_REBIND, false},
	{"never: port changed", DG_REBIND_NEVER, true, SIP_METHOD_BYE, true,
	 false, true, DG_PEER_SAME_IP, true, 1, 2, false, false, DG_REFUSE,
	 DG_RULE_BYE_SOURCE, true},
	{"any: new address", DG_REBIND_ANY, true, SIP_METHOD_INFO, true, false,
	 true, DG_PEER_OTHER, true, 1, 2, false, false, DG_REBIND,
	 DG_RULE_REBIND, false},
	{"any but cseq old", DG_REBIND_ANY, true, SIP_METHOD_INFO, true, false,
	 true, DG_PEER_OTHER, true, 3, 2, false, false, DG_REFUSE,
	 DG_RULE_HIJACK_CSEQ, true},
	{"authenticated: ask", DG_REBIND_AUTH, true, SIP_METHOD_BYE, true,
	 false, true, DG_PEER_OTHER, true, 1, 2, false, false, DG_NEED_AUTH,
	 NULL, false},
	{"authenticated: verified", DG_REBIND_AUTH, true, SIP_METHOD_BYE, true,
	 false, true, DG_PEER_OTHER, true, 1, 2, true, true, DG_REBIND,
	 DG_RULE_REBIND, false},
	{"authenticated: tried, not verified", DG_REBIND_AUTH, true,
	 SIP_METHOD_BYE, true, false, true, DG_PEER_OTHER, true, 1, 2, false,
	 true, DG_REFUSE, DG_RULE_BYE_SOURCE, true},
	{"authenticated: same ip", DG_REBIND_AUTH, true, SIP_METHOD_BYE, true,
	 false, true, DG_PEER_SAME_IP, true, 1, 2, false, false, DG_REBIND,
	 DG_RULE_REBIND, false},
	{"no peer known yet", DG_REBIND_NEVER, true, SIP_METHOD_PRACK, true,
	 false, false, DG_PEER_OTHER, true, 1, 2, false, false, DG_OK, NULL,
	 false},
};

static void test_dialog_cases(void **state)
{
	struct dg_conf c;
	struct dg_in in;
	struct dg_out o;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(dcases) / sizeof(dcases[0]); i++) {
		const struct dcase *t = &dcases[i];

		dg_conf_default(&c);
		c.rebind = t->rebind;
		c.rebind_trusted = t->rebind;
		c.drop_untrusted = t->drop;
		memset(&in, 0, sizeof(in));
		in.mid = t->mid;
		in.found = t->found;
		in.trusted = t->trusted;
		in.has_peer = t->has_peer;
		in.peer = t->peer;
		in.has_cseq = t->has_cseq;
		in.last_cseq = t->last;
		in.cseq = t->cseq;
		in.authenticated = t->authed;
		in.auth_tried = t->tried;
		dg_check(&c, &in, &o);
		if (o.res != t->res)
			fail_msg("%s: result %d, want %d", t->name, o.res,
				 t->res);
		if (t->rule && (!o.rule || strcmp(o.rule, t->rule) != 0))
			fail_msg("%s: rule %s, want %s", t->name,
				 o.rule ? o.rule : "(null)", t->rule);
		if (o.res == DG_REFUSE && o.drop != t->out_drop)
			fail_msg("%s: drop %d", t->name, o.drop);
		/* Switched off, nothing is judged. */
		c.enforce = false;
		dg_check(&c, &in, &o);
		assert_int_equal(o.res, DG_OK);
	}
}

static void test_trusted_auth_is_same_ip(void **state)
{
	struct dg_conf c;
	struct dg_in in = {.mid = SIP_METHOD_BYE,
			   .found = true,
			   .trusted = true,
			   .has_peer = true,
			   .peer = DG_PEER_OTHER};
	struct dg_out o;

	(void)state;
	dg_conf_default(&c);
	c.rebind_trusted = DG_REBIND_AUTH;
	dg_check(&c, &in, &o);
	assert_int_equal(o.res, DG_REFUSE);
	assert_false(o.drop); /* trusted: always 481 */
	in.peer = DG_PEER_SAME_IP;
	dg_check(&c, &in, &o);
	assert_int_equal(o.res, DG_REBIND);
	/* The default for trusted parties: any (a PBX cluster). */
	dg_conf_default(&c);
	in.peer = DG_PEER_OTHER;
	dg_check(&c, &in, &o);
	assert_int_equal(o.res, DG_REBIND);
}

static void test_cancel(void **state)
{
	static const struct {
		bool found, trusted, drop;
		enum dg_peer peer;
		enum dg_result res;
		const char *rule;
		bool out_drop;
	} t[] = {
		{true, false, true, DG_PEER_SAME, DG_OK, NULL, false},
		{true, false, true, DG_PEER_SAME_IP, DG_REFUSE,
		 DG_RULE_CANCEL_SOURCE, true},
		{true, false, false, DG_PEER_OTHER, DG_REFUSE,
		 DG_RULE_CANCEL_SOURCE, false},
		/* trusted: rebind_trusted (any by default) */
		{true, true, true, DG_PEER_OTHER, DG_OK, NULL, false},
		{true, true, true, DG_PEER_SAME_IP, DG_OK, NULL, false},
		{false, false, true, DG_PEER_OTHER, DG_REFUSE,
		 DG_RULE_CANCEL_UNKNOWN, true},
	};
	struct dg_conf c;
	struct dg_out o;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		dg_conf_default(&c);
		c.drop_untrusted = t[i].drop;
		dg_check_cancel(&c, t[i].found, t[i].trusted, t[i].peer, &o);
		assert_int_equal(o.res, t[i].res);
		if (t[i].rule) {
			assert_string_equal(o.rule, t[i].rule);
			assert_int_equal(o.drop, t[i].out_drop);
		}
	}
	/* trusted with rebind_trusted never/same-ip */
	dg_conf_default(&c);
	c.rebind_trusted = DG_REBIND_NEVER;
	dg_check_cancel(&c, true, true, DG_PEER_SAME_IP, &o);
	assert_int_equal(o.res, DG_REFUSE);
	assert_false(o.drop);
	c.rebind_trusted = DG_REBIND_SAME_IP;
	dg_check_cancel(&c, true, true, DG_PEER_SAME_IP, &o);
	assert_int_equal(o.res, DG_OK);
	dg_check_cancel(&c, true, true, DG_PEER_OTHER, &o);
	assert_int_equal(o.res, DG_REFUSE);
	dg_check_cancel(&c, false, true, DG_PEER_OTHER, &o);
	assert_int_equal(o.res, DG_REFUSE);
	assert_string_equal(o.rule, DG_RULE_CANCEL_UNKNOWN);
}

static const char *sdp_with(const char *sess_c, const char *media)
{
	static char b[1024];

	snprintf(b, sizeof(b),
		 "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n%st=0 0\r\n%s",
		 sess_c, media);
	return b;
}

static void test_media(void **state)
{
	static const struct {
		const char *sess_c, *media;
		int want;
	} t[] = {
		{"c=IN IP4 192.0.2.1\r\n", "m=audio 4000 RTP/AVP 0\r\n", 0},
		{"c=IN IP4 0.0.0.0\r\n", "m=audio 4000 RTP/AVP 0\r\n", 0},
		{"c=IN IP4 203.0.113.66\r\n", "m=audio 4000 RTP/AVP 0\r\n",
		 -EPERM},
		{"c=IN IP4 198.51.100.7\r\n", "m=audio 4000 RTP/AVP 0\r\n",
		 0}, /* allowed prefix */
		{"c=IN IP4 192.0.2.1\r\n",
		 "m=audio 4000 RTP/AVP 0\r\nc=IN IP4 203.0.113.66\r\n", -EPERM},
		{"c=IN IP4 203.0.113.66\r\n", "m=audio 0 RTP/AVP 0\r\n", 0},
		/* The SDP parser refuses a name in IP4 c=: refused too. */
		{"c=IN IP4 media.example.com\r\n", "m=audio 4000 RTP/AVP 0\r\n",
		 -EINVAL},
		{"", "m=audio 4000 RTP/AVP 0\r\n", -EPERM},
		{"c=IN IP6 ::\r\n", "m=audio 4000 RTP/AVP 0\r\n", 0},
	};
	struct sg_addr sig;
	struct dg_conf c;
	const char *why;
	size_t i;

	(void)state;
	dg_conf_default(&c);
	assert_int_equal(
		gate_cidr_parse(&c.media[0], STR("198.51.100.0/24"), &why), 0);
	c.nmedia = 1;
	assert_int_equal(sg_addr_from_host(&sig, STR("192.0.2.1"), 5060), 0);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc = dg_media_check(
			&c, str_cstr(sdp_with(t[i].sess_c, t[i].media)), &sig,
			&why);

		if (rc != t[i].want)
			fail_msg("case %zu: %d, want %d", i, rc, t[i].want);
		if (rc)
			assert_non_null(why);
	}
	assert_int_equal(dg_media_check(&c, STR("garbage"), &sig, &why),
			 -EINVAL);
	assert_int_equal(dg_media_check(&c, STR_NULL, &sig, &why), 0);
	c.media_check = false;
	assert_int_equal(
		dg_media_check(&c,
			       str_cstr(sdp_with("c=IN IP4 203.0.113.66\r\n",
						 "m=audio 4000 RTP/AVP 0\r\n")),
			       &sig, &why),
		0);
}

static void test_contacts(void **state)
{
	static const struct {
		const char *ip;
		bool priv, want;
	} t[] = {
		{"203.0.113.9", false, true}, /* in the list */
		{"198.51.100.1", false, false}, {"10.1.2.3", false, false},
		{"10.1.2.3", true, true},       {"192.168.1.1", true, true},
		{"172.31.0.1", true, true},     {"172.32.0.1", true, false},
		{"127.0.0.1", true, true},      {"100.64.0.1", true, true},
		{"169.254.1.1", true, true},    {"::1", true, true},
		{"fd00::1", true, true},        {"2001:db8::1", true, false},
		{"8.8.8.8", true, false},
	};
	struct rg_conf c;
	struct sg_addr a;
	const char *why;
	size_t i;

	(void)state;
	rg_conf_default(&c);
	assert_int_equal(c.max_bindings, 10);
	assert_int_equal(
		gate_cidr_parse(&c.forbidden[0], STR("203.0.113.0/24"), &why),
		0);
	c.nforbidden = 1;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		c.forbid_private = t[i].priv;
		assert_int_equal(sg_addr_from_host(&a, str_cstr(t[i].ip), 5060),
				 0);
		if (rg_contact_forbidden(&c, &a) != t[i].want)
			fail_msg("%s: want %d", t[i].ip, t[i].want);
	}
}

static void test_moves(void **state)
{
	struct sip_peer k = P("192.0.2.1", 5060, SIP_TP_UDP, 0, 0);
	struct sip_peer port = P("192.0.2.1", 5070, SIP_TP_UDP, 0, 0);
	struct sip_peer other = P("203.0.113.66", 5060, SIP_TP_UDP, 0, 0);
	struct rg_conf c;

	(void)state;
	rg_conf_default(&c);
	/* No hold: a move is allowed (and reported by the caller). */
	assert_int_equal(rg_move_check(&c, &k, 1, 1000, &k, 1, 2000), RG_SAME);
	assert_int_equal(rg_move_check(&c, &k, 1, 1000, &other, 1, 2000),
			 RG_MOVED);
	assert_int_equal(rg_move_check(&c, &k, 1, 1000, &k, 2, 2000), RG_MOVED);
	/* A 60 s hold, fake clock. */
	c.move_hold_ms = 60000;
	assert_int_equal(rg_move_check(&c, &k, 1, 1000, &k, 1, 2000), RG_SAME);
	assert_int_equal(rg_move_check(&c, &k, 1, 1000, &other, 1, 2000),
			 RG_HELD);
	assert_int_equal(rg_move_check(&c, &k, 1, 1000, &port, 1, 60999),
			 RG_HELD);
	assert_int_equal(rg_move_check(&c, &k, 1, 1000, &port, 1, 61000),
			 RG_MOVED);
	assert_int_equal(rg_move_check(&c, &k, 1, 1000, &k, 9, 30000), RG_HELD);
}

static void test_names(void **state)
{
	static const struct {
		const char *rule, *event;
	} t[] = {
		{DG_RULE_BYE_SOURCE, "spoofed-bye"},
		{DG_RULE_BYE_UNKNOWN, "spoofed-bye"},
		{DG_RULE_CANCEL_SOURCE, "spoofed-cancel"},
		{DG_RULE_HIJACK_CSEQ, "dialog-hijack"},
		{DG_RULE_MEDIA, "media-redirect"},
		{DG_RULE_REBIND, "dialog-rebind"},
		{DG_RULE_REG_MOVED, "registration-moved"},
		{DG_RULE_REG_HOLD, "registration-moved"},
		{DG_RULE_REG_HIJACK, "registration-hijack"},
		{DG_RULE_REG_LIMIT, "registration-limit"},
		{DG_RULE_REG_CONTACT, "forbidden-contact"},
	};
	enum dg_rebind r;
	size_t i, n = 0;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_string_equal(dlgpolicy_event(t[i].rule), t[i].event);
	assert_null(dlgpolicy_event("scanner-ua"));
	assert_null(dlgpolicy_event(NULL));
	for (i = 0; dlgpolicy_rules[i]; i++) {
		assert_non_null(dlgpolicy_event(dlgpolicy_rules[i]));
		n++;
	}
	assert_int_equal(n, 15);
	assert_int_equal(dg_rebind_parse(&r, "authenticated"), 0);
	assert_int_equal(r, DG_REBIND_AUTH);
	assert_int_equal(dg_rebind_parse(&r, "same-ip"), 0);
	assert_int_equal(r, DG_REBIND_SAME_IP);
	assert_int_equal(dg_rebind_parse(&r, "sometimes"), -EINVAL);
	assert_int_equal(dg_rebind_parse(&r, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peer_cmp),
		cmocka_unit_test(test_dialog_cases),
		cmocka_unit_test(test_trusted_auth_is_same_ip),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_media),
		cmocka_unit_test(test_contacts),
		cmocka_unit_test(test_moves),
		cmocka_unit_test(test_names),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
