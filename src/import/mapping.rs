//! The mapping from a sheet's columns to record fields: read from a TOML
//! file, or guessed from the headers (English and Chinese) and printed so
//! that it can be saved and edited.

use super::countries::fold;
use crate::edit::quote;
use std::collections::HashMap;
use std::fmt::Write as _;

/// A field of a contact that a column can feed.
pub const CONTACT_FIELDS: &[&str] = &crate::fields::CONTACT_KEYS;

/// Top-level fields a column can feed, in record order (`id` keeps the
/// record's id, as in folio's own export): the record's plain values, then
/// `consent.*`.
pub static TOP_FIELDS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    let consent = crate::fields::CONSENT_KEYS
        .iter()
        .map(|k| &*Box::leak(format!("consent.{k}").into_boxed_str()));
    crate::fields::CUSTOMER_VALUE_KEYS
        .iter()
        .copied()
        .chain(consent)
        .collect()
});

/// Where a column's value goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// A top-level field (or `consent.*`), by its name in `TOP_FIELDS`.
    Top(&'static str),
    /// Field of the n-th contact (1-based).
    Contact(usize, &'static str),
    /// `name` or `registration` of the n-th title (1-based).
    Title(usize, &'static str),
    /// A team's own top-level field (declared in the repository's `schema/`).
    Team(String),
}

impl Target {
    /// Parse a target name: `name`, `contact2.email`, `title1.registration`,
    /// or a shorthand for the first contact (`email`, `phone`, ...).
    pub fn parse(s: &str) -> Option<Target> {
        if let Some(t) = TOP_FIELDS.iter().find(|f| **f == s) {
            return Some(Target::Top(t));
        }
        if let Some(f) = CONTACT_FIELDS.iter().find(|f| **f == s && **f != "name") {
            return Some(Target::Contact(1, f));
        }
        let (head, field) = s.split_once('.')?;
        let numbered = |prefix: &str| -> Option<usize> {
            head.strip_prefix(prefix)?
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=50).contains(n))
        };
        if let Some(n) = numbered("contact") {
            return CONTACT_FIELDS
                .iter()
                .find(|f| **f == field)
                .map(|f| Target::Contact(n, f));
        }
        if let Some(n) = numbered("title") {
            return crate::fields::TITLE_KEYS
                .iter()
                .find(|f| **f == field)
                .map(|f| Target::Title(n, f));
        }
        None
    }

    /// [`Target::parse`], or one of the team's own fields.
    pub fn parse_in(s: &str, team: &[String]) -> Option<Target> {
        Target::parse(s).or_else(|| {
            team.iter()
                .any(|t| t == s)
                .then(|| Target::Team(s.to_string()))
        })
    }

    pub fn name(&self) -> String {
        match self {
            Target::Team(f) => f.clone(),
            Target::Top(f) => f.to_string(),
            Target::Contact(n, f) => format!("contact{n}.{f}"),
            Target::Title(n, f) => format!("title{n}.{f}"),
        }
    }

    /// The order fields are listed in.
    fn rank(&self) -> (usize, usize, usize) {
        match self {
            Target::Top(f) => {
                let i = TOP_FIELDS.iter().position(|x| x == f).unwrap_or(0);
                // titles and contacts after the identity, before the rest
                (if i < 5 { 0 } else { 3 }, i, 0)
            }
            Target::Team(_) => (4, 0, 0),
            Target::Title(n, f) => (1, *n, usize::from(*f != "name")),
            Target::Contact(n, f) => (
                2,
                *n,
                CONTACT_FIELDS.iter().position(|x| x == f).unwrap_or(0),
            ),
        }
    }

    /// The format a value must have (checked column by column, so that a
    /// bad value can be dropped with `on_invalid = "drop"`).
    pub fn checked(&self) -> bool {
        matches!(
            self,
            Target::Top("website") | Target::Contact(_, "email" | "phone" | "whatsapp")
        )
    }
}

/// A sheet of folio's XLSX export that lists entries of the customers on
/// the main sheet: one row per entry, linked by its `customer_id` column to
/// the main sheet's `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Contacts,
    Quotes,
    Orders,
    Followups,
}

/// The column of a list sheet that names its customer's id.
pub const LINK_COLUMN: &str = "customer_id";
/// The column of a list sheet that repeats its customer's name (for people
/// reading the workbook; not imported).
pub const LABEL_COLUMN: &str = "customer";

impl ListKind {
    pub const ALL: [ListKind; 4] = [
        ListKind::Contacts,
        ListKind::Quotes,
        ListKind::Orders,
        ListKind::Followups,
    ];

    /// The list's key in a record (`contacts`, ...).
    pub fn key(self) -> &'static str {
        match self {
            ListKind::Contacts => "contacts",
            ListKind::Quotes => "quotes",
            ListKind::Orders => "orders",
            ListKind::Followups => "followups",
        }
    }

    /// The sheet's name in folio's export.
    pub fn sheet(self) -> &'static str {
        match self {
            ListKind::Contacts => "Contacts",
            ListKind::Quotes => "Quotes",
            ListKind::Orders => "Orders",
            ListKind::Followups => "Followups",
        }
    }

    /// The built-in fields of an entry, in the export's column order.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            ListKind::Contacts => CONTACT_FIELDS,
            ListKind::Quotes => &crate::fields::QUOTE_KEYS,
            ListKind::Orders => &crate::fields::ORDER_KEYS,
            ListKind::Followups => &crate::fields::FOLLOWUP_KEYS,
        }
    }

    /// The list a sheet holds, by its name (case, spaces and punctuation
    /// ignored: `Follow-ups` is `Followups`).
    pub fn of_sheet(name: &str) -> Option<ListKind> {
        let n = fold(name);
        ListKind::ALL
            .into_iter()
            .find(|k| fold(k.sheet()) == n || fold(k.key()) == n)
    }
}

/// What to do with a value that has the wrong format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnInvalid {
    /// Reject the whole row (the default).
    Reject,
    /// Leave the field out, note it, and import the row.
    Drop,
}

/// How one field is fed.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldSpec {
    pub target: Target,
    /// Columns joined (non-empty cells only) with `join`.
    pub columns: Vec<String>,
    pub join: String,
    /// Date format (chrono `strftime`), e.g. `%d/%m/%Y`.
    pub format: Option<String>,
    /// Separator of a list (tags, incoterms); default: any of `, ; | 、 ，`.
    pub separator: Option<String>,
    pub on_invalid: OnInvalid,
    /// Values replaced before anything else ("意向" = "prospect").
    pub values: Vec<(String, String)>,
    /// Value when the cells are empty (or the field has no column).
    pub default: Option<String>,
}

impl FieldSpec {
    pub fn new(target: Target, columns: Vec<String>) -> FieldSpec {
        FieldSpec {
            target,
            columns,
            join: " ".into(),
            format: None,
            separator: None,
            on_invalid: OnInvalid::Reject,
            values: Vec::new(),
            default: None,
        }
    }
}

/// A whole mapping.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mapping {
    pub fields: Vec<FieldSpec>,
    /// Extra country names (folded) to codes.
    pub countries: HashMap<String, String>,
    /// The names as written, for printing.
    pub country_names: Vec<(String, String)>,
    /// Columns the mapping leaves out (for the printed mapping).
    pub ignored: Vec<String>,
}

impl Mapping {
    pub fn get(&self, t: &Target) -> Option<&FieldSpec> {
        self.fields.iter().find(|f| &f.target == t)
    }

    /// Parse a mapping file; `headers` are the sheet's columns, which the
    /// mapping must name exactly; `team` the team's own top-level fields.
    pub fn parse(text: &str, headers: &[String], team: &[String]) -> Result<Mapping, String> {
        let doc: toml::Table = toml::from_str(text).map_err(|e| {
            let pos = e
                .span()
                .map(|s| {
                    let before = &text[..s.start.min(text.len())];
                    format!("line {}: ", before.matches('\n').count() + 1)
                })
                .unwrap_or_default();
            format!("{pos}{}", e.message().trim_end())
        })?;
        let mut m = Mapping::default();
        for (k, v) in &doc {
            match k.as_str() {
                "fields" => {
                    let t = v
                        .as_table()
                        .ok_or("`fields` must be a table of field = column")?;
                    for (name, spec) in t {
                        m.fields.push(parse_spec(name, spec, headers, team)?);
                    }
                }
                "countries" => {
                    let t = v
                        .as_table()
                        .ok_or("`countries` must be a table of name = \"CODE\"")?;
                    for (name, code) in t {
                        let code = code.as_str().ok_or_else(|| {
                            format!("countries.\"{name}\" must be a country code string")
                        })?;
                        if crate::schema::codes::COUNTRIES
                            .binary_search(&code)
                            .is_err()
                        {
                            return Err(format!(
                                "countries.\"{name}\": `{code}` is not an ISO 3166-1 alpha-2 code"
                            ));
                        }
                        m.countries.insert(fold(name), code.to_string());
                        m.country_names.push((name.clone(), code.to_string()));
                    }
                }
                other => {
                    return Err(format!(
                        "unknown key `{other}` in the mapping (expected [fields] and [countries])"
                    ));
                }
            }
        }
        let mut seen = Vec::new();
        for f in &m.fields {
            if seen.contains(&f.target) {
                return Err(format!("field `{}` is mapped twice", f.target.name()));
            }
            seen.push(f.target.clone());
        }
        m.ignored = headers
            .iter()
            .filter(|h| !m.fields.iter().any(|f| f.columns.contains(h)))
            .cloned()
            .collect();
        Ok(m)
    }

    /// The mapping as a TOML file.
    pub fn to_toml(&self, source: &str, guessed: bool) -> String {
        let mut o = String::new();
        let how = if guessed {
            "guessed from the headers"
        } else {
            "as given"
        };
        let _ = writeln!(o, "# folio import mapping for {source} ({how})");
        let _ = writeln!(
            o,
            "# Edit and pass it back with `folio import FILE --map THIS_FILE`; see docs/import.md."
        );
        if !self.ignored.is_empty() {
            let _ = writeln!(
                o,
                "# Columns not imported: {}",
                self.ignored
                    .iter()
                    .map(|c| quote(c))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        o.push_str("\n[fields]\n");
        let mut fields: Vec<&FieldSpec> = self.fields.iter().collect();
        fields.sort_by_key(|f| f.target.rank());
        for f in fields {
            let key = f.target.name();
            let key = if key.contains('.') { quote(&key) } else { key };
            let cols = match f.columns.as_slice() {
                [] => None,
                [one] => Some(quote(one)),
                many => Some(format!(
                    "[{}]",
                    many.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ")
                )),
            };
            let mut opts: Vec<String> = Vec::new();
            if let Some(c) = &cols {
                opts.push(format!("column = {c}"));
            }
            if f.join != " " {
                opts.push(format!("join = {}", quote(&f.join)));
            }
            if let Some(x) = &f.format {
                opts.push(format!("format = {}", quote(x)));
            }
            if let Some(x) = &f.separator {
                opts.push(format!("separator = {}", quote(x)));
            }
            if f.target.checked() || f.on_invalid == OnInvalid::Drop {
                let v = match f.on_invalid {
                    OnInvalid::Reject => "reject",
                    OnInvalid::Drop => "drop",
                };
                opts.push(format!("on_invalid = \"{v}\""));
            }
            if !f.values.is_empty() {
                opts.push(format!(
                    "values = {{ {} }}",
                    f.values
                        .iter()
                        .map(|(a, b)| format!("{} = {}", quote(a), quote(b)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if let Some(d) = &f.default {
                opts.push(format!("default = {}", quote(d)));
            }
            if opts.len() == 1
                && let Some(c) = cols
                && opts[0].starts_with("column")
            {
                let _ = writeln!(o, "{key} = {c}");
            } else {
                let _ = writeln!(o, "{key} = {{ {} }}", opts.join(", "));
            }
        }
        if !self.country_names.is_empty() {
            o.push_str("\n[countries]\n");
            for (n, c) in &self.country_names {
                let _ = writeln!(o, "{} = {}", quote(n), quote(c));
            }
        }
        o
    }

    /// Guess a mapping from the headers and the values below them; `team`
    /// are the team's own top-level fields, taken by their exact names.
    pub fn guess(headers: &[String], rows: &[Vec<&str>], team: &[String]) -> Mapping {
        let mut m = Mapping::default();
        let mut used = vec![false; headers.len()];
        let norm: Vec<String> = headers.iter().map(|h| fold(h)).collect();
        // 1. exact target names (folio's own export: contact1_email, ...)
        // ("name" is the company there, but a person elsewhere when a
        // company column exists)
        let company_column = norm
            .iter()
            .any(|n| SYNONYMS[0].1.iter().any(|w| fold(w) == *n && *w != "name"));
        for (i, h) in headers.iter().enumerate() {
            let t = Target::parse(&h.replacen('_', ".", 1)).or_else(|| Target::parse_in(h, team));
            if let Some(t) = t
                && m.get(&t).is_none()
                && !(h == "name" && company_column)
            {
                m.fields.push(FieldSpec::new(t, vec![h.clone()]));
                used[i] = true;
            }
        }
        // 2. synonyms, English and Chinese
        for (target, words) in SYNONYMS {
            let t = Target::parse(target).unwrap_or(Target::Top("name"));
            if m.get(&t).is_some() {
                continue;
            }
            let hit = norm
                .iter()
                .enumerate()
                .find(|(i, n)| !used[*i] && words.iter().any(|w| fold(w) == **n));
            if let Some((i, _)) = hit {
                used[i] = true;
                m.fields.push(FieldSpec::new(t, vec![headers[i].clone()]));
            }
        }
        // 3. a contact written as first and last name
        if m.get(&Target::Top("contact")).is_none() {
            let find = |words: &[&str], used: &[bool]| {
                norm.iter()
                    .enumerate()
                    .find(|(i, n)| !used[*i] && words.iter().any(|w| fold(w) == **n))
                    .map(|(i, _)| i)
            };
            let first = find(FIRST_NAME, &used);
            let last = find(LAST_NAME, &used);
            let (a, b) = if last.is_some_and(|l| CJK_FAMILY_FIRST.contains(&norm[l].as_str())) {
                (last, first) // 姓 then 名
            } else {
                (first, last)
            };
            let cols: Vec<usize> = [a, b].into_iter().flatten().collect();
            if !cols.is_empty() {
                let mut spec = FieldSpec::new(
                    Target::Top("contact"),
                    cols.iter().map(|&i| headers[i].clone()).collect(),
                );
                if cols
                    .iter()
                    .all(|&i| CJK_FAMILY_FIRST.contains(&norm[i].as_str()))
                {
                    spec.join = String::new();
                }
                for &i in &cols {
                    used[i] = true;
                }
                m.fields.push(spec);
            }
        }
        // date formats from the values
        for f in &mut m.fields {
            if matches!(
                f.target,
                Target::Top("created" | "next_followup" | "consent.date")
            ) && let Some(i) = headers.iter().position(|h| Some(h) == f.columns.first())
            {
                f.format = guess_date_format(rows.iter().filter_map(|r| r.get(i).copied()));
            }
        }
        for (t, d) in [("tier", "D"), ("stage", "prospect")] {
            if m.get(&Target::Top(t)).is_none() {
                let mut s = FieldSpec::new(Target::Top(t), Vec::new());
                s.default = Some(d.into());
                m.fields.push(s);
            }
        }
        m.ignored = headers
            .iter()
            .enumerate()
            .filter(|(i, _)| !used[*i])
            .map(|(_, h)| h.clone())
            .collect();
        m
    }
}

fn parse_spec(
    name: &str,
    v: &toml::Value,
    headers: &[String],
    team: &[String],
) -> Result<FieldSpec, String> {
    let target = Target::parse_in(name, team).ok_or_else(|| {
        let team = if team.is_empty() {
            String::new()
        } else {
            format!(", the team's fields {}", team.join(", "))
        };
        format!(
            "fields.{name}: unknown field (fields: {}, contactN.{{{}}}, titleN.{{name,registration}}{team})",
            TOP_FIELDS.join(", "),
            CONTACT_FIELDS.join(",")
        )
    })?;
    let columns = |v: &toml::Value, what: &str| -> Result<Vec<String>, String> {
        let cols: Vec<String> = match v {
            toml::Value::String(s) => vec![s.clone()],
            toml::Value::Array(a) => a
                .iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| format!("{what} must list column names"))
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(format!("{what} must be a column name or a list of them")),
        };
        for c in &cols {
            if !headers.contains(c) {
                let hint = crate::diagnostics::did_you_mean(c, headers.iter().map(String::as_str))
                    .map(|h| format!("did you mean \"{h}\"? "))
                    .unwrap_or_default();
                return Err(format!(
                    "{what}: the sheet has no column \"{c}\" ({hint}columns: {})",
                    headers
                        .iter()
                        .map(|h| format!("\"{h}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        Ok(cols)
    };
    let what = format!("fields.{name}");
    let mut spec = FieldSpec::new(target, Vec::new());
    match v {
        toml::Value::Table(t) => {
            for (k, x) in t {
                let s = || {
                    x.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| format!("{what}.{k} must be a string"))
                };
                match k.as_str() {
                    "column" | "columns" => spec.columns = columns(x, &format!("{what}.{k}"))?,
                    "join" => spec.join = s()?,
                    "format" => spec.format = Some(s()?),
                    "separator" => spec.separator = Some(s()?).filter(|s| !s.is_empty()),
                    "default" => spec.default = Some(s()?),
                    "on_invalid" => {
                        spec.on_invalid = match s()?.as_str() {
                            "reject" => OnInvalid::Reject,
                            "drop" => OnInvalid::Drop,
                            o => {
                                return Err(format!(
                                    "{what}.on_invalid: `{o}` (use \"reject\" or \"drop\")"
                                ));
                            }
                        }
                    }
                    "values" => {
                        let t = x
                            .as_table()
                            .ok_or_else(|| format!("{what}.values must be a table"))?;
                        for (a, b) in t {
                            let b = b
                                .as_str()
                                .ok_or_else(|| format!("{what}.values.\"{a}\" must be a string"))?;
                            spec.values.push((a.clone(), b.to_string()));
                        }
                    }
                    other => {
                        return Err(format!(
                            "{what}: unknown option `{other}` (column, join, format, separator, on_invalid, values, default)"
                        ));
                    }
                }
            }
        }
        other => spec.columns = columns(other, &what)?,
    }
    if spec.columns.is_empty() && spec.default.is_none() {
        return Err(format!("{what} needs a `column` or a `default`"));
    }
    if spec.target == Target::Top("id") && spec.default.is_some() {
        return Err(format!(
            "{what}: an id is every record's own; it takes a column, not a `default`"
        ));
    }
    if let Some(f) = &spec.format {
        let probe = chrono::NaiveDate::from_ymd_opt(2024, 12, 31)
            .map(|d| d.format(f).to_string())
            .unwrap_or_default();
        if chrono::NaiveDate::parse_from_str(&probe, f).is_err() {
            return Err(format!(
                "{what}.format: `{f}` is not a date format (for example \"%d/%m/%Y\")"
            ));
        }
    }
    Ok(spec)
}

/// The date format that reads every value of a column, if the values are
/// dates written with `/`, `.` or `-` (day first unless a value says
/// otherwise).
pub fn guess_date_format<'a>(values: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut sep = None;
    let (mut first_gt12, mut second_gt12, mut year_first, mut short_year, mut n) =
        (false, false, false, false, 0);
    for v in values.filter(|v| !v.is_empty()).take(1000) {
        let s = v.split([' ', 'T']).next().unwrap_or(v);
        let c = s.chars().find(|c| "/.-".contains(*c))?;
        if sep.is_some_and(|x| x != c) {
            return None;
        }
        sep = Some(c);
        let parts: Vec<&str> = s.split(c).collect();
        let nums: Option<Vec<u32>> = parts.iter().map(|p| p.parse().ok()).collect();
        let nums = nums.filter(|n| n.len() == 3)?;
        n += 1;
        if parts[0].len() == 4 {
            year_first = true;
            continue;
        }
        first_gt12 |= nums[0] > 12;
        second_gt12 |= nums[1] > 12;
        short_year |= parts[2].len() <= 2;
    }
    let sep = sep?;
    if n == 0 || (first_gt12 && second_gt12) {
        return None;
    }
    if year_first {
        return (sep != '-').then(|| format!("%Y{sep}%m{sep}%d"));
    }
    let y = if short_year { "%y" } else { "%Y" };
    Some(if second_gt12 && !first_gt12 {
        format!("%m{sep}%d{sep}{y}")
    } else {
        format!("%d{sep}%m{sep}{y}")
    })
}

const FIRST_NAME: &[&str] = &["first name", "firstname", "given name", "forename", "名"];
const LAST_NAME: &[&str] = &["last name", "lastname", "surname", "family name", "姓"];
const CJK_FAMILY_FIRST: &[&str] = &["姓", "名"];

/// Header words by target, tried in this order; compared folded (case,
/// spaces and punctuation ignored).
const SYNONYMS: &[(&str, &[&str])] = &[
    (
        "name",
        &[
            "company",
            "company name",
            "companyname",
            "account name",
            "account",
            "organization",
            "organisation",
            "organization name",
            "customer name",
            "customer",
            "client",
            "client name",
            "business name",
            "firm",
            "公司名称",
            "公司",
            "公司名",
            "客户名称",
            "客户",
            "客户公司",
            "企业名称",
            "单位名称",
        ],
    ),
    (
        "contact",
        &[
            "contact",
            "contact name",
            "contact person",
            "primary contact",
            "full name",
            "name",
            "联系人",
            "联系人姓名",
            "姓名",
        ],
    ),
    (
        "country",
        &[
            "country",
            "country/region",
            "country region",
            "country name",
            "nation",
            "国家",
            "国家/地区",
            "国家地区",
            "国别",
            "所在国家",
        ],
    ),
    (
        "owner",
        &[
            "owner",
            "account owner",
            "lead owner",
            "sales rep",
            "salesperson",
            "sales person",
            "assigned to",
            "负责人",
            "业务员",
            "跟进人",
            "所属销售",
            "销售",
        ],
    ),
    (
        "tier",
        &[
            "tier",
            "grade",
            "rating",
            "customer grade",
            "等级",
            "客户等级",
            "级别",
            "客户级别",
        ],
    ),
    (
        "stage",
        &[
            "stage",
            "sales stage",
            "deal stage",
            "lead status",
            "阶段",
            "销售阶段",
            "客户阶段",
        ],
    ),
    (
        "type",
        &["type", "customer type", "account type", "客户类型", "类型"],
    ),
    (
        "source",
        &["source", "lead source", "来源", "客户来源", "渠道"],
    ),
    ("industry", &["industry", "sector", "行业", "所属行业"]),
    ("city", &["city", "town", "城市", "所在城市"]),
    (
        "address",
        &[
            "address",
            "street",
            "street address",
            "billing address",
            "地址",
            "公司地址",
        ],
    ),
    (
        "website",
        &[
            "website",
            "web site",
            "web",
            "url",
            "homepage",
            "home page",
            "网站",
            "官网",
            "网址",
            "公司网站",
        ],
    ),
    ("tags", &["tags", "tag", "labels", "label", "标签"]),
    ("group", &["group", "buyer group", "集团"]),
    (
        "created",
        &[
            "created",
            "created at",
            "created date",
            "created on",
            "date created",
            "creation date",
            "create time",
            "subscription date",
            "signup date",
            "sign up date",
            "date added",
            "创建时间",
            "创建日期",
            "录入时间",
            "录入日期",
            "添加时间",
        ],
    ),
    (
        "next_followup",
        &[
            "next followup",
            "next follow up",
            "next follow-up",
            "next contact",
            "下次跟进",
            "下次跟进时间",
            "下次跟进日期",
        ],
    ),
    (
        "lost_reason",
        &["lost reason", "reason lost", "丢单原因", "流失原因"],
    ),
    (
        "payment_terms",
        &[
            "payment terms",
            "payment",
            "付款方式",
            "付款条件",
            "结算方式",
        ],
    ),
    (
        "incoterms",
        &[
            "incoterms",
            "incoterm",
            "trade terms",
            "贸易术语",
            "价格条款",
            "成交方式",
        ],
    ),
    (
        "email",
        &[
            "email",
            "e-mail",
            "email address",
            "e-mail address",
            "mail",
            "email 1",
            "邮箱",
            "电子邮件",
            "电子邮箱",
            "邮件",
            "联系邮箱",
        ],
    ),
    (
        "phone",
        &[
            "phone",
            "phone 1",
            "phone number",
            "telephone",
            "tel",
            "mobile",
            "mobile phone",
            "cell",
            "电话",
            "联系电话",
            "手机",
            "手机号",
            "手机号码",
            "电话号码",
        ],
    ),
    ("whatsapp", &["whatsapp", "whats app", "whatsapp number"]),
    ("wechat", &["wechat", "we chat", "微信", "微信号"]),
    ("linkedin", &["linkedin", "linked in", "领英"]),
    (
        "role",
        &[
            "job title",
            "position",
            "role",
            "title",
            "职位",
            "职务",
            "岗位",
        ],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_the_field_tables() {
        use crate::fields::{CONSENT_KEYS, CONTACT_KEYS, CUSTOMER_VALUE_KEYS, TITLE_KEYS};
        let mut want: Vec<String> = CUSTOMER_VALUE_KEYS.map(String::from).to_vec();
        want.extend(CONSENT_KEYS.map(|k| format!("consent.{k}")));
        assert_eq!(*TOP_FIELDS, want);
        for t in TOP_FIELDS.iter() {
            assert_eq!(Target::parse(t), Some(Target::Top(t)), "{t}");
        }
        for k in CONTACT_KEYS {
            assert_eq!(
                Target::parse(&format!("contact2.{k}")),
                Some(Target::Contact(2, k))
            );
        }
        for k in TITLE_KEYS {
            assert_eq!(
                Target::parse(&format!("title3.{k}")),
                Some(Target::Title(3, k))
            );
        }
        assert_eq!(ListKind::Contacts.fields(), CONTACT_KEYS);
        assert_eq!(ListKind::Quotes.fields(), crate::fields::QUOTE_KEYS);
        assert_eq!(ListKind::Orders.fields(), crate::fields::ORDER_KEYS);
        assert_eq!(ListKind::Followups.fields(), crate::fields::FOLLOWUP_KEYS);
    }

    #[test]
    fn targets() {
        assert_eq!(Target::parse("email"), Some(Target::Contact(1, "email")));
        assert_eq!(
            Target::parse("contact2.phone"),
            Some(Target::Contact(2, "phone"))
        );
        assert_eq!(
            Target::parse("title1.registration"),
            Some(Target::Title(1, "registration"))
        );
        assert_eq!(
            Target::parse("consent.date"),
            Some(Target::Top("consent.date"))
        );
        assert_eq!(Target::parse("contact0.email"), None);
        assert_eq!(Target::parse("nme"), None);
    }

    #[test]
    fn date_formats() {
        let g = |v: &[&str]| guess_date_format(v.iter().copied());
        assert_eq!(g(&["24/8/20", "2/6/20"]).as_deref(), Some("%d/%m/%y"));
        assert_eq!(g(&["8/24/2020", "2/6/2020"]).as_deref(), Some("%m/%d/%Y"));
        assert_eq!(g(&["2020/8/24"]).as_deref(), Some("%Y/%m/%d"));
        assert_eq!(g(&["2020-08-24"]), None);
        assert_eq!(g(&["24.08.2020"]).as_deref(), Some("%d.%m.%Y"));
        assert_eq!(g(&["soon"]), None);
    }

    #[test]
    fn guesses_chinese_and_english_headers() {
        let h: Vec<String> = [
            "公司名称",
            "联系人",
            "国家",
            "邮箱",
            "电话",
            "负责人",
            "备注",
        ]
        .map(String::from)
        .to_vec();
        let m = Mapping::guess(&h, &[], &[]);
        assert_eq!(m.get(&Target::Top("name")).unwrap().columns, ["公司名称"]);
        assert_eq!(m.get(&Target::Top("owner")).unwrap().columns, ["负责人"]);
        assert_eq!(
            m.get(&Target::Contact(1, "phone")).unwrap().columns,
            ["电话"]
        );
        assert_eq!(m.ignored, ["备注"]);
        let h: Vec<String> = ["First Name", "Last Name", "Company", "Phone 2", "Phone 1"]
            .map(String::from)
            .to_vec();
        let m = Mapping::guess(&h, &[], &[]);
        assert_eq!(
            m.get(&Target::Top("contact")).unwrap().columns,
            ["First Name", "Last Name"]
        );
        assert_eq!(
            m.get(&Target::Contact(1, "phone")).unwrap().columns,
            ["Phone 1"]
        );
        // the printed mapping reads back to the same mapping
        let text = m.to_toml("x.csv", true);
        let back = Mapping::parse(&text, &h, &[]).unwrap();
        assert_eq!(back.fields.len(), m.fields.len());
        for f in &m.fields {
            assert_eq!(back.get(&f.target), Some(f), "{text}");
        }
    }
}
