//! The built-in fields of a record, declared once: for the record itself
//! and for each of its tables, every key in the canonical order with its
//! type, whether it is required, its format, allowed values, description,
//! and the struct member that holds it.
//!
//! Everything else that lists the built-in fields derives from these
//! tables: the canonical key order (`records::TOP_LEVEL_KEYS`, where a new
//! key line goes), the parser's known keys, the writer's layout
//! (`edit::render`), the fields merge combines, the targets of an import
//! mapping, the columns of an export, and the built-in schema
//! (`schema/customer.toml`, which a unit test keeps equal to
//! [`schema_toml`]) with its JSON Schema.
//!
//! Adding a built-in field: its struct member in `records`, one line in the
//! table here, and `schema/customer.toml` regenerated (the test prints it).

use crate::records::{Consent, Contact, Customer, Extra, Followup, Order, Quote, Title};
use crate::schema::{Format, Type};
use chrono::NaiveDate;

/// Where a field's value is held: reading and writing accessors of the
/// struct member, by the member's type (so the table and the structs
/// cannot disagree on a type without failing to compile).
pub enum Acc<T: 'static> {
    /// A string that is always written (`String`).
    Req(fn(&T) -> &String, fn(&mut T) -> &mut String),
    Str(fn(&T) -> &Option<String>, fn(&mut T) -> &mut Option<String>),
    Date(
        fn(&T) -> &Option<NaiveDate>,
        fn(&mut T) -> &mut Option<NaiveDate>,
    ),
    Num(fn(&T) -> &Option<f64>, fn(&mut T) -> &mut Option<f64>),
    Bool(fn(&T) -> &Option<bool>, fn(&mut T) -> &mut Option<bool>),
    /// An array of strings.
    List(fn(&T) -> &Vec<String>, fn(&mut T) -> &mut Vec<String>),
    /// One of the record's tables or arrays of tables.
    Nested(Nested),
}

impl<T> Clone for Acc<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Acc<T> {}

/// The record's tables (`[[titles]]`, ..., `[consent]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nested {
    Titles,
    Contacts,
    Quotes,
    Orders,
    Followups,
    Consent,
}

/// One built-in field of a record (`T = Customer`) or of one of its tables.
pub struct Field<T: 'static> {
    pub name: &'static str,
    pub acc: Acc<T>,
    pub required: bool,
    pub format: Option<Format>,
    /// The allowed values of a string (or of an array's items).
    pub one_of: &'static [&'static str],
    pub about: &'static str,
}

impl<T> Field<T> {
    const fn new(name: &'static str, acc: Acc<T>) -> Self {
        Field {
            name,
            acc,
            required: false,
            format: None,
            one_of: &[],
            about: "",
        }
    }
    const fn req(mut self) -> Self {
        self.required = true;
        self
    }
    const fn fmt(mut self, f: Format) -> Self {
        self.format = Some(f);
        self
    }
    const fn one_of(mut self, v: &'static [&'static str]) -> Self {
        self.one_of = v;
        self
    }
    const fn about(mut self, d: &'static str) -> Self {
        self.about = d;
        self
    }

    /// The field's TOML type in the schema.
    pub const fn ty(&self) -> Type {
        match self.acc {
            Acc::Req(..) | Acc::Str(..) => Type::String,
            Acc::Date(..) => Type::Date,
            Acc::Num(..) => Type::Number,
            Acc::Bool(..) => Type::Boolean,
            Acc::List(..) => Type::Array,
            Acc::Nested(Nested::Consent) => Type::Table,
            Acc::Nested(_) => Type::Tables,
        }
    }

    /// Whether the field holds a plain value (not a table).
    pub const fn is_value(&self) -> bool {
        !matches!(self.acc, Acc::Nested(_))
    }
}

/// `Acc::Kind(read, write)` of a struct member.
macro_rules! acc {
    ($kind:ident, $member:ident) => {
        Acc::$kind(|x| &x.$member, |x| &mut x.$member)
    };
}

/// A struct of the record model and its built-in fields.
pub trait Fields: Sized + 'static {
    /// The built-in fields, in the canonical order.
    const FIELDS: &'static [Field<Self>];
    /// The team's own fields of a table (none for titles).
    fn extra(&self) -> Option<&Extra>;
    fn extra_mut(&mut self) -> Option<&mut Extra>;
}

const INCOTERMS: &[&str] = &[
    "EXW", "FCA", "FAS", "FOB", "CFR", "CIF", "CPT", "CIP", "DAP", "DPU", "DDP", "DAT", "DDU",
];

/// The record's own keys, in the canonical order: plain values first, then
/// the tables (arrays of tables, and `consent` last).
pub const CUSTOMER: &[Field<Customer>] = &[
    Field::<Customer>::new("id", acc!(Req, id))
        .req()
        .fmt(Format::Id)
        .about("Stable customer id ([A-Za-z0-9_-]{1,64}); never changed or reused"),
    Field::<Customer>::new("name", acc!(Req, name))
        .req()
        .about("Company name, in any script"),
    Field::<Customer>::new("contact", acc!(Req, contact))
        .req()
        .about("Primary contact's name"),
    Field::<Customer>::new("country", acc!(Req, country))
        .req()
        .fmt(Format::Country)
        .about("ISO 3166-1 alpha-2 country code, upper case"),
    Field::<Customer>::new("owner", acc!(Str, owner))
        .fmt(Format::Handle)
        .about("Staff handle of the owner; absent means the customer is in the public pool"),
    Field::<Customer>::new("tier", acc!(Req, tier))
        .req()
        .one_of(&["A", "B", "C", "D", "E"])
        .about("A: deal within a month; B: three months; C: six months; D: latent or later; E: no chance"),
    Field::<Customer>::new("type", acc!(Str, kind))
        .one_of(&["key-account", "smb", "prospect", "one-off"])
        .about("Customer type"),
    Field::<Customer>::new("stage", acc!(Req, stage))
        .req()
        .one_of(&["prospect", "contacted", "negotiating", "signed", "lost"])
        .about("Sales stage"),
    Field::<Customer>::new("source", acc!(Str, source))
        .about("Where the customer came from (canton-fair, alibaba, customs-data, ...)"),
    Field::<Customer>::new("industry", acc!(Str, industry)).about("Industry"),
    Field::<Customer>::new("city", acc!(Str, city)).about("City"),
    Field::<Customer>::new("address", acc!(Str, address)).about("Postal address"),
    Field::<Customer>::new("website", acc!(Str, website))
        .fmt(Format::Url)
        .about("Web site (http or https URL)"),
    Field::<Customer>::new("tags", acc!(List, tags))
        .fmt(Format::Tag)
        .about("Lower-case kebab-case tags"),
    Field::<Customer>::new("group", acc!(Str, group))
        .about("Buyer group id, shared by every record of one group"),
    Field::<Customer>::new("created", acc!(Date, created))
        .req()
        .about("Date the record was created"),
    Field::<Customer>::new("next_followup", acc!(Date, next_followup))
        .about("Date of the next planned follow-up"),
    Field::<Customer>::new("lost_reason", acc!(Str, lost_reason))
        .about("Why the deal was lost (required when stage is lost)"),
    Field::<Customer>::new("pool_reason", acc!(Str, pool_reason))
        .about("Why the customer was returned to the public pool"),
    Field::<Customer>::new("incoterms", acc!(List, incoterms))
        .one_of(INCOTERMS)
        .about("Incoterms the customer buys on"),
    Field::<Customer>::new("payment_terms", acc!(Str, payment_terms))
        .about("Payment terms (T/T 30/70, L/C at sight, ...)"),
    Field::<Customer>::new("titles", Acc::Nested(Nested::Titles)).about("Other legal names of the customer"),
    Field::<Customer>::new("contacts", Acc::Nested(Nested::Contacts)).about("People at the customer"),
    Field::<Customer>::new("quotes", Acc::Nested(Nested::Quotes)).about("Quotations sent"),
    Field::<Customer>::new("orders", Acc::Nested(Nested::Orders)).about("Orders placed"),
    Field::<Customer>::new("followups", Acc::Nested(Nested::Followups))
        .about("Every contact with the customer"),
    Field::<Customer>::new("consent", Acc::Nested(Nested::Consent))
        .about("Consent to keep the customer's personal data"),
];

pub const TITLE: &[Field<Title>] = &[
    Field::<Title>::new("name", acc!(Req, name))
        .req()
        .about("Legal name"),
    Field::<Title>::new("registration", acc!(Str, registration))
        .about("Registration or credit code"),
];

pub const CONTACT: &[Field<Contact>] = &[
    Field::<Contact>::new("name", acc!(Req, name))
        .req()
        .about("Name"),
    Field::<Contact>::new("role", acc!(Str, role)).about("Role"),
    Field::<Contact>::new("email", acc!(Str, email))
        .fmt(Format::Email)
        .about("E-mail address"),
    Field::<Contact>::new("phone", acc!(Str, phone))
        .fmt(Format::Phone)
        .about("Phone, E.164-like (+49 30 1234567)"),
    Field::<Contact>::new("whatsapp", acc!(Str, whatsapp))
        .fmt(Format::Phone)
        .about("WhatsApp number"),
    Field::<Contact>::new("wechat", acc!(Str, wechat)).about("WeChat id"),
    Field::<Contact>::new("linkedin", acc!(Str, linkedin)).about("LinkedIn profile"),
];

pub const QUOTE: &[Field<Quote>] = &[
    Field::<Quote>::new("date", acc!(Date, date))
        .req()
        .about("Date of the quote"),
    Field::<Quote>::new("product", acc!(Str, product)).about("Product quoted"),
    Field::<Quote>::new("amount", acc!(Num, amount)).about("Amount"),
    Field::<Quote>::new("currency", acc!(Str, currency))
        .fmt(Format::Currency)
        .about("ISO 4217 currency code"),
    Field::<Quote>::new("incoterm", acc!(Str, incoterm))
        .one_of(INCOTERMS)
        .about("Incoterm of the quote"),
    Field::<Quote>::new("status", acc!(Str, status))
        .one_of(&["sent", "accepted", "rejected", "expired"])
        .about("Status of the quote"),
];

pub const ORDER: &[Field<Order>] = &[
    Field::<Order>::new("date", acc!(Date, date))
        .req()
        .about("Order date"),
    Field::<Order>::new("number", acc!(Str, number)).about("Order or PI number"),
    Field::<Order>::new("amount", acc!(Num, amount)).about("Amount"),
    Field::<Order>::new("currency", acc!(Str, currency))
        .fmt(Format::Currency)
        .about("ISO 4217 currency code"),
    Field::<Order>::new("payment", acc!(Str, payment)).about("Payment terms of the order"),
];

pub const FOLLOWUP: &[Field<Followup>] = &[
    Field::<Followup>::new("date", acc!(Date, date))
        .req()
        .about("Date of the follow-up"),
    Field::<Followup>::new("by", acc!(Str, by))
        .fmt(Format::Handle)
        .about("Staff handle of who followed up"),
    Field::<Followup>::new("channel", acc!(Str, channel))
        .one_of(&[
            "email", "phone", "whatsapp", "wechat", "linkedin", "visit", "fair", "other",
        ])
        .about("Channel"),
    Field::<Followup>::new("summary", acc!(Str, summary)).about("What was said"),
    Field::<Followup>::new("replied", acc!(Bool, replied)).about("Whether the customer replied"),
    Field::<Followup>::new("next", acc!(Date, next)).about("Date of the next follow-up planned"),
];

pub const CONSENT: &[Field<Consent>] = &[
    Field::<Consent>::new("date", acc!(Date, date)).about("Date consent was given"),
    Field::<Consent>::new("purpose", acc!(Str, purpose)).about("Purpose the data is kept for"),
    Field::<Consent>::new("basis", acc!(Str, basis)).about("Legal basis"),
];

impl Fields for Customer {
    const FIELDS: &'static [Field<Self>] = CUSTOMER;
    fn extra(&self) -> Option<&Extra> {
        Some(&self.extra)
    }
    fn extra_mut(&mut self) -> Option<&mut Extra> {
        Some(&mut self.extra)
    }
}
impl Fields for Title {
    const FIELDS: &'static [Field<Self>] = TITLE;
    fn extra(&self) -> Option<&Extra> {
        None
    }
    fn extra_mut(&mut self) -> Option<&mut Extra> {
        None
    }
}
impl Fields for Contact {
    const FIELDS: &'static [Field<Self>] = CONTACT;
    fn extra(&self) -> Option<&Extra> {
        Some(&self.extra)
    }
    fn extra_mut(&mut self) -> Option<&mut Extra> {
        Some(&mut self.extra)
    }
}
impl Fields for Quote {
    const FIELDS: &'static [Field<Self>] = QUOTE;
    fn extra(&self) -> Option<&Extra> {
        Some(&self.extra)
    }
    fn extra_mut(&mut self) -> Option<&mut Extra> {
        Some(&mut self.extra)
    }
}
impl Fields for Order {
    const FIELDS: &'static [Field<Self>] = ORDER;
    fn extra(&self) -> Option<&Extra> {
        Some(&self.extra)
    }
    fn extra_mut(&mut self) -> Option<&mut Extra> {
        Some(&mut self.extra)
    }
}
impl Fields for Followup {
    const FIELDS: &'static [Field<Self>] = FOLLOWUP;
    fn extra(&self) -> Option<&Extra> {
        Some(&self.extra)
    }
    fn extra_mut(&mut self) -> Option<&mut Extra> {
        Some(&mut self.extra)
    }
}
impl Fields for Consent {
    const FIELDS: &'static [Field<Self>] = CONSENT;
    fn extra(&self) -> Option<&Extra> {
        Some(&self.extra)
    }
    fn extra_mut(&mut self) -> Option<&mut Extra> {
        Some(&mut self.extra)
    }
}

/// The names of a table's fields, in order (worked out when compiling).
pub const fn names<T, const N: usize>(fields: &[Field<T>]) -> [&'static str; N] {
    assert!(fields.len() == N);
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = fields[i].name;
        i += 1;
    }
    out
}

/// How many of a table's fields hold plain values (they come first).
pub const fn count_values<T>(fields: &[Field<T>]) -> usize {
    let mut i = 0;
    while i < fields.len() && fields[i].is_value() {
        i += 1;
    }
    i
}

/// The record's top-level keys, in the canonical order.
pub const CUSTOMER_KEYS: [&str; CUSTOMER.len()] = names(CUSTOMER);
/// The record's top-level keys that hold plain values (not tables).
pub const CUSTOMER_VALUE_KEYS: [&str; count_values(CUSTOMER)] =
    names(CUSTOMER.split_at(count_values(CUSTOMER)).0);
pub const TITLE_KEYS: [&str; TITLE.len()] = names(TITLE);
pub const CONTACT_KEYS: [&str; CONTACT.len()] = names(CONTACT);
pub const QUOTE_KEYS: [&str; QUOTE.len()] = names(QUOTE);
pub const ORDER_KEYS: [&str; ORDER.len()] = names(ORDER);
pub const FOLLOWUP_KEYS: [&str; FOLLOWUP.len()] = names(FOLLOWUP);
pub const CONSENT_KEYS: [&str; CONSENT.len()] = names(CONSENT);

/// A field's description for the schema, whichever table it is in.
#[derive(Debug, Clone, PartialEq)]
pub struct Described {
    pub name: &'static str,
    pub ty: Type,
    pub required: bool,
    pub format: Option<Format>,
    pub one_of: &'static [&'static str],
    pub about: &'static str,
    /// A table's own fields.
    pub fields: Vec<Described>,
}

fn described<T>(fields: &[Field<T>]) -> Vec<Described> {
    fields
        .iter()
        .map(|f| Described {
            name: f.name,
            ty: f.ty(),
            required: f.required,
            format: f.format,
            one_of: f.one_of,
            about: f.about,
            fields: match f.acc {
                Acc::Nested(n) => n.described(),
                _ => Vec::new(),
            },
        })
        .collect()
}

impl Nested {
    /// The fields of this table, described.
    pub fn described(self) -> Vec<Described> {
        match self {
            Nested::Titles => described(TITLE),
            Nested::Contacts => described(CONTACT),
            Nested::Quotes => described(QUOTE),
            Nested::Orders => described(ORDER),
            Nested::Followups => described(FOLLOWUP),
            Nested::Consent => described(CONSENT),
        }
    }
}

/// The built-in fields of a record, described.
pub fn schema() -> Vec<Described> {
    described(CUSTOMER)
}

/// The header of the built-in schema file.
const SCHEMA_HEAD: &str =
    "# folio record format, version 1: the built-in schema of a customer file.
#
# This file is compiled into folio, and written from the field table in
# src/fields.rs (a test keeps the two equal). A team adds its own fields in its data
# repository's schema/ folder, in the same format (see docs/configuration.md, \"Team fields\").
#
# Each [fields.<key>] says:
#   type        string | integer | number | boolean | date | array | table | tables
#               (number takes integers and floats; tables is an array of tables)
#   required    true when the key must be present (default false)
#   enum        the allowed values of a string (or of an array's items)
#   format      id | country | currency | email | url | phone | handle | tag
#   items       for an array: the type of its items (string by default)
#   description one line for editors and `folio schema export`
# A table or an array of tables lists its own keys under [fields.<key>.fields.<sub>].

version = 1
";

/// The built-in schema as a schema file (`schema/customer.toml`, which is
/// compiled in and must equal this).
pub fn schema_toml() -> String {
    fn put(out: &mut String, prefix: &str, fields: &[Described]) {
        use crate::edit::quote;
        for f in fields {
            let path = format!("{prefix}{}", f.name);
            out.push_str(&format!("\n[fields.{path}]\ntype = \"{}\"\n", f.ty.name()));
            if f.required {
                out.push_str("required = true\n");
            }
            if f.ty == Type::Array {
                out.push_str("items = \"string\"\n");
            }
            if let Some(x) = f.format {
                out.push_str(&format!("format = \"{}\"\n", x.name()));
            }
            if !f.one_of.is_empty() {
                let v: Vec<String> = f.one_of.iter().map(|s| quote(s)).collect();
                out.push_str(&format!("enum = [{}]\n", v.join(", ")));
            }
            out.push_str(&format!("description = {}\n", quote(f.about)));
            put(out, &format!("{path}.fields."), &f.fields);
        }
    }
    let mut out = SCHEMA_HEAD.to_string();
    put(&mut out, "", &schema());
    out
}

#[cfg(test)]
fn day(d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(2025, 1, d)
}

#[cfg(test)]
/// For tests: a customer with every member set, each to a value of its own (every
/// member is named: a new one must be added here).
pub(crate) fn full() -> Customer {
    Customer {
        id: "id".into(),
        name: "name".into(),
        contact: "contact".into(),
        country: "country".into(),
        owner: Some("owner".into()),
        tier: "tier".into(),
        kind: Some("type".into()),
        stage: "stage".into(),
        source: Some("source".into()),
        industry: Some("industry".into()),
        city: Some("city".into()),
        address: Some("address".into()),
        website: Some("website".into()),
        tags: vec!["tags".into()],
        group: Some("group".into()),
        created: day(1),
        next_followup: day(2),
        lost_reason: Some("lost_reason".into()),
        pool_reason: Some("pool_reason".into()),
        incoterms: vec!["incoterms".into()],
        payment_terms: Some("payment_terms".into()),
        titles: vec![Title {
            name: "name".into(),
            registration: Some("registration".into()),
        }],
        contacts: vec![Contact {
            name: "name".into(),
            role: Some("role".into()),
            email: Some("email".into()),
            phone: Some("phone".into()),
            whatsapp: Some("whatsapp".into()),
            wechat: Some("wechat".into()),
            linkedin: Some("linkedin".into()),
            extra: Extra::new(),
        }],
        quotes: vec![Quote {
            date: day(3),
            product: Some("product".into()),
            amount: Some(4.5),
            currency: Some("currency".into()),
            incoterm: Some("incoterm".into()),
            status: Some("status".into()),
            extra: Extra::new(),
        }],
        orders: vec![Order {
            date: day(4),
            number: Some("number".into()),
            amount: Some(6.5),
            currency: Some("currency".into()),
            payment: Some("payment".into()),
            extra: Extra::new(),
        }],
        followups: vec![Followup {
            date: day(5),
            by: Some("by".into()),
            channel: Some("channel".into()),
            summary: Some("summary".into()),
            replied: Some(true),
            next: day(6),
            extra: Extra::new(),
        }],
        consent: Some(Consent {
            date: day(7),
            purpose: Some("purpose".into()),
            basis: Some("basis".into()),
            extra: Extra::new(),
        }),
        extra: Extra::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value as J, json};

    #[test]
    fn the_schema_file_is_the_table() {
        let want = schema_toml();
        assert!(
            crate::schema::BUILTIN == want,
            "schema/customer.toml differs from the field table in src/fields.rs; it should read:\n{want}"
        );
    }

    /// What an accessor reads, as JSON (as the struct serialises it).
    fn read<T>(f: &Field<T>, x: &T) -> J {
        match f.acc {
            Acc::Req(get, _) => json!(get(x)),
            Acc::Str(get, _) => json!(get(x)),
            Acc::Date(get, _) => json!(get(x)),
            Acc::Num(get, _) => json!(get(x)),
            Acc::Bool(get, _) => json!(get(x)),
            Acc::List(get, _) => json!(get(x)),
            Acc::Nested(_) => J::Null,
        }
    }

    /// The struct's serde keys, in order, are the table's; each accessor
    /// reads the member serialised under its name.
    fn agrees<T: Fields + serde::Serialize>(x: &T) -> serde_json::Map<String, J> {
        let J::Object(m) = serde_json::to_value(x).unwrap() else {
            panic!("not an object")
        };
        let keys: Vec<&str> = m.keys().map(String::as_str).collect();
        let names: Vec<&str> = T::FIELDS.iter().map(|f| f.name).collect();
        assert_eq!(keys, names);
        for f in T::FIELDS.iter().filter(|f| f.is_value()) {
            assert_eq!(read(f, x), m[f.name], "{}", f.name);
        }
        m
    }

    #[test]
    fn the_structs_agree_with_the_table() {
        let c = full();
        agrees(&c);
        agrees(&c.titles[0]);
        agrees(&c.contacts[0]);
        agrees(&c.quotes[0]);
        agrees(&c.orders[0]);
        agrees(&c.followups[0]);
        agrees(c.consent.as_ref().unwrap());
        // every nested table is where its key says
        let m = serde_json::to_value(&c).unwrap();
        for f in CUSTOMER {
            let Acc::Nested(n) = f.acc else { continue };
            let v = &m[f.name];
            let one = match n {
                Nested::Consent => v,
                _ => &v[0],
            };
            let keys: Vec<&str> = one
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            let want: Vec<&str> = n.described().iter().map(|d| d.name).collect();
            assert_eq!(keys, want, "{}", f.name);
        }
        // plain values first, tables after them
        assert_eq!(CUSTOMER_VALUE_KEYS.len(), 21);
        assert!(
            CUSTOMER[CUSTOMER_VALUE_KEYS.len()..]
                .iter()
                .all(|f| !f.is_value())
        );
    }
}
