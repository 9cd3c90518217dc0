//! `folio import`, `folio export` and `folio merge` through the command
//! line, on real-looking input files in tests/fixtures/import.

mod common;
use common::{TestRepo, record, run};
use std::path::PathBuf;

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
        .display()
        .to_string()
}

/// `folio import FILE ARGS... --as-of 2026-01-01 --ids seq:PREFIX`.
fn import(t: &TestRepo, file: &str, args: &[&str]) -> (i32, String, String) {
    let f = fixture(file);
    let mut a = vec![
        "import",
        f.as_str(),
        "--as-of",
        "2026-01-01",
        "--ids",
        "seq:C",
    ];
    a.extend_from_slice(args);
    run(t.folio().args(&a))
}

/// Every record file under customers/, sorted.
fn files(t: &TestRepo) -> Vec<String> {
    let mut v: Vec<String> = walk(&t.path("customers"))
        .into_iter()
        .map(|p| {
            p.strip_prefix(t.root())
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    v.sort();
    v
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// What `git status` shows (ignored files are not listed) is empty.
fn git_status_clean(repo: &git2::Repository) -> bool {
    let mut o = git2::StatusOptions::new();
    o.include_ignored(false).include_untracked(true);
    repo.statuses(Some(&mut o)).unwrap().is_empty()
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

/// The checked-in workbook: a Chinese team's customer sheet (headers in
/// Chinese, dates as date cells, a phone stored as a number, an empty row,
/// a duplicate and two bad rows). Regenerate with
/// `cargo test --test import -- --ignored write_xlsx_fixture`.
#[test]
#[ignore]
fn write_xlsx_fixture() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("客户列表").unwrap();
    let date = Format::new().set_num_format("yyyy/m/d");
    let head = [
        "公司名称",
        "联系人",
        "国家",
        "邮箱",
        "电话",
        "负责人",
        "等级",
        "阶段",
        "创建日期",
        "城市",
        "网站",
        "备注",
    ];
    for (i, h) in head.iter().enumerate() {
        ws.write_string(0, i as u16, *h).unwrap();
    }
    #[allow(clippy::type_complexity)]
    let rows: &[(
        &str,
        &str,
        &str,
        &str,
        &str,
        &str,
        &str,
        &str,
        (u16, u8, u8),
        &str,
        &str,
        &str,
    )] = &[
        (
            "Müller Pumpen GmbH",
            "Jürgen Müller",
            "德国",
            "j.mueller@mueller-pumpen.de",
            "+49 30 1234567",
            "Alice Wang",
            "B",
            "谈判中",
            (2024, 3, 5),
            "柏林",
            "https://mueller-pumpen.de",
            "广交会",
        ),
        (
            "Al Noor Trading LLC",
            "Ahmed Hassan",
            "阿联酋",
            "ahmed@alnoor.ae",
            "#97141234567",
            "bob",
            "A",
            "已成交",
            (2024, 5, 20),
            "迪拜",
            "",
            "",
        ),
        (
            "Nguyen Trading Co.",
            "Nguyen Van An",
            "越南",
            "an.nguyen@nguyentrading",
            "+84 28 3822 1234",
            "bob",
            "C",
            "意向",
            (2024, 4, 12),
            "胡志明市",
            "",
            "邮箱待确认",
        ),
        (
            "Petrov Stroy",
            "Иван Петров",
            "俄罗斯",
            "ivan@petrovstroy.ru",
            "+7 495 123-45-67",
            "张伟",
            "D",
            "意向",
            (2024, 6, 1),
            "莫斯科",
            "",
            "",
        ),
        ("", "", "", "", "", "", "", "", (0, 0, 0), "", "", ""),
        (
            "樱花工业",
            "山田太郎",
            "日本",
            "yamada@sakura-kogyo.jp",
            "+81 3 1234 5678",
            "alice@example.com",
            "C",
            "已联系",
            (2024, 6, 18),
            "大阪",
            "",
            "",
        ),
        (
            "MÜLLER PUMPEN GMBH",
            "Klaus Weber",
            "德国",
            "k.weber@mueller-pumpen.de",
            "",
            "bob",
            "B",
            "意向",
            (2024, 7, 1),
            "",
            "",
            "重复录入",
        ),
    ];
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        let texts = [row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7];
        for (c, v) in texts.iter().enumerate() {
            if c == 4 && v.starts_with('#') {
                // a phone typed without "+" is stored as a number
                ws.write_number(r, 4, v[1..].parse::<f64>().unwrap())
                    .unwrap();
            } else if !v.is_empty() {
                ws.write_string(r, c as u16, *v).unwrap();
            }
        }
        if row.8.0 > 0 {
            let d = ExcelDateTime::from_ymd(row.8.0, row.8.1, row.8.2).unwrap();
            ws.write_date_with_format(r, 8, &d, &date).unwrap();
        }
        for (c, v) in [(9u16, row.9), (10, row.10), (11, row.11)] {
            if !v.is_empty() {
                ws.write_string(r, c, v).unwrap();
            }
        }
    }
    let notes = wb.add_worksheet();
    notes.set_name("说明").unwrap();
    notes.write_string(0, 0, "导出自 Excel").unwrap();
    wb.save(fixture("zh-customers.xlsx")).unwrap();
}

#[test]
fn xlsx_with_chinese_headers_guessed_and_mapped() {
    let t = TestRepo::new();
    // guessed: the stages are Chinese words, which the guess cannot read
    let (code, out, err) = import(&t, "zh-customers.xlsx", &["--dry-run"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("(XLSX, sheet \"客户列表\"): 6 rows"), "{out}");
    assert!(out.contains("  stage = \"阶段\"\n"), "{out}");
    assert!(
        out.contains(
            "rejected row 2, column \"阶段\" (stage): `stage` is \"谈判中\", which is not allowed"
        ),
        "{out}"
    );
    // mapped: the stages translated with `values`
    t.write(
        "zh.map.toml",
        "[fields]\nname = \"公司名称\"\ncontact = \"联系人\"\ncountry = \"国家\"\n\"contact1.email\" = \"邮箱\"\n\"contact1.phone\" = \"电话\"\nowner = \"负责人\"\ntier = \"等级\"\nstage = { column = \"阶段\", values = { \"意向\" = \"prospect\", \"已联系\" = \"contacted\", \"谈判中\" = \"negotiating\", \"已成交\" = \"signed\" } }\ncreated = \"创建日期\"\ncity = \"城市\"\nwebsite = \"网站\"\n",
    );
    let (code, out, err) = import(&t, "zh-customers.xlsx", &["--map", "zh.map.toml"]);
    assert_eq!(code, 1, "{out}{err}");
    let body: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(
        body,
        [
            "created row 2: customers/de/muller-pumpen-gmbh--jurgen-muller--de.toml (Müller Pumpen GmbH-Jürgen Müller-DE)",
            "created row 3: customers/ae/al-noor-trading-llc--ahmed-hassan--ae.toml (Al Noor Trading LLC-Ahmed Hassan-AE)",
            "created row 7: customers/jp/ying-hua-gong-ye--shan-tian-tai-lang--jp.toml (樱花工业-山田太郎-JP)",
            "skipped row 8: duplicates row 2: same name: \"Müller Pumpen GmbH\" ~ \"MÜLLER PUMPEN GMBH\" (both normalise to \"müllerpumpen\"; legal form \"GmbH\" stripped; legal form \"GMBH\" stripped)",
            "rejected row 4, column \"邮箱\" (contact1.email): `an.nguyen@nguyentrading` is not an e-mail address",
            "rejected row 5, column \"负责人\" (owner): `张伟` is nobody in staff.toml (give a handle, a name or an e-mail of a staff member)",
            "summary: 6 rows: 3 created, 0 updated, 1 skipped, 2 rejected",
        ],
        "{out}"
    );
    assert_eq!(
        t.read("customers/ae/al-noor-trading-llc--ahmed-hassan--ae.toml"),
        "id = \"C2\"\nname = \"Al Noor Trading LLC\"\ncontact = \"Ahmed Hassan\"\ncountry = \"AE\"\nowner = \"bob\"\ntier = \"A\"\nstage = \"signed\"\ncity = \"迪拜\"\ncreated = 2024-05-20\n\n[[contacts]]\nname = \"Ahmed Hassan\"\nemail = \"ahmed@alnoor.ae\"\nphone = \"97141234567\"\n"
    );
    // owner given by name and by e-mail
    assert!(
        t.read("customers/de/muller-pumpen-gmbh--jurgen-muller--de.toml")
            .contains("owner = \"alice\"\n")
    );
    assert!(
        t.read("customers/jp/ying-hua-gong-ye--shan-tian-tai-lang--jp.toml")
            .contains("owner = \"alice\"\n")
    );
    assert_eq!(files(&t).len(), 3);
    let (code, out, _) = run(t.folio().args(["check", "--as-of", "2026-01-01"]));
    assert_eq!(code, 0, "{out}");
    // another sheet by name
    let (code, _, err) = import(
        &t,
        "zh-customers.xlsx",
        &["--sheet", "Customers", "--dry-run"],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("no sheet named \"Customers\" (sheets: \"客户列表\", \"说明\")"),
        "{err}"
    );
}

#[test]
fn gbk_csv_is_detected() {
    let t = TestRepo::new();
    let (code, out, err) = import(&t, "gbk-customers.csv", &["--format", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let v = json(&out);
    assert_eq!(v["encoding"], "GB18030");
    assert_eq!(v["summary"]["created"], 5);
    assert_eq!(
        t.read("customers/de/muller-pumpen-gmbh--jurgen-muller--de.toml"),
        "id = \"C1\"\nname = \"Müller Pumpen GmbH\"\ncontact = \"Jürgen Müller\"\ncountry = \"DE\"\nowner = \"alice\"\ntier = \"B\"\nstage = \"prospect\"\ntags = [\"canton-fair\", \"price-sensitive\"]\ncreated = 2024-03-05\n\n[[contacts]]\nname = \"Jürgen Müller\"\nemail = \"j.mueller@mueller-pumpen.de\"\nphone = \"+49 30 1234567\"\n"
    );
    assert!(
        t.read("customers/ru/petrov-stroy--ivan-petrov--ru.toml")
            .contains("contact = \"Иван Петров\"\n")
    );
    // read as UTF-8 it is not text: a usage error naming the place
    let (code, _, err) = import(
        &t,
        "gbk-customers.csv",
        &["--encoding", "utf-8", "--dry-run"],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "invalid UTF-8 on line 1 (byte offset 0); if the file is GBK, pass --encoding gbk"
        ),
        "{err}"
    );
}

#[test]
fn another_crms_export_needs_a_mapping() {
    let t = TestRepo::new();
    let (code, _, err) = import(&t, "zoho-accounts.csv", &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("error: cannot import zoho-accounts.csv: no column feeds the country"),
        "{err}"
    );
    assert!(err.contains("--print-mapping > mapping.toml"), "{err}");
    assert!(files(&t).is_empty());
    let map = fixture("zoho-accounts.map.toml");
    let (code, out, err) = import(&t, "zoho-accounts.csv", &["--map", &map]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        t.read("customers/de/hansa-maschinenbau-gmbh--petra-hansen--de.toml"),
        "id = \"C1\"\nname = \"Hansa Maschinenbau GmbH\"\ncontact = \"Petra Hansen\"\ncountry = \"DE\"\nowner = \"alice\"\ntier = \"A\"\nstage = \"contacted\"\nsource = \"Trade Show\"\nindustry = \"Machinery\"\ncity = \"Hamburg\"\nwebsite = \"https://www.hansa-mb.de\"\ntags = [\"canton-fair\", \"vip\"]\ncreated = 2024-03-05\n\n[[contacts]]\nname = \"Petra Hansen\"\nemail = \"p.hansen@hansa-mb.de\"\nphone = \"+49 40 555 0199\"\n"
    );
    assert!(
        t.read("customers/cl/andes-mining-s-a--lucia-rojas--cl.toml")
            .contains("tier = \"D\"\n")
    );
    // a mapping naming a column the sheet lacks is a usage error
    t.write("bad.map.toml", "[fields]\nname = \"Acount Name\"\n");
    let (code, _, err) = import(&t, "zoho-accounts.csv", &["--map", "bad.map.toml"]);
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "fields.name: the sheet has no column \"Acount Name\" (did you mean \"Account Name\"?"
        ),
        "{err}"
    );
}

/// An existing customer for the duplicate rules.
fn acme(t: &TestRepo) -> String {
    t.write(
        "customers/de/acme--ann-lee--de.toml",
        "# our oldest customer\nid = \"A1\"\nname = \"Acme GmbH\" # legal name\ncontact = \"Ann Lee\"\ncountry = \"DE\"\nowner = \"alice\"\ntier = \"B\"\nstage = \"contacted\"\ncreated = 2025-01-10\n\n[[contacts]]\nname = \"Ann Lee\"\nemail = \"ann@acme.de\"\n",
    );
    "customers/de/acme--ann-lee--de.toml".into()
}

#[test]
fn every_kind_of_bad_row_is_reported_and_the_rest_imported() {
    let t = TestRepo::new();
    let acme_path = acme(&t);
    let before = t.read(&acme_path);
    let (code, out, err) = import(&t, "bad-rows.csv", &[]);
    assert_eq!(code, 1, "{err}");
    let body: Vec<&str> = out
        .lines()
        .filter(|l| !l.starts_with("  ") && !l.starts_with("mapping") && !l.starts_with("read"))
        .collect();
    assert_eq!(
        body,
        [
            "created row 2: customers/de/good-co--gina-good--de.toml (Good Co-Gina Good-DE)",
            "skipped row 11: duplicates customers/de/acme--ann-lee--de.toml (Acme GmbH-Ann Lee-DE): same name: \"Acme GmbH\" ~ \"Acme Ltd\" (both normalise to \"acme\"; legal form \"GmbH\" stripped; legal form \"Ltd\" stripped)",
            "skipped row 12: duplicates row 2: same name: \"Good Co\" ~ \"Good Company\" (both normalise to \"good\"; legal form \"Co\" stripped; legal form \"Company\" stripped)",
            "rejected row 3, column \"Company\" (name): empty: every customer needs a company name",
            "rejected row 4, column \"Country\" (country): `Atlantis` is not a country folio knows (write an ISO 3166-1 code such as \"DE\", or add the name under [countries] in the mapping)",
            "rejected row 5, column \"Email\" (contact1.email): `bea(at)badmail.fr` is not an e-mail address",
            "rejected row 6, column \"Phone\" (contact1.phone): `+1 212 555 0100 ext. 12` has an extension (`ext. 12`), which a record cannot hold; set on_invalid = \"drop\" to import the row without the phone",
            "rejected row 7, column \"Created\" (created): `31/02/2025` is not a date (YYYY-MM-DD; give the column's `format` in the mapping, e.g. \"%d/%m/%Y\")",
            "rejected row 8, column \"Owner\" (owner): `zhang` is nobody in staff.toml (give a handle, a name or an e-mail of a staff member)",
            "rejected row 9, column \"Tier\" (tier): `tier` is \"F\", which is not allowed (allowed: \"A\", \"B\", \"C\", \"D\", \"E\")",
            "rejected row 10, column - (lost_reason): stage is \"lost\" but `lost_reason` is missing (add `lost_reason = \"...\"`: why the deal was lost is what the team learns from)",
            "rejected row 13, column \"Tags\" (tags): tag `!!!` has no letters or digits",
            "summary: 12 rows: 1 created, 0 updated, 2 skipped, 9 rejected",
        ],
        "{out}"
    );
    assert_eq!(
        files(&t),
        [
            acme_path.as_str(),
            "customers/de/good-co--gina-good--de.toml"
        ]
    );
    assert_eq!(t.read(&acme_path), before);
    // JSON: the same report as data
    let t2 = TestRepo::new();
    acme(&t2);
    let (code, out, _) = import(&t2, "bad-rows.csv", &["--format", "json", "--dry-run"]);
    assert_eq!(code, 1);
    let v = json(&out);
    assert_eq!(
        v["summary"],
        json(r#"{"rows":12,"created":1,"updated":0,"skipped":2,"rejected":9}"#)
    );
    assert_eq!(
        v["rejected"][0],
        json(
            r#"{"row":3,"column":"Company","field":"name","value":"","reason":"empty: every customer needs a company name"}"#
        )
    );
    assert_eq!(
        v["created"][0],
        json(r#"{"row":2,"path":"customers/de/good-co--gina-good--de.toml","id":"C1"}"#)
    );
    assert_eq!(
        v["skipped"][0]["duplicate_of"],
        "customers/de/acme--ann-lee--de.toml (Acme GmbH-Ann Lee-DE)"
    );
    assert_eq!(files(&t2).len(), 1, "--dry-run writes nothing");
}

#[test]
fn public_sample_list_imports_sensibly() {
    let t = TestRepo::new();
    let (code, out, _) = import(&t, "customers-100.csv", &["--print-mapping"]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "# folio import mapping for customers-100.csv (guessed from the headers)\n# Edit and pass it back with `folio import FILE --map THIS_FILE`; see docs/import.md.\n# Columns not imported: \"Index\", \"Customer Id\", \"Phone 2\"\n\n[fields]\nname = \"Company\"\ncontact = [\"First Name\", \"Last Name\"]\ncountry = \"Country\"\n\"contact1.email\" = { column = \"Email\", on_invalid = \"reject\" }\n\"contact1.phone\" = { column = \"Phone 1\", on_invalid = \"reject\" }\ntier = { default = \"D\" }\nstage = { default = \"prospect\" }\ncity = \"City\"\nwebsite = { column = \"Website\", on_invalid = \"reject\" }\ncreated = { column = \"Subscription Date\", format = \"%d/%m/%y\" }\n"
    );
    // guessed: rows whose phone has an extension are rejected with the reason
    let (code, out, _) = import(&t, "customers-100.csv", &["--dry-run", "--format", "json"]);
    assert_eq!(code, 1);
    let v = json(&out);
    assert_eq!(v["summary"]["rejected"], 60);
    let rejected = v["rejected"].as_array().unwrap();
    assert!(
        rejected.iter().all(|p| p["column"] == "Phone 1"),
        "{rejected:?}"
    );
    assert_eq!(
        rejected
            .iter()
            .filter(|p| p["reason"].as_str().unwrap().contains("has an extension"))
            .count(),
        57
    );
    // mapped with on_invalid = "drop": every row in, the phones reported
    let map = fixture("customers-100.map.toml");
    let (code, out, _) = import(
        &t,
        "customers-100.csv",
        &["--map", &map, "--format", "json"],
    );
    assert_eq!(code, 0, "{out}");
    let v = json(&out);
    assert_eq!(
        v["summary"],
        json(r#"{"rows":100,"created":99,"updated":0,"skipped":1,"rejected":0}"#)
    );
    assert_eq!(v["skipped"][0]["row"], 65);
    assert_eq!(v["skipped"][0]["duplicate_of"], "row 20");
    assert_eq!(v["dropped"].as_array().unwrap().len(), 60);
    assert_eq!(
        t.read("customers/cl/rasmussen-group--sheryl-baxter--cl.toml"),
        "id = \"C1\"\nname = \"Rasmussen Group\"\ncontact = \"Sheryl Baxter\"\ncountry = \"CL\"\ntier = \"D\"\nstage = \"prospect\"\nsource = \"customer-list-2021\"\ncity = \"East Leonard\"\nwebsite = \"http://www.stephenson.com/\"\ncreated = 2020-08-24\n\n[[contacts]]\nname = \"Sheryl Baxter\"\nemail = \"zunigavanessa@smith.info\"\nphone = \"229 077 5154\"\n"
    );
    // countries written as names
    for (path, cc) in [
        (
            "customers/sk/martin-lang-and-andrade--joanna-bender--sk.toml",
            "SK",
        ),
        (
            "customers/do/dominguez-mcmillan-and-donovan--linda-olsen--do.toml",
            "DO",
        ),
    ] {
        assert!(
            t.read(path).contains(&format!("country = \"{cc}\"\n")),
            "{path}"
        );
    }
    assert!(
        !t.read("customers/sk/martin-lang-and-andrade--joanna-bender--sk.toml")
            .contains("phone")
    );
    let (code, out, _) = run(t.folio().args(["check", "--as-of", "2026-01-01"]));
    assert_eq!(code, 0, "{out}");
    assert_eq!(files(&t).len(), 99);
}

#[test]
fn on_duplicate_update_fills_empty_fields_and_lists_conflicts() {
    let t = TestRepo::new();
    let acme_path = acme(&t);
    t.write(
        "rows.csv",
        "Company,Contact,Country,Email,City,Tier,Industry\nACME GmbH,Ann Lee,DE,ann@acme.de,Berlin,A,Pumps\n",
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
    assert!(out.contains("updated customers/de/acme--ann-lee--de.toml from row 2: filled industry, city\n  conflict row 2, tier: the record has \"B\", the row \"A\" (left as it is)\n"), "{out}");
    assert!(
        out.contains("summary: 1 rows: 0 created, 1 updated, 0 skipped, 0 rejected"),
        "{out}"
    );
    // comments kept, only the new lines added
    assert_eq!(
        t.read(&acme_path),
        "# our oldest customer\nid = \"A1\"\nname = \"Acme GmbH\" # legal name\ncontact = \"Ann Lee\"\ncountry = \"DE\"\nowner = \"alice\"\ntier = \"B\"\nstage = \"contacted\"\ncreated = 2025-01-10\nindustry = \"Pumps\"\ncity = \"Berlin\"\n\n[[contacts]]\nname = \"Ann Lee\"\nemail = \"ann@acme.de\"\n"
    );
    // fail: nothing written at all, exit 1
    t.write(
        "more.csv",
        "Company,Contact,Country\nNew Co,Nina New,FR\nAcme Ltd,Ann Lee,DE\n",
    );
    let (code, out, _) = run(t.folio().args([
        "import",
        "more.csv",
        "--on-duplicate",
        "fail",
        "--as-of",
        "2026-01-01",
    ]));
    assert_eq!(code, 1);
    assert!(
        out.contains("duplicate row 3: duplicates customers/de/acme--ann-lee--de.toml"),
        "{out}"
    );
    assert!(
        out.contains("stopped: --on-duplicate fail and 1 row duplicated; nothing was written"),
        "{out}"
    );
    assert_eq!(files(&t), [acme_path]);
}

#[test]
fn commit_makes_one_commit() {
    let t = TestRepo::new();
    acme(&t);
    t.git_init();
    t.commit_all("start", "alice", 1_700_000_000);
    let (code, out, err) = import(&t, "gbk-customers.csv", &["--commit"]);
    assert_eq!(code, 0, "{out}{err}");
    let repo = git2::Repository::open(t.root()).unwrap();
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(
        head.message().unwrap(),
        "import 5 customers from gbk-customers.csv\n\n5 created, 0 updated, 0 skipped, 0 rejected of 5 rows\n"
    );
    let parent = head.parent(0).unwrap();
    let diff = repo
        .diff_tree_to_tree(
            Some(&parent.tree().unwrap()),
            Some(&head.tree().unwrap()),
            None,
        )
        .unwrap();
    assert_eq!(diff.deltas().len(), 5);
    assert!(git_status_clean(&repo), "all committed");
    assert!(
        walk(&t.path(".folio"))
            .iter()
            .all(|p| p.ends_with(".folio/.gitignore")),
        "no staging left"
    );
}

/// Three customers with most of what a CSV row can carry.
fn rich(t: &TestRepo) {
    t.write(
        "customers/de/acme-gmbh--ann-lee--de.toml",
        "id = \"A1\"\nname = \"Acme GmbH\"\ncontact = \"Ann Lee\"\ncountry = \"DE\"\nowner = \"alice\"\ntier = \"B\"\ntype = \"key-account\"\nstage = \"negotiating\"\nsource = \"canton-fair\"\nindustry = \"Pumps\"\ncity = \"Berlin\"\naddress = \"Hauptstraße 1, 10115 Berlin\"\nwebsite = \"https://acme.de\"\ntags = [\"vip\", \"price-sensitive\"]\ngroup = \"acme-group\"\ncreated = 2025-01-10\nnext_followup = 2026-02-01\nincoterms = [\"FOB\", \"CIF\"]\npayment_terms = \"T/T 30/70\"\n\n[[titles]]\nname = \"Acme Pumpen Vertrieb GmbH\"\nregistration = \"HRB 12345\"\n\n[[contacts]]\nname = \"Ann Lee\"\nrole = \"Buyer\"\nemail = \"ann@acme.de\"\nphone = \"+49 30 1234567\"\nwhatsapp = \"+49 170 1234567\"\n\n[[contacts]]\nname = \"Bernd Ott\"\nemail = \"bernd@acme.de\"\nwechat = \"bernd_ott\"\nlinkedin = \"https://www.linkedin.com/in/bernd-ott\"\n\n[consent]\ndate = 2025-01-10\npurpose = \"sales\"\nbasis = \"contract\"\n",
    );
    t.write(
        "customers/cn/shang-hai-hong-da-jin-chu-kou-you-xian-gong-si--wang-wei--cn.toml",
        "id = \"H1\"\nname = \"上海宏达进出口有限公司\"\ncontact = \"王伟\"\ncountry = \"CN\"\ntier = \"E\"\nstage = \"lost\"\ncreated = 2024-06-01\nlost_reason = \"price; chose a local supplier, \\\"cheaper\\\"\"\npool_reason = \"no reply\"\n",
    );
    t.write(
        "customers/us/baker-co--joe-baker--us.toml",
        &format!("{}\n[[quotes]]\ndate = 2025-02-01\nproduct = \"Pump X\"\namount = 1200.5\ncurrency = \"USD\"\n\n[[followups]]\ndate = 2025-02-03\nby = \"alice\"\nchannel = \"email\"\nsummary = \"sent the quote, \\\"Pump X\\\"\"\n", record("B1", "Baker, Co", "Joe Baker", "US", "")),
    );
}

fn export_json_without_ids(t: &TestRepo) -> serde_json::Value {
    let (code, out, err) =
        run(t
            .folio()
            .args(["export", "--format", "json", "--as-of", "2026-01-01"]));
    assert_eq!(code, 0, "{err}");
    let mut v = json(&out);
    for r in v.as_array_mut().unwrap() {
        r.as_object_mut().unwrap().remove("id");
    }
    v
}

#[test]
fn csv_export_reimports_to_the_same_records() {
    let t = TestRepo::new();
    rich(&t);
    let (code, csv, err) = run(t.folio().args(["export", "--as-of", "2026-01-01"]));
    assert_eq!(code, 0, "{err}");
    let header = csv.lines().next().unwrap();
    assert_eq!(
        header,
        "id,name,contact,country,owner,tier,type,stage,source,industry,city,address,website,tags,group,created,next_followup,lost_reason,pool_reason,incoterms,payment_terms,consent_date,consent_purpose,consent_basis,title1_name,title1_registration,contact1_name,contact1_role,contact1_email,contact1_phone,contact1_whatsapp,contact1_wechat,contact1_linkedin,contact2_name,contact2_role,contact2_email,contact2_phone,contact2_whatsapp,contact2_wechat,contact2_linkedin,quotes,latest_quote_date,latest_quote_product,latest_quote_amount,latest_quote_currency,orders,latest_order_date,latest_order_number,latest_order_amount,latest_order_currency,followups,latest_followup_date,latest_followup_by,latest_followup_channel,latest_followup_summary"
    );
    assert!(csv.contains("\"Baker, Co\""), "{csv}");
    assert!(csv.contains(",1,2025-02-01,Pump X,1200.5,USD,0,,,,,1,2025-02-03,alice,email,\"sent the quote, \"\"Pump X\"\"\"\n"), "{csv}");
    let t2 = TestRepo::new();
    t2.write("export.csv", &csv);
    let (code, out, err) = run(t2
        .folio()
        .args(["import", "export.csv", "--as-of", "2026-01-01"]));
    assert_eq!(code, 0, "{out}{err}");
    let mut want = export_json_without_ids(&t);
    // CSV carries counts and the latest quote, order and follow-up, not
    // the lists themselves (docs/import.md)
    for r in want.as_array_mut().unwrap() {
        for k in ["quotes", "orders", "followups"] {
            r.as_object_mut().unwrap().remove(k);
        }
    }
    assert_eq!(export_json_without_ids(&t2), want);
}

#[test]
fn xlsx_export_has_a_sheet_per_list_and_reimports() {
    use calamine::{Data, Reader};
    let t = TestRepo::new();
    rich(&t);
    let (code, _, err) = run(t.folio().args([
        "export",
        "--format",
        "xlsx",
        "-o",
        "out.xlsx",
        "--as-of",
        "2026-01-01",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(err, "exported 3 customers as XLSX to out.xlsx\n");
    let mut wb = calamine::open_workbook_auto(t.path("out.xlsx")).unwrap();
    assert_eq!(
        wb.sheet_names(),
        ["Customers", "Contacts", "Quotes", "Orders", "Followups"]
    );
    let c = wb.worksheet_range("Contacts").unwrap();
    assert_eq!(c.height(), 3);
    assert_eq!(c.get((1, 2)), Some(&Data::String("Ann Lee".into())));
    let q = wb.worksheet_range("Quotes").unwrap();
    assert_eq!(q.get((1, 4)), Some(&Data::Float(1200.5)));
    assert!(matches!(q.get((1, 2)), Some(Data::DateTime(_))));
    // the Customers sheet imports back (contacts are on their own sheet)
    let t2 = TestRepo::new();
    std::fs::copy(t.path("out.xlsx"), t2.path("in.xlsx")).unwrap();
    let (code, out, err) = run(t2
        .folio()
        .args(["import", "in.xlsx", "--as-of", "2026-01-01"]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(files(&t2), files(&t));
    assert!(
        t2.read("customers/de/acme-gmbh--ann-lee--de.toml")
            .contains("next_followup = 2026-02-01\n")
    );
}

#[test]
fn vcard_json_filters_and_redaction() {
    let t = TestRepo::new();
    rich(&t);
    let (code, out, _) = run(t.folio().args([
        "export",
        "--format",
        "vcf",
        "--where",
        "country=de",
        "--as-of",
        "2026-01-01",
    ]));
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:folio:A1:1\r\nFN:Ann Lee\r\nN:Lee;Ann;;;\r\nORG:Acme GmbH\r\nTITLE:Buyer\r\nEMAIL;TYPE=work:ann@acme.de\r\nTEL;TYPE=work,voice;VALUE=text:+49 30 1234567\r\nIMPP;X-SERVICE-TYPE=WhatsApp:whatsapp:+491701234567\r\nADR;TYPE=work:;;Hauptstraße 1\\, 10115 Berlin;Berlin;;;Germany\r\nURL;TYPE=work:https://acme.de\r\nCATEGORIES:vip,price-sensitive\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:folio:A1:2\r\nFN:Bernd Ott\r\nN:Ott;Bernd;;;\r\nORG:Acme GmbH\r\nEMAIL;TYPE=work:bernd@acme.de\r\nIMPP;X-SERVICE-TYPE=WeChat:weixin:bernd_ott\r\nURL;TYPE=linkedin:https://www.linkedin.com/in/bernd-ott\r\nADR;TYPE=work:;;Hauptstraße 1\\, 10115 Berlin;Berlin;;;Germany\r\nURL;TYPE=work:https://acme.de\r\nCATEGORIES:vip,price-sensitive\r\nEND:VCARD\r\n"
    );
    let (_, out, _) = run(t.folio().args([
        "export",
        "--format",
        "json",
        "--fields",
        "name,contacts",
        "--where",
        "tier=B",
        "--where",
        "tier=E",
        "--redact",
        "--as-of",
        "2026-01-01",
    ]));
    let v = json(&out);
    assert_eq!(
        v,
        json(
            r#"[
          {"name":"上海宏达进出口有限公司"},
          {"name":"Acme GmbH","contacts":[
            {"name":"Contact 2","role":"Buyer","email":"contact1@example.invalid","phone":"+000 0000001","whatsapp":"+000 0000002"},
            {"name":"Contact 3","email":"contact2@example.invalid","wechat":"wechat-1","linkedin":"linkedin-2"}]},
          {"name":"Baker, Co"}]"#
        )
    );
    let (_, out, _) = run(t.folio().args([
        "export",
        "--fields",
        "name,contact",
        "--where",
        "owner=",
        "--redact",
        "--as-of",
        "2026-01-01",
    ]));
    assert_eq!(out, "name,contact\n上海宏达进出口有限公司,Contact 1\n");
    let (code, _, err) = run(t.folio().args(["export", "--where", "colour=red"]));
    assert_eq!(code, 2);
    assert!(err.contains("unknown field `colour`"), "{err}");
    let (code, _, err) = run(t.folio().args(["export", "--fields", "nmae"]));
    assert_eq!(code, 2);
    assert!(err.contains("no column `nmae` in this export"), "{err}");
}

#[test]
fn merge_three_records() {
    let t = TestRepo::new();
    t.write(
        "customers/de/acme-gmbh--ann-lee--de.toml",
        "# kept\nid = \"A1\"\nname = \"Acme GmbH\"\ncontact = \"Ann Lee\"\ncountry = \"DE\"\nowner = \"alice\"\ntier = \"B\"\nstage = \"negotiating\"\ncreated = 2025-01-10\ntags = [\"vip\"]\n\n[[contacts]]\nname = \"Ann Lee\"\nemail = \"ann@acme.de\"\n\n[[followups]]\ndate = 2025-02-01\nby = \"alice\"\nchannel = \"email\"\nsummary = \"first mail\"\n",
    );
    t.write(
        "customers/de/acme-ltd--bob-ott--de.toml",
        "id = \"B2\"\nname = \"Acme Ltd\"\ncontact = \"Bob Ott\"\ncountry = \"DE\"\nowner = \"alice\"\ntier = \"B\"\nstage = \"negotiating\"\ncity = \"Berlin\"\ncreated = 2024-11-02\ntags = [\"price-sensitive\", \"vip\"]\n\n[[contacts]]\nname = \"Bob Ott\"\nphone = \"+49 30 7654321\"\n\n[[quotes]]\ndate = 2025-01-20\nproduct = \"Pump X\"\namount = 900.0\ncurrency = \"EUR\"\n",
    );
    t.write(
        "customers/de/acme-pumpen-gmbh--ann-lee--de.toml",
        "id = \"C3\"\nname = \"Acme Pumpen GmbH\"\ncontact = \"Ann Lee\"\ncountry = \"DE\"\ntier = \"A\"\nstage = \"negotiating\"\ncreated = 2025-03-01\nwebsite = \"https://acme.de\"\n\n[[contacts]]\nname = \"Ann Lee\"\nemail = \"ann@acme.de\"\nrole = \"Buyer\"\n\n[[followups]]\ndate = 2025-02-01\nby = \"alice\"\nchannel = \"email\"\nsummary = \"first mail\"\n\n[[followups]]\ndate = 2025-03-02\nby = \"bob\"\nchannel = \"phone\"\nsummary = \"call\"\n",
    );
    t.git_init();
    t.commit_all("three records", "alice", 1_700_000_000);
    let all = files(&t);
    // tier differs (B vs A): refused, nothing changed
    let (code, out, err) = run(t.folio().args([
        "merge",
        "A1",
        "B2",
        "customers/de/acme-pumpen-gmbh--ann-lee--de.toml",
        "--as-of",
        "2026-01-01",
    ]));
    assert_eq!(code, 2, "{out}");
    assert_eq!(
        err,
        "error: cannot merge: 1 conflicting value; nothing was changed\nhint: tier: A1 has \"B\", C3 has \"A\"\nhint: edit the records so they agree, or pass --prefer keep or --prefer other\n"
    );
    assert_eq!(files(&t), all);
    let (code, out, err) = run(t.folio().args([
        "merge",
        "A1",
        "B2",
        "C3",
        "--prefer",
        "keep",
        "--commit",
        "--as-of",
        "2026-01-01",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        "merged B2, C3 into customers/de/acme-gmbh--ann-lee--de.toml (Acme GmbH-Ann Lee-DE)\n  from B2 (customers/de/acme-ltd--bob-ott--de.toml): city, tags: +price-sensitive, created: 2025-01-10 -> 2024-11-02 (the earliest), contacts: +Bob Ott, quotes: +1\n  from C3 (customers/de/acme-pumpen-gmbh--ann-lee--de.toml): titles: +Acme Pumpen GmbH, website, contacts[0].role, followups: +1\n  settled tier: A1 \"B\", C3 \"A\" -> \"B\"\n  removed customers/de/acme-ltd--bob-ott--de.toml\n  removed customers/de/acme-pumpen-gmbh--ann-lee--de.toml\n",
        out.split("committed ").next().unwrap()
    );
    assert_eq!(
        t.read("customers/de/acme-gmbh--ann-lee--de.toml"),
        "# kept\nid = \"A1\"\nname = \"Acme GmbH\"\ncontact = \"Ann Lee\"\ncountry = \"DE\"\nowner = \"alice\"\ntier = \"B\"\nstage = \"negotiating\"\ncreated = 2024-11-02\ntags = [\"vip\", \"price-sensitive\"]\ncity = \"Berlin\"\nwebsite = \"https://acme.de\"\n\n[[contacts]]\nname = \"Ann Lee\"\nemail = \"ann@acme.de\"\nrole = \"Buyer\"\n\n[[contacts]]\nname = \"Bob Ott\"\nphone = \"+49 30 7654321\"\n\n[[followups]]\ndate = 2025-02-01\nby = \"alice\"\nchannel = \"email\"\nsummary = \"first mail\"\n\n[[followups]]\ndate = 2025-03-02\nby = \"bob\"\nchannel = \"phone\"\nsummary = \"call\"\n\n[[titles]]\nname = \"Acme Pumpen GmbH\"\n\n[[quotes]]\ndate = 2025-01-20\nproduct = \"Pump X\"\namount = 900.0\ncurrency = \"EUR\"\n"
    );
    assert!(
        out.ends_with('\n') && out.lines().last().unwrap().len() == "committed ".len() + 10,
        "{out}"
    );
    assert_eq!(files(&t), ["customers/de/acme-gmbh--ann-lee--de.toml"]);
    let repo = git2::Repository::open(t.root()).unwrap();
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(
        head.message().unwrap(),
        "merge B2 C3 into A1\n\nFolio-Merged: B2\nFolio-Merged: C3\n"
    );
    assert!(git_status_clean(&repo));
    let (code, out, _) = run(t.folio().args(["check", "--as-of", "2026-01-01"]));
    assert_eq!(code, 0, "{out}");
    // an unknown id changes nothing
    let (code, _, err) = run(t.folio().args(["merge", "A1", "ZZ9"]));
    assert_eq!(code, 2);
    assert!(err.contains("no customer matches `ZZ9`"), "{err}");
}

/// `folio export QUERY` exports only what the search selects.
#[test]
fn export_takes_a_search_query() {
    let t = common_export_repo();
    let out = common::folio_std()
        .args(["export", "--format", "json", "--repo"])
        .arg(t.path())
        .arg("country:DE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Müller Maschinenbau GmbH"]);
}

fn common_export_repo() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("folio.toml"), "").unwrap();
    std::fs::write(
        d.path().join("staff.toml"),
        "[staff.alice]\nname = \"Alice\"\n",
    )
    .unwrap();
    for (cc, name, contact) in [
        ("de", "Müller Maschinenbau GmbH", "Jürgen Weiß"),
        ("us", "ABC Corp", "John Doe"),
    ] {
        let dir = d.path().join("customers").join(cc);
        std::fs::create_dir_all(&dir).unwrap();
        let file = format!(
            "{}--{}--{cc}.toml",
            folio::naming::slug(name),
            folio::naming::slug(contact)
        );
        let text = format!(
            "id = \"{}\"\nname = \"{name}\"\ncontact = \"{contact}\"\ncountry = \"{}\"\ntier = \"B\"\nstage = \"prospect\"\ncreated = 2025-01-01\n",
            cc.to_uppercase(),
            cc.to_uppercase()
        );
        std::fs::write(dir.join(file), text).unwrap();
    }
    d
}

/// Record files under customers/ (recursively).
fn count_records(t: &TestRepo) -> usize {
    files(t).iter().filter(|p| p.ends_with(".toml")).count()
}

fn leftover_transactions(t: &TestRepo) -> usize {
    std::fs::read_dir(t.path(".folio/tx"))
        .map(|rd| rd.flatten().filter(|e| e.path().is_dir()).count())
        .unwrap_or(0)
}

#[test]
fn an_import_killed_while_renaming_is_finished_by_the_next_command() {
    let map = fixture("customers-100.map.toml");
    for (fault, on_disk) in [("rename:10", 10), ("committed", 0)] {
        let t = TestRepo::new();
        let f = fixture("customers-100.csv");
        let (code, _, _) = run(t.folio().env("FOLIO_TX_FAULT", fault).args([
            "import",
            f.as_str(),
            "--map",
            &map,
            "--as-of",
            "2026-01-01",
            "--ids",
            "seq:C",
        ]));
        assert_eq!(code, -1, "{fault}: the process was killed");
        assert_eq!(count_records(&t), on_disk, "{fault}");
        assert_eq!(leftover_transactions(&t), 1, "{fault}");
        // Any command that opens the repository finishes the change first.
        let (code, out, err) = run(t.folio().args(["check", "--as-of", "2026-01-01"]));
        assert_eq!(code, 0, "{fault}: {out}{err}");
        assert!(
            err.starts_with(
                "note: finished a change that an interrupted folio left half done (99 files in "
            ),
            "{fault}: {err}"
        );
        assert_eq!(count_records(&t), 99, "{fault}");
        assert_eq!(leftover_transactions(&t), 0, "{fault}");
        assert_eq!(
            t.read("customers/cl/rasmussen-group--sheryl-baxter--cl.toml")
                .lines()
                .next(),
            Some("id = \"C1\"")
        );
        let (_, _, err) = run(t.folio().args(["check", "--as-of", "2026-01-01"]));
        assert_eq!(err, "", "{fault}: recovered once only");
    }
}

/// Killed at every step of the transaction (the transaction's fault
/// points, not a timer): after recovery by the next command, every row or
/// none is on disk.
#[test]
fn an_import_killed_at_any_step_leaves_all_rows_or_none() {
    let n = 300;
    let mut csv = String::from("Company,Contact,Country\n");
    for i in 0..n {
        csv.push_str(&format!("Kestrel {i} Works,Ann Lee {i},Germany\n"));
    }
    let src = tempfile::tempdir().unwrap();
    let file = src.path().join("rows.csv");
    std::fs::write(&file, csv).unwrap();
    let file = file.display().to_string();
    for (fault, want) in [
        ("stage:1", 0),
        ("stage:150", 0),
        ("stage:300", 0),
        ("journal", 0),
        ("committed", n),
        ("rename:1", n),
        ("rename:299", n),
    ] {
        let t = TestRepo::new();
        let (code, _, _) = run(t.folio().env("FOLIO_TX_FAULT", fault).args([
            "import",
            &file,
            "--as-of",
            "2026-01-01",
        ]));
        assert_eq!(code, -1, "{fault}: the process was killed");
        let (code, out, err) = run(t.folio().args(["check", "--as-of", "2026-01-01"]));
        assert_eq!(count_records(&t), want, "{fault}: {out}{err}");
        assert_eq!(code, 0, "{fault}: {out}{err}");
        assert_eq!(leftover_transactions(&t), 0, "{fault}");
    }
}
