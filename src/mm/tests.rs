//! Unit tests of address spaces on the fake platform: page tables, faults,
//! protection, fork's copy-on-write and unmapping, checked against what
//! the host would have mapped (`arch::fake::FakeAddressSpace`). No guest
//! is booted.

use super::*;
use crate::arch::fake::FakeAddressSpace;

/// Physical memory and the frame allocator (shared with the kernel's
/// tests).
fn setup() -> crate::kernel::testing::Memory {
    crate::kernel::testing::setup_memory()
}

fn host(m: &MmInner) -> &FakeAddressSpace {
    m.host
        .as_any()
        .downcast_ref::<FakeAddressSpace>()
        .expect("unit tests run on the fake platform")
}

fn anon(start: u64, pages: u64, prot: u32, shared: bool) -> Vma {
    Vma {
        start,
        end: start + pages * PAGE_SIZE,
        prot,
        shared,
        backing: Backing::Anon,
        label: "",
    }
}

const BASE: u64 = 0x4000_0000;
const RW: u32 = PROT_READ | PROT_WRITE;

#[test]
fn a_fault_maps_the_page_the_vma_allows() {
    let _mem = setup();
    let mm = Mm::new().unwrap();
    let mut m = mm.lock();
    m.insert_vma(anon(BASE, 4, RW, false)).unwrap();
    assert!(
        host(&m).pages.is_empty(),
        "nothing is mapped before a fault"
    );
    m.handle_fault(BASE + PAGE_SIZE + 8, SEGV_MAPERR).unwrap();
    let (prot, phys) = host(&m).pages[&(BASE + PAGE_SIZE)];
    assert_eq!(prot, RW);
    // What the kernel writes through its own view is what the host maps.
    m.write(BASE + PAGE_SIZE + 8, b"hello").unwrap();
    let mut b = [0u8; 5];
    crate::arch::physmem().read(phys + 8, &mut b);
    assert_eq!(&b, b"hello");
    assert!(host(&m)
        .pages
        .keys()
        .all(|&p| (BASE..BASE + 4 * PAGE_SIZE).contains(&p)));
    // Outside every VMA: SIGSEGV with SEGV_MAPERR.
    assert_eq!(
        m.handle_fault(BASE + 8 * PAGE_SIZE, SEGV_MAPERR),
        Err(FaultError::Segv(SEGV_MAPERR))
    );
}

#[test]
fn mprotect_changes_the_host_mapping_and_write_faults_fail() {
    let _mem = setup();
    let mm = Mm::new().unwrap();
    let mut m = mm.lock();
    m.insert_vma(anon(BASE, 2, RW, false)).unwrap();
    // A kernel write populates the page (and maps it for the host).
    m.write(BASE, b"x").unwrap();
    assert_eq!(host(&m).pages[&BASE].0, RW);
    m.protect(BASE, BASE + 2 * PAGE_SIZE, PROT_READ).unwrap();
    assert_eq!(host(&m).pages[&BASE].0, PROT_READ);
    assert_eq!(
        m.handle_fault(BASE, SEGV_ACCERR),
        Err(FaultError::Segv(SEGV_ACCERR))
    );
    // PROT_NONE: no host access at all.
    m.protect(BASE, BASE + PAGE_SIZE, 0).unwrap();
    assert!(host(&m).pages.get(&BASE).is_none_or(|e| e.0 == 0));
}

#[test]
fn fork_shares_pages_copy_on_write() {
    let _mem = setup();
    let parent = Mm::new().unwrap();
    parent.lock().insert_vma(anon(BASE, 1, RW, false)).unwrap();
    parent.write(BASE, b"parent").unwrap();
    let child = parent.fork(true).unwrap();
    let phys_p = {
        let p = parent.lock();
        let (prot, phys) = host(&p).pages[&BASE];
        assert_eq!(
            prot & PROT_WRITE,
            0,
            "the parent's page is read-only after fork"
        );
        phys
    };
    // The child writes: it gets its own copy; the parent's data stays.
    child.write(BASE, b"child!").unwrap();
    {
        let c = child.lock();
        if let Some(&(_, phys_c)) = host(&c).pages.get(&BASE) {
            assert_ne!(phys_c, phys_p, "the child's written page is its own");
        }
    }
    let mut b = [0u8; 6];
    parent.read(BASE, &mut b).unwrap();
    assert_eq!(&b, b"parent");
    child.read(BASE, &mut b).unwrap();
    assert_eq!(&b, b"child!");
    // The parent, now the only user of its frame, writes after a fault.
    parent.lock().handle_fault(BASE, SEGV_ACCERR).unwrap();
    assert_ne!(host(&parent.lock()).pages[&BASE].0 & PROT_WRITE, 0);
}

#[test]
fn shared_mappings_stay_shared_across_fork() {
    let _mem = setup();
    let parent = Mm::new().unwrap();
    parent.lock().insert_vma(anon(BASE, 1, RW, true)).unwrap();
    parent.write(BASE, b"one").unwrap();
    let child = parent.fork(true).unwrap();
    child.write(BASE, b"two").unwrap();
    let mut b = [0u8; 3];
    parent.read(BASE, &mut b).unwrap();
    assert_eq!(&b, b"two");
}

#[test]
fn unmap_removes_pages_from_the_host() {
    let _mem = setup();
    let mm = Mm::new().unwrap();
    let mut m = mm.lock();
    m.insert_vma(anon(BASE, 3, RW, false)).unwrap();
    // A fault may map neighbours too (fault-around): fault the rest.
    for i in 0..3 {
        let a = BASE + i * PAGE_SIZE;
        if !host(&m).pages.contains_key(&a) {
            m.handle_fault(a, SEGV_MAPERR).unwrap();
        }
        assert_eq!(host(&m).pages[&a].0, RW);
    }
    // A fault on a page the host already maps writable is a real error.
    assert_eq!(
        m.handle_fault(BASE, SEGV_ACCERR),
        Err(FaultError::Segv(SEGV_ACCERR))
    );
    m.unmap(BASE + PAGE_SIZE, BASE + 2 * PAGE_SIZE);
    assert!(!host(&m).pages.contains_key(&(BASE + PAGE_SIZE)));
    assert!(host(&m).pages.contains_key(&BASE));
    assert_eq!(
        m.handle_fault(BASE + PAGE_SIZE, SEGV_MAPERR),
        Err(FaultError::Segv(SEGV_MAPERR))
    );
    let mut b = [0u8; 1];
    assert_eq!(m.read(BASE + PAGE_SIZE, &mut b), Err(Errno::EFAULT));
}

#[test]
fn nothing_maps_at_or_above_the_stub() {
    let _mem = setup();
    let mm = Mm::new().unwrap();
    let mut m = mm.lock();
    assert_eq!(
        m.insert_vma(anon(TASK_SIZE, 1, RW, false)),
        Err(Errno::ENOMEM)
    );
    assert_eq!(
        m.insert_vma(anon(TASK_SIZE - PAGE_SIZE, 2, RW, false)),
        Err(Errno::ENOMEM)
    );
    assert!(host(&m).pages.is_empty());
}

/// A special mapping of `pages` fresh frames, as kernel/vdso.rs maps the
/// vvar page and the vDSO.
fn special(start: u64, prot: u32, label: &'static str, pfns: &[Pfn]) -> Vma {
    Vma {
        start,
        end: start + pfns.len() as u64 * PAGE_SIZE,
        prot,
        shared: false,
        backing: Backing::File {
            inode: Arc::new(special::SpecialPages {
                pages: pfns.to_vec(),
            }),
            offset: 0,
            path: label.to_owned(),
        },
        label,
    }
}

#[test]
fn the_vvar_page_can_never_be_written() {
    let _mem = setup();
    let data = frame::alloc().unwrap();
    frame::write(data, 0, b"clock");
    let mm = Mm::new().unwrap();
    let mut m = mm.lock();
    m.insert_vma(special(BASE, PROT_READ, special::VVAR, &[data]))
        .unwrap();
    let mut b = [0u8; 5];
    m.read(BASE, &mut b).unwrap();
    assert_eq!(&b, b"clock");
    assert_eq!(host(&m).pages[&BASE], (PROT_READ, frame::phys(data)));
    // Neither writable nor executable, as Linux's vvar (EACCES).
    assert_eq!(m.protect(BASE, BASE + PAGE_SIZE, RW), Err(Errno::EACCES));
    assert_eq!(
        m.protect(BASE, BASE + PAGE_SIZE, PROT_READ | PROT_EXEC),
        Err(Errno::EACCES)
    );
    // Kernel copies and guest stores are refused.
    assert_eq!(m.write(BASE, b"x"), Err(Errno::EFAULT));
    assert_eq!(
        m.handle_fault(BASE, SEGV_ACCERR),
        Err(FaultError::Segv(SEGV_ACCERR))
    );
    // Even a VMA wrongly marked writable cannot reach the frame.
    m.vmas.get_mut(&BASE).unwrap().prot = RW;
    assert_eq!(m.write(BASE, b"x"), Err(Errno::EFAULT));
    m.vmas.get_mut(&BASE).unwrap().prot = PROT_READ;
    let mut b = [0u8; 5];
    crate::arch::physmem().read(frame::phys(data), &mut b);
    assert_eq!(&b, b"clock");
    // A child maps the same frame, read-only.
    let c = m.fork(true).unwrap();
    assert_eq!(host(&c).pages[&BASE], (PROT_READ, frame::phys(data)));
    drop(c);
    m.unmap(BASE, BASE + PAGE_SIZE);
    // The kernel's reference keeps the frame.
    assert_eq!(frame::refcount(data), 1);
    frame::put(data);
}

#[test]
fn writing_the_vdso_text_copies_the_page() {
    let _mem = setup();
    let text = frame::alloc().unwrap();
    frame::write(text, 0, b"code");
    let mm = Mm::new().unwrap();
    let mut m = mm.lock();
    m.insert_vma(special(BASE, PROT_READ | PROT_EXEC, special::VDSO, &[text]))
        .unwrap();
    m.protect(BASE, BASE + PAGE_SIZE, RW | PROT_EXEC).unwrap();
    m.write(BASE, b"CODE").unwrap();
    let mut b = [0u8; 4];
    m.read(BASE, &mut b).unwrap();
    assert_eq!(&b, b"CODE");
    // The shared frame every other guest maps is untouched.
    crate::arch::physmem().read(frame::phys(text), &mut b);
    assert_eq!(&b, b"code");
    assert_ne!(host(&m).pages[&BASE].1, frame::phys(text));
    drop(m);
    drop(mm);
    frame::put(text);
}
