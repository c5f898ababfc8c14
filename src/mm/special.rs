//! Special mappings: pages the kernel owns and maps into every guest (the
//! vDSO's code and its vvar data page), presented to the mm as a file
//! whose pages are fixed frames. The kernel keeps one reference on each
//! frame for as long as the boot lasts, so guests mapping, unmapping or
//! forking them never free one; a private mapping written to (a debugger
//! patching the vDSO) gets a copy, as any private file page does.

use super::frame::{self, Pfn, PAGE_SIZE};
use crate::fs::vfs::{Inode, Stat};
use crate::kernel::errno::{Errno, KResult};
use std::any::Any;

/// The maps label of the time data page; a VMA with it can never become
/// writable or executable (see `Vma::is_vvar`).
pub const VVAR: &str = "[vvar]";
/// The maps label of the vDSO's code.
pub const VDSO: &str = "[vdso]";

/// A fixed run of frames behaving as a read-only file.
pub struct SpecialPages {
    pub pages: Vec<Pfn>,
}

impl Inode for SpecialPages {
    /// Device 0, inode 0, as /proc/PID/maps shows Linux's special mappings.
    fn stat(&self) -> Stat {
        Stat {
            mode: 0o100444,
            nlink: 1,
            size: self.pages.len() as u64 * PAGE_SIZE,
            blksize: PAGE_SIZE as u32,
            ..Default::default()
        }
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn page(&self, idx: u64) -> KResult<Pfn> {
        self.cached_page(idx).ok_or(Errno::EFAULT)
    }
    fn cached_page(&self, idx: u64) -> Option<Pfn> {
        let p = *self.pages.get(usize::try_from(idx).ok()?)?;
        frame::get(p);
        Some(p)
    }
}
