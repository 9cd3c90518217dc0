//! Handing a salesperson's customers over to others: the plan (who gets
//! what, in weighted round-robin), the edits (only the `owner` value of
//! each file changes), one commit, and a Markdown handover report.

use crate::config::{Config, Staff};
use crate::git::GitRepo;
use crate::pool::round_robin;
use crate::records::Customer;
use crate::repo::{Record, Repo};
use chrono::NaiveDate;
use git2::build::TreeUpdateBuilder;
use git2::{FileMode, Oid, Signature};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// Why a handover cannot be made (nothing was changed).
#[derive(Debug, thiserror::Error)]
pub enum HandoverError {
    #[error("no receiver given")]
    NoReceivers,
    #[error("`{0}` is named twice among the receivers")]
    DuplicateReceiver(String),
    #[error("`{0}` cannot hand customers over to themselves")]
    SelfReceiver(String),
    #[error("receiver `{0}` is not in staff.toml")]
    UnknownReceiver(String),
    #[error("receiver `{0}` is inactive in staff.toml")]
    InactiveReceiver(String),
    #[error("{given} weights given for {receivers} receivers")]
    WeightCount { given: usize, receivers: usize },
    #[error("weights must be whole numbers of at least 1 (`{0}`)")]
    BadWeight(String),
    #[error("{0} owns no customers")]
    NothingToHandOver(String),
    #[error("{} has uncommitted changes", .0.join(", "))]
    Dirty(Vec<String>),
    #[error("the data repository is not in git: a handover is recorded as a commit")]
    NotGit,
    #[error("cannot edit {path}: {message}")]
    Edit { path: String, message: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Transaction(#[from] crate::transaction::TxError),
    #[error("git: {0}")]
    Git(#[from] git2::Error),
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

/// Parse `3:2:1`.
pub fn parse_weights(s: &str) -> Result<Vec<u32>, HandoverError> {
    s.split([':', ','])
        .map(|w| match w.trim().parse::<u32>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(HandoverError::BadWeight(w.trim().to_string())),
        })
        .collect()
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
    weights: Option<&[u32]>,
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
        match staff.get(h) {
            None => return Err(HandoverError::UnknownReceiver(h.clone())),
            Some(m) if !m.active => return Err(HandoverError::InactiveReceiver(h.clone())),
            Some(_) => {}
        }
    }
    let weights: Vec<u32> = match weights {
        Some(w) if w.len() != to.len() => {
            return Err(HandoverError::WeightCount {
                given: w.len(),
                receivers: to.len(),
            });
        }
        Some(w) => w.to_vec(),
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
    let order = round_robin(&weights);
    let assignments = owned
        .into_iter()
        .enumerate()
        .map(|(i, r)| Assignment {
            to: to[order[i % order.len()]].clone(),
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

/// `text` with the value of the top-level key `key` replaced by the TOML
/// string `value`; every other byte is kept (the value's own span is
/// replaced, so a comment after it stays).
pub fn set_top_level_string(text: &str, key: &str, value: &str) -> Result<String, String> {
    let doc = toml::de::DeTable::parse(text).map_err(|e| e.message().trim().to_string())?;
    let (k, v) = doc
        .get_ref()
        .get_key_value(key)
        .ok_or_else(|| format!("no `{key}` key"))?;
    if v.get_ref().as_str().is_none() {
        return Err(format!("`{key}` is not a string"));
    }
    let span = v.span();
    // A dotted or quoted key would still be found here; only plain
    // `key = "value"` lines are edited, so refuse anything stranger.
    if text.get(k.span()) != Some(key) || text.get(span.clone()).is_none() {
        return Err(format!("`{key}` is not a plain key"));
    }
    let mut out = String::with_capacity(text.len() + value.len());
    out.push_str(&text[..span.start]);
    out.push_str(&crate::edit::quote(value));
    out.push_str(&text[span.end..]);
    Ok(out)
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

/// Carry the plan out: refuse (changing nothing) when a file to touch has
/// uncommitted changes; else rewrite the `owner` of each file, optionally
/// set `from` inactive, and commit it all at once.
pub fn apply(repo: &Repo, plan: &Plan, deactivate_from: bool) -> Result<Done, HandoverError> {
    let git = GitRepo::open(&repo.root).ok_or(HandoverError::NotGit)?;
    git2::opts::strict_hash_verification(false);
    let mut paths: Vec<String> = plan.assignments.iter().map(|a| a.path.clone()).collect();
    if deactivate_from {
        paths.push(crate::repo::STAFF_FILE.to_string());
    }
    let dirty = dirty_among(&git, &repo.root, &paths)?;
    if !dirty.is_empty() {
        return Err(HandoverError::Dirty(dirty));
    }
    // Compute every new text before writing anything.
    let mut writes: Vec<(String, String)> = Vec::with_capacity(paths.len());
    for a in &plan.assignments {
        let abs = repo.root.join(&a.path);
        let text = std::fs::read_to_string(&abs).map_err(|source| HandoverError::Write {
            path: a.path.clone(),
            source,
        })?;
        let new =
            set_top_level_string(&text, "owner", &a.to).map_err(|message| HandoverError::Edit {
                path: a.path.clone(),
                message,
            })?;
        writes.push((a.path.clone(), new));
    }
    if deactivate_from {
        let p = crate::repo::STAFF_FILE;
        let text =
            std::fs::read_to_string(repo.root.join(p)).map_err(|source| HandoverError::Write {
                path: p.to_string(),
                source,
            })?;
        let new = deactivate(&text, &plan.from).map_err(|message| HandoverError::Edit {
            path: p.to_string(),
            message,
        })?;
        writes.push((p.to_string(), new));
    }
    let r = &git.repo;
    let head = r.head()?.peel_to_commit()?;
    let base = head.tree()?;
    let git_paths: Vec<String> = writes.iter().map(|(p, _)| git.to_git(p)).collect();
    let committed = tree_entries(r, &base, &git_paths)?;
    let mut builder = TreeUpdateBuilder::new();
    let mut blobs = Vec::with_capacity(writes.len());
    for (p, text) in &writes {
        let oid = r.blob(text.as_bytes())?;
        blobs.push(oid);
        let gp = git.to_git(p);
        let mode = committed
            .get(&gp)
            .map(|e| e.1)
            .filter(|m| *m == i32::from(FileMode::BlobExecutable))
            .map(|_| FileMode::BlobExecutable)
            .unwrap_or(FileMode::Blob);
        builder.upsert(gp.as_str(), oid, mode);
    }
    let tree_id = builder.create_updated(r, &base)?;
    let tree = r.find_tree(tree_id)?;
    // All files or none, even if folio is killed half way (the next folio
    // command finishes the writes), with one flush of the file system.
    crate::transaction::transact(&repo.root, &repo.cache_dir(), &writes, &[])?;
    let msg = message(plan, deactivate_from);
    let sig = r
        .signature()
        .or_else(|_| Signature::now("folio", "folio@localhost"))?;
    let commit = r.commit(Some("HEAD"), &sig, &sig, &msg, &tree, &[&head])?;
    // Stage the new versions so the work tree is clean again; other staged
    // changes stay as they were.
    let mut index = r.index()?;
    for ((p, _), oid) in writes.iter().zip(&blobs) {
        stage(&mut index, &repo.root.join(p), &git.to_git(p), *oid)?;
    }
    index.write()?;
    Ok(Done {
        commit,
        message: msg,
        files: writes.len(),
    })
}

/// Stage the file at `abs` (git path `git_path`), just written with the
/// blob `oid`: its index entry gets the id and the file's stat data (what
/// `add_path` would record, without reading and hashing the file again).
fn stage(index: &mut git2::Index, abs: &Path, git_path: &str, oid: Oid) -> Result<(), git2::Error> {
    #[cfg(unix)]
    if let Some(mut e) = index.get_path(Path::new(git_path), 0)
        && let Ok(md) = std::fs::symlink_metadata(abs)
        && md.is_file()
    {
        use std::os::unix::fs::MetadataExt;
        // The index keeps 32 bits of each (as git does).
        e.ctime = git2::IndexTime::new(md.ctime() as i32, md.ctime_nsec() as u32);
        e.mtime = git2::IndexTime::new(md.mtime() as i32, md.mtime_nsec() as u32);
        e.dev = md.dev() as u32;
        e.ino = md.ino() as u32;
        e.uid = md.uid();
        e.gid = md.gid();
        e.file_size = md.len() as u32;
        e.id = oid;
        return index.add(&e);
    }
    let _ = (abs, oid);
    index.add_path(Path::new(git_path))
}

/// The id and mode of each of `paths` (work-tree paths) in `tree`, reading
/// each folder's tree once (looking every path up on its own would read a
/// large folder's tree thousands of times).
pub fn tree_entries(
    repo: &git2::Repository,
    tree: &git2::Tree,
    paths: &[String],
) -> Result<std::collections::HashMap<String, (Oid, i32)>, git2::Error> {
    let mut by_dir: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for p in paths {
        let (dir, _) = p.rsplit_once('/').unwrap_or(("", p));
        by_dir.entry(dir).or_default().push(p);
    }
    let mut out = std::collections::HashMap::new();
    for (dir, list) in by_dir {
        let sub = if dir.is_empty() {
            Some(tree.clone())
        } else {
            match tree.get_path(Path::new(dir)) {
                Ok(e) if e.kind() == Some(git2::ObjectType::Tree) => Some(repo.find_tree(e.id())?),
                _ => None,
            }
        };
        let Some(sub) = sub else { continue };
        let names: std::collections::HashMap<&[u8], &str> = list
            .iter()
            .map(|p| (p.rsplit('/').next().unwrap_or(p).as_bytes(), *p))
            .collect();
        for e in sub.iter() {
            if let Some(p) = names.get(e.name_bytes()) {
                out.insert(p.to_string(), (e.id(), e.filemode()));
            }
        }
    }
    Ok(out)
}

/// Paths (relative to the data root) whose working copy or staged copy
/// differs from HEAD.
pub fn dirty_among(
    git: &GitRepo,
    root: &Path,
    paths: &[String],
) -> Result<Vec<String>, HandoverError> {
    let r = &git.repo;
    let git_paths: Vec<String> = paths.iter().map(|p| git.to_git(p)).collect();
    let committed = match r.head() {
        Ok(h) => tree_entries(r, &h.peel_to_tree()?, &git_paths)?,
        Err(_) => Default::default(),
    };
    let index = r.index()?;
    let mut out = Vec::new();
    for (p, gp) in paths.iter().zip(&git_paths) {
        let committed = committed.get(gp).map(|e| e.0);
        let staged = index.get_path(Path::new(gp), 0).map(|e| e.id);
        let work = match std::fs::read(root.join(p)) {
            Ok(b) => Some(Oid::hash_object(git2::ObjectType::Blob, &b)?),
            Err(_) => None,
        };
        if committed.is_none() || staged != committed || work != committed {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// When a customer's next follow-up is due, by the follow-up rules of
/// folio.toml: `next_followup`, else the latest follow-up's `next`, else
/// `first_contact_days` after `created` for a customer never contacted,
/// `no_reply_days` after a follow-up without reply, or the tier's cadence.
pub fn due_date(c: &Customer, cfg: &Config) -> Option<NaiveDate> {
    if let Some(d) = c.next_followup {
        return Some(d);
    }
    let rules = &cfg.followups;
    match c.latest_followup() {
        None => c
            .created
            .map(|d| d + chrono::Duration::days(rules.first_contact_days)),
        Some(f) => {
            if let Some(n) = f.next {
                return Some(n);
            }
            let day = f.date?;
            if f.replied == Some(false) {
                Some(day + chrono::Duration::days(rules.no_reply_days))
            } else {
                rules
                    .cadence
                    .get(&c.tier)
                    .map(|d| day + chrono::Duration::days(*d))
            }
        }
    }
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
            .filter_map(|a| due_date(&a.customer, cfg).map(|d| (d, *a)))
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
    fn weighted_round_robin() {
        assert_eq!(round_robin(&[3, 2, 1]), [0, 1, 2, 0, 1, 0]);
        assert_eq!(round_robin(&[1, 1]), [0, 1]);
        assert_eq!(round_robin(&[1, 3]), [0, 1, 1, 1]);
        assert_eq!(parse_weights("3:2:1").unwrap(), [3, 2, 1]);
        assert!(parse_weights("3:0").is_err());
        assert!(parse_weights("a").is_err());
    }

    #[test]
    fn owner_edit_keeps_every_other_byte() {
        let t = "# keep\nid = \"C1\"\nowner   =   \"alice\"  # account owner\r\ntier = \"B\"\n\n[[followups]]\nby = \"alice\"\n";
        let n = set_top_level_string(t, "owner", "bob").unwrap();
        assert_eq!(n, t.replace("\"alice\"  #", "\"bob\"  #"));
        assert!(set_top_level_string("id = \"x\"\n", "owner", "bob").is_err());
        assert!(set_top_level_string("owner = 3\n", "owner", "bob").is_err());
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
