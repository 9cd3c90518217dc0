//! `folio fix`: rename misnamed records to their naming-rule paths.

use super::{CmdResult, Ctx, Status, print};
use crate::naming::RulePath;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Show what would be renamed without changing anything
    #[arg(long)]
    pub dry_run: bool,
    /// Commit the renames (without it they are staged, so git follows each file's history)
    #[arg(long)]
    pub commit: bool,
    /// With --commit: rename records even if they have uncommitted changes (they go into folio's commit)
    #[arg(long, requires = "commit")]
    pub include_dirty: bool,
    /// Today's date, for reading the records (YYYY-MM-DD)
    #[arg(long, value_parser = super::parse_date, value_name = "DATE")]
    pub as_of: Option<chrono::NaiveDate>,
}

pub fn run(ctx: &Ctx, args: Args) -> CmdResult {
    let repo = ctx.open_writer()?;
    let as_of = super::as_of(args.as_of);
    let loaded = repo.load(as_of);
    let records: Vec<_> = loaded
        .records
        .iter()
        .filter(|r| {
            !r.customer.name.is_empty()
                && !r.customer.contact.is_empty()
                && !r.customer.country.is_empty()
        })
        .collect();
    let parts: Vec<_> = records.iter().map(|r| r.customer.naming_parts()).collect();
    let rule = crate::naming::rule_paths(&repo.template, &parts);
    let git = crate::git::GitRepo::open(&repo.root);
    let mut session = crate::session::Session::new(&repo, as_of);
    let mut out = String::new();
    let mut renamed = 0;
    let mut problems = 0;
    for (r, want) in records.iter().zip(rule) {
        let RulePath::Path(to) = want else {
            out.push_str(&format!("skip {}: another record has the same name, contact and country (set city or industry)\n", r.path));
            problems += 1;
            continue;
        };
        if to == r.path {
            continue;
        }
        // another file there (not this one under another case) is kept
        let original = session.read(&r.path).map_err(super::session_failure)?;
        match session.rename(original, &to) {
            Ok(()) => {}
            Err(crate::session::SessionError::Exists(_)) => {
                out.push_str(&format!("skip {}: {to} already exists\n", r.path));
                problems += 1;
                continue;
            }
            Err(e) => return Err(super::session_failure(e)),
        }
        out.push_str(&format!(
            "{} {} -> {to}\n",
            if args.dry_run {
                "would rename"
            } else {
                "renamed"
            },
            r.path
        ));
        renamed += 1;
    }
    let mut commit_note = String::new();
    if !session.is_empty() && !args.dry_run {
        let moved = session.paths();
        let finish = if args.commit {
            crate::session::Finish::Commit(crate::session::CommitRequest::new(
                format!(
                    "fix: rename {} to the naming rule's paths",
                    crate::output::plural(renamed, "record")
                ),
                args.include_dirty,
            ))
        } else if git
            .as_ref()
            .is_some_and(|g| moved.iter().any(|p| g.is_tracked(p)))
        {
            crate::session::Finish::Stage
        } else {
            crate::session::Finish::Write
        };
        let applied = session.apply(finish).map_err(super::session_failure)?;
        commit_note = super::session_report(&applied);
        // remove folders left empty by the moves
        for from in &applied.removed {
            let mut dir = repo.root.join(from);
            while dir.pop()
                && dir != repo.root.join(crate::repo::CUSTOMERS_DIR)
                && std::fs::remove_dir(&dir).is_ok()
            {}
        }
    }
    if renamed == 0 && problems == 0 {
        out.push_str("every record is at its naming-rule path\n");
    } else if !args.dry_run && renamed > 0 && git.is_some() && !args.commit {
        out.push_str("renames are staged: commit them so git keeps each file's history linked\n");
    }
    out.push_str(&commit_note);
    print(&out)?;
    Ok(if problems > 0 {
        Status::Problems
    } else {
        Status::Ok
    })
}
