//! The guest ABI: this module owns the x86_64 Linux user/kernel interface as
//! the guest sees it — every struct a syscall copies in or out, laid out once
//! as `#[repr(C)]` plain-old-data with a compile-time size check, and the
//! numeric constants (ioctl requests, flag bits) that several subsystems
//! share. Syscall code fills these structs and hands them to the typed
//! user-memory accessors in `uaccess`; it never packs bytes by offset.
//!
//! Host `libc::` constants do not belong here: the guest ABI is fixed by
//! x86_64 Linux whatever the host is.

// The ABI is defined whole, as Linux has it, not only the fields and
// requests this kernel answers today: unused parts are expected.
#![allow(dead_code, unused_imports)]

pub mod aio;
pub mod elf;
pub mod fanotify;
pub mod fcntl;
pub mod ioctl;
pub mod ipc;
pub mod net;
pub mod netlink;
pub mod poll;
pub mod ptrace;
pub mod resource;
pub mod rseq;
pub mod sched;
pub mod seccomp;
pub mod signal;
pub mod stat;
pub mod time;
pub mod tty;
pub mod uaccess;
pub mod uio;
pub mod vdso;
pub mod xsave;

pub use uaccess::{read_val, write_val, UserPtr, UserSlice};

/// Assert at compile time that a guest struct has its Linux size.
macro_rules! abi_size {
    ($t:ty, $n:expr) => {
        const _: () = assert!(core::mem::size_of::<$t>() == $n);
    };
}
pub(crate) use abi_size;

/// The bytes of a guest struct, for building records in a buffer (dirents,
/// control messages, netlink replies).
pub fn bytes<T: bytemuck::Pod>(v: &T) -> &[u8] {
    bytemuck::bytes_of(v)
}

/// Decode a guest struct from the front of `b` (any alignment); `None` if
/// `b` is too short.
pub fn from_prefix<T: bytemuck::Pod>(b: &[u8]) -> Option<T> {
    b.get(..core::mem::size_of::<T>())
        .map(bytemuck::pod_read_unaligned)
}

/// Decode a guest struct at byte offset `off` of `b`, zero-filling what
/// lies past the end (for fields the caller supplied a short buffer for).
pub fn read_at<T: bytemuck::Pod>(b: &[u8], off: usize) -> T {
    let mut v = T::zeroed();
    let dst = bytemuck::bytes_of_mut(&mut v);
    let src = b.get(off..).unwrap_or(&[]);
    let n = dst.len().min(src.len());
    dst[..n].copy_from_slice(&src[..n]);
    v
}

/// Store a guest struct at byte offset `off` of `b` (which must hold it).
pub fn write_at<T: bytemuck::Pod>(b: &mut [u8], off: usize, v: &T) {
    let s = bytemuck::bytes_of(v);
    b[off..off + s.len()].copy_from_slice(s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_at_zero_fills_past_the_end() {
        assert_eq!(read_at::<u32>(&[1, 2], 0), 0x0201);
        assert_eq!(read_at::<u32>(&[1, 2, 3, 4, 5], 1), 0x0504_0302);
        assert_eq!(read_at::<u64>(&[], 3), 0);
        assert_eq!(from_prefix::<u32>(&[1, 2, 3]), None);
        let mut b = [0u8; 6];
        write_at(&mut b, 2, &0x0a0b_0c0du32);
        assert_eq!(b, [0, 0, 0x0d, 0x0c, 0x0b, 0x0a]);
    }

    #[test]
    fn packed_and_padded_layouts() {
        use core::mem::offset_of;
        assert_eq!(offset_of!(poll::EpollEvent, data), 4);
        assert_eq!(offset_of!(signal::RtSigframe, info), 8 + 304);
        assert_eq!(offset_of!(signal::Ucontext, uc_sigmask), 296);
        assert_eq!(offset_of!(signal::Sigcontext, fpstate), 184);
        assert_eq!(offset_of!(net::MsgHdr, msg_flags), 48);
        assert_eq!(offset_of!(net::Rtentry, rt_flags), 56);
        assert_eq!(offset_of!(time::Timex, tai), 160);
        assert_eq!(offset_of!(resource::Sysinfo, mem_unit), 104);
        assert_eq!(offset_of!(ipc::MsqidDs, msg_lspid), 96);
    }
}
