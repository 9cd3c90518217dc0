//! Writing records: atomic writes, new records in the canonical layout, and
//! format-preserving edits of existing files (toml_edit).
//!
//! The canonical layout puts one field per line, plain keys in schema order,
//! and arrays of tables after them, so that git merges two people's edits
//! of one customer line by line.

use crate::fields::{Acc, Fields, Nested};
use crate::records::{Customer, Extra, Followup};
use chrono::NaiveDate;
use std::io::Write;
use std::path::Path;
use toml_edit::{ArrayOfTables, Item, Table, Value};
use toml_writer::ToTomlValue as _;

/// Write `bytes` to `path` through a temporary file in the same folder,
/// renamed into place, so a crash never leaves a half-written record. A
/// file that is replaced keeps its permissions; a new one gets the
/// process's umask (as `File::create` would), never a private 0600.
///
/// For files that are not records (exports, the cache): records are
/// written through [`crate::session`].
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let keep = std::fs::metadata(path).ok().map(|m| m.permissions());
    let tmp = dir.join(format!(
        ".folio-tmp-{}",
        ulid::Ulid::new().to_string().to_lowercase()
    ));
    let r = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        if let Some(p) = keep {
            f.set_permissions(p)?;
        }
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    r
}

/// Flush every file system that holds one of `paths` (their folders).
#[cfg(target_os = "linux")]
pub(crate) fn sync_file_systems<'a>(paths: impl Iterator<Item = &'a Path>) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::MetadataExt;
    let dirs: std::collections::BTreeSet<&Path> = paths
        .map(|p| {
            p.parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    for dir in dirs {
        let d = std::fs::File::open(dir)?;
        if seen.insert(d.metadata()?.dev()) {
            // SAFETY: `syncfs` takes an open file descriptor, which `d`
            // keeps open for the call, and touches no memory of ours.
            if unsafe { libc::syncfs(d.as_raw_fd()) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn sync_file_systems<'a>(_: impl Iterator<Item = &'a Path>) -> std::io::Result<()> {
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
/// whole line(s), byte range of the value), in file order. A key whose
/// value is a table or an array of tables (a header, dotted keys, an
/// inline table) is not such a line: editing `key` is refused with
/// [`KeyEditError::NotPlain`] (a new `key = ...` line would define it
/// twice).
fn top_level_lines(text: &str, key: &str) -> Result<Vec<KeyLine>, KeyEditError> {
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
            if k.get_ref() == key {
                return Err(KeyEditError::NotPlain(key.to_string()));
            }
            continue;
        }
        let (ks, vs) = (k.span(), v.span());
        let start = text[..ks.start]
            .rfind('\n')
            .map(|i| i + 1)
            .unwrap_or(after_bom(text));
        let end = text[vs.end..]
            .find('\n')
            .map(|i| vs.end + i + 1)
            .unwrap_or(text.len());
        out.push((k.get_ref().to_string(), start..end, vs));
    }
    Ok(out)
}

/// Where the text after a leading byte-order mark starts (a file that
/// had two keeps one in its text): nothing is inserted before it.
fn after_bom(text: &str) -> usize {
    if text.starts_with('\u{feff}') { 3 } else { 0 }
}

/// Set a top-level string key, changing nothing else: the value is replaced
/// in place (comments on the line kept), or a new line is inserted after
/// the last present key of `after` (the keys that precede it in the
/// canonical order), else after the last top-level key. Refused when the
/// key holds something other than a string, or is a table (`[owner]`,
/// `owner.x = 1`, `owner = { x = 1 }`).
pub fn set_string(
    text: &str,
    key: &str,
    value: &str,
    after: &[&str],
) -> Result<String, KeyEditError> {
    let lines = top_level_lines(text, key)?;
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
        .unwrap_or(after_bom(text));
    let nl = line_ending(text);
    let mut out = String::with_capacity(text.len() + key.len() + value.len() + 8);
    out.push_str(&text[..at]);
    if at > after_bom(text) && !text[..at].ends_with('\n') {
        out.push_str(nl);
    }
    out.push_str(&format!("{key} = {}{nl}", quote(value)));
    out.push_str(&text[at..]);
    Ok(out)
}

/// Remove a top-level key's line(s), changing nothing else. Absent keys
/// are fine; a key that is a table is refused (see [`set_string`]).
pub fn remove_key(text: &str, key: &str) -> Result<String, KeyEditError> {
    let lines = top_level_lines(text, key)?;
    match lines.into_iter().find(|(k, ..)| k == key) {
        Some((_, line, _)) => Ok(format!("{}{}", &text[..line.start], &text[line.end..])),
        None => Ok(text.to_string()),
    }
}

/// A TOML basic string (`"..."`) on one line, escaped by TOML's own
/// writer, whatever the text holds (quotes, backslashes, line breaks).
pub fn quote(s: &str) -> String {
    toml_writer::TomlStringBuilder::new(s)
        .as_basic()
        .to_toml_value()
}

/// Why a record could not be written. Nothing is written when one of these
/// comes back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// folio never writes `nan` or `inf`: no spreadsheet, JSON reader or
    /// sum of amounts can use them.
    #[error("`{field}` is {value}, not a finite number; folio does not write nan or inf")]
    NonFinite {
        /// Where the value is: `quotes[0].amount`, `weight`, `sizes[2]`.
        field: String,
        /// `nan`, `inf` or `-inf`.
        value: String,
    },
    /// A date TOML cannot hold (years 0 to 9999).
    #[error("`{field}` is {value}, a date outside the years 0 to 9999 that TOML can hold")]
    Date { field: String, value: String },
}

impl WriteError {
    /// Where the value is: `quotes[0].amount`, `weight`, `sizes[2]`.
    pub fn field(&self) -> &str {
        match self {
            WriteError::NonFinite { field, .. } | WriteError::Date { field, .. } => field,
        }
    }

    /// The same error for a value one level further out (`at` goes in front
    /// of the field: a key, `key.` or `[2]`).
    fn within(mut self, at: &str) -> Self {
        match &mut self {
            WriteError::NonFinite { field, .. } | WriteError::Date { field, .. } => {
                field.insert_str(0, at)
            }
        }
        self
    }
}

/// A string value written as one basic string on one line: toml_edit would
/// otherwise pick a literal string for text with quotes, and a multi-line
/// one for text with line breaks, and a record keeps one key per line.
fn string(s: &str) -> Value {
    let b = toml_writer::TomlStringBuilder::new(s);
    if b.as_default() == b.as_basic() {
        return Value::from(s);
    }
    // parsing keeps the representation it reads
    quote(s).parse().unwrap_or_else(|_| Value::from(s))
}

/// A float, which must be finite (see [`WriteError::NonFinite`]); a whole
/// number keeps its `.0` (`12.0`), so it reads back as a float.
fn float(f: f64) -> Result<Value, WriteError> {
    if f.is_finite() {
        return Ok(Value::from(f));
    }
    let value = if f.is_nan() {
        "nan"
    } else if f > 0.0 {
        "inf"
    } else {
        "-inf"
    };
    Err(WriteError::NonFinite {
        field: String::new(),
        value: value.into(),
    })
}

/// A date as a TOML local date.
fn date(d: NaiveDate) -> Result<Value, WriteError> {
    use chrono::Datelike;
    let year = u16::try_from(d.year()).ok().filter(|y| *y <= 9999);
    match year {
        Some(year) => Ok(Value::from(toml_edit::Datetime {
            date: Some(toml_edit::Date {
                year,
                month: d.month() as u8,
                day: d.day() as u8,
            }),
            time: None,
            offset: None,
        })),
        None => Err(WriteError::Date {
            field: String::new(),
            value: d.to_string(),
        }),
    }
}

/// A team field's value as an inline TOML value of the same type: a string
/// stays a string (even `"2025-01-01"`), a date a date, a table an inline
/// table.
pub fn team_value(v: &toml::Value) -> Result<Value, WriteError> {
    use toml::Value as T;
    Ok(match v {
        T::String(s) => string(s),
        T::Integer(i) => Value::from(*i),
        T::Float(f) => float(*f)?,
        T::Boolean(b) => Value::from(*b),
        T::Datetime(d) => Value::from(*d),
        T::Array(a) => {
            let mut out = toml_edit::Array::new();
            for (i, x) in a.iter().enumerate() {
                out.push(team_value(x).map_err(|e| e.within(&format!("[{i}]")))?);
            }
            Value::Array(out)
        }
        T::Table(t) => {
            let mut out = toml_edit::InlineTable::new();
            for (k, x) in t {
                let x = team_value(x).map_err(|e| e.within(&format!(".{k}")))?;
                out.insert(k, x);
            }
            Value::InlineTable(out)
        }
    })
}

/// One table of a record being written: keys in the order they are put,
/// each on its own line; absent values are left out.
struct Rows<'t> {
    t: &'t mut Table,
    /// Where the table is, for errors: `""`, `quotes[0].`.
    at: String,
}

impl Rows<'_> {
    fn put(&mut self, k: &str, v: Value) {
        self.t.insert(k, Item::Value(v));
    }
    fn fail(&self, k: &str, e: WriteError) -> WriteError {
        e.within(&format!("{}{k}", self.at))
    }
    fn req(&mut self, k: &str, v: &str) {
        self.put(k, string(v));
    }
    fn s(&mut self, k: &str, v: &Option<String>) {
        if let Some(v) = v {
            self.put(k, string(v));
        }
    }
    fn d(&mut self, k: &str, v: &Option<NaiveDate>) -> Result<(), WriteError> {
        if let Some(v) = v {
            let v = date(*v).map_err(|e| self.fail(k, e))?;
            self.put(k, v);
        }
        Ok(())
    }
    fn f(&mut self, k: &str, v: &Option<f64>) -> Result<(), WriteError> {
        if let Some(v) = v {
            let v = float(*v).map_err(|e| self.fail(k, e))?;
            self.put(k, v);
        }
        Ok(())
    }
    fn b(&mut self, k: &str, v: &Option<bool>) {
        if let Some(v) = v {
            self.put(k, Value::from(*v));
        }
    }
    fn list(&mut self, k: &str, v: &[String]) {
        if !v.is_empty() {
            self.put(k, Value::Array(v.iter().map(|s| string(s)).collect()));
        }
    }
    fn extra(&mut self, m: &Extra) -> Result<(), WriteError> {
        for (k, v) in m {
            let v = team_value(v).map_err(|e| self.fail(k, e))?;
            self.put(k, v);
        }
        Ok(())
    }
}

/// An array of tables, one table per item, written by `fill`.
fn tables<T>(
    key: &str,
    items: &[T],
    mut fill: impl FnMut(&mut Rows, &T) -> Result<(), WriteError>,
) -> Result<Option<Item>, WriteError> {
    if items.is_empty() {
        return Ok(None);
    }
    let mut a = ArrayOfTables::new();
    for (i, x) in items.iter().enumerate() {
        let mut t = Table::new();
        fill(
            &mut Rows {
                t: &mut t,
                at: format!("{key}[{i}]."),
            },
            x,
        )?;
        a.push(t);
    }
    Ok(Some(Item::ArrayOfTables(a)))
}

/// A record in the canonical layout: one key per line, the built-in keys
/// in schema order and then the team's own, arrays of tables after them,
/// each header after a blank line. Fails, writing nothing, on a value TOML
/// or folio will not hold (see [`WriteError`]).
pub fn render(c: &Customer) -> Result<String, WriteError> {
    let mut doc = toml_edit::DocumentMut::new();
    let mut o = Rows {
        t: doc.as_table_mut(),
        at: String::new(),
    };
    put_fields(&mut o, c)?;
    for f in crate::fields::CUSTOMER {
        let Acc::Nested(n) = f.acc else { continue };
        let key = f.name;
        let item = match n {
            Nested::Titles => tables(key, &c.titles, put_fields)?,
            Nested::Contacts => tables(key, &c.contacts, put_fields)?,
            Nested::Quotes => tables(key, &c.quotes, put_fields)?,
            Nested::Orders => tables(key, &c.orders, put_fields)?,
            Nested::Followups => tables(key, &c.followups, put_fields)?,
            Nested::Consent => match &c.consent {
                None => None,
                Some(x) => {
                    let mut t = Table::new();
                    put_fields(
                        &mut Rows {
                            t: &mut t,
                            at: format!("{key}."),
                        },
                        x,
                    )?;
                    Some(Item::Table(t))
                }
            },
        };
        if let Some(item) = item {
            doc.insert(key, item);
        }
    }
    Ok(doc.to_string())
}

/// The built-in fields of a record or of one of its tables that hold
/// plain values, in the canonical order, then the team's own.
fn put_fields<T: Fields>(o: &mut Rows, x: &T) -> Result<(), WriteError> {
    for f in T::FIELDS {
        let k = f.name;
        match f.acc {
            Acc::Req(get, _) => o.req(k, get(x)),
            Acc::Str(get, _) => o.s(k, get(x)),
            Acc::Date(get, _) => o.d(k, get(x))?,
            Acc::Num(get, _) => o.f(k, get(x))?,
            Acc::Bool(get, _) => o.b(k, get(x)),
            Acc::List(get, _) => o.list(k, get(x)),
            Acc::Nested(_) => {}
        }
    }
    match x.extra() {
        Some(e) => o.extra(e),
        None => Ok(()),
    }
}

/// The body of one `[[followups]]` entry, one key per line.
pub fn render_followup(f: &Followup) -> Result<String, WriteError> {
    let mut t = Table::new();
    put_fields(
        &mut Rows {
            t: &mut t,
            at: String::new(),
        },
        f,
    )?;
    Ok(t.to_string())
}

/// Why a format-preserving edit could not be made. Nothing is written when
/// one of these comes back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("the file is not valid TOML: {0}")]
    Parse(String),
    #[error("`{key}` is {found}; folio can only edit {wanted}")]
    Shape {
        key: String,
        found: &'static str,
        wanted: &'static str,
    },
    /// A safety net: the edited text does not read back as the original
    /// plus the intended change.
    #[error("the edit would change more than `{0}`; the file is left as it was")]
    Verify(String),
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// The line ending a file uses: CRLF when its first line ends in CRLF.
pub fn line_ending(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

fn with_ending(s: &str, nl: &str) -> String {
    if nl == "\n" {
        s.to_string()
    } else {
        s.replace('\n', nl)
    }
}

/// Start of every `[table]` and `[[array]]` header, with the first key of
/// its path (the top-level key it belongs to).
fn headers(doc: &toml_edit::Document<&str>) -> Vec<(usize, String)> {
    fn walk(t: &toml_edit::Table, top: Option<&str>, out: &mut Vec<(usize, String)>) {
        for (k, item) in t.iter() {
            let top = top.unwrap_or(k);
            match item {
                toml_edit::Item::Table(st) => {
                    if let Some(s) = st.span() {
                        out.push((s.start, top.to_string()));
                    }
                    walk(st, Some(top), out);
                }
                toml_edit::Item::ArrayOfTables(a) => {
                    for st in a.iter() {
                        if let Some(s) = st.span() {
                            out.push((s.start, top.to_string()));
                        }
                        walk(st, Some(top), out);
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(doc.as_table(), None, &mut out);
    out.sort();
    out
}

/// The start of the line that holds byte `at`.
fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// Walk back from `at` (a line start, or the end of the text) over blank
/// and comment-only lines: comments just above a header belong to it. The
/// result is just after the last line with content, and never before
/// `floor` (the end of the last value before `at`: a line of a multi-line
/// string that starts with `#` is not a comment).
fn after_last_content(text: &str, mut at: usize, floor: usize) -> usize {
    while at > 0 {
        let end = if text.as_bytes()[at - 1] == b'\n' {
            at - 1
        } else {
            at
        };
        let start = line_start(text, end);
        let line = text[start..end].trim();
        if start >= floor && (line.is_empty() || line.starts_with('#')) {
            at = start;
        } else {
            break;
        }
    }
    at
}

/// The end of the last value (at any depth) that ends at or before `at`.
fn last_value_end(doc: &toml_edit::Document<&str>, at: usize) -> usize {
    fn walk(t: &toml_edit::Table, at: usize, max: &mut usize) {
        for (_, item) in t.iter() {
            match item {
                toml_edit::Item::Value(v) => {
                    if let Some(s) = v.span().filter(|s| s.end <= at) {
                        *max = (*max).max(s.end);
                    }
                }
                toml_edit::Item::Table(st) => walk(st, at, max),
                toml_edit::Item::ArrayOfTables(a) => a.iter().for_each(|st| walk(st, at, max)),
                toml_edit::Item::None => {}
            }
        }
    }
    let mut max = 0;
    walk(doc.as_table(), at, &mut max);
    max
}

fn parse_table(text: &str) -> Result<toml::Table, EditError> {
    text.parse::<toml::Table>()
        .map_err(|e| EditError::Parse(e.message().trim().to_string()))
}

/// Whether two tables hold the same values, a `nan` being the same as a
/// `nan` (`==` would call a record with a `nan` changed by any edit).
fn same_table(a: &toml::Table, b: &toml::Table) -> bool {
    fn same(a: &toml::Value, b: &toml::Value) -> bool {
        use toml::Value as V;
        match (a, b) {
            (V::Float(x), V::Float(y)) => x == y || (x.is_nan() && y.is_nan()),
            (V::Array(x), V::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
            }
            (V::Table(x), V::Table(y)) => same_table(x, y),
            _ => a == b,
        }
    }
    a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same(v, w)))
}

/// Append a follow-up as a new `[[followups]]` table after the last one
/// (or, if there is none, before `[consent]` or at the end), in the
/// canonical layout: a blank line, the header, one key per line. Every
/// other byte of `text` is kept: comments, blank lines, key order, CRLF
/// line endings; a missing final newline is added only where the new table
/// follows the last line.
pub fn append_followup(text: &str, f: &Followup) -> Result<String, EditError> {
    let doc = toml_edit::Document::parse(text).map_err(|e| EditError::Parse(e.to_string()))?;
    let existing = match doc.as_table().get("followups") {
        None => None,
        Some(toml_edit::Item::ArrayOfTables(a)) => {
            a.iter().filter_map(|t| t.span()).map(|s| s.start).max()
        }
        Some(other) => {
            return Err(EditError::Shape {
                key: "followups".into(),
                found: match other {
                    toml_edit::Item::Value(toml_edit::Value::Array(_)) => "an inline array",
                    _ => "not an array of tables",
                },
                wanted: "follow-ups written as [[followups]] tables",
            });
        }
    };
    let heads = headers(&doc);
    let boundary = match existing {
        // the first header after the last follow-up that is not part of it
        Some(last) => heads
            .iter()
            .find(|(s, top)| *s > last && top != "followups")
            .map(|(s, _)| line_start(text, *s)),
        None => heads
            .iter()
            .find(|(_, top)| top == "consent")
            .map(|(s, _)| line_start(text, *s)),
    }
    .unwrap_or(text.len());
    let at =
        after_last_content(text, boundary, last_value_end(&doc, boundary)).max(after_bom(text));
    let nl = line_ending(text);
    let mut insert = String::new();
    let start = after_bom(text);
    if at > start && !text[..at].ends_with('\n') {
        insert.push_str(nl);
    }
    if at > start {
        insert.push_str(nl);
    }
    insert.push_str("[[followups]]");
    insert.push_str(nl);
    let body = render_followup(f)?;
    insert.push_str(&with_ending(&body, nl));
    let mut out = String::with_capacity(text.len() + insert.len());
    out.push_str(&text[..at]);
    out.push_str(&insert);
    out.push_str(&text[at..]);

    // Read both back: the result must be the original plus this follow-up.
    let mut want = parse_table(text)?;
    let new_item = parse_table(&body)?;
    match want.get_mut("followups") {
        Some(toml::Value::Array(a)) => a.push(toml::Value::Table(new_item)),
        _ => {
            want.insert(
                "followups".into(),
                toml::Value::Array(vec![toml::Value::Table(new_item)]),
            );
        }
    }
    if !same_table(&parse_table(&out)?, &want) {
        return Err(EditError::Verify("followups".into()));
    }
    Ok(out)
}

/// Add tags to the record's `tags` array, keeping the array's own layout
/// (the new items copy the spacing of the last one). Without a `tags` key,
/// `tags = [...]` goes on a new line after the last key that precedes it in
/// the canonical layout. Tags already present are skipped; returns `None`
/// when there is nothing to add.
pub fn add_tags(text: &str, tags: &[String]) -> Result<Option<String>, EditError> {
    let doc = toml_edit::Document::parse(text).map_err(|e| EditError::Parse(e.to_string()))?;
    let root = doc.as_table();
    let shape = |found| EditError::Shape {
        key: "tags".into(),
        found,
        wanted: "an array of strings",
    };
    let current: Vec<String> = match root.get("tags") {
        None => Vec::new(),
        Some(toml_edit::Item::Value(toml_edit::Value::Array(a))) => a
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| shape("an array with a non-string item"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(shape("not an array")),
    };
    let mut new: Vec<&String> = Vec::new();
    for t in tags {
        if !current.contains(t) && !new.contains(&t) {
            new.push(t);
        }
    }
    if new.is_empty() {
        return Ok(None);
    }
    let out = match root.get("tags") {
        Some(toml_edit::Item::Value(toml_edit::Value::Array(a))) => {
            let span = a.span().ok_or_else(|| EditError::Verify("tags".into()))?;
            // Render through an owned (despanned) copy of the document.
            let owned: toml_edit::DocumentMut = text
                .parse()
                .map_err(|e: toml_edit::TomlError| EditError::Parse(e.to_string()))?;
            let mut arr = owned
                .get("tags")
                .and_then(|i| i.as_array())
                .cloned()
                .ok_or_else(|| EditError::Verify("tags".into()))?;
            arr.decor_mut().clear();
            // toml_edit writes the line breaks between the items as LF (a
            // multi-line string's as they are): an array on CRLF lines (and
            // only those) gets CRLF back below.
            let old = &text[span.clone()];
            let crlf = old.contains("\r\n");
            if crlf && old.matches('\n').count() != old.matches("\r\n").count() {
                return Err(EditError::Verify("tags".into()));
            }
            let lf = |s: &str| s.replace("\r\n", "\n");
            if lf(&arr.to_string()) != lf(old) {
                return Err(EditError::Verify("tags".into()));
            }
            // A single item on one line has no spacing to copy: use one space.
            let n = arr.len();
            let (prefix, suffix) = match arr.iter().last() {
                Some(v) => {
                    let p = v.decor().prefix().and_then(|p| p.as_str()).unwrap_or(" ");
                    let s = v.decor().suffix().and_then(|p| p.as_str()).unwrap_or("");
                    let p = if n >= 2 || p.contains('\n') { p } else { " " };
                    // the spacing, not a comment: from the last line break
                    // (a comment before it stays with its own item)
                    let p = match p.rfind('\n') {
                        Some(i) if p[..i].ends_with('\r') => &p[i - 1..],
                        Some(i) => &p[i..],
                        None => p,
                    };
                    let s = if s.contains(['#', '\n']) { "" } else { s };
                    (p.to_string(), s.to_string())
                }
                None => (" ".to_string(), String::new()),
            };
            for t in &new {
                let pre = if arr.is_empty() { "" } else { prefix.as_str() };
                arr.push_formatted(string(t).decorated(pre, suffix.as_str()));
            }
            let arr = arr.to_string();
            let arr = if crlf {
                lf(&arr).replace('\n', "\r\n")
            } else {
                arr
            };
            format!("{}{arr}{}", &text[..span.start], &text[span.end..])
        }
        _ => {
            // After the line of the last canonical key before `tags`.
            let nl = line_ending(text);
            let last = crate::records::keys_before("tags")
                .iter()
                // a value's line; not a dotted key's table (`tier.a = ...`),
                // whose span is not its line
                .filter_map(|k| root.get(k).filter(|i| i.is_value()).and_then(|i| i.span()))
                .map(|s| s.end)
                .max();
            let items: Vec<String> = new.iter().map(|t| quote(t)).collect();
            let line = format!("tags = [{}]", items.join(", "));
            match last {
                Some(end) => {
                    let eol = text[end..].find('\n').map(|i| end + i + 1);
                    match eol {
                        Some(at) => format!("{}{line}{nl}{}", &text[..at], &text[at..]),
                        None => format!("{text}{nl}{line}{nl}"),
                    }
                }
                None => {
                    let (bom, rest) = text.split_at(after_bom(text));
                    format!("{bom}{line}{nl}{rest}")
                }
            }
        }
    };
    let mut want = parse_table(text)?;
    let mut all: Vec<toml::Value> = current.into_iter().map(toml::Value::String).collect();
    all.extend(new.iter().map(|t| toml::Value::String(t.to_string())));
    want.insert("tags".into(), toml::Value::Array(all));
    if !same_table(&parse_table(&out)?, &want) {
        return Err(EditError::Verify("tags".into()));
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{Consent, Contact, Quote};

    #[test]
    fn render_writes_the_tables_fields_in_their_order() {
        use crate::fields as t;
        let c = t::full();
        let text = render(&c).unwrap();
        let doc: toml_edit::DocumentMut = text.parse().unwrap();
        let keys = |t: &Table| t.iter().map(|(k, _)| k.to_string()).collect::<Vec<_>>();
        assert_eq!(keys(doc.as_table()), t::CUSTOMER_KEYS);
        let first = |k: &str| doc[k].as_array_of_tables().unwrap().get(0).unwrap().clone();
        assert_eq!(keys(&first("titles")), t::TITLE_KEYS);
        assert_eq!(keys(&first("contacts")), t::CONTACT_KEYS);
        assert_eq!(keys(&first("quotes")), t::QUOTE_KEYS);
        assert_eq!(keys(&first("orders")), t::ORDER_KEYS);
        assert_eq!(keys(&first("followups")), t::FOLLOWUP_KEYS);
        assert_eq!(keys(doc["consent"].as_table().unwrap()), t::CONSENT_KEYS);
        let schema = crate::schema::Schema::builtin();
        let ctx = crate::records::Context {
            schema: &schema,
            staff: None,
            as_of: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        };
        assert_eq!(
            crate::records::parse(&text, "x.toml", &ctx).customer,
            Some(c)
        );
        // the always-written keys: the required strings
        let empty: toml_edit::DocumentMut = render(&Customer::default()).unwrap().parse().unwrap();
        let req: Vec<&str> = t::CUSTOMER
            .iter()
            .filter(|f| matches!(f.acc, t::Acc::Req(..)))
            .map(|f| f.name)
            .collect();
        assert_eq!(keys(empty.as_table()), req);
        // where `tags = [...]` goes
        assert_eq!(
            crate::records::keys_before("tags"),
            &t::CUSTOMER_KEYS[..t::CUSTOMER_KEYS.iter().position(|k| *k == "tags").unwrap()]
        );
    }

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

    /// Found by tests/edit_properties.rs: a key that is a table was not
    /// seen, so `set_string` added a second definition (invalid TOML) and
    /// `remove_key` reported success and left it.
    #[test]
    fn key_edits_refuse_a_key_that_is_a_table() {
        for t in [
            "[pool_reason]",
            "id = \"C1\"\npool_reason.by = \"x\"\n",
            "pool_reason = { by = \"x\" }\n",
            "[[pool_reason]]\na = 1\n",
            "pool_reason = [{ a = 1 }]\n",
        ] {
            assert_eq!(
                set_string(t, "pool_reason", "x", &["id"]),
                Err(KeyEditError::NotPlain("pool_reason".into())),
                "{t}"
            );
            assert_eq!(
                remove_key(t, "pool_reason"),
                Err(KeyEditError::NotPlain("pool_reason".into())),
                "{t}"
            );
        }
        // other keys of such a file are still edited
        let t = "id = \"C1\"\n[pool_reason]\n";
        assert_eq!(
            set_string(t, "owner", "bob", &["id"]).unwrap(),
            "id = \"C1\"\nowner = \"bob\"\n[pool_reason]\n"
        );
    }

    /// Found by fuzzing (fuzz/fuzz_targets/parse_edit.rs): a text that
    /// starts with a byte-order mark (a file saved with two: the session
    /// takes off one) got new lines in front of the mark, which is then
    /// no longer at the start: invalid TOML, or the mark dropped.
    #[test]
    fn edits_keep_a_mark_at_the_start() {
        let t = "\u{feff}# comment\n";
        assert_eq!(
            set_string(t, "owner", "bob", &[]).unwrap(),
            "\u{feff}owner = \"bob\"\n# comment\n"
        );
        let t = "\u{feff}pool_reason = \"x\"\nid = \"C1\"\n";
        assert_eq!(
            remove_key(t, "pool_reason").unwrap(),
            "\u{feff}id = \"C1\"\n"
        );
        assert_eq!(
            add_tags("\u{feff}x = 1\n", &["vip".to_string()])
                .unwrap()
                .unwrap(),
            "\u{feff}tags = [\"vip\"]\nx = 1\n"
        );
        assert_eq!(
            append_followup("\u{feff}# only a comment", &fu()).unwrap(),
            format!("\u{feff}# only a comment\n\n{NEW}")
        );
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
        let text = render(&c).unwrap();
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

    /// A schema with a team field of every type, at the top level and in
    /// the built-in tables.
    fn team_schema() -> crate::schema::Schema {
        let mut s = crate::schema::Schema::builtin();
        let team = "[fields.note]\ntype = \"string\"\n[fields.since]\ntype = \"date\"\n[fields.size]\ntype = \"integer\"\n[fields.ratio]\ntype = \"number\"\n[fields.vip]\ntype = \"boolean\"\n[fields.codes]\ntype = \"array\"\nitems = \"string\"\n[fields.meta]\ntype = \"table\"\n[fields.meta.fields.a]\ntype = \"string\"\n[fields.contacts.fields.skype]\ntype = \"string\"\n[fields.quotes.fields.valid_until]\ntype = \"date\"\n[fields.followups.fields.ref]\ntype = \"string\"\n[fields.consent.fields.form]\ntype = \"integer\"\n";
        s.extend(team, "schema/team.toml").unwrap();
        s
    }

    fn date_value(s: &str) -> toml::Value {
        toml::Value::Datetime(s.parse().unwrap())
    }

    #[test]
    fn team_fields_keep_their_type_through_render_and_parse() {
        use toml::Value as T;
        let extra = |kv: Vec<(&str, T)>| -> Extra {
            kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
        };
        let c = Customer {
            id: "C1".into(),
            name: "N".into(),
            contact: "J".into(),
            country: "DE".into(),
            tier: "B".into(),
            stage: "prospect".into(),
            created: NaiveDate::from_ymd_opt(2025, 1, 2),
            extra: extra(vec![
                ("note", T::String("2025-01-01".into())),
                ("since", date_value("2025-01-01")),
                ("size", T::Integer(12)),
                ("ratio", T::Float(12.0)),
                ("vip", T::Boolean(true)),
                (
                    "codes",
                    T::Array(vec![
                        T::String("a\"b".into()),
                        T::String("2025-02-03".into()),
                    ]),
                ),
                (
                    "meta",
                    T::Table(
                        [("a".to_string(), T::String("x\ny".into()))]
                            .into_iter()
                            .collect(),
                    ),
                ),
            ]),
            contacts: vec![Contact {
                name: "J".into(),
                extra: extra(vec![("skype", T::String("2025-03-04".into()))]),
                ..Default::default()
            }],
            quotes: vec![Quote {
                date: NaiveDate::from_ymd_opt(2025, 1, 3),
                amount: Some(1500.0),
                extra: extra(vec![("valid_until", date_value("2025-02-01"))]),
                ..Default::default()
            }],
            followups: vec![Followup {
                date: NaiveDate::from_ymd_opt(2025, 1, 3),
                extra: extra(vec![("ref", T::String("2025-01-03".into()))]),
                ..Default::default()
            }],
            consent: Some(Consent {
                basis: Some("contract".into()),
                extra: extra(vec![("form", T::Integer(7))]),
                ..Default::default()
            }),
            ..Default::default()
        };
        let text = render(&c).unwrap();
        assert_eq!(
            text,
            "id = \"C1\"\nname = \"N\"\ncontact = \"J\"\ncountry = \"DE\"\ntier = \"B\"\nstage = \"prospect\"\ncreated = 2025-01-02\ncodes = [\"a\\\"b\", \"2025-02-03\"]\nmeta = { a = \"x\\ny\" }\nnote = \"2025-01-01\"\nratio = 12.0\nsince = 2025-01-01\nsize = 12\nvip = true\n\n[[contacts]]\nname = \"J\"\nskype = \"2025-03-04\"\n\n[[quotes]]\ndate = 2025-01-03\namount = 1500.0\nvalid_until = 2025-02-01\n\n[[followups]]\ndate = 2025-01-03\nref = \"2025-01-03\"\n\n[consent]\nbasis = \"contract\"\nform = 7\n"
        );
        let schema = team_schema();
        let ctx = crate::records::Context {
            schema: &schema,
            staff: None,
            as_of: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        };
        let p = crate::records::parse(&text, "x.toml", &ctx);
        assert!(p.diagnostics.is_empty(), "{:?}\n{text}", p.diagnostics);
        assert_eq!(p.customer.unwrap(), c);
    }

    #[test]
    fn render_writes_no_nan_or_inf() {
        let mut c = Customer {
            id: "C1".into(),
            quotes: vec![
                Quote::default(),
                Quote {
                    amount: Some(f64::NAN),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let e = render(&c).unwrap_err();
        assert_eq!(e.field(), "quotes[1].amount");
        assert_eq!(
            e.to_string(),
            "`quotes[1].amount` is nan, not a finite number; folio does not write nan or inf"
        );
        c.quotes.clear();
        c.extra.insert(
            "rates".into(),
            toml::Value::Array(vec![
                toml::Value::Float(1.5),
                toml::Value::Float(f64::NEG_INFINITY),
            ]),
        );
        let e = render(&c).unwrap_err();
        assert_eq!(
            e,
            WriteError::NonFinite {
                field: "rates[1]".into(),
                value: "-inf".into()
            }
        );
        let f = Followup {
            extra: [("w".to_string(), toml::Value::Float(f64::INFINITY))]
                .into_iter()
                .collect(),
            ..Default::default()
        };
        assert!(matches!(
            append_followup("id = \"C1\"\n", &f),
            Err(EditError::Write(WriteError::NonFinite { .. }))
        ));
    }

    fn fu() -> Followup {
        Followup {
            date: NaiveDate::from_ymd_opt(2026, 2, 3),
            by: Some("alice".into()),
            channel: Some("email".into()),
            summary: Some("Sent \"new\" quote".into()),
            replied: Some(false),
            next: None,
            extra: Default::default(),
        }
    }

    const NEW: &str = "[[followups]]\ndate = 2026-02-03\nby = \"alice\"\nchannel = \"email\"\nsummary = \"Sent \\\"new\\\" quote\"\nreplied = false\n";

    #[test]
    fn append_after_the_last_followup_keeps_everything_else() {
        let text = "# header comment\nid = \"C1\"   # the id\nowner.x = 1\n\n[[followups]]\ndate = 2026-01-01 # first\n\n[[followups]]\ndate = 2026-01-02\n[followups.meta]\nk = 1\n\n# consent comment\n[consent]\ndate = 2026-01-01\n";
        let out = append_followup(text, &fu()).unwrap();
        let at = text.find("\n\n# consent").unwrap() + 1;
        assert_eq!(out, format!("{}\n{NEW}{}", &text[..at], &text[at..]));
    }

    #[test]
    fn append_without_followups_goes_before_consent_or_at_the_end() {
        let text = "id = \"C1\"\n\n[[orders]]\ndate = 2026-01-01\n\n[consent]\nbasis = \"x\"\n";
        let out = append_followup(text, &fu()).unwrap();
        assert_eq!(
            out,
            format!(
                "id = \"C1\"\n\n[[orders]]\ndate = 2026-01-01\n\n{NEW}\n[consent]\nbasis = \"x\"\n"
            )
        );
        // no final newline, CRLF
        let text = "id = \"C1\"\r\nname = \"N\"";
        let out = append_followup(text, &fu()).unwrap();
        assert_eq!(out, format!("{text}\r\n\r\n{}", NEW.replace('\n', "\r\n")));
        // trailing comment stays last
        let text = "id = \"C1\"\n\n# the end\n";
        let out = append_followup(text, &fu()).unwrap();
        assert_eq!(out, format!("id = \"C1\"\n\n{NEW}\n# the end\n"));
    }

    /// Found by tests/edit_properties.rs: the read-back check compared
    /// with `==`, and `nan != nan`, so a record with a `nan` anywhere could
    /// get no follow-up or tag ("the edit would change more than ...").
    #[test]
    fn edits_of_a_record_with_a_nan() {
        let text = "ratio = nan\nw = [-nan]\n";
        let out = append_followup(text, &fu()).unwrap();
        assert_eq!(out, format!("{text}\n{NEW}"));
        let out = add_tags(text, &["vip".to_string()]).unwrap().unwrap();
        assert_eq!(out, format!("tags = [\"vip\"]\n{text}"));
    }

    /// Found by tests/edit_properties.rs: a line of a multi-line string
    /// that starts with `#` was taken for a comment, and the follow-up went
    /// inside the string (refused by the read-back check).
    #[test]
    fn append_after_a_multi_line_string() {
        let text = "[owner]\nname = \"\"\"\n# not a comment\n\"\"\"\n# a comment\n";
        let out = append_followup(text, &fu()).unwrap();
        let at = text.find("# a comment").unwrap();
        assert_eq!(out, format!("{}\n{NEW}{}", &text[..at], &text[at..]));
    }

    #[test]
    fn append_refuses_inline_followups() {
        let e = append_followup("followups = []\n", &fu()).unwrap_err();
        assert!(matches!(e, EditError::Shape { .. }), "{e}");
        assert!(matches!(
            append_followup("a = [\n", &fu()),
            Err(EditError::Parse(_))
        ));
    }

    #[test]
    fn add_tags_keeps_the_array_layout() {
        let t = vec!["b".to_string(), "c".to_string()];
        let out = add_tags("id = \"x\"\ntags = [\"a\", \"b\"] # mine\n", &t).unwrap();
        assert_eq!(
            out.unwrap(),
            "id = \"x\"\ntags = [\"a\", \"b\", \"c\"] # mine\n"
        );
        let out = add_tags("tags = [\n  \"a\",\n]\nx = 1\n", &t).unwrap();
        assert_eq!(
            out.unwrap(),
            "tags = [\n  \"a\",\n  \"b\",\n  \"c\",\n]\nx = 1\n"
        );
        let out = add_tags("tags = [\"a\"]\n", &t).unwrap();
        assert_eq!(out.unwrap(), "tags = [\"a\", \"b\", \"c\"]\n");
        let out = add_tags("tags = []\n", &t).unwrap();
        assert_eq!(out.unwrap(), "tags = [\"b\", \"c\"]\n");
        assert_eq!(add_tags("tags = [\"b\", \"c\"]\n", &t).unwrap(), None);
    }

    /// Found by tests/edit_properties.rs: toml_edit writes an array's
    /// CRLF line breaks as LF, so tags could not be added to a tags array
    /// on several lines of a CRLF file ("the edit would change more").
    #[test]
    fn add_tags_to_an_array_on_crlf_lines() {
        let t = vec!["b".to_string()];
        let out = add_tags("id = \"x\"\r\ntags = [ # mine\r\n  \"a\",\r\n]\r\n", &t).unwrap();
        assert_eq!(
            out.unwrap(),
            "id = \"x\"\r\ntags = [ # mine\r\n  \"a\",\r\n  \"b\",\r\n]\r\n"
        );
        let out = add_tags("tags = [\"\"\"\r\nx\"\"\",\r\n]\r\n", &t).unwrap();
        assert_eq!(out.unwrap(), "tags = [\"\"\"\r\nx\"\"\", \"b\",\r\n]\r\n");
        // found the same way: a comment in the last item's spacing was
        // copied to every new item
        let out = add_tags("tags = [\n  \"x\", # one\n  \"a\" # two\n  ,\n]\n", &t).unwrap();
        assert_eq!(
            out.unwrap(),
            "tags = [\n  \"x\", # one\n  \"a\" # two\n  ,\n  \"b\",\n]\n"
        );
        // a new item is a basic string on one line, as everywhere in a
        // record (toml_edit would pick '"' and a multi-line string)
        let q = vec!["a\"b".to_string(), "c\r\nd".to_string()];
        let out = add_tags("tags = [\r\n  \"a\",\r\n]\r\n", &q).unwrap();
        assert_eq!(
            out.unwrap(),
            "tags = [\r\n  \"a\",\r\n  \"a\\\"b\",\r\n  \"c\\r\\nd\",\r\n]\r\n"
        );
        // LF and CRLF mixed inside the array: refused, not rewritten
        assert!(matches!(
            add_tags("tags = [\r\n  \"a\",\n]\r\n", &t),
            Err(EditError::Verify(_))
        ));
    }

    #[test]
    fn add_tags_creates_the_key_in_canonical_place() {
        let t = vec!["vip".to_string()];
        let text = "id = \"x\"\r\nstage = \"signed\" # s\r\ncreated = 2026-01-01\r\n";
        let out = add_tags(text, &t).unwrap().unwrap();
        assert_eq!(
            out,
            "id = \"x\"\r\nstage = \"signed\" # s\r\ntags = [\"vip\"]\r\ncreated = 2026-01-01\r\n"
        );
        let out = add_tags("stage = \"signed\"", &t).unwrap().unwrap();
        assert_eq!(out, "stage = \"signed\"\ntags = [\"vip\"]\n");
        assert!(add_tags("tags = \"vip\"\n", &t).is_err());
        // found by tests/edit_properties.rs: after a dotted key's value
        // that spans lines, the new line went inside that value
        let text = "id = \"x\"\ntier.a = [\n  \"b\",\n]\nz = 1\n";
        let out = add_tags(text, &t).unwrap().unwrap();
        assert_eq!(
            out,
            text.replace("id = \"x\"\n", "id = \"x\"\ntags = [\"vip\"]\n")
        );
    }
}
