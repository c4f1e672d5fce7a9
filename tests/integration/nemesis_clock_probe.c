/* nemesis_clock_probe.c — test helper run under the clock shim: for every
 * line on stdin it prints one line of clock readings (ns) through every libc
 * entry point the shim wraps. */
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

static long long rd(clockid_t id)
{
	struct timespec ts;
	if (clock_gettime(id, &ts) != 0)
		return -1;
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(void)
{
	char line[64];
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof line, stdin)) {
		struct timeval tv;
		gettimeofday(&tv, NULL);
		time_t t = time(NULL);
		struct timespec tg;
		timespec_get(&tg, TIME_UTC);
		/* realtime monotonic boottime gettimeofday time realtime_coarse
		 * monotonic_raw monotonic_coarse timespec_get */
		printf("%lld %lld %lld %lld %lld %lld %lld %lld %lld\n", rd(CLOCK_REALTIME),
		       rd(CLOCK_MONOTONIC), rd(CLOCK_BOOTTIME),
		       (long long)tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL,
		       (long long)t * 1000000000LL, rd(CLOCK_REALTIME_COARSE), rd(CLOCK_MONOTONIC_RAW),
		       rd(CLOCK_MONOTONIC_COARSE),
		       (long long)tg.tv_sec * 1000000000LL + tg.tv_nsec);
	}
	return 0;
}
