// Fuzz target: port specifications (ts/targets/ports.ts): -p, --exclude-ports, --top-ports/-F,
// names from the service table, T:/U: prefixes. The input's first byte picks the
// protocols scanned, the top-ports option and the entry point (parsePorts, parsePortSpec
// or selectPorts); the rest is the -p value, then after the
// first "|" an --exclude-ports value. Documented error: PortError. Invariants: every list
// ascending, unique, 0-65535; no excluded port left; an explicit list (no top-ports) has
// exactly the ports named. Runs on a cut-down service table (below).
import { PortError } from '../../ts/errors.js';
import { parsePortSpec, parsePorts, selectPorts, type Protocol } from '../../ts/targets/ports.js';
import { serviceTable, setServiceTable, type ServiceTable } from '../../ts/targets/services.js';
import { allow, check, type FuzzTarget } from './index.js';

// The service table in use, cut to its 300 most frequent ports a protocol (nmap's own
// when installed): names and --top-ports take the same code paths, and a name lookup scans
// 600 entries instead of ~27,000, which would otherwise be most of each execution.
const full = serviceTable();
const small: ServiceTable = { source: full.source, names: { tcp: new Map(), udp: new Map() }, ranked: { tcp: [], udp: [] } };
for (const proto of ['tcp', 'udp'] as const) {
  small.ranked[proto] = full.ranked[proto].slice(0, 300);
  for (const p of small.ranked[proto]) {
    const name = full.names[proto].get(p);
    if (name !== undefined) small.names[proto].set(p, name);
  }
}
setServiceTable(small);

const PROTOCOLS: Protocol[][] = [['tcp'], ['udp'], ['tcp', 'udp']];

function wellFormed(list: readonly number[]): boolean {
  for (let i = 0; i < list.length; i++) {
    if (!Number.isInteger(list[i]) || list[i] < 0 || list[i] > 65535 || (i > 0 && list[i] <= list[i - 1])) return false;
  }
  return true;
}

export const target: FuzzTarget = {
  maxLen: 256,
  dictionary: [',', '-', 'T:', 'U:', 'S:', 'P:', 't:', 'u:', '|', ' ', '0', '1-', '-1024', '-', '1-65535', 'http', 'ssh', 'domain', 'snmp', 'https', 'ftp-data', 'unknown', 'X:'],
  run(input) {
    const flags = input.length > 0 ? input[0] : 0;
    const text = input.subarray(1).toString('utf8');
    const bar = text.indexOf('|');
    const ports = bar < 0 ? text : text.slice(0, bar);
    const excludePorts = bar < 0 ? undefined : text.slice(bar + 1);
    const protocols = PROTOCOLS[flags % 3];
    const topPorts = (flags >> 2) & 3 ? [undefined, 1, 7, 1000][(flags >> 2) & 3] : undefined;
    // one entry point an execution, by the flag byte: each parses the whole value
    const entry = (flags >> 5) & 3;
    try {
      if (entry === 0) {
        const one = parsePorts(ports, protocols[0]);
        check(wellFormed(one) && one.length > 0, 'parsePorts: ascending unique ports');
        return;
      }
      if (entry === 1) {
        const named = parsePortSpec(ports, protocols);
        check(wellFormed(named.tcp) && wellFormed(named.udp), 'parsePortSpec: ascending unique ports');
        return;
      }
      const sel = selectPorts({ ports, excludePorts, protocols, topPorts, fast: (flags & 16) !== 0 });
      check(wellFormed(sel.tcp) && wellFormed(sel.udp), 'selectPorts: ascending unique ports');
      const dropped = excludePorts === undefined ? undefined : parsePortSpec(excludePorts, ['tcp', 'udp']);
      const named = topPorts === undefined && (flags & 16) === 0 ? parsePortSpec(ports, protocols) : undefined;
      for (const proto of ['tcp', 'udp'] as const) {
        const drop = new Set(dropped?.[proto] ?? []);
        check(!sel[proto].some((p) => drop.has(p)), 'no excluded port left');
        if (named) {
          const want = named[proto].filter((p) => !drop.has(p));
          check(want.length === sel[proto].length && want.every((p, i) => sel[proto][i] === p), '-p list kept exactly');
        }
      }
    } catch (e) {
      allow(e, PortError);
    }
  },
};
