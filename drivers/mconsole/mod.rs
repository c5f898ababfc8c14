//! mconsole: UML's management console, wire-compatible with UML's
//! `uml_mconsole`.
//!
//! At boot `setup` creates the umid directory (`uml_dir/umid/` with
//! `pid` and the `mconsole` socket; host half in `host`); `start` starts
//! the helper thread that receives requests and raises an interrupt.
//! `interrupt` runs on the vCPU in the interrupt path and answers every
//! queued request (`commands`), so commands see consistent kernel state.
//! `stop` keeps the vCPU inside the handler, answering only mconsole
//! requests, until `go`: no guest code runs meanwhile.

pub mod commands;
pub mod eth;
#[allow(unsafe_code)]
pub mod host;
pub mod protocol;
pub mod sysrq;

use crate::init::cmdline::Cmdline;
use crate::kernel::printk::printk;
use commands::After;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

static SOCKET_PATH: OnceLock<PathBuf> = OnceLock::new();
/// `mconsole=notify:SOCKET`: where to announce the mconsole socket and
/// a panic, as UML does.
static NOTIFY: OnceLock<PathBuf> = OnceLock::new();
/// A reboot was asked for (mconsole `reboot`, sysrq b): done by the vCPU
/// loop between tasks (`take_reboot`), never inside a task's handler.
static REBOOT: AtomicBool = AtomicBool::new(false);

/// Default `uml_dir`: `~/.uml`, as UML.
fn default_uml_dir() -> PathBuf {
    match std::env::var_os("HOME") {
        Some(h) if !h.is_empty() => PathBuf::from(h).join(".uml"),
        _ => PathBuf::from("/tmp/uml"),
    }
}

/// Create the umid directory and bind the socket. Before anything boots:
/// an error (a live instance owns the umid) is one line for stderr and
/// vmlinux exits with status 2.
pub fn setup(c: &Cmdline) -> Result<(), String> {
    eth::init(c.umid.as_deref());
    if let Some(n) = &c.mconsole_notify {
        let _ = NOTIFY.set(n.clone());
    }
    let uml_dir = match &c.uml_dir {
        Some(d) => d.clone(),
        None => {
            let d = default_uml_dir();
            // The default (~/.uml) may not be writable (a system user, a
            // read-only home): like UML, boot on without a control
            // directory; an explicit uml_dir= must work.
            if let Err(e) = std::fs::create_dir_all(&d) {
                log::warn!(
                    "umid: cannot create {}: {e}; no control directory or mconsole (give uml_dir=)",
                    d.display()
                );
                return Ok(());
            }
            d
        }
    };
    let d = host::create_dir(&uml_dir, c.umid.as_deref())?;
    log::debug!("umid: {} in {}", d.umid, d.dir.display());
    match host::bind(&d.socket) {
        Ok(()) => {
            let _ = SOCKET_PATH.set(d.socket);
        }
        // UML boots on without a management console too.
        Err(e) => log::error!(
            "Failed to initialize management console: {}: {e}",
            d.socket.display()
        ),
    }
    Ok(())
}

/// Start answering requests (once interrupts work).
pub fn start() {
    if let Some(p) = SOCKET_PATH.get() {
        host::start();
        printk(&format!(
            "mconsole (version {}) initialized on {}",
            protocol::VERSION,
            p.display()
        ));
        // The socket's name, NUL-terminated: outside tools learn that
        // the console answers now.
        if let Some(n) = NOTIFY.get() {
            let mut name = p.as_os_str().as_encoded_bytes().to_vec();
            name.push(0);
            host::notify(n, &protocol::notification(protocol::NOTIFY_SOCKET, &name));
        }
    }
}

/// The kernel panics with `reason`: tell the notify socket (UML's panic
/// notifier sends the message, NUL-terminated).
pub fn notify_panic(reason: &str) {
    if let Some(n) = NOTIFY.get() {
        let mut msg = reason.as_bytes().to_vec();
        msg.push(0);
        host::notify(n, &protocol::notification(protocol::NOTIFY_PANIC, &msg));
    }
}

/// Remove the umid directory (every exit path; async-signal-safe).
pub fn cleanup() {
    host::cleanup();
}

/// Has a reboot been requested? Clears the request.
pub fn take_reboot() -> bool {
    REBOOT.swap(false, Ordering::SeqCst)
}

/// Is a reboot waiting? (The running task should give the vCPU back.)
pub fn reboot_pending() -> bool {
    REBOOT.load(Ordering::SeqCst)
}

pub(crate) fn request_reboot() {
    REBOOT.store(true, Ordering::SeqCst);
}

/// The mconsole interrupt: answer every queued request.
pub fn interrupt() {
    while let Some(req) = host::take_request() {
        if let After::Stop = answer(req, false) {
            stopped();
        }
    }
}

/// Answer one request; say what the caller must do next.
fn answer(req: host::Incoming, stopped: bool) -> After {
    let cmd = match protocol::parse(&req.data) {
        protocol::Request::Command(c) => c,
        protocol::Request::Refused(packets) => {
            host::send(&req.from, &packets);
            return After::Nothing;
        }
    };
    log::debug!("mconsole: {cmd:?}");
    let (packets, after) = commands::run(&cmd, stopped);
    host::send(&req.from, &packets);
    match after {
        After::Halt => commands::halt(),
        After::Reboot => {
            request_reboot();
            After::Reboot
        }
        a => a,
    }
}

/// `stop`: no guest code runs and the vCPU sleeps, answering only
/// mconsole requests, until `go` (or a reboot).
fn stopped() {
    log::info!("mconsole: guest stopped");
    // The other vCPUs leave their guests and wait for the kernel lock,
    // which this one keeps until `go`.
    crate::kernel::sched::kick_others();
    loop {
        let req = host::wait_request();
        match answer(req, true) {
            After::Go | After::Reboot => break,
            _ => {}
        }
    }
    log::info!("mconsole: guest continues");
}
