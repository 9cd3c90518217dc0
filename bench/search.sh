#!/usr/bin/env bash
# Benchmark folio's search on a generated repository, next to ripgrep.
#
#   bench/search.sh [REPO]
#
# REPO defaults to /tmp/folio-bench-search, generated when missing with
#   gen_repo.py REPO --customers 100000 --cjk
# Needs a release build (cargo build --release), hyperfine and rg.
# Figures: full rebuild (wall and CPU), index size vs record size, a query
# on a fresh index next to `rg -l` for the same word and to the bare stat of
# every record file (the floor of a freshness check; one hyperfine run),
# and `folio search` right after one record changed (refresh included);
# then both again with `folio watch` running.
# The machine may be shared: the load average is printed beside each figure.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
folio=${FOLIO:-$here/target/release/folio}
gen=${GEN:-$here/../shared/tools/gen_repo.py}
repo=${1:-/tmp/folio-bench-search}
word=${WORD:-Shanghai}
runs=${RUNS:-10}

[ -x "$folio" ] || { echo "build first: cargo build --release" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "install hyperfine (apt-get install -y hyperfine)" >&2; exit 2; }
command -v rg >/dev/null || { echo "install ripgrep (apt-get install -y ripgrep)" >&2; exit 2; }
if [ ! -d "$repo" ]; then
  python3 "$gen" "$repo" --customers 100000 --cjk
fi
repo=$(cd "$repo" && pwd)
cd "$repo"
records=$(find customers -name '*.toml' | wc -l)
load() { echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"; }
echo "== repository: $repo ($records record files), $(nproc) cores"

echo "== full rebuild (target: <= 20 s wall)"
load
/usr/bin/time -f "full rebuild: %e s wall, %U s user + %S s system CPU, %M KB max RSS" "$folio" index --full
load

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
load
hyperfine -N --warmup 2 --runs "$runs" --export-json /tmp/folio-search-bench.json \
  "$folio search $word" \
  "$folio search --no-refresh $word" \
  "rg -l $word customers" \
  "find customers -type f -printf %T@"
load
python3 - <<'PY'
import json
r = json.load(open("/tmp/folio-search-bench.json"))["results"]
for x in r:
    print(f"{x['command']}: {x['mean']*1000:.1f} ms mean, {x['median']*1000:.1f} ms median, "
          f"CPU {x['user']*1000:.0f} ms user + {x['system']*1000:.0f} ms system")
f, g = r[0]["mean"], r[2]["mean"]
print(f"ratio rg -l / folio search: {g/f:.1f}x")
PY

echo "== folio search right after one record changed (target: <= 0.3 s)"
one=$(find customers -name '*.toml' | sort | sed -n 777p)
cp "$one" /tmp/folio-bench-one.toml
cat > /tmp/folio-bench-edit.sh <<EDIT
#!/bin/sh
# change one record in place (a new comment line at the end)
printf '# edited %s\\n' "\$(date +%s%N)" >> "$repo/$one"
EDIT
load
hyperfine -N --warmup 1 --runs "$runs" --prepare "sh /tmp/folio-bench-edit.sh" \
  "$folio search $word"
load
cp /tmp/folio-bench-one.toml "$one"
"$folio" index >/dev/null

echo "== the same two measures with folio watch running (folio search compares only the files it lists)"
"$folio" watch --stop >/dev/null
"$folio" watch --detach
"$folio" search "$word" >/dev/null # the first question of a new watcher compares every file once
load
hyperfine -N --warmup 2 --runs "$runs" --export-json /tmp/folio-search-watch.json \
  "$folio search $word" \
  "rg -l $word customers"
python3 - <<'PY'
import json
r = json.load(open("/tmp/folio-search-watch.json"))["results"]
for x in r:
    print(f"{x['command']}: {x['mean']*1000:.1f} ms mean, {x['median']*1000:.1f} ms median, "
          f"CPU {x['user']*1000:.0f} ms user + {x['system']*1000:.0f} ms system")
print(f"ratio rg -l / folio search (watcher): {r[1]['mean']/r[0]['mean']:.1f}x")
PY
load
hyperfine -N --warmup 1 --runs "$runs" --prepare "sh /tmp/folio-bench-edit.sh" \
  "$folio search $word"
load
cp /tmp/folio-bench-one.toml "$one"
"$folio" search "$word" >/dev/null
"$folio" watch --stop
