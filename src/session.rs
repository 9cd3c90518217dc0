//! The one edit session: the only way folio changes files in the data
//! repository (records and staff.toml), used by every writer: `new`,
//! `followup`, `tags`, `merge`, `import`, `fix`, the pool's `claim`,
//! `release` and `assign`, and `handover`.
//!
//! A session is filled, then applied once:
//!
//! 1. [`Session::read`] decodes a file and remembers what must survive an
//!    edit: its UTF-8 byte-order mark and its exact bytes (line endings and
//!    everything else are the edit functions' to keep, see [`crate::edit`]);
//! 2. [`Session::replace`], [`Session::create`] and [`Session::remove`]
//!    stage new texts; a text is turned into the exact bytes to be written
//!    once (the mark put back);
//! 3. [`Session::apply`] validates those bytes (a record must decode and
//!    parse with no error it did not have before; an error it already had
//!    is reported back, not hidden), refuses files with uncommitted or
//!    staged changes when it is to commit (unless told to include them),
//!    refuses files that changed on disk since they were read, writes
//!    everything through [`crate::transaction`] (all or nothing; a
//!    rewritten file keeps its mode), and commits exactly these files with
//!    [`crate::git::GitRepo::commit_files`] (the user's hooks and signing
//!    apply). When the commit is refused, the files are put back as they
//!    were: nothing is changed.

use crate::diagnostics::{Diagnostic, Severity};
use crate::git::{CommitError, Committed, FileChange, GitError, GitRepo};
use crate::repo::Repo;
use crate::transaction::TxError;
use chrono::NaiveDate;
use std::collections::HashMap;

const BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

/// A file as it was read.
#[derive(Debug, Clone)]
pub struct Original {
    /// Relative to the data root, `/`-separated.
    pub rel: String,
    bytes: Vec<u8>,
    bom: bool,
    /// Its permissions, for a copy at another path (a rename) or a removed
    /// file put back.
    permissions: Option<std::fs::Permissions>,
    /// (device, inode): tells a case-only rename of this very file from
    /// another file whose name differs only in case.
    identity: Option<(u64, u64)>,
}

impl Original {
    /// The text, without its byte-order mark.
    pub fn text(&self) -> &str {
        let b = if self.bom {
            &self.bytes[BOM.len()..]
        } else {
            &self.bytes[..]
        };
        // checked when read
        std::str::from_utf8(b).unwrap_or_default()
    }
}

/// Why a session changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("cannot read {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// Not a regular file, or too large ([`crate::repo::read_file`]).
    #[error("cannot read {path}")]
    ReadFile {
        path: String,
        #[source]
        source: crate::repo::ReadError,
    },
    /// Not UTF-8 (a record's diagnostic: path, line, hint).
    #[error("{}", located(.0))]
    Decode(Box<Diagnostic>),
    /// An edit function refused the text.
    #[error("{path}: {message}")]
    Edit { path: String, message: String },
    /// The edit would make the file invalid.
    #[error("{}: the change would make the record invalid: {}", located(.0), .0.message)]
    Invalid(Box<Diagnostic>),
    #[error("{0}: staff.toml would no longer be valid: {1}")]
    InvalidStaff(String, String),
    #[error("{0} already exists")]
    Exists(String),
    #[error(
        "{0} is a symbolic link: folio does not write through links (it could write outside the repository)"
    )]
    Link(String),
    #[error("{0} is changed or removed twice in one change")]
    Twice(String),
    #[error("{0} changed on disk while folio was working; run the command again")]
    Changed(String),
    #[error("{} uncommitted or staged changes: {}", if .0.len() == 1 { "a file to change has" } else { "files to change have" }, .0.join(", "))]
    Dirty(Vec<String>),
    #[error("--commit needs a git repository")]
    NotGit,
    #[error(transparent)]
    Tx(#[from] TxError),
    #[error(transparent)]
    Git(#[from] GitError),
    /// Nothing was written: git is not in a state to commit.
    #[error("{source}; nothing was changed")]
    NotCommitted {
        #[source]
        source: CommitError,
    },
    /// The files are written; staging them failed.
    #[error("{source}; the files are written, not staged")]
    NotStaged {
        #[source]
        source: CommitError,
    },
    /// The commit was not made; the files were put back as they were.
    #[error("{source}; the files were put back as they were")]
    Commit {
        #[source]
        source: CommitError,
    },
    /// The commit was not made and putting the files back failed too: the
    /// change is written but not committed.
    #[error("{source}; the files are written but not committed (putting them back failed: {undo})")]
    CommitNotUndone {
        #[source]
        source: CommitError,
        undo: TxError,
    },
}

impl SessionError {
    /// What kind of failure this is.
    pub fn kind(&self) -> crate::error::Kind {
        use crate::error::Kind;
        match self {
            SessionError::Read { .. }
            | SessionError::Git(_)
            | SessionError::NotStaged { .. }
            | SessionError::CommitNotUndone { .. } => Kind::Internal,
            SessionError::ReadFile { .. }
            | SessionError::Decode(_)
            | SessionError::Edit { .. }
            | SessionError::Invalid(_)
            | SessionError::InvalidStaff(..)
            | SessionError::Exists(_)
            | SessionError::Link(_)
            | SessionError::Twice(_)
            | SessionError::Changed(_)
            | SessionError::Dirty(_) => Kind::Refused,
            SessionError::NotGit => Kind::User,
            // a path folio will not write, or a journal it will not follow
            SessionError::Tx(t) if t.source.is_none() => Kind::Refused,
            SessionError::Tx(_) => Kind::Internal,
            SessionError::NotCommitted { source } | SessionError::Commit { source } => match source
            {
                CommitError::Refused { .. }
                | CommitError::InProgress(_)
                | CommitError::IndexLocked(_)
                | CommitError::NothingToCommit => Kind::Refused,
                CommitError::Git(_) | CommitError::Io { .. } => Kind::Internal,
            },
        }
    }

    /// A hint for the user, where one helps.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            SessionError::Dirty(_) => Some(
                "commit or discard those changes first, or pass --include-dirty to commit them with folio's change",
            ),
            SessionError::Commit {
                source: CommitError::Refused { .. },
            } => Some(
                "git refused the commit (a hook, signing, or git's own check, as it says above); fix that and run the command again",
            ),
            SessionError::NotCommitted {
                source: CommitError::InProgress(_),
            } => Some("finish or abort it first (git status says how), then run the command again"),
            SessionError::Commit {
                source: CommitError::IndexLocked(_),
            } => Some(
                "wait for that git command to end and run folio again; if no git command is running, a crashed one left the file: remove it",
            ),
            _ => None,
        }
    }
}

/// The bytes of `text`, behind a UTF-8 byte-order mark when `bom` (never
/// two: a mark the text starts with is not doubled).
fn with_mark(bom: bool, text: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(text.len() + 3);
    if bom {
        bytes.extend_from_slice(BOM);
    }
    bytes.extend_from_slice(text.strip_prefix('\u{feff}').unwrap_or(text).as_bytes());
    bytes
}

/// (device, inode) of a file, where the platform tells them.
fn identity(m: &std::fs::Metadata) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some((m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = m;
        None
    }
}

fn located(d: &Diagnostic) -> String {
    match (d.line, &d.field) {
        (Some(l), Some(f)) => format!("{}:{l}: {f}", d.path),
        (Some(l), None) => format!("{}:{l}", d.path),
        (None, Some(f)) => format!("{}: {f}", d.path),
        (None, None) => d.path.clone(),
    }
}

enum Change {
    Write {
        rel: String,
        original: Option<Original>,
        bytes: Vec<u8>,
        /// A new file that takes these permissions (a moved file's).
        permissions: Option<std::fs::Permissions>,
        /// A new path that is the moved file itself under another case.
        same_file: bool,
    },
    Remove {
        original: Original,
    },
}

impl Change {
    fn rel(&self) -> &str {
        match self {
            Change::Write { rel, .. } => rel,
            Change::Remove { original } => &original.rel,
        }
    }
}

/// How a session ends.
pub enum Finish {
    /// Write the files.
    Write,
    /// Write and stage them in git's index (a rename git should follow).
    Stage,
    /// Write and commit exactly them.
    Commit(CommitRequest),
}

/// A commit asked for.
pub struct CommitRequest {
    pub message: String,
    /// Commit files that already had uncommitted changes, with them.
    pub include_dirty: bool,
    /// The records' changed files, when the caller has just listed them
    /// (saves a second status of the whole folder).
    pub known_dirty: Option<Vec<String>>,
}

impl CommitRequest {
    pub fn new(message: impl Into<String>, include_dirty: bool) -> CommitRequest {
        CommitRequest {
            message: message.into(),
            include_dirty,
            known_dirty: None,
        }
    }
}

/// What a session did.
#[derive(Debug, Default, Clone)]
pub struct Applied {
    pub written: Vec<String>,
    pub removed: Vec<String>,
    pub commit: Option<Committed>,
    /// Errors the files already had (kept, not introduced).
    pub kept_errors: Vec<Diagnostic>,
}

/// The files of one change (see the module's documentation).
pub struct Session<'r> {
    repo: &'r Repo,
    as_of: NaiveDate,
    changes: Vec<Change>,
    seen: HashMap<String, usize>,
}

impl<'r> Session<'r> {
    pub fn new(repo: &'r Repo, as_of: NaiveDate) -> Session<'r> {
        Session {
            repo,
            as_of,
            changes: Vec::new(),
            seen: HashMap::new(),
        }
    }

    /// Read a file (relative to the data root) for editing.
    pub fn read(&self, rel: &str) -> Result<Original, SessionError> {
        let abs = self.repo.root.join(rel);
        let meta = std::fs::symlink_metadata(&abs).map_err(|source| SessionError::Read {
            path: rel.to_string(),
            source,
        })?;
        if meta.file_type().is_symlink() {
            return Err(SessionError::Link(rel.to_string()));
        }
        let bytes = crate::repo::read_file(&abs).map_err(|source| SessionError::ReadFile {
            path: rel.to_string(),
            source,
        })?;
        let bom = bytes.starts_with(BOM);
        let body = if bom { &bytes[BOM.len()..] } else { &bytes[..] };
        if let Err(d) = crate::records::decode(body, rel) {
            let mut d = d;
            if bom {
                // offsets of the file, not of the text after the mark
                d.message = d.message.replace(
                    &format!("at offset {}", body.len()),
                    &format!("at offset {}", bytes.len()),
                );
            }
            return Err(SessionError::Decode(Box::new(d)));
        }
        Ok(Original {
            rel: rel.to_string(),
            bytes,
            bom,
            permissions: Some(meta.permissions()),
            identity: identity(&meta),
        })
    }

    /// Read `rel`, apply `edit` to its text (without the byte-order mark)
    /// and stage the result. `edit` returns `None` when there is nothing to
    /// change. Returns whether the file changes.
    pub fn edit<E: std::fmt::Display>(
        &mut self,
        rel: &str,
        edit: impl FnOnce(&str) -> Result<Option<String>, E>,
    ) -> Result<bool, SessionError> {
        let original = self.read(rel)?;
        let new = edit(original.text()).map_err(|e| SessionError::Edit {
            path: rel.to_string(),
            message: e.to_string(),
        })?;
        match new {
            Some(t) if t != original.text() => {
                self.replace(original, &t)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn push(&mut self, c: Change) -> Result<(), SessionError> {
        let rel = c.rel().to_string();
        if self.seen.contains_key(&rel) {
            return Err(SessionError::Twice(rel));
        }
        self.seen.insert(rel, self.changes.len());
        self.changes.push(c);
        Ok(())
    }

    /// Stage `text` as the new content of a file read with [`read`]: its
    /// byte-order mark is kept.
    ///
    /// [`read`]: Session::read
    pub fn replace(&mut self, original: Original, text: &str) -> Result<(), SessionError> {
        let bytes = with_mark(original.bom, text);
        self.push(Change::Write {
            rel: original.rel.clone(),
            original: Some(original),
            bytes,
            permissions: None,
            same_file: false,
        })
    }

    /// Stage a new file; refused if one is there.
    pub fn create(&mut self, rel: &str, text: &str) -> Result<(), SessionError> {
        if std::fs::symlink_metadata(self.repo.root.join(rel)).is_ok() {
            return Err(SessionError::Exists(rel.to_string()));
        }
        self.push(Change::Write {
            rel: rel.to_string(),
            original: None,
            bytes: text.as_bytes().to_vec(),
            permissions: None,
            same_file: false,
        })
    }

    /// Stage the removal of a file read with [`Session::read`].
    pub fn remove(&mut self, original: Original) -> Result<(), SessionError> {
        self.push(Change::Remove { original })
    }

    /// Move a file to `to`, its bytes unchanged.
    pub fn rename(&mut self, original: Original, to: &str) -> Result<(), SessionError> {
        let text = original.text().to_string();
        self.move_to(original, to, &text)
    }

    /// Move a file to `to` with `text` as its content: its byte-order mark
    /// and permissions go with it. `to` may be the same file under another
    /// case (on a file system that ignores case); any other existing file
    /// there is refused.
    pub fn move_to(
        &mut self,
        original: Original,
        to: &str,
        text: &str,
    ) -> Result<(), SessionError> {
        let same_file = match std::fs::symlink_metadata(self.repo.root.join(to)) {
            Ok(m) => {
                if original.identity.is_none() || identity(&m) != original.identity {
                    return Err(SessionError::Exists(to.to_string()));
                }
                true
            }
            Err(_) => false,
        };
        let bytes = with_mark(original.bom, text);
        self.push(Change::Write {
            rel: to.to_string(),
            original: None,
            bytes,
            permissions: original.permissions.clone(),
            same_file,
        })?;
        self.push(Change::Remove { original })
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    pub fn len(&self) -> usize {
        self.changes.len()
    }

    /// The paths this session changes, in the order staged.
    pub fn paths(&self) -> Vec<String> {
        self.changes.iter().map(|c| c.rel().to_string()).collect()
    }

    /// Validate, write and (as `finish` says) stage or commit; see the
    /// module's documentation. Nothing is changed when an error comes back.
    pub fn apply(self, finish: Finish) -> Result<Applied, SessionError> {
        let mut applied = Applied::default();
        if self.changes.is_empty() {
            return Ok(applied);
        }
        // a session the command layer did not open for writing takes the
        // write lock now; the check below still tells a change made since
        // the files were read
        self.repo
            .lock_for_writing()
            .map_err(|source| SessionError::Read {
                path: self.repo.cache_dir().display().to_string(),
                source,
            })?;
        applied.kept_errors = self.validate()?;
        let git = match &finish {
            Finish::Write => None,
            Finish::Stage => GitRepo::open(&self.repo.root),
            Finish::Commit(_) => Some(GitRepo::open(&self.repo.root).ok_or(SessionError::NotGit)?),
        };
        if let (Finish::Commit(req), Some(g)) = (&finish, &git) {
            g.ready_to_commit()
                .map_err(|source| SessionError::NotCommitted { source })?;
            if !req.include_dirty {
                let dirty = self.unclean(g, req.known_dirty.as_deref())?;
                if !dirty.is_empty() {
                    return Err(SessionError::Dirty(dirty));
                }
            }
        }
        self.unchanged_on_disk()?;
        let mut writes: Vec<(String, Vec<u8>)> = Vec::new();
        let mut removes: Vec<String> = Vec::new();
        for c in &self.changes {
            match c {
                Change::Write { rel, bytes, .. } => writes.push((rel.clone(), bytes.clone())),
                Change::Remove { original } => removes.push(original.rel.clone()),
            }
        }
        let cache = self.repo.cache_dir();
        // a commit to make is the transaction's intent: killed before it is
        // made, the next folio command makes it (see [`recover`])
        let intent = match (&finish, &git) {
            (Finish::Commit(req), Some(g)) => Some(encode_intent(g.head_oid(), &req.message)),
            _ => None,
        };
        let tx = crate::transaction::begin(
            &self.repo.root,
            &cache,
            &writes,
            &removes,
            intent.as_deref(),
        )?;
        // a moved file keeps its permissions (the transaction gives a new
        // path the umask's)
        for c in &self.changes {
            if let Change::Write {
                rel,
                permissions: Some(p),
                ..
            } = c
            {
                let _ = std::fs::set_permissions(self.repo.root.join(rel), p.clone());
            }
        }
        // killed here: the files are written, not committed; a new
        // `--commit` refuses them as uncommitted changes (never twice)
        crate::transaction::fault("written");
        let files: Vec<FileChange> = writes
            .iter()
            .map(|(rel, b)| FileChange {
                rel,
                bytes: Some(b),
            })
            .chain(removes.iter().map(|rel| FileChange { rel, bytes: None }))
            .collect();
        applied.written = writes.iter().map(|(p, _)| p.clone()).collect();
        applied.removed = removes.clone();
        match (finish, git) {
            (Finish::Commit(req), Some(g)) => {
                let scratch =
                    crate::repo::prepare_cache_dir(&cache, "commit").map_err(|source| {
                        SessionError::Read {
                            path: cache.join("commit").display().to_string(),
                            source,
                        }
                    })?;
                match g.commit_files(&files, &req.message, &scratch) {
                    Ok(c) => {
                        applied.commit = Some(c);
                        if let Some(tx) = tx {
                            tx.finish();
                        }
                    }
                    Err(source) => {
                        // every file back as it was, from the backups
                        if let Some(tx) = tx {
                            tx.roll_back();
                        }
                        return Err(SessionError::Commit { source });
                    }
                }
            }
            (Finish::Stage, Some(g)) => {
                if let Some(tx) = tx {
                    tx.finish();
                }
                g.stage_files(&files)
                    .map_err(|source| SessionError::NotStaged { source })?
            }
            _ => {
                if let Some(tx) = tx {
                    tx.finish();
                }
            }
        }
        Ok(applied)
    }

    /// Check the exact bytes to be written: every record decodes and parses
    /// with no error it did not have; staff.toml still reads. Returns the
    /// errors the originals already had.
    fn validate(&self) -> Result<Vec<Diagnostic>, SessionError> {
        use rayon::prelude::*;
        // one file after another would take seconds for an import of
        // 100,000 records; the first problem in the session's order wins
        let checked: Vec<Result<Vec<Diagnostic>, SessionError>> = self
            .changes
            .par_iter()
            .map(|c| self.validate_one(c))
            .collect();
        let mut kept = Vec::new();
        for r in checked {
            kept.extend(r?);
        }
        Ok(kept)
    }

    /// [`Session::validate`] of one change: the errors kept.
    fn validate_one(&self, c: &Change) -> Result<Vec<Diagnostic>, SessionError> {
        let repo = self.repo;
        let Change::Write {
            rel,
            original,
            bytes,
            ..
        } = c
        else {
            return Ok(Vec::new());
        };
        if rel == crate::repo::STAFF_FILE {
            let text = std::str::from_utf8(bytes).unwrap_or_default();
            let was_valid = original
                .as_ref()
                .is_none_or(|o| crate::config::parse_staff(o.text(), rel).is_ok());
            if was_valid && let Err(d) = crate::config::parse_staff(text, rel) {
                let msg = d.first().map(|d| d.message.clone()).unwrap_or_default();
                return Err(SessionError::InvalidStaff(rel.clone(), msg));
            }
            return Ok(Vec::new());
        }
        if !crate::search::manifest::is_record_path(rel) {
            return Ok(Vec::new());
        }
        let ctx = crate::records::Context {
            schema: &repo.schema,
            staff: repo.staff_valid.then_some(&repo.staff),
            as_of: self.as_of,
        };
        let key = |d: &Diagnostic| (d.code, d.field.clone(), d.message.clone());
        // what the file will hold, byte for byte
        let text =
            crate::records::decode(bytes, rel).map_err(|d| SessionError::Decode(Box::new(d)))?;
        let after = crate::records::parse(text, rel, &ctx);
        let before: Vec<_> = match original {
            Some(o) => crate::records::parse(o.text(), rel, &ctx)
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .map(key)
                .collect(),
            None => Vec::new(),
        };
        let mut kept = Vec::new();
        for d in after.diagnostics {
            if d.severity != Severity::Error {
                continue;
            }
            if !before.contains(&key(&d)) {
                return Err(SessionError::Invalid(Box::new(d)));
            }
            kept.push(d);
        }
        Ok(kept)
    }

    /// Files of this session with uncommitted changes (work tree or index
    /// differs from HEAD), sorted.
    fn unclean(&self, g: &GitRepo, known: Option<&[String]>) -> Result<Vec<String>, SessionError> {
        let paths = self.paths();
        let records = paths
            .iter()
            .filter(|p| crate::search::manifest::is_record_path(p))
            .count();
        // One status of the records' folder, not one per file.
        let listed: Option<std::collections::HashSet<String>> = match known {
            Some(k) => Some(k.iter().cloned().collect()),
            None if records > 16 => Some(
                crate::watch::records_changed_since_head(
                    g,
                    &self.repo.root,
                    &self.repo.cache_dir(),
                    self.repo.config.watch.auto,
                )?
                .into_iter()
                .collect(),
            ),
            None => None,
        };
        let mut out = Vec::new();
        for p in &paths {
            let dirty = match &listed {
                Some(l) if crate::search::manifest::is_record_path(p) => l.contains(p),
                _ => g.is_dirty(p)?,
            };
            if dirty {
                out.push(p.clone());
            }
        }
        // a change staged and then undone in the file is not in a list
        // that `folio watch` kept: the index is asked too
        for p in g.staged_among(&paths)? {
            if !out.contains(&p) {
                out.push(p);
            }
        }
        out.sort();
        Ok(out)
    }

    /// Refuse when a file changed on disk since it was read (another
    /// writer), or a file to create appeared.
    fn unchanged_on_disk(&self) -> Result<(), SessionError> {
        for c in &self.changes {
            let (rel, want, same_file): (&str, Option<&[u8]>, bool) = match c {
                Change::Write {
                    rel,
                    original,
                    same_file,
                    ..
                } => (rel, original.as_ref().map(|o| &o.bytes[..]), *same_file),
                Change::Remove { original } => (&original.rel, Some(&original.bytes[..]), false),
            };
            let now = crate::repo::read_file(&self.repo.root.join(rel)).ok();
            match (want, now) {
                (Some(w), Some(n)) if w == n.as_slice() => {}
                (None, None) => {}
                // a case-only rename: the new name is the old file
                (None, Some(_)) if same_file => {}
                _ => return Err(SessionError::Changed(rel.to_string())),
            }
        }
        Ok(())
    }
}

/// The intent of a transaction that is to be committed: the HEAD it was
/// made on and the message.
fn encode_intent(base: Option<git2::Oid>, message: &str) -> String {
    let base = base.map_or_else(|| "unborn".to_string(), |o| o.to_string());
    format!("folio-commit 1\nbase {base}\n\n{message}")
}

fn decode_intent(text: &str) -> Option<(Option<git2::Oid>, &str)> {
    let rest = text.strip_prefix("folio-commit 1\nbase ")?;
    let (base, message) = rest.split_once("\n\n")?;
    let base = match base {
        "unborn" => None,
        hex => Some(git2::Oid::from_str(hex).ok()?),
    };
    Some((base, message))
}

/// Finish what a killed folio left half done in `repo`, before anything
/// reads the records: the files of an unfinished transaction are put in
/// place ([`crate::transaction::recover`]), and the commit it was to make
/// is made, or, when it was made and only git's index was not updated,
/// the index is brought up to date (and the `index.lock` the killed folio
/// held removed). When HEAD has moved on since, the files are left written
/// and uncommitted, and the report says so.
pub fn recover(repo: &Repo) -> Result<Vec<crate::transaction::Recovered>, TxError> {
    let cache = repo.cache_dir();
    crate::transaction::recover(&repo.root, &cache, &mut |intent| {
        finish_commit(repo, intent)
    })
}

fn finish_commit(repo: &Repo, intent: &crate::transaction::Intent) -> Result<String, String> {
    let (base, message) =
        decode_intent(intent.text).ok_or_else(|| "its commit could not be read".to_string())?;
    let g =
        GitRepo::open(&repo.root).ok_or_else(|| "the folder is no longer in git".to_string())?;
    let scratch = crate::repo::prepare_cache_dir(&repo.cache_dir(), "commit")
        .map_err(|e| format!("cannot create .folio/commit: {e}"))?;
    crate::git::remove_stale_index_lock(g.repo.path(), &scratch);
    let bytes: Vec<(&str, Option<Vec<u8>>)> = intent
        .paths
        .iter()
        .map(|p| (*p, std::fs::read(repo.root.join(p)).ok()))
        .collect();
    let files: Vec<FileChange> = bytes
        .iter()
        .map(|(rel, b)| FileChange {
            rel,
            bytes: b.as_deref(),
        })
        .collect();
    let head = g.head_oid();
    let short = |o: git2::Oid| o.to_string()[..10].to_string();
    if head == base {
        g.ready_to_commit().map_err(|e| {
            format!("its files are written but not committed ({e}); commit them yourself")
        })?;
        return match g.commit_files(&files, message, &scratch) {
            Ok(c) => Ok(format!("committed it as {}", short(c.oid))),
            Err(e) => Err(format!(
                "its files are written but the commit failed ({e}); commit them yourself"
            )),
        };
    }
    let made = head
        .and_then(|h| g.repo.find_commit(h).ok())
        .filter(|c| c.parent_id(0).ok() == base && c.message_raw().ok() == Some(message));
    match made {
        Some(c) => {
            g.stage_files(&files).map_err(|e| {
                format!(
                    "its commit {} is made but git's index could not be updated ({e}); run `git add` on its files",
                    short(c.id())
                )
            })?;
            Ok(format!(
                "its commit {} was made; git's index is brought up to date",
                short(c.id())
            ))
        }
        None => Err(
            "HEAD has moved since, so its files are written but not committed; commit them yourself"
                .to_string(),
        ),
    }
}
