# nemesis/net.mk — the network nemesis library (grudges, fib-rule partitions
# over libnl), its tests and the partition benchmark. `make nemesis-net`
# builds only this module. Links after $(LAB_LIB) (it uses hx_lab_nl_sock).

NEM_NET_SRCS := nemesis/nem_net.c nemesis/nem_net_grudge.c
NEM_NET_OBJS := $(NEM_NET_SRCS:%.c=$(BUILD)/%.o)
NEM_NET_LIB := $(BUILD)/libnemesis_net.a
NEM_NET_LIBS := $(call pkglibs,libnl-route-3.0 libnl-3.0 jansson)
OBJS_ALL += $(NEM_NET_OBJS)

$(NEM_NET_LIB): $(NEM_NET_OBJS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# Pure grudge tests (builders, JSON): also run under the sanitizers.
NEM_GRUDGE_TEST := $(BUILD)/tests/integration/nemesis_partition_grudge_test
$(NEM_GRUDGE_TEST): $(BUILD)/tests/integration/nemesis_partition_grudge_test.o $(NEM_NET_LIB)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(NEM_NET_LIBS)

# Partitions measured in a real 5-node lab.
NEM_PART_TEST := $(BUILD)/tests/integration/nemesis_partition_test
$(NEM_PART_TEST): $(BUILD)/tests/integration/nemesis_partition_test.o $(NEM_NET_LIB) $(LAB_LIB)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LAB_LIBS) $(NEM_NET_LIBS)

NEM_NET_PROGS := $(NEM_NET_LIB) $(NEM_GRUDGE_TEST) $(NEM_PART_TEST)
PROGS += $(NEM_NET_PROGS)
FAST_TESTS += $(NEM_GRUDGE_TEST)
INTEG_TESTS += $(NEM_PART_TEST)

nemesis-net: $(NEM_NET_PROGS)
.PHONY: nemesis-net

# Benchmark: nem_net vs `ip rule` / `iptables` for the same grudge.
NEM_PART_BENCH := $(BUILD)/tests/bench/partition_bench
$(NEM_PART_BENCH): $(BUILD)/tests/bench/partition_bench.o $(NEM_NET_LIB) $(LAB_LIB)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LAB_LIBS) $(NEM_NET_LIBS)
PROGS += $(NEM_PART_BENCH)
BENCHES += tests/bench/partition_bench.sh
nemesis-net: $(NEM_PART_BENCH)
