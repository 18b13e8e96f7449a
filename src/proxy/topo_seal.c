/*
 * topo_seal.c - sealed tokens for topology hiding: what sipguard hides
 * from an untrusted zone (an internal Contact URI, the internal part of a
 * Record-Route set, an internal Call-ID) travels outside as an opaque
 * token that only this process can open again.
 *
 * Construction (a deterministic authenticated encryption, SIV style,
 * built on SipHash-2-4 as the PRF):
 *   tag = SipHash(k_mac, kind || plain)                 8 bytes
 *   ct  = plain XOR SipHash(k_enc, tag || kind || i)   8-byte blocks, i = 0..
 *   token = base64url(tag || ct), no padding
 * Deterministic on purpose: every message of a dialog must carry the same
 * token (retransmissions, Call-ID), so the same plain text seals to the
 * same token; the tag doubles as the synthetic IV.  The token leaks the
 * length of what it hides, and whether two tokens hide the same thing,
 * nothing else.  Forging one means guessing a 64-bit tag.  `kind` keeps
 * tokens of one use (a Contact) from opening as another (a Route).
 * The two keys are derived from the proxy's random key (p->key) and live
 * as long as the process: tokens do not survive a restart, like calls.
 */
#include <errno.h>
#include <string.h>

#include "core/mem.h"
#include "core/siphash.h"
#include "proxy/proxy_int.h"

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void put64(uint8_t *p, uint64_t v)
{
	unsigned i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Derive the two keys from the proxy key (16 random bytes). */
void proxy__topo_keys(struct proxy_topo_keys *k, const uint8_t key[16])
{
	static const char lmac[] = "sipguard topo mac",
			  lenc[] = "sipguard topo enc";

	put64(k->mac, siphash24(lmac, sizeof(lmac), key));
	put64(k->mac + 8, siphash24(lmac, sizeof(lmac) - 1, key));
	put64(k->enc, siphash24(lenc, sizeof(lenc), key));
	put64(k->enc + 8, siphash24(lenc, sizeof(lenc) - 1, key));
}

static uint64_t seal_tag(const struct proxy_topo_keys *k, char kind,
			 const uint8_t *plain, size_t n)
{
	uint8_t tmp[1 + PROXY_TOPO_MAX_PLAIN];

	tmp[0] = (uint8_t)kind;
	memcpy(tmp + 1, plain, n);
	return siphash24(tmp, n + 1, k->mac);
}

/* dst = src XOR keystream(tag, kind); dst may equal src. */
static void seal_xor(const struct proxy_topo_keys *k, char kind, uint64_t tag,
		     const uint8_t *src, uint8_t *dst, size_t n)
{
	uint8_t blk[13], ks[8];
	size_t i;

	put64(blk, tag);
	blk[8] = (uint8_t)kind;
	for (i = 0; i < n; i++) {
		if (i % 8 == 0) {
			uint32_t ctr = (uint32_t)(i / 8);

			memcpy(blk + 9, &ctr, 4);
			put64(ks, siphash24(blk, sizeof(blk), k->enc));
		}
		dst[i] = src[i] ^ ks[i % 8];
	}
}

/*
 * Seal plain (at most PROXY_TOPO_MAX_PLAIN bytes) as a token of the given
 * kind into out (NUL-terminated).  Returns the token length, -E2BIG when
 * plain is too long, -ENOSPC when out is too small.
 */
int proxy__topo_seal(const struct proxy_topo_keys *k, char kind,
		     struct str plain, char *out, size_t outsz)
{
	uint8_t raw[PROXY_TOPO_MAC_LEN + PROXY_TOPO_MAX_PLAIN];
	size_t n, i, o = 0;
	uint64_t tag;

	if (plain.len > PROXY_TOPO_MAX_PLAIN)
		return -E2BIG;
	n = PROXY_TOPO_MAC_LEN + plain.len;
	if ((n * 4 + 2) / 3 + 1 > outsz)
		return -ENOSPC;
	tag = seal_tag(k, kind, (const uint8_t *)plain.p, plain.len);
	put64(raw, tag);
	seal_xor(k, kind, tag, (const uint8_t *)plain.p,
		 raw + PROXY_TOPO_MAC_LEN, plain.len);
	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)raw[i] << 16 |
			     (uint32_t)raw[i + 1] << 8 | raw[i + 2];

		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	if (n - i == 1) {
		out[o++] = b64[raw[i] >> 2];
		out[o++] = b64[(raw[i] & 3) << 4];
	} else if (n - i == 2) {
		out[o++] = b64[raw[i] >> 2];
		out[o++] = b64[((raw[i] & 3) << 4) | (raw[i + 1] >> 4)];
		out[o++] = b64[(raw[i + 1] & 15) << 2];
	}
	out[o] = '\0';
	return (int)o;
}

static int b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* base64url without padding; -EINVAL on any other byte or length. */
static int b64_decode(uint8_t *dst, size_t dstsz, struct str s)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t i, n = 0;

	if (s.len % 4 == 1 || s.len * 3 / 4 > dstsz)
		return -EINVAL;
	for (i = 0; i < s.len; i++) {
		int v = b64_val(s.p[i]);

		if (v < 0)
			return -EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			dst[n++] = (uint8_t)(acc >> bits);
		}
	}
	/* Left-over bits must be zero: one encoding per token. */
	if (acc & ((1u << bits) - 1))
		return -EINVAL;
	return (int)n;
}

/*
 * Open a token of the given kind into out (NUL-terminated).  Returns the
 * plain length, or -EBADMSG for anything we did not seal (bad syntax,
 * wrong length, wrong kind, altered or forged): callers treat such a
 * token as foreign text and route nothing by it.  -ENOSPC: out too small.
 * Hostile input is fine: bounded, no allocation.
 */
int proxy__topo_open(const struct proxy_topo_keys *k, char kind, struct str tok,
		     char *out, size_t outsz)
{
	uint8_t raw[PROXY_TOPO_MAC_LEN + PROXY_TOPO_MAX_PLAIN];
	uint64_t tag, want, diff;
	size_t len;
	int n;

	n = b64_decode(raw, sizeof(raw), tok);
	if (n < PROXY_TOPO_MAC_LEN)
		return -EBADMSG;
	len = (size_t)n - PROXY_TOPO_MAC_LEN;
	if (len + 1 > outsz)
		return -ENOSPC;
	tag = get64(raw);
	seal_xor(k, kind, tag, raw + PROXY_TOPO_MAC_LEN, (uint8_t *)out, len);
	want = seal_tag(k, kind, (const uint8_t *)out, len);
	/* Compare without an early exit (no timing oracle on the tag). */
	diff = want ^ tag;
	if (diff) {
		memset(out, 0, len);
		return -EBADMSG;
	}
	out[len] = '\0';
	return (int)len;
}
