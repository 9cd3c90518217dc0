//! Finding the one record a command-line argument means: an id, a path, or
//! a search that matches exactly one customer.

use crate::repo::Record;
use std::path::Path;

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
}

fn list(c: &[(String, String)]) -> String {
    c.iter()
        .map(|(p, n)| format!("\n  {p}  ({n})"))
        .collect::<String>()
}

/// The record `query` names: its exact id; else its path (relative to the
/// repository root, or a file path relative to the current directory or
/// absolute); else the records whose display name, company name or a legal
/// title contains `query`, ignoring case. A search that matches several
/// records is an error listing them, unless exactly one of them has that
/// display name, name or title exactly (ignoring case).
pub fn resolve<'a>(records: &'a [Record], query: &str) -> Result<&'a Record, ResolveError> {
    let q = query.trim();
    if q.is_empty() {
        return Err(ResolveError::NotFound(query.to_string()));
    }
    if let Some(r) = records.iter().find(|r| r.customer.id == q) {
        return Ok(r);
    }
    let norm = q.replace('\\', "/");
    let norm = norm.strip_prefix("./").unwrap_or(&norm);
    if let Some(r) = records.iter().find(|r| r.path == norm) {
        return Ok(r);
    }
    let p = Path::new(q);
    if p.is_file()
        && let Ok(abs) = p.canonicalize()
        && let Some(r) = records.iter().find(|r| abs.ends_with(&r.path))
    {
        return Ok(r);
    }
    let needle = q.to_lowercase();
    let texts = |r: &Record| {
        let c = &r.customer;
        let mut t = vec![c.display_name().to_lowercase(), c.name.to_lowercase()];
        t.extend(c.titles.iter().map(|x| x.name.to_lowercase()));
        t
    };
    let mut hits: Vec<(&Record, bool)> = records
        .iter()
        .filter_map(|r| {
            let t = texts(r);
            t.iter()
                .any(|s| s.contains(&needle))
                .then(|| (r, t.contains(&needle)))
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
                candidates: hits
                    .iter()
                    .map(|(r, _)| (r.path.clone(), r.customer.display_name()))
                    .collect(),
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
        assert_eq!(resolve(&rs, "B2").unwrap().customer.id, "B2");
        assert_eq!(
            resolve(&rs, "./customers/de/borg.toml")
                .unwrap()
                .customer
                .id,
            "C3"
        );
        assert_eq!(resolve(&rs, "上海").unwrap().customer.id, "C3");
        assert_eq!(resolve(&rs, "pumps").unwrap().customer.id, "A1");
        // "acme" is contained in two names but equals one exactly
        assert_eq!(resolve(&rs, "ACME").unwrap().customer.id, "B2");
        match resolve(&rs, "acm") {
            Err(ResolveError::Ambiguous { candidates, .. }) => {
                assert_eq!(candidates.len(), 2);
                assert_eq!(candidates[0].0, "customers/de/acme-pumps.toml");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            resolve(&rs, "zzz"),
            Err(ResolveError::NotFound(_))
        ));
    }
}
