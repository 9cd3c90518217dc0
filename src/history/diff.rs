//! Field-level differences between two versions of a record: `owner:
//! alice → bob`, `+1 followup (...)`, a contact removed, and so on.
//!
//! Both versions are parsed as TOML (every key, the team's own fields
//! included) and compared key by key. Arrays of tables (contacts, quotes,
//! orders, follow-ups, titles) are compared item by item: unchanged items
//! are matched first (longest common subsequence), the rest are paired by
//! their natural key (a contact's or title's name, an order's number, a
//! date) and compared field by field, and what is left is an item added or
//! removed.

use serde::Serialize;
use serde_json::{Map, Value};

/// One changed field. `old`/`new` are JSON values; `None` is "absent".
/// A whole item of a list added or removed has `field` = the list's name
/// (`followups`) and the item as an object on one side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

impl FieldChange {
    pub fn text(field: &str, old: Option<&str>, new: Option<&str>) -> FieldChange {
        FieldChange {
            field: field.to_string(),
            old: old.map(|s| Value::String(s.to_string())),
            new: new.map(|s| Value::String(s.to_string())),
        }
    }

    /// A record created (at `new`) or deleted (from `old`).
    pub fn record(old: Option<&str>, new: Option<&str>) -> FieldChange {
        FieldChange::text("record", old, new)
    }

    /// Whether this change is about `field` (`tier`, `followups`,
    /// `followup`, `contacts.email`...).
    pub fn matches(&self, field: &str) -> bool {
        let f = field.trim();
        let base = self.field.split(['.', '[']).next().unwrap_or(&self.field);
        let plain: String = self
            .field
            .split('[')
            .map(|p| p.split_once(']').map(|(_, r)| r).unwrap_or(p))
            .collect();
        self.field == f
            || base == f
            || base == format!("{f}s")
            || plain == f
            || plain.starts_with(&format!("{f}."))
            || self.field.starts_with(&format!("{f}."))
            || self.field.starts_with(&format!("{f}["))
    }

    /// One line for people: `tier: B → A`, `+1 followup (2026-11-10,
    /// email, "Sent revised quote")`.
    pub fn human(&self) -> String {
        match (self.field.as_str(), &self.old, &self.new) {
            ("record", None, Some(p)) => format!("created ({})", scalar(p)),
            ("record", Some(p), None) => format!("deleted ({})", scalar(p)),
            ("history", _, Some(v)) => format!("history {}", scalar(v)),
            (f, None, Some(Value::Object(o))) if is_list(f) => {
                format!("+1 {} ({})", singular(f), summary(f, o))
            }
            (f, Some(Value::Object(o)), None) if is_list(f) => {
                format!("-1 {} ({})", singular(f), summary(f, o))
            }
            (f, old, new) => format!(
                "{f}: {} → {}",
                old.as_ref().map(scalar).unwrap_or_else(|| "(none)".into()),
                new.as_ref().map(scalar).unwrap_or_else(|| "(none)".into())
            ),
        }
    }
}

const LISTS: &[&str] = &["followups", "quotes", "orders", "contacts", "titles"];

fn is_list(f: &str) -> bool {
    LISTS.contains(&f) || !f.contains(['.', '['])
}

fn singular(f: &str) -> &str {
    f.strip_suffix('s').unwrap_or(f)
}

/// A value as people read it: strings bare, lists with commas.
pub fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "(none)".into(),
        Value::Array(a) => format!("[{}]", a.iter().map(scalar).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, v)| format!("{k}: {}", scalar(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// The few fields that identify a list item in a one-line summary.
fn summary(list: &str, o: &Map<String, Value>) -> String {
    let keys: &[&str] = match list {
        "followups" => &["date", "channel", "summary"],
        "quotes" => &["date", "product", "amount", "currency", "incoterm"],
        "orders" => &["date", "number", "amount", "currency"],
        "contacts" => &["name", "role", "email"],
        "titles" => &["name", "registration"],
        _ => &[],
    };
    let mut parts: Vec<String> = keys
        .iter()
        .filter_map(|k| o.get(*k))
        .map(|v| match v {
            Value::String(s) if s.contains(' ') || s.is_empty() => format!("{s:?}"),
            v => scalar(v),
        })
        .collect();
    if parts.is_empty() {
        parts = o.values().take(3).map(scalar).collect();
    }
    parts.join(", ")
}

/// Parse a record's text into a JSON object (dates as strings).
pub fn parse(text: &str) -> Result<Map<String, Value>, String> {
    let doc = toml::de::DeTable::parse(text).map_err(|e| e.message().to_string())?;
    match crate::records::to_json(&toml::de::DeValue::Table(doc.into_inner())) {
        Value::Object(o) => Ok(o),
        _ => Err("not a table".into()),
    }
}

/// Field-level changes from one version of a record to another (`None`:
/// the file is absent on that side).
pub fn diff_texts(old: Option<&str>, new: Option<&str>) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let side = |t: Option<&str>, out: &mut Vec<FieldChange>, is_new: bool| match t.map(parse) {
        None => Map::new(),
        Some(Ok(m)) => m,
        Some(Err(e)) => {
            let msg = format!("invalid TOML: {}", e.lines().next().unwrap_or(""));
            out.push(if is_new {
                FieldChange::text("toml", None, Some(&msg))
            } else {
                FieldChange::text("toml", Some(&msg), None)
            });
            Map::new()
        }
    };
    let o = side(old, &mut out, false);
    let n = side(new, &mut out, true);
    diff_maps("", &o, &n, &mut out);
    out
}

/// Field-level changes between two parsed records.
pub fn diff_maps(
    prefix: &str,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    out: &mut Vec<FieldChange>,
) {
    let keys = new
        .keys()
        .chain(old.keys().filter(|k| !new.contains_key(*k)));
    for k in keys {
        let (o, n) = (old.get(k), new.get(k));
        if o == n {
            continue;
        }
        let field = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match (o, n) {
            (Some(Value::Object(a)), Some(Value::Object(b))) => diff_maps(&field, a, b, out),
            _ if is_table_list(o) && is_table_list(n) => {
                let empty = Vec::new();
                let a = o.and_then(Value::as_array).unwrap_or(&empty);
                let b = n.and_then(Value::as_array).unwrap_or(&empty);
                diff_items(&field, a, b, out);
            }
            _ => out.push(FieldChange {
                field,
                old: o.cloned(),
                new: n.cloned(),
            }),
        }
    }
}

/// Absent, or a non-empty array of tables.
fn is_table_list(v: Option<&Value>) -> bool {
    match v {
        None => true,
        Some(Value::Array(a)) => !a.is_empty() && a.iter().all(Value::is_object),
        _ => false,
    }
}

fn item_key(list: &str, v: &Value) -> Option<String> {
    let k = match list.rsplit('.').next().unwrap_or(list) {
        "contacts" | "titles" => "name",
        "orders" if v.get("number").is_some() => "number",
        _ => "date",
    };
    v.get(k).map(scalar)
}

fn diff_items(field: &str, old: &[Value], new: &[Value], out: &mut Vec<FieldChange>) {
    // Longest common subsequence of equal items (lists are short; a very
    // long pair falls back to matching only the common prefix and suffix).
    let (n, m) = (old.len(), new.len());
    let mut old_match = vec![None; n];
    let mut new_match = vec![None; m];
    if n.saturating_mul(m) <= 4_000_000 {
        let mut t = vec![vec![0u32; m + 1]; n + 1];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                t[i][j] = if old[i] == new[j] {
                    t[i + 1][j + 1] + 1
                } else {
                    t[i + 1][j].max(t[i][j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n && j < m {
            if old[i] == new[j] {
                old_match[i] = Some(j);
                new_match[j] = Some(i);
                i += 1;
                j += 1;
            } else if t[i + 1][j] >= t[i][j + 1] {
                i += 1;
            } else {
                j += 1;
            }
        }
    } else {
        let mut k = 0;
        while k < n.min(m) && old[k] == new[k] {
            old_match[k] = Some(k);
            new_match[k] = Some(k);
            k += 1;
        }
        let mut e = 0;
        while e < n.min(m) - k && old[n - 1 - e] == new[m - 1 - e] {
            old_match[n - 1 - e] = Some(m - 1 - e);
            new_match[m - 1 - e] = Some(n - 1 - e);
            e += 1;
        }
    }
    // Pair what is left by key, in order.
    let mut paired_old = vec![false; n];
    for j in 0..m {
        if new_match[j].is_some() {
            continue;
        }
        let key = item_key(field, &new[j]);
        let partner = (0..n).find(|&i| {
            old_match[i].is_none()
                && !paired_old[i]
                && key.is_some()
                && item_key(field, &old[i]) == key
        });
        match (partner, &new[j]) {
            (Some(i), Value::Object(b)) => {
                paired_old[i] = true;
                if let Value::Object(a) = &old[i] {
                    diff_maps(&format!("{field}[{j}]"), a, b, out);
                }
            }
            _ => out.push(FieldChange {
                field: field.to_string(),
                old: None,
                new: Some(new[j].clone()),
            }),
        }
    }
    for i in 0..n {
        if old_match[i].is_none() && !paired_old[i] {
            out.push(FieldChange {
                field: field.to_string(),
                old: Some(old[i].clone()),
                new: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "id = \"C1\"\nname = \"ABC\"\nowner = \"alice\"\ntier = \"B\"\ntags = [\"vip\"]\n\n[[contacts]]\nname = \"John\"\nemail = \"j@a.com\"\n\n[[followups]]\ndate = 2026-11-01\nchannel = \"email\"\nsummary = \"Hello\"\n";

    fn lines(old: &str, new: &str) -> Vec<String> {
        diff_texts(Some(old), Some(new))
            .iter()
            .map(FieldChange::human)
            .collect()
    }

    #[test]
    fn scalars_lists_and_items() {
        let b = A
            .replace("owner = \"alice\"", "owner = \"bob\"")
            .replace("tier = \"B\"", "tier = \"A\"")
            + "\n[[followups]]\ndate = 2026-11-10\nchannel = \"email\"\nsummary = \"Sent revised quote\"\n";
        assert_eq!(
            lines(A, &b),
            [
                "owner: alice → bob",
                "tier: B → A",
                "+1 followup (2026-11-10, email, \"Sent revised quote\")"
            ]
        );
        let c = A
            .replace("j@a.com", "john@a.com")
            .replace("tags = [\"vip\"]\n", "");
        assert_eq!(
            lines(A, &c),
            [
                "contacts[0].email: j@a.com → john@a.com",
                "tags: [vip] → (none)"
            ]
        );
        let d = A.replace("[[contacts]]\nname = \"John\"\nemail = \"j@a.com\"\n\n", "");
        assert_eq!(lines(A, &d), ["-1 contact (John, j@a.com)"]);
        assert!(lines(A, A).is_empty());
    }

    #[test]
    fn inserted_item_in_the_middle_is_one_addition() {
        let two = "[[quotes]]\ndate = 2026-01-01\namount = 5.0\n\n[[quotes]]\ndate = 2026-03-01\namount = 7.0\n";
        let three = "[[quotes]]\ndate = 2026-01-01\namount = 5.0\n\n[[quotes]]\ndate = 2026-02-01\namount = 6.0\n\n[[quotes]]\ndate = 2026-03-01\namount = 7.0\n";
        assert_eq!(lines(two, three), ["+1 quote (2026-02-01, 6.0)"]);
    }

    #[test]
    fn field_filter() {
        let f = FieldChange::text("followups[2].summary", None, None);
        assert!(f.matches("followups") && f.matches("followup") && f.matches("followups.summary"));
        assert!(!f.matches("owner"));
        assert!(FieldChange::text("owner", None, None).matches("owner"));
    }
}
