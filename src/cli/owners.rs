//! `folio owners CUSTOMER`: a customer's ownership timeline.

use super::log::{customer_id, open_history};
use super::{CmdResult, Ctx, Format, Status, print};
use crate::output::style::{self, paint};
use chrono::NaiveDate;
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write as _;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The customer: an id, a record path, or a search matching one record's name
    pub customer: String,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// The date a current period runs to (default: today)
    #[arg(long, value_parser = super::parse_date, value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
}

pub fn run(ctx: &Ctx, a: Args) -> CmdResult {
    let repo = ctx.open_repo()?;
    let h = open_history(&repo)?;
    if h.status.no_commits {
        return super::log::no_history(a.format);
    }
    let as_of = super::as_of(a.as_of);
    let (id, label) = customer_id(&repo, &h, &a.customer)?;
    let periods = h.owners(&id);
    let days = |p: &crate::history::OwnerPeriod| {
        let end = p.until.as_ref().map(|u| u.day).unwrap_or(as_of);
        (end - p.since.day).num_days().max(0)
    };
    match a.format {
        Format::Json => {
            let v: Vec<serde_json::Value> = periods
                .iter()
                .map(|p| {
                    json!({
                        "owner": p.owner,
                        "from": p.since.day.to_string(),
                        "to": p.until.as_ref().map(|u| u.day.to_string()),
                        "days": days(p),
                        "commit": p.since.commit,
                        "author": p.since.author,
                        "message": p.since.message,
                        "ended_by": p.until.as_ref().map(|u| u.commit.clone()),
                    })
                })
                .collect();
            super::print_data(&format!("{}\n", serde_json::to_string_pretty(&v)?))?;
        }
        Format::Human => {
            let mut out = format!("{}\n", paint(style::BOLD, &label));
            let who = |p: &crate::history::OwnerPeriod| {
                p.owner.clone().unwrap_or_else(|| "(pool)".to_string())
            };
            let width = periods.iter().map(|p| who(p).len()).max().unwrap_or(6);
            let mut total: BTreeMap<String, i64> = BTreeMap::new();
            for p in &periods {
                let to = match &p.until {
                    Some(u) => u.day.to_string(),
                    None => "now".to_string(),
                };
                let d = days(p);
                *total.entry(who(p)).or_default() += d;
                let _ = writeln!(
                    out,
                    "  {:<width$}  {} → {:<10}  {:>5}  {} {}  {}",
                    who(p),
                    p.since.day,
                    to,
                    crate::output::plural(d as usize, "day"),
                    paint(style::WARNING, p.since.short()),
                    p.since.author,
                    p.since.message,
                );
            }
            if periods.is_empty() {
                out.push_str("  no history\n");
            } else {
                let parts: Vec<String> = total
                    .iter()
                    .map(|(k, d)| format!("{k} {}", crate::output::plural(*d as usize, "day")))
                    .collect();
                let _ = writeln!(
                    out,
                    "time with each owner (to {as_of}): {}",
                    parts.join(", ")
                );
            }
            print(&out)?;
        }
    }
    Ok(Status::Ok)
}
