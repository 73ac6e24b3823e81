// The target-spec corpus (test/fixtures/target-specs.txt) against nmap's list scan: for
// every line, `ferroscan -sL` lists exactly nmap's distinct addresses, and as many lines as
// nmap when nmap lists no address twice (ferroscan lists a repeated address once).
// Expected results from nmap 7.93 are stored in target-specs.nmap.tsv; when nmap is
// installed they are recomputed live too. `nmap -sL -n` sends no packet and does no DNS.
// FERROSCAN_UPDATE_CORPUS=1 rewrites the stored results from the installed nmap.
import test from 'ava';
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { main } from '../ts/cli/main.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const specsFile = new URL('fixtures/target-specs.txt', import.meta.url);
const expectedFile = new URL('fixtures/target-specs.nmap.tsv', import.meta.url);

const lines = readFileSync(specsFile, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '' && !l.startsWith('#'));

interface Listing {
  count: number;
  distinct: number;
  sha256: string;
}

/** Addresses from "... scan report for ADDR" or "... scan report for NAME (ADDR)" lines. */
function addressesOf(output: string): string[] {
  const out: string[] = [];
  for (const line of output.split('\n')) {
    const m = / scan report for (?:.* \()?(\d+\.\d+\.\d+\.\d+)\)?$/.exec(line);
    if (m) out.push(m[1]);
  }
  return out;
}

function summarise(addresses: string[]): Listing {
  const distinct = [...new Set(addresses)].sort();
  return { count: addresses.length, distinct: distinct.length, sha256: createHash('sha256').update(distinct.join('\n')).digest('hex').slice(0, 16) };
}

function nmapListing(line: string): Listing {
  const stdout = execFileSync('nmap', ['-sL', '-n', ...line.split(/\s+/)], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 });
  return summarise(addressesOf(stdout));
}

async function ferroscanListing(line: string): Promise<{ listing: Listing; addresses: string[] }> {
  let text = '';
  const status = await main(['-sL', ...line.split(/\s+/)], (s) => {
    text += s;
  });
  if (status !== 0) throw new Error(`exit ${status}`);
  const addresses = addressesOf(text);
  return { listing: summarise(addresses), addresses };
}

const haveNmap = spawnSync('nmap', ['--version'], { encoding: 'utf8' }).status === 0;

function readExpected(): Map<string, Listing> {
  const map = new Map<string, Listing>();
  for (const row of readFileSync(expectedFile, 'utf8').split('\n')) {
    if (row === '' || row.startsWith('#')) continue;
    const [count, distinct, sha256, line] = row.split('\t');
    map.set(line, { count: Number(count), distinct: Number(distinct), sha256 });
  }
  return map;
}

if (process.env.FERROSCAN_UPDATE_CORPUS === '1') {
  const rows = ['# nmap 7.93 `nmap -sL -n LINE`: addresses listed, distinct addresses, sha256 (first 16 hex) of the sorted distinct addresses, LINE'];
  for (const line of lines) {
    const l = nmapListing(line);
    rows.push(`${l.count}\t${l.distinct}\t${l.sha256}\t${line}`);
  }
  writeFileSync(expectedFile, rows.join('\n') + '\n');
}

const expected = readExpected();

test('the corpus has 30+ lines and a stored nmap result for each', (t) => {
  t.true(lines.length >= 30, `${lines.length} lines`);
  for (const line of lines) t.true(expected.has(line), line);
});

for (const line of lines) {
  test(`-sL ${line}`, async (t) => {
    const want = expected.get(line);
    if (!want) return t.fail('no stored nmap result: run with FERROSCAN_UPDATE_CORPUS=1');
    const { listing, addresses } = await ferroscanListing(line);
    t.is(listing.sha256, want.sha256, 'same set of addresses as nmap');
    t.is(listing.distinct, want.distinct);
    t.is(listing.count, listing.distinct, 'each address listed once');
    if (want.count === want.distinct) t.is(listing.count, want.count, 'as many addresses as nmap');
    t.is(new Set(addresses).size, addresses.length);
    if (haveNmap) t.deepEqual(nmapListing(line), want, 'stored result still matches the installed nmap');
  });
}
