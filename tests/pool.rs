//! The public pool through the CLI, on histories built with pinned dates.

mod common;
use common::{TestRepo, run};

/// Seconds of a day at 10:00 UTC.
fn at(date: &str) -> i64 {
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .unwrap()
        .and_hms_opt(10, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp()
}

fn pool_record(i: usize, tier: &str) -> String {
    format!(
        "# pool customer {i}\nid = \"P{i}\"\nname = \"Pool Company {i}\"\ncontact = \"Buyer {i}\"\ncountry = \"DE\"\ntier = \"{tier}\"\nstage = \"contacted\"\ncreated = 2026-01-05\n"
    )
}

fn path(i: usize) -> String {
    format!("customers/de/pool-company-{i}--buyer-{i}--de.toml")
}

/// Ten pool customers committed on 2026-03-01.
fn setup() -> TestRepo {
    let t = TestRepo::new();
    for i in 1..=10 {
        t.write(
            &path(i),
            &pool_record(i, if i % 2 == 0 { "A" } else { "C" }),
        );
    }
    t.git_init();
    t.commit_all("import", "admin", at("2026-03-01"));
    t
}

/// Give record `i` an owner and commit on `date`.
fn claim_in_git(t: &TestRepo, i: usize, h: &str, date: &str) {
    let text = t.read(&path(i)).replace(
        "country = \"DE\"\n",
        &format!("country = \"DE\"\nowner = \"{h}\"\n"),
    );
    t.write(&path(i), &text);
    t.commit_all(&format!("claim {i}"), h, at(date));
}

#[test]
fn daily_limit_at_the_boundary() {
    let t = setup();
    for i in 1..=4 {
        claim_in_git(&t, i, "alice", "2026-03-10");
    }
    let (code, out, err) = run(t.folio().args([
        "pool",
        "claim",
        "P5",
        "--as",
        "alice",
        "--as-of",
        "2026-03-10",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "alice claims Pool Company 5-Buyer 5-DE\n");
    assert_eq!(
        t.read(&path(5)),
        pool_record(5, "C").replace(
            "country = \"DE\"\n",
            "country = \"DE\"\nowner = \"alice\"\n"
        )
    );
    // the uncommitted claim counts: the sixth is refused, nothing changes
    let before = t.read(&path(6));
    let (code, _, err) = run(t.folio().args([
        "pool",
        "claim",
        "P6",
        "--as",
        "alice",
        "--as-of",
        "2026-03-10",
    ]));
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: alice cannot claim Pool Company 6-Buyer 6-DE: it would break the daily claim limit: alice 5 claims this day, the limit is 5; frees up on 2026-03-11 (nothing was changed)\n"
    );
    assert_eq!(t.read(&path(6)), before);
    // several at once are refused as a whole
    let (code, _, _) = run(t.folio().args([
        "pool",
        "claim",
        "P6",
        "P7",
        "--as",
        "bob",
        "--as-of",
        "2026-03-10",
    ]));
    assert_eq!(code, 0, "bob has his own limit");
    let (code, _, _) = run(t.folio().args([
        "pool",
        "claim",
        "P8",
        "--as",
        "alice",
        "--as-of",
        "2026-03-11",
    ]));
    assert_eq!(code, 0, "a new day frees the limit");
}

#[test]
fn weekly_window_edges_and_signed_exemption() {
    let t = setup();
    t.write(
        "folio.toml",
        "[pool]\nmax_claims_per_day = 10\nmax_claims_per_week = 3\n",
    );
    t.commit_all("settings", "admin", at("2026-03-01"));
    claim_in_git(&t, 1, "alice", "2026-03-02");
    claim_in_git(&t, 2, "alice", "2026-03-05");
    claim_in_git(&t, 3, "alice", "2026-03-05");
    // 2026-03-08 is the last day the claim of 03-02 counts
    let (code, _, err) = run(t.folio().args([
        "pool",
        "claim",
        "P4",
        "--as",
        "alice",
        "--as-of",
        "2026-03-08",
    ]));
    assert_eq!(code, 2);
    assert!(
        err.contains("alice 3 claims this week, the limit is 3; frees up on 2026-03-09"),
        "{err}"
    );
    let (code, _, _) = run(t.folio().args([
        "pool",
        "claim",
        "P4",
        "--as",
        "alice",
        "--as-of",
        "2026-03-09",
    ]));
    assert_eq!(code, 0);
    t.commit_all("claim 4", "alice", at("2026-03-09"));
    // a claimed customer that reaches stage signed within the window does not count
    let text = t
        .read(&path(4))
        .replace("stage = \"contacted\"", "stage = \"signed\"");
    t.write(&path(4), &text);
    t.commit_all("signed 4", "alice", at("2026-03-09"));
    let (code, _, err) = run(t.folio().args([
        "pool",
        "claim",
        "P5",
        "--as",
        "alice",
        "--as-of",
        "2026-03-09",
    ]));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn cooldown_after_release() {
    let t = setup();
    claim_in_git(&t, 1, "alice", "2026-03-02");
    let (code, out, err) = run(t.folio().args([
        "pool",
        "release",
        "P1",
        "--reason",
        "no reply for two months",
        "--as-of",
        "2026-03-04",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "released Pool Company 1-Buyer 1-DE from alice\n");
    assert_eq!(
        t.read(&path(1)),
        pool_record(1, "C").replace(
            "created = 2026-01-05\n",
            "created = 2026-01-05\npool_reason = \"no reply for two months\"\n"
        )
    );
    t.commit_all("release 1", "alice", at("2026-03-04"));
    let (code, _, err) = run(t.folio().args([
        "pool",
        "claim",
        "P1",
        "--as",
        "alice",
        "--as-of",
        "2026-03-10",
    ]));
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: alice cannot claim Pool Company 1-Buyer 1-DE: it would break the cooldown: alice released it on 2026-03-04; may reclaim it from 2026-03-11 (nothing was changed)\n"
    );
    let (code, _, _) = run(t.folio().args([
        "pool",
        "claim",
        "P1",
        "--as",
        "bob",
        "--as-of",
        "2026-03-10",
    ]));
    assert_eq!(code, 0, "someone else may take it");
    let text = t.read(&path(1));
    assert!(
        text.contains("owner = \"bob\"") && !text.contains("pool_reason"),
        "{text}"
    );
}

#[test]
fn release_needs_a_reason_and_unknown_claimants_are_refused() {
    let t = setup();
    let (code, _, err) = run(t.folio().args(["pool", "release", "P1", "--reason", " "]));
    assert_eq!(
        (code, err.as_str()),
        (
            2,
            "error: --reason must say why the customers return to the pool\n"
        )
    );
    let (code, _, err) = run(t.folio().args(["pool", "claim", "P1", "--as", "carol"]));
    assert_eq!(
        (code, err.as_str()),
        (
            2,
            "error: `carol` is inactive in staff.toml\nhint: choose an active salesperson\n"
        )
    );
    let (code, _, err) = run(t.folio().args(["pool", "claim", "P1", "--as", "zed"]));
    assert_eq!(
        (code, err.as_str()),
        (
            2,
            "error: `zed` is not in staff.toml\nhint: add the person to staff.toml or use an existing handle\n"
        )
    );
}

#[test]
fn assign_deals_3_2_1_in_order_a_b_a_c_b_a() {
    let t = setup();
    t.write("staff.toml", "[staff.amy]\nname = \"A\"\nweight = 3\n[staff.ben]\nname = \"B\"\nweight = 2\n[staff.cat]\nname = \"C\"\n");
    t.commit_all("staff", "admin", at("2026-03-01"));
    let (code, out, err) = run(t.folio().args([
        "pool",
        "assign",
        "--count",
        "6",
        "--as-of",
        "2026-03-02",
        "--dry-run",
    ]));
    assert_eq!(code, 0, "{err}");
    let receivers: Vec<&str> = out
        .lines()
        .take(6)
        .map(|l| l.rsplit(" -> ").next().unwrap())
        .collect();
    assert_eq!(receivers.join("-"), "amy-ben-amy-cat-ben-amy");
    // most promising first: the tier A customers (even numbers) are dealt first
    assert!(
        out.starts_with("Pool Company 10-Buyer 10-DE -> amy\n"),
        "{out}"
    );
    let (code, _, _) = run(t.folio().args([
        "pool",
        "assign",
        "--count",
        "6",
        "--weights",
        "1:1:1",
        "--as-of",
        "2026-03-02",
        "--commit",
    ]));
    assert_eq!(code, 0);
    let repo = git2::Repository::open(t.root()).unwrap();
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    assert!(
        head.message().unwrap().contains("Folio-Assign: amy"),
        "{}",
        head.message().unwrap()
    );
    // assignments are not claims: amy can still claim five today
    let (code, _, err) = run(t.folio().args([
        "pool",
        "claim",
        "P3",
        "P5",
        "P7",
        "P9",
        "--as",
        "amy",
        "--as-of",
        "2026-03-02",
    ]));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn conversion_weights_from_a_known_history() {
    let t = setup();
    claim_in_git(&t, 1, "alice", "2026-02-01");
    claim_in_git(&t, 2, "alice", "2026-02-02");
    claim_in_git(&t, 3, "bob", "2026-02-03");
    let text = t
        .read(&path(1))
        .replace("stage = \"contacted\"", "stage = \"signed\"");
    t.write(&path(1), &text);
    t.commit_all("signed", "alice", at("2026-02-20"));
    let (code, out, err) = run(t.folio().args([
        "pool",
        "assign",
        "--to",
        "alice,bob",
        "--weights",
        "from-conversion",
        "--count",
        "3",
        "--as-of",
        "2026-03-01",
        "--dry-run",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("conversion over the last 180 days:\n  alice        1 of 2 signed (50%), weight 5\n  bob          0 of 1 signed (0%), weight 1\n"), "{out}");
}

#[test]
fn due_for_release_counts_from_the_owners_last_work() {
    let t = setup();
    claim_in_git(&t, 1, "alice", "2026-03-01");
    let text = t
        .read(&path(2))
        .replace("country = \"DE\"\n", "country = \"DE\"\nowner = \"bob\"\n")
        + "\n[[followups]]\ndate = 2026-03-20\nby = \"bob\"\nchannel = \"email\"\n";
    t.write(&path(2), &text);
    t.commit_all("bob", "bob", at("2026-03-02"));
    let (code, out, _) = run(t
        .folio()
        .args(["pool", "due-for-release", "--as-of", "2026-03-29"]));
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "alice\n  Pool Company 1-Buyer 1-DE  eligible on 2026-03-31  (no follow-up by the owner for 28 days, last 2026-03-01)\n    customers/de/pool-company-1--buyer-1--de.toml\n0 eligible for release, 1 soon\n"
    );
    let (_, out, _) = run(t.folio().args([
        "pool",
        "due-for-release",
        "--as-of",
        "2026-04-20",
        "--format",
        "json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["id"], "P1");
    assert_eq!(v[0]["eligible"], true);
    assert_eq!(v[1]["id"], "P2");
    assert_eq!(v[1]["eligible_on"], "2026-04-19");
    let (code, out, _) = run(t.folio().args([
        "pool",
        "release",
        "--eligible",
        "--reason",
        "cold",
        "--as-of",
        "2026-04-20",
    ]));
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "released Pool Company 1-Buyer 1-DE from alice\nreleased Pool Company 2-Buyer 2-DE from bob\n"
    );
}

#[test]
fn check_changed_since_catches_a_pull_request_that_grabs_too_many() {
    let t = setup();
    let base = t.commit_all("base", "admin", at("2026-03-01"));
    for i in 1..=6 {
        claim_in_git(&t, i, "alice", "2026-03-10");
    }
    let (code, out, _) = run(t
        .folio()
        .args(["check", "--as-of", "2026-03-11", "--changed-since"])
        .arg(base.to_string()));
    assert_eq!(code, 1, "{out}");
    let heads: Vec<&str> = out.lines().filter(|l| l.contains("error[F70")).collect();
    assert_eq!(heads.len(), 1, "{out}");
    assert!(
        heads[0].starts_with(&format!(
            "{}:6:9: error[F701]: claim by alice in commit ",
            path(6)
        )),
        "{}",
        heads[0]
    );
    assert!(heads[0].ends_with("on 2026-03-10 breaks the claim limit per day: alice 5 claims this day, the limit is 5; frees up on 2026-03-11"), "{}", heads[0]);
    // five claims in a day are within the limit
    let t2 = setup();
    let base = t2.commit_all("base", "admin", at("2026-03-01"));
    for i in 1..=5 {
        claim_in_git(&t2, i, "alice", "2026-03-10");
    }
    let (code, out, _) = run(t2
        .folio()
        .args(["check", "--as-of", "2026-03-11", "--changed-since"])
        .arg(base.to_string()));
    assert_eq!(
        (code, out.as_str()),
        (0, "ok: checked 5 files: no problems\n")
    );
}

#[test]
fn check_changed_since_catches_a_reclaim_within_the_cooldown() {
    let t = setup();
    claim_in_git(&t, 1, "alice", "2026-03-02");
    let base = t.commit_all("base", "admin", at("2026-03-02"));
    // alice gives P1 back on 03-04 and takes it again on 03-06 (cooldown 7 days)
    t.write(&path(1), &pool_record(1, "C"));
    t.commit_all("release 1", "alice", at("2026-03-04"));
    claim_in_git(&t, 1, "alice", "2026-03-06");
    claim_in_git(&t, 2, "bob", "2026-03-06");
    let (code, out, err) = run(t
        .folio()
        .args(["check", "--as-of", "2026-03-11", "--changed-since"])
        .arg(base.to_string()));
    assert_eq!((code, err.as_str()), (1, ""), "{out}");
    // P1 is as it was at the base: the claim is reported all the same
    let commit = t.git(&["rev-parse", "--short=10", "HEAD~1"]);
    assert_eq!(
        out,
        format!(
            "{}:6:9: error[F702]: claim by alice in commit {} on 2026-03-06 breaks the reclaim cooldown: alice released it on 2026-03-04; may reclaim it from 2026-03-11
  |
6 | owner = \"alice\"
  |         ^^^^^^^
  = help: return the customer to the pool, or have a manager assign it with `folio pool assign`

checked 1 file: 1 error
",
            path(1),
            commit.trim()
        )
    );
    // the same claims, reported in JSON with their line
    let (code, json, _) = run(t
        .folio()
        .args([
            "check",
            "--as-of",
            "2026-03-11",
            "--format",
            "json",
            "--changed-since",
        ])
        .arg(base.to_string()));
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let d = &v["diagnostics"][0];
    assert_eq!(
        (d["code"].as_str(), d["path"].as_str(), d["line"].as_u64()),
        (Some("F702"), Some(path(1).as_str()), Some(6)),
        "{json}"
    );
}

#[test]
fn pool_list_most_promising_first() {
    let t = setup();
    let (code, out, _) = run(t.folio().args(["pool", "list", "--format", "json"]));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["P10", "P2", "P4", "P6", "P8", "P1", "P3", "P5", "P7", "P9"]
    );
}

#[test]
fn hold_limit_counts_the_working_tree_and_claims_take_paths_and_names() {
    let t = setup();
    t.write("folio.toml", "[pool]\nmax_held = 3\n");
    t.commit_all("settings", "admin", at("2026-03-01"));
    claim_in_git(&t, 1, "alice", "2026-03-02");
    claim_in_git(&t, 2, "alice", "2026-03-03");
    // Uncommitted: P2 deleted, a new record of alice's not yet added to git.
    std::fs::remove_file(t.path(&path(2))).unwrap();
    t.write(
        "customers/fr/new-company--new-buyer--fr.toml",
        "id = \"N1\"\nname = \"New Company\"\ncontact = \"New Buyer\"\ncountry = \"FR\"\nowner = \"alice\"\ntier = \"C\"\nstage = \"contacted\"\ncreated = 2026-03-04\n",
    );
    // alice holds P1 and N1: a claim by path brings her to the limit (even
    // while another git process holds the index lock).
    std::fs::write(t.path(".git/index.lock"), "").unwrap();
    let p3 = path(3);
    let (code, out, err) = run(t.folio().args([
        "pool",
        "claim",
        &p3,
        "--as",
        "alice",
        "--as-of",
        "2026-03-04",
    ]));
    assert_eq!(
        (code, out.as_str()),
        (0, "alice claims Pool Company 3-Buyer 3-DE\n"),
        "{err}"
    );
    std::fs::remove_file(t.path(".git/index.lock")).unwrap();
    // One more, named by its company, is refused.
    let before = t.read(&path(4));
    let (code, _, err) = run(t.folio().args([
        "pool",
        "claim",
        "Pool Company 4",
        "--as",
        "alice",
        "--as-of",
        "2026-03-04",
    ]));
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: alice cannot claim Pool Company 4-Buyer 4-DE: it would break the hold limit: alice holds 3 customers, the most one may hold is 3 (nothing was changed)\n"
    );
    assert_eq!(t.read(&path(4)), before);
    // Releasing N1 in the working tree frees a place.
    t.write(
        "customers/fr/new-company--new-buyer--fr.toml",
        "id = \"N1\"\nname = \"New Company\"\ncontact = \"New Buyer\"\ncountry = \"FR\"\ntier = \"C\"\nstage = \"contacted\"\ncreated = 2026-03-04\n",
    );
    let (code, _, err) = run(t.folio().args([
        "pool",
        "claim",
        "P4",
        "--as",
        "alice",
        "--as-of",
        "2026-03-04",
    ]));
    assert_eq!(code, 0, "{err}");
}

/// Stops the repository's watcher when the test ends, even on failure.
#[cfg(target_os = "linux")]
struct Watcher<'a>(&'a TestRepo);

#[cfg(target_os = "linux")]
impl Watcher<'_> {
    fn start(t: &TestRepo) -> Watcher<'_> {
        let (code, _, err) = run(t.folio().args(["watch", "--detach"]));
        assert_eq!(code, 0, "{err}");
        Watcher(t)
    }

    fn answered(&self) -> u64 {
        let (_, out, _) = run(self
            .0
            .folio()
            .args(["watch", "--status", "--format", "json"]));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["answered"].as_u64().unwrap()
    }
}

#[cfg(target_os = "linux")]
impl Drop for Watcher<'_> {
    fn drop(&mut self) {
        let _ = self.0.folio().args(["watch", "--stop"]).output();
    }
}

/// With `folio watch` running, claim learns the uncommitted changes from
/// the watcher (not from a status of every file) and still counts them
/// right through edits, commits, a reset and a rename.
#[cfg(target_os = "linux")]
#[test]
fn uncommitted_claims_are_counted_through_the_watcher() {
    let t = setup();
    let w = Watcher::start(&t);
    let claim = |id: &str, h: &str| {
        run(t
            .folio()
            .args(["pool", "claim", id, "--as", h, "--as-of", "2026-03-10"]))
    };
    for i in 1..=5 {
        let (code, _, err) = claim(&format!("P{i}"), "alice");
        assert_eq!(code, 0, "P{i}: {err}");
    }
    let asked = w.answered();
    assert!(asked >= 4, "claims asked the watcher ({asked})");
    // the list of changed records kept between commands (token, HEAD,
    // paths, `end`), as the fifth claim found it before writing
    let kept = t.read(".folio/watch/dirty");
    let paths: Vec<&str> = kept.lines().skip(2).collect();
    let mut want: Vec<String> = (1..=4).map(path).collect();
    want.push("end".into());
    assert_eq!(paths, want);
    let limit = "error: alice cannot claim Pool Company 6-Buyer 6-DE: it would break the daily claim limit: alice 5 claims this day, the limit is 5; frees up on 2026-03-11 (nothing was changed)\n";
    // uncommitted claims count as today's: the limit frees up tomorrow
    let (code, _, err) = claim("P6", "alice");
    assert_eq!((code, err.as_str()), (2, limit));
    // committed on that day: still five
    t.commit_all("claims", "alice", at("2026-03-10"));
    let (code, _, err) = claim("P6", "alice");
    assert_eq!((code, err.as_str()), (2, limit));
    // the commit undone (HEAD moves back, the files with it): none left
    let repo = git2::Repository::open(t.root()).unwrap();
    let parent = repo
        .head()
        .unwrap()
        .peel_to_commit()
        .unwrap()
        .parent(0)
        .unwrap();
    repo.reset(parent.as_object(), git2::ResetType::Hard, None)
        .unwrap();
    let (code, _, err) = claim("P6", "alice");
    assert_eq!(code, 0, "{err}");
    // a claim by hand, then its file renamed: still counted once
    let text = t.read(&path(7)).replace(
        "country = \"DE\"\n",
        "country = \"DE\"\nowner = \"alice\"\n",
    );
    t.write(&path(7), &text);
    std::fs::rename(
        t.path(&path(7)),
        t.path("customers/de/pool-company-7-renamed--buyer-7--de.toml"),
    )
    .unwrap();
    for i in [8, 9, 10] {
        let (code, _, err) = claim(&format!("P{i}"), "alice");
        assert_eq!(code, 0, "P{i}: {err}");
    }
    let (code, _, err) = claim("P1", "alice");
    assert_eq!(code, 2);
    assert!(err.contains("alice 5 claims this day"), "{err}");
    assert!(w.answered() > asked);
}

/// A change staged and then undone in the file is not in the list of
/// changed files the watcher keeps (the file equals HEAD's), but a
/// committing pool command still refuses to commit over it.
#[cfg(target_os = "linux")]
#[test]
fn staged_changes_are_refused_with_the_watcher() {
    let t = setup();
    let _w = Watcher::start(&t);
    let (code, _, err) = run(t.folio().args([
        "pool",
        "assign",
        "--count",
        "1",
        "--to",
        "alice",
        "--dry-run",
    ]));
    assert_eq!(code, 0, "{err}");
    let repo = git2::Repository::open(t.root()).unwrap();
    let mut index = repo.index().unwrap();
    for i in 1..=10 {
        let before = t.read(&path(i));
        t.write(&path(i), &before.replace("tier", "# staged\ntier"));
        index.add_path(std::path::Path::new(&path(i))).unwrap();
        t.write(&path(i), &before);
    }
    index.write().unwrap();
    let (code, _, err) = run(t.folio().args([
        "pool", "assign", "--count", "1", "--to", "alice", "--commit",
    ]));
    assert_eq!(code, 4);
    assert!(
        err.starts_with(
            "error: a file to change has uncommitted or staged changes: customers/de/pool-company-"
        ) && err.ends_with(
            "\nhint: commit or discard those changes first, or pass --include-dirty to commit them with folio's change\n"
        ),
        "{err}"
    );
}

/// Two claims of one customer at the same moment: one wins, the other is
/// told the customer is no longer in the pool (pool commands take turns).
#[test]
fn simultaneous_claims_of_one_customer_have_one_winner() {
    let t = setup();
    for (a, b) in [
        (1, ("alice", "bob")),
        (2, ("bob", "alice")),
        (3, ("alice", "bob")),
    ] {
        let id = format!("P{a}");
        let spawn = |h: &str| {
            let mut c = common::folio_std();
            c.current_dir(t.root())
                .args(["pool", "claim", &id, "--as", h, "--as-of", "2026-03-10"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (p1, p2) = (spawn(b.0), spawn(b.1));
        let (o1, o2) = (
            p1.wait_with_output().unwrap(),
            p2.wait_with_output().unwrap(),
        );
        let codes = [o1.status.code(), o2.status.code()];
        assert!(
            codes == [Some(0), Some(2)] || codes == [Some(2), Some(0)],
            "{codes:?} {} {}",
            String::from_utf8_lossy(&o1.stderr),
            String::from_utf8_lossy(&o2.stderr)
        );
        let loser = if codes[0] == Some(2) { &o1 } else { &o2 };
        let err = String::from_utf8_lossy(&loser.stderr);
        assert!(err.contains("is not in the pool"), "{err}");
        let winner = if codes[0] == Some(0) { b.0 } else { b.1 };
        assert!(
            t.read(&path(a)).contains(&format!("owner = \"{winner}\"")),
            "{}",
            t.read(&path(a))
        );
    }
}

/// `pool assign --commit` killed after writing, before committing: the next
/// folio command makes the commit it was to make, so the assignments are
/// recorded as assignments (not left to count as claims).
#[test]
fn a_killed_assign_is_committed_by_the_next_command() {
    let t = setup();
    let h = git2::Repository::open(t.root())
        .unwrap()
        .head()
        .unwrap()
        .target()
        .unwrap();
    let (code, _, _) = run(t.folio().env("FOLIO_TX_FAULT", "written").args([
        "pool",
        "assign",
        "--count",
        "3",
        "--as-of",
        "2026-03-02",
        "--commit",
    ]));
    assert_eq!(code, -1, "killed");
    let (code, _, err) = run(t.folio().args(["pool", "list"]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("committed it as "), "{err}");
    let repo = git2::Repository::open(t.root()).unwrap();
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(head.parent_id(0).unwrap(), h);
    assert!(
        head.message().unwrap().contains("Folio-Assign: "),
        "{}",
        head.message().unwrap()
    );
    let statuses = repo.statuses(None).unwrap();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| s.status() != git2::Status::IGNORED)
            .count(),
        0
    );
}
