/*
 * test_dialog_snap.c - a dialog rebuilt from another instance's snapshot
 * (dialog_snap.c, issue 9 takeover), on a fake clock: the record is a
 * confirmed INVITE standing for its call, its times map onto this
 * table's clock, BYEs built from it carry the right CSeq, tags and
 * route set, a dialog already here is reported, bad input is refused,
 * and ending it reports "takeover".
 */
#include <errno.h>
#include <stdio.h>

#include "test.h"
#include "core/buf.h"
#include "sip/dialog.h"
#include "sip/sip.h"

#define T0    10000000ULL
#define WALL0 1700000000000ULL

static struct tmr_wheel wheel;
static struct sip_dlgs *tab;
static enum sip_dlg_reason ended;
static bool ended_record;
static int nends;

static uint64_t fake_wall(void *arg)
{
	(void)arg;
	return WALL0 + (tmr_wheel_now(&wheel) - T0);
}

static void on_end(void *arg, struct sip_dlg *d)
{
	(void)arg;
	ended = d->reason;
	ended_record = d->record;
	nends++;
}

static const struct sip_dlg_cbs cbs = {on_end, NULL, fake_wall};

static int setup(void **state)
{
	struct sip_dlg_conf c = sip_dlg_conf_default;

	(void)state;
	c.max_dialogs = 2;
	assert_int_equal(tmr_wheel_init(&wheel, T0), 0);
	assert_int_equal(sip_dlgs_new(&tab, &c, &wheel, &cbs, NULL), 0);
	nends = 0;
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

/* A call up for a minute, answered after 1.5 s, through three proxies
 * (one before us, us, one after us). */
static struct sip_dlg_restore sample(void)
{
	struct sip_dlg_restore r;

	memset(&r, 0, sizeof(r));
	r.call_id = str_cstr("c1@example.com");
	r.route = str_cstr("<sip:after.example;lr>, <sip:dead-us.example;lr>, "
			   "<sip:before.example;lr>");
	r.n_route = 3;
	r.n_up = 1;
	r.uri[0] = str_cstr("sip:alice@example.com");
	r.tag[0] = str_cstr("at1");
	r.contact[0] = str_cstr("sip:alice@198.51.100.7:5060");
	r.uri[1] = str_cstr("sip:bob@example.net");
	r.tag[1] = str_cstr("bt2");
	r.contact[1] = str_cstr("sip:bob@192.0.2.20:5060");
	r.has_peer[0] = r.has_peer[1] = true;
	r.peer[1].zone = 1;
	r.cseq[0] = 5;
	r.has_cseq[0] = true;
	r.cseq[1] = 3;
	r.has_cseq[1] = true;
	r.final_status = 200;
	r.now_wall = WALL0;
	r.start_wall = WALL0 - 60000;
	r.answer_wall = WALL0 - 58500;
	return r;
}

static const struct sip_dlg_bye bye_params = {
	.via_host = STR("sg-b.example:5060"),
	.branch = STR("z9hG4bKtk1"),
	.tp = SIP_TP_UDP,
	.self_rr = 1,
	.reason = STR("SIP;cause=200;text=\"sipguard takeover\""),
};

static void bye(struct sip_dlg *d, enum sip_dlg_side to, char *out, size_t sz,
		uint32_t *cseqp)
{
	struct buf b;

	buf_init_fixed(&b, out, sz - 1);
	assert_int_equal(sip_dlg_build_bye(d, to, &bye_params, &b, cseqp), 0);
	out[b.len] = '\0';
}

static void test_restore_and_bye(void **state)
{
	struct sip_dlg_restore r = sample();
	struct sip_dlg *d = NULL, *d2 = NULL;
	char out[2048];
	uint32_t cseq;

	(void)state;
	assert_int_equal(sip_dlg_restore(tab, &r, &d), 0);
	assert_non_null(d);
	assert_int_equal(d->state, SIP_DLG_CONFIRMED);
	assert_int_equal(d->kind, SIP_DLG_INVITE);
	assert_true(d->record);
	assert_int_equal(sip_dlgs_count(tab, SIP_DLG_CONFIRMED), 1);
	assert_true(d->start_wall == WALL0 - 60000);
	assert_true(T0 - d->start_mono == 60000);
	assert_true(d->answer_mono - d->start_mono == 1500);
	assert_int_equal(d->side[1].peer.zone, 1);
	/* Found like any dialog, in either direction. */
	assert_ptr_equal(sip_dlg_find(tab, r.call_id, r.tag[1], r.tag[0], NULL),
			 d);
	/* To the caller: callee's CSeq + 1, the caller's part of the route
	 * set, From = callee. */
	bye(d, SIP_DLG_CALLER, out, sizeof(out), &cseq);
	assert_int_equal(cseq, 4);
	assert_non_null(strstr(out, "BYE sip:alice@198.51.100.7:5060 SIP/2.0"));
	assert_non_null(strstr(out, "Route: <sip:before.example;lr>\r\n"));
	assert_null(strstr(out, "dead-us"));
	assert_null(strstr(out, "after.example"));
	assert_non_null(strstr(out, "From: <sip:bob@example.net>;tag=bt2"));
	assert_non_null(strstr(out, "To: <sip:alice@example.com>;tag=at1"));
	assert_non_null(strstr(out, "CSeq: 4 BYE"));
	/* To the callee: caller's CSeq + 1, the callee's part. */
	bye(d, SIP_DLG_CALLEE, out, sizeof(out), &cseq);
	assert_int_equal(cseq, 6);
	assert_non_null(strstr(out, "Route: <sip:after.example;lr>\r\n"));
	assert_null(strstr(out, "before.example"));
	assert_non_null(strstr(out, "From: <sip:alice@example.com>;tag=at1"));
	/* The same dialog again: reported, with the record here. */
	assert_int_equal(sip_dlg_restore(tab, &r, &d2), -EEXIST);
	assert_ptr_equal(d2, d);
	/* Ended by the takeover: one call record. */
	assert_int_equal(sip_dlg_end(d, SIP_DLG_END_TAKEOVER), 0);
	assert_int_equal(nends, 1);
	assert_int_equal(ended, SIP_DLG_END_TAKEOVER);
	assert_true(ended_record);
	assert_string_equal(sip_dlg_reason_name(SIP_DLG_END_TAKEOVER),
			    "takeover");
	sip_dlgs_gc(tab);
	assert_int_equal(sip_dlgs_count(tab, SIP_DLG__NSTATES), 0);
}

static void test_restore_times_clamped(void **state)
{
	struct sip_dlg_restore r = sample();
	struct sip_dlg *d;

	(void)state;
	/* A start in the future (clocks apart) and an answer before start:
	 * no negative durations. */
	r.start_wall = WALL0 + 5000;
	r.answer_wall = WALL0;
	assert_int_equal(sip_dlg_restore(tab, &r, &d), 0);
	assert_true(d->start_mono == T0);
	assert_true(d->answer_mono == T0);
	/* No caller CSeq known: BYE to the callee starts at 1. */
	r = sample();
	r.call_id = str_cstr("c2");
	r.has_cseq[0] = false;
	r.cseq[0] = 0;
	assert_int_equal(sip_dlg_restore(tab, &r, &d), 0);
	{
		char out[2048];
		uint32_t cseq;

		bye(d, SIP_DLG_CALLEE, out, sizeof(out), &cseq);
		assert_int_equal(cseq, 1);
	}
	/* Pool of 2 full. */
	r.call_id = str_cstr("c3");
	assert_int_equal(sip_dlg_restore(tab, &r, &d), -ENOSPC);
}

static void test_restore_refuses(void **state)
{
	struct sip_dlg_restore r;
	struct sip_dlg *d;

	(void)state;
	r = sample();
	r.tag[1] = STR_NULL;
	assert_int_equal(sip_dlg_restore(tab, &r, &d), -EINVAL);
	r = sample();
	r.call_id = STR_NULL;
	assert_int_equal(sip_dlg_restore(tab, &r, &d), -EINVAL);
	r = sample();
	r.contact[0] = str_cstr("sip:a@b\r\nX: y");
	assert_int_equal(sip_dlg_restore(tab, &r, &d), -EINVAL);
	r = sample();
	r.n_up = 4;
	assert_int_equal(sip_dlg_restore(tab, &r, &d), -EINVAL);
	r = sample();
	r.cseq[1] = 0x80000000u;
	assert_int_equal(sip_dlg_restore(tab, &r, &d), -EINVAL);
	assert_int_equal(sip_dlg_restore(NULL, &r, &d), -EINVAL);
	assert_int_equal(sip_dlgs_count(tab, SIP_DLG__NSTATES), 0);
}

static void test_restore_alloc_failures(void **state)
{
	struct sip_dlg_restore r = sample();
	struct sip_dlg *d;
	int n, rc;

	(void)state;
	for (n = 1; n < 8; n++) {
		mem_fail_nth(n);
		rc = sip_dlg_restore(tab, &r, &d);
		mem_fail_nth(0);
		if (rc == 0) {
			assert_int_equal(sip_dlg_end(d, SIP_DLG_END_TAKEOVER),
					 0);
			sip_dlgs_gc(tab);
			continue;
		}
		assert_int_equal(rc, -ENOMEM);
		assert_int_equal(sip_dlgs_count(tab, SIP_DLG__NSTATES), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_restore_and_bye, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restore_times_clamped,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_refuses, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restore_alloc_failures,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
