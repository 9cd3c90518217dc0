//! `folio handovers`: every change of owner in the history (an audit).

use super::log::open_history;
use super::{CmdResult, Ctx, Format, Status, print};
use crate::history::CommitInfo;
use crate::output::style::{self, paint};
use chrono::NaiveDate;
use serde_json::json;
use std::fmt::Write as _;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only commits from this date on (YYYY-MM-DD)
    #[arg(long, value_parser = super::parse_date, value_name = "DATE")]
    pub since: Option<NaiveDate>,
    /// Only changes away from this owner (`pool` for claims from the public pool)
    #[arg(long, value_name = "HANDLE")]
    pub from: Option<String>,
    /// Only changes to this owner (`pool` for releases to the public pool)
    #[arg(long, value_name = "HANDLE")]
    pub to: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

fn matches(filter: &Option<String>, owner: Option<&str>) -> bool {
    match filter.as_deref() {
        None => true,
        Some("pool") => owner.is_none(),
        Some(f) => owner == Some(f),
    }
}

/// commit, id, path, from, to
type Row<'a> = (
    CommitInfo,
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
);

pub fn run(ctx: &Ctx, a: Args) -> CmdResult {
    let repo = ctx.open_repo()?;
    let h = open_history(&repo)?;
    let rows: Vec<Row> = h
        .state_changes()
        .into_iter()
        .filter(|s| s.owner_changed())
        .filter(|s| matches(&a.from, s.old_owner) && matches(&a.to, s.owner))
        .filter(|s| a.since.is_none_or(|d| s.commit.date() >= d))
        .map(|s| {
            (
                CommitInfo::of(&s.commit),
                s.id,
                s.path,
                s.old_owner,
                s.owner,
            )
        })
        .collect();
    match a.format {
        Format::Json => {
            let v: Vec<serde_json::Value> = rows
                .iter()
                .map(|(c, id, path, from, to)| {
                    let mut o = super::log::commit_json(Some(c));
                    o["id"] = json!(id);
                    o["path"] = json!(path);
                    o["from"] = json!(from);
                    o["to"] = json!(to);
                    o
                })
                .collect();
            super::print_data(&format!("{}\n", serde_json::to_string_pretty(&v)?))?;
        }
        Format::Human => {
            let mut out = String::new();
            let who = |o: Option<&str>| o.unwrap_or("(pool)").to_string();
            for (c, id, path, from, to) in &rows {
                let _ = writeln!(
                    out,
                    "{} {}  {} → {}  {id}  {}  {} {}",
                    paint(style::DIM, c.day),
                    paint(style::WARNING, c.short()),
                    who(*from),
                    paint(style::BOLD, who(*to)),
                    path,
                    c.author,
                    paint(style::DIM, format!("\"{}\"", c.message)),
                );
            }
            let _ = writeln!(
                out,
                "{}",
                crate::output::plural(rows.len(), "change") + " of owner"
            );
            print(&out)?;
        }
    }
    Ok(Status::Ok)
}
