//! Blocking pipe I/O between scripted processes (`pipe_rw`): a writer
//! larger than the pipe sleeps until the reader makes room, and the reader
//! sees EOF once the writer has exited.

use super::nr;
use crate::fs::file::{File, O_RDONLY, O_WRONLY};
use crate::fs::pipe::{Pipe, PipeEnd, PIPE_BUF_SIZE};
use crate::kernel::testing::{self, expect, sys, DATA};

#[test]
fn a_big_write_waits_for_the_reader_then_eof() {
    let k = testing::kernel();
    let writer = testing::process(&k);
    let reader = testing::process(&k);
    let p = Pipe::new();
    let r = File::new(PipeEnd::new(&p, true, false), None, None, O_RDONLY);
    let w = File::new(PipeEnd::new(&p, false, true), None, None, O_WRONLY);
    assert_eq!(reader.files().lock().unwrap().install(r, false, 16), Ok(0));
    assert_eq!(writer.files().lock().unwrap().install(w, false, 16), Ok(0));
    const LEN: u64 = PIPE_BUF_SIZE as u64 + 4464;
    let cap = PIPE_BUF_SIZE as u64;
    testing::script(
        &writer,
        vec![
            sys(nr::WRITE, &[0, DATA, LEN]),
            expect("all of it, after waiting for room", LEN as i64),
        ],
    );
    // The writer runs first and fills the pipe, then sleeps.
    testing::script(
        &reader,
        vec![
            sys(nr::READ, &[0, DATA, cap]),
            expect("a full pipe", cap as i64),
            sys(nr::READ, &[0, DATA, cap]),
            expect("the rest", (LEN - cap) as i64),
            sys(nr::READ, &[0, DATA, cap]),
            expect("EOF: the writer exited", 0),
        ],
    );
    testing::run_all(&k);
}
