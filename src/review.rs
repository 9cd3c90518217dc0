//! When each record's file last changed in git, for the periodic data
//! review the source articles ask for (quarterly or half-yearly): records
//! nobody has touched for a long time are the first to re-check.
//!
//! Read from the history cache ([`crate::history::History`]), which `log`,
//! `owners` and the pool share: a merge counts as a change only where it
//! differs from every parent (as `git log` sees it), and a record present
//! in the oldest commit of a shallow clone last changed then or earlier.

use crate::history::History;
use chrono::NaiveDate;
use git2::Oid;
use std::collections::HashSet;

/// The last change of one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LastChange {
    /// Changed in the working tree and not committed (or untracked).
    Uncommitted,
    /// The newest commit that changed it, with that commit's date (in the
    /// committer's own time zone).
    Commit { oid: Oid, date: NaiveDate },
    /// Present in the oldest commit of a shallow clone and not changed
    /// since: it last changed on or before `date`.
    AtOrBefore { oid: Oid, date: NaiveDate },
    /// Not found in history (for example ignored by git).
    Unknown,
}

/// The last change of each path (relative to the data root), in the order
/// asked. `uncommitted` are paths with changes in the working tree.
pub fn last_changes(
    history: &History,
    paths: &[String],
    uncommitted: &HashSet<String>,
) -> Vec<LastChange> {
    let last = history.last_touched();
    paths
        .iter()
        .map(|p| {
            if uncommitted.contains(p) {
                return LastChange::Uncommitted;
            }
            match last.get(p.as_str()) {
                None => LastChange::Unknown,
                Some(c) if c.is_shallow_root() => LastChange::AtOrBefore {
                    oid: c.oid(),
                    date: c.date(),
                },
                Some(c) => LastChange::Commit {
                    oid: c.oid(),
                    date: c.date(),
                },
            }
        })
        .collect()
}

/// A duration argument: `180d`, `26w`, `6m` (30 days), `1y` (365 days), or
/// a bare number of days.
pub fn parse_age(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let (num, unit) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&t[..i], c.to_ascii_lowercase()),
        _ => (t, 'd'),
    };
    let n: i64 = num
        .parse()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| format!("`{s}` is not a duration such as 180d, 26w, 6m or 1y"))?;
    let per = match unit {
        'd' => 1,
        'w' => 7,
        'm' => 30,
        'y' => 365,
        _ => return Err(format!("`{s}`: the unit is d, w, m (30 days) or y")),
    };
    n.checked_mul(per)
        .ok_or_else(|| format!("`{s}` is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        assert_eq!(parse_age("180d"), Ok(180));
        assert_eq!(parse_age("2w"), Ok(14));
        assert_eq!(parse_age("6m"), Ok(180));
        assert_eq!(parse_age("1Y"), Ok(365));
        assert_eq!(parse_age("90"), Ok(90));
        assert!(parse_age("6x").is_err());
        assert!(parse_age("-3d").is_err());
        assert!(parse_age("d").is_err());
    }
}
