/*
 * fuzz_dialog.c - the dialog table driven by hostile message sequences.
 *
 * Input: chunks separated by "\n@@\n".  The first byte of a chunk says
 * what to do, the rest is its argument:
 *   'A' / 'B'  a request from peer A / B (the rest is the message),
 *   'a' / 'b'  a response from peer A / B,
 *   'T'        advance the clock by (next byte) seconds,
 *   'Y'        build BYEs to both sides of every confirmed dialog,
 *   'E'        end the first live dialog (policy),
 *   'G'        free ended dialogs now.
 * Messages that do not parse are skipped.  Checked: every BYE we build
 * parses back with the right tags, Call-ID and method; every call record
 * is one line; the per-state counts add up; every live record can be
 * found by its tags; no leaks once the table is freed.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "events/events.h"
#include "sip/dialog.h"
#include "sip/sip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tmr_wheel wheel;
static struct sip_peer peer[2];
static struct buf out;
static struct sip_msg msg, bye;

static const struct sip_dlg_bye bye_params = {
	.via_host = STR("sg.example:5060"),
	.branch = STR("z9hG4bKfz"),
	.tp = SIP_TP_UDP,
	.self_rr = 1,
};

static void check_bye(struct sip_dlg *d, enum sip_dlg_side to)
{
	enum sip_dlg_side from =
		to == SIP_DLG_CALLER ? SIP_DLG_CALLEE : SIP_DLG_CALLER;
	struct sip_perr e;
	int rc;

	buf_reset(&out);
	rc = sip_dlg_build_bye(d, to, &bye_params, &out, NULL);
	if (rc)
		return;
	rc = sip_msg_parse(&bye, out.p, out.len, NULL, 0, &e);
	if (rc)
		fprintf(stderr,
			"BYE does not parse (%s at %u):\n%.*s\n"
			"route set (%u, up %u): %.*s\n",
			e.reason, e.off, (int)out.len, out.p, d->n_route,
			d->n_up, STR_FMT(sip_dlg_str(d, SIP_DLG_S_ROUTE)));
	assert(rc == 0);
	assert(bye.mid == SIP_METHOD_BYE);
	assert(str_eq(bye.call_id, sip_dlg_str(d, SIP_DLG_S_CALL_ID)));
	assert(str_eq(bye.from.tag, sip_dlg_side_str(d, from, 1)));
	assert(str_eq(bye.to.tag, sip_dlg_side_str(d, to, 1)));
	assert(bye.cseq.num == d->side[from].cseq);
}

static void on_end(void *arg, struct sip_dlg *d)
{
	(void)arg;
	assert(d->state == SIP_DLG_TERMINATED);
	buf_reset(&out);
	if (cdr_format(&out, d) == 0) {
		assert(out.len > 2 && out.p[out.len - 1] == '\n');
		assert(!memchr(out.p, '\n', out.len - 1));
	}
}

static void on_expire(void *arg, struct sip_dlg *d, enum sip_dlg_reason r)
{
	(void)arg;
	(void)r;
	if (d->state == SIP_DLG_CONFIRMED) {
		check_bye(d, SIP_DLG_CALLER);
		check_bye(d, SIP_DLG_CALLEE);
	}
}

static void check_table(struct sip_dlgs *t)
{
	struct sip_dlgs_iter it;
	struct sip_dlg *d, *f;
	size_t sum = 0, live = 0;
	struct str a, b;
	int s;

	for (s = 0; s < SIP_DLG__NSTATES; s++)
		sum += sip_dlgs_count(t, (enum sip_dlg_state)s);
	assert(sum == sip_dlgs_count(t, SIP_DLG__NSTATES));
	sip_dlgs_iter_init(&it, t);
	while ((d = sip_dlgs_iter_next(&it)) != NULL) {
		live++;
		assert(d->state != SIP_DLG_TERMINATED);
		a = sip_dlg_str(d, SIP_DLG_S_CALLER_TAG);
		b = sip_dlg_str(d, SIP_DLG_S_CALLEE_TAG);
		assert(a.len > 0);
		if (!b.len)
			continue;
		f = sip_dlg_find(t, sip_dlg_str(d, SIP_DLG_S_CALL_ID), a, b,
				 NULL);
		assert(f);
	}
	assert(live + sip_dlgs_count(t, SIP_DLG_TERMINATED) == sum);
}

static void step(struct sip_dlgs *t, const uint8_t *p, size_t n)
{
	struct sip_dlg_match m;
	struct sip_dlgs_iter it;
	struct sip_dlg *d;
	struct sip_perr e;

	if (!n)
		return;
	switch (p[0]) {
	case 'A':
	case 'B':
	case 'a':
	case 'b':
		if (sip_msg_parse(&msg, (const char *)p + 1, n - 1, NULL, 0,
				  &e) != 0)
			return;
		if (msg.is_request)
			(void)sip_dlg_request(t, &msg,
					      &peer[(p[0] | 0x20) == 'b'], &m);
		else
			(void)sip_dlg_response(t, &msg,
					       &peer[(p[0] | 0x20) == 'b'], &m);
		break;
	case 'T':
		tmr_wheel_run(&wheel, tmr_wheel_now(&wheel) +
					      (n > 1 ? p[1] : 1) * 1000ULL);
		break;
	case 'Y':
		sip_dlgs_iter_init(&it, t);
		while ((d = sip_dlgs_iter_next(&it)) != NULL) {
			check_bye(d, SIP_DLG_CALLER);
			check_bye(d, SIP_DLG_CALLEE);
		}
		break;
	case 'E':
		sip_dlgs_iter_init(&it, t);
		if ((d = sip_dlgs_iter_next(&it)) != NULL)
			assert(sip_dlg_end(d, SIP_DLG_END_POLICY) == 0);
		break;
	case 'G':
		sip_dlgs_gc(t);
		break;
	}
	check_table(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sip_dlg_cbs cbs = {on_end, on_expire, NULL};
	struct sip_dlg_conf c = sip_dlg_conf_default;
	const uint8_t *p = data, *end = data + size, *q;
	struct sip_dlgs *t;
	size_t live0 = mem_live();

	c.max_dialogs = 12;
	c.max_forks = 4;
	c.setup_timeout_ms = 30000;
	c.idle_timeout_ms = 60000;
	c.max_duration_ms = 600000;
	c.bye_timeout_ms = 10000;
	tmr_wheel_init(&wheel, 1000);
	memset(peer, 0, sizeof(peer));
	sg_addr_parse(&peer[0].addr, STR("192.0.2.1:5060"), 0);
	sg_addr_parse(&peer[1].addr, STR("[2001:db8::1]:5061"), 0);
	peer[1].tp = SIP_TP_TLS;
	peer[1].zone = 2;
	buf_init(&out, 1 << 16);
	if (sip_dlgs_new(&t, &c, &wheel, &cbs, NULL) != 0)
		abort();
	while (p < end) {
		q = memmem(p, (size_t)(end - p), "\n@@\n", 4);
		if (!q)
			q = end;
		step(t, p, (size_t)(q - p));
		p = q == end ? end : q + 4;
	}
	tmr_wheel_run(&wheel, tmr_wheel_now(&wheel) + 1000000);
	check_table(t);
	sip_dlgs_free(t);
	assert(tmr_wheel_count(&wheel) == 0);
	buf_free(&out);
	assert(mem_live() == live0);
	return 0;
}
