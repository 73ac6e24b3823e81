// The fuzz loop of one target, run in a worker thread (fuzz/run.ts watches it for hangs
// and running out of memory). Coverage-guided: mutants of corpus inputs run in batches;
// one coverage take per batch; a batch that reached a block never seen before is run
// again input by input to find which inputs did, and those join the corpus. Any exception
// the target does not declare as its parser's documented error, or a broken invariant,
// is a crash: reported with its input, and the loop stops.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { BlockCoverage } from './coverage.js';
import { Mutator, rng } from './mutate.js';
import { loadTarget } from './targets/index.js';

export interface WorkerOptions {
  target: string;
  /** Stop after this many new inputs run, or after this many seconds; whichever first. */
  runs: number;
  seconds: number;
  seed: number;
  /** Corpus directories read at the start (each file one input). */
  corpus: string[];
  /** Where new inputs are written, if anywhere. */
  out?: string;
  /** Minimise instead of fuzzing: the corpus smallest first, each input written here only if it adds coverage. */
  minimizeInto?: string;
  /** [0]: executions so far (a heartbeat), [1]: 1 while an input runs. */
  control: SharedArrayBuffer;
  /** The input running now: 4-byte length, then its bytes. */
  current: SharedArrayBuffer;
}

export type WorkerMessage =
  | { type: 'stats'; execs: number; replays: number; corpus: number; features: number; blocks: number; done: boolean }
  | { type: 'crash'; input: Uint8Array; error: string };

const opts = workerData as WorkerOptions;
const post = (m: WorkerMessage): void => parentPort!.postMessage(m);

const target = await loadTarget(opts.target);
const control = new Int32Array(opts.control);
const currentLen = new Int32Array(opts.current, 0, 1);
const currentBytes = new Uint8Array(opts.current, 4);
// Only the project's sources guide the search: not the fuzzer, node or dependencies.
const coverage = new BlockCoverage((url) => url.includes('/ts/') && !url.includes('/node_modules/'));
const random = rng(opts.seed);
const mutator = new Mutator(random, target.dictionary, Math.min(target.maxLen, currentBytes.length));

const features = new Set<number>();
const corpus: Buffer[] = [];
const names = new Set<string>();
let execs = 0;
let replays = 0;
let crashed = false;

/** Microseconds each corpus input took when it was last run alone. */
const costs: number[] = [];
let lastCost = 0;

function remember(input: Buffer, write: boolean): void {
  const name = createHash('sha1').update(input).digest('hex');
  if (names.has(name)) return;
  names.add(name);
  corpus.push(input);
  costs.push(lastCost);
  if (write && opts.out) writeFileSync(join(opts.out, name), input);
}

/** Runs one input; false when it crashed (reported, the loop ends). */
async function exec(input: Buffer): Promise<boolean> {
  currentLen[0] = input.length;
  currentBytes.set(input);
  Atomics.store(control, 1, 1);
  const t0 = performance.now();
  try {
    const r = target.run(input);
    if (r instanceof Promise) await r;
    lastCost = (performance.now() - t0) * 1000;
  } catch (first) {
    crashed = true;
    // the loop runs without stack traces (the parsers' documented errors are thrown by the
    // million, and capturing a stack costs more than the parse); the crash runs again with them
    Error.stackTraceLimit = 20;
    let e = first;
    try {
      const r = target.run(input);
      if (r instanceof Promise) await r;
    } catch (again) {
      e = again;
    }
    post({ type: 'crash', input: new Uint8Array(input), error: e instanceof Error ? (e.stack ?? String(e)) : `thrown non-error: ${String(e)}` });
    return false;
  } finally {
    Atomics.store(control, 1, 0);
    Atomics.add(control, 0, 1);
  }
  return true;
}

/** Adds what is new in `got`; true when anything was. */
function learn(got: readonly number[]): boolean {
  let fresh = false;
  for (const f of got) {
    if (!features.has(f)) {
      features.add(f);
      fresh = true;
    }
  }
  return fresh;
}

const hasNew = (got: readonly number[]): boolean => got.some((f) => !features.has(f));

/**
 * A corpus input to mutate: uniform, except that one slower than SLOW µs is taken only
 * SLOW/cost of the times it comes up (as libFuzzer favours fast inputs): a handful of
 * inputs naming 65,535 ports or 2^24 addresses would otherwise take most of the time.
 */
const SLOW = 500;
function pickInput(): Buffer {
  for (let tries = 0; ; tries++) {
    const i = Math.floor(random() * corpus.length);
    if (tries === 8 || costs[i] <= SLOW || random() * costs[i] < SLOW) return corpus[i];
  }
}

const stats = (done: boolean): WorkerMessage => ({ type: 'stats', execs, replays, corpus: corpus.length, features: features.size, blocks: coverage.blocks, done });

async function main(): Promise<void> {
  Error.stackTraceLimit = 0;
  if (opts.out) mkdirSync(opts.out, { recursive: true });
  // the committed corpus first, input by input (an empty input if there is none)
  const seeds: Buffer[] = [];
  for (const dir of opts.corpus) {
    let files: string[] = [];
    try {
      files = readdirSync(dir).sort();
    } catch {
      continue;
    }
    for (const f of files) seeds.push(readFileSync(join(dir, f)));
  }
  if (seeds.length === 0) seeds.push(Buffer.alloc(0));
  coverage.take();
  if (opts.minimizeInto) {
    mkdirSync(opts.minimizeInto, { recursive: true });
    seeds.sort((a, b) => a.length - b.length || Buffer.compare(a, b));
    // first every input once, alone and all together, only to learn the blocks there are:
    // a block V8 reports apart from its function only once some run differs (see
    // coverage.ts), and an input must not be dropped for reaching a block not known yet
    for (const s of seeds) {
      if (!(await exec(s))) return;
      coverage.take();
    }
    for (const s of seeds) if (!(await exec(s))) return;
    coverage.take();
    for (const s of seeds) {
      if (!(await exec(s))) return;
      if (learn(coverage.take())) {
        remember(s, false);
        writeFileSync(join(opts.minimizeInto, createHash('sha1').update(s).digest('hex')), s);
      }
    }
    return;
  }
  for (const s of seeds) {
    if (!(await exec(s))) return;
    learn(coverage.take());
    remember(s, false);
  }

  const started = Date.now();
  let lastReport = started;
  let batchSize = 16;
  const batch: Buffer[] = [];
  while (execs < opts.runs && Date.now() - started < opts.seconds * 1000) {
    batch.length = 0;
    const n = Math.min(batchSize, opts.runs - execs);
    for (let i = 0; i < n; i++) {
      const input = mutator.mutate(pickInput(), corpus[Math.floor(random() * corpus.length)]);
      batch.push(input);
      execs++;
      if (!(await exec(input))) return;
    }
    if (hasNew(coverage.take())) {
      // which of the batch reached it: each again, alone
      for (const input of batch) {
        replays++;
        if (!(await exec(input))) return;
        if (learn(coverage.take())) remember(input, true);
      }
      batchSize = Math.max(8, batchSize >> 1);
    } else batchSize = Math.min(1024, batchSize * 2);
    const now = Date.now();
    if (now - lastReport > 2000) {
      lastReport = now;
      post(stats(false));
    }
  }
}

await main();
if (!crashed) post(stats(true));
