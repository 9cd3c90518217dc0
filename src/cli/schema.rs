//! `folio schema`.

use super::{CmdResult, Ctx, Status};
use std::path::PathBuf;

#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Write the record schema (built-in plus the team's fields) as JSON Schema, for editors
    Export {
        /// Write to this file instead of standard output
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

pub fn run(ctx: &Ctx, cmd: Cmd) -> CmdResult {
    match cmd {
        Cmd::Export { output } => {
            let repo = ctx.open_repo_strict().ok();
            let schema = repo
                .map(|r| r.schema)
                .unwrap_or_else(crate::schema::Schema::builtin);
            let mut text = serde_json::to_string_pretty(&schema.to_json_schema())?;
            text.push('\n');
            match output {
                Some(p) => crate::edit::write_atomic(&p, text.as_bytes())?,
                None => super::print_data(&text)?,
            }
            Ok(Status::Ok)
        }
    }
}
