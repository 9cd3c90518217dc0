//! `folio tags`: the tags that recent follow-ups suggest (from
//! `[[tag_rules]]` in folio.toml), and adding them to the records.

use super::{CmdResult, Ctx, Failure, Format, Status, eprint, print};
use crate::followups::{Hint, Tagger};
use crate::output::style::{self, paint};
use chrono::NaiveDate;
use serde::Serialize;
use std::fmt::Write;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Add the suggested tags to the records (keeping the rest of each file as it is)
    #[arg(long)]
    pub apply: bool,
    /// Commit the changed records (with --apply)
    #[arg(long, requires = "apply")]
    pub commit: bool,
    /// With --commit: commit records even if they have uncommitted changes (they go into folio's commit)
    #[arg(long, requires = "commit")]
    pub include_dirty: bool,
    /// Date to check the records against instead of today (YYYY-MM-DD)
    #[arg(long, value_parser = super::parse_date, value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Serialize)]
struct Item<'a> {
    id: &'a str,
    path: &'a str,
    display_name: String,
    hints: &'a [Hint],
    /// With --apply: whether the tags were added.
    #[serde(skip_serializing_if = "Option::is_none")]
    applied: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

pub fn run(ctx: &Ctx, a: Args) -> CmdResult {
    // --apply changes the records: the write lock, before they are read
    let repo = if a.apply {
        ctx.open_writer()?
    } else {
        ctx.open_repo_strict()?
    };
    let as_of = super::as_of(a.as_of);
    if repo.config.tag_rules.is_empty() {
        return Err(Failure::new("folio.toml has no [[tag_rules]]")
            .hint("add rules such as:\n  [[tag_rules]]\n  keywords = [\"comparing\", \"other supplier\", \"对比\"]\n  tag = \"comparing-competitors\"\n  advice = \"stress QC certification and after-sales service\""));
    }
    let loaded = repo.load(as_of);
    for p in &loaded.unreadable {
        eprint(&format!(
            "{} skipped {p}: it cannot be parsed (run `folio check {p}`)\n",
            paint(style::WARNING, "warning:")
        ));
    }
    let tagger = Tagger::new(&repo.config.tag_rules, &repo.config.followups);
    let found: Vec<(&crate::repo::Record, Vec<Hint>)> = loaded
        .records
        .iter()
        .map(|r| (r, tagger.hints(&r.customer)))
        .filter(|(_, h)| !h.is_empty())
        .collect();

    let mut results: Vec<(Option<bool>, Option<String>)> = vec![(None, None); found.len()];
    let mut changed = Vec::new();
    let mut commit_note = String::new();
    if a.apply {
        let mut session = crate::session::Session::new(&repo, as_of);
        for (i, (r, hints)) in found.iter().enumerate() {
            let tags: Vec<String> = hints.iter().map(|h| h.tag.clone()).collect();
            results[i] = match session.edit(&r.path, |text| crate::edit::add_tags(text, &tags)) {
                Ok(true) => {
                    changed.push(r.path.clone());
                    (Some(true), None)
                }
                Ok(false) => (Some(false), None),
                Err(e) => (Some(false), Some(e.to_string())),
            };
        }
        let finish = if a.commit && !changed.is_empty() {
            let mut message = format!(
                "tags: add suggested tags to {}\n\n",
                crate::output::plural(changed.len(), "customer")
            );
            for (i, (r, hints)) in found.iter().enumerate() {
                if results[i].0 == Some(true) {
                    let tags: Vec<&str> = hints.iter().map(|h| h.tag.as_str()).collect();
                    let _ = writeln!(
                        message,
                        "{}: {}",
                        r.customer.display_name(),
                        tags.join(", ")
                    );
                }
            }
            crate::session::Finish::Commit(crate::session::CommitRequest::new(
                message,
                a.include_dirty,
            ))
        } else {
            crate::session::Finish::Write
        };
        let applied = session.apply(finish).map_err(super::session_failure)?;
        commit_note = super::session_report(&applied);
    }
    let failed = results.iter().filter(|r| r.1.is_some()).count();

    let text = match a.format {
        Format::Json => {
            let items: Vec<Item> = found
                .iter()
                .zip(&results)
                .map(|((r, h), res)| Item {
                    id: &r.customer.id,
                    path: &r.path,
                    display_name: r.customer.display_name(),
                    hints: h,
                    applied: res.0,
                    error: res.1.clone(),
                })
                .collect();
            let mut s = serde_json::to_string_pretty(&serde_json::json!({ "items": items }))
                .map_err(|e| Failure::new(format!("cannot write JSON: {e}")))?;
            s.push('\n');
            s
        }
        Format::Human => {
            let mut out = String::new();
            for ((r, hints), res) in found.iter().zip(&results) {
                let _ = writeln!(
                    out,
                    "{}  {}",
                    paint(style::BOLD, &r.path),
                    r.customer.display_name()
                );
                for h in hints {
                    let date = h.date.map(|d| format!(" on {d}")).unwrap_or_default();
                    let advice = if h.advice.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", h.advice)
                    };
                    let _ = writeln!(
                        out,
                        "  {} {} (\"{}\"{date}){advice}",
                        if res.0 == Some(true) { "added" } else { "tag" },
                        paint(style::NOTE, &h.tag),
                        h.keyword
                    );
                }
                if let Some(e) = &res.1 {
                    let _ = writeln!(out, "  {} {e}", paint(style::ERROR, "not changed:"));
                }
            }
            if found.is_empty() {
                out.push_str(
                    "no tags to suggest: recent follow-ups match no rule the records lack\n",
                );
            } else if a.apply {
                let _ = writeln!(
                    out,
                    "added tags to {}{}",
                    crate::output::plural(changed.len(), "record"),
                    if failed > 0 {
                        format!("; {failed} could not be changed")
                    } else {
                        String::new()
                    }
                );
            } else {
                let _ = writeln!(
                    out,
                    "{} with suggested tags; run `folio tags --apply` to add them",
                    crate::output::plural(found.len(), "record")
                );
            }
            out.push_str(&commit_note);
            out
        }
    };
    if a.format == Format::Json {
        super::print_data(&text)?;
    } else {
        print(&text)?;
    }
    Ok(if failed > 0 {
        Status::Problems
    } else {
        Status::Ok
    })
}
