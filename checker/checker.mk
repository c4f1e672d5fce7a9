# checker/checker.mk — the linearizability checker: libchecker.a, its CLI
# driver, the history generator, tests, fuzz targets and benchmarks.
#
# For other modules:  link $(CHECKER_LIB) $(CHECKER_LIBS)
#   CHECKER_LIB  = $(BUILD)/libchecker.a
#   CHECKER_LIBS = jansson + pthread (and -lm)

CHECKER_SRCS := checker/chk_util.c checker/chk_history.c checker/chk_edn.c \
                checker/chk_model.c checker/chk_search.c checker/chk_check.c \
                checker/chk_cli.c
CHECKER_OBJS := $(CHECKER_SRCS:%.c=$(BUILD)/%.o)
CHECKER_LIB := $(BUILD)/libchecker.a
CHECKER_LIBS := $(call pkglibs,jansson) -lpthread -lm
OBJS_ALL += $(CHECKER_OBJS)

$(CHECKER_LIB): $(CHECKER_OBJS)
	$(if $(Q),@echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/checker/rapat-check: $(BUILD)/checker/rapat_check_main.o $(CHECKER_LIB)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CHECKER_LIBS)

$(BIN)/rapat-genhist: $(BUILD)/checker/chk_genhist.o
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lm

PROGS += $(BIN)/rapat-genhist $(BUILD)/checker/rapat-check

# ---- tests ----
CHECKER_TESTS := test_chk_manifest test_chk_unit test_chk_diff
$(BUILD)/tests/checker/test_chk_manifest: $(BUILD)/tests/checker/test_chk_manifest.o $(CHECKER_LIB)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CHECKER_LIBS)
$(BUILD)/tests/checker/test_chk_unit: $(BUILD)/tests/checker/test_chk_unit.o $(CHECKER_LIB)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CHECKER_LIBS) $(call pkglibs,cmocka)
$(BUILD)/tests/checker/test_chk_diff: $(BUILD)/tests/checker/test_chk_diff.o \
		$(BUILD)/tests/checker/brute.o $(CHECKER_LIB)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CHECKER_LIBS)
PROGS += $(addprefix $(BUILD)/tests/checker/,$(CHECKER_TESTS))

FAST_TESTS += $(BUILD)/tests/checker/test_chk_manifest \
              $(BUILD)/tests/checker/test_chk_unit \
              $(BUILD)/tests/checker/test_chk_diff \
              tests/checker/test_genhist.sh \
              tests/checker/test_cli.sh \
              $(BUILD)/fuzz/fuzz_history_jsonl:tests/fuzz/corpus/history_jsonl \
              $(BUILD)/fuzz/fuzz_history_edn:tests/fuzz/corpus/history_edn \
              $(BUILD)/fuzz/fuzz_history_diff:tests/fuzz/corpus/history_diff

# ---- fuzz targets: libFuzzer with FUZZ=1, corpus replay otherwise ----
FUZZ_TARGETS += fuzz_history_jsonl fuzz_history_edn fuzz_history_diff
# the differential target also links the brute-force oracle
$(BUILD)/fuzz/fuzz_history_diff: $(BUILD)/tests/checker/brute.o
ifneq ($(FUZZ),)
$(BUILD)/fuzz/fuzz_history_%: $(BUILD)/tests/fuzz/fuzz_history_%.o $(CHECKER_LIB)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(CHECKER_LIBS)
else
$(BUILD)/fuzz/fuzz_history_%: $(BUILD)/tests/fuzz/fuzz_history_%.o $(BUILD)/tests/fuzz/replay_main.o $(CHECKER_LIB)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CHECKER_LIBS)
PROGS += $(BUILD)/fuzz/fuzz_history_jsonl $(BUILD)/fuzz/fuzz_history_edn $(BUILD)/fuzz/fuzz_history_diff
endif

BENCHES += tests/bench/checker_bench.sh

checker: $(CHECKER_LIB) $(filter $(BIN)/rapat-genhist $(BUILD)/checker/% $(BUILD)/tests/checker/% $(BUILD)/fuzz/fuzz_history_%,$(PROGS))
.PHONY: checker
