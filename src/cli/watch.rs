//! `folio watch`: keep a watcher of the records running, so that `folio
//! search` need not stat every record file to know what changed.

use super::{CmdResult, Ctx, Failure, Format, Status, eprint, print};
use crate::output::style::{self, paint};
use crate::watch;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "While a watcher runs, `folio search` looks only at the record files \
it reports changed instead of every file. It sees what is created, written, renamed or \
deleted under customers/ on this machine; `folio index` still compares every file."
)]
pub struct Args {
    /// Start the watcher in the background and return once it answers (if
    /// one already runs, say so and succeed)
    #[arg(long, conflicts_with_all = ["status", "stop"])]
    pub detach: bool,
    /// Say whether a watcher runs for this repository (exit status 1 if none)
    #[arg(long, conflicts_with = "stop")]
    pub status: bool,
    /// Stop the running watcher (returns once it has ended)
    #[arg(long)]
    pub stop: bool,
    /// Output format of --status
    #[arg(long, value_enum, default_value_t = Format::Human, requires = "status")]
    pub format: Format,
}

pub fn run(ctx: &Ctx, args: Args) -> CmdResult {
    let repo = ctx.open_repo()?;
    let root = &repo.root;
    if args.status {
        let s = watch::status(root);
        match args.format {
            Format::Json => {
                let mut out = serde_json::to_string_pretty(&s).unwrap_or_default();
                out.push('\n');
                super::print_data(&out)?;
            }
            Format::Human => match &s {
                Some(s) => print(&format!(
                    "folio watch is running for {} (pid {}): {} folders watched, {} record paths changed since it started, {} questions answered\n",
                    root.display(),
                    s.pid,
                    s.folders,
                    s.changed,
                    s.answered
                ))?,
                None => print(&format!("no folio watch runs for {}\n", root.display()))?,
            },
        }
        return Ok(if s.is_some() {
            Status::Ok
        } else {
            Status::Problems
        });
    }
    if args.stop {
        if watch::stop(root, &repo.cache_dir()) {
            print("stopped folio watch\n")?;
        } else {
            print(&format!("no folio watch runs for {}\n", root.display()))?;
        }
        return Ok(Status::Ok);
    }
    if let Some(s) = watch::status(root) {
        let running = format!(
            "folio watch is already running for {} (pid {})",
            root.display(),
            s.pid
        );
        if args.detach {
            // "make sure one runs": a login script may call this every time
            print(&format!("{running}\n"))?;
            return Ok(Status::Ok);
        }
        return Err(Failure::new(running).hint("stop it with `folio watch --stop`"));
    }
    if args.detach {
        let pid = watch::spawn_detached(root, &repo.cache_dir()).map_err(watch_failure)?;
        print(&format!(
            "folio watch is running in the background (pid {pid}); stop it with `folio watch --stop`\n"
        ))?;
        return Ok(Status::Ok);
    }
    watch::run(root, &repo.cache_dir(), |s| {
        eprint(&format!(
            "{} watching {} folders of {}; stop with Ctrl-C or `folio watch --stop`\n",
            paint(style::NOTE, "note:"),
            s.folders,
            root.join(crate::repo::CUSTOMERS_DIR).display()
        ));
    })
    .map_err(watch_failure)?;
    Ok(Status::Ok)
}

fn watch_failure(e: watch::WatchError) -> Failure {
    let kind = e.kind();
    Failure::from(e).kind(kind)
}
