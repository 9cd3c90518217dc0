//! `folio index [--full]`: bring the search index up to date.

use super::{CmdResult, Ctx, Format, Status, eprint, print};
use crate::output::style::{self, paint};
use crate::search::{Observer, Report, Store};
use indicatif::{ProgressBar, ProgressStyle};
use std::cell::RefCell;
use std::io::IsTerminal;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rebuild the index from scratch instead of re-indexing what changed
    #[arg(long)]
    pub full: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// Shows a progress bar for a rebuild on a terminal, nothing on a pipe, and
/// says so when another folio process holds the index.
pub(super) struct CliObserver {
    bar: RefCell<Option<ProgressBar>>,
    /// Say on stderr that a rebuild starts, and why (for `folio search`).
    pub announce: bool,
}

impl CliObserver {
    pub fn new(announce: bool) -> Self {
        CliObserver {
            bar: RefCell::new(None),
            announce,
        }
    }
}

impl Observer for CliObserver {
    fn waiting(&self) {
        eprint(&format!(
            "{} another folio process is updating the search index; waiting for it\n",
            paint(style::NOTE, "note:")
        ));
    }

    fn rebuilding(&self, total: u64, reason: &str) {
        if self.announce {
            eprint(&format!(
                "{} building the search index ({reason})\n",
                paint(style::NOTE, "note:")
            ));
        }
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total);
            if let Ok(s) = ProgressStyle::with_template(
                "{spinner} indexing {bar:40} {pos}/{len} records ({eta} left)",
            ) {
                bar.set_style(s);
            }
            *self.bar.borrow_mut() = Some(bar);
        }
    }

    fn progress(&self, n: u64) {
        if let Some(b) = self.bar.borrow().as_ref() {
            b.inc(n);
        }
    }

    fn indexed(&self) {
        if let Some(b) = self.bar.borrow_mut().take() {
            b.finish_and_clear();
        }
    }
}

/// Warnings for record files left out of the index (`unreadable`: those
/// of `skipped` that cannot be read).
pub(super) fn warn_skipped(skipped: &[String], unreadable: &[String]) {
    const SHOWN: usize = 10;
    for p in skipped.iter().take(SHOWN) {
        let why = if unreadable.contains(p) {
            "is not a record folio can read (not a regular file, too large, or not readable: check its permissions)"
        } else {
            "does not parse"
        };
        eprint(&format!(
            "{} {p} {why} and is left out of the search index (run `folio check {p}` for details)\n",
            paint(style::WARNING, "warning:")
        ));
    }
    if skipped.len() > SHOWN {
        eprint(&format!(
            "{} {} more record files do not parse or cannot be read as records (run `folio check`)\n",
            paint(style::WARNING, "warning:"),
            skipped.len() - SHOWN
        ));
    }
}

fn short(head: &Option<String>) -> String {
    match head {
        Some(h) => format!("commit {}", &h[..h.len().min(12)]),
        None => "no git commit".to_string(),
    }
}

/// One line about what an index run did.
pub(super) fn summary(r: &Report) -> String {
    let records = format!(
        "{} record{}",
        r.records,
        if r.records == 1 { "" } else { "s" }
    );
    if r.full {
        let why = match r.reason.as_deref() {
            Some(x) if x != "--full was asked for" => format!(" because {x}"),
            _ => String::new(),
        };
        format!(
            "rebuilt the search index{why}: {records} ({} and the working tree)\n",
            short(&r.head)
        )
    } else if r.changes() == 0 {
        format!(
            "the search index is up to date: {records} ({} and the working tree)\n",
            short(&r.head)
        )
    } else {
        format!(
            "updated the search index: {} added, {} modified, {} renamed, {} deleted; {records} ({} and the working tree)\n",
            r.added,
            r.modified,
            r.renamed,
            r.deleted,
            short(&r.head)
        )
    }
}

pub fn run(ctx: &Ctx, args: Args) -> CmdResult {
    let repo = ctx.open_repo()?;
    let obs = CliObserver::new(false);
    let report = Store::new(&repo).refresh(args.full, &obs)?;
    obs.indexed();
    match args.format {
        Format::Human => print(&summary(&report))?,
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&report).unwrap_or_default();
            s.push('\n');
            super::print_data(&s)?;
        }
    }
    warn_skipped(&report.skipped, &report.unreadable);
    Ok(Status::Ok)
}
