// Reverse DNS (PTR) for scanned hosts, as nmap does it: for the hosts that are up by default,
// for every target with -R, never with -n, through the servers of --dns-servers or the
// system's resolver. Lookups run concurrently up to a bound, each with its own deadline, so
// a slow or silent server costs one timeout, not one per host.
import { Resolver as DnsResolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { UsageError } from '../errors.js';

/** The part of node:dns's Resolver that reverse lookups use (tests pass a fake). */
export interface PtrResolver {
  reverse(address: string): Promise<string[]>;
  cancel?(): void;
}

export interface ReverseOptions {
  /** --dns-servers: the servers to ask ("198.18.8.2", "198.18.8.2:5353"); the system's when absent. */
  servers?: readonly string[];
  /** Lookups in flight at once (default 32). */
  concurrency?: number;
  /** Milliseconds one lookup may take, retries included (default 2500). */
  timeoutMs?: number;
  /** A resolver to use instead of node:dns's (tests). */
  resolver?: PtrResolver;
  signal?: AbortSignal;
  /** Called for an address whose PTR name held characters outside nmap's host name alphabet (shown as '*'). */
  onIllegalName?: (address: string) => void;
}

export const DEFAULT_RDNS_CONCURRENCY = 32;
export const DEFAULT_RDNS_TIMEOUT_MS = 2500;

/** --dns-servers "a,b": addresses (optionally with :port), checked; a bad one is a UsageError. */
export function parseDnsServers(text: string): string[] {
  const servers = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (servers.length === 0) throw new UsageError(`invalid --dns-servers "${text}" (a comma-separated list of server addresses)`);
  for (const s of servers) {
    const m = /^(?:\[(.+)\]|([^:]+))(?::(\d+))?$/.exec(s);
    const host = m?.[1] ?? m?.[2] ?? (isIP(s) === 6 ? s : undefined);
    const port = m?.[3] === undefined ? 53 : Number(m[3]);
    if (host === undefined || isIP(host) === 0 || !(port > 0 && port < 65536)) throw new UsageError(`invalid DNS server "${s}" in --dns-servers (an IP address, optionally :port)`);
  }
  return servers;
}

// nmap's host name alphabet (Target::setHostName): letters, digits and ".-+=:_~*".
const HOSTNAME_CHAR = /[A-Za-z0-9.\-+=:_~*]/;

/** A PTR name as nmap keeps it: every character outside its alphabet becomes '*', so no output shows a control byte. */
export function sanitizeHostname(name: string): string {
  let out = '';
  for (const c of name) out += HOSTNAME_CHAR.test(c) ? c : '*';
  return out;
}

/** A name as node:dns (c-ares) hands it back, its escapes undone: "\\DDD" (a byte in decimal) and "\\c" (c itself). */
export function unescapeDnsName(name: string): string {
  return name.replace(/\\(\d{3}|.)/g, (_, e: string) => (e.length === 3 ? String.fromCharCode(Number(e) & 0xff) : e));
}

/** A node:dns Resolver; it gives up by itself after `timeoutMs` (two tries). */
export function systemResolver(servers: readonly string[] | undefined, timeoutMs = DEFAULT_RDNS_TIMEOUT_MS): PtrResolver {
  const resolver = new DnsResolver({ timeout: Math.max(1, Math.floor(timeoutMs / 2)), tries: 2 });
  if (servers?.length) resolver.setServers([...servers]);
  return resolver;
}

/**
 * Looks up the PTR name of every address; resolves with address → name for those that have
 * one (the first name, as nmap shows). Failures and timeouts leave an address out: a name
 * is a nicety, never a reason for the scan to fail.
 */
export async function reverseLookup(addresses: Iterable<string>, options: ReverseOptions = {}): Promise<Map<string, string>> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_RDNS_TIMEOUT_MS;
  const resolver = options.resolver ?? systemResolver(options.servers, timeoutMs);
  const names = new Map<string, string>();
  const iterator = addresses[Symbol.iterator]();
  const one = async (address: string): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, undefined);
    });
    try {
      const found = await Promise.race([resolver.reverse(address).catch(() => undefined), deadline]);
      const name = found?.find((n) => n !== '');
      if (name === undefined) return;
      // A PTR record is anyone's bytes: back to the bytes c-ares escaped, then nmap's host
      // name alphabet with '*' for the rest (so "evil\x1b[31m" reads as nmap shows it).
      const raw = unescapeDnsName(name.replace(/\.$/, ''));
      const clean = sanitizeHostname(raw);
      if (clean !== raw) options.onIllegalName?.(address);
      names.set(address, clean);
    } finally {
      clearTimeout(timer);
    }
  };
  const worker = async (): Promise<void> => {
    for (let next = iterator.next(); !next.done; next = iterator.next()) {
      if (options.signal?.aborted) return;
      await one(next.value);
    }
  };
  const n = Math.max(1, options.concurrency ?? DEFAULT_RDNS_CONCURRENCY);
  try {
    await Promise.all(Array.from({ length: n }, worker));
  } finally {
    // Queries still out after their deadline are dropped, so nothing keeps the process alive.
    resolver.cancel?.();
  }
  return names;
}
