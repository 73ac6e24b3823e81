#!/usr/bin/env bash
# The host-discovery lab: several hosts on one Ethernet segment, a DNS server, and two
# routed ranges, for the discovery, reverse-DNS and MAC-address tests (test/lab-discovery.test.ts).
#
#   scripts/lab-discovery.sh up [ID]      build lab ID (a stale lab of the same ID is removed first)
#   scripts/lab-discovery.sh down [ID]    remove lab ID: processes, namespaces, state; never fails
#   scripts/lab-discovery.sh status [ID]  print the lab's facts; exit 1 when it is not up
#   scripts/lab-discovery.sh gc           remove labs whose owner (LAB_OWNER_PID at `up`) died
#
# ID: 1-8 characters of [a-z0-9], default 0. Namespaces fd<ID>-<role>; every veth is created
# directly inside them and the bridge lives in a namespace of its own (fd<ID>-sw), so nothing
# is added to the host namespace. No namespace has a default route.
#
#   198.18.8.0/24, one bridge                      MAC (fixed, so vendors are known)
#     .1  scan     the scanner                     random
#     .2  up       answers everything; TCP 80, 443 listeners; dnsmasq on :53
#                                                  52:54:00:12:08:02 (QEMU virtual NIC)
#     .3  noicmp   drops all ICMP input; TCP 443 listener; TCP port 80 dropped
#                                                  08:00:27:12:08:03 (Oracle VirtualBox virtual NIC)
#     .4  arponly  drops all IP input: answers ARP only
#                                                  02:42:c6:12:08:04 (locally administered: no vendor)
#     .5  absent   nothing there
#   198.18.9.0/28   routed via .3, local there: answers only SYN to 443 (syn-ack)
#   198.18.10.0/28  routed via .2, local there: answers only ICMP echo (echo-reply)
#
# dnsmasq (Debian package dnsmasq) on 198.18.8.2 serves PTR records for the names listed in
# LAB_DNS_NAMES below and answers NXDOMAIN for every other address of 198.18.0.0/15.
# `up` and `status` print KEY=VALUE lines (kept in $LAB_STATE_ROOT/<ID>/facts.env).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lab-lib.sh
source "$here/lab-lib.sh"
listener="$here/lab-listener.mjs"
state_root=${LAB_STATE_ROOT:-/run/ferroscan-lab-discovery}

die() { echo "lab-discovery.sh: $*" >&2; exit 1; }

cmd=${1:-}
id=${2:-0}
[[ $id =~ ^[a-z0-9]{1,8}$ ]] || die "bad lab ID '$id' (1-8 characters of a-z0-9)"
prefix="fd${id}"
sw_ns="$prefix-sw"
roles=(scan up noicmp arponly)
state="$state_root/$id"

net=198.18.8
declare -A addr=([scan]=$net.1 [up]=$net.2 [noicmp]=$net.3 [arponly]=$net.4)
declare -A mac=([up]=52:54:00:12:08:02 [noicmp]=08:00:27:12:08:03 [arponly]=02:42:c6:12:08:04)
absent=$net.5
syn_range=198.18.9.0/28
echo_range=198.18.10.0/28
dns_domain=fslab.test
# address=name pairs the lab's DNS answers PTR queries for (and A queries, the other way).
dns_names=(
  "$net.1=scanner.$dns_domain"
  "$net.2=up.$dns_domain"
  "$net.3=noicmp.$dns_domain"
  "$net.4=arponly.$dns_domain"
  "$net.5=absent.$dns_domain"
  "198.18.9.1=syn1.$dns_domain"
  "198.18.10.1=echo1.$dns_domain"
)

ns() { echo "$prefix-$1"; }
in_ns() { local n; n=$(ns "$1"); shift; ip netns exec "$n" "$@"; }

# Sets a sysctl inside a lab namespace if that namespace has its own copy; never the host's.
ns_sysctl() {
  local n=$1 file="/proc/sys/${2//.//}" value=$3
  ip netns exec "$n" sh -c "[ -w '$file' ] && echo '$value' > '$file'" 2>/dev/null || true
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
  for n in "$sw_ns" $(for r in "${roles[@]}"; do ns "$r"; done); do
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

lab_up() {
  [[ $(id -u) -eq 0 ]] || die "the lab needs root (it creates network namespaces)"
  command -v dnsmasq >/dev/null || die "dnsmasq is not installed (Debian package dnsmasq)"
  lab_down
  mkdir -p "$state"
  echo "${LAB_OWNER_PID:-}" >"$state/owner"

  ip netns add "$sw_ns"
  ip -n "$sw_ns" link set lo up
  ip -n "$sw_ns" link add br0 type bridge
  # No STP, no forwarding delay: a port forwards as soon as it is up.
  ip -n "$sw_ns" link set br0 type bridge stp_state 0 forward_delay 0
  ip -n "$sw_ns" link set br0 up
  local r n
  for r in "${roles[@]}"; do
    n=$(ns "$r")
    ip netns add "$n"
    ns_sysctl "$n" net.ipv6.conf.all.disable_ipv6 1
    ns_sysctl "$n" net.ipv6.conf.default.disable_ipv6 1
    ns_sysctl "$n" net.ipv4.conf.all.rp_filter 0
    ns_sysctl "$n" net.ipv4.conf.default.rp_filter 0
    # Every ICMP answer in full: nothing here may be lost to the rate limit.
    ns_sysctl "$n" net.ipv4.icmp_ratelimit 0
    ns_sysctl "$n" net.ipv4.icmp_echo_ignore_all 0
    ns_sysctl "$n" net.ipv4.icmp_echo_ignore_broadcasts 1
    ip -n "$n" link set lo up
    ip link add name eth0 netns "$n" type veth peer name "p-$r" netns "$sw_ns"
    ns_sysctl "$n" net.ipv4.conf.eth0.rp_filter 0
    [[ -n ${mac[$r]:-} ]] && ip -n "$n" link set eth0 address "${mac[$r]}"
    ip -n "$n" addr add "${addr[$r]}/24" dev eth0
    ip -n "$n" link set eth0 up
    ip -n "$sw_ns" link set "p-$r" master br0
    ip -n "$sw_ns" link set "p-$r" up
  done

  # Routed ranges: local on their host, reached through it.
  ip -n "$(ns scan)" route add "$syn_range" via "${addr[noicmp]}" dev eth0
  ip -n "$(ns noicmp)" route add local "$syn_range" dev lo
  ip -n "$(ns scan)" route add "$echo_range" via "${addr[up]}" dev eth0
  ip -n "$(ns up)" route add local "$echo_range" dev lo
  for r in "${roles[@]}"; do
    [[ -z $(ip -n "$(ns "$r")" route show default) ]] || die "$(ns "$r") has a default route"
  done

  local ipt
  # up: answers everything on its own address; the echo range answers ICMP echo only.
  ipt=(ip netns exec "$(ns up)" iptables -w)
  "${ipt[@]}" -A INPUT -d "$echo_range" -p icmp --icmp-type echo-request -j ACCEPT
  "${ipt[@]}" -A INPUT -d "$echo_range" -j DROP
  # noicmp: no ICMP at all; port 80 dropped; the SYN range answers only SYNs to 443.
  ipt=(ip netns exec "$(ns noicmp)" iptables -w)
  "${ipt[@]}" -A INPUT -p icmp -j DROP
  "${ipt[@]}" -A INPUT -p tcp --dport 80 -j DROP
  "${ipt[@]}" -A INPUT -d "$syn_range" -p tcp --dport 443 --tcp-flags SYN,ACK,FIN,RST SYN -j ACCEPT
  "${ipt[@]}" -A INPUT -d "$syn_range" -j DROP
  # arponly: no IP input whatsoever (ARP is not IP: the kernel still answers it).
  ipt=(ip netns exec "$(ns arponly)" iptables -w)
  "${ipt[@]}" -P INPUT DROP

  in_ns up node "$listener" "0.0.0.0:80" "0.0.0.0:443" </dev/null >"$state/up-listener.log" 2>&1 &
  echo $! >"$state/up-listener.pid"
  in_ns noicmp node "$listener" "0.0.0.0:443" </dev/null >"$state/noicmp-listener.log" 2>&1 &
  echo $! >"$state/noicmp-listener.pid"

  local -a dns_args=()
  local pair
  for pair in "${dns_names[@]}"; do dns_args+=("--host-record=${pair#*=},${pair%%=*}"); done
  in_ns up dnsmasq --no-daemon --conf-file=/dev/null --listen-address="${addr[up]}" --bind-interfaces \
    --port=53 --no-resolv --no-hosts --no-dhcp-interface=eth0 --user=root --group=root \
    --local=/18.198.in-addr.arpa/ --local=/19.198.in-addr.arpa/ --local=/$dns_domain/ \
    "${dns_args[@]}" </dev/null >"$state/dnsmasq.log" 2>&1 &
  echo $! >"$state/dnsmasq.pid"

  wait_for up-listener "$(<"$state/up-listener.pid")" "grep -q '^listening' '$state/up-listener.log'"
  wait_for noicmp-listener "$(<"$state/noicmp-listener.pid")" "grep -q '^listening' '$state/noicmp-listener.log'"
  wait_for dnsmasq "$(<"$state/dnsmasq.pid")" \
    "in_ns up sh -c 'grep -q \":0035 \" /proc/net/udp' 2>/dev/null"

  local scan_mac names
  scan_mac=$(in_ns scan cat /sys/class/net/eth0/address)
  names=$(IFS=,; echo "${dns_names[*]}")
  cat >"$state/facts.env" <<FACTS
LAB_ID=$id
LAB_SCAN_NS=$(ns scan)
LAB_UP_NS=$(ns up)
LAB_NOICMP_NS=$(ns noicmp)
LAB_ARPONLY_NS=$(ns arponly)
LAB_SWITCH_NS=$sw_ns
LAB_CIDR=$net.0/24
LAB_SCAN_ADDR=${addr[scan]}
LAB_UP_ADDR=${addr[up]}
LAB_NOICMP_ADDR=${addr[noicmp]}
LAB_ARPONLY_ADDR=${addr[arponly]}
LAB_ABSENT_ADDR=$absent
LAB_SCAN_MAC=$scan_mac
LAB_UP_MAC=${mac[up]}
LAB_NOICMP_MAC=${mac[noicmp]}
LAB_ARPONLY_MAC=${mac[arponly]}
LAB_SYN_RANGE=$syn_range
LAB_ECHO_RANGE=$echo_range
LAB_DNS_SERVER=${addr[up]}
LAB_DNS_NAMES=$names
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
  *) die "usage: lab-discovery.sh up|down|status [ID] | gc" ;;
esac
