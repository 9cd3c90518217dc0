//! Arbitrary bytes -> decode -> parse (must not panic) -> if the text reads
//! as TOML, each of folio's format-preserving edits; an edit that is made
//! must read back as exactly the original plus the change, every other
//! byte kept (the invariant of tests/edit_check/mod.rs, shared with the
//! property test).
#![no_main]

#[path = "../../tests/edit_check/mod.rs"]
mod edit_check;

use edit_check::{Edit, check};
use folio::records::Followup;
use libfuzzer_sys::fuzz_target;

/// Values the edits write: plain, quotes and backslashes, line breaks,
/// other scripts, empty.
const VALUES: &[&str] = &[
    "alice",
    "Jürgen \"JJ\" O'Neil\\",
    "line\r\nbreak\ttab",
    "上海 🙂 مرحبا",
    "",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let Ok(text) = folio::records::decode(bytes, "customers/x.toml") else {
        return;
    };
    let schema = folio::schema::Schema::builtin();
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
    let ctx = folio::records::Context {
        schema: &schema,
        staff: None,
        as_of,
    };
    let _ = folio::records::parse(text, "customers/x.toml", &ctx);
    let _ = folio::records::parse_slim_unchecked(text, "customers/x.toml");
    // the edit session gives the edits the text without its byte-order mark
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if edit_check::table(text).is_none() {
        return;
    }
    let value = VALUES[usize::from(pick) % VALUES.len()].to_string();
    let followup = Followup {
        date: chrono::NaiveDate::from_ymd_opt(2026, 2, 3),
        by: Some(value.clone()),
        summary: (pick & 1 == 1).then(|| value.clone()),
        replied: (pick & 2 == 2).then_some(true),
        extra: [("ref".to_string(), toml::Value::String(value.clone()))]
            .into_iter()
            .filter(|_| pick & 4 == 4)
            .collect(),
        ..Default::default()
    };
    let edits = [
        Edit::Set("owner", value.clone()),
        Edit::Set("pool_reason", value.clone()),
        Edit::Remove("pool_reason"),
        Edit::Remove("owner"),
        Edit::Append(followup),
        Edit::Tags(vec![value.clone(), "vip".into()]),
    ];
    for e in &edits {
        if let Err(msg) = check(text, e, false) {
            panic!("{msg}\noriginal: {text:?}\nedit: {e:?}");
        }
    }
});
