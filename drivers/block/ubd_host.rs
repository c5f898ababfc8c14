//! ubd host half: the host file behind a ubd device and the helper threads
//! that do its I/O, as UML's io thread does. The vCPU hands requests over
//! and goes on running guests; a helper reports each finished request
//! through a callback (the kernel half turns that into an interrupt).
//!
//! Two helpers per disk: a writer that takes writes and flushes strictly in
//! order (so a flush is a barrier: everything queued before it is on the
//! host disk when it completes), and a reader, so that a read never waits
//! behind a host fdatasync. Plain positional I/O on a `std::fs::File`,
//! or through a UML COW overlay (cow_host); errors come back as `std::io::Error` for the kernel half to turn into
//! EIO.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;

use super::cow_host::CowDisk;

pub struct HostDisk {
    backend: Backend,
    size: u64,
}

/// Where a disk's sectors live on the host.
enum Backend {
    /// One image file.
    Plain(File),
    /// A UML COW overlay over a read-only backing image.
    Cow(CowDisk),
}

impl Backend {
    fn read(&self, off: u64, len: usize) -> io::Result<Vec<u8>> {
        match self {
            Backend::Plain(file) => {
                let mut buf = vec![0u8; len];
                // Bytes past the host file's end (it may have shrunk) are
                // an error.
                file.read_exact_at(&mut buf, off).map(|_| buf)
            }
            Backend::Cow(c) => c.read(off, len),
        }
    }
    fn write(&self, off: u64, data: &[u8]) -> io::Result<()> {
        match self {
            Backend::Plain(file) => file.write_all_at(data, off),
            Backend::Cow(c) => c.write(off, data),
        }
    }
    fn flush(&self) -> io::Result<()> {
        match self {
            Backend::Plain(file) => file.sync_data(),
            Backend::Cow(c) => c.flush(),
        }
    }
}

/// Why a host file could not be attached.
pub enum OpenError {
    Io(io::Error),
    /// Another process holds a conflicting lock: the holder's pid when the
    /// host tells (it does for a POSIX lock, e.g. linux.uml's).
    Locked(Option<i32>),
}

/// One host I/O request. `tag` is the kernel half's name for it.
pub enum HostOp {
    /// Read `len` bytes at `off`.
    Read { off: u64, len: usize },
    /// Write `data` at `off`.
    Write { off: u64, data: Arc<[u8]> },
    /// fdatasync: everything the writer did before is durable after this.
    Flush,
}

pub struct HostReq {
    pub tag: u64,
    pub op: HostOp,
}

/// A finished request: the bytes read (empty for writes and flushes) or
/// the host error.
pub struct HostDone {
    pub tag: u64,
    pub result: io::Result<Vec<u8>>,
}

/// Where finished requests go (called on the helper thread).
pub type Completer = Arc<dyn Fn(HostDone) + Send + Sync>;

/// The queues into a disk's helper threads.
pub struct HostQueues {
    writer: Sender<HostReq>,
    reader: Sender<HostReq>,
}

impl HostQueues {
    /// Queue a write or flush behind everything written before.
    pub fn submit_write(&self, r: HostReq) -> io::Result<()> {
        self.writer
            .send(r)
            .map_err(|_| io::Error::other("ubd writer thread is gone"))
    }
    /// Queue a read.
    pub fn submit_read(&self, r: HostReq) -> io::Result<()> {
        self.reader
            .send(r)
            .map_err(|_| io::Error::other("ubd reader thread is gone"))
    }
}

impl HostDisk {
    /// A disk over one image file opened by `open_file`.
    pub fn plain(file: File) -> io::Result<HostDisk> {
        let size = file.metadata()?.len();
        Ok(HostDisk {
            backend: Backend::Plain(file),
            size,
        })
    }

    /// A disk over a COW overlay (see cow_host).
    pub fn cow(c: CowDisk) -> HostDisk {
        HostDisk {
            size: c.size(),
            backend: Backend::Cow(c),
        }
    }

    /// Open `path` read-only or read-write, with O_SYNC if `sync`. Unless
    /// `shared`, lock it on the host, exclusively for a writer and shared
    /// for a reader, so two instances cannot both write one image. Two
    /// locks, because the two kinds ignore each other: flock (other ruml
    /// instances and tools like `flock(1)`), and a record lock on the whole
    /// file, which is what UML takes (os_lock_file: fcntl F_SETLK). Ours is
    /// an open-file-description lock: it conflicts with UML's POSIX lock,
    /// but unlike a POSIX lock it is not dropped when some other fd of this
    /// process on the same file is closed. The locks go when vmlinux exits,
    /// however it exits.
    /// With `create`, make a new file (mode 0644, as UML creates COW
    /// files) and fail if one is there already.
    pub fn open_file(
        path: &Path,
        read_only: bool,
        sync: bool,
        shared: bool,
        create: bool,
    ) -> Result<File, OpenError> {
        let mut o = OpenOptions::new();
        o.read(true).write(!read_only);
        if create {
            o.create_new(true).mode(0o644);
        }
        if sync {
            o.custom_flags(libc::O_SYNC);
        }
        let file = o.open(path).map_err(OpenError::Io)?;
        if !shared {
            let r = if read_only {
                file.try_lock_shared()
            } else {
                file.try_lock()
            };
            match r {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => return Err(OpenError::Locked(None)),
                Err(std::fs::TryLockError::Error(e)) => return Err(OpenError::Io(e)),
            }
            ofd_lock(&file, !read_only)?;
        }
        Ok(file)
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Start the helper threads (named after the disk). Requests sent to
    /// the returned queues are done in the background; each ends with a
    /// call of `done` on the helper thread.
    pub fn start(self, name: &str, done: Completer) -> io::Result<HostQueues> {
        let file = Arc::new(self.backend);
        let (wtx, wrx) = channel();
        let (rtx, rrx) = channel();
        // The vCPU waits for reads: the reader stays on the vCPU's CPU,
        // where handing over is a plain context switch (waking a thread on
        // an idle CPU of a VM costs tens of microseconds). Nobody waits for
        // writes: the writer may run anywhere, beside the vCPU.
        // Test hooks: hold every flush until a host file exists, or every
        // read of one disk ("ubdb:FILE"), to show what the guest does
        // while the host disk is slow.
        let flush_gate = std::env::var_os("RUML_FAULT_UBD_FLUSH_GATE").map(PathBuf::from);
        let read_gate = std::env::var("RUML_FAULT_UBD_READ_GATE")
            .ok()
            .and_then(|v| {
                v.split_once(':')
                    .filter(|(disk, _)| *disk == name)
                    .map(|(_, f)| PathBuf::from(f))
            });
        for (suffix, rx, unpin, gate) in
            [("wr", wrx, true, flush_gate), ("rd", rrx, false, read_gate)]
        {
            let file = file.clone();
            let done = done.clone();
            std::thread::Builder::new()
                .name(format!("{name}-{suffix}"))
                .spawn(move || helper(&file, rx, done, unpin, gate))?;
        }
        Ok(HostQueues {
            writer: wtx,
            reader: rtx,
        })
    }
}

/// Take an open-file-description record lock on all of `file` (a write
/// lock if `exclusive`, else a read lock) without waiting.
fn ofd_lock(file: &File, exclusive: bool) -> Result<(), OpenError> {
    use nix::errno::Errno;
    use nix::fcntl::{fcntl, FcntlArg};
    let whole_file = |kind: libc::c_int| libc::flock {
        l_type: kind as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: 0,
        l_len: 0,
        // OFD locks require 0 here.
        l_pid: 0,
    };
    let lock = whole_file(if exclusive {
        libc::F_WRLCK
    } else {
        libc::F_RDLCK
    });
    match fcntl(file, FcntlArg::F_OFD_SETLK(&lock)) {
        Ok(_) => return Ok(()),
        Err(Errno::EAGAIN | Errno::EACCES) => {}
        Err(e) => return Err(OpenError::Io(e.into())),
    }
    // Who holds it: a POSIX lock names its process, an OFD lock says -1.
    let mut probe = lock;
    let probed = fcntl(file, FcntlArg::F_OFD_GETLK(&mut probe)).is_ok();
    let pid = (probed && probe.l_type != libc::F_UNLCK as libc::c_short && probe.l_pid > 0)
        .then_some(probe.l_pid);
    Err(OpenError::Locked(pid))
}

/// A helper thread: do requests in arrival order until the queue closes.
/// `gate` (a test hook): flushes and reads wait until that file exists.
fn helper(
    file: &Backend,
    rx: Receiver<HostReq>,
    done: Completer,
    unpin: bool,
    gate: Option<PathBuf>,
) {
    if unpin {
        crate::arch::unpin_helper_thread();
    }
    while let Ok(req) = rx.recv() {
        if let (HostOp::Flush | HostOp::Read { .. }, Some(g)) = (&req.op, &gate) {
            while !g.exists() {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }
        let result = match req.op {
            HostOp::Read { off, len } => file.read(off, len),
            HostOp::Write { off, data } => file.write(off, &data).map(|_| Vec::new()),
            HostOp::Flush => file.flush().map(|_| Vec::new()),
        };
        done(HostDone {
            tag: req.tag,
            result,
        });
    }
}
