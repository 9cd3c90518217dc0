//! When each record's file last changed in git, for the periodic data
//! review the source articles ask for (quarterly or half-yearly): records
//! nobody has touched for a long time are the first to re-check.
//!
//! One pass over history: commits are walked newest first from HEAD, each
//! compared with its parents by tree-entry object ids, descending only into
//! subtrees that differ and that still hold a path not yet dated; the walk
//! stops once every path is dated. A merge changes a file only when the file
//! differs from every parent (as `git log` sees it). This module is
//! self-contained so that it can later read a shared history cache instead.

use crate::git::GitError;
use chrono::NaiveDate;
use git2::{ObjectType, Oid, Repository, Sort, Tree};
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

/// The last change of one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LastChange {
    /// Changed in the working tree and not committed (or untracked).
    Uncommitted,
    /// The newest commit that changed it, with that commit's date (in the
    /// committer's own time zone).
    Commit { oid: Oid, date: NaiveDate },
    /// Present in the oldest commit of a shallow clone and not changed
    /// since: it last changed on or before `date`.
    AtOrBefore { oid: Oid, date: NaiveDate },
    /// Not found in history (for example ignored by git).
    Unknown,
}

/// Last changes of the asked paths, in the order asked.
#[derive(Debug, Clone)]
pub struct History {
    pub changes: Vec<LastChange>,
    /// The repository is a shallow clone: dates at its boundary are bounds.
    pub shallow: bool,
    /// Commits walked.
    pub commits: usize,
}

/// A trie of the paths still to date.
#[derive(Default)]
struct Node {
    name: Vec<u8>,
    children: HashMap<Vec<u8>, usize>,
    /// Children that still hold an undated path.
    live: HashSet<usize>,
    /// Paths below (or at) this node not yet dated.
    pending: usize,
    /// For a file: the index of the asked path.
    file: Option<usize>,
    parent: usize,
}

struct Trie {
    nodes: Vec<Node>,
}

impl Trie {
    fn new() -> Trie {
        Trie {
            nodes: vec![Node::default()],
        }
    }

    fn insert(&mut self, path: &str, index: usize) {
        let mut at = 0;
        self.nodes[0].pending += 1;
        for part in path.split('/') {
            let next = match self.nodes[at].children.get(part.as_bytes()) {
                Some(&n) => n,
                None => {
                    let n = self.nodes.len();
                    self.nodes.push(Node {
                        name: part.as_bytes().to_vec(),
                        parent: at,
                        ..Default::default()
                    });
                    self.nodes[at].children.insert(part.as_bytes().to_vec(), n);
                    n
                }
            };
            self.nodes[at].live.insert(next);
            self.nodes[next].pending += 1;
            at = next;
        }
        self.nodes[at].file = Some(index);
    }

    /// Mark a file node dated.
    fn done(&mut self, mut node: usize) {
        if self.nodes[node].pending == 0 {
            return;
        }
        loop {
            self.nodes[node].pending -= 1;
            if node == 0 {
                break;
            }
            let parent = self.nodes[node].parent;
            if self.nodes[node].pending == 0 {
                self.nodes[parent].live.remove(&node);
            }
            node = parent;
        }
    }
}

fn entry_oid(tree: Option<&Tree>, name: &[u8]) -> Option<(Oid, bool)> {
    let t = tree?;
    let name = std::str::from_utf8(name).ok()?;
    let e = t.get_name(name)?;
    Some((e.id(), e.kind() == Some(ObjectType::Tree)))
}

/// git's order of tree entries: by name, a tree's name read as `name/`.
fn git_order(a: &[u8], a_tree: bool, b: &[u8], b_tree: bool) -> Ordering {
    let n = a.len().min(b.len());
    match a[..n].cmp(&b[..n]) {
        Ordering::Equal => {}
        o => return o,
    }
    let end = |s: &[u8], tree: bool| s.get(n).copied().unwrap_or(if tree { b'/' } else { 0 });
    end(a, a_tree).cmp(&end(b, b_tree))
}

/// Trees read for the previous commit and for this one: walking newest
/// first, a commit's parent trees are the next commit's own trees, and
/// libgit2 does not cache large trees.
struct Trees<'r> {
    repo: &'r Repository,
    prev: HashMap<Oid, Tree<'r>>,
    cur: HashMap<Oid, Tree<'r>>,
}

impl<'r> Trees<'r> {
    fn get(&mut self, id: Oid) -> Option<Tree<'r>> {
        if let Some(t) = self.cur.get(&id) {
            return Some(t.clone());
        }
        let t = match self.prev.remove(&id) {
            Some(t) => t,
            None => self.repo.find_tree(id).ok()?,
        };
        self.cur.insert(id, t.clone());
        Some(t)
    }

    fn next_commit(&mut self) {
        self.prev = std::mem::take(&mut self.cur);
    }
}

/// Pending file nodes under `node` whose entry differs between `new` and
/// `old` (`old` absent for a root commit), by object id.
fn changed(
    repo: &mut Trees,
    trie: &Trie,
    node: usize,
    new: &Tree,
    old: Option<&Tree>,
    out: &mut Vec<usize>,
) {
    let n = &trie.nodes[node];
    // One entry that differs: a file is dated; a folder is compared in turn.
    let mut differs = |child: usize, new_id: Oid, new_tree: bool, old: Option<(Oid, bool)>| {
        if trie.nodes[child].file.is_some() {
            if !new_tree {
                out.push(child);
            }
        } else if new_tree && let Some(nt) = repo.get(new_id) {
            let ot = match old {
                Some((id, true)) => repo.get(id),
                _ => None,
            };
            changed(repo, trie, child, &nt, ot.as_ref(), out);
        }
    };
    if n.live.len() * 8 < new.len() {
        // Few paths left here: look each up (binary search in each tree).
        for &child in &n.live {
            let name = &trie.nodes[child].name;
            let Some((a, a_tree)) = entry_oid(Some(new), name) else {
                continue;
            };
            let b = entry_oid(old, name);
            if b.map(|x| x.0) != Some(a) {
                differs(child, a, a_tree, b);
            }
        }
        return;
    }
    // Otherwise walk both sorted entry lists side by side.
    let mut olds = old.map(|t| t.iter()).into_iter().flatten().peekable();
    for e in new.iter() {
        let name = e.name_bytes();
        let is_tree = e.kind() == Some(ObjectType::Tree);
        let mut before = None;
        while let Some(o) = olds.peek() {
            let o_tree = o.kind() == Some(ObjectType::Tree);
            match git_order(o.name_bytes(), o_tree, name, is_tree) {
                Ordering::Less => {
                    olds.next();
                }
                Ordering::Equal => {
                    before = Some((o.id(), o_tree));
                    olds.next();
                    break;
                }
                Ordering::Greater => break,
            }
        }
        if before.map(|x| x.0) == Some(e.id()) {
            continue;
        }
        if let Some(&child) = n.children.get(name)
            && trie.nodes[child].pending > 0
        {
            differs(child, e.id(), is_tree, before);
        }
    }
}

fn commit_date(c: &git2::Commit) -> NaiveDate {
    let t = c.time();
    let secs = t.seconds() + i64::from(t.offset_minutes()) * 60;
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|d| d.date_naive())
        .unwrap_or_default()
}

/// The last change of each path (relative to the git work tree, `/`
/// separated). `uncommitted` are paths with changes in the working tree.
pub fn last_changes(
    repo: &Repository,
    paths: &[String],
    uncommitted: &HashSet<String>,
) -> Result<History, GitError> {
    let err = |what: &str| {
        let what = what.to_string();
        move |source| GitError { what, source }
    };
    let mut changes = vec![LastChange::Unknown; paths.len()];
    let mut trie = Trie::new();
    for (i, p) in paths.iter().enumerate() {
        if uncommitted.contains(p) {
            changes[i] = LastChange::Uncommitted;
        } else {
            trie.insert(p, i);
        }
    }
    let shallow = repo.is_shallow();
    let mut commits = 0;
    let head = match repo.head() {
        Ok(h) => h,
        // an unborn branch: nothing committed yet
        Err(e) if e.code() == git2::ErrorCode::UnbornBranch => {
            return Ok(History {
                changes,
                shallow,
                commits,
            });
        }
        Err(e) => return Err(err("cannot read HEAD")(e)),
    };
    let head = head.peel_to_commit().map_err(err("cannot read HEAD"))?;
    let mut walk = repo.revwalk().map_err(err("cannot walk history"))?;
    walk.set_sorting(Sort::TIME)
        .map_err(err("cannot walk history"))?;
    walk.push(head.id()).map_err(err("cannot walk history"))?;
    // Reading is all this does; checking each object's hash again costs
    // more than the comparison itself.
    git2::opts::strict_hash_verification(false);
    let mut trees = Trees {
        repo,
        prev: HashMap::new(),
        cur: HashMap::new(),
    };
    for oid in walk {
        if trie.nodes[0].pending == 0 {
            break;
        }
        let oid = oid.map_err(err("cannot walk history"))?;
        let commit = repo.find_commit(oid).map_err(err("cannot read a commit"))?;
        commits += 1;
        trees.next_commit();
        let tree = trees.get(commit.tree_id()).ok_or_else(|| GitError {
            what: format!("cannot read the tree of commit {oid}"),
            source: git2::Error::from_str("missing tree"),
        })?;
        // Parents that are present (a shallow clone's boundary has none).
        let parents: Vec<Tree> = (0..commit.parent_count())
            .filter_map(|i| commit.parent(i).ok())
            .filter_map(|p| trees.get(p.tree_id()))
            .collect();
        let boundary = parents.is_empty() && commit.parent_count() > 0;
        let mut hit = Vec::new();
        if parents.is_empty() {
            changed(&mut trees, &trie, 0, &tree, None, &mut hit);
        } else {
            changed(&mut trees, &trie, 0, &tree, Some(&parents[0]), &mut hit);
            for p in &parents[1..] {
                if hit.is_empty() {
                    break;
                }
                let mut other = Vec::new();
                changed(&mut trees, &trie, 0, &tree, Some(p), &mut other);
                hit.retain(|n| other.contains(n));
            }
        }
        let date = commit_date(&commit);
        for node in hit {
            if let Some(i) = trie.nodes[node].file {
                changes[i] = if boundary {
                    LastChange::AtOrBefore { oid, date }
                } else {
                    LastChange::Commit { oid, date }
                };
            }
            trie.done(node);
        }
    }
    Ok(History {
        changes,
        shallow,
        commits,
    })
}

/// A duration argument: `180d`, `26w`, `6m` (30 days), `1y` (365 days), or
/// a bare number of days.
pub fn parse_age(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let (num, unit) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&t[..i], c.to_ascii_lowercase()),
        _ => (t, 'd'),
    };
    let n: i64 = num
        .parse()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| format!("`{s}` is not a duration such as 180d, 26w, 6m or 1y"))?;
    let per = match unit {
        'd' => 1,
        'w' => 7,
        'm' => 30,
        'y' => 365,
        _ => return Err(format!("`{s}`: the unit is d, w, m (30 days) or y")),
    };
    n.checked_mul(per)
        .ok_or_else(|| format!("`{s}` is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_tree_order() {
        // git sorts "a.toml" (blob) before "a" (tree, read as "a/")
        assert_eq!(git_order(b"a.toml", false, b"a", true), Ordering::Less);
        assert_eq!(git_order(b"a", false, b"a.toml", false), Ordering::Less);
        assert_eq!(git_order(b"de", true, b"de", true), Ordering::Equal);
    }

    #[test]
    fn ages() {
        assert_eq!(parse_age("180d"), Ok(180));
        assert_eq!(parse_age("2w"), Ok(14));
        assert_eq!(parse_age("6m"), Ok(180));
        assert_eq!(parse_age("1Y"), Ok(365));
        assert_eq!(parse_age("90"), Ok(90));
        assert!(parse_age("6x").is_err());
        assert!(parse_age("-3d").is_err());
        assert!(parse_age("d").is_err());
    }
}
