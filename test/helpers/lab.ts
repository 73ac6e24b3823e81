// ava helpers for tests that send packets: bring up a private network-namespace lab
// (scripts/lab.sh) under a unique ID, run commands inside its scanner namespace, and always
// tear it down, whether the test passes, fails or throws.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext, TestFn } from 'ava';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const labScript = `${repoRoot}scripts/lab.sh`;
export const ferroscanBin = `${repoRoot}bin/ferroscan.js`;

export const NEED_ROOT = 'lab tests need root (they create network namespaces)';

export interface LabFacts {
  id: string;
  scanNs: string;
  targetNs: string;
  scanIf: string;
  targetIf: string;
  scanAddr: string;
  targetAddr: string;
  scanMac: string;
  targetMac: string;
  sweepCidr: string;
  sweepPort: number;
  specPorts: number[];
  loopbackAddr: string;
  loopbackOpen: number;
  loopbackClosed: number;
  stateDir: string;
  /** Every KEY=VALUE line lab.sh printed. */
  raw: Record<string, string>;
}

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time in milliseconds. */
  ms: number;
}

export interface ExecOptions {
  /** Kill the command after this many milliseconds (default 4 minutes). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** A lab that is up, whichever script built it; `facts` are what that script printed. */
export interface LabHandle<F> {
  facts: F;
  /** Runs `ip netns exec <scanner ns> cmd args...`: nothing here runs in the host namespace. */
  execInScanner(cmd: string, args: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Runs `node bin/ferroscan.js args...` inside the scanner namespace. */
  ferroscan(args: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Runs nmap inside the scanner namespace. */
  nmap(args: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Removes the lab; safe to call more than once. */
  down(): void;
}

export type Lab = LabHandle<LabFacts>;

/**
 * The KEY=VALUE lines a lab script prints: every pair, and a getter that fails with the whole
 * text when a key is missing or empty.
 */
export function parseKeyValues(text: string, script: string): { raw: Record<string, string>; get: (key: string) => string } {
  const raw: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) raw[m[1]] = m[2];
  }
  const get = (k: string): string => {
    const v = raw[k];
    if (v === undefined || v === '') throw new Error(`${script} printed no ${k}:\n${text}`);
    return v;
  };
  return { raw, get };
}

export function parseFacts(text: string): LabFacts {
  const { raw, get } = parseKeyValues(text, 'lab.sh');
  return {
    id: get('LAB_ID'),
    scanNs: get('LAB_SCAN_NS'),
    targetNs: get('LAB_TARGET_NS'),
    scanIf: get('LAB_SCAN_IF'),
    targetIf: get('LAB_TARGET_IF'),
    scanAddr: get('LAB_SCAN_ADDR'),
    targetAddr: get('LAB_TARGET_ADDR'),
    scanMac: get('LAB_SCAN_MAC'),
    targetMac: get('LAB_TARGET_MAC'),
    sweepCidr: get('LAB_SWEEP_CIDR'),
    sweepPort: Number(get('LAB_SWEEP_PORT')),
    specPorts: get('LAB_SPEC_PORTS').split(',').map(Number),
    loopbackAddr: get('LAB_LOOPBACK_ADDR'),
    loopbackOpen: Number(get('LAB_LOOPBACK_OPEN')),
    loopbackClosed: Number(get('LAB_LOOPBACK_CLOSED')),
    stateDir: get('LAB_STATE_DIR'),
    raw,
  };
}

/** Spawns a command and collects its output; never rejects for a non-zero exit. */
export function run(cmd: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 240_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ms: Date.now() - started,
      });
    });
  });
}

/** Labs up in this process, by ID, with the script that removes them. */
const live = new Map<string, string>();
let exitHookInstalled = false;

function labDown(id: string): void {
  const script = live.get(id);
  if (script === undefined) return;
  spawnSync(script, ['down', id], { stdio: 'ignore' });
  live.delete(id);
}

/**
 * What every lab script's helper does: refuses without root, removes labs of dead owners
 * (`script gc`), runs `script up` under a fresh ID starting with `prefix`, remembers it for
 * teardown at exit, and returns the lab with commands that run only in its scanner namespace.
 */
export function bringUpLab<F extends { scanNs: string }>(script: string, prefix: string, env: NodeJS.ProcessEnv, parse: (text: string) => F): LabHandle<F> {
  if (process.getuid?.() !== 0) throw new Error(NEED_ROOT);
  spawnSync(script, ['gc'], { stdio: 'ignore' });
  const id = `${prefix}${randomBytes(3).toString('hex')}`;
  const up = spawnSync(script, ['up', id], { encoding: 'utf8', env: { ...process.env, ...env, LAB_OWNER_PID: String(process.pid) } });
  live.set(id, script);
  if (!exitHookInstalled) {
    // A backstop for a worker that exits without running ava's teardowns.
    process.on('exit', () => {
      for (const l of [...live.keys()]) labDown(l);
    });
    exitHookInstalled = true;
  }
  if (up.status !== 0) {
    labDown(id);
    throw new Error(`${script.slice(repoRoot.length)} up ${id} failed (${up.status ?? up.signal}):\n${up.stdout}${up.stderr}`);
  }
  const facts = parse(up.stdout);
  const execInScanner = (cmd: string, args: string[], opts?: ExecOptions) => run('ip', ['netns', 'exec', facts.scanNs, cmd, ...args], opts);
  return {
    facts,
    execInScanner,
    ferroscan: (args, opts) => execInScanner(process.execPath, [ferroscanBin, ...args], opts),
    nmap: (args, opts) => execInScanner('nmap', args, opts),
    down: () => labDown(id),
  };
}

/**
 * One lab (from `up`) for every test of a file: up in test.before, down in test.after.always.
 * Returns a getter for use inside tests. When not root, test.before fails, which fails every
 * test of the file with NEED_ROOT.
 */
export function useLabOf<L extends { down(): void }>(test: TestFn, up: () => L, what = 'the lab'): () => L {
  let lab: L | undefined;
  test.before(() => {
    lab = up();
  });
  test.after.always(() => {
    lab?.down();
  });
  return () => {
    if (!lab) throw new Error(`${what} is not up (test.before failed)`);
    return lab;
  };
}

/** Variants of the lab (scripts/lab.sh's environment). */
export interface LabOptions {
  /** Probability 0..1 of dropping each packet that arrives at the target (LAB_LOSS). */
  loss?: number;
  /** 'default': the target keeps the kernel's ICMP rate limit (LAB_ICMP=default). */
  icmp?: 'open' | 'default';
  /** Packets per second above which the target drops what the scanner sends (LAB_BOTTLENECK). */
  bottleneck?: number;
}

/**
 * Brings up a fresh lab under a unique ID (labs left by crashed earlier runs are removed
 * first) and returns it. Throws NEED_ROOT when not running as root.
 */
export function labUp(options: LabOptions = {}): Lab {
  const env = { LAB_LOSS: options.loss === undefined ? '' : String(options.loss), LAB_ICMP: options.icmp ?? 'open', LAB_BOTTLENECK: options.bottleneck === undefined ? '' : String(options.bottleneck) };
  return bringUpLab(labScript, 't', env, parseFacts);
}

/** One lab for every test of a file (see useLabOf). */
export function useLab(test: TestFn): () => Lab {
  return useLabOf(test, () => labUp());
}

/** A lab of the test's own, torn down when the test ends however it ends. */
export async function withLab<T>(t: ExecutionContext, fn: (lab: Lab) => Promise<T> | T, options: LabOptions = {}): Promise<T> {
  const lab = labUp(options);
  t.teardown(() => lab.down());
  return fn(lab);
}

/** A failure message with the command's output, for assertions on an ExecResult. */
export function describe(what: string, r: ExecResult): string {
  const tail = (s: string) => (s.length > 4000 ? `...${s.slice(-4000)}` : s);
  return `${what} exited ${r.code ?? r.signal} after ${r.ms} ms\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`;
}
