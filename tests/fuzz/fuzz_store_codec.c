/*
 * fuzz_store_codec.c - the bans-channel message and ban record parsers
 * (store_codec.c) on hostile bytes: what a compromised instance or
 * anyone able to write to Redis could send.
 * Invariants: a parsed message has a valid origin and key, NUL-terminated
 * text fields without control bytes; formatting it again and parsing that
 * gives the same ban (the encoder only ever cleans, so a second round is
 * exact).  A message whose key is a toll-fraud hold's ("fb:"/"fd:" and
 * 16 hex digits) goes to a fraud share as bansync.c hands it over: the
 * hold table stays within its bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guard/fraud_int.h"
#include "store/store.h"

#include "fuzz_check.h"

static void text_ok(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	CHECK(n < cap);
	while (n--)
		CHECK((unsigned char)s[n] >= 0x20 && s[n] != 0x7f);
}

/* As bansync.c: a hold's key goes to the fraud share. */
static void to_share(const struct store_msg *m)
{
	static struct fraud_share *sh;
	const uint64_t wall = 1700000000000ull;

	if (!fraud_share_hold_key(m->b.key))
		return;
	CHECK(strlen(m->b.key) == 19);
	if (!sh && fraud_share_new(&sh, NULL, NULL) != 0)
		return;
	if (m->ban)
		fraud_share_hold_put(sh, &m->b, wall);
	else
		fraud_share_hold_del(sh, m->b.key);
	CHECK(sh->nholds <= FR_HOLDS);
	for (size_t i = 0; i < sh->nholds; i++)
		CHECK(sh->holds[i].h && sh->holds[i].until_wall > wall &&
		      sh->holds[i].until_wall - wall <= FR_HOLD_MAX_MS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[STORE_RECORD_MAX + 128], origin[STORE_INSTANCE_MAX];
	struct store_msg m, m2;
	struct store_ban b;
	int n;

	if (store_msg_parse(&m, str_make((const char *)data, size)) != 0) {
		/* Also as a bare record for a fixed key. */
		if (store_ban_decode(&b, str_cstr("192.0.2.1"),
				     str_make((const char *)data, size)) == 0) {
			text_ok(b.rule, sizeof(b.rule));
			text_ok(b.reason, sizeof(b.reason));
		}
		return 0;
	}
	CHECK(store_instance_valid(m.origin));
	CHECK(store_key_valid(str_cstr(m.b.key)));
	to_share(&m);
	text_ok(m.b.rule, sizeof(m.b.rule));
	text_ok(m.b.reason, sizeof(m.b.reason));
	memcpy(origin, m.origin.p, m.origin.len);
	origin[m.origin.len] = '\0';
	n = store_msg_format(buf, sizeof(buf), m.ban, origin, &m.b);
	CHECK(n > 0);
	CHECK(store_msg_parse(&m2, str_make(buf, (size_t)n)) == 0);
	CHECK(m2.ban == m.ban);
	CHECK(!strcmp(m2.b.key, m.b.key));
	if (m.ban) {
		/* '|' in a rule is cleaned to '_' on the way out. */
		CHECK(m2.b.expires_wall_ms == m.b.expires_wall_ms);
		CHECK(m2.b.start_wall_ms == m.b.start_wall_ms);
		CHECK(m2.b.offences == m.b.offences);
		CHECK(!strcmp(m2.b.reason, m.b.reason));
	}
	return 0;
}
