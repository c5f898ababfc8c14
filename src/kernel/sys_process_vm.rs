//! process_vm_readv / process_vm_writev: copying between the caller's
//! memory and another process's, under the ptrace attach check (Linux's
//! mm/process_vm_access.c).

use super::errno::{Errno, KResult};
use super::task::{self, Task};
use crate::abi::uaccess::read_iovecs;
use crate::mm::Mm;
use std::sync::Arc;

/// A cursor over an iovec list in one address space.
struct Cursor {
    segs: Vec<(u64, usize)>,
    idx: usize,
    off: usize,
}

impl Cursor {
    /// The next contiguous piece of at most `max` bytes.
    fn next(&mut self, max: usize) -> Option<(u64, usize)> {
        while self.idx < self.segs.len() {
            let (base, len) = self.segs[self.idx];
            if self.off < len {
                let n = (len - self.off).min(max);
                return Some((base + self.off as u64, n));
            }
            self.idx += 1;
            self.off = 0;
        }
        None
    }
    fn advance(&mut self, n: usize) {
        self.off += n;
    }
}

fn total(segs: &[(u64, usize)]) -> KResult<usize> {
    segs.iter()
        .try_fold(0usize, |a, &(_, l)| a.checked_add(l))
        .filter(|&s| s <= isize::MAX as usize)
        .ok_or(Errno::EINVAL)
}

/// process_vm_readv (`write` false) and process_vm_writev (true).
pub fn sys_process_vm(
    t: &Arc<Task>,
    pid: i32,
    local: (u64, u64),
    remote: (u64, u64),
    flags: u64,
    write: bool,
) -> KResult<u64> {
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let mm = t.mm();
    let cnt = |c: u64| i32::try_from(c).unwrap_or(i32::MAX);
    let lsegs = read_iovecs(&mm, local.0, cnt(local.1))?;
    let rsegs = read_iovecs(&mm, remote.0, cnt(remote.1))?;
    total(&lsegs)?;
    total(&rsegs)?;
    let target = super::ns::pid::find(t, pid)
        .and_then(task::task)
        .ok_or(Errno::ESRCH)?;
    super::ptrace_access::check_attach(t.tgid(), target.tgid())?;
    let rmm = target.mm();
    let (src_mm, dst_mm, src, dst): (&Mm, &Mm, Vec<_>, Vec<_>) = if write {
        (&mm, &rmm, lsegs, rsegs)
    } else {
        (&rmm, &mm, rsegs, lsegs)
    };
    let mut s = Cursor {
        segs: src,
        idx: 0,
        off: 0,
    };
    let mut d = Cursor {
        segs: dst,
        idx: 0,
        off: 0,
    };
    let mut done = 0u64;
    let mut buf = vec![0u8; 4096];
    let mut failed = false;
    while let Some((sa, sn)) = s.next(buf.len()) {
        let Some((da, dn)) = d.next(sn) else { break };
        let n = sn.min(dn);
        if src_mm.read(sa, &mut buf[..n]).is_err() || dst_mm.write(da, &buf[..n]).is_err() {
            failed = true;
            break;
        }
        s.advance(n);
        d.advance(n);
        done += n as u64;
    }
    if failed && done == 0 {
        return Err(Errno::EFAULT);
    }
    Ok(done)
}
