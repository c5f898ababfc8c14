//! Kernel keyrings (add_key, request_key, keyctl): "user", "logon" and
//! "keyring" keys in the thread, process, session, user and user-session
//! keyrings, with Linux's possession rule, permission bits and errnos.
//! request_key finds keys but never calls out to /sbin/request-key.

mod store;

use crate::abi::uaccess::UserSlice;
use crate::kernel::cred::Creds;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::{Pid, Task, Tid};
use std::sync::Arc;
use store::{
    allowed, default_perm, store, Guard, Type, ALL, LINK, READ, SEARCH, SETATTR, VIEW, WRITE,
};

const KEY_SPEC_THREAD_KEYRING: i32 = -1;
const KEY_SPEC_PROCESS_KEYRING: i32 = -2;
const KEY_SPEC_SESSION_KEYRING: i32 = -3;
const KEY_SPEC_USER_KEYRING: i32 = -4;
const KEY_SPEC_USER_SESSION_KEYRING: i32 = -5;
const KEY_SPEC_GROUP_KEYRING: i32 = -6;
const KEY_SPEC_REQKEY_AUTH_KEY: i32 = -7;
const KEY_SPEC_REQUESTOR_KEYRING: i32 = -8;

/// The largest payload add_key and KEYCTL_UPDATE take, and a user key's.
const MAX_PAYLOAD: usize = 1024 * 1024 - 1;
const MAX_USER_PAYLOAD: usize = 32767;
/// INVALID_GID as userspace sees it (the overflow gid).
const NO_GID: u32 = 65534;

/// Who is asking.
struct Caller {
    tid: Tid,
    tgid: Pid,
    c: Creds,
}

fn caller(t: &Task) -> Caller {
    Caller {
        tid: t.tid,
        tgid: t.tgid(),
        c: t.creds(),
    }
}

/// How a key is looked up.
#[derive(Clone, Copy)]
struct Look {
    /// Make the special keyring if the process has none.
    create: bool,
    /// Revoked keys are found too (unlink, and revoking's checks).
    revoked_ok: bool,
    need: u32,
}

const fn look(create: bool, need: u32) -> Look {
    Look {
        create,
        revoked_ok: false,
        need,
    }
}

/// A new keyring `desc` owned by the caller with `perm`.
fn new_ring(s: &mut Guard, who: &Caller, desc: &str, perm: u32) -> i32 {
    s.add(Type::Keyring, desc, Vec::new(), &who.c, perm)
}

/// The caller's user keyring and user session keyring ("_uid.N",
/// "_uid_ses.N"), made on first use, the second linking the first.
fn user_rings(s: &mut Guard, who: &Caller) -> (i32, i32) {
    let uid = who.c.uid;
    if let Some(&r) = s.user.get(&uid) {
        return r;
    }
    let owner = Creds {
        fsuid: uid,
        fsgid: NO_GID,
        ..who.c.clone()
    };
    let perm = (ALL & !SETATTR) << 24 | ALL << 16;
    let u = s.add(
        Type::Keyring,
        &format!("_uid.{uid}"),
        Vec::new(),
        &owner,
        perm,
    );
    let us = s.add(
        Type::Keyring,
        &format!("_uid_ses.{uid}"),
        Vec::new(),
        &owner,
        perm,
    );
    let _ = s.link(us, u);
    s.user.insert(uid, (u, us));
    (u, us)
}

/// The caller's session keyring; one with none is given its user
/// session keyring, or with `create` a new anonymous "_ses" keyring, as
/// Linux's lookup_user_key.
fn session(s: &mut Guard, who: &Caller, create: bool) -> i32 {
    if let Some(&r) = s.session.get(&who.tgid) {
        return r;
    }
    let r = if create {
        new_ring(s, who, "_ses", ALL << 24 | (VIEW | READ) << 16)
    } else {
        user_rings(s, who).1
    };
    s.session.insert(who.tgid, r);
    r
}

/// Linux's lookup_user_key: the key `id` names (a serial or a
/// KEY_SPEC_*), EINVAL for a bad id, ENOKEY for none, EACCES without
/// `l.need`, EKEYREVOKED for a revoked key. Returns the serial and
/// whether the caller possesses it.
fn lookup(s: &mut Guard, who: &Caller, id: i32, l: Look) -> KResult<(i32, bool)> {
    let (serial, possessed) = match id {
        KEY_SPEC_THREAD_KEYRING => match s.thread.get(&who.tid) {
            Some(&r) => (r, true),
            None if l.create => {
                let r = new_ring(s, who, "_tid", ALL << 24 | VIEW << 16);
                s.thread.insert(who.tid, r);
                (r, true)
            }
            None => return Err(Errno::ENOKEY),
        },
        KEY_SPEC_PROCESS_KEYRING => match s.process.get(&who.tgid) {
            Some(&r) => (r, true),
            None if l.create => {
                let r = new_ring(s, who, "_pid", ALL << 24 | VIEW << 16);
                s.process.insert(who.tgid, r);
                (r, true)
            }
            None => return Err(Errno::ENOKEY),
        },
        KEY_SPEC_SESSION_KEYRING => (session(s, who, l.create), true),
        KEY_SPEC_USER_KEYRING => (user_rings(s, who).0, true),
        KEY_SPEC_USER_SESSION_KEYRING => (user_rings(s, who).1, true),
        KEY_SPEC_GROUP_KEYRING => return Err(Errno::EINVAL),
        KEY_SPEC_REQKEY_AUTH_KEY | KEY_SPEC_REQUESTOR_KEYRING => return Err(Errno::ENOKEY),
        i if i < 1 => return Err(Errno::EINVAL),
        i => {
            s.get(i)?;
            let p = s.possessed(who.tid, who.tgid, &who.c).contains(&i);
            (i, p)
        }
    };
    let k = s.get(serial)?;
    if l.need != 0 && !allowed(k, &who.c, possessed, l.need) {
        return Err(Errno::EACCES);
    }
    if k.revoked && !l.revoked_ok {
        return Err(Errno::EKEYREVOKED);
    }
    Ok((serial, possessed))
}

/// A C string of at most `max` bytes: keyctl answers EINVAL, not
/// ENAMETOOLONG, for a longer one.
fn read_bounded(t: &Task, addr: u64, max: usize) -> KResult<String> {
    t.mm().read_cstr(addr, max).map_err(|e| {
        if e == Errno::ENAMETOOLONG {
            Errno::EINVAL
        } else {
            e
        }
    })
}

/// A key type name from user memory: EINVAL if empty or 32 bytes or
/// longer, EPERM for the kernel's internal (".name") types.
fn read_type(t: &Task, addr: u64) -> KResult<String> {
    let s = read_bounded(t, addr, 31)?;
    if s.is_empty() || s.len() > 31 {
        return Err(Errno::EINVAL);
    }
    if s.starts_with('.') {
        return Err(Errno::EPERM);
    }
    Ok(s)
}

/// A description: non-empty, under 4096 bytes (EINVAL).
fn read_desc(t: &Task, addr: u64) -> KResult<String> {
    let s = read_bounded(t, addr, 4095)?;
    if s.is_empty() || s.len() > 4095 {
        return Err(Errno::EINVAL);
    }
    Ok(s)
}

fn type_of(name: &str) -> Option<Type> {
    match name {
        "user" => Some(Type::User),
        "logon" => Some(Type::Logon),
        "keyring" => Some(Type::Keyring),
        _ => None,
    }
}

/// The checks a type makes on a payload (and a logon key on its
/// "service:" description).
fn vet(ktype: Type, desc: &str, payload: &[u8]) -> KResult<()> {
    match ktype {
        Type::Keyring if !payload.is_empty() => Err(Errno::EINVAL),
        Type::Keyring => Ok(()),
        _ if payload.is_empty() || payload.len() > MAX_USER_PAYLOAD => Err(Errno::EINVAL),
        Type::Logon if desc.find(':').is_none_or(|i| i == 0) => Err(Errno::EINVAL),
        _ => Ok(()),
    }
}

/// add_key(2).
pub fn sys_add_key(
    t: &Arc<Task>,
    ty: u64,
    desc: u64,
    data: u64,
    len: usize,
    ring: i32,
) -> KResult<u64> {
    if len > MAX_PAYLOAD {
        return Err(Errno::EINVAL);
    }
    let tname = read_type(t, ty)?;
    let desc = if desc != 0 {
        Some(read_desc(t, desc)?)
    } else {
        None
    };
    let payload = if len > 0 {
        t.mm().read_vec(data, len)?
    } else {
        Vec::new()
    };
    let who = caller(t);
    let mut s = store();
    let (ring, _) = lookup(&mut s, &who, ring, look(true, WRITE))?;
    let ktype = type_of(&tname).ok_or(Errno::ENODEV)?;
    if !s.get(ring)?.is_keyring() {
        return Err(Errno::ENOTDIR);
    }
    let desc = desc.ok_or(Errno::EINVAL)?;
    vet(ktype, &desc, &payload)?;
    let existing = s
        .get(ring)?
        .links
        .iter()
        .copied()
        .find(|&l| s.get(l).is_ok_and(|k| k.ktype == ktype && k.desc == desc));
    if let Some(old) = existing {
        if ktype != Type::Keyring {
            let possessed = s.possessed(who.tid, who.tgid, &who.c).contains(&old);
            let k = s.get_mut(old)?;
            if !allowed(k, &who.c, possessed, WRITE) {
                return Err(Errno::EACCES);
            }
            if !k.revoked {
                k.payload = payload;
                return Ok(old as u64);
            }
        }
        s.get_mut(ring)?.links.retain(|&l| l != old);
    }
    let key = s.add(ktype, &desc, payload, &who.c, default_perm(ktype));
    s.link(ring, key)?;
    Ok(key as u64)
}

/// request_key(2): the key of that type and description in the
/// caller's thread, process or session keyring (or below), linked into
/// `dest`. Nothing is constructed: ENOKEY when it is not there.
pub fn sys_request_key(t: &Arc<Task>, ty: u64, desc: u64, callout: u64, dest: i32) -> KResult<u64> {
    let tname = read_type(t, ty)?;
    let desc = read_desc(t, desc)?;
    if callout != 0 {
        t.mm().read_cstr(callout, 1024 * 1024)?;
    }
    let who = caller(t);
    let mut s = store();
    let dest = if dest != 0 {
        Some(lookup(&mut s, &who, dest, look(true, WRITE))?.0)
    } else {
        None
    };
    let ktype = type_of(&tname).ok_or(Errno::ENOKEY)?;
    session(&mut s, &who, false);
    let possessed = s.possessed(who.tid, who.tgid, &who.c);
    let found = s
        .roots(who.tid, who.tgid)
        .into_iter()
        .find_map(|r| s.search(r, ktype, &desc, &who.c, &possessed))
        .ok_or(Errno::ENOKEY)?;
    if s.get(found)?.revoked {
        return Err(Errno::EKEYREVOKED);
    }
    if let Some(d) = dest {
        s.link(d, found)?;
    }
    Ok(found as u64)
}

const KEYCTL_GET_KEYRING_ID: i32 = 0;
const KEYCTL_JOIN_SESSION_KEYRING: i32 = 1;
const KEYCTL_UPDATE: i32 = 2;
const KEYCTL_REVOKE: i32 = 3;
const KEYCTL_CHOWN: i32 = 4;
const KEYCTL_SETPERM: i32 = 5;
const KEYCTL_DESCRIBE: i32 = 6;
const KEYCTL_CLEAR: i32 = 7;
const KEYCTL_LINK: i32 = 8;
const KEYCTL_UNLINK: i32 = 9;
const KEYCTL_SEARCH: i32 = 10;
const KEYCTL_READ: i32 = 11;
const KEYCTL_GET_SECURITY: i32 = 17;
const KEYCTL_INVALIDATE: i32 = 21;

/// keyctl(2).
pub fn sys_keyctl(t: &Arc<Task>, op: i32, a2: u64, a3: u64, a4: u64, a5: u64) -> KResult<u64> {
    let id = a2 as i32;
    match op {
        KEYCTL_GET_KEYRING_ID => {
            let who = caller(t);
            let (k, _) = lookup(&mut store(), &who, id, look(a3 != 0, SEARCH))?;
            Ok(k as u64)
        }
        KEYCTL_JOIN_SESSION_KEYRING => join_session(t, a2),
        KEYCTL_UPDATE => update(t, id, a3, a4 as usize),
        KEYCTL_REVOKE => {
            let who = caller(t);
            let mut s = store();
            let k = match lookup(&mut s, &who, id, look(false, WRITE)) {
                Err(Errno::EACCES) => lookup(&mut s, &who, id, look(false, SETATTR))?.0,
                r => r?.0,
            };
            s.get_mut(k)?.revoked = true;
            Ok(0)
        }
        KEYCTL_CHOWN => chown(t, id, a3 as u32, a4 as u32),
        KEYCTL_SETPERM => {
            let perm = a3 as u32;
            if perm & !(ALL << 24 | ALL << 16 | ALL << 8 | ALL) != 0 {
                return Err(Errno::EINVAL);
            }
            let who = caller(t);
            let mut s = store();
            let (k, _) = lookup(&mut s, &who, id, look(true, SETATTR))?;
            let key = s.get_mut(k)?;
            if !who.c.capable(crate::kernel::caps::CAP_SYS_ADMIN) && key.uid != who.c.fsuid {
                return Err(Errno::EACCES);
            }
            key.perm = perm;
            Ok(0)
        }
        KEYCTL_DESCRIBE => {
            let who = caller(t);
            let text = {
                let mut s = store();
                let (k, _) = lookup(&mut s, &who, id, look(true, VIEW))?;
                let k = s.get(k)?;
                format!(
                    "{};{};{};{:08x};{}\0",
                    k.ktype.name(),
                    k.uid,
                    k.gid,
                    k.perm,
                    k.desc
                )
            };
            copy_out(t, a3, a4 as usize, text.as_bytes())
        }
        KEYCTL_CLEAR => {
            let who = caller(t);
            let mut s = store();
            let (k, _) = lookup(&mut s, &who, id, look(true, WRITE))?;
            let ring = s.get_mut(k)?;
            if !ring.is_keyring() {
                return Err(Errno::ENOTDIR);
            }
            ring.links.clear();
            Ok(0)
        }
        KEYCTL_LINK => {
            let who = caller(t);
            let mut s = store();
            let (ring, _) = lookup(&mut s, &who, a3 as i32, look(true, WRITE))?;
            let (key, _) = lookup(&mut s, &who, id, look(false, LINK))?;
            if !s.get(ring)?.is_keyring() {
                return Err(Errno::ENOTDIR);
            }
            s.link(ring, key)?;
            Ok(0)
        }
        KEYCTL_UNLINK => {
            let who = caller(t);
            let mut s = store();
            let (ring, _) = lookup(&mut s, &who, a3 as i32, look(false, WRITE))?;
            let l = Look {
                revoked_ok: true,
                ..look(false, 0)
            };
            let (key, _) = lookup(&mut s, &who, id, l)?;
            let r = s.get_mut(ring)?;
            if !r.is_keyring() {
                return Err(Errno::ENOTDIR);
            }
            let before = r.links.len();
            r.links.retain(|&x| x != key);
            if r.links.len() == before {
                return Err(Errno::ENOENT);
            }
            Ok(0)
        }
        KEYCTL_SEARCH => search(t, id, a3, a4, a5 as i32),
        KEYCTL_READ => read(t, id, a3, a4 as usize),
        KEYCTL_GET_SECURITY => {
            let who = caller(t);
            lookup(&mut store(), &who, id, look(false, VIEW))?;
            copy_out(t, a3, a4 as usize, b"\0")
        }
        KEYCTL_INVALIDATE => {
            let who = caller(t);
            let mut s = store();
            let (k, _) = lookup(&mut s, &who, id, look(false, SEARCH))?;
            s.keys.remove(&k);
            for other in s.keys.values_mut() {
                other.links.retain(|&x| x != k);
            }
            s.thread.retain(|_, r| *r != k);
            s.process.retain(|_, r| *r != k);
            s.session.retain(|_, r| *r != k);
            Ok(0)
        }
        _ => Err(Errno::EOPNOTSUPP),
    }
}

/// Copy `data` to `buf` if it fits in `len` (nothing otherwise, as
/// Linux); the result is the full length either way.
fn copy_out(t: &Task, buf: u64, len: usize, data: &[u8]) -> KResult<u64> {
    if buf != 0 && len >= data.len() {
        t.mm().write(buf, data)?;
    }
    Ok(data.len() as u64)
}

fn join_session(t: &Task, name: u64) -> KResult<u64> {
    let name = if name != 0 {
        Some(read_desc(t, name)?)
    } else {
        None
    };
    let who = caller(t);
    let mut s = store();
    let ring = match name {
        None => new_ring(&mut s, &who, "_ses", ALL << 24 | (VIEW | READ) << 16),
        Some(n) => {
            let found = s
                .keys
                .values()
                .find(|k| {
                    k.is_keyring() && k.desc == n && !k.revoked && allowed(k, &who.c, false, SEARCH)
                })
                .map(|k| k.serial);
            match found {
                Some(r) => r,
                None => new_ring(&mut s, &who, &n, ALL << 24 | (VIEW | READ | LINK) << 16),
            }
        }
    };
    s.session.insert(who.tgid, ring);
    Ok(ring as u64)
}

fn update(t: &Task, id: i32, data: u64, len: usize) -> KResult<u64> {
    if len > MAX_PAYLOAD {
        return Err(Errno::EINVAL);
    }
    let payload = if len > 0 {
        t.mm().read_vec(data, len)?
    } else {
        Vec::new()
    };
    let who = caller(t);
    let mut s = store();
    let (k, _) = lookup(&mut s, &who, id, look(false, WRITE))?;
    let key = s.get_mut(k)?;
    if key.is_keyring() {
        return Err(Errno::EOPNOTSUPP);
    }
    vet(key.ktype, &key.desc, &payload)?;
    key.payload = payload;
    Ok(0)
}

/// CHOWN: a new owner needs CAP_SYS_ADMIN, a new group membership of it
/// (EACCES); -1 leaves either alone.
fn chown(t: &Task, id: i32, uid: u32, gid: u32) -> KResult<u64> {
    let who = caller(t);
    let mut s = store();
    if uid == u32::MAX && gid == u32::MAX {
        lookup(&mut s, &who, id, look(true, SETATTR))?;
        return Ok(0);
    }
    let (k, _) = lookup(&mut s, &who, id, look(true, SETATTR))?;
    let key = s.get_mut(k)?;
    let admin = who.c.capable(crate::kernel::caps::CAP_SYS_ADMIN);
    if uid != u32::MAX && key.uid != uid && !admin {
        return Err(Errno::EACCES);
    }
    if gid != u32::MAX && !admin && (key.uid != who.c.fsuid || !who.c.in_group(gid)) {
        return Err(Errno::EACCES);
    }
    if uid != u32::MAX {
        key.uid = uid;
    }
    if gid != u32::MAX {
        key.gid = gid;
    }
    Ok(0)
}

fn search(t: &Task, ring: i32, ty: u64, desc: u64, dest: i32) -> KResult<u64> {
    let tname = read_type(t, ty)?;
    let desc = read_desc(t, desc)?;
    let who = caller(t);
    let mut s = store();
    let (ring, _) = lookup(&mut s, &who, ring, look(false, SEARCH))?;
    let dest = if dest != 0 {
        Some(lookup(&mut s, &who, dest, look(true, WRITE))?.0)
    } else {
        None
    };
    let ktype = type_of(&tname).ok_or(Errno::ENOKEY)?;
    if !s.get(ring)?.is_keyring() {
        return Err(Errno::ENOTDIR);
    }
    let possessed = s.possessed(who.tid, who.tgid, &who.c);
    let found = s
        .search(ring, ktype, &desc, &who.c, &possessed)
        .ok_or(Errno::ENOKEY)?;
    if s.get(found)?.revoked {
        return Err(Errno::EKEYREVOKED);
    }
    if let Some(d) = dest {
        let k = s.get(found)?;
        if !allowed(k, &who.c, possessed.contains(&found), LINK) {
            return Err(Errno::EACCES);
        }
        s.link(d, found)?;
    }
    Ok(found as u64)
}

/// READ: a user key's data or a keyring's serials. Needs READ, or
/// possession and SEARCH (Linux's keyctl_read_key); a logon key is never
/// readable (EOPNOTSUPP).
fn read(t: &Task, id: i32, buf: u64, len: usize) -> KResult<u64> {
    let who = caller(t);
    let (data, links) = {
        let mut s = store();
        let (k, _) = match lookup(&mut s, &who, id, look(false, READ)) {
            Err(Errno::EACCES) => {
                let (k, p) = lookup(&mut s, &who, id, look(false, 0))?;
                if !p || !allowed(s.get(k)?, &who.c, true, SEARCH) {
                    return Err(Errno::EACCES);
                }
                (k, p)
            }
            r => r?,
        };
        let key = s.get(k)?;
        match key.ktype {
            Type::Logon => return Err(Errno::EOPNOTSUPP),
            Type::User => (key.payload.clone(), None),
            Type::Keyring => (Vec::new(), Some(key.links.clone())),
        }
    };
    match links {
        Some(l) => {
            if buf != 0 && len >= l.len() * 4 {
                UserSlice::<i32>::new(buf, len / 4).write(&t.mm(), &l)?;
            }
            Ok((l.len() * 4) as u64)
        }
        None => copy_out(t, buf, len, &data),
    }
}

/// exec: the program starts without thread and process keyrings (the
/// session keyring stays), as Linux's prepare_exec_creds.
pub fn exec(t: &Task) {
    let mut s = store();
    s.thread.remove(&t.tid);
    s.process.remove(&t.tgid());
}

/// Fork made task `child` of `parent`: a new thread has no thread
/// keyring; a new process no process keyring and its parent's session
/// keyring.
pub fn forked(parent: &Task, child: Tid, thread: bool) {
    let mut s = store();
    s.thread.remove(&child);
    if thread {
        return;
    }
    s.process.remove(&child);
    match s.session.get(&parent.tgid()).copied() {
        Some(r) => s.session.insert(child, r),
        None => s.session.remove(&child),
    };
}
