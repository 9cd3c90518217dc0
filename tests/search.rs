//! `folio search` and `folio index` through the command line: the matching
//! promises (accents, CJK, Cyrillic, Arabic, phones, e-mail domains, field
//! filters, the pool, dates), freshness after edits, renames and deletes,
//! broken records, crash safety (killed rebuilds, damaged files) and
//! concurrent processes.

mod common;
use common::{
    folio_at as folio, search_ids as ids, stderr_of as stderr, stdout_of as stdout,
    write_at as write,
};
use serde_json::Value;
use std::path::Path;

const STAFF: &str = "[staff.alice]\nname = \"Alice\"\nactive = true\n\n[staff.bob]\nname = \"Bob\"\nactive = true\n";

const ATLAS: &str = r#"id = "C1"
name = "Atlas Pump GmbH"
contact = "Hans Müller"
country = "DE"
owner = "alice"
tier = "A"
type = "key-account"
stage = "negotiating"
industry = "machinery"
group = "Atlas Group"
created = 2024-03-01
tags = ["vip", "comparing-competitors"]

[[contacts]]
name = "Hans Müller"
role = "Purchasing Manager"
email = "hans.mueller@atlas-pump.example"
phone = "+49 30 1234567"

[[followups]]
date = 2024-03-05
by = "alice"
channel = "email"
summary = "Customer comparing with a Shanghai supplier"
"#;

const BRIGHT: &str = r#"id = "C2"
name = "Bright Lighting Co., Ltd."
contact = "Li Wei"
country = "CN"
owner = "bob"
tier = "B"
stage = "prospect"
industry = "lighting"
created = 2025-02-10

[[contacts]]
name = "Li Wei"
email = "li.wei@bright.example"
phone = "+86 21 5555 0101"

[[followups]]
date = 2025-02-11
by = "bob"
channel = "wechat"
summary = "客户正在对比上海某供应商的报价"
"#;

const TOKYO: &str = r#"id = "C3"
name = "Tokyo Trading KK"
contact = "Yuki Tanaka"
country = "JP"
tier = "C"
stage = "contacted"
industry = "textiles"
created = 2025-06-01

[[contacts]]
name = "Yuki Tanaka"
email = "yuki@tokyo-trading.example"
phone = "+81 3-5555-0101"

[[followups]]
date = 2025-06-02
by = "alice"
channel = "email"
summary = "見積書を再送しました"
"#;

const VOLGA: &str = r#"id = "C4"
name = "Volga Machinery"
contact = "Иван Петров"
country = "RU"
owner = "alice"
tier = "B"
stage = "signed"
industry = "machinery"
created = 2024-12-31
tags = ["price-sensitive"]

[[contacts]]
name = "Иван Петров"
email = "ivan@volga.example"

[[followups]]
date = 2025-01-10
by = "alice"
channel = "phone"
summary = "Клиент запросил образцы"
"#;

const GULF: &str = r#"id = "C5"
name = "Gulf Foods LLC"
contact = "Ahmed Hassan"
country = "AE"
tier = "D"
stage = "prospect"
industry = "food"
created = 2025-01-01

[[contacts]]
name = "Ahmed Hassan"
email = "ahmed@sales.gulf-foods.example"
phone = "(971) 4-555-0199"

[[followups]]
date = 2025-01-02
by = "bob"
channel = "whatsapp"
summary = "العميل يطلب عرض سعر جديد"
"#;

const ATLAS_PATH: &str = "customers/de/atlas-pump-gmbh--hans-muller--de.toml";

fn fixture() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(d, "folio.toml", "# folio repository\n");
    write(d, "staff.toml", STAFF);
    write(d, ATLAS_PATH, ATLAS);
    write(d, "customers/cn/bright-lighting--li-wei--cn.toml", BRIGHT);
    write(
        d,
        "customers/jp/tokyo-trading-kk--yuki-tanaka--jp.toml",
        TOKYO,
    );
    write(
        d,
        "customers/ru/volga-machinery--ivan-petrov--ru.toml",
        VOLGA,
    );
    write(
        d,
        "customers/ae/gulf-foods-llc--ahmed-hassan--ae.toml",
        GULF,
    );
    t
}

#[test]
fn accents_and_case_do_not_matter() {
    let t = fixture();
    let d = t.path();
    assert_eq!(ids(d, "muller"), ["C1"]);
    assert_eq!(ids(d, "MÜLLER"), ["C1"]);
    assert_eq!(ids(d, "atlas pump"), ["C1"]);
    assert_eq!(ids(d, "contact:mueller"), Vec::<String>::new());
}

#[test]
fn chinese_and_japanese_by_any_run_of_characters() {
    let t = fixture();
    let d = t.path();
    assert_eq!(ids(d, "上海"), ["C2"]);
    assert_eq!(ids(d, "供应商"), ["C2"]);
    assert_eq!(ids(d, "对比上海某"), ["C2"]);
    assert_eq!(ids(d, "的报"), ["C2"]);
    // not a run of the text
    assert!(ids(d, "上供").is_empty());
    // one character: every text holding it
    assert_eq!(ids(d, "价"), ["C2"]);
    assert_eq!(ids(d, "再送"), ["C3"]);
    assert_eq!(ids(d, "見積書"), ["C3"]);
    // Latin text next to it still works by word
    assert_eq!(ids(d, "shanghai"), ["C1"]);
}

#[test]
fn cyrillic_and_arabic_by_word() {
    let t = fixture();
    let d = t.path();
    assert_eq!(ids(d, "образцы"), ["C4"]);
    assert_eq!(ids(d, "ИВАН"), ["C4"]);
    assert_eq!(ids(d, "contact:петров"), ["C4"]);
    assert!(ids(d, "образ").is_empty());
    assert_eq!(ids(d, "العميل"), ["C5"]);
    // harakat in the query are ignored
    assert_eq!(ids(d, "العَمِيل"), ["C5"]);
}

#[test]
fn phones_whatever_their_spacing() {
    let t = fixture();
    let d = t.path();
    assert_eq!(ids(d, "+49 30 123"), ["C1"]);
    assert_eq!(ids(d, "4930123"), ["C1"]);
    assert_eq!(ids(d, "+49-30-1234567"), ["C1"]);
    assert_eq!(ids(d, "phone:\"+49 (30) 12\""), ["C1"]);
    assert_eq!(ids(d, "phone:97145550199"), ["C5"]);
    assert_eq!(ids(d, "+81 3 5555"), ["C3"]);
    assert!(ids(d, "+49 31").is_empty());
    assert!(ids(d, "phone:4931").is_empty());
}

#[test]
fn emails_by_domain() {
    let t = fixture();
    let d = t.path();
    assert_eq!(ids(d, "email:atlas-pump.example"), ["C1"]);
    assert_eq!(ids(d, "email:@tokyo-trading.example"), ["C3"]);
    assert_eq!(ids(d, "email:Hans.Mueller@Atlas-Pump.example"), ["C1"]);
    // a parent domain of a sub-domain
    assert_eq!(ids(d, "email:gulf-foods.example"), ["C5"]);
    // free words find the domain too
    assert_eq!(ids(d, "bright.example"), ["C2"]);
    assert!(ids(d, "email:example").is_empty());
}

#[test]
fn field_filters() {
    let t = fixture();
    let d = t.path();
    assert_eq!(ids(d, "country:de"), ["C1"]);
    assert_eq!(ids(d, "tier:B"), ["C2", "C4"]);
    assert_eq!(ids(d, "tier:A,D"), ["C1", "C5"]);
    assert_eq!(ids(d, "stage:prospect"), ["C2", "C5"]);
    assert_eq!(ids(d, "owner:alice"), ["C1", "C4"]);
    assert_eq!(ids(d, "tag:vip"), ["C1"]);
    assert_eq!(ids(d, "tag:comparing-competitors"), ["C1"]);
    assert_eq!(ids(d, "industry:machinery"), ["C1", "C4"]);
    assert_eq!(ids(d, "group:\"atlas group\""), ["C1"]);
    assert_eq!(ids(d, "name:volga"), ["C4"]);
    assert_eq!(ids(d, "contact:tanaka"), ["C3"]);
    assert_eq!(ids(d, "type:key-account"), ["C1"]);
    assert_eq!(ids(d, "id:c5"), ["C5"]);
    // "machinery" is in C4's name too, but name: looks only at names
    assert_eq!(ids(d, "name:machinery"), ["C4"]);
    // boolean operators and groups
    assert_eq!(ids(d, "industry:machinery -owner:bob tier:B"), ["C4"]);
    assert_eq!(ids(d, "country:JP OR country:AE"), ["C3", "C5"]);
    assert_eq!(ids(d, "NOT (tier:A OR tier:B)"), ["C3", "C5"]);
    assert_eq!(ids(d, "\"comparing with a shanghai\""), ["C1"]);
    assert!(ids(d, "\"shanghai with\"").is_empty());
}

#[test]
fn owner_none_finds_the_pool() {
    let t = fixture();
    let d = t.path();
    assert_eq!(ids(d, "owner:none"), ["C3", "C5"]);
    assert_eq!(ids(d, "owner:none tier:D"), ["C5"]);
    assert_eq!(ids(d, "-owner:none"), ["C1", "C2", "C4"]);
}

#[test]
fn date_ranges() {
    let t = fixture();
    let d = t.path();
    assert_eq!(ids(d, "created:>=2025-01-01"), ["C2", "C3", "C5"]);
    assert_eq!(ids(d, "created:<2025-01-01"), ["C1", "C4"]);
    assert_eq!(ids(d, "created:>2025-01-01"), ["C2", "C3"]);
    assert_eq!(ids(d, "created:<=2024-12-31"), ["C1", "C4"]);
    assert_eq!(ids(d, "created:2024-12-31"), ["C4"]);
    assert_eq!(ids(d, "created:2025-02"), ["C2"]);
    assert_eq!(ids(d, "created:2024"), ["C1", "C4"]);
    assert_eq!(ids(d, "created:2024-06-01..2025-01-31"), ["C4", "C5"]);
    assert_eq!(ids(d, "followup:2025-01"), ["C4", "C5"]);
}

#[test]
fn human_output_and_json_shape() {
    let t = fixture();
    let d = t.path();
    let o = folio(d, &["search", "上海"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "Bright Lighting Co., Ltd.-Li Wei-CN  bob  B  prospect  customers/cn/bright-lighting--li-wei--cn.toml  客户正在对比**上海**某供应商的报价\n"
    );
    let o = folio(d, &["search", "owner:none", "tier:D"]);
    assert_eq!(
        stdout(&o),
        "Gulf Foods LLC-Ahmed Hassan-AE  (pool)  D  prospect  customers/ae/gulf-foods-llc--ahmed-hassan--ae.toml\n"
    );
    let o = folio(d, &["search", "muller", "--format", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let h = &v[0];
    let keys: Vec<&str> = h.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "id",
            "path",
            "display_name",
            "owner",
            "tier",
            "stage",
            "score",
            "snippet",
            "highlights"
        ]
    );
    assert_eq!(h["id"], "C1");
    assert_eq!(h["path"], ATLAS_PATH);
    assert_eq!(h["display_name"], "Atlas Pump GmbH-Hans Müller-DE");
    assert_eq!(h["owner"], "alice");
    assert_eq!(h["tier"], "A");
    assert_eq!(h["stage"], "negotiating");
    assert!(h["score"].as_f64().unwrap() > 0.0);
    assert_eq!(h["snippet"], "Hans Müller");
    assert_eq!(h["highlights"], serde_json::json!([[5, 11]]));
    // a pool customer's owner is null
    let o = folio(d, &["search", "owner:none", "--format", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["owner"], Value::Null);
    // ranking: a name match comes before a mention in a follow-up
    let o = folio(d, &["search", "machinery", "--format", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["id"], "C4");
}

#[test]
fn malformed_queries_are_usage_errors() {
    let t = fixture();
    let d = t.path();
    for (q, msg) in [
        ("\"open", "unclosed quote"),
        ("colour:red", "unknown field `colour:`"),
        ("(a b", "`(` without a matching `)`"),
        ("a OR", "`OR` needs something on both sides"),
        ("created:>=yesterday", "is not a date or range"),
        ("@@ --", "has nothing to search for"),
    ] {
        let o = folio(d, &["search", q]);
        assert_eq!(o.status.code(), Some(2), "{q}");
        let e = stderr(&o);
        assert!(
            e.contains("error: bad query: ") && e.contains(msg),
            "{q}: {e}"
        );
        assert!(stdout(&o).is_empty());
    }
}

#[test]
fn edit_then_search_is_fresh() {
    let t = fixture();
    let d = t.path();
    assert_eq!(ids(d, "shanghai"), ["C1"]);
    // edit in place, with the same size, immediately after indexing
    let edited = ATLAS.replace("Shanghai", "Shenzhen");
    assert_eq!(edited.len(), ATLAS.len());
    std::fs::write(d.join(ATLAS_PATH), &edited).unwrap();
    assert!(ids(d, "shanghai").is_empty());
    assert_eq!(ids(d, "shenzhen"), ["C1"]);
    // and once more, right away
    std::fs::write(d.join(ATLAS_PATH), ATLAS.replace("Shanghai", "Shantou!")).unwrap();
    assert!(ids(d, "shenzhen").is_empty());
    assert_eq!(ids(d, "shantou"), ["C1"]);
    // a new record is found at once
    write(
        d,
        "customers/de/new-co--max-muster--de.toml",
        "id = \"C9\"\nname = \"New Co\"\ncontact = \"Max Muster\"\ncountry = \"DE\"\ntier = \"C\"\nstage = \"prospect\"\n",
    );
    assert_eq!(ids(d, "country:de"), ["C1", "C9"]);
    let o = folio(d, &["index"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).starts_with("the search index is up to date: 6 records"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn index_reports_changes_renames_and_deletes() {
    let t = fixture();
    let d = t.path();
    let o = folio(d, &["index"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o),
        "rebuilt the search index because there is no index yet: 5 records (no git commit and the working tree)\n"
    );
    // rename a record file: the hit's path follows
    let new_path = "customers/de/atlas-pumps-gmbh--hans-muller--de.toml";
    std::fs::rename(d.join(ATLAS_PATH), d.join(new_path)).unwrap();
    let o = folio(d, &["search", "muller", "--format", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["path"], new_path);
    // delete one, modify one, add one: `folio index` says what it did
    std::fs::remove_file(d.join("customers/ru/volga-machinery--ivan-petrov--ru.toml")).unwrap();
    std::fs::write(
        d.join("customers/jp/tokyo-trading-kk--yuki-tanaka--jp.toml"),
        TOKYO.replace("Yuki", "Yoko").replace("yuki@", "yoko@"),
    )
    .unwrap();
    std::fs::rename(d.join(new_path), d.join(ATLAS_PATH)).unwrap();
    write(d, "customers/x/x.toml", &GULF.replace("C5", "C6"));
    let o = folio(d, &["index", "--format", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (
            &v["added"],
            &v["modified"],
            &v["renamed"],
            &v["deleted"],
            &v["records"]
        ),
        (&1.into(), &1.into(), &1.into(), &1.into(), &5.into())
    );
    assert!(ids(d, "образцы").is_empty());
    assert!(ids(d, "yuki").is_empty());
    assert_eq!(ids(d, "yoko"), ["C3"]);
    assert_eq!(ids(d, "ahmed"), ["C5", "C6"]);
    // deleting everything leaves an index that finds nothing
    std::fs::remove_dir_all(d.join("customers")).unwrap();
    assert!(ids(d, "ahmed").is_empty());
}

#[test]
fn broken_records_are_skipped_with_a_warning() {
    let t = fixture();
    let d = t.path();
    write(d, "customers/xx/broken.toml", "id = \"C7\"\nname = \n");
    let o = folio(d, &["search", "muller"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("Atlas Pump GmbH-Hans Müller-DE"));
    assert!(
        stderr(&o).contains(
            "warning: customers/xx/broken.toml does not parse and is left out of the search index (run `folio check customers/xx/broken.toml` for details)"
        ),
        "{}",
        stderr(&o)
    );
    // a record that stops parsing leaves the index: no stale hit
    std::fs::write(d.join(ATLAS_PATH), "id = \"C1\"\nname = \"Atlas\n").unwrap();
    let o = folio(d, &["search", "muller"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "");
    assert!(stderr(&o).contains(ATLAS_PATH));
    // fixed again: found again
    std::fs::write(d.join(ATLAS_PATH), ATLAS).unwrap();
    assert_eq!(ids(d, "muller"), ["C1"]);
}

/// The current index directory.
fn current_index(d: &Path) -> std::path::PathBuf {
    let name = std::fs::read_to_string(d.join(".folio/search/CURRENT")).unwrap();
    d.join(".folio/search").join(name.trim())
}

#[test]
fn damaged_index_is_rebuilt() {
    let t = fixture();
    let d = t.path();
    assert_eq!(ids(d, "muller"), ["C1"]);
    // a torn manifest
    let m = current_index(d).join("folio-manifest");
    let bytes = std::fs::read(&m).unwrap();
    std::fs::write(&m, &bytes[..bytes.len() / 2]).unwrap();
    std::fs::write(d.join(ATLAS_PATH), ATLAS.replace("Müller", "Schulz")).unwrap();
    let o = folio(d, &["search", "schulz"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("Atlas Pump GmbH-Hans Schulz-DE"));
    assert!(
        stderr(&o).contains("note: building the search index (the index is damaged: its manifest is missing or damaged)"),
        "{}",
        stderr(&o)
    );
    // tantivy's own metadata gone
    std::fs::remove_file(current_index(d).join("meta.json")).unwrap();
    assert_eq!(ids(d, "schulz"), ["C1"]);
    // a pointer to nowhere
    std::fs::write(d.join(".folio/search/CURRENT"), "idx-gone\n").unwrap();
    assert_eq!(ids(d, "schulz"), ["C1"]);
    // a segment file truncated
    let dir = current_index(d);
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "idx" || x == "store") {
            std::fs::write(&p, b"garbage").unwrap();
        }
    }
    assert_eq!(ids(d, "schulz"), ["C1"]);
    assert!(ids(d, "muller").is_empty());
    // only one index directory is left
    let dirs = std::fs::read_dir(d.join(".folio/search"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("idx-")
        })
        .count();
    assert_eq!(dirs, 1);
}

fn many(d: &Path, n: usize) {
    write(d, "folio.toml", "# folio repository\n");
    write(d, "staff.toml", STAFF);
    for i in 0..n {
        write(
            d,
            &format!("customers/c{}/rec-{i}.toml", i % 7),
            &format!(
                "id = \"C{i}\"\nname = \"Company {i} Trading\"\ncontact = \"Person {i}\"\ncountry = \"DE\"\ntier = \"B\"\nstage = \"prospect\"\n\n[[followups]]\ndate = 2025-01-02\nsummary = \"zebra token{i} 客户正在对比上海某供应商的报价\"\n"
            ),
        );
    }
}

fn count(d: &Path, q: &str) -> usize {
    ids(d, q).len()
}

/// Killed at every step of a full rebuild and of an update (the fault
/// points, not timers: each kill lands exactly where it is named), the
/// index never answers wrongly afterwards.
#[test]
fn killed_index_never_serves_wrong_results() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let n = 1500;
    many(d, n);
    assert_eq!(folio(d, &["index"]).status.code(), Some(0));
    let points: [(&[&str], &str); 7] = [
        (&["index", "--full"], "index-rebuild:docs"),
        (&["index", "--full"], "index-rebuild:committed"),
        (&["index", "--full"], "index-rebuild:manifest"),
        (&["index", "--full"], "index-rebuild:switched"),
        (&["index"], "index-update:docs"),
        (&["index"], "index-update:committed"),
        (&["index"], "index-update:compacted"),
    ];
    for (round, (args, point)) in points.iter().enumerate() {
        let round = round + 1;
        // change a record so that a stale index would answer wrongly
        let rel = format!("customers/c{}/rec-{round}.toml", round % 7);
        let text = std::fs::read_to_string(d.join(&rel)).unwrap();
        std::fs::write(
            d.join(&rel),
            text.replace("zebra", &format!("okapi{round}")),
        )
        .unwrap();
        let out = common::folio_std()
            .args(*args)
            .current_dir(d)
            .env("FOLIO_TX_FAULT", point)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), None, "killed at {point}");
        assert_eq!(count(d, "zebra"), n - round, "after a kill at {point}");
        assert_eq!(ids(d, &format!("okapi{round}")), [format!("C{round}")]);
        assert_eq!(count(d, "上海"), n);
    }
}

#[test]
fn concurrent_processes_neither_corrupt_nor_fail() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let n = 800;
    many(d, n);
    let spawn = |args: &[&str]| common::folio_std().args(args).current_dir(d).output();
    std::thread::scope(|s| {
        let mut handles = Vec::new();
        for i in 0..6 {
            let args: Vec<&str> = match i % 3 {
                0 => vec!["index", "--full"],
                1 => vec!["index"],
                _ => vec!["search", "zebra", "--format", "json", "--limit", "5000"],
            };
            let spawn = &spawn;
            handles.push(s.spawn(move || (args.clone(), spawn(&args).unwrap())));
        }
        for h in handles {
            let (args, o) = h.join().unwrap();
            assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
            if args[0] == "search" {
                let v: Value = serde_json::from_slice(&o.stdout).unwrap();
                assert_eq!(v.as_array().unwrap().len(), n);
            }
        }
    });
    assert_eq!(count(d, "zebra"), n);
}

#[test]
fn no_refresh_answers_from_the_index_as_it_is() {
    let t = fixture();
    let d = t.path();
    // no index yet: it is built even with --no-refresh
    let o = folio(
        d,
        &["search", "--no-refresh", "shanghai", "--format", "json"],
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["id"], "C1");
    std::fs::write(d.join(ATLAS_PATH), ATLAS.replace("Shanghai", "Shenzhen")).unwrap();
    // the edit is not seen without a refresh...
    let o = folio(d, &["search", "--no-refresh", "shenzhen"]);
    assert_eq!(stdout(&o), "");
    // ...and is with one
    assert_eq!(ids(d, "shenzhen"), ["C1"]);
}

/// Write `text` into the existing file in place (same inode, no rename, so
/// the folder's mtime does not change), then set the file's mtime to `mtime`.
fn write_in_place(p: &Path, text: &str, mtime: std::time::SystemTime) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(p)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f.set_modified(mtime).unwrap();
}

fn mtime(p: &Path) -> std::time::SystemTime {
    std::fs::metadata(p).unwrap().modified().unwrap()
}

#[test]
fn in_place_edits_are_seen_whatever_their_times() {
    let t = fixture();
    let d = t.path();
    let p = d.join(ATLAS_PATH);
    let folder = p.parent().unwrap().to_path_buf();
    // an old mtime: the file is not "racy" when indexed
    let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
    std::fs::File::options()
        .write(true)
        .open(&p)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let folder_mtime = mtime(&folder);
    assert_eq!(ids(d, "shanghai"), ["C1"]);
    // same size, same inode, mtime put back (as `touch -d` or a sync tool
    // would): only the change time tells
    let edited = ATLAS.replace("Shanghai", "Shenzhen");
    assert_eq!(edited.len(), ATLAS.len());
    write_in_place(&p, &edited, old);
    assert_eq!(mtime(&p), old);
    assert_eq!(mtime(&folder), folder_mtime);
    assert!(ids(d, "shanghai").is_empty());
    assert_eq!(ids(d, "shenzhen"), ["C1"]);
    // a different size with the mtime put back again
    write_in_place(&p, &ATLAS.replace("Shanghai", "Guangzhou"), old);
    assert_eq!(mtime(&p), old);
    assert_eq!(mtime(&folder), folder_mtime);
    assert!(ids(d, "shenzhen").is_empty());
    assert_eq!(ids(d, "guangzhou"), ["C1"]);
    // the index knows the file's new state: nothing left to update
    let o = folio(d, &["index", "--format", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((&v["full"], &v["modified"]), (&false.into(), &0.into()));
}

#[test]
fn a_touched_file_is_no_change_and_folders_can_move() {
    let t = fixture();
    let d = t.path();
    assert_eq!(ids(d, "shanghai"), ["C1"]);
    // same content, new mtime: no change to report
    let later = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
    write_in_place(&d.join(ATLAS_PATH), ATLAS, later);
    let o = folio(d, &["index", "--format", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((&v["full"], &v["modified"]), (&false.into(), &0.into()));
    assert_eq!(ids(d, "shanghai"), ["C1"]);
    // a whole folder removed, another added
    std::fs::rename(d.join("customers/jp"), d.join("customers/jp2")).unwrap();
    let o = folio(d, &["index", "--format", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((&v["renamed"], &v["records"]), (&1.into(), &5.into()));
    let o = folio(d, &["search", "tanaka", "--format", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v[0]["path"],
        "customers/jp2/tokyo-trading-kk--yuki-tanaka--jp.toml"
    );
}
