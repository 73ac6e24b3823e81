// The Temporal dev server for the distributed-scan tests: built by scripts/install-temporal.sh
// (from the Go module proxy, cached), started inside the lab's scanner namespace on its
// loopback only, with its state in a SQLite file so that a stopped server restarts where it was.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot, run, type Lab } from './lab.js';

/** The CLI's path: builds it first if this machine has no cached build (minutes). */
export function temporalBin(): string {
  const r = spawnSync(`${repoRoot}scripts/install-temporal.sh`, [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const bin = r.stdout.trim().split('\n').pop();
  if (r.status !== 0 || !bin) throw new Error(`scripts/install-temporal.sh failed (${r.status ?? r.signal})`);
  return bin;
}

export interface TemporalServer {
  /** host:port of the frontend, reachable only from inside the scanner namespace. */
  address: string;
  /** Stops the server (SIGTERM, then SIGKILL after 10 s) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and state file; resolves once it answers. */
  start(): Promise<void>;
}

const PORT = 7233;

/** Starts the dev server inside `lab`'s scanner namespace, its state under `dir`. */
export async function startTemporal(lab: Lab, dir: string): Promise<TemporalServer> {
  const bin = temporalBin();
  const address = `127.0.0.1:${PORT}`;
  let child: ChildProcess | undefined;
  let log = '';
  const start = async (): Promise<void> => {
    // --ip binds the frontend and (by default) every other port of the dev server to loopback
    const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(PORT), '--headless', '--db-filename', join(dir, 'temporal.sqlite'), '--log-level', 'warn'];
    const c = spawn('ip', ['netns', 'exec', lab.facts.scanNs, bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout?.on('data', (b: Buffer) => (log += b.toString()));
    c.stderr?.on('data', (b: Buffer) => (log += b.toString()));
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (c.exitCode !== null) throw new Error(`temporal server exited (${c.exitCode}):\n${log}`);
      const r = await run('ip', ['netns', 'exec', lab.facts.scanNs, bin, 'operator', 'namespace', 'describe', '--namespace', 'default', '--address', address], { timeoutMs: 10_000 });
      if (r.code === 0) return;
      if (Date.now() > deadline) throw new Error(`temporal server not ready after 90 s:\n${log}\n${r.stderr}`);
      await new Promise((res) => setTimeout(res, 500));
    }
  };
  const stop = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((res) => c.once('exit', () => res()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  await start();
  return { address, stop, start };
}
