//! The OOM killer's report and kill: a page fault that finds no free frame
//! kills the faulting process, and the kernel log says so in Linux's words
//! (what admins and tools such as `dmesg | grep -i "killed process"` look
//! for). Linux would pick the largest process; here the one asking pays.

use super::signal;
use super::task::Task;
use std::sync::Arc;

/// Kill `t`'s process for want of memory, logging it at error level.
pub fn kill(t: &Arc<Task>) {
    kill_in(t, "Out of memory");
}

/// `kill` with the log line's cause: "Out of memory" for the whole
/// machine, "Memory cgroup out of memory" for a group at memory.max.
pub fn kill_in(t: &Arc<Task>, why: &str) {
    let kb = crate::mm::frame::PAGE_SIZE / 1024;
    let (s, pte_bytes) = {
        let mm = t.mm();
        let m = mm.lock();
        let s = m.mem_stats();
        let p = s.pte_bytes;
        (s, p)
    };
    let comm = t.lock().comm.clone();
    log::error!(
        "{why}: Killed process {} ({}) total-vm:{}kB, anon-rss:{}kB, file-rss:{}kB, shmem-rss:{}kB, UID:{} pgtables:{}kB oom_score_adj:{}",
        t.tgid(),
        comm,
        s.total * kb,
        s.rss_anon * kb,
        s.rss_file * kb,
        s.rss_shmem * kb,
        t.creds().uid,
        pte_bytes / 1024,
        t.tg().lock().oom_score_adj.0,
    );
    signal::force_fault(t, signal::SIGKILL, 0, 0);
}
