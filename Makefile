# sipguard - plain GNU make.  Sources are listed explicitly in the *.mk
# fragments included below, one per layer, so that each layer's owner
# edits only its own list.
#
#   make            release build (-O2) of build/release/sipguard
#   make run        install deps, build, run on etc/sipguard.yaml
#   make test       install deps, build, run every test
#   make asan       ASan+UBSan build, runs all unit tests and the fuzz corpus
#   make fuzz       libFuzzer campaign, FUZZ_SECONDS per target (default 30)
#   make bench-parse  parser benchmark against libosip2

.DEFAULT_GOAL := all
VARIANT ?= release
BUILD_ROOT ?= build
BUILD   := $(BUILD_ROOT)/$(VARIANT)
CC      ?= cc
PKGS    := yaml-0.1 libssl libcrypto libpcre2-8 libmicrohttpd libseccomp hiredis libsrtp2 liburing jansson
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lyaml -lssl -lcrypto -lpcre2-8 -lmicrohttpd -lseccomp -lhiredis -lsrtp2 -luring -ljansson)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wcast-qual -Wsign-compare -Wpointer-arith \
	-Wformat=2 -Wno-format-nonliteral
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -Isrc $(WARN) $(PKG_CFLAGS) -MMD -MP

ifeq ($(VARIANT),release)
OPT := -O2 -g
else ifeq ($(VARIANT),debug)
OPT := -O0 -g3
else ifeq ($(VARIANT),asan)
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
SAN_LD := -fsanitize=address,undefined
else ifeq ($(VARIANT),fuzz)
CC  := clang
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=undefined -DSIPGUARD_FUZZ
SAN_LD := -fsanitize=address,undefined
else
$(error unknown VARIANT $(VARIANT))
endif

CFLAGS  := $(BASE_CFLAGS) $(OPT) $(EXTRA_CFLAGS)
LDLIBS  := $(PKG_LIBS) -lm -pthread
LDFLAGS := $(SAN_LD) $(EXTRA_LDFLAGS)

include src/core/core.mk
include src/sip/sip.mk
include src/transport/transport.mk
include src/events/events.mk
include src/store/store.mk
include src/guard/guard.mk
include src/media/media.mk
include src/proxy/proxy.mk
include src/ctl/ctl.mk
# Each fragment appends to UNIT_TESTS, FUZZ_TARGETS or BENCHES.
UNIT_TESTS :=
FUZZ_TARGETS :=
include $(sort $(wildcard tests/unit/*/*.mk))
include $(sort $(wildcard tests/fuzz/*.mk))
include scripts/install.mk
include $(sort $(wildcard bench/*.mk))

LIB_SRCS := $(MEDIA_SRCS) $(CORE_SRCS) $(SIP_SRCS) $(TRANSPORT_SRCS) $(EVENTS_SRCS) \
	$(STORE_SRCS) \
	$(GUARD_SRCS) $(PROXY_SRCS) $(CTL_SRCS)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libsipguard.a
DAEMON_SRCS := src/main.c src/daemon.c src/daemon_ctl.c
DAEMON_SRCS += src/daemon_metrics.c src/daemon_priv.c
# Operations views: event counters and feed, the dashboard and its files.
DAEMON_SRCS += src/daemon_ops.c src/daemon_dash.c src/daemon_dash_assets.c
DASH_FILES := share/dashboard/index.html share/dashboard/dashboard.js \
	share/dashboard/dashboard.css
$(BUILD)/src/daemon_dash_assets.o: $(DASH_FILES)
DAEMON_OBJS := $(DAEMON_SRCS:%.c=$(BUILD)/%.o)
BIN      := $(BUILD)/sipguard
CTLBIN   := $(BUILD)/sipguardctl
CTLCLIENT_OBJS := $(CTLCLIENT_SRCS:%.c=$(BUILD)/%.o)

UNIT_BINS := $(UNIT_TESTS:%=$(BUILD)/tests/unit/%)
REPLAY_BINS := $(FUZZ_TARGETS:%=$(BUILD)/tests/fuzz/replay_%)
FUZZ_BINS := $(FUZZ_TARGETS:%=$(BUILD_ROOT)/fuzz/tests/fuzz/fuzz_%)

.PHONY: all run test unit e2e-bins asan fuzz fuzz-build deps clean format \
	check-format check-clang bench-parse e2e replay
all: $(BIN) $(CTLBIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(DAEMON_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(DAEMON_OBJS) $(LIB) $(LDLIBS)

$(CTLBIN): $(CTLCLIENT_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(CTLCLIENT_OBJS) $(LIB) $(LDLIBS)

# Unit tests: one cmocka binary per module.
# Shared test helpers (*_helper.c under tests/unit) are linked into the tests
# whose fragment lists their object as a prerequisite.
$(BUILD)/tests/unit/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(filter %.o,$^) $(LIB) \
		$(LDFLAGS) $(LDLIBS) -lcmocka

# Fuzz targets replayed over their committed corpus by a plain driver.
$(BUILD)/tests/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ tests/fuzz/fuzz_$*.c tests/fuzz/replay.c \
		$(filter %.o,$^) $(LIB) $(LDFLAGS) $(LDLIBS)

$(BUILD_ROOT)/fuzz/tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(filter %.o,$^) $(LIB) \
		$(LDFLAGS) $(LDLIBS)

deps:
	@scripts/deps.sh

run: deps
	@$(MAKE) --no-print-directory VARIANT=release all
	build/release/sipguard -c etc/sipguard.yaml

unit: $(UNIT_BINS)
replay: $(REPLAY_BINS)
# Helper programs the end-to-end tests run (built before they start: a
# test module decides at import whether its peer exists).
e2e-bins: $(E2E_BINS)

# The whole suite: unit tests (release), fuzz corpus replay and the
# end-to-end tests against the ASan+UBSan daemon (a memory error or a leak
# at exit fails the test that caused it).  scripts/run-tests.sh prints the
# closing "N passed, N failed" line.
test: deps
	@$(MAKE) --no-print-directory VARIANT=release all unit
	@$(MAKE) --no-print-directory VARIANT=asan all replay e2e-bins
	@scripts/run-tests.sh --format --clang --unit $(BUILD_ROOT)/release \
		--replay $(BUILD_ROOT)/asan --e2e $(BUILD_ROOT)/asan

asan: deps
	@$(MAKE) --no-print-directory VARIANT=asan all unit replay
	@scripts/run-tests.sh --unit $(BUILD_ROOT)/asan --replay $(BUILD_ROOT)/asan

FUZZ_SECONDS ?= 30
fuzz-build:
	@$(MAKE) --no-print-directory VARIANT=fuzz $(FUZZ_BINS)
fuzz: deps fuzz-build
	@scripts/fuzz.sh $(BUILD_ROOT)/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# clang's warnings differ from gcc's (missing-field-initializers once
# broke the fuzz build unseen): every source, as the fuzz variant compiles
# it, checked by clang without code generation (make test runs it).
CLANG_CHECK_SRCS := $(LIB_SRCS) $(DAEMON_SRCS) $(CTLCLIENT_SRCS) \
	$(FUZZ_TARGETS:%=tests/fuzz/fuzz_%.c)
check-clang:
	@printf '%s\n' $(CLANG_CHECK_SRCS) | xargs -P 2 -n 16 clang \
		-fsyntax-only -std=c11 -D_GNU_SOURCE -Isrc $(WARN) \
		$(PKG_CFLAGS) -DSIPGUARD_FUZZ -DKFAST_OBJ='"kfast.bpf.o"'

format:
	clang-format -i $$(git ls-files '*.c' '*.h')
check-format:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD_ROOT)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
