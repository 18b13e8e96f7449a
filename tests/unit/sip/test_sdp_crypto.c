/*
 * test_sdp_crypto.c - SDES a=crypto keys (sip/sdp_crypto.c): every suite
 * we run, inline keys decoded, lifetime and MKI tolerated, lines we skip
 * (unknown suite, UNENCRYPTED/UNAUTHENTICATED, KDR) told apart from
 * malformed ones, and our own lines written so that they read back.
 */
#include "test.h"

#include <errno.h>

#include "sip/sip.h"

/* 30 bytes 0x00..0x1d; 46 bytes 0x00..0x2d; 28; 44. */
#define K30 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd"
#define K46 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLQ=="
#define K28 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw=="
#define K44 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKis="

static const struct {
	const char *line;
	int want;
	int suite;
	uint32_t tag;
	unsigned mki_len;
	uint64_t mki;
} cases[] = {
	{"1 AES_CM_128_HMAC_SHA1_80 inline:" K30, 0,
	 SDP_SRTP_AES_CM_128_HMAC_SHA1_80, 1, 0, 0},
	{"2 AES_CM_128_HMAC_SHA1_32 inline:" K30 "|2^31", 0,
	 SDP_SRTP_AES_CM_128_HMAC_SHA1_32, 2, 0, 0},
	{"3 AES_256_CM_HMAC_SHA1_80 inline:" K46, 0,
	 SDP_SRTP_AES_256_CM_HMAC_SHA1_80, 3, 0, 0},
	{"4 AEAD_AES_128_GCM inline:" K28, 0, SDP_SRTP_AEAD_AES_128_GCM, 4, 0,
	 0},
	{"5 AEAD_AES_256_GCM inline:" K44, 0, SDP_SRTP_AEAD_AES_256_GCM, 5, 0,
	 0},
	/* RFC 4568 9.1 example shape: lifetime and MKI. */
	{"1 AES_CM_128_HMAC_SHA1_80 inline:" K30 "|2^20|1:4", 0,
	 SDP_SRTP_AES_CM_128_HMAC_SHA1_80, 1, 4, 1},
	{"9 AES_CM_128_HMAC_SHA1_80 inline:" K30 "|258:2", 0,
	 SDP_SRTP_AES_CM_128_HMAC_SHA1_80, 9, 2, 258},
	{"1 AES_CM_128_HMAC_SHA1_80 inline:" K30 " FEC_ORDER=FEC_SRTP", 0,
	 SDP_SRTP_AES_CM_128_HMAC_SHA1_80, 1, 0, 0},
	{"1 AES_CM_128_HMAC_SHA1_80 inline:" K30 " KDR=0", 0,
	 SDP_SRTP_AES_CM_128_HMAC_SHA1_80, 1, 0, 0},
	/* Valid lines we skip. */
	{"1 F8_128_HMAC_SHA1_80 inline:" K30, -ENOTSUP, 0, 1, 0, 0},
	{"1 AES_192_CM_HMAC_SHA1_80 inline:"
	 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCU=",
	 -ENOTSUP, 0, 1, 0, 0},
	{"1 NEW_SUITE_2030 inline:QUJD", -ENOTSUP, 0, 1, 0, 0},
	{"1 AES_CM_128_HMAC_SHA1_80 inline:" K30 " UNENCRYPTED_SRTP", -ENOTSUP,
	 0, 1, 0, 0},
	{"1 AES_CM_128_HMAC_SHA1_80 inline:" K30 " UNAUTHENTICATED_SRTP",
	 -ENOTSUP, 0, 1, 0, 0},
	{"1 AES_CM_128_HMAC_SHA1_80 inline:" K30 " KDR=24", -ENOTSUP, 0, 1, 0,
	 0},
	{"1 AES_CM_128_HMAC_SHA1_80 inline:" K30 "|1:9", -ENOTSUP, 0, 1, 0, 0},
	/* Malformed. */
	{"", -EINVAL, 0, 0, 0, 0},
	{"1 AES_CM_128_HMAC_SHA1_80", -EINVAL, 0, 0, 0, 0},
	{"x AES_CM_128_HMAC_SHA1_80 inline:" K30, -EINVAL, 0, 0, 0, 0},
	{"1 AES_CM_128_HMAC_SHA1_80 inline:QUJD", -EINVAL, 0, 0, 0, 0},
	{"1 AES_CM_128_HMAC_SHA1_80 inline:" K30 "=", -EINVAL, 0, 0, 0, 0},
	{"1 AES_CM_128_HMAC_SHA1_80 inline:" K30 "|1:0", -EINVAL, 0, 0, 0, 0},
	{"1 AES_CM_128_HMAC_SHA1_80 inline:" K30 "|300:1", -EINVAL, 0, 0, 0, 0},
	{"1 AES_CM_128_HMAC_SHA1_80 key:" K30, -EINVAL, 0, 0, 0, 0},
	/* Non-canonical base64: the last character has stray bits. */
	{"4 AEAD_AES_128_GCM inline:"
	 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGx==",
	 -EINVAL, 0, 0, 0, 0},
};

static void test_key_get(void **state)
{
	struct sdp_srtp_key k;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = sdp_srtp_key_get(&k, str_cstr(cases[i].line));

		if (rc != cases[i].want)
			fail_msg("case %zu (%s): %d", i, cases[i].line, rc);
		if (rc)
			continue;
		assert_int_equal(k.suite, cases[i].suite);
		assert_int_equal(k.tag, cases[i].tag);
		assert_int_equal(k.key_len, sdp_srtp_key_len(k.suite));
		for (j = 0; j < k.key_len; j++)
			assert_int_equal(k.key[j], j);
		assert_int_equal(k.mki_len, cases[i].mki_len);
		assert_true(k.mki == cases[i].mki);
		sdp_srtp_key_wipe(&k);
		for (j = 0; j < sizeof(k.key); j++)
			assert_int_equal(k.key[j], 0);
	}
}

static void test_format(void **state)
{
	char line[SDP_SRTP_LINE_MAX];
	uint8_t key[SDP_SRTP_KEY_MAX];
	struct sdp_srtp_key k;
	int s, n;
	size_t j, len;

	(void)state;
	for (j = 0; j < sizeof(key); j++)
		key[j] = (uint8_t)(0xA5 ^ (j * 37));
	for (s = 1; s < SDP_SRTP_NSUITES; s++) {
		len = sdp_srtp_key_len(s);
		n = sdp_srtp_format(line, sizeof(line), (uint32_t)s * 7, s, key,
				    len);
		assert_true(n > 0 && (size_t)n < sizeof(line));
		assert_memory_equal(line, "crypto:", 7);
		assert_int_equal(sdp_srtp_key_get(&k, str_cstr(line + 7)), 0);
		assert_int_equal(k.suite, s);
		assert_int_equal(k.tag, (uint32_t)s * 7);
		assert_int_equal(k.key_len, len);
		assert_memory_equal(k.key, key, len);
		assert_string_equal(sdp_srtp_suite_name(s),
				    sdp_srtp_suite_name(sdp_srtp_suite_id(
					    str_cstr(sdp_srtp_suite_name(s)))));
	}
	/* Wrong key length, unknown suite, no room. */
	assert_int_equal(sdp_srtp_format(line, sizeof(line), 1, 1, key, 29),
			 -EINVAL);
	assert_int_equal(sdp_srtp_format(line, sizeof(line), 1, 99, key, 30),
			 -EINVAL);
	assert_int_equal(sdp_srtp_format(line, 40, 1, 1, key, 30), -ENOSPC);
	assert_int_equal(sdp_srtp_suite_id(STR("aes_cm_128_hmac_sha1_80")),
			 SDP_SRTP_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_get),
		cmocka_unit_test(test_format),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
