//! Which seccomp actions leave an audit record (kernel.seccomp.
//! actions_logged, root-writable) and which exist (actions_avail), with
//! Linux's names, and the record itself: Linux's seccomp_log.

use super::Task;
use crate::abi::seccomp::*;
use crate::kernel::errno::{Errno, KResult};
use std::sync::atomic::{AtomicU32, Ordering};

/// The actions by name, in Linux's order, with their actions_logged
/// bits (SECCOMP_LOG_*).
const NAMES: [(&str, u32); 8] = [
    ("kill_process", SECCOMP_RET_KILL_PROCESS),
    ("kill_thread", SECCOMP_RET_KILL_THREAD),
    ("trap", SECCOMP_RET_TRAP),
    ("errno", SECCOMP_RET_ERRNO),
    ("user_notif", SECCOMP_RET_USER_NOTIF),
    ("trace", SECCOMP_RET_TRACE),
    ("log", SECCOMP_RET_LOG),
    ("allow", SECCOMP_RET_ALLOW),
];

/// The actions_logged bit of action `a` (an unknown action counts as
/// KILL_PROCESS, as it acts as one).
fn bit(a: u32) -> u32 {
    let i = NAMES.iter().position(|&(_, x)| x == a).unwrap_or(0);
    1 << i
}

/// Every action but ALLOW is logged by default.
static LOGGED: AtomicU32 = AtomicU32::new(0x7f);

/// kernel.seccomp.actions_avail: every action.
pub fn actions_avail() -> String {
    let names: Vec<&str> = NAMES.iter().map(|&(n, _)| n).collect();
    format!("{}\n", names.join(" "))
}

/// kernel.seccomp.actions_logged, read.
pub fn actions_logged() -> String {
    let l = LOGGED.load(Ordering::Relaxed);
    let names: Vec<&str> = NAMES
        .iter()
        .enumerate()
        .filter(|&(i, _)| l & (1 << i) != 0)
        .map(|(_, &(n, _))| n)
        .collect();
    format!("{}\n", names.join(" "))
}

/// kernel.seccomp.actions_logged, written: names separated by spaces;
/// an unknown name, or "allow", is EINVAL and changes nothing.
pub fn set_actions_logged(s: &str) -> KResult<()> {
    let mut l = 0;
    for w in s.split(' ').take_while(|w| !w.is_empty()) {
        let a = NAMES.iter().find(|&&(n, _)| n == w).ok_or(Errno::EINVAL)?.1;
        l |= bit(a);
    }
    if l & bit(SECCOMP_RET_ALLOW) != 0 {
        return Err(Errno::EINVAL);
    }
    LOGGED.store(l, Ordering::Relaxed);
    Ok(())
}

/// Linux's seccomp_log: kills and RET_LOG are recorded when
/// actions_logged has them, TRAP/ERRNO/TRACE/USER_NOTIF only when the
/// filter also asked (`requested`, SECCOMP_FILTER_FLAG_LOG). The record
/// goes to the kernel log below the console level (dmesg shows it).
pub fn record(t: &Task, data: &SeccompData, sig: i32, action: u32, requested: bool) {
    let wanted = LOGGED.load(Ordering::Relaxed) & bit(action) != 0;
    let needs_request = matches!(
        action,
        SECCOMP_RET_TRAP | SECCOMP_RET_ERRNO | SECCOMP_RET_TRACE | SECCOMP_RET_USER_NOTIF
    );
    if action == SECCOMP_RET_ALLOW || !wanted || (needs_request && !requested) {
        return;
    }
    let c = t.creds();
    let msg = format!(
        "audit: type=1326 pid={} uid={} gid={} comm=\"{}\" sig={sig} arch={:x} syscall={} compat=0 ip={:#x} code={:#x}",
        t.tgid(),
        c.uid,
        c.gid,
        t.lock().comm,
        data.arch,
        data.nr,
        data.instruction_pointer,
        action,
    );
    crate::kernel::printk::printk_level(7, &msg);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_logged_round_trips_and_refuses_allow() {
        assert_eq!(
            actions_logged(),
            "kill_process kill_thread trap errno user_notif trace log\n"
        );
        assert_eq!(set_actions_logged("trap allow"), Err(Errno::EINVAL));
        assert_eq!(set_actions_logged("bogus"), Err(Errno::EINVAL));
        set_actions_logged("kill_process log").unwrap();
        assert_eq!(actions_logged(), "kill_process log\n");
        set_actions_logged("kill_process kill_thread trap errno user_notif trace log").unwrap();
        assert_eq!(
            actions_avail(),
            "kill_process kill_thread trap errno user_notif trace log allow\n"
        );
    }
}
