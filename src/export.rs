//! Exporting records (issue 8): CSV with one row per customer (flattened
//! titles and contacts, counts and the latest quote, order and follow-up),
//! XLSX with contacts, quotes, orders and follow-ups on sheets of their own,
//! JSON, and vCard 4.0 for address books; `--where` filters and
//! `--redact` placeholders for personal data.

use crate::fields::{Acc, Fields};
use crate::records::{Contact, Customer};
use crate::repo::Record;
use serde_json::{Map, Value as J};
use std::collections::HashMap;
use std::fmt::Write as _;

/// A `--where FIELD=VALUE` filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub field: String,
    pub value: String,
}

/// Fields `--where` can test.
pub const FILTER_FIELDS: &[&str] = &[
    "id", "name", "contact", "country", "owner", "tier", "type", "stage", "source", "industry",
    "city", "group", "tag", "incoterm",
];

impl std::str::FromStr for Filter {
    type Err = String;
    fn from_str(s: &str) -> Result<Filter, String> {
        let (f, v) = s
            .split_once('=')
            .ok_or_else(|| format!("`{s}` is not FIELD=VALUE (e.g. country=DE)"))?;
        let f = f.trim();
        let f = if f == "tags" { "tag" } else { f };
        if !FILTER_FIELDS.contains(&f) {
            return Err(format!(
                "unknown field `{f}` (fields: {})",
                FILTER_FIELDS.join(", ")
            ));
        }
        Ok(Filter {
            field: f.to_string(),
            value: v.trim().to_string(),
        })
    }
}

fn filter_values(c: &Customer, field: &str) -> Vec<String> {
    let one = |v: &Option<String>| v.iter().cloned().collect::<Vec<_>>();
    match field {
        "id" => vec![c.id.clone()],
        "name" => vec![c.name.clone()],
        "contact" => vec![c.contact.clone()],
        "country" => vec![c.country.clone()],
        "owner" => one(&c.owner),
        "tier" => vec![c.tier.clone()],
        "type" => one(&c.kind),
        "stage" => vec![c.stage.clone()],
        "source" => one(&c.source),
        "industry" => one(&c.industry),
        "city" => one(&c.city),
        "group" => one(&c.group),
        "tag" => c.tags.clone(),
        "incoterm" => c.incoterms.clone(),
        _ => Vec::new(),
    }
}

/// Whether a record passes the filters: the same field given twice is
/// either value; different fields must all match. An empty value matches
/// a missing field (`owner=`: the public pool). Case is ignored.
pub fn matches(c: &Customer, filters: &[Filter]) -> bool {
    let mut fields: Vec<&str> = filters.iter().map(|f| f.field.as_str()).collect();
    fields.dedup();
    fields.iter().all(|field| {
        let have = filter_values(c, field);
        filters.iter().filter(|f| f.field == *field).any(|f| {
            if f.value.is_empty() {
                have.iter().all(|v| v.is_empty())
            } else {
                have.iter().any(|v| {
                    v.eq_ignore_ascii_case(&f.value) || v.to_lowercase() == f.value.to_lowercase()
                })
            }
        })
    })
}

/// Stable placeholders for personal data: the same value gets the same
/// placeholder everywhere in one export, numbered in the order met.
#[derive(Debug, Default)]
pub struct Redactor {
    seen: HashMap<(u8, String), usize>,
    next: [usize; 5],
}

impl Redactor {
    fn token(&mut self, kind: u8, value: &str) -> usize {
        let key = (kind, value.trim().to_lowercase());
        if let Some(n) = self.seen.get(&key) {
            return *n;
        }
        self.next[kind as usize] += 1;
        let n = self.next[kind as usize];
        self.seen.insert(key, n);
        n
    }
    fn name(&mut self, v: &str) -> String {
        format!("Contact {}", self.token(0, v))
    }
    fn email(&mut self, v: &str) -> String {
        format!("contact{}@example.invalid", self.token(1, v))
    }
    fn phone(&mut self, v: &str) -> String {
        let digits: String = v.chars().filter(char::is_ascii_digit).collect();
        format!("+000 {:07}", self.token(2, &digits))
    }
    fn handle(&mut self, kind: &str, v: &str) -> String {
        format!("{kind}-{}", self.token(3, v))
    }

    /// Replace contact names, e-mails, phones and messaging handles.
    pub fn customer(&mut self, c: &mut Customer) {
        c.contact = self.name(&c.contact);
        for x in &mut c.contacts {
            x.name = self.name(&x.name);
            x.email = x.email.as_deref().map(|v| self.email(v));
            x.phone = x.phone.as_deref().map(|v| self.phone(v));
            x.whatsapp = x.whatsapp.as_deref().map(|v| self.phone(v));
            x.wechat = x.wechat.as_deref().map(|v| self.handle("wechat", v));
            x.linkedin = x.linkedin.as_deref().map(|v| self.handle("linkedin", v));
        }
    }
}

/// The columns of a CSV export of these records, in order.
pub fn csv_columns(records: &[&Record], flatten: bool) -> Vec<String> {
    let mut cols: Vec<String> = crate::fields::CUSTOMER_VALUE_KEYS
        .iter()
        .map(|k| k.to_string())
        .chain(
            crate::fields::CONSENT_KEYS
                .iter()
                .map(|k| format!("consent_{k}")),
        )
        .collect();
    let titles = records
        .iter()
        .map(|r| r.customer.titles.len())
        .max()
        .unwrap_or(0);
    for i in 1..=titles {
        for f in crate::fields::TITLE_KEYS {
            cols.push(format!("title{i}_{f}"));
        }
    }
    if flatten {
        let contacts = records
            .iter()
            .map(|r| r.customer.contacts.len())
            .max()
            .unwrap_or(0);
        for i in 1..=contacts {
            for f in crate::import::mapping::CONTACT_FIELDS {
                cols.push(format!("contact{i}_{f}"));
            }
        }
        for c in [
            "quotes",
            "latest_quote_date",
            "latest_quote_product",
            "latest_quote_amount",
            "latest_quote_currency",
            "orders",
            "latest_order_date",
            "latest_order_number",
            "latest_order_amount",
            "latest_order_currency",
            "followups",
            "latest_followup_date",
            "latest_followup_by",
            "latest_followup_channel",
            "latest_followup_summary",
        ] {
            cols.push(c.to_string());
        }
    }
    let mut extra: Vec<&String> = records
        .iter()
        .flat_map(|r| r.customer.extra.keys())
        .collect();
    extra.sort();
    extra.dedup();
    cols.extend(extra.into_iter().cloned());
    cols
}

/// A team field's value as a cell: lists of plain values joined with
/// `, `; tables, and lists holding tables or lists, as JSON (which import
/// reads back).
fn text(v: &J) -> String {
    match v {
        J::Null => String::new(),
        J::String(s) => s.clone(),
        J::Array(a) if a.iter().any(|x| x.is_object() || x.is_array()) => v.to_string(),
        J::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// A team field's value in a cell: as its JSON value reads (dates as
/// `2025-01-01`, strings without quotes, lists joined).
fn team_text(v: &toml::Value) -> String {
    text(&crate::records::json_of(v))
}

/// The team's own keys of a list's entries, sorted: extra columns of its
/// sheet.
fn extra_keys<'a, T: 'a>(
    entries: impl Iterator<Item = &'a T>,
    extra: impl Fn(&'a T) -> &'a crate::records::Extra,
) -> Vec<String> {
    let mut keys: Vec<String> = entries.flat_map(|e| extra(e).keys().cloned()).collect();
    keys.sort();
    keys.dedup();
    keys
}

fn num(f: Option<f64>) -> String {
    f.map(|x| {
        if x.fract() == 0.0 && x.abs() < 1e15 {
            format!("{}", x as i64)
        } else {
            x.to_string()
        }
    })
    .unwrap_or_default()
}

/// The value of one column for one customer, as text.
pub fn cell(c: &Customer, col: &str) -> String {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    let d = |v: Option<chrono::NaiveDate>| v.map(|d| d.to_string()).unwrap_or_default();
    let numbered = |prefix: &str| -> Option<(usize, &str)> {
        let rest = col.strip_prefix(prefix)?;
        let (n, f) = rest.split_once('_')?;
        Some((n.parse::<usize>().ok()?.checked_sub(1)?, f))
    };
    if let Some((i, f)) = numbered("title") {
        return c
            .titles
            .get(i)
            .and_then(|t| field_text(t, f))
            .unwrap_or_default();
    }
    if let Some((i, f)) = numbered("contact") {
        let Some(x) = c.contacts.get(i) else {
            return String::new();
        };
        return contact_field(x, f);
    }
    let latest_q = c
        .quotes
        .iter()
        .filter(|q| q.date.is_some())
        .max_by_key(|q| q.date);
    let latest_o = c
        .orders
        .iter()
        .filter(|q| q.date.is_some())
        .max_by_key(|q| q.date);
    let latest_f = c.latest_followup();
    if let Some(v) = field_text(c, col) {
        return v;
    }
    if let Some(f) = col.strip_prefix("consent_") {
        return c
            .consent
            .as_ref()
            .and_then(|x| field_text(x, f))
            .unwrap_or_default();
    }
    match col {
        "quotes" => c.quotes.len().to_string(),
        "latest_quote_date" => d(latest_q.and_then(|q| q.date)),
        "latest_quote_product" => latest_q.map(|q| o(&q.product)).unwrap_or_default(),
        "latest_quote_amount" => num(latest_q.and_then(|q| q.amount)),
        "latest_quote_currency" => latest_q.map(|q| o(&q.currency)).unwrap_or_default(),
        "orders" => c.orders.len().to_string(),
        "latest_order_date" => d(latest_o.and_then(|q| q.date)),
        "latest_order_number" => latest_o.map(|q| o(&q.number)).unwrap_or_default(),
        "latest_order_amount" => num(latest_o.and_then(|q| q.amount)),
        "latest_order_currency" => latest_o.map(|q| o(&q.currency)).unwrap_or_default(),
        "followups" => c.followups.len().to_string(),
        "latest_followup_date" => d(latest_f.and_then(|f| f.date)),
        "latest_followup_by" => latest_f.map(|f| o(&f.by)).unwrap_or_default(),
        "latest_followup_channel" => latest_f.map(|f| o(&f.channel)).unwrap_or_default(),
        "latest_followup_summary" => latest_f.map(|f| o(&f.summary)).unwrap_or_default(),
        other => c.extra.get(other).map(team_text).unwrap_or_default(),
    }
}

fn contact_field(x: &Contact, f: &str) -> String {
    field_text(x, f)
        .or_else(|| x.extra.get(f).map(team_text))
        .unwrap_or_default()
}

/// The text of a built-in field holding a plain value, if `name` is one:
/// lists joined with `, `, nothing for a value that is absent.
fn field_text<T: Fields>(x: &T, name: &str) -> Option<String> {
    let f = T::FIELDS.iter().find(|f| f.name == name)?;
    Some(match f.acc {
        Acc::Req(get, _) => get(x).clone(),
        Acc::Str(get, _) => get(x).clone().unwrap_or_default(),
        Acc::Date(get, _) => get(x).map(|d| d.to_string()).unwrap_or_default(),
        Acc::Num(get, _) => num(*get(x)),
        Acc::Bool(get, _) => get(x).map(|b| b.to_string()).unwrap_or_default(),
        Acc::List(get, _) => get(x).join(", "),
        Acc::Nested(_) => return None,
    })
}

/// Pick `--fields` out of the available columns, in the order given.
pub fn select_columns(all: &[String], wanted: &[String]) -> Result<Vec<String>, String> {
    if wanted.is_empty() {
        return Ok(all.to_vec());
    }
    wanted
        .iter()
        .map(|w| {
            if all.contains(w) {
                Ok(w.clone())
            } else {
                Err(format!(
                    "no column `{w}` in this export (columns: {})",
                    all.join(", ")
                ))
            }
        })
        .collect()
}

/// A CSV file (UTF-8, comma, header row); cells neutralised unless `raw`
/// (see [`csv_row`]).
pub fn to_csv(records: &[&Record], columns: &[String], raw: bool) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    csv_row(&mut w, columns, raw)?;
    for r in records {
        csv_row(&mut w, columns.iter().map(|c| cell(&r.customer, c)), raw)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// Characters that make a spreadsheet read a cell as a formula (OWASP,
/// "CSV Injection").
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether a cell would start a formula once its leading quotes are
/// taken off. A plain number (`-5`, `+3`, `-1200.50`) is not: a
/// spreadsheet reads it as the number it is, and it runs nothing.
fn formula_like(cell: &str) -> bool {
    let t = cell.trim_start_matches('\'');
    t.starts_with(FORMULA_START) && !plain_number(t)
}

/// An optional sign, digits, and an optional fraction.
fn plain_number(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (int, frac) = s.split_once('.').unwrap_or((s, "0"));
    !int.is_empty()
        && !frac.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

/// Write one CSV row: every CSV folio writes goes through here. Unless
/// `raw`, a cell a spreadsheet would run as a formula (it starts with
/// `=`, `+`, `-`, `@`, a tab or a carriage return, and is not a plain
/// number) gets a `'` in front, as OWASP recommends; so does such a cell
/// that already starts with quotes, so that [`csv_unneutralise`] gives
/// back exactly what was written.
pub fn csv_row<W: std::io::Write, I, S>(
    w: &mut csv::Writer<W>,
    cells: I,
    raw: bool,
) -> Result<(), csv::Error>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    for c in cells {
        let c = c.as_ref();
        if !raw && formula_like(c) {
            w.write_field(format!("'{c}"))?;
        } else {
            w.write_field(c)?;
        }
    }
    w.write_record(None::<&[u8]>)
}

/// Undo [`csv_row`]'s neutralising on a cell read from a CSV file: a `'`
/// in front of what would be a formula is taken off.
pub fn csv_unneutralise(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if formula_like(rest) => rest,
        _ => cell,
    }
}

/// A JSON array of records (the record's `path`, then its fields), keys
/// limited to `fields`, in their order, when given.
pub fn to_json(records: &[&Record], fields: &[String], with_path: bool) -> J {
    J::Array(
        records
            .iter()
            .map(|r| {
                let mut m = Map::new();
                if with_path {
                    m.insert("path".into(), J::String(r.path.clone()));
                }
                if let Ok(J::Object(mut o)) = serde_json::to_value(&r.customer) {
                    if fields.is_empty() {
                        m.append(&mut o);
                    } else {
                        // the keys asked for, in the order asked
                        for f in fields {
                            if let Some(v) = o.remove(f) {
                                m.insert(f.clone(), v);
                            }
                        }
                    }
                }
                J::Object(m)
            })
            .collect(),
    )
}

/// Field names `--fields` accepts for JSON: the record's top-level keys.
pub const JSON_FIELDS: &[&str] = crate::records::TOP_LEVEL_KEYS;

/// An XLSX workbook: a Customers sheet (one row per customer), and
/// Contacts, Quotes, Orders and Followups sheets keyed by customer id, the
/// team's own fields of each entry in columns after the built-in ones.
pub fn to_xlsx(
    records: &[&Record],
    columns: &[String],
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let date_fmt = Format::new().set_num_format("yyyy-mm-dd");
    // the columns of dates: built-in date fields of the record and of consent
    let is_date = |c: &str| {
        let date = |ty| ty == crate::schema::Type::Date;
        match c.strip_prefix("consent_") {
            Some(k) => crate::fields::CONSENT
                .iter()
                .any(|f| f.name == k && date(f.ty())),
            None => crate::fields::CUSTOMER
                .iter()
                .any(|f| f.name == c && date(f.ty())),
        }
    };
    let rows = records
        .iter()
        .map(|r| {
            columns
                .iter()
                .map(|c| {
                    let v = cell(&r.customer, c);
                    if is_date(c) {
                        Cell::D(chrono::NaiveDate::parse_from_str(&v, "%Y-%m-%d").ok())
                    } else {
                        Cell::T(v)
                    }
                })
                .collect()
        })
        .collect();
    sheet(
        wb.add_worksheet(),
        "Customers",
        columns,
        rows,
        &bold,
        &date_fmt,
    )?;
    for (name, (head, rows)) in [
        ("Contacts", list_sheet(records, |c| &c.contacts)),
        ("Quotes", list_sheet(records, |c| &c.quotes)),
        ("Orders", list_sheet(records, |c| &c.orders)),
        ("Followups", list_sheet(records, |c| &c.followups)),
    ] {
        sheet(wb.add_worksheet(), name, &head, rows, &bold, &date_fmt)?;
    }
    wb.save_to_buffer()
}

/// One cell of a workbook: text, a date or a number (empty when absent).
enum Cell {
    T(String),
    D(Option<chrono::NaiveDate>),
    N(Option<f64>),
}

/// One sheet: a bold header row, the rows, frozen header, filters, fitted
/// columns.
fn sheet(
    ws: &mut rust_xlsxwriter::Worksheet,
    name: &str,
    head: &[String],
    rows: Vec<Vec<Cell>>,
    bold: &rust_xlsxwriter::Format,
    date_fmt: &rust_xlsxwriter::Format,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    use chrono::Datelike;
    ws.set_name(name)?;
    for (i, h) in head.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, h, bold)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (i, c) in row.iter().enumerate() {
            let i = i as u16;
            match c {
                Cell::T(s) if s.is_empty() => {}
                Cell::T(s) => {
                    ws.write_string(r, i, s)?;
                }
                Cell::D(Some(d)) => {
                    let x = rust_xlsxwriter::ExcelDateTime::from_ymd(
                        u16::try_from(d.year()).unwrap_or(1900),
                        d.month() as u8,
                        d.day() as u8,
                    )?;
                    ws.write_date_with_format(r, i, &x, date_fmt)?;
                }
                Cell::N(Some(n)) => {
                    ws.write_number(r, i, *n)?;
                }
                _ => {}
            }
        }
    }
    ws.set_freeze_panes(1, 0)?;
    if !head.is_empty() {
        ws.autofilter(0, 0, rows.len() as u32, head.len() as u16 - 1)?;
    }
    ws.autofit();
    Ok(())
}

/// The built-in fields of an entry, as cells.
fn entry_cells<T: Fields>(x: &T) -> Vec<Cell> {
    T::FIELDS
        .iter()
        .filter_map(|f| {
            Some(match f.acc {
                Acc::Date(get, _) => Cell::D(*get(x)),
                Acc::Num(get, _) => Cell::N(*get(x)),
                Acc::Nested(_) => return None,
                _ => Cell::T(field_text(x, f.name).unwrap_or_default()),
            })
        })
        .collect()
}

/// A list's sheet: the header and one row per entry, keyed by its
/// customer, the built-in fields and then the team's own.
fn list_sheet<'a, T: Fields>(
    records: &[&'a Record],
    entries: impl Fn(&'a Customer) -> &'a [T],
) -> (Vec<String>, Vec<Vec<Cell>>) {
    static NONE: crate::records::Extra = crate::records::Extra::new();
    let extra = |x: &'a T| x.extra().unwrap_or(&NONE);
    let more = extra_keys(records.iter().flat_map(|r| entries(&r.customer)), extra);
    let mut rows = Vec::new();
    for r in records {
        for x in entries(&r.customer) {
            let mut row = vec![
                Cell::T(r.customer.id.clone()),
                Cell::T(r.customer.name.clone()),
            ];
            row.extend(entry_cells(x));
            row.extend(
                more.iter()
                    .map(|k| Cell::T(extra(x).get(k).map(team_text).unwrap_or_default())),
            );
            rows.push(row);
        }
    }
    let head = ["customer_id", "customer"]
        .into_iter()
        .chain(T::FIELDS.iter().filter(|f| f.is_value()).map(|f| f.name))
        .map(String::from)
        .chain(more)
        .collect();
    (head, rows)
}

/// Escape a vCard text value (RFC 6350 §3.4).
fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            ',' => o.push_str("\\,"),
            ';' => o.push_str("\\;"),
            '\n' => o.push_str("\\n"),
            '\r' => {}
            c => o.push(c),
        }
    }
    o
}

/// Fold a content line at 75 octets (continuation lines start with a
/// space), never inside a UTF-8 character; end it with CRLF. The one
/// folding of vCard and iCalendar lines (RFC 6350 and RFC 5545 share it).
pub(crate) fn fold_line(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

/// vCard 4.0, one card per contact person (a customer without contacts
/// gives one card for its primary contact).
pub fn to_vcf(records: &[&Record]) -> String {
    let mut out = String::new();
    for r in records {
        let c = &r.customer;
        let mut people: Vec<Contact> = c.contacts.clone();
        if !c.contact.is_empty() && !people.iter().any(|p| p.name.trim() == c.contact.trim()) {
            people.insert(
                0,
                Contact {
                    name: c.contact.clone(),
                    ..Default::default()
                },
            );
        }
        for (i, p) in people.iter().enumerate() {
            let mut lines: Vec<String> = vec!["BEGIN:VCARD".into(), "VERSION:4.0".into()];
            lines.push(format!("UID:urn:folio:{}:{}", esc(&c.id), i + 1));
            lines.push(format!("FN:{}", esc(&p.name)));
            let (given, family) = match p.name.trim().rsplit_once(' ') {
                Some((g, f)) => (g.trim(), f.trim()),
                None => ("", p.name.trim()),
            };
            lines.push(format!("N:{};{};;;", esc(family), esc(given)));
            lines.push(format!("ORG:{}", esc(&c.name)));
            if let Some(role) = &p.role {
                lines.push(format!("TITLE:{}", esc(role)));
            }
            if let Some(e) = &p.email {
                lines.push(format!("EMAIL;TYPE=work:{}", esc(e)));
            }
            if let Some(t) = &p.phone {
                lines.push(format!("TEL;TYPE=work,voice;VALUE=text:{}", esc(t)));
            }
            if let Some(t) = &p.whatsapp {
                let digits: String = t
                    .chars()
                    .filter(|c| c.is_ascii_digit() || *c == '+')
                    .collect();
                lines.push(format!("IMPP;X-SERVICE-TYPE=WhatsApp:whatsapp:{digits}"));
            }
            if let Some(w) = &p.wechat {
                lines.push(format!("IMPP;X-SERVICE-TYPE=WeChat:weixin:{}", esc(w)));
            }
            if let Some(l) = &p.linkedin {
                lines.push(format!("URL;TYPE=linkedin:{l}"));
            }
            let country = crate::import::countries::english_name(&c.country).unwrap_or(&c.country);
            lines.push(format!(
                "ADR;TYPE=work:;;{};{};;;{}",
                esc(c.address.as_deref().unwrap_or("")),
                esc(c.city.as_deref().unwrap_or("")),
                esc(country)
            ));
            if let Some(w) = &c.website {
                lines.push(format!("URL;TYPE=work:{w}"));
            }
            if !c.tags.is_empty() {
                lines.push(format!(
                    "CATEGORIES:{}",
                    c.tags.iter().map(|t| esc(t)).collect::<Vec<_>>().join(",")
                ));
            }
            lines.push("END:VCARD".into());
            for l in lines {
                fold_line(&l, &mut out);
            }
        }
    }
    out
}

/// A short summary line for the human report.
pub fn describe(n: usize, format: &str) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "exported {n} customer{} as {format}",
        if n == 1 { "" } else { "s" }
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_follow_the_field_tables() {
        use crate::fields::{CONSENT_KEYS, CONTACT_KEYS, CUSTOMER_VALUE_KEYS, TITLE_KEYS};
        let r = Record {
            path: "x.toml".into(),
            customer: crate::fields::full(),
        };
        let cols = csv_columns(&[&r], true);
        let mut want: Vec<String> = CUSTOMER_VALUE_KEYS.map(String::from).to_vec();
        want.extend(CONSENT_KEYS.map(|k| format!("consent_{k}")));
        want.extend(TITLE_KEYS.map(|k| format!("title1_{k}")));
        want.extend(CONTACT_KEYS.map(|k| format!("contact1_{k}")));
        assert_eq!(cols[..want.len()], want);
        // each built-in column holds its field (full() sets each to its name
        // or a date)
        let cells: Vec<String> = want.iter().map(|c| cell(&r.customer, c)).collect();
        let mut expect: Vec<String> = CUSTOMER_VALUE_KEYS.map(String::from).to_vec();
        expect[crate::records::keys_before("created").len()] = "2025-01-01".into();
        expect[crate::records::keys_before("next_followup").len()] = "2025-01-02".into();
        expect.extend(["2025-01-07".into(), "purpose".into(), "basis".into()]);
        expect.extend(TITLE_KEYS.map(String::from));
        expect.extend(CONTACT_KEYS.map(String::from));
        assert_eq!(cells, expect);
        assert_eq!(JSON_FIELDS, crate::fields::CUSTOMER_KEYS);
    }

    #[test]
    fn folding_and_escaping() {
        let mut o = String::new();
        fold_line(&format!("NOTE:{}", "é".repeat(60)), &mut o);
        for line in o.split("\r\n") {
            assert!(line.len() <= 75, "{line}");
        }
        assert_eq!(
            o.replace("\r\n ", ""),
            format!("NOTE:{}\r\n", "é".repeat(60))
        );
        assert_eq!(esc("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }

    #[test]
    fn filters() {
        let c = Customer {
            country: "DE".into(),
            tags: vec!["vip".into()],
            ..Default::default()
        };
        let f = |s: &str| s.parse::<Filter>().unwrap();
        assert!(matches(&c, &[f("country=de")]));
        assert!(matches(
            &c,
            &[f("country=FR"), f("country=DE"), f("tag=vip")]
        ));
        assert!(!matches(&c, &[f("country=DE"), f("tag=new")]));
        assert!(matches(&c, &[f("owner=")]));
        assert!("colour=red".parse::<Filter>().is_err());
    }

    #[test]
    fn redaction_is_stable() {
        let mut r = Redactor::default();
        let mut c = Customer {
            contact: "Ann Lee".into(),
            contacts: vec![Contact {
                name: "ann lee".into(),
                email: Some("ann@x.de".into()),
                phone: Some("+49 30 1234567".into()),
                whatsapp: Some("+49-30-1234567".into()),
                ..Default::default()
            }],
            ..Default::default()
        };
        r.customer(&mut c);
        assert_eq!(c.contact, "Contact 1");
        assert_eq!(c.contacts[0].name, "Contact 1");
        assert_eq!(
            c.contacts[0].email.as_deref(),
            Some("contact1@example.invalid")
        );
        assert_eq!(c.contacts[0].phone, c.contacts[0].whatsapp);
        assert!(crate::schema::is_phone(
            c.contacts[0].phone.as_deref().unwrap()
        ));
    }
}
