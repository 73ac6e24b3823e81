#!/usr/bin/env bash
# Benchmark (issue 14): what each output format costs a /16 sweep. The same SYN sweep of
# port 80 over the lab's 198.19.0.0/16 (65,536 addresses, all open) with no output file, then
# with each format, interleaved run by run, on one fresh lab (scripts/lab.sh, ID bo16).
# Prints a table of median wall times and each format's cost over the run without a file,
# and appends it, dated, with the load average, to benches/RESULTS.md. The target: no writer
# costs more than 10% of the sweep's wall time.
#
#   bash benches/outputs16.sh        RATE=150000 RUNS=5 FORMATS="none -oL -oG --ndjson -oX ..."
#   NO_RESULTS=1 ...                 print only; leave RESULTS.md alone
#
# SAFETY: every scan runs inside the lab's scanner namespace (no default route), against the
# lab's own 198.19.0.0/16; the lab is taken down at the end.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
lab="$repo/scripts/lab.sh"
id=bo16
rate=${RATE:-150000}
runs=${RUNS:-5}
formats=${FORMATS:-none --open-oL -oL -oG --ndjson --csv -oJ -oX -oN}

[[ $(id -u) -eq 0 ]] || { echo "outputs16.sh: needs root (it creates network namespaces)" >&2; exit 1; }

work=$(mktemp -d /tmp/ferroscan-outputs16.XXXXXX)
cleanup() { "$lab" down "$id" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
"$lab" up "$id" >"$work/facts.env"
# shellcheck disable=SC1091
source "$work/facts.env"
cidr=$LAB_SWEEP_CIDR
port=$LAB_SWEEP_PORT
ns=$LAB_SCAN_NS
now() { date +%s.%N; }

declare -A walls sizes
# The resume file and journal of each run (rewritten every 2 s, removed at the end) go here too.
cd "$work"
for ((run_no = 1; run_no <= runs; run_no++)); do
  for f in $formats; do
    out=()
    case $f in
      none) ;;
      --open-oL) out=(--open -oL "$work/out") ;;
      *) out=("$f" "$work/out") ;;
    esac
    rm -f "$work/out" "$work/out.part"
    echo "outputs16: run $run_no: $f ..." >&2
    t0=$(now)
    ip netns exec "$ns" node "$repo/bin/ferroscan.js" -sS -Pn -n -p "$port" --rate "$rate" "${out[@]}" "$cidr" >"$work/stdout" 2>"$work/stderr" || {
      echo "outputs16: $f failed: $(head -c 200 "$work/stderr")" >&2
      exit 1
    }
    t1=$(now)
    grep -q "^ferroscan done: 65536 IP addresses (65536 hosts up)" "$work/stdout" || { echo "outputs16: $f: not every host up: $(tail -1 "$work/stdout")" >&2; exit 1; }
    walls[$f]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') "
    sizes[$f]=$([[ -f $work/out ]] && stat -c %s "$work/out" || echo 0)
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
base=$(echo "${walls[none]}" | median)
header="## $(date -u '+%Y-%m-%d %H:%M UTC') — outputs16: what each output format costs a /16 sweep (issue 14)"
machine="$(nproc) cores, kernel $(uname -r), lab $ns → $cidr port $port (65,536 addresses, all open), --rate $rate, node $(node --version); median of $runs runs, formats interleaved run by run. Load average before: $load_before; after: $load_after."
table=$(
  echo "| output | command (inside \`ip netns exec $ns\`) | wall s (median) | runs | over no file | file MiB | ≤ 10% |"
  echo "|---|---|---|---|---|---|---|"
  for f in $formats; do
    m=$(echo "${walls[$f]}" | median)
    case $f in
      none) shown="" ;;
      --open-oL) shown=" --open -oL out" ;;
      *) shown=" $f out" ;;
    esac
    over=$(awk -v m="$m" -v b="$base" 'BEGIN { printf "%+.1f%%", 100 * (m - b) / b }')
    ok=$(awk -v m="$m" -v b="$base" 'BEGIN { print (m - b <= 0.10 * b) ? "yes" : "no" }')
    [[ $f == none ]] && { over="-"; ok="-"; }
    mib=$(awk -v s="${sizes[$f]}" 'BEGIN { printf "%.1f", s / 1048576 }')
    echo "| $f | \`ferroscan -sS -Pn -n -p $port --rate $rate$shown $cidr\` | $m | ${walls[$f]% } | $over | $mib | $ok |"
  done
)
report=$(printf '%s\n\n%s\n\n%s\n' "$header" "$machine" "$table")
echo "$report"
if [[ -z ${NO_RESULTS:-} ]]; then
  printf '\n%s\n' "$report" >>"$repo/benches/RESULTS.md"
fi
