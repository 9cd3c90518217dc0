//! Duplicate customers and multi-title conflicts (DOMAIN.md, "multi-title").
//!
//! Every record contributes keys: its normalised name and titles, its
//! registration codes, contact e-mails, web and e-mail domains, and phone
//! numbers. Records that share a key are candidates; near-identical names
//! are found without comparing every pair, by sorting the normalised names
//! (forwards, backwards and with their words sorted) and comparing each
//! name with its neighbours only.

use crate::config::DuplicatesConfig;
use crate::diagnostics::{Code, Diagnostic, Severity};
use crate::records::Customer;
use crate::repo::Record;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use unicode_normalization::UnicodeNormalization;

/// Legal forms stripped from the start or end of a name, compared after
/// case folding with dots, commas and slashes removed ("S.A." = "sa").
/// Multi-word forms are lists of words.
const LEGAL_FORMS: &[&str] = &[
    "inc",
    "incorporated",
    "ltd",
    "limited",
    "llc",
    "llp",
    "plc",
    "corp",
    "corporation",
    "co",
    "company",
    "gmbh",
    "mbh",
    "ag",
    "kg",
    "ohg",
    "ek",
    "sa",
    "sas",
    "sarl",
    "spa",
    "srl",
    "bv",
    "nv",
    "as",
    "ab",
    "oy",
    "sp z oo",
    "sa de cv",
    "ltda",
    "pty ltd",
    "pte ltd",
    "sdn bhd",
    "pt",
    "jsc",
    "ooo",
    "ооо",
    "ао",
    "зао",
    "ип",
    "شركة",
    "ذمم",
    "co ltd",
    "gmbh co kg",
    "wll",
];

/// The legal forms as word lists, longest first, so "Pty Ltd" goes as one.
static FORMS: std::sync::LazyLock<Vec<Vec<&'static str>>> = std::sync::LazyLock::new(|| {
    let mut f: Vec<Vec<&str>> = LEGAL_FORMS.iter().map(|f| f.split(' ').collect()).collect();
    f.sort_by_key(|f| std::cmp::Reverse(f.len()));
    f
});

/// The first and the last words of the legal forms: a name whose first and
/// last words are in neither list has no legal form to strip.
static FORM_ENDS: std::sync::LazyLock<(FxHashSet<&'static str>, FxHashSet<&'static str>)> =
    std::sync::LazyLock::new(|| {
        let first = FORMS.iter().filter_map(|f| f.first().copied()).collect();
        let last = FORMS.iter().filter_map(|f| f.last().copied()).collect();
        (first, last)
    });

/// Legal forms written without spaces in CJK names, stripped wherever they
/// stand (株式会社 comes before or after the name).
const CJK_FORMS: &[&str] = &[
    "股份有限公司",
    "有限责任公司",
    "有限責任公司",
    "有限公司",
    "株式会社",
    "(株)",
    "合同会社",
    "有限会社",
    "주식회사",
    "(주)",
];

/// Free-mail providers: a shared e-mail domain there says nothing.
const FREE_MAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "yahoo.co.jp",
    "yahoo.co.uk",
    "ymail.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mail.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "qq.com",
    "163.com",
    "126.com",
    "sina.com",
    "sohu.com",
    "yeah.net",
    "foxmail.com",
    "aliyun.com",
    "naver.com",
    "daum.net",
    "mail.ru",
    "yandex.ru",
    "yandex.com",
    "protonmail.com",
    "proton.me",
    "rediffmail.com",
    "zoho.com",
];

/// A normalised name and what was stripped to get it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalName {
    pub key: String,
    /// The words of the key, for fuzzy matching (CJK names are one word).
    pub words: Vec<String>,
    /// Words stripped as legal forms, as written.
    pub legal: Vec<String>,
    /// Words stripped because folio.toml lists them (`strip_words`).
    pub configured: Vec<String>,
}

/// Normalise a company name: NFKC, case folding, legal forms (and the
/// configured words) stripped, punctuation and white space removed.
pub fn normalise_name(name: &str, strip_words: &[String]) -> NormalName {
    let mut legal = Vec::new();
    let mut configured = Vec::new();
    // NFKC leaves ASCII text as it is.
    let mut s: Cow<str> = if name.is_ascii() {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(name.nfkc().collect())
    };
    // CJK words have no spaces around them: strip them wherever they stand.
    // Both they and the CJK legal forms are not ASCII, so an ASCII name
    // holds none of them.
    if !s.is_ascii() {
        let mut t = s.into_owned();
        for w in strip_words.iter().filter(|w| w.chars().any(is_cjk)) {
            let w: String = w.nfkc().collect();
            if t.contains(&w) && !key_of(&t.replace(&w, " ")).is_empty() {
                t = t.replace(&w, " ");
                configured.push(w);
            }
        }
        for f in CJK_FORMS {
            if t.contains(f) && !key_of(&t.replace(f, " ")).is_empty() {
                t = t.replace(f, " ");
                legal.push(f.to_string());
            }
        }
        s = Cow::Owned(t);
    }
    // Words, as written and as compared.
    let split = |c: char| c.is_whitespace() || ",«»\"“”()".contains(c);
    let mut words: Vec<(&str, String)> = s
        .split(split)
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .map(|w| (w, cmp_word(w)))
        .collect();
    // Configured words (Trading, Import & Export) go wherever they stand.
    for w in strip_words.iter().filter(|w| !w.chars().any(is_cjk)) {
        let pat: Vec<String> = w
            .split(split)
            .map(cmp_word)
            .filter(|x| !x.is_empty())
            .collect();
        if pat.is_empty() {
            continue;
        }
        let mut i = 0;
        while i + pat.len() <= words.len() {
            if words.len() > pat.len()
                && words[i..i + pat.len()]
                    .iter()
                    .zip(&pat)
                    .all(|(a, b)| &a.1 == b)
            {
                configured.push(
                    words[i..i + pat.len()]
                        .iter()
                        .map(|x| x.0)
                        .collect::<Vec<_>>()
                        .join(" "),
                );
                words.drain(i..i + pat.len());
            } else {
                i += 1;
            }
        }
    }
    let (mut start, mut end) = (0, words.len());
    let as_written =
        |r: std::ops::Range<usize>| words[r].iter().map(|x| x.0).collect::<Vec<_>>().join(" ");
    let (firsts, lasts) = &*FORM_ENDS;
    'strip: loop {
        // a form is stripped only from a name of more words than the form
        if end - start < 2
            || !(lasts.contains(words[end - 1].1.as_str())
                || firsts.contains(words[start].1.as_str()))
        {
            break;
        }
        for f in FORMS.iter() {
            let n = f.len();
            if end - start <= n {
                continue;
            }
            if words[end - n..end].iter().zip(f).all(|(a, b)| a.1 == *b) {
                legal.push(as_written(end - n..end));
                end -= n;
                continue 'strip;
            }
            if words[start..start + n]
                .iter()
                .zip(f)
                .all(|(a, b)| a.1 == *b)
            {
                legal.push(as_written(start..start + n));
                start += n;
                continue 'strip;
            }
        }
        break;
    }
    let key = words[start..end].iter().map(|x| x.1.as_str()).collect();
    let words = words
        .into_iter()
        .take(end)
        .skip(start)
        .map(|x| x.1)
        .collect();
    NormalName {
        key,
        words,
        legal,
        configured,
    }
}

/// A word as compared: case-folded, letters and digits only.
fn cmp_word(w: &str) -> String {
    if w.is_ascii() {
        return w
            .bytes()
            .filter(u8::is_ascii_alphanumeric)
            .map(|b| char::from(b.to_ascii_lowercase()))
            .collect();
    }
    w.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn key_of(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).collect()
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF)
}

/// A registration code without case, spaces, dots, dashes and slashes.
pub fn normalise_registration(r: &str) -> String {
    if r.is_ascii() {
        // NFKC and lower-casing leave ASCII as ASCII
        return r
            .bytes()
            .filter(|&b| !char::from(b).is_whitespace() && !b".-/".contains(&b))
            .map(|b| char::from(b.to_ascii_lowercase()))
            .collect();
    }
    r.nfkc()
        .filter(|c| !c.is_whitespace() && !".-/".contains(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// A phone number's digits (at least 7, or nothing).
pub fn phone_digits(p: &str) -> Option<String> {
    let mut d = p.bytes().filter(u8::is_ascii_digit).peekable();
    // leading "00" pairs (the international call prefix) are dropped
    let mut zeros = 0usize;
    while d.next_if_eq(&b'0').is_some() {
        zeros += 1;
    }
    let mut out = String::with_capacity(p.len());
    out.extend(std::iter::repeat_n('0', zeros % 2));
    out.extend(d.map(char::from));
    (out.len() >= 7).then_some(out)
}

/// The host of a URL without `www.`.
pub fn web_domain(url: &str) -> Option<String> {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let host = rest.split(['/', '?', '#', ':']).next()?;
    let mut host = if host.is_ascii() {
        host.to_ascii_lowercase()
    } else {
        host.to_lowercase()
    };
    if host.starts_with("www.") {
        host.drain(..4);
    }
    host.contains('.').then_some(host)
}

/// The kind of key two records share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Key {
    Name,
    Title,
    Registration,
    Email,
    Similar,
    Domain,
    Phone,
}

impl Key {
    fn weight(self) -> f64 {
        match self {
            Key::Name | Key::Title | Key::Registration => 1.0,
            Key::Email => 0.95,
            Key::Phone => 0.8,
            Key::Domain => 0.6,
            Key::Similar => 0.0, // the similarity itself
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Key::Name => "name",
            Key::Title => "title",
            Key::Registration => "registration",
            Key::Email => "e-mail",
            Key::Similar => "similar name",
            Key::Domain => "domain",
            Key::Phone => "phone",
        }
    }
}

/// One key two records share, with both original values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Match {
    pub key: Key,
    /// The value in the first and the second record, as written.
    pub a: String,
    pub b: String,
    /// Which field each value came from (`name`, `titles[1].name`, ...).
    pub a_field: String,
    pub b_field: String,
    /// 1 for an exact key; the similarity for near-identical names.
    pub similarity: f64,
    /// How the values were compared, for the reader.
    pub explanation: String,
}

impl Match {
    /// The one wording of a match: `same name: "a" ~ "b" (how)`, with the
    /// two values in the order given (`mine` the reader's record's).
    pub fn same(&self, theirs: &str, mine: &str) -> String {
        format!(
            "same {}: \"{theirs}\" ~ \"{mine}\" ({})",
            self.key.as_str(),
            self.explanation
        )
    }
}

/// A candidate pair.
#[derive(Debug, Clone, Serialize)]
pub struct Pair {
    pub a: usize,
    pub b: usize,
    pub score: f64,
    pub matches: Vec<Match>,
    /// Set when the team marked the pair as not duplicates.
    pub exempt: Option<String>,
}

impl Pair {
    /// Whether any key makes this an error rather than a warning.
    pub fn is_error(&self) -> bool {
        self.matches.iter().any(|m| {
            matches!(
                m.key,
                Key::Name | Key::Title | Key::Registration | Key::Email
            )
        })
    }
}

/// A key of a record in a bucket, borrowing the record's key list.
struct Entry<'k> {
    rec: usize,
    field: Field,
    value: &'k str,
    explanation: String,
}

/// Where a key's value stands in its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Name,
    Title(usize),
    Registration(usize),
    Email(usize),
    Phone(usize),
    Whatsapp(usize),
    Website,
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Field::Name => write!(f, "name"),
            Field::Title(i) => write!(f, "titles[{i}].name"),
            Field::Registration(i) => write!(f, "titles[{i}].registration"),
            Field::Email(i) => write!(f, "contacts[{i}].email"),
            Field::Phone(i) => write!(f, "contacts[{i}].phone"),
            Field::Whatsapp(i) => write!(f, "contacts[{i}].whatsapp"),
            Field::Website => write!(f, "website"),
        }
    }
}

/// One key of one record; values borrow from the record.
/// (Kept small: there are several per record. What normalising a name
/// stripped is worked out again for the few keys that are shared.)
struct KeyEntry<'a> {
    kind: Key,
    key: String,
    field: Field,
    value: &'a str,
    /// For names: the compared words, separated by spaces (a word is
    /// letters and digits, never empty).
    words: Box<str>,
}

impl KeyEntry<'_> {
    fn words(&self) -> impl Iterator<Item = &str> {
        self.words.split(' ').filter(|w| !w.is_empty())
    }
}

fn entry(kind: Key, key: String, field: Field, value: &str) -> KeyEntry<'_> {
    KeyEntry {
        kind,
        key,
        field,
        value,
        words: Box::default(),
    }
}

/// The keys of a record, into `out` (cleared first).
fn keys_of<'a>(
    c: &'a Customer,
    cfg: &DuplicatesConfig,
    free: &FxHashSet<String>,
    out: &mut Vec<KeyEntry<'a>>,
) {
    out.clear();
    let names = std::iter::once((Field::Name, c.name.as_str())).chain(
        c.titles
            .iter()
            .enumerate()
            .map(|(i, t)| (Field::Title(i), t.name.as_str())),
    );
    for (field, n) in names {
        let nn = normalise_name(n, &cfg.strip_words);
        if nn.key.is_empty() {
            continue;
        }
        let kind = if field == Field::Name {
            Key::Name
        } else {
            Key::Title
        };
        out.push(KeyEntry {
            kind,
            key: nn.key,
            field,
            value: n,
            words: nn.words.join(" ").into_boxed_str(),
        });
    }
    for (i, t) in c.titles.iter().enumerate() {
        if let Some(r) = &t.registration {
            let k = normalise_registration(r);
            if !k.is_empty() {
                out.push(entry(Key::Registration, k, Field::Registration(i), r));
            }
        }
    }
    let lower = |e: &str| {
        if e.is_ascii() {
            e.trim().to_ascii_lowercase()
        } else {
            e.trim().to_lowercase()
        }
    };
    for (i, ct) in c.contacts.iter().enumerate() {
        if let Some(e) = &ct.email {
            let e2 = lower(e);
            if e2.contains('@') {
                out.push(entry(Key::Email, e2, Field::Email(i), e));
            }
        }
        for (f, p) in [
            (Field::Phone(i), &ct.phone),
            (Field::Whatsapp(i), &ct.whatsapp),
        ] {
            if let Some(p) = p
                && let Some(d) = phone_digits(p)
            {
                out.push(entry(Key::Phone, d, f, p));
            }
        }
    }
    // domains: the website's, then the e-mails' (free-mail ones excepted)
    if let Some(w) = &c.website
        && let Some(d) = web_domain(w)
    {
        out.push(entry(Key::Domain, d, Field::Website, w));
    }
    for (i, ct) in c.contacts.iter().enumerate() {
        let Some(e) = &ct.email else { continue };
        let d = if e.is_ascii() {
            // lower-casing ASCII leaves the `@` where it is
            e.trim()
                .rsplit_once('@')
                .map(|(_, d)| d.to_ascii_lowercase())
        } else {
            lower(e).rsplit_once('@').map(|(_, d)| d.to_string())
        };
        if let Some(d) = d
            && !free.contains(&d)
        {
            out.push(entry(Key::Domain, d, Field::Email(i), e));
        }
    }
    // one entry per record and key (a record has a few keys: no set needed)
    let mut kept = 0;
    for i in 0..out.len() {
        if !out[..kept]
            .iter()
            .any(|k| k.kind == out[i].kind && k.key == out[i].key)
        {
            out.swap(kept, i);
            kept += 1;
        }
    }
    out.truncate(kept);
}

/// The highest indel similarity two strings of `m` and `n` characters can
/// have when at least `least` characters must be inserted or deleted,
/// computed as rapidfuzz computes the similarity (1 - distance / (m + n)),
/// so that a bound under the threshold means a similarity under it.
fn at_most(m: usize, n: usize, least: usize) -> f64 {
    let most = m + n;
    if most == 0 {
        1.0
    } else {
        1.0 - (least as f64 / most as f64)
    }
}

/// What normalising a name stripped, for the reader.
fn explain_stripped(legal: &[String], configured: &[String]) -> String {
    let mut parts = Vec::new();
    if !legal.is_empty() {
        parts.push(format!(
            "legal form {} stripped",
            legal
                .iter()
                .map(|w| format!("\"{w}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !configured.is_empty() {
        parts.push(format!(
            "{} stripped as configured in duplicates.strip_words (part of the name, not a legal form)",
            configured.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(", ")
        ));
    }
    parts.join("; ")
}

/// Every candidate pair among the records, strongest first. Exempt pairs
/// are included with `exempt` set.
pub fn find_pairs(records: &[Record], cfg: &DuplicatesConfig) -> Vec<Pair> {
    find_pairs_timed(records, cfg, &mut Vec::new())
}

/// Wall time of steps, for `folio check --timings`.
pub type Timings = Vec<(&'static str, std::time::Duration)>;

/// `find_pairs`, noting the time each step takes in `timings`: the keys of
/// each record, the records sharing an exact key, the near-identical names,
/// then the pairs scored and sorted.
pub fn find_pairs_timed(
    records: &[Record],
    cfg: &DuplicatesConfig,
    timings: &mut Timings,
) -> Vec<Pair> {
    let mut t = std::time::Instant::now();
    let mut lap = |what: &'static str| {
        timings.push((what, t.elapsed()));
        t = std::time::Instant::now();
    };
    let keys = record_keys(records, cfg);
    lap("duplicates: keys of each record");
    let buckets = exact_buckets(&keys, cfg);
    let mut pairs = exact_pairs(records, &buckets);
    lap("duplicates: exact keys");
    let threshold = cfg.fuzzy_threshold;
    let near = near_names(&keys, threshold, &mut lap);
    add_near_names(&mut pairs, near, threshold);
    // the keys (several small allocations per record) are freed in parallel
    drop(buckets);
    {
        use rayon::prelude::*;
        keys.into_par_iter().for_each(drop);
    }
    let out = scored(records, pairs, cfg);
    lap("duplicates: pairs");
    out
}

/// The keys of each record, in parallel.
fn record_keys<'a>(records: &'a [Record], cfg: &DuplicatesConfig) -> Vec<Vec<KeyEntry<'a>>> {
    let free: FxHashSet<String> = FREE_MAIL
        .iter()
        .map(|s| s.to_string())
        .chain(cfg.free_mail.iter().map(|s| s.to_lowercase()))
        .collect();
    {
        use rayon::prelude::*;
        records
            .par_iter()
            .map_init(Vec::new, |scratch, r| {
                keys_of(&r.customer, cfg, &free, scratch);
                // kept at its exact size: there are 100,000s of these
                let mut exact = Vec::with_capacity(scratch.len());
                exact.append(scratch);
                exact
            })
            .collect()
    }
}

/// A key shared by several records, with the (kind, entry) of each.
type Bucket<'k> = (&'k str, Vec<(Key, Entry<'k>)>);

/// The exact keys shared by more than one record, in key order.
fn exact_buckets<'k>(keys: &'k [Vec<KeyEntry<'k>>], cfg: &DuplicatesConfig) -> Vec<Bucket<'k>> {
    // Exact keys: every (space, key) entry in one sorted list, so that the
    // records sharing a key stand together (no map of small lists: at
    // 100,000 records that costs hundreds of megabytes). Names and titles
    // share one space: a name matches a title. The list is sorted by a hash
    // of the key (integers sort much faster than strings); entries of equal
    // hash are then told apart by the key itself, and the few shared keys
    // are put in key order, as if the whole list had been sorted by key.
    let space = |k: Key| match k {
        Key::Name | Key::Title => 0u8,
        Key::Registration => 1,
        Key::Email => 2,
        Key::Domain => 3,
        Key::Phone => 4,
        Key::Similar => 5,
    };
    let mut flat: Vec<(u8, u64, u32, u32)> = {
        use std::hash::BuildHasher;
        let hasher = rustc_hash::FxBuildHasher;
        let mut flat = Vec::with_capacity(keys.iter().map(Vec::len).sum());
        for (i, ks) in keys.iter().enumerate() {
            for (j, k) in ks.iter().enumerate() {
                let h = hasher.hash_one(k.key.as_str());
                flat.push((space(k.kind), h, i as u32, j as u32));
            }
        }
        flat
    };
    {
        use rayon::slice::ParallelSliceMut;
        flat.par_sort_unstable();
    }
    // (space, key, the (record, key) indices of the records sharing it)
    type Shared<'k> = (u8, &'k str, Vec<(u32, u32)>);
    let mut shared: Vec<Shared> = Vec::new();
    for run in flat
        .chunk_by(|x, y| x.0 == y.0 && x.1 == y.1)
        .filter(|r| r.len() > 1)
    {
        let mut run: Vec<(&str, u32, u32)> = run
            .iter()
            .map(|&(_, _, i, j)| (keys[i as usize][j as usize].key.as_str(), i, j))
            .collect();
        run.sort_unstable();
        for same in run.chunk_by(|x, y| x.0 == y.0).filter(|r| r.len() > 1) {
            let members = same.iter().map(|&(_, i, j)| (i, j)).collect();
            let sp = space(keys[same[0].1 as usize][same[0].2 as usize].kind);
            shared.push((sp, same[0].0, members));
        }
    }
    drop(flat);
    shared.sort_unstable_by(|x, y| (x.0, x.1).cmp(&(y.0, y.1)));
    let mut buckets: Vec<Bucket> = Vec::with_capacity(shared.len());
    for (_, key, run) in shared {
        let members = run
            .into_iter()
            .map(|(i, j)| {
                let k = &keys[i as usize][j as usize];
                (
                    k.kind,
                    Entry {
                        rec: i as usize,
                        field: k.field,
                        value: k.value,
                        explanation: if matches!(k.kind, Key::Name | Key::Title) {
                            let nn = normalise_name(k.value, &cfg.strip_words);
                            explain_stripped(&nn.legal, &nn.configured)
                        } else {
                            String::new()
                        },
                    },
                )
            })
            .collect();
        buckets.push((key, members));
    }
    buckets
}

/// The pairs of records that share an exact key, with one match per kind.
fn exact_pairs(records: &[Record], buckets: &[Bucket]) -> BTreeMap<(usize, usize), Vec<Match>> {
    let mut pairs: BTreeMap<(usize, usize), Vec<Match>> = BTreeMap::new();
    for (key, members) in buckets {
        // A key shared by very many records (a marketplace domain) would be
        // quadratic: pair each member with the first only.
        let limit = if members.len() > 50 { 1 } else { members.len() };
        for x in 0..limit {
            for y in x + 1..members.len() {
                let (ka, ea) = &members[x];
                let (kb, eb) = &members[y];
                if ea.rec == eb.rec {
                    continue;
                }
                let (ka, ea, kb, eb) = if ea.rec < eb.rec {
                    (ka, ea, kb, eb)
                } else {
                    (kb, eb, ka, ea)
                };
                let key_kind = match (ka, kb) {
                    (Key::Name, Key::Name) => Key::Name,
                    (Key::Name | Key::Title, Key::Name | Key::Title) => Key::Title,
                    (k, _) => *k,
                };
                let same_group = matches!((&records[ea.rec].customer.group, &records[eb.rec].customer.group), (Some(a), Some(b)) if a == b);
                if same_group && matches!(key_kind, Key::Domain | Key::Phone) {
                    continue;
                }
                let explanation = match key_kind {
                    Key::Name | Key::Title => {
                        let mut e = format!("both normalise to \"{key}\"");
                        for x in [&ea.explanation, &eb.explanation] {
                            if !x.is_empty() && !e.contains(x.as_str()) {
                                e.push_str("; ");
                                e.push_str(x);
                            }
                        }
                        e
                    }
                    Key::Registration => {
                        format!("both are \"{key}\" without case, spaces, dots, dashes and slashes")
                    }
                    Key::Email => "the same address (case ignored)".to_string(),
                    Key::Domain => format!("both use the domain {key}"),
                    Key::Phone => format!("the same digits {key}"),
                    Key::Similar => String::new(),
                };
                let m = Match {
                    key: key_kind,
                    a: ea.value.to_string(),
                    b: eb.value.to_string(),
                    a_field: ea.field.to_string(),
                    b_field: eb.field.to_string(),
                    similarity: 1.0,
                    explanation,
                };
                let list = pairs.entry((ea.rec, eb.rec)).or_default();
                if !list.iter().any(|o| o.key == m.key) {
                    list.push(m);
                }
            }
        }
    }
    pairs
}

/// Each name and title to compare, with its distinctive words: those
/// fewer than one name in 200 (at least 5) share.
fn prepare_names<'k>(keys: &'k [Vec<KeyEntry<'k>>]) -> Vec<Prepared<'k>> {
    let names: Vec<(usize, &KeyEntry)> = keys
        .iter()
        .enumerate()
        .flat_map(|(i, ks)| {
            ks.iter()
                .filter(|k| matches!(k.kind, Key::Name | Key::Title))
                .map(move |k| (i, k))
        })
        .collect();
    // how many names have each word (each word once per name), counted
    // in parallel
    let df: FxHashMap<&str, usize> = {
        use rayon::prelude::*;
        names
            .par_iter()
            .fold(
                FxHashMap::default,
                |mut df: FxHashMap<&str, usize>, (_, k)| {
                    let mut seen: Vec<&str> = Vec::new();
                    for w in k.words() {
                        if !seen.contains(&w) {
                            seen.push(w);
                            *df.entry(w).or_default() += 1;
                        }
                    }
                    df
                },
            )
            .reduce(FxHashMap::default, |mut a, b| {
                if a.len() < b.len() {
                    return b.into_iter().fold(a, |mut b2, (w, n)| {
                        *b2.entry(w).or_default() += n;
                        b2
                    });
                }
                for (w, n) in b {
                    *a.entry(w).or_default() += n;
                }
                a
            })
    };
    let common = (names.len() / 200).max(5);
    {
        use rayon::prelude::*;
        names
            .par_iter()
            .filter_map(|&(i, k)| {
                let full = k.key.as_str();
                let full_len = full.chars().count();
                if full_len < 4 {
                    return None;
                }
                let rare: String = k.words().filter(|w| df[w] <= common).collect();
                let rare = if rare.is_empty() {
                    Cow::Borrowed(full)
                } else {
                    Cow::Owned(rare)
                };
                Some(Prepared {
                    rec: i,
                    full,
                    full_len,
                    rare_len: rare.chars().count(),
                    rare,
                    value: k.value,
                })
            })
            .collect()
    }
}

/// Near-identical names: sorted neighbourhoods. Words that many names
/// share ("Global", "Pump") say little, so two names must be alike both as
/// a whole and in their distinctive words. Returns the candidate hits:
/// record a < b, similarity, the two names as written.
fn near_names(
    keys: &[Vec<KeyEntry>],
    threshold: f64,
    lap: &mut impl FnMut(&'static str),
) -> Vec<NearHit> {
    let prepared = prepare_names(keys);
    lap("duplicates: preparing fuzzy names");
    // The indel similarity of strings of m and n characters is at most
    // 1 - |m - n| / (m + n) (at least |m - n| characters are inserted or
    // deleted), computed here as rapidfuzz computes the similarity itself,
    // so a pair this bound puts under the threshold is under it: skipping
    // it changes no result.
    let may_reach = |m: usize, n: usize| at_most(m, n, m.abs_diff(n)) >= threshold;
    // Better still: a character of one string that the other lacks must be
    // inserted or deleted, so the distance is at least the difference of
    // the strings' character counts (counted here in 128 classes of
    // characters, which can only lower it).
    let may_reach_bag = |a_counts: &[u32; 128], m: usize, b: &str, n: usize| {
        let mut left = *a_counts;
        let mut common = 0;
        for c in b.chars() {
            let k = &mut left[c as usize % 128];
            if *k > 0 {
                *k -= 1;
                common += 1;
            }
        }
        at_most(m, n, m + n - 2 * common) >= threshold
    };
    const WINDOW: usize = 6;
    // Candidate hits from both orders, in parallel; few survive the
    // threshold, so they are merged into the map afterwards.
    let hits_of = |reversed: bool| -> Vec<NearHit> {
        use rayon::prelude::*;
        // the reversed names, in one buffer
        let backwards: String = if reversed {
            prepared.iter().flat_map(|p| p.rare.chars().rev()).collect()
        } else {
            String::new()
        };
        // Sorted by (name, place); the first eight bytes of each name go in
        // front as a number, which orders the same way and settles most
        // comparisons without reading the name.
        let mut at = 0;
        let mut sorted: Vec<(u64, &str, usize)> = prepared
            .iter()
            .enumerate()
            .map(|(j, p)| {
                let s = if reversed {
                    let s = &backwards[at..at + p.rare.len()];
                    at += p.rare.len();
                    s
                } else {
                    &p.rare[..]
                };
                let mut head = [0u8; 8];
                let n = s.len().min(8);
                head[..n].copy_from_slice(&s.as_bytes()[..n]);
                (u64::from_be_bytes(head), s, j)
            })
            .collect();
        sorted.par_sort_unstable();
        // the names in that order, side by side (neighbours are compared)
        let ordered: Vec<&Prepared> = sorted.par_iter().map(|&(_, _, j)| &prepared[j]).collect();
        drop(sorted);
        let ordered: Vec<Prepared> = ordered
            .into_par_iter()
            .map(|p| Prepared {
                rare: Cow::Borrowed(&p.rare[..]),
                ..*p
            })
            .collect();
        (0..ordered.len())
            .into_par_iter()
            .flat_map_iter(|x| {
                let a = &ordered[x];
                let mut full_scorer = None;
                let mut rare_scorer = None;
                let mut a_counts = None;
                let mut out = Vec::new();
                for b in ordered[x + 1..].iter().take(WINDOW) {
                    if a.rec == b.rec || a.full == b.full || !may_reach(a.full_len, b.full_len) {
                        continue;
                    }
                    let counts = a_counts.get_or_insert_with(|| {
                        let mut k = [0u32; 128];
                        for c in a.full.chars() {
                            k[c as usize % 128] += 1;
                        }
                        k
                    });
                    if !may_reach_bag(counts, a.full_len, b.full, b.full_len) {
                        continue;
                    }
                    let sim = full_scorer
                        .get_or_insert_with(|| {
                            rapidfuzz::distance::indel::BatchComparator::new(a.full.chars())
                        })
                        .normalized_similarity(b.full.chars());
                    if sim < threshold
                        || !may_reach(a.rare_len, b.rare_len)
                        || rare_scorer
                            .get_or_insert_with(|| {
                                rapidfuzz::distance::indel::BatchComparator::new(a.rare.chars())
                            })
                            .normalized_similarity(b.rare.chars())
                            < threshold
                    {
                        continue;
                    }
                    // few survive: their names are copied
                    out.push(if a.rec < b.rec {
                        (a.rec, b.rec, sim, a.value.into(), b.value.into())
                    } else {
                        (b.rec, a.rec, sim, b.value.into(), a.value.into())
                    });
                }
                out
            })
            .collect()
    };
    let (forward, backward) = rayon::join(|| hits_of(false), || hits_of(true));
    lap("duplicates: comparing near names");
    let mut hits = forward;
    hits.extend(backward);
    hits
}

/// Two near-identical names: records a < b, similarity, the names.
type NearHit = (usize, usize, f64, String, String);

/// A name as compared: record, normalised key and its distinctive words
/// (each with its length in characters), the value as written.
struct Prepared<'a> {
    rec: usize,
    full: &'a str,
    full_len: usize,
    rare: Cow<'a, str>,
    rare_len: usize,
    value: &'a str,
}

/// Add the near-identical names to `pairs` (one match per pair, the most
/// alike names), unless the pair already shares a name exactly.
fn add_near_names(
    pairs: &mut BTreeMap<(usize, usize), Vec<Match>>,
    hits: Vec<NearHit>,
    threshold: f64,
) {
    let mut fuzzy: FxHashMap<(usize, usize), Match> = FxHashMap::default();
    for (a, b, sim, va, vb) in hits {
        if pairs
            .get(&(a, b))
            .is_some_and(|m| m.iter().any(|m| matches!(m.key, Key::Name | Key::Title)))
        {
            continue;
        }
        let e = fuzzy.entry((a, b)).or_insert_with(|| Match {
            key: Key::Similar,
            a: va.clone(),
            b: vb.clone(),
            a_field: "name".into(),
            b_field: "name".into(),
            similarity: sim,
            explanation: String::new(),
        });
        if sim > e.similarity {
            e.similarity = sim;
            e.a = va;
            e.b = vb;
        }
    }
    for ((a, b), mut m) in fuzzy {
        m.explanation = format!(
            "{:.0}% alike after normalising (threshold {:.0}%, duplicates.fuzzy_threshold)",
            m.similarity * 100.0,
            threshold * 100.0
        );
        pairs.entry((a, b)).or_default().push(m);
    }
}

/// Each pair's score (the chance that not every match misses), its
/// exemption, sorted by score then paths.
fn scored(
    records: &[Record],
    pairs: BTreeMap<(usize, usize), Vec<Match>>,
    cfg: &DuplicatesConfig,
) -> Vec<Pair> {
    let exempt: HashMap<(&str, &str), &str> = cfg
        .not_duplicates
        .iter()
        .flat_map(|n| {
            [
                ((n.a.as_str(), n.b.as_str()), n.reason.as_str()),
                ((n.b.as_str(), n.a.as_str()), n.reason.as_str()),
            ]
        })
        .collect();
    let mut out: Vec<Pair> = pairs
        .into_iter()
        .map(|((a, b), mut matches)| {
            matches.sort_by_key(|m| m.key);
            let miss: f64 = matches
                .iter()
                .map(|m| {
                    1.0 - if m.key == Key::Similar {
                        m.similarity * 0.9
                    } else {
                        m.key.weight()
                    }
                })
                .product();
            let ex = exempt
                .get(&(
                    records[a].customer.id.as_str(),
                    records[b].customer.id.as_str(),
                ))
                .map(|s| s.to_string());
            Pair {
                a,
                b,
                score: ((1.0 - miss) * 1000.0).round() / 1000.0,
                matches,
                exempt: ex,
            }
        })
        .collect();
    out.sort_by(|x, y| {
        y.score
            .partial_cmp(&x.score)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| records[x.a].path.cmp(&records[y.a].path))
            .then_with(|| records[x.b].path.cmp(&records[y.b].path))
    });
    out
}

fn code_of(k: Key) -> (Code, Severity) {
    match k {
        Key::Name | Key::Title => (Code::DuplicateName, Severity::Error),
        Key::Registration => (Code::DuplicateRegistration, Severity::Error),
        Key::Email => (Code::DuplicateEmail, Severity::Error),
        Key::Similar => (Code::SimilarName, Severity::Warning),
        Key::Domain => (Code::SharedDomain, Severity::Warning),
        Key::Phone => (Code::SharedPhone, Severity::Warning),
    }
}

/// The diagnostics `folio check` reports: one per record, key and other
/// record, on both records of a pair, so that a pull request changing
/// either side is stopped.
pub fn diagnostics(records: &[Record], cfg: &DuplicatesConfig) -> Vec<Diagnostic> {
    diagnostics_timed(records, cfg, &mut Vec::new())
}

/// `diagnostics`, noting the time each step takes in `timings`.
pub fn diagnostics_timed(
    records: &[Record],
    cfg: &DuplicatesConfig,
    timings: &mut Timings,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for p in find_pairs_timed(records, cfg, timings)
        .into_iter()
        .filter(|p| p.exempt.is_none())
    {
        for m in &p.matches {
            let (code, sev) = code_of(m.key);
            for (me, other, my_field, my_val, other_field, other_val) in [
                (p.a, p.b, &m.a_field, &m.a, &m.b_field, &m.b),
                (p.b, p.a, &m.b_field, &m.b, &m.a_field, &m.a),
            ] {
                let o = &records[other];
                let what = match m.key {
                    Key::Name | Key::Title => "company name",
                    Key::Registration => "registration code",
                    Key::Email => "contact e-mail",
                    Key::Similar => "near-identical name",
                    Key::Domain => "domain",
                    Key::Phone => "phone number",
                };
                let message = format!(
                    "{what} shared with {} ({}): {my_field} \"{my_val}\" ~ {other_field} \"{other_val}\"",
                    o.path,
                    o.customer.display_name()
                );
                let (ida, idb) = (&records[me].customer.id, &o.customer.id);
                let action = if matches!(m.key, Key::Similar | Key::Domain | Key::Phone) {
                    "if they are one customer, merge them; if they belong to one buyer group, give both the same `group`"
                } else {
                    "if they are one customer, merge them"
                };
                let hint = format!(
                    "{}; {action}; if they are not duplicates, add {{ a = \"{ida}\", b = \"{idb}\", reason = \"...\" }} to duplicates.not_duplicates in folio.toml",
                    m.explanation
                );
                out.push(
                    Diagnostic::new(sev, code, records[me].path.clone(), message)
                        .with_field(my_field.clone())
                        .with_hint(hint),
                );
            }
        }
    }
    out
}

/// Conflicts of a would-be record with existing ones, as sentences (for
/// `folio new` and `folio import`); errors only.
pub fn conflicts_for(c: &Customer, records: &[Record], cfg: &DuplicatesConfig) -> Vec<String> {
    let mut all: Vec<Record> = records.to_vec();
    all.push(Record {
        path: "(new)".into(),
        customer: c.clone(),
    });
    let me = all.len() - 1;
    find_pairs(&all, cfg)
        .into_iter()
        .filter(|p| (p.a == me || p.b == me) && p.exempt.is_none() && p.is_error())
        .map(|p| {
            let other = if p.a == me { p.b } else { p.a };
            let m = p
                .matches
                .iter()
                .find(|m| !matches!(m.key, Key::Similar | Key::Domain | Key::Phone))
                .unwrap_or(&p.matches[0]);
            let (mine, theirs) = if p.a == me {
                (&m.a, &m.b)
            } else {
                (&m.b, &m.a)
            };
            format!(
                "{} ({}) has the {}",
                all[other].path,
                all[other].customer.display_name(),
                m.same(theirs, mine)
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        normalise_name(s, &[]).key
    }

    #[test]
    fn latin_legal_forms() {
        assert_eq!(n("ACME GmbH"), "acme");
        assert_eq!(n("Acme Ltd."), "acme");
        assert_eq!(n("Acme Co., Ltd."), "acme");
        assert_eq!(n("Acme Sp. z o.o."), "acme");
        assert_eq!(n("Acme S.A. de C.V."), "acme");
        assert_eq!(n("Acme Pty Ltd"), "acme");
        assert_eq!(n("PT Acme Indonesia"), "acmeindonesia");
        assert_eq!(n("Acme A/S"), "acme");
        assert_eq!(n("Acme e.K."), "acme");
        assert_eq!(n("Müller GmbH & Co. KG"), "müller");
        // a lone legal-form word is the name itself, not stripped
        assert_eq!(n("Company"), "company");
    }

    #[test]
    fn other_scripts() {
        assert_eq!(n("上海宏达进出口有限公司"), "上海宏达进出口");
        assert_eq!(n("株式会社山田製作所"), "山田製作所");
        assert_eq!(n("山田製作所(株)"), "山田製作所");
        assert_eq!(n("주식회사 한빛"), "한빛");
        assert_eq!(n("ООО «Техснаб»"), "техснаб");
        assert_eq!(n("OOO Техснаб"), "техснаб");
        assert_eq!(n("شركة النور ذ.م.م"), "النور");
        // NFKC: full-width letters
        assert_eq!(n("ＡＢＣ Ltd"), "abc");
    }

    #[test]
    fn configured_words_are_explained() {
        let w = vec!["Trading".to_string(), "进出口".to_string()];
        let x = normalise_name("Hongda Trading Ltd", &w);
        assert_eq!(x.key, "hongda");
        assert_eq!(x.configured, ["Trading"]);
        assert_eq!(x.legal, ["Ltd"]);
        assert_eq!(normalise_name("上海宏达进出口有限公司", &w).key, "上海宏达");
        assert!(explain_stripped(&x.legal, &x.configured).contains("not a legal form"));
    }

    #[test]
    fn registration_and_phone() {
        assert_eq!(normalise_registration("HRB 123.456-7/a"), "hrb1234567a");
        assert_eq!(
            phone_digits("+49 (30) 123-4567").as_deref(),
            Some("49301234567")
        );
        assert_eq!(
            phone_digits("0049 30 1234567").as_deref(),
            Some("49301234567")
        );
        assert_eq!(
            web_domain("https://www.Acme.de/x").as_deref(),
            Some("acme.de")
        );
    }
}
