/*
 * siphash.c - SipHash-2-4 (c = 2 compression rounds, d = 4 finalisation
 * rounds, 64-bit output), written from the description in the SipHash
 * paper, section 2.  A case-folding variant feeds the same rounds with
 * ASCII upper case mapped to lower case, eight bytes at a time.
 */
#include "core/siphash.h"

#include <stdbool.h>
#include <string.h>

struct sip_state {
	uint64_t v0, v1, v2, v3;
};

static inline uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static inline void sip_round(struct sip_state *s)
{
	s->v0 += s->v1;
	s->v1 = rotl(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = rotl(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = rotl(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = rotl(s->v2, 32);
}

/* Little-endian load of n <= 8 bytes, independent of host byte order. */
static inline uint64_t load_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n--)
		v = (v << 8) | p[n];
	return v;
}

/*
 * Map the bytes 'A'..'Z' of a little-endian word to lower case without a
 * branch per byte.  For each byte b below 0x80, adding 0x80 - 'A' sets its
 * top bit when b >= 'A', and adding 0x80 - 'Z' - 1 sets it when b > 'Z';
 * neither sum carries into the next byte because the top bits were
 * cleared first.  The selected top bits, shifted down by two, are 0x20.
 */
static inline uint64_t fold_ascii(uint64_t x)
{
	const uint64_t hi = 0x8080808080808080ULL;
	uint64_t low7 = x & ~hi;
	uint64_t ge_a = low7 + 0x3f3f3f3f3f3f3f3fULL; /* 0x80 - 'A' */
	uint64_t gt_z = low7 + 0x2525252525252525ULL; /* 0x80 - 'Z' - 1 */
	uint64_t upper = ge_a & ~gt_z & ~x & hi;

	return x | (upper >> 2);
}

static inline void sip_absorb(struct sip_state *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

static uint64_t sip24(const uint8_t *in, size_t n, const uint8_t key[16],
		      bool fold)
{
	uint64_t k0 = load_le(key, 8), k1 = load_le(key + 8, 8);
	struct sip_state s = {
		.v0 = k0 ^ 0x736f6d6570736575ULL,
		.v1 = k1 ^ 0x646f72616e646f6dULL,
		.v2 = k0 ^ 0x6c7967656e657261ULL,
		.v3 = k1 ^ 0x7465646279746573ULL,
	};
	size_t left = n;
	uint64_t m;

	for (; left >= 8; in += 8, left -= 8) {
		m = load_le(in, 8);
		sip_absorb(&s, fold ? fold_ascii(m) : m);
	}
	/* Last block: the remaining bytes, with the length mod 256 on top. */
	m = load_le(in, left);
	if (fold)
		m = fold_ascii(m);
	sip_absorb(&s, m | ((uint64_t)(n & 0xff) << 56));

	s.v2 ^= 0xff;
	sip_round(&s);
	sip_round(&s);
	sip_round(&s);
	sip_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

uint64_t siphash24(const void *p, size_t n, const uint8_t key[16])
{
	return sip24(p, n, key, false);
}

uint64_t siphash24_case(const void *p, size_t n, const uint8_t key[16])
{
	return sip24(p, n, key, true);
}
