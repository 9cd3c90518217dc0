//! Amounts are finite numbers: `folio check` reports `nan`, `inf`, `-inf`
//! and a literal too large for a number (F106), and `folio merge` never
//! writes one (it used to write `amount = NaN`, which is not TOML at all).

mod common;
use common::{TestRepo, run};

const A: &str = "customers/de/acme-gmbh--ann-lee--de.toml";
const B: &str = "customers/de/acme-trading--ann-lee--de.toml";

fn check(t: &TestRepo, extra: &[&str]) -> (i32, String, String) {
    run(t
        .folio()
        .args(["check", "--as-of", "2026-01-01"])
        .args(extra))
}

#[test]
fn check_reports_nan_and_infinite_amounts() {
    let t = TestRepo::new();
    t.customer(
        "A1",
        "Acme GmbH",
        "Ann Lee",
        "DE",
        "\n[[quotes]]\ndate = 2025-02-01\namount = nan\ncurrency = \"EUR\"\n\n[[quotes]]\ndate = 2025-02-02\namount = 1250.5\n\n[[orders]]\ndate = 2025-03-01\namount = inf\n\n[[orders]]\ndate = 2025-03-02\namount = -inf\n",
    );
    let (code, out, err) = check(&t, &[]);
    assert_eq!(err, "");
    assert_eq!(code, 1, "{out}");
    let help = "   = help: write a number such as 1250.5, or remove the `amount` line\n";
    assert_eq!(
        out,
        format!(
            "{A}:12:10: error[F106]: `quotes[0].amount` must be a finite number, found nan\n   |\n12 | amount = nan\n   |          ^^^\n{help}\n\
             {A}:21:10: error[F106]: `orders[0].amount` must be a finite number, found inf\n   |\n21 | amount = inf\n   |          ^^^\n{help}\n\
             {A}:25:10: error[F106]: `orders[1].amount` must be a finite number, found -inf\n   |\n25 | amount = -inf\n   |          ^^^^\n{help}\n\
             checked 1 file: 3 errors\n"
        )
    );
    // the same in JSON, with its name and field
    let (code, out, _) = check(&t, &["--format", "json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "F106");
    assert_eq!(d["name"], "not-finite");
    assert_eq!(d["field"], "quotes[0].amount");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(12), Some(10))
    );
    // a literal too large for a 64-bit float is not TOML at all (F001)
    let t = TestRepo::new();
    t.customer(
        "A1",
        "Acme GmbH",
        "Ann Lee",
        "DE",
        "\n[[orders]]\ndate = 2025-03-03\namount = 1e400\n",
    );
    let (code, out, _) = check(&t, &[]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with(&format!(
            "{A}:12:10: error[F001]: `orders[0].amount`: `1e400` is not a valid float\n"
        )),
        "{out}"
    );
    // finite amounts, integers among them, pass
    let t = TestRepo::new();
    t.customer(
        "A1",
        "Acme GmbH",
        "Ann Lee",
        "DE",
        "\n[[quotes]]\ndate = 2025-02-01\namount = 1_250.5\n\n[[orders]]\ndate = 2025-03-01\namount = 900\n",
    );
    assert_eq!(
        check(&t, &[]),
        (0, "ok: checked 1 file: no problems\n".into(), String::new())
    );
}

/// Two records of one customer, the other quoting `amount = nan` (which
/// `folio check` accepted before F106), committed.
fn two_records(kept_quote: &str) -> TestRepo {
    let t = TestRepo::new();
    t.customer(
        "A1",
        "Acme GmbH",
        "Ann Lee",
        "DE",
        &format!("\n[[quotes]]\ndate = 2025-02-01\nproduct = \"Pump X\"\namount = 12.5\ncurrency = \"EUR\"\n{kept_quote}"),
    );
    t.customer(
        "B2",
        "Acme Trading",
        "Ann Lee",
        "DE",
        "\n[[quotes]]\ndate = 2025-02-02\nproduct = \"Pump Y\"\namount = nan\ncurrency = \"EUR\"\n",
    );
    t.git_init();
    t.commit_all("two records", "alice", 1_700_000_000);
    t
}

#[test]
fn merge_leaves_a_nan_amount_out_and_writes_a_record_that_parses() {
    let t = two_records("");
    let (code, out, err) =
        run(t
            .folio()
            .args(["merge", "A1", "B2", "--commit", "--as-of", "2026-01-01"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.split("committed ").next().unwrap(),
        format!(
            "merged B2 into {A} (Acme GmbH-Ann Lee-DE)\n  from B2 ({B}): titles: +Acme Trading, B2's quotes[0].amount: nan left out (not a finite number), quotes: +1\n  removed {B}\n"
        )
    );
    // before the fix: `amount = NaN`, a TOML syntax error (F001)
    assert_eq!(
        t.read(A),
        "id = \"A1\"\nname = \"Acme GmbH\"\ncontact = \"Ann Lee\"\ncountry = \"DE\"\nowner = \"alice\"\ntier = \"B\"\nstage = \"contacted\"\ncreated = 2025-01-10\n\n[[quotes]]\ndate = 2025-02-01\nproduct = \"Pump X\"\namount = 12.5\ncurrency = \"EUR\"\n\n[[quotes]]\ndate = 2025-02-02\nproduct = \"Pump Y\"\ncurrency = \"EUR\"\n\n[[titles]]\nname = \"Acme Trading\"\n"
    );
    assert_eq!(
        check(&t, &[]),
        (0, "ok: checked 1 file: no problems\n".into(), String::new())
    );
    let repo = git2::Repository::open(t.root()).unwrap();
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(
        head.message().unwrap(),
        "merge B2 into A1\n\nFolio-Merged: B2\n"
    );
}

#[test]
fn merge_removes_the_kept_records_own_infinite_amount() {
    let t = two_records("\n[[orders]]\ndate = 2025-03-01\namount = -inf # typo\n");
    let (code, out, err) = run(t
        .folio()
        .args(["merge", "A1", "B2", "--as-of", "2026-01-01"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!(
            "merged B2 into {A} (Acme GmbH-Ann Lee-DE)\n  from B2 ({B}): titles: +Acme Trading, orders[0].amount: -inf removed (not a finite number), B2's quotes[0].amount: nan left out (not a finite number), quotes: +1\n  removed {B}\n"
        )
    );
    let text = t.read(A);
    assert!(
        text.contains("[[orders]]\ndate = 2025-03-01\n") && !text.contains("amount = -inf"),
        "{text}"
    );
    assert_eq!(
        check(&t, &[]),
        (0, "ok: checked 1 file: no problems\n".into(), String::new())
    );
}
