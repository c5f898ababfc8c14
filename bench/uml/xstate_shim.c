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
 * padded to the host's full XSAVE size, with the components that did not fit
 * UML's buffer (AMX tile config and data) marked as in their initial state
 * in the XSAVE header. Guests never use AMX (it needs
 * arch_prctl(ARCH_REQ_XCOMP_PERM), which UML 6.1 does not offer), so that is
 * exact, and it costs no extra host system call. GETREGSET needs no help: the
 * host truncates it to UML's buffer. A benchmark aid, not a fix for UML. Build: gcc -O2 -shared -fPIC -o xstate_shim.so
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
 * standard-format image (CPUID leaf 0xD gives each one's offset and size).
 * Cached: CPUID is a VM exit under a hypervisor, far too slow per call. */
static uint64_t covered_mask(size_t len)
{
    static size_t cached_len;
    static uint64_t cached;
    if (len == cached_len)
        return cached;
    uint64_t m = 3; /* x87, SSE: the legacy area */
    for (unsigned i = 2; i < 63; i++) {
        unsigned eax, ebx, ecx, edx;
        __cpuid_count(0xd, i, eax, ebx, ecx, edx);
        if (eax != 0 && (size_t)ebx + eax <= len)
            m |= 1ULL << i;
    }
    cached_len = len;
    cached = m;
    return m;
}

static _Alignas(64) unsigned char full[BIG];
static size_t full_len; /* the host's XSAVE image size, learned once */

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
        if (!full_len) {
            struct iovec fiov = {full, sizeof full};
            if (real_ptrace()(PTRACE_GETREGSET, pid, addr, &fiov) == 0)
                full_len = fiov.iov_len;
        }
        size_t n = uiov->iov_len;
        if (full_len && n < full_len && n >= XSAVE_HDR_OFF + 64) {
            /* UML's components as they are; the ones past its buffer (AMX)
             * in their initial state, which is where they always are: the
             * guest cannot enable AMX (ARCH_REQ_XCOMP_PERM) through UML. */
            uint64_t bv;
            memcpy(full, uiov->iov_base, n);
            memset(full + n, 0, full_len - n);
            memcpy(&bv, full + XSAVE_HDR_OFF, 8);
            bv &= covered_mask(n);
            memcpy(full + XSAVE_HDR_OFF, &bv, 8);
            struct iovec fiov = {full, full_len};
            return real_ptrace()(PTRACE_SETREGSET, pid, addr, &fiov);
        }
    }
    return real_ptrace()(req, pid, addr, data);
}
