//! The follow-up SOP as pure rules: when each customer's next follow-up is
//! due, and which tags the words of recent follow-ups suggest.
//!
//! The rules (defaults in brackets, each configurable in `[followups]` of
//! folio.toml) come from the source articles: a new customer is contacted
//! within [3] days, a customer who did not reply gets a second follow-up
//! within [7] days, and everyone else is followed up on their tier's
//! cadence [A 7, B 14, C 30, D 90 days]. Nothing here reads files or the
//! clock: the caller passes the records and the as-of date.

use crate::config::{FollowupsConfig, TagRule};
use crate::records::{Customer, Followup};
use crate::repo::Record;
use chrono::{Days, NaiveDate};
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

/// Which rule decided a due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The record's `next_followup` is set.
    NextFollowup,
    /// No follow-up yet: `created` + first-contact days.
    FirstContact,
    /// The latest follow-up planned the next one (`next`).
    PlannedNext,
    /// The latest follow-up got no reply: its date + no-reply days.
    NoReply,
    /// The latest follow-up got a reply: its date + the tier's cadence.
    Cadence,
}

impl Rule {
    /// The stable name used in JSON, CSV and ICS.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::NextFollowup => "next_followup",
            Rule::FirstContact => "first_contact",
            Rule::PlannedNext => "planned_next",
            Rule::NoReply => "no_reply",
            Rule::Cadence => "cadence",
        }
    }
}

/// When a customer's next follow-up is due, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub date: NaiveDate,
    pub rule: Rule,
    /// The date the rule counted from (`created`, or the latest follow-up's
    /// date); `None` for `next_followup`.
    pub from: Option<NaiveDate>,
    /// The days the rule added to `from` (0 for a planned date).
    pub days: i64,
}

impl Due {
    /// Days overdue at `as_of` (negative when not yet due).
    pub fn days_overdue(&self, as_of: NaiveDate) -> i64 {
        (as_of - self.date).num_days()
    }

    /// One line saying why the follow-up is due then.
    pub fn reason(&self, tier: &str) -> String {
        let from = self.from.map(|d| d.to_string()).unwrap_or_default();
        match self.rule {
            Rule::NextFollowup => "next_followup is set on the record".to_string(),
            Rule::FirstContact => format!(
                "new customer without a follow-up: first contact within {} days of created ({from})",
                self.days
            ),
            Rule::PlannedNext => format!("planned by the follow-up of {from} (next)"),
            Rule::NoReply => format!(
                "no reply to the follow-up of {from}: second follow-up {} days later",
                self.days
            ),
            Rule::Cadence => format!(
                "tier {tier} cadence: {} days after the follow-up of {from}",
                self.days
            ),
        }
    }
}

/// The tier's cadence in days: folio.toml's value, else the default.
pub fn cadence_days(cfg: &FollowupsConfig, tier: &str) -> Option<i64> {
    cfg.cadence.get(tier).copied().or(match tier {
        "A" => Some(7),
        "B" => Some(14),
        "C" => Some(30),
        "D" => Some(90),
        _ => None,
    })
}

fn add_days(d: NaiveDate, n: i64) -> Option<NaiveDate> {
    if n >= 0 {
        d.checked_add_days(Days::new(n as u64))
    } else {
        d.checked_sub_days(Days::new(n.unsigned_abs()))
    }
}

/// The latest dated follow-up; on a tie, the later one in the file.
pub fn latest(c: &Customer) -> Option<&Followup> {
    c.latest_followup()
}

/// When the customer's next follow-up is due; `None` when nothing is due
/// (stage lost or tier E) or when the record lacks what a rule needs (no
/// `created`, or a tier without a cadence).
pub fn due(c: &Customer, cfg: &FollowupsConfig) -> Option<Due> {
    if c.stage == "lost" || c.tier == "E" {
        return None;
    }
    if let Some(date) = c.next_followup {
        return Some(Due {
            date,
            rule: Rule::NextFollowup,
            from: None,
            days: 0,
        });
    }
    let Some(last) = latest(c) else {
        let created = c.created?;
        let days = cfg.first_contact_days;
        return Some(Due {
            date: add_days(created, days)?,
            rule: Rule::FirstContact,
            from: Some(created),
            days,
        });
    };
    let at = last.date?;
    if let Some(next) = last.next {
        return Some(Due {
            date: next,
            rule: Rule::PlannedNext,
            from: Some(at),
            days: (next - at).num_days(),
        });
    }
    let (rule, days) = if last.replied == Some(false) {
        (Rule::NoReply, cfg.no_reply_days)
    } else {
        (Rule::Cadence, cadence_days(cfg, &c.tier)?)
    };
    Some(Due {
        date: add_days(at, days)?,
        rule,
        from: Some(at),
        days,
    })
}

/// Where a due date stands at `as_of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// due < as_of
    Overdue,
    /// as_of <= due <= as_of + within
    Soon,
    /// later
    Later,
}

pub fn urgency(due: NaiveDate, as_of: NaiveDate, within_days: i64) -> Urgency {
    if due < as_of {
        Urgency::Overdue
    } else if (due - as_of).num_days() <= within_days {
        Urgency::Soon
    } else {
        Urgency::Later
    }
}

/// Text folded for keyword matching: NFKC, then lower case (full Unicode
/// case folding is not needed for the languages the rules are written in).
pub fn fold(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.nfkc().collect::<String>().to_lowercase()
    }
}

/// A tag a customer's recent follow-ups suggest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hint {
    pub tag: String,
    pub advice: String,
    /// The keyword (as written in folio.toml) that matched.
    pub keyword: String,
    /// The date of the follow-up it matched in.
    pub date: Option<NaiveDate>,
}

/// Tag rules prepared for matching.
#[derive(Debug, Clone, Default)]
pub struct Tagger {
    rules: Vec<(TagRule, Vec<String>)>,
    recent: usize,
}

impl Tagger {
    pub fn new(rules: &[TagRule], cfg: &FollowupsConfig) -> Tagger {
        Tagger {
            rules: rules
                .iter()
                .map(|r| {
                    let kws = r
                        .keywords
                        .iter()
                        .map(|k| fold(k.trim()))
                        .filter(|k| !k.is_empty())
                        .collect();
                    (r.clone(), kws)
                })
                .collect(),
            recent: cfg.hint_followups,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The tags the customer's recent follow-ups trigger that the record
    /// does not carry yet, one per tag, in rule order.
    pub fn hints(&self, c: &Customer) -> Vec<Hint> {
        if self.rules.is_empty() || self.recent == 0 {
            return Vec::new();
        }
        let recent = recent_followups(c, self.recent);
        let texts: Vec<(Option<NaiveDate>, String)> = recent
            .iter()
            .filter_map(|f| f.summary.as_deref().map(|s| (f.date, fold(s))))
            .collect();
        let mut out: Vec<Hint> = Vec::new();
        for (rule, kws) in &self.rules {
            if c.tags.iter().any(|t| t == &rule.tag) || out.iter().any(|h| h.tag == rule.tag) {
                continue;
            }
            // newest follow-up first, so the hint names the latest evidence
            let found = texts.iter().rev().find_map(|(date, text)| {
                kws.iter()
                    .position(|k| text.contains(k.as_str()))
                    .map(|i| (*date, i))
            });
            if let Some((date, i)) = found {
                out.push(Hint {
                    tag: rule.tag.clone(),
                    advice: rule.advice.clone(),
                    keyword: rule
                        .keywords
                        .iter()
                        .filter(|k| !k.trim().is_empty())
                        .nth(i)
                        .cloned()
                        .unwrap_or_default(),
                    date,
                });
            }
        }
        out
    }
}

/// The last `n` dated follow-ups by date (ties in file order), oldest first.
pub fn recent_followups(c: &Customer, n: usize) -> Vec<&Followup> {
    let mut dated: Vec<&Followup> = c.followups.iter().filter(|f| f.date.is_some()).collect();
    // stable: equal dates keep file order
    dated.sort_by_key(|f| f.date);
    let skip = dated.len().saturating_sub(n);
    dated.split_off(skip)
}

/// One customer in `folio due`'s list.
#[derive(Debug, Clone)]
pub struct DueItem<'a> {
    pub record: &'a Record,
    pub due: Due,
    pub days_overdue: i64,
    pub urgency: Urgency,
}

/// What `folio due` lists.
#[derive(Debug, Clone)]
pub struct DueQuery<'a> {
    pub as_of: NaiveDate,
    pub within_days: i64,
    pub overdue_only: bool,
    /// `Some(Some(h))`: owner h; `Some(None)`: the public pool; `None`: all.
    pub owner: Option<Option<&'a str>>,
}

/// Every customer whose follow-up is overdue or due within the window,
/// grouped by owner (handles in order, the pool last), most overdue first,
/// then by path. Also returns the records that should have a due date but
/// lack what the rules need (no `created`, or a tier without a cadence).
pub fn due_list<'a>(
    records: &'a [Record],
    cfg: &FollowupsConfig,
    q: &DueQuery,
) -> (Vec<DueItem<'a>>, Vec<&'a Record>) {
    let mut items = Vec::new();
    let mut undated = Vec::new();
    for r in records {
        let c = &r.customer;
        if let Some(want) = q.owner
            && c.owner.as_deref() != want
        {
            continue;
        }
        let Some(due) = due(c, cfg) else {
            if c.stage != "lost" && c.tier != "E" {
                undated.push(r);
            }
            continue;
        };
        let urgency = urgency(due.date, q.as_of, q.within_days);
        let keep = match urgency {
            Urgency::Overdue => true,
            Urgency::Soon => !q.overdue_only,
            Urgency::Later => false,
        };
        if keep {
            items.push(DueItem {
                record: r,
                days_overdue: due.days_overdue(q.as_of),
                due,
                urgency,
            });
        }
    }
    items.sort_by(|a, b| {
        let ka = (
            a.record.customer.owner.is_none(),
            &a.record.customer.owner,
            -a.days_overdue,
            &a.record.path,
        );
        let kb = (
            b.record.customer.owner.is_none(),
            &b.record.customer.owner,
            -b.days_overdue,
            &b.record.path,
        );
        ka.cmp(&kb)
    });
    (items, undated)
}

/// A due item as JSON and CSV write it (the documented shape).
#[derive(Debug, Clone, Serialize)]
pub struct DueRow {
    pub id: String,
    pub path: String,
    pub display_name: String,
    pub owner: Option<String>,
    pub tier: String,
    pub stage: String,
    pub due: NaiveDate,
    pub days_overdue: i64,
    pub rule: &'static str,
}

impl DueItem<'_> {
    pub fn row(&self) -> DueRow {
        let c = &self.record.customer;
        DueRow {
            id: c.id.clone(),
            path: self.record.path.clone(),
            display_name: c.display_name(),
            owner: c.owner.clone(),
            tier: c.tier.clone(),
            stage: c.stage.clone(),
            due: self.due.date,
            days_overdue: self.days_overdue,
            rule: self.due.rule.as_str(),
        }
    }
}

/// The list as CSV, with a header row; the pool's owner is empty. Cells
/// neutralised unless `raw` (see [`crate::export::csv_row`]).
pub fn to_csv(items: &[DueItem], raw: bool) -> String {
    use crate::export::csv_row;
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = csv_row(
        &mut w,
        [
            "id",
            "path",
            "display_name",
            "owner",
            "tier",
            "stage",
            "due",
            "days_overdue",
            "rule",
        ],
        raw,
    );
    for i in items {
        let r = i.row();
        let _ = csv_row(
            &mut w,
            [
                r.id,
                r.path,
                r.display_name,
                r.owner.unwrap_or_default(),
                r.tier,
                r.stage,
                r.due.to_string(),
                r.days_overdue.to_string(),
                r.rule.to_string(),
            ],
            raw,
        );
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// RFC 5545 TEXT escaping.
fn ics_text(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            ';' => o.push_str("\\;"),
            ',' => o.push_str("\\,"),
            '\n' => o.push_str("\\n"),
            '\r' => {}
            c => o.push(c),
        }
    }
    o
}

/// One content line, folded at 75 octets, ending in CRLF.
fn ics_line(out: &mut String, line: &str) {
    crate::export::fold_line(line, out);
}

/// The list as an iCalendar file: one all-day event per item on its due
/// date. UIDs (customer id and due date) and DTSTAMP (the as-of date) are
/// stable, so re-importing updates events instead of duplicating them.
pub fn to_ics(items: &[DueItem], as_of: NaiveDate) -> String {
    let mut o = String::new();
    let stamp = format!("{}T000000Z", as_of.format("%Y%m%d"));
    for l in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//folio//folio due//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:folio follow-ups",
    ] {
        ics_line(&mut o, l);
    }
    for i in items {
        let c = &i.record.customer;
        let day = i.due.date.format("%Y%m%d").to_string();
        let end = i
            .due
            .date
            .succ_opt()
            .unwrap_or(i.due.date)
            .format("%Y%m%d")
            .to_string();
        let owner = c.owner.as_deref().unwrap_or("public pool");
        let uid: String =
            c.id.chars()
                .map(|ch| {
                    if ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' {
                        ch
                    } else {
                        '_'
                    }
                })
                .collect();
        let desc = format!(
            "{} ({}).\nRecord: {}\nOwner: {owner}; tier {}; stage {}",
            i.due.reason(&c.tier),
            i.due.rule.as_str(),
            i.record.path,
            c.tier,
            c.stage
        );
        ics_line(&mut o, "BEGIN:VEVENT");
        ics_line(&mut o, &format!("UID:{uid}-{day}@folio"));
        ics_line(&mut o, &format!("DTSTAMP:{stamp}"));
        ics_line(&mut o, &format!("DTSTART;VALUE=DATE:{day}"));
        ics_line(&mut o, &format!("DTEND;VALUE=DATE:{end}"));
        ics_line(
            &mut o,
            &format!(
                "SUMMARY:{}",
                ics_text(&format!("Follow up {} ({owner})", c.display_name()))
            ),
        );
        ics_line(&mut o, &format!("DESCRIPTION:{}", ics_text(&desc)));
        ics_line(&mut o, &format!("CATEGORIES:{}", ics_text(owner)));
        ics_line(&mut o, "TRANSP:TRANSPARENT");
        ics_line(&mut o, "END:VEVENT");
    }
    ics_line(&mut o, "END:VCALENDAR");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn fu(date: &str, replied: Option<bool>, next: Option<&str>, summary: &str) -> Followup {
        Followup {
            date: Some(d(date)),
            replied,
            next: next.map(d),
            summary: Some(summary.to_string()),
            ..Default::default()
        }
    }

    fn cust(tier: &str, stage: &str) -> Customer {
        Customer {
            id: "C1".into(),
            tier: tier.into(),
            stage: stage.into(),
            created: Some(d("2026-01-01")),
            ..Default::default()
        }
    }

    #[test]
    fn lost_and_tier_e_are_never_due() {
        let cfg = FollowupsConfig::default();
        let mut c = cust("B", "lost");
        c.next_followup = Some(d("2026-02-01"));
        assert_eq!(due(&c, &cfg), None);
        let c = cust("E", "contacted");
        assert_eq!(due(&c, &cfg), None);
    }

    #[test]
    fn each_rule() {
        let cfg = FollowupsConfig::default();
        let mut c = cust("B", "contacted");
        assert_eq!(due(&c, &cfg).unwrap().date, d("2026-01-04"));
        assert_eq!(due(&c, &cfg).unwrap().rule, Rule::FirstContact);
        c.followups
            .push(fu("2026-01-05", Some(false), None, "sent catalog"));
        let x = due(&c, &cfg).unwrap();
        assert_eq!((x.date, x.rule), (d("2026-01-12"), Rule::NoReply));
        c.followups[0].replied = Some(true);
        let x = due(&c, &cfg).unwrap();
        assert_eq!((x.date, x.rule), (d("2026-01-19"), Rule::Cadence));
        c.followups[0].replied = None; // unknown counts as replied
        assert_eq!(due(&c, &cfg).unwrap().rule, Rule::Cadence);
        c.followups[0].next = Some(d("2026-03-01"));
        let x = due(&c, &cfg).unwrap();
        assert_eq!((x.date, x.rule), (d("2026-03-01"), Rule::PlannedNext));
        c.next_followup = Some(d("2026-02-02"));
        let x = due(&c, &cfg).unwrap();
        assert_eq!((x.date, x.rule), (d("2026-02-02"), Rule::NextFollowup));
        assert_eq!(x.days_overdue(d("2026-02-05")), 3);
    }

    #[test]
    fn cadence_per_tier_and_partial_config() {
        let cfg = FollowupsConfig {
            cadence: [("A".to_string(), 5)].into_iter().collect(),
            ..Default::default()
        };
        assert_eq!(cadence_days(&cfg, "A"), Some(5));
        assert_eq!(cadence_days(&cfg, "C"), Some(30));
        assert_eq!(cadence_days(&cfg, "D"), Some(90));
        assert_eq!(cadence_days(&cfg, "X"), None);
    }

    #[test]
    fn ties_take_the_later_one_in_the_file() {
        let mut c = cust("A", "contacted");
        c.followups
            .push(fu("2026-01-05", Some(true), None, "first"));
        c.followups
            .push(fu("2026-01-09", Some(false), None, "second"));
        c.followups
            .push(fu("2026-01-09", Some(true), None, "third"));
        c.followups
            .push(fu("2026-01-02", Some(false), None, "older, later in file"));
        assert_eq!(latest(&c).unwrap().summary.as_deref(), Some("third"));
        let x = due(&c, &FollowupsConfig::default()).unwrap();
        assert_eq!((x.date, x.rule), (d("2026-01-16"), Rule::Cadence));
        c.followups.swap(1, 2);
        assert_eq!(latest(&c).unwrap().summary.as_deref(), Some("second"));
    }

    #[test]
    fn urgency_bounds() {
        let a = d("2026-01-10");
        assert_eq!(urgency(d("2026-01-09"), a, 7), Urgency::Overdue);
        assert_eq!(urgency(a, a, 7), Urgency::Soon);
        assert_eq!(urgency(d("2026-01-17"), a, 7), Urgency::Soon);
        assert_eq!(urgency(d("2026-01-18"), a, 7), Urgency::Later);
    }

    #[test]
    fn hints_match_any_script_in_recent_followups_only() {
        let rules = vec![
            TagRule {
                keywords: vec!["Comparing".into(), "other supplier".into(), "对比".into()],
                tag: "comparing-competitors".into(),
                advice: "stress QC certification and after-sales service".into(),
            },
            TagRule {
                keywords: vec!["ＰＲＩＣＥ".into()], // full-width: NFKC folds it
                tag: "price-sensitive".into(),
                advice: String::new(),
            },
        ];
        let cfg = FollowupsConfig {
            hint_followups: 2,
            ..Default::default()
        };
        let t = Tagger::new(&rules, &cfg);
        let mut c = cust("B", "contacted");
        c.followups
            .push(fu("2026-01-02", None, None, "asked about price"));
        c.followups
            .push(fu("2026-01-03", None, None, "客户正在对比上海供应商的报价"));
        c.followups
            .push(fu("2026-01-04", None, None, "sent samples"));
        let h = t.hints(&c);
        assert_eq!(h.len(), 1, "{h:?}");
        assert_eq!(h[0].tag, "comparing-competitors");
        assert_eq!(h[0].keyword, "对比");
        assert_eq!(h[0].date, Some(d("2026-01-03")));
        c.followups[2].summary = Some("Said the PRICE is high".into());
        assert_eq!(t.hints(&c).len(), 2);
        c.tags.push("comparing-competitors".into());
        let h = t.hints(&c);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].tag, "price-sensitive");
    }

    #[test]
    fn ics_folds_long_lines_on_char_boundaries() {
        let mut o = String::new();
        let long = format!("SUMMARY:{}", "上海".repeat(40));
        ics_line(&mut o, &long);
        for l in o.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{} octets", l.len());
        }
        let unfolded = o.replace("\r\n ", "");
        assert_eq!(unfolded, format!("{long}\r\n"));
        assert_eq!(ics_text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }
}
