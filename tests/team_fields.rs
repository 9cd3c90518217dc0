//! A team's own fields keep their TOML type whenever folio writes a record:
//! a string that reads like a date stays a string, a date a date, a float a
//! float (`12.0`), through `folio merge` and `folio import --on-duplicate
//! update`.

mod common;
use common::{TestRepo, record, run};

/// One team field of every type, at the top level, in each contact and in
/// each follow-up.
const TEAM: &str = "[fields.vat_note]\ntype = \"string\"\n\n[fields.since]\ntype = \"date\"\n\n[fields.staff_size]\ntype = \"integer\"\n\n[fields.score]\ntype = \"number\"\n\n[fields.vip]\ntype = \"boolean\"\n\n[fields.codes]\ntype = \"array\"\nitems = \"string\"\n\n[fields.contacts.fields.skype]\ntype = \"string\"\n\n[fields.followups.fields.ref]\ntype = \"string\"\n";

/// The team fields' lines, as a record holds them.
const TEAM_LINES: &str = "codes = [\"2025-02-03\", \"b\"]\nscore = 12.0\nsince = 2024-06-30\nstaff_size = 120\nvat_note = \"2025-01-01\"\nvip = true\n";

const KEPT: &str = "customers/de/acme-gmbh--ann-lee--de.toml";

fn repo() -> TestRepo {
    let t = TestRepo::new();
    t.write("schema/team.toml", TEAM);
    t
}

fn check_passes(t: &TestRepo) {
    let (code, out, err) = run(t.folio().args(["check", "--as-of", "2026-01-01"]));
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn merge_writes_team_fields_with_their_types() {
    let t = repo();
    t.write(
        KEPT,
        &record(
            "A1",
            "Acme GmbH",
            "Ann Lee",
            "DE",
            "\n[[contacts]]\nname = \"Ann Lee\"\n",
        ),
    );
    t.write(
        "customers/de/acme-gmbh-old.toml",
        &record(
            "B2",
            "ACME GmbH",
            "Ann Lee",
            "DE",
            &format!(
                "{TEAM_LINES}\n[[contacts]]\nname = \"Ann Lee\"\nskype = \"2025-03-04\"\n\n[[followups]]\ndate = 2025-02-01\nby = \"alice\"\nref = \"2025-02-01\"\n"
            ),
        ),
    );
    t.git_init();
    t.commit_all("two records", "alice", 1_700_000_000);
    let (code, out, err) = run(t
        .folio()
        .args(["merge", "A1", "B2", "--as-of", "2026-01-01"]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        out,
        "merged B2 into customers/de/acme-gmbh--ann-lee--de.toml (Acme GmbH-Ann Lee-DE)\n  from B2 (customers/de/acme-gmbh-old.toml): codes, score, since, staff_size, vat_note, vip, contacts[0].skype, followups: +1\n  removed customers/de/acme-gmbh-old.toml\n"
    );
    assert_eq!(
        t.read(KEPT),
        format!(
            "{}{TEAM_LINES}\n[[contacts]]\nname = \"Ann Lee\"\nskype = \"2025-03-04\"\n\n[[followups]]\ndate = 2025-02-01\nby = \"alice\"\nref = \"2025-02-01\"\n",
            record("A1", "Acme GmbH", "Ann Lee", "DE", "")
        )
    );
    check_passes(&t);
}

#[test]
fn merge_prefer_other_writes_a_team_string_as_a_string() {
    let t = repo();
    t.write("schema/team.toml", "[fields.since]\ntype = \"string\"\n");
    t.write(
        KEPT,
        &record(
            "A1",
            "Acme GmbH",
            "Ann Lee",
            "DE",
            "since = \"2024-06-30\"\n",
        ),
    );
    t.write(
        "customers/de/acme-gmbh-old.toml",
        &record(
            "B2",
            "Acme GmbH",
            "Ann Lee",
            "DE",
            "since = \"2024-07-01\"\n",
        ),
    );
    t.git_init();
    t.commit_all("two records", "alice", 1_700_000_000);
    let (code, _, err) = run(t.folio().args(["merge", "A1", "B2", "--prefer", "other"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        t.read(KEPT),
        record(
            "A1",
            "Acme GmbH",
            "Ann Lee",
            "DE",
            "since = \"2024-07-01\"\n"
        )
    );
}

#[test]
fn import_update_writes_team_fields_with_their_types() {
    let t = repo();
    // contacts as an inline array: folio cannot edit it in place and writes
    // the record in the canonical layout
    t.write(
        KEPT,
        &record(
            "A1",
            "Acme GmbH",
            "Ann Lee",
            "DE",
            &format!("{TEAM_LINES}contacts = [{{ name = \"Ann Lee\", skype = \"2025-03-04\" }}]\n"),
        ),
    );
    check_passes(&t);
    t.write(
        "rows.csv",
        "Company,Contact,Country,Email\nACME GmbH,Ann Lee,DE,ann@acme.de\n",
    );
    let (code, out, err) = run(t.folio().args([
        "import",
        "rows.csv",
        "--on-duplicate",
        "update",
        "--as-of",
        "2026-01-01",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("updated customers/de/acme-gmbh--ann-lee--de.toml from row 2: filled contacts[0].email\n"),
        "{out}"
    );
    assert_eq!(
        t.read(KEPT),
        format!(
            "{}{TEAM_LINES}\n[[contacts]]\nname = \"Ann Lee\"\nemail = \"ann@acme.de\"\nskype = \"2025-03-04\"\n",
            record("A1", "Acme GmbH", "Ann Lee", "DE", "")
        )
    );
    check_passes(&t);
}

#[test]
fn json_export_shows_team_fields_as_before() {
    let t = repo();
    t.write(
        KEPT,
        &record(
            "A1",
            "Acme GmbH",
            "Ann Lee",
            "DE",
            &format!("{TEAM_LINES}\n[[contacts]]\nname = \"Ann Lee\"\nskype = \"2025-03-04\"\n"),
        ),
    );
    let (code, out, err) =
        run(t
            .folio()
            .args(["export", "--format", "json", "--as-of", "2026-01-01"]));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v,
        serde_json::json!([{
            "path": KEPT,
            "id": "A1",
            "name": "Acme GmbH",
            "contact": "Ann Lee",
            "country": "DE",
            "owner": "alice",
            "tier": "B",
            "stage": "contacted",
            "created": "2025-01-10",
            "contacts": [{"name": "Ann Lee", "skype": "2025-03-04"}],
            "codes": ["2025-02-03", "b"],
            "score": 12.0,
            "since": "2024-06-30",
            "staff_size": 120,
            "vat_note": "2025-01-01",
            "vip": true
        }])
    );
    assert!(out.contains("\"score\": 12.0"), "{out}");
}

#[test]
fn merge_refuses_to_write_a_non_finite_team_float() {
    let t = repo();
    t.write(KEPT, &record("A1", "Acme GmbH", "Ann Lee", "DE", ""));
    t.write(
        "customers/de/acme-gmbh-old.toml",
        &record("B2", "Acme GmbH", "Ann Lee", "DE", "score = nan\n"),
    );
    t.git_init();
    t.commit_all("two records", "alice", 1_700_000_000);
    let before = t.read(KEPT);
    let (code, out, err) = run(t
        .folio()
        .args(["merge", "A1", "B2", "--as-of", "2026-01-01"]));
    assert_eq!(code, 2, "{out}");
    assert_eq!(
        err,
        "error: cannot write customers/de/acme-gmbh--ann-lee--de.toml: `score` is nan, not a finite number; folio does not write nan or inf\n"
    );
    assert_eq!(t.read(KEPT), before);
    assert!(t.path("customers/de/acme-gmbh-old.toml").exists());
}
