//! `folio pool`: the public pool (公海). The pool is the records without
//! `owner`; claims, releases and assignments are owner changes in git.

use super::log::open_history;
use super::{CmdResult, Ctx, Failure, Format, Status, print};
use crate::output::style::{self, paint};
use crate::pool::{self, PoolHistory, claim, pool_history};
use crate::repo::{Record, Repo};
use crate::session::Session;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;
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
        #[command(flatten)]
        commit: Commit,
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
        #[command(flatten)]
        commit: Commit,
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
        #[command(flatten)]
        commit: Commit,
    },
}

pub fn run(ctx: &Ctx, cmd: Cmd) -> CmdResult {
    use super::as_of as day;
    match cmd {
        Cmd::List { format } => list(ctx, format),
        Cmd::DueForRelease { as_of, format } => due_for_release(ctx, day(as_of), format),
        Cmd::Release {
            customers,
            eligible,
            reason,
            as_of,
            commit,
        } => release(ctx, &customers, eligible, &reason, day(as_of), commit),
        Cmd::Claim {
            customers,
            handle,
            as_of,
            commit,
        } => claim(ctx, &customers, &handle, day(as_of), commit),
        Cmd::Assign {
            count,
            to,
            weights,
            as_of,
            dry_run,
            commit,
        } => assign(ctx, count, &to, &weights, day(as_of), dry_run, commit),
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
    let items: Vec<PoolItem> = pool::in_pool(&records)
        .into_iter()
        .map(|r| PoolItem {
            id: &r.customer.id,
            path: &r.path,
            display_name: r.customer.display_name(),
            tier: &r.customer.tier,
            stage: &r.customer.stage,
            last_activity: pool::last_activity(&r.customer),
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
    let items = claim::release_candidates(&records, ph.as_ref(), as_of, &repo.config.pool);
    let text = match format {
        Format::Json => serde_json::to_string_pretty(&items)? + "\n",
        Format::Human => {
            let mut s = String::new();
            let mut by_owner: BTreeMap<&str, Vec<&claim::ReleaseCandidate>> = BTreeMap::new();
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
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct Commit {
    /// Commit the change
    #[arg(long)]
    commit: bool,
    /// With --commit: include records that already have uncommitted changes (they go into folio's commit)
    #[arg(long, requires = "commit")]
    include_dirty: bool,
}

/// Write the session's records all or nothing and, if asked, commit them
/// with `message`: what the session reports.
fn write_and_commit(
    session: Session,
    commit: Commit,
    message: String,
    known_dirty: Option<Vec<String>>,
) -> Result<String, Failure> {
    let finish = claim::finish(commit.commit, commit.include_dirty, message, known_dirty);
    let applied = session.apply(finish).map_err(super::session_failure)?;
    Ok(super::session_report(&applied))
}

/// The pool's lock, held until the command ends.
fn pool_lock(repo: &Repo) -> Result<std::fs::File, Failure> {
    Ok(claim::lock(repo, || {
        super::eprint("note: another folio pool command is running; waiting for it\n")
    })?)
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
        claim::eligible(&records, ph.as_ref(), as_of, &repo.config.pool)
    } else if queries.is_empty() {
        return Err(Failure::new(
            "name the customers to release, or pass --eligible",
        ));
    } else {
        resolve_all(&records, queries, &repo.root)?
    };
    let mut session = Session::new(&repo, as_of);
    let released = claim::release(&mut session, &chosen, reason).map_err(|e| match e {
        claim::ReleaseError::Session(e) => super::session_failure(e),
        e => Failure::from(e),
    })?;
    if released.is_empty() {
        print("nothing to release\n")?;
        return Ok(Status::Ok);
    }
    let mut out = String::new();
    for r in &released {
        let _ = writeln!(out, "released {} from {}", r.name, r.owner);
    }
    let msg = claim::release_message(&released, reason);
    out.push_str(&write_and_commit(session, commit, msg, None)?);
    print(&out)?;
    Ok(Status::Ok)
}

fn claim(ctx: &Ctx, queries: &[String], h: &str, as_of: NaiveDate, commit: Commit) -> CmdResult {
    let repo = ctx.open_writer()?;
    let _lock = pool_lock(&repo)?;
    claim::check_staff(&repo.staff, h).map_err(staff_failure)?;
    // A search by name (not an id or a path) reads every record.
    let search = || -> Result<Vec<Record>, Failure> {
        let records = load(&repo, as_of);
        Ok(resolve_all(&records, queries, &repo.root)?
            .into_iter()
            .cloned()
            .collect())
    };
    let inputs = match crate::git::GitRepo::open(&repo.root) {
        Some(_) => claim::claim_inputs(&repo, queries, h, as_of, || open_history(&repo), search)?,
        None => {
            // No history: every record is read.
            let records = load(&repo, as_of);
            let chosen: Vec<Record> = resolve_all(&records, queries, &repo.root)?
                .into_iter()
                .cloned()
                .collect();
            claim::ClaimInputs {
                chosen,
                ledger: PoolHistory::default(),
                held: claim::held_by(&records, h),
                uncommitted: 0,
            }
        }
    };
    let mut session = Session::new(&repo, as_of);
    let claimed =
        claim::claim(&mut session, h, &inputs, as_of, &repo.config.pool).map_err(|e| match e {
            claim::ClaimError::Session(e) => super::session_failure(e),
            e => Failure::from(e),
        })?;
    let mut out = String::new();
    for name in &claimed {
        let _ = writeln!(out, "{h} claims {name}");
    }
    let msg = claim::claim_message(h, session.len());
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
    let receivers = claim::receivers(&repo.staff, to).map_err(staff_failure)?;
    let inputs = claim::assign_inputs(&repo, weights, as_of, || open_history(&repo))?;
    for p in &inputs.unreadable {
        super::eprint(&format!(
            "warning: skipped {p}, which cannot be parsed (run `folio check`)\n"
        ));
    }
    let cfg = &repo.config.pool;
    let (w, conv) =
        claim::receiver_weights(weights, &receivers, &repo.staff, inputs.ledger, as_of, cfg)?;
    let mut out = String::new();
    if let Some(conv) = &conv {
        let _ = writeln!(
            out,
            "conversion over the last {} days:",
            cfg.conversion_days
        );
        for c in conv {
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
    }
    let plan = claim::plan_assign(
        &inputs.records,
        &receivers,
        &w,
        &inputs.held,
        cfg.max_held,
        count,
    );
    let mut session = Session::new(&repo, as_of);
    let mut got: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (r, i) in &plan.dealt {
        let h = receivers[*i].as_str();
        let _ = writeln!(out, "{} -> {h}", r.customer.display_name());
        got.entry(h).or_default().push(r.customer.display_name());
        if !dry_run {
            session
                .edit(&r.path, |text| claim::take_owner(text, h))
                .map_err(super::session_failure)?;
        }
    }
    if plan.left > 0 {
        let _ = writeln!(
            out,
            "{} left in the pool: every receiver is at the hold limit",
            plan.left
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
        let msg = claim::assign_message(&got);
        out.push_str(&write_and_commit(session, commit, msg, inputs.known_dirty)?);
    }
    print(&out)?;
    Ok(Status::Ok)
}

fn staff_failure(e: claim::StaffError) -> Failure {
    let hint = e.hint();
    Failure::new(e.to_string()).hint(hint)
}
