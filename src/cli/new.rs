//! `folio new`: write a valid record at its naming-rule path.

use super::{CmdResult, Ctx, Failure, Status, print};
use crate::naming::RulePath;
use crate::records::{Contact, Customer};
use chrono::NaiveDate;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Company name
    #[arg(long)]
    pub name: String,
    /// Primary contact's name
    #[arg(long)]
    pub contact: String,
    /// ISO 3166-1 alpha-2 country code
    #[arg(long)]
    pub country: String,
    /// Owner's staff handle (omit to put the customer in the public pool)
    #[arg(long)]
    pub owner: Option<String>,
    /// Tier A-E
    #[arg(long, default_value = "D")]
    pub tier: String,
    /// Sales stage
    #[arg(long, default_value = "prospect")]
    pub stage: String,
    /// Customer type (key-account, smb, prospect, one-off)
    #[arg(long = "type")]
    pub kind: Option<String>,
    #[arg(long)]
    pub city: Option<String>,
    #[arg(long)]
    pub industry: Option<String>,
    #[arg(long)]
    pub source: Option<String>,
    #[arg(long)]
    pub website: Option<String>,
    /// The primary contact's e-mail
    #[arg(long)]
    pub email: Option<String>,
    /// The primary contact's phone
    #[arg(long)]
    pub phone: Option<String>,
    /// Tags (comma-separated)
    #[arg(long, value_delimiter = ',')]
    pub tags: Vec<String>,
    /// Buyer group id
    #[arg(long)]
    pub group: Option<String>,
    /// Id to use instead of a new ULID
    #[arg(long)]
    pub id: Option<String>,
    /// Creation date (default: --as-of or today)
    #[arg(long, value_parser = super::parse_date, value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
    /// Commit the new file
    #[arg(long)]
    pub commit: bool,
}

pub fn run(ctx: &Ctx, a: Args) -> CmdResult {
    let repo = ctx.open_writer()?;
    let as_of = super::as_of(a.as_of);
    let trim = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let email = trim(a.email);
    let phone = trim(a.phone);
    let c = Customer {
        id: a.id.unwrap_or_else(|| ulid::Ulid::new().to_string()),
        name: a.name.trim().to_string(),
        contact: a.contact.trim().to_string(),
        country: a.country.trim().to_string(),
        owner: trim(a.owner),
        tier: a.tier,
        kind: trim(a.kind),
        stage: a.stage,
        source: trim(a.source),
        industry: trim(a.industry),
        city: trim(a.city),
        website: trim(a.website),
        tags: a
            .tags
            .into_iter()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect(),
        group: trim(a.group),
        created: Some(as_of),
        contacts: if email.is_some() || phone.is_some() {
            vec![Contact {
                name: a.contact.trim().to_string(),
                email,
                phone,
                ..Default::default()
            }]
        } else {
            Vec::new()
        },
        ..Default::default()
    };
    let text = crate::edit::render(&c)?;
    let loaded = repo.load(as_of);
    if let Some(r) = loaded.records.iter().find(|r| r.customer.id == c.id) {
        return Err(Failure::new(format!(
            "id {} is already used by {}",
            c.id, r.path
        )));
    }
    let others: Vec<_> = loaded
        .records
        .iter()
        .map(|r| r.customer.naming_parts())
        .collect();
    let path = match crate::naming::rule_path_among(&repo.template, &c.naming_parts(), &others) {
        RulePath::Path(p) => p,
        RulePath::Ambiguous { others: o, .. } => {
            let other = &loaded.records[o[0]];
            return Err(Failure::new(format!(
                "a record with the same name, contact and country exists: {} ({})",
                other.path,
                other.customer.display_name()
            ))
            .hint("if this is another real customer, tell them apart with --city or --industry"));
        }
    };
    if let Some(r) = loaded
        .records
        .iter()
        .find(|r| r.path.eq_ignore_ascii_case(&path))
    {
        return Err(Failure::new(format!(
            "{path} would collide with the existing record {} ({})",
            r.path,
            r.customer.display_name()
        ))
        .hint("if this is another real customer, tell them apart with --city or --industry"));
    }
    let dupes = crate::duplicates::conflicts_for(&c, &loaded.records, &repo.config.duplicates);
    if let Some(d) = dupes.first() {
        return Err(Failure::new(format!("this looks like an existing customer: {d}"))
            .hint("update the existing record, or add the pair to [[duplicates.not_duplicates]] in folio.toml"));
    }
    let mut session = crate::session::Session::new(&repo, as_of);
    session
        .create(&path, &text)
        .map_err(super::session_failure)?;
    let finish = if a.commit {
        crate::session::Finish::Commit(crate::session::CommitRequest::new(
            format!("new customer {}", c.display_name()),
            false,
        ))
    } else {
        crate::session::Finish::Write
    };
    let applied = session.apply(finish).map_err(|e| match e {
        // the record would not be valid: say which value, with its hint
        crate::session::SessionError::Invalid(d) => {
            let mut f = Failure::new(format!("the record would be invalid: {}", d.message));
            if let Some(h) = &d.hint {
                f = f.hint(h.clone());
            }
            f
        }
        e => super::session_failure(e),
    })?;
    let mut msg = format!("created {path} ({})\n", c.display_name());
    msg.push_str(&super::session_report(&applied));
    print(&msg)?;
    Ok(Status::Ok)
}
