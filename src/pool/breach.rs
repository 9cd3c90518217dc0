//! The claims a range of commits made that broke a claim limit (`F701`)
//! or the reclaim cooldown (`F702`) when they were made: `folio check
//! --changed-since REV` replays them from the history.

use super::{Ledger, OwnerEvent, Refusal, SignedDates, check_claim, pool_history};
use crate::config::PoolConfig;
use crate::diagnostics::{Code, Diagnostic};
use crate::repo::Repo;

/// A claim in a range of commits that broke a limit, for `folio check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach {
    /// The claim's place in the events.
    pub index: usize,
    pub event: OwnerEvent,
    pub refusal: Refusal,
}

/// Claims made by the events at `new` (indices into `events`, in
/// history order) that broke a limit or the cooldown when they were made.
pub fn breaches(
    events: &[OwnerEvent],
    new: &[usize],
    signed: &SignedDates,
    held_at: impl Fn(&str, usize) -> usize,
    cfg: &PoolConfig,
) -> Vec<Breach> {
    let mut out = Vec::new();
    for &i in new {
        let e = &events[i];
        let Some(h) = e.to.as_deref() else { continue };
        if !e.claim_by(h) {
            continue;
        }
        // the state just before this event: earlier events only
        let before = &events[..i];
        if let Err(refusal) = check_claim(
            h,
            &e.id,
            Ledger {
                events: before,
                signed,
            },
            e.date,
            0,
            held_at(h, i),
            cfg,
        ) {
            out.push(Breach {
                index: i,
                event: e.clone(),
                refusal,
            });
        }
    }
    out
}

/// Why the claims of a range of commits could not be replayed.
#[derive(Debug, thiserror::Error)]
pub enum BreachError {
    #[error(transparent)]
    History(#[from] crate::history::HistoryError),
    #[error(transparent)]
    Git(#[from] git2::Error),
}

/// A breach as `folio check` reports it, on the record at `path` (where
/// the customer was after the claim).
pub fn diagnostic(b: &Breach, path: &str) -> Diagnostic {
    let who = b.event.to.clone().unwrap_or_default();
    let short = &b.event.commit[..b.event.commit.len().min(10)];
    let (code, what) = match &b.refusal {
        Refusal::Cooldown { .. } => (Code::Cooldown, "the reclaim cooldown".to_string()),
        Refusal::Limit { window, .. } if window == "held" => {
            (Code::ClaimLimit, "the hold limit".to_string())
        }
        Refusal::Limit { window, .. } => {
            (Code::ClaimLimit, format!("the claim limit per {window}"))
        }
    };
    Diagnostic::error(
        code,
        path.to_string(),
        format!(
            "claim by {who} in commit {short} on {} breaks {what}: {who} {}",
            b.event.date, b.refusal
        ),
    )
    .with_field("owner")
    .with_hint(
        "return the customer to the pool, or have a manager assign it with `folio pool assign`",
    )
}

/// Claim-limit and cooldown breaches made by the commits in `rev..HEAD`,
/// as diagnostics on the records' `owner` lines.
pub fn breaches_since(
    repo: &Repo,
    git: &crate::git::GitRepo,
    rev: &str,
) -> Result<Vec<Diagnostic>, BreachError> {
    let h = crate::history::History::open(&repo.root, &repo.cache_dir())?;
    let ph = pool_history(&h);
    let base = git.repo.revparse_single(rev)?.peel_to_commit()?;
    let mut walk = git.repo.revwalk()?;
    walk.push_head()?;
    walk.hide(base.id())?;
    let new: std::collections::HashSet<String> =
        walk.filter_map(Result::ok).map(|o| o.to_string()).collect();
    let idx: Vec<usize> = ph
        .events
        .iter()
        .enumerate()
        .filter(|(_, e)| new.contains(&e.commit))
        .map(|(i, _)| i)
        .collect();
    let found = breaches(
        &ph.events,
        &idx,
        &ph.signed,
        |_, i| ph.held_before[i],
        &repo.config.pool,
    );
    let mut out: Vec<Diagnostic> = found
        .iter()
        .map(|b| diagnostic(b, &ph.paths[b.index]))
        .collect();
    for d in &mut out {
        if let Ok(b) = crate::repo::read_file(&repo.root.join(&d.path))
            && let Ok(text) = String::from_utf8(b)
            && let Some(span) = crate::records::find_field(&text, "owner")
        {
            d.span = Some(span);
            d.locate(&text);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn event(id: &str, from: Option<&str>, to: Option<&str>, date: &str) -> OwnerEvent {
        OwnerEvent {
            id: id.into(),
            date: d(date),
            from: from.map(Into::into),
            to: to.map(Into::into),
            assigned: false,
            commit: format!("{id:0>12}"),
        }
    }

    #[test]
    fn the_sixth_claim_of_a_day_breaks_the_daily_limit() {
        let cfg = PoolConfig::default();
        let ev: Vec<_> = (1..=6)
            .map(|i| event(&format!("C{i}"), None, Some("al"), "2026-03-10"))
            .collect();
        let all: Vec<usize> = (0..ev.len()).collect();
        let found = breaches(&ev, &all, &SignedDates::new(), |_, _| 0, &cfg);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].index, 5);
        assert_eq!(found[0].event, ev[5]);
        // only the new events are replayed, against all earlier ones
        assert_eq!(
            breaches(&ev, &[0, 1], &SignedDates::new(), |_, _| 0, &cfg),
            []
        );
        assert_eq!(
            breaches(&ev, &[5], &SignedDates::new(), |_, _| 0, &cfg).len(),
            1
        );
        let diag = diagnostic(&found[0], "customers/de/c6.toml");
        assert_eq!(diag.code, Code::ClaimLimit);
        assert_eq!(diag.path, "customers/de/c6.toml");
        assert_eq!(diag.field.as_deref(), Some("owner"));
        assert_eq!(
            diag.message,
            "claim by al in commit 0000000000 on 2026-03-10 breaks the claim limit per day: \
             al 5 claims this day, the limit is 5; frees up on 2026-03-11"
        );
    }

    #[test]
    fn a_reclaim_within_the_cooldown_and_a_claim_over_the_hold_limit() {
        let cfg = PoolConfig::default();
        let ev = vec![
            event("C1", Some("al"), None, "2026-03-01"),
            event("C1", None, Some("al"), "2026-03-03"),
            event("C2", None, Some("bo"), "2026-03-03"),
            // an assignment is not a claim: no breach, whatever it breaks
            OwnerEvent {
                assigned: true,
                ..event("C3", None, Some("bo"), "2026-03-03")
            },
        ];
        let held = |h: &str, _| if h == "bo" { cfg.max_held } else { 0 };
        let found = breaches(&ev, &[1, 2, 3], &SignedDates::new(), held, &cfg);
        assert_eq!(found.iter().map(|b| b.index).collect::<Vec<_>>(), [1, 2]);
        let cool = diagnostic(&found[0], "p");
        assert_eq!(cool.code, Code::Cooldown);
        assert!(
            cool.message.ends_with(
                "breaks the reclaim cooldown: al released it on 2026-03-01; may reclaim it from 2026-03-08"
            ),
            "{}",
            cool.message
        );
        let held = diagnostic(&found[1], "p");
        assert_eq!(held.code, Code::ClaimLimit);
        assert!(
            held.message.ends_with(&format!(
                "breaks the hold limit: bo holds {0} customers, the most one may hold is {0}",
                cfg.max_held
            )),
            "{}",
            held.message
        );
    }
}
