//! What the writing pool commands do: which customers a claim, release or
//! assignment touches, the limits each claim must pass, the edits and the
//! commit messages, and the lock that lets one of them run at a time. The
//! command layer parses the arguments and prints what these return.

use super::{
    Conversion, PoolHistory, Refusal, ReleaseStatus, WeightSource, WeightsError, WorkingView,
    check_claim, claim_ledger, conversion, deal, history_and_changes, release_status,
};
use crate::config::{PoolConfig, Staff};
use crate::edit::{KeyEditError, remove_key, set_string};
use crate::history::History;
use crate::records::keys_before;
use crate::repo::{Record, RecordFile, Repo};
use crate::session::{CommitRequest, Finish, Session, SessionError};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;

/// A record's text with `owner = handle` and no `pool_reason`: the edit of
/// a claim and of an assignment.
pub fn take_owner(text: &str, handle: &str) -> Result<Option<String>, KeyEditError> {
    set_string(text, "owner", handle, keys_before("owner"))
        .and_then(|t| remove_key(&t, "pool_reason"))
        .map(Some)
}

/// A record's text without `owner` and with `pool_reason = reason`: the
/// edit of a release.
pub fn give_back(text: &str, reason: &str) -> Result<Option<String>, KeyEditError> {
    remove_key(text, "owner")
        .and_then(|t| set_string(&t, "pool_reason", reason, keys_before("pool_reason")))
        .map(Some)
}

/// How a writing pool command ends: written, or written and committed
/// with `message`. `known_dirty`: the records folder's changed files when
/// the caller has just read them (saves a second status of the folder).
pub fn finish(
    commit: bool,
    include_dirty: bool,
    message: String,
    known_dirty: Option<Vec<String>>,
) -> Finish {
    if commit {
        Finish::Commit(CommitRequest {
            message,
            include_dirty,
            known_dirty,
        })
    } else {
        Finish::Write
    }
}

/// Why the pool's lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("cannot create {}: {source}", .dir.display())]
    Folder {
        dir: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot lock {}: {source}", .file.display())]
    File {
        file: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// One pool command that writes at a time (claim, release, assign): each
/// reads who holds what, checks the limits and writes; two claims of the
/// same customer at once would otherwise both see it in the pool and both
/// report success. Held until the file is dropped (released if the command
/// is killed); `waiting` is called when another command holds it.
pub fn lock(repo: &Repo, waiting: impl FnOnce()) -> Result<std::fs::File, LockError> {
    let dir = crate::repo::prepare_cache_dir(&repo.cache_dir(), "pool").map_err(|source| {
        LockError::Folder {
            dir: repo.cache_dir().join("pool"),
            source,
        }
    })?;
    let file = dir.join("lock");
    crate::repo::lock_file(&file, waiting).map_err(|source| LockError::File { file, source })
}

/// Why a handle cannot take customers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffError {
    /// Not in staff.toml, or inactive there (the one wording).
    #[error(transparent)]
    Staff(#[from] crate::config::StaffError),
    #[error("nobody to assign to: no active person in staff.toml")]
    Nobody,
}

impl StaffError {
    /// What the user can do about it.
    pub fn hint(&self) -> String {
        match self {
            StaffError::Staff(e) => e.hint(),
            StaffError::Nobody => "add someone active to staff.toml".to_string(),
        }
    }
}

/// Whether `h` is an active person in staff.toml.
pub fn check_staff(staff: &Staff, h: &str) -> Result<(), StaffError> {
    staff.require_active(h)?;
    Ok(())
}

/// How many records `h` holds.
pub fn held_by(records: &[Record], h: &str) -> usize {
    records
        .iter()
        .filter(|r| r.customer.owner.as_deref() == Some(h))
        .count()
}

/// What a claim needs: the claimed records, the part of the ledger that
/// concerns them and the claimant, how many records the claimant holds
/// in the working tree, and how many of those were in the pool at HEAD
/// (claims not committed yet, counted as made on the as-of day).
pub struct ClaimInputs {
    pub chosen: Vec<Record>,
    pub ledger: PoolHistory,
    pub held: usize,
    pub uncommitted: usize,
}

/// A record named for a claim that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{0} cannot be parsed (run `folio check`); nothing was changed")]
pub struct Unparsable(pub String);

/// The record files the queries name as ids or paths (relative, `./`, or
/// absolute inside `root`), from the working view; None when one is a
/// search, which needs every record read.
pub fn files_named(view: &WorkingView, queries: &[String], root: &Path) -> Option<Vec<RecordFile>> {
    let mut files = Vec::new();
    for q in queries {
        let q = q.trim();
        let norm = q.replace('\\', "/");
        let norm = norm.strip_prefix("./").unwrap_or(&norm).to_string();
        let by_path = |rel: &str| view.has_path(rel).then(|| rel.to_string());
        let rel = view
            .records()
            .find(|(_, id, _)| *id == q)
            .map(|(p, _, _)| p.to_string())
            .or_else(|| by_path(&norm))
            .or_else(|| {
                let abs = Path::new(q).canonicalize().ok()?;
                let root = root.canonicalize().ok()?;
                let rel = abs.strip_prefix(&root).ok()?;
                by_path(&rel.to_string_lossy().replace('\\', "/"))
            })?;
        files.push(RecordFile {
            abs: root.join(&rel),
            rel,
        });
    }
    Some(files)
}

/// The ledger a claim by `h` of `ids` needs, how many records `h` holds in
/// the working tree, and how many of those were in the pool at HEAD.
pub fn claim_counts(
    history: &History,
    view: &WorkingView,
    h: &str,
    ids: &[&str],
) -> (PoolHistory, usize, usize) {
    let cl = claim_ledger(history, h, ids);
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

/// What a claim needs, without reading every record: the pool ledger from
/// the history (opened by `open`), the working tree's owners from the
/// history's state at HEAD corrected by the files git reports changed
/// (only those are read), and the claimed records themselves. When a
/// query is a search (not an id or a path), `search` reads every record
/// and picks the claimed ones.
pub fn claim_inputs<E>(
    repo: &Repo,
    queries: &[String],
    h: &str,
    as_of: NaiveDate,
    open: impl FnOnce() -> Result<History, E> + Send,
    search: impl FnOnce() -> Result<Vec<Record>, E>,
) -> Result<ClaimInputs, E>
where
    E: From<crate::git::GitError> + From<Unparsable> + Send,
{
    let (history, changed, _) = history_and_changes(repo, open)?;
    let view = WorkingView::new(&history, changed);
    let chosen = match files_named(&view, queries, &repo.root) {
        None => search()?,
        Some(files) => {
            let loaded = repo.load_files(&files, as_of);
            if let Some(p) = loaded.unreadable.first() {
                return Err(Unparsable(p.clone()).into());
            }
            let mut chosen: Vec<Record> = Vec::new();
            for r in loaded.records {
                if !chosen.iter().any(|c| c.customer.id == r.customer.id) {
                    chosen.push(r);
                }
            }
            chosen
        }
    };
    let ids: Vec<&str> = chosen.iter().map(|r| r.customer.id.as_str()).collect();
    let (ledger, held, uncommitted) = claim_counts(&history, &view, h, &ids);
    Ok(ClaimInputs {
        chosen,
        ledger,
        held,
        uncommitted,
    })
}

/// Why a claim was refused; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    #[error("{name} is not in the pool: {owner} owns it (nothing was changed)")]
    NotInPool { name: String, owner: String },
    #[error("{handle} cannot claim {name}: it would break {}: {handle} {refusal} (nothing was changed)", limit_name(.refusal))]
    Refused {
        handle: String,
        name: String,
        refusal: Refusal,
    },
    #[error(transparent)]
    Session(#[from] SessionError),
}

/// The limit a refusal names, as a claim's refusal says it.
fn limit_name(r: &Refusal) -> String {
    match r {
        Refusal::Cooldown { .. } => "the cooldown".to_string(),
        Refusal::Limit { window, .. } if window == "held" => "the hold limit".to_string(),
        Refusal::Limit { window, .. } => format!(
            "the {}ly claim limit",
            if window == "day" { "dai" } else { window }
        ),
    }
}

/// Whether `h` may claim each record of `inputs`, in order, each counted
/// as pending for the ones after it: the first refusal.
pub fn check_claims(
    h: &str,
    inputs: &ClaimInputs,
    as_of: NaiveDate,
    cfg: &PoolConfig,
) -> Result<(), ClaimError> {
    for n in 0..inputs.chosen.len() {
        check_nth(h, inputs, n, as_of, cfg)?;
    }
    Ok(())
}

fn check_nth(
    h: &str,
    inputs: &ClaimInputs,
    n: usize,
    as_of: NaiveDate,
    cfg: &PoolConfig,
) -> Result<(), ClaimError> {
    let r = &inputs.chosen[n];
    if let Some(o) = &r.customer.owner {
        return Err(ClaimError::NotInPool {
            name: r.customer.display_name(),
            owner: o.clone(),
        });
    }
    check_claim(
        h,
        &r.customer.id,
        inputs.ledger.ledger(),
        as_of,
        inputs.uncommitted + n,
        // `held` already counts the uncommitted claims, which check_claim
        // adds as pending.
        inputs.held.saturating_sub(inputs.uncommitted),
        cfg,
    )
    .map_err(|refusal| ClaimError::Refused {
        handle: h.to_string(),
        name: r.customer.display_name(),
        refusal,
    })
}

/// Claim the records of `inputs` for `h` in `session`, each within the
/// limits and the cooldown: the names of the customers claimed.
pub fn claim(
    session: &mut Session,
    h: &str,
    inputs: &ClaimInputs,
    as_of: NaiveDate,
    cfg: &PoolConfig,
) -> Result<Vec<String>, ClaimError> {
    let mut out = Vec::new();
    for (n, r) in inputs.chosen.iter().enumerate() {
        check_nth(h, inputs, n, as_of, cfg)?;
        session.edit(&r.path, |text| take_owner(text, h))?;
        out.push(r.customer.display_name());
    }
    Ok(out)
}

/// The commit message of a claim of `n` customers.
pub fn claim_message(h: &str, n: usize) -> String {
    format!(
        "pool: {h} claims {}\n\nFolio-Claim: {h}",
        crate::output::plural(n, "customer")
    )
}

/// An owned customer that is eligible, or soon eligible, for release.
#[derive(Debug, Serialize)]
pub struct ReleaseCandidate<'a> {
    pub id: &'a str,
    pub path: &'a str,
    pub display_name: String,
    pub owner: &'a str,
    #[serde(flatten)]
    pub status: ReleaseStatus,
}

/// Owned customers that are eligible, or within the warning period, by
/// owner, the longest idle first.
pub fn release_candidates<'a>(
    records: &'a [Record],
    ph: Option<&PoolHistory>,
    as_of: NaiveDate,
    cfg: &PoolConfig,
) -> Vec<ReleaseCandidate<'a>> {
    let mut out: Vec<ReleaseCandidate> = records
        .iter()
        .filter_map(|r| {
            let since = ph.and_then(|p| p.owned_since.get(&r.customer.id).copied());
            let status = release_status(&r.customer, since, as_of, cfg)?;
            Some(ReleaseCandidate {
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

/// The records eligible for release on `as_of`.
pub fn eligible<'a>(
    records: &'a [Record],
    ph: Option<&PoolHistory>,
    as_of: NaiveDate,
    cfg: &PoolConfig,
) -> Vec<&'a Record> {
    let ids: Vec<String> = release_candidates(records, ph, as_of, cfg)
        .into_iter()
        .filter(|i| i.status.eligible)
        .map(|i| i.id.to_string())
        .collect();
    records
        .iter()
        .filter(|r| ids.contains(&r.customer.id))
        .collect()
}

/// Why a release was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("{name} ({path}) is already in the pool")]
    InPool { name: String, path: String },
    #[error(transparent)]
    Session(#[from] SessionError),
}

/// A customer returned to the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Released {
    pub name: String,
    pub owner: String,
}

/// Return `chosen` to the pool in `session`, with `reason` (trimmed).
pub fn release(
    session: &mut Session,
    chosen: &[&Record],
    reason: &str,
) -> Result<Vec<Released>, ReleaseError> {
    let mut out = Vec::new();
    for r in chosen {
        let Some(owner) = r.customer.owner.as_deref() else {
            return Err(ReleaseError::InPool {
                name: r.customer.display_name(),
                path: r.path.clone(),
            });
        };
        session.edit(&r.path, |text| give_back(text, reason.trim()))?;
        out.push(Released {
            name: r.customer.display_name(),
            owner: owner.to_string(),
        });
    }
    Ok(out)
}

/// The commit message of a release: one `Folio-Release` trailer per owner.
pub fn release_message(released: &[Released], reason: &str) -> String {
    let owners: std::collections::BTreeSet<&str> =
        released.iter().map(|r| r.owner.as_str()).collect();
    let trailers: Vec<String> = owners
        .iter()
        .map(|o| format!("Folio-Release: {o}"))
        .collect();
    format!(
        "pool: release {} to the pool\n\nReason: {}\n\n{}",
        crate::output::plural(released.len(), "customer"),
        reason.trim(),
        trailers.join("\n")
    )
}

/// Who an assignment deals to: `to`, each active in staff.toml, or (when
/// empty) every active person.
pub fn receivers(staff: &Staff, to: &[String]) -> Result<Vec<String>, StaffError> {
    let receivers: Vec<String> = if to.is_empty() {
        staff
            .iter()
            .filter(|(_, m)| m.active)
            .map(|(h, _)| h.to_string())
            .collect()
    } else {
        for h in to {
            check_staff(staff, h)?;
        }
        to.to_vec()
    };
    if receivers.is_empty() {
        return Err(StaffError::Nobody);
    }
    Ok(receivers)
}

/// How many records each owner holds in the working view, and the pool's
/// record files (sorted by path).
pub fn holdings(view: &WorkingView, root: &Path) -> (HashMap<String, usize>, Vec<RecordFile>) {
    let mut held: rustc_hash::FxHashMap<&str, usize> = Default::default();
    let mut pool_files = Vec::new();
    for (p, _, owner) in view.records() {
        match owner {
            Some(o) => *held.entry(o).or_default() += 1,
            None => pool_files.push(RecordFile {
                abs: root.join(p),
                rel: p.to_string(),
            }),
        }
    }
    pool_files.sort_by(|a, b| a.rel.cmp(&b.rel));
    let held = held.into_iter().map(|(o, n)| (o.to_string(), n)).collect();
    (held, pool_files)
}

/// What an assignment needs: the pool's records (with git, only those are
/// read: who holds what comes from the history's state at HEAD and the
/// files changed since), how many records each owner holds, the ledger
/// when the weights come from conversion, the changed files git reported,
/// and the record files that could not be parsed (skipped).
pub struct AssignInputs {
    pub records: Vec<Record>,
    pub held: HashMap<String, usize>,
    pub ledger: Option<PoolHistory>,
    pub known_dirty: Option<Vec<String>>,
    pub unreadable: Vec<String>,
}

/// Read what an assignment needs; `open` opens the history (with git).
pub fn assign_inputs<E>(
    repo: &Repo,
    weights: &WeightSource,
    as_of: NaiveDate,
    open: impl FnOnce() -> Result<History, E> + Send,
) -> Result<AssignInputs, E>
where
    E: From<crate::git::GitError> + Send,
{
    if crate::git::GitRepo::open(&repo.root).is_none() {
        let loaded = repo.load(as_of);
        return Ok(AssignInputs {
            held: held_counts(&loaded.records),
            records: loaded.records,
            ledger: None,
            known_dirty: None,
            unreadable: loaded.unreadable,
        });
    }
    let (history, changed, dirty) = history_and_changes(repo, open)?;
    let view = WorkingView::new(&history, changed);
    let (held, pool_files) = holdings(&view, &repo.root);
    let ledger = (*weights == WeightSource::FromConversion).then(|| super::pool_history(&history));
    drop(view);
    drop(history);
    let loaded = repo.load_files(&pool_files, as_of);
    Ok(AssignInputs {
        records: loaded.records,
        held,
        ledger,
        known_dirty: Some(dirty),
        unreadable: loaded.unreadable,
    })
}

/// How many records each owner holds.
pub fn held_counts(records: &[Record]) -> HashMap<String, usize> {
    let mut held: HashMap<String, usize> = HashMap::new();
    for r in records {
        if let Some(o) = &r.customer.owner {
            *held.entry(o.clone()).or_default() += 1;
        }
    }
    held
}

/// Why an assignment's weights cannot be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeightError {
    #[error("--weights from-conversion needs the git history")]
    NoHistory,
    #[error(transparent)]
    Weights(#[from] WeightsError),
}

/// Each receiver's weight, and the conversion rates they come from when
/// they do. `ph`: the ledger, needed for weights from conversion.
pub fn receiver_weights(
    source: &WeightSource,
    receivers: &[String],
    staff: &Staff,
    ph: Option<PoolHistory>,
    as_of: NaiveDate,
    cfg: &PoolConfig,
) -> Result<(Vec<u32>, Option<Vec<Conversion>>), WeightError> {
    match source {
        WeightSource::FromStaff => Ok((
            receivers
                .iter()
                .map(|h| staff.get(h).map(|m| m.weight).unwrap_or(1))
                .collect(),
            None,
        )),
        WeightSource::FromConversion => {
            let ph = ph.ok_or(WeightError::NoHistory)?;
            let conv = conversion(receivers, &ph.events, &ph.signed, as_of, cfg);
            Ok((conv.iter().map(|c| c.weight).collect(), Some(conv)))
        }
        WeightSource::Given(w) => Ok((w.for_receivers(receivers.len())?.to_vec(), None)),
    }
}

/// An assignment: each pool customer dealt, with its receiver's index, and
/// how many of the `count` asked for stay in the pool (every receiver at
/// the hold limit).
#[derive(Debug)]
pub struct Deal<'a> {
    pub dealt: Vec<(&'a Record, usize)>,
    pub left: usize,
}

/// Deal `count` (default: all) of the pool's records among `receivers` by
/// `weights`, most promising first, none beyond the hold limit.
pub fn plan_assign<'a>(
    records: &'a [Record],
    receivers: &[String],
    weights: &[u32],
    held_now: &HashMap<String, usize>,
    max_held: usize,
    count: Option<usize>,
) -> Deal<'a> {
    let pool_recs = super::in_pool(records);
    let n = count.unwrap_or(pool_recs.len()).min(pool_recs.len());
    let room: Vec<usize> = receivers
        .iter()
        .map(|h| max_held.saturating_sub(held_now.get(h).copied().unwrap_or(0)))
        .collect();
    let dealt: Vec<(&Record, usize)> = pool_recs.into_iter().zip(deal(n, weights, &room)).collect();
    Deal {
        left: n - dealt.len(),
        dealt,
    }
}

/// The commit message of an assignment: who got which customers, and one
/// `Folio-Assign` trailer per receiver.
pub fn assign_message(got: &BTreeMap<&str, Vec<String>>) -> String {
    let n: usize = got.values().map(Vec::len).sum();
    let mut msg = format!("pool: assign {}\n\n", crate::output::plural(n, "customer"));
    for (h, list) in got {
        let _ = writeln!(msg, "{h}: {}", list.join(", "));
    }
    msg.push('\n');
    for h in got.keys() {
        let _ = writeln!(msg, "Folio-Assign: {h}");
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::Customer;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn rec(id: &str, tier: &str, owner: Option<&str>) -> Record {
        Record {
            path: format!("customers/de/{}.toml", id.to_lowercase()),
            customer: Customer {
                id: id.into(),
                name: format!("Company {id}"),
                contact: "Jo".into(),
                country: "DE".into(),
                tier: tier.into(),
                owner: owner.map(Into::into),
                ..Default::default()
            },
        }
    }

    fn inputs(chosen: Vec<Record>, held: usize, uncommitted: usize) -> ClaimInputs {
        ClaimInputs {
            chosen,
            ledger: PoolHistory::default(),
            held,
            uncommitted,
        }
    }

    #[test]
    fn each_claim_counts_the_ones_before_it_and_the_uncommitted() {
        let cfg = PoolConfig::default();
        let on = d("2026-03-10");
        let five: Vec<Record> = (1..=5).map(|i| rec(&format!("C{i}"), "A", None)).collect();
        assert!(check_claims("al", &inputs(five.clone(), 0, 0), on, &cfg).is_ok());
        // one claim not committed yet: the fifth named is the sixth of the day
        let err = check_claims("al", &inputs(five, 1, 1), on, &cfg).unwrap_err();
        assert_eq!(
            err.to_string(),
            "al cannot claim Company C5-Jo-DE: it would break the daily claim limit: \
             al 5 claims this day, the limit is 5; frees up on 2026-03-11 (nothing was changed)"
        );
        // the hold limit counts what is held, the uncommitted claims once
        let one = vec![rec("C1", "A", None)];
        let at_limit = inputs(one.clone(), cfg.max_held, 0);
        assert_eq!(
            check_claims("al", &at_limit, on, &cfg)
                .unwrap_err()
                .to_string(),
            format!(
                "al cannot claim Company C1-Jo-DE: it would break the hold limit: al holds {0} \
                 customers, the most one may hold is {0} (nothing was changed)",
                cfg.max_held
            )
        );
        assert!(check_claims("al", &inputs(one, cfg.max_held - 1, 0), on, &cfg).is_ok());
        let owned = inputs(vec![rec("C9", "A", Some("bo"))], 0, 0);
        assert_eq!(
            check_claims("al", &owned, on, &cfg)
                .unwrap_err()
                .to_string(),
            "Company C9-Jo-DE is not in the pool: bo owns it (nothing was changed)"
        );
    }

    #[test]
    fn the_edits_and_the_commit_messages() {
        let text = "id = \"C1\"\nname = \"X\"\ncountry = \"DE\"\npool_reason = \"left\"\n";
        let taken = take_owner(text, "al").unwrap().unwrap();
        assert!(taken.contains("owner = \"al\"\n") && !taken.contains("pool_reason"));
        let back = give_back(&taken, "no reply").unwrap().unwrap();
        assert!(back.contains("pool_reason = \"no reply\"\n") && !back.contains("owner"));
        assert_eq!(
            claim_message("al", 2),
            "pool: al claims 2 customers\n\nFolio-Claim: al"
        );
        let released = |name: &str, owner: &str| Released {
            name: name.into(),
            owner: owner.into(),
        };
        assert_eq!(
            release_message(
                &[
                    released("A", "bo"),
                    released("B", "al"),
                    released("C", "bo")
                ],
                " idle "
            ),
            "pool: release 3 customers to the pool\n\nReason: idle\n\nFolio-Release: al\nFolio-Release: bo"
        );
        let mut got = BTreeMap::new();
        got.insert("bo", vec!["B".to_string()]);
        got.insert("al", vec!["A".to_string(), "C".to_string()]);
        assert_eq!(
            assign_message(&got),
            "pool: assign 3 customers\n\nal: A, C\nbo: B\n\nFolio-Assign: al\nFolio-Assign: bo\n"
        );
    }

    #[test]
    fn an_assignment_deals_the_most_promising_first_within_the_hold_limit() {
        let records = vec![
            rec("C1", "C", None),
            rec("C2", "A", None),
            rec("C3", "B", None),
            rec("C4", "A", Some("bo")),
        ];
        let receivers = ["al".to_string(), "bo".to_string()];
        let held: HashMap<String, usize> = [("bo".to_string(), 1)].into();
        let plan = plan_assign(&records, &receivers, &[1, 1], &held, 2, None);
        let got: Vec<(&str, usize)> = plan
            .dealt
            .iter()
            .map(|(r, i)| (r.customer.id.as_str(), *i))
            .collect();
        // bo has room for one more; al takes the rest
        assert_eq!(got, [("C2", 0), ("C3", 1), ("C1", 0)]);
        assert_eq!(plan.left, 0);
        let plan = plan_assign(&records, &receivers, &[1, 1], &held, 1, Some(2));
        assert_eq!(plan.dealt.len(), 1);
        assert_eq!(plan.left, 1);
        assert_eq!(held_counts(&records), [("bo".to_string(), 1)].into());
        assert_eq!(held_by(&records, "bo"), 1);
    }

    #[test]
    fn receivers_are_active_staff() {
        let staff: Staff = toml::from_str(
            "[staff.al]\nname = \"Al\"\nweight = 3\n[staff.bo]\nname = \"Bo\"\nactive = false\n",
        )
        .unwrap();
        assert_eq!(receivers(&staff, &[]).unwrap(), ["al"]);
        assert_eq!(
            receivers(&staff, &["bo".into()]),
            Err(StaffError::Staff(crate::config::StaffError::Inactive(
                "bo".into()
            )))
        );
        assert_eq!(
            receivers(&staff, &["cy".into()]).unwrap_err().to_string(),
            "`cy` is not in staff.toml"
        );
        assert_eq!(receivers(&Staff::default(), &[]), Err(StaffError::Nobody));
        let cfg = PoolConfig::default();
        let on = d("2026-03-10");
        let (w, conv) = receiver_weights(
            &WeightSource::FromStaff,
            &["al".into()],
            &staff,
            None,
            on,
            &cfg,
        )
        .unwrap();
        assert_eq!((w, conv), (vec![3], None));
        assert_eq!(
            receiver_weights(
                &WeightSource::FromConversion,
                &["al".into()],
                &staff,
                None,
                on,
                &cfg
            ),
            Err(WeightError::NoHistory)
        );
    }
}
