#!/usr/bin/env bash
# Do two builds of folio report the same? By hand, after a change to check
# or duplicates:
#   bench/check_same.sh OLD_FOLIO NEW_FOLIO [REPO]
# REPO defaults to check-100000 in bench/check.sh's work folder (it makes
# it). PLAN=1 prints the plan and exits.
# A copy with ~1,200 records broken on purpose (bench/break_repo.py) is made
# beside it; `check` (json, human, github) and `dupes` (json, --all) output
# of both builds is compared byte for byte, on the copy and on REPO.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
here=$ROOT/bench
old=${1:-OLD_FOLIO} new=${2:-NEW_FOLIO} repo=${3:-$BENCH_TMP/folio-bench/check-100000}
broken="$repo-broken"
plan "copy $repo to $broken with ~1,200 records broken (bench/break_repo.py), if missing" \
  "run check (json, human, github) and dupes (json, --all) with $old and with $new" \
  "compare the outputs byte for byte; exit 1 if any differs"
[ $# -ge 2 ] || { echo "usage: bench/check_same.sh OLD_FOLIO NEW_FOLIO [REPO]" >&2; exit 2; }
[ -d "$broken/customers" ] || python3 "$here/break_repo.py" "$repo" "$broken"
out=$(mktemp -d)
run() { # BINARY DIR
  local b=$1 o=$2
  mkdir -p "$o"
  "$b" check --repo "$broken" --as-of 2026-11-01 --format json > "$o/check.json" || true
  NO_COLOR=1 "$b" check --repo "$broken" --as-of 2026-11-01 > "$o/check.txt" || true
  "$b" check --repo "$broken" --as-of 2026-11-01 --format github > "$o/check.gh" || true
  "$b" dupes --repo "$broken" --format json > "$o/dupes.json" 2>/dev/null
  NO_COLOR=1 "$b" dupes --repo "$broken" --all > "$o/dupes.txt" 2>/dev/null
  "$b" check --repo "$repo" --as-of 2026-11-01 --format json > "$o/clean.json" || true
}
run "$old" "$out/old"
run "$new" "$out/new"
status=0
for f in check.json check.txt check.gh dupes.json dupes.txt clean.json; do
  if cmp -s "$out/old/$f" "$out/new/$f"; then
    echo "same: $f ($(wc -c < "$out/new/$f") bytes)"
  else
    echo "DIFFERENT: $f (diff $out/old/$f $out/new/$f)"
    status=1
  fi
done
exit $status
