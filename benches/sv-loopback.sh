#!/usr/bin/env bash
# Benchmark (issue 17): -sV where nmap is slowest, on loopback. The corpus servers of
# scripts/sv-corpus.mjs (banners nmap knows, HTTP replies, a softmatch-only FTP banner,
# unknown banners that never close, a tcpwrapped port, an MSSQL reply on a port nmap does not
# list, ...) listen on 127.0.0.1 (port + 10000); nmap -sV -sT and ferroscan -sV -sT scan them
# one after the other. Appends the wall times and whether every port agrees (service, product,
# version, extrainfo, CPEs from -oX) to benches/RESULTS-sv.md (NO_RESULTS=1: print only).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
work=$(mktemp -d /tmp/ferroscan-sv-loopback.XXXXXX)
node scripts/sv-corpus.mjs --serve 10000 >"$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do grep -q serving "$work/serve.log" && break; sleep 0.1; done
ports=$(sed -n 's/^serving //p' "$work/serve.log")
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$(date +%s.%N); nmap -sV -sT -Pn -n -p "$ports" -oX "$work/nmap.xml" 127.0.0.1 >/dev/null; t1=$(date +%s.%N)
node bin/ferroscan.js -sV -sT -Pn -n -p "$ports" -oX "$work/fs.xml" 127.0.0.1 >/dev/null; t2=$(date +%s.%N)
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
fields() { grep -o '<port protocol="tcp" portid="[0-9]*">.*</port>' "$1" | sed -E 's/ servicefp="[^"]*"//; s/<state[^>]*>//; s/uptime [0-9]+ seconds/uptime N seconds/' | sort; }
if diff <(fields "$work/nmap.xml") <(fields "$work/fs.xml") >"$work/diff"; then agree="every port's <service> (and CPEs) the same"; else agree="differences: $(head -c 400 "$work/diff" | tr '\n' ' ')"; fi
nm=$(echo "$t1 - $t0" | bc); fs=$(echo "$t2 - $t1" | bc)
out="nmap -sV -sT: ${nm} s; ferroscan -sV -sT: ${fs} s ($(echo "scale=3; $fs / $nm" | bc)x); ${agree}"
echo "$out"
[[ -n ${NO_RESULTS:-} ]] && exit 0
{
  echo
  echo "## $(date -u '+%Y-%m-%d %H:%M') UTC — sv-loopback: the corpus servers on 127.0.0.1 ($(echo "$ports" | tr ',' '\n' | wc -l) ports)"
  echo
  echo "$(nproc) cores, kernel $(uname -r), $(nmap --version | head -1), node $(node --version). Load average before $load_before, after $load_after (other helpers' builds and tests)."
  echo "Command: \`nmap|ferroscan -sV -sT -Pn -n -p $ports -oX FILE 127.0.0.1\`"
  echo
  echo "$out"
} >>benches/RESULTS-sv.md
