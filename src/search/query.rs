//! The query language, parsed by hand into tantivy queries.
//!
//! ```text
//! query    = or
//! or       = and { "OR" and }
//! and      = unary { ["AND"] unary }          (words side by side: AND)
//! unary    = ("NOT" | "-") unary | primary
//! primary  = "(" or ")" | FIELD ":" value | "\"phrase\"" | word
//! ```
//!
//! Free words search every text field; `field:value` restricts to one field;
//! `owner:none` finds pool customers; date fields take `>=DATE`, `>DATE`,
//! `<DATE`, `<=DATE`, `DATE..DATE`, or a day, month (`2025-01`) or year.
//! A run of words that looks like a phone number (`+49 30 123`) also
//! matches phone numbers that start with its digits, whatever their spacing.

use super::fields::{Fields, day_number, keyword_value};
use super::tokenize::{self, Mode, digits, is_cjk};
use chrono::NaiveDate;
use std::collections::BTreeSet;
use std::ops::Bound;
use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};

/// A query the user must fix (exit status 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QueryError(pub String);

fn err<T>(m: impl Into<String>) -> Result<T, QueryError> {
    Err(QueryError(m.into()))
}

/// Fields of running text (tokenised like free words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextField {
    Name,
    Contact,
    Group,
    Industry,
    City,
    Source,
    Tag,
}

/// Fields matched as whole values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeywordField {
    Country,
    Owner,
    Tier,
    Stage,
    Type,
    Id,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateField {
    Created,
    NextFollowup,
    Followup,
}

/// The fields a query can name, for messages and docs.
pub const FIELD_NAMES: &[&str] = &[
    "name",
    "contact",
    "country",
    "owner",
    "tier",
    "stage",
    "type",
    "tag",
    "email",
    "phone",
    "industry",
    "group",
    "city",
    "source",
    "id",
    "created",
    "next_followup",
    "followup",
];

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    /// Free words (`field` None) or a text field filter; `text` as typed.
    Text {
        field: Option<TextField>,
        text: String,
    },
    Keyword {
        field: KeywordField,
        values: Vec<String>,
    },
    /// `owner:none`
    Pool,
    Email(String),
    /// Digits a phone number starts with.
    Phone(String),
    Date {
        field: DateField,
        lo: Bound<i64>,
        hi: Bound<i64>,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Lex {
    Open,
    Close,
    And,
    Or,
    Not,
    Word(String),
    Quoted(String),
    Field(String, String),
}

fn lex(q: &str) -> Result<Vec<Lex>, QueryError> {
    let chars: Vec<char> = q.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let quoted = |i: &mut usize| -> Result<String, QueryError> {
        // chars[*i] is the opening quote
        let start = *i;
        *i += 1;
        let mut s = String::new();
        while *i < chars.len() {
            match chars[*i] {
                '"' => {
                    *i += 1;
                    return Ok(s);
                }
                '\\' if *i + 1 < chars.len() => {
                    s.push(chars[*i + 1]);
                    *i += 2;
                }
                c => {
                    s.push(c);
                    *i += 1;
                }
            }
        }
        let shown: String = chars[start..].iter().collect();
        err(format!("unclosed quote in `{shown}`"))
    };
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        match c {
            '(' => {
                out.push(Lex::Open);
                i += 1;
            }
            ')' => {
                out.push(Lex::Close);
                i += 1;
            }
            '"' => out.push(Lex::Quoted(quoted(&mut i)?)),
            '-' if i + 1 < chars.len()
                && (chars[i + 1].is_alphabetic() || matches!(chars[i + 1], '"' | '(')) =>
            {
                out.push(Lex::Not);
                i += 1;
            }
            _ => {
                let start = i;
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !matches!(chars[i], '(' | ')' | '"')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                match word.as_str() {
                    "AND" => out.push(Lex::And),
                    "OR" => out.push(Lex::Or),
                    "NOT" => out.push(Lex::Not),
                    _ => match field_prefix(&word)? {
                        Some((f, v)) if v.is_empty() => {
                            if i < chars.len() && chars[i] == '"' {
                                out.push(Lex::Field(f, quoted(&mut i)?));
                            } else {
                                return err(format!(
                                    "`{word}` needs a value, e.g. `{f}:VALUE` or `{f}:\"two words\"`"
                                ));
                            }
                        }
                        Some((f, v)) => out.push(Lex::Field(f, v)),
                        None => out.push(Lex::Word(word)),
                    },
                }
            }
        }
    }
    Ok(out)
}

/// `field:value` → the known field (lower-case) and the value.
fn field_prefix(word: &str) -> Result<Option<(String, String)>, QueryError> {
    let Some((f, v)) = word.split_once(':') else {
        return Ok(None);
    };
    let lf = f.to_ascii_lowercase();
    let canonical = match lf.as_str() {
        "tags" => "tag",
        "next" => "next_followup",
        "mail" | "e-mail" => "email",
        "tel" => "phone",
        other => other,
    };
    if FIELD_NAMES.contains(&canonical) {
        return Ok(Some((canonical.to_string(), v.to_string())));
    }
    let looks_like_field = !f.is_empty()
        && f.chars().all(|c| c.is_ascii_alphabetic() || c == '_')
        && !v.starts_with("//");
    if looks_like_field {
        return err(format!(
            "unknown field `{f}:`; fields are {}",
            FIELD_NAMES
                .iter()
                .map(|f| format!("{f}:"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(None)
}

struct Parser {
    toks: Vec<Lex>,
    pos: usize,
    /// `(` and `NOT` open around the token being read.
    depth: usize,
}

/// The longest query, in characters: far beyond any typed query, and it
/// keeps the words and nodes of one query small.
pub const MAX_QUERY_CHARS: usize = 10_000;

/// How deep `(` and `NOT` (or `-`) may nest: the parser, the compiled
/// query and its matching all recurse once per level.
pub const MAX_DEPTH: usize = 64;

/// Parse a query string. A query longer than [`MAX_QUERY_CHARS`] or
/// nested deeper than [`MAX_DEPTH`] is refused.
pub fn parse(q: &str) -> Result<Node, QueryError> {
    let chars = q.chars().count();
    if chars > MAX_QUERY_CHARS {
        return err(format!(
            "the query is {chars} characters long; at most {MAX_QUERY_CHARS} are allowed"
        ));
    }
    let toks = lex(q)?;
    if toks.is_empty() {
        return err("the query is empty");
    }
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    let n = p.or()?;
    match p.toks.get(p.pos) {
        None => Ok(n),
        Some(Lex::Close) => err("`)` without a matching `(`"),
        Some(t) => err(format!("unexpected {}", describe(t))),
    }
}

fn describe(t: &Lex) -> String {
    match t {
        Lex::Open => "`(`".into(),
        Lex::Close => "`)`".into(),
        Lex::And => "`AND`".into(),
        Lex::Or => "`OR`".into(),
        Lex::Not => "`NOT`".into(),
        Lex::Word(w) => format!("`{w}`"),
        Lex::Quoted(w) => format!("`\"{w}\"`"),
        Lex::Field(f, v) => format!("`{f}:{v}`"),
    }
}

impl Parser {
    fn peek(&self) -> Option<&Lex> {
        self.toks.get(self.pos)
    }

    /// `inner` one level deeper (inside a `(` or a `NOT`).
    fn nested(
        &mut self,
        inner: fn(&mut Self) -> Result<Node, QueryError>,
    ) -> Result<Node, QueryError> {
        if self.depth == MAX_DEPTH {
            return err(format!(
                "the query nests `(` and `NOT` more than {MAX_DEPTH} levels deep"
            ));
        }
        self.depth += 1;
        let n = inner(self);
        self.depth -= 1;
        n
    }

    fn or(&mut self) -> Result<Node, QueryError> {
        let mut items = vec![self.and()?];
        while self.peek() == Some(&Lex::Or) {
            self.pos += 1;
            if matches!(self.peek(), None | Some(Lex::Close) | Some(Lex::Or)) {
                return err("`OR` needs something on both sides");
            }
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Node::Or(items)
        })
    }

    fn and(&mut self) -> Result<Node, QueryError> {
        let mut items: Vec<(Node, Option<String>)> = Vec::new();
        loop {
            match self.peek() {
                None | Some(Lex::Close) | Some(Lex::Or) => break,
                Some(Lex::And) => {
                    if items.is_empty() {
                        return err("`AND` needs something on both sides");
                    }
                    self.pos += 1;
                    if matches!(self.peek(), None | Some(Lex::Close) | Some(Lex::Or)) {
                        return err("`AND` needs something on both sides");
                    }
                }
                Some(_) => {
                    let raw = match self.peek() {
                        Some(Lex::Word(w)) => Some(w.clone()),
                        _ => None,
                    };
                    items.push((self.unary()?, raw));
                }
            }
        }
        if items.is_empty() {
            return match self.peek() {
                Some(Lex::Or) => err("`OR` needs something on both sides"),
                _ => err("empty group `()`"),
            };
        }
        let mut nodes = group_phones(items);
        Ok(if nodes.len() == 1 {
            nodes.remove(0)
        } else {
            Node::And(nodes)
        })
    }

    fn unary(&mut self) -> Result<Node, QueryError> {
        if self.peek() == Some(&Lex::Not) {
            self.pos += 1;
            if matches!(
                self.peek(),
                None | Some(Lex::Close) | Some(Lex::Or) | Some(Lex::And)
            ) {
                return err("`NOT` (or `-`) needs something to exclude");
            }
            return Ok(Node::Not(Box::new(self.nested(Self::unary)?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Node, QueryError> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        match t {
            Some(Lex::Open) => {
                let n = self.nested(Self::or)?;
                if self.peek() != Some(&Lex::Close) {
                    return err("`(` without a matching `)`");
                }
                self.pos += 1;
                Ok(n)
            }
            Some(Lex::Word(w)) => Ok(Node::Text {
                field: None,
                text: w,
            }),
            Some(Lex::Quoted(q)) => Ok(phrase_node(q)),
            Some(Lex::Field(f, v)) => field_node(&f, &v),
            Some(t) => err(format!("unexpected {}", describe(&t))),
            None => err("the query ends too early"),
        }
    }
}

fn is_phoneish(w: &str) -> bool {
    let body = w.strip_prefix('+').unwrap_or(w);
    !body.is_empty()
        && body.chars().any(|c| c.is_ascii_digit())
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '(' | ')' | '.' | '/'))
}

/// Whether digits typed this way are meant as a phone number.
fn phone_intent(words: &[&str]) -> bool {
    let d: usize = words.iter().map(|w| digits(w).len()).sum();
    d >= 6 || (words.first().is_some_and(|w| w.starts_with('+')) && d >= 2)
}

/// A quoted phrase: text, or a phone number in quotes.
fn phrase_node(q: String) -> Node {
    let words: Vec<&str> = q.split_whitespace().collect();
    let text = Node::Text {
        field: None,
        text: q.clone(),
    };
    if !words.is_empty() && words.iter().all(|w| is_phoneish(w)) && phone_intent(&words) {
        Node::Or(vec![Node::Phone(digits(&q)), text])
    } else {
        text
    }
}

/// Runs of bare words that look like a phone number also match phones.
fn group_phones(items: Vec<(Node, Option<String>)>) -> Vec<Node> {
    let mut out = Vec::new();
    let mut run: Vec<(Node, String)> = Vec::new();
    let flush = |run: &mut Vec<(Node, String)>, out: &mut Vec<Node>| {
        if run.is_empty() {
            return;
        }
        let words: Vec<&str> = run.iter().map(|(_, w)| w.as_str()).collect();
        if phone_intent(&words) {
            let joined = words.join("");
            let nodes: Vec<Node> = run.drain(..).map(|(n, _)| n).collect();
            let text = if nodes.len() == 1 {
                nodes.into_iter().next().unwrap_or(Node::And(Vec::new()))
            } else {
                Node::And(nodes)
            };
            out.push(Node::Or(vec![Node::Phone(digits(&joined)), text]));
        } else {
            out.extend(run.drain(..).map(|(n, _)| n));
        }
    };
    for (node, raw) in items {
        match raw {
            Some(w) if is_phoneish(&w) && matches!(node, Node::Text { .. }) => run.push((node, w)),
            _ => {
                flush(&mut run, &mut out);
                out.push(node);
            }
        }
    }
    flush(&mut run, &mut out);
    out
}

fn field_node(f: &str, v: &str) -> Result<Node, QueryError> {
    let text = |field| {
        Ok(Node::Text {
            field: Some(field),
            text: v.to_string(),
        })
    };
    let keyword = |field| {
        let values: Vec<String> = v
            .split(',')
            .map(keyword_value)
            .filter(|s| !s.is_empty())
            .collect();
        if values.is_empty() {
            return err(format!("`{f}:` needs a value"));
        }
        Ok(Node::Keyword { field, values })
    };
    match f {
        "name" => text(TextField::Name),
        "contact" => text(TextField::Contact),
        "group" => text(TextField::Group),
        "industry" => text(TextField::Industry),
        "city" => text(TextField::City),
        "source" => text(TextField::Source),
        "tag" => text(TextField::Tag),
        "country" => keyword(KeywordField::Country),
        "tier" => keyword(KeywordField::Tier),
        "stage" => keyword(KeywordField::Stage),
        "type" => keyword(KeywordField::Type),
        "id" => keyword(KeywordField::Id),
        "owner" => {
            let vals: Vec<&str> = v.split(',').collect();
            let mut nodes = Vec::new();
            let mut handles = Vec::new();
            for x in vals {
                let k = keyword_value(x);
                if k == "none" {
                    nodes.push(Node::Pool);
                } else if !k.is_empty() {
                    handles.push(k);
                }
            }
            if !handles.is_empty() {
                nodes.push(Node::Keyword {
                    field: KeywordField::Owner,
                    values: handles,
                });
            }
            match nodes.len() {
                0 => err("`owner:` needs a handle, or `none` for pool customers"),
                1 => Ok(nodes.remove(0)),
                _ => Ok(Node::Or(nodes)),
            }
        }
        "email" => {
            let e = keyword_value(v.trim_start_matches('@'));
            if e.is_empty() {
                return err("`email:` needs an address or a domain");
            }
            Ok(Node::Email(e))
        }
        "phone" => {
            let d = digits(v);
            if d.is_empty() {
                return err(format!("`phone:{v}` has no digits"));
            }
            Ok(Node::Phone(d))
        }
        "created" => date_node(DateField::Created, f, v),
        "next_followup" => date_node(DateField::NextFollowup, f, v),
        "followup" => date_node(DateField::Followup, f, v),
        _ => err(format!("unknown field `{f}:`")),
    }
}

/// A day, month or year as its first and last day.
fn period(s: &str) -> Option<(NaiveDate, NaiveDate)> {
    let parts: Vec<&str> = s.split('-').collect();
    let num = |p: &str| {
        p.parse::<u32>()
            .ok()
            .filter(|_| p.chars().all(|c| c.is_ascii_digit()))
    };
    match parts.as_slice() {
        [y] if y.len() == 4 => {
            let y = num(y)? as i32;
            Some((
                NaiveDate::from_ymd_opt(y, 1, 1)?,
                NaiveDate::from_ymd_opt(y, 12, 31)?,
            ))
        }
        [y, m] if y.len() == 4 && m.len() == 2 => {
            let (y, m) = (num(y)? as i32, num(m)?);
            let first = NaiveDate::from_ymd_opt(y, m, 1)?;
            let next = if m == 12 {
                NaiveDate::from_ymd_opt(y + 1, 1, 1)?
            } else {
                NaiveDate::from_ymd_opt(y, m + 1, 1)?
            };
            Some((first, next.pred_opt()?))
        }
        [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
            let day = NaiveDate::from_ymd_opt(num(y)? as i32, num(m)?, num(d)?)?;
            Some((day, day))
        }
        _ => None,
    }
}

fn date_node(field: DateField, f: &str, v: &str) -> Result<Node, QueryError> {
    let bad = || {
        err(format!(
            "`{f}:{v}` is not a date or range; use YYYY-MM-DD, YYYY-MM or YYYY, \
             optionally after >=, >, <= or <, or FROM..TO"
        ))
    };
    let get = |s: &str| period(s).map(|(a, b)| (day_number(a), day_number(b)));
    let (lo, hi) = if let Some((a, b)) = v.split_once("..") {
        let lo = if a.is_empty() {
            Bound::Unbounded
        } else {
            match get(a) {
                Some((s, _)) => Bound::Included(s),
                None => return bad(),
            }
        };
        let hi = if b.is_empty() {
            Bound::Unbounded
        } else {
            match get(b) {
                Some((_, e)) => Bound::Included(e),
                None => return bad(),
            }
        };
        (lo, hi)
    } else if let Some(x) = v.strip_prefix(">=") {
        match get(x) {
            Some((s, _)) => (Bound::Included(s), Bound::Unbounded),
            None => return bad(),
        }
    } else if let Some(x) = v.strip_prefix("<=") {
        match get(x) {
            Some((_, e)) => (Bound::Unbounded, Bound::Included(e)),
            None => return bad(),
        }
    } else if let Some(x) = v.strip_prefix('>') {
        match get(x) {
            Some((_, e)) => (Bound::Excluded(e), Bound::Unbounded),
            None => return bad(),
        }
    } else if let Some(x) = v.strip_prefix('<') {
        match get(x) {
            Some((s, _)) => (Bound::Unbounded, Bound::Excluded(s)),
            None => return bad(),
        }
    } else {
        match get(v) {
            Some((s, e)) => (Bound::Included(s), Bound::Included(e)),
            None => return bad(),
        }
    };
    if lo == Bound::Unbounded && hi == Bound::Unbounded {
        return bad();
    }
    Ok(Node::Date { field, lo, hi })
}

/// What a snippet should highlight: normalised tokens, CJK prefixes (a
/// one-character query), and phone-number digit prefixes.
#[derive(Debug, Default, Clone)]
pub struct Highlights {
    pub terms: BTreeSet<String>,
    pub prefixes: BTreeSet<String>,
    pub phones: BTreeSet<String>,
}

impl Node {
    /// The highlights of the query's positive parts.
    pub fn highlights(&self) -> Highlights {
        let mut h = Highlights::default();
        self.collect(&mut h);
        h
    }

    fn collect(&self, h: &mut Highlights) {
        match self {
            Node::And(v) | Node::Or(v) => v.iter().for_each(|n| n.collect(h)),
            Node::Not(_) => {}
            Node::Text { text, .. } => {
                let toks = tokenize::tokens(text, Mode::Query);
                if let [t] = toks.as_slice()
                    && t.single
                {
                    h.prefixes.insert(t.text.clone());
                } else {
                    h.terms.extend(toks.into_iter().map(|t| t.text));
                }
            }
            Node::Email(e) => {
                h.terms
                    .extend(tokenize::tokens(e, Mode::Query).into_iter().map(|t| t.text));
            }
            Node::Phone(d) => {
                h.phones.insert(d.clone());
            }
            Node::Keyword { .. } | Node::Pool | Node::Date { .. } => {}
        }
    }

    /// The tantivy query; `None` when nothing in it can match anything
    /// (a query of punctuation only).
    pub fn compile(&self, f: &Fields) -> Option<Box<dyn Query>> {
        match self {
            Node::And(items) => {
                let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                let mut positive = false;
                for n in items {
                    match n {
                        Node::Not(inner) => {
                            if let Some(q) = inner.compile(f) {
                                clauses.push((Occur::MustNot, q));
                            }
                        }
                        _ => {
                            if let Some(q) = n.compile(f) {
                                clauses.push((Occur::Must, q));
                                positive = true;
                            }
                        }
                    }
                }
                if clauses.is_empty() {
                    return None;
                }
                if !positive {
                    clauses.push((Occur::Must, Box::new(AllQuery)));
                }
                Some(Box::new(BooleanQuery::new(clauses)))
            }
            Node::Or(items) => {
                let clauses: Vec<(Occur, Box<dyn Query>)> = items
                    .iter()
                    .filter_map(|n| n.compile(f))
                    .map(|q| (Occur::Should, q))
                    .collect();
                match clauses.len() {
                    0 => None,
                    1 => clauses.into_iter().next().map(|(_, q)| q),
                    _ => Some(Box::new(BooleanQuery::new(clauses))),
                }
            }
            Node::Not(inner) => {
                let q = inner.compile(f)?;
                Some(Box::new(BooleanQuery::new(vec![
                    (Occur::Must, Box::new(AllQuery)),
                    (Occur::MustNot, q),
                ])))
            }
            Node::Text { field: None, text } => {
                let main = text_query(f.text, text)?;
                let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, main)];
                // a match in the name or contact ranks higher
                for (field, boost) in [(f.name, 3.0), (f.contact, 2.0)] {
                    if let Some(q) = text_query(field, text) {
                        clauses.push((Occur::Should, Box::new(BoostQuery::new(q, boost))));
                    }
                }
                Some(Box::new(BooleanQuery::new(clauses)))
            }
            Node::Text {
                field: Some(tf),
                text,
            } => {
                let field = match tf {
                    TextField::Name => f.name,
                    TextField::Contact => f.contact,
                    TextField::Group => f.group,
                    TextField::Industry => f.industry,
                    TextField::City => f.city,
                    TextField::Source => f.source,
                    TextField::Tag => f.tag,
                };
                text_query(field, text)
            }
            Node::Keyword { field, values } => {
                let fld = match field {
                    KeywordField::Country => f.country,
                    KeywordField::Owner => f.owner,
                    KeywordField::Tier => f.tier,
                    KeywordField::Stage => f.stage,
                    KeywordField::Type => f.kind,
                    KeywordField::Id => f.id,
                };
                let mut qs: Vec<(Occur, Box<dyn Query>)> = values
                    .iter()
                    .map(|v| (Occur::Should, term(Term::from_field_text(fld, v))))
                    .collect();
                if qs.len() == 1 {
                    qs.pop().map(|(_, q)| q)
                } else {
                    Some(Box::new(BooleanQuery::new(qs)))
                }
            }
            Node::Pool => Some(term(Term::from_field_u64(f.pool, 1))),
            // the whole address, its local part, domain or a parent domain
            Node::Email(e) => Some(term(Term::from_field_text(f.email, e))),
            Node::Phone(d) => Some(prefix_query(f.phone, d)),
            Node::Date { field, lo, hi } => {
                let fld = match field {
                    DateField::Created => f.created,
                    DateField::NextFollowup => f.next_followup,
                    DateField::Followup => f.followup,
                };
                let t = |b: &Bound<i64>| match b {
                    Bound::Included(x) => Bound::Included(Term::from_field_i64(fld, *x)),
                    Bound::Excluded(x) => Bound::Excluded(Term::from_field_i64(fld, *x)),
                    Bound::Unbounded => Bound::Unbounded,
                };
                Some(Box::new(RangeQuery::new(t(lo), t(hi))))
            }
        }
    }
}

fn term(t: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(t, IndexRecordOption::WithFreqs))
}

/// Terms starting with `prefix`.
fn prefix_query(field: Field, prefix: &str) -> Box<dyn Query> {
    let lo = Term::from_field_text(field, prefix);
    let mut hi_bytes = prefix.as_bytes().to_vec();
    // the smallest string greater than every string with this prefix
    while let Some(last) = hi_bytes.pop() {
        if last < 0xFF {
            hi_bytes.push(last + 1);
            break;
        }
    }
    if hi_bytes.is_empty() {
        return Box::new(RangeQuery::new(Bound::Included(lo), Bound::Unbounded));
    }
    let mut hi = Term::from_field_text(field, "");
    hi.append_bytes(&hi_bytes);
    Box::new(RangeQuery::new(Bound::Included(lo), Bound::Excluded(hi)))
}

/// Words of `text` in a text field: one term, a phrase, or (a single CJK
/// character) every term starting with it.
fn text_query(field: Field, text: &str) -> Option<Box<dyn Query>> {
    let toks = tokenize::tokens(text, Mode::Query);
    match toks.as_slice() {
        [] => None,
        [t] if t.single && t.text.chars().all(is_cjk) => Some(prefix_query(field, &t.text)),
        [t] => Some(Box::new(TermQuery::new(
            Term::from_field_text(field, &t.text),
            IndexRecordOption::WithFreqs,
        ))),
        many => Some(Box::new(PhraseQuery::new_with_offset(
            many.iter()
                .map(|t| (t.position, Term::from_field_text(field, &t.text)))
                .collect(),
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(s: &str) -> Node {
        Node::Text {
            field: None,
            text: s.into(),
        }
    }

    #[test]
    fn words_and_operators() {
        assert_eq!(
            parse("muller pump").unwrap(),
            Node::And(vec![word("muller"), word("pump")])
        );
        assert_eq!(
            parse("a OR b AND -c").unwrap(),
            Node::Or(vec![
                word("a"),
                Node::And(vec![word("b"), Node::Not(Box::new(word("c")))])
            ])
        );
        assert_eq!(
            parse("NOT (x OR y)").unwrap(),
            Node::Not(Box::new(Node::Or(vec![word("x"), word("y")])))
        );
    }

    #[test]
    fn fields() {
        assert_eq!(parse("owner:none").unwrap(), Node::Pool);
        assert_eq!(
            parse("tier:A,b").unwrap(),
            Node::Keyword {
                field: KeywordField::Tier,
                values: vec!["a".into(), "b".into()]
            }
        );
        assert_eq!(
            parse("name:\"Atlas Pump\"").unwrap(),
            Node::Text {
                field: Some(TextField::Name),
                text: "Atlas Pump".into()
            }
        );
        assert_eq!(
            parse("email:@ABC.example").unwrap(),
            Node::Email("abc.example".into())
        );
        assert_eq!(parse("phone:+49-30").unwrap(), Node::Phone("4930".into()));
        let d = |s: &str| day_number(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap());
        assert_eq!(
            parse("created:>=2025-01-01").unwrap(),
            Node::Date {
                field: DateField::Created,
                lo: Bound::Included(d("2025-01-01")),
                hi: Bound::Unbounded
            }
        );
        assert_eq!(
            parse("created:2025-02").unwrap(),
            Node::Date {
                field: DateField::Created,
                lo: Bound::Included(d("2025-02-01")),
                hi: Bound::Included(d("2025-02-28"))
            }
        );
        // a URL is a word, not a field
        assert_eq!(
            parse("https://x.example").unwrap(),
            word("https://x.example")
        );
    }

    #[test]
    fn phone_runs() {
        assert_eq!(
            parse("+49 30 123").unwrap(),
            Node::Or(vec![
                Node::Phone("4930123".into()),
                Node::And(vec![word("+49"), word("30"), word("123")])
            ])
        );
        // a year alone is a word
        assert_eq!(parse("2025").unwrap(), word("2025"));
    }

    #[test]
    fn errors_are_clear() {
        let e = |q: &str| parse(q).unwrap_err().0;
        assert_eq!(e(""), "the query is empty");
        assert!(e("\"abc").starts_with("unclosed quote"));
        assert!(e("colour:red").starts_with("unknown field `colour:`"));
        assert_eq!(e("(a b"), "`(` without a matching `)`");
        assert_eq!(e("a b)"), "`)` without a matching `(`");
        assert_eq!(e("a OR"), "`OR` needs something on both sides");
        assert_eq!(e("AND a"), "`AND` needs something on both sides");
        assert_eq!(e("a NOT"), "`NOT` (or `-`) needs something to exclude");
        assert!(e("created:>=2025-13-01").contains("is not a date"));
        assert!(e("name:").contains("needs a value"));
        assert!(e("phone:abc").contains("has no digits"));
    }
}
