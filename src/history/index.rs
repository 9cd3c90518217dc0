//! The change index: every commit read, and every record file each one
//! changed, with the customer id, owner and stage on both sides. Kept in
//! `.folio/history/index.bin` in a compact binary format (little endian):
//!
//! ```text
//! magic "FOLIOHIX", u32 version, 20-byte tip commit id, string prefix
//! u32 counts: strings, commits, trailers, changes; u64 string bytes
//! strings: u32 end offsets, then the UTF-8 bytes
//! commits: oid[20] first_parent[20] u32 parents u8 shallow_root i64 time
//!          i32 offset u32 author u32 email u32 summary u32 trailer_start u32 trailer_len
//! trailers: u32 key u32 value
//! changes: u32 commit u8 kind u32 old_path u32 new_path oid[20] old_blob oid[20] new_blob
//!          u32 x 3 old (id, owner, stage) u32 x 3 new
//! ```
//!
//! Strings are referenced by number; `NONE` is "absent".

use std::collections::HashMap;

pub type RawOid = [u8; 20];
pub const ZERO: RawOid = [0; 20];
pub const NONE: u32 = u32::MAX;
pub const MAGIC: &[u8; 8] = b"FOLIOHIX";
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Commit {
    pub oid: RawOid,
    pub first_parent: RawOid,
    pub parents: u32,
    pub shallow_root: bool,
    pub time: i64,
    pub offset: i32,
    pub author: u32,
    pub email: u32,
    pub summary: u32,
    pub trailer_start: u32,
    pub trailer_len: u32,
}

/// What happened to a record file in a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
    /// Deleted at one path and added at another with the same id.
    Renamed,
}

impl ChangeKind {
    fn code(self) -> u8 {
        match self {
            ChangeKind::Added => 0,
            ChangeKind::Modified => 1,
            ChangeKind::Deleted => 2,
            ChangeKind::Renamed => 3,
        }
    }
    fn from_code(c: u8) -> Option<ChangeKind> {
        Some(match c {
            0 => ChangeKind::Added,
            1 => ChangeKind::Modified,
            2 => ChangeKind::Deleted,
            3 => ChangeKind::Renamed,
            _ => return None,
        })
    }
}

/// id, owner, stage as string numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    pub id: u32,
    pub owner: u32,
    pub stage: u32,
}

impl Meta {
    pub fn none() -> Meta {
        Meta {
            id: NONE,
            owner: NONE,
            stage: NONE,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub commit: u32,
    pub kind: ChangeKind,
    pub old_path: u32,
    pub new_path: u32,
    pub old_blob: RawOid,
    pub new_blob: RawOid,
    pub old: Meta,
    pub new: Meta,
}

/// The whole index in memory.
#[derive(Debug, Default, Clone)]
pub struct Index {
    pub tip: Option<RawOid>,
    pub prefix: String,
    /// End offset of each string in `text`.
    pub string_ends: Vec<u32>,
    /// Every string, one after the other (validated once when read).
    pub text: String,
    pub commits: Vec<Commit>,
    pub trailers: Vec<(u32, u32)>,
    pub changes: Vec<Change>,
}

impl Index {
    pub fn str(&self, n: u32) -> Option<&str> {
        if n == NONE {
            return None;
        }
        let i = n as usize;
        let end = *self.string_ends.get(i)? as usize;
        let start = if i == 0 {
            0
        } else {
            self.string_ends[i - 1] as usize
        };
        self.text.get(start..end)
    }

    /// Add a string (deduplicated among those added through `map`).
    pub fn intern(&mut self, s: &str, map: &mut HashMap<String, u32>) -> u32 {
        if let Some(&n) = map.get(s) {
            return n;
        }
        self.text.push_str(s);
        self.string_ends.push(self.text.len() as u32);
        let n = self.string_ends.len() as u32 - 1;
        map.insert(s.to_string(), n);
        n
    }

    /// How many items of each kind: where a tail starts.
    pub fn counts(&self) -> [usize; 4] {
        [
            self.string_ends.len(),
            self.commits.len(),
            self.trailers.len(),
            self.changes.len(),
        ]
    }

    /// The items added after `from` (see [`Index::counts`]) as an index of
    /// their own, with numbers relative to `from` so that it encodes and
    /// decodes like any index: the journal of an update.
    pub fn tail(&self, from: [usize; 4]) -> Index {
        let [ns, nc, nt, nch] = from;
        let text_start = if ns == 0 {
            0
        } else {
            self.string_ends[ns - 1] as usize
        };
        let base = text_start as u32;
        Index {
            tip: self.tip,
            prefix: String::new(),
            string_ends: self.string_ends[ns..].iter().map(|e| e - base).collect(),
            text: self.text[text_start..].to_string(),
            commits: self.commits[nc..]
                .iter()
                .map(|c| Commit {
                    trailer_start: c.trailer_start - nt as u32,
                    ..*c
                })
                .collect(),
            trailers: self.trailers[nt..].to_vec(),
            changes: self.changes[nch..]
                .iter()
                .map(|c| Change {
                    commit: c.commit - nc as u32,
                    ..*c
                })
                .collect(),
        }
    }

    /// Append a tail made by [`Index::tail`] from this index's counts.
    pub fn append(&mut self, tail: Index) {
        let base = self.text.len() as u32;
        let nc = self.commits.len() as u32;
        let nt = self.trailers.len() as u32;
        self.string_ends
            .extend(tail.string_ends.iter().map(|e| e + base));
        self.text.push_str(&tail.text);
        self.commits.extend(tail.commits.iter().map(|c| Commit {
            trailer_start: c.trailer_start + nt,
            ..*c
        }));
        self.trailers.extend(tail.trailers);
        self.changes.extend(tail.changes.iter().map(|c| Change {
            commit: c.commit + nc,
            ..*c
        }));
        self.tip = tail.tip;
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = Vec::with_capacity(
            self.text.len() + self.commits.len() * 80 + self.changes.len() * 80 + 1024,
        );
        w.extend_from_slice(MAGIC);
        w.extend_from_slice(&VERSION.to_le_bytes());
        w.extend_from_slice(&self.tip.unwrap_or(ZERO));
        put_u32(&mut w, self.prefix.len() as u32);
        w.extend_from_slice(self.prefix.as_bytes());
        put_u32(&mut w, self.string_ends.len() as u32);
        put_u32(&mut w, self.commits.len() as u32);
        put_u32(&mut w, self.trailers.len() as u32);
        put_u32(&mut w, self.changes.len() as u32);
        w.extend_from_slice(&(self.text.len() as u64).to_le_bytes());
        for e in &self.string_ends {
            put_u32(&mut w, *e);
        }
        w.extend_from_slice(self.text.as_bytes());
        for c in &self.commits {
            w.extend_from_slice(&c.oid);
            w.extend_from_slice(&c.first_parent);
            put_u32(&mut w, c.parents);
            w.push(c.shallow_root as u8);
            w.extend_from_slice(&c.time.to_le_bytes());
            w.extend_from_slice(&c.offset.to_le_bytes());
            for v in [c.author, c.email, c.summary, c.trailer_start, c.trailer_len] {
                put_u32(&mut w, v);
            }
        }
        for (k, v) in &self.trailers {
            put_u32(&mut w, *k);
            put_u32(&mut w, *v);
        }
        for c in &self.changes {
            put_u32(&mut w, c.commit);
            w.push(c.kind.code());
            put_u32(&mut w, c.old_path);
            put_u32(&mut w, c.new_path);
            w.extend_from_slice(&c.old_blob);
            w.extend_from_slice(&c.new_blob);
            for v in [
                c.old.id,
                c.old.owner,
                c.old.stage,
                c.new.id,
                c.new.owner,
                c.new.stage,
            ] {
                put_u32(&mut w, v);
            }
        }
        w
    }

    /// Decode a cache file; `None` when it is not one of this version or is
    /// damaged (the caller rebuilds).
    pub fn decode(data: &[u8]) -> Option<Index> {
        let mut r = Reader { data, pos: 0 };
        if r.take(8)? != MAGIC || r.u32()? != VERSION {
            return None;
        }
        let tip = r.oid()?;
        let plen = r.u32()? as usize;
        let prefix = std::str::from_utf8(r.take(plen)?).ok()?.to_string();
        let ns = r.u32()? as usize;
        let nc = r.u32()? as usize;
        let nt = r.u32()? as usize;
        let nch = r.u32()? as usize;
        let nb = u64::from_le_bytes(r.take(8)?.try_into().ok()?) as usize;
        // Sanity: the counts must fit in what is left.
        let need = ns
            .checked_mul(4)?
            .checked_add(nb)?
            .checked_add(nc.checked_mul(77)?)?
            .checked_add(nt.checked_mul(8)?)?
            .checked_add(nch.checked_mul(77)?)?;
        if need != data.len() - r.pos {
            return None;
        }
        let mut string_ends = Vec::with_capacity(ns);
        for _ in 0..ns {
            string_ends.push(r.u32()?);
        }
        if string_ends.last().is_some_and(|&e| e as usize != nb)
            || string_ends.windows(2).any(|w| w[0] > w[1])
        {
            return None;
        }
        let text = String::from_utf8(r.take(nb)?.to_vec()).ok()?;
        let mut commits = Vec::with_capacity(nc);
        for _ in 0..nc {
            commits.push(Commit {
                oid: r.oid()?,
                first_parent: r.oid()?,
                parents: r.u32()?,
                shallow_root: r.take(1)?[0] != 0,
                time: i64::from_le_bytes(r.take(8)?.try_into().ok()?),
                offset: i32::from_le_bytes(r.take(4)?.try_into().ok()?),
                author: r.u32()?,
                email: r.u32()?,
                summary: r.u32()?,
                trailer_start: r.u32()?,
                trailer_len: r.u32()?,
            });
        }
        let mut trailers = Vec::with_capacity(nt);
        for _ in 0..nt {
            trailers.push((r.u32()?, r.u32()?));
        }
        let mut changes = Vec::with_capacity(nch);
        for _ in 0..nch {
            let commit = r.u32()?;
            let kind = ChangeKind::from_code(r.take(1)?[0])?;
            let old_path = r.u32()?;
            let new_path = r.u32()?;
            let old_blob = r.oid()?;
            let new_blob = r.oid()?;
            let old = Meta {
                id: r.u32()?,
                owner: r.u32()?,
                stage: r.u32()?,
            };
            let new = Meta {
                id: r.u32()?,
                owner: r.u32()?,
                stage: r.u32()?,
            };
            if commit as usize >= nc {
                return None;
            }
            changes.push(Change {
                commit,
                kind,
                old_path,
                new_path,
                old_blob,
                new_blob,
                old,
                new,
            });
        }
        let index = Index {
            tip: (tip != ZERO).then_some(tip),
            prefix,
            string_ends,
            text,
            commits,
            trailers,
            changes,
        };
        // String numbers need no check here: `str` answers `None` for one
        // out of range.
        Some(index)
    }
}

fn put_u32(w: &mut Vec<u8>, v: u32) {
    w.extend_from_slice(&v.to_le_bytes());
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn oid(&mut self) -> Option<RawOid> {
        self.take(20)?.try_into().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_damage() {
        let mut ix = Index {
            tip: Some([7; 20]),
            prefix: "data".into(),
            ..Default::default()
        };
        let mut m = HashMap::new();
        let a = ix.intern("alice", &mut m);
        let p = ix.intern("customers/us/x.toml", &mut m);
        assert_eq!(ix.intern("alice", &mut m), a);
        ix.commits.push(Commit {
            oid: [1; 20],
            first_parent: ZERO,
            parents: 0,
            shallow_root: false,
            time: 1_700_000_000,
            offset: 480,
            author: a,
            email: a,
            summary: a,
            trailer_start: 0,
            trailer_len: 1,
        });
        ix.trailers.push((a, p));
        ix.changes.push(Change {
            commit: 0,
            kind: ChangeKind::Added,
            old_path: NONE,
            new_path: p,
            old_blob: ZERO,
            new_blob: [2; 20],
            old: Meta::none(),
            new: Meta {
                id: a,
                owner: a,
                stage: NONE,
            },
        });
        let bytes = ix.encode();
        let back = Index::decode(&bytes).unwrap();
        assert_eq!(back.commits, ix.commits);
        assert_eq!(back.changes, ix.changes);
        assert_eq!(back.str(p), Some("customers/us/x.toml"));
        assert_eq!(back.prefix, "data");
        assert!(Index::decode(&bytes[..bytes.len() - 1]).is_none());
        // A tail round-trips and appends back to the same index.
        let mut base = back.clone();
        let from = [1, 0, 0, 0];
        base.string_ends.truncate(1);
        base.text.truncate(5);
        base.commits.clear();
        base.trailers.clear();
        base.changes.clear();
        let tail = Index::decode(&back.tail(from).encode()).unwrap();
        base.append(tail);
        assert_eq!(base.encode(), bytes);
        let mut bad = bytes.clone();
        bad[8] = 9; // version
        assert!(Index::decode(&bad).is_none());
    }
}
