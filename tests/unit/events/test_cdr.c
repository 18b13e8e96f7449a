/*
 * test_cdr.c - JSON string escaping (quotes, backslash, control bytes,
 * DEL, valid and invalid UTF-8: overlong, surrogates, out of range,
 * truncated), timestamps, call records of answered, rejected and live
 * calls compared byte for byte, hostile Call-IDs and URIs, every output
 * checked by a small JSON validator, the writer on a real file, and
 * buffer failures that leave the output unchanged.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test.h"
#include "core/buf.h"
#include "events/events.h"
#include "sip/dialog.h"
#include "sip/sip.h"

/* ------------------------------------------------------ JSON validator */

/* Length of a valid UTF-8 sequence at p, 0 if invalid (reference
 * implementation by code point, independent of json.c's tables). */
static size_t u8len(const unsigned char *p, size_t n)
{
	unsigned cp, len, i, min;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		len = 2, cp = p[0] & 0x1f, min = 0x80;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, cp = p[0] & 0x0f, min = 0x800;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, cp = p[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

struct jp {
	const unsigned char *p, *end;
};

static bool jvalue(struct jp *j, int depth);

static void jws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\n'))
		j->p++;
}

static bool jlit(struct jp *j, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n))
		return false;
	j->p += n;
	return true;
}

static bool jstring(struct jp *j)
{
	size_t n;
	int i;

	if (j->p >= j->end || *j->p++ != '"')
		return false;
	while (j->p < j->end && *j->p != '"') {
		if (*j->p < 0x20)
			return false;
		if (*j->p == '\\') {
			j->p++;
			if (j->p >= j->end)
				return false;
			if (*j->p == 'u') {
				for (i = 1; i <= 4; i++)
					if (j->p + i >= j->end || !j->p[i] ||
					    !strchr("0123456789abcdefABCDEF",
						    j->p[i]))
						return false;
				j->p += 5;
			} else if (strchr("\"\\/bfnrt", *j->p) && *j->p) {
				j->p++;
			} else {
				return false;
			}
			continue;
		}
		n = u8len(j->p, (size_t)(j->end - j->p));
		if (!n)
			return false;
		j->p += n;
	}
	return j->p++ < j->end;
}

static bool jnumber(struct jp *j)
{
	const unsigned char *s = j->p;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s;
}

static bool jobject(struct jp *j, int depth)
{
	j->p++;
	jws(j);
	if (j->p < j->end && *j->p == '}')
		return j->p++, true;
	for (;;) {
		jws(j);
		if (!jstring(j))
			return false;
		jws(j);
		if (j->p >= j->end || *j->p++ != ':' || !jvalue(j, depth + 1))
			return false;
		jws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		return j->p < j->end && *j->p++ == '}';
	}
}

static bool jvalue(struct jp *j, int depth)
{
	if (depth > 8)
		return false;
	jws(j);
	if (j->p >= j->end)
		return false;
	if (*j->p == '{')
		return jobject(j, depth);
	if (*j->p == '"')
		return jstring(j);
	if (jlit(j, "null") || jlit(j, "true") || jlit(j, "false"))
		return true;
	return jnumber(j);
}

/* One JSON value, then exactly one '\n' when line. */
static bool json_valid(const char *s, size_t n, bool line)
{
	struct jp j = {(const unsigned char *)s, (const unsigned char *)s + n};

	if (line) {
		if (!n || s[n - 1] != '\n' || memchr(s, '\n', n - 1))
			return false;
		j.end--;
	}
	return jvalue(&j, 0) && j.p == j.end;
}

/* ------------------------------------------------------------- escaping */

static void test_json_str(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} v[] = {
		{"", 0, "\"\""},
		{"plain", 5, "\"plain\""},
		{"a\"b\\c", 5, "\"a\\\"b\\\\c\""},
		{"\r\n\t\b\f", 5, "\"\\r\\n\\t\\b\\f\""},
		{"\x00\x01\x1f\x7f", 4, "\"\\u0000\\u0001\\u001f\\u007f\""},
		{"/<script>", 9, "\"/<script>\""},
		{"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
		 "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
		{"\x80", 1, "\"\\ufffd\""},
		{"\xc0\xaf", 2, "\"\\ufffd\\ufffd\""},            /* overlong */
		{"\xe0\x80\xaf", 3, "\"\\ufffd\\ufffd\\ufffd\""}, /* overlong */
		{"\xed\xa0\x80", 3,
		 "\"\\ufffd\\ufffd\\ufffd\""}, /* surrogate */
		{"\xf4\x90\x80\x80", 4,
		 "\"\\ufffd\\ufffd\\ufffd\\ufffd\""}, /* > 10FFFF */
		{"\xf5\x80", 2, "\"\\ufffd\\ufffd\""},
		{"\xe2\x82", 2, "\"\\ufffd\\ufffd\""}, /* truncated */
		{"x\xe2\x82y", 4, "\"x\\ufffd\\ufffdy\""},
		{"\xf4\x8f\xbf\xbf", 4, "\"\xf4\x8f\xbf\xbf\""}, /* U+10FFFF */
		{"\xef\xbf\xbd", 3, "\"\xef\xbf\xbd\""},
	};
	struct buf b;
	size_t i;

	(void)state;
	buf_init(&b, 1024);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		buf_reset(&b);
		assert_int_equal(json_str(&b, str_make(v[i].in, v[i].len)), 0);
		if (b.len != strlen(v[i].out) || memcmp(b.p, v[i].out, b.len))
			fail_msg("case %zu: got %.*s", i, (int)b.len, b.p);
		assert_true(json_valid(b.p, b.len, false));
	}
	buf_free(&b);
}

/* Random bytes always give valid JSON with valid UTF-8. */
static void test_json_random(void **state)
{
	unsigned char in[64];
	struct buf b;
	unsigned seed = 12345;
	int i, k;

	(void)state;
	buf_init(&b, 1024);
	for (i = 0; i < 20000; i++) {
		int n = (int)(seed % sizeof(in));

		for (k = 0; k < n; k++) {
			seed = seed * 1103515245 + 12345;
			/* Bias towards bytes that make UTF-8 decisions. */
			in[k] = (unsigned char)((seed >> 16) & 1
							? 0x80 + ((seed >> 8) &
								  0x7f)
							: (seed >> 8));
		}
		seed = seed * 1103515245 + 12345;
		buf_reset(&b);
		assert_int_equal(json_str(&b, str_make((char *)in, (size_t)n)),
				 0);
		if (!json_valid(b.p, b.len, false))
			fail_msg("invalid JSON: %.*s", (int)b.len, b.p);
	}
	buf_free(&b);
}

static void test_json_errors(void **state)
{
	char small[8];
	struct buf b;
	char t[JSON_TIME_SIZE];

	(void)state;
	buf_init_fixed(&b, small, sizeof(small));
	assert_int_equal(buf_append_cstr(&b, "ab"), 0);
	assert_int_not_equal(json_str(&b, STR("\"\"\"\"")), 0);
	assert_int_equal(b.len, 2);
	assert_string_equal(json_time(t, sizeof(t), 0),
			    "1970-01-01T00:00:00.000Z");
	assert_string_equal(json_time(t, sizeof(t), 1700000000123ULL),
			    "2023-11-14T22:13:20.123Z");
}

/* --------------------------------------------------------- call records */

#define T0    5000
#define WALL0 1700000000000ULL

static struct tmr_wheel wheel;
static struct sip_dlgs *tab;
static struct sip_msg msg;
static char mbuf[8192];
static struct sip_peer pa, pb;
static struct buf line;

static uint64_t fake_wall(void *arg)
{
	(void)arg;
	return WALL0 + (tmr_wheel_now(&wheel) - T0);
}

/* The proxy's job: format the record when the call ends. */
static void on_end(void *arg, struct sip_dlg *d)
{
	(void)arg;
	if (d->record)
		assert_int_equal(cdr_format(&line, d), 0);
}

static int setup(void **state)
{
	struct sip_dlg_conf c = sip_dlg_conf_default;
	struct sip_dlg_cbs cb = {on_end, NULL, fake_wall};

	(void)state;
	c.max_dialogs = 8;
	assert_int_equal(tmr_wheel_init(&wheel, T0), 0);
	assert_int_equal(sip_dlgs_new(&tab, &c, &wheel, &cb, NULL), 0);
	memset(&pa, 0, sizeof(pa));
	memset(&pb, 0, sizeof(pb));
	assert_int_equal(sg_addr_parse(&pa.addr, STR("192.0.2.1:5060"), 0), 0);
	pa.zone = 1;
	assert_int_equal(sg_addr_parse(&pb.addr, STR("[2001:db8::7]:5061"), 0),
			 0);
	pb.tp = SIP_TP_TLS;
	pb.zone = 2;
	buf_init(&line, 1 << 16);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sip_dlgs_free(tab);
	buf_free(&line);
	assert_no_leaks();
	return 0;
}

/* Text with "\n" line ends, made CRLF. */
static const struct sip_msg *parse(const char *tmp)
{
	struct sip_perr e;
	size_t i, n = 0;

	for (i = 0; tmp[i] && n + 2 < sizeof(mbuf); i++) {
		if (tmp[i] == '\n')
			mbuf[n++] = '\r';
		mbuf[n++] = tmp[i];
	}
	if (sip_msg_parse(&msg, mbuf, n, NULL, 0, &e) != 0)
		fail_msg("parse: %s at %u:\n%s", e.reason, e.off, mbuf);
	return &msg;
}

#define HDRS(from, to, cid, cseq)                                  \
	"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\n"             \
	"From: <" from ">;tag=a1\nTo: <sip:bob@b.example>" to "\n" \
	"Call-ID: " cid "\nCSeq: " cseq "\nContent-Length: 0\n\n"

static void feed_req(const struct sip_msg *m, const struct sip_peer *from)
{
	struct sip_dlg_match dm;

	assert_int_equal(sip_dlg_request(tab, m, from, &dm), 0);
}

static void feed_rsp(const struct sip_msg *m, const struct sip_peer *from)
{
	struct sip_dlg_match dm;

	assert_int_equal(sip_dlg_response(tab, m, from, &dm), 0);
}

static void expect_line(const char *want)
{
	if (line.len != strlen(want) || memcmp(line.p, want, line.len))
		fail_msg("got:\n%.*s\nwant:\n%s", (int)line.len, line.p, want);
	assert_true(json_valid(line.p, line.len, true));
}

static void test_answered(void **state)
{
	(void)state;
	feed_req(parse("INVITE sip:bob@b.example SIP/2.0\n"
		       "Contact: <sip:alice@192.0.2.1>\n" HDRS(
			       "sip:alice@a.example", "", "c1@h", "1 INVITE")),
		 &pa);
	tmr_wheel_run(&wheel, T0 + 1500);
	feed_rsp(
		parse("SIP/2.0 200 OK\nContact: <sip:bob@[2001:db8::7]>\n" HDRS(
			"sip:alice@a.example", ";tag=b1", "c1@h", "1 INVITE")),
		&pb);
	tmr_wheel_run(&wheel, T0 + 61500);
	feed_req(parse("BYE sip:bob@[2001:db8::7] SIP/2.0\n" HDRS(
			 "sip:alice@a.example", ";tag=b1", "c1@h", "2 BYE")),
		 &pa);
	feed_rsp(parse("SIP/2.0 200 OK\n" HDRS("sip:alice@a.example", ";tag=b1",
					       "c1@h", "2 BYE")),
		 &pb);
	expect_line(
		"{\"call_id\":\"c1@h\",\"kind\":\"INVITE\","
		"\"caller\":{\"uri\":\"sip:alice@a.example\",\"tag\":\"a1\","
		"\"addr\":\"192.0.2.1:5060\",\"zone\":1,\"transport\":\"UDP\"},"
		"\"callee\":{\"uri\":\"sip:bob@b.example\",\"tag\":\"b1\","
		"\"addr\":\"[2001:db8::7]:5061\",\"zone\":2,"
		"\"transport\":\"TLS\"},"
		"\"start\":\"2023-11-14T22:13:20.000Z\","
		"\"answer\":\"2023-11-14T22:13:21.500Z\","
		"\"end\":\"2023-11-14T22:14:21.500Z\","
		"\"duration_ms\":60000,\"setup_ms\":1500,"
		"\"state\":\"confirmed\",\"end_reason\":\"bye-caller\","
		"\"final_status\":200,\"last_status\":200}\n");
}

static void test_rejected_hostile(void **state)
{
	struct sip_dlgs_iter it;
	struct sip_dlg *d;

	(void)state;
	/* Call-ID words may hold quotes and backslashes (RFC 3261 25.1);
	 * URIs may hold escapes and odd characters. */
	feed_req(parse("INVITE sip:bob@b.example SIP/2.0\n" HDRS(
			 "sip:%22x%00'~*@a.example", "", "q\"\\{}<>@h",
			 "7 INVITE")),
		 &pa);
	/* A live call formats too: end, duration and reason are null. */
	sip_dlgs_iter_init(&it, tab);
	d = sip_dlgs_iter_next(&it);
	assert_non_null(d);
	assert_int_equal(cdr_format(&line, d), 0);
	assert_true(json_valid(line.p, line.len, true));
	assert_non_null(memmem(line.p, line.len,
			       "\"end\":null,\"duration_ms\":null,"
			       "\"setup_ms\":null,\"state\":\"trying\","
			       "\"end_reason\":null,\"final_status\":null,"
			       "\"last_status\":null}",
			       strlen("\"end\":null,\"duration_ms\":null,"
				      "\"setup_ms\":null,\"state\":\"trying\","
				      "\"end_reason\":null,\"final_status\":"
				      "null,\"last_status\":null}")));
	buf_reset(&line);
	tmr_wheel_run(&wheel, T0 + 250);
	feed_rsp(parse("SIP/2.0 486 Busy Here\n" HDRS(
			 "sip:%22x%00'~*@a.example", ";tag=b9", "q\"\\{}<>@h",
			 "7 INVITE")),
		 &pb);
	expect_line("{\"call_id\":\"q\\\"\\\\{}<>@h\",\"kind\":\"INVITE\","
		    "\"caller\":{\"uri\":\"sip:%22x%00'~*@a.example\","
		    "\"tag\":\"a1\",\"addr\":\"192.0.2.1:5060\",\"zone\":1,"
		    "\"transport\":\"UDP\"},"
		    "\"callee\":{\"uri\":\"sip:bob@b.example\",\"tag\":\"\","
		    "\"addr\":\"[2001:db8::7]:5061\",\"zone\":2,"
		    "\"transport\":\"TLS\"},"
		    "\"start\":\"2023-11-14T22:13:20.000Z\",\"answer\":null,"
		    "\"end\":\"2023-11-14T22:13:20.250Z\","
		    "\"duration_ms\":0,\"setup_ms\":null,"
		    "\"state\":\"trying\",\"end_reason\":\"rejected:486\","
		    "\"final_status\":486,\"last_status\":486}\n");
}

static void test_writer(void **state)
{
	char path[] = "/tmp/sipguard-cdr-XXXXXX", rd[4096];
	struct cdr_writer *w;
	struct sip_dlgs_iter it;
	ssize_t n;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(cdr_open(&w, path), 0);
	feed_req(parse("SUBSCRIBE sip:bob@b.example SIP/2.0\n" HDRS(
			 "sip:alice@a.example", "", "s1@h", "1 SUBSCRIBE")),
		 &pa);
	sip_dlgs_iter_init(&it, tab);
	assert_int_equal(cdr_write(w, sip_dlgs_iter_next(&it)), 0);
	assert_int_equal(cdr_write(w, NULL), -EINVAL);
	assert_int_equal(cdr_written(w), 1);
	assert_int_equal(cdr_failed(w), 0);
	cdr_close(w);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, rd, sizeof(rd));
	close(fd);
	unlink(path);
	assert_true(n > 0);
	assert_true(json_valid(rd, (size_t)n, true));
	assert_non_null(memmem(rd, (size_t)n, "\"kind\":\"SUBSCRIBE\"", 18));

	assert_int_equal(cdr_open(&w, "/nonexistent-dir/x"), -ENOENT);
	assert_int_equal(cdr_open(&w, ""), -EINVAL);
	assert_int_equal(cdr_open(&w, "-"), 0);
	cdr_close(w);
	cdr_close(NULL);
	/* Allocation failure in open. */
	mem_fail_nth(1);
	assert_int_equal(cdr_open(&w, "-"), -ENOMEM);
	mem_fail_nth(0);
}

/* Output that does not fit leaves the buffer as it was. */
static void test_format_fail(void **state)
{
	struct sip_dlgs_iter it;
	struct sip_dlg *d;
	char small[200];
	struct buf b;
	size_t cut;

	(void)state;
	feed_req(parse("INVITE sip:bob@b.example SIP/2.0\n" HDRS(
			 "sip:alice@a.example", "", "f1@h", "1 INVITE")),
		 &pa);
	sip_dlgs_iter_init(&it, tab);
	d = sip_dlgs_iter_next(&it);
	assert_int_equal(cdr_format(&line, d), 0);
	/* Every size short of the whole line fails cleanly. */
	for (cut = 0; cut < line.len && cut < sizeof(small); cut++) {
		buf_init_fixed(&b, small, cut);
		assert_int_not_equal(cdr_format(&b, d), 0);
		assert_int_equal(b.len, 0);
	}
	assert_int_equal(cdr_format(NULL, d), -EINVAL);
	assert_int_equal(cdr_format(&line, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_str),
		cmocka_unit_test(test_json_random),
		cmocka_unit_test(test_json_errors),
		cmocka_unit_test_setup_teardown(test_answered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejected_hostile, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_format_fail, setup,
						teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
