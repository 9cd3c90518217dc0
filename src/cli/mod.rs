//! The command line: one clap enum, one module per command. Commands call
//! the library, which returns data; only this layer prints and decides the
//! exit status (0 fine, 1 problems found, 2 usage, I/O or internal failure).

mod check;
mod diff;
mod due;
mod dupes;
mod export;
mod fix;
mod followup;
mod group;
mod handover;
mod handovers;
mod import;
mod index;
mod init;
mod log;
mod merge;
mod new;
mod owners;
pub(crate) mod pool;
mod review;
mod schema;
mod search;
mod tags;
mod watch;

use crate::repo::Repo;
use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

/// Customer records for export sales teams, kept as TOML files in git.
#[derive(Debug, Parser)]
#[command(name = "folio", version, about, max_term_width = 100)]
#[command(after_help = "Exit status: 0 fine, 1 problems found, 2 usage, I/O or internal failure.")]
pub struct Cli {
    /// Data repository root (default: the nearest folder upwards with folio.toml)
    #[arg(long, global = true, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// When to colour output
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    pub color: ColorWhen,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per run
pub enum Command {
    /// Create a data repository
    Init(init::Args),
    /// Check every record and the repository as a whole
    Check(check::Args),
    /// Write a new customer record at its naming-rule path
    New(new::Args),
    /// Rename misnamed record files to their naming-rule paths
    Fix(fix::Args),
    /// List candidate duplicate customers, strongest first
    Dupes(dupes::Args),
    /// Show a buyer group's members, titles and combined business
    Group(group::Args),
    /// Import customers from a CSV or XLSX/XLS file
    Import(import::Args),
    /// Export records as CSV, XLSX, JSON or vCard
    Export(export::Args),
    /// Merge duplicate customers into one record
    Merge(merge::Args),
    /// Show or export the record schema
    #[command(subcommand)]
    Schema(schema::Cmd),
    /// A customer's changes, field by field, newest first
    Log(log::Args),
    /// A customer's ownership timeline, pool time included
    Owners(owners::Args),
    /// Every change of owner in the history (an audit)
    Handovers(handovers::Args),
    /// Reassign every customer of one salesperson, in one commit
    Handover(handover::Args),
    /// Field-level changes between two revisions (default: HEAD and the working tree)
    Diff(diff::Args),
    /// The public pool: list, release, claim and assign unowned customers
    #[command(subcommand)]
    Pool(pool::Cmd),
    /// List overdue and upcoming follow-ups by owner
    Due(due::Args),
    /// Log a follow-up in a customer's record
    Followup(followup::Args),
    /// Suggest tags from recent follow-ups, and add them
    Tags(tags::Args),
    /// List records whose file has not changed in git for a long time
    Review(review::Args),
    /// Find customers by any word, field, phone, e-mail or date
    Search(search::Args),
    /// Bring the search index up to date (or rebuild it with --full)
    Index(index::Args),
    /// Watch the records for changes, so search need not look at every file
    Watch(watch::Args),
}

/// A failure: its kind (the exit status), the message, the causes not
/// already in it, and hints.
#[derive(Debug)]
pub struct Failure {
    pub kind: Kind,
    pub message: String,
    pub causes: Vec<String>,
    pub hints: Vec<String>,
}

pub use crate::error::Kind;

impl Failure {
    /// A failure of the user's input (exit status 2).
    pub fn new(message: impl Into<String>) -> Self {
        Failure {
            kind: Kind::User,
            message: message.into(),
            causes: Vec::new(),
            hints: Vec::new(),
        }
    }
    pub fn hint(mut self, h: impl Into<String>) -> Self {
        self.hints.push(h.into());
        self
    }
    pub fn kind(mut self, k: Kind) -> Self {
        self.kind = k;
        self
    }
    /// The exit status of this kind of failure (README's table).
    pub fn exit_status(&self) -> u8 {
        match self.kind {
            Kind::User => 2,
            Kind::Config => 3,
            Kind::Refused => 4,
            Kind::Internal => 5,
        }
    }
}

impl<E: std::error::Error + 'static> From<E> for Failure {
    /// The error, its kind from its causes ([`Kind::of`]), and each cause
    /// said once: a cause that the message already quotes (`{what}:
    /// {source}`) is not repeated.
    fn from(e: E) -> Self {
        let mut f = Failure::new(e.to_string()).kind(Kind::of(&e));
        let mut src = e.source();
        while let Some(s) = src {
            let cause = s.to_string();
            if !f.message.contains(&cause) && !f.causes.iter().any(|c| c.contains(&cause)) {
                f.causes.push(cause);
            }
            src = s.source();
        }
        f
    }
}

/// Exit status of a command that ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Problems,
}

pub type CmdResult = Result<Status, Failure>;

/// Output formats shared by several commands.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
}

/// Run the command line; returns the exit status.
pub fn run(cli: Cli) -> u8 {
    let choice = match cli.color {
        ColorWhen::Auto => anstream::ColorChoice::Auto,
        ColorWhen::Always => anstream::ColorChoice::Always,
        ColorWhen::Never => anstream::ColorChoice::Never,
    };
    choice.write_global();
    let ctx = Ctx {
        repo_arg: cli.repo.clone(),
    };
    let result = match cli.command {
        Command::Init(a) => init::run(&ctx, a),
        Command::Check(a) => check::run(&ctx, a),
        Command::New(a) => new::run(&ctx, a),
        Command::Fix(a) => fix::run(&ctx, a),
        Command::Dupes(a) => dupes::run(&ctx, a),
        Command::Group(a) => group::run(&ctx, a),
        Command::Import(a) => import::run(&ctx, a),
        Command::Export(a) => export::run(&ctx, a),
        Command::Merge(a) => merge::run(&ctx, a),
        Command::Schema(c) => schema::run(&ctx, c),
        Command::Log(a) => log::run(&ctx, a),
        Command::Owners(a) => owners::run(&ctx, a),
        Command::Handovers(a) => handovers::run(&ctx, a),
        Command::Handover(a) => handover::run(&ctx, a),
        Command::Diff(a) => diff::run(&ctx, a),
        Command::Pool(c) => pool::run(&ctx, c),
        Command::Due(a) => due::run(&ctx, a),
        Command::Followup(a) => followup::run(&ctx, a),
        Command::Tags(a) => tags::run(&ctx, a),
        Command::Review(a) => review::run(&ctx, a),
        Command::Search(a) => search::run(&ctx, a),
        Command::Index(a) => index::run(&ctx, a),
        Command::Watch(a) => watch::run(&ctx, a),
    };
    match result {
        Ok(Status::Ok) => 0,
        Ok(Status::Problems) => 1,
        Err(f) => {
            let s = crate::output::style::ERROR;
            eprint(&format!("{s}error:{s:#} {}\n", f.message));
            for c in &f.causes {
                eprint(&format!("{s}caused by:{s:#} {c}\n"));
            }
            for h in &f.hints {
                let n = crate::output::style::NOTE;
                eprint(&format!("{n}hint:{n:#} {h}\n"));
            }
            f.exit_status()
        }
    }
}

/// What every command can reach.
pub struct Ctx {
    pub repo_arg: Option<PathBuf>,
}

impl Ctx {
    /// Open the data repository (`--repo` or the nearest folio.toml).
    pub fn open_repo(&self) -> Result<Repo, Failure> {
        self.open(false)
    }

    fn open(&self, write: bool) -> Result<Repo, Failure> {
        let root = match &self.repo_arg {
            Some(dir) => Ok(dir.clone()),
            None => Repo::find_root(&std::env::current_dir()?),
        };
        let r = root.and_then(|root| {
            if write {
                Repo::open_for_writing(&root, || {
                    eprint(
                        "waiting for another folio command that is changing this repository...\n",
                    )
                })
            } else {
                Repo::open(&root)
            }
        });
        let repo = r.map_err(|e| {
            let lost = !matches!(e, crate::repo::RepoError::ReadFile { .. });
            let f = Failure::from(e);
            if lost {
                f.hint("run folio inside a data repository, pass --repo DIR, or create one with `folio init DIR`")
            } else {
                f
            }
        })?;
        recover_transactions(&repo)?;
        Ok(repo)
    }

    /// Open the repository for a command that needs valid settings: a broken
    /// folio.toml or staff.toml stops it (run `folio check` for details).
    pub fn open_repo_strict(&self) -> Result<Repo, Failure> {
        self.strict(self.open(false)?)
    }

    /// [`Ctx::open_repo_strict`] for a command that changes the repository:
    /// the repository's write lock is held from before anything is read
    /// until the command ends.
    pub fn open_writer(&self) -> Result<Repo, Failure> {
        self.strict(self.open(true)?)
    }

    fn strict(&self, repo: Repo) -> Result<Repo, Failure> {
        if let Some(d) = repo.setup_diagnostics.first() {
            let pos = d.line.map(|l| format!(":{l}")).unwrap_or_default();
            return Err(Failure::new(format!("{}{pos}: {}", d.path, d.message))
                .kind(Kind::Config)
                .hint("run `folio check` for every problem"));
        }
        Ok(repo)
    }
}

/// Finish (or undo) a multi-file change that a killed folio left half done,
/// before anything reads the records, and say so on stderr.
fn recover_transactions(repo: &Repo) -> Result<(), Failure> {
    use crate::transaction::Recovered;
    let done = crate::session::recover(repo).map_err(|e| {
        // a journal folio will not follow is a refusal; a failure to read
        // or write one, the system's
        let kind = if e.source.is_none() {
            Kind::Refused
        } else {
            Kind::Internal
        };
        Failure::from(e).kind(kind)
    })?;
    for r in done {
        let msg = match r {
            Recovered::Finished { files, intent } => format!(
                "note: finished a change that an interrupted folio left half done ({} in {}){}\n",
                crate::output::plural(files, "file"),
                repo.cache_dir().join(crate::transaction::TX_DIR).display(),
                intent.map(|i| format!(": {i}")).unwrap_or_default()
            ),
            Recovered::RolledBack { files, reason } => format!(
                "warning: could not finish a change that an interrupted folio left half done ({}): {reason}; it was undone\n",
                crate::output::plural(files, "file")
            ),
            Recovered::Discarded => continue,
        };
        eprint(&msg);
    }
    Ok(())
}

/// `--as-of` or today.
pub fn as_of(arg: Option<NaiveDate>) -> NaiveDate {
    arg.unwrap_or_else(|| chrono::Local::now().date_naive())
}

/// Parse a `YYYY-MM-DD` argument.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("`{s}` is not a date (YYYY-MM-DD)"))
}

/// A CUSTOMER argument that names no single record, as a failure with its
/// hint (`unreadable`: records left out because they cannot be parsed).
pub fn resolve_failure(e: crate::resolve::ResolveError, unreadable: &[String]) -> Failure {
    use crate::resolve::ResolveError;
    let f = Failure::new(e.to_string());
    if matches!(e, ResolveError::NotFound(_)) && !unreadable.is_empty() {
        return f.hint(format!(
            "{} could not be parsed and was not searched (run `folio check`)",
            crate::output::plural(unreadable.len(), "record")
        ));
    }
    f.hint(e.hint())
}

/// A handle staff.toml does not list (or not as active) as a failure, its
/// argument named (`context`: `--owner`, `who followed up`, ...), with
/// its hint.
pub fn staff_failure(context: &str, e: crate::config::StaffError) -> Failure {
    let hint = e.hint();
    let msg = if context.is_empty() {
        e.to_string()
    } else {
        format!("{context}: {e}")
    };
    Failure::new(msg).hint(hint)
}

/// A session's refusal as a failure, with its hint.
pub fn session_failure(e: crate::session::SessionError) -> Failure {
    let hint = e.hint();
    let kind = e.kind();
    let mut f = Failure::from(e).kind(kind);
    if let Some(h) = hint {
        f = f.hint(h);
    }
    f
}

/// What a session did that the user should know beyond the command's own
/// report: errors the files already had (on stderr: kept, not added), what
/// git's hooks printed, and the commit line for stdout (empty without one).
pub fn session_report(applied: &crate::session::Applied) -> String {
    // a few, then a count: a handover of 5,000 records must not bury its
    // own report under them
    const SHOWN: usize = 3;
    for d in applied.kept_errors.iter().take(SHOWN) {
        let pos = d.line.map(|l| format!(":{l}")).unwrap_or_default();
        eprint(&format!(
            "warning: {}{pos}: {} (already there; folio's change kept it as it was)\n",
            d.path, d.message
        ));
    }
    if applied.kept_errors.len() > SHOWN {
        let files: std::collections::BTreeSet<&str> = applied
            .kept_errors
            .iter()
            .map(|d| d.path.as_str())
            .collect();
        eprint(&format!(
            "warning: and {} more errors already in {} (run `folio check`)\n",
            applied.kept_errors.len() - SHOWN,
            crate::output::plural(files.len(), "changed file")
        ));
    }
    match &applied.commit {
        Some(c) => {
            if !c.output.trim().is_empty() {
                eprint(&c.output);
                if !c.output.ends_with('\n') {
                    eprint("\n");
                }
            }
            if c.detached {
                eprint(&format!(
                    "warning: HEAD is detached: commit {} is on no branch (`git switch -c NAME` keeps it on one)\n",
                    &c.oid.to_string()[..10]
                ));
            }
            if let Some(w) = &c.warning {
                eprint(&format!("warning: {w}\n"));
            }
            if !c.by_git_program {
                eprint(
                    "note: committed with libgit2 (no git program found): git hooks and commit signing were not applied\n",
                );
            }
            format!("committed {}\n", &c.oid.to_string()[..10])
        }
        None => String::new(),
    }
}

/// Set once standard output is a closed pipe (`folio check | head`).
static PIPE_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Print human output to stdout: every control character a record may
/// hold is shown as `\u{1b}` (`output::visible_controls`), whatever the
/// stream is. A closed pipe is quiet: the rest of the output is dropped
/// and the command ends with the exit status it would have had (so `set
/// -o pipefail` still sees a failed check).
pub fn print(s: &str) -> Result<(), Failure> {
    print_data(&crate::output::visible_controls(s))
}

/// Print data (JSON, CSV, iCalendar) to stdout as it is: its format
/// escapes what it must (JSON strings), and its bytes are the user's data.
pub fn print_data(s: &str) -> Result<(), Failure> {
    use std::sync::atomic::Ordering;
    if PIPE_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = anstream::stdout();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            PIPE_CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        Err(e) => Err(Failure::new(format!("cannot write output: {e}"))),
    }
}

/// Print to stderr (notes and warnings next to the main output), with
/// control characters shown as `print` shows them.
pub fn eprint(s: &str) {
    let mut err = anstream::stderr();
    let _ = err.write_all(crate::output::visible_controls(s).as_bytes());
}
