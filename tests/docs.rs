//! The documentation tells the truth: the README's tour runs on the sample
//! repository exactly as written, every diagnostic code is in
//! docs/check.md, and every link and every page the source names exists.

mod common;

use common::{TestRepo, folio_std};
use std::path::{Path, PathBuf};

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(manifest_dir().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Split a command line into words as a POSIX shell would for the simple
/// lines the README uses: blanks separate words, '...' and "..." quote
/// (no `\` escapes inside '...'; `\"` and `\\` inside "..."). Anything a
/// shell would expand or redirect is refused, so the README cannot hold a
/// line the test would run differently from a shell.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    word.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => word.push(chars.next().expect("a character after \\")),
                        '$' | '`' => panic!("the tour must not expand anything: {line}"),
                        c => word.push(c),
                    }
                }
            }
            '$' | '`' | '|' | '>' | '<' | ';' | '&' | '*' | '?' | '\\' | '#' | '~' => {
                panic!("the tour's commands must be plain words (found `{c}`): {line}")
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// One `$ command` of a ```console block and the lines shown after it.
struct Step {
    line: usize,
    command: String,
    expected: String,
}

/// The `$ ` lines of every ```console block of a Markdown text, in order,
/// each with the output shown under it.
fn console_steps(markdown: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut in_console = false;
    for (i, l) in markdown.lines().enumerate() {
        if !in_console {
            in_console = l.trim_end() == "```console";
            continue;
        }
        if l.trim_end() == "```" {
            in_console = false;
        } else if let Some(cmd) = l.strip_prefix("$ ") {
            steps.push(Step {
                line: i + 1,
                command: cmd.to_string(),
                expected: String::new(),
            });
        } else {
            let step = steps
                .last_mut()
                .unwrap_or_else(|| panic!("README.md:{}: output before any `$ ` line", i + 1));
            step.expected.push_str(l);
            step.expected.push('\n');
        }
    }
    steps
}

/// Run one step in `dir`: `folio ...` (standard output and standard error
/// into one file, as a terminal shows them) or `cat FILE`. Returns the
/// exit status and the output.
fn run_step(dir: &Path, words: &[String]) -> (i32, String) {
    match words.first().map(String::as_str) {
        Some("folio") => {
            let out_path = dir.join(".folio-tour-output");
            let out = std::fs::File::create(&out_path).unwrap();
            let status = folio_std()
                .current_dir(dir)
                .args(&words[1..])
                .stdout(out.try_clone().unwrap())
                .stderr(out)
                .status()
                .unwrap();
            let text = std::fs::read_to_string(&out_path).unwrap();
            std::fs::remove_file(&out_path).unwrap();
            (status.code().unwrap_or(-1), text)
        }
        Some("cat") if words.len() == 2 => {
            (0, std::fs::read_to_string(dir.join(&words[1])).unwrap())
        }
        _ => panic!("the tour runs only `folio ...` and `cat FILE`: {words:?}"),
    }
}

/// Every `$ folio ...` line of README.md's ```console blocks, run in order
/// on one copy of sample-repo/, shows exactly the output under it (standard
/// error included) and succeeds. Each command passes `--as-of` where the
/// date matters, so the output is the same on any day.
#[test]
fn the_readme_tour_runs_on_the_sample_repository_as_written() {
    let readme = read("README.md");
    let steps = console_steps(&readme);
    assert!(
        steps.len() >= 8,
        "README.md has a tour of {} commands",
        steps.len()
    );
    let t = TestRepo::sample();
    let mut failures = Vec::new();
    for step in &steps {
        let words = shell_words(&step.command);
        let (code, out) = run_step(t.root(), &words);
        if code != 0 || out != step.expected {
            failures.push(format!(
                "README.md:{}: $ {}\nexit status {code}\n--- README shows:\n{}--- folio prints:\n{}",
                step.line, step.command, step.expected, out
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn shell_words_reads_quotes_as_a_shell_does() {
    assert_eq!(
        shell_words(r#"folio new --name "Baltic Tools OU" --x 'a b' c"d"e"#),
        [
            "folio",
            "new",
            "--name",
            "Baltic Tools OU",
            "--x",
            "a b",
            "cde"
        ]
    );
    assert_eq!(
        shell_words(r#"folio search "say \"hi\"""#),
        ["folio", "search", "say \"hi\""]
    );
}

#[test]
#[should_panic(expected = "plain words")]
fn shell_words_refuses_a_redirection() {
    shell_words("folio export > out.csv");
}

/// Every code in src/diagnostics.rs has its row in docs/check.md (code,
/// name), and the table lists no code folio does not have.
#[test]
fn every_diagnostic_code_is_documented_in_check_md() {
    let doc = read("docs/check.md");
    let mut missing = Vec::new();
    for c in folio::diagnostics::Code::ALL {
        let row = format!("| `{}` | `{}` |", c.as_str(), c.name());
        if !doc.lines().any(|l| l.starts_with(&row)) {
            missing.push(row);
        }
    }
    assert!(missing.is_empty(), "docs/check.md lacks rows: {missing:?}");
    let known: Vec<&str> = folio::diagnostics::Code::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    for l in doc.lines().filter(|l| l.starts_with("| `F")) {
        let code = &l[3..7];
        assert!(
            known.contains(&code),
            "docs/check.md lists {code}, which folio does not have"
        );
    }
}

/// GitHub's anchor of a Markdown heading: lower case, punctuation dropped
/// (except `-` and `_`), spaces turned into `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a Markdown file's headings (outside code blocks).
fn anchors(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fence = false;
    for l in markdown.lines() {
        if l.trim_start().starts_with("```") {
            fence = !fence;
        } else if !fence && l.starts_with('#') {
            out.push(anchor(l.trim_start_matches('#')));
        }
    }
    out
}

/// The targets of the inline links `[text](target)` of a Markdown text,
/// outside code blocks and code spans, with their line numbers.
fn links(markdown: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut fence = false;
    for (i, l) in markdown.lines().enumerate() {
        if l.trim_start().starts_with("```") {
            fence = !fence;
            continue;
        }
        if fence {
            continue;
        }
        // drop code spans: `...`
        let text: String = l.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        let mut rest = text.as_str();
        while let Some(p) = rest.find("](") {
            let after = &rest[p + 2..];
            let Some(end) = after.find(')') else { break };
            out.push((i + 1, after[..end].to_string()));
            rest = &after[end..];
        }
    }
    out
}

/// README.md, BENCHMARKS.md and every page of docs/.
fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![PathBuf::from("README.md"), PathBuf::from("BENCHMARKS.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(manifest_dir().join("docs"))
        .unwrap()
        .map(|e| PathBuf::from("docs").join(e.unwrap().file_name()))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// Every relative link of the README, BENCHMARKS.md and the manual names a
/// file that exists, and an anchor names a heading of that file.
#[test]
fn every_link_of_the_documentation_resolves() {
    let mut broken = Vec::new();
    for file in markdown_files() {
        let text = read(file.to_str().unwrap());
        let dir = file.parent().unwrap_or(Path::new(""));
        for (line, target) in links(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, frag) = match target.split_once('#') {
                Some((p, f)) => (p, Some(f)),
                None => (target.as_str(), None),
            };
            let rel = if path.is_empty() {
                file.clone()
            } else {
                normalise(&dir.join(path))
            };
            let rel_str = rel.to_str().unwrap().to_string();
            let full = manifest_dir().join(&rel);
            if !full.exists() {
                broken.push(format!(
                    "{}:{line}: {target}: no file {rel_str}",
                    file.display()
                ));
                continue;
            }
            if let Some(frag) = frag {
                let target_text = std::fs::read_to_string(&full).unwrap();
                if !anchors(&target_text).iter().any(|a| a == frag) {
                    broken.push(format!(
                        "{}:{line}: {target}: {rel_str} has no heading #{frag}",
                        file.display()
                    ));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// `a/../b` → `b`, `./a` → `a` (paths relative to the repository root).
fn normalise(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// The pages folio's own messages and the files it writes point to
/// (`see docs/import.md`) exist.
#[test]
fn every_page_the_source_names_exists() {
    let mut texts: Vec<(String, String)> = Vec::new();
    let mut stack = vec![manifest_dir().join("src")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                texts.push((
                    p.display().to_string(),
                    std::fs::read_to_string(&p).unwrap(),
                ));
            }
        }
    }
    for f in ["schema/customer.toml", "sample-repo/folio.toml"] {
        texts.push((f.to_string(), read(f)));
    }
    let mut named = 0;
    let mut missing = Vec::new();
    for (file, text) in &texts {
        for (i, _) in text.match_indices("docs/") {
            let name: String = text[i..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-'))
                .collect();
            let name = name.trim_end_matches('.');
            if !name.ends_with(".md") {
                continue;
            }
            named += 1;
            if !manifest_dir().join(name).exists() {
                missing.push(format!("{file}: {name}"));
            }
        }
        // a section of the README named in prose: the README keeps only
        // the tour, the commands and the exit status
        assert!(
            !text.contains("see README, \"") && !text.contains("See README, \""),
            "{file} points to a section of README.md; point to docs/ instead"
        );
    }
    assert!(named > 0, "the source names no page of docs/");
    assert!(missing.is_empty(), "pages named but missing: {missing:?}");
}
