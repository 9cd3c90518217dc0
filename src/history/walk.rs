//! Reading the history: commit by commit, each compared with its first
//! parent by tree entry ids, descending only into subtrees that changed.
//!
//! libgit2's `diff_tree_to_tree` expands unchanged subtrees and costs tens
//! of milliseconds a commit on a large repository; comparing the raw tree
//! objects ourselves costs what reading the changed trees costs.

use super::index::{Change, ChangeKind, Commit, Index, Meta, NONE, RawOid, ZERO};
use super::pack::{Data, Lru, Packs, Store};
use git2::{ObjectType, Oid, Repository};
use std::cmp::Ordering;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

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

/// Where one entry's name is; its 20-byte id follows the name's NUL, and
/// the next entry starts after that.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    name_start: u32,
    name_end: u32,
    is_tree: bool,
    is_file: bool,
}

impl Span {
    fn end(&self) -> usize {
        self.name_end as usize + 21
    }
    fn shifted(self, by: i64) -> Span {
        Span {
            name_start: (self.name_start as i64 + by) as u32,
            name_end: (self.name_end as i64 + by) as u32,
            ..self
        }
    }
}

/// A tree read once, with where each entry is: a tree compared twice (as
/// a commit's, then as its child's parent's) is read and parsed once.
pub struct ParsedTree {
    data: Data,
    spans: Vec<Span>,
}

/// The entry at `i`, if it is whole.
fn parse_entry(data: &[u8], i: usize) -> Option<Span> {
    let sp = memchr(b' ', data.get(i..)?)?;
    let mode = &data[i..i + sp];
    let ns = i + sp + 1;
    let ne = ns + memchr(0, data.get(ns..)?)?;
    if ne + 21 > data.len() || ne + 21 > u32::MAX as usize {
        return None;
    }
    Some(Span {
        name_start: ns as u32,
        name_end: ne as u32,
        is_tree: mode == b"40000" || mode == b"040000",
        is_file: mode == b"100644" || mode == b"100755" || mode == b"100664",
    })
}

/// How many leading bytes `a` and `b` share.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    for step in [1024, 32] {
        while i + step <= n && a[i..i + step] == b[i..i + step] {
            i += step;
        }
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

/// How many trailing bytes `a` and `b` share, at most `max`.
fn common_suffix(a: &[u8], b: &[u8], max: usize) -> usize {
    let n = a.len().min(b.len()).min(max);
    let (la, lb) = (a.len(), b.len());
    let mut i = 0;
    for step in [1024, 32] {
        while i + step <= n && a[la - i - step..la - i] == b[lb - i - step..lb - i] {
            i += step;
        }
    }
    while i < n && a[la - i - 1] == b[lb - i - 1] {
        i += 1;
    }
    i
}

impl ParsedTree {
    fn new(data: Data) -> ParsedTree {
        let mut spans = Vec::with_capacity(data.len() / 48 + 1);
        let mut i = 0;
        while let Some(sp) = parse_entry(&data, i) {
            i = sp.end();
            spans.push(sp);
        }
        ParsedTree { data, spans }
    }

    /// Parse `data`, a tree that differs from this one in a few entries:
    /// the entries of the bytes both share at the start and at the end are
    /// taken from this one, and only the middle is parsed.
    fn parse_like(&self, data: Data) -> ParsedTree {
        let (a, b) = (&self.data[..], &data[..]);
        let pre = common_prefix(a, b);
        let i0 = self.spans.partition_point(|s| s.end() <= pre);
        let mut spans = Vec::with_capacity(self.spans.len() + 4);
        spans.extend_from_slice(&self.spans[..i0]);
        let mut pos = self.start(i0);
        let suf = common_suffix(a, b, a.len().min(b.len()) - pre);
        let tail_old = a.len() - suf;
        let shift = b.len() as i64 - a.len() as i64;
        let mut k = self.spans.partition_point(|s| s.end() <= tail_old);
        loop {
            // Once an entry starts where one of this tree's does, within
            // the shared end, the rest is the same (parsing is
            // deterministic): take it, shifted.
            let pos_old = pos as i64 - shift;
            if pos_old >= tail_old as i64 {
                while k < self.spans.len() && (self.start(k) as i64) < pos_old {
                    k += 1;
                }
                if k == self.spans.len() && pos == b.len() {
                    break;
                }
                if k < self.spans.len() && self.start(k) as i64 == pos_old {
                    spans.extend(self.spans[k..].iter().map(|s| s.shifted(shift)));
                    break;
                }
            }
            match parse_entry(b, pos) {
                Some(sp) => {
                    pos = sp.end();
                    spans.push(sp);
                }
                None => break,
            }
        }
        ParsedTree { data, spans }
    }

    fn len(&self) -> usize {
        self.spans.len()
    }

    /// Where entry `k` starts.
    fn start(&self, k: usize) -> usize {
        if k == 0 { 0 } else { self.spans[k - 1].end() }
    }

    fn get(&self, k: usize) -> Entry<'_> {
        let sp = self.spans[k];
        let (ns, ne) = (sp.name_start as usize, sp.name_end as usize);
        let data = &self.data[..];
        Entry {
            is_tree: sp.is_tree,
            is_file: sp.is_file,
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

/// The entries of `old` and `new` that may differ: `(from, old_to, new_to)`,
/// entries before `from` and from `old_to`/`new_to` on being the same bytes
/// in both.
fn middle(old: &ParsedTree, new: &ParsedTree) -> (usize, usize, usize) {
    let (a, b) = (&old.data[..], &new.data[..]);
    let pre = common_prefix(a, b);
    let from = old
        .spans
        .partition_point(|s| s.end() <= pre)
        .min(new.spans.partition_point(|s| s.end() <= pre));
    let suf = common_suffix(a, b, a.len().min(b.len()) - pre);
    let (ta, tb) = (a.len() - suf, b.len() - suf);
    let mut i = old.spans.partition_point(|s| s.end() <= ta).max(from);
    let mut j = new.spans.partition_point(|s| s.end() <= tb).max(from);
    // The first entries starting at the same distance from the end, within
    // the shared end, begin the same run of entries.
    while i < old.len() && j < new.len() {
        let (ri, rj) = (
            old.start(i) as i64 - ta as i64,
            new.start(j) as i64 - tb as i64,
        );
        if ri == rj && ri >= 0 {
            break;
        }
        if ri < rj {
            i += 1;
        } else {
            j += 1;
        }
    }
    if i == old.len() || j == new.len() {
        (i, j) = (old.len(), new.len());
    }
    (from, i, j)
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

/// Bytes of parsed trees kept (their bytes are shared with the store's
/// cache): every folder tree of the latest commits, so that a commit's
/// parent's trees are at hand.
const TREE_CACHE: usize = 48 << 20;
/// Bytes of objects rebuilt from delta chains kept by a reader of commits.
pub const TREE_STORE: usize = 96 << 20;
/// The same for a reader of blobs (their chains are short).
pub const BLOB_STORE: usize = 32 << 20;

/// Reads trees and blobs with a cache of parsed trees.
pub struct Reader<'o> {
    store: Store<'o>,
    /// Parsed trees.
    trees: Lru<Oid, Rc<ParsedTree>>,
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
    pub fn new(store: Store<'o>, prefix: &str) -> Reader<'o> {
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
            store,
            trees: Lru::new(TREE_CACHE),
            base,
            blob_meta: HashMap::new(),
        }
    }

    /// A reader of `repo`'s objects, with a cache of `budget` bytes of
    /// rebuilt objects.
    pub fn open(
        odb: &'o git2::Odb<'o>,
        packs: Arc<Packs>,
        prefix: &str,
        budget: usize,
    ) -> Reader<'o> {
        Reader::new(Store::new(packs, odb, budget), prefix)
    }

    fn tree(&mut self, oid: Oid) -> Result<Rc<ParsedTree>, git2::Error> {
        self.tree_like(oid, None)
    }

    /// A tree, parsed with the help of `like` (a tree it likely shares
    /// most entries with) when it is not cached.
    fn tree_like(
        &mut self,
        oid: Oid,
        like: Option<&ParsedTree>,
    ) -> Result<Rc<ParsedTree>, git2::Error> {
        if let Some(t) = self.trees.get(&oid) {
            return Ok(t);
        }
        let (kind, data) = self.store.read(oid)?;
        if kind != ObjectType::Tree {
            return Err(git2::Error::from_str(&format!("{oid} is not a tree")));
        }
        let t = Rc::new(match like {
            Some(l) => l.parse_like(data),
            None => ParsedTree::new(data),
        });
        let weight = t.data.len() + t.spans.len() * std::mem::size_of::<Span>() + 64;
        self.trees.put(oid, t.clone(), weight);
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
        let nd = new.map(|o| self.tree_like(o, od.as_deref())).transpose()?;
        // Only the entries between what both trees share at the start and
        // at the end can differ.
        let (from, on, nn) = match (&od, &nd) {
            (Some(o), Some(n)) => middle(o, n),
            _ => (
                0,
                od.as_ref().map_or(0, |t| t.len()),
                nd.as_ref().map_or(0, |t| t.len()),
            ),
        };
        let side = |e: Entry| {
            Oid::from_bytes(e.oid)
                .ok()
                .map(|o| (o, e.is_tree, e.is_file))
        };
        let mut todo: Vec<Pending> = Vec::new();
        let (mut i, mut j) = (from, from);
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
            if !crate::repo::is_walked_name(&name) {
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
            if (of.is_some() || nf.is_some()) && of != nf && crate::repo::is_record_name(&name) {
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
    pub fn blob(&mut self, oid: Oid) -> Result<Data, git2::Error> {
        Ok(self.store.read(oid)?.1)
    }

    /// id, owner and stage of a blob (cached by blob id).
    pub fn meta(&mut self, oid: Oid) -> MetaText {
        if let Some(m) = self.blob_meta.get(&oid) {
            return m.clone();
        }
        let m = match self.store.read(oid) {
            Ok((_, data)) => scan_meta(&data),
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
    pub split: Split,
}

/// How the walk shares its work between threads.
#[derive(Debug, Clone, Copy)]
pub struct Split {
    /// Threads to use.
    pub threads: usize,
    /// Below this many commits, the calling thread reads them alone.
    pub min: usize,
    /// The smallest run of commits one thread reads at a time (each run
    /// starts with cold caches).
    pub piece: usize,
}

impl Split {
    /// One thread a core; parallel from 2,000 commits, in runs of at
    /// least 5,000.
    pub fn auto() -> Split {
        Split {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            min: 2_000,
            piece: 5_000,
        }
    }
}

/// What a thread made of one run of commits (`None`: not read).
type RunResult = Option<Result<Vec<CommitOut>, git2::Error>>;

/// What one commit told, before its strings are numbered in the index.
struct CommitOut {
    oid: Oid,
    first_parent: Option<Oid>,
    parents: u32,
    time: i64,
    offset: i32,
    author: String,
    email: String,
    summary: String,
    trailers: Vec<(String, String)>,
    /// Changed record files, with id, owner and stage of the new side.
    deltas: Vec<(Delta, Option<MetaText>)>,
}

/// Read `commits` and append them (and their changes) to `index`.
///
/// The commits are read in runs, on as many threads as there are cores,
/// each thread with its own repository handle and caches (each commit is
/// compared with its parents on its own); then, in commit order, the old
/// side of each change gets the id, owner and stage the new side of an
/// earlier change found in the same blob, a delete and an add of the same
/// id are joined, and the strings are numbered.
pub fn walk(input: WalkInput, index: &mut Index) -> Result<(), git2::Error> {
    let repo = input.repo;
    let packs = Packs::open(repo);
    let commits = input.commits;
    let Split {
        threads,
        min,
        piece,
    } = input.split;
    let outs: Vec<CommitOut> = if threads < 2 || commits.len() < min.max(2) {
        read_commits(repo, packs.clone(), input.prefix, &commits)?
    } else {
        let pieces = (commits.len() / piece.max(1)).clamp(threads, threads * 4);
        let size = commits.len().div_ceil(pieces);
        let runs: Vec<&[Oid]> = commits.chunks(size).collect();
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results: Vec<std::sync::Mutex<RunResult>> =
            runs.iter().map(|_| std::sync::Mutex::new(None)).collect();
        let path = repo.path().to_path_buf();
        let prefix = input.prefix;
        std::thread::scope(|scope| {
            for _ in 0..threads.min(runs.len()) {
                scope.spawn(|| {
                    let repo = match Repository::open(&path) {
                        Ok(r) => r,
                        Err(e) => {
                            let k = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            if let Some(slot) = results.get(k) {
                                *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(Err(e));
                            }
                            return;
                        }
                    };
                    loop {
                        let k = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let Some(run) = runs.get(k) else { break };
                        let r = read_commits(&repo, packs.clone(), prefix, run);
                        *results[k].lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
                    }
                });
            }
        });
        let mut all = Vec::with_capacity(commits.len());
        for r in results {
            match r.into_inner().unwrap_or_else(|p| p.into_inner()) {
                Some(Ok(v)) => all.extend(v),
                Some(Err(e)) => return Err(e),
                // A thread that could not open the repository left runs
                // unread: read them here.
                None => {}
            }
        }
        if all.len() != commits.len() {
            all = read_commits(repo, packs.clone(), input.prefix, &commits)?;
        }
        all
    };
    let shallow_roots = shallow_roots(repo);
    let odb = repo.odb()?;
    let mut reader = Reader::open(&odb, packs, input.prefix, BLOB_STORE);
    let mut strings: HashMap<String, u32> = HashMap::new();
    // id, owner, stage of each blob seen on a new side.
    let mut metas: HashMap<Oid, Meta> = HashMap::new();
    for c in outs {
        let trailer_start = index.trailers.len() as u32;
        for (k, v) in &c.trailers {
            let k = index.intern(k, &mut strings);
            let v = index.intern(v, &mut strings);
            index.trailers.push((k, v));
        }
        let commit = Commit {
            oid: raw(c.oid),
            first_parent: c.first_parent.map(raw).unwrap_or(ZERO),
            parents: c.parents,
            shallow_root: c.parents == 0 && shallow_roots.contains(&c.oid),
            time: c.time,
            offset: c.offset,
            author: index.intern(&c.author, &mut strings),
            email: index.intern(&c.email, &mut strings),
            summary: index.intern(&c.summary, &mut strings),
            trailer_start,
            trailer_len: index.trailers.len() as u32 - trailer_start,
        };
        let ci = index.commits.len() as u32;
        index.commits.push(commit);
        record_changes(ci, c.deltas, &mut reader, &mut metas, index, &mut strings);
    }
    Ok(())
}

/// Read a run of commits: for each, its record files changed, with the id,
/// owner and stage of the new side.
fn read_commits(
    repo: &Repository,
    packs: Arc<Packs>,
    prefix: &str,
    commits: &[Oid],
) -> Result<Vec<CommitOut>, git2::Error> {
    let odb = repo.odb()?;
    let mut reader = Reader::open(&odb, packs, prefix, TREE_STORE);
    // The `customers/` tree of each commit read: the next ones' parents.
    let mut records_of: HashMap<Oid, Option<Oid>> = HashMap::new();
    let records = |reader: &mut Reader,
                   known: &mut HashMap<Oid, Option<Oid>>,
                   oid: Oid|
     -> Result<Option<Oid>, git2::Error> {
        if let Some(r) = known.get(&oid) {
            return Ok(*r);
        }
        let r = reader.records_tree(repo.find_commit(oid)?.tree_id())?;
        known.insert(oid, r);
        Ok(r)
    };
    let mut out = Vec::with_capacity(commits.len());
    for &oid in commits {
        let commit = repo.find_commit(oid)?;
        let parents: Vec<Oid> = commit.parent_ids().collect();
        let first = match parents.first() {
            Some(p) => records(&mut reader, &mut records_of, *p)?,
            None => None,
        };
        let tree = reader.records_tree(commit.tree_id())?;
        records_of.insert(oid, tree);
        let mut deltas = reader.diff(first, tree)?;
        if parents.len() > 1 {
            // Keep only what the merge itself changed: a path whose result
            // matches another parent came with that parent's own commits.
            let mut others = Vec::new();
            for p in &parents[1..] {
                others.push(records(&mut reader, &mut records_of, *p)?);
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
        let trailers = git2::message_trailers_strs(message)
            .map(|tr| {
                tr.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let deltas = deltas
            .into_iter()
            .map(|d| {
                let m = d.new.map(|b| reader.meta(b));
                (d, m)
            })
            .collect();
        out.push(CommitOut {
            oid,
            first_parent: parents.first().copied(),
            parents: parents.len() as u32,
            time: time.seconds(),
            offset: time.offset_minutes(),
            author: author.name().unwrap_or("").to_string(),
            email: author.email().unwrap_or("").to_string(),
            summary: String::from_utf8_lossy(commit.summary_bytes().unwrap_or(b"")).into_owned(),
            trailers,
            deltas,
        });
    }
    Ok(out)
}

fn record_changes(
    ci: u32,
    deltas: Vec<(Delta, Option<MetaText>)>,
    reader: &mut Reader,
    metas: &mut HashMap<Oid, Meta>,
    index: &mut Index,
    strings: &mut HashMap<String, u32>,
) {
    struct Side {
        path: String,
        blob: Oid,
        meta: Meta,
    }
    let mut changes: Vec<(Option<Side>, Option<Side>)> = Vec::with_capacity(deltas.len());
    for (d, new_meta) in deltas {
        let o = d.old.map(|b| {
            let meta = match metas.get(&b) {
                Some(m) => *m,
                None => {
                    let m = intern_meta(index, &reader.meta(b), strings);
                    metas.insert(b, m);
                    m
                }
            };
            Side {
                path: d.path.clone(),
                blob: b,
                meta,
            }
        });
        let n = d.new.map(|b| {
            let meta = intern_meta(index, &new_meta.unwrap_or_default(), strings);
            metas.insert(b, meta);
            Side {
                path: d.path,
                blob: b,
                meta,
            }
        });
        changes.push((o, n));
    }
    // A delete and an add of the same customer id in one commit is a rename
    // (or a move): join them.
    let mut adds: HashMap<u32, Vec<usize>> = HashMap::new();
    for (k, (o, n)) in changes.iter().enumerate() {
        if o.is_none()
            && let Some(n) = n
            && n.meta.id != NONE
        {
            adds.entry(n.meta.id).or_default().push(k);
        }
    }
    for k in 0..changes.len() {
        if changes[k].1.is_some() {
            continue;
        }
        let Some(id) = changes[k].0.as_ref().map(|o| o.meta.id) else {
            continue;
        };
        if id == NONE {
            continue;
        }
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
            old: o.as_ref().map_or(Meta::none(), |s| s.meta),
            new: n.as_ref().map_or(Meta::none(), |s| s.meta),
        });
    }
}

fn intern_meta(index: &mut Index, m: &MetaText, strings: &mut HashMap<String, u32>) -> Meta {
    Meta {
        id: opt(index, &m.id, strings),
        owner: opt(index, &m.owner, strings),
        stage: opt(index, &m.stage, strings),
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

#[cfg(test)]
mod walk_tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A raw tree from (mode, name, id byte) entries, in the order given.
    fn raw_tree(entries: &[(&str, &[u8], u8)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (mode, name, id) in entries {
            out.extend_from_slice(mode.as_bytes());
            out.push(b' ');
            out.extend_from_slice(name);
            out.push(0);
            // Ids full of the bytes that delimit entries.
            out.extend_from_slice(&[
                *id, b' ', 0, b'1', b'0', 0, 0, b' ', *id, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, *id,
            ]);
        }
        out
    }

    fn same_entries(a: &ParsedTree, k: usize, b: &ParsedTree, l: usize) -> bool {
        let (x, y) = (a.get(k), b.get(l));
        x.name == y.name && x.oid == y.oid && x.is_tree == y.is_tree && x.is_file == y.is_file
    }

    #[test]
    fn partial_parse_matches_a_full_one() {
        let names: Vec<Vec<u8>> = (0..40)
            .map(|i| match i % 5 {
                0 => format!("a{i:02}.toml").into_bytes(),
                1 => format!("100644 b{i:02}.toml").into_bytes(),
                2 => format!("c{i:02} \0").into_bytes()[..4].to_vec(),
                3 => format!("d{i:02}").into_bytes(),
                _ => format!("e{i:02} x.toml").into_bytes(),
            })
            .collect();
        let entries = |skip: Option<usize>, change: Option<usize>, add: bool| {
            let mut v: Vec<(&str, &[u8], u8)> = Vec::new();
            for (i, n) in names.iter().enumerate() {
                if Some(i) == skip {
                    continue;
                }
                let mode = if i % 5 == 3 { "40000" } else { "100644" };
                let id = if Some(i) == change { 200 } else { i as u8 };
                v.push((mode, n.as_slice(), id));
                if add && i == 17 {
                    v.push(("100644", b"zz-added.toml", 99));
                }
            }
            raw_tree(&v)
        };
        let base = ParsedTree::new(Arc::new(entries(None, None, false)));
        assert_eq!(base.len(), 40);
        let mut cases = Vec::new();
        for k in [0, 1, 2, 17, 20, 38, 39] {
            cases.push(entries(Some(k), None, false));
            cases.push(entries(None, Some(k), false));
            cases.push(entries(Some(k), Some((k + 7) % 40), true));
        }
        cases.push(entries(None, None, true));
        cases.push(Vec::new());
        cases.push(entries(None, None, false));
        for bytes in cases {
            let full = ParsedTree::new(Arc::new(bytes.clone()));
            let like = base.parse_like(Arc::new(bytes.clone()));
            assert_eq!(full.spans, like.spans);
            // Every entry outside the middle is the same in both trees.
            let (from, i, j) = middle(&base, &full);
            assert!(from <= i && from <= j);
            assert_eq!(base.len() - i, full.len() - j);
            for k in 0..from {
                assert!(same_entries(&base, k, &full, k));
            }
            for d in 0..base.len() - i {
                assert!(same_entries(&base, i + d, &full, j + d));
            }
            // And the middle holds every difference.
            let changed = |t: &ParsedTree, k: usize, other: &ParsedTree| {
                !(0..other.len()).any(|l| same_entries(t, k, other, l))
            };
            for k in 0..base.len() {
                if changed(&base, k, &full) {
                    assert!(k >= from && k < i, "{k} {from} {i}");
                }
            }
        }
    }

    fn sig(t: i64) -> git2::Signature<'static> {
        git2::Signature::new("Ann", "ann@example.com", &git2::Time::new(t, 0)).unwrap()
    }

    /// A tree of `files` (paths with `/`), built folder by folder.
    fn tree_of(repo: &Repository, files: &BTreeMap<String, String>) -> Oid {
        fn build(repo: &Repository, files: &[(&str, &str)]) -> Oid {
            let mut tb = repo.treebuilder(None).unwrap();
            let mut k = 0;
            while k < files.len() {
                let (path, text) = files[k];
                match path.split_once('/') {
                    None => {
                        let b = repo.blob(text.as_bytes()).unwrap();
                        tb.insert(path, b, 0o100644).unwrap();
                        k += 1;
                    }
                    Some((dir, _)) => {
                        let sub: Vec<(&str, &str)> = files[k..]
                            .iter()
                            .take_while(|(p, _)| p.split_once('/').map(|x| x.0) == Some(dir))
                            .map(|(p, t)| (&p[dir.len() + 1..], *t))
                            .collect();
                        k += sub.len();
                        let t = build(repo, &sub);
                        tb.insert(dir, t, 0o040000).unwrap();
                    }
                }
            }
            tb.write().unwrap()
        }
        let list: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        build(repo, &list)
    }

    fn record(id: usize, owner: &str, stage: &str, n: usize) -> String {
        let mut s = format!(
            "id = \"C{id}\"\nname = \"Firm {id}\"\nowner = \"{owner}\"\nstage = \"{stage}\"\n"
        );
        for k in 0..n {
            s.push_str(&format!(
                "\n[[followups]]\ndate = 2026-01-{:02}\nnote = \"call {k}\"\n",
                k % 28 + 1
            ));
        }
        s
    }

    /// A history of 40 customers in 3 folders over 160 commits: edits,
    /// renames (a delete and an add), deletions, and a merged branch.
    fn history() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let mut files: BTreeMap<String, String> = BTreeMap::new();
        let path = |id: usize, name: usize| {
            format!(
                "customers/{}/firm-{name}-c{id}.toml",
                ["de", "fr", "jp"][id % 3]
            )
        };
        let mut names: Vec<usize> = (0..40).collect();
        let mut touches = vec![0; 40];
        let owners = ["ann", "bob", "cho"];
        for id in 0..40 {
            files.insert(path(id, id), record(id, "ann", "lead", 0));
        }
        files.insert("folio.toml".into(), String::new());
        let mut parent = {
            let t = repo.find_tree(tree_of(&repo, &files)).unwrap();
            repo.commit(Some("HEAD"), &sig(1_000), &sig(1_000), "import", &t, &[])
                .unwrap()
        };
        let mut branch_point = None;
        let mut side = None;
        let mut x: usize = 7;
        for n in 1..160usize {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345) % (1 << 31);
            let id = x % 40;
            let old = path(id, names[id]);
            match n % 11 {
                _ if !files.contains_key(&old) => {
                    // deleted before: added back
                    files.insert(old, record(id, "ann", "lead", touches[id]));
                }
                3 => {
                    // a company rename: the file moves
                    let text = files.remove(&old).unwrap_or_default();
                    names[id] += 100;
                    files.insert(path(id, names[id]), text);
                }
                7 if files.len() > 30 => {
                    files.remove(&old);
                }
                _ => {
                    touches[id] += 1;
                    let owner = owners[(x >> 8) % 3];
                    let stage = ["lead", "won"][(x >> 4) % 2];
                    files.insert(old, record(id, owner, stage, touches[id]));
                }
            }
            if n == 60 {
                branch_point = Some((parent, files.clone()));
            }
            let t = repo.find_tree(tree_of(&repo, &files)).unwrap();
            let p = repo.find_commit(parent).unwrap();
            parent = repo
                .commit(
                    Some("HEAD"),
                    &sig(1_000 + n as i64),
                    &sig(1_000 + n as i64),
                    &format!("change {n}"),
                    &t,
                    &[&p],
                )
                .unwrap();
            if n == 90 {
                // A side branch from commit 60 that adds a customer.
                let (bp, mut bf) = branch_point.take().unwrap();
                bf.insert(
                    "customers/de/side-c99.toml".into(),
                    record(99, "bob", "lead", 1),
                );
                let t = repo.find_tree(tree_of(&repo, &bf)).unwrap();
                let bpc = repo.find_commit(bp).unwrap();
                side = Some(
                    repo.commit(None, &sig(2_000), &sig(2_000), "side", &t, &[&bpc])
                        .unwrap(),
                );
            }
            if n == 100 {
                files.insert(
                    "customers/de/side-c99.toml".into(),
                    record(99, "bob", "lead", 1),
                );
                let t = repo.find_tree(tree_of(&repo, &files)).unwrap();
                let p = repo.find_commit(parent).unwrap();
                let s = repo.find_commit(side.unwrap()).unwrap();
                parent = repo
                    .commit(
                        Some("HEAD"),
                        &sig(3_000),
                        &sig(3_000),
                        "merge side",
                        &t,
                        &[&p, &s],
                    )
                    .unwrap();
            }
        }
        dir
    }

    fn git(dir: &std::path::Path, args: &[&str]) {
        let st = std::process::Command::new("git")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .current_dir(dir)
            .args(args)
            .status()
            .unwrap();
        assert!(st.success(), "git {args:?}");
    }

    fn index_of(repo: &Repository, split: Split) -> Vec<u8> {
        let mut rw = repo.revwalk().unwrap();
        rw.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
            .unwrap();
        rw.push_head().unwrap();
        let commits: Vec<Oid> = rw.collect::<Result<_, _>>().unwrap();
        let mut ix = Index::default();
        walk(
            WalkInput {
                repo,
                prefix: "",
                commits,
                split,
            },
            &mut ix,
        )
        .unwrap();
        ix.encode()
    }

    #[test]
    fn threads_and_packs_give_the_same_index() {
        let dir = history();
        let repo = Repository::open(dir.path()).unwrap();
        let one = Split {
            threads: 1,
            min: 0,
            piece: 1,
        };
        let many = Split {
            threads: 2,
            min: 0,
            piece: 9,
        };
        let loose = index_of(&repo, one);
        assert_eq!(index_of(&repo, many), loose);
        let ix = Index::decode(&loose).unwrap();
        assert_eq!(ix.commits.len(), 162); // with the side commit and the merge
        assert!(ix.changes.iter().any(|c| c.kind == ChangeKind::Renamed));
        assert!(ix.changes.iter().any(|c| c.kind == ChangeKind::Deleted));
        // The merge brings no change of its own: the side commit's add is
        // counted once.
        let added_99 = ix
            .changes
            .iter()
            .filter(|c| ix.str(c.new.id) == Some("C99") && c.kind == ChangeKind::Added)
            .count();
        assert_eq!(added_99, 1);
        // Packed as git gc packs (offset deltas, newest versions whole),
        // with base ids instead of offsets, and as fast-import packs
        // (oldest versions whole): the same index.
        for args in [
            &["repack", "-adfq", "--depth=50", "--window=50"][..],
            &[
                "-c",
                "repack.useDeltaBaseOffset=false",
                "repack",
                "-adfq",
                "--depth=20",
            ][..],
        ] {
            git(dir.path(), args);
            git(dir.path(), &["prune-packed"]);
            let repo = Repository::open(dir.path()).unwrap();
            let packs = Packs::open(&repo);
            assert!(packs.count() >= 1);
            assert_eq!(index_of(&repo, one), loose, "{args:?}");
            assert_eq!(index_of(&repo, many), loose, "{args:?}");
            // Every object reads the same as through libgit2.
            let odb = repo.odb().unwrap();
            let mut store = Store::new(packs.clone(), &odb, 1 << 16);
            let mut ids = Vec::new();
            odb.foreach(|id| {
                ids.push(*id);
                true
            })
            .unwrap();
            for id in ids {
                let o = odb.read(id).unwrap();
                let (kind, data) = store.read(id).unwrap();
                assert_eq!((kind, &data[..]), (o.kind(), o.data()));
            }
        }
        let fi = tempfile::tempdir().unwrap();
        git(fi.path(), &["init", "-q"]);
        let export = std::process::Command::new("git")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .current_dir(dir.path())
            .args(["fast-export", "--all"])
            .output()
            .unwrap();
        assert!(export.status.success());
        let mut import = std::process::Command::new("git")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .current_dir(fi.path())
            .args(["fast-import", "--quiet"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(import.stdin.as_mut().unwrap(), &export.stdout).unwrap();
        drop(import.stdin.take());
        assert!(import.wait().unwrap().success());
        let head = repo.head().unwrap().name().unwrap().to_string();
        git(fi.path(), &["symbolic-ref", "HEAD", &head]);
        let repo = Repository::open(fi.path()).unwrap();
        assert_eq!(index_of(&repo, many), loose);
    }
}
