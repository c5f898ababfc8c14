//! Host half of the mconsole: the umid directory (`uml_dir/umid/` with
//! `pid` and the `mconsole` socket) and the helper thread that receives
//! requests.
//!
//! The helper thread blocks in recvfrom, queues each datagram with its
//! sender's address and raises an interrupt; the vCPU answers from its
//! interrupt handler (`super::interrupt`), so commands see consistent
//! kernel state. While the guest is stopped (`stop`) the vCPU sleeps in
//! `wait_request` instead. The directory is removed on every exit path:
//! `cleanup` is async-signal-safe and is called by `arch::host_exit` and
//! the SIGTERM/SIGINT/SIGHUP handlers; after a SIGKILL the next start with
//! the same umid finds the owner dead and cleans up.

use std::collections::VecDeque;
use std::ffi::CString;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

/// One datagram from a client and where to answer.
pub struct Incoming {
    pub data: Vec<u8>,
    pub from: SocketAddr,
}

struct Queue {
    q: Mutex<VecDeque<Incoming>>,
    cv: Condvar,
}

static QUEUE: Queue = Queue {
    q: Mutex::new(VecDeque::new()),
    cv: Condvar::new(),
};

/// The bound socket (shared: the helper receives, the vCPU replies).
static SOCKET: OnceLock<Arc<UnixDatagram>> = OnceLock::new();
/// Paths to remove at exit, prepared in advance: a signal handler may not
/// allocate. Files first, the directory last.
static CLEANUP: OnceLock<Vec<(CString, bool)>> = OnceLock::new();

/// The umid directory this instance owns.
pub struct UmidDir {
    pub umid: String,
    pub dir: PathBuf,
    pub socket: PathBuf,
}

/// Create `uml_dir/umid/` with `pid`, refusing a umid a live instance
/// owns and cleaning one whose owner died. `umid` None picks a random
/// one, as UML does. Errors are one line for stderr.
pub fn create_dir(uml_dir: &Path, umid: Option<&str>) -> Result<UmidDir, String> {
    std::fs::create_dir_all(uml_dir)
        .map_err(|e| format!("uml_dir={}: cannot create it: {e}", uml_dir.display()))?;
    let (umid, dir) = match umid {
        Some(u) => {
            let dir = uml_dir.join(u);
            claim(&dir, u)?;
            (u.to_owned(), dir)
        }
        None => random_dir(uml_dir)?,
    };
    let pid = format!("{}\n", std::process::id());
    let socket = dir.join("mconsole");
    let files = [dir.join("pid"), socket.clone()];
    let mut list: Vec<(CString, bool)> = files
        .iter()
        .chain(std::iter::once(&dir))
        .filter_map(|p| CString::new(p.as_os_str().as_encoded_bytes()).ok())
        .zip([false, false, true])
        .collect();
    list.shrink_to_fit();
    let _ = CLEANUP.set(list);
    if let Err(e) = std::fs::write(dir.join("pid"), pid) {
        cleanup();
        return Err(format!(
            "umid {umid}: cannot write {}/pid: {e}",
            dir.display()
        ));
    }
    Ok(UmidDir { umid, dir, socket })
}

/// Make `dir` ours: create it, or take it over from a dead owner.
fn claim(dir: &Path, umid: &str) -> Result<(), String> {
    match std::fs::create_dir(dir) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(format!("umid {umid}: cannot create {}: {e}", dir.display())),
    }
    if let Some(pid) = owner(dir) {
        return Err(format!("umid \"{umid}\" is already in use by pid {pid}"));
    }
    // The owner is gone (killed, crashed): its leftovers are stale.
    log::info!("umid: removing stale directory {}", dir.display());
    std::fs::remove_dir_all(dir)
        .and_then(|_| std::fs::create_dir(dir))
        .map_err(|e| format!("umid {umid}: cannot replace stale {}: {e}", dir.display()))
}

/// The live process named in `dir/pid`, if any.
fn owner(dir: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(dir.join("pid")).ok()?;
    let pid: u32 = text.trim().parse().ok()?;
    // /proc/PID exists while the process (or its zombie) does, as
    // kill(pid, 0) would tell.
    (pid != 0 && Path::new("/proc").join(pid.to_string()).exists()).then_some(pid)
}

/// A new directory with a random 6-character name (UML uses mkdtemp).
fn random_dir(uml_dir: &Path) -> Result<(String, PathBuf), String> {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut last = String::new();
    for _ in 0..100 {
        let mut bytes = [0u8; 6];
        use std::io::Read;
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut bytes))
            .map_err(|e| format!("umid: cannot read /dev/urandom: {e}"))?;
        let name: String = bytes
            .iter()
            .map(|b| CHARS[*b as usize % CHARS.len()] as char)
            .collect();
        let dir = uml_dir.join(&name);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok((name, dir)),
            Err(e) => last = e.to_string(),
        }
    }
    Err(format!(
        "umid: cannot create a directory in {}: {last}",
        uml_dir.display()
    ))
}

/// Bind the mconsole socket (before boot, so a client may connect as
/// soon as the directory exists; requests wait for `start`).
pub fn bind(path: &Path) -> std::io::Result<()> {
    let _ = std::fs::remove_file(path);
    let s = UnixDatagram::bind(path)?;
    let _ = SOCKET.set(Arc::new(s));
    Ok(())
}

/// Start the receiving helper thread.
pub fn start() {
    let Some(s) = SOCKET.get().cloned() else {
        return;
    };
    let r = std::thread::Builder::new()
        .name("mconsole".into())
        .spawn(move || {
            crate::arch::unpin_helper_thread();
            let mut buf = vec![0u8; 4096];
            loop {
                match s.recv_from(&mut buf) {
                    Ok((n, from)) => {
                        let mut q = QUEUE.q.lock().unwrap_or_else(|e| e.into_inner());
                        q.push_back(Incoming {
                            data: buf[..n].to_vec(),
                            from,
                        });
                        QUEUE.cv.notify_all();
                        drop(q);
                        crate::arch::irq::raise();
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        log::error!("mconsole: receive failed: {e}");
                        return;
                    }
                }
            }
        });
    if let Err(e) = r {
        log::error!("mconsole: cannot start its thread: {e}");
    }
}

/// The next queued request, if any.
pub fn take_request() -> Option<Incoming> {
    QUEUE
        .q
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .pop_front()
}

/// Sleep until a request arrives (the guest is stopped).
pub fn wait_request() -> Incoming {
    let mut q = QUEUE.q.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if let Some(r) = q.pop_front() {
            return r;
        }
        q = QUEUE.cv.wait(q).unwrap_or_else(|e| e.into_inner());
    }
}

/// Send reply packets to a client. A client that went away is no error
/// of ours: the reply is dropped, as UML does.
pub fn send(to: &SocketAddr, packets: &[Vec<u8>]) {
    let Some(s) = SOCKET.get() else { return };
    if to.is_unnamed() {
        return;
    }
    for p in packets {
        if let Err(e) = s.send_to_addr(p, to) {
            log::debug!("mconsole: reply not delivered: {e}");
            return;
        }
    }
}

/// Send a notification datagram to `target` (`mconsole=notify:`). An
/// absent listener is no error of ours (UML logs it at debug level).
pub fn notify(target: &Path, packet: &[u8]) {
    let r = UnixDatagram::unbound().and_then(|s| s.send_to(packet, target));
    if let Err(e) = r {
        log::debug!("mconsole_notify: {}: {e}", target.display());
    }
}

/// Remove the umid directory. Async-signal-safe: only unlink and rmdir
/// on paths prepared at creation.
pub fn cleanup() {
    use nix::fcntl::AT_FDCWD;
    use nix::unistd::{unlink, unlinkat, UnlinkatFlags};
    let Some(list) = CLEANUP.get() else { return };
    for (path, is_dir) in list {
        // unlinkat/unlink are async-signal-safe; nix passes a `CStr`
        // through without copying it (no allocation in a signal handler).
        let _ = if *is_dir {
            unlinkat(AT_FDCWD, path.as_c_str(), UnlinkatFlags::RemoveDir)
        } else {
            unlink(path.as_c_str())
        };
    }
}
