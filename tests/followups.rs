//! The follow-up SOP through the command line: `folio due` (every rule, tie
//! breaking, human/JSON/CSV/ICS output, CI exit status), `folio followup`
//! (byte-preserving append, validation, ambiguity), `folio tags`, and
//! `folio review`.

mod common;

use assert_cmd::Command;
use std::path::Path;
use tempfile::TempDir;

const AS_OF: &str = "2026-03-01";

fn folio(dir: &Path) -> Command {
    let mut c = common::folio_cmd();
    c.current_dir(dir);
    c
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[allow(clippy::too_many_arguments)]
fn record(
    id: &str,
    name: &str,
    owner: Option<&str>,
    tier: &str,
    stage: &str,
    created: &str,
    rest: &str,
) -> String {
    let owner = owner
        .map(|o| format!("owner = \"{o}\"\n"))
        .unwrap_or_default();
    format!(
        "id = \"{id}\"\nname = \"{name}\"\ncontact = \"Jo Doe\"\ncountry = \"DE\"\n{owner}tier = \"{tier}\"\nstage = \"{stage}\"\ncreated = {created}\n{rest}"
    )
}

fn fu(date: &str, replied: bool, extra: &str) -> String {
    format!(
        "\n[[followups]]\ndate = {date}\nby = \"alice\"\nchannel = \"email\"\nsummary = \"Sent quote\"\nreplied = {replied}\n{extra}"
    )
}

const CONFIG: &str = r#"# settings
[[tag_rules]]
keywords = ["comparing", "other supplier", "对比", "报价"]
tag = "comparing-competitors"
advice = "stress QC certification and after-sales service"
"#;

const STAFF: &str = "[staff.alice]\nname = \"Alice Wang\"\n\n[staff.bob]\nname = \"Bob Li\"\n";

/// One record per rule, at as-of 2026-03-01.
fn fixture() -> TempDir {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(d, "folio.toml", CONFIG);
    write(d, "staff.toml", STAFF);
    let recs = [
        // 1. lost and tier E: nothing due
        (
            "lost",
            record(
                "LOST",
                "Lost Co",
                Some("alice"),
                "B",
                "lost",
                "2025-01-01",
                "lost_reason = \"price\"\nnext_followup = 2026-01-01\n",
            ),
        ),
        (
            "tiere",
            record(
                "TIERE",
                "Dead Co",
                Some("alice"),
                "E",
                "contacted",
                "2025-01-01",
                "",
            ),
        ),
        // 2. next_followup set: 9 days overdue
        (
            "nextfu",
            record(
                "NEXTFU",
                "Planned Co",
                Some("alice"),
                "C",
                "negotiating",
                "2025-01-01",
                &format!("next_followup = 2026-02-20\n{}", fu("2026-02-27", true, "")),
            ),
        ),
        // 3. no follow-ups: created + 3 = 2026-02-28, 1 day overdue
        (
            "first",
            record(
                "FIRST",
                "New Co",
                Some("alice"),
                "B",
                "prospect",
                "2026-02-25",
                "",
            ),
        ),
        // 4a. latest has next: due 2026-03-05, in 4 days
        (
            "next",
            record(
                "NEXT",
                "Next Co",
                Some("alice"),
                "A",
                "contacted",
                "2025-01-01",
                &fu("2026-02-26", true, "next = 2026-03-05\n"),
            ),
        ),
        // 4b. no reply: 2026-02-15 + 7 = 02-22, 7 days overdue
        (
            "noreply",
            record(
                "NOREPLY",
                "Silent Co",
                Some("bob"),
                "C",
                "contacted",
                "2025-01-01",
                &fu("2026-02-15", false, ""),
            ),
        ),
        // 4c. cadence A 7: 02-10 + 7 = 02-17, 12 overdue
        (
            "cada",
            record(
                "CADA",
                "Alpha Co",
                Some("bob"),
                "A",
                "negotiating",
                "2025-01-01",
                &fu("2026-02-10", true, ""),
            ),
        ),
        // cadence B 14: 02-01 + 14 = 02-15, 14 overdue
        (
            "cadb",
            record(
                "CADB",
                "Beta Co",
                Some("bob"),
                "B",
                "negotiating",
                "2025-01-01",
                &fu("2026-02-01", true, ""),
            ),
        ),
        // cadence C 30: 01-20 + 30 = 02-19, 10 overdue
        (
            "cadc",
            record(
                "CADC",
                "Gamma Co",
                Some("bob"),
                "C",
                "signed",
                "2025-01-01",
                &fu("2026-01-20", true, ""),
            ),
        ),
        // cadence D 90: 2025-12-01 + 90 = 2026-03-01, due today
        (
            "cadd",
            record(
                "CADD",
                "Delta Co",
                Some("bob"),
                "D",
                "contacted",
                "2025-01-01",
                &fu("2025-12-01", true, ""),
            ),
        ),
        // tie: two on 02-20, the later in the file (replied, tier B) wins:
        // cadence 02-20 + 14 = 03-06 (in 5 days), not no-reply 02-27.
        // An older follow-up last in the file does not count.
        (
            "tie",
            record(
                "TIE",
                "Tie Co",
                Some("alice"),
                "B",
                "contacted",
                "2025-01-01",
                &format!(
                    "{}{}{}",
                    fu("2026-02-20", false, ""),
                    fu("2026-02-20", true, ""),
                    fu("2026-01-02", false, "")
                ),
            ),
        ),
        // pool customer, with a summary that triggers a tag hint
        (
            "pool",
            record(
                "POOL",
                "Pool Co",
                None,
                "C",
                "contacted",
                "2025-01-01",
                "\n[[followups]]\ndate = 2026-02-01\nby = \"bob\"\nchannel = \"wechat\"\nsummary = \"客户正在对比上海供应商的报价\"\nreplied = false\n",
            ),
        ),
        // not due yet: D cadence from 2026-02-01
        (
            "later",
            record(
                "LATER",
                "Later Co",
                Some("alice"),
                "D",
                "contacted",
                "2025-01-01",
                &fu("2026-02-01", true, ""),
            ),
        ),
    ];
    for (f, text) in recs {
        write(d, &format!("customers/de/{f}.toml"), &text);
    }
    t
}

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let o = folio(dir).args(args).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
    )
}

#[test]
fn due_human_lists_every_rule_grouped_by_owner() {
    let t = fixture();
    let (code, out, err) = run(t.path(), &["due", "--as-of", AS_OF]);
    assert_eq!(err, "");
    assert_eq!(code, 0);
    let want = "\
alice (Alice Wang): 2 overdue, 2 due soon
  9 days overdue    2026-02-20  Planned Co-Jo Doe-DE  [C, negotiating]
      why:  next_followup is set on the record
      file: customers/de/nextfu.toml
  1 day overdue     2026-02-28  New Co-Jo Doe-DE  [B, prospect]
      why:  new customer without a follow-up: first contact within 3 days of created (2026-02-25)
      file: customers/de/first.toml
  due in 4 days     2026-03-05  Next Co-Jo Doe-DE  [A, contacted]
      why:  planned by the follow-up of 2026-02-26 (next)
      file: customers/de/next.toml
  due in 5 days     2026-03-06  Tie Co-Jo Doe-DE  [B, contacted]
      why:  tier B cadence: 14 days after the follow-up of 2026-02-20
      file: customers/de/tie.toml

bob (Bob Li): 4 overdue, 1 due soon
  14 days overdue   2026-02-15  Beta Co-Jo Doe-DE  [B, negotiating]
      why:  tier B cadence: 14 days after the follow-up of 2026-02-01
      file: customers/de/cadb.toml
  12 days overdue   2026-02-17  Alpha Co-Jo Doe-DE  [A, negotiating]
      why:  tier A cadence: 7 days after the follow-up of 2026-02-10
      file: customers/de/cada.toml
  10 days overdue   2026-02-19  Gamma Co-Jo Doe-DE  [C, signed]
      why:  tier C cadence: 30 days after the follow-up of 2026-01-20
      file: customers/de/cadc.toml
  7 days overdue    2026-02-22  Silent Co-Jo Doe-DE  [C, contacted]
      why:  no reply to the follow-up of 2026-02-15: second follow-up 7 days later
      file: customers/de/noreply.toml
  due today         2026-03-01  Delta Co-Jo Doe-DE  [D, contacted]
      why:  tier D cadence: 90 days after the follow-up of 2025-12-01
      file: customers/de/cadd.toml

public pool (no owner): 1 overdue
  21 days overdue   2026-02-08  Pool Co-Jo Doe-DE  [C, contacted]
      why:  no reply to the follow-up of 2026-02-01: second follow-up 7 days later
      file: customers/de/pool.toml
      hint: tag comparing-competitors (\"对比\" on 2026-02-01): stress QC certification and after-sales service

7 overdue, 3 due within 7 days (as of 2026-03-01)
run `folio tags --apply` to add the hinted tags
";
    assert_eq!(out, want);
}

#[derive(serde::Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct JsonItem {
    id: String,
    path: String,
    display_name: String,
    owner: Option<String>,
    tier: String,
    stage: String,
    due: String,
    days_overdue: i64,
    rule: String,
    reason: String,
    hints: Vec<JsonHint>,
}

#[derive(serde::Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct JsonHint {
    tag: String,
    advice: String,
    keyword: String,
    date: Option<String>,
}

#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct JsonReport {
    as_of: String,
    within_days: i64,
    overdue: usize,
    due_soon: usize,
    items: Vec<JsonItem>,
    skipped: Vec<String>,
}

#[test]
fn due_json_has_the_documented_shape() {
    let t = fixture();
    let (code, out, _) = run(t.path(), &["due", "--as-of", AS_OF, "--format", "json"]);
    assert_eq!(code, 0);
    let r: JsonReport = serde_json::from_str(&out).unwrap();
    assert_eq!((r.as_of.as_str(), r.within_days), (AS_OF, 7));
    assert_eq!((r.overdue, r.due_soon), (7, 3));
    assert!(r.skipped.is_empty());
    let got: Vec<(&str, &str, i64, &str)> = r
        .items
        .iter()
        .map(|i| {
            (
                i.id.as_str(),
                i.due.as_str(),
                i.days_overdue,
                i.rule.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("NEXTFU", "2026-02-20", 9, "next_followup"),
            ("FIRST", "2026-02-28", 1, "first_contact"),
            ("NEXT", "2026-03-05", -4, "planned_next"),
            ("TIE", "2026-03-06", -5, "cadence"),
            ("CADB", "2026-02-15", 14, "cadence"),
            ("CADA", "2026-02-17", 12, "cadence"),
            ("CADC", "2026-02-19", 10, "cadence"),
            ("NOREPLY", "2026-02-22", 7, "no_reply"),
            ("CADD", "2026-03-01", 0, "cadence"),
            ("POOL", "2026-02-08", 21, "no_reply"),
        ]
    );
    let pool = r.items.last().unwrap();
    assert_eq!(pool.owner, None);
    assert_eq!(pool.path, "customers/de/pool.toml");
    assert_eq!(pool.display_name, "Pool Co-Jo Doe-DE");
    assert_eq!(
        (pool.tier.as_str(), pool.stage.as_str()),
        ("C", "contacted")
    );
    assert!(pool.reason.starts_with("no reply"));
    assert_eq!(
        pool.hints,
        [JsonHint {
            tag: "comparing-competitors".into(),
            advice: "stress QC certification and after-sales service".into(),
            keyword: "对比".into(),
            date: Some("2026-02-01".into()),
        }]
    );
}

#[test]
fn due_filters_and_ci_exit_status() {
    let t = fixture();
    let d = t.path();
    let (code, out, _) = run(
        d,
        &[
            "due",
            "--as-of",
            AS_OF,
            "--fail-on-overdue",
            "--format",
            "csv",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(out.lines().count(), 11);
    let (code, out, _) = run(
        d,
        &[
            "due",
            "--as-of",
            AS_OF,
            "--owner",
            "bob",
            "--overdue-only",
            "--format",
            "csv",
        ],
    );
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "id,path,display_name,owner,tier,stage,due,days_overdue,rule\n\
CADB,customers/de/cadb.toml,Beta Co-Jo Doe-DE,bob,B,negotiating,2026-02-15,14,cadence\n\
CADA,customers/de/cada.toml,Alpha Co-Jo Doe-DE,bob,A,negotiating,2026-02-17,12,cadence\n\
CADC,customers/de/cadc.toml,Gamma Co-Jo Doe-DE,bob,C,signed,2026-02-19,10,cadence\n\
NOREPLY,customers/de/noreply.toml,Silent Co-Jo Doe-DE,bob,C,contacted,2026-02-22,7,no_reply\n"
    );
    let (_, out, _) = run(d, &["due", "--as-of", AS_OF, "--pool", "--format", "csv"]);
    assert_eq!(
        out.lines().nth(1).unwrap(),
        "POOL,customers/de/pool.toml,Pool Co-Jo Doe-DE,,C,contacted,2026-02-08,21,no_reply"
    );
    // --within 0 keeps only what is due today or overdue; a far window reaches LATER
    let (_, out, _) = run(
        d,
        &["due", "--as-of", AS_OF, "--within", "0", "--format", "csv"],
    );
    assert_eq!(out.lines().count(), 1 + 8);
    let (_, out, _) = run(
        d,
        &[
            "due", "--as-of", AS_OF, "--within", "100", "--format", "csv",
        ],
    );
    assert!(out.contains("LATER,customers/de/later.toml"));
    assert!(!out.contains("LOST") && !out.contains("TIERE"));
    // nothing overdue at an early date: exit 0 with --fail-on-overdue
    let (code, out, _) = run(
        d,
        &[
            "due",
            "--as-of",
            "2026-01-01",
            "--owner",
            "alice",
            "--fail-on-overdue",
            "--overdue-only",
        ],
    );
    assert_eq!(
        (code, out.as_str()),
        (0, "ok: nothing overdue (as of 2026-01-01)\n")
    );
    let (code, _, err) = run(d, &["due", "--as-of", AS_OF, "--owner", "alic"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("not in staff.toml") && err.contains("did you mean `alice`"),
        "{err}"
    );
}

#[test]
fn due_skips_unparsable_records_with_a_warning() {
    let t = fixture();
    write(
        t.path(),
        "customers/de/broken.toml",
        "id = \"X\"\nname = \n",
    );
    let (code, out, err) = run(t.path(), &["due", "--as-of", AS_OF, "--format", "csv"]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 11);
    assert_eq!(
        err,
        "warning: skipped customers/de/broken.toml: it cannot be parsed (run `folio check customers/de/broken.toml`)\n"
    );
}

/// A minimal RFC 5545 reader: unfold, split properties, unescape TEXT.
fn parse_ics(s: &str) -> Vec<Vec<(String, String)>> {
    assert!(!s.replace("\r\n", "").contains('\n'), "bare LF in ICS");
    for l in s.split("\r\n") {
        assert!(l.len() <= 75, "line longer than 75 octets: {l:?}");
    }
    let unfolded = s.replace("\r\n ", "").replace("\r\n\t", "");
    let mut events = Vec::new();
    let mut cur: Option<Vec<(String, String)>> = None;
    let mut lines = unfolded.split("\r\n").filter(|l| !l.is_empty());
    assert_eq!(lines.next(), Some("BEGIN:VCALENDAR"));
    let mut ended = false;
    for l in lines {
        let (name, value) = l.split_once(':').expect("a property");
        match (name, value) {
            ("BEGIN", "VEVENT") => cur = Some(Vec::new()),
            ("END", "VEVENT") => events.push(cur.take().expect("open event")),
            ("END", "VCALENDAR") => ended = true,
            _ => {
                if let Some(e) = cur.as_mut() {
                    let mut v = String::new();
                    let mut chars = value.chars();
                    while let Some(c) = chars.next() {
                        if c == '\\' {
                            match chars.next() {
                                Some('n') | Some('N') => v.push('\n'),
                                Some(x) => v.push(x),
                                None => {}
                            }
                        } else {
                            v.push(c);
                        }
                    }
                    e.push((name.to_string(), v));
                }
            }
        }
    }
    assert!(ended);
    events
}

#[test]
fn due_ics_reads_back_as_one_all_day_event_per_item() {
    let t = fixture();
    // a long, comma-laden CJK name to exercise folding and escaping
    write(
        t.path(),
        "customers/cn/long.toml",
        &record(
            "LONG",
            "上海某某进出口贸易有限公司, 第二分公司; 华东区域销售中心",
            Some("alice"),
            "B",
            "prospect",
            "2026-02-27",
            "",
        ),
    );
    let (code, out, _) = run(t.path(), &["due", "--as-of", AS_OF, "--format", "ics"]);
    assert_eq!(code, 0);
    let events = parse_ics(&out);
    assert_eq!(events.len(), 11);
    let get = |e: &Vec<(String, String)>, k: &str| {
        e.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let uids: std::collections::HashSet<String> = events.iter().map(|e| get(e, "UID")).collect();
    assert_eq!(uids.len(), 11);
    let long = events
        .iter()
        .find(|e| get(e, "UID") == "LONG-20260302@folio")
        .expect("the long event");
    assert_eq!(get(long, "DTSTART;VALUE=DATE"), "20260302");
    assert_eq!(get(long, "DTEND;VALUE=DATE"), "20260303");
    assert_eq!(get(long, "DTSTAMP"), "20260301T000000Z");
    assert_eq!(
        get(long, "SUMMARY"),
        "Follow up 上海某某进出口贸易有限公司, 第二分公司; 华东区域销售中心-Jo Doe-DE (alice)"
    );
    let desc = get(long, "DESCRIPTION");
    assert!(desc.contains("(first_contact)"), "{desc}");
    assert!(
        desc.contains("\nRecord: customers/cn/long.toml\n"),
        "{desc}"
    );
    // deterministic: the same as-of gives the same bytes
    let (_, again, _) = run(t.path(), &["due", "--as-of", AS_OF, "--format", "ics"]);
    assert_eq!(out, again);
}

const COMMENTED: &str = "# Customer record — keep comments!\nid = \"CMT1\"\nname = \"Comment Trading\"   # legal name\ncontact = \"Jo Doe\"\ncountry = \"DE\"\nowner = \"alice\"\ntier = \"B\"\nstage = \"contacted\"\ncreated = 2025-06-01\n\n# first contact at the fair\n[[followups]]\ndate = 2025-06-02\nby = \"alice\"\nchannel = \"fair\"\nsummary = \"Met at Canton Fair\"   # booth 12.1\nreplied = true\n\n\n# consent was given in writing\n[consent]\ndate = 2025-06-02\npurpose = \"sales\"\n";

#[test]
fn followup_appends_and_keeps_every_other_byte() {
    let t = fixture();
    let d = t.path();
    write(d, "customers/de/comment.toml", COMMENTED);
    let (code, out, err) = run(
        d,
        &[
            "followup",
            "CMT1",
            "--channel",
            "email",
            "--summary",
            "Sent \"revised\" quote",
            "--next",
            "2026-03-10",
            "--as-of",
            AS_OF,
        ],
    );
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    assert_eq!(
        out,
        "logged the email follow-up of 2026-03-01 by alice in customers/de/comment.toml (Comment Trading-Jo Doe-DE)\n\
next follow-up due 2026-03-10: planned by the follow-up of 2026-03-01 (next)\n"
    );
    let after = std::fs::read_to_string(d.join("customers/de/comment.toml")).unwrap();
    let at = COMMENTED.find("\n\n\n# consent").unwrap() + 1;
    let want = format!(
        "{}\n[[followups]]\ndate = 2026-03-01\nby = \"alice\"\nchannel = \"email\"\nsummary = \"Sent \\\"revised\\\" quote\"\nreplied = false\nnext = 2026-03-10\n{}",
        &COMMENTED[..at],
        &COMMENTED[at..]
    );
    assert_eq!(after, want);
    // the record is still clean for `folio check`, and due sees the new follow-up
    let (_, out, _) = run(
        d,
        &["due", "--as-of", AS_OF, "--format", "csv", "--within", "30"],
    );
    assert!(out.contains("CMT1,customers/de/comment.toml,Comment Trading-Jo Doe-DE,alice,B,contacted,2026-03-10,-9,planned_next"), "{out}");
}

#[test]
fn followup_handles_crlf_and_a_missing_final_newline() {
    let t = fixture();
    let d = t.path();
    let text = record(
        "CRLF1",
        "Crlf Co",
        Some("bob"),
        "C",
        "contacted",
        "2025-06-01",
        "",
    )
    .trim_end()
    .replace('\n', "\r\n");
    write(d, "customers/de/crlf.toml", &text);
    let (code, _, err) = run(
        d,
        &[
            "followup",
            "customers/de/crlf.toml",
            "--channel",
            "phone",
            "--summary",
            "Called",
            "--replied",
            "--date",
            "2026-02-27",
            "--by",
            "alice",
            "--as-of",
            AS_OF,
        ],
    );
    assert_eq!((code, err.as_str()), (0, ""));
    let after = std::fs::read_to_string(d.join("customers/de/crlf.toml")).unwrap();
    assert_eq!(
        after,
        format!(
            "{text}\r\n\r\n[[followups]]\r\ndate = 2026-02-27\r\nby = \"alice\"\r\nchannel = \"phone\"\r\nsummary = \"Called\"\r\nreplied = true\r\n"
        )
    );
}

#[test]
fn followup_refuses_bad_input_and_changes_nothing() {
    let t = fixture();
    let d = t.path();
    write(d, "customers/de/comment.toml", COMMENTED);
    let before = std::fs::read(d.join("customers/de/comment.toml")).unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["--channel", "emal"], "did you mean `email`?"),
        (
            &["--channel", "email", "--by", "carol"],
            "`carol` is not in staff.toml",
        ),
        (
            &[
                "--channel",
                "email",
                "--date",
                "2026-02-20",
                "--next",
                "2026-02-19",
            ],
            "--next 2026-02-19 is before the follow-up's date 2026-02-20",
        ),
        (
            &["--channel", "email", "--date", "2026-03-02"],
            "is after today",
        ),
        (
            &["--channel", "email", "--date", "2025-05-01"],
            "before the record was created",
        ),
    ];
    for (extra, msg) in cases {
        let mut args = vec!["followup", "CMT1", "--summary", "x", "--as-of", AS_OF];
        args.extend_from_slice(extra);
        let (code, out, err) = run(d, &args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(msg), "{args:?}: {err}");
        assert_eq!(
            std::fs::read(d.join("customers/de/comment.toml")).unwrap(),
            before
        );
    }
    // a pool customer needs --by
    let (code, _, err) = run(
        d,
        &[
            "followup",
            "POOL",
            "--channel",
            "email",
            "--summary",
            "x",
            "--as-of",
            AS_OF,
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("public pool"), "{err}");
}

#[test]
fn followup_search_must_match_exactly_one_record() {
    let t = fixture();
    let d = t.path();
    let (code, _, err) = run(
        d,
        &[
            "followup",
            "ta Co",
            "--channel",
            "email",
            "--summary",
            "x",
            "--as-of",
            AS_OF,
        ],
    );
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: `ta Co` matches 2 customers:\n  customers/de/cadb.toml  (Beta Co-Jo Doe-DE)\n  customers/de/cadd.toml  (Delta Co-Jo Doe-DE)\nhint: give the id or the path of the one you mean\n"
    );
    let (code, _, err) = run(
        d,
        &[
            "followup",
            "nobody",
            "--channel",
            "email",
            "--summary",
            "x",
            "--as-of",
            AS_OF,
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("no customer matches `nobody`"), "{err}");
    // a unique search works, and the path from a subfolder too
    let (code, out, _) = run(
        &d.join("customers"),
        &[
            "followup",
            "de/cadb.toml",
            "--channel",
            "email",
            "--summary",
            "x",
            "--replied",
            "--as-of",
            AS_OF,
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("customers/de/cadb.toml (Beta Co-Jo Doe-DE)"),
        "{out}"
    );
    assert!(out.contains("next follow-up due 2026-03-15"), "{out}");
}

fn git_init(dir: &Path) -> git2::Repository {
    let repo = git2::Repository::init(dir).unwrap();
    {
        let mut cfg = repo.config().unwrap();
        cfg.set_str("user.name", "Test").unwrap();
        cfg.set_str("user.email", "test@example.com").unwrap();
    }
    repo
}

/// Commit the given paths (all when empty) at a pinned time.
fn commit_at(repo: &git2::Repository, paths: &[&str], secs: i64, msg: &str) -> git2::Oid {
    let mut index = repo.index().unwrap();
    if paths.is_empty() {
        index
            .add_all(["*"].iter(), git2::IndexAddOption::DEFAULT, None)
            .unwrap();
    } else {
        for p in paths {
            index.add_path(Path::new(p)).unwrap();
        }
    }
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::new("Test", "test@example.com", &git2::Time::new(secs, 0)).unwrap();
    let parents: Vec<git2::Commit> = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .into_iter()
        .collect();
    let parents: Vec<&git2::Commit> = parents.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, msg, &tree, &parents)
        .unwrap()
}

fn day(s: &str) -> i64 {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp()
}

#[test]
fn followup_commit_and_tags_apply() {
    let t = fixture();
    let d = t.path();
    let repo = git_init(d);
    commit_at(&repo, &[], day("2026-01-01"), "initial");
    let (code, out, _) = run(
        d,
        &[
            "followup",
            "Alpha",
            "--channel",
            "whatsapp",
            "--summary",
            "Customer is comparing with another supplier",
            "--replied",
            "--as-of",
            AS_OF,
            "--commit",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("committed "), "{out}");
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(
        head.message().unwrap(),
        "follow-up: Alpha Co-Jo Doe-DE on 2026-03-01 (whatsapp, by bob)\n\nCustomer is comparing with another supplier\n"
    );
    assert!(
        repo.statuses(Some(git2::StatusOptions::new().include_ignored(false)))
            .unwrap()
            .is_empty()
    );

    // tags: Alpha (English keyword) and Pool (Chinese) are suggested
    let (code, out, _) = run(d, &["tags", "--as-of", AS_OF]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "customers/de/cada.toml  Alpha Co-Jo Doe-DE\n  tag comparing-competitors (\"comparing\" on 2026-03-01): stress QC certification and after-sales service\n\
customers/de/pool.toml  Pool Co-Jo Doe-DE\n  tag comparing-competitors (\"对比\" on 2026-02-01): stress QC certification and after-sales service\n\
2 records with suggested tags; run `folio tags --apply` to add them\n"
    );
    // give Pool an existing commented tags line to keep
    let pool = d.join("customers/de/pool.toml");
    let text = std::fs::read_to_string(&pool)
        .unwrap()
        .replace("created = ", "tags = [\"vip\"]  # set by hand\ncreated = ");
    std::fs::write(&pool, &text).unwrap();
    let alpha_before = std::fs::read_to_string(d.join("customers/de/cada.toml")).unwrap();
    // the hand edit is uncommitted: folio will not sweep it into its commit
    // unless told to
    let (code, out, err) = run(d, &["tags", "--apply", "--commit", "--as-of", AS_OF]);
    assert_eq!((code, out.as_str()), (4, ""));
    assert_eq!(
        err,
        "error: a file to change has uncommitted or staged changes: customers/de/pool.toml\n\
hint: commit or discard those changes first, or pass --include-dirty to commit them with folio's change\n"
    );
    assert_eq!(std::fs::read_to_string(&pool).unwrap(), text);
    let (code, out, _) = run(
        d,
        &[
            "tags",
            "--apply",
            "--commit",
            "--include-dirty",
            "--as-of",
            AS_OF,
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("added tags to 2 records"), "{out}");
    assert_eq!(
        std::fs::read_to_string(&pool).unwrap(),
        text.replace("[\"vip\"]", "[\"vip\", \"comparing-competitors\"]")
    );
    assert_eq!(
        std::fs::read_to_string(d.join("customers/de/cada.toml")).unwrap(),
        alpha_before.replace(
            "stage = \"negotiating\"\n",
            "stage = \"negotiating\"\ntags = [\"comparing-competitors\"]\n"
        )
    );
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    assert!(
        head.message()
            .unwrap()
            .starts_with("tags: add suggested tags to 2 customers\n")
    );
    // nothing left to suggest, and due no longer hints
    let (_, out, _) = run(d, &["tags", "--as-of", AS_OF]);
    assert!(out.starts_with("no tags to suggest"), "{out}");
    let (_, out, _) = run(d, &["due", "--as-of", AS_OF]);
    assert!(!out.contains("hint:"), "{out}");
}

#[test]
fn review_lists_records_unchanged_in_git() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    // the data root is a subfolder of the work tree
    let root = d.join("crm");
    write(&root, "folio.toml", "");
    write(&root, "staff.toml", STAFF);
    let r =
        |id: &str, name: &str| record(id, name, Some("alice"), "C", "contacted", "2024-01-01", "");
    write(&root, "customers/de/old.toml", &r("OLD", "Old Co"));
    write(&root, "customers/de/mid.toml", &r("MID", "Mid Co"));
    write(&root, "customers/fr/new.toml", &r("NEW", "New Co"));
    let repo = git_init(d);
    commit_at(&repo, &[], day("2025-01-01"), "add all");
    write(
        &root,
        "customers/de/mid.toml",
        &(r("MID", "Mid Co") + "city = \"Bonn\"\n"),
    );
    commit_at(
        &repo,
        &["crm/customers/de/mid.toml"],
        day("2025-08-01"),
        "edit mid",
    );
    write(
        &root,
        "customers/fr/new.toml",
        &(r("NEW", "New Co") + "city = \"Lyon\"\n"),
    );
    commit_at(
        &repo,
        &["crm/customers/fr/new.toml"],
        day("2026-02-01"),
        "edit new",
    );
    // dirty.toml is committed long ago but edited since: counts as changed now
    write(&root, "customers/de/dirty.toml", &r("DIRTY", "Dirty Co"));
    commit_at(
        &repo,
        &["crm/customers/de/dirty.toml"],
        day("2026-02-10"),
        "dirty",
    );
    write(
        &root,
        "customers/de/dirty.toml",
        &(r("DIRTY", "Dirty Co") + "city = \"Köln\"\n"),
    );

    let (code, out, err) = run(&root, &["review", "--older-than", "180d", "--as-of", AS_OF]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(
        out,
        "  424 days  2025-01-01  customers/de/old.toml  Old Co-Jo Doe-DE  (alice)\n  \
212 days  2025-08-01  customers/de/mid.toml  Mid Co-Jo Doe-DE  (alice)\n\
2 of 4 records not changed for more than 180 days (as of 2026-03-01)\n"
    );
    let (_, out, _) = run(
        &root,
        &[
            "review",
            "--older-than",
            "1y",
            "--as-of",
            AS_OF,
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["older_than_days"], 365);
    assert_eq!(v["shallow"], false);
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    assert_eq!(v["items"][0]["path"], "customers/de/old.toml");
    assert_eq!(v["items"][0]["last_changed"], "2025-01-01");
    assert_eq!(v["items"][0]["exact"], true);
    let (code, _, err) = run(&root, &["review", "--older-than", "6x"]);
    assert_eq!(code, 2);
    assert!(err.contains("the unit is d, w, m"), "{err}");
}

#[test]
fn review_takes_a_merge_only_when_it_differs_from_every_parent() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(d, "folio.toml", "");
    write(d, "staff.toml", STAFF);
    let r = |id: &str, extra: &str| {
        record(id, id, Some("alice"), "C", "contacted", "2024-01-01", extra)
    };
    write(d, "customers/de/a.toml", &r("A", ""));
    write(d, "customers/de/b.toml", &r("B", ""));
    let repo = git_init(d);
    let base = commit_at(&repo, &[], day("2025-01-01"), "base");
    // side branch edits a.toml in 2025-03; main edits b.toml in 2025-05; merged 2026-01
    write(d, "customers/de/a.toml", &r("A", "city = \"Side\"\n"));
    let side = commit_at(&repo, &["customers/de/a.toml"], day("2025-03-01"), "side");
    repo.set_head_detached(base).unwrap();
    repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .unwrap();
    write(d, "customers/de/b.toml", &r("B", "city = \"Main\"\n"));
    let main = commit_at(&repo, &["customers/de/b.toml"], day("2025-05-01"), "main");
    let mut index = repo
        .merge_commits(
            &repo.find_commit(main).unwrap(),
            &repo.find_commit(side).unwrap(),
            None,
        )
        .unwrap();
    let tree = repo.find_tree(index.write_tree_to(&repo).unwrap()).unwrap();
    let sig =
        git2::Signature::new("T", "t@example.com", &git2::Time::new(day("2026-01-01"), 0)).unwrap();
    let m = repo
        .commit(
            None,
            &sig,
            &sig,
            "merge",
            &tree,
            &[
                &repo.find_commit(main).unwrap(),
                &repo.find_commit(side).unwrap(),
            ],
        )
        .unwrap();
    repo.set_head_detached(m).unwrap();
    repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .unwrap();
    let (code, out, err) = run(
        d,
        &[
            "review",
            "--older-than",
            "30d",
            "--as-of",
            AS_OF,
            "--format",
            "json",
        ],
    );
    assert_eq!((code, err.as_str()), (0, ""));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let got: Vec<(String, String)> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["path"].as_str().unwrap().to_string(),
                i["last_changed"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("customers/de/a.toml".to_string(), "2025-03-01".to_string()),
            ("customers/de/b.toml".to_string(), "2025-05-01".to_string()),
        ]
    );
}

/// In a shallow clone, a record present in the oldest fetched commit and
/// unchanged since last changed then or earlier: listed as not exact.
#[test]
fn review_in_a_shallow_clone_gives_bounds() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("origin");
    write(&d, "folio.toml", "");
    write(&d, "staff.toml", STAFF);
    let r =
        |id: &str, name: &str| record(id, name, Some("alice"), "C", "contacted", "2024-01-01", "");
    write(&d, "customers/de/old.toml", &r("OLD", "Old Co"));
    let repo = git_init(&d);
    commit_at(&repo, &[], day("2024-06-01"), "add old");
    write(&d, "customers/de/mid.toml", &r("MID", "Mid Co"));
    commit_at(
        &repo,
        &["customers/de/mid.toml"],
        day("2025-01-01"),
        "add mid",
    );
    write(&d, "customers/fr/new.toml", &r("NEW", "New Co"));
    commit_at(
        &repo,
        &["customers/fr/new.toml"],
        day("2025-03-01"),
        "add new",
    );
    let dest = t.path().join("clone");
    let st = std::process::Command::new("git")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(["clone", "-q", "--depth", "2"])
        .arg(format!("file://{}", d.display()))
        .arg(&dest)
        .status()
        .unwrap();
    assert!(st.success());
    let (code, out, _) = run(
        &dest,
        &[
            "review",
            "--older-than",
            "30d",
            "--as-of",
            AS_OF,
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["shallow"], true);
    let items: Vec<(&str, &str, bool)> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["path"].as_str().unwrap(),
                i["last_changed"].as_str().unwrap(),
                i["exact"].as_bool().unwrap(),
            )
        })
        .collect();
    // old.toml and mid.toml were both in the oldest fetched commit
    // (2025-01-01): bounds; new.toml changed after it: exact
    assert_eq!(
        items,
        vec![
            ("customers/de/mid.toml", "2025-01-01", false),
            ("customers/de/old.toml", "2025-01-01", false),
            ("customers/fr/new.toml", "2025-03-01", true),
        ]
    );
}
