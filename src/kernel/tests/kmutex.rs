//! The sleeping mutex with scripted tasks: the owner sleeps while holding
//! it and others run meanwhile, waiters sleep in 'D' and get it in arrival
//! order, and a killed waiter of `lock_killable` leaves the queue.

use super::nr;
use crate::kernel::kmutex::KMutex;
use crate::kernel::sched;
use crate::kernel::task::State;
use crate::kernel::testing::{self, in_kernel, sys};
use crate::kernel::time::monotonic_ns;
use std::sync::{Arc, Mutex};

type Log = Arc<Mutex<Vec<&'static str>>>;

fn push(log: &Log, what: &'static str) {
    log.lock().unwrap().push(what);
}

/// The owner sleeps (as for a disk read) holding the mutex: a task that
/// does not want it runs meanwhile, two that want it sleep in D state and
/// get it one after the other, in the order they came; each critical
/// section sees the previous one's update.
#[test]
fn waiters_sleep_and_get_it_in_order_while_others_run() {
    let k = testing::kernel();
    let log: Log = Default::default();
    let m: Arc<KMutex<u32>> = Arc::new(KMutex::new(0));
    let a = testing::process(&k);
    let b = testing::process(&k);
    let c = testing::process(&k);
    let d = testing::process(&k);
    let (l, mm) = (log.clone(), m.clone());
    testing::script(
        &a,
        vec![in_kernel(move |t| {
            let mut g = mm.lock();
            push(&l, "a in");
            let v = *g;
            sched::wait_uninterruptible(t, Some(monotonic_ns() + 2_000_000));
            *g = v + 1;
            push(&l, "a out");
            0
        })],
    );
    for (task, wants, inside) in [(&b, "b wants", "b in"), (&c, "c wants", "c in")] {
        let (l, mm) = (log.clone(), m.clone());
        testing::script(
            task,
            vec![in_kernel(move |_| {
                push(&l, wants);
                let mut g = mm.lock();
                push(&l, inside);
                *g += 1;
                *g as i64
            })],
        );
    }
    let (l, bb, cc, mm) = (log.clone(), b.clone(), c.clone(), m.clone());
    testing::script(
        &d,
        vec![in_kernel(move |_| {
            for w in [&bb, &cc] {
                let i = w.lock();
                assert_eq!(i.state, State::Blocked, "a waiter sleeps");
                assert!(i.io_wait, "uninterruptibly ('D')");
            }
            assert!(mm.is_locked());
            assert!(mm.try_lock().is_none(), "held, and waited for");
            push(&l, "d ran");
            0
        })],
    );
    testing::run_all(&k);
    assert_eq!(
        *log.lock().unwrap(),
        ["a in", "b wants", "c wants", "d ran", "a out", "b in", "c in"]
    );
    assert_eq!(*m.lock(), 3);
    assert!(!m.is_locked());
}

/// A waiter in `lock_killable` killed by SIGKILL gets EINTR and leaves
/// the queue: the mutex goes to the next waiter, never to the dead one.
#[test]
fn a_killed_killable_waiter_leaves_the_queue() {
    let k = testing::kernel();
    let log: Log = Default::default();
    let m: Arc<KMutex<()>> = Arc::new(KMutex::new(()));
    let a = testing::process(&k);
    let b = testing::process(&k);
    let c = testing::process(&k);
    let d = testing::process(&k);
    let (l, mm) = (log.clone(), m.clone());
    testing::script(
        &a,
        vec![in_kernel(move |t| {
            let _g = mm.lock();
            // Long enough for b, c and d to run; the kill ends nothing here.
            sched::wait_uninterruptible(t, Some(monotonic_ns() + 5_000_000));
            push(&l, "a out");
            0
        })],
    );
    let (l, mm) = (log.clone(), m.clone());
    testing::script(
        &b,
        vec![in_kernel(move |_| match mm.lock_killable() {
            Ok(_) => {
                push(&l, "b in");
                0
            }
            Err(_) => {
                push(&l, "b eintr");
                -4
            }
        })],
    );
    let (l, mm) = (log.clone(), m.clone());
    testing::script(
        &c,
        vec![in_kernel(move |_| {
            let _g = mm.lock();
            push(&l, "c in");
            0
        })],
    );
    testing::script(&d, vec![sys(nr::KILL, &[b.tgid() as u64, 9])]);
    testing::run_all(&k);
    assert_eq!(*log.lock().unwrap(), ["b eintr", "a out", "c in"]);
    assert!(!m.is_locked());
}

/// Outside a task (the vCPU loop), `try_lock` takes a free mutex and
/// refuses a held one.
#[test]
fn try_lock_outside_a_task() {
    let m = KMutex::new(5);
    let g = m.try_lock().expect("free");
    assert_eq!(*g, 5);
    assert!(m.try_lock().is_none());
    drop(g);
    assert!(m.try_lock().is_some());
}
