//! Finding the one customer a command line names: an exact id, then a
//! path, then a case-insensitive substring of the display name
//! (`Company-Contact-CC`). Several matches are an error listing them.

use crate::repo::Record;

/// Why a query names no single customer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("no customer matches `{0}` (by id, path or name)")]
    NotFound(String),
    #[error("`{query}` matches {} customers: {}", .candidates.len(), .candidates.iter().map(|c| format!("{} ({})", c.1, c.0)).collect::<Vec<_>>().join(", "))]
    Ambiguous {
        query: String,
        /// (id, display name, path), sorted by display name.
        candidates: Vec<(String, String, String)>,
    },
}

fn norm_path(p: &str) -> String {
    let p = p.replace('\\', "/");
    p.trim_start_matches("./").to_string()
}

/// The record `query` names.
pub fn resolve<'a>(records: &'a [Record], query: &str) -> Result<&'a Record, ResolveError> {
    let q = query.trim();
    if let Some(r) = records.iter().find(|r| r.customer.id == q) {
        return Ok(r);
    }
    let qp = norm_path(q);
    if let Some(r) = records.iter().find(|r| r.path == qp) {
        return Ok(r);
    }
    if qp.ends_with(".toml") {
        let tail: Vec<&Record> = records
            .iter()
            .filter(|r| r.path.ends_with(&format!("/{qp}")))
            .collect();
        if tail.len() == 1 {
            return Ok(tail[0]);
        }
    }
    let needle = q.to_lowercase();
    if needle.is_empty() {
        return Err(ResolveError::NotFound(query.to_string()));
    }
    let hits: Vec<&Record> = records
        .iter()
        .filter(|r| r.customer.display_name().to_lowercase().contains(&needle))
        .collect();
    match hits.len() {
        0 => Err(ResolveError::NotFound(query.to_string())),
        1 => Ok(hits[0]),
        _ => {
            let mut candidates: Vec<(String, String, String)> = hits
                .iter()
                .map(|r| {
                    (
                        r.customer.id.clone(),
                        r.customer.display_name(),
                        r.path.clone(),
                    )
                })
                .collect();
            candidates.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
            Err(ResolveError::Ambiguous {
                query: query.to_string(),
                candidates,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::Customer;

    fn rec(id: &str, name: &str, path: &str) -> Record {
        Record {
            path: path.into(),
            customer: Customer {
                id: id.into(),
                name: name.into(),
                contact: "John Doe".into(),
                country: "US".into(),
                ..Default::default()
            },
        }
    }

    #[test]
    fn id_then_path_then_name() {
        let rs = vec![
            rec("C1", "ABC Corp", "customers/us/abc.toml"),
            rec("C2", "ABC Trading", "customers/us/abc-trading.toml"),
        ];
        assert_eq!(resolve(&rs, "C2").unwrap().customer.id, "C2");
        assert_eq!(
            resolve(&rs, "./customers/us/abc.toml").unwrap().customer.id,
            "C1"
        );
        assert_eq!(resolve(&rs, "abc-trading.toml").unwrap().customer.id, "C2");
        assert_eq!(resolve(&rs, "abc corp").unwrap().customer.id, "C1");
        match resolve(&rs, "abc") {
            Err(ResolveError::Ambiguous { candidates, .. }) => assert_eq!(candidates.len(), 2),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            resolve(&rs, "zzz").unwrap_err(),
            ResolveError::NotFound("zzz".into())
        );
    }
}
