/*
 * test_evstats.c - the counters the operations views derive from
 * security events: one series per (type, event, rule) text even when the
 * strings are separate copies; the table full (lost, nothing overwritten);
 * the top offending sources: which events count (not unban, expiry,
 * notice, or no source), host vs prefix, the last reason kept and cut,
 * sorting, and the space-saving rule under a flood of spoofed sources
 * (the table never grows, a real heavy hitter stays on top).
 */
#include <stdio.h>

#include "test.h"
#include "events/events.h"

static struct ev mk(const char *type, const char *event, const char *rule,
		    const char *src, uint8_t plen, const char *reason)
{
	struct ev e;

	memset(&e, 0, sizeof(e));
	e.type = type;
	e.event = event;
	e.rule = rule;
	if (src)
		assert_int_equal(sg_addr_from_host(&e.src, str_cstr(src), 5060),
				 0);
	e.src_plen = plen;
	e.reason = reason ? str_cstr(reason) : STR_NULL;
	return e;
}

struct found {
	const char *type, *event, *rule;
	uint64_t n;
	unsigned seen;
};

static int find_fn(void *arg, const struct evstats_verdict *v)
{
	struct found *f = arg;

	if (!strcmp(v->type, f->type) && !strcmp(v->event, f->event) &&
	    ((!v->rule && !f->rule) ||
	     (v->rule && f->rule && !strcmp(v->rule, f->rule)))) {
		f->n = v->n;
		f->seen++;
	}
	return 0;
}

static uint64_t count_of(const struct evstats *s, const char *type,
			 const char *event, const char *rule, unsigned *seenp)
{
	struct found f = {type, event, rule, 0, 0};

	assert_int_equal(evstats_verdicts(s, find_fn, &f), 0);
	*seenp = f.seen;
	return f.n;
}

static void test_verdicts(void **state)
{
	static struct evstats s;
	/* Same text, different storage: must be one series. */
	char t2[] = "refuse", e2[] = "scanner", r2[] = "scanner-ua";
	struct ev a =
		mk(EV_REFUSE, "scanner", "scanner-ua", "192.0.2.1", 0, NULL);
	struct ev b = mk(t2, e2, r2, "192.0.2.2", 0, NULL);
	struct ev c = mk(EV_DROP, "scanner", "scanner-ua", NULL, 0, NULL);
	struct ev d = mk(EV_UNBAN, "manual", NULL, "192.0.2.1", 0, NULL);
	unsigned seen, i;

	(void)state;
	evstats_init(&s);
	evstats_count(&s, &a, 1);
	evstats_count(&s, &b, 2);
	evstats_count(&s, &c, 3);
	evstats_count(&s, &d, 4);
	evstats_count(&s, NULL, 5);
	evstats_count(NULL, &a, 5);
	assert_int_equal(count_of(&s, "refuse", "scanner", "scanner-ua", &seen),
			 2);
	assert_int_equal(seen, 1);
	assert_int_equal(count_of(&s, "drop", "scanner", "scanner-ua", &seen),
			 1);
	assert_int_equal(count_of(&s, "unban", "manual", NULL, &seen), 1);
	assert_int_equal(seen, 1);
	/* Fill the table: later new triples are lost, old ones still count. */
	{
		static char names[EVSTATS_VERDICTS + 8][16];
		struct ev x;

		for (i = 0; i < EVSTATS_VERDICTS + 8; i++) {
			snprintf(names[i], sizeof(names[i]), "ev%u", i);
			x = mk(EV_DROP, names[i], "r", NULL, 0, NULL);
			evstats_count(&s, &x, 6);
		}
		assert_int_equal(s.lost, 3 + 8);
		evstats_count(&s, &a, 7);
		assert_int_equal(
			count_of(&s, "refuse", "scanner", "scanner-ua", &seen),
			3);
	}
}

static void test_top_what_counts(void **state)
{
	static struct evstats s;
	struct evstats_top t[EVSTATS_TOP];
	char longr[200];
	struct ev e;
	size_t n;

	(void)state;
	evstats_init(&s);
	memset(longr, 'r', sizeof(longr) - 1);
	longr[sizeof(longr) - 1] = 0;
	e = mk(EV_DROP, "scanner", "scanner-ua", "192.0.2.1", 0, "first");
	evstats_count(&s, &e, 10);
	e = mk(EV_BAN, "scanner", "scanner-ua", "192.0.2.1", 0, longr);
	evstats_count(&s, &e, 20);
	/* Not offences, or no source: not in the table. */
	e = mk(EV_UNBAN, "manual", NULL, "192.0.2.9", 0, NULL);
	evstats_count(&s, &e, 30);
	e = mk(EV_EXPIRE, "ban", NULL, "192.0.2.9", 0, NULL);
	evstats_count(&s, &e, 30);
	e = mk(EV_NOTICE, "x", NULL, "192.0.2.9", 0, NULL);
	evstats_count(&s, &e, 30);
	e = mk(EV_DROP, "flood", "rate", NULL, 0, NULL);
	evstats_count(&s, &e, 30);
	/* A /64 and its first host are two entries. */
	e = mk(EV_BAN, "auth", "auth-bruteforce-ip", "2001:db8::", 64, NULL);
	evstats_count(&s, &e, 40);
	e = mk(EV_WOULD_DROP, "auth", "auth-bruteforce-ip", "2001:db8::", 0,
	       NULL);
	evstats_count(&s, &e, 50);
	evstats_count(&s, &e, 60);
	n = evstats_top(&s, t, EVSTATS_TOP);
	assert_int_equal(n, 3);
	/* Largest first; the last event's details kept, the reason cut. */
	assert_int_equal(t[0].count, 2);
	assert_int_equal(t[0].plen, 0);
	assert_string_equal(t[0].type, EV_BAN);
	assert_int_equal(strlen(t[0].reason), EVSTATS_REASON_MAX - 1);
	assert_int_equal(t[0].last_wall_ms, 20);
	assert_int_equal(t[1].count, 2);
	assert_int_equal(t[1].last_wall_ms, 60);
	assert_int_equal(t[2].plen, 64);
	assert_int_equal(evstats_top(&s, t, 1), 1);
	assert_int_equal(t[0].count, 2);
	assert_int_equal(evstats_top(NULL, t, 4), 0);
}

/* A steady attacker among a flood of one-packet spoofed sources: the
 * table stays at its size and the attacker stays first. */
static void test_top_space_saving(void **state)
{
	static struct evstats s;
	struct evstats_top t[EVSTATS_TOP];
	char ip[32];
	struct ev e;
	unsigned i;

	(void)state;
	evstats_init(&s);
	for (i = 0; i < 20000; i++) {
		if (i % 10 == 0) {
			e = mk(EV_DROP, "scanner", "scanner-ua", "203.0.113.7",
			       0, NULL);
			evstats_count(&s, &e, i);
		}
		snprintf(ip, sizeof(ip), "10.%u.%u.%u", i >> 16 & 255,
			 i >> 8 & 255, i & 255);
		e = mk(EV_DROP, "rate", "gate-rate", ip, 0, NULL);
		evstats_count(&s, &e, i);
	}
	assert_int_equal(s.ntop, EVSTATS_TOP);
	assert_int_equal(evstats_top(&s, t, EVSTATS_TOP), EVSTATS_TOP);
	assert_string_equal(sg_addr_ip(&t[0].src, ip, sizeof(ip)),
			    "203.0.113.7");
	/* Its count is at least its own 2000 (an upper bound). */
	assert_true(t[0].count >= 2000);
	for (i = 1; i < EVSTATS_TOP; i++)
		assert_true(t[i - 1].count >= t[i].count);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_top_what_counts),
		cmocka_unit_test(test_top_space_saving),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
