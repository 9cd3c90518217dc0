#!/usr/bin/env bash
# Benchmark of the pool commands (issue 7), by hand:
#   bench/pool.sh [REPO] [FOLIO]
#   REPO   a generated repository (default gen-100k-200k in the temporary
#          folder; generated with 100,000 customers and 200,000 commits if
#          missing, by gen_repo.py: see bench/lib.sh)
#   FOLIO  the folio binary (default target/release/folio of this checkout)
#
# Works in a detached git worktree of REPO (folio-pool-wt in the temporary
# folder, or $WT), so REPO's
# own branch and files are never changed. In the worktree, folio.toml raises
# max_held to 100000 (the generated staff already hold about 4,000 customers
# each, over the default limit of 300, so every claim would be refused).
# Measured, with the history cache warm:
#   folio pool claim ID --as s03          (target <= 0.5 s)
#   folio pool assign --count 1000 --commit (target <= 3 s, commit included)
# and, for scale, `git status` on the same worktree.
# Needs hyperfine (apt-get install hyperfine). PLAN=1 prints the plan and
# exits.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
REPO=${1:-$BENCH_TMP/gen-100k-200k}
FOLIO=${2:-$ROOT/target/release/folio}
WT=${WT:-$BENCH_TMP/folio-pool-wt}
cache=$BENCH_TMP/folio-pool-cache
plan "generate $REPO if missing (100,000 customers, 200,000 commits)" \
  "a detached worktree of it at $WT, folio.toml raising max_held" \
  "warm the history cache (kept in $cache)" \
  "hyperfine, 5 runs each: folio pool claim, folio pool assign --count 1000 --commit, git status" \
  "the same two with folio watch running"
need hyperfine "apt-get install hyperfine"
[ -n "$GNU_TIME" ] || need time "apt-get install time"
export GIT_CONFIG_NOSYSTEM=1 NO_COLOR=1
if [ ! -d "$REPO/.git" ]; then
  gen_repo "$REPO" --customers 100000 --commits 200000
fi
if [ ! -d "$WT" ]; then
  git -C "$REPO" worktree add -q --detach "$WT" HEAD
fi
cd "$WT"
git config user.name bench && git config user.email bench@example.com
grep -qx '.folio/' "$(git rev-parse --git-common-dir)/info/exclude" 2>/dev/null ||
  echo '.folio/' >> "$(git rev-parse --git-common-dir)/info/exclude"
base=$(git rev-parse HEAD)
printf '[pool]\nmax_held = 100000\n' > folio.toml
git update-index --assume-unchanged folio.toml
echo "== machine: $(nproc) cores, load $(load)"
echo "repository: $REPO ($(git ls-files customers | wc -l) records, $(git rev-list --count HEAD) commits)"
echo "== warming the history cache (a cold pass if there is no cache yet)"
"$GNU_TIME" -f "  %e s wall" "$FOLIO" log "$(git ls-files customers | head -1)" > /dev/null
mkdir -p "$cache"
cp .folio/history/* "$cache/"
restore="git reset -q --hard $base && printf '[pool]\\nmax_held = 100000\\n' > folio.toml && rm -f .folio/history/* && cp '$cache'/* .folio/history/"
pool_file=$(grep -L '^owner' -r customers | head -1) || true
pool_id=$(sed -n 's/^id = "\(.*\)"/\1/p' "$pool_file")
echo "pool customer: $pool_id"
echo "load $(load)"
hyperfine --warmup 1 --runs 5 --export-markdown "$BENCH_TMP/folio-pool.md" \
  --prepare "$restore" \
  -n "folio pool claim" "$FOLIO pool claim $pool_id --as s03" \
  -n "folio pool assign --count 1000 --commit" "$FOLIO pool assign --count 1000 --commit" \
  -n "git status" "git status --porcelain"
eval "$restore"

echo "== the same with folio watch running (the changed files come from the watcher, not a status)"
"$FOLIO" watch --stop >/dev/null
"$FOLIO" watch --detach
"$FOLIO" pool claim "$pool_id" --as s03 >/dev/null # the first question of a new watcher reads git's status once
eval "$restore"
echo "load $(load)"
hyperfine --warmup 1 --runs 5 --export-markdown "$BENCH_TMP/folio-pool-watch.md" \
  --prepare "$restore" \
  -n "folio pool claim (watch)" "$FOLIO pool claim $pool_id --as s03" \
  -n "folio pool assign --count 1000 --commit (watch)" "$FOLIO pool assign --count 1000 --commit"
eval "$restore"
"$FOLIO" watch --stop
echo "load $(load)"
