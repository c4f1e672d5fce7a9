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
RAFT_MUTANTS := COMMIT_OLD_TERM VOTE_ANY_LOG READ_LOCAL ACK_UNPERSISTED
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
