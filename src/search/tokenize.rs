//! The tokenizer behind every text field of the search index.
//!
//! - Words are split by Unicode word boundaries (UAX #29), so Latin,
//!   Cyrillic, Arabic, Greek and other space-separated scripts are found by
//!   word.
//! - Runs of Han, Kana and Hangul characters (written without spaces) become
//!   overlapping bigrams: "上海某供应商" gives 上海 海某 某供 供应 应商, so any run
//!   of two or more characters of the text is found by a phrase of bigrams.
//!   At index time the last character of every run is also indexed on its
//!   own, so that a one-character query can be answered by a prefix lookup
//!   (every character of a run starts a bigram, or is the last one).
//! - Every token is NFKC-normalised and lower-cased; Latin letters lose their
//!   accents (`Müller` → `muller`, `ß` → `ss`), combining marks and Arabic
//!   harakat are dropped, `ё` reads as `е`, and apostrophes vanish
//!   (`O'Brien` → `obrien`). Offsets always point into the original text, so
//!   snippets highlight the right characters.

use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

/// Tokens longer than this are dropped (tantivy's limit is 65 530 bytes).
const MAX_TOKEN_BYTES: usize = 255;

/// One token: normalised text, byte range in the original, position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tok {
    pub text: String,
    pub from: usize,
    pub to: usize,
    pub position: usize,
    /// A CJK character indexed on its own (only in index mode).
    pub single: bool,
}

/// Whether tokens are made for the index (with the extra last-character
/// unigram of CJK runs) or for a query (bigrams only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Index,
    Query,
}

/// Characters written without spaces between words: Han (with the
/// iteration mark), Hiragana, Katakana (full and half width) and Hangul.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3005 | 0x3007
        | 0x3040..=0x30FF   // Hiragana, Katakana
        | 0x31F0..=0x31FF   // Katakana phonetic extensions
        | 0x3400..=0x4DBF   // CJK extension A
        | 0x4E00..=0x9FFF   // CJK unified ideographs
        | 0xF900..=0xFAFF   // compatibility ideographs
        | 0xFF66..=0xFF9F   // half-width Katakana
        | 0x1100..=0x11FF   // Hangul Jamo
        | 0x3130..=0x318F   // Hangul compatibility Jamo
        | 0xAC00..=0xD7AF   // Hangul syllables
        | 0x20000..=0x2FA1F // CJK extensions B..F, compatibility supplement
    )
}

fn is_dropped(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F     // combining diacritical marks
        | 0x064B..=0x065F   // Arabic harakat
        | 0x0670            // Arabic superscript alef
        | 0x0640            // Arabic tatweel
        | 0x200B..=0x200D   // zero-width space, joiners
        | 0xFEFF
    ) || c == '\''
        || c == '\u{2019}'
}

fn is_latin_extended(c: char) -> bool {
    matches!(c as u32, 0x00C0..=0x024F | 0x1E00..=0x1EFF)
}

/// Normalise a piece of text the way every token is normalised.
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    if s.is_ascii() {
        for c in s.chars() {
            if c != '\'' {
                out.push(c.to_ascii_lowercase());
            }
        }
        return out;
    }
    for c in s.nfkc() {
        for l in c.to_lowercase() {
            if is_dropped(l) {
                continue;
            }
            if l == 'ё' {
                out.push('е');
            } else if is_latin_extended(l) {
                match deunicode::deunicode_char(l) {
                    Some(a) => {
                        for x in a.chars() {
                            out.push(x.to_ascii_lowercase());
                        }
                    }
                    None => out.push(l),
                }
            } else {
                out.push(l);
            }
        }
    }
    out
}

/// Tokenise `text` into `out` (cleared first).
pub fn tokenize(text: &str, mode: Mode, out: &mut Vec<Tok>) {
    out.clear();
    let mut t = Tokenizer {
        out,
        position: 0,
        run: Vec::new(),
        run_end: usize::MAX,
        mode,
    };
    for (off, seg) in text.split_word_bound_indices() {
        // a segment may mix CJK and other letters ("abc한국"): split it
        let mut start = 0;
        let mut cjk: Option<bool> = None;
        for (i, c) in seg.char_indices() {
            let k = is_cjk(c);
            match cjk {
                Some(prev) if prev != k => {
                    t.span(text, off + start, off + i, prev);
                    start = i;
                    cjk = Some(k);
                }
                None => cjk = Some(k),
                _ => {}
            }
        }
        if let Some(k) = cjk {
            t.span(text, off + start, off + seg.len(), k);
        }
    }
    t.flush(text);
}

/// Tokens of `text` as a list (for tests and queries).
pub fn tokens(text: &str, mode: Mode) -> Vec<Tok> {
    let mut v = Vec::new();
    tokenize(text, mode, &mut v);
    v
}

struct Tokenizer<'o> {
    out: &'o mut Vec<Tok>,
    position: usize,
    /// The current CJK run: (byte offset, char).
    run: Vec<(usize, char)>,
    run_end: usize,
    mode: Mode,
}

impl Tokenizer<'_> {
    fn span(&mut self, text: &str, from: usize, to: usize, cjk: bool) {
        let s = &text[from..to];
        if cjk {
            if !self.run.is_empty() && self.run_end != from {
                self.flush(text);
            }
            self.run
                .extend(s.char_indices().map(|(i, c)| (from + i, c)));
            self.run_end = to;
            return;
        }
        self.flush(text);
        if !s.chars().any(char::is_alphanumeric) {
            return;
        }
        let norm = normalize(s);
        if norm.is_empty() || norm.len() > MAX_TOKEN_BYTES {
            return;
        }
        self.out.push(Tok {
            text: norm,
            from,
            to,
            position: self.position,
            single: false,
        });
        self.position += 1;
    }

    fn flush(&mut self, text: &str) {
        let run = std::mem::take(&mut self.run);
        self.run_end = usize::MAX;
        if run.is_empty() {
            return;
        }
        let end_of = |i: usize| {
            run.get(i + 1)
                .map(|x| x.0)
                .unwrap_or_else(|| run[i].0 + run[i].1.len_utf8())
        };
        if run.len() == 1 {
            let (from, _) = run[0];
            let to = end_of(0);
            self.out.push(Tok {
                text: normalize(&text[from..to]),
                from,
                to,
                position: self.position,
                single: true,
            });
            self.position += 1;
            return;
        }
        for (i, &(from, _)) in run.iter().enumerate().take(run.len() - 1) {
            let to = end_of(i + 1);
            self.out.push(Tok {
                text: normalize(&text[from..to]),
                from,
                to,
                position: self.position,
                single: false,
            });
            self.position += 1;
        }
        if self.mode == Mode::Index {
            let last = run.len() - 1;
            let from = run[last].0;
            let to = end_of(last);
            self.out.push(Tok {
                text: normalize(&text[from..to]),
                from,
                to,
                position: self.position - 1,
                single: true,
            });
        }
    }
}

/// The tokenizer registered with tantivy as [`NAME`].
#[derive(Clone, Default)]
pub struct FolioTokenizer {
    buf: Vec<Tok>,
}

/// The name the tokenizer is registered under.
pub const NAME: &str = "folio";

pub struct FolioTokenStream<'a> {
    toks: &'a [Tok],
    next: usize,
    token: tantivy::tokenizer::Token,
}

impl tantivy::tokenizer::Tokenizer for FolioTokenizer {
    type TokenStream<'a> = FolioTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> FolioTokenStream<'a> {
        tokenize(text, Mode::Index, &mut self.buf);
        FolioTokenStream {
            toks: &self.buf,
            next: 0,
            token: tantivy::tokenizer::Token::default(),
        }
    }
}

impl tantivy::tokenizer::TokenStream for FolioTokenStream<'_> {
    fn advance(&mut self) -> bool {
        let Some(t) = self.toks.get(self.next) else {
            return false;
        };
        self.next += 1;
        self.token.text.clear();
        self.token.text.push_str(&t.text);
        self.token.offset_from = t.from;
        self.token.offset_to = t.to;
        self.token.position = t.position;
        self.token.position_length = 1;
        true
    }

    fn token(&self) -> &tantivy::tokenizer::Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut tantivy::tokenizer::Token {
        &mut self.token
    }
}

/// Digits only: the searchable form of a phone number.
pub fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str, mode: Mode) -> Vec<String> {
        tokens(s, mode).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn folds_latin_accents_and_case() {
        assert_eq!(
            texts("Müller GROß Łódź", Mode::Query),
            ["muller", "gross", "lodz"]
        );
        assert_eq!(texts("Café  O'Brien", Mode::Query), ["cafe", "obrien"]);
        // decomposed accents fold the same way
        assert_eq!(texts("Mu\u{308}ller", Mode::Query), ["muller"]);
    }

    #[test]
    fn cyrillic_and_arabic_by_word() {
        assert_eq!(
            texts("Клиент запросил образцы", Mode::Query),
            ["клиент", "запросил", "образцы"]
        );
        assert_eq!(texts("Алёна", Mode::Query), ["алена"]);
        // harakat are dropped: كَتَبَ reads as كتب
        assert_eq!(texts("كَتَبَ العميل", Mode::Query), ["كتب", "العميل"]);
    }

    #[test]
    fn cjk_runs_become_bigrams_with_offsets() {
        let t = tokens("对比上海报价", Mode::Query);
        let v: Vec<_> = t.iter().map(|t| (t.text.as_str(), t.position)).collect();
        assert_eq!(
            v,
            [
                ("对比", 0),
                ("比上", 1),
                ("上海", 2),
                ("海报", 3),
                ("报价", 4)
            ]
        );
        let text = "对比上海报价";
        assert_eq!(&text[t[2].from..t[2].to], "上海");
        // index mode adds the last character on its own, at the last position
        let t = tokens("上海", Mode::Index);
        let v: Vec<_> = t.iter().map(|t| (t.text.as_str(), t.position)).collect();
        assert_eq!(v, [("上海", 0), ("海", 0)]);
        // Japanese mixes Han and Kana in one run
        assert_eq!(texts("見積書を", Mode::Query), ["見積", "積書", "書を"]);
        // a single character stays a unigram
        assert_eq!(texts("5月", Mode::Query), ["5", "月"]);
    }

    #[test]
    fn mixed_scripts_split_cleanly() {
        assert_eq!(
            texts("Customer 客户 comparing", Mode::Query),
            ["customer", "客户", "comparing"]
        );
        assert_eq!(texts("abc한국어", Mode::Query), ["abc", "한국", "국어"]);
        // spaces end a run
        assert_eq!(texts("上海 供应商", Mode::Query), ["上海", "供应", "应商"]);
    }

    #[test]
    fn emails_and_punctuation() {
        assert_eq!(
            texts("ahmed.hassan@apex.example", Mode::Query),
            ["ahmed.hassan", "apex.example"]
        );
        assert_eq!(
            texts("+49 (30) 123-45", Mode::Query),
            ["49", "30", "123", "45"]
        );
        assert!(texts(" - / @ ", Mode::Query).is_empty());
        assert_eq!(digits("+49 (30) 123-45"), "493012345");
    }
}
