//! Findings as data: every rule reports a [`Diagnostic`]; renderers in
//! `output` turn them into text, JSON or GitHub annotations.

use serde::Serialize;
use std::ops::Range;

/// How bad a finding is. Errors fail `folio check`; warnings fail it only
/// with `--deny-warnings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

macro_rules! codes {
    ($($variant:ident = $code:literal, $name:literal, $doc:literal;)*) => {
        /// Stable diagnostic codes, one per rule (documented in docs/check.md).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $($variant,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];
            /// The code, such as `F101`.
            pub fn as_str(self) -> &'static str { match self { $(Code::$variant => $code,)* } }
            /// A short kebab-case name, such as `unknown-key`.
            pub fn name(self) -> &'static str { match self { $(Code::$variant => $name,)* } }
            /// One line on what the rule checks.
            pub fn doc(self) -> &'static str { match self { $(Code::$variant => $doc,)* } }
        }
    };
}

codes! {
    Syntax = "F001", "toml-syntax", "the file is not valid TOML";
    Encoding = "F002", "encoding", "the file is not UTF-8 text";
    NotAFile = "F003", "not-a-file", "a record is a symlink, device or other non-regular file";
    Io = "F004", "io", "the file could not be read";
    NotRecord = "F005", "not-a-record", "a file under customers/ does not end in .toml";
    TooLarge = "F006", "too-large", "a record file is larger than folio reads (10 MB)";
    UnknownKey = "F101", "unknown-key", "a key the schema does not know (with a did-you-mean)";
    MissingKey = "F102", "missing-key", "a required key is missing";
    WrongType = "F103", "wrong-type", "a value has the wrong TOML type";
    BadEnum = "F104", "bad-enum", "a value is not one of the allowed values";
    BadFormat = "F105", "bad-format", "a value is malformed (id, country, currency, e-mail, URL, phone, tag, handle)";
    NotFinite = "F106", "not-finite", "a number is not finite (nan, inf, or too large for a number)";
    LostReason = "F201", "lost-reason", "stage is lost but lost_reason is missing";
    BeforeCreated = "F202", "before-created", "a follow-up, quote or order is dated before the record was created";
    FutureDate = "F203", "future-date", "a follow-up, quote or order is dated after the as-of date";
    NextBeforeDate = "F204", "next-before-date", "a follow-up's next date is before its own date";
    DuplicateId = "F301", "duplicate-id", "two records share an id";
    Misnamed = "F302", "misnamed", "the file's path is not the naming rule's path";
    CaseCollision = "F303", "case-collision", "two paths differ only in letter case";
    Unportable = "F304", "unportable-path", "a path cannot be checked out on Windows or macOS";
    AmbiguousName = "F305", "ambiguous-name", "two records would share a path and nothing tells them apart";
    UnknownStaff = "F401", "unknown-staff", "owner or followups.by is not a handle in staff.toml";
    InactiveOwner = "F402", "inactive-owner", "a customer is owned by someone no longer active";
    DuplicateName = "F501", "duplicate-name", "two records share a normalised company name or title";
    DuplicateRegistration = "F502", "duplicate-registration", "two records share a registration code";
    DuplicateEmail = "F503", "duplicate-email", "two records share a contact e-mail";
    SimilarName = "F504", "similar-name", "two records have near-identical names";
    SharedDomain = "F505", "shared-domain", "two records outside one group share a web or e-mail domain";
    SharedPhone = "F506", "shared-phone", "two records outside one group share a phone number";
    Config = "F601", "config", "folio.toml, staff.toml or a schema file is invalid";
    ClaimLimit = "F701", "claim-limit", "a pull request claims more pool customers than the limits allow";
    Cooldown = "F702", "claim-cooldown", "a salesperson reclaimed a customer within the cooldown";
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One finding in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Path relative to the repository root, with `/` separators.
    pub path: String,
    /// 1-based line and column (in characters), where known.
    pub line: Option<u32>,
    pub column: Option<u32>,
    /// Byte span in the file, for the source snippet.
    pub span: Option<Range<usize>>,
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    /// Dotted field path, such as `followups[2].by`.
    pub field: Option<String>,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(
        severity: Severity,
        code: Code,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            path: path.into(),
            line: None,
            column: None,
            span: None,
            severity,
            code,
            message: message.into(),
            field: None,
            hint: None,
        }
    }
    pub fn error(code: Code, path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, path, message)
    }
    pub fn warning(code: Code, path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, path, message)
    }
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    pub fn with_span(mut self, span: Range<usize>) -> Self {
        self.span = Some(span);
        self
    }
    /// Fill line and column from the span and the file's text.
    pub fn locate(&mut self, text: &str) {
        if let Some(span) = &self.span {
            let (l, c) = line_col(text, span.start);
            self.line = Some(l);
            self.column = Some(c);
        }
    }
}

/// 1-based line and character column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(text.len());
    let mut start = offset;
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let before = &text[..start];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = text[line_start..start].chars().count() + 1;
    (line as u32, col as u32)
}

/// Counts for a summary line.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub files: usize,
    pub errors: usize,
    pub warnings: usize,
}

impl Summary {
    pub fn of(files: usize, diags: &[Diagnostic]) -> Summary {
        let errors = diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        Summary {
            files,
            errors,
            warnings: diags.len() - errors,
        }
    }
}

/// The closest candidate to a misspelt word, if one is close enough.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let w = word.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = levenshtein(&w, &c.to_lowercase());
        let limit = c.chars().count().max(w.chars().count()) / 3;
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let t = "a = 1\nname = \"Müller\" x\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        let x = t.find(" x").unwrap() + 1;
        assert_eq!(line_col(t, x), (2, 17));
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("tierr", ["tier", "stage", "type"]),
            Some("tier")
        );
        assert_eq!(did_you_mean("ownr", ["owner", "tier"]), Some("owner"));
        assert_eq!(did_you_mean("zzzzzz", ["owner", "tier"]), None);
    }

    #[test]
    fn codes_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()), "{}", c.as_str());
        }
    }
}
