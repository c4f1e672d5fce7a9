/* rapat_report_driver.c — a stand-alone `rapat-report RUN_DIR` for tests until bin/rapat dispatches `report`. */
#include "harness/report/hx_report.h"

int main(int argc, char **argv)
{
	argv[0] = "report";
	return hx_report_main(argc, argv);
}
