import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { NMAP_PAYLOADS, parseNmapPayloads, shippedPayloads } from '../ts/targets/udp-payloads.js';

test('nmap-payloads syntax: ports, ranges, continued strings, escapes, source, first wins', (t) => {
  const text = `# comment "ignored"
udp 7 "\\x0D\\x0A\\x0D\\x0A"
udp 53,69-70
  "\\x00\\x01"   # trailing comment
  "ab\\"c\\\\"
  source 53
udp 53 "second"
`;
  const m = parseNmapPayloads(text);
  t.deepEqual([...m.get(7)!], [13, 10, 13, 10]);
  t.deepEqual([...m.get(53)!], [0, 1, 0x61, 0x62, 0x22, 0x63, 0x5c]);
  t.deepEqual(m.get(70), m.get(53));
  t.is(m.size, 4);
});

test('shipped payloads are well-formed protocol requests', (t) => {
  const m = shippedPayloads();
  const dns = m.get(53)!;
  t.is(dns.readUInt16BE(4), 1, 'one DNS question');
  t.is(m.get(123)!.length, 48);
  t.is(m.get(123)![0] & 7, 3, 'NTP client mode');
  const snmp = m.get(161)!;
  t.is(snmp[0], 0x30);
  t.is(snmp[1], snmp.length - 2, 'BER length covers the message');
  t.is(m.get(137)!.length, 50);
});

test('nmap-payloads, when installed: DNS and NTP ports get a payload', (t) => {
  if (!existsSync(NMAP_PAYLOADS)) return t.pass('nmap not installed');
  const m = parseNmapPayloads(readFileSync(NMAP_PAYLOADS, 'latin1'));
  t.true(m.size > 50);
  t.true(m.get(53)!.length >= 12);
  t.is(m.get(123)!.length, 48);
  t.deepEqual([...m.get(7)!], [13, 10, 13, 10]);
});
