//! Futexes between scripted threads on the scheduler: a waiter woken by
//! FUTEX_WAKE after the word changed, a stale value (EAGAIN), a timeout.

use super::{err, nr};
use crate::kernel::errno::Errno;
use crate::kernel::testing::{self, expect, store_u32, sys, then, DATA};
use std::sync::{Arc, Mutex};

const WAIT_PRIVATE: u64 = 128;
const WAKE_PRIVATE: u64 = 129;

#[test]
fn a_waiter_sleeps_until_woken() {
    let k = testing::kernel();
    let a = testing::process(&k);
    let b = testing::thread(&a);
    let order = Arc::new(Mutex::new(Vec::new()));
    let (o1, o2) = (order.clone(), order.clone());
    testing::script(
        &a,
        vec![
            sys(nr::FUTEX, &[DATA, WAIT_PRIVATE, 0, 0]),
            expect("woken waiter", 0),
            then(move || o1.lock().unwrap().push("a woke")),
        ],
    );
    testing::script(
        &b,
        vec![
            store_u32(DATA, 1),
            sys(nr::FUTEX, &[DATA, WAKE_PRIVATE, 1]),
            expect("one waiter woken", 1),
            then(move || o2.lock().unwrap().push("b woke it")),
            // Nobody waits any more.
            sys(nr::FUTEX, &[DATA, WAKE_PRIVATE, 1]),
            expect("no waiter", 0),
        ],
    );
    testing::run_all(&k);
    assert_eq!(*order.lock().unwrap(), ["b woke it", "a woke"]);
}

#[test]
fn a_stale_value_and_a_timeout() {
    let k = testing::kernel();
    let a = testing::process(&k);
    let ts = DATA + 64;
    // 1 ms, relative (FUTEX_WAIT).
    crate::abi::write_val(&a.mm(), ts, &crate::abi::time::Timespec::from_ns(1_000_000)).unwrap();
    let done = Arc::new(Mutex::new(false));
    let d = done.clone();
    testing::script(
        &a,
        vec![
            sys(nr::FUTEX, &[DATA, WAIT_PRIVATE, 5, 0]),
            expect("*DATA is 0, not 5", err(Errno::EAGAIN)),
            sys(nr::FUTEX, &[DATA + 1, WAIT_PRIVATE, 0, 0]),
            expect("misaligned", err(Errno::EINVAL)),
            sys(nr::FUTEX, &[DATA, WAIT_PRIVATE, 0, ts]),
            expect("nobody wakes it", err(Errno::ETIMEDOUT)),
            then(move || *d.lock().unwrap() = true),
        ],
    );
    testing::run_all(&k);
    assert!(*done.lock().unwrap(), "the script ran to its end");
}
