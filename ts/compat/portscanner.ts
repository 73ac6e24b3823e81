// ts/compat/ — beside the pipeline. Takes the npm package portscanner's calls; gives its
// answers, each from one engine scan.
//
// Drop-in replacements for the npm package `portscanner` 2.x: checkPortStatus,
// findAPortInUse and findAPortNotInUse with its names, argument shuffles, defaults, callback
// and promise forms, plus typed checkPort/checkPorts that give ferroscan's full verdict.
// Every call is one engine scan (the raw SYN engine when permitted, else the connect scan),
// a whole range at once; findAPort* stop that scan as soon as their answer is settled.
//
// Where portscanner rejects or misreports, these give the network's honest answer instead:
// an ICMP unreachable or a silently dropped port is "not open" ('closed' for
// checkPortStatus, "not in use" for findAPortNotInUse), never a rejection; checkPort tells
// them apart (state 'filtered', reason 'host-unreach', 'no-response', ...).
import net from 'node:net';
import { classify, mergeVerdict, noResponse, type PortState, type Verdict } from '../verdicts/classify.js';
import { AbortError, PortError, ScanError, TargetError } from '../errors.js';
import { formatAddress, isLocalAddress } from '../hosts/model.js';
import { formatIPv6Bytes, parseIPv6 } from '../targets/address6.js';
import type { NativeScan } from '../engine/native.js';
import { MAX_PORT } from '../targets/ports.js';
import { RECORD_SIZE, RecordKind, type EngineRecord } from '../engine/records.js';
import { prepareScan, startEngine } from '../engine/prepare.js';

/** portscanner's answer for one port: 'open' when something accepts connections, else 'closed'. */
export type PortStatus = 'open' | 'closed';

/** How ferroscan probes: the raw SYN engine (root or CAP_NET_RAW) or the kernel's connect(). */
export type CheckTechnique = 'syn' | 'connect';

/** portscanner's options object, with ferroscan's extras. */
export interface PortscannerOptions {
  /** Host to check; '127.0.0.1' when absent. A name is resolved to its first IPv4 address; an IPv6 address ('::1') is checked over IPv6. */
  host?: string;
  /** Milliseconds to wait for an answer to one probe (portscanner's connect timeout); 400 when absent. */
  timeout?: number;
  /** Resends of an unanswered probe before the port counts as silent; 1 when absent (portscanner: none). */
  retries?: number;
  /** Probe technique; when absent, 'syn' if raw sockets are permitted, else 'connect'. */
  technique?: CheckTechnique;
  /** Probes per second; unlimited on loopback, DEFAULT_CHECK_RATE elsewhere, when absent. */
  rate?: number;
  /** Stops the check; the promise then rejects with an AbortError. */
  signal?: AbortSignal;
}

/** ferroscan's verdict on one port, with portscanner's view of it. */
export interface PortCheck {
  /** The address probed (the host resolved). */
  address: string;
  port: number;
  protocol: 'tcp';
  /** nmap's state: 'open', 'closed' (refused), 'filtered' (unreachable or no answer). */
  state: PortState;
  /** Why: 'syn-ack', 'reset', 'conn-refused', 'host-unreach', 'no-response', ... */
  reason: string;
  /** TTL of the deciding packet; 0 when none was seen (no answer, or a connect scan). */
  ttl: number;
  /** What portscanner's checkPortStatus calls it: 'open' only for state 'open'. */
  status: PortStatus;
  /** The technique that decided. */
  technique: CheckTechnique;
}

export type CheckPortCallback = (error: Error | null, status?: PortStatus) => void;
export type FindPortCallback = (error: Error | null, port?: number | false) => void;

/** portscanner's defaults. */
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_TIMEOUT_MS = 400;
export const DEFAULT_END_PORT = 65535;
export const DEFAULT_RETRIES = 1;
/** Probes per second to a host other than loopback when no rate is given (the engine backs off on loss). */
export const DEFAULT_CHECK_RATE = 150_000;

/** The message portscanner's promise rejects with when no port matched (both find functions). */
export const NOT_FOUND_MESSAGE = 'No open port found';

// Once the engine has refused raw sockets, later calls go straight to the connect scan.
let rawDenied = false;

interface Query {
  /** Ports in the order the caller asked (portscanner answers the first match in this order). */
  order: number[];
  host: string;
  opts: PortscannerOptions;
}

/** Settles a promise into a Node-style callback outside the promise chain, so a throwing callback is not swallowed. */
function toCallback<T>(promise: Promise<T>, cb: (error: Error | null, value?: T) => void): void {
  promise.then(
    (value) => process.nextTick(cb, null, value),
    (error: unknown) => process.nextTick(cb, error instanceof Error ? error : new Error(String(error))),
  );
}

function checkedPort(value: unknown): number {
  const port = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > MAX_PORT) {
    throw new PortError(`invalid port "${String(value)}" (ports are 0-${MAX_PORT})`, String(value));
  }
  return port;
}

/** is-number-like, which portscanner uses to tell a port from a host: finite numbers and numeric strings. */
function isNumberLike(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  return typeof value === 'string' && /^-?(?=.)\d*\.?\d*(?:e\d*)?$/.test(value) && value !== '-';
}

const isLoopback = (address: string): boolean => address.startsWith('127.') || address === '::1';

/** The bytes a record carries for `address` at offset 16 (and 32): 4 for IPv4, 16 for IPv6. */
function addressBytes(address: string): Buffer {
  const v6 = parseIPv6(address);
  if (v6 === undefined) return Buffer.from(address.split('.').map(Number));
  const b = Buffer.alloc(16);
  b.writeBigUInt64BE(v6 >> 64n, 0);
  b.writeBigUInt64BE(v6 & 0xffffffffffffffffn, 8);
  return b;
}

/** Verdicts by port, of the ports that answered. */
type Verdicts = Map<number, Verdict>;

/**
 * Folds the engine's record batches into verdicts by port, for one target address. Leaner
 * than the scan model (no host bookkeeping, no per-record strings): a full range is 65,535
 * records, and on a small machine the main thread shares its cores with the engine's. Records
 * of one kind, flags, TTL, window and ICMP type/code classify alike, so each such combination
 * is classified once. `onBatch` runs after each batch; true stops the scan.
 */
async function drainVerdicts(engine: NativeScan, address: string, technique: CheckTechnique, onBatch: (verdicts: Verdicts) => boolean): Promise<Verdicts> {
  const verdicts: Verdicts = new Map();
  const target = addressBytes(address);
  const n = target.length;
  const cache = new Map<number, Verdict | null>();
  let stopping = false;
  try {
    for (let buf = await engine.nextBatch(); buf !== null; buf = await engine.nextBatch()) {
      for (let off = 0; off + RECORD_SIZE <= buf.length; off += RECORD_SIZE) {
        const kind = buf[off];
        if (kind === RecordKind.ProbeSent) continue;
        // the engine validates cookies; this guards against a record for another address
        if (target.compare(buf, off + 16, off + 16 + n) !== 0) continue;
        const fromTarget = target.compare(buf, off + 32, off + 32 + n) === 0;
        const window = buf.readUInt16LE(off + 8);
        // kind, flags, ttl, ICMP type and code, from-target and window: 52 bits, exact in a double
        const key = (((((kind * 256 + buf[off + 1]) * 256 + buf[off + 2]) * 256 + buf[off + 3]) * 256 + buf[off + 4]) * 2 + (fromTarget ? 1 : 0)) * 65536 + window;
        let verdict = cache.get(key);
        if (verdict === undefined) {
          const record: EngineRecord = {
            kind,
            flags: buf[off + 1],
            ttl: buf[off + 2],
            icmpType: buf[off + 3],
            icmpCode: buf[off + 4],
            port: 0,
            window,
            attempt: 0,
            rttUs: 0,
            address,
            responder: fromTarget ? address : n === 16 ? formatIPv6Bytes(buf, off + 32) : `${buf[off + 32]}.${buf[off + 33]}.${buf[off + 34]}.${buf[off + 35]}`,
          };
          if (n === 16) record.family = 6;
          verdict = classify(record, technique) ?? null;
          cache.set(key, verdict);
        }
        if (verdict === null) continue;
        const port = buf.readUInt16LE(off + 6);
        const prev = verdicts.get(port);
        verdicts.set(port, prev ? mergeVerdict(prev, verdict, technique) : verdict);
      }
      if (!stopping && onBatch(verdicts)) {
        stopping = true;
        // the engine stops sending; nextBatch() drains what it has and then gives null
        engine.abort();
      }
    }
  } finally {
    // leaving on an error must not leave the engine's threads sending
    if (!engine.summary().finished) engine.abort();
  }
  return verdicts;
}

/**
 * One engine scan of `ports` on `host`, in port order; `settled` sees the verdicts after
 * each batch and returns true to stop the scan early. Returns the verdict of every port that
 * answered and the technique used.
 */
async function runCheck(
  ports: readonly number[],
  host: string,
  opts: PortscannerOptions,
  settled?: (verdicts: Verdicts) => boolean,
): Promise<{ address: string; verdicts: Verdicts; technique: CheckTechnique; complete: boolean }> {
  const timeout = opts.timeout === undefined || opts.timeout === 0 ? DEFAULT_TIMEOUT_MS : opts.timeout;
  if (!(Number.isFinite(timeout) && timeout > 0)) throw new ScanError(`invalid timeout "${opts.timeout}"`, 'EINVAL');
  const retries = opts.retries ?? DEFAULT_RETRIES;
  const attempt = async (technique: CheckTechnique) => {
    const prepared = await prepareScan({
      targets: [host],
      ports,
      technique,
      maxRetries: retries,
      sequential: true,
      assumeUp: true,
      defaultBlocklist: false,
    });
    if (prepared.targets.count !== 1) {
      throw new TargetError(`host "${host}" names ${prepared.targets.count} addresses; give one`, host);
    }
    const address = formatAddress(prepared.targets.ranges[0].start);
    // a fixed rate: a range check sends at once, it does not ramp up
    prepared.native.rate = opts.rate ?? (isLoopback(address) ? Infinity : DEFAULT_CHECK_RATE);
    delete prepared.native.startRate;
    delete prepared.native.timingLevel;
    // portscanner's timeout bounds each probe's wait; faster paths adapt below it.
    prepared.native.initialRttTimeoutMs = timeout;
    prepared.native.maxRttTimeoutMs = timeout;
    prepared.native.minRttTimeoutMs = Math.min(100, timeout);
    const { signal } = opts;
    if (signal?.aborted) throw new AbortError('the check was aborted', { cause: signal.reason });
    const engine = startEngine(prepared);
    let stoppedEarly = false;
    const onAbort = (): void => engine.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let verdicts: Verdicts;
    try {
      verdicts = await drainVerdicts(engine, address, technique, (v) => (stoppedEarly = settled?.(v) ?? false));
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    if (signal?.aborted && !stoppedEarly) throw new AbortError('the check was aborted', { cause: signal.reason });
    if (technique === 'connect' && isLocalAddress(address)) await dropSelfConnects(address, verdicts, timeout);
    return { address, verdicts, technique, complete: !stoppedEarly };
  };
  const wanted = opts.technique ?? (rawDenied ? 'connect' : 'syn');
  try {
    return await attempt(wanted);
  } catch (e) {
    // as the CLI (and nmap): without raw-socket rights the SYN scan becomes a connect scan
    if (!(e instanceof ScanError && e.code === 'EPERM' && wanted === 'syn' && opts.technique === undefined)) throw e;
    rawDenied = true;
    return attempt('connect');
  }
}

/**
 * A connect() to a port of this machine's ephemeral range can meet itself: when the kernel
 * picks that very port as the source, the socket connects to itself (TCP simultaneous open)
 * and the port looks open with nothing listening. (portscanner misreports these too.) Every
 * 'open' a connect scan found on a local address is connected to once more, and kept only when
 * that connection is not to itself; the others are what they are: closed.
 */
async function dropSelfConnects(address: string, verdicts: Verdicts, timeoutMs: number): Promise<void> {
  const opens = [...verdicts].filter(([, v]) => v.state === 'open').map(([port]) => port);
  const real = await Promise.all(opens.map((port) => listening(address, port, timeoutMs)));
  opens.forEach((port, i) => {
    if (!real[i]) verdicts.set(port, { state: 'closed', reason: 'conn-refused', ttl: 0 });
  });
}

/** Whether a connection to address:port reaches something other than the connecting socket itself. */
function listening(address: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    socket.setTimeout(timeoutMs);
    socket.once('connect', () => {
      resolve(!(socket.localPort === port && socket.localAddress === socket.remoteAddress));
      socket.destroy();
    });
    socket.once('timeout', () => {
      resolve(false);
      socket.destroy();
    });
    socket.once('error', () => resolve(false));
  });
}

function toCheck(address: string, port: number, technique: CheckTechnique, verdict: Verdict | undefined): PortCheck {
  const v = verdict ?? noResponse(technique);
  return { address, port, protocol: 'tcp', state: v.state, reason: v.reason, ttl: v.ttl, status: v.state === 'open' ? 'open' : 'closed', technique };
}

/**
 * ferroscan's full verdict on every port of `ports` (a list, or an inclusive range
 * `{ start, end }`), in one scan; results in ascending port order. Never rejects for what
 * the network answers (refused, unreachable, silent); rejects for bad input or when the
 * engine cannot run.
 */
export async function checkPorts(
  ports: readonly number[] | { start: number; end: number },
  host: string = DEFAULT_HOST,
  options: PortscannerOptions = {},
): Promise<PortCheck[]> {
  const list = Array.isArray(ports) ? (ports as readonly unknown[]).map(checkedPort) : rangeOf(ports as { start: number; end: number });
  const unique = [...new Set(list)].sort((a, b) => a - b);
  if (unique.length === 0) return [];
  const { address, verdicts, technique } = await runCheck(unique, host, options);
  return unique.map((p) => toCheck(address, p, technique, verdicts.get(p)));
}

function rangeOf(r: { start: number; end: number }): number[] {
  let start = checkedPort(r.start);
  let end = checkedPort(r.end);
  if (end < start) [start, end] = [end, start];
  return Array.from({ length: end - start + 1 }, (_, i) => start + i);
}

/** ferroscan's full verdict on one port: state, reason and TTL as nmap gives them. */
export async function checkPort(port: number, host: string = DEFAULT_HOST, options: PortscannerOptions = {}): Promise<PortCheck> {
  const [check] = await checkPorts([checkedPort(port)], host, options);
  return check;
}

/**
 * portscanner's checkPortStatus: 'open' when the port accepts connections, 'closed' for
 * anything else (refused, unreachable, no answer within `timeout`). Arguments as
 * portscanner's: `(port, host?, opts?, callback?)`, `(port, opts?, callback?)`; without a
 * callback it returns a promise. Unlike portscanner it never rejects for an ICMP unreachable.
 */
export function checkPortStatus(port: number | string, callback: CheckPortCallback): void;
export function checkPortStatus(port: number | string, host: string, callback: CheckPortCallback): void;
export function checkPortStatus(port: number | string, opts: PortscannerOptions, callback: CheckPortCallback): void;
export function checkPortStatus(port: number | string, host: string, opts: PortscannerOptions, callback: CheckPortCallback): void;
export function checkPortStatus(port: number | string, host?: string | PortscannerOptions, opts?: PortscannerOptions): Promise<PortStatus>;
export function checkPortStatus(port: number | string, ...args: unknown[]): Promise<PortStatus> | void {
  // portscanner's shuffle, position by position
  let host: string | undefined;
  let opts: PortscannerOptions | null | undefined;
  let callback: CheckPortCallback | undefined;
  if (typeof args[0] === 'string') host = args[0];
  else if (typeof args[0] === 'object') opts = args[0] as PortscannerOptions | null;
  else if (typeof args[0] === 'function') callback = args[0] as CheckPortCallback;
  if (typeof args[1] === 'object') opts = args[1] as PortscannerOptions | null;
  else if (typeof args[1] === 'function') callback = args[1] as CheckPortCallback;
  if (typeof args[2] === 'function') callback = args[2] as CheckPortCallback;
  const o = opts ?? {};
  const promise = (async () => (await checkPort(checkedPort(port), host || o.host || DEFAULT_HOST, o)).status)();
  if (!callback) return promise;
  toCallback(promise, callback);
}

/**
 * The first port with `status`: in the caller's order, and only once every port before it
 * is known not to have that status. One scan of all candidates, stopped once the answer is
 * settled (on loopback every port answers at once, so the first free port comes back as fast
 * as a single connect).
 */
async function findAPortWithStatus(status: PortStatus, query: Query): Promise<number | false> {
  const { order } = query;
  if (order.length === 0) return false;
  const matches = (r: Verdict): boolean => (status === 'open' ? r.state === 'open' : r.state !== 'open');
  const known: Verdicts = new Map();
  // order[..cursor] are known not to match: each verdict is looked at once (65,535 ports
  // answer one by one), and a match is only returned once everything before it is known
  let cursor = 0;
  const firstMatch = (lookup: (port: number) => Verdict | undefined, complete: boolean): number | false | undefined => {
    for (; cursor < order.length; cursor++) {
      const port = order[cursor];
      const v = lookup(port);
      if (v === undefined) {
        // unanswered: a silent port is "not open", but only the end of the scan says silent
        if (!complete) return undefined;
        if (status === 'closed') return port;
        continue;
      }
      if (matches(v)) return port;
    }
    return complete ? false : undefined;
  };
  let pending = [...new Set(order)].sort((a, b) => a - b);
  for (;;) {
    const run = await runCheck(pending, query.host, query.opts, (v) => firstMatch((p) => v.get(p) ?? known.get(p), false) !== undefined);
    for (const [port, v] of run.verdicts) known.set(port, v);
    const answer = firstMatch((p) => known.get(p), run.complete);
    if (answer !== undefined) return answer;
    // stopped early on an 'open' that turned out to be a self-connect: go on with the rest
    pending = pending.filter((p) => !known.has(p));
    if (pending.length === 0) return firstMatch((p) => known.get(p), true) ?? false;
  }
}

/** portscanner's findAPort* argument shuffle: `(start, end?, host?|opts?, callback?)` or `(ports[], host?|opts?, callback?)`. */
function parseFindArgs(params: unknown[]): { query: () => Query; callback?: FindPortCallback } {
  let list: unknown[] | undefined;
  let start: number | undefined;
  let end: number | undefined;
  let host: string | undefined;
  let opts: PortscannerOptions | null | undefined;
  let callback: FindPortCallback | undefined;
  const [p0, p1, p2, p3] = params;
  if (Array.isArray(p0)) list = p0;
  else if (isNumberLike(p0)) start = parseInt(String(p0), 10);
  if (typeof p1 === 'function') callback = p1 as FindPortCallback;
  // portscanner takes a numeric string here for a host ('3010' becomes the address 0.0.11.194
  // and is probed); it can only have meant the end port
  else if (typeof p1 === 'string' && !isNumberLike(p1)) host = p1;
  else if (typeof p1 === 'object') opts = p1 as PortscannerOptions | null;
  else if (isNumberLike(p1)) end = parseInt(String(p1), 10);
  if (typeof p2 === 'string') host = p2;
  else if (typeof p2 === 'object') opts = p2 as PortscannerOptions | null;
  else if (typeof p2 === 'function') callback = p2 as FindPortCallback;
  if (typeof p3 === 'function') callback = p3 as FindPortCallback;
  // Validation runs inside the promise, so bad input rejects (or reaches the callback).
  const query = (): Query => {
    const o = opts ?? {};
    const h = host || o.host || DEFAULT_HOST;
    if (list) return { order: list.map(checkedPort), host: h, opts: o };
    if (start === undefined) throw new PortError(`invalid start port "${String(p0)}"`, String(p0));
    let s = checkedPort(start);
    let e = end ? checkedPort(end) : DEFAULT_END_PORT;
    if (end && end < s) [s, e] = [e, s];
    return { order: Array.from({ length: Math.max(0, e - s + 1) }, (_, i) => s + i), host: h, opts: o };
  };
  return { query, callback };
}

function findAPort(status: PortStatus, params: unknown[]): Promise<number> | void {
  const { query, callback } = parseFindArgs(params);
  const found = (async () => findAPortWithStatus(status, query()))();
  if (callback) {
    // portscanner's callback gets false when nothing matched; its promise rejects instead
    toCallback(found, callback);
    return;
  }
  return found.then((port) => {
    if (port === false) throw new Error(NOT_FOUND_MESSAGE);
    return port;
  });
}

/**
 * portscanner's findAPortInUse: the first open port of `start..end` (end 65535 when absent)
 * or of a list, in that order; host '127.0.0.1' when absent. The promise rejects with
 * "No open port found" when none is open; the callback gets `false` instead.
 */
export function findAPortInUse(start: number | string, callback: FindPortCallback): void;
export function findAPortInUse(start: number | string, end: number | string, callback: FindPortCallback): void;
export function findAPortInUse(start: number | string, end: number | string, host: string | PortscannerOptions, callback: FindPortCallback): void;
export function findAPortInUse(start: number | string, host: string | PortscannerOptions, callback: FindPortCallback): void;
export function findAPortInUse(ports: readonly (number | string)[], callback: FindPortCallback): void;
export function findAPortInUse(ports: readonly (number | string)[], host: string | PortscannerOptions, callback: FindPortCallback): void;
export function findAPortInUse(start: number | string, end?: number | string, host?: string | PortscannerOptions): Promise<number>;
export function findAPortInUse(start: number | string, host?: string | PortscannerOptions): Promise<number>;
export function findAPortInUse(ports: readonly (number | string)[], host?: string | PortscannerOptions): Promise<number>;
export function findAPortInUse(...params: unknown[]): Promise<number> | void {
  return findAPort('open', params);
}

/**
 * portscanner's findAPortNotInUse: the first port that is not open (refused, unreachable or
 * silent), with findAPortInUse's arguments. On loopback that is a port a server can bind.
 */
export function findAPortNotInUse(start: number | string, callback: FindPortCallback): void;
export function findAPortNotInUse(start: number | string, end: number | string, callback: FindPortCallback): void;
export function findAPortNotInUse(start: number | string, end: number | string, host: string | PortscannerOptions, callback: FindPortCallback): void;
export function findAPortNotInUse(start: number | string, host: string | PortscannerOptions, callback: FindPortCallback): void;
export function findAPortNotInUse(ports: readonly (number | string)[], callback: FindPortCallback): void;
export function findAPortNotInUse(ports: readonly (number | string)[], host: string | PortscannerOptions, callback: FindPortCallback): void;
export function findAPortNotInUse(start: number | string, end?: number | string, host?: string | PortscannerOptions): Promise<number>;
export function findAPortNotInUse(start: number | string, host?: string | PortscannerOptions): Promise<number>;
export function findAPortNotInUse(ports: readonly (number | string)[], host?: string | PortscannerOptions): Promise<number>;
export function findAPortNotInUse(...params: unknown[]): Promise<number> | void {
  return findAPort('closed', params);
}
