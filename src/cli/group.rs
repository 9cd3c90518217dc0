//! `folio group GROUP`: a buyer group's members and combined business.

use super::{CmdResult, Ctx, Failure, Format, Status, print};
use crate::group;
use crate::output::style::{self, paint};
use std::fmt::Write;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The group id (the `group` value shared by its records)
    pub group: String,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

pub fn run(ctx: &Ctx, args: Args) -> CmdResult {
    let repo = ctx.open_repo_strict()?;
    let loaded = repo.load(super::as_of(None));
    let view = group::view(&loaded.records, &args.group).map_err(|e| {
        let f = Failure::new(e.to_string());
        if let Some(m) = &e.did_you_mean {
            f.hint(format!("did you mean \"{m}\"?"))
        } else if !e.groups.is_empty() {
            f.hint(format!("groups: {}", e.groups.join(", ")))
        } else {
            f
        }
    })?;
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&view)? + "\n",
        Format::Human => {
            let mut s = format!(
                "{} {} ({})\n",
                paint(style::BOLD, "group"),
                paint(style::BOLD, &args.group),
                crate::output::plural(view.members.len(), "member")
            );
            for m in &view.members {
                let _ = writeln!(
                    s,
                    "\n  {}  owner: {}\n  {}",
                    paint(style::BOLD, &m.display_name),
                    m.owner.unwrap_or("(pool)"),
                    paint(style::DIM, m.path)
                );
                for t in &m.titles[1..] {
                    let _ = writeln!(
                        s,
                        "    title: {}{}",
                        t.name,
                        t.registration
                            .map(|r| format!("  (reg. {r})"))
                            .unwrap_or_default()
                    );
                }
            }
            let _ = writeln!(s, "\n{}", paint(style::BOLD, "business, by date"));
            // each member by the name of its record (its first title)
            let names: std::collections::HashMap<&str, &str> = view
                .members
                .iter()
                .map(|m| (m.id, m.titles[0].name))
                .collect();
            for e in &view.events {
                let d = e
                    .date
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "(no date)".into());
                let _ = writeln!(
                    s,
                    "  {d}  {:<8} {}  {}",
                    e.kind,
                    names.get(e.customer).copied().unwrap_or(""),
                    e.text
                );
            }
            if view.events.is_empty() {
                s.push_str("  (no quotes, orders or follow-ups yet)\n");
            }
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
