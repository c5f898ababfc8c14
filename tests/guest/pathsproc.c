/* Paths and /proc corners found by third-party test suites, compared with
 * native Linux line by line:
 *
 *   exec     execveat: a directory fd and a relative path, AT_EMPTY_PATH
 *            with an O_PATH fd and with a memfd (ELF and script),
 *            AT_SYMLINK_NOFOLLOW, bad flags
 *   fd       /proc/self/fd: reopening a memfd, a deleted file, a pipe
 *            (also as /dev/fd/N and /dev/stdin) and a socket (ENXIO);
 *            listing it in small getdents chunks while closing fds
 *   names D  names that are not UTF-8 in directory D (default: /dev/shm
 *            and /tmp): create, list, stat, rename, symlink, readlink,
 *            getcwd, /proc/self/fd, unlink, AF_UNIX bind and connect
 *   procsys  /proc/sys files programs read (values where host and guest
 *            agree, else only that they read as Linux's format)
 *   slash    trailing slashes: open(O_CREAT), mkdir, stat, rename,
 *            unlink, rmdir, link, symlink, mknod
 *
 * Run without arguments it runs every section; "child" is what the exec
 * section runs. Only deterministic things are printed (no pids, no
 * addresses, no paths of the binary). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *en(int e)
{
	const char *s = strerrorname_np(e);
	return s ? s : "?";
}

#define CHECK(label, expr)                                                  \
	do {                                                                \
		errno = 0;                                                  \
		long r_ = (long)(expr);                                     \
		printf("%s: %s\n", label, r_ < 0 ? en(errno) : "ok");       \
	} while (0)

/* The exec'd side: what it was started as. */
static int child(int argc, char **argv)
{
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	char comm[32] = "", exe[256] = "";
	int fd = open("/proc/self/comm", O_RDONLY);
	ssize_t n = read(fd, comm, sizeof comm - 1);
	close(fd);
	if (n > 0 && comm[n - 1] == '\n')
		comm[n - 1] = 0;
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = 0;
	/* The binary's own path differs between host and guest. */
	if (strncmp(exe, "/memfd:", 7) != 0)
		strcpy(exe, "<file>");
	printf("  child %s: execfn=%s comm=%s exe=%s\n", argc > 2 ? argv[2] : "",
	       strncmp(execfn, "/dev/fd/", 8) == 0 ? execfn : "<path>", comm,
	       exe);
	return 0;
}

/* Fork, run execveat(dirfd, path, flags) with argv {"x", "child", tag},
 * print how the child ended. */
static void run_execveat(const char *tag, int dirfd, const char *path, int flags)
{
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		char *argv[] = {"x", "child", (char *)tag, NULL};
		syscall(SYS_execveat, dirfd, path, argv, environ, flags);
		printf("%s: %s\n", tag, en(errno));
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(p, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		printf("%s: child status %x\n", tag, st);
}

static void copy_self(int to)
{
	int from = open("/proc/self/exe", O_RDONLY);
	char buf[65536];
	ssize_t n;
	while ((n = read(from, buf, sizeof buf)) > 0)
		write(to, buf, n);
	close(from);
}

static void sec_exec(void)
{
	printf("== exec\n");
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	self[n] = 0;
	char *slash = strrchr(self, '/');
	*slash = 0;
	int dir = open(self, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	run_execveat("dirfd+relative", dir, slash + 1, 0);
	*slash = '/';
	int opath = open(self, O_PATH);
	run_execveat("opath fd", opath, "", AT_EMPTY_PATH);
	run_execveat("empty without flag", opath, "", 0);
	run_execveat("bad flags", opath, "", AT_EMPTY_PATH | 0x4);
	run_execveat("dir fd", dir, "", AT_EMPTY_PATH);
	close(opath);
	int rd = open(self, O_RDONLY | O_CLOEXEC);
	run_execveat("cloexec elf fd", rd, "", AT_EMPTY_PATH);
	close(rd);

	int mfd = memfd_create("elf", 0);
	copy_self(mfd);
	run_execveat("memfd elf", mfd, "", AT_EMPTY_PATH);
	close(mfd);

	static const char script[] = "#!/bin/sh\necho \"  script $0 $1\"\n";
	mfd = memfd_create("script", 0);
	write(mfd, script, sizeof script - 1);
	run_execveat("memfd script", mfd, "", AT_EMPTY_PATH);
	close(mfd);
	mfd = memfd_create("script", MFD_CLOEXEC);
	write(mfd, script, sizeof script - 1);
	run_execveat("cloexec memfd script", mfd, "", AT_EMPTY_PATH);
	close(mfd);

	mkdir("/dev/shm/pp-exec", 0755);
	symlink(self, "/dev/shm/pp-exec/link");
	int sd = open("/dev/shm/pp-exec", O_RDONLY | O_DIRECTORY);
	run_execveat("symlink followed", sd, "link", 0);
	run_execveat("symlink nofollow", sd, "link", AT_SYMLINK_NOFOLLOW);
	run_execveat("missing", sd, "nothing", 0);
	close(sd);
	unlink("/dev/shm/pp-exec/link");
	rmdir("/dev/shm/pp-exec");
	close(dir);
}

static void sec_fd(void)
{
	printf("== fd\n");
	char p[64], buf[64];
	int mfd = memfd_create("data", 0);
	write(mfd, "memfd-data", 10);
	snprintf(p, sizeof p, "/proc/self/fd/%d", mfd);
	int r = open(p, O_RDONLY);
	ssize_t n = r < 0 ? -1 : read(r, buf, sizeof buf);
	printf("reopen memfd: %s %.*s\n", r < 0 ? en(errno) : "ok", (int)(n > 0 ? n : 0), buf);
	close(r);
	close(mfd);

	int f = open("/dev/shm/pp-deleted", O_RDWR | O_CREAT | O_TRUNC, 0600);
	write(f, "deleted-data", 12);
	unlink("/dev/shm/pp-deleted");
	snprintf(p, sizeof p, "/dev/fd/%d", f);
	r = open(p, O_RDONLY);
	n = r < 0 ? -1 : read(r, buf, sizeof buf);
	printf("reopen deleted: %s %.*s\n", r < 0 ? en(errno) : "ok", (int)(n > 0 ? n : 0), buf);
	close(r);
	close(f);

	int pfd[2];
	pipe(pfd);
	write(pfd[1], "abc", 3);
	snprintf(p, sizeof p, "/proc/self/fd/%d", pfd[0]);
	r = open(p, O_RDONLY);
	n = r < 0 ? -1 : read(r, buf, sizeof buf);
	printf("reopen pipe read end: %s %.*s\n", r < 0 ? en(errno) : "ok", (int)(n > 0 ? n : 0), buf);
	struct stat a, b;
	fstat(pfd[0], &a);
	if (r >= 0) {
		fstat(r, &b);
		printf("  fifo %d same inode %d\n", S_ISFIFO(b.st_mode), a.st_ino == b.st_ino);
		n = readlink(p, buf, sizeof buf);
		printf("  link %.5s\n", buf);
		close(r);
	}
	snprintf(p, sizeof p, "/dev/fd/%d", pfd[0]);
	int w = open(p, O_WRONLY);
	printf("reopen read end for writing: %s\n", w < 0 ? en(errno) : "ok");
	if (w >= 0) {
		write(w, "xyz", 3);
		n = read(pfd[0], buf, sizeof buf);
		printf("  read back %.*s\n", (int)(n > 0 ? n : 0), buf);
		close(w);
	}
	int saved = dup(0);
	dup2(pfd[0], 0);
	write(pfd[1], "stdin", 5);
	r = open("/dev/stdin", O_RDONLY);
	n = r < 0 ? -1 : read(r, buf, sizeof buf);
	printf("reopen /dev/stdin pipe: %s %.*s\n", r < 0 ? en(errno) : "ok", (int)(n > 0 ? n : 0), buf);
	close(r);
	dup2(saved, 0);
	close(saved);
	close(pfd[0]);
	close(pfd[1]);

	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	snprintf(p, sizeof p, "/proc/self/fd/%d", sv[0]);
	CHECK("reopen socket", open(p, O_RDWR));
	CHECK("reopen socket O_PATH", r = open(p, O_PATH));
	close(r);
	close(sv[0]);
	close(sv[1]);

	/* Close fds while listing them a few at a time, also ones not listed
	 * yet: those must not show up, and none still open may be skipped. */
	for (int i = 20; i < 40; i++)
		dup2(1, i);
	int d = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
	char dbuf[80];
	printf("listed:");
	for (;;) {
		long k = syscall(SYS_getdents64, d, dbuf, sizeof dbuf);
		if (k <= 0)
			break;
		for (long off = 0; off < k;) {
			struct { unsigned long ino; long off; unsigned short reclen; unsigned char type; char name[]; } *e = (void *)(dbuf + off);
			int fd = atoi(e->name);
			if (fd >= 20 && fd < 40) {
				printf(" %d", fd);
				close(fd);
				close(fd + 3);
			}
			off += e->reclen;
		}
	}
	printf("\n");
	close(d);
	for (int i = 20; i < 45; i++)
		close(i);
}

static void sec_slash(void)
{
	printf("== slash\n");
	struct stat st;
	mkdir("/dev/shm/pp-s", 0755);
	chdir("/dev/shm/pp-s");
	close(open("file", O_CREAT | O_WRONLY, 0644));
	mkdir("dir", 0755);
	CHECK("open new/ O_CREAT", open("new/", O_CREAT | O_WRONLY, 0644));
	CHECK("  new exists", stat("new", &st));
	CHECK("open new/ O_CREAT|O_EXCL", open("new/", O_CREAT | O_EXCL | O_WRONLY, 0644));
	CHECK("open file/ O_CREAT", open("file/", O_CREAT | O_WRONLY, 0644));
	CHECK("open dir/ O_CREAT", open("dir/", O_CREAT | O_RDONLY, 0644));
	CHECK("open file/", open("file/", O_RDONLY));
	CHECK("open dir/", open("dir/", O_RDONLY));
	CHECK("mkdir d2/", mkdir("d2/", 0755));
	CHECK("mkdir d2//", mkdir("d3//", 0755));
	CHECK("mkdir file/", mkdir("file/", 0755));
	CHECK("stat file/", stat("file/", &st));
	CHECK("lstat file/", lstat("file/", &st));
	CHECK("stat dir/", stat("dir/", &st));
	CHECK("stat nothing/", stat("nothing/", &st));
	CHECK("access file/", access("file/", F_OK));
	CHECK("rename file x/", rename("file", "x/"));
	CHECK("rename file/ x", rename("file/", "x"));
	CHECK("rename dir d4/", rename("dir", "d4/"));
	CHECK("rename d4/ dir", rename("d4/", "dir"));
	CHECK("unlink dir/", unlink("dir/"));
	CHECK("unlink file/", unlink("file/"));
	CHECK("unlink nothing/", unlink("nothing/"));
	CHECK("rmdir file/", rmdir("file/"));
	CHECK("rmdir d2/", rmdir("d2/"));
	CHECK("link file l/", link("file", "l/"));
	CHECK("link file/ l", link("file/", "l"));
	CHECK("symlink file s/", symlink("file", "s/"));
	CHECK("mknod fifo/", mknod("fifo/", S_IFIFO | 0644, 0));
	symlink("dir", "sdir");
	symlink("file", "sfile");
	CHECK("stat sdir/", stat("sdir/", &st));
	CHECK("lstat sfile/", lstat("sfile/", &st));
	CHECK("unlink sdir/", unlink("sdir/"));
	CHECK("rmdir sdir/", rmdir("sdir/"));
	unlink("sdir");
	unlink("sfile");
	unlink("file");
	unlink("l");
	rmdir("dir");
	rmdir("d3");
	rmdir("d4");
	chdir("/");
	CHECK("cleaned up", rmdir("/dev/shm/pp-s"));
}

/* `b` with bytes outside printable ASCII as \xNN. */
static const char *hex(const char *b)
{
	static char out[1024];
	char *o = out;
	for (; *b && o < out + sizeof out - 5; b++) {
		unsigned char c = *b;
		if (c >= 0x20 && c < 0x7f && c != '\\')
			*o++ = c;
		else
			o += sprintf(o, "\\x%02x", c);
	}
	*o = 0;
	return out;
}

static void list_odd(const char *dir)
{
	int d = open(dir, O_RDONLY | O_DIRECTORY);
	char buf[4096];
	long n;
	while ((n = syscall(SYS_getdents64, d, buf, sizeof buf)) > 0) {
		for (long off = 0; off < n;) {
			struct { unsigned long ino; long off; unsigned short reclen; unsigned char type; char name[]; } *e = (void *)(buf + off);
			if (strstr(e->name, "\xff") || strstr(e->name, "\xe9"))
				printf("  listed %s\n", hex(e->name));
			off += e->reclen;
		}
	}
	close(d);
}

static void sec_names(const char *dir)
{
	printf("== names\n");
	char base[256], p[512], q[512], buf[512];
	struct stat st;
	snprintf(base, sizeof base, "%s/pp-names", dir);
	mkdir(base, 0755);
	snprintf(p, sizeof p, "%s/\xff\xfe-latin1-\xe9", base);
	int fd = open(p, O_CREAT | O_RDWR, 0644);
	printf("create: %s\n", fd < 0 ? en(errno) : "ok");
	write(fd, "12345", 5);
	list_odd(base);
	CHECK("stat", stat(p, &st));
	printf("  size %ld\n", (long)st.st_size);
	char link[64];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("fd link ends %s\n", hex(n > 0 ? strrchr(buf, '/') : ""));
	close(fd);
	snprintf(q, sizeof q, "%s/\xe9t\xe9", base);
	CHECK("rename", rename(p, q));
	CHECK("  old gone", stat(p, &st));
	CHECK("  new there", stat(q, &st));
	list_odd(base);
	snprintf(p, sizeof p, "%s/lnk\xff", base);
	CHECK("symlink", symlink("\xfe\xfdtarget", p));
	n = readlink(p, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("  readlink %s\n", hex(buf));
	CHECK("unlink symlink", unlink(p));
	snprintf(p, sizeof p, "%s/d\xff", base);
	CHECK("mkdir", mkdir(p, 0755));
	CHECK("chdir", chdir(p));
	char *cwd = getcwd(buf, sizeof buf);
	printf("  getcwd ends %s\n", hex(cwd ? strrchr(cwd, '/') : ""));
	chdir("/");
	CHECK("rmdir", rmdir(p));
	CHECK("unlink", unlink(q));

	struct sockaddr_un a = {.sun_family = AF_UNIX}, got;
	snprintf(a.sun_path, sizeof a.sun_path, "%s/s\xff\xe9", base);
	int srv = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK("bind", bind(srv, (struct sockaddr *)&a, sizeof a));
	listen(srv, 1);
	CHECK("  socket inode", stat(a.sun_path, &st) < 0 ? -1 : S_ISSOCK(st.st_mode) ? 0 : -1);
	socklen_t len = sizeof got;
	getsockname(srv, (struct sockaddr *)&got, &len);
	printf("  getsockname ends %s\n", hex(strrchr(got.sun_path, '/')));
	int cl = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK("connect", connect(cl, (struct sockaddr *)&a, sizeof a));
	close(cl);
	close(srv);
	CHECK("unlink socket", unlink(a.sun_path));
	CHECK("cleaned up", rmdir(base));
}

static void show_sys(const char *name, int value)
{
	char p[128], buf[256] = "";
	snprintf(p, sizeof p, "/proc/sys/%s", name);
	int fd = open(p, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0) {
		printf("%s: %s\n", name, en(errno));
		return;
	}
	buf[n] = 0;
	int nl = n > 0 && buf[n - 1] == '\n' && !strchr(buf, '\n')[1];
	if (value) {
		printf("%s: %s", name, buf);
	} else {
		char *end;
		strtol(buf, &end, 10);
		printf("%s: %s%s\n", name, nl ? "one line" : "no newline",
		       *end == '\n' ? ", a number" : "");
	}
}

static void sec_procsys(void)
{
	printf("== procsys\n");
	show_sys("kernel/tainted", 1);
	show_sys("fs/pipe-max-size", 1);
	show_sys("fs/nr_open", 1);
	show_sys("kernel/pid_max", 1);
	show_sys("kernel/ostype", 1);
	show_sys("fs/file-max", 0);
	show_sys("kernel/randomize_va_space", 0);
	show_sys("kernel/osrelease", 0);
	show_sys("kernel/version", 0);
	show_sys("kernel/core_pattern", 0);
	char buf[128] = "";
	int fd = open("/proc/sys/fs/file-nr", O_RDONLY);
	read(fd, buf, sizeof buf - 1);
	close(fd);
	long a = -1, b = -1, c = -1;
	int k = sscanf(buf, "%ld\t%ld\t%ld\n", &a, &b, &c);
	printf("fs/file-nr: %d fields, free %ld, open > 0 %d\n", k, b, a > 0);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && strcmp(argv[1], "child") == 0)
		return child(argc, argv);
	if (argc > 2 && strcmp(argv[1], "names") == 0) {
		sec_names(argv[2]);
		printf("pathsproc done\n");
		return 0;
	}
	/* Fds inherited from whoever started us differ between host and
	 * guest; the fd listing below must not see them. */
	syscall(SYS_close_range, 3, ~0U, 0);
	sec_exec();
	sec_fd();
	sec_slash();
	sec_procsys();
	sec_names("/dev/shm");
	sec_names("/tmp");
	printf("pathsproc done\n");
	return 0;
}
