#!/usr/bin/env bash
# Benchmark of `folio check` and `folio dupes` (issues 2 and 3), by hand:
#   bench/check.sh [WORKDIR]        (RUNS=5 by default)
# Generates 10,000- and 100,000-customer repositories with gen_repo.py
# (--no-git --cjk; see bench/lib.sh), then times, side by side:
#   parse-floor     parallel read + toml DeTable parse of the same files
#   folio check     every rule, duplicates included
#   folio dupes     every candidate pair
#   taplo check     the editors' TOML tool with folio's JSON Schema
# The floor, check and dupes are run in turn, RUNS times, each under
# GNU time; medians of wall and of CPU (user + sys) are reported, since
# on a shared machine CPU time is the steadier measure. Also: 10k vs 100k
# scaling and folio check's peak memory. Needs taplo (pip install taplo) and
# GNU time. PLAN=1 prints the plan and exits.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
here=$ROOT
work=${1:-$BENCH_TMP/folio-bench}
runs=${RUNS:-5}
folio="$here/target/release/folio"
floor="$here/target/release/parse-floor"
plan "cargo build --release (folio, parse-floor)" \
  "generate $work/check-10000 and $work/check-100000 if missing (--no-git --cjk)" \
  "$runs rounds of: parse-floor, folio check --format json, folio dupes on 100k" \
  "$runs runs of folio check on 10k; taplo check --schema on 100k once" \
  "report medians of wall and CPU, ratios against the targets, peak memory"
need taplo "pip install taplo"
[ -n "$GNU_TIME" ] || need time "apt-get install time"
mkdir -p "$work"
release_folio
for n in 10000 100000; do
  repo="$work/check-$n"
  [ -d "$repo/customers" ] || gen_repo "$repo" --customers "$n" --no-git --cjk
done
big="$work/check-100000"
small="$work/check-10000"
"$folio" schema export -o "$work/customer.schema.json"
times="$work/check-times.tsv"
: > "$times"

# one timed run: NAME COMMAND... (stdout discarded); appends NAME wall cpu KB
timed() {
  local name=$1; shift
  "$GNU_TIME" -o "$work/.t" -f "%e %U %S %M" "$@" > /dev/null 2>&1 || true
  read -r wall user sys kb < "$work/.t"
  echo -e "$name\t$wall\t$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')\t$kb" >> "$times"
}

echo "== machine: $(nproc) cores, load $(load)"
echo "== 100,000 customers, $runs rounds of: parse floor, folio check, folio dupes"
timed warmup "$floor" "$big"
for _ in $(seq "$runs"); do
  timed floor "$floor" "$big"
  timed check "$folio" check --repo "$big" --as-of 2026-11-01 --format json
  timed dupes "$folio" dupes --repo "$big"
done
echo "== scaling: 10,000 customers, $runs runs"
for _ in $(seq "$runs"); do
  timed check10k "$folio" check --repo "$small" --as-of 2026-11-01 --format json
done
echo "== taplo check --schema on 100,000 customers (one run)"
(cd "$big" && timed taplo taplo check --schema "file://$work/customer.schema.json" 'customers/**/*.toml')
echo "== load after the runs: $(load)"
python3 - "$times" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, wall, cpu, kb = line.split("\t")
    rows.setdefault(name, []).append((float(wall), float(cpu), int(kb)))
med = {n: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v),
           max(r[2] for r in v), len(v)) for n, v in rows.items()}
print(f"{'':10} {'wall s':>8} {'cpu s':>8} {'peak MB':>8}  runs (medians)")
for n, (w, c, kb, k) in med.items():
    if n != "warmup":
        print(f"{n:10} {w:8.2f} {c:8.2f} {kb/1024:8.0f}  {k}")
f, ch = med["floor"], med["check"]
print(f"check / floor:      {ch[0]/f[0]:.2f}x wall, {ch[1]/f[1]:.2f}x cpu   (target <= 1.5x)")
if "taplo" in med:
    t = med["taplo"]
    print(f"taplo / check:      {t[0]/ch[0]:.1f}x wall, {t[1]/ch[1]:.1f}x cpu   (target >= 8x)")
print(f"dupes:              {med['dupes'][0]:.2f} s wall, {med['dupes'][1]:.2f} s cpu   (target <= 5 s)")
print(f"check 100k / 10k:   {ch[0]/med['check10k'][0]:.1f}x wall, {ch[1]/med['check10k'][1]:.1f}x cpu   (target <= 11x)")
print(f"check peak memory:  {ch[2]/1024:.0f} MB   (target <= 600 MB)")
EOF
echo "== folio check phases (wall), 100,000 customers"
"$folio" check --repo "$big" --as-of 2026-11-01 --timings > /dev/null || true
