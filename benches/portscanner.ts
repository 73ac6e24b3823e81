// Benchmark: all 65,535 TCP ports of the lab target (198.18.0.2), checked by the npm package
// portscanner (its checkPortStatus, 1,000 checks in flight) and by ferroscan's drop-in range
// call (checkPorts, one engine scan). Wall time of each call, and port by port whether the
// answer is right against scripts/lab-spec.json: the target's listeners 'open', every other
// port not open (refused, rejected with an ICMP unreachable, or silently dropped). A rejected
// promise is a wrong answer: the caller learns nothing about the port.
//
//   node --import=tsx benches/portscanner.ts          (root) RUNS=3; appends to benches/RESULTS.md
//   RUNS=1 NO_RESULTS=1 node --import=tsx benches/portscanner.ts
//
// The script brings up its own lab (scripts/lab.sh up bp0, down at the end, whatever happens)
// and runs each contender in a child process inside the lab's scanner namespace
// (`ip netns exec fsbp0-scan node ... child TOOL TARGET`): nothing is sent from this process.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const self = fileURLToPath(import.meta.url);
const labScript = `${repo}scripts/lab.sh`;
const LAB_ID = 'bp0';
const IN_FLIGHT = 1000;
const ALL_PORTS = 65535;

interface Spec {
  target: { addr: string };
  ports: { port: number; rule: string; bind?: string }[];
}

/** What a child prints: its call's wall time and every port's answer, compactly. */
interface ChildReport {
  tool: string;
  ms: number;
  /** Ports answered 'open'. */
  open: number[];
  /** Ports whose check rejected, by error code. */
  rejected: Record<string, number[]>;
  /** Ports answered with anything else than 'open' or 'closed' (never expected). */
  other: number[];
  /** Ports answered at all ('open' or 'closed'). */
  answered: number;
  version: string;
  /** ferroscan: the technique its check used. */
  technique?: string;
}

// ---------------------------------------------------------------- child (inside the lab)

/** Refuses to send unless this process is in a namespace without a default route, aimed at the lab range. */
function guard(target: string): void {
  if (!/^198\.1[89]\.\d+\.\d+$/.test(target)) throw new Error(`refusing to scan ${target}: the bench scans the lab range 198.18.0.0/15 only`);
  const routes = readFileSync('/proc/net/route', 'utf8').split('\n').slice(1);
  if (routes.some((l) => l.split('\t')[1] === '00000000')) {
    throw new Error('refusing to scan: this namespace has a default route (run inside the lab scanner namespace)');
  }
}

async function child(tool: string, target: string): Promise<void> {
  guard(target);
  const ports = Array.from({ length: ALL_PORTS }, (_, i) => i + 1);
  const report: ChildReport = { tool, ms: 0, open: [], rejected: {}, other: [], answered: 0, version: '' };
  if (tool === 'portscanner') {
    const { createRequire } = await import('node:module');
    const require = createRequire(import.meta.url);
    const portscanner = require('portscanner') as { checkPortStatus(port: number, host: string): Promise<string> };
    report.version = (require('portscanner/package.json') as { version: string }).version;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < ports.length) {
        const port = ports[next++];
        try {
          const status = await portscanner.checkPortStatus(port, target);
          report.answered++;
          if (status === 'open') report.open.push(port);
          else if (status !== 'closed') report.other.push(port);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
          (report.rejected[code] ??= []).push(port);
        }
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    report.ms = performance.now() - t0;
  } else {
    const { checkPorts, VERSION } = await import('../ts/index.js');
    report.version = VERSION;
    const t0 = performance.now();
    try {
      const checks = await checkPorts({ start: 1, end: ALL_PORTS }, target);
      report.ms = performance.now() - t0;
      for (const c of checks) {
        report.answered++;
        if (c.status === 'open') report.open.push(c.port);
        else if (c.status !== 'closed') report.other.push(c.port);
      }
      report.technique = checks[0]?.technique;
    } catch (e) {
      report.ms = performance.now() - t0;
      report.rejected[(e as { code?: string }).code ?? (e as Error).message] = ports;
    }
  }
  report.open.sort((a, b) => a - b);
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

// ---------------------------------------------------------------- parent (host namespace, sends nothing)

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b));
    p.stderr.on('data', (b: Buffer) => (stderr += b));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

interface Row {
  tool: string;
  run: number;
  command: string;
  seconds: number | undefined;
  right: number;
  note: string;
}

/** Port-by-port judgement against the lab spec: listeners open, everything else not open. */
function judge(report: ChildReport, expectedOpen: ReadonlySet<number>): { right: number; notes: string[] } {
  const open = new Set(report.open);
  const rejected = new Set(Object.values(report.rejected).flat());
  const other = new Set(report.other);
  let right = 0;
  const wrong: string[] = [];
  for (let port = 1; port <= ALL_PORTS; port++) {
    const ok = !rejected.has(port) && !other.has(port) && open.has(port) === expectedOpen.has(port);
    if (ok) right++;
    else if (wrong.length < 12) wrong.push(String(port));
  }
  const notes: string[] = [];
  for (const [code, ports] of Object.entries(report.rejected)) {
    notes.push(`rejected ${code} on ${ports.length > 8 ? `${ports.length} ports` : ports.join(',')}`);
  }
  if (right < ALL_PORTS) notes.push(`wrong: ${wrong.join(',')}${ALL_PORTS - right > wrong.length ? ', ...' : ''}`);
  return { right, notes };
}

async function parent(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('benches/portscanner.ts needs root (it creates network namespaces)');
  const runs = Number(process.env.RUNS ?? 3);
  const spec = JSON.parse(readFileSync(`${repo}scripts/lab-spec.json`, 'utf8')) as Spec;
  const target = spec.target.addr;
  const expectedOpen = new Set(spec.ports.filter((p) => p.rule === 'listen' && (p.bind === '0.0.0.0' || p.bind === target)).map((p) => p.port));
  const up = spawnSync(labScript, ['up', LAB_ID], { encoding: 'utf8', env: { ...process.env, LAB_OWNER_PID: String(process.pid) } });
  const down = (): void => void spawnSync(labScript, ['down', LAB_ID], { stdio: 'ignore' });
  process.on('exit', down);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));
  if (up.status !== 0) throw new Error(`scripts/lab.sh up ${LAB_ID} failed:\n${up.stdout}${up.stderr}`);
  const ns = /^LAB_SCAN_NS=(.*)$/m.exec(up.stdout)?.[1];
  if (!ns) throw new Error(`lab.sh printed no LAB_SCAN_NS:\n${up.stdout}`);

  const rows: Row[] = [];
  const versions: Record<string, string> = {};
  const shown: Record<string, string> = {
    portscanner: `portscanner.checkPortStatus(port, '${target}') for ports 1-${ALL_PORTS}, ${IN_FLIGHT} in flight`,
    ferroscan: `checkPorts({ start: 1, end: ${ALL_PORTS} }, '${target}')`,
  };
  for (let r = 1; r <= runs; r++) {
    for (const tool of ['portscanner', 'ferroscan']) {
      process.stderr.write(`portscanner bench: run ${r}: ${tool} ...\n`);
      const res = await run('ip', ['netns', 'exec', ns, process.execPath, '--import=tsx', self, 'child', tool, target], 600_000);
      const line = res.stdout.split('\n').find((l) => l.startsWith('{'));
      if (res.code !== 0 || !line) {
        rows.push({ tool, run: r, command: shown[tool], seconds: undefined, right: 0, note: `failed (exit ${res.code}): ${res.stderr.split('\n').slice(0, 2).join(' ').slice(0, 160)}` });
        continue;
      }
      const report = JSON.parse(line) as ChildReport;
      versions[tool] = report.version;
      const { right, notes } = judge(report, expectedOpen);
      if (report.technique) notes.unshift(`technique ${report.technique}`);
      rows.push({ tool, run: r, command: shown[tool], seconds: report.ms / 1000, right, note: notes.join('; ') });
    }
  }

  const median = (tool: string): number | undefined => {
    const s = rows.filter((x) => x.tool === tool && x.seconds !== undefined).map((x) => x.seconds as number).sort((a, b) => a - b);
    return s.length ? s[Math.floor(s.length / 2)] : undefined;
  };
  const mp = median('portscanner');
  const mf = median('ferroscan');
  const speedup = mp !== undefined && mf !== undefined ? mp / mf : undefined;
  const allRight = rows.filter((x) => x.tool === 'ferroscan').every((x) => x.right === ALL_PORTS);
  const stamp = new Date().toISOString().replace('T', ' ').slice(0, 16);
  const lines = [
    `## ${stamp} UTC — portscanner: all ${ALL_PORTS} TCP ports of ${target}, portscanner (${IN_FLIGHT} in flight) vs ferroscan's drop-in range call`,
    '',
    `${os.cpus().length} cores, kernel ${os.release()}, lab ${ns} → ${target} (veth, RPS split), node ${process.version}, portscanner ${versions.portscanner ?? '?'}, ferroscan ${versions.ferroscan ?? '?'}`,
    `Command: \`npm run bench:portscanner\` (\`node --import=tsx benches/portscanner.ts\`, RUNS=${runs}); each call runs in a child inside \`ip netns exec ${ns}\`.`,
    `"right" counts ports answered as scripts/lab-spec.json says: listeners ${[...expectedOpen].sort((a, b) => a - b).join(',')} open, every other port not open; a rejected promise is not an answer.`,
    '',
    `| tool | run | call | wall s | right / ${ALL_PORTS} | note |`,
    '|---|---|---|---|---|---|',
    ...rows.map((x) => `| ${x.tool} | ${x.run} | \`${x.command}\` | ${x.seconds === undefined ? '-' : x.seconds.toFixed(2)} | ${x.right} | ${x.note} |`),
    '',
    `Median wall: portscanner ${mp?.toFixed(2) ?? '-'} s, ferroscan ${mf?.toFixed(2) ?? '-'} s: ${speedup ? `${speedup.toFixed(1)}×` : '-'} faster` +
      ` (goal ≥ 10× with every port right: ${speedup !== undefined && speedup >= 10 && allRight ? 'met' : 'NOT met'}).`,
  ];
  const table = lines.join('\n');
  process.stdout.write(`${table}\n`);
  if (!process.env.NO_RESULTS) {
    const results = `${repo}benches/RESULTS.md`;
    if (!existsSync(results)) writeFileSync(results, '# Benchmark results\n\nNewest last. Produced by the scripts beside this file.\n');
    appendFileSync(results, `\n${table}\n`);
  }
}

const [mode, tool, target] = process.argv.slice(2);
try {
  if (mode === 'child') await child(tool, target);
  else await parent();
} catch (e) {
  process.stderr.write(`portscanner bench: ${(e as Error).message}\n`);
  process.exitCode = 1;
}
