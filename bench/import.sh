#!/usr/bin/env bash
# Benchmark of `folio import` (issue 8: 100,000 rows in at most 30 s), by hand:
#   bench/import.sh [WORKDIR] [ROWS]
# Generates a CSV of ROWS (default 100,000) distinct customers in the shape a
# spreadsheet export gives (countries as names, d/m/Y dates, a few bad rows),
# then times, into an empty repository each run:
#   folio import --dry-run   read, map, validate, find duplicates, plan
#   folio import             the same, and write every file (all or nothing)
# and a second import of the same file into the filled repository (every
# row a duplicate). Needs hyperfine (apt-get install hyperfine). The CSV is
# made here (no gen_repo.py). PLAN=1 prints the plan and exits.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
work=${1:-$BENCH_TMP/folio-bench-import}
rows=${2:-100000}
folio="$ROOT/target/release/folio"
plan "cargo build --release" \
  "write $work/customers-$rows.csv if missing ($rows rows, a few bad on purpose)" \
  "hyperfine, 3 runs each into an empty repository: folio import --dry-run, folio import" \
  "once more into the filled repository (every row a duplicate), with peak memory" \
  "folio import --commit into a git repository, under GNU time" \
  "hyperfine, 3 runs: folio export (CSV)"
need hyperfine "apt-get install hyperfine"
[ -n "$GNU_TIME" ] || need time "apt-get install time"
mkdir -p "$work"
release_folio
csv="$work/customers-$rows.csv"
if [ ! -f "$csv" ]; then
  python3 - "$csv" "$rows" <<'PY'
import csv, random, sys
path, n = sys.argv[1], int(sys.argv[2])
random.seed(8)
countries = ["Germany", "United States", "Viet Nam", "Russian Federation", "France", "Brazil",
             "Korea, Republic of", "Slovakia (Slovak Republic)", "United Kingdom", "Mexico",
             "Turkey", "Poland", "India", "Japan", "Egypt", "Nigeria", "Australia", "Canada"]
first = ["Anna", "Ben", "Chen", "Diego", "Eva", "Farid", "Grace", "Hiro", "Ivan", "Jana", "Karl", "Lena"]
last = ["Meyer", "Smith", "Nguyen", "Petrov", "Dubois", "Silva", "Kim", "Novak", "Brown", "Lopez"]
words = ["Pump", "Valve", "Steel", "Textile", "Food", "Auto", "Solar", "Cable", "Glass", "Paper"]
forms = ["GmbH", "Ltd", "LLC", "S.A.", "Co.", "Inc"]
with open(path, "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["Company", "First Name", "Last Name", "Country", "Email", "Phone", "City",
                "Website", "Tags", "Created"])
    for i in range(n):
        name = f"{random.choice(words)} {random.choice(words)} {i:06d} {random.choice(forms)}"
        dom = f"firm{i:06d}.example.com"
        phone = f"+{random.randint(1, 99)} {random.randint(10, 999)} {random.randint(1000000, 9999999)}"
        if i % 1000 == 7:
            phone = phone + " x12"  # an extension: rejected with its reason
        w.writerow([name, random.choice(first), random.choice(last), random.choice(countries),
                    f"sales{i}@{dom}", phone, f"City {i % 500}", f"https://www.{dom}/",
                    random.choice(["vip", "canton-fair", "price-sensitive;vip", ""]),
                    f"{random.randint(1, 28)}/{random.randint(1, 12)}/{random.randint(2018, 2025)}"])
PY
fi
repo="$work/repo"
reset() { rm -rf "$repo"; mkdir -p "$repo"; : > "$repo/folio.toml"; printf '[staff.alice]\nname = "Alice"\n' > "$repo/staff.toml"; }
reset
echo "== machine: $(nproc) cores, load $(load); $rows rows"
hyperfine --runs 3 --export-markdown "$work/import.md" \
  --prepare "rm -rf $repo/customers $repo/.folio" \
  -n "import --dry-run" "$folio import $csv --repo $repo --as-of 2026-01-01 --dry-run --format json > /dev/null || true" \
  -n "import" "$folio import $csv --repo $repo --as-of 2026-01-01 --format json > /dev/null || true"
echo "== once more into the filled repository (every row a duplicate)"
rm -rf "$repo/customers" "$repo/.folio"
"$folio" import "$csv" --repo "$repo" --as-of 2026-01-01 > /dev/null || true
"$GNU_TIME" -f "peak RSS %M KB, %e s wall" bash -c '"$0" import "$1" --repo "$2" --as-of 2026-01-01 --dry-run || true' "$folio" "$csv" "$repo" | tail -2
echo "== the same import with --commit, into a git repository"
rm -rf "$repo/customers" "$repo/.folio" "$repo/.git"
git -C "$repo" init -q && git -C "$repo" add -A && git -C "$repo" -c user.name=b -c user.email=b@x commit -qm init
"$GNU_TIME" -f "import --commit: %e s wall, %U s user, %S s sys" "$folio" import "$csv" --repo "$repo" --as-of 2026-01-01 --commit > /dev/null || true
rm -rf "$repo/.git"
echo "== export of the imported repository"
hyperfine --runs 3 -n "export csv" "$folio export --repo $repo --as-of 2026-01-01 > /dev/null"
