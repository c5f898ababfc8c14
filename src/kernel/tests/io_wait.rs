//! A blocking read whose own failed attempt made the file ready (as a
//! socket's does: its operation polls the network stack, which takes the
//! frames that arrived meanwhile and wakes the still-empty queue) tries
//! again instead of sleeping through the only wake-up it would get.

use super::nr;
use crate::fs::file::{File, FileOps, O_RDONLY};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::testing::{self, expect, sys, DATA};
use crate::kernel::wait::WaitQueue;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Empty at first; the first read finds nothing, then data "arrives"
/// during that same attempt and the queue is woken.
struct ReadyDuringAttempt {
    wq: Arc<WaitQueue>,
    arrived: AtomicBool,
}

impl FileOps for ReadyDuringAttempt {
    fn read(&self, _f: &File, buf: &mut [u8]) -> KResult<usize> {
        if self.arrived.swap(true, Ordering::SeqCst) {
            buf[0] = b'x';
            return Ok(1);
        }
        self.wq.wake_all();
        Err(Errno::EAGAIN)
    }
    fn wait_queue(&self) -> Option<Arc<WaitQueue>> {
        Some(self.wq.clone())
    }
}

#[test]
fn a_read_woken_during_its_own_attempt_does_not_sleep() {
    let k = testing::kernel();
    let reader = testing::process(&k);
    let ops = Arc::new(ReadyDuringAttempt {
        wq: Arc::new(WaitQueue::new()),
        arrived: AtomicBool::new(false),
    });
    let f = File::new(ops, None, None, O_RDONLY);
    assert_eq!(reader.files().lock().unwrap().install(f, false, 16), Ok(0));
    // Nothing else would ever wake it: without the re-check the run
    // never ends and the test fails at the run limit.
    testing::script(
        &reader,
        vec![
            sys(nr::READ, &[0, DATA, 16]),
            expect("the byte that came during the first attempt", 1),
        ],
    );
    testing::run_all(&k);
}
