//! tmpfs inodes: names (create, lookup, unlink, rename, readdir), link
//! counts, sizes, truncation and sparse files.

use crate::fs::tmpfs;
use crate::fs::vfs::{Inode, Owner, SetAttr, S_IFDIR, S_IFREG};
use crate::kernel::errno::Errno;
use crate::kernel::testing::{setup_memory, Memory};
use std::sync::Arc;

/// A new tmpfs, with the guest memory its file pages come from.
fn fs() -> (Memory, Arc<dyn Inode>) {
    (setup_memory(), tmpfs::new_fs(0o755))
}

fn file(dir: &Arc<dyn Inode>, name: &str) -> Arc<dyn Inode> {
    dir.create(name, S_IFREG | 0o644, 0, Owner::ROOT).unwrap()
}

fn mkdir(dir: &Arc<dyn Inode>, name: &str) -> Arc<dyn Inode> {
    dir.create(name, S_IFDIR | 0o755, 0, Owner::ROOT).unwrap()
}

fn names(dir: &Arc<dyn Inode>) -> Vec<String> {
    let mut v: Vec<String> = dir.readdir().unwrap().into_iter().map(|e| e.name).collect();
    v.sort();
    v
}

fn truncate(f: &Arc<dyn Inode>, size: u64) {
    f.setattr(&SetAttr {
        size: Some(size),
        ..Default::default()
    })
    .unwrap();
}

#[test]
fn create_lookup_unlink() {
    let (_mem, root) = fs();
    let f = file(&root, "a");
    assert_eq!(
        root.create("a", S_IFREG | 0o644, 0, Owner::ROOT).err(),
        Some(Errno::EEXIST)
    );
    assert_eq!(root.lookup("a").unwrap().stat().ino, f.stat().ino);
    assert_eq!(root.lookup("b").err(), Some(Errno::ENOENT));
    assert_eq!(names(&root), ["a"]);
    root.unlink("a", false).unwrap();
    assert_eq!(root.lookup("a").err(), Some(Errno::ENOENT));
    assert!(names(&root).is_empty());
    assert_eq!(f.stat().nlink, 0, "an open but unlinked file");
}

#[test]
fn link_counts_follow_names_and_subdirectories() {
    let (_mem, root) = fs();
    assert_eq!(root.stat().nlink, 2);
    let d = mkdir(&root, "d");
    assert_eq!(d.stat().nlink, 2, "its name and its own '.'");
    assert_eq!(root.stat().nlink, 3, "the subdirectory's '..'");
    let f = file(&d, "f");
    d.link("g", &f).unwrap();
    assert_eq!(f.stat().nlink, 2);
    assert_eq!(names(&d), ["f", "g"]);
    // A directory with entries cannot go.
    assert_eq!(root.unlink("d", true).err(), Some(Errno::ENOTEMPTY));
    d.unlink("f", false).unwrap();
    assert_eq!(f.stat().nlink, 1);
    d.unlink("g", false).unwrap();
    root.unlink("d", true).unwrap();
    assert_eq!(root.stat().nlink, 2);
}

#[test]
fn rename_moves_replaces_and_refuses() {
    let (_mem, root) = fs();
    let d = mkdir(&root, "d");
    let a = file(&root, "a");
    let b = file(&d, "b");
    root.rename("a", &d, "b", 0).unwrap();
    assert_eq!(root.lookup("a").err(), Some(Errno::ENOENT));
    assert_eq!(d.lookup("b").unwrap().stat().ino, a.stat().ino);
    assert_eq!(b.stat().nlink, 0, "the replaced file lost its name");
    let c = file(&root, "c");
    const NOREPLACE: u32 = 1;
    assert_eq!(
        root.rename("c", &d, "b", NOREPLACE).err(),
        Some(Errno::EEXIST)
    );
    assert_eq!(root.rename("zz", &d, "x", 0).err(), Some(Errno::ENOENT));
    // A directory moved between directories changes their link counts.
    let e = mkdir(&root, "e");
    root.rename("e", &d, "e", 0).unwrap();
    assert_eq!(root.stat().nlink, 3);
    assert_eq!(d.stat().nlink, 3);
    assert_eq!(names(&d), ["b", "e"]);
    drop((c, e));
}

#[test]
fn sizes_writes_and_sparse_reads() {
    let (_mem, root) = fs();
    let f = file(&root, "f");
    assert_eq!(f.write_at(0, b"hello").unwrap(), 5);
    assert_eq!(f.stat().size, 5);
    // Far past the end: the hole reads as zeros, and takes no pages.
    let far = 10 * 4096 + 100;
    f.write_at(far, b"tail").unwrap();
    let st = f.stat();
    assert_eq!(st.size, far + 4);
    assert_eq!(st.blocks, 2 * 8, "two pages hold data, the hole none");
    let mut b = vec![1u8; 8];
    assert_eq!(f.read_at(5 * 4096, &mut b).unwrap(), 8);
    assert_eq!(b, [0; 8]);
    let mut t = [0u8; 16];
    assert_eq!(f.read_at(far, &mut t).unwrap(), 4, "short read at EOF");
    assert_eq!(&t[..4], b"tail");
    assert_eq!(f.read_at(far + 4, &mut t).unwrap(), 0);
}

#[test]
fn truncate_shrinks_grows_and_zeroes() {
    let (_mem, root) = fs();
    let f = file(&root, "f");
    f.write_at(0, &[9u8; 6000]).unwrap();
    truncate(&f, 100);
    assert_eq!(f.stat().size, 100);
    assert_eq!(f.stat().blocks, 8, "the second page is freed");
    truncate(&f, 5000);
    assert_eq!(f.stat().size, 5000);
    // What was cut off does not come back when the file grows again.
    let mut b = vec![1u8; 4900];
    assert_eq!(f.read_at(100, &mut b).unwrap(), 4900);
    assert!(b.iter().all(|&x| x == 0));
    let mut h = [0u8; 100];
    f.read_at(0, &mut h).unwrap();
    assert!(h.iter().all(|&x| x == 9));
}
