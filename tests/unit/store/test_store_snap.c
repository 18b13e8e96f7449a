/*
 * test_store_snap.c - binding records, dialog snapshots and bindings
 * channel messages (store_snap.c): round trips, exact encodings, and a
 * table of hostile records (what anyone able to write to Redis could
 * put there).
 */
#include "test.h"

#include <errno.h>
#include <stdio.h>

#include "store/store.h"

static struct store_binding binding(void)
{
	struct store_binding b;

	memset(&b, 0, sizeof(b));
	b.token = str_cstr("740c20ee48d3af49");
	b.owner = str_cstr("a");
	b.handoff = str_cstr("udp:127.0.0.21:37570");
	b.flow = str_cstr("tcp:203.0.113.5:40312");
	b.aor = str_cstr("sip:carol@example.com");
	b.contact = str_cstr("sip:carol@10.99.0.5:5060;transport=tcp");
	b.expires_wall_ms = 1700000300000ULL;
	return b;
}

static struct store_snap snap(void)
{
	struct store_snap s;

	memset(&s, 0, sizeof(s));
	s.call_id = str_cstr("1-8936@127.0.0.1");
	s.route = str_cstr("<sip:127.0.0.21:37570;transport=udp;lr>, "
			   "<sip:127.0.0.21:37560;transport=udp;lr>");
	s.n_route = 2;
	s.n_up = 0;
	s.final_status = 200;
	s.start_wall_ms = 1700000000000ULL;
	s.answer_wall_ms = 1700000000120ULL;
	s.leg[0].uri = str_cstr("sip:sipp@127.0.0.1:37590");
	s.leg[0].tag = str_cstr("8936SIPpTag001");
	s.leg[0].contact = str_cstr("sip:sipp@127.0.0.1:37590;transport=UDP");
	s.leg[0].addr = str_cstr("udp:127.0.0.1:37590");
	s.leg[0].zone = str_cstr("internet");
	s.leg[0].cseq = 1;
	s.leg[0].has_cseq = true;
	s.leg[1].uri = str_cstr("sip:service@127.0.0.21:37560");
	s.leg[1].tag = str_cstr("9311SIPpTag011");
	s.leg[1].contact = str_cstr("sip:127.0.0.1:37582;transport=UDP");
	s.leg[1].addr = str_cstr("udp:[::1]:37582");
	s.leg[1].zone = str_cstr("pbx");
	return s;
}

static void test_binding_roundtrip(void **state)
{
	struct store_binding b = binding(), d;
	char buf[STORE_BINDING_MAX];
	int n;

	(void)state;
	n = store_binding_encode(buf, sizeof(buf), &b);
	assert_true(n > 0);
	assert_string_equal(
		buf, "b1,16:740c20ee48d3af49,1:a,20:udp:127.0.0.21:37570,"
		     "21:tcp:203.0.113.5:40312,1700000300000,"
		     "21:sip:carol@example.com,"
		     "38:sip:carol@10.99.0.5:5060;transport=tcp,");
	assert_int_equal(store_binding_decode(&d, str_make(buf, (size_t)n)), 0);
	assert_true(str_eq(d.token, b.token) && str_eq(d.owner, b.owner));
	assert_true(str_eq(d.handoff, b.handoff) && str_eq(d.flow, b.flow));
	assert_true(str_eq(d.aor, b.aor) && str_eq(d.contact, b.contact));
	assert_true(d.expires_wall_ms == b.expires_wall_ms);
	/* Empty flow, AOR and Contact are allowed. */
	b.flow = b.aor = b.contact = STR_NULL;
	n = store_binding_encode(buf, sizeof(buf), &b);
	assert_true(n > 0);
	assert_int_equal(store_binding_decode(&d, str_make(buf, (size_t)n)), 0);
	assert_int_equal(d.contact.len, 0);
}

static void test_binding_encode_refuses(void **state)
{
	static const struct {
		int field;
		const char *v;
	} bad[] = {
		{0, ""},
		{0, "XYZ"},
		{0, "0123456789abcdef01234567"},
		{1, ""},
		{1, "a b"},
		{2, "sip:1.2.3.4:5"},
		{2, "udp:1.2.3.4 :5"},
		{3, "udp:1.2.3.4:5\r\n"},
		{4, "sip:a b@c"},
		{5, "sip:a@b\r\nX: y"},
	};
	char buf[STORE_BINDING_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct store_binding b = binding();
		struct str *f[] = {&b.token, &b.owner, &b.handoff,
				   &b.flow,  &b.aor,   &b.contact};

		*f[bad[i].field] = str_cstr(bad[i].v);
		assert_int_equal(store_binding_encode(buf, sizeof(buf), &b),
				 -EINVAL);
	}
	{
		struct store_binding b = binding();

		assert_int_equal(store_binding_encode(buf, 40, &b), -ENOSPC);
	}
}

static void test_snap_roundtrip(void **state)
{
	struct store_snap s = snap(), d;
	char buf[STORE_SNAP_MAX];
	unsigned i;
	int n;

	(void)state;
	n = store_snap_encode(buf, sizeof(buf), &s);
	assert_true(n > 0 && n < 400); /* compact */
	assert_int_equal(store_snap_decode(&d, str_make(buf, (size_t)n)), 0);
	assert_true(str_eq(d.call_id, s.call_id) && str_eq(d.route, s.route));
	assert_int_equal(d.n_route, 2);
	assert_int_equal(d.n_up, 0);
	assert_int_equal(d.final_status, 200);
	assert_true(d.start_wall_ms == s.start_wall_ms);
	assert_true(d.answer_wall_ms == s.answer_wall_ms);
	for (i = 0; i < 2; i++) {
		assert_true(str_eq(d.leg[i].uri, s.leg[i].uri));
		assert_true(str_eq(d.leg[i].tag, s.leg[i].tag));
		assert_true(str_eq(d.leg[i].contact, s.leg[i].contact));
		assert_true(str_eq(d.leg[i].addr, s.leg[i].addr));
		assert_true(str_eq(d.leg[i].zone, s.leg[i].zone));
		assert_int_equal(d.leg[i].cseq, s.leg[i].cseq);
		assert_int_equal(d.leg[i].has_cseq, s.leg[i].has_cseq);
	}
	/* Too small a buffer. */
	assert_int_equal(store_snap_encode(buf, 100, &s), -ENOSPC);
}

static void test_snap_encode_refuses(void **state)
{
	char buf[STORE_SNAP_MAX], big[STORE_SNAP_STR_MAX + 2];
	struct store_snap s;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	s = snap();
	s.call_id = STR_NULL;
	assert_int_equal(store_snap_encode(buf, sizeof(buf), &s), -EINVAL);
	s = snap();
	s.leg[1].tag = STR_NULL;
	assert_int_equal(store_snap_encode(buf, sizeof(buf), &s), -EINVAL);
	s = snap();
	s.leg[0].contact = str_cstr("sip:a@b\r\nRoute: <sip:evil>");
	assert_int_equal(store_snap_encode(buf, sizeof(buf), &s), -EINVAL);
	s = snap();
	s.call_id = str_cstr(big);
	assert_int_equal(store_snap_encode(buf, sizeof(buf), &s), -EINVAL);
	s = snap();
	s.leg[0].cseq = 0x80000000u;
	assert_int_equal(store_snap_encode(buf, sizeof(buf), &s), -EINVAL);
	s = snap();
	s.leg[0].zone = str_cstr("in ternet");
	assert_int_equal(store_snap_encode(buf, sizeof(buf), &s), -EINVAL);
}

/* Records a hostile writer could leave in Redis: each one refused. */
static void test_snap_decode_hostile(void **state)
{
	static const char *const bad[] = {
		"",
		"s1,",
		"s2,3:abc,0:,0,0,0,0,0,1:u,1:t,0:,0:,0:,0,0,1:u,1:t,0:,0:,0:,0,0,",
		/* the good one with a byte cut off, or one added */
		"s1,3:abc,0:,0,0,0,0,0,1:u,1:t,0:,0:,0:,0,0,1:u,1:t,0:,0:,0:,0,0",
		"s1,3:abc,0:,0,0,0,0,0,1:u,1:t,0:,0:,0:,0,0,1:u,1:t,0:,0:,0:,0,0,x",
		/* length past the end, length not digits, missing ',' */
		"s1,99:abc,0:,0,0,0,0,0,1:u,1:t,0:,0:,0:,0,0,1:u,1:t,0:,0:,0:,0,0,",
		"s1,-3:abc,0:,0,0,0,0,0,1:u,1:t,0:,0:,0:,0,0,1:u,1:t,0:,0:,0:,0,0,",
		"s1,3:abcd0:,0,0,0,0,0,1:u,1:t,0:,0:,0:,0,0,1:u,1:t,0:,0:,0:,0,0,",
		/* CR LF in the Call-ID; space in a tag */
		"s1,3:a\r\n,0:,0,0,0,0,0,1:u,1:t,0:,0:,0:,0,0,1:u,1:t,0:,0:,0:,0,0,",
		"s1,3:abc,0:,0,0,0,0,0,1:u,3:t t,0:,0:,0:,0,0,1:u,1:t,0:,0:,0:,0,0,",
		/* n_up > n_route; n_route > 255; status > 699 */
		"s1,3:abc,0:,1,2,0,0,0,1:u,1:t,0:,0:,0:,0,0,1:u,1:t,0:,0:,0:,0,0,",
		"s1,3:abc,0:,256,0,0,0,0,1:u,1:t,0:,0:,0:,0,0,1:u,1:t,0:,0:,0:,0,0,",
		"s1,3:abc,0:,0,0,700,0,0,1:u,1:t,0:,0:,0:,0,0,1:u,1:t,0:,0:,0:,0,0,",
		/* 21 digits; uint64 overflow; CSeq >= 2^31; has_cseq 2 */
		"s1,3:abc,0:,0,0,0,000000000000000000001,0,1:u,1:t,0:,0:,0:,0,0,"
		"1:u,1:t,0:,0:,0:,0,0,",
		"s1,3:abc,0:,0,0,0,18446744073709551616,0,1:u,1:t,0:,0:,0:,0,0,"
		"1:u,1:t,0:,0:,0:,0,0,",
		"s1,3:abc,0:,0,0,0,0,0,1:u,1:t,0:,0:,0:,1,2147483648,1:u,1:t,0:,"
		"0:,0:,0,0,",
		"s1,3:abc,0:,0,0,0,0,0,1:u,1:t,0:,0:,0:,2,0,1:u,1:t,0:,0:,0:,0,0,",
		/* empty Call-ID; empty tag; bad address; bad zone */
		"s1,0:,0:,0,0,0,0,0,1:u,1:t,0:,0:,0:,0,0,1:u,1:t,0:,0:,0:,0,0,",
		"s1,3:abc,0:,0,0,0,0,0,1:u,0:,0:,0:,0:,0,0,1:u,1:t,0:,0:,0:,0,0,",
		"s1,3:abc,0:,0,0,0,0,0,1:u,1:t,0:,7:x:1.2.3,0:,0,0,1:u,1:t,0:,0:,"
		"0:,0,0,",
		"s1,3:abc,0:,0,0,0,0,0,1:u,1:t,0:,0:,2:a/,0,0,1:u,1:t,0:,0:,0:,0,0,",
	};
	static const char good[] =
		"s1,3:abc,0:,0,0,0,0,0,1:u,1:t,0:,0:,0:,0,0,1:u,1:t,0:,0:,0:,0,0,";
	struct store_snap s;
	size_t i;

	(void)state;
	assert_int_equal(store_snap_decode(&s, str_cstr(good)), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s.n_route = 7;
		if (store_snap_decode(&s, str_cstr(bad[i])) != -EINVAL)
			fail_msg("accepted bad[%zu]: %s", i, bad[i]);
		assert_int_equal(s.n_route, 0); /* zeroed on failure */
	}
	assert_int_equal(store_snap_decode(NULL, str_cstr(good)), -EINVAL);
	assert_int_equal(store_snap_decode(&s, str_make(NULL, 3)), -EINVAL);
}

static void test_binding_decode_hostile(void **state)
{
	static const char *const bad[] = {
		"",
		"b1,",
		"b1,1:x,1:a,11:udp:1.2.3:4,0:,1,0:,0:,",
		"b1,1:a,1:a,11:sip:1.2.3:4,0:,1,0:,0:,",
		"b1,1:a,3:a b,11:udp:1.2.3:4,0:,1,0:,0:,",
		"b1,1:a,1:a,11:udp:1.2.3:4,0:,1,0:,0:,,",
		"b1,1:a,1:a,11:udp:1.2.3:4,0:,,0:,0:,",
		"b1,1:a,1:a,11:udp:1.2.3:4,0:,1,3:a\nb,0:,",
		"b1,24:0123456789abcdef01234567,1:a,11:udp:1.2.3:4,0:,1,0:,0:,",
	};
	struct store_binding b;
	size_t i;

	(void)state;
	assert_int_equal(store_binding_decode(
				 &b, str_cstr("b1,1:a,1:a,11:udp:1.2.3:4,0:,1,"
					      "0:,0:,")),
			 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (store_binding_decode(&b, str_cstr(bad[i])) != -EINVAL)
			fail_msg("accepted bad[%zu]: %s", i, bad[i]);
}

static void test_channel_messages(void **state)
{
	struct store_binding b = binding();
	char rec[STORE_BINDING_MAX], msg[STORE_BINDING_MAX + 4];
	struct store_cmsg m;

	(void)state;
	assert_true(store_binding_encode(rec, sizeof(rec), &b) > 0);
	snprintf(msg, sizeof(msg), "B %s", rec);
	assert_int_equal(store_cmsg_parse(&m, str_cstr(msg)), 0);
	assert_int_equal(m.kind, 'B');
	assert_str_equal_cstr(m.origin, "a");
	assert_str_equal_cstr(m.name, "740c20ee48d3af49");
	assert_int_equal(store_cmsg_parse(&m, str_cstr("U a 740c20ee")), 0);
	assert_int_equal(m.kind, 'U');
	assert_str_equal_cstr(m.name, "740c20ee");
	assert_int_equal(store_cmsg_parse(&m, str_cstr("G b sg-01")), 0);
	assert_str_equal_cstr(m.origin, "b");
	assert_str_equal_cstr(m.name, "sg-01");
	assert_int_equal(store_cmsg_parse(&m, str_cstr("U a XYZ")), -EINVAL);
	assert_int_equal(store_cmsg_parse(&m, str_cstr("G a b c")), -EINVAL);
	assert_int_equal(store_cmsg_parse(&m, str_cstr("U  a")), -EINVAL);
	assert_int_equal(store_cmsg_parse(&m, str_cstr("X a b")), -EINVAL);
	assert_int_equal(store_cmsg_parse(&m, str_cstr("B b1,")), -EINVAL);
	assert_int_equal(store_cmsg_parse(&m, str_cstr("U")), -EINVAL);
}

/* Our own messages, recognised from their head (store_cmsg_from). */
static void test_channel_origin(void **state)
{
	static const struct {
		const char *msg, *origin;
		bool ours;
	} t[] = {
		{"U a 740c20ee", "a", true},
		{"U ab 740c20ee", "a", false},
		{"U a 740c20ee", "ab", false},
		{"G sg-1 sg-2", "sg-1", true},
		{"G sg-2 sg-1", "sg-1", false},
		{"U a", "a", false},
		{"U a ", "a", true}, /* parsed (and refused) only if not ours */
		{"X a b", "a", false},
		{"B b1,16:740c20ee48d3af49,1:a,", "a", true},
		{"B b1,16:740c20ee48d3af49,1:b,", "a", false},
		{"B b1,16:740c20ee48d3af49,2:ab,", "a", false},
		{"B b1,3:abc,1:a", "a", false},   /* no ',' after the owner */
		{"B b1,99:abc,1:a,", "a", false}, /* token past the end */
		{"B b2,3:abc,1:a,", "a", false},
		{"B b1,", "a", false},
		{"B ", "a", false},
		{"", "a", false},
	};
	struct store_binding b = binding();
	char rec[STORE_BINDING_MAX], msg[STORE_BINDING_MAX + 4];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (store_cmsg_from(str_cstr(t[i].msg),
				    str_cstr(t[i].origin)) != t[i].ours)
			fail_msg("t[%zu]: %s from %s", i, t[i].msg,
				 t[i].origin);
	assert_true(store_binding_encode(rec, sizeof(rec), &b) > 0);
	snprintf(msg, sizeof(msg), "B %s", rec);
	assert_true(store_cmsg_from(str_cstr(msg), str_cstr("a")));
	assert_false(store_cmsg_from(str_cstr(msg), str_cstr("b")));
	assert_false(store_cmsg_from(str_cstr(msg), STR_NULL));
}

static void test_validators(void **state)
{
	(void)state;
	assert_true(store_token_valid(str_cstr("0a")));
	assert_false(store_token_valid(str_cstr("0A")));
	assert_false(store_token_valid(STR_NULL));
	assert_true(store_sipaddr_valid(str_cstr("tls:[2001:db8::1]:5061")));
	assert_false(store_sipaddr_valid(str_cstr("ws:1.2.3.4:5")));
	assert_false(store_sipaddr_valid(str_cstr("udp:")));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binding_roundtrip),
		cmocka_unit_test(test_binding_encode_refuses),
		cmocka_unit_test(test_binding_decode_hostile),
		cmocka_unit_test(test_snap_roundtrip),
		cmocka_unit_test(test_snap_encode_refuses),
		cmocka_unit_test(test_snap_decode_hostile),
		cmocka_unit_test(test_channel_messages),
		cmocka_unit_test(test_validators),
		cmocka_unit_test(test_channel_origin),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
