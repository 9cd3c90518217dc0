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
    let d = tempfile::tempdir().unwrap();
    generate::repository(d.path(), 3000, 7);
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

/// The generator is deterministic, and it plants what the test above
/// relies on: company names distinct once legal forms and case are
/// stripped, at least one CJK summary, and owners from the staff file.
#[test]
fn generated_repository_is_deterministic_and_distinct() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let files = generate::repository(a.path(), 400, 3);
    assert_eq!(files, generate::repository(b.path(), 400, 3));
    assert_eq!(files.len(), 400);
    let mut keys = std::collections::HashSet::new();
    let mut cjk = 0;
    for rel in &files {
        let (x, y) = (
            std::fs::read(a.path().join(rel)).unwrap(),
            std::fs::read(b.path().join(rel)).unwrap(),
        );
        assert_eq!(x, y, "{rel}");
        let text = String::from_utf8(x).unwrap();
        let line = text.lines().nth(1).unwrap();
        let name = line
            .strip_prefix("name = \"")
            .unwrap()
            .trim_end_matches('"');
        let key = folio::duplicates::normalise_name(name, &[]).key;
        assert!(keys.insert(key), "{name}");
        cjk += usize::from(text.contains("客户") || text.contains("見積"));
    }
    assert!(cjk > 0);
    let staff = std::fs::read_to_string(a.path().join("staff.toml")).unwrap();
    assert_eq!(staff.matches("[staff.s").count(), 20);
    let other = tempfile::tempdir().unwrap();
    assert_ne!(files, generate::repository(other.path(), 400, 4));
}

/// A synthetic data repository in the record format (folio.toml,
/// staff.toml, customers/<cc>/<name>--<contact>--<cc>.toml): what
/// bench's generator writes without a history, made from a seed.
mod generate {
    use chrono::{Days, NaiveDate};
    use std::path::Path;

    const COUNTRIES: &[&str] = &[
        "US", "DE", "GB", "FR", "IT", "ES", "NL", "PL", "TR", "AE", "SA", "IN", "VN", "TH", "ID",
        "MY", "BR", "MX", "CL", "AU", "JP", "KR", "RU", "ZA", "NG", "EG", "CA",
    ];
    const PREFIX: &[&str] = &[
        "Global", "Pacific", "Nordic", "Atlas", "Summit", "Delta", "Orion", "Vertex", "Blue",
        "Golden", "Prime", "United", "Royal", "Euro", "Meridian", "Apex", "Sun", "Iron", "Green",
        "Star",
    ];
    const CORE: &[&str] = &[
        "Pump",
        "Textile",
        "Machinery",
        "Electro",
        "Steel",
        "Plastics",
        "Lighting",
        "Furniture",
        "Auto Parts",
        "Solar",
        "Packaging",
        "Tools",
        "Ceramics",
        "Garments",
        "Valve",
        "Cable",
        "Foods",
    ];
    const SUFFIX: &[&str] = &[
        "GmbH",
        "Ltd",
        "LLC",
        "Inc",
        "S.A.",
        "S.r.l.",
        "B.V.",
        "Co., Ltd.",
        "Corp",
        "Trading",
        "Sp. z o.o.",
        "AG",
    ];
    const SYLLABLES: &[&str] = &[
        "ka", "lo", "mi", "ter", "va", "no", "ri", "sen", "dor", "an", "el", "tis", "mar", "ko",
        "bel", "ru",
    ];
    const FIRST: &[&str] = &[
        "John", "Maria", "Hans", "Ahmed", "Olga", "Carlos", "Yuki", "Priya", "Minh", "Fatima",
        "Lars", "Sofia", "Ivan", "Aisha", "Pedro", "Emma", "Kenji", "Lucia", "Omar", "Anna", "Raj",
        "Chen",
    ];
    const LAST: &[&str] = &[
        "Smith",
        "Muller",
        "Garcia",
        "Rossi",
        "Kowalski",
        "Nguyen",
        "Tanaka",
        "Sharma",
        "Hassan",
        "Petrov",
        "Johansson",
        "Silva",
        "Dubois",
        "Yilmaz",
        "Kim",
        "Santos",
        "Fischer",
        "Novak",
        "Ali",
    ];
    const INDUSTRY: &[&str] = &[
        "machinery",
        "textiles",
        "electronics",
        "furniture",
        "auto-parts",
        "chemicals",
        "food",
        "lighting",
    ];
    const SOURCE: &[&str] = &[
        "canton-fair",
        "customs-data",
        "alibaba",
        "google",
        "linkedin",
        "referral",
        "website",
        "exhibition",
    ];
    const CHANNEL: &[&str] = &["email", "phone", "whatsapp", "wechat", "linkedin", "visit"];
    const TAGS: &[&str] = &[
        "price-sensitive",
        "quality-focused",
        "comparing-competitors",
        "repeat-buyer",
        "slow-payer",
        "vip",
    ];
    const ROLES: &[&str] = &["Purchasing Manager", "CEO", "Buyer", "Importer"];
    const PRODUCTS: &[&str] = &[
        "PX-200 pump",
        "LED panel 60x60",
        "steel valve DN50",
        "cotton twill 240gsm",
        "solar inverter 5kW",
        "office chair OC-7",
        "brake pad set",
        "PET bottle 500ml",
        "ceramic tile 600x600",
    ];
    const PAYMENT: &[&str] = &["T/T 30/70", "L/C at sight", "D/P", "T/T 100% advance"];
    const SUMMARY: &[&str] = &[
        "Sent revised quote",
        "Customer asked for samples",
        "Discussed payment terms",
        "Customer comparing with a Shanghai supplier",
        "Confirmed PI and deposit",
        "Followed up on shipment schedule",
        "Customer requested catalog",
        "No reply to last email",
        "Negotiated MOQ",
        "Asked about CE certification",
    ];
    const SUMMARY_CJK: &[&str] = &[
        "客户正在对比上海某供应商的报价",
        "已寄样品，等待反馈",
        "客户关注质检认证和售后",
        "見積書を再送しました",
        "Клиент запросил образцы",
        "العميل يطلب عرض سعر جديد",
    ];
    const TIERS: &[&str] = &["A", "B", "C", "D"];
    const STAGES: &[&str] = &["prospect", "contacted", "negotiating"];
    const TYPES: &[&str] = &["key-account", "smb", "prospect", "one-off"];
    const INCOTERMS: &[&str] = &["FOB", "CIF", "EXW", "DDP", "CFR"];
    const QUOTE_STATUS: &[&str] = &["sent", "accepted", "rejected"];

    /// splitmix64: small, fast and the same on every platform.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        /// Uniform in `lo..=hi` (the spans here are tiny next to 2^64).
        fn range(&mut self, lo: u64, hi: u64) -> u64 {
            lo + self.next() % (hi - lo + 1)
        }
        fn chance(&mut self, p: f64) -> bool {
            ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
        }
        fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
            xs[self.range(0, xs.len() as u64 - 1) as usize]
        }
        fn days(&mut self, from: NaiveDate, most: u64) -> NaiveDate {
            from + Days::new(self.range(0, most))
        }
    }

    fn slug(s: &str) -> String {
        let mut out = String::new();
        for c in s.to_lowercase().chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
        out.trim_end_matches('-').to_string()
    }

    fn q(s: &str) -> String {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }

    /// Write `customers` records generated from `seed` under `root`;
    /// return their paths relative to it, in the order written.
    pub fn repository(root: &Path, customers: usize, seed: u64) -> Vec<String> {
        let mut r = Rng(seed);
        let staff: Vec<String> = (0..20).map(|i| format!("s{i:02}")).collect();
        let mut roster = String::from("# Staff roster\n");
        for h in &staff {
            let weight = r.range(1, 3);
            roster.push_str(&format!(
                "\n[staff.{h}]\nname = \"Staff {}\"\nemail = \"{h}@example.com\"\nactive = true\nweight = {weight}\n",
                h.to_uppercase()
            ));
        }
        write(root, "staff.toml", &roster);
        write(
            root,
            "folio.toml",
            "# folio repository; every setting at its default\n",
        );
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let mut cores = std::collections::HashSet::new();
        let mut files = Vec::new();
        for i in 0..customers {
            // distinct even after legal forms and case are stripped, so
            // that the only duplicates are the ones a test plants
            let core = loop {
                let n = r.range(2, 3);
                let word: String = (0..n).map(|_| r.pick(SYLLABLES)).collect();
                let mut word = word.chars();
                let word: String = word.next().unwrap().to_uppercase().chain(word).collect();
                let core = format!("{} {word} {}", r.pick(PREFIX), r.pick(CORE));
                if cores.insert(slug(&core)) {
                    break core;
                }
            };
            let name = format!("{core} {}", r.pick(SUFFIX));
            let (first, last) = (r.pick(FIRST), r.pick(LAST));
            let contact = format!("{first} {last}");
            let cc = r.pick(COUNTRIES);
            let domain = format!("{}.example", slug(&name).replace('-', ""));
            let owner = r
                .chance(0.85)
                .then(|| staff[r.range(0, 19) as usize].clone());
            let created = r.days(start, 600);
            let mut out = format!(
                "id = \"C{i:07}\"\nname = {}\ncontact = {}\ncountry = \"{cc}\"\n",
                q(&name),
                q(&contact)
            );
            if let Some(o) = &owner {
                out.push_str(&format!("owner = \"{o}\"\n"));
            }
            out.push_str(&format!(
                "tier = \"{}\"\ntype = \"{}\"\nstage = \"{}\"\nsource = \"{}\"\nindustry = \"{}\"\nwebsite = \"https://www.{domain}\"\ncreated = {created}\n",
                r.pick(TIERS),
                r.pick(TYPES),
                r.pick(STAGES),
                r.pick(SOURCE),
                r.pick(INDUSTRY),
            ));
            let mut tags: Vec<&str> = Vec::new();
            for _ in 0..r.range(0, 2) {
                let t = r.pick(TAGS);
                if !tags.contains(&t) {
                    tags.push(t);
                }
            }
            if !tags.is_empty() {
                let tags: Vec<String> = tags.iter().map(|t| q(t)).collect();
                out.push_str(&format!("tags = [{}]\n", tags.join(", ")));
            }
            for k in 0..r.range(1, 3) {
                let (f, l) = if k == 0 {
                    (first, last)
                } else {
                    (r.pick(FIRST), r.pick(LAST))
                };
                out.push_str(&format!(
                    "\n[[contacts]]\nname = \"{f} {l}\"\nrole = \"{}\"\nemail = \"{}.{}@{domain}\"\nphone = \"+{} {} {}\"\n",
                    r.pick(ROLES),
                    f.to_lowercase(),
                    l.to_lowercase(),
                    r.range(1, 99),
                    r.range(100, 999),
                    r.range(1_000_000, 9_999_999)
                ));
            }
            for _ in 0..r.range(0, 3) {
                out.push_str(&format!(
                    "\n[[quotes]]\ndate = {}\nproduct = \"{}\"\namount = {}.{:02}\ncurrency = \"USD\"\nincoterm = \"{}\"\nstatus = \"{}\"\n",
                    r.days(created, 60),
                    r.pick(PRODUCTS),
                    r.range(1000, 89_999),
                    r.range(0, 99),
                    r.pick(INCOTERMS),
                    r.pick(QUOTE_STATUS)
                ));
            }
            for _ in 0..r.range(0, 3) {
                out.push_str(&format!(
                    "\n[[orders]]\ndate = {}\nnumber = \"PO-{}\"\namount = {}.{:02}\ncurrency = \"USD\"\npayment = \"{}\"\n",
                    r.days(created, 90),
                    r.range(1000, 99_999),
                    r.range(5000, 249_999),
                    r.range(0, 99),
                    r.pick(PAYMENT)
                ));
            }
            let mut followups: Vec<(NaiveDate, String)> = (0..r.range(0, 4))
                .map(|_| {
                    let date = r.days(created, 30);
                    let by = owner
                        .clone()
                        .unwrap_or_else(|| staff[r.range(0, 19) as usize].clone());
                    let summary = if r.chance(0.3) {
                        r.pick(SUMMARY_CJK)
                    } else {
                        r.pick(SUMMARY)
                    };
                    let text = format!(
                        "\n[[followups]]\ndate = {date}\nby = \"{by}\"\nchannel = \"{}\"\nsummary = {}\nreplied = {}\n",
                        r.pick(CHANNEL),
                        q(summary),
                        r.chance(0.6)
                    );
                    (date, text)
                })
                .collect();
            followups.sort_by_key(|f| f.0);
            for (_, f) in followups {
                out.push_str(&f);
            }
            let c = cc.to_lowercase();
            let rel = format!(
                "customers/{c}/{}--{}--{c}.toml",
                slug(&name),
                slug(&contact)
            );
            write(root, &rel, &out);
            files.push(rel);
        }
        files
    }

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}
