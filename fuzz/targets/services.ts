// Fuzz target: the nmap-services reader (ts/targets/services.ts), as the CLI reads the file at
// every run, and the shipped port table's reader. A data file has no error to give:
// malformed lines are skipped, so any exception is a crash. Invariants: every port named
// or ranked is 0-65535, each ranked once.
import { parseNmapServices, parsePortTable, type ServiceTable } from '../../ts/targets/services.js';
import { check, type FuzzTarget } from './index.js';

function portsInRange(t: ServiceTable): boolean {
  for (const proto of ['tcp', 'udp'] as const) {
    for (const p of t.names[proto].keys()) if (!Number.isInteger(p) || p < 0 || p > 65535) return false;
    for (const p of t.ranked[proto]) if (!Number.isInteger(p) || p < 0 || p > 65535) return false;
  }
  return true;
}

export const target: FuzzTarget = {
  maxLen: 2048,
  dictionary: ['\t', '\n', '#', '/tcp', '/udp', '/sctp', 'http\t80/tcp\t0.484143', 'unknown\t1/udp\t0.000000', '\t# comment', '0.5', '1e-7', 'NaN', '-1', '65535/tcp', '65536/tcp', '99999/udp', '00080/tcp'],
  run(input) {
    const text = input.toString('utf8');
    const nmap = parseNmapServices(text, 'fuzz');
    check(portsInRange(nmap), 'nmap-services: ports 0-65535');
    for (const proto of ['tcp', 'udp'] as const) check(new Set(nmap.ranked[proto]).size === nmap.ranked[proto].length, 'nmap-services: each port ranked once');
    const shipped = parsePortTable(text, 'fuzz');
    check(portsInRange(shipped), 'shipped table: ports 0-65535');
  },
};
