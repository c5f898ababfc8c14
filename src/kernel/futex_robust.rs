//! Robust futex lists (set_robust_list): when a thread exits, every lock
//! word on its list that still holds its tid gets FUTEX_OWNER_DIED and one
//! waiter is woken, so the next locker of a robust pthread mutex sees
//! EOWNERDEAD instead of waiting forever (Linux's exit_robust_list).

use super::errno::{Errno, KResult};
use super::futex;
use super::task::Task;
use crate::mm::Mm;
use std::sync::Arc;

/// sizeof(struct robust_list_head): next, futex_offset, list_op_pending.
const HEAD_LEN: usize = 24;
/// Linux's ROBUST_LIST_LIMIT: bounds a walk of a corrupt (cyclic) list.
const LIST_LIMIT: usize = 2048;
const FUTEX_WAITERS: u32 = 0x8000_0000;
const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
const FUTEX_TID_MASK: u32 = 0x3fff_ffff;

/// set_robust_list
pub fn sys_set_robust_list(t: &Task, head: u64, len: usize) -> KResult<u64> {
    if len != HEAD_LEN {
        return Err(Errno::EINVAL);
    }
    t.lock().robust_list = head;
    Ok(0)
}

/// The thread `tid` of address space `mm` is exiting: release the robust
/// locks it still holds. Faults end the walk quietly, as in Linux.
pub fn exit_robust_list(mm: &Arc<Mm>, tid: u32, head: u64) {
    if head == 0 {
        return;
    }
    let (Ok(first), Ok(offset), Ok(pending)) = (
        mm.read_u64(head),
        mm.read_u64(head + 8),
        mm.read_u64(head + 16),
    ) else {
        return;
    };
    let pending = pending & !1;
    let mut entry = first & !1;
    for _ in 0..LIST_LIMIT {
        if entry == head {
            break;
        }
        let Ok(next) = mm.read_u64(entry) else {
            return;
        };
        // The pending entry is handled once, below.
        if entry != pending {
            owner_died(mm, tid, entry.wrapping_add(offset));
        }
        entry = next & !1;
    }
    if pending != 0 {
        owner_died(mm, tid, pending.wrapping_add(offset));
    }
}

/// Linux's handle_futex_death for the lock word at `uaddr`.
fn owner_died(mm: &Arc<Mm>, tid: u32, uaddr: u64) {
    if uaddr % 4 != 0 {
        return;
    }
    let Ok(v) = mm.read_u32(uaddr) else {
        return;
    };
    if v & FUTEX_TID_MASK != tid {
        return;
    }
    // One vCPU: nothing else runs between the read and this write.
    if mm
        .write_u32(uaddr, (v & FUTEX_WAITERS) | FUTEX_OWNER_DIED)
        .is_err()
    {
        return;
    }
    if v & FUTEX_WAITERS != 0 {
        // Shared flags, as Linux: the key still follows the mapping.
        let _ = futex::wake(mm, uaddr, 1, u32::MAX, false);
    }
}
