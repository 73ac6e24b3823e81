// Host discovery without packets: the -P options as nmap parses them, what each engine record
// says about its host, on-link detection from a routing table, MAC vendor tables, and reverse
// DNS against a fake resolver (bounded concurrency, timeouts, failures).
import test from 'ava';
import { preprocessArgv } from '../ts/cli/flags.js';
import { DEFAULT_PROBES, hostEvidence, parseDiscoveryFlags } from '../ts/hosts/discovery.js';
import { macVendor, parseIeeeRegistry, parseNmapMacPrefixes } from '../ts/hosts/oui.js';
import { parseDnsServers, reverseLookup, type PtrResolver } from '../ts/hosts/rdns.js';
import { RecordKind, type EngineRecord } from '../ts/engine/records.js';
import { groupByRoute, parseProcRoutes, splitOnLink } from '../ts/engine/routes.js';
import { parseIPv4 } from '../ts/targets/address.js';

test('-P options: nmap defaults, attached port lists, merging', (t) => {
  t.deepEqual(parseDiscoveryFlags([]).probes, [...DEFAULT_PROBES]);
  t.true(parseDiscoveryFlags([]).arp);
  t.false(parseDiscoveryFlags([], true).arp);
  t.deepEqual(parseDiscoveryFlags(['-PS']).probes, [{ type: 'syn', ports: [80] }]);
  t.deepEqual(parseDiscoveryFlags(['-PA']).probes, [{ type: 'ack', ports: [80] }]);
  t.deepEqual(parseDiscoveryFlags(['-PU']).probes, [{ type: 'udp', ports: [40125] }]);
  t.deepEqual(parseDiscoveryFlags(['-PS80,443', '-PS22-23', '-PE']).probes, [{ type: 'syn', ports: [22, 23, 80, 443] }, { type: 'echo' }]);
  t.deepEqual(parseDiscoveryFlags(['PP', 'PU53']).probes, [{ type: 'timestamp' }, { type: 'udp', ports: [53] }]);
  // -PR only says "ARP on the link", which is the default: routed targets keep the default probes.
  t.deepEqual(parseDiscoveryFlags(['-PR']).probes, [...DEFAULT_PROBES]);
  t.deepEqual(parseDiscoveryFlags(['-PM']).probes, [{ type: 'mask' }]);
  t.throws(() => parseDiscoveryFlags(['-PSabc']), { message: /^invalid port list in -PS "abc"/ });
  t.throws(() => parseDiscoveryFlags(['-PY']), { message: 'host discovery option "-PY" is not supported yet' });
  t.throws(() => parseDiscoveryFlags(['-PZ']), { message: 'unknown host discovery option "-PZ"' });
});

test('preprocessArgv: -sn and the -P options reach yargs whole', (t) => {
  t.deepEqual(preprocessArgv(['-sn', '-PE', '-PS80,443', '-v', '198.18.8.0/24']), ['--ping-scan', '--ping=PE PS80,443', '-v', '198.18.8.0/24']);
  t.deepEqual(preprocessArgv(['-Pn', '-p80', '198.18.8.1']), ['--Pn', '--ports=80', '198.18.8.1']);
  t.deepEqual(preprocessArgv(['-PA', '--', '-PE']), ['--ping=PA', '--', '-PE']);
  t.deepEqual(preprocessArgv(['-PM']), ['--ping=PM']);
});

const rec = (r: Partial<EngineRecord>): EngineRecord => ({
  kind: RecordKind.Tcp, flags: 0, ttl: 64, icmpType: 0, icmpCode: 0, address: '198.18.8.2', port: 0, window: 0, attempt: 0, rttUs: 10, responder: '198.18.8.2', ...r,
});

test('host evidence: nmap reason names for every reply kind', (t) => {
  t.deepEqual(hostEvidence(rec({ kind: RecordKind.Arp, ttl: 0 })), { reason: 'arp-response', ttl: 0 });
  t.deepEqual(hostEvidence(rec({ kind: RecordKind.Icmp, icmpType: 0, technique: 11 })), { reason: 'echo-reply', ttl: 64 });
  t.deepEqual(hostEvidence(rec({ kind: RecordKind.Icmp, icmpType: 14, technique: 12 })), { reason: 'timestamp-reply', ttl: 64 });
  t.deepEqual(hostEvidence(rec({ flags: 0x12 })), { reason: 'syn-ack', ttl: 64 });
  t.deepEqual(hostEvidence(rec({ flags: 0x04 })), { reason: 'reset', ttl: 64 });
  t.deepEqual(hostEvidence(rec({ kind: RecordKind.Udp })), { reason: 'udp-response', ttl: 64 });
  t.deepEqual(hostEvidence(rec({ kind: RecordKind.Icmp, icmpType: 3, icmpCode: 3, technique: 9 })), { reason: 'port-unreach', ttl: 64 });
  t.deepEqual(hostEvidence(rec({ kind: RecordKind.Connect, window: 111, technique: 10 })), { reason: 'conn-refused', ttl: 0 });
  t.deepEqual(hostEvidence(rec({ kind: RecordKind.Connect, window: 0, technique: 10 })), { reason: 'syn-ack', ttl: 0 });
  // Not evidence: a router's unreachable, a connect() that found no host.
  t.is(hostEvidence(rec({ kind: RecordKind.Icmp, icmpType: 3, icmpCode: 1, responder: '198.18.8.1' })), undefined);
  t.is(hostEvidence(rec({ kind: RecordKind.Connect, window: 113 })), undefined);
});

const PROC_ROUTE = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t000812C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
eth0\t000912C6\t030812C6\t0003\t0\t0\t0\tF0FFFFFF\t0\t0\t0
`;

test('routes: /proc/net/route parsed; on-link and routed parts split without walking addresses', (t) => {
  const routes = parseProcRoutes(PROC_ROUTE);
  t.deepEqual(routes.map((r) => [r.network, r.prefix, r.gateway]), [[parseIPv4('198.18.8.0'), 24, 0], [parseIPv4('198.18.9.0'), 28, parseIPv4('198.18.8.3')]]);
  const v = (s: string): number => parseIPv4(s)!;
  const ranges = [{ start: v('198.18.8.250'), end: v('198.18.9.20') }];
  const split = splitOnLink(ranges, routes);
  t.deepEqual(split.onLink, [{ start: v('198.18.8.250'), end: v('198.18.8.255') }]);
  // 198.18.9.0/28 via .3; the rest has no route at all: two groups.
  t.deepEqual(split.routed, [{ start: v('198.18.9.0'), end: v('198.18.9.15') }, { start: v('198.18.9.16'), end: v('198.18.9.20') }]);
  // Three routes used: on-link, via .3, and none (the engine says EROUTE for that one).
  t.is(groupByRoute(ranges, routes).length, 3);
  t.deepEqual(splitOnLink(ranges, routes, 'eth1').onLink, []);
});

test('MAC vendors: nmap-mac-prefixes and the IEEE registry, longest prefix first', (t) => {
  const nmap = parseNmapMacPrefixes('# comment\n525400 QEMU virtual NIC\n080027 Oracle VirtualBox virtual NIC\n');
  t.is(macVendor('52:54:00:12:08:02', { prefixes: nmap }), 'QEMU virtual NIC');
  t.is(macVendor('02:42:c6:12:08:04', { prefixes: nmap }), undefined);
  const ieee = parseIeeeRegistry(
    '00-22-72   (hex)\t\tAmerican Micro-Fuel Device Corp.\n002272     (base 16)\t\tAmerican Micro-Fuel Device Corp.\n\t\t\t\tFerndale\n\n' +
      '74-1A-E0   (hex)\t\tPrivate\n900000-9FFFFF     (base 16)\t\tPrivate\n',
  );
  t.is(ieee.get('002272'), 'American Micro-Fuel Device Corp.');
  t.is(ieee.get('741AE09'), 'Private');
  t.is(macVendor('74:1a:e0:9f:00:01', { prefixes: ieee }), 'Private');
});

test('--dns-servers: addresses and ports checked', (t) => {
  t.deepEqual(parseDnsServers('198.18.8.2, 198.18.8.3:5353'), ['198.18.8.2', '198.18.8.3:5353']);
  t.throws(() => parseDnsServers(''), { message: /^invalid --dns-servers ""/ });
  t.throws(() => parseDnsServers('dns.example'), { message: 'invalid DNS server "dns.example" in --dns-servers (an IP address, optionally :port)' });
});

test('reverse DNS: concurrent up to the bound, trailing dot dropped, failures and timeouts skipped', async (t) => {
  let inFlight = 0;
  let peak = 0;
  let cancelled = 0;
  const answers: Record<string, string[] | Error | 'hang'> = {
    '198.18.8.1': ['scanner.fslab.test.'],
    '198.18.8.2': ['up.fslab.test', 'alias.fslab.test'],
    '198.18.8.3': new Error('ENOTFOUND'),
    '198.18.8.4': 'hang',
    '198.18.8.5': [],
  };
  const resolver: PtrResolver = {
    async reverse(address) {
      inFlight++;
      peak = Math.max(peak, inFlight);
      try {
        const a = answers[address];
        if (a === 'hang') return await new Promise<string[]>(() => undefined);
        await new Promise((r) => setTimeout(r, 5));
        if (a instanceof Error) throw a;
        return a;
      } finally {
        inFlight--;
      }
    },
    cancel: () => void cancelled++,
  };
  const t0 = Date.now();
  const names = await reverseLookup(Object.keys(answers), { resolver, concurrency: 2, timeoutMs: 100 });
  t.deepEqual([...names], [['198.18.8.1', 'scanner.fslab.test'], ['198.18.8.2', 'up.fslab.test']]);
  t.true(peak <= 2, `peak ${peak}`);
  t.true(Date.now() - t0 < 1000, 'a silent server costs one timeout');
  t.is(cancelled, 1);
});
