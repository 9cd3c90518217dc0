//! Importing customers from spreadsheets (issue 8): read a CSV or workbook,
//! map its columns to record fields, turn each row into a record, find the
//! rows that duplicate an existing record or an earlier row (the rules of
//! `folio check`), and plan the files to write. [`apply`] then writes them
//! all or none.
//!
//! Every bad row is kept as [`Problem`]s (row, column, reason) and the rest
//! go on; nothing here prints.

pub mod countries;
pub mod mapping;
pub mod sheet;

use crate::config::{DuplicatesConfig, Staff};
use crate::diagnostics::Severity;
use crate::merge::{self, Mode};
use crate::naming::{RulePath, Template};
use crate::records::{Consent, Contact, Customer, Title};
use crate::repo::Record;
use crate::schema::Schema;
use chrono::NaiveDate;
pub use mapping::{FieldSpec, ListKind, Mapping, OnInvalid, Target};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// What to do with a row that duplicates a record or an earlier row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnDuplicate {
    /// Leave the row out (the default).
    Skip,
    /// Fill the existing record's empty fields; list conflicting values.
    Update,
    /// Write nothing at all.
    Fail,
}

/// Where new ids come from.
#[derive(Debug, Clone)]
pub enum Ids {
    Ulid,
    /// `PREFIX1`, `PREFIX2`, ... in row order (for tests and scripted runs).
    Sequential(String),
}

/// One problem with one cell (or a whole row, with column `-`). `row` is
/// the customer's row; a cell of a list sheet (contacts, quotes, ...) also
/// names its sheet and row there.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Problem {
    pub row: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet_row: Option<usize>,
    pub column: String,
    pub field: String,
    pub value: String,
    pub reason: String,
}

/// A list sheet read beside the customers (folio's own export: Contacts,
/// Quotes, Orders, Followups).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListRead {
    pub sheet: String,
    /// The record's list it feeds: `contacts`, `quotes`, `orders`, `followups`.
    pub list: &'static str,
    pub rows: usize,
}

/// Data of the workbook that the import does not carry: a whole sheet
/// (`column` none) or one column of a list sheet; `rows` is how many rows
/// had data there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeftOut {
    pub sheet: String,
    pub column: Option<String>,
    pub rows: usize,
    pub reason: String,
}

/// A row that becomes a new record.
#[derive(Debug, Clone, Serialize)]
pub struct Created {
    pub row: usize,
    pub path: String,
    pub id: String,
    #[serde(skip)]
    pub customer: Customer,
}

/// A conflicting value an update left alone.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateConflict {
    pub row: usize,
    pub field: String,
    pub existing: String,
    pub imported: String,
}

/// An existing record that rows fill in.
#[derive(Debug, Clone, Serialize)]
pub struct Updated {
    pub path: String,
    pub id: String,
    pub rows: Vec<usize>,
    /// Fields that were empty and are now filled.
    pub filled: Vec<String>,
    pub conflicts: Vec<UpdateConflict>,
    #[serde(skip)]
    pub original: Customer,
    #[serde(skip)]
    pub customer: Customer,
}

/// A duplicate row left out (or, with `fail`, the reason to stop).
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub row: usize,
    /// The existing record's path, or `row N`.
    pub duplicate_of: String,
    pub reason: String,
}

/// Everything an import would do.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Plan {
    /// Data rows read.
    pub rows: usize,
    pub created: Vec<Created>,
    pub updated: Vec<Updated>,
    /// Rows that updated a record created by an earlier row of the import.
    pub merged_into_new: Vec<Skipped>,
    pub skipped: Vec<Skipped>,
    /// Every problem of every rejected row.
    pub rejected: Vec<Problem>,
    pub rejected_rows: usize,
    /// Values left out under `on_invalid = "drop"` (their rows imported).
    pub dropped: Vec<Problem>,
    /// `--on-duplicate fail` met a duplicate: nothing is to be written.
    pub stopped: bool,
    /// Other sheets read as lists of the customers' entries.
    pub lists: Vec<ListRead>,
    /// Sheets and columns with data that is not imported.
    pub not_imported: Vec<LeftOut>,
}

impl Plan {
    /// Rows that updated a record (existing or new).
    pub fn updated_rows(&self) -> usize {
        self.updated.iter().map(|u| u.rows.len()).sum::<usize>() + self.merged_into_new.len()
    }
}

/// The repository side of an import.
pub struct Env<'a> {
    pub schema: &'a Schema,
    pub staff: &'a Staff,
    pub template: &'a Template,
    pub duplicates: &'a DuplicatesConfig,
    pub as_of: NaiveDate,
    pub on_duplicate: OnDuplicate,
    pub ids: Ids,
}

/// Check that a mapping can make records at all.
pub fn check_mapping(m: &Mapping) -> Result<(), String> {
    let has = |t: &Target| m.get(t).is_some();
    if !has(&Target::Top("name")) {
        return Err("no column feeds the company name (`name`)".into());
    }
    if !has(&Target::Top("contact")) && !has(&Target::Contact(1, "name")) {
        return Err("no column feeds the contact (`contact` or `contact1.name`)".into());
    }
    if !has(&Target::Top("country")) {
        return Err(
            "no column feeds the country (`country`; or give `country = { default = \"DE\" }`)"
                .into(),
        );
    }
    Ok(())
}

/// The team's own top-level fields (declared in the repository's
/// `schema/`), which a column can feed by their names.
pub fn team_fields(schema: &Schema) -> Vec<String> {
    schema
        .fields
        .iter()
        .filter(|f| !crate::records::TOP_LEVEL_KEYS.contains(&f.name.as_str()))
        .map(|f| f.name.clone())
        .collect()
}

/// One column of a list sheet: the entry's field it feeds (`team` when it
/// is one of the team's own fields of that list).
struct ListColumn<'a> {
    index: usize,
    header: &'a str,
    field: &'a str,
    team: Option<&'a crate::schema::Field>,
}

/// A list sheet and how its columns map.
struct ListSheet<'a> {
    name: &'a str,
    kind: ListKind,
    columns: Vec<ListColumn<'a>>,
}

/// The list sheets of a workbook, their rows by customer id.
#[derive(Default)]
struct Lists<'a> {
    sheets: Vec<ListSheet<'a>>,
    by_id: HashMap<&'a str, Vec<(usize, &'a sheet::SheetRow)>>,
}

/// Read the other sheets of a workbook as lists linked to the main sheet's
/// rows by `customer_id` = `id`; whatever cannot be linked or mapped goes
/// to `out.not_imported`. One pass over every row.
fn read_lists<'a>(
    sheet: &'a sheet::Sheet,
    mapping: &Mapping,
    schema: &'a Schema,
    out: &mut Plan,
) -> Lists<'a> {
    let mut lists = Lists::default();
    let main = sheet.sheet.as_deref().unwrap_or("(the first)");
    let id_col = mapping
        .get(&Target::Top("id"))
        .and_then(|s| s.columns.first())
        .and_then(|c| sheet.headers.iter().position(|h| h == c));
    let ids: HashSet<&str> = match id_col {
        Some(i) => sheet
            .rows
            .iter()
            .filter_map(|r| r.cells.get(i).map(String::as_str))
            .filter(|v| !v.is_empty())
            .collect(),
        None => HashSet::new(),
    };
    for o in &sheet.others {
        let name = o.sheet.as_deref().unwrap_or_default();
        if o.rows.is_empty() {
            continue;
        }
        let left_out = |reason: String| LeftOut {
            sheet: name.to_string(),
            column: None,
            rows: o.rows.len(),
            reason,
        };
        let Some(kind) = ListKind::of_sheet(name) else {
            out.not_imported.push(left_out(format!(
                "folio does not know this sheet (beside the customers it reads the sheets of its own export: {})",
                ListKind::ALL.map(|k| k.sheet()).join(", ")
            )));
            continue;
        };
        let Some(link) = o.headers.iter().position(|h| h == mapping::LINK_COLUMN) else {
            out.not_imported.push(left_out(format!(
                "no `{}` column to link its rows to their customers",
                mapping::LINK_COLUMN
            )));
            continue;
        };
        if id_col.is_none() {
            out.not_imported.push(left_out(format!(
                "sheet \"{main}\" has no `id` column that `{}` could name",
                mapping::LINK_COLUMN
            )));
            continue;
        }
        let nested = schema
            .field(kind.key())
            .map(|f| f.fields.as_slice())
            .unwrap_or_default();
        let mut columns = Vec::new();
        for (index, h) in o.headers.iter().enumerate() {
            if index == link || h == mapping::LABEL_COLUMN {
                continue;
            }
            if let Some(f) = kind.fields().iter().find(|f| **f == h) {
                columns.push(ListColumn {
                    index,
                    header: h,
                    field: f,
                    team: None,
                });
            } else if let Some(f) = nested.iter().find(|f| f.name == *h) {
                columns.push(ListColumn {
                    index,
                    header: h,
                    field: &f.name,
                    team: Some(f),
                });
            } else {
                let filled = o
                    .rows
                    .iter()
                    .filter(|r| r.cells.get(index).is_some_and(|c| !c.is_empty()))
                    .count();
                if filled > 0 {
                    out.not_imported.push(LeftOut {
                        sheet: name.to_string(),
                        column: Some(h.clone()),
                        rows: filled,
                        reason: format!(
                            "`{}` has no field `{h}` (fields: {}; a team's own field is declared in schema/*.toml as [fields.{}.fields.{h}])",
                            kind.key(),
                            kind.fields().join(", "),
                            kind.key()
                        ),
                    });
                }
            }
        }
        let k = lists.sheets.len();
        let mut unlinked: Vec<&str> = Vec::new();
        let mut n_unlinked = 0;
        for r in &o.rows {
            let id = r.cells.get(link).map(String::as_str).unwrap_or_default();
            if ids.contains(id) {
                lists.by_id.entry(id).or_default().push((k, r));
            } else {
                n_unlinked += 1;
                if unlinked.len() < 5 && !unlinked.contains(&id) {
                    unlinked.push(id);
                }
            }
        }
        if n_unlinked > 0 {
            out.not_imported.push(left_out(format!(
                "`{}` is on no row of sheet \"{main}\": {}",
                mapping::LINK_COLUMN,
                unlinked
                    .iter()
                    .map(|i| format!("\"{i}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
            if let Some(l) = out.not_imported.last_mut() {
                l.rows = n_unlinked;
            }
        }
        out.lists.push(ListRead {
            sheet: name.to_string(),
            list: kind.key(),
            rows: o.rows.len() - n_unlinked,
        });
        lists.sheets.push(ListSheet {
            name,
            kind,
            columns,
        });
    }
    lists
}

/// A row made into a customer.
struct Candidate {
    row: usize,
    /// The row gave the record's id (an `id` column).
    kept_id: bool,
    customer: Customer,
    /// Fields that took a default rather than a cell.
    defaulted: Vec<Target>,
    dropped: Vec<Problem>,
}

struct Converter<'a> {
    specs: Vec<(&'a FieldSpec, Vec<usize>)>,
    mapping: &'a Mapping,
    env: &'a Env<'a>,
    lists: &'a Lists<'a>,
    team: Vec<String>,
    /// Staff handles by folded handle, name and e-mail.
    staff_keys: HashMap<String, String>,
}

impl<'a> Converter<'a> {
    fn new(
        sheet: &sheet::Sheet,
        mapping: &'a Mapping,
        env: &'a Env<'a>,
        lists: &'a Lists<'a>,
    ) -> Self {
        let specs = mapping
            .fields
            .iter()
            .map(|f| {
                let idx = f
                    .columns
                    .iter()
                    .filter_map(|c| sheet.headers.iter().position(|h| h == c))
                    .collect();
                (f, idx)
            })
            .collect();
        let mut staff_keys = HashMap::new();
        for (h, m) in env.staff.iter() {
            staff_keys.insert(countries::fold(&m.name), h.to_string());
            if let Some(e) = &m.email {
                staff_keys.insert(e.trim().to_lowercase(), h.to_string());
            }
        }
        // handles win over names
        for (h, _) in env.staff.iter() {
            staff_keys.insert(h.to_lowercase(), h.to_string());
        }
        Converter {
            specs,
            mapping,
            env,
            lists,
            team: team_fields(env.schema),
            staff_keys,
        }
    }

    fn column_of(&self, t: &Target) -> String {
        self.mapping
            .get(t)
            .map(|s| {
                if s.columns.is_empty() {
                    "(default)".to_string()
                } else {
                    s.columns.join(" + ")
                }
            })
            .unwrap_or_else(|| "-".into())
    }

    /// The text of the cells that feed `t` in `row`, joined as the import
    /// joins them (empty when no column feeds it).
    fn cell_of(&self, row: &sheet::SheetRow, t: &Target) -> String {
        self.specs
            .iter()
            .find(|(spec, _)| spec.target == *t)
            .map(|(spec, idx)| {
                idx.iter()
                    .filter_map(|&i| row.cells.get(i).map(String::as_str))
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(&spec.join)
            })
            .unwrap_or_default()
    }

    fn convert(&self, row: &sheet::SheetRow) -> Result<Candidate, Vec<Problem>> {
        let mut c = Customer::default();
        let mut contacts: BTreeMap<usize, Contact> = BTreeMap::new();
        let mut titles: BTreeMap<usize, Title> = BTreeMap::new();
        let mut consent = Consent::default();
        let mut errors = Vec::new();
        let mut dropped = Vec::new();
        let mut defaulted = Vec::new();
        for (spec, idx) in &self.specs {
            let cells: Vec<&str> = idx
                .iter()
                .filter_map(|&i| row.cells.get(i).map(String::as_str))
                .filter(|s| !s.is_empty())
                .collect();
            let mut raw = cells.join(&spec.join);
            if raw.is_empty() {
                match &spec.default {
                    Some(d) => {
                        raw = d.clone();
                        defaulted.push(spec.target.clone());
                    }
                    None => continue,
                }
            }
            if let Some((_, to)) = spec
                .values
                .iter()
                .find(|(from, _)| *from == raw)
                .or_else(|| {
                    spec.values
                        .iter()
                        .find(|(from, _)| from.to_lowercase() == raw.to_lowercase())
                })
            {
                raw = to.clone();
            }
            let column = if spec.columns.is_empty() {
                "(default)".to_string()
            } else {
                spec.columns.join(" + ")
            };
            let problem = |reason: String| Problem {
                row: row.number,
                column: column.clone(),
                field: spec.target.name(),
                value: raw.clone(),
                reason,
                ..Default::default()
            };
            match self.value(spec, &raw) {
                Ok(v) => set(
                    &mut c,
                    &mut contacts,
                    &mut titles,
                    &mut consent,
                    &spec.target,
                    v,
                ),
                Err(reason) => {
                    if spec.target.checked() && spec.on_invalid == OnInvalid::Drop {
                        dropped.push(problem(reason));
                    } else {
                        errors.push(problem(reason));
                    }
                }
            }
        }
        let whole = |reason: &str, t: &Target| Problem {
            row: row.number,
            column: self.column_of(t),
            field: t.name(),
            value: String::new(),
            reason: reason.to_string(),
            ..Default::default()
        };
        if c.contact.is_empty()
            && let Some(first) = contacts.values().next()
        {
            c.contact = first.name.clone();
        }
        for (n, ct) in contacts.iter_mut() {
            if ct.name.is_empty() {
                if *n == 1 && !c.contact.is_empty() {
                    ct.name = c.contact.clone();
                } else {
                    errors.push(whole(
                        &format!("contact {n} has details but no name"),
                        &Target::Contact(*n, "name"),
                    ));
                }
            }
        }
        for (n, t) in titles.iter_mut() {
            if t.name.is_empty() {
                if *n == 1 && !c.name.is_empty() {
                    t.name = c.name.clone();
                } else {
                    errors.push(whole(
                        &format!("title {n} has a registration but no name"),
                        &Target::Title(*n, "name"),
                    ));
                }
            }
        }
        for (t, what) in [
            ("name", "a company name"),
            ("contact", "a contact"),
            ("country", "a country"),
        ] {
            let empty = match t {
                "name" => c.name.is_empty(),
                "contact" => c.contact.is_empty(),
                _ => c.country.is_empty(),
            };
            if empty && !errors.iter().any(|e| e.field == t) {
                errors.push(whole(
                    &format!("empty: every customer needs {what}"),
                    &Target::Top(t),
                ));
            }
        }
        if c.tier.is_empty() {
            c.tier = "D".into();
            defaulted.push(Target::Top("tier"));
        }
        if c.stage.is_empty() {
            c.stage = "prospect".into();
            defaulted.push(Target::Top("stage"));
        }
        if c.created.is_none() {
            c.created = Some(self.env.as_of);
            defaulted.push(Target::Top("created"));
        }
        let contact_numbers: Vec<usize> = contacts.keys().copied().collect();
        let title_numbers: Vec<usize> = titles.keys().copied().collect();
        c.contacts = contacts.into_values().collect();
        c.titles = titles.into_values().collect();
        if consent != Consent::default() {
            c.consent = Some(consent);
        }
        // the entries on list sheets, linked by the row's id
        // (list, index in the list, list sheet, row there) of every entry
        let mut origins: Vec<(ListKind, usize, usize, &sheet::SheetRow)> = Vec::new();
        if !c.id.is_empty()
            && let Some(entries) = self.lists.by_id.get(c.id.as_str())
        {
            for (k, r) in entries {
                let ls = &self.lists.sheets[*k];
                let index = match ls.kind {
                    ListKind::Contacts => c.contacts.len(),
                    ListKind::Quotes => c.quotes.len(),
                    ListKind::Orders => c.orders.len(),
                    ListKind::Followups => c.followups.len(),
                };
                match self.entry(ls, r, row.number, &mut c) {
                    Ok(()) => origins.push((ls.kind, index, *k, r)),
                    Err(p) => errors.extend(p),
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        // Validate exactly what will be written, with the repository's rules.
        let kept_id = !c.id.is_empty();
        if !kept_id {
            c.id = "IMPORT".into();
        }
        let text = match crate::edit::render(&c) {
            Ok(text) => text,
            Err(e) => {
                let target = target_of(e.field(), &contact_numbers, &title_numbers, &self.team);
                return Err(vec![Problem {
                    row: row.number,
                    sheet: None,
                    sheet_row: None,
                    column: target
                        .as_ref()
                        .map(|t| self.column_of(t))
                        .unwrap_or_else(|| "-".into()),
                    value: target
                        .as_ref()
                        .map(|t| self.cell_of(row, t))
                        .unwrap_or_default(),
                    field: target.map(|t| t.name()).unwrap_or(e.field().to_string()),
                    reason: e.to_string(),
                }]);
            }
        };
        let ctx = crate::records::Context {
            schema: self.env.schema,
            staff: Some(self.env.staff),
            as_of: self.env.as_of,
        };
        let parsed = crate::records::parse(&text, "(row)", &ctx);
        for d in parsed
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
        {
            let field = d.field.clone().unwrap_or_default();
            let mut reason = d.message.clone();
            if let Some(h) = &d.hint {
                reason.push_str(&format!(" ({h})"));
            }
            // an entry from a list sheet: its sheet, row and column
            if let Some((kind, i, rest)) = list_entry(&field)
                && let Some(&(_, _, k, list_row)) = origins.iter().find(|o| o.0 == kind && o.1 == i)
            {
                let ls = &self.lists.sheets[k];
                let key = rest.split(['.', '[']).next().unwrap_or(rest);
                let col = ls.columns.iter().find(|c| c.field == key);
                errors.push(Problem {
                    row: row.number,
                    sheet: Some(ls.name.to_string()),
                    sheet_row: Some(list_row.number),
                    column: col
                        .map(|c| c.header.to_string())
                        .unwrap_or_else(|| "-".into()),
                    field: if key.is_empty() {
                        kind.key().to_string()
                    } else {
                        format!("{}.{key}", kind.key())
                    },
                    value: col
                        .and_then(|c| list_row.cells.get(c.index))
                        .cloned()
                        .unwrap_or_default(),
                    reason,
                });
                continue;
            }
            let target = target_of(&field, &contact_numbers, &title_numbers, &self.team);
            let column = target
                .as_ref()
                .map(|t| self.column_of(t))
                .unwrap_or_else(|| "-".into());
            errors.push(Problem {
                row: row.number,
                column,
                value: target
                    .as_ref()
                    .map(|t| self.cell_of(row, t))
                    .unwrap_or_default(),
                field: target.map(|t| t.name()).unwrap_or(field),
                reason,
                ..Default::default()
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Candidate {
            row: row.number,
            kept_id,
            customer: c,
            defaulted,
            dropped,
        })
    }

    /// A cell's text as the value of its field.
    fn value(&self, spec: &FieldSpec, raw: &str) -> Result<Value, String> {
        let list = |raw: &str| -> Vec<String> {
            match &spec.separator {
                Some(sep) => raw
                    .split(sep.as_str())
                    .map(str::to_string)
                    .collect::<Vec<String>>(),
                None => raw
                    .split([',', ';', '|', '、', '，', '；'])
                    .map(str::to_string)
                    .collect(),
            }
            .into_iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
        };
        Ok(match &spec.target {
            Target::Top("id") => {
                let id = raw.trim();
                if !crate::schema::is_id(id) {
                    return Err(format!(
                        "`{raw}` is not a record id (1 to 64 letters, digits, `_` or `-`)"
                    ));
                }
                Value::Text(id.to_string())
            }
            Target::Team(name) => {
                let f = self
                    .env
                    .schema
                    .field(name)
                    .ok_or_else(|| format!("`{name}` is not in the repository's schema"))?;
                Value::Json(team_value(f, raw, spec.separator.as_deref())?)
            }
            Target::Top("country") => Value::Text(
                countries::country_code(raw, &self.mapping.countries).ok_or_else(|| {
                    format!(
                        "`{raw}` is not a country folio knows (write an ISO 3166-1 code such as \"DE\", or add the name under [countries] in the mapping)"
                    )
                })?,
            ),
            Target::Top("owner") => {
                let key = raw.trim().to_lowercase();
                let h = self
                    .staff_keys
                    .get(&key)
                    .or_else(|| self.staff_keys.get(&countries::fold(raw)))
                    .ok_or_else(|| {
                        format!(
                            "`{raw}` is nobody in staff.toml (give a handle, a name or an e-mail of a staff member)"
                        )
                    })?;
                Value::Text(h.clone())
            }
            Target::Top("tier") => Value::Text(raw.trim().to_uppercase()),
            Target::Top("stage") => Value::Text(raw.trim().to_lowercase()),
            Target::Top("type") => Value::Text(
                raw.trim()
                    .to_lowercase()
                    .replace([' ', '_'], "-"),
            ),
            Target::Top("website") => Value::Text(website(raw)?),
            Target::Top("tags") => {
                let mut v: Vec<String> = Vec::new();
                for t in list(raw) {
                    let s = crate::naming::slug(&t);
                    if s.is_empty() {
                        return Err(format!("tag `{t}` has no letters or digits"));
                    }
                    if !v.contains(&s) {
                        v.push(s);
                    }
                }
                Value::List(v)
            }
            Target::Top("incoterms") => {
                let mut v: Vec<String> = Vec::new();
                for t in list(raw) {
                    let s = t.to_uppercase();
                    if !v.contains(&s) {
                        v.push(s);
                    }
                }
                Value::List(v)
            }
            Target::Top(f) if is_date(f) => Value::Date(date(raw, spec.format.as_deref())?),
            Target::Contact(_, f) => Value::Text(formatted(crate::fields::CONTACT, f, raw)?),
            _ => Value::Text(raw.trim().to_string()),
        })
    }
}

impl Converter<'_> {
    /// One row of a list sheet as an entry of `c` (a contact, quote, order
    /// or follow-up); `main_row` is the customer's row.
    fn entry(
        &self,
        ls: &ListSheet,
        r: &sheet::SheetRow,
        main_row: usize,
        c: &mut Customer,
    ) -> Result<(), Vec<Problem>> {
        use crate::records::{Followup, Order, Quote};
        let mut errors = Vec::new();
        let mut contact = Contact::default();
        let mut quote = Quote::default();
        let mut order = Order::default();
        let mut followup = Followup::default();
        let mut extra = BTreeMap::new();
        for col in &ls.columns {
            let raw = r.cells.get(col.index).map(String::as_str).unwrap_or("");
            if raw.is_empty() {
                continue;
            }
            let result: Result<(), String> = (|| {
                if let Some(f) = col.team {
                    extra.insert(col.field.to_string(), team_value(f, raw, None)?);
                    return Ok(());
                }
                match ls.kind {
                    ListKind::Contacts => cell(&mut contact, col.field, raw)?,
                    ListKind::Quotes => cell(&mut quote, col.field, raw)?,
                    ListKind::Orders => cell(&mut order, col.field, raw)?,
                    ListKind::Followups => cell(&mut followup, col.field, raw)?,
                }
                Ok(())
            })();
            if let Err(reason) = result {
                errors.push(Problem {
                    row: main_row,
                    sheet: Some(ls.name.to_string()),
                    sheet_row: Some(r.number),
                    column: col.header.to_string(),
                    field: format!("{}.{}", ls.kind.key(), col.field),
                    value: raw.to_string(),
                    reason,
                });
            }
        }
        if ls.kind == ListKind::Contacts && contact.name.is_empty() && errors.is_empty() {
            errors.push(Problem {
                row: main_row,
                sheet: Some(ls.name.to_string()),
                sheet_row: Some(r.number),
                column: "name".into(),
                field: "contacts.name".into(),
                value: String::new(),
                reason: "empty: every contact needs a name".into(),
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        match ls.kind {
            ListKind::Contacts => {
                contact.extra = extra;
                c.contacts.push(contact);
            }
            ListKind::Quotes => {
                quote.extra = extra;
                c.quotes.push(quote);
            }
            ListKind::Orders => {
                order.extra = extra;
                c.orders.push(order);
            }
            ListKind::Followups => {
                followup.extra = extra;
                c.followups.push(followup);
            }
        }
        Ok(())
    }
}

/// An amount cell (a number; thousands separators `,` and spaces allowed).
fn amount(raw: &str) -> Result<f64, String> {
    raw.trim()
        .replace([',', ' '], "")
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .ok_or_else(|| format!("`{raw}` is not an amount (a number such as 1200.50)"))
}

/// A yes/no cell.
fn boolean(raw: &str) -> Result<bool, String> {
    match raw.trim().to_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "是" => Ok(true),
        "false" | "no" | "n" | "0" | "否" => Ok(false),
        _ => Err(format!("`{raw}` is not true or false")),
    }
}

/// A cell as the value of a team field of the schema's type: lists split
/// like tags (or at `separator`), tables as JSON (as folio exports them).
/// The value keeps its TOML type (a date field's value is a TOML date, a
/// string field's `2025-01-01` stays a string).
fn team_value(
    f: &crate::schema::Field,
    raw: &str,
    separator: Option<&str>,
) -> Result<toml::Value, String> {
    team_json(f, raw, separator).map(|j| typed_toml(&j, f.ty, f.items))
}

/// A JSON value read from a cell as the TOML value of a field of type `ty`
/// (items of type `items`): dates become TOML dates only where the schema
/// says date.
fn typed_toml(
    j: &serde_json::Value,
    ty: crate::schema::Type,
    items: crate::schema::Type,
) -> toml::Value {
    use crate::schema::Type;
    use serde_json::Value as J;
    match (ty, j) {
        (Type::Date, J::String(s)) => s
            .parse::<toml::value::Datetime>()
            .map(toml::Value::Datetime)
            .unwrap_or_else(|_| toml::Value::String(s.clone())),
        (Type::Array, J::Array(a)) => {
            toml::Value::Array(a.iter().map(|x| typed_toml(x, items, items)).collect())
        }
        (_, J::String(s)) => toml::Value::String(s.clone()),
        (_, J::Bool(b)) => toml::Value::Boolean(*b),
        (_, J::Number(n)) => match n.as_i64() {
            Some(i) => toml::Value::Integer(i),
            None => toml::Value::Float(n.as_f64().unwrap_or_default()),
        },
        (_, J::Array(a)) => toml::Value::Array(
            a.iter()
                .map(|x| typed_toml(x, Type::String, Type::String))
                .collect(),
        ),
        (_, J::Object(o)) => toml::Value::Table(
            o.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), typed_toml(v, Type::String, Type::String)))
                .collect(),
        ),
        (_, J::Null) => toml::Value::String(String::new()),
    }
}

fn team_json(
    f: &crate::schema::Field,
    raw: &str,
    separator: Option<&str>,
) -> Result<serde_json::Value, String> {
    use crate::schema::Type;
    use serde_json::Value as J;
    fn scalar(ty: Type, s: &str) -> Result<J, String> {
        Ok(match ty {
            Type::String => J::String(s.to_string()),
            Type::Integer => J::from(
                s.parse::<i64>()
                    .map_err(|_| format!("`{s}` is not an integer"))?,
            ),
            Type::Number => match s.parse::<i64>() {
                Ok(i) => J::from(i),
                Err(_) => s
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .map(J::from)
                    .ok_or_else(|| format!("`{s}` is not a number"))?,
            },
            Type::Boolean => J::Bool(boolean(s)?),
            Type::Date => J::String(date(s, None)?.to_string()),
            Type::Array | Type::Table | Type::Tables => {
                let v: J = serde_json::from_str(s)
                    .map_err(|e| format!("`{s}` is not a JSON value ({e})"))?;
                let fits = match ty {
                    Type::Array => v.is_array(),
                    Type::Table => v.is_object(),
                    _ => v.as_array().is_some_and(|a| a.iter().all(J::is_object)),
                };
                if !fits {
                    return Err(format!(
                        "`{s}` is not {}",
                        match ty {
                            Type::Array => "a JSON array",
                            Type::Table => "a JSON object",
                            _ => "a JSON array of objects",
                        }
                    ));
                }
                v
            }
        })
    }
    let s = raw.trim();
    if f.ty != Type::Array {
        return scalar(f.ty, s);
    }
    if s.starts_with('[')
        && let Ok(v @ J::Array(_)) = serde_json::from_str::<J>(s)
    {
        return Ok(v);
    }
    let items: Vec<&str> = match separator {
        Some(sep) => s.split(sep).collect(),
        None => s.split([',', ';', '|', '、', '，', '；']).collect(),
    };
    items
        .into_iter()
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| scalar(f.items, x))
        .collect::<Result<Vec<_>, _>>()
        .map(J::Array)
}

enum Value {
    Text(String),
    List(Vec<String>),
    Date(NaiveDate),
    /// A team field's value, typed by the schema.
    Json(toml::Value),
}

fn set(
    c: &mut Customer,
    contacts: &mut BTreeMap<usize, Contact>,
    titles: &mut BTreeMap<usize, Title>,
    consent: &mut Consent,
    t: &Target,
    v: Value,
) {
    match t {
        Target::Team(name) => {
            if let Value::Json(j) = v {
                c.extra.insert(name.clone(), j);
            }
        }
        Target::Top(f) => match f.strip_prefix("consent.") {
            Some(k) => put(consent, k, v),
            None => put(c, f, v),
        },
        Target::Contact(n, f) => put(contacts.entry(*n).or_default(), f, v),
        Target::Title(n, f) => put(titles.entry(*n).or_default(), f, v),
    }
}

/// Whether a top-level target (`created`, `consent.date`) is a date.
fn is_date(target: &str) -> bool {
    use crate::fields::{CONSENT, CUSTOMER};
    use crate::schema::Type;
    match target.strip_prefix("consent.") {
        Some(k) => CONSENT.iter().any(|f| f.name == k && f.ty() == Type::Date),
        None => CUSTOMER
            .iter()
            .any(|f| f.name == target && f.ty() == Type::Date),
    }
}

/// A text cell for the built-in field `name` of a table: an e-mail address
/// or a phone number checked and tidied, other text as it is.
fn formatted<T>(
    fields: &[crate::fields::Field<T>],
    name: &str,
    raw: &str,
) -> Result<String, String> {
    use crate::schema::Format;
    match fields
        .iter()
        .find(|f| f.name == name)
        .and_then(|f| f.format)
    {
        Some(Format::Email) => email(raw),
        Some(Format::Phone) => phone(raw),
        _ => Ok(raw.trim().to_string()),
    }
}

/// A list sheet's cell as the built-in field `name` of an entry, read as
/// the field's type.
fn cell<T: crate::fields::Fields>(x: &mut T, name: &str, raw: &str) -> Result<(), String> {
    use crate::fields::Acc;
    let Some(f) = T::FIELDS.iter().find(|f| f.name == name) else {
        return Ok(());
    };
    match f.acc {
        Acc::Req(_, m) => *m(x) = raw.to_string(),
        Acc::Str(_, m) => {
            *m(x) = Some(match f.format {
                Some(crate::schema::Format::Email) => email(raw)?,
                Some(crate::schema::Format::Phone) => phone(raw)?,
                _ => raw.to_string(),
            })
        }
        Acc::Date(_, m) => *m(x) = Some(date(raw, None)?),
        Acc::Num(_, m) => *m(x) = Some(amount(raw)?),
        Acc::Bool(_, m) => *m(x) = Some(boolean(raw)?),
        Acc::List(_, m) => {
            *m(x) = raw
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        }
        Acc::Nested(_) => {}
    }
    Ok(())
}

/// Set the built-in field `name` of `x` to a value of its type.
fn put<T: crate::fields::Fields>(x: &mut T, name: &str, v: Value) {
    use crate::fields::Acc;
    let Some(f) = T::FIELDS.iter().find(|f| f.name == name) else {
        return;
    };
    match (f.acc, v) {
        (Acc::Req(_, m), Value::Text(s)) => *m(x) = s,
        (Acc::Str(_, m), Value::Text(s)) => *m(x) = Some(s),
        (Acc::Date(_, m), Value::Date(d)) => *m(x) = Some(d),
        (Acc::List(_, m), Value::List(l)) => *m(x) = l,
        _ => {}
    }
}

/// The mapping target of a diagnostic's field (`contacts[0].email`).
fn target_of(field: &str, contacts: &[usize], titles: &[usize], team: &[String]) -> Option<Target> {
    let (head, rest) = field.split_once('.').unwrap_or((field, ""));
    let index = |p: &str| -> Option<usize> {
        p.split_once('[')?
            .1
            .trim_end_matches(']')
            .parse::<usize>()
            .ok()
    };
    if head.starts_with("contacts[") {
        let n = *contacts.get(index(head)?)?;
        return Target::parse(&format!("contact{n}.{rest}"));
    }
    if head.starts_with("titles[") {
        let n = *titles.get(index(head)?)?;
        return Target::parse(&format!("title{n}.{rest}"));
    }
    Target::parse_in(field, team)
}

/// The list, index and the rest of a diagnostic's field
/// (`quotes[2].currency` is quotes, 2, `currency`).
fn list_entry(field: &str) -> Option<(ListKind, usize, &str)> {
    let (head, rest) = field.split_once('.').unwrap_or((field, ""));
    let (key, index) = head.split_once('[')?;
    let kind = ListKind::ALL.into_iter().find(|k| k.key() == key)?;
    let i = index.trim_end_matches(']').parse::<usize>().ok()?;
    Some((kind, i, rest))
}

/// A date cell: ISO `YYYY-MM-DD` (what workbooks give for date cells) or
/// the column's format.
pub fn date(raw: &str, format: Option<&str>) -> Result<NaiveDate, String> {
    let s = raw.trim();
    let day = s.split(['T', ' ']).next().unwrap_or(s);
    if let Some(f) = format
        && let Ok(d) =
            NaiveDate::parse_from_str(s, f).or_else(|_| NaiveDate::parse_from_str(day, f))
    {
        return Ok(d);
    }
    // a year first (four digits): ISO and its usual variants
    if day.len() > 4 && day.is_char_boundary(4) && day[..4].bytes().all(|b| b.is_ascii_digit()) {
        for f in ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"] {
            if let Ok(d) = NaiveDate::parse_from_str(day, f) {
                return Ok(d);
            }
        }
    }
    Err(match format {
        Some(f) => format!("`{raw}` is not a date in the format {f}"),
        None => format!(
            "`{raw}` is not a date (YYYY-MM-DD; give the column's `format` in the mapping, e.g. \"%d/%m/%Y\")"
        ),
    })
}

/// An e-mail cell, without `mailto:` and spaces around it.
pub fn email(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    let s = s.strip_prefix("mailto:").unwrap_or(s).trim();
    if crate::schema::is_email(s) {
        Ok(s.to_string())
    } else {
        Err(format!("`{raw}` is not an e-mail address"))
    }
}

/// A phone cell: dots and slashes become spaces; an extension is refused,
/// as a record has no place for it.
pub fn phone(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    let lower = s.to_lowercase();
    let ext = ["ext.", "ext", " x", "x", "#"]
        .iter()
        .filter_map(|m| lower.find(m).map(|i| (i, m.len())))
        .find(|(i, _)| *i > 0);
    if let Some((i, _)) = ext {
        let (number, extension) = s.split_at(i);
        let head = number.replace(['.', '/'], " ");
        if crate::schema::is_phone(head.trim()) {
            return Err(format!(
                "`{raw}` has an extension (`{}`), which a record cannot hold; set on_invalid = \"drop\" to import the row without the phone",
                extension.trim()
            ));
        }
        return Err(format!("`{raw}` is not a phone number"));
    }
    let v = s.replace(['.', '/'], " ");
    let v = v.split_whitespace().collect::<Vec<_>>().join(" ");
    if crate::schema::is_phone(&v) {
        Ok(v)
    } else {
        Err(format!(
            "`{raw}` is not a phone number (+ and the country code, then 7 to 15 digits: \"+49 30 1234567\")"
        ))
    }
}

/// A web-site cell; `www.acme.de` gets `https://`.
pub fn website(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    let v = if s.contains("://") {
        s.to_string()
    } else {
        format!("https://{s}")
    };
    if crate::schema::is_url(&v) {
        Ok(v)
    } else {
        Err(format!("`{raw}` is not a web address"))
    }
}

/// Plan an import of `sheet` into a repository holding `existing`
/// records. `taken` tells whether a path is already used on disk.
pub fn plan(
    sheet: &sheet::Sheet,
    mapping: &Mapping,
    existing: Vec<Record>,
    env: &Env,
    taken: &(dyn Fn(&str) -> bool + Sync),
) -> Plan {
    let mut out = Plan {
        rows: sheet.rows.len(),
        ..Default::default()
    };
    let lists = read_lists(sheet, mapping, env.schema, &mut out);
    let conv = Converter::new(sheet, mapping, env, &lists);
    let converted: Vec<Result<Candidate, Vec<Problem>>> =
        sheet.rows.par_iter().map(|r| conv.convert(r)).collect();
    let n_existing = existing.len();
    let mut all = existing;
    let mut cands: Vec<Candidate> = Vec::new();
    for r in converted {
        match r {
            Ok(c) => {
                out.dropped.extend(c.dropped.iter().cloned());
                all.push(Record {
                    path: format!("(row {})", c.row),
                    customer: c.customer.clone(),
                });
                cands.push(c);
            }
            Err(p) => {
                out.rejected_rows += 1;
                out.rejected.extend(p);
            }
        }
    }
    // Duplicates: the pairs of `folio check`, found once over everything.
    let mut partners: Vec<Vec<(usize, String)>> = vec![Vec::new(); cands.len()];
    // and a row whose id (an `id` column) a record or an earlier row has
    let mut ids: HashMap<String, usize> = all[..n_existing]
        .iter()
        .enumerate()
        .map(|(i, r)| (r.customer.id.clone(), i))
        .collect();
    for (j, c) in cands.iter().enumerate().filter(|(_, c)| c.kept_id) {
        let id = &c.customer.id;
        match ids.get(id) {
            Some(&i) => partners[j].push((i, format!("same id: \"{id}\""))),
            None => {
                ids.insert(id.clone(), n_existing + j);
            }
        }
    }
    drop(ids);
    for p in crate::duplicates::find_pairs(&all, env.duplicates) {
        if p.exempt.is_some() || !p.is_error() || p.b < n_existing {
            continue;
        }
        // p.a < p.b: the later one duplicates the earlier one
        let m = p
            .matches
            .iter()
            .find(|m| {
                !matches!(
                    m.key,
                    crate::duplicates::Key::Similar
                        | crate::duplicates::Key::Domain
                        | crate::duplicates::Key::Phone
                )
            })
            .unwrap_or(&p.matches[0]);
        let why = m.same(&m.a, &m.b);
        partners[p.b - n_existing].push((p.a, why));
    }
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Created,
        Dup(usize),
        Rejected,
    }
    let mut state = vec![State::Created; cands.len()];
    let describe = |i: usize, all: &[Record]| -> String {
        if i < n_existing {
            format!("{} ({})", all[i].path, all[i].customer.display_name())
        } else {
            format!("row {}", cands[i - n_existing].row)
        }
    };
    let mut updated: BTreeMap<usize, Updated> = BTreeMap::new();
    for j in 0..cands.len() {
        let mut targets: Vec<(usize, &str)> = Vec::new();
        for (p, why) in &partners[j] {
            let t = if *p < n_existing {
                Some(*p)
            } else {
                match state[p - n_existing] {
                    State::Created => Some(*p),
                    State::Dup(t) => Some(t),
                    State::Rejected => None,
                }
            };
            if let Some(t) = t
                && !targets.iter().any(|(x, _)| *x == t)
            {
                targets.push((t, why));
            }
        }
        if targets.is_empty() {
            continue;
        }
        targets.sort_by_key(|(t, _)| *t);
        let row = cands[j].row;
        let (target, why) = targets[0];
        match env.on_duplicate {
            OnDuplicate::Skip | OnDuplicate::Fail => {
                state[j] = State::Dup(target);
                out.stopped |= env.on_duplicate == OnDuplicate::Fail;
                out.skipped.push(Skipped {
                    row,
                    duplicate_of: describe(target, &all),
                    reason: why.to_string(),
                });
            }
            OnDuplicate::Update if targets.len() > 1 => {
                state[j] = State::Rejected;
                out.rejected_rows += 1;
                out.rejected.push(Problem {
                    row,
                    column: "-".into(),
                    field: "-".into(),
                    value: String::new(),
                    reason: format!(
                        "duplicates several records ({}); merge them first with `folio merge`",
                        targets
                            .iter()
                            .map(|(t, _)| describe(*t, &all))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    ..Default::default()
                });
            }
            OnDuplicate::Update => {
                state[j] = State::Dup(target);
                // Only what the row's cells say: defaults never fill or conflict.
                let mut incoming = cands[j].customer.clone();
                for t in &cands[j].defaulted {
                    match t {
                        Target::Top("tier") => incoming.tier.clear(),
                        Target::Top("stage") => incoming.stage.clear(),
                        Target::Top("created") => incoming.created = None,
                        other => set_empty(&mut incoming, other),
                    }
                }
                let before = all[target].customer.clone();
                let r = merge::combine(&before, &incoming, Mode::Fill);
                all[target].customer = r.customer;
                let conflicts = r.conflicts.into_iter().map(|c| UpdateConflict {
                    row,
                    field: c.field,
                    existing: c.keep,
                    imported: c.other,
                });
                if target < n_existing {
                    let u = updated.entry(target).or_insert_with(|| Updated {
                        path: all[target].path.clone(),
                        id: before.id.clone(),
                        rows: Vec::new(),
                        filled: Vec::new(),
                        conflicts: Vec::new(),
                        original: before.clone(),
                        customer: Customer::default(),
                    });
                    u.rows.push(row);
                    for f in r.filled {
                        if !u.filled.contains(&f) {
                            u.filled.push(f);
                        }
                    }
                    u.conflicts.extend(conflicts);
                } else {
                    out.merged_into_new.push(Skipped {
                        row,
                        duplicate_of: describe(target, &all),
                        reason: why.to_string(),
                    });
                    // conflicts with an earlier row are reported there
                    for c in conflicts {
                        out.dropped.push(Problem {
                            row,
                            column: "-".into(),
                            field: c.field,
                            value: c.imported,
                            reason: format!(
                                "conflicts with row {}'s \"{}\"; the earlier row's value is kept",
                                cands[target - n_existing].row,
                                c.existing
                            ),
                            ..Default::default()
                        });
                    }
                }
            }
        }
    }
    for (i, mut u) in updated {
        u.customer = all[i].customer.clone();
        out.updated.push(u);
    }
    // Paths by the naming rule, among all records; a row whose path is
    // taken or ambiguous is rejected (the earliest row keeps the path).
    let existing_paths: HashSet<String> = all[..n_existing]
        .iter()
        .map(|r| r.path.to_lowercase())
        .collect();
    let mut paths: HashMap<usize, String> = HashMap::new();
    // The ids new records get, given before their paths: the naming rule
    // may use the id (an `{id}` template, a name with no slug, or names
    // alike once cut to a safe length).
    let existing_ids: HashSet<String> = all[..n_existing]
        .iter()
        .map(|r| r.customer.id.clone())
        .chain(
            cands
                .iter()
                .filter(|c| c.kept_id)
                .map(|c| c.customer.id.clone()),
        )
        .collect();
    let mut ulids: HashMap<usize, String> = HashMap::new();
    for _round in 0..4 {
        let mut seq = 0usize;
        for j in (0..cands.len()).filter(|&j| state[j] == State::Created && !cands[j].kept_id) {
            all[j + n_existing].customer.id = match &env.ids {
                Ids::Ulid => ulids
                    .entry(j)
                    .or_insert_with(|| ulid::Ulid::new().to_string())
                    .clone(),
                Ids::Sequential(prefix) => loop {
                    seq += 1;
                    let id = format!("{prefix}{seq}");
                    if !existing_ids.contains(&id) {
                        break id;
                    }
                },
            };
        }
        let live: Vec<usize> = (0..n_existing)
            .chain(
                (0..cands.len())
                    .filter(|&j| state[j] == State::Created)
                    .map(|j| j + n_existing),
            )
            .collect();
        let parts: Vec<_> = live
            .iter()
            .map(|&i| all[i].customer.naming_parts())
            .collect();
        let rules = crate::naming::rule_paths(env.template, &parts);
        let mut changed = false;
        paths.clear();
        for (k, rule) in rules.into_iter().enumerate() {
            let i = live[k];
            if i < n_existing {
                continue;
            }
            let j = i - n_existing;
            let reject = |why: String, state: &mut Vec<State>, out: &mut Plan| {
                state[j] = State::Rejected;
                out.rejected_rows += 1;
                out.rejected.push(Problem {
                    row: cands[j].row,
                    column: "-".into(),
                    field: "name".into(),
                    value: String::new(),
                    reason: why,
                    ..Default::default()
                });
            };
            match rule {
                RulePath::Path(p) => {
                    if existing_paths.contains(&p.to_lowercase()) || taken(&p) {
                        reject(
                            format!(
                                "{p} already exists; tell the customers apart with a city or industry column"
                            ),
                            &mut state,
                            &mut out,
                        );
                        changed = true;
                    } else {
                        paths.insert(j, p);
                    }
                }
                RulePath::Ambiguous { base, others } => {
                    let first = others.iter().map(|&o| live[o]).min().unwrap_or(i);
                    if first < i {
                        reject(
                            format!(
                                "the naming rule gives it the path {base}, like {}; add a city or industry column to tell them apart",
                                describe(first, &all)
                            ),
                            &mut state,
                            &mut out,
                        );
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
    for (j, cand) in cands.iter().enumerate() {
        if state[j] != State::Created {
            continue;
        }
        let Some(path) = paths.remove(&j) else {
            continue;
        };
        // the id the path was made with
        let customer = all[j + n_existing].customer.clone();
        let id = customer.id.clone();
        out.created.push(Created {
            row: cand.row,
            path,
            id,
            customer,
        });
    }
    out.rejected.sort_by_key(|p| p.row);
    out
}

/// Clear a defaulted optional field of `c` (the defaults of a mapping
/// neither fill nor conflict in an update).
fn set_empty(c: &mut Customer, t: &Target) {
    use crate::fields::Acc;
    match t {
        Target::Top(f) => {
            let Some(field) = crate::fields::CUSTOMER
                .iter()
                .find(|x| x.name == *f && !x.required)
            else {
                return;
            };
            match field.acc {
                Acc::Str(_, m) => *m(c) = None,
                Acc::Date(_, m) => *m(c) = None,
                Acc::List(_, m) => m(c).clear(),
                _ => {}
            }
        }
        Target::Team(name) => {
            c.extra.remove(name);
        }
        Target::Contact(..) | Target::Title(..) => {}
    }
}

/// Write a plan through one edit session (all or nothing, even if the
/// process is killed half way; every record validated as written), and
/// stage or commit it as `finish` says.
pub fn apply(
    repo: &crate::repo::Repo,
    plan: &Plan,
    as_of: NaiveDate,
    finish: crate::session::Finish,
) -> Result<crate::session::Applied, crate::session::SessionError> {
    let mut session = crate::session::Session::new(repo, as_of);
    for u in &plan.updated {
        session.edit(&u.path, |text| {
            merge::rewrite(text, &u.original, &u.customer).map(Some)
        })?;
    }
    for c in &plan.created {
        let text =
            crate::edit::render(&c.customer).map_err(|e| crate::session::SessionError::Edit {
                path: c.path.clone(),
                message: e.to_string(),
            })?;
        session.create(&c.path, &text)?;
    }
    session.apply(finish)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every built-in field a mapping can feed is set from a value of its
    /// type, and the optional ones are cleared again.
    #[test]
    fn every_target_sets_its_field() {
        let full = crate::fields::full();
        let mut c = Customer::default();
        let (mut contacts, mut titles, mut consent) =
            (BTreeMap::new(), BTreeMap::new(), Consent::default());
        let value = |f: &crate::fields::Field<Customer>| match f.acc {
            crate::fields::Acc::Req(get, _) => Value::Text(get(&full).clone()),
            crate::fields::Acc::Str(get, _) => Value::Text(get(&full).clone().unwrap()),
            crate::fields::Acc::Date(get, _) => Value::Date(get(&full).unwrap()),
            crate::fields::Acc::List(get, _) => Value::List(get(&full).clone()),
            _ => unreachable!("no such top-level field"),
        };
        for t in mapping::TOP_FIELDS.iter() {
            let v = match t.strip_prefix("consent.") {
                Some("date") => Value::Date(full.consent.as_ref().unwrap().date.unwrap()),
                Some("purpose") => Value::Text("purpose".into()),
                Some("basis") => Value::Text("basis".into()),
                Some(other) => panic!("consent.{other} is not covered here"),
                None => value(
                    crate::fields::CUSTOMER
                        .iter()
                        .find(|f| f.name == *t)
                        .unwrap(),
                ),
            };
            set(
                &mut c,
                &mut contacts,
                &mut titles,
                &mut consent,
                &Target::Top(t),
                v,
            );
        }
        for k in crate::fields::CONTACT_KEYS {
            set(
                &mut c,
                &mut contacts,
                &mut titles,
                &mut consent,
                &Target::Contact(1, k),
                Value::Text(k.into()),
            );
        }
        for k in crate::fields::TITLE_KEYS {
            set(
                &mut c,
                &mut contacts,
                &mut titles,
                &mut consent,
                &Target::Title(1, k),
                Value::Text(k.into()),
            );
        }
        c.contacts = contacts.into_values().collect();
        c.titles = titles.into_values().collect();
        c.consent = Some(consent);
        let want = Customer {
            quotes: Vec::new(),
            orders: Vec::new(),
            followups: Vec::new(),
            ..full.clone()
        };
        assert_eq!(c, want);
        for t in mapping::TOP_FIELDS.iter() {
            set_empty(&mut c, &Target::Top(t));
        }
        // what is left: the required fields, and consent
        let left = Customer {
            id: c.id.clone(),
            name: c.name.clone(),
            contact: c.contact.clone(),
            country: c.country.clone(),
            tier: c.tier.clone(),
            stage: c.stage.clone(),
            created: c.created,
            titles: c.titles.clone(),
            contacts: c.contacts.clone(),
            consent: c.consent.clone(),
            ..Default::default()
        };
        assert_eq!(c, left);
        assert!(c.created.is_some() && c.consent.as_ref().unwrap().basis.is_some());
    }

    #[test]
    fn cells() {
        assert_eq!(phone("229.077.5154").unwrap(), "229 077 5154");
        assert!(
            phone("001-808-617-6467x12895")
                .unwrap_err()
                .contains("extension")
        );
        assert!(phone("-1199").is_err());
        assert_eq!(email(" mailto:a@b.de ").unwrap(), "a@b.de");
        assert_eq!(website("www.acme.de").unwrap(), "https://www.acme.de");
        assert_eq!(
            date("24/8/20", Some("%d/%m/%y")).unwrap(),
            NaiveDate::from_ymd_opt(2020, 8, 24).unwrap()
        );
        assert_eq!(
            date("2024年3月5日", None).unwrap(),
            NaiveDate::from_ymd_opt(2024, 3, 5).unwrap()
        );
        assert!(date("31/02/21", Some("%d/%m/%y")).is_err());
    }

    #[test]
    fn diagnostic_fields_map_to_targets() {
        assert_eq!(
            target_of("contacts[1].email", &[1, 3], &[], &[]),
            Some(Target::Contact(3, "email"))
        );
        assert_eq!(target_of("tier", &[], &[], &[]), Some(Target::Top("tier")));
        assert_eq!(
            target_of("consent.date", &[], &[], &[]),
            Some(Target::Top("consent.date"))
        );
    }
}
