//! The key store: every key by serial, the keyrings each process and
//! user has, possession and Linux's key permission check.

use crate::kernel::cred::Creds;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::{Pid, Tid};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

/// Permission bits, per class (possessor << 24, user << 16, group << 8,
/// other).
pub const VIEW: u32 = 0x01;
pub const READ: u32 = 0x02;
pub const WRITE: u32 = 0x04;
pub const SEARCH: u32 = 0x08;
pub const LINK: u32 = 0x10;
pub const SETATTR: u32 = 0x20;
pub const ALL: u32 = 0x3f;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Type {
    User,
    /// As "user" but its payload cannot be read back.
    Logon,
    Keyring,
}

impl Type {
    pub fn name(self) -> &'static str {
        match self {
            Type::User => "user",
            Type::Logon => "logon",
            Type::Keyring => "keyring",
        }
    }
}

pub struct Key {
    pub serial: i32,
    pub ktype: Type,
    pub desc: String,
    /// A user key's data.
    pub payload: Vec<u8>,
    /// A keyring's links, in the order they were made.
    pub links: Vec<i32>,
    pub uid: u32,
    pub gid: u32,
    pub perm: u32,
    pub revoked: bool,
}

impl Key {
    pub fn is_keyring(&self) -> bool {
        self.ktype == Type::Keyring
    }
}

#[derive(Default)]
pub struct Store {
    pub keys: BTreeMap<i32, Key>,
    next: u32,
    pub thread: HashMap<Tid, i32>,
    pub process: HashMap<Pid, i32>,
    pub session: HashMap<Pid, i32>,
    /// Per uid: its user keyring and user session keyring.
    pub user: HashMap<u32, (i32, i32)>,
}

static STORE: Mutex<Option<Store>> = Mutex::new(None);

pub struct Guard(MutexGuard<'static, Option<Store>>);

impl std::ops::Deref for Guard {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.0.as_ref().expect("made by store()")
    }
}

impl std::ops::DerefMut for Guard {
    fn deref_mut(&mut self) -> &mut Store {
        self.0.as_mut().expect("made by store()")
    }
}

pub fn store() -> Guard {
    let mut g = STORE.lock().unwrap_or_else(|e| e.into_inner());
    if g.is_none() {
        *g = Some(Store::default());
    }
    Guard(g)
}

/// The default permissions of a new key of type `t`, as Linux's
/// key_create_or_update: the possessor may do everything, the owner view.
pub fn default_perm(t: Type) -> u32 {
    let pos = VIEW | SEARCH | LINK | SETATTR | WRITE | if t == Type::Logon { 0 } else { READ };
    pos << 24 | VIEW << 16
}

impl Store {
    /// A new key; serials are positive, unpredictable-looking and unique,
    /// as Linux's.
    pub fn add(&mut self, ktype: Type, desc: &str, payload: Vec<u8>, c: &Creds, perm: u32) -> i32 {
        let serial = loop {
            self.next = self.next.wrapping_add(1);
            let s = (self.next.wrapping_mul(0x9e37_79b1) & 0x7fff_ffff) as i32;
            if s > 3 && !self.keys.contains_key(&s) {
                break s;
            }
        };
        self.keys.insert(
            serial,
            Key {
                serial,
                ktype,
                desc: desc.to_string(),
                payload,
                links: Vec::new(),
                uid: c.fsuid,
                gid: c.fsgid,
                perm,
                revoked: false,
            },
        );
        serial
    }

    pub fn get(&self, s: i32) -> KResult<&Key> {
        self.keys.get(&s).ok_or(Errno::ENOKEY)
    }

    pub fn get_mut(&mut self, s: i32) -> KResult<&mut Key> {
        self.keys.get_mut(&s).ok_or(Errno::ENOKEY)
    }

    /// The keyrings a process holds: thread, process, session.
    pub fn roots(&self, tid: Tid, tgid: Pid) -> Vec<i32> {
        [
            self.thread.get(&tid),
            self.process.get(&tgid),
            self.session.get(&tgid),
        ]
        .into_iter()
        .flatten()
        .copied()
        .collect()
    }

    /// The keys the process possesses: its keyrings and everything
    /// reachable from them through keyrings it may search as possessor.
    pub fn possessed(&self, tid: Tid, tgid: Pid, c: &Creds) -> HashSet<i32> {
        let mut seen = HashSet::new();
        let mut todo = self.roots(tid, tgid);
        while let Some(s) = todo.pop() {
            if !seen.insert(s) {
                continue;
            }
            let Ok(k) = self.get(s) else { continue };
            if k.is_keyring() && !k.revoked && allowed(k, c, true, SEARCH) {
                todo.extend(k.links.iter().copied());
            }
        }
        seen
    }

    /// Link `key` into `ring` (once; EDEADLK if that would make a cycle).
    pub fn link(&mut self, ring: i32, key: i32) -> KResult<()> {
        if self.reaches(key, ring) {
            return Err(Errno::EDEADLK);
        }
        let r = self.get_mut(ring)?;
        if !r.links.contains(&key) {
            r.links.push(key);
        }
        Ok(())
    }

    /// Can `ring` be reached from `from` (itself included)?
    fn reaches(&self, from: i32, ring: i32) -> bool {
        let mut seen = HashSet::new();
        let mut todo = vec![from];
        while let Some(s) = todo.pop() {
            if s == ring {
                return true;
            }
            if seen.insert(s) {
                if let Ok(k) = self.get(s) {
                    todo.extend(k.links.iter().copied());
                }
            }
        }
        false
    }

    /// Search `ring` and the keyrings below it (that `c` may search) for
    /// a key of `ktype` and `desc`, breadth first as Linux.
    pub fn search(
        &self,
        ring: i32,
        ktype: Type,
        desc: &str,
        c: &Creds,
        possessed: &HashSet<i32>,
    ) -> Option<i32> {
        let mut seen = HashSet::new();
        let mut level = vec![ring];
        while !level.is_empty() {
            let mut next = Vec::new();
            for r in level {
                if !seen.insert(r) {
                    continue;
                }
                let Ok(k) = self.get(r) else { continue };
                if !k.is_keyring() || k.revoked {
                    continue;
                }
                for &l in &k.links {
                    let Ok(x) = self.get(l) else { continue };
                    if x.ktype == ktype
                        && x.desc == desc
                        && allowed(x, c, possessed.contains(&l), SEARCH)
                    {
                        return Some(l);
                    }
                    if x.is_keyring() && allowed(x, c, possessed.contains(&l), SEARCH) {
                        next.push(l);
                    }
                }
            }
            level = next;
        }
        None
    }
}

/// Linux's key_task_permission: the owner's, the group's or others'
/// bits, plus the possessor's if the caller possesses the key. No
/// capability overrides it.
pub fn allowed(k: &Key, c: &Creds, possessed: bool, need: u32) -> bool {
    let mut p = if k.uid == c.fsuid {
        k.perm >> 16
    } else if c.fsgid == k.gid || c.groups.contains(&k.gid) {
        k.perm >> 8
    } else {
        k.perm
    };
    if possessed {
        p |= k.perm >> 24;
    }
    p & need == need
}
