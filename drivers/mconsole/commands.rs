//! The mconsole commands, answered as UML 6.1 answers them: same command
//! names (matched by prefix, in UML's order), same reply texts and error
//! codes, so scripts written for `uml_mconsole` work unchanged.

use super::protocol::reply;
use crate::kernel::printk::printk;

/// What happens after the reply is sent.
pub enum After {
    Nothing,
    Halt,
    Reboot,
    Stop,
    Go,
}

type Packets = Vec<Vec<u8>>;

/// UML's help text (mconsole_kern.c), byte for byte.
pub const HELP: &str = "Commands: \n\
    \x20   version - Get kernel version \n\
    \x20   help - Print this message \n\
    \x20   halt - Halt UML \n\
    \x20   reboot - Reboot UML \n\
    \x20   config <dev>=<config> - Add a new device to UML;  \n\
    \tsame syntax as command line \n\
    \x20   config <dev> - Query the configuration of a device \n\
    \x20   remove <dev> - Remove a device from UML \n\
    \x20   sysrq <letter> - Performs the SysRq action controlled by the letter \n\
    \x20   cad - invoke the Ctrl-Alt-Del handler \n\
    \x20   stop - pause the UML; it will do nothing until it receives a 'go' \n\
    \x20   go - continue the UML after a 'stop' \n\
    \x20   log <string> - make UML enter <string> into the kernel log\n\
    \x20   proc <file> - returns the contents of the UML's /proc/<file>\n\
    \x20   stack <pid> - returns the stack of the specified pid\n";

/// UML's command table order matters: matching is by prefix
/// ("versionx" is "version").
const COMMANDS: [&str; 13] = [
    "version", "halt", "reboot", "config", "remove", "sysrq", "help", "cad", "stop", "go", "log",
    "proc", "stack",
];

/// Run command line `cmd`; `stopped` says the guest is stopped.
pub fn run(cmd: &str, stopped: bool) -> (Packets, After) {
    let Some(name) = COMMANDS.iter().find(|c| cmd.starts_with(*c)) else {
        return (reply("Unknown command", 1, false), After::Nothing);
    };
    let arg = cmd[name.len()..].trim_start();
    let ok = |after| (reply("", 0, false), after);
    match *name {
        "version" => (reply(&version(), 0, false), After::Nothing),
        "help" => (reply(HELP, 0, false), After::Nothing),
        "halt" => ok(After::Halt),
        "reboot" => ok(After::Reboot),
        "cad" => {
            ctrl_alt_del();
            ok(After::Nothing)
        }
        "stop" if stopped => (reply("Already stopped", 1, false), After::Nothing),
        "stop" => (reply("stopped", 0, false), After::Stop),
        "go" if stopped => ok(After::Go),
        "go" => (reply("Not stopped", 1, false), After::Nothing),
        "log" => {
            // UML prints the text as it is (a trailing newline ends the
            // record); one record per line here.
            printk(arg.trim_end_matches('\n'));
            ok(After::Nothing)
        }
        "proc" => (proc_file(arg), After::Nothing),
        "stack" => (stack(arg), After::Nothing),
        "sysrq" => super::sysrq::run(arg),
        "config" => match arg.strip_prefix("eth") {
            Some(rest) => (super::eth::config(rest), After::Nothing),
            None => (
                crate::drivers::block::ubd_hotplug::config(arg),
                After::Nothing,
            ),
        },
        "remove" => match arg.strip_prefix("eth") {
            Some(rest) => (super::eth::remove(rest), After::Nothing),
            None => (
                crate::drivers::block::ubd_hotplug::remove(arg),
                After::Nothing,
            ),
        },
        _ => (reply("Unknown command", 1, false), After::Nothing),
    }
}

/// "sysname nodename release version machine", as uname(2) shows them.
fn version() -> String {
    format!(
        "Linux {} {} #1 ruml {} x86_64",
        crate::kernel::sys_proc::hostname(),
        crate::kernel::sys_proc::RELEASE,
        env!("CARGO_PKG_VERSION")
    )
}

/// `halt`: as halt(8) with -f: write back, then end vmlinux with 0.
pub fn halt() -> ! {
    crate::fs::ext4::shutdown_all();
    printk("reboot: System halted");
    crate::arch::host_exit(0)
}

/// Ctrl-Alt-Del with C_A_D off, as every init system sets it: SIGINT to
/// init, which decides what to do (busybox and sysvinit reboot).
fn ctrl_alt_del() {
    use crate::kernel::signal::{send_to_process, SigInfo, SIGINT};
    if let Err(e) = send_to_process(1, SigInfo::kernel(SIGINT)) {
        log::warn!("mconsole: cad: no init to signal ({})", e.name());
    }
}

/// `proc FILE`: the contents of /proc/FILE, read from a procfs instance
/// of the kernel's own (whether or not the guest mounted one). As UML:
/// a "\n" first, the text in pieces with `more`, an empty last reply.
fn proc_file(name: &str) -> Packets {
    use crate::fs::file::{File, O_RDONLY};
    use crate::fs::vfs::{self, Dentry};
    use crate::kernel::task::Creds;
    let root = Dentry::root(crate::fs::procfs::new_fs(
        crate::kernel::ns::INIT.of(crate::kernel::ns::Kind::Pid),
    ));
    // "/proc/" + name as UML opens it: an empty name is the directory.
    let Ok(p) = vfs::walk(&root, &root, &format!("./{name}"), true, &Creds::ROOT) else {
        return reply("Failed to open file", 1, false);
    };
    let ops = match p.inode.open(O_RDONLY) {
        Ok(o) => o,
        Err(_) => return reply("Failed to open file", 1, false),
    };
    let file = ops.map(|o| File::new(o, Some(p.inode.clone()), Some(p.clone()), O_RDONLY));
    let mut out = Vec::new();
    let mut off = 0u64;
    let mut buf = vec![0u8; 4095];
    loop {
        let r = match &file {
            Some(f) => f.ops.read(f, &mut buf),
            None => p.inode.read_at(off, &mut buf),
        };
        let n = match r {
            Ok(n) => n,
            Err(_) if out.is_empty() => return reply("Read of file failed", 1, false),
            Err(_) => {
                out.extend(reply("Read of file failed", 1, false));
                return out;
            }
        };
        if out.is_empty() {
            out.extend(reply("\n", 0, true));
        }
        off += n as u64;
        out.extend(reply(&String::from_utf8_lossy(&buf[..n]), 0, n > 0));
        if n == 0 {
            return out;
        }
    }
}

/// `stack PID`: the task's registers and where it is, into the kernel
/// log and back to the client (a guest task has no kernel stack here; the
/// user-mode registers and the syscall it sleeps in are its trace).
fn stack(arg: &str) -> Packets {
    let digits: String = arg
        .chars()
        .enumerate()
        .take_while(|(i, c)| c.is_ascii_digit() || (*i == 0 && *c == '-'))
        .map(|(_, c)| c)
        .collect();
    let Ok(pid) = digits.parse::<i32>() else {
        return reply("Please specify a pid", 1, false);
    };
    let t = match (pid, crate::kernel::task::task(pid)) {
        (p, Some(t)) if p > 0 => t,
        _ => return reply("Couldn't find that pid", 1, false),
    };
    let text = {
        let i = t.lock();
        let r = &i.ctx.regs;
        format!(
            "Stack:\ntask:{:<15} state:{:?} pid:{} tgid:{}\n\
             RIP: 0033:{:#018x} RSP: {:#018x} RBP: {:#018x}\n\
             RAX: {:#018x} ORIG_RAX: {:#018x} ({})\n\
             Call Trace:\n [<{:016x}>] user mode\n",
            i.comm,
            i.state,
            t.tid,
            t.tgid(),
            r.rip,
            r.rsp,
            r.rbp,
            r.rax,
            r.orig_rax,
            crate::kernel::syscall::names::name(r.orig_rax),
            r.rip
        )
    };
    printk(text.trim_end());
    let mut out = reply(&text, 0, true);
    out.extend(reply("", 0, false));
    out
}
