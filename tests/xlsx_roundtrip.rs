//! An XLSX export imports back to the same records (issue bug 7): the
//! Contacts, Quotes, Orders and Followups sheets are read beside the
//! Customers sheet, linked by `customer_id`; what a workbook holds that the
//! import cannot carry is named, never dropped in silence.

mod common;

use common::{TestRepo, copy_dir, run};
use std::path::Path;

const AS_OF: &str = "2027-06-01";

/// `folio export --format FORMAT` to standard output.
fn export(t: &TestRepo, format: &str) -> String {
    let (code, out, err) = run(t
        .folio()
        .args(["export", "--format", format, "--as-of", AS_OF]));
    assert_eq!(code, 0, "{err}");
    out
}

/// Export `from` as XLSX, import it into `to` (which has the same settings
/// and no records), and check that both export the same CSV and JSON.
/// Returns the import's report.
fn roundtrip(from: &TestRepo, to: &TestRepo) -> String {
    let (code, _, err) = run(from.folio().args([
        "export", "--format", "xlsx", "-o", "out.xlsx", "--as-of", AS_OF,
    ]));
    assert_eq!(code, 0, "{err}");
    std::fs::copy(from.path("out.xlsx"), to.path("in.xlsx")).unwrap();
    let (code, out, err) = run(to.folio().args(["import", "in.xlsx", "--as-of", AS_OF]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(err, "");
    assert_eq!(export(to, "json"), export(from, "json"));
    assert_eq!(export(to, "csv"), export(from, "csv"));
    out
}

#[test]
fn the_sample_repository_roundtrips_through_xlsx() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-repo");
    let from = TestRepo::new();
    for f in ["folio.toml", "staff.toml"] {
        std::fs::copy(sample.join(f), from.path(f)).unwrap();
    }
    copy_dir(&sample.join("customers"), &from.path("customers"));
    let to = TestRepo::new();
    for f in ["folio.toml", "staff.toml"] {
        std::fs::copy(sample.join(f), to.path(f)).unwrap();
    }
    let out = roundtrip(&from, &to);
    let head: Vec<&str> = out.lines().take(5).collect();
    assert_eq!(
        head,
        [
            "read in.xlsx (XLSX, sheet \"Customers\"): 48 rows",
            "read sheet \"Contacts\" (contacts): 52 rows",
            "read sheet \"Quotes\" (quotes): 34 rows",
            "read sheet \"Orders\" (orders): 111 rows",
            "read sheet \"Followups\" (followups): 272 rows",
        ]
    );
    assert!(
        out.ends_with("summary: 48 rows: 48 created, 0 updated, 0 skipped, 0 rejected\n"),
        "{out}"
    );
}

/// The team's own fields, at the top and inside the lists.
const TEAM_SCHEMA: &str = r#"[fields.vat]
type = "string"
pattern = "[A-Z]{2}[0-9]{9}"

[fields.size]
type = "string"
enum = ["small", "medium", "large"]

[fields.credit_limit]
type = "number"

[fields.employees]
type = "integer"

[fields.audited]
type = "boolean"

[fields.audit_date]
type = "date"

[fields.regions]
type = "array"
items = "string"

[fields.contacts.fields.skype]
type = "string"

[fields.quotes.fields.discount]
type = "number"

[fields.orders.fields.shipped]
type = "boolean"

[fields.followups.fields.outcome]
type = "string"
"#;

fn team_repo() -> TestRepo {
    let t = TestRepo::new();
    t.write("schema/team.toml", TEAM_SCHEMA);
    t
}

#[test]
fn cjk_names_team_fields_and_every_list_roundtrip() {
    let from = team_repo();
    from.write(
        "customers/cn/shang-hai-hong-da-jin-chu-kou-you-xian-gong-si--wang-wei--cn.toml",
        r#"id = "H1"
name = "上海宏达进出口有限公司"
contact = "王伟"
country = "CN"
owner = "alice"
tier = "A"
type = "key-account"
stage = "negotiating"
source = "canton-fair"
industry = "机械"
city = "上海"
address = "浦东新区世纪大道100号"
website = "https://hongda.example.cn"
tags = ["vip", "price-sensitive"]
group = "hongda"
created = 2024-04-16
next_followup = 2027-07-01
incoterms = ["FOB", "CIF"]
payment_terms = "T/T 30/70"
vat = "CN123456789"
size = "large"
credit_limit = 250000.5
employees = 420
audited = true
audit_date = 2025-03-01
regions = ["华东", "华南"]

[[titles]]
name = "宏达国际贸易（香港）有限公司"
registration = "HK-2024-001"

[[titles]]
name = "宏达机械制造有限公司"
registration = "91310000MA1FL0000X"

[[contacts]]
name = "王伟"
role = "采购经理"
email = "wang.wei@hongda.example.cn"
phone = "+86 21 5888 0000"
wechat = "wangwei_hd"
skype = "live:wangwei"

[[contacts]]
name = "李娜"
role = "Assistant"
email = "li.na@hongda.example.cn"
whatsapp = "+86 138 0013 8000"
linkedin = "https://www.linkedin.com/in/li-na"

[[quotes]]
date = 2025-05-02
product = "PX-200 泵"
amount = 48000.0
currency = "USD"
incoterm = "FOB"
status = "sent"
discount = 2.5

[[quotes]]
date = 2025-06-10
product = "PX-300"
amount = 1200.75
currency = "CNY"
status = "accepted"

[[orders]]
date = 2025-07-01
number = "PO-25070"
amount = 46080.0
currency = "USD"
payment = "T/T 30/70"
shipped = true

[[orders]]
date = 2025-09-15
number = "PO-25091"
amount = 9900.0
currency = "USD"

[[followups]]
date = 2025-05-20
by = "alice"
channel = "wechat"
summary = "客户在比较上海另一家供应商的报价"
replied = true
next = 2025-06-01
outcome = "price discussion"

[[followups]]
date = 2025-06-02
by = "bob"
channel = "email"
summary = "sent the revised quote, \"PX-300\""
replied = false

[consent]
date = 2024-04-16
purpose = "quotations and order handling"
basis = "contract"
"#,
    );
    from.write(
        "customers/jp/ying-hua-gong-ye--shan-tian-tai-lang--jp.toml",
        r#"id = "J1"
name = "樱花工业"
contact = "山田太郎"
country = "JP"
tier = "C"
stage = "prospect"
created = 2025-01-10
pool_reason = "no reply"
size = "small"

[[contacts]]
name = "山田太郎"
email = "yamada@sakura.example.jp"

[[followups]]
date = 2025-02-03
channel = "email"
summary = "first contact"
"#,
    );
    from.customer(
        "K1",
        "한빛무역",
        "김민준",
        "KR",
        "tags = [\"new\"]\n\n[[quotes]]\ndate = 2025-03-03\nproduct = \"Valve\"\namount = 10\ncurrency = \"KRW\"\n",
    );
    let to = team_repo();
    let out = roundtrip(&from, &to);
    assert!(
        out.ends_with("summary: 3 rows: 3 created, 0 updated, 0 skipped, 0 rejected\n"),
        "{out}"
    );
    // the file itself is the same, id included
    let p = "customers/jp/ying-hua-gong-ye--shan-tian-tai-lang--jp.toml";
    assert_eq!(to.read(p), from.read(p));
}

/// A workbook of folio's layout with a sheet and a column folio does not
/// know, and a row whose customer is not on the main sheet.
fn odd_workbook(path: &Path) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut wb = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let ws = wb.add_worksheet();
    ws.set_name("Customers").unwrap();
    for (i, h) in [
        "id", "name", "contact", "country", "tier", "stage", "created",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(0, i as u16, *h).unwrap();
    }
    for (r, row) in [
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
    ]
    .iter()
    .enumerate()
    {
        for (i, v) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, i as u16, *v).unwrap();
        }
    }
    let q = wb.add_worksheet();
    q.set_name("Quotes").unwrap();
    for (i, h) in [
        "customer_id",
        "customer",
        "date",
        "product",
        "amount",
        "currency",
        "discount",
        "notes",
    ]
    .iter()
    .enumerate()
    {
        q.write_string(0, i as u16, *h).unwrap();
    }
    let rows: [(&str, &str, u8, &str, f64, &str, &str); 3] = [
        ("A1", "Acme GmbH", 2, "Pump X", 1200.5, "EUR", "5%"),
        ("A1", "Acme GmbH", 9, "Pump Y", 300.0, "EUR", ""),
        ("Z9", "Zeta Ltd", 4, "Valve", 99.0, "USD", "10%"),
    ];
    for (r, (id, name, day, product, amount, currency, discount)) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        q.write_string(r, 0, *id).unwrap();
        q.write_string(r, 1, *name).unwrap();
        let d = ExcelDateTime::from_ymd(2025, 3, *day).unwrap();
        q.write_date_with_format(r, 2, &d, &date).unwrap();
        q.write_string(r, 3, *product).unwrap();
        q.write_number(r, 4, *amount).unwrap();
        q.write_string(r, 5, *currency).unwrap();
        if !discount.is_empty() {
            q.write_string(r, 6, *discount).unwrap();
        }
    }
    let n = wb.add_worksheet();
    n.set_name("Notes").unwrap();
    n.write_string(0, 0, "customer").unwrap();
    n.write_string(0, 1, "note").unwrap();
    for (r, (c, note)) in [("Acme GmbH", "wants a visit"), ("Baker Co", "call in May")]
        .iter()
        .enumerate()
    {
        n.write_string(r as u32 + 1, 0, *c).unwrap();
        n.write_string(r as u32 + 1, 1, *note).unwrap();
    }
    // an empty sheet holds nothing to lose
    wb.add_worksheet().set_name("Empty").unwrap();
    wb.save(path).unwrap();
}

#[test]
fn sheets_and_columns_it_cannot_carry_are_named_and_exit_1() {
    let t = TestRepo::new();
    odd_workbook(&t.path("odd.xlsx"));
    let (code, out, err) = run(t
        .folio()
        .args(["import", "odd.xlsx", "--as-of", AS_OF, "--ids", "seq:N"]));
    assert_eq!(err, "");
    assert_eq!(
        out,
        "read odd.xlsx (XLSX, sheet \"Customers\"): 2 rows
read sheet \"Quotes\" (quotes): 2 rows
mapping guessed from the headers (save it with --print-mapping, edit, and pass it with --map):
  # folio import mapping for odd.xlsx (guessed from the headers)
  # Edit and pass it back with `folio import FILE --map THIS_FILE`; see docs/import.md.
  [fields]
  id = \"id\"
  name = \"name\"
  contact = \"contact\"
  country = \"country\"
  tier = \"tier\"
  stage = \"stage\"
  created = \"created\"
created row 2: customers/de/acme-gmbh--ann-lee--de.toml (Acme GmbH-Ann Lee-DE)
created row 3: customers/us/baker-co--joe-baker--us.toml (Baker Co-Joe Baker-US)
not imported sheet \"Quotes\", column \"discount\", 2 rows: `quotes` has no field `discount` (fields: date, product, amount, currency, incoterm, status; a team's own field is declared in schema/*.toml as [fields.quotes.fields.discount])
not imported sheet \"Quotes\", 1 row: `customer_id` is on no row of sheet \"Customers\": \"Z9\"
not imported sheet \"Notes\", 2 rows: folio does not know this sheet (beside the customers it reads the sheets of its own export: Contacts, Quotes, Orders, Followups)
summary: 2 rows: 2 created, 0 updated, 0 skipped, 0 rejected
"
    );
    assert_eq!(code, 1);
    // what it could carry is there, with the id of the id column
    assert_eq!(
        t.read("customers/de/acme-gmbh--ann-lee--de.toml"),
        "id = \"A1\"\nname = \"Acme GmbH\"\ncontact = \"Ann Lee\"\ncountry = \"DE\"\ntier = \"B\"\nstage = \"contacted\"\ncreated = 2025-01-10\n\n[[quotes]]\ndate = 2025-03-02\nproduct = \"Pump X\"\namount = 1200.5\ncurrency = \"EUR\"\n\n[[quotes]]\ndate = 2025-03-09\nproduct = \"Pump Y\"\namount = 300.0\ncurrency = \"EUR\"\n"
    );
    // JSON names the same
    let (code, out, _) = run(t.folio().args([
        "import",
        "odd.xlsx",
        "--as-of",
        AS_OF,
        "--dry-run",
        "--format",
        "json",
    ]));
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["lists"],
        serde_json::json!([{"sheet": "Quotes", "list": "quotes", "rows": 2}])
    );
    assert_eq!(v["not_imported"].as_array().unwrap().len(), 3);
    assert_eq!(v["not_imported"][0]["column"], "discount");
    assert_eq!(v["not_imported"][0]["rows"], 2);
    assert_eq!(v["not_imported"][2]["sheet"], "Notes");
    assert_eq!(v["not_imported"][2]["column"], serde_json::Value::Null);
}

#[test]
fn a_bad_cell_on_a_list_sheet_rejects_its_customer_and_names_the_cell() {
    let from = TestRepo::new();
    from.customer(
        "A1",
        "Acme GmbH",
        "Ann Lee",
        "DE",
        "\n[[followups]]\ndate = 2025-02-03\nby = \"alice\"\nchannel = \"email\"\n",
    );
    from.customer(
        "B1",
        "Baker Co",
        "Joe Baker",
        "US",
        "\n[[followups]]\ndate = 2025-02-03\nby = \"zoe\"\nchannel = \"fax\"\n",
    );
    let (code, _, err) = run(from.folio().args([
        "export", "--format", "xlsx", "-o", "out.xlsx", "--as-of", AS_OF,
    ]));
    assert_eq!(code, 0, "{err}");
    let to = TestRepo::new();
    std::fs::copy(from.path("out.xlsx"), to.path("in.xlsx")).unwrap();
    let (code, out, _) = run(to.folio().args(["import", "in.xlsx", "--as-of", AS_OF]));
    assert_eq!(code, 1, "{out}");
    let rejected: Vec<&str> = out.lines().filter(|l| l.starts_with("rejected")).collect();
    assert_eq!(
        rejected,
        [
            "rejected row 3 (sheet \"Followups\" row 3), column \"channel\" (followups.channel): `followups[0].channel` is \"fax\", which is not allowed (allowed: \"email\", \"phone\", \"whatsapp\", \"wechat\", \"linkedin\", \"visit\", \"fair\", \"other\")",
            "rejected row 3 (sheet \"Followups\" row 3), column \"by\" (followups.by): `followups[0].by`: `zoe` is not in staff.toml (add the person to staff.toml or use an existing handle)",
        ],
        "{out}"
    );
    assert!(to.path("customers/de/acme-gmbh--ann-lee--de.toml").exists());
    assert!(
        !to.path("customers/us/baker-co--joe-baker--us.toml")
            .exists()
    );
}

#[test]
fn on_duplicate_update_adds_the_new_entries_of_a_workbook() {
    // the workbook: A1 with two quotes, a follow-up and a second contact
    let from = TestRepo::new();
    from.customer(
        "A1",
        "Acme GmbH",
        "Ann Lee",
        "DE",
        "city = \"Berlin\"\n\n[[contacts]]\nname = \"Ann Lee\"\nemail = \"ann@acme.de\"\n\n[[contacts]]\nname = \"Bernd Ott\"\nemail = \"bernd@acme.de\"\n\n[[quotes]]\ndate = 2025-02-01\nproduct = \"Pump X\"\namount = 1200.5\ncurrency = \"EUR\"\n\n[[quotes]]\ndate = 2025-04-01\nproduct = \"Pump Y\"\namount = 300.0\ncurrency = \"EUR\"\n\n[[followups]]\ndate = 2025-04-02\nby = \"alice\"\nchannel = \"email\"\nsummary = \"sent the quote\"\n",
    );
    let (code, _, err) = run(from.folio().args([
        "export", "--format", "xlsx", "-o", "out.xlsx", "--as-of", AS_OF,
    ]));
    assert_eq!(code, 0, "{err}");
    // the repository: the same customer (same id) with the first quote only
    let to = TestRepo::new();
    let path = to.customer(
        "A1",
        "Acme GmbH",
        "Ann Lee",
        "DE",
        "# a comment kept\n\n[[contacts]]\nname = \"Ann Lee\"\nemail = \"ann@acme.de\"\n\n[[quotes]]\ndate = 2025-02-01\nproduct = \"Pump X\"\namount = 1200.5\ncurrency = \"EUR\"\n",
    );
    std::fs::copy(from.path("out.xlsx"), to.path("in.xlsx")).unwrap();
    // skip (the default): the row duplicates the record by its id
    let (code, out, _) = run(to.folio().args(["import", "in.xlsx", "--as-of", AS_OF]));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!(
            "skipped row 2: duplicates {path} (Acme GmbH-Ann Lee-DE): same id: \"A1\"\n"
        )),
        "{out}"
    );
    // update: the new entries are added, the known ones not repeated
    let (code, out, _) = run(to.folio().args([
        "import",
        "in.xlsx",
        "--as-of",
        AS_OF,
        "--on-duplicate",
        "update",
    ]));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!(
            "updated {path} from row 2: filled city, contacts: +Bernd Ott, quotes: +1, followups: +1\n"
        )),
        "{out}"
    );
    assert_eq!(
        to.read(&path),
        "id = \"A1\"\nname = \"Acme GmbH\"\ncontact = \"Ann Lee\"\ncountry = \"DE\"\nowner = \"alice\"\ntier = \"B\"\nstage = \"contacted\"\ncreated = 2025-01-10\ncity = \"Berlin\"\n# a comment kept\n\n[[contacts]]\nname = \"Ann Lee\"\nemail = \"ann@acme.de\"\n\n[[contacts]]\nname = \"Bernd Ott\"\nemail = \"bernd@acme.de\"\n\n[[quotes]]\ndate = 2025-02-01\nproduct = \"Pump X\"\namount = 1200.5\ncurrency = \"EUR\"\n\n[[quotes]]\ndate = 2025-04-01\nproduct = \"Pump Y\"\namount = 300.0\ncurrency = \"EUR\"\n\n[[followups]]\ndate = 2025-04-02\nby = \"alice\"\nchannel = \"email\"\nsummary = \"sent the quote\"\n"
    );
    // once more: nothing new to add
    let (code, out, _) = run(to.folio().args([
        "import",
        "in.xlsx",
        "--as-of",
        AS_OF,
        "--on-duplicate",
        "update",
    ]));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("updated {path} from row 2: nothing to fill\n")),
        "{out}"
    );
}
