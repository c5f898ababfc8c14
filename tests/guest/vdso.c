/* The vDSO: glibc finds it through AT_SYSINFO_EHDR and reads the clocks
 * without a system call; the values agree with the system call's and
 * never go backwards; [vdso] and [vvar] show in /proc/self/maps; and the
 * vvar data page can be neither written nor made writable by any path. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long ns_of(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

static long long sys_ns(clockid_t c)
{
	struct timespec t;
	syscall(SYS_clock_gettime, c, &t);
	return ns_of(t);
}

static long long lib_ns(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return ns_of(t);
}

static const char *ename(int e)
{
	switch (e) {
	case 0: return "0";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case EFAULT: return "EFAULT";
	case EIO: return "EIO";
	case EINVAL: return "EINVAL";
	case ENOMEM: return "ENOMEM";
	default: return "other";
	}
}

static void check_clock(const char *name, clockid_t c)
{
	long long prev = lib_ns(c), backwards = 0;
	for (int i = 0; i < 100000; i++) {
		long long now = lib_ns(c);
		if (now < prev)
			backwards++;
		prev = now;
	}
	/* vDSO, syscall, vDSO: the syscall's value lies between the two
	 * others, so they agree to within the time a call takes (no bound
	 * in ns is printed: a loaded host can stretch a trap to ms). */
	for (int i = 0; i < 1000; i++) {
		long long a = lib_ns(c), b = sys_ns(c), d = lib_ns(c);
		if (a > b || b > d)
			backwards++;
	}
	printf("%s: backwards %lld\n", name, backwards);
}

static sigjmp_buf jb;
static void on_segv(int s) { (void)s; siglongjmp(jb, 1); }

/* The [name] line of /proc/self/maps: start address and permissions. */
static int find_map(const char *name, unsigned long *start, char perms[5])
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int found = 0;
	while (f && fgets(line, sizeof line, f)) {
		char *p = strstr(line, name);
		if (p && p[strlen(name)] == '\n') {
			sscanf(line, "%lx-%*x %4s", start, perms);
			found = 1;
			break;
		}
	}
	if (f)
		fclose(f);
	return found;
}

int main(void)
{
	int r;
	unsigned long ehdr = getauxval(AT_SYSINFO_EHDR);
	printf("AT_SYSINFO_EHDR set: %d\n", ehdr != 0);
	if (ehdr)
		printf("vDSO ELF magic: %d\n", memcmp((void *)ehdr, "\177ELF", 4) == 0);

	check_clock("MONOTONIC", CLOCK_MONOTONIC);
	check_clock("REALTIME", CLOCK_REALTIME);
	check_clock("BOOTTIME", CLOCK_BOOTTIME);
	check_clock("MONOTONIC_RAW", CLOCK_MONOTONIC_RAW);
	check_clock("MONOTONIC_COARSE", CLOCK_MONOTONIC_COARSE);
	check_clock("REALTIME_COARSE", CLOCK_REALTIME_COARSE);

	/* Across the kernel's rebases of the data (at most every 100 ms, at
	 * a system call): sleep between reads. */
	long long bad = 0;
	for (int i = 0; i < 25; i++) {
		long long m0 = lib_ns(CLOCK_MONOTONIC), r0 = lib_ns(CLOCK_REALTIME);
		usleep(11000);
		long long m1 = sys_ns(CLOCK_MONOTONIC), m2 = lib_ns(CLOCK_MONOTONIC);
		long long r1 = sys_ns(CLOCK_REALTIME), r2 = lib_ns(CLOCK_REALTIME);
		if (m1 - m0 < 11000000 || m2 < m1 || r1 - r0 < 11000000 || r2 < r1)
			bad++;
	}
	printf("across rebases: %lld bad\n", bad);

	struct timeval tv;
	struct timespec ts;
	gettimeofday(&tv, NULL);
	clock_gettime(CLOCK_REALTIME, &ts);
	long long d = ns_of(ts) - (tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL);
	printf("gettimeofday then clock_gettime: %s\n", d >= 0 ? "ordered" : "backwards");
	time_t t0 = time(NULL);
	clock_gettime(CLOCK_REALTIME, &ts);
	printf("time() matches: %d\n", ts.tv_sec == t0 || ts.tv_sec == t0 + 1);
	struct timezone tz;
	printf("gettimeofday with tz: %d\n", gettimeofday(&tv, &tz));

	struct timespec res;
	r = clock_getres(CLOCK_MONOTONIC, &res);
	printf("clock_getres MONOTONIC: %d %ld\n", r, res.tv_nsec);
	printf("clock_getres CPUTIME: %d\n", clock_getres(CLOCK_PROCESS_CPUTIME_ID, &res));
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	printf("CPU clock through the fallback: %d\n", ts.tv_sec >= 0);
	errno = 0;
	r = clock_gettime(12345, &ts);
	printf("bad clock: %d %s\n", r, ename(errno));

	unsigned cpu = 999, node = 999;
	r = getcpu(&cpu, &node);
	printf("getcpu: %d\n", r);
	printf("cpu in range: %d\n", cpu < (unsigned)sysconf(_SC_NPROCESSORS_CONF));

	unsigned long vvar = 0, vdso = 0;
	char vp[5] = "", dp[5] = "";
	printf("[vvar] in maps: %d\n", find_map("[vvar]", &vvar, vp));
	printf("[vdso] in maps: %d\n", find_map("[vdso]", &vdso, dp));
	printf("[vvar] %s [vdso] %s, vdso at AT_SYSINFO_EHDR: %d\n", vp, dp, vdso == ehdr);

	struct sigaction sa = { .sa_handler = on_segv };
	sigaction(SIGSEGV, &sa, NULL);
	volatile char *v = (volatile char *)vvar;
	if (sigsetjmp(jb, 1) == 0) {
		v[0] = 1;
		printf("write to vvar: no fault\n");
	} else {
		printf("write to vvar: SIGSEGV\n");
	}
	errno = 0;
	r = mprotect((void *)vvar, 4096, PROT_READ | PROT_WRITE);
	printf("mprotect vvar writable: %d %s\n", r, ename(errno));
	errno = 0;
	r = mprotect((void *)vvar, 4096, PROT_READ | PROT_EXEC);
	printf("mprotect vvar executable: %d %s\n", r, ename(errno));
	if (sigsetjmp(jb, 1) == 0) {
		v[0] = 1;
		printf("write to vvar after mprotect: no fault\n");
	} else {
		printf("write to vvar after mprotect: SIGSEGV\n");
	}

	/* The kernel's own copies refuse too. */
	char byte = 1;
	int fd = open("/proc/self/mem", O_RDWR);
	errno = 0;
	r = pwrite(fd, &byte, 1, (off_t)vvar);
	/* Linux: EIO (the vvar is a VM_PFNMAP page no one writes). */
	printf("/proc/self/mem write to vvar refused: %d %s\n", r == -1, ename(errno));
	close(fd);
	struct iovec local = { &byte, 1 }, remote = { (void *)vvar, 1 };
	errno = 0;
	r = process_vm_writev(getpid(), &local, 1, &remote, 1, 0);
	printf("process_vm_writev to vvar refused: %d %s\n", r == -1, ename(errno));

	/* The vDSO's text may be made writable (a private copy, for
	 * debuggers), unless the host seals its system mappings
	 * (CONFIG_MSEAL_SYSTEM_MAPPINGS: EPERM; some hosts say EINVAL).
	 * tests/guest/vdso_traps.c checks ruml's answer exactly. */
	errno = 0;
	r = mprotect((void *)vdso, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
	printf("mprotect vdso writable: %s\n", r == 0 || errno == EPERM || errno == EINVAL ? "allowed or sealed" : ename(errno));
	if (r == 0) {
		unsigned char *text = (unsigned char *)vdso;
		unsigned char was = text[4095];
		text[4095] = was ^ 0xff;
		printf("vdso page written: %d\n", text[4095] == (unsigned char)(was ^ 0xff));
		text[4095] = was;
		mprotect((void *)vdso, 4096, PROT_READ | PROT_EXEC);
	} else {
		printf("vdso page written: 1\n");
	}

	/* A child inherits both mappings and reads the clock through them. */
	pid_t pid = fork();
	if (pid == 0) {
		long long a = lib_ns(CLOCK_MONOTONIC), b = sys_ns(CLOCK_MONOTONIC);
		_exit(getauxval(AT_SYSINFO_EHDR) == ehdr && a <= b ? 0 : 1);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("child after fork: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);

	/* The pair may move but not grow (Linux: EFAULT; sealed: EPERM). */
	errno = 0;
	void *p = mremap((void *)vvar, 4096, 8192, MREMAP_MAYMOVE);
	printf("mremap vvar bigger: %s\n", p == MAP_FAILED && (errno == EFAULT || errno == EPERM) ? "refused" : ename(errno));

	/* Unmapping the data page is allowed (the vDSO would then fault:
	 * this is after the last clock read), or refused on a sealed host. */
	errno = 0;
	r = munmap((void *)vvar, 4096);
	printf("munmap vvar: %s\n", r == 0 || errno == EPERM || errno == EINVAL ? "allowed or sealed" : ename(errno));
	printf("vdso done\n");
	return 0;
}
