//! Hostile local conditions (issue 14, item 16): unreadable records, bad
//! cadences, leftovers of killed rebuilds, and another local user.

mod common;
use common::{TestRepo, run};
use std::os::unix::fs::PermissionsExt;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail
    unsafe { libc::geteuid() == 0 }
}

fn chmod(t: &TestRepo, rel: &str, mode: u32) {
    std::fs::set_permissions(t.path(rel), std::fs::Permissions::from_mode(mode)).unwrap();
}

fn index_json(t: &TestRepo, extra: &[&str]) -> serde_json::Value {
    let (code, out, err) = run(t.folio().args(["index", "--format", "json"]).args(extra));
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn index_lists_an_unreadable_record_as_skipped() {
    if is_root() {
        eprintln!("skipped: root reads a chmod 000 file");
        return;
    }
    let t = TestRepo::new();
    t.customer("C1", "Atlas", "Hans Muller", "DE", "");
    let b = t.customer("C2", "Borg", "Ann Lee", "DE", "");
    chmod(&t, &b, 0o000);
    // a full rebuild
    let v = index_json(&t, &["--full"]);
    assert_eq!(
        (&v["records"], &v["skipped"], &v["unreadable"]),
        (
            &serde_json::json!(1),
            &serde_json::json!([b]),
            &serde_json::json!([b])
        )
    );
    // the human output says why
    let (code, out, err) = run(t.folio().args(["index"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("the search index is up to date: 1 record "),
        "{out}"
    );
    assert_eq!(
        err,
        format!(
            "warning: {b} is not a record folio can read (not a regular file, too large, or not readable: check its permissions) and is left out of the search index (run `folio check {b}` for details)\n"
        )
    );
    // readable again: indexed by an update
    chmod(&t, &b, 0o644);
    let v = index_json(&t, &[]);
    assert_eq!(
        (&v["records"], &v["skipped"]),
        (&serde_json::json!(2), &serde_json::json!([]))
    );
    // unreadable again: skipped by an update too
    chmod(&t, &b, 0o000);
    let v = index_json(&t, &[]);
    assert_eq!(
        (&v["records"], &v["skipped"], &v["unreadable"]),
        (
            &serde_json::json!(1),
            &serde_json::json!([b]),
            &serde_json::json!([b])
        )
    );
    // search warns about it too
    let (code, _, err) = run(t.folio().args(["search", "atlas"]));
    assert_eq!(code, 0);
    assert!(err.contains(&format!("{b} cannot be read")), "{err}");
    chmod(&t, &b, 0o644);
}

#[test]
fn zero_or_negative_cadences_are_refused_with_file_line_and_field() {
    let t = TestRepo::new();
    t.customer("C1", "Atlas", "Hans Muller", "DE", "");
    t.write(
        "folio.toml",
        "[followups]\nno_reply_days = 5\n\n[followups.cadence]\nA = -7\nB = 0\nC = 30\n",
    );
    let (code, out, _) = run(t.folio().args(["check", "--as-of", "2026-01-01"]));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with(
            "folio.toml:5:5: error[F601]: followups.cadence.A must be a number of days of at least 1 (it is -7)\n"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "folio.toml:6:5: error[F601]: followups.cadence.B must be a number of days of at least 1 (it is 0)\n"
        ),
        "{out}"
    );
    assert!(out.ends_with("2 errors\n"), "{out}");
    // commands that rely on the settings refuse them
    let (code, _, err) = run(t.folio().args(["due", "--as-of", "2026-01-01"]));
    assert_eq!(
        (code, err.as_str()),
        (
            3,
            "error: folio.toml:5: followups.cadence.A must be a number of days of at least 1 (it is -7)\nhint: run `folio check` for every problem\n"
        )
    );
    // the inline form too
    t.write("folio.toml", "[followups]\ncadence = { A = -7 }\n");
    let (code, out, _) = run(t.folio().args(["check", "--as-of", "2026-01-01"]));
    assert_eq!(code, 1);
    assert!(
        out.starts_with(
            "folio.toml:2:17: error[F601]: followups.cadence.A must be a number of days of at least 1 (it is -7)\n"
        ),
        "{out}"
    );
}

/// The index folders in `.folio/search`, sorted.
fn index_dirs(t: &TestRepo) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(t.path(".folio/search"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("idx-"))
        .collect();
    v.sort();
    v
}

#[test]
fn stale_index_folders_are_removed_unless_a_rebuild_may_be_under_way() {
    let t = TestRepo::new();
    t.customer("C1", "Atlas", "Hans Muller", "DE", "");
    let (code, _, err) = run(t.folio().args(["index"]));
    assert_eq!(code, 0, "{err}");
    let live = t.read(".folio/search/CURRENT").trim().to_string();
    // what a killed rebuild leaves
    let stale = "idx-01killedrebuild";
    t.write(&format!(".folio/search/{stale}/meta.json"), "{}");
    assert_eq!(index_dirs(&t), [stale.to_string(), live.clone()]);
    // another process holds the writers' lock: it may be building that
    // folder right now, so a search leaves it
    let lock = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(t.path(".folio/search/lock"))
        .unwrap();
    lock.lock().unwrap();
    let (code, out, err) = run(t.folio().args(["search", "atlas"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Atlas"), "{out}");
    assert_eq!(index_dirs(&t), [stale.to_string(), live.clone()]);
    drop(lock);
    // free: the next search removes it, not the live one
    let (code, _, err) = run(t.folio().args(["search", "atlas"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(index_dirs(&t), std::slice::from_ref(&live));
    // an update (`folio index`) removes one too
    t.write(&format!(".folio/search/{stale}/meta.json"), "{}");
    let (code, _, err) = run(t.folio().args(["index"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(index_dirs(&t), [live]);
}

/// The watcher's socket lives in a folder of the user's own (here under
/// `XDG_RUNTIME_DIR`): a folder others may use, a symlink, or one owned
/// by another user is refused by the watcher and not asked by commands.
#[cfg(target_os = "linux")]
#[test]
fn the_watcher_refuses_a_socket_folder_others_may_use() {
    let t = TestRepo::new();
    t.customer("C1", "Atlas", "Hans Muller", "DE", "");
    let run_dir = tempfile::tempdir().unwrap();
    let sock = run_dir.path().join("folio-watch");
    let watch = |args: &[&str]| {
        run(t
            .folio()
            .env("XDG_RUNTIME_DIR", run_dir.path())
            .arg("watch")
            .args(args))
    };
    let refused = |why: &str| {
        let (code, out, err) = watch(&["--detach"]);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (
                4,
                "",
                format!(
                    "error: folio watch stopped at once: will not put the watcher's socket in {}: {why}\n",
                    sock.display()
                )
                .as_str()
            )
        );
    };
    let set_mode = |p: &std::path::Path, mode: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    // a folder other users may enter
    std::fs::create_dir(&sock).unwrap();
    set_mode(&sock, 0o755);
    refused("its mode is 0755: other users may use it (it must be 0700)");
    std::fs::remove_dir(&sock).unwrap();
    // a symlink, even to a private folder
    let real = run_dir.path().join("real");
    std::fs::create_dir(&real).unwrap();
    set_mode(&real, 0o700);
    std::os::unix::fs::symlink(&real, &sock).unwrap();
    refused("it is not a folder (a symlink or a file)");
    std::fs::remove_file(&sock).unwrap();
    // a folder of another user (only root can make one here)
    if is_root() {
        std::fs::create_dir(&sock).unwrap();
        set_mode(&sock, 0o700);
        std::os::unix::fs::chown(&sock, Some(65534), Some(65534)).unwrap();
        refused("it belongs to user 65534, not to you (user 0)");
        std::fs::remove_dir(&sock).unwrap();
    }
    // none there: the watcher makes its own, private, and runs
    let (code, out, err) = watch(&["--detach"]);
    assert_eq!(code, 0, "{out}{err}");
    let m = std::fs::symlink_metadata(&sock).unwrap();
    assert!(m.is_dir());
    assert_eq!(m.permissions().mode() & 0o777, 0o700);
    assert_eq!(watch(&["--status"]).0, 0);
    // loosened later: commands do not ask a socket others may have put there
    set_mode(&sock, 0o755);
    let (code, out, _) = watch(&["--status"]);
    assert_eq!(code, 1);
    assert!(out.starts_with("no folio watch runs for "), "{out}");
    set_mode(&sock, 0o700);
    let (code, out, _) = watch(&["--stop"]);
    assert_eq!((code, out.as_str()), (0, "stopped folio watch\n"));
}
