//! prctl's capability options: the bounding set (PR_CAPBSET_READ/DROP),
//! the securebits (PR_GET/SET_SECUREBITS, PR_GET/SET_KEEPCAPS) and the
//! ambient set (PR_CAP_AMBIENT), with Linux's checks
//! (security/commoncap.c, cap_task_prctl). The sets and bits are in
//! `Creds`; exec and set*id act on them (`caps`, `cred`).

use super::caps::{
    cap_valid, own_capable, CAP_SETPCAP, SECBIT_KEEP_CAPS, SECBIT_KEEP_CAPS_LOCKED,
    SECBIT_NO_CAP_AMBIENT_RAISE,
};
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

/// SECBIT_NOROOT, _NO_SETUID_FIXUP, _KEEP_CAPS, _NO_CAP_AMBIENT_RAISE.
const SECURE_ALL_BITS: u32 = 0x55;
/// Their lock bits (each bit's one above it).
const SECURE_ALL_LOCKS: u32 = SECURE_ALL_BITS << 1;

/// prctl `op` if it is one of these (None: not ours).
pub fn prctl(t: &Arc<Task>, op: i32, a: [u64; 4]) -> Option<KResult<u64>> {
    Some(match op {
        PR_CAPBSET_READ if !cap_valid(a[0]) => Err(Errno::EINVAL),
        PR_CAPBSET_READ => Ok(t.creds().cap_bset >> a[0] & 1),
        PR_CAPBSET_DROP => {
            // CAP_SETPCAP before the number, as cap_prctl_drop.
            if !own_capable(t, CAP_SETPCAP) {
                Err(Errno::EPERM)
            } else if !cap_valid(a[0]) {
                Err(Errno::EINVAL)
            } else {
                t.tg().lock().creds.cap_bset &= !(1 << a[0]);
                Ok(0)
            }
        }
        PR_GET_SECUREBITS => Ok(t.creds().securebits as u64),
        PR_SET_SECUREBITS => set_securebits(t, a[0]),
        PR_GET_KEEPCAPS => Ok(t.creds().secure(SECBIT_KEEP_CAPS) as u64),
        PR_SET_KEEPCAPS => {
            let tg = t.tg();
            let mut g = tg.lock();
            if a[0] > 1 {
                Err(Errno::EINVAL)
            } else if g.creds.secure(SECBIT_KEEP_CAPS_LOCKED) {
                Err(Errno::EPERM)
            } else {
                g.creds.securebits &= !SECBIT_KEEP_CAPS;
                if a[0] == 1 {
                    g.creds.securebits |= SECBIT_KEEP_CAPS;
                }
                Ok(0)
            }
        }
        PR_CAP_AMBIENT => ambient(t, a),
        _ => return None,
    })
}

/// EPERM for a change of a locked bit, dropping a lock, an unknown bit,
/// or a caller without CAP_SETPCAP, in one test as Linux.
fn set_securebits(t: &Arc<Task>, new: u64) -> KResult<u64> {
    let setpcap = own_capable(t, CAP_SETPCAP);
    let tg = t.tg();
    let mut g = tg.lock();
    let old = g.creds.securebits as u64;
    let locked = (old & SECURE_ALL_LOCKS as u64) >> 1;
    if locked & (old ^ new) != 0
        || old & SECURE_ALL_LOCKS as u64 & !new != 0
        || new & !((SECURE_ALL_LOCKS | SECURE_ALL_BITS) as u64) != 0
        || !setpcap
    {
        return Err(Errno::EPERM);
    }
    g.creds.securebits = new as u32;
    Ok(0)
}

/// PR_CAP_AMBIENT: unused arguments must be 0 (EINVAL), the capability
/// known (EINVAL). RAISE needs the capability permitted and inheritable
/// and no SECBIT_NO_CAP_AMBIENT_RAISE (EPERM).
fn ambient(t: &Arc<Task>, a: [u64; 4]) -> KResult<u64> {
    let [sub, cap, x, y] = a;
    let tg = t.tg();
    let mut g = tg.lock();
    let c = &mut g.creds;
    if sub == PR_CAP_AMBIENT_CLEAR_ALL {
        if cap != 0 || x != 0 || y != 0 {
            return Err(Errno::EINVAL);
        }
        c.cap_ambient = 0;
        return Ok(0);
    }
    if x != 0 || y != 0 || !cap_valid(cap) {
        return Err(Errno::EINVAL);
    }
    let bit = 1u64 << cap;
    match sub {
        PR_CAP_AMBIENT_IS_SET => Ok((c.cap_ambient & bit != 0) as u64),
        PR_CAP_AMBIENT_RAISE => {
            if c.cap_permitted & c.cap_inheritable & bit == 0
                || c.secure(SECBIT_NO_CAP_AMBIENT_RAISE)
            {
                return Err(Errno::EPERM);
            }
            c.cap_ambient |= bit;
            Ok(0)
        }
        PR_CAP_AMBIENT_LOWER => {
            c.cap_ambient &= !bit;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}
