// Summarises a V8 .cpuprofile (node --cpu-prof): when the CLI's phases ran, and the
// functions with the most self time. Used by benches/profile.sh.
import { readdirSync, readFileSync } from 'node:fs';

const dir = process.argv[2];
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
const p = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8'));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const phases = { 'module loading and option parsing': null, 'scan (engine running, records decoded)': 'drain', 'host reports written': 'upReports' };
const span = {};
const self = new Map();
let t = p.startTime;
let total = 0;
p.samples.forEach((s, i) => {
  const dt = p.timeDeltas[i] ?? 0;
  t += dt;
  total += dt;
  const names = new Set();
  for (let x = s; x; x = parent.get(x)) names.add(byId.get(x).callFrame.functionName);
  for (const [label, fn] of Object.entries(phases)) {
    if (fn && names.has(fn)) {
      span[label] ??= [t, t];
      span[label][1] = t;
    }
  }
  const f = byId.get(s).callFrame;
  const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}`;
  self.set(key, (self.get(key) ?? 0) + dt);
});
const ms = (us) => (us / 1000).toFixed(0);
const scan = span['scan (engine running, records decoded)'];
console.log(`profile length ${ms(p.endTime - p.startTime)} ms`);
if (scan) console.log(`  module loading and option parsing: 0 .. ${ms(scan[0] - p.startTime)}`);
for (const [label, s] of Object.entries(span)) console.log(`  ${label}: ${ms(s[0] - p.startTime)} .. ${ms(s[1] - p.startTime)}`);
console.log('self time, ms:');
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`  ${ms(v).padStart(5)}  ${k}`);
