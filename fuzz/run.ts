// Coverage-guided fuzzing of the TypeScript parsers (see fuzz/README.md):
//   node --import=tsx fuzz/run.ts [--runs N] [--seconds S] [--timeout MS] [--seed N]
//        [--out DIR] [TARGET...]          fuzz each target (default: all, 10,000,000 runs)
//   node --import=tsx fuzz/run.ts --minimize [TARGET...]   shrink fuzz/corpus/TARGET
//   node --import=tsx fuzz/run.ts --replay TARGET FILE...  run inputs again, one by one
// Each target runs in a worker thread; this thread is its watchdog: an input that runs
// longer than --timeout (a hang), or a worker that runs out of memory, fails the target
// like a crash does, with the input saved under fuzz/artifacts/TARGET/. Exits non-zero
// when any target failed.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { TARGET_NAMES, loadTarget } from './targets/index.js';
import type { WorkerMessage, WorkerOptions } from './worker.js';

const here = dirname(fileURLToPath(import.meta.url));
const MAX_INPUT = 64 * 1024;

interface Args {
  runs: number;
  seconds: number;
  timeoutMs: number;
  seed: number;
  out?: string;
  minimize: boolean;
  replay: boolean;
  rest: string[];
}

function parseArgs(argv: string[]): Args {
  const a: Args = { runs: 10_000_000, seconds: Infinity, timeoutMs: 2000, seed: Date.now() % 2 ** 31, minimize: false, replay: false, rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    const num = (): number => {
      const n = Number(argv[++i]);
      if (!Number.isFinite(n) || n < 0) throw new Error(`${v} needs a number`);
      return n;
    };
    if (v === '--runs') a.runs = num();
    else if (v === '--seconds') {
      a.seconds = num();
      if (!argv.includes('--runs')) a.runs = Infinity;
    } else if (v === '--timeout') a.timeoutMs = num();
    else if (v === '--seed') a.seed = num();
    else if (v === '--out') a.out = argv[++i];
    else if (v === '--minimize') a.minimize = true;
    else if (v === '--replay') a.replay = true;
    else if (v.startsWith('-')) throw new Error(`unknown option ${v}`);
    else a.rest.push(v);
  }
  return a;
}

const corpusDir = (t: string): string => join(here, 'corpus', t);

function saveArtifact(t: string, kind: string, input: Uint8Array): string {
  const dir = join(here, 'artifacts', t);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${kind}-${createHash('sha1').update(input).digest('hex')}`);
  writeFileSync(path, input);
  return path;
}

type Outcome = { ok: true; stats: Extract<WorkerMessage, { type: 'stats' }> } | { ok: false; why: string };

async function fuzzOne(t: string, args: Args, extra: Partial<WorkerOptions> = {}): Promise<Outcome> {
  const timeoutMs = Math.max(args.timeoutMs, (await loadTarget(t)).timeoutMs ?? 0);
  const control = new SharedArrayBuffer(8);
  const current = new SharedArrayBuffer(4 + MAX_INPUT);
  const opts: WorkerOptions = {
    target: t,
    runs: args.runs,
    seconds: args.seconds,
    seed: args.seed,
    corpus: [corpusDir(t)],
    out: args.out ? join(args.out, t) : undefined,
    control,
    current,
    ...extra,
  };
  const ctl = new Int32Array(control);
  const currentInput = (): Uint8Array => new Uint8Array(current, 4, new Int32Array(current, 0, 1)[0]).slice();
  const started = Date.now();
  return new Promise((resolve) => {
    const worker = new Worker(join(here, 'worker-shim.mjs'), { workerData: opts, resourceLimits: { maxOldGenerationSizeMb: 2048 } });
    let last: Extract<WorkerMessage, { type: 'stats' }> | undefined;
    let lastLine = Date.now();
    let settled = false;
    const finish = (o: Outcome): void => {
      if (settled) return;
      settled = true;
      clearInterval(watch);
      void worker.terminate();
      resolve(o);
    };
    let beat = -1;
    let beatAt = Date.now();
    const watch = setInterval(() => {
      const now = Date.now();
      const b = Atomics.load(ctl, 0);
      if (b !== beat) {
        beat = b;
        beatAt = now;
      } else if (Atomics.load(ctl, 1) === 1 && now - beatAt > timeoutMs) {
        const path = saveArtifact(t, 'hang', currentInput());
        finish({ ok: false, why: `an input ran longer than ${timeoutMs} ms: ${path}` });
      }
    }, 50);
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'crash') {
        const path = saveArtifact(t, 'crash', m.input);
        finish({ ok: false, why: `crash: ${path}\n${m.error}` });
      } else {
        last = m;
        const line = `${t}: ${m.execs} runs, ${m.corpus} inputs, ${m.features} blocks, ${Math.round(m.execs / ((Date.now() - started) / 1000))}/s`;
        if (!m.done && process.stderr.isTTY) process.stderr.write(`\r${line}   `);
        else if (!m.done && Date.now() - lastLine > 60_000) {
          // a log (CI, a file): a line a minute
          lastLine = Date.now();
          console.log(line);
        }
        if (m.done) finish({ ok: true, stats: m });
      }
    });
    worker.on('error', (e: Error & { code?: string }) => {
      if (e.code === 'ERR_WORKER_OUT_OF_MEMORY' && Atomics.load(ctl, 1) === 1) {
        const path = saveArtifact(t, 'oom', currentInput());
        finish({ ok: false, why: `an input ran out of memory (2 GiB heap): ${path}` });
      } else finish({ ok: false, why: `the worker failed: ${e.stack ?? e.message}` });
    });
    worker.on('exit', (code) => finish(last?.done ? { ok: true, stats: last } : { ok: false, why: `the worker exited (${code}) before finishing` }));
  });
}

async function replay(t: string, files: string[]): Promise<boolean> {
  const target = await loadTarget(t);
  let ok = true;
  for (const f of files) {
    try {
      const r = target.run(readFileSync(f));
      if (r instanceof Promise) await r;
      console.log(`${f}: no crash`);
    } catch (e) {
      ok = false;
      console.log(`${f}: ${e instanceof Error ? e.stack : String(e)}`);
    }
  }
  return ok;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.replay) {
    const [t, ...files] = args.rest;
    return (await replay(t, files)) ? 0 : 1;
  }
  const targets = args.rest.length > 0 ? args.rest : TARGET_NAMES;
  for (const t of targets) if (!TARGET_NAMES.includes(t)) throw new Error(`no fuzz target "${t}" (targets: ${TARGET_NAMES.join(', ')})`);
  let failed = 0;
  for (const t of targets) {
    if (args.minimize) {
      // the corpus again, smallest first, each input kept only if it adds coverage
      const keptDir = join(here, 'artifacts', `.minimize-${t}`);
      rmSync(keptDir, { recursive: true, force: true });
      const o = await fuzzOne(t, { ...args, runs: 0, out: undefined }, { minimizeInto: keptDir });
      if (!o.ok) {
        console.log(`minimize ${t}: FAILED, ${o.why}`);
        failed++;
        continue;
      }
      const before = readdirSync(corpusDir(t)).length;
      // inputs that once crashed or hung a target stay, whatever they cover now
      const regressions = readdirSync(corpusDir(t))
        .filter((f) => f.startsWith('regression-'))
        .map((f) => [f, readFileSync(join(corpusDir(t), f))] as const);
      rmSync(corpusDir(t), { recursive: true, force: true });
      mkdirSync(corpusDir(t), { recursive: true });
      for (const f of readdirSync(keptDir)) writeFileSync(join(corpusDir(t), f), readFileSync(join(keptDir, f)));
      for (const [f, data] of regressions) writeFileSync(join(corpusDir(t), f), data);
      rmSync(keptDir, { recursive: true, force: true });
      console.log(`minimize ${t}: ${before} inputs -> ${readdirSync(corpusDir(t)).length} (${regressions.length} regression inputs kept as they are), ${o.stats.features} blocks covered`);
      continue;
    }
    const started = Date.now();
    const o = await fuzzOne(t, args);
    const secs = ((Date.now() - started) / 1000).toFixed(0);
    if (process.stderr.isTTY) process.stderr.write('\n');
    if (o.ok) {
      const s = o.stats;
      console.log(`fuzz ${t}: ${s.execs} executions (+${s.replays} replays) in ${secs} s, corpus ${s.corpus}, ${s.features} of ${s.blocks} blocks covered, no crash, no hang (seed ${args.seed})`);
    } else {
      console.log(`fuzz ${t}: FAILED after ${secs} s (seed ${args.seed}): ${o.why}`);
      failed++;
    }
  }
  // the plain closing line CI reads
  console.log(`fuzz: ${targets.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
