//! Which file states the index reflects, and how to tell what changed.
//!
//! The manifest lists every record file the index was built from with its
//! size, modification and change times, inode and a hash of its content.
//! A stat walk of `customers/` compared with it finds added, modified,
//! renamed and deleted records without reading them. A file whose
//! modification time is not older than the moment the manifest's scan
//! started is "racy" (it could change again within the same timestamp
//! tick), so its content hash is checked every time, as git does.
//!
//! The file is binary, written to a temporary file and renamed into place,
//! and ends with a checksum: a torn or foreign file reads as broken.

use rayon::prelude::*;
use std::hash::Hasher;
use std::io;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"FOLIOMAN";

/// What `stat` says about a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stat {
    pub size: u64,
    pub mtime: i64,
    pub ctime: i64,
    pub ino: u64,
}

impl Stat {
    pub fn of(m: &std::fs::Metadata) -> Stat {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Stat {
                size: m.size(),
                mtime: m.mtime().saturating_mul(1_000_000_000) + m.mtime_nsec(),
                ctime: m.ctime().saturating_mul(1_000_000_000) + m.ctime_nsec(),
                ino: m.ino(),
            }
        }
        #[cfg(not(unix))]
        {
            let mtime = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_nanos() as i64)
                .unwrap_or(0);
            Stat {
                size: m.len(),
                mtime,
                ctime: 0,
                ino: 0,
            }
        }
    }
}

/// One indexed record file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative to the data root, `/`-separated.
    pub path: String,
    pub stat: Stat,
    pub hash: u64,
    /// The file did not parse and is not in the index.
    pub skipped: bool,
}

/// The state of the working tree an index reflects.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Manifest {
    pub version: u32,
    /// Bumped by every commit of the index; the index's commit payload
    /// carries the same number.
    pub generation: u64,
    /// File-system time (ns) when the scan behind this manifest started.
    pub scan_start: i64,
    /// The git commit checked out when the manifest was written.
    pub head: Option<String>,
    /// Sorted by path.
    pub entries: Vec<Entry>,
}

/// Content hash of a record file.
pub fn hash_bytes(b: &[u8]) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    h.write(b);
    h.finish()
}

fn put_u64(out: &mut Vec<u8>, x: u64) {
    out.extend_from_slice(&x.to_le_bytes());
}

struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.b.len() < n {
            return None;
        }
        let (a, rest) = self.b.split_at(n);
        self.b = rest;
        Some(a)
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }
    fn str(&mut self) -> Option<&'a str> {
        let n = self.u16()? as usize;
        std::str::from_utf8(self.take(n)?).ok()
    }
}

impl Manifest {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.entries.len() * 96);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.version.to_le_bytes());
        put_u64(&mut out, self.generation);
        put_u64(&mut out, self.scan_start as u64);
        let head = self.head.as_deref().unwrap_or("");
        out.extend_from_slice(&(head.len() as u16).to_le_bytes());
        out.extend_from_slice(head.as_bytes());
        put_u64(&mut out, self.entries.len() as u64);
        for e in &self.entries {
            let p = e.path.as_bytes();
            out.extend_from_slice(&(p.len().min(u16::MAX as usize) as u16).to_le_bytes());
            out.extend_from_slice(&p[..p.len().min(u16::MAX as usize)]);
            put_u64(&mut out, e.stat.size);
            put_u64(&mut out, e.stat.mtime as u64);
            put_u64(&mut out, e.stat.ctime as u64);
            put_u64(&mut out, e.stat.ino);
            put_u64(&mut out, e.hash);
            out.push(e.skipped as u8);
        }
        let sum = hash_bytes(&out);
        put_u64(&mut out, sum);
        out
    }

    /// Parse a manifest; `None` when it is torn, foreign or corrupt.
    pub fn from_bytes(b: &[u8]) -> Option<Manifest> {
        if b.len() < MAGIC.len() + 8 || &b[..8] != MAGIC {
            return None;
        }
        let (body, sum) = b.split_at(b.len() - 8);
        if hash_bytes(body) != u64::from_le_bytes(sum.try_into().ok()?) {
            return None;
        }
        let mut r = Reader { b: &body[8..] };
        let version = r.u32()?;
        let generation = r.u64()?;
        let scan_start = r.u64()? as i64;
        let head = r.str()?;
        let n = r.u64()? as usize;
        let mut entries = Vec::with_capacity(n.min(body.len() / 40));
        for _ in 0..n {
            let path = r.str()?.to_string();
            let stat = Stat {
                size: r.u64()?,
                mtime: r.u64()? as i64,
                ctime: r.u64()? as i64,
                ino: r.u64()?,
            };
            let hash = r.u64()?;
            let skipped = r.take(1)?[0] != 0;
            entries.push(Entry {
                path,
                stat,
                hash,
                skipped,
            });
        }
        if !r.b.is_empty() {
            return None;
        }
        Some(Manifest {
            version,
            generation,
            scan_start,
            head: (!head.is_empty()).then(|| head.to_string()),
            entries,
        })
    }

    pub fn read(path: &Path) -> io::Result<Option<Manifest>> {
        match std::fs::read(path) {
            Ok(b) => Ok(Manifest::from_bytes(&b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Write to a temporary file renamed into place. No fsync: tantivy's
    /// commit before it is durable, and a manifest torn by a power loss
    /// fails its checksum, which only costs a rebuild.
    pub fn write(&self, path: &Path) -> io::Result<()> {
        use std::io::Write;
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut tmp = tempfile::Builder::new()
            .prefix(".manifest-")
            .tempfile_in(dir)?;
        tmp.write_all(&self.to_bytes())?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }

    pub fn skipped(&self) -> impl Iterator<Item = &str> {
        self.entries
            .iter()
            .filter(|e| e.skipped)
            .map(|e| e.path.as_str())
    }
}

/// A record file found by the walk.
#[derive(Debug, Clone)]
pub struct Found {
    pub path: String,
    pub stat: Stat,
}

/// Stat every `.toml` file under `<root>/customers` (hidden entries and
/// symlinks skipped, as `folio check` reports them), sorted by path.
pub fn walk(root: &Path) -> io::Result<Vec<Found>> {
    let base = root.join(crate::repo::CUSTOMERS_DIR);
    if !base.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = walk_dir(&base, crate::repo::CUSTOMERS_DIR)?;
    out.sort_unstable_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn walk_dir(dir: &Path, rel: &str) -> io::Result<Vec<Found>> {
    let rd = std::fs::read_dir(dir).map_err(|e| with_path(e, dir))?;
    let mut files = Vec::new();
    let mut subdirs: Vec<(PathBuf, String)> = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| with_path(e, dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with('.') {
            continue;
        }
        let ft = entry.file_type().map_err(|e| with_path(e, &entry.path()))?;
        if ft.is_dir() {
            subdirs.push((entry.path(), format!("{rel}/{name}")));
        } else if ft.is_file() && name.ends_with(".toml") {
            let m = match entry.metadata() {
                Ok(m) => m,
                // deleted since the directory was read
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(with_path(e, &entry.path())),
            };
            files.push(Found {
                path: format!("{rel}/{name}"),
                stat: Stat::of(&m),
            });
        }
    }
    if !subdirs.is_empty() {
        let nested: Vec<io::Result<Vec<Found>>> = subdirs
            .par_iter()
            .map(|(abs, rel)| walk_dir(abs, rel))
            .collect();
        for n in nested {
            files.extend(n?);
        }
    }
    Ok(files)
}

fn with_path(e: io::Error, p: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", p.display()))
}

/// What changed between a manifest and the working tree.
#[derive(Debug, Default)]
pub struct Diff {
    /// Added or modified files, with their content.
    pub changed: Vec<Changed>,
    /// Paths no longer in the working tree.
    pub removed: Vec<String>,
    /// Files whose stat changed but not their content (manifest only).
    pub touched: usize,
    /// The walk this diff came from.
    pub found: Vec<Found>,
}

#[derive(Debug)]
pub struct Changed {
    pub path: String,
    pub stat: Stat,
    pub bytes: Vec<u8>,
    pub hash: u64,
    pub added: bool,
}

impl Diff {
    /// Nothing to re-index and nothing to record.
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.removed.is_empty() && self.touched == 0
    }

    /// Renames: a removed path whose content reappears at an added path.
    pub fn renames(&self, old: &Manifest) -> usize {
        let removed: std::collections::HashSet<u64> = self
            .removed
            .iter()
            .filter_map(|p| find(old, p).map(|e| e.hash))
            .collect();
        self.changed
            .iter()
            .filter(|c| c.added && removed.contains(&c.hash))
            .count()
    }
}

pub fn find<'m>(m: &'m Manifest, path: &str) -> Option<&'m Entry> {
    m.entries
        .binary_search_by(|e| e.path.as_str().cmp(path))
        .ok()
        .map(|i| &m.entries[i])
}

enum Todo<'a> {
    /// Read and compare with the old entry (if any).
    Check(&'a Found, Option<&'a Entry>),
}

/// Compare a walk with a manifest, reading only the files whose stat
/// changed, new files, and racy entries.
pub fn diff(root: &Path, old: &Manifest, found: Vec<Found>) -> Diff {
    let mut todo = Vec::new();
    let mut removed = Vec::new();
    let (mut i, mut j) = (0, 0);
    let olds = &old.entries;
    while i < olds.len() || j < found.len() {
        let ord = match (olds.get(i), found.get(j)) {
            (Some(o), Some(f)) => o.path.as_str().cmp(f.path.as_str()),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, _) => std::cmp::Ordering::Greater,
        };
        match ord {
            std::cmp::Ordering::Less => {
                removed.push(olds[i].path.clone());
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                todo.push(Todo::Check(&found[j], None));
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                let (o, f) = (&olds[i], &found[j]);
                if o.stat != f.stat || o.stat.mtime >= old.scan_start {
                    todo.push(Todo::Check(f, Some(o)));
                }
                i += 1;
                j += 1;
            }
        }
    }
    let results: Vec<(Option<Changed>, bool, Option<String>)> = todo
        .par_iter()
        .map(|Todo::Check(f, o)| {
            let bytes = match std::fs::read(root.join(&f.path)) {
                Ok(b) => b,
                // gone since the walk: removed if it was indexed
                Err(_) => return (None, false, o.map(|o| o.path.clone())),
            };
            let hash = hash_bytes(&bytes);
            match o {
                Some(o) if o.hash == hash => (None, o.stat != f.stat, None),
                _ => (
                    Some(Changed {
                        path: f.path.clone(),
                        stat: f.stat,
                        bytes,
                        hash,
                        added: o.is_none(),
                    }),
                    false,
                    None,
                ),
            }
        })
        .collect();
    let mut d = Diff {
        removed,
        ..Default::default()
    };
    for (c, touched, gone) in results {
        if let Some(c) = c {
            d.changed.push(c);
        }
        d.touched += touched as usize;
        if let Some(g) = gone {
            d.removed.push(g);
        }
    }
    d.removed.sort();
    d.found = found;
    d
}

/// The manifest after applying a diff: `parsed` says, per changed path,
/// whether it was indexed (true) or skipped (false).
pub fn apply(
    old: &Manifest,
    diff: &Diff,
    skipped: &std::collections::HashSet<String>,
    scan_start: i64,
    head: Option<String>,
) -> Manifest {
    let changed: std::collections::HashMap<&str, &Changed> =
        diff.changed.iter().map(|c| (c.path.as_str(), c)).collect();
    let removed: std::collections::HashSet<&str> =
        diff.removed.iter().map(String::as_str).collect();
    let mut entries = Vec::with_capacity(diff.found.len());
    for f in &diff.found {
        if removed.contains(f.path.as_str()) {
            continue;
        }
        if let Some(c) = changed.get(f.path.as_str()) {
            entries.push(Entry {
                path: c.path.clone(),
                stat: c.stat,
                hash: c.hash,
                skipped: skipped.contains(&c.path),
            });
        } else if let Some(o) = find(old, &f.path) {
            entries.push(Entry {
                path: o.path.clone(),
                stat: f.stat,
                hash: o.hash,
                skipped: o.skipped,
            });
        }
    }
    Manifest {
        version: old.version,
        generation: old.generation + 1,
        scan_start,
        head,
        entries,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_detects_corruption() {
        let m = Manifest {
            version: 3,
            generation: 7,
            scan_start: 1_700_000_000_123_456_789,
            head: Some("abc".into()),
            entries: vec![Entry {
                path: "customers/de/x.toml".into(),
                stat: Stat {
                    size: 10,
                    mtime: 5,
                    ctime: 6,
                    ino: 7,
                },
                hash: 42,
                skipped: true,
            }],
        };
        let b = m.to_bytes();
        assert_eq!(Manifest::from_bytes(&b), Some(m));
        for cut in [0, 8, b.len() / 2, b.len() - 1] {
            assert_eq!(Manifest::from_bytes(&b[..cut]), None);
        }
        let mut flipped = b.clone();
        flipped[30] ^= 1;
        assert_eq!(Manifest::from_bytes(&flipped), None);
    }
}
