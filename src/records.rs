//! Customer records: the typed model of one customer file, and parsing a
//! file into it with every problem reported as a diagnostic.
//!
//! Parsing uses the toml crate's borrowed `DeTable`, which keeps spans, so
//! that a diagnostic can point at the line and column of the value at fault
//! and `folio check` stays close to the cost of parsing alone.

use crate::config::Staff;
use crate::diagnostics::{Code, Diagnostic};
use crate::schema::Schema;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// A team's own fields of a record or of one of its tables, by key: the
/// values as the file holds them (a string stays a string even when it
/// reads like a date). They become JSON only on the way out (`json_of`).
pub type Extra = BTreeMap<String, toml::Value>;

/// Team fields in JSON output: as `json_of` gives them.
fn extra_as_json<S: serde::Serializer>(m: &Extra, s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(m.iter().map(|(k, v)| (k, json_of(v))))
}

/// A team field's value as JSON: dates and times as their TOML text
/// (`2025-01-01`), a non-finite float as null.
pub fn json_of(v: &toml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        toml::Value::String(s) => J::String(s.clone()),
        toml::Value::Integer(i) => J::from(*i),
        toml::Value::Float(f) => J::from(*f),
        toml::Value::Boolean(b) => J::Bool(*b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(a) => J::Array(a.iter().map(json_of).collect()),
        toml::Value::Table(t) => {
            J::Object(t.iter().map(|(k, v)| (k.clone(), json_of(v))).collect())
        }
    }
}

/// One customer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: String,
    pub name: String,
    pub contact: String,
    pub country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub tier: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub stage: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_followup: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incoterms: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_terms: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub titles: Vec<Title>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Contact>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quotes: Vec<Quote>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orders: Vec<Order>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub followups: Vec<Followup>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<Consent>,
    /// A team's own fields (from its schema), with their TOML types.
    #[serde(flatten, default, serialize_with = "extra_as_json")]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Title {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wechat: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linkedin: Option<String>,
    #[serde(flatten, default, serialize_with = "extra_as_json")]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    pub date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incoterm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(flatten, default, serialize_with = "extra_as_json")]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<String>,
    #[serde(flatten, default, serialize_with = "extra_as_json")]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Followup {
    pub date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replied: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<NaiveDate>,
    #[serde(flatten, default, serialize_with = "extra_as_json")]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Consent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<String>,
    #[serde(flatten, default, serialize_with = "extra_as_json")]
    pub extra: Extra,
}

impl Customer {
    /// `<name>-<contact>-<COUNTRY>`.
    pub fn display_name(&self) -> String {
        crate::naming::display_name(&self.name, &self.contact, &self.country)
    }

    pub fn naming_parts(&self) -> crate::naming::NameParts<'_> {
        crate::naming::NameParts {
            id: &self.id,
            name: &self.name,
            contact: &self.contact,
            country: &self.country,
            city: self.city.as_deref(),
            industry: self.industry.as_deref(),
        }
    }

    /// The latest follow-up by date; on a tie, the later one in the file.
    pub fn latest_followup(&self) -> Option<&Followup> {
        self.followups
            .iter()
            .filter(|f| f.date.is_some())
            .max_by_key(|f| f.date)
    }

    /// Tier as a rank, A = 0 (most valuable) to E = 4; unknown last.
    pub fn tier_rank(&self) -> u8 {
        match self.tier.as_str() {
            "A" => 0,
            "B" => 1,
            "C" => 2,
            "D" => 3,
            "E" => 4,
            _ => 5,
        }
    }
}

/// What a record is checked against besides its schema.
pub struct Context<'a> {
    pub schema: &'a Schema,
    /// The team, for references; `None` skips reference checks.
    pub staff: Option<&'a Staff>,
    /// Dates after this are in the future.
    pub as_of: NaiveDate,
}

/// The result of parsing one file.
#[derive(Debug, Default)]
pub struct Parsed {
    /// The customer, if the file is TOML at all (built leniently from the
    /// values that have the right type, even when other values are wrong).
    pub customer: Option<Customer>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Decode a file's bytes as UTF-8.
#[allow(clippy::result_large_err)] // one per unreadable file
pub fn decode<'a>(bytes: &'a [u8], path: &str) -> Result<&'a str, Diagnostic> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(
            Diagnostic::error(Code::Encoding, path, "the file is UTF-16, not UTF-8")
                .with_hint("save the file as UTF-8 (without BOM)"),
        );
    }
    // A UTF-8 byte-order mark is left to the TOML parser, which accepts one.
    std::str::from_utf8(bytes).map_err(|e| {
        let good = &bytes[..e.valid_up_to()];
        let text = std::str::from_utf8(good).unwrap_or("");
        let (line, col) = crate::diagnostics::line_col(text, text.len());
        let mut d = Diagnostic::error(
            Code::Encoding,
            path,
            format!(
                "invalid UTF-8 (byte 0x{:02X} at offset {})",
                bytes[e.valid_up_to()],
                e.valid_up_to()
            ),
        )
        .with_hint("save the file as UTF-8; GBK or Latin-1 text must be converted");
        d.line = Some(line);
        d.column = Some(col);
        d
    })
}

/// Parse and check one record.
pub fn parse(text: &str, path: &str, ctx: &Context) -> Parsed {
    parse_inner(text, path, ctx, false)
}

/// Parse and check one record, keeping in the customer only what the
/// cross-record rules read (see `Customer::slim`); every check still runs.
pub fn parse_slim(text: &str, path: &str, ctx: &Context) -> Parsed {
    parse_inner(text, path, ctx, true)
}

/// Parse one record into a slim customer (see `parse_slim`) without
/// checking it against the schema or the cross-field rules: for commands
/// that only compare records (`folio dupes`). Syntax errors are reported.
pub fn parse_slim_unchecked(text: &str, path: &str) -> Parsed {
    match DeTable::parse_recoverable(text) {
        (_, errors) if !errors.is_empty() => syntax_errors(text, path, &errors),
        (doc, _) => {
            let bad = number_errors(doc.get_ref(), text, path);
            if !bad.is_empty() {
                return Parsed {
                    customer: None,
                    diagnostics: bad,
                };
            }
            Parsed {
                customer: Some(build_slim(&Top::scan(doc.get_ref()))),
                diagnostics: Vec::new(),
            }
        }
    }
}

fn syntax_errors(text: &str, path: &str, errors: &[toml::de::Error]) -> Parsed {
    let diagnostics = errors
        .iter()
        .map(|e| {
            let mut d = Diagnostic::error(Code::Syntax, path, syntax_message(e.message()));
            if let Some(span) = e.span() {
                d = d.with_span(span);
                d.locate(text);
            }
            d
        })
        .collect();
    Parsed {
        customer: None,
        diagnostics,
    }
}

fn parse_inner(text: &str, path: &str, ctx: &Context, slim: bool) -> Parsed {
    let (doc, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        return syntax_errors(text, path, &errors);
    }
    let table = doc.get_ref();
    let bad = number_errors(table, text, path);
    if !bad.is_empty() {
        return Parsed {
            customer: None,
            diagnostics: bad,
        };
    }
    let mut diagnostics = Vec::new();
    ctx.schema.validate(table, path, &mut diagnostics);
    let top = Top::scan(table);
    let customer = if slim {
        build_slim(&top)
    } else {
        build(table, ctx.schema)
    };
    cross_field(&top, &customer, path, ctx, &mut diagnostics);
    for d in &mut diagnostics {
        d.locate(text);
    }
    Parsed {
        customer: Some(customer),
        diagnostics,
    }
}

/// Where a value sits in a record (`quotes[0].amount`): the schema's
/// field path, rendered only when a diagnostic needs it.
use crate::schema::FieldPath as At;

/// Number literals that TOML forbids but the parser lets through (it
/// keeps numbers as text): an integer without digits after its prefix
/// (`0x`), with digits outside its base or outside ASCII (`1_0٠`), or
/// beyond 64 bits; a float too large for 64 bits. Each is a syntax error
/// at the value, naming the key.
fn number_errors(table: &Table, text: &str, path: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    numbers_in_table(table, None, text, path, &mut out);
    out
}

fn numbers_in_table(
    t: &Table,
    parent: Option<&At>,
    text: &str,
    path: &str,
    out: &mut Vec<Diagnostic>,
) {
    for (k, v) in t {
        let at = At {
            parent,
            key: k.get_ref(),
            index: None,
        };
        numbers_in_value(v, &at, text, path, out);
    }
}

fn numbers_in_value(
    v: &Spanned<DeValue>,
    at: &At,
    text: &str,
    path: &str,
    out: &mut Vec<Diagnostic>,
) {
    let (message, hint) = match v.get_ref() {
        DeValue::Integer(i) if integer_of(i).is_none() => {
            let digits = i.as_str().trim_start_matches(['+', '-']).replace('_', "");
            if !digits.is_empty() && digits.chars().all(|c| c.is_digit(i.radix())) {
                (
                    "is too large for an integer",
                    "TOML integers are 64-bit: -9223372036854775808 to 9223372036854775807",
                )
            } else {
                (
                    "is not a valid integer",
                    "write integers with the digits 0-9 (0x, 0o and 0b need digits of their base)",
                )
            }
        }
        DeValue::Float(f) if float_of(f).is_none() => (
            "is not a valid float",
            "TOML floats are 64-bit; write very large numbers as inf if that is meant",
        ),
        DeValue::Array(a) => {
            for (n, x) in a.iter().enumerate() {
                let item = At {
                    index: Some(n),
                    ..*at
                };
                numbers_in_value(x, &item, text, path, out);
            }
            return;
        }
        DeValue::Table(t) => return numbers_in_table(t, Some(at), text, path, out),
        _ => return,
    };
    let raw = text.get(v.span()).unwrap_or_default().trim();
    let mut d = Diagnostic::error(Code::Syntax, path, format!("`{at}`: `{raw}` {message}"))
        .with_field(at.to_string())
        .with_span(v.span())
        .with_hint(hint);
    d.locate(text);
    out.push(d);
}

fn syntax_message(m: &str) -> String {
    let first = m.lines().next().unwrap_or(m).trim();
    if first.is_empty() {
        "invalid TOML".to_string()
    } else {
        first.to_string()
    }
}

type Table<'a> = DeTable<'a>;

fn get<'t, 'i>(t: &'t Table<'i>, k: &str) -> Option<&'t Spanned<DeValue<'i>>> {
    // a small table is searched faster than its keys are hashed
    if t.len() <= 8 {
        t.iter().find(|(x, _)| x.get_ref() == k).map(|(_, v)| v)
    } else {
        t.get(k)
    }
}

/// The values of a record's built-in top-level keys, found in one pass
/// over the table (records keep the canonical key order, so the search for
/// each key starts after the previous one's place).
struct Top<'t, 'i> {
    values: [Option<&'t Spanned<DeValue<'i>>>; TOP_LEVEL_KEYS.len()],
}

impl<'t, 'i> Top<'t, 'i> {
    fn scan(t: &'t Table<'i>) -> Self {
        let mut values = [None; TOP_LEVEL_KEYS.len()];
        let mut next = 0;
        for (k, v) in t {
            let k: &str = k.get_ref();
            let (wrapped, ahead) = TOP_LEVEL_KEYS.split_at(next);
            let found = ahead
                .iter()
                .position(|x| *x == k)
                .map(|i| i + next)
                .or_else(|| wrapped.iter().position(|x| *x == k));
            if let Some(i) = found {
                values[i] = Some(v);
                next = (i + 1) % TOP_LEVEL_KEYS.len();
            }
        }
        Top { values }
    }

    /// The value of a key, by its place in `TOP_LEVEL_KEYS` (see `key`).
    fn get(&self, k: usize) -> Option<&'t Spanned<DeValue<'i>>> {
        self.values.get(k).copied().flatten()
    }

    fn string(&self, k: usize) -> Option<String> {
        self.get(k)
            .and_then(|v| v.get_ref().as_str())
            .map(str::to_string)
    }

    fn date(&self, k: usize) -> Option<NaiveDate> {
        self.get(k).and_then(|v| date_of(v.get_ref()))
    }

    fn tables(&self, k: usize) -> Vec<&'t Table<'i>> {
        match self.get(k).map(|v| v.get_ref()) {
            Some(DeValue::Array(a)) => a.iter().filter_map(|x| x.get_ref().as_table()).collect(),
            _ => Vec::new(),
        }
    }

    fn span(&self, k: usize) -> Option<Range<usize>> {
        self.get(k).map(|v| v.span())
    }
}

fn string(t: &Table, k: &str) -> Option<String> {
    get(t, k)
        .and_then(|v| v.get_ref().as_str())
        .map(str::to_string)
}

fn date_of(v: &DeValue) -> Option<NaiveDate> {
    match v {
        DeValue::Datetime(d) if d.time.is_none() && d.offset.is_none() => {
            let x = d.date?;
            NaiveDate::from_ymd_opt(x.year as i32, x.month as u32, x.day as u32)
        }
        _ => None,
    }
}

fn date(t: &Table, k: &str) -> Option<NaiveDate> {
    get(t, k).and_then(|v| date_of(v.get_ref()))
}

fn number(t: &Table, k: &str) -> Option<f64> {
    match get(t, k).map(|v| v.get_ref()) {
        Some(DeValue::Float(f)) => float_of(f),
        Some(DeValue::Integer(i)) => integer_of(i).map(|i| i as f64),
        _ => None,
    }
}

fn integer_of(i: &toml::de::DeInteger) -> Option<i64> {
    i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()).ok()
}

/// A float's value; `None` for text that is no float or that overflows
/// (`1e400`; `inf` is written as such).
fn float_of(f: &toml::de::DeFloat) -> Option<f64> {
    let x: f64 = f.as_str().replace('_', "").parse().ok()?;
    (!x.is_infinite() || f.as_str().contains("inf")).then_some(x)
}

fn strings(t: &Table, k: &str) -> Vec<String> {
    match get(t, k).map(|v| v.get_ref()) {
        Some(DeValue::Array(a)) => a
            .iter()
            .filter_map(|x| x.get_ref().as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn tables<'t, 'i>(t: &'t Table<'i>, k: &str) -> Vec<&'t Table<'i>> {
    match get(t, k).map(|v| v.get_ref()) {
        Some(DeValue::Array(a)) => a.iter().filter_map(|x| x.get_ref().as_table()).collect(),
        _ => Vec::new(),
    }
}

/// A TOML value as JSON, dates as `YYYY-MM-DD` strings.
pub fn to_json(v: &DeValue) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        DeValue::String(s) => J::String(s.to_string()),
        DeValue::Integer(i) => integer_of(i).map(J::from).unwrap_or(J::Null),
        DeValue::Float(f) => f
            .as_str()
            .replace('_', "")
            .parse::<f64>()
            .ok()
            .map(J::from)
            .unwrap_or(J::Null),
        DeValue::Boolean(b) => J::Bool(*b),
        DeValue::Datetime(d) => J::String(d.to_string()),
        DeValue::Array(a) => J::Array(a.iter().map(|x| to_json(x.get_ref())).collect()),
        DeValue::Table(t) => J::Object(
            t.iter()
                .map(|(k, v)| (k.get_ref().to_string(), to_json(v.get_ref())))
                .collect(),
        ),
    }
}

/// A parsed TOML value as an owned one, of the same type. `None` for an
/// integer out of range (the schema check reports it), and such items are
/// left out of arrays and tables.
pub fn to_toml(v: &DeValue) -> Option<toml::Value> {
    use toml::Value as T;
    Some(match v {
        DeValue::String(s) => T::String(s.to_string()),
        DeValue::Integer(i) => T::Integer(integer_of(i)?),
        DeValue::Float(f) => T::Float(f.as_str().replace('_', "").parse::<f64>().ok()?),
        DeValue::Boolean(b) => T::Boolean(*b),
        DeValue::Datetime(d) => T::Datetime(*d),
        DeValue::Array(a) => T::Array(a.iter().filter_map(|x| to_toml(x.get_ref())).collect()),
        DeValue::Table(t) => T::Table(
            t.iter()
                .filter_map(|(k, v)| Some((k.get_ref().to_string(), to_toml(v.get_ref())?)))
                .collect(),
        ),
    })
}

/// The place of a built-in top-level key in `TOP_LEVEL_KEYS`, worked out
/// when compiling (`key("id")`): a misspelt key does not compile.
const fn key(k: &str) -> usize {
    let mut i = 0;
    while i < TOP_LEVEL_KEYS.len() {
        let (a, b) = (TOP_LEVEL_KEYS[i].as_bytes(), k.as_bytes());
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("not a built-in top-level key")
}

/// The keys that precede `key` in the canonical order (where a new
/// `key = ...` line goes).
pub fn keys_before(key: &str) -> &'static [&'static str] {
    let n = TOP_LEVEL_KEYS
        .iter()
        .position(|k| *k == key)
        .unwrap_or(TOP_LEVEL_KEYS.len());
    &TOP_LEVEL_KEYS[..n]
}

/// The built-in top-level keys of a record, in the canonical order (from
/// the field table, [`crate::fields::CUSTOMER`]).
pub const TOP_LEVEL_KEYS: &[&str] = &crate::fields::CUSTOMER_KEYS;

fn build(t: &Table, schema: &Schema) -> Customer {
    use crate::fields::{Acc, Nested};
    let mut c: Customer = entry(t);
    // Extra fields are only those the schema declares; unknown keys are
    // already reported and are not carried along.
    c.extra.retain(|k, _| schema.field(k).is_some());
    for f in crate::fields::CUSTOMER {
        let Acc::Nested(n) = f.acc else { continue };
        match n {
            Nested::Titles => c.titles = entries(t, f.name),
            Nested::Contacts => c.contacts = entries(t, f.name),
            Nested::Quotes => c.quotes = entries(t, f.name),
            Nested::Orders => c.orders = entries(t, f.name),
            Nested::Followups => c.followups = entries(t, f.name),
            Nested::Consent => {
                c.consent = get(t, f.name)
                    .and_then(|v| v.get_ref().as_table())
                    .map(entry)
            }
        }
    }
    c
}

/// The built-in fields of a record or of one of its tables that have the
/// right type, and the others as the team's own fields.
fn entry<T: crate::fields::Fields + Default>(t: &Table) -> T {
    use crate::fields::Acc;
    let mut x = T::default();
    for f in T::FIELDS {
        match f.acc {
            Acc::Req(_, m) => *m(&mut x) = string(t, f.name).unwrap_or_default(),
            Acc::Str(_, m) => *m(&mut x) = string(t, f.name),
            Acc::Date(_, m) => *m(&mut x) = date(t, f.name),
            Acc::Num(_, m) => *m(&mut x) = number(t, f.name),
            Acc::Bool(_, m) => *m(&mut x) = get(t, f.name).and_then(|v| v.get_ref().as_bool()),
            Acc::List(_, m) => *m(&mut x) = strings(t, f.name),
            Acc::Nested(_) => {}
        }
    }
    if let Some(e) = x.extra_mut() {
        *e = t
            .iter()
            .filter(|(k, _)| !T::FIELDS.iter().any(|f| f.name == k.get_ref().as_ref()))
            .filter_map(|(k, v)| Some((k.get_ref().to_string(), to_toml(v.get_ref())?)))
            .collect();
    }
    x
}

fn entries<T: crate::fields::Fields + Default>(t: &Table, k: &str) -> Vec<T> {
    tables(t, k).into_iter().map(entry).collect()
}

/// The parts of a customer the cross-record rules read.
fn build_slim(t: &Top) -> Customer {
    Customer {
        id: t.string(const { key("id") }).unwrap_or_default(),
        name: t.string(const { key("name") }).unwrap_or_default(),
        contact: t.string(const { key("contact") }).unwrap_or_default(),
        country: t.string(const { key("country") }).unwrap_or_default(),
        owner: t.string(const { key("owner") }),
        tier: t.string(const { key("tier") }).unwrap_or_default(),
        stage: t.string(const { key("stage") }).unwrap_or_default(),
        industry: t.string(const { key("industry") }),
        city: t.string(const { key("city") }),
        website: t.string(const { key("website") }),
        group: t.string(const { key("group") }),
        created: t.date(const { key("created") }),
        titles: t
            .tables(const { key("titles") })
            .into_iter()
            .map(|x| Title {
                name: string(x, "name").unwrap_or_default(),
                registration: string(x, "registration"),
            })
            .collect(),
        contacts: t
            .tables(const { key("contacts") })
            .into_iter()
            .map(|x| Contact {
                name: string(x, "name").unwrap_or_default(),
                email: string(x, "email"),
                phone: string(x, "phone"),
                whatsapp: string(x, "whatsapp"),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

fn cross_field(t: &Top, c: &Customer, path: &str, ctx: &Context, out: &mut Vec<Diagnostic>) {
    // read from the table: a slim customer does not carry lost_reason
    let lost_reason = t
        .get(const { key("lost_reason") })
        .and_then(|v| v.get_ref().as_str());
    if c.stage == "lost" && lost_reason.is_none_or(|r| r.trim().is_empty()) {
        let mut d = Diagnostic::error(
            Code::LostReason,
            path,
            "stage is \"lost\" but `lost_reason` is missing",
        )
        .with_field("lost_reason")
        .with_hint(
            "add `lost_reason = \"...\"`: why the deal was lost is what the team learns from",
        );
        if let Some(s) = t.span(const { key("stage") }) {
            d = d.with_span(s);
        }
        out.push(d);
    }
    for (list, list_key) in [
        ("followups", const { key("followups") }),
        ("quotes", const { key("quotes") }),
        ("orders", const { key("orders") }),
    ] {
        for (i, item) in t.tables(list_key).into_iter().enumerate() {
            let Some(dv) = get(item, "date") else {
                continue;
            };
            let Some(day) = date_of(dv.get_ref()) else {
                continue;
            };
            let field = || format!("{list}[{i}].date");
            if let Some(created) = c.created
                && day < created
            {
                out.push(
                    Diagnostic::error(Code::BeforeCreated, path, format!("`{}` {day} is before `created` {created}", field()))
                        .with_field(field())
                        .with_span(dv.span())
                        .with_hint("fix the date, or move `created` back to when the customer was first recorded"),
                );
            }
            if day > ctx.as_of {
                out.push(
                    Diagnostic::error(Code::FutureDate, path, format!("`{}` {day} is after today ({})", field(), ctx.as_of))
                        .with_field(field())
                        .with_span(dv.span())
                        .with_hint("record what happened; plan what will happen with `next` or `next_followup`"),
                );
            }
            if list == "followups"
                && let Some(nv) = get(item, "next")
                && let Some(next) = date_of(nv.get_ref())
                && next < day
            {
                out.push(
                    Diagnostic::error(
                        Code::NextBeforeDate,
                        path,
                        format!(
                            "`followups[{i}].next` {next} is before the follow-up's own date {day}"
                        ),
                    )
                    .with_field(format!("followups[{i}].next"))
                    .with_span(nv.span()),
                );
            }
        }
    }
    let Some(staff) = ctx.staff else { return };
    let mut refer = |field: String, handle: &str, span: Range<usize>, is_owner: bool| match staff
        .require(handle)
    {
        Err(e) => {
            let d = Diagnostic::error(Code::UnknownStaff, path, format!("`{field}`: {e}"))
                .with_field(field)
                .with_span(span)
                .with_hint(e.hint());
            out.push(d);
        }
        Ok(m) if is_owner && !m.active => out.push(
            Diagnostic::error(
                Code::InactiveOwner,
                path,
                format!("owner \"{handle}\" is no longer active; hand the account over"),
            )
            .with_field(field)
            .with_span(span)
            .with_hint(format!("run `folio handover {handle} --to <handle>`")),
        ),
        Ok(_) => {}
    };
    if let (Some(o), Some(s)) = (c.owner.as_deref(), t.span(const { key("owner") }))
        && crate::schema::is_handle(o)
    {
        refer("owner".to_string(), o, s, true);
    }
    for (i, item) in t.tables(const { key("followups") }).into_iter().enumerate() {
        if let Some(v) = get(item, "by")
            && let Some(h) = v.get_ref().as_str()
            && crate::schema::is_handle(h)
        {
            refer(format!("followups[{i}].by"), h, v.span(), false);
        }
    }
}

/// The byte span of a field (`followups[2].by`, `id`) in a record's text:
/// used to place diagnostics found across records.
pub fn find_field(text: &str, field: &str) -> Option<Range<usize>> {
    let doc = DeTable::parse(text).ok()?;
    let mut table: &Table = doc.get_ref();
    let mut parts = field.split('.').peekable();
    while let Some(part) = parts.next() {
        let (key, index) = match part.split_once('[') {
            Some((k, rest)) => (k, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        let (kspan, v) = table.get_key_value(key).map(|(k, v)| (k.span(), v))?;
        let v = match index {
            Some(i) => v.get_ref().as_array()?.get(i)?,
            None => v,
        };
        if parts.peek().is_none() {
            // point at a value, or at the key of a table
            return Some(
                if v.get_ref().is_table()
                    || v.get_ref()
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x.get_ref().is_table()))
                {
                    kspan
                } else {
                    v.span()
                },
            );
        }
        table = v.get_ref().as_table()?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(schema: &Schema) -> Context<'_> {
        Context {
            schema,
            staff: None,
            as_of: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        }
    }

    const GOOD: &str = "id = \"C1\"\nname = \"ABC Corp\"\ncontact = \"John Doe\"\ncountry = \"US\"\ntier = \"B\"\nstage = \"lost\"\ncreated = 2025-01-10\n\n[[followups]]\ndate = 2025-01-09\nby = \"alice\"\nnext = 2025-01-01\n";

    #[test]
    fn builds_customer_and_cross_field_rules() {
        let s = Schema::builtin();
        let p = parse(GOOD, "x.toml", &ctx(&s));
        let c = p.customer.unwrap();
        assert_eq!(c.display_name(), "ABC Corp-John Doe-US");
        assert_eq!(c.followups[0].by.as_deref(), Some("alice"));
        let codes: Vec<_> = p
            .diagnostics
            .iter()
            .map(|d| (d.code.as_str(), d.line.unwrap()))
            .collect();
        assert_eq!(codes, [("F201", 6), ("F202", 10), ("F204", 12)]);
    }

    #[test]
    fn syntax_errors_have_positions() {
        let s = Schema::builtin();
        let p = parse("id = \"x\"\nname = \n", "x.toml", &ctx(&s));
        assert_eq!(p.diagnostics[0].code, Code::Syntax);
        assert_eq!(p.diagnostics[0].line, Some(2));
    }

    #[test]
    fn number_literals_toml_forbids_are_syntax_errors() {
        let s = Schema::builtin();
        let quote = |amount: &str| {
            format!(
                "{GOOD}\n[[quotes]]\ndate = 2025-01-09\nproduct = \"pump\"\namount = {amount}\ncurrency = \"USD\"\n"
            )
        };
        for (amount, message) in [
            ("0x", "`quotes[0].amount`: `0x` is not a valid integer"),
            ("0b", "`quotes[0].amount`: `0b` is not a valid integer"),
            ("0o", "`quotes[0].amount`: `0o` is not a valid integer"),
            (
                "1_0\u{660}",
                "`quotes[0].amount`: `1_0\u{660}` is not a valid integer",
            ),
            (
                "9223372036854775808",
                "`quotes[0].amount`: `9223372036854775808` is too large for an integer",
            ),
            ("1e400", "`quotes[0].amount`: `1e400` is not a valid float"),
        ] {
            let text = quote(amount);
            for p in [
                parse(&text, "x.toml", &ctx(&s)),
                parse_slim_unchecked(&text, "x.toml"),
            ] {
                assert!(p.customer.is_none(), "{amount}");
                let d: Vec<_> = p
                    .diagnostics
                    .iter()
                    .map(|d| {
                        (
                            d.code,
                            d.message.as_str(),
                            d.line,
                            d.column,
                            d.field.as_deref(),
                        )
                    })
                    .collect();
                assert_eq!(
                    d,
                    [(
                        Code::Syntax,
                        message,
                        Some(17),
                        Some(10),
                        Some("quotes[0].amount")
                    )],
                    "{amount}"
                );
            }
        }
        // numbers TOML allows stay values
        let p = parse(&quote("0x1F"), "x.toml", &ctx(&s));
        assert_eq!(p.customer.unwrap().quotes[0].amount, Some(31.0));
        for ok in [
            "-9223372036854775808",
            "1_000.5",
            "inf",
            "-inf",
            "nan",
            "0o17",
            "0b101",
        ] {
            let p = parse(&quote(ok), "x.toml", &ctx(&s));
            assert!(p.diagnostics.iter().all(|d| d.code != Code::Syntax), "{ok}");
            assert!(p.customer.is_some());
        }
    }

    #[test]
    fn decode_rejects_bad_bytes() {
        assert!(decode(b"a = 1\nb = \"\xff\"", "x").is_err());
        let s = Schema::builtin();
        let bom = decode(b"\xEF\xBB\xBFid = \"C1\"\n", "x").unwrap();
        let p = parse(bom, "x.toml", &ctx(&s));
        assert!(
            p.diagnostics.iter().all(|d| d.code == Code::MissingKey),
            "{:?}",
            p.diagnostics
        );
        assert!(
            decode(b"\xFF\xFEa\x00", "x")
                .unwrap_err()
                .message
                .contains("UTF-16")
        );
    }

    #[test]
    fn finds_fields() {
        let r = find_field(GOOD, "followups[0].by").unwrap();
        assert_eq!(&GOOD[r], "\"alice\"");
        let r = find_field(GOOD, "id").unwrap();
        assert_eq!(&GOOD[r], "\"C1\"");
    }
}
