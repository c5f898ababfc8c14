/* Core dumps: children that die of SIGSEGV and abort() with RLIMIT_CORE
 * set leave a core file in their cwd and a WCOREDUMP status; with
 * RLIMIT_CORE 0 nothing is written and the status has no core bit;
 * core_pattern's %e and %s name the file. Usage: coredump DIR (DIR must
 * not hold the subdirectories yet). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

volatile int *volatile null_ptr;

__attribute__((noinline)) void crash_segv(void)
{
	*null_ptr = 42;
}

__attribute__((noinline)) void crash_abort(void)
{
	abort();
}

static void run(const char *dir, const char *label, rlim_t limit, void (*fn)(void),
		const char *expect_file)
{
	mkdir(dir, 0755);
	pid_t p = fork();
	if (p == 0) {
		struct rlimit r = { limit, RLIM_INFINITY };
		if (chdir(dir) || setrlimit(RLIMIT_CORE, &r))
			_exit(99);
		fn();
		_exit(0);
	}
	int st;
	waitpid(p, &st, 0);
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, expect_file);
	struct stat sb;
	int have = stat(path, &sb) == 0;
	printf("%s: signaled=%d sig=%d core=%d file=%d", label, WIFSIGNALED(st),
	       WIFSIGNALED(st) ? WTERMSIG(st) : 0, WIFSIGNALED(st) && WCOREDUMP(st), have);
	if (have)
		printf(" mode=%o elf=%d", sb.st_mode & 07777, sb.st_size > 64);
	printf("\n");
}

static void set_pattern(const char *p)
{
	int fd = open("/proc/sys/kernel/core_pattern", O_WRONLY);
	if (fd < 0 || write(fd, p, strlen(p)) < 0)
		printf("core_pattern: %s\n", strerror(errno));
	if (fd >= 0)
		close(fd);
}

int main(int argc, char **argv)
{
	char d[4][256];
	const char *base = argc > 1 ? argv[1] : ".";
	setvbuf(stdout, NULL, _IONBF, 0);
	umask(022);
	for (int i = 0; i < 4; i++)
		snprintf(d[i], sizeof d[i], "%s/c%d", base, i);
	set_pattern("core\n");
	run(d[0], "segv", RLIM_INFINITY, crash_segv, "core");
	run(d[1], "abort", RLIM_INFINITY, crash_abort, "core");
	run(d[2], "limit0", 0, crash_segv, "core");
	set_pattern("%e-%s.core\n");
	run(d[3], "pattern", RLIM_INFINITY, crash_segv, "coredump-11.core");
	set_pattern("core\n");
	printf("coredump done\n");
	return 0;
}
