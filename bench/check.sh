#!/usr/bin/env bash
# Benchmark of `folio check` and `folio dupes` (issues 2 and 3), by hand:
#   bench/check.sh [WORKDIR]
# Generates 10,000- and 100,000-customer repositories with
# ../shared/tools/gen_repo.py (--no-git --cjk), then times, side by side:
#   parse-floor     parallel read + toml DeTable parse of the same files
#   folio check     every rule, duplicates included
#   taplo check     the editors' TOML tool with folio's JSON Schema
#   folio dupes     every candidate pair
# and reports folio check's peak memory. Needs hyperfine (apt-get install
# hyperfine) and taplo (pip install taplo).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/folio-bench}
gen="$here/../shared/tools/gen_repo.py"
mkdir -p "$work"
cargo build --release --manifest-path "$here/Cargo.toml" --bins >/dev/null
folio="$here/target/release/folio"
floor="$here/target/release/parse-floor"
for n in 10000 100000; do
  repo="$work/check-$n"
  [ -d "$repo/customers" ] || python3 "$gen" "$repo" --customers "$n" --no-git --cjk
done
big="$work/check-100000"
small="$work/check-10000"
"$folio" schema export -o "$work/customer.schema.json"
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== 100,000 customers: folio check vs the parse floor vs taplo"
hyperfine --warmup 1 --runs 5 --export-markdown "$work/check-100k.md" \
  -n parse-floor "$floor $big" \
  -n "folio check" "$folio check --repo $big --as-of 2026-11-01 --format json > /dev/null" \
  -n "folio dupes" "$folio dupes --repo $big > /dev/null"
hyperfine --runs 1 --export-markdown "$work/taplo-100k.md" \
  -n "taplo check --schema" "cd $big && taplo check --schema file://$work/customer.schema.json 'customers/**/*.toml' > /dev/null 2>&1"
echo "== scaling: 10,000 vs 100,000 customers"
hyperfine --warmup 1 --runs 5 --export-markdown "$work/check-scaling.md" \
  -n "check 10k" "$folio check --repo $small --as-of 2026-11-01 --format json > /dev/null" \
  -n "check 100k" "$folio check --repo $big --as-of 2026-11-01 --format json > /dev/null"
echo "== peak memory of folio check on 100,000 customers"
/usr/bin/time -f "peak RSS %M KB, %e s wall" "$folio" check --repo "$big" --as-of 2026-11-01 --timings > /dev/null
