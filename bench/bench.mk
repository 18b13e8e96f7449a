# bench/bench.mk - parser benchmark against libosip2 (bench/README.md).
# Included by the top Makefile.
#
#   make bench-parse              release build, timed run, prints the table
#   make bench-parse BENCH_ARGS="--time 0.1 --reps 3"
#   make bench-parse-callgrind    instructions per message under callgrind
#
# Only these targets need libosip2 (and valgrind for the callgrind one):
# its flags are looked up lazily (recursive '='), so a tree without it
# still builds and tests everything else.

BENCH_ARGS ?=
BENCH_CG_ITERS ?= 200
BENCH_MSGS := bench/msgs
BENCH_OSIP_CFLAGS = $(shell pkg-config --cflags libosip2)
BENCH_OSIP_LIBS = $(shell pkg-config --libs libosip2)
BENCH_OSIP_DEFS = -DBENCH_OSIP_VERSION='"$(shell pkg-config --modversion libosip2)"'
BENCH_NEED_OSIP = @pkg-config --exists libosip2 || { echo "bench: libosip2 \
not found: apt-get install libosip2-dev (or run make deps)" >&2; exit 1; }
# The release binaries, whatever VARIANT the outer make was given.
BENCH_REL := $(BUILD_ROOT)/release/bench

# $(LIB) is defined after the fragments are included: name it directly.
$(BUILD)/bench/bench_parse: bench/bench_parse.c $(BUILD)/libsipguard.a
	@mkdir -p $(dir $@)
	$(BENCH_NEED_OSIP)
	$(CC) $(CFLAGS) $(BENCH_OSIP_CFLAGS) $(BENCH_OSIP_DEFS) -o $@ $< \
		$(BUILD)/libsipguard.a $(LDFLAGS) $(LDLIBS) $(BENCH_OSIP_LIBS)

# Same program with callgrind client requests (needs valgrind's header).
$(BUILD)/bench/bench_parse_cg: bench/bench_parse.c $(BUILD)/libsipguard.a
	@mkdir -p $(dir $@)
	$(BENCH_NEED_OSIP)
	$(CC) $(CFLAGS) $(BENCH_OSIP_CFLAGS) $(BENCH_OSIP_DEFS) \
		-DBENCH_CALLGRIND -o $@ $< \
		$(BUILD)/libsipguard.a $(LDFLAGS) $(LDLIBS) $(BENCH_OSIP_LIBS)

.PHONY: bench-parse bench-parse-callgrind
bench-parse: deps
	@$(MAKE) --no-print-directory VARIANT=release $(BENCH_REL)/bench_parse
	$(BENCH_REL)/bench_parse $(BENCH_ARGS) $(BENCH_MSGS)

bench-parse-callgrind: deps
	@command -v valgrind >/dev/null || { echo "bench: valgrind not \
	installed: apt-get install valgrind" >&2; exit 1; }
	@$(MAKE) --no-print-directory VARIANT=release \
		$(BENCH_REL)/bench_parse $(BENCH_REL)/bench_parse_cg
	@rm -f $(BENCH_REL)/cg.out $(BENCH_REL)/cg.out.*
	valgrind --tool=callgrind --callgrind-out-file=$(BENCH_REL)/cg.out \
		--log-file=$(BENCH_REL)/cg.log \
		$(BENCH_REL)/bench_parse_cg --callgrind $(BENCH_CG_ITERS) \
		$(BENCH_MSGS)
	$(BENCH_REL)/bench_parse --cg-report $(BENCH_REL)/cg.out.*
