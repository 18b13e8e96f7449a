/*
 * fuzz_sdp_dtls.c - libFuzzer target for the DTLS-SRTP SDP attributes
 * (sip/sdp_dtls.c).
 *
 * The input is used two ways: as one attribute value given to each value
 * parser (a fingerprint that parses must format back to a string that
 * parses to the same digest; a tls-id must stay inside the input), and
 * as a whole SDP body whose every media section goes through
 * sdp_dtls_get() (every kept fingerprint must have its hash's length).
 * The a=setup role rules run on the first two bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip/sdp_dtls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                   \
	do {                                                          \
		if (!(cond)) {                                        \
			fprintf(stderr, "fuzz_sdp_dtls: %s:%d: %s\n", \
				__FILE__, __LINE__, #cond);           \
			abort();                                      \
		}                                                     \
	} while (0)

static void values(struct str in)
{
	struct sdp_dtls_fp fp, back;
	char out[SDP_DTLS_FP_STRLEN];
	enum sdp_setup st;
	struct str id;
	int n;

	if (sdp_dtls_fp_parse(&fp, in) == 0) {
		CHECK(fp.len == sdp_dtls_hash_len(fp.hash) && fp.len);
		n = sdp_dtls_fp_format(out, sizeof(out), &fp);
		CHECK(n > 0 && (size_t)n == strlen(out));
		CHECK(sdp_dtls_fp_parse(&back, str_make(out, (size_t)n)) == 0);
		CHECK(sdp_dtls_fp_eq(&fp, &back));
	} else {
		CHECK(fp.hash == SDP_DTLS_HASH_NONE && fp.len == 0);
	}
	if (sdp_dtls_setup_parse(&st, in) == 0)
		CHECK(str_eq_cstr(in, sdp_dtls_setup_name(st)));
	if (sdp_dtls_tls_id_parse(&id, in) == 0)
		CHECK(id.p == in.p && id.len == in.len);
}

static void roles(const uint8_t *data, size_t size)
{
	enum sdp_setup a;
	bool client;
	int rc;

	if (size < 2)
		return;
	rc = sdp_dtls_role(&client, (enum sdp_setup)(data[0] % 6),
			   (enum sdp_setup)(data[1] % 6), data[0] & 0x80);
	CHECK(rc == 0 || rc == -SDP_DTLS_E_ROLE || rc == -SDP_DTLS_E_SETUP);
	CHECK(rc == 0 || !client);
	if (sdp_dtls_setup_answer(&a, (enum sdp_setup)(data[1] % 6)) == 0 &&
	    a != SDP_SETUP_HOLDCONN)
		CHECK(sdp_dtls_role(&client, a, (enum sdp_setup)(data[1] % 6),
				    true) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str in = str_make((const char *)data, size);
	struct sdp_sess *s = malloc(sizeof(*s));
	struct sip_perr err;
	struct sdp_dtls d;
	unsigned i, k;

	values(in);
	roles(data, size);
	if (!s || sdp_parse(s, in, &err) != 0)
		goto done;
	for (i = 0; i < s->nmedia; i++) {
		int rc = sdp_dtls_get(&d, s, i);

		CHECK(rc <= 0);
		if (rc) {
			CHECK(d.nfp == 0);
			continue;
		}
		CHECK(d.nfp >= 1 && d.nfp <= SDP_DTLS_MAX_FP);
		for (k = 0; k < d.nfp; k++)
			CHECK(d.fp[k].len == sdp_dtls_hash_len(d.fp[k].hash));
		CHECK(!d.tls_id.len ||
		      (d.tls_id.p >= in.p &&
		       d.tls_id.p + d.tls_id.len <= in.p + in.len));
	}
	CHECK(sdp_dtls_get(&d, s, s->nmedia) == -SDP_DTLS_E_ARG);
done:
	free(s);
	return 0;
}
