/*
 * fuzz_ctlproto.c - the control protocol parsers on hostile bytes:
 * ctl_req_parse on the whole input and on each line of it,
 * ctl_duration_parse, and ctl_json_parse with navigation and unescaping
 * of every string token.  Invariants: results are 0 or -EINVAL with an
 * error inside the input; request slices lie inside the line and obey
 * the limits; JSON tokens lie inside the input, subtrees nest properly
 * and decoded strings fit their buffer.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

enum { FUZZ_TOKS = 512 };

static void inside(struct str s, struct str in)
{
	CHECK(s.len == 0 || (s.p >= in.p && s.len <= in.len &&
			     (size_t)(s.p - in.p) <= in.len - s.len));
}

static void req(struct str line)
{
	struct ctl_perr pe = {0, NULL};
	struct ctl_req rq;
	int rc = ctl_req_parse(&rq, line, &pe);
	uint32_t sec;

	if (rc) {
		CHECK(rc == -EINVAL && pe.why && pe.off <= line.len);
		return;
	}
	CHECK(line.len < CTL_REQ_MAX);
	CHECK(rq.cmd >= CTL_CMD_BANS && rq.cmd <= CTL_CMD_EVENTS);
	inside(rq.reason, line);
	inside(rq.evtype, line);
	CHECK(rq.evtype.len <= CTL_TYPE_MAX);
	CHECK(!rq.has_src || rq.cmd == CTL_CMD_EVENTS);
	inside(rq.rule, line);
	CHECK(rq.reason.len <= CTL_REASON_MAX);
	CHECK(rq.rule.len <= CTL_RULE_MAX);
	CHECK(rq.seconds <= CTL_BAN_MAX_S);
	CHECK(!rq.all || !rq.rule.len);
	if (rq.cmd == CTL_CMD_MONITOR)
		CHECK(rq.all || rq.rule.len);
	if (ctl_duration_parse(&sec, line) == 0)
		CHECK(sec >= 1 && sec <= CTL_BAN_MAX_S);
}

/* The follower filter reads event lines: any bytes, never past them. */
static void filter(struct str line)
{
	struct ctl_filter f;

	memset(&f, 0, sizeof(f));
	memcpy(f.type, "drop", 5);
	(void)ctl_filter_match(&f, line);
	(void)sg_addr_from_host(&f.src, STR("192.0.2.1"), 0);
	(void)ctl_filter_match(&f, line);
}

static void json(struct str in)
{
	static struct ctl_jtok t[FUZZ_TOKS];
	struct ctl_perr pe = {0, NULL};
	char buf[256];
	long n = ctl_json_parse(t, FUZZ_TOKS, in, &pe), i, d;

	if (n < 0) {
		CHECK(n == -ENOSPC ||
		      (n == -EINVAL && pe.why && pe.off <= in.len));
		return;
	}
	CHECK(n >= 1 && t[0].next == (uint32_t)n);
	for (i = 0; i < n; i++) {
		inside(t[i].s, in);
		CHECK(t[i].next > (uint32_t)i && t[i].next <= (uint32_t)n);
		if (t[i].type == CTL_J_STR) {
			d = ctl_json_unescape(buf, sizeof(buf), &t[i]);
			CHECK((d >= 0 && (size_t)d < sizeof(buf) &&
			       strlen(buf) == (size_t)d) ||
			      d == -ENOSPC);
		}
		if (t[i].type == CTL_J_OBJ) {
			d = ctl_json_get(t, (size_t)n, (size_t)i, "ok");
			CHECK(d == -1 || (d > i && d < (long)t[i].next));
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str in = str_make((const char *)data, size), rest = in, line;

	req(in);
	json(in);
	filter(in);
	while (str_split(&rest, '\n', &line))
		req(line);
	return 0;
}
