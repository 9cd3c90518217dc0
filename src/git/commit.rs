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
#[derive(Debug, Clone)]
pub struct FileChange {
    pub rel: String,
    pub bytes: Option<Vec<u8>>,
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
        let head = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let base = match &head {
            Some(c) => Some(ctx(c.tree(), || "cannot read HEAD's tree".into())?),
            None => None,
        };
        let git_paths: Vec<String> = changes.iter().map(|c| self.to_git(&c.rel)).collect();
        let committed = match &base {
            Some(t) => ctx(super::tree_entries(repo, t, &git_paths), || {
                "cannot read HEAD's tree".into()
            })?,
            None => Default::default(),
        };
        let mut entries: Vec<Staged> = Vec::with_capacity(changes.len());
        for (c, gp) in changes.iter().zip(&git_paths) {
            let blob = match &c.bytes {
                Some(b) => {
                    let oid = ctx(repo.blob(b), || format!("cannot store {}", c.rel))?;
                    let exec = committed
                        .get(gp)
                        .is_some_and(|e| e.1 == i32::from(FileMode::BlobExecutable));
                    Some((
                        oid,
                        if exec {
                            FileMode::BlobExecutable
                        } else {
                            FileMode::Blob
                        },
                    ))
                }
                None => None,
            };
            entries.push(Staged {
                git_path: gp.clone(),
                abs: self.workdir().join(gp),
                blob,
            });
        }
        if base.is_some()
            && entries
                .iter()
                .all(|e| committed.get(&e.git_path).map(|x| x.0) == e.blob.map(|b| b.0))
        {
            return Err(CommitError::NothingToCommit);
        }
        // without the git program (or with it turned off), libgit2
        let by_git = if git_program_wanted() {
            self.commit_by_git(&entries, message, scratch, base.as_ref())?
        } else {
            None
        };
        let made = match by_git {
            Some(c) => c,
            None => self.commit_by_libgit2(&entries, message, head.as_ref(), base.as_ref())?,
        };
        // Stage folio's files in the real index; other staged changes stay.
        let mut index = ctx(repo.index(), || "cannot open the index".into())?;
        for e in &entries {
            e.apply(&mut index).map_err(|source| GitError {
                what: format!("cannot stage {}", e.git_path),
                source,
            })?;
        }
        ctx(index.write(), || "cannot write the index".into())?;
        Ok(made)
    }

    /// Stage `changes` (already written to the work tree) in git's index,
    /// like `git add` / `git rm --cached` of just those paths.
    pub fn stage_files(&self, changes: &[FileChange]) -> Result<(), GitError> {
        let repo = &self.repo;
        let mut index = ctx(repo.index(), || "cannot open the index".into())?;
        for c in changes {
            let gp = self.to_git(&c.rel);
            let blob = match &c.bytes {
                Some(b) => {
                    let oid = ctx(repo.blob(b), || format!("cannot store {}", c.rel))?;
                    let exec = index.get_path(Path::new(&gp), 0).is_some_and(|e| {
                        e.mode == u32::try_from(i32::from(FileMode::BlobExecutable)).unwrap_or(0)
                    });
                    Some((
                        oid,
                        if exec {
                            FileMode::BlobExecutable
                        } else {
                            FileMode::Blob
                        },
                    ))
                }
                None => None,
            };
            let s = Staged {
                abs: self.workdir().join(&gp),
                git_path: gp,
                blob,
            };
            s.apply(&mut index).map_err(|source| GitError {
                what: format!("cannot stage {}", c.rel),
                source,
            })?;
        }
        ctx(index.write(), || "cannot write the index".into())
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
        match std::fs::copy(&real, &tmp_index) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("copy git's index")(e)),
        }
        let mut index = ctx(git2::Index::open(&tmp_index), || {
            "cannot open a temporary index".into()
        })?;
        let ours: std::collections::HashSet<&str> =
            entries.iter().map(|e| e.git_path.as_str()).collect();
        if base.is_none() {
            ctx(index.clear(), || "cannot clear a temporary index".into())?;
        } else {
            for p in staged.split(|b| *b == 0).filter(|p| !p.is_empty()) {
                let Ok(p) = std::str::from_utf8(p) else {
                    continue;
                };
                if ours.contains(p) {
                    continue;
                }
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
            return Err(CommitError::Refused {
                status: out
                    .status
                    .code()
                    .map_or_else(|| out.status.to_string(), |c| c.to_string()),
                output,
            });
        }
        let oid = ctx(
            self.repo
                .head()
                .and_then(|h| h.peel_to_commit())
                .map(|c| c.id()),
            || "cannot read the new HEAD".into(),
        )?;
        Ok(Some(Committed {
            oid,
            by_git_program: true,
            output,
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

/// Removes temporary files when dropped.
struct Cleanup(Vec<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}
