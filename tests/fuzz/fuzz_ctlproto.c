/*
 * fuzz_ctlproto.c - the control protocol's request parser on hostile
 * bytes: ctl_req_parse (jansson underneath) on the whole input and on
 * each line of it, the round trip of an accepted request through
 * ctl_req_format and back, ctl_addr_parse, ctl_duration_parse, and the
 * follower filter on event lines.  Invariants: results are 0 or -EINVAL
 * (-ENOMEM never happens here) with a printable message and an offset
 * inside the line; accepted requests obey every limit; the encoder's
 * line parses back to the same request.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"

#include "fuzz_check.h"

static bool printable(const char *s, size_t max)
{
	size_t i;

	for (i = 0; i < max && s[i]; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return i < max;
}

static bool no_ctl_bytes(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static void same(const struct ctl_req *a, const struct ctl_req *b)
{
	CHECK(a->cmd == b->cmd && a->plen == b->plen &&
	      a->seconds == b->seconds && a->all == b->all && a->on == b->on &&
	      a->has_src == b->has_src);
	CHECK(!strcmp(a->reason, b->reason) && !strcmp(a->rule, b->rule) &&
	      !strcmp(a->evtype, b->evtype) && !strcmp(a->user, b->user));
	if (a->cmd == CTL_CMD_BAN || a->cmd == CTL_CMD_UNBAN || a->has_src)
		CHECK(sg_addr_ip_eq(&a->addr, &b->addr));
}

static void req(struct str line)
{
	struct ctl_perr pe;
	struct ctl_req rq, back;
	char out[CTL_REQ_MAX * 2];
	int rc = ctl_req_parse(&rq, line, &pe);
	long n;

	if (rc) {
		CHECK(rc == -EINVAL && printable(pe.msg, sizeof(pe.msg)) &&
		      pe.msg[0]);
		CHECK(pe.off >= -1 && pe.off <= (long)line.len);
		return;
	}
	CHECK(line.len < CTL_REQ_MAX && pe.off == -1);
	CHECK(rq.cmd >= CTL_CMD_BANS && rq.cmd <= CTL_CMD_UNBLOCK);
	CHECK(strlen(rq.reason) <= CTL_REASON_MAX && no_ctl_bytes(rq.reason));
	CHECK(strlen(rq.rule) <= CTL_RULE_MAX && no_ctl_bytes(rq.rule));
	CHECK(strlen(rq.evtype) <= CTL_TYPE_MAX);
	CHECK(strlen(rq.user) <= CTL_USER_MAX && no_ctl_bytes(rq.user));
	CHECK(!!rq.user[0] == (rq.cmd == CTL_CMD_UNBLOCK));
	CHECK(rq.seconds <= CTL_BAN_MAX_S);
	CHECK(!rq.has_src || (rq.cmd == CTL_CMD_EVENTS && !rq.plen));
	CHECK(!rq.all || !rq.rule[0]);
	if (rq.cmd == CTL_CMD_MONITOR)
		CHECK(rq.all || rq.rule[0]);
	/* Round trip: what sipguardctl would send for it means the same. */
	n = ctl_req_format(out, sizeof(out), &rq);
	CHECK(n > 0 && (size_t)n == strlen(out));
	CHECK(ctl_req_parse(&back, str_make(out, (size_t)n), &pe) == 0);
	same(&rq, &back);
}

static void small(struct str in)
{
	struct sg_addr a;
	uint8_t plen;
	uint32_t sec;

	if (ctl_duration_parse(&sec, in) == 0)
		CHECK(sec >= 1 && sec <= CTL_BAN_MAX_S);
	if (ctl_addr_parse(&a, &plen, in) == 0)
		CHECK(plen <= 128 && sg_addr_port(&a) == 0);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str in = str_make((const char *)data, size), rest = in, line;

	req(in);
	small(in);
	filter(in);
	while (str_split(&rest, '\n', &line))
		req(line);
	return 0;
}
