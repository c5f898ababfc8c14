//! Who may look into another process (Linux's __ptrace_may_access with
//! PTRACE_MODE_READ_FSCREDS, kernel/ptrace.c), and who owns its /proc
//! files (task_dump_owner, fs/proc/base.c). procfs guards environ, maps,
//! fd/, exe, cwd and root with it: they show another process's memory,
//! open files and environment (passwords in `DB_PASSWORD=` and the like).

use super::cred::Creds;
use super::errno::{Errno, KResult};
use super::task::{self, Pid};

/// What the access decision needs to know about one side.
pub struct Party<'a> {
    pub tgid: Pid,
    pub creds: &'a Creds,
    /// The process's dumpable flag (Linux keeps it on the mm).
    pub dumpable: bool,
}

/// May `caller` read `target` as Linux's ptrace_may_access(target,
/// PTRACE_MODE_READ_FSCREDS) decides? Its own process always; otherwise
/// the caller's fsuid and fsgid must be all of the target's real,
/// effective and saved ids, or the caller has CAP_SYS_PTRACE; then a non-dumpable target still needs CAP_SYS_PTRACE; and
/// commoncap refuses a caller whose permitted capabilities lack some of
/// the target's, again unless it has CAP_SYS_PTRACE.
pub fn may_read_fscreds(caller: &Party, target: &Party) -> bool {
    if caller.tgid == target.tgid {
        return true;
    }
    let (c, t) = (caller.creds, target.creds);
    let privileged = c.capable(super::caps::CAP_SYS_PTRACE);
    let same_ids = [t.uid, t.euid, t.suid].iter().all(|&u| u == c.fsuid)
        && [t.gid, t.egid, t.sgid].iter().all(|&g| g == c.fsgid);
    if !same_ids && !privileged {
        return false;
    }
    if !target.dumpable && !privileged {
        return false;
    }
    t.cap_permitted & !c.cap_permitted == 0 || privileged
}

/// The ptrace read check from the process making the current syscall
/// (`caller`) on process `target`, as procfs answers it: EACCES when
/// refused, ENOENT when the target is gone. The kernel itself (no
/// caller) is refused too: nothing in it reads these files.
pub fn check_read(caller: Option<Pid>, target: Pid) -> KResult<()> {
    let caller = caller.ok_or(Errno::EACCES)?;
    let t = task::group(target).ok_or(Errno::ENOENT)?;
    let (t_creds, t_dumpable) = {
        let g = t.lock();
        (g.creds.clone(), g.dumpable)
    };
    let c_creds = task::group(caller)
        .ok_or(Errno::EACCES)?
        .lock()
        .creds
        .clone();
    let allowed = may_read_fscreds(
        &Party {
            tgid: caller,
            creds: &c_creds,
            dumpable: true,
        },
        &Party {
            tgid: target,
            creds: &t_creds,
            dumpable: t_dumpable,
        },
    );
    if allowed {
        Ok(())
    } else {
        Err(Errno::EACCES)
    }
}

/// The check for attaching or touching another process's memory
/// (PTRACE_MODE_ATTACH_REALCREDS: ptrace attach, process_vm_readv/writev,
/// /proc/PID/mem): as `may_read_fscreds`, but with the caller's real ids
/// in place of its filesystem ids. EPERM when refused, ESRCH when either
/// process is gone.
pub fn check_attach(caller: Pid, target: Pid) -> KResult<()> {
    let t = task::group(target).ok_or(Errno::ESRCH)?;
    let (t_creds, t_dumpable) = {
        let g = t.lock();
        (g.creds.clone(), g.dumpable)
    };
    let mut c_creds = task::group(caller)
        .ok_or(Errno::ESRCH)?
        .lock()
        .creds
        .clone();
    c_creds.fsuid = c_creds.uid;
    c_creds.fsgid = c_creds.gid;
    let caller = Party {
        tgid: caller,
        creds: &c_creds,
        dumpable: true,
    };
    let target = Party {
        tgid: target,
        creds: &t_creds,
        dumpable: t_dumpable,
    };
    if may_read_fscreds(&caller, &target) {
        Ok(())
    } else {
        Err(Errno::EPERM)
    }
}

/// Who owns a /proc/PID file of `mode` (Linux's task_dump_owner): the
/// process's effective uid and gid; but for a non-dumpable process root,
/// except on the world-readable directories (mode 0555), which keep
/// showing the effective ids as they always did for `ps`.
pub fn dump_owner(target: Pid, is_public_dir: bool) -> (u32, u32) {
    let Some(g) = task::group(target) else {
        return (0, 0);
    };
    let g = g.lock();
    if g.dumpable || is_public_dir {
        (g.creds.euid, g.creds.egid)
    } else {
        (0, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(uid: u32, gid: u32) -> Creds {
        crate::fs::permission::tests::user(uid, gid, &[])
    }

    fn party(tgid: Pid, creds: &Creds, dumpable: bool) -> Party<'_> {
        Party {
            tgid,
            creds,
            dumpable,
        }
    }

    #[test]
    fn same_user_and_dumpable_or_root() {
        let nobody = ids(65534, 65534);
        let root = Creds::ROOT;
        let me = party(10, &nobody, true);
        assert!(may_read_fscreds(&me, &party(11, &nobody, true)));
        assert!(!may_read_fscreds(&me, &party(11, &root, true)));
        // Not dumpable: only its own process and root.
        assert!(!may_read_fscreds(&me, &party(11, &nobody, false)));
        assert!(may_read_fscreds(&me, &party(10, &nobody, false)));
        assert!(may_read_fscreds(
            &party(1, &root, true),
            &party(11, &nobody, false)
        ));
    }

    #[test]
    fn every_target_id_must_be_the_callers_fs_id() {
        let user = ids(1000, 1000);
        let me = party(10, &user, true);
        // A setuid-root program run by the user (saved and effective 0).
        let mut setuid = ids(1000, 1000);
        setuid.euid = 0;
        setuid.suid = 0;
        assert!(!may_read_fscreds(&me, &party(11, &setuid, true)));
        // Same uids, another group.
        assert!(!may_read_fscreds(&me, &party(11, &ids(1000, 1001), true)));
        // The caller's fsuid counts, not its effective uid.
        let mut fs_other = ids(1000, 1000);
        fs_other.fsuid = 1001;
        assert!(!may_read_fscreds(
            &party(10, &fs_other, true),
            &party(11, &user, true)
        ));
    }

    #[test]
    fn fsuid_root_without_euid_root_is_not_privileged() {
        // Real uid 0, effective 1000 (fsuid 1000): not CAP_SYS_PTRACE.
        let mut dropped = ids(1000, 1000);
        dropped.uid = 0;
        dropped.suid = 0;
        assert!(!may_read_fscreds(
            &party(10, &dropped, true),
            &party(11, &Creds::ROOT, true)
        ));
    }
}
