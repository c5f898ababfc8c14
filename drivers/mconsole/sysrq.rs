//! Magic SysRq, through the mconsole (`sysrq X`: Linux's messages, into
//! the kernel log and back to the client, as UML sends what the action
//! printed) and through /proc/sysrq-trigger (`trigger`).

use super::commands::After;
use super::protocol::reply;
use crate::kernel::printk::printk;
use crate::kernel::signal::{send_to_process, SigInfo, SIGKILL, SIGTERM};
use crate::kernel::task;

const HELP: &str = "sysrq: HELP : loglevel(0-9) reboot(b) terminate-all-tasks(e) \
kill-all-tasks(i) show-memory-usage(m) poweroff(o) sync(s) show-task-states(t) unmount(u) ";

/// Run the action for the first letter of `arg`.
pub fn run(arg: &str) -> (Vec<Vec<u8>>, After) {
    let (lines, after) = handle(arg.chars().next().unwrap_or('\0'));
    let mut text = lines.join("\n");
    text.push('\n');
    let mut out = reply(&text, 0, true);
    out.extend(reply("", 0, false));
    (out, after)
}

/// A write to /proc/sysrq-trigger: the action for `key`, done now (a
/// power off ends vmlinux with status 0; a reboot happens as soon as the
/// writing task gives the vCPU back). As Linux, the kernel.sysrq mask
/// does not apply to this file.
pub fn trigger(key: char) {
    match handle(key).1 {
        After::Halt => {
            crate::drivers::char::host_console::restore_terminal();
            super::commands::halt()
        }
        After::Reboot => super::request_reboot(),
        _ => {}
    }
}

/// Do the action for `key` and log its messages; they are returned too,
/// with what the caller must do next.
fn handle(key: char) -> (Vec<String>, After) {
    let mut lines: Vec<String> = Vec::new();
    let mut after = After::Nothing;
    match key {
        '0'..='9' => {
            lines.push("sysrq: Changing Loglevel".into());
            let l = key as u8 - b'0';
            crate::kernel::printk::set_loglevel(l);
            lines.push(format!("sysrq: Loglevel set to {l}"));
        }
        'b' => {
            lines.push("sysrq: Resetting".into());
            after = After::Reboot;
        }
        'e' => {
            lines.push("sysrq: Terminate All Tasks".into());
            signal_all(SIGTERM);
        }
        'i' => {
            lines.push("sysrq: Kill All Tasks".into());
            signal_all(SIGKILL);
        }
        'm' => {
            lines.push("sysrq: Show Memory".into());
            lines.extend(show_mem());
        }
        'o' => {
            lines.push("sysrq: Power Off".into());
            after = After::Halt;
        }
        's' => {
            lines.push("sysrq: Emergency Sync".into());
            emergency(false);
            lines.push("Emergency Sync complete".into());
        }
        't' => {
            lines.push("sysrq: Show State".into());
            lines.extend(show_state());
        }
        'u' => {
            lines.push("sysrq: Emergency Remount R/O".into());
            emergency(true);
            lines.push("Emergency Remount complete".into());
        }
        _ => lines.push(HELP.into()),
    }
    for l in &lines {
        printk(l);
    }
    (lines, after)
}

/// Every process but init (Linux spares init and kernel threads).
fn signal_all(sig: i32) {
    for g in task::all_groups() {
        if g.tgid != 1 {
            let _ = send_to_process(g.tgid, SigInfo::kernel(sig));
        }
    }
}

/// Linux's show_mem summary, in pages.
fn show_mem() -> Vec<String> {
    let (total, free) = crate::mm::frame::stats();
    vec![
        "Mem-Info:".into(),
        format!(" free:{free} used:{}", total - free),
        format!("{total} pages RAM"),
        format!("{} pages reserved", crate::arch::reserved_frames()),
    ]
}

/// One line per task, as sched_show_task begins them.
fn show_state() -> Vec<String> {
    let mut v = Vec::new();
    for t in task::all_tasks() {
        let ppid = task::find_tg_of(t.tid)
            .map(|g| g.lock().parent)
            .unwrap_or(0);
        let i = t.lock();
        let state = match i.state {
            task::State::Runnable => 'R',
            task::State::Blocked => 'S',
            task::State::Stopped => 'T',
            task::State::Dead => 'X',
        };
        v.push(format!(
            "task:{:<15} state:{} pid:{:<5} ppid:{:<5} syscall:{} rip:{:#x}",
            i.comm,
            state,
            t.tid,
            ppid,
            crate::kernel::syscall::names::name(i.ctx.regs.orig_rax),
            i.ctx.regs.rip
        ));
    }
    v
}

/// Emergency sync (`remount_ro` false) or remount of every ext
/// filesystem read-only: written back on the vCPU, now.
fn emergency(remount_ro: bool) {
    use crate::fs::mount::{self, MntFlags};
    for m in mount::mounts() {
        let Some(fs) = crate::fs::ext4::fs_of(&m.root) else {
            continue;
        };
        let r = if remount_ro {
            let r = fs.remount(true);
            if r.is_ok() {
                mount::update(m.id, |mm| mm.flags.insert(MntFlags::RDONLY));
            }
            r
        } else if fs.read_only() {
            Ok(())
        } else {
            fs.sync()
        };
        if let Err(e) = r {
            log::error!("sysrq: {}: {}", m.source, e.name());
        }
    }
}
