//! `folio dupes`: every candidate duplicate pair, strongest first.

use super::{CmdResult, Ctx, Format, Status, print};
use crate::duplicates::{self, Pair};
use crate::output::style::{self, paint};
use crate::repo::Record;
use serde::Serialize;
use std::fmt::Write;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Show only pairs scoring at least this (0 to 1)
    #[arg(long, default_value_t = 0.0, value_name = "S")]
    pub min_score: f64,
    /// Include pairs the team marked as not duplicates
    #[arg(long)]
    pub all: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Serialize)]
struct Side<'a> {
    id: &'a str,
    path: &'a str,
    display_name: String,
}

#[derive(Serialize)]
struct JsonPair<'a> {
    score: f64,
    a: Side<'a>,
    b: Side<'a>,
    matches: &'a [duplicates::Match],
    exempt: Option<&'a str>,
}

fn side(r: &Record) -> Side<'_> {
    Side {
        id: &r.customer.id,
        path: &r.path,
        display_name: r.customer.display_name(),
    }
}

pub fn run(ctx: &Ctx, args: Args) -> CmdResult {
    if !(0.0..=1.0).contains(&args.min_score) {
        return Err(super::Failure::new(
            "--min-score takes a number from 0 to 1",
        ));
    }
    let repo = ctx.open_repo_strict()?;
    let loaded = repo.load_slim_unchecked();
    for p in &loaded.unreadable {
        super::eprint(&format!(
            "warning: skipped {p}, which cannot be parsed (run `folio check`)\n"
        ));
    }
    let recs = &loaded.records;
    let pairs: Vec<Pair> = duplicates::find_pairs(recs, &repo.config.duplicates)
        .into_iter()
        .filter(|p| p.score >= args.min_score && (args.all || p.exempt.is_none()))
        .collect();
    let text = match args.format {
        Format::Json => {
            let out: Vec<JsonPair> = pairs
                .iter()
                .map(|p| JsonPair {
                    score: p.score,
                    a: side(&recs[p.a]),
                    b: side(&recs[p.b]),
                    matches: &p.matches,
                    exempt: p.exempt.as_deref(),
                })
                .collect();
            serde_json::to_string_pretty(&out)? + "\n"
        }
        Format::Human => {
            let mut s = String::new();
            for p in &pairs {
                let (a, b) = (&recs[p.a], &recs[p.b]);
                let score = format!("{:.2}", p.score);
                let sty = if p.exempt.is_some() {
                    style::DIM
                } else if p.is_error() {
                    style::ERROR
                } else {
                    style::WARNING
                };
                let _ = writeln!(
                    s,
                    "{} {} ~ {}",
                    paint(sty, score),
                    paint(style::BOLD, a.customer.display_name()),
                    paint(style::BOLD, b.customer.display_name())
                );
                let _ = writeln!(s, "     {}\n     {}", a.path, b.path);
                for m in &p.matches {
                    let _ = writeln!(
                        s,
                        "     {}: \"{}\" ~ \"{}\" ({})",
                        m.key.as_str(),
                        m.a,
                        m.b,
                        m.explanation
                    );
                }
                if let Some(r) = &p.exempt {
                    let _ = writeln!(
                        s,
                        "     {} {r}",
                        paint(style::NOTE, "marked not duplicates:")
                    );
                }
            }
            let exempt = pairs.iter().filter(|p| p.exempt.is_some()).count();
            let _ = writeln!(
                s,
                "{} among {}{}",
                crate::output::plural(pairs.len(), "candidate pair"),
                crate::output::plural(recs.len(), "record"),
                if exempt > 0 {
                    format!(" ({exempt} marked not duplicates)")
                } else {
                    String::new()
                }
            );
            s
        }
    };
    if args.format == Format::Json {
        super::print_data(&text)?;
    } else {
        print(&text)?;
    }
    Ok(Status::Ok)
}
