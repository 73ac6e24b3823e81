// The lab itself, checked with nmap: the lab answers as scripts/lab-spec.json says, so that a
// failing ferroscan lab test points at ferroscan, not at the lab or at the expectations.
import test from 'ava';
import { describe, useLab } from './helpers/lab.js';
import { diffAgainstExpected, expectedSyn, labSpec, specPorts } from './helpers/lab-spec.js';
import { parseNormalOutput } from './helpers/normal-output.js';

const lab = useLab(test);

test.serial('nmap -sS sees every lab rule as lab-spec.json describes', async (t) => {
  const { targetAddr } = lab().facts;
  const r = await lab().nmap(['-sS', '-Pn', '-n', '--reason', '-p', specPorts.join(','), targetAddr]);
  t.is(r.code, 0, describe('nmap', r));
  const host = parseNormalOutput(r.stdout).hosts.get(targetAddr);
  if (!host) return t.fail(`no report for ${targetAddr}\n${r.stdout}`);
  t.deepEqual(diffAgainstExpected(host, specPorts, (p) => expectedSyn(targetAddr, p), { reasons: true }), []);
});

test.serial('nmap -sS finds the sweep port open on every address of a /24 of the sweep range', async (t) => {
  const { sweepCidr, sweepPort } = lab().facts;
  const net24 = sweepCidr.replace(/\.\d+\.\d+\/16$/, '.0.0/24');
  const r = await lab().nmap(['-sS', '-Pn', '-n', '--open', '-p', String(sweepPort), net24]);
  t.is(r.code, 0, describe('nmap', r));
  const report = parseNormalOutput(r.stdout);
  const open = [...report.hosts.values()].filter((h) => h.ports.get(`${sweepPort}/tcp`)?.state === 'open');
  t.is(open.length, 256);
});

test.serial('nmap -sS sees the loopback listener of the scanner namespace', async (t) => {
  const { addr, open, closed } = labSpec.loopback;
  const r = await lab().nmap(['-sS', '-n', '--reason', '-p', `${open},${closed}`, addr]);
  t.is(r.code, 0, describe('nmap', r));
  const host = parseNormalOutput(r.stdout).hosts.get(addr);
  t.is(host?.ports.get(`${open}/tcp`)?.state, 'open', r.stdout);
  t.is(host?.ports.get(`${closed}/tcp`)?.state, 'closed', r.stdout);
});
