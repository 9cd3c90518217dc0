//! `folio review`: records whose file has not changed in git for a long
//! time, for the quarterly or half-yearly data review.

use super::{CmdResult, Ctx, Failure, Format, Status, eprint, print};
use crate::output::plural;
use crate::output::style::{self, paint};
use crate::review::{self, LastChange};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::HashSet;
use std::fmt::Write;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// List records unchanged for longer than this: 180d, 26w, 6m (30 days each), 1y
    #[arg(long, value_parser = review::parse_age, value_name = "AGE")]
    pub older_than: i64,
    /// Only this owner's customers (staff handle)
    #[arg(long, value_name = "HANDLE")]
    pub owner: Option<String>,
    /// Date to count from instead of today (YYYY-MM-DD)
    #[arg(long, value_parser = super::parse_date, value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Serialize)]
struct Item {
    id: String,
    path: String,
    display_name: String,
    owner: Option<String>,
    last_changed: NaiveDate,
    days: i64,
    commit: String,
    /// false in a shallow clone when the date is the oldest commit available
    /// (the file last changed then or earlier)
    exact: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    as_of: NaiveDate,
    older_than_days: i64,
    shallow: bool,
    records: usize,
    items: &'a [Item],
}

pub fn run(ctx: &Ctx, a: Args) -> CmdResult {
    let repo = ctx.open_repo_strict()?;
    let as_of = super::as_of(a.as_of);
    let history =
        crate::history::History::open(&repo.root, &repo.cache_dir()).map_err(|e| match e {
            crate::history::HistoryError::NotGit(_) => {
                Failure::new("review reads git history, and this data is not in a git repository")
            }
            e => Failure::from(e),
        })?;
    let git = &history.git;
    let loaded = repo.load(as_of);
    let records: Vec<&crate::repo::Record> = loaded
        .records
        .iter()
        .filter(|r| a.owner.is_none() || r.customer.owner == a.owner)
        .collect();
    let dirty: HashSet<String> = git.dirty_paths()?.into_iter().collect();
    let paths: Vec<String> = records.iter().map(|r| r.path.clone()).collect();
    let changes = review::last_changes(&history, &paths, &dirty);
    let shallow = history.status.shallow;

    let mut items = Vec::new();
    let mut unsure = 0;
    let mut unknown = Vec::new();
    for (r, ch) in records.iter().zip(&changes) {
        let (oid, date, exact) = match ch {
            LastChange::Uncommitted => continue,
            LastChange::Unknown => {
                unknown.push(r.path.as_str());
                continue;
            }
            LastChange::Commit { oid, date } => (oid, *date, true),
            LastChange::AtOrBefore { oid, date } => (oid, *date, false),
        };
        let days = (as_of - date).num_days();
        if days <= a.older_than {
            if !exact {
                unsure += 1;
            }
            continue;
        }
        let c = &r.customer;
        items.push(Item {
            id: c.id.clone(),
            path: r.path.clone(),
            display_name: c.display_name(),
            owner: c.owner.clone(),
            last_changed: date,
            days,
            commit: oid.to_string(),
            exact,
        });
    }
    items.sort_by(|x, y| y.days.cmp(&x.days).then_with(|| x.path.cmp(&y.path)));

    let mut notes = String::new();
    let warn = paint(style::WARNING, "warning:");
    for p in &loaded.unreadable {
        let _ = writeln!(
            notes,
            "{warn} skipped {p}: it cannot be parsed (run `folio check {p}`)"
        );
    }
    for p in &unknown {
        let _ = writeln!(notes, "{warn} {p} is not in git history (ignored by git?)");
    }
    if shallow {
        let _ = writeln!(
            notes,
            "{warn} this is a shallow clone: history is incomplete, so dates at its oldest commit mean \"then or earlier\"{}",
            if unsure > 0 {
                format!(
                    "; {} may be stale but cannot be told",
                    plural(unsure, "more record")
                )
            } else {
                String::new()
            }
        );
        let _ = writeln!(
            notes,
            "  fetch the full history with `git fetch --unshallow`"
        );
    }
    eprint(&notes);

    let text = match a.format {
        Format::Json => {
            let report = Report {
                as_of,
                older_than_days: a.older_than,
                shallow,
                records: records.len(),
                items: &items,
            };
            let mut s = serde_json::to_string_pretty(&report)
                .map_err(|e| Failure::new(format!("cannot write JSON: {e}")))?;
            s.push('\n');
            s
        }
        Format::Human => {
            let mut out = String::new();
            for it in &items {
                let age = if it.exact {
                    format!("{:>5} days", it.days)
                } else {
                    format!(">={:>3} days", it.days)
                };
                let owner = it.owner.as_deref().unwrap_or("pool");
                let _ = writeln!(
                    out,
                    "{}  {}  {}  {}  ({owner})",
                    paint(style::WARNING, age),
                    it.last_changed,
                    paint(style::BOLD, &it.path),
                    it.display_name
                );
            }
            let _ = writeln!(
                out,
                "{} of {} not changed for more than {} (as of {as_of})",
                items.len(),
                plural(records.len(), "record"),
                plural(a.older_than as usize, "day")
            );
            out
        }
    };
    if a.format == Format::Json {
        super::print_data(&text)?;
    } else {
        print(&text)?;
    }
    Ok(Status::Ok)
}
