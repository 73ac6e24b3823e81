#!/usr/bin/env bash
# Benchmark (issue 17): -sV matching speed. Tests responses that match no line against the
# whole nmap-service-probes database (every match line of every probe, through each probe's
# prefilter) on one core, and a sample without the prefilter. Appends the figures, dated,
# to benches/RESULTS-sv.md (NO_RESULTS=1: print only). N=20000 responses by default.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
n=${N:-20000}
db=${DB:-/usr/share/nmap/nmap-service-probes}
cargo build --release -q -p ferroscan-core --example sv_match_bench
out=$(taskset -c 0 target/release/examples/sv_match_bench "$n" "$db")
echo "$out"
[[ -n ${NO_RESULTS:-} ]] && exit 0
{
  echo
  echo "## $(date -u '+%Y-%m-%d %H:%M') UTC — sv-match: unmatched responses against the whole probe database"
  echo
  echo "$(nproc) cores, kernel $(uname -r), pinned to core 0 (taskset), $(rustc --version | cut -d' ' -f1-2)."
  echo "Other load on the machine: ${LOAD_NOTE:-$(cut -d' ' -f1-3 /proc/loadavg) (1/5/15-minute load average)}."
  echo
  echo '```'
  echo "$out"
  echo '```'
} >>benches/RESULTS-sv.md
