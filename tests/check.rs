//! `folio check`: one fixture per rule, the exact diagnostic, JSON and
//! GitHub output, exit codes, and every document of the TOML test suite.

mod common;
use common::{TestRepo, record, run};

/// Human output of `folio check --as-of 2026-01-01` and its exit code.
fn check(t: &TestRepo, extra: &[&str]) -> (i32, String) {
    let (code, out, err) = run(t
        .folio()
        .args(["check", "--as-of", "2026-01-01"])
        .args(extra));
    assert!(err.is_empty(), "stderr: {err}");
    (code, out)
}

/// The header lines (`path:line:col: severity[code]: message`) only.
fn headers(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| l.contains("]: "))
        .map(str::to_string)
        .collect()
}

const P: &str = "customers/us/abc-corp--john-doe--us.toml";

fn with_record(extra: &str) -> TestRepo {
    let t = TestRepo::new();
    t.customer("C1", "ABC Corp", "John Doe", "US", extra);
    t
}

#[test]
fn clean_repository_passes() {
    let t = with_record("");
    let (code, out) = check(&t, &[]);
    assert_eq!(
        (code, out.as_str()),
        (0, "ok: checked 1 file: no problems\n")
    );
}

#[test]
fn unknown_key_with_suggestion_exact_output() {
    let t = with_record("tierr = \"A\"\n");
    let (code, out) = check(&t, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        out,
        format!(
            "{P}:9:1: error[F101]: unknown key `tierr`\n  |\n9 | tierr = \"A\"\n  | ^^^^^\n  = help: did you mean `tier`?\n\nchecked 1 file: 1 error\n"
        )
    );
}

#[test]
fn syntax_error_has_parser_position() {
    let t = TestRepo::new();
    t.write(P, "id = \"C1\"\nname = \"ABC Corp\n");
    let (code, out) = check(&t, &[]);
    assert_eq!(code, 1);
    let h = headers(&out);
    assert_eq!(h.len(), 1, "{out}");
    assert_eq!(
        h[0],
        format!("{P}:2:17: error[F001]: invalid basic string, expected `\"`")
    );
}

#[test]
fn invalid_utf8_and_utf16() {
    let t = TestRepo::new();
    t.write_bytes("customers/us/a.toml", b"id = \"C1\"\nname = \"Caf\xe9\"\n");
    t.write_bytes("customers/us/b.toml", b"\xff\xfei\x00d\x00");
    let (code, out) = check(&t, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        headers(&out),
        [
            "customers/us/a.toml:2:12: error[F002]: invalid UTF-8 (byte 0xE9 at offset 21)",
            "customers/us/b.toml: error[F002]: the file is UTF-16, not UTF-8",
        ]
    );
}

#[cfg(unix)]
#[test]
fn symlink_out_of_repo_is_refused() {
    let t = with_record("");
    let outside = tempfile::NamedTempFile::new().unwrap();
    std::os::unix::fs::symlink(outside.path(), t.path("customers/us/link.toml")).unwrap();
    let (code, out) = check(&t, &[]);
    assert_eq!(code, 1);
    let h = headers(&out);
    assert_eq!(h.len(), 1);
    assert!(
        h[0].starts_with("customers/us/link.toml: error[F003]: record is a symlink to `"),
        "{out}"
    );
    assert!(h[0].ends_with("`, outside the repository"), "{out}");
}

#[test]
fn non_toml_file_warns_and_deny_warnings_fails() {
    let t = with_record("");
    t.write("customers/us/notes.txt", "hello");
    let (code, out) = check(&t, &[]);
    assert_eq!(code, 0);
    assert_eq!(
        headers(&out),
        [
            "customers/us/notes.txt: warning[F005]: file under customers/ is not a record (.toml) and is ignored"
        ]
    );
    assert_eq!(check(&t, &["--deny-warnings"]).0, 1);
}

#[test]
fn missing_required_key() {
    let t = TestRepo::new();
    t.write(P, "id = \"C1\"\nname = \"ABC Corp\"\ncontact = \"John Doe\"\ncountry = \"US\"\ntier = \"B\"\ncreated = 2025-01-01\n");
    let (_, out) = check(&t, &[]);
    assert_eq!(
        headers(&out),
        [format!(
            "{P}:1:1: error[F102]: missing required key `stage`"
        )]
    );
}

#[test]
fn wrong_types_enums_and_formats() {
    let t = TestRepo::new();
    t.write(
        P,
        "id = \"C 1\"\nname = \"ABC Corp\"\ncontact = \"John Doe\"\ncountry = \"us\"\ntier = \"F\"\nstage = \"won\"\ncreated = \"2025-01-01\"\nwebsite = \"abc.com\"\ntags = [\"VIP\", 3]\n\n[[contacts]]\nname = \"J\"\nemail = \"j at abc\"\nphone = \"12\"\n\n[[quotes]]\ndate = 2025-02-01\ncurrency = \"usd\"\namount = \"100\"\nstatus = \"open\"\n",
    );
    let (code, out) = check(&t, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        headers(&out),
        [
            format!("{P}:1:6: error[F105]: `id`: `C 1` is not an id"),
            format!(
                "{P}:4:11: error[F105]: `country`: `us` is not an ISO 3166-1 alpha-2 country code"
            ),
            format!("{P}:5:8: error[F104]: `tier` is \"F\", which is not allowed"),
            format!("{P}:6:9: error[F104]: `stage` is \"won\", which is not allowed"),
            format!(
                "{P}:7:11: error[F103]: `created` must be a date (YYYY-MM-DD, without quotes), found a string"
            ),
            format!("{P}:8:11: error[F105]: `website`: `abc.com` is not a URL"),
            format!("{P}:9:9: error[F105]: `tags[0]`: `VIP` is not a tag"),
            format!("{P}:9:16: error[F103]: items of `tags` must be a string, found an integer"),
            format!(
                "{P}:13:9: error[F105]: `contacts[0].email`: `j at abc` is not an e-mail address"
            ),
            format!("{P}:14:9: error[F105]: `contacts[0].phone`: `12` is not a phone number"),
            format!(
                "{P}:18:12: error[F105]: `quotes[0].currency`: `usd` is not an ISO 4217 currency code"
            ),
            format!("{P}:19:10: error[F103]: `quotes[0].amount` must be a number, found a string"),
            format!("{P}:20:10: error[F104]: `quotes[0].status` is \"open\", which is not allowed"),
        ]
    );
    assert!(out.contains("= help: country codes are upper case: \"US\""));
    assert!(out.contains("= help: write dates without quotes: created = 2025-01-01"));
    assert!(out.contains("= help: allowed: \"A\", \"B\", \"C\", \"D\", \"E\""));
}

#[test]
fn cross_field_rules() {
    let t = with_record(
        "lost_reason = \"\"\n\n[[followups]]\ndate = 2025-01-01\nby = \"alice\"\n\n[[followups]]\ndate = 2026-02-01\nby = \"alice\"\n\n[[followups]]\ndate = 2025-03-01\nby = \"alice\"\nnext = 2025-02-01\n",
    );
    let text = t
        .read(P)
        .replace("stage = \"contacted\"", "stage = \"lost\"");
    t.write(P, &text);
    let (_, out) = check(&t, &[]);
    assert_eq!(
        headers(&out),
        [
            format!("{P}:7:9: error[F201]: stage is \"lost\" but `lost_reason` is missing"),
            format!(
                "{P}:12:8: error[F202]: `followups[0].date` 2025-01-01 is before `created` 2025-01-10"
            ),
            format!(
                "{P}:16:8: error[F203]: `followups[1].date` 2026-02-01 is after today (2026-01-01)"
            ),
            format!(
                "{P}:22:8: error[F204]: `followups[2].next` 2025-02-01 is before the follow-up's own date 2025-03-01"
            ),
        ]
    );
}

#[test]
fn references_to_staff() {
    let t = with_record("\n[[followups]]\ndate = 2025-02-01\nby = \"alise\"\n");
    let text = t.read(P).replace("owner = \"alice\"", "owner = \"carol\"");
    t.write(P, &text);
    let (_, out) = check(&t, &[]);
    assert_eq!(
        headers(&out),
        [
            format!(
                "{P}:5:9: error[F402]: owner \"carol\" is no longer active; hand the account over"
            ),
            format!("{P}:12:6: error[F401]: `followups[0].by`: `alise` is not in staff.toml"),
        ]
    );
    assert!(out.contains("= help: did you mean `alice`?"));
}

#[test]
fn duplicate_id_misnamed_case_collision_unportable() {
    let t = with_record("");
    t.write(
        "customers/us/ABC-corp--john-doe--us.toml",
        &record("C1", "Other Corp", "John Doe", "US", ""),
    );
    t.write(
        "customers/us/con.toml",
        &record("C3", "Con Inc", "Z", "US", ""),
    );
    let (code, out) = check(&t, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        headers(&out),
        [
            "customers/us/ABC-corp--john-doe--us.toml:2:8: error[F302]: file name does not follow the naming rule: expected customers/us/other-corp--john-doe--us.toml".to_string(),
            format!("{P}: error[F303]: path differs from customers/us/ABC-corp--john-doe--us.toml only in letter case"),
            format!("{P}:1:6: error[F301]: id \"C1\" is already used by customers/us/ABC-corp--john-doe--us.toml"),
            "customers/us/con.toml: error[F304]: path cannot be checked out everywhere: `con.toml` is a reserved device name on Windows".to_string(),
            "customers/us/con.toml:2:8: error[F302]: file name does not follow the naming rule: expected customers/us/con-inc--z--us.toml".to_string(),
        ]
    );
}

#[test]
fn two_real_customers_with_same_name_need_a_city() {
    let t = TestRepo::new();
    t.write(
        "customers/de/a.toml",
        &record("C1", "Nord GmbH", "Jo", "DE", ""),
    );
    t.write(
        "customers/de/b.toml",
        &record("C2", "Nord GmbH", "Jo", "DE", "group = \"g\"\n"),
    );
    let (_, out) = check(&t, &[]);
    assert!(out.contains("customers/de/a.toml:2:8: error[F305]: same company, contact and country as customers/de/b.toml; nothing tells them apart"), "{out}");
    // With a city on each, both get distinct rule paths.
    t.write(
        "customers/de/a.toml",
        &record("C1", "Nord GmbH", "Jo", "DE", "city = \"Kiel\"\n"),
    );
    t.write(
        "customers/de/b.toml",
        &record("C2", "Nord GmbH", "Jo", "DE", "city = \"Bremen\"\n"),
    );
    let (_, out) = check(&t, &[]);
    assert!(
        out.contains("expected customers/de/nord-gmbh--jo--kiel--de.toml"),
        "{out}"
    );
    assert!(
        out.contains("expected customers/de/nord-gmbh--jo--bremen--de.toml"),
        "{out}"
    );
}

#[test]
fn json_output_shape() {
    let t = with_record("tierr = \"A\"\n");
    let (code, out, _) =
        run(t
            .folio()
            .args(["check", "--as-of", "2026-01-01", "--format", "json"]));
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "diagnostics": [{
                "path": P, "line": 9, "column": 1, "severity": "error", "code": "F101",
                "name": "unknown-key", "message": "unknown key `tierr`", "field": "tierr",
                "hint": "did you mean `tier`?"
            }],
            "summary": {"files": 1, "errors": 1, "warnings": 0}
        })
    );
}

#[test]
fn github_output() {
    let t = with_record("tierr = \"A\"\n");
    let (code, out, _) =
        run(t
            .folio()
            .args(["check", "--as-of", "2026-01-01", "--format", "github"]));
    assert_eq!(code, 1);
    assert_eq!(
        out,
        format!(
            "::error file={P},line=9,col=1,title=F101 unknown-key::unknown key `tierr`%0Ahelp: did you mean `tier`?\n"
        )
    );
}

#[test]
fn paths_and_changed_since_limit_the_report() {
    let t = with_record("");
    t.write("customers/us/b.toml", &record("C2", "Bee", "X", "US", ""));
    t.git_init();
    t.commit_all("first", "alice", 1_700_000_000);
    // a new broken file after the commit
    t.write(
        "customers/us/c.toml",
        &record("C3", "Cee", "Y", "US", "tierr = 1\n"),
    );
    let (code, out) = check(&t, &["--changed-since", "HEAD"]);
    assert_eq!(code, 1);
    let h = headers(&out);
    assert!(
        h.iter().all(|l| l.starts_with("customers/us/c.toml")),
        "{out}"
    );
    assert_eq!(h.len(), 2, "{out}");
    let (_, out) = check(&t, &["customers/us/b.toml"]);
    assert_eq!(
        headers(&out),
        [
            "customers/us/b.toml:2:8: error[F302]: file name does not follow the naming rule: expected customers/us/bee--x--us.toml"
        ]
    );
    // cross-record rules compare against every record: a duplicate id in the changed file
    t.write("customers/us/c.toml", &record("C1", "Cee", "Y", "US", ""));
    let (_, out) = check(&t, &["--changed-since", "HEAD"]);
    assert!(
        out.contains(&format!(
            "customers/us/c.toml:1:6: error[F301]: id \"C1\" is already used by {P}"
        )),
        "{out}"
    );
    let (code, _, err) = run(t.folio().args(["check", "--changed-since", "nosuchrev"]));
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: cannot resolve revision `nosuchrev`"),
        "{err}"
    );
}

#[test]
fn broken_settings_are_reported() {
    let t = with_record("");
    t.write("folio.toml", "[pool]\nmax_claim_per_day = 3\n");
    t.write("staff.toml", "[staff.alice]\nname = \"A\"\nweight = 0\n");
    let (code, out) = check(&t, &[]);
    assert_eq!(code, 1);
    let h = headers(&out);
    assert_eq!(h.len(), 2, "{out}");
    assert!(
        h[0].starts_with("folio.toml:2:1: error[F601]: unknown field `max_claim_per_day`"),
        "{out}"
    );
    assert!(
        h[1].starts_with(
            "staff.toml:3:10: error[F601]: staff.alice.weight must be a whole number from 1 to 1000"
        ),
        "{out}"
    );
}

#[test]
fn team_schema_adds_fields() {
    let t = with_record("vat = \"DE123\"\nvip = \"yes\"\n");
    t.write("schema/team.toml", "[fields.vat]\ntype = \"string\"\npattern = \"[A-Z]{2}[0-9]{9}\"\n\n[fields.vip]\ntype = \"boolean\"\n");
    let (_, out) = check(&t, &[]);
    assert_eq!(
        headers(&out),
        [
            format!(
                "{P}:9:7: error[F105]: `vat`: `DE123` does not match the pattern the schema sets"
            ),
            format!(
                "{P}:10:7: error[F103]: `vip` must be a boolean (true or false), found a string"
            ),
        ]
    );
}

#[test]
fn usage_errors_exit_2() {
    let t = with_record("");
    let (code, _, err) = run(t.folio().args(["check", "--as-of", "2026-13-01"]));
    assert_eq!(code, 2);
    assert!(err.contains("is not a date (YYYY-MM-DD)"), "{err}");
    let d = tempfile::tempdir().unwrap();
    let (code, _, err) = run(common::folio_cmd().current_dir(d.path()).arg("check"));
    assert_eq!(code, 2);
    assert!(err.starts_with("error: no folio.toml in "), "{err}");
}

/// The documents of the TOML conformance suite (vendored under
/// tests/fixtures/toml-test), relative to it, sorted.
fn toml_test_documents(suite: &std::path::Path) -> Vec<String> {
    fn walk(dir: &std::path::Path, rel: &str, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            let r = format!("{rel}/{name}");
            if e.file_type().unwrap().is_dir() {
                walk(&e.path(), &r, out);
            } else if name.ends_with(".toml") {
                out.push(r);
            }
        }
    }
    let mut out = Vec::new();
    for top in ["invalid", "valid"] {
        walk(&suite.join(top), top, &mut out);
    }
    out.sort();
    out
}

/// Every document of the TOML conformance suite, placed in a repository
/// as a record, gets at least one diagnostic and never a panic; every
/// invalid document gets a syntax or encoding diagnostic with a line, and
/// no valid one does.
#[test]
fn toml_test_suite_documents() {
    let suite = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/toml-test");
    let docs = toml_test_documents(&suite);
    let t = TestRepo::new();
    let mut expected = Vec::new();
    for (i, rel) in docs.iter().enumerate() {
        let bytes = std::fs::read(suite.join(rel)).unwrap();
        let name = format!("customers/xx/{i:04}.toml");
        t.write_bytes(&name, &bytes);
        expected.push((name, rel, rel.starts_with("invalid/")));
    }
    let invalid = expected.iter().filter(|e| e.2).count();
    assert_eq!((invalid, expected.len() - invalid), (492, 220));
    let (code, out, err) =
        run(t
            .folio()
            .args(["check", "--as-of", "2026-01-01", "--format", "json"]));
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let diags = v["diagnostics"].as_array().unwrap();
    let mut missing_line = Vec::new();
    let mut accepted = Vec::new();
    let mut rejected = Vec::new();
    for (name, rel, invalid) in &expected {
        let mine: Vec<_> = diags
            .iter()
            .filter(|d| d["path"] == name.as_str())
            .collect();
        assert!(!mine.is_empty(), "no diagnostic for {rel}");
        let syn: Vec<_> = mine
            .iter()
            .filter(|d| d["code"] == "F001" || d["code"] == "F002")
            .collect();
        if *invalid && syn.is_empty() {
            accepted.push(rel);
        }
        if !*invalid && !syn.is_empty() {
            rejected.push((rel, &syn[0]["message"]));
        }
        // a UTF-16 file is refused as a whole: it has no line to point at
        let bytes = std::fs::read(suite.join(rel)).unwrap();
        if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
            assert_eq!(syn.len(), 1, "{rel}");
            assert_eq!(syn[0]["message"], "the file is UTF-16, not UTF-8", "{rel}");
        } else if syn.iter().any(|d| d["line"].is_null()) {
            missing_line.push(rel);
        }
    }
    assert_eq!(missing_line, [] as [&&String; 0], "no line");
    assert_eq!(accepted, [] as [&&String; 0], "invalid documents accepted");
    assert_eq!(rejected, [], "valid documents rejected");
}
