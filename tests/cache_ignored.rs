//! Every command that makes the cache folder `.folio` makes it ignored
//! (`.folio/.gitignore` of `*`), in a repository that `folio init` did not
//! make: `git status` never lists it and `git add -A` never commits it.
//! The history commands (log, owners, handovers, check --changed-since,
//! pool due-for-release) made `.folio/history` without it.

mod common;
use common::{TestRepo, run};

/// A git repository (no `.gitignore` of its own) with one committed record.
fn repo() -> TestRepo {
    let t = TestRepo::new();
    t.customer("A1", "Acme GmbH", "Ann Lee", "DE", "");
    t.git_init();
    t.commit_all("one record", "alice", 1_700_000_000);
    t
}

/// What git's status lists under `.folio`, untracked and changed alike
/// (ignored paths are not listed).
fn cache_status(t: &TestRepo) -> Vec<String> {
    let repo = git2::Repository::open(t.root()).unwrap();
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false);
    let statuses = repo.statuses(Some(&mut opts)).unwrap();
    statuses
        .iter()
        .filter_map(|s| s.path().ok().map(str::to_string))
        .filter(|p| p.starts_with(".folio"))
        .collect()
}

/// Run `args` in a fresh repository; it must succeed and make `.folio`,
/// which git must not list.
fn assert_cache_ignored(args: &[&str]) {
    assert_cache_ignored_in(&repo(), args);
}

fn assert_cache_ignored_in(t: &TestRepo, args: &[&str]) {
    let (code, out, err) = run(t.folio().args(args));
    assert_eq!(code, 0, "{args:?}: {out}{err}");
    assert!(t.path(".folio").is_dir(), "{args:?} made no .folio");
    assert_eq!(t.read(".folio/.gitignore"), "*\n", "{args:?}");
    assert_eq!(cache_status(t), Vec::<String>::new(), "{args:?}");
}

#[test]
fn history_commands_make_an_ignored_cache() {
    for args in [
        &["log", "A1"][..],
        &["owners", "A1"],
        &["handovers"],
        &["check", "--changed-since", "HEAD", "--as-of", "2026-01-01"],
        &["pool", "due-for-release", "--as-of", "2026-01-01"],
    ] {
        assert_cache_ignored(args);
    }
}

#[test]
fn search_and_index_make_an_ignored_cache() {
    assert_cache_ignored(&["search", "acme"]);
    assert_cache_ignored(&["index"]);
}

#[test]
fn writing_commands_make_an_ignored_cache() {
    for args in [
        &["pool", "release", "A1", "--reason", "no reply", "--commit"][..],
        &["handover", "alice", "--to", "bob", "--as-of", "2026-01-01"],
    ] {
        assert_cache_ignored(args);
    }
}

#[test]
fn watch_makes_an_ignored_cache() {
    /// Stops the watcher however the test ends.
    struct Stop<'a>(&'a TestRepo);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            let _ = run(self.0.folio().args(["watch", "--stop"]));
        }
    }
    let t = repo();
    let _stop = Stop(&t);
    assert_cache_ignored_in(&t, &["watch", "--detach"]);
}

/// A cache made by an older folio, without the ignore file, is ignored
/// from the next command on.
#[test]
fn an_unignored_cache_is_mended() {
    let t = repo();
    t.write(".folio/history/stale.bin", "x");
    assert_eq!(cache_status(&t), [".folio/history/stale.bin"]);
    let (code, out, err) = run(t.folio().args(["log", "A1"]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(cache_status(&t), Vec::<String>::new());
    // and `git add -A` leaves it out
    let repo = git2::Repository::open(t.root()).unwrap();
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    assert!(
        index
            .iter()
            .all(|e| !String::from_utf8_lossy(&e.path).starts_with(".folio")),
        "{:?}",
        index
            .iter()
            .map(|e| String::from_utf8_lossy(&e.path).into_owned())
            .collect::<Vec<_>>()
    );
}
