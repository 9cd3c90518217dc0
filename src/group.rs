//! A buyer group: the records that share a `group` value, their titles,
//! and their combined business (quotes, orders and follow-ups) by date.

use crate::records::Customer;
use crate::repo::Record;
use chrono::NaiveDate;
use serde::Serialize;

/// One member of a group.
#[derive(Debug, Serialize)]
pub struct Member<'a> {
    pub id: &'a str,
    pub path: &'a str,
    pub display_name: String,
    pub owner: Option<&'a str>,
    /// The record's name first, then its other titles.
    pub titles: Vec<Title<'a>>,
}

/// A legal name a member trades under.
#[derive(Debug, Serialize)]
pub struct Title<'a> {
    pub name: &'a str,
    pub registration: Option<&'a str>,
}

/// A quote, order or follow-up of a member.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct Event<'a> {
    pub date: Option<NaiveDate>,
    pub kind: &'static str,
    /// The member's id.
    pub customer: &'a str,
    pub text: String,
}

/// A group: its members in record order and their business by date.
#[derive(Debug, Serialize)]
pub struct GroupView<'a> {
    pub group: &'a str,
    pub members: Vec<Member<'a>>,
    pub events: Vec<Event<'a>>,
}

/// No record has the group asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no record has group = \"{group}\"")]
pub struct NoSuchGroup {
    pub group: String,
    /// A group with a close name.
    pub did_you_mean: Option<String>,
    /// Every group there is, sorted.
    pub groups: Vec<String>,
}

/// The group `group` among `records`.
pub fn view<'a>(records: &'a [Record], group: &'a str) -> Result<GroupView<'a>, NoSuchGroup> {
    let members: Vec<&Record> = records
        .iter()
        .filter(|r| r.customer.group.as_deref() == Some(group))
        .collect();
    if members.is_empty() {
        let mut groups: Vec<&str> = records
            .iter()
            .filter_map(|r| r.customer.group.as_deref())
            .collect();
        groups.sort();
        groups.dedup();
        return Err(NoSuchGroup {
            group: group.to_string(),
            did_you_mean: crate::diagnostics::did_you_mean(group, groups.iter().copied())
                .map(str::to_string),
            groups: groups.into_iter().map(str::to_string).collect(),
        });
    }
    let events = timeline(members.iter().map(|r| &r.customer));
    Ok(GroupView {
        group,
        members: members.iter().map(|r| member(r)).collect(),
        events,
    })
}

fn member(r: &Record) -> Member<'_> {
    Member {
        id: &r.customer.id,
        path: &r.path,
        display_name: r.customer.display_name(),
        owner: r.customer.owner.as_deref(),
        titles: std::iter::once(Title {
            name: &r.customer.name,
            registration: None,
        })
        .chain(r.customer.titles.iter().map(|t| Title {
            name: &t.name,
            registration: t.registration.as_deref(),
        }))
        .collect(),
    }
}

/// The quotes, orders and follow-ups of `customers`, by date (undated
/// first), then by customer id; each customer's in record order.
pub fn timeline<'a>(customers: impl IntoIterator<Item = &'a Customer>) -> Vec<Event<'a>> {
    let mut events = Vec::new();
    for c in customers {
        let who = c.id.as_str();
        for q in &c.quotes {
            let amount = q
                .amount
                .map(|a| format!(" {a:.2} {}", q.currency.as_deref().unwrap_or("")))
                .unwrap_or_default();
            // "[status]" only when the quote has one
            let text = format!(
                "{}{amount} {} {}",
                q.product.as_deref().unwrap_or("quote"),
                q.incoterm.as_deref().unwrap_or(""),
                q.status
                    .as_deref()
                    .map(|s| format!("[{s}]"))
                    .unwrap_or_default()
            );
            events.push(Event {
                date: q.date,
                kind: "quote",
                customer: who,
                text: text.split_whitespace().collect::<Vec<_>>().join(" "),
            });
        }
        for o in &c.orders {
            let amount = o
                .amount
                .map(|a| format!(" {a:.2} {}", o.currency.as_deref().unwrap_or("")))
                .unwrap_or_default();
            events.push(Event {
                date: o.date,
                kind: "order",
                customer: who,
                text: format!("{}{amount}", o.number.as_deref().unwrap_or("order"))
                    .trim()
                    .to_string(),
            });
        }
        for f in &c.followups {
            let text = format!(
                "{} by {}: {}",
                f.channel.as_deref().unwrap_or("?"),
                f.by.as_deref().unwrap_or("?"),
                f.summary.as_deref().unwrap_or("")
            );
            events.push(Event {
                date: f.date,
                kind: "followup",
                customer: who,
                text,
            });
        }
    }
    events.sort_by(|a, b| a.date.cmp(&b.date).then(a.customer.cmp(b.customer)));
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{Followup, Order, Quote};

    fn d(s: &str) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
    }

    fn rec(id: &str, group: Option<&str>) -> Record {
        Record {
            path: format!("customers/de/{}.toml", id.to_lowercase()),
            customer: Customer {
                id: id.into(),
                name: format!("Company {id}"),
                contact: "Jo".into(),
                country: "DE".into(),
                group: group.map(Into::into),
                ..Default::default()
            },
        }
    }

    #[test]
    fn the_timeline_says_each_event_in_one_line_by_date() {
        let mut a = rec("A1", Some("g")).customer;
        a.quotes.push(Quote {
            date: d("2026-02-01"),
            product: Some("pumps".into()),
            amount: Some(1200.0),
            currency: Some("EUR".into()),
            status: Some("sent".into()),
            ..Default::default()
        });
        a.orders.push(Order {
            date: d("2026-03-01"),
            ..Default::default()
        });
        let mut b = rec("B2", Some("g")).customer;
        b.followups.push(Followup {
            date: d("2026-02-01"),
            channel: Some("email".into()),
            by: Some("al".into()),
            summary: Some("sent the catalogue".into()),
            ..Default::default()
        });
        b.quotes.push(Quote::default());
        let events = timeline([&b, &a]);
        let got: Vec<(Option<NaiveDate>, &str, &str, &str)> = events
            .iter()
            .map(|e| (e.date, e.kind, e.customer, e.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (None, "quote", "B2", "quote"),
                (d("2026-02-01"), "quote", "A1", "pumps 1200.00 EUR [sent]"),
                (
                    d("2026-02-01"),
                    "followup",
                    "B2",
                    "email by al: sent the catalogue"
                ),
                (d("2026-03-01"), "order", "A1", "order"),
            ]
        );
    }

    #[test]
    fn members_and_a_group_that_is_not_there() {
        let records = vec![
            rec("A1", Some("hongda")),
            rec("B2", None),
            rec("C3", Some("hongda")),
            rec("D4", Some("acme")),
        ];
        let v = view(&records, "hongda").unwrap();
        let ids: Vec<&str> = v.members.iter().map(|m| m.id).collect();
        assert_eq!(ids, ["A1", "C3"]);
        assert_eq!(v.members[0].titles.len(), 1);
        assert_eq!(v.members[0].titles[0].name, "Company A1");
        let e = view(&records, "hongdaa").unwrap_err();
        assert_eq!(e.to_string(), "no record has group = \"hongdaa\"");
        assert_eq!(e.did_you_mean.as_deref(), Some("hongda"));
        assert_eq!(e.groups, ["acme", "hongda"]);
    }
}
