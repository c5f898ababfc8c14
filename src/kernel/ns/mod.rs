//! Namespaces: the set a task lives in (`NsProxy`), their identities
//! (nsfs inode numbers as Linux's), ownership by user namespaces and the
//! capability checks that follow from it. unshare/setns live in `sys`,
//! user namespaces' id maps in `user`, the nsfs files in `nsfs`.

pub mod nsfs;
pub mod pid;
pub mod sys;
pub mod user;

use super::task::{lock, Task};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

pub const CLONE_NEWTIME: u64 = 0x80;
pub const CLONE_NEWNS: u64 = 0x20000;
pub const CLONE_NEWCGROUP: u64 = 0x0200_0000;
pub const CLONE_NEWUTS: u64 = 0x0400_0000;
pub const CLONE_NEWIPC: u64 = 0x0800_0000;
pub const CLONE_NEWUSER: u64 = 0x1000_0000;
pub const CLONE_NEWPID: u64 = 0x2000_0000;
pub const CLONE_NEWNET: u64 = 0x4000_0000;

/// The namespace types this kernel can make new instances of: all.
pub const SUPPORTED_NEW: u64 = CLONE_NEWUTS
    | CLONE_NEWNET
    | CLONE_NEWIPC
    | CLONE_NEWUSER
    | CLONE_NEWCGROUP
    | CLONE_NEWTIME
    | CLONE_NEWPID
    | CLONE_NEWNS;

/// Every CLONE_NEW* flag.
pub const ALL_NEW: u64 = CLONE_NEWTIME
    | CLONE_NEWNS
    | CLONE_NEWCGROUP
    | CLONE_NEWUTS
    | CLONE_NEWIPC
    | CLONE_NEWUSER
    | CLONE_NEWPID
    | CLONE_NEWNET;

/// A namespace type: its CLONE_NEW* flag is also NS_GET_NSTYPE's answer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Uts,
    Ipc,
    Mnt,
    Pid,
    User,
    Net,
    Cgroup,
    Time,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Cgroup,
        Kind::Ipc,
        Kind::Mnt,
        Kind::Net,
        Kind::Pid,
        Kind::Time,
        Kind::User,
        Kind::Uts,
    ];
    pub fn flag(self) -> u64 {
        match self {
            Kind::Uts => CLONE_NEWUTS,
            Kind::Ipc => CLONE_NEWIPC,
            Kind::Mnt => CLONE_NEWNS,
            Kind::Pid => CLONE_NEWPID,
            Kind::User => CLONE_NEWUSER,
            Kind::Net => CLONE_NEWNET,
            Kind::Cgroup => CLONE_NEWCGROUP,
            Kind::Time => CLONE_NEWTIME,
        }
    }
    /// The name in /proc/PID/ns links ("uts:[4026531838]").
    pub fn name(self) -> &'static str {
        match self {
            Kind::Uts => "uts",
            Kind::Ipc => "ipc",
            Kind::Mnt => "mnt",
            Kind::Pid => "pid",
            Kind::User => "user",
            Kind::Net => "net",
            Kind::Cgroup => "cgroup",
            Kind::Time => "time",
        }
    }
    /// The initial namespace's inode number: Linux's PROC_*_INIT_INO.
    fn init_ino(self) -> u64 {
        match self {
            Kind::Ipc => 0xEFFF_FFFF,
            Kind::Uts => 0xEFFF_FFFE,
            Kind::User => 0xEFFF_FFFD,
            Kind::Pid => 0xEFFF_FFFC,
            Kind::Cgroup => 0xEFFF_FFFB,
            Kind::Time => 0xEFFF_FFFA,
            Kind::Net => INIT_NET,
            Kind::Mnt => 0xEFFF_FFF8,
        }
    }
}

/// The node name and NIS domain name of a UTS namespace.
#[derive(Clone, Default)]
pub struct UtsNames {
    pub hostname: String,
    pub domainname: String,
}

/// What one kind of namespace holds beyond its identity.
pub enum Data {
    None,
    Uts(Mutex<UtsNames>),
    User(user::UserNs),
    Pid(pid::PidNs),
}

/// One namespace.
pub struct Ns {
    pub kind: Kind,
    /// Its nsfs inode number.
    pub ino: u64,
    /// The user namespace owning it (for a user namespace, its parent);
    /// None for the initial user namespace.
    pub owner: Option<Arc<Ns>>,
    pub data: Data,
}

impl Drop for Ns {
    fn drop(&mut self) {
        // A mount namespace's tree lives in fs::mount's tables, by id.
        if self.kind == Kind::Mnt && self.ino != crate::fs::mount::INIT_NS {
            crate::fs::mount::drop_ns(self.ino);
        }
        // A network namespace's stack lives in net::inet::stack, by id.
        if self.kind == Kind::Net && self.ino != INIT_NET {
            crate::net::inet::stack::drop_ns(self.ino);
        }
    }
}

/// The initial network namespace's id (its inode number), which the
/// stack that holds the host's interfaces belongs to.
pub const INIT_NET: u64 = 0xEFFF_FFF9;

/// New namespaces' inode numbers: after the initial ones, as Linux's
/// proc_inum allocator hands them out.
static NEXT_INO: AtomicU64 = AtomicU64::new(0xF000_0100);

impl Ns {
    fn new(kind: Kind, owner: Option<Arc<Ns>>, data: Data) -> Arc<Ns> {
        Arc::new(Ns {
            kind,
            ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
            owner,
            data,
        })
    }
    /// The user namespace this one is, or owns it.
    pub fn user(self: &Arc<Ns>) -> Option<Arc<Ns>> {
        match self.kind {
            Kind::User => Some(self.clone()),
            _ => self.owner.clone(),
        }
    }
    pub fn uts(&self) -> Option<&Mutex<UtsNames>> {
        match &self.data {
            Data::Uts(u) => Some(u),
            _ => None,
        }
    }
    pub fn userns(&self) -> Option<&user::UserNs> {
        match &self.data {
            Data::User(u) => Some(u),
            _ => None,
        }
    }
    /// Is this the initial user namespace.
    pub fn is_init_user(&self) -> bool {
        self.kind == Kind::User && self.owner.is_none()
    }
}

/// The initial namespaces, one of each kind.
pub struct Initial {
    pub user: Arc<Ns>,
    pub uts: Arc<Ns>,
    others: Vec<Arc<Ns>>,
}

pub static INIT: LazyLock<Initial> = LazyLock::new(|| {
    let mk = |kind: Kind, owner: Option<Arc<Ns>>, data| {
        Arc::new(Ns {
            kind,
            ino: kind.init_ino(),
            owner,
            data,
        })
    };
    let user = mk(Kind::User, None, Data::User(user::UserNs::initial()));
    let uts = mk(
        Kind::Uts,
        Some(user.clone()),
        Data::Uts(Mutex::new(UtsNames::default())),
    );
    let pid = mk(
        Kind::Pid,
        Some(user.clone()),
        Data::Pid(pid::PidNs::initial()),
    );
    let others = [Kind::Ipc, Kind::Mnt, Kind::Net, Kind::Cgroup, Kind::Time]
        .into_iter()
        .map(|k| mk(k, Some(user.clone()), Data::None))
        .chain([pid])
        .collect();
    Initial { user, uts, others }
});

impl Initial {
    pub fn of(&self, k: Kind) -> Arc<Ns> {
        match k {
            Kind::User => self.user.clone(),
            Kind::Uts => self.uts.clone(),
            _ => self
                .others
                .iter()
                .find(|n| n.kind == k)
                .cloned()
                .expect("every kind has an initial namespace"),
        }
    }
}

/// The namespaces of one task (Linux's nsproxy plus the cred's user
/// namespace and the "for children" pid and time namespaces).
#[derive(Clone)]
pub struct NsProxy {
    pub uts: Arc<Ns>,
    pub ipc: Arc<Ns>,
    pub mnt: Arc<Ns>,
    pub pid: Arc<Ns>,
    pub pid_children: Arc<Ns>,
    pub user: Arc<Ns>,
    pub net: Arc<Ns>,
    pub cgroup: Arc<Ns>,
    pub time: Arc<Ns>,
    pub time_children: Arc<Ns>,
    /// Full capabilities in `user` though not root there: a task that
    /// just made or entered it (until its next exec, as Linux recomputes
    /// capabilities from the ids then).
    pub entered_caps: bool,
}

impl Default for NsProxy {
    fn default() -> NsProxy {
        let i = &*INIT;
        NsProxy {
            uts: i.of(Kind::Uts),
            ipc: i.of(Kind::Ipc),
            mnt: i.of(Kind::Mnt),
            pid: i.of(Kind::Pid),
            pid_children: i.of(Kind::Pid),
            user: i.of(Kind::User),
            net: i.of(Kind::Net),
            cgroup: i.of(Kind::Cgroup),
            time: i.of(Kind::Time),
            time_children: i.of(Kind::Time),
            entered_caps: false,
        }
    }
}

impl NsProxy {
    /// The namespace of kind `k` as /proc/PID/ns shows it.
    pub fn get(&self, k: Kind) -> Arc<Ns> {
        match k {
            Kind::Uts => self.uts.clone(),
            Kind::Ipc => self.ipc.clone(),
            Kind::Mnt => self.mnt.clone(),
            Kind::Pid => self.pid.clone(),
            Kind::User => self.user.clone(),
            Kind::Net => self.net.clone(),
            Kind::Cgroup => self.cgroup.clone(),
            Kind::Time => self.time.clone(),
        }
    }
    fn slot(&mut self, k: Kind) -> &mut Arc<Ns> {
        match k {
            Kind::Uts => &mut self.uts,
            Kind::Ipc => &mut self.ipc,
            Kind::Mnt => &mut self.mnt,
            Kind::Pid => &mut self.pid_children,
            Kind::User => &mut self.user,
            Kind::Net => &mut self.net,
            Kind::Cgroup => &mut self.cgroup,
            Kind::Time => &mut self.time_children,
        }
    }
}

/// A task's namespaces.
pub fn of(t: &Task) -> NsProxy {
    t.lock().ns.clone()
}

/// Does `t` have capability `cap` over namespace `target` (Linux's
/// ns_capable/cap_capable): in its own user namespace when the cap is in
/// its effective set (or it is entering the namespace, which gives every
/// capability); in a descendant when it is that namespace's owner's
/// parent and its effective uid made it.
pub fn capable_in(t: &Task, target: &Arc<Ns>, cap: u32) -> bool {
    let p = of(t);
    let c = t.creds();
    let Some(mut ns) = target.user() else {
        return false;
    };
    let mine = p.user.clone();
    loop {
        if Arc::ptr_eq(&ns, &mine) {
            return p.entered_caps || c.has(cap);
        }
        let Some(parent) = ns.owner.clone() else {
            return false;
        };
        if Arc::ptr_eq(&parent, &mine) && ns.userns().is_some_and(|u| u.owner_uid == c.euid) {
            return true;
        }
        ns = parent;
    }
}

/// A child's namespaces at clone: the parent's, with new ones for the
/// CLONE_NEW* flags in `flags` (checked by `sys::check_new`).
pub fn for_clone(t: &Task, flags: u64) -> Result<NsProxy, super::errno::Errno> {
    let mut p = of(t);
    if flags & ALL_NEW != 0 {
        sys::unshare_into(t, &mut p, flags & ALL_NEW)?;
    }
    // The child lives in its parent's pid and time namespaces for
    // children.
    p.pid = p.pid_children.clone();
    p.time = p.time_children.clone();
    Ok(p)
}

/// Commit the namespaces `p` to `t`'s credentials: one just entered
/// (unshare, setns, clone with CLONE_NEWUSER) gives every capability in
/// it (`Creds::enter_userns`), which the credentials hold from then on.
pub fn commit_entered(t: &Task, p: &mut NsProxy) {
    if std::mem::take(&mut p.entered_caps) {
        t.tg().lock().creds.enter_userns();
    }
}

/// The hostname of `t`'s UTS namespace (uname's nodename).
pub fn hostname_of(t: &Task) -> UtsNames {
    let uts = of(t).uts;
    let names = lock(uts.uts().expect("a UTS namespace")).clone();
    names
}

/// The namespaces of the process making the current syscall (the
/// initial ones for the kernel itself), for code not handed the task.
fn current() -> NsProxy {
    super::current::tgid()
        .and_then(super::task::group)
        .and_then(|g| g.lock().threads.first().copied())
        .and_then(super::task::task)
        .map(|t| of(&t))
        .unwrap_or_default()
}

thread_local! {
    /// The namespace of the socket whose request this vCPU is handling
    /// (`with_socket_net`).
    static SOCKET_NET: std::cell::RefCell<Option<Arc<Ns>>> =
        const { std::cell::RefCell::new(None) };
}

/// Run `f` acting in network namespace `ns`: a request made through a
/// socket (an interface ioctl, a netlink message) acts in the socket's
/// namespace, as Linux's sock_net, whichever the caller is in now. `f`
/// must not sleep (another task's request would see `ns`).
pub fn with_socket_net<R>(ns: &Arc<Ns>, f: impl FnOnce() -> R) -> R {
    let prev = SOCKET_NET.with(|c| c.replace(Some(ns.clone())));
    let r = f();
    SOCKET_NET.with(|c| *c.borrow_mut() = prev);
    r
}

/// The network namespace the kernel acts in now: the socket's during a
/// request through one, else the current process's (the stack,
/// interfaces and abstract AF_UNIX names its new sockets, interface
/// ioctls, netlink and /proc/net see).
pub fn current_net() -> Arc<Ns> {
    SOCKET_NET
        .with(|c| c.borrow().clone())
        .unwrap_or_else(|| current().net)
}

/// May `t` configure the network namespace it acts in (CAP_NET_ADMIN
/// over it: root in the user namespace that owns it).
pub fn net_admin(t: &Task) -> bool {
    let ns = SOCKET_NET
        .with(|c| c.borrow().clone())
        .unwrap_or_else(|| of(t).net);
    capable_in(t, &ns, super::caps::CAP_NET_ADMIN)
}

/// The current process's pid namespace (ns_last_pid).
pub fn current_pid() -> Arc<Ns> {
    current().pid
}

/// Does the current process have the capabilities of `ns`'s owner (the
/// kernel itself does).
pub fn current_capable_in(ns: &Arc<Ns>) -> bool {
    match super::current::tgid()
        .and_then(super::task::group)
        .and_then(|g| g.lock().threads.first().copied())
        .and_then(super::task::task)
    {
        Some(t) => capable_in(&t, ns, super::caps::CAP_SYS_ADMIN),
        None => true,
    }
}

/// The current IPC namespace's inode number: which SysV tables the
/// caller sees.
pub fn current_ipc() -> u64 {
    current().ipc.ino
}

/// The current UTS namespace (/proc/sys/kernel/hostname, domainname).
pub fn current_uts() -> Arc<Ns> {
    current().uts
}

/// Change the current UTS namespace's names.
pub fn with_current_uts<R>(f: impl FnOnce(&mut UtsNames) -> R) -> R {
    let uts = current_uts();
    let mut n = lock(uts.uts().expect("a UTS namespace"));
    f(&mut n)
}
