#!/usr/bin/env bash
# Benchmark (issue 19): one IPv6 SYN sweep of port 80 over a /112 (65,536 addresses of the
# target's AnyIP prefix, all answering), by ferroscan -6, nmap -6 -T4 and masscan, one after
# another on the same fresh IPv6 lab (scripts/lab6.sh, ID b6). zmap has no IPv6. Prints a
# table and appends it, dated, to benches/RESULTS.md; every tool runs under `timeout`.
#
#   benches/sweep112.sh           RATE=150000 (packets/s for masscan), RUNS=3; ferroscan runs with
#                                 its default flags unless FERROSCAN_RATE=N fixes its rate
#   TOOLS="ferroscan nmap" RUNS=1 benches/sweep112.sh
#   NO_RESULTS=1 ...              print only; leave RESULTS.md alone
#
# SAFETY: every scanner runs as `ip netns exec <scanner ns> ...` inside the lab, which has
# no default route and no IPv4; the swept prefix lies in 2001:2::/48 (checked below).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
lab="$repo/scripts/lab6.sh"
id=b6
rate=${RATE:-150000}
tools=${TOOLS:-ferroscan nmap masscan}
runs=${RUNS:-3}
masscan_wait=1
total=65536

[[ $(id -u) -eq 0 ]] || { echo "sweep112.sh: needs root (it creates network namespaces)" >&2; exit 1; }

work=$(mktemp -d /tmp/ferroscan-sweep112.XXXXXX)
cleanup() { "$lab" down "$id" || true; rm -rf "$work"; }
trap cleanup EXIT

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
"$lab" up "$id" >"$work/facts.env"
# shellcheck disable=SC1091
source "$work/facts.env"
cidr=$LAB_SWEEP_CIDR
port=$LAB_SWEEP_PORT
ns=$LAB_SCAN_NS
[[ $cidr == 2001:2:0:* || $cidr == 2001:2::* ]] || { echo "sweep112.sh: refusing $cidr: not in 2001:2::/48" >&2; exit 1; }
[[ ${cidr#*/} == 112 ]] || { echo "sweep112.sh: the lab's sweep prefix is $cidr, not a /112" >&2; exit 1; }
in_scan() { ip netns exec "$ns" "$@"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

rows=()
backlog_drops() {
  local s=0 _ d _rest
  while read -r _ d _rest; do s=$((s + 16#$d)); done </proc/net/softnet_stat
  echo "$s"
}
# add_row TOOL COMMAND WALL FOUND NOTE (MAC addresses change with every lab: named instead)
add_row() {
  local drops=$(($(backlog_drops) - drops0)) note=$5
  ((drops == 0)) || note="${note:+$note; }$drops backlog drops"
  local cmd=${2//$LAB_TARGET_MAC/TARGET_MAC}
  cmd=${cmd//$LAB_SCAN_MAC/SCAN_MAC}
  cmd=${cmd//$work\//}
  rows+=("| $1 | $run_no | \`$cmd\` | $3 | $4 | $note |")
  walls+=("$1 $3 $4")
}
walls=()

# Distinct addresses with PORT/tcp open in grepable output.
count_grepable_open() { grep -E "\b$port/open/tcp" "$1" | awk '{ print $2 }' | sort -u | grep -c . || true; }

bench_ferroscan() {
  # ferroscan with its default flags (the rate is found), unless FERROSCAN_RATE fixes one
  local args=(-6 -sS -Pn -n -p "$port" --open ${FERROSCAN_RATE:+--rate "$FERROSCAN_RATE"} -oG "$work/ferroscan.gnmap" "$cidr")
  local t0 t1 rc=0
  t0=$(now)
  in_scan timeout -k 2 120 node "$repo/bin/ferroscan.js" "${args[@]}" >"$work/ferroscan.out" 2>"$work/ferroscan.err" || rc=$?
  t1=$(now)
  if ((rc != 0)); then
    add_row ferroscan "ferroscan ${args[*]}" "$(elapsed "$t0" "$t1")" - "failed (exit $rc): $(head -c 120 "$work/ferroscan.err" | tr '\n|' '  ')"
    return
  fi
  add_row ferroscan "ferroscan ${args[*]}" "$(elapsed "$t0" "$t1")" "$(count_grepable_open "$work/ferroscan.gnmap")" ""
}

bench_nmap() {
  local args=(-6 -sS -T4 -Pn -n -p "$port" -oG "$work/nmap.gnmap" "$cidr")
  local t0 t1 rc=0
  t0=$(now)
  in_scan timeout -k 2 600 nmap "${args[@]}" >"$work/nmap.out" 2>"$work/nmap.err" || rc=$?
  t1=$(now)
  add_row nmap "nmap ${args[*]}" "$(elapsed "$t0" "$t1")" "$(count_grepable_open "$work/nmap.gnmap")" "$( ((rc == 0)) || echo "exit $rc")"
}

bench_masscan() {
  local args=(-p"$port" "$cidr" --rate "$rate" --wait "$masscan_wait" --adapter "$LAB_SCAN_IF"
    --adapter-ip "$LAB_SCAN_ADDR" --adapter-mac "$LAB_SCAN_MAC" --router-mac "$LAB_TARGET_MAC"
    -oL "$work/masscan.list")
  # masscan 1.3.2 does not exit here: stop it once it has been 100% done for longer than
  # its --wait; a hard timeout bounds the whole run.
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
  local found wall
  found=$(grep '^open' "$work/masscan.list" 2>/dev/null | awk '{ print $4 }' | sort -u | grep -c . || true)
  wall=$(elapsed "$t0" "$t1")
  [[ -n $tdone && -n $note ]] && wall=$(awk -v a="$t0" -v b="$tdone" -v w="$masscan_wait" 'BEGIN { printf "%.2f", b - a + w }')
  add_row masscan "masscan ${args[*]}" "$wall" "${found:-0}" "$note"
}

# Runs interleave (every tool once, then again): a slow moment of the machine does not land
# on one tool only.
for ((run_no = 1; run_no <= runs; run_no++)); do
  for tool in $tools; do
    echo "sweep112: run $run_no: $tool ..." >&2
    drops0=$(backlog_drops)
    "bench_$tool"
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# Medians per tool, and the issue's target: ferroscan ≤ 0.1× nmap -6 -T4, 100% found.
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR) print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
med() { printf '%s\n' "${walls[@]}" | awk -v t="$1" '$1 == t && $2 != "-" { print $2 }' | median; }
found_min() { printf '%s\n' "${walls[@]}" | awk -v t="$1" '$1 == t { print $3 }' | sort -n | head -1; }
fs=$(med ferroscan)
nm=$(med nmap)
target=""
if [[ -n $fs && -n $nm ]]; then
  ratio=$(awk -v a="$fs" -v b="$nm" 'BEGIN { printf "%.3f", a / b }')
  verdict=$(awk -v r="$ratio" 'BEGIN { print (r <= 0.1 ? "met" : "missed") }')
  f=$(found_min ferroscan)
  target="Target (issue 19): ferroscan median ${fs} s ÷ nmap -6 -T4 median ${nm} s = ${ratio}× (≤ 0.1×: ${verdict}); ferroscan found ${f} / $total in its worst run ($([[ $f == "$total" ]] && echo met || echo missed))."
fi

header="## $(date -u '+%Y-%m-%d %H:%M UTC') — sweep112: IPv6 SYN to port $port on $cidr ($total addresses, all open)"
machine="$(nproc) cores, kernel $(uname -r), lab $LAB_SCAN_NS → $LAB_TARGET_ADDR, prefix via $LAB_TARGET_LL (veth, RPS split), rate $rate pps; load average before $load_before, after $load_after"
versions="nmap $(nmap --version | awk 'NR==1 {print $3}'), masscan $({ masscan --version 2>/dev/null || true; } | awk '/version/ && !v { v = $3 } END { print v }'), node $(node --version); zmap has no IPv6"
table=$(
  echo "| tool | run | command (inside \`ip netns exec $ns\`) | wall s | found / $total | note |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
)
report=$(printf '%s\n\n%s\n%s\n\n%s\n\n%s\n' "$header" "$machine" "$versions" "$table" "$target")
echo "$report"
if [[ -z ${NO_RESULTS:-} ]]; then
  results="$repo/benches/RESULTS.md"
  printf '\n%s\n' "$report" >>"$results"
fi
