/* Clock reads through glibc, which uses the vDSO when there is one:
 * tests/vdso.rs counts the clock system calls ruml logs while this runs.
 * Five direct syscall(SYS_clock_gettime) calls mark that counting works.
 * Then the wall clock is set (guest only: never run this natively as
 * root), and what a debugger or a program may do to the vDSO's pages:
 * write its text (a private copy) and unmap the data page. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define N 2000

int main(void)
{
	struct timespec ts;
	struct timeval tv;
	long long sum = 0;
	for (int i = 0; i < N; i++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		sum += ts.tv_nsec & 1;
		clock_gettime(CLOCK_REALTIME, &ts);
		gettimeofday(&tv, NULL);
		sum += time(NULL) & 1;
	}
	for (int i = 0; i < 5; i++)
		syscall(SYS_clock_gettime, CLOCK_BOOTTIME, &ts);
	printf("reads done %d\n", sum >= 0);

	/* Setting the wall clock moves the vDSO's at once. */
	struct timespec want, lib, sys;
	clock_gettime(CLOCK_REALTIME, &want);
	want.tv_sec += 100000;
	printf("clock_settime: %d\n", clock_settime(CLOCK_REALTIME, &want));
	clock_gettime(CLOCK_REALTIME, &lib);
	syscall(SYS_clock_gettime, CLOCK_REALTIME, &sys);
	printf("vDSO follows: %d\n", lib.tv_sec - want.tv_sec < 2 && lib.tv_sec >= want.tv_sec &&
	       sys.tv_sec - lib.tv_sec < 2 && sys.tv_sec >= lib.tv_sec);

	unsigned char *vdso = (unsigned char *)getauxval(AT_SYSINFO_EHDR);
	int r = mprotect(vdso, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
	printf("mprotect vdso writable: %d\n", r);
	if (r == 0) {
		unsigned char was = vdso[4095];
		vdso[4095] = was ^ 0x5a;
		printf("vdso text written: %d\n", vdso[4095] == (was ^ 0x5a));
		vdso[4095] = was;
		mprotect(vdso, 4096, PROT_READ | PROT_EXEC);
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("munmap vvar: %d\n", munmap(vdso - 4096, 4096));
	printf("vdso_traps done\n");
	return 0;
}
