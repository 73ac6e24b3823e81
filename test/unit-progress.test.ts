// Progress arithmetic and its displays, without a scan: the meter, nmap's Stats lines, the
// live line, colour rules, --stats-every values, and the status reporter driven by fake
// terminal streams (live line, keypress status, Ctrl-C, nothing left behind).
import test from 'ava';
import { formatDuration, formatProgressLine, formatRate, formatStats, styleFor } from '../ts/cli/progress.js';
import { ProgressMeter, type ScanProgress } from '../ts/engine/progress.js';
import { loadLiveLine, parseTimeSpec, StatusReporter, type KeyInput } from '../ts/cli/status.js';

test.before(async () => {
  await loadLiveLine();
});

const counters = (over: Partial<{ sent: number; retransmits: number; received: number; total: number; elapsedMs: number; finished: boolean }> = {}) => ({
  sent: 0,
  retransmits: 0,
  received: 0,
  total: 1000,
  elapsedMs: 0,
  finished: false,
  ...over,
});

test('the meter: percent of first sends, rate over the last interval, ETA from the average', (t) => {
  const m = new ProgressMeter();
  const a = m.sample(counters({ sent: 100, elapsedMs: 1000 }), 0);
  t.is(a.percent, 10);
  t.is(a.rate, 100);
  t.is(a.etaSeconds, 9);
  const b = m.sample(counters({ sent: 450, retransmits: 50, elapsedMs: 2000 }), 3);
  t.is(b.percent, 40);
  t.is(b.rate, 350);
  t.is(b.etaSeconds, 3);
  t.is(b.found, 3);
  // Every first probe sent, replies still awaited: not 100% yet.
  t.is(m.sample(counters({ sent: 1000, elapsedMs: 3000 }), 3).percent, 99.99);
  t.like(m.sample(counters({ sent: 1000, elapsedMs: 3500, finished: true }), 3), { percent: 100, etaSeconds: 0, finished: true });
});

test('the meter: no ETA before the first probe; an aborted scan keeps its percent', (t) => {
  t.is(new ProgressMeter().sample(counters(), 0).etaSeconds, undefined);
  t.is(new ProgressMeter().sample(counters({ sent: 250, elapsedMs: 500, finished: true }), 0).percent, 25);
});

test('durations and rates as people read them', (t) => {
  t.is(formatDuration(5), '0:00:05');
  t.is(formatDuration(3725.4), '1:02:05');
  t.is(formatRate(950.4), '950');
  t.is(formatRate(12_345), '12.3k');
  t.is(formatRate(1_200_000), '1.20M');
});

const progress = (over: Partial<ScanProgress> = {}): ScanProgress => ({
  sent: 450,
  retransmits: 0,
  received: 400,
  total: 1000,
  percent: 45,
  rate: 10_000,
  elapsedSeconds: 5,
  etaSeconds: 6,
  found: 3,
  finished: false,
  ...over,
});

test("formatStats: nmap's two Stats lines", (t) => {
  const now = new Date(2026, 10, 26, 2, 9, 58);
  t.is(
    formatStats(progress(), { title: 'SYN Stealth Scan', hosts: 1, up: 1, now }),
    'Stats: 0:00:05 elapsed; 1 host (1 up) undergoing SYN Stealth Scan; 3 open ports found\nSYN Stealth Scan Timing: About 45.00% done; ETC: 02:10 (0:00:06 remaining)\n',
  );
  t.is(
    formatStats(progress({ sent: 0, etaSeconds: undefined, percent: 0, found: 1, elapsedSeconds: 0 }), { title: 'UDP Scan', hosts: 256, up: 0, now }),
    'Stats: 0:00:00 elapsed; 256 hosts (0 up) undergoing UDP Scan; 1 open port found\nUDP Scan Timing: About 0.00% done\n',
  );
});

test('the live line: percent, packets/s, ETA, found; colour only on a terminal without NO_COLOR', (t) => {
  t.is(formatProgressLine(progress()), ' 45.00% done | 10.0k pkt/s | ETA 0:00:06 | 3 found | 450/1000 probes');
  t.regex(formatProgressLine(progress({ etaSeconds: undefined })), /ETA --:--:--/);
  const tty = { isTTY: true };
  t.regex(formatProgressLine(progress(), styleFor(tty, {})), /\x1b\[/);
  t.notRegex(formatProgressLine(progress(), styleFor(tty, { NO_COLOR: '1' })), /\x1b/);
  t.notRegex(formatProgressLine(progress(), styleFor(tty, { TERM: 'dumb' })), /\x1b/);
  t.notRegex(formatProgressLine(progress(), styleFor({ isTTY: false }, {})), /\x1b/);
  // NO_COLOR set but empty does not count (no-color.org).
  t.regex(formatProgressLine(progress(), styleFor(tty, { NO_COLOR: '' })), /\x1b\[/);
});

test('--stats-every values', (t) => {
  t.is(parseTimeSpec('10'), 10);
  t.is(parseTimeSpec('10s'), 10);
  t.is(parseTimeSpec('500ms'), 0.5);
  t.is(parseTimeSpec('2m'), 120);
  t.is(parseTimeSpec('1h'), 3600);
  for (const bad of ['', '0', '-1', 'soon', '5d']) t.throws(() => parseTimeSpec(bad), { message: `invalid --stats-every "${bad}" (a time such as 10s, 500ms or 2m)` });
});

class FakeOut {
  text = '';
  constructor(readonly isTTY: boolean) {}
  // A pty nobody sized reports 0x0: the live line must still show.
  columns = 0;
  rows = 0;
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

class FakeKeys implements KeyInput {
  isTTY = true;
  raw = false;
  flowing = false;
  listener: ((d: Buffer) => void) | undefined;
  setRawMode(raw: boolean): void {
    this.raw = raw;
  }
  on(_e: 'data', l: (d: Buffer) => void): void {
    this.listener = l;
  }
  off(): void {
    this.listener = undefined;
  }
  resume(): void {
    this.flowing = true;
  }
  pause(): void {
    this.flowing = false;
  }
}

const source = { progress: () => progress(), context: () => ({ title: 'SYN Stealth Scan', hosts: 1, up: 1 }) };

test('on a terminal: a live line, lifted around stdout writes, removed at the end; keys show the status', (t) => {
  const out = new FakeOut(true);
  const keys = new FakeKeys();
  let interrupted = 0;
  const r = new StatusReporter({ ...source, output: out, input: keys, env: { NO_COLOR: '1' }, onInterrupt: () => interrupted++ });
  r.start();
  t.true(r.isLive);
  t.true(out.text.includes(' 45.00% done | 10.0k pkt/s | ETA 0:00:06 | 3 found'));
  t.true(keys.raw && keys.flowing);
  let wrote = false;
  r.around(() => (wrote = true));
  t.true(wrote);
  keys.listener?.(Buffer.from('x'));
  t.regex(out.text, /Stats: 0:00:05 elapsed; 1 host \(1 up\) undergoing SYN Stealth Scan; 3 open ports found\nSYN Stealth Scan Timing: About 45\.00% done/);
  keys.listener?.(Buffer.from([0x03]));
  t.is(interrupted, 1, 'Ctrl-C in raw mode interrupts');
  r.stop();
  r.stop();
  t.false(keys.raw, 'the terminal is given back');
  t.false(keys.flowing);
  t.is(keys.listener, undefined);
  t.notRegex(out.text, /\x1b\[3\dm/, 'no colour with NO_COLOR');
});

test('not a terminal: no live line, no escape sequences; Stats lines on the period', async (t) => {
  const out = new FakeOut(false);
  const keys = new FakeKeys();
  keys.isTTY = false;
  const r = new StatusReporter({ ...source, output: out, input: keys, env: {}, statsEvery: 0.05 });
  r.start();
  t.false(r.isLive);
  t.false(keys.raw, 'stdin untouched when not a terminal');
  await new Promise((res) => setTimeout(res, 180));
  r.stop();
  t.false(/\x1b|\r/.test(out.text));
  t.true(out.text.split('Stats: ').length - 1 >= 2, out.text);
  const after = out.text;
  await new Promise((res) => setTimeout(res, 100));
  t.is(out.text, after, 'nothing after stop()');
});

test('not a terminal, default period: nothing at all for a short scan', async (t) => {
  const out = new FakeOut(false);
  const r = new StatusReporter({ ...source, output: out, input: { ...new FakeKeys(), isTTY: false }, env: {} });
  r.start();
  await new Promise((res) => setTimeout(res, 100));
  r.stop();
  t.is(out.text, '');
});
