//! Writing records: atomic writes, new records in the canonical layout, and
//! format-preserving edits of existing files (toml_edit).
//!
//! The canonical layout puts one field per line, plain keys in schema order,
//! and arrays of tables after them, so that git merges two people's edits
//! of one customer line by line.

use crate::records::{Consent, Contact, Customer, Followup, Order, Quote, Title};
use chrono::NaiveDate;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

/// Write `bytes` to `path` through a temporary file in the same folder,
/// renamed into place, so a crash never leaves a half-written record.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".folio-tmp-")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Why an edit of a record's text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyEditError {
    #[error("the file is not valid TOML: {0}")]
    Syntax(String),
    #[error("`{0}` is not a plain `key = value` line that folio can edit in place")]
    NotPlain(String),
}

/// A top-level key, the byte range of its line(s) and of its value.
type KeyLine = (String, std::ops::Range<usize>, std::ops::Range<usize>);

/// Top-level `key = value` entries of a record: (key, byte range of the
/// whole line(s), byte range of the value), in file order.
fn top_level_lines(text: &str) -> Result<Vec<KeyLine>, KeyEditError> {
    let doc = toml::de::DeTable::parse(text)
        .map_err(|e| KeyEditError::Syntax(e.message().trim().to_string()))?;
    let mut out = Vec::new();
    for (k, v) in doc.get_ref() {
        let val = v.get_ref();
        if val.is_table()
            || val
                .as_array()
                .is_some_and(|a| !a.is_empty() && a.iter().all(|x| x.get_ref().is_table()))
        {
            continue;
        }
        let (ks, vs) = (k.span(), v.span());
        let start = text[..ks.start].rfind('\n').map(|i| i + 1).unwrap_or(0);
        let end = text[vs.end..]
            .find('\n')
            .map(|i| vs.end + i + 1)
            .unwrap_or(text.len());
        out.push((k.get_ref().to_string(), start..end, vs));
    }
    Ok(out)
}

/// The line ending a file uses (`\r\n` when its first line ends so).
fn eol(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// Set a top-level string key, changing nothing else: the value is replaced
/// in place (comments on the line kept), or a new line is inserted after
/// the last present key of `after` (the keys that precede it in the
/// canonical order), else after the last top-level key.
pub fn set_string(
    text: &str,
    key: &str,
    value: &str,
    after: &[&str],
) -> Result<String, KeyEditError> {
    let lines = top_level_lines(text)?;
    if let Some((_, _, vs)) = lines.iter().find(|(k, ..)| k == key) {
        if text
            .get(vs.clone())
            .is_none_or(|v| !v.starts_with('"') && !v.starts_with('\''))
        {
            return Err(KeyEditError::NotPlain(key.to_string()));
        }
        return Ok(format!(
            "{}{}{}",
            &text[..vs.start],
            quote(value),
            &text[vs.end..]
        ));
    }
    let at = lines
        .iter()
        .filter(|(k, ..)| after.contains(&k.as_str()))
        .map(|(_, line, _)| line.end)
        .max()
        .or_else(|| lines.iter().map(|(_, line, _)| line.end).max())
        .unwrap_or(0);
    let nl = eol(text);
    let mut out = String::with_capacity(text.len() + key.len() + value.len() + 8);
    out.push_str(&text[..at]);
    if at > 0 && !text[..at].ends_with('\n') {
        out.push_str(nl);
    }
    out.push_str(&format!("{key} = {}{nl}", quote(value)));
    out.push_str(&text[at..]);
    Ok(out)
}

/// Remove a top-level key's line(s), changing nothing else. Absent keys
/// are fine.
pub fn remove_key(text: &str, key: &str) -> Result<String, KeyEditError> {
    let lines = top_level_lines(text)?;
    match lines.into_iter().find(|(k, ..)| k == key) {
        Some((_, line, _)) => Ok(format!("{}{}", &text[..line.start], &text[line.end..])),
        None => Ok(text.to_string()),
    }
}

/// A TOML basic string.
pub fn quote(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            '\r' => o.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(o, "\\u{:04X}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

struct Out(String);

impl Out {
    fn s(&mut self, k: &str, v: &Option<String>) {
        if let Some(v) = v {
            let _ = writeln!(self.0, "{k} = {}", quote(v));
        }
    }
    fn req(&mut self, k: &str, v: &str) {
        let _ = writeln!(self.0, "{k} = {}", quote(v));
    }
    fn d(&mut self, k: &str, v: &Option<NaiveDate>) {
        if let Some(v) = v {
            let _ = writeln!(self.0, "{k} = {v}");
        }
    }
    fn f(&mut self, k: &str, v: &Option<f64>) {
        if let Some(v) = v {
            let _ = writeln!(self.0, "{k} = {}", float(*v));
        }
    }
    fn b(&mut self, k: &str, v: &Option<bool>) {
        if let Some(v) = v {
            let _ = writeln!(self.0, "{k} = {v}");
        }
    }
    fn list(&mut self, k: &str, v: &[String]) {
        if !v.is_empty() {
            let items: Vec<String> = v.iter().map(|s| quote(s)).collect();
            let _ = writeln!(self.0, "{k} = [{}]", items.join(", "));
        }
    }
    fn extra(&mut self, m: &std::collections::BTreeMap<String, serde_json::Value>) {
        for (k, v) in m {
            if let Some(t) = json_to_toml(v) {
                let _ = writeln!(self.0, "{k} = {t}");
            }
        }
    }
    fn header(&mut self, h: &str) {
        let _ = writeln!(self.0, "\n{h}");
    }
}

/// A JSON value (from a team field) back as an inline TOML value.
fn json_to_toml(v: &serde_json::Value) -> Option<String> {
    use serde_json::Value as J;
    Some(match v {
        J::Null => return None,
        J::Bool(b) => b.to_string(),
        J::Number(n) => n.to_string(),
        J::String(s) if s.len() == 10 && NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() => {
            s.clone()
        }
        J::String(s) => quote(s),
        J::Array(a) => format!(
            "[{}]",
            a.iter()
                .filter_map(json_to_toml)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        J::Object(o) => format!(
            "{{ {} }}",
            o.iter()
                .filter_map(|(k, v)| json_to_toml(v).map(|t| format!("{k} = {t}")))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

/// A record in the canonical layout.
pub fn render(c: &Customer) -> String {
    let mut o = Out(String::with_capacity(1024));
    o.req("id", &c.id);
    o.req("name", &c.name);
    o.req("contact", &c.contact);
    o.req("country", &c.country);
    o.s("owner", &c.owner);
    o.req("tier", &c.tier);
    o.s("type", &c.kind);
    o.req("stage", &c.stage);
    o.s("source", &c.source);
    o.s("industry", &c.industry);
    o.s("city", &c.city);
    o.s("address", &c.address);
    o.s("website", &c.website);
    o.list("tags", &c.tags);
    o.s("group", &c.group);
    o.d("created", &c.created);
    o.d("next_followup", &c.next_followup);
    o.s("lost_reason", &c.lost_reason);
    o.s("pool_reason", &c.pool_reason);
    o.list("incoterms", &c.incoterms);
    o.s("payment_terms", &c.payment_terms);
    o.extra(&c.extra);
    for Title { name, registration } in &c.titles {
        o.header("[[titles]]");
        o.req("name", name);
        o.s("registration", registration);
    }
    for x in &c.contacts {
        let Contact {
            name,
            role,
            email,
            phone,
            whatsapp,
            wechat,
            linkedin,
            extra,
        } = x;
        o.header("[[contacts]]");
        o.req("name", name);
        o.s("role", role);
        o.s("email", email);
        o.s("phone", phone);
        o.s("whatsapp", whatsapp);
        o.s("wechat", wechat);
        o.s("linkedin", linkedin);
        o.extra(extra);
    }
    for x in &c.quotes {
        let Quote {
            date,
            product,
            amount,
            currency,
            incoterm,
            status,
            extra,
        } = x;
        o.header("[[quotes]]");
        o.d("date", date);
        o.s("product", product);
        o.f("amount", amount);
        o.s("currency", currency);
        o.s("incoterm", incoterm);
        o.s("status", status);
        o.extra(extra);
    }
    for x in &c.orders {
        let Order {
            date,
            number,
            amount,
            currency,
            payment,
            extra,
        } = x;
        o.header("[[orders]]");
        o.d("date", date);
        o.s("number", number);
        o.f("amount", amount);
        o.s("currency", currency);
        o.s("payment", payment);
        o.extra(extra);
    }
    for f in &c.followups {
        o.header("[[followups]]");
        o.0.push_str(&render_followup(f));
    }
    if let Some(Consent {
        date,
        purpose,
        basis,
        extra,
    }) = &c.consent
    {
        o.header("[consent]");
        o.d("date", date);
        o.s("purpose", purpose);
        o.s("basis", basis);
        o.extra(extra);
    }
    o.0
}

/// The body of one `[[followups]]` entry, one key per line.
pub fn render_followup(f: &Followup) -> String {
    let mut o = Out(String::new());
    let Followup {
        date,
        by,
        channel,
        summary,
        replied,
        next,
        extra,
    } = f;
    o.d("date", date);
    o.s("by", by);
    o.s("channel", channel);
    o.s("summary", summary);
    o.b("replied", replied);
    o.d("next", next);
    o.extra(extra);
    o.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_edits_keep_every_other_byte() {
        let t = "# Customer\r\nid = \"C1\"\r\ncountry = \"DE\" # home\r\ntier = \"B\"\r\n\r\n[[followups]]\r\nby = \"x\"\r\n";
        let a = set_string(t, "owner", "alice", &["id", "country"]).unwrap();
        assert_eq!(
            a,
            t.replace("# home\r\n", "# home\r\nowner = \"alice\"\r\n")
        );
        let b = set_string(&a, "owner", "bob", &[]).unwrap();
        assert_eq!(b, a.replace("\"alice\"", "\"bob\""));
        assert_eq!(remove_key(&b, "owner").unwrap(), t);
        assert_eq!(remove_key(t, "owner").unwrap(), t);
        // the follow-up's `by` is not a top-level key
        assert_eq!(
            set_string(t, "by", "y", &[]).unwrap(),
            t.replace("tier = \"B\"\r\n", "tier = \"B\"\r\nby = \"y\"\r\n")
        );
        assert!(set_string("owner = 3\n", "owner", "x", &[]).is_err());
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
        assert_eq!(quote("上海"), "\"上海\"");
    }

    #[test]
    fn render_roundtrips_through_the_parser() {
        let c = Customer {
            id: "C1".into(),
            name: "Müller \"Quote\" GmbH".into(),
            contact: "Jürgen".into(),
            country: "DE".into(),
            tier: "B".into(),
            stage: "prospect".into(),
            tags: vec!["vip".into()],
            created: NaiveDate::from_ymd_opt(2025, 1, 2),
            contacts: vec![Contact {
                name: "J".into(),
                email: Some("j@m.de".into()),
                ..Default::default()
            }],
            followups: vec![Followup {
                date: NaiveDate::from_ymd_opt(2025, 1, 3),
                replied: Some(true),
                ..Default::default()
            }],
            ..Default::default()
        };
        let text = render(&c);
        let schema = crate::schema::Schema::builtin();
        let ctx = crate::records::Context {
            schema: &schema,
            staff: None,
            as_of: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        };
        let p = crate::records::parse(&text, "x.toml", &ctx);
        assert!(p.diagnostics.is_empty(), "{:?}\n{text}", p.diagnostics);
        assert_eq!(p.customer.unwrap(), c);
    }
}
