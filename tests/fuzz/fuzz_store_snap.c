/*
 * fuzz_store_snap.c - what another instance (or anyone able to write to
 * the shared Redis) can make this one decode: dialog snapshots, binding
 * records and bindings-channel messages (store_snap.c), and a decoded
 * snapshot rebuilt as a dialog and BYEs built from it (dialog_snap.c,
 * dialog_bye.c), as a takeover does.
 * Invariants: a decoded record encodes again and decodes to the same
 * fields; every accepted string is within bounds; a BYE built from a
 * restored dialog has no CR or LF but at its line ends.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/tmr.h"
#include "sip/dialog.h"
#include "store/store.h"

#include "fuzz_check.h"

static void snap_same(const struct store_snap *a, const struct store_snap *b)
{
	unsigned i;

	CHECK(str_eq(a->call_id, b->call_id) && str_eq(a->route, b->route));
	CHECK(a->n_route == b->n_route && a->n_up == b->n_up);
	CHECK(a->final_status == b->final_status);
	CHECK(a->start_wall_ms == b->start_wall_ms);
	CHECK(a->answer_wall_ms == b->answer_wall_ms);
	for (i = 0; i < 2; i++) {
		CHECK(str_eq(a->leg[i].uri, b->leg[i].uri));
		CHECK(str_eq(a->leg[i].tag, b->leg[i].tag));
		CHECK(str_eq(a->leg[i].contact, b->leg[i].contact));
		CHECK(str_eq(a->leg[i].addr, b->leg[i].addr));
		CHECK(str_eq(a->leg[i].zone, b->leg[i].zone));
		CHECK(a->leg[i].cseq == b->leg[i].cseq);
		CHECK(a->leg[i].has_cseq == b->leg[i].has_cseq);
	}
}

/* Line ends only as CRLF: nothing from the record split a header. */
static void lines_ok(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] == '\n')
			CHECK(i > 0 && p[i - 1] == '\r');
		else if (p[i] == '\r')
			CHECK(i + 1 < n && p[i + 1] == '\n');
}

static void restore(const struct store_snap *s)
{
	static const struct sip_dlg_bye bp = {
		.via_host = STR("sg.example:5060"),
		.branch = STR("z9hG4bKfz"),
		.tp = SIP_TP_UDP,
		.self_rr = 1,
	};
	struct sip_dlg_conf c = sip_dlg_conf_default;
	struct sip_dlg_restore r;
	struct tmr_wheel w;
	struct sip_dlgs *t;
	struct sip_dlg *d;
	char out[16384];
	struct buf b;
	unsigned i;

	memset(&r, 0, sizeof(r));
	r.call_id = s->call_id;
	r.route = s->route;
	r.n_route = s->n_route;
	r.n_up = s->n_up;
	r.final_status = s->final_status;
	r.start_wall = s->start_wall_ms;
	r.answer_wall = s->answer_wall_ms;
	r.now_wall = 1700000000000ULL;
	for (i = 0; i < 2; i++) {
		r.uri[i] = s->leg[i].uri;
		r.tag[i] = s->leg[i].tag;
		r.contact[i] = s->leg[i].contact;
		r.cseq[i] = s->leg[i].cseq;
		r.has_cseq[i] = s->leg[i].has_cseq;
		r.has_peer[i] = true;
	}
	c.max_dialogs = 4;
	CHECK(tmr_wheel_init(&w, 100000) == 0);
	CHECK(sip_dlgs_new(&t, &c, &w, NULL, NULL) == 0);
	if (sip_dlg_restore(t, &r, &d) == 0) {
		for (i = 0; i < 2; i++) {
			buf_init_fixed(&b, out, sizeof(out));
			if (sip_dlg_build_bye(d, (enum sip_dlg_side)i, &bp, &b,
					      NULL) == 0)
				lines_ok(b.p, b.len);
		}
		CHECK(sip_dlg_end(d, SIP_DLG_END_TAKEOVER) == 0);
	}
	sip_dlgs_free(t);
	tmr_wheel_fini(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str in = str_make((const char *)data, size);
	static char buf[STORE_SNAP_MAX + 16];
	struct store_snap s, s2;
	struct store_binding b, b2;
	struct store_cmsg m;
	int n;

	if (store_snap_decode(&s, in) == 0) {
		n = store_snap_encode(buf, sizeof(buf), &s);
		CHECK(n > 0);
		CHECK(store_snap_decode(&s2, str_make(buf, (size_t)n)) == 0);
		snap_same(&s, &s2);
		restore(&s);
	}
	if (store_binding_decode(&b, in) == 0) {
		CHECK(store_token_valid(b.token));
		CHECK(store_instance_valid(b.owner));
		CHECK(b.aor.len <= STORE_URI_MAX);
		n = store_binding_encode(buf, sizeof(buf), &b);
		CHECK(n > 0);
		CHECK(store_binding_decode(&b2, str_make(buf, (size_t)n)) == 0);
		CHECK(str_eq(b.contact, b2.contact));
		CHECK(b.expires_wall_ms == b2.expires_wall_ms);
	}
	if (store_cmsg_parse(&m, in) == 0) {
		CHECK(store_instance_valid(m.origin));
		CHECK(m.name.len > 0);
		/* a valid message is recognised as from its origin */
		CHECK(store_cmsg_from(in, m.origin));
	}
	(void)store_cmsg_from(in, str_make("sg-1", 4));
	return 0;
}
