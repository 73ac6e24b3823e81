// Run by the portscanner tests as a child process: inside the lab's scanner namespace (lab
// tests), or without CAP_NET_RAW (the connect fallback). Makes the calls of a JSON plan
// (argv[2]) with ferroscan's drop-in functions and with the npm package portscanner itself, in
// this process, one after another, and prints one JSON line per call:
//   {"lib":"ferroscan","fn":"checkPortStatus","args":[22,"198.18.0.2"],"ok":true,"value":"open","ms":12}
//   {"lib":"portscanner",...,"ok":false,"error":{"name":"Error","code":"EHOSTUNREACH","message":"..."}}
// A call with "callback": true passes a callback instead and reports what it received.
// Only loopback and the lab ranges (IPv4 and IPv6) are accepted as hosts.
import { createRequire } from 'node:module';
import * as ferroscan from '../../ts/index.js';

export interface Call {
  lib: 'ferroscan' | 'portscanner';
  fn: 'checkPortStatus' | 'findAPortInUse' | 'findAPortNotInUse' | 'checkPort' | 'checkPorts';
  args: unknown[];
  callback?: boolean;
}

export interface Outcome extends Call {
  ok: boolean;
  value?: unknown;
  /** The callback's second argument (callback calls). */
  cbValue?: unknown;
  error?: { name: string; code?: string; message: string };
  ms: number;
}

// loopback, 198.18.0.0/15, and ::1 and 2001:2::/48 (first groups 2001, 2, 0) for the IPv6 lab
const SAFE = /^(127\.\d+\.\d+\.\d+|198\.1[89]\.\d+\.\d+|::1|2001:2::[0-9a-f:]*|2001:2:0:[0-9a-f:]*)$/;

/** Every argument portscanner could take for a host: any string after the first argument (a numeric one too), or opts.host. */
function hostsOf(args: unknown[]): unknown[] {
  const hosts: unknown[] = [];
  for (const a of args.slice(1)) {
    if (typeof a === 'string') hosts.push(a);
    if (a && typeof a === 'object' && !Array.isArray(a) && 'host' in a) hosts.push((a as { host: unknown }).host);
  }
  return hosts;
}

const require = createRequire(import.meta.url);
const portscanner = require('portscanner') as Record<string, (...a: unknown[]) => Promise<unknown> | void>;
const libs = { ferroscan: ferroscan as unknown as Record<string, (...a: unknown[]) => Promise<unknown> | void>, portscanner };

const errorOf = (e: unknown): Outcome['error'] => {
  const err = e as NodeJS.ErrnoException;
  return { name: err?.name ?? 'Error', code: err?.code, message: String(err?.message ?? e) };
};

async function call(c: Call): Promise<Outcome> {
  for (const h of hostsOf(c.args)) if (typeof h !== 'string' || !SAFE.test(h)) throw new Error(`portscanner-child: refusing host ${h}`);
  const fn = libs[c.lib][c.fn];
  if (typeof fn !== 'function') throw new Error(`portscanner-child: ${c.lib} has no ${c.fn}`);
  const t0 = performance.now();
  if (c.callback) {
    return new Promise((resolve) => {
      fn(...c.args, (err: unknown, value: unknown) => {
        const ms = Math.round(performance.now() - t0);
        resolve(err ? { ...c, ok: false, error: errorOf(err), cbValue: value, ms } : { ...c, ok: true, value, cbValue: value, ms });
      });
    });
  }
  try {
    const value = await fn(...c.args);
    return { ...c, ok: true, value, ms: Math.round(performance.now() - t0) };
  } catch (e) {
    return { ...c, ok: false, error: errorOf(e), ms: Math.round(performance.now() - t0) };
  }
}

const plan = JSON.parse(process.argv[2] ?? '[]') as Call[];
for (const c of plan) process.stdout.write(`${JSON.stringify(await call(c))}\n`);
