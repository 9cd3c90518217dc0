//! `folio check`: every rule over every record, and the repository as a
//! whole. Per-file rules run in parallel while the files are parsed; the
//! cross-record rules (ids, paths, duplicates) then compare all records.

use crate::diagnostics::{Code, Diagnostic, Severity, Summary};
use crate::naming::{self, RulePath};
use crate::pool::breach::BreachError;
use crate::repo::{Loaded, Record, Repo};
use chrono::NaiveDate;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// What to check.
#[derive(Debug, Clone)]
pub struct Options {
    pub as_of: NaiveDate,
    /// Report only on these paths (relative to the root); empty means all.
    pub only: Option<BTreeSet<String>>,
    /// Also replay the pool claims made by the commits in `REV..HEAD` and
    /// report each that broke a claim limit (`F701`) or the cooldown
    /// (`F702`) when it was made (outside git: nothing to replay).
    pub claims_since: Option<String>,
}

/// The outcome of a check.
#[derive(Debug, Default)]
pub struct Report {
    pub diagnostics: Vec<Diagnostic>,
    pub summary: Summary,
    /// Wall time of each phase, for `--timings`.
    pub timings: Vec<(&'static str, Duration)>,
}

impl Report {
    pub fn has_errors(&self) -> bool {
        self.summary.errors > 0
    }
}

/// Check the repository. Fails only when the claims of
/// [`Options::claims_since`] cannot be read from the history.
pub fn run(repo: &Repo, opts: &Options) -> Result<Report, BreachError> {
    let t = Instant::now();
    let loaded = repo.load_with(opts.as_of, true);
    let load = t.elapsed();
    let mut report = run_loaded(repo, loaded, opts)?;
    report
        .timings
        .insert(0, ("read, parse and per-file rules", load));
    Ok(report)
}

/// Check already loaded records (the per-file diagnostics are in `loaded`).
pub fn run_loaded(repo: &Repo, loaded: Loaded, opts: &Options) -> Result<Report, BreachError> {
    let mut diags = repo.setup_diagnostics.clone();
    diags.extend(loaded.diagnostics);
    let mut timings = Vec::new();
    // The two kinds of cross-record rules run side by side (each is
    // parallel in parts and serial in others); their times overlap.
    let ((mut cross, ids_time), (dupes, dupes_time, steps)) = rayon::join(
        || {
            let t = Instant::now();
            let mut cross = Vec::new();
            cross_record(repo, &loaded.records, &loaded.unreadable, &mut cross);
            (cross, t.elapsed())
        },
        || {
            let t = Instant::now();
            let mut steps = Vec::new();
            let found = crate::duplicates::diagnostics_timed(
                &loaded.records,
                &repo.config.duplicates,
                &mut steps,
            );
            (found, t.elapsed(), steps)
        },
    );
    cross.extend(dupes);
    timings.push(("ids and paths (beside duplicates)", ids_time));
    timings.push(("duplicates (beside ids and paths)", dupes_time));
    timings.extend(steps);
    let t = Instant::now();
    locate_fields(repo, &mut cross);
    timings.push(("locating cross-record findings", t.elapsed()));
    diags.extend(cross);
    if let Some(only) = &opts.only {
        diags.retain(|d| only.contains(&d.path) || is_setup_file(&d.path));
    }
    // the claims are reported whatever files the check is limited to
    if let Some(rev) = &opts.claims_since
        && let Some(git) = crate::git::GitRepo::open(&repo.root)
    {
        let t = Instant::now();
        diags.extend(crate::pool::breach::breaches_since(repo, &git, rev)?);
        timings.push(("pool claims since the revision", t.elapsed()));
    }
    sort(&mut diags);
    let files = match &opts.only {
        Some(only) => only.len(),
        None => loaded.files,
    };
    let summary = Summary::of(files, &diags);
    // the records (many small allocations each) are freed in parallel
    loaded.records.into_par_iter().for_each(drop);
    Ok(Report {
        diagnostics: diags,
        summary,
        timings,
    })
}

fn is_setup_file(p: &str) -> bool {
    p == crate::repo::CONFIG_FILE || p == crate::repo::STAFF_FILE || p.starts_with("schema/")
}

/// Sort by path, then position, then code, so output is stable.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (
            &a.path,
            a.line.unwrap_or(0),
            a.column.unwrap_or(0),
            a.code,
            &a.message,
        )
            .cmp(&(
                &b.path,
                b.line.unwrap_or(0),
                b.column.unwrap_or(0),
                b.code,
                &b.message,
            ))
    });
}

fn cross_record(repo: &Repo, records: &[Record], unreadable: &[String], out: &mut Vec<Diagnostic>) {
    // Duplicate ids: every record after the first names the first.
    let mut by_id: FxHashMap<&str, &Record> =
        FxHashMap::with_capacity_and_hasher(records.len(), Default::default());
    for r in records {
        if r.customer.id.is_empty() || !crate::schema::is_id(&r.customer.id) {
            continue;
        }
        if let Some(first) = by_id.get(r.customer.id.as_str()) {
            out.push(
                Diagnostic::error(
                    Code::DuplicateId,
                    r.path.clone(),
                    format!("id \"{}\" is already used by {}", r.customer.id, first.path),
                )
                .with_field("id")
                .with_hint(
                    "ids are never reused: give this record a new one (`folio new` makes ULIDs)",
                ),
            );
        } else {
            by_id.insert(&r.customer.id, r);
        }
    }

    // The naming rule, for records whose parts are usable.
    let usable: Vec<&Record> = records
        .iter()
        .filter(|r| {
            let c = &r.customer;
            !c.name.is_empty()
                && !c.contact.is_empty()
                && crate::schema::codes::is_country(&c.country)
        })
        .collect();
    let parts: Vec<_> = usable.iter().map(|r| r.customer.naming_parts()).collect();
    let rule = naming::rule_paths(&repo.template, &parts);
    for (r, want) in usable.iter().zip(rule) {
        match want {
            RulePath::Path(p) if p != r.path => out.push(
                Diagnostic::error(
                    Code::Misnamed,
                    r.path.clone(),
                    format!("file name does not follow the naming rule: expected {p}"),
                )
                .with_field("name")
                .with_hint("run `folio fix` to rename it (git keeps the history linked)"),
            ),
            RulePath::Path(_) => {}
            RulePath::Ambiguous { others, .. } => {
                let other = others
                    .first()
                    .map(|&i| usable[i].path.as_str())
                    .unwrap_or("");
                out.push(
                    Diagnostic::error(
                        Code::AmbiguousName,
                        r.path.clone(),
                        format!(
                            "same company, contact and country as {other}; nothing tells them apart"
                        ),
                    )
                    .with_field("name")
                    .with_hint("if they are two real customers, set a different `city` (or `industry`) on each; if one, merge them"),
                );
            }
        }
    }

    // Paths, for every file git would check out. What each path needs is
    // worked out in parallel; collisions are then found in path order.
    let all_paths = records
        .iter()
        .map(|r| r.path.as_str())
        .chain(unreadable.iter().map(String::as_str));
    let mut paths: Vec<&str> = all_paths.collect();
    paths.par_sort_unstable();
    let looked: Vec<(Option<String>, String)> = paths
        .par_iter()
        .map(|p| {
            let lower = if p.is_ascii() {
                p.to_ascii_lowercase()
            } else {
                p.to_lowercase()
            };
            (naming::unportable(p), lower)
        })
        .collect();
    let mut lower: FxHashMap<&str, &str> =
        FxHashMap::with_capacity_and_hasher(paths.len(), Default::default());
    for (p, (unportable, low)) in paths.iter().copied().zip(&looked) {
        if let Some(why) = unportable {
            out.push(Diagnostic::error(
                Code::Unportable,
                p,
                format!("path cannot be checked out everywhere: {why}"),
            ));
        }
        if let Some(first) = lower.get(low.as_str()) {
            out.push(
                Diagnostic::error(
                    Code::CaseCollision,
                    p,
                    format!("path differs from {first} only in letter case"),
                )
                .with_hint("macOS and Windows would see one file; rename or merge one of them"),
            );
        } else {
            lower.insert(low, p);
        }
    }
}

/// Give line and column to diagnostics that name a field but no span.
fn locate_fields(repo: &Repo, diags: &mut [Diagnostic]) {
    let mut cache: HashMap<String, Option<String>> = HashMap::new();
    for d in diags
        .iter_mut()
        .filter(|d| d.span.is_none() && d.line.is_none() && d.field.is_some())
    {
        let text = cache.entry(d.path.clone()).or_insert_with(|| {
            crate::repo::read_repo_file(&repo.root, &d.path)
                .ok()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
        });
        let Some(text) = text else { continue };
        let span = d
            .field
            .as_deref()
            .and_then(|f| crate::records::find_field(text, f));
        d.span = Some(span.unwrap_or(0..0));
        d.locate(text);
    }
}

/// Exit status for a report: 1 with errors (or warnings when denied).
pub fn failed(report: &Report, deny_warnings: bool) -> bool {
    report
        .diagnostics
        .iter()
        .any(|d| d.severity == Severity::Error || deny_warnings)
}
