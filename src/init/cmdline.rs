//! The kernel command line: turns the host argv words (UML/Linux-style boot parameters) into a validated [`Cmdline`].
//!
//! As in UML, every word after `argv[0]` is a kernel boot parameter. Words
//! the kernel understands configure it; like Linux, unknown `key=value` words
//! become environment variables for init, unknown bare words and everything
//! after a literal `--` become init's arguments. A known option with a
//! malformed value is a hard error: silently booting with a mistyped `mem=`
//! or a missing disk image is worse than refusing to start.
//!
//! This module is pure apart from checking that named files exist.

use std::fmt;
use std::path::{Path, PathBuf};

/// Guest memory when no `mem=` is given.
pub const DEFAULT_MEM: u64 = 256 << 20;
/// Smallest accepted `mem=`: below this not even a busybox userland fits.
pub const MIN_MEM: u64 = 16 << 20;
/// Largest accepted `mem=`: guest memory is backed by a host mapping, and
/// anything bigger is almost certainly a typo (e.g. a missing suffix).
pub const MAX_MEM: u64 = 64 << 30;
/// Highest accepted `ncpus=`.
pub const MAX_CPUS: u32 = 64;
/// Number of ubd block devices (`ubd0` ..= `ubd7`), as in UML.
pub const MAX_UBD: u8 = 8;
/// Number of console lines of each kind (`con0`..`con63`, `ssl0`..`ssl63`).
pub const MAX_CONSOLE_LINES: u32 = 64;
/// Highest accepted `loglevel=` (Linux takes 0..=15; above 7 means "everything").
pub const MAX_LOGLEVEL: u8 = 15;
/// Longest accepted `umid=`; the umid becomes a directory name under
/// `uml_dir`, which also holds unix sockets whose paths are length-limited.
pub const MAX_UMID_LEN: usize = 64;

const PAGE_SIZE: u64 = 4096;

/// The parsed kernel command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmdline {
    /// Guest memory in bytes, page aligned.
    pub mem: u64,
    /// `panic=N`: seconds before booting again after a panic (0: stop).
    pub panic_timeout: i64,
    /// Initramfs image to unpack into rootfs (an existing regular file).
    pub initrd: Option<PathBuf>,
    /// Program to run from the initramfs; `None` means the default `/init`.
    pub rdinit: Option<String>,
    /// Program to run from the real root filesystem.
    pub init: Option<String>,
    /// Root device, e.g. `/dev/ubda`.
    pub root: Option<String>,
    pub rootfstype: Option<String>,
    pub rootflags: Option<String>,
    /// `ro` gives `Some(true)`, `rw` gives `Some(false)`; the last one wins.
    pub read_only: Option<bool>,
    /// Console channel assignments in command-line order; later entries
    /// override earlier ones, so apply them in order. A spec never shares
    /// its target with an earlier entry: the earlier one is dropped.
    pub consoles: Vec<ConsoleSpec>,
    pub quiet: bool,
    pub loglevel: Option<u8>,
    /// Unique machine id, a directory name under `uml_dir`.
    pub umid: Option<String>,
    pub uml_dir: Option<PathBuf>,
    /// Number of virtual CPUs, `1..=MAX_CPUS`.
    pub ncpus: u32,
    /// How guests run on the host: "ptrace" or "seccomp" when named on
    /// the command line; None lets arch::init choose (seccomp where the
    /// host can run it, else ptrace).
    pub platform: Option<&'static str>,
    /// Block devices, at most one per index (a repeated one is an
    /// error), in command-line order.
    pub ubd: Vec<UbdSpec>,
    /// Ethernet devices (`ethN=`), at most one per index.
    pub eth: Vec<super::eth_word::EthSpec>,
    /// Host directory exported through hostfs.
    pub hostfs: Option<PathBuf>,
    /// `mconsole=notify:SOCKET`: announce the mconsole socket (and a
    /// panic) to this host datagram socket, as UML does.
    pub mconsole_notify: Option<PathBuf>,
    /// `gdbport=PORT`: the gdb server for guest processes.
    pub gdbport: Option<u16>,
    /// `xterm=TERMINAL,TITLE_SWITCH,EXEC_SWITCH`: the terminal emulator
    /// `xterm` channels start (default `xterm,-T,-e`).
    pub xterm: XtermSpec,
    /// Arguments for init: unknown bare words, then everything after `--`.
    pub init_args: Vec<String>,
    /// Environment for init: unknown `key=value` words.
    pub init_env: Vec<(String, String)>,
    /// Every word exactly as given, for `/proc/cmdline`.
    pub words: Vec<String>,
}

impl Default for Cmdline {
    fn default() -> Self {
        Cmdline {
            mem: DEFAULT_MEM,
            panic_timeout: 0,
            initrd: None,
            rdinit: None,
            init: None,
            root: None,
            rootfstype: None,
            rootflags: None,
            read_only: None,
            consoles: Vec::new(),
            quiet: false,
            loglevel: None,
            umid: None,
            uml_dir: None,
            ncpus: 1,
            platform: None,
            ubd: Vec::new(),
            eth: Vec::new(),
            hostfs: None,
            gdbport: None,
            mconsole_notify: None,
            xterm: XtermSpec::default(),
            init_args: Vec::new(),
            init_env: Vec::new(),
            words: Vec::new(),
        }
    }
}

/// One `con[N]=` or `ssl[N]=` word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSpec {
    /// `ssl` (serial line) rather than `con` (virtual console).
    pub serial: bool,
    /// The line number, or `None` for "all lines of this kind".
    pub index: Option<u32>,
    pub input: Channel,
    pub output: Channel,
}

/// A host channel a console line is attached to (UML channel syntax).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Channel {
    /// `fd:N`: an already open host file descriptor.
    Fd(i32),
    /// `null`: reads see EOF, writes are discarded.
    Null,
    /// `none`: the line does not exist.
    None,
    /// `pts`: a freshly allocated host pseudo-terminal.
    Pts,
    /// `port:N` or `port:ADDR:N`: a telnet-style TCP listener.
    Port { addr: Option<String>, port: u16 },
    /// `xterm`: a new host terminal emulator window (see [`XtermSpec`]).
    Xterm,
}

/// The terminal emulator of `xterm` channels: it is run as `TERMINAL
/// TITLE_SWITCH TITLE EXEC_SWITCH PROGRAM ARGS...`, as in UML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XtermSpec {
    pub terminal: String,
    pub title_switch: String,
    pub exec_switch: String,
}

impl Default for XtermSpec {
    fn default() -> Self {
        XtermSpec {
            terminal: "xterm".to_owned(),
            title_switch: "-T".to_owned(),
            exec_switch: "-e".to_owned(),
        }
    }
}

/// `xterm=TERMINAL,TITLE_SWITCH,EXEC_SWITCH`: three non-empty parts.
fn parse_xterm(value: &str) -> Result<XtermSpec, String> {
    let parts: Vec<&str> = value.split(',').collect();
    match parts.as_slice() {
        [t, ts, es] if !t.is_empty() && !ts.is_empty() && !es.is_empty() => Ok(XtermSpec {
            terminal: (*t).to_owned(),
            title_switch: (*ts).to_owned(),
            exec_switch: (*es).to_owned(),
        }),
        _ => {
            Err("expected TERMINAL,TITLE_SWITCH,EXEC_SWITCH (e.g. gnome-terminal,-t,-x)".to_owned())
        }
    }
}

/// One `ubdN[flags]=file[,backing]` word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UbdSpec {
    /// Device number, `0..MAX_UBD` (`ubda` ..= `ubdh`).
    pub index: u8,
    /// Flag `r`: the guest may not write.
    pub read_only: bool,
    /// Flag `s`: writes are synchronous on the host (`O_SYNC`).
    pub sync: bool,
    /// Flag `d`: never treat `file` as a COW overlay.
    pub no_cow: bool,
    /// Flag `c`: the image may be shared with other instances (no host lock).
    pub shared: bool,
    /// The image, or the COW overlay when `backing` is given.
    pub file: PathBuf,
    /// Read-only backing image under a COW overlay.
    pub backing: Option<PathBuf>,
}

/// A command line the kernel refuses to boot with. The message names the
/// offending word first, as vmlinux prints it (`vmlinux: WORD: reason`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CmdlineError {
    /// A known option was given without its `=value`.
    #[error("{word}: missing value (expected {word}=VALUE)")]
    MissingValue { word: String },
    /// A known option has a malformed or out-of-range value.
    #[error("{word}: {reason}")]
    InvalidValue { word: String, reason: String },
    /// A file named by an option cannot be used.
    #[error("{word}: {}{reason}", file_named_in(word, path))]
    File {
        word: String,
        path: PathBuf,
        reason: String,
    },
}

/// `initrd=x: No such file or directory` already names the file; only
/// spell it out (`PATH: `) when the word holds several paths.
fn file_named_in(word: &str, path: &Path) -> String {
    let value = word.split_once('=').map(|(_, v)| v);
    if value == path.to_str() {
        String::new()
    } else {
        format!("{}: ", path.display())
    }
}

impl CmdlineError {
    /// The offending command-line word.
    #[cfg(test)]
    pub fn word(&self) -> &str {
        match self {
            CmdlineError::MissingValue { word }
            | CmdlineError::InvalidValue { word, .. }
            | CmdlineError::File { word, .. } => word,
        }
    }
}

/// Parses the kernel's words (vmlinux's own options are
/// [`cli`](super::cli)'s, which hands every word over untouched).
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Cmdline, CmdlineError> {
    let words: Vec<String> = args.into_iter().collect();
    let mut cmdline = Cmdline::default();
    let mut rest = words.iter();
    for word in rest.by_ref() {
        if word == "--" {
            break;
        }
        cmdline.apply(word)?;
    }
    // Like Linux, everything after `--` goes to init untouched.
    cmdline.init_args.extend(rest.cloned());
    cmdline.words = words;
    Ok(cmdline)
}

/// `N:...` after `vec`: UML's vector word (a plain `vecX=` stays an
/// environment variable for init).
fn is_vec_key(rest: &str) -> bool {
    rest.split_once(':')
        .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

impl Cmdline {
    /// Applies one word. Scalar options simply overwrite, which gives
    /// Linux's "last one wins" for duplicates.
    fn apply(&mut self, word: &str) -> Result<(), CmdlineError> {
        let (key, value) = match word.split_once('=') {
            Some((key, value)) => (key, Some(value)),
            None => (word, None),
        };
        let invalid = |reason: String| CmdlineError::InvalidValue {
            word: word.to_owned(),
            reason,
        };
        let required = || {
            value.ok_or_else(|| CmdlineError::MissingValue {
                word: word.to_owned(),
            })
        };

        match key {
            "mem" => self.mem = parse_mem(required()?).map_err(invalid)?,
            "initrd" => {
                let path = non_empty(required()?).map_err(invalid)?;
                check_file(word, path, true)?;
                self.initrd = Some(PathBuf::from(path));
            }
            "rdinit" => self.rdinit = Some(parse_program(required()?).map_err(invalid)?),
            "init" => self.init = Some(parse_program(required()?).map_err(invalid)?),
            "root" => self.root = Some(non_empty(required()?).map_err(invalid)?.to_owned()),
            "rootfstype" => {
                self.rootfstype = Some(non_empty(required()?).map_err(invalid)?.to_owned())
            }
            "rootflags" => {
                self.rootflags = Some(non_empty(required()?).map_err(invalid)?.to_owned())
            }
            "loglevel" => {
                self.loglevel = Some(parse_ranged(required()?, 0, MAX_LOGLEVEL).map_err(invalid)?)
            }
            "mconsole" => {
                let v = required()?;
                let path = v
                    .strip_prefix("notify:")
                    .filter(|p| !p.is_empty())
                    .ok_or_else(|| {
                        invalid(format!("unknown option {v:?} (expected notify:SOCKET)"))
                    })?;
                self.mconsole_notify = Some(PathBuf::from(path));
            }
            "gdbport" => {
                self.gdbport = Some(parse_ranged(required()?, 1, u16::MAX).map_err(invalid)?)
            }
            "ncpus" => self.ncpus = parse_ranged(required()?, 1, MAX_CPUS).map_err(invalid)?,
            "platform" => {
                self.platform = match required()? {
                    "ptrace" => Some("ptrace"),
                    "seccomp" => Some("seccomp"),
                    _ => return Err(invalid("expected ptrace or seccomp".into())),
                }
            }
            "umid" => self.umid = Some(parse_umid(required()?).map_err(invalid)?),
            "uml_dir" => {
                self.uml_dir = Some(PathBuf::from(non_empty(required()?).map_err(invalid)?))
            }
            "hostfs" => {
                let path = non_empty(required()?).map_err(invalid)?;
                check_dir(word, path)?;
                self.hostfs = Some(PathBuf::from(path));
            }
            // Only `xterm=...` (UML's `xterm=` setup word); a bare `xterm`
            // stays an argument for init, as in UML.
            "xterm" if value.is_some() => self.xterm = parse_xterm(required()?).map_err(invalid)?,
            "quiet" | "ro" | "rw" => {
                if value.is_some() {
                    return Err(invalid("takes no value".to_owned()));
                }
                match key {
                    "quiet" => self.quiet = true,
                    "ro" => self.read_only = Some(true),
                    _ => self.read_only = Some(false),
                }
            }
            // Accepted for compatibility with Linux command lines; they only
            // appear in `words` (and hence /proc/cmdline).
            "debug" | "earlyprintk" | "console" => {}
            "panic" => {
                self.panic_timeout = parse_int::<i64>(required()?).map_err(invalid)?;
            }
            _ => {
                if let Some(target) = console_key(key) {
                    let (serial, index) = target.map_err(invalid)?;
                    let (input, output) = parse_channels(required()?).map_err(invalid)?;
                    self.add_console(ConsoleSpec {
                        serial,
                        index,
                        input,
                        output,
                    });
                } else if let Some(rest) = key.strip_prefix("ubd") {
                    let spec = parse_ubd(word, rest, required()?)?;
                    // Not "last one wins": with two images for one device
                    // the user surely meant one of them for another device
                    // (UML keeps the first and logs "Device is already
                    // configured", which scrolls by unnoticed).
                    if self.ubd.iter().any(|u| u.index == spec.index) {
                        return Err(invalid(format!(
                            "ubd{} is already configured by an earlier word (give each device once)",
                            spec.index
                        )));
                    }
                    self.ubd.push(spec);
                } else if let Some((rest, vector)) =
                    key.strip_prefix("eth").map(|r| (r, false)).or_else(|| {
                        key.strip_prefix("vec")
                            .filter(|r| is_vec_key(r))
                            .map(|r| (r, true))
                    })
                {
                    let spec = if vector {
                        super::eth_word::parse_vec(rest, required()?)
                    } else {
                        super::eth_word::parse_eth(rest, required()?)
                    }
                    .map_err(invalid)?;
                    if self.eth.iter().any(|e| e.name() == spec.name()) {
                        return Err(invalid(format!(
                            "{} is already configured by an earlier word (give each device once)",
                            spec.name()
                        )));
                    }
                    self.eth.push(spec);
                } else if key.contains('.') {
                    // A module parameter (`module.param=value`); Linux
                    // neither passes these to init nor complains.
                } else if let Some(value) = value.filter(|_| !key.is_empty()) {
                    self.init_env.push((key.to_owned(), value.to_owned()));
                } else {
                    self.init_args.push(word.to_owned());
                }
            }
        }
        Ok(())
    }

    /// Records a console spec. As in UML, `con=`/`ssl=` set the default
    /// for every line and `conN=`/`sslN=` set one line, which wins over the
    /// default whatever their order; a later word for the same line (or a
    /// later default) replaces the earlier one.
    fn add_console(&mut self, spec: ConsoleSpec) {
        self.consoles
            .retain(|c| c.serial != spec.serial || c.index != spec.index);
        self.consoles.push(spec);
    }
}

/// Rejects an empty value for options where emptiness is meaningless.
fn non_empty(value: &str) -> Result<&str, String> {
    if value.is_empty() {
        Err("empty value".to_owned())
    } else {
        Ok(value)
    }
}

/// `init=`/`rdinit=`: an absolute path to a program.
fn parse_program(value: &str) -> Result<String, String> {
    if !value.starts_with('/') {
        return Err(format!("'{value}' is not an absolute path"));
    }
    Ok(value.to_owned())
}

/// Parses a decimal or `0x` hexadecimal unsigned number. Unlike
/// `str::parse`, a leading `+` is rejected: it is never intended here.
fn parse_number(digits: &str) -> Option<u64> {
    let (digits, radix) = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => (hex, 16),
        None => (digits, 10),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// Parses a size with an optional K/M/G suffix (memparse style).
fn parse_size(value: &str) -> Option<u64> {
    let (digits, shift) = match value.chars().last()? {
        'k' | 'K' => (&value[..value.len() - 1], 10),
        'm' | 'M' => (&value[..value.len() - 1], 20),
        'g' | 'G' => (&value[..value.len() - 1], 30),
        _ => (value, 0),
    };
    parse_number(digits)?.checked_mul(1 << shift)
}

fn parse_mem(value: &str) -> Result<u64, String> {
    let bytes =
        parse_size(value).ok_or_else(|| format!("invalid size '{value}' (expected e.g. 256M)"))?;
    if bytes < MIN_MEM {
        return Err(format!("{value} is below the minimum of 16M"));
    }
    if bytes > MAX_MEM {
        return Err(format!("{value} exceeds the maximum of 64G"));
    }
    Ok(bytes & !(PAGE_SIZE - 1))
}

/// Parses a decimal integer of type `T` (sign allowed only if `T` is signed).
fn parse_int<T: std::str::FromStr>(value: &str) -> Result<T, String> {
    let digits = value.strip_prefix('-').unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("invalid number '{value}'"));
    }
    value
        .parse()
        .map_err(|_| format!("number '{value}' out of range"))
}

fn parse_ranged<T>(value: &str, min: T, max: T) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + fmt::Display,
{
    let n: T = parse_int(value)?;
    if n < min || n > max {
        return Err(format!("{n} is out of range ({min}..={max})"));
    }
    Ok(n)
}

fn parse_umid(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err("empty value".to_owned());
    }
    if value.len() > MAX_UMID_LEN {
        return Err(format!("longer than {MAX_UMID_LEN} characters"));
    }
    // The umid becomes a host directory name: no '/', no spaces, nothing
    // that needs quoting.
    if let Some(bad) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(format!(
            "invalid character '{bad}' (allowed: A-Z a-z 0-9 _ . -)"
        ));
    }
    if value == "." || value == ".." {
        return Err(format!("'{value}' is not a valid directory name"));
    }
    Ok(value.to_owned())
}

/// Recognises `con`, `conN`, `ssl`, `sslN`. Returns `None` for keys that
/// are not console options at all (e.g. `console`, `connect`), and an error
/// for a console key with an out-of-range line number.
fn console_key(key: &str) -> Option<Result<(bool, Option<u32>), String>> {
    let (serial, digits) = if let Some(d) = key.strip_prefix("con") {
        (false, d)
    } else if let Some(d) = key.strip_prefix("ssl") {
        (true, d)
    } else {
        return None;
    };
    if digits.is_empty() {
        return Some(Ok((serial, None)));
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(match digits.parse::<u32>() {
        Ok(n) if n < MAX_CONSOLE_LINES => Ok((serial, Some(n))),
        _ => Err(format!(
            "line {digits} out of range (0..={})",
            MAX_CONSOLE_LINES - 1
        )),
    })
}

/// Parses `in[,out]`; a single channel serves both directions.
fn parse_channels(value: &str) -> Result<(Channel, Channel), String> {
    let mut parts = value.split(',');
    let input = parse_channel(parts.next().unwrap_or_default())?;
    let output = match parts.next() {
        Some(out) => parse_channel(out)?,
        None => input.clone(),
    };
    if parts.next().is_some() {
        return Err("too many channels (expected in[,out])".to_owned());
    }
    Ok((input, output))
}

fn parse_channel(spec: &str) -> Result<Channel, String> {
    match spec {
        "null" => return Ok(Channel::Null),
        "none" => return Ok(Channel::None),
        "pts" => return Ok(Channel::Pts),
        "xterm" => return Ok(Channel::Xterm),
        _ => {}
    }
    if let Some(fd) = spec.strip_prefix("fd:") {
        let fd = parse_int::<i32>(fd).and_then(|n| {
            if n < 0 {
                Err(format!("invalid file descriptor {n}"))
            } else {
                Ok(n)
            }
        })?;
        return Ok(Channel::Fd(fd));
    }
    if let Some(rest) = spec.strip_prefix("port:") {
        // Split at the last ':' so an IPv6 address may contain colons.
        let (addr, port) = match rest.rsplit_once(':') {
            Some((addr, port)) => (Some(non_empty(addr)?.to_owned()), port),
            None => (None, rest),
        };
        let port = parse_ranged::<u16>(port, 1, u16::MAX)?;
        return Ok(Channel::Port { addr, port });
    }
    Err(format!(
        "unknown channel '{spec}' (expected fd:N, null, none, pts, port:[ADDR:]N or xterm)"
    ))
}

/// Parses one whole `ubdN[flags]=file[,backing]` word (mconsole `config`).
pub fn parse_ubd_word(word: &str) -> Result<UbdSpec, CmdlineError> {
    let (key, value) = word.split_once('=').unwrap_or((word, ""));
    let rest = key.strip_prefix("ubd").unwrap_or(key);
    parse_ubd(word, rest, value)
}

/// Parses `ubd<rest>=value`, where `rest` is `N[flags]`.
fn parse_ubd(word: &str, rest: &str, value: &str) -> Result<UbdSpec, CmdlineError> {
    let invalid = |reason: String| CmdlineError::InvalidValue {
        word: word.to_owned(),
        reason,
    };
    let mut chars = rest.chars();
    let index = match chars.next().and_then(|c| c.to_digit(10)) {
        Some(n) if n < u32::from(MAX_UBD) => n as u8,
        _ => {
            return Err(invalid(format!(
                "invalid device (expected ubd0..ubd{}[flags])",
                MAX_UBD - 1
            )))
        }
    };
    let mut spec = UbdSpec {
        index,
        read_only: false,
        sync: false,
        no_cow: false,
        shared: false,
        file: PathBuf::new(),
        backing: None,
    };
    for flag in chars {
        match flag {
            'r' => spec.read_only = true,
            's' => spec.sync = true,
            'd' => spec.no_cow = true,
            'c' => spec.shared = true,
            _ => {
                return Err(invalid(format!(
                    "unknown flag '{flag}' (expected r, s, d or c)"
                )))
            }
        }
    }

    // UML splits at the first ',' or ':' (ubd<n>=cow:backing works too).
    let (file, backing) = match value.split_once([',', ':']) {
        Some((file, backing)) => (file, Some(backing)),
        None => (value, None),
    };
    if file.is_empty() {
        return Err(invalid("empty file name".to_owned()));
    }
    match backing {
        Some(backing) => {
            if backing.is_empty() {
                return Err(invalid("empty backing file name".to_owned()));
            }
            if spec.no_cow {
                return Err(invalid(
                    "backing file given with flag 'd' (no COW)".to_owned(),
                ));
            }
            // The COW overlay is created on first use, as in UML; only the
            // backing image has to exist already.
            check_file(word, backing, false)?;
            spec.backing = Some(PathBuf::from(backing));
        }
        None => check_file(word, file, false)?,
    }
    spec.file = PathBuf::from(file);
    Ok(spec)
}

/// Checks that `path` exists and is not a directory (and, if `regular`,
/// is a regular file rather than e.g. a block device).
fn check_file(word: &str, path: &str, regular: bool) -> Result<(), CmdlineError> {
    let reason = match std::fs::metadata(Path::new(path)) {
        Ok(meta) if meta.is_dir() => "Is a directory".to_owned(),
        Ok(meta) if regular && !meta.is_file() => "Not a regular file".to_owned(),
        Ok(_) => return Ok(()),
        Err(e) => io_reason(&e),
    };
    Err(file_error(word, path, reason))
}

/// Checks that `path` exists and is a directory (the hostfs export root).
fn check_dir(word: &str, path: &str) -> Result<(), CmdlineError> {
    let reason = match std::fs::metadata(Path::new(path)) {
        Ok(meta) if meta.is_dir() => return Ok(()),
        Ok(_) => "Not a directory".to_owned(),
        Err(e) => io_reason(&e),
    };
    Err(file_error(word, path, reason))
}

/// A host error in the wording of Linux/UML error messages (strerror).
fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory".to_owned(),
        std::io::ErrorKind::PermissionDenied => "Permission denied".to_owned(),
        _ => e.to_string(),
    }
}

fn file_error(word: &str, path: &str, reason: String) -> CmdlineError {
    CmdlineError::File {
        word: word.to_owned(),
        path: PathBuf::from(path),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    fn boot(words: &[&str]) -> Cmdline {
        match parse(args(words)) {
            Ok(c) => c,
            Err(e) => panic!("{words:?}: expected Boot, got {e:?}"),
        }
    }

    fn error(words: &[&str]) -> CmdlineError {
        match parse(args(words)) {
            Err(e) => e,
            Ok(other) => panic!("{words:?}: expected an error, got {other:?}"),
        }
    }

    /// A temporary directory removed on drop, unique per test.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> Self {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir().join(format!("ruml-cmdline-{}-{n}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        fn file(&self, name: &str) -> String {
            let path = self.0.join(name);
            std::fs::write(&path, b"data").unwrap();
            path.to_str().unwrap().to_owned()
        }

        fn missing(&self, name: &str) -> String {
            self.0.join(name).to_str().unwrap().to_owned()
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn defaults() {
        let c = boot(&[]);
        assert_eq!(c, Cmdline::default());
        assert_eq!(c.mem, 256 << 20);
        assert_eq!(c.ncpus, 1);
        assert_eq!(c.rdinit, None);
        assert_eq!(c.read_only, None);
        assert!(!c.quiet);
    }

    #[test]
    fn xterm_word_names_the_terminal_emulator() {
        assert_eq!(boot(&[]).xterm, XtermSpec::default());
        let c = boot(&["xterm=gnome-terminal,-t,-x"]);
        assert_eq!(
            c.xterm,
            XtermSpec {
                terminal: "gnome-terminal".into(),
                title_switch: "-t".into(),
                exec_switch: "-x".into(),
            }
        );
        for bad in [
            "xterm=",
            "xterm=gnome-terminal",
            "xterm=a,-t",
            "xterm=a,,-x",
            "xterm=a,-t,-x,more",
        ] {
            assert!(
                matches!(error(&[bad]), CmdlineError::InvalidValue { .. }),
                "{bad} accepted"
            );
        }
        assert_eq!(boot(&["xterm"]).init_args, ["xterm"]);
    }

    #[test]
    fn mem_sizes() {
        assert_eq!(boot(&["mem=64M"]).mem, 64 << 20);
        assert_eq!(boot(&["mem=64m"]).mem, 64 << 20);
        assert_eq!(boot(&["mem=1G"]).mem, 1 << 30);
        assert_eq!(boot(&["mem=1g"]).mem, 1 << 30);
        assert_eq!(boot(&["mem=65536K"]).mem, 64 << 20);
        assert_eq!(boot(&["mem=65536k"]).mem, 64 << 20);
        assert_eq!(boot(&["mem=16777216"]).mem, 16 << 20);
        assert_eq!(boot(&["mem=0x1000000"]).mem, 16 << 20);
        assert_eq!(boot(&["mem=64G"]).mem, 64 << 30);
        // Rounded down to a page.
        assert_eq!(boot(&["mem=16777217"]).mem, 16 << 20);
        assert_eq!(boot(&["mem=20000001"]).mem, 20000001 & !4095);
        // Last one wins.
        assert_eq!(boot(&["mem=64M", "mem=128M"]).mem, 128 << 20);
    }

    #[test]
    fn mem_errors() {
        let e = error(&["mem=abc"]);
        assert_eq!(
            e.to_string(),
            "mem=abc: invalid size 'abc' (expected e.g. 256M)"
        );
        for bad in [
            "mem=",
            "mem=M",
            "mem=12Q",
            "mem=+64M",
            "mem=-64M",
            "mem=64MB",
            "mem=1.5G",
            "mem=0x",
            "mem=99999999999999999999",
            "mem=18446744073709551615G",
        ] {
            let e = error(&[bad]);
            assert!(
                matches!(e, CmdlineError::InvalidValue { .. }),
                "{bad}: {e:?}"
            );
            assert_eq!(e.word(), bad);
        }
        assert_eq!(
            error(&["mem=15M"]).to_string(),
            "mem=15M: 15M is below the minimum of 16M"
        );
        assert_eq!(
            error(&["mem=65G"]).to_string(),
            "mem=65G: 65G exceeds the maximum of 64G"
        );
        assert_eq!(
            error(&["mem"]),
            CmdlineError::MissingValue {
                word: "mem".to_owned()
            }
        );
        assert_eq!(
            error(&["mem"]).to_string(),
            "mem: missing value (expected mem=VALUE)"
        );
    }

    #[test]
    fn hostfs_root_must_be_a_directory() {
        let dir = TempDir::new();
        let c = boot(&[&format!("hostfs={}", dir.0.display())]);
        assert_eq!(c.hostfs.as_deref(), Some(dir.0.as_path()));
        let word = format!("hostfs={}", dir.file("f"));
        assert_eq!(
            error(&[&word]).to_string(),
            format!("{word}: Not a directory")
        );
        let word = format!("hostfs={}", dir.missing("gone"));
        assert_eq!(
            error(&[&word]).to_string(),
            format!("{word}: No such file or directory")
        );
    }

    #[test]
    fn initrd() {
        let dir = TempDir::new();
        let file = dir.file("initrd.img");
        let c = boot(&[&format!("initrd={file}")]);
        assert_eq!(c.initrd, Some(PathBuf::from(&file)));

        let missing = dir.missing("nope.img");
        let word = format!("initrd={missing}");
        let e = error(&[&word]);
        assert_eq!(e.to_string(), format!("{word}: No such file or directory"));
        assert!(matches!(e, CmdlineError::File { ref path, .. } if path == Path::new(&missing)));

        let word = format!("initrd={}", dir.0.display());
        assert_eq!(
            error(&[&word]).to_string(),
            format!("{word}: Is a directory")
        );
        assert!(matches!(
            error(&["initrd="]),
            CmdlineError::InvalidValue { .. }
        ));
        assert!(matches!(
            error(&["initrd"]),
            CmdlineError::MissingValue { .. }
        ));
    }

    #[test]
    fn init_programs() {
        let c = boot(&["rdinit=/bin/sh", "init=/sbin/init"]);
        assert_eq!(c.rdinit.as_deref(), Some("/bin/sh"));
        assert_eq!(c.init.as_deref(), Some("/sbin/init"));
        assert_eq!(boot(&["init=/a", "init=/b"]).init.as_deref(), Some("/b"));
        for bad in ["rdinit=", "rdinit=bin/sh", "init=", "init=sh"] {
            assert!(
                matches!(error(&[bad]), CmdlineError::InvalidValue { .. }),
                "{bad}"
            );
        }
        assert_eq!(
            error(&["init=sh"]).to_string(),
            "init=sh: 'sh' is not an absolute path"
        );
    }

    #[test]
    fn root_options() {
        let c = boot(&[
            "root=/dev/ubda",
            "rootfstype=ext4",
            "rootflags=noatime,data=ordered",
            "ro",
        ]);
        assert_eq!(c.root.as_deref(), Some("/dev/ubda"));
        assert_eq!(c.rootfstype.as_deref(), Some("ext4"));
        // Only the first '=' separates key and value.
        assert_eq!(c.rootflags.as_deref(), Some("noatime,data=ordered"));
        assert_eq!(c.read_only, Some(true));
        assert_eq!(boot(&["ro", "rw"]).read_only, Some(false));
        assert_eq!(boot(&["rw", "ro"]).read_only, Some(true));
        for bad in [
            "root=",
            "rootfstype=",
            "rootflags=",
            "ro=1",
            "rw=0",
            "quiet=yes",
        ] {
            assert!(
                matches!(error(&[bad]), CmdlineError::InvalidValue { .. }),
                "{bad}"
            );
        }
        assert_eq!(error(&["ro=1"]).to_string(), "ro=1: takes no value");
    }

    #[test]
    fn quiet_and_loglevel() {
        let c = boot(&["quiet", "loglevel=3"]);
        assert!(c.quiet);
        assert_eq!(c.loglevel, Some(3));
        assert_eq!(boot(&["loglevel=0"]).loglevel, Some(0));
        assert_eq!(boot(&["loglevel=15"]).loglevel, Some(15));
        assert_eq!(boot(&["loglevel=7", "loglevel=4"]).loglevel, Some(4));
        for bad in [
            "loglevel=16",
            "loglevel=-1",
            "loglevel=x",
            "loglevel=",
            "loglevel=300",
        ] {
            assert!(
                matches!(error(&[bad]), CmdlineError::InvalidValue { .. }),
                "{bad}"
            );
        }
        assert_eq!(
            error(&["loglevel=16"]).to_string(),
            "loglevel=16: 16 is out of range (0..=15)"
        );
    }

    #[test]
    fn ncpus() {
        assert_eq!(boot(&["ncpus=4"]).ncpus, 4);
        assert_eq!(boot(&["ncpus=64"]).ncpus, 64);
        for bad in ["ncpus=0", "ncpus=65", "ncpus=two", "ncpus=", "ncpus=-1"] {
            assert!(
                matches!(error(&[bad]), CmdlineError::InvalidValue { .. }),
                "{bad}"
            );
        }
    }

    #[test]
    fn umid_and_dirs() {
        let c = boot(&["umid=my-vm_1.test", "uml_dir=/tmp/uml", "hostfs=/"]);
        assert_eq!(c.umid.as_deref(), Some("my-vm_1.test"));
        assert_eq!(c.uml_dir, Some(PathBuf::from("/tmp/uml")));
        assert_eq!(c.hostfs, Some(PathBuf::from("/")));
        let long = format!("umid={}", "a".repeat(MAX_UMID_LEN + 1));
        for bad in [
            "umid=", "umid=a/b", "umid=a b", "umid=ü", "umid=..", "umid=.", &long, "uml_dir=",
            "hostfs=",
        ] {
            assert!(
                matches!(error(&[bad]), CmdlineError::InvalidValue { .. }),
                "{bad}"
            );
        }
        assert_eq!(
            error(&["umid=a/b"]).to_string(),
            "umid=a/b: invalid character '/' (allowed: A-Z a-z 0-9 _ . -)"
        );
    }

    #[test]
    fn consoles() {
        let c = boot(&[
            "con0=fd:0,fd:1",
            "con=pts",
            "ssl1=port:9000",
            "ssl=null",
            "con=null",
        ]);
        // Specific lines survive a later default (UML keeps conN= whatever
        // the order); a later default replaces an earlier one.
        assert_eq!(
            c.consoles,
            [
                ConsoleSpec {
                    serial: false,
                    index: Some(0),
                    input: Channel::Fd(0),
                    output: Channel::Fd(1),
                },
                ConsoleSpec {
                    serial: true,
                    index: Some(1),
                    input: Channel::Port {
                        addr: None,
                        port: 9000
                    },
                    output: Channel::Port {
                        addr: None,
                        port: 9000
                    },
                },
                ConsoleSpec {
                    serial: true,
                    index: None,
                    input: Channel::Null,
                    output: Channel::Null,
                },
                ConsoleSpec {
                    serial: false,
                    index: None,
                    input: Channel::Null,
                    output: Channel::Null,
                },
            ]
        );

        let c = boot(&["con=null", "con0=fd:0,fd:1", "con1=xterm", "con0=none"]);
        assert_eq!(
            c.consoles,
            [
                ConsoleSpec {
                    serial: false,
                    index: None,
                    input: Channel::Null,
                    output: Channel::Null,
                },
                ConsoleSpec {
                    serial: false,
                    index: Some(1),
                    input: Channel::Xterm,
                    output: Channel::Xterm,
                },
                ConsoleSpec {
                    serial: false,
                    index: Some(0),
                    input: Channel::None,
                    output: Channel::None,
                },
            ]
        );

        // con and ssl lines are independent; ssl0 survives the later ssl=.
        let c = boot(&["con0=pts", "ssl0=pts", "ssl=none"]);
        assert_eq!(c.consoles.len(), 3);
        assert!(!c.consoles[0].serial);
        assert!(c.consoles[1].serial && c.consoles[1].index == Some(0));
        assert!(c.consoles[2].serial && c.consoles[2].index.is_none());
    }

    #[test]
    fn channels() {
        let chan = |s: &str| parse_channels(s).map(|(i, _)| i);
        assert_eq!(chan("fd:0"), Ok(Channel::Fd(0)));
        assert_eq!(chan("fd:17"), Ok(Channel::Fd(17)));
        assert_eq!(chan("null"), Ok(Channel::Null));
        assert_eq!(chan("none"), Ok(Channel::None));
        assert_eq!(chan("pts"), Ok(Channel::Pts));
        assert_eq!(chan("xterm"), Ok(Channel::Xterm));
        assert_eq!(
            chan("port:9000"),
            Ok(Channel::Port {
                addr: None,
                port: 9000
            })
        );
        assert_eq!(
            chan("port:127.0.0.1:23"),
            Ok(Channel::Port {
                addr: Some("127.0.0.1".to_owned()),
                port: 23
            })
        );
        assert_eq!(
            chan("port:::1:23"),
            Ok(Channel::Port {
                addr: Some("::1".to_owned()),
                port: 23
            })
        );
        assert_eq!(
            parse_channels("fd:0,fd:1"),
            Ok((Channel::Fd(0), Channel::Fd(1)))
        );
        assert_eq!(
            parse_channels("null,pts"),
            Ok((Channel::Null, Channel::Pts))
        );
        for bad in [
            "",
            "fd:",
            "fd:-1",
            "fd:x",
            "fd:99999999999",
            "port:",
            "port:0",
            "port:65536",
            "port:x",
            "port::23",
            "tty",
            "fd:0,fd:1,fd:2",
            "fd:0,",
            ",fd:1",
            "PTS",
        ] {
            assert!(parse_channels(bad).is_err(), "{bad}");
            let word = format!("con0={bad}");
            assert!(
                matches!(error(&[&word]), CmdlineError::InvalidValue { .. }),
                "{word}"
            );
        }
        assert_eq!(
            error(&["con=tty"]).to_string(),
            "con=tty: unknown channel 'tty' (expected fd:N, null, none, pts, port:[ADDR:]N or xterm)"
        );
    }

    #[test]
    fn console_keys() {
        assert_eq!(boot(&["con63=pts"]).consoles[0].index, Some(63));
        assert_eq!(boot(&["ssl7=pts"]).consoles[0].index, Some(7));
        for bad in ["con64=pts", "ssl99999999999=pts", "con"] {
            assert!(parse(args(&[bad])).is_err(), "{bad}");
        }
        // Not console options: `console=` is ignored, `connect=` goes to init.
        let c = boot(&["console=ttyS0", "connect=1", "sslx=1"]);
        assert!(c.consoles.is_empty());
        assert_eq!(
            c.init_env,
            [
                ("connect".to_owned(), "1".to_owned()),
                ("sslx".to_owned(), "1".to_owned())
            ]
        );
    }

    #[test]
    fn ubd() {
        let dir = TempDir::new();
        let root = dir.file("root.img");
        let swap = dir.file("swap.img");
        let cow = dir.missing("root.cow");

        let c = boot(&[
            &format!("ubd0={root}"),
            &format!("ubd1rsdc={swap}"),
            &format!("ubd7={cow},{root}"),
        ]);
        assert_eq!(
            c.ubd,
            [
                UbdSpec {
                    index: 0,
                    read_only: false,
                    sync: false,
                    no_cow: false,
                    shared: false,
                    file: PathBuf::from(&root),
                    backing: None,
                },
                UbdSpec {
                    index: 1,
                    read_only: true,
                    sync: true,
                    no_cow: true,
                    shared: true,
                    file: PathBuf::from(&swap),
                    backing: None,
                },
                UbdSpec {
                    index: 7,
                    read_only: false,
                    sync: false,
                    no_cow: false,
                    shared: false,
                    file: PathBuf::from(&cow),
                    backing: Some(PathBuf::from(&root)),
                },
            ]
        );
        // ':' separates the COW file from its backing file too, as in UML.
        let c = boot(&[&format!("ubd2={cow}:{root}")]);
        assert_eq!(c.ubd[0].file, PathBuf::from(&cow));
        assert_eq!(c.ubd[0].backing, Some(PathBuf::from(&root)));

        // A device given twice is an error naming the second word, also
        // with other flags or the same file.
        for second in [format!("ubd0r={swap}"), format!("ubd0={root}")] {
            let e = error(&[&format!("ubd0={root}"), &second]);
            assert_eq!(e.word(), second);
            assert_eq!(
                e.to_string(),
                format!("{second}: ubd0 is already configured by an earlier word (give each device once)")
            );
        }
    }

    #[test]
    fn ubd_errors() {
        let dir = TempDir::new();
        let root = dir.file("root.img");
        let missing = dir.missing("missing.img");

        let word = format!("ubd0={missing}");
        assert_eq!(
            error(&[&word]).to_string(),
            format!("{word}: No such file or directory")
        );

        // A missing backing file names the path, as the word holds two.
        let word = format!("ubd0={root},{missing}");
        assert_eq!(
            error(&[&word]).to_string(),
            format!("{word}: {missing}: No such file or directory")
        );

        let word = format!("ubd0={}", dir.0.display());
        assert_eq!(
            error(&[&word]).to_string(),
            format!("{word}: Is a directory")
        );

        for bad in [
            "ubd0=".to_owned(),
            format!("ubd8={root}"),
            format!("ubda={root}"),
            format!("ubd={root}"),
            format!("ubd0x={root}"),
            format!("ubd0R={root}"),
            format!("ubd0={root},"),
            format!("ubd0=,{root}"),
            format!("ubd0d={root},{root}"),
        ] {
            assert!(
                matches!(error(&[&bad]), CmdlineError::InvalidValue { .. }),
                "{bad}"
            );
        }
        assert!(matches!(
            error(&["ubd0"]),
            CmdlineError::MissingValue { .. }
        ));
        assert_eq!(
            error(&[&format!("ubd0q={root}")]).to_string(),
            format!("ubd0q={root}: unknown flag 'q' (expected r, s, d or c)")
        );
    }

    #[test]
    fn ignored_words() {
        let words = [
            "debug",
            "earlyprintk",
            "earlyprintk=serial",
            "console=tty0",
            "panic=10",
            "panic=-1",
            "foo.bar=1",
            "usbcore.autosuspend",
        ];
        let c = boot(&words);
        assert_eq!(c.words, words);
        assert!(c.init_args.is_empty());
        assert!(c.init_env.is_empty());
        for bad in ["panic=", "panic=x", "panic=1.5", "panic"] {
            assert!(parse(args(&[bad])).is_err(), "{bad}");
        }
    }

    #[test]
    fn init_args_and_env() {
        let c = boot(&[
            "single",
            "TERM=linux",
            "-s",
            "mem=64M",
            "HOME=",
            "=x",
            "--",
            "mem=1",
            "--",
            "ro",
        ]);
        assert_eq!(c.init_args, ["single", "-s", "=x", "mem=1", "--", "ro"]);
        assert_eq!(
            c.init_env,
            [
                ("TERM".to_owned(), "linux".to_owned()),
                ("HOME".to_owned(), String::new())
            ]
        );
        // Words after `--` are not interpreted.
        assert_eq!(c.mem, 64 << 20);
        assert_eq!(c.read_only, None);
        assert_eq!(
            c.words,
            [
                "single",
                "TERM=linux",
                "-s",
                "mem=64M",
                "HOME=",
                "=x",
                "--",
                "mem=1",
                "--",
                "ro"
            ]
        );
    }

    #[test]
    fn errors_after_double_dash_are_not_errors() {
        let c = boot(&["--", "mem=abc", "initrd=/nonexistent"]);
        assert_eq!(c.init_args, ["mem=abc", "initrd=/nonexistent"]);
    }

    #[test]
    fn error_trait() {
        let e: Box<dyn std::error::Error> = Box::new(error(&["ncpus=0"]));
        assert_eq!(e.to_string(), "ncpus=0: 0 is out of range (1..=64)");
    }
}
