# bench/media.mk - media relay benchmark (issue 6): sipguard against
# rtpengine (userspace) and a bare recvmmsg/sendmmsg forwarder.
#
#   make bench-media                           10,000 calls, a few minutes
#   make bench-media BENCH_MEDIA_ENV="BENCH_CALLS=2000 BENCH_PPS=100000"
#   make bench-media BENCH_MEDIA_ENV="BENCH_RELAYS=pair-rtpengine,pair-epoll"
#       (two relays at once on the relay core: ratios under the same noise)
#   make bench-media BENCH_MEDIA_ENV="BENCH_RELAYS=ab BENCH_SG_ALT=/path/sipguard"
#       (A/B of this build against another one, both io_uring)
#
# Runs in its own network namespace (needs root); see bench/bench_media.py.

BENCH_MEDIA_ENV ?=

$(BUILD_ROOT)/release/bench/media_load: bench/media_load.c bench/load_common.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -D_GNU_SOURCE -Wall -Wextra -Werror -o $@ $<

.PHONY: bench-media
bench-media: deps
	@$(MAKE) --no-print-directory VARIANT=release all \
		$(BUILD_ROOT)/release/bench/media_load
	env $(BENCH_MEDIA_ENV) /usr/bin/python3 bench/bench_media.py \
		$(BUILD_ROOT)/release/sipguard \
		$(BUILD_ROOT)/release/bench/media_load
