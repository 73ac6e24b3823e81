// Service and version detection (-sV) side by side, in the service lab (scripts/lab-services.sh):
// nmap -sV, nmap -sV -T4 and, once it has -sV, ferroscan -sV (and -T4), on
//   one-host   every TCP service of 198.18.16.2 (16 ports: Debian daemons, TLS, a tcpwrapped
//              port, a banner nmap does not know)
//   udp        DNS and SNMP on 198.18.16.2 (-sU -sV -p 53,161)
//   256-hosts  the AnyIP range 198.18.17.0/24 x ports 22,80,6379 (768 services)
// Each run's wall time, how many ports got a probed service name, and, for every run but the
// first nmap -sV of a workload, how many ports agree with that nmap run under the golden test's
// rules (test/helpers/service-compare.ts). Appends a section to benches/RESULTS.md.
//
//   npm run bench:services            (node --import=tsx benches/services.mjs)
//   RUNS=3 WORKLOADS=one-host,udp TOOLS=nmap,nmap-T4,ferroscan,ferroscan-T4 NO_RESULTS=1
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareServices } from '../test/helpers/service-compare.ts';
import { parseServiceXml } from '../test/helpers/service-xml.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const labScript = join(root, 'scripts/lab-services.sh');
const ferroscanBin = join(root, 'bin/ferroscan.js');
const results = join(root, 'benches/RESULTS.md');
const id = 'slb0';
const runs = Number(process.env.RUNS ?? 1);
const wantWorkloads = (process.env.WORKLOADS ?? 'one-host,udp,256-hosts').split(',');
const wantTools = (process.env.TOOLS ?? 'nmap,nmap-T4,ferroscan,ferroscan-T4').split(',');

if (process.getuid?.() !== 0) {
  console.error('services bench: needs root (it creates network namespaces)');
  process.exit(1);
}

const down = () => void spawnSync(labScript, ['down', id], { stdio: 'ignore' });
const scratch = mkdtempSync(join(tmpdir(), 'ferroscan-bench-sv-'));
let cleaned = false;
const finish = () => {
  if (cleaned) return;
  cleaned = true;
  down();
  rmSync(scratch, { recursive: true, force: true });
};
process.on('exit', finish);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    finish();
    process.exit(130);
  });
}

down();
const up = spawnSync(labScript, ['up', id], { env: { ...process.env, LAB_OWNER_PID: String(process.pid) }, encoding: 'utf8' });
if (up.status !== 0) {
  console.error(`lab-services.sh up failed:\n${up.stdout}${up.stderr}`);
  process.exit(1);
}
const facts = Object.fromEntries(up.stdout.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
const ns = facts.LAB_SCAN_NS;
// Hard check: nothing the scanners send can leave the lab.
if (spawnSync('ip', ['-n', ns, 'route', 'show', 'default'], { encoding: 'utf8' }).stdout.trim() !== '') {
  console.error(`scanner namespace ${ns} has a default route`);
  process.exit(1);
}

const multiBase = facts.LAB_MULTI_RANGE.split('/')[0];
const workloads = {
  'one-host': { args: ['-sV', '-n', '-Pn', '-p', facts.LAB_TCP_PORTS, facts.LAB_TARGET_ADDR], what: `${facts.LAB_TCP_PORTS.split(',').length} TCP services of ${facts.LAB_TARGET_ADDR}` },
  udp: { args: ['-sU', '-sV', '-n', '-Pn', '-p', facts.LAB_UDP_PORTS, facts.LAB_TARGET_ADDR], what: `UDP ${facts.LAB_UDP_PORTS} of ${facts.LAB_TARGET_ADDR}` },
  '256-hosts': { args: ['-sV', '-n', '-Pn', '-p', facts.LAB_MULTI_PORTS, facts.LAB_MULTI_RANGE], what: `${facts.LAB_MULTI_HOSTS} AnyIP hosts ${facts.LAB_MULTI_RANGE} x ${facts.LAB_MULTI_PORTS}` },
};

const tools = {
  nmap: (args) => ['nmap', args],
  'nmap-T4': (args) => ['nmap', ['-T4', ...args]],
  ferroscan: (args) => [process.execPath, [ferroscanBin, ...args]],
  'ferroscan-T4': (args) => [process.execPath, [ferroscanBin, '-T4', ...args]],
};

// ferroscan takes part once its -sV is there (it says "not supported" until then).
const probe = spawnSync('ip', ['netns', 'exec', ns, process.execPath, ferroscanBin, '-sV', '-n', '-Pn', '-p', '22', facts.LAB_TARGET_ADDR], { encoding: 'utf8', timeout: 120_000 });
const ferroscanHasSv = probe.status === 0;
const skipped = [];
if (!ferroscanHasSv) skipped.push(`ferroscan: \`ferroscan -sV\` exits ${probe.status}: ${(probe.stderr || probe.stdout).trim().split('\n')[0]}`);

/** The busiest processes on the machine over one second (top's second sample), as "name cpu%". */
function busy() {
  const r = spawnSync('top', ['-b', '-n', '2', '-d', '1', '-o', '%CPU', '-w', '200'], { encoding: 'utf8' });
  const second = r.stdout.split(/^top - /m)[2] ?? '';
  return second
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => /^\d+$/.test(f[0]) && Number(f[8]) >= 5)
    .slice(0, 6)
    .map((f) => `${f[11]} ${f[8]}%`)
    .join(', ');
}

const rows = [];
const before = { load: loadavg().map((x) => x.toFixed(2)).join(' '), busy: busy() };
for (const [wname, w] of Object.entries(workloads)) {
  if (!wantWorkloads.includes(wname)) continue;
  let reference;
  for (let run = 1; run <= runs; run++) {
    for (const tname of Object.keys(tools)) {
      if (!wantTools.includes(tname)) continue;
      if (tname.startsWith('ferroscan') && !ferroscanHasSv) continue;
      const xml = join(scratch, `${wname}-${tname}-${run}.xml`);
      const [cmd, args] = tools[tname]([...w.args, '-oX', xml]);
      const started = process.hrtime.bigint();
      const r = spawnSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
      const wall = Number(process.hrtime.bigint() - started) / 1e9;
      let note = r.status === 0 ? '' : `exit ${r.status}: ${(r.stderr || '').trim().split('\n')[0]}`;
      let named = '';
      let agree = '';
      try {
        const ports = parseServiceXml(readFileSync(xml, 'utf8'));
        named = [...ports.values()].filter((p) => p.service?.method === 'probed').length + ` / ${ports.size}`;
        if (!reference && tname === 'nmap') reference = ports;
        else if (reference) {
          const diffs = compareServices(reference, ports, { names: ['nmap', tname] });
          // Every message starts with the port's key ("198.18.16.2 22/tcp").
          const differing = new Set(diffs.map((d) => d.split(' ').slice(0, 2).join(' ').replace(/:$/, '')));
          agree = `${reference.size - differing.size} / ${reference.size}`;
          if (diffs.length) note += `${note ? '; ' : ''}first differences: ${diffs.slice(0, 2).join('; ')}`;
        }
      } catch (e) {
        note += `${note ? '; ' : ''}no XML: ${e.message}`;
      }
      const shown = `${tname.split('-')[0]} ${(cmd === 'nmap' ? args : args.slice(1)).filter((a) => !a.startsWith(scratch)).join(' ').replace(/ -oX$/, '')}`;
      rows.push({ wname, run, tname, shown, wall, named, agree, note });
      console.log(`${wname} run ${run} ${tname}: ${wall.toFixed(2)} s, probed ${named}${agree ? `, agree ${agree}` : ''}${note ? ` (${note})` : ''}`);
    }
  }
}
const after = { load: loadavg().map((x) => x.toFixed(2)).join(' '), busy: busy() };

const nmapVersion = spawnSync('nmap', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];
const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
let md = `\n## ${when} UTC — benches/services.mjs (issue 17): service and version detection (-sV)\n\n`;
md += `${cpus().length} cores, kernel ${release()}, lab ${ns} → ${facts.LAB_TARGET_ADDR} and ${facts.LAB_MULTI_RANGE} (veth, RPS split), ${nmapVersion}, node ${process.version}; ${runs} run(s) each.\n`;
md += `Load average before: ${before.load}; busiest other processes then: ${before.busy || 'none over 5%'}.\n`;
md += `Load average after: ${after.load}; busiest other processes then: ${after.busy || 'none over 5%'}.\n`;
if (skipped.length) md += `Not run: ${skipped.join('; ')}.\n`;
md += `"probed": ports whose service was named by a probe (method=probed) / ports in the XML. "agree": ports equal to the first nmap -sV run of the workload under the golden test's rules.\n\n`;
for (const [wname, w] of Object.entries(workloads)) {
  const mine = rows.filter((r) => r.wname === wname);
  if (!mine.length) continue;
  md += `**${wname}**: ${w.what}\n\n| tool | run | command (inside \`ip netns exec ${ns}\`) | wall s | probed | agree | note |\n|---|---|---|---|---|---|---|\n`;
  for (const r of mine) md += `| ${r.tname} | ${r.run} | \`${r.shown}\` | ${r.wall.toFixed(2)} | ${r.named} | ${r.agree} | ${r.note.replace(/\|/g, '\\|')} |\n`;
  md += '\n';
}
if (process.env.NO_RESULTS) process.stdout.write(md);
else appendFileSync(results, md);
