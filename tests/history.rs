//! History commands on histories built with git2 in temporary repositories:
//! several authors and dates, a rename, a merge, a shallow clone, a rebase.

mod common;

use assert_cmd::Command;
use git2::{Oid, Repository, Signature, Time};
use serde_json::{Value, json};
use std::path::Path;

const STAFF: &str = "# the team\n[staff.alice]\nname = \"Alice\"\nweight = 2\n\n[staff.bob]\nname = \"Bob\"\n\n[staff.carol]\nname = \"Carol\"\n\n[staff.dave]\nname = \"Dave\"\n\n[staff.erin]\nname = \"Erin\"\nactive = false\n";

fn folio(dir: &Path) -> Command {
    let mut c = common::folio_cmd();
    c.current_dir(dir);
    c
}

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let o = folio(dir).args(args).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
    )
}

fn json_of(dir: &Path, args: &[&str]) -> Value {
    let (code, out, err) = run(dir, args);
    assert_eq!(code, 0, "{args:?}\n{out}\n{err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

struct Fixture {
    dir: tempfile::TempDir,
    repo: Repository,
}

/// 2026-01-01T00:00:00Z plus `day` days (and `hour` hours).
fn at(day: i64, hour: i64) -> i64 {
    1_767_225_600 + day * 86_400 + hour * 3600
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        {
            let mut cfg = repo.config().unwrap();
            cfg.set_str("user.name", "Folio Test").unwrap();
            cfg.set_str("user.email", "test@example.com").unwrap();
        }
        let f = Fixture { dir, repo };
        f.write("folio.toml", "# defaults\n");
        f.write("staff.toml", STAFF);
        f.write(".gitignore", ".folio/\n");
        f
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.root().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root().join(rel)).unwrap()
    }

    /// Commit everything in the work tree (additions, changes, deletions).
    fn commit(&self, who: &str, time: i64, msg: &str) -> Oid {
        let mut index = self.repo.index().unwrap();
        index
            .add_all(["*"].iter(), git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.update_all(["*"].iter(), None).unwrap();
        index.write().unwrap();
        let tree = self.repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = Signature::new(
            who,
            &format!("{}@example.com", who.to_lowercase()),
            &Time::new(time, 0),
        )
        .unwrap();
        let parent = self.repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        self.repo
            .commit(Some("HEAD"), &sig, &sig, msg, &tree, &parents)
            .unwrap()
    }

    fn head(&self) -> Oid {
        self.repo.head().unwrap().peel_to_commit().unwrap().id()
    }
}

fn record(
    id: &str,
    name: &str,
    contact: &str,
    owner: Option<&str>,
    tier: &str,
    extra: &str,
) -> String {
    let owner = owner
        .map(|o| format!("owner = \"{o}\"\n"))
        .unwrap_or_default();
    format!(
        "id = \"{id}\"\nname = \"{name}\"\ncontact = \"{contact}\"\ncountry = \"US\"\n{owner}tier = \"{tier}\"\nstage = \"prospect\"\ncreated = 2026-01-01\n{extra}"
    )
}

const ABC: &str = "customers/us/abc-corp--john-doe--us.toml";
const ABX: &str = "customers/us/abc-global--john-doe--us.toml";

/// C1: created by Alice, regraded with a follow-up by Bob, renamed by
/// Carol (a delete plus an add), handed to Bob by Alice.
fn story() -> (Fixture, Vec<Oid>) {
    let f = Fixture::new();
    let mut commits = Vec::new();
    f.write(
        ABC,
        &record(
            "C1",
            "ABC Corp",
            "John Doe",
            Some("alice"),
            "B",
            "\n[[contacts]]\nname = \"John Doe\"\nemail = \"john@abc.example\"\n",
        ),
    );
    commits.push(f.commit("Alice", at(0, 9), "add ABC Corp"));
    let v2 = record(
        "C1",
        "ABC Corp",
        "John Doe",
        Some("alice"),
        "A",
        "\n[[contacts]]\nname = \"John Doe\"\nemail = \"john@abc.example\"\n\n[[followups]]\ndate = 2026-01-10\nby = \"alice\"\nchannel = \"email\"\nsummary = \"Sent revised quote\"\n",
    );
    f.write(ABC, &v2);
    commits.push(f.commit(
        "Bob",
        at(9, 10),
        "regrade ABC to A\n\nAfter the call.\n\nReviewed-by: Carol <carol@example.com>\n",
    ));
    std::fs::remove_file(f.root().join(ABC)).unwrap();
    f.write(ABX, &v2.replace("ABC Corp", "ABC Global"));
    commits.push(f.commit("Carol", at(20, 11), "rename ABC Corp to ABC Global"));
    f.write(
        ABX,
        &f.read(ABX).replace("owner = \"alice\"", "owner = \"bob\""),
    );
    commits.push(f.commit("Alice", at(30, 12), "hand ABC over to bob"));
    (f, commits)
}

#[test]
fn log_gives_exact_field_changes_newest_first() {
    let (f, c) = story();
    let v = json_of(f.root(), &["log", "C1", "--format", "json"]);
    let t = |day: i64, hour: i64| {
        chrono::DateTime::from_timestamp(at(day, hour), 0)
            .unwrap()
            .fixed_offset()
            .to_rfc3339()
    };
    assert_eq!(
        v,
        json!([
            {"commit": c[3].to_string(), "author": "Alice", "email": "alice@example.com", "date": t(30, 12),
             "message": "hand ABC over to bob",
             "changes": [{"field": "owner", "old": "alice", "new": "bob"}]},
            {"commit": c[2].to_string(), "author": "Carol", "email": "carol@example.com", "date": t(20, 11),
             "message": "rename ABC Corp to ABC Global",
             "changes": [{"field": "path", "old": ABC, "new": ABX},
                         {"field": "name", "old": "ABC Corp", "new": "ABC Global"}]},
            {"commit": c[1].to_string(), "author": "Bob", "email": "bob@example.com", "date": t(9, 10),
             "message": "regrade ABC to A",
             "changes": [{"field": "tier", "old": "B", "new": "A"},
                         {"field": "followups", "old": null, "new": {"date": "2026-01-10", "by": "alice", "channel": "email", "summary": "Sent revised quote"}}]},
            {"commit": c[0].to_string(), "author": "Alice", "email": "alice@example.com", "date": t(0, 9),
             "message": "add ABC Corp",
             "changes": [{"field": "record", "old": null, "new": ABC}]},
        ])
    );
    // Human output, by a search on the name (the record's current name).
    let (code, out, _) = run(f.root(), &["log", "abc global", "--since", "2026-01-10"]);
    assert_eq!(code, 0);
    let expect = format!(
        "ABC Global-John Doe-US (C1)\n\n{} 2026-01-31 12:00  Alice <alice@example.com>\n  hand ABC over to bob\n    owner: alice → bob\n\n{} 2026-01-21 11:00  Carol <carol@example.com>\n  rename ABC Corp to ABC Global\n    path: {ABC} → {ABX}\n    name: ABC Corp → ABC Global\n\n{} 2026-01-10 10:00  Bob <bob@example.com>\n  regrade ABC to A\n    tier: B → A\n    +1 followup (2026-01-10, email, \"Sent revised quote\")\n",
        &c[3].to_string()[..8],
        &c[2].to_string()[..8],
        &c[1].to_string()[..8]
    );
    assert_eq!(out, expect);
    // --field, and the old path still names the customer.
    let v = json_of(
        f.root(),
        &["log", ABC, "--field", "owner", "--format", "json"],
    );
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(
        v[0]["changes"],
        json!([{"field": "owner", "old": "alice", "new": "bob"}])
    );
    let v = json_of(
        f.root(),
        &["log", ABX, "--field", "followup", "--format", "json"],
    );
    assert_eq!(v[0]["commit"], json!(c[1].to_string()));
}

#[test]
fn log_shows_uncommitted_changes_and_updates_the_cache() {
    let (f, _) = story();
    let (_, first, _) = run(f.root(), &["log", "C1"]);
    assert!(f.root().join(".folio/history/index.bin").is_file());
    // Uncommitted edit: shown first, as such.
    f.write(ABX, &f.read(ABX).replace("tier = \"A\"", "tier = \"C\""));
    let v = json_of(f.root(), &["log", "C1", "--format", "json"]);
    assert_eq!(v[0]["commit"], Value::Null);
    assert_eq!(v[0]["message"], json!("uncommitted changes"));
    assert_eq!(
        v[0]["changes"],
        json!([{"field": "tier", "old": "A", "new": "C"}])
    );
    // Committed: the cache takes the one new commit.
    let c = f.commit("Dave", at(40, 8), "regrade to C");
    let v = json_of(f.root(), &["log", "C1", "--format", "json"]);
    assert_eq!(v[0]["commit"], json!(c.to_string()));
    assert_eq!(v.as_array().unwrap().len(), 5);
    let (_, again, _) = run(f.root(), &["log", "C1"]);
    assert!(again.ends_with(&first[first.find("\n\n").unwrap()..]));
}

#[test]
fn ownership_timeline_counts_pool_time() {
    let f = Fixture::new();
    let p = "customers/de/kraft--hans-muller--de.toml";
    let r = |o: Option<&str>| {
        record("K1", "Kraft", "Hans Muller", o, "C", "")
            .replace("country = \"US\"", "country = \"DE\"")
    };
    f.write(p, &r(Some("alice")));
    let c0 = f.commit("Alice", at(0, 9), "add Kraft");
    f.write(p, &r(None));
    let c1 = f.commit("Alice", at(10, 9), "release Kraft");
    f.write(p, &r(Some("bob")));
    let c2 = f.commit("Bob", at(15, 9), "claim Kraft");
    let v = json_of(
        f.root(),
        &["owners", "K1", "--as-of", "2026-02-05", "--format", "json"],
    );
    assert_eq!(
        v,
        json!([
            {"owner": "alice", "from": "2026-01-01", "to": "2026-01-11", "days": 10, "commit": c0.to_string(), "author": "Alice", "message": "add Kraft", "ended_by": c1.to_string()},
            {"owner": null, "from": "2026-01-11", "to": "2026-01-16", "days": 5, "commit": c1.to_string(), "author": "Alice", "message": "release Kraft", "ended_by": c2.to_string()},
            {"owner": "bob", "from": "2026-01-16", "to": null, "days": 20, "commit": c2.to_string(), "author": "Bob", "message": "claim Kraft", "ended_by": null},
        ])
    );
    let (code, out, _) = run(f.root(), &["owners", "kraft", "--as-of", "2026-02-05"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("Kraft-Hans Muller-DE (K1)\n"), "{out}");
    assert!(
        out.contains("  (pool)  2026-01-11 → 2026-01-16  5 days"),
        "{out}"
    );
    assert!(
        out.ends_with(
            "time with each owner (to 2026-02-05): (pool) 5 days, alice 10 days, bob 20 days\n"
        ),
        "{out}"
    );
    // The audit of owner changes.
    let v = json_of(f.root(), &["handovers", "--format", "json"]);
    let pairs: Vec<(Value, Value)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["from"].clone(), x["to"].clone()))
        .collect();
    assert_eq!(
        pairs,
        [(json!("alice"), Value::Null), (Value::Null, json!("bob"))]
    );
    let v = json_of(
        f.root(),
        &["handovers", "--from", "pool", "--format", "json"],
    );
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["id"], json!("K1"));
    assert_eq!(v[0]["path"], json!(p));
    let v = json_of(
        f.root(),
        &["handovers", "--since", "2026-01-12", "--format", "json"],
    );
    assert_eq!(v.as_array().unwrap().len(), 1);
    let (_, out, _) = run(f.root(), &["handovers", "--to", "bob"]);
    assert!(out.starts_with("2026-01-16 "), "{out}");
    assert!(
        out.contains(
            "(pool) → bob  K1  customers/de/kraft--hans-muller--de.toml  Bob \"claim Kraft\""
        ),
        "{out}"
    );
    assert!(out.ends_with("1 change of owner\n"), "{out}");
}

#[test]
fn merge_counts_branch_commits_once() {
    let f = Fixture::new();
    let p1 = "customers/us/one--ann-lee--us.toml";
    let p2 = "customers/us/two--bo-li--us.toml";
    f.write(p1, &record("C1", "One", "Ann Lee", Some("alice"), "C", ""));
    f.write(p2, &record("C2", "Two", "Bo Li", Some("bob"), "C", ""));
    let base = f.commit("Alice", at(0, 9), "add two customers");
    // Side branch: C2 regraded.
    f.write(p2, &record("C2", "Two", "Bo Li", Some("bob"), "B", ""));
    let side = f.commit("Bob", at(1, 9), "regrade Two");
    // Main: back to base, C1 regraded.
    let base_c = f.repo.find_commit(base).unwrap();
    f.repo
        .reset(base_c.as_object(), git2::ResetType::Hard, None)
        .unwrap();
    f.write(p1, &record("C1", "One", "Ann Lee", Some("alice"), "A", ""));
    let main = f.commit("Alice", at(2, 9), "regrade One");
    // Merge side into main.
    f.write(p2, &record("C2", "Two", "Bo Li", Some("bob"), "B", ""));
    let mut index = f.repo.index().unwrap();
    index.add_path(Path::new(p2)).unwrap();
    index.write().unwrap();
    let tree = f.repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = Signature::new("Carol", "carol@example.com", &Time::new(at(3, 9), 0)).unwrap();
    let (m, s) = (
        f.repo.find_commit(main).unwrap(),
        f.repo.find_commit(side).unwrap(),
    );
    let merge = f
        .repo
        .commit(Some("HEAD"), &sig, &sig, "merge side", &tree, &[&m, &s])
        .unwrap();
    let v = json_of(f.root(), &["log", "C2", "--format", "json"]);
    let commits: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["commit"].as_str().unwrap())
        .collect();
    assert_eq!(commits, [side.to_string(), base.to_string()]);
    let v = json_of(f.root(), &["log", "C1", "--format", "json"]);
    let commits: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["commit"].as_str().unwrap())
        .collect();
    assert_eq!(commits, [main.to_string(), base.to_string()]);
    // folio diff between the two parents and from the base to the merge.
    let v = json_of(
        f.root(),
        &[
            "diff",
            &main.to_string(),
            &merge.to_string(),
            "--format",
            "json",
        ],
    );
    assert_eq!(
        v,
        json!([{"id": "C2", "status": "modified", "path": p2, "old_path": p2,
                "changes": [{"field": "tier", "old": "C", "new": "B"}]}])
    );
    // Detached HEAD works like any other.
    let side_c = f.repo.find_commit(side).unwrap();
    f.repo
        .checkout_tree(
            side_c.as_object(),
            Some(git2::build::CheckoutBuilder::new().force()),
        )
        .unwrap();
    f.repo.set_head_detached(side).unwrap();
    let v = json_of(f.root(), &["log", "C1", "--format", "json"]);
    assert_eq!(v.as_array().unwrap().len(), 1);
}

#[test]
fn rebased_history_rebuilds_the_cache() {
    let (f, c) = story();
    let v = json_of(f.root(), &["log", "C1", "--format", "json"]);
    assert_eq!(v.as_array().unwrap().len(), 4);
    // Rewrite the last commit: hand over to carol instead of bob.
    let parent = f.repo.find_commit(c[2]).unwrap();
    f.repo
        .reset(parent.as_object(), git2::ResetType::Hard, None)
        .unwrap();
    f.write(
        ABX,
        &f.read(ABX)
            .replace("owner = \"alice\"", "owner = \"carol\""),
    );
    let c3 = f.commit("Alice", at(31, 12), "hand ABC over to carol");
    let v = json_of(f.root(), &["log", "C1", "--format", "json"]);
    assert_eq!(v.as_array().unwrap().len(), 4);
    assert_eq!(v[0]["commit"], json!(c3.to_string()));
    assert_eq!(
        v[0]["changes"],
        json!([{"field": "owner", "old": "alice", "new": "carol"}])
    );
    // A damaged cache is rebuilt too.
    std::fs::write(f.root().join(".folio/history/index.bin"), b"garbage").unwrap();
    let v2 = json_of(f.root(), &["log", "C1", "--format", "json"]);
    assert_eq!(v, v2);
}

#[test]
fn shallow_clone_is_reported_and_still_works() {
    let (f, c) = story();
    let clone = tempfile::tempdir().unwrap();
    let dest = clone.path().join("c");
    let st = std::process::Command::new("git")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(["clone", "-q", "--depth", "2"])
        .arg(format!("file://{}", f.root().display()))
        .arg(&dest)
        .status()
        .unwrap();
    assert!(st.success());
    let (code, out, err) = run(&dest, &["log", "C1", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("history is shallow") && err.contains("git fetch --unshallow"),
        "{err}"
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    let commits: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["commit"].as_str().unwrap())
        .collect();
    assert_eq!(commits, [c[3].to_string(), c[2].to_string()]);
    assert_eq!(
        v[1]["changes"],
        json!([{"field": "history", "old": null, "new": "starts here (shallow clone)"}])
    );
}

#[test]
fn no_commits_and_not_git() {
    let f = Fixture::new();
    let (code, out, err) = run(f.root(), &["log", "C1"]);
    assert_eq!((code, out.as_str()), (0, ""));
    assert!(err.contains("no commits yet"), "{err}");
    let plain = tempfile::tempdir().unwrap();
    std::fs::write(plain.path().join("folio.toml"), "").unwrap();
    let (code, _, err) = run(plain.path(), &["handovers"]);
    assert_eq!(code, 2);
    assert!(err.contains("not inside a git repository"), "{err}");
    let (code, _, err) = run(f.root(), &["diff"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn unknown_and_ambiguous_customers() {
    let (f, _) = story();
    f.write(
        "customers/us/abc-trading--mary-roe--us.toml",
        &record("C9", "ABC Trading", "Mary Roe", Some("bob"), "C", ""),
    );
    f.commit("Bob", at(35, 9), "add ABC Trading");
    let (code, _, err) = run(f.root(), &["log", "nobody"]);
    assert_eq!(code, 2);
    assert!(err.contains("no customer matches `nobody`"), "{err}");
    let (code, _, err) = run(f.root(), &["owners", "abc"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("`abc` matches 2 customers:\n")
            && err.contains("  (ABC Global-John Doe-US)\n")
            && err.contains(
                "  customers/us/abc-trading--mary-roe--us.toml  (ABC Trading-Mary Roe-US)\n"
            ),
        "{err}"
    );
}

#[test]
fn diff_head_against_the_working_tree() {
    let (f, _) = story();
    f.write(
        ABX,
        &f.read(ABX)
            .replace("tier = \"A\"", "tier = \"B\"")
            .replace("owner = \"bob\"", "owner = \"carol\""),
    );
    // A move to another folder: delete plus add of the same id.
    let moved = "customers/ca/abc-global--john-doe--us.toml";
    let text = f.read(ABX);
    std::fs::remove_file(f.root().join(ABX)).unwrap();
    f.write(moved, &text);
    f.write(
        "customers/us/new--x-y--us.toml",
        &record("N1", "New", "X Y", None, "D", ""),
    );
    let (code, out, _) = run(f.root(), &["diff"]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        format!(
            "{ABX} → {moved} (C1)\n    owner: bob → carol\n    tier: A → B\ncustomers/us/new--x-y--us.toml (N1)\n    created (customers/us/new--x-y--us.toml)\n2 records changed between HEAD and the working tree\n"
        )
    );
    let v = json_of(f.root(), &["diff", "HEAD~3", "HEAD~2", "--format", "json"]);
    assert_eq!(
        v[0]["changes"],
        json!([{"field": "tier", "old": "B", "new": "A"}, {"field": "followups", "old": null, "new": {"date": "2026-01-10", "by": "alice", "channel": "email", "summary": "Sent revised quote"}}])
    );
    let (code, _, err) = run(f.root(), &["diff", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot resolve revision `nope`"), "{err}");
}

/// Seven customers of alice with distinct value: tier, then last order.
fn team() -> Fixture {
    let f = Fixture::new();
    let specs = [
        ("A1", "A", 500.0),
        ("A2", "A", 900.0),
        ("B1", "B", 0.0),
        ("B2", "B", 100.0),
        ("C1", "C", 50.0),
        ("C2", "C", 50.0),
        ("D1", "D", 0.0),
    ];
    for (id, tier, amount) in specs {
        let mut extra = String::new();
        if amount > 0.0 {
            extra.push_str(&format!("\n[[orders]]\ndate = 2026-01-05\namount = 1.0\ncurrency = \"USD\"\n\n[[orders]]\ndate = 2026-01-20\namount = {amount:.1}\ncurrency = \"USD\"\n"));
        }
        extra.push_str("\n[[quotes]]\ndate = 2026-01-03\nproduct = \"PX-200 pump\"\namount = 5000.0\ncurrency = \"USD\"\nincoterm = \"FOB\"\nstatus = \"sent\"\n");
        extra.push_str("\n[[followups]]\ndate = 2026-01-04\nby = \"alice\"\nchannel = \"email\"\nsummary = \"Sent the quote\"\nreplied = false\n");
        let text = record(
            id,
            &format!("Co {id}"),
            "Pat Kim",
            Some("alice"),
            tier,
            &extra,
        )
        .replace("owner = \"alice\"\n", "owner = \"alice\" # account owner\n");
        f.write(
            &format!("customers/us/co-{}--pat-kim--us.toml", id.to_lowercase()),
            &text,
        );
    }
    f.write(
        "customers/us/other--pat-kim--us.toml",
        &record("O1", "Other", "Pat Kim", Some("bob"), "A", ""),
    );
    f.commit("Alice", at(0, 9), "add customers");
    f
}

#[test]
fn handover_deals_321_and_edits_only_the_owner_line() {
    let f = team();
    let before: Vec<(String, String)> = ["a1", "a2", "b1", "b2", "c1", "c2", "d1"]
        .iter()
        .map(|k| {
            let p = format!("customers/us/co-{k}--pat-kim--us.toml");
            let t = f.read(&p);
            (p, t)
        })
        .collect();
    let head = f.head();
    let (code, out, err) = run(
        f.root(),
        &[
            "handover",
            "alice",
            "--to",
            "bob,carol,dave",
            "--weights",
            "3:2:1",
            "--dry-run",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "Would hand over alice's 7 customers: bob 4 (weight 3), carol 2 (weight 2), dave 1 (weight 1)\n  bob    A2  Co A2-Pat Kim-US  tier A\n  carol  A1  Co A1-Pat Kim-US  tier A\n  bob    B2  Co B2-Pat Kim-US  tier B\n  dave   B1  Co B1-Pat Kim-US  tier B\n  carol  C1  Co C1-Pat Kim-US  tier C\n  bob    C2  Co C2-Pat Kim-US  tier C\n  bob    D1  Co D1-Pat Kim-US  tier D\ndry run: nothing changed\n"
    );
    assert_eq!(f.head(), head);
    let out_dir = tempfile::tempdir().unwrap();
    let report = out_dir.path().join("handover.md");
    let (code, out, err) = run(
        f.root(),
        &[
            "handover",
            "alice",
            "--to",
            "bob,carol,dave",
            "--weights",
            "3:2:1",
            "--deactivate",
            "--report",
            report.to_str().unwrap(),
            "--as-of",
            "2026-02-01",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("committed "), "{out}");
    // Only the owner value changed, byte for byte.
    let want = ["bob", "carol", "bob", "dave", "carol", "bob", "bob"];
    let order = ["a2", "a1", "b2", "b1", "c1", "c2", "d1"];
    for (k, to) in order.iter().zip(want) {
        let (p, old) = before
            .iter()
            .find(|(p, _)| p.contains(&format!("co-{k}--")))
            .unwrap();
        assert_eq!(
            f.read(p),
            old.replace("owner = \"alice\" #", &format!("owner = \"{to}\" #")),
            "{p}"
        );
    }
    assert_eq!(
        f.read("staff.toml"),
        STAFF.replace("weight = 2\n", "weight = 2\nactive = false\n")
    );
    // One commit, with trailers; nothing left dirty.
    let commit = f.repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(commit.parent_id(0).unwrap(), head);
    let msg = commit.message().unwrap();
    assert!(msg.starts_with("Hand over alice's 7 customers to bob, carol, dave\n\nbob (4):\n  A2 Co A2-Pat Kim-US\n  B2 Co B2-Pat Kim-US\n"), "{msg}");
    assert!(msg.ends_with("Folio-Handover: alice -> bob\nFolio-Handover: alice -> carol\nFolio-Handover: alice -> dave\n"), "{msg}");
    let statuses = f.repo.statuses(None).unwrap();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| s.status() != git2::Status::IGNORED)
            .count(),
        0
    );
    // The index holds the new files' ids and stat data (no re-hashing by
    // the next `git status`).
    let index = f.repo.index().unwrap();
    let tree = commit.tree().unwrap();
    let mut staged = 0;
    for e in index.iter() {
        let path = String::from_utf8(e.path.clone()).unwrap();
        let md = std::fs::metadata(f.root().join(&path)).unwrap();
        assert_eq!(e.file_size as u64, md.len(), "{path}");
        assert_eq!(
            e.id,
            tree.get_path(Path::new(&path)).unwrap().id(),
            "{path}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            assert_eq!(
                (e.mtime.seconds() as i64, e.mtime.nanoseconds()),
                (md.mtime(), md.mtime_nsec() as u32),
                "{path}"
            );
        }
        staged += 1;
    }
    assert!(staged >= 8);
    // The history sees the handover.
    let v = json_of(
        f.root(),
        &[
            "handovers",
            "--from",
            "alice",
            "--to",
            "dave",
            "--format",
            "json",
        ],
    );
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["id"], json!("B1"));
    // The report: one document per receiver.
    let md = std::fs::read_to_string(&report).unwrap();
    let dave = &md[md.find("# Handover from alice to dave").unwrap()..];
    let short = &commit.id().to_string()[..8];
    assert_eq!(
        dave,
        format!(
            "# Handover from alice to dave\n\n1 account from alice, as of 2026-02-01 (commit {short}).\n\n## New accounts\n\n| Customer | Id | Tier | Stage | Last order | Last contact | File |\n|---|---|---|---|---|---|---|\n| Co B1-Pat Kim-US | `B1` | B | prospect | — | 2026-01-04 | `customers/us/co-b1--pat-kim--us.toml` |\n\n## Open quotes\n\n- Co B1-Pat Kim-US: 2026-01-03, PX-200 pump, 5000.00 USD, FOB (sent)\n\n## Overdue follow-ups\n\n- Co B1-Pat Kim-US: due 2026-01-11 (21 days overdue)\n\n## Last contact\n\n- Co B1-Pat Kim-US: 2026-01-04, email, by alice: \"Sent the quote\" (no reply)\n"
        )
    );
    assert!(
        md.starts_with("# Handover from alice to bob\n\n4 accounts from alice"),
        "{md}"
    );
    // a last order, in bob's document
    assert!(
        md.contains("\n| Co B2-Pat Kim-US | `B2` | B | prospect | 2026-01-20 100.00 USD | 2026-01-04 | `customers/us/co-b2--pat-kim--us.toml` |\n"),
        "{md}"
    );
}

#[test]
fn handover_refuses_dirty_files_and_bad_receivers() {
    let f = team();
    let head = f.head();
    let p = "customers/us/co-c1--pat-kim--us.toml";
    let edited = f.read(p).replace("tier = \"C\"", "tier = \"B\"");
    f.write(p, &edited);
    let untouched = f.read("customers/us/co-a1--pat-kim--us.toml");
    let (code, _, err) = run(f.root(), &["handover", "alice", "--to", "bob"]);
    assert_eq!(code, 4);
    assert_eq!(
        err,
        format!(
            "error: a file to change has uncommitted or staged changes: {p}\n\
hint: commit or discard those changes first, or pass --include-dirty to commit them with folio's change\n"
        )
    );
    assert_eq!(f.head(), head);
    assert_eq!(f.read(p), edited);
    assert_eq!(f.read("customers/us/co-a1--pat-kim--us.toml"), untouched);
    for (to, msg) in [
        ("erin", "receiver `erin` is inactive"),
        ("zed", "receiver `zed` is not in staff.toml"),
        ("alice", "cannot hand customers over to themselves"),
    ] {
        let (code, _, err) = run(f.root(), &["handover", "alice", "--to", to]);
        assert_eq!(code, 2);
        assert!(err.contains(msg), "{err}");
    }
    let (code, _, err) = run(
        f.root(),
        &[
            "handover",
            "alice",
            "--to",
            "bob,carol",
            "--weights",
            "3:2:1",
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("3 weights given for 2 receivers"), "{err}");
    let (code, _, err) = run(f.root(), &["handover", "dave", "--to", "bob"]);
    assert_eq!(code, 2);
    assert!(err.contains("dave owns no customers"), "{err}");
    assert_eq!(f.head(), head);
}

#[test]
fn small_updates_go_to_the_journal() {
    let f = Fixture::new();
    let p = "customers/us/many--ann-lee--us.toml";
    let mut commits = Vec::new();
    for k in 0..20 {
        let tier = ["A", "B", "C", "D"][k % 4];
        f.write(p, &record("M1", "Many", "Ann Lee", Some("alice"), tier, ""));
        commits.push(f.commit("Alice", at(k as i64, 9), &format!("edit {k}")));
    }
    let ids = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| e["commit"].as_str().unwrap().to_string())
            .collect()
    };
    let v = json_of(f.root(), &["log", "M1", "--format", "json"]);
    assert_eq!(v.as_array().unwrap().len(), 20);
    let journal = f.root().join(".folio/history/journal.bin");
    assert!(!journal.exists());
    for (k, tier) in [(20, "B"), (21, "C")] {
        f.write(p, &record("M1", "Many", "Ann Lee", Some("bob"), tier, ""));
        commits.push(f.commit("Bob", at(k, 9), &format!("edit {k}")));
        let v = json_of(f.root(), &["log", "M1", "--format", "json"]);
        let mut want: Vec<String> = commits.iter().map(|c| c.to_string()).collect();
        want.reverse();
        assert_eq!(ids(&v), want);
        assert!(journal.is_file());
    }
    let v = json_of(
        f.root(),
        &["log", "M1", "--field", "owner", "--format", "json"],
    );
    assert_eq!(
        v[0]["changes"],
        json!([{"field": "owner", "old": "alice", "new": "bob"}])
    );
    // A damaged journal is ignored and written again.
    std::fs::write(&journal, b"junk").unwrap();
    let v2 = json_of(f.root(), &["log", "M1", "--format", "json"]);
    assert_eq!(ids(&v2).len(), 22);
}

/// Two branches change the same customer's owner; the merge settles on a
/// third. Each change's previous owner is the one on its own path (the
/// parent it was made on, the first parent for the merge), as `folio log`
/// shows it, not the other branch's value.
#[test]
fn handovers_after_a_merge_compare_with_the_parent_on_the_path() {
    let f = Fixture::new();
    let p = "customers/us/kraft--hans-muller--us.toml";
    let r = |o: &str| record("K1", "Kraft", "Hans Muller", Some(o), "C", "");
    f.write(p, &r("alice"));
    let base = f.commit("Alice", at(0, 9), "add Kraft");
    // Branch X: alice -> bob.
    f.write(p, &r("bob"));
    let x = f.commit("Bob", at(1, 9), "bob takes Kraft");
    // Main, from the base: alice -> carol.
    let base_c = f.repo.find_commit(base).unwrap();
    f.repo
        .reset(base_c.as_object(), git2::ResetType::Hard, None)
        .unwrap();
    f.write(p, &r("carol"));
    let main = f.commit("Carol", at(2, 9), "carol takes Kraft");
    // The merge gives Kraft to dave.
    f.write(p, &r("dave"));
    let mut index = f.repo.index().unwrap();
    index.add_path(Path::new(p)).unwrap();
    index.write().unwrap();
    let tree = f.repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = Signature::new("Dave", "dave@example.com", &Time::new(at(3, 9), 0)).unwrap();
    let (m, s) = (
        f.repo.find_commit(main).unwrap(),
        f.repo.find_commit(x).unwrap(),
    );
    let merge = f
        .repo
        .commit(Some("HEAD"), &sig, &sig, "merge X", &tree, &[&m, &s])
        .unwrap();
    let v = json_of(f.root(), &["handovers", "--format", "json"]);
    let mut rows: Vec<(String, Value, Value)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["commit"].as_str().unwrap().to_string(),
                x["from"].clone(),
                x["to"].clone(),
            )
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let mut want = vec![
        (x.to_string(), json!("alice"), json!("bob")),
        (main.to_string(), json!("alice"), json!("carol")),
        (merge.to_string(), json!("carol"), json!("dave")),
    ];
    want.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(rows, want);
    // folio log reports the same previous owners (the branches' commits
    // in either order).
    let v = json_of(f.root(), &["log", "K1", "--format", "json"]);
    let owners: Vec<(String, Value)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let ch = e["changes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["field"] == "owner")
                .map(|c| json!([c["old"], c["new"]]))
                .unwrap_or(Value::Null);
            (e["commit"].as_str().unwrap().to_string(), ch)
        })
        .collect();
    let (mut owners, mut want) = (
        owners,
        vec![
            (merge.to_string(), json!(["carol", "dave"])),
            (main.to_string(), json!(["alice", "carol"])),
            (x.to_string(), json!(["alice", "bob"])),
            (base.to_string(), Value::Null),
        ],
    );
    owners.sort_by(|a, b| a.0.cmp(&b.0));
    want.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(owners, want);
}
