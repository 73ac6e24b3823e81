#!/usr/bin/env bash
# Benchmark: one SYN sweep of port 80 over a /16 (65,536 addresses that all answer), by
# ferroscan, nmap -T4, zmap and masscan, one after another on the same fresh lab
# (scripts/lab.sh, ID b0). Prints a table and appends it, dated, to benches/RESULTS.md.
#
#   benches/sweep16.sh            RATE=150000 (packets/s for ferroscan, zmap, masscan), RUNS=3
#   TOOLS="ferroscan zmap" RATE=100000 RUNS=1 benches/sweep16.sh
#   NO_RESULTS=1 ...              print only; leave RESULTS.md alone
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
lab="$repo/scripts/lab.sh"
id=b0
rate=${RATE:-150000}
tools=${TOOLS:-ferroscan nmap zmap masscan}
runs=${RUNS:-3}
masscan_wait=1
total=65536

[[ $(id -u) -eq 0 ]] || { echo "sweep16.sh: needs root (it creates network namespaces)" >&2; exit 1; }

work=$(mktemp -d /tmp/ferroscan-sweep16.XXXXXX)
cleanup() { "$lab" down "$id" || true; rm -rf "$work"; }
trap cleanup EXIT

"$lab" up "$id" >"$work/facts.env"
# shellcheck disable=SC1091
source "$work/facts.env"
cidr=$LAB_SWEEP_CIDR
port=$LAB_SWEEP_PORT
ns=$LAB_SCAN_NS
in_scan() { ip netns exec "$ns" "$@"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

rows=()
# Packets the kernel dropped because a CPU's input backlog (net.core.netdev_max_backlog, a
# host-wide setting the lab leaves alone) was full: veth traffic lost before any scanner saw it.
backlog_drops() {
  local s=0 _ d _rest
  while read -r _ d _rest; do s=$((s + 16#$d)); done </proc/net/softnet_stat
  echo "$s"
}
# add_row TOOL COMMAND WALL FOUND NOTE
# MAC addresses change with every lab: the command column names them instead.
add_row() {
  local drops=$(($(backlog_drops) - drops0)) note=$5
  ((drops == 0)) || note="${note:+$note; }$drops backlog drops"
  local cmd=${2//$LAB_TARGET_MAC/TARGET_MAC}
  cmd=${cmd//$LAB_SCAN_MAC/SCAN_MAC}
  cmd=${cmd//$work\//}
  rows+=("| $1 | $run_no | \`$cmd\` | $3 | $4 | $note |")
}

# Counts "PORT/tcp open" rows in nmap-style normal output.
count_normal_open() { grep -cE "^$port/tcp[[:space:]]+open" "$1" || true; }

bench_ferroscan() {
  local args=(-sS -Pn -n -p "$port" --open --rate "$rate" "$cidr")
  local shown="ferroscan ${args[*]}"
  if [[ ! -f $repo/bin/ferroscan.js ]]; then
    add_row ferroscan "$shown" - - "not built"
    return
  fi
  local t0 t1 rc=0
  t0=$(now)
  in_scan node "$repo/bin/ferroscan.js" "${args[@]}" >"$work/ferroscan.out" 2>"$work/ferroscan.err" || rc=$?
  t1=$(now)
  if ((rc != 0)); then
    add_row ferroscan "$shown" "$(elapsed "$t0" "$t1")" - "failed (exit $rc): $(head -c 120 "$work/ferroscan.err" | tr '\n|' '  ')"
    return
  fi
  add_row ferroscan "$shown" "$(elapsed "$t0" "$t1")" "$(count_normal_open "$work/ferroscan.out")" ""
}

bench_nmap() {
  local args=(-sS -T4 -Pn -n -p "$port" "$cidr")
  local t0 t1 rc=0
  t0=$(now)
  in_scan nmap "${args[@]}" >"$work/nmap.out" 2>"$work/nmap.err" || rc=$?
  t1=$(now)
  add_row nmap "nmap ${args[*]}" "$(elapsed "$t0" "$t1")" "$(count_normal_open "$work/nmap.out")" \
    "$( ((rc == 0)) || echo "exit $rc")"
}

bench_zmap() {
  : >"$work/empty-blocklist"
  # zmap refuses 198.18.0.0/15 with its default blocklist; the lab has no default route, so
  # it is told the interface, source and gateway MAC (the target's veth end).
  local args=(-p "$port" -r "$rate" -c 1 -i "$LAB_SCAN_IF" -S "$LAB_SCAN_ADDR" -G "$LAB_TARGET_MAC"
    -b "$work/empty-blocklist" -o - "$cidr")
  local t0 t1 rc=0
  t0=$(now)
  in_scan zmap "${args[@]}" >"$work/zmap.out" 2>"$work/zmap.err" || rc=$?
  t1=$(now)
  local found
  found=$(sort -u "$work/zmap.out" | grep -c . || true)
  add_row zmap "zmap ${args[*]}" "$(elapsed "$t0" "$t1")" "$found" \
    "$( ((rc == 0)) || echo "exit $rc")"
}

bench_masscan() {
  local args=(-p"$port" "$cidr" --rate "$rate" --wait "$masscan_wait" --adapter "$LAB_SCAN_IF"
    --adapter-ip "$LAB_SCAN_ADDR" --adapter-mac "$LAB_SCAN_MAC" --router-mac "$LAB_TARGET_MAC"
    -oL "$work/masscan.list")
  # masscan 1.3.2 often never exits here: watch its progress line and stop it once it has
  # been 100% done for longer than its --wait; a hard timeout bounds the whole run.
  local limit=$((total / rate + masscan_wait + 30))
  local t0 tdone="" t1 pid note=""
  t0=$(now)
  (cd "$work" && exec timeout -k 2 "$limit" ip netns exec "$ns" masscan "${args[@]}") \
    >"$work/masscan.out" 2>"$work/masscan.err" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if [[ -z $tdone ]] && grep -q '100.00% done' "$work/masscan.err" 2>/dev/null; then
      tdone=$(now)
    fi
    if [[ -n $tdone ]] && awk -v a="$tdone" -v b="$(now)" -v w="$masscan_wait" 'BEGIN { exit !(b - a > w + 2) }'; then
      kill "$pid" 2>/dev/null || true
      note="did not exit by itself; wall = time to 100% sent + --wait $masscan_wait"
      break
    fi
    sleep 0.1
  done
  wait "$pid" 2>/dev/null || true
  t1=$(now)
  [[ -n $tdone ]] || note="never reached 100% (timeout ${limit}s)"
  local found
  found=$(grep -c '^open' "$work/masscan.list" 2>/dev/null || true)
  local wall
  wall=$(elapsed "$t0" "$t1")
  [[ -n $tdone && -n $note ]] && wall=$(awk -v a="$t0" -v b="$tdone" -v w="$masscan_wait" 'BEGIN { printf "%.2f", b - a + w }')
  add_row masscan "masscan ${args[*]}" "$wall" "${found:-0}" "$note"
}

# Runs interleave (every tool once, then again) so that a slow moment of the machine does
# not land on one tool only.
for ((run_no = 1; run_no <= runs; run_no++)); do
  for tool in $tools; do
    echo "sweep16: run $run_no: $tool ..." >&2
    drops0=$(backlog_drops)
    "bench_$tool"
  done
done

header="## $(date -u '+%Y-%m-%d %H:%M UTC') — sweep16: SYN to port $port on $cidr ($total addresses, all open)"
machine="$(nproc) cores, kernel $(uname -r), lab $LAB_SCAN_NS → $LAB_TARGET_ADDR (veth, RPS split), rate $rate pps"
versions="nmap $(nmap --version | awk 'NR==1 {print $3}'), zmap $(zmap --version | awk '{print $2}'), masscan $({ masscan --version 2>/dev/null || true; } | awk '/version/ && !v { v = $3 } END { print v }'), node $(node --version)"
table=$(
  echo "| tool | run | command (inside \`ip netns exec $ns\`) | wall s | found / $total | note |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
)
report=$(printf '%s\n\n%s\n%s\n\n%s\n' "$header" "$machine" "$versions" "$table")
echo "$report"
if [[ -z ${NO_RESULTS:-} ]]; then
  results="$repo/benches/RESULTS.md"
  [[ -f $results ]] || printf '# Benchmark results\n\nNewest last. Produced by the scripts beside this file.\n' >"$results"
  printf '\n%s\n' "$report" >>"$results"
fi
