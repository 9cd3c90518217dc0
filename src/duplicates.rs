//! Duplicate customers (placeholder until the duplicates rules land).
use crate::config::DuplicatesConfig;
use crate::diagnostics::Diagnostic;
use crate::repo::Record;

pub fn diagnostics(_records: &[Record], _cfg: &DuplicatesConfig) -> Vec<Diagnostic> {
    Vec::new()
}

/// Conflicts of a would-be record with existing ones (for `folio new`).
pub fn conflicts_for(
    _c: &crate::records::Customer,
    _records: &[Record],
    _cfg: &DuplicatesConfig,
) -> Vec<String> {
    Vec::new()
}
