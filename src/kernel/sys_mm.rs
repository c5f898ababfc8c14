//! Memory syscalls: mmap, munmap, mprotect, brk, mremap, madvise, msync,
//! mincore.

use super::errno::{Errno, KResult};
use super::rlimits::VmLimits;
use super::task::Task;
use crate::fs::file::O_ACCMODE;
use crate::mm::{page_up, Backing, Vma, PROT_WRITE, TASK_SIZE};
use std::sync::Arc;

const MAP_SHARED: u32 = 1;
const MAP_PRIVATE: u32 = 2;
const MAP_SHARED_VALIDATE: u32 = 3;
const MAP_FIXED: u32 = 0x10;
const MAP_ANONYMOUS: u32 = 0x20;
const MAP_LOCKED: u32 = 0x2000;
const MAP_FIXED_NOREPLACE: u32 = 0x100000;

/// mmap
pub fn sys_mmap(
    t: &Arc<Task>,
    addr: u64,
    len: u64,
    prot: u32,
    flags: u32,
    fd: i32,
    off: u64,
) -> KResult<u64> {
    if len == 0 || off % 4096 != 0 || prot & !7 != 0 {
        return Err(Errno::EINVAL);
    }
    let typ = flags & 3;
    if typ != MAP_SHARED && typ != MAP_PRIVATE && typ != MAP_SHARED_VALIDATE {
        return Err(Errno::EINVAL);
    }
    let shared = typ != MAP_PRIVATE;
    let len = page_up(len);
    if len == 0 || len > TASK_SIZE {
        return Err(Errno::ENOMEM);
    }
    let mut backing = Backing::Anon;
    if flags & MAP_ANONYMOUS == 0 {
        let f = super::sys_fs::fd_file(t, fd)?;
        let inode = f.inode.clone().ok_or(Errno::ENODEV)?;
        let st = inode.stat();
        if st.mode & crate::fs::vfs::S_IFMT == crate::fs::vfs::S_IFCHR
            && crate::drivers::major(st.rdev) == 1
        {
            // /dev/zero and friends: anonymous memory.
        } else {
            if !st.is_reg() {
                return Err(Errno::ENODEV);
            }
            if prot & crate::mm::PROT_EXEC != 0 && f.path.as_ref().is_some_and(noexec) {
                return Err(Errno::EPERM);
            }
            if f.flags() & O_ACCMODE == crate::fs::file::O_WRONLY {
                return Err(Errno::EACCES);
            }
            if shared && prot & PROT_WRITE != 0 && !f.writable() {
                return Err(Errno::EACCES);
            }
            let path = f
                .path
                .as_ref()
                .map(|p| p.path_name(&t.fs().root))
                .unwrap_or_default();
            backing = Backing::File {
                inode,
                offset: off,
                path,
            };
        }
    }
    if shared && matches!(backing, Backing::Anon) {
        // Shared anonymous memory is a file of its own, so fork shares it.
        // Its size is the mapping's length, as Linux's shmem_zero_setup,
        // so every page is inside the file.
        let inode = crate::fs::tmpfs::anon_file();
        inode.setattr(&crate::fs::vfs::SetAttr {
            size: Some(len),
            ..Default::default()
        })?;
        backing = Backing::File {
            inode,
            offset: 0,
            path: "/dev/zero (deleted)".into(),
        };
    }
    if flags & MAP_LOCKED != 0 {
        super::sys_mlock::map_locked_ok(t)?;
    }
    let limits = VmLimits::of(t);
    let memlock = super::sys_mlock::memlock(t);
    let mm = t.mm();
    let mut m = mm.lock();
    let fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
    let start = if fixed {
        if addr % 4096 != 0 {
            return Err(Errno::EINVAL);
        }
        if addr.checked_add(len).is_none_or(|e| e > TASK_SIZE) {
            return Err(Errno::ENOMEM);
        }
        if flags & MAP_FIXED == 0 && m.vmas().any(|v| v.start < addr + len && v.end > addr) {
            return Err(Errno::EEXIST);
        }
        addr
    } else {
        m.unmapped_area(addr, len)?
    };
    // RLIMIT_AS and RLIMIT_DATA: what a fixed mapping replaces does not
    // count twice (Linux's mmap_region).
    let lock_new = flags & MAP_LOCKED != 0 || m.lock_future();
    if lock_new {
        super::sys_mlock::future_ok(memlock, m.locked_pages(), len)?;
    }
    let (total, data) = m.vm_pages(None);
    let (over, _) = m.vm_pages(Some((start, start + len)));
    let is_data = !shared && prot & PROT_WRITE != 0;
    if !limits.may_expand(total, data, is_data, len / 4096 - over) {
        return Err(Errno::ENOMEM);
    }
    if fixed {
        m.unmap(start, start + len);
    }
    m.insert_vma(Vma {
        start,
        end: start + len,
        prot,
        shared,
        backing,
        label: "",
    })?;
    if lock_new {
        m.mark_locked(start, start + len, true);
    }
    Ok(start)
}

fn check_range(addr: u64, len: u64) -> KResult<(u64, u64)> {
    if addr % 4096 != 0 || len > TASK_SIZE {
        return Err(Errno::EINVAL);
    }
    let end = addr.checked_add(page_up(len)).ok_or(Errno::EINVAL)?;
    if end > TASK_SIZE {
        return Err(Errno::EINVAL);
    }
    Ok((addr, end))
}

/// munmap
pub fn sys_munmap(t: &Arc<Task>, addr: u64, len: u64) -> KResult<u64> {
    if len == 0 {
        return Err(Errno::EINVAL);
    }
    let (s, e) = check_range(addr, len)?;
    t.mm().lock().unmap(s, e);
    Ok(0)
}

/// mprotect
pub fn sys_mprotect(t: &Arc<Task>, addr: u64, len: u64, prot: u32) -> KResult<u64> {
    // PROT_GROWSDOWN/UP are accepted and ignored.
    let prot = prot & !0x0300_0000;
    if prot & !7 != 0 {
        return Err(Errno::EINVAL);
    }
    let (s, e) = check_range(addr, len)?;
    if s == e {
        return Ok(0);
    }
    let limits = VmLimits::of(t);
    let mm = t.mm();
    let mut m = mm.lock();
    // Private pages turning writable become data: RLIMIT_DATA (Linux's
    // mprotect_fixup).
    if prot & PROT_WRITE != 0 {
        let turning: u64 = m
            .vmas()
            .filter(|v| v.start < e && v.end > s && !v.shared && v.prot & PROT_WRITE == 0)
            .filter(|v| v.label != "[stack]")
            .map(|v| (v.end.min(e) - v.start.max(s)) / 4096)
            .sum();
        let (_, data) = m.vm_pages(None);
        if turning > 0 && !limits.data_may_grow(data, turning) {
            return Err(Errno::ENOMEM);
        }
    }
    m.protect(s, e, prot)?;
    Ok(0)
}

/// brk
pub fn sys_brk(t: &Arc<Task>, addr: u64) -> KResult<u64> {
    let limits = VmLimits::of(t);
    let memlock = super::sys_mlock::memlock(t);
    let mm = t.mm();
    let mut m = mm.lock();
    if addr == 0 || addr < m.brk_start {
        return Ok(m.brk);
    }
    // RLIMIT_DATA bounds the heap and data segment together, and growing
    // the heap is a mapping that RLIMIT_AS and RLIMIT_DATA bound (Linux's
    // check_data_rlimit and do_brk_flags); a refused brk returns the old
    // break.
    let data_seg = m.layout.end_data.saturating_sub(m.layout.start_data);
    if !limits.brk_ok(addr - m.brk_start, data_seg) {
        return Ok(m.brk);
    }
    let (old_end, new_end) = (page_up(m.brk), page_up(addr));
    let lock_new = new_end > old_end && m.lock_future();
    if new_end > old_end {
        let (total, data) = m.vm_pages(None);
        if !limits.may_expand(total, data, true, (new_end - old_end) / 4096) {
            return Ok(m.brk);
        }
        if lock_new
            && super::sys_mlock::future_ok(memlock, m.locked_pages(), new_end - old_end).is_err()
        {
            return Ok(m.brk);
        }
    }
    let r = m.set_brk(addr);
    if lock_new && r == addr {
        m.mark_locked(old_end, new_end, true);
    }
    Ok(r)
}

/// mremap
pub fn sys_mremap(
    t: &Arc<Task>,
    old: u64,
    old_len: u64,
    new_len: u64,
    flags: u32,
    new_addr: u64,
) -> KResult<u64> {
    const MAYMOVE: u32 = 1;
    const FIXED: u32 = 2;
    if old % 4096 != 0
        || new_len == 0
        || flags & !7 != 0
        || old_len > TASK_SIZE
        || new_len > TASK_SIZE
    {
        return Err(Errno::EINVAL);
    }
    if flags & FIXED != 0 && (flags & MAYMOVE == 0 || new_addr % 4096 != 0) {
        return Err(Errno::EINVAL);
    }
    // The target must end below TASK_SIZE, as in Linux: the stub's pages
    // start there, and moving a mapping over them would hand the guest the
    // code the kernel runs in its host process (found by sysfuzz).
    if flags & FIXED != 0
        && new_addr
            .checked_add(page_up(new_len))
            .is_none_or(|e| e > TASK_SIZE)
    {
        return Err(Errno::EINVAL);
    }
    // old_len 0 duplicates a shared mapping in Linux (EINVAL for private
    // ones); not supported, and it used to send the host a zero-length
    // munmap that killed the process.
    if old_len == 0 {
        return Err(Errno::EINVAL);
    }
    let fixed = (flags & FIXED != 0).then_some(new_addr);
    let limits = VmLimits::of(t);
    let mm = t.mm();
    let mut m = mm.lock();
    // Growing counts against RLIMIT_AS and RLIMIT_DATA (Linux's
    // vma_to_resize).
    if page_up(new_len) > page_up(old_len) {
        if let Some(v) = m.find_vma(old) {
            let is_data = !v.shared && v.prot & PROT_WRITE != 0 && v.label != "[stack]";
            let (total, data) = m.vm_pages(None);
            let grow = (page_up(new_len) - page_up(old_len)) / 4096;
            if !limits.may_expand(total, data, is_data, grow) {
                return Err(Errno::ENOMEM);
            }
        }
    }
    m.remap(
        old,
        page_up(old_len),
        page_up(new_len),
        flags & MAYMOVE != 0,
        fixed,
    )
}

/// madvise
pub fn sys_madvise(t: &Arc<Task>, addr: u64, len: u64, advice: i32) -> KResult<u64> {
    const MADV_DONTNEED: i32 = 4;
    const MADV_FREE: i32 = 8;
    let (s, e) = check_range(addr, len)?;
    if advice == MADV_DONTNEED || advice == MADV_FREE {
        let mm = t.mm();
        let mut m = mm.lock();
        // Only private mappings lose their pages; shared ones keep the file.
        let ranges: Vec<(u64, u64)> = m
            .vmas()
            .filter(|v| v.start < e && v.end > s && !v.shared)
            .map(|v| (v.start.max(s), v.end.min(e)))
            .collect();
        for (a, b) in ranges {
            m.discard(a, b);
        }
    }
    Ok(0)
}

/// msync: shared mappings are the page cache itself; nothing to do.
pub fn sys_msync(t: &Arc<Task>, addr: u64, len: u64, flags: u32) -> KResult<u64> {
    const MS_SYNC: u32 = 4;
    let (s, e) = check_range(addr, len)?;
    let mm = t.mm();
    let m = mm.lock();
    let mut a = s;
    // MS_SYNC: the files behind shared mappings get an fsync, as Linux's
    // vfs_fsync_range (hostfs writes mapped pages back to the host then).
    let mut files: Vec<Arc<dyn crate::fs::vfs::Inode>> = Vec::new();
    while a < e {
        match m.find_vma(a) {
            Some(v) => {
                if let crate::mm::Backing::File { inode, .. } = &v.backing {
                    if v.shared && flags & MS_SYNC != 0 {
                        files.push(inode.clone());
                    }
                }
                a = v.end
            }
            None => return Err(Errno::ENOMEM),
        }
    }
    drop(m);
    for i in files {
        i.fsync(t)?;
    }
    Ok(0)
}

/// mincore: report every page resident.
pub fn sys_mincore(t: &Arc<Task>, addr: u64, len: u64, vec: u64) -> KResult<u64> {
    let (s, e) = check_range(addr, len)?;
    // Every page of the range must be mapped; answer in chunks.
    let mm = t.mm();
    let mut a = s;
    while a < e {
        let end = mm
            .lock()
            .find_vma(a)
            .map(|v| v.end.min(e))
            .ok_or(Errno::ENOMEM)?;
        let n = ((end - a) / 4096) as usize;
        let off = (a - s) / 4096;
        for c in (0..n).step_by(65536) {
            let k = (n - c).min(65536);
            mm.write(vec + off + c as u64, &vec![1u8; k])?;
        }
        a = end;
    }
    Ok(0)
}

/// Is `p` on a mount that forbids running programs (noexec)?
fn noexec(p: &crate::fs::vfs::Path) -> bool {
    crate::fs::mount::flags_of(p).contains(crate::fs::mount::MntFlags::NOEXEC)
}
