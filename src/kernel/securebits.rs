//! prctl's capability options: the bounding set (PR_CAPBSET_READ/DROP),
//! the securebits (PR_GET/SET_SECUREBITS, PR_GET/SET_KEEPCAPS) and the ambient set
//! (PR_CAP_AMBIENT), with Linux's checks (security/commoncap.c,
//! cap_task_prctl).
//!
//! Capabilities here are root-ness (`cred`), so the bounding set and the
//! bits are kept, inherited and reported (CapBnd in /proc/PID/status),
//! but what they change in Linux's exec and set*id fix-ups (a root's exec
//! gets only the bounding set; SECBIT_NOROOT, _NO_SETUID_FIXUP,
//! _KEEP_CAPS) is not modelled; the ambient set is always empty, as it is
//! for every process whose inheritable set is (raising needs the
//! capability inheritable).

use super::cred::CAP_FULL;
use super::errno::{Errno, KResult};
use super::task::Task;
use std::sync::Arc;

const PR_GET_KEEPCAPS: i32 = 7;
const PR_SET_KEEPCAPS: i32 = 8;
const PR_CAPBSET_READ: i32 = 23;
const PR_CAPBSET_DROP: i32 = 24;
const PR_GET_SECUREBITS: i32 = 27;
const PR_SET_SECUREBITS: i32 = 28;
const PR_CAP_AMBIENT: i32 = 47;
const PR_CAP_AMBIENT_IS_SET: u64 = 1;
const PR_CAP_AMBIENT_RAISE: u64 = 2;
const PR_CAP_AMBIENT_LOWER: u64 = 3;
const PR_CAP_AMBIENT_CLEAR_ALL: u64 = 4;

pub const SECBIT_KEEP_CAPS: u32 = 1 << 4;
/// SECBIT_NOROOT, _NO_SETUID_FIXUP, _KEEP_CAPS, _NO_CAP_AMBIENT_RAISE.
const SECURE_ALL_BITS: u32 = 0x55;
/// Their lock bits (each bit's one above it).
const SECURE_ALL_LOCKS: u32 = SECURE_ALL_BITS << 1;

/// A known capability number (Linux's cap_valid).
fn cap_valid(cap: u64) -> bool {
    cap < 64 && CAP_FULL & (1 << cap) != 0
}

/// prctl `op` if it is one of these (None: not ours).
pub fn prctl(t: &Arc<Task>, op: i32, a: [u64; 4]) -> Option<KResult<u64>> {
    Some(match op {
        PR_CAPBSET_READ if !cap_valid(a[0]) => Err(Errno::EINVAL),
        PR_CAPBSET_READ => Ok(t.tg().lock().cap_bset >> a[0] & 1),
        PR_CAPBSET_DROP => {
            // CAP_SETPCAP before the number, as cap_prctl_drop.
            let tg = t.tg();
            let mut g = tg.lock();
            if !g.creds.capable() {
                Err(Errno::EPERM)
            } else if !cap_valid(a[0]) {
                Err(Errno::EINVAL)
            } else {
                g.cap_bset &= !(1 << a[0]);
                Ok(0)
            }
        }
        PR_GET_KEEPCAPS => Ok((t.tg().lock().securebits & SECBIT_KEEP_CAPS != 0) as u64),
        PR_SET_KEEPCAPS => set_keepcaps(t, a[0]),
        PR_GET_SECUREBITS => Ok(t.tg().lock().securebits as u64),
        PR_SET_SECUREBITS => set_securebits(t, a[0]),
        PR_CAP_AMBIENT => ambient(a),
        _ => return None,
    })
}

/// EPERM for a change of a locked bit, dropping a lock, an unknown bit,
/// or a caller without CAP_SETPCAP, in one test as Linux.
fn set_securebits(t: &Arc<Task>, new: u64) -> KResult<u64> {
    let tg = t.tg();
    let mut g = tg.lock();
    let old = g.securebits as u64;
    let locked = (old & SECURE_ALL_LOCKS as u64) >> 1;
    if locked & (old ^ new) != 0
        || old & SECURE_ALL_LOCKS as u64 & !new != 0
        || new & !((SECURE_ALL_LOCKS | SECURE_ALL_BITS) as u64) != 0
        || !g.creds.capable()
    {
        return Err(Errno::EPERM);
    }
    g.securebits = new as u32;
    Ok(0)
}

/// PR_SET_KEEPCAPS: 0 or 1 (EINVAL), not while the bit is locked
/// (EPERM); no capability needed (libcap-ng's capng_change_id sets it
/// before dropping root, dbus-daemon's way to its user).
fn set_keepcaps(t: &Arc<Task>, on: u64) -> KResult<u64> {
    if on > 1 {
        return Err(Errno::EINVAL);
    }
    let tg = t.tg();
    let mut g = tg.lock();
    if g.securebits & (SECBIT_KEEP_CAPS << 1) != 0 {
        return Err(Errno::EPERM);
    }
    if on == 1 {
        g.securebits |= SECBIT_KEEP_CAPS;
    } else {
        g.securebits &= !SECBIT_KEEP_CAPS;
    }
    Ok(0)
}

/// PR_CAP_AMBIENT: unused arguments must be 0 (EINVAL), the capability
/// known (EINVAL). The set is empty: IS_SET says 0, LOWER and CLEAR_ALL
/// have nothing to drop, RAISE is EPERM (the capability is not in the
/// inheritable set, which is empty here).
fn ambient(a: [u64; 4]) -> KResult<u64> {
    let [sub, cap, x, y] = a;
    if sub == PR_CAP_AMBIENT_CLEAR_ALL {
        if cap != 0 || x != 0 || y != 0 {
            return Err(Errno::EINVAL);
        }
        return Ok(0);
    }
    if x != 0 || y != 0 || !cap_valid(cap) {
        return Err(Errno::EINVAL);
    }
    match sub {
        PR_CAP_AMBIENT_IS_SET | PR_CAP_AMBIENT_LOWER => Ok(0),
        PR_CAP_AMBIENT_RAISE => Err(Errno::EPERM),
        _ => Err(Errno::EINVAL),
    }
}
