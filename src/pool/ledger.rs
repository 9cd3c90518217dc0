//! The pool's ledger, read out of the history: who took and gave up which
//! customer when, when customers reached stage signed, and who holds what
//! in the working tree (the state at HEAD corrected by the files changed
//! since).

use super::{Ledger, OwnerEvent, SignedDates};
use crate::history::{History, StateChange};
use crate::repo::Repo;
use chrono::NaiveDate;
use std::collections::HashMap;

/// A record's owner and stage as its top-level lines say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    pub id: String,
    pub owner: Option<String>,
    pub stage: Option<String>,
}

/// The records of the working tree by path (relative to the data root),
/// without reading them all: the state at HEAD, replayed from the history
/// index's changes (oldest first) and borrowed from it, corrected by the
/// files changed since HEAD (each read).
pub struct WorkingView<'h> {
    /// Path -> (id, owner, stage) at HEAD.
    head: rustc_hash::FxHashMap<&'h str, (&'h str, Option<&'h str>, Option<&'h str>)>,
    /// Paths changed since HEAD: what each holds now (None: gone or not a
    /// record).
    changed: rustc_hash::FxHashMap<String, Option<Holding>>,
}

impl<'h> WorkingView<'h> {
    pub fn new(
        history: &'h crate::history::History,
        changed: Vec<(String, Option<Holding>)>,
    ) -> WorkingView<'h> {
        use crate::history::ChangeKind;
        let mut head: rustc_hash::FxHashMap<&str, _> = Default::default();
        head.reserve(history.changes().len().min(1 << 20) / 2);
        for c in history.changes() {
            let kind = c.kind();
            if matches!(kind, ChangeKind::Deleted | ChangeKind::Renamed)
                && let Some(p) = c.old_path()
            {
                head.remove(p);
            }
            if kind != ChangeKind::Deleted
                && let (Some(p), Some(id)) = (c.path(), c.new_id())
            {
                head.insert(p, (id, c.owner(), c.stage()));
            }
        }
        WorkingView {
            head,
            changed: changed.into_iter().collect(),
        }
    }

    /// Every record: (path, id, owner).
    pub fn records(&self) -> impl Iterator<Item = (&str, &str, Option<&str>)> {
        let head = self
            .head
            .iter()
            .filter(|(p, _)| !self.changed.contains_key(**p))
            .map(|(p, (id, owner, _))| (*p, *id, *owner));
        let changed = self.changed.iter().filter_map(|(p, h)| {
            h.as_ref()
                .map(|h| (p.as_str(), h.id.as_str(), h.owner.as_deref()))
        });
        head.chain(changed)
    }

    /// Whether `path` holds a record.
    pub fn has_path(&self, path: &str) -> bool {
        match self.changed.get(path) {
            Some(h) => h.is_some(),
            None => self.head.contains_key(path),
        }
    }
}

/// The part of the pool's ledger a claim by `handle` needs, read in one
/// pass over the history: the owner changes to or from `handle` or of a
/// customer in `ids` (history order), when the customers in them reached
/// stage signed, and every customer's owner at HEAD.
pub struct ClaimLedger<'h> {
    pub events: Vec<OwnerEvent>,
    pub signed: SignedDates,
    pub committed_owner: rustc_hash::FxHashMap<&'h str, Option<&'h str>>,
}

impl<'h> ClaimLedger<'h> {
    pub fn ledger(&self) -> Ledger<'_> {
        Ledger {
            events: &self.events,
            signed: &self.signed,
        }
    }
}

pub fn claim_ledger<'h>(
    history: &'h crate::history::History,
    handle: &str,
    ids: &[&str],
) -> ClaimLedger<'h> {
    let mut committed_owner: rustc_hash::FxHashMap<&str, Option<&str>> = Default::default();
    let mut signed_at: rustc_hash::FxHashMap<&str, Vec<NaiveDate>> = Default::default();
    let mut events = Vec::new();
    history.for_each_state_change(|sc| {
        committed_owner.insert(sc.id, sc.owner);
        if sc.owner_changed()
            && (sc.old_owner == Some(handle) || sc.owner == Some(handle) || ids.contains(&sc.id))
        {
            events.push(OwnerEvent {
                id: sc.id.to_string(),
                date: sc.commit.date(),
                from: sc.old_owner.map(str::to_string),
                to: sc.owner.map(str::to_string),
                assigned: assigned(&sc),
                commit: sc.commit.oid().to_string(),
            });
        }
        if sc.stage == Some("signed") && (sc.created || sc.old_stage != Some("signed")) {
            signed_at.entry(sc.id).or_default().push(sc.commit.date());
        }
    });
    let mut signed = SignedDates::new();
    for e in &events {
        if !signed.contains_key(&e.id)
            && let Some(ds) = signed_at.get(e.id.as_str())
        {
            signed.insert(e.id.clone(), ds.clone());
        }
    }
    ClaimLedger {
        events,
        signed,
        committed_owner,
    }
}

/// The owner changes and signings of every customer, from the history.
#[derive(Debug, Default)]
pub struct PoolHistory {
    pub events: Vec<OwnerEvent>,
    pub signed: SignedDates,
    /// When each customer's current owner got it (last event per id).
    pub owned_since: HashMap<String, NaiveDate>,
    /// Last known owner per id in the committed history.
    pub committed_owner: HashMap<String, Option<String>>,
    /// For each event, how many customers its new owner held just before.
    pub held_before: Vec<usize>,
    /// The record path after each event.
    pub paths: Vec<String>,
    /// How many customers each handle holds after the steps so far.
    held: HashMap<String, usize>,
}

/// One change of a customer's owner or stage (or its creation), as the
/// ledger reads it: [`StateChange`] without the commit.
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    pub id: &'a str,
    /// The record's path after the change.
    pub path: &'a str,
    pub date: NaiveDate,
    /// The first time the id appears in the history.
    pub created: bool,
    pub old_owner: Option<&'a str>,
    pub owner: Option<&'a str>,
    pub old_stage: Option<&'a str>,
    pub stage: Option<&'a str>,
}

impl Step<'_> {
    pub fn owner_changed(&self) -> bool {
        !self.created && self.old_owner != self.owner
    }
}

impl PoolHistory {
    pub fn ledger(&self) -> Ledger<'_> {
        Ledger {
            events: &self.events,
            signed: &self.signed,
        }
    }

    /// Add the next step of the history (oldest first). `commit` gives the
    /// step's commit id and whether it was a `pool assign` (asked only for
    /// owner changes).
    pub fn push(&mut self, s: Step, commit: impl FnOnce() -> (String, bool)) {
        if s.owner_changed() {
            let (commit, assigned) = commit();
            self.events.push(OwnerEvent {
                id: s.id.to_string(),
                date: s.date,
                from: s.old_owner.map(str::to_string),
                to: s.owner.map(str::to_string),
                assigned,
                commit,
            });
            self.held_before
                .push(s.owner.and_then(|o| self.held.get(o).copied()).unwrap_or(0));
            self.paths.push(s.path.to_string());
            if let Some(o) = s.old_owner
                && let Some(n) = self.held.get_mut(o)
            {
                *n = n.saturating_sub(1);
            }
        }
        if (s.created || s.owner_changed())
            && let Some(o) = s.owner
        {
            *self.held.entry(o.to_string()).or_default() += 1;
        }
        if s.owner_changed() || s.created {
            self.owned_since.insert(s.id.to_string(), s.date);
        }
        self.committed_owner
            .insert(s.id.to_string(), s.owner.map(str::to_string));
        if s.stage == Some("signed") && (s.created || s.old_stage != Some("signed")) {
            self.signed
                .entry(s.id.to_string())
                .or_default()
                .push(s.date);
        }
    }
}

/// Whether a commit was made by `folio pool assign`.
fn assigned(sc: &StateChange) -> bool {
    sc.commit
        .trailers()
        .iter()
        .any(|(k, _)| *k == "Folio-Assign")
}

/// Read the ledger of the pool out of the history.
pub fn pool_history(h: &History) -> PoolHistory {
    let mut out = PoolHistory::default();
    for sc in h.state_changes() {
        let step = Step {
            id: sc.id,
            path: sc.path,
            date: sc.commit.date(),
            created: sc.created,
            old_owner: sc.old_owner,
            owner: sc.owner,
            old_stage: sc.old_stage,
            stage: sc.stage,
        };
        out.push(step, || (sc.commit.oid().to_string(), assigned(&sc)));
    }
    out
}

/// The history, and each record file changed since HEAD with what it
/// holds now (None: gone or not a record), and the changed paths.
pub type Changes = (History, Vec<(String, Option<Holding>)>, Vec<String>);

/// The history (opened by `open`, which the caller gives to report on it
/// its own way) and the files changed since HEAD, read side by side.
pub fn history_and_changes<E>(
    repo: &Repo,
    open: impl FnOnce() -> Result<History, E> + Send,
) -> Result<Changes, E>
where
    E: From<crate::git::GitError> + Send,
{
    use rayon::prelude::*;
    let (history, dirty) = rayon::join(open, || match crate::git::GitRepo::open(&repo.root) {
        // without a stat of every record when `folio watch` runs
        Some(g) => crate::watch::records_changed_since_head(
            &g,
            &repo.root,
            &repo.cache_dir(),
            repo.config.watch.auto,
        ),
        None => Err(crate::git::GitError {
            what: "cannot open the git repository".into(),
            source: git2::Error::from_str("not found"),
        }),
    });
    let (history, dirty) = (history?, dirty?);
    let changed: Vec<(String, Option<Holding>)> = dirty
        .clone()
        .into_par_iter()
        .map(|p| {
            let now = p
                .ends_with(".toml")
                .then(|| crate::repo::read_file(&repo.root.join(&p)).ok())
                .flatten()
                .and_then(|b| {
                    let m = crate::history::walk::scan_meta(&b);
                    Some(Holding {
                        id: m.id?,
                        owner: m.owner,
                        stage: m.stage,
                    })
                });
            (p, now)
        })
        .collect();
    Ok((history, changed, dirty))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn step<'a>(
        id: &'a str,
        date: &str,
        created: bool,
        owners: (Option<&'a str>, Option<&'a str>),
        stages: (Option<&'a str>, Option<&'a str>),
    ) -> Step<'a> {
        Step {
            id,
            path: "customers/x.toml",
            date: d(date),
            created,
            old_owner: owners.0,
            owner: owners.1,
            old_stage: stages.0,
            stage: stages.1,
        }
    }

    #[test]
    fn the_ledger_follows_owners_holdings_and_signings() {
        let mut ph = PoolHistory::default();
        let lead = (Some("lead"), Some("lead"));
        let commit = |c: &str, a: bool| {
            let c = c.to_string();
            move || (c, a)
        };
        // C1 created owned by al; C2 created in the pool
        ph.push(
            step(
                "C1",
                "2026-03-01",
                true,
                (None, Some("al")),
                (None, Some("lead")),
            ),
            commit("c0", false),
        );
        ph.push(
            step("C2", "2026-03-01", true, (None, None), (None, Some("lead"))),
            commit("c0", false),
        );
        // bo is assigned C2, then al releases C1 and bo claims it
        ph.push(
            step("C2", "2026-03-02", false, (None, Some("bo")), lead),
            commit("c1", true),
        );
        ph.push(
            step("C1", "2026-03-03", false, (Some("al"), None), lead),
            commit("c2", false),
        );
        ph.push(
            step("C1", "2026-03-04", false, (None, Some("bo")), lead),
            commit("c3", false),
        );
        // C2 reaches signed (an owner that stays the same is no event)
        ph.push(
            step(
                "C2",
                "2026-03-05",
                false,
                (Some("bo"), Some("bo")),
                (Some("lead"), Some("signed")),
            ),
            || panic!("no owner change, no commit asked"),
        );
        let ids: Vec<(&str, Option<&str>, bool, &str)> = ph
            .events
            .iter()
            .map(|e| {
                (
                    e.id.as_str(),
                    e.to.as_deref(),
                    e.assigned,
                    e.commit.as_str(),
                )
            })
            .collect();
        assert_eq!(
            ids,
            [
                ("C2", Some("bo"), true, "c1"),
                ("C1", None, false, "c2"),
                ("C1", Some("bo"), false, "c3"),
            ]
        );
        assert!(ph.events[2].claim_by("bo") && ph.events[1].release_by("al"));
        // bo held nothing before the assignment, one customer before the claim
        assert_eq!(ph.held_before, [0, 0, 1]);
        assert_eq!(ph.owned_since["C1"], d("2026-03-04"));
        assert_eq!(ph.owned_since["C2"], d("2026-03-02"));
        assert_eq!(ph.committed_owner["C1"], Some("bo".to_string()));
        assert_eq!(ph.signed["C2"], [d("2026-03-05")]);
        assert!(!ph.signed.contains_key("C1"));
        assert_eq!(ph.paths.len(), ph.events.len());
    }

    #[test]
    fn a_record_created_signed_counts_as_signed_once() {
        let mut ph = PoolHistory::default();
        let signed = (None, Some("signed"));
        ph.push(
            step("C1", "2026-03-01", true, (None, None), signed),
            || unreachable!(),
        );
        let again = (Some("signed"), Some("signed"));
        ph.push(
            step("C1", "2026-03-02", false, (None, None), again),
            || unreachable!(),
        );
        assert_eq!(ph.signed["C1"], [d("2026-03-01")]);
        assert!(ph.events.is_empty());
    }
}
