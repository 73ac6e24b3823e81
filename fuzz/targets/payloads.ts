// Fuzz target: the nmap-payloads reader (ts/targets/udp-payloads.ts): `udp PORTS "string"...
// [source N]` entries with C-style escapes, read as latin1 as the CLI does. A data file
// has no error to give: malformed entries are skipped, so any exception is a crash (as is
// a hang or running out of memory, which fuzz/run.ts catches). Invariant: every port is
// 0-65535 and every payload a Buffer.
import { parseNmapPayloads } from '../../ts/targets/udp-payloads.js';
import { check, type FuzzTarget } from './index.js';

export const target: FuzzTarget = {
  maxLen: 1024,
  dictionary: ['udp', ' ', '\n', '"', '\\x', '\\x0D\\x0A', '\\r', '\\n', '\\0', '\\\\', '\\"', 'source', '#', ',', '-', '53', '7,9,13', '1-65535', '123-', '0', 'udp 53 "\\x12\\x34"', 'tcp'],
  run(input) {
    const m = parseNmapPayloads(input.toString('latin1'));
    check(m.size <= 65536, 'at most one payload a port');
    for (const [port, payload] of m) {
      check(Number.isInteger(port) && port >= 0 && port <= 65535, 'ports 0-65535');
      check(Buffer.isBuffer(payload), 'payloads are buffers');
    }
  },
};
