//! Property tests of folio's format-preserving edits: generated records
//! (every script, comments, CRLF or LF, odd spacing, quoted and literal
//! strings and keys, team fields of every TOML type, arrays of tables) and
//! random edits (set owner or pool_reason, remove them, append a follow-up,
//! add tags). Each edit must read back as exactly the original plus the
//! change, with every other byte kept (see tests/edit_check/mod.rs); and
//! through an edit session, the written bytes are the byte-order mark (if
//! the file had one) plus the edited text.

mod edit_check;

use edit_check::{Edit, check};
use folio::records::Followup;
use proptest::prelude::*;
use proptest::test_runner::Config;

/// Pieces of text in many scripts, with the characters TOML must escape.
const FRAGS: &[&str] = &[
    "a",
    "Z",
    "7",
    " ",
    "-",
    "_",
    ".",
    "é",
    "Müller",
    "ñ",
    "ß",
    "Ø",
    "上海",
    "中文",
    "日本語",
    "한국",
    "Москва",
    "Привет",
    "مرحبا",
    "عربي",
    "עברית",
    "🙂",
    "🎉",
    "👍🏽",
    "\u{200d}",
    "\"",
    "'",
    "\\",
    "#",
    "=",
    "[",
    "]",
    "{",
    "}",
    ",",
    "\t",
    "\u{7f}",
    "\u{1b}",
    "2025-01-01",
];

/// A line break: only where a basic string escapes it.
const BREAKS: &[&str] = &["\n", "\r\n", "\r"];

fn words() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGS), 0..8).prop_map(|v| v.concat())
}

/// Any string value, line breaks and control characters included.
fn any_string() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![8 => prop::sample::select(FRAGS), 1 => prop::sample::select(BREAKS)],
        0..8,
    )
    .prop_map(|v| v.concat())
}

/// Text that may stand in a comment (no line break, no control character
/// but tab).
fn comment_text() -> impl Strategy<Value = String> {
    words().prop_map(|s| {
        s.chars()
            .filter(|c| *c == '\t' || !c.is_control())
            .collect()
    })
}

fn comment() -> impl Strategy<Value = String> {
    comment_text().prop_map(|s| format!("#{s}"))
}

/// A string as TOML text, in one of its four forms where the content
/// allows it.
fn string_value() -> impl Strategy<Value = String> {
    (any_string(), 0..4u8).prop_map(|(s, form)| {
        let plain = !s.chars().any(|c| c.is_control() && c != '\t');
        match form {
            1 if plain && !s.contains('\'') => format!("'{s}'"),
            2 if plain && !s.contains('"') && !s.contains('\\') => {
                format!("\"\"\"\n{s}\"\"\"")
            }
            3 if plain && !s.contains('\'') => format!("'''{s}'''"),
            _ => folio::edit::quote(&s),
        }
    })
}

fn scalar_value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => string_value(),
        1 => Just("\"2025-01-01\"".to_string()),
        1 => any::<i64>().prop_map(|i| i.to_string()),
        1 => prop::sample::select(&["0x1F", "0o17", "0b101", "1_000", "+3", "-0"][..]).prop_map(String::from),
        1 => any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| format!("{f:?}")),
        1 => prop::sample::select(&["inf", "-inf", "nan", "1e3", "6.02E+23", "-0.0", "1_000.5"][..]).prop_map(String::from),
        1 => any::<bool>().prop_map(|b| b.to_string()),
        1 => prop::sample::select(&[
            "2025-01-01", "1979-05-27T07:32:00Z", "1979-05-27 07:32:00.999+08:00",
            "1979-05-27T07:32:00", "07:32:00", "2024-02-29",
        ][..]).prop_map(String::from),
    ]
}

/// A bare key if the name allows it and `style` says so, else a basic or
/// literal quoted key.
fn key_text(name: &str, style: u8) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match style % 3 {
        0 if bare => name.to_string(),
        2 if !name.contains('\'') && !name.chars().any(char::is_control) => format!("'{name}'"),
        _ => folio::edit::quote(name),
    }
}

const INNER_KEYS: &[&str] = &["a", "b", "名", "ключ", "مفتاح", "🙂", "x y", "date"];

/// A value of any type: scalars, arrays (one line or several, with
/// comments and trailing commas) and inline tables.
fn value() -> impl Strategy<Value = String> {
    scalar_value().prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            (
                prop::collection::vec(inner.clone(), 0..4),
                any::<bool>(),
                comment()
            )
                .prop_map(|(items, multi, c)| {
                    if multi && !items.is_empty() {
                        let body: Vec<String> = items.iter().map(|i| format!("  {i},")).collect();
                        format!("[ {c}\n{}\n]", body.join("\n"))
                    } else {
                        format!("[{}]", items.join(", "))
                    }
                }),
            prop::collection::vec((prop::sample::select(INNER_KEYS), 0..3u8, inner), 0..3)
                .prop_map(|kv| {
                    let mut seen = Vec::new();
                    let items: Vec<String> = kv
                        .into_iter()
                        .filter(|(k, ..)| {
                            let new = !seen.contains(k);
                            seen.push(*k);
                            new
                        })
                        .map(|(k, s, v)| format!("{} = {v}", key_text(k, s)))
                        .collect();
                    format!("{{ {} }}", items.join(", "))
                }),
        ]
    })
}

/// Tags as TOML text: an array of strings in some layout.
fn tags_value() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(string_value(), 0..4),
        0..3u8,
        comment(),
    )
        .prop_map(|(items, layout, c)| match layout {
            1 if !items.is_empty() => {
                let body: Vec<String> = items.iter().map(|i| format!("  {i},")).collect();
                format!("[\n{}\n]", body.join("\n"))
            }
            2 if !items.is_empty() => {
                let body: Vec<String> = items.iter().map(|i| format!("    {i}, {c}")).collect();
                format!("[ {c}\n{}\n]", body.join("\n"))
            }
            _ => format!("[{}]", items.join(",")),
        })
}

const TOP_KEYS: &[&str] = &[
    "id",
    "name",
    "contact",
    "country",
    "owner",
    "tier",
    "type",
    "stage",
    "source",
    "city",
    "tags",
    "group",
    "created",
    "next_followup",
    "pool_reason",
    "payment_terms",
    "note",
    "since",
    "size",
    "ratio",
    "vip",
    "codes",
    "meta",
    "名前",
    "город",
    "اسم",
    "clé",
    "emoji🙂",
    "2025-01-01",
    "a b",
    "owner-x",
];

/// One `key = value` line: the name (the key's first part), the line.
fn kv_line(keys: &'static [&'static str]) -> impl Strategy<Value = (String, String)> {
    (
        prop::sample::select(keys),
        0..3u8,
        prop::sample::select(&[" = ", "=", "  =\t", "\t= ", " =  "][..]),
        prop::sample::select(&["", "", "  ", "\t"][..]),
        prop_oneof![
            4 => Just(None),
            1 => prop::sample::select(INNER_KEYS).prop_map(Some),
        ],
        prop_oneof![3 => Just(None), 1 => comment().prop_map(Some)],
        value(),
        string_value(),
        tags_value(),
    )
        .prop_map(|(name, style, eq, indent, dotted, c, v, s, tags)| {
            let v = match name {
                // mostly strings, where folio edits them
                "owner" | "pool_reason" if !s.starts_with("\"\"\"") || v.len() % 4 != 0 => s,
                "tags" if v.len() % 5 != 0 => tags,
                _ => v,
            };
            let key = match dotted {
                Some(d) => format!("{}.{}", key_text(name, style), key_text(d, style)),
                None => key_text(name, style),
            };
            let c = c.map(|c| format!(" {c}")).unwrap_or_default();
            (name.to_string(), format!("{indent}{key}{eq}{v}{c}\n"))
        })
}

/// Keep the first line of each name (TOML forbids a key twice).
fn unique(lines: Vec<(String, String)>, taken: &mut Vec<String>) -> String {
    let mut out = String::new();
    for (name, line) in lines {
        if !taken.contains(&name) {
            taken.push(name);
            out.push_str(&line);
        }
    }
    out
}

/// Blank lines and comment lines.
fn filler() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("\n".to_string()),
            comment().prop_map(|c| format!("{c}\n"))
        ],
        0..3,
    )
    .prop_map(|v| v.concat())
}

const TABLE_KEYS: &[&str] = &[
    "name", "date", "by", "channel", "summary", "replied", "next", "email", "ref", "名前",
    "amount", "meta",
];

/// A section after the top-level keys: `[[contacts]]`, `[[followups]]`
/// (maybe with a sub-table), `[consent]`, or a table where folio edits a
/// key (`[owner]`, `[tags]`, `[pool_reason]`).
fn section() -> impl Strategy<Value = (String, String)> {
    (
        prop_oneof![
            3 => Just("followups"),
            2 => Just("contacts"),
            1 => Just("quotes"),
            1 => Just("consent"),
            1 => Just("owner"),
            1 => Just("tags"),
            1 => Just("pool_reason"),
        ],
        filler(),
        prop::sample::select(&["", " ", "  "][..]),
        prop_oneof![3 => Just(String::new()), 1 => comment().prop_map(|c| format!(" {c}"))],
        prop::collection::vec(kv_line(TABLE_KEYS), 0..4),
        prop::option::of((filler(), prop::collection::vec(kv_line(TABLE_KEYS), 0..3))),
        filler(),
    )
        .prop_map(|(name, before, pad, c, body, sub, after)| {
            let single = matches!(name, "consent" | "owner" | "tags" | "pool_reason");
            let header = if single {
                format!("[{pad}{name}{pad}]{c}\n")
            } else {
                format!("[[{pad}{name}{pad}]]{c}\n")
            };
            let mut taken = Vec::new();
            let mut text = format!("{before}{header}{}", unique(body, &mut taken));
            if let Some((f, sub)) = sub
                && name == "followups"
                && !taken.iter().any(|t| t == "meta")
            {
                text.push_str(&format!(
                    "{f}[followups.meta]\n{}",
                    unique(sub, &mut Vec::new())
                ));
            }
            text.push_str(&after);
            (name.to_string(), text)
        })
}

/// A whole record, as text with `\n` line breaks.
fn record() -> impl Strategy<Value = String> {
    (
        filler(),
        prop::collection::vec(
            prop_oneof![4 => kv_line(TOP_KEYS).prop_map(Some), 1 => Just(None)],
            0..12,
        ),
        prop::collection::vec(filler(), 12),
        prop::collection::vec(section(), 0..5),
        prop_oneof![
            6 => Just(None),
            1 => Just(Some("followups = [{ date = 2025-01-01, by = \"alice\" }]\n".to_string())),
            1 => Just(Some("followups = []\n".to_string())),
        ],
    )
        .prop_map(|(head, lines, fills, sections, inline_fu)| {
            // a key defined by a section cannot be a top-level line too
            let mut taken: Vec<String> = sections.iter().map(|(n, _)| n.clone()).collect();
            let mut single = Vec::new();
            let sections: Vec<String> = sections
                .into_iter()
                .filter(|(n, _)| {
                    let once = matches!(n.as_str(), "consent" | "owner" | "tags" | "pool_reason");
                    let keep = !(once && single.contains(n));
                    single.push(n.clone());
                    keep
                })
                .filter(|(n, _)| !(inline_fu.is_some() && n == "followups"))
                .map(|(_, t)| t)
                .collect();
            let mut text = head;
            if let Some(f) = inline_fu {
                taken.push("followups".into());
                text.push_str(&f);
            }
            for (i, line) in lines.into_iter().enumerate() {
                match line {
                    Some(l) => text.push_str(&unique(vec![l], &mut taken)),
                    None => text.push_str(&fills[i]),
                }
            }
            text.push_str(&sections.concat());
            text
        })
}

/// A record's text with its line endings and final newline chosen.
fn record_text() -> impl Strategy<Value = String> {
    (record(), any::<bool>(), 0..4u8, 0..8u8).prop_map(|(t, crlf, end, bom)| {
        let mut t = if crlf { t.replace('\n', "\r\n") } else { t };
        if end == 0 {
            // no final newline (unless the text ends in a comment line,
            // which it may: nothing to strip)
            while t.ends_with('\n') {
                t.pop();
                if t.ends_with('\r') {
                    t.pop();
                }
            }
        }
        // a second byte-order mark (the session takes off the first)
        if bom == 0 {
            t.insert(0, '\u{feff}');
        }
        t
    })
}

fn date() -> impl Strategy<Value = chrono::NaiveDate> {
    (1i32..9999, 1u32..=12, 1u32..=28)
        .prop_map(|(y, m, d)| chrono::NaiveDate::from_ymd_opt(y, m, d).expect("a valid date"))
}

fn team_value() -> impl Strategy<Value = toml::Value> {
    use toml::Value as V;
    prop_oneof![
        any_string().prop_map(V::String),
        Just(V::String("2025-01-01".into())),
        any::<i64>().prop_map(V::Integer),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(V::Float),
        any::<bool>().prop_map(V::Boolean),
        Just(V::Datetime("2025-01-01".parse().expect("a date"))),
        prop::collection::vec(any_string().prop_map(V::String), 0..3).prop_map(V::Array),
    ]
}

fn followup() -> impl Strategy<Value = Followup> {
    (
        prop::option::of(date()),
        prop::option::of(any_string()),
        prop::option::of(words()),
        prop::option::of(any_string()),
        prop::option::of(any::<bool>()),
        prop::option::of(date()),
        prop::collection::btree_map(
            prop::sample::select(&["ref", "名前", "weight", "a b", "🙂"][..])
                .prop_map(String::from),
            team_value(),
            0..3,
        ),
    )
        .prop_map(
            |(date, by, channel, summary, replied, next, extra)| Followup {
                date,
                by,
                channel,
                summary,
                replied,
                next,
                extra,
            },
        )
}

/// `n` cases, or `PROPTEST_CASES` for a longer run.
fn cases(n: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(n)
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        2 => any_string().prop_map(|v| Edit::Set("owner", v)),
        1 => any_string().prop_map(|v| Edit::Set("pool_reason", v)),
        1 => Just(Edit::Remove("pool_reason")),
        1 => Just(Edit::Remove("owner")),
        2 => followup().prop_map(Edit::Append),
        2 => prop::collection::vec(prop_oneof![words(), Just("vip".to_string())], 0..4).prop_map(Edit::Tags),
    ]
}

proptest! {
    #![proptest_config(Config { cases: cases(256), failure_persistence: None, ..Config::default() })]

    /// parse -> edit -> re-parse: exactly the intended change, every other
    /// byte kept; edits in a row too (claim = set owner + remove
    /// pool_reason).
    #[test]
    fn edits_change_exactly_what_they_say(text in record_text(), edits in prop::collection::vec(edit(), 1..4)) {
        prop_assert!(edit_check::table(&text).is_some(), "generated text is not TOML: {text:?}");
        let mut text = text;
        for e in &edits {
            if let Err(msg) = check(&text, e, true) {
                return Err(TestCaseError::fail(format!("{msg}\noriginal: {text:?}\nedit: {e:?}")));
            }
            // carry on from the edited text when the edit was made
            let next = match e {
                Edit::Set(k, v) => folio::edit::set_string(&text, k, v, folio::records::keys_before(k)).ok(),
                Edit::Remove(k) => folio::edit::remove_key(&text, k).ok(),
                Edit::Append(f) => folio::edit::append_followup(&text, f).ok(),
                Edit::Tags(t) => folio::edit::add_tags(&text, t).ok().flatten(),
            };
            if let Some(n) = next {
                text = n;
            }
        }
    }
}

/// A folio repository in a temporary folder with one record.
fn repo_with(bytes: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("folio.toml"), "").expect("write");
    std::fs::write(
        dir.path().join("staff.toml"),
        "[staff.alice]\nname = \"Alice\"\n[staff.bob]\nname = \"Bob\"\n",
    )
    .expect("write");
    std::fs::create_dir_all(dir.path().join("customers/de")).expect("mkdir");
    std::fs::write(dir.path().join("customers/de/r.toml"), bytes).expect("write");
    dir
}

proptest! {
    #![proptest_config(Config { cases: cases(48), failure_persistence: None, ..Config::default() })]

    /// Through an edit session: the bytes written are the byte-order mark
    /// (when the file had one) plus the edited text, and the record reads
    /// back with the new owner.
    #[test]
    fn a_session_writes_the_mark_plus_the_edited_text(
        text in record_text(),
        bom in any::<bool>(),
        owner in prop::sample::select(&["alice", "bob"][..]),
        f in followup(),
        channel in prop::sample::select(&["email", "phone", "wechat"][..]),
    ) {
        // a follow-up the schema allows: the session refuses a new error
        let f = Followup {
            date: f.date.or(chrono::NaiveDate::from_ymd_opt(2025, 1, 1)),
            by: Some(owner.to_string()),
            channel: Some(channel.to_string()),
            extra: Default::default(),
            ..f
        };
        let mut bytes = if bom { vec![0xEF, 0xBB, 0xBF] } else { Vec::new() };
        bytes.extend_from_slice(text.as_bytes());
        let dir = repo_with(&bytes);
        let repo = folio::repo::Repo::open(dir.path()).expect("open");
        let as_of = chrono::NaiveDate::from_ymd_opt(9999, 12, 31).expect("date");
        let rel = "customers/de/r.toml";
        let edited = folio::edit::set_string(&text, "owner", owner, folio::records::keys_before("owner"))
            .ok()
            .and_then(|t| folio::edit::append_followup(&t, &f).ok());
        let mut session = folio::session::Session::new(&repo, as_of);
        let changed = session.edit(rel, |t| {
            folio::edit::set_string(t, "owner", owner, folio::records::keys_before("owner"))
                .map_err(|e| e.to_string())
                .and_then(|t| folio::edit::append_followup(&t, &f).map_err(|e| e.to_string()))
                .map(Some)
        });
        match (&edited, changed) {
            (Some(want), Ok(true)) => {
                match session.apply(folio::session::Finish::Write) {
                    Ok(_) => {
                        let written = std::fs::read(dir.path().join(rel)).expect("read");
                        // the mark once, however many the file had
                        let body = want.strip_prefix('\u{feff}');
                        let mut expected = if bom || body.is_some() { vec![0xEF, 0xBB, 0xBF] } else { Vec::new() };
                        expected.extend_from_slice(body.unwrap_or(want).as_bytes());
                        prop_assert_eq!(String::from_utf8_lossy(&written), String::from_utf8_lossy(&expected));
                        let ctx = folio::records::Context { schema: &repo.schema, staff: None, as_of };
                        let p = folio::records::parse(want, rel, &ctx);
                        let c = p.customer.expect("a customer");
                        prop_assert_eq!(c.owner.as_deref(), Some(owner));
                    }
                    // refused because the edit would add an error (a
                    // follow-up's value the schema does not allow): nothing
                    // is written
                    Err(folio::session::SessionError::Invalid(_)) => {
                        prop_assert_eq!(std::fs::read(dir.path().join(rel)).expect("read"), bytes);
                    }
                    Err(e) => return Err(TestCaseError::fail(format!("apply: {e}"))),
                }
            }
            (None, Err(_)) => {}
            (e, c) => return Err(TestCaseError::fail(format!("library {e:?} vs session {c:?}"))),
        }
    }
}
