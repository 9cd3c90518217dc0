//! folio: an export sales team's customers as TOML files in a git repository.
//!
//! The library does the work and returns data; `cli` is the only layer that
//! prints. Modules follow the domain:
//!
//! - [`records`]: the customer model and parsing a file with diagnostics
//! - [`fields`]: the built-in fields of a record, declared once
//! - [`schema`]: the built-in and team schema, validation, JSON Schema export
//! - [`naming`]: the `Company-Contact-CountryCode` rule and rule paths
//! - [`duplicates`]: duplicate customers and multi-title conflicts
//! - [`check`]: every rule over the repository
//! - [`config`], [`repo`]: settings, staff, and the repository's files
//! - [`session`]: the one edit session every writer goes through
//! - [`edit`]: format-preserving edits of a record's text
//! - [`transaction`]: many files written all or nothing
//! - [`git`]: the git operations the commands share
//! - [`followups`]: due dates of follow-ups and tag hints (pure rules)
//! - [`resolve`]: the record a command-line argument names
//! - [`review`]: when each record last changed in git (stale records)
//! - [`history`]: who changed what and who owned each customer when (a cache of git history)
//! - [`handover`], [`pool`]: handing accounts over, and the public pool's claims
//! - [`search`]: the full-text index of the records, always fresh
//! - [`import`], [`export`], [`merge`]: spreadsheets in and out, and merging duplicates
//! - [`diagnostics`], [`output`]: findings as data, and their renderers
//! - [`error`]: the kinds of failure (user, config, refused, internal)

pub mod check;
pub mod cli;
pub mod config;
pub mod diagnostics;
pub mod duplicates;
pub mod edit;
pub mod error;
pub mod export;
pub mod fields;
pub mod followups;
pub mod git;
pub mod group;
pub mod handover;
pub mod history;
pub mod import;
pub mod merge;
pub mod naming;
pub mod output;
pub mod pool;
pub mod records;
pub mod repo;
pub mod resolve;
pub mod review;
pub mod schema;
pub mod search;
pub mod session;
pub mod transaction;
pub mod watch;
