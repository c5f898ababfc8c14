//! /proc/PID: the per-process directory and its files other than the
//! accounting ones (cmdline, environ, comm, maps, mounts, exe, cwd, root,
//! fd/, task/).

use super::pid_stat::{proc_stat, proc_statm, proc_status};
use super::{dir, file, link};
use crate::fs::file::File;
use crate::fs::vfs::Inode;
use crate::kernel::errno::{Errno, KResult};
use crate::kernel::task::{self, lock, Pid};
use crate::mm::{Backing, PROT_EXEC, PROT_READ, PROT_WRITE};
use std::sync::Arc;

pub(super) fn group_task(pid: Pid) -> KResult<Arc<task::Task>> {
    let g = task::group(pid).ok_or(Errno::ENOENT)?;
    let tid = g.lock().threads.first().copied().ok_or(Errno::ENOENT)?;
    task::task(tid).ok_or(Errno::ENOENT)
}

pub(super) fn state_char(pid: Pid) -> char {
    let Some(g) = task::group(pid) else {
        return 'X';
    };
    let i = g.lock();
    if i.zombie.is_some() {
        return 'Z';
    }
    if i.stopped {
        return 'T';
    }
    let first = i.threads.first().copied();
    drop(i);
    first
        .and_then(task::task)
        .map_or('S', |t| thread_state_char(&t))
}

/// A live thread's state letter (its process may still be stopped).
pub(super) fn thread_state_char(t: &task::Task) -> char {
    match t.state() {
        task::State::Runnable => 'R',
        task::State::Stopped => 'T',
        task::State::Dead => 'X',
        _ if t.lock().io_wait => 'D',
        _ => 'S',
    }
}

pub(super) fn pid_dir(pid: Pid) -> Arc<dyn Inode> {
    let base = format!("/{pid}");
    let b = base.clone();
    dir(&base, move || {
        let p = pid;
        let b = b.clone();
        vec![
            (
                "stat".into(),
                file(&format!("{b}/stat"), move || proc_stat(p, None)),
            ),
            (
                "status".into(),
                file(&format!("{b}/status"), move || proc_status(p)),
            ),
            (
                "statm".into(),
                file(&format!("{b}/statm"), move || proc_statm(p)),
            ),
            (
                "cmdline".into(),
                file(&format!("{b}/cmdline"), move || proc_cmdline(p, false)),
            ),
            (
                "environ".into(),
                file(&format!("{b}/environ"), move || proc_cmdline(p, true)),
            ),
            (
                "comm".into(),
                file(&format!("{b}/comm"), move || {
                    Ok(format!("{}\n", group_task(p)?.lock().comm))
                }),
            ),
            (
                "maps".into(),
                file(&format!("{b}/maps"), move || proc_maps(p)),
            ),
            ("mounts".into(), file(&format!("{b}/mounts"), proc_mounts)),
            (
                "mountinfo".into(),
                file(&format!("{b}/mountinfo"), proc_mountinfo),
            ),
            (
                "exe".into(),
                link(&format!("{b}/exe"), move || {
                    Ok(group_task(p)?.mm().lock().exe.clone())
                }),
            ),
            (
                "cwd".into(),
                link(&format!("{b}/cwd"), move || {
                    let fs = group_task(p)?.fs();
                    Ok(fs.cwd.path_name(&fs.root))
                }),
            ),
            ("root".into(), link(&format!("{b}/root"), || Ok("/".into()))),
            ("fd".into(), fd_dir(p, &b)),
            ("task".into(), {
                let bb = b.clone();
                dir(&format!("{b}/task"), move || {
                    let threads = task::group(p)
                        .map(|g| g.lock().threads.clone())
                        .unwrap_or_default();
                    threads
                        .into_iter()
                        .map(|tid| {
                            let d: Arc<dyn Inode> = dir(&format!("{bb}/task/{tid}"), move || {
                                vec![(
                                    "stat".into(),
                                    file(&format!("/task/{tid}/stat"), move || {
                                        proc_stat(p, Some(tid))
                                    }),
                                )]
                            });
                            (tid.to_string(), d)
                        })
                        .collect()
                })
            }),
        ]
    })
}

fn fd_dir(pid: Pid, base: &str) -> Arc<dyn Inode> {
    let b = format!("{base}/fd");
    let b2 = b.clone();
    dir(&b, move || {
        let Ok(t) = group_task(pid) else {
            return Vec::new();
        };
        let files = t.files();
        let table = lock(&files);
        table
            .iter()
            .map(|(fd, e)| {
                let f = e.file.clone();
                let l = link(&format!("{b2}/{fd}"), move || Ok(file_name(&f)));
                (fd.to_string(), l)
            })
            .collect()
    })
}

fn file_name(f: &File) -> String {
    if let Some(p) = &f.path {
        let root = p.clone();
        let mut r = root;
        while let Some(par) = r.parent.clone() {
            r = par;
        }
        return p.path_name(&r);
    }
    f.ops
        .name()
        .unwrap_or_else(|| "anon_inode:[unknown]".into())
}

fn proc_cmdline(pid: Pid, env: bool) -> KResult<String> {
    let t = group_task(pid)?;
    let mm = t.mm();
    let (s, e) = {
        let m = mm.lock();
        if env {
            (m.env_start, m.env_end)
        } else {
            (m.arg_start, m.arg_end)
        }
    };
    if e <= s || e - s > 1 << 20 {
        return Ok(String::new());
    }
    let v = mm.read_vec(s, (e - s) as usize).unwrap_or_default();
    Ok(String::from_utf8_lossy(&v).into_owned())
}

fn proc_maps(pid: Pid) -> KResult<String> {
    let t = group_task(pid)?;
    let mm = t.mm();
    let m = mm.lock();
    let mut out = String::new();
    for v in m.vmas() {
        let perms = format!(
            "{}{}{}{}",
            if v.prot & PROT_READ != 0 { 'r' } else { '-' },
            if v.prot & PROT_WRITE != 0 { 'w' } else { '-' },
            if v.prot & PROT_EXEC != 0 { 'x' } else { '-' },
            if v.shared { 's' } else { 'p' }
        );
        let (off, dev, ino, name) = match &v.backing {
            Backing::File {
                inode,
                offset,
                path,
            } => {
                let st = inode.stat();
                (*offset, st.dev, st.ino, path.clone())
            }
            Backing::Anon => (0, 0, 0, v.label.to_string()),
        };
        // The filesystem's device as Linux prints it: major:minor in hex.
        let line = format!(
            "{:08x}-{:08x} {} {:08x} {:02x}:{:02x} {}",
            v.start,
            v.end,
            perms,
            off,
            crate::drivers::major(dev),
            crate::drivers::minor(dev),
            ino
        );
        if name.is_empty() {
            out.push_str(&line);
        } else {
            out.push_str(&format!("{:<73}{}", line, name));
        }
        out.push('\n');
    }
    Ok(out)
}

fn proc_mounts() -> KResult<String> {
    Ok(crate::fs::mount::mounts()
        .iter()
        .map(|m| m.mounts_line())
        .collect())
}

fn proc_mountinfo() -> KResult<String> {
    Ok(crate::fs::mount::mounts()
        .iter()
        .map(|m| m.mountinfo_line())
        .collect())
}
