//! `folio fix`: rename misnamed records to their naming-rule paths.

use super::{CmdResult, Ctx, Failure, Status, print};
use crate::naming::RulePath;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Show what would be renamed without changing anything
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> CmdResult {
    let repo = ctx.open_repo_strict()?;
    let loaded = repo.load(super::as_of(None));
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
        let to_abs = repo.root.join(&to);
        if to_abs.exists() && !same_file_ignoring_case(&r.path, &to) {
            out.push_str(&format!("skip {}: {to} already exists\n", r.path));
            problems += 1;
            continue;
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
        if args.dry_run {
            continue;
        }
        if let Some(parent) = to_abs.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::rename(repo.root.join(&r.path), &to_abs)
            .map_err(|e| Failure::new(format!("cannot rename {} to {to}: {e}", r.path)))?;
        if let Some(g) = &git
            && g.is_tracked(&r.path)
        {
            g.stage_rename(&r.path, &to)?;
        }
        // remove folders left empty by the move
        let mut dir = repo.root.join(&r.path);
        while dir.pop()
            && dir != repo.root.join(crate::repo::CUSTOMERS_DIR)
            && std::fs::remove_dir(&dir).is_ok()
        {}
    }
    if renamed == 0 && problems == 0 {
        out.push_str("every record is at its naming-rule path\n");
    } else if !args.dry_run && renamed > 0 && git.is_some() {
        out.push_str("renames are staged: commit them so git keeps each file's history linked\n");
    }
    print(&out)?;
    Ok(if problems > 0 {
        Status::Problems
    } else {
        Status::Ok
    })
}

fn same_file_ignoring_case(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}
