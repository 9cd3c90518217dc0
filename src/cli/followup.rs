//! `folio followup`: log a follow-up in a customer's record, keeping the
//! rest of the file byte for byte.

use super::{CmdResult, Ctx, Failure, Status, eprint, print};
use crate::diagnostics::did_you_mean;
use crate::records::{self, Followup};
use chrono::NaiveDate;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The customer: an id, a record path, or a search matching one record
    #[arg(value_name = "CUSTOMER")]
    pub customer: String,
    /// How the contact was made (email, phone, whatsapp, wechat, linkedin, visit, fair, other)
    #[arg(long)]
    pub channel: String,
    /// What was said
    #[arg(long)]
    pub summary: String,
    /// The customer replied (without it, the follow-up is logged as not replied)
    #[arg(long)]
    pub replied: bool,
    /// Date of the next follow-up planned (YYYY-MM-DD)
    #[arg(long, value_parser = super::parse_date, value_name = "DATE")]
    pub next: Option<NaiveDate>,
    /// Staff handle of who followed up [default: the record's owner]
    #[arg(long, value_name = "HANDLE")]
    pub by: Option<String>,
    /// Date of the follow-up [default: --as-of or today]
    #[arg(long, value_parser = super::parse_date, value_name = "DATE")]
    pub date: Option<NaiveDate>,
    /// Today's date, for checks and defaults (YYYY-MM-DD)
    #[arg(long, value_parser = super::parse_date, value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
    /// Commit the change
    #[arg(long)]
    pub commit: bool,
    /// With --commit: commit the record even if it has uncommitted changes (they go into folio's commit)
    #[arg(long, requires = "commit")]
    pub include_dirty: bool,
}

pub fn run(ctx: &Ctx, a: Args) -> CmdResult {
    let repo = ctx.open_writer()?;
    let as_of = super::as_of(a.as_of);
    let date = a.date.unwrap_or(as_of);

    // Validate every input before touching anything.
    let channels: Vec<String> = repo
        .schema
        .field("followups")
        .and_then(|f| f.fields.iter().find(|x| x.name == "channel"))
        .map(|f| f.enumeration.clone())
        .unwrap_or_default();
    let channel = a.channel.trim();
    if !channels.is_empty() && !channels.iter().any(|c| c == channel) {
        let mut f = Failure::new(format!(
            "--channel {channel}: not one of {}",
            channels.join(", ")
        ));
        if let Some(m) = did_you_mean(channel, channels.iter().map(String::as_str)) {
            f = f.hint(format!("did you mean `{m}`?"));
        }
        return Err(f);
    }
    let summary = a.summary.trim();
    if summary.is_empty() {
        return Err(Failure::new("--summary is empty: say what was said"));
    }
    if date > as_of {
        return Err(
            Failure::new(format!("--date {date} is after today ({as_of})"))
                .hint("log what happened; plan what will happen with --next"),
        );
    }
    if let Some(next) = a.next
        && next < date
    {
        return Err(Failure::new(format!(
            "--next {next} is before the follow-up's date {date}"
        )));
    }
    if let Some(by) = &a.by {
        check_handle(&repo, by)?;
    }

    let loaded = repo.load(as_of);
    let rec = crate::resolve::resolve(&loaded.records, &a.customer, &repo.root)
        .map_err(|e| super::resolve_failure(e, &loaded.unreadable))?;
    let by = match a.by.or_else(|| rec.customer.owner.clone()) {
        Some(b) => b,
        None => {
            return Err(Failure::new(format!(
                "{} is in the public pool (no owner): say who followed up with --by HANDLE",
                rec.path
            )));
        }
    };
    check_handle(&repo, &by)?;
    if let Some(created) = rec.customer.created
        && date < created
    {
        return Err(Failure::new(format!(
            "--date {date} is before the record was created ({created})"
        )));
    }

    let f = Followup {
        date: Some(date),
        by: Some(by.clone()),
        channel: Some(channel.to_string()),
        summary: Some(summary.to_string()),
        replied: Some(a.replied),
        next: a.next,
        extra: Default::default(),
    };
    let mut session = crate::session::Session::new(&repo, as_of);
    let original = session.read(&rec.path).map_err(super::session_failure)?;
    let new_text = crate::edit::append_followup(original.text(), &f)
        .map_err(|e| Failure::new(format!("{}: {e}", rec.path)))?;
    let rctx = records::Context {
        schema: &repo.schema,
        staff: Some(&repo.staff),
        as_of,
    };
    let Some(updated) = records::parse(&new_text, &rec.path, &rctx).customer else {
        return Err(Failure::new(format!(
            "{}: the edited record does not parse; nothing was written",
            rec.path
        )));
    };
    if updated.followups.len() != rec.customer.followups.len() + 1 {
        return Err(Failure::new(format!(
            "{}: the edited record does not read back with the new follow-up; nothing was written",
            rec.path
        )));
    }
    session
        .replace(original, &new_text)
        .map_err(super::session_failure)?;
    let name = updated.display_name();
    let mut msg = format!(
        "logged the {channel} follow-up of {date} by {by} in {} ({name})\n",
        rec.path
    );
    match crate::followups::due(&updated, &repo.config.followups) {
        Some(d) => msg.push_str(&format!(
            "next follow-up due {}: {}\n",
            d.date,
            d.reason(&updated.tier)
        )),
        None => msg.push_str("no further follow-up is due (stage lost or tier E)\n"),
    }
    if let Some(nf) = updated.next_followup
        && nf <= date
    {
        eprint(&format!(
            "note: next_followup = {nf} is still set in {} and decides the due date; update or remove it\n",
            rec.path
        ));
    }
    let finish = if a.commit {
        crate::session::Finish::Commit(crate::session::CommitRequest::new(
            format!("follow-up: {name} on {date} ({channel}, by {by})\n\n{summary}\n"),
            a.include_dirty,
        ))
    } else {
        crate::session::Finish::Write
    };
    let applied = session.apply(finish).map_err(super::session_failure)?;
    msg.push_str(&super::session_report(&applied));
    print(&msg)?;
    Ok(Status::Ok)
}

fn check_handle(repo: &crate::repo::Repo, h: &str) -> Result<(), Failure> {
    repo.staff
        .require(h)
        .map(|_| ())
        .map_err(|e| super::staff_failure("who followed up", e))
}
