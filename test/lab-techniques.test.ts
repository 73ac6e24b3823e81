// Every scan technique of issue 3 against the lab, golden against nmap: nmap and ferroscan
// scan the same lab target with the same technique (--reason -Pn -n) and must give every
// port the same state, reason and reason TTL. The ports cover every lab rule (listeners,
// closed ports, DROP, each REJECT variant, tcp-reset, the ACK-drop rule; for UDP answering,
// silent, dropped, rejected and closed ports). nmap's own report is also held against the
// expectations derived from scripts/lab-spec.json, so that a failure points at the right side.
// Also: UDP against the kernel's default ICMP rate limit, and a /16 sweep under 10% loss.
import test, { type ExecutionContext } from 'ava';
import { describe, type Lab, run, useLab, withLab } from './helpers/lab.js';
import {
  compareReports,
  diffAgainstExpected,
  expectedTcp,
  expectedUdp,
  labSpec,
  specPorts,
  specUdpPorts,
  type Technique,
  type Verdict,
} from './helpers/lab-spec.js';
import { expandPorts, type HostReport, parseNormalOutput } from './helpers/normal-output.js';

const lab = useLab(test);

/** Every lab rule port and the well-known ranges around them: 1-1024 plus the extras. */
const tcpSpec = `1-1024,${specPorts.filter((p) => p > 1024).join(',')}`;
const udpSpec = `1-1024,${specUdpPorts.filter((p) => p > 1024).join(',')}`;

function hostOf(t: ExecutionContext, stdout: string, addr: string): HostReport | undefined {
  const host = parseNormalOutput(stdout).hosts.get(addr);
  if (!host) t.fail(`no scan report for ${addr} in:\n${stdout.slice(0, 4000)}`);
  return host;
}

interface Case {
  name: string;
  args: string[];
  technique: Technique;
  tcpFlags?: number;
}

const cases: Case[] = [
  { name: '-sS', args: ['-sS'], technique: 'syn' },
  { name: '-sT', args: ['-sT'], technique: 'connect' },
  { name: '-sU', args: ['-sU'], technique: 'udp' },
  { name: '-sA', args: ['-sA'], technique: 'ack' },
  { name: '-sW', args: ['-sW'], technique: 'window' },
  { name: '-sM', args: ['-sM'], technique: 'maimon' },
  { name: '-sF', args: ['-sF'], technique: 'fin' },
  { name: '-sN', args: ['-sN'], technique: 'null' },
  { name: '-sX', args: ['-sX'], technique: 'xmas' },
  // PSH+URG: a listener drops it silently, a closed port resets it (read as a SYN scan).
  { name: '--scanflags URGPSH', args: ['--scanflags', 'URGPSH'], technique: 'flags', tcpFlags: 0x28 },
];

async function golden(t: ExecutionContext, l: Lab, c: Case, portSpec: string, opts: { timeoutMs?: number } = {}): Promise<void> {
  const addr = l.facts.targetAddr;
  const udp = c.technique === 'udp';
  const proto = udp ? 'udp' : 'tcp';
  const ports = expandPorts(portSpec);
  const args = [...c.args, '--reason', '-Pn', '-n', '-p', portSpec, addr];
  const nm = await l.nmap(args);
  t.is(nm.code, 0, describe('nmap', nm));
  const fs = await l.ferroscan(args, { timeoutMs: opts.timeoutMs });
  t.is(fs.code, 0, describe('ferroscan', fs));
  const a = hostOf(t, nm.stdout, addr);
  const b = hostOf(t, fs.stdout, addr);
  if (!a || !b) return;
  const want = (port: number): Verdict => (udp ? expectedUdp(port) : expectedTcp(c.technique as Exclude<Technique, 'udp'>, port, c.tcpFlags));
  // The lab and the expectations first: nmap must see what lab-spec.json describes.
  const labDiffs = diffAgainstExpected(a, ports, want, { reasons: true, proto });
  if (labDiffs.length) t.log(`nmap ${c.name} differs from lab-spec.json:\n${labDiffs.slice(0, 50).join('\n')}`);
  t.deepEqual(labDiffs, [], `nmap ${c.name} sees the lab as lab-spec.json describes`);
  const cmp = compareReports(a, b, ports, ['nmap', 'ferroscan'], proto);
  t.log(`${c.name}: ${cmp.compared} ports compared, ${cmp.agree} agree (nmap ${(nm.ms / 1000).toFixed(1)} s, ferroscan ${(fs.ms / 1000).toFixed(1)} s)`);
  if (cmp.diffs.length) t.log(`${cmp.diffs.length} differences:\n${cmp.diffs.slice(0, 50).join('\n')}`);
  t.deepEqual(cmp.diffs, []);
  t.is(cmp.agree, cmp.compared);
  // Every lab rule port is listed by at least one tool or sits in a group: the rules were compared.
  const rulePorts = udp ? specUdpPorts : specPorts;
  for (const p of rulePorts) t.true(ports.includes(p), `rule port ${p}/${proto} scanned`);
}

for (const c of cases) {
  test.serial(`golden ${c.name}: same state and reason as nmap for every port`, async (t) => {
    await golden(t, lab(), c, c.technique === 'udp' ? udpSpec : tcpSpec);
  });
}

// Known engine bug (reported to the lead): a RST answering SYN+FIN acknowledges seq + 2, and
// the engine's Technique::echoed subtracts 1, so these RSTs fail the cookie check and closed
// ports come out filtered. Only the rule ports: with ~1000 ports silent the scan also stalls
// (the congestion window collapses to one probe per timeout). Flip to test.serial once fixed.
test.serial('golden --scanflags SYNFIN on the rule ports (a RST to SYN+FIN acknowledges seq + 2)', async (t) => {
  await golden(t, lab(), { name: '--scanflags SYNFIN', args: ['--scanflags', 'SYNFIN'], technique: 'flags', tcpFlags: 0x03 }, specPorts.join(','), { timeoutMs: 60_000 });
});

test.serial('the ACK-drop rule: -sA and -sW see the port filtered, -sS closed', async (t) => {
  const addr = lab().facts.targetAddr;
  const ackdrop = labSpec.ports.filter((p) => p.rule === 'ackdrop').map((p) => p.port);
  t.true(ackdrop.length > 0, 'lab-spec.json has an ackdrop rule');
  for (const [flag, state] of [['-sA', 'filtered'], ['-sW', 'filtered'], ['-sS', 'closed']] as const) {
    const r = await lab().ferroscan([flag, '--reason', '-Pn', '-n', '-p', ackdrop.join(','), addr]);
    t.is(r.code, 0, describe('ferroscan', r));
    const host = hostOf(t, r.stdout, addr);
    for (const p of ackdrop) {
      const row = host?.ports.get(`${p}/tcp`);
      const hidden = host?.hidden.find((g) => g.proto === 'tcp');
      t.is(row?.state ?? hidden?.state, state, `${flag} ${p}/tcp\n${r.stdout}`);
    }
  }
});

test.serial('UDP with the kernel default ICMP rate limit: closed ports stay closed, as nmap finds them', async (t) => {
  await withLab(
    t,
    async (l) => {
      t.is(l.facts.raw.LAB_ICMP_LIMITS, '1000/1000/50', 'the target keeps the default ICMP limits');
      const addr = l.facts.targetAddr;
      const spec = labSpec.ratelimit.udpClosed;
      const ports = expandPorts(spec);
      const args = ['-sU', '--reason', '-Pn', '-n', '-p', spec, addr];
      const fs = await l.ferroscan(args, { timeoutMs: 150_000 });
      t.is(fs.code, 0, describe('ferroscan', fs));
      // Let the target's ICMP token bucket refill before nmap's turn.
      await new Promise((r) => setTimeout(r, 5000));
      const nm = await l.nmap(args, { timeoutMs: 150_000 });
      t.is(nm.code, 0, describe('nmap', nm));
      const a = hostOf(t, nm.stdout, addr);
      const b = hostOf(t, fs.stdout, addr);
      if (!a || !b) return;
      const closed = (): Verdict => ({ state: 'closed', reason: 'port-unreach', ttl: 64 });
      const cmp = compareReports(a, b, ports, ['nmap', 'ferroscan'], 'udp');
      t.log(`-sU (ICMP rate limit): ${cmp.compared} ports compared, ${cmp.agree} agree (nmap ${(nm.ms / 1000).toFixed(1)} s, ferroscan ${(fs.ms / 1000).toFixed(1)} s)`);
      t.deepEqual(diffAgainstExpected(b, ports, closed, { reasons: true, proto: 'udp' }), [], `ferroscan: all closed\n${fs.stdout}`);
      // nmap's rate-limit detection is a heuristic and, on a loaded machine, now and then
      // loses a few closed ports to open|filtered: hold ferroscan to nmap only when nmap
      // itself found what the lab defines (all closed), and say so when it did not.
      const nmapDiffs = diffAgainstExpected(a, ports, closed, { reasons: true, proto: 'udp' });
      if (nmapDiffs.length) t.log(`nmap missed closed ports this run (not held against ferroscan):\n${nmapDiffs.join('\n')}`);
      else t.deepEqual(cmp.diffs, []);
    },
    { icmp: 'default' },
  );
});

test.serial('loss: with 10% of the probes dropped, a /16 sweep still finds >= 99.99% of the open ports', async (t) => {
  await withLab(
    t,
    async (l) => {
      const { sweepCidr, sweepPort, targetNs, targetIf } = l.facts;
      const r = await l.ferroscan(['-sS', '-Pn', '-n', '-p', String(sweepPort), '--open', '--rate', '100000', sweepCidr], { timeoutMs: 180_000 });
      t.is(r.code, 0, describe('ferroscan', r));
      const report = parseNormalOutput(r.stdout);
      const prefix = sweepCidr.split('.').slice(0, 2).join('.');
      let found = 0;
      for (let i = 0; i < 65536; i++) {
        if (report.hosts.get(`${prefix}.${i >> 8}.${i & 255}`)?.ports.get(`${sweepPort}/tcp`)?.state === 'open') found++;
      }
      // The loss rule really dropped about a tenth of what reached the target.
      const ipt = await run('ip', ['netns', 'exec', targetNs, 'iptables', '-w', '-L', 'INPUT', '-v', '-n', '-x']);
      const lossRule = ipt.stdout.split('\n').find((line) => line.includes('statistic') && line.includes(targetIf));
      const dropped = Number(lossRule?.trim().split(/\s+/)[0]);
      t.log(`loss sweep: ${found} of 65536 open ports found, ${dropped} packets dropped at the target, ${(r.ms / 1000).toFixed(1)} s`);
      t.true(dropped >= 65536 * 0.08, `the statistic rule dropped ${dropped} packets\n${ipt.stdout}`);
      t.true(found >= Math.ceil(65536 * 0.9999), `${found} of 65536 found`);
    },
    { loss: 0.1 },
  );
});

test.serial('--host-timeout: a scan slowed by --scan-delay stops and reports the host timed out, as nmap does', async (t) => {
  const addr = lab().facts.targetAddr;
  // 100 ports at one probe per 100 ms would take 10 s; the host timeout ends both after 1 s.
  const args = ['-sS', '-Pn', '-n', '--scan-delay', '100ms', '--host-timeout', '1s', '-p', '1-100', addr];
  const nm = await lab().nmap(args);
  const fs = await lab().ferroscan(args);
  t.is(nm.code, 0, describe('nmap', nm));
  t.is(fs.code, 0, describe('ferroscan', fs));
  const line = `Skipping host ${addr} due to host timeout`;
  t.true(nm.stdout.includes(line), nm.stdout);
  t.true(fs.stdout.includes(line), fs.stdout);
  t.false(/^\d+\/tcp/m.test(fs.stdout), 'no port rows for a timed-out host');
  t.regex(fs.stdout, /done: 1 IP address \(1 host up\)/);
  t.true(fs.ms < 6000, `stopped soon after the timeout (${fs.ms} ms)`);
});
