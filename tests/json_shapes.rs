//! Every `--format json` output (and `schema export`) read into strict
//! structs: an unknown key, a missing key or a value of another type fails
//! the test. docs/json.md documents these shapes; the structs here hold
//! them. A field that is always present but may be `null` is read with
//! `nullable` (a missing key fails); one that may be left out has
//! `#[serde(default)]`.

mod common;

use common::{TestRepo, run};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;

const AS_OF: &str = "2026-03-01";
const C1: &str = "customers/de/atlas-pump-gmbh--hans-muller--de.toml";
const C2: &str = "customers/de/atlas-pump--hans-muller--de.toml";
const P1: &str = "customers/fr/belle-maison--marie-curie--fr.toml";

/// 2025-01-10, 2025-06-01 and 2025-07-01 at 12:00 UTC.
const DAY1: i64 = 1_736_510_400;
const DAY2: i64 = 1_748_779_200;
const DAY3: i64 = 1_751_371_200;

/// An `Option` whose key must be there (its value may be `null`).
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}

/// Run folio with `args`, expect exit status `code`, read stdout as `T`.
fn json<T: DeserializeOwned>(t: &TestRepo, args: &[&str], code: i32) -> T {
    let (c, out, err) = run(t.folio().args(args));
    assert_eq!(c, code, "{args:?}\nstdout: {out}\nstderr: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}\n{out}"))
}

const CONFIG: &str = "[[tag_rules]]\nkeywords = [\"对比\", \"other supplier\"]\ntag = \"comparing-competitors\"\nadvice = \"stress QC certification\"\n";

const C1_TEXT: &str = r#"id = "C1"
name = "Atlas Pump GmbH"
contact = "Hans Muller"
country = "DE"
owner = "alice"
tier = "A"
type = "smb"
stage = "negotiating"
city = "Berlin"
tags = ["vip"]
group = "atlas"
created = 2025-01-10
incoterms = ["FOB"]

[[titles]]
name = "Atlas Pumpen Vertrieb GmbH"
registration = "HRB 12345"

[[contacts]]
name = "Hans Muller"
role = "buyer"
email = "hans@atlas-pump.example"
phone = "+49 30 1234567"

[[quotes]]
date = 2025-02-01
product = "pump P2"
amount = 1200.5
currency = "EUR"
incoterm = "FOB"

[[orders]]
date = 2025-03-01
number = "PI-1"
amount = 1200.5
currency = "EUR"

[[followups]]
date = 2026-02-20
by = "alice"
channel = "email"
summary = "They are 对比 with other supplier"
replied = false

[consent]
date = 2025-01-10
purpose = "sales"
basis = "contract"
"#;

const C2_TEXT: &str = "id = \"C2\"\nname = \"Atlas Pump\"\ncontact = \"Hans Muller\"\ncountry = \"DE\"\nowner = \"alice\"\ntier = \"B\"\nstage = \"contacted\"\nindustry = \"pumps\"\ngroup = \"atlas\"\ncreated = 2025-01-10\n\n[[contacts]]\nname = \"Hans Muller\"\nemail = \"hans@atlas-pump.example\"\n";

const P1_TEXT: &str = "id = \"P1\"\nname = \"Belle Maison\"\ncontact = \"Marie Curie\"\ncountry = \"FR\"\nowner = \"bob\"\ntier = \"C\"\nstage = \"contacted\"\ncreated = 2025-01-10\n";

/// Three customers and a history: Alice adds them (2025-01-10), Bob takes
/// C1 over (2025-06-01) and releases P1 to the pool (2025-07-01); C2's
/// tier B -> A is not committed.
fn story() -> TestRepo {
    let t = TestRepo::new();
    t.write("folio.toml", CONFIG);
    t.write(".gitignore", ".folio/\n");
    t.write(C1, C1_TEXT);
    t.write(C2, C2_TEXT);
    t.write(P1, P1_TEXT);
    t.git_init();
    t.commit_all("add customers", "Alice", DAY1);
    t.write(C1, &C1_TEXT.replace("owner = \"alice\"", "owner = \"bob\""));
    t.commit_all("hand C1 to bob", "Bob", DAY2);
    t.write(
        P1,
        &P1_TEXT.replace("owner = \"bob\"\n", "pool_reason = \"no budget\"\n"),
    );
    t.commit_all("release P1", "Bob", DAY3);
    t.write(C2, &C2_TEXT.replace("tier = \"B\"", "tier = \"A\""));
    t
}

fn is_oid(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

// ---------------------------------------------------------------- check

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct CheckReport {
    diagnostics: Vec<Diagnostic>,
    summary: CheckSummary,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Diagnostic {
    path: String,
    #[serde(deserialize_with = "nullable")]
    line: Option<u32>,
    #[serde(deserialize_with = "nullable")]
    column: Option<u32>,
    severity: String,
    code: String,
    name: String,
    message: String,
    #[serde(deserialize_with = "nullable")]
    field: Option<String>,
    #[serde(deserialize_with = "nullable")]
    hint: Option<String>,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct CheckSummary {
    files: usize,
    errors: usize,
    warnings: usize,
}

/// A repository with a misspelt key, a file that is not a record and a
/// record that does not parse.
fn flawed() -> TestRepo {
    let t = TestRepo::new();
    t.customer("K1", "Kraft AG", "Jo Doe", "DE", "tierr = \"A\"\n");
    t.write("customers/de/notes.txt", "call Jo\n");
    t.write("customers/fr/broken--x--fr.toml", "id = \"B1\"\nname = \n");
    t
}

#[test]
fn check_json_has_the_documented_shape() {
    let t = flawed();
    let r: CheckReport = json(&t, &["check", "--as-of", AS_OF, "--format", "json"], 1);
    let got: Vec<_> = r
        .diagnostics
        .iter()
        .map(|d| {
            (
                d.path.as_str(),
                d.line,
                d.column,
                d.severity.as_str(),
                d.code.as_str(),
                d.name.as_str(),
                d.field.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "customers/de/kraft-ag--jo-doe--de.toml",
                Some(9),
                Some(1),
                "error",
                "F101",
                "unknown-key",
                Some("tierr"),
            ),
            (
                "customers/de/notes.txt",
                None,
                None,
                "warning",
                "F005",
                "not-a-record",
                None,
            ),
            (
                "customers/fr/broken--x--fr.toml",
                Some(2),
                Some(8),
                "error",
                "F001",
                "toml-syntax",
                None,
            ),
        ]
    );
    assert_eq!(r.diagnostics[0].message, "unknown key `tierr`");
    assert_eq!(
        r.diagnostics[0].hint.as_deref(),
        Some("did you mean `tier`?")
    );
    assert_eq!(
        r.summary,
        CheckSummary {
            files: 2,
            errors: 2,
            warnings: 1
        }
    );
}

// ------------------------------------------------------------------ due

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct DueReport {
    as_of: String,
    within_days: i64,
    overdue: usize,
    due_soon: usize,
    items: Vec<DueItem>,
    skipped: Vec<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct DueItem {
    id: String,
    path: String,
    display_name: String,
    #[serde(deserialize_with = "nullable")]
    owner: Option<String>,
    tier: String,
    stage: String,
    due: String,
    days_overdue: i64,
    rule: String,
    reason: String,
    hints: Vec<Hint>,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Hint {
    tag: String,
    advice: String,
    keyword: String,
    #[serde(deserialize_with = "nullable")]
    date: Option<String>,
}

fn competitor_hint() -> Hint {
    Hint {
        tag: "comparing-competitors".into(),
        advice: "stress QC certification".into(),
        keyword: "对比".into(),
        date: Some("2026-02-20".into()),
    }
}

#[test]
fn due_json_has_the_documented_shape() {
    let t = story();
    let r: DueReport = json(
        &t,
        &[
            "due", "--as-of", AS_OF, "--within", "30", "--format", "json",
        ],
        0,
    );
    assert_eq!((r.as_of.as_str(), r.within_days), (AS_OF, 30));
    assert_eq!((r.overdue, r.due_soon), (3, 0));
    assert!(r.skipped.is_empty());
    let got: Vec<_> = r
        .items
        .iter()
        .map(|i| {
            (
                i.id.as_str(),
                i.owner.as_deref(),
                i.due.as_str(),
                i.days_overdue,
                i.rule.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("C2", Some("alice"), "2025-01-13", 412, "first_contact"),
            ("C1", Some("bob"), "2026-02-27", 2, "no_reply"),
            ("P1", None, "2025-01-13", 412, "first_contact"),
        ]
    );
    let c1 = &r.items[1];
    assert_eq!(
        (c1.path.as_str(), c1.display_name.as_str()),
        (C1, "Atlas Pump GmbH-Hans Muller-DE")
    );
    assert_eq!((c1.tier.as_str(), c1.stage.as_str()), ("A", "negotiating"));
    assert_eq!(
        c1.reason,
        "no reply to the follow-up of 2026-02-20: second follow-up 7 days later"
    );
    assert_eq!(c1.hints, [competitor_hint()]);
    // a record that does not parse is named in `skipped`
    let r: DueReport = json(&flawed(), &["due", "--as-of", AS_OF, "--format", "json"], 0);
    assert_eq!(r.skipped, ["customers/fr/broken--x--fr.toml"]);
}

// ----------------------------------------------------------------- tags

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct TagsReport {
    items: Vec<TagsItem>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct TagsItem {
    id: String,
    path: String,
    display_name: String,
    hints: Vec<Hint>,
    /// With --apply only.
    #[serde(default)]
    applied: Option<bool>,
    /// With --apply only, when the record could not be changed.
    #[serde(default)]
    error: Option<String>,
}

#[test]
fn tags_json_has_the_documented_shape() {
    let t = story();
    let r: TagsReport = json(&t, &["tags", "--as-of", AS_OF, "--format", "json"], 0);
    assert_eq!(r.items.len(), 1);
    let i = &r.items[0];
    assert_eq!(
        (i.id.as_str(), i.path.as_str(), i.display_name.as_str()),
        ("C1", C1, "Atlas Pump GmbH-Hans Muller-DE")
    );
    assert_eq!(i.hints, [competitor_hint()]);
    assert_eq!((i.applied, i.error.as_deref()), (None, None));
    let (code, out, _) = run(t
        .folio()
        .args(["tags", "--as-of", AS_OF, "--format", "json"]));
    assert_eq!(code, 0);
    assert!(!out.contains("\"applied\""), "{out}");

    let r: TagsReport = json(
        &t,
        &["tags", "--apply", "--as-of", AS_OF, "--format", "json"],
        0,
    );
    assert_eq!(r.items.len(), 1);
    assert_eq!(
        (r.items[0].applied, r.items[0].error.as_deref()),
        (Some(true), None)
    );
    assert!(
        t.read(C1)
            .contains("tags = [\"vip\", \"comparing-competitors\"]")
    );
}

// --------------------------------------------------------------- review

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ReviewReport {
    as_of: String,
    older_than_days: i64,
    shallow: bool,
    records: usize,
    items: Vec<ReviewItem>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ReviewItem {
    id: String,
    path: String,
    display_name: String,
    #[serde(deserialize_with = "nullable")]
    owner: Option<String>,
    last_changed: String,
    days: i64,
    commit: String,
    exact: bool,
}

#[test]
fn review_json_has_the_documented_shape() {
    let t = story();
    let r: ReviewReport = json(
        &t,
        &[
            "review",
            "--older-than",
            "180d",
            "--as-of",
            AS_OF,
            "--format",
            "json",
        ],
        0,
    );
    assert_eq!(
        (r.as_of.as_str(), r.older_than_days, r.shallow, r.records),
        (AS_OF, 180, false, 3)
    );
    // C2 has uncommitted changes: changed now
    let got: Vec<_> = r
        .items
        .iter()
        .map(|i| {
            (
                i.id.as_str(),
                i.path.as_str(),
                i.owner.as_deref(),
                i.last_changed.as_str(),
                i.days,
                i.exact,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("C1", C1, Some("bob"), "2025-06-01", 273, true),
            ("P1", P1, None, "2025-07-01", 243, true),
        ]
    );
    assert_eq!(r.items[1].display_name, "Belle Maison-Marie Curie-FR");
    assert_eq!(r.items[1].commit, t.head().to_string());
}

// ---------------------------------------------------------------- dupes

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct DupePair {
    score: f64,
    a: DupeSide,
    b: DupeSide,
    matches: Vec<DupeMatch>,
    #[serde(deserialize_with = "nullable")]
    exempt: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct DupeSide {
    id: String,
    path: String,
    display_name: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct DupeMatch {
    key: String,
    a: String,
    b: String,
    a_field: String,
    b_field: String,
    similarity: f64,
    explanation: String,
}

#[test]
fn dupes_json_has_the_documented_shape() {
    let t = story();
    let pairs: Vec<DupePair> = json(&t, &["dupes", "--format", "json"], 0);
    assert_eq!(pairs.len(), 1);
    let p = &pairs[0];
    assert_eq!(p.score, 1.0);
    assert_eq!(
        (
            p.a.id.as_str(),
            p.a.path.as_str(),
            p.a.display_name.as_str()
        ),
        ("C2", C2, "Atlas Pump-Hans Muller-DE")
    );
    assert_eq!((p.b.id.as_str(), p.b.path.as_str()), ("C1", C1));
    let got: Vec<_> = p
        .matches
        .iter()
        .map(|m| {
            (
                m.key.as_str(),
                m.a.as_str(),
                m.b.as_str(),
                m.a_field.as_str(),
                m.b_field.as_str(),
                m.similarity,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("name", "Atlas Pump", "Atlas Pump GmbH", "name", "name", 1.0),
            (
                "email",
                "hans@atlas-pump.example",
                "hans@atlas-pump.example",
                "contacts[0].email",
                "contacts[0].email",
                1.0
            ),
        ]
    );
    assert_eq!(p.matches[1].explanation, "the same address (case ignored)");
    assert_eq!(p.exempt, None);
    // a pair marked not duplicates carries the reason (with --all)
    t.write(
        "folio.toml",
        &format!(
            "{CONFIG}\n[[duplicates.not_duplicates]]\na = \"C1\"\nb = \"C2\"\nreason = \"two plants\"\n"
        ),
    );
    let pairs: Vec<DupePair> = json(&t, &["dupes", "--format", "json"], 0);
    assert!(pairs.is_empty());
    let pairs: Vec<DupePair> = json(&t, &["dupes", "--all", "--format", "json"], 0);
    assert_eq!(pairs[0].exempt.as_deref(), Some("two plants"));
}

// ---------------------------------------------------------------- group

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct GroupView {
    group: String,
    members: Vec<GroupMember>,
    events: Vec<GroupEvent>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct GroupMember {
    id: String,
    path: String,
    display_name: String,
    #[serde(deserialize_with = "nullable")]
    owner: Option<String>,
    titles: Vec<GroupTitle>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct GroupTitle {
    name: String,
    #[serde(deserialize_with = "nullable")]
    registration: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct GroupEvent {
    #[serde(deserialize_with = "nullable")]
    date: Option<String>,
    kind: String,
    customer: String,
    text: String,
}

#[test]
fn group_json_has_the_documented_shape() {
    let t = story();
    let g: GroupView = json(&t, &["group", "atlas", "--format", "json"], 0);
    assert_eq!(g.group, "atlas");
    let members: Vec<_> = g
        .members
        .iter()
        .map(|m| (m.id.as_str(), m.path.as_str(), m.owner.as_deref()))
        .collect();
    assert_eq!(
        members,
        [("C2", C2, Some("alice")), ("C1", C1, Some("bob"))]
    );
    assert_eq!(g.members[1].display_name, "Atlas Pump GmbH-Hans Muller-DE");
    let titles: Vec<_> = g.members[1]
        .titles
        .iter()
        .map(|t| (t.name.as_str(), t.registration.as_deref()))
        .collect();
    assert_eq!(
        titles,
        [
            ("Atlas Pump GmbH", None),
            ("Atlas Pumpen Vertrieb GmbH", Some("HRB 12345"))
        ]
    );
    let events: Vec<_> = g
        .events
        .iter()
        .map(|e| {
            (
                e.date.as_deref(),
                e.kind.as_str(),
                e.customer.as_str(),
                e.text.as_str(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            (Some("2025-02-01"), "quote", "C1", "pump P2 1200.50 EUR FOB"),
            (Some("2025-03-01"), "order", "C1", "PI-1 1200.50 EUR"),
            (
                Some("2026-02-20"),
                "followup",
                "C1",
                "email by alice: They are 对比 with other supplier"
            ),
        ]
    );
}

// ----------------------------------------------------------------- pool

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct PoolItem {
    id: String,
    path: String,
    display_name: String,
    tier: String,
    stage: String,
    #[serde(deserialize_with = "nullable")]
    last_activity: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pool_reason: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ReleaseItem {
    id: String,
    path: String,
    display_name: String,
    owner: String,
    last_activity: String,
    idle_days: i64,
    eligible_on: String,
    eligible: bool,
}

#[test]
fn pool_list_json_has_the_documented_shape() {
    let t = story();
    let items: Vec<PoolItem> = json(&t, &["pool", "list", "--format", "json"], 0);
    assert_eq!(items.len(), 1);
    let i = &items[0];
    assert_eq!(
        (
            i.id.as_str(),
            i.path.as_str(),
            i.display_name.as_str(),
            i.tier.as_str(),
            i.stage.as_str()
        ),
        ("P1", P1, "Belle Maison-Marie Curie-FR", "C", "contacted")
    );
    assert_eq!(i.last_activity.as_deref(), Some("2025-01-10"));
    assert_eq!(i.pool_reason.as_deref(), Some("no budget"));
}

#[test]
fn pool_due_for_release_json_has_the_documented_shape() {
    let t = story();
    let items: Vec<ReleaseItem> = json(
        &t,
        &[
            "pool",
            "due-for-release",
            "--as-of",
            AS_OF,
            "--format",
            "json",
        ],
        0,
    );
    let got: Vec<_> = items
        .iter()
        .map(|i| {
            (
                i.id.as_str(),
                i.path.as_str(),
                i.owner.as_str(),
                i.last_activity.as_str(),
                i.idle_days,
                i.eligible_on.as_str(),
                i.eligible,
            )
        })
        .collect();
    // C1: bob got it on 2025-06-01 (alice's follow-up is not his)
    assert_eq!(
        got,
        [
            ("C2", C2, "alice", "2025-01-10", 415, "2025-02-09", true),
            ("C1", C1, "bob", "2025-06-01", 273, "2025-07-01", true),
        ]
    );
    assert_eq!(items[0].display_name, "Atlas Pump-Hans Muller-DE");
}

// -------------------------------------------------------------- history

/// A field-level change (log, diff).
#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Change {
    field: String,
    #[serde(deserialize_with = "nullable")]
    old: Option<serde_json::Value>,
    #[serde(deserialize_with = "nullable")]
    new: Option<serde_json::Value>,
}

fn change(field: &str, old: Option<&str>, new: Option<&str>) -> Change {
    Change {
        field: field.into(),
        old: old.map(|s| s.into()),
        new: new.map(|s| s.into()),
    }
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct LogEntry {
    #[serde(deserialize_with = "nullable")]
    commit: Option<String>,
    #[serde(deserialize_with = "nullable")]
    author: Option<String>,
    #[serde(deserialize_with = "nullable")]
    email: Option<String>,
    #[serde(deserialize_with = "nullable")]
    date: Option<String>,
    message: String,
    changes: Vec<Change>,
}

#[test]
fn log_json_has_the_documented_shape() {
    let t = story();
    let log: Vec<LogEntry> = json(&t, &["log", "C2", "--format", "json"], 0);
    assert_eq!(log.len(), 2);
    // uncommitted changes first, without a commit
    let u = &log[0];
    assert_eq!(
        (
            u.commit.as_deref(),
            u.author.as_deref(),
            u.email.as_deref(),
            u.date.as_deref(),
            u.message.as_str()
        ),
        (None, None, None, None, "uncommitted changes")
    );
    assert_eq!(u.changes, [change("tier", Some("B"), Some("A"))]);
    let c = &log[1];
    assert!(is_oid(c.commit.as_deref().unwrap()));
    assert_eq!(
        (
            c.author.as_deref(),
            c.email.as_deref(),
            c.date.as_deref(),
            c.message.as_str()
        ),
        (
            Some("Alice"),
            Some("Alice@example.com"),
            Some("2025-01-10T12:00:00+00:00"),
            "add customers"
        )
    );
    assert_eq!(c.changes, [change("record", None, Some(C2))]);
    // a list item is a JSON object on one side
    let log: Vec<LogEntry> = json(
        &t,
        &["log", "C1", "--field", "followups", "--format", "json"],
        0,
    );
    assert_eq!(log.len(), 0);
    let log: Vec<LogEntry> = json(&t, &["log", "C1", "--format", "json"], 0);
    assert_eq!(
        log.iter().map(|e| e.message.as_str()).collect::<Vec<_>>(),
        ["hand C1 to bob", "add customers"]
    );
    assert_eq!(
        log[0].changes,
        [change("owner", Some("alice"), Some("bob"))]
    );
}

#[test]
fn history_json_is_an_empty_list_without_commits() {
    let t = TestRepo::new();
    t.customer("K1", "Kraft AG", "Jo Doe", "DE", "");
    t.git_init();
    for cmd in ["log", "owners"] {
        let (code, out, err) = run(t.folio().args([cmd, "K1", "--format", "json"]));
        assert_eq!((code, out.as_str()), (0, "[]\n"), "{cmd}: {err}");
        assert!(err.contains("no commits yet"), "{err}");
    }
    let (code, out, _) = run(t.folio().args(["handovers", "--format", "json"]));
    assert_eq!((code, out.as_str()), (0, "[]\n"));
    // human output stays quiet on stdout
    let (code, out, _) = run(t.folio().args(["log", "K1"]));
    assert_eq!((code, out.as_str()), (0, ""));
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct OwnerPeriod {
    #[serde(deserialize_with = "nullable")]
    owner: Option<String>,
    from: String,
    #[serde(deserialize_with = "nullable")]
    to: Option<String>,
    days: i64,
    commit: String,
    author: String,
    message: String,
    #[serde(deserialize_with = "nullable")]
    ended_by: Option<String>,
}

#[test]
fn owners_json_has_the_documented_shape() {
    let t = story();
    let v: Vec<OwnerPeriod> = json(
        &t,
        &["owners", "P1", "--as-of", AS_OF, "--format", "json"],
        0,
    );
    let got: Vec<_> = v
        .iter()
        .map(|p| {
            (
                p.owner.as_deref(),
                p.from.as_str(),
                p.to.as_deref(),
                p.days,
                p.author.as_str(),
                p.message.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                Some("bob"),
                "2025-01-10",
                Some("2025-07-01"),
                172,
                "Alice",
                "add customers"
            ),
            (None, "2025-07-01", None, 243, "Bob", "release P1"),
        ]
    );
    assert_eq!(v[0].ended_by.as_deref(), Some(v[1].commit.as_str()));
    assert_eq!(v[1].commit, t.head().to_string());
    assert_eq!(v[1].ended_by, None);
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Handover {
    commit: String,
    author: String,
    email: String,
    date: String,
    message: String,
    id: String,
    path: String,
    #[serde(deserialize_with = "nullable")]
    from: Option<String>,
    #[serde(deserialize_with = "nullable")]
    to: Option<String>,
}

#[test]
fn handovers_json_has_the_documented_shape() {
    let t = story();
    let v: Vec<Handover> = json(&t, &["handovers", "--format", "json"], 0);
    let got: Vec<_> = v
        .iter()
        .map(|h| {
            (
                h.author.as_str(),
                h.email.as_str(),
                h.date.as_str(),
                h.message.as_str(),
                h.id.as_str(),
                h.path.as_str(),
                h.from.as_deref(),
                h.to.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "Bob",
                "Bob@example.com",
                "2025-06-01T12:00:00+00:00",
                "hand C1 to bob",
                "C1",
                C1,
                Some("alice"),
                Some("bob")
            ),
            (
                "Bob",
                "Bob@example.com",
                "2025-07-01T12:00:00+00:00",
                "release P1",
                "P1",
                P1,
                Some("bob"),
                None
            ),
        ]
    );
    assert_eq!(v[1].commit, t.head().to_string());
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RecordDiff {
    #[serde(deserialize_with = "nullable")]
    id: Option<String>,
    status: String,
    #[serde(deserialize_with = "nullable")]
    path: Option<String>,
    #[serde(deserialize_with = "nullable")]
    old_path: Option<String>,
    changes: Vec<Change>,
}

#[test]
fn diff_json_has_the_documented_shape() {
    let t = story();
    let v: Vec<RecordDiff> = json(&t, &["diff", "--format", "json"], 0);
    assert_eq!(v.len(), 1);
    let d = &v[0];
    assert_eq!(
        (
            d.id.as_deref(),
            d.status.as_str(),
            d.path.as_deref(),
            d.old_path.as_deref()
        ),
        (Some("C2"), "modified", Some(C2), Some(C2))
    );
    assert_eq!(d.changes, [change("tier", Some("B"), Some("A"))]);
    // between two revisions: a value removed is null on the new side
    let v: Vec<RecordDiff> = json(&t, &["diff", "HEAD~1", "HEAD", "--format", "json"], 0);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].id.as_deref(), Some("P1"));
    assert_eq!(
        v[0].changes,
        [
            change("pool_reason", None, Some("no budget")),
            change("owner", Some("bob"), None),
        ]
    );
    // a record created in the working tree, and one deleted
    t.customer("K1", "Kraft AG", "Jo Doe", "DE", "");
    std::fs::remove_file(t.path(P1)).unwrap();
    let v: Vec<RecordDiff> = json(&t, &["diff", "--format", "json"], 0);
    let got: Vec<_> = v
        .iter()
        .map(|d| {
            (
                d.id.as_deref(),
                d.status.as_str(),
                d.path.as_deref(),
                d.old_path.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (Some("C2"), "modified", Some(C2), Some(C2)),
            (
                Some("K1"),
                "added",
                Some("customers/de/kraft-ag--jo-doe--de.toml"),
                None
            ),
            (Some("P1"), "deleted", None, Some(P1)),
        ]
    );
}

// ------------------------------------------------------- search, index

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct SearchHit {
    id: String,
    path: String,
    display_name: String,
    #[serde(deserialize_with = "nullable")]
    owner: Option<String>,
    tier: String,
    stage: String,
    score: f64,
    snippet: String,
    highlights: Vec<(usize, usize)>,
}

#[test]
fn search_json_has_the_documented_shape() {
    let t = story();
    let hits: Vec<SearchHit> = json(&t, &["search", "--format", "json", "atlas"], 0);
    let mut got: Vec<_> = hits
        .iter()
        .map(|h| {
            (
                h.id.as_str(),
                h.path.as_str(),
                h.display_name.as_str(),
                h.owner.as_deref(),
                h.tier.as_str(),
                h.stage.as_str(),
                h.snippet.as_str(),
                h.highlights.clone(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (
                "C1",
                C1,
                "Atlas Pump GmbH-Hans Muller-DE",
                Some("bob"),
                "A",
                "negotiating",
                "Atlas Pump GmbH",
                vec![(0, 5)]
            ),
            (
                "C2",
                C2,
                "Atlas Pump-Hans Muller-DE",
                Some("alice"),
                "A",
                "contacted",
                "Atlas Pump",
                vec![(0, 5)]
            ),
        ]
    );
    assert!(hits[0].score >= hits[1].score && hits[1].score > 0.0);
    // a pool customer's owner is null; filters only: an empty snippet
    let hits: Vec<SearchHit> = json(&t, &["search", "--format", "json", "owner:none"], 0);
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (
            hits[0].id.as_str(),
            hits[0].owner.as_deref(),
            hits[0].snippet.as_str()
        ),
        ("P1", None, "")
    );
    assert!(hits[0].highlights.is_empty());
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct IndexReport {
    full: bool,
    /// Only on a rebuild.
    #[serde(default)]
    reason: Option<String>,
    added: usize,
    modified: usize,
    renamed: usize,
    deleted: usize,
    records: usize,
    skipped: Vec<String>,
    unreadable: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    head: Option<String>,
    scan: String,
}

#[test]
fn index_json_has_the_documented_shape() {
    let t = story();
    let head = t.head().to_string();
    let r: IndexReport = json(&t, &["index", "--format", "json"], 0);
    assert_eq!(
        (r.full, r.reason.as_deref(), r.scan.as_str()),
        (true, Some("there is no index yet"), "rebuild")
    );
    assert_eq!((r.added, r.records), (3, 3));
    assert_eq!(r.head.as_deref(), Some(head.as_str()));
    let r: IndexReport = json(&t, &["index", "--format", "json"], 0);
    assert_eq!(
        (r.full, r.reason.as_deref(), r.scan.as_str()),
        (false, None, "stat")
    );
    t.write(C2, C2_TEXT);
    std::fs::remove_file(t.path(P1)).unwrap();
    let r: IndexReport = json(&t, &["index", "--format", "json"], 0);
    assert_eq!(
        (r.added, r.modified, r.renamed, r.deleted, r.records),
        (0, 1, 0, 1, 2)
    );
    assert!(r.skipped.is_empty() && r.unreadable.is_empty());
    // outside git: no head; a record that does not parse is skipped
    let r: IndexReport = json(&flawed(), &["index", "--format", "json"], 0);
    assert_eq!(r.head, None);
    assert_eq!(r.skipped, ["customers/fr/broken--x--fr.toml"]);
    assert!(r.unreadable.is_empty());
    assert_eq!(r.records, 1);
}

// --------------------------------------------------------------- export

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ExportRecord {
    /// Left out with --redact.
    #[serde(default)]
    path: Option<String>,
    id: String,
    name: String,
    contact: String,
    country: String,
    #[serde(default)]
    owner: Option<String>,
    tier: String,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    stage: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    industry: Option<String>,
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    website: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    next_followup: Option<String>,
    #[serde(default)]
    lost_reason: Option<String>,
    #[serde(default)]
    pool_reason: Option<String>,
    #[serde(default)]
    incoterms: Vec<String>,
    #[serde(default)]
    payment_terms: Option<String>,
    #[serde(default)]
    titles: Vec<ExportTitle>,
    #[serde(default)]
    contacts: Vec<ExportContact>,
    #[serde(default)]
    quotes: Vec<ExportQuote>,
    #[serde(default)]
    orders: Vec<ExportOrder>,
    #[serde(default)]
    followups: Vec<ExportFollowup>,
    #[serde(default)]
    consent: Option<ExportConsent>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ExportTitle {
    name: String,
    #[serde(default)]
    registration: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ExportContact {
    name: String,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    whatsapp: Option<String>,
    #[serde(default)]
    wechat: Option<String>,
    #[serde(default)]
    linkedin: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ExportQuote {
    #[serde(deserialize_with = "nullable")]
    date: Option<String>,
    #[serde(default)]
    product: Option<String>,
    #[serde(default)]
    amount: Option<f64>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    incoterm: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ExportOrder {
    #[serde(deserialize_with = "nullable")]
    date: Option<String>,
    #[serde(default)]
    number: Option<String>,
    #[serde(default)]
    amount: Option<f64>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    payment: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ExportFollowup {
    #[serde(deserialize_with = "nullable")]
    date: Option<String>,
    #[serde(default)]
    by: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    replied: Option<bool>,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ExportConsent {
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    purpose: Option<String>,
    #[serde(default)]
    basis: Option<String>,
}

#[test]
fn export_json_has_the_documented_shape() {
    let t = story();
    let v: Vec<ExportRecord> = json(&t, &["export", "--format", "json", "--as-of", AS_OF], 0);
    let ids: Vec<_> = v
        .iter()
        .map(|r| (r.id.as_str(), r.path.as_deref()))
        .collect();
    assert_eq!(ids, [("C2", Some(C2)), ("C1", Some(C1)), ("P1", Some(P1))]);
    let c1 = &v[1];
    assert_eq!(
        (
            c1.name.as_str(),
            c1.contact.as_str(),
            c1.country.as_str(),
            c1.owner.as_deref(),
            c1.tier.as_str(),
            c1.kind.as_deref(),
            c1.stage.as_str()
        ),
        (
            "Atlas Pump GmbH",
            "Hans Muller",
            "DE",
            Some("bob"),
            "A",
            Some("smb"),
            "negotiating"
        )
    );
    assert_eq!(
        (
            c1.city.as_deref(),
            c1.group.as_deref(),
            c1.created.as_deref()
        ),
        (Some("Berlin"), Some("atlas"), Some("2025-01-10"))
    );
    assert_eq!(
        (c1.tags.as_slice(), c1.incoterms.as_slice()),
        (&["vip".to_string()][..], &["FOB".to_string()][..])
    );
    assert_eq!(
        (
            c1.source.as_deref(),
            c1.industry.as_deref(),
            c1.address.as_deref(),
            c1.website.as_deref(),
            c1.next_followup.as_deref(),
            c1.lost_reason.as_deref(),
            c1.pool_reason.as_deref(),
            c1.payment_terms.as_deref()
        ),
        (None, None, None, None, None, None, None, None)
    );
    assert_eq!(c1.titles[0].name, "Atlas Pumpen Vertrieb GmbH");
    assert_eq!(c1.titles[0].registration.as_deref(), Some("HRB 12345"));
    let k = &c1.contacts[0];
    assert_eq!(
        (
            k.name.as_str(),
            k.role.as_deref(),
            k.email.as_deref(),
            k.phone.as_deref(),
            k.whatsapp.as_deref(),
            k.wechat.as_deref(),
            k.linkedin.as_deref()
        ),
        (
            "Hans Muller",
            Some("buyer"),
            Some("hans@atlas-pump.example"),
            Some("+49 30 1234567"),
            None,
            None,
            None
        )
    );
    let q = &c1.quotes[0];
    assert_eq!(
        (
            q.date.as_deref(),
            q.product.as_deref(),
            q.amount,
            q.currency.as_deref(),
            q.incoterm.as_deref(),
            q.status.as_deref()
        ),
        (
            Some("2025-02-01"),
            Some("pump P2"),
            Some(1200.5),
            Some("EUR"),
            Some("FOB"),
            None
        )
    );
    let o = &c1.orders[0];
    assert_eq!(
        (
            o.date.as_deref(),
            o.number.as_deref(),
            o.amount,
            o.currency.as_deref(),
            o.payment.as_deref()
        ),
        (
            Some("2025-03-01"),
            Some("PI-1"),
            Some(1200.5),
            Some("EUR"),
            None
        )
    );
    let f = &c1.followups[0];
    assert_eq!(
        (
            f.date.as_deref(),
            f.by.as_deref(),
            f.channel.as_deref(),
            f.summary.as_deref(),
            f.replied,
            f.next.as_deref()
        ),
        (
            Some("2026-02-20"),
            Some("alice"),
            Some("email"),
            Some("They are 对比 with other supplier"),
            Some(false),
            None
        )
    );
    let c = c1.consent.as_ref().unwrap();
    assert_eq!(
        (c.date.as_deref(), c.purpose.as_deref(), c.basis.as_deref()),
        (Some("2025-01-10"), Some("sales"), Some("contract"))
    );
    assert_eq!(v[2].owner, None);
    assert_eq!(v[2].pool_reason.as_deref(), Some("no budget"));
    assert!(v[2].contacts.is_empty() && v[2].tags.is_empty());
    // --redact: no path, placeholders
    let v: Vec<ExportRecord> = json(
        &t,
        &[
            "export", "--format", "json", "--as-of", AS_OF, "--redact", "id:C1",
        ],
        0,
    );
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].path, None);
    assert_eq!(
        v[0].contacts[0].email.as_deref(),
        Some("contact1@example.invalid")
    );
}

#[test]
fn export_json_fields_come_in_the_order_asked() {
    let t = story();
    let (code, out, err) = run(t.folio().args([
        "export",
        "--format",
        "json",
        "--as-of",
        AS_OF,
        "--fields",
        "tier,id,contacts",
        "id:C2",
    ]));
    assert_eq!(code, 0, "{err}");
    let v: Vec<serde_json::Map<String, serde_json::Value>> = serde_json::from_str(&out).unwrap();
    let keys: Vec<&str> = v[0].keys().map(String::as_str).collect();
    assert_eq!(keys, ["path", "tier", "id", "contacts"]);
    assert_eq!(v[0]["tier"], "A");
}

// --------------------------------------------------------------- import

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ImportReport {
    file: String,
    kind: String,
    #[serde(deserialize_with = "nullable")]
    encoding: Option<String>,
    #[serde(deserialize_with = "nullable")]
    delimiter: Option<String>,
    #[serde(deserialize_with = "nullable")]
    sheet: Option<String>,
    mapping_guessed: bool,
    mapping: String,
    dry_run: bool,
    stopped: bool,
    summary: ImportSummary,
    created: Vec<ImportCreated>,
    updated: Vec<ImportUpdated>,
    merged_into_new: Vec<ImportSkipped>,
    skipped: Vec<ImportSkipped>,
    rejected: Vec<ImportProblem>,
    dropped: Vec<ImportProblem>,
    lists: Vec<ImportList>,
    not_imported: Vec<ImportLeftOut>,
    #[serde(deserialize_with = "nullable")]
    commit: Option<String>,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct ImportSummary {
    rows: usize,
    created: usize,
    updated: usize,
    skipped: usize,
    rejected: usize,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ImportCreated {
    row: usize,
    path: String,
    id: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ImportUpdated {
    path: String,
    id: String,
    rows: Vec<usize>,
    filled: Vec<String>,
    conflicts: Vec<ImportConflict>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ImportConflict {
    row: usize,
    field: String,
    existing: String,
    imported: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ImportSkipped {
    row: usize,
    duplicate_of: String,
    reason: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ImportProblem {
    row: usize,
    /// A cell of a list sheet only.
    #[serde(default)]
    sheet: Option<String>,
    #[serde(default)]
    sheet_row: Option<usize>,
    column: String,
    field: String,
    value: String,
    reason: String,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct ImportList {
    sheet: String,
    list: String,
    rows: usize,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ImportLeftOut {
    sheet: String,
    #[serde(deserialize_with = "nullable")]
    column: Option<String>,
    rows: usize,
    reason: String,
}

const MAPPING: &str = "[fields]\nname = \"Company\"\ncontact = \"Contact\"\ncountry = \"Country\"\n\"contact1.email\" = \"Email\"\n\"contact1.phone\" = { column = \"Phone\", on_invalid = \"drop\" }\ntier = \"Tier\"\nstage = { default = \"prospect\" }\n";

#[test]
fn import_json_has_the_documented_shape() {
    let t = TestRepo::new();
    t.customer("A1", "Acme GmbH", "Ann Lee", "DE", "");
    t.write("map.toml", MAPPING);
    t.write(
        "in.csv",
        "Company,Contact,Country,Email,Phone,Tier\n\
         Good Co,Gina Good,DE,gina@good.example,+49 30 1234567,B\n\
         ,No Name,DE,,,C\n\
         Acme GmbH,Ann Lee,DE,,,B\n\
         Bad Phone Co,Bo Bad,FR,,12,C\n\
         Good Co,Gina Good,DE,,,B\n\
         Zed Co,Zoe Zed,DE,,,Z\n",
    );
    let r: ImportReport = json(
        &t,
        &[
            "import", "in.csv", "--map", "map.toml", "--as-of", AS_OF, "--ids", "seq:N",
            "--format", "json",
        ],
        1,
    );
    assert_eq!(
        (
            r.file.as_str(),
            r.kind.as_str(),
            r.encoding.as_deref(),
            r.delimiter.as_deref(),
            r.sheet.as_deref()
        ),
        ("in.csv", "csv", Some("UTF-8"), Some(","), None)
    );
    assert!(!r.mapping_guessed);
    assert!(
        r.mapping
            .contains("\"contact1.phone\" = { column = \"Phone\", on_invalid = \"drop\" }"),
        "{}",
        r.mapping
    );
    assert_eq!(
        (r.dry_run, r.stopped, r.commit.as_deref()),
        (false, false, None)
    );
    assert_eq!(
        r.summary,
        ImportSummary {
            rows: 6,
            created: 2,
            updated: 0,
            skipped: 2,
            rejected: 2
        }
    );
    let created: Vec<_> = r
        .created
        .iter()
        .map(|c| (c.row, c.path.as_str(), c.id.as_str()))
        .collect();
    assert_eq!(
        created,
        [
            (2, "customers/de/good-co--gina-good--de.toml", "N1"),
            (5, "customers/fr/bad-phone-co--bo-bad--fr.toml", "N2"),
        ]
    );
    let skipped: Vec<_> = r
        .skipped
        .iter()
        .map(|s| (s.row, s.duplicate_of.as_str()))
        .collect();
    assert_eq!(
        skipped,
        [
            (
                4,
                "customers/de/acme-gmbh--ann-lee--de.toml (Acme GmbH-Ann Lee-DE)"
            ),
            (6, "row 2"),
        ]
    );
    assert!(
        r.skipped[0].reason.starts_with("same name"),
        "{:?}",
        r.skipped
    );
    let rejected: Vec<_> = r
        .rejected
        .iter()
        .map(|p| {
            (
                p.row,
                p.sheet.as_deref(),
                p.sheet_row,
                p.column.as_str(),
                p.field.as_str(),
                p.value.as_str(),
                p.reason.as_str(),
            )
        })
        .collect();
    assert_eq!(
        rejected,
        [
            (
                3,
                None,
                None,
                "Company",
                "name",
                "",
                "empty: every customer needs a company name"
            ),
            (
                7,
                None,
                None,
                "Tier",
                "tier",
                "Z",
                "`tier` is \"Z\", which is not allowed (allowed: \"A\", \"B\", \"C\", \"D\", \"E\")"
            ),
        ]
    );
    assert_eq!(r.dropped.len(), 1);
    let d = &r.dropped[0];
    assert_eq!(
        (d.row, d.column.as_str(), d.field.as_str(), d.value.as_str()),
        (5, "Phone", "contact1.phone", "12")
    );
    assert!(r.updated.is_empty() && r.merged_into_new.is_empty());
    assert!(r.lists.is_empty() && r.not_imported.is_empty());

    // --on-duplicate update: the existing record filled, a conflict kept
    t.write(
        "upd.csv",
        "Company,Contact,Country,Email,Phone,Tier\n\
         Acme GmbH,Ann Lee,DE,ann@acme.example,,A\n\
         New Co,Ned New,DE,,,C\n\
         New Co,Ned New,DE,ned@new.example,,C\n",
    );
    let r: ImportReport = json(
        &t,
        &[
            "import",
            "upd.csv",
            "--map",
            "map.toml",
            "--on-duplicate",
            "update",
            "--dry-run",
            "--as-of",
            AS_OF,
            "--ids",
            "seq:U",
            "--format",
            "json",
        ],
        0,
    );
    assert!(r.dry_run);
    assert_eq!(
        r.summary,
        ImportSummary {
            rows: 3,
            created: 1,
            updated: 2,
            skipped: 0,
            rejected: 0
        }
    );
    assert_eq!(r.updated.len(), 1);
    let u = &r.updated[0];
    assert_eq!(
        (u.path.as_str(), u.id.as_str(), u.rows.as_slice()),
        ("customers/de/acme-gmbh--ann-lee--de.toml", "A1", &[2][..])
    );
    // `filled` names the fields filled, or the list and the entry added
    assert_eq!(u.filled, ["contacts: +Ann Lee"]);
    let c = &u.conflicts[0];
    assert_eq!(
        (
            c.row,
            c.field.as_str(),
            c.existing.as_str(),
            c.imported.as_str()
        ),
        (2, "tier", "B", "A")
    );
    assert_eq!(r.merged_into_new.len(), 1);
    assert_eq!(
        (
            r.merged_into_new[0].row,
            r.merged_into_new[0].duplicate_of.as_str()
        ),
        (4, "row 3")
    );
}

/// A workbook with a Followups sheet holding a bad cell and a column folio
/// does not know, and a sheet it does not know.
fn workbook(path: &std::path::Path) {
    use rust_xlsxwriter::Workbook;
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Customers").unwrap();
    let rows = [
        [
            "id", "name", "contact", "country", "tier", "stage", "created",
        ],
        [
            "A1",
            "Acme GmbH",
            "Ann Lee",
            "DE",
            "B",
            "contacted",
            "2025-01-10",
        ],
        [
            "B1",
            "Baker Co",
            "Joe Baker",
            "US",
            "C",
            "prospect",
            "2025-01-10",
        ],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32, c as u16, *v).unwrap();
        }
    }
    let f = wb.add_worksheet();
    f.set_name("Followups").unwrap();
    let rows = [
        [
            "customer_id",
            "customer",
            "date",
            "by",
            "channel",
            "summary",
            "mood",
        ],
        [
            "A1",
            "Acme GmbH",
            "2025-02-03",
            "alice",
            "email",
            "sent a quote",
            "good",
        ],
        [
            "B1",
            "Baker Co",
            "2025-02-03",
            "alice",
            "fax",
            "sent a fax",
            "",
        ],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                f.write_string(r as u32, c as u16, *v).unwrap();
            }
        }
    }
    let n = wb.add_worksheet();
    n.set_name("Notes").unwrap();
    n.write_string(0, 0, "note").unwrap();
    n.write_string(1, 0, "call in May").unwrap();
    wb.save(path).unwrap();
}

#[test]
fn import_json_of_a_workbook_names_sheets() {
    let t = TestRepo::new();
    workbook(&t.path("in.xlsx"));
    let r: ImportReport = json(
        &t,
        &[
            "import",
            "in.xlsx",
            "--as-of",
            AS_OF,
            "--dry-run",
            "--format",
            "json",
        ],
        1,
    );
    assert_eq!(
        (
            r.kind.as_str(),
            r.encoding.as_deref(),
            r.delimiter.as_deref(),
            r.sheet.as_deref()
        ),
        ("xlsx", None, None, Some("Customers"))
    );
    assert!(r.mapping_guessed);
    assert_eq!(
        r.lists,
        [ImportList {
            sheet: "Followups".into(),
            list: "followups".into(),
            rows: 2
        }]
    );
    let rejected: Vec<_> = r
        .rejected
        .iter()
        .map(|p| {
            (
                p.row,
                p.sheet.as_deref(),
                p.sheet_row,
                p.column.as_str(),
                p.field.as_str(),
                p.value.as_str(),
            )
        })
        .collect();
    assert_eq!(
        rejected,
        [(
            3,
            Some("Followups"),
            Some(3),
            "channel",
            "followups.channel",
            "fax"
        )]
    );
    let left: Vec<_> = r
        .not_imported
        .iter()
        .map(|l| (l.sheet.as_str(), l.column.as_deref(), l.rows))
        .collect();
    assert_eq!(left, [("Followups", Some("mood"), 1), ("Notes", None, 1)]);
    assert!(
        r.not_imported[1]
            .reason
            .starts_with("folio does not know this sheet")
    );
}

// ---------------------------------------------------------------- merge

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct MergeRefused {
    merged: bool,
    keep: String,
    conflicts: Vec<MergeConflict>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct MergeReport {
    merged: bool,
    dry_run: bool,
    keep: String,
    path: String,
    #[serde(deserialize_with = "nullable")]
    moved_from: Option<String>,
    others: Vec<MergeOther>,
    conflicts: Vec<MergeConflict>,
    removed: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    commit: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct MergeOther {
    id: String,
    path: String,
    changes: Vec<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct MergeConflict {
    other_id: String,
    field: String,
    keep: String,
    other: String,
    /// With --prefer only.
    #[serde(default)]
    taken: Option<String>,
}

fn conflicts(c: &[MergeConflict]) -> Vec<(&str, &str, &str, &str, Option<&str>)> {
    c.iter()
        .map(|c| {
            (
                c.other_id.as_str(),
                c.field.as_str(),
                c.keep.as_str(),
                c.other.as_str(),
                c.taken.as_deref(),
            )
        })
        .collect()
}

#[test]
fn merge_json_has_the_documented_shape() {
    let t = story();
    // conflicts without --prefer: refused (exit 2), nothing changed
    let r: MergeRefused = json(
        &t,
        &["merge", "C1", "C2", "--as-of", AS_OF, "--format", "json"],
        2,
    );
    assert!(!r.merged);
    assert_eq!(r.keep, "C1");
    assert_eq!(
        conflicts(&r.conflicts),
        [
            ("C2", "owner", "bob", "alice", None),
            ("C2", "stage", "negotiating", "contacted", None),
        ]
    );
    let r: MergeReport = json(
        &t,
        &[
            "merge",
            "C1",
            "C2",
            "--prefer",
            "other",
            "--dry-run",
            "--as-of",
            AS_OF,
            "--format",
            "json",
        ],
        0,
    );
    assert!(r.merged && r.dry_run);
    assert_eq!(
        (r.keep.as_str(), r.path.as_str(), r.moved_from.as_deref()),
        ("C1", C1, None)
    );
    let others: Vec<_> = r
        .others
        .iter()
        .map(|o| (o.id.as_str(), o.path.as_str(), o.changes.clone()))
        .collect();
    assert_eq!(others, [("C2", C2, vec!["industry".to_string()])]);
    assert_eq!(
        conflicts(&r.conflicts),
        [
            ("C2", "owner", "bob", "alice", Some("other")),
            ("C2", "stage", "negotiating", "contacted", Some("other")),
        ]
    );
    assert_eq!(r.removed, [C2]);
    assert_eq!(r.commit, None);
    assert!(t.path(C2).exists());
    let r: MergeReport = json(
        &t,
        &[
            "merge",
            "C1",
            "C2",
            "--prefer",
            "keep",
            "--commit",
            "--include-dirty",
            "--as-of",
            AS_OF,
            "--format",
            "json",
        ],
        0,
    );
    assert!(r.merged && !r.dry_run);
    assert_eq!(r.commit, Some(t.head().to_string()));
    assert!(!t.path(C2).exists());
}

// ---------------------------------------------------------------- watch

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct WatchStatus {
    pid: u32,
    epoch: String,
    seq: u64,
    folders: usize,
    changed: usize,
    answered: u64,
}

/// Stops the watcher of a repository when dropped.
struct Stop<'a>(&'a TestRepo);

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        let _ = self.0.folio().args(["watch", "--stop"]).output();
    }
}

#[cfg(target_os = "linux")]
#[test]
fn watch_status_json_has_the_documented_shape() {
    let t = story();
    let (code, out, _) = run(t.folio().args(["watch", "--status", "--format", "json"]));
    assert_eq!((code, out.as_str()), (1, "null\n"));
    let _stop = Stop(&t);
    let (code, out, err) = run(t.folio().args(["watch", "--detach"]));
    assert_eq!(code, 0, "{out}{err}");
    let s: Option<WatchStatus> = json(&t, &["watch", "--status", "--format", "json"], 0);
    let s = s.expect("a watcher runs");
    assert!(out.contains(&format!("(pid {})", s.pid)), "{out}");
    assert!(!s.epoch.is_empty());
    // customers/, de/ and fr/
    assert_eq!((s.folders, s.changed), (3, 0));
    let _ = s.seq;
    let before = s.answered;
    let (code, _, _) = run(t.folio().args(["search", "atlas"]));
    assert_eq!(code, 0);
    let s: Option<WatchStatus> = json(&t, &["watch", "--status", "--format", "json"], 0);
    assert!(s.unwrap().answered > before);
}

// --------------------------------------------------------------- schema

/// A JSON Schema (draft 4) as `folio schema export` writes it: every
/// keyword it uses, and no other.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct JsonSchema {
    #[serde(rename = "$schema")]
    schema: String,
    title: String,
    description: String,
    #[serde(rename = "type")]
    ty: String,
    properties: BTreeMap<String, Property>,
    required: Vec<String>,
    #[serde(rename = "additionalProperties")]
    additional_properties: bool,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Property {
    #[serde(default)]
    description: Option<String>,
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    pattern: Option<String>,
    #[serde(rename = "minLength", default)]
    min_length: Option<u32>,
    #[serde(rename = "enum", default)]
    one_of: Option<Vec<String>>,
    #[serde(default)]
    items: Option<Box<Property>>,
    #[serde(default)]
    properties: Option<BTreeMap<String, Property>>,
    #[serde(default)]
    required: Option<Vec<String>>,
    #[serde(rename = "additionalProperties", default)]
    additional_properties: Option<bool>,
}

#[test]
fn schema_export_is_a_json_schema_of_the_documented_shape() {
    let t = TestRepo::new();
    let s: JsonSchema = json(&t, &["schema", "export"], 0);
    assert_eq!(s.schema, "http://json-schema.org/draft-04/schema#");
    assert_eq!(s.title, "folio customer record");
    assert!(!s.description.is_empty());
    assert_eq!((s.ty.as_str(), s.additional_properties), ("object", false));
    assert_eq!(
        s.required,
        [
            "id", "name", "contact", "country", "tier", "stage", "created"
        ]
    );
    let created = &s.properties["created"];
    assert_eq!(
        (created.ty.as_str(), created.format.as_deref()),
        ("string", Some("date"))
    );
    let tier = &s.properties["tier"];
    assert_eq!(
        tier.one_of.as_deref().map(|v| v.join(",")),
        Some("A,B,C,D,E".to_string())
    );
    assert_eq!(tier.min_length, Some(1));
    let id = &s.properties["id"];
    assert_eq!(id.pattern.as_deref(), Some("^[A-Za-z0-9_-]{1,64}$"));
    assert!(id.description.is_some());
    let contacts = &s.properties["contacts"];
    assert_eq!(contacts.ty, "array");
    let item = contacts.items.as_ref().unwrap();
    assert_eq!(item.ty, "object");
    assert_eq!(item.additional_properties, Some(false));
    assert_eq!(item.required.as_deref(), Some(&["name".to_string()][..]));
    let email = &item.properties.as_ref().unwrap()["email"];
    assert_eq!(email.format.as_deref(), Some("email"));
    let amount = &s.properties["quotes"]
        .items
        .as_ref()
        .unwrap()
        .properties
        .as_ref()
        .unwrap()["amount"];
    assert_eq!(amount.ty, "number");
    let replied = &s.properties["followups"]
        .items
        .as_ref()
        .unwrap()
        .properties
        .as_ref()
        .unwrap()["replied"];
    assert_eq!(replied.ty, "boolean");
    // a team's own field is in it
    t.write(
        "schema/team.toml",
        "[fields.incoterm_year]\ntype = \"integer\"\ndescription = \"Year\"\n",
    );
    let s: JsonSchema = json(&t, &["schema", "export"], 0);
    assert_eq!(s.properties["incoterm_year"].ty, "integer");
}
