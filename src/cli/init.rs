//! `folio init DIR`: scaffold a data repository.

use super::{CmdResult, Ctx, Failure, Status, print};
use crate::edit::write_atomic;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder to create the repository in (created if missing)
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

pub const FOLIO_TOML: &str = r#"# folio repository settings. Every setting is optional; the values shown
# are the defaults. See docs/configuration.md in folio's source.

# [naming]
# template = "customers/{cc}/{name}--{contact}{qual}--{cc}.toml"
# disambiguate = ["city", "industry"]

# [check]
# deny_warnings = false
"#;

pub const STAFF_TOML: &str = r#"# The sales team: one [staff.<handle>] table per person.
# active = false when someone leaves (hand their accounts over first);
# weight (>= 1) sets their share when pool customers are dealt out.

# [staff.alice]
# name = "Alice Wang"
# email = "alice@example.com"
# active = true
# weight = 1
"#;

const GITIGNORE: &str = "# folio's local caches (search index, history cache)\n.folio/\n";

const WORKFLOW: &str = r#"# Checks the customer records on every push and pull request.
# Set the repository variable FOLIO_GIT_URL to where your team keeps folio's source.
name: folio check
on: [push, pull_request]
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      # Values from GitHub reach the shell through the environment, quoted,
      # never pasted into the script (a branch name can hold `$(...)`).
      - name: Install folio
        env:
          FOLIO_GIT_URL: ${{ vars.FOLIO_GIT_URL }}
        run: cargo install --locked --git "$FOLIO_GIT_URL" folio
      - name: Check records
        env:
          EVENT_NAME: ${{ github.event_name }}
          BASE_REF: ${{ github.base_ref }}
        run: |
          if [ "$EVENT_NAME" = "pull_request" ]; then
            folio check --format github --changed-since "origin/$BASE_REF"
          else
            folio check --format github
          fi
"#;

const PRE_COMMIT: &str = r#"#!/bin/sh
# Example pre-commit hook: refuse a commit whose records fail `folio check`.
# Enable it with: git config core.hooksPath .githooks
files=$(git diff --cached --name-only --diff-filter=ACMR -- 'customers/*.toml')
[ -z "$files" ] && exit 0
exec folio check $files
"#;

const TAPLO: &str = r#"# Editors (taplo, Even Better TOML) check records against folio's schema.
# Refresh it after changing schema/: folio schema export -o schema/customer.schema.json
[[rule]]
include = ["customers/**/*.toml"]
[rule.schema]
path = "schema/customer.schema.json"
"#;

pub fn run(_ctx: &Ctx, args: Args) -> CmdResult {
    let dir = &args.dir;
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::new(format!("cannot create {}: {e}", dir.display())))?;
    let root = dir.canonicalize()?;
    if root.join(crate::repo::CONFIG_FILE).exists() {
        return Err(Failure::new(format!(
            "{} is already a folio repository (it has folio.toml)",
            root.display()
        )));
    }
    let mut written = Vec::new();
    let mut put = |rel: &str, text: &str, exec: bool| -> Result<(), Failure> {
        let p = root.join(rel);
        if p.exists() {
            return Ok(());
        }
        write_atomic(&p, text.as_bytes())
            .map_err(|e| Failure::new(format!("cannot write {rel}: {e}")))?;
        #[cfg(unix)]
        if exec {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755))?;
        }
        let _ = exec;
        written.push(rel.to_string());
        Ok(())
    };
    put("folio.toml", FOLIO_TOML, false)?;
    put("staff.toml", STAFF_TOML, false)?;
    put("customers/.gitkeep", "", false)?;
    put(".gitignore", GITIGNORE, false)?;
    put(".github/workflows/folio.yml", WORKFLOW, false)?;
    put(".githooks/pre-commit", PRE_COMMIT, true)?;
    put(".taplo.toml", TAPLO, false)?;
    let schema =
        serde_json::to_string_pretty(&crate::schema::Schema::builtin().to_json_schema())? + "\n";
    put("schema/customer.schema.json", &schema, false)?;
    let mut msg = format!("created a folio repository in {}\n", root.display());
    for w in &written {
        msg.push_str(&format!("  {w}\n"));
    }
    if git2::Repository::discover(&root).is_err() {
        git2::Repository::init(&root)
            .map_err(|e| Failure::new(format!("cannot run git init: {e}")))?;
        msg.push_str("initialised an empty git repository\n");
    }
    msg.push_str("next: add your team to staff.toml, then `folio new --name ... --contact ... --country ...`\n");
    print(&msg)?;
    Ok(Status::Ok)
}
