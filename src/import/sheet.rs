//! Reading a spreadsheet into rows of text: CSV in any delimiter and in
//! UTF-8 (with or without BOM), UTF-16 or GB18030/GBK, and XLSX/XLS/ODS
//! through calamine.

use std::borrow::Cow;
use std::path::Path;

/// The text encoding of a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (a BOM is skipped) when valid, else GB18030.
    Auto,
    Utf8,
    /// GB18030, a superset of GBK and GB2312.
    Gb18030,
}

/// How to read the input.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    pub encoding: Encoding,
    pub delimiter: Option<u8>,
    pub sheet: Option<String>,
}

/// One row: its number as a spreadsheet shows it (the header is row 1 when
/// it is the first line) and its cells, trimmed.
#[derive(Debug, Clone)]
pub struct SheetRow {
    pub number: usize,
    pub cells: Vec<String>,
}

/// A table read from a file.
#[derive(Debug, Clone)]
pub struct Sheet {
    /// Column names, unique: a repeated name gets " (2)", an empty one
    /// "Column C" (its letter).
    pub headers: Vec<String>,
    pub rows: Vec<SheetRow>,
    /// `csv`, `xlsx`, `xls` or `ods`.
    pub kind: &'static str,
    /// For CSV: the encoding and delimiter found or given.
    pub encoding: Option<&'static str>,
    pub delimiter: Option<char>,
    /// For workbooks: the sheet read.
    pub sheet: Option<String>,
    /// For workbooks: every other sheet, in the workbook's order (folio's
    /// own export keeps contacts, quotes, orders and follow-ups there).
    pub others: Vec<Sheet>,
}

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("cannot read {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Bad { path: String, message: String },
}

/// Read a CSV or workbook file.
pub fn read(path: &Path, opts: &ReadOptions) -> Result<Sheet, SheetError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| SheetError::Io {
        path: shown.clone(),
        source,
    })?;
    let bad = |message: String| SheetError::Bad {
        path: shown.clone(),
        message,
    };
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let zip = bytes.starts_with(b"PK\x03\x04");
    let ole = bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]);
    if zip || ole || ["xlsx", "xlsm", "xlsb", "xls", "ods"].contains(&ext.as_str()) {
        return read_workbook(bytes, &ext, opts).map_err(bad);
    }
    if opts.sheet.is_some() {
        return Err(bad(
            "--sheet applies to XLSX/XLS/ODS workbooks, not CSV".into()
        ));
    }
    let (text, encoding) = decode(&bytes, opts.encoding).map_err(bad)?;
    let delimiter = opts.delimiter.unwrap_or_else(|| sniff_delimiter(&text));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| bad(format!("row {}: {e}", i + 1)))?;
        rows.push(SheetRow {
            number: i + 1,
            // folio's own CSV export puts a ' in front of what a
            // spreadsheet would run as a formula: take it off
            cells: rec
                .iter()
                .map(|c| crate::export::csv_unneutralise(c.trim()).to_string())
                .collect(),
        });
    }
    let mut sheet = table(rows);
    sheet.kind = "csv";
    sheet.encoding = Some(encoding);
    sheet.delimiter = Some(delimiter as char);
    Ok(sheet)
}

/// Split off the header (the first non-empty row) and drop empty rows.
fn table(rows: Vec<SheetRow>) -> Sheet {
    let mut rows = rows
        .into_iter()
        .filter(|r| r.cells.iter().any(|c| !c.is_empty()));
    let headers = rows.next().map(|r| r.cells).unwrap_or_default();
    let mut seen: Vec<String> = Vec::new();
    let headers = headers
        .into_iter()
        .enumerate()
        .map(|(i, h)| {
            let base = if h.is_empty() {
                format!("Column {}", column_letter(i))
            } else {
                h
            };
            let mut name = base.clone();
            let mut n = 1;
            while seen.iter().any(|s| s == &name) {
                n += 1;
                name = format!("{base} ({n})");
            }
            seen.push(name.clone());
            name
        })
        .collect();
    Sheet {
        headers,
        rows: rows.collect(),
        kind: "csv",
        encoding: None,
        delimiter: None,
        sheet: None,
        others: Vec::new(),
    }
}

/// `A`, `B`, ..., `Z`, `AA`, ... for a zero-based column.
pub fn column_letter(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// Decode CSV bytes to text; returns the encoding's name.
pub fn decode(bytes: &[u8], enc: Encoding) -> Result<(Cow<'_, str>, &'static str), String> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        let (text, used, errors) = encoding_rs::UTF_16LE.decode(bytes);
        if errors {
            return Err(format!("invalid {} text", used.name()));
        }
        return Ok((text, used.name()));
    }
    fn utf8(b: &[u8]) -> Result<(Cow<'_, str>, &'static str), String> {
        let b = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b);
        std::str::from_utf8(b)
            .map(|s| (Cow::Borrowed(s), "UTF-8"))
            .map_err(|e| {
                let line = b[..e.valid_up_to()].iter().filter(|&&c| c == b'\n').count() + 1;
                format!(
                    "invalid UTF-8 on line {line} (byte offset {}); if the file is GBK, pass --encoding gbk",
                    e.valid_up_to()
                )
            })
    }
    fn gb(b: &[u8]) -> Result<(Cow<'_, str>, &'static str), String> {
        encoding_rs::GB18030
            .decode_without_bom_handling_and_without_replacement(b)
            .map(|s| (s, "GB18030"))
            .ok_or_else(|| "the file is neither UTF-8 nor GB18030/GBK text".to_string())
    }
    match enc {
        Encoding::Utf8 => utf8(bytes),
        Encoding::Gb18030 => gb(bytes),
        Encoding::Auto => utf8(bytes).or_else(|_| gb(bytes)),
    }
}

/// The delimiter that splits the first lines most consistently.
fn sniff_delimiter(text: &str) -> u8 {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(20)
        .collect();
    let count = |line: &str, d: char| {
        let mut quoted = false;
        let mut n = 0;
        for c in line.chars() {
            if c == '"' {
                quoted = !quoted;
            } else if c == d && !quoted {
                n += 1;
            }
        }
        n
    };
    let mut best = (b',', 0usize);
    for d in [',', ';', '\t', '|'] {
        let Some(first) = lines.first() else { break };
        let head = count(first, d);
        if head == 0 {
            continue;
        }
        let agree = lines.iter().filter(|l| count(l, d) == head).count();
        let score = agree * 1000 + head;
        if score > best.1 {
            best = (d as u8, score);
        }
    }
    best.0
}

fn read_workbook(bytes: Vec<u8>, ext: &str, opts: &ReadOptions) -> Result<Sheet, String> {
    use calamine::Reader;
    let kind: &'static str = if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        "xls"
    } else if ext == "ods" {
        "ods"
    } else {
        "xlsx"
    };
    let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| format!("not a readable workbook: {e}"))?;
    let names = wb.sheet_names();
    let name = match &opts.sheet {
        Some(s) => names
            .iter()
            .find(|n| *n == s)
            .or_else(|| names.iter().find(|n| n.eq_ignore_ascii_case(s)))
            .cloned()
            .ok_or_else(|| {
                format!(
                    "no sheet named \"{s}\" (sheets: {})",
                    names
                        .iter()
                        .map(|n| format!("\"{n}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?,
        None => names
            .first()
            .cloned()
            .ok_or_else(|| "the workbook has no sheets".to_string())?,
    };
    let mut sheet = read_range(&mut wb, &name, kind)?;
    for other in names.iter().filter(|n| **n != name) {
        sheet.others.push(read_range(&mut wb, other, kind)?);
    }
    Ok(sheet)
}

/// One sheet of a workbook as a table.
fn read_range(
    wb: &mut calamine::Sheets<std::io::Cursor<Vec<u8>>>,
    name: &str,
    kind: &'static str,
) -> Result<Sheet, String> {
    use calamine::{Data, Reader};
    let range = wb
        .worksheet_range(name)
        .map_err(|e| format!("cannot read sheet \"{name}\": {e}"))?;
    let (row0, col0) = range.start().unwrap_or((0, 0));
    let rows = range
        .rows()
        .enumerate()
        .map(|(i, r)| {
            let mut cells: Vec<String> = vec![String::new(); col0 as usize];
            cells.extend(r.iter().map(|c| match c {
                Data::Empty => String::new(),
                Data::String(s) => s.trim().to_string(),
                Data::Int(i) => i.to_string(),
                Data::Float(f) => number_text(*f),
                Data::Bool(b) => b.to_string(),
                Data::DateTime(d) => {
                    let (y, m, day, ..) = d.to_ymd_hms_milli();
                    format!("{y:04}-{m:02}-{day:02}")
                }
                Data::DateTimeIso(s) => s.get(..10).unwrap_or(s).to_string(),
                Data::DurationIso(s) => s.clone(),
                Data::Error(e) => format!("#{e:?}"),
            }));
            SheetRow {
                number: row0 as usize + i + 1,
                cells,
            }
        })
        .collect();
    let mut sheet = table(rows);
    sheet.kind = kind;
    sheet.sheet = Some(name.to_string());
    Ok(sheet)
}

/// A number cell as text: whole numbers without ".0" or an exponent (phone
/// numbers are often stored as numbers).
fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e17 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        let (t, e) = decode(b"\xEF\xBB\xBFa,b", Encoding::Auto).unwrap();
        assert_eq!((t.as_ref(), e), ("a,b", "UTF-8"));
        let (gbk, _, _) = encoding_rs::GBK.encode("公司名称,国家");
        let (t, e) = decode(&gbk, Encoding::Auto).unwrap();
        assert_eq!((t.as_ref(), e), ("公司名称,国家", "GB18030"));
        assert!(decode(&gbk, Encoding::Utf8).unwrap_err().contains("line 1"));
        let (t, _) = decode(b"\xFF\xFEa\x00,\x00b\x00", Encoding::Auto).unwrap();
        assert_eq!(t, "a,b");
    }

    #[test]
    fn delimiters_and_letters() {
        assert_eq!(sniff_delimiter("a;b;c\n1;\"x;y\";3\n"), b';');
        assert_eq!(sniff_delimiter("a\tb\n1\t2\n"), b'\t');
        assert_eq!(sniff_delimiter("a,b\n\"1,5\",2\n"), b',');
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(number_text(4930123456.0), "4930123456");
    }
}
