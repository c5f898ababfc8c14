//! What procfs shows of System V IPC: /proc/sysvipc/{shm,sem,msg} and the
//! kernel.{sem,msg*,shm*} tunables of /proc/sys/kernel.

use super::SHMMNI;
use super::{Limit, MSGMAX, MSGMNB, MSGMNI, SEMMNI, SEMMNS, SEMMSL, SEMOPM, SHMALL, SHMMAX};
use crate::kernel::errno::{Errno, KResult};

/// The /proc/sysvipc files: (name, text generator).
pub fn sysvipc_files() -> [(&'static str, fn() -> String); 3] {
    [
        ("shm", super::shm::proc_text),
        ("sem", super::sem::proc_text),
        ("msg", super::msg::proc_text),
    ]
}

/// The single-number tunables: (name, value, largest value root may set).
/// Linux bounds msgmax/msgmnb/msgmni at INT_MAX and the shm ones at
/// ULONG_MAX; shmmni and msgmni also at IPCMNI (32768).
pub fn limits() -> [(&'static str, &'static Limit, u64); 6] {
    [
        ("msgmax", &MSGMAX, i32::MAX as u64),
        ("msgmnb", &MSGMNB, i32::MAX as u64),
        ("msgmni", &MSGMNI, 32768),
        ("shmall", &SHMALL, u64::MAX),
        ("shmmax", &SHMMAX, u64::MAX),
        ("shmmni", &SHMMNI, 32768),
    ]
}

/// kernel.sem: SEMMSL, SEMMNS, SEMOPM and SEMMNI, tab separated.
pub fn sem_get() -> KResult<String> {
    Ok(format!(
        "{}\t{}\t{}\t{}\n",
        SEMMSL.get(),
        SEMMNS.get(),
        SEMOPM.get(),
        SEMMNI.get()
    ))
}

/// Writing kernel.sem: four numbers (Linux checks SEMMNI against IPCMNI
/// and the others against INT_MAX).
pub fn sem_set(s: &str) -> KResult<()> {
    let v: Vec<u64> = s
        .split_whitespace()
        .map(|w| w.parse::<u64>().map_err(|_| Errno::EINVAL))
        .collect::<KResult<_>>()?;
    if v.len() != 4 || v[3] > 32768 || v.iter().any(|&x| x > i32::MAX as u64) {
        return Err(Errno::EINVAL);
    }
    SEMMSL.set(v[0]);
    SEMMNS.set(v[1]);
    SEMOPM.set(v[2]);
    SEMMNI.set(v[3]);
    Ok(())
}
