//! `folio log CUSTOMER`: a customer's field-level change log, newest first.
//! Also the helpers the history commands share.

use super::{CmdResult, Ctx, Failure, Format, Status, eprint, print};
use crate::history::diff::FieldChange;
use crate::history::{History, HistoryStatus, LogEntry};
use crate::output::style::{self, paint};
use crate::repo::Repo;
use chrono::NaiveDate;
use serde_json::json;
use std::fmt::Write as _;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The customer: an id, a record path, or a search matching one record's name
    pub customer: String,
    /// Only changes of this field (`owner`, `tier`, `followups`, `contacts.email`...)
    #[arg(long, value_name = "FIELD")]
    pub field: Option<String>,
    /// Only commits from this date on (YYYY-MM-DD, in the commit's time zone)
    #[arg(long, value_parser = super::parse_date, value_name = "DATE")]
    pub since: Option<NaiveDate>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// Open (and bring up to date) the history, printing notes about an
/// incomplete history on stderr.
pub(super) fn open_history(repo: &Repo) -> Result<History, Failure> {
    let h = History::open(&repo.root, &repo.cache_dir()).map_err(|e| {
        let f = Failure::new(e.to_string());
        match e {
            crate::history::HistoryError::NotGit(_) => f.hint(
                "history commands read the git history: run `git init` and commit the records",
            ),
            _ => f,
        }
    })?;
    print_notes(&h.status);
    Ok(h)
}

pub(super) fn print_notes(s: &HistoryStatus) {
    for n in s.notes() {
        eprint(&format!("{} {n}\n", paint(style::NOTE, "note:")));
    }
}

/// The customer a command line names, as (id, label for headings).
pub(super) fn customer_id(
    repo: &Repo,
    h: &History,
    query: &str,
) -> Result<(String, String), Failure> {
    let label_of = |id: &str| -> String {
        let path = h
            .customer(id)
            .last()
            .and_then(|c| c.path().map(str::to_string));
        let name = path
            .as_ref()
            .and_then(|p| crate::repo::read_file(&repo.root.join(p)).ok())
            .and_then(|b| {
                let t = String::from_utf8_lossy(&b).into_owned();
                let m = crate::history::diff::parse(&t).ok()?;
                let s = |k: &str| m.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
                Some(crate::naming::display_name(
                    &s("name"),
                    &s("contact"),
                    &s("country"),
                ))
            });
        match (name, path) {
            (Some(n), _) => format!("{n} ({id})"),
            (None, Some(p)) => format!("{id} ({p})"),
            (None, None) => id.to_string(),
        }
    };
    let q = query.trim();
    if h.knows_id(q) {
        return Ok((q.to_string(), label_of(q)));
    }
    // A path, relative to the current folder or to the data root.
    let cwd = std::env::current_dir()?;
    for base in [&cwd, &repo.root] {
        let abs = base.join(q);
        if abs.is_file()
            && let Ok(b) = crate::repo::read_file(&abs)
            && let Some(id) = crate::history::walk::scan_meta(&b).id
        {
            return Ok((id.clone(), label_of(&id)));
        }
        let rel = abs
            .strip_prefix(&repo.root)
            .ok()
            .map(|_| repo.rel(&abs))
            .unwrap_or_else(|| q.trim_start_matches("./").to_string());
        if let Some(id) = h.id_at_path(&rel) {
            return Ok((id.to_string(), label_of(id)));
        }
    }
    let loaded = repo.load(super::as_of(None));
    crate::resolve::resolve(&loaded.records, q, &repo.root)
        .map(|r| {
            (
                r.customer.id.clone(),
                format!("{} ({})", r.customer.display_name(), r.customer.id),
            )
        })
        .map_err(|e| super::resolve_failure(e, &loaded.unreadable))
}

/// A history command in a repository without commits: the note on stderr
/// says why; JSON output is still JSON (an empty list).
pub(super) fn no_history(format: Format) -> CmdResult {
    if format == Format::Json {
        super::print_data("[]\n")?;
    }
    Ok(Status::Ok)
}

pub(super) fn commit_json(c: Option<&crate::history::CommitInfo>) -> serde_json::Value {
    match c {
        Some(c) => json!({
            "commit": c.commit, "author": c.author, "email": c.email,
            "date": c.date, "message": c.message,
        }),
        None => json!({
            "commit": null, "author": null, "email": null, "date": null,
            "message": "uncommitted changes",
        }),
    }
}

pub(super) fn changes_json(ch: &[FieldChange]) -> serde_json::Value {
    serde_json::to_value(ch).unwrap_or_default()
}

/// Human lines for a list of field changes, indented.
pub(super) fn human_changes(out: &mut String, ch: &[FieldChange], indent: &str) {
    for c in ch {
        let line = c.human();
        let styled = if line.starts_with("+1 ") || line.starts_with("created") {
            paint(style::GOOD, &line)
        } else if line.starts_with("-1 ") || line.starts_with("deleted") {
            paint(style::ERROR, &line)
        } else {
            line
        };
        let _ = writeln!(out, "{indent}{styled}");
    }
}

pub fn run(ctx: &Ctx, a: Args) -> CmdResult {
    let repo = ctx.open_repo()?;
    let h = open_history(&repo)?;
    if h.status.no_commits {
        return no_history(a.format);
    }
    let (id, label) = customer_id(&repo, &h, &a.customer)?;
    let mut entries: Vec<LogEntry> = h.log(&id, &repo.root)?;
    if let Some(d) = a.since {
        entries.retain(|e| e.commit.as_ref().is_none_or(|c| c.day >= d));
    }
    if let Some(f) = &a.field {
        for e in &mut entries {
            e.changes.retain(|c| c.matches(f));
        }
        entries.retain(|e| !e.changes.is_empty());
    }
    match a.format {
        Format::Json => {
            let v: Vec<serde_json::Value> = entries
                .iter()
                .map(|e| {
                    let mut o = commit_json(e.commit.as_ref());
                    o["changes"] = changes_json(&e.changes);
                    o
                })
                .collect();
            super::print_data(&format!("{}\n", serde_json::to_string_pretty(&v)?))?;
        }
        Format::Human => {
            let mut out = format!("{}\n", paint(style::BOLD, &label));
            if entries.is_empty() {
                out.push_str("no changes match\n");
            }
            for e in &entries {
                out.push('\n');
                match &e.commit {
                    Some(c) => {
                        let _ = writeln!(
                            out,
                            "{} {}  {} <{}>",
                            paint(style::WARNING, c.short()),
                            paint(style::DIM, c.when()),
                            c.author,
                            c.email
                        );
                        let _ = writeln!(out, "  {}", c.message);
                    }
                    None => {
                        let _ = writeln!(out, "{}", paint(style::WARNING, "uncommitted changes"));
                    }
                }
                human_changes(&mut out, &e.changes, "    ");
            }
            print(&out)?;
        }
    }
    Ok(Status::Ok)
}
