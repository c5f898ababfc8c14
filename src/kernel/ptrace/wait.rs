//! The tracer's side of wait4/waitid: stops and exits of its tracees,
//! reported to it whether or not they are its children (as with __WALL:
//! threads and clone children alike).

use super::*;

/// A tracee's state change for the tracer's wait.
pub enum Report {
    /// A ptrace-stop: the wait status (`exit_code << 8 | 0x7f`).
    Stopped(Tid, i32),
    /// The tracee exited (not a child, or not the last thread): its wait
    /// status. Nothing to reap.
    Exited(Tid, i32),
}

/// Look for a report to `tracer` from a tracee that `pid` selects (as
/// wait4's pid: -1 any, >0 that tid, 0 or <-1 a process group); taken
/// unless `nowait`. Also says whether `pid` selects any tracee at all
/// (then the wait is not ECHILD even with no children).
pub fn find(tracer: Pid, pid: i32, nowait: bool) -> (Option<Report>, bool) {
    if !any() {
        return (None, false);
    }
    let pgid_of = |tid: Tid| task::find_tg_of(tid).map(|g| g.lock().pgid);
    let my_pgid = task::group(tracer).map(|g| g.lock().pgid);
    let candidates: Vec<Tid> = table()
        .iter()
        .filter(|(_, e)| e.tracer == tracer)
        .map(|(&tid, _)| tid)
        .collect();
    let mut any_match = false;
    for tid in candidates {
        let selected = match pid {
            -1 => true,
            p if p > 0 => tid == p,
            0 => pgid_of(tid).is_some() && pgid_of(tid) == my_pgid,
            p => pgid_of(tid) == Some(-p),
        };
        if !selected {
            continue;
        }
        any_match = true;
        let mut tb = table();
        let Some(e) = tb.get_mut(tid) else { continue };
        let Some(st) = e.report else { continue };
        if e.exited {
            if !nowait {
                tb.remove(tid);
            }
            return (Some(Report::Exited(tid, st)), true);
        }
        if !nowait {
            e.report = None;
        }
        return (Some(Report::Stopped(tid, st)), true);
    }
    (None, any_match)
}
