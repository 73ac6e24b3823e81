// ava helpers for the IPv6 lab (scripts/lab6.sh): bring it up under a unique ID, run commands
// inside its scanner namespace, always tear it down. The same machinery as helpers/lab.ts.
import type { ExecutionContext, TestFn } from 'ava';
import { bringUpLab, parseKeyValues, repoRoot, useLabOf, type LabHandle, type LabOptions } from './lab.js';

export const lab6Script = `${repoRoot}scripts/lab6.sh`;

export interface Lab6Facts {
  id: string;
  scanNs: string;
  targetNs: string;
  scanIf: string;
  targetIf: string;
  scanAddr: string;
  targetAddr: string;
  /** A second address of the target on the link (an on-link host for -sn). */
  targetAlias: string;
  /** An on-link address nothing answers for. */
  absentAddr: string;
  scanLinkLocal: string;
  targetLinkLocal: string;
  scanMac: string;
  targetMac: string;
  /** The prefix swept (a /112) inside the target's local route (a /64). */
  sweepCidr: string;
  sweepLocal: string;
  sweepPort: number;
  specPorts: number[];
  loopbackAddr: string;
  loopbackOpen: number;
  loopbackClosed: number;
  stateDir: string;
  raw: Record<string, string>;
}

export type Lab6 = LabHandle<Lab6Facts>;

export function parseFacts6(text: string): Lab6Facts {
  const { raw, get } = parseKeyValues(text, 'lab6.sh');
  return {
    id: get('LAB_ID'),
    scanNs: get('LAB_SCAN_NS'),
    targetNs: get('LAB_TARGET_NS'),
    scanIf: get('LAB_SCAN_IF'),
    targetIf: get('LAB_TARGET_IF'),
    scanAddr: get('LAB_SCAN_ADDR'),
    targetAddr: get('LAB_TARGET_ADDR'),
    targetAlias: get('LAB_TARGET_ALIAS'),
    absentAddr: get('LAB_ABSENT_ADDR'),
    scanLinkLocal: get('LAB_SCAN_LL'),
    targetLinkLocal: get('LAB_TARGET_LL'),
    scanMac: get('LAB_SCAN_MAC'),
    targetMac: get('LAB_TARGET_MAC'),
    sweepCidr: get('LAB_SWEEP_CIDR'),
    sweepLocal: get('LAB_SWEEP_LOCAL'),
    sweepPort: Number(get('LAB_SWEEP_PORT')),
    specPorts: get('LAB_SPEC_PORTS').split(',').map(Number),
    loopbackAddr: get('LAB_LOOPBACK_ADDR'),
    loopbackOpen: Number(get('LAB_LOOPBACK_OPEN')),
    loopbackClosed: Number(get('LAB_LOOPBACK_CLOSED')),
    stateDir: get('LAB_STATE_DIR'),
    raw,
  };
}

/** A fresh IPv6 lab under a unique ID; throws NEED_ROOT when not root. */
export function lab6Up(options: LabOptions = {}): Lab6 {
  return bringUpLab(lab6Script, 's', { LAB_LOSS: options.loss === undefined ? '' : String(options.loss), LAB_ICMP: options.icmp ?? 'open' }, parseFacts6);
}

/** One IPv6 lab for every test of a file. */
export function useLab6(test: TestFn): () => Lab6 {
  return useLabOf(test, () => lab6Up(), 'the IPv6 lab');
}

/** An IPv6 lab of the test's own, torn down when the test ends. */
export async function withLab6<T>(t: ExecutionContext, fn: (lab: Lab6) => Promise<T> | T, options: LabOptions = {}): Promise<T> {
  const lab = lab6Up(options);
  t.teardown(() => lab.down());
  return fn(lab);
}
