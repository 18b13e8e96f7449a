# bench/proxy.mk - proxy benchmark against Kamailio (bench/README-proxy.md).
# Included by the top Makefile.
#
#   make bench-proxy                       the whole run, a few minutes
#   make bench-proxy BENCH_CALLS=2000      quicker memory test
#   make bench-proxy BENCH_PROXY_ARGS="--proxies kamailio --strict"
#
# sipp UAC -> proxy -> sipp UAS on 127.0.0.1, once through sipguard and
# once through Kamailio (bench/kamailio_edge.cfg), proxy pinned to core 1
# and sipp to core 0.  Prints the table and writes bench/out/proxy.json;
# logs of every process go to bench/out/proxy-logs/.  The other BENCH_*
# knobs are listed at the top of bench/bench_proxy.py.

BENCH_PROXY_ARGS ?=

.PHONY: bench-proxy
bench-proxy: deps
	@$(MAKE) --no-print-directory VARIANT=release all
	/usr/bin/python3 bench/bench_proxy.py \
		--sipguard $(BUILD_ROOT)/release/sipguard $(BENCH_PROXY_ARGS)
