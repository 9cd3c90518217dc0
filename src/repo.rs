//! The data repository: finding its root, its settings, its team, its
//! schema, and its record files.

use crate::config::{self, Config, Staff};
use crate::diagnostics::{Code, Diagnostic};
use crate::naming::Template;
use crate::records::{self, Context, Customer};
use crate::schema::Schema;
use chrono::NaiveDate;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

pub const CONFIG_FILE: &str = "folio.toml";
pub const STAFF_FILE: &str = "staff.toml";
pub const CUSTOMERS_DIR: &str = "customers";
pub const SCHEMA_DIR: &str = "schema";
pub const CACHE_DIR: &str = ".folio";

/// Why a repository could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("no folio.toml in {0} or any parent directory")]
    NotFound(PathBuf),
    #[error("{0} has no folio.toml")]
    NoConfig(PathBuf),
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// An opened data repository.
#[derive(Debug)]
pub struct Repo {
    pub root: PathBuf,
    pub config: Config,
    pub staff: Staff,
    pub schema: Schema,
    pub template: Template,
    /// Whether staff.toml could be read (references are checked only then).
    pub staff_valid: bool,
    /// Problems in folio.toml, staff.toml or schema files (defaults are used
    /// where a file is broken).
    pub setup_diagnostics: Vec<Diagnostic>,
}

/// A record file found under `customers/`.
#[derive(Debug, Clone)]
pub struct RecordFile {
    /// Relative to the root, `/`-separated.
    pub rel: String,
    pub abs: PathBuf,
}

/// A successfully parsed record.
#[derive(Debug, Clone)]
pub struct Record {
    pub path: String,
    pub customer: Customer,
}

/// Every record of a repository, with every problem found in the files.
#[derive(Debug, Default)]
pub struct Loaded {
    pub records: Vec<Record>,
    pub diagnostics: Vec<Diagnostic>,
    /// Files read (records and others that were looked at).
    pub files: usize,
    /// Paths of files that could not be parsed at all.
    pub unreadable: Vec<String>,
}

impl Repo {
    /// Find the root by walking up from `start` to a folder with folio.toml.
    pub fn discover(start: &Path) -> Result<Repo, RepoError> {
        let start = start.canonicalize().map_err(|source| RepoError::Read {
            path: start.to_path_buf(),
            source,
        })?;
        let mut dir = start.as_path();
        loop {
            if dir.join(CONFIG_FILE).is_file() {
                return Repo::open(dir);
            }
            match dir.parent() {
                Some(p) => dir = p,
                None => return Err(RepoError::NotFound(start)),
            }
        }
    }

    /// Open the repository whose root is `root`.
    pub fn open(root: &Path) -> Result<Repo, RepoError> {
        let root = root.canonicalize().map_err(|source| RepoError::Read {
            path: root.to_path_buf(),
            source,
        })?;
        if !root.join(CONFIG_FILE).is_file() {
            return Err(RepoError::NoConfig(root));
        }
        let read = |name: &str| -> Result<Option<String>, RepoError> {
            let p = root.join(name);
            match std::fs::read(&p) {
                Ok(b) => Ok(Some(String::from_utf8_lossy(&b).into_owned())),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(source) => Err(RepoError::Read { path: p, source }),
            }
        };
        let mut setup = Vec::new();
        let config = match read(CONFIG_FILE)? {
            Some(text) => config::parse_config(&text, CONFIG_FILE).unwrap_or_else(|d| {
                setup.extend(d);
                Config::default()
            }),
            None => Config::default(),
        };
        let mut staff_valid = true;
        let staff = match read(STAFF_FILE)? {
            Some(text) => config::parse_staff(&text, STAFF_FILE).unwrap_or_else(|d| {
                setup.extend(d);
                staff_valid = false;
                Staff::default()
            }),
            None => Staff::default(),
        };
        let template =
            Template::new(&config.naming.template, &config.naming.disambiguate).unwrap_or_default();
        let mut schema = Schema::builtin();
        let schema_dir = root.join(SCHEMA_DIR);
        if schema_dir.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&schema_dir)
                .map_err(|source| RepoError::Read {
                    path: schema_dir.clone(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect();
            files.sort();
            for f in files {
                let rel = format!(
                    "{SCHEMA_DIR}/{}",
                    f.file_name().unwrap_or_default().to_string_lossy()
                );
                let text = std::fs::read_to_string(&f).map_err(|source| RepoError::Read {
                    path: f.clone(),
                    source,
                })?;
                if let Err(errs) = schema.extend(&text, &rel) {
                    for e in errs {
                        let mut d = Diagnostic::error(Code::Config, rel.clone(), e.message)
                            .with_field(e.field);
                        if let Some(s) = e.span {
                            d = d.with_span(s);
                            d.locate(&text);
                        }
                        setup.push(d);
                    }
                }
            }
        }
        Ok(Repo {
            root,
            config,
            staff,
            schema,
            template,
            staff_valid,
            setup_diagnostics: setup,
        })
    }

    /// Where folio keeps its caches.
    pub fn cache_dir(&self) -> PathBuf {
        self.root.join(CACHE_DIR)
    }

    /// Every file under `customers/`, sorted by path; symlinks and other
    /// non-regular files, and files that are not `.toml`, as diagnostics.
    pub fn record_files(&self) -> (Vec<RecordFile>, Vec<Diagnostic>) {
        let mut files = Vec::new();
        let mut diags = Vec::new();
        let base = self.root.join(CUSTOMERS_DIR);
        if !base.is_dir() {
            return (files, diags);
        }
        let walker = walkdir::WalkDir::new(&base)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter();
        for entry in walker
            .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
        {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let p = e
                        .path()
                        .map(|p| self.rel(p))
                        .unwrap_or_else(|| CUSTOMERS_DIR.to_string());
                    diags.push(Diagnostic::error(Code::Io, p, format!("cannot read: {e}")));
                    continue;
                }
            };
            let ft = entry.file_type();
            if ft.is_dir() {
                continue;
            }
            let rel = self.rel(entry.path());
            if ft.is_symlink() {
                let target = std::fs::read_link(entry.path())
                    .map(|t| t.display().to_string())
                    .unwrap_or_default();
                let outside = entry
                    .path()
                    .canonicalize()
                    .map(|t| !t.starts_with(&self.root))
                    .unwrap_or(true);
                let msg = if outside {
                    format!("record is a symlink to `{target}`, outside the repository")
                } else {
                    format!("record is a symlink to `{target}`")
                };
                diags.push(Diagnostic::error(Code::NotAFile, rel, msg).with_hint(
                    "a record must be a regular file; copy the content in place of the link",
                ));
                continue;
            }
            if !ft.is_file() {
                diags.push(Diagnostic::error(
                    Code::NotAFile,
                    rel,
                    "not a regular file (device, socket or pipe)",
                ));
                continue;
            }
            if !rel.ends_with(".toml") {
                diags.push(
                    Diagnostic::warning(
                        Code::NotRecord,
                        rel,
                        "file under customers/ is not a record (.toml) and is ignored",
                    )
                    .with_hint(
                        "move it out of customers/, or rename it to .toml if it is a record",
                    ),
                );
                continue;
            }
            files.push(RecordFile {
                rel,
                abs: entry.into_path(),
            });
        }
        (files, diags)
    }

    /// A path relative to the root, `/`-separated.
    pub fn rel(&self, p: &Path) -> String {
        // fast path: a UTF-8 path under the root
        if let (Some(ps), Some(rs)) = (p.to_str(), self.root.to_str())
            && let Some(rest) = ps
                .strip_prefix(rs)
                .and_then(|r| r.strip_prefix(std::path::MAIN_SEPARATOR))
        {
            return if std::path::MAIN_SEPARATOR == '/' {
                rest.to_string()
            } else {
                rest.replace(std::path::MAIN_SEPARATOR, "/")
            };
        }
        let r = p.strip_prefix(&self.root).unwrap_or(p);
        r.components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Parse the given record files in parallel (order kept).
    pub fn load_files(&self, files: &[RecordFile], as_of: NaiveDate) -> Loaded {
        self.load_files_with(files, as_of, false)
    }

    /// Like `load_files`; with `slim`, each customer keeps only what the
    /// cross-record rules read (identity, titles, contacts, website, group),
    /// so that checking a very large repository stays small in memory.
    pub fn load_files_with(&self, files: &[RecordFile], as_of: NaiveDate, slim: bool) -> Loaded {
        let staff = self.staff_valid.then_some(&self.staff);
        let ctx = Context {
            schema: &self.schema,
            staff,
            as_of,
        };
        // Records and diagnostics are collected side by side, with no
        // intermediate list: at 100,000 records every copy counts.
        let (records, diagnostics): (Vec<Result<Record, String>>, Vec<Vec<Diagnostic>>) = files
            .par_iter()
            .map(|f| {
                let bytes = match std::fs::read(&f.abs) {
                    Ok(b) => b,
                    Err(e) => {
                        let d =
                            Diagnostic::error(Code::Io, f.rel.clone(), format!("cannot read: {e}"));
                        return (Err(f.rel.clone()), vec![d]);
                    }
                };
                match records::decode(&bytes, &f.rel) {
                    Err(d) => (Err(f.rel.clone()), vec![d]),
                    Ok(text) => {
                        let p = if slim {
                            records::parse_slim(text, &f.rel, &ctx)
                        } else {
                            records::parse(text, &f.rel, &ctx)
                        };
                        match p.customer {
                            Some(customer) => (
                                Ok(Record {
                                    path: f.rel.clone(),
                                    customer,
                                }),
                                p.diagnostics,
                            ),
                            None => (Err(f.rel.clone()), p.diagnostics),
                        }
                    }
                }
            })
            .unzip();
        let mut out = Loaded {
            files: files.len(),
            ..Default::default()
        };
        out.diagnostics = diagnostics.into_iter().flatten().collect();
        out.records.reserve_exact(records.len());
        for r in records {
            match r {
                Ok(r) => out.records.push(r),
                Err(path) => out.unreadable.push(path),
            }
        }
        out
    }

    /// Every record of the repository.
    pub fn load(&self, as_of: NaiveDate) -> Loaded {
        self.load_with(as_of, false)
    }

    /// Every record, slim or whole (see `load_files_with`).
    pub fn load_with(&self, as_of: NaiveDate, slim: bool) -> Loaded {
        let (files, diags) = self.record_files();
        let mut loaded = self.load_files_with(&files, as_of, slim);
        loaded.diagnostics.splice(0..0, diags);
        loaded
    }
}

/// Create the cache folder (`.folio`) and `sub` inside it. The cache
/// ignores itself (a `.gitignore` of `*`), so that git never lists it even
/// in a repository that `folio init` did not make.
pub fn prepare_cache_dir(cache: &Path, sub: &str) -> std::io::Result<PathBuf> {
    let dir = cache.join(sub);
    std::fs::create_dir_all(&dir)?;
    let ignore = cache.join(".gitignore");
    if !ignore.exists() {
        crate::edit::write_atomic(&ignore, b"*\n")?;
    }
    Ok(dir)
}
