//! Capabilities (Linux's kernel/capability.c and security/commoncap.c):
//! the capability numbers and securebits, capget/capset with their
//! version handshake and rules, file capabilities (the
//! security.capability xattr) and what exec makes of a process's sets.
//! The sets themselves live in `cred::Creds`.

use super::cred::{Creds, CAP_FULL};
use super::errno::{Errno, KResult};
use super::task::Task;
use crate::abi::resource::{CapUserData, CapUserHeader, VfsNsCapData};
use crate::fs::vfs::Inode;
use std::sync::Arc;

pub const CAP_CHOWN: u32 = 0;
pub const CAP_DAC_OVERRIDE: u32 = 1;
pub const CAP_DAC_READ_SEARCH: u32 = 2;
pub const CAP_FOWNER: u32 = 3;
pub const CAP_FSETID: u32 = 4;
pub const CAP_KILL: u32 = 5;
pub const CAP_SETGID: u32 = 6;
pub const CAP_SETUID: u32 = 7;
pub const CAP_SETPCAP: u32 = 8;
pub const CAP_NET_BIND_SERVICE: u32 = 10;
pub const CAP_NET_ADMIN: u32 = 12;
pub const CAP_NET_RAW: u32 = 13;
pub const CAP_IPC_LOCK: u32 = 14;
pub const CAP_IPC_OWNER: u32 = 15;
pub const CAP_SYS_CHROOT: u32 = 18;
pub const CAP_SYS_PTRACE: u32 = 19;
pub const CAP_SYS_ADMIN: u32 = 21;
pub const CAP_SYS_BOOT: u32 = 22;
pub const CAP_SYS_NICE: u32 = 23;
pub const CAP_SYS_RESOURCE: u32 = 24;
pub const CAP_SYS_TIME: u32 = 25;
pub const CAP_MKNOD: u32 = 27;
pub const CAP_LEASE: u32 = 28;
pub const CAP_SETFCAP: u32 = 31;
pub const CAP_WAKE_ALARM: u32 = 35;

/// CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER,
/// CAP_FSETID, CAP_MKNOD, CAP_MAC_OVERRIDE: Linux's CAP_FS_MASK, which
/// follows fsuid.
pub const CAP_FS_MASK: u64 = 0x1f | 1 << 27 | 1 << 32;

pub const SECBIT_NOROOT: u32 = 1 << 0;
pub const SECBIT_NO_SETUID_FIXUP: u32 = 1 << 2;
pub const SECBIT_KEEP_CAPS: u32 = 1 << 4;
pub const SECBIT_KEEP_CAPS_LOCKED: u32 = 1 << 5;
pub const SECBIT_NO_CAP_AMBIENT_RAISE: u32 = 1 << 6;

const VERSION_1: u32 = 0x1998_0330;
const VERSION_2: u32 = 0x2007_1026;
const VERSION_3: u32 = 0x2008_0522;

/// A known capability number (Linux's cap_valid).
pub fn cap_valid(cap: u64) -> bool {
    cap < 64 && CAP_FULL & (1 << cap) != 0
}

/// The kernel uid of root in `t`'s user namespace (None: unmapped).
pub fn root_uid(t: &Task) -> Option<u32> {
    super::ns::user::map_up(&super::ns::of(t).user, true, 0)
}

/// Linux's ns_capable(current_user_ns(), cap).
pub fn own_capable(t: &Task, cap: u32) -> bool {
    super::ns::capable_in(t, &super::ns::of(t).user, cap)
}

/// Linux's cap_validate_magic: how many 32-bit halves the header's
/// version carries; an unknown version is answered with the preferred one
/// written back and EINVAL.
fn validate(t: &Task, hdr: u64) -> KResult<(usize, i32)> {
    let h: CapUserHeader = crate::abi::read_val(&t.mm(), hdr)?;
    match h.version {
        VERSION_1 => Ok((1, h.pid)),
        VERSION_2 | VERSION_3 => Ok((2, h.pid)),
        _ => {
            let w = CapUserHeader {
                version: VERSION_3,
                ..h
            };
            crate::abi::write_val(&t.mm(), hdr, &w)?;
            Err(Errno::EINVAL)
        }
    }
}

/// capget: the sets of the caller (pid 0) or of any process; a NULL data
/// pointer with an unknown version is the version probe and succeeds.
pub fn sys_capget(t: &Arc<Task>, hdr: u64, data: u64) -> KResult<u64> {
    let (n, pid) = match validate(t, hdr) {
        Err(Errno::EINVAL) if data == 0 => return Ok(0),
        r => r?,
    };
    if data == 0 {
        return Ok(0);
    }
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    let c = if pid == 0 {
        t.creds()
    } else {
        let tid = super::ns::pid::find(t, pid).ok_or(Errno::ESRCH)?;
        super::task::find_tg_of(tid)
            .ok_or(Errno::ESRCH)?
            .lock()
            .creds
            .clone()
    };
    let half = |i: usize| CapUserData {
        effective: (c.cap_effective >> (32 * i)) as u32,
        permitted: (c.cap_permitted >> (32 * i)) as u32,
        inheritable: (c.cap_inheritable >> (32 * i)) as u32,
    };
    let d = [half(0), half(1)];
    crate::abi::UserSlice::new(data, n).write(&t.mm(), &d[..n])?;
    Ok(0)
}

/// capset: only the caller's own sets (another pid: EPERM), with Linux's
/// cap_capset rules, each EPERM: the new inheritable set within the old
/// inheritable and permitted ones (unless CAP_SETPCAP) and within the old
/// inheritable and bounding ones, the new permitted within the old, the
/// new effective within the new permitted. The ambient set keeps only
/// what stays both permitted and inheritable.
pub fn sys_capset(t: &Arc<Task>, hdr: u64, data: u64) -> KResult<u64> {
    let (n, pid) = validate(t, hdr)?;
    if pid != 0 && pid != super::ns::pid::vnr(t, t.tid) {
        return Err(Errno::EPERM);
    }
    let d: Vec<CapUserData> = crate::abi::UserSlice::new(data, n).read(&t.mm())?;
    let join = |f: fn(&CapUserData) -> u32| {
        d.iter()
            .enumerate()
            .fold(0u64, |a, (i, x)| a | (f(x) as u64) << (32 * i))
            & CAP_FULL
    };
    let eff = join(|x| x.effective);
    let prm = join(|x| x.permitted);
    let inh = join(|x| x.inheritable);
    let setpcap = own_capable(t, CAP_SETPCAP);
    let tg = t.tg();
    let mut g = tg.lock();
    let c = &mut g.creds;
    let within = |a: u64, b: u64| a & !b == 0;
    if (!setpcap && !within(inh, c.cap_inheritable | c.cap_permitted))
        || !within(inh, c.cap_inheritable | c.cap_bset)
        || !within(prm, c.cap_permitted)
        || !within(eff, prm)
    {
        return Err(Errno::EPERM);
    }
    c.cap_effective = eff;
    c.cap_permitted = prm;
    c.cap_inheritable = inh;
    c.cap_ambient &= prm & inh;
    Ok(0)
}

/// A file's capabilities (its security.capability xattr).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileCaps {
    pub permitted: u64,
    pub inheritable: u64,
    /// VFS_CAP_FLAGS_EFFECTIVE: the gained permitted set is effective.
    pub effective: bool,
    /// Revision 3's namespace root (kernel uid); 0 for revision 2.
    pub rootid: u32,
}

const VFS_CAP_REVISION_MASK: u32 = 0xff00_0000;
const VFS_CAP_REVISION_1: u32 = 0x0100_0000;
const VFS_CAP_REVISION_2: u32 = 0x0200_0000;
const VFS_CAP_REVISION_3: u32 = 0x0300_0000;
const VFS_CAP_FLAGS_EFFECTIVE: u32 = 1;

/// Parse a security.capability value (Linux's get_vfs_caps_from_disk):
/// revision 1 (12 bytes), 2 (20) or 3 (24, with rootid); EINVAL for a
/// size that does not match its revision.
pub fn parse_file_caps(b: &[u8]) -> KResult<FileCaps> {
    let v = VfsNsCapData::from_bytes(b).ok_or(Errno::EINVAL)?;
    let (halves, size) = match v.magic_etc & VFS_CAP_REVISION_MASK {
        VFS_CAP_REVISION_1 => (1, 12),
        VFS_CAP_REVISION_2 => (2, 20),
        VFS_CAP_REVISION_3 => (2, 24),
        _ => return Err(Errno::EINVAL),
    };
    if b.len() != size {
        return Err(Errno::EINVAL);
    }
    let join = |f: fn(&crate::abi::resource::VfsCapHalf) -> u32| {
        v.data[..halves]
            .iter()
            .enumerate()
            .fold(0u64, |a, (i, x)| a | (f(x) as u64) << (32 * i))
            & CAP_FULL
    };
    Ok(FileCaps {
        permitted: join(|x| x.permitted),
        inheritable: join(|x| x.inheritable),
        effective: v.magic_etc & VFS_CAP_FLAGS_EFFECTIVE != 0,
        rootid: if size == 24 { v.rootid } else { 0 },
    })
}

/// The capabilities of the program `inode` for `t`: none when the xattr
/// is missing or malformed, or when its rootid is not root of `t`'s user
/// namespace or of the initial one (Linux's rootid_owns_currentns, for
/// the two namespaces this kernel tells apart there).
pub fn file_caps(t: &Task, inode: &Arc<dyn Inode>) -> Option<FileCaps> {
    let b = inode.getxattr("security.capability").ok()?;
    let fc = parse_file_caps(&b).ok()?;
    (fc.rootid == 0 || Some(fc.rootid) == root_uid(t)).then_some(fc)
}

/// Linux's cap_bprm_creds_from_file: the capability sets after exec.
/// `old` are the caller's credentials, `new` the ones exec made (ids
/// already set), `fcaps` the program's file capabilities (None as well on
/// a nosuid mount), `root` root's kernel uid in the caller's user
/// namespace, `nnp` no_new_privs. Returns whether the exec gains
/// privilege (AT_SECURE), or EPERM for a program whose forced
/// capabilities (file permitted with the effective bit) it cannot have.
pub fn bprm_caps(
    old: &Creds,
    new: &mut Creds,
    fcaps: Option<FileCaps>,
    root: Option<u32>,
    nnp: bool,
) -> KResult<bool> {
    let is = |u: u32| Some(u) == root;
    let mut effective = false;
    let has_fcap = fcaps.is_some();
    new.cap_permitted = 0;
    if let Some(fc) = fcaps {
        effective = fc.effective;
        new.cap_permitted = (new.cap_bset & fc.permitted) | (new.cap_inheritable & fc.inheritable);
        if effective && fc.permitted & !new.cap_permitted != 0 {
            return Err(Errno::EPERM);
        }
    }
    // A root uid gets the bounding and inheritable sets (handle_privileged
    // _root), unless SECBIT_NOROOT, and not for a setuid-root program
    // with file capabilities (those win).
    let setuid_root = !is(new.uid) && is(new.euid);
    if !new.secure(SECBIT_NOROOT) && !(has_fcap && setuid_root) {
        if is(new.euid) || is(new.uid) {
            new.cap_permitted = old.cap_bset | old.cap_inheritable;
        }
        if is(new.euid) {
            effective = true;
        }
    }
    let is_setid = new.euid != old.uid || new.egid != old.gid;
    let gained = new.cap_permitted & !old.cap_permitted != 0;
    if (is_setid || gained) && nnp {
        // no_new_privs: nothing more than before (the set-id bits were
        // already ignored by the caller).
        new.euid = new.uid;
        new.egid = new.gid;
        new.cap_permitted &= old.cap_permitted;
    }
    new.suid = new.euid;
    new.fsuid = new.euid;
    new.sgid = new.egid;
    new.fsgid = new.egid;
    if has_fcap || is_setid {
        new.cap_ambient = 0;
    }
    new.cap_permitted |= new.cap_ambient;
    new.cap_effective = if effective {
        new.cap_permitted
    } else {
        new.cap_ambient
    };
    new.securebits &= !SECBIT_KEEP_CAPS;
    let grew = new.cap_permitted & !new.cap_ambient != 0;
    Ok(is_setid || (!is(new.uid) && (effective || grew)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> Creds {
        Creds {
            uid: 1000,
            euid: 1000,
            suid: 1000,
            fsuid: 1000,
            gid: 100,
            egid: 100,
            sgid: 100,
            fsgid: 100,
            cap_bset: CAP_FULL,
            ..Creds::default()
        }
    }

    #[test]
    fn root_exec_gets_bounding_set_and_user_exec_nothing() {
        let mut root = Creds::ROOT;
        root.cap_bset &= !(1 << CAP_SYS_ADMIN);
        let mut n = root.clone();
        assert_eq!(bprm_caps(&root, &mut n, None, Some(0), false), Ok(false));
        assert_eq!(n.cap_effective, CAP_FULL & !(1 << CAP_SYS_ADMIN));
        let u = user();
        let mut n = u.clone();
        assert_eq!(bprm_caps(&u, &mut n, None, Some(0), false), Ok(false));
        assert_eq!((n.cap_permitted, n.cap_effective), (0, 0));
    }

    #[test]
    fn file_caps_and_ambient() {
        let u = user();
        let fc = FileCaps {
            permitted: 1 << CAP_NET_BIND_SERVICE,
            effective: true,
            ..FileCaps::default()
        };
        let mut n = u.clone();
        assert_eq!(bprm_caps(&u, &mut n, Some(fc), Some(0), false), Ok(true));
        assert_eq!(n.cap_effective, 1 << CAP_NET_BIND_SERVICE);
        let mut b = u.clone();
        b.cap_bset &= !(1 << CAP_NET_BIND_SERVICE);
        let mut n = b.clone();
        assert_eq!(
            bprm_caps(&b, &mut n, Some(fc), Some(0), false),
            Err(Errno::EPERM)
        );
        let mut a = u.clone();
        a.cap_inheritable = 1 << CAP_KILL;
        a.cap_permitted = 1 << CAP_KILL;
        a.cap_ambient = 1 << CAP_KILL;
        let mut n = a.clone();
        bprm_caps(&a, &mut n, None, Some(0), false).unwrap();
        assert_eq!((n.cap_permitted, n.cap_effective), (1 << 5, 1 << 5));
    }

    #[test]
    fn xattr_revisions() {
        let mut v2 = vec![1, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0];
        v2.extend([0; 8]);
        let fc = parse_file_caps(&v2).unwrap();
        assert_eq!((fc.permitted, fc.effective), (1 << 10, true));
        assert_eq!(parse_file_caps(&v2[..12]), Err(Errno::EINVAL));
    }
}
