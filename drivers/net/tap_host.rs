//! TAP host half: attach to a host TAP interface through /dev/net/tun
//! (which creates it when it is missing and we hold CAP_NET_ADMIN, as
//! UML's tuntap transport does) and move Ethernet frames in helper
//! threads: a reader that hands each received frame to a callback (the
//! kernel half queues it and raises an interrupt), and a writer fed by a
//! channel, so the vCPU never waits for the host.

use crate::drivers::net::tap::Stop;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

const TUNSETIFF: libc::c_ulong = 0x400454ca;
const IFF_TAP: libc::c_short = 0x0002;
const IFF_NO_PI: libc::c_short = 0x1000;
/// Largest frame read at once: 1500 bytes of payload, the Ethernet
/// header and room for a VLAN tag; longer frames are truncated by the
/// host and dropped by the stack.
pub const FRAME_MAX: usize = 1518;
/// Frames waiting for the writer at most. A guest sending faster than the
/// host takes them loses the rest, as a NIC with a full transmit ring
/// does (and UDP over a real wire); an unbounded queue would grow by the
/// whole flood.
const TX_QUEUE_MAX: usize = 512;

/// Where received frames go (called on the reader thread).
pub type Receive = Arc<dyn Fn(Vec<u8>) + Send + Sync>;

/// An attached TAP: its fd, shared by the helpers.
pub struct HostTap {
    file: Arc<File>,
}

impl HostTap {
    /// Attach to TAP interface `name` (without packet-info headers: the
    /// reads and writes are bare Ethernet frames).
    pub fn open(name: &str) -> io::Result<HostTap> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/net/tun")?;
        // struct ifreq: a 16-byte name, then the flags (short) in the union.
        let mut req = [0u8; 40];
        if name.len() >= 16 {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        req[..name.len()].copy_from_slice(name.as_bytes());
        req[16..18].copy_from_slice(&(IFF_TAP | IFF_NO_PI).to_ne_bytes());
        // SAFETY: TUNSETIFF reads and writes one struct ifreq, and `req`
        // is a 40-byte buffer, its size, that lives across the call.
        let r = unsafe { libc::ioctl(file.as_raw_fd(), TUNSETIFF, req.as_mut_ptr()) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(HostTap::from_file(file))
    }

    /// Frames over another fd that reads and writes one frame at a time
    /// (`raw_host`'s AF_PACKET socket).
    pub fn from_file(file: File) -> HostTap {
        HostTap {
            file: Arc::new(file),
        }
    }

    /// Start the helpers (named after the guest device). Returns the
    /// queue into the writer (bounded: `try_send` fails when it is full)
    /// and how to end the reader. The writer ends when the queue's sender
    /// is dropped; the fd is closed when both have ended.
    pub fn start(&self, name: &str, rx: Receive) -> io::Result<(SyncSender<Vec<u8>>, Stop)> {
        let (tx, txq) = sync_channel::<Vec<u8>>(TX_QUEUE_MAX);
        let (stop_r, stop_w) = nix::unistd::pipe().map_err(io::Error::from)?;
        let reader = self.file.clone();
        std::thread::Builder::new()
            .name(format!("{name}-rx"))
            .spawn(move || read_loop(&reader, &stop_r, rx))?;
        let writer = self.file.clone();
        std::thread::Builder::new()
            .name(format!("{name}-tx"))
            .spawn(move || write_loop(&writer, txq))?;
        let stop: Stop = Box::new(move || {
            let _ = File::from(stop_w).write(&[1]);
        });
        Ok((tx, stop))
    }
}

/// Read frames until told to stop (a byte on `stop`), or until the fd
/// fails (the interface was deleted on the host): the device then stays
/// silent, as an unplugged cable.
fn read_loop(mut file: &File, stop: &OwnedFd, rx: Receive) {
    crate::arch::unpin_helper_thread();
    let mut buf = vec![0u8; FRAME_MAX];
    loop {
        let mut fds = [
            PollFd::new(file.as_fd(), PollFlags::POLLIN),
            PollFd::new(stop.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => {
                log::warn!("tap: poll: {e}; no more frames from the host");
                break;
            }
            Ok(_) => {}
        }
        if fds[1].any().unwrap_or(true) {
            break;
        }
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => rx(buf[..n].to_vec()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                log::warn!("tap: read: {e}; no more frames from the host");
                break;
            }
        }
    }
}

/// Write frames in order; one that the host refuses is dropped (a
/// lossy wire), and the writer goes on.
fn write_loop(mut file: &File, txq: Receiver<Vec<u8>>) {
    crate::arch::unpin_helper_thread();
    let mut warned = false;
    while let Ok(frame) = txq.recv() {
        if let Err(e) = file.write(&frame) {
            if !warned {
                log::warn!("tap: write: {e}; frames dropped");
                warned = true;
            }
        }
    }
}
