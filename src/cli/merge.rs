//! `folio merge`: duplicate customers into one record.

use super::{CmdResult, Ctx, Failure, Format, Status, print};
use crate::merge::{self, Prefer};
use crate::output::style::{self, paint};
use chrono::NaiveDate;
use clap::ValueEnum;
use std::fmt::Write as _;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The record to keep (id or path)
    pub keep: String,
    /// Records merged into it and removed (ids or paths)
    #[arg(required = true)]
    pub others: Vec<String>,
    /// Settle conflicting values with the kept record's or the others'
    #[arg(long, value_enum)]
    pub prefer: Option<PreferArg>,
    /// Commit the change (message `merge <ids> into <id>`, one Folio-Merged trailer per id)
    #[arg(long)]
    pub commit: bool,
    /// With --commit: commit even if the records have uncommitted changes (they go into folio's commit)
    #[arg(long, requires = "commit")]
    pub include_dirty: bool,
    /// Report what would happen; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// "Today" for reading the records
    #[arg(long, value_parser = super::parse_date, value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

pub fn run(ctx: &Ctx, a: Args) -> CmdResult {
    let repo = ctx.open_writer()?;
    let loaded = repo.load(super::as_of(a.as_of));
    let records = &loaded.records;
    // the one resolver; the record's place in the list
    let find = |arg: &str| -> Result<usize, Failure> {
        let r = crate::resolve::resolve(records, arg, &repo.root)
            .map_err(|e| super::resolve_failure(e, &loaded.unreadable))?;
        Ok(records
            .iter()
            .position(|x| std::ptr::eq(x, r))
            .unwrap_or_default())
    };
    let keep = find(&a.keep)?;
    let mut others = Vec::new();
    for o in &a.others {
        let i = find(o)?;
        if i == keep || others.contains(&i) {
            return Err(Failure::new(format!(
                "`{o}` ({}) is named twice",
                records[i].path
            )));
        }
        others.push(i);
    }
    let kept = &records[keep];
    let plan = merge::plan(
        records,
        keep,
        &others,
        a.prefer.map(Prefer::from),
        &repo.template,
        &repo.root,
    );
    let (path, merged, conflicts, reports) =
        (&plan.path, &plan.merged, &plan.conflicts, &plan.others);
    if plan.blocked(a.prefer.map(Prefer::from)) {
        if a.format == Format::Json {
            let v = serde_json::json!({ "merged": false, "keep": kept.customer.id, "conflicts": conflicts });
            super::print_data(&format!(
                "{}\n",
                serde_json::to_string_pretty(&v).unwrap_or_default()
            ))?;
        }
        let mut f = Failure::new(format!(
            "cannot merge: {} conflicting value{}; nothing was changed",
            conflicts.len(),
            if conflicts.len() == 1 { "" } else { "s" }
        ));
        for c in conflicts {
            f = f.hint(format!(
                "{}: {} has \"{}\", {} has \"{}\"",
                c.conflict.field, kept.customer.id, c.conflict.keep, c.other_id, c.conflict.other
            ));
        }
        return Err(
            f.hint("edit the records so they agree, or pass --prefer keep or --prefer other")
        );
    }
    let as_of = super::as_of(a.as_of);
    let mut session = crate::session::Session::new(&repo, as_of);
    let removes =
        merge::apply(&mut session, records, keep, &others, &plan).map_err(|e| match e {
            merge::ApplyError::Session(e) => super::session_failure(e),
            e => Failure::new(e.to_string()),
        })?;
    let ids: Vec<&str> = others
        .iter()
        .map(|&i| records[i].customer.id.as_str())
        .collect();
    let mut commit = None;
    let mut commit_note = String::new();
    if !a.dry_run {
        let finish = if a.commit {
            let msg = merge::message(&ids, &kept.customer.id);
            crate::session::Finish::Commit(crate::session::CommitRequest::new(msg, a.include_dirty))
        } else {
            crate::session::Finish::Write
        };
        let applied = session.apply(finish).map_err(super::session_failure)?;
        commit_note = super::session_report(&applied);
        commit = applied.commit.map(|c| c.oid.to_string());
    }
    match a.format {
        Format::Json => {
            let v = serde_json::json!({
                "merged": true,
                "dry_run": a.dry_run,
                "keep": kept.customer.id,
                "path": path,
                "moved_from": (*path != kept.path).then(|| kept.path.clone()),
                "others": reports,
                "conflicts": conflicts,
                "removed": removes,
                "commit": commit,
            });
            super::print_data(&format!(
                "{}\n",
                serde_json::to_string_pretty(&v).unwrap_or_default()
            ))?;
        }
        Format::Human => {
            let mut o = String::new();
            let verb = if a.dry_run { "would merge" } else { "merged" };
            let _ = writeln!(
                o,
                "{} {} into {} ({})",
                paint(style::GOOD, verb),
                ids.join(", "),
                path,
                merged.display_name()
            );
            if *path != kept.path {
                let _ = writeln!(o, "  moved from {} (the naming rule)", kept.path);
            }
            for r in reports {
                let changes = if r.changes.is_empty() {
                    "nothing new".to_string()
                } else {
                    r.changes.join(", ")
                };
                let _ = writeln!(o, "  from {} ({}): {changes}", r.id, r.path);
            }
            for c in conflicts {
                let took = match c.conflict.taken {
                    Some(Prefer::Other) => &c.conflict.other,
                    _ => &c.conflict.keep,
                };
                let _ = writeln!(
                    o,
                    "  {} {}: {} \"{}\", {} \"{}\" -> \"{took}\"",
                    paint(style::WARNING, "settled"),
                    c.conflict.field,
                    kept.customer.id,
                    c.conflict.keep,
                    c.other_id,
                    c.conflict.other
                );
            }
            for r in &removes {
                let _ = writeln!(
                    o,
                    "  {} {r}",
                    if a.dry_run { "would remove" } else { "removed" }
                );
            }
            o.push_str(&commit_note);
            print(&o)?;
        }
    }
    Ok(Status::Ok)
}

/// `--prefer`: the command line's spelling of [`Prefer`] (clap's types
/// stay out of the library).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PreferArg {
    /// The kept record's value.
    Keep,
    /// The other record's value.
    Other,
}

impl From<PreferArg> for Prefer {
    fn from(p: PreferArg) -> Prefer {
        match p {
            PreferArg::Keep => Prefer::Keep,
            PreferArg::Other => Prefer::Other,
        }
    }
}
