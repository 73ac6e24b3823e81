// The text of --help, grouped as nmap's help is, every line within 80 columns (a test checks).
// The defaults it quotes come from the modules that own them, so the help cannot drift from
// what a scan does.
import { DEFAULT_MAX_RETRIES, MAX_RETRIES } from '../engine/prepare.js';
import { START_RATES } from '../engine/rate.js';
import { PRODUCT, URL, VERSION } from '../version.js';
import { DEFAULT_STATS_EVERY_S } from './status.js';

export const HELP = `${PRODUCT} ${VERSION} ( ${URL} )
Usage: ${PRODUCT} [Scan Type(s)] [Options] [targets...]
TARGET SPECIFICATION:
  Addresses, CIDR blocks, octet ranges and lists, ranges and host names:
  Ex: 198.18.0.1, 198.18.0.0/24, 198.18.0-255.1-254, 198.18.0,2.1-3,
      198.18.0.1-198.18.1.9, example.com
  Each address is probed once, however many specifications name it.
  -iL <inputfilename>: Input from list of hosts/networks ("-": standard input)
  --exclude <host1[,host2][,host3],...>: Exclude hosts/networks
  --excludefile <exclude_file>: Exclude list from file
  --resolve-all: Scan every address a host name resolves to, not only the first
  --no-default-blocklist: Scan IANA special-purpose ranges in sets over a /8
  Default: 127.0.0.1
HOST DISCOVERY:
  -sn: Ping Scan - disable port scan
  -Pn: Treat all hosts as online -- skip host discovery
  -PS/PA/PU[portlist]: TCP SYN/ACK or UDP discovery to given ports
  -PE/PP/PM: ICMP echo, timestamp, and netmask request discovery probes
  -PR: ARP ping for targets on the local link (the default there)
  --disable-arp-ping: Use the IP probes on the local link too
  -n/-R: Never do reverse DNS resolution/Always resolve [default: for hosts up]
    (-n: targets given by name are still looked up)
  --dns-servers <serv1[,serv2],...>: Specify custom DNS servers
SCAN TECHNIQUES:
  -sS/sT/sA/sW/sM: TCP SYN/Connect()/ACK/Window/Maimon scans
    (-sS is the default; it needs root or CAP_NET_RAW, else it becomes -sT)
  -sU: UDP Scan (may be combined with one TCP scan type)
  -sN/sF/sX: TCP Null, FIN, and Xmas scans
  --scanflags <flags>: Customize TCP scan flags (SYNFIN, URGPSH, or a number)
  -sL: List Scan - simply list targets to scan (sends nothing)
SERVICE/VERSION DETECTION:
  -sV: Probe open ports to determine service/version info (nmap's probes,
    read at run time from /usr/share/nmap/nmap-service-probes: Debian's
    nmap-common package)
  --version-intensity <level>: Set from 0 (light) to 9 (try all probes)
    (default: 7)
  --version-light: Limit to most likely probes (intensity 2)
  --version-all: Try every single probe (intensity 9)
  --version-trace: Show detailed version scan activity (for debugging)
  --versiondb <file>: Read the service probes from <file> instead
  --allports: Also probe the ports the probe file excludes (9100-9107, printers)
  --version-parallelism <number>: Connections open at once for -sV (default:
    1024); a port's probes run in parallel connections, resolved in nmap's order
PORT SPECIFICATION AND SCAN ORDER:
  -p <port ranges>: Only scan specified ports
    Ex: -p22; -p1-65535; -p-; -p 22,80,1024-; -p http,ssh; -p U:53,T:21-25,80
  --exclude-ports <port ranges>: Exclude the specified ports from scanning
  -F: Fast mode - Scan fewer ports than the default scan (top 100)
  -r: Scan ports sequentially - don't randomize
  --top-ports <number>: Scan <number> most common ports (default: 1000)
  --seed <number>: Seed of the probe order (same seed, same order)
OS DETECTION:
  -O: Enable OS detection (nmap's second-generation probes; root or CAP_NET_RAW)
  --osscan-limit: Limit OS detection to promising targets
  --osscan-guess, --fuzzy: Guess OS more aggressively
  --max-os-tries <tries>: Tries per host without a perfect match (default: 5,
    at most 50)
  --osdb <file>: nmap's OS fingerprint database (default:
    /usr/share/nmap/nmap-os-db; ferroscan ships none: install nmap or give one)
  --os-hints: Passive OS hints from the SYN scan's own SYN+ACKs, no extra
    packet (p0f's signatures; --p0f-db <file>, default /etc/p0f/p0f.fp)
TIMING AND PERFORMANCE:
  Options which take <time> are in seconds, or append 'ms' (milliseconds),
  's' (seconds), 'm' (minutes), or 'h' (hours) to the value (e.g. 30m).
  -T<0-5>: Set timing template (higher is faster); or -T paranoid, sneaky,
    polite, normal, aggressive or insane. nmap's values: -T4 =
    --initial-rtt-timeout 500ms --min-rtt-timeout 100ms
    --max-rtt-timeout 1250ms --max-retries 6; -T5 = 250ms/50ms/300ms,
    --max-retries 2, --host-timeout 15m; -T0/-T1/-T2 = --scan-delay
    5m/15s/400ms. Explicit options override the template.
  Without --rate the send rate is found: it starts at ${START_RATES[3]} packets per
    second (-T4 ${START_RATES[4]}, -T5 ${START_RATES[5]}), doubles while replies keep pace with
    probes and backs off to what the path carried on loss, with no cap;
    -T4/-T5 also probe faster past a loss. Rates count retransmissions.
  --rate <number>: Send at a fixed <number> packets per second from the first
    probe (lowered only while nmap's loss rules call for it)
  --max-rate <number>: The found rate never rises above <number> per second
  --min-rate <number>: The rate, found or fixed, never falls below <number>
    packets per second
  --min-rtt-timeout/max-rtt-timeout/initial-rtt-timeout <time>: Bounds and
    start of the retransmission timeout (default: 100ms/10s/1s)
  --max-retries <tries>: Retransmissions of an unanswered probe
    (default: ${DEFAULT_MAX_RETRIES}, at most ${MAX_RETRIES})
  --scan-delay <time>: At least <time> between probes: caps the rate at
    1/<time> for the whole scan (nmap's delay is per host)
  --host-timeout <time>: Give up after <time>. Hosts are scanned interleaved,
    so this bounds the whole scan: when it passes, every host still up is
    reported as timed out
FIREWALL/IDS EVASION AND SPOOFING:
  -S <IP_Address>: Source address (another host's only with -e)
  -e <iface>: Use specified interface
  --rst-policy <kernel|suppress>: This host's RSTs to the SYN/ACKs a SYN scan
    draws: kernel (default) lets the kernel send them, as nmap does; suppress
    drops those SYN/ACKs in this namespace's raw table while the scan runs
    (iptables; the rule is always removed), leaving targets with half-open
    connections until their SYN/ACK retries meet a RST after it
OUTPUT:
  -oN/-oX/-oG <file>: Output scan in normal, XML and grepable format
  -oJ <file>: One JSON document
  --ndjson <file>: One JSON object per line as results arrive
  --csv <file>: One CSV row per listed port; -oL <file>: masscan's list format
  -oA <basename>: Output in the three major formats at once
  A file name of "-" writes that format to stdout instead of the report
  Files are written as <file>.part and renamed when the scan ends (a failed
    scan leaves <file> as it was); every format but -oN writes each host as
    soon as it is complete; -oN and the terminal list all hosts at the end in
    target order, as nmap does
  -v: Increase verbosity level (use -vv or more for greater effect)
  --reason: Display the reason a port is in a particular state
  --open: Only show open (or possibly open) ports
  --packet-trace: Show all packets sent and received
  --stats-every <time>: Print status lines every <time> (e.g. 10s, 500ms, 2m)
    On a terminal a live progress line is shown on stderr; otherwise
    status lines come every ${DEFAULT_STATS_EVERY_S}s. Press any key during a scan for the status.
LARGE SWEEPS:
  --shard <i/N>: Scan only shard i of N (the same --seed on every shard;
    together they cover the scan once)
  --resume <file>: Continue an interrupted scan (Ctrl-C, or killed) from its
    resume file, appending to its output files
  --resume-file <file>: Where a scan keeps its resume file, rewritten every
    few seconds and removed when the scan finishes (default: ferroscan.resume)
  --dry-run: Build every packet and send none; reports packets per second
  --pcap <file>: Write every packet sent (or built, with --dry-run) to a file
SCANNING FROM MANY MACHINES (Temporal; needs the @temporalio/* packages):
  --temporal <host:port> --shards <N>: Run the scan on the workers of a
    Temporal server, split in N shards of the seeded permutation, and write
    its outputs here, merged (with -Pn, one scan type; --rate is each
    shard's rate)
  --heartbeat-timeout <time>: Retry a shard on another worker when its worker
    is silent this long (default: 20s); the retry resumes from its last cursor
  --max-attempts <n>: Tries per shard (default: 10)
  --task-queue <name>, --temporal-namespace <name>: The workers' task queue
    and Temporal namespace
  ${PRODUCT} worker --temporal <host:port>: Run a worker on this machine
    (see ${PRODUCT} worker --help)
MISC:
  --no-drop-privileges: Keep root for the whole run. By default a run as root
    gives root up once its raw sockets are open, to the sudo user (else to
    nobody), keeping only CAP_NET_RAW and CAP_NET_ADMIN
  -A: Enable OS detection and version detection (-O -sV; nmap's -A also
    runs scripts and traceroute)
  -6: Enable IPv6 scanning (targets such as 2001:db8::1, 2001:db8::/112 or
    fe80::1%eth0; names resolve to AAAA records; on-link hosts are found by
    neighbour discovery)
  -V, --version: Print version number
  -h, --help: Print this help summary page.
EXAMPLES:
  ${PRODUCT} -v -sS 198.18.0.0/24
  ${PRODUCT} -Pn -p80,443 --rate 50000 198.18.0.0/16
  ${PRODUCT} -p22,80 --packet-trace 198.18.0.2
  ${PRODUCT} -O -v 198.18.0.2
  ${PRODUCT} -p- --open -oX scan.xml --ndjson scan.ndjson 198.18.0.2
  ${PRODUCT} -sV -p 21,22,80,443 198.18.0.2
  ${PRODUCT} -6 -sS -p 22,80 2001:2::2
`;
