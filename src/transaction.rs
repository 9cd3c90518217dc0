//! Changes to many record files at once, all or nothing, even when the
//! process is killed half way (an import of 100,000 rows, a merge).
//!
//! A transaction lives in `.folio/tx/<ulid>/` inside the data repository (so
//! every rename stays on one file system):
//!
//! 1. every new text is written to a staged file `<n>.new`, and every file
//!    that will be replaced or removed gets a hard link `<n>.orig` (a backup
//!    that costs no copy);
//! 2. the journal, which lists the steps, is written to `journal.tmp` and
//!    renamed to `journal`: the commit point;
//! 3. the staged files are renamed into place and the removed files unlinked;
//! 4. the folder is deleted.
//!
//! A process killed before step 2 leaves a folder with no journal: nothing
//! in the repository changed, and the folder is deleted. Killed after it,
//! the journal is complete and the next folio command that opens the
//! repository finishes the renames ([`recover`]): roll forward. When a step
//! fails for another reason (a full disk, a permission), the steps already
//! taken are undone from the backups: roll back. A lock on the
//! folder `.folio/tx` keeps two transactions, or a transaction and a
//! recovery, from running at once.
//!
//! A transaction may carry an *intent* (the commit an edit session is to
//! make once the files are in place): its folder then stays until the
//! caller calls [`Written::finish`], and a recovery hands the intent back
//! (see [`recover`]) so that a killed `--commit` is committed after all.
//!
//! A repository can come from someone else, with a `.folio/tx` committed
//! in it: a journal is trusted only when this clone wrote it (a mark in
//! the git folder, which a clone never copies), and every step, new or
//! recovered, must pass [`check_target`] (inside the repository, a record
//! or a settings file, not under `.git` or `.folio`, no symbolic link on
//! the way). A journal that fails either stops the command, changing
//! nothing.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The folder under the cache directory that holds transactions.
pub const TX_DIR: &str = "tx";
const JOURNAL: &str = "journal";
const INTENT: &str = "intent";

/// Why a transaction did not happen (nothing was changed).
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
pub struct TxError {
    pub what: String,
    /// The system's reason, when there is one.
    #[source]
    pub source: Option<std::io::Error>,
}

fn err(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> TxError {
    let what = what.into();
    move |source| TxError {
        what,
        source: Some(source),
    }
}

/// One step of a transaction, as the journal lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// Put staged file `n` at `target`; `backup` tells whether `n.orig`
    /// holds the file that was there.
    Write {
        n: usize,
        target: String,
        backup: bool,
    },
    /// Remove `target`, kept as `n.orig` until the end.
    Remove { n: usize, target: String },
}

fn staged(dir: &Path, n: usize) -> PathBuf {
    dir.join(format!("{n}.new"))
}

fn orig(dir: &Path, n: usize) -> PathBuf {
    dir.join(format!("{n}.orig"))
}

/// The journal's text: one step per line, fields separated by tabs (paths
/// never hold a tab or a newline: the naming rule makes them). The last
/// line is `end`, so a journal cut short is recognised.
fn encode(steps: &[Step]) -> String {
    let mut s = String::from("folio-tx 1\n");
    for st in steps {
        match st {
            Step::Write { n, target, backup } => {
                s.push_str(&format!("W\t{n}\t{}\t{target}\n", u8::from(*backup)));
            }
            Step::Remove { n, target } => s.push_str(&format!("R\t{n}\t{target}\n")),
        }
    }
    s.push_str("end\n");
    s
}

fn decode(text: &str) -> Option<Vec<Step>> {
    let mut lines = text.lines();
    if lines.next()? != "folio-tx 1" {
        return None;
    }
    let mut steps = Vec::new();
    for line in lines {
        if line == "end" {
            return Some(steps);
        }
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            ["W", n, b, target] => steps.push(Step::Write {
                n: n.parse().ok()?,
                backup: *b == "1",
                target: target.to_string(),
            }),
            ["R", n, target] => steps.push(Step::Remove {
                n: n.parse().ok()?,
                target: target.to_string(),
            }),
            _ => return None,
        }
    }
    None
}

/// Why folio will not write at `rel` (relative to `root`), or `None`: the
/// path must be relative and plain (no `..`, no tab or newline), name a
/// record (see [`crate::repo::is_record_path`]) or `staff.toml` /
/// `folio.toml`, and no folder on the way to it, nor the file itself, may
/// be a symbolic link (a link to a folder elsewhere would take the write
/// out of the repository).
pub fn check_target(root: &Path, rel: &str) -> Option<String> {
    let p = Path::new(rel);
    let plain = !rel.is_empty()
        && !rel.contains(['\t', '\n', '\r', '\\'])
        && !p.is_absolute()
        && p.components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
    if !plain {
        return Some(format!("refusing to write outside the repository: {rel:?}"));
    }
    let known = crate::repo::is_record_path(rel)
        || rel == crate::repo::STAFF_FILE
        || rel == crate::repo::CONFIG_FILE;
    if !known {
        return Some(format!(
            "refusing to write {rel:?}: folio writes only records under customers/, staff.toml and folio.toml"
        ));
    }
    let mut at = root.to_path_buf();
    for c in p.components() {
        at.push(c);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                let shown = at.strip_prefix(root).unwrap_or(&at).display().to_string();
                return Some(format!(
                    "refusing to write {rel}: {shown} is a symbolic link (folio never writes through one)"
                ));
            }
            Ok(_) => {}
            Err(_) => break, // nothing further exists yet
        }
    }
    None
}

/// Hold the transaction lock of `cache` until dropped.
struct Lock(#[allow(dead_code)] File);

fn lock_file(cache: &Path) -> Result<File, TxError> {
    let dir = crate::repo::prepare_cache_dir(cache, TX_DIR).map_err(err(format!(
        "cannot create {}",
        cache.join(TX_DIR).display()
    )))?;
    // The lock is taken on the folder itself: no lock file is left behind.
    File::open(&dir).map_err(err(format!("cannot open {}", dir.display())))
}

fn lock(cache: &Path) -> Result<Lock, TxError> {
    let f = lock_file(cache)?;
    f.lock()
        .map_err(err(format!("cannot lock {}", cache.join(TX_DIR).display())))?;
    Ok(Lock(f))
}

/// Write files and remove files (paths relative to `root`) all or nothing
/// (see the module's documentation). `cache` is the repository's `.folio`.
///
/// A file that is replaced keeps its permissions (the staged copy takes the
/// original's mode before it is renamed into place); a new file is created
/// with the process's umask, as any other program's would be.
pub fn transact(
    root: &Path,
    cache: &Path,
    writes: &[(String, Vec<u8>)],
    removes: &[String],
) -> Result<(), TxError> {
    if let Some(w) = begin(root, cache, writes, removes, None)? {
        w.finish();
    }
    Ok(())
}

fn invalid(what: String) -> TxError {
    TxError { what, source: None }
}

/// A transaction whose files are in place, kept open: its lock is held and
/// its backups are kept until [`Written::finish`] (done) or
/// [`Written::roll_back`] (put every file back). Dropped without either
/// (a panic, a kill), the folder stays and the next recovery finishes the
/// files and hands back the intent.
pub struct Written {
    root: PathBuf,
    dir: PathBuf,
    mark: Option<PathBuf>,
    steps: Vec<Step>,
    _lock: Lock,
}

impl Written {
    /// The transaction is done: its folder and mark are removed.
    pub fn finish(self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(m) = &self.mark {
            let _ = std::fs::remove_file(m);
        }
    }

    /// Put every file back as it was before the transaction (from the
    /// backups, which are the original files themselves: modes and all).
    pub fn roll_back(self) {
        undo(&self.root, &self.dir, &self.steps);
        self.finish();
    }
}

/// [`transact`] with an `intent` kept beside the journal (written before
/// its commit point), the transaction left open: see [`Written`]. `None`
/// when there is nothing to do.
pub fn begin(
    root: &Path,
    cache: &Path,
    writes: &[(String, Vec<u8>)],
    removes: &[String],
    intent: Option<&str>,
) -> Result<Option<Written>, TxError> {
    if writes.is_empty() && removes.is_empty() {
        return Ok(None);
    }
    for rel in writes.iter().map(|(p, _)| p).chain(removes) {
        if let Some(why) = check_target(root, rel) {
            return Err(invalid(format!("{why}; nothing was changed")));
        }
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(rel) = writes
        .iter()
        .map(|(p, _)| p)
        .chain(removes)
        .find(|p| !seen.insert(p.as_str()))
    {
        return Err(invalid(format!(
            "{rel} is written or removed twice in one change; nothing was changed"
        )));
    }
    let lock = lock(cache)?;
    // A transaction another process left behind comes first (one with an
    // intent is finished by the edit session's recovery, which runs when
    // the repository is opened; here its files are put in place).
    recover_locked(root, cache, &mut |_| {
        Ok("its files are written; its commit is left to the repository's next opening".into())
    })?;
    let id = ulid::Ulid::new().to_string().to_lowercase();
    let dir = crate::repo::prepare_cache_dir(cache, &format!("{TX_DIR}/{id}")).map_err(err(
        format!("cannot create {}", cache.join(TX_DIR).join(&id).display()),
    ))?;
    let mark = trust_mark(root, cache, &id);
    let cleanup = |e: TxError| {
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_file(&mark);
        e
    };
    // This clone started the transaction: the mark that recovery asks for.
    (|| {
        if let Some(parent) = mark.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&mark, b"")
    })()
    .map_err(err(format!("cannot write {}", mark.display())))
    .map_err(cleanup)?;
    // Step 1: stage the new texts and link the originals.
    let mut steps: Vec<Step> = Vec::with_capacity(writes.len() + removes.len());
    for (n, target) in removes.iter().enumerate() {
        steps.push(Step::Remove {
            n,
            target: target.clone(),
        });
    }
    let base = removes.len();
    // one file after another: creating files in one folder takes the
    // folder's lock, and writers on both cores only spin on it (measured:
    // 1,000 files staged serially take half the system time)
    let backups: Vec<bool> = writes
        .iter()
        .enumerate()
        .map(|(i, (rel, text))| -> Result<bool, TxError> {
            let n = base + i;
            let to = staged(&dir, n);
            std::fs::write(&to, text)
                .map_err(err(format!("cannot stage {rel}; nothing was changed")))?;
            fault(&format!("stage:{}", i + 1));
            match std::fs::hard_link(root.join(rel), orig(&dir, n)) {
                Ok(()) => {
                    // the replaced file's mode, not the umask's
                    let keep = std::fs::metadata(orig(&dir, n)).map(|m| m.permissions());
                    keep.and_then(|p| std::fs::set_permissions(&to, p))
                        .map_err(err(format!("cannot stage {rel}; nothing was changed")))?;
                    Ok(true)
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
                Err(e) => Err(err(format!("cannot back up {rel}; nothing was changed"))(e)),
            }
        })
        .collect::<Result<_, _>>()
        .map_err(cleanup)?;
    for (n, rel) in removes.iter().enumerate() {
        std::fs::hard_link(root.join(rel), orig(&dir, n))
            .map_err(err(format!("cannot back up {rel}; nothing was changed")))
            .map_err(cleanup)?;
    }
    for (i, ((rel, _), backup)) in writes.iter().zip(backups).enumerate() {
        steps.push(Step::Write {
            n: base + i,
            target: rel.clone(),
            backup,
        });
    }
    if let Some(text) = intent {
        std::fs::write(dir.join(INTENT), text)
            .map_err(err(
                "cannot write the transaction's intent; nothing was changed",
            ))
            .map_err(cleanup)?;
    }
    // The staged texts reach the disk before the journal says they are
    // there (one flush of the file system, not one per file).
    crate::edit::sync_file_systems(std::iter::once(staged(&dir, base).as_path()))
        .map_err(err("cannot flush the staged files; nothing was changed"))
        .map_err(cleanup)?;
    // Step 2: the commit point.
    let tmp = dir.join("journal.tmp");
    (|| -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(encode(&steps).as_bytes())?;
        fault("journal");
        f.sync_all()?;
        std::fs::rename(&tmp, dir.join(JOURNAL))
    })()
    .map_err(err(
        "cannot write the transaction journal; nothing was changed",
    ))
    .map_err(cleanup)?;
    fault("committed");
    // Step 3.
    if let Err((rel, source)) = apply(root, &dir, &steps) {
        undo(root, &dir, &steps);
        return Err(cleanup(TxError {
            what: format!("cannot write {rel}; nothing was changed"),
            source: Some(source),
        }));
    }
    Ok(Some(Written {
        root: root.to_path_buf(),
        dir,
        mark: Some(mark),
        steps,
        _lock: lock,
    }))
}

/// Where this clone marks the transactions it starts: in the git folder
/// (`.git/folio-tx/<id>`), which a clone never copies, so that a
/// `.folio/tx` that came with the repository is never trusted; in a
/// folder that is not in git, beside the transactions.
fn trust_mark(root: &Path, cache: &Path, id: &str) -> PathBuf {
    match git_dir(root) {
        Some(g) => g.join("folio-tx").join(id),
        None => cache.join("tx-marks").join(id),
    }
}

/// The git folder of the work tree `root` is in, found the way git finds
/// it (a `.git` folder, or a `.git` file naming it: a linked work tree).
fn git_dir(root: &Path) -> Option<PathBuf> {
    let mut at = Some(root);
    while let Some(dir) = at {
        let dot = dir.join(".git");
        match std::fs::symlink_metadata(&dot) {
            Ok(m) if m.is_dir() => return Some(dot),
            Ok(m) if m.is_file() => {
                let text = std::fs::read_to_string(&dot).ok()?;
                let named = text.strip_prefix("gitdir:")?.trim();
                return Some(dir.join(named));
            }
            _ => at = dir.parent(),
        }
    }
    None
}

/// A test hook: `FOLIO_TX_FAULT=stage:N` (after the N-th file is staged),
/// `journal` (the journal written, not yet renamed into place),
/// `committed`, `rename:N` (after the N-th file is in place) or `written`
/// (an edit session's files in place, before its commit), `git-committed`
/// (git made the commit, git's index not yet written), and the search
/// index's `index-update:docs|committed|compacted` and
/// `index-rebuild:docs|committed|manifest|switched` ends the process at
/// once at that point, as a kill would, so that tests can check recovery
/// deterministically. Read only in debug builds.
pub(crate) fn fault(at: &str) {
    if cfg!(debug_assertions) && std::env::var("FOLIO_TX_FAULT").is_ok_and(|v| v == at) {
        std::process::abort();
    }
}

/// Take the steps of a committed journal; idempotent, so that a recovery
/// can run it again after a kill.
fn apply(root: &Path, dir: &Path, steps: &[Step]) -> Result<(), (String, std::io::Error)> {
    let mut renamed = 0usize;
    for st in steps {
        match st {
            Step::Remove { target, .. } => match std::fs::remove_file(root.join(target)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err((target.clone(), e)),
            },
            Step::Write { n, target, .. } => {
                let from = staged(dir, *n);
                if !from.exists() {
                    continue; // already in place
                }
                let to = root.join(target);
                let r = (|| {
                    if let Some(parent) = to.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    std::fs::rename(&from, &to)
                })();
                r.map_err(|e| (target.clone(), e))?;
                renamed += 1;
                fault(&format!("rename:{renamed}"));
            }
        }
    }
    Ok(())
}

/// Undo what [`apply`] did, from the backups.
fn undo(root: &Path, dir: &Path, steps: &[Step]) {
    for st in steps.iter().rev() {
        match st {
            Step::Write { n, target, backup } => {
                if staged(dir, *n).exists() {
                    continue; // never moved
                }
                let to = root.join(target);
                if *backup {
                    let _ = std::fs::rename(orig(dir, *n), &to);
                } else {
                    let _ = std::fs::remove_file(&to);
                }
            }
            Step::Remove { n, target } => {
                let to = root.join(target);
                if !to.exists() {
                    let _ = std::fs::rename(orig(dir, *n), &to);
                }
            }
        }
    }
}

/// What [`recover`] did with one transaction left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovered {
    /// The journal was complete: its files were put in place; `intent` is
    /// what the caller's handler said it did with the transaction's intent.
    Finished {
        files: usize,
        intent: Option<String>,
    },
    /// Finishing failed; what had been done was undone.
    RolledBack { files: usize, reason: String },
    /// No journal yet: nothing had changed; the staged files were removed.
    Discarded,
}

/// A finished transaction's intent, handed to the caller of [`recover`].
#[derive(Debug)]
pub struct Intent<'a> {
    pub text: &'a str,
    /// The paths the transaction wrote or removed.
    pub paths: Vec<&'a str>,
}

/// Finish or clear the transactions a killed folio left in `cache`. Cheap
/// when there are none (one directory read); skipped while another process
/// holds the lock (its transaction is still running). A transaction with
/// an intent is handed to `on_intent` once its files are in place; its
/// folder is removed after that (killed meanwhile, the next recovery hands
/// it over again, so the handler must be idempotent).
///
/// A transaction this clone did not start, or whose journal names a path
/// folio would not write, is refused: nothing is changed and an error says
/// which folder it is.
pub fn recover(
    root: &Path,
    cache: &Path,
    on_intent: &mut dyn FnMut(&Intent) -> Result<String, String>,
) -> Result<Vec<Recovered>, TxError> {
    let dir = cache.join(TX_DIR);
    if !has_transactions(&dir) {
        return Ok(Vec::new());
    }
    let f = lock_file(cache)?;
    match f.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Ok(Vec::new()),
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(err(format!("cannot lock {}", dir.display()))(e));
        }
    }
    recover_locked(root, cache, on_intent)
}

fn has_transactions(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut it| it.any(|e| e.is_ok_and(|e| e.path().is_dir())))
}

/// A transaction folder's journal, if it has a complete one that is safe
/// to follow; an error when it is not to be trusted.
fn trusted_journal(root: &Path, cache: &Path, tx: &Path) -> Result<Option<Vec<Step>>, TxError> {
    let shown = tx.strip_prefix(root).unwrap_or(tx).display().to_string();
    let refuse = |why: String| TxError {
        what: format!(
            "refusing the unfinished change in {shown}: {why}; nothing was changed (if you do not know where it came from, delete the folder)"
        ),
        source: None,
    };
    let journal = tx.join(JOURNAL);
    let text = match std::fs::symlink_metadata(&journal) {
        Err(_) => return Ok(None),
        Ok(m) if !m.is_file() => return Err(refuse("its journal is not a regular file".into())),
        Ok(m) if m.len() > 64 << 20 => return Err(refuse("its journal is too large".into())),
        Ok(_) => match std::fs::read_to_string(&journal) {
            Ok(t) => t,
            Err(_) => return Ok(None),
        },
    };
    let Some(steps) = decode(&text) else {
        return Ok(None); // cut short: before the commit point
    };
    let id = tx.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    if !trust_mark(root, cache, id).is_file() {
        return Err(refuse(
            "this clone did not start it (it may have come with the repository)".into(),
        ));
    }
    for st in &steps {
        let (Step::Write { target, .. } | Step::Remove { target, .. }) = st;
        if let Some(why) = check_target(root, target) {
            return Err(refuse(why));
        }
    }
    Ok(Some(steps))
}

fn recover_locked(
    root: &Path,
    cache: &Path,
    on_intent: &mut dyn FnMut(&Intent) -> Result<String, String>,
) -> Result<Vec<Recovered>, TxError> {
    let dir = cache.join(TX_DIR);
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(out);
    };
    // only real folders: a symbolic link is never followed
    let mut txs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    txs.sort(); // ulids: oldest first
    // every folder is judged before any is acted on
    let journals = txs
        .iter()
        .map(|tx| trusted_journal(root, cache, tx))
        .collect::<Result<Vec<_>, _>>()?;
    for (tx, journal) in txs.iter().zip(journals) {
        let done = match journal {
            None => Recovered::Discarded,
            Some(steps) => {
                let files = steps.len();
                match apply(root, tx, &steps) {
                    Ok(()) => {
                        let intent =
                            std::fs::read_to_string(tx.join(INTENT)).ok().map(|text| {
                                let paths = steps
                                .iter()
                                .map(|(Step::Write { target, .. } | Step::Remove { target, .. })| {
                                    target.as_str()
                                })
                                .collect();
                                on_intent(&Intent { text: &text, paths }).unwrap_or_else(|e| e)
                            });
                        Recovered::Finished { files, intent }
                    }
                    Err((rel, e)) => {
                        undo(root, tx, &steps);
                        Recovered::RolledBack {
                            files,
                            reason: format!("cannot write {rel}: {e}"),
                        }
                    }
                }
            }
        };
        std::fs::remove_dir_all(tx).map_err(err(format!("cannot remove {}", tx.display())))?;
        let id = tx.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let _ = std::fs::remove_file(trust_mark(root, cache, id));
        out.push(done);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(p: &Path) -> Option<String> {
        std::fs::read_to_string(p).ok()
    }

    #[test]
    fn journal_round_trip_and_truncation() {
        let steps = vec![
            Step::Remove {
                n: 0,
                target: "customers/de/a.toml".into(),
            },
            Step::Write {
                n: 1,
                target: "customers/de/b.toml".into(),
                backup: true,
            },
        ];
        let text = encode(&steps);
        assert_eq!(decode(&text), Some(steps));
        assert_eq!(decode(&text[..text.len() - 4]), None);
        assert_eq!(decode("junk"), None);
    }

    #[test]
    fn writes_and_removes_all_or_nothing() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        let cache = root.join(".folio");
        std::fs::create_dir_all(root.join("customers")).unwrap();
        std::fs::write(root.join("customers/old.toml"), "old").unwrap();
        std::fs::write(root.join("customers/gone.toml"), "gone").unwrap();
        transact(
            root,
            &cache,
            &[
                ("customers/old.toml".into(), b"new".to_vec()),
                ("customers/d/fresh.toml".into(), b"fresh".to_vec()),
            ],
            &["customers/gone.toml".into()],
        )
        .unwrap();
        assert_eq!(
            read(&root.join("customers/old.toml")).as_deref(),
            Some("new")
        );
        assert_eq!(
            read(&root.join("customers/d/fresh.toml")).as_deref(),
            Some("fresh")
        );
        assert!(!root.join("customers/gone.toml").exists());
        assert!(!has_transactions(&cache.join(TX_DIR)));
        // A write that cannot happen (its folder is a file) undoes the rest.
        std::fs::write(root.join("customers/blocker"), "x").unwrap();
        let e = transact(
            root,
            &cache,
            &[
                ("customers/old.toml".into(), b"newer".to_vec()),
                ("customers/blocker/x.toml".into(), b"x".to_vec()),
            ],
            &["customers/d/fresh.toml".into()],
        )
        .unwrap_err();
        assert!(e.what.contains("customers/blocker/x.toml"), "{}", e.what);
        assert_eq!(
            read(&root.join("customers/old.toml")).as_deref(),
            Some("new")
        );
        assert_eq!(
            read(&root.join("customers/d/fresh.toml")).as_deref(),
            Some("fresh")
        );
        assert!(!has_transactions(&cache.join(TX_DIR)));
        assert!(transact(root, &cache, &[("../x".into(), b"x".to_vec())], &[]).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_replaced_file_keeps_its_mode_and_a_new_one_follows_the_umask() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        let cache = root.join(".folio");
        let mode = |p: &str| {
            std::fs::metadata(root.join(p))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        std::fs::create_dir_all(root.join("customers")).unwrap();
        std::fs::write(root.join("customers/a.toml"), "a").unwrap();
        std::fs::set_permissions(
            root.join("customers/a.toml"),
            std::fs::Permissions::from_mode(0o640),
        )
        .unwrap();
        std::fs::write(root.join("probe"), "").unwrap();
        let umask_mode = mode("probe");
        transact(
            root,
            &cache,
            &[
                ("customers/a.toml".into(), b"a2".to_vec()),
                ("customers/b.toml".into(), b"b".to_vec()),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(mode("customers/a.toml"), 0o640);
        assert_eq!(mode("customers/b.toml"), umask_mode);
    }

    #[test]
    fn recovery_rolls_a_committed_journal_forward_and_discards_the_rest() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        let cache = root.join(".folio");
        let tx = cache.join(TX_DIR).join("01a");
        std::fs::create_dir_all(&tx).unwrap();
        std::fs::create_dir_all(root.join("customers")).unwrap();
        // started by this copy of the repository
        std::fs::create_dir_all(cache.join("tx-marks")).unwrap();
        std::fs::write(cache.join("tx-marks/01a"), "").unwrap();
        std::fs::write(root.join("customers/a.toml"), "a0").unwrap();
        std::fs::write(root.join("customers/r.toml"), "r").unwrap();
        // Killed after the first rename: b is in place, a is still staged.
        let steps = vec![
            Step::Remove {
                n: 0,
                target: "customers/r.toml".into(),
            },
            Step::Write {
                n: 1,
                target: "customers/b.toml".into(),
                backup: false,
            },
            Step::Write {
                n: 2,
                target: "customers/a.toml".into(),
                backup: true,
            },
        ];
        std::fs::write(root.join("customers/b.toml"), "b1").unwrap();
        std::fs::write(staged(&tx, 2), "a1").unwrap();
        std::fs::hard_link(root.join("customers/a.toml"), orig(&tx, 2)).unwrap();
        std::fs::write(tx.join(JOURNAL), encode(&steps)).unwrap();
        // And one killed before its commit point.
        let early = cache.join(TX_DIR).join("01b");
        std::fs::create_dir_all(&early).unwrap();
        std::fs::write(staged(&early, 0), "never").unwrap();
        let got = recover(root, &cache, &mut |_| Ok(String::new())).unwrap();
        assert_eq!(
            got,
            vec![
                Recovered::Finished {
                    files: 3,
                    intent: None
                },
                Recovered::Discarded
            ]
        );
        assert_eq!(read(&root.join("customers/a.toml")).as_deref(), Some("a1"));
        assert_eq!(read(&root.join("customers/b.toml")).as_deref(), Some("b1"));
        assert!(!root.join("customers/r.toml").exists());
        assert!(
            recover(root, &cache, &mut |_| Ok(String::new()))
                .unwrap()
                .is_empty()
        );
    }
}
