#!/usr/bin/env bash
# The OS-detection lab: several targets whose kernels answer nmap's OS probes differently, for
# the -O golden tests (test/lab-os.test.ts) and the OS benchmarks (benches/os.mjs).
#
#   scripts/lab-os.sh up [ID]      build lab ID (a stale lab of the same ID is removed first)
#   scripts/lab-os.sh down [ID]    remove lab ID: processes, namespaces, state; never fails
#   scripts/lab-os.sh status [ID]  print the lab's facts; exit 1 when it is not up
#   scripts/lab-os.sh gc           remove labs whose owner (LAB_OWNER_PID at `up`) died
#
# ID: 1-8 characters of [a-z0-9], default 0. Namespaces fo<ID>-<role>; every veth is created
# directly inside them, the bridge lives in a namespace of its own (fo<ID>-sw), so nothing is
# added to the host namespace. No namespace has a default route.
#
# There is one Linux kernel, so the targets differ by their namespace's TCP/IP sysctls:
#
#   198.18.24.0/24, one bridge
#     .1  scan      the scanner
#     .2  linux     the kernel's defaults
#     .3  bare      no timestamps, no SACK, no window scaling, small receive buffer
#     .4  ecn       ECN on, initial TTL 128, ignores ICMP echo
#     .5  ttl255    initial TTL 255, no timestamps, larger receive buffer, no SACK
#     .6  noclosed  only the open port answers: every other TCP and UDP port is dropped
#     .7  router    forwards to 198.18.25.0/24
#     .8  steady    timestamps without per-connection offsets (tcp_timestamps=2): a real uptime
#     .9  shared    one IP ID counter for everything it sends, as older stacks and Windows
#                   have (an nftables rule rewrites the IP ID; Debian package nftables)
#   198.18.25.0/24, behind the router (two hops away)
#     .2  far       the kernel's defaults
#
#     .32+ x0, x1, ...  LAB_EXTRA=N more hosts with the kernel's defaults (for benchmarks)
#
# Every target listens on TCP 22 and 80 (scripts/lab-listener.mjs); every other port is
# closed (RST, ICMP port unreachable) except on noclosed. ICMP errors are not rate limited,
# so each probe's answer is deterministic. `up` and `status` print KEY=VALUE lines (kept in
# $LAB_STATE_ROOT/<ID>/facts.env).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lab-lib.sh
source "$here/lab-lib.sh"
listener="$here/lab-listener.mjs"
state_root=${LAB_STATE_ROOT:-/run/ferroscan-lab-os}

die() { echo "lab-os.sh: $*" >&2; exit 1; }

cmd=${1:-}
id=${2:-0}
[[ $id =~ ^[a-z0-9]{1,8}$ ]] || die "bad lab ID '$id' (1-8 characters of a-z0-9)"
prefix="fo${id}"
sw_ns="$prefix-sw"
# on the bridge, in address order; `far` hangs off the router
bridged=(scan linux bare ecn ttl255 noclosed router steady shared)
targets=(linux bare ecn ttl255 noclosed steady shared far)
extra=${LAB_EXTRA:-0}
[[ $extra =~ ^[0-9]+$ && $extra -le 64 ]] || die "LAB_EXTRA must be 0-64"
state="$state_root/$id"

net=198.18.24
far_net=198.18.25
declare -A addr=([scan]=$net.1 [linux]=$net.2 [bare]=$net.3 [ecn]=$net.4 [ttl255]=$net.5
  [noclosed]=$net.6 [router]=$net.7 [steady]=$net.8 [shared]=$net.9 [far]=$far_net.2)
router_far_addr=$far_net.1
open_ports=(22 80)
for ((i = 0; i < extra; i++)); do
  bridged+=("x$i")
  targets+=("x$i")
  addr[x$i]=$net.$((32 + i))
done

# Each target's sysctls (net.ipv4.*), beyond the common ones set for every namespace.
declare -A sysctls=(
  [linux]=""
  [bare]="tcp_timestamps=0 tcp_sack=0 tcp_window_scaling=0 tcp_rmem=4096_8192_8192"
  [ecn]="tcp_ecn=1 ip_default_ttl=128 icmp_echo_ignore_all=1"
  [ttl255]="ip_default_ttl=255 tcp_timestamps=0 tcp_sack=0 tcp_rmem=4096_262144_6291456"
  [noclosed]=""
  [steady]="tcp_timestamps=2"
  [shared]=""
  [far]=""
)
for ((i = 0; i < extra; i++)); do sysctls[x$i]=""; done

ns() { echo "$prefix-$1"; }
in_ns() { local n; n=$(ns "$1"); shift; ip netns exec "$n" "$@"; }

# Sets a sysctl inside a lab namespace if that namespace has its own copy; never the host's.
ns_sysctl() {
  local n=$1 file="/proc/sys/${2//.//}" value=$3
  ip netns exec "$n" sh -c "[ -w '$file' ] && echo '$value' > '$file'" 2>/dev/null || true
}

# Like ns_sysctl, but the lab is wrong without it: fails when the namespace has no own copy.
ns_sysctl_must() {
  local n=$1 file="/proc/sys/${2//.//}" value=$3
  ip netns exec "$n" sh -c "echo '$value' > '$file'" 2>/dev/null || die "cannot set $2 in $n"
  [[ $(ip netns exec "$n" cat "$file" | tr -s '\t ' ' ') == "$value" ]] || die "$2 in $n did not take $value"
}

all_ns() {
  local r
  echo "$sw_ns"
  for r in "${bridged[@]}" far; do ns "$r"; done
  # extra hosts of an earlier `up` with a larger LAB_EXTRA
  ip netns list | awk '{print $1}' | grep -E "^$prefix-x[0-9]+$" || true
}

lab_down() {
  local pid f n
  if [[ -d $state ]]; then
    for f in "$state"/*.pid; do
      [[ -e $f ]] || continue
      pid=$(<"$f")
      [[ $pid =~ ^[0-9]+$ ]] && kill "$pid" 2>/dev/null || true
    done
  fi
  for n in $(all_ns); do
    if [[ -e /run/netns/$n ]]; then
      for pid in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
      ip netns del "$n" 2>/dev/null || true
    fi
  done
  rm -rf "$state"
}

wait_for() {
  local what=$1 pid=$2 check=$3
  for _ in $(seq 100); do
    eval "$check" && return 0
    kill -0 "$pid" 2>/dev/null || die "$what exited: $(cat "$state/$what.log" 2>/dev/null)"
    sleep 0.05
  done
  die "$what not ready after 5s: $(cat "$state/$what.log" 2>/dev/null)"
}

common_sysctls() {
  local n=$1
  ns_sysctl "$n" net.ipv6.conf.all.disable_ipv6 1
  ns_sysctl "$n" net.ipv6.conf.default.disable_ipv6 1
  ns_sysctl "$n" net.ipv4.conf.all.rp_filter 0
  ns_sysctl "$n" net.ipv4.conf.default.rp_filter 0
  # Every ICMP answer in full: a probe's answer must not depend on what came before it.
  ns_sysctl "$n" net.ipv4.icmp_ratelimit 0
  ns_sysctl "$n" net.ipv4.icmp_msgs_per_sec 100000
  ns_sysctl "$n" net.ipv4.icmp_echo_ignore_all 0
}

lab_up() {
  [[ $(id -u) -eq 0 ]] || die "the lab needs root (it creates network namespaces)"
  command -v nft >/dev/null || die "nft is not installed (Debian package nftables)"
  lab_down
  mkdir -p "$state"
  echo "${LAB_OWNER_PID:-}" >"$state/owner"

  ip netns add "$sw_ns"
  ip -n "$sw_ns" link set lo up
  ip -n "$sw_ns" link add br0 type bridge
  # No STP, no forwarding delay: a port forwards as soon as it is up.
  ip -n "$sw_ns" link set br0 type bridge stp_state 0 forward_delay 0
  ip -n "$sw_ns" link set br0 up
  local r n kv
  for r in "${bridged[@]}" far; do
    n=$(ns "$r")
    ip netns add "$n"
    common_sysctls "$n"
    ip -n "$n" link set lo up
  done
  for r in "${bridged[@]}"; do
    n=$(ns "$r")
    ip link add name eth0 netns "$n" type veth peer name "p-$r" netns "$sw_ns"
    ns_sysctl "$n" net.ipv4.conf.eth0.rp_filter 0
    ip -n "$n" addr add "${addr[$r]}/24" dev eth0
    ip -n "$n" link set eth0 up
    ip -n "$sw_ns" link set "p-$r" master br0
    ip -n "$sw_ns" link set "p-$r" up
  done

  # far: its own link to the router, which forwards between the two networks.
  ip link add name eth1 netns "$(ns router)" type veth peer name eth0 netns "$(ns far)"
  ip -n "$(ns router)" addr add "$router_far_addr/24" dev eth1
  ip -n "$(ns router)" link set eth1 up
  ip -n "$(ns far)" addr add "${addr[far]}/24" dev eth0
  ip -n "$(ns far)" link set eth0 up
  ns_sysctl_must "$(ns router)" net.ipv4.ip_forward 1
  ip -n "$(ns scan)" route add "$far_net.0/24" via "${addr[router]}" dev eth0
  ip -n "$(ns far)" route add "$net.0/24" via "$router_far_addr" dev eth0
  for r in "${bridged[@]}" far; do
    [[ -z $(ip -n "$(ns "$r")" route show default) ]] || die "$(ns "$r") has a default route"
  done

  for r in "${targets[@]}"; do
    for kv in ${sysctls[$r]}; do
      ns_sysctl_must "$(ns "$r")" "net.ipv4.${kv%%=*}" "$(echo "${kv#*=}" | tr _ ' ')"
    done
  done

  # noclosed: the open ports and ICMP answer; every other port is silently dropped.
  local ipt=(ip netns exec "$(ns noclosed)" iptables -w)
  local p
  for p in "${open_ports[@]}"; do "${ipt[@]}" -A INPUT -p tcp --dport "$p" -j ACCEPT; done
  "${ipt[@]}" -A INPUT -p tcp -j DROP
  "${ipt[@]}" -A INPUT -p udp -j DROP

  # shared: every datagram it sends leaves with the next value of one counter (the kernel's
  # own IP IDs are per connection); numgen's 32-bit value is shifted into the 16-bit field
  ip netns exec "$(ns shared)" nft -f - <<NFT || die "cannot set the shared IP ID rule"
table ip fslab {
  chain out {
    type filter hook output priority mangle; policy accept;
    ip saddr ${addr[shared]} ip id set numgen inc mod 65536 << 16
  }
}
NFT

  local specs
  for r in "${targets[@]}"; do
    specs=()
    for p in "${open_ports[@]}"; do specs+=("0.0.0.0:$p"); done
    in_ns "$r" node "$listener" "${specs[@]}" </dev/null >"$state/$r-listener.log" 2>&1 &
    echo $! >"$state/$r-listener.pid"
  done
  for r in "${targets[@]}"; do
    wait_for "$r-listener" "$(<"$state/$r-listener.pid")" "grep -q '^listening' '$state/$r-listener.log'"
  done

  local list=() macs=()
  for r in "${targets[@]}"; do
    list+=("$r=${addr[$r]}")
    [[ $r == far ]] || macs+=("$r=$(in_ns "$r" cat /sys/class/net/eth0/address)")
  done
  cat >"$state/facts.env" <<FACTS
LAB_ID=$id
LAB_SCAN_NS=$(ns scan)
LAB_SWITCH_NS=$sw_ns
LAB_SCAN_ADDR=${addr[scan]}
LAB_SCAN_MAC=$(in_ns scan cat /sys/class/net/eth0/address)
LAB_ROUTER_ADDR=${addr[router]}
LAB_TARGETS=$(IFS=,; echo "${list[*]}")
LAB_TARGET_MACS=$(IFS=,; echo "${macs[*]}")
LAB_OPEN_PORTS=$(IFS=,; echo "${open_ports[*]}")
LAB_NOCLOSED=${addr[noclosed]}
LAB_STATE_DIR=$state
FACTS
  cat "$state/facts.env"
}

lab_status() {
  [[ -f $state/facts.env ]] || { echo "LAB_ID=$id"; echo "LAB_UP=0"; return 1; }
  local up=1 f
  [[ -e /run/netns/$sw_ns ]] || up=0
  for f in "$state"/*.pid; do kill -0 "$(<"$f")" 2>/dev/null || up=0; done
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
  *) die "usage: lab-os.sh up|down|status [ID] | gc" ;;
esac
