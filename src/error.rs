//! The one error model: every failure has a kind, which the command layer
//! maps to an exit status (README's table) and renders as `error:`, then
//! `caused by:` for each cause not already in the message, then `hint:`.

/// What kind of failure it is: who can do something about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The command line or its input: a bad argument, an unknown customer,
    /// a malformed query or import file, a missing repository.
    User,
    /// The repository's settings: folio.toml, staff.toml or a schema file
    /// is invalid.
    Config,
    /// folio refused, to keep data safe: uncommitted changes, a merge in
    /// progress, a file changed meanwhile, an edit that would make a record
    /// invalid, a refused commit, a journal it did not write.
    Refused,
    /// The system failed: a file or git could not be read or written.
    Internal,
}

impl Kind {
    /// The kind of an error from its chain of causes: an operating-system
    /// or git failure is internal (a missing file is the user's, an input
    /// folio will not take a refusal), anything else is the user's.
    pub fn of(e: &(dyn std::error::Error + 'static)) -> Kind {
        let mut at: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(x) = at {
            if let Some(io) = x.downcast_ref::<std::io::Error>() {
                return match io.kind() {
                    std::io::ErrorKind::NotFound => Kind::User,
                    // what folio will not do with a file it was given
                    std::io::ErrorKind::InvalidInput => Kind::Refused,
                    _ => Kind::Internal,
                };
            }
            if x.downcast_ref::<git2::Error>().is_some() {
                return Kind::Internal;
            }
            at = x.source();
        }
        Kind::User
    }
}
