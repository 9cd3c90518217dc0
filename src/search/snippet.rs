//! Snippets: the stored text line that best matches a query, trimmed to a
//! window around the first match, with the matching characters marked.

use super::query::Highlights;
use super::tokenize::{self, Mode};
use serde::Serialize;

/// Characters of context kept before the first match in a long line.
const BEFORE: usize = 40;
/// Longest snippet, in characters.
const WIDTH: usize = 120;

/// A snippet and the byte ranges of `text` to highlight.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Snippet {
    pub text: String,
    #[serde(skip)]
    pub ranges: Vec<(usize, usize)>,
}

impl Snippet {
    /// The snippet with every match wrapped by `mark`.
    pub fn marked(&self, mark: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        let mut at = 0;
        for &(a, b) in &self.ranges {
            out.push_str(&self.text[at..a]);
            out.push_str(&mark(&self.text[a..b]));
            at = b;
        }
        out.push_str(&self.text[at..]);
        out
    }

    /// Match ranges as character offsets (for JSON consumers).
    pub fn char_ranges(&self) -> Vec<(usize, usize)> {
        let idx = |b: usize| self.text[..b].chars().count();
        self.ranges.iter().map(|&(a, b)| (idx(a), idx(b))).collect()
    }
}

fn line_matches(
    line: &str,
    h: &Highlights,
    toks: &mut Vec<tokenize::Tok>,
) -> (usize, Vec<(usize, usize)>) {
    let mut ranges = Vec::new();
    let mut distinct = std::collections::BTreeSet::new();
    tokenize::tokenize(line, Mode::Index, toks);
    for t in toks.iter() {
        if h.terms.contains(&t.text) {
            ranges.push((t.from, t.to));
            distinct.insert(t.text.clone());
        } else if let Some(p) = h.prefixes.iter().find(|p| t.text.starts_with(p.as_str())) {
            // highlight the first character of the bigram
            let first = line[t.from..].chars().next().map_or(0, char::len_utf8);
            ranges.push((t.from, t.from + first));
            distinct.insert(p.clone());
        }
    }
    if !h.phones.is_empty() {
        let d = tokenize::digits(line);
        for p in &h.phones {
            if !p.is_empty() && d.starts_with(p.as_str()) {
                // from the first digit to the last digit of the prefix
                let mut seen = 0;
                let mut start = None;
                let mut end = 0;
                for (i, c) in line.char_indices() {
                    if c.is_ascii_digit() {
                        start.get_or_insert(i);
                        seen += 1;
                        if seen == p.len() {
                            end = i + 1;
                            break;
                        }
                    }
                }
                if let Some(s) = start {
                    ranges.push((s, end));
                    distinct.insert(format!("phone:{p}"));
                }
            }
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (a, b) in ranges {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    (distinct.len(), merged)
}

/// The best snippet among a document's stored lines; empty when no line
/// holds a highlighted term (a query of filters only).
pub fn best(lines: &[&str], h: &Highlights) -> Snippet {
    let mut toks = Vec::new();
    // (distinct terms matched, line index, ranges)
    type Best = (usize, usize, Vec<(usize, usize)>);
    let mut best: Option<Best> = None;
    for (i, line) in lines.iter().enumerate() {
        let (score, ranges) = line_matches(line, h, &mut toks);
        if score > 0 && best.as_ref().is_none_or(|b| score > b.0) {
            best = Some((score, i, ranges));
        }
    }
    let Some((_, i, ranges)) = best else {
        return Snippet::default();
    };
    window(lines[i], ranges)
}

/// Cut a long line to a window around its first match.
fn window(line: &str, ranges: Vec<(usize, usize)>) -> Snippet {
    let line = line.trim_end();
    let chars = line.chars().count();
    let flat = |s: &str| s.replace(['\n', '\r', '\t'], " ");
    if chars <= WIDTH {
        let ranges = ranges.into_iter().filter(|r| r.1 <= line.len()).collect();
        return Snippet {
            text: flat(line),
            ranges,
        };
    }
    let first = ranges.first().map_or(0, |r| r.0);
    let first_char = line[..first].chars().count();
    let start_char = first_char
        .saturating_sub(BEFORE)
        .min(chars.saturating_sub(WIDTH));
    let byte_at = |n: usize| line.char_indices().nth(n).map_or(line.len(), |(i, _)| i);
    let start = byte_at(start_char);
    let end = byte_at(start_char + WIDTH);
    let prefix = if start > 0 { "…" } else { "" };
    let suffix = if end < line.len() { "…" } else { "" };
    let shift = prefix.len();
    let ranges = ranges
        .into_iter()
        .filter(|&(a, b)| a >= start && b <= end)
        .map(|(a, b)| (a - start + shift, b - start + shift))
        .collect();
    Snippet {
        text: format!("{prefix}{}{suffix}", flat(&line[start..end])),
        ranges,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(q: &str) -> Highlights {
        super::super::query::parse(q).unwrap().highlights()
    }

    #[test]
    fn highlights_words_cjk_and_phones() {
        let s = best(
            &["Atlas Pump GmbH", "客户正在对比上海某供应商的报价"],
            &h("上海"),
        );
        assert_eq!(
            s.marked(|m| format!("[{m}]")),
            "客户正在对比[上海]某供应商的报价"
        );
        let s = best(&["Hans Müller", "x"], &h("muller"));
        assert_eq!(s.marked(|m| format!("[{m}]")), "Hans [Müller]");
        let s = best(&["+49 30 1234567"], &h("+49 30 123"));
        assert_eq!(s.marked(|m| format!("[{m}]")), "+[49 30 123]4567");
        let s = best(&["对比上海"], &h("海"));
        assert_eq!(s.marked(|m| format!("[{m}]")), "对比上[海]");
        assert_eq!(best(&["abc"], &h("tier:A")), Snippet::default());
        assert_eq!(s.char_ranges(), [(3, 4)]);
    }

    #[test]
    fn long_lines_are_windowed() {
        let line = format!("{} needle {}", "a ".repeat(100), "b ".repeat(100));
        let s = best(&[&line], &h("needle"));
        assert!(s.text.starts_with('…') && s.text.ends_with('…'));
        assert!(s.marked(|m| format!("[{m}]")).contains("[needle]"));
        assert!(s.text.chars().count() <= WIDTH + 2);
    }
}
