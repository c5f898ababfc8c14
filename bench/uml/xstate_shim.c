/*
 * LD_PRELOAD shim for Debian's linux.uml 6.1 on hosts whose XSAVE area is
 * larger than UML's FP register buffer (AVX-512, AMX).
 *
 * UML 6.1 saves and restores a guest's FPU state with
 * PTRACE_GETREGSET/PTRACE_SETREGSET(NT_X86_XSTATE) on a fixed buffer
 * (2696 bytes in Debian's build: up to AVX-512 and PKRU, without AMX).
 * GETREGSET silently truncates, but the host kernel's SETREGSET accepts only
 * a whole XSAVE image (xstateregs_set: count != fpu_user_cfg.max_size ->
 * -EFAULT), so UML panics starting init with
 *   "userspace - ptrace set fp regs failed, errno = 14".
 * No UML command-line word or environment variable changes that buffer.
 *
 * This shim wraps libc's ptrace(): a too-short NT_X86_XSTATE SETREGSET is
 * turned into "read the full image of that host process, overlay the part
 * UML knows (x87/SSE/AVX + their header bits), write the full image back".
 * Components that do not fit UML's buffer (AMX tile config and data) keep
 * the value the host process already holds; guests never use AMX (it needs
 * arch_prctl(ARCH_REQ_XCOMP_PERM), which UML does not pass on), so they are
 * always in their initial state. A benchmark aid, not a fix for UML. Build: gcc -O2 -shared -fPIC -o xstate_shim.so
 * xstate_shim.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <cpuid.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

#define XSAVE_HDR_OFF 512
#define BIG (64 * 1024)

typedef long (*ptrace_fn)(int, pid_t, void *, void *);

static ptrace_fn real_ptrace(void)
{
    static ptrace_fn fn;
    if (!fn)
        fn = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
    return fn;
}

/* XSAVE components that lie wholly within the first len bytes of a
 * standard-format image (CPUID leaf 0xD gives each one's offset and size). */
static uint64_t covered_mask(size_t len)
{
    uint64_t m = 3; /* x87, SSE: the legacy area */
    for (unsigned i = 2; i < 63; i++) {
        unsigned eax, ebx, ecx, edx;
        __cpuid_count(0xd, i, eax, ebx, ecx, edx);
        if (eax != 0 && (size_t)ebx + eax <= len)
            m |= 1ULL << i;
    }
    return m;
}

static _Alignas(64) unsigned char full[BIG];

long ptrace(enum __ptrace_request req, ...)
{
    va_list ap;
    va_start(ap, req);
    pid_t pid = va_arg(ap, pid_t);
    void *addr = va_arg(ap, void *);
    void *data = va_arg(ap, void *);
    va_end(ap);

    if (req == PTRACE_SETREGSET && (uintptr_t)addr == NT_X86_XSTATE && data) {
        struct iovec *uiov = data;
        struct iovec fiov = {full, sizeof full};
        if (real_ptrace()(PTRACE_GETREGSET, pid, addr, &fiov) == 0 &&
            uiov->iov_len < fiov.iov_len && uiov->iov_len >= 576) {
            size_t n = uiov->iov_len;
            uint64_t cov = covered_mask(n);
            uint64_t cur_bv, uml_bv;
            memcpy(&cur_bv, full + XSAVE_HDR_OFF, 8);
            memcpy(&uml_bv, (unsigned char *)uiov->iov_base + XSAVE_HDR_OFF, 8);
            /* Everything UML has; the rest (AMX tiles) stays as it is. */
            memcpy(full, uiov->iov_base, n);
            uint64_t bv = (uml_bv & cov) | (cur_bv & ~cov);
            memcpy(full + XSAVE_HDR_OFF, &bv, 8);
            return real_ptrace()(PTRACE_SETREGSET, pid, addr, &fiov);
        }
    }
    return real_ptrace()(req, pid, addr, data);
}
