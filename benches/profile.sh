#!/usr/bin/env bash
# Where the time of a /16 sweep goes (issue 9): a system-wide perf profile of one CLI run
# (threads and kernel symbols) and a V8 CPU profile of its JavaScript (phases and functions).
#
#   sudo bash benches/profile.sh            (needs perf; prints a markdown section)
#
# SAFETY: the scan runs inside the lab's scanner namespace (no default route), target
# 198.19.0.0/16 only; the lab is removed on exit.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
id=${LAB_ID:-bprof}
work=$(mktemp -d)
trap 'bash "$repo/scripts/lab.sh" down "$id" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
LAB_OWNER_PID=$$ bash "$repo/scripts/lab.sh" up "$id" >"$work/facts"
ns=$(sed -n 's/^LAB_SCAN_NS=//p' "$work/facts")
[ -z "$(ip -n "$ns" route show default)" ] || { echo "profile.sh: $ns has a default route" >&2; exit 1; }
cmd=(node --cpu-prof --cpu-prof-dir="$work/prof" "$repo/bin/ferroscan.js" -sS -Pn -n -p 80 --open --rate 150000 -oL /dev/null 198.19.0.0/16)
# warm the page cache once
ip netns exec "$ns" node "$repo/bin/ferroscan.js" --version >/dev/null
perf record -q -a -g -e cpu-clock -F 4000 -o "$work/perf.data" -- ip netns exec "$ns" "${cmd[@]}" >/dev/null 2>"$work/perf.err"
echo "### Profile of \`ferroscan -sS -Pn -n -p 80 --open --rate 150000 -oL /dev/null 198.19.0.0/16\` ($(date -u '+%Y-%m-%d %H:%M UTC'))"
echo
echo "perf, every CPU, cpu-clock at 4 kHz, by thread (share of all samples on both cores, idle included; softirq work is charged to whichever thread it interrupted; the node process's main thread has tid = pid):"
echo
echo '```'
perf report -i "$work/perf.data" --no-children --sort pid --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -14 || true
echo '```'
echo
echo "perf, kernel and user symbols by thread (top 25):"
echo
echo '```'
perf report -i "$work/perf.data" --no-children --sort comm,sym --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -25 || true
echo '```'
echo
echo "V8 CPU profile of the node main thread: phases (ms from process start) and self time by function:"
echo
echo '```'
node "$repo/benches/cpuprofile-summary.mjs" "$work/prof"
echo '```'
