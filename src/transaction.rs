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

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The folder under the cache directory that holds transactions.
pub const TX_DIR: &str = "tx";
const JOURNAL: &str = "journal";

/// Why a transaction did not happen (nothing was changed).
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
pub struct TxError {
    pub what: String,
    #[source]
    pub source: std::io::Error,
}

fn err(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> TxError {
    let what = what.into();
    move |source| TxError { what, source }
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

fn is_unsafe(rel: &str) -> bool {
    let p = Path::new(rel);
    rel.is_empty()
        || rel.contains(['\t', '\n', '\r'])
        || p.is_absolute()
        || p.components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
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
    if writes.is_empty() && removes.is_empty() {
        return Ok(());
    }
    for rel in writes.iter().map(|(p, _)| p).chain(removes) {
        if is_unsafe(rel) {
            return Err(TxError {
                what: format!("refusing to write outside the repository: {rel:?}"),
                source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
            });
        }
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(rel) = writes
        .iter()
        .map(|(p, _)| p)
        .chain(removes)
        .find(|p| !seen.insert(p.as_str()))
    {
        return Err(TxError {
            what: format!("{rel} is written or removed twice in one change; nothing was changed"),
            source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
        });
    }
    let _lock = lock(cache)?;
    // A transaction another process left behind comes first.
    recover_locked(root, cache)?;
    let id = ulid::Ulid::new().to_string().to_lowercase();
    let dir = crate::repo::prepare_cache_dir(cache, &format!("{TX_DIR}/{id}")).map_err(err(
        format!("cannot create {}", cache.join(TX_DIR).join(&id).display()),
    ))?;
    let cleanup = |e: TxError| {
        let _ = std::fs::remove_dir_all(&dir);
        e
    };
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
            source,
        }));
    }
    // Step 4.
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A test hook: `FOLIO_TX_FAULT=stage:N` (after the N-th file is staged),
/// `journal` (the journal written, not yet renamed into place),
/// `committed`, `rename:N` (after the N-th file is in place) or `written`
/// (an edit session's files in place, before its commit) ends the
/// process at once at that point, as a kill would, so that tests can check
/// recovery deterministically. Read only in debug builds.
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
    /// The journal was complete: its files were put in place.
    Finished { files: usize },
    /// Finishing failed; what had been done was undone.
    RolledBack { files: usize, reason: String },
    /// No journal yet: nothing had changed; the staged files were removed.
    Discarded,
}

/// Finish or clear the transactions a killed folio left in `cache`. Cheap
/// when there are none (one directory read); skipped while another process
/// holds the lock (its transaction is still running).
pub fn recover(root: &Path, cache: &Path) -> Result<Vec<Recovered>, TxError> {
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
    recover_locked(root, cache)
}

fn has_transactions(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut it| it.any(|e| e.is_ok_and(|e| e.path().is_dir())))
}

fn recover_locked(root: &Path, cache: &Path) -> Result<Vec<Recovered>, TxError> {
    let dir = cache.join(TX_DIR);
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(out);
    };
    let mut txs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    txs.sort(); // ulids: oldest first
    for tx in txs {
        let journal = std::fs::read_to_string(tx.join(JOURNAL))
            .ok()
            .and_then(|t| decode(&t));
        let done = match journal {
            None => Recovered::Discarded,
            Some(steps) => {
                let files = steps.len();
                match apply(root, &tx, &steps) {
                    Ok(()) => Recovered::Finished { files },
                    Err((rel, e)) => {
                        undo(root, &tx, &steps);
                        Recovered::RolledBack {
                            files,
                            reason: format!("cannot write {rel}: {e}"),
                        }
                    }
                }
            }
        };
        std::fs::remove_dir_all(&tx).map_err(err(format!("cannot remove {}", tx.display())))?;
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
        std::fs::create_dir_all(root.join("c")).unwrap();
        std::fs::write(root.join("c/old.toml"), "old").unwrap();
        std::fs::write(root.join("c/gone.toml"), "gone").unwrap();
        transact(
            root,
            &cache,
            &[
                ("c/old.toml".into(), b"new".to_vec()),
                ("c/d/fresh.toml".into(), b"fresh".to_vec()),
            ],
            &["c/gone.toml".into()],
        )
        .unwrap();
        assert_eq!(read(&root.join("c/old.toml")).as_deref(), Some("new"));
        assert_eq!(read(&root.join("c/d/fresh.toml")).as_deref(), Some("fresh"));
        assert!(!root.join("c/gone.toml").exists());
        assert!(!has_transactions(&cache.join(TX_DIR)));
        // A write that cannot happen (its folder is a file) undoes the rest.
        std::fs::write(root.join("blocker"), "x").unwrap();
        let e = transact(
            root,
            &cache,
            &[
                ("c/old.toml".into(), b"newer".to_vec()),
                ("blocker/x.toml".into(), b"x".to_vec()),
            ],
            &["c/d/fresh.toml".into()],
        )
        .unwrap_err();
        assert!(e.what.contains("blocker/x.toml"), "{}", e.what);
        assert_eq!(read(&root.join("c/old.toml")).as_deref(), Some("new"));
        assert_eq!(read(&root.join("c/d/fresh.toml")).as_deref(), Some("fresh"));
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
        std::fs::write(root.join("a.toml"), "a").unwrap();
        std::fs::set_permissions(root.join("a.toml"), std::fs::Permissions::from_mode(0o640))
            .unwrap();
        std::fs::write(root.join("probe"), "").unwrap();
        let umask_mode = mode("probe");
        transact(
            root,
            &cache,
            &[
                ("a.toml".into(), b"a2".to_vec()),
                ("b.toml".into(), b"b".to_vec()),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(mode("a.toml"), 0o640);
        assert_eq!(mode("b.toml"), umask_mode);
    }

    #[test]
    fn recovery_rolls_a_committed_journal_forward_and_discards_the_rest() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        let cache = root.join(".folio");
        let tx = cache.join(TX_DIR).join("01a");
        std::fs::create_dir_all(&tx).unwrap();
        std::fs::write(root.join("a.toml"), "a0").unwrap();
        std::fs::write(root.join("r.toml"), "r").unwrap();
        // Killed after the first rename: b is in place, a is still staged.
        let steps = vec![
            Step::Remove {
                n: 0,
                target: "r.toml".into(),
            },
            Step::Write {
                n: 1,
                target: "b.toml".into(),
                backup: false,
            },
            Step::Write {
                n: 2,
                target: "a.toml".into(),
                backup: true,
            },
        ];
        std::fs::write(root.join("b.toml"), "b1").unwrap();
        std::fs::write(staged(&tx, 2), "a1").unwrap();
        std::fs::hard_link(root.join("a.toml"), orig(&tx, 2)).unwrap();
        std::fs::write(tx.join(JOURNAL), encode(&steps)).unwrap();
        // And one killed before its commit point.
        let early = cache.join(TX_DIR).join("01b");
        std::fs::create_dir_all(&early).unwrap();
        std::fs::write(staged(&early, 0), "never").unwrap();
        let got = recover(root, &cache).unwrap();
        assert_eq!(
            got,
            vec![Recovered::Finished { files: 3 }, Recovered::Discarded]
        );
        assert_eq!(read(&root.join("a.toml")).as_deref(), Some("a1"));
        assert_eq!(read(&root.join("b.toml")).as_deref(), Some("b1"));
        assert!(!root.join("r.toml").exists());
        assert!(recover(root, &cache).unwrap().is_empty());
    }
}
