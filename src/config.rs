//! `folio.toml` (the repository's settings) and `staff.toml` (the team).
//!
//! Every setting is optional; an empty `folio.toml` means all defaults.
//! Unknown keys are refused so that a typo in a setting never passes
//! silently.

use crate::diagnostics::{Code, Diagnostic};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// All settings of `folio.toml`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub naming: NamingConfig,
    pub check: CheckConfig,
    pub duplicates: DuplicatesConfig,
    pub followups: FollowupsConfig,
    /// Keyword rules that suggest tags from follow-up summaries.
    pub tag_rules: Vec<TagRule>,
    pub pool: PoolConfig,
    pub watch: WatchConfig,
}

/// `[watch]`: the resident watcher of the records (`folio watch`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WatchConfig {
    /// Start `folio watch` in the background when a command that can use
    /// it (search, pool claim and assign) finds none running.
    pub auto: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct NamingConfig {
    /// Path template of a record (see `naming`).
    pub template: String,
    /// Fields that tell apart two customers with the same name, contact and
    /// country, in order.
    pub disambiguate: Vec<String>,
}

impl Default for NamingConfig {
    fn default() -> Self {
        NamingConfig {
            template: crate::naming::DEFAULT_TEMPLATE.to_string(),
            disambiguate: crate::naming::DEFAULT_DISAMBIGUATE
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CheckConfig {
    /// Treat warnings as errors (as `--deny-warnings` does).
    pub deny_warnings: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DuplicatesConfig {
    /// Similarity (0 to 1) from which two names are reported as near-identical.
    pub fuzzy_threshold: f64,
    /// Extra free-mail domains, beside the built-in list.
    pub free_mail: Vec<String>,
    /// Words stripped from names like legal forms, such as "Trading",
    /// "Import & Export" or "进出口" (off by default).
    pub strip_words: Vec<String>,
    /// Pairs a team has confirmed are not duplicates.
    pub not_duplicates: Vec<NotDuplicate>,
}

impl Default for DuplicatesConfig {
    fn default() -> Self {
        DuplicatesConfig {
            fuzzy_threshold: 0.95,
            free_mail: Vec::new(),
            strip_words: Vec::new(),
            not_duplicates: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct NotDuplicate {
    pub a: String,
    pub b: String,
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FollowupsConfig {
    /// Days from `created` to the first contact of a new customer.
    pub first_contact_days: i64,
    /// Days to the second follow-up of a customer who did not reply.
    pub no_reply_days: i64,
    /// Days between follow-ups of a customer who replied, by tier.
    pub cadence: BTreeMap<String, i64>,
    /// Default of `folio due --within`.
    pub within_days: i64,
    /// How many of the latest follow-ups feed tag hints.
    pub hint_followups: usize,
}

impl Default for FollowupsConfig {
    fn default() -> Self {
        FollowupsConfig {
            first_contact_days: 3,
            no_reply_days: 7,
            cadence: [("A", 7), ("B", 14), ("C", 30), ("D", 90)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            within_days: 7,
            hint_followups: 3,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TagRule {
    pub keywords: Vec<String>,
    pub tag: String,
    #[serde(default)]
    pub advice: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PoolConfig {
    /// Days without a follow-up by the owner after which a customer may be released.
    pub release_after_days: i64,
    /// Days before release in which a customer is listed as about to be released.
    pub warn_days: i64,
    /// Whether signed customers can be released too.
    pub release_signed: bool,
    pub max_claims_per_day: usize,
    pub max_claims_per_week: usize,
    pub max_claims_per_month: usize,
    /// Customers one salesperson may hold at once.
    pub max_held: usize,
    /// Days in which a salesperson may not reclaim a customer they released.
    pub cooldown_days: i64,
    /// Days of history behind `--weights from-conversion`.
    pub conversion_days: i64,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            release_after_days: 30,
            warn_days: 5,
            release_signed: false,
            max_claims_per_day: 5,
            max_claims_per_week: 20,
            max_claims_per_month: 60,
            max_held: 300,
            cooldown_days: 7,
            conversion_days: 180,
        }
    }
}

/// Parse `folio.toml`; problems become diagnostics on `path`.
pub fn parse_config(text: &str, path: &str) -> Result<Config, Vec<Diagnostic>> {
    let cfg: Config = toml::from_str(text).map_err(|e| vec![toml_error(&e, text, path)])?;
    let mut errs = Vec::new();
    if let Err(e) = crate::naming::Template::new(&cfg.naming.template, &cfg.naming.disambiguate) {
        errs.push(located(
            text,
            path,
            "naming",
            Diagnostic::error(Code::Config, path, format!("naming.template: {e}")),
        ));
    }
    if !(0.0..=1.0).contains(&cfg.duplicates.fuzzy_threshold) {
        errs.push(located(
            text,
            path,
            "duplicates",
            Diagnostic::error(
                Code::Config,
                path,
                "duplicates.fuzzy_threshold must be between 0 and 1",
            ),
        ));
    }
    for t in cfg.followups.cadence.keys() {
        if !["A", "B", "C", "D"].contains(&t.as_str()) {
            errs.push(located(
                text,
                path,
                "followups",
                Diagnostic::error(
                    Code::Config,
                    path,
                    format!("followups.cadence: unknown tier `{t}` (A, B, C or D)"),
                ),
            ));
        }
    }
    for (t, days) in &cfg.followups.cadence {
        if *days < 1 {
            let mut d = Diagnostic::error(
                Code::Config,
                path,
                format!(
                    "followups.cadence.{t} must be a number of days of at least 1 (it is {days})"
                ),
            );
            match cadence_span(text, t) {
                Some(span) => {
                    d = d.with_span(span);
                    d.locate(text);
                }
                None => d = located(text, path, "followups", d),
            }
            errs.push(d);
        }
    }
    for r in &cfg.tag_rules {
        if !crate::schema::is_tag(&r.tag) {
            errs.push(located(
                text,
                path,
                "tag_rules",
                Diagnostic::error(
                    Code::Config,
                    path,
                    format!("tag_rules: `{}` is not a lower-case kebab-case tag", r.tag),
                ),
            ));
        }
    }
    if errs.is_empty() { Ok(cfg) } else { Err(errs) }
}

/// Where the value of `followups.cadence.<tier>` is in `text`.
fn cadence_span(text: &str, tier: &str) -> Option<std::ops::Range<usize>> {
    #[derive(Deserialize)]
    struct Top {
        #[serde(default)]
        followups: Option<Followups>,
    }
    #[derive(Deserialize)]
    struct Followups {
        #[serde(default)]
        cadence: BTreeMap<String, toml::Spanned<toml::Value>>,
    }
    let top: Top = toml::from_str(text).ok()?;
    top.followups?.cadence.get(tier).map(|v| v.span())
}

fn located(text: &str, _path: &str, needle: &str, mut d: Diagnostic) -> Diagnostic {
    if let Some(i) = text
        .find(&format!("[{needle}"))
        .or_else(|| text.find(needle))
    {
        d = d.with_span(i..i + needle.len());
        d.locate(text);
    }
    d
}

/// A diagnostic from a toml/serde error, with the parser's line and column.
pub fn toml_error(e: &toml::de::Error, text: &str, path: &str) -> Diagnostic {
    let mut d = Diagnostic::error(Code::Config, path, e.message().trim_end().to_string());
    if let Some(span) = e.span() {
        d = d.with_span(span);
        d.locate(text);
    }
    d
}

/// One person in `staff.toml`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct StaffMember {
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default = "one")]
    pub weight: u32,
}

fn yes() -> bool {
    true
}
fn one() -> u32 {
    1
}

/// The team, by handle, in file order.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Staff {
    #[serde(default)]
    pub staff: indexmap_like::OrderedMap<StaffMember>,
}

/// A handle staff.toml does not list, or lists as inactive where an
/// active salesperson is needed: the one wording of both.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffError {
    #[error("`{handle}` is not in staff.toml")]
    Unknown {
        handle: String,
        /// A listed handle that is spelled nearly the same.
        suggestion: Option<String>,
    },
    #[error("`{0}` is inactive in staff.toml")]
    Inactive(String),
}

impl StaffError {
    /// What the user can do about it.
    pub fn hint(&self) -> String {
        match self {
            StaffError::Unknown {
                suggestion: Some(h),
                ..
            } => format!("did you mean `{h}`?"),
            StaffError::Unknown { .. } => {
                "add the person to staff.toml or use an existing handle".to_string()
            }
            StaffError::Inactive(_) => "choose an active salesperson".to_string(),
        }
    }
}

impl Staff {
    pub fn get(&self, handle: &str) -> Option<&StaffMember> {
        self.staff.get(handle)
    }

    /// The member with this handle, or why there is none.
    pub fn require(&self, handle: &str) -> Result<&StaffMember, StaffError> {
        self.get(handle).ok_or_else(|| StaffError::Unknown {
            handle: handle.to_string(),
            suggestion: crate::diagnostics::did_you_mean(handle, self.handles())
                .map(str::to_string),
        })
    }

    /// The active member with this handle, or why there is none.
    pub fn require_active(&self, handle: &str) -> Result<&StaffMember, StaffError> {
        match self.require(handle)? {
            m if m.active => Ok(m),
            _ => Err(StaffError::Inactive(handle.to_string())),
        }
    }
    pub fn handles(&self) -> impl Iterator<Item = &str> {
        self.staff.keys()
    }
    pub fn iter(&self) -> impl Iterator<Item = (&str, &StaffMember)> {
        self.staff.iter()
    }
}

/// Parse `staff.toml`.
pub fn parse_staff(text: &str, path: &str) -> Result<Staff, Vec<Diagnostic>> {
    let staff: Staff = toml::from_str(text).map_err(|e| vec![toml_error(&e, text, path)])?;
    let mut errs = Vec::new();
    for (h, m) in staff.iter() {
        let at = |msg: String| {
            located(
                text,
                path,
                &format!("staff.{h}"),
                Diagnostic::error(Code::Config, path, msg),
            )
        };
        if !crate::schema::is_handle(h) {
            errs.push(at(format!(
                "staff handle `{h}` must use a-z, 0-9, _, . and -"
            )));
        }
        if !(1..=crate::pool::MAX_WEIGHT).contains(&m.weight) {
            let field = format!("staff.{h}.weight");
            let mut d = Diagnostic::error(
                Code::Config,
                path,
                format!(
                    "{field} must be a whole number from 1 to {}",
                    crate::pool::MAX_WEIGHT
                ),
            );
            d = match crate::records::find_field(text, &field) {
                Some(span) => {
                    let mut d = d.with_span(span);
                    d.locate(text);
                    d
                }
                None => at(d.message),
            };
            errs.push(d.with_field(field));
        }
        if let Some(e) = &m.email
            && !crate::schema::is_email(e)
        {
            errs.push(at(format!(
                "staff.{h}.email: `{e}` is not an e-mail address"
            )));
        }
    }
    if errs.is_empty() {
        Ok(staff)
    } else {
        Err(errs)
    }
}

/// A small insertion-ordered map, enough for the staff roster.
pub mod indexmap_like {
    use serde::de::{MapAccess, Visitor};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::fmt;

    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct OrderedMap<V>(pub Vec<(String, V)>);

    impl<V> Default for OrderedMap<V> {
        fn default() -> Self {
            OrderedMap(Vec::new())
        }
    }

    impl<V> OrderedMap<V> {
        pub fn get(&self, k: &str) -> Option<&V> {
            self.0.iter().find(|(key, _)| key == k).map(|(_, v)| v)
        }
        pub fn keys(&self) -> impl Iterator<Item = &str> {
            self.0.iter().map(|(k, _)| k.as_str())
        }
        pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
            self.0.iter().map(|(k, v)| (k.as_str(), v))
        }
    }

    impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V2<V>(std::marker::PhantomData<V>);
            impl<'de, V: Deserialize<'de>> Visitor<'de> for V2<V> {
                type Value = OrderedMap<V>;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a table of staff members")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                    let mut out = Vec::new();
                    while let Some((k, v)) = m.next_entry::<String, V>()? {
                        out.push((k, v));
                    }
                    Ok(OrderedMap(out))
                }
            }
            d.deserialize_map(V2(std::marker::PhantomData))
        }
    }

    impl<V: Serialize> Serialize for OrderedMap<V> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_is_all_defaults() {
        let c = parse_config("# nothing\n", "folio.toml").unwrap();
        assert_eq!(c.pool.max_claims_per_day, 5);
        assert_eq!(c.followups.cadence["D"], 90);
        assert_eq!(c.naming.template, crate::naming::DEFAULT_TEMPLATE);
    }

    #[test]
    fn unknown_setting_is_located() {
        let e = parse_config("[pool]\nmax_claim_per_day = 3\n", "folio.toml").unwrap_err();
        assert_eq!(e[0].line, Some(2));
        assert!(
            e[0].message.contains("max_claim_per_day"),
            "{}",
            e[0].message
        );
    }

    #[test]
    fn staff_defaults_and_order() {
        let s = parse_staff("[staff.bob]\nname = \"Bob\"\n[staff.alice]\nname = \"A\"\nactive = false\nweight = 3\n", "staff.toml").unwrap();
        assert_eq!(s.handles().collect::<Vec<_>>(), ["bob", "alice"]);
        assert!(s.get("bob").unwrap().active);
        assert_eq!(s.get("alice").unwrap().weight, 3);
        assert!(parse_staff("[staff.x]\nname = \"X\"\nweight = 0\n", "staff.toml").is_err());
    }
}
