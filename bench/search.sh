#!/usr/bin/env bash
# Benchmark folio's search on a generated repository, next to ripgrep.
#
#   bench/search.sh [REPO]
#
# REPO defaults to folio-bench-search in the temporary folder, generated
# when missing with gen_repo.py REPO --customers 100000 --cjk (the
# generator: $GEN_REPO, see bench/lib.sh). PLAN=1 prints the plan and exits.
# Needs a release build (cargo build --release), hyperfine and rg.
# Figures: full rebuild (wall and CPU), index size vs record size, a query
# on a fresh index next to `rg -l` for the same word and to the bare stat of
# every record file (the floor of a freshness check; one hyperfine run),
# and `folio search` right after one record changed (refresh included);
# then both again with `folio watch` running.
# The machine may be shared: the load average is printed beside each figure.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
folio=${FOLIO:-$ROOT/target/release/folio}
repo=${1:-$BENCH_TMP/folio-bench-search}
word=${WORD:-Shanghai}
runs=${RUNS:-10}
scratch=$BENCH_TMP/folio-bench-search-files
plan "generate $repo if missing (100,000 customers, --cjk)" \
  "folio index --full under GNU time; index size beside the records" \
  "hyperfine, $runs runs: folio search $word (with and without --no-refresh), rg -l $word, find -printf (the stat floor)" \
  "folio search $word right after one record changed" \
  "the fresh query and the query after a change again with folio watch running"

[ -x "$folio" ] || { echo "build first: cargo build --release" >&2; exit 2; }
need hyperfine "apt-get install -y hyperfine"
need rg "apt-get install -y ripgrep"
[ -n "$GNU_TIME" ] || need time "apt-get install time"
if [ ! -d "$repo" ]; then
  gen_repo "$repo" --customers 100000 --cjk
fi
mkdir -p "$scratch"
repo=$(cd "$repo" && pwd)
cd "$repo"
records=$(find customers -name '*.toml' | wc -l)
show_load() { echo "load average: $(load)"; }
echo "== repository: $repo ($records record files), $(nproc) cores"

echo "== full rebuild (target: <= 20 s wall)"
show_load
"$GNU_TIME" -f "full rebuild: %e s wall, %U s user + %S s system CPU, %M KB max RSS" "$folio" index --full
show_load

rec_bytes=$(du -sb customers | cut -f1)
rec_disk=$(du -sk customers | cut -f1)
idx_bytes=$(du -sb .folio/search | cut -f1)
idx_disk=$(du -sk .folio/search | cut -f1)
echo "== size (target: index <= records)"
echo "records: $rec_bytes bytes of content, $rec_disk KB on disk"
echo "index:   $idx_bytes bytes of content, $idx_disk KB on disk"
awk -v i="$idx_bytes" -v r="$rec_bytes" 'BEGIN { printf "index / records (content bytes): %.2f\n", i / r }'

echo "== query on a fresh index vs rg -l (targets: folio <= 0.1 s, >= 20x faster than rg)"
"$folio" search "$word" >/dev/null # make sure the index is fresh
show_load
hyperfine -N --warmup 2 --runs "$runs" --export-json "$scratch/search.json" \
  "$folio search $word" \
  "$folio search --no-refresh $word" \
  "rg -l $word customers" \
  "find customers -type f -printf %T@"
show_load
python3 - "$scratch/search.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
for x in r:
    print(f"{x['command']}: {x['mean']*1000:.1f} ms mean, {x['median']*1000:.1f} ms median, "
          f"CPU {x['user']*1000:.0f} ms user + {x['system']*1000:.0f} ms system")
f, g = r[0]["mean"], r[2]["mean"]
print(f"ratio rg -l / folio search: {g/f:.1f}x")
PY

echo "== folio search right after one record changed (target: <= 0.3 s)"
one=$(find customers -name '*.toml' | sort | sed -n 777p)
cp "$one" "$scratch/one.toml"
cat > "$scratch/edit.sh" <<EDIT
#!/bin/sh
# change one record in place (a new comment line at the end)
printf '# edited %s\\n' "\$(date +%s%N)" >> "$repo/$one"
EDIT
show_load
hyperfine -N --warmup 1 --runs "$runs" --prepare "sh '$scratch/edit.sh'" \
  "$folio search $word"
show_load
cp "$scratch/one.toml" "$one"
"$folio" index >/dev/null

echo "== the same two measures with folio watch running (folio search compares only the files it lists)"
"$folio" watch --stop >/dev/null
"$folio" watch --detach
"$folio" search "$word" >/dev/null # the first question of a new watcher compares every file once
show_load
hyperfine -N --warmup 2 --runs "$runs" --export-json "$scratch/search-watch.json" \
  "$folio search $word" \
  "rg -l $word customers"
python3 - "$scratch/search-watch.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
for x in r:
    print(f"{x['command']}: {x['mean']*1000:.1f} ms mean, {x['median']*1000:.1f} ms median, "
          f"CPU {x['user']*1000:.0f} ms user + {x['system']*1000:.0f} ms system")
print(f"ratio rg -l / folio search (watcher): {r[1]['mean']/r[0]['mean']:.1f}x")
PY
show_load
hyperfine -N --warmup 1 --runs "$runs" --prepare "sh '$scratch/edit.sh'" \
  "$folio search $word"
show_load
cp "$scratch/one.toml" "$one"
"$folio" search "$word" >/dev/null
"$folio" watch --stop
