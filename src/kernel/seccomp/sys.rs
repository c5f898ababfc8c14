//! seccomp(2) and the prctl options that belong to it
//! (PR_GET/SET_SECCOMP, PR_GET/SET_NO_NEW_PRIVS), with Linux's checks in
//! Linux's order. SECCOMP_FILTER_FLAG_NEW_LISTENER returns the filter's
//! listener fd (notify.rs).

use super::filter::{self, Filter};
use super::notify::Notif;
use super::State;
use crate::abi::seccomp::*;
use crate::abi::{read_val, write_val, UserSlice};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::{self, lock, State as TaskState, Task};
use std::sync::{Arc, Mutex};

/// Held while filters are attached: a TSYNC check and the threads'
/// update must not interleave with another thread's attach. A leaf
/// taken before any task lock, never held across a sleep.
static ATTACH: Mutex<()> = Mutex::new(());

/// seccomp(operation, flags, args).
pub fn sys_seccomp(t: &Arc<Task>, op: u32, flags: u32, uargs: u64) -> KResult<u64> {
    match op {
        SECCOMP_SET_MODE_STRICT => {
            if flags != 0 || uargs != 0 {
                return Err(Errno::EINVAL);
            }
            set_strict(t)
        }
        SECCOMP_SET_MODE_FILTER => set_filter(t, flags, uargs),
        SECCOMP_GET_ACTION_AVAIL => {
            if flags != 0 {
                return Err(Errno::EINVAL);
            }
            let action: u32 = read_val(&t.mm(), uargs)?;
            match action {
                SECCOMP_RET_KILL_PROCESS
                | SECCOMP_RET_KILL_THREAD
                | SECCOMP_RET_TRAP
                | SECCOMP_RET_ERRNO
                | SECCOMP_RET_USER_NOTIF
                | SECCOMP_RET_TRACE
                | SECCOMP_RET_LOG
                | SECCOMP_RET_ALLOW => Ok(0),
                _ => Err(Errno::EOPNOTSUPP),
            }
        }
        SECCOMP_GET_NOTIF_SIZES => {
            if flags != 0 {
                return Err(Errno::EINVAL);
            }
            let sizes = SeccompNotifSizes {
                seccomp_notif: SIZEOF_SECCOMP_NOTIF,
                seccomp_notif_resp: SIZEOF_SECCOMP_NOTIF_RESP,
                seccomp_data: core::mem::size_of::<SeccompData>() as u16,
            };
            write_val(&t.mm(), uargs, &sizes)?;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// The seccomp and no_new_privs options of prctl: None for other options.
pub fn prctl(t: &Arc<Task>, op: i32, a: [u64; 4]) -> Option<KResult<u64>> {
    const PR_GET_SECCOMP: i32 = 21;
    const PR_SET_SECCOMP: i32 = 22;
    const PR_SET_NO_NEW_PRIVS: i32 = 38;
    const PR_GET_NO_NEW_PRIVS: i32 = 39;
    Some(match op {
        PR_GET_SECCOMP => Ok(t.lock().seccomp.mode as u64),
        PR_SET_SECCOMP => match a[0] {
            // Strict mode through prctl never looked at the pointer.
            1 => set_strict(t),
            2 => set_filter(t, 0, a[1]),
            _ => Err(Errno::EINVAL),
        },
        PR_SET_NO_NEW_PRIVS => {
            if a != [1, 0, 0, 0] {
                return Some(Err(Errno::EINVAL));
            }
            t.lock().seccomp.no_new_privs = true;
            Ok(0)
        }
        PR_GET_NO_NEW_PRIVS => {
            if a != [0; 4] {
                return Some(Err(Errno::EINVAL));
            }
            Ok(t.lock().seccomp.no_new_privs as u64)
        }
        _ => return None,
    })
}

/// Linux's seccomp_may_assign_mode: no change of mode once one is set.
fn may_assign(s: &State, mode: u8) -> bool {
    s.mode == SECCOMP_MODE_DISABLED || s.mode == mode
}

fn set_strict(t: &Arc<Task>) -> KResult<u64> {
    let mut i = t.lock();
    if !may_assign(&i.seccomp, SECCOMP_MODE_STRICT) {
        return Err(Errno::EINVAL);
    }
    i.seccomp.mode = SECCOMP_MODE_STRICT;
    Ok(0)
}

/// SECCOMP_SET_MODE_FILTER (and PR_SET_SECCOMP's filter mode, flags 0).
fn set_filter(t: &Arc<Task>, flags: u32, uargs: u64) -> KResult<u64> {
    if flags & !SECCOMP_FILTER_FLAG_MASK != 0 {
        return Err(Errno::EINVAL);
    }
    let tsync = flags & SECCOMP_FILTER_FLAG_TSYNC != 0;
    let listener = flags & SECCOMP_FILTER_FLAG_NEW_LISTENER != 0;
    // TSYNC's failure answer (a tid) and NEW_LISTENER's fd could not be
    // told apart.
    if tsync && listener && flags & SECCOMP_FILTER_FLAG_TSYNC_ESRCH == 0 {
        return Err(Errno::EINVAL);
    }
    if flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV != 0 && !listener {
        return Err(Errno::EINVAL);
    }
    let prog = prepare_user(t, uargs)?;
    let Some(notif) =
        listener.then(|| Notif::new(flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV != 0))
    else {
        return attach(t, flags, prog, None);
    };
    // The listener's fd is taken before attaching (EMFILE comes first,
    // as Linux reserves it) and given back if attaching fails.
    let fd = super::notify::install_listener(t, &notif)?;
    match attach(t, flags, prog, Some(notif)) {
        Ok(_) => Ok(fd as u64),
        Err(e) => {
            let _ = lock(&t.files()).remove(fd);
            Err(e)
        }
    }
}

/// Stack a checked program on `t`'s filters (and its other threads'
/// with TSYNC).
fn attach(
    t: &Arc<Task>,
    flags: u32,
    prog: Vec<super::bpf::Op>,
    notif: Option<Arc<Notif>>,
) -> KResult<u64> {
    let tsync = flags & SECCOMP_FILTER_FLAG_TSYNC != 0;
    let _g = lock(&ATTACH);
    let (cur, count, nnp) = {
        let i = t.lock();
        if !may_assign(&i.seccomp, SECCOMP_MODE_FILTER) {
            return Err(Errno::EINVAL);
        }
        (
            i.seccomp.filter.clone(),
            i.seccomp.filters,
            i.seccomp.no_new_privs,
        )
    };
    // One listener per chain of filters.
    if notif.is_some()
        && cur.as_ref().is_some_and(|c| {
            filter::chain(c).any(|f| f.notif.as_ref().is_some_and(|n| n.listening()))
        })
    {
        return Err(Errno::EBUSY);
    }
    let total = prog.len() + cur.as_ref().map_or(0, |c| c.path_len());
    if total > filter::MAX_INSNS_PER_PATH {
        return Err(Errno::ENOMEM);
    }
    if tsync {
        if let Some(tid) = tsync_blocker(t, cur.as_ref()) {
            if flags & SECCOMP_FILTER_FLAG_TSYNC_ESRCH != 0 {
                return Err(Errno::ESRCH);
            }
            // The thread that cannot follow, as the (positive) result.
            return Ok(tid as u64);
        }
    }
    let new = Arc::new(Filter {
        prog,
        log: flags & SECCOMP_FILTER_FLAG_LOG != 0,
        prev: cur,
        notif,
    });
    {
        let mut i = t.lock();
        i.seccomp.mode = SECCOMP_MODE_FILTER;
        i.seccomp.filter = Some(new.clone());
        i.seccomp.filters = count + 1;
    }
    if tsync {
        for o in other_threads(t) {
            let mut i = o.lock();
            i.seccomp.filter = Some(new.clone());
            i.seccomp.filters = count + 1;
            i.seccomp.no_new_privs |= nnp;
            i.seccomp.mode = SECCOMP_MODE_FILTER;
        }
    }
    // SPEC_ALLOW would leave speculation mitigations off; ruml applies
    // none to guests either way.
    Ok(0)
}

/// Copy in and check the program at `uargs` (a struct sock_fprog): the
/// length, then the privilege to install it (no_new_privs or
/// CAP_SYS_ADMIN in the caller's user namespace), then the code.
fn prepare_user(t: &Arc<Task>, uargs: u64) -> KResult<Vec<super::bpf::Op>> {
    let mm = t.mm();
    let fprog: SockFprog = read_val(&mm, uargs)?;
    let len = fprog.len as usize;
    if len == 0 || len > BPF_MAXINSNS {
        return Err(Errno::EINVAL);
    }
    let nnp = t.lock().seccomp.no_new_privs;
    if !nnp {
        let userns = crate::kernel::ns::of(t).user;
        if !crate::kernel::ns::capable_in(t, &userns, crate::kernel::caps::CAP_SYS_ADMIN) {
            return Err(Errno::EACCES);
        }
    }
    if fprog.filter == 0 {
        return Err(Errno::EINVAL);
    }
    let insns = UserSlice::<SockFilter>::new(fprog.filter, len).read(&mm)?;
    filter::prepare(&insns)
}

/// The live threads of `t`'s process other than `t`.
fn other_threads(t: &Arc<Task>) -> Vec<Arc<Task>> {
    let tids = t.tg().lock().threads.clone();
    tids.into_iter()
        .filter(|&x| x != t.tid)
        .filter_map(task::task)
        .filter(|o| o.state() != TaskState::Dead)
        .collect()
}

/// Linux's seccomp_can_sync_threads: the first other thread that could
/// not take the caller's filters (strict mode, or filters the caller's
/// do not include).
fn tsync_blocker(t: &Arc<Task>, cur: Option<&Arc<Filter>>) -> Option<task::Tid> {
    other_threads(t).into_iter().find_map(|o| {
        let i = o.lock();
        let ok = match i.seccomp.mode {
            SECCOMP_MODE_DISABLED => true,
            SECCOMP_MODE_FILTER => filter::is_ancestor(i.seccomp.filter.as_ref(), cur),
            _ => false,
        };
        (!ok).then_some(o.tid)
    })
}
