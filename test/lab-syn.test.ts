// Acceptance tests of the SYN scan, run through the CLI (node bin/ferroscan.js) inside the
// lab's scanner namespace: verdicts as the lab defines them, the same verdicts as nmap's,
// a /16 sweep, and loopback.
import test from 'ava';
import { describe, type Lab, useLab } from './helpers/lab.js';
import { diffAgainstExpected, diffReports, expectedSyn, specPorts } from './helpers/lab-spec.js';
import { expandPorts, type HostReport, parseNormalOutput } from './helpers/normal-output.js';

const lab = useLab(test);

/** Parses a tool's report and returns the host `addr`, failing the test with the output when absent. */
function hostOf(t: { fail(m: string): void }, stdout: string, addr: string): HostReport | undefined {
  const host = parseNormalOutput(stdout).hosts.get(addr);
  if (!host) t.fail(`no scan report for ${addr} in:\n${stdout.slice(0, 4000)}`);
  return host;
}

async function golden(t: import('ava').ExecutionContext, l: Lab, portSpec: string) {
  const addr = l.facts.targetAddr;
  const args = ['-sS', '-Pn', '-n', '--reason', '-p', portSpec, addr];
  const nm = await l.nmap(args);
  t.is(nm.code, 0, describe('nmap', nm));
  const fs = await l.ferroscan(args);
  t.is(fs.code, 0, describe('ferroscan', fs));
  const a = hostOf(t, nm.stdout, addr);
  const b = hostOf(t, fs.stdout, addr);
  if (!a || !b) return;
  const diffs = diffReports(a, b, expandPorts(portSpec), ['nmap', 'ferroscan']);
  if (diffs.length) t.log(`${diffs.length} differences:\n${diffs.slice(0, 100).join('\n')}`);
  t.deepEqual(diffs, []);
}

test.serial('every lab rule gets the state and reason the lab defines', async (t) => {
  const addr = lab().facts.targetAddr;
  const r = await lab().ferroscan(['-sS', '-Pn', '-n', '--reason', '-p', specPorts.join(','), addr]);
  t.is(r.code, 0, describe('ferroscan', r));
  const report = parseNormalOutput(r.stdout);
  t.is(report.tool, 'ferroscan', r.stdout);
  t.deepEqual(report.done && { addresses: report.done.addresses, hostsUp: report.done.hostsUp }, {
    addresses: 1,
    hostsUp: 1,
  });
  const host = hostOf(t, r.stdout, addr);
  if (!host) return;
  t.true(host.up);
  t.deepEqual(diffAgainstExpected(host, specPorts, (p) => expectedSyn(addr, p), { reasons: true }), []);
});

test.serial('golden: same verdicts as nmap on the lab rule ports', async (t) => {
  await golden(t, lab(), specPorts.join(','));
});

test.serial('golden: same verdicts as nmap on all 65535 ports', async (t) => {
  await golden(t, lab(), '1-65535');
});

test.serial('sweep: the sweep port is open on all 65,536 addresses of the /16', async (t) => {
  const { sweepCidr, sweepPort } = lab().facts;
  const r = await lab().ferroscan(['-sS', '-Pn', '-n', '-p', String(sweepPort), '--open', sweepCidr]);
  t.is(r.code, 0, describe('ferroscan', r));
  const report = parseNormalOutput(r.stdout);
  const prefix = sweepCidr.split('.').slice(0, 2).join('.');
  const missing: string[] = [];
  for (let i = 0; i < 65536; i++) {
    const addr = `${prefix}.${i >> 8}.${i & 255}`;
    if (report.hosts.get(addr)?.ports.get(`${sweepPort}/tcp`)?.state !== 'open') missing.push(addr);
  }
  if (missing.length) t.log(`not open: ${missing.slice(0, 20).join(' ')}${missing.length > 20 ? ' ...' : ''}`);
  t.is(missing.length, 0, `${missing.length} of 65536 addresses not reported open`);
  t.is(report.hosts.size, 65536);
});

test.serial('loopback: a listener on 127.0.0.1 is open, a free port closed', async (t) => {
  const { loopbackAddr, loopbackOpen, loopbackClosed } = lab().facts;
  const r = await lab().ferroscan(['-sS', '-n', '-p', `${loopbackOpen},${loopbackClosed}`, loopbackAddr]);
  t.is(r.code, 0, describe('ferroscan', r));
  const host = hostOf(t, r.stdout, loopbackAddr);
  if (!host) return;
  t.deepEqual(
    diffAgainstExpected(
      host,
      [loopbackOpen, loopbackClosed],
      (p) => (p === loopbackOpen ? { state: 'open', reason: 'syn-ack' } : { state: 'closed', reason: 'reset' }),
      { reasons: false },
    ),
    [],
  );
});
