//! Finding the one record a command-line argument means: an id, a path, or
//! a search that matches exactly one customer.

use crate::repo::Record;
use std::path::{Path, PathBuf};

/// Why a query does not name exactly one record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("no customer matches `{0}` (by id, path, name or title)")]
    NotFound(String),
    #[error("`{query}` matches {} customers:{}", candidates.len(), list(candidates))]
    Ambiguous {
        query: String,
        /// (path, display name) of each match, sorted by path.
        candidates: Vec<(String, String)>,
    },
    /// Several records have this id (F301): acting on one of them would be
    /// a guess.
    #[error("`{id}` is the id of {} records (F301):{}", candidates.len(), list(candidates))]
    SharedId {
        id: String,
        candidates: Vec<(String, String)>,
    },
    /// A file path outside the data repository.
    #[error("{path} is not in the data repository {}", root.display())]
    Outside { path: String, root: PathBuf },
}

impl ResolveError {
    /// What the user can do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            ResolveError::NotFound(_) => "give a customer id, a record path, or part of the name",
            ResolveError::Ambiguous { .. } => "give the id or the path of the one you mean",
            ResolveError::SharedId { .. } => {
                "give the path of the one you mean, and give each record an id of its own (folio check lists F301)"
            }
            ResolveError::Outside { .. } => {
                "give a path inside the repository, or run folio with --repo for the other one"
            }
        }
    }
}

fn list(c: &[(String, String)]) -> String {
    c.iter()
        .map(|(p, n)| format!("\n  {p}  ({n})"))
        .collect::<String>()
}

fn candidates<'a>(rs: impl Iterator<Item = &'a Record>) -> Vec<(String, String)> {
    let mut c: Vec<(String, String)> = rs
        .map(|r| (r.path.clone(), r.customer.display_name()))
        .collect();
    c.sort();
    c
}

/// Text folded for a search: lower case, accents and scripts spelled in
/// ASCII where they can be (`Müller` finds `Muller`, `上海` stays found by
/// `上海` since the original text is searched too).
fn fold(s: &str) -> String {
    deunicode::deunicode(s).to_lowercase()
}

/// The record `query` names in the repository at `root`: its exact id
/// (refused when several records share it); else its path (relative to the
/// repository root, or a file path relative to the current directory or
/// absolute, which must lie inside `root`); else the records whose display
/// name, company name or a legal title contains `query`, ignoring case and
/// accents. A search that matches several records is an error listing
/// them, unless exactly one of them has that display name, name or title
/// exactly. The one resolver of a CUSTOMER argument: every command asks it.
pub fn resolve<'a>(
    records: &'a [Record],
    query: &str,
    root: &Path,
) -> Result<&'a Record, ResolveError> {
    let q = query.trim();
    if q.is_empty() {
        return Err(ResolveError::NotFound(query.to_string()));
    }
    let by_id: Vec<&Record> = records.iter().filter(|r| r.customer.id == q).collect();
    match by_id.as_slice() {
        [one] => return Ok(one),
        [] => {}
        many => {
            return Err(ResolveError::SharedId {
                id: q.to_string(),
                candidates: candidates(many.iter().copied()),
            });
        }
    }
    let norm = q.replace('\\', "/");
    let norm = norm.strip_prefix("./").unwrap_or(&norm);
    if let Some(r) = records.iter().find(|r| r.path == norm) {
        return Ok(r);
    }
    let p = Path::new(q);
    if p.is_file()
        && let Ok(abs) = p.canonicalize()
    {
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let Ok(rel) = abs.strip_prefix(&root) else {
            return Err(ResolveError::Outside {
                path: q.to_string(),
                root,
            });
        };
        let rel = rel.to_string_lossy().replace('\\', "/");
        return records
            .iter()
            .find(|r| r.path == rel)
            .ok_or_else(|| ResolveError::NotFound(query.to_string()));
    }
    let needle = q.to_lowercase();
    let folded_needle = fold(q);
    let texts = |r: &Record| {
        let c = &r.customer;
        let mut t = vec![c.display_name(), c.name.clone()];
        t.extend(c.titles.iter().map(|x| x.name.clone()));
        t
    };
    let mut hits: Vec<(&Record, bool)> = records
        .iter()
        .filter_map(|r| {
            let t = texts(r);
            let lower: Vec<String> = t.iter().map(|s| s.to_lowercase()).collect();
            let folded: Vec<String> = t.iter().map(|s| fold(s)).collect();
            let found = lower.iter().any(|s| s.contains(&needle))
                || (!folded_needle.trim().is_empty()
                    && folded.iter().any(|s| s.contains(&folded_needle)));
            found.then(|| {
                (
                    r,
                    lower.contains(&needle) || folded.contains(&folded_needle),
                )
            })
        })
        .collect();
    match hits.len() {
        0 => Err(ResolveError::NotFound(query.to_string())),
        1 => Ok(hits[0].0),
        _ => {
            let exact: Vec<&Record> = hits.iter().filter(|h| h.1).map(|h| h.0).collect();
            if exact.len() == 1 {
                return Ok(exact[0]);
            }
            hits.sort_by(|a, b| a.0.path.cmp(&b.0.path));
            Err(ResolveError::Ambiguous {
                query: query.to_string(),
                candidates: candidates(hits.iter().map(|h| h.0)),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{Customer, Title};

    fn rec(id: &str, name: &str, path: &str) -> Record {
        Record {
            path: path.into(),
            customer: Customer {
                id: id.into(),
                name: name.into(),
                contact: "Jo".into(),
                country: "DE".into(),
                ..Default::default()
            },
        }
    }

    #[test]
    fn by_id_path_and_search() {
        let mut rs = vec![
            rec("A1", "Acme Pumps", "customers/de/acme-pumps.toml"),
            rec("B2", "Acme", "customers/de/acme.toml"),
            rec("C3", "Borg", "customers/de/borg.toml"),
        ];
        rs[2].customer.titles.push(Title {
            name: "Borg Holding 上海".into(),
            registration: None,
        });
        assert_eq!(
            resolve(&rs, "B2", Path::new("/nonexistent"))
                .unwrap()
                .customer
                .id,
            "B2"
        );
        assert_eq!(
            resolve(&rs, "./customers/de/borg.toml", Path::new("/nonexistent"))
                .unwrap()
                .customer
                .id,
            "C3"
        );
        assert_eq!(
            resolve(&rs, "上海", Path::new("/nonexistent"))
                .unwrap()
                .customer
                .id,
            "C3"
        );
        assert_eq!(
            resolve(&rs, "pumps", Path::new("/nonexistent"))
                .unwrap()
                .customer
                .id,
            "A1"
        );
        // "acme" is contained in two names but equals one exactly
        assert_eq!(
            resolve(&rs, "ACME", Path::new("/nonexistent"))
                .unwrap()
                .customer
                .id,
            "B2"
        );
        match resolve(&rs, "acm", Path::new("/nonexistent")) {
            Err(ResolveError::Ambiguous { candidates, .. }) => {
                assert_eq!(candidates.len(), 2);
                assert_eq!(candidates[0].0, "customers/de/acme-pumps.toml");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            resolve(&rs, "zzz", Path::new("/nonexistent")),
            Err(ResolveError::NotFound(_))
        ));
    }

    #[test]
    fn accents_fold_and_shared_ids_are_refused() {
        let rs = vec![
            rec("A1", "Müller Gießerei", "customers/de/a.toml"),
            rec("X", "One", "customers/de/x1.toml"),
            rec("X", "Two", "customers/de/x2.toml"),
        ];
        let root = Path::new("/nonexistent");
        assert_eq!(resolve(&rs, "muller", root).unwrap().customer.id, "A1");
        assert_eq!(resolve(&rs, "MÜLLER", root).unwrap().customer.id, "A1");
        match resolve(&rs, "X", root) {
            Err(e @ ResolveError::SharedId { .. }) => assert_eq!(
                e.to_string(),
                "`X` is the id of 2 records (F301):\n  customers/de/x1.toml  (One-Jo-DE)\n  customers/de/x2.toml  (Two-Jo-DE)"
            ),
            other => panic!("{other:?}"),
        }
        // the path still tells them apart
        assert_eq!(
            resolve(&rs, "customers/de/x2.toml", root)
                .unwrap()
                .customer
                .name,
            "Two"
        );
    }
}
