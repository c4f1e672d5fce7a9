# harness/lab.mk — the lab library (namespaces, bridge, veths over libnl; node
# processes), its helper programs and integration tests. `make lab` builds
# only this module.

LAB_SRCS := harness/lab.c
LAB_OBJS := $(LAB_SRCS:%.c=$(BUILD)/%.o)
LAB_LIB := $(BUILD)/liblab.a
LAB_LIBS := $(call pkglibs,libnl-route-3.0 libnl-3.0)
OBJS_ALL += $(LAB_OBJS)

$(LAB_LIB): $(LAB_OBJS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# Helper run inside node namespaces by the tests (listen/connect/clock).
LAB_PROBE := $(BUILD)/tests/integration/lab_probe
$(LAB_PROBE): $(BUILD)/tests/integration/lab_probe.o
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

# A program that builds a lab, spawns sleepers and waits to be killed: the
# lifetime tests drive it from outside.
LAB_HOLD := $(BUILD)/tests/integration/lab_hold
$(LAB_HOLD): $(BUILD)/tests/integration/lab_hold.o $(LAB_LIB)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LAB_LIBS)

LAB_BASIC_TEST := $(BUILD)/tests/integration/lab_basic_test
$(LAB_BASIC_TEST): $(BUILD)/tests/integration/lab_basic_test.o $(LAB_LIB) | $(LAB_PROBE)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LAB_LIBS)

LAB_PROGS := $(LAB_LIB) $(LAB_PROBE) $(LAB_HOLD) $(LAB_BASIC_TEST)
PROGS += $(LAB_PROGS)
INTEG_TESTS += $(LAB_BASIC_TEST) tests/integration/lab_lifetime_test.sh \
               tests/integration/lab_rootless_test.sh

lab: $(LAB_PROGS)
.PHONY: lab
