//! Pipes through their file objects: capacity, EAGAIN, EOF, EPIPE and
//! PIPE_BUF atomicity (blocking is `pipe_rw`'s, tested with the scheduler).

use crate::fs::file::{File, O_RDONLY, O_WRONLY};
use crate::fs::pipe::{Pipe, PipeEnd, PIPE_BUF, PIPE_BUF_SIZE};
use crate::kernel::errno::Errno;
use std::sync::Arc;

fn pipe() -> (Arc<Pipe>, Arc<File>, Arc<File>) {
    let p = Pipe::new();
    let r = File::new(PipeEnd::new(&p, true, false), None, None, O_RDONLY);
    let w = File::new(PipeEnd::new(&p, false, true), None, None, O_WRONLY);
    (p, r, w)
}

fn read(f: &File, n: usize) -> Result<Vec<u8>, Errno> {
    let mut b = vec![0; n];
    let got = f.ops.read(f, &mut b)?;
    b.truncate(got);
    Ok(b)
}

fn write(f: &File, b: &[u8]) -> Result<usize, Errno> {
    f.ops.write(f, b)
}

#[test]
fn bytes_come_out_in_order_and_empty_reads_would_block() {
    let (_p, r, w) = pipe();
    assert_eq!(read(&r, 8), Err(Errno::EAGAIN), "empty, writer open");
    assert_eq!(write(&w, b"hello "), Ok(6));
    assert_eq!(write(&w, b"world"), Ok(5));
    assert_eq!(read(&r, 3).unwrap(), b"hel");
    assert_eq!(read(&r, 100).unwrap(), b"lo world");
    assert_eq!(read(&r, 8), Err(Errno::EAGAIN));
}

#[test]
fn a_full_pipe_takes_what_fits_then_nothing() {
    let (p, r, w) = pipe();
    assert_eq!(p.capacity(), PIPE_BUF_SIZE);
    let big = vec![7u8; PIPE_BUF_SIZE + 1000];
    // A write above PIPE_BUF may be partial: it fills the pipe.
    assert_eq!(write(&w, &big), Ok(PIPE_BUF_SIZE));
    assert_eq!(write(&w, b"x"), Err(Errno::EAGAIN));
    assert_eq!(read(&r, 10).unwrap().len(), 10);
    assert_eq!(write(&w, b"0123456789ab"), Err(Errno::EAGAIN));
    assert_eq!(write(&w, b"0123456789"), Ok(10));
}

#[test]
fn small_writes_are_all_or_nothing() {
    let (_p, r, w) = pipe();
    let fill = vec![1u8; PIPE_BUF_SIZE - 100];
    assert_eq!(write(&w, &fill), Ok(fill.len()));
    // 100 bytes of room: a PIPE_BUF write must not be split...
    assert_eq!(write(&w, &vec![2u8; PIPE_BUF]), Err(Errno::EAGAIN));
    // ...while a larger one takes what fits.
    assert_eq!(write(&w, &vec![3u8; PIPE_BUF + 1]), Ok(100));
    let all = read(&r, PIPE_BUF_SIZE).unwrap();
    assert_eq!(all.len(), PIPE_BUF_SIZE);
    assert!(all[..fill.len()].iter().all(|&b| b == 1));
    assert!(all[fill.len()..].iter().all(|&b| b == 3));
}

#[test]
fn capacity_changes_round_up_and_refuse_to_lose_data() {
    let (p, _r, w) = pipe();
    assert_eq!(p.set_capacity(5000, false), Ok(8192));
    assert_eq!(write(&w, &vec![0u8; 9000]), Ok(8192));
    assert_eq!(p.set_capacity(4096, false), Err(Errno::EBUSY));
    assert_eq!(p.set_capacity(2 << 20, false), Err(Errno::EPERM));
    assert_eq!(p.set_capacity(2 << 20, true), Ok(2 << 20));
}

#[test]
fn readers_see_eof_once_the_last_writer_closes() {
    let (_p, r, w) = pipe();
    let w2 = File::new(w.ops.clone(), None, None, O_WRONLY);
    assert_eq!(write(&w, b"last"), Ok(4));
    drop(w);
    // The end is still open through another file: no EOF yet.
    assert_eq!(read(&r, 8).unwrap(), b"last");
    assert_eq!(read(&r, 8), Err(Errno::EAGAIN));
    drop(w2);
    assert_eq!(read(&r, 8).unwrap(), b"", "EOF");
}

#[test]
fn writing_without_a_reader_is_epipe() {
    let (p, r, w) = pipe();
    assert_eq!(p.readers(), 1);
    drop(r);
    assert_eq!(p.readers(), 0);
    assert_eq!(write(&w, b"x"), Err(Errno::EPIPE));
}
