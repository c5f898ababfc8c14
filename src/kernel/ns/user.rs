//! User namespaces: uid/gid maps (what /proc/PID/uid_map, gid_map and
//! setgroups show and take, with Linux's rules for who may write them
//! and when) and the translation of kernel ids into a namespace's view.

use super::{Kind, Ns};
use crate::fs::file::{File, FileOps};
use crate::kernel::caps::{CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::{lock, Task};
use std::sync::{Arc, Mutex};

/// The id a namespace shows for a kernel id it does not map
/// (/proc/sys/kernel/overflowuid).
pub const OVERFLOW_ID: u32 = 65534;
/// Linux's UID_GID_MAP_MAX_EXTENTS.
const MAX_EXTENTS: usize = 340;
/// Nesting limit: creating a 33rd level fails with EUSERS.
const MAX_LEVEL: u32 = 32;

/// One map line: ids `first..first+count` in the namespace are kernel ids
/// `lower..lower+count` (Linux stores the lower ids translated to the
/// kernel's, as here).
#[derive(Clone, Copy, Debug)]
pub struct Extent {
    pub first: u32,
    pub lower: u32,
    pub count: u32,
}

/// A user namespace's own state.
pub struct UserNs {
    /// The effective uid of its creator (NS_GET_OWNER_UID).
    pub owner_uid: u32,
    /// 0 for the initial namespace.
    pub level: u32,
    pub uid_map: Mutex<Vec<Extent>>,
    pub gid_map: Mutex<Vec<Extent>>,
    /// setgroups(2) may be allowed once gid_map is written ("allow"), or
    /// never ("deny").
    pub setgroups_allowed: Mutex<bool>,
}

impl UserNs {
    pub fn initial() -> UserNs {
        let all = vec![Extent {
            first: 0,
            lower: 0,
            count: u32::MAX,
        }];
        UserNs {
            owner_uid: 0,
            level: 0,
            uid_map: Mutex::new(all.clone()),
            gid_map: Mutex::new(all),
            setgroups_allowed: Mutex::new(true),
        }
    }
}

/// A new user namespace under `parent`, made by a task with effective
/// ids `euid`/`egid`: EUSERS past 32 levels, EPERM when the creator's ids
/// mean nothing in the parent (Linux's create_user_ns).
pub fn create(parent: &Arc<Ns>, euid: u32, egid: u32) -> KResult<Arc<Ns>> {
    let p = parent.userns().ok_or(Errno::EINVAL)?;
    if p.level >= MAX_LEVEL {
        return Err(Errno::EUSERS);
    }
    if map_down(parent, true, euid).is_none() || map_down(parent, false, egid).is_none() {
        return Err(Errno::EPERM);
    }
    let u = UserNs {
        owner_uid: euid,
        level: p.level + 1,
        uid_map: Mutex::new(Vec::new()),
        gid_map: Mutex::new(Vec::new()),
        setgroups_allowed: Mutex::new(*lock(&p.setgroups_allowed)),
    };
    Ok(Ns::new(
        Kind::User,
        Some(parent.clone()),
        super::Data::User(u),
    ))
}

fn map_of(u: &UserNs, uid: bool) -> &Mutex<Vec<Extent>> {
    if uid {
        &u.uid_map
    } else {
        &u.gid_map
    }
}

/// Kernel id `kid` as namespace `ns` sees it (None: unmapped).
pub fn map_down(ns: &Arc<Ns>, uid: bool, kid: u32) -> Option<u32> {
    translate(ns, uid, kid, |e| (e.lower, e.first))
}

/// Namespace `ns`'s id `id` as a kernel id (None: unmapped).
pub fn map_up(ns: &Arc<Ns>, uid: bool, id: u32) -> Option<u32> {
    translate(ns, uid, id, |e| (e.first, e.lower))
}

/// `id` through the extent whose `from` range holds it, into its `to`
/// range (`ends` gives an extent's (from, to) starts).
fn translate(ns: &Arc<Ns>, uid: bool, id: u32, ends: fn(&Extent) -> (u32, u32)) -> Option<u32> {
    let u = ns.userns()?;
    let m = lock(map_of(u, uid));
    m.iter().find_map(|e| {
        let (from, to) = ends(e);
        (id >= from && id - from < e.count).then(|| to + (id - from))
    })
}

/// `kid` as `t` sees it, or the overflow id (Linux's from_kuid_munged).
pub fn show_id(t: &Task, uid: bool, kid: u32) -> u32 {
    map_down(&super::of(t).user, uid, kid).unwrap_or(OVERFLOW_ID)
}

/// May setgroups(2) be used in `ns` (Linux's userns_may_setgroups).
pub fn may_setgroups(ns: &Arc<Ns>) -> bool {
    ns.userns()
        .is_some_and(|u| !lock(&u.gid_map).is_empty() && *lock(&u.setgroups_allowed))
}

/// The text of a map as Linux's uid_m_show prints it, the lower ids as
/// the parent namespace sees them.
fn show_map(ns: &Arc<Ns>, uid: bool) -> String {
    let Some(u) = ns.userns() else {
        return String::new();
    };
    let m = lock(map_of(u, uid)).clone();
    m.iter()
        .map(|e| {
            let lower = match &ns.owner {
                Some(p) => map_down(p, uid, e.lower).unwrap_or(e.lower),
                None => e.lower,
            };
            format!("{:>10} {:>10} {:>10}\n", e.first, lower, e.count)
        })
        .collect()
}

/// Parse map lines "first lower count": EINVAL for anything malformed,
/// empty, zero-length, wrapping, overlapping or too many.
fn parse_map(text: &str) -> KResult<Vec<Extent>> {
    let mut v: Vec<Extent> = Vec::new();
    for line in text.split('\n') {
        if line.is_empty() {
            continue;
        }
        let w: Vec<&str> = line.split_ascii_whitespace().collect();
        if w.len() != 3 {
            return Err(Errno::EINVAL);
        }
        let num = |s: &str| s.parse::<u32>().map_err(|_| Errno::EINVAL);
        let e = Extent {
            first: num(w[0])?,
            lower: num(w[1])?,
            count: num(w[2])?,
        };
        // Zero-length or wrapping extents, and the invalid id -1.
        if e.count == 0
            || e.first == u32::MAX
            || e.lower == u32::MAX
            || e.first.checked_add(e.count).is_none()
            || e.lower.checked_add(e.count).is_none()
        {
            return Err(Errno::EINVAL);
        }
        let meets = |a: u32, b: u32, n: u32, m: u32| a < b + m && b < a + n;
        if v.iter().any(|o| {
            meets(o.first, e.first, o.count, e.count) || meets(o.lower, e.lower, o.count, e.count)
        }) {
            return Err(Errno::EINVAL);
        }
        if v.len() == MAX_EXTENTS {
            return Err(Errno::EINVAL);
        }
        v.push(e);
    }
    if v.is_empty() {
        return Err(Errno::EINVAL);
    }
    Ok(v)
}

/// A write of `text` at offset `pos` to namespace `ns`'s uid (`uid`) or
/// gid map by `t`, in the order of Linux's map_write.
fn write_map(t: &Task, ns: &Arc<Ns>, uid: bool, pos: u64, text: &[u8]) -> KResult<()> {
    let u = ns.userns().ok_or(Errno::EINVAL)?;
    let parent = ns.owner.clone().ok_or(Errno::EPERM)?;
    // Only the namespace itself or its parent may write (proc_uid_map_write).
    let mine = super::of(t).user;
    if !Arc::ptr_eq(&mine, ns) && !Arc::ptr_eq(&mine, &parent) {
        return Err(Errno::EPERM);
    }
    if pos != 0 || text.len() >= 4096 {
        return Err(Errno::EINVAL);
    }
    let text = std::str::from_utf8(text).map_err(|_| Errno::EINVAL)?;
    let mut map = lock(map_of(u, uid));
    if !map.is_empty() {
        return Err(Errno::EPERM);
    }
    if !super::capable_in(t, ns, CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    let new = parse_map(text)?;
    let c = t.creds();
    // One id, the writer's own, by the namespace's owner: no privilege
    // needed (for gids only once setgroups is denied).
    let own = new.len() == 1 && new[0].count == 1 && u.owner_uid == c.euid && {
        let k = map_up(&parent, uid, new[0].lower);
        if uid {
            k == Some(c.euid)
        } else {
            !*lock(&u.setgroups_allowed) && k == Some(c.egid)
        }
    };
    // Otherwise CAP_SETUID/CAP_SETGID over the parent namespace.
    let setid = if uid { CAP_SETUID } else { CAP_SETGID };
    if !own && !super::capable_in(t, &parent, setid) {
        return Err(Errno::EPERM);
    }
    // The lower ids must all mean something in the parent.
    let mut kernel = Vec::with_capacity(new.len());
    for e in new {
        let lo = map_up(&parent, uid, e.lower).ok_or(Errno::EPERM)?;
        let hi = map_up(&parent, uid, e.lower + (e.count - 1)).ok_or(Errno::EPERM)?;
        if hi - lo != e.count - 1 {
            return Err(Errno::EPERM);
        }
        kernel.push(Extent { lower: lo, ..e });
    }
    *map = kernel;
    Ok(())
}

/// A write to /proc/PID/setgroups: "allow" or "deny"; deny is for good,
/// and cannot follow a written gid_map (proc_setgroups_write).
fn write_setgroups(t: &Task, ns: &Arc<Ns>, pos: u64, text: &[u8]) -> KResult<()> {
    let u = ns.userns().ok_or(Errno::EINVAL)?;
    if !super::capable_in(t, ns, CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    if pos != 0 || text.len() >= 8 {
        return Err(Errno::EINVAL);
    }
    let allow = match std::str::from_utf8(text).map_err(|_| Errno::EINVAL)?.trim() {
        "allow" => true,
        "deny" => false,
        _ => return Err(Errno::EINVAL),
    };
    let mut a = lock(&u.setgroups_allowed);
    if allow {
        if !*a {
            return Err(Errno::EPERM);
        }
    } else {
        if !lock(&u.gid_map).is_empty() {
            return Err(Errno::EPERM);
        }
        *a = false;
    }
    Ok(())
}

/// Which /proc/PID file of a user namespace.
#[derive(Clone, Copy)]
pub enum MapFile {
    Uid,
    Gid,
    Setgroups,
}

/// An open uid_map, gid_map or setgroups of namespace `ns`: the text at
/// open, and writes that go to the namespace.
pub struct OpenMap {
    ns: Arc<Ns>,
    which: MapFile,
    text: Vec<u8>,
}

/// Open `which` of the user namespace `ns`.
pub fn open(ns: Arc<Ns>, which: MapFile) -> Arc<dyn FileOps> {
    let text = match which {
        MapFile::Uid => show_map(&ns, true),
        MapFile::Gid => show_map(&ns, false),
        MapFile::Setgroups => {
            let allowed = ns.userns().is_some_and(|u| *lock(&u.setgroups_allowed));
            if allowed { "allow\n" } else { "deny\n" }.to_string()
        }
    };
    Arc::new(OpenMap {
        ns,
        which,
        text: text.into_bytes(),
    })
}

impl FileOps for OpenMap {
    fn read(&self, f: &File, buf: &mut [u8]) -> KResult<usize> {
        let mut pos = f.lock_pos();
        let n = self.pread(f, buf, *pos)?;
        *pos += n as u64;
        Ok(n)
    }
    fn pread(&self, _f: &File, buf: &mut [u8], off: u64) -> KResult<usize> {
        let p = (off as usize).min(self.text.len());
        let n = buf.len().min(self.text.len() - p);
        buf[..n].copy_from_slice(&self.text[p..p + n]);
        Ok(n)
    }
    fn seek(&self, f: &File, off: i64, whence: u32) -> KResult<u64> {
        let mut pos = f.lock_pos();
        let base = match whence {
            0 => 0,
            1 => *pos as i64,
            _ => return Err(Errno::EINVAL),
        };
        let n = base
            .checked_add(off)
            .filter(|&n| n >= 0)
            .ok_or(Errno::EINVAL)?;
        *pos = n as u64;
        Ok(n as u64)
    }
    fn write_task(&self, f: &File, t: &Arc<Task>, buf: &[u8]) -> KResult<usize> {
        let mut pos = f.lock_pos();
        match self.which {
            MapFile::Uid => write_map(t, &self.ns, true, *pos, buf)?,
            MapFile::Gid => write_map(t, &self.ns, false, *pos, buf)?,
            MapFile::Setgroups => write_setgroups(t, &self.ns, *pos, buf)?,
        }
        *pos += buf.len() as u64;
        Ok(buf.len())
    }
}
