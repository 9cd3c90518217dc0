//! Duplicate customers and multi-title conflicts, through `folio check`,
//! `folio dupes`, `folio new` and `folio group`.

mod common;
use common::{TestRepo, record, run};

fn check_json(t: &TestRepo) -> Vec<serde_json::Value> {
    let (_, out, err) = run(t
        .folio()
        .args(["check", "--as-of", "2026-01-01", "--format", "json"]));
    assert!(err.is_empty(), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["diagnostics"].as_array().unwrap().clone()
}

/// (path, code) of every duplicate diagnostic (F5xx).
fn dupes(t: &TestRepo) -> Vec<(String, String)> {
    check_json(t)
        .iter()
        .filter(|d| d["code"].as_str().unwrap().starts_with("F5"))
        .map(|d| {
            (
                d["path"].as_str().unwrap().to_string(),
                d["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pair(a: &str, b: &str) -> TestRepo {
    let t = TestRepo::new();
    t.write("customers/xx/a.toml", &record("A1", a, "Ann", "DE", ""));
    t.write("customers/xx/b.toml", &record("B1", b, "Bob", "DE", ""));
    t
}

fn assert_same(a: &str, b: &str) {
    let t = pair(a, b);
    let d = dupes(&t);
    assert!(
        d.contains(&("customers/xx/a.toml".into(), "F501".into()))
            && d.contains(&("customers/xx/b.toml".into(), "F501".into())),
        "{a} ~ {b}: {d:?}"
    );
}

fn assert_distinct(a: &str, b: &str) {
    let t = pair(a, b);
    let d = dupes(&t);
    assert!(d.iter().all(|(_, c)| c != "F501"), "{a} ~ {b}: {d:?}");
}

#[test]
fn latin_legal_forms() {
    assert_same("ACME GmbH", "Acme Ltd.");
    assert_same("Acme Incorporated", "ACME, Inc.");
    assert_same("Acme S.p.A.", "Acme S.r.l.");
    assert_same("Acme Sp. z o.o.", "ACME S.A.");
    assert_same("Acme S.A. de C.V.", "Acme Ltda");
    assert_same("Acme Pty Ltd", "Acme Pte Ltd");
    assert_same("Acme Sdn Bhd", "PT Acme");
    assert_same("Acme B.V.", "Acme N.V.");
    assert_same("Acme A/S", "Acme AB");
    assert_same("Acme Oy", "Acme AS");
    assert_same("Acme e.K.", "Acme OHG");
    assert_same("Acme LLC", "Acme LLP");
    assert_same("Acme PLC", "Acme Corporation");
    assert_same("Acme SARL", "Acme S.A.S.");
    assert_same("Acme JSC", "Acme Company");
    assert_distinct("Acme Tools GmbH", "Acme Foods GmbH");
}

#[test]
fn other_scripts() {
    assert_same("上海宏达有限公司", "上海宏达股份有限公司");
    assert_same("株式会社山田製作所", "山田製作所(株)");
    assert_same("合同会社さくら", "さくら");
    assert_same("주식회사 한빛", "한빛");
    assert_same("ООО «Техснаб»", "OOO Техснаб");
    assert_same("ЗАО Техснаб", "АО ТЕХСНАБ");
    assert_same("شركة النور", "النور ذ.م.م");
    assert_distinct("上海宏达有限公司", "宁波宏达有限公司");
}

#[test]
fn diagnostic_names_the_other_record_key_and_values() {
    let t = pair("ACME GmbH", "Acme Ltd.");
    let (code, out, _) = run(t.folio().args(["check", "--as-of", "2026-01-01"]));
    assert_eq!(code, 1);
    assert!(out.contains(
        "customers/xx/a.toml:2:8: error[F501]: company name shared with customers/xx/b.toml (Acme Ltd.-Bob-DE): name \"ACME GmbH\" ~ name \"Acme Ltd.\"\n"
    ), "{out}");
    assert!(out.contains("= help: both normalise to \"acme\"; legal form \"GmbH\" stripped; legal form \"Ltd.\" stripped; if they are one customer, merge them; if they are not duplicates, add { a = \"A1\", b = \"B1\", reason = \"...\" } to duplicates.not_duplicates in folio.toml"), "{out}");
}

#[test]
fn name_against_title_and_registration_codes() {
    let t = TestRepo::new();
    t.write("customers/xx/a.toml", &record("A1", "Hongda Shanghai", "Ann", "CN", "\n[[titles]]\nname = \"Hongda Plastics Ltd\"\nregistration = \"91310115-MA1H.7XK23Q\"\n"));
    t.write(
        "customers/xx/b.toml",
        &record(
            "B1",
            "Hongda Plastics",
            "Bob",
            "CN",
            "\n[[titles]]\nname = \"Ningbo Hongda\"\nregistration = \"91310115 ma1h/7xk23q\"\n",
        ),
    );
    let diags = check_json(&t);
    let msgs: Vec<&str> = diags
        .iter()
        .filter(|d| d["path"] == "customers/xx/b.toml")
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert!(msgs.contains(&"company name shared with customers/xx/a.toml (Hongda Shanghai-Ann-CN): name \"Hongda Plastics\" ~ titles[0].name \"Hongda Plastics Ltd\""), "{msgs:?}");
    assert!(msgs.contains(&"registration code shared with customers/xx/a.toml (Hongda Shanghai-Ann-CN): titles[0].registration \"91310115 ma1h/7xk23q\" ~ titles[0].registration \"91310115-MA1H.7XK23Q\""), "{msgs:?}");
}

#[test]
fn same_group_shares_domain_and_phone_but_never_titles() {
    let contact = |email: &str| {
        format!(
            "website = \"https://www.hongda.cn\"\ngroup = \"hongda\"\n\n[[contacts]]\nname = \"X\"\nemail = \"{email}\"\nphone = \"+86 21 5555 0101\"\n"
        )
    };
    let t = TestRepo::new();
    t.write(
        "customers/xx/a.toml",
        &record(
            "A1",
            "Hongda Shanghai",
            "Ann",
            "CN",
            &contact("a@hongda.cn"),
        ),
    );
    t.write(
        "customers/xx/b.toml",
        &record("B1", "Hongda Ningbo", "Bob", "CN", &contact("b@hongda.cn")),
    );
    assert_eq!(dupes(&t), []);
    // outside one group, the same domain and phone are warnings
    let text = t
        .read("customers/xx/b.toml")
        .replace("group = \"hongda\"\n", "");
    t.write("customers/xx/b.toml", &text);
    let d = dupes(&t);
    assert!(
        d.contains(&("customers/xx/b.toml".into(), "F505".into())),
        "{d:?}"
    );
    assert!(
        d.contains(&("customers/xx/b.toml".into(), "F506".into())),
        "{d:?}"
    );
    let sev: Vec<_> = check_json(&t)
        .into_iter()
        .filter(|d| d["code"] == "F505" || d["code"] == "F506")
        .map(|d| d["severity"].clone())
        .collect();
    assert!(
        sev.iter().all(|s| s == "warning") && sev.len() == 4,
        "{sev:?}"
    );
    // a title shared inside one group is still an error
    let t2 = TestRepo::new();
    t2.write(
        "customers/xx/a.toml",
        &record(
            "A1",
            "Hongda Shanghai",
            "Ann",
            "CN",
            "group = \"g\"\n\n[[titles]]\nname = \"Hongda Intl Ltd\"\n",
        ),
    );
    t2.write(
        "customers/xx/b.toml",
        &record(
            "B1",
            "Hongda Ningbo",
            "Bob",
            "CN",
            "group = \"g\"\n\n[[titles]]\nname = \"Hongda Intl Limited\"\n",
        ),
    );
    assert!(dupes(&t2).contains(&("customers/xx/a.toml".into(), "F501".into())));
}

#[test]
fn email_case_and_free_mail() {
    let t = TestRepo::new();
    t.write(
        "customers/xx/a.toml",
        &record(
            "A1",
            "Alpha",
            "Ann",
            "US",
            "\n[[contacts]]\nname = \"A\"\nemail = \"Buyer@Gmail.com\"\n",
        ),
    );
    t.write(
        "customers/xx/b.toml",
        &record(
            "B1",
            "Beta",
            "Bob",
            "US",
            "\n[[contacts]]\nname = \"B\"\nemail = \"buyer@gmail.com\"\n",
        ),
    );
    t.write(
        "customers/xx/c.toml",
        &record(
            "C1",
            "Gamma",
            "Cy",
            "US",
            "\n[[contacts]]\nname = \"C\"\nemail = \"other@gmail.com\"\n",
        ),
    );
    let d = dupes(&t);
    assert_eq!(
        d,
        [
            ("customers/xx/a.toml".to_string(), "F503".to_string()),
            ("customers/xx/b.toml".to_string(), "F503".to_string())
        ],
        "the same address is an error; a shared free-mail domain is nothing"
    );
}

#[test]
fn near_identical_names_warn() {
    let t = pair(
        "Meridian Kalomiterano Textile",
        "Meridian Kalomitterano Textile",
    );
    let diags = check_json(&t);
    let d: Vec<_> = diags.iter().filter(|d| d["code"] == "F504").collect();
    assert_eq!(d.len(), 2);
    assert_eq!(d[0]["severity"], "warning");
    assert!(
        d[0]["hint"]
            .as_str()
            .unwrap()
            .starts_with("98% alike after normalising (threshold 95%"),
        "{d:?}"
    );
}

#[test]
fn not_duplicates_list_silences_and_dupes_all_shows() {
    let t = pair("ACME GmbH", "Acme Ltd.");
    t.write("folio.toml", "[[duplicates.not_duplicates]]\na = \"B1\"\nb = \"A1\"\nreason = \"different companies, checked 2025-03\"\n");
    assert_eq!(dupes(&t), []);
    let (_, out, _) = run(t.folio().args(["dupes"]));
    assert_eq!(out, "0 candidate pairs among 2 records\n");
    let (code, out, _) = run(t.folio().args(["dupes", "--all"]));
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "1.00 ACME GmbH-Ann-DE ~ Acme Ltd.-Bob-DE\n     customers/xx/a.toml\n     customers/xx/b.toml\n     name: \"ACME GmbH\" ~ \"Acme Ltd.\" (both normalise to \"acme\"; legal form \"GmbH\" stripped; legal form \"Ltd.\" stripped)\n     marked not duplicates: different companies, checked 2025-03\n1 candidate pair among 2 records (1 marked not duplicates)\n"
    );
}

#[test]
fn configured_words_are_explained_as_such() {
    let t = pair("Hongda Trading Ltd", "Hongda GmbH");
    assert_eq!(dupes(&t), []);
    t.write(
        "folio.toml",
        "[duplicates]\nstrip_words = [\"Trading\", \"Import & Export\", \"进出口\"]\n",
    );
    let diags = check_json(&t);
    let hint = diags.iter().find(|d| d["code"] == "F501").unwrap()["hint"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(hint.contains("\"Trading\" stripped as configured in duplicates.strip_words (part of the name, not a legal form)"), "{hint}");
}

#[test]
fn dupes_json_strongest_first_and_min_score() {
    let t = TestRepo::new();
    t.write(
        "customers/xx/a.toml",
        &record(
            "A1",
            "Alpha Pumps",
            "Ann",
            "US",
            "website = \"https://alpha.com\"\n",
        ),
    );
    t.write(
        "customers/xx/b.toml",
        &record("B1", "Alpha Pumps Inc", "Bob", "US", ""),
    );
    t.write(
        "customers/xx/c.toml",
        &record(
            "C1",
            "Gamma",
            "Cy",
            "US",
            "website = \"http://www.alpha.com/en\"\n",
        ),
    );
    let (_, out, _) = run(t.folio().args(["dupes", "--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let pairs = v.as_array().unwrap();
    assert_eq!(pairs.len(), 2);
    assert_eq!(pairs[0]["score"], 1.0);
    assert_eq!(pairs[0]["a"]["id"], "A1");
    assert_eq!(pairs[0]["b"]["id"], "B1");
    assert_eq!(pairs[0]["matches"][0]["key"], "name");
    assert_eq!(pairs[1]["score"], 0.6);
    assert_eq!(pairs[1]["matches"][0]["key"], "domain");
    let (_, out, _) = run(t
        .folio()
        .args(["dupes", "--format", "json", "--min-score", "0.9"]));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn new_refuses_a_duplicate() {
    let t = pair("ACME GmbH", "Beta");
    let (code, _, err) = run(t.folio().args([
        "new",
        "--name",
        "Acme Limited",
        "--contact",
        "Zed",
        "--country",
        "GB",
        "--as-of",
        "2026-01-01",
    ]));
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: this looks like an existing customer: customers/xx/a.toml (ACME GmbH-Ann-DE) has the same name: \"ACME GmbH\" ~ \"Acme Limited\" (both normalise to \"acme\"; legal form \"GmbH\" stripped; legal form \"Limited\" stripped)\nhint: update the existing record, or add the pair to [[duplicates.not_duplicates]] in folio.toml\n"
    );
    assert!(!t.path("customers/gb").exists());
}

#[test]
fn group_shows_members_and_business() {
    let t = TestRepo::new();
    t.write("customers/xx/a.toml", &record("A1", "Hongda Shanghai", "Ann", "CN", "group = \"hongda\"\n\n[[titles]]\nname = \"Hongda Intl\"\nregistration = \"R1\"\n\n[[quotes]]\ndate = 2025-02-01\nproduct = \"hinges\"\namount = 100.0\ncurrency = \"USD\"\nstatus = \"sent\"\n"));
    t.write("customers/xx/b.toml", &record("B1", "Hongda Ningbo", "Bob", "CN", "group = \"hongda\"\n\n[[followups]]\ndate = 2025-01-20\nby = \"bob\"\nchannel = \"wechat\"\nsummary = \"对比报价\"\n"));
    let (code, out, _) = run(t.folio().args(["group", "hongda"]));
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "group hongda (2 members)\n\n  Hongda Shanghai-Ann-CN  owner: alice\n  customers/xx/a.toml\n    title: Hongda Intl  (reg. R1)\n\n  Hongda Ningbo-Bob-CN  owner: alice\n  customers/xx/b.toml\n\nbusiness, by date\n  2025-01-20  followup Hongda Ningbo  wechat by bob: 对比报价\n  2025-02-01  quote    Hongda Shanghai  hinges 100.00 USD [sent]\n"
    );
    let (code, _, err) = run(t.folio().args(["group", "hongdaa"]));
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: no record has group = \"hongdaa\"\nhint: did you mean \"hongda\"?\n"
    );
}

/// A generated repository has only distinct names: no duplicate found.
#[test]
fn no_false_positives_on_a_generated_repository() {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/gen_repo.py");
    let d = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("python3")
        .arg(&script)
        .arg(d.path())
        .args(["--customers", "3000", "--no-git", "--cjk", "--seed", "7"])
        .status()
        .expect("python3 runs gen_repo.py");
    assert!(status.success());
    let (code, out, err) = run(common::folio_cmd()
        .args([
            "check",
            "--as-of",
            "2026-11-01",
            "--format",
            "json",
            "--repo",
        ])
        .arg(d.path()));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["summary"]["files"], 3000);
    assert_eq!(
        v["diagnostics"].as_array().unwrap().len(),
        0,
        "{}",
        &out[..out.len().min(2000)]
    );
}
