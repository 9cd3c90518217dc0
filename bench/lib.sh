# shellcheck shell=bash
# Helpers shared by the bench/ scripts. Each script sources it first:
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Sets:
#   ROOT       this folio checkout
#   BENCH_TMP  where work folders go by default: $TMPDIR, else the system's
#              temporary folder (asked of mktemp, never written here)
#   GEN_REPO   gen_repo.py, the data generator: $GEN_REPO when set, else
#              ../shared/tools/gen_repo.py beside the checkout
#   GNU_TIME   GNU time (found on PATH; needed for wall, CPU and memory)
# Gives:
#   gen_repo [--gen PATH] OUT ARGS...  generate a data repository in OUT
#   plan LINE...                       with PLAN=1: print the plan and exit 0
#   release_folio                      build the release binaries
#   load                               the load average (1, 5, 15 minutes)
#   need TOOL HINT                     fail clearly when TOOL is not installed

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_TMP=$(dirname "$(mktemp -u)")
GEN_REPO=${GEN_REPO:-$(cd "$ROOT/.." && pwd)/shared/tools/gen_repo.py}
GNU_TIME=$(type -P time || true)

# gen_repo [--gen PATH] OUT ARGS...: run gen_repo.py OUT ARGS... (the
# generator at PATH, else $GEN_REPO); fails, naming the path it tried,
# when the generator is missing.
gen_repo() {
  local gen=$GEN_REPO
  if [ "${1:-}" = --gen ]; then
    gen=$2
    shift 2
  fi
  local out=$1
  shift
  if [ ! -f "$gen" ]; then
    echo "error: cannot generate $out: gen_repo.py is not at $gen" >&2
    echo "hint: set GEN_REPO=/path/to/gen_repo.py (or pass --gen PATH to gen_repo)" >&2
    exit 2
  fi
  echo "generating $out: gen_repo.py $out $*" >&2
  python3 "$gen" "$out" "$@"
}

# plan LINE...: when PLAN is set, print what the script would do (one step
# a line) and the tools and paths it would use, then exit 0 without
# building, generating or timing anything.
plan() {
  [ -n "${PLAN:-}" ] || return 0
  echo "plan of bench/$(basename "$0"):"
  printf '  %s\n' "$@"
  local found=found
  [ -f "$GEN_REPO" ] || found="MISSING: set GEN_REPO"
  echo "checkout:    $ROOT"
  echo "gen_repo.py: $GEN_REPO ($found)"
  echo "GNU time:    ${GNU_TIME:-MISSING: apt-get install time}"
  exit 0
}

# need TOOL HINT: exit 2 with HINT when TOOL is not on PATH.
need() {
  command -v "$1" > /dev/null || {
    echo "error: $1 is needed: $2" >&2
    exit 2
  }
}

# release_folio: build folio and parse-floor in release mode.
release_folio() {
  cargo build --release --manifest-path "$ROOT/Cargo.toml" --bins > /dev/null
}

# load: the load average, printed beside each figure (other jobs on the
# machine inflate wall times).
load() {
  uptime | sed 's/.*load average[s]*: //; s/,//g'
}
