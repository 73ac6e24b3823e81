#!/usr/bin/env bash
# The IPv6 network-namespace lab: the IPv4 lab's ports and rules (scripts/lab-spec.json)
# over IPv6, for ferroscan's -6 lab tests and benches.
#
#   scripts/lab6.sh up [ID]      build lab ID (tears down a stale lab of the same ID first)
#   scripts/lab6.sh down [ID]    remove lab ID: processes, namespaces, state; never fails
#   scripts/lab6.sh status [ID]  print the lab's facts; exit 1 when the lab is not up
#   scripts/lab6.sh gc           remove labs whose owner process (LAB_OWNER_PID at `up`) died
#
# ID defaults to 0: 1-8 characters of [a-z0-9]. Lab ID lives in namespaces f6<ID>-scan and
# f6<ID>-tgt, joined by a veth pair created directly inside them (nothing in the host
# namespace). Addresses come only from 2001:2::/48 (RFC 5180) and ::1, added with nodad:
# the scanner 2001:2::1/64, the target 2001:2::2/64 and a second on-link address 2001:2::3 on
# the same veth. The target answers for the whole sweep prefix (ipv6.sweep.local, a /64) by a
# local route on lo; the scanner reaches it through a route via the target's link-local
# address (Linux answers no neighbour solicitation for local-route-only addresses, so the
# prefix cannot be on-link). Neither namespace has a default route, and IPv4 has no address
# in either: nothing they send can leave the lab. ip6tables mirrors the IPv4 lab's DROP and
# REJECT rules, each REJECT with the ICMPv6 type lab-spec.json's ipv6.reject names.
#
# `up` and `status` print KEY=VALUE lines (also kept in $LAB_STATE_ROOT/<ID>/facts.env).
# Environment: LAB_OWNER_PID (recorded for gc), LAB_LOSS (probability 0..1 of dropping each
# packet arriving at the target, by ip6tables' statistic match), LAB_ICMP (unset or "open":
# the target sends ICMPv6 errors without rate limit; "default": it keeps the kernel's
# default limits, as a real host does), LAB_RPS_SCAN / LAB_RPS_TGT (rps_cpus masks).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lab-lib.sh
source "$here/lab-lib.sh"
spec="$here/lab-spec.json"
listener="$here/lab-listener.mjs"
state_root=${LAB_STATE_ROOT:-/run/ferroscan-lab6}

die() { echo "lab6.sh: $*" >&2; exit 1; }

cmd=${1:-}
id=${2:-0}
[[ $id =~ ^[a-z0-9]{1,8}$ ]] || die "bad lab ID '$id' (1-8 characters of a-z0-9)"
scan_ns="f6${id}-scan"
tgt_ns="f6${id}-tgt"
state="$state_root/$id"
scan_if=veth0
tgt_if=veth0

in_scan() { ip netns exec "$scan_ns" "$@"; }
in_tgt() { ip netns exec "$tgt_ns" "$@"; }

# Reads the lab description; prints shell-safe lines for the shell to act on. Every address
# must lie in 2001:2::/48 (or be ::1): the lab refuses to build otherwise.
spec_lines() {
  node - "$spec" <<'JS'
const { isIPv6 } = require('node:net');
const spec = JSON.parse(require('node:fs').readFileSync(process.argv[2], 'utf8'));
const v6 = spec.ipv6;
const ok = (v, re) => { if (!re.test(String(v))) throw new Error(`lab-spec.json: bad value ${v}`); return v; };
// the eight groups of an IPv6 address
const groups = (a) => {
  const [h, t] = a.includes('::') ? a.split('::') : [a, null];
  const hs = h ? h.split(':') : [];
  const ts = t ? t.split(':') : [];
  return [...hs, ...(t === null ? [] : Array(8 - hs.length - ts.length).fill('0')), ...ts].map((x) => parseInt(x, 16));
};
// 2001:2::/48: the first three groups are 2001, 2 and 0
const lab = (a) => {
  const addr = String(a).split('/')[0];
  const g = isIPv6(addr) ? groups(addr) : [];
  if (g[0] !== 0x2001 || g[1] !== 2 || g[2] !== 0) throw new Error(`lab-spec.json: ${a} is not in 2001:2::/48`);
  return a;
};
const word = /^[a-z0-9-]+$/, num = /^\d+$/;
console.log(`SCAN_ADDR ${lab(v6.scanner.addr)} ${ok(v6.scanner.prefix, num)}`);
console.log(`TGT_ADDR ${lab(v6.target.addr)} ${ok(v6.target.prefix, num)} ${lab(v6.target.alias)}`);
console.log(`SWEEP ${lab(v6.sweep.cidr)} ${lab(v6.sweep.local)} ${ok(v6.sweep.port, num)}`);
console.log(`LOOPBACK ${ok(v6.loopback.addr, /^::1$/)} ${ok(v6.loopback.open, num)} ${ok(v6.loopback.closed, num)}`);
console.log(`ABSENT ${lab(v6.absent)}`);
const bind = (b) => (b === '0.0.0.0' ? '::' : b === spec.target.addr ? v6.target.addr : null);
const reject = (w) => ok(v6.reject[w] ?? '', /^(icmp6-[a-z-]+|tcp-reset)$/);
for (const p of spec.ports) {
  ok(p.port, num);
  if (p.rule === 'listen') {
    const b = bind(p.bind);
    if (b === null) throw new Error(`lab-spec.json: no IPv6 bind for ${p.bind}`);
    console.log(`LISTEN ${b} ${p.port}`);
  } else if (p.rule === 'drop') console.log(`DROP ${p.port}`);
  else if (p.rule === 'reject') console.log(`REJECT ${p.port} ${reject(p.with)}`);
  else if (p.rule === 'ackdrop') console.log(`ACKDROP ${p.port}`);
  else if (p.rule !== 'none') throw new Error(`lab-spec.json: unknown rule ${p.rule}`);
}
for (const p of spec.udp ?? []) {
  ok(p.port, num);
  if (p.rule === 'answer') console.log(`UDP_LISTEN udp:${v6.target.addr}:${p.port}`);
  else if (p.rule === 'silent') console.log(`UDP_LISTEN udp-silent:${v6.target.addr}:${p.port}`);
  else if (p.rule === 'drop') console.log(`UDP_DROP ${p.port}`);
  else if (p.rule === 'reject') console.log(`UDP_REJECT ${p.port} ${reject(p.with)}`);
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
    2>/dev/null || echo "lab6.sh: note: could not set rps_cpus on $ns/$dev" >&2
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

# The link-local address of a namespace's veth (the kernel makes one when the link comes up).
link_local() {
  local ns=$1
  for _ in $(seq 50); do
    local a
    a=$(ip -n "$ns" -6 addr show dev veth0 scope link 2>/dev/null | awk '/inet6/ { sub("/.*", "", $2); print $2; exit }')
    [[ -n $a ]] && { echo "$a"; return 0; }
    sleep 0.05
  done
  die "no link-local address on $ns/veth0"
}

lab_up() {
  [[ $(id -u) -eq 0 ]] || die "the lab needs root (it creates network namespaces)"
  lab_down
  mkdir -p "$state"
  echo "${LAB_OWNER_PID:-}" >"$state/owner"

  local scan_addr scan_prefix tgt_addr tgt_prefix tgt_alias sweep_cidr sweep_local sweep_port absent
  local lo_addr lo_open lo_closed kind a b c
  local -a listen=() drop=() reject=() ackdrop=() udp_drop=() udp_reject=()
  while read -r kind a b c; do
    case $kind in
      SCAN_ADDR) scan_addr=$a scan_prefix=$b ;;
      TGT_ADDR) tgt_addr=$a tgt_prefix=$b tgt_alias=$c ;;
      SWEEP) sweep_cidr=$a sweep_local=$b sweep_port=$c ;;
      LOOPBACK) lo_addr=$a lo_open=$b lo_closed=$c ;;
      ABSENT) absent=$a ;;
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
  for ns in "$scan_ns" "$tgt_ns"; do
    # Addresses usable at once (no duplicate address detection), no autoconfiguration and no
    # router solicitations, so captures hold only the scan's own packets and their answers.
    ns_sysctl "$ns" net.ipv6.conf.all.disable_ipv6 0
    ns_sysctl "$ns" net.ipv6.conf.default.disable_ipv6 0
    ns_sysctl "$ns" net.ipv6.conf.all.accept_dad 0
    ns_sysctl "$ns" net.ipv6.conf.default.accept_dad 0
    ns_sysctl "$ns" net.ipv6.conf.all.accept_ra 0
    ns_sysctl "$ns" net.ipv6.conf.default.accept_ra 0
    ns_sysctl "$ns" net.ipv6.conf.all.router_solicitations 0
    ns_sysctl "$ns" net.ipv6.conf.default.router_solicitations 0
    ns_sysctl "$ns" net.ipv6.conf.default.use_tempaddr 0
    ns_sysctl "$ns" net.core.somaxconn 65535
    ip -n "$ns" link set lo up
  done
  ip link add name "$scan_if" netns "$scan_ns" type veth peer name "$tgt_if" netns "$tgt_ns"
  # The target answers fast scans in full: no ICMPv6 error rate limit (the per-destination
  # limit, and the global token bucket IPv4 and IPv6 share), unless LAB_ICMP=default asks for
  # the kernel's defaults, set explicitly here.
  local icmp=${LAB_ICMP:-open}
  case $icmp in
    open)
      ns_sysctl "$tgt_ns" net.ipv6.icmp.ratelimit 0
      ns_sysctl "$tgt_ns" net.ipv4.icmp_msgs_per_sec 1000000
      ns_sysctl "$tgt_ns" net.ipv4.icmp_msgs_burst 1000000
      ;;
    default)
      ns_sysctl "$tgt_ns" net.ipv6.icmp.ratelimit 1000
      ns_sysctl "$tgt_ns" net.ipv4.icmp_msgs_per_sec 1000
      ns_sysctl "$tgt_ns" net.ipv4.icmp_msgs_burst 50
      ;;
    *) die "bad LAB_ICMP '$icmp' (open or default)" ;;
  esac
  ns_sysctl "$tgt_ns" net.ipv4.tcp_syncookies 1
  ns_sysctl "$tgt_ns" net.ipv4.tcp_max_syn_backlog 65536

  ip -n "$scan_ns" -6 addr add "$scan_addr/$scan_prefix" dev "$scan_if" nodad
  ip -n "$tgt_ns" -6 addr add "$tgt_addr/$tgt_prefix" dev "$tgt_if" nodad
  ip -n "$tgt_ns" -6 addr add "$tgt_alias/$tgt_prefix" dev "$tgt_if" nodad
  ip -n "$scan_ns" link set "$scan_if" up
  ip -n "$tgt_ns" link set "$tgt_if" up
  local tgt_ll scan_ll
  tgt_ll=$(link_local "$tgt_ns")
  scan_ll=$(link_local "$scan_ns")
  ip -n "$tgt_ns" -6 route add local "$sweep_local" dev lo
  ip -n "$scan_ns" -6 route add "$sweep_local" via "$tgt_ll" dev "$scan_if"
  for ns in "$scan_ns" "$tgt_ns"; do
    [[ -z $(ip -n "$ns" -6 route show default) ]] || die "$ns has an IPv6 default route"
    [[ -z $(ip -n "$ns" -4 route show) ]] || die "$ns has IPv4 routes"
  done

  if (($(nproc) >= 2)); then
    set_rps "$tgt_ns" "$tgt_if" "${LAB_RPS_TGT:-2}"
    set_rps "$scan_ns" "$scan_if" "${LAB_RPS_SCAN:-1}"
  fi

  local ipt=(ip netns exec "$tgt_ns" ip6tables -w)
  if [[ -n ${LAB_LOSS:-} ]]; then
    [[ $LAB_LOSS =~ ^(0|1|0?\.[0-9]+)$ ]] || die "bad LAB_LOSS '$LAB_LOSS'"
    # Neighbour discovery is spared: losing it would lose the link, not probes.
    "${ipt[@]}" -A INPUT -i "$tgt_if" -p icmpv6 --icmpv6-type neighbour-solicitation -j ACCEPT
    "${ipt[@]}" -A INPUT -i "$tgt_if" -m statistic --mode random --probability "$LAB_LOSS" -j DROP
  fi
  for p in "${drop[@]}"; do
    "${ipt[@]}" -A INPUT -i "$tgt_if" -d "$tgt_addr" -p tcp --dport "$p" -j DROP
  done
  for r in "${reject[@]}"; do
    "${ipt[@]}" -A INPUT -i "$tgt_if" -d "$tgt_addr" -p tcp --dport "${r%%:*}" \
      -j REJECT --reject-with "${r#*:}"
  done
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

  # Both ends learn each other's link-layer address now (a UDP datagram each way to a
  # closed port), so the first probe of a scan does not wait for neighbour discovery and
  # other scanners find the router's MAC in the table.
  in_scan node -e "const s=require('dgram').createSocket('udp6');s.send('x',9,'$tgt_ll%$scan_if',()=>s.send('x',9,'$tgt_addr',()=>s.close()))" || true
  in_tgt node -e "const s=require('dgram').createSocket('udp6');s.send('x',9,'$scan_addr',()=>s.close())" || true
  sleep 0.2
  local scan_mac tgt_mac
  scan_mac=$(in_scan cat "/sys/class/net/$scan_if/address")
  tgt_mac=$(in_tgt cat "/sys/class/net/$tgt_if/address")

  local ports_csv udp_csv icmp_now
  ports_csv=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).ports.map(p=>p.port).sort((a,b)=>a-b).join(","))' "$spec")
  udp_csv=$(node -e 'console.log((JSON.parse(require("fs").readFileSync(process.argv[1])).udp??[]).map(p=>p.port).sort((a,b)=>a-b).join(","))' "$spec")
  icmp_now=$(in_tgt sh -c 'echo $(cat /proc/sys/net/ipv6/icmp/ratelimit)/$(cat /proc/sys/net/ipv4/icmp_msgs_per_sec)/$(cat /proc/sys/net/ipv4/icmp_msgs_burst)')
  cat >"$state/facts.env" <<FACTS
LAB_ID=$id
LAB_SCAN_NS=$scan_ns
LAB_TARGET_NS=$tgt_ns
LAB_SCAN_IF=$scan_if
LAB_TARGET_IF=$tgt_if
LAB_SCAN_ADDR=$scan_addr
LAB_TARGET_ADDR=$tgt_addr
LAB_TARGET_ALIAS=$tgt_alias
LAB_ABSENT_ADDR=$absent
LAB_SCAN_LL=$scan_ll
LAB_TARGET_LL=$tgt_ll
LAB_SCAN_MAC=$scan_mac
LAB_TARGET_MAC=$tgt_mac
LAB_SWEEP_CIDR=$sweep_cidr
LAB_SWEEP_LOCAL=$sweep_local
LAB_SWEEP_PORT=$sweep_port
LAB_SPEC_PORTS=$ports_csv
LAB_SPEC_UDP_PORTS=$udp_csv
LAB_ICMP=$icmp
LAB_ICMP_LIMITS=$icmp_now
LAB_LOOPBACK_ADDR=$lo_addr
LAB_LOOPBACK_OPEN=$lo_open
LAB_LOOPBACK_CLOSED=$lo_closed
LAB_LOSS=${LAB_LOSS:-0}
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
  *) die "usage: lab6.sh up|down|status [ID] | gc" ;;
esac
