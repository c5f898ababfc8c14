//! The scheduler with scripted tasks: yielding interleaves them, a sleeper
//! is woken by the timer while others run, and a signal ends a blocked
//! read with EINTR or restarts it (SA_RESTART).

use super::{err, nr};
use crate::abi::signal::KSigaction;
use crate::abi::time::Timespec;
use crate::kernel::errno::Errno;
use crate::kernel::signal::{SA_RESTART, SIGUSR1};
use crate::kernel::testing::{self, expect, expect_mem, sys, then, DATA, HANDLER, RESTORER};
use crate::kernel::time::monotonic_ns;
use std::sync::{Arc, Mutex};

type Log = Arc<Mutex<Vec<&'static str>>>;

fn note(log: &Log, what: &'static str) -> crate::arch::fake_guest::Step {
    let l = log.clone();
    then(move || l.lock().unwrap().push(what))
}

#[test]
fn yielding_tasks_take_turns() {
    let k = testing::kernel();
    let log: Log = Default::default();
    let a = testing::process(&k);
    let b = testing::process(&k);
    let y = || sys(nr::SCHED_YIELD, &[]);
    testing::script(
        &a,
        vec![
            note(&log, "a1"),
            y(),
            note(&log, "a2"),
            y(),
            note(&log, "a3"),
        ],
    );
    testing::script(&b, vec![note(&log, "b1"), y(), note(&log, "b2")]);
    testing::run_all(&k);
    assert_eq!(*log.lock().unwrap(), ["a1", "b1", "a2", "b2", "a3"]);
}

#[test]
fn a_sleeper_is_woken_by_the_timer_while_others_run() {
    let k = testing::kernel();
    let log: Log = Default::default();
    let a = testing::process(&k);
    let b = testing::process(&k);
    const NS: u64 = 2_000_000;
    crate::abi::write_val(&a.mm(), DATA, &Timespec::from_ns(NS as i64)).unwrap();
    let start = monotonic_ns();
    testing::script(
        &a,
        vec![
            sys(nr::NANOSLEEP, &[DATA, 0]),
            expect("slept", 0),
            then(move || {
                assert!(
                    monotonic_ns() - start >= NS as i64,
                    "not before its deadline"
                )
            }),
            note(&log, "a woke"),
        ],
    );
    testing::script(&b, vec![note(&log, "b ran")]);
    testing::run_all(&k);
    assert_eq!(*log.lock().unwrap(), ["b ran", "a woke"]);
}

/// `a` blocks reading an empty pipe with a SIGUSR1 handler (`flags`);
/// its sibling thread signals it, then writes. Returns the handlers run.
fn read_interrupted(flags: u64, want: i64) -> Vec<i32> {
    const SA_RESTORER: u64 = 0x0400_0000;
    let k = testing::kernel();
    let a = testing::process(&k);
    let b = testing::thread(&a);
    let (fds, act, buf, msg) = (DATA, DATA + 64, DATA + 256, DATA + 512);
    let mm = a.mm();
    let sa = KSigaction {
        sa_handler: HANDLER,
        sa_flags: flags | SA_RESTORER,
        sa_restorer: RESTORER,
        sa_mask: 0,
    };
    crate::abi::write_val(&mm, act, &sa).unwrap();
    mm.write(msg, b"hello").unwrap();
    let handled = testing::script(
        &a,
        vec![
            sys(nr::PIPE2, &[fds, 0]),
            expect("pipe2", 0),
            expect_mem(fds, &[0, 0, 0, 0, 1, 0, 0, 0]),
            sys(nr::RT_SIGACTION, &[SIGUSR1 as u64, act, 0, 8]),
            expect("sigaction", 0),
            sys(nr::READ, &[0, buf, 16]),
            expect("the read's result", want),
        ],
    );
    // b runs once a blocks (a was queued first and runs until it sleeps).
    testing::script(
        &b,
        vec![
            sys(nr::TGKILL, &[a.tgid() as u64, a.tid as u64, SIGUSR1 as u64]),
            expect("tgkill", 0),
            sys(nr::WRITE, &[1, msg, 5]),
            expect("write", 5),
        ],
    );
    testing::run_all(&k);
    let h = handled.lock().unwrap().clone();
    h
}

#[test]
fn a_signal_interrupts_a_blocked_read() {
    assert_eq!(read_interrupted(0, err(Errno::EINTR)), [SIGUSR1]);
}

#[test]
fn sa_restart_restarts_a_blocked_read() {
    assert_eq!(read_interrupted(SA_RESTART, 5), [SIGUSR1]);
}

#[test]
fn a_stopped_reader_continues_and_its_read_restarts() {
    use crate::fs::file::{File, O_RDONLY, O_WRONLY};
    use crate::fs::pipe::{Pipe, PipeEnd};
    use crate::kernel::signal::{SIGCONT, SIGSTOP};
    use crate::kernel::task::State;
    let k = testing::kernel();
    let a = testing::process(&k);
    let b = testing::process(&k);
    // One pipe, read by a (its fd 0), written by b (its fd 0).
    let p = Pipe::new();
    let r = File::new(PipeEnd::new(&p, true, false), None, None, O_RDONLY);
    let w = File::new(PipeEnd::new(&p, false, true), None, None, O_WRONLY);
    assert_eq!(a.files().lock().unwrap().install(r, false, 16), Ok(0));
    assert_eq!(b.files().lock().unwrap().install(w, false, 16), Ok(0));
    let (buf, msg, ts) = (DATA + 256, DATA, DATA + 64);
    b.mm().write(msg, b"hello").unwrap();
    crate::abi::write_val(&b.mm(), ts, &Timespec::from_ns(1_000_000)).unwrap();
    let (pa, ta) = (a.tgid() as u64, a.clone());
    let handled = testing::script(
        &a,
        vec![
            sys(nr::READ, &[0, buf, 16]),
            expect("restarted after the stop, not EINTR", 5),
            expect_mem(buf, b"hello"),
        ],
    );
    testing::script(
        &b,
        vec![
            sys(nr::KILL, &[pa, SIGSTOP as u64]),
            // Sleep so that a runs, takes the stop and stops.
            sys(nr::NANOSLEEP, &[ts, 0]),
            then(move || assert_eq!(ta.state(), State::Stopped)),
            sys(nr::KILL, &[pa, SIGCONT as u64]),
            sys(nr::WRITE, &[0, msg, 5]),
            expect("write", 5),
        ],
    );
    testing::run_all(&k);
    assert!(handled.lock().unwrap().is_empty(), "no handler ran");
}
