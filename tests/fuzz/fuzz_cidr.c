/*
 * fuzz_cidr.c - gate_cidr_parse and gate_src_parse on hostile bytes.
 * Invariants: failures give -EINVAL and a reason; a parsed prefix has a
 * known family, a length in range, no host bits and no mapped IPv6 form
 * left; printing and parsing again gives the same prefix (same for ban
 * keys); a gate whose allow list is that prefix allows its first and
 * last address, refuses the address just past it, and never bans it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "guard/gate.h"

#include "fuzz_check.h"

static const uint8_t fuzz_key[16] = "fuzz-cidr-key!!";

static bool bit(const uint8_t *a, unsigned i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

static void flip(uint8_t *a, unsigned i)
{
	a[i / 8] ^= (uint8_t)(1u << (7 - i % 8));
}

static struct sg_addr mkaddr(int fam, const uint8_t *a)
{
	struct sg_addr s;

	memset(&s, 0, sizeof(s));
	s.u.sa.sa_family = (sa_family_t)fam;
	if (fam == AF_INET)
		memcpy(&s.u.in.sin_addr, a, 4);
	else
		memcpy(s.u.in6.sin6_addr.s6_addr, a, 16);
	return s;
}

/*
 * An address of an IPv6 prefix that is IPv4-mapped counts as IPv4, so
 * an IPv6 allow prefix does not cover it.
 */
static bool v4_mapped(int fam, const uint8_t *a)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
					   0, 0, 0, 0, 0xff, 0xff};

	return fam == AF_INET6 && memcmp(a, mapped, 12) == 0;
}

static void check_prefix(const struct gate_cidr *c)
{
	unsigned max = c->family == AF_INET ? 32 : 128, i;

	CHECK(c->family == AF_INET || c->family == AF_INET6);
	CHECK(c->bits <= max);
	for (i = c->bits; i < 128; i++)
		CHECK(!bit(c->a, i));
	CHECK(!(c->bits >= 96 && v4_mapped(c->family, c->a)));
}

static void check_inside(struct gate *g, const struct gate_cidr *c,
			 const uint8_t *b)
{
	struct sg_addr a = mkaddr(c->family, b);
	struct guard_src src;

	if (v4_mapped(c->family, b)) {
		CHECK(!gate_cidr_contains(c, &a));
		return;
	}
	CHECK(gate_allowed(g, &a) && gate_cidr_contains(c, &a));
	CHECK(gate_check(g, &a, 100, 0) == GATE_PASS);
	CHECK(gate_check(g, &a, 100, 0) == GATE_PASS);
	guard_src_from_addr(&src, &a);
	CHECK(gate_ban(g, &src, 0, "fuzz", "fuzz", 0, 0) == -EPERM);
}

/* A gate allowing exactly c: inside passes, outside does not. */
static void check_gate(const struct gate_cidr *c, const char *text)
{
	unsigned max = c->family == AF_INET ? 32 : 128, i;
	const char *allow[1] = {text};
	struct gate_conf conf;
	struct sg_addr a;
	struct gate *g;
	uint8_t b[16];
	char err[128];

	gate_conf_default(&conf);
	conf.sources = GATE_SRC_MIN;
	conf.bans = 1;
	conf.pkt_rate = 1;
	conf.pkt_burst = 1;
	conf.allow = allow;
	conf.n_allow = 1;
	conf.hash_key = fuzz_key;
	CHECK(gate_new(&g, &conf, err, sizeof(err)) == 0);
	memcpy(b, c->a, 16);
	check_inside(g, c, b);
	for (i = c->bits; i < max; i++)
		flip(b, i);
	check_inside(g, c, b);
	if (c->bits > 0) {
		memcpy(b, c->a, 16);
		flip(b, c->bits - 1u);
		a = mkaddr(c->family, b);
		CHECK(!gate_cidr_contains(c, &a) && !gate_allowed(g, &a));
	}
	gate_free(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str in = str_make((const char *)data, size);
	struct gate_cidr c, c2;
	struct guard_src s, s2;
	const char *why = NULL;
	char buf[GATE_CIDR_STRLEN], sbuf[64];
	int rc;

	rc = gate_cidr_parse(&c, in, &why);
	if (rc) {
		CHECK(rc == -EINVAL && why);
	} else {
		check_prefix(&c);
		gate_cidr_fmt(&c, buf, sizeof(buf));
		CHECK(gate_cidr_parse(&c2, str_cstr(buf), &why) == 0);
		CHECK(memcmp(&c, &c2, sizeof(c)) == 0);
		check_gate(&c, buf);
	}
	why = NULL;
	rc = gate_src_parse(&s, in, &why);
	if (rc) {
		CHECK(rc == -EINVAL && why);
	} else {
		CHECK((s.family == AF_INET && s.len == 4) ||
		      (s.family == AF_INET6 && s.len == 8));
		guard_src_fmt(&s, sbuf, sizeof(sbuf));
		CHECK(gate_src_parse(&s2, str_cstr(sbuf), &why) == 0);
		CHECK(guard_src_eq(&s, &s2));
	}
	CHECK(mem_live() == 0);
	return 0;
}
