# harness/module.mk — bin/rapat (the harness runtime), its unit and
# integration tests, the fake v1 server used by tests and the benchmark.
# `make harness` builds only this module.

HX_SRCS := harness/hx_json.c harness/hx_history.c harness/hx_http.c harness/hx_lua.c \
           harness/hx_nodes.c harness/hx_net.c harness/hx_check.c harness/hx_clock.c harness/hx_packet.c harness/hx_disk.c harness/hx_tls.c harness/hx_run.c
HX_OBJS := $(HX_SRCS:%.c=$(BUILD)/%.o)
HX_LIB := $(BUILD)/libharness.a
OBJS_ALL += $(HX_OBJS) $(BUILD)/harness/main.o

# Optional parts, present once their modules define them: the checker (for
# `rapat check` and the linearizable checker), the nemesis network library
# (partitions) and the clock shim's controller (clock faults). Decided from the fragments, so that a module that
# exists only as a header does not break the link.
HX_HAVE_CHECKER := $(if $(and $(wildcard checker/chk.h),$(shell grep -ls 'CHECKER_LIB' checker/*.mk 2>/dev/null)),1)
HX_HAVE_NEM := $(if $(and $(wildcard nemesis/nem.h),$(shell grep -ls 'NEM_NET_LIB' nemesis/*.mk 2>/dev/null)),1)
HX_HAVE_CLOCK := $(if $(and $(wildcard nemesis/clock/nem_clock.h),$(shell grep -ls 'NEM_CLOCK_OBJS' nemesis/*.mk 2>/dev/null)),1)
# The packet shaper's controller (only its start/stop object: fork + exec).
HX_HAVE_PACKET := $(if $(and $(wildcard nemesis/packet/nem_shaper.h nemesis/packet/nem_shaper_ctl.c),$(shell grep -ls 'nem_shaper_ctl.o' nemesis/*.mk 2>/dev/null)),1)
HX_SHAPER_CTL_OBJ := $(BUILD)/nemesis/packet/nem_shaper_ctl.o
# The file corruption helpers (nemesis/disk/nem_corrupt.c).
HX_HAVE_DISK := $(if $(and $(wildcard nemesis/disk/nem_corrupt.h),$(shell grep -ls 'NEM_CORRUPT_OBJS' nemesis/*.mk 2>/dev/null)),1)
# rapat-lazyfs's control API (nemesis/disk/nem_lazyfs_ctl.c): fork + exec of
# the daemon and its control socket; the daemon itself is bin/rapat-lazyfs.
HX_HAVE_LAZYFS := $(if $(and $(wildcard nemesis/disk/nem_lazyfs.h),$(shell grep -ls 'NEM_DISK_OBJS' nemesis/*.mk 2>/dev/null)),1)
# report.html and `rapat report`/`rapat campaign` (harness/report.mk).
HX_HAVE_REPORT := $(if $(and $(wildcard harness/report/hx_report.h),$(shell grep -ls 'REPORT_LIB' harness/report.mk 2>/dev/null)),1)
HX_HAVE_CAMPAIGN := $(if $(and $(HX_HAVE_REPORT),$(wildcard harness/campaign/hx_campaign.h harness/campaign/hx_campaign_run.c)),1)
HX_FEATURES := $(if $(HX_HAVE_CHECKER),-DHX_HAVE_CHECKER) $(if $(HX_HAVE_NEM),-DHX_HAVE_NEM) \
               $(if $(HX_HAVE_CLOCK),-DHX_HAVE_CLOCK) $(if $(HX_HAVE_REPORT),-DHX_HAVE_REPORT) \
               $(if $(HX_HAVE_CAMPAIGN),-DHX_HAVE_CAMPAIGN) $(if $(HX_HAVE_PACKET),-DHX_HAVE_PACKET) \
               $(if $(HX_HAVE_DISK),-DHX_HAVE_DISK) $(if $(HX_HAVE_LAZYFS),-DHX_HAVE_LAZYFS)
HX_FEATURES_FILE := $(BUILD)/harness/.features
$(shell mkdir -p $(BUILD)/harness && echo '$(HX_FEATURES)' | cmp -s - $(HX_FEATURES_FILE) || echo '$(HX_FEATURES)' > $(HX_FEATURES_FILE))
HX_FEATURE_OBJS := $(addprefix $(BUILD)/harness/,main.o hx_check.o hx_net.o hx_clock.o hx_packet.o hx_disk.o hx_run.o)
$(HX_FEATURE_OBJS): CFLAGS += $(HX_FEATURES)
$(HX_FEATURE_OBJS): $(HX_FEATURES_FILE)

# Deferred (=): CHECKER_LIB / NEM_NET_LIB come from fragments included later.
HX_OPT_LIBS = $(if $(HX_HAVE_CHECKER),$(CHECKER_LIB)) $(if $(HX_HAVE_NEM),$(NEM_NET_LIB)) \
              $(if $(HX_HAVE_CLOCK),$(NEM_CLOCK_OBJS)) $(if $(HX_HAVE_REPORT),$(REPORT_LIB)) \
              $(if $(HX_HAVE_PACKET),$(HX_SHAPER_CTL_OBJ)) $(if $(HX_HAVE_DISK),$(NEM_CORRUPT_OBJS)) \
              $(if $(HX_HAVE_LAZYFS),$(NEM_DISK_OBJS))
HX_LIBS := $(call pkglibs,lua5.4 libcurl libevent jansson openssl) -lm -lpthread

$(HX_LIB): $(HX_OBJS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

.SECONDEXPANSION:
$(BIN)/rapat: $(BUILD)/harness/main.o $(HX_LIB) $$(HX_OPT_LIBS) $(LAB_LIB)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(BUILD)/harness/main.o $(HX_LIB) $(HX_OPT_LIBS) $(LAB_LIB) \
		$(LAB_LIBS) $(NEM_NET_LIBS) $(if $(HX_HAVE_REPORT),$(REPORT_LIBS)) $(HX_LIBS)

# A trivial node-protocol-v1 server (tests and the benchmark).
HX_FAKE := $(BUILD)/tests/integration/fake_v1
$(HX_FAKE): $(BUILD)/tests/integration/fake_v1.o
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(call pkglibs,libevent libevent_openssl jansson openssl)

# Unit tests (pure): compiled against the harness objects directly.
HX_UNIT := $(BUILD)/tests/unit/test_hx_json $(BUILD)/tests/unit/test_hx_history \
           $(BUILD)/tests/unit/test_hx_lua $(BUILD)/tests/unit/test_hx_http
$(BUILD)/tests/unit/test_hx_%: $(BUILD)/tests/unit/test_hx_%.o $(HX_LIB)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(HX_LIB) $(call pkglibs,cmocka) $(HX_LIBS)

# The scheduler test needs the whole runtime (the hx module references node
# supervision, the lab, the checker and the nemesis bindings).
HX_SCHED_TEST := $(BUILD)/tests/unit/test_hx_sched
$(HX_SCHED_TEST): $(BUILD)/tests/unit/test_hx_sched.o $(HX_LIB) $$(HX_OPT_LIBS) $(LAB_LIB)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(HX_LIB) $(HX_OPT_LIBS) $(LAB_LIB) $(LAB_LIBS) $(NEM_NET_LIBS) \
		$(if $(HX_HAVE_REPORT),$(REPORT_LIBS)) $(call pkglibs,cmocka) $(HX_LIBS)

HX_BENCH := $(BUILD)/tests/bench/harness_curl_loop
$(HX_BENCH): $(BUILD)/tests/bench/harness_curl_loop.o
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(call pkglibs,libcurl)

HX_PROGS := $(BIN)/rapat $(HX_FAKE) $(HX_UNIT) $(HX_SCHED_TEST) $(HX_BENCH)
PROGS += $(HX_PROGS)
FAST_TESTS += $(HX_UNIT) $(HX_SCHED_TEST)
INTEG_TESTS += tests/integration/harness_cli_test.sh tests/integration/harness_fake_test.sh \
               tests/integration/harness_raftnode_test.sh tests/integration/harness_lazyfs_test.sh
BENCHES += tests/bench/harness_bench.sh

harness: $(HX_PROGS)
.PHONY: harness
