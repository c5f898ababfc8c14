//! Boot: bring up memory, the console and the root filesystem, then start
//! init as PID 1 with Linux's fallbacks.

pub mod cli;
pub mod cmdline;
pub mod eth_user;
pub mod eth_word;
pub mod initramfs;

use crate::arch;
use crate::fs::mount::{self, MntFlags, Mount};
use crate::fs::tmpfs::TmpInode;
use crate::fs::vfs::{self, Dentry, Inode, Owner, Path, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::printk::printk;
use crate::kernel::signal::SigActions;
use crate::kernel::task::{self, Creds, FsContext, Task, TaskInner, TgInner, ThreadGroup};
use crate::kernel::{exec, sched, time};
use crate::mm::{frame, Mm};
use cmdline::Cmdline;
use std::sync::atomic::AtomicI32;
use std::sync::{Arc, Mutex, OnceLock};

static CMDLINE: OnceLock<Cmdline> = OnceLock::new();

/// The command line as given (for /proc/cmdline).
pub fn cmdline_string() -> String {
    CMDLINE.get().map(|c| c.words.join(" ")).unwrap_or_default()
}

fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        // One line: the reason comes last in a panic message.
        let what = info.payload_as_str().unwrap_or("(no message)");
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        crate::kernel::panic::bug(&format!("BUG: {}{at}", what.replace('\n', " ")));
    }));
}

/// A command line that cannot work: one line on stderr and status 2,
/// before the guest starts (the host side of exiting is arch's).
fn refuse(e: impl std::fmt::Display) -> ! {
    eprintln!("vmlinux: {e}");
    arch::host_exit(2)
}

/// Boot the kernel. Never returns.
pub fn start_kernel(c: Cmdline) -> ! {
    // Console fds first, while vmlinux has opened nothing of its own that
    // a stale `fd:N` could point at.
    if let Err(e) = crate::drivers::char::line::check_channels(&c) {
        refuse(e);
    }
    install_panic_hook();
    crate::kernel::panic::set_timeout(c.panic_timeout);
    crate::kernel::printk::init_logger();
    if c.quiet {
        crate::kernel::printk::set_loglevel(4);
    }
    if let Some(l) = c.loglevel {
        crate::kernel::printk::set_loglevel(l);
    }
    let _ = CMDLINE.set(c.clone());
    // Block devices first: a missing or locked image is a command-line
    // error (status 2), reported before the terminal is touched.
    let disks = match crate::drivers::block::ubd::open_all(&c.ubd) {
        Ok(d) => d,
        Err(e) => refuse(e),
    };
    // Network devices' host sides (a TAP that cannot be attached is a
    // command-line error too).
    if let Err(e) = crate::drivers::net::open_all(&c) {
        refuse(e);
    }
    // The umid directory too: a umid a live instance owns is refused.
    if let Err(e) = crate::drivers::mconsole::setup(&c) {
        refuse(e);
    }
    crate::drivers::block::ubd_hotplug::init(&c.ubd);
    if let Some(port) = c.gdbport {
        if let Err(e) = crate::drivers::gdb::setup(port) {
            refuse(e);
        }
    }
    // The hostfs export root is opened once, here; hostfs mounts reach
    // nothing of the host but what lies beneath it.
    if let Some(dir) = &c.hostfs {
        if let Err(e) = crate::drivers::fs::hostfs_host::init(dir) {
            refuse(format!("hostfs={}: {e}", dir.display()));
        }
    }
    time::init();
    crate::kernel::printk::start_clock();
    // Console and serial lines (con0 defaults to fd:0,fd:1).
    let line_messages = crate::drivers::char::line::init(&c);
    printk(&format!(
        "Linux version {} (ruml {}) #1 SMP",
        crate::kernel::sys_proc::RELEASE,
        env!("CARGO_PKG_VERSION")
    ));
    printk(&format!("Kernel command line: {}", c.words.join(" ")));
    for m in line_messages {
        printk(&m);
    }
    arch::cpu::set_ncpus(c.ncpus as usize);
    if let Err(e) = arch::init(c.mem as usize, c.platform) {
        crate::kernel::panic::panic(&e);
    }
    let frames = (c.mem / 4096) as u32;
    frame::init(frames, arch::reserved_frames());
    crate::kernel::vdso::init();
    crate::kernel::nproc::init(frames as u64);
    printk(&format!(
        "Memory: {}K available",
        (frames - arch::reserved_frames()) as u64 * 4
    ));
    crate::kernel::sys_proc::set_hostname("(none)");
    if c.ncpus > 1 {
        if let Err(e) = sched::start_secondary_cpus() {
            crate::kernel::panic::panic(&format!("smp: {e}"));
        }
        printk(&format!("smp: Brought up {} vCPUs", c.ncpus));
    }
    crate::drivers::block::ubd::register(disks);
    crate::drivers::mconsole::start();
    crate::drivers::gdb::start();
    boot_userspace(&c);
    sched::run()
}

/// Mount the root filesystem and start init (also after reboot).
fn boot_userspace(c: &Cmdline) {
    let root = match mount_root(c) {
        Ok(r) => r,
        Err(msg) => crate::kernel::panic::panic(&msg),
    };
    start_init(c, root);
}

fn mount_root(c: &Cmdline) -> Result<Arc<dyn Inode>, String> {
    if c.initrd.is_none() && (c.root.is_some() || !c.ubd.is_empty()) {
        let (root, flags, shown) = mount_block_root(c)?;
        // As in Linux, a root mounted from root= shows as /dev/root.
        let fstype = crate::fs::ext4::fs_of(&root)
            .map(|f| f.fstype.clone())
            .unwrap_or_default();
        let m = Mount::new(None, root.clone(), "/dev/root", &fstype, flags, &shown);
        mount::add_mount(m, None);
        mount_devtmpfs(&root);
        return Ok(root);
    }
    // The initramfs root is a tmpfs with tmpfs's default size (half of
    // RAM), as Linux's rootfs is with CONFIG_TMPFS: a user filling /tmp
    // gets ENOSPC instead of taking all guest memory.
    let (root, shown) = crate::fs::tmpfs::mount(&["mode=755".to_string()])
        .map_err(|e| format!("rootfs: cannot create the root tmpfs: {}", e.name()))?;
    let m = Mount::new(
        None,
        root.clone(),
        "rootfs",
        "rootfs",
        MntFlags::empty(),
        &shown,
    );
    mount::add_mount(m, None);
    if let Some(path) = &c.initrd {
        let data = arch::host_read_file(path)
            .map_err(|e| format!("initrd: cannot read {}: {e}", path.display()))?;
        match initramfs::unpack(&data) {
            Ok(entries) => {
                let n = entries.len();
                populate(&root, entries);
                printk(&format!("Unpacking initramfs... {} entries", n));
            }
            Err(e) => {
                printk(&format!("Initramfs unpacking failed: {e}"));
            }
        }
    }
    mount_devtmpfs(&root);
    Ok(root)
}

/// Mount `root=` (default /dev/ubda) as the root filesystem. As in Linux,
/// the root is mounted read-only unless the command line says `rw`
/// (init scripts remount it read-write); a write-protected device falls
/// back to read-only. `rootflags=` words are mount options. Returns the
/// root, the mount flags and the filesystem options /proc/mounts shows.
fn mount_block_root(c: &Cmdline) -> Result<(Arc<dyn Inode>, MntFlags, String), String> {
    use crate::drivers::block;
    let name = c.root.clone().unwrap_or_else(|| "/dev/ubda".into());
    let Some(dev) = block::by_name(&name) else {
        let mut avail = String::new();
        for d in block::all() {
            avail.push_str(&format!(
                "{:<12}{:>10} {}\n",
                d.name(),
                d.size() / 1024,
                d.name()
            ));
        }
        return Err(format!(
            "VFS: Cannot open root device \"{name}\" or unknown-block(0,0): error -6\nPlease append a correct \"root=\" boot option; here are the available partitions:\n{avail}VFS: Unable to mount root fs on unknown-block(0,0)"
        ));
    };
    let ro_flag = if c.read_only.unwrap_or(true) { 1 } else { 0 };
    let (flags, fs_words) = mount::split_options(ro_flag, c.rootflags.as_deref().unwrap_or(""));
    let mut ro = flags & 1 != 0;
    // Bad options stop before anything is written to the disk.
    crate::fs::ext4::options::Ext4Options::default()
        .parse(dev.name(), &fs_words)
        .map_err(|e| {
            format!(
                "VFS: Unable to mount root fs on {}: bad rootflags \"{}\" (error {})",
                dev.name(),
                c.rootflags.as_deref().unwrap_or(""),
                e.name()
            )
        })?;
    let fstype = c.rootfstype.as_deref();
    let mut r = crate::fs::ext4::mount(dev.clone(), fstype, ro);
    if !ro && matches!(r, Err(Errno::EACCES) | Err(Errno::EROFS)) {
        printk(&format!(
            "VFS: {} is write-protected, mounting read-only",
            dev.name()
        ));
        ro = true;
        r = crate::fs::ext4::mount(dev.clone(), fstype, true);
    }
    let fs = r.map_err(|e| {
        // Context first, then the reason (the panic line), as Linux.
        let context = if dev.size() == 0 {
            format!("VFS: {} is empty (0 bytes)", dev.name())
        } else {
            format!(
                "No filesystem could mount root, tried: {}",
                fstype.unwrap_or("ext4 ext3 ext2")
            )
        };
        format!(
            "{context}\nVFS: Unable to mount root fs on {} (error {})",
            dev.name(),
            e.name()
        )
    })?;
    printk(&format!(
        "VFS: Mounted root ({} filesystem){} on device {}:{}.",
        fs.fstype,
        if ro { " readonly" } else { "" },
        crate::drivers::major(dev.rdev()),
        crate::drivers::minor(dev.rdev())
    ));
    let shown = fs
        .set_options(&fs_words)
        .map_err(|e| format!("VFS: root mount options: error {}", e.name()))?;
    let mut flags = MntFlags::from_mount(flags, None);
    flags.set(MntFlags::RDONLY, ro);
    Ok((fs.root(), flags, shown))
}

/// /dev as devtmpfs (CONFIG_DEVTMPFS_MOUNT), if the root has a /dev.
fn mount_devtmpfs(root: &Arc<dyn Inode>) {
    let rootp = Dentry::root(root.clone());
    let Ok(dev) = vfs::walk(&rootp, &rootp, "dev", true, &Creds::ROOT) else {
        return;
    };
    if !dev.inode.stat().is_dir() {
        return;
    }
    let devtmpfs = crate::fs::new_devtmpfs();
    let m = Mount::new(
        Some(dev.inode.clone()),
        devtmpfs,
        "devtmpfs",
        "devtmpfs",
        MntFlags::RELATIME,
        "mode=755",
    );
    mount::add_mount(m, Some(&dev));
    // devpts on /dev/pts, as an init system would mount it; after /dev, so
    // /proc/mounts lists parents first (umount -a undoes the list from
    // the end).
    if let Ok(pts) = vfs::walk(&rootp, &rootp, "dev/pts", true, &Creds::ROOT) {
        let m = Mount::new(
            Some(pts.inode.clone()),
            crate::tty::devpts::root(),
            "devpts",
            "devpts",
            MntFlags::RELATIME,
            &crate::tty::devpts::show_options(),
        );
        mount::add_mount(m, Some(&pts));
    }
    // /dev/shm as its own tmpfs, as init systems mount it: POSIX shared
    // memory is writable by everyone, so it gets Linux's default tmpfs
    // size (half of RAM) and ENOSPC beyond, instead of sharing devtmpfs,
    // which has no limit.
    if let Ok(shm) = vfs::walk(&rootp, &rootp, "dev/shm", true, &Creds::ROOT) {
        match crate::fs::tmpfs::mount(&["mode=1777".to_string()]) {
            Ok((fs, shown)) => {
                let m = Mount::new(
                    Some(shm.inode.clone()),
                    fs,
                    "tmpfs",
                    "tmpfs",
                    MntFlags::NOSUID | MntFlags::NODEV | MntFlags::RELATIME,
                    &shown,
                );
                mount::add_mount(m, Some(&shm));
            }
            Err(e) => log::error!("devtmpfs: cannot mount /dev/shm: {}", e.name()),
        }
    }
}

/// Create the initramfs entries in the root tmpfs.
pub(crate) fn populate(root: &Arc<dyn Inode>, entries: Vec<initramfs::CpioEntry>) {
    let rootp = Dentry::root(root.clone());
    for e in entries {
        let (dir, name) = match vfs::walk_parent(&rootp, &rootp, &e.name, &Creds::ROOT) {
            Ok(x) => x,
            Err(err) => {
                log::warn!("initramfs: {}: {:?}", e.name, err);
                continue;
            }
        };
        if name.is_empty() {
            continue;
        }
        if let Some(target) = &e.link_to {
            if let Ok(t) = vfs::walk(&rootp, &rootp, target, false, &Creds::ROOT) {
                let _ = dir.inode.unlink(&name, false);
                let _ = dir.inode.link(&name, &t.inode);
            }
            continue;
        }
        let kind = e.mode & S_IFMT;
        // A later entry replaces an earlier one (not directories).
        if kind != S_IFDIR {
            let _ = dir.inode.unlink(&name, false);
        }
        let owner = Owner {
            uid: e.uid,
            gid: e.gid,
        };
        let r: KResult<()> = (|| {
            match kind {
                S_IFLNK => {
                    dir.inode
                        .symlink(&name, &String::from_utf8_lossy(&e.data), owner)?;
                }
                S_IFDIR => {
                    let node = match dir.inode.lookup(&name) {
                        Ok(n) => n,
                        Err(_) => dir.inode.create(&name, e.mode, 0, owner)?,
                    };
                    set_meta(&node, &e);
                }
                _ => {
                    let rdev = crate::drivers::mkdev(e.rdev_major, e.rdev_minor);
                    let node = dir.inode.create(&name, e.mode, rdev, owner)?;
                    if kind == S_IFREG && !e.data.is_empty() {
                        node.write_at(0, &e.data)?;
                    }
                    set_meta(&node, &e);
                }
            }
            Ok(())
        })();
        if let Err(err) = r {
            log::warn!("initramfs: {}: {:?}", e.name, err);
        }
    }
}

fn set_meta(node: &Arc<dyn Inode>, e: &initramfs::CpioEntry) {
    if let Some(t) = node.as_any().downcast_ref::<TmpInode>() {
        t.set_owner_mode(e.uid, e.gid, e.mode);
    }
    let ts = vfs::Timespec {
        sec: e.mtime as i64,
        nsec: 0,
    };
    let _ = node.setattr(&vfs::SetAttr {
        atime: Some(ts),
        mtime: Some(ts),
        ..Default::default()
    });
}

fn open_console(root: &Path) -> Option<Arc<crate::fs::file::File>> {
    let p = vfs::walk(root, root, "/dev/console", true, &Creds::ROOT).ok()?;
    let ops = p.inode.open(crate::fs::file::O_RDWR).ok()??;
    Some(crate::fs::file::File::new(
        ops,
        Some(p.inode.clone()),
        Some(p),
        crate::fs::file::O_RDWR,
    ))
}

/// Create PID 1 and exec init in it.
fn start_init(c: &Cmdline, root_inode: Arc<dyn Inode>) {
    let root = Dentry::root(root_inode);
    let mm = match Mm::new() {
        Ok(m) => m,
        Err(e) => {
            crate::kernel::panic::panic(&format!("cannot create init's address space: {e:?}"))
        }
    };
    let mut files = crate::fs::file::FdTable::default();
    match open_console(&root) {
        Some(f) => {
            for _ in 0..3 {
                let _ = files.install(f.clone(), false, 3);
            }
        }
        None => printk("Warning: unable to open an initial console."),
    }
    let pid = task::alloc_pid().expect("pid for init");
    let tg = Arc::new(ThreadGroup {
        tgid: pid,
        inner: Mutex::new(TgInner::new(
            0,
            vec![pid],
            (pid, pid),
            Creds::ROOT,
            task::default_rlimits(),
        )),
        child_wq: Default::default(),
    });
    task::insert_group(tg);
    let t = Arc::new(Task {
        tid: pid,
        tgid: AtomicI32::new(pid),
        acct: Default::default(),
        inner: Mutex::new(TaskInner::new(
            arch::Context::new(),
            mm,
            Arc::new(Mutex::new(files)),
            Arc::new(Mutex::new(FsContext {
                root: root.clone(),
                cwd: root.clone(),
                umask: 0o022,
            })),
            Arc::new(Mutex::new(SigActions::default())),
            "swapper".into(),
        )),
    });
    task::insert_task(t.clone());
    let mut env: Vec<Vec<u8>> = vec![b"HOME=/".to_vec(), b"TERM=linux".to_vec()];
    for (k, v) in &c.init_env {
        env.push(format!("{k}={v}").into_bytes());
    }
    let try_run = |path: &str| -> Result<(), Errno> {
        let mut argv = vec![path.as_bytes().to_vec()];
        argv.extend(c.init_args.iter().map(|a| a.as_bytes().to_vec()));
        exec::do_execve(
            &t,
            crate::kernel::sys_fs::AT_FDCWD,
            path,
            argv,
            env.clone(),
            false,
        )
    };
    let mut candidates: Vec<(String, bool)> = Vec::new();
    if c.initrd.is_some() {
        candidates.push((
            c.rdinit.clone().unwrap_or_else(|| "/init".into()),
            c.rdinit.is_some(),
        ));
    }
    if let Some(i) = &c.init {
        candidates.push((i.clone(), true));
    }
    for d in ["/sbin/init", "/etc/init", "/bin/init", "/bin/sh"] {
        candidates.push((d.into(), false));
    }
    for (path, explicit) in candidates {
        printk(&format!("Run {path} as init process"));
        match try_run(&path) {
            Ok(()) => {
                sched::enqueue(pid);
                return;
            }
            Err(e) => {
                if e != Errno::ENOENT || explicit {
                    printk(&format!("Failed to execute {path} (error -{})", e.0));
                }
                if explicit && c.init.as_deref() == Some(path.as_str()) {
                    crate::kernel::panic::panic(&format!(
                        "Requested init {path} failed (error -{}).",
                        e.0
                    ));
                }
            }
        }
    }
    crate::kernel::panic::panic(
        "No working init found.  Try passing init= option to kernel. See Linux Documentation/admin-guide/init.rst for guidance.",
    );
}

/// End every process and boot userspace again (reboot syscall, mconsole).
pub fn restart_userspace() {
    crate::kernel::exit::kill_all();
    crate::tty::jobctl::reset();
    crate::tty::pty::reset();
    task::clear_all();
    crate::kernel::ptrace::reset();
    sched::reset();
    crate::net::inet::stack::reset();
    time::reset();
    crate::kernel::futex_reset();
    crate::ipc::reset();
    mount::clear_mounts();
    task::reset_pids();
    if let Some(c) = CMDLINE.get() {
        boot_userspace(c);
    }
}
