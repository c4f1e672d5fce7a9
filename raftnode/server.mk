# raftnode/server.mk — bin/raftnode (the real Raft KV server), its unit
# tests, integration test, benchmark and fuzz targets. `make raftnode`
# builds only this module (and the core library it links).
#
# Pure parts (no libevent, no core): util, wire, wal, snap, kv — these are
# what the unit tests and fuzz targets link.

SRV_PURE_OBJS := $(addprefix $(BUILD)/raftnode/server/,srv_util.o srv_wire.o srv_wal.o srv_snap.o srv_kv.o)
SRV_OBJS := $(SRV_PURE_OBJS) $(addprefix $(BUILD)/raftnode/server/,srv_log.o srv_flags.o srv_transport.o \
              srv_node.o srv_http.o main.o)
SRV_LIBS := $(call pkglibs,libevent jansson)
OBJS_ALL += $(SRV_OBJS)

$(BIN)/raftnode: $(SRV_OBJS) $(RAFT_LIB)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(SRV_LIBS)

# ---- unit tests (cmocka; pure, fast: also under SANITIZE) ----
SRV_UNIT := test_wal test_wire test_kv test_wire_transport
$(BUILD)/tests/unit/test_wal: $(BUILD)/tests/unit/test_wal.o $(SRV_PURE_OBJS)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(call pkglibs,cmocka jansson)
$(BUILD)/tests/unit/test_wire: $(BUILD)/tests/unit/test_wire.o $(SRV_PURE_OBJS)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(call pkglibs,cmocka jansson)
$(BUILD)/tests/unit/test_kv: $(BUILD)/tests/unit/test_kv.o $(SRV_PURE_OBJS)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(call pkglibs,cmocka jansson)
# The transport over real loopback sockets (bounded polls, no sleeps).
$(BUILD)/tests/unit/test_wire_transport: $(BUILD)/tests/unit/test_wire_transport.o $(SRV_PURE_OBJS) \
		$(BUILD)/raftnode/server/srv_transport.o $(BUILD)/raftnode/server/srv_log.o
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(call pkglibs,cmocka jansson libevent)
SRV_UNIT_BINS := $(addprefix $(BUILD)/tests/unit/,$(SRV_UNIT))
FAST_TESTS += $(SRV_UNIT_BINS)

# ---- fuzz targets: libFuzzer with FUZZ=1, corpus replay otherwise ----
FUZZ_TARGETS += fuzz_wire fuzz_wal
ifneq ($(FUZZ),)
$(BUILD)/fuzz/fuzz_wire $(BUILD)/fuzz/fuzz_wal: $(BUILD)/fuzz/%: $(BUILD)/tests/fuzz/%.o $(SRV_PURE_OBJS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(call pkglibs,jansson)
else
$(BUILD)/fuzz/fuzz_wire $(BUILD)/fuzz/fuzz_wal: $(BUILD)/fuzz/%: $(BUILD)/tests/fuzz/%.o \
		$(BUILD)/tests/fuzz/replay_main.o $(SRV_PURE_OBJS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(call pkglibs,jansson)
endif
FAST_TESTS += $(BUILD)/fuzz/fuzz_wire:tests/fuzz/corpus/wire $(BUILD)/fuzz/fuzz_wal:tests/fuzz/corpus/wal

# ---- benchmark client and integration test ----
$(BIN)/kvbench: $(BUILD)/tests/bench/kvbench.o
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(call pkglibs,libcurl) -lpthread -lm

SRV_PROGS := $(BIN)/raftnode $(BIN)/kvbench $(SRV_UNIT_BINS) $(BUILD)/fuzz/fuzz_wire $(BUILD)/fuzz/fuzz_wal
PROGS += $(SRV_PROGS)
INTEG_TESTS += tests/integration/raftnode_cluster.sh tests/integration/raftnode_adapter.sh
BENCHES += tests/bench/raftnode_bench.sh

raftnode: $(SRV_PROGS)
.PHONY: raftnode

# ---- mutant servers: the same server linked with a deliberately broken
# core (raftnode/core.mk builds the libraries), for the mutants campaign;
# the adapter's raftnode_mutant option selects one.
SRV_MUTANT_BINS := $(foreach m,$(RAFT_MUTANTS),$(BIN)/raftnode-$(m))
define SRV_MUTANT_RULE
$(BIN)/raftnode-$(1): $(SRV_OBJS) $(call raft_mutant_lib,$(1))
	@mkdir -p $$(dir $$@)
	$$(if $$(Q),@echo "  LD      $$@")
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(SRV_LIBS)
endef
$(foreach m,$(RAFT_MUTANTS),$(eval $(call SRV_MUTANT_RULE,$(m))))
PROGS += $(SRV_MUTANT_BINS)
raftnode: $(SRV_MUTANT_BINS)
