//! /proc/PID/limits: the process's resource limits in the layout of
//! Linux's proc_pid_limits (fixed-width columns that tools parse by
//! position; "unlimited" for RLIM_INFINITY; the unit column left blank
//! for the two priority limits).

use super::pid::group_task;
use crate::kernel::errno::KResult;
use crate::kernel::task::{Pid, RLIM_INFINITY};
use std::fmt::Write;

/// Names and units in RLIMIT_* order, as Linux's lnames[].
const LIMITS: [(&str, Option<&str>); 16] = [
    ("Max cpu time", Some("seconds")),
    ("Max file size", Some("bytes")),
    ("Max data size", Some("bytes")),
    ("Max stack size", Some("bytes")),
    ("Max core file size", Some("bytes")),
    ("Max resident set", Some("bytes")),
    ("Max processes", Some("processes")),
    ("Max open files", Some("files")),
    ("Max locked memory", Some("bytes")),
    ("Max address space", Some("bytes")),
    ("Max file locks", Some("locks")),
    ("Max pending signals", Some("signals")),
    ("Max msgqueue size", Some("bytes")),
    ("Max nice priority", None),
    ("Max realtime priority", None),
    ("Max realtime timeout", Some("us")),
];

fn value(v: u64) -> String {
    if v == RLIM_INFINITY {
        "unlimited".into()
    } else {
        v.to_string()
    }
}

pub(super) fn proc_limits(pid: Pid) -> KResult<String> {
    let rl = group_task(pid)?.tg().lock().rlimits;
    let mut out = format!(
        "{:<25} {:<20} {:<20} {:<10}\n",
        "Limit", "Soft Limit", "Hard Limit", "Units"
    );
    for (i, (name, unit)) in LIMITS.iter().enumerate() {
        let (soft, hard) = rl.get(i).copied().unwrap_or((0, 0));
        let _ = write!(out, "{:<25} {:<20} {:<20} ", name, value(soft), value(hard));
        match unit {
            Some(u) => {
                let _ = writeln!(out, "{u:<10}");
            }
            None => out.push('\n'),
        }
    }
    Ok(out)
}
