/* hx_report_assets.c — embeds report.css and report.js (the page's style and script) into the binary. */
#include <stddef.h>

/* .incbin paths are relative to the directory make runs in (the top level);
 * harness/report.mk makes this object depend on both files. */
__asm__(".section .rodata\n"
	".global hx_report_css\n"
	".type hx_report_css, @object\n"
	".balign 16\n"
	"hx_report_css:\n"
	".incbin \"harness/report/report.css\"\n"
	"hx_report_css_end:\n"
	".byte 0\n"
	".global hx_report_js\n"
	".type hx_report_js, @object\n"
	".balign 16\n"
	"hx_report_js:\n"
	".incbin \"harness/report/report.js\"\n"
	"hx_report_js_end:\n"
	".byte 0\n"
	".balign 8\n"
	".global hx_report_css_len\n"
	"hx_report_css_len:\n"
	".quad hx_report_css_end - hx_report_css\n"
	".global hx_report_js_len\n"
	"hx_report_js_len:\n"
	".quad hx_report_js_end - hx_report_js\n"
	".previous\n");
