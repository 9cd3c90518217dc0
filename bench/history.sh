#!/usr/bin/env bash
# Benchmarks of the history commands (issue 6), next to the git commands
# the issue compares them with.
#
# Usage: bench/history.sh [REPO] [FOLIO]
#   REPO   a generated repository (default /tmp/gen-100k-200k; generated
#          with 100,000 customers and 200,000 commits if missing)
#   FOLIO  the folio binary (default target/release/folio of this checkout)
#
# The script changes REPO while it runs (one commit for the cache update,
# one handover commit) and puts it back afterwards (git reset --hard, and
# the cache file restored so that the reset does not force a rebuild).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
REPO=${1:-/tmp/gen-100k-200k}
FOLIO=${2:-$here/target/release/folio}
export GIT_CONFIG_NOSYSTEM=1 NO_COLOR=1
if [ ! -d "$REPO/.git" ]; then
  python3 "$here/../shared/tools/gen_repo.py" "$REPO" --customers 100000 --commits 200000
fi
cd "$REPO"
git config user.name bench && git config user.email bench@example.com
grep -qx '.folio/' .git/info/exclude 2>/dev/null || echo '.folio/' >> .git/info/exclude

secs() { # run a command, print its wall time in seconds
  local s e
  s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N)
  echo "$e - $s" | bc
}
best() { # best of N runs
  local n=$1; shift; local b=999999 t
  for _ in $(seq "$n"); do t=$(secs "$@"); b=$(echo "if ($t < $b) $t else $b" | bc); done
  echo "$b"
}

commits=$(git rev-list --count HEAD)
files=$(git ls-files customers | wc -l)
echo "repository: $REPO ($files records, $commits commits)"

# The customer of the latest company rename (a delete plus an add), so
# that git log --follow has a rename to follow; else the first customer.
id=
rc=$(git log -n 1 --no-renames --diff-filter=D --format=%H -- customers)
if [ -n "$rc" ]; then
  added=$(git show --no-renames --format= --name-only --diff-filter=A "$rc" -- customers | head -1)
  id=$(git show "$rc:$added" | sed -n 's/^id = "\(.*\)"/\1/p')
fi
id=${id:-C0000001}
path=$(grep -rl "^id = \"$id\"" customers | head -1)
echo "customer: $id at $path"

echo
echo "== first history pass (cold cache)"
if [ -z "${SKIP_COLD:-}" ] || [ ! -f .folio/history/index.bin ]; then
  rm -rf .folio/history
  t_git=$(secs git log --raw --no-renames --format=%H)
  t_folio=$(secs "$FOLIO" log "$id")
  echo "git log --raw --no-renames --format=%H : ${t_git}s"
  echo "folio log (cold, builds the index)     : ${t_folio}s"
else
  echo "(skipped: SKIP_COLD is set and the index exists)"
fi
ls -l .folio/history/index.bin | awk '{print "index size: " $5 " bytes"}'

echo
echo "== folio log CUSTOMER, warm cache"
t_follow=$(best 3 git log --follow --format=%H -- "$path")
t_log=$(best 5 "$FOLIO" log "$id")
t_log_json=$(best 5 "$FOLIO" log "$id" --format json)
echo "git log --follow --format=%H -- PATH   : ${t_follow}s"
echo "folio log $id                          : ${t_log}s"
echo "folio log $id --format json            : ${t_log_json}s"
echo "speed-up vs git log --follow           : $(echo "scale=1; $t_follow / $t_log" | bc)x"

echo
echo "== cache update after one new commit"
cp .folio/history/index.bin /tmp/history-bench-index.bin
head_before=$(git rev-parse HEAD)
sed -i 's/^tier = "\(.\)"/tier = "A"/' "$path"
git commit -qam "bench: regrade $id" --allow-empty
t_upd=$(secs "$FOLIO" log "$id")
echo "folio log after 1 new commit           : ${t_upd}s"
t_warm=$(best 3 "$FOLIO" log "$id")
echo "(and warm again                        : ${t_warm}s)"
git reset -q --hard "$head_before"
cp /tmp/history-bench-index.bin .folio/history/index.bin

echo
echo "== folio handover of one salesperson's customers"
from=$(grep -rh '^owner = ' customers | sort | uniq -c | sort -rn | head -1 | sed 's/.*"\(.*\)"/\1/')
n=$(grep -rl "^owner = \"$from\"" customers | wc -l)
to=$(grep -o '^\[staff\.[a-z0-9]*\]' staff.toml | sed 's/\[staff\.\(.*\)\]/\1/' | grep -vx "$from" | head -3 | paste -sd,)
t_dry=$(secs "$FOLIO" handover "$from" --to "$to" --weights 3:2:1 --dry-run)
t_ho=$(secs "$FOLIO" handover "$from" --to "$to" --weights 3:2:1 --report /tmp/history-bench-report.md --as-of 2026-01-01)
echo "customers of $from                     : $n"
echo "folio handover --dry-run               : ${t_dry}s"
echo "folio handover (edits + commit + report): ${t_ho}s"
git show --stat --format='%s' HEAD | tail -1
git reset -q --hard "$head_before"
cp /tmp/history-bench-index.bin .folio/history/index.bin

echo
echo "== folio handovers (every change of owner), warm"
echo "folio handovers --format json          : $(best 3 "$FOLIO" handovers --format json)s"
