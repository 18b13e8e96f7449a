/*
 * test_siphash.c - SipHash-2-4 against the reference vectors of the
 * SipHash paper (key 00..0f, messages 00..n-1 for n = 0..63), and the
 * case-folding variant against hashing a lower-cased copy.
 */
#include <stdlib.h>

#include "test.h"
#include "core/core.h"

static const uint8_t ref_key[16] = {0, 1, 2,  3,  4,  5,  6,  7,
				    8, 9, 10, 11, 12, 13, 14, 15};

static const uint64_t ref_out[64] = {
	0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL,
	0x85676696d7fb7e2dULL, 0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL,
	0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL, 0x93f5f5799a932462ULL,
	0x9e0082df0ba9e4b0ULL, 0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
	0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL, 0xf723ca908e7af2eeULL,
	0xa129ca6149be45e5ULL, 0x3f2acc7f57c29bdbULL, 0x699ae9f52cbe4794ULL,
	0x4bc1b3f0968dd39cULL, 0xbb6dc91da77961bdULL, 0xbed65cf21aa2ee98ULL,
	0xd0f2cbb02e3b67c7ULL, 0x93536795e3a33e88ULL, 0xa80c038ccd5ccec8ULL,
	0xb8ad50c6f649af94ULL, 0xbce192de8a85b8eaULL, 0x17d835b85bbb15f3ULL,
	0x2f2e6163076bcfadULL, 0xde4daaaca71dc9a5ULL, 0xa6a2506687956571ULL,
	0xad87a3535c49ef28ULL, 0x32d892fad841c342ULL, 0x7127512f72f27cceULL,
	0xa7f32346f95978e3ULL, 0x12e0b01abb051238ULL, 0x15e034d40fa197aeULL,
	0x314dffbe0815a3b4ULL, 0x027990f029623981ULL, 0xcadcd4e59ef40c4dULL,
	0x9abfd8766a33735cULL, 0x0e3ea96b5304a7d0ULL, 0xad0c42d6fc585992ULL,
	0x187306c89bc215a9ULL, 0xd4a60abcf3792b95ULL, 0xf935451de4f21df2ULL,
	0xa9538f0419755787ULL, 0xdb9acddff56ca510ULL, 0xd06c98cd5c0975ebULL,
	0xe612a3cb9ecba951ULL, 0xc766e62cfcadaf96ULL, 0xee64435a9752fe72ULL,
	0xa192d576b245165aULL, 0x0a8787bf8ecb74b2ULL, 0x81b3e73d20b49b6fULL,
	0x7fa8220ba3b2eceaULL, 0x245731c13ca42499ULL, 0xb78dbfaf3a8d83bdULL,
	0xea1ad565322a1a0bULL, 0x60e61c23a3795013ULL, 0x6606d7e446282b93ULL,
	0x6ca4ecb15c5f91e1ULL, 0x9f626da15c9625f3ULL, 0xe51b38608ef25f57ULL,
	0x958a324ceb064572ULL,
};

static void test_reference_vectors(void **state)
{
	uint8_t msg[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	for (i = 0; i < 64; i++) {
		if (siphash24(msg, i, ref_key) != ref_out[i])
			fail_msg("vector %zu", i);
	}
	/* Input bytes are read as they are, wherever they sit in memory. */
	{
		uint8_t shifted[65];

		memcpy(shifted + 1, msg, 63);
		assert_true(siphash24(shifted + 1, 63, ref_key) == ref_out[63]);
	}
	assert_true(siphash24(NULL, 0, ref_key) == ref_out[0]);
}

static uint8_t lower_ascii(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
}

/*
 * Every byte value at every position of a word and of the tail: the
 * branch-free folding must touch exactly 'A'..'Z' (0xc1 & 0x7f == 'A'
 * and similar high bytes must stay as they are).
 */
static void test_case_fold_every_byte(void **state)
{
	uint8_t a[24], b[24];
	size_t len, pos;
	unsigned c;

	(void)state;
	srand(1);
	for (len = 1; len <= sizeof(a); len++) {
		for (pos = 0; pos < len; pos++) {
			for (c = 0; c < 256; c++) {
				size_t i;

				for (i = 0; i < len; i++)
					a[i] = (uint8_t)rand();
				a[pos] = (uint8_t)c;
				for (i = 0; i < len; i++)
					b[i] = lower_ascii(a[i]);
				if (siphash24_case(a, len, ref_key) !=
				    siphash24(b, len, ref_key))
					fail_msg("len %zu pos %zu byte %u", len,
						 pos, c);
			}
		}
	}
}

static void test_case_examples(void **state)
{
	static const struct {
		const char *a, *b;
		bool same;
	} cases[] = {
		{"Call-ID", "call-id", true},
		{"VIA", "via", true},
		{"alice@EXAMPLE.com", "ALICE@example.COM", true},
		{"a", "b", false},
		{"@", "`", false}, /* just outside 'A'..'Z' */
		{"[", "{", false},
		{"\xc1", "\xe1", false}, /* high bytes are not letters */
		{"", "", true},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t ha =
			siphash24_case(cases[i].a, strlen(cases[i].a), ref_key);
		uint64_t hb =
			siphash24_case(cases[i].b, strlen(cases[i].b), ref_key);

		if ((ha == hb) != cases[i].same)
			fail_msg("case %zu", i);
	}
	/* Exact hashing stays case-sensitive. */
	assert_true(siphash24("VIA", 3, ref_key) !=
		    siphash24("via", 3, ref_key));
}

static void test_key_matters(void **state)
{
	uint8_t k2[16];

	(void)state;
	memcpy(k2, ref_key, sizeof(k2));
	k2[15] ^= 1;
	assert_true(siphash24("x", 1, ref_key) != siphash24("x", 1, k2));
	assert_no_leaks();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_vectors),
		cmocka_unit_test(test_case_fold_every_byte),
		cmocka_unit_test(test_case_examples),
		cmocka_unit_test(test_key_matters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
