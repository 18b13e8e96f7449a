/*
 * fuzz_frame.c - the stream framer on hostile bytes.  The input is split
 * into reads whose sizes come from the first bytes; the resumable framer
 * is fed the growing buffer read by read, and every answer must match
 * what the stateless framer says about the whole of the same bytes.
 * Each message frame is then parsed in stream mode (it must not crash;
 * it may be refused).
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "sip/sip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sip_msg msg;
	struct sip_frame_state st = {0, 0};
	struct sip_limits lim = sip_limits_default;
	const char *buf;
	size_t len, start = 0, have = 0, k = 0;
	uint8_t chunks[8];

	if (size < 9)
		return 0;
	memcpy(chunks, data, 8);
	if (chunks[0] & 0x80)
		lim.max_msg_size = 300;
	buf = (const char *)data + 8;
	len = size - 8;
	while (start < len) {
		enum sip_frame_kind k1, k2;
		struct sip_perr e1, e2;
		ssize_t r1, r2;
		size_t step = (size_t)(chunks[k++ % 8] & 0x3f) + 1;

		have = have + step > len ? len : have + step;
		for (;;) {
			r1 = sip_frame_r(&st, buf + start, have - start, &lim,
					 &k1, &e1);
			r2 = sip_frame(buf + start, have - start, &lim, &k2,
				       &e2);
			assert(r1 == r2);
			if (r1 > 0) {
				assert(k1 == k2);
				assert((size_t)r1 <= have - start);
				if (k1 == SIP_FRAME_MSG)
					sip_msg_parse(&msg, buf + start,
						      (size_t)r1, &lim,
						      SIP_PARSE_STREAM, &e1);
				else
					assert(r1 ==
					       (k1 == SIP_FRAME_PING ? 4 : 2));
				start += (size_t)r1;
				if (start < have)
					continue;
			} else if (r1 < 0) {
				assert(e1.code == e2.code && e1.reason);
				assert(e1.off <= have - start);
				return 0;
			}
			break;
		}
		if (have == len)
			break;
	}
	return 0;
}
