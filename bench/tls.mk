# bench/tls.mk - TLS benchmark (bench/bench_tls.py): handshakes/s (full
# and resumed, openssl s_time) and calls/s over TLS through sipguard.
# Not part of make test.
#
#   make bench-tls
#   make bench-tls BENCH_TLS_SECONDS=10 BENCH_TLS_CLIENTS=4

BENCH_TLS_SECONDS ?= 5
BENCH_TLS_CLIENTS ?= 3

.PHONY: bench-tls
bench-tls: deps
	@$(MAKE) --no-print-directory VARIANT=release all
	BENCH_TLS_SECONDS=$(BENCH_TLS_SECONDS) \
	BENCH_TLS_CLIENTS=$(BENCH_TLS_CLIENTS) \
		/usr/bin/python3 bench/bench_tls.py $(BUILD_ROOT)/release/sipguard
