//! `folio due`: whose follow-up is overdue or due soon, by owner.

use super::{CmdResult, Ctx, Failure, Status, eprint, print};
use crate::followups::{self, DueItem, DueQuery, DueRow, Hint, Tagger, Urgency};
use crate::output::plural;
use crate::output::style::{self, paint};
use chrono::NaiveDate;
use clap::ValueEnum;
use serde::Serialize;
use std::fmt::Write;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this owner's customers (staff handle)
    #[arg(long, value_name = "HANDLE")]
    pub owner: Option<String>,
    /// Only customers in the public pool (no owner)
    #[arg(long, conflicts_with = "owner")]
    pub pool: bool,
    /// Only follow-ups that are overdue
    #[arg(long)]
    pub overdue_only: bool,
    /// Also list follow-ups due within N days [default: followups.within_days, 7]
    #[arg(long, value_name = "N")]
    pub within: Option<u32>,
    /// Date to count from instead of today (YYYY-MM-DD)
    #[arg(long, value_parser = super::parse_date, value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
    /// Output format
    #[arg(long, value_enum, default_value_t = DueFormat::Human)]
    pub format: DueFormat,
    /// Exit 1 when any listed follow-up is overdue (for CI or a daily job)
    #[arg(long)]
    pub fail_on_overdue: bool,
    /// CSV: write cells as they are, for programs rather than spreadsheets.
    /// By default a cell starting with =, +, -, @, a tab or a carriage
    /// return gets a ' in front so that a spreadsheet does not run it as a
    /// formula; a plain number such as -5 stays as it is.
    #[arg(long)]
    pub raw: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum DueFormat {
    Human,
    Json,
    Csv,
    Ics,
}

#[derive(Serialize)]
struct JsonItem<'a> {
    #[serde(flatten)]
    row: DueRow,
    reason: String,
    hints: &'a [Hint],
}

#[derive(Serialize)]
struct JsonReport<'a> {
    as_of: NaiveDate,
    within_days: i64,
    overdue: usize,
    due_soon: usize,
    items: Vec<JsonItem<'a>>,
    skipped: &'a [String],
}

pub fn run(ctx: &Ctx, a: Args) -> CmdResult {
    if a.raw && a.format != DueFormat::Csv {
        return Err(Failure::new("--raw applies to --format csv only"));
    }
    let repo = ctx.open_repo_strict()?;
    let as_of = super::as_of(a.as_of);
    if let Some(h) = &a.owner {
        repo.staff
            .require(h)
            .map_err(|e| super::staff_failure("--owner", e))?;
    }
    let cfg = &repo.config.followups;
    let within = a.within.map(i64::from).unwrap_or(cfg.within_days);
    let loaded = repo.load(as_of);
    let mut warnings = String::new();
    for p in &loaded.unreadable {
        let _ = writeln!(
            warnings,
            "{} skipped {p}: it cannot be parsed (run `folio check {p}`)",
            paint(style::WARNING, "warning:")
        );
    }
    let q = DueQuery {
        as_of,
        within_days: within,
        overdue_only: a.overdue_only,
        owner: if a.pool {
            Some(None)
        } else {
            a.owner.as_deref().map(Some)
        },
    };
    let (items, undated) = followups::due_list(&loaded.records, cfg, &q);
    for r in undated {
        let _ = writeln!(
            warnings,
            "{} {}: no due date: the record lacks `created` or has an unknown tier",
            paint(style::WARNING, "warning:"),
            r.path
        );
    }
    eprint(&warnings);
    let tagger = Tagger::new(&repo.config.tag_rules, cfg);
    let hints: Vec<Vec<Hint>> = items
        .iter()
        .map(|i| tagger.hints(&i.record.customer))
        .collect();
    let overdue = items
        .iter()
        .filter(|i| i.urgency == Urgency::Overdue)
        .count();
    let text = match a.format {
        DueFormat::Human => human(&repo, &items, &hints, as_of, within, a.overdue_only),
        DueFormat::Json => {
            let report = JsonReport {
                as_of,
                within_days: within,
                overdue,
                due_soon: items.len() - overdue,
                items: items
                    .iter()
                    .zip(&hints)
                    .map(|(i, h)| JsonItem {
                        row: i.row(),
                        reason: i.due.reason(&i.record.customer.tier),
                        hints: h,
                    })
                    .collect(),
                skipped: &loaded.unreadable,
            };
            let mut s = serde_json::to_string_pretty(&report)
                .map_err(|e| Failure::new(format!("cannot write JSON: {e}")))?;
            s.push('\n');
            s
        }
        DueFormat::Csv => followups::to_csv(&items, a.raw),
        DueFormat::Ics => followups::to_ics(&items, as_of),
    };
    if a.format == DueFormat::Human {
        print(&text)?;
    } else {
        super::print_data(&text)?;
    }
    Ok(if a.fail_on_overdue && overdue > 0 {
        Status::Problems
    } else {
        Status::Ok
    })
}

fn when(days_overdue: i64) -> String {
    match days_overdue {
        0 => "due today".to_string(),
        1 => "1 day overdue".to_string(),
        -1 => "due tomorrow".to_string(),
        d if d > 0 => format!("{d} days overdue"),
        d => format!("due in {} days", -d),
    }
}

fn human(
    repo: &crate::repo::Repo,
    items: &[DueItem],
    hints: &[Vec<Hint>],
    as_of: NaiveDate,
    within: i64,
    overdue_only: bool,
) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < items.len() {
        let owner = items[i].record.customer.owner.clone();
        let group: Vec<usize> = (i..items.len())
            .take_while(|&j| items[j].record.customer.owner == owner)
            .collect();
        let n_over = group
            .iter()
            .filter(|&&j| items[j].urgency == Urgency::Overdue)
            .count();
        let title = match &owner {
            Some(h) => match repo.staff.get(h) {
                Some(m) => format!("{h} ({})", m.name),
                None => h.clone(),
            },
            None => "public pool (no owner)".to_string(),
        };
        let mut counts = Vec::new();
        if n_over > 0 {
            counts.push(format!("{n_over} overdue"));
        }
        if group.len() > n_over {
            counts.push(format!("{} due soon", group.len() - n_over));
        }
        let _ = writeln!(out, "{}: {}", paint(style::BOLD, title), counts.join(", "));
        for &j in &group {
            let it = &items[j];
            let c = &it.record.customer;
            let st = if it.urgency == Urgency::Overdue {
                style::ERROR
            } else {
                style::WARNING
            };
            let _ = writeln!(
                out,
                "  {}  {}  {}  [{}, {}]",
                paint(st, format!("{:<16}", when(it.days_overdue))),
                it.due.date,
                paint(style::BOLD, c.display_name()),
                c.tier,
                c.stage
            );
            let _ = writeln!(
                out,
                "      {} {}",
                paint(style::DIM, "why: "),
                it.due.reason(&c.tier)
            );
            let _ = writeln!(
                out,
                "      {} {}",
                paint(style::DIM, "file:"),
                it.record.path
            );
            for h in &hints[j] {
                let seen = match h.date {
                    Some(d) => format!(" (\"{}\" on {d})", h.keyword),
                    None => format!(" (\"{}\")", h.keyword),
                };
                let advice = if h.advice.is_empty() {
                    String::new()
                } else {
                    format!(": {}", h.advice)
                };
                let _ = writeln!(
                    out,
                    "      {} tag {}{seen}{advice}",
                    paint(style::NOTE, "hint:"),
                    h.tag
                );
            }
        }
        out.push('\n');
        i += group.len();
    }
    let overdue = items
        .iter()
        .filter(|i| i.urgency == Urgency::Overdue)
        .count();
    let soon = items.len() - overdue;
    let window = if overdue_only {
        String::new()
    } else {
        format!(", {soon} due within {}", plural(within as usize, "day"))
    };
    if items.is_empty() {
        let what = if overdue_only {
            "nothing overdue".to_string()
        } else {
            format!("nothing due within {}", plural(within as usize, "day"))
        };
        let _ = writeln!(out, "{} {what} (as of {as_of})", paint(style::GOOD, "ok:"));
    } else {
        let _ = writeln!(out, "{overdue} overdue{window} (as of {as_of})");
    }
    if hints.iter().any(|h| !h.is_empty()) {
        out.push_str("run `folio tags --apply` to add the hinted tags\n");
    }
    out
}
