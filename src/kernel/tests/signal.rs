//! Signals without a running guest: pending sets and masks, ignored and
//! unblockable signals, thread- and process-directed sends, stop and
//! continue, and a handler's frame on the fake address space.

use crate::kernel::errno::Errno;
use crate::kernel::signal::*;
use crate::kernel::task::{State, Task};
use crate::kernel::testing::{self, HANDLER, RESTORER, STACK_TOP};
use std::sync::Arc;

fn send(t: &Arc<Task>, sig: i32) {
    send_to_thread(t, SigInfo::kernel(sig));
}

fn set_handler(t: &Task, sig: i32, handler: u64, flags: u64) {
    let a = SigAction {
        handler,
        flags,
        restorer: RESTORER,
        mask: 0,
    };
    t.sighand().lock().unwrap().set(sig, a);
}

#[test]
fn blocked_signals_stay_pending_until_unblocked() {
    let k = testing::kernel();
    let t = testing::process(&k);
    t.lock().sigmask = bit(SIGUSR1);
    send(&t, SIGUSR1);
    assert!(!has_pending(&t));
    assert_eq!(pending_set(&t), bit(SIGUSR1));
    t.lock().sigmask = 0;
    assert!(has_pending(&t));
}

#[test]
fn ignored_signals_are_discarded_unless_blocked() {
    let k = testing::kernel();
    let t = testing::process(&k);
    set_handler(&t, SIGUSR2, SIG_IGN, 0);
    send(&t, SIGUSR2);
    // Default action "ignore".
    send_to_process(t.tgid(), SigInfo::kernel(SIGCHLD)).unwrap();
    assert_eq!(pending_set(&t), 0);
    // Blocked, it is kept: the action may change before it is unblocked.
    t.lock().sigmask = bit(SIGUSR2);
    send(&t, SIGUSR2);
    assert_eq!(pending_set(&t), bit(SIGUSR2));
}

#[test]
fn sigkill_cannot_be_blocked_and_is_fatal() {
    let k = testing::kernel();
    let t = testing::process(&k);
    t.lock().sigmask = !0;
    send(&t, SIGTERM);
    assert!(!has_pending(&t) && !fatal_pending(&t), "SIGTERM is blocked");
    send(&t, SIGKILL);
    assert!(has_pending(&t));
    assert!(fatal_pending(&t));
}

#[test]
fn fatal_pending_depends_on_the_action() {
    let k = testing::kernel();
    let t = testing::process(&k);
    send(&t, SIGTERM);
    assert!(fatal_pending(&t));
    let u = testing::process(&k);
    set_handler(&u, SIGTERM, HANDLER, 0);
    send(&u, SIGTERM);
    assert!(has_pending(&u) && !fatal_pending(&u), "caught");
    let v = testing::process(&k);
    send(&v, SIGWINCH);
    send(&v, SIGCONT);
    assert!(!fatal_pending(&v));
}

#[test]
fn thread_and_process_directed_signals() {
    let k = testing::kernel();
    let a = testing::process(&k);
    let b = testing::thread(&a);
    a.lock().sigmask = bit(SIGUSR1);
    // To one thread: only that thread has it (blocked there).
    send(&a, SIGUSR1);
    assert!(!has_pending(&a) && !has_pending(&b));
    assert_eq!(pending_set(&b), 0);
    // To the process: any thread that does not block it may take it.
    send_to_process(a.tgid(), SigInfo::kernel(SIGUSR2)).unwrap();
    assert!(has_pending(&a) && has_pending(&b));
    assert_eq!(
        dequeue_from(&b, bit(SIGUSR2)).map(|i| i.signo),
        Some(SIGUSR2)
    );
    assert!(!has_pending(&a), "taken by b: gone for a too");
    assert_eq!(
        send_to_process(40000, SigInfo::kernel(SIGUSR1)),
        Err(Errno::ESRCH)
    );
    assert_eq!(
        send_to_process(a.tgid(), SigInfo::kernel(65)),
        Err(Errno::EINVAL)
    );
}

#[test]
fn stop_and_continue_cancel_each_other() {
    let k = testing::kernel();
    let t = testing::process(&k);
    let pid = t.tgid();
    send_to_process(pid, SigInfo::kernel(SIGSTOP)).unwrap();
    send_to_process(pid, SigInfo::kernel(SIGCONT)).unwrap();
    assert_eq!(pending_set(&t), bit(SIGCONT), "SIGCONT discards the stop");
    send_to_process(pid, SigInfo::kernel(SIGTSTP)).unwrap();
    assert_eq!(pending_set(&t), bit(SIGTSTP), "a stop discards SIGCONT");
    // Delivered, SIGSTOP stops the process (SIGTSTP alone would be
    // discarded: a test process's group is orphaned)...
    send_to_process(pid, SigInfo::kernel(SIGSTOP)).unwrap();
    assert!(!deliver(&t));
    assert_eq!(t.state(), State::Stopped);
    assert!(t.tg().lock().stopped);
    // ...and SIGCONT resumes it at once, even before it is delivered.
    send_to_process(pid, SigInfo::kernel(SIGCONT)).unwrap();
    assert_eq!(t.state(), State::Runnable);
    assert!(!t.tg().lock().stopped);
    assert!(deliver(&t), "SIGCONT's default action is only to continue");
    assert_eq!(pending_set(&t), 0);
}

#[test]
fn a_fatal_signal_kills_at_delivery() {
    let k = testing::kernel();
    let t = testing::process(&k);
    send(&t, SIGTERM);
    assert!(!deliver(&t));
    assert_eq!(t.state(), State::Dead);
    assert_eq!(t.tg().lock().zombie, Some(SIGTERM));
}

#[test]
fn a_handler_gets_a_frame_and_sigreturn_restores_the_thread() {
    let k = testing::kernel();
    let t = testing::process(&k);
    set_handler(&t, SIGUSR1, HANDLER, SA_RESETHAND);
    let before = {
        let mut i = t.lock();
        i.ctx.regs.rip = 0x1234;
        i.ctx.regs.rbx = 77;
        i.ctx.regs
    };
    send(&t, SIGUSR1);
    assert!(deliver(&t));
    let r = t.lock().ctx.regs;
    assert_eq!((r.rip, r.rdi), (HANDLER, SIGUSR1 as u64));
    assert!(
        r.rsp < STACK_TOP - 64 && r.rsp % 16 == 8,
        "frame below, ABI-aligned"
    );
    let mm = t.mm();
    assert_eq!(
        mm.read_vec(r.rsp, 8).unwrap(),
        RESTORER.to_le_bytes(),
        "return address"
    );
    assert_eq!(t.lock().sigmask, bit(SIGUSR1), "blocked in its handler");
    assert_eq!(
        t.sighand().lock().unwrap().get(SIGUSR1).handler,
        SIG_DFL,
        "SA_RESETHAND"
    );
    // The handler returns to the restorer, which calls rt_sigreturn.
    {
        let mut i = t.lock();
        i.ctx.regs.rsp += 8;
        i.ctx.regs.rbx = 0;
    }
    sigreturn(&t).unwrap();
    let after = t.lock().ctx.regs;
    assert_eq!(
        (after.rip, after.rsp, after.rbx),
        (before.rip, before.rsp, 77)
    );
    assert_eq!(t.lock().sigmask, 0);
}
