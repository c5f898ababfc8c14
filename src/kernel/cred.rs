//! Credentials (`Creds`) and the rules for changing and comparing them:
//! the set*id transitions of Linux's kernel/sys.c with the capability
//! fix-ups of security/commoncap.c, what exec of a setuid or setgid file
//! does, and who may signal whom.
//!
//! A process carries Linux's five capability sets (inheritable,
//! permitted, effective, bounding, ambient) and its securebits; a check
//! asks for one capability (`capable(CAP_X)`, constants in `caps`), which
//! is in the effective set. The sets are over the process's user
//! namespace: `ns::capable_in` answers for a namespace, `capable` for the
//! initial one, where a process inside a user namespace it made counts
//! only with the kernel uid 0 (the old root-ness, so that an unprivileged
//! user's namespace root gains nothing outside). Capget/capset, exec's
//! transformation and file capabilities are in `caps`, the prctl
//! options in `securebits`.

use super::caps::{CAP_FS_MASK, SECBIT_KEEP_CAPS, SECBIT_NO_SETUID_FIXUP};
use super::errno::{Errno, KResult};
use crate::fs::vfs::{S_ISGID, S_ISUID, S_IXGRP};

/// A process's user and group ids and capability sets.
#[derive(Clone, Default, Debug, PartialEq, Eq)]
pub struct Creds {
    pub uid: u32,
    pub euid: u32,
    pub suid: u32,
    pub fsuid: u32,
    pub gid: u32,
    pub egid: u32,
    pub sgid: u32,
    pub fsgid: u32,
    /// Supplementary groups, sorted (setgroups sorts them, as Linux).
    pub groups: Vec<u32>,
    pub cap_inheritable: u64,
    pub cap_permitted: u64,
    pub cap_effective: u64,
    /// The bounding set (PR_CAPBSET_READ/DROP).
    pub cap_bset: u64,
    pub cap_ambient: u64,
    /// PR_SET_SECUREBITS (SECBIT_*, `caps`).
    pub securebits: u32,
    /// The sets are over a user namespace below the initial one (set
    /// when the process enters one; it never leaves).
    pub in_child_userns: bool,
}

/// Every capability this kernel knows (up to CAP_CHECKPOINT_RESTORE, 40):
/// a root's permitted and effective sets, and everyone's bounding set.
pub const CAP_FULL: u64 = (1 << 41) - 1;

/// "Leave this id alone" in set*id arguments ((uid_t)-1).
pub const KEEP: u32 = u32::MAX;

/// One kind of id (user or group): real, effective, saved, filesystem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdSet {
    pub r: u32,
    pub e: u32,
    pub s: u32,
    pub fs: u32,
}

impl Creds {
    /// What the kernel itself acts as (boot, mounting root, init).
    pub const ROOT: Creds = Creds {
        uid: 0,
        euid: 0,
        suid: 0,
        fsuid: 0,
        gid: 0,
        egid: 0,
        sgid: 0,
        fsgid: 0,
        groups: Vec::new(),
        cap_inheritable: 0,
        cap_permitted: CAP_FULL,
        cap_effective: CAP_FULL,
        cap_bset: CAP_FULL,
        cap_ambient: 0,
        securebits: 0,
        in_child_userns: false,
    };

    /// Is `cap` in the effective set (over the process's own user
    /// namespace).
    pub fn has(&self, cap: u32) -> bool {
        self.cap_effective >> cap & 1 != 0
    }

    /// Linux's capable(cap): `cap` over the initial user namespace. Inside
    /// a user namespace only the kernel uid 0 counts (the filesystem
    /// capabilities with the fsuid), see the module comment.
    pub fn capable(&self, cap: u32) -> bool {
        if !self.has(cap) {
            return false;
        }
        if !self.in_child_userns {
            return true;
        }
        if CAP_FS_MASK >> cap & 1 != 0 {
            self.fsuid == 0
        } else {
            self.euid == 0
        }
    }

    /// Is securebit `bit` (SECBIT_*) set.
    pub fn secure(&self, bit: u32) -> bool {
        self.securebits & bit != 0
    }

    /// Linux's set_cred_user_ns: entering a new user namespace gives
    /// every capability in it, with the securebits and the inheritable
    /// and ambient sets cleared.
    pub fn enter_userns(&mut self) {
        self.securebits = 0;
        self.cap_inheritable = 0;
        self.cap_ambient = 0;
        self.cap_permitted = CAP_FULL;
        self.cap_effective = CAP_FULL;
        self.cap_bset = CAP_FULL;
        self.in_child_userns = true;
    }

    /// Linux's cap_emulate_setxuid, after a setuid, setreuid or setresuid
    /// changed `self` from `old` (`root`: the kernel uid of root in the
    /// process's user namespace): leaving root in all three uids drops
    /// the permitted and effective sets (unless SECBIT_KEEP_CAPS) and the
    /// ambient set; the effective set follows the effective uid leaving
    /// or regaining root. SECBIT_NO_SETUID_FIXUP turns all this off.
    pub fn fix_setuid(&mut self, old: &Creds, root: Option<u32>) {
        if old.secure(SECBIT_NO_SETUID_FIXUP) {
            return;
        }
        let is = |u: u32| Some(u) == root;
        if (is(old.uid) || is(old.euid) || is(old.suid))
            && !is(self.uid)
            && !is(self.euid)
            && !is(self.suid)
        {
            if !old.secure(SECBIT_KEEP_CAPS) {
                self.cap_permitted = 0;
                self.cap_effective = 0;
            }
            self.cap_ambient = 0;
        }
        if is(old.euid) && !is(self.euid) {
            self.cap_effective = 0;
        }
        if !is(old.euid) && is(self.euid) {
            self.cap_effective = self.cap_permitted;
        }
    }

    /// The setfsuid half of Linux's cap_task_fix_setuid: the filesystem
    /// capabilities leave the effective set with a root fsuid and come
    /// back (from the permitted set) with it.
    pub fn fix_setfsuid(&mut self, old: &Creds, root: Option<u32>) {
        if old.secure(SECBIT_NO_SETUID_FIXUP) {
            return;
        }
        let is = |u: u32| Some(u) == root;
        if is(old.fsuid) && !is(self.fsuid) {
            self.cap_effective &= !CAP_FS_MASK;
        }
        if !is(old.fsuid) && is(self.fsuid) {
            self.cap_effective |= self.cap_permitted & CAP_FS_MASK;
        }
    }

    /// Linux's in_group_p: the fsgid or a supplementary group.
    pub fn in_group(&self, gid: u32) -> bool {
        self.fsgid == gid || self.groups.contains(&gid)
    }

    /// What access(2) checks with (Linux's access_override_creds): the
    /// real ids as filesystem ids, and unless SECBIT_NO_SETUID_FIXUP, no
    /// effective capabilities for a real uid other than root's (`root`,
    /// in the process's user namespace), the permitted ones for root.
    pub fn for_access(&self, root: Option<u32>) -> Creds {
        let mut c = Creds {
            fsuid: self.uid,
            fsgid: self.gid,
            ..self.clone()
        };
        if !self.secure(SECBIT_NO_SETUID_FIXUP) {
            c.cap_effective = if Some(self.uid) == root {
                self.cap_permitted
            } else {
                0
            };
        }
        c
    }

    pub fn uids(&self) -> IdSet {
        IdSet {
            r: self.uid,
            e: self.euid,
            s: self.suid,
            fs: self.fsuid,
        }
    }

    pub fn gids(&self) -> IdSet {
        IdSet {
            r: self.gid,
            e: self.egid,
            s: self.sgid,
            fs: self.fsgid,
        }
    }

    pub fn set_uids(&mut self, i: IdSet) {
        (self.uid, self.euid, self.suid, self.fsuid) = (i.r, i.e, i.s, i.fs);
    }

    pub fn set_gids(&mut self, i: IdSet) {
        (self.gid, self.egid, self.sgid, self.fsgid) = (i.r, i.e, i.s, i.fs);
    }
}

impl IdSet {
    fn holds(&self, id: u32) -> bool {
        id == self.r || id == self.e || id == self.s
    }
}

/// setuid/setgid: privileged callers set all three ids; others may only
/// make the effective id their real or saved one.
pub fn set_id(old: IdSet, id: u32, capable: bool) -> KResult<IdSet> {
    if id == KEEP {
        return Err(Errno::EINVAL);
    }
    let mut n = old;
    if capable {
        n.r = id;
        n.s = id;
    } else if id != old.r && id != old.s {
        return Err(Errno::EPERM);
    }
    n.e = id;
    n.fs = id;
    Ok(n)
}

/// setreuid/setregid: the real id may become the effective one, the
/// effective id any of the three; the saved id follows the effective one
/// when the real id is set or the effective one leaves the real one.
pub fn set_re_id(old: IdSet, r: u32, e: u32, capable: bool) -> KResult<IdSet> {
    let mut n = old;
    if r != KEEP {
        if r != old.r && r != old.e && !capable {
            return Err(Errno::EPERM);
        }
        n.r = r;
    }
    if e != KEEP {
        if !old.holds(e) && !capable {
            return Err(Errno::EPERM);
        }
        n.e = e;
    }
    if r != KEEP || (e != KEEP && e != old.r) {
        n.s = n.e;
    }
    n.fs = n.e;
    Ok(n)
}

/// setresuid/setresgid: unprivileged callers may shuffle their three ids.
pub fn set_res_id(old: IdSet, r: u32, e: u32, s: u32, capable: bool) -> KResult<IdSet> {
    let new_id = |v: u32| v != KEEP && !old.holds(v);
    if (new_id(r) || new_id(e) || new_id(s)) && !capable {
        return Err(Errno::EPERM);
    }
    let pick = |v: u32, cur: u32| if v == KEEP { cur } else { v };
    let mut n = old;
    n.r = pick(r, old.r);
    n.e = pick(e, old.e);
    n.s = pick(s, old.s);
    n.fs = n.e;
    Ok(n)
}

/// setfsuid/setfsgid: any of the ids (or anything when privileged);
/// otherwise nothing changes. The syscall returns the old value either way.
pub fn set_fs_id(old: IdSet, f: u32, capable: bool) -> IdSet {
    let mut n = old;
    if f != KEEP && (old.holds(f) || f == old.fs || capable) {
        n.fs = f;
    }
    n
}

/// The credentials after exec of a file with `mode`, owned by
/// `uid`:`gid` (Linux's bprm_fill_uid and cap_bprm_creds_from_file): a
/// setuid file gives its owner as effective uid, a setgid and
/// group-executable one its group as effective gid; the saved and
/// filesystem ids become the effective ones. The flag says whether the
/// exec is secure (AT_SECURE): the effective ids differ from the real ones.
pub fn exec_creds(old: &Creds, mode: u32, uid: u32, gid: u32) -> (Creds, bool) {
    let mut n = old.clone();
    if mode & S_ISUID != 0 {
        n.euid = uid;
    }
    if mode & (S_ISGID | S_IXGRP) == S_ISGID | S_IXGRP {
        n.egid = gid;
    }
    n.suid = n.euid;
    n.fsuid = n.euid;
    n.sgid = n.egid;
    n.fsgid = n.egid;
    let secure = n.euid != n.uid || n.egid != n.gid;
    (n, secure)
}

/// Linux's kill_ok_by_cred: the sender's real or effective uid matches
/// the target's real or saved uid, or the sender has CAP_KILL.
pub fn may_signal(sender: &Creds, target: &Creds) -> bool {
    sender.capable(super::caps::CAP_KILL)
        || [sender.uid, sender.euid]
            .iter()
            .any(|&u| u == target.uid || u == target.suid)
}

/// Are all of `target`'s user ids `c`'s real uid, and all its group ids
/// `c`'s real gid (Linux's check for changing another process's limits)?
pub fn owns_all_ids(c: &Creds, target: &Creds) -> bool {
    [target.uid, target.euid, target.suid]
        .iter()
        .all(|&u| u == c.uid)
        && [target.gid, target.egid, target.sgid]
            .iter()
            .all(|&g| g == c.gid)
}

#[cfg(test)]
mod tests {
    use super::*;

    const U: IdSet = IdSet {
        r: 1000,
        e: 1000,
        s: 1000,
        fs: 1000,
    };
    const ROOT: IdSet = IdSet {
        r: 0,
        e: 0,
        s: 0,
        fs: 0,
    };

    #[test]
    fn setuid_by_root_sets_all_and_by_users_only_known_ids() {
        assert_eq!(
            set_id(ROOT, 1000, true),
            Ok(IdSet {
                r: 1000,
                e: 1000,
                s: 1000,
                fs: 1000
            })
        );
        assert_eq!(set_id(U, 0, false), Err(Errno::EPERM));
        let half = IdSet {
            e: 0,
            s: 0,
            fs: 0,
            ..U
        };
        // A setuid-root program dropping to its real uid keeps saved 0.
        assert_eq!(
            set_id(half, 1000, false),
            Ok(IdSet {
                r: 1000,
                e: 1000,
                s: 0,
                fs: 1000
            })
        );
        assert_eq!(set_id(U, KEEP, false), Err(Errno::EINVAL));
    }

    #[test]
    fn setreuid_swaps_and_updates_saved() {
        let half = IdSet {
            e: 0,
            s: 0,
            fs: 0,
            ..U
        };
        let n = set_re_id(half, 0, 1000, false).unwrap();
        assert_eq!((n.r, n.e, n.s, n.fs), (0, 1000, 1000, 1000));
        assert_eq!(set_re_id(U, 0, KEEP, false), Err(Errno::EPERM));
        // Only the effective id, back to the real one: saved unchanged.
        let n = set_re_id(half, KEEP, 1000, false).unwrap();
        assert_eq!((n.r, n.e, n.s), (1000, 1000, 0));
    }

    #[test]
    fn setresuid_needs_capability_for_new_ids() {
        assert_eq!(set_res_id(U, KEEP, 0, KEEP, false), Err(Errno::EPERM));
        let half = IdSet { s: 0, ..U };
        let n = set_res_id(half, KEEP, 0, KEEP, false).unwrap();
        assert_eq!((n.e, n.fs), (0, 0));
        assert_eq!(set_res_id(ROOT, 1, 2, 3, true).unwrap().fs, 2);
    }

    #[test]
    fn setfsuid_ignores_unknown_ids() {
        assert_eq!(set_fs_id(U, 0, false), U);
        assert_eq!(set_fs_id(ROOT, 5, true).fs, 5);
        assert_eq!(set_fs_id(U, KEEP, false), U);
    }

    #[test]
    fn exec_of_setuid_and_setgid_files() {
        let user = Creds {
            uid: 1000,
            euid: 1000,
            suid: 1000,
            fsuid: 1000,
            gid: 100,
            egid: 100,
            sgid: 100,
            fsgid: 100,
            groups: vec![],
            ..Creds::default()
        };
        let (n, secure) = exec_creds(&user, 0o104755, 0, 0);
        assert_eq!((n.uid, n.euid, n.suid, n.fsuid), (1000, 0, 0, 0));
        assert!(secure);
        // setgid without group execute is a locking mark, not setgid.
        let (n, secure) = exec_creds(&user, 0o102745, 0, 7);
        assert_eq!(n.egid, 100);
        assert!(!secure);
        let (n, _) = exec_creds(&user, 0o102755, 0, 7);
        assert_eq!((n.egid, n.sgid, n.fsgid), (7, 7, 7));
        // Exec resets the saved ids to the effective ones.
        let mut odd = user.clone();
        odd.suid = 0;
        assert_eq!(exec_creds(&odd, 0o100755, 0, 0).0.suid, 1000);
    }

    #[test]
    fn signal_permission() {
        let a = Creds {
            uid: 1000,
            euid: 1000,
            suid: 1000,
            cap_effective: 0,
            ..Creds::ROOT
        };
        let half = Creds {
            uid: 1000,
            ..Creds::ROOT
        };
        assert!(!may_signal(&a, &Creds::ROOT));
        assert!(may_signal(&a, &half));
        assert!(may_signal(&Creds::ROOT, &a));
    }
}
