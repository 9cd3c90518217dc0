//! Search: a tantivy index of the records in `.folio/search`, kept fresh
//! with the working tree, multilingual, and safe against crashes and
//! concurrent folio processes.
//!
//! Layout of `.folio/search/`:
//!
//! - `CURRENT`: the name of the index directory in use, replaced atomically;
//! - `idx-<ULID>/`: a tantivy index plus `folio-manifest`, the file states
//!   it reflects (see [`manifest`]);
//! - `lock`: the writers' lock (one process writes at a time).
//!
//! A full rebuild is made in a fresh `idx-*` directory and only then named
//! in `CURRENT`, so a killed rebuild leaves the previous index in use (its
//! folder is removed by the next process that holds the lock). An
//! incremental update commits to tantivy first (atomic) and writes the
//! manifest after: an index is never older than its manifest, and
//! re-indexing a file twice is harmless, so a kill between the two steps
//! only costs some repeated work. A missing or damaged manifest, a foreign
//! format version, or an index that does not open is rebuilt.
//!
//! Readers never take the lock: they compare the manifest with the working
//! tree and answer at once when nothing changed; otherwise they take the
//! lock, bring the index up to date, then answer. The comparison asks a
//! running `folio watch` ([`crate::watch`]) what changed since the token
//! kept beside the manifest (`folio-watch`: the watcher's epoch and event
//! number, and the manifest generation it goes with) and looks only at the
//! files it lists; without a watcher, or when the watcher cannot vouch for
//! the time since the token, every record file is stat'ed. The token is
//! written after its manifest and only believed for the same generation, so
//! it is never newer than the file states it vouches for.

pub mod fields;
pub mod manifest;
pub mod query;
pub mod snippet;
pub mod tokenize;

use crate::records::{self, Context, Customer};
use crate::repo::Repo;
use crate::watch;
use chrono::NaiveDate;
use fields::Fields;
use manifest::{Diff, Manifest};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashSet;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use tantivy::collector::{Count, TopDocs};
use tantivy::indexer::NoMergePolicy;
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, SegmentReader, TantivyDocument,
};

pub use query::QueryError;
pub use snippet::Snippet;

/// Bumped whenever the schema, the tokenizer or the manifest change: an
/// index of another version is rebuilt.
pub const FORMAT_VERSION: u32 = 2;

const SEARCH_DIR: &str = "search";
const CURRENT: &str = "CURRENT";
const LOCK: &str = "lock";
const MANIFEST: &str = "folio-manifest";
const INDEX_PREFIX: &str = "idx-";
const WATCH_TOKEN: &str = "folio-watch";

/// Why search or indexing failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query is malformed (a usage error).
    #[error(transparent)]
    Query(#[from] QueryError),
    // the source is shown after it by whoever prints the chain
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> SearchError {
    move |source| SearchError::Io {
        what: what.into(),
        source,
    }
}

/// Progress of long operations, for the command line to show.
pub trait Observer {
    /// Another folio process holds the writer lock; this one waits.
    fn waiting(&self) {}
    /// A full rebuild of `total` records starts.
    fn rebuilding(&self, _total: u64, _reason: &str) {}
    /// `n` more records were indexed.
    fn progress(&self, _n: u64) {}
    /// The rebuild's records are indexed (committing follows).
    fn indexed(&self) {}
}

/// An observer that shows nothing.
pub struct Quiet;
impl Observer for Quiet {}

/// What an index run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// A full rebuild (with its reason), rather than an update.
    pub full: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub added: usize,
    pub modified: usize,
    pub renamed: usize,
    pub deleted: usize,
    /// Records in the index afterwards.
    pub records: usize,
    /// Record files that do not parse or cannot be read, left out of the
    /// index.
    pub skipped: Vec<String>,
    /// Those of `skipped` that cannot be read (their permissions).
    pub unreadable: Vec<String>,
    /// The commit checked out, if the data is in a git repository.
    pub head: Option<String>,
    /// How the working tree was compared with the index: `watcher` (only
    /// the files a running `folio watch` listed as changed), `stat` (every
    /// record file), or `rebuild`.
    pub scan: &'static str,
}

impl Report {
    pub fn changes(&self) -> usize {
        self.added + self.modified + self.renamed + self.deleted
    }
}

/// One search hit.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub id: String,
    pub path: String,
    pub display_name: String,
    pub owner: Option<String>,
    pub tier: String,
    pub stage: String,
    pub score: f32,
    #[serde(skip)]
    pub snippet: Snippet,
}

/// The answer to a query.
#[derive(Debug, Clone)]
pub struct Results {
    pub hits: Vec<Hit>,
    /// Matching records in all (hits are the best `limit` of them).
    pub total: usize,
    /// What the freshness check had to re-index first, if anything.
    pub refreshed: Option<Report>,
    /// Record files left out because they do not parse or cannot be read.
    pub skipped: Vec<String>,
    /// Those of `skipped` that cannot be read.
    pub unreadable: Vec<String>,
}

/// An opened index and the manifest it reflects.
struct Opened {
    name: String,
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    fields: Fields,
    manifest: Manifest,
}

/// A comparison of the working tree with an index's manifest.
struct Seen {
    diff: Diff,
    /// File-system time from which file states are not vouched for by
    /// their stat alone (see [`manifest`]).
    scan_start: i64,
    /// The watcher's token for the moment before the comparison.
    token: Option<watch::Token>,
    /// The token that was kept beside the manifest.
    stored: Option<watch::Token>,
    /// Only the files the watcher listed were compared.
    listed: bool,
}

enum State {
    Missing,
    Broken(String),
    Ready(Box<Opened>),
}

#[derive(Serialize, serde::Deserialize)]
struct Payload {
    format: u32,
    generation: u64,
}

/// The search index of a repository.
pub struct Store<'r> {
    repo: &'r Repo,
    dir: PathBuf,
}

fn register(index: &Index) {
    index
        .tokenizers()
        .register(tokenize::NAME, tokenize::FolioTokenizer::default());
}

/// The commit checked out in the git repository around `root`, if any.
fn head_of(root: &Path) -> Option<String> {
    let g = crate::git::GitRepo::open(root)?;
    let h = g.repo.head().ok()?;
    h.target().map(|o| o.to_string())
}

/// The file system's idea of "now", read from a fresh file's mtime (the
/// same clock and granularity as the records' mtimes).
fn fs_now(dir: &Path) -> Result<i64, SearchError> {
    let f = tempfile::Builder::new()
        .prefix(".clock-")
        .tempfile_in(dir)
        .map_err(io_err(format!("cannot write in {}", dir.display())))?;
    let m = f
        .as_file()
        .metadata()
        .map_err(io_err("cannot read the clock file"))?;
    Ok(manifest::Stat::of(&m).mtime)
}

impl<'r> Store<'r> {
    pub fn new(repo: &'r Repo) -> Store<'r> {
        Store {
            repo,
            dir: repo.cache_dir().join(SEARCH_DIR),
        }
    }

    /// Where the index lives.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn ensure_dir(&self) -> Result<(), SearchError> {
        // the cache is never committed, whatever the repository's .gitignore
        crate::repo::prepare_cache_dir(&self.repo.cache_dir(), SEARCH_DIR)
            .map(drop)
            .map_err(io_err(format!("cannot create {}", self.dir.display())))
    }

    fn lock(&self, obs: &dyn Observer) -> Result<File, SearchError> {
        self.ensure_dir()?;
        let p = self.dir.join(LOCK);
        crate::repo::lock_file(&p, || obs.waiting())
            .map_err(io_err(format!("cannot lock {}", p.display())))
    }

    fn current(&self) -> Option<String> {
        let s = std::fs::read_to_string(self.dir.join(CURRENT)).ok()?;
        let s = s.trim();
        let ok =
            s.starts_with(INDEX_PREFIX) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        ok.then(|| s.to_string())
    }

    fn open_state(&self) -> State {
        let Some(name) = self.current() else {
            return if self.dir.join(CURRENT).exists() {
                State::Broken("its pointer file is damaged".into())
            } else {
                State::Missing
            };
        };
        let dir = self.dir.join(&name);
        let manifest = match Manifest::read(&dir.join(MANIFEST)) {
            Ok(Some(m)) => m,
            Ok(None) => return State::Broken("its manifest is missing or damaged".into()),
            Err(e) => return State::Broken(format!("its manifest cannot be read: {e}")),
        };
        if manifest.version != FORMAT_VERSION {
            return State::Broken(format!(
                "it has format {}, this folio uses {FORMAT_VERSION}",
                manifest.version
            ));
        }
        let index = match Index::open_in_dir(&dir) {
            Ok(i) => i,
            Err(e) => return State::Broken(format!("it does not open: {e}")),
        };
        let Some(fields) = Fields::of(&index.schema()) else {
            return State::Broken("its schema differs from this folio's".into());
        };
        register(&index);
        match payload_of(&index) {
            Some(p) if p.format == FORMAT_VERSION && p.generation >= manifest.generation => {}
            _ => return State::Broken("its commit does not match its manifest".into()),
        }
        // opening every segment finds damaged or missing segment files
        let reader = match guarded(|| Ok(reader_of(&index)?)) {
            Ok(r) => r,
            Err(e) => return State::Broken(format!("its segments do not open: {e}")),
        };
        State::Ready(Box::new(Opened {
            name,
            dir,
            index,
            reader,
            fields,
            manifest,
        }))
    }

    /// Bring the index up to date (or rebuild it with `full`). Every record
    /// file is compared (stat'ed), watcher or not: `folio index` also
    /// catches what a watcher cannot see.
    pub fn refresh(&self, full: bool, obs: &dyn Observer) -> Result<Report, SearchError> {
        let _lock = self.lock(obs)?;
        let mut report = if full {
            self.rebuild("--full was asked for".into(), obs)?.1
        } else {
            self.refresh_locked(None, true, obs)?.1
        };
        report.unreadable = self.unreadable(&report.skipped);
        Ok(report)
    }

    /// The files of `skipped` that cannot be read now.
    fn unreadable(&self, skipped: &[String]) -> Vec<String> {
        skipped
            .iter()
            .filter(|p| matches!(manifest::read_record(&self.repo.root.join(p)), Ok(None)))
            .cloned()
            .collect()
    }

    /// The index, fresh; the report says what had to be done for it.
    fn fresh(&self, obs: &dyn Observer) -> Result<(Opened, Option<Report>), SearchError> {
        if let State::Ready(o) = self.open_state() {
            let o = *o;
            let seen = self.compare(&o, false)?;
            if seen.diff.is_empty() {
                self.keep_token_if_free(&o, &seen);
                self.collect_garbage_if_free(&o);
                return Ok((o, None));
            }
            let _lock = self.lock(obs)?;
            let (o, r) = self.refresh_locked(Some((o, seen)), false, obs)?;
            return Ok((o, Some(r)));
        }
        let _lock = self.lock(obs)?;
        let (o, r) = self.refresh_locked(None, false, obs)?;
        let changed = r.full || r.changes() > 0;
        Ok((o, changed.then_some(r)))
    }

    /// The watcher token kept beside `o`'s manifest, if it goes with the
    /// manifest's generation.
    fn stored_token(&self, o: &Opened) -> Option<watch::Token> {
        let s = std::fs::read_to_string(o.dir.join(WATCH_TOKEN)).ok()?;
        let (tok, generation) = s.trim_end().rsplit_once(' ')?;
        let generation: u64 = generation.parse().ok()?;
        (generation == o.manifest.generation)
            .then(|| watch::Token::parse(tok))
            .flatten()
    }

    /// Keep `token` beside the manifest of `generation` in `dir` (written
    /// after the manifest; a failure only costs a full comparison later).
    fn keep_token(dir: &Path, token: &watch::Token, generation: u64) {
        let line = format!("{} {} {generation}\n", token.epoch, token.seq);
        let _ = crate::edit::write_atomic(&dir.join(WATCH_TOKEN), line.as_bytes());
    }

    /// After a comparison that found nothing to do: keep the watcher's new
    /// token if no other process holds the lock (so that the next search
    /// need not compare the same files again), else leave it.
    fn keep_token_if_free(&self, o: &Opened, seen: &Seen) {
        let Some(t) = &seen.token else { return };
        if seen.stored.as_ref() == Some(t) {
            return;
        }
        let Ok(f) = crate::repo::open_lock_file(&self.dir.join(LOCK)) else {
            return;
        };
        if f.try_lock().is_ok() && self.unchanged(o) {
            Self::keep_token(&o.dir, t, o.manifest.generation);
        }
    }

    /// Compare the working tree with `o`'s manifest: through the watcher
    /// when one runs and vouches for the time since the stored token
    /// (unless `stat_all`), else by a stat of every record file.
    fn compare(&self, o: &Opened, stat_all: bool) -> Result<Seen, SearchError> {
        let scan_start = fs_now(&self.dir)?;
        let stored = self.stored_token(o);
        let root = &self.repo.root;
        let read_err = || io_err("cannot read the customers folder");
        let auto = self.repo.config.watch.auto;
        let answer = watch::ask_or_start(root, &self.repo.cache_dir(), stored.as_ref(), auto);
        let (diff, token, listed) = match answer {
            Some(watch::Answer::Changed {
                token,
                files,
                folders,
            }) if !stat_all => {
                let d = manifest::diff_listed(root, &o.manifest, &files, &folders)
                    .map_err(read_err())?;
                (d, Some(token), true)
            }
            // the token comes first, the comparison after: a change made
            // during the comparison is listed next time
            answer => {
                let d = manifest::diff(root, &o.manifest).map_err(read_err())?;
                (d, answer.map(|a| a.token().clone()), false)
            }
        };
        // a listed comparison does not look at the other files, so the
        // ones that were racy for the last full scan stay racy for the next
        let scan_start = if listed {
            scan_start.min(o.manifest.scan_start)
        } else {
            scan_start
        };
        Ok(Seen {
            diff,
            scan_start,
            token,
            stored,
            listed,
        })
    }

    /// Under the lock: update the index from `prior` (the index and a
    /// comparison made before the lock was taken, reused if no other
    /// process changed the index since), from a new comparison, or rebuild
    /// it when it is missing or broken.
    fn refresh_locked(
        &self,
        prior: Option<(Opened, Seen)>,
        stat_all: bool,
        obs: &dyn Observer,
    ) -> Result<(Opened, Report), SearchError> {
        // under the lock no rebuild is under way: any other index folder
        // is left over from an older index or a killed rebuild
        if let Some(cur) = self.current() {
            self.collect_garbage(&cur);
        }
        let (o, seen) = match prior.filter(|(o, _)| self.unchanged(o)) {
            Some(p) => p,
            None => {
                let o = match self.open_state() {
                    State::Ready(o) => *o,
                    State::Missing => return self.rebuild("there is no index yet".into(), obs),
                    State::Broken(why) => {
                        return self.rebuild(format!("the index is damaged: {why}"), obs);
                    }
                };
                let seen = self.compare(&o, stat_all)?;
                (o, seen)
            }
        };
        let head = head_of(&self.repo.root);
        let scan = if seen.listed { "watcher" } else { "stat" };
        if seen.diff.is_empty() {
            if head != o.manifest.head {
                let mut m = o.manifest.clone();
                m.head = head.clone();
                m.write(&o.dir.join(MANIFEST))
                    .map_err(io_err("cannot write the index manifest"))?;
            }
            if let Some(t) = seen
                .token
                .as_ref()
                .filter(|t| seen.stored.as_ref() != Some(*t))
            {
                Self::keep_token(&o.dir, t, o.manifest.generation);
            }
            let report = Report {
                records: o.manifest.records(),
                skipped: o.manifest.skipped(),
                head,
                scan,
                ..Default::default()
            };
            return Ok((o, report));
        }
        let token = seen.token.clone();
        match guarded(|| self.update(o, seen.diff, seen.scan_start, head, scan)) {
            Ok((o, report)) => {
                if let Some(t) = &token {
                    Self::keep_token(&o.dir, t, o.manifest.generation);
                }
                Ok((o, report))
            }
            // an index that fails to take an update is rebuilt
            Err(SearchError::Index(e)) => {
                self.rebuild(format!("the index failed to update: {e}"), obs)
            }
            Err(e) => Err(e),
        }
    }

    /// Whether `o` is still the index in use, at the generation it was
    /// opened with (no other process committed to it since).
    fn unchanged(&self, o: &Opened) -> bool {
        self.current().as_deref() == Some(o.name.as_str())
            && payload_of(&o.index).is_some_and(|p| p.generation == o.manifest.generation)
    }

    fn parse_context(&self) -> Context<'_> {
        Context {
            schema: &self.repo.schema,
            staff: None,
            as_of: NaiveDate::MAX,
        }
    }

    fn parse(&self, path: &str, bytes: &[u8]) -> Option<Customer> {
        let text = records::decode(bytes, path).ok()?;
        records::parse(text, path, &self.parse_context()).customer
    }

    fn update(
        &self,
        o: Opened,
        diff: Diff,
        scan_start: i64,
        head: Option<String>,
        scan: &'static str,
    ) -> Result<(Opened, Report), SearchError> {
        let f = o.fields;
        let big = diff.changed.len() > 2000;
        let mut writer: IndexWriter<TantivyDocument> = if big {
            o.index.writer_with_num_threads(threads(), 200_000_000)?
        } else {
            o.index.writer_with_num_threads(1, 20_000_000)?
        };
        writer.set_merge_policy(Box::new(NoMergePolicy));
        for p in &diff.removed {
            writer.delete_term(f.path_term(p));
        }
        let parsed: Vec<Option<Customer>> = diff
            .changed
            .par_iter()
            .map(|c| c.bytes.as_ref().and_then(|b| self.parse(&c.path, b)))
            .collect();
        let mut skipped = HashSet::new();
        for (c, customer) in diff.changed.iter().zip(parsed) {
            writer.delete_term(f.path_term(&c.path));
            match customer {
                Some(cu) => {
                    writer.add_document(fields::document(&f, &c.path, &cu))?;
                }
                None => {
                    skipped.insert(c.path.clone());
                }
            }
        }
        crate::transaction::fault("index-update:docs");
        let generation = o.manifest.generation + 1;
        commit(&mut writer, generation)?;
        crate::transaction::fault("index-update:committed");
        compact(&o.index, &mut writer)?;
        writer.wait_merging_threads()?;
        crate::transaction::fault("index-update:compacted");
        let renamed = diff.renames(&o.manifest);
        let added = diff.changed.iter().filter(|c| c.added).count();
        let manifest = o.manifest.apply(&diff, &skipped, scan_start, head.clone());
        manifest
            .write(&o.dir.join(MANIFEST))
            .map_err(io_err("cannot write the index manifest"))?;
        let report = Report {
            full: false,
            reason: None,
            added: added - renamed,
            modified: diff.changed.len() - added,
            renamed,
            deleted: diff.removed.len() - renamed,
            records: manifest.records(),
            skipped: manifest.skipped(),
            unreadable: Vec::new(),
            head,
            scan,
        };
        o.reader.reload()?;
        Ok((Opened { manifest, ..o }, report))
    }

    /// Build a new index from scratch in a fresh directory, then switch to it.
    fn rebuild(&self, reason: String, obs: &dyn Observer) -> Result<(Opened, Report), SearchError> {
        self.ensure_dir()?;
        let name = format!(
            "{INDEX_PREFIX}{}",
            ulid::Ulid::new().to_string().to_lowercase()
        );
        let dir = self.dir.join(&name);
        crate::repo::prepare_cache_dir(&self.repo.cache_dir(), &format!("{SEARCH_DIR}/{name}"))
            .map_err(io_err(format!("cannot create {}", dir.display())))?;
        let scan_start = fs_now(&self.dir)?;
        // the watcher's token before the walk: what changes during it is
        // listed next time
        let token = watch::ask_or_start(
            &self.repo.root,
            &self.repo.cache_dir(),
            None,
            self.repo.config.watch.auto,
        )
        .map(|a| a.token().clone());
        let found =
            manifest::walk(&self.repo.root).map_err(io_err("cannot read the customers folder"))?;
        obs.rebuilding(found.len() as u64, &reason);
        let (schema, f) = Fields::schema();
        let index = Index::builder().schema(schema).create_in_dir(&dir)?;
        register(&index);
        let mut writer: IndexWriter<TantivyDocument> =
            index.writer_with_num_threads(threads(), 400_000_000)?;
        let root = &self.repo.root;
        let mut entries = Vec::with_capacity(found.len());
        for chunk in found.chunks(2048) {
            let docs: Vec<(manifest::Entry, Option<TantivyDocument>)> = chunk
                .par_iter()
                .filter_map(|x| {
                    // a file deleted since the walk is simply not indexed;
                    // one folio will not or cannot read is left out, listed
                    let bytes = manifest::read_record(&root.join(&x.path)).ok()?;
                    let hash = bytes
                        .as_deref()
                        .map_or(manifest::UNREADABLE, manifest::hash_bytes);
                    let doc = bytes
                        .and_then(|b| self.parse(&x.path, &b))
                        .map(|c| fields::document(&f, &x.path, &c));
                    Some((
                        manifest::Entry {
                            path: x.path.clone(),
                            stat: x.stat,
                            hash,
                            skipped: doc.is_none(),
                        },
                        doc,
                    ))
                })
                .collect();
            for (e, doc) in docs {
                if let Some(d) = doc {
                    writer.add_document(d)?;
                }
                entries.push(e);
            }
            obs.progress(chunk.len() as u64);
            crate::transaction::fault("index-rebuild:docs");
        }
        obs.indexed();
        commit(&mut writer, 1)?;
        writer.wait_merging_threads()?;
        crate::transaction::fault("index-rebuild:committed");
        let head = head_of(root);
        let manifest = Manifest::build(FORMAT_VERSION, 1, scan_start, head.clone(), entries);
        manifest
            .write(&dir.join(MANIFEST))
            .map_err(io_err("cannot write the index manifest"))?;
        if let Some(t) = &token {
            Self::keep_token(&dir, t, manifest.generation);
        }
        crate::transaction::fault("index-rebuild:manifest");
        // the switch: one atomic rename
        crate::edit::write_atomic(&self.dir.join(CURRENT), format!("{name}\n").as_bytes())
            .map_err(io_err("cannot switch to the new index"))?;
        crate::transaction::fault("index-rebuild:switched");
        self.collect_garbage(&name);
        let report = Report {
            full: true,
            reason: Some(reason),
            added: manifest.records(),
            records: manifest.records(),
            skipped: manifest.skipped(),
            head,
            scan: "rebuild",
            ..Default::default()
        };
        let index = Index::open_in_dir(&dir)?;
        register(&index);
        let reader = reader_of(&index)?;
        Ok((
            Opened {
                name,
                dir,
                index,
                reader,
                fields: f,
                manifest,
            },
            report,
        ))
    }

    /// When an index folder other than `o`'s is left (by a killed rebuild
    /// or an older index) and no other process holds the lock (so none is
    /// building one right now), remove it.
    fn collect_garbage_if_free(&self, o: &Opened) {
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let stale = rd.flatten().any(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n.starts_with(INDEX_PREFIX) && n != o.name.as_str()
        });
        if !stale {
            return;
        }
        let Ok(f) = crate::repo::open_lock_file(&self.dir.join(LOCK)) else {
            return;
        };
        if f.try_lock().is_ok() && self.current().as_deref() == Some(o.name.as_str()) {
            self.collect_garbage(&o.name);
        }
    }

    /// Remove index directories other than `keep` (left by an older index
    /// or a killed rebuild); only under the lock, so that no other process
    /// is building one. Readers that still have one open keep reading
    /// their open files.
    fn collect_garbage(&self, keep: &str) {
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for e in rd.flatten() {
            let n = e.file_name();
            let n = n.to_string_lossy();
            if n.starts_with(INDEX_PREFIX) && n != keep {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }

    /// Answer `query` with the best `limit` hits, refreshing the index
    /// first unless `refresh` is false (then only a missing or damaged
    /// index is built).
    pub fn search(
        &self,
        query: &str,
        limit: usize,
        refresh: bool,
        obs: &dyn Observer,
    ) -> Result<Results, SearchError> {
        let node = query::parse(query)?;
        let (o, refreshed) = match (refresh, self.open_state()) {
            (false, State::Ready(o)) => (*o, None),
            _ => self.fresh(obs)?,
        };
        let q = node.compile(&o.fields).ok_or_else(|| {
            QueryError(format!(
                "`{query}` has nothing to search for (no letters or digits)"
            ))
        })?;
        let highlights = node.highlights();
        let (hits, total, o) = match guarded(|| answer(&o, &*q, limit, &highlights)) {
            Ok((hits, total)) => (hits, total, o),
            // damage that only shows when reading: rebuild and ask again
            Err(SearchError::Index(e)) => {
                drop(o);
                let _lock = self.lock(obs)?;
                let (o, _) = self.rebuild(format!("it failed to answer: {e}"), obs)?;
                let (hits, total) = answer(&o, &*q, limit, &highlights)?;
                (hits, total, o)
            }
            Err(e) => return Err(e),
        };
        let skipped = o.manifest.skipped();
        Ok(Results {
            hits,
            total,
            refreshed,
            unreadable: self.unreadable(&skipped),
            skipped,
        })
    }
}

/// Run `f`, turning a panic inside tantivy (it panics on some damaged
/// files) into an index error, so that the index is rebuilt.
fn guarded<T>(f: impl FnOnce() -> Result<T, SearchError>) -> Result<T, SearchError> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(previous);
    r.unwrap_or_else(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a damaged file".into());
        Err(SearchError::Index(tantivy::TantivyError::InternalError(
            msg,
        )))
    })
}

/// The payload of the index's last commit, read from disk.
fn payload_of(index: &Index) -> Option<Payload> {
    let p = index.load_metas().ok()?.payload?;
    serde_json::from_str::<Payload>(&p).ok()
}

fn reader_of(index: &Index) -> tantivy::Result<IndexReader> {
    index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()
}

/// Run a compiled query: the best `limit` hits, and how many matched.
fn answer(
    o: &Opened,
    q: &dyn tantivy::query::Query,
    limit: usize,
    highlights: &query::Highlights,
) -> Result<(Vec<Hit>, usize), SearchError> {
    let searcher = o.reader.searcher();
    let top = TopDocs::with_limit(limit.max(1)).tweak_score(|seg: &SegmentReader| {
        let col = seg.fast_fields().u64("order").ok();
        move |doc, score| {
            let key = col.as_ref().and_then(|c| c.first(doc)).unwrap_or(0);
            (score, key)
        }
    });
    let (top, total) = searcher.search(q, &(top, Count))?;
    let mut hits = Vec::with_capacity(top.len());
    for ((score, _), addr) in top.into_iter().take(limit) {
        hits.push(hit(&searcher, &o.fields, addr, score, highlights)?);
    }
    hits.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.display_name.cmp(&b.display_name))
            .then_with(|| a.path.cmp(&b.path))
    });
    Ok((hits, total))
}

fn hit(
    searcher: &tantivy::Searcher,
    f: &Fields,
    addr: DocAddress,
    score: f32,
    h: &query::Highlights,
) -> Result<Hit, SearchError> {
    use tantivy::schema::Value;
    let doc: TantivyDocument = searcher.doc(addr)?;
    let s = |field| {
        doc.get_first(field)
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    };
    let lines: Vec<&str> = doc.get_all(f.text).filter_map(|v| v.as_str()).collect();
    let shown: Vec<&str> = doc.get_all(f.shown).filter_map(|v| v.as_str()).collect();
    let at = |i: usize| shown.get(i).copied().unwrap_or("").to_string();
    let owner = at(1);
    Ok(Hit {
        id: at(0),
        path: s(f.path),
        display_name: s(f.display),
        owner: (!owner.is_empty()).then_some(owner),
        tier: at(2),
        stage: at(3),
        score,
        snippet: snippet::best(&lines, h),
    })
}

fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4)
}

fn commit(writer: &mut IndexWriter<TantivyDocument>, generation: u64) -> Result<(), SearchError> {
    let payload = serde_json::to_string(&Payload {
        format: FORMAT_VERSION,
        generation,
    })
    .unwrap_or_default();
    let mut pc = writer.prepare_commit()?;
    pc.set_payload(&payload);
    pc.commit()?;
    Ok(())
}

/// Keep the segment count low after updates: once more than 8 small
/// segments (each under a sixteenth of the records) piled up, merge them
/// into one; merge everything once deleted records make up a third of the
/// index. A one-record update never merges the big segments of a rebuild.
fn compact(index: &Index, writer: &mut IndexWriter<TantivyDocument>) -> Result<(), SearchError> {
    let metas = index.searchable_segment_metas()?;
    let total: u64 = metas.iter().map(|m| u64::from(m.max_doc())).sum();
    let deleted: u64 = metas.iter().map(|m| u64::from(m.num_deleted_docs())).sum();
    let ids: Vec<_> = if metas.len() > 1 && deleted * 3 > total {
        metas.iter().map(|m| m.id()).collect()
    } else {
        let small: Vec<_> = metas
            .iter()
            .filter(|m| u64::from(m.max_doc()) * 16 < total)
            .map(|m| m.id())
            .collect();
        if small.len() <= 8 {
            return Ok(());
        }
        small
    };
    writer.merge(&ids).wait()?;
    Ok(())
}
