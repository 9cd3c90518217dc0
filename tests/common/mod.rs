//! Shared helpers for CLI tests: fixture repositories in temporary
//! directories, a clean environment, and git histories with pinned
//! authors and dates.
#![allow(dead_code)]

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// A data repository in a temporary directory.
pub struct TestRepo {
    pub dir: tempfile::TempDir,
}

pub const STAFF: &str = "[staff.alice]\nname = \"Alice Wang\"\nemail = \"alice@example.com\"\n\n[staff.bob]\nname = \"Bob Li\"\n\n[staff.carol]\nname = \"Carol Diaz\"\nactive = false\n";

impl TestRepo {
    /// folio.toml (empty) and a staff.toml with alice, bob and inactive carol.
    pub fn new() -> TestRepo {
        let t = TestRepo {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        t.write("folio.toml", "");
        t.write("staff.toml", STAFF);
        t
    }

    /// A copy of the repository's `sample-repo/` (folio.toml, staff.toml
    /// and its 48 customers), to run commands on as the README does.
    pub fn sample() -> TestRepo {
        let t = TestRepo {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-repo"),
            t.root(),
        );
        t
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) {
        self.write_bytes(rel, text.as_bytes());
    }

    pub fn write_bytes(&self, rel: &str, bytes: &[u8]) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }

    /// Write a valid record at its rule path, with `extra` lines appended.
    pub fn customer(&self, id: &str, name: &str, contact: &str, cc: &str, extra: &str) -> String {
        let rel = format!(
            "customers/{}/{}--{}--{}.toml",
            cc.to_lowercase(),
            folio::naming::slug(name),
            folio::naming::slug(contact),
            cc.to_lowercase()
        );
        self.write(&rel, &record(id, name, contact, cc, extra));
        rel
    }

    /// `folio` with a clean environment, run in the repository.
    pub fn folio(&self) -> Command {
        let mut c = folio_cmd();
        c.current_dir(self.root());
        c
    }

    /// Initialise git and commit everything as `author` at `secs`.
    pub fn git_init(&self) -> git2::Repository {
        git2::Repository::init(self.root()).unwrap()
    }

    /// Run the `git` program in the repository (the clean environment of
    /// `folio_std`); its stdout. Panics when git fails.
    pub fn git(&self, args: &[&str]) -> String {
        let mut c = folio_std();
        c.current_dir(self.root());
        let c = std::process::Command::new("git")
            .args(args)
            .current_dir(self.root())
            .envs(c.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
            .env_remove("GIT_DIR")
            .output()
            .unwrap();
        assert!(
            c.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&c.stderr)
        );
        String::from_utf8_lossy(&c.stdout).into_owned()
    }

    /// HEAD's commit.
    pub fn head(&self) -> git2::Oid {
        let repo = git2::Repository::open(self.root()).unwrap();
        repo.head().unwrap().target().unwrap()
    }

    /// An executable git hook `name` running `body` with /bin/sh.
    #[cfg(unix)]
    pub fn hook(&self, name: &str, body: &str) {
        use std::os::unix::fs::PermissionsExt;
        let p = self.path(&format!(".git/hooks/{name}"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    pub fn commit_all(&self, message: &str, author: &str, secs: i64) -> git2::Oid {
        let repo = git2::Repository::open(self.root()).unwrap();
        let mut index = repo.index().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.update_all(["*"], None).unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::new(
            author,
            &format!("{author}@example.com"),
            &git2::Time::new(secs, 0),
        )
        .unwrap();
        let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .unwrap()
    }
}

/// A minimal valid record.
pub fn record(id: &str, name: &str, contact: &str, cc: &str, extra: &str) -> String {
    format!(
        "id = \"{id}\"\nname = \"{name}\"\ncontact = \"{contact}\"\ncountry = \"{cc}\"\nowner = \"alice\"\ntier = \"B\"\nstage = \"contacted\"\ncreated = 2025-01-10\n{extra}"
    )
}

/// The folio binary with a clean, deterministic environment.
pub fn folio_cmd() -> Command {
    Command::from_std(folio_std())
}

/// The folio binary with the clean environment of `folio_cmd`, as a
/// `std::process::Command`, for tests that spawn it and kill it or run
/// several at once.
pub fn folio_std() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_folio"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("NO_COLOR", "1");
    c
}

/// Run and return (exit code, stdout, stderr).
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("run folio");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Run folio in `dir` with `args` in the clean environment of
/// `folio_cmd`, for tests that read stdout and stderr themselves.
pub fn folio_at(dir: &Path, args: &[&str]) -> std::process::Output {
    folio_cmd().current_dir(dir).args(args).output().unwrap()
}

pub fn stdout_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Copy a folder (files and sub-folders) into `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// Write `text` at `rel` under `dir`, creating folders.
pub fn write_at(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// Ids of the hits of a query (JSON output), sorted.
pub fn search_ids(dir: &Path, query: &str) -> Vec<String> {
    let o = folio_at(
        dir,
        &[
            "search", "--format", "json", "--limit", "10000", "--", query,
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{query}: {}", stderr_of(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut ids: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}
