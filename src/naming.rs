//! The team's naming rule: where a customer's file lives and how it is shown.
//!
//! The rule is `Company-Contact-CountryCode` (DOMAIN.md, seed 000). A record's
//! path is computed from a template in `folio.toml`; the default puts every
//! customer under its country's folder with an ASCII slug of the company and
//! contact names. Everything here is pure: no file system access.

/// Default path template. `{qual}` is empty unless two records would share
/// a path, in which case it becomes `--<slug of city or industry>`.
pub const DEFAULT_TEMPLATE: &str = "customers/{cc}/{name}--{contact}{qual}--{cc}.toml";

/// Fields that tell apart two customers with the same name, contact and
/// country, tried in this order (the source articles use city, region or
/// industry).
pub const DEFAULT_DISAMBIGUATE: &[&str] = &["city", "industry"];

/// The placeholders a template may use.
pub const PLACEHOLDERS: &[&str] = &["cc", "CC", "name", "contact", "id", "initial", "qual"];

/// Transliterate to ASCII, lower-case, and turn every run of characters other
/// than `a-z0-9` into one `-`, trimmed at both ends.
pub fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    slug_into(&mut out, s);
    out
}

/// Append the slug of `s` (see `slug`) to `out`.
fn slug_into(out: &mut String, s: &str) {
    // the same as deunicode::deunicode, without copying ASCII text
    let ascii = deunicode::deunicode_with_tofu_cow(s, "[?]");
    let start = out.len();
    let mut dash = false;
    for c in ascii.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            if dash && out.len() > start {
                out.push('-');
            }
            dash = false;
            out.push(c);
        } else {
            dash = true;
        }
    }
}

/// An id as it goes into a path: as written, except that what could take
/// the path elsewhere (`/`, `\\`, control characters) becomes `_`, and a
/// leading dot too (no `..` or hidden component); `_` for an empty id.
fn id_into(out: &mut String, id: &str) {
    let start = out.len();
    for c in id.chars() {
        let unsafe_here =
            matches!(c, '/' | '\\') || c.is_control() || (c == '.' && out.len() == start);
        out.push(if unsafe_here { '_' } else { c });
    }
    if out.len() == start {
        out.push('_');
    }
}

/// The parts of a record the naming rule reads.
#[derive(Debug, Clone, Copy)]
pub struct NameParts<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub contact: &'a str,
    pub country: &'a str,
    pub city: Option<&'a str>,
    pub industry: Option<&'a str>,
}

impl<'a> NameParts<'a> {
    fn field(&self, f: &str) -> Option<&'a str> {
        match f {
            "city" => self.city,
            "industry" => self.industry,
            _ => None,
        }
        .filter(|v| !slug(v).is_empty())
    }
}

/// `<name>-<contact>-<COUNTRY>`, e.g. `ABC Corp-John Doe-US`.
pub fn display_name(name: &str, contact: &str, country: &str) -> String {
    format!("{name}-{contact}-{country}")
}

/// A checked path template.
#[derive(Debug, Clone)]
pub struct Template {
    raw: String,
    disambiguate: Vec<String>,
}

/// Why a template was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown placeholder `{{{0}}}` (known: {known})", known = PLACEHOLDERS.iter().map(|p| format!("{{{p}}}")).collect::<Vec<_>>().join(", "))]
    UnknownPlaceholder(String),
    #[error("unclosed `{{` in template")]
    Unclosed,
    #[error(
        "the template must contain {{name}} or {{id}} so that every customer gets a file of its own"
    )]
    NotUnique,
    #[error("the template must end in `.toml`")]
    NotToml,
    #[error("the template must keep records under customers/ (no absolute path, no `..`)")]
    Escapes,
    #[error("`{0}` cannot tell customers apart (use city or industry)")]
    BadDisambiguator(String),
}

impl Default for Template {
    fn default() -> Self {
        Template {
            raw: DEFAULT_TEMPLATE.to_string(),
            disambiguate: DEFAULT_DISAMBIGUATE.iter().map(|s| s.to_string()).collect(),
        }
    }
}

impl Template {
    pub fn new(raw: &str, disambiguate: &[String]) -> Result<Template, TemplateError> {
        let mut rest = raw;
        let mut seen_unique = false;
        while let Some(start) = rest.find('{') {
            let after = &rest[start + 1..];
            let end = after.find('}').ok_or(TemplateError::Unclosed)?;
            let name = &after[..end];
            if !PLACEHOLDERS.contains(&name) {
                return Err(TemplateError::UnknownPlaceholder(name.to_string()));
            }
            seen_unique |= name == "name" || name == "id";
            rest = &after[end + 1..];
        }
        if !seen_unique {
            return Err(TemplateError::NotUnique);
        }
        if !raw.ends_with(".toml") {
            return Err(TemplateError::NotToml);
        }
        let under = raw
            .strip_prefix(crate::repo::CUSTOMERS_DIR)
            .is_some_and(|r| r.starts_with('/'));
        if !under
            || raw
                .split('/')
                .any(|c| c.is_empty() || c == ".." || c == ".")
        {
            return Err(TemplateError::Escapes);
        }
        for d in disambiguate {
            if !DEFAULT_DISAMBIGUATE.contains(&d.as_str()) {
                return Err(TemplateError::BadDisambiguator(d.clone()));
            }
        }
        Ok(Template {
            raw: raw.to_string(),
            disambiguate: disambiguate.to_vec(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The path of one record with a given qualifier (empty for none).
    /// A folder or file name longer than [`MAX_NAME`] bytes is cut to fit
    /// (see [`fit`]).
    pub fn render(&self, p: &NameParts, qual: &str) -> String {
        self.render_with(p, qual, Cut::Fit)
    }

    fn render_with(&self, p: &NameParts, qual: &str, cut: Cut) -> String {
        // the slug of a part, or of the id when the part's is empty; slugs
        // are lower case, so the country needs no lower-casing first
        let slug_or_id = |out: &mut String, s: &str| {
            let at = out.len();
            slug_into(out, s);
            if out.len() == at {
                slug_into(out, p.id);
            }
        };
        let mut out = String::with_capacity(self.raw.len() + 48);
        // where the slugs are: what may be cut
        let mut slugs: Vec<(usize, usize)> = Vec::new();
        let mut id_at: Vec<usize> = Vec::new();
        let mut rest = self.raw.as_str();
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            let end = after.find('}').unwrap_or(after.len());
            let at = out.len();
            match &after[..end] {
                "cc" => slug_or_id(&mut out, p.country),
                "CC" => {
                    slug_into(&mut out, p.country);
                    if out.len() == at {
                        slug_into(&mut out, p.id);
                    } else {
                        out[at..].make_ascii_uppercase();
                    }
                }
                "name" => slug_or_id(&mut out, p.name),
                "contact" => slug_or_id(&mut out, p.contact),
                "id" => {
                    id_at.push(at);
                    id_into(&mut out, p.id);
                }
                "initial" => {
                    let s = slug(p.name);
                    out.push(s.chars().next().unwrap_or('_'));
                }
                "qual" if !qual.is_empty() => {
                    out.push_str("--");
                    slugs.push((out.len(), out.len() + qual.len()));
                    out.push_str(qual);
                }
                _ => {}
            }
            if matches!(&after[..end], "cc" | "CC" | "name" | "contact") && out.len() > at {
                slugs.push((at, out.len()));
            }
            rest = after.get(end + 1..).unwrap_or("");
        }
        out.push_str(rest);
        if cut != Cut::None && out.split('/').any(|c| c.len() > MAX_NAME) {
            let tie = (cut == Cut::FitWithId).then_some(p.id);
            out = fit(&out, &slugs, &id_at, tie);
        }
        out
    }

    fn uses_qual(&self) -> bool {
        self.raw.contains("{qual}")
    }
}

/// The longest folder or file name a rule path has, in bytes (`.toml`
/// and the `--` separators included): well under the 255 bytes most file
/// systems allow, with room for a copy's or an editor's suffix.
pub const MAX_NAME: usize = 200;

/// Whether [`Template::render_with`] cuts long names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    None,
    Fit,
    /// Cut, and end the first cut slug in the id: for records whose cut
    /// names collide while their whole names differ.
    FitWithId,
}

/// Cut the slugs of every folder or file name of `path` longer than
/// [`MAX_NAME`] bytes so that it fits: the longest slugs are cut first
/// (at a character boundary, without a trailing `-`). With `tie` (an id),
/// unless the name holds the id already, the first cut slug ends in
/// `-<id>`, so that two customers whose long names start alike do not get
/// one file. `slugs` are the byte ranges of the slugs, in order; `id_at`
/// where the template put the id.
fn fit(path: &str, slugs: &[(usize, usize)], id_at: &[usize], tie: Option<&str>) -> String {
    let mut out = String::with_capacity(path.len());
    let mut start = 0;
    for comp in path.split('/') {
        let end = start + comp.len();
        if start > 0 {
            out.push('/');
        }
        let mine: Vec<(usize, usize)> = slugs
            .iter()
            .copied()
            .filter(|&(a, b)| a >= start && b <= end)
            .collect();
        if comp.len() <= MAX_NAME || mine.is_empty() {
            out.push_str(comp);
            start = end + 1;
            continue;
        }
        let tie = match tie {
            Some(id) if !id_at.iter().any(|&i| i >= start && i < end) => {
                let s = slug(id);
                if s.is_empty() { s } else { format!("-{s}") }
            }
            _ => String::new(),
        };
        let slug_len: usize = mine.iter().map(|(a, b)| b - a).sum();
        let fixed = comp.len() - slug_len + tie.len();
        // share what is left among the slugs, the short ones whole
        let mut budget = MAX_NAME.saturating_sub(fixed).max(mine.len());
        let mut by_len: Vec<usize> = (0..mine.len()).collect();
        by_len.sort_by_key(|&k| mine[k].1 - mine[k].0);
        let mut keep = vec![0; mine.len()];
        for (n, &k) in by_len.iter().enumerate() {
            let share = budget / (mine.len() - n);
            keep[k] = (mine[k].1 - mine[k].0).min(share);
            budget -= keep[k];
        }
        let mut at = start;
        let mut tied = false;
        for (k, &(a, b)) in mine.iter().enumerate() {
            out.push_str(&path[at..a]);
            let s = &path[a..b];
            if keep[k] < s.len() {
                let mut cut = keep[k];
                while !s.is_char_boundary(cut) {
                    cut -= 1;
                }
                out.push_str(s[..cut].trim_end_matches('-'));
                if !tied {
                    out.push_str(&tie);
                    tied = true;
                }
            } else {
                out.push_str(s);
            }
            at = b;
        }
        out.push_str(&path[at..end]);
        start = end + 1;
    }
    out
}

/// The outcome of applying the rule to every record at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RulePath {
    /// The path the record must have.
    Path(String),
    /// Records that would share a path and have nothing to tell them apart.
    Ambiguous { base: String, others: Vec<usize> },
}

/// Rule paths for all records together: two records whose base paths collide
/// (ignoring letter case) are told apart by the first disambiguating field
/// in which they differ, so that two real customers with the same name,
/// contact and country both get a file; records whose names differ but
/// collide once cut to [`MAX_NAME`] are told apart by their ids.
pub fn rule_paths(template: &Template, parts: &[NameParts]) -> Vec<RulePath> {
    use rayon::prelude::*;
    let base: Vec<String> = parts.par_iter().map(|p| template.render(p, "")).collect();
    // Records whose base paths are equal ignoring case, found by sorting
    // (each group is settled on its own, so their order does not matter).
    let lower: Vec<String> = base
        .par_iter()
        .map(|b| {
            if b.is_ascii() {
                b.to_ascii_lowercase()
            } else {
                b.to_lowercase()
            }
        })
        .collect();
    let mut order: Vec<usize> = (0..base.len()).collect();
    order.par_sort_unstable_by(|&x, &y| lower[x].cmp(&lower[y]).then(x.cmp(&y)));
    let groups: Vec<&[usize]> = order
        .chunk_by(|&x, &y| lower[x] == lower[y])
        .filter(|m| m.len() > 1)
        .collect();
    let mut out: Vec<RulePath> = base.into_iter().map(RulePath::Path).collect();
    for members in groups {
        // Names that collide only once cut to fit are told apart by the
        // id: the record with the smallest id keeps the cut name (the
        // first one made, for ULIDs), the others' end in their ids.
        let mut whole: Vec<String> = members
            .iter()
            .map(|&i| {
                template
                    .render_with(&parts[i], "", Cut::None)
                    .to_lowercase()
            })
            .collect();
        whole.sort();
        whole.dedup();
        if whole.len() == members.len() {
            let first = members.iter().copied().min_by_key(|&i| parts[i].id);
            for &i in members {
                if Some(i) != first {
                    out[i] = RulePath::Path(template.render_with(&parts[i], "", Cut::FitWithId));
                }
            }
            continue;
        }
        let chosen = template
            .disambiguate
            .iter()
            .find(|f| {
                let mut vals: Vec<String> = members
                    .iter()
                    .map(|&i| parts[i].field(f).map(slug).unwrap_or_default())
                    .collect();
                vals.sort();
                vals.dedup();
                vals.len() == members.len()
            })
            .filter(|_| template.uses_qual());
        for &i in members {
            let base_i = match &out[i] {
                RulePath::Path(b) | RulePath::Ambiguous { base: b, .. } => b.clone(),
            };
            out[i] = match chosen {
                Some(f) => match parts[i].field(f) {
                    Some(v) => RulePath::Path(template.render(&parts[i], &slug(v))),
                    // the one member without the field keeps the plain path
                    None => RulePath::Path(base_i),
                },
                None => RulePath::Ambiguous {
                    base: base_i,
                    others: members.iter().copied().filter(|&j| j != i).collect(),
                },
            };
        }
    }
    out
}

/// The rule path of one record among others (for `folio new`).
pub fn rule_path_among(template: &Template, me: &NameParts, others: &[NameParts]) -> RulePath {
    let mut all: Vec<NameParts> = others.to_vec();
    all.push(*me);
    let n = all.len() - 1;
    match rule_paths(template, &all).swap_remove(n) {
        RulePath::Ambiguous { base, others } => RulePath::Ambiguous { base, others },
        p => p,
    }
}

/// Why a path cannot be checked out on every system the team uses, if it
/// cannot: Windows reserved names, characters Windows refuses, and a
/// component ending in a dot or space.
pub fn unportable(path: &str) -> Option<String> {
    const RESERVED: &[&str] = &["con", "prn", "aux", "nul"];
    for comp in path.split('/') {
        if let Some(c) = comp
            .chars()
            .find(|c| "<>:\"|?*\\".contains(*c) || c.is_control())
        {
            return Some(format!(
                "`{comp}` contains `{}`, which Windows does not allow",
                c.escape_default()
            ));
        }
        if comp.ends_with('.') || comp.ends_with(' ') {
            return Some(format!(
                "`{comp}` ends in a dot or space, which Windows drops"
            ));
        }
        let stem = comp.split('.').next().unwrap_or("").as_bytes();
        let numbered = stem.len() == 4
            && (stem[..3].eq_ignore_ascii_case(b"com") || stem[..3].eq_ignore_ascii_case(b"lpt"))
            && stem[3].is_ascii_digit()
            && stem[3] != b'0';
        if RESERVED
            .iter()
            .any(|r| stem.eq_ignore_ascii_case(r.as_bytes()))
            || numbered
        {
            return Some(format!("`{comp}` is a reserved device name on Windows"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts<'a>(name: &'a str, contact: &'a str, cc: &'a str) -> NameParts<'a> {
        NameParts {
            id: "X1",
            name,
            contact,
            country: cc,
            city: None,
            industry: None,
        }
    }

    #[test]
    fn slug_transliterates_and_folds() {
        assert_eq!(slug("ABC Corp."), "abc-corp");
        assert_eq!(slug("Müller & Söhne GmbH"), "muller-sohne-gmbh");
        assert_eq!(slug("  --Weiß--  "), "weiss");
        assert_eq!(slug("上海"), "shang-hai");
        assert_eq!(slug("Иван"), "ivan");
        assert_eq!(slug("!!!"), "");
    }

    #[test]
    fn default_rule_path_and_display() {
        let t = Template::default();
        let p = parts("ABC Corp", "John Doe", "US");
        assert_eq!(t.render(&p, ""), "customers/us/abc-corp--john-doe--us.toml");
        assert_eq!(
            display_name("ABC Corp", "John Doe", "US"),
            "ABC Corp-John Doe-US"
        );
    }

    #[test]
    fn empty_slug_falls_back_to_id() {
        let t = Template::default();
        let p = parts("???", "John", "US");
        assert_eq!(t.render(&p, ""), "customers/us/x1--john--us.toml");
    }

    #[test]
    fn long_names_are_cut_and_collisions_told_apart_by_id() {
        let t = Template::default();
        let long = "A".repeat(300);
        let p = parts(&long, "John Doe", "US");
        let file = |path: &str| path.rsplit('/').next().unwrap().to_string();
        let path = t.render(&p, "");
        assert_eq!(file(&path).len(), MAX_NAME);
        assert_eq!(
            file(&path),
            format!("{}--john-doe--us.toml", "a".repeat(MAX_NAME - 19))
        );
        // both long: each gets its share
        let c = "b".repeat(300);
        let both = t.render(&parts(&long, &c, "US"), "");
        assert_eq!(
            file(&both),
            format!("{}--{}--us.toml", "a".repeat(94), "b".repeat(95))
        );
        // two names alike up to the cut: the id tells them apart
        let other = format!("{long} Two");
        let mut q = parts(&other, "John Doe", "US");
        q.id = "X2";
        let r = rule_paths(&t, &[q, p]);
        assert_eq!(
            r,
            [
                RulePath::Path(format!(
                    "customers/us/{}-x2--john-doe--us.toml",
                    "a".repeat(MAX_NAME - 22)
                )),
                RulePath::Path(path)
            ]
        );
        // the same whole name is not told apart by the id
        let r = rule_paths(&t, &[p, p]);
        assert!(matches!(r[0], RulePath::Ambiguous { .. }));
        // the id in the name already tells records apart
        let t = Template::new("customers/{cc}/{name}-{id}.toml", &[]).unwrap();
        let r = rule_paths(&t, &[p, q]);
        assert_eq!(
            r[1],
            RulePath::Path(format!("customers/us/{}-X2.toml", "a".repeat(MAX_NAME - 8)))
        );
    }

    #[test]
    fn collisions_are_told_apart_by_city() {
        let t = Template::default();
        let mut a = parts("ABC", "Jo", "DE");
        let mut b = parts("ABC", "Jo", "DE");
        a.city = Some("Hamburg");
        b.city = Some("München");
        let r = rule_paths(&t, &[a, b]);
        assert_eq!(
            r[0],
            RulePath::Path("customers/de/abc--jo--hamburg--de.toml".into())
        );
        assert_eq!(
            r[1],
            RulePath::Path("customers/de/abc--jo--munchen--de.toml".into())
        );
    }

    #[test]
    fn collisions_without_detail_are_ambiguous() {
        let t = Template::default();
        let r = rule_paths(&t, &[parts("ABC", "Jo", "DE"), parts("abc", "JO", "DE")]);
        assert!(matches!(r[0], RulePath::Ambiguous { .. }));
    }

    #[test]
    fn templates_are_checked() {
        assert!(Template::new("customers/{cc}/{initial}/{name}.toml", &[]).is_ok());
        assert_eq!(
            Template::new("customers/{nme}.toml", &[]).unwrap_err(),
            TemplateError::UnknownPlaceholder("nme".into())
        );
        assert_eq!(
            Template::new("customers/{cc}.toml", &[]).unwrap_err(),
            TemplateError::NotUnique
        );
        assert_eq!(
            Template::new("../{name}.toml", &[]).unwrap_err(),
            TemplateError::Escapes
        );
        for outside in [
            "{name}.toml",
            ".git/hooks/{id}.toml",
            "customers//{id}.toml",
        ] {
            assert_eq!(
                Template::new(outside, &[]).unwrap_err(),
                TemplateError::Escapes,
                "{outside}"
            );
        }
    }

    #[test]
    fn an_id_never_takes_a_record_out_of_its_folder() {
        let t = Template::new("customers/{id}.toml", &[]).unwrap();
        let at = |id: &str| {
            t.render(
                &NameParts {
                    id,
                    name: "n",
                    contact: "c",
                    country: "DE",
                    city: None,
                    industry: None,
                },
                "",
            )
        };
        assert_eq!(at("../../../../tmp/x"), "customers/_._.._.._.._tmp_x.toml");
        assert_eq!(at(".."), "customers/_..toml");
        assert_eq!(at("A\\b\n"), "customers/A_b_.toml");
        assert_eq!(at(""), "customers/_.toml");
        assert_eq!(at("Ü-7"), "customers/Ü-7.toml");
    }

    #[test]
    fn unportable_paths() {
        assert!(unportable("customers/us/con.toml").is_some());
        assert!(unportable("customers/us/a:b.toml").is_some());
        assert!(unportable("customers/us./a.toml").is_some());
        assert!(unportable("customers/us/com1.toml").is_some());
        assert!(unportable("customers/us/company.toml").is_none());
    }
}
