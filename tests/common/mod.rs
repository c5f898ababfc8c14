//! Boot-test harness shared by the integration tests (`mod common;`).
//!
//! A [`Guest`] is one running `vmlinux` whose console (`con0=fd:0,fd:1`) is
//! a pair of pipes. A reader thread per pipe appends everything the guest
//! prints (stdout and stderr) to one buffer, with `\r\n` turned into `\n`;
//! [`Guest::expect`] waits for text to appear after a read mark and
//! [`Guest::run`] types a shell command and collects what it printed.
//!
//! Set `RUML_TEST_VERBOSE=1` to see the guest's console live on stderr.
//!
//! Only std and libc are used. Timeouts are generous and never asserted on.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

pub mod debian;
pub mod http;
pub mod native;
pub mod pty;

#[allow(unused_imports)]
pub use native::{compare_with_native, compare_with_native_booted};

/// How long a guest may take to reach its first shell prompt.
pub const BOOT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one [`Guest::run`] command may take.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// The `vmlinux` binary cargo built for these tests.
pub fn vmlinux() -> PathBuf {
    std::env::var_os("RUML_VMLINUX")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_vmlinux")))
}

/// The repository's root (where Cargo.toml is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh per-test scratch directory: `$TMPDIR/ruml-tests/<name>-<pid>`.
/// Emptied first if a previous run left it behind.
/// Directories of earlier test runs whose process is gone are removed.
pub fn test_dir(name: &str) -> PathBuf {
    let base = std::env::temp_dir().join("ruml-tests");
    sweep_stale(&base);
    let dir = base.join(format!("{}-{}", name, std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {}", dir.display(), e));
    dir
}

/// Remove `<name>-<pid>` directories under `base` whose pid no longer runs.
fn sweep_stale(base: &Path) {
    let Ok(rd) = std::fs::read_dir(base) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(pid) = name.rsplit('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Build an initramfs with `rootfs/mkinitramfs.sh` into `test_dir(name)`,
/// adding each `(host path, guest path)`. Returns the archive's path.
pub fn build_initramfs(name: &str, adds: &[(&Path, &str)]) -> PathBuf {
    build_initramfs_with(name, adds, None)
}

/// Like [`build_initramfs`], with an optional replacement `/init`.
pub fn build_initramfs_with(name: &str, adds: &[(&Path, &str)], init: Option<&Path>) -> PathBuf {
    let dir = test_dir(name);
    let out = dir.join("initramfs.cpio.gz");
    let script = repo_root().join("rootfs").join("mkinitramfs.sh");
    let mut cmd = Command::new("bash");
    cmd.arg(&script).arg(&out);
    for (host, guest) in adds {
        cmd.arg("--add")
            .arg(format!("{}:{}", host.display(), guest));
    }
    if let Some(init) = init {
        cmd.arg("--init").arg(init);
    }
    let res = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {}", script.display(), e));
    if !res.status.success() || !out.is_file() {
        panic!(
            "{} {} failed ({}):\n{}{}",
            script.display(),
            out.display(),
            res.status,
            String::from_utf8_lossy(&res.stdout),
            String::from_utf8_lossy(&res.stderr)
        );
    }
    out
}

/// Build a disk image with `rootfs/mkext4.sh` (busybox tree, /sbin/init =
/// busybox init) of `fstype` ("ext2", "ext3" or "ext4") and `size` (e.g.
/// "32M") into `test_dir(name)`, adding each `(host path, guest path)`.
pub fn build_ext4(name: &str, fstype: &str, size: &str, adds: &[(&Path, &str)]) -> PathBuf {
    let dir = test_dir(name);
    let out = dir.join(format!("{fstype}.img"));
    let script = repo_root().join("rootfs").join("mkext4.sh");
    let mut cmd = Command::new("bash");
    cmd.arg(&script)
        .arg(&out)
        .arg(size)
        .env("RUML_FSTYPE", fstype);
    for (host, guest) in adds {
        cmd.arg("--add")
            .arg(format!("{}:{}", host.display(), guest));
    }
    let res = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {}", script.display(), e));
    if !res.status.success() || !out.is_file() {
        panic!(
            "{} {} failed ({}):\n{}{}",
            script.display(),
            out.display(),
            res.status,
            String::from_utf8_lossy(&res.stdout),
            String::from_utf8_lossy(&res.stderr)
        );
    }
    out
}

/// Debian's User-Mode Linux, the behaviour reference.
pub const UML: &str = "/usr/bin/linux.uml";

/// bench/uml/xstate_shim.c built as a shared object into `test_dir(name)`,
/// for `LD_PRELOAD` when starting linux.uml: linux.uml 6.1 cannot start
/// init on hosts with AMX (its FP register buffer is smaller than the
/// host's XSAVE area); the shim pads that one ptrace call.
pub fn uml_shim(name: &str) -> PathBuf {
    let dir = test_dir(name);
    let so = dir.join("xstate_shim.so");
    let src = repo_root().join("bench/uml/xstate_shim.c");
    let out = Command::new("gcc")
        .args(["-O2", "-shared", "-fPIC", "-o"])
        .arg(&so)
        .arg(&src)
        .arg("-ldl")
        .output()
        .expect("gcc");
    assert!(
        out.status.success(),
        "building the shim: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    so
}

impl Guest {
    /// Start linux.uml ([`UML`]) with the shim built into `test_dir(name)`,
    /// these words, its console on pipes and the other lines off.
    pub fn boot_uml(name: &str, args: &[&str]) -> Guest {
        let so = uml_shim(name);
        let so = so.display().to_string();
        let mut args = args.to_vec();
        args.extend(["con0=fd:0,fd:1", "con=null", "ssl=null"]);
        Guest::spawn(Path::new(UML), &args, &[("LD_PRELOAD", so.as_str())])
    }
}

/// `e2fsck -fn image`: (exit code, output).
pub fn e2fsck(image: &Path) -> (i32, String) {
    let res = Command::new("e2fsck")
        .arg("-fn")
        .arg(image)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running e2fsck (apt-get install e2fsprogs): {}", e));
    (
        res.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&res.stdout),
            String::from_utf8_lossy(&res.stderr)
        ),
    )
}

/// `debugfs -R 'cat PATH' image`: the file's bytes as the host reads them.
pub fn debugfs_cat(image: &Path, path: &str) -> Vec<u8> {
    let res = Command::new("debugfs")
        .arg("-R")
        .arg(format!("cat {path}"))
        .arg(image)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running debugfs: {}", e));
    res.stdout
}

/// A disk image `disk` of `disk_size` bytes with an MBR partition table
/// whose partition 1 (type 0x83, from sector 2048) holds the filesystem
/// image `fs_img`: it boots as /dev/ubda1.
pub fn mbr_disk(fs_img: &Path, disk: &Path, disk_size: u64) {
    use std::os::unix::fs::FileExt;
    let fs = std::fs::read(fs_img).unwrap();
    let f = std::fs::File::create(disk).unwrap();
    f.set_len(disk_size).unwrap();
    let mut mbr = [0u8; 512];
    let e = &mut mbr[446..462];
    e[4] = 0x83;
    e[8..12].copy_from_slice(&2048u32.to_le_bytes());
    e[12..16].copy_from_slice(&((fs.len() / 512) as u32).to_le_bytes());
    mbr[510] = 0x55;
    mbr[511] = 0xAA;
    f.write_all_at(&mbr, 0).unwrap();
    f.write_all_at(&fs, 2048 * 512).unwrap();
}

/// `gcc -O2 -Wall <extra_flags> -o out src -pthread`; panics with gcc's output on failure.
pub fn compile_c(src: &Path, out: &Path, extra_flags: &[&str]) {
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent).ok();
    }
    let res = Command::new("gcc")
        .args(["-O2", "-Wall"])
        .args(extra_flags)
        .arg("-o")
        .arg(out)
        .arg(src)
        .arg("-pthread")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running gcc (apt-get install gcc libc6-dev): {}", e));
    if !res.status.success() {
        panic!(
            "gcc {} failed ({}):\n{}{}",
            src.display(),
            res.status,
            String::from_utf8_lossy(&res.stdout),
            String::from_utf8_lossy(&res.stderr)
        );
    }
}

/// Everything the guest printed so far, `\r\n` already turned into `\n`.
#[derive(Default)]
struct Output {
    /// stdout and stderr interleaved as they arrived.
    all: Vec<u8>,
    /// stderr alone.
    stderr: Vec<u8>,
    /// Reader threads that reached end of file.
    eof: usize,
}

type Shared = Arc<(Mutex<Output>, Condvar)>;

static MARKER_SEQ: AtomicU64 = AtomicU64::new(1);

/// One running `vmlinux`.
pub struct Guest {
    child: Child,
    /// The console's input: a pipe, or a host pty master (`pty.rs`).
    stdin: Option<Box<dyn Write + Send>>,
    /// The host pty vmlinux runs on, for `Guest::boot_pty`.
    pty: Option<pty::HostPty>,
    out: Shared,
    /// Byte offset into `Output::all` up to which output has been consumed.
    mark: usize,
    status: Option<ExitStatus>,
}

fn verbose() -> bool {
    std::env::var_os("RUML_TEST_VERBOSE").map_or(false, |v| v == "1")
}

fn spawn_reader<R: Read + Send + 'static>(mut r: R, out: Shared, is_stderr: bool) {
    std::thread::Builder::new()
        .name(
            if is_stderr {
                "guest-stderr"
            } else {
                "guest-stdout"
            }
            .into(),
        )
        .spawn(move || {
            let verbose = verbose();
            let mut buf = [0u8; 4096];
            // Carriage returns not yet known to be followed by '\n'.
            let mut pending_cr = 0usize;
            loop {
                let n = match r.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                if verbose {
                    let _ = std::io::stderr().write_all(&buf[..n]);
                }
                let mut clean = Vec::with_capacity(n + pending_cr);
                for &b in &buf[..n] {
                    match b {
                        b'\r' => pending_cr += 1,
                        b'\n' => {
                            pending_cr = 0;
                            clean.push(b'\n');
                        }
                        _ => {
                            clean.extend(std::iter::repeat(b'\r').take(pending_cr));
                            pending_cr = 0;
                            clean.push(b);
                        }
                    }
                }
                let (lock, cv) = &*out;
                let mut o = lock.lock().unwrap();
                o.all.extend_from_slice(&clean);
                if is_stderr {
                    o.stderr.extend_from_slice(&clean);
                }
                cv.notify_all();
            }
            let (lock, cv) = &*out;
            let mut o = lock.lock().unwrap();
            let tail = vec![b'\r'; pending_cr];
            o.all.extend_from_slice(&tail);
            if is_stderr {
                o.stderr.extend_from_slice(&tail);
            }
            o.eof += 1;
            cv.notify_all();
        })
        .expect("spawning reader thread");
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

fn tail_of(bytes: &[u8], n: usize) -> String {
    let start = bytes.len().saturating_sub(n);
    String::from_utf8_lossy(&bytes[start..]).into_owned()
}

/// Remove ANSI escape sequences (CSI `ESC [ ... final`, and two-byte `ESC x`).
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('[') => {
                while let Some(c) = it.next() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            Some(_) | None => {}
        }
    }
    out
}

/// If `line` starts with a shell prompt (`/ # `, `/tmp $ `, `# `, `$ `,
/// `> `), return the rest of the line.
fn strip_prompt(line: &str) -> Option<&str> {
    for p in ["# ", "$ ", "> "] {
        if let Some(rest) = line.strip_prefix(p) {
            return Some(rest);
        }
    }
    // "<cwd> # " where cwd is an absolute or ~ path without spaces.
    if line.starts_with('/') || line.starts_with('~') {
        let sp = line.find(' ')?;
        if sp < 256 {
            for p in ["# ", "$ "] {
                if let Some(rest) = line[sp + 1..].strip_prefix(p) {
                    return Some(rest);
                }
            }
        }
    }
    None
}

/// Clean up what a command printed: drop echoed command lines (with or
/// without a prompt in front), the echoed marker line and trailing prompts.
fn clean_run_output(raw: &str, cmd: &str, echo_marker: &str) -> String {
    let text = strip_ansi(raw).replace('\r', "");
    let mut lines: Vec<&str> = text.split('\n').collect();
    // The last piece is whatever came right before the end marker: a prompt
    // (no echo) or "" (the echoed marker command ended with '\n').
    if let Some(last) = lines.last() {
        if last.is_empty()
            || strip_prompt(last).map_or(false, |r| r.is_empty() || echo_marker.starts_with(r))
            || last.contains(echo_marker)
        {
            lines.pop();
        }
    }
    // The echoed marker command line.
    if let Some(last) = lines.last() {
        if last.contains(echo_marker) {
            lines.pop();
        }
    }
    // Trailing bare prompts.
    while let Some(last) = lines.last() {
        if strip_prompt(last).map_or(false, |r| r.is_empty()) {
            lines.pop();
        } else {
            break;
        }
    }
    // Leading empty lines, bare prompts and echoed lines of the command, in order.
    let cmd_lines: Vec<String> = cmd.lines().map(|l| l.trim_end().to_string()).collect();
    let mut ci = 0;
    let mut start = 0;
    while start < lines.len() {
        let l = lines[start].trim_end();
        let unprompted = strip_prompt(l).unwrap_or(l).trim_end();
        if l.is_empty() && ci == 0 {
            start += 1;
        } else if ci < cmd_lines.len() && (unprompted == cmd_lines[ci] || l == cmd_lines[ci]) {
            ci += 1;
            start += 1;
        } else if strip_prompt(l).map_or(false, |r| r.is_empty()) && ci == 0 {
            start += 1;
        } else {
            break;
        }
    }
    let mut lines: Vec<&str> = lines[start..].to_vec();
    // Input not echoed: the first output line follows the prompt directly.
    if ci == 0 {
        if let Some(first) = lines.first_mut() {
            if let Some(rest) = strip_prompt(first) {
                *first = rest;
            }
        }
    }
    let mut s = lines.join("\n");
    if !s.is_empty() {
        s.push('\n');
    }
    s
}

impl Guest {
    /// Start `vmlinux` with these command-line words. `con0=fd:0,fd:1` is
    /// added unless a `con=`/`con0=` word is given. stdin, stdout and stderr
    /// are pipes; vmlinux runs in its own process group.
    pub fn boot(args: &[&str]) -> Guest {
        Guest::spawn(&vmlinux(), args, &[])
    }

    /// Like [`Guest::boot`], with extra environment variables for vmlinux
    /// (fault injection such as `RUML_FAULT_EXT4_COMMIT`).
    pub fn boot_with_env(args: &[&str], env: &[(&str, &str)]) -> Guest {
        Guest::spawn(&vmlinux(), args, env)
    }

    /// Start `program` (vmlinux, or linux.uml for comparisons) with these
    /// words and extra environment, its console on pipes.
    pub fn spawn(program: &Path, args: &[&str], env: &[(&str, &str)]) -> Guest {
        let mut cmd = Command::new(program);
        cmd.args(args);
        cmd.envs(env.iter().copied());
        if !args
            .iter()
            .any(|a| a.starts_with("con0=") || a.starts_with("con="))
        {
            cmd.arg("con0=fd:0,fd:1");
        }
        if program == vmlinux()
            && !args.iter().any(|a| a.starts_with("uml_dir="))
            && !env.iter().any(|(k, _)| *k == "HOME")
        {
            // The control directories of the tests' guests go in the tests'
            // scratch space (swept with it), not in ~/.uml; a test that sets
            // HOME is testing the default location itself.
            let dir = std::env::temp_dir()
                .join("ruml-tests")
                .join(format!("uml-{}", std::process::id()));
            cmd.arg(format!("uml_dir={}", dir.display()));
        }
        if program == vmlinux() && !args.iter().any(|a| a.starts_with("ncpus=")) {
            // RUML_TEST_NCPUS=N runs every guest of the suite on N vCPUs.
            if let Ok(n) = std::env::var("RUML_TEST_NCPUS") {
                cmd.arg(format!("ncpus={n}"));
            }
        }
        if program == vmlinux() && !args.iter().any(|a| a.starts_with("platform=")) {
            // RUML_TEST_PLATFORM=seccomp runs every guest of the suite on
            // that platform.
            if let Ok(p) = std::env::var("RUML_TEST_PLATFORM") {
                cmd.arg(format!("platform={p}"));
            }
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        if verbose() {
            let _ = writeln!(std::io::stderr(), "[harness] booting {:?}", cmd);
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {}: {}", program.display(), e));
        let out: Shared = Arc::new((Mutex::new(Output::default()), Condvar::new()));
        spawn_reader(child.stdout.take().unwrap(), out.clone(), false);
        spawn_reader(child.stderr.take().unwrap(), out.clone(), true);
        let stdin = child
            .stdin
            .take()
            .map(|s| Box::new(s) as Box<dyn Write + Send>);
        Guest {
            child,
            stdin,
            pty: None,
            out,
            mark: 0,
            status: None,
        }
    }

    /// Boot an initramfs with `mem=256M` (plus `extra` words).
    pub fn boot_initramfs(initrd: &Path, extra: &[&str]) -> Guest {
        let initrd_arg = format!("initrd={}", initrd.display());
        let mut args: Vec<&str> = vec!["mem=256M", &initrd_arg];
        args.extend_from_slice(extra);
        Guest::boot(&args)
    }

    /// Boot the default busybox initramfs (its own copy, named `name`) and
    /// wait for the shell prompt.
    pub fn boot_busybox(name: &str) -> Guest {
        let initrd = build_initramfs(name, &[]);
        let mut g = Guest::boot_initramfs(&initrd, &[]);
        g.wait_prompt();
        g
    }

    /// Wait for the first shell prompt (`# `).
    pub fn wait_prompt(&mut self) -> String {
        self.expect("# ", BOOT_TIMEOUT)
    }

    /// Wait until the output after the read mark contains `needle`; move
    /// the mark past it and return the text before it. Panics on timeout
    /// (or if vmlinux exits first) with the last 4000 bytes of output.
    pub fn expect(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        let (lock, cv) = &*self.out.clone();
        let mut o = lock.lock().unwrap();
        loop {
            if let Some(pos) = find(&o.all[self.mark..], needle.as_bytes()) {
                let start = self.mark;
                let text = String::from_utf8_lossy(&o.all[start..start + pos]).into_owned();
                self.mark = start + pos + needle.len();
                return text;
            }
            let now = Instant::now();
            // Both pipes closed: nothing more can come.
            let closed = o.eof >= 2;
            if now >= deadline || closed {
                let mut status = self.child.try_wait().ok().flatten();
                if status.is_none() {
                    // Still running: ask for its task list (SIGUSR2 makes
                    // vmlinux print one to stderr), so the failure says
                    // what every guest task was waiting in.
                    drop(o);
                    let _ = Command::new("kill")
                        .args(["-USR2", &self.child.id().to_string()])
                        .status();
                    std::thread::sleep(Duration::from_secs(2));
                    o = lock.lock().unwrap();
                    status = self.child.try_wait().ok().flatten();
                }
                let tail = tail_of(&o.all, 6000);
                drop(o);
                panic!(
                    "{} waiting for {:?} (vmlinux pid {}, status {:?}); last output:\n\
                     ----------------------------------------\n{}\n\
                     ----------------------------------------",
                    if closed {
                        "guest output ended"
                    } else {
                        "timed out"
                    },
                    needle,
                    self.child.id(),
                    status,
                    tail
                );
            }
            let wait = (deadline - now).min(Duration::from_millis(500));
            o = cv.wait_timeout(o, wait).unwrap().0;
        }
    }

    /// Like [`Guest::expect`] but returns `None` instead of panicking.
    pub fn try_expect(&mut self, needle: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        let (lock, cv) = &*self.out.clone();
        let mut o = lock.lock().unwrap();
        loop {
            if let Some(pos) = find(&o.all[self.mark..], needle.as_bytes()) {
                let start = self.mark;
                let text = String::from_utf8_lossy(&o.all[start..start + pos]).into_owned();
                self.mark = start + pos + needle.len();
                return Some(text);
            }
            let now = Instant::now();
            if now >= deadline || o.eof >= 2 {
                return None;
            }
            let wait = (deadline - now).min(Duration::from_millis(500));
            o = cv.wait_timeout(o, wait).unwrap().0;
        }
    }

    /// Type `text` on the console (no newline added).
    pub fn send(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("guest stdin already closed");
        if let Err(e) = stdin.write_all(text.as_bytes()).and_then(|_| stdin.flush()) {
            let tail = tail_of(&self.out.0.lock().unwrap().all, 4000);
            panic!("writing to guest console: {}; last output:\n{}", e, tail);
        }
    }

    /// Close the console's input (the guest sees end of file).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Run a shell command; return what it printed (echo and prompts removed).
    pub fn run(&mut self, cmd: &str) -> String {
        self.run_status(cmd).0
    }

    /// Run a shell command; return what it printed and its exit status (`$?`).
    ///
    /// Sends `echo __RU''ML_START_n__`, the command and `echo __RU''ML_DONE_n__ $?`
    /// on three lines and collects the output between the two markers; the
    /// quotes keep the echoed input from matching.
    pub fn run_status(&mut self, cmd: &str) -> (String, i32) {
        self.run_status_timeout(cmd, RUN_TIMEOUT)
    }

    pub fn run_status_timeout(&mut self, cmd: &str, timeout: Duration) -> (String, i32) {
        let n = MARKER_SEQ.fetch_add(1, Ordering::Relaxed);
        let start = format!("__RUML_START_{}__\n", n);
        let done = format!("__RUML_DONE_{}__ ", n);
        let echo_done = format!("echo __RU''ML_DONE_{}__ $?", n);
        let cmd = cmd.trim_end_matches('\n');
        self.send(&format!(
            "echo __RU''ML_START_{}__\n{}\n{}\n",
            n, cmd, echo_done
        ));
        self.expect(&start, timeout);
        let raw = self.expect(&done, timeout);
        let status_text = self.expect("\n", timeout);
        let status = strip_ansi(&status_text)
            .trim()
            .parse::<i32>()
            .unwrap_or_else(|_| panic!("bad exit status {:?} after {:?}", status_text, cmd));
        (clean_run_output(&raw, cmd, &echo_done), status)
    }

    /// Wait up to `timeout` for vmlinux to exit; `None` if it is still running.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        if let Some(s) = self.status {
            return Some(s);
        }
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(s)) => {
                    self.status = Some(s);
                    // Let the readers drain what is left in the pipes.
                    let (lock, cv) = &*self.out;
                    let until = Instant::now() + Duration::from_secs(2);
                    let mut o = lock.lock().unwrap();
                    while o.eof < 2 && Instant::now() < until {
                        o = cv.wait_timeout(o, Duration::from_millis(100)).unwrap().0;
                    }
                    return Some(s);
                }
                Ok(None) => {}
                Err(e) => panic!("waiting for vmlinux: {}", e),
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Send signal `sig` to vmlinux (not its process group).
    pub fn kill(&mut self, sig: i32) {
        if self.status.is_none() {
            // SAFETY: plain kill(2) on our own child's pid.
            unsafe {
                libc::kill(self.child.id() as libc::pid_t, sig);
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// All output so far (stdout and stderr), `\r\n` normalised to `\n`.
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.out.0.lock().unwrap().all).into_owned()
    }

    /// What vmlinux wrote to its stderr alone.
    pub fn stderr_output(&self) -> String {
        String::from_utf8_lossy(&self.out.0.lock().unwrap().stderr).into_owned()
    }

    /// Output after the read mark, without consuming it.
    pub fn pending_output(&self) -> String {
        let o = self.out.0.lock().unwrap();
        String::from_utf8_lossy(&o.all[self.mark.min(o.all.len())..]).into_owned()
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        self.stdin = None;
        let pid = self.child.id() as libc::pid_t;
        if self.status.is_none() {
            // SAFETY: kill(2) on our child and on the process group it leads
            // (it was spawned with process_group(0), so pgid == pid).
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
            let _ = self.child.wait();
        }
        // Anything the kernel left behind in its process group.
        // SAFETY: as above; ESRCH when the group is empty is fine.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

// ---------------------------------------------------------------------------
// Host process helpers (for lifecycle tests).

/// One host process as seen in /proc/<pid>/stat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcInfo {
    pub pid: i32,
    pub ppid: i32,
    pub pgrp: i32,
    pub state: char,
    pub starttime: u64,
    pub comm: String,
}

/// Parse /proc/<pid>/stat (or a task's stat).
pub fn proc_stat(path: &Path) -> Option<ProcInfo> {
    let s = std::fs::read_to_string(path).ok()?;
    let open = s.find('(')?;
    let close = s.rfind(')')?;
    let pid = s[..open].trim().parse().ok()?;
    let comm = s[open + 1..close].to_string();
    let rest: Vec<&str> = s[close + 1..].split_whitespace().collect();
    // rest[0] = state (field 3), rest[1] = ppid (4), rest[2] = pgrp (5), rest[19] = starttime (22)
    Some(ProcInfo {
        pid,
        state: rest.first()?.chars().next()?,
        ppid: rest.get(1)?.parse().ok()?,
        pgrp: rest.get(2)?.parse().ok()?,
        starttime: rest.get(19)?.parse().ok()?,
        comm,
    })
}

/// Every process on the host.
pub fn all_processes() -> Vec<ProcInfo> {
    let mut v = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            let name = e.file_name();
            let Some(pid) = name.to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            if let Some(p) = proc_stat(&Path::new("/proc").join(pid.to_string()).join("stat")) {
                v.push(p);
            }
        }
    }
    v
}

/// Host processes descended from `root` (children of any of its threads
/// included, since a child's ppid is its parent's thread-group id), plus any
/// process in `root`'s process group. `root` itself is not included.
pub fn host_descendants(root: u32) -> Vec<ProcInfo> {
    let root = root as i32;
    let procs = all_processes();
    let mut children: HashMap<i32, Vec<&ProcInfo>> = HashMap::new();
    for p in &procs {
        children.entry(p.ppid).or_default().push(p);
    }
    let mut seen: HashSet<i32> = HashSet::new();
    let mut out = Vec::new();
    let mut queue: VecDeque<i32> = VecDeque::from([root]);
    while let Some(pid) = queue.pop_front() {
        for c in children.get(&pid).map(|v| v.as_slice()).unwrap_or(&[]) {
            if c.pid != root && seen.insert(c.pid) {
                out.push((*c).clone());
                queue.push_back(c.pid);
            }
        }
    }
    for p in &procs {
        if p.pgrp == root && p.pid != root && seen.insert(p.pid) {
            out.push(p.clone());
        }
    }
    out
}

/// The unprivileged host user the tests run vmlinux as (when they run as
/// root): uid and gid 65534, through `setpriv`.
pub const UNPRIVILEGED_UID: u32 = 65534;

/// Start vmlinux with `args` as the unprivileged host user.
pub fn boot_unprivileged(args: &[&str]) -> Guest {
    let vm = vmlinux();
    let uid = format!("--reuid={UNPRIVILEGED_UID}");
    let gid = format!("--regid={UNPRIVILEGED_UID}");
    let mut all = vec![
        uid.as_str(),
        gid.as_str(),
        "--clear-groups",
        vm.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    Guest::spawn(Path::new("/usr/bin/setpriv"), &all, &[])
}

/// Every host process below vmlinux `root` (the guest's address spaces)
/// runs as the unprivileged user, with no_new_privs and a seccomp filter.
/// `at_least`: how many there must be.
pub fn assert_confined_unprivileged(root: u32, at_least: usize) {
    let procs = host_descendants(root);
    assert!(procs.len() >= at_least, "{procs:?}");
    let uid = format!("\nUid:\t{0}\t{0}\t{0}\t{0}", UNPRIVILEGED_UID);
    for p in procs {
        let Ok(status) = std::fs::read_to_string(format!("/proc/{}/status", p.pid)) else {
            continue; // gone meanwhile
        };
        assert!(status.contains(&uid), "{status}");
        assert!(status.contains("\nNoNewPrivs:\t1"), "{status}");
        assert!(status.contains("\nSeccomp:\t2"), "{status}");
    }
}

/// Is this exact process (same pid and start time) still running (not a zombie)?
pub fn still_alive(p: &ProcInfo) -> bool {
    match proc_stat(&Path::new("/proc").join(p.pid.to_string()).join("stat")) {
        Some(now) => now.starttime == p.starttime && now.state != 'Z' && now.state != 'X',
        None => false,
    }
}

#[cfg(test)]
mod harness_tests {
    use super::*;

    #[test]
    fn cleans_echo_and_prompts() {
        let m = "echo __RU''ML_DONE_3__ $?";
        // Echoing tty with a prompt.
        let raw = "/ # echo hi | cat\nhi\n/ # echo __RU''ML_DONE_3__ $?\n";
        assert_eq!(clean_run_output(raw, "echo hi | cat", m), "hi\n");
        // No echo.
        assert_eq!(clean_run_output("/ # hi\n/ # ", "echo hi | cat", m), "hi\n");
        // No output.
        assert_eq!(
            clean_run_output("/ # true\n/ # echo __RU''ML_DONE_3__ $?\n", "true", m),
            ""
        );
        // Multi-line command with continuation prompts.
        let raw = "/ # for i in 1 2; do\n> echo $i; done\n1\n2\n/ # echo __RU''ML_DONE_3__ $?\n";
        assert_eq!(
            clean_run_output(raw, "for i in 1 2; do\necho $i; done", m),
            "1\n2\n"
        );
        // ANSI noise.
        let raw = "\x1b[6n/ # ls\r\na\nb\n/ # echo __RU''ML_DONE_3__ $?\n";
        assert_eq!(clean_run_output(raw, "ls", m), "a\nb\n");
    }
}
