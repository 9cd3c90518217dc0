#!/usr/bin/env bash
# Do two builds of folio report the same? By hand, after a change to check
# or duplicates:
#   bench/check_same.sh OLD_FOLIO NEW_FOLIO [REPO]
# REPO defaults to /tmp/folio-bench/check-100000 (bench/check.sh makes it).
# A copy with ~1,200 records broken on purpose (bench/break_repo.py) is made
# beside it; `check` (json, human, github) and `dupes` (json, --all) output
# of both builds is compared byte for byte, on the copy and on REPO.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
old=$1 new=$2 repo=${3:-/tmp/folio-bench/check-100000}
broken="$repo-broken"
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
