//! `folio import`: customers from a CSV or workbook, all or nothing.

use super::{CmdResult, Ctx, Failure, Format, Status, print};
use crate::import::sheet::{Encoding, ReadOptions};
use crate::import::{self, Env, Ids, Mapping, OnDuplicate};
use crate::output::style::{self, paint};
use chrono::NaiveDate;
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, clap::ValueEnum, PartialEq, Eq)]
pub enum EncodingArg {
    /// UTF-8 (with or without BOM) when valid, else GB18030/GBK
    Auto,
    #[value(name = "utf-8", alias = "utf8")]
    Utf8,
    /// GBK, GB2312 and GB18030 (read as GB18030, their superset)
    #[value(alias = "gb18030", alias = "gb2312")]
    Gbk,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// CSV, XLSX, XLS or ODS file
    pub file: PathBuf,
    /// Mapping of columns to fields (TOML); without it folio guesses from the headers
    #[arg(long, value_name = "MAPPING.toml")]
    pub map: Option<PathBuf>,
    /// What to do with a row that duplicates a record or an earlier row
    #[arg(long, value_enum, default_value_t = OnDuplicateArg::Skip)]
    pub on_duplicate: OnDuplicateArg,
    /// Report what would happen; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Commit the created and updated files in one commit
    #[arg(long)]
    pub commit: bool,
    /// With --commit: update records even if they have uncommitted changes (they go into folio's commit)
    #[arg(long, requires = "commit")]
    pub include_dirty: bool,
    /// Text encoding of a CSV file
    #[arg(long, value_enum, default_value_t = EncodingArg::Auto)]
    pub encoding: EncodingArg,
    /// Delimiter of a CSV file: one character, or `tab` (default: detected)
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<String>,
    /// Sheet of a workbook (default: the first)
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// Print the mapping (guessed or given) as TOML and stop
    #[arg(long)]
    pub print_mapping: bool,
    /// `created` of rows without a date, and "today" for the checks
    #[arg(long, value_parser = super::parse_date, value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// New ids: `ulid`, or `seq:PREFIX` for PREFIX1, PREFIX2, ... (scripted runs)
    #[arg(long, hide = true, default_value = "ulid")]
    pub ids: String,
}

pub fn run(ctx: &Ctx, a: Args) -> CmdResult {
    let repo = ctx.open_writer()?;
    let as_of = super::as_of(a.as_of);
    let delimiter = match a.delimiter.as_deref() {
        None => None,
        Some("tab" | "\\t" | "\t") => Some(b'\t'),
        Some(d) if d.len() == 1 && d.is_ascii() => Some(d.as_bytes()[0]),
        Some(d) => {
            return Err(Failure::new(format!(
                "--delimiter `{d}`: give one ASCII character, or `tab`"
            )));
        }
    };
    let ids = match a.ids.as_str() {
        "ulid" => Ids::Ulid,
        s => match s.strip_prefix("seq:") {
            Some(p) if p.is_empty() || crate::schema::is_id(p) => Ids::Sequential(p.to_string()),
            _ => return Err(Failure::new(format!("--ids `{s}`: use ulid or seq:PREFIX"))),
        },
    };
    let opts = ReadOptions {
        encoding: match a.encoding {
            EncodingArg::Auto => Encoding::Auto,
            EncodingArg::Utf8 => Encoding::Utf8,
            EncodingArg::Gbk => Encoding::Gb18030,
        },
        delimiter,
        sheet: a.sheet.clone(),
    };
    let sheet = import::sheet::read(&a.file, &opts)?;
    if sheet.headers.is_empty() {
        return Err(Failure::new(format!(
            "{}: no header row (the file is empty)",
            a.file.display()
        )));
    }
    let source = a
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| a.file.display().to_string());
    let team = import::team_fields(&repo.schema);
    let (mapping, guessed) = match &a.map {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| Failure::new(format!("cannot read {}: {e}", p.display())))?;
            let m = Mapping::parse(&text, &sheet.headers, &team)
                .map_err(|e| Failure::new(format!("{}: {e}", p.display())))?;
            (m, false)
        }
        None => {
            let sample: Vec<Vec<&str>> = sheet
                .rows
                .iter()
                .map(|r| r.cells.iter().map(String::as_str).collect())
                .collect();
            (Mapping::guess(&sheet.headers, &sample, &team), true)
        }
    };
    let mapping_text = mapping.to_toml(&source, guessed);
    if a.print_mapping {
        print(&mapping_text)?;
        return Ok(Status::Ok);
    }
    if let Err(e) = import::check_mapping(&mapping) {
        let mut f = Failure::new(format!("cannot import {source}: {e}"));
        if guessed {
            f = f.hint(format!(
                "the headers are {}; write a mapping (start from `folio import {} --print-mapping > mapping.toml`) and pass it with --map",
                sheet
                    .headers
                    .iter()
                    .map(|h| format!("\"{h}\""))
                    .collect::<Vec<_>>()
                    .join(", "),
                a.file.display()
            ));
        }
        return Err(f);
    }
    let loaded = repo.load(as_of);
    let env = Env {
        schema: &repo.schema,
        staff: &repo.staff,
        template: &repo.template,
        duplicates: &repo.config.duplicates,
        as_of,
        on_duplicate: a.on_duplicate.into(),
        ids,
    };
    let root = repo.root.clone();
    let taken = move |p: &str| root.join(p).exists();
    let plan = import::plan(&sheet, &mapping, loaded.records, &env, &taken);
    let mut commit = None;
    if !a.dry_run && !plan.stopped {
        let finish = if a.commit && !(plan.created.is_empty() && plan.updated.is_empty()) {
            crate::session::Finish::Commit(crate::session::CommitRequest::new(
                format!(
                    "import {} from {source}\n\n{} created, {} updated, {} skipped, {} rejected of {} rows\n",
                    plural(plan.created.len(), "customer"),
                    plan.created.len(),
                    plan.updated.len(),
                    plan.skipped.len(),
                    plan.rejected_rows,
                    plan.rows
                ),
                a.include_dirty,
            ))
        } else {
            crate::session::Finish::Write
        };
        let applied = import::apply(&repo, &plan, as_of, finish).map_err(super::session_failure)?;
        super::session_report(&applied);
        commit = applied.commit.map(|c| c.oid.to_string());
    }
    let status = if plan.rejected_rows > 0 || plan.stopped || !plan.not_imported.is_empty() {
        Status::Problems
    } else {
        Status::Ok
    };
    match a.format {
        Format::Json => {
            let v = serde_json::json!({
                "file": a.file.display().to_string(),
                "kind": sheet.kind,
                "encoding": sheet.encoding,
                "delimiter": sheet.delimiter.map(|d| d.to_string()),
                "sheet": sheet.sheet,
                "mapping_guessed": guessed,
                "mapping": mapping_text,
                "dry_run": a.dry_run,
                "stopped": plan.stopped,
                "summary": {
                    "rows": plan.rows,
                    "created": plan.created.len(),
                    "updated": plan.updated_rows(),
                    "skipped": plan.skipped.len(),
                    "rejected": plan.rejected_rows,
                },
                "created": plan.created,
                "updated": plan.updated,
                "merged_into_new": plan.merged_into_new,
                "skipped": plan.skipped,
                "rejected": plan.rejected,
                "dropped": plan.dropped,
                "lists": plan.lists,
                "not_imported": plan.not_imported,
                "commit": commit,
            });
            super::print_data(&format!(
                "{}\n",
                serde_json::to_string_pretty(&v).unwrap_or_default()
            ))?;
        }
        Format::Human => print(&human(&a, &sheet, &plan, guessed, &mapping_text, commit))?,
    }
    Ok(status)
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn human(
    a: &Args,
    sheet: &import::sheet::Sheet,
    plan: &import::Plan,
    guessed: bool,
    mapping_text: &str,
    commit: Option<String>,
) -> String {
    let mut o = String::new();
    let what = match (sheet.kind, sheet.encoding, sheet.delimiter, &sheet.sheet) {
        ("csv", Some(e), Some(d), _) => {
            let d = if d == '\t' {
                "tab".to_string()
            } else {
                format!("\"{d}\"")
            };
            format!("CSV, {e}, delimiter {d}")
        }
        (k, _, _, Some(s)) => format!("{}, sheet \"{s}\"", k.to_uppercase()),
        (k, ..) => k.to_uppercase(),
    };
    let _ = writeln!(
        o,
        "read {} ({what}): {}",
        a.file.display(),
        plural(plan.rows, "row")
    );
    for l in &plan.lists {
        let _ = writeln!(
            o,
            "read sheet \"{}\" ({}): {}",
            l.sheet,
            l.list,
            plural(l.rows, "row")
        );
    }
    if guessed {
        let _ = writeln!(
            o,
            "mapping guessed from the headers (save it with --print-mapping, edit, and pass it with --map):"
        );
        for l in mapping_text.lines().filter(|l| !l.is_empty()) {
            let _ = writeln!(o, "  {l}");
        }
    }
    let show_created = plan.created.len() <= 50;
    if show_created {
        for c in &plan.created {
            let _ = writeln!(
                o,
                "{} row {}: {} ({})",
                paint(style::GOOD, "created"),
                c.row,
                c.path,
                c.customer.display_name()
            );
        }
    }
    for u in &plan.updated {
        let rows: Vec<String> = u.rows.iter().map(|r| r.to_string()).collect();
        let filled = if u.filled.is_empty() {
            "nothing to fill".to_string()
        } else {
            format!("filled {}", u.filled.join(", "))
        };
        let _ = writeln!(
            o,
            "{} {} from row {}: {filled}",
            paint(style::GOOD, "updated"),
            u.path,
            rows.join(", ")
        );
        for c in &u.conflicts {
            let _ = writeln!(
                o,
                "  {} row {}, {}: the record has \"{}\", the row \"{}\" (left as it is)",
                paint(style::WARNING, "conflict"),
                c.row,
                c.field,
                c.existing,
                c.imported
            );
        }
    }
    for s in &plan.merged_into_new {
        let _ = writeln!(
            o,
            "{} row {} into {}: {}",
            paint(style::GOOD, "merged"),
            s.row,
            s.duplicate_of,
            s.reason
        );
    }
    for s in &plan.skipped {
        let label = if plan.stopped { "duplicate" } else { "skipped" };
        let _ = writeln!(
            o,
            "{} row {}: duplicates {}: {}",
            paint(style::WARNING, label),
            s.row,
            s.duplicate_of,
            s.reason
        );
    }
    for p in &plan.rejected {
        let _ = writeln!(
            o,
            "{} row {}{}, column {} ({}): {}",
            paint(style::ERROR, "rejected"),
            p.row,
            match (&p.sheet, p.sheet_row) {
                (Some(s), Some(r)) => format!(" (sheet \"{s}\" row {r})"),
                _ => String::new(),
            },
            if p.column == "-" {
                "-".to_string()
            } else {
                format!("\"{}\"", p.column)
            },
            p.field,
            p.reason
        );
    }
    for p in &plan.dropped {
        let _ = writeln!(
            o,
            "{} row {}, column \"{}\" ({}): {}; the row is imported without it",
            paint(style::NOTE, "dropped"),
            p.row,
            p.column,
            p.field,
            p.reason
        );
    }
    for n in &plan.not_imported {
        let _ = writeln!(
            o,
            "{} sheet \"{}\"{}, {}: {}",
            paint(style::WARNING, "not imported"),
            n.sheet,
            n.column
                .as_ref()
                .map(|c| format!(", column \"{c}\""))
                .unwrap_or_default(),
            plural(n.rows, "row"),
            n.reason
        );
    }
    let _ = writeln!(
        o,
        "{}: {} rows: {} created, {} updated, {} skipped, {} rejected",
        paint(style::BOLD, "summary"),
        plan.rows,
        plan.created.len(),
        plan.updated_rows(),
        plan.skipped.len(),
        plan.rejected_rows
    );
    if !show_created {
        let _ = writeln!(
            o,
            "(the {} created records are listed with --format json)",
            plan.created.len()
        );
    }
    if plan.stopped {
        let _ = writeln!(
            o,
            "stopped: --on-duplicate fail and {} duplicated; nothing was written",
            plural(plan.skipped.len(), "row")
        );
    } else if a.dry_run {
        let _ = writeln!(o, "dry run: nothing was written");
    }
    if let Some(c) = commit {
        let _ = writeln!(o, "committed {}", &c[..10.min(c.len())]);
    }
    o
}

/// `--on-duplicate`: the command line's spelling of [`OnDuplicate`]
/// (clap's types stay out of the library).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnDuplicateArg {
    /// Leave the row out (the default).
    Skip,
    /// Fill the existing record's empty fields; list conflicting values.
    Update,
    /// Write nothing at all.
    Fail,
}

impl From<OnDuplicateArg> for OnDuplicate {
    fn from(o: OnDuplicateArg) -> OnDuplicate {
        match o {
            OnDuplicateArg::Skip => OnDuplicate::Skip,
            OnDuplicateArg::Update => OnDuplicate::Update,
            OnDuplicateArg::Fail => OnDuplicate::Fail,
        }
    }
}
