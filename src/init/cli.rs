//! vmlinux's own options (`-h`/`--help`, `-V`/`--version`) through clap;
//! every other word is a kernel boot parameter, handed untouched to
//! [`cmdline`](super::cmdline), which keeps UML's `key=value` syntax.

use super::cmdline::{self, Cmdline, CmdlineError};
use clap::error::ErrorKind;
use clap::{Arg, ArgAction, Command};

/// What `vmlinux` should do, as decided by its command line.
// `Boot` is much larger than the other variants, but an `Action` is built
// once per boot, so boxing it would only make callers noisier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Boot the kernel with this configuration.
    Boot(Cmdline),
    /// Print this usage text and exit.
    Help(String),
    /// Print this version line and exit.
    Version(String),
}

/// The id of the positional argument that collects the kernel words.
const WORDS: &str = "words";

/// The kernel's words, listed in `--help` between the usage line and
/// clap's own option list.
const KERNEL_WORDS: &str = "\
Kernel command-line words (UML/Linux style):
  mem=SIZE              guest memory, with optional K/M/G suffix (16M..64G, default 256M)
  initrd=FILE           initramfs (cpio, optionally gzip-compressed) to unpack into rootfs
  rdinit=PATH           program to run from the initramfs (default /init)
  init=PATH             program to run from the root filesystem
  root=DEV              root device, e.g. /dev/ubda
  rootfstype=TYPE       filesystem type of the root device
  rootflags=OPTS        mount options for the root filesystem
  ro                    mount the root filesystem read-only
  rw                    mount the root filesystem read-write
  ubdN[rsdc]=FILE[,BACKING]
                        block device N (0-7) backed by FILE; with BACKING (after ','
                        or ':', as in UML), FILE is a UML COW overlay (created if
                        missing; alone, FILE's COW header names its backing file);
                        flags: r read-only, s synchronous,
                        d no COW (never read FILE as an overlay),
                        c shared (no host lock)
  ethN=tuntap,TAP[,MAC] network device ethN (0-15) over host TAP interface TAP
                        (created if missing and allowed); MAC aa:bb:cc:dd:ee:ff
  ethN=user[,OPT]...    network device ethN behind a user-mode gateway (alias slirp;
                        no privileges): guest 10.0.2.15/24, gateway 10.0.2.2 (the
                        host's 127.0.0.1), DNS 10.0.2.3; OPT: mac=MAC,
                        hostfwd=tcp|udp:[HOSTADDR]:HOSTPORT-:GUESTPORT (repeatable;
                        HOSTADDR defaults to 127.0.0.1, [::1] for IPv6);
                        the guest also gets fd00:10:0:2::/64 by SLAAC
  con[N]=IN[,OUT]       attach console line N (or all lines) to host channels
  ssl[N]=IN[,OUT]       attach serial line N (or all lines) to host channels
                        channels: fd:N, null, none, pts, port:[ADDR:]N, xterm
  quiet                 suppress most kernel messages
  loglevel=N            console log level (0-15)
  umid=NAME             unique machine id (letters, digits, _ . -)
  uml_dir=DIR           directory for the machine id directory
  ncpus=N               virtual CPUs (1-64); processes run in parallel, the
                        threads of one process on one vCPU
  platform=ptrace|seccomp
                        how guest code runs on the host: PTRACE_SYSEMU, or a
                        seccomp filter trapping into the stub (the default
                        where the host has user-space FSGSBASE)
  hostfs=DIR            host directory to export through hostfs
  mconsole=notify:SOCK  send the mconsole socket's name (and a panic) to host
                        datagram socket SOCK, as UML
  gdbport=PORT          serve the GDB remote protocol on 127.0.0.1:PORT for guest
                        processes (gdb: target extended-remote :PORT, attach PID)
  xterm=TERM,TITLE_SW,EXEC_SW
                        terminal emulator for xterm channels, run as
                        TERM TITLE_SW TITLE EXEC_SW port-helper ... (default xterm,-T,-e)
  panic=N               after a kernel panic boot again in N seconds (N < 0: at
                        once; 0, the default: stop with status 1)
  debug, earlyprintk, console=..., MODULE.PARAM=VALUE
                        accepted for compatibility and ignored
  KEY=VALUE             any other assignment is passed to init's environment
  WORD                  any other word is passed to init as an argument
  --                    pass all remaining words to init unchanged";

/// vmlinux's clap command: two flags and the kernel's words.
pub fn command() -> Command {
    Command::new("ruml")
        .bin_name("vmlinux")
        .version(concat!(
            env!("CARGO_PKG_VERSION"),
            " (Linux-compatible kernel, x86_64, User-Mode)"
        ))
        .override_usage("vmlinux [OPTION]... [-- INIT_ARG...]")
        .before_help(KERNEL_WORDS)
        .help_template("{usage-heading} {usage}\n\n{before-help}Options:\n{options}\n")
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .help("show this help and exit")
                .action(ArgAction::Help),
        )
        .arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .help("show the version and exit")
                .action(ArgAction::Version),
        )
        .arg(
            // Kernel words start with anything, `-` included (`-s` is
            // init's single-user flag), so clap must not judge them.
            Arg::new(WORDS)
                .num_args(0..)
                .allow_hyphen_values(true)
                .trailing_var_arg(true)
                .hide(true),
        )
}

/// Parses vmlinux's words (without `argv[0]`).
///
/// vmlinux's flags win wherever they stand before `--`, so that
/// `vmlinux mem=oops --help` still prints the usage; after `--` they are
/// init's. clap alone would take them as kernel words once a word has
/// been seen, so it is given the flags first and then, after its own
/// `--`, every word exactly as typed.
pub fn parse(words: Vec<String>) -> Result<Action, CmdlineError> {
    let cmd = command();
    let is_flag = |w: &str| {
        cmd.get_arguments().any(|a| {
            a.get_long()
                .is_some_and(|l| w.strip_prefix("--") == Some(l))
                || a.get_short().is_some_and(|s| w == format!("-{s}"))
        })
    };
    let flags: Vec<&str> = words
        .iter()
        .take_while(|w| *w != "--")
        .filter(|w| is_flag(w))
        .map(String::as_str)
        .collect();
    let argv = std::iter::once("vmlinux")
        .chain(flags)
        .chain(std::iter::once("--"))
        .chain(words.iter().map(String::as_str));
    match cmd.try_get_matches_from(argv) {
        Ok(m) => {
            let words: Vec<String> = m
                .get_many::<String>(WORDS)
                .map(|w| w.cloned().collect())
                .unwrap_or_default();
            cmdline::parse(words).map(Action::Boot)
        }
        Err(e) if e.kind() == ErrorKind::DisplayHelp => Ok(Action::Help(e.to_string())),
        Err(e) if e.kind() == ErrorKind::DisplayVersion => Ok(Action::Version(e.to_string())),
        // Only the two flags reach clap outside its `--`: nothing else
        // can fail.
        Err(e) => unreachable!("clap rejected vmlinux's argv: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    fn help() -> String {
        match parse(args(&["--help"])) {
            Ok(Action::Help(h)) => h,
            other => panic!("--help: {other:?}"),
        }
    }

    #[test]
    fn command_is_well_formed() {
        command().debug_assert();
    }

    #[test]
    fn help_and_version() {
        let h = help();
        assert!(
            h.starts_with("Usage: vmlinux [OPTION]... [-- INIT_ARG...]\n"),
            "{h}"
        );
        assert_eq!(parse(args(&["-h"])), Ok(Action::Help(h.clone())));
        let v = format!(
            "ruml {} (Linux-compatible kernel, x86_64, User-Mode)\n",
            env!("CARGO_PKG_VERSION")
        );
        assert_eq!(parse(args(&["--version"])), Ok(Action::Version(v.clone())));
        assert_eq!(parse(args(&["-V"])), Ok(Action::Version(v)));
        // Help wins even over an invalid word before it.
        assert_eq!(
            parse(args(&["mem=oops", "--help"])),
            Ok(Action::Help(h.clone()))
        );
        assert_eq!(parse(args(&["ro", "-h", "quiet"])), Ok(Action::Help(h)));
        // ...but not when it is an argument for init.
        let Ok(Action::Boot(c)) = parse(args(&["--", "--help"])) else {
            panic!("-- --help does not boot");
        };
        assert_eq!(c.init_args, ["--help"]);
    }

    #[test]
    fn kernel_words_reach_cmdline_untouched() {
        let words = args(&["-s", "mem=64M", "--bogus", "x", "--", "-V", "--", "y"]);
        let Ok(Action::Boot(c)) = parse(words.clone()) else {
            panic!("{words:?} does not boot");
        };
        assert_eq!(c.words, words);
        assert_eq!(c.mem, 64 << 20);
        assert_eq!(c.init_args, ["-s", "--bogus", "x", "-V", "--", "y"]);
        let Ok(Action::Boot(c)) = parse(vec![]) else {
            panic!("no words does not boot");
        };
        assert_eq!(c, Cmdline::default());
        assert!(matches!(
            parse(args(&["mem=oops"])),
            Err(CmdlineError::InvalidValue { .. })
        ));
    }

    #[test]
    fn help_mentions_every_option() {
        let text = help();
        for opt in [
            "mem=",
            "initrd=",
            "rdinit=",
            "init=",
            "root=",
            "rootfstype=",
            "rootflags=",
            "ro ",
            "rw ",
            "ubdN",
            "ethN=",
            "ethN=user",
            "hostfwd=",
            "con[N]=",
            "ssl[N]=",
            "quiet",
            "loglevel=",
            "umid=",
            "uml_dir=",
            "ncpus=",
            "platform=",
            "hostfs=",
            "gdbport=",
            "mconsole=notify:",
            "xterm=",
            "debug",
            "earlyprintk",
            "console=",
            "panic=",
            "-h, --help",
            "-V, --version",
            "--  ",
        ] {
            assert!(text.contains(opt), "help text lacks {opt}");
        }
    }
}
