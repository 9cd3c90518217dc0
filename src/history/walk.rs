//! Reading the history: commit by commit, each compared with its first
//! parent by tree entry ids, descending only into subtrees that changed.
//!
//! libgit2's `diff_tree_to_tree` expands unchanged subtrees and costs tens
//! of milliseconds a commit on a large repository; comparing the raw tree
//! objects ourselves costs what reading the changed trees costs.

use super::index::{Change, ChangeKind, Commit, Index, Meta, NONE, RawOid, ZERO};
use git2::{ObjectType, Odb, OdbObject, Oid, Repository};
use std::cmp::Ordering;
use std::collections::HashMap;
use std::rc::Rc;

/// One changed record file between two trees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delta {
    /// Path relative to the data root.
    pub path: String,
    pub old: Option<Oid>,
    pub new: Option<Oid>,
}

/// A tree entry in the raw tree format: `<mode> <name>\0<20-byte id>`.
#[derive(Clone, Copy)]
struct Entry<'a> {
    is_tree: bool,
    is_file: bool,
    name: &'a [u8],
    oid: &'a [u8],
}

/// A tree read once, kept as libgit2 returned it, with where each entry
/// is: a tree compared twice (as a commit's, then as its child's parent's)
/// is read and parsed once.
pub struct ParsedTree<'o> {
    obj: OdbObject<'o>,
    /// (name start, name end, is tree, is regular file) per entry; the
    /// 20-byte id follows the name's NUL.
    spans: Vec<(u32, u32, bool, bool)>,
}

impl<'o> ParsedTree<'o> {
    fn new(obj: OdbObject<'o>) -> ParsedTree<'o> {
        let data = obj.data();
        let mut spans = Vec::with_capacity(data.len() / 48 + 1);
        let mut i = 0;
        while i < data.len() {
            let Some(sp) = memchr(b' ', &data[i..]) else {
                break;
            };
            let mode = &data[i..i + sp];
            let ns = i + sp + 1;
            let Some(nul) = memchr(0, &data[ns..]) else {
                break;
            };
            let ne = ns + nul;
            if ne + 21 > data.len() {
                break;
            }
            spans.push((
                ns as u32,
                ne as u32,
                mode == b"40000" || mode == b"040000",
                mode == b"100644" || mode == b"100755" || mode == b"100664",
            ));
            i = ne + 21;
        }
        ParsedTree { obj, spans }
    }

    fn len(&self) -> usize {
        self.spans.len()
    }

    fn get(&self, k: usize) -> Entry<'_> {
        let (ns, ne, is_tree, is_file) = self.spans[k];
        let (ns, ne) = (ns as usize, ne as usize);
        let data = self.obj.data();
        Entry {
            is_tree,
            is_file,
            name: &data[ns..ne],
            oid: &data[ne + 1..ne + 21],
        }
    }

    fn find(&self, name: &[u8], want_tree: bool) -> Option<Oid> {
        (0..self.len())
            .map(|k| self.get(k))
            .find(|e| e.name == name && e.is_tree == want_tree)
            .and_then(|e| Oid::from_bytes(e.oid).ok())
    }
}

fn memchr(b: u8, s: &[u8]) -> Option<usize> {
    s.iter().position(|&x| x == b)
}

/// git's order of tree entries: names compared as if a tree's name ended in `/`.
fn cmp_entries(a: &Entry, b: &Entry) -> Ordering {
    let n = a.name.len().min(b.name.len());
    match a.name[..n].cmp(&b.name[..n]) {
        Ordering::Equal => {}
        o => return o,
    }
    let end = |e: &Entry| -> u8 {
        if e.name.len() > n {
            e.name[n]
        } else if e.is_tree {
            b'/'
        } else {
            0
        }
    };
    end(a).cmp(&end(b))
}

/// Reads trees and blobs with a small cache of parsed trees.
pub struct Reader<'o> {
    odb: &'o Odb<'o>,
    /// Parsed trees with the tick they were last used at.
    trees: HashMap<Oid, (Rc<ParsedTree<'o>>, u64)>,
    tick: u64,
    /// Where the records are: the path components of `<prefix>/customers`.
    base: Vec<String>,
    pub blob_meta: HashMap<Oid, MetaText>,
}

/// id, owner and stage read from one blob.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetaText {
    pub id: Option<String>,
    pub owner: Option<String>,
    pub stage: Option<String>,
}

/// (name, old side, new side); a side is (id, is tree, is regular file).
type Pending = (
    Vec<u8>,
    Option<(Oid, bool, bool)>,
    Option<(Oid, bool, bool)>,
);

impl<'o> Reader<'o> {
    /// `prefix`: the data root inside the work tree (`""` for the root).
    pub fn new(odb: &'o Odb<'o>, prefix: &str) -> Reader<'o> {
        // Objects are read from the repository's own store; checking each
        // one's SHA-1 again (with collision detection) would double the cost.
        git2::opts::strict_hash_verification(false);
        let mut base: Vec<String> = prefix
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        base.push(crate::repo::CUSTOMERS_DIR.to_string());
        Reader {
            odb,
            trees: HashMap::new(),
            tick: 0,
            base,
            blob_meta: HashMap::new(),
        }
    }

    fn tree(&mut self, oid: Oid) -> Result<Rc<ParsedTree<'o>>, git2::Error> {
        self.tick += 1;
        if let Some((t, used)) = self.trees.get_mut(&oid) {
            *used = self.tick;
            return Ok(t.clone());
        }
        let obj = self.odb.read(oid)?;
        if obj.kind() != ObjectType::Tree {
            return Err(git2::Error::from_str(&format!("{oid} is not a tree")));
        }
        let t = Rc::new(ParsedTree::new(obj));
        if self.trees.len() >= 256 {
            // Keep the most recently used half: a commit's parent's trees
            // were used by the commit before.
            let mut ticks: Vec<u64> = self.trees.values().map(|v| v.1).collect();
            ticks.sort_unstable();
            let cut = ticks[ticks.len() / 2];
            self.trees.retain(|_, v| v.1 > cut);
        }
        self.trees.insert(oid, (t.clone(), self.tick));
        Ok(t)
    }

    /// The `customers/` tree of a commit's root tree, if any.
    pub fn records_tree(&mut self, root: Oid) -> Result<Option<Oid>, git2::Error> {
        let mut cur = root;
        for i in 0..self.base.len() {
            let t = self.tree(cur)?;
            match t.find(self.base[i].as_bytes(), true) {
                Some(o) => cur = o,
                None => return Ok(None),
            }
        }
        Ok(Some(cur))
    }

    /// Record files changed between two `customers/` trees.
    pub fn diff(&mut self, old: Option<Oid>, new: Option<Oid>) -> Result<Vec<Delta>, git2::Error> {
        let mut out = Vec::new();
        let mut path = format!("{}/", crate::repo::CUSTOMERS_DIR);
        self.diff_into(old, new, &mut path, &mut out)?;
        Ok(out)
    }

    fn diff_into(
        &mut self,
        old: Option<Oid>,
        new: Option<Oid>,
        path: &mut String,
        out: &mut Vec<Delta>,
    ) -> Result<(), git2::Error> {
        if old == new {
            return Ok(());
        }
        let od = old.map(|o| self.tree(o)).transpose()?;
        let nd = new.map(|o| self.tree(o)).transpose()?;
        let (on, nn) = (
            od.as_ref().map_or(0, |t| t.len()),
            nd.as_ref().map_or(0, |t| t.len()),
        );
        let side = |e: Entry| {
            Oid::from_bytes(e.oid)
                .ok()
                .map(|o| (o, e.is_tree, e.is_file))
        };
        let mut todo: Vec<Pending> = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < on || j < nn {
            let a = (i < on).then(|| od.as_ref().map(|t| t.get(i))).flatten();
            let b = (j < nn).then(|| nd.as_ref().map(|t| t.get(j))).flatten();
            match (a, b) {
                (Some(a), Some(b)) => match cmp_entries(&a, &b) {
                    Ordering::Equal => {
                        if a.oid != b.oid || a.is_file != b.is_file {
                            todo.push((b.name.to_vec(), side(a), side(b)));
                        }
                        i += 1;
                        j += 1;
                    }
                    Ordering::Less => {
                        todo.push((a.name.to_vec(), side(a), None));
                        i += 1;
                    }
                    Ordering::Greater => {
                        todo.push((b.name.to_vec(), None, side(b)));
                        j += 1;
                    }
                },
                (Some(a), None) => {
                    todo.push((a.name.to_vec(), side(a), None));
                    i += 1;
                }
                (None, Some(b)) => {
                    todo.push((b.name.to_vec(), None, side(b)));
                    j += 1;
                }
                (None, None) => break,
            }
        }
        drop(od);
        drop(nd);
        let mut files = Vec::new();
        for (name, o, n) in todo {
            let Ok(name) = String::from_utf8(name) else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            let tree_of = |s: Option<(Oid, bool, bool)>| s.filter(|x| x.1).map(|x| x.0);
            let file_of = |s: Option<(Oid, bool, bool)>| s.filter(|x| x.2).map(|x| x.0);
            let (ot, nt) = (tree_of(o), tree_of(n));
            if ot.is_some() || nt.is_some() {
                let len = path.len();
                path.push_str(&name);
                path.push('/');
                self.diff_into(ot, nt, path, out)?;
                path.truncate(len);
            }
            let (of, nf) = (file_of(o), file_of(n));
            if (of.is_some() || nf.is_some()) && of != nf && name.ends_with(".toml") {
                files.push(Delta {
                    path: format!("{path}{name}"),
                    old: of,
                    new: nf,
                });
            }
        }
        out.extend(files);
        Ok(())
    }

    /// The bytes of a blob.
    pub fn blob(&self, oid: Oid) -> Result<Vec<u8>, git2::Error> {
        Ok(self.odb.read(oid)?.data().to_vec())
    }

    /// id, owner and stage of a blob (cached by blob id).
    pub fn meta(&mut self, oid: Oid) -> MetaText {
        if let Some(m) = self.blob_meta.get(&oid) {
            return m.clone();
        }
        let m = match self.odb.read(oid) {
            Ok(obj) => scan_meta(obj.data()),
            Err(_) => MetaText::default(),
        };
        self.blob_meta.insert(oid, m.clone());
        m
    }

    /// The blob at `path` (relative to the data root, under `customers/`)
    /// in a `customers/` tree.
    pub fn blob_at(
        &mut self,
        records: Option<Oid>,
        path: &str,
    ) -> Result<Option<Oid>, git2::Error> {
        let Some(mut cur) = records else {
            return Ok(None);
        };
        let rest = path
            .strip_prefix(crate::repo::CUSTOMERS_DIR)
            .and_then(|r| r.strip_prefix('/'))
            .unwrap_or(path);
        let parts: Vec<&str> = rest.split('/').collect();
        for (k, part) in parts.iter().enumerate() {
            let t = self.tree(cur)?;
            let last = k + 1 == parts.len();
            match t.find(part.as_bytes(), !last) {
                Some(o) if last => return Ok(Some(o)),
                Some(o) => cur = o,
                None => return Ok(None),
            }
        }
        Ok(None)
    }
}

/// id, owner and stage from a record's text, by a quick scan of its
/// top-level lines; anything unusual falls back to a full TOML parse.
pub fn scan_meta(bytes: &[u8]) -> MetaText {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut m = MetaText::default();
    let mut unusual = false;
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with('[') {
            break;
        }
        let key = if t.starts_with("id") {
            "id"
        } else if t.starts_with("owner") {
            "owner"
        } else if t.starts_with("stage") {
            "stage"
        } else {
            if t.starts_with('"') || t.starts_with('\'') {
                unusual = true; // a quoted key may be one of ours
            }
            continue;
        };
        let rest = t[key.len()..].trim_start();
        let Some(rest) = rest.strip_prefix('=') else {
            if rest.starts_with('.') {
                unusual = true;
            }
            continue; // another key that starts alike (`identity`, `owners`)
        };
        let rest = rest.trim_start();
        let value = rest.strip_prefix('"').and_then(|r| {
            let end = r.find('"')?;
            let v = &r[..end];
            let after = r[end + 1..].trim_start();
            (!v.contains('\\') && (after.is_empty() || after.starts_with('#'))).then_some(v)
        });
        match value {
            Some(v) => {
                let slot = match key {
                    "id" => &mut m.id,
                    "owner" => &mut m.owner,
                    _ => &mut m.stage,
                };
                *slot = Some(v.to_string());
            }
            None => unusual = true,
        }
    }
    if unusual || m.id.is_none() {
        let Ok(doc) = toml::de::DeTable::parse(text) else {
            return m;
        };
        let t = doc.get_ref();
        let s = |k: &str| {
            t.get(k)
                .and_then(|v| v.get_ref().as_str())
                .map(str::to_string)
        };
        return MetaText {
            id: s("id"),
            owner: s("owner"),
            stage: s("stage"),
        };
    }
    m
}

/// What the walk needs to know about the repository and the cache.
pub struct WalkInput<'a> {
    pub repo: &'a Repository,
    pub prefix: &'a str,
    /// Commits to read, oldest first (parents before children).
    pub commits: Vec<Oid>,
}

/// Read `commits` and append them (and their changes) to `index`.
pub fn walk(input: WalkInput, index: &mut Index) -> Result<(), git2::Error> {
    let repo = input.repo;
    let odb = repo.odb()?;
    let mut reader = Reader::new(&odb, input.prefix);
    let shallow_roots = shallow_roots(repo);
    let mut new_strings: HashMap<String, u32> = HashMap::new();
    for oid in input.commits {
        let commit = repo.find_commit(oid)?;
        let parents: Vec<Oid> = commit.parent_ids().collect();
        let records = reader.records_tree(commit.tree_id())?;
        let first = match parents.first() {
            Some(p) => {
                let pc = repo.find_commit(*p)?;
                reader.records_tree(pc.tree_id())?
            }
            None => None,
        };
        let mut deltas = reader.diff(first, records)?;
        if parents.len() > 1 {
            // Keep only what the merge itself changed: a path whose result
            // matches another parent came with that parent's own commits.
            let mut others = Vec::new();
            for p in &parents[1..] {
                let pc = repo.find_commit(*p)?;
                others.push(reader.records_tree(pc.tree_id())?);
            }
            let mut kept = Vec::new();
            for d in deltas {
                let mut from_other = false;
                for o in &others {
                    if reader.blob_at(*o, &d.path)? == d.new {
                        from_other = true;
                        break;
                    }
                }
                if !from_other {
                    kept.push(d);
                }
            }
            deltas = kept;
        }
        let time = commit.time();
        let author = commit.author();
        let message = commit.message().unwrap_or("");
        let summary = String::from_utf8_lossy(commit.summary_bytes().unwrap_or(b"")).into_owned();
        let trailer_start = index.trailers.len() as u32;
        if let Ok(tr) = git2::message_trailers_strs(message) {
            let pairs: Vec<(String, String)> = tr
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            for (k, v) in pairs {
                let k = index.intern(&k, &mut new_strings);
                let v = index.intern(&v, &mut new_strings);
                index.trailers.push((k, v));
            }
        }
        let c = Commit {
            oid: raw(oid),
            first_parent: parents.first().map(|p| raw(*p)).unwrap_or(ZERO),
            parents: parents.len() as u32,
            shallow_root: parents.is_empty() && shallow_roots.contains(&oid),
            time: time.seconds(),
            offset: time.offset_minutes(),
            author: index.intern(author.name().unwrap_or(""), &mut new_strings),
            email: index.intern(author.email().unwrap_or(""), &mut new_strings),
            summary: index.intern(&summary, &mut new_strings),
            trailer_start,
            trailer_len: index.trailers.len() as u32 - trailer_start,
        };
        let ci = index.commits.len() as u32;
        index.commits.push(c);
        record_changes(ci, deltas, &mut reader, index, &mut new_strings);
    }
    Ok(())
}

fn record_changes(
    ci: u32,
    deltas: Vec<Delta>,
    reader: &mut Reader,
    index: &mut Index,
    strings: &mut HashMap<String, u32>,
) {
    struct Side {
        path: String,
        blob: Oid,
        meta: MetaText,
    }
    let mut changes: Vec<(Option<Side>, Option<Side>)> = deltas
        .into_iter()
        .map(|d| {
            let o = d.old.map(|b| Side {
                path: d.path.clone(),
                blob: b,
                meta: reader.meta(b),
            });
            let n = d.new.map(|b| Side {
                path: d.path.clone(),
                blob: b,
                meta: reader.meta(b),
            });
            (o, n)
        })
        .collect();
    // A delete and an add of the same customer id in one commit is a rename
    // (or a move): join them.
    let mut adds: HashMap<String, Vec<usize>> = HashMap::new();
    for (k, (o, n)) in changes.iter().enumerate() {
        if o.is_none()
            && let Some(id) = n.as_ref().and_then(|n| n.meta.id.clone())
        {
            adds.entry(id).or_default().push(k);
        }
    }
    for k in 0..changes.len() {
        if changes[k].1.is_some() {
            continue;
        }
        let Some(id) = changes[k].0.as_ref().and_then(|o| o.meta.id.clone()) else {
            continue;
        };
        if let Some(list) = adds.get_mut(&id)
            && let Some(a) = list.pop()
        {
            let added = changes[a].1.take();
            changes[k].1 = added;
        }
    }
    for (o, n) in changes {
        if o.is_none() && n.is_none() {
            continue;
        }
        let kind = match (&o, &n) {
            (None, Some(_)) => ChangeKind::Added,
            (Some(_), None) => ChangeKind::Deleted,
            (Some(a), Some(b)) if a.path != b.path => ChangeKind::Renamed,
            _ => ChangeKind::Modified,
        };
        let mut meta = |s: &Option<Side>| match s {
            None => Meta::none(),
            Some(s) => Meta {
                id: opt(index, &s.meta.id, strings),
                owner: opt(index, &s.meta.owner, strings),
                stage: opt(index, &s.meta.stage, strings),
            },
        };
        let old = meta(&o);
        let new = meta(&n);
        let mut path = |s: &Option<Side>| match s {
            None => NONE,
            Some(s) => index.intern(&s.path, strings),
        };
        let old_path = path(&o);
        let new_path = path(&n);
        index.changes.push(Change {
            commit: ci,
            kind,
            old_path,
            new_path,
            old_blob: o.as_ref().map(|s| raw(s.blob)).unwrap_or(ZERO),
            new_blob: n.as_ref().map(|s| raw(s.blob)).unwrap_or(ZERO),
            old,
            new,
        });
    }
}

fn opt(index: &mut Index, s: &Option<String>, strings: &mut HashMap<String, u32>) -> u32 {
    match s {
        Some(s) => index.intern(s, strings),
        None => NONE,
    }
}

pub fn raw(oid: Oid) -> RawOid {
    let mut r = ZERO;
    let b = oid.as_bytes();
    let n = b.len().min(20);
    r[..n].copy_from_slice(&b[..n]);
    r
}

pub fn raw_hex(r: &RawOid) -> String {
    r.iter().map(|b| format!("{b:02x}")).collect()
}

/// The commits git lists in `.git/shallow`: where a shallow history stops.
pub fn shallow_roots(repo: &Repository) -> Vec<Oid> {
    std::fs::read_to_string(repo.path().join("shallow"))
        .map(|s| {
            s.lines()
                .filter_map(|l| Oid::from_str(l.trim()).ok())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_meta_quickly_and_falls_back() {
        let m = scan_meta(b"id = \"C1\"\nidentity = \"x\"\nowner = \"alice\" # who\nstage = \"signed\"\n\n[[contacts]]\nowner = \"no\"\n");
        assert_eq!(m.id.as_deref(), Some("C1"));
        assert_eq!(m.owner.as_deref(), Some("alice"));
        assert_eq!(m.stage.as_deref(), Some("signed"));
        let m = scan_meta(b"id = 'C2'\nowner = \"b\\u0061b\"\n");
        assert_eq!(m.id.as_deref(), Some("C2"));
        assert_eq!(m.owner.as_deref(), Some("bab"));
        let m = scan_meta(b"\xEF\xBB\xBFid = \"C3\"\n");
        assert_eq!(m.id.as_deref(), Some("C3"));
        assert_eq!(m.owner, None);
    }

    #[test]
    fn orders_trees_like_git() {
        let a = Entry {
            is_tree: true,
            is_file: false,
            name: b"a",
            oid: &[0; 20],
        };
        let b = Entry {
            is_tree: false,
            is_file: true,
            name: b"a.toml",
            oid: &[0; 20],
        };
        // "a/" > "a." since '/' (0x2f) > '.' (0x2e)
        assert_eq!(cmp_entries(&a, &b), Ordering::Greater);
    }
}
