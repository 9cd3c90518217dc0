//! The git history of the records: a change index built once and kept up
//! to date, customers followed by id across renames, field-level diffs,
//! ownership timelines, and handovers.
//!
//! [`History::open`] reads every commit not yet in the cache (all of them
//! the first time), comparing each with its first parent by tree entry ids
//! and descending only into subtrees that changed, and records for every
//! changed record file the customer id, owner and stage on both sides. A
//! merge keeps only what it changed itself (paths whose result matches no
//! other parent), so nothing is counted twice. The index lives in
//! `.folio/history/index.bin`; a rewritten history (the cached tip is no
//! longer an ancestor of HEAD) or an unshallowed clone rebuilds it.
//!
//! Field-level changes are computed lazily from the two blob versions
//! ([`diff`]).

pub mod diff;
pub mod index;
pub mod pack;
pub mod walk;

use crate::git::GitRepo;
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};
use diff::FieldChange;
use git2::{Oid, Sort};
pub use index::ChangeKind;
use index::{Change, Index, NONE};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The history cache's folder in `.folio`.
const HISTORY_DIR: &str = "history";
pub const CACHE_FILE: &str = "history/index.bin";
/// Commits added since `index.bin` was written, so that an update writes
/// only what it added (folded into `index.bin` when it grows).
pub const JOURNAL_FILE: &str = "history/journal.bin";

/// Why the history cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("{0} is not inside a git repository, so it has no history")]
    NotGit(PathBuf),
    #[error("cannot read the git history: {0}")]
    Git(#[from] git2::Error),
}

/// How the cache was used, and what is missing from the history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryStatus {
    /// The repository has no commits yet.
    pub no_commits: bool,
    /// A shallow clone: the history stops at a boundary commit.
    pub shallow: bool,
    /// HEAD is detached (fine: the history of HEAD is read).
    pub detached: bool,
    pub head: Option<Oid>,
    pub cache: CacheUse,
    /// Commits read in this call.
    pub read: usize,
    /// The cache could not be written (the history was still read).
    pub cache_warning: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CacheUse {
    /// No cache yet: the whole history was read.
    #[default]
    Cold,
    /// The cache was current.
    Current,
    /// New commits were added to the cache.
    Updated,
    /// The history was rewritten (rebase, amend, force-push, unshallow) or
    /// the cache was damaged: rebuilt.
    Rebuilt,
}

impl HistoryStatus {
    /// Plain-language notes about an incomplete history, for stderr.
    pub fn notes(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.no_commits {
            out.push("the repository has no commits yet: there is no history to show".into());
        }
        if self.shallow {
            out.push(
                "history is shallow (a partial clone, as CI checkouts often are): changes before \
                 the oldest fetched commit are missing; run `git fetch --unshallow` to fetch the rest"
                    .into(),
            );
        }
        if let Some(w) = &self.cache_warning {
            out.push(w.clone());
        }
        out
    }
}

/// The change index of a repository, with the git repository to read
/// blobs from.
pub struct History {
    pub git: GitRepo,
    pub status: HistoryStatus,
    index: Index,
}

impl History {
    /// Open the history of the data repository at `root`, reading the
    /// commits the cache in `cache_dir` does not have yet.
    pub fn open(root: &Path, cache_dir: &Path) -> Result<History, HistoryError> {
        let git = GitRepo::open(root).ok_or_else(|| HistoryError::NotGit(root.to_path_buf()))?;
        let mut status = HistoryStatus {
            shallow: git.repo.is_shallow(),
            detached: git.repo.head_detached().unwrap_or(false),
            ..Default::default()
        };
        let head = match git.repo.head() {
            Ok(h) => h.peel_to_commit().ok().map(|c| c.id()),
            Err(e)
                if e.code() == git2::ErrorCode::UnbornBranch
                    || e.code() == git2::ErrorCode::NotFound =>
            {
                None
            }
            Err(e) => return Err(e.into()),
        };
        let Some(head) = head else {
            status.no_commits = true;
            return Ok(History {
                git,
                status,
                index: Index::default(),
            });
        };
        status.head = Some(head);
        let file = cache_dir.join(CACHE_FILE);
        let journal_file = cache_dir.join(JOURNAL_FILE);
        let mut cached = std::fs::read(&file)
            .ok()
            .and_then(|b| Index::decode(&b))
            .filter(|ix| ix.prefix == git.prefix);
        // What index.bin holds, and the journal that continues it.
        let mut base_counts = cached.as_ref().map(Index::counts);
        let base_key = cached.as_ref().map(journal_key);
        if let Some(ix) = cached.as_mut()
            && let Some(j) = std::fs::read(&journal_file)
                .ok()
                .and_then(|b| Index::decode(&b))
            && Some(&j.prefix) == base_key.as_ref()
        {
            ix.append(j);
        }
        let had_file = file.exists();
        let shallow_now = walk::shallow_roots(&git.repo);
        let (mut index, hide) = match cached {
            Some(ix) => {
                let tip = ix.tip.and_then(|t| Oid::from_bytes(&t).ok());
                let unshallowed = ix.commits.iter().any(|c| {
                    c.shallow_root
                        && !Oid::from_bytes(&c.oid).is_ok_and(|o| shallow_now.contains(&o))
                });
                match tip {
                    Some(t) if t == head && !unshallowed => {
                        status.cache = CacheUse::Current;
                        (ix, None)
                    }
                    Some(t)
                        if !unshallowed
                            && git.repo.find_commit(t).is_ok()
                            && git.repo.graph_descendant_of(head, t).unwrap_or(false) =>
                    {
                        status.cache = CacheUse::Updated;
                        (ix, Some(t))
                    }
                    _ => {
                        status.cache = CacheUse::Rebuilt;
                        base_counts = None;
                        (fresh(&git), None)
                    }
                }
            }
            None => {
                status.cache = if had_file {
                    CacheUse::Rebuilt
                } else {
                    CacheUse::Cold
                };
                (fresh(&git), None)
            }
        };
        if status.cache != CacheUse::Current {
            let mut rw = git.repo.revwalk()?;
            rw.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
            rw.push(head)?;
            if let Some(t) = hide {
                rw.hide(t)?;
            }
            let commits: Vec<Oid> = rw.collect::<Result<_, _>>()?;
            status.read = commits.len();
            walk::walk(
                walk::WalkInput {
                    repo: &git.repo,
                    prefix: &git.prefix,
                    commits,
                    split: walk::Split::auto(),
                },
                &mut index,
            )?;
            index.tip = Some(walk::raw(head));
            // A small update goes to the journal; a large one, or a new
            // index, rewrites index.bin.
            let journal = base_counts.zip(base_key).and_then(|(from, key)| {
                let added = index.changes.len() - from[3] + index.commits.len() - from[1];
                (added * 8 < index.changes.len() + index.commits.len()).then(|| {
                    let mut tail = index.tail(from);
                    tail.prefix = key;
                    tail.encode()
                })
            });
            let written = match journal {
                Some(bytes) => write_cache(cache_dir, &journal_file, &bytes),
                None => write_cache(cache_dir, &file, &index.encode()).and_then(|_| {
                    match std::fs::remove_file(&journal_file) {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                        _ => Ok(()),
                    }
                }),
            };
            if let Err(e) = written {
                status.cache_warning = Some(format!(
                    "cannot write the history cache {}: {e} (the next call reads the history again)",
                    file.display()
                ));
            }
        }
        Ok(History { git, status, index })
    }

    /// Every commit read, oldest first (parents before children).
    pub fn commits(&self) -> impl ExactSizeIterator<Item = CommitView<'_>> {
        (0..self.index.commits.len() as u32).map(move |n| CommitView { ix: &self.index, n })
    }

    /// Every change of a record file, in commit order (oldest first).
    pub fn changes(&self) -> impl DoubleEndedIterator<Item = ChangeView<'_>> + ExactSizeIterator {
        self.index
            .changes
            .iter()
            .map(move |c| ChangeView { ix: &self.index, c })
    }

    /// Whether any commit changed a record with this id.
    pub fn knows_id(&self, id: &str) -> bool {
        self.changes().any(|c| c.id() == Some(id))
    }

    /// The id of the customer last seen at `path` (relative to the data root).
    pub fn id_at_path(&self, path: &str) -> Option<&str> {
        self.changes()
            .rev()
            .find(|c| c.path() == Some(path) || c.old_path() == Some(path))
            .and_then(|c| c.id())
    }

    /// The changes of one customer, oldest first.
    pub fn customer(&self, id: &str) -> Vec<ChangeView<'_>> {
        self.changes()
            .filter(|c| c.new_id() == Some(id) || c.old_id() == Some(id))
            .collect()
    }

    /// Every change of owner or stage of every customer (and every
    /// creation), oldest first. `old_*` is the customer's state in the
    /// parent the change was made on (the first parent for a merge), as
    /// `folio log` compares: after a merge, a change on one branch is not
    /// measured against the other branch's value. A record added (or one
    /// whose id changed) has no such parent side: its state as last seen
    /// in the history is used, so a customer deleted in one commit and
    /// added back in another keeps its timeline.
    pub fn state_changes(&self) -> Vec<StateChange<'_>> {
        let mut out = Vec::new();
        self.for_each_state_change(|sc| out.push(sc));
        out
    }

    /// [`History::state_changes`] one at a time, without collecting them.
    pub fn for_each_state_change<'a>(&'a self, mut f: impl FnMut(StateChange<'a>)) {
        type State<'s> = (Option<&'s str>, Option<&'s str>);
        let mut last: rustc_hash::FxHashMap<&str, State<'_>> = Default::default();
        for c in self.changes() {
            let Some(id) = c.id() else { continue };
            if c.kind() == ChangeKind::Deleted {
                continue;
            }
            let (owner, stage) = (c.owner(), c.stage());
            let prev = last.insert(id, (owner, stage));
            let created = prev.is_none();
            let (old_owner, old_stage) =
                if !created && c.kind() != ChangeKind::Added && c.old_id() == Some(id) {
                    (c.old_owner(), c.old_stage())
                } else {
                    prev.unwrap_or((None, None))
                };
            if created || old_owner != owner || old_stage != stage {
                f(StateChange {
                    id,
                    path: c.path().unwrap_or(""),
                    commit: c.commit(),
                    created,
                    old_owner,
                    owner,
                    old_stage,
                    stage,
                });
            }
        }
    }

    /// The last commit that added or changed each record path still
    /// present at HEAD (relative to the data root).
    pub fn last_touched(&self) -> HashMap<&str, CommitView<'_>> {
        let mut out = HashMap::new();
        for c in self.changes() {
            if let Some(old) = c.old_path()
                && c.kind() != ChangeKind::Modified
            {
                out.remove(old);
            }
            if let Some(p) = c.path() {
                out.insert(p, c.commit());
            }
        }
        out
    }

    /// The text of a blob (lossy UTF-8).
    pub fn blob_text(&self, oid: Oid) -> Result<String, git2::Error> {
        let b = self.git.repo.find_blob(oid)?;
        let bytes = b.content();
        let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
        Ok(String::from_utf8_lossy(bytes).into_owned())
    }

    /// The field-level changes one change made.
    pub fn field_changes(&self, c: &ChangeView) -> Result<Vec<FieldChange>, git2::Error> {
        let old = c.old_blob().map(|b| self.blob_text(b)).transpose()?;
        let new = c.new_blob().map(|b| self.blob_text(b)).transpose()?;
        let mut out = Vec::new();
        match c.kind() {
            ChangeKind::Added if !c.commit().is_shallow_root() => {
                out.push(FieldChange::record(None, c.path()));
            }
            ChangeKind::Added => {
                out.push(FieldChange::text(
                    "history",
                    None,
                    Some("starts here (shallow clone)"),
                ));
            }
            ChangeKind::Deleted => out.push(FieldChange::record(c.old_path(), None)),
            ChangeKind::Renamed => out.push(FieldChange::text("path", c.old_path(), c.path())),
            ChangeKind::Modified => {}
        }
        if matches!(c.kind(), ChangeKind::Modified | ChangeKind::Renamed) {
            out.extend(diff::diff_texts(old.as_deref(), new.as_deref()));
        }
        Ok(out)
    }

    /// The log of one customer, newest first, with uncommitted changes of
    /// its file (as an entry without a commit) first.
    pub fn log(&self, id: &str, root: &Path) -> Result<Vec<LogEntry>, git2::Error> {
        let changes = self.customer(id);
        let mut out = Vec::new();
        if let Some(last) = changes.last()
            && let Some(path) = last.path()
        {
            let abs = root.join(path);
            let committed = last.new_blob();
            match crate::repo::read_file(&abs) {
                Ok(bytes) => {
                    let now = Oid::hash_object(git2::ObjectType::Blob, &bytes)?;
                    if Some(now) != committed {
                        let old = committed.map(|b| self.blob_text(b)).transpose()?;
                        let b = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(&bytes);
                        let new = String::from_utf8_lossy(b);
                        let ch = diff::diff_texts(old.as_deref(), Some(&new));
                        out.push(LogEntry {
                            commit: None,
                            changes: ch,
                        });
                    }
                }
                Err(e) if e.is_not_found() => out.push(LogEntry {
                    commit: None,
                    changes: vec![FieldChange::record(Some(path), None)],
                }),
                Err(_) => {}
            }
        }
        for c in changes.iter().rev() {
            out.push(LogEntry {
                commit: Some(CommitInfo::of(&c.commit())),
                changes: self.field_changes(c)?,
            });
        }
        Ok(out)
    }

    /// Owner periods of one customer, oldest first.
    pub fn owners(&self, id: &str) -> Vec<OwnerPeriod> {
        let mut out: Vec<OwnerPeriod> = Vec::new();
        for s in self.state_changes().into_iter().filter(|s| s.id == id) {
            if !s.created && s.old_owner == s.owner {
                continue;
            }
            let info = CommitInfo::of(&s.commit);
            if let Some(prev) = out.last_mut() {
                prev.until = Some(info.clone());
            }
            out.push(OwnerPeriod {
                owner: s.owner.map(str::to_string),
                since: info,
                until: None,
            });
        }
        if let Some(last) = self.customer(id).last()
            && last.kind() == ChangeKind::Deleted
            && let Some(p) = out.last_mut()
        {
            p.until = Some(CommitInfo::of(&last.commit()));
        }
        out
    }
}

/// What a journal must name to continue an index.bin: its tip and counts.
fn journal_key(ix: &Index) -> String {
    let tip = ix.tip.map(|t| walk::raw_hex(&t)).unwrap_or_default();
    format!("{tip} {:?}", ix.counts())
}

fn fresh(git: &GitRepo) -> Index {
    Index {
        prefix: git.prefix.clone(),
        ..Default::default()
    }
}

/// The cache is not data: a temporary file renamed into place, without
/// the fsync that record writes get. `path` is in the history's folder of
/// `cache_dir`, made (ignored by git) if need be.
fn write_cache(cache_dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = crate::repo::prepare_cache_dir(cache_dir, HISTORY_DIR)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".index-")
        .tempfile_in(dir)?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// One commit in the index.
#[derive(Clone, Copy)]
pub struct CommitView<'a> {
    ix: &'a Index,
    n: u32,
}

impl<'a> CommitView<'a> {
    fn c(&self) -> &'a index::Commit {
        &self.ix.commits[self.n as usize]
    }
    pub fn oid(&self) -> Oid {
        Oid::from_bytes(&self.c().oid).unwrap_or(Oid::ZERO_SHA1)
    }
    /// Seconds since the epoch.
    pub fn time(&self) -> i64 {
        self.c().time
    }
    pub fn offset_minutes(&self) -> i32 {
        self.c().offset
    }
    /// The commit time in its own time zone.
    pub fn datetime(&self) -> DateTime<FixedOffset> {
        let off = FixedOffset::east_opt(self.c().offset * 60)
            .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"));
        off.timestamp_opt(self.c().time, 0)
            .single()
            .unwrap_or_else(|| off.timestamp_opt(0, 0).single().expect("epoch"))
    }
    /// The commit's date in its own time zone.
    pub fn date(&self) -> NaiveDate {
        self.datetime().date_naive()
    }
    pub fn author(&self) -> &'a str {
        self.ix.str(self.c().author).unwrap_or("")
    }
    pub fn email(&self) -> &'a str {
        self.ix.str(self.c().email).unwrap_or("")
    }
    /// The first line of the message.
    pub fn summary(&self) -> &'a str {
        self.ix.str(self.c().summary).unwrap_or("")
    }
    /// `Key: value` trailers of the message.
    pub fn trailers(&self) -> Vec<(&'a str, &'a str)> {
        let c = self.c();
        let s = c.trailer_start as usize;
        self.ix
            .trailers
            .get(s..s + c.trailer_len as usize)
            .unwrap_or(&[])
            .iter()
            .map(|(k, v)| (self.ix.str(*k).unwrap_or(""), self.ix.str(*v).unwrap_or("")))
            .collect()
    }
    pub fn is_merge(&self) -> bool {
        self.c().parents > 1
    }
    /// The oldest commit of a shallow clone (its parents were not fetched).
    pub fn is_shallow_root(&self) -> bool {
        self.c().shallow_root
    }
}

/// One change of one record file in one commit.
#[derive(Clone, Copy)]
pub struct ChangeView<'a> {
    ix: &'a Index,
    c: &'a Change,
}

impl<'a> ChangeView<'a> {
    pub fn commit(&self) -> CommitView<'a> {
        CommitView {
            ix: self.ix,
            n: self.c.commit,
        }
    }
    pub fn kind(&self) -> ChangeKind {
        self.c.kind
    }
    /// The customer id (after the change; before it for a deletion).
    pub fn id(&self) -> Option<&'a str> {
        self.new_id().or_else(|| self.old_id())
    }
    pub fn new_id(&self) -> Option<&'a str> {
        self.ix.str(self.c.new.id)
    }
    pub fn old_id(&self) -> Option<&'a str> {
        self.ix.str(self.c.old.id)
    }
    /// The path after the change (none for a deletion).
    pub fn path(&self) -> Option<&'a str> {
        self.ix.str(self.c.new_path)
    }
    /// The path before the change (none for an addition).
    pub fn old_path(&self) -> Option<&'a str> {
        self.ix.str(self.c.old_path)
    }
    pub fn old_blob(&self) -> Option<Oid> {
        blob(&self.c.old_blob, self.c.old_path)
    }
    pub fn new_blob(&self) -> Option<Oid> {
        blob(&self.c.new_blob, self.c.new_path)
    }
    pub fn owner(&self) -> Option<&'a str> {
        self.ix.str(self.c.new.owner)
    }
    pub fn old_owner(&self) -> Option<&'a str> {
        self.ix.str(self.c.old.owner)
    }
    pub fn stage(&self) -> Option<&'a str> {
        self.ix.str(self.c.new.stage)
    }
    pub fn old_stage(&self) -> Option<&'a str> {
        self.ix.str(self.c.old.stage)
    }
}

fn blob(raw: &index::RawOid, path: u32) -> Option<Oid> {
    (path != NONE).then(|| Oid::from_bytes(raw).ok()).flatten()
}

/// A change of a customer's owner or stage (or its creation).
#[derive(Clone, Copy)]
pub struct StateChange<'a> {
    pub id: &'a str,
    /// The record's path after the commit.
    pub path: &'a str,
    pub commit: CommitView<'a>,
    /// The first time the id appears in the history.
    pub created: bool,
    pub old_owner: Option<&'a str>,
    pub owner: Option<&'a str>,
    pub old_stage: Option<&'a str>,
    pub stage: Option<&'a str>,
}

impl StateChange<'_> {
    pub fn owner_changed(&self) -> bool {
        !self.created && self.old_owner != self.owner
    }
    pub fn stage_changed(&self) -> bool {
        !self.created && self.old_stage != self.stage
    }
}

/// A commit, owned, in the shape the commands print.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CommitInfo {
    pub commit: String,
    pub author: String,
    pub email: String,
    /// RFC 3339, in the commit's own time zone.
    pub date: String,
    pub message: String,
    #[serde(skip)]
    pub time: i64,
    #[serde(skip)]
    pub day: NaiveDate,
}

impl CommitInfo {
    pub fn of(c: &CommitView) -> CommitInfo {
        let dt = c.datetime();
        CommitInfo {
            commit: c.oid().to_string(),
            author: c.author().to_string(),
            email: c.email().to_string(),
            date: dt.to_rfc3339(),
            message: c.summary().to_string(),
            time: c.time(),
            day: dt.date_naive(),
        }
    }
    pub fn short(&self) -> &str {
        &self.commit[..self.commit.len().min(8)]
    }
    /// `YYYY-MM-DD HH:MM` in the commit's time zone.
    pub fn when(&self) -> String {
        self.date
            .get(..16)
            .map(|s| s.replace('T', " "))
            .unwrap_or_default()
    }
}

/// One entry of a customer's log: a commit (or, without one, uncommitted
/// changes in the working tree) and its field-level changes.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub commit: Option<CommitInfo>,
    pub changes: Vec<FieldChange>,
}

/// A span of time during which a customer had one owner (`None`: in the
/// public pool).
#[derive(Debug, Clone)]
pub struct OwnerPeriod {
    pub owner: Option<String>,
    pub since: CommitInfo,
    /// The commit that ended it; `None` while it lasts.
    pub until: Option<CommitInfo>,
}

/// The field-level changes of one record between two revisions.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RecordDiff {
    pub id: Option<String>,
    pub status: ChangeKind,
    /// The path on the new side (none when deleted).
    pub path: Option<String>,
    /// The path on the old side (none when added).
    pub old_path: Option<String>,
    pub changes: Vec<FieldChange>,
}

/// Field-level changes of every record between revision `old` and
/// revision `new` (`None`: the working tree, untracked files included).
pub fn diff_revisions(
    git: &GitRepo,
    root: &Path,
    old: &str,
    new: Option<&str>,
) -> Result<Vec<RecordDiff>, git2::Error> {
    let repo = &git.repo;
    let tree_of = |rev: &str| -> Result<git2::Tree<'_>, git2::Error> {
        repo.revparse_single(rev)
            .map_err(|e| {
                git2::Error::from_str(&format!("cannot resolve revision `{rev}`: {}", e.message()))
            })?
            .peel_to_tree()
    };
    let odb = repo.odb()?;
    let mut reader =
        walk::Reader::open(&odb, pack::Packs::open(repo), &git.prefix, walk::BLOB_STORE);
    let old_tree = tree_of(old)?;
    let old_records = reader.records_tree(old_tree.id())?;
    // (path, old text, new text)
    let mut sides: Vec<(String, Option<String>, Option<String>)> = Vec::new();
    let text = |b: &[u8]| {
        let b = b.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(b);
        String::from_utf8_lossy(b).into_owned()
    };
    match new {
        Some(rev) => {
            let new_tree = tree_of(rev)?;
            let new_records = reader.records_tree(new_tree.id())?;
            for d in reader.diff(old_records, new_records)? {
                let o = d.old.map(|b| reader.blob(b)).transpose()?.map(|b| text(&b));
                let n = d.new.map(|b| reader.blob(b)).transpose()?.map(|b| text(&b));
                sides.push((d.path, o, n));
            }
        }
        None => {
            let changed = git.changed_since(old).map_err(|e| e.source)?;
            for p in changed {
                if !crate::repo::is_record_path(&p) {
                    continue;
                }
                let o = reader
                    .blob_at(old_records, &p)?
                    .map(|b| reader.blob(b))
                    .transpose()?
                    .map(|b| text(&b));
                let n = match crate::repo::read_file(&root.join(&p)) {
                    Ok(b) => Some(text(&b)),
                    Err(_) => None,
                };
                if o != n {
                    sides.push((p, o, n));
                }
            }
        }
    }
    sides.sort_by(|a, b| a.0.cmp(&b.0));
    let id_of = |t: &Option<String>| t.as_deref().and_then(|t| walk::scan_meta(t.as_bytes()).id);
    // Pair a deleted and an added file with the same id: a rename.
    let mut used = vec![false; sides.len()];
    let mut out = Vec::new();
    for i in 0..sides.len() {
        if used[i] {
            continue;
        }
        used[i] = true;
        let (path, o, n) = sides[i].clone();
        let mut rec = RecordDiff {
            id: id_of(&n).or_else(|| id_of(&o)),
            status: match (&o, &n) {
                (None, _) => ChangeKind::Added,
                (_, None) => ChangeKind::Deleted,
                _ => ChangeKind::Modified,
            },
            path: n.as_ref().map(|_| path.clone()),
            old_path: o.as_ref().map(|_| path.clone()),
            changes: Vec::new(),
        };
        let (mut old_text, mut new_text) = (o, n);
        if rec.status != ChangeKind::Modified && rec.id.is_some() {
            let partner = (i + 1..sides.len()).find(|&j| {
                !used[j]
                    && id_of(&sides[j].1).or_else(|| id_of(&sides[j].2)) == rec.id
                    && (sides[j].1.is_none()) != (rec.status == ChangeKind::Added)
            });
            if let Some(j) = partner {
                used[j] = true;
                let (p2, o2, n2) = sides[j].clone();
                if rec.status == ChangeKind::Added {
                    rec.old_path = Some(p2);
                    old_text = o2;
                } else {
                    rec.path = Some(p2);
                    new_text = n2;
                }
                rec.status = ChangeKind::Renamed;
            }
        }
        match rec.status {
            ChangeKind::Added => rec
                .changes
                .push(FieldChange::record(None, rec.path.as_deref())),
            ChangeKind::Deleted => rec
                .changes
                .push(FieldChange::record(rec.old_path.as_deref(), None)),
            ChangeKind::Renamed => {
                rec.changes.push(FieldChange::text(
                    "path",
                    rec.old_path.as_deref(),
                    rec.path.as_deref(),
                ));
                rec.changes
                    .extend(diff::diff_texts(old_text.as_deref(), new_text.as_deref()));
            }
            ChangeKind::Modified => rec
                .changes
                .extend(diff::diff_texts(old_text.as_deref(), new_text.as_deref())),
        }
        out.push(rec);
    }
    Ok(out)
}
