//! The record schema: the built-in fields (from the project's `schema/`
//! folder, compiled in) plus a team's own fields from its repository's
//! `schema/` folder; validation of a parsed record against it; and export as
//! a JSON Schema for editors.

pub mod codes;

use crate::diagnostics::{Code, Diagnostic, did_you_mean};
use serde_json::{Value as Json, json};
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeFloat, DeTable, DeValue};

/// The built-in schema's source: the field table of [`crate::fields`]
/// written out as a schema file (a unit test keeps the two equal).
pub const BUILTIN: &str = include_str!("../../schema/customer.toml");

/// The TOML type a field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    String,
    Integer,
    Number,
    Boolean,
    Date,
    Array,
    Table,
    Tables,
}

impl Type {
    fn parse(s: &str) -> Option<Type> {
        Some(match s {
            "string" => Type::String,
            "integer" => Type::Integer,
            "number" => Type::Number,
            "boolean" => Type::Boolean,
            "date" => Type::Date,
            "array" => Type::Array,
            "table" => Type::Table,
            "tables" => Type::Tables,
            _ => return None,
        })
    }
    /// The type's name in a schema file.
    pub fn name(self) -> &'static str {
        match self {
            Type::String => "string",
            Type::Integer => "integer",
            Type::Number => "number",
            Type::Boolean => "boolean",
            Type::Date => "date",
            Type::Array => "array",
            Type::Table => "table",
            Type::Tables => "tables",
        }
    }
    fn describe(self) -> &'static str {
        match self {
            Type::String => "a string",
            Type::Integer => "an integer",
            Type::Number => "a number",
            Type::Boolean => "a boolean (true or false)",
            Type::Date => "a date (YYYY-MM-DD, without quotes)",
            Type::Array => "an array",
            Type::Table => "a table",
            Type::Tables => "an array of tables ([[...]])",
        }
    }
}

/// A named check of a string's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Id,
    Country,
    Currency,
    Email,
    Url,
    Phone,
    Handle,
    Tag,
}

impl Format {
    fn parse(s: &str) -> Option<Format> {
        Some(match s {
            "id" => Format::Id,
            "country" => Format::Country,
            "currency" => Format::Currency,
            "email" => Format::Email,
            "url" => Format::Url,
            "phone" => Format::Phone,
            "handle" => Format::Handle,
            "tag" => Format::Tag,
            _ => return None,
        })
    }

    /// The format's name in a schema file.
    pub fn name(self) -> &'static str {
        match self {
            Format::Id => "id",
            Format::Country => "country",
            Format::Currency => "currency",
            Format::Email => "email",
            Format::Url => "url",
            Format::Phone => "phone",
            Format::Handle => "handle",
            Format::Tag => "tag",
        }
    }

    /// Why `v` does not have this format, with a hint, if it does not.
    pub fn check(self, v: &str) -> Option<(String, Option<String>)> {
        let ok = match self {
            Format::Id => is_id(v),
            Format::Country => codes::is_country(v),
            Format::Currency => codes::is_currency(v),
            Format::Email => is_email(v),
            Format::Url => is_url(v),
            Format::Phone => is_phone(v),
            Format::Handle => is_handle(v),
            Format::Tag => is_tag(v),
        };
        if ok {
            return None;
        }
        let (what, hint) = match self {
            Format::Id => ("an id", Some("use 1 to 64 of A-Z a-z 0-9 _ -".to_string())),
            Format::Country => {
                let up = v.to_ascii_uppercase();
                let hint = if codes::COUNTRIES.binary_search(&up.as_str()).is_ok() {
                    format!("country codes are upper case: \"{up}\"")
                } else {
                    "use an ISO 3166-1 alpha-2 code such as \"DE\" or \"CN\"".to_string()
                };
                ("an ISO 3166-1 alpha-2 country code", Some(hint))
            }
            Format::Currency => {
                let up = v.to_ascii_uppercase();
                let hint = if codes::CURRENCIES.binary_search(&up.as_str()).is_ok() {
                    format!("currency codes are upper case: \"{up}\"")
                } else {
                    "use an ISO 4217 code such as \"USD\", \"EUR\" or \"CNY\"".to_string()
                };
                ("an ISO 4217 currency code", Some(hint))
            }
            Format::Email => (
                "an e-mail address",
                Some("write it as name@example.com".to_string()),
            ),
            Format::Url => (
                "a URL",
                Some("write it with its scheme: https://example.com".to_string()),
            ),
            Format::Phone => (
                "a phone number",
                Some(
                    "write + and the country code, then 7 to 15 digits: \"+49 30 1234567\""
                        .to_string(),
                ),
            ),
            Format::Handle => (
                "a staff handle",
                Some("handles use a-z 0-9 _ . -".to_string()),
            ),
            Format::Tag => (
                "a tag",
                Some(format!(
                    "tags are lower-case kebab-case: \"{}\"",
                    crate::naming::slug(v)
                )),
            ),
        };
        Some((format!("`{v}` is not {what}"), hint))
    }
}

pub fn is_id(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub fn is_handle(v: &str) -> bool {
    !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

pub fn is_tag(v: &str) -> bool {
    !v.is_empty()
        && v.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

pub fn is_email(v: &str) -> bool {
    let Some((local, domain)) = v.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !local.contains('@')
        && !v.chars().any(|c| c.is_whitespace() || c.is_control())
        && is_domain(domain)
}

fn is_domain(d: &str) -> bool {
    d.contains('.')
        && d.split('.').all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

pub fn is_url(v: &str) -> bool {
    let rest = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"));
    let Some(rest) = rest else { return false };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once('@').map(|(_, h)| h).unwrap_or(host);
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    !v.chars().any(|c| c.is_whitespace()) && (is_domain(host) || host == "localhost")
}

/// E.164-like after stripping spaces, dashes and brackets: an optional `+`
/// and 7 to 15 digits.
pub fn is_phone(v: &str) -> bool {
    let mut kept = v
        .chars()
        .filter(|c| !" -()[]\u{a0}".contains(*c))
        .peekable();
    kept.next_if_eq(&'+');
    let mut digits = 0;
    for c in kept {
        if !c.is_ascii_digit() {
            return false;
        }
        digits += 1;
    }
    (7..=15).contains(&digits)
}

/// One field of the schema.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub ty: Type,
    pub required: bool,
    pub format: Option<Format>,
    pub enumeration: Vec<String>,
    pub pattern: Option<regex::Regex>,
    /// For arrays: the type of the items.
    pub items: Type,
    /// For tables and arrays of tables.
    pub fields: Vec<Field>,
    pub description: String,
    /// Where it was defined (`built-in` or a repository file).
    pub origin: String,
}

/// A schema: the top-level fields of a record.
#[derive(Debug, Clone)]
pub struct Schema {
    pub fields: Vec<Field>,
}

/// A problem in a schema file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SchemaError {
    pub message: String,
    pub field: String,
    pub span: Option<Range<usize>>,
}

impl Schema {
    /// The built-in schema.
    pub fn builtin() -> Schema {
        let mut s = Schema { fields: Vec::new() };
        s.extend(BUILTIN, "built-in")
            .expect("the built-in schema is valid");
        s
    }

    /// Add the fields of a schema file. New fields only: a file may add keys
    /// to a built-in table (such as `contacts`) but not redefine a field.
    pub fn extend(&mut self, text: &str, origin: &str) -> Result<(), Vec<SchemaError>> {
        let doc = DeTable::parse(text).map_err(|e| {
            vec![SchemaError {
                message: e.message().to_string(),
                field: String::new(),
                span: e.span(),
            }]
        })?;
        let mut errors = Vec::new();
        for (k, v) in doc.get_ref() {
            match k.get_ref().as_ref() {
                "version" | "fields" => {}
                other => errors.push(SchemaError {
                    message: format!("unknown key `{other}` in a schema file (expected `fields`)"),
                    field: other.to_string(),
                    span: Some(k.span()),
                }),
            }
            let _ = v;
        }
        if let Some(fields) = doc.get_ref().get("fields") {
            match fields.get_ref().as_table() {
                Some(t) => add_fields(&mut self.fields, t, "", origin, &mut errors),
                None => errors.push(SchemaError {
                    message: "`fields` must be a table".into(),
                    field: "fields".into(),
                    span: Some(fields.span()),
                }),
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Validate a parsed record; every problem is pushed to `out`.
    pub fn validate(&self, doc: &DeTable, path: &str, out: &mut Vec<Diagnostic>) {
        validate_table(&self.fields, doc, 0..0, None, path, out);
    }

    /// A JSON Schema (Draft 4, which taplo and Even Better TOML read) of the
    /// record format.
    pub fn to_json_schema(&self) -> Json {
        let mut root = object_schema(&self.fields);
        let obj = root.as_object_mut().expect("object");
        let mut head = serde_json::Map::new();
        head.insert(
            "$schema".into(),
            json!("http://json-schema.org/draft-04/schema#"),
        );
        head.insert("title".into(), json!("folio customer record"));
        head.insert(
            "description".into(),
            json!("One customer of an export sales team (folio record format v1)"),
        );
        head.append(obj);
        Json::Object(head)
    }
}

fn add_fields(
    into: &mut Vec<Field>,
    table: &DeTable,
    prefix: &str,
    origin: &str,
    errors: &mut Vec<SchemaError>,
) {
    for (k, v) in table {
        let name = k.get_ref().as_ref();
        let full = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        };
        let err = |message: String, span: Range<usize>| SchemaError {
            message,
            field: full.clone(),
            span: Some(span),
        };
        let Some(def) = v.get_ref().as_table() else {
            errors.push(err(
                format!("field `{full}` must be a table of settings"),
                v.span(),
            ));
            continue;
        };
        if !crate::schema::is_key(name) {
            errors.push(err(
                format!("field name `{full}` must use a-z, 0-9 and _"),
                k.span(),
            ));
            continue;
        }
        if let Some(existing) = into.iter_mut().find(|f| f.name == name) {
            // Extending a built-in table with sub-fields is allowed; nothing else.
            let only_fields = def.iter().all(|(dk, _)| dk.get_ref().as_ref() == "fields");
            if only_fields && matches!(existing.ty, Type::Table | Type::Tables) {
                if let Some(sub) = def.get("fields").and_then(|s| s.get_ref().as_table()) {
                    add_fields(&mut existing.fields, sub, &full, origin, errors);
                }
            } else {
                errors.push(err(
                    format!(
                        "field `{full}` is already defined ({}); a schema may only add fields",
                        existing.origin
                    ),
                    k.span(),
                ));
            }
            continue;
        }
        match parse_field(name, &full, def, origin, errors) {
            Some(f) => into.push(f),
            None => continue,
        }
    }
}

fn parse_field(
    name: &str,
    full: &str,
    def: &DeTable,
    origin: &str,
    errors: &mut Vec<SchemaError>,
) -> Option<Field> {
    let mut f = Field {
        name: name.to_string(),
        ty: Type::String,
        required: false,
        format: None,
        enumeration: Vec::new(),
        pattern: None,
        items: Type::String,
        fields: Vec::new(),
        description: String::new(),
        origin: origin.to_string(),
    };
    let mut ok = true;
    let mut has_type = false;
    for (k, v) in def {
        let key = k.get_ref().as_ref();
        let mut bad = |what: &str| {
            errors.push(SchemaError {
                message: format!("`{key}` of field `{full}` must be {what}"),
                field: full.to_string(),
                span: Some(v.span()),
            });
            false
        };
        let val = v.get_ref();
        match key {
            "type" | "items" => {
                match val.as_str().and_then(Type::parse) {
                    Some(t) if key == "type" => {
                        f.ty = t;
                        has_type = true;
                    }
                    Some(t) if !matches!(t, Type::Array | Type::Table | Type::Tables) => {
                        f.items = t
                    }
                    _ => {
                        ok &= bad(
                            "one of string, integer, number, boolean, date, array, table, tables",
                        )
                    }
                };
            }
            "required" => match val.as_bool() {
                Some(b) => f.required = b,
                None => ok &= bad("true or false"),
            },
            "format" => match val.as_str().and_then(Format::parse) {
                Some(x) => f.format = Some(x),
                None => ok &= bad("one of id, country, currency, email, url, phone, handle, tag"),
            },
            "enum" => match val.as_array() {
                Some(a) if a.iter().all(|x| x.get_ref().is_str()) => {
                    f.enumeration = a
                        .iter()
                        .filter_map(|x| x.get_ref().as_str().map(str::to_string))
                        .collect()
                }
                _ => ok &= bad("an array of strings"),
            },
            "pattern" => match val
                .as_str()
                .map(|p| regex::Regex::new(&format!("^(?:{p})$")))
            {
                Some(Ok(r)) => f.pattern = Some(r),
                Some(Err(e)) => ok &= bad(&format!("a valid regular expression ({e})")),
                None => ok &= bad("a string"),
            },
            "description" => match val.as_str() {
                Some(d) => f.description = d.to_string(),
                None => ok &= bad("a string"),
            },
            "fields" => {}
            other => {
                let hint = did_you_mean(
                    other,
                    [
                        "type",
                        "required",
                        "format",
                        "enum",
                        "pattern",
                        "items",
                        "description",
                        "fields",
                    ],
                )
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
                errors.push(SchemaError {
                    message: format!("unknown setting `{other}` in field `{full}`{hint}"),
                    field: full.to_string(),
                    span: Some(k.span()),
                });
                ok = false;
            }
        }
    }
    if !has_type {
        errors.push(SchemaError {
            message: format!("field `{full}` needs a `type`"),
            field: full.to_string(),
            span: None,
        });
        return None;
    }
    if let Some(sub) = def.get("fields") {
        match sub.get_ref().as_table() {
            Some(t) if matches!(f.ty, Type::Table | Type::Tables) => {
                add_fields(&mut f.fields, t, full, origin, errors)
            }
            _ => {
                errors.push(SchemaError {
                    message: format!("only a table or tables field `{full}` can have `fields`"),
                    field: full.to_string(),
                    span: Some(sub.span()),
                });
                ok = false;
            }
        }
    }
    ok.then_some(f)
}

/// `a == b`, with the lengths and first bytes compared before the rest
/// (most names and values that differ, differ there).
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
}

/// A bare TOML key folio accepts as a field name.
pub fn is_key(k: &str) -> bool {
    !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A field's dotted path (`contacts[0].email`), rendered only when a
/// diagnostic needs it: validation of a valid record allocates nothing.
#[derive(Clone, Copy)]
pub(crate) struct FieldPath<'a> {
    pub(crate) parent: Option<&'a FieldPath<'a>>,
    pub(crate) key: &'a str,
    pub(crate) index: Option<usize>,
}

impl std::fmt::Display for FieldPath<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(p) = self.parent {
            write!(f, "{p}.")?;
        }
        f.write_str(self.key)?;
        if let Some(i) = self.index {
            write!(f, "[{i}]")?;
        }
        Ok(())
    }
}

fn validate_table(
    fields: &[Field],
    table: &DeTable,
    table_span: Range<usize>,
    prefix: Option<&FieldPath>,
    path: &str,
    out: &mut Vec<Diagnostic>,
) {
    // Which fields the table has, for the required ones (a table has each
    // key once); past 128 fields the table is asked instead.
    let mut seen: u128 = 0;
    // Records keep the fields' order, so the search for each key starts
    // after the previous key's field.
    let mut next = 0;
    for (k, v) in table {
        let key = k.get_ref().as_ref();
        let fpath = FieldPath {
            parent: prefix,
            key,
            index: None,
        };
        let (wrapped, ahead) = fields.split_at(next);
        let found = ahead
            .iter()
            .position(|f| same(&f.name, key))
            .map(|i| i + next)
            .or_else(|| wrapped.iter().position(|f| same(&f.name, key)));
        if let Some(i) = found {
            next = (i + 1) % fields.len();
            if i < 128 {
                seen |= 1 << i;
            }
        }
        match found.map(|i| &fields[i]) {
            Some(f) => validate_value(f, v, &fpath, path, out),
            None => {
                let mut d =
                    Diagnostic::error(Code::UnknownKey, path, format!("unknown key `{fpath}`"))
                        .with_field(fpath.to_string())
                        .with_span(k.span());
                d.hint = Some(
                    match did_you_mean(key, fields.iter().map(|f| f.name.as_str())) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => {
                            "a team's own fields are declared in the repository's schema/ folder"
                                .to_string()
                        }
                    },
                );
                out.push(d);
            }
        }
    }
    for (i, f) in fields.iter().enumerate().filter(|(_, f)| f.required) {
        let present = if i < 128 {
            seen & (1 << i) != 0
        } else {
            table.get(f.name.as_str()).is_some()
        };
        if !present {
            let fpath = FieldPath {
                parent: prefix,
                key: &f.name,
                index: None,
            }
            .to_string();
            let where_ = match prefix {
                None => String::new(),
                Some(p) => format!(" in `{p}`"),
            };
            out.push(
                Diagnostic::error(
                    Code::MissingKey,
                    path,
                    format!("missing required key `{}`{where_}", f.name),
                )
                .with_field(fpath)
                .with_span(table_span.clone())
                .with_hint(format!("add `{} = ...` ({})", f.name, f.ty.describe())),
            );
        }
    }
}

fn type_name(v: &DeValue) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(d) if d.time.is_some() || d.date.is_none() => "a date-time",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(a) if a.is_empty() => "an empty array",
        DeValue::Array(a) if a.iter().all(|x| x.get_ref().is_table()) => "an array of tables",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

fn type_matches(ty: Type, v: &DeValue) -> bool {
    match (ty, v) {
        (Type::String, DeValue::String(_)) => true,
        (Type::Integer, DeValue::Integer(_)) => true,
        (Type::Number, DeValue::Integer(_) | DeValue::Float(_)) => true,
        (Type::Boolean, DeValue::Boolean(_)) => true,
        (Type::Date, DeValue::Datetime(d)) => {
            d.date.is_some() && d.time.is_none() && d.offset.is_none()
        }
        (Type::Array, DeValue::Array(_)) => true,
        (Type::Table, DeValue::Table(_)) => true,
        (Type::Tables, DeValue::Array(a)) => a.iter().all(|x| x.get_ref().is_table()),
        _ => false,
    }
}

fn validate_value(
    f: &Field,
    v: &Spanned<DeValue>,
    fpath: &FieldPath,
    path: &str,
    out: &mut Vec<Diagnostic>,
) {
    let val = v.get_ref();
    if !type_matches(f.ty, val) {
        let mut d = Diagnostic::error(
            Code::WrongType,
            path,
            format!(
                "`{fpath}` must be {}, found {}",
                f.ty.describe(),
                type_name(val)
            ),
        )
        .with_field(fpath.to_string())
        .with_span(v.span());
        d.hint = match (f.ty, val) {
            (Type::Date, DeValue::String(s)) if looks_like_date(s) => {
                Some(format!("write dates without quotes: {} = {s}", f.name))
            }
            (Type::Date, DeValue::Datetime(_)) => Some("give the date only, without a time".into()),
            (Type::String, _) => Some(format!("put the value in quotes: {} = \"...\"", f.name)),
            (Type::Tables, DeValue::Table(_)) => Some(format!("write each entry as [[{fpath}]]")),
            _ => None,
        };
        out.push(d);
        return;
    }
    match val {
        DeValue::String(s) => check_string(f, s, v.span(), fpath, path, out),
        DeValue::Float(x) => check_finite(f, x, v.span(), fpath, path, out),
        DeValue::Array(items) if f.ty == Type::Array => {
            for (i, item) in items.iter().enumerate() {
                let ipath = FieldPath {
                    index: Some(i),
                    ..*fpath
                };
                let iv = item.get_ref();
                let ok = match f.items {
                    Type::Date => type_matches(Type::Date, iv),
                    t => type_matches(t, iv),
                };
                if !ok {
                    out.push(
                        Diagnostic::error(
                            Code::WrongType,
                            path,
                            format!(
                                "items of `{fpath}` must be {}, found {}",
                                f.items.describe(),
                                type_name(iv)
                            ),
                        )
                        .with_field(ipath.to_string())
                        .with_span(item.span()),
                    );
                } else if let DeValue::String(s) = iv {
                    check_string(f, s, item.span(), &ipath, path, out);
                } else if let DeValue::Float(x) = iv {
                    check_finite(f, x, item.span(), &ipath, path, out);
                }
            }
        }
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if let Some(t) = item.get_ref().as_table() {
                    let ipath = FieldPath {
                        index: Some(i),
                        ..*fpath
                    };
                    validate_table(&f.fields, t, item.span(), Some(&ipath), path, out);
                }
            }
        }
        DeValue::Table(t) => validate_table(&f.fields, t, v.span(), Some(fpath), path, out),
        _ => {}
    }
}

/// A float's value, as the records read it (`None` when the text does not
/// read as a number at all).
pub fn float_value(x: &DeFloat) -> Option<f64> {
    x.as_str().replace('_', "").parse().ok()
}

/// A number must be finite: TOML's `nan`, `inf` and `-inf`, and a literal
/// too large for a number (`1e400`, read as infinity), are no amount.
fn check_finite(
    f: &Field,
    x: &DeFloat,
    span: Range<usize>,
    fpath: &FieldPath,
    path: &str,
    out: &mut Vec<Diagnostic>,
) {
    let value = float_value(x);
    if value.is_some_and(f64::is_finite) {
        return;
    }
    let text = x.as_str();
    let what = match value {
        Some(v) if v.is_infinite() && !text.contains("inf") => " (too large for a number)",
        _ => "",
    };
    out.push(
        Diagnostic::error(
            Code::NotFinite,
            path,
            format!("`{fpath}` must be a finite number, found {text}{what}"),
        )
        .with_field(fpath.to_string())
        .with_span(span)
        .with_hint(format!(
            "write a number such as 1250.5, or remove the `{}` line",
            f.name
        )),
    );
}

fn looks_like_date(s: &str) -> bool {
    s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-'
}

fn check_string(
    f: &Field,
    s: &str,
    span: Range<usize>,
    fpath: &FieldPath,
    path: &str,
    out: &mut Vec<Diagnostic>,
) {
    if s.trim().is_empty() {
        if f.required || f.format.is_some() || !f.enumeration.is_empty() {
            out.push(
                Diagnostic::error(Code::BadFormat, path, format!("`{fpath}` is empty"))
                    .with_field(fpath.to_string())
                    .with_span(span)
                    .with_hint(format!("give a value or remove the `{}` line", f.name)),
            );
        }
        return;
    }
    if !f.enumeration.is_empty() && !f.enumeration.iter().any(|e| same(e, s)) {
        let allowed = f
            .enumeration
            .iter()
            .map(|e| format!("\"{e}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let mut d = Diagnostic::error(
            Code::BadEnum,
            path,
            format!("`{fpath}` is \"{s}\", which is not allowed"),
        )
        .with_field(fpath.to_string())
        .with_span(span);
        d.hint = Some(
            match did_you_mean(s, f.enumeration.iter().map(String::as_str)) {
                Some(m) => format!("did you mean \"{m}\"? allowed: {allowed}"),
                None => format!("allowed: {allowed}"),
            },
        );
        out.push(d);
        return;
    }
    if let Some((msg, hint)) = f.format.and_then(|fmt| fmt.check(s)) {
        let mut d = Diagnostic::error(Code::BadFormat, path, format!("`{fpath}`: {msg}"))
            .with_field(fpath.to_string())
            .with_span(span);
        d.hint = hint;
        out.push(d);
        return;
    }
    if let Some(re) = &f.pattern
        && !re.is_match(s)
    {
        out.push(
            Diagnostic::error(
                Code::BadFormat,
                path,
                format!("`{fpath}`: `{s}` does not match the pattern the schema sets"),
            )
            .with_field(fpath.to_string())
            .with_span(span)
            .with_hint(format!("pattern: {}", re.as_str())),
        );
    }
}

fn field_schema(f: &Field) -> Json {
    let mut m = serde_json::Map::new();
    if !f.description.is_empty() {
        m.insert("description".into(), json!(f.description));
    }
    let scalar = |t: Type, m: &mut serde_json::Map<String, Json>| {
        let ty = match t {
            Type::String | Type::Date => "string",
            Type::Integer => "integer",
            Type::Number => "number",
            Type::Boolean => "boolean",
            _ => "string",
        };
        m.insert("type".into(), json!(ty));
        if t == Type::Date {
            m.insert("format".into(), json!("date"));
        }
    };
    let constrain = |m: &mut serde_json::Map<String, Json>| {
        if !f.enumeration.is_empty() {
            m.insert("enum".into(), json!(f.enumeration));
        }
        if let Some(re) = &f.pattern {
            m.insert("pattern".into(), json!(re.as_str()));
        }
        match f.format {
            Some(Format::Country) => {
                m.insert("enum".into(), json!(codes::COUNTRIES));
            }
            Some(Format::Currency) => {
                m.insert("enum".into(), json!(codes::CURRENCIES));
            }
            Some(Format::Email) => {
                m.insert("format".into(), json!("email"));
            }
            Some(Format::Url) => {
                m.insert("pattern".into(), json!("^https?://"));
            }
            Some(Format::Id) => {
                m.insert("pattern".into(), json!("^[A-Za-z0-9_-]{1,64}$"));
            }
            Some(Format::Tag) => {
                m.insert("pattern".into(), json!("^[a-z0-9]+(-[a-z0-9]+)*$"));
            }
            Some(Format::Handle) => {
                m.insert("pattern".into(), json!("^[A-Za-z0-9_.-]+$"));
            }
            Some(Format::Phone) => {
                m.insert("pattern".into(), json!("^\\+?[0-9 ()\\[\\]-]{7,30}$"));
            }
            None => {}
        }
    };
    match f.ty {
        Type::Array => {
            m.insert("type".into(), json!("array"));
            let mut items = serde_json::Map::new();
            scalar(f.items, &mut items);
            constrain(&mut items);
            m.insert("items".into(), Json::Object(items));
        }
        Type::Table => {
            let o = object_schema(&f.fields);
            if let Json::Object(o) = o {
                m.extend(o);
            }
        }
        Type::Tables => {
            m.insert("type".into(), json!("array"));
            m.insert("items".into(), object_schema(&f.fields));
        }
        t => {
            scalar(t, &mut m);
            constrain(&mut m);
            if f.required && t == Type::String {
                m.insert("minLength".into(), json!(1));
            }
        }
    }
    Json::Object(m)
}

fn object_schema(fields: &[Field]) -> Json {
    let mut props = serde_json::Map::new();
    for f in fields {
        props.insert(f.name.clone(), field_schema(f));
    }
    let required: Vec<&str> = fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.name.as_str())
        .collect();
    let mut m = serde_json::Map::new();
    m.insert("type".into(), json!("object"));
    m.insert("properties".into(), Json::Object(props));
    if !required.is_empty() {
        m.insert("required".into(), json!(required));
    }
    m.insert("additionalProperties".into(), json!(false));
    Json::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Vec<Diagnostic> {
        let doc = DeTable::parse(text).unwrap();
        let mut out = Vec::new();
        Schema::builtin().validate(doc.get_ref(), "x.toml", &mut out);
        out
    }

    #[test]
    fn builtin_loads_and_lists_required() {
        let s = Schema::builtin();
        let req: Vec<_> = s
            .fields
            .iter()
            .filter(|f| f.required)
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(
            req,
            [
                "id", "name", "contact", "country", "tier", "stage", "created"
            ]
        );
        assert!(codes::COUNTRIES.windows(2).all(|w| w[0] < w[1]));
        assert!(codes::CURRENCIES.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn formats() {
        assert!(is_phone("+49 30 1234567"));
        assert!(is_phone("(030) 123-4567"));
        assert!(!is_phone("+49 30 12 x3"));
        assert!(!is_phone("123"));
        assert!(is_email("a.b@example.co.uk"));
        assert!(!is_email("a b@example.com"));
        assert!(!is_email("ab@localhost"));
        assert!(is_url("https://example.com/x?y"));
        assert!(!is_url("example.com"));
        assert!(is_tag("price-sensitive"));
        assert!(!is_tag("Price"));
        assert!(!is_tag("a--b"));
    }

    #[test]
    fn validates_nested_tables() {
        let d = check(
            "id = \"A\"\nname = \"N\"\ncontact = \"C\"\ncountry = \"de\"\ntier = \"F\"\nstage = \"signed\"\ncreated = \"2024-01-01\"\n[[contacts]]\nemail = \"x\"\n",
        );
        let codes: Vec<_> = d
            .iter()
            .map(|d| (d.code.as_str(), d.field.clone().unwrap()))
            .collect();
        assert!(codes.contains(&("F105", "country".into())), "{codes:?}");
        assert!(codes.contains(&("F104", "tier".into())));
        assert!(codes.contains(&("F103", "created".into())));
        assert!(codes.contains(&("F105", "contacts[0].email".into())));
        assert!(codes.contains(&("F102", "contacts[0].name".into())));
    }

    #[test]
    fn numbers_must_be_finite() {
        let head = "id = \"A\"\nname = \"N\"\ncontact = \"C\"\ncountry = \"DE\"\ntier = \"B\"\nstage = \"contacted\"\ncreated = 2024-01-01\n";
        for (amount, found) in [
            ("nan", "nan"),
            ("+nan", "+nan"),
            ("-nan", "-nan"),
            ("inf", "inf"),
            ("-inf", "-inf"),
            ("1e400", "1e400 (too large for a number)"),
        ] {
            let d = check(&format!(
                "{head}[[quotes]]\ndate = 2024-02-01\namount = 5\n[[orders]]\ndate = 2024-02-01\namount = {amount}\n"
            ));
            assert_eq!(d.len(), 1, "{amount}: {d:?}");
            assert_eq!(d[0].code, Code::NotFinite);
            assert_eq!(d[0].field.as_deref(), Some("orders[0].amount"));
            assert_eq!(
                d[0].message,
                format!("`orders[0].amount` must be a finite number, found {found}")
            );
        }
        for amount in ["12.5", "1_000.0", "0", "-3e2", "1.7976931348623157e308"] {
            let d = check(&format!(
                "{head}[[quotes]]\ndate = 2024-02-01\namount = {amount}\n"
            ));
            assert!(d.is_empty(), "{amount}: {d:?}");
        }
    }

    #[test]
    fn extension_adds_fields_and_refuses_redefinition() {
        let mut s = Schema::builtin();
        s.extend("[fields.vat]\ntype = \"string\"\npattern = \"[A-Z]{2}[0-9]+\"\n[fields.contacts.fields.skype]\ntype = \"string\"\n", "schema/team.toml").unwrap();
        assert!(s.field("vat").is_some());
        assert!(
            s.field("contacts")
                .unwrap()
                .fields
                .iter()
                .any(|f| f.name == "skype")
        );
        let e = s
            .extend("[fields.tier]\ntype = \"integer\"\n", "schema/x.toml")
            .unwrap_err();
        assert!(e[0].message.contains("already defined"), "{e:?}");
    }
}
