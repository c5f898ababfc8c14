//! ubd COW overlays on the host: opening (or creating) a UML COW file and
//! its backing image, and sector I/O through the bitmap. Runs on the ubd
//! helper threads; the format itself is in `cow.rs`.
//!
//! Durability: a write puts the sectors into the COW file first and then
//! the bitmap bytes that now point at them, both before the write is
//! reported done; a flush is one fdatasync of the COW file, which holds
//! both. So once a flush completes, every sector written before it is read
//! back from the COW file after any crash, never from the backing image.
//! (A crash before the flush may lose the write, as on any disk.)

use super::cow::{self, CowHeader};
use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// Sector size of the bitmap (the header's; 512 in every file UML makes).
type Sector = u64;

/// An open COW overlay and its backing image.
pub struct CowDisk {
    cow: File,
    backing: File,
    /// Bytes of the backing file (reads past it are zeros).
    backing_len: u64,
    sector: u64,
    bitmap_offset: u64,
    data_offset: u64,
    /// The whole bitmap; only the writer thread changes it, after the data
    /// it points at is in the COW file.
    bitmap: Mutex<Vec<u8>>,
    /// The backing image's path as the header gives it.
    backing_name: String,
    /// Device size: the backing size rounded up to a sector, as UML.
    size: u64,
}

/// Opens a host file for the overlay code: `(path, writable, create)`,
/// taking the host lock the ubd rules ask for (write lock if writable,
/// read lock otherwise). Errors are finished one-line messages.
pub type OpenFn<'a> = &'a dyn Fn(&Path, bool, bool) -> Result<File, String>;

/// What `open` found.
pub enum Opened {
    /// No COW header: the file is a plain image.
    Plain(File),
    /// A COW overlay, with lines for the kernel log (creation, switches).
    Cow(CowDisk, Vec<String>),
}

/// Open `file` as UML does for `ubdN=file[,backing]` without the `d`
/// flag: a file that starts with a COW header is an overlay on the image
/// it names; with `backing` given, a missing `file` is created as a new
/// overlay on it. `writable` is false for the `r` flag.
pub fn open(
    file: &Path,
    backing: Option<&Path>,
    writable: bool,
    open_file: OpenFn,
) -> Result<Opened, String> {
    let name = file.display();
    if let Some(b) = backing {
        if std::fs::symlink_metadata(file).is_err() {
            if !writable {
                return Err(format!(
                    "{name} does not exist and a read-only COW file cannot be created"
                ));
            }
            let f = open_file(file, true, true)?;
            let header = create(&f, b).map_err(|e| {
                let _ = std::fs::remove_file(file);
                format!("creating COW file {name}: {e}")
            })?;
            let note = format!(
                "Creating \"{}\" as COW file for \"{}\"",
                file.display(),
                b.display()
            );
            let disk = attach(f, header, open_file)?;
            return Ok(Opened::Cow(disk, vec![note]));
        }
    }
    let f = open_file(file, writable, false)?;
    let mut buf = vec![0u8; cow::MAX_HEADER_LEN];
    let n = read_up_to(&f, &mut buf, 0).map_err(|e| format!("reading {name}: {e}"))?;
    let header = match cow::parse(&buf[..n]) {
        Ok(Some(h)) => h,
        Ok(None) if backing.is_none() => return Ok(Opened::Plain(f)),
        Ok(None) => {
            return Err(format!(
                "{name} is not a COW file (no COW header), but a backing file was given"
            ))
        }
        Err(e) => return Err(format!("{name}: {e}")),
    };
    let mut notes = Vec::new();
    let header = match backing {
        Some(b) if needs_switch(b, &header.backing) => {
            if check_backing(b, &header).is_ok() {
                // The image moved: UML rewrites the header to the new path
                // when it is the same content (size and mtime agree).
                if !writable {
                    return Err(format!(
                        "{name} names backing file {} but {} was given; switching needs a writable COW file",
                        header.backing,
                        b.display()
                    ));
                }
                let h = rewrite_backing(&f, b, &header)
                    .map_err(|e| format!("switching backing file of {name}: {e}"))?;
                notes.push(format!("Switching backing file to '{}'", h.backing));
                h
            } else {
                notes.push(format!(
                    "Backing file mismatch - \"{}\" requested, \"{}\" specified in COW header of \"{name}\"",
                    b.display(),
                    header.backing
                ));
                header
            }
        }
        _ => header,
    };
    if !Path::new(&header.backing).exists() {
        return Err(format!(
            "{name}: its backing file {} is missing (if it moved, give FILE,NEWPATH)",
            header.backing
        ));
    }
    check_backing(Path::new(&header.backing), &header).map_err(|e| format!("{name}: {e}"))?;
    Ok(Opened::Cow(attach(f, header, open_file)?, notes))
}

/// Does the command line's backing file differ from the header's (neither
/// the same string nor the same host file)?
fn needs_switch(given: &Path, in_header: &str) -> bool {
    if given.as_os_str() == in_header {
        return false;
    }
    match (std::fs::metadata(given), std::fs::metadata(in_header)) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) != (b.dev(), b.ino()),
        (Err(_), _) => false,
        (_, Err(_)) => true,
    }
}

/// Is the backing image at `path` still the one the header was made for?
/// The messages are UML's.
fn check_backing(path: &Path, h: &CowHeader) -> Result<(), String> {
    let m = std::fs::metadata(path).map_err(|e| format!("backing file {}: {e}", path.display()))?;
    if m.len() != h.size {
        return Err(format!(
            "Size mismatch ({} vs {}) of COW header vs backing file {}",
            h.size,
            m.len(),
            path.display()
        ));
    }
    let mtime = m.mtime() as u32;
    if mtime != h.mtime {
        return Err(format!(
            "mtime mismatch ({} vs {}) of COW header vs backing file {}",
            h.mtime,
            mtime,
            path.display()
        ));
    }
    Ok(())
}

/// The backing path as UML stores it: the directory resolved to its
/// physical absolute path (as chdir + getcwd do), the last name kept.
fn absolutize(p: &Path) -> io::Result<PathBuf> {
    let (dir, last) = match (p.parent(), p.file_name()) {
        (Some(d), Some(f)) if !d.as_os_str().is_empty() => (d.to_path_buf(), f),
        (None, _) => return Ok(p.to_path_buf()),
        (_, Some(f)) => (PathBuf::from("."), f),
        (_, None) => return Err(io::Error::other("backing file has no name")),
    };
    Ok(dir.canonicalize()?.join(last))
}

/// Write a fresh header and size the file (sparse) for `backing`, as
/// UML's init of a new COW file does.
fn create(f: &File, backing: &Path) -> Result<CowHeader, String> {
    let abs = absolutize(backing).map_err(|e| format!("{}: {e}", backing.display()))?;
    let abs_s = abs
        .to_str()
        .ok_or_else(|| format!("{}: path is not UTF-8", abs.display()))?;
    let m = std::fs::metadata(&abs).map_err(|e| format!("{abs_s}: {e}"))?;
    let bytes = cow::encode_v3(abs_s, m.mtime() as u32, m.len())?;
    let h = cow::new_v3(abs_s, m.mtime() as u32, m.len());
    f.write_all_at(&bytes, 0).map_err(|e| e.to_string())?;
    // The length covers every sector's slot; the bitmap reads as zeros.
    f.set_len(h.data_offset() + h.size)
        .map_err(|e| e.to_string())?;
    // A crash right after boot must not leave a file without its header.
    f.sync_all().map_err(|e| e.to_string())?;
    Ok(h)
}

/// Point an existing overlay at `backing` (same content, new place).
fn rewrite_backing(f: &File, backing: &Path, old: &CowHeader) -> Result<CowHeader, String> {
    let abs = absolutize(backing).map_err(|e| format!("{}: {e}", backing.display()))?;
    let abs_s = abs
        .to_str()
        .ok_or_else(|| format!("{}: path is not UTF-8", abs.display()))?;
    // Only version 3 headers are rewritten in place; older ones would
    // move the bitmap.
    if old.version != 3 || old.sector_size != cow::SECTOR || old.alignment != cow::ALIGN {
        return Err(format!(
            "COW version {} header cannot be rewritten",
            old.version
        ));
    }
    let bytes = cow::encode_v3(abs_s, old.mtime, old.size)?;
    f.write_all_at(&bytes, 0).map_err(|e| e.to_string())?;
    f.sync_data().map_err(|e| e.to_string())?;
    Ok(cow::new_v3(abs_s, old.mtime, old.size))
}

/// Open the backing image read-only and load the bitmap.
fn attach(cow_file: File, h: CowHeader, open_file: OpenFn) -> Result<CowDisk, String> {
    let backing = open_file(Path::new(&h.backing), false, false)?;
    let backing_len = backing
        .metadata()
        .map_err(|e| format!("{}: {e}", h.backing))?
        .len();
    let mut bitmap = vec![0u8; h.bitmap_len() as usize];
    cow_file
        .read_exact_at(&mut bitmap, h.bitmap_offset)
        .map_err(|e| format!("reading the COW bitmap: {e}"))?;
    let sector = h.sector_size as u64;
    Ok(CowDisk {
        cow: cow_file,
        backing,
        backing_len,
        sector,
        bitmap_offset: h.bitmap_offset,
        data_offset: h.data_offset(),
        bitmap: Mutex::new(bitmap),
        backing_name: h.backing.clone(),
        size: h.size.div_ceil(512) * 512,
    })
}

/// pread as much as there is, up to `buf.len()`; returns the count.
fn read_up_to(f: &File, buf: &mut [u8], off: u64) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read_at(&mut buf[n..], off + n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

impl CowDisk {
    /// Device size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The backing image's path (for the log).
    pub fn backing_name(&self) -> &str {
        &self.backing_name
    }

    fn bitmap(&self) -> MutexGuard<'_, Vec<u8>> {
        self.bitmap.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Read `len` bytes at device offset `off`: each sector from the COW
    /// file if its bit is set, else from the backing image.
    pub fn read(&self, off: u64, len: usize) -> io::Result<Vec<u8>> {
        let mut out = vec![0u8; len];
        let end = off + len as u64;
        // Runs of sectors that come from the same file, in device bytes.
        let mut runs: Vec<(u64, u64, bool)> = Vec::new();
        {
            let bm = self.bitmap();
            let mut s: Sector = off / self.sector;
            while s * self.sector < end {
                let lo = (s * self.sector).max(off);
                let hi = ((s + 1) * self.sector).min(end);
                let in_cow = cow::test_bit(&bm, s);
                match runs.last_mut() {
                    Some(r) if r.2 == in_cow && r.1 == lo => r.1 = hi,
                    _ => runs.push((lo, hi, in_cow)),
                }
                s += 1;
            }
        }
        for (lo, hi, in_cow) in runs {
            let dst = &mut out[(lo - off) as usize..(hi - off) as usize];
            if in_cow {
                self.cow.read_exact_at(dst, self.data_offset + lo)?;
            } else if lo < self.backing_len {
                // The last sector may run past the backing file: zeros.
                let n = (self.backing_len - lo).min(dst.len() as u64) as usize;
                self.backing.read_exact_at(&mut dst[..n], lo)?;
            }
        }
        Ok(out)
    }

    /// Write `data` at device offset `off` into the COW file, then mark
    /// its sectors in the bitmap on disk. A sector only partly written
    /// is completed from its current contents first.
    pub fn write(&self, off: u64, data: &[u8]) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let ss = self.sector;
        let end = off + data.len() as u64;
        let first: Sector = off / ss;
        let last: Sector = end.div_ceil(ss);
        let (a0, a1) = (first * ss, last * ss);
        let whole;
        let buf: &[u8] = if a0 == off && a1 == end {
            data
        } else {
            let mut b = vec![0u8; (a1 - a0) as usize];
            if off != a0 {
                b[..ss as usize].copy_from_slice(&self.read(a0, ss as usize)?);
            }
            if end != a1 {
                let at = b.len() - ss as usize;
                b[at..].copy_from_slice(&self.read(a1 - ss, ss as usize)?);
            }
            b[(off - a0) as usize..(end - a0) as usize].copy_from_slice(data);
            whole = b;
            &whole
        };
        self.cow.write_all_at(buf, self.data_offset + a0)?;
        // Only now may the bitmap point at the new sectors.
        let changed = {
            let mut bm = self.bitmap();
            let mut range: Option<(usize, usize)> = None;
            for s in first..last {
                if cow::set_bit(&mut bm, s) {
                    let byte = (s / 8) as usize;
                    range = Some(range.map_or((byte, byte), |(lo, _)| (lo, byte)));
                }
            }
            range.map(|(lo, hi)| (lo, bm[lo..=hi].to_vec()))
        };
        if let Some((lo, bytes)) = changed {
            self.cow
                .write_all_at(&bytes, self.bitmap_offset + lo as u64)?;
        }
        Ok(())
    }

    /// Make every write so far durable: data and bitmap share the file.
    pub fn flush(&self) -> io::Result<()> {
        self.cow.sync_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory for one test, removed at the end.
    struct Scratch(PathBuf);
    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn plain_open(p: &Path, writable: bool, create: bool) -> Result<File, String> {
        std::fs::OpenOptions::new()
            .read(true)
            .write(writable)
            .create_new(create)
            .open(p)
            .map_err(|e| e.to_string())
    }

    fn open_cow(cow: &Path, backing: Option<&Path>) -> CowDisk {
        match open(cow, backing, true, &plain_open) {
            Ok(Opened::Cow(c, _)) => c,
            Ok(Opened::Plain(_)) => panic!("not opened as an overlay"),
            Err(e) => panic!("{e}"),
        }
    }

    /// Unaligned writes land where a plain file would put them, survive
    /// reopening, and never touch the backing image; its last, partial
    /// sector reads as zeros past its end.
    #[test]
    fn overlay_behaves_like_a_plain_file() {
        let dir = std::env::temp_dir().join(format!("ruml-cow-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let _s = Scratch(dir.clone());
        let base = dir.join("base.img");
        // Not a whole number of sectors: the device rounds up.
        let orig: Vec<u8> = (0..40_000u32).map(|i| (i * 7 + i / 300) as u8).collect();
        std::fs::write(&base, &orig).unwrap();
        let cow = dir.join("x.cow");

        let d = open_cow(&cow, Some(&base));
        assert_eq!(d.size(), 40_448);
        let mut model = orig.clone();
        model.resize(40_448, 0);
        assert_eq!(d.read(0, model.len()).unwrap(), model);
        for (off, len, byte) in [
            (100u64, 10usize, 1u8),
            (510, 4, 2),
            (1024, 512, 3),
            (3000, 5000, 4),
            (39_990, 400, 5),
            (101, 1, 6),
        ] {
            let data = vec![byte; len];
            d.write(off, &data).unwrap();
            model[off as usize..off as usize + len].copy_from_slice(&data);
            assert_eq!(d.read(0, model.len()).unwrap(), model, "after {off}+{len}");
        }
        d.flush().unwrap();
        assert_eq!(d.read(37, 9000).unwrap(), model[37..9037]);
        drop(d);

        // The overlay alone, found again from its header.
        let d = open_cow(&cow, None);
        assert_eq!(d.read(0, model.len()).unwrap(), model);
        assert_eq!(std::fs::read(&base).unwrap(), orig);
    }
}
