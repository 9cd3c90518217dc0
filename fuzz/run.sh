#!/usr/bin/env bash
# Fuzz parse -> edit -> re-parse (fuzz_targets/parse_edit.rs) for SECONDS
# seconds (default 900), one job: the corpus grows in fuzz/corpus/parse_edit
# (gitignored) from the seeds in fuzz/seeds/parse_edit; a crash or a broken
# invariant is saved under fuzz/artifacts/parse_edit/.
# Needs a nightly toolchain and `cargo install cargo-fuzz --locked`.
# No sanitizer: the target looks for panics and wrong edits, and folio has
# almost no unsafe code; without ASan it runs several times faster.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-900}"
mkdir -p corpus/parse_edit
cargo +nightly fuzz run -O -s none --codegen-units 16 parse_edit \
    corpus/parse_edit seeds/parse_edit -- \
    -max_total_time="$secs" -jobs=1 -workers=1 -max_len=16384 -print_final_stats=1
