#!/usr/bin/env bash
# The service lab: real Debian daemons in a target namespace, for service and version
# detection (-sV) against nmap (test/lab-services.test.ts) and for benches/services.mjs.
#
#   scripts/lab-services.sh up [ID]      build lab ID (a stale lab of the same ID is removed first)
#   scripts/lab-services.sh down [ID]    remove lab ID: daemons, namespaces, state; never fails
#   scripts/lab-services.sh status [ID]  print the lab's facts; exit 1 when it is not up
#   scripts/lab-services.sh gc           remove labs whose owner (LAB_OWNER_PID at `up`) died
#
# ID: 1-8 characters of [a-z0-9], default 0. Namespaces fv<ID>-scan and fv<ID>-tgt, joined by
# a veth pair created directly inside them; neither has a default route. Every daemon runs in
# the target namespace, in the foreground (so `down` has its pid), from a config file written
# under the lab's state directory ($LAB_STATE_ROOT/<ID>, default /run/ferroscan-lab-services),
# never one in /etc, and binds 0.0.0.0 of that namespace only: nothing listens on the host.
#
#   198.18.16.1    scanner
#   198.18.16.2    target: every service below
#   198.18.17.0/24 local on the target (AnyIP): 256 more addresses served by the same daemons,
#                  for the 256 hosts x 3 services bench (LAB_MULTI_RANGE, LAB_MULTI_PORTS)
#
#   TCP  21 vsftpd              22, 2222 sshd          25, 587 exim4 (SMTP, submission)
#        53 dnsmasq             80, 8081 nginx          443, 8443 nginx over TLS (self-signed)
#        6379, 7000 redis       8080 lighttpd           11211 memcached
#        9999 accepts and closes at once (tcpwrapped)   4444 a banner nmap does not know
#   UDP  53 dnsmasq             161 snmpd (community LAB_SNMP_COMMUNITY)
#
# `up` and `status` print KEY=VALUE lines (kept in <state>/facts.env).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lab-lib.sh
source "$here/lab-lib.sh"
odd="$here/lab-services-odd.mjs"
state_root=${LAB_STATE_ROOT:-/run/ferroscan-lab-services}

die() { echo "lab-services.sh: $*" >&2; exit 1; }

cmd=${1:-}
id=${2:-0}
[[ $id =~ ^[a-z0-9]{1,8}$ ]] || die "bad lab ID '$id' (1-8 characters of a-z0-9)"
scan_ns="fv${id}-scan"
tgt_ns="fv${id}-tgt"
state="$state_root/$id"

scan_addr=198.18.16.1
tgt_addr=198.18.16.2
multi_range=198.18.17.0/24
domain=fslab.test
community=ferrolab

# name:port:proto for every service, in the order of the header above.
services=(
  vsftpd:21:tcp ssh:22:tcp ssh:2222:tcp exim:25:tcp exim:587:tcp dnsmasq:53:tcp
  nginx:80:tcp nginx:8081:tcp nginx-tls:443:tcp nginx-tls:8443:tcp
  redis:6379:tcp redis7000:7000:tcp lighttpd:8080:tcp memcached:11211:tcp
  wrapped:9999:tcp unknown:4444:tcp
  dnsmasq:53:udp snmpd:161:udp
)
multi_ports=22,80,6379

# Debian packages behind the daemons (.ci/run installs them; policy-rc.d keeps them stopped).
daemons=(/usr/sbin/sshd /usr/sbin/nginx /usr/sbin/vsftpd /usr/sbin/exim4 /usr/bin/redis-server
  /usr/bin/memcached /usr/sbin/dnsmasq /usr/sbin/snmpd /usr/sbin/lighttpd /usr/bin/openssl /usr/bin/ssh-keygen)

in_scan() { ip netns exec "$scan_ns" "$@"; }
in_tgt() { ip netns exec "$tgt_ns" "$@"; }

# Sets a sysctl inside a lab namespace if that namespace has its own copy; never the host's.
ns_sysctl() {
  local ns=$1 file="/proc/sys/${2//.//}" value=$3
  ip netns exec "$ns" sh -c "[ -w '$file' ] && echo '$value' > '$file'" 2>/dev/null || true
}

lab_down() {
  local pid f ns
  if [[ -d $state ]]; then
    for f in "$state"/*.pid; do
      [[ -e $f ]] || continue
      pid=$(<"$f")
      [[ $pid =~ ^[0-9]+$ ]] && kill "$pid" 2>/dev/null || true
    done
  fi
  # Whatever still runs inside the lab's namespaces: daemons' children, a scanner left behind.
  for ns in "$scan_ns" "$tgt_ns"; do
    if [[ -e /run/netns/$ns ]]; then
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
      ip netns del "$ns" 2>/dev/null || true
    fi
  done
  rm -rf "$state"
}

# start NAME CMD...: runs CMD in the target namespace in the background, output to NAME.log,
# its pid in NAME.pid. A plain command, not a shell function: bash then execs `ip`, and ip netns
# exec execs CMD, so the pid recorded is the daemon's own (a function would leave a subshell's).
start() {
  local name=$1
  shift
  ip netns exec "$tgt_ns" "$@" </dev/null >"$state/$name.log" 2>&1 &
  echo $! >"$state/$name.pid"
}

# Waits (15 s at most: a loaded machine starts daemons slowly) until every service's port is
# bound in the target namespace; names the ones that are not, with their logs.
wait_ports() {
  local s name port proto missing pidf deadline=$((SECONDS + 15))
  while ((SECONDS < deadline)); do
    missing=()
    local tcp udp
    tcp=$(in_tgt ss -Hltn 2>/dev/null | awk '{print $4}')
    udp=$(in_tgt ss -Hlun 2>/dev/null | awk '{print $4}')
    for s in "${services[@]}"; do
      IFS=: read -r name port proto <<<"$s"
      if [[ $proto == tcp ]]; then
        grep -qE "(^|:)$port\$" <<<"$tcp" || missing+=("$name:$port/$proto")
      else
        grep -qE "(^|:)$port\$" <<<"$udp" || missing+=("$name:$port/$proto")
      fi
    done
    ((${#missing[@]} == 0)) && return 0
    for pidf in "$state"/*.pid; do
      kill -0 "$(<"$pidf")" 2>/dev/null ||
        die "$(basename "$pidf" .pid) exited: $(tail -n 20 "${pidf%.pid}.log" 2>/dev/null)"
    done
    sleep 0.05
  done
  local logs="" m log
  for m in "${missing[@]}"; do
    # The process behind a service name (its .log and .pid names).
    case ${m%%:*} in
      ssh) log=sshd ;;
      nginx-tls) log=nginx ;;
      wrapped | unknown) log=odd ;;
      *) log=${m%%:*} ;;
    esac
    logs+=$'\n'"--- $log: $(tail -n 10 "$state/$log.log" 2>/dev/null)"
  done
  die "not listening after 15 s: ${missing[*]}$logs"
}

write_configs() {
  local d=$state
  mkdir -p "$d/tls" "$d/ssh" "$d/nginx" "$d/www" "$d/vsftpd/empty" "$d/exim/spool" "$d/exim/log" \
    "$d/redis6379" "$d/redis7000" "$d/snmp" "$d/lighttpd"
  chmod 755 "$d/vsftpd/empty"
  # lighttpd opens its error log after giving up root.
  chown www-data:www-data "$d/lighttpd"
  echo "ferroscan service lab" >"$d/www/index.html"

  # TLS: one self-signed certificate for both nginx TLS ports, made fresh at every `up`.
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=svc.$domain/O=ferroscan lab" \
    -keyout "$d/tls/key.pem" -out "$d/tls/cert.pem" >"$d/tls/openssl.log" 2>&1 ||
    die "openssl: $(cat "$d/tls/openssl.log")"

  # sshd: host keys of its own; -D keeps it in the foreground.
  local t
  for t in rsa ecdsa ed25519; do
    ssh-keygen -q -t "$t" -N '' -C "svc.$domain" -f "$d/ssh/host_$t" || die "ssh-keygen $t failed"
  done
  cat >"$d/ssh/sshd_config" <<EOF
Port 22
Port 2222
ListenAddress 0.0.0.0
HostKey $d/ssh/host_rsa
HostKey $d/ssh/host_ecdsa
HostKey $d/ssh/host_ed25519
PidFile $d/ssh/sshd.pid
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers nobody-in-this-lab
UseDNS no
LoginGraceTime 30
# The 256-host bench opens hundreds of unauthenticated connections at once.
MaxStartups 4000
EOF

  cat >"$d/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $d/nginx/nginx.pid;
error_log $d/nginx/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $d/nginx/body;
  proxy_temp_path $d/nginx/proxy;
  fastcgi_temp_path $d/nginx/fastcgi;
  uwsgi_temp_path $d/nginx/uwsgi;
  scgi_temp_path $d/nginx/scgi;
  default_type text/plain;
  server {
    listen 80;
    listen 8081;
    root $d/www;
  }
  server {
    listen 443 ssl;
    listen 8443 ssl;
    server_name svc.$domain;
    ssl_certificate $d/tls/cert.pem;
    ssl_certificate_key $d/tls/key.pem;
    root $d/www;
  }
}
EOF

  # vsftpd in standalone (listen) mode, in the foreground; anonymous logins with no upload.
  cat >"$d/vsftpd/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_port=21
background=NO
anonymous_enable=YES
anon_root=$d/www
local_enable=NO
write_enable=NO
secure_chroot_dir=$d/vsftpd/empty
pam_service_name=vsftpd
xferlog_enable=NO
max_clients=2000
max_per_ip=2000
EOF

  # exim4: accepts SMTP on 25 and 587, relays and delivers nothing (no routers), spool here.
  chown Debian-exim:Debian-exim "$d/exim/spool" "$d/exim/log" 2>/dev/null || true
  cat >"$d/exim/exim4.conf" <<EOF
primary_hostname = mail.$domain
daemon_smtp_ports = 25 : 587
local_interfaces = 0.0.0.0
spool_directory = $d/exim/spool
log_file_path = $d/exim/log/%slog
pid_file_path = $d/exim/exim.pid
acl_smtp_rcpt = acl_rcpt
smtp_accept_max = 2000
smtp_accept_max_per_host = 2000
smtp_accept_queue_per_connection = 0
host_lookup =
rfc1413_hosts =
begin acl
acl_rcpt:
  deny message = this lab delivers nothing
begin routers
begin transports
EOF

  local port
  for port in 6379 7000; do
    cat >"$d/redis$port/redis.conf" <<EOF
port $port
bind 0.0.0.0
protected-mode no
daemonize no
dir $d/redis$port
pidfile $d/redis$port/redis.pid
logfile ""
save ""
appendonly no
maxclients 10000
EOF
  done

  cat >"$d/snmp/snmpd.conf" <<EOF
agentAddress udp:0.0.0.0:161
rocommunity $community
sysName snmp.$domain
sysLocation ferroscan service lab
sysContact lab@$domain
[snmp] persistentDir $d/snmp
EOF

  cat >"$d/lighttpd/lighttpd.conf" <<EOF
server.document-root = "$d/www"
server.bind = "0.0.0.0"
server.port = 8080
server.pid-file = "$d/lighttpd/lighttpd.pid"
server.errorlog = "$d/lighttpd/error.log"
server.username = "www-data"
server.groupname = "www-data"
server.max-connections = 4096
index-file.names = ( "index.html" )
mimetype.assign = ( ".html" => "text/html" )
EOF
}

# The lab's ports of one protocol, sorted, comma-separated.
ports_of() {
  local s name port proto
  for s in "${services[@]}"; do
    IFS=: read -r name port proto <<<"$s"
    if [[ $proto == "$1" ]]; then echo "$port"; fi
  done | sort -nu | paste -sd,
}

lab_up() {
  [[ $(id -u) -eq 0 ]] || die "the lab needs root (it creates network namespaces)"
  local b
  for b in "${daemons[@]}"; do
    [[ -x $b ]] || die "$b is not installed (.ci/run installs the lab's Debian packages)"
  done
  lab_down
  mkdir -p "$state"
  echo "${LAB_OWNER_PID:-}" >"$state/owner"
  # A lab that fails half-way up is removed whole.
  trap 'lab_down' EXIT

  ip netns add "$scan_ns"
  ip netns add "$tgt_ns"
  ip link add name s0 netns "$scan_ns" type veth peer name t0 netns "$tgt_ns"
  local ns
  for ns in "$scan_ns" "$tgt_ns"; do
    ns_sysctl "$ns" net.ipv6.conf.all.disable_ipv6 1
    ns_sysctl "$ns" net.ipv6.conf.default.disable_ipv6 1
    ns_sysctl "$ns" net.ipv4.conf.all.rp_filter 0
    ns_sysctl "$ns" net.ipv4.conf.default.rp_filter 0
    ns_sysctl "$ns" net.core.somaxconn 65535
    ip -n "$ns" link set lo up
  done
  ns_sysctl "$tgt_ns" net.ipv4.icmp_ratelimit 0
  ns_sysctl "$tgt_ns" net.ipv4.tcp_max_syn_backlog 65536
  ip -n "$scan_ns" addr add "$scan_addr/24" dev s0
  ip -n "$tgt_ns" addr add "$tgt_addr/24" dev t0
  ip -n "$scan_ns" link set s0 up
  ip -n "$tgt_ns" link set t0 up
  ip -n "$scan_ns" route add "$multi_range" via "$tgt_addr" dev s0
  ip -n "$tgt_ns" route add local "$multi_range" dev lo
  [[ -z $(ip -n "$scan_ns" route show default) ]] || die "scanner namespace has a default route"
  [[ -z $(ip -n "$tgt_ns" route show default) ]] || die "target namespace has a default route"
  # Receive work of each veth end on its own core (see DESIGN.md, The lab).
  if (($(nproc) >= 2)); then
    in_tgt sh -c 'echo 2 > /sys/class/net/t0/queues/rx-0/rps_cpus' 2>/dev/null || true
    in_scan sh -c 'echo 1 > /sys/class/net/s0/queues/rx-0/rps_cpus' 2>/dev/null || true
  fi

  write_configs
  local d=$state
  # Hundreds of connections per daemon in the 256-host bench.
  ulimit -n 65536 2>/dev/null || true
  # OpenSSH's compiled-in privilege separation directory (Debian's unit creates it the same way).
  mkdir -p /run/sshd && chmod 755 /run/sshd

  start sshd /usr/sbin/sshd -D -e -f "$d/ssh/sshd_config"
  start nginx /usr/sbin/nginx -c "$d/nginx/nginx.conf" -p "$d/nginx/"
  start vsftpd /usr/sbin/vsftpd "$d/vsftpd/vsftpd.conf"
  start exim /usr/sbin/exim4 -C "$d/exim/exim4.conf" -bdf
  start redis /usr/bin/redis-server "$d/redis6379/redis.conf"
  start redis7000 /usr/bin/redis-server "$d/redis7000/redis.conf"
  start memcached /usr/bin/memcached -u nobody -l 0.0.0.0 -p 11211 -U 0 -c 8192
  start dnsmasq /usr/sbin/dnsmasq --keep-in-foreground --log-facility=- --conf-file=/dev/null \
    --port=53 --no-resolv --no-hosts --user=root --group=root --pid-file="$d/dnsmasq.pidfile" \
    --local=/$domain/ --local=/18.198.in-addr.arpa/ --local=/19.198.in-addr.arpa/ \
    --host-record="svc.$domain,$tgt_addr" --host-record="scanner.$domain,$scan_addr"
  start snmpd env SNMP_PERSISTENT_DIR="$d/snmp" /usr/sbin/snmpd -f -C -c "$d/snmp/snmpd.conf" \
    -Lf "$d/snmp/snmpd.log" -p "$d/snmp/snmpd.pidfile" -I -smux
  start lighttpd /usr/sbin/lighttpd -D -f "$d/lighttpd/lighttpd.conf"
  start odd node "$odd" "wrapped:0.0.0.0:9999" "banner:0.0.0.0:4444"
  wait_ports

  in_scan ping -c 1 -W 1 "$tgt_addr" >/dev/null 2>&1 || true
  local tcp_ports udp_ports list
  tcp_ports=$(ports_of tcp)
  udp_ports=$(ports_of udp)
  list=$(IFS=,; echo "${services[*]}")
  cat >"$state/facts.env" <<FACTS
LAB_ID=$id
LAB_SCAN_NS=$scan_ns
LAB_TARGET_NS=$tgt_ns
LAB_SCAN_ADDR=$scan_addr
LAB_TARGET_ADDR=$tgt_addr
LAB_TCP_PORTS=$tcp_ports
LAB_UDP_PORTS=$udp_ports
LAB_SERVICES=$list
LAB_TCPWRAPPED_PORT=9999
LAB_UNKNOWN_PORT=4444
LAB_UNKNOWN_BANNER=FERRO-LAB-7 ready
LAB_TLS_PORTS=443,8443
LAB_SNMP_COMMUNITY=$community
LAB_DOMAIN=$domain
LAB_MULTI_RANGE=$multi_range
LAB_MULTI_HOSTS=256
LAB_MULTI_PORTS=$multi_ports
LAB_STATE_DIR=$state
FACTS
  trap - EXIT
  cat "$state/facts.env"
}

lab_status() {
  [[ -f $state/facts.env ]] || { echo "LAB_ID=$id"; echo "LAB_UP=0"; return 1; }
  local up=1 f down=()
  [[ -e /run/netns/$scan_ns && -e /run/netns/$tgt_ns ]] || up=0
  for f in "$state"/*.pid; do
    kill -0 "$(<"$f")" 2>/dev/null || { up=0; down+=("$(basename "$f" .pid)"); }
  done
  cat "$state/facts.env"
  echo "LAB_UP=$up"
  ((${#down[@]} == 0)) || echo "LAB_DOWN_DAEMONS=$(IFS=,; echo "${down[*]}")"
  ((up))
}

lab_gc() { lab_gc_under "$state_root" "${BASH_SOURCE[0]}"; }

case $cmd in
  up) lab_up ;;
  down) lab_down ;;
  status) lab_status ;;
  gc) lab_gc ;;
  *) die "usage: lab-services.sh up|down|status [ID] | gc" ;;
esac
