#!/usr/bin/env bash
# The network-namespace lab that ferroscan's lab tests and benches scan.
#
#   scripts/lab.sh up [ID]      build lab ID (tears down a stale lab of the same ID first)
#   scripts/lab.sh down [ID]    remove lab ID: processes, namespaces, state; never fails
#   scripts/lab.sh status [ID]  print the lab's facts; exit 1 when the lab is not up
#   scripts/lab.sh gc           remove labs whose owner process (LAB_OWNER_PID at `up`) died
#
# ID defaults to 0: 1-8 characters of [a-z0-9]. Lab ID lives in namespaces fs<ID>-scan and
# fs<ID>-tgt, joined by a veth pair created directly inside them (nothing in the host
# namespace). The scanner namespace reaches 198.18.0.0/24 and, through the target, the local
# range 198.19.0.0/16; it has no default route, so nothing it sends can leave the lab.
# What listens, drops and rejects is described once, in scripts/lab-spec.json.
#
# `up` and `status` print KEY=VALUE lines (also kept in $LAB_STATE_ROOT/<ID>/facts.env).
# Environment: LAB_OWNER_PID (recorded for gc), LAB_LOSS (probability 0..1 of dropping each
# packet arriving at the target, for the target address and the sweep range alike, via
# iptables' statistic match; the kernel here has no netem), LAB_ICMP (unset or "open": the
# target sends ICMP errors without rate limit; "default": it keeps the kernel's default ICMP
# rate limit, as a real host does), LAB_BOTTLENECK (N: the target drops every packet from the
# scanner above N packets per second, a path that carries N; the scanner's own kernel's RSTs
# are not probes and pass, so a SYN scan meets the limit at N probes/s), LAB_RPS_SCAN /
# LAB_RPS_TGT (rps_cpus masks of the scanner's and the target's veth end).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lab-lib.sh
source "$here/lab-lib.sh"
spec="$here/lab-spec.json"
listener="$here/lab-listener.mjs"
state_root=${LAB_STATE_ROOT:-/run/ferroscan-lab}

die() { echo "lab.sh: $*" >&2; exit 1; }

cmd=${1:-}
id=${2:-0}
[[ $id =~ ^[a-z0-9]{1,8}$ ]] || die "bad lab ID '$id' (1-8 characters of a-z0-9)"
scan_ns="fs${id}-scan"
tgt_ns="fs${id}-tgt"
state="$state_root/$id"

in_scan() { ip netns exec "$scan_ns" "$@"; }
in_tgt() { ip netns exec "$tgt_ns" "$@"; }

# Reads the lab description; prints shell-safe lines for the shell to act on.
spec_lines() {
  node - "$spec" <<'JS'
const spec = JSON.parse(require('node:fs').readFileSync(process.argv[2], 'utf8'));
const ok = (v, re) => { if (!re.test(String(v))) throw new Error(`lab-spec.json: bad value ${v}`); return v; };
const ip = /^198\.1[89]\.\d+\.\d+$/, cidr = /^198\.1[89]\.\d+\.\d+\/\d+$/, word = /^[a-z0-9-]+$/, num = /^\d+$/;
console.log(`SCAN_ADDR ${ok(spec.scanner.addr, ip)} ${ok(spec.scanner.prefix, num)} ${ok(spec.scanner.if, word)}`);
console.log(`TGT_ADDR ${ok(spec.target.addr, ip)} ${ok(spec.target.prefix, num)} ${ok(spec.target.if, word)}`);
console.log(`SWEEP ${ok(spec.sweep.cidr, cidr)} ${ok(spec.sweep.port, num)}`);
console.log(`LOOPBACK ${ok(spec.loopback.addr, /^127\.0\.0\.1$/)} ${ok(spec.loopback.open, num)} ${ok(spec.loopback.closed, num)}`);
for (const p of spec.ports) {
  ok(p.port, num);
  if (p.rule === 'listen') console.log(`LISTEN ${ok(p.bind, /^(0\.0\.0\.0|198\.1[89]\.\d+\.\d+)$/)} ${p.port}`);
  else if (p.rule === 'drop') console.log(`DROP ${p.port}`);
  else if (p.rule === 'reject') console.log(`REJECT ${p.port} ${ok(p.with, word)}`);
  else if (p.rule === 'ackdrop') console.log(`ACKDROP ${p.port}`);
  else if (p.rule !== 'none') throw new Error(`lab-spec.json: unknown rule ${p.rule}`);
}
for (const p of spec.udp ?? []) {
  ok(p.port, num);
  if (p.rule === 'answer') console.log(`UDP_LISTEN udp:${ok(spec.target.addr, ip)}:${p.port}`);
  else if (p.rule === 'silent') console.log(`UDP_LISTEN udp-silent:${ok(spec.target.addr, ip)}:${p.port}`);
  else if (p.rule === 'drop') console.log(`UDP_DROP ${p.port}`);
  else if (p.rule === 'reject') console.log(`UDP_REJECT ${p.port} ${ok(p.with, word)}`);
  else if (p.rule !== 'none') throw new Error(`lab-spec.json: unknown udp rule ${p.rule}`);
}
JS
}

lab_down() {
  local pid
  if [[ -d $state ]]; then
    for f in "$state"/*.pid; do
      [[ -e $f ]] || continue
      pid=$(<"$f")
      [[ $pid =~ ^[0-9]+$ ]] && kill "$pid" 2>/dev/null || true
    done
  fi
  # Whatever else still runs inside the lab's own namespaces (a scanner a test left behind).
  for ns in "$scan_ns" "$tgt_ns"; do
    if [[ -e /run/netns/$ns ]]; then
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
      ip netns del "$ns" 2>/dev/null || true
    fi
  done
  rm -rf "$state"
}

# Sets a sysctl inside a lab namespace if that namespace has its own copy; never the host's.
ns_sysctl() {
  local ns=$1 key=$2 value=$3 file="/proc/sys/${2//.//}"
  ip netns exec "$ns" sh -c "[ -w '$file' ] && echo '$value' > '$file'" 2>/dev/null || true
}

set_rps() {
  local ns=$1 dev=$2 mask=$3
  ip netns exec "$ns" sh -c "f=/sys/class/net/$dev/queues/rx-0/rps_cpus; [ -w \$f ] && echo $mask > \$f" \
    2>/dev/null || echo "lab.sh: note: could not set rps_cpus on $ns/$dev" >&2
}

wait_listening() {
  local log=$1 pid=$2
  for _ in $(seq 100); do
    grep -q '^listening' "$log" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || die "listener exited: $(cat "$log")"
    sleep 0.05
  done
  die "listener not ready after 5s: $(cat "$log")"
}

lab_up() {
  [[ $(id -u) -eq 0 ]] || die "the lab needs root (it creates network namespaces)"
  lab_down
  mkdir -p "$state"
  echo "${LAB_OWNER_PID:-}" >"$state/owner"

  local scan_addr scan_prefix scan_if tgt_addr tgt_prefix tgt_if sweep_cidr sweep_port
  local lo_addr lo_open lo_closed kind a b c
  local -a listen=() drop=() reject=() ackdrop=() udp_drop=() udp_reject=()
  while read -r kind a b c; do
    case $kind in
      SCAN_ADDR) scan_addr=$a scan_prefix=$b scan_if=$c ;;
      TGT_ADDR) tgt_addr=$a tgt_prefix=$b tgt_if=$c ;;
      SWEEP) sweep_cidr=$a sweep_port=$b ;;
      LOOPBACK) lo_addr=$a lo_open=$b lo_closed=$c ;;
      LISTEN) listen+=("$a:$b") ;;
      DROP) drop+=("$a") ;;
      REJECT) reject+=("$a:$b") ;;
      ACKDROP) ackdrop+=("$a") ;;
      UDP_LISTEN) listen+=("$a") ;;
      UDP_DROP) udp_drop+=("$a") ;;
      UDP_REJECT) udp_reject+=("$a:$b") ;;
    esac
  done < <(spec_lines)

  ip netns add "$scan_ns"
  ip netns add "$tgt_ns"
  ip link add name "$scan_if" netns "$scan_ns" type veth peer name "$tgt_if" netns "$tgt_ns"

  for ns in "$scan_ns" "$tgt_ns"; do
    # No IPv6 yet: keeps router solicitations and DAD out of captures.
    ns_sysctl "$ns" net.ipv6.conf.all.disable_ipv6 1
    ns_sysctl "$ns" net.ipv6.conf.default.disable_ipv6 1
    ns_sysctl "$ns" net.ipv4.conf.all.rp_filter 0
    ns_sysctl "$ns" net.ipv4.conf.default.rp_filter 0
    ns_sysctl "$ns" net.core.somaxconn 65535
    ip -n "$ns" link set lo up
  done
  ns_sysctl "$scan_ns" "net.ipv4.conf.$scan_if.rp_filter" 0
  ns_sysctl "$tgt_ns" "net.ipv4.conf.$tgt_if.rp_filter" 0
  # The target answers fast scans in full: no ICMP error rate limit (unless LAB_ICMP=default
  # asks for the kernel's defaults, set explicitly here), SYN cookies when the SYN queue of
  # port 80 fills during a sweep.
  local icmp=${LAB_ICMP:-open}
  case $icmp in
    open)
      ns_sysctl "$tgt_ns" net.ipv4.icmp_ratelimit 0
      ns_sysctl "$tgt_ns" net.ipv4.icmp_msgs_per_sec 1000000
      ns_sysctl "$tgt_ns" net.ipv4.icmp_msgs_burst 1000000
      ;;
    default)
      ns_sysctl "$tgt_ns" net.ipv4.icmp_ratelimit 1000
      ns_sysctl "$tgt_ns" net.ipv4.icmp_msgs_per_sec 1000
      ns_sysctl "$tgt_ns" net.ipv4.icmp_msgs_burst 50
      ;;
    *) die "bad LAB_ICMP '$icmp' (open or default)" ;;
  esac
  ns_sysctl "$tgt_ns" net.ipv4.tcp_syncookies 1
  ns_sysctl "$tgt_ns" net.ipv4.tcp_max_syn_backlog 65536

  ip -n "$scan_ns" addr add "$scan_addr/$scan_prefix" dev "$scan_if"
  ip -n "$tgt_ns" addr add "$tgt_addr/$tgt_prefix" dev "$tgt_if"
  ip -n "$scan_ns" link set "$scan_if" up
  ip -n "$tgt_ns" link set "$tgt_if" up
  ip -n "$scan_ns" route add "$sweep_cidr" via "$tgt_addr" dev "$scan_if"
  ip -n "$tgt_ns" route add local "$sweep_cidr" dev lo
  [[ -z $(ip -n "$scan_ns" route show default) ]] || die "scanner namespace has a default route"
  [[ -z $(ip -n "$tgt_ns" route show default) ]] || die "target namespace has a default route"

  # On a 2-core machine the target's kernel work would otherwise run in the sender's time
  # slice: receive processing of each veth end goes to its own core.
  if (($(nproc) >= 2)); then
    set_rps "$tgt_ns" "$tgt_if" "${LAB_RPS_TGT:-2}"
    set_rps "$scan_ns" "$scan_if" "${LAB_RPS_SCAN:-1}"
  fi

  local ipt=(ip netns exec "$tgt_ns" iptables -w)
  if [[ -n ${LAB_BOTTLENECK:-} ]]; then
    [[ $LAB_BOTTLENECK =~ ^[1-9][0-9]{0,6}$ ]] || die "bad LAB_BOTTLENECK '$LAB_BOTTLENECK' (packets per second, 1-9999999)"
    # One token bucket for everything arriving (hashlimit with no mode), filled at N per
    # second and holding 10 ms of it, in the raw table: before conntrack, the loss rule and
    # the per-port rules, as a policer on the path would be.
    local burst=$((LAB_BOTTLENECK / 100 > 5 ? LAB_BOTTLENECK / 100 : 5))
    "${ipt[@]}" -t raw -A PREROUTING -i "$tgt_if" -p tcp --tcp-flags RST RST -j ACCEPT
    "${ipt[@]}" -t raw -A PREROUTING -i "$tgt_if" -m hashlimit --hashlimit-above "$LAB_BOTTLENECK/sec" \
      --hashlimit-burst "$burst" --hashlimit-name "fs${id}neck" -j DROP
  fi
  if [[ -n ${LAB_LOSS:-} ]]; then
    [[ $LAB_LOSS =~ ^(0|1|0?\.[0-9]+)$ ]] || die "bad LAB_LOSS '$LAB_LOSS'"
    "${ipt[@]}" -A INPUT -i "$tgt_if" -m statistic --mode random --probability "$LAB_LOSS" -j DROP
  fi
  for p in "${drop[@]}"; do
    "${ipt[@]}" -A INPUT -i "$tgt_if" -d "$tgt_addr" -p tcp --dport "$p" -j DROP
  done
  for r in "${reject[@]}"; do
    "${ipt[@]}" -A INPUT -i "$tgt_if" -d "$tgt_addr" -p tcp --dport "${r%%:*}" \
      -j REJECT --reject-with "${r#*:}"
  done
  # Bare ACKs only (the ACK and Window scans' probe): a SYN, FIN, RST or FIN/ACK passes.
  for p in "${ackdrop[@]}"; do
    "${ipt[@]}" -A INPUT -i "$tgt_if" -d "$tgt_addr" -p tcp --dport "$p" \
      --tcp-flags SYN,ACK,FIN,RST ACK -j DROP
  done
  for p in "${udp_drop[@]}"; do
    "${ipt[@]}" -A INPUT -i "$tgt_if" -d "$tgt_addr" -p udp --dport "$p" -j DROP
  done
  for r in "${udp_reject[@]}"; do
    "${ipt[@]}" -A INPUT -i "$tgt_if" -d "$tgt_addr" -p udp --dport "${r%%:*}" \
      -j REJECT --reject-with "${r#*:}"
  done

  in_tgt node "$listener" "${listen[@]}" </dev/null >"$state/target-listener.log" 2>&1 &
  echo $! >"$state/target-listener.pid"
  in_scan node "$listener" "$lo_addr:$lo_open" </dev/null >"$state/loopback-listener.log" 2>&1 &
  echo $! >"$state/loopback-listener.pid"
  wait_listening "$state/target-listener.log" "$(<"$state/target-listener.pid")"
  wait_listening "$state/loopback-listener.log" "$(<"$state/loopback-listener.pid")"

  # Resolve the target's MAC now so scanners that want a gateway MAC (zmap -G, masscan
  # --router-mac) can be given one, and so the first probe does not wait for ARP.
  in_scan ping -c 1 -W 1 "$tgt_addr" >/dev/null 2>&1 || true
  local scan_mac tgt_mac
  scan_mac=$(in_scan cat "/sys/class/net/$scan_if/address")
  tgt_mac=$(in_tgt cat "/sys/class/net/$tgt_if/address")

  local ports_csv
  local udp_csv icmp_now
  ports_csv=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).ports.map(p=>p.port).sort((a,b)=>a-b).join(","))' "$spec")
  udp_csv=$(node -e 'console.log((JSON.parse(require("fs").readFileSync(process.argv[1])).udp??[]).map(p=>p.port).sort((a,b)=>a-b).join(","))' "$spec")
  icmp_now=$(in_tgt sh -c 'echo $(cat /proc/sys/net/ipv4/icmp_ratelimit)/$(cat /proc/sys/net/ipv4/icmp_msgs_per_sec)/$(cat /proc/sys/net/ipv4/icmp_msgs_burst)')
  cat >"$state/facts.env" <<FACTS
LAB_ID=$id
LAB_SCAN_NS=$scan_ns
LAB_TARGET_NS=$tgt_ns
LAB_SCAN_IF=$scan_if
LAB_TARGET_IF=$tgt_if
LAB_SCAN_ADDR=$scan_addr
LAB_TARGET_ADDR=$tgt_addr
LAB_SCAN_MAC=$scan_mac
LAB_TARGET_MAC=$tgt_mac
LAB_SWEEP_CIDR=$sweep_cidr
LAB_SWEEP_PORT=$sweep_port
LAB_SPEC_PORTS=$ports_csv
LAB_SPEC_UDP_PORTS=$udp_csv
LAB_ICMP=$icmp
LAB_ICMP_LIMITS=$icmp_now
LAB_LOOPBACK_ADDR=$lo_addr
LAB_LOOPBACK_OPEN=$lo_open
LAB_LOOPBACK_CLOSED=$lo_closed
LAB_LOSS=${LAB_LOSS:-0}
LAB_BOTTLENECK=${LAB_BOTTLENECK:-0}
LAB_SPEC=$spec
LAB_STATE_DIR=$state
FACTS
  cat "$state/facts.env"
}

lab_status() {
  [[ -f $state/facts.env ]] || { echo "LAB_ID=$id"; echo "LAB_UP=0"; return 1; }
  local up=1
  [[ -e /run/netns/$scan_ns && -e /run/netns/$tgt_ns ]] || up=0
  kill -0 "$(<"$state/target-listener.pid")" 2>/dev/null || up=0
  cat "$state/facts.env"
  echo "LAB_UP=$up"
  ((up))
}

lab_gc() { lab_gc_under "$state_root" "${BASH_SOURCE[0]}"; }

case $cmd in
  up) lab_up ;;
  down) lab_down ;;
  status) lab_status ;;
  gc) lab_gc ;;
  *) die "usage: lab.sh up|down|status [ID] | gc" ;;
esac
