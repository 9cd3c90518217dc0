//! `folio init`, `new`, `fix`, `schema export`, colour and usage.

mod common;
use common::{TestRepo, folio_cmd, record, run};

#[test]
fn init_scaffolds_a_repository_and_git() {
    let d = tempfile::tempdir().unwrap();
    let target = d.path().join("crm");
    let (code, out, err) = run(folio_cmd().arg("init").arg(&target));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("initialised an empty git repository"), "{out}");
    for f in [
        "folio.toml",
        "staff.toml",
        "customers/.gitkeep",
        ".gitignore",
        ".github/workflows/folio.yml",
        ".githooks/pre-commit",
        ".taplo.toml",
        "schema/customer.schema.json",
    ] {
        assert!(target.join(f).exists(), "{f}");
    }
    assert!(target.join(".git").is_dir());
    assert_eq!(
        std::fs::read_to_string(target.join(".gitignore")).unwrap(),
        "# folio's local caches (search index, history cache)\n.folio/\n"
    );
    // the new repository passes its own check
    let (code, out, _) = run(folio_cmd()
        .args(["check", "--as-of", "2026-01-01", "--repo"])
        .arg(&target));
    assert_eq!(
        (code, out.as_str()),
        (0, "ok: checked 0 files: no problems\n")
    );
    // a second init refuses
    let (code, _, err) = run(folio_cmd().arg("init").arg(&target));
    assert_eq!(code, 2);
    assert!(err.contains("is already a folio repository"), "{err}");
}

#[test]
fn new_writes_a_valid_record_at_its_rule_path() {
    let t = TestRepo::new();
    let (code, out, err) = run(t.folio().args([
        "new",
        "--name",
        "Müller Maschinenbau GmbH",
        "--contact",
        "Jürgen Weiß",
        "--country",
        "DE",
        "--owner",
        "alice",
        "--tier",
        "B",
        "--email",
        "j@mueller.example",
        "--tags",
        "vip,quality-focused",
        "--id",
        "C100",
        "--as-of",
        "2025-03-01",
    ]));
    assert_eq!(code, 0, "{err}");
    let path = "customers/de/muller-maschinenbau-gmbh--jurgen-weiss--de.toml";
    assert_eq!(
        out,
        format!("created {path} (Müller Maschinenbau GmbH-Jürgen Weiß-DE)\n")
    );
    assert_eq!(
        t.read(path),
        "id = \"C100\"\nname = \"Müller Maschinenbau GmbH\"\ncontact = \"Jürgen Weiß\"\ncountry = \"DE\"\nowner = \"alice\"\ntier = \"B\"\nstage = \"prospect\"\ntags = [\"vip\", \"quality-focused\"]\ncreated = 2025-03-01\n\n[[contacts]]\nname = \"Jürgen Weiß\"\nemail = \"j@mueller.example\"\n"
    );
    let (code, _, _) = run(t.folio().args(["check", "--as-of", "2025-03-02"]));
    assert_eq!(code, 0);
    // a new ULID id is 26 characters
    let (code, out, _) = run(t.folio().args([
        "new",
        "--name",
        "Beta",
        "--contact",
        "Bo",
        "--country",
        "US",
        "--as-of",
        "2025-03-01",
    ]));
    assert_eq!(code, 0);
    let text = t.read("customers/us/beta--bo--us.toml");
    let id = text
        .lines()
        .next()
        .unwrap()
        .trim_start_matches("id = \"")
        .trim_end_matches('"');
    assert_eq!(id.len(), 26, "{out}");
}

#[test]
fn new_refuses_invalid_input_and_collisions() {
    let t = TestRepo::new();
    t.customer("C1", "ABC Corp", "John Doe", "US", "");
    let cases: &[(&[&str], &str)] = &[
        (
            &["--country", "Germany"],
            "error: the record would be invalid: `country`: `Germany` is not an ISO 3166-1 alpha-2 country code\nhint: use an ISO 3166-1 alpha-2 code such as \"DE\" or \"CN\"\n",
        ),
        (
            &["--country", "DE", "--owner", "zed"],
            "error: the record would be invalid: `owner`: `zed` is not in staff.toml\nhint: add the person to staff.toml or use an existing handle\n",
        ),
        (
            &["--country", "DE", "--tier", "Z"],
            "error: the record would be invalid: `tier` is \"Z\", which is not allowed\nhint: allowed: \"A\", \"B\", \"C\", \"D\", \"E\"\n",
        ),
    ];
    for (extra, want) in cases {
        let (code, _, err) = run(t
            .folio()
            .args([
                "new",
                "--name",
                "New Co",
                "--contact",
                "Ann",
                "--as-of",
                "2025-01-01",
            ])
            .args(*extra));
        assert_eq!((code, err.as_str()), (2, *want));
    }
    let (code, _, err) = run(t.folio().args([
        "new",
        "--name",
        "ABC Corp",
        "--contact",
        "John Doe",
        "--country",
        "US",
        "--as-of",
        "2025-01-01",
    ]));
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: a record with the same name, contact and country exists: customers/us/abc-corp--john-doe--us.toml (ABC Corp-John Doe-US)\nhint: if this is another real customer, tell them apart with --city or --industry\n"
    );
    let (code, _, err) = run(t.folio().args([
        "new",
        "--name",
        "N",
        "--contact",
        "C",
        "--country",
        "US",
        "--id",
        "C1",
    ]));
    assert_eq!(
        (code, err.as_str()),
        (
            2,
            "error: id C1 is already used by customers/us/abc-corp--john-doe--us.toml\n"
        )
    );
}

#[test]
fn new_commit_makes_one_commit() {
    let t = TestRepo::new();
    t.git_init();
    t.commit_all("init", "admin", 1_700_000_000);
    let (code, out, err) = run(t.folio().args([
        "new",
        "--name",
        "Gamma",
        "--contact",
        "Gil",
        "--country",
        "FR",
        "--as-of",
        "2025-01-01",
        "--commit",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("committed "), "{out}");
    let repo = git2::Repository::open(t.root()).unwrap();
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(head.message().unwrap(), "new customer Gamma-Gil-FR");
    // folio's cache ignores itself; nothing else is left over
    assert!(
        repo.statuses(None)
            .unwrap()
            .iter()
            .all(|s| s.status() == git2::Status::IGNORED)
    );
}

#[test]
fn fix_renames_with_history_kept_linked() {
    let t = TestRepo::new();
    t.write(
        "customers/misc/old.toml",
        &record("C1", "ABC Corp", "John Doe", "US", ""),
    );
    t.git_init();
    t.commit_all("add", "alice", 1_700_000_000);
    let (code, out, _) = run(t.folio().args(["fix", "--dry-run"]));
    assert_eq!(
        (code, out.as_str()),
        (
            0,
            "would rename customers/misc/old.toml -> customers/us/abc-corp--john-doe--us.toml\n"
        )
    );
    assert!(t.path("customers/misc/old.toml").exists());
    let (code, out, _) = run(t.folio().arg("fix"));
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "renamed customers/misc/old.toml -> customers/us/abc-corp--john-doe--us.toml\nrenames are staged: commit them so git keeps each file's history linked\n"
    );
    assert!(
        !t.path("customers/misc").exists(),
        "the emptied folder is removed"
    );
    // git sees a rename, staged
    let repo = git2::Repository::open(t.root()).unwrap();
    let mut opts = git2::StatusOptions::new();
    opts.renames_head_to_index(true);
    let st = repo.statuses(Some(&mut opts)).unwrap();
    assert_eq!(st.len(), 1);
    assert!(
        st.get(0)
            .unwrap()
            .status()
            .contains(git2::Status::INDEX_RENAMED)
    );
    let (code, out, _) = run(t.folio().args(["check", "--as-of", "2026-01-01"]));
    assert_eq!(
        (code, out.as_str()),
        (0, "ok: checked 1 file: no problems\n")
    );
    let (_, out, _) = run(t.folio().arg("fix"));
    assert_eq!(out, "every record is at its naming-rule path\n");
}

#[test]
fn schema_export_includes_team_fields() {
    let t = TestRepo::new();
    t.write(
        "schema/team.toml",
        "[fields.vat]\ntype = \"string\"\ndescription = \"EU VAT number\"\n",
    );
    let (code, out, _) = run(t.folio().args(["schema", "export"]));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["$schema"], "http://json-schema.org/draft-04/schema#");
    assert_eq!(
        v["required"],
        serde_json::json!([
            "id", "name", "contact", "country", "tier", "stage", "created"
        ])
    );
    assert_eq!(v["properties"]["vat"]["description"], "EU VAT number");
    assert_eq!(
        v["properties"]["tier"]["enum"],
        serde_json::json!(["A", "B", "C", "D", "E"])
    );
    assert_eq!(
        v["properties"]["created"],
        serde_json::json!({"description": "Date the record was created", "type": "string", "format": "date"})
    );
    assert_eq!(
        v["properties"]["contacts"]["items"]["required"],
        serde_json::json!(["name"])
    );
    assert_eq!(v["additionalProperties"], false);
}

#[test]
fn colour_follows_flag_and_no_color() {
    let t = TestRepo::new();
    t.customer("C1", "ABC Corp", "John Doe", "US", "tierr = 1\n");
    let (_, out, _) = run(t
        .folio()
        .args(["--color", "always", "check", "--as-of", "2026-01-01"]));
    assert!(
        out.contains("\u{1b}[31m"),
        "red with --color always: {out:?}"
    );
    let (_, out, _) = run(t.folio().args(["check", "--as-of", "2026-01-01"]));
    assert!(!out.contains('\u{1b}'), "plain on a pipe with NO_COLOR");
    let (_, out, _) = run(t
        .folio()
        .args(["--color", "never", "check", "--as-of", "2026-01-01"])
        .env("CLICOLOR_FORCE", "1")
        .env_remove("NO_COLOR"));
    assert!(!out.contains('\u{1b}'));
}

#[test]
fn help_and_version_exit_0_usage_exits_2() {
    assert_eq!(run(folio_cmd().arg("--help")).0, 0);
    assert_eq!(run(folio_cmd().arg("--version")).0, 0);
    let (code, _, err) = run(folio_cmd().arg("frobnicate"));
    assert_eq!(code, 2);
    assert!(
        err.contains("unrecognized subcommand 'frobnicate'"),
        "{err}"
    );
}

/// README promises that the sample repository passes `folio check`.
#[test]
fn sample_repo_passes_check() {
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-repo");
    let (code, out, err) = run(folio_cmd()
        .args(["check", "--as-of", "2026-11-24", "--repo"])
        .arg(&sample));
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (0, "ok: checked 48 files: no problems\n", "")
    );
}

#[test]
fn a_lost_customer_with_a_reason_passes() {
    let t = TestRepo::new();
    t.customer(
        "C1",
        "ABC Corp",
        "John Doe",
        "US",
        "lost_reason = \"chose a cheaper supplier\"\n",
    );
    let p = "customers/us/abc-corp--john-doe--us.toml";
    t.write(
        p,
        &t.read(p)
            .replace("stage = \"contacted\"", "stage = \"lost\""),
    );
    let (code, out, _) = run(t.folio().args(["check", "--as-of", "2026-01-01"]));
    assert_eq!(
        (code, out.as_str()),
        (0, "ok: checked 1 file: no problems\n")
    );
}

/// `folio check | head -1`: the closed pipe is quiet, and the exit status
/// is still the check's (1, problems found), so `set -o pipefail` sees it.
#[test]
fn a_closed_pipe_keeps_the_exit_status() {
    use std::io::Read;
    let t = TestRepo::new();
    for i in 0..1500 {
        // an unknown tier in every record: plenty of output
        t.write(
            &format!("customers/xx/c{i}.toml"),
            &record(&format!("C{i}"), &format!("Co {i}"), "Ann", "DE", "")
                .replace("tier = \"B\"", "tier = \"Q\""),
        );
    }
    let mut child = common::folio_std()
        .current_dir(t.root())
        .args(["check", "--as-of", "2026-01-01"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    out.read_exact(&mut first).unwrap();
    drop(out);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{err}");
    assert_eq!(err, "");
}

/// A cause is said once: libgit2's text is not repeated after folio's.
#[test]
fn an_error_says_its_cause_once() {
    let t = TestRepo::new();
    t.git_init();
    t.commit_all("init", "admin", 1_700_000_000);
    let (code, out, err) = run(t.folio().args([
        "check",
        "--as-of",
        "2026-01-01",
        "--changed-since",
        "nosuchrev",
    ]));
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(
        err.matches("revspec 'nosuchrev' not found").count(),
        1,
        "{err}"
    );
}

/// The workflow `folio init` writes passes GitHub's values to the shell
/// through environment variables, quoted: a pull request's base branch
/// named `$(curl evil)` is never pasted into a script.
#[test]
fn init_workflow_passes_github_values_through_the_environment() {
    let d = tempfile::tempdir().unwrap();
    let (code, _, err) = run(folio_cmd().arg("init").arg(d.path()));
    assert_eq!(code, 0, "{err}");
    let wf = std::fs::read_to_string(d.path().join(".github/workflows/folio.yml")).unwrap();
    assert!(
        wf.contains(
            "      - name: Check records\n        env:\n          EVENT_NAME: ${{ github.event_name }}\n          BASE_REF: ${{ github.base_ref }}\n        run: |\n          if [ \"$EVENT_NAME\" = \"pull_request\" ]; then\n            folio check --format github --changed-since \"origin/$BASE_REF\"\n          else\n            folio check --format github\n          fi\n"
        ),
        "{wf}"
    );
    // every `${{ }}` is the whole value of an env entry, none in a script
    for line in wf.lines().filter(|l| l.contains("${{")) {
        let (key, value) = line.trim().split_once(": ").unwrap_or(("", ""));
        assert!(
            !key.is_empty()
                && key.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
                && value.starts_with("${{")
                && value.ends_with("}}"),
            "an expression outside env: {line}"
        );
    }
}
