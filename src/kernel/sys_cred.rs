//! Credential syscalls: get*id, set*id (with Linux's permission rules,
//! `kernel::cred`), getgroups/setgroups.

use super::caps;
use super::cred::{self, IdSet};
use super::errno::{Errno, KResult};
use super::ns::user::show_id;
use super::task::Task;
use std::sync::Arc;

/// Change the user (`user`) or group ids of `t`'s process with `f`, which
/// gets the old ids and whether the caller may set any (CAP_SETUID or
/// CAP_SETGID; over the initial user namespace, as the ids given are
/// kernel ids, not translated through the caller's map). User id changes
/// then adjust the capability sets (`Creds::fix_setuid`, `fix_setfsuid`
/// for `fs`).
fn change(
    t: &Task,
    user: bool,
    fs: bool,
    f: impl FnOnce(IdSet, bool) -> KResult<IdSet>,
) -> KResult<IdSet> {
    let cap = if user {
        caps::CAP_SETUID
    } else {
        caps::CAP_SETGID
    };
    let root = caps::root_uid(t);
    let tg = t.tg();
    let mut g = tg.lock();
    let capable = g.creds.capable(cap);
    let before = g.creds.clone();
    let old = if user { g.creds.uids() } else { g.creds.gids() };
    let new = f(old, capable)?;
    // Linux's commit_creds: a process whose effective or filesystem ids
    // change may hold what the old ids gave it (a setuid program dropping
    // privilege), so it stops being dumpable; prctl can set it back.
    if new.e != old.e || new.fs != old.fs {
        g.dumpable = false;
    }
    if user {
        g.creds.set_uids(new);
        if fs {
            g.creds.fix_setfsuid(&before, root);
        } else {
            g.creds.fix_setuid(&before, root);
        }
    } else {
        g.creds.set_gids(new);
    }
    Ok(old)
}

/// getuid, getgid, geteuid, getegid
pub fn sys_getid(t: &Arc<Task>, nr: u64) -> KResult<u64> {
    let c = t.creds();
    let (user, id) = match nr {
        102 => (true, c.uid),
        104 => (false, c.gid),
        107 => (true, c.euid),
        _ => (false, c.egid),
    };
    // As the caller's user namespace sees it.
    Ok(show_id(t, user, id) as u64)
}

/// setuid (`user`) and setgid
pub fn sys_setuid(t: &Arc<Task>, user: bool, id: u32) -> KResult<u64> {
    change(t, user, false, |old, cap| cred::set_id(old, id, cap))?;
    Ok(0)
}

/// setreuid (`user`) and setregid
pub fn sys_setreuid(t: &Arc<Task>, user: bool, r: u32, e: u32) -> KResult<u64> {
    change(t, user, false, |old, cap| cred::set_re_id(old, r, e, cap))?;
    Ok(0)
}

/// setresuid (`user`) and setresgid
pub fn sys_setresuid(t: &Arc<Task>, user: bool, r: u32, e: u32, s: u32) -> KResult<u64> {
    change(t, user, false, |old, cap| {
        cred::set_res_id(old, r, e, s, cap)
    })?;
    Ok(0)
}

/// setfsuid (`user`) and setfsgid: return the old value, changed or not.
pub fn sys_setfsuid(t: &Arc<Task>, user: bool, f: u32) -> KResult<u64> {
    let old = change(t, user, true, |old, cap| Ok(cred::set_fs_id(old, f, cap)))?;
    Ok(old.fs as u64)
}

/// getresuid, getresgid
pub fn sys_getresid(t: &Arc<Task>, nr: u64, a: u64, b: u64, c: u64) -> KResult<u64> {
    let cr = t.creds();
    let user = nr == 118;
    let v = if user {
        [cr.uid, cr.euid, cr.suid]
    } else {
        [cr.gid, cr.egid, cr.sgid]
    }
    .map(|id| show_id(t, user, id));
    let mm = t.mm();
    mm.write_u32(a, v[0])?;
    mm.write_u32(b, v[1])?;
    mm.write_u32(c, v[2])?;
    Ok(0)
}

/// getgroups
pub fn sys_getgroups(t: &Arc<Task>, size: i32, list: u64) -> KResult<u64> {
    let g: Vec<u32> = t
        .creds()
        .groups
        .iter()
        .map(|&id| show_id(t, false, id))
        .collect();
    if size == 0 {
        return Ok(g.len() as u64);
    }
    if (size as usize) < g.len() {
        return Err(Errno::EINVAL);
    }
    crate::abi::UserSlice::new(list, g.len()).write(&t.mm(), &g)?;
    Ok(g.len() as u64)
}

/// setgroups: CAP_SETGID only; the list is kept sorted, as Linux does.
pub fn sys_setgroups(t: &Arc<Task>, size: usize, list: u64) -> KResult<u64> {
    // In a user namespace: only once its gid_map is written, and never
    // after "deny" in /proc/PID/setgroups (may_setgroups).
    let user = crate::kernel::ns::of(t).user;
    if !crate::kernel::ns::capable_in(t, &user, super::caps::CAP_SETGID)
        || !crate::kernel::ns::user::may_setgroups(&user)
    {
        return Err(Errno::EPERM);
    }
    if size > 65536 {
        return Err(Errno::EINVAL);
    }
    let mut g: Vec<u32> = crate::abi::UserSlice::new(list, size).read(&t.mm())?;
    g.sort_unstable();
    t.tg().lock().creds.groups = g;
    Ok(0)
}
