//! `folio check`.

use super::{CmdResult, Ctx, Failure, Kind, Status, print};
use crate::check::{self, Options};
use crate::output;
use chrono::NaiveDate;
use clap::ValueEnum;
use std::collections::BTreeSet;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Check only these record files (cross-record rules still compare against every record)
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Report only on files changed between REV and the working tree
    #[arg(long, value_name = "REV")]
    pub changed_since: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    pub format: CheckFormat,
    /// Exit 1 on warnings too
    #[arg(long)]
    pub deny_warnings: bool,
    /// Print how long each phase took (to standard error)
    #[arg(long, hide = true)]
    pub timings: bool,
    /// Date to check against instead of today (YYYY-MM-DD)
    #[arg(long, value_parser = super::parse_date, value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum CheckFormat {
    Human,
    Json,
    Github,
}

pub fn run(ctx: &Ctx, args: Args) -> CmdResult {
    let repo = ctx.open_repo()?;
    let mut only: Option<BTreeSet<String>> = None;
    if !args.paths.is_empty() {
        let cwd = std::env::current_dir()?;
        let mut set = BTreeSet::new();
        for p in &args.paths {
            let abs = if p.is_absolute() {
                p.clone()
            } else {
                cwd.join(p)
            };
            let abs = abs
                .canonicalize()
                .map_err(|e| Failure::new(format!("cannot read {}: {e}", p.display())))?;
            if !abs.starts_with(&repo.root) {
                return Err(Failure::new(format!(
                    "{} is outside the repository {}",
                    p.display(),
                    repo.root.display()
                )));
            }
            if abs.is_dir() {
                for e in walkdir::WalkDir::new(&abs)
                    .into_iter()
                    .filter_map(Result::ok)
                {
                    if e.file_type().is_file() {
                        set.insert(repo.rel(e.path()));
                    }
                }
            } else {
                set.insert(repo.rel(&abs));
            }
        }
        only = Some(set);
    }
    if let Some(rev) = &args.changed_since {
        let git = crate::git::GitRepo::open(&repo.root).ok_or_else(|| {
            Failure::new("--changed-since needs a git repository, and this data is not in one")
        })?;
        let changed = git.changed_since(rev).map_err(|e| {
            Failure::from(e).kind(Kind::User).hint(
                "in a shallow CI checkout, fetch the base first: git fetch --deepen=50 origin main",
            )
        })?;
        only = Some(match only {
            Some(o) => o.intersection(&changed).cloned().collect(),
            None => changed,
        });
    }
    let opts = Options {
        as_of: super::as_of(args.as_of),
        only,
        claims_since: args.changed_since.clone(),
    };
    let report = check::run(&repo, &opts)?;
    let text = match args.format {
        CheckFormat::Human => {
            let mut s = output::human_diagnostics(&report.diagnostics, &repo.root);
            s.push_str(&output::human_summary(&report.summary));
            s
        }
        CheckFormat::Json => output::json_diagnostics(&report.diagnostics, &report.summary),
        CheckFormat::Github => output::github_diagnostics(&report.diagnostics),
    };
    if args.format == CheckFormat::Json {
        super::print_data(&text)?;
    } else {
        print(&text)?;
    }
    if args.timings {
        for (phase, d) in &report.timings {
            super::eprint(&format!("{phase}: {:.3} s\n", d.as_secs_f64()));
        }
    }
    let deny = args.deny_warnings || repo.config.check.deny_warnings;
    Ok(if check::failed(&report, deny) {
        Status::Problems
    } else {
        Status::Ok
    })
}
