//! `folio export`: records out as CSV, XLSX, JSON or vCard.

use super::{CmdResult, Ctx, Failure, Status};
use crate::export::{self, Filter, Redactor};
use crate::repo::Record;
use chrono::NaiveDate;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, clap::ValueEnum, PartialEq, Eq)]
pub enum ExportFormat {
    /// One row per customer, contacts flattened into columns
    Csv,
    /// Customers, Contacts, Quotes, Orders and Followups sheets
    Xlsx,
    /// An array of records
    Json,
    /// vCard 4.0, one card per contact person
    Vcf,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Export only the records this search selects (the `folio search` query language)
    #[arg(value_name = "QUERY")]
    pub query: Option<String>,
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    pub format: ExportFormat,
    /// Columns (CSV, XLSX) or keys (JSON) to export, in this order (comma-separated)
    #[arg(long, value_delimiter = ',', value_name = "FIELDS")]
    pub fields: Vec<String>,
    /// Replace contact names, e-mails, phones and messaging handles with placeholders
    #[arg(long)]
    pub redact: bool,
    /// Only records whose FIELD is VALUE (repeat: the same field is either value, different fields all)
    #[arg(long = "where", value_name = "FIELD=VALUE")]
    pub filters: Vec<Filter>,
    /// Write to FILE instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// "Today" for reading the records
    #[arg(long, value_parser = super::parse_date, value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
    /// CSV: write cells as they are, for programs rather than spreadsheets.
    /// By default a cell starting with =, +, -, @, a tab or a carriage
    /// return gets a ' in front so that a spreadsheet does not run it as a
    /// formula; a plain number such as -5 stays as it is. `folio import`
    /// takes the ' off again.
    #[arg(long)]
    pub raw: bool,
}

pub fn run(ctx: &Ctx, a: Args) -> CmdResult {
    if a.raw && a.format != ExportFormat::Csv {
        return Err(Failure::new("--raw applies to --format csv only"));
    }
    let repo = ctx.open_repo()?;
    let loaded = repo.load(super::as_of(a.as_of));
    let selected: Option<std::collections::HashSet<String>> = match &a.query {
        Some(q) => {
            let results = crate::search::Store::new(&repo)
                .search(q, loaded.records.len().max(1), true, &crate::search::Quiet)
                .map_err(super::search::search_failure)?;
            Some(results.hits.into_iter().map(|h| h.path).collect())
        }
        None => None,
    };
    let mut records: Vec<Record> = loaded
        .records
        .into_iter()
        .filter(|r| selected.as_ref().is_none_or(|s| s.contains(&r.path)))
        .filter(|r| export::matches(&r.customer, &a.filters))
        .collect();
    if a.redact {
        let mut r = Redactor::default();
        for rec in &mut records {
            r.customer(&mut rec.customer);
        }
    }
    let refs: Vec<&Record> = records.iter().collect();
    let bytes: Vec<u8> = match a.format {
        ExportFormat::Csv => {
            let cols = export::select_columns(&export::csv_columns(&refs, true), &a.fields)
                .map_err(Failure::new)?;
            export::to_csv(&refs, &cols, a.raw)?
        }
        ExportFormat::Xlsx => {
            if a.output.is_none() && std::io::stdout().is_terminal() {
                return Err(Failure::new(
                    "an XLSX workbook is binary: write it with -o FILE.xlsx",
                ));
            }
            let cols = export::select_columns(&export::csv_columns(&refs, false), &a.fields)
                .map_err(Failure::new)?;
            export::to_xlsx(&refs, &cols)?
        }
        ExportFormat::Json => {
            if let Some(f) = a
                .fields
                .iter()
                .find(|f| !export::JSON_FIELDS.contains(&f.as_str()))
            {
                return Err(Failure::new(format!(
                    "no key `{f}` in a record (keys: {})",
                    export::JSON_FIELDS.join(", ")
                )));
            }
            let v = export::to_json(&refs, &a.fields, !a.redact);
            let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
            s.push('\n');
            s.into_bytes()
        }
        ExportFormat::Vcf => {
            if !a.fields.is_empty() {
                return Err(Failure::new("--fields does not apply to vCard"));
            }
            export::to_vcf(&refs).into_bytes()
        }
    };
    match &a.output {
        Some(p) => {
            crate::edit::write_atomic(p, &bytes)
                .map_err(|e| Failure::new(format!("cannot write {}: {e}", p.display())))?;
            let name = match a.format {
                ExportFormat::Csv => "CSV",
                ExportFormat::Xlsx => "XLSX",
                ExportFormat::Json => "JSON",
                ExportFormat::Vcf => "vCard",
            };
            super::eprint(&format!(
                "{} to {}\n",
                export::describe(records.len(), name),
                p.display()
            ));
        }
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(&bytes).and_then(|_| out.flush()) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(Status::Ok),
                Err(e) => return Err(Failure::new(format!("cannot write output: {e}"))),
            }
        }
    }
    if !loaded.unreadable.is_empty() {
        super::eprint(&format!(
            "warning: {} record file(s) could not be read and are not exported (run `folio check`): {}\n",
            loaded.unreadable.len(),
            loaded.unreadable.join(", ")
        ));
        return Ok(Status::Problems);
    }
    Ok(Status::Ok)
}
