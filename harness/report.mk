# harness/report.mk — libreport.a: `rapat report` (report.html) and `rapat campaign`,
# their stand-alone drivers, unit and integration tests. `make report` builds only this.
#
# bin/rapat links $(REPORT_LIB) $(REPORT_LIBS) and dispatches `report` to
# hx_report_main() and `campaign` to hx_campaign_main(); the run calls
# hx_report_write() at its end (see docs/report.md).

REPORT_SRCS := harness/report/hx_report_data.c harness/report/hx_report_html.c \
               harness/report/hx_report_checkers.c harness/report/hx_report_assets.c \
               harness/report/hx_report_main.c \
               $(wildcard harness/campaign/hx_campaign_*.c)
REPORT_OBJS := $(REPORT_SRCS:%.c=$(BUILD)/%.o)
REPORT_LIB := $(BUILD)/libreport.a
REPORT_LIBS := $(call pkglibs,lua5.4 libcurl jansson) -lm
OBJS_ALL += $(REPORT_OBJS)

# The page's style and script are embedded with .incbin (paths relative to the top level).
$(BUILD)/harness/report/hx_report_assets.o: harness/report/report.css harness/report/report.js

$(REPORT_LIB): $(REPORT_OBJS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# Stand-alone drivers (the tests use them until bin/rapat dispatches the commands).
REPORT_DRIVER := $(BUILD)/harness/report/rapat-report
CAMPAIGN_DRIVER := $(BUILD)/harness/campaign/rapat-campaign
$(REPORT_DRIVER): $(BUILD)/harness/report/rapat_report_driver.o $(REPORT_LIB)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(REPORT_LIB) $(REPORT_LIBS)
$(CAMPAIGN_DRIVER): $(BUILD)/harness/campaign/rapat_campaign_driver.o $(REPORT_LIB)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(REPORT_LIB) $(REPORT_LIBS)

REPORT_UNIT := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(wildcard tests/unit/test_report_*.c))
$(BUILD)/tests/unit/test_report_%: $(BUILD)/tests/unit/test_report_%.o $(REPORT_LIB)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(REPORT_LIB) $(call pkglibs,cmocka) $(REPORT_LIBS)

# A loopback HTTP listener for the campaign test's webhook.
CAMPAIGN_SINK := $(BUILD)/tests/integration/campaign_http_sink
$(CAMPAIGN_SINK): $(BUILD)/tests/integration/campaign_http_sink.o
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

REPORT_PROGS := $(REPORT_LIB) $(REPORT_DRIVER) $(REPORT_UNIT) $(CAMPAIGN_SINK) \
                $(if $(wildcard harness/campaign/rapat_campaign_driver.c),$(CAMPAIGN_DRIVER))
PROGS += $(REPORT_PROGS)
FAST_TESTS += $(REPORT_UNIT)
INTEG_TESTS += $(wildcard tests/integration/report_test.sh tests/integration/campaign_test.sh)

report: $(REPORT_PROGS)
.PHONY: report
