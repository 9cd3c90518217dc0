//! A repository someone else prepared, several writers at once, and kills:
//! nothing is written outside the repository and no update is lost.

mod common;

use common::*;
use std::path::Path;

const AS_OF: &str = "2026-03-02";

/// A committed repository with two customers.
fn setup() -> (TestRepo, String) {
    let t = TestRepo::new();
    let a = t.customer("A1", "Alpha Co", "Jo Doe", "DE", "");
    t.customer("B1", "Beta Co", "Bo Li", "FR", "");
    t.git_init();
    t.commit_all("initial", "admin", 1_767_225_600);
    (t, a)
}

fn followup_args<'a>(who: &'a str, summary: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "followup",
        who,
        "--channel",
        "email",
        "--summary",
        summary,
        "--as-of",
        AS_OF,
    ];
    v.extend_from_slice(extra);
    v
}

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| !e.file_type().is_dir())
        .map(|e| {
            e.path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    out.sort();
    out
}

/// The attack: a `.folio/tx` journal committed into the repository, with
/// absolute, `../` and `.git/hooks` targets. In a clone, `folio check` (as
/// CI runs it) refuses it, names it, and changes nothing.
#[cfg(unix)]
#[test]
fn a_journal_that_came_with_the_repository_is_refused() {
    let (origin, _) = setup();
    let outside = tempfile::tempdir().unwrap();
    let planted = outside.path().join("planted.toml");
    let tx = ".folio/tx/01jattack000000000000000000";
    let payload = "#!/bin/sh\necho pwned > pwned.txt\n";
    for n in 0..3 {
        origin.write(&format!("{tx}/{n}.new"), payload);
    }
    origin.write(
        &format!("{tx}/journal"),
        &format!(
            "folio-tx 1\nW\t0\t0\t{}\nW\t1\t0\t../../outside.toml\nW\t2\t0\t.git/hooks/pre-commit\nend\n",
            planted.display()
        ),
    );
    origin.git(&["add", "-f", ".folio"]);
    origin.git(&["commit", "-qm", "innocent"]);
    let clone_dir = tempfile::tempdir().unwrap();
    let clone = clone_dir.path().join("clone");
    let ok = std::process::Command::new("git")
        .args(["clone", "-q"])
        .arg(origin.root())
        .arg(&clone)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .status()
        .unwrap();
    assert!(ok.success());
    let before = files_under(&clone);
    let out = folio_at(&clone, &["check", "--as-of", AS_OF]);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert_eq!(
        err,
        format!(
            "error: refusing the unfinished change in {tx}: this clone did not start it (it may have come with the repository); nothing was changed (if you do not know where it came from, delete the folder)\n"
        )
    );
    assert!(!planted.exists());
    assert!(!clone.join(".git/hooks/pre-commit").exists());
    assert!(!clone_dir.path().join("outside.toml").exists());
    // (the cache folder's own ignore file aside)
    let mut after = files_under(&clone);
    after.retain(|f| f != ".folio/.gitignore");
    assert_eq!(after, before, "nothing changed in the clone");
    // the same journal, as if this clone had started it (its mark forged
    // in the git folder), is still refused for its paths
    std::fs::create_dir_all(clone.join(".git/folio-tx")).unwrap();
    std::fs::write(clone.join(".git/folio-tx/01jattack000000000000000000"), "").unwrap();
    let out = folio_at(&clone, &["check", "--as-of", AS_OF]);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("refusing to write outside the repository"),
        "{err}"
    );
    assert!(!planted.exists());
    assert!(!clone.join(".git/hooks/pre-commit").exists());
}

/// A journal naming only a hook, with its mark: still refused (folio
/// writes records and settings files, never under `.git`).
#[cfg(unix)]
#[test]
fn a_journal_never_writes_into_the_git_folder() {
    let (t, _) = setup();
    let tx = ".folio/tx/01jhook0000000000000000000";
    t.write(&format!("{tx}/0.new"), "#!/bin/sh\necho pwned\n");
    t.write(
        &format!("{tx}/journal"),
        "folio-tx 1\nW\t0\t0\t.git/hooks/pre-commit.toml\nend\n",
    );
    t.write(".git/folio-tx/01jhook0000000000000000000", "");
    let (code, _, err) = run(t.folio().args(["check", "--as-of", AS_OF]));
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("folio writes only records under customers/, staff.toml and folio.toml"),
        "{err}"
    );
    assert!(!t.path(".git/hooks/pre-commit.toml").exists());
}

/// Twenty `folio followup` runs on one customer at once: every one that
/// says it succeeded has its entry in the file.
#[test]
fn twenty_followups_at_once_all_land() {
    let (t, a) = setup();
    let children: Vec<_> = (0..20)
        .map(|i| {
            let summary = format!("call number {i}");
            folio_std()
                .current_dir(t.root())
                .args(followup_args("A1", &summary, &[]))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut ok = 0;
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        ok += 1;
    }
    assert_eq!(ok, 20);
    let text = t.read(&a);
    for i in 0..20 {
        assert!(text.contains(&format!("call number {i}\"")), "{i} lost");
    }
    assert_eq!(text.matches("[[followups]]").count(), 20);
    let (code, out, err) = run(t.folio().args(["check", "--as-of", AS_OF]));
    assert_eq!(code, 0, "{out}{err}");
}

/// Writers that commit at the same time (follow-ups on two customers and a
/// pool release): each commit is built on the HEAD before it, so none
/// reverts another, and HEAD ends equal to the work tree.
#[test]
fn commits_at_once_never_revert_each_other() {
    let (t, a) = setup();
    let h = t.head();
    let children: Vec<_> = (0..6)
        .map(|i| {
            let who = if i % 2 == 0 { "A1" } else { "B1" };
            let summary = format!("committed call {i}");
            folio_std()
                .current_dir(t.root())
                .args(followup_args(who, &summary, &["--commit"]))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
    }
    assert_eq!(t.git(&["status", "--porcelain"]), "");
    let count = t.git(&["rev-list", "--count", &format!("{h}..HEAD")]);
    assert_eq!(count.trim(), "6");
    let at_head = t.git(&["show", &format!("HEAD:{a}")]);
    for i in [0, 2, 4] {
        assert!(at_head.contains(&format!("committed call {i}\"")), "{i}");
    }
}

/// A folder of records that is a symbolic link to a folder elsewhere:
/// `new`, `import` and `followup` refuse to write through it, and nothing
/// appears in the other folder.
#[cfg(unix)]
#[test]
fn writers_never_write_through_a_linked_folder() {
    let (t, _) = setup();
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), t.path("customers/us")).unwrap();
    let (code, _, err) = run(t.folio().args([
        "new",
        "--name",
        "Acme Inc",
        "--contact",
        "Al Smith",
        "--country",
        "US",
        "--as-of",
        AS_OF,
    ]));
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("customers/us is a symbolic link (folio never writes through one)"),
        "{err}"
    );
    t.write("in.csv", "name,contact,country\nZeta LLC,Zed Doe,US\n");
    let (code, out, err) = run(t.folio().args(["import", "in.csv", "--as-of", AS_OF]));
    assert_ne!(code, 0, "{out}{err}");
    assert!(
        format!("{out}{err}").contains("symbolic link"),
        "{out}{err}"
    );
    assert!(files_under(elsewhere.path()).is_empty());
}

/// A `.folio` committed as a symbolic link would take the caches and the
/// transactions elsewhere: refused with a clear message.
#[cfg(unix)]
#[test]
fn a_linked_cache_folder_is_refused() {
    let (t, _) = setup();
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), t.path(".folio")).unwrap();
    let (code, _, err) = run(t.folio().args(followup_args("A1", "x", &[])));
    assert_eq!(code, 4, "{err}");
    assert!(err.contains(".folio is a symbolic link"), "{err}");
    let (code, _, err) = run(t.folio().args(["search", "alpha"]));
    assert_eq!(code, 4, "{err}");
    assert!(err.contains(".folio is a symbolic link"), "{err}");
    assert!(files_under(elsewhere.path()).is_empty());
}

/// `fix` with a naming rule on `{id}` and a record whose id climbs out:
/// the record stays under customers/.
#[test]
fn an_id_cannot_move_a_record_out_of_the_repository() {
    let t = TestRepo::new();
    t.write(
        "folio.toml",
        "[naming]\ntemplate = \"customers/{cc}/{id}.toml\"\n",
    );
    t.write(
        "customers/de/x.toml",
        &record(
            "../../../../tmp/folio-escape",
            "Alpha Co",
            "Jo Doe",
            "DE",
            "",
        ),
    );
    let (_, out, err) = run(t.folio().args(["fix", "--as-of", AS_OF]));
    assert!(!Path::new("/tmp/folio-escape.toml").exists(), "{out}{err}");
    let files = files_under(t.root());
    assert!(
        files
            .iter()
            .filter(|f| f.ends_with(".toml") && !f.starts_with(".folio"))
            .all(|f| f.starts_with("customers/de/")
                || f.ends_with("folio.toml")
                || f.ends_with("staff.toml")),
        "{files:?}"
    );
    // a template outside customers/ is a settings error
    t.write(
        "folio.toml",
        "[naming]\ntemplate = \".git/hooks/{id}.toml\"\n",
    );
    let (code, out, _) = run(t.folio().args(["check", "--as-of", AS_OF]));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("the template must keep records under customers/"),
        "{out}"
    );
}

/// A record path that lies in another repository names nothing here, even
/// when this repository has a record at the same relative path.
#[test]
fn a_path_in_another_repository_is_refused() {
    let (t, a) = setup();
    let (other, _) = setup();
    let elsewhere = other.path(&a);
    let (code, _, err) = run(t
        .folio()
        .args(followup_args(elsewhere.to_str().unwrap(), "x", &[])));
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        err,
        format!(
            "error: {} is not in the data repository {}\nhint: give a path inside the repository, or run folio with --repo for the other one\n",
            elsewhere.display(),
            t.root().canonicalize().unwrap().display()
        )
    );
    assert_eq!(t.read(&a).matches("[[followups]]").count(), 0);
}

/// Two records sharing an id (F301): the writers refuse to guess.
#[test]
fn a_shared_id_is_refused_by_writers() {
    let (t, a) = setup();
    let twin = "customers/de/alpha-twin.toml";
    t.write(twin, &record("A1", "Alpha Twin", "Ann Doe", "DE", ""));
    let listed = format!(
        "`A1` is the id of 2 records (F301):\n  {a}  (Alpha Co-Jo Doe-DE)\n  {twin}  (Alpha Twin-Ann Doe-DE)\nhint: give the path of the one you mean, and give each record an id of its own (folio check lists F301)\n"
    );
    let (code, _, err) = run(t.folio().args(followup_args("A1", "x", &[])));
    assert_eq!(code, 2);
    assert_eq!(err, format!("error: {listed}"));
    let (code, _, err) = run(t.folio().args(["merge", "A1", "B1", "--as-of", AS_OF]));
    assert_eq!(code, 2);
    assert_eq!(err, format!("error: {listed}"));
    let (code, _, err) = run(t.folio().args([
        "pool",
        "release",
        "A1",
        "--reason",
        "gone quiet",
        "--as-of",
        AS_OF,
    ]));
    assert_eq!(code, 2, "{err}");
    assert_eq!(err, format!("error: {listed}"));
    // the path still names one
    let (code, _, err) = run(t.folio().args(followup_args(twin, "x", &[])));
    assert_eq!(code, 0, "{err}");
    assert_eq!(t.read(twin).matches("[[followups]]").count(), 1);
    assert_eq!(t.read(&a).matches("[[followups]]").count(), 0);
}

/// A handover killed after git made its commit, before git's index was
/// written: the next folio command brings the index up to date, so a
/// plain `git commit` afterwards reverts none of the owner changes.
#[test]
fn a_handover_killed_after_its_commit_leaves_a_true_index() {
    let (t, a) = setup();
    let h = t.head();
    let (code, _, _) = run(t
        .folio()
        .env("FOLIO_TX_FAULT", "git-committed")
        .args(["handover", "alice", "--to", "bob", "--as-of", AS_OF]));
    assert_eq!(code, -1, "killed");
    assert_ne!(t.head(), h);
    let (code, _, err) = run(t.folio().args(["check", "--as-of", AS_OF]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("git's index is brought up to date"), "{err}");
    assert_eq!(t.git(&["status", "--porcelain"]), "");
    // what a user's next commit would record: nothing of folio's reverted
    assert_eq!(t.git(&["diff", "--cached", "HEAD", "--stat"]), "");
    assert!(t.read(&a).contains("owner = \"bob\""));
}

/// Another git command holds git's index: folio waits a little, then
/// refuses with the lock's path, putting every file back.
#[test]
fn a_locked_git_index_is_waited_for_then_refused() {
    let (t, a) = setup();
    let before = t.read(&a);
    let h = t.head();
    t.write(".git/index.lock", "");
    let (code, _, err) = run(t
        .folio()
        .env("FOLIO_INDEX_LOCK_WAIT_MS", "300")
        .args(followup_args("A1", "x", &["--commit"])));
    assert_eq!(code, 4, "{err}");
    let lock = t.root().canonicalize().unwrap().join(".git/index.lock");
    assert_eq!(
        err,
        format!(
            "error: git's index is locked ({}): another git command is running; the files were put back as they were\nhint: wait for that git command to end and run folio again; if no git command is running, a crashed one left the file: remove it\n",
            lock.display()
        )
    );
    assert_eq!(t.read(&a), before);
    assert_eq!(t.head(), h);
    assert!(
        t.path(".git/index.lock").exists(),
        "another's lock is left alone"
    );
}
