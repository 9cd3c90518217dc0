//! `folio pool`: the public pool (公海). The pool is the records without
//! `owner`; claims, releases and assignments are owner changes in git.

use super::log::open_history;
use super::{CmdResult, Ctx, Failure, Format, Status, print};
use crate::edit::{remove_key, set_string};
use crate::history::History;
use crate::output::style::{self, paint};
use crate::pool::{self, PoolHistory, pool_history};
use crate::records::keys_before;
use crate::repo::{Record, Repo};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// List pool customers, most promising first (tier, then last activity)
    List {
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Owned customers eligible, or soon eligible, to return to the pool, by owner
    DueForRelease {
        /// The day eligibility is computed for (default: today)
        #[arg(long, value_parser = super::parse_date, value_name = "DATE")]
        as_of: Option<NaiveDate>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Return customers to the pool (removes `owner`, records `pool_reason`)
    Release {
        /// Customers: ids, paths, or searches matching one record each
        customers: Vec<String>,
        /// Release every customer eligible for release
        #[arg(long, conflicts_with = "customers")]
        eligible: bool,
        /// Why they return to the pool (stored as `pool_reason`)
        #[arg(long)]
        reason: String,
        /// The day eligibility is computed for, with --eligible (default: today)
        #[arg(long, value_parser = super::parse_date, value_name = "DATE")]
        as_of: Option<NaiveDate>,
        /// Commit the change
        #[arg(long)]
        commit: bool,
        /// With --commit: include records that already have uncommitted changes (they go into folio's commit)
        #[arg(long, requires = "commit")]
        include_dirty: bool,
    },
    /// Claim pool customers, within the claim limits and the cooldown
    Claim {
        /// Customers: ids, paths, or searches matching one record each
        #[arg(required = true)]
        customers: Vec<String>,
        /// The claimant's staff handle
        #[arg(long = "as", value_name = "HANDLE")]
        handle: String,
        /// The day the claim counts as made, for the limits and the cooldown (default: today)
        #[arg(long, value_parser = super::parse_date, value_name = "DATE")]
        as_of: Option<NaiveDate>,
        /// Commit the change
        #[arg(long)]
        commit: bool,
        /// With --commit: include records that already have uncommitted changes (they go into folio's commit)
        #[arg(long, requires = "commit")]
        include_dirty: bool,
    },
    /// Deal pool customers out in weighted round-robin
    Assign {
        /// How many customers to deal (default: the whole pool)
        #[arg(long)]
        count: Option<usize>,
        /// Receivers (default: every active person in staff.toml)
        #[arg(long, value_delimiter = ',', value_name = "H1,H2,...")]
        to: Vec<String>,
        /// from-staff (weight in staff.toml), from-conversion, or explicit like 3:2:1
        #[arg(long, default_value = "from-staff", value_name = "WEIGHTS")]
        weights: pool::WeightSource,
        /// The day conversion rates are computed for (default: today)
        #[arg(long, value_parser = super::parse_date, value_name = "DATE")]
        as_of: Option<NaiveDate>,
        /// Show the plan only
        #[arg(long)]
        dry_run: bool,
        /// Commit the change
        #[arg(long)]
        commit: bool,
        /// With --commit: include records that already have uncommitted changes (they go into folio's commit)
        #[arg(long, requires = "commit")]
        include_dirty: bool,
    },
}

pub fn run(ctx: &Ctx, cmd: Cmd) -> CmdResult {
    match cmd {
        Cmd::List { format } => list(ctx, format),
        Cmd::DueForRelease { as_of, format } => due_for_release(ctx, super::as_of(as_of), format),
        Cmd::Release {
            customers,
            eligible,
            reason,
            as_of,
            commit,
            include_dirty,
        } => release(
            ctx,
            &customers,
            eligible,
            &reason,
            super::as_of(as_of),
            Commit {
                commit,
                include_dirty,
            },
        ),
        Cmd::Claim {
            customers,
            handle,
            as_of,
            commit,
            include_dirty,
        } => claim(
            ctx,
            &customers,
            &handle,
            super::as_of(as_of),
            Commit {
                commit,
                include_dirty,
            },
        ),
        Cmd::Assign {
            count,
            to,
            weights,
            as_of,
            dry_run,
            commit,
            include_dirty,
        } => assign(
            ctx,
            count,
            &to,
            &weights,
            super::as_of(as_of),
            dry_run,
            Commit {
                commit,
                include_dirty,
            },
        ),
    }
}

fn load(repo: &Repo, as_of: NaiveDate) -> Vec<Record> {
    let loaded = repo.load(as_of);
    for p in &loaded.unreadable {
        super::eprint(&format!(
            "warning: skipped {p}, which cannot be parsed (run `folio check`)\n"
        ));
    }
    loaded.records
}

fn resolve_all<'a>(
    records: &'a [Record],
    queries: &[String],
    root: &std::path::Path,
) -> Result<Vec<&'a Record>, Failure> {
    let mut out: Vec<&Record> = Vec::new();
    for q in queries {
        let r = crate::resolve::resolve(records, q, root)
            .map_err(|e| super::resolve_failure(e, &[]))?;
        if !out.iter().any(|o| o.customer.id == r.customer.id) {
            out.push(r);
        }
    }
    Ok(out)
}

#[derive(Serialize)]
struct PoolItem<'a> {
    id: &'a str,
    path: &'a str,
    display_name: String,
    tier: &'a str,
    stage: &'a str,
    last_activity: Option<NaiveDate>,
    pool_reason: Option<&'a str>,
}

fn list(ctx: &Ctx, format: Format) -> CmdResult {
    let repo = ctx.open_repo_strict()?;
    let records = load(&repo, super::as_of(None));
    let mut pool: Vec<&Record> = records
        .iter()
        .filter(|r| r.customer.owner.is_none())
        .collect();
    pool.sort_by(|a, b| pool::promising_order(&a.customer, &b.customer));
    let items: Vec<PoolItem> = pool
        .iter()
        .map(|r| PoolItem {
            id: &r.customer.id,
            path: &r.path,
            display_name: r.customer.display_name(),
            tier: &r.customer.tier,
            stage: &r.customer.stage,
            last_activity: r
                .customer
                .followups
                .iter()
                .filter_map(|f| f.date)
                .max()
                .or(r.customer.created),
            pool_reason: r.customer.pool_reason.as_deref(),
        })
        .collect();
    let text = match format {
        Format::Json => serde_json::to_string_pretty(&items)? + "\n",
        Format::Human => {
            let mut s = String::new();
            for i in &items {
                let last = i.last_activity.map(|d| d.to_string()).unwrap_or_default();
                let _ = writeln!(
                    s,
                    "{} {:<11} {last}  {}",
                    paint(style::BOLD, i.tier),
                    i.stage,
                    paint(style::BOLD, &i.display_name)
                );
                let _ = writeln!(
                    s,
                    "  {}{}",
                    paint(style::DIM, i.path),
                    i.pool_reason
                        .map(|r| format!("  ({r})"))
                        .unwrap_or_default()
                );
            }
            let _ = writeln!(
                s,
                "{} in the pool",
                crate::output::plural(items.len(), "customer")
            );
            s
        }
    };
    if format == Format::Json {
        super::print_data(&text)?;
    } else {
        print(&text)?;
    }
    Ok(Status::Ok)
}

#[derive(Serialize)]
struct ReleaseItem<'a> {
    id: &'a str,
    path: &'a str,
    display_name: String,
    owner: &'a str,
    #[serde(flatten)]
    status: pool::ReleaseStatus,
}

/// Owned customers that are eligible, or within the warning period.
fn release_candidates<'a>(
    repo: &Repo,
    records: &'a [Record],
    ph: Option<&PoolHistory>,
    as_of: NaiveDate,
) -> Vec<ReleaseItem<'a>> {
    let mut out: Vec<ReleaseItem> = records
        .iter()
        .filter_map(|r| {
            let since = ph.and_then(|p| p.owned_since.get(&r.customer.id).copied());
            let status = pool::release_status(&r.customer, since, as_of, &repo.config.pool)?;
            Some(ReleaseItem {
                id: &r.customer.id,
                path: &r.path,
                display_name: r.customer.display_name(),
                owner: r.customer.owner.as_deref().unwrap_or(""),
                status,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        a.owner
            .cmp(b.owner)
            .then(b.status.idle_days.cmp(&a.status.idle_days))
            .then(a.id.cmp(b.id))
    });
    out
}

/// The history if there is one (the pool works without git, with less).
fn maybe_history(repo: &Repo) -> Result<Option<PoolHistory>, Failure> {
    if crate::git::GitRepo::open(&repo.root).is_none() {
        return Ok(None);
    }
    let h = open_history(repo)?;
    Ok(Some(pool_history(&h)))
}

fn due_for_release(ctx: &Ctx, as_of: NaiveDate, format: Format) -> CmdResult {
    let repo = ctx.open_repo_strict()?;
    let records = load(&repo, as_of);
    let ph = maybe_history(&repo)?;
    let items = release_candidates(&repo, &records, ph.as_ref(), as_of);
    let text = match format {
        Format::Json => serde_json::to_string_pretty(&items)? + "\n",
        Format::Human => {
            let mut s = String::new();
            let mut by_owner: BTreeMap<&str, Vec<&ReleaseItem>> = BTreeMap::new();
            for i in &items {
                by_owner.entry(i.owner).or_default().push(i);
            }
            for (owner, list) in by_owner {
                let _ = writeln!(s, "{}", paint(style::BOLD, owner));
                for i in list {
                    let state = if i.status.eligible {
                        paint(
                            style::ERROR,
                            format!("eligible since {}", i.status.eligible_on),
                        )
                    } else {
                        paint(
                            style::WARNING,
                            format!("eligible on {}", i.status.eligible_on),
                        )
                    };
                    let _ = writeln!(
                        s,
                        "  {}  {state}  (no follow-up by the owner for {} days, last {})\n    {}",
                        i.display_name,
                        i.status.idle_days,
                        i.status.last_activity,
                        paint(style::DIM, i.path)
                    );
                }
            }
            let eligible = items.iter().filter(|i| i.status.eligible).count();
            let _ = writeln!(
                s,
                "{eligible} eligible for release, {} soon",
                items.len() - eligible
            );
            s
        }
    };
    if format == Format::Json {
        super::print_data(&text)?;
    } else {
        print(&text)?;
    }
    Ok(Status::Ok)
}

/// `--commit` and `--include-dirty` of a writing pool command.
#[derive(Debug, Clone, Copy)]
struct Commit {
    commit: bool,
    include_dirty: bool,
}

/// Write the session's records all or nothing and, if asked, commit them
/// with `message`. `known_dirty`: the records folder's changed files when
/// the caller has just read them (saves a second status of the whole
/// folder).
fn write_and_commit(
    session: crate::session::Session,
    commit: Commit,
    message: String,
    known_dirty: Option<Vec<String>>,
) -> Result<String, Failure> {
    let finish = if commit.commit {
        crate::session::Finish::Commit(crate::session::CommitRequest {
            message,
            include_dirty: commit.include_dirty,
            known_dirty,
        })
    } else {
        crate::session::Finish::Write
    };
    let applied = session.apply(finish).map_err(super::session_failure)?;
    Ok(super::session_report(&applied))
}

/// A record's text with `owner = handle` and no `pool_reason`.
fn take_owner(text: &str, handle: &str) -> Result<Option<String>, crate::edit::KeyEditError> {
    set_string(text, "owner", handle, keys_before("owner"))
        .and_then(|t| remove_key(&t, "pool_reason"))
        .map(Some)
}

/// One pool command that writes at a time (claim, release, assign): each
/// reads who holds what, checks the limits and writes; two claims of the
/// same customer at once would otherwise both see it in the pool and both
/// report success. Held until the command ends (released if it is killed).
fn pool_lock(repo: &Repo) -> Result<std::fs::File, Failure> {
    let dir = crate::repo::prepare_cache_dir(&repo.cache_dir(), "pool").map_err(|e| {
        Failure::new(format!(
            "cannot create {}: {e}",
            repo.cache_dir().join("pool").display()
        ))
    })?;
    let p = dir.join("lock");
    crate::repo::lock_file(&p, || {
        super::eprint("note: another folio pool command is running; waiting for it\n")
    })
    .map_err(|e| Failure::new(format!("cannot lock {}: {e}", p.display())))
}

fn release(
    ctx: &Ctx,
    queries: &[String],
    eligible: bool,
    reason: &str,
    as_of: NaiveDate,
    commit: Commit,
) -> CmdResult {
    if reason.trim().is_empty() {
        return Err(Failure::new(
            "--reason must say why the customers return to the pool",
        ));
    }
    let repo = ctx.open_writer()?;
    let _lock = pool_lock(&repo)?;
    let records = load(&repo, as_of);
    let chosen: Vec<&Record> = if eligible {
        let ph = maybe_history(&repo)?;
        let ids: Vec<String> = release_candidates(&repo, &records, ph.as_ref(), as_of)
            .into_iter()
            .filter(|i| i.status.eligible)
            .map(|i| i.id.to_string())
            .collect();
        records
            .iter()
            .filter(|r| ids.contains(&r.customer.id))
            .collect()
    } else if queries.is_empty() {
        return Err(Failure::new(
            "name the customers to release, or pass --eligible",
        ));
    } else {
        resolve_all(&records, queries, &repo.root)?
    };
    let mut session = crate::session::Session::new(&repo, as_of);
    let mut out = String::new();
    let mut owners: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &chosen {
        let Some(owner) = r.customer.owner.as_deref() else {
            return Err(Failure::new(format!(
                "{} ({}) is already in the pool",
                r.customer.display_name(),
                r.path
            )));
        };
        session
            .edit(&r.path, |text| {
                remove_key(text, "owner")
                    .and_then(|t| {
                        set_string(&t, "pool_reason", reason.trim(), keys_before("pool_reason"))
                    })
                    .map(Some)
            })
            .map_err(super::session_failure)?;
        *owners.entry(owner).or_default() += 1;
        let _ = writeln!(out, "released {} from {owner}", r.customer.display_name());
    }
    if session.is_empty() {
        print("nothing to release\n")?;
        return Ok(Status::Ok);
    }
    let trailers: Vec<String> = owners
        .keys()
        .map(|o| format!("Folio-Release: {o}"))
        .collect();
    let msg = format!(
        "pool: release {} to the pool\n\nReason: {}\n\n{}",
        crate::output::plural(session.len(), "customer"),
        reason.trim(),
        trailers.join("\n")
    );
    out.push_str(&write_and_commit(session, commit, msg, None)?);
    print(&out)?;
    Ok(Status::Ok)
}

fn held_by(records: &[Record], h: &str) -> usize {
    records
        .iter()
        .filter(|r| r.customer.owner.as_deref() == Some(h))
        .count()
}

fn check_staff(repo: &Repo, h: &str) -> Result<(), Failure> {
    match repo.staff.get(h) {
        None => Err(Failure::new(format!("`{h}` is not in staff.toml"))),
        Some(m) if !m.active => Err(Failure::new(format!("`{h}` is not active in staff.toml"))),
        Some(_) => Ok(()),
    }
}

/// What a claim needs, without reading every record: the pool ledger from
/// the history cache, the working tree's owners from the history's state at
/// HEAD corrected by the files git reports changed (only those are read),
/// and the claimed records themselves. A CUSTOMER given as a search (not an
/// id or a path) falls back to reading every record.
fn claim_inputs_from_history(
    repo: &Repo,
    queries: &[String],
    h: &str,
    as_of: NaiveDate,
) -> Result<(Vec<Record>, PoolHistory, usize, usize), Failure> {
    let (history, changed, _) = pool::history_and_changes(repo, || open_history(repo))?;
    let view = pool::WorkingView::new(&history, changed);
    let mut files = Vec::new();
    for q in queries {
        let q = q.trim();
        let norm = q.replace('\\', "/");
        let norm = norm.strip_prefix("./").unwrap_or(&norm).to_string();
        let by_path = |rel: &str| view.has_path(rel).then(|| rel.to_string());
        let found = view
            .records()
            .find(|(_, id, _)| *id == q)
            .map(|(p, _, _)| p.to_string())
            .or_else(|| by_path(&norm))
            .or_else(|| {
                let abs = std::path::Path::new(q).canonicalize().ok()?;
                let root = repo.root.canonicalize().ok()?;
                let rel = abs.strip_prefix(&root).ok()?;
                by_path(&rel.to_string_lossy().replace('\\', "/"))
            });
        match found {
            Some(rel) => files.push(crate::repo::RecordFile {
                abs: repo.root.join(&rel),
                rel,
            }),
            None => {
                // A search by name: read every record to find it.
                let records = load(repo, as_of);
                let chosen: Vec<Record> = resolve_all(&records, queries, &repo.root)?
                    .into_iter()
                    .cloned()
                    .collect();
                let ids: Vec<&str> = chosen.iter().map(|r| r.customer.id.as_str()).collect();
                let (ph, held, uncommitted) = claim_counts(&history, &view, h, &ids);
                return Ok((chosen, ph, held, uncommitted));
            }
        }
    }
    let loaded = repo.load_files(&files, as_of);
    if let Some(p) = loaded.unreadable.first() {
        return Err(Failure::new(format!(
            "{p} cannot be parsed (run `folio check`); nothing was changed"
        )));
    }
    let mut chosen: Vec<Record> = Vec::new();
    for r in loaded.records {
        if !chosen.iter().any(|c| c.customer.id == r.customer.id) {
            chosen.push(r);
        }
    }
    let ids: Vec<&str> = chosen.iter().map(|r| r.customer.id.as_str()).collect();
    let (ph, held, uncommitted) = claim_counts(&history, &view, h, &ids);
    Ok((chosen, ph, held, uncommitted))
}

/// The ledger a claim by `h` of `ids` needs, how many records `h` holds in
/// the working tree, and how many of those were in the pool at HEAD
/// (claims not committed yet, counted as today's).
fn claim_counts(
    history: &History,
    view: &pool::WorkingView,
    h: &str,
    ids: &[&str],
) -> (PoolHistory, usize, usize) {
    let cl = pool::claim_ledger(history, h, ids);
    let (mut held, mut uncommitted) = (0, 0);
    for (_, id, owner) in view.records() {
        if owner == Some(h) {
            held += 1;
            if matches!(cl.committed_owner.get(id), Some(None)) {
                uncommitted += 1;
            }
        }
    }
    let mut ph = PoolHistory::default();
    (ph.events, ph.signed) = (cl.events, cl.signed);
    (ph, held, uncommitted)
}

fn claim(ctx: &Ctx, queries: &[String], h: &str, as_of: NaiveDate, commit: Commit) -> CmdResult {
    let repo = ctx.open_writer()?;
    let _lock = pool_lock(&repo)?;
    check_staff(&repo, h)?;
    let git = crate::git::GitRepo::open(&repo.root);
    let (chosen, ph, held, uncommitted) = match &git {
        Some(_) => claim_inputs_from_history(&repo, queries, h, as_of)?,
        None => {
            // No history: every record is read.
            let records = load(&repo, as_of);
            let chosen: Vec<Record> = resolve_all(&records, queries, &repo.root)?
                .into_iter()
                .cloned()
                .collect();
            let held = held_by(&records, h);
            (chosen, PoolHistory::default(), held, 0)
        }
    };
    let ph = &ph;
    let mut session = crate::session::Session::new(&repo, as_of);
    let mut out = String::new();
    for (n, r) in chosen.iter().enumerate() {
        if let Some(o) = &r.customer.owner {
            return Err(Failure::new(format!(
                "{} is not in the pool: {o} owns it (nothing was changed)",
                r.customer.display_name()
            )));
        }
        if let Err(why) = pool::check_claim(
            h,
            &r.customer.id,
            ph.ledger(),
            as_of,
            uncommitted + n,
            // `held` already counts the uncommitted claims, which
            // check_claim adds as pending.
            held.saturating_sub(uncommitted),
            &repo.config.pool,
        ) {
            let what = match &why {
                pool::Refusal::Cooldown { .. } => "the cooldown".to_string(),
                pool::Refusal::Limit { window, .. } if window == "held" => {
                    "the hold limit".to_string()
                }
                pool::Refusal::Limit { window, .. } => format!(
                    "the {}ly claim limit",
                    if window == "day" { "dai" } else { window }
                ),
            };
            return Err(Failure::new(format!(
                "{h} cannot claim {}: it would break {what}: {h} {why} (nothing was changed)",
                r.customer.display_name()
            )));
        }
        session
            .edit(&r.path, |text| take_owner(text, h))
            .map_err(super::session_failure)?;
        let _ = writeln!(out, "{h} claims {}", r.customer.display_name());
    }
    let msg = format!(
        "pool: {h} claims {}\n\nFolio-Claim: {h}",
        crate::output::plural(session.len(), "customer")
    );
    out.push_str(&write_and_commit(session, commit, msg, None)?);
    print(&out)?;
    Ok(Status::Ok)
}

#[allow(clippy::too_many_arguments)]
fn assign(
    ctx: &Ctx,
    count: Option<usize>,
    to: &[String],
    weights: &pool::WeightSource,
    as_of: NaiveDate,
    dry_run: bool,
    commit: Commit,
) -> CmdResult {
    let repo = ctx.open_writer()?;
    let _lock = if dry_run {
        None
    } else {
        Some(pool_lock(&repo)?)
    };
    let receivers: Vec<String> = if to.is_empty() {
        repo.staff
            .iter()
            .filter(|(_, m)| m.active)
            .map(|(h, _)| h.to_string())
            .collect()
    } else {
        for h in to {
            check_staff(&repo, h)?;
        }
        to.to_vec()
    };
    if receivers.is_empty() {
        return Err(Failure::new(
            "nobody to assign to: no active person in staff.toml",
        ));
    }
    // With git, only the pool's records are read: who holds what comes
    // from the history's state at HEAD and the files changed since.
    let git = crate::git::GitRepo::open(&repo.root);
    let mut known_dirty = None;
    let (records, held_now, mut ph): (Vec<Record>, HashMap<String, usize>, Option<PoolHistory>) =
        match &git {
            Some(_) => {
                let (history, changed, dirty) =
                    pool::history_and_changes(&repo, || open_history(&repo))?;
                known_dirty = Some(dirty);
                let view = pool::WorkingView::new(&history, changed);
                let mut held: rustc_hash::FxHashMap<&str, usize> = Default::default();
                let mut pool_files = Vec::new();
                for (p, _, owner) in view.records() {
                    match owner {
                        Some(o) => *held.entry(o).or_default() += 1,
                        None => pool_files.push(crate::repo::RecordFile {
                            abs: repo.root.join(p),
                            rel: p.to_string(),
                        }),
                    }
                }
                let held_now: HashMap<String, usize> =
                    held.into_iter().map(|(o, n)| (o.to_string(), n)).collect();
                pool_files.sort_by(|a, b| a.rel.cmp(&b.rel));
                let ph = (*weights == pool::WeightSource::FromConversion)
                    .then(|| pool_history(&history));
                drop(view);
                drop(history);
                let loaded = repo.load_files(&pool_files, as_of);
                for p in &loaded.unreadable {
                    super::eprint(&format!(
                        "warning: skipped {p}, which cannot be parsed (run `folio check`)\n"
                    ));
                }
                (loaded.records, held_now, ph)
            }
            None => {
                let records = load(&repo, as_of);
                let mut held_now: HashMap<String, usize> = HashMap::new();
                for r in &records {
                    if let Some(o) = &r.customer.owner {
                        *held_now.entry(o.clone()).or_default() += 1;
                    }
                }
                (records, held_now, None)
            }
        };
    let mut out = String::new();
    let w: Vec<u32> = match weights {
        pool::WeightSource::FromStaff => receivers
            .iter()
            .map(|h| repo.staff.get(h).map(|m| m.weight).unwrap_or(1))
            .collect(),
        pool::WeightSource::FromConversion => {
            let ph = ph
                .take()
                .ok_or_else(|| Failure::new("--weights from-conversion needs the git history"))?;
            let conv =
                pool::conversion(&receivers, &ph.events, &ph.signed, as_of, &repo.config.pool);
            let _ = writeln!(
                out,
                "conversion over the last {} days:",
                repo.config.pool.conversion_days
            );
            for c in &conv {
                let _ = writeln!(
                    out,
                    "  {:<12} {} of {} signed ({:.0}%), weight {}",
                    c.handle,
                    c.signed,
                    c.taken,
                    c.rate * 100.0,
                    c.weight
                );
            }
            conv.iter().map(|c| c.weight).collect()
        }
        pool::WeightSource::Given(w) => w.for_receivers(receivers.len())?.to_vec(),
    };
    let mut pool_recs: Vec<&Record> = records
        .iter()
        .filter(|r| r.customer.owner.is_none())
        .collect();
    pool_recs.sort_by(|a, b| pool::promising_order(&a.customer, &b.customer));
    let n = count.unwrap_or(pool_recs.len()).min(pool_recs.len());
    let room: Vec<usize> = receivers
        .iter()
        .map(|h| {
            repo.config
                .pool
                .max_held
                .saturating_sub(held_now.get(h).copied().unwrap_or(0))
        })
        .collect();
    let dealt = pool::deal(n, &w, &room);
    let mut session = crate::session::Session::new(&repo, as_of);
    let mut got: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (r, &i) in pool_recs.iter().zip(&dealt) {
        let h = receivers[i].as_str();
        let _ = writeln!(out, "{} -> {h}", r.customer.display_name());
        got.entry(h).or_default().push(r.customer.display_name());
        if !dry_run {
            session
                .edit(&r.path, |text| take_owner(text, h))
                .map_err(super::session_failure)?;
        }
    }
    if dealt.len() < n {
        let _ = writeln!(
            out,
            "{} left in the pool: every receiver is at the hold limit",
            n - dealt.len()
        );
    }
    for (h, list) in &got {
        let _ = writeln!(
            out,
            "{h}: {}",
            crate::output::plural(list.len(), "customer")
        );
    }
    if !dry_run && !session.is_empty() {
        let mut msg = format!(
            "pool: assign {}\n\n",
            crate::output::plural(session.len(), "customer")
        );
        for (h, list) in &got {
            let _ = writeln!(msg, "{h}: {}", list.join(", "));
        }
        msg.push('\n');
        for h in got.keys() {
            let _ = writeln!(msg, "Folio-Assign: {h}");
        }
        out.push_str(&write_and_commit(session, commit, msg, known_dirty)?);
    }
    print(&out)?;
    Ok(Status::Ok)
}
