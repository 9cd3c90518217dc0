//! CSV formula injection (issue 14, item 10): `folio export` and `folio
//! due --format csv` put a `'` in front of cells a spreadsheet would run
//! as formulas, `--raw` writes them as they are, and `folio import` takes
//! the `'` off again.

mod common;
use common::{TestRepo, record, run};

/// One customer whose text fields start like formulas, due on 2026-02-01.
fn hostile(t: &TestRepo) {
    t.write(
        "customers/us/x.toml",
        &record(
            "X1",
            "=HYPERLINK(\\\"http://evil.example\\\",\\\"click\\\")",
            "+cmd|' /C calc'!A0",
            "US",
            "industry = \"@SUM(1+1)\"\ncity = \"-2+3\"\naddress = \"-5\"\nsource = \"'=already quoted\"\npayment_terms = \"\\tTab\"\nnext_followup = 2026-02-01\n\n[[quotes]]\ndate = 2025-02-01\nproduct = \"Pump\"\namount = -5.5\ncurrency = \"USD\"\n",
        ),
    );
}

fn export(t: &TestRepo, extra: &[&str]) -> String {
    let mut args = vec![
        "export",
        "--as-of",
        "2026-01-01",
        "--fields",
        "name,contact,industry,city,address,source,payment_terms,latest_quote_amount",
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = run(t.folio().args(&args));
    assert_eq!(code, 0, "{err}");
    out
}

#[test]
fn export_csv_neutralises_formulas_unless_raw() {
    let t = TestRepo::new();
    hostile(&t);
    assert_eq!(
        export(&t, &[]),
        "name,contact,industry,city,address,source,payment_terms,latest_quote_amount\n\
         \"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\",'+cmd|' /C calc'!A0,'@SUM(1+1),'-2+3,-5,''=already quoted,'\tTab,-5.5\n"
    );
    assert_eq!(
        export(&t, &["--raw"]),
        "name,contact,industry,city,address,source,payment_terms,latest_quote_amount\n\
         \"=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\",+cmd|' /C calc'!A0,@SUM(1+1),-2+3,-5,'=already quoted,\tTab,-5.5\n"
    );
    // --raw is for CSV only
    let (code, _, err) = run(t.folio().args(["export", "--format", "json", "--raw"]));
    assert_eq!(
        (code, err.as_str()),
        (2, "error: --raw applies to --format csv only\n")
    );
}

#[test]
fn due_csv_neutralises_formulas_unless_raw() {
    let t = TestRepo::new();
    hostile(&t);
    let due = |extra: &[&str]| {
        let mut args = vec!["due", "--as-of", "2026-03-01", "--format", "csv"];
        args.extend_from_slice(extra);
        let (code, out, err) = run(t.folio().args(&args));
        assert_eq!(code, 0, "{err}");
        out
    };
    assert_eq!(
        due(&[]),
        "id,path,display_name,owner,tier,stage,due,days_overdue,rule\n\
         X1,customers/us/x.toml,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")-+cmd|' /C calc'!A0-US\",alice,B,contacted,2026-02-01,28,next_followup\n"
    );
    assert_eq!(
        due(&["--raw"]),
        "id,path,display_name,owner,tier,stage,due,days_overdue,rule\n\
         X1,customers/us/x.toml,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")-+cmd|' /C calc'!A0-US\",alice,B,contacted,2026-02-01,28,next_followup\n"
    );
    let (code, _, err) = run(t.folio().args(["due", "--as-of", "2026-03-01", "--raw"]));
    assert_eq!(
        (code, err.as_str()),
        (2, "error: --raw applies to --format csv only\n")
    );
}

fn json_without_ids_and_lists(t: &TestRepo) -> serde_json::Value {
    let (code, out, err) =
        run(t
            .folio()
            .args(["export", "--format", "json", "--as-of", "2026-01-01"]));
    assert_eq!(code, 0, "{err}");
    let mut v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for r in v.as_array_mut().unwrap() {
        let r = r.as_object_mut().unwrap();
        // CSV carries the latest quote, not the list (docs/import.md)
        for k in ["id", "path", "quotes"] {
            r.remove(k);
        }
    }
    v
}

#[test]
fn export_import_round_trip_gives_back_the_original_values() {
    let t = TestRepo::new();
    hostile(&t);
    let csv = export_all(&t);
    assert!(csv.contains("'@SUM(1+1)"), "{csv}");
    let t2 = TestRepo::new();
    t2.write("export.csv", &csv);
    let (code, out, err) = run(t2
        .folio()
        .args(["import", "export.csv", "--as-of", "2026-01-01"]));
    assert_eq!(code, 0, "{out}{err}");
    let mut back = json_without_ids_and_lists(&t2);
    // import trims every cell (docs/import.md): the tab goes, not the quote
    assert_eq!(back[0]["payment_terms"], "Tab");
    let mut want = json_without_ids_and_lists(&t);
    for v in [&mut back, &mut want] {
        v[0].as_object_mut().unwrap().remove("payment_terms");
    }
    assert_eq!(back, want);
    assert_eq!(back[0]["industry"], "@SUM(1+1)");
    assert_eq!(back[0]["source"], "'=already quoted");
}

fn export_all(t: &TestRepo) -> String {
    let (code, out, err) = run(t.folio().args(["export", "--as-of", "2026-01-01"]));
    assert_eq!(code, 0, "{err}");
    out
}
