//! The parse floor for `folio check`: read every record under a
//! repository's `customers/` in parallel and parse it with the toml crate's
//! borrowed `DeTable`, doing nothing else. `folio check` is measured against
//! this (see BENCHMARKS.md).

use rayon::prelude::*;
use std::path::PathBuf;

fn main() {
    let Some(root) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: parse-floor REPO");
        std::process::exit(2);
    };
    let files: Vec<PathBuf> = walkdir::WalkDir::new(root.join("customers"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "toml"))
        .map(|e| e.into_path())
        .collect();
    let (ok, bad): (usize, usize) = files
        .par_iter()
        .map(|p| {
            let bytes = std::fs::read(p).unwrap_or_default();
            let parsed = std::str::from_utf8(&bytes)
                .ok()
                .map(|t| toml::de::DeTable::parse(t).is_ok());
            if parsed == Some(true) { (1, 0) } else { (0, 1) }
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    println!("{} files: {ok} parsed, {bad} failed", files.len());
}

// The same allocator as folio, so that the comparison is fair.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
