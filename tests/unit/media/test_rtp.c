/*
 * test_rtp.c - RTP/RTCP checks (media/rtp.c): tables of packets with
 * the verdict each must get, CNAME scrubbing, rtcp-mux demultiplexing.
 */
#include "test.h"

#include "media/rtp.h"

struct rtp_case {
	const char *name;
	const uint8_t *p;
	size_t n;
	int want;
};

static uint8_t ok_hdr[] = {0x80, 0x00, 0x00, 0x01, 0, 0, 0, 160,
			   0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4};
static uint8_t v1[] = {0x40, 0x00, 0x00, 0x01, 0,    0, 0,
		       160,  0xde, 0xad, 0xbe, 0xef, 1, 2};
static uint8_t csrc_over[] = {0x82, 0x00, 0x00, 0x01, 0, 0, 0, 160,
			      0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4};
static uint8_t csrc_ok[] = {0x81, 0x08, 0x00, 0x01, 0, 0, 0, 160, 0xde,
			    0xad, 0xbe, 0xef, 1,    2, 3, 4, 9};
static uint8_t ext_over[] = {0x90, 0x00, 0x00, 0x01, 0, 0, 0, 160, 0xde, 0xad,
			     0xbe, 0xef, 0xbe, 0xde, 0, 2, 1, 2,   3,    4};
static uint8_t ext_ok[] = {0x90, 0x00, 0x00, 0x01, 0,    0,    0, 160,
			   0xde, 0xad, 0xbe, 0xef, 0xbe, 0xde, 0, 1,
			   1,    2,    3,    4,    7,    7};
static uint8_t ext_short[] = {0x90, 0x00, 0x00, 0x01, 0,    0,    0,
			      160,  0xde, 0xad, 0xbe, 0xef, 0xbe, 0xde};
static uint8_t pad_ok[] = {0xa0, 0x00, 0x00, 0x01, 0, 0, 0, 160,
			   0xde, 0xad, 0xbe, 0xef, 5, 0, 2};
static uint8_t pad_zero[] = {0xa0, 0x00, 0x00, 0x01, 0, 0, 0, 160,
			     0xde, 0xad, 0xbe, 0xef, 5, 0, 0};
static uint8_t pad_over[] = {0xa0, 0x00, 0x00, 0x01, 0, 0, 0, 160,
			     0xde, 0xad, 0xbe, 0xef, 5, 0, 9};
static uint8_t big[1501];

static void test_rtp_table(void **state)
{
	const struct rtp_case cases[] = {
		{"minimal", ok_hdr, 12, 0},
		{"payload", ok_hdr, sizeof(ok_hdr), 0},
		{"short", ok_hdr, 11, MEDIA_RTP_E_SHORT},
		{"empty", ok_hdr, 0, MEDIA_RTP_E_SHORT},
		{"version 1", v1, sizeof(v1), MEDIA_RTP_E_VERSION},
		{"csrc past end", csrc_over, sizeof(csrc_over),
		 MEDIA_RTP_E_CSRC},
		{"one csrc", csrc_ok, sizeof(csrc_ok), 0},
		{"extension past end", ext_over, sizeof(ext_over),
		 MEDIA_RTP_E_EXT},
		{"extension header cut", ext_short, sizeof(ext_short),
		 MEDIA_RTP_E_EXT},
		{"extension", ext_ok, sizeof(ext_ok), 0},
		{"padding", pad_ok, sizeof(pad_ok), 0},
		{"padding 0", pad_zero, sizeof(pad_zero), MEDIA_RTP_E_PAD},
		{"padding past header", pad_over, sizeof(pad_over),
		 MEDIA_RTP_E_PAD},
		{"too big", big, sizeof(big), MEDIA_RTP_E_LONG},
	};
	struct media_rtp_hdr h;
	size_t i;

	(void)state;
	big[0] = 0x80;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = media_rtp_parse(&h, cases[i].p, cases[i].n);

		if (rc != cases[i].want)
			fail_msg("%s: got %d want %d", cases[i].name, rc,
				 cases[i].want);
	}
	assert_int_equal(media_rtp_parse(&h, ext_ok, sizeof(ext_ok)), 0);
	assert_int_equal(h.hdr_len, 20);
	assert_int_equal(h.payload_len, 2);
	assert_int_equal(h.ssrc, 0xdeadbeef);
	assert_int_equal(media_rtp_parse(&h, pad_ok, sizeof(pad_ok)), 0);
	assert_int_equal(h.payload_len, 1);
	assert_int_equal(media_rtp_parse(&h, csrc_ok, sizeof(csrc_ok)), 0);
	assert_int_equal(h.pt, 8);
	assert_int_equal(h.payload_len, 1);
}

/* RR with one block (fraction 5, cumulative 3, jitter 17), then SDES
 * with CNAME "alice@10.1.2.3". */
static size_t make_rr_sdes(uint8_t *p)
{
	static const uint8_t rr[] = {
		0x81, 201, 0, 7, 1, 2, 3, 4, 0x12, 0x34, 0x56,
		0x78, 5,   0, 0, 3, 0, 0, 0, 100,  0,    0,
		0,    17,  0, 0, 0, 0, 0, 0, 0,    0,
	};
	static const uint8_t sdes[] = {
		0x81, 202, 0,   6,   1,   2,   3,   4,   1,   14,
		'a',  'l', 'i', 'c', 'e', '@', '1', '0', '.', '1',
		'.',  '2', '.', '3', 0,   0,   0,   0,
	};

	memcpy(p, rr, sizeof(rr));
	memcpy(p + sizeof(rr), sdes, sizeof(sdes));
	return sizeof(rr) + sizeof(sdes);
}

static void test_rtcp(void **state)
{
	uint8_t p[128];
	struct media_rtcp_rr rr;
	size_t n = make_rr_sdes(p);

	(void)state;
	assert_int_equal(media_rtcp_parse(p, n, &rr), 0);
	assert_true(rr.present);
	assert_int_equal(rr.fraction_lost, 5);
	assert_int_equal(rr.cum_lost, 3);
	assert_int_equal(rr.jitter, 17);
	assert_true(media_is_rtcp(p, n));
	assert_false(media_is_rtcp(ok_hdr, sizeof(ok_hdr)));
	/* Scrubbing keeps every length: the packet stays valid. */
	assert_int_equal(media_rtcp_scrub_cname(p, n), 1);
	assert_int_equal(media_rtcp_parse(p, n, NULL), 0);
	assert_null(memmem(p, n, "alice", 5));
	assert_non_null(memmem(p, n, "xxxxxxxxxxxxxx", 14));
	/* Lies about lengths. */
	assert_int_equal(media_rtcp_parse(p, n - 1, NULL),
			 MEDIA_RTP_E_RTCP_LEN);
	assert_int_equal(media_rtcp_parse(p, 7, NULL), MEDIA_RTP_E_SHORT);
	p[3] = 30;
	assert_int_equal(media_rtcp_parse(p, n, NULL), MEDIA_RTP_E_RTCP_LEN);
	n = make_rr_sdes(p);
	p[0] = 0x9f; /* 31 report blocks in a 32-byte packet */
	assert_int_equal(media_rtcp_parse(p, n, NULL), MEDIA_RTP_E_RTCP_LEN);
	n = make_rr_sdes(p);
	p[1] = 204; /* a lone APP first (reduced-size, baresip): fine */
	assert_int_equal(media_rtcp_parse(p, n, NULL), 0);
	p[1] = 190; /* not an RTCP packet type */
	assert_int_equal(media_rtcp_parse(p, n, NULL), MEDIA_RTP_E_RTCP_TYPE);
	n = make_rr_sdes(p);
	p[0] = 0xa1; /* padding bit on the first of two */
	assert_int_equal(media_rtcp_parse(p, n, NULL), MEDIA_RTP_E_PAD);
	n = make_rr_sdes(p);
	p[32] = 0x41; /* second packet version 1 */
	assert_int_equal(media_rtcp_parse(p, n, NULL), MEDIA_RTP_E_VERSION);
	/* A truncated SDES item is left alone by the scrubber. */
	n = make_rr_sdes(p);
	p[41] = 200;
	assert_int_equal(media_rtcp_scrub_cname(p, n), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rtp_table),
		cmocka_unit_test(test_rtcp),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	assert_no_leaks();
	return rc;
}
