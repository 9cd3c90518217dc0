//! `folio group GROUP`: a buyer group's members and combined business.

use super::{CmdResult, Ctx, Failure, Format, Status, print};
use crate::output::style::{self, paint};
use chrono::NaiveDate;
use serde::Serialize;
use std::fmt::Write;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The group id (the `group` value shared by its records)
    pub group: String,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Serialize)]
struct Member<'a> {
    id: &'a str,
    path: &'a str,
    display_name: String,
    owner: Option<&'a str>,
    titles: Vec<Title<'a>>,
}

#[derive(Serialize)]
struct Title<'a> {
    name: &'a str,
    registration: Option<&'a str>,
}

#[derive(Serialize)]
struct Event<'a> {
    date: Option<NaiveDate>,
    kind: &'static str,
    customer: &'a str,
    text: String,
}

#[derive(Serialize)]
struct GroupView<'a> {
    group: &'a str,
    members: Vec<Member<'a>>,
    events: Vec<Event<'a>>,
}

pub fn run(ctx: &Ctx, args: Args) -> CmdResult {
    let repo = ctx.open_repo_strict()?;
    let loaded = repo.load(super::as_of(None));
    let members: Vec<_> = loaded
        .records
        .iter()
        .filter(|r| r.customer.group.as_deref() == Some(args.group.as_str()))
        .collect();
    if members.is_empty() {
        let mut groups: Vec<&str> = loaded
            .records
            .iter()
            .filter_map(|r| r.customer.group.as_deref())
            .collect();
        groups.sort();
        groups.dedup();
        let mut f = Failure::new(format!("no record has group = \"{}\"", args.group));
        if let Some(m) = crate::diagnostics::did_you_mean(&args.group, groups.iter().copied()) {
            f = f.hint(format!("did you mean \"{m}\"?"));
        } else if !groups.is_empty() {
            f = f.hint(format!("groups: {}", groups.join(", ")));
        }
        return Err(f);
    }
    let mut events = Vec::new();
    for r in &members {
        let c = &r.customer;
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
    let view = GroupView {
        group: &args.group,
        members: members
            .iter()
            .map(|r| Member {
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
            })
            .collect(),
        events,
    };
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&view)? + "\n",
        Format::Human => {
            let mut s = format!(
                "{} {} ({})\n",
                paint(style::BOLD, "group"),
                paint(style::BOLD, &args.group),
                crate::output::plural(view.members.len(), "member")
            );
            for m in &view.members {
                let _ = writeln!(
                    s,
                    "\n  {}  owner: {}\n  {}",
                    paint(style::BOLD, &m.display_name),
                    m.owner.unwrap_or("(pool)"),
                    paint(style::DIM, m.path)
                );
                for t in &m.titles[1..] {
                    let _ = writeln!(
                        s,
                        "    title: {}{}",
                        t.name,
                        t.registration
                            .map(|r| format!("  (reg. {r})"))
                            .unwrap_or_default()
                    );
                }
            }
            let _ = writeln!(s, "\n{}", paint(style::BOLD, "business, by date"));
            let names: std::collections::HashMap<&str, &str> = members
                .iter()
                .map(|r| (r.customer.id.as_str(), r.customer.name.as_str()))
                .collect();
            for e in &view.events {
                let d = e
                    .date
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "(no date)".into());
                let _ = writeln!(
                    s,
                    "  {d}  {:<8} {}  {}",
                    e.kind,
                    names.get(e.customer).copied().unwrap_or(""),
                    e.text
                );
            }
            if view.events.is_empty() {
                s.push_str("  (no quotes, orders or follow-ups yet)\n");
            }
            s
        }
    };
    if args.format == Format::Json {
        super::print_data(&text)?;
    } else {
        print(&text)?;
    }
    Ok(Status::Ok)
}
