/* Capabilities: capget/capset versions and rules, dropping
 * CAP_DAC_OVERRIDE, keep-caps across setuid, the ambient set surviving
 * exec as non-root, file capabilities (security.capability) granting
 * CAP_NET_BIND_SERVICE, the bounding set blocking that gain, CAP_SETFCAP
 * and /proc/self/status. Runs as root; children that change their
 * credentials report through exit codes, the program run by exec
 * ("report") through its exit code too. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/fsuid.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#define BIT(c) (1ULL << (c))

static int capget3(int pid, uint64_t *eff, uint64_t *prm, uint64_t *inh) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, pid};
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    if (syscall(SYS_capget, &h, d) != 0)
        return -errno;
    *eff = d[0].effective | (uint64_t)d[1].effective << 32;
    *prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
    *inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
    return 0;
}

static int capset3(int pid, uint64_t eff, uint64_t prm, uint64_t inh) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, pid};
    struct __user_cap_data_struct d[2] = {
        {(uint32_t)eff, (uint32_t)prm, (uint32_t)inh},
        {(uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32)},
    };
    return syscall(SYS_capset, &h, d) == 0 ? 0 : -errno;
}

static const char *err(int e) {
    switch (e < 0 ? -e : e) {
    case 0: return "ok";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    case ESRCH: return "ESRCH";
    default: return "other";
    }
}

/* Run f in a child; its exit code. */
static int child(int (*f)(void *), void *arg) {
    fflush(stdout);
    pid_t p = fork();
    if (p == 0)
        _exit(f(arg) & 0xff);
    int st;
    waitpid(p, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

/* The exec'd program: bit 0 CAP_NET_BIND_SERVICE effective, bit 1
 * ambient, bit 2 bind to port 80 works, bit 3 bind gives EACCES, bit 4
 * uid not 0. */
static int report(void) {
    uint64_t e, p, i;
    capget3(0, &e, &p, &i);
    int r = 0;
    if (e & BIT(CAP_NET_BIND_SERVICE)) r |= 1;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE, 0, 0) == 1) r |= 2;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(80)};
    if (bind(s, (struct sockaddr *)&a, sizeof a) == 0)
        r |= 4;
    else if (errno == EACCES)
        r |= 8;
    if (getuid() != 0) r |= 16;
    return r;
}

static void show_report(const char *what, int r) {
    if (r >= 128) {
        printf("%s: exec %s\n", what, err(r - 128));
        return;
    }
    printf("%s: eff=%d amb=%d bind=%s nonroot=%d\n", what, r & 1, !!(r & 2),
           r & 4 ? "ok" : r & 8 ? "EACCES" : "other", !!(r & 16));
}

static const char *self;
static char dir[64], fcapbin[96], plainbin[96], secret[96];

/* Exec `bin` in report mode (128 + errno when exec fails). */
static int exec_report(const char *bin) {
    char *argv[] = {(char *)bin, "report", NULL};
    execv(bin, argv);
    return 128 + errno;
}

static int drop_dac(void *arg) {
    (void)arg;
    uint64_t e, p, i;
    capget3(0, &e, &p, &i);
    int r = 0;
    if (capset3(0, e & ~(BIT(CAP_DAC_OVERRIDE) | BIT(CAP_DAC_READ_SEARCH)), p, i) != 0)
        return 99;
    int fd = open(secret, O_RDONLY);
    if (fd < 0 && errno == EACCES) r |= 1;
    if (fd >= 0) close(fd);
    /* Still permitted: raising it again works. */
    if (capset3(0, e, p, i) != 0) return 98;
    fd = open(secret, O_RDONLY);
    if (fd >= 0) r |= 2;
    return r;
}

static int rules(void *arg) {
    (void)arg;
    uint64_t e, p, i;
    capget3(0, &e, &p, &i);
    int codes[5];
    /* Drop CAP_SETUID from permitted: it cannot come back. */
    capset3(0, e & ~BIT(CAP_SETUID), p & ~BIT(CAP_SETUID), i);
    codes[0] = capset3(0, e & ~BIT(CAP_SETUID), p, i);
    /* Effective beyond permitted. */
    codes[1] = capset3(0, e, p & ~BIT(CAP_SETUID), i);
    /* Without CAP_SETPCAP, inheritable only within permitted. */
    uint64_t p2 = p & ~(BIT(CAP_SETUID) | BIT(CAP_SETPCAP) | BIT(CAP_KILL));
    capset3(0, p2, p2, i);
    codes[2] = capset3(0, p2, p2, i | BIT(CAP_KILL));
    codes[3] = capset3(0, p2, p2, i | BIT(CAP_CHOWN));
    return (codes[0] == -EPERM) | (codes[1] == -EPERM) << 1 | (codes[2] == -EPERM) << 2 |
           (codes[3] == 0) << 3;
}

static int bset_inh(void *arg) {
    (void)arg;
    uint64_t e, p, i;
    if (prctl(PR_CAPBSET_DROP, CAP_KILL, 0, 0, 0) != 0) return 99;
    capget3(0, &e, &p, &i);
    /* Even with CAP_SETPCAP, not beyond the bounding set. */
    int a = capset3(0, e, p, i | BIT(CAP_KILL));
    int b = prctl(PR_CAPBSET_READ, CAP_KILL, 0, 0, 0);
    /* Without CAP_SETPCAP no dropping. */
    capset3(0, e & ~BIT(CAP_SETPCAP), p, i);
    int c = prctl(PR_CAPBSET_DROP, CAP_CHOWN, 0, 0, 0) == -1 ? errno : 0;
    return (a == -EPERM) | (b == 0) << 1 | (c == EPERM) << 2;
}

static int keepcaps(void *arg) {
    int keep = *(int *)arg;
    if (prctl(PR_SET_KEEPCAPS, keep, 0, 0, 0) != 0) return 99;
    int got = prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0);
    if (setresuid(1000, 1000, 1000) != 0) return 98;
    uint64_t e, p, i;
    capget3(0, &e, &p, &i);
    int r = (got == keep) | (e == 0) << 1 | !!(p & BIT(CAP_SETUID)) << 2;
    /* With kept permitted caps, effective can be raised again. */
    if (keep && capset3(0, BIT(CAP_SETUID), p, i) == 0 && setuid(0) == 0)
        r |= 8;
    return r;
}

static int euid_flip(void *arg) {
    (void)arg;
    uint64_t e, p, i;
    /* Leaving euid 0 empties the effective set, coming back refills it. */
    if (setresuid(-1, 1000, -1) != 0) return 99;
    capget3(0, &e, &p, &i);
    int r = (e == 0) | !!(p & BIT(CAP_SETUID)) << 1;
    setresuid(-1, 0, -1);
    capget3(0, &e, &p, &i);
    r |= !!(e & BIT(CAP_SETUID)) << 2;
    /* fsuid away from 0 drops the filesystem capabilities only. */
    setfsuid(1000);
    capget3(0, &e, &p, &i);
    r |= (!(e & BIT(CAP_DAC_OVERRIDE)) && (e & BIT(CAP_KILL))) << 3;
    return r;
}

static int ambient(void *arg) {
    int raise_inh = *(int *)arg;
    if (unshare(CLONE_NEWNET) != 0) return 97;
    uint64_t e, p, i;
    prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
    if (setresuid(1000, 1000, 1000) != 0) return 99;
    capget3(0, &e, &p, &i);
    if (raise_inh)
        i |= BIT(CAP_NET_BIND_SERVICE);
    if (capset3(0, e, p, i) != 0) return 98;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0) != 0)
        return 64 + (errno == EPERM);
    return exec_report(plainbin);
}

static int fcap_exec(void *arg) {
    const char *bin = arg;
    if (unshare(CLONE_NEWNET) != 0) return 97;
    if (setresuid(1000, 1000, 1000) != 0) return 99;
    return exec_report(bin);
}

static int bset_fcap(void *arg) {
    (void)arg;
    if (unshare(CLONE_NEWNET) != 0) return 97;
    if (prctl(PR_CAPBSET_DROP, CAP_NET_BIND_SERVICE, 0, 0, 0) != 0) return 96;
    if (setresuid(1000, 1000, 1000) != 0) return 99;
    return exec_report(fcapbin);
}

static int setfcap(void *arg) {
    (void)arg;
    uint64_t e, p, i;
    capget3(0, &e, &p, &i);
    capset3(0, e & ~BIT(CAP_SETFCAP), p, i);
    struct vfs_cap_data v = {VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE,
                             {{BIT(CAP_NET_BIND_SERVICE), 0}, {0, 0}}};
    int r = setxattr(plainbin, "security.capability", &v, XATTR_CAPS_SZ_2, 0);
    return r == 0 ? 0 : errno == EPERM ? 1 : 2;
}

static int status_lines(void *arg) {
    (void)arg;
    capset3(0, BIT(CAP_KILL), BIT(CAP_KILL) | BIT(CAP_SETUID), BIT(CAP_KILL));
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0);
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "CapInh", 6) || !strncmp(line, "CapPrm", 6) ||
            !strncmp(line, "CapEff", 6) || !strncmp(line, "CapAmb", 6))
            fputs(line, stdout);
    fclose(f);
    fflush(stdout);
    return 0;
}

static int copy(const char *from, const char *to) {
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (in < 0 || out < 0) return -1;
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, n) != n) return -1;
    close(in);
    close(out);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "report"))
        return report();
    setvbuf(stdout, NULL, _IOLBF, 0);
    self = argv[0];

    /* The version handshake. */
    struct __user_cap_header_struct h = {0, 0};
    long r = syscall(SYS_capget, &h, NULL);
    printf("probe: %ld version %x\n", r, h.version);
    struct __user_cap_data_struct d[2];
    h.version = 0x12345678;
    r = syscall(SYS_capget, &h, d);
    printf("bad version: %s version %x\n", err(r ? errno : 0), h.version);
    h.version = _LINUX_CAPABILITY_VERSION_1;
    memset(d, 0, sizeof d);
    r = syscall(SYS_capget, &h, d);
    printf("v1: %ld dac_override %d second half untouched %d\n", r,
           !!(d[0].effective & BIT(CAP_DAC_OVERRIDE)), d[1].effective == 0);
    uint64_t e = 0, p = 0, i = 0;
    int got = capget3(0, &e, &p, &i);
    printf("v3: %s setuid eff %d prm %d inh %llx\n", err(got),
           !!(e & BIT(CAP_SETUID)), !!(p & BIT(CAP_SETUID)), (unsigned long long)i);
    printf("negative pid: %s\n", err(capget3(-5, &e, &p, &i)));

    /* Another process: capget works, capset does not. */
    fflush(stdout);
    pid_t kid = fork();
    if (kid == 0) {
        pause();
        _exit(0);
    }
    printf("capget other: %s\n", err(capget3(kid, &e, &p, &i)));
    printf("capset other: %s\n", err(capset3(kid, e, p, i)));
    printf("capset self by pid: %s\n", err(capset3(getpid(), e, p, i)));
    kill(kid, SIGKILL);
    waitpid(kid, NULL, 0);

    strcpy(dir, "/tmp/capsXXXXXX");
    if (!mkdtemp(dir)) return 1;
    chmod(dir, 0755);
    snprintf(secret, sizeof secret, "%s/secret", dir);
    snprintf(fcapbin, sizeof fcapbin, "%s/fcap", dir);
    snprintf(plainbin, sizeof plainbin, "%s/plain", dir);
    int fd = open(secret, O_WRONLY | O_CREAT, 0600);
    close(fd);
    chown(secret, 1234, 1234);
    if (copy(self, fcapbin) || copy(self, plainbin)) {
        printf("copy failed\n");
        return 1;
    }

    int c = child(drop_dac, NULL);
    printf("drop DAC_OVERRIDE: open %s, raised again %s\n", c & 1 ? "EACCES" : "allowed",
           c & 2 ? "opens" : "fails");
    c = child(rules, NULL);
    printf("capset rules: permitted grows %s, effective beyond permitted %s, "
           "inheritable beyond permitted %s, within %s\n",
           c & 1 ? "EPERM" : "?", c & 2 ? "EPERM" : "?", c & 4 ? "EPERM" : "?",
           c & 8 ? "ok" : "?");
    c = child(bset_inh, NULL);
    printf("bounding set: inheritable beyond it %s, read %s, drop without SETPCAP %s\n",
           c & 1 ? "EPERM" : "?", c & 2 ? "0" : "?", c & 4 ? "EPERM" : "?");
    int keep = 0;
    c = child(keepcaps, &keep);
    printf("setuid without keepcaps: eff empty %d, setuid permitted %d\n", !!(c & 2), !!(c & 4));
    keep = 1;
    c = child(keepcaps, &keep);
    printf("setuid with keepcaps: get %d, eff empty %d, setuid permitted %d, back to root %d\n",
           c & 1, !!(c & 2), !!(c & 4), !!(c & 8));
    c = child(euid_flip, NULL);
    printf("euid flip: eff empty %d, prm kept %d, eff back %d, fsuid drops fs caps %d\n", c & 1,
           !!(c & 2), !!(c & 4), !!(c & 8));

    int inh = 0;
    c = child(ambient, &inh);
    printf("ambient raise without inheritable: %s\n", c == 65 ? "EPERM" : "?");
    inh = 1;
    show_report("ambient exec as uid 1000", child(ambient, &inh));

    show_report("plain exec as uid 1000", child(fcap_exec, plainbin));
    struct vfs_cap_data v = {VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE,
                             {{BIT(CAP_NET_BIND_SERVICE), 0}, {0, 0}}};
    printf("setxattr security.capability: %s\n",
           err(setxattr(fcapbin, "security.capability", &v, XATTR_CAPS_SZ_2, 0) ? errno : 0));
    printf("bad size: %s\n",
           err(setxattr(plainbin, "security.capability", &v, 7, 0) ? errno : 0));
    show_report("file caps exec as uid 1000", child(fcap_exec, fcapbin));
    show_report("file caps exec, bounding set dropped", child(bset_fcap, NULL));
    printf("setxattr without CAP_SETFCAP: %s\n", child(setfcap, NULL) == 1 ? "EPERM" : "?");
    child(status_lines, NULL);

    unlink(secret);
    unlink(fcapbin);
    unlink(plainbin);
    rmdir(dir);
    printf("caps done\n");
    return 0;
}
