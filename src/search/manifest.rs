//! Which file states the index reflects, and how to tell what changed.
//!
//! The manifest lists every record file the index was built from with its
//! size, modification and change times (ns), inode and a hash of its
//! content, grouped by folder. [`diff`] reads each folder of `customers/`
//! once and stats its record files (both cores, one folder per task),
//! compares them with the folder's block of the manifest without building
//! a path for unchanged files, and reads only new files, files whose stat
//! changed, and "racy" ones: a file whose modification time is not older
//! than the moment the manifest's scan started could have changed again
//! within the same timestamp tick, so its content hash is checked every
//! time, as git does. An edit written in place changes the file's mtime
//! and ctime (and usually its size) but not its folder's, so every file is
//! stat'ed: folder times alone would miss it.
//!
//! The file is binary and read with one read: a header, a table of folders
//! (path, entry count, skipped count, byte length of its block), then the
//! blocks of entries, sorted by name, and a checksum. A folder's block is
//! copied as it is when an update does not touch the folder. The file is
//! written to a temporary file and renamed into place; a torn or foreign
//! file fails its checksum and reads as broken.

use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"FOLIOMN3";
/// Bytes of an entry after its name: size, mtime, ctime, inode, hash, skipped.
const FIXED: usize = 5 * 8 + 1;

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

/// An entry as stored in a folder's block (its name without the folder).
#[derive(Debug, Clone, Copy)]
struct Slot<'a> {
    name: &'a [u8],
    stat: Stat,
    hash: u64,
    skipped: bool,
}

/// A folder's block of entries.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Folder {
    /// Relative to the data root, `/`-separated (`customers/de`).
    rel: String,
    count: u32,
    skipped: u32,
    /// Where its entries are in `Manifest::data`.
    start: usize,
    end: usize,
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
    /// Sorted by `rel`; none is empty.
    folders: Vec<Folder>,
    data: Vec<u8>,
}

/// Content hash of a record file.
pub fn hash_bytes(b: &[u8]) -> u64 {
    let h = hash_of(b);
    // `UNREADABLE` marks a file that was not read
    if h == UNREADABLE { 1 } else { h }
}

/// The hash a manifest keeps for a file that was not read (not a regular
/// file, too large, or not readable): never the hash of any content; its
/// content is unknown, so once it can be read (a `chmod` changes its
/// ctime, so the stat differs) it is read and indexed.
pub const UNREADABLE: u64 = 0;

/// XXH3 (64 bits), a specified hash: what a manifest persists must mean
/// the same to every build of folio (`std`'s `DefaultHasher` may change
/// between Rust releases and silently mis-validate a cache).
fn hash_of(b: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(b)
}

/// A checksum of the manifest's bytes, to tell a torn or foreign file.
fn checksum(b: &[u8]) -> u64 {
    hash_of(b)
}

fn put_u64(out: &mut Vec<u8>, x: u64) {
    out.extend_from_slice(&x.to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    let n = s.len().min(u16::MAX as usize);
    out.extend_from_slice(&(n as u16).to_le_bytes());
    out.extend_from_slice(&s[..n]);
}

fn put_slot(out: &mut Vec<u8>, name: &[u8], stat: Stat, hash: u64, skipped: bool) {
    put_str(out, name);
    put_u64(out, stat.size);
    put_u64(out, stat.mtime as u64);
    put_u64(out, stat.ctime as u64);
    put_u64(out, stat.ino);
    put_u64(out, hash);
    out.push(skipped as u8);
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
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()? as usize;
        self.take(n)
    }
    fn slot(&mut self) -> Option<Slot<'a>> {
        let name = self.bytes()?;
        let f = self.take(FIXED)?;
        let at = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&f[i * 8..i * 8 + 8]);
            u64::from_le_bytes(w)
        };
        Some(Slot {
            name,
            stat: Stat {
                size: at(0),
                mtime: at(1) as i64,
                ctime: at(2) as i64,
                ino: at(3),
            },
            hash: at(4),
            skipped: f[40] != 0,
        })
    }
}

/// The entries of one block, in order.
struct Slots<'a> {
    r: Reader<'a>,
}

impl<'a> Iterator for Slots<'a> {
    type Item = Slot<'a>;
    fn next(&mut self) -> Option<Slot<'a>> {
        if self.r.b.is_empty() {
            return None;
        }
        self.r.slot()
    }
}

fn join(rel: &str, name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    let mut p = String::with_capacity(rel.len() + 1 + name.len());
    p.push_str(rel);
    p.push('/');
    p.push_str(&name);
    p
}

/// The folder part and the name of a `/`-separated relative path.
fn split(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

impl Manifest {
    /// A manifest of `entries` (in any order).
    pub fn build(
        version: u32,
        generation: u64,
        scan_start: i64,
        head: Option<String>,
        mut entries: Vec<Entry>,
    ) -> Manifest {
        entries.sort_unstable_by(|a, b| split(&a.path).cmp(&split(&b.path)));
        let mut m = Manifest {
            version,
            generation,
            scan_start,
            head,
            folders: Vec::new(),
            data: Vec::with_capacity(entries.len() * (FIXED + 48)),
        };
        for e in &entries {
            let (rel, name) = split(&e.path);
            if m.folders.last().is_none_or(|f| f.rel != rel) {
                let at = m.data.len();
                m.folders.push(Folder {
                    rel: rel.to_string(),
                    count: 0,
                    skipped: 0,
                    start: at,
                    end: at,
                });
            }
            put_slot(&mut m.data, name.as_bytes(), e.stat, e.hash, e.skipped);
            if let Some(f) = m.folders.last_mut() {
                f.count += 1;
                f.skipped += e.skipped as u32;
                f.end = m.data.len();
            }
        }
        m
    }

    fn slots(&self, f: &Folder) -> Slots<'_> {
        Slots {
            r: Reader {
                b: self.data.get(f.start..f.end).unwrap_or_default(),
            },
        }
    }

    fn folder(&self, rel: &str) -> Option<&Folder> {
        self.folders
            .binary_search_by(|f| f.rel.as_str().cmp(rel))
            .ok()
            .map(|i| &self.folders[i])
    }

    /// Every entry, sorted by folder then name.
    pub fn entries(&self) -> impl Iterator<Item = Entry> + '_ {
        self.folders.iter().flat_map(move |f| {
            self.slots(f).map(move |s| Entry {
                path: join(&f.rel, s.name),
                stat: s.stat,
                hash: s.hash,
                skipped: s.skipped,
            })
        })
    }

    /// The entry of one path.
    pub fn get(&self, path: &str) -> Option<Entry> {
        let (rel, name) = split(path);
        let f = self.folder(rel)?;
        self.slots(f)
            .find(|s| s.name == name.as_bytes())
            .map(|s| Entry {
                path: path.to_string(),
                stat: s.stat,
                hash: s.hash,
                skipped: s.skipped,
            })
    }

    /// Files in the manifest.
    pub fn len(&self) -> usize {
        self.folders.iter().map(|f| f.count as usize).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.folders.is_empty()
    }

    /// Records in the index (files that parsed).
    pub fn records(&self) -> usize {
        self.folders
            .iter()
            .map(|f| (f.count - f.skipped) as usize)
            .sum()
    }

    /// Files left out because they do not parse, sorted.
    pub fn skipped(&self) -> Vec<String> {
        self.folders
            .iter()
            .filter(|f| f.skipped > 0)
            .flat_map(|f| {
                self.slots(f)
                    .filter(|s| s.skipped)
                    .map(|s| join(&f.rel, s.name))
            })
            .collect()
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.folders.len() * 40 + self.data.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.version.to_le_bytes());
        put_u64(&mut out, self.generation);
        put_u64(&mut out, self.scan_start as u64);
        put_str(&mut out, self.head.as_deref().unwrap_or("").as_bytes());
        out.extend_from_slice(&(self.folders.len() as u32).to_le_bytes());
        for f in &self.folders {
            put_str(&mut out, f.rel.as_bytes());
            out.extend_from_slice(&f.count.to_le_bytes());
            out.extend_from_slice(&f.skipped.to_le_bytes());
            put_u64(&mut out, (f.end - f.start) as u64);
        }
        for f in &self.folders {
            out.extend_from_slice(&self.data[f.start..f.end]);
        }
        let sum = checksum(&out);
        put_u64(&mut out, sum);
        out
    }

    /// Parse a manifest; `None` when it is torn, foreign or corrupt.
    pub fn from_bytes(mut b: Vec<u8>) -> Option<Manifest> {
        if b.len() < MAGIC.len() + 8 || &b[..8] != MAGIC {
            return None;
        }
        let body_len = b.len() - 8;
        if checksum(&b[..body_len]) != u64::from_le_bytes(b[body_len..].try_into().ok()?) {
            return None;
        }
        let mut r = Reader { b: &b[8..body_len] };
        let version = r.u32()?;
        let generation = r.u64()?;
        let scan_start = r.u64()? as i64;
        let head = std::str::from_utf8(r.bytes()?).ok()?.to_string();
        let n = r.u32()? as usize;
        let mut folders = Vec::with_capacity(n.min(r.b.len() / 18));
        let mut at = 0usize;
        for _ in 0..n {
            let rel = std::str::from_utf8(r.bytes()?).ok()?.to_string();
            let count = r.u32()?;
            let skipped = r.u32()?;
            let len = usize::try_from(r.u64()?).ok()?;
            let end = at.checked_add(len)?;
            folders.push(Folder {
                rel,
                count,
                skipped,
                start: at,
                end,
            });
            at = end;
        }
        if r.b.len() != at {
            return None;
        }
        let data_start = body_len - at;
        // every block holds exactly its entries, sorted by name
        let blocks = &b[data_start..body_len];
        for (i, f) in folders.iter().enumerate() {
            if f.count == 0 || i > 0 && folders[i - 1].rel >= f.rel {
                return None;
            }
            let mut r = Reader {
                b: &blocks[f.start..f.end],
            };
            let (mut count, mut skipped) = (0u32, 0u32);
            let mut last: &[u8] = &[];
            while !r.b.is_empty() {
                let s = r.slot()?;
                if count > 0 && s.name <= last {
                    return None;
                }
                last = s.name;
                count += 1;
                skipped += s.skipped as u32;
            }
            if count != f.count || skipped != f.skipped {
                return None;
            }
        }
        b.truncate(body_len);
        b.drain(..data_start);
        Some(Manifest {
            version,
            generation,
            scan_start,
            head: (!head.is_empty()).then_some(head),
            folders,
            data: b,
        })
    }

    pub fn read(path: &Path) -> io::Result<Option<Manifest>> {
        match std::fs::read(path) {
            Ok(b) => Ok(Manifest::from_bytes(b)),
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

    /// The manifest after applying a diff: `skipped` names the changed
    /// paths that did not parse.
    pub fn apply(
        &self,
        diff: &Diff,
        skipped: &std::collections::HashSet<String>,
        scan_start: i64,
        head: Option<String>,
    ) -> Manifest {
        // per folder: name -> new state (None: removed)
        type Ops<'a> = HashMap<&'a str, BTreeMap<&'a str, Option<(Stat, u64, bool)>>>;
        let mut ops: Ops = HashMap::new();
        for p in &diff.removed {
            let (rel, name) = split(p);
            ops.entry(rel).or_default().insert(name, None);
        }
        for c in &diff.changed {
            let (rel, name) = split(&c.path);
            let st = (c.stat, c.hash, skipped.contains(&c.path));
            ops.entry(rel).or_default().insert(name, Some(st));
        }
        for t in &diff.touched {
            let (rel, name) = split(&t.path);
            ops.entry(rel)
                .or_default()
                .insert(name, Some((t.stat, t.hash, t.skipped)));
        }
        let mut rels: Vec<&str> = self.folders.iter().map(|f| f.rel.as_str()).collect();
        rels.extend(ops.keys().filter(|r| self.folder(r).is_none()));
        rels.sort_unstable();
        rels.dedup();
        let mut out = Manifest {
            version: self.version,
            generation: self.generation + 1,
            scan_start,
            head,
            folders: Vec::with_capacity(rels.len()),
            data: Vec::with_capacity(self.data.len() + diff.changed.len() * (FIXED + 64)),
        };
        for rel in rels {
            let old = self.folder(rel);
            let start = out.data.len();
            let (mut count, mut skip) = (0u32, 0u32);
            match (old, ops.get(rel)) {
                (Some(f), None) => {
                    out.data.extend_from_slice(&self.data[f.start..f.end]);
                    count = f.count;
                    skip = f.skipped;
                }
                (old, Some(changes)) => {
                    let mut all: BTreeMap<&[u8], (Stat, u64, bool)> = BTreeMap::new();
                    if let Some(f) = old {
                        for s in self.slots(f) {
                            all.insert(s.name, (s.stat, s.hash, s.skipped));
                        }
                    }
                    for (name, st) in changes {
                        match st {
                            Some(st) => all.insert(name.as_bytes(), *st),
                            None => all.remove(name.as_bytes()),
                        };
                    }
                    for (name, (stat, hash, skipped)) in all {
                        put_slot(&mut out.data, name, stat, hash, skipped);
                        count += 1;
                        skip += skipped as u32;
                    }
                }
                (None, None) => {}
            }
            if count > 0 {
                out.folders.push(Folder {
                    rel: rel.to_string(),
                    count,
                    skipped: skip,
                    start,
                    end: out.data.len(),
                });
            }
        }
        out
    }
}

/// A record file the walk found.
#[derive(Debug, Clone)]
pub struct Found {
    pub path: String,
    pub stat: Stat,
}

/// A file whose content must be read: new, stat changed, or racy.
#[derive(Debug)]
struct Candidate {
    path: String,
    stat: Stat,
    /// Its manifest entry: stat, hash and skipped.
    old: Option<(Stat, u64, bool)>,
}

#[derive(Debug, Default)]
struct Scan {
    candidates: Vec<Candidate>,
    removed: Vec<String>,
    /// Folders of the manifest the walk did not find.
    seen: Vec<String>,
}

impl Scan {
    fn extend(&mut self, o: Scan) {
        self.candidates.extend(o.candidates);
        self.removed.extend(o.removed);
        self.seen.extend(o.seen);
    }
}

/// Stat every `.toml` file under `<root>/customers` (hidden entries and
/// symlinks skipped, as `folio check` reports them), sorted by path.
pub fn walk(root: &Path) -> io::Result<Vec<Found>> {
    let scan = scan(root, None)?;
    let mut out: Vec<Found> = scan
        .candidates
        .into_iter()
        .map(|c| Found {
            path: c.path,
            stat: c.stat,
        })
        .collect();
    out.sort_unstable_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Walk `customers/` and compare each folder with its block of `old`.
fn scan(root: &Path, old: Option<&Manifest>) -> io::Result<Scan> {
    let base = root.join(crate::repo::CUSTOMERS_DIR);
    let mut s = if base.is_dir() {
        scan_dir(&base, crate::repo::CUSTOMERS_DIR, old)?
    } else {
        Scan::default()
    };
    if let Some(m) = old {
        // whole folders gone
        s.seen.sort_unstable();
        for f in &m.folders {
            if s.seen.binary_search(&f.rel).is_err() {
                s.removed
                    .extend(m.slots(f).map(|slot| join(&f.rel, slot.name)));
            }
        }
    }
    Ok(s)
}

fn scan_dir(dir: &Path, rel: &str, old: Option<&Manifest>) -> io::Result<Scan> {
    let rd = std::fs::read_dir(dir).map_err(|e| with_path(e, dir))?;
    let mut files: Vec<(String, Stat)> = Vec::new();
    let mut subdirs: Vec<(PathBuf, String)> = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| with_path(e, dir))?;
        let name = entry.file_name();
        let Ok(name) = name.into_string() else {
            continue;
        };
        if !crate::repo::is_walked_name(&name) {
            continue;
        }
        let ft = entry.file_type().map_err(|e| with_path(e, &entry.path()))?;
        if ft.is_dir() {
            let sub = format!("{rel}/{name}");
            subdirs.push((entry.path(), sub));
        } else if crate::repo::is_record_name(&name) {
            // a symlink, pipe or device named .toml too: reading refuses
            // it, and it is listed as a file left out of the index
            let m = match entry.metadata() {
                Ok(m) => m,
                // deleted since the directory was read
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(with_path(e, &entry.path())),
            };
            files.push((name, Stat::of(&m)));
        }
    }
    files.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut out = Scan::default();
    let block = old.and_then(|m| m.folder(rel).map(|f| (m, f)));
    match block {
        None => {
            out.candidates = files
                .into_iter()
                .map(|(name, stat)| Candidate {
                    path: format!("{rel}/{name}"),
                    stat,
                    old: None,
                })
                .collect();
        }
        Some((m, f)) => {
            out.seen.push(rel.to_string());
            let mut slots = m.slots(f).peekable();
            for (name, stat) in files {
                // entries before this name are gone
                while let Some(s) = slots.next_if(|s| s.name < name.as_bytes()) {
                    out.removed.push(join(rel, s.name));
                }
                match slots.next_if(|s| s.name == name.as_bytes()) {
                    Some(s) => {
                        if s.stat != stat || s.stat.mtime >= m.scan_start {
                            out.candidates.push(Candidate {
                                path: format!("{rel}/{name}"),
                                stat,
                                old: Some((s.stat, s.hash, s.skipped)),
                            });
                        }
                    }
                    None => out.candidates.push(Candidate {
                        path: format!("{rel}/{name}"),
                        stat,
                        old: None,
                    }),
                }
            }
            out.removed.extend(slots.map(|s| join(rel, s.name)));
        }
    }
    if !subdirs.is_empty() {
        let nested: Vec<io::Result<Scan>> = subdirs
            .par_iter()
            .map(|(abs, rel)| scan_dir(abs, rel, old))
            .collect();
        for n in nested {
            out.extend(n?);
        }
    }
    Ok(out)
}

fn with_path(e: io::Error, p: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", p.display()))
}

/// What changed between a manifest and the working tree.
#[derive(Debug, Default)]
pub struct Diff {
    /// Added or modified files, with their content.
    pub changed: Vec<Changed>,
    /// Paths no longer in the working tree, sorted.
    pub removed: Vec<String>,
    /// Files whose stat changed but not their content (manifest only).
    pub touched: Vec<Touched>,
}

#[derive(Debug)]
pub struct Changed {
    pub path: String,
    pub stat: Stat,
    /// `None` for a file that was not read (not a regular file, too large
    /// or not readable: [`read_record`]): it is left out of the index.
    pub bytes: Option<Vec<u8>>,
    pub hash: u64,
    pub added: bool,
}

/// Read a record file through the one bounded reader
/// ([`crate::repo::read_file`]): `Ok(None)` when it exists but folio will
/// not or cannot read it (not a regular file, too large, its permissions),
/// `Err` when it is gone.
pub fn read_record(path: &Path) -> io::Result<Option<Vec<u8>>> {
    use crate::repo::ReadError;
    match crate::repo::read_file(path) {
        Ok(b) => Ok(Some(b)),
        Err(ReadError::Io(e))
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound
                    | io::ErrorKind::IsADirectory
                    | io::ErrorKind::NotADirectory
            ) =>
        {
            Err(e)
        }
        Err(_) => Ok(None),
    }
}

#[derive(Debug)]
pub struct Touched {
    pub path: String,
    pub stat: Stat,
    pub hash: u64,
    pub skipped: bool,
}

impl Diff {
    /// Nothing to re-index and nothing to record.
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.removed.is_empty() && self.touched.is_empty()
    }

    /// Renames: a removed path whose content reappears at an added path.
    pub fn renames(&self, old: &Manifest) -> usize {
        let removed: std::collections::HashSet<u64> = self
            .removed
            .iter()
            .filter_map(|p| old.get(p).map(|e| e.hash))
            .collect();
        self.changed
            .iter()
            .filter(|c| c.added && removed.contains(&c.hash))
            .count()
    }
}

/// Compare the working tree with a manifest, reading only new files,
/// files whose stat changed, and racy entries.
pub fn diff(root: &Path, old: &Manifest) -> io::Result<Diff> {
    let scan = scan(root, Some(old))?;
    resolve(root, scan)
}

pub use crate::repo::is_record_path;

/// Compare only what a watcher reported changed since the manifest was
/// written ([`crate::watch`]): each listed file is stat'ed and read (its
/// content hash decides, so an edit within one timestamp tick is seen);
/// each listed folder is scanned like [`diff`] scans every folder, and the
/// manifest's folders in or under it that are gone are removed.
pub fn diff_listed(
    root: &Path,
    old: &Manifest,
    files: &[String],
    folders: &[String],
) -> io::Result<Diff> {
    let mut tops: Vec<&str> = folders
        .iter()
        .map(String::as_str)
        .filter(|f| crate::repo::in_records_tree(f))
        .collect();
    tops.sort_unstable();
    // a folder inside another listed one is scanned with it
    let inside =
        |p: &str, t: &str| p.len() > t.len() && p.starts_with(t) && p.as_bytes()[t.len()] == b'/';
    // (byte order does not keep a folder right after its parent:
    // `de`, `de-old`, `de/berlin`, so every kept folder is looked at)
    let mut kept: Vec<&str> = Vec::with_capacity(tops.len());
    for t in tops {
        if !kept.iter().any(|k| t == *k || inside(t, k)) {
            kept.push(t);
        }
    }
    let mut s = Scan::default();
    for top in &kept {
        let abs = root.join(top);
        let mut part = match std::fs::symlink_metadata(&abs) {
            Ok(m) if m.is_dir() => match scan_dir(&abs, top, Some(old)) {
                Ok(p) => p,
                Err(e) if e.kind() == io::ErrorKind::NotFound => Scan::default(),
                Err(e) => return Err(e),
            },
            _ => Scan::default(),
        };
        part.seen.sort_unstable();
        for f in &old.folders {
            if (f.rel == *top || inside(&f.rel, top)) && part.seen.binary_search(&f.rel).is_err() {
                part.removed
                    .extend(old.slots(f).map(|slot| join(&f.rel, slot.name)));
            }
        }
        s.extend(part);
    }
    let mut files: Vec<&str> = files
        .iter()
        .map(String::as_str)
        .filter(|p| is_record_path(p))
        .filter(|p| !kept.iter().any(|t| inside(p, t)))
        .collect();
    files.sort_unstable();
    files.dedup();
    for p in files {
        let before = old.get(p).map(|e| (e.stat, e.hash, e.skipped));
        match std::fs::symlink_metadata(root.join(p)) {
            Ok(m) if !m.is_dir() => {
                // a listed file is always read and decided by its content:
                // its stat may not show an edit made within one tick
                s.candidates.push(Candidate {
                    path: p.to_string(),
                    stat: Stat::of(&m),
                    old: before,
                });
            }
            Ok(_) | Err(_) => {
                if before.is_some() {
                    s.removed.push(p.to_string());
                }
            }
        }
    }
    resolve(root, s)
}

/// Read the candidates of a scan and sort out what changed.
fn resolve(root: &Path, scan: Scan) -> io::Result<Diff> {
    enum Outcome {
        Changed(Changed),
        Touched(Touched),
        Same,
        Gone(String),
    }
    let results: Vec<Outcome> = scan
        .candidates
        .into_par_iter()
        .map(|c| {
            let bytes = match read_record(&root.join(&c.path)) {
                Ok(b) => b,
                // gone since the walk: removed if it was indexed
                Err(_) if c.old.is_some() => return Outcome::Gone(c.path),
                Err(_) => return Outcome::Same,
            };
            let hash = bytes.as_deref().map_or(UNREADABLE, hash_bytes);
            match c.old {
                // unchanged content: only a changed stat is worth recording
                Some((stat, h, _)) if h == hash && stat == c.stat => Outcome::Same,
                Some((_, h, skipped)) if h == hash => Outcome::Touched(Touched {
                    path: c.path,
                    stat: c.stat,
                    hash,
                    skipped,
                }),
                _ => Outcome::Changed(Changed {
                    added: c.old.is_none(),
                    path: c.path,
                    stat: c.stat,
                    bytes,
                    hash,
                }),
            }
        })
        .collect();
    let mut d = Diff {
        removed: scan.removed,
        ..Default::default()
    };
    for r in results {
        match r {
            Outcome::Changed(c) => d.changed.push(c),
            Outcome::Touched(t) => d.touched.push(t),
            Outcome::Gone(p) => d.removed.push(p),
            Outcome::Same => {}
        }
    }
    d.removed.sort();
    d.removed.dedup();
    d.changed.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The persisted hash is a specified one: the same bytes give the same
    /// value in every build (XXH3-64 of the empty input and of "folio").
    #[test]
    fn persisted_hashes_are_pinned() {
        assert_eq!(hash_of(b""), 0x2d06_8005_38d3_94c2);
        assert_eq!(hash_bytes(b"folio"), hash_of(b"folio"));
        assert_eq!(format!("{:016x}", hash_of(b"folio")), "d8022b482dd265f9");
    }

    fn entry(path: &str, size: u64, hash: u64, skipped: bool) -> Entry {
        Entry {
            path: path.into(),
            stat: Stat {
                size,
                mtime: 5,
                ctime: 6,
                ino: 7,
            },
            hash,
            skipped,
        }
    }

    fn sample() -> Manifest {
        Manifest::build(
            3,
            7,
            1_700_000_000_123_456_789,
            Some("abc".into()),
            vec![
                entry("customers/de/x.toml", 10, 42, true),
                entry("customers/cn/b.toml", 11, 43, false),
                entry("customers/cn/a.toml", 12, 44, false),
                entry("customers/top.toml", 13, 45, false),
            ],
        )
    }

    #[test]
    fn round_trips_and_detects_corruption() {
        let m = sample();
        assert_eq!(m.len(), 4);
        assert_eq!(m.records(), 3);
        assert_eq!(m.skipped(), ["customers/de/x.toml"]);
        let paths: Vec<String> = m.entries().map(|e| e.path).collect();
        assert_eq!(
            paths,
            [
                "customers/top.toml",
                "customers/cn/a.toml",
                "customers/cn/b.toml",
                "customers/de/x.toml"
            ]
        );
        assert_eq!(m.get("customers/cn/b.toml").map(|e| e.hash), Some(43));
        assert!(m.get("customers/cn/c.toml").is_none());
        let b = m.to_bytes();
        assert_eq!(Manifest::from_bytes(b.clone()), Some(m));
        for cut in [0, 8, b.len() / 2, b.len() - 1] {
            assert_eq!(Manifest::from_bytes(b[..cut].to_vec()), None);
        }
        let mut flipped = b.clone();
        flipped[30] ^= 1;
        assert_eq!(Manifest::from_bytes(flipped), None);
    }

    #[test]
    fn apply_removes_updates_and_adds_per_folder() {
        let m = sample();
        let st = Stat {
            size: 99,
            ..Default::default()
        };
        let diff = Diff {
            changed: vec![
                Changed {
                    path: "customers/cn/a.toml".into(),
                    stat: st,
                    bytes: Some(Vec::new()),
                    hash: 1,
                    added: false,
                },
                Changed {
                    path: "customers/jp/n.toml".into(),
                    stat: st,
                    bytes: Some(Vec::new()),
                    hash: 2,
                    added: true,
                },
            ],
            removed: vec!["customers/de/x.toml".into()],
            touched: vec![Touched {
                path: "customers/top.toml".into(),
                stat: st,
                hash: 45,
                skipped: false,
            }],
        };
        let skipped = ["customers/jp/n.toml".to_string()].into_iter().collect();
        let n = m.apply(&diff, &skipped, 9, None);
        assert_eq!(n.generation, 8);
        let got: Vec<(String, u64, u64, bool)> = n
            .entries()
            .map(|e| (e.path, e.stat.size, e.hash, e.skipped))
            .collect();
        assert_eq!(
            got,
            [
                ("customers/top.toml".into(), 99, 45, false),
                ("customers/cn/a.toml".into(), 99, 1, false),
                ("customers/cn/b.toml".into(), 11, 43, false),
                ("customers/jp/n.toml".into(), 99, 2, true),
            ]
        );
        assert_eq!(n.skipped(), ["customers/jp/n.toml"]);
        assert_eq!(Manifest::from_bytes(n.to_bytes()), Some(n));
    }
}
