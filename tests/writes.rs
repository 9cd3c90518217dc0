//! Writes you can trust: every writer goes through the one edit session.
//! Regression tests for what ordinary commands used to break: a UTF-8
//! byte-order mark doubled, files turned 0600, unrelated staged changes
//! swept into folio's commit, the user's git hooks and signing skipped, a
//! refused commit leaving a half-done change.

mod common;
use common::{TestRepo, run};
use std::path::Path;

const AS_OF: &str = "2026-03-01";

/// A repository with two committed records (alpha with a BOM when asked)
/// and tag rules, at a pinned date.
fn setup(bom: bool) -> (TestRepo, String, String) {
    let t = TestRepo::new();
    t.write(
        "folio.toml",
        "[[tag_rules]]\nkeywords = [\"comparing\"]\ntag = \"comparing-competitors\"\nadvice = \"stress QC\"\n",
    );
    let a = t.customer("A1", "Alpha Co", "Jo Doe", "DE", "");
    let b = t.customer("B1", "Beta Co", "Bo Li", "FR", "");
    if bom {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice(t.read(&a).as_bytes());
        t.write_bytes(&a, &bytes);
    }
    t.git_init();
    t.commit_all("initial", "admin", 1_767_225_600);
    (t, a, b)
}

fn followup(t: &TestRepo, who: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "followup",
        who,
        "--channel",
        "email",
        "--summary",
        "Customer is comparing with another supplier",
        "--as-of",
        AS_OF,
    ];
    args.extend_from_slice(extra);
    run(t.folio().args(&args))
}

/// Paths changed by HEAD's commit.
fn head_paths(t: &TestRepo) -> Vec<String> {
    let repo = git2::Repository::open(t.root()).unwrap();
    let c = repo.head().unwrap().peel_to_commit().unwrap();
    let parent = c.parent(0).unwrap().tree().unwrap();
    let diff = repo
        .diff_tree_to_tree(Some(&parent), Some(&c.tree().unwrap()), None)
        .unwrap();
    diff.deltas()
        .map(|d| {
            d.new_file()
                .path()
                .or(d.old_file().path())
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

fn check_ok(t: &TestRepo) {
    let (code, out, err) = run(t.folio().args(["check", "--as-of", AS_OF]));
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn a_byte_order_mark_is_kept_once() {
    let (t, a, _) = setup(true);
    let (code, _, err) = followup(&t, "A1", &["--commit"]);
    assert_eq!(code, 0, "{err}");
    let bytes = std::fs::read(t.path(&a)).unwrap();
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
    assert!(!bytes[3..].starts_with(&[0xEF, 0xBB, 0xBF]), "two marks");
    check_ok(&t);
    // the committed blob is what is on disk
    let repo = git2::Repository::open(t.root()).unwrap();
    let tree = repo.head().unwrap().peel_to_tree().unwrap();
    let blob = tree
        .get_path(Path::new(&a))
        .unwrap()
        .to_object(&repo)
        .unwrap();
    assert_eq!(blob.as_blob().unwrap().content(), &bytes[..]);
    // tags --apply on the same file
    let (code, out, err) = run(t.folio().args(["tags", "--apply", "--as-of", AS_OF]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("added tags to 1 record"), "{out}");
    let bytes = std::fs::read(t.path(&a)).unwrap();
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]) && !bytes[3..].starts_with(&[0xEF, 0xBB, 0xBF]));
    check_ok(&t);
}

#[cfg(unix)]
#[test]
fn files_keep_their_mode_and_new_files_follow_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let (t, a, _) = setup(false);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    // what this process's umask gives a new file
    let probe = tempfile::tempdir().unwrap();
    std::fs::write(probe.path().join("p"), "").unwrap();
    let umask_mode = mode(&probe.path().join("p"));
    std::fs::set_permissions(t.path(&a), std::fs::Permissions::from_mode(0o664)).unwrap();
    let (code, _, err) = followup(&t, "A1", &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(mode(&t.path(&a)), 0o664);
    let (code, _, err) = run(t.folio().args(["tags", "--apply", "--as-of", AS_OF]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(mode(&t.path(&a)), 0o664);
    let (code, out, err) = run(t.folio().args([
        "new",
        "--name",
        "Gamma",
        "--contact",
        "Gil",
        "--country",
        "FR",
        "--as-of",
        AS_OF,
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        mode(&t.path("customers/fr/gamma--gil--fr.toml")),
        umask_mode,
        "{out}"
    );
    let (code, _, err) = run(t
        .folio()
        .args(["export", "--format", "json", "-o", "out.json"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(mode(&t.path("out.json")), umask_mode);
    let (code, _, err) = run(t.folio().args(["schema", "export", "-o", "s.json"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(mode(&t.path("s.json")), umask_mode);
    let d = tempfile::tempdir().unwrap();
    let (code, _, err) = run(common::folio_cmd().arg("init").arg(d.path().join("crm")));
    assert_eq!(code, 0, "{err}");
    assert_eq!(mode(&d.path().join("crm/folio.toml")), umask_mode);
    assert_eq!(mode(&d.path().join("crm/.githooks/pre-commit")), 0o755);
}

#[test]
fn a_commit_holds_only_folios_files_and_other_staged_changes_stay_staged() {
    let (t, a, b) = setup(false);
    // the user stages an unrelated change
    let staged = t.read(&b).replace("tier = \"B\"", "tier = \"A\"");
    t.write(&b, &staged);
    let repo = git2::Repository::open(t.root()).unwrap();
    let mut index = repo.index().unwrap();
    index.add_path(Path::new(&b)).unwrap();
    index.write().unwrap();
    let (code, out, err) = followup(&t, "A1", &["--commit"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("committed "), "{out}");
    assert_eq!(head_paths(&t), vec![a.clone()]);
    // b is still staged, with the user's change; a is clean
    let st = repo.status_file(Path::new(&b)).unwrap();
    assert_eq!(st, git2::Status::INDEX_MODIFIED);
    assert_eq!(
        repo.status_file(Path::new(&a)).unwrap(),
        git2::Status::CURRENT
    );
    // new and pool claim too
    let (code, _, err) = run(t.folio().args([
        "new",
        "--name",
        "Gamma",
        "--contact",
        "Gil",
        "--country",
        "FR",
        "--as-of",
        AS_OF,
        "--commit",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(head_paths(&t), ["customers/fr/gamma--gil--fr.toml"]);
    assert_eq!(
        repo.status_file(Path::new(&b)).unwrap(),
        git2::Status::INDEX_MODIFIED
    );
}

#[test]
fn uncommitted_changes_are_refused_the_same_way_everywhere() {
    let (t, a, _) = setup(false);
    let edited = t.read(&a).replace("tier = \"B\"", "tier = \"C\"");
    t.write(&a, &edited);
    let want = format!(
        "error: a file to change has uncommitted or staged changes: {a}\n\
hint: commit or discard those changes first, or pass --include-dirty to commit them with folio's change\n"
    );
    let h = t.head();
    for args in [
        vec![
            "followup",
            "A1",
            "--channel",
            "email",
            "--summary",
            "x",
            "--commit",
        ],
        vec!["pool", "release", "A1", "--reason", "cold", "--commit"],
        vec!["handover", "alice", "--to", "bob"],
        vec!["merge", "A1", "B1", "--prefer", "keep", "--commit"],
    ] {
        let mut args = args.clone();
        args.extend(["--as-of", AS_OF]);
        let (code, out, err) = run(t.folio().args(&args));
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (4, "", want.as_str()),
            "{args:?}"
        );
        assert_eq!(t.read(&a), edited, "{args:?}");
        assert_eq!(t.head(), h);
    }
    // on purpose: the hand edit goes into folio's commit
    let (code, _, err) = followup(&t, "A1", &["--commit", "--include-dirty"]);
    assert_eq!(code, 0, "{err}");
    assert!(t.read(&a).contains("tier = \"C\""));
    assert_eq!(head_paths(&t), vec![a.clone()]);
    // without --commit nothing is committed, so nothing is refused
    t.write(&a, &t.read(&a).replace("tier = \"C\"", "tier = \"D\""));
    let (code, _, err) = followup(&t, "A1", &[]);
    assert_eq!(code, 0, "{err}");
}

#[cfg(unix)]
#[test]
fn a_refusing_hook_changes_nothing_and_says_why() {
    let (t, a, _) = setup(false);
    let before = t.read(&a);
    let h = t.head();
    t.hook(
        "pre-commit",
        "echo \"pre-commit: no commits on Sunday\" >&2\nexit 1",
    );
    let (code, out, err) = followup(&t, "A1", &["--commit"]);
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (
            4,
            "",
            "error: git commit failed (exit status 1):\npre-commit: no commits on Sunday; the files were put back as they were\nhint: git refused the commit (a hook, signing, or git's own check, as it says above); fix that and run the command again\n"
        )
    );
    assert_eq!(t.read(&a), before);
    assert_eq!(t.head(), h);
    // a new record is taken away again
    let (code, _, _) = run(t.folio().args([
        "new",
        "--name",
        "Gamma",
        "--contact",
        "Gil",
        "--country",
        "FR",
        "--as-of",
        AS_OF,
        "--commit",
    ]));
    assert_eq!(code, 4);
    assert!(!t.path("customers/fr/gamma--gil--fr.toml").exists());
    let repo = git2::Repository::open(t.root()).unwrap();
    let index = repo.index().unwrap();
    assert!(
        index
            .get_path(Path::new("customers/fr/gamma--gil--fr.toml"), 0)
            .is_none()
    );
}

#[cfg(unix)]
#[test]
fn hooks_see_exactly_what_is_committed_and_can_add_to_the_message() {
    let (t, a, b) = setup(false);
    // the user has staged something else: the pre-commit hook must not see it
    t.write(&b, &t.read(&b).replace("tier = \"B\"", "tier = \"A\""));
    let repo = git2::Repository::open(t.root()).unwrap();
    let mut index = repo.index().unwrap();
    index.add_path(Path::new(&b)).unwrap();
    index.write().unwrap();
    t.hook(
        "pre-commit",
        "git diff --cached --name-only > .git/seen-by-hook",
    );
    t.hook("commit-msg", "printf '\\nReviewed-by: hook\\n' >> \"$1\"");
    let (code, _, err) = followup(&t, "A1", &["--commit"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(t.read(".git/seen-by-hook"), format!("{a}\n"));
    let c = repo.head().unwrap().peel_to_commit().unwrap();
    assert!(
        c.message().unwrap().ends_with("\nReviewed-by: hook\n"),
        "{:?}",
        c.message()
    );
}

#[cfg(unix)]
#[test]
fn commits_are_signed_when_git_is_set_to_sign() {
    use std::os::unix::fs::PermissionsExt;
    let (t, _, _) = setup(false);
    // a stand-in for gpg that git calls as it would call gpg
    let gpg = t.path(".git/fake-gpg");
    std::fs::write(
        &gpg,
        "#!/bin/sh\ncat > /dev/null\necho '[GNUPG:] SIG_CREATED D 1 8 00 1700000000 ABCDEF' >&2\nprintf -- '-----BEGIN PGP SIGNATURE-----\\n\\nZmFrZQ==\\n-----END PGP SIGNATURE-----\\n'\n",
    )
    .unwrap();
    std::fs::set_permissions(&gpg, std::fs::Permissions::from_mode(0o755)).unwrap();
    let repo = git2::Repository::open(t.root()).unwrap();
    let mut cfg = repo.config().unwrap();
    cfg.set_bool("commit.gpgsign", true).unwrap();
    cfg.set_str("gpg.program", gpg.to_str().unwrap()).unwrap();
    cfg.set_str("user.signingkey", "ABCDEF").unwrap();
    let (code, _, err) = followup(&t, "A1", &["--commit"]);
    assert_eq!(code, 0, "{err}");
    let h = t.head();
    let (sig, _) = repo.extract_signature(&h, None).unwrap();
    assert!(
        std::str::from_utf8(&sig)
            .unwrap()
            .contains("BEGIN PGP SIGNATURE"),
        "not signed"
    );
}

#[test]
fn without_the_git_program_libgit2_commits_only_folios_files() {
    let (t, a, b) = setup(false);
    t.write(&b, &t.read(&b).replace("tier = \"B\"", "tier = \"A\""));
    let repo = git2::Repository::open(t.root()).unwrap();
    let mut index = repo.index().unwrap();
    index.add_path(Path::new(&b)).unwrap();
    index.write().unwrap();
    let (code, out, err) = run(t.folio().env("FOLIO_NO_GIT_PROGRAM", "1").args([
        "followup",
        "A1",
        "--channel",
        "email",
        "--summary",
        "x",
        "--as-of",
        AS_OF,
        "--commit",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("committed "), "{out}");
    assert_eq!(
        err,
        "note: committed with libgit2 (no git program found): git hooks and commit signing were not applied\n"
    );
    assert_eq!(head_paths(&t), vec![a.clone()]);
    assert_eq!(
        repo.status_file(Path::new(&b)).unwrap(),
        git2::Status::INDEX_MODIFIED
    );
    assert_eq!(
        repo.status_file(Path::new(&a)).unwrap(),
        git2::Status::CURRENT
    );
}

#[test]
fn an_edit_never_adds_an_error_and_reports_one_already_there() {
    let (t, a, _) = setup(false);
    // an error already in the file (an unknown tier) stays, and is said
    t.write(&a, &t.read(&a).replace("tier = \"B\"", "tier = \"Q\""));
    let (code, out, err) = followup(&t, "A1", &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains(&format!("warning: {a}:6: "))
            && err.contains("already there; folio's change kept it"),
        "{err}"
    );
    assert!(t.read(&a).contains("tier = \"Q\""));
}

#[test]
fn pool_commands_take_include_dirty_too() {
    let (t, a, _) = setup(false);
    t.write(&a, &t.read(&a).replace("tier = \"B\"", "tier = \"C\""));
    let (code, out, err) = run(t.folio().args([
        "pool",
        "release",
        "A1",
        "--reason",
        "went cold",
        "--commit",
        "--include-dirty",
        "--as-of",
        AS_OF,
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("released Alpha Co-Jo Doe-DE from alice\ncommitted "),
        "{out}"
    );
    let text = t.read(&a);
    assert!(
        text.contains("tier = \"C\"") && !text.contains("owner ="),
        "{text}"
    );
    assert!(text.contains("pool_reason = \"went cold\""), "{text}");
    assert_eq!(head_paths(&t), vec![a.clone()]);
    // --include-dirty means nothing without --commit
    let (code, _, err) = run(t.folio().args([
        "pool",
        "claim",
        "A1",
        "--as",
        "bob",
        "--include-dirty",
        "--as-of",
        AS_OF,
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("--commit"), "{err}");
}

/// Killed between writing and committing (a fault point, not a timer): the
/// record is written and valid, HEAD is unchanged; the next folio command,
/// even a `check`, makes the commit that was asked for (the transaction's
/// intent), so the follow-up is neither lost from history nor logged twice.
#[test]
fn killed_before_the_commit_is_committed_by_the_next_command() {
    let (t, a, _) = setup(false);
    let h = t.head();
    let (code, _, _) = run(t.folio().env("FOLIO_TX_FAULT", "written").args([
        "followup",
        "A1",
        "--channel",
        "email",
        "--summary",
        "x",
        "--as-of",
        AS_OF,
        "--commit",
    ]));
    assert_eq!(code, -1, "the process was killed");
    assert_eq!(t.head(), h);
    assert_eq!(t.read(&a).matches("[[followups]]").count(), 1);
    let (code, _, err) = run(t.folio().args(["check"]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("committed it as "), "{err}");
    assert_ne!(t.head(), h);
    assert_eq!(head_paths(&t), vec![a.clone()]);
    assert_eq!(t.git(&["status", "--porcelain"]), "");
    assert_eq!(t.read(&a).matches("[[followups]]").count(), 1);
    // once only
    let (code, _, err) = run(t.folio().args(["check"]));
    assert_eq!(code, 0);
    assert!(!err.contains("committed"), "{err}");
}

/// Killed after git made the commit, before the index was replaced (it
/// holds git's `index.lock` all along): the next command removes that
/// stale lock and brings the index up to date, so a plain `git commit`
/// afterwards reverts nothing.
#[test]
fn killed_after_the_commit_leaves_no_stale_index() {
    let (t, a, _) = setup(false);
    let h = t.head();
    let (code, _, _) = run(t.folio().env("FOLIO_TX_FAULT", "git-committed").args([
        "followup",
        "A1",
        "--channel",
        "email",
        "--summary",
        "x",
        "--as-of",
        AS_OF,
        "--commit",
    ]));
    assert_eq!(code, -1, "the process was killed");
    assert_ne!(t.head(), h, "git made the commit");
    assert!(t.path(".git/index.lock").exists());
    let (code, _, err) = run(t.folio().args(["check"]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("git's index is brought up to date"), "{err}");
    assert!(!t.path(".git/index.lock").exists());
    assert_eq!(t.git(&["status", "--porcelain"]), "");
    assert_eq!(t.read(&a).matches("[[followups]]").count(), 1);
}

/// The handover report's overdue follow-ups are `folio due`'s: with a
/// cadence for tier A only, a tier-B customer still has its default
/// cadence, and a lost customer is never overdue.
#[test]
fn the_handover_report_and_due_agree_on_overdue_follow_ups() {
    let t = TestRepo::new();
    t.write("folio.toml", "[followups]\ncadence = { A = 5 }\n");
    let fu = "\n[[followups]]\ndate = 2025-06-01\nby = \"alice\"\nchannel = \"email\"\nsummary = \"x\"\nreplied = true\n";
    t.customer("B1", "Beta Co", "Bo Li", "FR", fu);
    let lost = t.customer("L1", "Lost Co", "Lo Ma", "FR", fu);
    t.write(
        &lost,
        &t.read(&lost).replace(
            "stage = \"contacted\"",
            "stage = \"lost\"\nlost_reason = \"price\"",
        ),
    );
    t.git_init();
    t.commit_all("initial", "admin", 1_767_225_600);
    let (code, out, err) = run(t
        .folio()
        .args(["due", "--as-of", AS_OF, "--format", "json"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"B1\"") && !out.contains("\"L1\""), "{out}");
    let (code, _, err) = run(t.folio().args([
        "handover",
        "alice",
        "--to",
        "bob",
        "--as-of",
        AS_OF,
        "--report",
        "report.md",
    ]));
    assert_eq!(code, 0, "{err}");
    let md = t.read("report.md");
    let overdue =
        &md[md.find("## Overdue follow-ups").unwrap()..md.find("## Last contact").unwrap()];
    assert!(overdue.contains("Beta Co-Bo Li-FR: due "), "{overdue}");
    assert!(!overdue.contains("Lost Co"), "{overdue}");
}

/// One weights parser: `handover` and `pool assign` take `2,1` and `2:1`
/// alike, and refuse a bad list with the same words.
#[test]
fn weights_read_the_same_in_handover_and_pool_assign() {
    let (t, _, _) = setup(false);
    let bad = "`2,x` is not a list of weights such as 3:2:1 (whole numbers from 1 to 1000)";
    for args in [
        vec![
            "handover",
            "alice",
            "--to",
            "bob,carol",
            "--dry-run",
            "--weights",
        ],
        vec![
            "pool",
            "assign",
            "--to",
            "alice,bob",
            "--dry-run",
            "--weights",
        ],
    ] {
        let mut ok = args.clone();
        ok.extend(["2,1", "--as-of", AS_OF]);
        let (code, _, err) = run(t.folio().args(&ok));
        // carol is inactive: handover refuses her, but not the weights
        assert!(!err.contains("weights"), "{ok:?}: {err}");
        assert!(code == 0 || err.contains("inactive"), "{ok:?}: {err}");
        let mut no = args.clone();
        no.extend(["2,x", "--as-of", AS_OF]);
        let (code, _, err) = run(t.folio().args(&no));
        assert_eq!(code, 2, "{no:?}");
        assert!(err.contains(bad), "{no:?}: {err}");
    }
}

/// Once git has made the commit, folio never undoes the files: a later
/// problem (git's index cannot be replaced: here a hook puts a folder where
/// folio's `index.lock` was) is a warning.
#[cfg(unix)]
#[test]
fn a_commit_made_is_never_undone() {
    let (t, a, _) = setup(false);
    t.hook(
        "post-commit",
        "rm -f .git/index.lock && mkdir .git/index.lock",
    );
    let (code, out, err) = followup(&t, "A1", &["--commit"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("committed "), "{out}");
    assert!(
        err.contains("warning: ") && err.contains("run `git add`"),
        "{err}"
    );
    std::fs::remove_dir(t.path(".git/index.lock")).unwrap();
    assert_eq!(t.read(&a).matches("[[followups]]").count(), 1);
    assert_eq!(head_paths(&t), vec![a.clone()]);
}

/// In the middle of a merge, folio's commit would conclude it: refused
/// before anything is written.
#[test]
fn no_commit_in_the_middle_of_a_merge() {
    let (t, a, b) = setup(false);
    t.git(&["checkout", "-q", "-b", "side"]);
    t.write("side.txt", "side\n");
    t.git(&["add", "side.txt"]);
    t.git(&["commit", "-qm", "side"]);
    t.git(&["checkout", "-q", "-"]);
    t.write(&b, &t.read(&b).replace("tier = \"B\"", "tier = \"A\""));
    t.git(&["commit", "-qam", "main"]);
    t.git(&["merge", "-q", "--no-commit", "--no-ff", "side"]);
    let before = t.read(&a);
    let h = t.head();
    let (code, out, err) = followup(&t, "A1", &["--commit"]);
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (
            4,
            "",
            "error: a merge is in progress in git: folio will not commit in the middle of it; nothing was changed\nhint: finish or abort it first (git status says how), then run the command again\n"
        )
    );
    assert_eq!(t.read(&a), before);
    assert_eq!(t.head(), h);
    // a handover too (it rewrites many records and staff.toml)
    let staff = t.read("staff.toml");
    let (code, _, err) = run(t
        .folio()
        .args(["handover", "alice", "--to", "bob", "--as-of", AS_OF]));
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("a merge is in progress in git"), "{err}");
    assert_eq!(t.read(&a), before);
    assert_eq!(t.read("staff.toml"), staff);
    assert_eq!(t.head(), h);
}

/// On a detached HEAD the commit is made, with a warning that it is on no
/// branch.
#[test]
fn a_commit_on_a_detached_head_is_warned_about() {
    let (t, _, _) = setup(false);
    t.git(&["checkout", "-q", "--detach"]);
    let (code, out, err) = followup(&t, "A1", &["--commit"]);
    assert_eq!(code, 0, "{err}");
    let id = &t.head().to_string()[..10];
    assert_eq!(out.lines().last(), Some(format!("committed {id}").as_str()));
    assert_eq!(
        err,
        format!(
            "warning: HEAD is detached: commit {id} is on no branch (`git switch -c NAME` keeps it on one)\n"
        )
    );
}

/// Attributes' filters apply as with `git add`: a CRLF work tree stored as
/// LF gets a commit of just the new lines, and a clean status after.
#[test]
fn commits_store_files_the_way_git_add_would() {
    let (t, a, _) = setup(false);
    t.write(".gitattributes", "*.toml text eol=crlf\n");
    t.git(&["add", ".gitattributes"]);
    t.git(&["commit", "-qm", "attributes"]);
    std::fs::remove_file(t.path(&a)).unwrap();
    t.git(&["checkout", "--", &a]);
    assert!(t.read(&a).contains("\r\n"));
    let (code, _, err) = followup(&t, "A1", &["--commit"]);
    assert_eq!(code, 0, "{err}");
    let stat = t.git(&["show", "--numstat", "--format=", "HEAD"]);
    assert!(stat.starts_with("7\t0\t"), "{stat}");
    assert_eq!(t.git(&["status", "--porcelain"]), "");
}

/// A pre-commit hook that edits and stages the file: the index ends as the
/// commit holds it, and a file the user had staged stays staged.
#[cfg(unix)]
#[test]
fn what_a_hook_stages_is_kept() {
    let (t, a, _) = setup(false);
    // staged before folio runs: it stays staged, out of folio's commit
    t.write("other.txt", "other\n");
    t.git(&["add", "other.txt"]);
    t.hook(
        "pre-commit",
        &format!("printf '# checked\\n' >> {a}\ngit add {a}"),
    );
    let (code, _, err) = followup(&t, "A1", &["--commit"]);
    assert_eq!(code, 0, "{err}");
    assert!(t.read(&a).ends_with("# checked\n"));
    // the record is committed as the hook left it; other.txt is staged
    assert_eq!(t.git(&["status", "--porcelain"]), "A  other.txt\n");
    assert_eq!(t.git(&["diff", "HEAD", "--", &a]), "");
}

/// `fix` never overwrites another file whose name differs only in case.
#[test]
fn fix_keeps_a_file_that_differs_only_in_case() {
    let t = TestRepo::new();
    let good = t.customer("A1", "Alpha Co", "Jo Doe", "DE", "");
    let upper = good.replace("alpha-co", "Alpha-Co");
    std::fs::rename(t.path(&good), t.path(&upper)).unwrap();
    t.write(
        &good,
        "# precious\nid = \"X\"\nname = \"\"\ncontact = \"x\"\ncountry = \"DE\"\n",
    );
    let (code, out, _) = run(t.folio().args(["fix", "--as-of", AS_OF]));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("skip {upper}: {good} already exists")),
        "{out}"
    );
    assert!(t.read(&good).starts_with("# precious"));
    assert!(t.path(&upper).exists());
}

/// A moved record keeps its byte-order mark and mode (merge to the naming
/// rule's path, fix); a removed one put back after a refused commit too.
#[cfg(unix)]
#[test]
fn moved_and_restored_files_keep_their_mark_and_mode() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let t = TestRepo::new();
    let good = t.customer("A1", "Alpha Co", "Jo Doe", "DE", "");
    let moved = "customers/de/misnamed.toml";
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend_from_slice(t.read(&good).as_bytes());
    std::fs::remove_file(t.path(&good)).unwrap();
    t.write_bytes(moved, &bytes);
    std::fs::set_permissions(t.path(moved), std::fs::Permissions::from_mode(0o664)).unwrap();
    let (code, out, err) = run(t.folio().args(["fix", "--as-of", AS_OF]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(std::fs::read(t.path(&good)).unwrap(), bytes);
    assert_eq!(mode(&t.path(&good)), 0o664);
    // merge: the other record, removed, comes back with its mode when a
    // hook refuses the commit
    let b = t.customer("B1", "Alpha Co", "Jo Doe", "FR", "");
    std::fs::set_permissions(t.path(&b), std::fs::Permissions::from_mode(0o640)).unwrap();
    t.git_init();
    t.commit_all("initial", "admin", 1_767_225_600);
    t.hook("pre-commit", "exit 1");
    let (code, _, _) = run(t.folio().args([
        "merge", "A1", "B1", "--prefer", "keep", "--commit", "--as-of", AS_OF,
    ]));
    assert_eq!(code, 4);
    assert_eq!(mode(&t.path(&b)), 0o640);
    assert_eq!(std::fs::read(t.path(&good)).unwrap(), bytes);
}

/// folio does not write through a symbolic link (it could point outside
/// the repository).
#[cfg(unix)]
#[test]
fn links_are_not_written_through() {
    let (t, _, _) = setup(false);
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("staff.toml");
    std::fs::write(&target, common::STAFF).unwrap();
    std::fs::remove_file(t.path("staff.toml")).unwrap();
    std::os::unix::fs::symlink(&target, t.path("staff.toml")).unwrap();
    t.git(&["add", "-A"]);
    t.git(&["commit", "-qm", "link"]);
    let (code, _, err) = run(t.folio().args([
        "handover",
        "alice",
        "--to",
        "bob",
        "--deactivate",
        "--as-of",
        AS_OF,
    ]));
    assert_eq!(code, 4);
    assert!(
        err.starts_with("error: staff.toml is a symbolic link: folio does not write through links"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), common::STAFF);
}

/// Errors the files already had are shown a few at a time, then counted:
/// a handover of thousands of records is not buried under them.
#[test]
fn errors_already_there_are_shown_a_few_then_counted() {
    let t = TestRepo::new();
    for i in 0..5 {
        let p = t.customer(&format!("C{i}"), &format!("Co {i}"), "Ann", "DE", "");
        t.write(&p, &t.read(&p).replace("tier = \"B\"", "tier = \"Q\""));
    }
    t.git_init();
    t.commit_all("initial", "admin", 1_767_225_600);
    let (code, _, err) = run(t
        .folio()
        .args(["handover", "alice", "--to", "bob", "--as-of", AS_OF]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err.matches("(already there; folio's change kept it as it was)")
            .count(),
        3,
        "{err}"
    );
    assert!(
        err.contains("warning: and 2 more errors already in 5 changed files (run `folio check`)\n"),
        "{err}"
    );
}
