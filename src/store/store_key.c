/*
 * store_key.c - the cluster's user-hash key (issue 9): the key of the
 * keyed hash that names a user in a shared counter (authentication
 * failures per user, guard/rate_share.c), so that Redis never holds a
 * user name in clear.
 *
 * Every instance must compute the same key, and Redis must not be able
 * to: the key is derived from a secret the instances share and Redis
 * never sees (store.secret), else from the AUTH password (which Redis
 * knows, but a reader of its keys, its dumps or MONITOR does not), and
 * from key_prefix (so that two clusters sharing one Redis and one
 * secret still name users apart):
 *
 *     key = first 16 bytes of HMAC-SHA256(secret,
 *                                         "sipguard user key v1\0" prefix)
 *
 * Neither set: no key, and per-user counts stay per instance.  A key
 * anyone could compute (from the prefix alone) would let whoever reads
 * Redis test candidate user names, which are few (extensions) and
 * guessable.  Such a key, store_public_key() (the same derivation with
 * STORE_PUBLIC_SECRET), serves only counters that must stay shared
 * without a secret (the toll-fraud limits, which issue 9 requires to
 * hold across the cluster): names are then not in clear, but not
 * protected either, and the daemon says so at start.
 *
 * store_hkey() writes such a hash as a key: a family and 16 hex digits
 * (toll fraud's keys, fraud_share.c; the failure and request-rate
 * windows, rate_share.c).
 */
#include "store/store_int.h"

#include <errno.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/mem.h"

int store__user_key(uint8_t key[STORE_USER_KEY_LEN], const char *secret,
		    const char *prefix)
{
	static const char label[] = "sipguard user key v1";
	unsigned char msg[sizeof(label) + STORE_PREFIX_MAX];
	unsigned char out[EVP_MAX_MD_SIZE];
	unsigned int outlen = 0;
	size_t pn = prefix ? strlen(prefix) : 0;

	if (!secret || !*secret)
		return -ENOKEY;
	if (pn >= STORE_PREFIX_MAX)
		pn = STORE_PREFIX_MAX - 1;
	memcpy(msg, label, sizeof(label)); /* with its NUL: a separator */
	if (pn)
		memcpy(msg + sizeof(label), prefix, pn);
	if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), msg,
		  sizeof(label) + pn, out, &outlen) ||
	    outlen < STORE_USER_KEY_LEN)
		return -EIO;
	memcpy(key, out, STORE_USER_KEY_LEN);
	mem_secclean(out, sizeof(out));
	return 0;
}

struct str store_hkey(char buf[STORE_HKEY_MAX], const char *family, uint64_t h)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = family ? strnlen(family, STORE_HKEY_MAX - 17) : 0;
	unsigned b;

	if (o)
		memcpy(buf, family, o);
	/* A byte (two digits) a step: written for every counter key. */
	for (i = 0; i < 8; i++) {
		b = (unsigned)(h >> (56 - 8 * i)) & 0xff;
		buf[o++] = hex[b >> 4];
		buf[o++] = hex[b & 15];
	}
	buf[o] = '\0';
	return str_make(buf, o);
}
