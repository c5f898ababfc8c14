//! Range edits of a file's flat extent list, for fallocate: cutting a
//! range out (punch, collapse), marking a range unwritten (zero range),
//! finding and filling holes with unwritten runs (preallocation), and
//! shifting everything past a block (collapse, insert). The list stays
//! sorted, and neighbours that can be one extent are merged, as Linux's
//! extent code merges them (the count decides whether the tree needs a
//! block of its own, which shows in st_blocks).

use super::extents::{Extent, MAX_LEN};

/// Longest unwritten extent (the length field's top value marks it).
pub const MAX_UNWRITTEN: u32 = MAX_LEN - 1;

fn max_len(e: &Extent) -> u32 {
    if e.uninit {
        MAX_UNWRITTEN
    } else {
        MAX_LEN
    }
}

/// Split the extent straddling logical block `at` (if any) in two.
pub fn split_at(list: &mut Vec<Extent>, at: u64) {
    let Some(i) = list
        .iter()
        .position(|e| (e.lblk as u64) < at && at < e.end())
    else {
        return;
    };
    let n = (at - list[i].lblk as u64) as u32;
    let tail = cut_tail(&mut list[i], n);
    list.insert(i + 1, tail);
}

/// Shorten `e` to `n` blocks; the rest as an extent of its own.
fn cut_tail(e: &mut Extent, n: u32) -> Extent {
    let tail = Extent {
        lblk: e.lblk + n,
        len: e.len - n,
        pblk: e.pblk + n as u64,
        uninit: e.uninit,
    };
    e.len = n;
    tail
}

/// Merge neighbours that are contiguous on disk and of the same kind,
/// and split unwritten extents that grew past their longest.
pub fn normalize(list: &mut Vec<Extent>) {
    list.sort_by_key(|e| e.lblk);
    let mut out: Vec<Extent> = Vec::with_capacity(list.len());
    for e in list.drain(..) {
        if let Some(last) = out.last_mut() {
            if last.uninit == e.uninit
                && last.end() == e.lblk as u64
                && last.pblk + last.len as u64 == e.pblk
            {
                let room = max_len(last) - last.len.min(max_len(last));
                let take = room.min(e.len);
                last.len += take;
                if take < e.len {
                    out.push(Extent {
                        lblk: e.lblk + take,
                        len: e.len - take,
                        pblk: e.pblk + take as u64,
                        uninit: e.uninit,
                    });
                }
                continue;
            }
        }
        out.push(e);
    }
    // Written extents made unwritten may be one block too long.
    let mut i = 0;
    while i < out.len() {
        let m = max_len(&out[i]);
        if out[i].len > m {
            let tail = cut_tail(&mut out[i], m);
            out.insert(i + 1, tail);
        }
        i += 1;
    }
    *list = out;
}

/// Remove logical blocks [from, to): the physical runs they used.
pub fn cut(list: &mut Vec<Extent>, from: u64, to: u64) -> Vec<(u64, u32)> {
    split_at(list, from);
    split_at(list, to);
    let mut freed = Vec::new();
    list.retain(|e| {
        let inside = e.lblk as u64 >= from && e.end() <= to;
        if inside {
            freed.push((e.pblk, e.len));
        }
        !inside
    });
    freed
}

/// Mark the mapped blocks in [from, to) unwritten (they read as zeros).
pub fn mark_unwritten(list: &mut Vec<Extent>, from: u64, to: u64) {
    split_at(list, from);
    split_at(list, to);
    for e in list.iter_mut() {
        if e.lblk as u64 >= from && e.end() <= to {
            e.uninit = true;
        }
    }
    normalize(list);
}

/// The holes in [from, to): (first block, blocks).
pub fn holes(list: &[Extent], from: u64, to: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut at = from;
    for e in list {
        if e.end() <= at {
            continue;
        }
        if e.lblk as u64 >= to {
            break;
        }
        if (e.lblk as u64) > at {
            out.push((at, e.lblk as u64 - at));
        }
        at = e.end();
    }
    if at < to {
        out.push((at, to - at));
    }
    out
}

/// The physical block after the extent that ends at or before `lblk`
/// (where a new run there would best go), if any.
pub fn goal_before(list: &[Extent], lblk: u64) -> Option<u64> {
    list.iter()
        .rev()
        .find(|e| e.end() <= lblk)
        .map(|e| e.pblk + e.len as u64 + (lblk - e.end()))
}

/// Add a run in a hole.
pub fn add(list: &mut Vec<Extent>, e: Extent) {
    let pos = list.partition_point(|x| x.lblk < e.lblk);
    list.insert(pos, e);
    normalize(list);
}

/// Move every extent at or past logical block `from` by `delta` blocks
/// (the caller has made sure the blocks they move into are free and
/// that nothing straddles `from`).
pub fn shift(list: &mut [Extent], from: u64, delta: i64) {
    for e in list.iter_mut() {
        if e.lblk as u64 >= from {
            e.lblk = (e.lblk as i64 + delta) as u32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(lblk: u32, len: u32, pblk: u64, uninit: bool) -> Extent {
        Extent {
            lblk,
            len,
            pblk,
            uninit,
        }
    }

    #[test]
    fn cut_splits_and_frees() {
        let mut l = vec![ext(0, 8, 100, false)];
        assert_eq!(cut(&mut l, 2, 4), vec![(102, 2)]);
        assert_eq!(l, vec![ext(0, 2, 100, false), ext(4, 4, 104, false)]);
        assert_eq!(cut(&mut l, 0, 100), vec![(100, 2), (104, 4)]);
        assert!(l.is_empty());
    }

    #[test]
    fn unwritten_marks_merge_and_stay_short() {
        let mut l = vec![ext(0, 4, 100, false), ext(4, 2, 104, true)];
        mark_unwritten(&mut l, 2, 4);
        assert_eq!(l, vec![ext(0, 2, 100, false), ext(2, 4, 102, true)]);
        let mut l = vec![ext(0, MAX_LEN, 1000, false)];
        mark_unwritten(&mut l, 0, MAX_LEN as u64);
        assert_eq!(
            l,
            vec![
                ext(0, MAX_UNWRITTEN, 1000, true),
                ext(MAX_UNWRITTEN, 1, 1000 + MAX_UNWRITTEN as u64, true)
            ]
        );
    }

    #[test]
    fn holes_between_extents() {
        let l = vec![ext(2, 2, 100, false), ext(6, 1, 200, true)];
        assert_eq!(holes(&l, 0, 10), vec![(0, 2), (4, 2), (7, 3)]);
        assert_eq!(holes(&l, 2, 4), vec![]);
        assert_eq!(goal_before(&l, 5), Some(103));
    }

    #[test]
    fn add_and_shift() {
        let mut l = vec![ext(0, 2, 100, true)];
        add(&mut l, ext(2, 3, 102, true));
        assert_eq!(l, vec![ext(0, 5, 100, true)]);
        add(&mut l, ext(8, 1, 50, false));
        shift(&mut l, 8, -3);
        normalize(&mut l);
        assert_eq!(l, vec![ext(0, 5, 100, true), ext(5, 1, 50, false)]);
    }
}
