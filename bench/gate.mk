# bench/gate.mk - micro-benchmark of the pre-parse gate (gate_check in a
# tight loop: banned, rate-limited, passing and new sources).
#
#   make bench-gate-micro
#   make bench-gate-micro BENCH_GATE_ARGS="--time 0.2"

BENCH_GATE_ARGS ?=
BENCH_GATE_REL := $(BUILD_ROOT)/release/bench

$(BUILD)/bench/bench_gate_micro: bench/bench_gate_micro.c $(BUILD)/libsipguard.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libsipguard.a $(LDFLAGS) $(LDLIBS)

.PHONY: bench-gate-micro
bench-gate-micro:
	@$(MAKE) --no-print-directory VARIANT=release \
		$(BENCH_GATE_REL)/bench_gate_micro
	$(BENCH_GATE_REL)/bench_gate_micro $(BENCH_GATE_ARGS)
