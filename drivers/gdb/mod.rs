//! A GDB remote-serial-protocol server for guest processes (`gdbport=PORT`,
//! something UML never had): host gdb connects to 127.0.0.1:PORT with
//! `target extended-remote`, attaches to a guest process by PID and
//! debugs it with breakpoints, single steps and its threads, without a
//! gdb inside the guest.
//!
//! The protocol is the `gdbstub` crate's state machine. The helper
//! thread (`host`) queues what gdb sends and raises an interrupt; the
//! vCPU feeds it to the state machine from its interrupt path
//! (`interrupt`), as the mconsole does, so every request sees consistent
//! kernel state. The traced threads stop in ordinary ptrace-stops with
//! the debugger as their tracer (`kernel::ptrace::debugger`); a stop
//! raises the interrupt too (`notify`), and the interrupt path reports it.

mod host;
mod signals;
mod target;

use gdbstub::stub::state_machine::GdbStubStateMachine;
use gdbstub::stub::{DisconnectReason, GdbStub};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use target::{GuestTarget, Reason};

type Machine = GdbStubStateMachine<'static, GuestTarget, host::Conn>;

/// One debugger connection.
struct Session {
    /// None only while a transition is under way.
    machine: Option<Machine>,
    target: GuestTarget,
}

static SESSION: Mutex<Option<Session>> = Mutex::new(None);
static LISTENER: Mutex<Option<std::net::TcpListener>> = Mutex::new(None);
static PORT: OnceLock<u16> = OnceLock::new();
/// A traced thread stopped or exited since the interrupt path last looked.
static EVENT: AtomicBool = AtomicBool::new(false);

/// Bind 127.0.0.1:`port` before boot (a port in use is refused).
pub fn setup(port: u16) -> Result<(), String> {
    let l = host::bind(port).map_err(|e| format!("gdbport={port}: {e}"))?;
    *LISTENER.lock().unwrap_or_else(|e| e.into_inner()) = Some(l);
    let _ = PORT.set(port);
    Ok(())
}

/// Start serving (once interrupts work).
pub fn start() {
    let l = LISTENER.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let (Some(l), Some(port)) = (l, PORT.get()) {
        host::start(l);
        crate::kernel::printk::printk(&format!(
            "gdb: remote protocol server on 127.0.0.1:{port} (target extended-remote, attach PID)"
        ));
    }
}

/// A thread the debugger traces stopped or exited (from the kernel's
/// ptrace hooks; any vCPU): the interrupt path reports it.
pub fn notify() {
    EVENT.store(true, Ordering::SeqCst);
    crate::arch::irq::raise();
}

/// The interrupt path: what gdb sent, then stops of the traced threads.
pub fn interrupt() {
    if PORT.get().is_none() {
        return;
    }
    let mut s = SESSION.lock().unwrap_or_else(|e| e.into_inner());
    while let Some(input) = host::take() {
        match input {
            host::Input::Connected(stream) => {
                if let Some(old) = s.take() {
                    old.end();
                }
                let conn = host::Conn::new(stream);
                match GdbStub::new(conn).run_state_machine(&mut GuestTarget::default()) {
                    Ok(m) => {
                        *s = Some(Session {
                            machine: Some(m),
                            target: GuestTarget::default(),
                        })
                    }
                    Err(e) => log::error!("gdb: cannot start a session: {e}"),
                }
            }
            host::Input::Bytes(bytes) => {
                if let Some(sess) = s.as_mut() {
                    if !sess.feed(&bytes) {
                        if let Some(old) = s.take() {
                            old.end();
                        }
                    }
                }
            }
            host::Input::Closed => {
                if let Some(old) = s.take() {
                    log::info!("gdb: connection closed");
                    old.end();
                }
            }
        }
    }
    if EVENT.swap(false, Ordering::SeqCst) {
        if let Some(sess) = s.as_mut() {
            if !sess.poll() {
                if let Some(old) = s.take() {
                    old.end();
                }
            }
        }
    }
}

impl Session {
    /// Feed gdb's bytes to the protocol. False: the session is over.
    fn feed(&mut self, bytes: &[u8]) -> bool {
        for &b in bytes {
            let Some(m) = self.machine.take() else {
                return false;
            };
            let r = match m {
                GdbStubStateMachine::Idle(m) => m.incoming_data(&mut self.target, b),
                GdbStubStateMachine::Running(m) => m.incoming_data(&mut self.target, b),
                other => Ok(other),
            };
            match r {
                Ok(m) => self.machine = Some(m),
                Err(e) => {
                    log::warn!("gdb: protocol error: {e}");
                    return false;
                }
            }
            if !self.settle() {
                return false;
            }
        }
        // A stop may have come while gdb was talking.
        self.poll()
    }

    /// Handle the states that need the target's action: ctrl-C stops
    /// the process; a detach (or kill) lets it go and waits for the next
    /// attach on the same connection. False: the session is over.
    fn settle(&mut self) -> bool {
        let Some(m) = self.machine.take() else {
            return false;
        };
        let r = match m {
            GdbStubStateMachine::CtrlCInterrupt(m) => {
                self.target.interrupt();
                m.interrupt_handled(&mut self.target, None::<Reason>)
            }
            GdbStubStateMachine::Disconnected(m) => {
                if m.get_reason() != DisconnectReason::Kill {
                    self.target.detach();
                }
                Ok(m.return_to_idle())
            }
            other => Ok(other),
        };
        match r {
            Ok(m) => {
                self.machine = Some(m);
                true
            }
            Err(e) => {
                log::warn!("gdb: protocol error: {e}");
                false
            }
        }
    }

    /// Report a stop (or the exit) of the process while it runs. False:
    /// the session is over.
    fn poll(&mut self) -> bool {
        let Some(m) = self.machine.take() else {
            return false;
        };
        let r = match m {
            GdbStubStateMachine::Running(m) => match self.target.sweep(true) {
                Some(reason) => m.report_stop(&mut self.target, reason),
                None => Ok(m.into()),
            },
            other => Ok(other),
        };
        match r {
            Ok(m) => {
                self.machine = Some(m);
                self.settle()
            }
            Err(e) => {
                log::warn!("gdb: protocol error: {e}");
                false
            }
        }
    }

    /// The connection is gone: the process runs on untraced.
    fn end(mut self) {
        self.target.detach();
        if let Some(m) = self.machine.as_mut() {
            let conn = match m {
                GdbStubStateMachine::Idle(m) => m.borrow_conn(),
                GdbStubStateMachine::Running(m) => m.borrow_conn(),
                GdbStubStateMachine::CtrlCInterrupt(m) => m.borrow_conn(),
                GdbStubStateMachine::Disconnected(m) => m.borrow_conn(),
            };
            conn.close();
        }
    }
}
