//! The invariant of folio's format-preserving edits, shared by the property
//! test (tests/edit_properties.rs) and the fuzz target
//! (fuzz/fuzz_targets/parse_edit.rs, which includes this file by path):
//!
//! - an edit of a text that reads as TOML either is refused (and then only
//!   where the text's shape does not allow it) or gives a text that reads
//!   back as exactly the original table plus the intended change;
//! - every byte outside the edited value, line or inserted block is kept.
#![allow(dead_code)]

use folio::edit::{
    EditError, KeyEditError, add_tags, append_followup, quote, remove_key, set_string,
};
use folio::records::Followup;
use toml::Value;

/// One edit folio makes to a record's text.
#[derive(Debug, Clone)]
pub enum Edit {
    /// `set_string(key, value)` with the canonical `after` keys (owner,
    /// pool_reason: `folio pool claim/release`, `folio handover`).
    Set(&'static str, String),
    /// `remove_key(key)`.
    Remove(&'static str),
    /// `append_followup` (`folio followup`).
    Append(Followup),
    /// `add_tags` (`folio tags add`).
    Tags(Vec<String>),
}

/// Parse with the toml crate, the reader folio's checks use.
pub fn table(text: &str) -> Option<toml::Table> {
    text.parse::<toml::Table>().ok()
}

/// Structural equality where a NaN equals a NaN (of either sign) and key
/// order does not count.
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Table(x), Value::Table(y)) => same_table(x, y),
        _ => a == b,
    }
}

pub fn same_table(a: &toml::Table, b: &toml::Table) -> bool {
    a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same(v, w)))
}

/// A table or a non-empty array of tables.
fn is_tables(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Table(_)) => true,
        Some(Value::Array(a)) => !a.is_empty() && a.iter().all(Value::is_table),
        _ => false,
    }
}

/// The line ending the edit functions write: CRLF when the first line ends
/// in CRLF.
fn nl(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// `out` is `text` with `ins` inserted at one place: returns the places.
fn insertion_points(text: &str, out: &str) -> Vec<usize> {
    if out.len() < text.len() {
        return Vec::new();
    }
    let k = out.len() - text.len();
    let common = text
        .bytes()
        .zip(out.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    (0..=common.min(text.len()))
        .filter(|&at| {
            text.is_char_boundary(at)
                && out.is_char_boundary(at)
                && out.is_char_boundary(at + k)
                && out.as_bytes()[at + k..] == text.as_bytes()[at..]
        })
        .collect()
}

/// `out` is `text` with one new line `line` (ending in `nl`) inserted at a
/// line start, or at the end after a line break that was missing.
fn is_line_inserted(text: &str, out: &str, line: &str) -> bool {
    let eol = nl(text);
    insertion_points(text, out).into_iter().any(|at| {
        let ins = &out[at..at + out.len() - text.len()];
        let at_line_start = at == 0 || text[..at].ends_with(['\n', '\u{feff}']);
        (at_line_start && ins == line)
            || (at == text.len() && !at_line_start && ins == format!("{eol}{line}"))
    })
}

/// The span of a top-level key's value, by the toml crate's own parser.
fn value_span(text: &str, key: &str) -> Option<std::ops::Range<usize>> {
    let doc = toml::de::DeTable::parse(text).ok()?;
    doc.get_ref()
        .iter()
        .find(|(k, _)| k.get_ref() == key)
        .map(|(_, v)| v.span())
}

fn date(d: chrono::NaiveDate) -> Value {
    Value::Datetime(d.format("%Y-%m-%d").to_string().parse().expect("a date"))
}

/// The table one follow-up should read back as, built from its fields (not
/// from folio's renderer).
pub fn followup_table(f: &Followup) -> toml::Table {
    let mut t = toml::Table::new();
    if let Some(d) = f.date {
        t.insert("date".into(), date(d));
    }
    for (k, v) in [
        ("by", &f.by),
        ("channel", &f.channel),
        ("summary", &f.summary),
    ] {
        if let Some(v) = v {
            t.insert(k.into(), Value::String(v.clone()));
        }
    }
    if let Some(r) = f.replied {
        t.insert("replied".into(), Value::Boolean(r));
    }
    if let Some(d) = f.next {
        t.insert("next".into(), date(d));
    }
    for (k, v) in &f.extra {
        t.insert(k.clone(), v.clone());
    }
    t
}

fn expect_same(out: &str, want: &toml::Table, what: &str) -> Result<(), String> {
    let got = table(out).ok_or_else(|| format!("{what}: the edited text is not TOML:\n{out:?}"))?;
    if !same_table(&got, want) {
        return Err(format!(
            "{what}: the edited text does not read back as the original plus the change\n got: {got:?}\nwant: {want:?}\ntext: {out:?}"
        ));
    }
    Ok(())
}

/// Whether the text's `[[followups]]` is absent or written as headers
/// (where a follow-up can be appended).
fn followups_appendable(text: &str) -> bool {
    match toml_edit::Document::parse(text) {
        Ok(d) => matches!(
            d.as_table().get("followups"),
            None | Some(toml_edit::Item::ArrayOfTables(_))
        ),
        Err(_) => false,
    }
}

/// Apply `edit` to `text` (which must read as TOML) and check the
/// invariant. `strict`: an edit the text's shape allows must not be
/// refused (the generated records); without it (fuzzing) a refusal is
/// fine, but an accepted edit must still be exact.
pub fn check(text: &str, edit: &Edit, strict: bool) -> Result<(), String> {
    let r = check_edit(text, edit, strict);
    // a byte-order mark stays first (a file saved with two keeps one in
    // the text the session edits)
    if r.is_ok() && text.starts_with('\u{feff}') {
        let out = match edit {
            Edit::Set(k, v) => set_string(text, k, v, folio::records::keys_before(k)).ok(),
            Edit::Remove(k) => remove_key(text, k).ok(),
            Edit::Append(f) => append_followup(text, f).ok(),
            Edit::Tags(t) => add_tags(text, t).ok().flatten(),
        };
        if out.is_some_and(|o| !o.starts_with('\u{feff}')) {
            return Err("the byte-order mark is no longer first".into());
        }
    }
    r
}

fn check_edit(text: &str, edit: &Edit, strict: bool) -> Result<(), String> {
    let Some(orig) = table(text) else {
        return Err("the original is not TOML".into());
    };
    let eol = nl(text);
    match edit {
        Edit::Set(key, v) => {
            let r = set_string(text, key, v, folio::records::keys_before(key));
            let present = orig.get(*key);
            let allowed = matches!(present, None | Some(Value::String(_)));
            let out = match r {
                Ok(out) if allowed => out,
                Ok(out) => {
                    return Err(format!(
                        "set {key}: accepted although `{key}` is {present:?}; gave {out:?}"
                    ));
                }
                Err(KeyEditError::NotPlain(_)) if !allowed => return Ok(()),
                // a string value, or no key: nothing stops the edit
                Err(e) => return Err(format!("set {key}: refused a plain edit: {e}")),
            };
            let mut want = orig.clone();
            want.insert(key.to_string(), Value::String(v.clone()));
            expect_same(&out, &want, &format!("set {key}"))?;
            if present.is_some() {
                let span = value_span(text, key).ok_or("no span of the old value")?;
                let expected = format!("{}{}{}", &text[..span.start], quote(v), &text[span.end..]);
                if out != expected {
                    return Err(format!(
                        "set {key}: more than the value changed\n got: {out:?}\nwant: {expected:?}"
                    ));
                }
            } else if !is_line_inserted(text, &out, &format!("{key} = {}{eol}", quote(v))) {
                return Err(format!("set {key}: not one line inserted: {out:?}"));
            }
        }
        Edit::Remove(key) => {
            let out = match remove_key(text, key) {
                Ok(out) => out,
                // a table (header, dotted keys or inline) is not a line
                Err(KeyEditError::NotPlain(_)) if is_tables(orig.get(*key)) => {
                    return Ok(());
                }
                Err(e) => return Err(format!("remove {key}: {e}")),
            };
            let mut want = orig.clone();
            want.remove(*key);
            expect_same(&out, &want, &format!("remove {key}"))?;
            if orig.contains_key(*key) {
                // whole lines taken out, nothing else
                let k = text.len() - out.len().min(text.len());
                let ok = out.len() < text.len()
                    && insertion_points(&out, text).into_iter().any(|at| {
                        (at == 0 || text[..at].ends_with(['\n', '\u{feff}']))
                            && (at + k == text.len() || text[..at + k].ends_with('\n'))
                    });
                if !ok {
                    return Err(format!("remove {key}: not whole lines removed: {out:?}"));
                }
            } else if out != text {
                return Err(format!(
                    "remove {key}: changed a text without the key: {out:?}"
                ));
            }
        }
        Edit::Append(f) => {
            let allowed = followups_appendable(text);
            let out = match (append_followup(text, f), allowed) {
                (Ok(out), true) => out,
                (Ok(out), false) => {
                    return Err(format!(
                        "append: accepted where followups is not tables: {out:?}"
                    ));
                }
                (Err(EditError::Shape { .. }), false) => return Ok(()),
                (Err(EditError::Write(_)), _) => return Ok(()),
                (Err(e), _) if !strict => {
                    return match e {
                        EditError::Verify(_) => Ok(()),
                        e => Err(format!("append: {e}")),
                    };
                }
                (Err(e), _) => return Err(format!("append: refused: {e}")),
            };
            let mut want = orig.clone();
            let item = Value::Table(followup_table(f));
            match want.get_mut("followups") {
                Some(Value::Array(a)) => a.push(item),
                _ => {
                    want.insert("followups".into(), Value::Array(vec![item]));
                }
            }
            expect_same(&out, &want, "append")?;
            let k = out.len() - text.len();
            let ok = insertion_points(text, &out).into_iter().any(|at| {
                let ins = &out[at..at + k];
                let body = ins.trim_start_matches(eol);
                (at == 0 || text[..at].ends_with(['\n', '\u{feff}']) || at == text.len())
                    && body.starts_with(&format!("[[followups]]{eol}"))
                    && ins.ends_with(eol)
                    && (eol == "\n" || !ins.replace("\r\n", "").contains('\n'))
            });
            if !ok {
                return Err(format!("append: not one block inserted: {out:?}"));
            }
        }
        Edit::Tags(tags) => {
            let current: Option<Vec<String>> = match orig.get("tags") {
                None => Some(Vec::new()),
                Some(Value::Array(a)) => a.iter().map(|v| v.as_str().map(String::from)).collect(),
                Some(_) => None,
            };
            // an inline array of strings, or no key
            let allowed = current.is_some()
                && match toml_edit::Document::parse(text) {
                    Ok(d) => matches!(
                        d.as_table().get("tags"),
                        None | Some(toml_edit::Item::Value(toml_edit::Value::Array(_)))
                    ),
                    Err(_) => false,
                };
            let r = add_tags(text, tags);
            let current = match (r.is_ok(), allowed) {
                (true, true) => current.unwrap_or_default(),
                (true, false) => return Err(format!("tags: accepted on {:?}", orig.get("tags"))),
                (false, false) => return Ok(()),
                (false, true) => {
                    let e = r.err().map(|e| e.to_string()).unwrap_or_default();
                    return if strict {
                        Err(format!("tags: refused: {e}"))
                    } else {
                        Ok(())
                    };
                }
            };
            let mut all = current.clone();
            for t in tags {
                if !all.contains(t) {
                    all.push(t.clone());
                }
            }
            let out = match r {
                Ok(Some(out)) => out,
                Ok(None) if all.len() == current.len() => return Ok(()),
                Ok(None) => return Err("tags: nothing added though tags are new".into()),
                Err(_) => unreachable!(),
            };
            if all.len() == current.len() {
                return Err(format!(
                    "tags: changed the text with nothing to add: {out:?}"
                ));
            }
            let mut want = orig.clone();
            want.insert(
                "tags".into(),
                Value::Array(all.iter().cloned().map(Value::String).collect()),
            );
            expect_same(&out, &want, "tags")?;
            if orig.contains_key("tags") {
                let span = value_span(text, "tags").ok_or("no span of tags")?;
                let (head, tail) = (&text[..span.start], &text[span.end..]);
                if !(out.starts_with(head)
                    && out.ends_with(tail)
                    && out.len() >= head.len() + tail.len())
                {
                    return Err(format!("tags: more than the array changed: {out:?}"));
                }
                let new = &out[head.len()..out.len() - tail.len()];
                // the old array's text, in order, with only the new items,
                // spacing and commas added: no comment copied or lost
                let mut rest = new.to_string();
                for t in all[current.len()..].iter().rev() {
                    let q = quote(t);
                    match rest.rfind(&q) {
                        Some(i) => rest.replace_range(i..i + q.len(), ""),
                        None => return Err(format!("tags: {q} not written as {q}: {new:?}")),
                    }
                }
                let bare = |s: &str| {
                    s.chars()
                        .filter(|c| !c.is_whitespace() && *c != ',')
                        .collect::<String>()
                };
                if bare(&rest) != bare(&text[span.clone()]) {
                    return Err(format!(
                        "tags: the array's own text changed: {:?} -> {new:?}",
                        &text[span]
                    ));
                }
                if eol == "\r\n" && new.replace("\r\n", "").contains('\n') {
                    return Err(format!("tags: a bare LF in a CRLF file: {new:?}"));
                }
            } else {
                let added: Vec<String> = all[current.len()..].iter().map(|t| quote(t)).collect();
                let line = format!("tags = [{}]{eol}", added.join(", "));
                if !is_line_inserted(text, &out, &line) {
                    return Err(format!("tags: not one line inserted: {out:?}"));
                }
            }
        }
    }
    Ok(())
}
