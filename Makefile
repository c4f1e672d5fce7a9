# rapat — one non-recursive Makefile. Each module describes itself in
# <module>/*.mk; this file holds the shared rules, flags and test runner.
#
#   make            build everything (bin/)
#   make run        install missing packages, build, run the default plan
#   make test       install missing packages, build, run the whole suite
#                   (and the fast tests again under ASan+UBSan)
#   make test-fast  unit + simulator + checker tests only
#   make SANITIZE=address,undefined test-fast   the same under ASan+UBSan
#   make fuzz CC=clang    libFuzzer builds of every fuzz target
#   make bench      benchmarks (print numbers)
#   V=1             show commands
.DEFAULT_GOAL := all
V ?= 0
Q := $(if $(filter 1,$(V)),,@)
SANITIZE ?=
FUZZ ?=

ifeq ($(SANITIZE)$(FUZZ),)
  BUILD := build/default
  BIN := bin
else ifneq ($(FUZZ),)
  BUILD := build/fuzz
  BIN := build/fuzz/bin
else
  BUILD := build/san
  BIN := build/san/bin
endif

PKGS := libnl-3.0 libnl-route-3.0 libnl-nf-3.0 lua5.4 libcurl libevent jansson openssl cmocka libnetfilter_queue fuse3
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
pkglibs = $(shell pkg-config --libs $(1) 2>/dev/null)

WARN := -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wshadow -Wformat=2 -Wvla
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -D_GNU_SOURCE -fno-strict-aliasing -MMD -MP $(WARN) $(PKG_CFLAGS) -I.
LDFLAGS ?=
ifneq ($(SANITIZE),)
  CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
  LDFLAGS += -fsanitize=$(SANITIZE)
endif
ifneq ($(FUZZ),)
  CFLAGS += -fsanitize=fuzzer-no-link,address,undefined -DRAPAT_FUZZ=1
  LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(DEVELOPER),1)
  CFLAGS += -Werror
endif

# Flags are tracked: a change of CC/CFLAGS/LDFLAGS rebuilds everything.
FLAGS_FILE := $(BUILD)/.flags
$(shell mkdir -p $(BUILD) && echo '$(CC) $(CFLAGS) $(LDFLAGS)' | cmp -s - $(FLAGS_FILE) || echo '$(CC) $(CFLAGS) $(LDFLAGS)' > $(FLAGS_FILE))

$(BUILD)/%.o: %.c $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

# Modules append to these.
PROGS :=            # binaries under $(BIN)
FAST_TESTS :=       # pure tests: unit, simulator, checker (also run under sanitizers)
INTEG_TESTS :=      # real processes and namespaces
FUZZ_TARGETS :=     # fuzz target names; each module gives a rule for $(BUILD)/fuzz/<name>
BENCHES :=          # commands printing numbers
OBJS_ALL :=

include $(sort $(wildcard */*.mk */*/*.mk))

all: $(PROGS)

TEST_ENV = RAPAT_ROOT=$(CURDIR) RAPAT_BIN=$(CURDIR)/$(BIN) RAPAT_BUILD=$(CURDIR)/$(BUILD) \
           RAPAT_SHARED=$(abspath $(CURDIR)/../shared)

deps:
	$(Q)scripts/deps.sh

# The README's two commands. They re-enter make after installing packages,
# so that pkg-config sees what was just installed.
run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(BIN)/rapat run workloads/plans/default.lua $(RUN_ARGS)

# The whole suite: everything in the default build, then the fast (pure)
# tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
test: deps
	$(Q)$(MAKE) --no-print-directory test-all
	$(Q)$(MAKE) --no-print-directory SANITIZE=address,undefined test-fast

test-all: all
	$(Q)$(TEST_ENV) tests/run.sh --suite all $(FAST_TESTS) $(INTEG_TESTS)

test-fast: all
	$(Q)$(TEST_ENV) tests/run.sh --suite fast $(FAST_TESTS)

test-integ: all
	$(Q)$(TEST_ENV) tests/run.sh --suite integration $(INTEG_TESTS)

fuzz:
	$(Q)$(MAKE) --no-print-directory FUZZ=1 CC=clang $(addprefix build/fuzz/fuzz/,$(FUZZ_TARGETS))

# Corpus replay: every fuzz target also builds as a plain program that runs its
# inputs once, so the targets never rot (part of test-fast).
bench: all
	$(Q)for b in $(BENCHES); do echo "== $$b"; $(TEST_ENV) $$b || exit 1; done

format:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build bin

.SECONDARY:
.PHONY: all deps run test test-all test-fast test-integ fuzz bench format clean
-include $(shell find build -name '*.d' 2>/dev/null)
