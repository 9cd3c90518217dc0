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
            "warning: {b} cannot be read (check its permissions) and is left out of the search index (run `folio check {b}` for details)\n"
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
