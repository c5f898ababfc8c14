/* /proc/PID access and the dumpable flag, checked from inside the guest
 * (and against native Linux):
 *
 *   procperm dumpable          PR_GET_DUMPABLE, PR_SET_DUMPABLE 0, 1, 2
 *   procperm self              what this process may see of itself
 *   procperm nondump           PR_SET_DUMPABLE 0, what it may see of
 *                              itself, then "ready" and sleep (for others
 *                              to try)
 *   procperm peek PID          what this process may see of PID
 *   procperm dropids           (as root) PR_GET_DUMPABLE after setresuid
 *                              and setresgid to nobody
 *
 * Every line is "name=result", result "ok" or the errno's name. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static const char *err(int e)
{
	switch (e) {
	case 0: return "ok";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINVAL: return "EINVAL";
	default: return "other";
	}
}

static void try_open(const char *dir, const char *name)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%s/%s", dir, name);
	int fd = open(p, O_RDONLY);
	printf("%s=%s\n", name, err(fd < 0 ? errno : 0));
	if (fd >= 0)
		close(fd);
}

static void try_readlink(const char *dir, const char *name)
{
	char p[64], buf[256];
	snprintf(p, sizeof p, "/proc/%s/%s", dir, name);
	ssize_t n = readlink(p, buf, sizeof buf);
	printf("%s=%s\n", name, err(n < 0 ? errno : 0));
}

static void try_listdir(const char *dir, const char *name)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%s/%s", dir, name);
	DIR *d = opendir(p);
	printf("%s=%s\n", name, err(d ? 0 : errno));
	if (d)
		closedir(d);
}

static void probe(const char *dir)
{
	try_open(dir, "environ");
	try_open(dir, "maps");
	try_open(dir, "cmdline");
	try_open(dir, "status");
	try_listdir(dir, "fd");
	try_readlink(dir, "fd/0");
	try_readlink(dir, "cwd");
	try_readlink(dir, "root");
	try_readlink(dir, "exe");
	try_open(dir, "cwd/."); /* walking through the link */
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	if (!strcmp(argv[1], "dumpable")) {
		printf("get=%d\n", prctl(PR_GET_DUMPABLE));
		printf("set0=%s\n", err(prctl(PR_SET_DUMPABLE, 0) ? errno : 0));
		printf("get=%d\n", prctl(PR_GET_DUMPABLE));
		printf("set2=%s\n", err(prctl(PR_SET_DUMPABLE, 2) ? errno : 0));
		printf("set1=%s\n", err(prctl(PR_SET_DUMPABLE, 1) ? errno : 0));
		printf("get=%d\n", prctl(PR_GET_DUMPABLE));
		return 0;
	}
	if (!strcmp(argv[1], "dropids")) {
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			return 1;
		printf("get=%d\n", prctl(PR_GET_DUMPABLE));
		return 0;
	}
	if (!strcmp(argv[1], "self")) {
		probe("self");
		return 0;
	}
	if (!strcmp(argv[1], "nondump")) {
		prctl(PR_SET_DUMPABLE, 0);
		probe("self");
		printf("ready\n");
		fflush(stdout);
		sleep(1000);
		return 0;
	}
	if (!strcmp(argv[1], "peek") && argc > 2) {
		probe(argv[2]);
		return 0;
	}
	return 2;
}
