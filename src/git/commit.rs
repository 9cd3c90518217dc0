//! Committing exactly the files folio wrote: from HEAD plus their new
//! contents, whatever else the user has staged, through the `git` program
//! when there is one (so that the user's hooks and commit signing apply as
//! they would to `git commit`), else through libgit2.
//!
//! With the `git` program the commit is made from a temporary index: a copy
//! of the real index (so the stat data of the 100,000 other files stays
//! valid and nothing is hashed again) in which the paths the user has
//! staged are put back to HEAD's version and folio's paths get their new
//! blobs. `git commit` runs with `GIT_INDEX_FILE` pointing at it, so a
//! pre-commit hook sees exactly what is being committed. Only when the
//! commit is made are folio's paths staged in the real index (other staged
//! changes stay staged); when a hook refuses, the real index is untouched.

use super::{GitError, GitRepo, ctx};
use git2::{FileMode, IndexEntry, IndexTime, Oid};
use std::path::{Path, PathBuf};

/// One file of a commit: its path relative to the data root, and its new
/// bytes (`None`: removed). The files are already in the work tree.
#[derive(Debug, Clone, Copy)]
pub struct FileChange<'a> {
    pub rel: &'a str,
    pub bytes: Option<&'a [u8]>,
}

/// A commit that was made.
#[derive(Debug, Clone)]
pub struct Committed {
    pub oid: Oid,
    /// Made by the `git` program (hooks and signing applied); false when
    /// there is none and libgit2 made it.
    pub by_git_program: bool,
    /// What git and the hooks printed, for the user to see.
    pub output: String,
    /// HEAD was detached: the commit is on no branch.
    pub detached: bool,
    /// Made, but folio's files could not be staged afterwards (another git
    /// process held the index): `git status` shows them as changed until
    /// `git add`.
    pub warning: Option<String>,
}

/// Why a commit was not made.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("cannot {what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// `git commit` failed: a hook refused, signing failed, no identity...
    #[error("git commit failed (exit status {status}){}", if output.trim().is_empty() { String::new() } else { format!(":\n{}", output.trim_end()) })]
    Refused { status: String, output: String },
    #[error("nothing to commit: the files are the same as in HEAD")]
    NothingToCommit,
    /// A merge, rebase, cherry-pick or revert is in progress: a commit now
    /// would conclude it.
    #[error("a {0} is in progress in git: folio will not commit in the middle of it")]
    InProgress(&'static str),
    /// Another git command holds the index.
    #[error("git's index is locked ({}): another git command is running", .0.display())]
    IndexLocked(PathBuf),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> CommitError {
    let what = what.into();
    move |source| CommitError::Io { what, source }
}

/// Whether to use the `git` program: it is on PATH and not turned off with
/// `FOLIO_NO_GIT_PROGRAM` (tests of the libgit2 path).
pub(crate) fn git_program_wanted() -> bool {
    std::env::var_os("FOLIO_NO_GIT_PROGRAM").is_none()
}

impl GitRepo {
    /// Commit `changes` (already written to the work tree) on top of HEAD
    /// with `message`, and nothing else: other staged changes stay staged
    /// and out of the commit. `scratch` is a folder for temporary files
    /// inside the data repository (`.folio/commit`).
    pub fn commit_files(
        &self,
        changes: &[FileChange],
        message: &str,
        scratch: &Path,
    ) -> Result<Committed, CommitError> {
        // Every object of the index is already in the object database;
        // checking each one again costs seconds on 100,000 records.
        git2::opts::strict_object_creation(false);
        let repo = &self.repo;
        // git's index lock first: HEAD and the index are read under it
        let mut held = if git_program_wanted() {
            Some(IndexLock::take(repo.path(), scratch)?)
        } else {
            None
        };
        let head = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let base = match &head {
            Some(c) => Some(ctx(c.tree(), || "cannot read HEAD's tree".into())?),
            None => None,
        };
        let git_paths: Vec<String> = changes.iter().map(|c| self.to_git(c.rel)).collect();
        let committed = match &base {
            Some(t) => ctx(super::tree_entries(repo, t, &git_paths), || {
                "cannot read HEAD's tree".into()
            })?,
            None => Default::default(),
        };
        let blobs = self.blobs(changes, &git_paths)?;
        let entries: Vec<Staged> = git_paths
            .iter()
            .zip(blobs)
            .map(|(gp, oid)| {
                let head_exec = committed
                    .get(gp)
                    .is_some_and(|e| e.1 == i32::from(FileMode::BlobExecutable));
                self.staged(gp.clone(), oid, head_exec)
            })
            .collect();
        if base.is_some()
            && entries
                .iter()
                .all(|e| committed.get(&e.git_path).map(|x| x.0) == e.blob.map(|b| b.0))
        {
            return Err(CommitError::NothingToCommit);
        }
        // without the git program (or with it turned off), libgit2
        let by_git = match held.as_mut() {
            Some(lock) => self.commit_by_git(&entries, message, scratch, base.as_ref(), lock)?,
            None => None,
        };
        let detached = repo.head_detached().unwrap_or(false);
        let made = match by_git {
            Some(c) => c,
            None => {
                // libgit2 takes git's lock itself
                drop(held);
                let mut c =
                    self.commit_by_libgit2(&entries, message, head.as_ref(), base.as_ref())?;
                // Stage folio's files in the real index; other staged
                // changes stay. The commit is made: a failure here is a
                // warning, never a reason to undo the files.
                c.warning = self.stage_entries(&entries, None).err();
                c
            }
        };
        let made = Committed { detached, ..made };
        Ok(made)
    }

    /// Refuse to commit while a merge, rebase, cherry-pick or revert is in
    /// progress (its commit would take folio's place, or the reverse).
    pub fn ready_to_commit(&self) -> Result<(), CommitError> {
        use git2::RepositoryState as S;
        let what = match self.repo.state() {
            S::Clean => return Ok(()),
            S::Merge => "merge",
            S::Revert | S::RevertSequence => "revert",
            S::CherryPick | S::CherryPickSequence => "cherry-pick",
            S::Bisect => "bisect",
            S::Rebase | S::RebaseInteractive | S::RebaseMerge => "rebase",
            S::ApplyMailbox | S::ApplyMailboxOrRebase => "git am",
        };
        Err(CommitError::InProgress(what))
    }

    /// The blob of each written file (`None` for a removed one), as `git
    /// add` would store it: through the `git` program when there is one
    /// (`hash-object --stdin-paths` applies the attributes' filters, such as
    /// `eol=crlf` or `core.autocrlf`), else the bytes as written.
    fn blobs(
        &self,
        changes: &[FileChange],
        git_paths: &[String],
    ) -> Result<Vec<Option<Oid>>, CommitError> {
        let written: Vec<&str> = changes
            .iter()
            .zip(git_paths)
            .filter(|(c, _)| c.bytes.is_some())
            .map(|(_, p)| p.as_str())
            .collect();
        let mut by_git = if git_program_wanted() && !written.is_empty() {
            self.hash_objects(&written)?
        } else {
            None
        }
        .map(Vec::into_iter);
        changes
            .iter()
            .map(|c| match c.bytes {
                None => Ok(None),
                Some(b) => match by_git.as_mut().and_then(Iterator::next) {
                    Some(oid) => Ok(Some(oid)),
                    None => ctx(self.repo.blob(b), || format!("cannot store {}", c.rel))
                        .map(Some)
                        .map_err(CommitError::from),
                },
            })
            .collect()
    }

    /// `git hash-object -w --stdin-paths` of work-tree paths; `None` when
    /// the program cannot be run.
    fn hash_objects(&self, paths: &[&str]) -> Result<Option<Vec<Oid>>, CommitError> {
        use std::io::Write as _;
        let mut child = match std::process::Command::new("git")
            .current_dir(self.workdir())
            .args(["hash-object", "-w", "--stdin-paths"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
        {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("run git hash-object")(e)),
            Ok(c) => c,
        };
        let mut input = String::with_capacity(paths.iter().map(|p| p.len() + 1).sum());
        for p in paths {
            input.push_str(p);
            input.push('\n');
        }
        let mut stdin = child.stdin.take();
        let feeder = std::thread::spawn(move || {
            if let Some(s) = stdin.as_mut() {
                let _ = s.write_all(input.as_bytes());
            }
            drop(stdin);
        });
        let out = child
            .wait_with_output()
            .map_err(io("run git hash-object"))?;
        let _ = feeder.join();
        if !out.status.success() {
            return Err(refused(
                &out.status,
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ));
        }
        let oids: Vec<Oid> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| Oid::from_str(l.trim()).ok())
            .collect();
        if oids.len() != paths.len() {
            return Err(CommitError::Refused {
                status: "0".into(),
                output: format!(
                    "git hash-object gave {} ids for {} files",
                    oids.len(),
                    paths.len()
                ),
            });
        }
        Ok(Some(oids))
    }

    /// Put `entries` in the real index, re-read from disk first (a `git
    /// add` made meanwhile is kept). With `from`, each entry is copied from
    /// that index (the one `git commit` used and refreshed: what a hook
    /// staged, with valid stat data); else it is built from the file.
    fn stage_entries(&self, entries: &[Staged], from: Option<&git2::Index>) -> Result<(), String> {
        let mut index = self
            .repo
            .index()
            .map_err(|e| format!("cannot open git's index: {}", e.message()))?;
        index
            .read(true)
            .map_err(|e| format!("cannot read git's index: {}", e.message()))?;
        put_entries(&mut index, entries, from)?;
        index.write().map_err(|e| {
            format!(
                "the commit is made, but git's index could not be updated ({}): run `git add` on the files",
                e.message()
            )
        })
    }

    /// Stage `changes` (already written to the work tree) in git's index,
    /// like `git add` / `git rm --cached` of just those paths.
    pub fn stage_files(&self, changes: &[FileChange]) -> Result<(), CommitError> {
        let git_paths: Vec<String> = changes.iter().map(|c| self.to_git(c.rel)).collect();
        let blobs = self.blobs(changes, &git_paths)?;
        let entries: Vec<Staged> = git_paths
            .into_iter()
            .zip(blobs)
            .map(|(gp, oid)| self.staged(gp, oid, false))
            .collect();
        self.stage_entries(&entries, None)
            .map_err(|output| CommitError::Refused {
                status: "0".into(),
                output,
            })
    }

    /// One file as it goes into an index: its blob (`None`: removed) with
    /// the mode `git add` would give it (executable when the work-tree file
    /// is; `exec` where that cannot be told).
    fn staged(&self, git_path: String, oid: Option<Oid>, exec: bool) -> Staged {
        let abs = self.workdir().join(&git_path);
        let mode = if executable(&abs).unwrap_or(exec) {
            FileMode::BlobExecutable
        } else {
            FileMode::Blob
        };
        Staged {
            blob: oid.map(|o| (o, mode)),
            git_path,
            abs,
        }
    }

    fn workdir(&self) -> PathBuf {
        self.repo
            .workdir()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    /// `git commit` from a temporary index; `Ok(None)` when the program
    /// cannot be run.
    fn commit_by_git(
        &self,
        entries: &[Staged],
        message: &str,
        scratch: &Path,
        base: Option<&git2::Tree>,
        lock: &mut IndexLock,
    ) -> Result<Option<Committed>, CommitError> {
        let work = self.workdir();
        // what the user has staged (HEAD to index), cheap with git's
        // cache of trees
        let mut cmd = std::process::Command::new("git");
        cmd.current_dir(&work)
            .args(["diff", "--cached", "--name-only", "-z", "--no-renames"])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        if base.is_none() {
            // an unborn branch: everything in the index is staged
            cmd.args(["--root"]);
        }
        let staged = match cmd.output() {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("run git")(e)),
            Ok(o) if base.is_some() && !o.status.success() => {
                return Err(CommitError::Refused {
                    status: o.status.to_string(),
                    output: "git diff --cached failed".into(),
                });
            }
            Ok(o) => o.stdout,
        };
        std::fs::create_dir_all(scratch).map_err(io(format!("create {}", scratch.display())))?;
        let tag = ulid::Ulid::new().to_string().to_lowercase();
        let tmp_index = scratch.join(format!("index-{tag}"));
        let msg_file = scratch.join(format!("message-{tag}"));
        let _cleanup = Cleanup(vec![
            tmp_index.clone(),
            msg_file.clone(),
            scratch.join(format!("index-{tag}.lock")),
        ]);
        let real = self.repo.path().join("index");
        let real_before = fingerprint(&real);
        match std::fs::copy(&real, &tmp_index) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("copy git's index")(e)),
        }
        let mut index = ctx(git2::Index::open(&tmp_index), || {
            "cannot open a temporary index".into()
        })?;
        // whether the user has staged anything besides folio's files
        let others_staged = reset_others(&mut index, &staged, entries, base)?;
        for e in entries {
            e.apply(&mut index).map_err(|source| GitError {
                what: format!("cannot stage {}", e.git_path),
                source,
            })?;
        }
        ctx(index.write(), || "cannot write a temporary index".into())?;
        drop(index);
        std::fs::write(&msg_file, message).map_err(io("write the commit message"))?;
        let mut cmd = std::process::Command::new("git");
        cmd.current_dir(&work)
            .env("GIT_INDEX_FILE", &tmp_index)
            .args(["commit", "--quiet", "--cleanup=verbatim", "-F"])
            .arg(&msg_file)
            .stdin(std::process::Stdio::null());
        if self.repo.signature().is_err() {
            // as libgit2 commits did: an identity when git has none
            for (k, v) in [
                ("GIT_AUTHOR_NAME", "folio"),
                ("GIT_AUTHOR_EMAIL", "folio@localhost"),
                ("GIT_COMMITTER_NAME", "folio"),
                ("GIT_COMMITTER_EMAIL", "folio@localhost"),
            ] {
                if std::env::var_os(k).is_none() {
                    cmd.env(k, v);
                }
            }
        }
        let out = match cmd.output() {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("run git commit")(e)),
            Ok(o) => o,
        };
        let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
        output.push_str(&String::from_utf8_lossy(&out.stderr));
        if !out.status.success() {
            return Err(refused(&out.status, output));
        }
        let oid = ctx(
            self.repo
                .head()
                .and_then(|h| h.peel_to_commit())
                .map(|c| c.id()),
            || "cannot read the new HEAD".into(),
        )?;
        // The commit is made: from here on, problems are warnings. The
        // real index gets folio's paths as `git commit` left them in the
        // temporary index (a hook's own `git add` included, stat data
        // refreshed), under the lock held since HEAD was read.
        crate::transaction::fault("git-committed");
        // When the user had nothing else staged, the commit's index is
        // exactly what the real one must become: it takes its place,
        // instead of reading and writing 100,000 entries again.
        let fast = !others_staged && real_before.is_some() && fingerprint(&real) == real_before;
        let warning = if fast {
            lock.install(&tmp_index)
                .err()
                .map(|e| format!("cannot update git's index: {e}"))
        } else {
            let copy = scratch.join(format!("index-real-{tag}"));
            let _gone = Cleanup(vec![
                copy.clone(),
                scratch.join(format!("index-real-{tag}.lock")),
            ]);
            (|| -> Result<(), String> {
                match std::fs::copy(&real, &copy) {
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(format!("cannot copy git's index: {e}")),
                }
                let used = git2::Index::open(&tmp_index)
                    .map_err(|e| format!("cannot read the commit's index: {}", e.message()))?;
                let mut index = git2::Index::open(&copy)
                    .map_err(|e| format!("cannot read git's index: {}", e.message()))?;
                put_entries(&mut index, entries, Some(&used))?;
                index
                    .write()
                    .map_err(|e| format!("cannot write git's index: {}", e.message()))?;
                lock.install(&copy)
                    .map_err(|e| format!("cannot update git's index: {e}"))
            })()
            .err()
        }
        .map(|e| format!("the commit is made, but {e}: run `git add` on the files"));
        Ok(Some(Committed {
            oid,
            by_git_program: true,
            output,
            detached: false,
            warning,
        }))
    }

    fn commit_by_libgit2(
        &self,
        entries: &[Staged],
        message: &str,
        head: Option<&git2::Commit>,
        base: Option<&git2::Tree>,
    ) -> Result<Committed, CommitError> {
        let repo = &self.repo;
        let mut builder = git2::build::TreeUpdateBuilder::new();
        for e in entries {
            match e.blob {
                Some((oid, mode)) => {
                    builder.upsert(e.git_path.as_str(), oid, mode);
                }
                None => {
                    builder.remove(e.git_path.as_str());
                }
            }
        }
        let empty;
        let base = match base {
            Some(t) => t,
            None => {
                let id = ctx(repo.treebuilder(None).and_then(|b| b.write()), || {
                    "cannot write a tree".into()
                })?;
                empty = ctx(repo.find_tree(id), || "cannot read a tree".into())?;
                &empty
            }
        };
        let tree_id = ctx(builder.create_updated(repo, base), || {
            "cannot write the tree".into()
        })?;
        let tree = ctx(repo.find_tree(tree_id), || "cannot read the tree".into())?;
        let sig = ctx(
            repo.signature()
                .or_else(|_| git2::Signature::now("folio", "folio@localhost")),
            || "cannot make a signature".into(),
        )?;
        let parents: Vec<&git2::Commit> = head.into_iter().collect();
        let oid = ctx(
            repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents),
            || "cannot commit".into(),
        )?;
        Ok(Committed {
            oid,
            by_git_program: false,
            output: String::new(),
            detached: false,
            warning: None,
        })
    }
}

/// One of folio's files as it goes into an index.
struct Staged {
    git_path: String,
    abs: PathBuf,
    blob: Option<(Oid, FileMode)>,
}

impl Staged {
    /// Put this file in `index`: its blob with the stat data of the file
    /// just written (what `git add` would record, without hashing it
    /// again), or no entry when it was removed.
    fn apply(&self, index: &mut git2::Index) -> Result<(), git2::Error> {
        let Some((oid, mode)) = self.blob else {
            return match index.remove_path(Path::new(&self.git_path)) {
                Err(e) if e.code() != git2::ErrorCode::NotFound => Err(e),
                _ => Ok(()),
            };
        };
        let mut e = IndexEntry {
            ctime: IndexTime::new(0, 0),
            mtime: IndexTime::new(0, 0),
            dev: 0,
            ino: 0,
            mode: u32::try_from(i32::from(mode)).unwrap_or(0o100644),
            uid: 0,
            gid: 0,
            file_size: 0,
            id: oid,
            flags: 0,
            flags_extended: 0,
            path: self.git_path.as_bytes().to_vec(),
        };
        #[cfg(unix)]
        if let Ok(md) = std::fs::symlink_metadata(&self.abs)
            && md.is_file()
        {
            use std::os::unix::fs::MetadataExt;
            // The index keeps 32 bits of each (as git does).
            e.ctime = IndexTime::new(md.ctime() as i32, md.ctime_nsec() as u32);
            e.mtime = IndexTime::new(md.mtime() as i32, md.mtime_nsec() as u32);
            e.dev = md.dev() as u32;
            e.ino = md.ino() as u32;
            e.uid = md.uid();
            e.gid = md.gid();
            e.file_size = md.len() as u32;
        }
        index.add(&e)
    }
}

/// In a temporary `index` (a copy of git's), put every path the user has
/// staged (`staged`: `git diff --cached -z` output) back to HEAD's version
/// (`base`), except folio's own `entries`; on an unborn branch, empty it.
/// Whether the user had staged anything besides folio's files.
fn reset_others(
    index: &mut git2::Index,
    staged: &[u8],
    entries: &[Staged],
    base: Option<&git2::Tree>,
) -> Result<bool, CommitError> {
    let mut others_staged = base.is_none();
    let ours: std::collections::HashSet<&str> =
        entries.iter().map(|e| e.git_path.as_str()).collect();
    if base.is_none() {
        ctx(index.clear(), || "cannot clear a temporary index".into())?;
    } else {
        for p in staged.split(|b| *b == 0).filter(|p| !p.is_empty()) {
            let Ok(p) = std::str::from_utf8(p) else {
                others_staged = true;
                continue;
            };
            if ours.contains(p) {
                continue;
            }
            others_staged = true;
            // back to HEAD's version
            match base.and_then(|t| t.get_path(Path::new(p)).ok()) {
                Some(e) => {
                    let entry = IndexEntry {
                        ctime: IndexTime::new(0, 0),
                        mtime: IndexTime::new(0, 0),
                        dev: 0,
                        ino: 0,
                        mode: e.filemode() as u32,
                        uid: 0,
                        gid: 0,
                        file_size: 0,
                        id: e.id(),
                        flags: 0,
                        flags_extended: 0,
                        path: p.as_bytes().to_vec(),
                    };
                    ctx(index.add(&entry), || format!("cannot reset {p}"))?;
                }
                None => {
                    let _ = index.remove_path(Path::new(p));
                }
            }
        }
    }
    Ok(others_staged)
}

/// Put `entries` in `index`. With `from`, each entry is copied from that
/// index (the one `git commit` used and refreshed: what a hook staged, with
/// valid stat data); else it is built from the file.
fn put_entries(
    index: &mut git2::Index,
    entries: &[Staged],
    from: Option<&git2::Index>,
) -> Result<(), String> {
    for e in entries {
        let r = match from {
            Some(src) => match src.get_path(Path::new(&e.git_path), 0) {
                Some(entry) => index.add(&entry),
                None => match index.remove_path(Path::new(&e.git_path)) {
                    Err(x) if x.code() != git2::ErrorCode::NotFound => Err(x),
                    _ => Ok(()),
                },
            },
            None => e.apply(index),
        };
        r.map_err(|x| format!("cannot stage {}: {}", e.git_path, x.message()))?;
    }
    Ok(())
}

/// Whether a work-tree file has an executable bit (what `git add` records
/// with `core.fileMode`); `None` where that cannot be told.
fn executable(abs: &Path) -> Option<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::symlink_metadata(abs)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = abs;
        None
    }
}

/// A git command that failed: its exit status and what it printed.
fn refused(status: &std::process::ExitStatus, output: String) -> CommitError {
    CommitError::Refused {
        status: status
            .code()
            .map_or_else(|| status.to_string(), |c| c.to_string()),
        output,
    }
}

/// What tells a file changed: (length, modification time, inode).
fn fingerprint(p: &Path) -> Option<(u64, std::time::SystemTime, u64)> {
    let m = std::fs::metadata(p).ok()?;
    #[cfg(unix)]
    let ino = {
        use std::os::unix::fs::MetadataExt;
        m.ino()
    };
    #[cfg(not(unix))]
    let ino = 0;
    Some((m.len(), m.modified().ok()?, ino))
}

/// git's `index.lock`, held while folio commits, the way git holds it:
/// created exclusively (another git command holding it makes folio wait a
/// little, then give up), the new index written into it and renamed over
/// the index, or removed when dropped. While it is held no git command
/// changes the index or commits, so the commit is built from the HEAD and
/// index it read. Its identity is noted in `scratch/held-index-lock`, so
/// that a recovery after a kill can tell folio's stale lock from another
/// program's ([`remove_stale_index_lock`]).
pub(crate) struct IndexLock {
    lock: PathBuf,
    real: PathBuf,
    note: PathBuf,
    done: bool,
}

const HELD_NOTE: &str = "held-index-lock";

impl IndexLock {
    fn take(git_dir: &Path, scratch: &Path) -> Result<IndexLock, CommitError> {
        let real = git_dir.join("index");
        let lock = git_dir.join("index.lock");
        let note = scratch.join(HELD_NOTE);
        std::fs::create_dir_all(scratch).map_err(io(format!("create {}", scratch.display())))?;
        let started = std::time::Instant::now();
        // how long to wait for another git command (tests shorten it in
        // debug builds)
        let patience = std::env::var("FOLIO_INDEX_LOCK_WAIT_MS")
            .ok()
            .filter(|_| cfg!(debug_assertions))
            .and_then(|v| v.parse().ok())
            .map_or(
                std::time::Duration::from_secs(10),
                std::time::Duration::from_millis,
            );
        loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&lock)
            {
                Ok(_) => break,
                Err(e)
                    if e.kind() == std::io::ErrorKind::AlreadyExists
                        && started.elapsed() < patience =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return Err(CommitError::IndexLocked(lock));
                }
                Err(e) => return Err(io(format!("create {}", lock.display()))(e)),
            }
        }
        let held = IndexLock {
            lock,
            real,
            note,
            done: false,
        };
        if let Some(id) = file_identity(&held.lock) {
            let _ = std::fs::write(&held.note, id);
        }
        Ok(held)
    }

    /// Make the index file at `new` git's index (its bytes written into the
    /// lock, the lock renamed over the index).
    fn install(&mut self, new: &Path) -> std::io::Result<()> {
        std::fs::copy(new, &self.lock)?;
        std::fs::rename(&self.lock, &self.real)?;
        self.done = true;
        Ok(())
    }
}

impl Drop for IndexLock {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.lock);
        }
        let _ = std::fs::remove_file(&self.note);
    }
}

/// (device, inode) of a file, as text.
fn file_identity(p: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::symlink_metadata(p).ok()?;
        Some(format!("{}:{}", m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = p;
        None
    }
}

/// Remove the `index.lock` a killed folio left in `git_dir` (the one its
/// note in `scratch` names; another program's lock is never touched).
/// True when one was removed.
pub(crate) fn remove_stale_index_lock(git_dir: &Path, scratch: &Path) -> bool {
    let note = scratch.join(HELD_NOTE);
    let Ok(id) = std::fs::read_to_string(&note) else {
        return false;
    };
    let lock = git_dir.join("index.lock");
    let ours = file_identity(&lock).is_some_and(|now| now == id);
    let removed = ours && std::fs::remove_file(&lock).is_ok();
    let _ = std::fs::remove_file(&note);
    removed
}

/// Removes temporary files when dropped.
struct Cleanup(Vec<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}
