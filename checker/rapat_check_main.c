/* rapat_check_main.c — a tiny driver so the checker's tests and benchmarks can run `rapat check` without the harness. */
#include "checker/chk.h"

int main(int argc, char **argv)
{
	return chk_cli_main(argc, argv);
}
