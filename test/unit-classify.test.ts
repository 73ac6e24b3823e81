// SYN scan classification: every record kind/flag/ICMP code → nmap state and reason, and
// the merge rule for several replies to one port.
import test from 'ava';
import { classify, mergeVerdict, noResponse, type Verdict } from '../ts/verdicts/classify.js';
import { RecordKind, TCP, type EngineRecord } from '../ts/engine/records.js';

function rec(over: Partial<EngineRecord>): EngineRecord {
  return { kind: RecordKind.Tcp, flags: 0, ttl: 64, icmpType: 0, icmpCode: 0, address: '198.18.0.2', port: 80, window: 0, attempt: 0, rttUs: 100, responder: '198.18.0.2', ...over };
}

const tcpCases: [string, number, string, string][] = [
  ['SYN/ACK', TCP.SYN | TCP.ACK, 'open', 'syn-ack'],
  ['SYN/ACK/ECE', TCP.SYN | TCP.ACK | TCP.ECE, 'open', 'syn-ack'],
  ['bare SYN', TCP.SYN, 'open', 'split-handshake-syn'],
  ['RST', TCP.RST, 'closed', 'reset'],
  ['RST/ACK', TCP.RST | TCP.ACK, 'closed', 'reset'],
];
for (const [name, flags, state, reason] of tcpCases) {
  test(`TCP ${name} → ${state} (${reason})`, (t) => {
    t.deepEqual(classify(rec({ flags, ttl: 57 })), { state: state as Verdict['state'], reason, ttl: 57 });
  });
}

test('TCP replies without SYN or RST mean nothing to a SYN scan', (t) => {
  t.is(classify(rec({ flags: TCP.ACK })), undefined);
  t.is(classify(rec({ flags: TCP.FIN | TCP.ACK })), undefined);
});

const icmpCases: [number, number, string][] = [
  [3, 0, 'net-unreach'],
  [3, 1, 'host-unreach'],
  [3, 2, 'proto-unreach'],
  [3, 3, 'port-unreach'],
  [3, 9, 'net-prohibited'],
  [3, 10, 'host-prohibited'],
  [3, 13, 'admin-prohibited'],
  [11, 0, 'time-exceeded'],
  [11, 1, 'time-exceeded'],
];
for (const [type, code, reason] of icmpCases) {
  test(`ICMP ${type}/${code} → filtered (${reason})`, (t) => {
    t.deepEqual(classify(rec({ kind: RecordKind.Icmp, icmpType: type, icmpCode: code, ttl: 63 })), { state: 'filtered', reason, ttl: 63 });
  });
}

test('ICMP codes nmap ignores stay unclassified', (t) => {
  for (const [type, code] of [[3, 4], [3, 6], [3, 11], [0, 0], [5, 1]]) {
    t.is(classify(rec({ kind: RecordKind.Icmp, icmpType: type, icmpCode: code })), undefined, `${type}/${code}`);
  }
});

test('ICMP from a router records the router', (t) => {
  t.is(classify(rec({ kind: RecordKind.Icmp, icmpType: 3, icmpCode: 1, responder: '198.18.0.254' }))?.reasonIp, '198.18.0.254');
});

test('silence is filtered/no-response with ttl 0', (t) => {
  t.deepEqual(noResponse(), { state: 'filtered', reason: 'no-response', ttl: 0 });
});

test('merge: the first open/closed wins; filtered never overrides it', (t) => {
  const open: Verdict = { state: 'open', reason: 'syn-ack', ttl: 64 };
  const closed: Verdict = { state: 'closed', reason: 'reset', ttl: 64 };
  const unreach: Verdict = { state: 'filtered', reason: 'host-unreach', ttl: 250 };
  const prohibited: Verdict = { state: 'filtered', reason: 'admin-prohibited', ttl: 250 };
  t.is(mergeVerdict(undefined, unreach), unreach);
  t.is(mergeVerdict(closed, unreach), closed);
  t.is(mergeVerdict(open, closed), open);
  t.is(mergeVerdict(closed, open), closed);
  t.is(mergeVerdict(unreach, open), open);
  t.is(mergeVerdict(unreach, prohibited), unreach);
});
