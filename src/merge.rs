//! Merging duplicate customers into one record (`folio merge`), and filling
//! a record's empty fields from an imported row (`folio import
//! --on-duplicate update`): one set of rules for both.
//!
//! The kept record's values win; empty fields are filled from the others;
//! lists (titles, contacts, quotes, orders, follow-ups, tags, incoterms) are
//! united without duplicates; a scalar that differs is a [`Conflict`],
//! settled by [`Prefer`] or left for the user. [`rewrite`] then edits the
//! kept file in place with toml_edit, keeping its comments and layout.

use crate::duplicates::normalise_name;
use crate::edit::WriteError;
use crate::fields::{Acc as Get, Fields, Nested};
use crate::records::{Consent, Contact, Customer, Extra, Followup, Order, Quote, Title};
use chrono::NaiveDate;
use serde::Serialize;

/// Which side wins a conflicting scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Prefer {
    /// The kept record's value.
    Keep,
    /// The other record's value.
    Other,
}

/// How two records are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// An imported row fills empty fields only; every differing value,
    /// company and contact names included, is a conflict left alone.
    Fill,
    /// `folio merge`: the other company name becomes a title, the other
    /// primary contact a contact, the earliest `created` is kept; other
    /// differing scalars are conflicts, settled by `Prefer` if given.
    Merge(Option<Prefer>),
}

/// A scalar on which the records differ.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conflict {
    pub field: String,
    pub keep: String,
    pub other: String,
    /// `keep` or `other` when settled by `--prefer`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taken: Option<Prefer>,
}

/// The result of combining two records.
#[derive(Debug, Clone)]
pub struct Combined {
    pub customer: Customer,
    /// What changed in the kept record: `city`, `contacts[1]`, `titles: +X`.
    pub filled: Vec<String>,
    pub conflicts: Vec<Conflict>,
}

fn fold(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

struct Acc<'a> {
    mode: Mode,
    filled: &'a mut Vec<String>,
    conflicts: &'a mut Vec<Conflict>,
}

impl Acc<'_> {
    /// One optional text field.
    fn opt(&mut self, field: &str, keep: &mut Option<String>, other: &Option<String>) {
        let Some(o) = other.as_ref().filter(|o| !o.trim().is_empty()) else {
            return;
        };
        match keep {
            Some(k) if !k.trim().is_empty() => {
                if k.trim() != o.trim() {
                    self.conflict(field, k, o);
                    if self.mode == Mode::Merge(Some(Prefer::Other)) {
                        *k = o.clone();
                    }
                }
            }
            _ => {
                *keep = Some(o.clone());
                self.filled.push(field.to_string());
            }
        }
    }

    /// One required text field (empty means missing).
    fn req(&mut self, field: &str, keep: &mut String, other: &str) {
        let mut k = Some(keep.clone()).filter(|k| !k.is_empty());
        self.opt(field, &mut k, &Some(other.to_string()));
        *keep = k.unwrap_or_default();
    }

    fn date(&mut self, field: &str, keep: &mut Option<NaiveDate>, other: &Option<NaiveDate>) {
        let mut k = keep.map(|d| d.to_string());
        self.opt(field, &mut k, &other.map(|d| d.to_string()));
        *keep = k.and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok());
    }

    /// A value of `other` (a number or a boolean) by its text.
    fn value<V: ToString + std::str::FromStr>(
        &mut self,
        field: &str,
        keep: &mut Option<V>,
        other: &Option<V>,
    ) {
        let mut k = keep.as_ref().map(V::to_string);
        self.opt(field, &mut k, &other.as_ref().map(V::to_string));
        *keep = k.and_then(|s| s.parse().ok());
    }

    /// One built-in field of a table holding a plain value (`at` goes in
    /// front of its name: `contacts[0].`).
    fn field<T>(&mut self, f: &crate::fields::Field<T>, at: &str, keep: &mut T, other: &T) {
        let name = format!("{at}{}", f.name);
        match f.acc {
            Get::Req(get, set) => self.req(&name, set(keep), get(other)),
            Get::Str(get, set) => self.opt(&name, set(keep), get(other)),
            Get::Date(get, set) => self.date(&name, set(keep), get(other)),
            Get::Num(get, set) => self.value(&name, set(keep), get(other)),
            Get::Bool(get, set) => self.value(&name, set(keep), get(other)),
            Get::List(get, set) => self.list(&name, set(keep), get(other)),
            Get::Nested(_) => {}
        }
    }

    fn conflict(&mut self, field: &str, keep: &str, other: &str) {
        let taken = match self.mode {
            Mode::Merge(p) => p,
            Mode::Fill => None,
        };
        self.conflicts.push(Conflict {
            field: field.to_string(),
            keep: keep.to_string(),
            other: other.to_string(),
            taken,
        });
    }

    fn list(&mut self, field: &str, keep: &mut Vec<String>, other: &[String]) {
        for o in other {
            if !keep.contains(o) {
                keep.push(o.clone());
                self.filled.push(format!("{field}: +{o}"));
            }
        }
    }

    /// A team's own fields: equal only with the same type and value (the
    /// string "2025-01-01" is not the date 2025-01-01).
    fn team(&mut self, prefix: &str, keep: &mut Extra, other: &Extra) {
        for (k, v) in other {
            let field = format!("{prefix}{k}");
            match keep.get_mut(k) {
                None => {
                    keep.insert(k.clone(), v.clone());
                    self.filled.push(field);
                }
                Some(x) if x != v => {
                    let json = crate::records::json_of;
                    self.conflict(&field, &json(x).to_string(), &json(v).to_string());
                    if self.mode == Mode::Merge(Some(Prefer::Other)) {
                        *x = v.clone();
                    }
                }
                Some(_) => {}
            }
        }
    }
}

/// Combine `other` into `keep`.
pub fn combine(keep: &Customer, other: &Customer, mode: Mode) -> Combined {
    let mut c = keep.clone();
    let mut filled = Vec::new();
    let mut conflicts = Vec::new();
    let mut a = Acc {
        mode,
        filled: &mut filled,
        conflicts: &mut conflicts,
    };
    let merging = matches!(mode, Mode::Merge(_));
    // identity
    let same_name = |x: &str, y: &str| {
        x == y || {
            let (nx, ny) = (normalise_name(x, &[]).key, normalise_name(y, &[]).key);
            !nx.is_empty() && nx == ny
        }
    };
    if !other.name.is_empty() && !same_name(&c.name, &other.name) {
        if merging && c.name.is_empty() {
            c.name = other.name.clone();
        } else if merging {
            // the other company name is another legal title of this customer
            if !c.titles.iter().any(|t| same_name(&t.name, &other.name)) {
                c.titles.push(Title {
                    name: other.name.clone(),
                    registration: None,
                });
                a.filled.push(format!("titles: +{}", other.name));
            }
        } else {
            a.conflict("name", &c.name, &other.name);
        }
    }
    if !other.contact.is_empty() && fold(&c.contact) != fold(&other.contact) {
        if merging {
            let known = c
                .contacts
                .iter()
                .chain(other.contacts.iter())
                .any(|x| fold(&x.name) == fold(&other.contact));
            if !known {
                c.contacts.push(Contact {
                    name: other.contact.clone(),
                    ..Default::default()
                });
                a.filled.push(format!("contacts: +{}", other.contact));
            }
        } else {
            a.req("contact", &mut c.contact, &other.contact);
        }
    }
    for f in crate::fields::CUSTOMER {
        match f.name {
            // the identity, above; the id is the kept record's
            "id" | "name" | "contact" => {}
            "created" => match (c.created, other.created) {
                (Some(k), Some(o)) if merging && o < k => {
                    c.created = Some(o);
                    a.filled.push(format!("created: {k} -> {o} (the earliest)"));
                }
                (Some(_), _) if merging => {}
                _ => a.date("created", &mut c.created, &other.created),
            },
            _ => a.field(f, "", &mut c, other),
        }
    }
    a.team("", &mut c.extra, &other.extra);
    // titles by normalised name
    for t in &other.titles {
        match c.titles.iter().position(|x| same_name(&x.name, &t.name)) {
            Some(i) => {
                let f = format!("titles[{i}].registration");
                let mut r = c.titles[i].registration.clone();
                a.opt(&f, &mut r, &t.registration);
                c.titles[i].registration = r;
            }
            None if same_name(&c.name, &t.name) => {
                // the kept name itself: keep its registration as a title
                if t.registration.is_some() {
                    c.titles.push(t.clone());
                    a.filled.push(format!("titles: +{}", t.name));
                }
            }
            None => {
                c.titles.push(t.clone());
                a.filled.push(format!("titles: +{}", t.name));
            }
        }
    }
    // contacts by e-mail, else by name
    for o in &other.contacts {
        let email = |x: &Contact| x.email.as_deref().map(|e| e.trim().to_lowercase());
        let pos = c
            .contacts
            .iter()
            .position(|x| email(x).is_some() && email(x) == email(o))
            .or_else(|| {
                c.contacts
                    .iter()
                    .position(|x| fold(&x.name) == fold(&o.name))
            });
        match pos {
            Some(i) => {
                let k = &mut c.contacts[i];
                let p = format!("contacts[{i}].");
                let mut name = Some(k.name.clone());
                a.opt(&format!("{p}name"), &mut name, &Some(o.name.clone()));
                k.name = name.unwrap_or_default();
                for f in crate::fields::CONTACT.iter().filter(|f| f.name != "name") {
                    a.field(f, &p, k, o);
                }
                a.team(&p, &mut k.extra, &o.extra);
            }
            None => {
                // a contact added by name only from `contact` above
                c.contacts.push(o.clone());
                let label = format!("contacts: +{}", o.name);
                if !a.filled.contains(&label) {
                    a.filled.push(label);
                }
            }
        }
    }
    // the contact pushed by name may now be a duplicate of a full one
    dedup_contacts(&mut c.contacts);
    fn union<T: PartialEq + Clone>(keep: &mut Vec<T>, other: &[T]) -> usize {
        let mut n = 0;
        for o in other {
            if !keep.contains(o) {
                keep.push(o.clone());
                n += 1;
            }
        }
        n
    }
    // An amount that is not a number (nan, inf: `folio check` reports it)
    // says nothing of the amount and has no finite spelling: it is left
    // out, and never compared (NaN equals nothing, not even itself).
    let (mut other_quotes, mut other_orders) = (other.quotes.clone(), other.orders.clone());
    drop_non_finite(&mut c.quotes, &mut c.orders, "", "removed", a.filled);
    let whose = match other.id.as_str() {
        "" => "the other record's ".to_string(),
        id => format!("{id}'s "),
    };
    drop_non_finite(
        &mut other_quotes,
        &mut other_orders,
        &whose,
        "left out",
        a.filled,
    );
    for (name, n) in [
        ("quotes", union::<Quote>(&mut c.quotes, &other_quotes)),
        ("orders", union::<Order>(&mut c.orders, &other_orders)),
        (
            "followups",
            union::<Followup>(&mut c.followups, &other.followups),
        ),
    ] {
        if n > 0 {
            a.filled.push(format!("{name}: +{n}"));
        }
    }
    if let Some(oc) = &other.consent {
        let k = c.consent.get_or_insert_with(Consent::default);
        for f in crate::fields::CONSENT {
            a.field(f, "consent.", k, oc);
        }
        a.team("consent.", &mut k.extra, &oc.extra);
    }
    Combined {
        customer: c,
        filled,
        conflicts,
    }
}

/// Clear the amounts that are not finite numbers, noting each in `notes`
/// (`quotes[0].amount: nan removed (not a finite number)`).
fn drop_non_finite(
    quotes: &mut [Quote],
    orders: &mut [Order],
    whose: &str,
    verb: &str,
    notes: &mut Vec<String>,
) {
    let amounts = quotes
        .iter_mut()
        .map(|q| ("quotes", &mut q.amount))
        .enumerate()
        .chain(
            orders
                .iter_mut()
                .map(|o| ("orders", &mut o.amount))
                .enumerate(),
        );
    for (i, (list, amount)) in amounts {
        if let Some(x) = amount.take_if(|x| !x.is_finite()) {
            let spelt = if x.is_nan() {
                "nan"
            } else if x > 0.0 {
                "inf"
            } else {
                "-inf"
            };
            notes.push(format!(
                "{whose}{list}[{i}].amount: {spelt} {verb} (not a finite number)"
            ));
        }
    }
}

/// Drop a name-only contact when another contact has the same name.
fn dedup_contacts(list: &mut Vec<Contact>) {
    let mut i = 0;
    while i < list.len() {
        let bare = Contact {
            name: list[i].name.clone(),
            ..Default::default()
        };
        let dup = list[i] == bare
            && list
                .iter()
                .enumerate()
                .any(|(j, x)| j != i && fold(&x.name) == fold(&bare.name));
        if dup {
            list.remove(i);
        } else {
            i += 1;
        }
    }
}

// ---------------------------------------------------------------------------
// Editing the kept file in place

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, Value};

fn s(v: &Option<String>) -> Option<Value> {
    v.as_ref().map(|x| Value::from(x.as_str()))
}
fn req(v: &str) -> Option<Value> {
    Some(Value::from(v))
}
fn d(v: &Option<NaiveDate>) -> Option<Value> {
    v.and_then(date_value)
}
fn date_value(d: NaiveDate) -> Option<Value> {
    use chrono::Datelike;
    Some(Value::from(toml_edit::Datetime {
        date: Some(toml_edit::Date {
            year: u16::try_from(d.year()).ok()?,
            month: d.month() as u8,
            day: d.day() as u8,
        }),
        time: None,
        offset: None,
    }))
}
/// A number as it stands (a non-finite one too, so that an edit sees it
/// go); [`writable`] keeps a non-finite one from being written.
fn f(v: &Option<f64>) -> Option<Value> {
    v.map(Value::from)
}
/// Whether a value may be written: never NaN or an infinity.
fn writable(v: &Value) -> bool {
    v.as_float().is_none_or(f64::is_finite)
}
fn b(v: &Option<bool>) -> Option<Value> {
    v.map(Value::from)
}
fn l(v: &[String]) -> Option<Value> {
    (!v.is_empty()).then(|| Value::Array(v.iter().map(String::as_str).collect()))
}
type Kv = Vec<(String, Option<Value>)>;

/// A team's own fields as keys of `kv`; `None` when one cannot be written
/// (the canonical layout then reports it).
fn extras(kv: &mut Kv, m: &Extra) -> Option<()> {
    for (k, v) in m {
        kv.push((k.clone(), Some(crate::edit::team_value(v).ok()?)));
    }
    Some(())
}

/// The built-in fields of a record or of one of its tables that hold
/// plain values, in the canonical order, then the team's own.
fn kv<T: Fields>(x: &T) -> Option<Kv> {
    let mut kv: Kv = T::FIELDS
        .iter()
        .filter_map(|f| {
            let v = match f.acc {
                Get::Req(get, _) => req(get(x)),
                Get::Str(get, _) => s(get(x)),
                Get::Date(get, _) => d(get(x)),
                Get::Num(get, _) => self::f(get(x)),
                Get::Bool(get, _) => b(get(x)),
                Get::List(get, _) => l(get(x)),
                Get::Nested(_) => return None,
            };
            Some((f.name.to_string(), v))
        })
        .collect();
    if let Some(e) = x.extra() {
        extras(&mut kv, e)?;
    }
    Some(kv)
}

fn same(a: &Option<Value>, b: &Option<Value>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => x.to_string().trim() == y.to_string().trim(),
        _ => false,
    }
}

/// Set the keys of `t` that differ between `old` and `new`, keeping each
/// replaced value's comments and spacing.
fn apply_kv(t: &mut Table, old: &Kv, new: &Kv) {
    let get = |kv: &Kv, k: &str| kv.iter().find(|(x, _)| x == k).and_then(|(_, v)| v.clone());
    let mut keys: Vec<&String> = old.iter().map(|(k, _)| k).collect();
    for (k, _) in new {
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    for k in keys {
        let (o, n) = (get(old, k), get(new, k).filter(writable));
        if same(&o, &n) {
            continue;
        }
        match n {
            None => {
                t.remove(k);
            }
            Some(mut v) => match t.get_mut(k) {
                Some(item) => {
                    if let Some(prev) = item.as_value() {
                        *v.decor_mut() = prev.decor().clone();
                    }
                    *item = Item::Value(v);
                }
                None => {
                    t.insert(k, Item::Value(v));
                }
            },
        }
    }
}

fn table_of(kv: &Kv) -> Table {
    let mut t = Table::new();
    for (k, v) in kv {
        if let Some(v) = v.as_ref().filter(|v| writable(v)) {
            t.insert(k, Item::Value(v.clone()));
        }
    }
    t
}

/// Edit the array of tables `key` from `old` to `new` items, where the new
/// list keeps the old items in place (filled in) and appends the rest.
fn apply_list(doc: &mut Table, key: &str, old: &[Kv], new: &[Kv]) -> Option<()> {
    if new.len() < old.len() {
        return None;
    }
    if old.len() == new.len() && old.iter().zip(new).all(|(a, b)| kv_same(a, b)) {
        return Some(());
    }
    if !doc.contains_key(key) {
        if !old.is_empty() {
            return None;
        }
        doc.insert(key, Item::ArrayOfTables(ArrayOfTables::new()));
    }
    let aot = doc.get_mut(key)?.as_array_of_tables_mut()?;
    if aot.len() != old.len() {
        return None;
    }
    for (i, n) in new.iter().enumerate() {
        match old.get(i) {
            Some(o) => apply_kv(aot.get_mut(i)?, o, n),
            None => aot.push(table_of(n)),
        }
    }
    Some(())
}

fn kv_same(a: &Kv, b: &Kv) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
}

/// The kept file's text with `old` changed into `new`, comments and layout
/// kept; the canonical layout when the file's shape does not allow an edit
/// in place (inline arrays of contacts, for instance). Fails only on a
/// value folio does not write (see [`WriteError`]).
pub fn rewrite(text: &str, old: &Customer, new: &Customer) -> Result<String, WriteError> {
    match try_rewrite(text, old, new) {
        Some(out) => Ok(out),
        None => crate::edit::render(new),
    }
}

/// Edit the array of tables `key` from the `old` entries to the `new`.
fn list<T: Fields>(root: &mut Table, key: &str, old: &[T], new: &[T]) -> Option<()> {
    let kvs = |v: &[T]| v.iter().map(kv).collect::<Option<Vec<_>>>();
    apply_list(root, key, &kvs(old)?, &kvs(new)?)
}

fn try_rewrite(text: &str, old: &Customer, new: &Customer) -> Option<String> {
    let mut doc: DocumentMut = text.parse().ok()?;
    let root = doc.as_table_mut();
    apply_kv(root, &kv(old)?, &kv(new)?);
    for f in crate::fields::CUSTOMER {
        let Get::Nested(n) = f.acc else { continue };
        match n {
            Nested::Titles => list(root, f.name, &old.titles, &new.titles)?,
            Nested::Contacts => list(root, f.name, &old.contacts, &new.contacts)?,
            Nested::Quotes => list(root, f.name, &old.quotes, &new.quotes)?,
            Nested::Orders => list(root, f.name, &old.orders, &new.orders)?,
            Nested::Followups => list(root, f.name, &old.followups, &new.followups)?,
            Nested::Consent => match (&old.consent, &new.consent) {
                (None, None) => {}
                (Some(o), Some(n)) => {
                    let t = root.get_mut(f.name)?.as_table_mut()?;
                    apply_kv(t, &kv(o)?, &kv(n)?);
                }
                (None, Some(n)) => {
                    root.insert(f.name, Item::Table(table_of(&kv(n)?)));
                }
                (Some(_), None) => {
                    root.remove(f.name);
                }
            },
        }
    }
    let out = doc.to_string();
    // The edit must read back as the new record; else use the canonical layout.
    let schema = crate::schema::Schema::builtin();
    let ctx = crate::records::Context {
        schema: &schema,
        staff: None,
        as_of: NaiveDate::MAX,
    };
    let mut back = crate::records::parse(&out, "(merged)", &ctx).customer?;
    let mut want = new.clone();
    // the built-in schema does not know the team's top-level fields: read
    // them from the text, types and all
    let written: toml::Table = out.parse().ok()?;
    if want.extra.iter().any(|(k, v)| written.get(k) != Some(v)) {
        return None;
    }
    back.extra.clear();
    want.extra.clear();
    (back == want).then_some(out)
}

/// What one other record brings to the merge.
#[derive(Debug, Clone, Serialize)]
pub struct OtherReport {
    pub id: String,
    pub path: String,
    /// What it changed in the kept record (see [`Combined::filled`]).
    pub changes: Vec<String>,
}

/// A conflict with the other record it comes from.
#[derive(Debug, Clone, Serialize)]
pub struct ConflictReport {
    pub other_id: String,
    #[serde(flatten)]
    pub conflict: Conflict,
}

/// A merge of records into one: what `folio merge` shows and writes.
#[derive(Debug, Clone)]
pub struct Plan {
    pub merged: Customer,
    pub others: Vec<OtherReport>,
    pub conflicts: Vec<ConflictReport>,
    /// Where the merged record goes: its rule path among the records that
    /// stay, or the kept record's path when that is taken or unsure.
    pub path: String,
}

impl Plan {
    /// Conflicts left unsettled (no `--prefer`): the merge cannot be made.
    pub fn blocked(&self, prefer: Option<Prefer>) -> bool {
        !self.conflicts.is_empty() && prefer.is_none()
    }
}

/// Merge `records[others]` into `records[keep]`, one after the other, and
/// find where the merged record goes. `root`: the data root (a file there
/// at the rule path keeps the record where it is).
pub fn plan(
    records: &[crate::repo::Record],
    keep: usize,
    others: &[usize],
    prefer: Option<Prefer>,
    template: &crate::naming::Template,
    root: &std::path::Path,
) -> Plan {
    let kept = &records[keep];
    let mut merged = kept.customer.clone();
    let mut conflicts = Vec::new();
    let mut reports = Vec::new();
    for &i in others {
        let r = combine(&merged, &records[i].customer, Mode::Merge(prefer));
        merged = r.customer;
        conflicts.extend(r.conflicts.into_iter().map(|c| ConflictReport {
            other_id: records[i].customer.id.clone(),
            conflict: c,
        }));
        reports.push(OtherReport {
            id: records[i].customer.id.clone(),
            path: records[i].path.clone(),
            changes: r.filled,
        });
    }
    // The merged record's rule path, among the records that stay.
    let rest: Vec<_> = records
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != keep && !others.contains(i))
        .map(|(_, r)| r.customer.naming_parts())
        .collect();
    let path = match crate::naming::rule_path_among(template, &merged.naming_parts(), &rest) {
        crate::naming::RulePath::Path(p)
            if p != kept.path
                && !records.iter().any(|r| r.path.eq_ignore_ascii_case(&p))
                && !root.join(&p).exists() =>
        {
            p
        }
        _ => kept.path.clone(),
    };
    Plan {
        merged,
        others: reports,
        conflicts,
        path,
    }
}

/// Why a merge could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: WriteError },
    #[error(transparent)]
    Session(#[from] crate::session::SessionError),
}

/// Stage the merge of `plan` in `session`: the kept record rewritten (and
/// moved to the plan's path with its byte-order mark and permissions),
/// the others removed. Returns the paths removed.
pub fn apply(
    session: &mut crate::session::Session,
    records: &[crate::repo::Record],
    keep: usize,
    others: &[usize],
    plan: &Plan,
) -> Result<Vec<String>, ApplyError> {
    let kept = &records[keep];
    let original = session.read(&kept.path)?;
    let new_text = rewrite(original.text(), &kept.customer, &plan.merged).map_err(|source| {
        ApplyError::Write {
            path: plan.path.clone(),
            source,
        }
    })?;
    let mut removes: Vec<String> = others.iter().map(|&i| records[i].path.clone()).collect();
    if plan.path != kept.path {
        removes.push(kept.path.clone());
        session.move_to(original, &plan.path, &new_text)?;
    } else {
        session.replace(original, &new_text)?;
    }
    for &i in others {
        let o = session.read(&records[i].path)?;
        session.remove(o)?;
    }
    Ok(removes)
}

/// The commit message of a merge: one `Folio-Merged` trailer per id.
pub fn message(ids: &[&str], keep: &str) -> String {
    let mut msg = format!("merge {} into {keep}\n\n", ids.join(" "));
    for id in ids {
        msg.push_str(&format!("Folio-Merged: {id}\n"));
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, name: &str, city: &str) -> crate::repo::Record {
        crate::repo::Record {
            path: format!("customers/de/{}.toml", id.to_lowercase()),
            customer: Customer {
                id: id.into(),
                name: name.into(),
                contact: "Jo".into(),
                country: "DE".into(),
                city: Some(city.into()).filter(|c: &String| !c.is_empty()),
                ..Default::default()
            },
        }
    }

    #[test]
    fn a_merge_plan_combines_in_order_and_finds_the_rule_path() {
        let records = vec![
            record("K1", "Acme", ""),
            record("O2", "Acme Pumps", "Berlin"),
            record("O3", "Acme", "Bonn"),
            record("X9", "Borg", ""),
        ];
        let template = crate::naming::Template::default();
        let root = std::path::Path::new("/nonexistent-folio-root");
        let p = plan(&records, 0, &[1, 2], None, &template, root);
        assert_eq!(p.merged.city.as_deref(), Some("Berlin"));
        let changes: Vec<(&str, &[String])> = p
            .others
            .iter()
            .map(|o| (o.id.as_str(), o.changes.as_slice()))
            .collect();
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].0, "O2");
        assert!(changes[0].1.iter().any(|c| c == "city"), "{changes:?}");
        // O3's city differs from the one O2 gave: a conflict, unsettled
        assert_eq!(p.conflicts.len(), 1);
        assert_eq!(p.conflicts[0].other_id, "O3");
        assert_eq!(p.conflicts[0].conflict.field, "city");
        assert!(p.blocked(None) && !p.blocked(Some(Prefer::Keep)));
        // the kept path is not the rule's: the merged record moves there
        assert_eq!(p.path, "customers/de/acme--jo--de.toml");
        let settled = plan(&records, 0, &[1, 2], Some(Prefer::Other), &template, root);
        assert_eq!(settled.merged.city.as_deref(), Some("Bonn"));
        assert_eq!(
            message(&["O2", "O3"], "K1"),
            "merge O2 O3 into K1\n\nFolio-Merged: O2\nFolio-Merged: O3\n"
        );
    }

    #[test]
    fn combines_and_writes_the_tables_fields_in_their_order() {
        use crate::fields::{CONSENT_KEYS, CUSTOMER_VALUE_KEYS};
        let full = crate::fields::full();
        let keep = Customer {
            id: "id".into(),
            name: "name".into(),
            contact: "contact".into(),
            ..Default::default()
        };
        let out = combine(&keep, &full, Mode::Fill);
        assert!(out.conflicts.is_empty(), "{:?}", out.conflicts);
        let filled: Vec<&str> = out
            .filled
            .iter()
            .map(|f| f.split(':').next().unwrap_or(f))
            .collect();
        let mut want: Vec<String> = CUSTOMER_VALUE_KEYS[3..]
            .iter()
            .map(|k| k.to_string())
            .collect();
        want.extend(["titles", "contacts", "quotes", "orders", "followups"].map(String::from));
        want.extend(CONSENT_KEYS.map(|k| format!("consent.{k}")));
        assert_eq!(filled, want);
        assert_eq!(out.customer, full);
        let keys: Vec<String> = kv(&full).unwrap().into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, CUSTOMER_VALUE_KEYS);
    }

    fn rec(id: &str, name: &str, contact: &str) -> Customer {
        Customer {
            id: id.into(),
            name: name.into(),
            contact: contact.into(),
            country: "DE".into(),
            tier: "B".into(),
            stage: "contacted".into(),
            created: NaiveDate::from_ymd_opt(2025, 1, 10),
            ..Default::default()
        }
    }

    #[test]
    fn fill_lists_conflicts_and_fills_empties() {
        let mut keep = rec("A", "Acme GmbH", "Ann");
        keep.city = Some("Berlin".into());
        let mut row = rec("", "ACME GmbH", "Ann");
        row.city = Some("Hamburg".into());
        row.industry = Some("pumps".into());
        row.tags = vec!["vip".into()];
        let r = combine(&keep, &row, Mode::Fill);
        assert_eq!(r.customer.city.as_deref(), Some("Berlin"));
        assert_eq!(r.customer.industry.as_deref(), Some("pumps"));
        assert_eq!(r.filled, ["industry", "tags: +vip"]);
        assert_eq!(r.conflicts.len(), 1);
        assert_eq!(r.conflicts[0].field, "city");
    }

    #[test]
    fn merge_adds_titles_contacts_and_keeps_earliest() {
        let keep = rec("A", "Acme GmbH", "Ann");
        let mut other = rec("B", "Acme Trading Ltd", "Bob");
        other.created = NaiveDate::from_ymd_opt(2024, 5, 1);
        other.tier = "A".into();
        let r = combine(&keep, &other, Mode::Merge(None));
        assert_eq!(r.customer.titles[0].name, "Acme Trading Ltd");
        assert_eq!(r.customer.contacts[0].name, "Bob");
        assert_eq!(r.customer.created, NaiveDate::from_ymd_opt(2024, 5, 1));
        assert_eq!(r.conflicts[0].field, "tier");
        assert_eq!(r.customer.tier, "B");
        let r = combine(&keep, &other, Mode::Merge(Some(Prefer::Other)));
        assert_eq!(r.customer.tier, "A");
    }

    #[test]
    fn non_finite_amounts_are_left_out_of_a_merge() {
        let quote = |amount: f64| Quote {
            date: NaiveDate::from_ymd_opt(2025, 2, 1),
            amount: Some(amount),
            ..Default::default()
        };
        let mut keep = rec("A", "Acme GmbH", "Ann");
        keep.quotes = vec![quote(f64::NAN)];
        let mut other = rec("B", "Acme GmbH", "Ann");
        other.quotes = vec![quote(f64::NAN), quote(12.5)];
        other.orders = vec![Order {
            amount: Some(f64::NEG_INFINITY),
            ..Default::default()
        }];
        let r = combine(&keep, &other, Mode::Merge(None));
        let amounts: Vec<_> = r.customer.quotes.iter().map(|q| q.amount).collect();
        // the two nan quotes are one quote without an amount
        assert_eq!(amounts, [None, Some(12.5)]);
        assert_eq!(r.customer.orders[0].amount, None);
        assert_eq!(
            r.filled[..3],
            [
                "quotes[0].amount: nan removed (not a finite number)",
                "B's quotes[0].amount: nan left out (not a finite number)",
                "B's orders[0].amount: -inf left out (not a finite number)",
            ]
        );
        let text = format!(
            "{}\n[[quotes]]\ndate = 2025-02-01\namount = nan # ask\n",
            crate::edit::render(&rec("A", "Acme GmbH", "Ann")).unwrap()
        );
        let out = rewrite(&text, &keep, &r.customer).unwrap();
        assert!(!out.contains("nan"), "{out}");
        assert!(out.contains("amount = 12.5"), "{out}");
    }

    #[test]
    fn rewrite_keeps_comments() {
        let text = "# Acme\nid = \"A\"\nname = \"Acme GmbH\" # legal name\ncontact = \"Ann\"\ncountry = \"DE\"\ntier = \"B\"\nstage = \"contacted\"\ncreated = 2025-01-10\n\n[[contacts]]\nname = \"Ann\" # buyer\n";
        let old = {
            let mut c = rec("A", "Acme GmbH", "Ann");
            c.contacts = vec![Contact {
                name: "Ann".into(),
                ..Default::default()
            }];
            c
        };
        let mut new = old.clone();
        new.city = Some("Berlin".into());
        new.contacts[0].email = Some("ann@acme.de".into());
        new.contacts.push(Contact {
            name: "Bob".into(),
            ..Default::default()
        });
        let out = rewrite(text, &old, &new).unwrap();
        assert_eq!(
            out,
            "# Acme\nid = \"A\"\nname = \"Acme GmbH\" # legal name\ncontact = \"Ann\"\ncountry = \"DE\"\ntier = \"B\"\nstage = \"contacted\"\ncreated = 2025-01-10\ncity = \"Berlin\"\n\n[[contacts]]\nname = \"Ann\" # buyer\nemail = \"ann@acme.de\"\n\n[[contacts]]\nname = \"Bob\"\n"
        );
    }
}
