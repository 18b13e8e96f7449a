# bench/srtp.mk - SRTP relay benchmark (issue 7): sipguard bridging SRTP
# (AES_CM_128_HMAC_SHA1_80) <-> RTP against rtpengine doing the same, and
# sipguard's plain relay as the reference.
#
#   make bench-srtp
#   make bench-srtp BENCH_SRTP_ENV="BENCH_CALLS=500 BENCH_PPS=50000"
#
# Runs in its own network namespace (needs root); see bench/bench_srtp.py.

BENCH_SRTP_ENV ?=

$(BUILD_ROOT)/release/bench/srtp_load: bench/srtp_load.c bench/load_common.h \
		$(BUILD_ROOT)/release/libsipguard.a
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -D_GNU_SOURCE -Isrc -Wall -Wextra -Werror -o $@ $< \
		$(BUILD_ROOT)/release/libsipguard.a $(PKG_LIBS) -lm -pthread

.PHONY: bench-srtp
bench-srtp: deps
	@$(MAKE) --no-print-directory VARIANT=release all \
		$(BUILD_ROOT)/release/bench/srtp_load
	env $(BENCH_SRTP_ENV) /usr/bin/python3 bench/bench_srtp.py \
		$(BUILD_ROOT)/release/sipguard \
		$(BUILD_ROOT)/release/bench/srtp_load
