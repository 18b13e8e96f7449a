# bench/gateflood.mk - the gate under a flood, against Kamailio's pike +
# htable ban recipe (bench/README-gate.md).  Included by the top Makefile.
#
#   make bench-gate                                  the whole run, ~70 s
#   make bench-gate BENCH_GATE_FLOOD_ARGS="--seconds 5"
#   make bench-gate BENCH_GATE_FLOOD_ARGS="--only sipguard"
#   make bench-gate BENCH_GATE_FLOOD_ARGS=--strict   exit 1 unless all pass
#
# One banned source (127.0.0.66) floods a SIP INVITE at the untrusted
# port with sendmmsg while a sipp UAC on 127.0.0.1 places 5 calls/s
# through the proxy to a sipp UAS; the proxy is pinned to core 1, the
# flooder and sipps to core 0.  Prints the table and writes
# bench/out/gate.json; logs go to bench/out/gate-logs/.

BENCH_GATE_FLOOD_ARGS ?=
GATE_FLOOD_BIN := $(BUILD_ROOT)/release/bench/gate_flood

$(BUILD)/bench/gate_flood: bench/gate_flood.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS)

.PHONY: bench-gate
bench-gate: deps
	@$(MAKE) --no-print-directory VARIANT=release all $(GATE_FLOOD_BIN)
	/usr/bin/python3 bench/gate_flood.py \
		--sipguard $(BUILD_ROOT)/release/sipguard \
		--sipguardctl $(BUILD_ROOT)/release/sipguardctl \
		--flooder $(GATE_FLOOD_BIN) $(BENCH_GATE_FLOOD_ARGS)
