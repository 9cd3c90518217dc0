//! `folio handover FROM --to H1,H2`: reassign every customer FROM owns, in
//! weighted round-robin, in one commit.

use super::{CmdResult, Ctx, Failure, Status, eprint, print};
use crate::handover::{self, HandoverError};
use crate::output::style::{self, paint};
use chrono::NaiveDate;
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The salesperson whose customers are handed over
    pub from: String,
    /// Receivers (comma-separated staff handles)
    #[arg(
        long,
        value_delimiter = ',',
        required = true,
        value_name = "H1[,H2,...]"
    )]
    pub to: Vec<String>,
    /// Weights of the receivers, in order (e.g. 3:2:1); default all equal
    #[arg(long, value_name = "W1:W2:...")]
    pub weights: Option<crate::pool::Weights>,
    /// Also set FROM inactive in staff.toml
    #[arg(long)]
    pub deactivate: bool,
    /// Hand over records even if they have uncommitted changes (they go into the handover commit)
    #[arg(long)]
    pub include_dirty: bool,
    /// Print the plan only; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Write a Markdown handover document per receiver to FILE
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Date for the report's overdue follow-ups (default: today)
    #[arg(long, value_parser = super::parse_date, value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
}

fn failure(e: HandoverError) -> Failure {
    let e = match e {
        HandoverError::Session(s) => return super::session_failure(s),
        e => e,
    };
    let hint = match &e {
        HandoverError::Receiver(s) => Some(s.hint()),
        HandoverError::Weights(crate::pool::WeightsError::Count { .. }) => {
            Some("give one weight per receiver, e.g. --to b,c,d --weights 3:2:1".to_string())
        }
        _ => None,
    };
    let f = Failure::new(e.to_string());
    match hint {
        Some(h) => f.hint(h),
        None => f,
    }
}

pub fn run(ctx: &Ctx, a: Args) -> CmdResult {
    let repo = ctx.open_writer()?;
    let as_of = super::as_of(a.as_of);
    let to: Vec<String> =
        a.to.iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
    let weights = a.weights.as_ref();
    // Only FROM's records are parsed in full: a quick scan of each file's
    // top-level `owner` picks them out of a large repository.
    let (files, _) = repo.record_files();
    let mine: Vec<crate::repo::RecordFile> = {
        use rayon::prelude::*;
        files
            .into_par_iter()
            .filter(|f| {
                crate::repo::read_file(&f.abs).is_ok_and(|b| {
                    crate::history::walk::scan_meta(&b).owner.as_deref() == Some(a.from.as_str())
                })
            })
            .collect()
    };
    let loaded = repo.load_files(&mine, as_of);
    if !loaded.unreadable.is_empty() {
        eprint(&format!(
            "{} {} could not be parsed and {} not handed over: {}\n",
            paint(style::WARNING, "warning:"),
            crate::output::plural(loaded.unreadable.len(), "record file"),
            if loaded.unreadable.len() == 1 {
                "is"
            } else {
                "are"
            },
            loaded.unreadable.join(", ")
        ));
    }
    if a.deactivate {
        repo.staff
            .require(&a.from)
            .map_err(|e| super::staff_failure("--deactivate", e))?;
    }
    let plan =
        handover::plan(&loaded.records, &repo.staff, &a.from, &to, weights).map_err(failure)?;
    let mut out = String::new();
    let counts = handover::counts(&plan);
    let summary: Vec<String> = plan
        .receivers
        .iter()
        .map(|(h, w)| {
            let n = counts.get(h.as_str()).copied().unwrap_or(0);
            if weights.is_some() {
                format!("{h} {n} (weight {w})")
            } else {
                format!("{h} {n}")
            }
        })
        .collect();
    let _ = writeln!(
        out,
        "{} {}'s {}: {}",
        if a.dry_run {
            "Would hand over"
        } else {
            "Handing over"
        },
        a.from,
        crate::output::plural(plan.assignments.len(), "customer"),
        summary.join(", ")
    );
    let width = to.iter().map(String::len).max().unwrap_or(0);
    for x in &plan.assignments {
        let _ = writeln!(
            out,
            "  {:<width$}  {}  {}  tier {}",
            x.to,
            x.customer.id,
            x.customer.display_name(),
            x.customer.tier
        );
    }
    if a.deactivate {
        let _ = writeln!(
            out,
            "{} {} inactive in staff.toml",
            if a.dry_run { "Would set" } else { "Setting" },
            a.from
        );
    }
    if a.dry_run {
        out.push_str("dry run: nothing changed\n");
        print(&out)?;
        return Ok(Status::Ok);
    }
    let done =
        handover::apply(&repo, &plan, a.deactivate, as_of, a.include_dirty).map_err(failure)?;
    super::session_report(&done.applied);
    let _ = writeln!(
        out,
        "{} {} ({}) {}",
        paint(style::GOOD, "committed"),
        &done.commit.to_string()[..8],
        crate::output::plural(done.files, "file"),
        done.message.lines().next().unwrap_or("")
    );
    if let Some(path) = &a.report {
        let md = handover::report(&plan, &repo.config, as_of, Some(done.commit));
        crate::edit::write_atomic(path, md.as_bytes())
            .map_err(|e| Failure::new(format!("cannot write {}: {e}", path.display())))?;
        let _ = writeln!(out, "wrote the handover report {}", path.display());
    }
    print(&out)?;
    Ok(Status::Ok)
}
