#!/usr/bin/env bash
# Benchmark of the follow-up SOP commands (issue 5).
#
# Target: `folio due` over the 100,000-customer generated repository takes at
# most 1.2x the time of `folio check` on it, measured side by side.
# Also times `folio review` (one pass over git history) for information.
#
# Usage: bench/followups.sh [REPO]
#   REPO defaults to fu-100k in the temporary folder, generated when missing
#   with gen_repo.py REPO --customers 100000 --commits 20000 --cjk (the
#   generator: $GEN_REPO, see bench/lib.sh).
# Needs a release build (made when missing) and uses hyperfine when
# installed (apt-get install -y hyperfine), else a plain timing loop.
# PLAN=1 prints the plan and exits.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

here=$ROOT
folio="${FOLIO:-$here/target/release/folio}"
repo="${1:-$BENCH_TMP/fu-100k}"
as_of="${AS_OF:-2026-11-01}"
runs="${RUNS:-10}"
results="$BENCH_TMP/followups-bench.json"
plan "cargo build --release if $folio is missing" \
  "generate $repo if missing (100,000 customers, 20,000 commits, --cjk)" \
  "$runs runs each of folio check and folio due --format json (as of $as_of); report the ratio" \
  "time folio review --older-than 180d once"

if [[ ! -x "$folio" ]]; then
    release_folio
fi
if [[ ! -f "$repo/folio.toml" ]]; then
    gen_repo "$repo" --customers 100000 --commits 20000 --cjk
fi
n=$(find "$repo/customers" -name '*.toml' | wc -l)
echo "repository: $repo ($n records), as of $as_of"

check=("$folio" --repo "$repo" check --as-of "$as_of")
due=("$folio" --repo "$repo" due --as-of "$as_of" --format json)
review=("$folio" --repo "$repo" review --older-than 180d --as-of "$as_of")

if command -v hyperfine >/dev/null; then
    # check exits 1 when the data has problems: that is not a failure here
    hyperfine -N --warmup 2 --runs "$runs" -i \
        -n check "${check[*]}" \
        -n due "${due[*]}" \
        --export-json "$results"
    python3 - "$results" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
c, d = r["check"]["median"], r["due"]["median"]
print(f"median: check {c*1000:.0f} ms, due {d*1000:.0f} ms, ratio {d/c:.2f} (target <= 1.20)")
PY
else
    t() {
        local best=999999
        for _ in $(seq "$runs"); do
            local s e
            s=$(date +%s%N)
            "$@" >/dev/null 2>&1 || true
            e=$(date +%s%N)
            local ms=$(((e - s) / 1000000))
            ((ms < best)) && best=$ms
        done
        echo "$best"
    }
    "${check[@]}" >/dev/null 2>&1 || true # warm the page cache
    c=$(t "${check[@]}")
    d=$(t "${due[@]}")
    echo "best of $runs: check ${c} ms, due ${d} ms, ratio $(python3 -c "print(f'{$d/$c:.2f}')") (target <= 1.20)"
fi

if git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
    commits=$(git -C "$repo" rev-list --count HEAD)
    s=$(date +%s%N)
    "${review[@]}" >/dev/null
    e=$(date +%s%N)
    echo "review --older-than 180d over $commits commits: $(((e - s) / 1000000)) ms"
fi
