/*
 * fuzz_scanner.c - the inspect module's parsers and matchers on hostile
 * bytes.  The first byte picks the mode:
 *   even: the rest is a fingerprint file for inspect_fps_parse(); every
 *         accepted entry must be 1..63 lower-case printable bytes, and the
 *         list is then matched against the input itself;
 *   odd:  the rest is a SIP message; when it parses, the structural
 *         matcher scores it and the whole inspect path runs on it (one
 *         long-lived instance with small tables, a clock driven by the
 *         input), then inspect_response() with a status from the input.
 * Checks verdict invariants: a rule exactly when the action is not PASS,
 * bounded extra header text, a 503 for every REPLY.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guard/inspect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct inspect *g_in;
static struct sip_msg g_msg;
static uint64_t g_now;

static void check_fps(const struct inspect_fps *f)
{
	unsigned k;
	size_t i;

	assert(f->n <= INSPECT_FP_MAX);
	for (k = 0; k < f->n; k++) {
		assert(f->len[k] >= 1 && f->len[k] < INSPECT_FP_LEN);
		assert(strlen(f->s[k]) == f->len[k]);
		for (i = 0; i < f->len[k]; i++) {
			char c = f->s[k][i];

			assert(c >= 0x20 && c <= 0x7e);
			assert(!(c >= 'A' && c <= 'Z'));
		}
	}
}

static void fuzz_fps(const char *p, size_t n)
{
	struct inspect_fps f;
	unsigned line = 0;
	int rc, m;

	rc = inspect_fps_parse(&f, str_make(p, n), &line);
	if (rc != 0) {
		assert(rc == -EINVAL);
		return;
	}
	assert(line == 0);
	check_fps(&f);
	m = inspect_fps_match(&f, str_make(p, n));
	assert(m >= -1 && m < (int)f.n);
}

static void check_verdict(const struct guard_verdict *v)
{
	if (v->action == GUARD_PASS) {
		assert(v->rule == NULL && !v->ban);
		return;
	}
	assert(v->rule && v->why && v->rule[0]);
	assert(v->extra_len < GUARD_EXTRA_MAX);
	if (v->action == GUARD_REPLY)
		assert(v->status == 503 && v->extra_len > 0);
}

static void fuzz_msg(const char *p, size_t n, uint8_t sel)
{
	struct inspect_conf c;
	struct guard_verdict v;
	struct sip_peer from;
	struct sip_perr e;
	uint32_t ind;
	unsigned score;

	if (!g_in) {
		inspect_conf_default(&c);
		c.src_slots = 8;
		c.user_slots = 8;
		if (inspect_new(&g_in, &c, NULL, 0) != 0)
			abort();
	}
	if (sip_msg_parse(&g_msg, p, n, NULL, SIP_PARSE_DGRAM, &e) != 0)
		return;
	score = inspect_structure_score(&g_msg, &ind);
	assert(score <= 16 && ind < (1u << 9));
	assert((score == 0) == (ind == 0));
	if (!g_msg.is_request)
		return;
	memset(&from, 0, sizeof(from));
	from.addr.u.in.sin_family = AF_INET;
	from.addr.u.in.sin_addr.s_addr = htonl(0xc0000200u | (sel & 7));
	from.addr.len = sizeof(from.addr.u.in);
	from.local = sel >> 6;
	g_now += (uint64_t)(sel >> 3) * 97;
	inspect_set_load(g_in, (sel & 0x10) ? 90 : 0);
	assert(inspect_request(g_in, &g_msg, &from, sel & 0x20, sel & 0x40,
			       g_now, &v) == 0);
	check_verdict(&v);
	inspect_response(g_in, &from.addr, g_msg.mid,
			 inspect_target_user(&g_msg), 200 + (sel % 5) * 101,
			 g_now + 1, &v);
	check_verdict(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)(data + 1);

	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_msg(p, size - 1, data[0]);
	else
		fuzz_fps(p, size - 1);
	return 0;
}
