//! Kernel contexts: every guest task's kernel code runs on a stack of its
//! own, switched on the vCPU thread (UML's kernel stacks, as stackful
//! coroutines).
//!
//! A handler that must wait suspends where it is and the vCPU goes on with
//! other tasks; when the task is resumed the handler continues on the same
//! stack. Everything stays on the one host thread that traces the guests
//! (only a tracee's tracer may issue ptrace requests for it), and a switch
//! costs tens of nanoseconds. The coroutines are corosensei's: its stacks
//! have guard pages, it unwinds a suspended stack when its context is
//! dropped, and a panic inside a context reaches the code that resumed it.

use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};
use std::cell::{Cell, RefCell};
use std::mem::ManuallyDrop;

/// Stack per task. Pages are committed as they are touched, so this is
/// address space, not memory; deep filesystem paths (ext4 with its
/// journal, directory hashing) need well over 64 KiB, and running off the
/// end (into the guard page) would kill vmlinux: room to spare.
const STACK_SIZE: usize = 4 << 20;

/// Finished tasks' stacks kept for new ones (fork then exit is the common
/// life of a task; an mmap and munmap per task is measurable).
const POOL_MAX: usize = 64;

type Co = Coroutine<(), (), (), DefaultStack>;

thread_local! {
    /// The yielder of the context running on this thread (null on the
    /// scheduler's own stack).
    static CURRENT: Cell<*const Yielder<(), ()>> = const { Cell::new(std::ptr::null()) };
    /// Never dropped (ManuallyDrop: no TLS destructor): a process exit
    /// from inside a task's context must not unmap stacks under it.
    static POOL: ManuallyDrop<RefCell<Vec<DefaultStack>>> =
        const { ManuallyDrop::new(RefCell::new(Vec::new())) };
}

/// One task's kernel stack and where its code stopped.
pub struct KernelContext {
    co: Option<Co>,
}

impl KernelContext {
    /// A context that will run `body` when first resumed.
    pub fn new(body: impl FnOnce() + 'static) -> std::io::Result<KernelContext> {
        let stack = match POOL.with(|p| p.borrow_mut().pop()) {
            Some(s) => s,
            None => DefaultStack::new(STACK_SIZE)?,
        };
        let co = Coroutine::with_stack(stack, move |y: &Yielder<(), ()>, ()| {
            CURRENT.with(|c| c.set(y as *const _));
            body();
        });
        Ok(KernelContext { co: Some(co) })
    }

    /// Run the context until it suspends (true) or its body returns
    /// (false). Only from the scheduler's stack, never from a context.
    pub fn resume(&mut self) -> bool {
        debug_assert!(!in_context(), "kcontext: resume from inside a context");
        let Some(co) = self.co.as_mut() else {
            return false;
        };
        let r = co.resume(());
        CURRENT.with(|c| c.set(std::ptr::null()));
        match r {
            CoroutineResult::Yield(()) => true,
            CoroutineResult::Return(()) => {
                self.recycle();
                false
            }
        }
    }

    /// Keep the stack of a finished (or unwound) context for reuse.
    fn recycle(&mut self) {
        if let Some(co) = self.co.take() {
            // A context that never ran or is suspended gives its stack back
            // only after it is unwound.
            let mut co = co;
            if co.started() && !co.done() {
                co.force_unwind();
            }
            let stack = co.into_stack();
            let _ = POOL.try_with(|p| {
                let mut p = p.borrow_mut();
                if p.len() < POOL_MAX {
                    p.push(stack);
                }
            });
        }
    }
}

impl Drop for KernelContext {
    /// A suspended context is unwound: the destructors of everything on
    /// its stack run, as if the handler had returned.
    fn drop(&mut self) {
        self.recycle();
    }
}

/// Is this code running in a task's kernel context?
pub fn in_context() -> bool {
    CURRENT.with(|c| !c.get().is_null())
}

/// Give the vCPU back to the scheduler; returns when this context is
/// resumed. Panics outside a context (a kernel bug: the scheduler's own
/// stack has nobody to switch to).
pub fn suspend() {
    let y = CURRENT.with(|c| c.get());
    assert!(!y.is_null(), "kcontext: suspend outside a task context");
    // SAFETY: `y` was set by this context's body from the yielder that
    // corosensei passed to it; the yielder lives on this context's stack
    // for as long as the body runs, and we are running on that stack now.
    unsafe { (*y).suspend(()) };
    // Resumed: whoever ran meanwhile changed CURRENT; we are current again.
    CURRENT.with(|c| c.set(y));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    #[test]
    fn suspends_and_resumes_where_it_stopped() {
        let log = Rc::new(RefCell::new(Vec::new()));
        let l = log.clone();
        let mut c = KernelContext::new(move || {
            l.borrow_mut().push(1);
            suspend();
            l.borrow_mut().push(2);
            suspend();
            l.borrow_mut().push(3);
        })
        .unwrap();
        assert!(!in_context());
        assert!(c.resume());
        assert_eq!(*log.borrow(), vec![1]);
        assert!(c.resume());
        assert_eq!(*log.borrow(), vec![1, 2]);
        assert!(!c.resume());
        assert_eq!(*log.borrow(), vec![1, 2, 3]);
        assert!(!c.resume());
    }

    #[test]
    fn dropping_a_suspended_context_runs_its_destructors() {
        struct Flag(Rc<Cell<bool>>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.set(true);
            }
        }
        let dropped = Rc::new(Cell::new(false));
        let d = dropped.clone();
        let mut c = KernelContext::new(move || {
            let _f = Flag(d);
            suspend();
            unreachable!("never resumed");
        })
        .unwrap();
        assert!(c.resume());
        assert!(!dropped.get());
        drop(c);
        assert!(dropped.get());
    }

    #[test]
    fn contexts_interleave() {
        let log = Rc::new(RefCell::new(Vec::new()));
        let mk = |id: u32| {
            let l = log.clone();
            KernelContext::new(move || {
                for i in 0..3 {
                    l.borrow_mut().push((id, i));
                    suspend();
                }
            })
            .unwrap()
        };
        let (mut a, mut b) = (mk(1), mk(2));
        for _ in 0..4 {
            a.resume();
            b.resume();
        }
        assert_eq!(
            *log.borrow(),
            vec![(1, 0), (2, 0), (1, 1), (2, 1), (1, 2), (2, 2)]
        );
    }
}
