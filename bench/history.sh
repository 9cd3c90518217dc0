#!/usr/bin/env bash
# Benchmarks of the history commands (issue 6), next to the git commands
# the issue compares them with.
#
# Usage: bench/history.sh [REPO] [FOLIO]
#   REPO   a generated repository (default gen-100k-200k in the temporary
#          folder; generated with 100,000 customers and 200,000 commits if
#          missing, by gen_repo.py: see bench/lib.sh)
#   FOLIO  the folio binary (default target/release/folio of this checkout)
# Environment: SKIP_COLD=1 skips the first pass when an index exists;
# PLAN=1 prints the plan and exits.
#
# Each figure is printed as wall seconds, then user+system CPU seconds, and
# the load average when it was taken (other jobs on the machine inflate
# wall times; CPU time tells more there).
#
# The script changes REPO while it runs (one commit for the cache update,
# one handover commit) and puts it back afterwards (git reset --hard, and
# the cache folder restored so that the reset does not force a rebuild).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
REPO=${1:-$BENCH_TMP/gen-100k-200k}
FOLIO=${2:-$ROOT/target/release/folio}
plan "generate $REPO if missing (100,000 customers, 200,000 commits)" \
  "first history pass (cold cache): git log --raw --no-renames beside folio log" \
  "folio log CUSTOMER warm (human and JSON) beside git log --follow" \
  "cache update after one new commit (then reset)" \
  "folio handover of 5,000 customers, --dry-run and with commit and report (then reset)" \
  "folio handovers --format json, warm"
[ -n "$GNU_TIME" ] || need time "apt-get install time"
need bc "apt-get install bc"
export GIT_CONFIG_NOSYSTEM=1 NO_COLOR=1
if [ ! -d "$REPO/.git" ]; then
  gen_repo "$REPO" --customers 100000 --commits 200000
fi
cd "$REPO"
git config user.name bench && git config user.email bench@example.com
grep -qx '.folio/' .git/info/exclude 2>/dev/null || echo '.folio/' >> .git/info/exclude
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run a command; sets WALL and CPU (user+sys) in seconds, LOAD (1 min)
measure() {
  LOAD=$(load | cut -d' ' -f1)
  "$GNU_TIME" -f "%e %U %S" -o "$tmp/t" "$@" > /dev/null
  read -r WALL u s < "$tmp/t"
  CPU=$(echo "$u + $s" | bc)
}
# best wall of N runs (with that run's CPU and load)
best() {
  local n=$1; shift; local bw=999999 bc_=0 bl=0
  for _ in $(seq "$n"); do
    measure "$@"
    if [ "$(echo "$WALL < $bw" | bc)" = 1 ]; then bw=$WALL; bc_=$CPU; bl=$LOAD; fi
  done
  WALL=$bw; CPU=$bc_; LOAD=$bl
}
show() { printf '%-44s: %7.2f s wall, %7.2f s CPU (load %s)\n' "$1" "$WALL" "$CPU" "$LOAD"; }
save_cache() { rm -rf "$tmp/history"; cp -a .folio/history "$tmp/history"; }
restore_cache() { rm -rf .folio/history; cp -a "$tmp/history" .folio/history; }

commits=$(git rev-list --count HEAD)
files=$(git ls-files customers | wc -l)
echo "repository: $REPO ($files records, $commits commits); $(nproc) cores"

# The customer of the latest company rename (a delete plus an add), so
# that git log --follow has a rename to follow; else the first customer.
id=
rc=$(git log -n 1 --no-renames --diff-filter=D --format=%H -- customers)
if [ -n "$rc" ]; then
  added=$(git show --no-renames --format= --name-only --diff-filter=A "$rc" -- customers | sed -n 1p)
  id=$(git show "$rc:$added" | sed -n 's/^id = "\(.*\)"/\1/p')
fi
id=${id:-C0000001}
path=$(grep -rl "^id = \"$id\"" customers | sed -n 1p)
echo "customer: $id at $path"

echo
echo "== first history pass (cold cache)"
if [ -z "${SKIP_COLD:-}" ] || [ ! -f .folio/history/index.bin ]; then
  rm -rf .folio/history
  measure git log --raw --no-renames --format=%H
  show "git log --raw --no-renames --format=%H"
  g=$WALL
  measure "$FOLIO" log "$id"
  show "folio log (cold, builds the index)"
  echo "folio / git (wall)                          : $(echo "scale=2; $WALL / $g" | bc)"
else
  echo "(skipped: SKIP_COLD is set and the index exists)"
fi
ls -l .folio/history/index.bin | awk '{print "index size: " $5 " bytes"}'

echo
echo "== folio log CUSTOMER, warm cache"
best 3 git log --follow --format=%H -- "$path"
show "git log --follow --format=%H -- PATH"
t_follow=$WALL
best 5 "$FOLIO" log "$id"
show "folio log $id"
t_log=$WALL
best 5 "$FOLIO" log "$id" --format json
show "folio log $id --format json"
echo "speed-up vs git log --follow (wall)         : $(echo "scale=1; $t_follow / $t_log" | bc)x"

echo
echo "== cache update after one new commit"
save_cache
head_before=$(git rev-parse HEAD)
sed -i 's/^tier = "\(.\)"/tier = "A"/' "$path"
git commit -qam "bench: regrade $id" --allow-empty
measure "$FOLIO" log "$id"
show "folio log after 1 new commit (update)"
best 3 "$FOLIO" log "$id"
show "(and warm again)"
git reset -q --hard "$head_before"
restore_cache

echo
echo "== folio handover of 5,000 customers"
# The salesperson with the most customers, topped up to 5,000 with
# customers of the next one in a setup commit (not timed).
owners=$(grep -rh '^owner = ' customers | sort | uniq -c | sort -rn)
from=$(echo "$owners" | sed -n 1p | sed 's/.*"\(.*\)"/\1/')
other=$(echo "$owners" | sed -n 2p | sed 's/.*"\(.*\)"/\1/')
n=$(grep -rl "^owner = \"$from\"" customers | wc -l)
if [ "$n" -lt 5000 ]; then
  grep -rl "^owner = \"$other\"" customers | sed -n "1,$((5000 - n))p" \
    | xargs sed -i "s/^owner = \"$other\"/owner = \"$from\"/"
  git commit -qam "bench: $from takes $((5000 - n)) customers of $other"
  "$FOLIO" log "$id" > /dev/null # bring the cache up to date (not timed)
fi
n=$(grep -rl "^owner = \"$from\"" customers | wc -l)
to=$(grep -o '^\[staff\.[a-z0-9]*\]' staff.toml | sed 's/\[staff\.\(.*\)\]/\1/' | grep -vx "$from" | sed -n 1,3p | paste -sd,)
echo "customers of $from: $n, to $to (3:2:1)"
measure "$FOLIO" handover "$from" --to "$to" --weights 3:2:1 --dry-run
show "folio handover --dry-run"
measure "$FOLIO" handover "$from" --to "$to" --weights 3:2:1 --report "$tmp/report.md" --as-of 2026-01-01
show "folio handover (edits + commit + report)"
git show --stat --format='%s' HEAD | tail -1
test -z "$(git status --porcelain -- customers)" || echo "WARNING: the work tree is not clean after the handover"
git reset -q --hard "$head_before"
restore_cache

echo
echo "== folio handovers (every change of owner), warm"
best 3 "$FOLIO" handovers --format json
show "folio handovers --format json"
