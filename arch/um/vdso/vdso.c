/*
 * The guest vDSO: clock_gettime, gettimeofday, time, getcpu and
 * clock_getres without entering the kernel.
 *
 * The kernel (src/kernel/vdso.rs) keeps one read-only data page, the vvar,
 * mapped right below this image: a sequence count and, at a TSC reading,
 * the guest's CLOCK_MONOTONIC and CLOCK_REALTIME plus the factor turning
 * TSC ticks into nanoseconds. A reader retries while the count is odd or
 * changed under it. Anything not handled here (CPU-time clocks, TAI, a
 * timezone argument, or a host without a usable TSC) is the real system
 * call, so behaviour never depends on this file being present.
 *
 * Built by build.rs as a position-independent shared object with no
 * relocations; nothing here may use the stack protector, libc or globals
 * other than the vvar page.
 */
#include <stdint.h>

typedef long time_t_;
struct timespec_ { long tv_sec; long tv_nsec; };
struct timeval_ { long tv_sec; long tv_usec; };

/* Must match src/abi/vdso.rs (VvarData). */
struct vvar {
	volatile uint32_t seq;
	uint32_t use_syscall;
	uint64_t tsc_base;
	uint64_t mult;
	uint32_t shift;
	uint32_t ncpus;
	int64_t mono_ns;
	int64_t real_ns;
};

/* Defined by vdso.lds one page below the image. Not declared const: the
 * kernel changes it under us, and the compiler must reload it after each
 * barrier(). */
extern struct vvar vvar_page __attribute__((visibility("hidden")));

#define NSEC 1000000000L
#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7

static long sys2(long nr, long a, long b)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "0"(nr), "D"(a), "S"(b)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline uint64_t rdtsc_ordered(void)
{
	uint32_t lo, hi;
	/* lfence keeps the read from being hoisted above earlier loads. */
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}

#define barrier() __asm__ volatile("" ::: "memory")

/* 0 and *ns set: the clock read here; -1: ask the kernel. */
static int read_ns(int clk, int64_t *ns)
{
	struct vvar *v = &vvar_page;
	int real;

	switch (clk) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
		real = 1;
		break;
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
		real = 0;
		break;
	default:
		return -1;
	}
	for (;;) {
		uint32_t seq = v->seq;
		barrier();
		if (seq & 1)
			continue;
		if (v->use_syscall)
			return -1;
		uint64_t tsc = rdtsc_ordered();
		int64_t delta = (int64_t)(tsc - v->tsc_base);
		if (delta < 0)
			delta = 0; /* another CPU's TSC a hair behind */
		int64_t base = real ? v->real_ns : v->mono_ns;
		int64_t add = (int64_t)(((unsigned __int128)(uint64_t)delta * v->mult) >> v->shift);
		barrier();
		if (v->seq == seq) {
			*ns = base + add;
			return 0;
		}
	}
}

int __vdso_clock_gettime(int clk, struct timespec_ *ts)
{
	int64_t ns;

	if (read_ns(clk, &ns))
		return sys2(228, clk, (long)ts);
	ts->tv_sec = ns / NSEC;
	ts->tv_nsec = ns % NSEC;
	return 0;
}

int __vdso_gettimeofday(struct timeval_ *tv, void *tz)
{
	int64_t ns;

	if (tz || read_ns(CLOCK_REALTIME, &ns))
		return sys2(96, (long)tv, (long)tz);
	if (tv) {
		tv->tv_sec = ns / NSEC;
		tv->tv_usec = ns % NSEC / 1000;
	}
	return 0;
}

time_t_ __vdso_time(time_t_ *t)
{
	int64_t ns;

	if (read_ns(CLOCK_REALTIME, &ns))
		return sys2(201, (long)t, 0);
	if (t)
		*t = ns / NSEC;
	return ns / NSEC;
}

/* ruml runs one vCPU: CPU 0 on node 0. */
long __vdso_getcpu(unsigned *cpu, unsigned *node, void *unused)
{
	(void)unused;
	/* Which vCPU a task runs on is the kernel's to say. */
	if (vvar_page.ncpus > 1)
		return sys2(309, (long)cpu, (long)node);
	if (cpu)
		*cpu = 0;
	if (node)
		*node = 0;
	return 0;
}

int __vdso_clock_getres(int clk, struct timespec_ *res)
{
	int64_t ns;

	if (read_ns(clk, &ns))
		return sys2(229, clk, (long)res);
	if (res) {
		res->tv_sec = 0;
		/* As the syscall reports: the coarse clocks tick at 250 Hz. */
		res->tv_nsec = (clk == CLOCK_REALTIME_COARSE || clk == CLOCK_MONOTONIC_COARSE)
			? 4000000 : 1;
	}
	return 0;
}

/* Unprefixed aliases, as Linux's vDSO exports. */
int clock_gettime(int, struct timespec_ *) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct timeval_ *, void *) __attribute__((weak, alias("__vdso_gettimeofday")));
time_t_ time(time_t_ *) __attribute__((weak, alias("__vdso_time")));
long getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu")));
int clock_getres(int, struct timespec_ *) __attribute__((weak, alias("__vdso_clock_getres")));
