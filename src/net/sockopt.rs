//! The SOL_SOCKET options every socket has whatever its family (Linux's
//! sk_setsockopt/sk_getsockopt), for families that keep them here: flags
//! read back as 0 or 1, SO_SNDBUF doubled and bounded, SO_LINGER,
//! SO_RCVLOWAT, the timeouts (which `timeout` hands to blocking calls),
//! and the values kept for getsockopt only (SO_PRIORITY, SO_MARK, the
//! timestamp and busy-poll settings). The family handles what it gives a
//! meaning of its own (SO_RCVBUF, SO_PASSCRED, filters) before asking
//! here. Capabilities (SO_PRIORITY above 6, SO_MARK) are `sys_net`'s.

use crate::abi::{self, net::Linger, time::Timeval};
use crate::kernel::errno::{Errno, KResult};
use std::collections::BTreeMap;

const SO_SNDBUF: i32 = 7;
const SO_LINGER: i32 = 13;
const SO_SNDBUFFORCE: i32 = 32;
const SO_BSDCOMPAT: i32 = 14;
const SO_REUSEPORT: i32 = 15;
const SO_PEERCRED: i32 = 17;
const SO_RCVLOWAT: i32 = 18;
const SO_SNDLOWAT: i32 = 19;
const SO_RCVTIMEO: i32 = 20;
const SO_SNDTIMEO: i32 = 21;
const SO_TIMESTAMP: i32 = 29;
const SO_ACCEPTCONN: i32 = 30;
const SO_TIMESTAMPNS: i32 = 35;
const SO_TIMESTAMPING: i32 = 37;
const SO_PEEK_OFF: i32 = 42;
const SO_BUSY_POLL: i32 = 46;
const SO_MAX_PACING_RATE: i32 = 47;
const SO_INCOMING_CPU: i32 = 49;
const SO_ZEROCOPY: i32 = 60;

/// Options that are flags: SO_DEBUG, SO_REUSEADDR, SO_DONTROUTE,
/// SO_BROADCAST, SO_KEEPALIVE, SO_OOBINLINE, SO_NO_CHECK, SO_TIMESTAMP,
/// SO_TIMESTAMPNS, SO_RXQ_OVFL, SO_WIFI_STATUS, SO_NOFCS,
/// SO_LOCK_FILTER, SO_SELECT_ERR_QUEUE, SO_PREFER_BUSY_POLL.
const FLAGS: &[i32] = &[1, 2, 5, 6, 9, 10, 11, 29, 35, 40, 41, 43, 44, 45, 69];
/// Int options kept as given: SO_PRIORITY, SO_MARK, SO_TIMESTAMPING (its
/// flags), SO_BUSY_POLL, SO_INCOMING_CPU, SO_MAX_PACING_RATE.
const INTS: &[i32] = &[
    12,
    36,
    SO_TIMESTAMPING,
    SO_BUSY_POLL,
    SO_INCOMING_CPU,
    SO_MAX_PACING_RATE,
];
/// Read-only: SO_TYPE, SO_ERROR, SO_PEERCRED, SO_SNDLOWAT (fixed at 1),
/// SO_ACCEPTCONN, SO_PROTOCOL, SO_DOMAIN.
const READ_ONLY: &[i32] = &[3, 4, SO_PEERCRED, SO_SNDLOWAT, SO_ACCEPTCONN, 38, 39];

/// Linux's net.core.wmem_max and the smallest send buffer (SOCK_MIN_SNDBUF).
const WMEM_MAX: i32 = 212_992;
const MIN_SNDBUF: i32 = 4608;

/// One socket's generic options.
#[derive(Default)]
pub struct Generic {
    /// Flags and kept ints by option number (absent: 0 / the default).
    vals: BTreeMap<i32, i32>,
    sndbuf: Option<i32>,
    linger: (i32, i32),
    rcvlowat: Option<i32>,
    /// SO_RCVTIMEO, SO_SNDTIMEO (zero: none).
    timeouts: [Timeval; 2],
}

fn int(v: i32) -> Vec<u8> {
    abi::bytes(&v).to_vec()
}

impl Generic {
    /// setsockopt(SOL_SOCKET, `opt`): None when `opt` is not one of these.
    pub fn set(&mut self, opt: i32, val: &[u8]) -> Option<KResult<()>> {
        if !known(opt) && !READ_ONLY.contains(&opt) {
            return None;
        }
        Some(self.set_known(opt, val))
    }

    fn set_known(&mut self, opt: i32, val: &[u8]) -> KResult<()> {
        {
            match opt {
                SO_RCVTIMEO | SO_SNDTIMEO => {
                    let tv: Timeval = abi::from_prefix(val).ok_or(Errno::EINVAL)?;
                    if !(0..1_000_000).contains(&tv.tv_usec) {
                        return Err(Errno::EDOM);
                    }
                    // A time before zero means none (sock_set_timeout).
                    let tv = if tv.tv_sec < 0 {
                        Timeval::default()
                    } else {
                        tv
                    };
                    self.timeouts[(opt == SO_SNDTIMEO) as usize] = tv;
                    return Ok(());
                }
                SO_LINGER => {
                    let l: Linger = abi::from_prefix(val).ok_or(Errno::EINVAL)?;
                    self.linger = ((l.l_onoff != 0) as i32, l.l_linger);
                    return Ok(());
                }
                o if READ_ONLY.contains(&o) => return Err(Errno::ENOPROTOOPT),
                _ => {}
            }
            let v = abi::from_prefix::<i32>(val).ok_or(Errno::EINVAL)?;
            match opt {
                // SO_TIMESTAMPNS implies SO_TIMESTAMP's flag, which reads
                // back only without it; either off clears both
                // (sock_set_timestamp).
                SO_TIMESTAMP | SO_TIMESTAMPNS => {
                    let ns = v != 0 && opt == SO_TIMESTAMPNS;
                    self.vals.insert(SO_TIMESTAMP, (v != 0) as i32);
                    self.vals.insert(SO_TIMESTAMPNS, ns as i32);
                }
                o if FLAGS.contains(&o) => {
                    self.vals.insert(o, (v != 0) as i32);
                }
                SO_BUSY_POLL if v < 0 => return Err(Errno::EINVAL),
                o if INTS.contains(&o) => {
                    self.vals.insert(o, v);
                }
                SO_SNDBUF | SO_SNDBUFFORCE => {
                    // Only the forced size may pass wmem_max.
                    let max = if opt == SO_SNDBUF {
                        WMEM_MAX
                    } else {
                        i32::MAX / 2
                    };
                    self.sndbuf = Some((v.clamp(0, max) * 2).max(MIN_SNDBUF))
                }
                SO_RCVLOWAT => self.rcvlowat = Some(if v < 0 { i32::MAX } else { v.max(1) }),
                SO_BSDCOMPAT => {}
                // Port sharing is the internet families' (sk_is_inet).
                SO_REUSEPORT if v != 0 => return Err(Errno::EOPNOTSUPP),
                SO_REUSEPORT => {}
                SO_PEEK_OFF | SO_ZEROCOPY => return Err(Errno::EOPNOTSUPP),
                _ => return Err(Errno::ENOPROTOOPT),
            }
            Ok(())
        }
    }

    /// getsockopt(SOL_SOCKET, `opt`): None when `opt` is not one of these.
    pub fn get(&self, opt: i32) -> Option<KResult<Vec<u8>>> {
        let v = |o: i32| self.vals.get(&o).copied();
        Some(Ok(match opt {
            SO_TIMESTAMP => int((v(opt) == Some(1) && v(SO_TIMESTAMPNS) != Some(1)) as i32),
            o if FLAGS.contains(&o) => int(v(o).unwrap_or(0)),
            SO_TIMESTAMPING => [int(v(opt).unwrap_or(0)), int(0)].concat(),
            SO_MAX_PACING_RATE => abi::bytes(&v(opt).map_or(u64::MAX, |r| r as u64)).to_vec(),
            SO_INCOMING_CPU => int(v(opt).unwrap_or(-1)),
            o if INTS.contains(&o) => int(v(o).unwrap_or(0)),
            SO_SNDBUF => int(self.sndbuf.unwrap_or(WMEM_MAX)),
            SO_LINGER => abi::bytes(&Linger {
                l_onoff: self.linger.0,
                l_linger: self.linger.1,
            })
            .to_vec(),
            SO_RCVLOWAT => int(self.rcvlowat.unwrap_or(1)),
            SO_SNDLOWAT => int(1),
            SO_RCVTIMEO => abi::bytes(&self.timeouts[0]).to_vec(),
            SO_SNDTIMEO => abi::bytes(&self.timeouts[1]).to_vec(),
            SO_BSDCOMPAT | SO_REUSEPORT | SO_ZEROCOPY | SO_ACCEPTCONN => int(0),
            SO_PEEK_OFF => return Some(Err(Errno::EOPNOTSUPP)),
            _ => return None,
        }))
    }

    /// How long (ns) a blocking receive (`write`: send) may sleep.
    pub fn timeout(&self, write: bool) -> Option<i64> {
        let tv = self.timeouts[write as usize];
        let ns = tv
            .tv_sec
            .saturating_mul(1_000_000_000)
            .saturating_add(tv.tv_usec * 1000);
        (ns > 0).then_some(ns)
    }
}

/// Whether `opt` is one this module answers for.
fn known(opt: i32) -> bool {
    FLAGS.contains(&opt)
        || INTS.contains(&opt)
        || [
            SO_SNDBUF,
            SO_SNDBUFFORCE,
            SO_LINGER,
            SO_BSDCOMPAT,
            SO_REUSEPORT,
            SO_RCVLOWAT,
            SO_RCVTIMEO,
            SO_SNDTIMEO,
            SO_PEEK_OFF,
            SO_ZEROCOPY,
        ]
        .contains(&opt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_back_as_linux_keeps_them() {
        let mut g = Generic::default();
        assert_eq!(g.set(12, &7i32.to_ne_bytes()), Some(Ok(())));
        assert_eq!(g.get(12), Some(Ok(int(7))));
        assert_eq!(g.set(1, &7i32.to_ne_bytes()), Some(Ok(())));
        assert_eq!(g.get(1), Some(Ok(int(1))));
        assert_eq!(g.set(SO_SNDBUF, &7i32.to_ne_bytes()), Some(Ok(())));
        assert_eq!(g.get(SO_SNDBUF), Some(Ok(int(4608))));
        assert_eq!(g.set(3, &7i32.to_ne_bytes()), Some(Err(Errno::ENOPROTOOPT)));
        assert_eq!(
            g.set(SO_RCVTIMEO, &7i32.to_ne_bytes()),
            Some(Err(Errno::EINVAL))
        );
        assert_eq!(
            g.set(SO_REUSEPORT, &1i32.to_ne_bytes()),
            Some(Err(Errno::EOPNOTSUPP))
        );
        assert_eq!(g.set(200, &1i32.to_ne_bytes()), None);
        assert_eq!(g.get(200), None);
    }
}
