//! Entry points for the fuzz targets (fuzz/): each feeds arbitrary bytes to
//! one parser of untrusted input, without booting a kernel, and checks what
//! the parser promises about its result. A panic here is a bug found.

use crate::drivers::block::{check_range, BlockDevice};
use crate::fs::vfs::{Inode, Owner, SetAttr, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use crate::kernel::errno::{Errno, KResult};
use crate::mm::frame;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Once};

/// Guest memory for the filesystem caches: big enough that a sane image
/// never runs out, small enough for a fuzzer's RSS limit. The memfd is
/// sparse (pages cost only once touched).
const FUZZ_MEM: usize = 128 << 20;

/// Physical memory and the frame allocator, once per process: the only
/// kernel state the parsers below need (no tasks, no host processes).
fn setup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        crate::arch::init_physmem(FUZZ_MEM).expect("fuzz: physical memory");
        let frames = (FUZZ_MEM / frame::PAGE_SIZE as usize) as u32;
        frame::init(frames, crate::arch::reserved_frames());
    });
}

/// The kernel command line: words separated by NUL (an argv), each as
/// vmlinux would see it.
pub fn fuzz_cmdline(data: &[u8]) {
    use crate::init::cli::{parse, Action};

    let words: Vec<String> = data
        .split(|&b| b == 0)
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    match parse(words.clone()) {
        Ok(Action::Boot(c)) => {
            assert_eq!(c.words, words, "/proc/cmdline must show the words as given");
            assert!(c.mem > 0 && c.mem % 4096 == 0, "mem= not page aligned");
            assert!(c.ncpus >= 1, "ncpus= below 1");
            let mut idx: Vec<_> = c.ubd.iter().map(|u| u.index).collect();
            idx.sort_unstable();
            idx.dedup();
            assert_eq!(idx.len(), c.ubd.len(), "two ubd specs for one index");
        }
        Ok(_) => {}
        Err(e) => {
            // The message names the word, and formatting it must not panic.
            use crate::init::cmdline::CmdlineError as E;
            let _ = e.to_string();
            let (E::MissingValue { word } | E::InvalidValue { word, .. } | E::File { word, .. }) =
                &e;
            assert!(words.contains(word), "error names no word");
        }
    }
}

/// An ELF executable: parse it as execve would and check the invariants
/// the loader relies on.
pub fn fuzz_elf(data: &[u8]) {
    use crate::fs::elf::{parse, MAX_INTERP_LEN, PAGE_SIZE, USER_LIMIT};
    let mut read_at = |off: u64, buf: &mut [u8]| -> Result<usize, ()> {
        let Ok(off) = usize::try_from(off) else {
            return Ok(0);
        };
        let Some(src) = data.get(off..) else {
            return Ok(0);
        };
        // Short reads on purpose: the parser must retry.
        let n = buf.len().min(src.len()).min(4093);
        buf[..n].copy_from_slice(&src[..n]);
        Ok(n)
    };
    let Ok(elf) = parse(&mut read_at) else {
        return;
    };
    assert!(!elf.segments.is_empty());
    let mut prev_end = 0u64;
    for s in &elf.segments {
        assert!(s.filesz <= s.memsz);
        assert!(s.offset.checked_add(s.filesz).is_some());
        let end = s.vaddr.checked_add(s.memsz).expect("segment end overflows");
        assert!(end < USER_LIMIT);
        assert_eq!(s.offset % PAGE_SIZE, s.vaddr % PAGE_SIZE);
        assert!(s.vaddr >= prev_end, "segments overlap or are unordered");
        prev_end = end;
    }
    let (start, end) = elf.span();
    assert!(start <= end);
    if let Some(i) = &elf.interp {
        assert!(!i.is_empty() && (i.len() as u64) < MAX_INTERP_LEN);
        assert!(!i.contains('\0'));
    }
}

/// An initramfs (cpio newc/crc, possibly gzip): unpack it, check the
/// names, and populate a fresh tmpfs with it as boot does.
pub fn fuzz_cpio(data: &[u8]) {
    setup();
    let Ok(entries) = crate::init::initramfs::unpack(data) else {
        return;
    };
    for e in &entries {
        assert!(!e.name.is_empty(), "empty name");
        assert!(!e.name.starts_with('/'), "absolute name {:?}", e.name);
        for c in e.name.split('/') {
            assert!(!c.is_empty() && c != ".", "bad component in {:?}", e.name);
        }
        if let Some(t) = &e.link_to {
            assert!(e.data.is_empty(), "hard link with data");
            assert!(!t.is_empty());
        }
    }
    let free = frame::stats().1;
    let root = crate::fs::tmpfs::new_fs(0o755);
    crate::init::populate(&root, entries);
    drop(root);
    assert_eq!(frame::stats().1, free, "tmpfs frames leaked");
}

/// A disk in memory: the fuzz input is the image.
struct MemDisk {
    data: Mutex<Vec<u8>>,
    rdev: u64,
    ro: bool,
}

impl BlockDevice for MemDisk {
    fn name(&self) -> &str {
        "fuzz"
    }
    fn rdev(&self) -> u64 {
        self.rdev
    }
    fn size(&self) -> u64 {
        self.data.lock().unwrap_or_else(|e| e.into_inner()).len() as u64
    }
    fn read_only(&self) -> bool {
        self.ro
    }
    fn read_at(&self, off: u64, buf: &mut [u8]) -> KResult<()> {
        let d = self.data.lock().unwrap_or_else(|e| e.into_inner());
        check_range("fuzz", d.len() as u64, off, buf.len())?;
        buf.copy_from_slice(&d[off as usize..off as usize + buf.len()]);
        Ok(())
    }
    fn write_at(&self, off: u64, buf: &[u8]) -> KResult<()> {
        if self.ro {
            return Err(Errno::EROFS);
        }
        let mut d = self.data.lock().unwrap_or_else(|e| e.into_inner());
        check_range("fuzz", d.len() as u64, off, buf.len())?;
        d[off as usize..off as usize + buf.len()].copy_from_slice(buf);
        Ok(())
    }
    fn flush(&self) -> KResult<()> {
        Ok(())
    }
}

/// Each mount gets its own device number: a failed umount leaves its
/// instance registered under the old one.
fn new_disk(data: &[u8], ro: bool) -> Arc<dyn BlockDevice> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let minor = NEXT.fetch_add(1, Ordering::Relaxed) % (1 << 20);
    let mut img = data.to_vec();
    // errors=panic would end the process (as it ends vmlinux): ask for
    // errors=continue, re-sealing the superblock checksum if it has one.
    use crate::fs::ext4::{crc::crc32c, put16, put32};
    const SB: usize = 1024;
    if img.len() >= SB + 1024 {
        put16(&mut img, SB + 0x3C, 1);
        if crate::fs::ext4::le32(&img, SB + 0x64) & 0x400 != 0 {
            let c = crc32c(!0, &img[SB..SB + 0x3FC]);
            put32(&mut img, SB + 0x3FC, c);
        }
    }
    Arc::new(MemDisk {
        data: Mutex::new(img),
        rdev: crate::drivers::mkdev(250, minor),
        ro,
    })
}

/// Bounds on how much of a corrupt tree one run looks at.
struct Budget {
    inodes: u32,
}

/// Everything a reader can ask of one inode.
fn visit(node: &Arc<dyn Inode>, depth: u32, b: &mut Budget) {
    if b.inodes == 0 {
        return;
    }
    b.inodes -= 1;
    let st = node.stat();
    let _ = node.statfs();
    if let Ok(names) = node.listxattr() {
        for n in names.iter().take(16) {
            let _ = node.getxattr(n);
        }
    }
    let _ = node.getxattr("user.none");
    match st.mode & S_IFMT {
        S_IFDIR if depth < 8 => {
            let Ok(ents) = node.readdir() else {
                return;
            };
            for e in ents.iter().take(64) {
                if e.name == "." || e.name == ".." {
                    continue;
                }
                if let Ok(child) = node.lookup(&e.name) {
                    visit(&child, depth + 1, b);
                }
            }
            let _ = node.lookup("no-such-name");
        }
        S_IFREG => {
            let mut buf = vec![0u8; 16384];
            let mut off = 0u64;
            while off < 65536 {
                match node.read_at(off, &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => off += n as u64,
                }
            }
            let _ = node.read_at(st.size.saturating_sub(100), &mut buf[..200]);
            let _ = node.read_at(1 << 40, &mut buf[..10]);
            if let Ok(pfn) = node.page(0) {
                frame::put(pfn);
            }
        }
        S_IFLNK => {
            let _ = node.readlink();
        }
        _ => {}
    }
}

/// Changes a writer makes, on top of whatever the image holds.
fn scribble(root: &Arc<dyn Inode>) -> KResult<()> {
    // Release a few existing inodes (their extent trees are the image's).
    if let Ok(ents) = root.readdir() {
        for e in ents
            .iter()
            .filter(|e| e.name != "." && e.name != "..")
            .take(4)
        {
            if let Ok(n) = root.lookup(&e.name) {
                if n.stat().mode & S_IFMT == S_IFREG {
                    let _ = n.write_at(4096, b"over");
                    let _ = n.setattr(&SetAttr {
                        size: Some(1),
                        ..Default::default()
                    });
                }
            }
            if root.unlink(&e.name, false) == Err(Errno::EISDIR) {
                let _ = root.unlink(&e.name, true);
            }
        }
    }
    let f = root.create("fz", S_IFREG | 0o644, 0, Owner::ROOT)?;
    let data: Vec<u8> = (0..20000u32).map(|i| i as u8).collect();
    f.write_at(0, &data)?;
    f.write_at(3 << 20, b"sparse")?;
    f.setattr(&SetAttr {
        size: Some(5000),
        ..Default::default()
    })?;
    f.setxattr("user.fz", &[7u8; 300], 0)?;
    let mut back = vec![0u8; 5000];
    let n = f.read_at(0, &mut back)?;
    if n == 5000 {
        assert_eq!(back, data[..5000], "file reads back other bytes");
    }
    let d = root.create("fzd", S_IFDIR | 0o755, 0, Owner::ROOT)?;
    for i in 0..40 {
        d.create(
            &format!("entry-with-a-long-name-{i}"),
            S_IFREG | 0o600,
            0,
            Owner::ROOT,
        )?;
    }
    root.symlink("fzl", &"t".repeat(300), Owner::ROOT)?;
    root.link("fzh", &f)?;
    root.rename("fz", &d, "moved", 0)?;
    d.unlink("entry-with-a-long-name-3", false)?;
    root.sync()
}

/// What [`ext4_run`] got through (the seed test checks valid images get
/// all the way).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Ext4Run {
    pub mounted_ro: bool,
    pub mounted_rw: bool,
    pub changed: bool,
}

/// An ext2/3/4 image: mount it read-only and read everything reachable,
/// then mount it read-write (journal replay, orphan cleanup) and change
/// it. Every frame the filesystem took must come back after umount.
pub fn fuzz_ext4(data: &[u8]) {
    ext4_run(data);
}

/// [`fuzz_ext4`], saying how far it got.
pub fn ext4_run(data: &[u8]) -> Ext4Run {
    setup();
    let free = frame::stats().1;
    let mut run = Ext4Run::default();
    for ro in [true, false] {
        let dev = new_disk(data, false);
        let Ok(fs) = crate::fs::ext4::mount(dev, None, ro) else {
            continue;
        };
        {
            let root = fs.root();
            visit(&root, 0, &mut Budget { inodes: 256 });
            if ro {
                run.mounted_ro = true;
            } else {
                run.mounted_rw = true;
                run.changed = scribble(&root).is_ok();
                visit(&root, 0, &mut Budget { inodes: 64 });
            }
        }
        let _ = fs.unmount();
    }
    crate::fs::ext4::shutdown_all();
    assert_eq!(frame::stats().1, free, "ext4 frames leaked after umount");
    run
}

/// An mconsole datagram, as the control socket receives it from any local
/// process of the host user: decode it, and for a command that names a
/// device (`config ubdN=...`, `remove ubdN`) parse the device word as the
/// hot-plug path does. Replies must split into well-formed packets.
pub fn fuzz_mconsole(data: &[u8]) {
    use crate::drivers::mconsole::protocol::{parse, reply, Request, MAX_DATA};

    let packets = match parse(data) {
        Request::Command(cmd) => {
            assert!(!cmd.contains('\0'), "a command ends at its first NUL");
            let mut words = cmd.split_whitespace();
            if let (Some("config"), Some(w)) = (words.next(), words.next()) {
                if w.contains('=') {
                    let _ = crate::init::cmdline::parse_ubd_word(w).map_err(|e| e.to_string());
                }
            }
            reply(&cmd, 0, false)
        }
        Request::Refused(p) => p,
    };
    assert!(!packets.is_empty(), "every request gets an answer");
    for p in &packets {
        assert!(p.len() <= 12 + MAX_DATA, "reply packet too long");
    }
}

/// Bytes from a telnet client on a `port:` console channel: the filter
/// keeps no more than it was given and gives the same result however the
/// stream is cut into reads (its state carries across them).
pub fn fuzz_telnet(data: &[u8]) {
    use crate::drivers::char::telnet::Filter;

    let whole = Filter::default().filter(data);
    assert!(whole.len() <= data.len(), "the filter made bytes up");
    let cut = data
        .first()
        .map(|&b| b as usize % (data.len() + 1))
        .unwrap_or(0);
    let mut f = Filter::default();
    let mut pieces = f.filter(&data[..cut]);
    pieces.extend(f.filter(&data[cut..]));
    assert_eq!(whole, pieces, "a read boundary changed the result");
}
