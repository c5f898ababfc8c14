/* File locks: POSIX record locks, OFD locks and flock(2), between
 * processes sequenced with fork, waitpid and pipes. Prints only
 * deterministic things; compared line by line with a native run. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

static char path[64];

static const char *ename(int e)
{
	switch (e) {
	case 0: return "ok";
	case EAGAIN: return "EAGAIN";
	case EBADF: return "EBADF";
	case EINVAL: return "EINVAL";
	case EOVERFLOW: return "EOVERFLOW";
	case EDEADLK: return "EDEADLK";
	case EINTR: return "EINTR";
	default: return strerror(e);
	}
}

static int lk(int fd, int cmd, int type, int whence, long start, long len)
{
	struct flock l = { .l_type = type, .l_whence = whence,
			   .l_start = start, .l_len = len };
	return fcntl(fd, cmd, &l) < 0 ? errno : 0;
}

static void show(const char *what, int r)
{
	printf("%s: %s\n", what, ename(r));
}

static const char *tname(int t)
{
	return t == F_RDLCK ? "RD" : t == F_WRLCK ? "WR" : t == F_UNLCK ? "UN" : "??";
}

/* F_GETLK (or F_OFD_GETLK) for [start, start+len) from whence; prints
 * what it reports; the pid is compared with `owner` (0: not shown). */
static void getlk(const char *what, int fd, int cmd, int type, int whence,
		  long start, long len, pid_t owner)
{
	struct flock l = { .l_type = type, .l_whence = whence,
			   .l_start = start, .l_len = len, .l_pid = 0 };
	if (fcntl(fd, cmd, &l) < 0) {
		printf("%s: getlk %s\n", what, ename(errno));
		return;
	}
	if (l.l_type == F_UNLCK) {
		printf("%s: UN whence %d start %ld len %ld\n", what, l.l_whence,
		       (long)l.l_start, (long)l.l_len);
		return;
	}
	const char *who = l.l_pid == -1 ? "-1" :
			  (owner && l.l_pid == owner) ? "owner" : "other";
	printf("%s: %s whence %d start %ld len %ld pid %s\n", what, tname(l.l_type),
	       l.l_whence, (long)l.l_start, (long)l.l_len, who);
}

/* Run F_GETLK in a child (another process sees this one's locks). */
static void probe(const char *what, int type, long start, long len)
{
	pid_t me = getpid();
	pid_t c = fork();
	if (c == 0) {
		int fd = open(path, O_RDWR);
		getlk(what, fd, F_GETLK, type, SEEK_SET, start, len, me);
		_exit(0);
	}
	waitpid(c, NULL, 0);
}

/* Wait until `pid` sleeps (it is blocked in the call after its last
 * pipe write): its /proc/PID/stat state is S. A zombie (Z) did not wait
 * at all: go on, and the output shows what it did. */
static void wait_sleeping(pid_t pid)
{
	char p[64], buf[512];
	snprintf(p, sizeof p, "/proc/%d/stat", pid);
	for (;;) {
		int fd = open(p, O_RDONLY);
		int n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
		if (fd >= 0)
			close(fd);
		if (n > 0) {
			buf[n] = 0;
			char *e = strrchr(buf, ')');
			if (e && e[1] == ' ' && (e[2] == 'S' || e[2] == 'D' || e[2] == 'Z'))
				return;
		}
		usleep(2000);
	}
}

static void reap(pid_t c)
{
	int st;
	waitpid(c, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		printf("child failed %#x\n", st);
}

static int flk(int fd, int op)
{
	return flock(fd, op) < 0 ? errno : 0;
}

static void onsig(int s) { (void)s; }

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	strcpy(path, "/tmp/locksXXXXXX");
	int fd = mkstemp(path);
	char data[100];
	memset(data, 'x', sizeof data);
	if (fd < 0 || write(fd, data, sizeof data) != sizeof data) {
		printf("setup failed\n");
		return 1;
	}

	/* Arguments. */
	show("bad type", lk(fd, F_SETLK, 7, SEEK_SET, 0, 1));
	show("bad whence", lk(fd, F_SETLK, F_WRLCK, 9, 0, 1));
	show("negative start", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, -1, 1));
	show("negative len before 0", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 2, -3));
	show("overflow", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0x7fffffffffffffffL, 2));
	show("getlk unlck type", lk(fd, F_GETLK, 9, SEEK_SET, 0, 1));
	show("bad fd", lk(-1, F_SETLK, F_WRLCK, SEEK_SET, 0, 1));
	int ro = open(path, O_RDONLY), wo = open(path, O_WRONLY);
	show("wrlck on O_RDONLY", lk(ro, F_SETLK, F_WRLCK, SEEK_SET, 0, 1));
	show("rdlck on O_WRONLY", lk(wo, F_SETLK, F_RDLCK, SEEK_SET, 0, 1));
	show("unlck on O_RDONLY", lk(ro, F_SETLK, F_UNLCK, SEEK_SET, 0, 1));
	show("rdlck on O_RDONLY", lk(ro, F_SETLK, F_RDLCK, SEEK_SET, 0, 1));
	show("unlock it", lk(ro, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
	{
		struct flock l = { .l_type = F_WRLCK, .l_pid = 1 };
		show("ofd setlk l_pid 1", fcntl(fd, F_OFD_SETLK, &l) < 0 ? errno : 0);
		l.l_pid = 1;
		show("ofd getlk l_pid 1", fcntl(fd, F_OFD_GETLK, &l) < 0 ? errno : 0);
	}
	show("flock bad op", flk(fd, 0));
	show("flock bad op 2", flk(fd, LOCK_SH | LOCK_EX));
	show("flock bad fd", flk(-1, LOCK_EX));
	close(ro);
	close(wo);

	/* Conflicts and F_GETLK between processes. */
	show("parent wrlck 10..19", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 10, 10));
	show("parent rdlck 30..EOF", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 30, 0));
	getlk("own locks invisible", fd, F_GETLK, F_WRLCK, SEEK_SET, 0, 0, 0);
	pid_t parent = getpid();
	pid_t c = fork();
	if (c == 0) {
		int f2 = open(path, O_RDWR);
		getlk("child wr 0..EOF", f2, F_GETLK, F_WRLCK, SEEK_SET, 0, 0, parent);
		getlk("child rd 25..34", f2, F_GETLK, F_RDLCK, SEEK_SET, 25, 10, parent);
		getlk("child wr 40..49", f2, F_GETLK, F_WRLCK, SEEK_SET, 40, 10, parent);
		getlk("child wr 21 len -2", f2, F_GETLK, F_WRLCK, SEEK_SET, 21, -2, parent);
		getlk("child wr 20 len -1", f2, F_GETLK, F_WRLCK, SEEK_SET, 20, -1, parent);
		lseek(f2, 12, SEEK_SET);
		getlk("child wr cur+0", f2, F_GETLK, F_WRLCK, SEEK_CUR, 0, 1, parent);
		getlk("child wr end-70", f2, F_GETLK, F_WRLCK, SEEK_END, -70, 1, parent);
		show("child setlk wr 15", lk(f2, F_SETLK, F_WRLCK, SEEK_SET, 15, 1));
		show("child setlk rd 35..39", lk(f2, F_SETLK, F_RDLCK, SEEK_SET, 35, 5));
		show("child setlk wr 20..29", lk(f2, F_SETLK, F_WRLCK, SEEK_SET, 20, 10));
		show("child unlock what it lacks", lk(f2, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
		_exit(0);
	}
	reap(c);
	/* The child's locks died with it. */
	show("parent wrlck 20..29 after child exit", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 20, 10));
	show("parent unlock all", lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
	probe("after unlock all", F_WRLCK, 0, 0);

	/* Merging, splitting, upgrade and downgrade in one process. */
	lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10);
	lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 10, 10);
	probe("merged 0..19", F_WRLCK, 0, 0);
	lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 5, 5);
	probe("split low", F_WRLCK, 0, 0);
	probe("split high", F_WRLCK, 5, 0);
	lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 20);
	probe("downgraded: rd", F_RDLCK, 0, 0);
	probe("downgraded: wr", F_WRLCK, 0, 0);
	lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 8, 4);
	probe("upgrade middle rd", F_RDLCK, 0, 0);
	probe("upgrade middle: low part", F_WRLCK, 0, 8);
	probe("upgrade middle: high part", F_WRLCK, 12, 0);
	lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 50, 0);
	lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 60, 10);
	probe("eof lock split: 55", F_RDLCK, 55, 1);
	probe("eof lock split: 65", F_RDLCK, 65, 1);
	probe("eof lock split: 75", F_RDLCK, 75, 1);
	lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0);
	probe("all unlocked", F_WRLCK, 0, 0);

	/* POSIX: closing any descriptor of the file drops the locks. */
	lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0);
	int other = open(path, O_RDONLY);
	probe("before closing another fd", F_RDLCK, 0, 0);
	close(other);
	probe("after closing another fd", F_RDLCK, 0, 0);
	lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0);
	other = open(path, O_RDONLY);
	dup2(other, 100);
	close(other);
	probe("after close of a dup source", F_RDLCK, 0, 0);
	close(100);
	lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0);
	other = open(path, O_RDONLY);
	dup2(other, 101);
	close_range(101, 101, CLOSE_RANGE_CLOEXEC);
	probe("close_range cloexec keeps it", F_RDLCK, 0, 0);
	close_range(101, 101, 0);
	probe("after close_range", F_RDLCK, 0, 0);
	lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0);
	dup2(fd, 102);
	dup2(other, 102);
	probe("after dup2 over a dup of the fd", F_RDLCK, 0, 0);
	close(102);
	close(other);

	/* Not inherited across fork; the child's unlock leaves them be. */
	lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0);
	c = fork();
	if (c == 0) {
		getlk("child sees parent's lock", fd, F_GETLK, F_RDLCK, SEEK_SET, 0, 0, parent);
		show("child setlk on inherited fd", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 0));
		show("child unlock on inherited fd", lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
		_exit(0);
	}
	reap(c);
	probe("parent still holds", F_RDLCK, 0, 0);

	/* F_SETLKW waits; the release wakes it. */
	int p[2];
	pipe(p);
	c = fork();
	if (c == 0) {
		int f2 = open(path, O_RDWR);
		write(p[1], "x", 1);
		int r = lk(f2, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1);
		printf("child setlkw: %s\n", ename(r));
		_exit(0);
	}
	char b;
	read(p[0], &b, 1);
	wait_sleeping(c);
	printf("parent unlocks\n");
	lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0);
	reap(c);

	/* A downgrade wakes a reader. */
	lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0);
	c = fork();
	if (c == 0) {
		int f2 = open(path, O_RDWR);
		write(p[1], "x", 1);
		int r = lk(f2, F_SETLKW, F_RDLCK, SEEK_SET, 0, 1);
		printf("child setlkw rd after downgrade: %s\n", ename(r));
		_exit(0);
	}
	read(p[0], &b, 1);
	wait_sleeping(c);
	printf("parent downgrades\n");
	lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 0);
	reap(c);
	lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0);

	/* Deadlock: each holds what the other wants. */
	lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1);
	c = fork();
	if (c == 0) {
		int f2 = open(path, O_RDWR);
		lk(f2, F_SETLK, F_WRLCK, SEEK_SET, 1, 1);
		write(p[1], "x", 1);
		int r = lk(f2, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1);
		printf("child setlkw 0: %s\n", ename(r));
		_exit(0);
	}
	read(p[0], &b, 1);
	wait_sleeping(c);
	show("parent setlkw 1 (cycle)", lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 1, 1));
	show("parent setlk 1", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 1, 1));
	printf("parent unlocks 0\n");
	lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 1);
	reap(c);

	/* A signal interrupts F_SETLKW (no SA_RESTART): EINTR. */
	lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0);
	c = fork();
	if (c == 0) {
		struct sigaction sa = { .sa_handler = onsig };
		sigaction(SIGUSR1, &sa, NULL);
		int f2 = open(path, O_RDWR);
		write(p[1], "x", 1);
		int r = lk(f2, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1);
		printf("child setlkw interrupted: %s\n", ename(r));
		getlk("child after EINTR", f2, F_GETLK, F_RDLCK, SEEK_SET, 0, 0, parent);
		_exit(0);
	}
	read(p[0], &b, 1);
	wait_sleeping(c);
	kill(c, SIGUSR1);
	reap(c);
	lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0);

	/* With SA_RESTART F_SETLKW and flock go on waiting after the handler
	 * and get the lock once it is free; flock without it gives EINTR. */
	for (int i = 0; i < 3; i++) {
		int use_flock = i > 0, restart = i < 2;
		if (use_flock)
			flk(fd, LOCK_EX);
		else
			lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0);
		c = fork();
		if (c == 0) {
			struct sigaction sa = { .sa_handler = onsig,
						.sa_flags = restart ? SA_RESTART : 0 };
			sigaction(SIGUSR1, &sa, NULL);
			int f2 = open(path, O_RDWR);
			write(p[1], "x", 1);
			int r = use_flock ? flk(f2, LOCK_SH)
					  : lk(f2, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1);
			printf("child %s, signalled%s: %s\n", use_flock ? "flock" : "setlkw",
			       restart ? " with SA_RESTART" : "", ename(r));
			_exit(0);
		}
		read(p[0], &b, 1);
		wait_sleeping(c);
		kill(c, SIGUSR1);
		if (restart) {
			/* Back asleep after the handler. */
			usleep(20000);
			wait_sleeping(c);
		} else {
			/* Gone with EINTR before the lock is free. */
			reap(c);
		}
		if (use_flock)
			flk(fd, LOCK_UN);
		else
			lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0);
		if (restart)
			reap(c);
	}

	/* OFD locks: owned by the open file description. */
	show("ofd wrlck 0..9", lk(fd, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 10));
	{
		int f2 = open(path, O_RDWR);
		show("own posix vs own ofd", lk(f2, F_SETLK, F_WRLCK, SEEK_SET, 5, 1));
		getlk("own ofd seen by posix getlk", f2, F_GETLK, F_WRLCK, SEEK_SET, 0, 0, parent);
		getlk("ofd getlk same description", fd, F_OFD_GETLK, F_WRLCK, SEEK_SET, 0, 0, parent);
		getlk("ofd getlk other description", f2, F_OFD_GETLK, F_WRLCK, SEEK_SET, 0, 0, parent);
		close(f2);
	}
	probe("ofd survives closing another fd", F_RDLCK, 0, 0);
	c = fork();
	if (c == 0) {
		getlk("child ofd getlk inherited", fd, F_OFD_GETLK, F_WRLCK, SEEK_SET, 0, 0, parent);
		show("child ofd setlk inherited", lk(fd, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 20));
		int f2 = open(path, O_RDWR);
		show("child ofd setlk own", lk(f2, F_OFD_SETLK, F_RDLCK, SEEK_SET, 0, 1));
		show("child posix setlk", lk(f2, F_SETLK, F_RDLCK, SEEK_SET, 0, 1));
		_exit(0);
	}
	reap(c);
	probe("ofd after child (extended by it)", F_RDLCK, 0, 0);
	int d = dup(fd);
	close(fd);
	probe("ofd after closing one of two fds", F_RDLCK, 0, 0);
	close(d);
	probe("ofd after last close", F_RDLCK, 0, 0);
	fd = open(path, O_RDWR);

	/* OFD F_SETLKW waits too. */
	lk(fd, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 0);
	c = fork();
	if (c == 0) {
		int f2 = open(path, O_RDWR);
		write(p[1], "x", 1);
		int r = lk(f2, F_OFD_SETLKW, F_WRLCK, SEEK_SET, 0, 1);
		printf("child ofd setlkw: %s\n", ename(r));
		_exit(0);
	}
	read(p[0], &b, 1);
	wait_sleeping(c);
	printf("parent unlocks ofd\n");
	lk(fd, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 0);
	reap(c);

	/* flock: independent of fcntl locks, owned by the description. */
	show("flock ex", flk(fd, LOCK_EX));
	show("flock ex again", flk(fd, LOCK_EX));
	c = fork();
	if (c == 0) {
		int f2 = open(path, O_RDWR);
		show("child flock other description", flk(f2, LOCK_EX | LOCK_NB));
		show("child flock sh other description", flk(f2, LOCK_SH | LOCK_NB));
		show("child flock inherited description", flk(fd, LOCK_EX | LOCK_NB));
		show("child fcntl wrlck (independent)", lk(f2, F_SETLK, F_WRLCK, SEEK_SET, 0, 0));
		_exit(0);
	}
	reap(c);
	show("flock convert to sh", flk(fd, LOCK_SH));
	{
		int f2 = open(path, O_RDONLY);
		show("flock sh second description", flk(f2, LOCK_SH | LOCK_NB));
		show("flock ex second description", flk(f2, LOCK_EX | LOCK_NB));
		/* The failed conversion dropped f2's shared lock. */
		show("flock ex first description", flk(fd, LOCK_EX | LOCK_NB));
		show("flock sh second description again", flk(f2, LOCK_SH | LOCK_NB));
		show("flock un second description", flk(f2, LOCK_UN));
		close(f2);
	}
	{
		int path_fd = open(path, O_PATH);
		show("flock on O_PATH", flk(path_fd, LOCK_SH));
		show("fcntl lock on O_PATH", lk(path_fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 0));
		close(path_fd);
	}

	/* /proc/locks shows this process's flock in Linux's format. */
	{
		struct stat st;
		fstat(fd, &st);
		char want[128];
		snprintf(want, sizeof want, "FLOCK  ADVISORY  WRITE %d %02x:%02x:%lu 0 EOF",
			 getpid(), major(st.st_dev), minor(st.st_dev), (unsigned long)st.st_ino);
		lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 10, 10);
		char want2[128];
		snprintf(want2, sizeof want2, "POSIX  ADVISORY  WRITE %d %02x:%02x:%lu 10 19",
			 getpid(), major(st.st_dev), minor(st.st_dev), (unsigned long)st.st_ino);
		static char buf[65536];
		int pf = open("/proc/locks", O_RDONLY);
		int n = 0, r;
		while ((r = read(pf, buf + n, sizeof buf - 1 - n)) > 0)
			n += r;
		buf[n] = 0;
		close(pf);
		printf("/proc/locks flock line: %s\n", strstr(buf, want) ? "yes" : "no");
		printf("/proc/locks posix line: %s\n", strstr(buf, want2) ? "yes" : "no");
		lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0);
	}

	/* A blocked flock waiter is woken by the unlock. */
	c = fork();
	if (c == 0) {
		int f2 = open(path, O_RDWR);
		write(p[1], "x", 1);
		int r = flk(f2, LOCK_EX);
		printf("child flock ex: %s\n", ename(r));
		_exit(0);
	}
	read(p[0], &b, 1);
	wait_sleeping(c);
	printf("parent flock un\n");
	flk(fd, LOCK_UN);
	reap(c);

	/* Released on the last close of the description. */
	flk(fd, LOCK_EX);
	d = dup(fd);
	close(fd);
	c = fork();
	if (c == 0) {
		int f2 = open(path, O_RDWR);
		show("flock while a dup is open", flk(f2, LOCK_EX | LOCK_NB));
		_exit(0);
	}
	reap(c);
	close(d);
	c = fork();
	if (c == 0) {
		int f2 = open(path, O_RDWR);
		show("flock after last close", flk(f2, LOCK_EX | LOCK_NB));
		_exit(0);
	}
	reap(c);

	unlink(path);
	printf("locks done\n");
	return 0;
}
