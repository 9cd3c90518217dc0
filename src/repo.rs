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
    /// A settings file that is not a regular file, or too large.
    #[error("cannot read {path}")]
    ReadFile {
        path: PathBuf,
        #[source]
        source: ReadError,
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
    /// The write lock, once a writer took it ([`Repo::lock_for_writing`]).
    writing: std::sync::OnceLock<WriteLock>,
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

/// The largest file folio reads as a record (or as a settings file): 10 MB.
/// A real record is a few kilobytes; a larger file is refused unread.
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// Why a file was not read ([`read_file`]).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// A symlink, folder, pipe, socket or device: never opened for reading.
    #[error("not a regular file ({0})")]
    NotAFile(&'static str),
    #[error("the file is {size} bytes, more than the {MAX_FILE_BYTES} bytes folio reads")]
    TooLarge { size: u64 },
    #[error("cannot read: {0}")]
    Io(#[source] std::io::Error),
}

impl ReadError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }

    /// The problem as a diagnostic on the file `rel`.
    pub fn diagnostic(&self, rel: &str) -> Diagnostic {
        match self {
            ReadError::NotAFile(_) => Diagnostic::error(Code::NotAFile, rel, self.to_string())
                .with_hint("a record must be a regular file"),
            ReadError::TooLarge { .. } => Diagnostic::error(Code::TooLarge, rel, self.to_string())
                .with_hint("a record holds one customer; split or trim the file"),
            ReadError::Io(_) => Diagnostic::error(Code::Io, rel, self.to_string()),
        }
    }
}

/// What kind of non-regular file `t` is, in words.
fn kind_of(t: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a pipe";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
    }
    if t.is_symlink() {
        "a symlink"
    } else if t.is_dir() {
        "a folder"
    } else {
        "a special file"
    }
}

/// Read a whole record file into the start of `buf` and return its
/// length. The one way folio reads a record file: a symlink is not
/// followed, a pipe, socket or device is never read (the file is opened
/// non-blocking, so a pipe cannot hang the open, and its type is checked
/// on the open file), and a file larger than [`MAX_FILE_BYTES`] is refused
/// before it is read. The buffer is grown (and zeroed) only for a file
/// larger than any before; the caller keeps it.
pub fn read_file_into(path: &Path, buf: &mut Vec<u8>) -> Result<usize, ReadError> {
    read_limited(path, false, buf)
}

/// [`read_file_into`] into a new buffer.
pub fn read_file(path: &Path) -> Result<Vec<u8>, ReadError> {
    let mut buf = Vec::new();
    let n = read_file_into(path, &mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

/// Read folio.toml, staff.toml or a schema file as [`read_file`] reads a
/// record, except that a symlink is followed (a team may link a shared
/// staff.toml); what it points to must still be a regular file.
pub fn read_settings_file(path: &Path) -> Result<Vec<u8>, ReadError> {
    let mut buf = Vec::new();
    let n = read_limited(path, true, &mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

/// A file of the repository by its path relative to `root`: a record
/// (under `customers/`) by [`read_file`], any other (settings) by
/// [`read_settings_file`]. For renderers that show a diagnostic's line.
pub fn read_repo_file(root: &Path, rel: &str) -> Result<Vec<u8>, ReadError> {
    let abs = root.join(rel);
    if rel.starts_with(&format!("{CUSTOMERS_DIR}/")) {
        read_file(&abs)
    } else {
        read_settings_file(&abs)
    }
}

fn read_limited(path: &Path, follow: bool, buf: &mut Vec<u8>) -> Result<usize, ReadError> {
    use std::io::Read;
    let mut opts = std::fs::File::options();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let nofollow = if follow { 0 } else { libc::O_NOFOLLOW };
        opts.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | nofollow);
    }
    #[cfg(not(unix))]
    {
        // no O_NOFOLLOW: look before opening
        let m = if follow {
            std::fs::metadata(path)
        } else {
            std::fs::symlink_metadata(path)
        };
        let m = m.map_err(ReadError::Io)?;
        if !m.is_file() {
            return Err(ReadError::NotAFile(kind_of(m.file_type())));
        }
    }
    let mut file = match opts.open(path) {
        Ok(f) => f,
        Err(e) => {
            // a symlink (ELOOP), a socket (ENXIO): say what it is
            let m = if follow {
                std::fs::metadata(path)
            } else {
                std::fs::symlink_metadata(path)
            };
            return Err(match m {
                Ok(m) if !m.is_file() => ReadError::NotAFile(kind_of(m.file_type())),
                _ => ReadError::Io(e),
            });
        }
    };
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotAFile(kind_of(meta.file_type())));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge { size: meta.len() });
    }
    let limit = MAX_FILE_BYTES as usize;
    let mut n = 0;
    loop {
        if n == buf.len() {
            let grow = buf.len().max(16 * 1024);
            buf.resize(buf.len() + grow, 0);
        }
        match file.read(&mut buf[n..]) {
            Ok(0) => return Ok(n),
            // grown since the size was looked at
            Ok(k) if n + k > limit => {
                return Err(ReadError::TooLarge {
                    size: (n + k) as u64,
                });
            }
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ReadError::Io(e)),
        }
    }
}

/// Read and parse the given files in parallel with `parse` (order kept).
/// Each file is read into a buffer its thread keeps (no allocation per
/// file), parsed and checked, and only the customer and the
/// problems found are kept. Each file's path moves into its record.
fn load_files_by<P>(files: Vec<RecordFile>, parse: P) -> Loaded
where
    P: Fn(&str, &str) -> records::Parsed + Sync,
{
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let one = |f: RecordFile, bytes: &[u8]| -> (Result<Record, String>, Vec<Diagnostic>) {
        match records::decode(bytes, &f.rel) {
            Err(d) => (Err(f.rel), vec![d]),
            Ok(text) => {
                let p = parse(text, &f.rel);
                match p.customer {
                    Some(customer) => (
                        Ok(Record {
                            path: f.rel,
                            customer,
                        }),
                        p.diagnostics,
                    ),
                    None => (Err(f.rel), p.diagnostics),
                }
            }
        }
    };
    let count = files.len();
    let results: Vec<(Result<Record, String>, Vec<Diagnostic>)> = files
        .into_par_iter()
        .map(|f| {
            BUF.with(|cell| {
                // a fresh buffer if this thread's is in use
                let mut fresh = Vec::new();
                let mut held = cell.try_borrow_mut();
                let buf = match held.as_deref_mut() {
                    Ok(b) => b,
                    Err(_) => &mut fresh,
                };
                match read_file_into(&f.abs, buf) {
                    Ok(n) => one(f, &buf[..n]),
                    Err(e) => {
                        let d = e.diagnostic(&f.rel);
                        (Err(f.rel), vec![d])
                    }
                }
            })
        })
        .collect();
    let mut out = Loaded {
        files: count,
        ..Default::default()
    };
    let (diagnostics, unreadable) = (&mut out.diagnostics, &mut out.unreadable);
    out.records = results
        .into_iter()
        .filter_map(|(r, d)| {
            diagnostics.extend(d);
            r.map_err(|path| unreadable.push(path)).ok()
        })
        .collect();
    out
}

impl Repo {
    /// Find the root by walking up from `start` to a folder with folio.toml.
    pub fn discover(start: &Path) -> Result<Repo, RepoError> {
        Repo::open(&Repo::find_root(start)?)
    }

    /// Open the repository whose root is `root` for a command that changes
    /// it: the write lock is taken first (`waiting` is called when another
    /// writer holds it), so that what the command reads is what it changes.
    pub fn open_for_writing(root: &Path, waiting: impl FnOnce()) -> Result<Repo, RepoError> {
        let root = root.canonicalize().map_err(|source| RepoError::Read {
            path: root.to_path_buf(),
            source,
        })?;
        if !root.join(CONFIG_FILE).is_file() {
            return Err(RepoError::NoConfig(root));
        }
        let lock = WriteLock::take(&root, waiting).map_err(|source| RepoError::Read {
            path: root.join(CACHE_DIR),
            source,
        })?;
        let repo = Repo::open(&root)?;
        let _ = repo.writing.set(lock);
        Ok(repo)
    }

    /// Take the write lock if this process does not hold it yet (an edit
    /// session does, for callers that opened the repository for reading).
    pub fn lock_for_writing(&self) -> std::io::Result<()> {
        if self.writing.get().is_none() {
            let lock = WriteLock::take(&self.root, || {})?;
            let _ = self.writing.set(lock);
        }
        Ok(())
    }

    /// The nearest folder at or above `start` with a folio.toml.
    pub fn find_root(start: &Path) -> Result<PathBuf, RepoError> {
        let start = start.canonicalize().map_err(|source| RepoError::Read {
            path: start.to_path_buf(),
            source,
        })?;
        let mut dir = start.as_path();
        loop {
            if dir.join(CONFIG_FILE).is_file() {
                return Ok(dir.to_path_buf());
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
            match read_settings_file(&p) {
                Ok(b) => Ok(Some(String::from_utf8_lossy(&b).into_owned())),
                Err(e) if e.is_not_found() => Ok(None),
                Err(source) => Err(RepoError::ReadFile { path: p, source }),
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
                let text = read_settings_file(&f)
                    .map_err(|source| RepoError::ReadFile {
                        path: f.clone(),
                        source,
                    })
                    .and_then(|b| {
                        String::from_utf8(b).map_err(|e| RepoError::Read {
                            path: f.clone(),
                            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
                        })
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
            writing: std::sync::OnceLock::new(),
        })
    }

    /// Where folio keeps its caches.
    pub fn cache_dir(&self) -> PathBuf {
        self.root.join(CACHE_DIR)
    }

    /// Every file under `customers/`, sorted by path; symlinks and other
    /// non-regular files, and files that are not `.toml`, as diagnostics.
    /// Folders are read in parallel; within a folder, entries are taken in
    /// byte order of their names (folders descended where they stand), so
    /// the order is that of a sorted walk.
    pub fn record_files(&self) -> (Vec<RecordFile>, Vec<Diagnostic>) {
        let base = self.root.join(CUSTOMERS_DIR);
        if !base.is_dir() {
            return (Vec::new(), Vec::new());
        }
        let mut files = Vec::new();
        let mut diags = Vec::new();
        self.walk(&base, CUSTOMERS_DIR, &mut files, &mut diags);
        (files, diags)
    }

    fn walk(
        &self,
        dir: &Path,
        rel: &str,
        files: &mut Vec<RecordFile>,
        diags: &mut Vec<Diagnostic>,
    ) {
        let io_error = |p: &Path, e: std::io::Error| {
            format!(
                "cannot read: IO error for operation on {}: {e}",
                p.display()
            )
        };
        let read = match std::fs::read_dir(dir) {
            Ok(r) => r,
            Err(e) => {
                diags.push(Diagnostic::error(Code::Io, rel, io_error(dir, e)));
                return;
            }
        };
        // (name, type) of each entry; hidden ones are skipped
        let mut entries: Vec<(std::ffi::OsString, std::fs::FileType)> = Vec::new();
        for e in read {
            let e = match e {
                Ok(e) => e,
                Err(e) => {
                    let d = Diagnostic::error(Code::Io, CUSTOMERS_DIR, format!("cannot read: {e}"));
                    diags.push(d);
                    continue;
                }
            };
            let name = e.file_name();
            if !is_walked_name(&name.to_string_lossy()) {
                continue;
            }
            match e.file_type() {
                Ok(t) => entries.push((name, t)),
                Err(err) => {
                    let p = e.path();
                    diags.push(Diagnostic::error(Code::Io, self.rel(&p), io_error(&p, err)));
                }
            }
        }
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let rel_of = |name: &std::ffi::OsStr| format!("{rel}/{}", name.to_string_lossy());
        // sub-folders in parallel, then everything in order
        let mut subs: Vec<Option<(Vec<RecordFile>, Vec<Diagnostic>)>> = entries
            .par_iter()
            .map(|(name, t)| {
                t.is_dir().then(|| {
                    let (mut f, mut d) = (Vec::new(), Vec::new());
                    self.walk(&dir.join(name), &rel_of(name), &mut f, &mut d);
                    (f, d)
                })
            })
            .collect();
        let below: usize = subs.iter().flatten().map(|(f, _)| f.len()).sum();
        files.reserve(below + entries.len());
        for ((name, t), sub) in entries.iter().zip(subs.iter_mut()) {
            if let Some((f, d)) = sub.take() {
                files.extend(f);
                diags.extend(d);
                continue;
            }
            let rel = rel_of(name);
            let abs = dir.join(name);
            if t.is_symlink() {
                let target = std::fs::read_link(&abs)
                    .map(|t| t.display().to_string())
                    .unwrap_or_default();
                let outside = abs
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
            if !t.is_file() {
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
            files.push(RecordFile { rel, abs });
        }
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
        self.load_owned(files.to_vec(), as_of, slim)
    }

    fn load_owned(&self, files: Vec<RecordFile>, as_of: NaiveDate, slim: bool) -> Loaded {
        let staff = self.staff_valid.then_some(&self.staff);
        let ctx = Context {
            schema: &self.schema,
            staff,
            as_of,
        };
        load_files_by(files, |text, rel| {
            if slim {
                records::parse_slim(text, rel, &ctx)
            } else {
                records::parse(text, rel, &ctx)
            }
        })
    }

    /// Every record, slim, without checking (`records::parse_slim_unchecked`):
    /// for commands that only compare records. Only files that cannot be
    /// read or parsed at all have diagnostics.
    pub fn load_slim_unchecked(&self) -> Loaded {
        let (files, diags) = self.record_files();
        let mut loaded = load_files_by(files, records::parse_slim_unchecked);
        loaded.diagnostics.splice(0..0, diags);
        loaded
    }

    /// Every record of the repository.
    pub fn load(&self, as_of: NaiveDate) -> Loaded {
        self.load_with(as_of, false)
    }

    /// Every record, slim or whole (see `load_files_with`).
    pub fn load_with(&self, as_of: NaiveDate, slim: bool) -> Loaded {
        let (files, diags) = self.record_files();
        let mut loaded = self.load_owned(files, as_of, slim);
        loaded.diagnostics.splice(0..0, diags);
        loaded
    }
}

/// Whether the walk for records looks at a folder entry named `name`: not
/// a hidden one (editors' and folio's own temporary files start with `.`).
pub fn is_walked_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.')
}

/// Whether a file named `name` in the records' tree is a record: walked,
/// and a `.toml` file.
pub fn is_record_name(name: &str) -> bool {
    is_walked_name(name) && name.ends_with(".toml")
}

/// Whether `p` (relative to the data root, `/`-separated) lies where the
/// walk for records goes: under `customers/`, no empty, hidden or parent
/// component.
pub fn in_records_tree(p: &str) -> bool {
    let mut parts = p.split('/');
    parts.next() == Some(CUSTOMERS_DIR) && parts.all(is_walked_name)
}

/// Whether `p` (relative to the data root) is where a record can be: a
/// `.toml` file in the records' tree. The one rule: the walk, the watcher,
/// the search manifest and the writers' guard all ask it.
pub fn is_record_path(p: &str) -> bool {
    in_records_tree(p) && p.rsplit('/').next().is_some_and(is_record_name) && p.contains('/')
}

/// The repository's write lock, held by a command that changes it for its
/// whole read-modify-write: two writers never interleave (twenty
/// `folio followup` runs at once all land), and their commits are made one
/// after another. An OS lock on the cache folder itself, released when the
/// process ends, even when killed.
#[derive(Debug)]
pub struct WriteLock(#[allow(dead_code)] std::fs::File);

impl WriteLock {
    /// Take the lock of the repository at `root`, waiting while another
    /// process holds it (`waiting` is called first, to say so).
    pub fn take(root: &Path, waiting: impl FnOnce()) -> std::io::Result<WriteLock> {
        let cache = prepare_cache_dir(&root.join(CACHE_DIR), "")?;
        let f = std::fs::File::open(&cache)?;
        match f.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                waiting();
                f.lock()?;
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
        Ok(WriteLock(f))
    }
}

/// Open (creating it if missing) the lock file at `path`. An OS file lock
/// on it is released when the file is dropped or the process ends, even
/// when killed.
pub fn open_lock_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
}

/// Take the lock on the file at `path`, waiting while another process
/// holds it (`waiting` is called first, to say so).
pub fn lock_file(path: &Path, waiting: impl FnOnce()) -> std::io::Result<std::fs::File> {
    let f = open_lock_file(path)?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => {
            waiting();
            f.lock()?;
            Ok(f)
        }
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

/// Create the cache folder (`.folio`) and `sub` inside it (`""` for the
/// cache folder itself; `a/b` for a folder inside a folder), and return
/// the folder. The cache ignores itself (a `.gitignore` of `*`), so that
/// git never lists it even in a repository that `folio init` did not make,
/// nor commits it with `git add -A`. This is the only way the cache and its
/// folders are made: the ignore file is written before any folder in it.
pub fn prepare_cache_dir(cache: &Path, sub: &str) -> std::io::Result<PathBuf> {
    // a `.folio` (or a folder in it) that is a symbolic link, committed by
    // someone, would take the caches and transactions elsewhere
    let mut at = cache.to_path_buf();
    for part in std::iter::once("").chain(sub.split('/').filter(|p| !p.is_empty())) {
        if !part.is_empty() {
            at.push(part);
        }
        if std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "{} is a symbolic link: folio keeps its caches only in a real folder (remove the link)",
                    at.display()
                ),
            ));
        }
    }
    std::fs::create_dir_all(cache)?;
    let ignore = cache.join(".gitignore");
    let ignores_all =
        std::fs::read_to_string(&ignore).is_ok_and(|text| text.lines().any(|l| l.trim() == "*"));
    if !ignores_all {
        crate::edit::write_atomic(&ignore, b"*\n")?;
    }
    let dir = cache.join(sub);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_folder_always_ignores_itself() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = tmp.path().join(CACHE_DIR);
        let ignore = cache.join(".gitignore");
        assert_eq!(prepare_cache_dir(&cache, "").unwrap(), cache);
        assert_eq!(std::fs::read_to_string(&ignore).unwrap(), "*\n");
        // folders inside folders
        let dir = prepare_cache_dir(&cache, "search/index-1").unwrap();
        assert!(dir.is_dir() && dir == cache.join("search").join("index-1"));
        // an ignore file that does not ignore everything is replaced
        std::fs::remove_dir_all(&cache).unwrap();
        std::fs::create_dir_all(cache.join("history")).unwrap();
        std::fs::write(&ignore, "index.bin\n").unwrap();
        prepare_cache_dir(&cache, "history").unwrap();
        assert_eq!(std::fs::read_to_string(&ignore).unwrap(), "*\n");
        // one that does is left as it is
        std::fs::write(&ignore, "# mine\n*\n").unwrap();
        prepare_cache_dir(&cache, "tx").unwrap();
        assert_eq!(std::fs::read_to_string(&ignore).unwrap(), "# mine\n*\n");
    }
}
