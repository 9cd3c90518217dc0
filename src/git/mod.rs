//! Small git operations the commands share: opening the repository around
//! the data, the files changed since a revision, staging and committing.

mod commit;
pub(crate) use commit::remove_stale_index_lock;
pub use commit::{CommitError, Committed, FileChange};

use git2::{Oid, Repository, StatusOptions};
use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::path::Path;

/// A git failure, with what folio was doing.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {source}")]
pub struct GitError {
    pub what: String,
    #[source]
    pub source: git2::Error,
}

fn ctx<T>(r: Result<T, git2::Error>, what: impl FnOnce() -> String) -> Result<T, GitError> {
    r.map_err(|source| GitError {
        what: what(),
        source,
    })
}

/// Blob ids of paths in one tree, each folder's tree read once: a folder
/// of a large repository holds thousands of entries, and looking each path
/// up from the root would read and parse that folder's tree every time.
pub struct TreeLookup<'r> {
    repo: &'r Repository,
    root: git2::Tree<'r>,
    folders: std::collections::HashMap<String, Option<git2::Tree<'r>>>,
}

impl<'r> TreeLookup<'r> {
    pub fn new(repo: &'r Repository, root: &git2::Tree<'r>) -> TreeLookup<'r> {
        TreeLookup {
            repo,
            root: root.clone(),
            folders: std::collections::HashMap::new(),
        }
    }

    /// The blob at `path` (`/`-separated, from the tree's root), if any.
    pub fn blob(&mut self, path: &str) -> Option<git2::Oid> {
        let (folder, name) = match path.rsplit_once('/') {
            Some((f, n)) => (f, n),
            None => ("", path),
        };
        if !self.folders.contains_key(folder) {
            let t = if folder.is_empty() {
                Some(self.root.clone())
            } else {
                self.root
                    .get_path(Path::new(folder))
                    .ok()
                    .and_then(|e| e.to_object(self.repo).ok())
                    .and_then(|o| o.into_tree().ok())
            };
            self.folders.insert(folder.to_string(), t);
        }
        let t = self.folders.get(folder)?.as_ref()?;
        let e = t.get_name(name)?;
        (e.kind() == Some(git2::ObjectType::Blob)).then(|| e.id())
    }
}

/// The git repository that holds the data root, and the data root's path
/// inside its work tree (`""` when they are the same).
pub struct GitRepo {
    pub repo: Repository,
    pub prefix: String,
}

impl GitRepo {
    /// Open the repository containing `root`, if there is one.
    pub fn open(root: &Path) -> Option<GitRepo> {
        let repo = Repository::discover(root).ok()?;
        let workdir = repo.workdir()?.canonicalize().ok()?;
        let root = root.canonicalize().ok()?;
        let prefix = root.strip_prefix(&workdir).ok()?;
        let prefix = prefix
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        Some(GitRepo { repo, prefix })
    }

    /// A path relative to the data root as a path in the work tree.
    pub fn to_git(&self, rel: &str) -> String {
        if self.prefix.is_empty() {
            rel.to_string()
        } else {
            format!("{}/{rel}", self.prefix)
        }
    }

    /// A work-tree path as a path relative to the data root, if inside it.
    pub fn from_git(&self, p: &str) -> Option<String> {
        if self.prefix.is_empty() {
            Some(p.to_string())
        } else {
            p.strip_prefix(&self.prefix)
                .and_then(|r| r.strip_prefix('/'))
                .map(str::to_string)
        }
    }

    /// Files (relative to the data root) that differ between `rev` and the
    /// working tree, untracked files included; both sides of a rename.
    pub fn changed_since(&self, rev: &str) -> Result<BTreeSet<String>, GitError> {
        let obj = ctx(self.repo.revparse_single(rev), || {
            format!("cannot resolve revision `{rev}`")
        })?;
        let tree = ctx(obj.peel_to_tree(), || {
            format!("`{rev}` does not name a commit")
        })?;
        let mut opts = git2::DiffOptions::new();
        opts.include_untracked(true).recurse_untracked_dirs(true);
        if !self.prefix.is_empty() {
            opts.pathspec(&self.prefix);
        }
        let diff = ctx(
            self.repo
                .diff_tree_to_workdir_with_index(Some(&tree), Some(&mut opts)),
            || format!("cannot compare `{rev}` with the working tree"),
        )?;
        Ok(self.paths_of(&diff).collect())
    }

    /// Both sides of every change in `diff`, relative to the data root
    /// (paths outside it, or not UTF-8, left out).
    pub fn paths_of<'d>(&'d self, diff: &'d git2::Diff<'_>) -> impl Iterator<Item = String> + 'd {
        diff.deltas().flat_map(move |d| {
            [d.old_file(), d.new_file()]
                .into_iter()
                .filter_map(move |f| {
                    f.path()
                        .and_then(|p| p.to_str())
                        .and_then(|p| self.from_git(p))
                })
        })
    }

    /// Whether a file (relative to the data root) has uncommitted changes.
    /// The commit HEAD names (`None` on an unborn branch).
    pub fn head_oid(&self) -> Option<git2::Oid> {
        self.repo.head().ok()?.peel_to_commit().ok().map(|c| c.id())
    }

    pub fn is_dirty(&self, rel: &str) -> Result<bool, GitError> {
        let p = self.to_git(rel);
        match self.repo.status_file(Path::new(&p)) {
            Ok(s) => Ok(!s.is_empty() && s != git2::Status::IGNORED),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(false),
            Err(source) => Err(GitError {
                what: format!("cannot read the status of {rel}"),
                source,
            }),
        }
    }

    /// Those of `rels` whose entry in git's index differs from HEAD's (a
    /// change staged, whatever the file now holds), in order.
    pub fn staged_among(&self, rels: &[String]) -> Result<Vec<String>, GitError> {
        let index = ctx(self.repo.index(), || "cannot open the index".into())?;
        let tree = self.repo.head().ok().and_then(|h| h.peel_to_tree().ok());
        let mut lookup = tree.as_ref().map(|t| TreeLookup::new(&self.repo, t));
        let mut out = Vec::new();
        for rel in rels {
            let p = self.to_git(rel);
            let staged = index.get_path(Path::new(&p), 0).map(|e| e.id);
            let committed = lookup.as_mut().and_then(|l| l.blob(&p));
            if staged != committed {
                out.push(rel.clone());
            }
        }
        Ok(out)
    }

    /// Whether the work tree has any uncommitted change under the data root.
    pub fn dirty_paths(&self) -> Result<Vec<String>, GitError> {
        let mut opts = StatusOptions::new();
        opts.include_untracked(true).recurse_untracked_dirs(true);
        if !self.prefix.is_empty() {
            opts.pathspec(&self.prefix);
        }
        let st = ctx(self.repo.statuses(Some(&mut opts)), || {
            "cannot read the status".into()
        })?;
        Ok(st
            .iter()
            .filter_map(|e| e.path().ok().and_then(|p| self.from_git(p)))
            .collect())
    }

    /// Files under `dir` (relative to the data root) whose working copy
    /// differs from HEAD: changed, staged, deleted or untracked (both sides
    /// of a staged rename). Ignored files are left out.
    ///
    /// Asks the `git` program when there is one (about twice as fast as
    /// libgit2's status on 100,000 files, and it uses the user's fsmonitor
    /// or untracked cache if set up), else libgit2.
    pub fn changed_under(&self, dir: &str) -> Result<Vec<String>, GitError> {
        if let Some(list) = self.changed_under_by_git(dir) {
            return Ok(list);
        }
        self.changed_under_by_libgit2(dir)
    }

    /// `git status -z` of `dir`; None if git is not there or fails.
    fn changed_under_by_git(&self, dir: &str) -> Option<Vec<String>> {
        if std::env::var_os("FOLIO_NO_GIT_PROGRAM").is_some() {
            return None;
        }
        let work = self.repo.workdir()?;
        let out = std::process::Command::new("git")
            .current_dir(work)
            .args([
                "-c",
                "core.quotePath=false",
                "status",
                "--porcelain=v1",
                "-z",
                "--no-renames",
                "--untracked-files=all",
                "--ignore-submodules=all",
                "--",
            ])
            .arg(format!(":(literal){}", self.to_git(dir)))
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        let mut list = Vec::new();
        for entry in out.stdout.split(|b| *b == 0).filter(|e| !e.is_empty()) {
            // `XY PATH`, paths from the top of the work tree
            let path = std::str::from_utf8(entry.get(3..)?).ok()?;
            if entry.get(2) != Some(&b' ') {
                return None;
            }
            list.push(self.from_git(path)?);
        }
        list.sort();
        list.dedup();
        Some(list)
    }

    fn changed_under_by_libgit2(&self, dir: &str) -> Result<Vec<String>, GitError> {
        let opts = |update: bool| {
            let mut o = StatusOptions::new();
            o.include_untracked(true)
                .recurse_untracked_dirs(true)
                .include_ignored(false)
                .exclude_submodules(true)
                .renames_head_to_index(false)
                .update_index(update)
                .pathspec(self.to_git(dir));
            o
        };
        // Like `git status`, write back the stat data of files found
        // unchanged, so that the next call need not hash them again; when
        // the index is locked by another git process, only read.
        let st = match self.repo.statuses(Some(&mut opts(true))) {
            Ok(st) => st,
            Err(_) => ctx(self.repo.statuses(Some(&mut opts(false))), || {
                "cannot read the status".into()
            })?,
        };
        let mut out: Vec<String> = st
            .iter()
            .filter_map(|e| e.path().ok().and_then(|p| self.from_git(p)))
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Whether `rel` is tracked in the index.
    pub fn is_tracked(&self, rel: &str) -> bool {
        self.repo
            .index()
            .ok()
            .and_then(|i| i.get_path(Path::new(&self.to_git(rel)), 0))
            .is_some()
    }
}

/// The id and mode of each of `paths` (work-tree paths) in `tree`, reading
/// each folder's tree once (looking every path up on its own would read a
/// large folder's tree thousands of times).
pub fn tree_entries(
    repo: &git2::Repository,
    tree: &git2::Tree,
    paths: &[String],
) -> Result<std::collections::HashMap<String, (Oid, i32)>, git2::Error> {
    let mut by_dir: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for p in paths {
        let (dir, _) = p.rsplit_once('/').unwrap_or(("", p));
        by_dir.entry(dir).or_default().push(p);
    }
    let mut out = std::collections::HashMap::new();
    for (dir, list) in by_dir {
        let sub = if dir.is_empty() {
            Some(tree.clone())
        } else {
            match tree.get_path(Path::new(dir)) {
                Ok(e) if e.kind() == Some(git2::ObjectType::Tree) => Some(repo.find_tree(e.id())?),
                _ => None,
            }
        };
        let Some(sub) = sub else { continue };
        let names: std::collections::HashMap<&[u8], &str> = list
            .iter()
            .map(|p| (p.rsplit('/').next().unwrap_or(p).as_bytes(), *p))
            .collect();
        for e in sub.iter() {
            if let Some(p) = names.get(e.name_bytes()) {
                out.insert(p.to_string(), (e.id(), e.filemode()));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit_all(repo: &Repository) {
        let mut index = repo.index().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig =
            git2::Signature::new("t", "t@example.com", &git2::Time::new(1_700_000_000, 0)).unwrap();
        repo.commit(Some("HEAD"), &sig, &sig, "m", &tree, &[])
            .unwrap();
    }

    #[test]
    fn the_git_program_and_libgit2_list_the_same_changes() {
        let t = tempfile::tempdir().unwrap();
        let top = t.path();
        let root = top.join("data");
        let w = |rel: &str, text: &str| {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        for n in ["a", "b", "c", "d e", "ü"] {
            w(&format!("customers/de/{n}.toml"), n);
        }
        w("customers/fr/x.toml", "x");
        w("other/o.toml", "o");
        let repo = Repository::init(top).unwrap();
        commit_all(&repo);
        w("customers/de/a.toml", "changed");
        std::fs::remove_file(root.join("customers/de/b.toml")).unwrap();
        w("customers/new/n.toml", "untracked, in a new folder");
        w("customers/de/d e.toml", "changed too");
        w("customers/de/line\nbreak.toml", "odd name");
        w("customers/de/staged.toml", "staged");
        w("other/o.toml", "outside customers/");
        let mut index = repo.index().unwrap();
        index
            .add_path(Path::new("data/customers/de/staged.toml"))
            .unwrap();
        index.write().unwrap();
        let g = GitRepo::open(&root).unwrap();
        assert_eq!(g.prefix, "data");
        let lib = g.changed_under_by_libgit2("customers").unwrap();
        assert_eq!(
            lib,
            [
                "customers/de/a.toml",
                "customers/de/b.toml",
                "customers/de/d e.toml",
                "customers/de/line\nbreak.toml",
                "customers/de/staged.toml",
                "customers/new/n.toml"
            ]
        );
        // where the git program runs, it says the same
        if std::process::Command::new("git")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            assert_eq!(g.changed_under_by_git("customers"), Some(lib));
        }
    }
}
