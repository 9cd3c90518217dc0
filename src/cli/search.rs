//! `folio search QUERY`: find customers (refreshing the index first).

use super::index::{CliObserver, warn_skipped};
use super::{CmdResult, Ctx, Failure, Format, Status, eprint, print};
use crate::output::style::{self, paint};
use crate::search::{Hit, SearchError, Store};
use serde_json::json;

#[derive(Debug, clap::Args)]
#[command(after_help = "Query language:
  muller pump              records with both words (any text field)
  \"comparing with\"         a phrase
  上海                      Chinese or Japanese: any run of two or more characters
  +49 30 123               a phone number, whatever its spacing
  email:abc.example        an e-mail address, its domain or local part
  owner:none               customers in the pool (no owner)
  tier:A,B stage:negotiating country:DE owner:alice type:smb id:C1
  name: contact: tag: industry: group: city: source: phone:
  created:>=2025-01-01     dates: >=, >, <=, <, FROM..TO, a day, 2025-01 or 2025
  next_followup:<2026-01-01  followup:2025-03
  a OR b, a AND b, NOT a, -a, (groups)")]
pub struct Args {
    /// What to look for (several words are joined by spaces; put `--` before
    /// a query that starts with `-`)
    #[arg(required = true, num_args = 1.., value_name = "QUERY")]
    pub query: Vec<String>,
    /// Show at most N hits
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub limit: usize,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Answer from the index as it is, without checking the files for
    /// changes first (faster; misses edits made since the last refresh)
    #[arg(long)]
    pub no_refresh: bool,
}

fn human(hits: &[Hit], plain: bool) -> String {
    let mut out = String::new();
    for h in hits {
        let owner = h.owner.as_deref().unwrap_or("(pool)");
        let snippet = if plain {
            h.snippet.marked(|m| format!("**{m}**"))
        } else {
            h.snippet.marked(|m| paint(style::MATCH, m))
        };
        let mut line = format!(
            "{}  {}  {}  {}  {}",
            paint(style::BOLD, &h.display_name),
            owner,
            h.tier,
            h.stage,
            paint(style::DIM, &h.path),
        );
        if !snippet.is_empty() {
            line.push_str("  ");
            line.push_str(&snippet);
        }
        line.push('\n');
        out.push_str(&line);
    }
    out
}

fn json_hits(hits: &[Hit]) -> String {
    let v: Vec<serde_json::Value> = hits
        .iter()
        .map(|h| {
            json!({
                "id": h.id,
                "path": h.path,
                "display_name": h.display_name,
                "owner": h.owner,
                "tier": h.tier,
                "stage": h.stage,
                "score": (h.score as f64 * 1000.0).round() / 1000.0,
                "snippet": h.snippet.text,
                "highlights": h.snippet.char_ranges(),
            })
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

/// A failed search as the command's failure: a malformed query says so,
/// with a pointer to the query language (exit status 2 either way).
pub(super) fn search_failure(e: SearchError) -> Failure {
    match e {
        SearchError::Query(e) => Failure::new(format!("bad query: {e}"))
            .hint("see `folio search --help` for the query language"),
        e => e.into(),
    }
}

pub fn run(ctx: &Ctx, args: Args) -> CmdResult {
    let query = args.query.join(" ");
    if args.limit == 0 {
        return Err(Failure::new("--limit must be at least 1"));
    }
    let repo = ctx.open_repo()?;
    let obs = CliObserver::new(true);
    let results = match Store::new(&repo).search(&query, args.limit, !args.no_refresh, &obs) {
        Ok(r) => r,
        Err(e) => return Err(search_failure(e)),
    };
    match args.format {
        Format::Human => {
            let plain =
                anstream::AutoStream::choice(&std::io::stdout()) == anstream::ColorChoice::Never;
            print(&human(&results.hits, plain))?;
            if results.hits.is_empty() {
                eprint(&format!("no customer matches `{query}`\n"));
            } else if results.total > results.hits.len() {
                eprint(&format!(
                    "{} of {} matching customers shown (use --limit N for more)\n",
                    results.hits.len(),
                    results.total
                ));
            }
        }
        Format::Json => super::print_data(&json_hits(&results.hits))?,
    }
    warn_skipped(&results.skipped, &results.unreadable);
    Ok(Status::Ok)
}
