// The engine's cursor, checked against a real sweep of the lab's /16 (every address answers
// on port 80): each `cursor` event of scan() promises that every probe below it was sent and
// settled and its result already handed out, so at each event the results so far must hold
// every address whose permutation position lies below the cursor (positions come from a dry
// run of the same seed and shard, which builds the probes in position order). A scan resumed
// at a cursor sends only from there on, and the two parts together cover the shard once.
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { describe, useLab } from './helpers/lab.js';

const lab = useLab(test);
const child = [`--import=tsx`, fileURLToPath(new URL('./helpers/cursor-child.ts', import.meta.url))];
const SEED = '20';
const SHARD = '2/4';
type Line = { type: string; [k: string]: unknown };

async function inScanner(args: string[]): Promise<Line[]> {
  const r = await lab().execInScanner(process.execPath, [...child, ...args], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(describe('cursor child', r));
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
}

/** Address → position in the shard's permutation, from a dry run. */
async function positions(): Promise<{ first: number; end: number; at: Map<string, number> }> {
  const [o] = await inScanner(['order', SEED, SHARD, lab().facts.sweepCidr, String(lab().facts.sweepPort)]);
  const order = o.order as string[];
  const first = o.first as number;
  return { first, end: o.end as number, at: new Map(order.map((a, i) => [a, first + i])) };
}

/** Checks the cursor's promise at every event; returns the results and the cursors. */
function checkCursors(t: import('ava').ExecutionContext, lines: Line[], at: Map<string, number>, from: number): { results: string[]; cursors: number[] } {
  const results: string[] = [];
  const handed = new Set<number>();
  const cursors: number[] = [];
  let missing = 0;
  for (const l of lines) {
    if (l.type === 'result') {
      const pos = at.get(l.address as string);
      t.true(pos !== undefined && pos >= from, `result ${l.address} at position ${pos} belongs to the run`);
      results.push(l.address as string);
      handed.add(pos as number);
    } else if (l.type === 'cursor') {
      const c = l.position as number;
      t.true(cursors.length === 0 || c > cursors[cursors.length - 1], 'the cursor only advances');
      for (let p = from; p < c; p++) if (!handed.has(p)) missing++;
      cursors.push(c);
    }
  }
  t.is(missing, 0, 'every position below each cursor already had its result');
  return { results, cursors };
}

test.serial('every cursor event covers the results handed out before it, and a resume from it loses nothing', async (t) => {
  const { first, end, at } = await positions();
  t.is(at.size, end - first, 'the dry run lists the shard once');
  const whole = await inScanner(['scan', SEED, SHARD, lab().facts.sweepCidr, String(lab().facts.sweepPort), '5000']);
  const a = checkCursors(t, whole, at, first);
  t.is(new Set(a.results).size, end - first, 'the whole shard answered');
  t.true(a.cursors.length >= 5, `cursor events while the shard ran (${a.cursors.length})`);
  t.is(a.cursors[a.cursors.length - 1], end, 'the last cursor is the end of the shard');
  // a cursor from the middle of the run, passed back as startPosition
  const mid = a.cursors.find((c) => c >= first + (end - first) / 3 && c < end - 100);
  t.truthy(mid, `a cursor in the middle of the shard among ${a.cursors.join(',')}`);
  const resumed = await inScanner(['scan', SEED, SHARD, lab().facts.sweepCidr, String(lab().facts.sweepPort), '20000', String(mid)]);
  const b = checkCursors(t, resumed, at, mid as number);
  const resumedSet = new Set(b.results);
  t.is(resumedSet.size, end - (mid as number), 'the resumed run covers exactly the positions from the cursor on');
  const before = a.results.filter((addr) => (at.get(addr) as number) < (mid as number));
  t.is(before.length + resumedSet.size, end - first, 'the first run below the cursor and the resume together: the shard, once');
  const summary = resumed.find((l) => l.type === 'summary');
  t.is((summary?.sent as number) - (summary?.retransmits as number), end - (mid as number), 'the resume sent nothing below the cursor: one first send per position from it on');
});

test.serial('runPrepared hooks: onCursor follows the onResult calls it covers', async (t) => {
  const { first, end, at } = await positions();
  const lines = await inScanner(['hooks', SEED, SHARD, lab().facts.sweepCidr, String(lab().facts.sweepPort), '5000']);
  const { results, cursors } = checkCursors(t, lines, at, first);
  t.is(new Set(results).size, end - first);
  t.true(cursors.length >= 5, `cursor events while the shard ran (${cursors.length})`);
  t.is(cursors[cursors.length - 1], end);
});
