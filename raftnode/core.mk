# raftnode/core.mk — the pure Raft core as a static library, its mutant
# builds (deliberately broken variants), the deterministic simulator and the
# core's unit tests.

RAFT_CORE_SRCS := $(sort $(wildcard raftnode/core/*.c))
RAFT_CORE_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(RAFT_CORE_SRCS))
RAFT_LIB := $(BUILD)/libraft.a

$(RAFT_LIB): $(RAFT_CORE_OBJS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# Mutants: each breaks one rule (see the end of raftnode/raft.h).
RAFT_MUTANTS := COMMIT_OLD_TERM VOTE_ANY_LOG READ_LOCAL ACK_UNPERSISTED READ_NO_TERM_COMMIT SKIP_PREV_CHECK
raft_mutant_lib = $(BUILD)/raft_mutants/$(1)/libraft.a

define RAFT_MUTANT_RULES
$(BUILD)/raft_mutants/$(1)/%.o: %.c $(FLAGS_FILE)
	@mkdir -p $$(dir $$@)
	$$(if $$(Q),@echo "  CC      $$< [$(1)]")
	$$(Q)$$(CC) $$(CFLAGS) -DRAFT_MUTANT_$(1) -c -o $$@ $$<

$(call raft_mutant_lib,$(1)): $(patsubst %.c,$(BUILD)/raft_mutants/$(1)/%.o,$(RAFT_CORE_SRCS))
	@mkdir -p $$(dir $$@)
	$$(Q)rm -f $$@ && $$(AR) rcs $$@ $$^
endef
$(foreach m,$(RAFT_MUTANTS),$(eval $(call RAFT_MUTANT_RULES,$(m))))

# ---- the simulator ----------------------------------------------------------
RAFT_SIM_OBJS := $(BUILD)/tests/sim/sim.o $(BUILD)/tests/sim/scenarios.o $(BUILD)/tests/sim/raft_sim.o
RAFT_SIM := $(BUILD)/tests/sim/raft_sim

$(RAFT_SIM): $(RAFT_SIM_OBJS) $(RAFT_LIB)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

# The same simulator linked against each mutant core.
raft_sim_mutant = $(BUILD)/raft_mutants/$(1)/raft_sim_$(1)
define RAFT_SIM_MUTANT_RULES
$(call raft_sim_mutant,$(1)): $(RAFT_SIM_OBJS) $(call raft_mutant_lib,$(1))
	$$(if $$(Q),@echo "  LD      $$@")
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$^
endef
$(foreach m,$(RAFT_MUTANTS),$(eval $(call RAFT_SIM_MUTANT_RULES,$(m))))

RAFT_CORE_PROGS := $(RAFT_LIB) $(RAFT_SIM) $(foreach m,$(RAFT_MUTANTS),$(call raft_sim_mutant,$(m)))
PROGS += $(RAFT_CORE_PROGS)
OBJS_ALL += $(RAFT_CORE_OBJS) $(RAFT_SIM_OBJS)

# ---- tests --------------------------------------------------------------------
# Randomized faults over many seeds (3 and 5 nodes alternating), and a few
# long runs. The same counts run under SANITIZE=address,undefined.
FAST_TESTS += $(RAFT_SIM):--seeds:2000
FAST_TESTS += $(RAFT_SIM):--seeds:100:--start:1000000:--steps:20000
# Figure 8 scripted: the correct core survives it, COMMIT_OLD_TERM does not.
FAST_TESTS += $(RAFT_SIM):--scenario:figure8:--seeds:50
FAST_TESTS += $(call raft_sim_mutant,COMMIT_OLD_TERM):--scenario:figure8:--expect-violation:--seeds:50
# Proof that the simulator can fail: each mutant must be caught.
FAST_TESTS += $(call raft_sim_mutant,VOTE_ANY_LOG):--expect-violation:--seeds:500
FAST_TESTS += $(call raft_sim_mutant,READ_LOCAL):--expect-violation:--seeds:500
FAST_TESTS += $(call raft_sim_mutant,ACK_UNPERSISTED):--expect-violation:--seeds:500
FAST_TESTS += $(call raft_sim_mutant,READ_NO_TERM_COMMIT):--expect-violation:--seeds:500
FAST_TESTS += $(call raft_sim_mutant,SKIP_PREV_CHECK):--expect-violation:--seeds:500

# cmocka unit tests of the core (test_raft_*.c); those using the simulator
# fixture link its objects too.
RAFT_UNIT := test_raft_config test_raft_core test_raft_cluster
RAFT_UNIT_BINS := $(addprefix $(BUILD)/tests/unit/,$(RAFT_UNIT))
$(RAFT_UNIT_BINS): $(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(BUILD)/tests/sim/sim.o $(BUILD)/tests/sim/scenarios.o $(RAFT_LIB)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(call pkglibs,cmocka)
RAFT_CORE_PROGS += $(RAFT_UNIT_BINS)
PROGS += $(RAFT_UNIT_BINS)
FAST_TESTS += $(RAFT_UNIT_BINS)

# ---- fuzz targets: libFuzzer with FUZZ=1, corpus replay otherwise -------------
FUZZ_TARGETS += fuzz_raft_step fuzz_raft_config
RAFT_FUZZ_BINS := $(BUILD)/fuzz/fuzz_raft_step $(BUILD)/fuzz/fuzz_raft_config
ifneq ($(FUZZ),)
$(RAFT_FUZZ_BINS): $(BUILD)/fuzz/%: $(BUILD)/tests/sim/%.o $(RAFT_LIB)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^
else
$(RAFT_FUZZ_BINS): $(BUILD)/fuzz/%: $(BUILD)/tests/sim/%.o $(BUILD)/tests/fuzz/replay_main.o $(RAFT_LIB)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^
endif
FAST_TESTS += $(BUILD)/fuzz/fuzz_raft_step:tests/sim/corpus/raft_step $(BUILD)/fuzz/fuzz_raft_config:tests/sim/corpus/raft_config
RAFT_CORE_PROGS += $(RAFT_FUZZ_BINS)
PROGS += $(RAFT_FUZZ_BINS)

# ---- benchmarks: simulator throughput (seeds/s, steps/s), core throughput ------
RAFT_BENCH := $(BUILD)/tests/sim/bench_raft_core
$(RAFT_BENCH): $(BUILD)/tests/sim/bench_raft_core.o $(RAFT_LIB)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^
RAFT_CORE_PROGS += $(RAFT_BENCH)
PROGS += $(RAFT_BENCH)
BENCHES += $(RAFT_SIM):--seeds:10000 $(RAFT_BENCH)

# `make raft-core` builds only this module.
raft-core: $(RAFT_CORE_PROGS)
.PHONY: raft-core
