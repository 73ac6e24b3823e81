#!/usr/bin/env bash
# Runs the engine's fuzz targets (cargo fuzz / libFuzzer), one after another.
#   crates/core/fuzz/run.sh --seconds S [TARGET...]   each target for S seconds (CI: short)
#   crates/core/fuzz/run.sh --runs N [TARGET...]      each target for N executions
#   --max-len N: longest input tried (libFuzzer's default: 4096, or the corpus's longest)
#   --keep DIR: keep the new inputs in DIR/<target> (to minimise into the corpus with
#   `cargo fuzz cmin`); by default they go to a scratch directory that is removed, so the
#   committed corpus in corpus/<target> is only read. A crash, panic, leak
# or an input slower than --timeout fails the run, with the input under artifacts/<target>/.
# The toolchain: nightly when rustup has it, else the stable one with RUSTC_BOOTSTRAP=1
# (cargo fuzz needs -Z flags; either works here, nothing is downloaded).
set -euo pipefail
cd "$(dirname "$0")"

limit=(-max_total_time=30)
maxlen=()
keep=
while [[ $# -gt 0 ]]; do
  case $1 in
    --seconds) limit=(-max_total_time="$2"); shift 2 ;;
    --runs) limit=(-runs="$2"); shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --max-len) maxlen=(-max_len="$2"); shift 2 ;;
    --) shift; break ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^ferroscan')

if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  fuzz=(cargo +nightly fuzz)
else
  export RUSTC_BOOTSTRAP=1
  fuzz=(cargo fuzz)
fi
command -v cargo-fuzz >/dev/null || { echo "run.sh: cargo-fuzz not installed (cargo install cargo-fuzz)" >&2; exit 1; }

"${fuzz[@]}" build -O
if [[ -n $keep ]]; then
  scratch=$keep
else
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
fi
for t in "${targets[@]}"; do
  mkdir -p "$scratch/$t" "artifacts/$t" "corpus/$t"
  echo "--- fuzz $t (${limit[*]})"
  start=$(date +%s)
  "${fuzz[@]}" run -O "$t" "$scratch/$t" "corpus/$t" -- "${limit[@]}" "${maxlen[@]}" -timeout=5 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="artifacts/$t/" 2>"$scratch/$t.log" ||
    { tail -40 "$scratch/$t.log"; echo "fuzz $t: FAILED" >&2; echo "fuzz-rust: 0 passed, 1 failed"; exit 1; }
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$t.log")
  echo "fuzz $t: $runs executions in $(($(date +%s) - start)) s, no crash; $(ls "$scratch/$t" | wc -l) new inputs"
done
echo "fuzz-rust: ${#targets[@]} passed, 0 failed"
