/*
 * test_sdp_dtls.c - DTLS-SRTP SDP attributes (sip/sdp_dtls.c): tables of
 * a=fingerprint, a=setup and a=tls-id values with the verdict each must
 * get, format/parse round trips, per-section collection from whole SDP
 * bodies, and the a=setup role rules.
 */
#include <stdio.h>

#include "test.h"

#include "sip/sdp_dtls.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define SHA1_HEX "4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB"
#define SHA256_HEX                                                        \
	"D1:2A:8E:0B:03:42:91:8C:74:55:E3:27:8A:A0:B1:C2:D3:E4:F5:06:17:" \
	"28:39:4A:5B:6C:7D:8E:9F:A0:B1:C2"
#define SHA256_LOW                                                        \
	"d1:2a:8e:0b:03:42:91:8c:74:55:e3:27:8a:a0:b1:c2:d3:e4:f5:06:17:" \
	"28:39:4a:5b:6c:7d:8e:9f:a0:b1:c2"
#define B16 "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"

static const char *const sha512_hex = B16 ":" B16 ":" B16 ":" B16;
static const char *const sha384_hex = B16 ":" B16 ":" B16;
static const char *const sha224_hex =
	B16 ":00:11:22:33:44:55:66:77:88:99:AA:BB";

static void test_fp_table(void **state)
{
	char v512[300], v384[300], v224[300], v513[300], big[1200];
	size_t i;
	const struct {
		const char *v;
		int want;
		enum sdp_dtls_hash hash;
	} cases[] = {
		{"sha-1 " SHA1_HEX, 0, SDP_DTLS_HASH_SHA1},
		{"sha-256 " SHA256_HEX, 0, SDP_DTLS_HASH_SHA256},
		{"SHA-256 " SHA256_LOW, 0, SDP_DTLS_HASH_SHA256},
		{"sha-256\t" SHA256_HEX, 0, SDP_DTLS_HASH_SHA256},
		{"sha-256  " SHA256_HEX, 0, SDP_DTLS_HASH_SHA256},
		{v512, 0, SDP_DTLS_HASH_SHA512},
		{v384, 0, SDP_DTLS_HASH_SHA384},
		{v224, 0, SDP_DTLS_HASH_SHA224},
		{"sha-256 " SHA1_HEX, -SDP_DTLS_E_LENGTH, 0},
		{"sha-1 " SHA256_HEX, -SDP_DTLS_E_LENGTH, 0},
		{v513, -SDP_DTLS_E_LENGTH, 0},
		{"md5 " B16, -SDP_DTLS_E_HASH, 0},
		{"md2 " B16, -SDP_DTLS_E_HASH, 0},
		{"sha3-256 " B16, -SDP_DTLS_E_HASH, 0},
		{big, -SDP_DTLS_E_HASH, 0}, /* unknown hash, long digest */
		{"md5 " B16 ":", -SDP_DTLS_E_HEX, 0},
		{"sha-256 " SHA256_HEX " ", -SDP_DTLS_E_SYNTAX, 0},
		{"sha-256 " SHA256_HEX " x", -SDP_DTLS_E_SYNTAX, 0},
		{" sha-256 " SHA256_HEX, -SDP_DTLS_E_SYNTAX, 0},
		{"sha-256", -SDP_DTLS_E_SYNTAX, 0},
		{"sha-256 ", -SDP_DTLS_E_SYNTAX, 0},
		{"", -SDP_DTLS_E_SYNTAX, 0},
		{"sha-256:" SHA256_HEX, -SDP_DTLS_E_SYNTAX, 0},
		{"sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:A",
		 -SDP_DTLS_E_HEX, 0},
		{"sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AG",
		 -SDP_DTLS_E_HEX, 0},
		{"sha-1 4A-AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB",
		 -SDP_DTLS_E_HEX, 0},
		{"sha-1 4AAD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:",
		 -SDP_DTLS_E_HEX, 0},
		{"sha-1 :4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C",
		 -SDP_DTLS_E_HEX, 0},
		{"sha-1 4a", -SDP_DTLS_E_LENGTH, 0},
		{"sha-1 \xff", -SDP_DTLS_E_HEX, 0},
	};

	(void)state;
	snprintf(v512, sizeof(v512), "sha-512 %s", sha512_hex);
	snprintf(v384, sizeof(v384), "sha-384 %s", sha384_hex);
	snprintf(v224, sizeof(v224), "sha-224 %s", sha224_hex);
	snprintf(v513, sizeof(v513), "sha-512 %s:00", sha512_hex);
	snprintf(big, sizeof(big), "sha-1024 %s:%s:%s:%s:%s", sha512_hex,
		 sha512_hex, sha512_hex, sha512_hex, sha512_hex);
	for (i = 0; i < N(cases); i++) {
		struct sdp_dtls_fp fp;
		int rc = sdp_dtls_fp_parse(&fp, str_cstr(cases[i].v));

		if (rc != cases[i].want)
			fail_msg("case %zu \"%s\": got %d (%s) want %d", i,
				 cases[i].v, rc, sdp_dtls_strerror(rc),
				 cases[i].want);
		assert_int_equal(fp.hash, cases[i].hash);
		assert_int_equal(fp.len, sdp_dtls_hash_len(cases[i].hash));
	}
	assert_int_equal(sdp_dtls_fp_parse(NULL, STR("sha-1 00")),
			 -SDP_DTLS_E_ARG);
}

static void test_fp_roundtrip(void **state)
{
	static const char *const in[] = {
		"sha-1 " SHA1_HEX,
		"sha-256 " SHA256_HEX,
		"sha-256 " SHA256_LOW,
	};
	struct sdp_dtls_fp a, b;
	char out[SDP_DTLS_FP_STRLEN];
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < N(in); i++) {
		assert_int_equal(sdp_dtls_fp_parse(&a, str_cstr(in[i])), 0);
		n = sdp_dtls_fp_format(out, sizeof(out), &a);
		assert_int_equal(n, (int)strlen(out));
		assert_int_equal(sdp_dtls_fp_parse(&b, str_cstr(out)), 0);
		assert_true(sdp_dtls_fp_eq(&a, &b));
	}
	assert_string_equal(out, "sha-256 " SHA256_HEX);
	/* The largest one fits SDP_DTLS_FP_STRLEN exactly. */
	memset(&a, 0xab, sizeof(a));
	a.hash = SDP_DTLS_HASH_SHA512;
	a.len = 64;
	assert_int_equal(sdp_dtls_fp_format(out, sizeof(out), &a),
			 (int)sizeof(out) - 1);
	assert_int_equal(sdp_dtls_fp_format(out, sizeof(out) - 1, &a),
			 -SDP_DTLS_E_SPACE);
	a.len = 63;
	assert_int_equal(sdp_dtls_fp_format(out, sizeof(out), &a),
			 -SDP_DTLS_E_ARG);
	/* Equality: hash and every byte. */
	assert_int_equal(sdp_dtls_fp_parse(&a, STR("sha-1 " SHA1_HEX)), 0);
	b = a;
	b.md[19] ^= 1;
	assert_false(sdp_dtls_fp_eq(&a, &b));
	b = a;
	b.hash = SDP_DTLS_HASH_SHA224;
	assert_false(sdp_dtls_fp_eq(&a, &b));
	assert_false(sdp_dtls_fp_eq(&a, NULL));
}

static void test_setup_tls_id(void **state)
{
	static const struct {
		const char *v;
		int want;
		enum sdp_setup s;
	} setups[] = {
		{"active", 0, SDP_SETUP_ACTIVE},
		{"passive", 0, SDP_SETUP_PASSIVE},
		{"actpass", 0, SDP_SETUP_ACTPASS},
		{"holdconn", 0, SDP_SETUP_HOLDCONN},
		{"Active", -SDP_DTLS_E_SETUP, SDP_SETUP_NONE},
		{"active ", -SDP_DTLS_E_SETUP, SDP_SETUP_NONE},
		{"", -SDP_DTLS_E_SETUP, SDP_SETUP_NONE},
		{"act", -SDP_DTLS_E_SETUP, SDP_SETUP_NONE},
	};
	static const struct {
		const char *v;
		int want;
	} ids[] = {
		{"abcdefghij0123456789", 0},
		{"abcdefghij012345678", -SDP_DTLS_E_TLS_ID},
		{"ab+/-_ghij0123456789", 0},
		{"abcdefghij 123456789", -SDP_DTLS_E_TLS_ID},
		{"abcdefghij01234567=9", -SDP_DTLS_E_TLS_ID},
		{"", -SDP_DTLS_E_TLS_ID},
	};
	char id[300], made[300];
	uint8_t rnd[128];
	struct str got;
	size_t i;
	enum sdp_setup s;

	(void)state;
	for (i = 0; i < N(setups); i++) {
		assert_int_equal(
			sdp_dtls_setup_parse(&s, str_cstr(setups[i].v)),
			setups[i].want);
		assert_int_equal(s, setups[i].s);
		if (!setups[i].want)
			assert_string_equal(sdp_dtls_setup_name(s),
					    setups[i].v);
	}
	for (i = 0; i < N(ids); i++)
		assert_int_equal(
			sdp_dtls_tls_id_parse(&got, str_cstr(ids[i].v)),
			ids[i].want);
	memset(id, 'x', 255);
	id[255] = '\0';
	assert_int_equal(sdp_dtls_tls_id_parse(&got, str_cstr(id)), 0);
	id[255] = 'x';
	id[256] = '\0';
	assert_int_equal(sdp_dtls_tls_id_parse(&got, str_cstr(id)),
			 -SDP_DTLS_E_TLS_ID);
	for (i = 0; i < sizeof(rnd); i++)
		rnd[i] = (uint8_t)(i * 37);
	assert_int_equal(sdp_dtls_tls_id_make(made, sizeof(made), rnd, 16), 32);
	assert_int_equal(sdp_dtls_tls_id_parse(&got, str_cstr(made)), 0);
	assert_int_equal(sdp_dtls_tls_id_make(made, sizeof(made), rnd, 9),
			 -SDP_DTLS_E_ARG);
	assert_int_equal(sdp_dtls_tls_id_make(made, sizeof(made), rnd, 128),
			 -SDP_DTLS_E_ARG);
	assert_int_equal(sdp_dtls_tls_id_make(made, 32, rnd, 16),
			 -SDP_DTLS_E_SPACE);
}

#define HDR "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"
#define M   "m=audio 4000 UDP/TLS/RTP/SAVP 0\r\nc=IN IP4 192.0.2.1\r\n"
#define FP1 "a=fingerprint:sha-1 " SHA1_HEX "\r\n"
#define FP2 "a=fingerprint:sha-256 " SHA256_HEX "\r\n"
#define FPX "a=fingerprint:md5 " B16 "\r\n"
#define ID  "a=tls-id:abcdefghij0123456789abcd\r\n"

static void test_get_table(void **state)
{
	static const struct {
		const char *sdp;
		unsigned media;
		int want;
		unsigned nfp, nskipped;
		enum sdp_dtls_hash hash0;
		enum sdp_setup setup;
		bool tls_id;
	} cases[] = {
		{HDR M FP2 "a=setup:actpass\r\n", 0, 0, 1, 0,
		 SDP_DTLS_HASH_SHA256, SDP_SETUP_ACTPASS, false},
		{HDR FP1 "a=setup:passive\r\n" M, 0, 0, 1, 0,
		 SDP_DTLS_HASH_SHA1, SDP_SETUP_PASSIVE, false},
		/* media level replaces session level, both for fp and setup */
		{HDR FP1 "a=setup:passive\r\n" M FP2 "a=setup:active\r\n", 0, 0,
		 1, 0, SDP_DTLS_HASH_SHA256, SDP_SETUP_ACTIVE, false},
		{HDR M FP1 FP2 FPX ID, 0, 0, 2, 1, SDP_DTLS_HASH_SHA1,
		 SDP_SETUP_NONE, true},
		{HDR M FPX, 0, -SDP_DTLS_E_MISSING, 0, 0, 0, 0, false},
		{HDR M, 0, -SDP_DTLS_E_MISSING, 0, 0, 0, 0, false},
		{HDR M FP1 FP1 FP1 FP1 FP1, 0, -SDP_DTLS_E_TOO_MANY, 0, 0, 0, 0,
		 false},
		{HDR M FP1 "a=fingerprint:sha-1 00\r\n", 0, -SDP_DTLS_E_LENGTH,
		 0, 0, 0, 0, false},
		{HDR M FP1 ID ID, 0, -SDP_DTLS_E_DUPLICATE, 0, 0, 0, 0, false},
		{HDR M FP1 "a=tls-id:short\r\n", 0, -SDP_DTLS_E_TLS_ID, 0, 0, 0,
		 0, false},
		{HDR M FP1, 1, -SDP_DTLS_E_ARG, 0, 0, 0, 0, false},
		/* second section: its own lines, not the first's */
		{HDR M FP1 M FP2, 1, 0, 1, 0, SDP_DTLS_HASH_SHA256,
		 SDP_SETUP_NONE, false},
	};
	static struct sdp_sess s;
	struct sdp_dtls d;
	struct sip_perr perr;
	size_t i;

	(void)state;
	for (i = 0; i < N(cases); i++) {
		int rc;

		assert_int_equal(sdp_parse(&s, str_cstr(cases[i].sdp), &perr),
				 0);
		rc = sdp_dtls_get(&d, &s, cases[i].media);
		if (rc != cases[i].want)
			fail_msg("case %zu: got %d (%s) want %d", i, rc,
				 sdp_dtls_strerror(rc), cases[i].want);
		assert_int_equal(d.nfp, cases[i].nfp);
		if (rc)
			continue;
		assert_int_equal(d.nskipped, cases[i].nskipped);
		assert_int_equal(d.fp[0].hash, cases[i].hash0);
		assert_int_equal(d.setup, cases[i].setup);
		assert_int_equal(d.tls_id.len != 0, cases[i].tls_id);
	}
}

static void test_roles(void **state)
{
	enum {
		NO = SDP_SETUP_NONE,
		AC = SDP_SETUP_ACTIVE,
		PA = SDP_SETUP_PASSIVE,
		AP = SDP_SETUP_ACTPASS,
		HC = SDP_SETUP_HOLDCONN,
		R = -SDP_DTLS_E_ROLE,
	};
	static const struct {
		int local, remote;
		bool remote_offer;
		int want;
		bool client;
	} cases[] = {
		{AC, AP, true, 0, true},   {PA, AP, true, 0, false},
		{AC, PA, true, 0, true},   {PA, AC, true, 0, false},
		{PA, NO, true, 0, false},  {AC, NO, true, R, false},
		{AP, AC, false, 0, false}, {AP, PA, false, 0, true},
		{AP, NO, false, 0, true},  {AP, AP, false, R, false},
		{AC, AC, false, R, false}, {PA, PA, false, R, false},
		{HC, AP, true, R, false},  {AC, HC, false, R, false},
		{NO, AP, true, R, false},
	};
	static const struct {
		int offered, answer;
	} answers[] = {
		{AP, AC}, {PA, AC}, {AC, PA}, {NO, PA}, {HC, HC},
	};
	enum sdp_setup a;
	size_t i;
	bool client;

	(void)state;
	for (i = 0; i < N(cases); i++) {
		int rc = sdp_dtls_role(&client, (enum sdp_setup)cases[i].local,
				       (enum sdp_setup)cases[i].remote,
				       cases[i].remote_offer);

		if (rc != cases[i].want || client != cases[i].client)
			fail_msg("role case %zu: rc %d client %d", i, rc,
				 client);
	}
	for (i = 0; i < N(answers); i++) {
		assert_int_equal(
			sdp_dtls_setup_answer(
				&a, (enum sdp_setup)answers[i].offered),
			0);
		assert_int_equal(a, answers[i].answer);
		/* The answer we give always leaves exactly one client. */
		if (a != SDP_SETUP_HOLDCONN)
			assert_int_equal(
				sdp_dtls_role(
					&client, a,
					(enum sdp_setup)answers[i].offered,
					true),
				0);
	}
	assert_int_equal(sdp_dtls_setup_answer(&a, (enum sdp_setup)99),
			 -SDP_DTLS_E_SETUP);
}

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(sdp_dtls_strerror(-SDP_DTLS_E_LENGTH),
			    "a=fingerprint digest length wrong");
	assert_string_equal(sdp_dtls_strerror(-1000), "unknown error");
	assert_string_equal(sdp_dtls_hash_name(SDP_DTLS_HASH_SHA384),
			    "sha-384");
	assert_string_equal(sdp_dtls_hash_name((enum sdp_dtls_hash)42), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fp_table),
		cmocka_unit_test(test_fp_roundtrip),
		cmocka_unit_test(test_setup_tls_id),
		cmocka_unit_test(test_get_table),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_strerror),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
