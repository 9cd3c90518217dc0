//! The public pool (公海): customers nobody owns. Release eligibility,
//! claim limits, cooldown and fair distribution, computed from the records
//! and from the owner changes in the git history (DOMAIN.md, "The public
//! pool"). Everything here is pure: the history arrives as events.

use crate::config::PoolConfig;
use crate::records::Customer;
use chrono::{Days, NaiveDate};
use serde::Serialize;
use std::collections::HashMap;

pub mod breach;
pub mod claim;
pub mod ledger;
pub use breach::{Breach, breaches};
pub use ledger::{
    ClaimLedger, Holding, PoolHistory, WorkingView, claim_ledger, history_and_changes, pool_history,
};

/// One change of a customer's owner, from the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerEvent {
    pub id: String,
    pub date: NaiveDate,
    pub from: Option<String>,
    pub to: Option<String>,
    /// Made by `folio pool assign` (a manager's deal, not a claim).
    pub assigned: bool,
    pub commit: String,
}

impl OwnerEvent {
    /// A claim: the owner goes from absent to a handle, not by assignment.
    pub fn claim_by(&self, h: &str) -> bool {
        self.from.is_none() && self.to.as_deref() == Some(h) && !self.assigned
    }
    /// A release: the owner goes from `h` to absent.
    pub fn release_by(&self, h: &str) -> bool {
        self.to.is_none() && self.from.as_deref() == Some(h)
    }
}

/// The first date each customer reached stage signed, per id.
pub type SignedDates = HashMap<String, Vec<NaiveDate>>;

/// The largest weight a receiver can have (`--weights`, staff.toml's
/// `weight`); the smallest is 1.
pub const MAX_WEIGHT: u32 = 1000;

/// Receivers' weights, written `3:2:1` or `3,2,1` (whole numbers from 1 to
/// [`MAX_WEIGHT`]), one per receiver: the one parser of `handover
/// --weights` and `pool assign --weights`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Weights(pub Vec<u32>);

/// Why weights were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeightsError {
    #[error("`{0}` is not a list of weights such as 3:2:1 (whole numbers from 1 to {MAX_WEIGHT})")]
    Syntax(String),
    #[error("{given} weights given for {receivers} receivers")]
    Count { given: usize, receivers: usize },
}

impl std::str::FromStr for Weights {
    type Err = WeightsError;
    fn from_str(s: &str) -> Result<Weights, WeightsError> {
        s.split([':', ','])
            .map(|p| match p.trim().parse::<u32>() {
                Ok(w) if (1..=MAX_WEIGHT).contains(&w) => Ok(w),
                _ => Err(WeightsError::Syntax(s.to_string())),
            })
            .collect::<Result<_, _>>()
            .map(Weights)
    }
}

impl Weights {
    /// The weights, if there is one per receiver.
    pub fn for_receivers(&self, receivers: usize) -> Result<&[u32], WeightsError> {
        if self.0.len() == receivers {
            Ok(&self.0)
        } else {
            Err(WeightsError::Count {
                given: self.0.len(),
                receivers,
            })
        }
    }
}

/// Where `pool assign` takes its weights from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WeightSource {
    /// Each receiver's `weight` in staff.toml.
    FromStaff,
    /// Each receiver's conversion rate.
    FromConversion,
    /// Given, like `3:2:1`.
    Given(Weights),
}

impl std::str::FromStr for WeightSource {
    type Err = WeightsError;
    fn from_str(s: &str) -> Result<WeightSource, WeightsError> {
        match s {
            "from-staff" => Ok(WeightSource::FromStaff),
            "from-conversion" => Ok(WeightSource::FromConversion),
            w => w.parse().map(WeightSource::Given),
        }
    }
}

/// Which limit a claim would break.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Refusal {
    /// Claims in the window (`day`, `week`, `month`) or customers `held`.
    Limit {
        window: String,
        count: usize,
        limit: usize,
        frees_on: Option<NaiveDate>,
    },
    /// The claimant released this customer within the cooldown.
    Cooldown {
        released_on: NaiveDate,
        until: NaiveDate,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Limit {
                window,
                count,
                limit,
                frees_on,
            } if window == "held" => {
                write!(
                    f,
                    "holds {count} customers, the most one may hold is {limit}"
                )?;
                let _ = frees_on;
                Ok(())
            }
            Refusal::Limit {
                window,
                count,
                limit,
                frees_on,
            } => {
                write!(f, "{count} claims this {window}, the limit is {limit}")?;
                if let Some(d) = frees_on {
                    write!(f, "; frees up on {d}")?;
                }
                Ok(())
            }
            Refusal::Cooldown { released_on, until } => {
                write!(
                    f,
                    "released it on {released_on}; may reclaim it from {until}"
                )
            }
        }
    }
}

/// The claim windows: (name, days, limit), ending on the as-of date.
fn windows(cfg: &PoolConfig) -> [(&'static str, u64, usize); 3] {
    [
        ("day", 1, cfg.max_claims_per_day),
        ("week", 7, cfg.max_claims_per_week),
        ("month", 30, cfg.max_claims_per_month),
    ]
}

fn day_minus(d: NaiveDate, n: u64) -> NaiveDate {
    d.checked_sub_days(Days::new(n)).unwrap_or(NaiveDate::MIN)
}

fn day_plus(d: NaiveDate, n: u64) -> NaiveDate {
    d.checked_add_days(Days::new(n)).unwrap_or(NaiveDate::MAX)
}

/// Dates of `h`'s claims that count against the limits in the window of
/// `days` ending on `as_of`: claims of customers that reached stage signed
/// within the window do not count.
pub fn counted_claims(
    h: &str,
    events: &[OwnerEvent],
    signed: &SignedDates,
    as_of: NaiveDate,
    days: u64,
) -> Vec<NaiveDate> {
    let start = day_minus(as_of, days - 1);
    let mut out: Vec<NaiveDate> = events
        .iter()
        .filter(|e| e.claim_by(h) && e.date >= start && e.date <= as_of)
        .filter(|e| {
            !signed.get(&e.id).is_some_and(|ds| {
                ds.iter()
                    .any(|d| *d >= start && *d <= as_of && *d >= e.date)
            })
        })
        .map(|e| e.date)
        .collect();
    out.sort();
    out
}

/// What the history says about claims: owner changes, and when customers
/// reached stage signed.
#[derive(Debug, Clone, Copy)]
pub struct Ledger<'a> {
    pub events: &'a [OwnerEvent],
    pub signed: &'a SignedDates,
}

/// Whether `h` may claim customer `id` on `as_of`, having already claimed
/// `pending` customers in the same operation and holding `held` now.
pub fn check_claim(
    h: &str,
    id: &str,
    ledger: Ledger,
    as_of: NaiveDate,
    pending: usize,
    held: usize,
    cfg: &PoolConfig,
) -> Result<(), Refusal> {
    let (events, signed) = (ledger.events, ledger.signed);
    if let Some(rel) = events
        .iter()
        .filter(|e| e.id == id && e.release_by(h))
        .map(|e| e.date)
        .max()
    {
        let until = day_plus(rel, cfg.cooldown_days.max(0) as u64);
        if as_of < until {
            return Err(Refusal::Cooldown {
                released_on: rel,
                until,
            });
        }
    }
    for (window, days, limit) in windows(cfg) {
        let mut dates = counted_claims(h, events, signed, as_of, days);
        // claims not committed yet count as made on the as-of day
        dates.extend(std::iter::repeat_n(as_of, pending));
        let count = dates.len();
        if count >= limit {
            // The claims leave the window one by one, oldest first; the
            // limit frees up when one fewer than `count - limit + 1` remain.
            let leaving = count + 1 - limit;
            let frees_on = dates
                .get(leaving.saturating_sub(1))
                .map(|d| day_plus(*d, days));
            return Err(Refusal::Limit {
                window: window.to_string(),
                count,
                limit,
                frees_on,
            });
        }
    }
    if held + pending >= cfg.max_held {
        return Err(Refusal::Limit {
            window: "held".into(),
            count: held + pending,
            limit: cfg.max_held,
            frees_on: None,
        });
    }
    Ok(())
}

/// Release status of an owned customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseStatus {
    /// Last sign of the owner's work: their latest follow-up, or when they
    /// got the customer, or when it was created.
    pub last_activity: NaiveDate,
    pub idle_days: i64,
    /// The date from which the customer may be released.
    pub eligible_on: NaiveDate,
    pub eligible: bool,
}

/// Whether an owned customer may return to the pool (or soon may).
/// `owned_since` is when the current owner got it (from the history).
pub fn release_status(
    c: &Customer,
    owned_since: Option<NaiveDate>,
    as_of: NaiveDate,
    cfg: &PoolConfig,
) -> Option<ReleaseStatus> {
    let owner = c.owner.as_deref()?;
    if c.stage == "signed" && !cfg.release_signed {
        return None;
    }
    let by_owner = c
        .followups
        .iter()
        .filter(|f| f.by.as_deref() == Some(owner))
        .filter_map(|f| f.date)
        .max();
    let last_activity = [by_owner, owned_since, c.created]
        .into_iter()
        .flatten()
        .max()?;
    let idle_days = (as_of - last_activity).num_days();
    let eligible_on = day_plus(last_activity, cfg.release_after_days.max(0) as u64);
    let warn_from = day_minus(eligible_on, cfg.warn_days.max(0) as u64);
    if as_of < warn_from {
        return None;
    }
    Some(ReleaseStatus {
        last_activity,
        idle_days,
        eligible_on,
        eligible: as_of >= eligible_on,
    })
}

/// Conversion of one salesperson over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conversion {
    pub handle: String,
    /// Customers claimed or assigned in the window.
    pub taken: usize,
    /// Of those, the ones that reached stage signed by the as-of date.
    pub signed: usize,
    pub rate: f64,
    /// The round-robin weight derived from the rate (1 to 10).
    pub weight: u32,
}

/// Each receiver's conversion rate over the `conversion_days` before
/// `as_of`: customers they claimed or were assigned that reached stage
/// signed, divided by all they claimed or were assigned. The weight is the
/// rate in tenths, at least 1 (nobody is starved while they learn).
pub fn conversion(
    handles: &[String],
    events: &[OwnerEvent],
    signed: &SignedDates,
    as_of: NaiveDate,
    cfg: &PoolConfig,
) -> Vec<Conversion> {
    let start = day_minus(as_of, cfg.conversion_days.max(1) as u64 - 1);
    handles
        .iter()
        .map(|h| {
            let mut ids: Vec<(&str, NaiveDate)> = events
                .iter()
                .filter(|e| {
                    e.from.is_none()
                        && e.to.as_deref() == Some(h.as_str())
                        && e.date >= start
                        && e.date <= as_of
                })
                .map(|e| (e.id.as_str(), e.date))
                .collect();
            ids.sort();
            ids.dedup_by(|a, b| a.0 == b.0);
            let won = ids
                .iter()
                .filter(|(id, d)| {
                    signed
                        .get(*id)
                        .is_some_and(|ds| ds.iter().any(|s| s >= d && *s <= as_of))
                })
                .count();
            let rate = if ids.is_empty() {
                0.0
            } else {
                won as f64 / ids.len() as f64
            };
            Conversion {
                handle: h.clone(),
                taken: ids.len(),
                signed: won,
                rate,
                weight: ((rate * 10.0).round() as u32).max(1),
            }
        })
        .collect()
}

/// Pool customers in the order they are dealt out and listed: most
/// promising first (tier A first), then the most recent activity.
pub fn promising_order(a: &Customer, b: &Customer) -> std::cmp::Ordering {
    a.tier_rank()
        .cmp(&b.tier_rank())
        .then_with(|| last_activity(b).cmp(&last_activity(a)))
        .then_with(|| a.id.cmp(&b.id))
}

/// A pool customer's last activity: its latest follow-up, or when it was
/// created.
pub fn last_activity(c: &Customer) -> Option<NaiveDate> {
    c.followups
        .iter()
        .filter_map(|f| f.date)
        .max()
        .or(c.created)
}

/// The pool's records, most promising first.
pub fn in_pool(records: &[crate::repo::Record]) -> Vec<&crate::repo::Record> {
    let mut pool: Vec<&crate::repo::Record> = records
        .iter()
        .filter(|r| r.customer.owner.is_none())
        .collect();
    pool.sort_by(|a, b| promising_order(&a.customer, &b.customer));
    pool
}

/// Deal `n` customers to receivers by weight, skipping a receiver who
/// reaches `room[i]` (what they may still hold; `usize::MAX` for no limit).
/// Returns, per customer dealt, the receiver's index: the one deal of
/// `pool assign` and `handover`.
///
/// Each customer goes to the receiver with room whose `(dealt + 1/2) /
/// weight` is smallest (the highest-averages method of Sainte-Laguë), the
/// one listed first on a tie. However many customers have been dealt, each
/// receiver's count is their weight's share of them, rounded: weights
/// 3:2:1 give A-B-A-C-B-A, and 1000:1 give A the first 500. Only counts
/// are kept, so a weight costs nothing however large it is.
pub fn deal(n: usize, weights: &[u32], room: &[usize]) -> Vec<usize> {
    let mut dealt = vec![0usize; weights.len()];
    let mut out = Vec::new();
    while out.len() < n {
        // (2 * dealt + 1) / weight, compared without division
        let mut best: Option<usize> = None;
        for (i, &w) in weights.iter().enumerate() {
            if w == 0 || dealt[i] >= room.get(i).copied().unwrap_or(0) {
                continue;
            }
            let lower = |b: usize| {
                (2 * dealt[i] as u128 + 1) * u128::from(weights[b])
                    < (2 * dealt[b] as u128 + 1) * u128::from(w)
            };
            if best.is_none_or(lower) {
                best = Some(i);
            }
        }
        let Some(b) = best else { break };
        dealt[b] += 1;
        out.push(b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn claim(id: &str, h: &str, date: &str) -> OwnerEvent {
        OwnerEvent {
            id: id.into(),
            date: d(date),
            from: None,
            to: Some(h.into()),
            assigned: false,
            commit: String::new(),
        }
    }

    #[test]
    fn deal_3_2_1() {
        let names = ["A", "B", "C"];
        let unlimited = [usize::MAX; 3];
        let order: Vec<&str> = deal(12, &[3, 2, 1], &unlimited)
            .into_iter()
            .map(|i| names[i])
            .collect();
        assert_eq!(order.join("-"), "A-B-A-C-B-A-A-B-A-C-B-A");
        assert_eq!(deal(4, &[1, 1], &unlimited), [0, 1, 0, 1]);
        assert_eq!(deal(4, &[1, 3], &unlimited), [1, 0, 1, 1]);
        // a receiver without room is skipped; nobody with room: done
        assert_eq!(deal(6, &[3, 2, 1], &[1, 5, 1]), [0, 1, 2, 1, 1, 1]);
        assert_eq!(deal(6, &[1, 1], &[1, 1]), [0, 1]);
        for w in ["3:2:1", "3,2,1", " 3 : 2 : 1 "] {
            assert_eq!(w.parse::<Weights>().unwrap(), Weights(vec![3, 2, 1]));
        }
        assert_eq!("1000:1".parse::<Weights>(), Ok(Weights(vec![1000, 1])));
        for w in ["3:0", "a", "", "3::1", "-1", "1001:1", "4294967295:1"] {
            assert_eq!(
                w.parse::<Weights>(),
                Err(WeightsError::Syntax(w.to_string()))
            );
        }
        assert_eq!(
            "2:1".parse::<Weights>().unwrap().for_receivers(3),
            Err(WeightsError::Count {
                given: 2,
                receivers: 3
            })
        );
        assert_eq!(
            "from-staff".parse::<WeightSource>(),
            Ok(WeightSource::FromStaff)
        );
        assert_eq!(
            "2,1".parse::<WeightSource>(),
            Ok(WeightSource::Given(Weights(vec![2, 1])))
        );
    }

    #[test]
    fn daily_limit_boundary_and_frees_on() {
        let cfg = PoolConfig::default();
        let ev: Vec<_> = (0..4)
            .map(|i| claim(&format!("C{i}"), "al", "2026-03-10"))
            .collect();
        let s = SignedDates::new();
        assert!(
            check_claim(
                "al",
                "X",
                Ledger {
                    events: &ev,
                    signed: &s
                },
                d("2026-03-10"),
                0,
                0,
                &cfg
            )
            .is_ok(),
            "the 5th claim passes"
        );
        let err = check_claim(
            "al",
            "X",
            Ledger {
                events: &ev,
                signed: &s,
            },
            d("2026-03-10"),
            1,
            0,
            &cfg,
        )
        .unwrap_err();
        assert_eq!(
            err,
            Refusal::Limit {
                window: "day".into(),
                count: 5,
                limit: 5,
                frees_on: Some(d("2026-03-11"))
            }
        );
        assert!(
            check_claim(
                "al",
                "X",
                Ledger {
                    events: &ev,
                    signed: &s
                },
                d("2026-03-11"),
                1,
                0,
                &cfg
            )
            .is_ok(),
            "a new day"
        );
    }

    #[test]
    fn weekly_window_edges_and_signed_exemption() {
        let cfg = PoolConfig {
            max_claims_per_day: 100,
            ..Default::default()
        };
        let mut ev = Vec::new();
        for i in 0..20 {
            ev.push(claim(
                &format!("C{i}"),
                "al",
                if i < 10 { "2026-03-01" } else { "2026-03-05" },
            ));
        }
        let mut s = SignedDates::new();
        // 2026-03-07 is the last day the claims of 03-01 count (7-day window)
        let err = check_claim(
            "al",
            "X",
            Ledger {
                events: &ev,
                signed: &s,
            },
            d("2026-03-07"),
            0,
            0,
            &cfg,
        )
        .unwrap_err();
        assert_eq!(
            err,
            Refusal::Limit {
                window: "week".into(),
                count: 20,
                limit: 20,
                frees_on: Some(d("2026-03-08"))
            }
        );
        assert!(
            check_claim(
                "al",
                "X",
                Ledger {
                    events: &ev,
                    signed: &s
                },
                d("2026-03-08"),
                0,
                0,
                &cfg
            )
            .is_ok()
        );
        s.insert("C3".into(), vec![d("2026-03-06")]);
        assert!(
            check_claim(
                "al",
                "X",
                Ledger {
                    events: &ev,
                    signed: &s
                },
                d("2026-03-07"),
                0,
                0,
                &cfg
            )
            .is_ok(),
            "a signed customer does not count"
        );
    }

    #[test]
    fn cooldown_and_hold_limit() {
        let cfg = PoolConfig::default();
        let ev = vec![OwnerEvent {
            id: "C1".into(),
            date: d("2026-03-01"),
            from: Some("al".into()),
            to: None,
            assigned: false,
            commit: String::new(),
        }];
        let s = SignedDates::new();
        assert_eq!(
            check_claim(
                "al",
                "C1",
                Ledger {
                    events: &ev,
                    signed: &s
                },
                d("2026-03-07"),
                0,
                0,
                &cfg
            )
            .unwrap_err(),
            Refusal::Cooldown {
                released_on: d("2026-03-01"),
                until: d("2026-03-08")
            }
        );
        assert!(
            check_claim(
                "al",
                "C1",
                Ledger {
                    events: &ev,
                    signed: &s
                },
                d("2026-03-08"),
                0,
                0,
                &cfg
            )
            .is_ok()
        );
        assert!(
            check_claim(
                "bo",
                "C1",
                Ledger {
                    events: &ev,
                    signed: &s
                },
                d("2026-03-02"),
                0,
                0,
                &cfg
            )
            .is_ok()
        );
        assert!(
            check_claim(
                "al",
                "C2",
                Ledger {
                    events: &ev,
                    signed: &s
                },
                d("2026-03-02"),
                0,
                299,
                &cfg
            )
            .is_ok()
        );
        assert!(matches!(
            check_claim(
                "al",
                "C2",
                Ledger {
                    events: &ev,
                    signed: &s
                },
                d("2026-03-02"),
                0,
                300,
                &cfg
            ),
            Err(Refusal::Limit { .. })
        ));
    }

    #[test]
    fn dealing_respects_room() {
        assert_eq!(deal(6, &[3, 2, 1], &[10, 10, 10]), [0, 1, 0, 2, 1, 0]);
        assert_eq!(deal(5, &[3, 2, 1], &[1, 10, 10]), [0, 1, 2, 1, 1]);
        assert_eq!(deal(5, &[1, 1], &[1, 1]), [0, 1]);
    }

    #[test]
    fn conversion_rates() {
        let cfg = PoolConfig::default();
        let ev = vec![
            claim("C1", "al", "2026-01-10"),
            claim("C2", "al", "2026-01-11"),
            claim("C3", "bo", "2026-01-12"),
        ];
        let mut s = SignedDates::new();
        s.insert("C1".into(), vec![d("2026-02-01")]);
        let c = conversion(&["al".into(), "bo".into()], &ev, &s, d("2026-03-01"), &cfg);
        assert_eq!((c[0].taken, c[0].signed, c[0].weight), (2, 1, 5));
        assert_eq!((c[1].taken, c[1].signed, c[1].weight), (1, 0, 1));
    }
}
