//! Handing a salesperson's customers over to others: the plan (who gets
//! what, in a weighted deal: [`crate::pool::deal`]), the edits (only the `owner` value of
//! each file changes), one commit, and a Markdown handover report.

use crate::config::{Config, Staff};
use crate::git::GitRepo;
use crate::pool::deal;
use crate::records::Customer;
use crate::repo::{Record, Repo};
use crate::session::{CommitRequest, Finish, Session};
use chrono::NaiveDate;
use git2::Oid;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Why a handover cannot be made (nothing was changed).
#[derive(Debug, thiserror::Error)]
pub enum HandoverError {
    #[error("no receiver given")]
    NoReceivers,
    #[error("`{0}` is named twice among the receivers")]
    DuplicateReceiver(String),
    #[error("`{0}` cannot hand customers over to themselves")]
    SelfReceiver(String),
    #[error("receiver {0}")]
    Receiver(crate::config::StaffError),
    #[error(transparent)]
    Weights(#[from] crate::pool::WeightsError),
    #[error("{0} owns no customers")]
    NothingToHandOver(String),
    #[error("the data repository is not in git: a handover is recorded as a commit")]
    NotGit,
    /// Writing or committing (uncommitted changes, a refused commit...).
    #[error(transparent)]
    Session(#[from] crate::session::SessionError),
}

/// One customer going to one receiver.
#[derive(Debug, Clone)]
pub struct Assignment {
    pub to: String,
    pub path: String,
    pub customer: Customer,
}

/// Who gets what.
#[derive(Debug, Clone)]
pub struct Plan {
    pub from: String,
    /// Receivers with their weights, in the order given.
    pub receivers: Vec<(String, u32)>,
    /// In dealing order (most valuable first).
    pub assignments: Vec<Assignment>,
}

impl Plan {
    /// The assignments of one receiver, in dealing order.
    pub fn of<'a>(&'a self, to: &'a str) -> impl Iterator<Item = &'a Assignment> + 'a {
        self.assignments.iter().filter(move |a| a.to == to)
    }
}

/// The amount of the latest order (by date; on a tie the later in the file).
pub fn last_order_amount(c: &Customer) -> f64 {
    c.orders
        .iter()
        .enumerate()
        .max_by_key(|(i, o)| (o.date, *i))
        .and_then(|(_, o)| o.amount)
        .unwrap_or(0.0)
}

/// Most valuable first: tier, then last order amount (larger first), then id.
pub fn value_order(a: &Customer, b: &Customer) -> std::cmp::Ordering {
    a.tier_rank()
        .cmp(&b.tier_rank())
        .then_with(|| last_order_amount(b).total_cmp(&last_order_amount(a)))
        .then_with(|| a.id.cmp(&b.id))
}

/// Plan a handover of every customer `from` owns.
pub fn plan(
    records: &[Record],
    staff: &Staff,
    from: &str,
    to: &[String],
    weights: Option<&crate::pool::Weights>,
) -> Result<Plan, HandoverError> {
    if to.is_empty() {
        return Err(HandoverError::NoReceivers);
    }
    for (i, h) in to.iter().enumerate() {
        if to[..i].contains(h) {
            return Err(HandoverError::DuplicateReceiver(h.clone()));
        }
        if h == from {
            return Err(HandoverError::SelfReceiver(h.clone()));
        }
        staff.require_active(h).map_err(HandoverError::Receiver)?;
    }
    let weights: Vec<u32> = match weights {
        Some(w) => w.for_receivers(to.len())?.to_vec(),
        None => vec![1; to.len()],
    };
    let mut owned: Vec<&Record> = records
        .iter()
        .filter(|r| r.customer.owner.as_deref() == Some(from))
        .collect();
    if owned.is_empty() {
        return Err(HandoverError::NothingToHandOver(from.to_string()));
    }
    owned.sort_by(|a, b| value_order(&a.customer, &b.customer).then_with(|| a.path.cmp(&b.path)));
    let order = deal(owned.len(), &weights, &vec![usize::MAX; to.len()]);
    let assignments = owned
        .into_iter()
        .zip(order)
        .map(|(r, i)| Assignment {
            to: to[i].clone(),
            path: r.path.clone(),
            customer: r.customer.clone(),
        })
        .collect();
    Ok(Plan {
        from: from.to_string(),
        receivers: to.iter().cloned().zip(weights).collect(),
        assignments,
    })
}

/// staff.toml with `[staff.<handle>] active = false` (toml_edit: comments,
/// order and layout kept; the old value's decoration copied).
pub fn deactivate(text: &str, handle: &str) -> Result<String, String> {
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| e.message().trim().to_string())?;
    let member = doc
        .get_mut("staff")
        .and_then(|s| s.get_mut(handle))
        .and_then(|m| m.as_table_like_mut())
        .ok_or_else(|| format!("no [staff.{handle}] table"))?;
    match member.get_mut("active") {
        Some(item) => {
            let decor = item.as_value().map(|v| v.decor().clone());
            let mut nv = toml_edit::Value::from(false);
            if let Some(d) = decor {
                *nv.decor_mut() = d;
            }
            *item = toml_edit::Item::Value(nv);
        }
        None => {
            member.insert("active", toml_edit::value(false));
        }
    }
    Ok(doc.to_string())
}

/// What a handover did.
#[derive(Debug, Clone)]
pub struct Done {
    pub commit: Oid,
    pub message: String,
    pub files: usize,
    /// What the edit session did (for its report).
    pub applied: crate::session::Applied,
}

/// The commit message: a summary line, who got what, and one
/// `Folio-Handover: FROM -> TO` trailer per receiver.
pub fn message(plan: &Plan, deactivated: bool) -> String {
    let names: Vec<&str> = plan.receivers.iter().map(|(h, _)| h.as_str()).collect();
    let n = plan.assignments.len();
    let mut m = format!(
        "Hand over {}'s {} to {}\n\n",
        plan.from,
        crate::output::plural(n, "customer"),
        names.join(", ")
    );
    for (h, _) in &plan.receivers {
        let mine: Vec<&Assignment> = plan.of(h).collect();
        let _ = writeln!(m, "{h} ({}):", mine.len());
        for a in mine {
            let _ = writeln!(m, "  {} {}", a.customer.id, a.customer.display_name());
        }
        m.push('\n');
    }
    if deactivated {
        let _ = writeln!(m, "{} is set inactive in staff.toml.\n", plan.from);
    }
    for (h, _) in &plan.receivers {
        let _ = writeln!(m, "Folio-Handover: {} -> {h}", plan.from);
    }
    m
}

/// Carry the plan out through one edit session: only the `owner` value of
/// each file changes (and, if asked, `active = false` for `from` in
/// staff.toml), committed at once. Refused, changing nothing, when a file
/// to touch has uncommitted changes (unless `include_dirty`).
pub fn apply(
    repo: &Repo,
    plan: &Plan,
    deactivate_from: bool,
    as_of: NaiveDate,
    include_dirty: bool,
) -> Result<Done, HandoverError> {
    if GitRepo::open(&repo.root).is_none() {
        return Err(HandoverError::NotGit);
    }
    let mut session = Session::new(repo, as_of);
    for a in &plan.assignments {
        session.edit(&a.path, |text| {
            crate::edit::set_string(text, "owner", &a.to, crate::records::keys_before("owner"))
                .map(Some)
        })?;
    }
    if deactivate_from {
        session.edit(crate::repo::STAFF_FILE, |text| {
            deactivate(text, &plan.from).map(Some)
        })?;
    }
    let files = session.len();
    let msg = message(plan, deactivate_from);
    let applied = session.apply(Finish::Commit(CommitRequest::new(
        msg.clone(),
        include_dirty,
    )))?;
    let commit = applied
        .commit
        .as_ref()
        .map(|c| c.oid)
        .unwrap_or(Oid::ZERO_SHA1);
    Ok(Done {
        commit,
        message: msg,
        files,
        applied,
    })
}

const CLOSED_QUOTES: &[&str] = &[
    "accepted",
    "rejected",
    "expired",
    "lost",
    "won",
    "cancelled",
    "canceled",
    "declined",
];

/// The Markdown handover report: one document per receiver.
pub fn report(plan: &Plan, cfg: &Config, as_of: NaiveDate, commit: Option<Oid>) -> String {
    let mut m = String::new();
    for (k, (h, _)) in plan.receivers.iter().enumerate() {
        if k > 0 {
            m.push_str("\n---\n\n");
        }
        let mine: Vec<&Assignment> = plan.of(h).collect();
        let _ = writeln!(m, "# Handover from {} to {h}\n", plan.from);
        let _ = write!(
            m,
            "{} from {}, as of {as_of}",
            crate::output::plural(mine.len(), "account"),
            plan.from
        );
        match commit {
            Some(c) => {
                let _ = writeln!(m, " (commit {}).\n", &c.to_string()[..8]);
            }
            None => m.push_str(" (planned, not committed).\n\n"),
        }
        m.push_str("## New accounts\n\n");
        if mine.is_empty() {
            m.push_str("None.\n\n");
        } else {
            m.push_str("| Customer | Id | Tier | Stage | Last order | Last contact | File |\n");
            m.push_str("|---|---|---|---|---|---|---|\n");
            for a in &mine {
                let c = &a.customer;
                let order = c
                    .orders
                    .iter()
                    .enumerate()
                    .max_by_key(|(i, o)| (o.date, *i))
                    .map(|(_, o)| {
                        let d = o.date.map(|d| d.to_string()).unwrap_or_default();
                        match o.amount {
                            Some(x) => {
                                format!("{d} {x:.2} {}", o.currency.as_deref().unwrap_or(""))
                                    .trim()
                                    .to_string()
                            }
                            None => d,
                        }
                    })
                    .unwrap_or_else(|| "—".into());
                let last = c
                    .latest_followup()
                    .and_then(|f| f.date)
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "never".into());
                let _ = writeln!(
                    m,
                    "| {} | `{}` | {} | {} | {order} | {last} | `{}` |",
                    cell(&c.display_name()),
                    c.id,
                    cell(&c.tier),
                    cell(&c.stage),
                    a.path
                );
            }
            m.push('\n');
        }
        m.push_str("## Open quotes\n\n");
        let mut any = false;
        for a in &mine {
            for q in &a.customer.quotes {
                let status = q.status.as_deref().unwrap_or("open");
                if CLOSED_QUOTES.contains(&status.to_ascii_lowercase().as_str()) {
                    continue;
                }
                any = true;
                let mut parts = vec![q.date.map(|d| d.to_string()).unwrap_or_default()];
                parts.extend(q.product.clone());
                if let Some(x) = q.amount {
                    parts.push(
                        format!("{x:.2} {}", q.currency.as_deref().unwrap_or(""))
                            .trim()
                            .to_string(),
                    );
                }
                parts.extend(q.incoterm.clone());
                parts.retain(|p| !p.is_empty());
                let _ = writeln!(
                    m,
                    "- {}: {} ({status})",
                    a.customer.display_name(),
                    parts.join(", ")
                );
            }
        }
        if !any {
            m.push_str("None.\n");
        }
        m.push_str("\n## Overdue follow-ups\n\n");
        let mut overdue: Vec<(NaiveDate, &Assignment)> = mine
            .iter()
            .filter_map(|a| {
                crate::followups::due(&a.customer, &cfg.followups).map(|d| (d.date, *a))
            })
            .filter(|(d, _)| *d < as_of)
            .collect();
        overdue.sort_by(|x, y| {
            x.0.cmp(&y.0)
                .then_with(|| x.1.customer.id.cmp(&y.1.customer.id))
        });
        if overdue.is_empty() {
            m.push_str("None.\n");
        }
        for (d, a) in overdue {
            let days = (as_of - d).num_days();
            let _ = writeln!(
                m,
                "- {}: due {d} ({} overdue)",
                a.customer.display_name(),
                crate::output::plural(days as usize, "day")
            );
        }
        m.push_str("\n## Last contact\n\n");
        for a in &mine {
            let c = &a.customer;
            match c.latest_followup() {
                Some(f) => {
                    let mut s = format!(
                        "- {}: {}",
                        c.display_name(),
                        f.date.map(|d| d.to_string()).unwrap_or_default()
                    );
                    if let Some(ch) = &f.channel {
                        let _ = write!(s, ", {ch}");
                    }
                    if let Some(by) = &f.by {
                        let _ = write!(s, ", by {by}");
                    }
                    if let Some(sum) = &f.summary {
                        let _ = write!(s, ": \"{sum}\"");
                    }
                    if f.replied == Some(false) {
                        s.push_str(" (no reply)");
                    }
                    let _ = writeln!(m, "{s}");
                }
                None => {
                    let _ = writeln!(m, "- {}: never contacted", c.display_name());
                }
            }
        }
    }
    m
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Receivers and the number of customers each gets, in order.
pub fn counts(plan: &Plan) -> BTreeMap<&str, usize> {
    let mut m = BTreeMap::new();
    for a in &plan.assignments {
        *m.entry(a.to.as_str()).or_insert(0) += 1;
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_edit_keeps_every_other_byte() {
        let t = "# keep\nid = \"C1\"\nowner   =   \"alice\"  # account owner\r\ntier = \"B\"\n\n[[followups]]\nby = \"alice\"\n";
        let n = crate::edit::set_string(t, "owner", "bob", &[]).unwrap();
        assert_eq!(n, t.replace("\"alice\"  #", "\"bob\"  #"));
        assert!(crate::edit::set_string("owner = 3\n", "owner", "bob", &[]).is_err());
    }

    #[test]
    fn deactivate_keeps_layout() {
        let t = "# team\n[staff.alice]\nname = \"Alice\"\nactive = true # still here\nweight = 2\n\n[staff.bob]\nname = \"Bob\"\n";
        assert_eq!(
            deactivate(t, "alice").unwrap(),
            t.replace("active = true #", "active = false #")
        );
        let n = deactivate(t, "bob").unwrap();
        assert!(n.starts_with(&t[..t.len() - 1]), "{n}");
        assert!(n.ends_with("name = \"Bob\"\nactive = false\n"), "{n}");
    }
}
