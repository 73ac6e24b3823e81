// The boundary with the Rust engine: loads the napi-rs addon built from crates/node and
// describes, in TypeScript, exactly what crosses N-API. Nothing else in ts/ touches the addon.
import { createRequire } from 'node:module';

/** Options handed to the engine; every field is plain data. */
export interface NativeScanOptions {
  /** Inclusive IPv4 ranges, flattened as [start0, end0, start1, end1, ...]; addresses as
   *  unsigned 32-bit integers in host order (1.2.3.4 = 0x01020304). Ranges must not overlap. */
  ranges: number[];
  /** Destination ports, each 0..65535, no duplicates. */
  ports: number[];
  /** Probe technique; only 'syn' exists so far. */
  technique: 'syn';
  /** Packets per second (first sends and retransmissions together). */
  rate: number;
  /** Seed of the permutation over (address × port); the same seed gives the same order. */
  seed?: bigint;
  /** Retransmissions of an unanswered probe (nmap's default is 10). */
  maxRetries: number;
  /** Network interface to send on; chosen from the routing table when absent. */
  interface?: string;
  /** Source IPv4 address; chosen from the routing table when absent. */
  sourceAddress?: string;
  /** Source TCP port; random in 32768..61000 when absent. */
  sourcePort?: number;
}

/** Counters and facts about a running or finished scan. */
export interface NativeSummary {
  /** Probes sent, first sends and retransmissions. */
  sent: number;
  /** Retransmissions among `sent`. */
  retransmits: number;
  /** Valid replies (cookie checked), duplicates included. */
  received: number;
  /** Records handed out (duplicates removed where the engine could tell). */
  records: number;
  /** Frames seen on the wire that failed the cookie or did not parse. */
  discarded: number;
  /** Size of the probe space (addresses × ports). */
  total: number;
  /** Milliseconds since the scan started. */
  elapsedMs: number;
  /** Smoothed round-trip time in microseconds (0 before the first reply). */
  srttUs: number;
  /** Interface, source address and source port actually used. */
  interface: string;
  sourceAddress: string;
  sourcePort: number;
  /** True once both engine threads have stopped. */
  finished: boolean;
}

/** A running scan. */
export interface NativeScan {
  /** Resolves with the next batch of packed records (RECORD_SIZE bytes each), or null once
   *  the scan is over and every batch has been handed out. Rejects if the engine failed. */
  nextBatch(): Promise<Buffer | null>;
  /** Asks the engine to stop; nextBatch() then drains and returns null. */
  abort(): void;
  summary(): NativeSummary;
}

export interface NativeModule {
  /** Starts a scan on the engine's own threads. Throws (synchronously) an Error whose
   *  message starts with "EPERM:" when raw sockets are not permitted, "EINVAL:" for bad
   *  options, "EROUTE:" when no route or next hop can be found. */
  startScan(options: NativeScanOptions): NativeScan;
  /** Bytes per record; see ts/records.ts for the layout. */
  recordSize(): number;
}

let cached: NativeModule | undefined;

/** Loads the addon once; throws an Error with a one-line message when it is not built. */
export function native(): NativeModule {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  try {
    cached = require('../native/index.cjs') as NativeModule;
  } catch (e) {
    throw new Error(`the native engine is not built (run "npm install"): ${(e as Error).message.split('\n')[0]}`);
  }
  return cached;
}
