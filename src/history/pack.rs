//! Reading objects straight from git's pack files, keeping the objects it
//! rebuilds from delta chains.
//!
//! A history scan reads every version of every folder tree, each stored as
//! a delta against another version. libgit2 keeps at most 16 MB of delta
//! bases and empties that cache whole when it is full, so on a repository
//! whose folder trees weigh a few hundred KB nearly every tree read rebuilt
//! its chain from the start (up to 50 deltas). [`Store`] keeps every object
//! it rebuilds (least recently used out first, within a byte budget), so
//! that reading the next version of a tree costs one delta, whichever way
//! the chains run (`git fast-import` stores new versions as deltas of old
//! ones, `git gc` the other way round).
//!
//! Only what is plainly readable is read here: SHA-1 packs with a version 2
//! index. Anything else (loose objects, packs written since, an unusual
//! or damaged pack) is read through libgit2, so the results do not depend
//! on this module, only the speed.

use git2::{ObjectType, Odb, Oid, Repository};
use memmap2::Mmap;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// An object's bytes, shared between the cache and its readers.
pub type Data = Arc<Vec<u8>>;

/// The longest delta chain followed (git writes 50 by default, 250 with
/// `gc --aggressive`); a longer one is read through libgit2.
const MAX_CHAIN: usize = 10_000;

/// The pack files of a repository, mapped into memory; shared by threads.
pub struct Packs {
    list: Vec<Pack>,
}

struct Pack {
    idx: Mmap,
    data: Mmap,
    /// Number of objects.
    n: usize,
}

const IDX_HEADER: usize = 8;
const FANOUT: usize = 256 * 4;

impl Packs {
    /// The packs in the repository's object folder (none for a SHA-256
    /// repository, or when the folder cannot be read).
    pub fn open(repo: &Repository) -> Arc<Packs> {
        let sha256 = repo
            .config()
            .and_then(|c| c.get_string("extensions.objectformat"))
            .is_ok_and(|f| !f.eq_ignore_ascii_case("sha1"));
        let mut list = Vec::new();
        if !sha256 {
            let dir = repo.commondir().join("objects").join("pack");
            if let Ok(rd) = std::fs::read_dir(&dir) {
                let mut idx: Vec<_> = rd
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "idx"))
                    .collect();
                idx.sort();
                list.extend(idx.iter().filter_map(|p| Pack::open(p)));
            }
        }
        Arc::new(Packs { list })
    }

    /// How many packs are read directly.
    pub fn count(&self) -> usize {
        self.list.len()
    }

    /// Where an object is: (pack number, offset).
    fn find(&self, oid: &[u8]) -> Option<(usize, u64)> {
        self.list
            .iter()
            .enumerate()
            .find_map(|(k, p)| p.find(oid).map(|o| (k, o)))
    }
}

fn map(path: &Path) -> Option<Mmap> {
    let f = std::fs::File::open(path).ok()?;
    // SAFETY: pack and index files are never written in place: git writes
    // a new file under a temporary name and renames it, and removes old
    // packs by unlinking them (the mapping stays valid). Every read below
    // is bounds-checked against the mapping's length.
    unsafe { Mmap::map(&f) }.ok()
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

impl Pack {
    fn open(idx_path: &Path) -> Option<Pack> {
        let idx = map(idx_path)?;
        let data = map(&idx_path.with_extension("pack"))?;
        // Index version 2: magic, version, fan-out table, ids, CRCs,
        // offsets, large offsets, two trailing checksums.
        if idx.get(..4)? != b"\xfftOc" || be32(&idx, 4)? != 2 {
            return None;
        }
        let n = be32(&idx, IDX_HEADER + 255 * 4)? as usize;
        let min = IDX_HEADER + FANOUT + n.checked_mul(28)? + 40;
        if idx.len() < min || !(idx.len() - min).is_multiple_of(8) {
            return None;
        }
        if data.get(..4)? != b"PACK" || !matches!(be32(&data, 4)?, 2 | 3) {
            return None;
        }
        Some(Pack { idx, data, n })
    }

    fn find(&self, oid: &[u8]) -> Option<u64> {
        let first = *oid.first()? as usize;
        let lo = if first == 0 {
            0
        } else {
            be32(&self.idx, IDX_HEADER + (first - 1) * 4)? as usize
        };
        let hi = be32(&self.idx, IDX_HEADER + first * 4)? as usize;
        let ids = IDX_HEADER + FANOUT;
        let (mut lo, mut hi) = (lo, hi.min(self.n));
        while lo < hi {
            let mid = (lo + hi) / 2;
            let at = ids + mid * 20;
            match self.idx.get(at..at + 20)?.cmp(oid) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return self.offset(mid),
            }
        }
        None
    }

    fn offset(&self, k: usize) -> Option<u64> {
        let offs = IDX_HEADER + FANOUT + self.n * 24;
        let o = be32(&self.idx, offs + k * 4)?;
        if o & 0x8000_0000 == 0 {
            return Some(o as u64);
        }
        let at = offs + self.n * 4 + (o & 0x7fff_ffff) as usize * 8;
        Some(u64::from_be_bytes(
            self.idx.get(at..at + 8)?.try_into().ok()?,
        ))
    }

    /// The entry at `offset`: its kind and size, where its compressed data
    /// starts, and for a delta where its base is.
    fn entry(&self, offset: u64) -> Option<Entry> {
        let d = &self.data[..];
        let mut i = usize::try_from(offset).ok()?;
        let mut c = *d.get(i)?;
        i += 1;
        let kind = (c >> 4) & 7;
        let mut size = (c & 15) as u64;
        let mut shift = 4;
        while c & 0x80 != 0 {
            c = *d.get(i)?;
            i += 1;
            if shift > 57 {
                return None;
            }
            size |= ((c & 0x7f) as u64) << shift;
            shift += 7;
        }
        let base = match kind {
            1..=4 => Base::None,
            6 => {
                c = *d.get(i)?;
                i += 1;
                let mut back = (c & 0x7f) as u64;
                while c & 0x80 != 0 {
                    c = *d.get(i)?;
                    i += 1;
                    back = back.checked_add(1)?.checked_mul(128)? | (c & 0x7f) as u64;
                }
                if back == 0 || back > offset {
                    return None;
                }
                Base::Offset(offset - back)
            }
            7 => {
                let id = d.get(i..i + 20)?;
                i += 20;
                Base::Id(id.try_into().ok()?)
            }
            _ => return None,
        };
        Some(Entry {
            kind,
            size: usize::try_from(size).ok()?,
            start: i,
            base,
        })
    }
}

struct Entry {
    kind: u8,
    size: usize,
    start: usize,
    base: Base,
}

enum Base {
    None,
    Offset(u64),
    Id([u8; 20]),
}

fn object_type(kind: u8) -> ObjectType {
    match kind {
        1 => ObjectType::Commit,
        2 => ObjectType::Tree,
        3 => ObjectType::Blob,
        _ => ObjectType::Tag,
    }
}

/// Reads objects: from the packs with a cache of rebuilt objects, else
/// through libgit2. One per thread.
pub struct Store<'o> {
    packs: Arc<Packs>,
    odb: &'o Odb<'o>,
    cache: Lru<(usize, u64), (ObjectType, Data)>,
    inflate: flate2::Decompress,
}

/// A map that keeps its most recently used entries within a byte budget,
/// dropping the least recently used one at a time (so that the memory
/// freed is reused at once rather than handed back to the system in bulk).
pub struct Lru<K, V> {
    map: HashMap<K, (V, usize, u64)>,
    order: std::collections::BTreeMap<u64, K>,
    bytes: usize,
    budget: usize,
    tick: u64,
}

impl<K: std::hash::Hash + Eq + Clone, V: Clone> Lru<K, V> {
    pub fn new(budget: usize) -> Lru<K, V> {
        Lru {
            map: HashMap::new(),
            order: std::collections::BTreeMap::new(),
            bytes: 0,
            budget,
            tick: 0,
        }
    }

    pub fn get(&mut self, k: &K) -> Option<V> {
        let (v, _, used) = self.map.get_mut(k)?;
        self.tick += 1;
        self.order.remove(used);
        *used = self.tick;
        self.order.insert(self.tick, k.clone());
        Some(v.clone())
    }

    /// Keep `v`, which weighs `weight` bytes.
    pub fn put(&mut self, k: K, v: V, weight: usize) {
        self.tick += 1;
        if let Some((_, w, used)) = self.map.insert(k.clone(), (v, weight, self.tick)) {
            self.order.remove(&used);
            self.bytes -= w;
        }
        self.order.insert(self.tick, k);
        self.bytes += weight;
        while self.bytes > self.budget && self.order.len() > 1 {
            let Some((_, old)) = self.order.pop_first() else {
                break;
            };
            if let Some((_, w, _)) = self.map.remove(&old) {
                self.bytes -= w;
            }
        }
    }
}

impl<'o> Store<'o> {
    /// `budget`: how many bytes of rebuilt objects to keep.
    pub fn new(packs: Arc<Packs>, odb: &'o Odb<'o>, budget: usize) -> Store<'o> {
        Store {
            packs,
            odb,
            cache: Lru::new(budget),
            inflate: flate2::Decompress::new(true),
        }
    }

    /// An object's kind and bytes.
    pub fn read(&mut self, oid: Oid) -> Result<(ObjectType, Data), git2::Error> {
        if let Some((k, off)) = self.packs.find(oid.as_bytes())
            && let Some(hit) = self.read_packed(k, off, 0)
        {
            return Ok(hit);
        }
        let obj = self.odb.read(oid)?;
        Ok((obj.kind(), Arc::new(obj.data().to_vec())))
    }

    fn read_by_id(&mut self, id: &[u8; 20], depth: usize) -> Option<(ObjectType, Data)> {
        if let Some((k, off)) = self.packs.find(id)
            && let Some(hit) = self.read_packed(k, off, depth)
        {
            return Some(hit);
        }
        let obj = self.odb.read(Oid::from_bytes(id).ok()?).ok()?;
        Some((obj.kind(), Arc::new(obj.data().to_vec())))
    }

    fn read_packed(&mut self, p: usize, offset: u64, depth: usize) -> Option<(ObjectType, Data)> {
        if let Some(hit) = self.cached(p, offset) {
            return Some(hit);
        }
        // Follow the chain down to a cached object or a whole one, then
        // apply the deltas back up, keeping each result.
        let packs = self.packs.clone();
        let pack = packs.list.get(p)?;
        let mut chain: Vec<(u64, Entry)> = Vec::new();
        let mut cur = offset;
        let (kind, mut obj) = loop {
            if chain.len() + depth > MAX_CHAIN {
                return None;
            }
            if !chain.is_empty()
                && let Some(hit) = self.cached(p, cur)
            {
                break hit;
            }
            let e = pack.entry(cur)?;
            match e.base {
                Base::None => {
                    let kind = object_type(e.kind);
                    let data = Arc::new(self.inflate_at(pack, e.start, e.size)?);
                    self.keep(p, cur, kind, data.clone());
                    break (kind, data);
                }
                Base::Offset(b) => {
                    chain.push((cur, e));
                    cur = b;
                }
                Base::Id(id) => {
                    chain.push((cur, e));
                    match pack.find(&id) {
                        Some(b) => cur = b,
                        None => break self.read_by_id(&id, depth + chain.len())?,
                    }
                }
            }
        };
        while let Some((off, e)) = chain.pop() {
            let delta = self.inflate_at(pack, e.start, e.size)?;
            let out = Arc::new(apply_delta(&obj, &delta)?);
            self.keep(p, off, kind, out.clone());
            obj = out;
        }
        Some((kind, obj))
    }

    fn inflate_at(&mut self, pack: &Pack, start: usize, size: usize) -> Option<Vec<u8>> {
        let input = pack.data.get(start..)?;
        // The size comes from the pack: do not trust it beyond reason.
        let mut out = Vec::with_capacity(size.min(1 << 30));
        self.inflate.reset(true);
        let status = self
            .inflate
            .decompress_vec(input, &mut out, flate2::FlushDecompress::Finish)
            .ok()?;
        (status == flate2::Status::StreamEnd && out.len() == size).then_some(out)
    }

    fn cached(&mut self, p: usize, offset: u64) -> Option<(ObjectType, Data)> {
        self.cache.get(&(p, offset))
    }

    fn keep(&mut self, p: usize, offset: u64, kind: ObjectType, data: Data) {
        let weight = data.len() + 64;
        self.cache.put((p, offset), (kind, data), weight);
    }
}

/// Apply a git delta to its base.
fn apply_delta(base: &[u8], delta: &[u8]) -> Option<Vec<u8>> {
    fn varint(d: &[u8], i: &mut usize) -> Option<usize> {
        let mut v: usize = 0;
        let mut shift = 0;
        loop {
            let c = *d.get(*i)?;
            *i += 1;
            if shift > 57 {
                return None;
            }
            v |= ((c & 0x7f) as usize) << shift;
            shift += 7;
            if c & 0x80 == 0 {
                return Some(v);
            }
        }
    }
    let mut i = 0;
    if varint(delta, &mut i)? != base.len() {
        return None;
    }
    let size = varint(delta, &mut i)?;
    let mut out = Vec::with_capacity(size.min(1 << 30));
    while i < delta.len() {
        let op = delta[i];
        i += 1;
        if op & 0x80 != 0 {
            let mut off = 0usize;
            let mut len = 0usize;
            for k in 0..4 {
                if op & (1 << k) != 0 {
                    off |= (*delta.get(i)? as usize) << (8 * k);
                    i += 1;
                }
            }
            for k in 0..3 {
                if op & (0x10 << k) != 0 {
                    len |= (*delta.get(i)? as usize) << (8 * k);
                    i += 1;
                }
            }
            if len == 0 {
                len = 0x10000;
            }
            out.extend_from_slice(base.get(off..off.checked_add(len)?)?);
        } else if op != 0 {
            let n = op as usize;
            out.extend_from_slice(delta.get(i..i + n)?);
            i += n;
        } else {
            return None;
        }
        if out.len() > size {
            return None;
        }
    }
    (out.len() == size).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_copy_and_insert() {
        let base = b"hello world";
        // sizes 11 -> 9; copy 6 bytes from 0 ("hello "), insert "you"
        let delta = [11, 9, 0x80 | 0x10, 6, 3, b'y', b'o', b'u'];
        assert_eq!(apply_delta(base, &delta).unwrap(), b"hello you");
        // wrong base size, a copy past the end, a zero op, a short result
        assert!(apply_delta(b"hello", &delta).is_none());
        assert!(apply_delta(base, &[11, 20, 0x80 | 0x01 | 0x10, 8, 10]).is_none());
        assert!(apply_delta(base, &[11, 1, 0]).is_none());
        assert!(apply_delta(base, &[11, 9, 1, b'x']).is_none());
    }
}
