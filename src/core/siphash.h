/*
 * siphash.h - SipHash-2-4, a keyed 64-bit PRF for hash tables.
 *
 * Every hash table keyed by bytes an attacker chooses (Call-ID, source
 * address, user name, header value) hashes with SipHash under a random
 * per-table key, so nobody outside the process can predict which keys
 * collide and flood one bucket (hash-flooding DoS).  Reference: Aumasson
 * and Bernstein, "SipHash: a fast short-input PRF" (2012).
 */
#ifndef SIPGUARD_CORE_SIPHASH_H
#define SIPGUARD_CORE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

enum {
	SIPHASH_KEY_LEN = 16, /* 128-bit key */
};

/*
 * SipHash-2-4 of the n bytes at p under key.  p may be NULL when n is 0.
 * Pure function: no allocation, no state.
 */
uint64_t siphash24(const void *p, size_t n, const uint8_t key[16]);

/*
 * Same as siphash24() on a copy of the input where ASCII 'A'..'Z' are
 * folded to 'a'..'z'; every other byte (UTF-8 included) is hashed as is.
 * Keys that compare equal under str_caseeq() hash equal here, which is
 * what tables keyed by header names, domains or user names need.
 */
uint64_t siphash24_case(const void *p, size_t n, const uint8_t key[16]);

#endif
