//! `folio diff [REV1 [REV2]]`: field-level changes between two revisions.

use super::log::human_changes;
use super::{CmdResult, Ctx, Failure, Format, Status, print};
use crate::history::{ChangeKind, diff_revisions};
use crate::output::style::{self, paint};
use std::fmt::Write as _;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The old revision (default: HEAD)
    pub rev1: Option<String>,
    /// The new revision (default: the working tree)
    pub rev2: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

pub fn run(ctx: &Ctx, a: Args) -> CmdResult {
    let repo = ctx.open_repo()?;
    let git = crate::git::GitRepo::open(&repo.root).ok_or_else(|| {
        Failure::new(format!(
            "{} is not inside a git repository",
            repo.root.display()
        ))
    })?;
    if git.repo.head().is_err() && a.rev1.is_none() {
        return Err(
            Failure::new("the repository has no commits yet: nothing to compare with")
                .hint("commit the records first, or name two revisions"),
        );
    }
    let old = a.rev1.as_deref().unwrap_or("HEAD");
    let diffs = diff_revisions(&git, &repo.root, old, a.rev2.as_deref())
        .map_err(|e| Failure::new(e.message().to_string()))?;
    match a.format {
        Format::Json => super::print_data(&format!("{}\n", serde_json::to_string_pretty(&diffs)?))?,
        Format::Human => {
            let mut out = String::new();
            for d in &diffs {
                let head = match (d.status, &d.old_path, &d.path) {
                    (ChangeKind::Renamed, Some(o), Some(n)) => format!("{o} → {n}"),
                    (_, _, Some(p)) | (_, Some(p), None) => p.clone(),
                    _ => String::new(),
                };
                let id =
                    d.id.as_deref()
                        .map(|i| format!(" ({i})"))
                        .unwrap_or_default();
                let _ = writeln!(out, "{}{}", paint(style::BOLD, head), id);
                let changes: Vec<_> = d
                    .changes
                    .iter()
                    .filter(|c| c.field != "path")
                    .cloned()
                    .collect();
                human_changes(&mut out, &changes, "    ");
            }
            let to = a.rev2.as_deref().unwrap_or("the working tree");
            let _ = writeln!(
                out,
                "{} changed between {old} and {to}",
                crate::output::plural(diffs.len(), "record")
            );
            print(&out)?;
        }
    }
    Ok(Status::Ok)
}
