//! Renderers: diagnostics and summaries as text for people (rustc-style,
//! coloured when the stream allows), JSON for machines, and GitHub Actions
//! workflow commands. Renderers return strings; the command layer prints.

use crate::diagnostics::{Diagnostic, Severity, Summary};
use anstyle::{AnsiColor, Style};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write;
use std::path::Path;

/// Styles used in human output (plain when colour is off: anstream strips
/// them on the way out).
pub mod style {
    use super::*;
    pub const ERROR: Style = AnsiColor::Red.on_default().bold();
    pub const WARNING: Style = AnsiColor::Yellow.on_default().bold();
    pub const NOTE: Style = AnsiColor::Cyan.on_default().bold();
    pub const GUTTER: Style = AnsiColor::Blue.on_default().bold();
    pub const BOLD: Style = Style::new().bold();
    pub const DIM: Style = Style::new().dimmed();
    pub const GOOD: Style = AnsiColor::Green.on_default().bold();
    /// A search match in a snippet.
    pub const MATCH: Style = AnsiColor::Yellow.on_default().bold();

    /// Every style folio writes: their escape codes (and the reset) are the
    /// only ones human output lets through (`visible_controls`).
    pub const ALL: &[Style] = &[ERROR, WARNING, NOTE, GUTTER, BOLD, DIM, GOOD, MATCH];

    /// `text` wrapped in a style's escape codes.
    pub fn paint(s: Style, text: impl std::fmt::Display) -> String {
        format!("{s}{text}{s:#}")
    }
}
use style::paint;

/// The escape sequences of folio's own styles (`style::ALL`) and the
/// reset, longest first.
fn own_sequences() -> &'static [String] {
    static SEQ: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    SEQ.get_or_init(|| {
        let mut v: Vec<String> = style::ALL
            .iter()
            .flat_map(|s| [format!("{s}"), format!("{s:#}")])
            .filter(|s| !s.is_empty())
            .collect();
        v.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        v.dedup();
        v
    })
}

/// Human output as it may reach a terminal: every control character
/// (escape, BEL, carriage return, DEL, the C1 controls such as U+009B)
/// written visibly as `\u{1b}`, except newline, tab and the escape codes
/// of folio's own styles. A record cannot set the terminal's title, move
/// the cursor or write a link through `search`, `check` or any other
/// human output. The same whether or not the output is a terminal.
pub fn visible_controls(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().all(shown_as_is) {
        return std::borrow::Cow::Borrowed(s);
    }
    let own = own_sequences();
    let mut out = String::with_capacity(s.len() + 16);
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if shown_as_is(c) {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        } else if let Some(seq) = (c == '\x1b')
            .then(|| own.iter().find(|q| rest.starts_with(q.as_str())))
            .flatten()
        {
            out.push_str(seq);
            rest = &rest[seq.len()..];
        } else {
            let _ = write!(out, "{}", c.escape_unicode());
            rest = &rest[c.len_utf8()..];
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Whether human output shows `c` as it is (`visible_controls`).
fn shown_as_is(c: char) -> bool {
    !c.is_control() || c == '\n' || c == '\t'
}

/// How many columns `c` takes once `visible_controls` has shown it.
fn shown_width(c: char) -> usize {
    if shown_as_is(c) {
        1
    } else {
        c.escape_unicode().count()
    }
}

fn sev_style(s: Severity) -> Style {
    match s {
        Severity::Error => style::ERROR,
        Severity::Warning => style::WARNING,
    }
}

/// Human diagnostics with source snippets. `root` is where the paths are
/// read from for the snippets.
pub fn human_diagnostics(diags: &[Diagnostic], root: &Path) -> String {
    let mut out = String::new();
    let mut texts: HashMap<&str, Option<String>> = HashMap::new();
    for d in diags {
        let pos = match (d.line, d.column) {
            (Some(l), Some(c)) => format!(":{l}:{c}"),
            (Some(l), None) => format!(":{l}"),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "{}{}: {}: {}",
            paint(style::BOLD, &d.path),
            paint(style::BOLD, pos),
            paint(
                sev_style(d.severity),
                format!("{}[{}]", d.severity.as_str(), d.code.as_str())
            ),
            paint(style::BOLD, &d.message)
        );
        let text = texts.entry(d.path.as_str()).or_insert_with(|| {
            crate::repo::read_repo_file(root, &d.path)
                .ok()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
        });
        let width = d.line.map(|l| l.to_string().len()).unwrap_or(1);
        let pad = " ".repeat(width);
        if let (Some(text), Some(line)) = (text.as_deref(), d.line)
            && let Some(src) = text.lines().nth(line as usize - 1)
        {
            let src = src.trim_end_matches('\r');
            let col = d.column.unwrap_or(1) as usize;
            let line_chars = src.chars().count();
            let span_chars = d
                .span
                .as_ref()
                .and_then(|s| text.get(s.clone()))
                .map(|s| s.lines().next().unwrap_or("").chars().count())
                .unwrap_or(1);
            let len = span_chars.clamp(1, line_chars.saturating_sub(col - 1).max(1));
            let _ = writeln!(out, "{pad} {}", paint(style::GUTTER, "|"));
            let _ = writeln!(
                out,
                "{} {} {}",
                paint(style::GUTTER, line),
                paint(style::GUTTER, "|"),
                src
            );
            // under the line as it is shown (a control character is wider)
            let lead: String = src
                .chars()
                .take(col - 1)
                .map(|c| match c {
                    '\t' => "\t".to_string(),
                    c => " ".repeat(shown_width(c)),
                })
                .collect();
            let _ = writeln!(
                out,
                "{pad} {} {lead}{}",
                paint(style::GUTTER, "|"),
                paint(sev_style(d.severity), "^".repeat(len))
            );
        }
        if let Some(h) = &d.hint {
            let _ = writeln!(
                out,
                "{pad} {} {}: {h}",
                paint(style::GUTTER, "="),
                paint(style::BOLD, "help")
            );
        }
        out.push('\n');
    }
    out
}

/// `checked N files: 2 errors, 1 warning`.
pub fn human_summary(s: &Summary) -> String {
    let files = plural(s.files, "file");
    if s.errors == 0 && s.warnings == 0 {
        return format!(
            "{} checked {files}: no problems\n",
            paint(style::GOOD, "ok:")
        );
    }
    let mut parts = Vec::new();
    if s.errors > 0 {
        parts.push(paint(style::ERROR, plural(s.errors, "error")));
    }
    if s.warnings > 0 {
        parts.push(paint(style::WARNING, plural(s.warnings, "warning")));
    }
    format!("checked {files}: {}\n", parts.join(", "))
}

/// `1 file`, `2 files`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    path: &'a str,
    line: Option<u32>,
    column: Option<u32>,
    severity: Severity,
    code: &'a str,
    name: &'a str,
    message: &'a str,
    field: Option<&'a str>,
    hint: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    diagnostics: Vec<JsonDiagnostic<'a>>,
    summary: &'a Summary,
}

/// The JSON report of `folio check --format json` (docs/json.md).
pub fn json_diagnostics(diags: &[Diagnostic], summary: &Summary) -> String {
    let report = JsonReport {
        diagnostics: diags
            .iter()
            .map(|d| JsonDiagnostic {
                path: &d.path,
                line: d.line,
                column: d.column,
                severity: d.severity,
                code: d.code.as_str(),
                name: d.code.name(),
                message: &d.message,
                field: d.field.as_deref(),
                hint: d.hint.as_deref(),
            })
            .collect(),
        summary,
    };
    let mut s = serde_json::to_string_pretty(&report).expect("serialisable");
    s.push('\n');
    s
}

fn gh_escape(s: &str, property: bool) -> String {
    let mut o = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        o = o.replace(':', "%3A").replace(',', "%2C");
    }
    o
}

/// GitHub Actions workflow commands (`::error file=...::message`).
pub fn github_diagnostics(diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        let mut props = vec![format!("file={}", gh_escape(&d.path, true))];
        if let Some(l) = d.line {
            props.push(format!("line={l}"));
        }
        if let Some(c) = d.column {
            props.push(format!("col={c}"));
        }
        props.push(format!(
            "title={}",
            gh_escape(&format!("{} {}", d.code.as_str(), d.code.name()), true)
        ));
        let mut msg = d.message.clone();
        if let Some(h) = &d.hint {
            msg.push_str("\nhelp: ");
            msg.push_str(h);
        }
        let _ = writeln!(
            out,
            "::{} {}::{}",
            d.severity.as_str(),
            props.join(","),
            gh_escape(&msg, false)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Code;

    #[test]
    fn controls_are_shown_but_own_styles_kept() {
        let own = paint(style::ERROR, "error:");
        let text = format!("{own} a\x1b]0;pwned\x07 b\x1b[31mc\u{9b}d\re\u{7f}\tf\n");
        assert_eq!(
            visible_controls(&text),
            format!(
                "{own} a\\u{{1b}}]0;pwned\\u{{7}} b\\u{{1b}}[31mc\\u{{9b}}d\\u{{d}}e\\u{{7f}}\tf\n"
            )
        );
        assert!(matches!(
            visible_controls("plain\ttext\n"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn github_escapes() {
        let d = Diagnostic::error(Code::Syntax, "a,b.toml", "x: 100%\nnext");
        assert_eq!(
            github_diagnostics(&[d]),
            "::error file=a%2Cb.toml,title=F001 toml-syntax::x: 100%25%0Anext\n"
        );
    }
}
