// Service and version detection (-sV) from TypeScript: hands the open ports to the native
// engine (crates/core/src/service, through the binding's startServiceScan) and turns its
// answers into ServiceInfo, filling in the port table's name where nmap would (method
// "table"). Everything nmap decides — probes, order, matching — happens in the engine.
import { existsSync } from 'node:fs';
import { native, type NativeServiceResult } from '../engine/native.js';
import { serviceName, type Protocol } from '../targets/services.js';
import type { ServiceInfo } from './format.js';

/** Where Debian's nmap-common puts the probe database. */
export const DEFAULT_VERSION_DB = '/usr/share/nmap/nmap-service-probes';

export interface ServiceTarget {
  address: string;
  port: number;
  protocol: Protocol;
}

export interface DetectOptions {
  /** --versiondb: nmap's nmap-service-probes (Debian's by default). */
  versionDb?: string;
  /** --version-intensity 0-9 (7; --version-light 2, --version-all 9). */
  intensity?: number;
  /** --allports: also probe the ports nmap's Exclude directive skips (9100-9107). */
  allPorts?: boolean;
  /** --version-trace: collect nmap's trace lines. */
  trace?: boolean;
  /** --version-parallelism: connections open at once over all ports. */
  parallelism?: number;
  /** Called with each port's trace lines as it finishes (with trace). */
  onTrace?: (lines: readonly string[]) => void;
  signal?: AbortSignal;
}

export interface DetectedService {
  target: ServiceTarget;
  service: ServiceInfo;
  /** Whether any probe got data (nmap then calls an open|filtered port open). */
  responded: boolean;
}

/** The one-line message when the database is missing. */
export function missingDbMessage(path: string): string {
  return `-sV needs nmap's service probe database, which is not at ${path}: install it (Debian/Ubuntu: apt-get install nmap-common) or name a copy with --versiondb FILE`;
}

/** Starts parsing the probe database in the background (the engine keeps it for the
 *  process), so that detectServices finds it ready; errors surface there. */
export function preloadVersionDb(path = DEFAULT_VERSION_DB): void {
  if (existsSync(path)) native().preloadServiceDb(path);
}

/** Converts one engine answer; `table` is the port table's name for the port, if any. */
export function toServiceInfo(r: NativeServiceResult, table: string | undefined): ServiceInfo {
  const s: ServiceInfo = { method: r.method, conf: r.conf, cpe: r.cpe, state: r.state };
  const name = r.name ?? (table !== 'unknown' ? table : undefined);
  if (name !== undefined) s.name = name;
  for (const k of ['product', 'version', 'extrainfo', 'hostname', 'ostype', 'devicetype'] as const) {
    const v = r[k];
    if (v) s[k] = v;
  }
  if (r.tunnel === 'ssl') s.tunnel = 'ssl';
  if (r.fingerprint) s.servicefp = r.fingerprint;
  return s;
}

/** Identifies the services on `targets`; resolves in the targets' order. Throws an Error
 *  with a one-line message when the database is missing or unreadable. */
export async function detectServices(targets: readonly ServiceTarget[], opts: DetectOptions = {}): Promise<DetectedService[]> {
  const dbPath = opts.versionDb ?? DEFAULT_VERSION_DB;
  if (!existsSync(dbPath)) throw new Error(missingDbMessage(dbPath));
  if (targets.length === 0) return [];
  const scan = native().startServiceScan({
    dbPath,
    targets: targets.map((t) => ({ address: t.address, port: t.port, protocol: t.protocol })),
    intensity: opts.intensity,
    allPorts: opts.allPorts,
    trace: opts.trace,
    parallelism: opts.parallelism,
  });
  const onAbort = () => scan.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const out: (DetectedService | undefined)[] = new Array(targets.length);
  try {
    for (;;) {
      const batch = await scan.nextResults();
      if (batch === null) break;
      for (const r of batch) {
        const target = targets[r.index];
        if (!target) continue;
        if (opts.trace && r.trace.length > 0) opts.onTrace?.(r.trace);
        out[r.index] = { target, service: toServiceInfo(r, serviceName(target.port, target.protocol)), responded: r.responded };
      }
    }
  } catch (e) {
    // the engine's messages start with a code ("EINVAL: nmap-service-probes line 12: ...")
    throw new Error((e as Error).message.replace(/^[A-Z]+: /, ''));
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  return out.filter((d): d is DetectedService => d !== undefined);
}
