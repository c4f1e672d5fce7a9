# nemesis/host.mk — host-level faults: clocks (LD_PRELOAD shim, time
# namespaces), disks (rapat-lazyfs, rapat-corrupt), packets (rapat-shaper).

NEM_HOST_PROGS :=

# ---- clocks ---------------------------------------------------------------
NEM_CLOCK_OBJS := $(BUILD)/nemesis/clock/nem_clock_ctl.o
OBJS_ALL += $(NEM_CLOCK_OBJS)

# The shim is preloaded into arbitrary programs: position independent, only
# its wrappers exported, and never instrumented by sanitizers (an ASan
# runtime cannot be preloaded into an uninstrumented program).
NEM_SHIM_CFLAGS := $(filter-out -fsanitize=% -fno-sanitize-recover=%,$(CFLAGS)) -fPIC -fvisibility=hidden
$(BUILD)/nemesis/clock/nem_clock_shim.pic.o: nemesis/clock/nem_clock_shim.c $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(NEM_SHIM_CFLAGS) -c -o $@ $<

$(BIN)/librapat_clock.so: $(BUILD)/nemesis/clock/nem_clock_shim.pic.o
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) -shared -fPIC -Wl,-z,defs -Wl,-soname,librapat_clock.so -o $@ $^

$(BIN)/rapat-clock: $(BUILD)/nemesis/clock/rapat_clock_main.o $(NEM_CLOCK_OBJS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lm

PROGS += $(BIN)/librapat_clock.so $(BIN)/rapat-clock

$(BUILD)/tests/unit/test_nem_clock: $(BUILD)/tests/unit/test_nem_clock.o $(NEM_CLOCK_OBJS)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(call pkglibs,cmocka) -lm
# The probe runs under the (uninstrumented) shim, so it is never sanitized
# either: an ASan runtime refuses to start behind a preloaded library.
$(BUILD)/tests/integration/nemesis_clock_probe: tests/integration/nemesis_clock_probe.c $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(filter-out -fsanitize=% -fno-sanitize-recover=% -MMD -MP,$(CFLAGS)) -o $@ $<
$(BUILD)/tests/integration/nemesis_clock_shim: $(BUILD)/tests/integration/nemesis_clock_shim.o $(NEM_CLOCK_OBJS) \
		$(BUILD)/tests/integration/nemesis_clock_probe $(BIN)/librapat_clock.so $(BIN)/rapat-clock
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) -lm
$(BUILD)/tests/integration/nemesis_clock_timens: $(BUILD)/tests/integration/nemesis_clock_timens.o $(NEM_CLOCK_OBJS) \
		$(BUILD)/tests/integration/nemesis_clock_probe $(BIN)/librapat_clock.so
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) -lm

NEM_CLOCK_TESTS := $(BUILD)/tests/unit/test_nem_clock
NEM_CLOCK_INTEG := $(BUILD)/tests/integration/nemesis_clock_shim $(BUILD)/tests/integration/nemesis_clock_timens
PROGS += $(NEM_CLOCK_TESTS) $(NEM_CLOCK_INTEG)
NEM_HOST_PROGS += $(BIN)/librapat_clock.so $(BIN)/rapat-clock $(NEM_CLOCK_TESTS) $(NEM_CLOCK_INTEG)
FAST_TESTS += $(NEM_CLOCK_TESTS)
INTEG_TESTS += $(NEM_CLOCK_INTEG)
# raftnode under the shim (needs bin/raftnode from raftnode/server.mk)
INTEG_TESTS += tests/integration/nemesis_clock_raftnode.sh


# ---- disks ----------------------------------------------------------------
NEM_LAZYFS_OBJS := $(BUILD)/nemesis/disk/nem_lazyfs_cache.o $(BUILD)/nemesis/disk/nem_lazyfs_meta.o
NEM_DISK_OBJS := $(BUILD)/nemesis/disk/nem_lazyfs_ctl.o
OBJS_ALL += $(NEM_LAZYFS_OBJS) $(NEM_DISK_OBJS)

$(BIN)/rapat-lazyfs: $(BUILD)/nemesis/disk/rapat_lazyfs.o $(NEM_LAZYFS_OBJS) $(NEM_DISK_OBJS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(call pkglibs,fuse3) -lpthread

$(BUILD)/tests/unit/test_nem_lazyfs_cache: $(BUILD)/tests/unit/test_nem_lazyfs_cache.o $(NEM_LAZYFS_OBJS)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(call pkglibs,cmocka) -lpthread
$(BUILD)/tests/integration/nemesis_disk_lazyfs: $(BUILD)/tests/integration/nemesis_disk_lazyfs.o $(NEM_DISK_OBJS) \
		$(BIN)/rapat-lazyfs
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^)

$(BUILD)/tests/bench/lazyfs_fsync: $(BUILD)/tests/bench/lazyfs_fsync.o $(NEM_DISK_OBJS) $(BIN)/rapat-lazyfs
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^)
PROGS += $(BUILD)/tests/bench/lazyfs_fsync
NEM_HOST_PROGS += $(BUILD)/tests/bench/lazyfs_fsync
BENCHES += $(BUILD)/tests/bench/lazyfs_fsync

$(BUILD)/tests/unit/test_nem_lazyfs_meta: $(BUILD)/tests/unit/test_nem_lazyfs_meta.o $(NEM_LAZYFS_OBJS)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(call pkglibs,cmocka) -lpthread

NEM_DISK_TESTS := $(BUILD)/tests/unit/test_nem_lazyfs_cache $(BUILD)/tests/unit/test_nem_lazyfs_meta
$(BUILD)/tests/integration/nemesis_disk_lazyfs_model: $(BUILD)/tests/integration/nemesis_disk_lazyfs_model.o \
		$(NEM_DISK_OBJS) $(BIN)/rapat-lazyfs
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^)

NEM_DISK_INTEG := $(BUILD)/tests/integration/nemesis_disk_lazyfs $(BUILD)/tests/integration/nemesis_disk_lazyfs_model
# raftnode on lazyfs (needs bin/raftnode from raftnode/server.mk); etcd on lazyfs
INTEG_TESTS += tests/integration/nemesis_disk_lazyfs_raftnode.sh tests/integration/nemesis_disk_lazyfs_etcd.sh
PROGS += $(BIN)/rapat-lazyfs $(NEM_DISK_TESTS) $(NEM_DISK_INTEG)
NEM_HOST_PROGS += $(BIN)/rapat-lazyfs $(NEM_DISK_TESTS) $(NEM_DISK_INTEG)
FAST_TESTS += $(NEM_DISK_TESTS)
INTEG_TESTS += $(NEM_DISK_INTEG)

# corruption helpers
NEM_CORRUPT_OBJS := $(BUILD)/nemesis/disk/nem_corrupt.o
OBJS_ALL += $(NEM_CORRUPT_OBJS)
$(BIN)/rapat-corrupt: $(BUILD)/nemesis/disk/rapat_corrupt_main.o $(NEM_CORRUPT_OBJS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lm
$(BUILD)/tests/unit/test_nem_corrupt: $(BUILD)/tests/unit/test_nem_corrupt.o $(NEM_CORRUPT_OBJS)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(call pkglibs,cmocka) -lm
$(BUILD)/tests/integration/nemesis_disk_corrupt: $(BUILD)/tests/integration/nemesis_disk_corrupt.o $(BIN)/rapat-corrupt
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(call pkglibs,jansson)
PROGS += $(BIN)/rapat-corrupt $(BUILD)/tests/unit/test_nem_corrupt $(BUILD)/tests/integration/nemesis_disk_corrupt
NEM_HOST_PROGS += $(BIN)/rapat-corrupt $(BUILD)/tests/unit/test_nem_corrupt $(BUILD)/tests/integration/nemesis_disk_corrupt
FAST_TESTS += $(BUILD)/tests/unit/test_nem_corrupt
INTEG_TESTS += $(BUILD)/tests/integration/nemesis_disk_corrupt

# ---- packets --------------------------------------------------------------
NEM_SHAPER_CORE := $(BUILD)/nemesis/packet/nem_shaper_core.o
NEM_SHAPER_OBJS := $(NEM_SHAPER_CORE) $(BUILD)/nemesis/packet/nem_shaper_rules.o $(BUILD)/nemesis/packet/nem_shaper_ctl.o
OBJS_ALL += $(NEM_SHAPER_OBJS)
$(BIN)/rapat-shaper: $(BUILD)/nemesis/packet/rapat_shaper.o $(NEM_SHAPER_OBJS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(call pkglibs,libnetfilter_queue libip4tc)
$(BUILD)/tests/unit/test_nem_shaper: $(BUILD)/tests/unit/test_nem_shaper.o $(NEM_SHAPER_CORE)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(call pkglibs,cmocka)
$(BUILD)/tests/integration/nemesis_packet_probe: $(BUILD)/tests/integration/nemesis_packet_probe.o
	$(Q)$(CC) $(LDFLAGS) -o $@ $^
$(BUILD)/tests/integration/nemesis_packet_shaper: $(BUILD)/tests/integration/nemesis_packet_shaper.o $(NEM_SHAPER_OBJS) \
		$(BIN)/rapat-shaper $(BUILD)/tests/integration/nemesis_packet_probe
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(call pkglibs,libip4tc)
PROGS += $(BIN)/rapat-shaper $(BUILD)/tests/unit/test_nem_shaper $(BUILD)/tests/integration/nemesis_packet_shaper
NEM_HOST_PROGS += $(BIN)/rapat-shaper $(BUILD)/tests/unit/test_nem_shaper $(BUILD)/tests/integration/nemesis_packet_shaper
FAST_TESTS += $(BUILD)/tests/unit/test_nem_shaper
INTEG_TESTS += $(BUILD)/tests/integration/nemesis_packet_shaper
BENCHES += tests/bench/packet_shaper_latency.sh
# raftnode behind the shaper (needs bin/raftnode from raftnode/server.mk)
INTEG_TESTS += tests/integration/nemesis_packet_raftnode.sh

# Build only this module's targets (others may be mid-edit): make nemesis-host
nemesis-host: $(NEM_HOST_PROGS)
.PHONY: nemesis-host
